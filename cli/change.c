// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "change.h"
#include "quantity.h"
#include "render.h"

static cJSON *at(const cJSON *o, const char *a, const char *b)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	return b ? cJSON_GetObjectItemCaseSensitive(v, b) : v;
}

static const char *str(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = at(o, a, b);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

void cli_change_normalize(cJSON *obj)
{
	cJSON *meta = at(obj, "metadata", NULL), *ann;
	static const char *const server[] = { "managedFields", "resourceVersion", "generation", "uid",
					      "creationTimestamp", NULL };

	if (!obj)
		return;
	for (const char *const *k = server; *k; k++)
		cJSON_DeleteItemFromObjectCaseSensitive(meta, *k);
	cJSON_DeleteItemFromObjectCaseSensitive(obj, "status");
	ann = at(meta, "annotations", NULL);
	cJSON_DeleteItemFromObjectCaseSensitive(ann, SBX_ANNOTATION_HASH);
	if (ann && !ann->child)
		cJSON_DeleteItemFromObjectCaseSensitive(meta, "annotations");
}

static void mask(cJSON *map, const cJSON *other, const char *changed)
{
	cJSON *v, *next;

	for (v = map ? map->child : NULL; v; v = next) {
		const cJSON *o = cJSON_GetObjectItemCaseSensitive(other, v->string);
		bool same = o && cJSON_Compare(v, o, true);

		next = v->next; /* v is freed by the replacement */
		cJSON_ReplaceItemInObjectCaseSensitive(map, v->string, cJSON_CreateString(same ? "***" : changed));
	}
}

void cli_change_mask_secrets(cJSON *live, cJSON *merged)
{
	const char *kind = str(live, "kind", NULL) ? str(live, "kind", NULL) : str(merged, "kind", NULL);

	if (!kind || strcmp(kind, "Secret") != 0)
		return;
	for (const char *const *f = (const char *const[]){ "data", "stringData", NULL }; *f; f++) {
		cJSON *l = at(live, *f, NULL), *m = at(merged, *f, NULL);
		cJSON *lc = cJSON_Duplicate(l, 1);

		/* each side is compared with the other as it was, unmasked */
		mask(l, m, "*** (before)");
		mask(m, lc, "*** (after)");
		cJSON_Delete(lc);
	}
}

static void cut(sbx_buf *b, size_t len)
{
	b->len = len;
	if (b->ptr)
		b->ptr[len] = '\0';
}

static void put_path(sbx_buf *b, const char *key)
{
	if (strpbrk(key, "./") || !*key)
		sbx_buf_printf(b, "[\"%s\"]", key);
	else
		sbx_buf_printf(b, "%s%s", b->len ? "." : "", key);
}

static void add(cJSON *out, const sbx_buf *path, const cJSON *from, const cJSON *to)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "path", sbx_buf_cstr(path));
	if (from)
		cJSON_AddItemToObject(e, "from", cJSON_Duplicate(from, 1));
	if (to)
		cJSON_AddItemToObject(e, "to", cJSON_Duplicate(to, 1));
	cJSON_AddItemToArray(out, e);
}

static void walk(cJSON *out, sbx_buf *path, const cJSON *a, const cJSON *b)
{
	size_t mark = path->len;

	if (a && b && cJSON_Compare(a, b, true))
		return;
	if (a && b && cJSON_IsObject(a) && cJSON_IsObject(b)) {
		const cJSON *v;

		cJSON_ArrayForEach(v, a) {
			put_path(path, v->string);
			walk(out, path, v, cJSON_GetObjectItemCaseSensitive(b, v->string));
			cut(path, mark);
		}
		cJSON_ArrayForEach(v, b) {
			if (cJSON_GetObjectItemCaseSensitive(a, v->string))
				continue;
			put_path(path, v->string);
			walk(out, path, NULL, v);
			cut(path, mark);
		}
		return;
	}
	if (a && b && cJSON_IsArray(a) && cJSON_IsArray(b)) {
		int na = cJSON_GetArraySize(a), nb = cJSON_GetArraySize(b);

		for (int i = 0; i < (na > nb ? na : nb); i++) {
			sbx_buf_printf(path, "[%d]", i);
			walk(out, path, cJSON_GetArrayItem(a, i), cJSON_GetArrayItem(b, i));
			cut(path, mark);
		}
		return;
	}
	add(out, path, a, b);
}

void cli_change_fields(cJSON *out, const cJSON *live, const cJSON *merged)
{
	sbx_buf path = SBX_BUF_INIT;

	walk(out, &path, live, merged);
	sbx_buf_dispose(&path);
}

static long long replicas(const cJSON *o)
{
	const cJSON *r = at(at(o, "spec", NULL), "replicas", NULL);

	return cJSON_IsNumber(r) ? (long long)r->valuedouble : 1; /* the API's default */
}

void cli_change_effects(cli_effects *e, const cJSON *live, const cJSON *merged)
{
	const char *kind = str(merged ? merged : live, "kind", NULL);

	if (!kind || !live || !merged)
		return;
	if (!strcmp(kind, "Deployment")) {
		const cJSON *lt = at(at(live, "spec", NULL), "template", NULL);
		const cJSON *mt = at(at(merged, "spec", NULL), "template", NULL);

		if (!cJSON_Compare(lt, mt, true))
			e->restarts = true;
		if (replicas(live) == 0 && replicas(merged) > 0)
			e->starts = true;
		if (replicas(live) > 0 && replicas(merged) == 0)
			e->stops = true;
	} else if (!strcmp(kind, "PersistentVolumeClaim")) {
		const char *from = str(at(at(live, "spec", NULL), "resources", "requests"), "storage", NULL);
		const char *to = str(at(at(merged, "spec", NULL), "resources", "requests"), "storage", NULL);
		sbx_quantity qf, qt;

		if (from && to && sbx_quantity_parse(&qf, from) == 0 && sbx_quantity_parse(&qt, to) == 0 &&
		    sbx_quantity_cmp(&qt, &qf) > 0) {
			e->grows = true;
			snprintf(e->grow_from, sizeof(e->grow_from), "%s", from);
			snprintf(e->grow_to, sizeof(e->grow_to), "%s", to);
		}
	}
}

/* s with every ns and sandbox replaced by placeholders (the namespace
 * first: it holds the name) */
static void put_generic(sbx_buf *out, const char *s, const char *sandbox, const char *ns)
{
	while (*s) {
		if (ns && *ns && !strncmp(s, ns, strlen(ns))) {
			sbx_buf_puts(out, "<namespace>");
			s += strlen(ns);
		} else if (sandbox && *sandbox && !strncmp(s, sandbox, strlen(sandbox))) {
			sbx_buf_puts(out, "<name>");
			s += strlen(sandbox);
		} else {
			sbx_buf_putc(out, *s++);
		}
	}
}

void cli_change_key(sbx_buf *out, const char *action, const cJSON *obj, const cJSON *fields,
		    const char *sandbox, const char *ns)
{
	const cJSON *f;

	sbx_buf_printf(out, "%s %s ", action, str(obj, "kind", NULL) ? str(obj, "kind", NULL) : "?");
	put_generic(out, str(at(obj, "metadata", NULL), "name", NULL) ? str(at(obj, "metadata", NULL), "name", NULL) : "",
		    sandbox, ns);
	sbx_buf_putc(out, '\n');
	cJSON_ArrayForEach(f, fields) {
		char *from = cJSON_PrintUnformatted(at(f, "from", NULL));
		char *to = cJSON_PrintUnformatted(at(f, "to", NULL));

		sbx_buf_puts(out, "  ");
		put_generic(out, str(f, "path", NULL), sandbox, ns);
		sbx_buf_puts(out, ": ");
		put_generic(out, from ? from : "(none)", sandbox, ns);
		sbx_buf_puts(out, " -> ");
		put_generic(out, to ? to : "(none)", sandbox, ns);
		sbx_buf_putc(out, '\n');
		free(from);
		free(to);
	}
}
