/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Error codes and the per-thread "last error" every core function reports
 * through. A failing function returns a negative SBX_E* code and leaves the
 * detail here; the program reports it once, at its boundary.
 */
#ifndef SBX_ERROR_H
#define SBX_ERROR_H

enum {
	SBX_OK = 0,
	SBX_ENOMEM = -1,   /* out of memory */
	SBX_EINVAL = -2,   /* invalid input (details in diagnostics or last error) */
	SBX_EIO = -3,      /* reading or writing a file failed */
	SBX_ENOTFOUND = -4,/* a named thing does not exist */
	SBX_ERANGE = -5,   /* a value is out of the allowed range */
	SBX_EUSAGE = -6,   /* a caller passed arguments that make no sense */
};

/* Record the detail of the current failure (printf-style). The first
 * message since the last sbx_error_clear() wins, so the deepest cause is
 * kept. Returns `code` so callers can write `return sbx_error_set(...)`. */
int sbx_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The last recorded message, or "" when none. Borrowed; valid until the next
 * sbx_error_set() or sbx_error_clear() on this thread. */
const char *sbx_error_last(void);

/* Forget the last error. */
void sbx_error_clear(void);

/* A short name for an SBX_E* code ("out of memory", ...). Static string. */
const char *sbx_error_name(int code);

#endif
