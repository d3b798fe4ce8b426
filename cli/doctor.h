/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sandbox doctor`'s model, free of I/O so it can be table-tested: the
 * chain of links from the laptop to a shell, each link's result, which
 * links a broken one makes pointless (they are skipped, not failed), the
 * first broken link and its fix, the exit status, and the two ways to
 * print it. Also the readings of live objects that name what is wrong in
 * a sandbox's namespace (a pod, a volume, a quota, a ReplicaSet's events).
 * cmd_doctor.c does the looking.
 */
#ifndef SBX_CLI_DOCTOR_H
#define SBX_CLI_DOCTOR_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "buf.h"

/* The links, in the order they are checked. */
enum doc_link {
	DOC_SETTINGS, DOC_CLONE, DOC_GIT, DOC_FILE, DOC_CLUSTER, DOC_CONTROLLER,
	DOC_NAMESPACE, DOC_ACCESS, DOC_SSH, DOC_NLINKS
};

enum doc_status { DOC_PENDING, DOC_OK, DOC_WARN, DOC_FAIL, DOC_SKIP };

typedef struct doc_result {
	enum doc_status status;
	char *detail;    /* what was found (owned) */
	char *fix;       /* for DOC_FAIL/DOC_WARN: one concrete fix (owned, may be NULL) */
	long ms;         /* how long the check took */
} doc_result;

typedef struct doc_report {
	char *sandbox;                  /* owned */
	doc_result link[DOC_NLINKS];
} doc_report;

/* The link's short name ("settings", "git", ...) and its title. */
const char *doc_link_name(enum doc_link l);
const char *doc_link_title(enum doc_link l);

/* The links that must hold for l to be checked at all (a bit per link). */
unsigned doc_link_needs(enum doc_link l);

/* Whether l can be checked: every link it needs (transitively) is OK or
 * WARN. When not, *blocker is the first of them that is not. */
bool doc_can_check(const doc_report *r, enum doc_link l, enum doc_link *blocker);

/* Record a result (formats detail and fix; fix may be NULL). */
void doc_set(doc_report *r, enum doc_link l, enum doc_status s, long ms, const char *fix,
	     const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Mark l skipped because of blocker. */
void doc_skip(doc_report *r, enum doc_link l, enum doc_link blocker);

/* The first link that failed, or -1. */
int doc_first_broken(const doc_report *r);

/* 0 when nothing failed, 1 when a link is broken. */
int doc_exit_status(const doc_report *r);

/* One checklist line for l ("  ok    git         ... (12 ms)"), with its
 * detail lines indented below. */
void doc_render_line(sbx_buf *out, const doc_report *r, enum doc_link l);

/* The closing lines: the first broken link and its fix, or all good. */
void doc_render_verdict(sbx_buf *out, const doc_report *r);

/* The whole report as JSON (caller must cJSON_Delete). */
cJSON *doc_render_json(const doc_report *r);

void doc_report_dispose(doc_report *r);

/* ---- readings of live objects (NULL when nothing is wrong) ---------- */

/* What keeps a pod from serving: unschedulable (the scheduler's message),
 * an image that cannot be pulled, a crash loop, not ready. *fix gets one
 * fix. Both strings are malloc'd. */
char *doc_pod_problem(const cJSON *pod, char **fix);

/* The container of pod that is in a crash loop (its logs say why), or
 * NULL. Borrowed from pod. */
const char *doc_crashing_container(const cJSON *pod);

/* A PersistentVolumeClaim that is Pending or waiting for a resize. */
char *doc_pvc_problem(const cJSON *pvc, char **fix);

/* A ResourceQuota resource used beyond its hard limit (after the quota
 * was lowered). A pod the quota refuses shows as a FailedCreate event. */
char *doc_quota_problem(const cJSON *quota, char **fix);

/* What the controller's /metrics (Prometheus text) say about its health,
 * at wall clock `now` (seconds). */
typedef struct doc_metrics {
	bool found;                /* any sandbox_ metric at all */
	double git_last_success;   /* unix seconds, 0: never */
	double git_errors;         /* fetch failures since start */
	double queue_depth;
	double api_throttled;      /* API answers 429 */
	double api_server_errors;  /* API answers 5xx */
} doc_metrics;

void doc_read_metrics(doc_metrics *out, const char *text);

/* The newest FailedCreate message among events (an array of v1 Events). */
char *doc_failed_create(const cJSON *events);

#endif
