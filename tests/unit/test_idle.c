// SPDX-License-Identifier: Apache-2.0
/*
 * Idle suspension's decision (core/idle.c) as a table: git wins, never
 * while a connection is open, a wake by the Lease changing, a client
 * clock ahead or behind ours.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "idle.h"

#define H 3600
#define NOW 100000LL

struct row {
	const char *what;
	sbx_idle_facts f;
	sbx_idle_verdict want;
	long long at;
};

/* fields: after_s, git_suspended, activity, lease_s, since, idle_since, renewed_since_idle, now,
 * watched_since */
static const struct row rows[] = {
	{ "suspended in git: idleness plays no part", { 8 * H, true, 0, 60, 0, 0, false, NOW, 0 },
	  SBX_IDLE_GIT, 0 },
	{ "suspended in git while asleep: git still wins", { 8 * H, true, 0, 60, 0, NOW - 10, true,
	  NOW, 0 }, SBX_IDLE_GIT, 0 },
	{ "never: it runs, and nothing is due", { 0, false, 0, 60, 0, 0, false, NOW, 0 }, SBX_IDLE_RUN,
	  0 },
	{ "never, after an idle suspension (the policy changed): woken", { 0, false, 0, 60, 0,
	  NOW - H, false, NOW, 0 }, SBX_IDLE_RUN, 0 },
	{ "never used: idle from its start", { 8 * H, false, 0, 60, NOW - H, 0, false, NOW, 0 },
	  SBX_IDLE_RUN, NOW + 7 * H },
	{ "never used, suspendAfter reached: suspended, idle since its start", { 8 * H, false, 0, 60,
	  NOW - 8 * H, 0, false, NOW, 0 }, SBX_IDLE_SUSPEND, NOW - 8 * H },
	{ "used an hour ago: idle from then", { 8 * H, false, NOW - H, 60, NOW - 9 * H, 0, false,
	  NOW, 0 }, SBX_IDLE_RUN, NOW + 7 * H },
	{ "last used suspendAfter ago: suspended, idle since then", { 8 * H, false, NOW - 8 * H, 60,
	  NOW - 30 * H, 0, false, NOW, 0 }, SBX_IDLE_SUSPEND, NOW - 8 * H },
	{ "a connection open past suspendAfter: not while it is open", { 30, false, NOW - 10, 60,
	  NOW - H, 0, false, NOW, 0 }, SBX_IDLE_RUN, NOW + 50 },
	{ "the connection's lease ran out: suspended", { 30, false, NOW - 61, 60, NOW - H, 0, false,
	  NOW, 0 }, SBX_IDLE_SUSPEND, NOW - 61 },
	{ "a client clock an hour ahead: its renewal counts as now", { 600, false, NOW + H, 60,
	  NOW - H, 0, false, NOW, 0 }, SBX_IDLE_RUN, NOW + 600 },
	{ "asleep, the Lease unchanged: stays asleep", { 8 * H, false, NOW - 9 * H, 60, NOW - 20 * H,
	  NOW - H, false, NOW, 0 }, SBX_IDLE_SLEEP, 0 },
	{ "asleep, the Lease renewed (a client clock behind ours): woken, idle from now", { 8 * H,
	  false, NOW - 2 * H, 60, NOW - 20 * H, NOW - H, true, NOW, 0 }, SBX_IDLE_RUN, NOW + 8 * H },
	{ "no start time and no activity: suspended, idle since now, never 0", { 600, false, 0, 60,
	  0, 0, false, NOW, 0 }, SBX_IDLE_SUSPEND, NOW },
	{ "just woken by a client whose clock is behind: idle from the wake", { 8 * H, false,
	  NOW - 2 * H, 60, NOW, 0, false, NOW, 0 }, SBX_IDLE_RUN, NOW + 8 * H },
	{ "just restarted, a connected client's clock 9 h behind: not before a renewal could be "
	  "seen", { 8 * H, false, NOW - 9 * H, 60, NOW - 20 * H, 0, false, NOW, NOW - 10 },
	  SBX_IDLE_RUN, NOW + 50 },
	{ "restarted a renewal's duration ago and none seen: suspended", { 8 * H, false, NOW - 9 * H,
	  60, NOW - 20 * H, 0, false, NOW, NOW - 60 }, SBX_IDLE_SUSPEND, NOW - 9 * H },
	{ "asleep when restarted: stays asleep at once", { 8 * H, false, NOW - 9 * H, 60,
	  NOW - 20 * H, NOW - H, false, NOW, NOW }, SBX_IDLE_SLEEP, 0 },
};

/* How long one renewal holds: a quarter of suspendAfter, from 3 s to 60 s. */
static void test_idle__lease_duration(void **state)
{
	static const struct { int64_t after_s, want; } cases[] = {
		{ 1, 3 }, { 12, 3 }, { 16, 4 }, { 40, 10 }, { 240, 60 }, { 8 * H, 60 }, { 720 * H, 60 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(sbx_idle_lease_s(cases[i].after_s), cases[i].want);
}

/* Read from a Sandbox as the cluster holds it. */
static void test_idle__asleep_since(void **state)
{
	cJSON *sb = cJSON_Parse("{\"status\":{\"idle\":{\"activeSince\":\"2026-12-01T08:00:00Z\","
				"\"idleSince\":\"2026-12-01T09:00:00Z\"}}}");
	cJSON *awake = cJSON_Parse("{\"status\":{\"idle\":{\"activeSince\":\"2026-12-01T08:00:00Z\"}}}");
	cJSON *empty = cJSON_Parse("{\"status\":{\"idle\":{\"idleSince\":\"\"}}}");

	(void)state;
	assert_string_equal(sbx_idle_asleep_since(sb), "2026-12-01T09:00:00Z");
	assert_null(sbx_idle_asleep_since(awake));
	assert_null(sbx_idle_asleep_since(empty));
	assert_null(sbx_idle_asleep_since(NULL));
	cJSON_Delete(sb);
	cJSON_Delete(awake);
	cJSON_Delete(empty);
}

static void test_idle__table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		long long at = -1;
		sbx_idle_verdict v = sbx_idle_decide(&rows[i].f, &at);

		if (v != rows[i].want || at != rows[i].at)
			fail_msg("row %zu '%s': verdict %d at %lld (want %d at %lld)", i, rows[i].what,
				 v, at, rows[i].want, rows[i].at);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle__table),
		cmocka_unit_test(test_idle__lease_duration),
		cmocka_unit_test(test_idle__asleep_since),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
