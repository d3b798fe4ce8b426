/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The controller's view of the cluster: list+watch of every kind it
 * manages, namespaced kinds filtered by the managed-by label and
 * cluster-scoped ones (Namespace, Sandbox) whole, so that a name missing
 * from the cache is free and needs no look-up. Kept in a map from object key
 * ("GROUP/KIND/NAMESPACE/NAME") to the live object without the parts
 * diffing and health never read (managedFields, last-applied). Tells the
 * controller which sandbox an event touched.
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

/* Whether every watch delivered its first full list. */
bool cache_synced(const cache *c);

/* The live object with this key, or NULL. Borrowed until the next
 * sbx_kube_run(). */
const cJSON *cache_get(const cache *c, const char *key);

/* Visit every cached object labelled with this sandbox name. */
void cache_each(const cache *c, const char *sandbox,
		void (*fn)(const char *key, const cJSON *obj, void *payload), void *payload);

/* Visit every cached object whose key starts with prefix
 * ("sandbox.dev/Sandbox//" for all Sandbox objects). */
void cache_each_prefix(const cache *c, const char *prefix,
		       void (*fn)(const char *key, const cJSON *obj, void *payload), void *payload);

/* Objects held, and relists so far (all kinds). */
size_t cache_count(const cache *c);
unsigned cache_relists(const cache *c);

void cache_free(cache *c);

#endif
