// SPDX-License-Identifier: Apache-2.0
/*
 * Open-addressing hash map with linear probing and tombstones; grows at
 * 70% load.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "map.h"

#define TOMBSTONE ((char *)1)

struct slot {
	char *key;   /* NULL: empty; TOMBSTONE: deleted */
	void *value;
};

struct map {
	struct slot *slots;
	size_t cap, count, used;   /* used counts tombstones too */
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

map *map_new(void)
{
	map *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->cap = 64;
	m->slots = calloc(m->cap, sizeof(*m->slots));
	if (!m->slots) {
		free(m);
		return NULL;
	}
	return m;
}

void map_free(map *m, void (*free_value)(void *))
{
	if (!m)
		return;
	for (size_t i = 0; i < m->cap; i++) {
		if (m->slots[i].key && m->slots[i].key != TOMBSTONE) {
			if (free_value)
				free_value(m->slots[i].value);
			free(m->slots[i].key);
		}
	}
	free(m->slots);
	free(m);
}

static struct slot *find(const map *m, const char *key)
{
	size_t i = hash(key) & (m->cap - 1);

	for (;;) {
		struct slot *s = &m->slots[i];

		if (!s->key)
			return NULL;
		if (s->key != TOMBSTONE && strcmp(s->key, key) == 0)
			return s;
		i = (i + 1) & (m->cap - 1);
	}
}

void *map_get(const map *m, const char *key)
{
	struct slot *s = find(m, key);

	return s ? s->value : NULL;
}

static int grow(map *m)
{
	struct slot *old = m->slots;
	size_t oldcap = m->cap;

	m->cap = m->count * 2 >= m->cap / 2 ? m->cap * 2 : m->cap;
	m->slots = calloc(m->cap, sizeof(*m->slots));
	if (!m->slots) {
		m->slots = old;
		m->cap = oldcap;
		return -1;
	}
	m->used = m->count;
	for (size_t i = 0; i < oldcap; i++) {
		if (old[i].key && old[i].key != TOMBSTONE) {
			size_t j = hash(old[i].key) & (m->cap - 1);

			while (m->slots[j].key)
				j = (j + 1) & (m->cap - 1);
			m->slots[j] = old[i];
		}
	}
	free(old);
	return 0;
}

int map_put(map *m, const char *key, void *value, void **old)
{
	struct slot *s = find(m, key);
	size_t i;

	if (s) {
		if (old)
			*old = s->value;
		s->value = value;
		return 0;
	}
	if (old)
		*old = NULL;
	if ((m->used + 1) * 10 >= m->cap * 7 && grow(m) < 0)
		return -1;
	i = hash(key) & (m->cap - 1);
	while (m->slots[i].key && m->slots[i].key != TOMBSTONE)
		i = (i + 1) & (m->cap - 1);
	if (!m->slots[i].key)
		m->used++;
	m->slots[i].key = strdup(key);
	if (!m->slots[i].key)
		return -1;
	m->slots[i].value = value;
	m->count++;
	return 0;
}

void *map_del(map *m, const char *key)
{
	struct slot *s = find(m, key);
	void *v;

	if (!s)
		return NULL;
	v = s->value;
	free(s->key);
	s->key = TOMBSTONE;
	s->value = NULL;
	m->count--;
	return v;
}

size_t map_count(const map *m)
{
	return m->count;
}

void map_each(const map *m, void (*fn)(const char *key, void *value, void *payload), void *payload)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key && m->slots[i].key != TOMBSTONE)
			fn(m->slots[i].key, m->slots[i].value, payload);
}
