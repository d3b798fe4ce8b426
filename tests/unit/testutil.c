// SPDX-License-Identifier: Apache-2.0
/*
 * Shared unit-test helpers: test data location, repository files,
 * diagnostics on failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "buf.h"
#include "testutil.h"

const char *test_data_dir(void)
{
	const char *d = getenv("SBX_TEST_DATA");

	return d && d[0] ? d : "tests/data";
}

char *test_read_repo_file(const char *rel, size_t *len)
{
	sbx_buf path = SBX_BUF_INIT, b = SBX_BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f;
	char *s;

	sbx_buf_printf(&path, "%s/../../%s", test_data_dir(), rel);
	f = fopen(sbx_buf_cstr(&path), "rb");
	if (!f)
		fail_msg("cannot open '%s'; set SBX_TEST_DATA to the tests/data directory",
			 sbx_buf_cstr(&path));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(sbx_buf_put(&b, chunk, n), 0);
	fclose(f);
	sbx_buf_dispose(&path);
	s = sbx_buf_take(&b, len);
	assert_non_null(s);
	return s;
}

void test_fail_with_diags(const char *what, int r, const sbx_diags *d)
{
	sbx_buf b = SBX_BUF_INIT;

	sbx_diags_format(&b, d);
	fail_msg("%s failed (%d):\n%s", what, r, sbx_buf_cstr(&b));
}
