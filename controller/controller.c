// SPDX-License-Identifier: Apache-2.0
/*
 * The controller's loop and its source stage: poll the branch (one ref
 * check), fetch on change or webhook, read and validate the revision,
 * decide which sandboxes to enqueue and whether deleting is safe, and hand
 * queued sandboxes to reconcile. HTTP, watches and requests all advance
 * from the same poll.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controller.h"
#include "diff.h"
#include "error.h"
#include "log.h"

bool controller_owns(const controller *c, const cJSON *obj)
{
	const char *id = sbx_diff_tracking_id(obj);
	size_t n = strlen(c->o.instance);

	return id && strncmp(id, c->o.instance, n) == 0 && id[n] == ':';
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

/* ---- source ---------------------------------------------------------- */

struct names {
	char **v;
	size_t n, cap;
};

static void names_add(struct names *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], name))
			return;
	if (s->n == s->cap) {
		char **p = realloc(s->v, (s->cap = s->cap ? s->cap * 2 : 32) * sizeof(*p));

		if (!p)
			return;
		s->v = p;
	}
	s->v[s->n++] = strdup(name);
}

static void names_free(struct names *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

/* Every sandbox the cluster has a Sandbox object for. */
static void known_sandboxes(controller *c, struct names *out);

static void set_reason(char **dst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_reason(char **dst, const char *fmt, ...)
{
	sbx_buf b = SBX_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	sbx_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	free(*dst);
	*dst = sbx_buf_take(&b, NULL);
}

/* Take revision `oid` into force: read, validate, decide safety, enqueue
 * what changed. */
static void take_revision(controller *c, const char *oid)
{
	sbx_git_files files;
	sbx_git_changes ch = { 0 };
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_repo *repo = NULL;
	sbx_repo_files rf;
	struct names known = { 0 };
	size_t removed = 0, total;
	long long now = controller_now_ms();
	bool first = !c->revision[0];

	memset(&files, 0, sizeof(files));
	if (sbx_git_read(&files, c->git, oid, &d) < 0) {
		log_error(NULL, "cannot read revision %.12s: %s", oid, sbx_error_last());
		sbx_diags_dispose(&d);
		return;
	}
	rf.policy = files.policy;
	rf.templates = files.templates;
	rf.ntemplates = files.ntemplates;
	rf.sandboxes = files.sandboxes;
	rf.nsandboxes = files.nsandboxes;
	if (sbx_repo_load(&repo, &rf, NULL, &d) == SBX_ENOMEM) {
		log_error(NULL, "out of memory reading revision %.12s", oid);
		sbx_diags_dispose(&d);
		sbx_git_files_dispose(&files);
		return;
	}
	if (!first)
		sbx_git_diff(&ch, c->git, c->revision, oid);

	/* safety: deleting is refused for an empty tree, an invalid policy or
	 * templates, or more removals than maxPrunePercent allows */
	known_sandboxes(c, &known);
	map_free(c->removed, NULL);
	c->removed = map_new();
	for (size_t i = 0; i < known.n; i++) {
		sbx_buf p = SBX_BUF_INIT;
		bool present = false;

		sbx_buf_printf(&p, "sandboxes/%s.yaml", known.v[i]);
		for (size_t j = 0; j < files.nsandboxes && !present; j++)
			present = !strcmp(files.sandboxes[j].path, sbx_buf_cstr(&p));
		if (!present) {
			map_put(c->removed, known.v[i], "", NULL);
			removed++;
		}
		sbx_buf_dispose(&p);
	}
	total = known.n;
	c->prune_blocked = false;
	if (!repo->policy || !repo->templates) {
		c->prune_blocked = true;
		set_reason(&c->prune_reason, "revision %.12s has an invalid %s (%s); nothing is changed "
			   "or deleted until a valid revision arrives", oid,
			   !repo->policy ? "templates/policy.yaml" : "template",
			   d.count ? d.items[0].message : "see the controller log");
	} else if (files.nsandboxes == 0 && total > 0) {
		c->prune_blocked = true;
		set_reason(&c->prune_reason, "revision %.12s has no sandbox files at all; deleting all %zu "
			   "sandboxes is refused", oid, total);
	} else if (total && removed * 100 > (size_t)repo->policy->max_prune_percent * total) {
		c->prune_blocked = true;
		set_reason(&c->prune_reason, "revision %.12s removes %zu of %zu sandboxes, more than "
			   "deletion.maxPrunePercent (%d%%); nothing is deleted until a revision removes "
			   "fewer", oid, removed, total, repo->policy->max_prune_percent);
	}
	if (c->prune_blocked)
		log_warn(NULL, "%s", c->prune_reason);

	sbx_repo_free(c->repo);
	sbx_git_files_dispose(&c->files);
	sbx_diags_dispose(&c->repo_diags);
	c->repo = repo;
	c->files = files;
	c->repo_diags = d;
	snprintf(c->revision, sizeof(c->revision), "%s", oid);
	c->revision_seen = controller_wall_ms();
	metric_reset(c->mt.revision);
	metric_set(c->mt.revision, (const char *const[]){ c->revision }, 1);
	log_info(NULL, "revision %.12s \"%s\": %zu sandbox files, %zu valid, %zu problems%s",
		 oid, files.subject ? files.subject : "", files.nsandboxes, repo->nspecs, d.count,
		 first ? " (first sync)" : "");

	/* enqueue: everything on the first revision or a template change; else
	 * what the diff names, plus removals */
	if (first || ch.all || c->prune_blocked) {
		for (size_t i = 0; i < files.nsandboxes; i++) {
			const char *base = strrchr(files.sandboxes[i].path, '/');
			char *name = strndup(base + 1, strlen(base + 1) - 5);

			workqueue_add(c->queue, name, now);
			free(name);
		}
		for (size_t i = 0; i < known.n; i++)
			workqueue_add(c->queue, known.v[i], now);
	} else {
		for (size_t i = 0; i < ch.count; i++)
			workqueue_add(c->queue, ch.names[i], now);
	}
	sbx_git_changes_dispose(&ch);
	names_free(&known);
}

static void poll_source(controller *c, long long now)
{
	char head[SBX_GIT_OID_HEX], got[SBX_GIT_OID_HEX];
	long long t0 = controller_now_ms();
	int r;

	c->next_poll = now + c->o.poll_ms;
	c->fetch_now = false;
	r = sbx_git_remote_head(c->git, head);
	if (r == 0 && !strcmp(head, c->revision))
		goto ok; /* unchanged: one ref check, nothing else */
	if (r == 0)
		r = sbx_git_fetch(c->git, got);
	metric_observe(c->mt.git_fetch_seconds, NULL, (double)(controller_now_ms() - t0) / 1000.0);
	if (r < 0) {
		metric_inc(c->mt.git_errors, NULL, 1);
		if (!c->source_error || strcmp(c->source_error, sbx_error_last()))
			log_error(NULL, "fetching %s failed (keeping revision %.12s): %s", c->o.repo_url,
				  c->revision[0] ? c->revision : "none", sbx_error_last());
		set_reason(&c->source_error, "%s", sbx_error_last());
		return;
	}
	if (strcmp(got, c->revision))
		take_revision(c, got);
ok:
	free(c->source_error);
	c->source_error = NULL;
	metric_set(c->mt.git_last_success, NULL, (double)controller_wall_ms() / 1000.0);
}

/* ---- cache events ---------------------------------------------------- */

static void on_change(const char *sandbox, const char *key, bool removed, void *payload)
{
	controller *c = payload;

	(void)key;
	(void)removed;
	/* level-based: whatever changed, look at the whole sandbox again */
	if (c->synced_once)
		workqueue_add(c->queue, sandbox, controller_now_ms());
}

struct known {
	controller *c;
	struct names *out;
};

static void add_known(const char *key, const cJSON *obj, void *payload)
{
	struct known *k = payload;
	const cJSON *n = cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "metadata"), "name");

	(void)key;
	if (cJSON_IsString(n) && controller_owns(k->c, obj))
		names_add(k->out, n->valuestring);
}

/* Every sandbox this controller has a Sandbox object for. */
static void known_sandboxes(controller *c, struct names *out)
{
	struct known k = { c, out };

	cache_each_prefix(c->cache, "sandbox.dev/Sandbox//", add_known, &k);
}

/* ---- http ------------------------------------------------------------ */

static void tally(const char *key, const cJSON *obj, void *payload)
{
	controller *c = payload;
	const cJSON *st = cJSON_GetObjectItem(obj, "status");
	const cJSON *sync = cJSON_GetObjectItem(st, "sync"), *health = cJSON_GetObjectItem(st, "health");
	const char *v[2] = { cJSON_IsString(sync) ? sync->valuestring : "Unknown",
			     cJSON_IsString(health) ? health->valuestring : "Unknown" };
	(void)key;
	if (controller_owns(c, obj))
		metric_inc(c->mt.sandboxes, v, 1);
}

static void h_metrics(sbx_buf *out, void *payload)
{
	controller *c = payload;
	unsigned long conns, h2;

	metric_reset(c->mt.sandboxes);
	cache_each_prefix(c->cache, "sandbox.dev/Sandbox//", tally, c);
	metric_set(c->mt.queue_depth, NULL, (double)workqueue_depth(c->queue));
	for (const char *const *v = (const char *const[]){ "GET", "POST", "PATCH", "PUT", "DELETE", NULL }; *v; v++) {
		static const long codes[] = { 0, 200, 201, 404, 409, 410, 422, 429, 500, 503 };

		for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
			unsigned long n = sbx_kube_request_count(c->kube, *v, codes[i]);
			char code[8];

			if (!n)
				continue;
			snprintf(code, sizeof(code), "%ld", codes[i]);
			metric_set(c->mt.api_requests, (const char *const[]){ *v, code }, (double)n);
		}
	}
	sbx_kube_transport_stats(c->kube, &conns, &h2);
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

static void add_metrics(controller *c)
{
	static const double seconds[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30 };
	struct controller_metrics *m = &c->mt;

	m->sandboxes = metrics_add(c->m, METRIC_GAUGE, "sandbox_sandboxes",
				   "Sandboxes by sync and health status.",
				   (const char *const[]){ "sync", "health", NULL }, NULL, 0);
	m->reconcile_seconds = metrics_add(c->m, METRIC_HISTOGRAM, "sandbox_reconcile_duration_seconds",
					   "Time to reconcile one sandbox.",
					   (const char *const[]){ "result", NULL }, seconds, 12);
	m->reconciles = metrics_add(c->m, METRIC_COUNTER, "sandbox_reconciles_total",
				    "Reconciles by result.", (const char *const[]){ "result", NULL }, NULL, 0);
	m->git_fetch_seconds = metrics_add(c->m, METRIC_HISTOGRAM, "sandbox_git_fetch_duration_seconds",
					   "Time of a git ref check and fetch.", NULL, seconds, 12);
	m->git_errors = metrics_add(c->m, METRIC_COUNTER, "sandbox_git_errors_total",
				    "Failed git fetches.", NULL, NULL, 0);
	m->git_last_success = metrics_add(c->m, METRIC_GAUGE, "sandbox_git_last_success_timestamp_seconds",
					  "When the branch was last checked successfully.", NULL, NULL, 0);
	m->drift = metrics_add(c->m, METRIC_COUNTER, "sandbox_drift_corrections_total",
			       "Objects re-applied because the cluster had drifted from git.", NULL, NULL, 0);
	m->api_requests = metrics_add(c->m, METRIC_GAUGE, "sandbox_api_requests_total",
				      "Kubernetes API requests sent, by verb and HTTP code (0: no answer).",
				      (const char *const[]){ "verb", "code", NULL }, NULL, 0);
	m->queue_depth = metrics_add(c->m, METRIC_GAUGE, "sandbox_workqueue_depth",
				     "Sandboxes waiting to be reconciled.", NULL, NULL, 0);
	m->writes = metrics_add(c->m, METRIC_COUNTER, "sandbox_writes_total",
				"Write requests made by reconciles, by kind of write.",
				(const char *const[]){ "verb", NULL }, NULL, 0);
	m->revision = metrics_add(c->m, METRIC_GAUGE, "sandbox_git_revision",
				  "The git revision in force.", (const char *const[]){ "revision", NULL },
				  NULL, 0);
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
	c->removed = map_new();
	c->applied = map_new();
	c->queue = workqueue_new(NULL);
	c->m = metrics_new();
	if (!c->removed || !c->applied || !c->queue || !c->m)
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	add_metrics(c);
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
	r = crd_install(c);
	if (r < 0)
		return r;
	return cache_new(&c->cache, c->kube, on_change, c);
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

	cache_each_prefix(c->cache, "sandbox.dev/Sandbox//", check_settled, &s);
	return s.settled;
}

int controller_run(controller *c)
{
	struct pollfd fds[64];
	long long now, idle_since = 0;

	while (!c->stop) {
		size_t nfds = 0;
		long timeout = 1000, q;
		const char *key;

		now = controller_now_ms();
		leader_tick(c, now);
		if (c->fetch_now || now >= c->next_poll)
			poll_source(c, now);
		if (!c->synced_once && cache_synced(c->cache) && c->revision[0]) {
			c->synced_once = true;
			log_info(NULL, "cache synced: %zu objects", cache_count(c->cache));
		}
		while (c->synced_once && c->leader && c->inflight < c->o.workers &&
		       (key = workqueue_get(c->queue, controller_now_ms())))
			reconcile_start(c, key);
		if (c->o.once && c->synced_once && !c->inflight && !workqueue_depth(c->queue)) {
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
		if (c->next_poll - now < timeout)
			timeout = c->next_poll > now ? (long)(c->next_poll - now) : 0;
		if (c->http)
			nfds = http_server_fds(c->http, fds, 64, &timeout);
		sbx_kube_run_fds(c->kube, timeout, fds, nfds);
		if (c->http)
			http_server_run(c->http);
	}
	/* finish what is in flight, then give up the lease */
	for (int i = 0; i < 300 && c->inflight; i++)
		sbx_kube_run(c->kube, 100);
	leader_release(c);
	log_info(NULL, "stopped: API requests GET %lu, PATCH %lu, POST %lu, PUT %lu, DELETE %lu",
		 sbx_kube_request_count(c->kube, "GET", -1), sbx_kube_request_count(c->kube, "PATCH", -1),
		 sbx_kube_request_count(c->kube, "POST", -1), sbx_kube_request_count(c->kube, "PUT", -1),
		 sbx_kube_request_count(c->kube, "DELETE", -1));
	return 0;
}

void controller_dispose(controller *c)
{
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
	map_free(c->removed, NULL);
	map_free(c->applied, NULL);
	free(c->source_error);
	free(c->prune_reason);
	if (c->webhook_secret) {
		explicit_bzero(c->webhook_secret, c->webhook_secret_len);
		free(c->webhook_secret);
	}
}
