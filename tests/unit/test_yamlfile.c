// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for core/yamlfile.c: line:column of nodes, one located and
 * specific message per input-rule violation (all of them, not only the
 * first), the size, depth and UTF-8 limits, and core-schema typing.
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
#include "yamlfile.h"

/* Load NUL-terminated text as "f.yaml"; returns the result code. */
static int load(sbx_ynode **out, const char *text, sbx_diags *d)
{
	return sbx_yaml_load(out, "f.yaml", text, strlen(text), d);
}

/* Assert diags holds exactly one entry at line:col with this message. */
static void expect_one(const sbx_diags *d, int line, int col, const char *message)
{
	assert_int_equal(d->count, 1);
	assert_string_equal(d->items[0].path, "f.yaml");
	assert_string_equal(d->items[0].message, message);
	assert_int_equal(d->items[0].line, line);
	assert_int_equal(d->items[0].col, col);
}

/* Load text that must fail with exactly one error at line:col. */
static void expect_error(const char *text, int line, int col, const char *message)
{
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_ynode *root = (sbx_ynode *)&d; /* must stay untouched */

	assert_int_equal(load(&root, text, &d), SBX_EINVAL);
	assert_ptr_equal(root, (sbx_ynode *)&d);
	expect_one(&d, line, col, message);
	sbx_diags_dispose(&d);
}

/* Load text that must succeed; caller must sbx_ynode_free the result. */
static sbx_ynode *load_ok(const char *text)
{
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_ynode *root = NULL;
	int r = load(&root, text, &d);

	if (r != 0 || d.count) {
		sbx_buf b = SBX_BUF_INIT;

		sbx_diags_format(&b, &d);
		fail_msg("unexpected failure %d:\n%s", r, sbx_buf_cstr(&b));
	}
	sbx_diags_dispose(&d);
	return root;
}

/* "[[...]]" nested depth levels deep. Caller must free. */
static char *nested_lists(int depth)
{
	sbx_buf b = SBX_BUF_INIT;

	for (int i = 0; i < depth; i++)
		sbx_buf_putc(&b, '[');
	for (int i = 0; i < depth; i++)
		sbx_buf_putc(&b, ']');
	return sbx_buf_take(&b, NULL);
}

static void test_yamlfile__positions(void **state)
{
	static const char text[] =
		"apiVersion: v1\n"
		"spec:\n"
		"  owner: alice\n"
		"  ports:\n"
		"    - 3000\n"
		"    - [1, {a: b}]\n"
		"  env: {EDITOR: vim}\n";
	sbx_ynode *root = load_ok(text);
	const sbx_ynode *spec, *owner, *ports, *flow, *inner, *env;

	(void)state;
	assert_non_null(root);
	assert_int_equal(root->kind, SBX_YNODE_MAP);
	assert_int_equal(root->line, 1);
	assert_int_equal(root->col, 1);
	assert_int_equal(root->count, 2);
	assert_string_equal(root->keys[1]->value, "spec");
	assert_int_equal(root->keys[1]->line, 2);
	assert_int_equal(root->keys[1]->col, 1);

	spec = sbx_ynode_get(root, "spec");
	assert_non_null(spec);
	assert_int_equal(spec->kind, SBX_YNODE_MAP);
	assert_int_equal(spec->line, 3);
	assert_int_equal(spec->col, 3);

	owner = sbx_ynode_get(spec, "owner");
	assert_string_equal(owner->value, "alice");
	assert_int_equal(owner->len, 5);
	assert_int_equal(owner->line, 3);
	assert_int_equal(owner->col, 10);

	ports = sbx_ynode_get(spec, "ports");
	assert_int_equal(ports->kind, SBX_YNODE_SEQ);
	assert_int_equal(ports->count, 2);
	assert_int_equal(ports->line, 5);
	assert_int_equal(ports->col, 5);
	assert_string_equal(ports->items[0]->value, "3000");
	assert_int_equal(ports->items[0]->line, 5);
	assert_int_equal(ports->items[0]->col, 7);

	flow = ports->items[1];
	assert_int_equal(flow->kind, SBX_YNODE_SEQ);
	assert_int_equal(flow->line, 6);
	assert_int_equal(flow->col, 7);
	inner = flow->items[1];
	assert_int_equal(inner->kind, SBX_YNODE_MAP);
	assert_int_equal(inner->line, 6);
	assert_int_equal(inner->col, 11);
	assert_int_equal(inner->keys[0]->line, 6);
	assert_int_equal(inner->keys[0]->col, 12);
	assert_string_equal(sbx_ynode_get(inner, "a")->value, "b");
	assert_int_equal(sbx_ynode_get(inner, "a")->col, 15);

	env = sbx_ynode_get(spec, "env");
	assert_int_equal(env->line, 7);
	assert_int_equal(env->col, 8);
	assert_int_equal(env->keys[0]->col, 9);
	assert_int_equal(env->items[0]->line, 7);
	assert_int_equal(env->items[0]->col, 17);

	/* lookups that miss */
	assert_null(sbx_ynode_get(root, "nope"));
	assert_null(sbx_ynode_get(owner, "x"));
	assert_null(sbx_ynode_get(NULL, "x"));
	sbx_ynode_free(root);
}

static void test_yamlfile__columns_count_characters(void **state)
{
	sbx_ynode *root = load_ok("name: \xc3\xa9t\xc3\xa9\nnext: x\n");

	(void)state;
	assert_string_equal(sbx_ynode_get(root, "name")->value, "\xc3\xa9t\xc3\xa9");
	assert_int_equal(sbx_ynode_get(root, "name")->len, 5);
	assert_int_equal(sbx_ynode_get(root, "next")->line, 2);
	assert_int_equal(sbx_ynode_get(root, "next")->col, 7);
	sbx_ynode_free(root);
}

static void test_yamlfile__anchor(void **state)
{
	(void)state;
	expect_error("a: &x 1\n", 1, 4, "anchors and aliases are not allowed ('&x')");
	expect_error("a: 1\nb: &list [1, 2]\n", 2, 4, "anchors and aliases are not allowed ('&list')");
}

static void test_yamlfile__alias(void **state)
{
	(void)state;
	expect_error("a: 1\nb: *x\n", 2, 4, "anchors and aliases are not allowed ('*x')");
}

static void test_yamlfile__alias_keys(void **state)
{
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_ynode *root = NULL;

	(void)state;
	/* two different aliases as keys: two alias errors, no duplicate-key error */
	assert_int_equal(load(&root, "{*a : 1, *b : 2}\n", &d), SBX_EINVAL);
	assert_int_equal(d.count, 2);
	assert_string_equal(d.items[0].message, "anchors and aliases are not allowed ('*a')");
	assert_int_equal(d.items[0].col, 2);
	assert_string_equal(d.items[1].message, "anchors and aliases are not allowed ('*b')");
	assert_int_equal(d.items[1].col, 10);
	sbx_diags_dispose(&d);
	assert_null(root);
}

static void test_yamlfile__tag_custom(void **state)
{
	(void)state;
	expect_error("a: !foo bar\n", 1, 4, "YAML tags are not allowed ('!foo')");
	expect_error("a: !m {x: 1}\n", 1, 4, "YAML tags are not allowed ('!m')");
	expect_error("- !seq [1]\n", 1, 3, "YAML tags are not allowed ('!seq')");
}

static void test_yamlfile__tag_standard(void **state)
{
	(void)state;
	expect_error("a: 1\nb: !!str 1\n", 2, 4, "YAML tags are not allowed ('tag:yaml.org,2002:str')");
	expect_error("b: !!int \"1\"\n", 1, 4, "YAML tags are not allowed ('tag:yaml.org,2002:int')");
}

static void test_yamlfile__tag_non_specific(void **state)
{
	(void)state;
	/* '!' turns 1 into a string in YAML; refused like every other tag */
	expect_error("a: ! 1\n", 1, 4, "YAML tags are not allowed ('!')");
}

static void test_yamlfile__duplicate_key(void **state)
{
	(void)state;
	expect_error("size: small\nowner: a\nsize: medium\n", 3, 1,
		     "duplicate key 'size' (first defined at line 1)");
	expect_error("spec:\n  env:\n    A: 1\n    B: 2\n    A: 3\n", 5, 5,
		     "duplicate key 'A' (first defined at line 3)");
	expect_error("x: {a: 1, b: 2,\n    a: 3}\n", 2, 5,
		     "duplicate key 'a' (first defined at line 1)");
	/* quoting does not make a different key */
	expect_error("a: 1\n\"a\": 2\n", 2, 1, "duplicate key 'a' (first defined at line 1)");
}

static void test_yamlfile__non_scalar_key(void **state)
{
	(void)state;
	expect_error("? [a]\n: 1\n", 1, 3, "mapping keys must be strings, not lists or mappings");
}

static void test_yamlfile__second_document(void **state)
{
	(void)state;
	expect_error("a: 1\n---\nb: 2\n", 2, 1,
		     "only one YAML document is allowed per file (remove '---' and what follows)");
	expect_error("---\na: 1\n...\n---\nkind: Secret\n", 4, 1,
		     "only one YAML document is allowed per file (remove '---' and what follows)");
}

static void test_yamlfile__explicit_single_document(void **state)
{
	sbx_ynode *root = load_ok("---\na: 1\n...\n");

	(void)state;
	assert_string_equal(sbx_ynode_get(root, "a")->value, "1");
	assert_int_equal(sbx_ynode_get(root, "a")->line, 2);
	sbx_ynode_free(root);
}

static void test_yamlfile__depth_32_accepted(void **state)
{
	char *text = nested_lists(SBX_YAML_MAX_DEPTH);
	sbx_ynode *root = load_ok(text);
	const sbx_ynode *n = root;
	int depth = 1;

	(void)state;
	while (n->count) {
		n = n->items[0];
		depth++;
	}
	assert_int_equal(depth, 32);
	assert_int_equal(n->kind, SBX_YNODE_SEQ);
	assert_int_equal(n->col, 32);
	sbx_ynode_free(root);
	free(text);
}

static void test_yamlfile__depth_33_refused(void **state)
{
	char *text = nested_lists(SBX_YAML_MAX_DEPTH + 1);

	(void)state;
	expect_error(text, 1, 33, "nesting is deeper than 32 levels");
	free(text);
}

static void test_yamlfile__depth_counts_maps(void **state)
{
	sbx_buf b = SBX_BUF_INIT;
	char *text;

	(void)state;
	/* 32 maps, the innermost holding a list: 33 levels */
	for (int i = 0; i < 32; i++)
		sbx_buf_puts(&b, "{a: ");
	sbx_buf_puts(&b, "[]");
	for (int i = 0; i < 32; i++)
		sbx_buf_puts(&b, "}");
	text = sbx_buf_take(&b, NULL);
	expect_error(text, 1, 32 * 4 + 1, "nesting is deeper than 32 levels");
	free(text);
}

static void test_yamlfile__size_limit(void **state)
{
	size_t len = SBX_YAML_MAX_BYTES + 1;
	char *text = malloc(len);
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_ynode *root = NULL;
	sbx_buf out = SBX_BUF_INIT;

	(void)state;
	assert_non_null(text);
	/* comment lines: valid YAML of any length */
	memset(text, 'x', len);
	for (size_t i = 0; i < len; i += 64) {
		text[i] = '#';
		if (i + 63 < len)
			text[i + 63] = '\n';
	}
	assert_int_equal(sbx_yaml_load(&root, "big.yaml", text, len, &d), SBX_EINVAL);
	assert_int_equal(d.count, 1);
	assert_int_equal(d.items[0].line, 0);
	assert_string_equal(d.items[0].message,
			    "file is 262145 bytes; the limit is 262144 bytes (256 KiB)");
	sbx_diags_format(&out, &d);
	assert_string_equal(sbx_buf_cstr(&out),
			    "big.yaml: error: file is 262145 bytes; the limit is 262144 bytes (256 KiB)\n");
	sbx_buf_dispose(&out);
	sbx_diags_dispose(&d);

	/* exactly the limit is fine */
	assert_int_equal(sbx_yaml_load(&root, "big.yaml", text, len - 1, &d), 0);
	assert_int_equal(d.count, 0);
	assert_null(root);
	free(text);
}

static void test_yamlfile__utf8_overlong(void **state)
{
	(void)state;
	expect_error("a: \xc0\xaf\n", 1, 4, "invalid UTF-8 (byte 0xc0); save the file as UTF-8");
	expect_error("a: \xe0\x80\xaf\n", 1, 4, "invalid UTF-8 (byte 0xe0); save the file as UTF-8");
}

static void test_yamlfile__utf8_surrogate(void **state)
{
	(void)state;
	expect_error("a: ok\nb: \xed\xa0\x80\n", 2, 4,
		     "invalid UTF-8 (byte 0xed); save the file as UTF-8");
}

static void test_yamlfile__utf8_truncated(void **state)
{
	(void)state;
	/* at the end of the file, and cut short by an ASCII byte */
	expect_error("a: \xe2\x82", 1, 4, "invalid UTF-8 (byte 0xe2); save the file as UTF-8");
	expect_error("a: \xc3\xa9\xe2\x82x\n", 1, 5, "invalid UTF-8 (byte 0xe2); save the file as UTF-8");
	/* a lone continuation byte and bytes never valid in UTF-8 */
	expect_error("a: \x80\n", 1, 4, "invalid UTF-8 (byte 0x80); save the file as UTF-8");
	expect_error("a: \xff\n", 1, 4, "invalid UTF-8 (byte 0xff); save the file as UTF-8");
	expect_error("a: \xf4\x90\x80\x80\n", 1, 4, "invalid UTF-8 (byte 0xf4); save the file as UTF-8");
}

static void test_yamlfile__syntax_error(void **state)
{
	(void)state;
	expect_error("a: [1, 2\nb: 3\n", 2, 2,
		     "did not find expected ',' or ']' while parsing a flow sequence");
	expect_error("a: b: c\n", 1, 5, "mapping values are not allowed in this context");
}

static void test_yamlfile__all_violations_reported(void **state)
{
	static const char text[] =
		"a: &x 1\n"
		"b: *x\n"
		"c: !foo bar\n"
		"a: 2\n"
		"---\n"
		"d: !!str 1\n";
	static const struct { int line, col; const char *message; } want[] = {
		{ 1, 4, "anchors and aliases are not allowed ('&x')" },
		{ 2, 4, "anchors and aliases are not allowed ('*x')" },
		{ 3, 4, "YAML tags are not allowed ('!foo')" },
		{ 4, 1, "duplicate key 'a' (first defined at line 1)" },
		{ 5, 1, "only one YAML document is allowed per file (remove '---' and what follows)" },
		{ 6, 4, "YAML tags are not allowed ('tag:yaml.org,2002:str')" },
	};
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_ynode *root = NULL;

	(void)state;
	assert_int_equal(load(&root, text, &d), SBX_EINVAL);
	assert_null(root);
	assert_int_equal(d.count, sizeof(want) / sizeof(want[0]));
	sbx_diags_sort(&d);
	for (size_t i = 0; i < d.count; i++) {
		assert_string_equal(d.items[i].message, want[i].message);
		assert_int_equal(d.items[i].line, want[i].line);
		assert_int_equal(d.items[i].col, want[i].col);
	}
	sbx_diags_dispose(&d);
}

static void test_yamlfile__violations_before_syntax_error(void **state)
{
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_ynode *root = NULL;

	(void)state;
	assert_int_equal(load(&root, "a: &x 1\nb: [\n", &d), SBX_EINVAL);
	assert_int_equal(d.count, 2);
	assert_string_equal(d.items[0].message, "anchors and aliases are not allowed ('&x')");
	assert_int_equal(d.items[1].line, 3);
	sbx_diags_dispose(&d);
}

static void test_yamlfile__empty_document(void **state)
{
	sbx_ynode *root;

	(void)state;
	assert_null(load_ok(""));
	assert_null(load_ok("# only a comment\n\n"));
	assert_int_equal(sbx_ynode_type(NULL), SBX_YTYPE_NULL);
	/* an explicit empty document is a null scalar, if anything */
	root = load_ok("---\n");
	assert_int_equal(sbx_ynode_type(root), SBX_YTYPE_NULL);
	sbx_ynode_free(root);
	sbx_ynode_free(NULL);
}

static void test_yamlfile__typing(void **state)
{
	static const char text[] =
		"a: null\n"
		"b: ~\n"
		"c: true\n"
		"d: False\n"
		"e: 0x1f\n"
		"f: 0o17\n"
		"g: -3\n"
		"h: 1.5\n"
		"i: .inf\n"
		"j: \"1\"\n"
		"k: '1'\n"
		"l: hello\n"
		"m:\n"
		"n: |\n"
		"  1\n"
		"o: 1e3\n"
		"p: yes\n"
		"q: 0x\n"
		"r: -.INF\n"
		"s: .NaN\n"
		"t: \"true\"\n"
		"u: +7\n"
		"v: 1_000\n"
		"w: [1]\n"
		"x: {y: 1}\n"
		"z: \"a\\0b\"\n";
	static const struct { const char *key; sbx_ytype type; } want[] = {
		{ "a", SBX_YTYPE_NULL }, { "b", SBX_YTYPE_NULL }, { "c", SBX_YTYPE_BOOL },
		{ "d", SBX_YTYPE_BOOL }, { "e", SBX_YTYPE_INT }, { "f", SBX_YTYPE_INT },
		{ "g", SBX_YTYPE_INT }, { "h", SBX_YTYPE_FLOAT }, { "i", SBX_YTYPE_FLOAT },
		{ "j", SBX_YTYPE_STR }, { "k", SBX_YTYPE_STR }, { "l", SBX_YTYPE_STR },
		{ "m", SBX_YTYPE_NULL }, { "n", SBX_YTYPE_STR }, { "o", SBX_YTYPE_FLOAT },
		{ "p", SBX_YTYPE_STR }, { "q", SBX_YTYPE_STR }, { "r", SBX_YTYPE_FLOAT },
		{ "s", SBX_YTYPE_FLOAT }, { "t", SBX_YTYPE_STR }, { "u", SBX_YTYPE_INT },
		{ "v", SBX_YTYPE_STR }, { "w", SBX_YTYPE_SEQ }, { "x", SBX_YTYPE_MAP },
		{ "z", SBX_YTYPE_STR },
	};
	sbx_ynode *root = load_ok(text);

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const sbx_ynode *n = sbx_ynode_get(root, want[i].key);

		assert_non_null(n);
		if (sbx_ynode_type(n) != want[i].type)
			fail_msg("'%s': got %s, want %s", want[i].key,
				 sbx_ytype_name(sbx_ynode_type(n)), sbx_ytype_name(want[i].type));
	}
	assert_true(sbx_ynode_get(root, "j")->quoted);
	assert_false(sbx_ynode_get(root, "g")->quoted);
	assert_int_equal(sbx_ynode_get(root, "z")->len, 3);
	assert_memory_equal(sbx_ynode_get(root, "z")->value, "a\0b", 3);
	sbx_ynode_free(root);
}

static void test_yamlfile__resolve_plain(void **state)
{
	(void)state;
	assert_int_equal(sbx_yaml_resolve_plain(""), SBX_YTYPE_NULL);
	assert_int_equal(sbx_yaml_resolve_plain("NULL"), SBX_YTYPE_NULL);
	assert_int_equal(sbx_yaml_resolve_plain("TRUE"), SBX_YTYPE_BOOL);
	assert_int_equal(sbx_yaml_resolve_plain("tRUE"), SBX_YTYPE_STR);
	assert_int_equal(sbx_yaml_resolve_plain("2"), SBX_YTYPE_INT);
	assert_int_equal(sbx_yaml_resolve_plain("0o8"), SBX_YTYPE_STR);
	assert_int_equal(sbx_yaml_resolve_plain("0xg"), SBX_YTYPE_STR);
	assert_int_equal(sbx_yaml_resolve_plain("-0x1f"), SBX_YTYPE_STR);
	assert_int_equal(sbx_yaml_resolve_plain(".5"), SBX_YTYPE_FLOAT);
	assert_int_equal(sbx_yaml_resolve_plain("1."), SBX_YTYPE_FLOAT);
	assert_int_equal(sbx_yaml_resolve_plain("."), SBX_YTYPE_STR);
	assert_int_equal(sbx_yaml_resolve_plain("1e"), SBX_YTYPE_STR);
	assert_int_equal(sbx_yaml_resolve_plain("2Gi"), SBX_YTYPE_STR);
	assert_int_equal(sbx_yaml_resolve_plain("500m"), SBX_YTYPE_STR);
	assert_string_equal(sbx_ytype_name(SBX_YTYPE_STR), "a string");
	assert_string_equal(sbx_ytype_name(SBX_YTYPE_SEQ), "a list");
	assert_string_equal(sbx_ytype_name(SBX_YTYPE_MAP), "a mapping");
	assert_string_equal(sbx_ytype_name(SBX_YTYPE_INT), "an integer");
}

static void test_yamlfile__ynode_int(void **state)
{
	sbx_ynode *root = load_ok("hex: 0x1f\noct: 0o17\nneg: -3\nplus: +7\nbig: 9223372036854775807\n"
				  "over: 9223372036854775808\nq: \"1\"\nf: 1.5\ns: abc\nl: [1]\n");
	long long v = 42;

	(void)state;
	assert_int_equal(sbx_ynode_int(&v, sbx_ynode_get(root, "hex")), 0);
	assert_int_equal(v, 31);
	assert_int_equal(sbx_ynode_int(&v, sbx_ynode_get(root, "oct")), 0);
	assert_int_equal(v, 15);
	assert_int_equal(sbx_ynode_int(&v, sbx_ynode_get(root, "neg")), 0);
	assert_int_equal(v, -3);
	assert_int_equal(sbx_ynode_int(&v, sbx_ynode_get(root, "plus")), 0);
	assert_int_equal(v, 7);
	assert_int_equal(sbx_ynode_int(&v, sbx_ynode_get(root, "big")), 0);
	assert_true(v == 9223372036854775807LL);
	v = 42;
	assert_int_equal(sbx_ynode_int(&v, sbx_ynode_get(root, "over")), SBX_EINVAL);
	assert_int_equal(sbx_ynode_int(&v, sbx_ynode_get(root, "q")), SBX_EINVAL);
	assert_int_equal(sbx_ynode_int(&v, sbx_ynode_get(root, "f")), SBX_EINVAL);
	assert_int_equal(sbx_ynode_int(&v, sbx_ynode_get(root, "s")), SBX_EINVAL);
	assert_int_equal(sbx_ynode_int(&v, sbx_ynode_get(root, "l")), SBX_EINVAL);
	assert_int_equal(sbx_ynode_int(&v, sbx_ynode_get(root, "missing")), SBX_EINVAL);
	assert_int_equal(v, 42);
	sbx_ynode_free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yamlfile__positions),
		cmocka_unit_test(test_yamlfile__columns_count_characters),
		cmocka_unit_test(test_yamlfile__anchor),
		cmocka_unit_test(test_yamlfile__alias),
		cmocka_unit_test(test_yamlfile__alias_keys),
		cmocka_unit_test(test_yamlfile__tag_custom),
		cmocka_unit_test(test_yamlfile__tag_standard),
		cmocka_unit_test(test_yamlfile__tag_non_specific),
		cmocka_unit_test(test_yamlfile__duplicate_key),
		cmocka_unit_test(test_yamlfile__non_scalar_key),
		cmocka_unit_test(test_yamlfile__second_document),
		cmocka_unit_test(test_yamlfile__explicit_single_document),
		cmocka_unit_test(test_yamlfile__depth_32_accepted),
		cmocka_unit_test(test_yamlfile__depth_33_refused),
		cmocka_unit_test(test_yamlfile__depth_counts_maps),
		cmocka_unit_test(test_yamlfile__size_limit),
		cmocka_unit_test(test_yamlfile__utf8_overlong),
		cmocka_unit_test(test_yamlfile__utf8_surrogate),
		cmocka_unit_test(test_yamlfile__utf8_truncated),
		cmocka_unit_test(test_yamlfile__syntax_error),
		cmocka_unit_test(test_yamlfile__all_violations_reported),
		cmocka_unit_test(test_yamlfile__violations_before_syntax_error),
		cmocka_unit_test(test_yamlfile__empty_document),
		cmocka_unit_test(test_yamlfile__typing),
		cmocka_unit_test(test_yamlfile__resolve_plain),
		cmocka_unit_test(test_yamlfile__ynode_int),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
