// SPDX-License-Identifier: Apache-2.0
/*
 * Work queue: a FIFO of ready keys, a list of delayed keys, per-key state
 * (queued, processing, dirty, failures) in a map, and a token bucket.
 */
#include <stdlib.h>
#include <string.h>

#include "map.h"
#include "workqueue.h"

struct item {
	char *key;
	bool queued;       /* in the ready FIFO */
	bool processing;   /* handed out, not done */
	bool dirty;        /* added while processing */
	long long due;     /* delayed until (0: not delayed) */
	int failures;
};

struct workqueue {
	workqueue_options o;
	map *items;
	char **fifo;       /* ready keys (pointers into items) */
	size_t head, tail, cap;
	double tokens;
	long long refilled;
	size_t delayed, active;
};

static void free_item(void *p)
{
	struct item *it = p;

	if (it) {
		free(it->key);
		free(it);
	}
}

workqueue *workqueue_new(const workqueue_options *o)
{
	workqueue_options d = WORKQUEUE_OPTIONS_INIT;
	workqueue *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->o = o ? *o : d;
	q->items = map_new();
	q->cap = 64;
	q->fifo = calloc(q->cap, sizeof(char *));
	q->tokens = q->o.burst;
	q->refilled = -1;
	if (!q->items || !q->fifo) {
		workqueue_free(q);
		return NULL;
	}
	return q;
}

void workqueue_free(workqueue *q)
{
	if (!q)
		return;
	map_free(q->items, free_item);
	free(q->fifo);
	free(q);
}

static struct item *item_of(workqueue *q, const char *key)
{
	struct item *it = map_get(q->items, key);

	if (it)
		return it;
	it = calloc(1, sizeof(*it));
	if (!it || !(it->key = strdup(key)) || map_put(q->items, key, it, NULL) < 0) {
		free_item(it);
		return NULL;
	}
	return it;
}

static void push(workqueue *q, struct item *it)
{
	if (q->tail - q->head == q->cap) {
		char **f = malloc(q->cap * 2 * sizeof(*f));

		if (!f)
			return;
		for (size_t i = 0; i < q->cap; i++)
			f[i] = q->fifo[(q->head + i) % q->cap];
		free(q->fifo);
		q->fifo = f;
		q->tail = q->cap;
		q->head = 0;
		q->cap *= 2;
	}
	q->fifo[q->tail++ % q->cap] = it->key;
	it->queued = true;
}

void workqueue_add(workqueue *q, const char *key, long long now_ms)
{
	struct item *it = item_of(q, key);

	(void)now_ms;
	if (!it)
		return;
	if (it->processing) {
		it->dirty = true;
		return;
	}
	if (it->queued)
		return;
	if (it->due) {
		it->due = 0;
		q->delayed--;
	}
	push(q, it);
}

void workqueue_add_after(workqueue *q, const char *key, long delay_ms, long long now_ms)
{
	struct item *it;

	if (delay_ms <= 0) {
		workqueue_add(q, key, now_ms);
		return;
	}
	it = item_of(q, key);
	if (!it || it->queued)
		return;
	if (it->processing) {
		it->dirty = true; /* it will be re-added at once when done */
		return;
	}
	if (!it->due) {
		q->delayed++;
		it->due = now_ms + delay_ms;
	} else if (now_ms + delay_ms < it->due) {
		it->due = now_ms + delay_ms;
	}
}

struct promote {
	workqueue *q;
	long long now;
	struct item **ready;
	size_t n, cap;
};

static void collect_due(const char *key, void *value, void *payload)
{
	struct promote *p = payload;
	struct item *it = value;

	(void)key;
	if (!it->due || it->due > p->now)
		return;
	if (p->n == p->cap) {
		struct item **r = realloc(p->ready, (p->cap = p->cap ? p->cap * 2 : 16) * sizeof(*r));

		if (!r)
			return;
		p->ready = r;
	}
	p->ready[p->n++] = it;
}

static int cmp_due(const void *a, const void *b)
{
	const struct item *x = *(struct item *const *)a, *y = *(struct item *const *)b;

	return x->due < y->due ? -1 : x->due > y->due;
}

const char *workqueue_get(workqueue *q, long long now_ms)
{
	struct item *it;

	if (q->delayed) {
		struct promote p = { q, now_ms, NULL, 0, 0 };

		map_each(q->items, collect_due, &p);
		if (p.n)
			qsort(p.ready, p.n, sizeof(*p.ready), cmp_due);
		for (size_t i = 0; i < p.n; i++) {
			p.ready[i]->due = 0;
			q->delayed--;
			push(q, p.ready[i]);
		}
		free(p.ready);
	}
	if (q->head == q->tail)
		return NULL;
	it = map_get(q->items, q->fifo[q->head++ % q->cap]);
	it->queued = false;
	it->processing = true;
	q->active++;
	return it->key;
}

/* Take a token for a retry (client-go's BucketRateLimiter: a reservation,
 * so the bucket may go below zero): how long until it is really there. */
static long reserve(workqueue *q, long long now_ms)
{
	if (q->refilled < 0)
		q->refilled = now_ms;
	q->tokens += (double)(now_ms - q->refilled) * q->o.qps / 1000.0;
	if (q->tokens > q->o.burst)
		q->tokens = q->o.burst;
	q->refilled = now_ms;
	q->tokens -= 1.0;
	return q->tokens >= 0 ? 0 : (long)(-q->tokens * 1000.0 / q->o.qps + 0.999);
}

void workqueue_done(workqueue *q, const char *key, bool failed, long requeue_after_ms,
		    long long now_ms)
{
	struct item *it = map_get(q->items, key);
	long delay, wait;

	if (!it || !it->processing)
		return;
	it->processing = false;
	q->active--;
	if (failed) {
		delay = q->o.base_delay_ms;
		for (int i = 0; i < it->failures && delay < q->o.max_delay_ms; i++)
			delay *= 2;
		if (delay > q->o.max_delay_ms)
			delay = q->o.max_delay_ms;
		/* the global bound is on retries only: a restart's pass or a
		 * webhook's change is never paced by it */
		wait = reserve(q, now_ms);
		if (wait > delay)
			delay = wait;
		it->failures++;
	} else {
		it->failures = 0;
		delay = requeue_after_ms;
	}
	if (it->dirty) {
		it->dirty = false;
		workqueue_add(q, key, now_ms);
	} else if (delay > 0) {
		workqueue_add_after(q, key, delay, now_ms);
	}
}

struct next {
	long long now, best;
};

static void earliest(const char *key, void *value, void *payload)
{
	struct next *n = payload;
	struct item *it = value;

	(void)key;
	if (it->due && (n->best < 0 || it->due < n->best))
		n->best = it->due;
}

long workqueue_next_ms(const workqueue *q, long long now_ms)
{
	struct next n = { now_ms, -1 };

	if (q->head != q->tail)
		return 0;
	if (!q->delayed)
		return -1;
	map_each(q->items, earliest, &n);
	return n.best < 0 ? -1 : (n.best > now_ms ? (long)(n.best - now_ms) : 0);
}

size_t workqueue_depth(const workqueue *q)
{
	return (q->tail - q->head) + q->delayed;
}

size_t workqueue_active(const workqueue *q)
{
	return q->active;
}
