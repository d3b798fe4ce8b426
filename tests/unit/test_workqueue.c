// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for controller/workqueue.c: de-duplication, the processing and
 * dirty states, delayed adds, per-key failure backoff, requeue-after, the
 * global token bucket and workqueue_next_ms, all on a clock passed in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "workqueue.h"

/* A queue whose rate limit never gets in the way of the test. */
static workqueue *unlimited(long base, long max)
{
	workqueue_options o = WORKQUEUE_OPTIONS_INIT;
	workqueue *q;

	o.base_delay_ms = base;
	o.max_delay_ms = max;
	o.qps = 1e9;
	o.burst = 1000000;
	q = workqueue_new(&o);
	assert_non_null(q);
	return q;
}

/* Get the next key at now and check it is `want`. */
static void expect_get(workqueue *q, long long now, const char *want)
{
	const char *k = workqueue_get(q, now);

	assert_non_null(k);
	assert_string_equal(k, want);
}

/* Adding a key that is already queued keeps one entry. */
static void test_workqueue__dedup(void **state)
{
	workqueue *q = workqueue_new(NULL);

	(void)state;
	assert_non_null(q);
	for (int i = 0; i < 5; i++)
		workqueue_add(q, "a", 0);
	assert_int_equal(workqueue_depth(q), 1);
	assert_int_equal(workqueue_active(q), 0);
	expect_get(q, 0, "a");
	assert_null(workqueue_get(q, 0));
	assert_int_equal(workqueue_depth(q), 0);
	assert_int_equal(workqueue_active(q), 1);
	workqueue_done(q, "a", false, 0, 0);
	assert_int_equal(workqueue_active(q), 0);
	assert_null(workqueue_get(q, 1));
	assert_int_equal(workqueue_next_ms(q, 1), -1);
	workqueue_free(q);
}

/* A key being processed is not handed out again; added meanwhile (any
 * number of times) it comes back exactly once after done. */
static void test_workqueue__processing_dirty(void **state)
{
	workqueue *q = unlimited(5, 1000);

	(void)state;
	workqueue_add(q, "a", 0);
	expect_get(q, 0, "a");
	workqueue_add(q, "a", 1);
	workqueue_add(q, "a", 2);
	assert_null(workqueue_get(q, 3));
	assert_int_equal(workqueue_active(q), 1);
	workqueue_done(q, "a", false, 0, 4);
	assert_int_equal(workqueue_active(q), 0);
	assert_int_equal(workqueue_depth(q), 1);
	assert_int_equal(workqueue_next_ms(q, 4), 0);
	expect_get(q, 4, "a");
	workqueue_done(q, "a", false, 0, 5);
	assert_null(workqueue_get(q, 6));
	assert_int_equal(workqueue_depth(q), 0);
	workqueue_free(q);
}

/* Other keys are handed out while one is being processed. */
static void test_workqueue__processing_other_keys(void **state)
{
	workqueue *q = unlimited(5, 1000);

	(void)state;
	workqueue_add(q, "a", 0);
	workqueue_add(q, "b", 0);
	expect_get(q, 0, "a");
	workqueue_add(q, "a", 0);
	expect_get(q, 0, "b");
	assert_null(workqueue_get(q, 0));
	assert_int_equal(workqueue_active(q), 2);
	workqueue_done(q, "b", false, 0, 0);
	assert_null(workqueue_get(q, 0));
	workqueue_done(q, "a", false, 0, 0);
	expect_get(q, 0, "a");
	workqueue_free(q);
}

/* add_after delays; of two delayed adds the earlier wins. */
static void test_workqueue__add_after(void **state)
{
	workqueue *q = unlimited(5, 1000);

	(void)state;
	workqueue_add_after(q, "a", 100, 0);
	assert_int_equal(workqueue_depth(q), 1);
	assert_null(workqueue_get(q, 0));
	assert_int_equal(workqueue_next_ms(q, 0), 100);
	assert_int_equal(workqueue_next_ms(q, 40), 60);
	workqueue_add_after(q, "a", 50, 10);   /* due 60: earlier, wins */
	assert_int_equal(workqueue_next_ms(q, 10), 50);
	workqueue_add_after(q, "a", 500, 20);  /* due 520: later, ignored */
	assert_int_equal(workqueue_next_ms(q, 20), 40);
	assert_int_equal(workqueue_depth(q), 1);
	assert_null(workqueue_get(q, 59));
	expect_get(q, 60, "a");
	assert_int_equal(workqueue_depth(q), 0);
	workqueue_done(q, "a", false, 0, 60);
	assert_int_equal(workqueue_next_ms(q, 60), -1);
	workqueue_free(q);
}

/* A plain add of a delayed key makes it ready at once; a zero delay is a
 * plain add; a delayed add of a queued key changes nothing. */
static void test_workqueue__add_overrides_delay(void **state)
{
	workqueue *q = unlimited(5, 1000);

	(void)state;
	workqueue_add_after(q, "a", 1000, 0);
	workqueue_add(q, "a", 10);
	assert_int_equal(workqueue_depth(q), 1);
	assert_int_equal(workqueue_next_ms(q, 10), 0);
	expect_get(q, 10, "a");
	workqueue_done(q, "a", false, 0, 10);
	assert_null(workqueue_get(q, 2000));
	assert_int_equal(workqueue_depth(q), 0);

	workqueue_add_after(q, "b", 0, 3000);
	assert_int_equal(workqueue_next_ms(q, 3000), 0);
	workqueue_add_after(q, "b", 100, 3000);
	assert_int_equal(workqueue_depth(q), 1);
	expect_get(q, 3000, "b");
	assert_null(workqueue_get(q, 3200));
	workqueue_free(q);
}

/* Delayed keys become ready in the order they fall due. */
static void test_workqueue__delayed_order(void **state)
{
	workqueue *q = unlimited(5, 1000);

	(void)state;
	workqueue_add_after(q, "c", 30, 0);
	workqueue_add_after(q, "a", 10, 0);
	workqueue_add_after(q, "b", 20, 0);
	assert_int_equal(workqueue_depth(q), 3);
	assert_int_equal(workqueue_next_ms(q, 0), 10);
	expect_get(q, 100, "a");
	expect_get(q, 100, "b");
	expect_get(q, 100, "c");
	assert_null(workqueue_get(q, 100));
	workqueue_free(q);
}

/* Fail once and return the delay until the key is handed out again,
 * checking it is not handed out a millisecond earlier. */
static long fail_and_wait(workqueue *q, const char *key, long long *now)
{
	long d;

	workqueue_done(q, key, true, 0, *now);
	d = workqueue_next_ms(q, *now);
	assert_true(d > 0);
	assert_null(workqueue_get(q, *now + d - 1));
	expect_get(q, *now + d, key);
	*now += d;
	return d;
}

/* Failures back off 5, 10, 20, ... up to max_delay_ms. */
static void test_workqueue__backoff(void **state)
{
	const long want[] = { 5, 10, 20, 40, 80, 100, 100, 100 };
	workqueue *q = unlimited(5, 100);
	long long now = 1000;

	(void)state;
	workqueue_add(q, "a", now);
	expect_get(q, now, "a");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(fail_and_wait(q, "a", &now), want[i]);
	workqueue_free(q);
}

/* With the default options the sequence starts at 5 ms and stops at five
 * minutes, however many failures pile up. */
static void test_workqueue__backoff_defaults(void **state)
{
	workqueue *q = workqueue_new(NULL);
	long long now = 0;
	long want = 5;

	(void)state;
	assert_non_null(q);
	workqueue_add(q, "a", now);
	expect_get(q, now, "a");
	for (int i = 0; i < 40; i++) {
		assert_int_equal(fail_and_wait(q, "a", &now), want);
		want = want * 2 > 300000 ? 300000 : want * 2;
	}
	assert_int_equal(want, 300000);
	workqueue_free(q);
}

/* Failures are counted per key. */
static void test_workqueue__backoff_per_key(void **state)
{
	workqueue *q = unlimited(5, 1000);
	long long now = 0;

	(void)state;
	workqueue_add(q, "a", now);
	expect_get(q, now, "a");
	assert_int_equal(fail_and_wait(q, "a", &now), 5);
	assert_int_equal(fail_and_wait(q, "a", &now), 10);
	assert_int_equal(fail_and_wait(q, "a", &now), 20);
	workqueue_add(q, "b", now);
	expect_get(q, now, "b");
	assert_int_equal(fail_and_wait(q, "b", &now), 5);
	assert_int_equal(fail_and_wait(q, "a", &now), 40);
	workqueue_free(q);
}

/* A success forgets the failures: the next failure waits 5 ms again. */
static void test_workqueue__success_forgets(void **state)
{
	workqueue *q = unlimited(5, 1000);
	long long now = 0;

	(void)state;
	workqueue_add(q, "a", now);
	expect_get(q, now, "a");
	assert_int_equal(fail_and_wait(q, "a", &now), 5);
	assert_int_equal(fail_and_wait(q, "a", &now), 10);
	assert_int_equal(fail_and_wait(q, "a", &now), 20);
	workqueue_done(q, "a", false, 0, now);
	assert_int_equal(workqueue_depth(q), 0);
	assert_int_equal(workqueue_next_ms(q, now), -1);
	workqueue_add(q, "a", now);
	expect_get(q, now, "a");
	assert_int_equal(fail_and_wait(q, "a", &now), 5);
	workqueue_free(q);
}

/* A success may ask to come back after a while; a failure ignores that
 * and backs off instead. */
static void test_workqueue__requeue_after(void **state)
{
	workqueue *q = unlimited(5, 1000);

	(void)state;
	workqueue_add(q, "a", 0);
	expect_get(q, 0, "a");
	workqueue_done(q, "a", false, 1000, 0);
	assert_int_equal(workqueue_depth(q), 1);
	assert_int_equal(workqueue_active(q), 0);
	assert_int_equal(workqueue_next_ms(q, 0), 1000);
	assert_int_equal(workqueue_next_ms(q, 250), 750);
	assert_null(workqueue_get(q, 999));
	expect_get(q, 1000, "a");
	workqueue_done(q, "a", true, 1000, 1000);
	assert_int_equal(workqueue_next_ms(q, 1000), 5);
	expect_get(q, 1005, "a");
	workqueue_free(q);
}

/* Added while being processed, a key comes back at once on done, ahead of
 * its requeue-after. */
static void test_workqueue__dirty_beats_requeue_after(void **state)
{
	workqueue *q = unlimited(5, 1000);

	(void)state;
	workqueue_add(q, "a", 0);
	expect_get(q, 0, "a");
	workqueue_add(q, "a", 1);
	workqueue_done(q, "a", false, 60000, 2);
	assert_int_equal(workqueue_next_ms(q, 2), 0);
	expect_get(q, 2, "a");
	workqueue_free(q);
}

/* Plain adds are never paced: with qps 10 and burst 2, four keys are
 * handed out at once. */
static void test_workqueue__adds_are_not_rate_limited(void **state)
{
	workqueue_options o = { 5, 1000, 10, 2 };
	workqueue *q = workqueue_new(&o);

	(void)state;
	assert_non_null(q);
	workqueue_add(q, "a", 0);
	workqueue_add(q, "b", 0);
	workqueue_add(q, "c", 0);
	workqueue_add(q, "d", 0);
	assert_int_equal(workqueue_next_ms(q, 0), 0);
	expect_get(q, 0, "a");
	expect_get(q, 0, "b");
	expect_get(q, 0, "c");
	expect_get(q, 0, "d");
	assert_int_equal(workqueue_active(q), 4);
	workqueue_free(q);
}

/* Retries share the bucket (qps 10, burst 2): two failures retry after
 * their own backoff (5 ms), the third after 100 ms, the fourth 200 ms. */
static void test_workqueue__retries_are_rate_limited(void **state)
{
	workqueue_options o = { 5, 1000, 10, 2 };
	workqueue *q = workqueue_new(&o);
	const char *keys[] = { "a", "b", "c", "d" };

	(void)state;
	assert_non_null(q);
	for (int i = 0; i < 4; i++)
		workqueue_add(q, keys[i], 0);
	for (int i = 0; i < 4; i++)
		expect_get(q, 0, keys[i]);
	for (int i = 0; i < 4; i++)
		workqueue_done(q, keys[i], true, 0, 0);
	assert_int_equal(workqueue_next_ms(q, 0), 5);
	expect_get(q, 5, "a");
	expect_get(q, 5, "b");
	assert_null(workqueue_get(q, 99));
	assert_int_equal(workqueue_next_ms(q, 99), 1);
	expect_get(q, 100, "c");
	assert_null(workqueue_get(q, 199));
	expect_get(q, 200, "d");
	workqueue_free(q);
}

/* The bucket refills up to burst, not beyond: an hour idle earns two
 * immediate retries, not 36000. */
static void test_workqueue__rate_limit_burst_cap(void **state)
{
	workqueue_options o = { 5, 1000, 10, 2 };
	workqueue *q = workqueue_new(&o);
	char key[16];

	(void)state;
	assert_non_null(q);
	workqueue_add(q, "first", 0);
	expect_get(q, 0, "first");
	workqueue_done(q, "first", true, 0, 0);
	expect_get(q, 5, "first");
	workqueue_done(q, "first", false, 0, 5);
	for (int i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		workqueue_add(q, key, 3600000);
		expect_get(q, 3600000, key);
	}
	for (int i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		workqueue_done(q, key, true, 0, 3600000);
	}
	/* two retries after their backoff (same due time: either order) */
	assert_non_null(workqueue_get(q, 3600005));
	assert_non_null(workqueue_get(q, 3600005));
	assert_null(workqueue_get(q, 3600099));
	expect_get(q, 3600100, "k2");
	workqueue_free(q);
}

/* workqueue_next_ms: -1 when empty, 0 when ready, the remaining delay
 * otherwise, 0 once it has passed; keys being processed do not count. */
static void test_workqueue__next_ms(void **state)
{
	workqueue *q = unlimited(5, 1000);

	(void)state;
	assert_int_equal(workqueue_next_ms(q, 0), -1);
	workqueue_add_after(q, "later", 300, 0);
	assert_int_equal(workqueue_next_ms(q, 0), 300);
	workqueue_add_after(q, "sooner", 200, 0);
	assert_int_equal(workqueue_next_ms(q, 0), 200);
	assert_int_equal(workqueue_next_ms(q, 500), 0);
	workqueue_add(q, "now", 0);
	assert_int_equal(workqueue_next_ms(q, 0), 0);
	expect_get(q, 0, "now");
	assert_int_equal(workqueue_next_ms(q, 0), 200);
	expect_get(q, 250, "sooner");
	assert_int_equal(workqueue_next_ms(q, 250), 50);
	expect_get(q, 300, "later");
	assert_int_equal(workqueue_next_ms(q, 300), -1);
	assert_int_equal(workqueue_active(q), 3);
	workqueue_free(q);
}

/* Depth counts ready and delayed keys; active counts handed-out keys. */
static void test_workqueue__depth_active(void **state)
{
	workqueue *q = unlimited(5, 1000);

	(void)state;
	assert_int_equal(workqueue_depth(q), 0);
	assert_int_equal(workqueue_active(q), 0);
	workqueue_add(q, "a", 0);
	workqueue_add(q, "b", 0);
	workqueue_add(q, "c", 0);
	workqueue_add_after(q, "d", 100, 0);
	assert_int_equal(workqueue_depth(q), 4);
	expect_get(q, 0, "a");
	expect_get(q, 0, "b");
	assert_int_equal(workqueue_depth(q), 2);
	assert_int_equal(workqueue_active(q), 2);
	workqueue_done(q, "a", false, 0, 0);
	workqueue_done(q, "b", true, 0, 0);
	assert_int_equal(workqueue_depth(q), 3);  /* c, d, b backing off */
	assert_int_equal(workqueue_active(q), 0);
	expect_get(q, 100, "c");
	expect_get(q, 100, "b");
	expect_get(q, 100, "d");
	assert_int_equal(workqueue_depth(q), 0);
	assert_int_equal(workqueue_active(q), 3);
	workqueue_free(q);
}

/* Done for a key never handed out (or done twice) changes nothing. */
static void test_workqueue__done_unknown(void **state)
{
	workqueue *q = unlimited(5, 1000);

	(void)state;
	workqueue_done(q, "nobody", true, 0, 0);
	assert_int_equal(workqueue_depth(q), 0);
	assert_int_equal(workqueue_active(q), 0);
	workqueue_add(q, "queued", 0);
	workqueue_done(q, "queued", true, 0, 0);
	assert_int_equal(workqueue_depth(q), 1);
	expect_get(q, 0, "queued");
	workqueue_done(q, "queued", false, 0, 0);
	workqueue_done(q, "queued", true, 0, 0);
	assert_int_equal(workqueue_depth(q), 0);
	assert_int_equal(workqueue_active(q), 0);
	assert_int_equal(workqueue_next_ms(q, 0), -1);
	workqueue_free(q);
	workqueue_free(NULL);
}

/* Keys come out in the order they went in, across the ring buffer's wrap
 * and growth. */
static void test_workqueue__fifo_order(void **state)
{
	workqueue *q = unlimited(5, 1000);
	char key[32];
	int in = 0, out = 0;

	(void)state;
	for (; in < 40; in++) {
		snprintf(key, sizeof(key), "key-%d", in);
		workqueue_add(q, key, 0);
	}
	for (; out < 30; out++) {
		snprintf(key, sizeof(key), "key-%d", out);
		expect_get(q, 0, key);
	}
	for (; in < 300; in++) {
		snprintf(key, sizeof(key), "key-%d", in);
		workqueue_add(q, key, 0);
		if (in % 3 == 0) {
			snprintf(key, sizeof(key), "key-%d", out++);
			expect_get(q, 0, key);
		}
	}
	assert_int_equal(workqueue_depth(q), (size_t)(in - out));
	for (; out < in; out++) {
		snprintf(key, sizeof(key), "key-%d", out);
		expect_get(q, 0, key);
	}
	assert_null(workqueue_get(q, 0));
	assert_int_equal(workqueue_active(q), 300);
	workqueue_free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_workqueue__dedup),
		cmocka_unit_test(test_workqueue__processing_dirty),
		cmocka_unit_test(test_workqueue__processing_other_keys),
		cmocka_unit_test(test_workqueue__add_after),
		cmocka_unit_test(test_workqueue__add_overrides_delay),
		cmocka_unit_test(test_workqueue__delayed_order),
		cmocka_unit_test(test_workqueue__backoff),
		cmocka_unit_test(test_workqueue__backoff_defaults),
		cmocka_unit_test(test_workqueue__backoff_per_key),
		cmocka_unit_test(test_workqueue__success_forgets),
		cmocka_unit_test(test_workqueue__requeue_after),
		cmocka_unit_test(test_workqueue__dirty_beats_requeue_after),
		cmocka_unit_test(test_workqueue__adds_are_not_rate_limited),
		cmocka_unit_test(test_workqueue__retries_are_rate_limited),
		cmocka_unit_test(test_workqueue__rate_limit_burst_cap),
		cmocka_unit_test(test_workqueue__next_ms),
		cmocka_unit_test(test_workqueue__depth_active),
		cmocka_unit_test(test_workqueue__done_unknown),
		cmocka_unit_test(test_workqueue__fifo_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
