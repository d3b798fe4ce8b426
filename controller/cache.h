/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The controller's view of the cluster: list+watch of every kind it
 * manages, namespaced kinds filtered by the managed-by label and
 * cluster-scoped ones (Namespace, Sandbox) whole, so that a name missing
 * from the cache is free and needs no look-up. Kept in a map from object key
 * ("GROUP/KIND/NAMESPACE/NAME") to the live object in a compact form
 * (compact.h: without what nothing reads, compressed), unpacked when read.
 * Tells the controller which sandbox an event touched.
 */
#ifndef SBX_CONTROLLER_CACHE_H
#define SBX_CONTROLLER_CACHE_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "kube.h"

typedef struct cache cache;

/* Called for every added, changed or removed object with its sandbox name
 * (the sandbox.dev/name label; NULL for an object without it, such as a
 * Namespace or Sandbox someone else made) and its key. */
typedef void (*cache_changed_fn)(const char *sandbox, const char *key, bool removed, void *payload);

/* Start watching. Returns 0 and *out (caller must cache_free), or SBX_E*. */
int cache_new(cache **out, sbx_kube *k, cache_changed_fn fn, void *payload);

/* Whether every watch delivered its first full list (and the cache is
 * not broken). */
bool cache_synced(const cache *c);

/* Whether an object could not be stored or read back, or a relist could
 * not drop what it no longer showed (out of memory): the cache may then
 * lack objects that exist or hold some that are gone, so nothing may be
 * decided from it any more; it stays so until a restart. */
bool cache_broken(const cache *c);

/* The live object with this key (trimmed: compact.h), or NULL. Unpacked
 * from the compact form and lent until cache_release(), which the loop
 * calls before every sbx_kube_run() and after starting each reconcile. */
const cJSON *cache_get(cache *c, const char *key);

/* Visit every cached object labelled with this sandbox name (lent as by
 * cache_get). */
void cache_each(cache *c, const char *sandbox,
		void (*fn)(const char *key, const cJSON *obj, void *payload), void *payload);

/* The key of every Sandbox object starts with this, its name follows. */
#define SANDBOX_KEY_PREFIX "sandbox.dev/Sandbox//"

/* Visit every cached object whose key starts with prefix
 * (SANDBOX_KEY_PREFIX for all Sandbox objects). For a scan of many,
 * each object is valid during its own call only. */
void cache_each_prefix(cache *c, const char *prefix,
		       void (*fn)(const char *key, const cJSON *obj, void *payload), void *payload);

/* The same, keys only: nothing is unpacked, so a scan that needs only the
 * names (a Sandbox's key ends with its name) costs no parse. */
void cache_each_key(cache *c, const char *prefix, void (*fn)(const char *key, void *payload),
		    void *payload);

/* A mark for cache_release_to(): how many objects are lent now. */
size_t cache_mark(const cache *c);

/* End the loan of every object lent since cache_mark() returned mark:
 * pointers into those objects are invalid after it. */
void cache_release_to(cache *c, size_t mark);

/* End every loan (cache_release_to(c, 0)). */
void cache_release(cache *c);

/* Objects held, and relists so far (all kinds). */
size_t cache_count(const cache *c);
unsigned cache_relists(const cache *c);

void cache_free(cache *c);

#endif
