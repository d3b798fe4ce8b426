// SPDX-License-Identifier: Apache-2.0
/*
 * The controller's loop: leader election, the source (a git job in a
 * child process), the stored revision in force, the work queue handing
 * sandboxes to reconcile, HTTP, watches and requests, all advanced from
 * one poll that never blocks on any of them. Also the HTTP handlers and
 * the process's lifecycle.
 */
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "controller.h"
#include "diff.h"
#include "error.h"
#include "idle.h"
#include "log.h"
#include "quantity.h"

#define ONCE_DUE_MS 1000   /* --once waits for work due within this long */
#define TRIM_EVERY_MS 60000 /* freed heap handed back at most this often */

bool controller_owns(const controller *c, const cJSON *obj)
{
	return sbx_diff_owned(obj, c->o.instance);
}

bool controller_may_write(const controller *c)
{
	return c->leader && (!c->o.leader_elect || controller_now_ms() < c->lease_valid_until);
}

const cJSON *controller_sandbox(const controller *c, const char *name)
{
	sbx_buf key = SBX_BUF_INIT;
	const cJSON *o;

	sbx_buf_printf(&key, SANDBOX_KEY_PREFIX "%s", name);
	o = cache_get(c->cache, sbx_buf_cstr(&key));
	sbx_buf_dispose(&key);
	return o;
}

long long controller_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long controller_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void controller_timestamp(char out[32], long long wall_ms)
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

long long controller_parse_time(const char *s)
{
	struct tm tm = { 0 };
	const char *rest = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	long long ms = 0;

	if (!rest)
		return 0;
	if (*rest == '.') {   /* a MicroTime's fraction, to the millisecond */
		int digits = 0;

		for (rest++; *rest >= '0' && *rest <= '9'; rest++, digits++)
			if (digits < 3)
				ms = ms * 10 + (*rest - '0');
		while (digits++ < 3)
			ms *= 10;
	}
	return (long long)timegm(&tm) * 1000 + ms;
}

/* ---- cache events ---------------------------------------------------- */

static const char activity_prefix[] = "coordination.k8s.io/Lease/";

void controller_activity_key(sbx_buf *out, const char *ns)
{
	sbx_buf_printf(out, "%s%s/%s", activity_prefix, ns, SBX_IDLE_LEASE);
}

/* Note when an activity Lease of ours was renewed, on our clock: a
 * renewTime that differs from the one seen before. At first sight (the
 * start-up list, or its creation) its renewTime stands, but never later
 * than now. Keyed by the Lease itself, not by a label its owner may
 * change. */
static void note_activity(controller *c, const char *key, bool removed)
{
	size_t n = strlen(key), tail = strlen("/" SBX_IDLE_LEASE), mark;
	long long now = controller_wall_ms(), t;
	const cJSON *obj;
	struct activity *a;
	const char *renewal;

	if (strncmp(key, activity_prefix, sizeof(activity_prefix) - 1) || n < tail ||
	    strcmp(key + n - tail, "/" SBX_IDLE_LEASE))
		return;
	if (removed) {
		free(map_del(c->activity, key));
		return;
	}
	mark = cache_mark(c->cache);
	obj = cache_get(c->cache, key);
	renewal = controller_owns(c, obj) ? cJSON_GetStringValue(cJSON_GetObjectItem(
							cJSON_GetObjectItem(obj, "spec"), "renewTime")) : NULL;
	if (!renewal)
		renewal = "";
	if (!(a = map_get(c->activity, key))) {
		if ((a = calloc(1, sizeof(*a))) && map_put(c->activity, key, a, NULL) == 0) {
			t = *renewal ? controller_parse_time(renewal) : 0;
			a->first_ms = now;
			a->seen_ms = t > now ? now : t > 0 ? t : 0;
		} else {
			free(a);
			a = NULL; /* then the sandbox is taken as just seen: not suspended yet */
		}
	} else if (strcmp(a->renewal, renewal)) {
		a->seen_ms = now;
	}
	if (a)
		snprintf(a->renewal, sizeof(a->renewal), "%s", renewal);
	cache_release_to(c->cache, mark);
}

/* A live Sandbox as the fleet's decision reads it, with its own copies of
 * the strings (its name, then status.namespaceUID). */
struct live_sandbox {
	sbx_safety_live l;
	char strings[];
};

/* Keep what the deletion rules read of each live Sandbox beside the
 * cache, so deciding a revision unpacks none of them. One that cannot be
 * kept (out of memory) leaves the fleet undecidable until a restart. */
static void note_sandbox(controller *c, const char *key, bool removed)
{
	static const char prefix[] = SANDBOX_KEY_PREFIX;
	const char *name = key + sizeof(prefix) - 1;
	struct live_sandbox *s = NULL;
	size_t mark, nlen, ulen;
	const cJSON *obj;
	sbx_safety_live l;

	if (strncmp(key, prefix, sizeof(prefix) - 1) || !*name)
		return;
	free(map_del(c->live_sandboxes, name));
	if (removed)
		return;
	mark = cache_mark(c->cache);
	if ((obj = cache_get(c->cache, key))) {
		controller_live_of(c, obj, &l);
		nlen = strlen(name) + 1;
		ulen = l.ns_uid_recorded ? strlen(l.ns_uid_recorded) + 1 : 0;
		if ((s = malloc(sizeof(*s) + nlen + ulen))) {
			s->l = l;
			s->l.name = memcpy(s->strings, name, nlen);
			if (ulen)
				s->l.ns_uid_recorded = memcpy(s->strings + nlen, l.ns_uid_recorded, ulen);
		}
	}
	if (!s || map_put(c->live_sandboxes, name, s, NULL) < 0) {
		free(s);
		if (!c->live_lost)
			log_error(NULL, "out of memory noting Sandbox %s: nothing is deleted until a restart",
				  name);
		c->live_lost = true;
	}
	cache_release_to(c->cache, mark);
}

const sbx_safety_live *controller_live_sandbox(const controller *c, const char *name)
{
	const struct live_sandbox *s = map_get(c->live_sandboxes, name);

	return s ? &s->l : NULL;
}

void controller_cache_changed(const char *sandbox, const char *key, bool removed, void *payload)
{
	controller *c = payload;
	sbx_buf name = SBX_BUF_INIT;

	note_activity(c, key, removed);
	note_sandbox(c, key, removed);
	if (!c->synced_once)
		return;
	/* a Namespace or Sandbox someone else made, at a sandbox's name, may be
	 * what holds it in Conflict: look again when it changes or goes */
	if (!sandbox && c->repo && controller_sandbox_of_key(&name, key, c->repo->policy ?
							      c->repo->policy->namespace_prefix : NULL) &&
	    sbx_repo_find(c->repo, sbx_buf_cstr(&name)))
		sandbox = sbx_buf_cstr(&name);
	/* level-based: whatever changed, look at the whole sandbox again */
	if (sandbox)
		workqueue_add(c->queue, sandbox, controller_now_ms());
	sbx_buf_dispose(&name);
}

/* ---- http ------------------------------------------------------------ */

/* What one /metrics pass counts over the Sandboxes. */
struct tally {
	controller *c;
	double idle, idle_cpu, idle_memory;   /* suspended for idleness: how many, cores, bytes */
};

/* A Sandbox's request (spec.cpu or spec.memory) in whole units. */
static double request(const cJSON *obj, const char *field)
{
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "spec"), field));
	sbx_quantity q;
	int64_t milli;

	return v && sbx_quantity_parse(&q, v) == 0 && sbx_quantity_milli(&milli, &q) == 0 ? (double)milli / 1000.0
											      : 0;
}

static void tally(const char *key, const cJSON *obj, void *payload)
{
	struct tally *t = payload;
	controller *c = t->c;
	const cJSON *st = cJSON_GetObjectItem(obj, "status");
	const cJSON *sync = cJSON_GetObjectItem(st, "sync"), *health = cJSON_GetObjectItem(st, "health");
	const char *v[2] = { cJSON_IsString(sync) ? sync->valuestring : "Unknown",
			     cJSON_IsString(health) ? health->valuestring : "Unknown" };
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "metadata"), "name"));

	(void)key;
	if (!controller_owns(c, obj))
		return;
	metric_inc(c->mt.sandboxes, v, 1);
	if (name)
		metric_set(c->mt.status, (const char *const[]){ name, v[0], v[1] }, 1);
	if (sbx_idle_asleep_since(obj)) {
		t->idle++;
		t->idle_cpu += request(obj, "cpu");
		t->idle_memory += request(obj, "memory");
	}
}

/* What idle suspension reclaims: the requests asleep at the last scrape
 * times the time since (a step function sampled at each scrape). */
static void reclaimed(controller *c, const struct tally *t)
{
	long long now = controller_now_ms();
	double dt = c->idle_summed_ms ? (double)(now - c->idle_summed_ms) / 1000.0 : 0;

	metric_set(c->mt.idle, NULL, t->idle);
	metric_set(c->mt.idle_cpu, NULL, t->idle_cpu);
	metric_set(c->mt.idle_memory, NULL, t->idle_memory);
	metric_inc(c->mt.reclaimed_cpu, NULL, c->idle_cpu * dt);
	metric_inc(c->mt.reclaimed_memory, NULL, c->idle_memory * dt);
	c->idle_cpu = t->idle_cpu;
	c->idle_memory = t->idle_memory;
	c->idle_summed_ms = now;
}

/* CPU time from getrusage, resident size from /proc (a procfs read does
 * not wait on a device). */
static void process_metrics(controller *c)
{
	struct rusage ru;
	FILE *f;
	unsigned long size, resident;

	if (getrusage(RUSAGE_SELF, &ru) == 0)
		metric_set(c->mt.cpu_seconds, NULL,
			   (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
				   (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	f = fopen("/proc/self/statm", "r");
	if (f && fscanf(f, "%lu %lu", &size, &resident) == 2)
		metric_set(c->mt.resident_bytes, NULL, (double)resident * (double)sysconf(_SC_PAGESIZE));
	if (f)
		fclose(f);
}

static void h_metrics(sbx_buf *out, void *payload)
{
	controller *c = payload;
	struct tally t = { c, 0, 0, 0 };
	const char *method;
	long status;
	unsigned long n;

	metric_reset(c->mt.sandboxes);
	metric_reset(c->mt.status);
	cache_each_prefix(c->cache, SANDBOX_KEY_PREFIX, tally, &t);
	reclaimed(c, &t);
	metric_set(c->mt.queue_depth, NULL, (double)workqueue_depth(c->queue));
	metric_set(c->mt.leader, NULL, controller_may_write(c));
	process_metrics(c);
	/* the revision's progress is the leader's to tell: a follower
	 * reconciles nothing, so it exports no series */
	metric_reset(c->mt.head_unapplied);
	if (controller_may_write(c))
		metric_set(c->mt.head_unapplied, NULL, source_head_unapplied(c, controller_wall_ms()));
	for (size_t i = 0; sbx_kube_request_counter(c->kube, i, &method, &status, &n); i++) {
		char code[8];

		snprintf(code, sizeof(code), "%ld", status);
		metric_set(c->mt.api_requests, (const char *const[]){ method, code }, (double)n);
	}
	metrics_write(out, c->m);
}

static bool h_healthz(sbx_buf *why, void *payload)
{
	(void)why;
	(void)payload;
	return true;
}

static bool h_readyz(sbx_buf *why, void *payload)
{
	controller *c = payload;

	if (!c->revision[0]) {
		sbx_buf_puts(why, c->source_error ? c->source_error : "no revision fetched yet");
		return false;
	}
	if (cache_broken(c->cache)) {
		sbx_buf_puts(why, "out of memory: the cache lacks objects; restart the controller");
		return false;
	}
	if (!cache_synced(c->cache)) {
		sbx_buf_puts(why, "the cache has not synced yet");
		return false;
	}
	return true;
}

static void h_webhook(const char *event, const char *ref, void *payload)
{
	controller *c = payload;
	sbx_buf want = SBX_BUF_INIT;

	sbx_buf_printf(&want, "refs/heads/%s", c->o.branch);
	if (!strcmp(event, "push") && (!*ref || !strcmp(ref, sbx_buf_cstr(&want)))) {
		c->fetch_now = true;
		log_info(NULL, "webhook: push to %s, fetching", *ref ? ref : c->o.branch);
	}
	sbx_buf_dispose(&want);
}

/* ---- lifecycle ------------------------------------------------------- */

static int read_secret(char **out, size_t *len, const char *path)
{
	FILE *f = fopen(path, "rb");
	sbx_buf b = SBX_BUF_INIT;
	char chunk[256];
	size_t n;

	if (!f)
		return sbx_error_set(SBX_EIO, "cannot read webhook secret file '%s': %s", path, strerror(errno));
	sbx_buf_init(&b, 64 * 1024);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		sbx_buf_put(&b, chunk, n);
	fclose(f);
	while (b.len && (b.ptr[b.len - 1] == '\n' || b.ptr[b.len - 1] == '\r'))
		b.ptr[--b.len] = '\0';
	*out = sbx_buf_take(&b, len);
	return *out ? 0 : sbx_error_set(SBX_EIO, "webhook secret file '%s' is too large", path);
}

void controller_metrics_init(controller *c)
{
	static const double seconds[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30 };
	static const double latency[] = { 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200 };
	struct controller_metrics *m = &c->mt;

	m->sandboxes = metrics_add(c->m, METRIC_GAUGE, "sandbox_sandboxes",
				   "Sandboxes by sync and health status.",
				   (const char *const[]){ "sync", "health", NULL }, NULL, 0);
	m->status = metrics_add(c->m, METRIC_GAUGE, "sandbox_status",
				"1 for each sandbox, labelled with its sync and health status.",
				(const char *const[]){ "sandbox", "sync", "health", NULL }, NULL, 0);
	m->reconcile_seconds = metrics_add(c->m, METRIC_HISTOGRAM, "sandbox_reconcile_duration_seconds",
					   "Time to reconcile one sandbox.",
					   (const char *const[]){ "result", NULL }, seconds, 12);
	m->reconciles = metrics_add(c->m, METRIC_COUNTER, "sandbox_reconciles_total",
				    "Reconciles by result.", (const char *const[]){ "result", NULL }, NULL, 0);
	m->reconcile_errors = metrics_add(c->m, METRIC_COUNTER, "sandbox_reconcile_errors_total",
					  "Failed reconciles by the first cause (HTTP class of the API answer, "
					  "render, not_leader, internal).",
					  (const char *const[]){ "reason", NULL }, NULL, 0);
	m->git_fetch_seconds = metrics_add(c->m, METRIC_HISTOGRAM, "sandbox_git_fetch_duration_seconds",
					   "Time of a git ref check and fetch.", NULL, seconds, 12);
	m->git_errors = metrics_add(c->m, METRIC_COUNTER, "sandbox_git_errors_total",
				    "Failed git fetches.", NULL, NULL, 0);
	m->git_last_success = metrics_add(c->m, METRIC_GAUGE, "sandbox_git_last_success_timestamp_seconds",
					  "When the branch was last checked successfully.", NULL, NULL, 0);
	m->drift = metrics_add(c->m, METRIC_COUNTER, "sandbox_drift_corrections_total",
			       "Objects re-applied because the cluster had drifted from git.", NULL, NULL, 0);
	m->api_requests = metrics_add(c->m, METRIC_COUNTER, "sandbox_api_requests_total",
				      "Kubernetes API requests sent, by verb and HTTP code (0: no answer).",
				      (const char *const[]){ "verb", "code", NULL }, NULL, 0);
	m->queue_depth = metrics_add(c->m, METRIC_GAUGE, "sandbox_workqueue_depth",
				     "Sandboxes waiting to be reconciled.", NULL, NULL, 0);
	m->writes = metrics_add(c->m, METRIC_COUNTER, "sandbox_writes_total",
				"Write requests made by reconciles, by kind of write.",
				(const char *const[]){ "verb", NULL }, NULL, 0);
	m->revision = metrics_add(c->m, METRIC_GAUGE, "sandbox_git_revision",
				  "The newest git revision taken.", (const char *const[]){ "revision", NULL },
				  NULL, 0);
	m->prune_blocked = metrics_add(c->m, METRIC_GAUGE, "sandbox_prune_blocked",
				       "1 while the newest revision's removals are refused (PruneBlocked).",
				       NULL, NULL, 0);
	m->commit_to_applied = metrics_add(c->m, METRIC_HISTOGRAM, "sandbox_commit_to_applied_seconds",
					   "From a commit that changed a sandbox to the first Synced status at "
					   "it, once per sandbox and revision.", NULL, latency, 12);
	m->commit_to_ready = metrics_add(c->m, METRIC_HISTOGRAM, "sandbox_commit_to_ready_seconds",
					 "From a commit that changed a sandbox to the first Synced and Healthy "
					 "status at it, once per sandbox and revision.", NULL, latency, 12);
	m->head_unapplied = metrics_add(c->m, METRIC_GAUGE, "sandbox_head_unapplied_seconds",
					"How long the newest revision fetched has waited to be applied to "
					"every sandbox it changed and to be in force (0: it is). Leader only.",
					NULL, NULL, 0);
	m->leader = metrics_add(c->m, METRIC_GAUGE, "sandbox_leader",
				"1 while this replica holds the Lease (or runs without leader election).",
				NULL, NULL, 0);
	m->idle = metrics_add(c->m, METRIC_GAUGE, "sandbox_idle_suspended",
			      "Sandboxes suspended for idleness (not those suspended in git).", NULL, NULL, 0);
	m->idle_cpu = metrics_add(c->m, METRIC_GAUGE, "sandbox_idle_suspended_cpu_cores",
				  "The CPU requests of the sandboxes suspended for idleness.", NULL, NULL, 0);
	m->idle_memory = metrics_add(c->m, METRIC_GAUGE, "sandbox_idle_suspended_memory_bytes",
				     "The memory requests of the sandboxes suspended for idleness.", NULL, NULL,
				     0);
	m->reclaimed_cpu = metrics_add(c->m, METRIC_COUNTER, "sandbox_idle_reclaimed_cpu_core_seconds_total",
				       "CPU requests times the time suspended for idleness, summed at each "
				       "scrape.", NULL, NULL, 0);
	m->reclaimed_memory = metrics_add(c->m, METRIC_COUNTER,
					  "sandbox_idle_reclaimed_memory_byte_seconds_total",
					  "Memory requests times the time suspended for idleness, summed at "
					  "each scrape.", NULL, NULL, 0);
	/* the usual process metrics, named as every Prometheus client names them */
	m->cpu_seconds = metrics_add(c->m, METRIC_COUNTER, "process_cpu_seconds_total",
				     "Total user and system CPU time spent in seconds.", NULL, NULL, 0);
	m->resident_bytes = metrics_add(c->m, METRIC_GAUGE, "process_resident_memory_bytes",
					"Resident memory size in bytes.", NULL, NULL, 0);
	m->start_time = metrics_add(c->m, METRIC_GAUGE, "process_start_time_seconds",
				    "Start time of the process since unix epoch in seconds.", NULL, NULL, 0);
	metric_set(m->start_time, NULL, (double)controller_wall_ms() / 1000.0);
	/* labelled series start at 0: a rate has a baseline and a dashboard
	 * a line from the start */
	for (const char *const *r = reconcile_error_reasons; *r; r++)
		metric_inc(m->reconcile_errors, (const char *const[]){ *r }, 0);
	for (const char *const *v = (const char *const[]){ "ok", "error", NULL }; *v; v++)
		metric_inc(m->reconciles, (const char *const[]){ *v }, 0);
	for (const char *const *v = (const char *const[]){ "apply", "create", "delete", "scale", "status",
							   "state", "health", NULL };
	     *v; v++)
		metric_inc(m->writes, (const char *const[]){ *v }, 0);
}

/* Say which Kubernetes the API server runs, and warn when it is older than
 * the oldest the tests run on: it may lack what the controller uses (an
 * apply of an unknown field then fails: the client validates strictly). */
static void say_server_version(controller *c)
{
	char git[64];
	int major, minor;

	if (sbx_kube_server_version(c->kube, &major, &minor, git, sizeof(git)) < 0) {
		log_warn(NULL, "%s", sbx_error_last());
		sbx_error_clear();
	} else if (major == 1 && minor < SBX_KUBE_OLDEST_MINOR) {
		log_warn(NULL, "the API server runs Kubernetes %s, older than 1.%d, the oldest sandbox is tested on; "
			 "see \"Supported Kubernetes versions\" in docs/install.md", git, SBX_KUBE_OLDEST_MINOR);
	} else {
		log_info(NULL, "the API server runs Kubernetes %s", git);
	}
}

int controller_init(controller *c, const controller_options *o)
{
	sbx_kubeconfig_options ko = SBX_KUBECONFIG_OPTIONS_INIT;
	sbx_git_options go = SBX_GIT_OPTIONS_INIT;
	http_handlers hh = { h_metrics, h_healthz, h_readyz, h_webhook, NULL };
	sbx_buf mirror = SBX_BUF_INIT;
	int r;

	memset(c, 0, sizeof(*c));
	c->o = *o;
	c->file_state = map_new();
	c->inputs = map_new();
	c->created_ns = map_new();
	c->activity = map_new();
	c->live_sandboxes = map_new();
	c->applied = map_new();
	c->queue = workqueue_new(NULL);
	c->m = metrics_new();
	if (!c->file_state || !c->inputs || !c->created_ns || !c->activity || !c->live_sandboxes ||
	    !c->applied || !c->queue || !c->m)
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	controller_metrics_init(c);
	ko.paths = o->kubeconfig;
	ko.context = o->context;
	r = o->in_cluster ? sbx_kubeconfig_in_cluster(&c->kcfg, NULL) : sbx_kubeconfig_load(&c->kcfg, &ko);
	if (r < 0)
		return r;
	{
		sbx_kube_options kopt = SBX_KUBE_OPTIONS_INIT;

		if (o->kube_qps > 0) {
			kopt.qps = o->kube_qps;
			kopt.burst = (int)(o->kube_qps * 2);
		}
		r = sbx_kube_new(&c->kube, c->kcfg, &kopt);
	}
	if (r < 0)
		return r;
	sbx_buf_printf(&mirror, "%s/mirror.git", o->state_dir);
	go.url = o->repo_url;
	go.branch = o->branch;
	go.mirror_dir = sbx_buf_cstr(&mirror);
	go.ssh_key = o->git_ssh_key;
	go.known_hosts = o->git_known_hosts;
	go.token_file = o->git_token_file;
	go.ca_file = o->git_ca_file;
	go.timeout_s = o->git_timeout_s;
	r = sbx_git_open(&c->git, &go);
	sbx_buf_dispose(&mirror);
	if (r < 0)
		return r;
	if (o->webhook_secret_file) {
		r = read_secret(&c->webhook_secret, &c->webhook_secret_len, o->webhook_secret_file);
		if (r < 0)
			return r;
	}
	if (o->listen_port || (o->listen_addr && *o->listen_addr)) {
		hh.payload = c;
		r = http_server_start(&c->http, o->listen_addr, o->listen_port, c->webhook_secret,
				      c->webhook_secret_len, &hh);
		if (r < 0)
			return r;
		log_info(NULL, "serving /metrics, /healthz, /readyz and /webhook on %s:%u",
			 o->listen_addr ? o->listen_addr : "127.0.0.1", http_server_port(c->http));
	}
	say_server_version(c);
	r = crd_ensure(c);
	if (r < 0)
		return r;
	return cache_new(&c->cache, c->kube, controller_cache_changed, c);
}

struct settle {
	controller *c;
	bool settled;
};

static void check_settled(const char *key, const cJSON *obj, void *payload)
{
	struct settle *s = payload;
	const cJSON *h = cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "status"), "health");

	(void)key;
	if (controller_owns(s->c, obj) && (!cJSON_IsString(h) || !strcmp(h->valuestring, "Progressing") ||
					   !strcmp(h->valuestring, "Missing")))
		s->settled = false;
}

/* --once: every sandbox has a status that is not still on its way. */
static bool settled(controller *c)
{
	struct settle s = { c, true };

	cache_each_prefix(c->cache, SANDBOX_KEY_PREFIX, check_settled, &s);
	return s.settled;
}

int controller_run(controller *c)
{
	struct pollfd fds[64];
	long long now, idle_since = 0, trimmed = 0;
	bool broken_said = false;

	while (!c->stop) {
		size_t nfds = 0;
		long timeout = 1000, q;
		const char *key;
		int git_fd;

		now = controller_now_ms();
		leader_tick(c, now);
		source_tick(c, now);
		if (!c->synced_once && cache_synced(c->cache) && c->revision[0]) {
			c->synced_once = true;
			log_info(NULL, "cache synced: %zu objects", cache_count(c->cache));
		}
		source_state_tick(c, now);
#ifdef __GLIBC__
		/* a list or a pass over every sandbox parses much and keeps
		 * little: hand the freed pages back once things are quiet
		 * (nothing in flight or due within a second) */
		q = workqueue_next_ms(c->queue, now);
		if (c->synced_once && !c->inflight && (q < 0 || q > 1000) && now - trimmed >= TRIM_EVERY_MS) {
			malloc_trim(0);
			trimmed = now;
		}
#endif
		if (cache_broken(c->cache) && !broken_said) {
			log_error(NULL, "out of memory: the cache lacks objects, so nothing more is written; "
				  "restart the controller");
			broken_said = true;
		}
		while (c->synced_once && controller_may_write(c) && !cache_broken(c->cache) &&
		       c->inflight < c->o.workers &&
		       (key = workqueue_get(c->queue, controller_now_ms()))) {
			reconcile_start(c, key);
			/* a pass over thousands of unchanged sandboxes can run
			 * here in one go: unpack only one at a time */
			cache_release(c->cache);
		}
		/* --once: work due later (the end of a grace period) is not waited for */
		q = workqueue_next_ms(c->queue, controller_now_ms());
		if (c->o.once && c->synced_once && !c->inflight && (q < 0 || q > ONCE_DUE_MS)) {
			/* done when every sandbox settled (rollouts finish a moment
			 * after the apply), or after --settle-timeout */
			if (!idle_since)
				idle_since = now;
			if (now - idle_since >= c->o.settle_ms ||
			    (settled(c) && now - idle_since >= 500))
				break;
		} else {
			idle_since = 0;
		}
		/* --settle-timeout 0: done once every sandbox was applied, even
		 * while rollouts keep updating statuses (what is in flight then
		 * finishes below) */
		if (c->o.once && !c->o.settle_ms && c->synced_once && c->repo &&
		    map_count(c->applied) >= c->files.nsandboxes)
			break;
		/* with every worker busy, a ready key must wait for a reconcile to
		 * finish, which the client's poll notices: no need to wake early */
		q = c->inflight < c->o.workers ? workqueue_next_ms(c->queue, controller_now_ms()) : -1;
		if (q >= 0 && q < timeout)
			timeout = q;
		if (c->o.leader_elect && !c->lease_inflight && c->lease_renew_at - now < timeout)
			timeout = c->lease_renew_at > now ? (long)(c->lease_renew_at - now) : 0;
		if (c->http)
			nfds = http_server_fds(c->http, fds, 63, &timeout);
		if ((git_fd = source_fd(c, controller_now_ms(), &timeout)) >= 0) {
			fds[nfds].fd = git_fd;
			fds[nfds].events = POLLIN;
			fds[nfds++].revents = 0;
		}
		cache_release(c->cache);
		sbx_kube_run_fds(c->kube, timeout, fds, nfds);
		if (c->http)
			http_server_run(c->http);
	}
	/* finish what is in flight, then give up the lease */
	for (int i = 0; i < 300 && (c->inflight || source_busy(c)); i++) {
		cache_release(c->cache);
		sbx_kube_run(c->kube, 100);
	}
	leader_release(c);
	log_info(NULL, "stopped: API requests GET %lu, PATCH %lu, POST %lu, PUT %lu, DELETE %lu",
		 sbx_kube_request_count(c->kube, "GET", -1), sbx_kube_request_count(c->kube, "PATCH", -1),
		 sbx_kube_request_count(c->kube, "POST", -1), sbx_kube_request_count(c->kube, "PUT", -1),
		 sbx_kube_request_count(c->kube, "DELETE", -1));
	return 0;
}

void controller_dispose(controller *c)
{
	source_dispose(c);
	http_server_stop(c->http);
	cache_free(c->cache);
	sbx_kube_free(c->kube);
	sbx_kube_config_free(c->kcfg);
	sbx_git_free(c->git);
	sbx_repo_free(c->repo);
	sbx_git_files_dispose(&c->files);
	sbx_diags_dispose(&c->repo_diags);
	workqueue_free(c->queue);
	metrics_free(c->m);
	map_free(c->created_ns, free);
	map_free(c->activity, free);
	map_free(c->live_sandboxes, free);
	map_free(c->applied, free);
	if (c->webhook_secret) {
		explicit_bzero(c->webhook_secret, c->webhook_secret_len);
		free(c->webhook_secret);
	}
}
