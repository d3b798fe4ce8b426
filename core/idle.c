// SPDX-License-Identifier: Apache-2.0
/*
 * Idle suspension's one decision (see idle.h): never while a connection is
 * open, never against git, and a wake by the Lease changing rather than by
 * comparing a client's clock with ours.
 */
#include "idle.h"

const char *sbx_idle_asleep_since(const cJSON *sandbox)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(sandbox, "status");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(st, "idle"),
							   "idleSince");

	return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

int64_t sbx_idle_lease_s(int64_t after_s)
{
	int64_t s = after_s / 4;

	return s < 3 ? 3 : s > 60 ? 60 : s;
}

sbx_idle_verdict sbx_idle_decide(const sbx_idle_facts *f, long long *at)
{
	long long activity = f->activity > f->now ? f->now : f->activity;
	long long last = activity > f->since ? activity : f->since;
	long long open_until = activity ? activity + f->lease_s : 0;
	long long deadline;

	*at = 0;
	if (f->git_suspended)
		return SBX_IDLE_GIT;
	if (f->idle_since) {
		if (f->after_s && !f->renewed_since_idle)
			return SBX_IDLE_SLEEP;
		*at = f->after_s ? f->now + f->after_s : 0;   /* woken: idle from now */
		return SBX_IDLE_RUN;
	}
	if (f->after_s == 0)
		return SBX_IDLE_RUN;
	deadline = last + f->after_s;
	if (deadline < open_until)
		deadline = open_until;   /* never while a connection is open */
	if (f->watched_since && deadline < f->watched_since + f->lease_s)
		deadline = f->watched_since + f->lease_s;   /* nor before one could have been seen */
	if (f->now < deadline) {
		*at = deadline;
		return SBX_IDLE_RUN;
	}
	*at = last ? last : f->now;
	return SBX_IDLE_SUSPEND;
}
