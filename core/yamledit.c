// SPDX-License-Identifier: Apache-2.0
/*
 * Format-keeping YAML edits. libyaml events give every node its start and
 * end (characters, converted here to byte offsets); an edit is planned as at
 * most two splices of the original text; the result is reloaded and compared
 * with the original tree before it replaces the caller's buffer.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "diag.h"
#include "error.h"
#include "yamledit.h"
#include "yamlfile.h"

#define DEFAULT_STEP 2
#define NO_KEY SIZE_MAX

/* A node of the original text, with byte positions. */
struct enode {
	sbx_ynode_kind kind;
	bool flow;                 /* flow collection: {...} or [...] */
	yaml_scalar_style_t style; /* scalars */
	size_t start, end;         /* bytes of the node's text, end exclusive */
	size_t col;                /* column of the first character (characters) */
	char *value;               /* scalars: NUL-terminated text */
	size_t len;                /* scalars: length of value */
	size_t count;              /* pairs or items */
	struct enode **keys;       /* maps: key nodes */
	struct enode **items;      /* maps: values; seqs: items */
};

/* The document being edited. Borrows the caller's text. */
struct doc {
	const char *text;
	size_t len;
	struct enode *root;  /* NULL for a document without a node */
	size_t step;         /* indentation step of nested block mappings */
	const char *eol;     /* "\n", or "\r\n" when the file uses it */
};

/* Turns libyaml marks (characters) into byte offsets. */
struct reader {
	yaml_parser_t parser;
	const char *text;
	size_t len;
	size_t base;    /* bytes of a UTF-8 BOM, which libyaml does not count */
	size_t ci, cb;  /* a character index and its byte offset */
	bool oom, bad;
};

/* One replacement of original bytes [start, end) by text. */
struct splice {
	size_t start, end;
	sbx_buf text;
};

/* An edit: up to two splices in ascending order, or nothing to do. */
struct plan {
	struct splice s[2];
	size_t n;
	bool noop;
	size_t top;  /* remove: the path level whose pair goes */
};

static size_t byte_at(struct reader *R, size_t index)
{
	if (index < R->ci) {
		R->ci = 0;
		R->cb = R->base;
	}
	while (R->ci < index && R->cb < R->len) {
		unsigned char c = (unsigned char)R->text[R->cb];
		size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;

		R->cb += n < R->len - R->cb ? n : R->len - R->cb;
		R->ci++;
	}
	return R->cb;
}

static void enode_free(struct enode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->count; i++) {
		if (n->keys)
			enode_free(n->keys[i]);
		enode_free(n->items[i]);
	}
	free(n->keys);
	free(n->items);
	free(n->value);
	free(n);
}

static int next_event(struct reader *R, yaml_event_t *ev)
{
	if (yaml_parser_parse(&R->parser, ev))
		return 0;
	if (R->parser.error == YAML_MEMORY_ERROR)
		R->oom = true;
	else
		R->bad = true;
	return -1;
}

static struct enode *enode_new(struct reader *R, sbx_ynode_kind kind, const yaml_event_t *ev)
{
	struct enode *n = calloc(1, sizeof(*n));

	if (!n) {
		R->oom = true;
		return NULL;
	}
	n->kind = kind;
	n->start = byte_at(R, ev->start_mark.index);
	n->end = byte_at(R, ev->end_mark.index);
	n->col = ev->start_mark.column;
	return n;
}

static int append(struct reader *R, struct enode *parent, struct enode *key, struct enode *item)
{
	size_t n = parent->count + 1;
	struct enode **items = realloc(parent->items, n * sizeof(*items));
	int r = 0;

	if (!items)
		goto oom;
	parent->items = items;
	if (parent->kind == SBX_YNODE_MAP) {
		struct enode **keys = realloc(parent->keys, n * sizeof(*keys));

		if (!keys)
			goto oom;
		parent->keys = keys;
		keys[parent->count] = key;
	}
	items[parent->count] = item;
	parent->count = n;
	goto done;
oom:
	enode_free(key);
	enode_free(item);
	R->oom = true;
	r = SBX_ENOMEM;
done:
	return r;
}

static struct enode *read_node(struct reader *R, const yaml_event_t *ev);

/* Children up to the matching end event; `ev` is the start event. */
static struct enode *read_collection(struct reader *R, const yaml_event_t *ev)
{
	bool is_map = ev->type == YAML_MAPPING_START_EVENT;
	yaml_event_type_t end = is_map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
	struct enode *n = enode_new(R, is_map ? SBX_YNODE_MAP : SBX_YNODE_SEQ, ev);

	if (!n)
		return NULL;
	n->flow = is_map ? ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
			 : ev->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
	for (;;) {
		yaml_event_t child;
		struct enode *key = NULL, *val;

		if (next_event(R, &child) < 0)
			break;
		if (child.type == end) {
			n->end = byte_at(R, child.end_mark.index);
			yaml_event_delete(&child);
			return n;
		}
		if (is_map) {
			key = read_node(R, &child);
			yaml_event_delete(&child);
			if (!key || next_event(R, &child) < 0) {
				enode_free(key);
				break;
			}
		}
		val = read_node(R, &child);
		yaml_event_delete(&child);
		if (!val) {
			enode_free(key);
			break;
		}
		if (append(R, n, key, val) < 0)
			break;
	}
	enode_free(n);
	return NULL;
}

static struct enode *read_node(struct reader *R, const yaml_event_t *ev)
{
	struct enode *n = NULL;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n = enode_new(R, SBX_YNODE_SCALAR, ev);
		if (!n)
			break;
		n->style = ev->data.scalar.style;
		n->len = ev->data.scalar.length;
		n->value = malloc(n->len + 1);
		if (!n->value) {
			R->oom = true;
			enode_free(n);
			n = NULL;
			break;
		}
		memcpy(n->value, ev->data.scalar.value, n->len);
		n->value[n->len] = '\0';
		break;
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		n = read_collection(R, ev);
		break;
	default:
		/* aliases: sbx_yaml_load refused them already */
		R->bad = true;
		break;
	}
	return n;
}

/* The first document's root node with byte positions into d->root. */
static int read_tree(struct doc *d)
{
	struct reader R = { .text = d->text, .len = d->len };
	yaml_event_t ev;
	bool seen = false;
	int r = 0;

	if (d->len >= 3 && memcmp(d->text, "\xef\xbb\xbf", 3) == 0)
		R.base = R.cb = 3;
	if (!yaml_parser_initialize(&R.parser)) {
		r = sbx_error_set(SBX_ENOMEM, "out of memory");
		goto done;
	}
	yaml_parser_set_input_string(&R.parser, (const unsigned char *)d->text, d->len);
	yaml_parser_set_encoding(&R.parser, YAML_UTF8_ENCODING);
	while (!R.oom && !R.bad && next_event(&R, &ev) == 0) {
		yaml_event_type_t type = ev.type;

		if (!seen && (type == YAML_SCALAR_EVENT || type == YAML_MAPPING_START_EVENT ||
			      type == YAML_SEQUENCE_START_EVENT || type == YAML_ALIAS_EVENT)) {
			seen = true;
			d->root = read_node(&R, &ev);
		}
		yaml_event_delete(&ev);
		if (type == YAML_STREAM_END_EVENT || type == YAML_DOCUMENT_END_EVENT)
			break;
	}
	yaml_parser_delete(&R.parser);
	if (R.oom)
		r = sbx_error_set(SBX_ENOMEM, "out of memory");
	else if (R.bad)
		r = sbx_error_set(SBX_EINVAL, "the file does not parse as YAML");
done:
	return r;
}

/* Indentation step of the first block mapping nested in another, or 0. */
static size_t find_step(const struct enode *n)
{
	size_t step = 0;

	if (!n || n->kind == SBX_YNODE_SCALAR || n->flow)
		return 0;
	for (size_t i = 0; i < n->count && !step; i++) {
		const struct enode *c = n->items[i];

		if (n->kind == SBX_YNODE_MAP && c->kind == SBX_YNODE_MAP && !c->flow && c->col > n->col)
			step = c->col - n->col;
		else
			step = find_step(c);
	}
	return step;
}

static int error_from_diags(const sbx_diags *diags, const char *what)
{
	const sbx_diag *first = diags->count ? &diags->items[0] : NULL;
	int r;

	if (!first)
		r = sbx_error_set(SBX_EINVAL, "%s", what);
	else if (first->line)
		r = sbx_error_set(SBX_EINVAL, "%s (line %d, column %d: %s)", what, first->line,
				  first->col, first->message);
	else
		r = sbx_error_set(SBX_EINVAL, "%s (%s)", what, first->message);
	return r;
}

/* Load (with every input rule) and locate the document in buf. On success
 * *tree is the loaded tree (caller must sbx_ynode_free) and d->root the
 * located one (caller must doc_dispose). */
static int doc_open(struct doc *d, sbx_ynode **tree, const sbx_buf *buf)
{
	sbx_diags diags = SBX_DIAGS_INIT;
	const char *cr;
	int r;

	memset(d, 0, sizeof(*d));
	d->text = buf->ptr ? buf->ptr : "";
	d->len = buf->len;
	if (buf->failed) {
		r = sbx_error_set(SBX_ENOMEM, "the file was not read whole (out of memory or over "
				  "the size limit)");
		goto done;
	}
	if (d->len > SBX_YAML_MAX_BYTES) {
		r = sbx_error_set(SBX_EINVAL, "the file is %zu bytes; the limit is %d bytes (256 KiB)",
				  d->len, SBX_YAML_MAX_BYTES);
		goto done;
	}
	r = sbx_yaml_load(tree, "file", d->text, d->len, &diags);
	if (r == SBX_EINVAL) {
		sbx_diags_sort(&diags);
		r = error_from_diags(&diags, "the file does not load; fix it before editing");
	}
	if (r < 0)
		goto done;
	r = read_tree(d);
	if (r < 0) {
		sbx_ynode_free(*tree);
		*tree = NULL;
		goto done;
	}
	d->step = find_step(d->root);
	if (!d->step)
		d->step = DEFAULT_STEP;
	cr = memchr(d->text, '\n', d->len);
	d->eol = cr && cr > d->text && cr[-1] == '\r' ? "\r\n" : "\n";
done:
	sbx_diags_dispose(&diags);
	return r;
}

static void doc_dispose(struct doc *d)
{
	enode_free(d->root);
	d->root = NULL;
}

static void plan_dispose(struct plan *p)
{
	for (size_t i = 0; i < 2; i++)
		sbx_buf_dispose(&p->s[i].text);
}

/* The next splice, replacing bytes [start, end). Borrowed from p. */
static sbx_buf *splice_add(struct plan *p, size_t start, size_t end)
{
	struct splice *s = &p->s[p->n++];

	assert(p->n <= 2);
	sbx_buf_init(&s->text, SBX_BUF_DEFAULT_MAX);
	s->start = start;
	s->end = end;
	return &s->text;
}

/* ---- positions ---- */

static size_t line_start(const struct doc *d, size_t at)
{
	while (at > 0 && d->text[at - 1] != '\n')
		at--;
	return at;
}

/* Just past the line break ending the line that holds byte `at` (the end of
 * the file when the last line has none). */
static size_t line_next(const struct doc *d, size_t at)
{
	const char *nl = at < d->len ? memchr(d->text + at, '\n', d->len - at) : NULL;

	return nl ? (size_t)(nl - d->text) + 1 : d->len;
}

static bool is_block_scalar(const struct enode *n)
{
	return n->kind == SBX_YNODE_SCALAR &&
	       (n->style == YAML_LITERAL_SCALAR_STYLE || n->style == YAML_FOLDED_SCALAR_STYLE);
}

/* The node whose text ends n's: the last descendant of a block collection. */
static const struct enode *last_node(const struct enode *n)
{
	while (n->kind != SBX_YNODE_SCALAR && !n->flow && n->count)
		n = n->items[n->count - 1];
	return n;
}

/* Where the text of n really ends: block collections end with their last
 * child, block scalars before the blank lines libyaml counts in. */
static size_t content_end(const struct doc *d, const struct enode *n)
{
	size_t end;

	n = last_node(n);
	end = n->end;
	if (is_block_scalar(n))
		while (end > n->start + 1 && strchr(" \t\r\n", d->text[end - 1]))
			end--;
	return end;
}

/* A block scalar with the keep indicator ('|+', '>2+'): its trailing blank
 * lines are part of its value. */
static bool keeps_blank_lines(const struct doc *d, const struct enode *n)
{
	bool keep = false;

	for (size_t i = n->start + 1; i < n->end && strchr("0123456789+-", d->text[i]); i++)
		keep = keep || d->text[i] == '+';
	return keep;
}

/* What goes before a value written at the empty scalar at `at`: libyaml puts
 * it right after the ':' in block mappings (`key:` -> `key: value`), at the
 * next ',' or '}' in flow ones (`{a: }` -> `{a: value}`), and after the key
 * when there is no ':' at all (`{a}` -> `{a: value}`). */
static const char *empty_prefix(const struct doc *d, size_t at)
{
	size_t q = at;

	while (q > 0 && (d->text[q - 1] == ' ' || d->text[q - 1] == '\t'))
		q--;
	if (q > 0 && d->text[q - 1] == ':')
		return q < at ? "" : " ";
	return ": ";
}

/* Just past the last line of n's text. The blank lines a block scalar ends
 * with go with it when `owned` (removing it), and when they are part of its
 * value (adding a line after it). */
static size_t lines_end(const struct doc *d, const struct enode *n, bool owned)
{
	const struct enode *last = last_node(n);
	size_t end = line_next(d, content_end(d, n));

	if (is_block_scalar(last) && (owned || keeps_blank_lines(d, last)) &&
	    line_start(d, last->end) > end)
		end = line_start(d, last->end);
	return end;
}

/* Text that must be written at `at` first so that an insertion there starts
 * on a line of its own (the file lacks its final line break). */
static const char *eol_before(const struct doc *d, size_t at)
{
	return at == d->len && d->len && d->text[d->len - 1] != '\n' ? d->eol : "";
}

/* ---- the path ---- */

static bool key_is(const char *value, size_t len, const char *key)
{
	return len == strlen(key) && memcmp(value, key, len) == 0;
}

static size_t find_key(const struct enode *m, const char *key)
{
	for (size_t i = 0; i < m->count; i++)
		if (m->keys[i]->kind == SBX_YNODE_SCALAR && key_is(m->keys[i]->value, m->keys[i]->len, key))
			return i;
	return NO_KEY;
}

static bool is_null(const struct enode *n)
{
	return n->kind == SBX_YNODE_SCALAR && n->style == YAML_PLAIN_SCALAR_STYLE &&
	       strlen(n->value) == n->len && sbx_yaml_resolve_plain(n->value) == SBX_YTYPE_NULL;
}

static const char *type_name(const struct enode *n)
{
	if (n->kind == SBX_YNODE_MAP)
		return sbx_ytype_name(SBX_YTYPE_MAP);
	if (n->kind == SBX_YNODE_SEQ)
		return sbx_ytype_name(SBX_YTYPE_SEQ);
	if (n->style != YAML_PLAIN_SCALAR_STYLE || strlen(n->value) != n->len)
		return sbx_ytype_name(SBX_YTYPE_STR);
	return sbx_ytype_name(sbx_yaml_resolve_plain(n->value));
}

/* The first n keys of path joined with '.'. */
static void put_path(sbx_buf *b, const char *const *path, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			sbx_buf_putc(b, '.');
		sbx_buf_puts(b, path[i]);
	}
}

/* The node at the first n keys of path is no mapping. */
static int not_a_map(const char *const *path, size_t n, const struct enode *node)
{
	sbx_buf where = SBX_BUF_INIT;
	int r;

	put_path(&where, path, n);
	if (n == 0)
		r = sbx_error_set(SBX_EINVAL, "the document is %s, not a mapping", type_name(node));
	else
		r = sbx_error_set(SBX_EINVAL, "'%s' is %s, not a mapping", sbx_buf_cstr(&where),
				  type_name(node));
	sbx_buf_dispose(&where);
	return r;
}

/* ---- writing scalars ---- */

static bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned cp;
		size_t n;

		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			n = 2;
			cp = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			n = 3;
			cp = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			n = 4;
			cp = *p & 0x07;
		} else {
			return false;
		}
		for (size_t k = 1; k < n; k++) {
			if ((p[k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[k] & 0x3f);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += n;
	}
	return true;
}

/* Decode one character of valid UTF-8 at *p and step past it. */
static unsigned next_char(const unsigned char **p)
{
	const unsigned char *s = *p;
	unsigned cp;
	size_t n;

	if (s[0] < 0x80) {
		n = 1;
		cp = s[0];
	} else if (s[0] < 0xe0) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] < 0xf0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else {
		n = 4;
		cp = s[0] & 0x07;
	}
	for (size_t k = 1; k < n; k++)
		cp = (cp << 6) | (s[k] & 0x3f);
	*p = s + n;
	return cp;
}

/* Characters libyaml refuses unescaped or reads as line breaks. */
static bool needs_escape(unsigned cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 ||
	       cp == 0x2029 || cp == 0xfeff || cp == 0xfffe || cp == 0xffff;
}

/* Written plain, s reads back as this same string in every YAML reader
 * likely to see the file (YAML 1.2 core schema, and 1.1's yes/no/on/off,
 * 1_000 and 1:20). In a flow collection ':' is quoted too. */
static bool plain_ok(const char *s, bool flow)
{
	static const char *const yaml11[] = { "y", "Y", "yes", "Yes", "YES", "n", "N", "no",
		"No", "NO", "on", "On", "ON", "off", "Off", "OFF", NULL };
	size_t len = strlen(s);

	if (!len || strchr("-:@", s[0]) || s[len - 1] == ':')
		return false;
	for (const char *p = s; *p; p++) {
		bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9');

		if (!alnum && !strchr("._/@:+-", *p))
			return false;
		if (*p == ':' && flow)
			return false;
	}
	if (sbx_yaml_resolve_plain(s) != SBX_YTYPE_STR)
		return false;
	for (size_t i = 0; yaml11[i]; i++)
		if (strcmp(s, yaml11[i]) == 0)
			return false;
	return !(strchr("0123456789+-.", s[0]) && strpbrk(s, "_:"));
}

static bool single_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p)
		if (needs_escape(next_char(&p)))
			return false;
	return true;
}

static void put_single(sbx_buf *b, const char *s)
{
	sbx_buf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			sbx_buf_putc(b, '\'');
		sbx_buf_putc(b, *s);
	}
	sbx_buf_putc(b, '\'');
}

static void put_double(sbx_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	sbx_buf_putc(b, '"');
	while (*p) {
		const unsigned char *c = p;
		unsigned cp = next_char(&p);

		if (cp == '"' || cp == '\\') {
			sbx_buf_putc(b, '\\');
			sbx_buf_putc(b, (char)cp);
		} else if (cp == '\n') {
			sbx_buf_puts(b, "\\n");
		} else if (cp == '\t') {
			sbx_buf_puts(b, "\\t");
		} else if (cp == '\r') {
			sbx_buf_puts(b, "\\r");
		} else if (needs_escape(cp)) {
			sbx_buf_printf(b, cp < 0x100 ? "\\x%02x" : "\\u%04x", cp);
		} else {
			sbx_buf_put(b, c, (size_t)(p - c));
		}
	}
	sbx_buf_putc(b, '"');
}

/* value as a scalar of this style where it allows the value: plain when
 * plain_ok(), single-quoted when nothing needs an escape, else (and for
 * block scalars) double-quoted. */
static void put_scalar(sbx_buf *b, const char *value, yaml_scalar_style_t style, bool flow)
{
	if (style == YAML_PLAIN_SCALAR_STYLE && plain_ok(value, flow))
		sbx_buf_puts(b, value);
	else if (style == YAML_SINGLE_QUOTED_SCALAR_STYLE && single_ok(value))
		put_single(b, value);
	else
		put_double(b, value);
}

/* "k1: {k2: {k3: value}}" */
static void put_flow_chain(sbx_buf *b, const char *const *keys, size_t n, const char *value)
{
	for (size_t i = 0; i < n; i++) {
		put_scalar(b, keys[i], YAML_PLAIN_SCALAR_STYLE, true);
		sbx_buf_puts(b, i + 1 < n ? ": {" : ": ");
	}
	put_scalar(b, value, YAML_PLAIN_SCALAR_STYLE, true);
	for (size_t i = 1; i < n; i++)
		sbx_buf_putc(b, '}');
}

/* "INDENT k1:\nINDENT+step k2: value\n" */
static void put_block_chain(sbx_buf *b, const struct doc *d, size_t indent,
			    const char *const *keys, size_t n, const char *value)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < indent + i * d->step; k++)
			sbx_buf_putc(b, ' ');
		put_scalar(b, keys[i], YAML_PLAIN_SCALAR_STYLE, false);
		sbx_buf_putc(b, ':');
		if (i + 1 == n) {
			sbx_buf_putc(b, ' ');
			put_scalar(b, value, YAML_PLAIN_SCALAR_STYLE, false);
		}
		sbx_buf_puts(b, d->eol);
	}
}

/* ---- planning ---- */

/* Write value over the scalar target, a value of parent. */
static void plan_replace(struct plan *p, const struct doc *d, const struct enode *parent,
			 const struct enode *target, const char *value)
{
	bool flow = parent && parent->flow;
	sbx_buf *b;

	if (target->start == target->end) {
		b = splice_add(p, target->start, target->start);
		sbx_buf_puts(b, empty_prefix(d, target->start));
		put_scalar(b, value, YAML_PLAIN_SCALAR_STYLE, flow);
	} else if (is_block_scalar(target)) {
		b = splice_add(p, target->start, content_end(d, target));
		put_scalar(b, value, YAML_DOUBLE_QUOTED_SCALAR_STYLE, flow);
	} else {
		b = splice_add(p, target->start, target->end);
		put_scalar(b, value, target->style, flow);
	}
}

/* Add the missing keys[0..n) (the last one holding value) to mapping m. */
static void plan_add(struct plan *p, const struct doc *d, const struct enode *m,
		     const char *const *keys, size_t n, const char *value)
{
	sbx_buf *b;
	size_t at;

	if (m->flow && m->count == 0) {
		b = splice_add(p, m->start, m->end);
		sbx_buf_putc(b, '{');
		put_flow_chain(b, keys, n, value);
		sbx_buf_putc(b, '}');
	} else if (m->flow) {
		at = content_end(d, m->items[m->count - 1]);
		b = splice_add(p, at, at);
		sbx_buf_puts(b, ", ");
		put_flow_chain(b, keys, n, value);
	} else {
		at = lines_end(d, m, false);
		b = splice_add(p, at, at);
		sbx_buf_puts(b, eol_before(d, at));
		put_block_chain(b, d, m->col, keys, n, value);
	}
}

/* Turn the null node (NULL: no document node at all), a value of parent
 * (NULL: the root), into a mapping holding keys[0..n). */
static void plan_null_to_map(struct plan *p, const struct doc *d, const struct enode *parent,
			     const struct enode *null, const char *const *keys, size_t n,
			     const char *value)
{
	sbx_buf *b;
	size_t at, from;

	if (!null) {
		b = splice_add(p, d->len, d->len);
		sbx_buf_puts(b, eol_before(d, d->len));
		put_block_chain(b, d, 0, keys, n, value);
	} else if (parent && parent->flow) {
		b = splice_add(p, null->start, null->end);
		if (null->start == null->end)
			sbx_buf_puts(b, empty_prefix(d, null->start));
		sbx_buf_putc(b, '{');
		put_flow_chain(b, keys, n, value);
		sbx_buf_putc(b, '}');
	} else {
		if (null->start < null->end) {
			/* drop `~` or `null` and the blanks before it */
			from = null->start;
			while (from > line_start(d, null->start) && strchr(" \t", d->text[from - 1]))
				from--;
			splice_add(p, from, null->end);
		}
		at = line_next(d, null->end);
		b = splice_add(p, at, at);
		sbx_buf_puts(b, eol_before(d, at));
		put_block_chain(b, d, parent ? parent->col + d->step : 0, keys, n, value);
	}
}

static int plan_set(struct plan *p, const struct doc *d, const char *const *path, size_t depth,
		    const char *value)
{
	const struct enode *cur = d->root, *parent = NULL;
	sbx_buf where = SBX_BUF_INIT;
	size_t i, j;
	int r = 0;

	for (i = 0; i < depth; i++) {
		if (!cur || is_null(cur))
			break;
		if (cur->kind != SBX_YNODE_MAP) {
			r = not_a_map(path, i, cur);
			goto done;
		}
		j = find_key(cur, path[i]);
		if (j == NO_KEY) {
			plan_add(p, d, cur, path + i, depth - i, value);
			goto done;
		}
		parent = cur;
		cur = cur->items[j];
	}
	if (i < depth) {
		plan_null_to_map(p, d, parent, cur, path + i, depth - i, value);
		goto done;
	}
	put_path(&where, path, depth);
	if (cur->kind == SBX_YNODE_MAP && cur->count)
		r = sbx_error_set(SBX_EINVAL, "'%s' is a mapping, not a single value; set one of "
				  "its keys, such as '%s.%s'", sbx_buf_cstr(&where),
				  sbx_buf_cstr(&where), cur->keys[0]->value);
	else if (cur->kind == SBX_YNODE_MAP)
		r = sbx_error_set(SBX_EINVAL, "'%s' is a mapping, not a single value; set a key "
				  "inside it", sbx_buf_cstr(&where));
	else if (cur->kind == SBX_YNODE_SEQ)
		r = sbx_error_set(SBX_EINVAL, "'%s' is a list, not a single value; edit the list "
				  "by hand", sbx_buf_cstr(&where));
	else
		plan_replace(p, d, parent, cur, value);
done:
	sbx_buf_dispose(&where);
	return r;
}

static int plan_remove(struct plan *p, const struct doc *d, const char *const *path, size_t depth)
{
	const struct enode *maps[SBX_YAML_MAX_DEPTH], *cur = d->root, *m, *val;
	size_t idx[SBX_YAML_MAX_DEPTH], i, j, top, from;
	sbx_buf where = SBX_BUF_INIT;
	int r = 0;

	for (i = 0; i < depth; i++) {
		if (!cur || is_null(cur)) {
			p->noop = true;
			goto done;
		}
		if (cur->kind != SBX_YNODE_MAP) {
			r = not_a_map(path, i, cur);
			goto done;
		}
		j = find_key(cur, path[i]);
		if (j == NO_KEY) {
			p->noop = true;
			goto done;
		}
		maps[i] = cur;
		idx[i] = j;
		cur = cur->items[j];
	}
	/* a mapping left empty goes with its key, up to (not including) the root */
	top = depth - 1;
	while (top > 0 && maps[top]->count == 1)
		top--;
	p->top = top;
	m = maps[top];
	j = idx[top];
	val = m->items[j];
	if (m->flow && m->count == 1)
		splice_add(p, m->keys[0]->start, content_end(d, val));
	else if (m->flow && j + 1 < m->count)
		splice_add(p, m->keys[j]->start, m->keys[j + 1]->start);
	else if (m->flow)
		splice_add(p, content_end(d, m->items[j - 1]), content_end(d, val));
	else {
		from = line_start(d, m->keys[j]->start);
		for (size_t k = from; k < m->keys[j]->start; k++) {
			if (d->text[k] != ' ') {
				put_path(&where, path, top + 1);
				r = sbx_error_set(SBX_EINVAL, "cannot remove '%s': its key does not "
						  "start its line; edit the file by hand",
						  sbx_buf_cstr(&where));
				goto done;
			}
		}
		splice_add(p, from, lines_end(d, val, true));
	}
done:
	sbx_buf_dispose(&where);
	return r;
}

/* ---- checking the result ---- */

static bool scalar_equal(const sbx_ynode *a, const sbx_ynode *b)
{
	return a->kind == SBX_YNODE_SCALAR && b->kind == SBX_YNODE_SCALAR && a->len == b->len &&
	       memcmp(a->value, b->value, a->len) == 0 && sbx_ynode_type(a) == sbx_ynode_type(b);
}

static bool node_equal(const sbx_ynode *a, const sbx_ynode *b)
{
	if (!a || !b)
		return a == b;
	if (a->kind != b->kind || a->count != b->count)
		return false;
	if (a->kind == SBX_YNODE_SCALAR)
		return scalar_equal(a, b);
	for (size_t i = 0; i < a->count; i++) {
		if (a->kind == SBX_YNODE_MAP && !scalar_equal(a->keys[i], b->keys[i]))
			return false;
		if (!node_equal(a->items[i], b->items[i]))
			return false;
	}
	return true;
}

static bool ykey_is(const sbx_ynode *k, const char *key)
{
	return k->kind == SBX_YNODE_SCALAR && key_is(k->value, k->len, key);
}

/* n is o with the scalar at path set to value (maps created on the way). */
static bool same_after_set(const sbx_ynode *o, const sbx_ynode *n, const char *const *path,
			   size_t depth, const char *value)
{
	size_t i, found = NO_KEY;

	if (depth == 0)
		return n && n->kind == SBX_YNODE_SCALAR && sbx_ynode_type(n) == SBX_YTYPE_STR &&
		       key_is(n->value, n->len, value);
	if (!n || n->kind != SBX_YNODE_MAP)
		return false;
	if (!o || o->kind != SBX_YNODE_MAP)
		return n->count == 1 && ykey_is(n->keys[0], path[0]) &&
		       same_after_set(NULL, n->items[0], path + 1, depth - 1, value);
	if (n->count != o->count && n->count != o->count + 1)
		return false;
	for (i = 0; i < o->count; i++) {
		if (!scalar_equal(o->keys[i], n->keys[i]))
			return false;
		if (ykey_is(o->keys[i], path[0])) {
			found = i;
			if (!same_after_set(o->items[i], n->items[i], path + 1, depth - 1, value))
				return false;
		} else if (!node_equal(o->items[i], n->items[i])) {
			return false;
		}
	}
	if (found != NO_KEY)
		return n->count == o->count;
	return n->count == o->count + 1 && ykey_is(n->keys[i], path[0]) &&
	       same_after_set(NULL, n->items[i], path + 1, depth - 1, value);
}

/* n is o without the pair path[top] under path[0..top). */
static bool same_after_remove(const sbx_ynode *o, const sbx_ynode *n, const char *const *path,
			      size_t top)
{
	size_t k = 0;

	if (!o || o->kind != SBX_YNODE_MAP)
		return false;
	if (top == 0 && o->count == 1)
		return !n || (n->kind == SBX_YNODE_MAP && n->count == 0);
	if (!n || n->kind != SBX_YNODE_MAP || n->count + (top == 0) != o->count)
		return false;
	for (size_t i = 0; i < o->count; i++) {
		if (!ykey_is(o->keys[i], path[0])) {
			if (!scalar_equal(o->keys[i], n->keys[k]) || !node_equal(o->items[i], n->items[k]))
				return false;
		} else if (top == 0) {
			continue;
		} else if (!scalar_equal(o->keys[i], n->keys[k]) ||
			   !same_after_remove(o->items[i], n->items[k], path + 1, top - 1)) {
			return false;
		}
		k++;
	}
	return true;
}

/* ---- the API ---- */

static int check_path(const char *const *path, size_t depth, const char *value)
{
	int r = 0;

	if (depth == 0) {
		r = sbx_error_set(SBX_EINVAL, "no key given; name a key such as 'spec.owner'");
		goto done;
	}
	if (depth > SBX_YAML_MAX_DEPTH) {
		r = sbx_error_set(SBX_EINVAL, "the key path is %zu keys deep; the limit is %d",
				  depth, SBX_YAML_MAX_DEPTH);
		goto done;
	}
	for (size_t i = 0; i < depth; i++) {
		assert(path[i]);
		if (!utf8_valid(path[i])) {
			r = sbx_error_set(SBX_EINVAL, "key %zu of the path is not valid UTF-8", i + 1);
			goto done;
		}
	}
	if (value && !utf8_valid(value))
		r = sbx_error_set(SBX_EINVAL, "the value is not valid UTF-8");
done:
	return r;
}

/* Apply p to d into a new buffer, reload it and check it against the
 * original tree; on success doc takes the new text. */
static int commit(sbx_buf *doc, const struct doc *d, const struct plan *p, const sbx_ynode *before,
		  const char *const *path, size_t depth, const char *value)
{
	sbx_diags diags = SBX_DIAGS_INIT;
	sbx_buf out, where = SBX_BUF_INIT;
	sbx_ynode *after = NULL;
	size_t at = 0;
	bool same;
	int r = 0;

	sbx_buf_init(&out, doc->max);
	for (size_t i = 0; i < p->n; i++) {
		if (p->s[i].text.failed) {
			r = sbx_error_set(SBX_ENOMEM, "out of memory");
			goto done;
		}
		sbx_buf_put(&out, d->text + at, p->s[i].start - at);
		sbx_buf_put(&out, p->s[i].text.ptr, p->s[i].text.len);
		at = p->s[i].end;
	}
	r = sbx_buf_put(&out, d->text + at, d->len - at);
	if (r < 0)
		goto done;
	put_path(&where, path, depth);
	r = sbx_yaml_load(&after, "file", out.ptr ? out.ptr : "", out.len, &diags);
	if (r == SBX_EINVAL) {
		sbx_buf msg = SBX_BUF_INIT;

		sbx_diags_sort(&diags);
		sbx_buf_printf(&msg, "editing '%s' would leave a file that does not load",
			       sbx_buf_cstr(&where));
		r = error_from_diags(&diags, sbx_buf_cstr(&msg));
		sbx_buf_dispose(&msg);
	}
	if (r < 0)
		goto done;
	same = value ? same_after_set(before, after, path, depth, value)
		     : same_after_remove(before, after, path, p->top);
	if (!same) {
		r = sbx_error_set(SBX_EINVAL, "cannot edit '%s' here without changing other values; "
				  "edit the file by hand", sbx_buf_cstr(&where));
		goto done;
	}
	sbx_buf_dispose(doc);
	*doc = out;
	sbx_buf_init(&out, 0);
done:
	sbx_ynode_free(after);
	sbx_diags_dispose(&diags);
	sbx_buf_dispose(&where);
	sbx_buf_dispose(&out);
	return r;
}

int sbx_yaml_edit_set(sbx_buf *doc, const char *const *path, size_t depth, const char *value)
{
	struct plan p = { .n = 0 };
	struct doc d = { .root = NULL };
	sbx_ynode *before = NULL;
	int r;

	assert(doc && value && (path || depth == 0));
	r = check_path(path, depth, value);
	if (r < 0)
		goto done;
	r = doc_open(&d, &before, doc);
	if (r < 0)
		goto done;
	r = plan_set(&p, &d, path, depth, value);
	if (r < 0)
		goto done;
	r = commit(doc, &d, &p, before, path, depth, value);
done:
	plan_dispose(&p);
	doc_dispose(&d);
	sbx_ynode_free(before);
	return r;
}

int sbx_yaml_edit_remove(sbx_buf *doc, const char *const *path, size_t depth)
{
	struct plan p = { .n = 0 };
	struct doc d = { .root = NULL };
	sbx_ynode *before = NULL;
	int r;

	assert(doc && (path || depth == 0));
	r = check_path(path, depth, NULL);
	if (r < 0)
		goto done;
	r = doc_open(&d, &before, doc);
	if (r < 0)
		goto done;
	r = plan_remove(&p, &d, path, depth);
	if (r < 0 || p.noop)
		goto done;
	r = commit(doc, &d, &p, before, path, depth, NULL);
done:
	plan_dispose(&p);
	doc_dispose(&d);
	sbx_ynode_free(before);
	return r;
}
