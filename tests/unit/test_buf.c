// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for core/buf.c: appending and growth, the hard maximum and its
 * sticky failure flag, handing the memory over with _take, and the "" view
 * of an empty buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "error.h"

static void test_buf__empty_cstr(void **state)
{
	sbx_buf b = SBX_BUF_INIT;

	(void)state;
	assert_null(b.ptr);
	assert_string_equal(sbx_buf_cstr(&b), "");
	assert_int_equal(b.len, 0);
	sbx_buf_init(&b, 16);
	assert_string_equal(sbx_buf_cstr(&b), "");
	assert_int_equal(b.max, 16);
	assert_false(b.failed);
	/* an empty append leaves the view empty but valid */
	assert_int_equal(sbx_buf_put(&b, "", 0), 0);
	assert_string_equal(sbx_buf_cstr(&b), "");
	sbx_buf_dispose(&b);
	assert_string_equal(sbx_buf_cstr(&b), "");
}

static void test_buf__append(void **state)
{
	sbx_buf b = SBX_BUF_INIT;

	(void)state;
	assert_int_equal(sbx_buf_puts(&b, "hello"), 0);
	assert_int_equal(sbx_buf_putc(&b, ','), 0);
	assert_int_equal(sbx_buf_put(&b, " world!!!", 6), 0);
	assert_string_equal(sbx_buf_cstr(&b), "hello, world");
	assert_int_equal(b.len, 12);
	assert_int_equal(b.ptr[b.len], '\0');
	/* embedded NUL bytes are kept and counted */
	assert_int_equal(sbx_buf_put(&b, "a\0b", 3), 0);
	assert_int_equal(b.len, 15);
	assert_memory_equal(b.ptr + 12, "a\0b", 3);
	sbx_buf_dispose(&b);
}

static void test_buf__printf(void **state)
{
	sbx_buf b = SBX_BUF_INIT;

	(void)state;
	assert_int_equal(sbx_buf_printf(&b, "%s=%d", "replicas", 1), 0);
	assert_int_equal(sbx_buf_printf(&b, ";%05.1f;%x;%zu", 2.5, 255u, (size_t)7), 0);
	assert_string_equal(sbx_buf_cstr(&b), "replicas=1;002.5;ff;7");
	assert_int_equal(b.len, strlen("replicas=1;002.5;ff;7"));
	/* an empty format appends nothing */
	assert_int_equal(sbx_buf_printf(&b, "%s", ""), 0);
	assert_string_equal(sbx_buf_cstr(&b), "replicas=1;002.5;ff;7");
	sbx_buf_dispose(&b);
}

static void test_buf__growth(void **state)
{
	sbx_buf b;
	char *big = malloc(5000);
	size_t cap_before;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', 4999);
	big[4999] = '\0';
	sbx_buf_init(&b, 1 << 20);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(sbx_buf_printf(&b, "%03d,", i), 0);
	assert_int_equal(b.len, 4000);
	assert_true(b.cap > b.len);
	assert_memory_equal(b.ptr, "000,001,002,", 12);
	assert_memory_equal(b.ptr + 3996, "999,", 4);
	assert_int_equal(b.ptr[b.len], '\0');
	/* one large printf past the current capacity */
	assert_int_equal(sbx_buf_printf(&b, "[%s]", big), 0);
	assert_int_equal(b.len, 4000 + 5001);
	assert_int_equal(b.ptr[4000], '[');
	assert_int_equal(b.ptr[b.len - 1], ']');
	assert_int_equal(strlen(sbx_buf_cstr(&b)), b.len);
	/* clear keeps the memory and empties the view */
	cap_before = b.cap;
	sbx_buf_clear(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, cap_before);
	assert_string_equal(sbx_buf_cstr(&b), "");
	assert_int_equal(sbx_buf_puts(&b, "again"), 0);
	assert_string_equal(sbx_buf_cstr(&b), "again");
	sbx_buf_dispose(&b);
	free(big);
}

static void test_buf__max_exact_fits(void **state)
{
	sbx_buf b;

	(void)state;
	sbx_buf_init(&b, 8);
	assert_int_equal(sbx_buf_puts(&b, "1234"), 0);
	assert_int_equal(sbx_buf_printf(&b, "%d", 5678), 0);
	assert_string_equal(sbx_buf_cstr(&b), "12345678");
	assert_false(b.failed);
	sbx_buf_dispose(&b);
}

static void test_buf__max_sticky_failure(void **state)
{
	sbx_buf b;

	(void)state;
	sbx_error_clear();
	sbx_buf_init(&b, 8);
	assert_int_equal(sbx_buf_puts(&b, "12345678"), 0);
	assert_int_equal(sbx_buf_putc(&b, '9'), SBX_ENOMEM);
	assert_true(b.failed);
	assert_string_equal(sbx_error_last(), "buffer limit of 8 bytes exceeded");
	/* contents unchanged since the failure */
	assert_string_equal(sbx_buf_cstr(&b), "12345678");
	assert_int_equal(b.len, 8);
	/* sticky: every later append fails, even ones that would fit */
	sbx_buf_clear(&b);
	assert_true(b.failed);
	assert_int_equal(sbx_buf_puts(&b, "a"), SBX_ENOMEM);
	assert_int_equal(sbx_buf_put(&b, "", 0), SBX_ENOMEM);
	assert_int_equal(sbx_buf_printf(&b, "%d", 1), SBX_ENOMEM);
	assert_string_equal(sbx_buf_cstr(&b), "");
	/* a failed buffer hands nothing over */
	assert_null(sbx_buf_take(&b, NULL));
	sbx_buf_dispose(&b);
	assert_false(b.failed);
	sbx_error_clear();
}

static void test_buf__max_printf_refused_whole(void **state)
{
	sbx_buf b;

	(void)state;
	sbx_buf_init(&b, 10);
	assert_int_equal(sbx_buf_puts(&b, "abc"), 0);
	/* 8 more bytes would pass the maximum: nothing of it is appended */
	assert_int_equal(sbx_buf_printf(&b, "%s", "defghijk"), SBX_ENOMEM);
	assert_true(b.failed);
	assert_string_equal(sbx_buf_cstr(&b), "abc");
	assert_int_equal(b.len, 3);
	sbx_buf_dispose(&b);
	sbx_error_clear();
}

static void test_buf__max_zero(void **state)
{
	sbx_buf b;

	(void)state;
	sbx_buf_init(&b, 0);
	assert_int_equal(sbx_buf_put(&b, "", 0), 0);
	assert_int_equal(sbx_buf_putc(&b, 'x'), SBX_ENOMEM);
	assert_true(b.failed);
	assert_string_equal(sbx_buf_cstr(&b), "");
	sbx_buf_dispose(&b);
	sbx_error_clear();
}

static void test_buf__take_hands_over(void **state)
{
	sbx_buf b = SBX_BUF_INIT;
	size_t len = 99;
	char *s;

	(void)state;
	assert_int_equal(sbx_buf_puts(&b, "sbx-alice"), 0);
	s = sbx_buf_take(&b, &len);
	assert_non_null(s);
	assert_string_equal(s, "sbx-alice");
	assert_int_equal(len, 9);
	/* the buffer is empty and still usable */
	assert_null(b.ptr);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_string_equal(sbx_buf_cstr(&b), "");
	assert_int_equal(sbx_buf_puts(&b, "next"), 0);
	assert_string_equal(sbx_buf_cstr(&b), "next");
	assert_ptr_not_equal(b.ptr, s);
	assert_string_equal(s, "sbx-alice");
	free(s);
	sbx_buf_dispose(&b);
}

static void test_buf__take_empty(void **state)
{
	sbx_buf b = SBX_BUF_INIT;
	size_t len = 99;
	char *s;

	(void)state;
	s = sbx_buf_take(&b, &len);
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);
	/* NULL len is allowed */
	assert_int_equal(sbx_buf_puts(&b, "x"), 0);
	s = sbx_buf_take(&b, NULL);
	assert_string_equal(s, "x");
	free(s);
	sbx_buf_dispose(&b);
}

static void test_buf__dispose_reuse(void **state)
{
	sbx_buf b;

	(void)state;
	sbx_buf_init(&b, 4);
	assert_int_equal(sbx_buf_puts(&b, "12345"), SBX_ENOMEM);
	sbx_buf_dispose(&b);
	assert_null(b.ptr);
	sbx_buf_init(&b, 64);
	assert_int_equal(sbx_buf_puts(&b, "12345"), 0);
	assert_string_equal(sbx_buf_cstr(&b), "12345");
	sbx_buf_dispose(&b);
	/* disposing twice is harmless */
	sbx_buf_dispose(&b);
	sbx_error_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf__empty_cstr),
		cmocka_unit_test(test_buf__append),
		cmocka_unit_test(test_buf__printf),
		cmocka_unit_test(test_buf__growth),
		cmocka_unit_test(test_buf__max_exact_fits),
		cmocka_unit_test(test_buf__max_sticky_failure),
		cmocka_unit_test(test_buf__max_printf_refused_whole),
		cmocka_unit_test(test_buf__max_zero),
		cmocka_unit_test(test_buf__take_hands_over),
		cmocka_unit_test(test_buf__take_empty),
		cmocka_unit_test(test_buf__dispose_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
