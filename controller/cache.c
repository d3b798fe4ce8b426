// SPDX-License-Identifier: Apache-2.0
/*
 * List+watch per managed kind into one map; relists drop what was not seen;
 * every change is reported with the sandbox it belongs to.
 */
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "compact.h"
#include "diff.h"
#include "error.h"
#include "map.h"
#include "render.h"

struct watch {
	cache *c;
	const sbx_kind *kind;
	sbx_kube_watch *w;
	unsigned generation;   /* bumped by each list: entries older than it are gone */
	char *dict;            /* the first object of this kind with a sandbox label, which
				* the others are packed against (NULL until then) */
	size_t dlen;
};

struct entry {
	compact_blob blob;     /* the object (compact.h) */
	bool dict;             /* packed against its watch's dictionary */
	struct watch *from;
	unsigned generation;
	char *sandbox;         /* its sandbox label, or NULL */
	cJSON *parsed;         /* unpacked until cache_release: scratch[slot] */
	size_t slot;
};

/* An unpacked object lent out until cache_release; `e` is NULL once its
 * entry is gone. */
struct lent {
	cJSON *obj;
	struct entry *e;
};

struct cache {
	sbx_kube *k;
	map *objects;          /* key -> struct entry */
	map *by_sandbox;       /* sandbox name -> map of its keys (no values),
				* so one sandbox's objects cost no full scan */
	struct watch *watches;
	size_t nwatches;
	cache_changed_fn fn;
	void *payload;
	compact *packer;
	struct lent *scratch;
	size_t nscratch, capscratch;
	bool broken;           /* an object could not be stored or read (out of memory) */
};

static const char *label(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "labels"),
		name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void free_entry(void *p)
{
	struct entry *e = p;

	if (e) {
		compact_blob_dispose(&e->blob);
		free(e->sandbox);
		free(e);
	}
}

/* Free an entry; what it lent out stays valid until cache_release. */
static void drop_entry(cache *c, struct entry *e)
{
	if (e && e->parsed)
		c->scratch[e->slot].e = NULL;
	free_entry(e);
}

/* The dictionary an entry was packed against. */
static const char *dict_of(const struct entry *e, size_t *len)
{
	*len = e->dict ? e->from->dlen : 0;
	return e->dict ? e->from->dict : NULL;
}

/* The object of e, unpacked and lent until cache_release. */
static const cJSON *lend(cache *c, struct entry *e)
{
	const char *dict;
	size_t dlen;
	cJSON *obj;

	if (e->parsed)
		return e->parsed;
	if (c->nscratch == c->capscratch) {
		size_t cap = c->capscratch ? 2 * c->capscratch : 64;
		struct lent *s = realloc(c->scratch, cap * sizeof(*s));

		if (!s) {
			c->broken = true;
			return NULL;
		}
		c->scratch = s;
		c->capscratch = cap;
	}
	dict = dict_of(e, &dlen);
	if (!(obj = compact_unpack(c->packer, &e->blob, dict, dlen))) {
		c->broken = true;
		return NULL;
	}
	c->scratch[c->nscratch] = (struct lent){ obj, e };
	e->slot = c->nscratch++;
	e->parsed = obj;
	return obj;
}

static void free_keys(void *keys)
{
	map_free(keys, NULL);
}

static void index_add(cache *c, const char *sandbox, const char *key)
{
	map *keys;

	if (!sandbox)
		return;
	keys = map_get(c->by_sandbox, sandbox);
	if (!keys) {
		if (!(keys = map_new()))
			return;
		if (map_put(c->by_sandbox, sandbox, keys, NULL) < 0) {
			map_free(keys, NULL);
			return;
		}
	}
	map_put(keys, key, NULL, NULL);
}

static void index_del(cache *c, const char *sandbox, const char *key)
{
	map *keys = sandbox ? map_get(c->by_sandbox, sandbox) : NULL;

	if (!keys)
		return;
	map_del(keys, key);
	if (!map_count(keys))
		free_keys(map_del(c->by_sandbox, sandbox));
}

/* Pack obj into e: against the watch's dictionary, which the first object
 * with a sandbox label becomes, without its data (a Secret's key must not
 * outlive its sandbox there). */
static int pack(struct watch *w, struct entry *e, const cJSON *obj)
{
	cJSON *shape;

	if (!w->dict && e->sandbox && (shape = cJSON_Duplicate(obj, true))) {
		cJSON_DeleteItemFromObjectCaseSensitive(shape, "data");
		if ((w->dict = cJSON_PrintUnformatted(shape)))
			w->dlen = strlen(w->dict);
		cJSON_Delete(shape);
	}
	e->dict = w->dict != NULL;
	return compact_pack(w->c->packer, obj, w->dict, w->dlen, &e->blob);
}

/* Takes obj: trimmed, packed and freed. */
static void on_upsert(cJSON *obj, void *payload)
{
	struct watch *w = payload;
	sbx_buf key = SBX_BUF_INIT;
	struct entry *e, *old = NULL;
	const char *name = label(obj, SBX_LABEL_NAME); /* NULL-safe */

	if (!obj)
		return; /* detaching it failed */
	sbx_diff_key(&key, obj);
	e = calloc(1, sizeof(*e));
	if (!e || key.failed || (name && !(e->sandbox = strdup(name)))) {
		w->c->broken = true;
		free(e);
		cJSON_Delete(obj);
		sbx_buf_dispose(&key);
		return;
	}
	compact_trim(obj);
	e->from = w;
	e->generation = w->generation;
	if (pack(w, e, obj) < 0 || map_put(w->c->objects, key.ptr, e, (void **)&old) < 0) {
		w->c->broken = true;
		free_entry(e);
	} else {
		index_add(w->c, e->sandbox, key.ptr);
		if (old && (!old->sandbox || !e->sandbox || strcmp(old->sandbox, e->sandbox)))
			index_del(w->c, old->sandbox, key.ptr);
		drop_entry(w->c, old);
		if (w->c->fn)
			w->c->fn(e->sandbox, key.ptr, false, w->c->payload);
	}
	cJSON_Delete(obj);
	sbx_buf_dispose(&key);
}

static void on_remove(const cJSON *obj, void *payload)
{
	struct watch *w = payload;
	sbx_buf key = SBX_BUF_INIT;
	const char *name = label(obj, SBX_LABEL_NAME);
	char *copy = name ? strdup(name) : NULL;
	struct entry *e;

	sbx_diff_key(&key, obj);
	if ((e = map_del(w->c->objects, sbx_buf_cstr(&key))))
		index_del(w->c, e->sandbox, sbx_buf_cstr(&key));
	drop_entry(w->c, e);
	if (w->c->fn)
		w->c->fn(copy, key.ptr, true, w->c->payload);
	free(copy);
	sbx_buf_dispose(&key);
}

static void on_list_begin(void *payload)
{
	((struct watch *)payload)->generation++;
}

struct sweep {
	struct watch *w;
	char **gone;
	size_t n, cap;
};

static void find_stale(const char *key, void *value, void *payload)
{
	struct sweep *s = payload;
	struct entry *e = value;
	char *copy;

	if (e->from != s->w || e->generation == s->w->generation)
		return;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		char **p = realloc(s->gone, cap * sizeof(*p));

		if (!p) {
			s->w->c->broken = true; /* a stale object would stay as if it were there */
			return;
		}
		s->gone = p;
		s->cap = cap;
	}
	if (!(copy = strdup(key))) {
		s->w->c->broken = true;
		return;
	}
	s->gone[s->n++] = copy;
}

/* After a (re)list: whatever this kind had that the list did not show is
 * gone, and its sandbox must hear of it. */
static void on_list_done(void *payload)
{
	struct watch *w = payload;
	struct sweep s = { w, NULL, 0, 0 };

	map_each(w->c->objects, find_stale, &s);
	for (size_t i = 0; i < s.n; i++) {
		struct entry *e = map_del(w->c->objects, s.gone[i]);

		if (e)
			index_del(w->c, e->sandbox, s.gone[i]);
		if (e && w->c->fn)
			w->c->fn(e->sandbox, s.gone[i], true, w->c->payload);
		drop_entry(w->c, e);
		free(s.gone[i]);
	}
	free(s.gone);
}

/* What the cache watches: every kind a template may render, and the
 * Sandbox objects. */
static bool watched(const sbx_kind *kind)
{
	return kind->renderable || !strcmp(kind->kind, "Sandbox");
}

int cache_new(cache **out, sbx_kube *k, cache_changed_fn fn, void *payload)
{
	sbx_kube_watch_handlers h = { on_list_begin, on_list_done, on_upsert, on_remove };
	const sbx_kind *kind;
	cache *c = calloc(1, sizeof(*c));
	size_t n = 0;
	int r = 0;

	for (size_t i = 0; (kind = sbx_kind_at(i)); i++)
		n += watched(kind);
	if (!c || !(c->objects = map_new()) || !(c->by_sandbox = map_new()) ||
	    !(c->watches = calloc(n, sizeof(*c->watches))) || !(c->packer = compact_new())) {
		cache_free(c);
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	}
	c->k = k;
	c->fn = fn;
	c->payload = payload;
	for (size_t i = 0; (kind = sbx_kind_at(i)) && r == 0; i++) {
		struct watch *w = &c->watches[c->nwatches];

		if (!watched(kind))
			continue;
		w->c = c;
		w->kind = kind;
		/* cluster-scoped names are one space shared with everyone: those
		 * kinds are watched whole, so a name missing here is free */
		r = sbx_kube_watch_start(&w->w, k, kind, NULL,
					 kind->namespaced ? SBX_LABEL_MANAGED_BY "=" SBX_MANAGER : NULL, &h, w);
		c->nwatches++;
	}
	if (r < 0) {
		cache_free(c);
		return r;
	}
	*out = c;
	return 0;
}

bool cache_broken(const cache *c)
{
	return c->broken;
}

bool cache_synced(const cache *c)
{
	if (c->broken)
		return false;
	for (size_t i = 0; i < c->nwatches; i++)
		if (!sbx_kube_watch_synced(c->watches[i].w))
			return false;
	return true;
}

const cJSON *cache_get(cache *c, const char *key)
{
	struct entry *e = map_get(c->objects, key);

	return e ? lend(c, e) : NULL;
}

struct each {
	cache *c;
	void (*fn)(const char *key, const cJSON *obj, void *payload);
	void *payload;
};

static void visit(const char *key, void *value, void *payload)
{
	struct each *e = payload;
	struct entry *en = map_get(e->c->objects, key);
	const cJSON *obj = en ? lend(e->c, en) : NULL;

	(void)value;
	if (obj)
		e->fn(key, obj, e->payload);
}

void cache_each(cache *c, const char *sandbox,
		void (*fn)(const char *key, const cJSON *obj, void *payload), void *payload)
{
	struct each e = { c, fn, payload };
	const map *keys = map_get(c->by_sandbox, sandbox);

	if (keys)
		map_each(keys, visit, &e);
}

struct prefixed {
	cache *c;
	const char *prefix;
	size_t len;
	void (*fn)(const char *key, const cJSON *obj, void *payload);
	void (*key_fn)(const char *key, void *payload);   /* instead of fn: nothing unpacked */
	void *payload;
};

static void visit_prefix(const char *key, void *value, void *payload)
{
	struct prefixed *p = payload;
	struct entry *e = value;
	const char *dict;
	size_t dlen;
	cJSON *obj;

	if (strncmp(key, p->prefix, p->len))
		return;
	if (p->key_fn) {
		p->key_fn(key, p->payload);
		return;
	}
	if (e->parsed) {
		p->fn(key, e->parsed, p->payload);
		return;
	}
	/* unpacked for the visit only: a scan of every Sandbox lends none out */
	dict = dict_of(e, &dlen);
	if ((obj = compact_unpack(p->c->packer, &e->blob, dict, dlen)))
		p->fn(key, obj, p->payload);
	else
		p->c->broken = true;
	cJSON_Delete(obj);
}

void cache_each_prefix(cache *c, const char *prefix,
		       void (*fn)(const char *key, const cJSON *obj, void *payload), void *payload)
{
	struct prefixed p = { c, prefix, strlen(prefix), fn, NULL, payload };

	map_each(c->objects, visit_prefix, &p);
}

void cache_each_key(cache *c, const char *prefix, void (*fn)(const char *key, void *payload),
		    void *payload)
{
	struct prefixed p = { c, prefix, strlen(prefix), NULL, fn, payload };

	map_each(c->objects, visit_prefix, &p);
}

size_t cache_mark(const cache *c)
{
	return c->nscratch;
}

void cache_release_to(cache *c, size_t mark)
{
	while (c->nscratch > mark) {
		struct lent *l = &c->scratch[--c->nscratch];

		if (l->e)
			l->e->parsed = NULL;
		cJSON_Delete(l->obj);
	}
}

void cache_release(cache *c)
{
	cache_release_to(c, 0);
}

size_t cache_count(const cache *c)
{
	return map_count(c->objects);
}

unsigned cache_relists(const cache *c)
{
	unsigned n = 0;

	for (size_t i = 0; i < c->nwatches; i++)
		n += sbx_kube_watch_relists(c->watches[i].w);
	return n;
}

void cache_free(cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nwatches; i++)
		sbx_kube_watch_stop(c->watches[i].w);
	cache_release(c);
	for (size_t i = 0; i < c->nwatches; i++)
		free(c->watches[i].dict);
	free(c->watches);
	free(c->scratch);
	compact_free(c->packer);
	map_free(c->objects, free_entry);
	map_free(c->by_sandbox, free_keys);
	free(c);
}
