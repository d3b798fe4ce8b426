/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers the unit tests share: where the test data is, reading a file of
 * the repository, failing with formatted diagnostics.
 */
#ifndef SBX_TESTUTIL_H
#define SBX_TESTUTIL_H

#include <stddef.h>

#include "diag.h"

/* $SBX_TEST_DATA, else "tests/data". Static or environment string. */
const char *test_data_dir(void);

/* A file of the repository (path relative to its root), whole; fails the
 * test when it cannot be read. Caller must free. */
char *test_read_repo_file(const char *rel, size_t *len);

/* Fail the test, showing every diagnostic. */
void test_fail_with_diags(const char *what, int r, const sbx_diags *d);

#endif
