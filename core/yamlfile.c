// SPDX-License-Identifier: Apache-2.0
/*
 * YAML loader: libyaml events -> sbx_ynode tree. Rule violations (anchors,
 * aliases, tags, duplicate keys, extra documents) are collected and parsing
 * goes on; syntax errors, depth, size and encoding problems stop it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "error.h"
#include "yamlfile.h"

struct loader {
	yaml_parser_t parser;
	const char *path;
	sbx_diags *diags;
	int errors;     /* rule violations found so far */
	int fatal;      /* parsing cannot continue */
	int oom;
};

static int mark_line(const yaml_mark_t *m) { return (int)m->line + 1; }
static int mark_col(const yaml_mark_t *m) { return (int)m->column + 1; }

__attribute__((format(printf, 3, 4)))
static void report(struct loader *L, const yaml_mark_t *m, const char *fmt, ...)
{
	sbx_buf msg = SBX_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	sbx_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	sbx_diag_add(L->diags, L->path, mark_line(m), mark_col(m), "%s", sbx_buf_cstr(&msg));
	sbx_buf_dispose(&msg);
	L->errors++;
}

/* Returns the line:column of the first invalid UTF-8 sequence, or 0. */
static int check_utf8(const unsigned char *s, size_t len, int *line, int *col, unsigned *byte)
{
	int ln = 1, cl = 1;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		unsigned cp;

		if (c < 0x80) {
			n = 1;
			cp = c;
		} else if ((c & 0xe0) == 0xc0) {
			n = 2;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 3;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 4;
			cp = c & 0x07;
		} else {
			goto bad;
		}
		if (i + n > len)
			goto bad;
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				goto bad;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			goto bad;
		if (c == '\n') {
			ln++;
			cl = 1;
		} else {
			cl++;
		}
		i += n;
	}
	return 0;
bad:
	*line = ln;
	*col = cl;
	*byte = s[i];
	return 1;
}

static sbx_ynode *node_new(struct loader *L, sbx_ynode_kind kind, const yaml_mark_t *m)
{
	sbx_ynode *n = calloc(1, sizeof(*n));

	if (!n) {
		L->oom = L->fatal = 1;
		return NULL;
	}
	n->kind = kind;
	n->line = mark_line(m);
	n->col = mark_col(m);
	return n;
}

void sbx_ynode_free(sbx_ynode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->count; i++) {
		if (n->keys)
			sbx_ynode_free(n->keys[i]);
		sbx_ynode_free(n->items[i]);
	}
	free(n->keys);
	free(n->items);
	free(n->value);
	free(n);
}

static int next(struct loader *L, yaml_event_t *ev)
{
	if (yaml_parser_parse(&L->parser, ev))
		return 0;
	if (L->parser.error == YAML_MEMORY_ERROR) {
		L->oom = 1;
	} else {
		const yaml_mark_t *m = &L->parser.problem_mark;
		const char *problem = L->parser.problem ? L->parser.problem : "syntax error";

		if (L->parser.context)
			sbx_diag_add(L->diags, L->path, mark_line(m), mark_col(m), "%s %s",
				     problem, L->parser.context);
		else
			sbx_diag_add(L->diags, L->path, mark_line(m), mark_col(m), "%s", problem);
		L->errors++;
	}
	L->fatal = 1;
	return -1;
}

/* Rules that apply to every node event: no anchors, no tags. */
static void check_props(struct loader *L, const yaml_event_t *ev, const yaml_char_t *anchor,
			const yaml_char_t *tag)
{
	if (anchor)
		report(L, &ev->start_mark, "anchors and aliases are not allowed ('&%s')",
		       (const char *)anchor);
	/* libyaml sets tag only when one is written, '!' included */
	if (tag)
		report(L, &ev->start_mark, "YAML tags are not allowed ('%s')", (const char *)tag);
}

static int append(struct loader *L, sbx_ynode *parent, sbx_ynode *key, sbx_ynode *item)
{
	size_t n = parent->count + 1;
	sbx_ynode **items = realloc(parent->items, n * sizeof(*items));

	if (!items)
		goto oom;
	parent->items = items;
	if (parent->kind == SBX_YNODE_MAP) {
		sbx_ynode **keys = realloc(parent->keys, n * sizeof(*keys));

		if (!keys)
			goto oom;
		parent->keys = keys;
		keys[parent->count] = key;
	}
	items[parent->count] = item;
	parent->count = n;
	return 0;
oom:
	sbx_ynode_free(key);
	sbx_ynode_free(item);
	L->oom = L->fatal = 1;
	return SBX_ENOMEM;
}

static sbx_ynode *parse_node(struct loader *L, yaml_event_t *ev, int depth);

/* Parse children until the matching end event. `ev` is the start event. */
static sbx_ynode *parse_collection(struct loader *L, yaml_event_t *ev, int depth)
{
	int is_map = ev->type == YAML_MAPPING_START_EVENT;
	yaml_event_type_t end = is_map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
	sbx_ynode *n;

	if (is_map)
		check_props(L, ev, ev->data.mapping_start.anchor, ev->data.mapping_start.tag);
	else
		check_props(L, ev, ev->data.sequence_start.anchor, ev->data.sequence_start.tag);
	if (depth > SBX_YAML_MAX_DEPTH) {
		sbx_diag_add(L->diags, L->path, mark_line(&ev->start_mark), mark_col(&ev->start_mark),
			     "nesting is deeper than %d levels", SBX_YAML_MAX_DEPTH);
		L->errors++;
		L->fatal = 1;
		return NULL;
	}
	n = node_new(L, is_map ? SBX_YNODE_MAP : SBX_YNODE_SEQ, &ev->start_mark);
	if (!n)
		return NULL;
	for (;;) {
		yaml_event_t child;
		sbx_ynode *key = NULL, *val;

		if (next(L, &child) < 0)
			break;
		if (child.type == end) {
			yaml_event_delete(&child);
			return n;
		}
		if (is_map) {
			key = parse_node(L, &child, depth + 1);
			yaml_event_delete(&child);
			if (L->fatal) {
				sbx_ynode_free(key);
				break;
			}
			if (key && key->kind != SBX_YNODE_SCALAR) {
				sbx_diag_add(L->diags, L->path, key->line, key->col,
					     "mapping keys must be strings, not lists or mappings");
				L->errors++;
			} else if (key) {
				for (size_t i = 0; i < n->count; i++) {
					const sbx_ynode *k = n->keys[i];

					if (k && k->kind == SBX_YNODE_SCALAR && k->len == key->len &&
					    memcmp(k->value, key->value, key->len) == 0) {
						sbx_diag_add(L->diags, L->path, key->line, key->col,
							     "duplicate key '%s' (first defined at line %d)",
							     key->value, k->line);
						L->errors++;
						break;
					}
				}
			}
			if (next(L, &child) < 0) {
				sbx_ynode_free(key);
				break;
			}
		}
		val = parse_node(L, &child, depth + 1);
		yaml_event_delete(&child);
		if (append(L, n, key, val) < 0 || L->fatal)
			break;
	}
	sbx_ynode_free(n);
	return NULL;
}

static sbx_ynode *parse_node(struct loader *L, yaml_event_t *ev, int depth)
{
	sbx_ynode *n;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		check_props(L, ev, ev->data.scalar.anchor, ev->data.scalar.tag);
		n = node_new(L, SBX_YNODE_SCALAR, &ev->start_mark);
		if (!n)
			return NULL;
		n->len = ev->data.scalar.length;
		n->value = malloc(n->len + 1);
		if (!n->value) {
			free(n);
			L->oom = L->fatal = 1;
			return NULL;
		}
		memcpy(n->value, ev->data.scalar.value, n->len);
		n->value[n->len] = '\0';
		n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
		return n;
	case YAML_ALIAS_EVENT:
		report(L, &ev->start_mark, "anchors and aliases are not allowed ('*%s')",
		       (const char *)ev->data.alias.anchor);
		n = node_new(L, SBX_YNODE_SCALAR, &ev->start_mark);
		if (!n)
			return NULL;
		/* a real value ("*NAME") so key checks never see a NULL string */
		n->len = strlen((const char *)ev->data.alias.anchor) + 1;
		n->value = malloc(n->len + 1);
		if (!n->value) {
			free(n);
			L->oom = L->fatal = 1;
			return NULL;
		}
		n->value[0] = '*';
		memcpy(n->value + 1, ev->data.alias.anchor, n->len);
		n->quoted = true;
		return n;
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		return parse_collection(L, ev, depth);
	default:
		sbx_diag_add(L->diags, L->path, mark_line(&ev->start_mark), mark_col(&ev->start_mark),
			     "unexpected YAML event");
		L->errors++;
		L->fatal = 1;
		return NULL;
	}
}

int sbx_yaml_load(sbx_ynode **out, const char *path, const char *data, size_t len,
		  sbx_diags *diags)
{
	struct loader L = { .path = path, .diags = diags };
	sbx_ynode *root = NULL;
	yaml_event_t ev;
	int line, col, docs = 0, r;
	unsigned byte;

	if (len > SBX_YAML_MAX_BYTES) {
		sbx_diag_add(diags, path, 0, 0, "file is %zu bytes; the limit is %d bytes (256 KiB)",
			     len, SBX_YAML_MAX_BYTES);
		return SBX_EINVAL;
	}
	if (check_utf8((const unsigned char *)data, len, &line, &col, &byte)) {
		sbx_diag_add(diags, path, line, col, "invalid UTF-8 (byte 0x%02x); save the file as UTF-8",
			     byte);
		return SBX_EINVAL;
	}
	if (!yaml_parser_initialize(&L.parser))
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	yaml_parser_set_input_string(&L.parser, (const unsigned char *)data, len);
	yaml_parser_set_encoding(&L.parser, YAML_UTF8_ENCODING);

	while (!L.fatal && next(&L, &ev) == 0) {
		yaml_event_type_t type = ev.type;

		if (type == YAML_DOCUMENT_START_EVENT) {
			if (++docs == 2)
				report(&L, &ev.start_mark, "%s",
				       "only one YAML document is allowed per file (remove '---' and what follows)");
		} else if (type == YAML_SCALAR_EVENT || type == YAML_MAPPING_START_EVENT ||
			   type == YAML_SEQUENCE_START_EVENT || type == YAML_ALIAS_EVENT) {
			sbx_ynode *n = parse_node(&L, &ev, 1);

			if (docs == 1 && !root)
				root = n;
			else
				sbx_ynode_free(n);
		}
		yaml_event_delete(&ev);
		if (type == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&L.parser);

	if (L.oom) {
		r = sbx_error_set(SBX_ENOMEM, "out of memory while reading '%s'", path);
		goto fail;
	}
	if (L.errors || L.fatal) {
		r = SBX_EINVAL;
		goto fail;
	}
	*out = root;
	return 0;
fail:
	sbx_ynode_free(root);
	return r;
}

const sbx_ynode *sbx_ynode_get(const sbx_ynode *n, const char *key)
{
	size_t klen;

	if (!n || n->kind != SBX_YNODE_MAP)
		return NULL;
	klen = strlen(key);
	for (size_t i = 0; i < n->count; i++) {
		const sbx_ynode *k = n->keys[i];

		if (k && k->len == klen && memcmp(k->value, key, klen) == 0)
			return n->items[i];
	}
	return NULL;
}

static int is_one_of(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(s, *words) == 0)
			return 1;
	return 0;
}

static int parse_int(long long *out, const char *s)
{
	const char *p = s;
	int base = 10;
	char *end;
	long long v;

	if (*p == '+' || *p == '-')
		p++;
	if (p[0] == '0' && p[1] == 'x') {
		if (p != s)
			return -1; /* the core schema has no signed hex */
		base = 16;
		p += 2;
	} else if (p[0] == '0' && p[1] == 'o') {
		if (p != s)
			return -1;
		base = 8;
		p += 2;
	}
	if (!*p)
		return -1;
	for (const char *q = p; *q; q++) {
		int ok = base == 16 ? strchr("0123456789abcdefABCDEF", *q) != NULL
				    : (*q >= '0' && *q <= (base == 8 ? '7' : '9'));
		if (!ok)
			return -1;
	}
	errno = 0;
	v = strtoll(p, &end, base);
	if (errno || *end)
		return -1;
	*out = s[0] == '-' ? -v : v;
	return 0;
}

static int is_float(const char *s)
{
	static const char *const special[] = { ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF",
		"-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN", NULL };
	const char *p = s;
	int digits = 0;

	if (is_one_of(s, special))
		return 1;
	if (*p == '+' || *p == '-')
		p++;
	while (*p >= '0' && *p <= '9') {
		p++;
		digits++;
	}
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			p++;
			digits++;
		}
	}
	if (!digits)
		return 0;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

sbx_ytype sbx_ynode_type(const sbx_ynode *n)
{
	if (!n)
		return SBX_YTYPE_NULL;
	if (n->kind == SBX_YNODE_MAP)
		return SBX_YTYPE_MAP;
	if (n->kind == SBX_YNODE_SEQ)
		return SBX_YTYPE_SEQ;
	if (n->quoted || strlen(n->value) != n->len)
		return SBX_YTYPE_STR;
	return sbx_yaml_resolve_plain(n->value);
}

sbx_ytype sbx_yaml_resolve_plain(const char *s)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };
	static const char *const bools[] = { "true", "True", "TRUE", "false", "False", "FALSE", NULL };
	long long v;

	/* every null, boolean and number starts with one of these */
	if (s[0] && !strchr("~nNtTfF0123456789+-.", s[0]))
		return SBX_YTYPE_STR;
	if (is_one_of(s, nulls))
		return SBX_YTYPE_NULL;
	if (is_one_of(s, bools))
		return SBX_YTYPE_BOOL;
	if (parse_int(&v, s) == 0)
		return SBX_YTYPE_INT;
	if (is_float(s))
		return SBX_YTYPE_FLOAT;
	return SBX_YTYPE_STR;
}

const char *sbx_ytype_name(sbx_ytype t)
{
	switch (t) {
	case SBX_YTYPE_NULL: return "null";
	case SBX_YTYPE_BOOL: return "a boolean";
	case SBX_YTYPE_INT: return "an integer";
	case SBX_YTYPE_FLOAT: return "a number";
	case SBX_YTYPE_STR: return "a string";
	case SBX_YTYPE_MAP: return "a mapping";
	case SBX_YTYPE_SEQ: return "a list";
	}
	return "a value";
}

int sbx_ynode_int(long long *out, const sbx_ynode *n)
{
	if (sbx_ynode_type(n) != SBX_YTYPE_INT)
		return SBX_EINVAL;
	return parse_int(out, n->value) == 0 ? 0 : SBX_EINVAL;
}
