// SPDX-License-Identifier: Apache-2.0
/*
 * Located, typed reads of YAML nodes for the validators, and the "did you
 * mean" hint for unknown fields (edit distance counting a swap of two
 * adjacent letters as one edit).
 */
#include <stdarg.h>
#include <string.h>

#include "check.h"
#include "error.h"

int sbx_check_error(sbx_diags *d, const char *path, const sbx_ynode *n, const char *fmt, ...)
{
	sbx_buf msg = SBX_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	sbx_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	sbx_diag_add(d, path, n ? n->line : 1, n ? n->col : 1, "%s", sbx_buf_cstr(&msg));
	sbx_buf_dispose(&msg);
	return SBX_EINVAL;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Edit distance with adjacent transpositions (optimal string alignment),
 * case-insensitive; (size_t)-1 for words over 64 characters. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[65][65];

	if (la > 64 || lb > 64)
		return (size_t)-1;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t best = d[i - 1][j - 1] + (lower(a[i - 1]) != lower(b[j - 1]));

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
			    lower(a[i - 2]) == lower(b[j - 1]) && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

const char *sbx_check_suggest(const char *word, const char *const *known)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1, limit = strlen(word) <= 4 ? 1 : strlen(word) <= 8 ? 2 : 3;

	for (; *known; known++) {
		size_t dist = distance(word, *known);

		if (dist <= limit && dist < best_d) {
			best = *known;
			best_d = dist;
		}
	}
	return best;
}

int sbx_check_known_fields(sbx_diags *d, const char *path, const sbx_ynode *n,
			   const char *where, const char *const *known)
{
	int r = 0;

	if (!n || n->kind != SBX_YNODE_MAP)
		return 0;
	for (size_t i = 0; i < n->count; i++) {
		const sbx_ynode *k = n->keys[i];
		const char *const *w;
		const char *hint;

		for (w = known; *w; w++)
			if (strcmp(*w, k->value) == 0)
				break;
		if (*w)
			continue;
		hint = sbx_check_suggest(k->value, known);
		if (hint)
			r = sbx_check_error(d, path, k, "unknown field '%s' in %s (did you mean '%s'?)",
					    k->value, where, hint);
		else
			r = sbx_check_error(d, path, k, "unknown field '%s' in %s", k->value, where);
	}
	return r;
}

static int missing(sbx_diags *d, const char *path, const sbx_ynode *parent, const char *field)
{
	return sbx_check_error(d, path, parent, "missing required field '%s'", field);
}

int sbx_check_map(sbx_diags *d, const char *path, const sbx_ynode *n, const sbx_ynode *parent,
		  const char *field)
{
	if (!n)
		return missing(d, path, parent, field);
	if (n->kind != SBX_YNODE_MAP)
		return sbx_check_error(d, path, n, "'%s' must be a mapping, not %s", field,
				       sbx_ytype_name(sbx_ynode_type(n)));
	return 0;
}

int sbx_check_seq(sbx_diags *d, const char *path, const sbx_ynode *n, const char *field)
{
	if (!n)
		return sbx_check_error(d, path, NULL, "missing required field '%s'", field);
	if (n->kind != SBX_YNODE_SEQ)
		return sbx_check_error(d, path, n, "'%s' must be a list, not %s", field,
				       sbx_ytype_name(sbx_ynode_type(n)));
	return 0;
}

int sbx_check_string(sbx_diags *d, const char *path, const sbx_ynode *n, const sbx_ynode *parent,
		     const char *field, bool required)
{
	if (!n)
		return required ? missing(d, path, parent, field) : 0;
	if (n->kind != SBX_YNODE_SCALAR || sbx_ynode_type(n) == SBX_YTYPE_NULL)
		return sbx_check_error(d, path, n, "'%s' must be a string, not %s", field,
				       sbx_ytype_name(sbx_ynode_type(n)));
	if (sbx_ynode_type(n) != SBX_YTYPE_STR)
		return sbx_check_error(d, path, n, "'%s' must be a string, not %s (quote it: \"%s\")",
				       field, sbx_ytype_name(sbx_ynode_type(n)), n->value);
	if (strlen(n->value) != n->len)
		return sbx_check_error(d, path, n, "'%s' must not contain NUL characters", field);
	for (const char *p = n->value; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return sbx_check_error(d, path, n, "'%s' must not contain control characters "
					       "or line breaks", field);
	if (required && n->len == 0)
		return sbx_check_error(d, path, n, "'%s' must not be empty", field);
	return 0;
}

int sbx_check_quantity(sbx_diags *d, const char *path, const sbx_ynode *n, const char *field,
		       sbx_quantity *out)
{
	sbx_ytype t = sbx_ynode_type(n);
	int r;

	if (n->kind != SBX_YNODE_SCALAR || (t != SBX_YTYPE_STR && t != SBX_YTYPE_INT &&
					    t != SBX_YTYPE_FLOAT))
		return sbx_check_error(d, path, n, "'%s' must be a quantity such as \"2\", \"500m\" "
				       "or \"4Gi\", not %s", field, sbx_ytype_name(t));
	sbx_error_clear();
	r = sbx_quantity_parse_size(out, n->value);
	if (r < 0)
		return sbx_check_error(d, path, n, "'%s': %s", field, sbx_error_last());
	return 0;
}

int sbx_check_resources(sbx_diags *d, const char *path, const sbx_ynode *n, const char *field,
			bool required, sbx_resources *out)
{
	static const char *const known[] = { "cpu", "memory", "storage", NULL };
	struct { const char *name; sbx_quantity *q; bool *has; int *line; } f[] = {
		{ "cpu", &out->cpu, &out->has_cpu, &out->line_cpu },
		{ "memory", &out->memory, &out->has_memory, &out->line_memory },
		{ "storage", &out->storage, &out->has_storage, &out->line_storage },
	};
	sbx_buf name = SBX_BUF_INIT;
	int r = 0;

	if (n->kind != SBX_YNODE_MAP)
		return sbx_check_error(d, path, n, "'%s' must be a mapping with cpu, memory and "
				       "storage, not %s", field, sbx_ytype_name(sbx_ynode_type(n)));
	if (sbx_check_known_fields(d, path, n, field, known) < 0)
		r = SBX_EINVAL;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		const sbx_ynode *v = sbx_ynode_get(n, f[i].name);

		sbx_buf_clear(&name);
		sbx_buf_printf(&name, "%s.%s", field, f[i].name);
		if (!v) {
			if (required)
				r = missing(d, path, n, sbx_buf_cstr(&name));
			continue;
		}
		if (sbx_check_quantity(d, path, v, sbx_buf_cstr(&name), f[i].q) < 0) {
			r = SBX_EINVAL;
			continue;
		}
		*f[i].has = true;
		*f[i].line = v->line;
	}
	sbx_buf_dispose(&name);
	return r;
}

int sbx_check_header(sbx_diags *d, const char *path, const sbx_ynode *root, const char *kind)
{
	const sbx_ynode *n = sbx_ynode_get(root, "apiVersion");
	int r = 0;

	if (sbx_check_string(d, path, n, root, "apiVersion", true) < 0)
		r = SBX_EINVAL;
	else if (strcmp(n->value, "sandbox.dev/v1alpha1") != 0)
		r = sbx_check_error(d, path, n, "apiVersion must be 'sandbox.dev/v1alpha1', not '%s'",
				    n->value);
	n = sbx_ynode_get(root, "kind");
	if (sbx_check_string(d, path, n, root, "kind", true) < 0)
		r = SBX_EINVAL;
	else if (strcmp(n->value, kind) != 0)
		r = sbx_check_error(d, path, n, "kind must be '%s', not '%s'", kind, n->value);
	return r;
}

bool sbx_is_dns_label(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && !(c == '-' && i > 0 && i < n - 1))
			return false;
	}
	return true;
}

int sbx_duration_parse(int64_t *out, const char *s)
{
	int64_t total = 0;
	const char *p = s;

	if (!*p)
		return SBX_EINVAL;
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	while (*p) {
		int64_t v = 0, unit;

		if (*p < '0' || *p > '9')
			return SBX_EINVAL;
		while (*p >= '0' && *p <= '9') {
			if (v > INT64_MAX / 10 - 10)
				return SBX_EINVAL;
			v = v * 10 + (*p++ - '0');
		}
		switch (*p++) {
		case 'h': unit = 3600; break;
		case 'm': unit = 60; break;
		case 's': unit = 1; break;
		default: return SBX_EINVAL;
		}
		if (v > (INT64_MAX - total) / unit)
			return SBX_EINVAL;
		total += v * unit;
	}
	*out = total;
	return 0;
}

int sbx_check_idle_after(sbx_diags *d, const char *path, const sbx_ynode *n, const char *field,
			 int64_t *out)
{
	int64_t v;

	if (n->kind == SBX_YNODE_SCALAR && strcmp(n->value, "never") == 0) {
		*out = 0;
		return 0;
	}
	if (n->kind != SBX_YNODE_SCALAR || sbx_duration_parse(&v, n->value) < 0 || v <= 0 ||
	    v > SBX_IDLE_AFTER_MAX)
		return sbx_check_error(d, path, n, "'%s' must be a duration from 1s to 720h, such as "
				       "\"8h\" or \"45m\", or never", field);
	*out = v;
	return 0;
}
