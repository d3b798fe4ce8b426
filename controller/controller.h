/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sandbox-controller's state and stages: the source (git revision and the
 * parsed repository), the cache, the work queue, reconcile, status, the
 * HTTP endpoints and leader election, all driven by one loop.
 */
#ifndef SBX_CONTROLLER_H
#define SBX_CONTROLLER_H

#include <signal.h>
#include <stdbool.h>

#include "cache.h"
#include "git.h"
#include "http.h"
#include "kube.h"
#include "map.h"
#include "metrics.h"
#include "repo.h"
#include "safety.h"
#include "workqueue.h"

typedef struct controller_options {
	const char *repo_url;
	const char *branch;
	const char *state_dir;        /* git mirror and scratch space */
	const char *git_ssh_key;
	const char *git_known_hosts;
	const char *git_token_file;
	const char *git_ca_file;
	int git_timeout_s;
	const char *kubeconfig;
	const char *context;
	bool in_cluster;
	long poll_ms;
	const char *listen_addr;
	unsigned listen_port;
	const char *webhook_secret_file;
	const char *instance;         /* in tracking ids */
	const char *lease_namespace;
	const char *identity;         /* leader election holder identity */
	bool leader_elect;
	int workers;                  /* reconciles in flight at once */
	bool once;                    /* sync once, report, exit */
	long settle_ms;               /* with once: how long to wait for rollouts */
	double kube_qps;              /* client-side rate limit */
	bool install_crd;             /* install the Sandbox CRD when missing or different */
} controller_options;

typedef struct controller controller;

struct controller_metrics {
	metric *sandboxes;        /* gauge {sync, health} */
	metric *status;           /* gauge {sandbox, sync, health} = 1 */
	metric *reconcile_seconds;/* histogram {result} */
	metric *reconciles;       /* counter {result} */
	metric *reconcile_errors; /* counter {reason}: failed reconciles by first cause */
	metric *git_fetch_seconds;/* histogram */
	metric *git_errors;       /* counter */
	metric *git_last_success; /* gauge, unix seconds */
	metric *drift;            /* counter */
	metric *api_requests;     /* counter {verb, code}: mirrored from the client */
	metric *queue_depth;      /* gauge */
	metric *writes;           /* counter {verb}: writes made by reconciles */
	metric *revision;         /* gauge {revision} = 1 */
	metric *prune_blocked;    /* gauge: 1 while the revision's removals are refused */
	metric *commit_to_applied;/* histogram: commit time to first Synced, per sandbox */
	metric *commit_to_ready;  /* histogram: commit time to first Synced and Healthy */
	metric *head_unapplied;   /* gauge: seconds the newest revision has waited (leader) */
	metric *leader;           /* gauge: 1 while this replica may write */
	metric *idle;             /* gauge: sandboxes suspended for idleness */
	metric *idle_cpu;         /* gauge: their CPU requests, cores */
	metric *idle_memory;      /* gauge: their memory requests, bytes */
	metric *reclaimed_cpu;    /* counter: idle_cpu integrated over time, core-seconds */
	metric *reclaimed_memory; /* counter: idle_memory over time, byte-seconds */
	metric *cpu_seconds;      /* counter: process_cpu_seconds_total */
	metric *resident_bytes;   /* gauge: process_resident_memory_bytes */
	metric *start_time;       /* gauge: process_start_time_seconds */
};

/* What one sandbox's status describes: the hash of its inputs (its file,
 * the policy, the templates) and the revision that last changed them. */
struct inputs {
	char hash[17];
	char revision[SBX_GIT_OID_HEX];
	long long committed_s;    /* that commit's time; 0: keep the live timeline */
	long long seen_ms;        /* when the controller first saw it (wall clock) */
	bool timed;               /* its commit-to-applied/-ready times are observed: not
				   * taken on the first pass (a new install's first
				   * pass would count the age of old commits) */
};

/* An activity Lease (core/idle.h) as the controller saw it, all on the
 * controller's clock (wall ms): when it first saw it (its start, or the
 * Lease's creation), when it last saw a renewal (at first sight: the
 * renewTime, a time from the future taken as then; 0: none), and the
 * renewTime then. */
struct activity {
	long long first_ms;
	long long seen_ms;
	char renewal[40];
};

struct controller {
	controller_options o;
	sbx_kube_config *kcfg;
	sbx_kube *kube;
	cache *cache;
	workqueue *queue;
	sbx_git *git;
	http_server *http;
	metrics *m;
	struct controller_metrics mt;
	char *webhook_secret;
	size_t webhook_secret_len;

	/* source: one ref check or fetch at a time, in a child process */
	char revision[SBX_GIT_OID_HEX];   /* the newest revision taken ("" before the first) */
	sbx_git_files files;
	sbx_repo *repo;
	sbx_diags repo_diags;             /* every problem of that revision */
	long long revision_seen;          /* wall clock ms when it was first seen */
	char *source_error;               /* last fetch failure, or NULL */
	long long source_error_since;     /* wall clock ms of the first failure in a row */
	bool health_writing;              /* the health ConfigMap write in flight */
	char *health_sent;                /* its gitError as last written, or NULL */
	long long health_retry_at;        /* monotonic ms: retry a failed write */
	sbx_git_job *job;                 /* the ref check or fetch in flight, or NULL */
	bool job_fetch;
	long long job_started;            /* monotonic ms */
	long long next_poll;              /* monotonic ms */
	bool fetch_now;                   /* a webhook asked for a fetch */

	/* safety (safety.c decides; this is what it is given and gave) */
	map *file_state;                  /* sandbox name -> sbx_file_state + 1, every file of
					   * the revision, refused ones included */
	map *inputs;                      /* sandbox name -> struct inputs */
	sbx_safety_fleet fleet;           /* the breaker's answer for the revision */
	char in_force[SBX_GIT_OID_HEX];   /* the stored revision in force ("" before one is
					   * known: the live Sandboxes stand for it) */
	char *in_force_names;             /* its sandbox names, one per line */
	char *state_version;              /* resourceVersion of the state ConfigMap last read
					   * or written */
	char *state_writing;              /* the names being written, or NULL */
	long long state_retry_at;         /* monotonic ms: retry a failed write */
	map *created_ns;                  /* sandbox -> uid of a namespace it created whose
					   * status has not recorded it yet */
	map *activity;                    /* activity Lease key (controller_activity_key)
					   * -> struct activity */
	map *live_sandboxes;              /* Sandbox name -> sbx_safety_live (the head of
					   * its allocation, which holds its strings): what
					   * the deleting rules read of it, kept from the
					   * cache's events */
	bool live_lost;                   /* one of those could not be kept (out of memory):
					   * nothing is deleted until a restart */

	/* leader election */
	bool leader;
	long long leader_since;           /* wall clock ms: when it last became the leader */
	bool lease_inflight;
	long long lease_sent;             /* monotonic ms: when the renewal in flight began */
	long long lease_renew_at;         /* monotonic ms */
	long long lease_valid_until;      /* monotonic ms: stop writing after this */

	/* idle suspension's reclaimed requests, summed at each /metrics */
	double idle_cpu, idle_memory;     /* as of the last sum: cores, bytes */
	long long idle_summed_ms;         /* monotonic ms of that sum (0: none yet) */

	/* reconcile */
	int inflight;
	map *applied;                 /* sandbox -> the inputs hash it was last reconciled
				       * at successfully (a copy) */
	bool synced_once;
	volatile sig_atomic_t stop;
};

/* The cache's event handler (cache_changed_fn; payload is the
 * controller): notes activity Leases and live Sandboxes, and queues the
 * sandbox an event touched once the first sync is done. */
void controller_cache_changed(const char *sandbox, const char *key, bool removed, void *payload);

/* The live Sandbox `name` as the deleting rules read it
 * (controller_live_of), as of the cache's last event about it, or NULL
 * when it is not live. Valid until that event loop's next sbx_kube_run. */
const sbx_safety_live *controller_live_sandbox(const controller *c, const char *name);

/* Register the controller's metrics in c->m (done by controller_init). */
void controller_metrics_init(controller *c);

/* Set up everything (no reconcile yet). Returns 0 or SBX_E* (reported). */
int controller_init(controller *c, const controller_options *o);

/* Run until stop is set (SIGTERM) or, with o.once, until the first full
 * sync is done. Returns the process exit status. */
int controller_run(controller *c);

void controller_dispose(controller *c);

/* Whether this replica may write now: the leader, and its Lease is
 * still valid by its own clock. Checked before each reconcile, each write
 * wave and each status write. */
bool controller_may_write(const controller *c);

/* The Sandbox object of `name` in the cache, or NULL. Lent as by
 * cache_get(). */
const cJSON *controller_sandbox(const controller *c, const char *name);

/* ---- source.c ---- */

/* Advance the ref check or fetch in flight, or start one when a poll or a
 * webhook is due (only once the cache has synced); take a new revision
 * in. Never blocks. */
void source_tick(controller *c, long long now);

/* The descriptor of the git job in flight (-1: none); lowers *timeout_ms
 * to when the source next needs the loop (the job's deadline, the next
 * poll, a retry of storing the revision in force). */
int source_fd(const controller *c, long long now, long *timeout_ms);

/* Decide again when the stored revision in force changed; store the
 * revision taken when its removals are allowed and this replica leads. */
void source_state_tick(controller *c, long long now);

/* Whether a write of the stored state is in flight. */
bool source_busy(const controller *c);

/* Seconds the newest revision taken has waited to be applied by this
 * leader, while it is not: some sandbox has not been reconciled
 * successfully at its inputs of that revision, or the revision is not (yet)
 * the one in force. Counted from when it was first seen, or from when this
 * replica became the leader if later (a new leader starts with a queue to
 * drain). 0 once applied, and before the first revision. */
double source_head_unapplied(const controller *c, long long wall_ms);

void source_dispose(controller *c);

/* One sandbox as the deleting rules see it, read from the cache. Lent as
 * by cache_get(). */
struct sandbox_view {
	const cJSON *obj;          /* the live Sandbox, or NULL */
	const char *ns;            /* its spec.namespace, or NULL */
	const cJSON *ns_obj;       /* that namespace in the cache, or NULL */
	sbx_file_state file;       /* its file in the revision taken */
	sbx_safety_live live;      /* valid when obj is set */
};

void controller_view(controller *c, const char *name, struct sandbox_view *v);

/* What the deleting rules read of the live Sandbox obj itself (strings
 * point into obj). */
void controller_live_of(const controller *c, const cJSON *obj, sbx_safety_live *l);

/* "sandboxes/NAME.yaml" (or the refused ".yml") -> NAME into out (cleared
 * first); false when path is not such a file. */
bool controller_file_name(sbx_buf *out, const char *path);

/* The sandbox an object without a sandbox label may stand in the way of:
 * NAME for a Sandbox key ("sandbox.dev/Sandbox//NAME") or for a Namespace
 * key ("/Namespace//NS") where NS is prefix + NAME, into out (cleared
 * first); false for any other key. */
bool controller_sandbox_of_key(sbx_buf *out, const char *key, const char *prefix);

/* What safety.c says this sandbox may undergo now. */
sbx_verdict controller_verdict(const controller *c, const struct sandbox_view *v);

/* ---- reconcile.c ---- */

/* Start reconciling sandbox `name` (handed out by the queue); finishes
 * asynchronously with workqueue_done. */
void reconcile_start(controller *c, const char *name);

/* Every reason label of sandbox_reconcile_errors_total, NULL-terminated
 * (each series starts at 0, so a rate has a baseline). */
extern const char *const reconcile_error_reasons[];

/* ---- crd.c ---- */

/* The Sandbox CustomResourceDefinition as a cJSON object (caller must
 * cJSON_Delete). */
cJSON *crd_sandbox(void);

/* With install_crd: install or update the CRD (server-side apply).
 * Without: check that it is there, with an error saying how to install it.
 * Then wait until it is Established. Blocking; runs before the loop.
 * Returns 0 or a negative SBX_E* code, with the message in sbx_error_last(). */
int crd_ensure(controller *c);

/* ---- leader.c ---- */

/* Acquire or renew the Lease without blocking: one request at a time, its
 * answer sets c->leader and c->lease_valid_until. */
void leader_tick(controller *c, long long now_ms);

/* Give the Lease up (on shutdown; blocking). */
void leader_release(controller *c);

/* Whether obj carries this controller's full tracking id. */
bool controller_owns(const controller *c, const cJSON *obj);

long long controller_now_ms(void);     /* monotonic */
long long controller_wall_ms(void);    /* wall clock */
/* The cache key of the activity Lease in namespace ns, appended to out. */
void controller_activity_key(sbx_buf *out, const char *ns);

void controller_timestamp(char out[32], long long wall_ms);   /* RFC 3339 */
long long controller_parse_time(const char *rfc3339);          /* wall ms (a fraction to the ms),
                                                                 * 0 when unparsable */

#endif
