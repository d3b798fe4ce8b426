// SPDX-License-Identifier: Apache-2.0
/*
 * Growable buffer with a hard maximum and a sticky failure flag.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"

void sbx_buf_init(sbx_buf *b, size_t max)
{
	b->ptr = NULL;
	b->len = b->cap = 0;
	b->max = max;
	b->failed = false;
}

static int grow(sbx_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (b->failed)
		return SBX_ENOMEM;
	if (extra > b->max - b->len) {
		b->failed = true;
		return sbx_error_set(SBX_ENOMEM, "buffer limit of %zu bytes exceeded", b->max);
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(b->ptr, cap);
	if (!p) {
		b->failed = true;
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	}
	b->ptr = p;
	b->cap = cap;
	return 0;
}

int sbx_buf_put(sbx_buf *b, const void *data, size_t len)
{
	int r = grow(b, len);

	if (r < 0)
		return r;
	if (len)
		memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return 0;
}

int sbx_buf_puts(sbx_buf *b, const char *s)
{
	return sbx_buf_put(b, s, strlen(s));
}

int sbx_buf_putc(sbx_buf *b, char c)
{
	return sbx_buf_put(b, &c, 1);
}

int sbx_buf_vprintf(sbx_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n, r;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return sbx_error_set(SBX_EINVAL, "bad format string");
	r = grow(b, (size_t)n);
	if (r < 0)
		return r;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int sbx_buf_printf(sbx_buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = sbx_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

const char *sbx_buf_cstr(const sbx_buf *b)
{
	return b->ptr ? b->ptr : "";
}

void sbx_buf_clear(sbx_buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

char *sbx_buf_take(sbx_buf *b, size_t *len)
{
	char *p;

	if (b->failed)
		return NULL;
	p = b->ptr ? b->ptr : calloc(1, 1);
	if (len)
		*len = p ? b->len : 0;
	b->ptr = NULL;
	b->len = b->cap = 0;
	return p;
}

void sbx_buf_dispose(sbx_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
	b->failed = false;
}
