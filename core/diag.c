// SPDX-License-Identifier: Apache-2.0
/*
 * Diagnostic list: append, sort by position, format for people.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "error.h"

int sbx_diag_add(sbx_diags *d, const char *path, int line, int col, const char *fmt, ...)
{
	sbx_buf msg = SBX_BUF_INIT;
	va_list ap;
	sbx_diag *item;

	if (d->count == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		sbx_diag *p = realloc(d->items, cap * sizeof(*p));

		if (!p) {
			d->oom = 1;
			return SBX_EINVAL;
		}
		d->items = p;
		d->cap = cap;
	}
	va_start(ap, fmt);
	sbx_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	item = &d->items[d->count];
	item->path = strdup(path ? path : "");
	item->message = sbx_buf_take(&msg, NULL);
	item->line = line;
	item->col = col;
	item->seq = d->count;
	if (!item->path || !item->message) {
		free(item->path);
		free(item->message);
		d->oom = 1;
		return SBX_EINVAL;
	}
	d->count++;
	return SBX_EINVAL;
}

static int cmp(const void *a, const void *b)
{
	const sbx_diag *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void sbx_diags_sort(sbx_diags *d)
{
	if (d->count > 1)
		qsort(d->items, d->count, sizeof(*d->items), cmp);
}

int sbx_diags_format(sbx_buf *out, const sbx_diags *d)
{
	for (size_t i = 0; i < d->count; i++) {
		const sbx_diag *g = &d->items[i];

		if (g->line > 0)
			sbx_buf_printf(out, "%s:%d:%d: error: %s\n", g->path, g->line,
				       g->col > 0 ? g->col : 1, g->message);
		else
			sbx_buf_printf(out, "%s: error: %s\n", g->path, g->message);
	}
	if (d->oom)
		sbx_buf_puts(out, "error: out of memory: some problems are not listed\n");
	return out->failed ? SBX_ENOMEM : 0;
}

void sbx_diags_dispose(sbx_diags *d)
{
	for (size_t i = 0; i < d->count; i++) {
		free(d->items[i].path);
		free(d->items[i].message);
	}
	free(d->items);
	d->items = NULL;
	d->count = d->cap = 0;
	d->oom = 0;
}
