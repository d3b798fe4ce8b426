/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Kubernetes API client: the only code that speaks HTTP to the API
 * server. Many requests in flight over HTTP/2 on one connection (curl
 * multi), driven from a single-threaded loop with completion callbacks,
 * plus a blocking layer for the CLI. Typed errors from the API's Status
 * object; 429/503 honour Retry-After; other transient failures back off
 * exponentially with jitter; a client-side token bucket limits the rate.
 * See docs/internals/kube.md.
 */
#ifndef SBX_KUBE_H
#define SBX_KUBE_H

#include <cjson/cJSON.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "kinds.h"
#include "kubeconfig.h"

typedef struct sbx_kube sbx_kube;

typedef struct sbx_kube_options {
	double qps;             /* token bucket refill per second (default 100) */
	int burst;              /* token bucket size (default 200) */
	int max_retries;        /* for 429, 5xx and transport failures (default 5) */
	long backoff_base_ms;   /* first retry delay (default 100) */
	long backoff_cap_ms;    /* longest retry delay (default 30000) */
	size_t max_body;        /* largest response body (default 64 MiB) */
	size_t max_watch_line;  /* largest watch event (default 8 MiB) */
	long timeout_ms;        /* whole-request timeout, watches excepted (default 60000) */
	const char *user_agent; /* default "sandbox/VERSION" */
} sbx_kube_options;

#define SBX_KUBE_OPTIONS_INIT { 100, 200, 5, 100, 30000, (size_t)64 << 20, (size_t)8 << 20, 60000, NULL }

/* The outcome of one request. */
typedef struct sbx_kube_resp {
	int err;                /* 0, or SBX_E* (typed from the Status reason and code) */
	long status;            /* HTTP status, 0 when no response arrived */
	cJSON *body;            /* parsed JSON body, or NULL; owned by the response */
	const char *raw;        /* the body as received, NUL-terminated ("" when none);
				 * for text answers (pod logs, metrics); borrowed */
	size_t raw_len;
	char reason[64];        /* Status reason ("NotFound", ...) or "" */
	char message[768];      /* Status message with field causes, or the transport error */
	int attempts;           /* how many times it was sent */
} sbx_kube_resp;

/* Called once when a request finished, after retries. `resp` is borrowed
 * for the call: take resp->body (set it to NULL) to keep it. */
typedef void (*sbx_kube_done_fn)(sbx_kube_resp *resp, void *payload);

typedef struct sbx_kube_req {
	const char *method;        /* "GET", "POST", "PATCH", "PUT", "DELETE" */
	const char *path;          /* "/api/v1/namespaces/x/pods?limit=500" */
	const char *body;          /* request body or NULL; copied */
	const char *content_type;  /* default "application/json" */
} sbx_kube_req;

/* Create a client for cfg (borrowed; must outlive the client, which
 * re-reads its token file). Returns 0 and *out (caller must
 * sbx_kube_free), or SBX_EINVAL / SBX_ENOMEM. */
int sbx_kube_new(sbx_kube **out, sbx_kube_config *cfg, const sbx_kube_options *opts);

/* Free the client, cancelling requests and watches without callbacks. */
void sbx_kube_free(sbx_kube *k);

/* Queue a request; `done` runs from sbx_kube_run(). Returns 0 or
 * SBX_ENOMEM. */
int sbx_kube_start(sbx_kube *k, const sbx_kube_req *req, sbx_kube_done_fn done, void *payload);

/* Drive transfers for at most timeout_ms (0: do what is ready and return)
 * and run the callbacks of what finished; returns early once a callback
 * (a request's or a watch's) has run, so the caller can act on it at once.
 * Returns the number of requests and watches still active, or a negative
 * SBX_E* on a curl failure. */
int sbx_kube_run(sbx_kube *k, long timeout_ms);

/* sbx_kube_run that also waits on the caller's descriptors (an HTTP
 * server's, say): returns early, with revents set, when one is ready. */
int sbx_kube_run_fds(sbx_kube *k, long timeout_ms, struct pollfd *fds, size_t nfds);

/* Requests sent so far, counted by method and HTTP status (for metrics and
 * tests). `status` 0 counts transport failures. */
unsigned long sbx_kube_request_count(const sbx_kube *k, const char *method, long status);

/* The i-th (method, status) pair counted so far and its count, for
 * exporting them all; false past the last. `method` is borrowed. */
bool sbx_kube_request_counter(const sbx_kube *k, size_t i, const char **method, long *status,
			      unsigned long *count);

/* Connections opened and responses received over HTTP/2 so far. */
void sbx_kube_transport_stats(const sbx_kube *k, unsigned long *connections, unsigned long *http2);

/* Append the REST path of a kind (namespace may be NULL for cluster scope
 * or "all namespaces"; name and subresource may be NULL) to out. */
int sbx_kube_path(sbx_buf *out, const sbx_kind *kind, const char *ns, const char *name,
		  const char *subresource);

/* Set up a curl easy handle (CURL *, passed as void * so this header does
 * not need curl's) for the API server of c: https only, no redirects, TLS
 * verified against c's CA (unless c->insecure), c's client certificate.
 * For connections outside the request machinery (port-forward). */
void sbx_kube_tls_setup(void *easy, const sbx_kube_config *c);

/* ---- blocking layer (runs the loop until the request is done) -------- */

/* On failure each returns the typed SBX_E* code, with "VERB KIND 'NS/NAME':
 * MESSAGE" in sbx_error_last(). *out is set only on success; caller must
 * cJSON_Delete it. */
int sbx_kube_get(sbx_kube *k, cJSON **out, const sbx_kind *kind, const char *ns, const char *name);

/* The oldest Kubernetes minor (1.N) the tests run on: the oldest folder of
 * tests/cluster/versions; docs/install.md lists the supported versions. */
#define SBX_KUBE_OLDEST_MINOR 35

/* The API server's version from its /version answer: major and minor as
 * numbers (providers append "+" to the minor: "35+"), and gitVersion
 * ("v1.35.4-eks-...") into git (at most n bytes) when git is not NULL.
 * False when major or minor is missing or not a number. */
bool sbx_kube_version_parse(const cJSON *v, int *major, int *minor, char *git, size_t n);

/* GET /version, parsed as above. SBX_EINVALIDOBJ when it cannot be read. */
int sbx_kube_server_version(sbx_kube *k, int *major, int *minor, char *git, size_t n);

/* List every object (following `continue` pages of `limit`; an expired
 * continue token restarts the list). *items is a cJSON array; *rv the
 * list's resourceVersion (caller must free). selector may be NULL. */
int sbx_kube_list(sbx_kube *k, cJSON **items, char **rv, const sbx_kind *kind, const char *ns,
		  const char *selector, int limit);

int sbx_kube_create(sbx_kube *k, cJSON **out, const cJSON *obj);

typedef struct sbx_kube_apply_options {
	const char *field_manager;  /* default "sandbox-controller" */
	bool force;                 /* take over conflicting fields */
	bool dry_run;
	const char *subresource;    /* NULL, or "status" */
} sbx_kube_apply_options;

#define SBX_KUBE_APPLY_OPTIONS_INIT { NULL, false, false, NULL }

/* Server-side apply (fieldValidation=Strict). out may be NULL. */
int sbx_kube_apply(sbx_kube *k, cJSON **out, const cJSON *obj, const sbx_kube_apply_options *o);

typedef struct sbx_kube_delete_options {
	const char *propagation;    /* "Foreground", "Background" (default), "Orphan" */
	const char *uid;            /* precondition, or NULL */
	const char *resource_version; /* precondition, or NULL */
} sbx_kube_delete_options;

#define SBX_KUBE_DELETE_OPTIONS_INIT { NULL, NULL, NULL }

int sbx_kube_delete(sbx_kube *k, const sbx_kind *kind, const char *ns, const char *name,
		    const sbx_kube_delete_options *o);

/* JSON merge patch (RFC 7386) of an object or its subresource ("scale",
 * "status"); out may be NULL. */
int sbx_kube_patch(sbx_kube *k, cJSON **out, const sbx_kind *kind, const char *ns, const char *name,
		   const char *subresource, const char *merge_patch);

/* The same requests, non-blocking: `done` runs from sbx_kube_run() with
 * the typed outcome (resp->err, resp->message). Return 0 or SBX_ENOMEM /
 * SBX_EUSAGE. */
int sbx_kube_start_create(sbx_kube *k, const cJSON *obj, sbx_kube_done_fn done, void *payload);
int sbx_kube_start_apply(sbx_kube *k, const cJSON *obj, const sbx_kube_apply_options *o,
			 sbx_kube_done_fn done, void *payload);
int sbx_kube_start_delete(sbx_kube *k, const sbx_kind *kind, const char *ns, const char *name,
			  const sbx_kube_delete_options *o, sbx_kube_done_fn done, void *payload);
int sbx_kube_start_patch(sbx_kube *k, const sbx_kind *kind, const char *ns, const char *name,
			 const char *subresource, const char *merge_patch, sbx_kube_done_fn done,
			 void *payload);

/* PUT obj to its status subresource (obj carries metadata.resourceVersion
 * for optimistic concurrency). out may be NULL. */
int sbx_kube_update_status(sbx_kube *k, cJSON **out, const cJSON *obj);

/* Record a core/v1 Event about `about` (an object with apiVersion, kind,
 * metadata.name/namespace/uid). type is "Normal" or "Warning". */
int sbx_kube_event(sbx_kube *k, const cJSON *about, const char *type, const char *reason,
		   const char *message);

/* The same, non-blocking. */
int sbx_kube_start_event(sbx_kube *k, const cJSON *about, const char *type, const char *reason,
			 const char *message, sbx_kube_done_fn done, void *payload);

/* ---- watch: list, then stream changes, relisting when needed --------- */

typedef struct sbx_kube_watch sbx_kube_watch;

typedef struct sbx_kube_watch_handlers {
	/* A full list begins: every object will be passed to upsert; when
	 * list_done runs, objects not seen since list_begin are gone. */
	void (*list_begin)(void *payload);
	void (*list_done)(void *payload);
	/* An object was added or changed: obj is the handler's, to keep or
	 * cJSON_Delete (a cache need not copy it). Without
	 * metadata.managedFields, which is never parsed (here and in
	 * remove). */
	void (*upsert)(cJSON *obj, void *payload);
	/* An object was deleted: obj is borrowed. */
	void (*remove)(const cJSON *obj, void *payload);
} sbx_kube_watch_handlers;

/* Keep kind (in ns, or all namespaces when NULL; selector may be NULL) in
 * sync through the handlers: paginated list, then a watch from its
 * resourceVersion with bookmarks, resumed from the last version seen when
 * the stream ends, relisted after 410 Gone or an ERROR event. Runs from
 * sbx_kube_run(). Returns 0 and *out (stop with sbx_kube_watch_stop). */
int sbx_kube_watch_start(sbx_kube_watch **out, sbx_kube *k, const sbx_kind *kind, const char *ns,
			 const char *selector, const sbx_kube_watch_handlers *h, void *payload);

/* Whether the first full list has been delivered. */
bool sbx_kube_watch_synced(const sbx_kube_watch *w);

/* The last resourceVersion seen. Borrowed; valid until the next run. */
const char *sbx_kube_watch_version(const sbx_kube_watch *w);

/* How many times the watch relisted (410 or ERROR) and resumed. */
unsigned sbx_kube_watch_relists(const sbx_kube_watch *w);

/* Stop and free a watch. NULL-safe. */
void sbx_kube_watch_stop(sbx_kube_watch *w);

#endif
