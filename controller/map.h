/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A string-keyed hash map (open addressing, FNV-1a) for the controller's
 * caches and queues. Keys are copied; values are the caller's.
 */
#ifndef SBX_CONTROLLER_MAP_H
#define SBX_CONTROLLER_MAP_H

#include <stddef.h>

typedef struct map map;

/* NULL on out of memory. */
map *map_new(void);

/* Free the map and its keys; `free_value` (may be NULL) runs on each value. */
void map_free(map *m, void (*free_value)(void *));

/* The value for key, or NULL. */
void *map_get(const map *m, const char *key);

/* Set key to value; the old value (or NULL) is returned through *old when
 * old is not NULL. Returns 0 or -1 on out of memory. */
int map_put(map *m, const char *key, void *value, void **old);

/* Remove key; returns its value or NULL. */
void *map_del(map *m, const char *key);

size_t map_count(const map *m);

/* Visit every entry (order unspecified). The callback must not change the
 * map. */
void map_each(const map *m, void (*fn)(const char *key, void *value, void *payload), void *payload);

#endif
