/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Idle suspension: whether a sandbox should run, sleep or be put to sleep,
 * from facts the cluster holds (its activity Lease and the Sandbox's
 * status), so a restarted controller decides as the one before it did.
 * Pure: no I/O and no clock. Every time is in seconds on the controller's
 * own clock: `activity` is when the controller saw the Lease renewed (a
 * client's clock may be behind ours by more than the Lease's duration, and
 * an open connection must not look closed); after a restart, before it has
 * seen a renewal, the Lease's renewTime, of which a time from the future
 * is taken as now. The caller carries out the verdict; docs/controller.md
 * states the rules in words.
 */
#ifndef SBX_IDLE_H
#define SBX_IDLE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

/* The activity Lease in each sandbox's namespace whose policy or file turns
 * idle suspension on: the controller makes it, `sandbox ssh` and
 * `sandbox tunnel` renew it while a connection is open (the owner's role may
 * get and patch this one name). */
#define SBX_IDLE_LEASE "sandbox-activity"

/* How long one renewal holds a sandbox awake for a suspendAfter of after_s
 * (a quarter of it, from 3 s to 60 s); a client renews three times in that
 * span. */
int64_t sbx_idle_lease_s(int64_t after_s);

/* When the Sandbox object `sandbox` (as read from the cluster) says it was
 * suspended for idleness (status.idle.idleSince), or NULL: it runs,
 * or its suspension is git's. Borrowed from sandbox. */
const char *sbx_idle_asleep_since(const cJSON *sandbox);

typedef struct sbx_idle_facts {
	int64_t after_s;          /* the effective spec.idle.suspendAfter (at most
				   * SBX_IDLE_AFTER_MAX); 0: never */
	bool git_suspended;       /* spec.suspended in git, which always wins */
	long long activity;       /* the activity Lease's last renewal (see above); 0: none */
	int64_t lease_s;          /* how long a renewal holds the sandbox awake (a connection is
				   * open until activity + lease_s) */
	long long since;          /* when it last started running: created, or woken
				   * (recorded on a wake, so idleness counts from then) */
	long long idle_since;     /* when it was suspended for idleness; 0: it is not */
	bool renewed_since_idle;  /* the Lease was renewed after that suspension (its
				   * renewTime differs from the one recorded then): someone
				   * connects */
	long long now;
	long long watched_since;  /* when the controller began watching the Lease (its start,
				   * or the Lease's creation): until a renewal's duration has
				   * passed since, an open connection may not have been seen
				   * yet, so nothing is suspended; 0: long enough ago */
} sbx_idle_facts;

typedef enum sbx_idle_verdict {
	SBX_IDLE_RUN,       /* running, or to be woken */
	SBX_IDLE_SUSPEND,   /* to be scaled to zero now, idle since *at */
	SBX_IDLE_SLEEP,     /* stays suspended for idleness */
	SBX_IDLE_GIT,       /* suspended in git: idleness plays no part */
} sbx_idle_verdict;

/* The verdict for f. *at is, for SBX_IDLE_RUN, when the sandbox falls idle
 * if nothing happens (0: never): look again then; after a wake that counts
 * from now. For SBX_IDLE_SUSPEND it is when its idleness began (never 0).
 * 0 otherwise. */
sbx_idle_verdict sbx_idle_decide(const sbx_idle_facts *f, long long *at);

#endif
