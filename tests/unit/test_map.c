// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for controller/map.c: put, get, overwrite and delete; growth
 * past ten thousand keys; delete-and-reinsert cycles over tombstones;
 * map_each and the free_value callback of map_free.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "map.h"

#define MANY 10000

/* A distinct non-NULL value for number i. */
static void *val(size_t i)
{
	return (void *)(uintptr_t)(i + 1);
}

static void key_of(char *key, size_t size, const char *prefix, size_t i)
{
	int n = snprintf(key, size, "%s-%zu", prefix, i);

	assert_true(n > 0 && (size_t)n < size);
}

static map *new_map(void)
{
	map *m = map_new();

	assert_non_null(m);
	assert_int_equal(map_count(m), 0);
	return m;
}

/* Put, get, and an overwrite that hands back the old value. */
static void test_map__put_get_overwrite(void **state)
{
	map *m = new_map();
	void *old = val(99);
	int a = 1, b = 2, c = 3;

	(void)state;
	assert_null(map_get(m, "a"));
	assert_int_equal(map_put(m, "a", &a, &old), 0);
	assert_null(old);
	assert_int_equal(map_put(m, "b", &b, NULL), 0);
	assert_int_equal(map_count(m), 2);
	assert_ptr_equal(map_get(m, "a"), &a);
	assert_ptr_equal(map_get(m, "b"), &b);
	assert_int_equal(map_put(m, "a", &c, &old), 0);
	assert_ptr_equal(old, &a);
	assert_ptr_equal(map_get(m, "a"), &c);
	assert_int_equal(map_count(m), 2);
	assert_int_equal(map_put(m, "a", &a, NULL), 0);
	assert_ptr_equal(map_get(m, "a"), &a);
	assert_int_equal(map_count(m), 2);
	assert_null(map_get(m, "c"));
	assert_null(map_get(m, "A"));
	assert_null(map_get(m, "a "));
	map_free(m, NULL);
}

/* Keys are copied: the caller's buffer may change afterwards. Empty and
 * long keys work. */
static void test_map__keys_copied(void **state)
{
	map *m = new_map();
	char key[8] = "k";
	char longkey[2048];
	int a = 1, b = 2, c = 3;

	(void)state;
	assert_int_equal(map_put(m, key, &a, NULL), 0);
	key[0] = 'x';
	assert_ptr_equal(map_get(m, "k"), &a);
	assert_null(map_get(m, "x"));
	assert_int_equal(map_put(m, "", &b, NULL), 0);
	assert_ptr_equal(map_get(m, ""), &b);
	memset(longkey, 'z', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	assert_int_equal(map_put(m, longkey, &c, NULL), 0);
	assert_ptr_equal(map_get(m, longkey), &c);
	assert_int_equal(map_count(m), 3);
	map_free(m, NULL);
}

/* Delete returns the value once; the key is then gone. */
static void test_map__delete(void **state)
{
	map *m = new_map();
	int a = 1, b = 2;

	(void)state;
	assert_null(map_del(m, "a"));
	assert_int_equal(map_put(m, "a", &a, NULL), 0);
	assert_int_equal(map_put(m, "b", &b, NULL), 0);
	assert_ptr_equal(map_del(m, "a"), &a);
	assert_int_equal(map_count(m), 1);
	assert_null(map_get(m, "a"));
	assert_null(map_del(m, "a"));
	assert_int_equal(map_count(m), 1);
	assert_ptr_equal(map_get(m, "b"), &b);
	assert_ptr_equal(map_del(m, "b"), &b);
	assert_int_equal(map_count(m), 0);
	assert_null(map_get(m, "b"));
	map_free(m, NULL);
}

/* Ten thousand keys: the map grows and every key keeps its value. */
static void test_map__many_keys(void **state)
{
	map *m = new_map();
	char key[32];

	(void)state;
	for (size_t i = 0; i < MANY; i++) {
		key_of(key, sizeof(key), "key", i);
		assert_int_equal(map_put(m, key, val(i), NULL), 0);
		assert_int_equal(map_count(m), i + 1);
	}
	for (size_t i = 0; i < MANY; i++) {
		key_of(key, sizeof(key), "key", i);
		assert_ptr_equal(map_get(m, key), val(i));
		key_of(key, sizeof(key), "other", i);
		assert_null(map_get(m, key));
	}
	/* overwrite all of them: the count stays */
	for (size_t i = 0; i < MANY; i++) {
		void *old = NULL;

		key_of(key, sizeof(key), "key", i);
		assert_int_equal(map_put(m, key, val(i + MANY), &old), 0);
		assert_ptr_equal(old, val(i));
	}
	assert_int_equal(map_count(m), MANY);
	/* delete the even ones */
	for (size_t i = 0; i < MANY; i += 2) {
		key_of(key, sizeof(key), "key", i);
		assert_ptr_equal(map_del(m, key), val(i + MANY));
	}
	assert_int_equal(map_count(m), MANY / 2);
	for (size_t i = 0; i < MANY; i++) {
		key_of(key, sizeof(key), "key", i);
		if (i % 2)
			assert_ptr_equal(map_get(m, key), val(i + MANY));
		else
			assert_null(map_get(m, key));
	}
	map_free(m, NULL);
}

/* Keys deleted and put back again and again, alongside keys that stay:
 * tombstones neither hide live keys nor skew the count, and the table
 * never fills up with them. */
static void test_map__tombstone_cycles(void **state)
{
	map *m = new_map();
	char key[32];

	(void)state;
	for (size_t i = 0; i < 30; i++) {
		key_of(key, sizeof(key), "stay", i);
		assert_int_equal(map_put(m, key, val(i), NULL), 0);
	}
	for (size_t round = 0; round < 200; round++) {
		/* fresh keys every round, so tombstones pile up */
		for (size_t i = 0; i < 40; i++) {
			key_of(key, sizeof(key), "churn", round * 40 + i);
			assert_int_equal(map_put(m, key, val(i), NULL), 0);
		}
		assert_int_equal(map_count(m), 70);
		for (size_t i = 0; i < 40; i++) {
			key_of(key, sizeof(key), "churn", round * 40 + i);
			assert_ptr_equal(map_del(m, key), val(i));
		}
		assert_int_equal(map_count(m), 30);
		for (size_t i = 0; i < 30; i++) {
			key_of(key, sizeof(key), "stay", i);
			assert_ptr_equal(map_get(m, key), val(i));
		}
		key_of(key, sizeof(key), "churn", round * 40);
		assert_null(map_get(m, key));
	}
	map_free(m, NULL);
}

/* One key deleted and reinserted many times, and a deleted key put back
 * while others that collided with it are still there. */
static void test_map__delete_reinsert(void **state)
{
	map *m = new_map();
	char key[32];

	(void)state;
	for (size_t i = 0; i < 100000; i++) {
		assert_int_equal(map_put(m, "same", val(i), NULL), 0);
		assert_int_equal(map_count(m), 1);
		assert_ptr_equal(map_get(m, "same"), val(i));
		assert_ptr_equal(map_del(m, "same"), val(i));
		assert_int_equal(map_count(m), 0);
		assert_null(map_get(m, "same"));
	}
	/* in a table of 64 slots, 40 keys share probe chains */
	for (size_t i = 0; i < 40; i++) {
		key_of(key, sizeof(key), "k", i);
		assert_int_equal(map_put(m, key, val(i), NULL), 0);
	}
	for (size_t pass = 0; pass < 50; pass++) {
		for (size_t i = pass % 3; i < 40; i += 3) {
			key_of(key, sizeof(key), "k", i);
			assert_ptr_equal(map_del(m, key), val(i));
		}
		for (size_t i = 0; i < 40; i++) {
			key_of(key, sizeof(key), "k", i);
			if (i % 3 == pass % 3)
				assert_null(map_get(m, key));
			else
				assert_ptr_equal(map_get(m, key), val(i));
		}
		for (size_t i = pass % 3; i < 40; i += 3) {
			void *old = val(7);

			key_of(key, sizeof(key), "k", i);
			assert_int_equal(map_put(m, key, val(i), &old), 0);
			assert_null(old);
		}
		assert_int_equal(map_count(m), 40);
		for (size_t i = 0; i < 40; i++) {
			key_of(key, sizeof(key), "k", i);
			assert_ptr_equal(map_get(m, key), val(i));
		}
	}
	map_free(m, NULL);
}

struct visits {
	unsigned char seen[MANY];
	size_t calls;
};

static void visit(const char *key, void *value, void *payload)
{
	struct visits *v = payload;
	size_t i = (size_t)(uintptr_t)value - 1;
	char want[32];

	assert_true(i < MANY);
	key_of(want, sizeof(want), "key", i);
	assert_string_equal(key, want);
	v->seen[i]++;
	v->calls++;
}

/* map_each visits each live entry exactly once, deleted ones never. */
static void test_map__each(void **state)
{
	map *m = new_map();
	struct visits *v = calloc(1, sizeof(*v));
	char key[32];

	(void)state;
	assert_non_null(v);
	map_each(m, visit, v);
	assert_int_equal(v->calls, 0);
	for (size_t i = 0; i < MANY; i++) {
		key_of(key, sizeof(key), "key", i);
		assert_int_equal(map_put(m, key, val(i), NULL), 0);
	}
	for (size_t i = 0; i < MANY; i += 3) {
		key_of(key, sizeof(key), "key", i);
		assert_ptr_equal(map_del(m, key), val(i));
	}
	map_each(m, visit, v);
	assert_int_equal(v->calls, map_count(m));
	for (size_t i = 0; i < MANY; i++)
		assert_int_equal(v->seen[i], i % 3 ? 1 : 0);
	free(v);
	map_free(m, NULL);
}

static size_t freed;

static void count_free(void *p)
{
	freed++;
	free(p);
}

/* map_free runs free_value once on each value still in the map (deleted
 * values belong to the caller again). */
static void test_map__free_value(void **state)
{
	map *m = new_map();
	char key[32];
	void *old = NULL;
	int *p;

	(void)state;
	freed = 0;
	for (size_t i = 0; i < 500; i++) {
		key_of(key, sizeof(key), "key", i);
		p = malloc(sizeof(*p));
		assert_non_null(p);
		*p = (int)i;
		assert_int_equal(map_put(m, key, p, NULL), 0);
	}
	/* overwrite one: the old value comes back to us */
	p = malloc(sizeof(*p));
	assert_non_null(p);
	assert_int_equal(map_put(m, "key-7", p, &old), 0);
	assert_non_null(old);
	assert_int_equal(*(int *)old, 7);
	free(old);
	for (size_t i = 0; i < 100; i++) {
		key_of(key, sizeof(key), "key", i * 5);
		p = map_del(m, key);
		assert_non_null(p);
		free(p);
	}
	assert_int_equal(map_count(m), 400);
	map_free(m, count_free);
	assert_int_equal(freed, 400);
}

/* map_free of NULL, and without free_value, are fine. */
static void test_map__free_null(void **state)
{
	map *m = new_map();
	int a = 1;

	(void)state;
	map_free(NULL, NULL);
	map_free(NULL, count_free);
	assert_int_equal(map_put(m, "a", &a, NULL), 0);
	map_free(m, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map__put_get_overwrite),
		cmocka_unit_test(test_map__keys_copied),
		cmocka_unit_test(test_map__delete),
		cmocka_unit_test(test_map__many_keys),
		cmocka_unit_test(test_map__tombstone_cycles),
		cmocka_unit_test(test_map__delete_reinsert),
		cmocka_unit_test(test_map__each),
		cmocka_unit_test(test_map__free_value),
		cmocka_unit_test(test_map__free_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
