// SPDX-License-Identifier: Apache-2.0
/*
 * Pair desired and live objects by key, decide apply, check, conflict,
 * drift and prune for one sandbox.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diff.h"
#include "error.h"
#include "hostkey.h"
#include "kinds.h"
#include "plan.h"
#include "render.h"

static const char *str(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *annotation(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "metadata"),
						 "annotations"), key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const sbx_kind *kind_of(const cJSON *o)
{
	const char *av = str(o, "apiVersion", NULL), *k = str(o, "kind", NULL);

	return av && k ? sbx_kind_find(av, k) : NULL;
}

int sbx_plan_wave(const cJSON *obj)
{
	const char *k = str(obj, "kind", NULL);
	const sbx_kind *kind = kind_of(obj);

	if (k && !strcmp(k, "Sandbox"))
		return -1;
	return kind ? kind->wave : 3;
}

bool sbx_plan_never_pruned(const cJSON *obj)
{
	const char *k = str(obj, "kind", NULL), *name = str(obj, "metadata", "name");

	return !k || !strcmp(k, "Namespace") || !strcmp(k, "PersistentVolumeClaim") ||
	       !strcmp(k, "Sandbox") || (!strcmp(k, "Secret") && name && !strcmp(name, SBX_HOSTKEY_SECRET));
}

/* A list of objects with their keys, built once. */
struct keyed {
	const cJSON **obj;
	char **key;
	size_t n;
};

static int keyed_make(struct keyed *k, const cJSON *list)
{
	size_t n = (size_t)cJSON_GetArraySize(list);
	const cJSON *o;

	k->n = 0;
	k->obj = calloc(n + 1, sizeof(*k->obj));
	k->key = calloc(n + 1, sizeof(*k->key));
	if (!k->obj || !k->key)
		return SBX_ENOMEM;
	cJSON_ArrayForEach(o, list) {
		sbx_buf b = SBX_BUF_INIT;

		sbx_diff_key(&b, o);
		if (!(k->key[k->n] = sbx_buf_take(&b, NULL)))
			return SBX_ENOMEM;
		k->obj[k->n++] = o;
	}
	return 0;
}

static void keyed_dispose(struct keyed *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->key[i]);
	free(k->key);
	free(k->obj);
}

/* The object with this key, or NULL. */
static const cJSON *find(const struct keyed *k, const char *key)
{
	for (size_t i = 0; i < k->n; i++)
		if (!strcmp(k->key[i], key))
			return k->obj[i];
	return NULL;
}

static int add_copy(cJSON *list, const cJSON *obj)
{
	cJSON *c = cJSON_Duplicate(obj, 1);

	if (!c || !cJSON_AddItemToArray(list, c)) {
		cJSON_Delete(c);
		return SBX_ENOMEM;
	}
	return 0;
}

static int add_conflict(cJSON *list, const cJSON *obj, const char *instance)
{
	sbx_buf who = SBX_BUF_INIT;
	const char *ns = str(obj, "metadata", "namespace");
	int r = 0;

	sbx_buf_printf(&who, "%s %s%s%s exists and is not managed by %s", str(obj, "kind", NULL),
		       ns ? ns : "", ns ? "/" : "", str(obj, "metadata", "name"), instance);
	if (who.failed || !cJSON_AddItemToArray(list, cJSON_CreateString(sbx_buf_cstr(&who))))
		r = SBX_ENOMEM;
	sbx_buf_dispose(&who);
	return r;
}

int sbx_plan_make(sbx_plan *out, const cJSON *desired, const cJSON *live,
		  const sbx_plan_options *o)
{
	sbx_plan p = { cJSON_CreateArray(), cJSON_CreateArray(), cJSON_CreateArray(),
		       cJSON_CreateArray(), 0, 0, false };
	struct keyed want = { 0 }, have = { 0 };
	sbx_buf key = SBX_BUF_INIT;
	const cJSON *live_ns = NULL;
	const char *ns = NULL;
	bool ns_ours;
	int r = 0;

	if (!p.apply || !p.check || !p.conflicts || !p.prune || keyed_make(&want, desired) < 0 ||
	    keyed_make(&have, live) < 0) {
		r = SBX_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < want.n; i++) {
		const char *k = str(want.obj[i], "kind", NULL);

		if (k && !strcmp(k, "Namespace"))
			ns = str(want.obj[i], "metadata", "name");
	}
	if (ns) {
		sbx_buf_printf(&key, "/Namespace//%s", ns);
		live_ns = find(&have, sbx_buf_cstr(&key));
	}
	ns_ours = live_ns && sbx_diff_owned(live_ns, o->instance);
	for (size_t i = 0; i < want.n; i++) {
		const cJSON *obj = want.obj[i], *l = find(&have, want.key[i]);
		const sbx_kind *kind = kind_of(obj);
		const char *was, *now;

		if (l && !sbx_diff_owned(l, o->instance)) {
			if ((r = add_conflict(p.conflicts, obj, o->instance)) < 0)
				goto done;
			continue;
		}
		if (l && sbx_diff_subset(obj, l, NULL))
			continue;
		if ((r = add_copy(p.apply, obj)) < 0)
			goto done;
		/* a field changed although what we applied last is what we still
		 * want: someone else changed it */
		was = annotation(l, SBX_ANNOTATION_HASH);
		now = annotation(obj, SBX_ANNOTATION_HASH);
		if (l && was && now && !strcmp(was, now))
			p.drifted++;
		/* not known live: it may exist without our labels, unless the
		 * caller sees every object of its kind, or it belongs in a
		 * namespace we do not hold yet, which the namespace's own check
		 * covers */
		if (!l && (!kind || (kind->namespaced ? ns_ours : !o->cluster_known)) &&
		    (r = add_copy(p.check, obj)) < 0)
			goto done;
	}
	if (ns) {
		sbx_buf_clear(&key);
		sbx_buf_printf(&key, "/Secret/%s/%s", ns, SBX_HOSTKEY_SECRET);
		p.hostkey = !find(&have, sbx_buf_cstr(&key));
	}
	for (size_t i = 0; i < have.n; i++) {
		const cJSON *obj = have.obj[i];

		if (sbx_plan_never_pruned(obj) || !sbx_diff_owned(obj, o->instance) ||
		    str(obj, "metadata", "deletionTimestamp") || find(&want, have.key[i]))
			continue;
		if (!o->prune)
			p.held++;
		else if ((r = add_copy(p.prune, obj)) < 0)
			goto done;
	}
	if (key.failed)
		r = SBX_ENOMEM;
done:
	sbx_buf_dispose(&key);
	keyed_dispose(&want);
	keyed_dispose(&have);
	if (r < 0) {
		sbx_plan_dispose(&p);
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	}
	*out = p;
	return 0;
}

void sbx_plan_dispose(sbx_plan *p)
{
	if (!p)
		return;
	cJSON_Delete(p->apply);
	cJSON_Delete(p->check);
	cJSON_Delete(p->conflicts);
	cJSON_Delete(p->prune);
	memset(p, 0, sizeof(*p));
}
