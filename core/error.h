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
	/* Kubernetes API outcomes (from the Status object and HTTP code) */
	SBX_EEXIST = -10,        /* AlreadyExists (409) */
	SBX_ECONFLICT = -11,     /* Conflict (409): stale resourceVersion or apply conflict */
	SBX_EGONE = -12,         /* Gone / Expired (410): resourceVersion or continue too old */
	SBX_EFORBIDDEN = -13,    /* Forbidden (403) */
	SBX_EUNAUTHORIZED = -14, /* Unauthorized (401) */
	SBX_EINVALIDOBJ = -15,   /* Invalid / BadRequest (422, 400) */
	SBX_ETOOMANY = -16,      /* TooManyRequests (429) after retries */
	SBX_ETIMEOUT = -17,      /* Timeout (504) or a client-side timeout */
	SBX_ESERVER = -18,       /* 5xx after retries */
	SBX_ETRANSPORT = -19,    /* could not connect, TLS failure, truncated response */
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
