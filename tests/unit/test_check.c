// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for core/check.c: the "did you mean" hint and its distance
 * limits, unknown-field reports, the typed reads (string, map, list,
 * quantity, resources) with their exact messages, and DNS-1123 labels.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "check.h"
#include "diag.h"
#include "error.h"
#include "quantity.h"
#include "yamlfile.h"

#define PATH "sandboxes/alice.yaml"

static const char *const resource_words[] = { "cpu", "memory", "storage", NULL };
static const char *const spec_words[] = { "owner", "sshKeys", "size", "resources", "image",
	"suspended", "ports", "env", NULL };

/* Parse YAML text that must be valid. Caller must sbx_ynode_free. */
static sbx_ynode *yaml(const char *text)
{
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_ynode *n = NULL;

	assert_int_equal(sbx_yaml_load(&n, "test.yaml", text, strlen(text), &d), 0);
	assert_int_equal(d.count, 0);
	assert_non_null(n);
	sbx_diags_dispose(&d);
	return n;
}

/* Assert diagnostic i is exactly PATH:line:col: message. */
static void assert_diag(const sbx_diags *d, size_t i, int line, int col, const char *message)
{
	assert_true(i < d->count);
	assert_string_equal(d->items[i].path, PATH);
	assert_int_equal(d->items[i].line, line);
	assert_int_equal(d->items[i].col, col);
	assert_string_equal(d->items[i].message, message);
}

static void assert_q(const sbx_quantity *q, const char *want)
{
	sbx_buf b = SBX_BUF_INIT;

	sbx_quantity_format(&b, q);
	assert_string_equal(sbx_buf_cstr(&b), want);
	sbx_buf_dispose(&b);
}

static void test_check__suggest_transposition_counts_one(void **state)
{
	(void)state;
	/* Four letters allow one edit: a swap must count as one, not two. */
	assert_string_equal(sbx_check_suggest("szie", spec_words), "size");
	assert_string_equal(sbx_check_suggest("ownre", spec_words), "owner");
	assert_string_equal(sbx_check_suggest("cpu", (const char *const[]){ "pcu", NULL }), "pcu");
	/* Two swaps in a short word are too far. */
	assert_null(sbx_check_suggest("zsei", spec_words));
}

static void test_check__suggest_case_insensitive(void **state)
{
	(void)state;
	assert_string_equal(sbx_check_suggest("SSHKEYS", spec_words), "sshKeys");
	assert_string_equal(sbx_check_suggest("sshkeys", spec_words), "sshKeys");
	assert_string_equal(sbx_check_suggest("sshkey", spec_words), "sshKeys");
	assert_string_equal(sbx_check_suggest("CPU", resource_words), "cpu");
	assert_string_equal(sbx_check_suggest("Memroy", resource_words), "memory");
}

static void test_check__suggest_too_far(void **state)
{
	(void)state;
	/* Up to 4 characters: 1 edit. */
	assert_string_equal(sbx_check_suggest("sixe", spec_words), "size");
	assert_null(sbx_check_suggest("sxxe", spec_words));
	assert_null(sbx_check_suggest("zzzz", spec_words));
	/* 5 to 8 characters: 2 edits. */
	assert_string_equal(sbx_check_suggest("memry", resource_words), "memory");
	assert_string_equal(sbx_check_suggest("mamry", resource_words), "memory");
	assert_null(sbx_check_suggest("mxxxry", resource_words));
	assert_null(sbx_check_suggest("hostname", spec_words));
	/* Nothing to suggest from. */
	assert_null(sbx_check_suggest("cpu", (const char *const[]){ NULL }));
}

static void test_check__suggest_long_words(void **state)
{
	static const char *const policy_words[] = { "namespacePrefix", "defaultSize", "sizes",
		"limits", "overrides", "budget", "images", "ssh", "deletion", NULL };
	char known64[65], typo64[65], known65[66], typo65[66];
	const char *const long64[] = { known64, NULL };
	const char *const long65[] = { known65, NULL };

	(void)state;
	/* 9 characters and more: 3 edits. */
	assert_string_equal(sbx_check_suggest("nmespacPrefx", policy_words), "namespacePrefix");
	assert_null(sbx_check_suggest("nmespcPrefx", policy_words));
	assert_string_equal(sbx_check_suggest("overides", policy_words), "overrides");
	assert_string_equal(sbx_check_suggest("defaultsize", policy_words), "defaultSize");

	/* Words up to 64 characters are compared; longer ones never match. */
	memset(known64, 'a', 64);
	known64[64] = '\0';
	memcpy(typo64, known64, sizeof(typo64));
	typo64[10] = 'b';
	assert_ptr_equal(sbx_check_suggest(typo64, long64), known64);

	memset(known65, 'a', 65);
	known65[65] = '\0';
	memcpy(typo65, known65, sizeof(typo65));
	typo65[10] = 'b';
	assert_null(sbx_check_suggest(typo65, long65));
	assert_null(sbx_check_suggest("a", long65));
}

static void test_check__suggest_closest_wins(void **state)
{
	static const char *const words[] = { "abcdef", "abcdex", "abcdxx", NULL };
	static const char *const tie[] = { "first", "firsu", NULL };

	(void)state;
	assert_string_equal(sbx_check_suggest("abcdxx", words), "abcdxx");
	assert_string_equal(sbx_check_suggest("abcdez", words), "abcdef");
	/* Equal distances: the first word of the list wins. */
	assert_string_equal(sbx_check_suggest("firsz", tie), "first");
}

static void test_check__known_fields_reports_each(void **state)
{
	sbx_ynode *n = yaml("cpu: 1\nmemroy: 2Gi\nbogus: x\nstorage: 1Gi\nStorage: 2Gi\n");
	sbx_diags d = SBX_DIAGS_INIT;

	(void)state;
	assert_int_equal(sbx_check_known_fields(&d, PATH, n, "spec.resources", resource_words),
			 SBX_EINVAL);
	assert_int_equal(d.count, 3);
	assert_diag(&d, 0, 2, 1, "unknown field 'memroy' in spec.resources (did you mean 'memory'?)");
	assert_diag(&d, 1, 3, 1, "unknown field 'bogus' in spec.resources");
	assert_diag(&d, 2, 5, 1, "unknown field 'Storage' in spec.resources (did you mean 'storage'?)");
	sbx_diags_dispose(&d);
	sbx_ynode_free(n);
}

static void test_check__known_fields_clean(void **state)
{
	sbx_ynode *ok = yaml("spec:\n  cpu: 1\n  memory: 2Gi\n");
	sbx_ynode *list = yaml("- bogus\n- other\n");
	sbx_diags d = SBX_DIAGS_INIT;

	(void)state;
	assert_int_equal(sbx_check_known_fields(&d, PATH, sbx_ynode_get(ok, "spec"), "spec",
						resource_words), 0);
	/* Not a mapping, or absent: nothing to report here. */
	assert_int_equal(sbx_check_known_fields(&d, PATH, list, "spec", resource_words), 0);
	assert_int_equal(sbx_check_known_fields(&d, PATH, NULL, "spec", resource_words), 0);
	assert_int_equal(d.count, 0);
	sbx_ynode_free(ok);
	sbx_ynode_free(list);
}

static void test_check__string_values(void **state)
{
	sbx_ynode *n = yaml("ok: hello\n"
			    "tab: \"a\\tb\"\n"
			    "newline: \"a\\nb\"\n"
			    "del: \"a\\x7fb\"\n"
			    "empty: \"\"\n"
			    "word: plain\n"
			    "nothing: ~\n"
			    "list: [a]\n"
			    "map: {a: b}\n"
			    "nul: \"a\\0b\"\n");
	sbx_diags d = SBX_DIAGS_INIT;

	(void)state;
	assert_int_equal(sbx_check_string(&d, PATH, sbx_ynode_get(n, "ok"), n, "spec.ok", true), 0);
	assert_int_equal(sbx_check_string(&d, PATH, sbx_ynode_get(n, "word"), n, "spec.w", true), 0);
	assert_int_equal(sbx_check_string(&d, PATH, sbx_ynode_get(n, "empty"), n, "spec.e", false), 0);
	assert_int_equal(d.count, 0);

	assert_int_equal(sbx_check_string(&d, PATH, sbx_ynode_get(n, "tab"), n, "spec.tab", true),
			 SBX_EINVAL);
	assert_int_equal(sbx_check_string(&d, PATH, sbx_ynode_get(n, "newline"), n, "spec.nl", false),
			 SBX_EINVAL);
	assert_int_equal(sbx_check_string(&d, PATH, sbx_ynode_get(n, "del"), n, "spec.del", true),
			 SBX_EINVAL);
	assert_int_equal(sbx_check_string(&d, PATH, sbx_ynode_get(n, "empty"), n, "spec.e", true),
			 SBX_EINVAL);
	assert_int_equal(sbx_check_string(&d, PATH, sbx_ynode_get(n, "nothing"), n, "spec.x", false),
			 SBX_EINVAL);
	assert_int_equal(sbx_check_string(&d, PATH, sbx_ynode_get(n, "list"), n, "spec.l", true),
			 SBX_EINVAL);
	assert_int_equal(sbx_check_string(&d, PATH, sbx_ynode_get(n, "map"), n, "spec.m", true),
			 SBX_EINVAL);
	assert_int_equal(sbx_check_string(&d, PATH, sbx_ynode_get(n, "nul"), n, "spec.nul", true),
			 SBX_EINVAL);
	assert_int_equal(d.count, 8);
	assert_diag(&d, 0, 2, 6, "'spec.tab' must not contain control characters or line breaks");
	assert_diag(&d, 1, 3, 10, "'spec.nl' must not contain control characters or line breaks");
	assert_diag(&d, 2, 4, 6, "'spec.del' must not contain control characters or line breaks");
	assert_diag(&d, 3, 5, 8, "'spec.e' must not be empty");
	assert_diag(&d, 4, 7, 10, "'spec.x' must be a string, not null");
	assert_diag(&d, 5, 8, 7, "'spec.l' must be a string, not a list");
	assert_diag(&d, 6, 9, 6, "'spec.m' must be a string, not a mapping");
	assert_diag(&d, 7, 10, 6, "'spec.nul' must not contain NUL characters");
	sbx_diags_dispose(&d);
	sbx_ynode_free(n);
}

static void test_check__string_missing(void **state)
{
	sbx_ynode *n = yaml("metadata:\n  spec:\n    other: 1\n");
	const sbx_ynode *spec = sbx_ynode_get(sbx_ynode_get(n, "metadata"), "spec");
	sbx_diags d = SBX_DIAGS_INIT;

	(void)state;
	assert_int_equal(sbx_check_string(&d, PATH, NULL, spec, "spec.owner", false), 0);
	assert_int_equal(d.count, 0);
	/* Reported at the parent mapping, or at 1:1 without one. */
	assert_int_equal(sbx_check_string(&d, PATH, NULL, spec, "spec.owner", true), SBX_EINVAL);
	assert_int_equal(sbx_check_string(&d, PATH, NULL, NULL, "metadata", true), SBX_EINVAL);
	assert_int_equal(d.count, 2);
	assert_diag(&d, 0, 3, 5, "missing required field 'spec.owner'");
	assert_diag(&d, 1, 1, 1, "missing required field 'metadata'");
	sbx_diags_dispose(&d);
	sbx_ynode_free(n);
}

static void test_check__map_and_seq(void **state)
{
	sbx_ynode *n = yaml("m: {a: 1}\ns: [1, 2]\nstr: text\n");
	sbx_diags d = SBX_DIAGS_INIT;

	(void)state;
	assert_int_equal(sbx_check_map(&d, PATH, sbx_ynode_get(n, "m"), n, "spec.m"), 0);
	assert_int_equal(sbx_check_seq(&d, PATH, sbx_ynode_get(n, "s"), "spec.s"), 0);
	assert_int_equal(d.count, 0);

	assert_int_equal(sbx_check_map(&d, PATH, NULL, n, "spec"), SBX_EINVAL);
	assert_int_equal(sbx_check_map(&d, PATH, sbx_ynode_get(n, "s"), n, "spec.s"), SBX_EINVAL);
	assert_int_equal(sbx_check_map(&d, PATH, sbx_ynode_get(n, "str"), n, "spec.str"), SBX_EINVAL);
	assert_int_equal(sbx_check_seq(&d, PATH, sbx_ynode_get(n, "m"), "spec.m"), SBX_EINVAL);
	assert_int_equal(sbx_check_seq(&d, PATH, sbx_ynode_get(n, "str"), "spec.str"), SBX_EINVAL);
	assert_int_equal(d.count, 5);
	assert_diag(&d, 0, 1, 1, "missing required field 'spec'");
	assert_diag(&d, 1, 2, 4, "'spec.s' must be a mapping, not a list");
	assert_diag(&d, 2, 3, 6, "'spec.str' must be a mapping, not a string");
	assert_diag(&d, 3, 1, 4, "'spec.m' must be a list, not a mapping");
	assert_diag(&d, 4, 3, 6, "'spec.str' must be a list, not a string");
	sbx_diags_dispose(&d);
	sbx_ynode_free(n);
}

static void test_check__quantity(void **state)
{
	sbx_ynode *n = yaml("a: \"500m\"\nb: 2\nc: 1.5\nd: 4Gi\n"
			    "neg: \"-1\"\nnegi: -2Gi\nbad: lots\nflag: true\nlist: [1]\nnothing: ~\n");
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_quantity q = { 0 }, untouched = { 77, 0, SBX_QUANTITY_DECIMAL_SI };

	(void)state;
	assert_int_equal(sbx_check_quantity(&d, PATH, sbx_ynode_get(n, "a"), "f", &q), 0);
	assert_q(&q, "500m");
	assert_int_equal(sbx_check_quantity(&d, PATH, sbx_ynode_get(n, "b"), "f", &q), 0);
	assert_q(&q, "2");
	assert_int_equal(sbx_check_quantity(&d, PATH, sbx_ynode_get(n, "c"), "f", &q), 0);
	assert_q(&q, "1500m");
	assert_int_equal(sbx_check_quantity(&d, PATH, sbx_ynode_get(n, "d"), "f", &q), 0);
	assert_q(&q, "4Gi");
	assert_int_equal(d.count, 0);

	q = untouched;
	assert_int_equal(sbx_check_quantity(&d, PATH, sbx_ynode_get(n, "neg"), "spec.cpu", &q),
			 SBX_EINVAL);
	assert_int_equal(sbx_check_quantity(&d, PATH, sbx_ynode_get(n, "negi"), "spec.memory", &q),
			 SBX_EINVAL);
	assert_int_equal(q.unscaled, 77);
	assert_int_equal(sbx_check_quantity(&d, PATH, sbx_ynode_get(n, "bad"), "spec.x", &q),
			 SBX_EINVAL);
	assert_int_equal(sbx_check_quantity(&d, PATH, sbx_ynode_get(n, "flag"), "spec.y", &q),
			 SBX_EINVAL);
	assert_int_equal(sbx_check_quantity(&d, PATH, sbx_ynode_get(n, "list"), "spec.z", &q),
			 SBX_EINVAL);
	assert_int_equal(sbx_check_quantity(&d, PATH, sbx_ynode_get(n, "nothing"), "spec.w", &q),
			 SBX_EINVAL);
	assert_int_equal(d.count, 6);
	assert_diag(&d, 0, 5, 6, "'spec.cpu': quantity '-1' must not be negative");
	assert_diag(&d, 1, 6, 7, "'spec.memory': quantity '-2Gi' must not be negative");
	assert_diag(&d, 2, 7, 6, "'spec.x': quantity 'lots' is not a number with an optional "
		    "suffix; write it like 500m, 2, 4Gi or 1e3");
	assert_diag(&d, 3, 8, 7, "'spec.y' must be a quantity such as \"2\", \"500m\" or \"4Gi\", "
		    "not a boolean");
	assert_diag(&d, 4, 9, 7, "'spec.z' must be a quantity such as \"2\", \"500m\" or \"4Gi\", "
		    "not a list");
	assert_diag(&d, 5, 10, 10, "'spec.w' must be a quantity such as \"2\", \"500m\" or \"4Gi\", "
		    "not null");
	sbx_diags_dispose(&d);
	sbx_ynode_free(n);
}

static void test_check__resources_required(void **state)
{
	sbx_ynode *n = yaml("small: {cpu: \"1\", memory: 2Gi, storage: 10Gi}\n"
			    "partial:\n  cpu: \"2\"\n");
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_resources r = { 0 };

	(void)state;
	assert_int_equal(sbx_check_resources(&d, PATH, sbx_ynode_get(n, "small"), "spec.sizes.small",
					     true, &r), 0);
	assert_int_equal(d.count, 0);
	assert_true(r.has_cpu && r.has_memory && r.has_storage);
	assert_q(&r.cpu, "1");
	assert_q(&r.memory, "2Gi");
	assert_q(&r.storage, "10Gi");
	assert_int_equal(r.line_cpu, 1);
	assert_int_equal(r.line_storage, 1);

	memset(&r, 0, sizeof(r));
	assert_int_equal(sbx_check_resources(&d, PATH, sbx_ynode_get(n, "partial"),
					     "spec.sizes.partial", true, &r), SBX_EINVAL);
	assert_true(r.has_cpu);
	assert_false(r.has_memory);
	assert_false(r.has_storage);
	assert_int_equal(r.line_cpu, 3);
	assert_int_equal(d.count, 2);
	/* At the resources mapping itself. */
	assert_diag(&d, 0, 3, 3, "missing required field 'spec.sizes.partial.memory'");
	assert_diag(&d, 1, 3, 3, "missing required field 'spec.sizes.partial.storage'");
	sbx_diags_dispose(&d);
	sbx_ynode_free(n);
}

static void test_check__resources_optional(void **state)
{
	sbx_ynode *n = yaml("resources:\n  memory: 6Gi\n"
			    "bad:\n  cpu: \"-1\"\n  memroy: 2Gi\n  storage: 5Gi\n"
			    "scalar: 4Gi\n");
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_resources r = { 0 };

	(void)state;
	assert_int_equal(sbx_check_resources(&d, PATH, sbx_ynode_get(n, "resources"),
					     "spec.resources", false, &r), 0);
	assert_int_equal(d.count, 0);
	assert_false(r.has_cpu);
	assert_true(r.has_memory);
	assert_false(r.has_storage);
	assert_q(&r.memory, "6Gi");
	assert_int_equal(r.line_memory, 2);
	assert_int_equal(r.line_cpu, 0);

	memset(&r, 0, sizeof(r));
	assert_int_equal(sbx_check_resources(&d, PATH, sbx_ynode_get(n, "bad"), "spec.resources",
					     false, &r), SBX_EINVAL);
	/* The bad figure is left unset; the good one is still read. */
	assert_false(r.has_cpu);
	assert_false(r.has_memory);
	assert_true(r.has_storage);
	assert_int_equal(r.line_storage, 6);
	assert_int_equal(sbx_check_resources(&d, PATH, sbx_ynode_get(n, "scalar"), "spec.limits",
					     false, &r), SBX_EINVAL);
	assert_int_equal(d.count, 3);
	assert_diag(&d, 0, 5, 3, "unknown field 'memroy' in spec.resources (did you mean 'memory'?)");
	assert_diag(&d, 1, 4, 8, "'spec.resources.cpu': quantity '-1' must not be negative");
	assert_diag(&d, 2, 7, 9, "'spec.limits' must be a mapping with cpu, memory and storage, "
		    "not a string");
	sbx_diags_dispose(&d);
	sbx_ynode_free(n);
}

static void test_check__error_position(void **state)
{
	sbx_ynode *n = yaml("a:\n  b: x\n");
	sbx_diags d = SBX_DIAGS_INIT;

	(void)state;
	assert_int_equal(sbx_check_error(&d, PATH, sbx_ynode_get(sbx_ynode_get(n, "a"), "b"),
					 "value '%s' is %d", "x", 7), SBX_EINVAL);
	assert_int_equal(sbx_check_error(&d, PATH, NULL, "whole file"), SBX_EINVAL);
	assert_int_equal(d.count, 2);
	assert_diag(&d, 0, 2, 6, "value 'x' is 7");
	assert_diag(&d, 1, 1, 1, "whole file");
	sbx_diags_dispose(&d);
	sbx_ynode_free(n);
}

static void test_check__dns_label(void **state)
{
	char label[70];

	(void)state;
	assert_true(sbx_is_dns_label("alice", 63));
	assert_true(sbx_is_dns_label("a", 63));
	assert_true(sbx_is_dns_label("sbx-alice-2", 63));
	assert_true(sbx_is_dns_label("a--b", 63));
	assert_true(sbx_is_dns_label("0", 63));
	assert_true(sbx_is_dns_label("12345", 63));
	assert_true(sbx_is_dns_label("9lives", 63));

	assert_false(sbx_is_dns_label("", 63));
	assert_false(sbx_is_dns_label("-", 63));
	assert_false(sbx_is_dns_label("-alice", 63));
	assert_false(sbx_is_dns_label("alice-", 63));
	assert_false(sbx_is_dns_label("Alice", 63));
	assert_false(sbx_is_dns_label("aliCe", 63));
	assert_false(sbx_is_dns_label("al_ice", 63));
	assert_false(sbx_is_dns_label("al.ice", 63));
	assert_false(sbx_is_dns_label("al ice", 63));
	assert_false(sbx_is_dns_label("caf\xc3\xa9", 63));

	memset(label, 'a', sizeof(label));
	label[63] = '\0';
	assert_true(sbx_is_dns_label(label, 63));
	label[62] = '-';
	assert_false(sbx_is_dns_label(label, 63));
	label[62] = 'a';
	label[63] = 'a';
	label[64] = '\0';
	assert_false(sbx_is_dns_label(label, 63));
	assert_true(sbx_is_dns_label(label, 64));
	/* A smaller maximum, as for a name that must fit after a prefix. */
	assert_true(sbx_is_dns_label("abcd", 4));
	assert_false(sbx_is_dns_label("abcde", 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check__suggest_transposition_counts_one),
		cmocka_unit_test(test_check__suggest_case_insensitive),
		cmocka_unit_test(test_check__suggest_too_far),
		cmocka_unit_test(test_check__suggest_long_words),
		cmocka_unit_test(test_check__suggest_closest_wins),
		cmocka_unit_test(test_check__known_fields_reports_each),
		cmocka_unit_test(test_check__known_fields_clean),
		cmocka_unit_test(test_check__string_values),
		cmocka_unit_test(test_check__string_missing),
		cmocka_unit_test(test_check__map_and_seq),
		cmocka_unit_test(test_check__quantity),
		cmocka_unit_test(test_check__resources_required),
		cmocka_unit_test(test_check__resources_optional),
		cmocka_unit_test(test_check__error_position),
		cmocka_unit_test(test_check__dns_label),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
