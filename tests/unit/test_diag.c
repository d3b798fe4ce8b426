// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for core/diag.c: appending located errors, the two output
 * forms (`PATH:LINE:COL: error: MSG` and `PATH: error: MSG`), the stable
 * sort by position and the out-of-memory note.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "diag.h"
#include "error.h"

/* Format d and compare the whole output. */
static void assert_format(const sbx_diags *d, const char *want)
{
	sbx_buf b = SBX_BUF_INIT;

	assert_int_equal(sbx_diags_format(&b, d), 0);
	assert_string_equal(sbx_buf_cstr(&b), want);
	sbx_buf_dispose(&b);
}

static void test_diag__add_copies(void **state)
{
	sbx_diags d = SBX_DIAGS_INIT;
	char path[] = "sandboxes/alice.yaml";
	char word[] = "sshkey";

	(void)state;
	assert_int_equal(sbx_diag_add(&d, path, 10, 3, "unknown field '%s' in %s", word, "spec"),
			 SBX_EINVAL);
	/* The list keeps its own copies. */
	path[0] = 'X';
	word[0] = 'X';
	assert_int_equal(d.count, 1);
	assert_string_equal(d.items[0].path, "sandboxes/alice.yaml");
	assert_string_equal(d.items[0].message, "unknown field 'sshkey' in spec");
	assert_int_equal(d.items[0].line, 10);
	assert_int_equal(d.items[0].col, 3);
	assert_int_equal(d.items[0].seq, 0);
	assert_int_equal(d.oom, 0);

	/* A NULL path becomes "". */
	assert_int_equal(sbx_diag_add(&d, NULL, 0, 0, "no path"), SBX_EINVAL);
	assert_string_equal(d.items[1].path, "");
	assert_int_equal(d.items[1].seq, 1);
	sbx_diags_dispose(&d);
}

static void test_diag__grows_and_reuses(void **state)
{
	sbx_diags d = SBX_DIAGS_INIT;

	(void)state;
	for (int i = 0; i < 100; i++)
		sbx_diag_add(&d, "f.yaml", i + 1, 1, "problem %d", i);
	assert_int_equal(d.count, 100);
	assert_true(d.cap >= 100);
	for (size_t i = 0; i < d.count; i++) {
		assert_int_equal(d.items[i].line, (int)i + 1);
		assert_int_equal(d.items[i].seq, i);
	}
	assert_string_equal(d.items[99].message, "problem 99");

	sbx_diags_dispose(&d);
	assert_null(d.items);
	assert_int_equal(d.count, 0);
	assert_int_equal(d.cap, 0);
	assert_int_equal(d.oom, 0);
	sbx_diag_add(&d, "g.yaml", 1, 1, "again");
	assert_int_equal(d.count, 1);
	assert_int_equal(d.items[0].seq, 0);
	sbx_diags_dispose(&d);
	/* Disposing an empty list twice is harmless. */
	sbx_diags_dispose(&d);
}

static void test_diag__format_located(void **state)
{
	sbx_diags d = SBX_DIAGS_INIT;

	(void)state;
	sbx_diag_add(&d, "sandboxes/alice.yaml", 10, 3, "unknown field 'sshkey' in spec");
	/* A known line without a column prints column 1. */
	sbx_diag_add(&d, "sandboxes/bob.yaml", 7, 0, "'spec.size' must be a string, not a list");
	assert_format(&d, "sandboxes/alice.yaml:10:3: error: unknown field 'sshkey' in spec\n"
			  "sandboxes/bob.yaml:7:1: error: 'spec.size' must be a string, not a list\n");
	sbx_diags_dispose(&d);
}

static void test_diag__format_whole_file(void **state)
{
	sbx_diags d = SBX_DIAGS_INIT;

	(void)state;
	sbx_diag_add(&d, "templates/policy.yaml", 0, 0, "the policy file is missing");
	sbx_diag_add(&d, "sandboxes/x.yml", 0, 5, "files must end in .yaml");
	sbx_diag_add(&d, "", 0, 0, "no path");
	assert_format(&d, "templates/policy.yaml: error: the policy file is missing\n"
			  "sandboxes/x.yml: error: files must end in .yaml\n"
			  ": error: no path\n");
	sbx_diags_dispose(&d);
}

static void test_diag__format_appends(void **state)
{
	sbx_diags d = SBX_DIAGS_INIT, empty = SBX_DIAGS_INIT;
	sbx_buf b = SBX_BUF_INIT;

	(void)state;
	sbx_buf_puts(&b, "lint:\n");
	assert_int_equal(sbx_diags_format(&b, &empty), 0);
	assert_string_equal(sbx_buf_cstr(&b), "lint:\n");
	sbx_diag_add(&d, "a.yaml", 1, 2, "m");
	assert_int_equal(sbx_diags_format(&b, &d), 0);
	assert_string_equal(sbx_buf_cstr(&b), "lint:\na.yaml:1:2: error: m\n");
	sbx_buf_dispose(&b);
	sbx_diags_dispose(&d);
}

static void test_diag__format_buffer_full(void **state)
{
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_buf b;

	(void)state;
	sbx_buf_init(&b, 16);
	sbx_diag_add(&d, "sandboxes/alice.yaml", 1, 1, "a message longer than the buffer allows");
	assert_int_equal(sbx_diags_format(&b, &d), SBX_ENOMEM);
	assert_true(b.failed);
	sbx_buf_dispose(&b);
	sbx_diags_dispose(&d);
}

static void test_diag__format_oom_line(void **state)
{
	sbx_diags d = SBX_DIAGS_INIT;

	(void)state;
	sbx_diag_add(&d, "a.yaml", 2, 1, "first");
	d.oom = 1;
	assert_format(&d, "a.yaml:2:1: error: first\n"
			  "error: out of memory: some problems are not listed\n");
	sbx_diags_dispose(&d);
	assert_int_equal(d.oom, 0);

	/* Even with nothing listed, the note says the list is incomplete. */
	d.oom = 1;
	assert_format(&d, "error: out of memory: some problems are not listed\n");
	sbx_diags_dispose(&d);
}

static void test_diag__sort_by_position(void **state)
{
	sbx_diags d = SBX_DIAGS_INIT;

	(void)state;
	sbx_diag_add(&d, "sandboxes/bob.yaml", 3, 1, "b3");
	sbx_diag_add(&d, "sandboxes/alice.yaml", 10, 3, "a10:3");
	sbx_diag_add(&d, "sandboxes/alice.yaml", 2, 7, "a2:7");
	sbx_diag_add(&d, "sandboxes/alice.yaml", 10, 1, "a10:1");
	sbx_diag_add(&d, "sandboxes/alice.yaml", 0, 0, "a-file");
	sbx_diag_add(&d, "sandboxes/alice.yaml", 9, 20, "a9:20");
	sbx_diag_add(&d, "sandboxes/bob.yaml", 1, 1, "b1");
	sbx_diag_add(&d, "sandboxes/alice.yaml", 2, 10, "a2:10");
	sbx_diags_sort(&d);
	assert_format(&d, "sandboxes/alice.yaml: error: a-file\n"
			  "sandboxes/alice.yaml:2:7: error: a2:7\n"
			  "sandboxes/alice.yaml:2:10: error: a2:10\n"
			  "sandboxes/alice.yaml:9:20: error: a9:20\n"
			  "sandboxes/alice.yaml:10:1: error: a10:1\n"
			  "sandboxes/alice.yaml:10:3: error: a10:3\n"
			  "sandboxes/bob.yaml:1:1: error: b1\n"
			  "sandboxes/bob.yaml:3:1: error: b3\n");
	sbx_diags_dispose(&d);
}

static void test_diag__sort_stable(void **state)
{
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_buf want = SBX_BUF_INIT;

	(void)state;
	/* Many problems at one position, mixed with others: qsort alone is
	 * not stable, the insertion order must be kept. */
	for (int i = 0; i < 40; i++) {
		sbx_diag_add(&d, "z.yaml", 1, 1, "z%d", i);
		sbx_diag_add(&d, "a.yaml", 5, 2, "same %02d", i);
		sbx_diag_add(&d, "a.yaml", 0, 0, "file %02d", i);
	}
	sbx_diags_sort(&d);
	for (int i = 0; i < 40; i++)
		sbx_buf_printf(&want, "a.yaml: error: file %02d\n", i);
	for (int i = 0; i < 40; i++)
		sbx_buf_printf(&want, "a.yaml:5:2: error: same %02d\n", i);
	for (int i = 0; i < 40; i++)
		sbx_buf_printf(&want, "z.yaml:1:1: error: z%d\n", i);
	assert_format(&d, sbx_buf_cstr(&want));

	/* Sorting again, or after more appends, keeps the order. */
	sbx_diags_sort(&d);
	assert_format(&d, sbx_buf_cstr(&want));
	sbx_diag_add(&d, "a.yaml", 5, 2, "same 40");
	sbx_diags_sort(&d);
	assert_string_equal(d.items[80].message, "same 40");
	assert_string_equal(d.items[81].message, "z0");
	sbx_buf_dispose(&want);
	sbx_diags_dispose(&d);
}

static void test_diag__sort_small(void **state)
{
	sbx_diags d = SBX_DIAGS_INIT;

	(void)state;
	sbx_diags_sort(&d);
	assert_int_equal(d.count, 0);
	sbx_diag_add(&d, "a.yaml", 1, 1, "only");
	sbx_diags_sort(&d);
	assert_format(&d, "a.yaml:1:1: error: only\n");
	sbx_diags_dispose(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diag__add_copies),
		cmocka_unit_test(test_diag__grows_and_reuses),
		cmocka_unit_test(test_diag__format_located),
		cmocka_unit_test(test_diag__format_whole_file),
		cmocka_unit_test(test_diag__format_appends),
		cmocka_unit_test(test_diag__format_buffer_full),
		cmocka_unit_test(test_diag__format_oom_line),
		cmocka_unit_test(test_diag__sort_by_position),
		cmocka_unit_test(test_diag__sort_stable),
		cmocka_unit_test(test_diag__sort_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
