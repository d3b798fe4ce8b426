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
} controller_options;

typedef struct controller controller;

struct controller_metrics {
	metric *sandboxes;        /* gauge {sync, health} */
	metric *reconcile_seconds;/* histogram {result} */
	metric *reconciles;       /* counter {result} */
	metric *git_fetch_seconds;/* histogram */
	metric *git_errors;       /* counter */
	metric *git_last_success; /* gauge, unix seconds */
	metric *drift;            /* counter {kind} */
	metric *api_requests;     /* gauge {verb, code}: totals from the client */
	metric *queue_depth;      /* gauge */
	metric *writes;           /* counter {verb}: writes made by reconciles */
	metric *revision;         /* gauge {revision} = 1 */
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

	/* source */
	char revision[SBX_GIT_OID_HEX];   /* the revision in force ("" before the first) */
	sbx_git_files files;
	sbx_repo *repo;
	sbx_diags repo_diags;             /* every problem of that revision */
	long long revision_seen;          /* wall clock ms when it was first seen */
	char *source_error;               /* last fetch failure, or NULL */
	bool prune_blocked;               /* deleting is refused for this revision */
	char *prune_reason;
	map *removed;                     /* sandboxes whose file is gone (name -> "") */
	long long next_poll;              /* monotonic ms */
	bool fetch_now;                   /* a webhook asked for a fetch */

	/* leader election */
	bool leader;
	long long lease_renew_at;

	/* reconcile */
	int inflight;
	map *applied;                 /* sandboxes reconciled successfully at least once */
	bool synced_once;
	volatile sig_atomic_t stop;
};

/* Set up everything (no reconcile yet). Returns 0 or SBX_E* (reported). */
int controller_init(controller *c, const controller_options *o);

/* Run until stop is set (SIGTERM) or, with o.once, until the first full
 * sync is done. Returns the process exit status. */
int controller_run(controller *c);

void controller_dispose(controller *c);

/* ---- reconcile.c ---- */

/* Start reconciling sandbox `name` (handed out by the queue); finishes
 * asynchronously with workqueue_done. */
void reconcile_start(controller *c, const char *name);

/* ---- crd.c ---- */

/* The Sandbox CustomResourceDefinition and the read-only ClusterRole for
 * developers, as cJSON objects (caller must cJSON_Delete). */
cJSON *crd_sandbox(void);
cJSON *crd_viewer_role(void);
cJSON *crd_viewer_binding(void);

/* Install whatever of them is missing (server-side apply). Blocking. */
int crd_install(controller *c);

/* ---- leader.c ---- */

/* Acquire or renew the Lease; sets c->leader. Blocking, cheap. */
void leader_tick(controller *c, long long now_ms);

/* Give the Lease up (on shutdown). */
void leader_release(controller *c);

/* Whether obj carries this controller's tracking id. */
bool controller_owns(const controller *c, const cJSON *obj);

long long controller_now_ms(void);     /* monotonic */
long long controller_wall_ms(void);    /* wall clock */
void controller_timestamp(char out[32], long long wall_ms);   /* RFC 3339 */

#endif
