/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The work queue, keyed by sandbox name, controller-runtime style: a key
 * is queued once however often it is added; a key being processed is not
 * handed out again until done (re-added afterwards if it was added
 * meanwhile); failures back off per key exponentially, and a global token
 * bucket bounds the rate of those retries (client-go's default controller
 * rate limiter: plain adds are not limited). Time is passed in
 * (milliseconds) so tests need no clock.
 */
#ifndef SBX_CONTROLLER_WORKQUEUE_H
#define SBX_CONTROLLER_WORKQUEUE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct workqueue workqueue;

typedef struct workqueue_options {
	long base_delay_ms;   /* first retry after a failure (default 5) */
	long max_delay_ms;    /* longest retry delay (default 300000) */
	double qps;           /* global rate of retries (default 50) */
	int burst;            /* global burst of retries (default 300) */
} workqueue_options;

#define WORKQUEUE_OPTIONS_INIT { 5, 300000, 50, 300 }

workqueue *workqueue_new(const workqueue_options *o);
void workqueue_free(workqueue *q);

/* Queue key now / after delay_ms (the earlier of two delayed adds wins). */
void workqueue_add(workqueue *q, const char *key, long long now_ms);
void workqueue_add_after(workqueue *q, const char *key, long delay_ms, long long now_ms);

/* Hand out the next ready key (caller must pass it to workqueue_done), or
 * NULL when none is ready. The returned string
 * is owned by the queue until workqueue_done. */
const char *workqueue_get(workqueue *q, long long now_ms);

/* Finish a key handed out by workqueue_get. failed: retry after its
 * backoff or, when later, after the global bucket has a token for it;
 * else forget its failures and, when requeue_after_ms > 0, queue it again
 * then. */
void workqueue_done(workqueue *q, const char *key, bool failed, long requeue_after_ms,
		    long long now_ms);

/* Milliseconds until something may be ready (-1: nothing waiting). */
long workqueue_next_ms(const workqueue *q, long long now_ms);

/* Keys waiting (ready or delayed), and keys being processed. */
size_t workqueue_depth(const workqueue *q);
size_t workqueue_active(const workqueue *q);

#endif
