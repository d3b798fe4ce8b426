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

/* fields: after_s, git_suspended, activity, lease_s, since, idle_since, renewed_since_idle, now */
static const struct row rows[] = {
	{ "suspended in git: idleness plays no part", { 8 * H, true, 0, 60, 0, 0, false, NOW },
	  SBX_IDLE_GIT, 0 },
	{ "suspended in git while asleep: git still wins", { 8 * H, true, 0, 60, 0, NOW - 10, true,
	  NOW }, SBX_IDLE_GIT, 0 },
	{ "never: it runs, and nothing is due", { 0, false, 0, 60, 0, 0, false, NOW }, SBX_IDLE_RUN,
	  0 },
	{ "never, after an idle suspension (the policy changed): woken", { 0, false, 0, 60, 0,
	  NOW - H, false, NOW }, SBX_IDLE_RUN, 0 },
	{ "never used: idle from its start", { 8 * H, false, 0, 60, NOW - H, 0, false, NOW },
	  SBX_IDLE_RUN, NOW + 7 * H },
	{ "never used, suspendAfter reached: suspended, idle since its start", { 8 * H, false, 0, 60,
	  NOW - 8 * H, 0, false, NOW }, SBX_IDLE_SUSPEND, NOW - 8 * H },
	{ "used an hour ago: idle from then", { 8 * H, false, NOW - H, 60, NOW - 9 * H, 0, false,
	  NOW }, SBX_IDLE_RUN, NOW + 7 * H },
	{ "last used suspendAfter ago: suspended, idle since then", { 8 * H, false, NOW - 8 * H, 60,
	  NOW - 30 * H, 0, false, NOW }, SBX_IDLE_SUSPEND, NOW - 8 * H },
	{ "a connection open past suspendAfter: not while it is open", { 30, false, NOW - 10, 60,
	  NOW - H, 0, false, NOW }, SBX_IDLE_RUN, NOW + 50 },
	{ "the connection's lease ran out: suspended", { 30, false, NOW - 61, 60, NOW - H, 0, false,
	  NOW }, SBX_IDLE_SUSPEND, NOW - 61 },
	{ "a client clock an hour ahead: its renewal counts as now", { 600, false, NOW + H, 60,
	  NOW - H, 0, false, NOW }, SBX_IDLE_RUN, NOW + 600 },
	{ "asleep, the Lease unchanged: stays asleep", { 8 * H, false, NOW - 9 * H, 60, NOW - 20 * H,
	  NOW - H, false, NOW }, SBX_IDLE_SLEEP, 0 },
	{ "asleep, the Lease renewed (a client clock behind ours): woken, idle from now", { 8 * H,
	  false, NOW - 2 * H, 60, NOW - 20 * H, NOW - H, true, NOW }, SBX_IDLE_RUN, NOW + 8 * H },
	{ "no start time and no activity: suspended, idle since now, never 0", { 600, false, 0, 60,
	  0, 0, false, NOW }, SBX_IDLE_SUSPEND, NOW },
	{ "just woken by a client whose clock is behind: idle from the wake", { 8 * H, false,
	  NOW - 2 * H, 60, NOW, 0, false, NOW }, SBX_IDLE_RUN, NOW + 8 * H },
};

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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
