/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one growable byte buffer: a hard maximum, always NUL-terminated, a
 * sticky failure flag (out of memory or over the maximum), and _take to hand
 * the memory over. Modelled on curl's dynbuf.
 */
#ifndef SBX_BUF_H
#define SBX_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct sbx_buf {
	char *ptr;     /* NUL-terminated contents, or NULL while empty */
	size_t len;    /* bytes used, not counting the NUL */
	size_t cap;    /* bytes allocated */
	size_t max;    /* hard maximum of len */
	bool failed;   /* sticky: an append ran out of memory or past max */
} sbx_buf;

#define SBX_BUF_DEFAULT_MAX ((size_t)64 << 20)
#define SBX_BUF_INIT { NULL, 0, 0, SBX_BUF_DEFAULT_MAX, false }

/* Start an empty buffer that refuses to grow past `max` bytes. */
void sbx_buf_init(sbx_buf *b, size_t max);

/* Append bytes / a string / formatted text. Return 0, or SBX_ENOMEM when the
 * buffer failed now or earlier (then the contents are unchanged since). */
int sbx_buf_put(sbx_buf *b, const void *data, size_t len);
int sbx_buf_puts(sbx_buf *b, const char *s);
int sbx_buf_putc(sbx_buf *b, char c);
int sbx_buf_printf(sbx_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sbx_buf_vprintf(sbx_buf *b, const char *fmt, va_list ap);

/* The contents as a string: "" when empty. Borrowed; valid until the next
 * append or dispose. */
const char *sbx_buf_cstr(const sbx_buf *b);

/* Empty the buffer, keeping its memory. */
void sbx_buf_clear(sbx_buf *b);

/* Hand the contents over: returns a malloc'd NUL-terminated string (never
 * NULL unless the buffer failed) and leaves the buffer empty. Caller must
 * free the result. `len` (may be NULL) receives its length. */
char *sbx_buf_take(sbx_buf *b, size_t *len);

/* Free the contents. The buffer can be reused after sbx_buf_init(). */
void sbx_buf_dispose(sbx_buf *b);

#endif
