// SPDX-License-Identifier: Apache-2.0
/*
 * A bump allocator for cJSON while rendering many sandboxes: every object
 * of one sandbox is allocated from the arena and dropped at once when the
 * sandbox has been written, instead of thousands of malloc/free pairs.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>

#include "cmd.h"

#define CHUNK (1024 * 1024)

struct chunk {
	struct chunk *next;
	size_t used, size;
	max_align_t data[];
};

static struct chunk *head;

static void *arena_alloc(size_t n)
{
	size_t need = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	struct chunk *c = head;
	void *p;

	if (!c || c->size - c->used < need) {
		size_t size = need > CHUNK ? need : CHUNK;

		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->size = size;
		c->used = 0;
		c->next = head;
		head = c;
	}
	p = (char *)c->data + c->used;
	c->used += need;
	return p;
}

static void arena_free(void *p)
{
	(void)p; /* everything goes at arena_reset() */
}

void cli_arena_begin(void)
{
	cJSON_Hooks hooks = { arena_alloc, arena_free };

	cJSON_InitHooks(&hooks);
}

void cli_arena_reset(void)
{
	/* keep one chunk for the next sandbox */
	while (head && head->next) {
		struct chunk *next = head->next;

		free(head);
		head = next;
	}
	if (head)
		head->used = 0;
}

void cli_arena_end(void)
{
	cli_arena_reset();
	free(head);
	head = NULL;
	cJSON_InitHooks(NULL);
}
