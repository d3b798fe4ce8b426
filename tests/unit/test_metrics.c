// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for controller/metrics.c: the exact exposition text of
 * counters, gauges and histograms, label and help escaping, number
 * spelling, bad registrations, and the per-family series limit.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "error.h"
#include "metrics.h"

/* The registry's text, checked to have been written without error.
 * Caller must free the result. */
static char *render(const metrics *m)
{
	sbx_buf out = SBX_BUF_INIT;
	char *text;

	assert_int_equal(metrics_write(&out, m), 0);
	text = sbx_buf_take(&out, NULL);
	assert_non_null(text);
	return text;
}

static void assert_text(const metrics *m, const char *want)
{
	char *got = render(m);

	assert_string_equal(got, want);
	free(got);
}

static void test_metrics__empty_registry(void **state)
{
	metrics *m = metrics_new();
	static const char *const labels[] = { "sandbox", NULL };

	(void)state;
	assert_non_null(m);
	assert_text(m, "");
	/* a labelled family with no series yet is left out */
	assert_non_null(metrics_add(m, METRIC_COUNTER, "sandbox_x_total", "X.", labels, NULL, 0));
	assert_text(m, "");
	metrics_free(m);
	metrics_free(NULL);
}

static void test_metrics__counter_labels(void **state)
{
	static const char *const labels[] = { "kind", "code", NULL };
	static const char *const a[] = { "Pod", "200" };
	static const char *const b[] = { "Service", "409" };
	metrics *m = metrics_new();
	metric *c, *plain;

	(void)state;
	c = metrics_add(m, METRIC_COUNTER, "sandbox_apply_total", "Server-side applies by kind and code.",
			labels, NULL, 0);
	plain = metrics_add(m, METRIC_COUNTER, "sandbox_fetch_total", "Git fetches.", NULL, NULL, 0);
	assert_non_null(c);
	assert_non_null(plain);
	metric_inc(c, a, 1);
	metric_inc(c, b, 2);
	metric_inc(c, a, 2);
	metric_inc(c, a, -5);          /* counters never go down */
	metric_inc(c, a, NAN);
	metric_observe(c, a, 1);       /* wrong kind of update: ignored */
	metric_inc(NULL, a, 1);        /* a failed registration is harmless */
	assert_text(m,
		    "# HELP sandbox_apply_total Server-side applies by kind and code.\n"
		    "# TYPE sandbox_apply_total counter\n"
		    "sandbox_apply_total{kind=\"Pod\",code=\"200\"} 3\n"
		    "sandbox_apply_total{kind=\"Service\",code=\"409\"} 2\n"
		    "# HELP sandbox_fetch_total Git fetches.\n"
		    "# TYPE sandbox_fetch_total counter\n"
		    "sandbox_fetch_total 0\n");
	metric_inc(plain, NULL, 0.5);
	metric_inc(plain, NULL, 1);
	assert_text(m,
		    "# HELP sandbox_apply_total Server-side applies by kind and code.\n"
		    "# TYPE sandbox_apply_total counter\n"
		    "sandbox_apply_total{kind=\"Pod\",code=\"200\"} 3\n"
		    "sandbox_apply_total{kind=\"Service\",code=\"409\"} 2\n"
		    "# HELP sandbox_fetch_total Git fetches.\n"
		    "# TYPE sandbox_fetch_total counter\n"
		    "sandbox_fetch_total 1.5\n");
	metrics_free(m);
}

static void test_metrics__gauge_set_reset(void **state)
{
	static const char *const labels[] = { "sync", NULL };
	static const char *const synced[] = { "Synced" };
	static const char *const failed[] = { "Failed" };
	static const char *const pending[] = { "PendingDelete" };
	metrics *m = metrics_new();
	metric *g, *leader;

	(void)state;
	g = metrics_add(m, METRIC_GAUGE, "sandbox_sandboxes", "Sandboxes by sync state.", labels, NULL, 0);
	leader = metrics_add(m, METRIC_GAUGE, "sandbox_leader", NULL, NULL, NULL, 0);
	assert_non_null(g);
	assert_non_null(leader);
	metric_set(g, synced, 7);
	metric_set(g, failed, 1);
	metric_inc(g, failed, -1);
	metric_set(g, synced, 8);
	metric_set(leader, NULL, 1);
	assert_text(m,
		    "# HELP sandbox_sandboxes Sandboxes by sync state.\n"
		    "# TYPE sandbox_sandboxes gauge\n"
		    "sandbox_sandboxes{sync=\"Synced\"} 8\n"
		    "sandbox_sandboxes{sync=\"Failed\"} 0\n"
		    "# TYPE sandbox_leader gauge\n"
		    "sandbox_leader 1\n");
	/* after a reset only what is set again appears, in the new order */
	metric_reset(g);
	metric_set(g, pending, 2);
	metric_set(g, synced, -0.25);
	assert_text(m,
		    "# HELP sandbox_sandboxes Sandboxes by sync state.\n"
		    "# TYPE sandbox_sandboxes gauge\n"
		    "sandbox_sandboxes{sync=\"PendingDelete\"} 2\n"
		    "sandbox_sandboxes{sync=\"Synced\"} -0.25\n"
		    "# TYPE sandbox_leader gauge\n"
		    "sandbox_leader 1\n");
	metric_reset(g);
	metric_reset(leader);
	assert_text(m, "");
	metrics_free(m);
}

static void test_metrics__histogram(void **state)
{
	static const char *const labels[] = { "stage", NULL };
	static const char *const fetch[] = { "fetch" };
	static const char *const apply[] = { "apply" };
	const double buckets[] = { 0.005, 0.1, 1, 2.5 };
	metrics *m = metrics_new();
	metric *h, *plain;

	(void)state;
	h = metrics_add(m, METRIC_HISTOGRAM, "sandbox_stage_seconds", "Time per stage.", labels,
			buckets, 4);
	plain = metrics_add(m, METRIC_HISTOGRAM, "sandbox_tick_seconds", "Loop tick.", NULL,
			    buckets, 2);
	assert_non_null(h);
	assert_non_null(plain);
	metric_observe(h, fetch, 0.005);   /* on a bound: counted in that bucket */
	metric_observe(h, fetch, 0.05);
	metric_observe(h, fetch, 2);
	metric_observe(h, fetch, 30);
	metric_observe(h, apply, 0.5);
	metric_inc(h, apply, 1);           /* wrong kind of update: ignored */
	metric_set(h, apply, 1);
	metric_observe(plain, NULL, 0.25);
	assert_text(m,
		    "# HELP sandbox_stage_seconds Time per stage.\n"
		    "# TYPE sandbox_stage_seconds histogram\n"
		    "sandbox_stage_seconds_bucket{stage=\"fetch\",le=\"0.005\"} 1\n"
		    "sandbox_stage_seconds_bucket{stage=\"fetch\",le=\"0.1\"} 2\n"
		    "sandbox_stage_seconds_bucket{stage=\"fetch\",le=\"1\"} 2\n"
		    "sandbox_stage_seconds_bucket{stage=\"fetch\",le=\"2.5\"} 3\n"
		    "sandbox_stage_seconds_bucket{stage=\"fetch\",le=\"+Inf\"} 4\n"
		    "sandbox_stage_seconds_sum{stage=\"fetch\"} 32.055\n"
		    "sandbox_stage_seconds_count{stage=\"fetch\"} 4\n"
		    "sandbox_stage_seconds_bucket{stage=\"apply\",le=\"0.005\"} 0\n"
		    "sandbox_stage_seconds_bucket{stage=\"apply\",le=\"0.1\"} 0\n"
		    "sandbox_stage_seconds_bucket{stage=\"apply\",le=\"1\"} 1\n"
		    "sandbox_stage_seconds_bucket{stage=\"apply\",le=\"2.5\"} 1\n"
		    "sandbox_stage_seconds_bucket{stage=\"apply\",le=\"+Inf\"} 1\n"
		    "sandbox_stage_seconds_sum{stage=\"apply\"} 0.5\n"
		    "sandbox_stage_seconds_count{stage=\"apply\"} 1\n"
		    "# HELP sandbox_tick_seconds Loop tick.\n"
		    "# TYPE sandbox_tick_seconds histogram\n"
		    "sandbox_tick_seconds_bucket{le=\"0.005\"} 0\n"
		    "sandbox_tick_seconds_bucket{le=\"0.1\"} 0\n"
		    "sandbox_tick_seconds_bucket{le=\"+Inf\"} 1\n"
		    "sandbox_tick_seconds_sum 0.25\n"
		    "sandbox_tick_seconds_count 1\n");
	metrics_free(m);
}

static void test_metrics__histogram_empty_is_zero(void **state)
{
	metrics *m = metrics_new();

	(void)state;
	assert_non_null(metrics_add(m, METRIC_HISTOGRAM, "sandbox_only_inf", "Only +Inf.", NULL, NULL, 0));
	assert_text(m,
		    "# HELP sandbox_only_inf Only +Inf.\n"
		    "# TYPE sandbox_only_inf histogram\n"
		    "sandbox_only_inf_bucket{le=\"+Inf\"} 0\n"
		    "sandbox_only_inf_sum 0\n"
		    "sandbox_only_inf_count 0\n");
	metrics_free(m);
}

static void test_metrics__escaping(void **state)
{
	static const char *const labels[] = { "path", "msg", NULL };
	static const char *const v[] = { "C:\\dir\\file", "say \"hi\"\nbye" };
	metrics *m = metrics_new();
	metric *g;

	(void)state;
	g = metrics_add(m, METRIC_GAUGE, "sandbox_escape", "A \\ backslash,\na newline and \"quotes\".",
			labels, NULL, 0);
	assert_non_null(g);
	metric_set(g, v, 1);
	assert_text(m,
		    "# HELP sandbox_escape A \\\\ backslash,\\na newline and \"quotes\".\n"
		    "# TYPE sandbox_escape gauge\n"
		    "sandbox_escape{path=\"C:\\\\dir\\\\file\",msg=\"say \\\"hi\\\"\\nbye\"} 1\n");
	metrics_free(m);
}

static void test_metrics__numbers(void **state)
{
	static const char *const labels[] = { "v", NULL };
	static const struct {
		const char *label;
		double value;
	} cases[] = {
		{ "three", 3 },
		{ "neg", -42 },
		{ "zero", 0 },
		{ "negzero", -0.0 },
		{ "fivemilli", 0.005 },
		{ "third", 1.0 / 3 },
		{ "sum", 0.1 + 0.2 },
		{ "big", 1e300 },
		{ "twoe53", 9007199254740992.0 },
		{ "posinf", INFINITY },
		{ "neginf", -INFINITY },
		{ "nan", NAN },
	};
	const char *want =
		"# TYPE sandbox_numbers gauge\n"
		"sandbox_numbers{v=\"three\"} 3\n"
		"sandbox_numbers{v=\"neg\"} -42\n"
		"sandbox_numbers{v=\"zero\"} 0\n"
		"sandbox_numbers{v=\"negzero\"} 0\n"
		"sandbox_numbers{v=\"fivemilli\"} 0.005\n"
		"sandbox_numbers{v=\"third\"} 0.3333333333333333\n"
		"sandbox_numbers{v=\"sum\"} 0.30000000000000004\n"
		"sandbox_numbers{v=\"big\"} 1e+300\n"
		"sandbox_numbers{v=\"twoe53\"} 9007199254740992\n"
		"sandbox_numbers{v=\"posinf\"} +Inf\n"
		"sandbox_numbers{v=\"neginf\"} -Inf\n"
		"sandbox_numbers{v=\"nan\"} NaN\n";
	metrics *m = metrics_new();
	metric *g;
	size_t i;

	(void)state;
	g = metrics_add(m, METRIC_GAUGE, "sandbox_numbers", NULL, labels, NULL, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *v[] = { cases[i].label };

		metric_set(g, v, cases[i].value);
	}
	assert_text(m, want);
	metrics_free(m);
}

static void test_metrics__bad_registrations(void **state)
{
	static const char *const le[] = { "le", NULL };
	static const char *const twice[] = { "a", "a", NULL };
	static const char *const badlabel[] = { "bad-name", NULL };
	static const char *const reserved[] = { "__name", NULL };
	const double unsorted[] = { 1, 0.5 };
	const double inf[] = { 1, INFINITY };
	metrics *m = metrics_new();

	(void)state;
	assert_non_null(metrics_add(m, METRIC_COUNTER, "sandbox_ok_total", "Ok.", NULL, NULL, 0));
	sbx_error_clear();
	assert_null(metrics_add(m, METRIC_GAUGE, "sandbox_ok_total", "Again.", NULL, NULL, 0));
	assert_string_equal(sbx_error_last(), "metric 'sandbox_ok_total' registered twice");
	sbx_error_clear();
	assert_null(metrics_add(m, METRIC_GAUGE, "9lives", "Bad name.", NULL, NULL, 0));
	assert_string_equal(sbx_error_last(), "invalid metric name '9lives'");
	sbx_error_clear();
	assert_null(metrics_add(m, METRIC_GAUGE, NULL, "No name.", NULL, NULL, 0));
	sbx_error_clear();
	assert_null(metrics_add(m, METRIC_HISTOGRAM, "sandbox_h", "Le.", le, NULL, 0));
	assert_string_equal(sbx_error_last(), "metric 'sandbox_h' has an invalid label name 'le'");
	sbx_error_clear();
	assert_null(metrics_add(m, METRIC_GAUGE, "sandbox_g", "Twice.", twice, NULL, 0));
	assert_string_equal(sbx_error_last(), "metric 'sandbox_g' repeats label 'a'");
	sbx_error_clear();
	assert_null(metrics_add(m, METRIC_GAUGE, "sandbox_g", "Dash.", badlabel, NULL, 0));
	sbx_error_clear();
	assert_null(metrics_add(m, METRIC_GAUGE, "sandbox_g", "Reserved.", reserved, NULL, 0));
	sbx_error_clear();
	assert_null(metrics_add(m, METRIC_HISTOGRAM, "sandbox_h", "Unsorted.", NULL, unsorted, 2));
	assert_string_equal(sbx_error_last(), "histogram 'sandbox_h' buckets must be finite and increasing");
	sbx_error_clear();
	assert_null(metrics_add(m, METRIC_HISTOGRAM, "sandbox_h", "Inf.", NULL, inf, 2));
	sbx_error_clear();
	assert_null(metrics_add(m, METRIC_GAUGE, "sandbox_metrics_dropped_series_total", "Taken.", NULL,
				NULL, 0));
	sbx_error_clear();
	assert_null(metrics_add(NULL, METRIC_GAUGE, "sandbox_g", "No registry.", NULL, NULL, 0));
	sbx_error_clear();
	/* "le" is an ordinary label outside histograms; colons are allowed in names */
	assert_non_null(metrics_add(m, METRIC_GAUGE, "sandbox:le", "Fine.", le, NULL, 0));
	metrics_free(m);
}

static void test_metrics__series_limit(void **state)
{
	static const char *const labels[] = { "n", NULL };
	metrics *m = metrics_new();
	metric *c;
	char name[16], *text;
	const char *v[] = { name };
	int i;

	(void)state;
	c = metrics_add(m, METRIC_COUNTER, "sandbox_many_total", "Many.", labels, NULL, 0);
	assert_non_null(c);
	for (i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		metric_inc(c, v, 1);
	}
	/* existing series still update; new ones are dropped and counted */
	snprintf(name, sizeof(name), "s%d", 9999);
	metric_inc(c, v, 1);
	snprintf(name, sizeof(name), "s%d", 10000);
	metric_inc(c, v, 1);
	metric_inc(c, v, 1);
	text = render(m);
	assert_non_null(strstr(text, "sandbox_many_total{n=\"s0\"} 1\n"));
	assert_non_null(strstr(text, "sandbox_many_total{n=\"s9999\"} 2\n"));
	assert_null(strstr(text, "s10000"));
	assert_non_null(strstr(text,
			       "# HELP sandbox_metrics_dropped_series_total Updates dropped because their "
			       "metric family already had 10000 series.\n"
			       "# TYPE sandbox_metrics_dropped_series_total counter\n"
			       "sandbox_metrics_dropped_series_total 2\n"));
	free(text);
	metrics_free(m);
}

static void test_metrics__write_over_limit(void **state)
{
	metrics *m = metrics_new();
	sbx_buf out;

	(void)state;
	assert_non_null(metrics_add(m, METRIC_COUNTER, "sandbox_x_total", "X.", NULL, NULL, 0));
	sbx_buf_init(&out, 16);
	sbx_error_clear();
	assert_int_equal(metrics_write(&out, m), SBX_ENOMEM);
	assert_true(out.failed);
	sbx_buf_dispose(&out);
	sbx_error_clear();
	metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics__empty_registry),
		cmocka_unit_test(test_metrics__counter_labels),
		cmocka_unit_test(test_metrics__gauge_set_reset),
		cmocka_unit_test(test_metrics__histogram),
		cmocka_unit_test(test_metrics__histogram_empty_is_zero),
		cmocka_unit_test(test_metrics__escaping),
		cmocka_unit_test(test_metrics__numbers),
		cmocka_unit_test(test_metrics__bad_registrations),
		cmocka_unit_test(test_metrics__series_limit),
		cmocka_unit_test(test_metrics__write_over_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
