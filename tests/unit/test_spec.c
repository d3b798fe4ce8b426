// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for core/spec.c: the repository's example sandboxes parse with
 * the expected fields, and invalid files report every problem, located,
 * with the exact message (unknown fields, names, policy-dependent checks).
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
#include "policy.h"
#include "quantity.h"
#include "spec.h"
#include "testutil.h"

#define ALICE_KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHSoUIZelGdP3RrTnXJvKXYV93zRjcY9w6U3zg30UICA alice@laptop"

static sbx_policy *repo_policy(void)
{
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_policy *p = NULL;
	size_t len;
	char *text = test_read_repo_file("templates/policy.yaml", &len);
	int r = sbx_policy_parse(&p, "templates/policy.yaml", text, len, &d);

	if (r != 0)
		test_fail_with_diags("policy", r, &d);
	sbx_diags_dispose(&d);
	free(text);
	return p;
}

/* Parse sandboxes/NAME.yaml of the repository against its policy. */
static sbx_spec *repo_spec(const char *name)
{
	sbx_buf rel = SBX_BUF_INIT;
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_policy *p = repo_policy();
	sbx_spec *s = NULL;
	size_t len;
	char *text;
	int r;

	sbx_buf_printf(&rel, "sandboxes/%s.yaml", name);
	text = test_read_repo_file(sbx_buf_cstr(&rel), &len);
	r = sbx_spec_parse(&s, sbx_buf_cstr(&rel), text, len, p, &d);
	if (r != 0 || d.count)
		test_fail_with_diags(sbx_buf_cstr(&rel), r, &d);
	sbx_diags_dispose(&d);
	sbx_buf_dispose(&rel);
	sbx_policy_free(p);
	free(text);
	return s;
}

/* "apiVersion ... spec:\n  owner: ...\n  sshKeys: [KEY]\n" + body. Lines 1-7
 * are the header; body starts at line 8. Caller must free. */
static char *sandbox_text(const char *name, const char *body)
{
	sbx_buf b = SBX_BUF_INIT;

	sbx_buf_printf(&b, "apiVersion: sandbox.dev/v1alpha1\nkind: Sandbox\nmetadata:\n"
		       "  name: %s\nspec:\n  owner: %s@example.com\n  sshKeys: [\"" ALICE_KEY "\"]\n%s",
		       name, name, body);
	return sbx_buf_take(&b, NULL);
}

/* Parse text as `path`; returns the code and leaves diags sorted. */
static int parse(sbx_spec **out, const char *path, const char *text, const sbx_policy *p,
		 sbx_diags *d)
{
	int r = sbx_spec_parse(out, path, text, strlen(text), p, d);

	sbx_diags_sort(d);
	return r;
}

/* Parse text that must fail with exactly one error. */
static void expect_one(const char *path, const char *text, const sbx_policy *p, int line, int col,
		       const char *message)
{
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_spec *s = NULL;

	assert_int_equal(parse(&s, path, text, p, &d), SBX_EINVAL);
	assert_null(s);
	if (d.count != 1)
		test_fail_with_diags("expected exactly one error", (int)d.count, &d);
	assert_string_equal(d.items[0].path, path);
	assert_string_equal(d.items[0].message, message);
	assert_int_equal(d.items[0].line, line);
	assert_int_equal(d.items[0].col, col);
	sbx_diags_dispose(&d);
}

static void assert_q(const sbx_quantity *q, bool has, const char *want)
{
	sbx_buf b = SBX_BUF_INIT;

	assert_true(has);
	sbx_quantity_format(&b, q);
	assert_string_equal(sbx_buf_cstr(&b), want);
	sbx_buf_dispose(&b);
}

static void test_spec__example_alice(void **state)
{
	sbx_spec *s = repo_spec("alice");

	(void)state;
	assert_string_equal(s->path, "sandboxes/alice.yaml");
	assert_string_equal(s->name, "alice");
	assert_string_equal(s->owner, "alice@example.com");
	assert_int_equal(s->nkeys, 1);
	assert_string_equal(s->keys[0].type, "ssh-ed25519");
	assert_string_equal(s->keys[0].comment, "alice@laptop");
	assert_null(s->size);
	assert_null(s->image);
	assert_false(s->suspended);
	assert_false(s->resources.has_cpu || s->resources.has_memory || s->resources.has_storage);
	assert_int_equal(s->nports, 1);
	assert_int_equal(s->ports[0], 3000);
	assert_int_equal(s->nenv, 1);
	assert_string_equal(s->env[0].name, "EDITOR");
	assert_string_equal(s->env[0].value, "vim");
	sbx_spec_free(s);
}

static void test_spec__example_bob(void **state)
{
	sbx_spec *s = repo_spec("bob");

	(void)state;
	assert_string_equal(s->name, "bob");
	assert_string_equal(s->owner, "bob@example.com");
	assert_int_equal(s->nkeys, 2);
	assert_string_equal(s->keys[0].type, "ssh-ed25519");
	assert_string_equal(s->keys[1].type, "ssh-rsa");
	assert_int_equal(s->keys[1].bits, 3072);
	assert_string_equal(s->keys[1].comment, "bob@workstation");
	assert_string_equal(s->size, "medium");
	assert_false(s->resources.has_cpu);
	assert_q(&s->resources.memory, s->resources.has_memory, "6Gi");
	assert_false(s->resources.has_storage);
	assert_false(s->suspended);
	assert_int_equal(s->nports, 0);
	assert_int_equal(s->nenv, 2);
	assert_string_equal(s->env[0].name, "EDITOR");
	assert_string_equal(s->env[0].value, "nvim");
	/* a plain number is kept as the text written */
	assert_string_equal(s->env[1].name, "PGPORT");
	assert_string_equal(s->env[1].value, "5433");
	sbx_spec_free(s);
}

static void test_spec__example_carol(void **state)
{
	sbx_spec *s = repo_spec("carol");

	(void)state;
	assert_string_equal(s->name, "carol");
	assert_int_equal(s->nkeys, 1);
	assert_string_equal(s->size, "large");
	assert_q(&s->resources.cpu, s->resources.has_cpu, "12");
	assert_q(&s->resources.memory, s->resources.has_memory, "48Gi");
	assert_q(&s->resources.storage, s->resources.has_storage, "100Gi");
	assert_string_equal(s->image, "registry.example.com/devbox:2026.11-cuda");
	assert_false(s->suspended);
	assert_int_equal(s->nports, 1);
	assert_int_equal(s->ports[0], 8888);
	assert_int_equal(s->nenv, 0);
	sbx_spec_free(s);
}

static void test_spec__suspended_true(void **state)
{
	char *text = sandbox_text("alice", "  suspended: true\n");
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_spec *s = NULL;

	(void)state;
	assert_int_equal(parse(&s, "sandboxes/alice.yaml", text, NULL, &d), 0);
	assert_true(s->suspended);
	sbx_spec_free(s);
	free(text);
	text = sandbox_text("alice", "  suspended: \"true\"\n");
	expect_one("sandboxes/alice.yaml", text, NULL, 8, 14, "'spec.suspended' must be true or false");
	free(text);
}

static void test_spec__idle_suspend_after(void **state)
{
	static const struct { const char *body; int64_t want; } ok[] = {
		{ "", -1 },
		{ "  idle: {suspendAfter: 8h}\n", 8 * 3600 },
		{ "  idle: {suspendAfter: 1h30m}\n", 5400 },
		{ "  idle: {suspendAfter: never}\n", 0 },
	};
	static const struct { const char *body; int col; const char *message; } bad[] = {
		{ "  idle: {suspendAfter: 0}\n", 24, "'spec.idle.suspendAfter' must be a duration from "
		  "1s to 720h, such as \"8h\" or \"45m\", or never" },
		{ "  idle: {suspendAfter: 721h}\n", 24, "'spec.idle.suspendAfter' must be a duration from "
		  "1s to 720h, such as \"8h\" or \"45m\", or never" },
		{ "  idle: {suspendAfter: 2d}\n", 24, "'spec.idle.suspendAfter' must be a duration from "
		  "1s to 720h, such as \"8h\" or \"45m\", or never" },
		{ "  idle: {suspendAfter: [8h]}\n", 24, "'spec.idle.suspendAfter' must be a duration from "
		  "1s to 720h, such as \"8h\" or \"45m\", or never" },
		{ "  idle: {suspendafter: 8h}\n", 10, "unknown field 'suspendafter' in spec.idle (did "
		  "you mean 'suspendAfter'?)" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *text = sandbox_text("alice", ok[i].body);
		sbx_diags d = SBX_DIAGS_INIT;
		sbx_spec *s = NULL;

		assert_int_equal(parse(&s, "sandboxes/alice.yaml", text, NULL, &d), 0);
		assert_int_equal(s->idle_after_s, ok[i].want);
		sbx_spec_free(s);
		free(text);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *text = sandbox_text("alice", bad[i].body);

		expect_one("sandboxes/alice.yaml", text, NULL, 8, bad[i].col, bad[i].message);
		free(text);
	}
}

static void test_spec__unknown_field_hint(void **state)
{
	static const char text[] =
		"apiVersion: sandbox.dev/v1alpha1\n"
		"kind: Sandbox\n"
		"metadata:\n"
		"  name: alice\n"
		"spec:\n"
		"  owner: alice@example.com\n"
		"  sshkey:\n"
		"    - " ALICE_KEY "\n";
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_spec *s = NULL;

	(void)state;
	assert_int_equal(parse(&s, "sandboxes/alice.yaml", text, NULL, &d), SBX_EINVAL);
	assert_int_equal(d.count, 2);
	assert_string_equal(d.items[0].message, "missing required field 'spec.sshKeys' (your public "
			    "key, e.g. the contents of ~/.ssh/id_ed25519.pub)");
	assert_int_equal(d.items[0].line, 6);
	assert_string_equal(d.items[1].message,
			    "unknown field 'sshkey' in spec (did you mean 'sshKeys'?)");
	assert_int_equal(d.items[1].line, 7);
	assert_int_equal(d.items[1].col, 3);
	sbx_diags_dispose(&d);
}

static void test_spec__unknown_field_no_hint(void **state)
{
	char *text = sandbox_text("alice", "  colour: blue\n");

	(void)state;
	expect_one("sandboxes/alice.yaml", text, NULL, 8, 3, "unknown field 'colour' in spec");
	free(text);
	text = sandbox_text("alice", "  resources: {cpu: \"1\", memroy: 1Gi}\n");
	expect_one("sandboxes/alice.yaml", text, NULL, 8, 25,
		   "unknown field 'memroy' in spec.resources (did you mean 'memory'?)");
	free(text);
}

static void test_spec__all_problems_reported(void **state)
{
	static const char text[] =
		"apiVersion: sandbox.dev/v1alpha2\n"
		"kind: Sandbox\n"
		"metadata:\n"
		"  name: Alice\n"
		"spec:\n"
		"  owner: \"\"\n"
		"  sshKeys: []\n"
		"  suspended: maybe\n"
		"  ports: [22, 2222, 70000, 22]\n"
		"  env: {1BAD: x, OK: [1]}\n"
		"  resources: {cpu: -1}\n"
		"  colour: blue\n";
	static const struct { int line, col; const char *message; } want[] = {
		{ 1, 13, "apiVersion must be 'sandbox.dev/v1alpha1', not 'sandbox.dev/v1alpha2'" },
		{ 4, 9, "metadata.name 'Alice' must be a DNS-1123 label: lowercase letters, digits "
			"and '-', starting and ending with a letter or digit" },
		{ 4, 9, "metadata.name 'Alice' must equal the file name 'alice'" },
		{ 6, 10, "'spec.owner' must not be empty" },
		{ 7, 12, "'spec.sshKeys' must list 1 to 10 keys, not 0" },
		{ 8, 14, "'spec.suspended' must be true or false" },
		{ 9, 15, "port 2222 is used by the sandbox's sshd" },
		{ 9, 21, "each entry of 'spec.ports' must be a port number from 1 to 65535" },
		{ 9, 28, "port 22 is listed twice" },
		{ 10, 9, "environment variable name '1BAD' must be at most 128 letters, digits and "
			  "'_', not starting with a digit" },
		{ 10, 22, "spec.env.OK must be a plain value, not a list" },
		{ 11, 20, "'spec.resources.cpu': quantity '-1' must not be negative" },
		{ 12, 3, "unknown field 'colour' in spec" },
	};
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_spec *s = NULL;

	(void)state;
	assert_int_equal(parse(&s, "sandboxes/alice.yaml", text, NULL, &d), SBX_EINVAL);
	assert_null(s);
	if (d.count != sizeof(want) / sizeof(want[0]))
		test_fail_with_diags("count", (int)d.count, &d);
	for (size_t i = 0; i < d.count; i++) {
		assert_string_equal(d.items[i].message, want[i].message);
		assert_int_equal(d.items[i].line, want[i].line);
		assert_int_equal(d.items[i].col, want[i].col);
	}
	sbx_diags_dispose(&d);
}

static void test_spec__name_equals_file_name(void **state)
{
	char *text = sandbox_text("alice", "");
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_spec *s = NULL;

	(void)state;
	expect_one("sandboxes/bob.yaml", text, NULL, 4, 9,
		   "metadata.name 'alice' must equal the file name 'bob'");
	expect_one("sandboxes/alice.yml", text, NULL, 4, 9, "sandbox files must be named NAME.yaml");
	/* any directory, or none */
	assert_int_equal(parse(&s, "alice.yaml", text, NULL, &d), 0);
	assert_string_equal(s->name, "alice");
	sbx_spec_free(s);
	assert_int_equal(parse(&s, "a/b/c/alice.yaml", text, NULL, &d), 0);
	sbx_spec_free(s);
	assert_int_equal(d.count, 0);
	free(text);
}

static void test_spec__reserved_names(void **state)
{
	char *text;

	(void)state;
	assert_true(sbx_spec_name_reserved("default"));
	assert_true(sbx_spec_name_reserved("kube-system"));
	assert_true(sbx_spec_name_reserved("kube-public"));
	assert_false(sbx_spec_name_reserved("alice"));
	assert_false(sbx_spec_name_reserved("kubeflow"));
	assert_false(sbx_spec_name_reserved("defaults"));

	text = sandbox_text("default", "");
	expect_one("sandboxes/default.yaml", text, NULL, 4, 9,
		   "metadata.name 'default' is reserved; pick another name");
	free(text);
	text = sandbox_text("kube-system", "");
	expect_one("sandboxes/kube-system.yaml", text, NULL, 4, 9,
		   "metadata.name 'kube-system' is reserved; pick another name");
	free(text);
}

static void test_spec__name_fits_prefix(void **state)
{
	/* 60 characters: a valid label, too long with "sbx-" in front */
	static const char name[] = "a23456789012345678901234567890123456789012345678901234567890";
	sbx_policy *p = repo_policy();
	char *text = sandbox_text(name, "");
	sbx_buf path = SBX_BUF_INIT;
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_spec *s = NULL;

	(void)state;
	sbx_buf_printf(&path, "sandboxes/%s.yaml", name);
	assert_int_equal(parse(&s, sbx_buf_cstr(&path), text, NULL, &d), 0);
	sbx_spec_free(s);
	expect_one(sbx_buf_cstr(&path), text, p, 4, 9,
		   "metadata.name 'a23456789012345678901234567890123456789012345678901234567890' is "
		   "too long: with the namespace prefix 'sbx-' it must fit in 63 characters (at most "
		   "59 here)");
	sbx_buf_dispose(&path);
	sbx_policy_free(p);
	free(text);
}

static void test_spec__without_policy(void **state)
{
	char *text = sandbox_text("alice", "  size: huge\n  image: evil.example.com/miner:1\n"
				  "  resources: {cpu: \"100\"}\n");
	sbx_policy *p = repo_policy();
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_spec *s = NULL;

	(void)state;
	/* without a policy the size, image and caps are not checked */
	assert_int_equal(parse(&s, "sandboxes/alice.yaml", text, NULL, &d), 0);
	assert_int_equal(d.count, 0);
	assert_string_equal(s->size, "huge");
	assert_string_equal(s->image, "evil.example.com/miner:1");
	assert_q(&s->resources.cpu, s->resources.has_cpu, "100");
	sbx_spec_free(s);
	s = NULL;

	/* with it they are */
	assert_int_equal(parse(&s, "sandboxes/alice.yaml", text, p, &d), SBX_EINVAL);
	assert_null(s);
	assert_int_equal(d.count, 2);
	assert_string_equal(d.items[0].message,
			    "unknown size 'huge'; sizes: small, medium, large");
	assert_int_equal(d.items[0].line, 8);
	assert_string_equal(d.items[1].message, "image 'evil.example.com/miner:1' is not allowed by "
			    "the policy (spec.images.allowed)");
	assert_int_equal(d.items[1].line, 9);
	sbx_diags_dispose(&d);
	sbx_policy_free(p);
	free(text);
}

static void test_spec__policy_caps(void **state)
{
	char *text = sandbox_text("alice", "  resources: {cpu: \"12\"}\n");
	sbx_policy *p = repo_policy();
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_spec *s = NULL;

	(void)state;
	assert_int_equal(parse(&s, "sandboxes/alice.yaml", text, NULL, &d), 0);
	sbx_spec_free(s);
	expect_one("sandboxes/alice.yaml", text, p, 8, 1,
		   "sandbox 'alice' asks for cpu 12, above its cap of 8 (spec.limits.cpu in the "
		   "policy); ask the SRE team for an override");
	free(text);
	text = sandbox_text("alice", "  size: lareg\n");
	expect_one("sandboxes/alice.yaml", text, p, 8, 9,
		   "unknown size 'lareg' (did you mean 'large'?); sizes: small, medium, large");
	free(text);
	sbx_policy_free(p);
}

static void test_spec__rsa_minimum_from_policy(void **state)
{
	sbx_policy *p = repo_policy();
	size_t len;
	char *bob = test_read_repo_file("sandboxes/bob.yaml", &len);
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_spec *s = NULL;

	(void)state;
	/* bob's 3072-bit RSA key passes 3072 and fails 4096 */
	p->min_rsa_bits = 4096;
	assert_int_equal(sbx_spec_parse(&s, "sandboxes/bob.yaml", bob, len, p, &d), SBX_EINVAL);
	assert_null(s);
	assert_int_equal(d.count, 1);
	assert_int_equal(d.items[0].line, 10);
	assert_string_equal(d.items[0].message,
			    "spec.sshKeys[1]: ssh-rsa key has 3072 bits; policy requires at least "
			    "4096; generate a new key with 'ssh-keygen -t ed25519'");
	sbx_diags_dispose(&d);
	sbx_policy_free(p);
	free(bob);
}

static void test_spec__not_a_mapping(void **state)
{
	(void)state;
	expect_one("sandboxes/alice.yaml", "- a\n- b\n", NULL, 1, 1, "a sandbox file must be a "
		   "mapping with apiVersion, kind, metadata and spec");
	expect_one("sandboxes/alice.yaml", "", NULL, 1, 1, "a sandbox file must be a "
		   "mapping with apiVersion, kind, metadata and spec");
}

static void test_spec__yaml_errors_pass_through(void **state)
{
	char *text = sandbox_text("alice", "  size: &s small\n");

	(void)state;
	expect_one("sandboxes/alice.yaml", text, NULL, 8, 9,
		   "anchors and aliases are not allowed ('&s')");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec__example_alice),
		cmocka_unit_test(test_spec__example_bob),
		cmocka_unit_test(test_spec__example_carol),
		cmocka_unit_test(test_spec__suspended_true),
		cmocka_unit_test(test_spec__idle_suspend_after),
		cmocka_unit_test(test_spec__unknown_field_hint),
		cmocka_unit_test(test_spec__unknown_field_no_hint),
		cmocka_unit_test(test_spec__all_problems_reported),
		cmocka_unit_test(test_spec__name_equals_file_name),
		cmocka_unit_test(test_spec__reserved_names),
		cmocka_unit_test(test_spec__name_fits_prefix),
		cmocka_unit_test(test_spec__without_policy),
		cmocka_unit_test(test_spec__policy_caps),
		cmocka_unit_test(test_spec__rsa_minimum_from_policy),
		cmocka_unit_test(test_spec__not_a_mapping),
		cmocka_unit_test(test_spec__yaml_errors_pass_through),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
