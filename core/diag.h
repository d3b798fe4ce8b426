/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Located diagnostics: every problem found in an input, reported as
 * `PATH:LINE:COL: error: MESSAGE`. Validators append to an sbx_diags list
 * instead of stopping at the first problem.
 */
#ifndef SBX_DIAG_H
#define SBX_DIAG_H

#include <stddef.h>

#include "buf.h"

typedef struct sbx_diag {
	char *path;     /* file the problem is in, as given by the caller */
	int line;       /* 1-based; 0 when the problem is about the whole file */
	int col;        /* 1-based; 0 when unknown */
	char *message;  /* lowercase, no trailing period */
	size_t seq;     /* insertion order, keeps sorting stable */
} sbx_diag;

typedef struct sbx_diags {
	sbx_diag *items;
	size_t count;
	size_t cap;
	int oom;        /* an append failed: the list is incomplete */
} sbx_diags;

#define SBX_DIAGS_INIT { NULL, 0, 0, 0 }

/* Append one error at path:line:col (printf-style message). Copies the
 * strings. Always returns SBX_EINVAL, so validators can `return sbx_diag_add()`. */
int sbx_diag_add(sbx_diags *d, const char *path, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Sort by path, then line, then column (stable for equal positions). */
void sbx_diags_sort(sbx_diags *d);

/* Append every diagnostic as `PATH:LINE:COL: error: MESSAGE\n` to out
 * (`PATH: error: MESSAGE` when line is 0). */
int sbx_diags_format(sbx_buf *out, const sbx_diags *d);

/* Free the contents; the list is empty and reusable afterwards. */
void sbx_diags_dispose(sbx_diags *d);

#endif
