// SPDX-License-Identifier: Apache-2.0
/*
 * Subset comparison of desired and live objects, object keys and the
 * tracking annotation.
 */
#include <string.h>

#include "diff.h"
#include "render.h"

static void path_push(sbx_buf *why, const char *seg, int index)
{
	if (!why)
		return;
	if (seg)
		sbx_buf_printf(why, "%s%s", why->len ? "." : "", seg);
	else
		sbx_buf_printf(why, "[%d]", index);
}

static bool subset(const cJSON *d, const cJSON *l, sbx_buf *why)
{
	if (cJSON_IsNull(d))
		return !l || cJSON_IsNull(l);
	if (!l)
		return false;
	if (cJSON_IsObject(d)) {
		const cJSON *c;

		if (!cJSON_IsObject(l))
			return false;
		cJSON_ArrayForEach(c, d) {
			size_t mark = why ? why->len : 0;

			path_push(why, c->string, 0);
			if (!subset(c, cJSON_GetObjectItemCaseSensitive(l, c->string), why))
				return false;
			if (why) {
				why->len = mark;
				if (why->ptr)
					why->ptr[mark] = '\0';
			}
		}
		return true;
	}
	if (cJSON_IsArray(d)) {
		const cJSON *a = d->child, *b;
		int i = 0;

		if (!cJSON_IsArray(l) || cJSON_GetArraySize(d) != cJSON_GetArraySize(l))
			return false;
		for (b = l->child; a && b; a = a->next, b = b->next, i++) {
			size_t mark = why ? why->len : 0;

			path_push(why, NULL, i);
			if (!subset(a, b, why))
				return false;
			if (why) {
				why->len = mark;
				if (why->ptr)
					why->ptr[mark] = '\0';
			}
		}
		return true;
	}
	if (cJSON_IsString(d))
		return cJSON_IsString(l) && strcmp(d->valuestring, l->valuestring) == 0;
	if (cJSON_IsNumber(d))
		return cJSON_IsNumber(l) && d->valuedouble == l->valuedouble;
	if (cJSON_IsBool(d))
		return cJSON_IsBool(l) && cJSON_IsTrue(d) == cJSON_IsTrue(l);
	return false;
}

bool sbx_diff_subset(const cJSON *desired, const cJSON *live, sbx_buf *why)
{
	return subset(desired, live, why);
}

static const char *str_at(const cJSON *obj, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsString(v) ? v->valuestring : "";
}

int sbx_diff_key(sbx_buf *out, const cJSON *obj)
{
	const char *av = str_at(obj, "apiVersion", NULL), *slash = strchr(av, '/');

	return sbx_buf_printf(out, "%.*s/%s/%s/%s", slash ? (int)(slash - av) : 0, av,
			      str_at(obj, "kind", NULL), str_at(obj, "metadata", "namespace"),
			      str_at(obj, "metadata", "name"));
}

bool sbx_diff_owned(const cJSON *obj, const char *instance)
{
	const char *id = sbx_diff_tracking_id(obj);
	sbx_buf want = SBX_BUF_INIT;
	bool ours;

	if (!id || !instance)
		return false;
	sbx_render_tracking_id(&want, instance, obj);
	ours = !want.failed && strcmp(id, sbx_buf_cstr(&want)) == 0;
	sbx_buf_dispose(&want);
	return ours;
}

const char *sbx_diff_tracking_id(const cJSON *obj)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, "metadata"),
						 "annotations"), SBX_ANNOTATION_TRACKING);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}
