// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for core/yamledit.c: exact output text for every kind of edit
 * (replace, add, create, remove; block and flow; quoting; UTF-8 before the
 * edit point), the read-back property after each one, the errors, and edits
 * of the repository's own example files that change only the intended lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "diag.h"
#include "error.h"
#include "testutil.h"
#include "yamledit.h"
#include "yamlfile.h"

/* A dotted path split into keys ("a.b" -> "a", "b"; "" -> no keys). */
struct path {
	char text[512];
	const char *keys[SBX_YAML_MAX_DEPTH + 2];
	size_t depth;
};

static void split_path(struct path *p, const char *dotted)
{
	char *s = p->text;

	assert_true(strlen(dotted) < sizeof(p->text));
	memcpy(p->text, dotted, strlen(dotted) + 1);
	p->depth = 0;
	if (!*s)
		return;
	for (;;) {
		char *dot = strchr(s, '.');

		assert_true(p->depth < sizeof(p->keys) / sizeof(p->keys[0]));
		p->keys[p->depth++] = s;
		if (!dot)
			break;
		*dot = '\0';
		s = dot + 1;
	}
}

/* Load text that must load; caller must sbx_ynode_free the result. */
static sbx_ynode *load_ok(const char *what, const char *text, size_t len)
{
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_ynode *root = NULL;
	int r = sbx_yaml_load(&root, "f.yaml", text, len, &d);

	if (r != 0 || d.count) {
		fprintf(stderr, "%s: edited text:\n%s\n", what, text);
		test_fail_with_diags(what, r, &d);
	}
	sbx_diags_dispose(&d);
	return root;
}

static const sbx_ynode *lookup(const sbx_ynode *root, const struct path *p)
{
	const sbx_ynode *n = root;

	for (size_t i = 0; i < p->depth && n; i++)
		n = sbx_ynode_get(n, p->keys[i]);
	return n;
}

/* The property every set must have: the result loads and the path reads
 * back as exactly the string value. */
static void expect_reads_back(const char *what, const sbx_buf *doc, const char *dotted,
			      const char *value)
{
	sbx_ynode *root = load_ok(what, sbx_buf_cstr(doc), doc->len);
	const sbx_ynode *n;
	struct path p;

	split_path(&p, dotted);
	n = lookup(root, &p);
	if (!n || n->kind != SBX_YNODE_SCALAR || sbx_ynode_type(n) != SBX_YTYPE_STR ||
	    strcmp(n->value, value) != 0 || n->len != strlen(value))
		fail_msg("%s: '%s' does not read back as the string '%s' (%s '%s')", what, dotted,
			 value, n ? sbx_ytype_name(sbx_ynode_type(n)) : "missing",
			 n && n->value ? n->value : "");
	sbx_ynode_free(root);
}

/* The property every remove must have: the result loads, the path is gone. */
static void expect_gone(const char *what, const sbx_buf *doc, const char *dotted)
{
	sbx_ynode *root = load_ok(what, sbx_buf_cstr(doc), doc->len);
	struct path p;

	split_path(&p, dotted);
	if (lookup(root, &p))
		fail_msg("%s: '%s' is still there", what, dotted);
	sbx_ynode_free(root);
}

static void expect_text(const char *what, const sbx_buf *doc, const char *want)
{
	if (strcmp(sbx_buf_cstr(doc), want) != 0)
		fail_msg("%s: got\n---\n%s---\nwant\n---\n%s---", what, sbx_buf_cstr(doc), want);
}

struct set_case {
	const char *name;
	const char *in;
	const char *path;
	const char *value;
	const char *out;
};

struct remove_case {
	const char *name;
	const char *in;
	const char *path;
	const char *out;
};

static void run_set(const struct set_case *c)
{
	sbx_buf doc = SBX_BUF_INIT;
	struct path p;
	int r;

	split_path(&p, c->path);
	assert_int_equal(sbx_buf_puts(&doc, c->in), 0);
	sbx_error_clear();
	r = sbx_yaml_edit_set(&doc, p.keys, p.depth, c->value);
	if (r != 0)
		fail_msg("%s: set '%s' failed (%d): %s", c->name, c->path, r, sbx_error_last());
	expect_text(c->name, &doc, c->out);
	expect_reads_back(c->name, &doc, c->path, c->value);
	sbx_buf_dispose(&doc);
}

static void run_remove(const struct remove_case *c)
{
	sbx_buf doc = SBX_BUF_INIT;
	struct path p;
	int r;

	split_path(&p, c->path);
	assert_int_equal(sbx_buf_puts(&doc, c->in), 0);
	sbx_error_clear();
	r = sbx_yaml_edit_remove(&doc, p.keys, p.depth);
	if (r != 0)
		fail_msg("%s: remove '%s' failed (%d): %s", c->name, c->path, r, sbx_error_last());
	expect_text(c->name, &doc, c->out);
	expect_gone(c->name, &doc, c->path);
	sbx_buf_dispose(&doc);
}

#define RUN_SET(cases) \
	for (size_t i_ = 0; i_ < sizeof(cases) / sizeof(cases[0]); i_++) \
		run_set(&cases[i_])
#define RUN_REMOVE(cases) \
	for (size_t i_ = 0; i_ < sizeof(cases) / sizeof(cases[0]); i_++) \
		run_remove(&cases[i_])

static void test_yamledit__replace_keeps_style(void **state)
{
	static const struct set_case cases[] = {
		{ "plain", "memory: 4Gi\n", "memory", "8Gi", "memory: 8Gi\n" },
		{ "double-quoted", "cpu: \"2\"\n", "cpu", "4", "cpu: \"4\"\n" },
		{ "single-quoted", "image: 'reg/x:1'\n", "image", "reg/y:2", "image: 'reg/y:2'\n" },
		{ "single-quoted, quote doubled", "name: 'a'\n", "name", "it's", "name: 'it''s'\n" },
		{ "double-quoted, escapes", "msg: \"x\"\n", "msg", "say \"hi\" \\o/",
		  "msg: \"say \\\"hi\\\" \\\\o/\"\n" },
		{ "nested", "spec:\n  resources:\n    cpu: \"2\"\n  owner: x\n", "spec.resources.cpu", "4",
		  "spec:\n  resources:\n    cpu: \"4\"\n  owner: x\n" },
		{ "plain with ':' in block", "image: a\n", "image", "registry.example.com/devbox:2026.12",
		  "image: registry.example.com/devbox:2026.12\n" },
		{ "plain email", "owner: alice@example.com\n", "owner", "bob@example.com",
		  "owner: bob@example.com\n" },
		{ "multi-line plain", "desc: one\n  two\nnext: 1\n", "desc", "three",
		  "desc: three\nnext: 1\n" },
		{ "literal block scalar", "note: |\n  line one\n  line two\n\nnext: 1\n", "note", "x",
		  "note: \"x\"\n\nnext: 1\n" },
		{ "same value", "a: b\n", "a", "b", "a: b\n" },
		{ "no final newline", "a: 1\nb: x", "b", "z", "a: 1\nb: z" },
		{ "quoted key", "\"my key\": a\n", "my key", "b", "\"my key\": b\n" },
		{ "explicit document", "---\na: 1\n...\n", "a", "x", "---\na: x\n...\n" },
	};

	(void)state;
	RUN_SET(cases);
}

static void test_yamledit__replace_needs_quotes(void **state)
{
	static const struct set_case cases[] = {
		{ "int", "cpu: 500m\n", "cpu", "2", "cpu: \"2\"\n" },
		{ "bool", "a: x\n", "a", "true", "a: \"true\"\n" },
		{ "space", "a: x\n", "a", "a b", "a: \"a b\"\n" },
		{ "empty", "a: x\n", "a", "", "a: \"\"\n" },
		{ "null word", "a: x\n", "a", "null", "a: \"null\"\n" },
		{ "float", "a: x\n", "a", "2026.11", "a: \"2026.11\"\n" },
		{ "yaml 1.1 bool", "a: x\n", "a", "yes", "a: \"yes\"\n" },
		{ "yaml 1.1 int", "a: x\n", "a", "1_000", "a: \"1_000\"\n" },
		{ "yaml 1.1 sexagesimal", "a: x\n", "a", "1:20", "a: \"1:20\"\n" },
		{ "leading dash", "a: x\n", "a", "-v", "a: \"-v\"\n" },
		{ "leading at", "a: x\n", "a", "@home", "a: \"@home\"\n" },
		{ "trailing colon", "a: x\n", "a", "key:", "a: \"key:\"\n" },
		{ "comment sign", "a: x\n", "a", "a #b", "a: \"a #b\"\n" },
		{ "newline in plain", "a: x\n", "a", "l1\nl2", "a: \"l1\\nl2\"\n" },
		{ "newline in single", "a: 'x'\n", "a", "l1\nl2", "a: \"l1\\nl2\"\n" },
		{ "tab", "a: x\n", "a", "t\tu", "a: \"t\\tu\"\n" },
		{ "control", "a: x\n", "a", "bell\a", "a: \"bell\\x07\"\n" },
		{ "line separator", "a: x\n", "a", "p\xe2\x80\xa8q", "a: \"p\\u2028q\"\n" },
		{ "non-ASCII", "owner: alice\n", "owner", "zo\xc3\xab@example.com",
		  "owner: \"zo\xc3\xab@example.com\"\n" },
		{ "':' in a flow mapping", "x: {image: a}\n", "x.image", "reg:1",
		  "x: {image: \"reg:1\"}\n" },
	};

	(void)state;
	RUN_SET(cases);
}

static void test_yamledit__replace_keeps_comment(void **state)
{
	static const struct set_case cases[] = {
		{ "plain", "cpu: 500m   # keep me\nx: 1\n", "cpu", "1500m",
		  "cpu: 1500m   # keep me\nx: 1\n" },
		{ "plain to quoted", "cpu: 500m # keep me\n", "cpu", "2", "cpu: \"2\" # keep me\n" },
		{ "quoted", "spec:\n  cpu: \"2\"  # two cores\n", "spec.cpu", "4",
		  "spec:\n  cpu: \"4\"  # two cores\n" },
		{ "flow", "x: {a: 1, b: 2}  # sizes\n", "x.b", "3", "x: {a: 1, b: \"3\"}  # sizes\n" },
	};

	(void)state;
	RUN_SET(cases);
}

static void test_yamledit__replace_null(void **state)
{
	static const struct set_case cases[] = {
		{ "empty", "owner:\nname: x\n", "owner", "bob", "owner: bob\nname: x\n" },
		{ "empty with comment", "owner:   # who\n", "owner", "bob", "owner: bob   # who\n" },
		{ "tilde", "owner: ~\n", "owner", "bob", "owner: bob\n" },
		{ "null", "owner: null\n", "owner", "2", "owner: \"2\"\n" },
		{ "empty, no final newline", "owner:", "owner", "bob", "owner: bob" },
		{ "empty in flow", "x: {a: , b: 1}\n", "x.a", "c", "x: {a: c, b: 1}\n" },
		{ "key without value in flow", "x: {a, b: 1}\n", "x.a", "c", "x: {a: c, b: 1}\n" },
	};

	(void)state;
	RUN_SET(cases);
}

static void test_yamledit__add_block(void **state)
{
	static const struct set_case cases[] = {
		{ "root", "a: 1\nb: 2\n", "c", "x", "a: 1\nb: 2\nc: x\n" },
		{ "root, comment after the last pair stays last", "a: 1\n# end\n", "b", "x",
		  "a: 1\nb: x\n# end\n" },
		{ "nested, followed by top-level keys and comments",
		  "spec:\n"
		  "  resources:\n"
		  "    cpu: \"2\"   # two cores\n"
		  "  # the owner\n"
		  "  owner: alice\n"
		  "\n"
		  "# other stuff\n"
		  "kind: Sandbox\n",
		  "spec.resources.memory", "4Gi",
		  "spec:\n"
		  "  resources:\n"
		  "    cpu: \"2\"   # two cores\n"
		  "    memory: 4Gi\n"
		  "  # the owner\n"
		  "  owner: alice\n"
		  "\n"
		  "# other stuff\n"
		  "kind: Sandbox\n" },
		{ "nested, last in the file, followed by comments",
		  "spec:\n  owner: alice\n  env:\n    EDITOR: vim\n# end of spec\n\n# end\n",
		  "spec.env.PAGER", "less",
		  "spec:\n  owner: alice\n  env:\n    EDITOR: vim\n    PAGER: less\n# end of spec\n\n# end\n" },
		/* the chosen rule: right after the last pair's line, so comment
		 * lines after it (even indented like its keys) follow the new key */
		{ "comment indented like the keys follows the new key",
		  "env:\n  A: \"1\"\n  # B: \"2\"\nnext: x\n", "env.C", "3",
		  "env:\n  A: \"1\"\n  C: \"3\"\n  # B: \"2\"\nnext: x\n" },
		{ "after a nested mapping",
		  "spec:\n  resources:\n    cpu: \"2\"\n    memory: 4Gi\nkind: x\n", "spec.owner", "bob",
		  "spec:\n  resources:\n    cpu: \"2\"\n    memory: 4Gi\n  owner: bob\nkind: x\n" },
		{ "after an indentless sequence",
		  "spec:\n"
		  "  sshKeys:\n"
		  "  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHSo alice@laptop\n"
		  "  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHSp alice@desk\n"
		  "status: x\n",
		  "spec.size", "medium",
		  "spec:\n"
		  "  sshKeys:\n"
		  "  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHSo alice@laptop\n"
		  "  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHSp alice@desk\n"
		  "  size: medium\n"
		  "status: x\n" },
		{ "after an indentless sequence at the root",
		  "sshKeys:\n- ssh-ed25519 AAAA alice@laptop\n", "size", "medium",
		  "sshKeys:\n- ssh-ed25519 AAAA alice@laptop\nsize: medium\n" },
		{ "after an indented sequence",
		  "spec:\n  sshKeys:\n    - ssh-ed25519 AAAA alice@laptop\n\nkind: x\n", "spec.size", "large",
		  "spec:\n  sshKeys:\n    - ssh-ed25519 AAAA alice@laptop\n  size: large\n\nkind: x\n" },
		{ "after a sequence of mappings",
		  "spec:\n  ports:\n    - name: http\n      port: 80\nother: 1\n", "spec.size", "small",
		  "spec:\n  ports:\n    - name: http\n      port: 80\n  size: small\nother: 1\n" },
		{ "after a literal block scalar",
		  "spec:\n  note: |\n    hello\n\n  # c\nkind: x\n", "spec.size", "small",
		  "spec:\n  note: |\n    hello\n  size: small\n\n  # c\nkind: x\n" },
		{ "after a literal block scalar that keeps its blank lines",
		  "a: |+\n  keep\n\n# c\n", "b", "v", "a: |+\n  keep\n\nb: v\n# c\n" },
		{ "after a multi-line flow value",
		  "spec:\n  ports: [3000,\n    3001]   # dev\nkind: x\n", "spec.size", "small",
		  "spec:\n  ports: [3000,\n    3001]   # dev\n  size: small\nkind: x\n" },
		{ "inside a sequence item's mapping",
		  "items:\n  - name: a\n    size: s\n  - name: b\nx:\n  y: 1\n", "x.z", "2",
		  "items:\n  - name: a\n    size: s\n  - name: b\nx:\n  y: 1\n  z: \"2\"\n" },
		{ "key that needs quotes", "env:\n  A: b\n", "env.MY VAR", "1",
		  "env:\n  A: b\n  \"MY VAR\": \"1\"\n" },
		{ "dotted key", "labels:\n  a: b\n", "labels.app", "web",
		  "labels:\n  a: b\n  app: web\n" },
	};

	(void)state;
	RUN_SET(cases);
}

static void test_yamledit__create_mapping(void **state)
{
	static const struct set_case cases[] = {
		{ "spec.resources with one key",
		  "spec:\n  owner: alice\n  env:\n    EDITOR: vim\n", "spec.resources.cpu", "4",
		  "spec:\n  owner: alice\n  env:\n    EDITOR: vim\n  resources:\n    cpu: \"4\"\n" },
		{ "two levels",
		  "spec:\n  owner: alice\nkind: x\n", "spec.a.b.c", "d",
		  "spec:\n  owner: alice\n  a:\n    b:\n      c: d\nkind: x\n" },
		{ "at the root", "kind: x\n", "spec.owner", "alice", "kind: x\nspec:\n  owner: alice\n" },
		{ "empty document", "", "spec.owner", "alice", "spec:\n  owner: alice\n" },
		{ "comments only", "# nothing yet\n", "spec.owner", "alice",
		  "# nothing yet\nspec:\n  owner: alice\n" },
		{ "comments only, no final newline", "# nothing yet", "a", "b", "# nothing yet\na: b\n" },
	};

	(void)state;
	RUN_SET(cases);
}

static void test_yamledit__four_space_indent(void **state)
{
	static const struct set_case cases[] = {
		{ "create",
		  "spec:\n    owner: bob\n    env:\n        EDITOR: vim\nkind: Sandbox\n",
		  "spec.resources.cpu", "4",
		  "spec:\n    owner: bob\n    env:\n        EDITOR: vim\n    resources:\n        cpu: \"4\"\n"
		  "kind: Sandbox\n" },
		{ "add", "spec:\n    env:\n        EDITOR: vim\n", "spec.env.PAGER", "less",
		  "spec:\n    env:\n        EDITOR: vim\n        PAGER: less\n" },
		{ "null to mapping", "spec:\n    overrides:\n", "spec.overrides.a", "b",
		  "spec:\n    overrides:\n        a: b\n" },
		{ "deeper chain at the root", "spec:\n    x: 1\n", "a.b.c", "d",
		  "spec:\n    x: 1\na:\n    b:\n        c: d\n" },
	};

	(void)state;
	RUN_SET(cases);
}

static void test_yamledit__no_final_newline(void **state)
{
	static const struct set_case cases[] = {
		{ "nested", "spec:\n  owner: alice", "spec.size", "small",
		  "spec:\n  owner: alice\n  size: small\n" },
		{ "root", "a: 1", "b", "2", "a: 1\nb: \"2\"\n" },
		{ "flow value last", "a: {x: 1}", "b.c", "d", "a: {x: 1}\nb:\n  c: d\n" },
		{ "null to mapping", "a: 1\nb:", "b.c", "d", "a: 1\nb:\n  c: d\n" },
		{ "crlf", "a: 1\r\nb:\r\n  c: 2\r\n", "b.d", "x", "a: 1\r\nb:\r\n  c: 2\r\n  d: x\r\n" },
		{ "crlf, no final newline", "a: 1\r\nb: 2", "c", "x", "a: 1\r\nb: 2\r\nc: x\r\n" },
	};

	(void)state;
	RUN_SET(cases);
}

static void test_yamledit__utf8_before_edit(void **state)
{
#define UTF8_HEAD "# caf\xc3\xa9 \xc3\xbcn\xc3\xaf" "code \xf0\x9f\x8e\x89\n" \
		  "owner: zo\xc3\xab@example.com\n"
	static const struct set_case cases[] = {
		{ "replace on a later line", UTF8_HEAD "size: small\n", "size", "medium",
		  UTF8_HEAD "size: medium\n" },
		{ "replace on the same line",
		  UTF8_HEAD "spec: {tag: \xc3\xbc\xc3\xbc, cpu: \"1\"}\n", "spec.cpu", "2",
		  UTF8_HEAD "spec: {tag: \xc3\xbc\xc3\xbc, cpu: \"2\"}\n" },
		{ "add to a flow mapping", UTF8_HEAD "spec: {tag: \xf0\x9f\x8e\x89}\n", "spec.mem", "2Gi",
		  UTF8_HEAD "spec: {tag: \xf0\x9f\x8e\x89, mem: 2Gi}\n" },
		{ "add to a block mapping", UTF8_HEAD "spec:\n  note: \xc3\xa9t\xc3\xa9\n", "spec.size", "s",
		  UTF8_HEAD "spec:\n  note: \xc3\xa9t\xc3\xa9\n  size: s\n" },
		{ "replace a non-ASCII value", UTF8_HEAD "x: 1\n", "owner", "zo\xc3\xab@example.org",
		  "# caf\xc3\xa9 \xc3\xbcn\xc3\xaf" "code \xf0\x9f\x8e\x89\n"
		  "owner: \"zo\xc3\xab@example.org\"\nx: 1\n" },
		{ "non-ASCII key", UTF8_HEAD "na\xc3\xafve: 1\n", "na\xc3\xafve", "2",
		  UTF8_HEAD "na\xc3\xafve: \"2\"\n" },
		{ "quoted non-ASCII key", UTF8_HEAD "\"\xc3\xa9\": 'a'\n", "\xc3\xa9", "b",
		  UTF8_HEAD "\"\xc3\xa9\": 'b'\n" },
	};
	static const struct remove_case removes[] = {
		{ "remove on the same line", UTF8_HEAD "spec: {tag: \xc3\xbc, cpu: \"1\"}\n", "spec.tag",
		  UTF8_HEAD "spec: {cpu: \"1\"}\n" },
		{ "remove a later pair", UTF8_HEAD "a: \xc3\xa9\nb: 1\n", "a", UTF8_HEAD "b: 1\n" },
	};

	(void)state;
	RUN_SET(cases);
	RUN_REMOVE(removes);
#undef UTF8_HEAD
}

static void test_yamledit__null_becomes_mapping(void **state)
{
	static const struct set_case cases[] = {
		{ "empty",
		  "spec:\n  overrides:\n  budget: x\n", "spec.overrides.carol.cpu", "16",
		  "spec:\n  overrides:\n    carol:\n      cpu: \"16\"\n  budget: x\n" },
		{ "empty with comment", "overrides:  # none yet\nx: 1\n", "overrides.a", "b",
		  "overrides:  # none yet\n  a: b\nx: 1\n" },
		{ "tilde", "overrides: ~\nx: 1\n", "overrides.a", "b", "overrides:\n  a: b\nx: 1\n" },
		{ "null with comment", "overrides: null  # none yet\n", "overrides.a", "b",
		  "overrides:  # none yet\n  a: b\n" },
		{ "in a flow mapping", "x: {a: ~}\n", "x.a.b", "c", "x: {a: {b: c}}\n" },
		{ "empty in a flow mapping", "x: {a: }\n", "x.a.b", "c", "x: {a: {b: c}}\n" },
		{ "null document", "~\n", "a", "b", "\na: b\n" },
	};

	(void)state;
	RUN_SET(cases);
}

static void test_yamledit__empty_flow_mapping(void **state)
{
	static const struct set_case cases[] = {
		{ "one key", "overrides: {}\n", "overrides.cpu", "16", "overrides: {cpu: \"16\"}\n" },
		{ "nested", "overrides: {}  # none\n", "overrides.alice.cpu", "16",
		  "overrides: {alice: {cpu: \"16\"}}  # none\n" },
		{ "root", "{}\n", "a", "b", "{a: b}\n" },
	};

	(void)state;
	RUN_SET(cases);
}

static void test_yamledit__flow_mapping(void **state)
{
	static const struct set_case sets[] = {
		{ "replace", "alice: {cpu: \"16\", memory: 64Gi}\n", "alice.memory", "128Gi",
		  "alice: {cpu: \"16\", memory: 128Gi}\n" },
		{ "replace quoted", "alice: {cpu: \"16\", memory: 64Gi}\n", "alice.cpu", "32",
		  "alice: {cpu: \"32\", memory: 64Gi}\n" },
		{ "add", "alice: {cpu: \"16\", memory: 64Gi}\n", "alice.storage", "1Ti",
		  "alice: {cpu: \"16\", memory: 64Gi, storage: 1Ti}\n" },
		{ "add nested", "alice: {cpu: \"16\"}\n", "alice.x.k", "z",
		  "alice: {cpu: \"16\", x: {k: z}}\n" },
		{ "yaml 1.1 boolean key quoted", "alice: {cpu: \"16\"}\n", "alice.y", "z",
		  "alice: {cpu: \"16\", \"y\": z}\n" },
		{ "add to a nested flow mapping", "a: {b: {c: 1}}\n", "a.b.d", "e",
		  "a: {b: {c: 1, d: e}}\n" },
		{ "add after a trailing comma", "a: {b: 1, }\n", "a.c", "d", "a: {b: 1, c: d, }\n" },
		{ "add to a multi-line flow mapping", "x: {\n  a: 1,\n  b: 2\n}\n", "x.c", "v",
		  "x: {\n  a: 1,\n  b: 2, c: v\n}\n" },
		{ "root", "{a: 1}\n", "b", "c", "{a: 1, b: c}\n" },
	};
	static const struct remove_case removes[] = {
		{ "remove first", "alice: {cpu: \"16\", memory: 64Gi}\n", "alice.cpu",
		  "alice: {memory: 64Gi}\n" },
		{ "remove last", "alice: {cpu: \"16\", memory: 64Gi}\n", "alice.memory",
		  "alice: {cpu: \"16\"}\n" },
		{ "remove middle", "x: {a: 1, b: 2, c: 3}\n", "x.b", "x: {a: 1, c: 3}\n" },
		{ "remove the only entry", "x: 1\nalice: {cpu: \"16\"}  # big\ny: 2\n", "alice.cpu",
		  "x: 1\ny: 2\n" },
		{ "remove the only entry of the root", "{a: 1}\n", "a", "{}\n" },
		{ "remove a nested flow mapping", "a: {b: {c: 1}, d: 2}\n", "a.b.c", "a: {d: 2}\n" },
		{ "remove from a multi-line flow mapping", "x: {\n  a: 1,\n  b: 2\n}\n", "x.a",
		  "x: {\n  b: 2\n}\n" },
		{ "remove last from a multi-line flow mapping", "x: {\n  a: 1,\n  b: 2\n}\n", "x.b",
		  "x: {\n  a: 1\n}\n" },
	};

	(void)state;
	RUN_SET(sets);
	RUN_REMOVE(removes);
}

static void test_yamledit__remove_block(void **state)
{
	static const struct remove_case cases[] = {
		{ "pair with a nested mapping",
		  "spec:\n"
		  "  # resources for the build\n"
		  "  resources:\n"
		  "    cpu: \"2\"   # two\n"
		  "    memory: 4Gi\n"
		  "  owner: alice\n",
		  "spec.resources",
		  "spec:\n"
		  "  # resources for the build\n"
		  "  owner: alice\n" },
		{ "last key of resources removes resources",
		  "spec:\n  resources:\n    cpu: \"2\"\n  owner: alice\n", "spec.resources.cpu",
		  "spec:\n  owner: alice\n" },
		{ "mappings emptied up the path", "a:\n  b:\n    c: 1\nd: 2\n", "a.b.c", "d: 2\n" },
		{ "middle pair with a trailing comment", "a: 1\nb: 2 # two\nc: 3\n", "b", "a: 1\nc: 3\n" },
		{ "one of two keys", "spec:\n  resources:\n    cpu: \"2\"\n    memory: 4Gi\n",
		  "spec.resources.cpu", "spec:\n  resources:\n    memory: 4Gi\n" },
		{ "last line without a newline", "a: 1\nb: 2", "b", "a: 1\n" },
		{ "first pair, no final newline", "a: 1\nb: 2", "a", "b: 2" },
		{ "block scalar", "a: |\n  x\n  y\nb: 1\n", "a", "b: 1\n" },
		{ "block scalar with its blank lines, after one that keeps them",
		  "a: |+\n  keep\n\nb: >-\n  folded\n\n\n# c\nc: 1\n", "b",
		  "a: |+\n  keep\n\n# c\nc: 1\n" },
		{ "indentless sequence", "keys:\n- a\n- b\nx: 1\n", "keys", "x: 1\n" },
		{ "multi-line flow value", "a: [1,\n  2]  # c\nb: 1\n", "a", "b: 1\n" },
		{ "comment after the value stays", "a:\n  x: 1\n  # about b\nb: 2\n", "a.x",
		  "  # about b\nb: 2\n" },
		{ "empty value", "a:\nb: 1\n", "a", "b: 1\n" },
		{ "the root's only key", "# head\na: 1\n", "a", "# head\n" },
		{ "crlf", "a: 1\r\nb: 2\r\nc: 3\r\n", "b", "a: 1\r\nc: 3\r\n" },
	};

	(void)state;
	RUN_REMOVE(cases);
}

static void test_yamledit__remove_missing_is_noop(void **state)
{
	static const struct { const char *in, *path; } cases[] = {
		{ "a: 1\n", "b" },
		{ "a: 1\n", "x.y.z" },
		{ "a:\n", "a.b" },
		{ "a: ~\n", "a.b.c" },
		{ "a: {}\n", "a.b" },
		{ "", "a" },
		{ "# only a comment", "a" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sbx_buf doc = SBX_BUF_INIT;
		struct path p;

		split_path(&p, cases[i].path);
		sbx_buf_puts(&doc, cases[i].in);
		sbx_error_clear();
		assert_int_equal(sbx_yaml_edit_remove(&doc, p.keys, p.depth), 0);
		assert_string_equal(sbx_buf_cstr(&doc), cases[i].in);
		assert_string_equal(sbx_error_last(), "");
		sbx_buf_dispose(&doc);
	}
}

struct error_case {
	const char *in;
	const char *path;
	const char *value;  /* NULL: remove */
	const char *message;
};

static void run_error(const struct error_case *c)
{
	sbx_buf doc = SBX_BUF_INIT;
	struct path p;
	int r;

	split_path(&p, c->path);
	sbx_buf_puts(&doc, c->in);
	sbx_error_clear();
	if (c->value)
		r = sbx_yaml_edit_set(&doc, p.keys, p.depth, c->value);
	else
		r = sbx_yaml_edit_remove(&doc, p.keys, p.depth);
	if (r != SBX_EINVAL)
		fail_msg("'%s' in '%s': got %d, want SBX_EINVAL", c->path, c->in, r);
	assert_string_equal(sbx_error_last(), c->message);
	assert_string_equal(sbx_buf_cstr(&doc), c->in);
	sbx_buf_dispose(&doc);
}

static void test_yamledit__errors(void **state)
{
	static const struct error_case cases[] = {
		{ "spec:\n  resources:\n    cpu: 1\n", "spec.resources", "x",
		  "'spec.resources' is a mapping, not a single value; set one of its keys, such as "
		  "'spec.resources.cpu'" },
		{ "spec:\n  resources: {}\n", "spec.resources", "x",
		  "'spec.resources' is a mapping, not a single value; set a key inside it" },
		{ "spec:\n  sshKeys: [a]\n", "spec.sshKeys", "x",
		  "'spec.sshKeys' is a list, not a single value; edit the list by hand" },
		{ "spec:\n  resources:\n    - cpu\n", "spec.resources.cpu", "1",
		  "'spec.resources' is a list, not a mapping" },
		{ "spec:\n  resources:\n    - cpu\n", "spec.resources.cpu", NULL,
		  "'spec.resources' is a list, not a mapping" },
		{ "spec: x\n", "spec.owner", "a", "'spec' is a string, not a mapping" },
		{ "spec: \"\"\n", "spec.owner", "a", "'spec' is a string, not a mapping" },
		{ "spec: 1\n", "spec.owner", NULL, "'spec' is an integer, not a mapping" },
		{ "- a\n", "a", "b", "the document is a list, not a mapping" },
		{ "just text\n", "a", NULL, "the document is a string, not a mapping" },
		{ "a: [1, 2\nb: 3\n", "a", "b",
		  "the file does not load; fix it before editing (line 2, column 2: did not find "
		  "expected ',' or ']' while parsing a flow sequence)" },
		{ "a: b: c\n", "a", NULL,
		  "the file does not load; fix it before editing (line 1, column 5: mapping values "
		  "are not allowed in this context)" },
		{ "a: &x 1\nb: *x\n", "a", "2",
		  "the file does not load; fix it before editing (line 1, column 4: anchors and "
		  "aliases are not allowed ('&x'))" },
		{ "a: 1\na: 2\n", "a", "2",
		  "the file does not load; fix it before editing (line 2, column 1: duplicate key "
		  "'a' (first defined at line 1))" },
		{ "a: \xc3\n", "a", "2",
		  "the file does not load; fix it before editing (line 1, column 4: invalid UTF-8 "
		  "(byte 0xc3); save the file as UTF-8)" },
		{ "a: 1\n", "", "x", "no key given; name a key such as 'spec.owner'" },
		{ "a: 1\n", "", NULL, "no key given; name a key such as 'spec.owner'" },
		{ "a: 1\n", "a", "\xff", "the value is not valid UTF-8" },
		{ "a: 1\n", "a.\xc3", "x", "key 2 of the path is not valid UTF-8" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_error(&cases[i]);
}

static void test_yamledit__depth_limit(void **state)
{
	const char *keys[SBX_YAML_MAX_DEPTH + 1];
	sbx_buf doc = SBX_BUF_INIT;
	sbx_ynode *root;
	const sbx_ynode *n;

	(void)state;
	for (size_t i = 0; i < SBX_YAML_MAX_DEPTH + 1; i++)
		keys[i] = "k";
	sbx_error_clear();
	assert_int_equal(sbx_yaml_edit_set(&doc, keys, SBX_YAML_MAX_DEPTH + 1, "v"), SBX_EINVAL);
	assert_string_equal(sbx_error_last(), "the key path is 33 keys deep; the limit is 32");
	assert_int_equal(doc.len, 0);
	sbx_error_clear();
	assert_int_equal(sbx_yaml_edit_remove(&doc, keys, SBX_YAML_MAX_DEPTH + 1), SBX_EINVAL);

	/* 32 keys: 32 nested block mappings */
	sbx_error_clear();
	assert_int_equal(sbx_yaml_edit_set(&doc, keys, SBX_YAML_MAX_DEPTH, "v"), 0);
	root = load_ok("depth 32", sbx_buf_cstr(&doc), doc.len);
	n = root;
	for (size_t i = 0; i < SBX_YAML_MAX_DEPTH; i++)
		n = sbx_ynode_get(n, "k");
	assert_non_null(n);
	assert_string_equal(n->value, "v");
	sbx_ynode_free(root);
	assert_int_equal(sbx_yaml_edit_remove(&doc, keys, SBX_YAML_MAX_DEPTH), 0);
	assert_string_equal(sbx_buf_cstr(&doc), "");
	sbx_buf_dispose(&doc);
}

static void test_yamledit__size_limit(void **state)
{
	static const char *const key[] = { "a" };
	sbx_buf doc = SBX_BUF_INIT;
	sbx_buf value = SBX_BUF_INIT;

	(void)state;
	/* "a: b\n" and comment lines up to the limit, plus one byte */
	sbx_buf_puts(&doc, "a: b\n");
	while (doc.len + 64 <= SBX_YAML_MAX_BYTES)
		sbx_buf_puts(&doc, "# 345678901234567890123456789012345678901234567890123456789012\n");
	while (doc.len < SBX_YAML_MAX_BYTES)
		sbx_buf_putc(&doc, '\n');
	sbx_buf_putc(&doc, '\n');
	sbx_error_clear();
	assert_int_equal(sbx_yaml_edit_set(&doc, key, 1, "c"), SBX_EINVAL);
	assert_string_equal(sbx_error_last(),
			    "the file is 262145 bytes; the limit is 262144 bytes (256 KiB)");
	assert_int_equal(doc.len, SBX_YAML_MAX_BYTES + 1);

	/* exactly the limit loads; an edit that grows it past the limit is refused */
	doc.len--;
	doc.ptr[doc.len] = '\0';
	sbx_error_clear();
	assert_int_equal(sbx_yaml_edit_set(&doc, key, 1, "c"), 0);
	assert_int_equal(doc.len, SBX_YAML_MAX_BYTES);
	assert_memory_equal(doc.ptr, "a: c\n#", 6);
	sbx_buf_puts(&value, "cc");
	sbx_error_clear();
	assert_int_equal(sbx_yaml_edit_set(&doc, key, 1, sbx_buf_cstr(&value)), SBX_EINVAL);
	assert_string_equal(sbx_error_last(), "editing 'a' would leave a file that does not load "
			    "(file is 262145 bytes; the limit is 262144 bytes (256 KiB))");
	assert_memory_equal(doc.ptr, "a: c\n#", 6);
	sbx_buf_dispose(&value);
	sbx_buf_dispose(&doc);
}

static void test_yamledit__failed_buffer_refused(void **state)
{
	static const char *const key[] = { "a" };
	sbx_buf doc;

	(void)state;
	sbx_buf_init(&doc, 8);
	sbx_buf_puts(&doc, "a: 1\n");
	assert_int_equal(sbx_buf_puts(&doc, "b: 2\n"), SBX_ENOMEM);
	sbx_error_clear();
	assert_int_equal(sbx_yaml_edit_set(&doc, key, 1, "x"), SBX_ENOMEM);
	assert_string_equal(sbx_buf_cstr(&doc), "a: 1\n");
	sbx_buf_dispose(&doc);
}

/* ---- the repository's own files ---- */

/* Lines of s; caller must free the array and its strings. */
static char **split_lines(const char *s, size_t *count)
{
	char **lines = NULL;
	size_t n = 0;

	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		char **more = realloc(lines, (n + 1) * sizeof(*lines));

		assert_non_null(more);
		lines = more;
		lines[n] = strndup(s, len);
		assert_non_null(lines[n]);
		n++;
		s += len + (nl != NULL);
	}
	*count = n;
	return lines;
}

static void free_lines(char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

/* got is orig with lines [at, at + removed) (0-based) replaced by the lines
 * of `added`; every other line is byte for byte the same. */
static void expect_hunk(const char *what, const char *orig, const char *got, size_t at,
			size_t removed, const char *added)
{
	size_t no, ng, na;
	char **o = split_lines(orig, &no), **g = split_lines(got, &ng), **a = split_lines(added, &na);

	if (ng != no - removed + na)
		fail_msg("%s: %zu lines, want %zu:\n%s", what, ng, no - removed + na, got);
	for (size_t i = 0; i < ng; i++) {
		const char *want = i < at ? o[i] : i < at + na ? a[i - at] : o[i - na + removed];

		if (strcmp(g[i], want) != 0)
			fail_msg("%s: line %zu is '%s', want '%s'", what, i + 1, g[i], want);
	}
	assert_true(got[strlen(got) - 1] == '\n');
	free_lines(o, no);
	free_lines(g, ng);
	free_lines(a, na);
}

struct repo_case {
	const char *name;
	const char *path;
	const char *value;   /* NULL: remove */
	size_t at, removed;  /* 0-based first line, lines removed */
	const char *added;   /* lines added there */
};

static void run_repo(const char *file, const struct repo_case *c)
{
	size_t len;
	char *orig = test_read_repo_file(file, &len);
	sbx_buf doc = SBX_BUF_INIT;
	struct path p;
	int r;

	split_path(&p, c->path);
	assert_int_equal(sbx_buf_put(&doc, orig, len), 0);
	sbx_error_clear();
	r = c->value ? sbx_yaml_edit_set(&doc, p.keys, p.depth, c->value)
		     : sbx_yaml_edit_remove(&doc, p.keys, p.depth);
	if (r != 0)
		fail_msg("%s: %s failed (%d): %s", c->name, c->path, r, sbx_error_last());
	expect_hunk(c->name, orig, sbx_buf_cstr(&doc), c->at, c->removed, c->added);
	if (c->value)
		expect_reads_back(c->name, &doc, c->path, c->value);
	else
		expect_gone(c->name, &doc, c->path);
	sbx_buf_dispose(&doc);
	free(orig);
}

static void test_yamledit__repo_sandbox_file(void **state)
{
	static const struct repo_case cases[] = {
		{ "owner", "spec.owner", "bob@example.com", 6, 1, "  owner: bob@example.com\n" },
		{ "env", "spec.env.EDITOR", "nano", 11, 1, "    EDITOR: nano\n" },
		{ "add env", "spec.env.PAGER", "less", 12, 0, "    PAGER: less\n" },
		{ "create resources", "spec.resources.cpu", "4", 12, 0,
		  "  resources:\n    cpu: \"4\"\n" },
		{ "add after the sequence", "spec.size", "medium", 12, 0, "  size: medium\n" },
		{ "name", "metadata.name", "alice2", 4, 1, "  name: alice2\n" },
		{ "remove env", "spec.env.EDITOR", NULL, 10, 2, "" },
		{ "remove ports keeps the comment line above", "spec.ports", NULL, 9, 1, "" },
		{ "remove owner", "spec.owner", NULL, 6, 1, "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_repo("sandboxes/alice.yaml", &cases[i]);
}

static void test_yamledit__repo_policy_file(void **state)
{
	static const struct repo_case cases[] = {
		{ "size cpu", "spec.sizes.small.cpu", "2", 8, 1,
		  "    small:  {cpu: \"2\", memory: 2Gi, storage: 10Gi}\n" },
		{ "limit memory", "spec.limits.memory", "64Gi", 12, 1,
		  "  limits: {cpu: \"8\", memory: 64Gi, storage: 200Gi}\n" },
		{ "new override", "spec.overrides.dave.cpu", "12", 16, 0,
		  "    dave:\n      cpu: \"12\"\n" },
		{ "override storage", "spec.overrides.carol.storage", "100Gi", 15, 1,
		  "    carol: {cpu: \"16\", memory: 64Gi, storage: 100Gi}\n" },
		{ "override memory gone", "spec.overrides.carol.memory", NULL, 15, 1,
		  "    carol: {cpu: \"16\"}\n" },
		{ "override gone with overrides", "spec.overrides.carol", NULL, 14, 2, "" },
		{ "endpoint", "spec.ssh.endpoint", "ssh.example.com:2222", 23, 1,
		  "    endpoint: \"ssh.example.com:2222\"\n" },
		{ "grace period", "spec.deletion.gracePeriod", "24h", 25, 1, "    gracePeriod: 24h\n" },
		{ "prune percent", "spec.deletion.maxPrunePercent", "10", 26, 1,
		  "    maxPrunePercent: \"10\"\n" },
		{ "default image", "spec.images.default", "registry.example.com/devbox:2027.01", 19, 1,
		  "    default: registry.example.com/devbox:2027.01\n" },
		{ "new size class", "spec.sizes.xlarge.cpu", "8", 11, 0, "    xlarge:\n      cpu: \"8\"\n" },
		{ "new top-level section", "spec.quota.maxSandboxes", "50", 27, 0,
		  "  quota:\n    maxSandboxes: \"50\"\n" },
		{ "remove a size class", "spec.sizes.medium", NULL, 9, 1, "" },
		{ "remove the budget", "spec.budget", NULL, 17, 1, "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_repo("templates/policy.yaml", &cases[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yamledit__replace_keeps_style),
		cmocka_unit_test(test_yamledit__replace_needs_quotes),
		cmocka_unit_test(test_yamledit__replace_keeps_comment),
		cmocka_unit_test(test_yamledit__replace_null),
		cmocka_unit_test(test_yamledit__add_block),
		cmocka_unit_test(test_yamledit__create_mapping),
		cmocka_unit_test(test_yamledit__four_space_indent),
		cmocka_unit_test(test_yamledit__no_final_newline),
		cmocka_unit_test(test_yamledit__utf8_before_edit),
		cmocka_unit_test(test_yamledit__null_becomes_mapping),
		cmocka_unit_test(test_yamledit__empty_flow_mapping),
		cmocka_unit_test(test_yamledit__flow_mapping),
		cmocka_unit_test(test_yamledit__remove_block),
		cmocka_unit_test(test_yamledit__remove_missing_is_noop),
		cmocka_unit_test(test_yamledit__errors),
		cmocka_unit_test(test_yamledit__depth_limit),
		cmocka_unit_test(test_yamledit__size_limit),
		cmocka_unit_test(test_yamledit__failed_buffer_refused),
		cmocka_unit_test(test_yamledit__repo_sandbox_file),
		cmocka_unit_test(test_yamledit__repo_policy_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
