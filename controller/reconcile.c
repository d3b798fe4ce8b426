// SPDX-License-Identifier: Apache-2.0
/*
 * reconcile(sandbox): level-based, asynchronous, carrying out what two
 * pure functions decide. safety.c says what the sandbox may undergo
 * (apply, report an invalid file, keep, the grace period, or the next step
 * of deleting); for apply, plan.c says what to look up, apply in waves
 * (Namespace; RBAC, quota, limits, secrets, policy; volume; workload,
 * service) and prune. Health is assessed from the cache and the status is
 * written only when it changed, describing the revision and inputs the
 * pass started from. Nothing is written once this replica is not the
 * leader.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller.h"
#include "desired.h"
#include "diff.h"
#include "error.h"
#include "health.h"
#include "hostkey.h"
#include "idle.h"
#include "log.h"
#include "plan.h"
#include "render.h"

#define STEP_REQUEUE_MS 2000   /* look again while a deletion step settles */

enum phase { P_CHECK, P_APPLY, P_PRUNE, P_DONE };

struct rec {
	controller *c;
	char *name;
	long long started;
	struct inputs in;         /* the revision and inputs this pass works from */
	char *ssh_endpoint;       /* the policy's gateway at the start, or NULL */
	sbx_verdict v;            /* what safety.c allowed at the start */
	enum phase phase;
	int wave;
	int pending;              /* requests in flight */
	int writes;               /* write requests made */
	char *ns;
	char *ns_uid;             /* the uid of a namespace this pass created */
	cJSON *desired;           /* objects to apply, wave order (with the Sandbox first) */
	cJSON *apply;             /* subset of desired that differs from live */
	cJSON *prune;             /* live objects to delete */
	cJSON *hostkey;           /* a Secret to create, or NULL */
	cJSON *conflicts;         /* strings */
	cJSON *problems;          /* strings: an invalid file's located errors */
	sbx_buf message;          /* the status message of a pass that only reports */
	sbx_buf failure;          /* first failure */
	const char *reason;       /* its cause, for sandbox_reconcile_errors_total */
	int failed;               /* an API call failed (retry with backoff) */
	bool lost;                /* stopped writing: not the leader any more */
	size_t held;              /* prunes held back by the fleet's block */
	int drifted;              /* applies to objects changed out of band */
	long requeue_ms;          /* look again after this long (0: only on events) */
	bool suspended;
	bool asleep;              /* suspended for idleness (core/idle.h) */
	cJSON *idle;              /* status.idle to write, or NULL */
	bool idle_changed;        /* this pass suspends or wakes it for idleness */
	double to_applied;        /* commit to applied / ready seconds, observed once */
	double to_ready;          /* the status naming them is written (-1: none) */
};

static const char *str_at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *meta(const cJSON *o, const char *key)
{
	return str_at(o, "metadata", key);
}

static const sbx_kind *kind_of(const cJSON *o)
{
	const char *av = str_at(o, "apiVersion", NULL), *k = str_at(o, "kind", NULL);

	return av && k ? sbx_kind_find(av, k) : NULL;
}

static void fail(struct rec *r, const char *reason, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(struct rec *r, const char *reason, const char *fmt, ...)
{
	va_list ap;

	r->failed = 1;
	if (r->failure.len)
		return;
	r->reason = reason;
	va_start(ap, fmt);
	sbx_buf_vprintf(&r->failure, fmt, ap);
	va_end(ap);
}

const char *const reconcile_error_reasons[] = { "unreachable", "forbidden", "not_found", "conflict",
						"invalid", "throttled", "server_error", "api_error",
						"render", "not_leader", "internal", NULL };

/* The cause of a failed API request, by the class of its answer (one of
 * reconcile_error_reasons). */
static const char *api_reason(const sbx_kube_resp *resp)
{
	switch (resp->status) {
	case 0:
		return "unreachable";
	case 401:
	case 403:
		return "forbidden";
	case 404:
		return "not_found";
	case 409:
		return "conflict";
	case 400:
	case 422:
		return "invalid";
	case 429:
		return "throttled";
	default:
		return resp->status >= 500 ? "server_error" : "api_error";
	}
}

static void fail_api(struct rec *r, const sbx_kube_resp *resp, const char *what)
{
	fail(r, api_reason(resp), "%s%s", what, resp->message);
}

static void finish(struct rec *r);
static void next_phase(struct rec *r);

/* Whether this pass may still write; when not, it stops without writing
 * anything more (the new leader takes over). */
static bool may_write(struct rec *r)
{
	bool broken = cache_broken(r->c->cache);

	if (controller_may_write(r->c) && !broken)
		return true;
	if (!r->lost && broken)
		fail(r, "internal", "out of memory reading the cache: nothing more is written until a restart");
	else if (!r->lost)
		fail(r, "not_leader", "this replica is not the leader any more: nothing more is written");
	r->lost = true;
	return false;
}

/* Account for one request: `rc` is what starting it returned. A request
 * that could not start ends the pass with its error. */
static void sent(struct rec *r, int rc, const char *write_verb)
{
	if (rc < 0) {
		fail(r, "internal", "%s", sbx_error_last());
		return;
	}
	r->pending++;
	if (write_verb) {
		r->writes++;
		metric_inc(r->c->mt.writes, (const char *const[]){ write_verb }, 1);
	}
}

/* ---- status ---------------------------------------------------------- */

static void status_done(sbx_kube_resp *resp, void *payload)
{
	struct rec *r = payload;

	if (resp->err) {
		fail_api(r, resp, "writing status: ");
	} else {
		/* the status now shows the timeline's new times: count them */
		if (r->to_applied >= 0)
			metric_observe(r->c->mt.commit_to_applied, NULL, r->to_applied);
		if (r->to_ready >= 0)
			metric_observe(r->c->mt.commit_to_ready, NULL, r->to_ready);
	}
	if (--r->pending == 0)
		finish(r);
}

static void event_done(sbx_kube_resp *resp, void *payload)
{
	(void)resp;
	(void)payload;
}

/* Record an Event about the Sandbox. */
static void emit_event(struct rec *r, const char *type, const char *reason, const char *message)
{
	const cJSON *cr = controller_sandbox(r->c, r->name);
	cJSON *about = cr ? NULL : cJSON_CreateObject();

	if (about) {
		cJSON_AddStringToObject(about, "apiVersion", "sandbox.dev/v1alpha1");
		cJSON_AddStringToObject(about, "kind", "Sandbox");
		cJSON_AddStringToObject(cJSON_AddObjectToObject(about, "metadata"), "name", r->name);
	}
	if (sbx_kube_start_event(r->c->kube, cr ? cr : about, type, reason, message, event_done,
				 NULL) == 0)
		r->writes++;
	cJSON_Delete(about);
}

struct status {
	const char *sync;
	sbx_health health;
	sbx_buf message;
	cJSON *objects;      /* per-object health */
	cJSON *problems;     /* strings, e.g. every error of an invalid file (borrowed) */
	sbx_buf fingerprint;
	sbx_buf host_key;    /* the public line the fingerprint is of */
	const char *pending_since;
};

static void status_init(struct status *s)
{
	memset(s, 0, sizeof(*s));
	sbx_buf_init(&s->message, 4096);
	sbx_buf_init(&s->fingerprint, 256);
	sbx_buf_init(&s->host_key, 4096);
}

static void status_dispose(struct status *s)
{
	sbx_buf_dispose(&s->message);
	sbx_buf_dispose(&s->fingerprint);
	sbx_buf_dispose(&s->host_key);
	cJSON_Delete(s->objects);
}

/* Put the live time under `key` when kept, else wall_ms when set; true
 * when it is a new time. */
static bool add_time(cJSON *tl, const char *key, const cJSON *live_tl, bool keep, long long wall_ms)
{
	const char *kept = keep ? str_at(live_tl, key, NULL) : NULL;
	char ts[32];

	if (kept) {
		cJSON_AddStringToObject(tl, key, kept);
	} else if (wall_ms > 0) {
		controller_timestamp(ts, wall_ms);
		cJSON_AddStringToObject(tl, key, ts);
		return true;
	}
	return false;
}

/* Seconds from the commit to now when the time is new and counts (see
 * struct inputs' timed), else -1. A commit dated in the future counts as
 * 0. */
static double since_commit(bool new_time, const struct inputs *in, long long wall_ms)
{
	long long committed_s = in->committed_s;

	if (!new_time || !in->timed || committed_s <= 0)
		return -1;
	return wall_ms > committed_s * 1000 ? (double)(wall_ms - committed_s * 1000) / 1000.0 : 0;
}

/* Write the status when it differs from what the cluster shows. It names
 * the revision that last changed this sandbox's inputs, as of the start of
 * the pass; the timeline is kept while that revision is the same, so an
 * unchanged pass writes nothing. */
static void write_status(struct rec *r, struct status *s)
{
	controller *c = r->c;
	const cJSON *cr = controller_sandbox(c, r->name);
	const cJSON *live_st = cJSON_GetObjectItemCaseSensitive(cr, "status");
	const cJSON *live_tl = cJSON_GetObjectItemCaseSensitive(live_st, "timeline");
	cJSON *obj, *st, *tl, *ssh;
	sbx_kube_apply_options ao = SBX_KUBE_APPLY_OPTIONS_INIT;
	const char *rev = r->in.revision[0] ? r->in.revision : c->revision;
	const char *live_rev = str_at(live_st, "observedRevision", NULL);
	const char *live_sync = str_at(live_st, "sync", NULL);
	const char *ns_uid = r->ns_uid ? r->ns_uid : map_get(c->created_ns, r->name);
	bool same_rev = live_rev && !strcmp(live_rev, rev);
	char now[32], short_rev[8];
	long long wall = controller_wall_ms();

	if (!cr || !controller_owns(c, cr)) {
		/* no Sandbox of ours to hold the status (its apply failed, or
		 * another instance's has the name): nothing to write */
		if (cr && s->sync && !strcmp(s->sync, "Conflict"))
			log_warn(r->name, "%s", sbx_buf_cstr(&s->message));
		finish(r);
		return;
	}
	/* a namespace this sandbox created is remembered until the cache shows
	 * its uid in the status: a pass that reads the cache before our last
	 * status write arrived must not write the uid away */
	if (ns_uid && str_at(live_st, "namespaceUID", NULL) && !strcmp(str_at(live_st, "namespaceUID", NULL), ns_uid)) {
		ns_uid = str_at(live_st, "namespaceUID", NULL);
		free(map_del(c->created_ns, r->name));
	}
	if (!ns_uid)
		ns_uid = str_at(live_st, "namespaceUID", NULL);
	controller_timestamp(now, wall);
	snprintf(short_rev, sizeof(short_rev), "%.7s", rev);
	obj = cJSON_CreateObject();
	cJSON_AddStringToObject(obj, "apiVersion", "sandbox.dev/v1alpha1");
	cJSON_AddStringToObject(obj, "kind", "Sandbox");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(obj, "metadata"), "name", r->name);
	st = cJSON_AddObjectToObject(obj, "status");
	cJSON_AddStringToObject(st, "observedRevision", rev);
	cJSON_AddStringToObject(st, "shortRevision", short_rev);
	if (r->in.hash[0])
		cJSON_AddStringToObject(st, "inputsHash", r->in.hash);
	cJSON_AddStringToObject(st, "sync", s->sync);
	cJSON_AddStringToObject(st, "health", sbx_health_name(s->health));
	cJSON_AddStringToObject(st, "message", sbx_buf_cstr(&s->message));
	if (s->problems)
		cJSON_AddItemToObject(st, "problems", cJSON_Duplicate(s->problems, 1));
	if (s->objects)
		cJSON_AddItemToObject(st, "objects", cJSON_Duplicate(s->objects, 1));
	ssh = cJSON_CreateObject();
	if (r->ssh_endpoint && *r->ssh_endpoint)
		cJSON_AddStringToObject(ssh, "endpoint", r->ssh_endpoint);
	else if (r->ns) {
		sbx_buf ep = SBX_BUF_INIT;

		sbx_buf_printf(&ep, "port-forward:%s/sandbox:2222", r->ns);
		cJSON_AddStringToObject(ssh, "endpoint", sbx_buf_cstr(&ep));
		sbx_buf_dispose(&ep);
	}
	if (s->fingerprint.len)
		cJSON_AddStringToObject(ssh, "hostKeyFingerprint", sbx_buf_cstr(&s->fingerprint));
	if (s->host_key.len)
		cJSON_AddStringToObject(ssh, "hostKey", sbx_buf_cstr(&s->host_key));
	/* an empty object would be sent as null, which the schema refuses */
	if (ssh->child)
		cJSON_AddItemToObject(st, "ssh", ssh);
	else
		cJSON_Delete(ssh);
	tl = cJSON_AddObjectToObject(st, "timeline");
	add_time(tl, "committed", live_tl, same_rev || !r->in.committed_s,
		 r->in.committed_s ? r->in.committed_s * 1000 : c->files.commit_time * 1000);
	add_time(tl, "seen", live_tl, same_rev || !r->in.seen_ms, r->in.seen_ms ? r->in.seen_ms : c->revision_seen);
	r->to_applied = since_commit(add_time(tl, "applied", live_tl, same_rev, !strcmp(s->sync, "Synced") ? wall : 0),
				     &r->in, wall);
	r->to_ready = since_commit(add_time(tl, "ready", live_tl, same_rev,
					    s->health == SBX_HEALTH_HEALTHY && !strcmp(s->sync, "Synced") ? wall : 0),
				   &r->in, wall);
	if (r->idle)
		cJSON_AddItemToObject(st, "idle", cJSON_Duplicate(r->idle, 1));
	if (s->pending_since)
		cJSON_AddStringToObject(st, "pendingDeleteSince", s->pending_since);
	if (ns_uid && *ns_uid)
		cJSON_AddStringToObject(st, "namespaceUID", ns_uid);
	if (live_st) {
		/* equal both ways, lastSyncTime aside: nothing to write */
		cJSON *live = cJSON_Duplicate(live_st, 1);
		bool same;

		cJSON_DeleteItemFromObjectCaseSensitive(live, "lastSyncTime");
		same = live && sbx_diff_subset(st, live, NULL) && sbx_diff_subset(live, st, NULL);
		cJSON_Delete(live);
		if (same) {
			cJSON_Delete(obj);
			finish(r);
			return;
		}
	}
	if (!may_write(r)) {
		cJSON_Delete(obj);
		finish(r);
		return;
	}
	cJSON_AddStringToObject(st, "lastSyncTime", now);
	/* a failing state announced once, when it is entered */
	if ((!strcmp(s->sync, "Failed") || !strcmp(s->sync, "Conflict") || !strcmp(s->sync, "InvalidSpec") ||
	     !strcmp(s->sync, "PruneBlocked")) && (!live_sync || strcmp(live_sync, s->sync)))
		emit_event(r, "Warning", s->sync, sbx_buf_cstr(&s->message));
	ao.subresource = "status";
	ao.force = true;
	sent(r, sbx_kube_start_apply(c->kube, obj, &ao, status_done, r), "status");
	cJSON_Delete(obj);
	if (!r->pending)
		finish(r);
}

/* status.idle as the cluster holds it, for a pass that changed nothing. */
static void keep_live_idle(struct rec *r)
{
	const cJSON *cr = controller_sandbox(r->c, r->name);

	cJSON_Delete(r->idle);
	r->idle = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cr, "status"), "idle"), 1);
	r->asleep = str_at(r->idle, "idleSince", NULL) != NULL;
	r->idle_changed = false;
}

/* A status that only reports (an invalid file, a refused removal): the
 * health stays what the cluster last showed, as nothing is touched. */
static void report(struct rec *r, const char *sync)
{
	const cJSON *cr = controller_sandbox(r->c, r->name);
	const char *live_health = str_at(cr, "status", "health");
	struct status s;

	keep_live_idle(r); /* nothing is touched: an idle suspension stays as it was */
	status_init(&s);
	s.sync = sync;
	s.health = SBX_HEALTH_MISSING;
	for (int h = SBX_HEALTH_HEALTHY; live_health && h <= SBX_HEALTH_DEGRADED; h++)
		if (!strcmp(live_health, sbx_health_name((sbx_health)h)))
			s.health = (sbx_health)h;
	s.problems = r->problems;
	sbx_buf_puts(&s.message, sbx_buf_cstr(&r->message));
	write_status(r, &s);
	status_dispose(&s);
}

/* ---- the Sandbox object (spec summary) ------------------------------ */

/* ---- apply: check, waves, prune -------------------------------------- */

static void check_done(sbx_kube_resp *resp, void *payload)
{
	struct rec *r = payload;

	if (resp->err == 0 && resp->body && !controller_owns(r->c, resp->body)) {
		sbx_buf who = SBX_BUF_INIT;
		const char *ns = meta(resp->body, "namespace");

		sbx_buf_printf(&who, "%s %s%s%s exists and is not managed by %s",
			       str_at(resp->body, "kind", NULL) ? str_at(resp->body, "kind", NULL) : "object",
			       ns ? ns : "", ns ? "/" : "", meta(resp->body, "name"), r->c->o.instance);
		cJSON_AddItemToArray(r->conflicts, cJSON_CreateString(sbx_buf_cstr(&who)));
		sbx_buf_dispose(&who);
	} else if (resp->err && resp->err != SBX_ENOTFOUND) {
		fail_api(r, resp, "");
	}
	if (--r->pending == 0)
		next_phase(r);
}

static void apply_done(sbx_kube_resp *resp, void *payload)
{
	struct rec *r = payload;
	const char *kind = str_at(resp->body, "kind", NULL), *uid = meta(resp->body, "uid");

	if (resp->err && resp->err != SBX_EEXIST)
		fail_api(r, resp, "");
	/* 201: this apply created the namespace; only that one is ever
	 * deleted with the sandbox */
	if (!resp->err && resp->status == 201 && kind && !strcmp(kind, "Namespace") && uid) {
		free(r->ns_uid);
		r->ns_uid = strdup(uid);
		if (r->ns_uid)
			map_put(r->c->created_ns, r->name, strdup(uid), NULL);
	}
	if (--r->pending == 0)
		next_phase(r);
}

static void start_check(struct rec *r, const cJSON *obj)
{
	sbx_buf path = SBX_BUF_INIT;
	sbx_kube_req q = { "GET", NULL, NULL, NULL };

	sbx_kube_path(&path, kind_of(obj), meta(obj, "namespace"), meta(obj, "name"), NULL);
	q.path = sbx_buf_cstr(&path);
	sent(r, sbx_kube_start(r->c->kube, &q, check_done, r), NULL);
	sbx_buf_dispose(&path);
}

/* Apply every object of the current wave that differs; false when none. */
static bool start_wave(struct rec *r)
{
	sbx_kube_apply_options ao = SBX_KUBE_APPLY_OPTIONS_INIT;
	const cJSON *obj;

	ao.force = true; /* take back fields others changed: that is drift */
	cJSON_ArrayForEach(obj, r->apply)
		if (sbx_plan_wave(obj) == r->wave)
			sent(r, sbx_kube_start_apply(r->c->kube, obj, &ao, apply_done, r), "apply");
	if (r->wave == 1 && r->hostkey)
		sent(r, sbx_kube_start_create(r->c->kube, r->hostkey, apply_done, r), "create");
	return r->pending > 0;
}

static void start_prune(struct rec *r)
{
	const cJSON *obj;

	cJSON_ArrayForEach(obj, r->prune) {
		sbx_kube_delete_options del = SBX_KUBE_DELETE_OPTIONS_INIT;

		del.uid = meta(obj, "uid");
		log_info(r->name, "pruning %s %s/%s", str_at(obj, "kind", NULL),
			 meta(obj, "namespace") ? meta(obj, "namespace") : "", meta(obj, "name"));
		sent(r, sbx_kube_start_delete(r->c->kube, kind_of(obj), meta(obj, "namespace"), meta(obj, "name"),
					      &del, apply_done, r), "delete");
	}
}

/* Health of each desired object from the cache; the worst one wins. */
static void assess(struct rec *r, struct status *s)
{
	const cJSON *obj;
	const cJSON *hk;
	sbx_buf key = SBX_BUF_INIT;

	s->health = SBX_HEALTH_HEALTHY;
	s->objects = cJSON_CreateArray();
	cJSON_ArrayForEach(obj, r->desired) {
		sbx_buf why = SBX_BUF_INIT;
		const cJSON *live;
		sbx_health h;
		cJSON *o;

		if (sbx_plan_wave(obj) < 0)
			continue;
		sbx_buf_clear(&key);
		sbx_diff_key(&key, obj);
		live = cache_get(r->c->cache, sbx_buf_cstr(&key));
		h = sbx_health_of(live, &why);
		if (h == SBX_HEALTH_MISSING)
			sbx_buf_puts(&why, "not in the cluster yet");
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "kind", str_at(obj, "kind", NULL));
		cJSON_AddStringToObject(o, "name", meta(obj, "name"));
		cJSON_AddStringToObject(o, "health", sbx_health_name(h));
		if (why.len)
			cJSON_AddStringToObject(o, "message", sbx_buf_cstr(&why));
		cJSON_AddItemToArray(s->objects, o);
		if (h > s->health) {
			s->health = h;
			sbx_buf_clear(&s->message);
			sbx_buf_printf(&s->message, "%s %s: %s", str_at(obj, "kind", NULL), meta(obj, "name"),
				       sbx_buf_cstr(&why));
		}
		sbx_buf_dispose(&why);
	}
	sbx_buf_clear(&key);
	sbx_buf_printf(&key, "/Secret/%s/%s", r->ns, SBX_HOSTKEY_SECRET);
	hk = cache_get(r->c->cache, sbx_buf_cstr(&key));
	if (hk && sbx_hostkey_public(&s->host_key, &s->fingerprint, hk) < 0) {
		sbx_buf_clear(&s->host_key);
		sbx_buf_clear(&s->fingerprint);
	}
	sbx_buf_dispose(&key);
	if (s->health == SBX_HEALTH_HEALTHY && (r->suspended || r->asleep))
		s->health = SBX_HEALTH_SUSPENDED;
	if (s->health == SBX_HEALTH_SUSPENDED && r->asleep) {
		sbx_buf_clear(&s->message);
		sbx_buf_printf(&s->message, "idle since %s: 'sandbox ssh %s' wakes it",
			       str_at(r->idle, "idleSince", NULL), r->name);
	}
	if (s->health == SBX_HEALTH_HEALTHY)
		sbx_buf_printf(&s->message, "ready: connect with 'sandbox ssh %s'", r->name);
}

static void applied_status(struct rec *r)
{
	struct status s;

	/* an idle suspension or wake counts once it was carried out */
	if (r->idle_changed && (r->failed || cJSON_GetArraySize(r->conflicts)))
		keep_live_idle(r);
	else if (r->idle_changed && r->asleep)
		log_info(r->name, "suspended for idleness: idle since %s", str_at(r->idle, "idleSince", NULL));
	else if (r->idle_changed)
		log_info(r->name, "woken: its activity Lease was renewed");
	status_init(&s);
	if (cJSON_GetArraySize(r->conflicts)) {
		const cJSON *c;

		s.sync = "Conflict";
		s.health = SBX_HEALTH_DEGRADED;
		s.problems = r->conflicts;
		cJSON_ArrayForEach(c, r->conflicts)
			sbx_buf_printf(&s.message, "%s%s", s.message.len ? "; " : "", c->valuestring);
		sbx_buf_puts(&s.message, "; nothing was changed: remove or rename the object, or the template");
	} else {
		assess(r, &s);
		if (r->failed) {
			s.sync = "Failed";
			sbx_buf_clear(&s.message);
			sbx_buf_puts(&s.message, sbx_buf_cstr(&r->failure));
		} else if (r->held) {
			s.sync = "PruneBlocked";
			sbx_buf_clear(&s.message);
			sbx_buf_printf(&s.message, "%zu object%s no longer in the templates %s kept: %s", r->held,
				       r->held == 1 ? "" : "s", r->held == 1 ? "is" : "are", r->c->fleet.message);
		} else {
			s.sync = "Synced";
		}
	}
	if (r->drifted)
		metric_inc(r->c->mt.drift, NULL, r->drifted);
	write_status(r, &s);
	status_dispose(&s);
}

static void next_phase(struct rec *r)
{
	for (;;) {
		switch (r->phase) {
		case P_CHECK:
			if (r->failed)
				goto report;
			/* the Sandbox first: it carries the status, even of a conflict */
			r->phase = P_APPLY;
			r->wave = -1;
			if (!may_write(r))
				goto lost;
			if (start_wave(r))
				return;
			continue;
		case P_APPLY:
			if (r->failed || cJSON_GetArraySize(r->conflicts))
				goto report;
			while (r->wave < 3) {
				r->wave++;
				if (!may_write(r))
					goto lost;
				if (start_wave(r))
					return;
				if (r->failed)
					goto report;
			}
			r->phase = P_PRUNE;
			if (cJSON_GetArraySize(r->prune) && !may_write(r))
				goto lost;
			start_prune(r);
			if (r->pending)
				return;
			continue;
		case P_PRUNE:
		case P_DONE:
			goto report;
		}
	}
report:
	r->phase = P_DONE;
	applied_status(r);
	return;
lost:
	r->phase = P_DONE;
	finish(r);
}

/* Add a cache object to the array `live` by reference (borrowed). */
static void gather(const char *key, const cJSON *obj, void *live)
{
	(void)key;
	cJSON_AddItemReferenceToArray(live, (cJSON *)obj);
}

/* Whether obj carries the sandbox label of `name` (cache_each found it). */
static bool same_label(const cJSON *obj, const char *name)
{
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "labels"),
		SBX_LABEL_NAME);

	return cJSON_IsString(l) && !strcmp(l->valuestring, name);
}

/* ---- idle suspension ------------------------------------------------- */

/* Seconds on the wall clock from an RFC 3339 time; 0 when absent or
 * unreadable. */
static long long wall_s(const char *t)
{
	long long ms = t ? controller_parse_time(t) : -1;

	return ms > 0 ? ms / 1000 : 0;
}

/* Decide whether the sandbox sleeps (sbx_idle_decide, from its activity
 * Lease as the controller saw it and the status.idle the cluster holds),
 * set r->idle to the status.idle to write and a look again for when it
 * falls idle. True when it is to be (or stay) scaled to zero for
 * idleness. */
static bool idle_pass(struct rec *r, const sbx_spec *spec)
{
	controller *c = r->c;
	const cJSON *live = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(controller_sandbox(c, r->name), "status"), "idle");
	const char *live_since = str_at(live, "activeSince", NULL);
	const char *live_idle = str_at(live, "idleSince", NULL);
	const char *live_renewal = str_at(live, "lastRenewal", NULL);
	const struct activity *seen;
	sbx_idle_facts f = { 0 };
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_effective e;
	sbx_buf key = SBX_BUF_INIT;
	const char *renewal;
	char now[32], at_ts[32];
	long long wall = controller_wall_ms(), at;
	int resolved = sbx_policy_resolve(&e, c->repo->policy, spec, &d);

	sbx_diags_dispose(&d);
	if (resolved < 0 || e.idle_after_s <= 0)
		return false; /* off: no status.idle (sbx_desired reports a failure) */
	controller_activity_key(&key, r->ns);
	seen = map_get(c->activity, sbx_buf_cstr(&key));
	renewal = str_at(cache_get(c->cache, sbx_buf_cstr(&key)), "spec", "renewTime");
	sbx_buf_dispose(&key);
	f.after_s = e.idle_after_s;
	f.git_suspended = spec->suspended;
	f.activity = seen ? seen->seen_ms / 1000 : 0;
	f.lease_s = sbx_idle_lease_s(e.idle_after_s); /* ours, not what the Lease says now */
	f.now = wall / 1000;
	f.watched_since = seen ? seen->first_ms / 1000 : f.now;
	f.since = live_since && wall_s(live_since) ? wall_s(live_since) : f.now;
	f.idle_since = live_idle ? (wall_s(live_idle) ? wall_s(live_idle) : f.now) : 0;
	f.renewed_since_idle = strcmp(renewal ? renewal : "", live_renewal ? live_renewal : "") != 0;
	controller_timestamp(now, wall);
	switch (sbx_idle_decide(&f, &at)) {
	case SBX_IDLE_RUN:
		/* woken now, or running since the time the cluster holds */
		r->idle = cJSON_CreateObject();
		cJSON_AddStringToObject(r->idle, "activeSince", live_since && !live_idle ? live_since : now);
		r->idle_changed = live_idle != NULL;
		if (at > f.now)
			r->requeue_ms = (long)((at - f.now + 1) * 1000);
		return false;
	case SBX_IDLE_SUSPEND:
		controller_timestamp(at_ts, at * 1000);
		r->idle = cJSON_CreateObject();
		cJSON_AddStringToObject(r->idle, "activeSince", live_since ? live_since : now);
		cJSON_AddStringToObject(r->idle, "idleSince", at_ts);
		cJSON_AddStringToObject(r->idle, "lastRenewal", renewal ? renewal : "");
		r->idle_changed = true;
		return true;
	case SBX_IDLE_SLEEP:
		r->idle = cJSON_Duplicate(live, 1);
		return true;
	case SBX_IDLE_GIT:
		break; /* git's suspension: no status.idle */
	}
	return false;
}

/* A valid file: render, plan against the cache, then look up, apply and
 * prune as planned. */
static void apply_pass(struct rec *r)
{
	controller *c = r->c;
	const sbx_spec *spec = sbx_repo_find(c->repo, r->name);
	sbx_plan_options po = SBX_PLAN_OPTIONS_INIT;
	sbx_render_options ro = SBX_RENDER_OPTIONS_INIT;
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_buf ns = SBX_BUF_INIT, key = SBX_BUF_INIT;
	cJSON *live_objs = cJSON_CreateArray();
	cJSON *obj;
	sbx_plan p;

	r->suspended = spec->suspended;
	sbx_render_namespace(&ns, c->repo->policy, r->name);
	r->ns = sbx_buf_take(&ns, NULL);
	ro.instance = c->o.instance;
	ro.asleep = r->asleep = r->ns && idle_pass(r, spec);
	if (sbx_desired(&r->desired, c->repo, spec, &ro, &d) < 0) {
		sbx_diags_format(&r->failure, &d);
		r->failed = 1;
		r->reason = "render";
		sbx_diags_dispose(&d);
		cJSON_Delete(live_objs);
		r->phase = P_DONE;
		applied_status(r);
		return;
	}
	sbx_diags_dispose(&d);
	/* the live objects that may matter: this sandbox's, and whatever sits
	 * where a desired object goes */
	cache_each(c->cache, r->name, gather, live_objs);
	cJSON_ArrayForEach(obj, r->desired) {
		const cJSON *live;

		sbx_buf_clear(&key);
		sbx_diff_key(&key, obj);
		live = cache_get(c->cache, sbx_buf_cstr(&key));
		if (live && !same_label(live, r->name))
			cJSON_AddItemReferenceToArray(live_objs, (cJSON *)live);
	}
	sbx_buf_dispose(&key);
	po.instance = c->o.instance;
	po.prune = r->v.prune;
	po.cluster_known = true; /* the cache watches cluster-scoped kinds whole */
	if (sbx_plan_make(&p, r->desired, live_objs, &po) < 0) {
		cJSON_Delete(live_objs);
		fail(r, "internal", "%s", sbx_error_last());
		r->phase = P_DONE;
		applied_status(r);
		return;
	}
	cJSON_Delete(live_objs);
	r->apply = p.apply;
	r->conflicts = p.conflicts;
	r->prune = p.prune;
	r->held = p.held;
	r->drifted = p.drifted;
	if (p.hostkey && !(r->hostkey = sbx_hostkey_secret(r->ns, r->name, c->o.instance)))
		fail(r, "internal", "%s", sbx_error_last());
	r->phase = P_CHECK;
	cJSON_ArrayForEach(obj, p.check)
		start_check(r, obj);
	cJSON_Delete(p.check);
	if (!r->pending)
		next_phase(r);
}

/* ---- invalid, kept ---------------------------------------------------- */

static void report_done(sbx_kube_resp *resp, void *payload)
{
	struct rec *r = payload;

	if (resp->err)
		fail_api(r, resp, "");
	if (--r->pending)
		return;
	if (r->failed)
		finish(r);
	else
		report(r, "InvalidSpec");
}

/* The file is there but unusable: report every problem, touch nothing. */
static void invalid_file(struct rec *r, const struct sandbox_view *v)
{
	controller *c = r->c;
	sbx_buf name = SBX_BUF_INIT;

	r->problems = cJSON_CreateArray();
	for (size_t j = 0; j < c->repo_diags.count; j++) {
		const sbx_diag *g = &c->repo_diags.items[j];
		sbx_buf line = SBX_BUF_INIT;

		/* sandboxes/NAME.yaml, or the refused sandboxes/NAME.yml */
		if (strncmp(g->path, "sandboxes/", 10) || !controller_file_name(&name, g->path) ||
		    strcmp(sbx_buf_cstr(&name), r->name) != 0)
			continue;
		if (g->line)
			sbx_buf_printf(&line, "%s:%d:%d: %s", g->path, g->line, g->col, g->message);
		else
			sbx_buf_printf(&line, "%s: %s", g->path, g->message);
		cJSON_AddItemToArray(r->problems, cJSON_CreateString(sbx_buf_cstr(&line)));
		if (!r->message.len)
			sbx_buf_printf(&r->message, "%s (live objects are left as they are)", sbx_buf_cstr(&line));
		sbx_buf_dispose(&line);
	}
	sbx_buf_dispose(&name);
	if (!v->obj) {
		/* a Sandbox to carry the status */
		sbx_kube_apply_options ao = SBX_KUBE_APPLY_OPTIONS_INIT;
		cJSON *cr = sbx_desired_sandbox(r->name, c->o.instance, NULL, NULL, NULL);

		sent(r, sbx_kube_start_apply(c->kube, cr, &ao, report_done, r), "apply");
		cJSON_Delete(cr);
		if (!r->pending)
			finish(r);
		return;
	}
	report(r, "InvalidSpec");
}

/* ---- removed: the grace period and the deletion ----------------------- */

struct deployments {
	struct rec *r;
	const char *ns;
	bool all;            /* deleting: every one; stopping: those still running */
	const char *verb;
};

static void step_done(sbx_kube_resp *resp, void *payload);

static void each_deployment(const char *key, const cJSON *obj, void *payload)
{
	struct deployments *d = payload;
	const cJSON *replicas = cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "spec"), "replicas");
	const char *kind = str_at(obj, "kind", NULL), *ns = meta(obj, "namespace");

	(void)key;
	if (!kind || strcmp(kind, "Deployment") || !ns || strcmp(ns, d->ns) ||
	    meta(obj, "deletionTimestamp") || !controller_owns(d->r->c, obj))
		return;
	if (d->all) {
		sbx_kube_delete_options del = SBX_KUBE_DELETE_OPTIONS_INIT;

		del.uid = meta(obj, "uid");
		sent(d->r, sbx_kube_start_delete(d->r->c->kube, kind_of(obj), ns, meta(obj, "name"), &del,
						 step_done, d->r), "delete");
	} else if (!cJSON_IsNumber(replicas) || replicas->valuedouble != 0) {
		/* the scale subresource leaves our other fields alone */
		sent(d->r, sbx_kube_start_patch(d->r->c->kube, kind_of(obj), ns, meta(obj, "name"), "scale",
						"{\"spec\":{\"replicas\":0}}", step_done, d->r), "scale");
	}
}

/* The status of a removed sandbox: PendingDelete with its clock. */
static void pending_status(struct rec *r)
{
	struct status s;
	char since[32], until[32];

	status_init(&s);
	controller_timestamp(since, r->v.since_ms);
	controller_timestamp(until, r->v.until_ms);
	s.sync = "PendingDelete";
	s.health = SBX_HEALTH_SUSPENDED;
	s.pending_since = since;
	if (r->failed && r->v.action == SBX_ACT_DELETE)
		sbx_buf_printf(&s.message, "the grace period ended at %s; deleting failed and is retried: %s",
			       until, sbx_buf_cstr(&r->failure));
	else if (r->failed)
		sbx_buf_printf(&s.message, "sandboxes/%s.yaml was removed; stopping the workload failed and "
			       "is retried: %s", r->name, sbx_buf_cstr(&r->failure));
	else if (r->message.len)
		sbx_buf_puts(&s.message, sbx_buf_cstr(&r->message));
	else if (r->v.held)
		sbx_buf_printf(&s.message, "sandboxes/%s.yaml was removed and the grace period ended at %s, "
			       "but nothing is deleted while removals are refused: %s", r->name, until,
			       r->c->fleet.message);
	else
		sbx_buf_printf(&s.message, "sandboxes/%s.yaml was removed: the workload is stopped and the "
			       "namespace and volume are kept until %s; restore the file to get the "
			       "sandbox back with its data", r->name, until);
	write_status(r, &s);
	status_dispose(&s);
}

static void step_done(sbx_kube_resp *resp, void *payload)
{
	struct rec *r = payload;

	if (resp->err && resp->err != SBX_ENOTFOUND)
		fail_api(r, resp, "");
	if (--r->pending == 0)
		pending_status(r);
}

static void sandbox_deleted(sbx_kube_resp *resp, void *payload)
{
	struct rec *r = payload;

	if (resp->err && resp->err != SBX_ENOTFOUND) {
		fail_api(r, resp, "deleting the Sandbox: ");
		r->pending--;
		pending_status(r);
		return;
	}
	log_info(r->name, "deleted");
	if (--r->pending == 0)
		finish(r);
}

/* The file is gone: stop the workload and keep namespace and volume for
 * the grace period; once it is over, one deleting step per pass, each
 * started only when the one before has been seen done. */
static void removed(struct rec *r, const struct sandbox_view *v)
{
	controller *c = r->c;
	struct deployments d = { r, v->ns, r->v.action == SBX_ACT_DELETE, NULL };
	long long now = controller_wall_ms();

	r->ns = v->ns ? strdup(v->ns) : NULL;
	if (!may_write(r)) {
		finish(r);
		return;
	}
	if (r->v.action == SBX_ACT_PENDING_DELETE) {
		if (v->ns)
			cache_each(c->cache, r->name, each_deployment, &d);
		if (!r->v.held)
			r->requeue_ms = (long)(r->v.until_ms - now + 1000);
		if (!r->pending)
			pending_status(r);
		return;
	}
	r->requeue_ms = STEP_REQUEUE_MS;
	switch (r->v.step) {
	case SBX_STEP_WORKLOAD:
		sbx_buf_printf(&r->message, "the grace period is over: deleting the workload, then "
			       "namespace %s with its volume", v->ns);
		log_info(r->name, "grace period over: deleting the workload in %s", v->ns);
		cache_each(c->cache, r->name, each_deployment, &d);
		break;
	case SBX_STEP_NAMESPACE: {
		sbx_kube_delete_options del = SBX_KUBE_DELETE_OPTIONS_INIT;

		sbx_buf_printf(&r->message, "the grace period is over: deleting namespace %s with its volume",
			       v->ns);
		log_info(r->name, "grace period over: deleting namespace %s (uid %s)", v->ns,
			 v->live.ns_uid_recorded);
		del.uid = v->live.ns_uid_recorded;
		sent(r, sbx_kube_start_delete(c->kube, sbx_kind_find("v1", "Namespace"), NULL, v->ns, &del,
					      step_done, r), "delete");
		break;
	}
	case SBX_STEP_WAIT:
		sbx_buf_printf(&r->message, "the grace period is over: namespace %s is being deleted; the "
			       "Sandbox goes when it is gone", v->ns);
		break;
	case SBX_STEP_SANDBOX:
	case SBX_STEP_NONE: {
		sbx_kube_delete_options del = SBX_KUBE_DELETE_OPTIONS_INIT;

		if (r->v.keep_namespace && v->ns) {
			sbx_buf why = SBX_BUF_INIT;

			const char *rec = v->live.ns_uid_recorded;

			if (!rec || !*rec)
				sbx_buf_printf(&why, "namespace %s was not created by this Sandbox (no uid was "
					       "recorded), so it is left in place", v->ns);
			else if (!v->live.ns_ours)
				sbx_buf_printf(&why, "namespace %s does not carry this controller's tracking id, "
					       "so it is left in place", v->ns);
			else
				sbx_buf_printf(&why, "namespace %s is not the one this Sandbox created (uid %s, "
					       "not %s), so it is left in place", v->ns,
					       v->live.ns_uid ? v->live.ns_uid : "none", rec);
			log_warn(r->name, "%s", sbx_buf_cstr(&why));
			emit_event(r, "Warning", "NamespaceKept", sbx_buf_cstr(&why));
			sbx_buf_dispose(&why);
		}
		r->requeue_ms = 0;
		del.uid = meta(v->obj, "uid");
		sent(r, sbx_kube_start_delete(c->kube, sbx_kind_find("sandbox.dev/v1alpha1", "Sandbox"), NULL,
					      r->name, &del, sandbox_deleted, r), "delete");
		if (!r->pending)
			pending_status(r);
		return;
	}
	}
	if (!r->pending)
		pending_status(r);
}

/* ---- entry and exit -------------------------------------------------- */

static void finish(struct rec *r)
{
	controller *c = r->c;
	double secs;

	if (r->pending > 0)
		return; /* the last request to finish comes back here */
	secs = (double)(controller_now_ms() - r->started) / 1000.0;
	metric_observe(c->mt.reconcile_seconds, (const char *const[]){ r->failed ? "error" : "ok" }, secs);
	metric_inc(c->mt.reconciles, (const char *const[]){ r->failed ? "error" : "ok" }, 1);
	if (r->failed)
		metric_inc(c->mt.reconcile_errors, (const char *const[]){ r->reason ? r->reason : "internal" }, 1);
	if (r->failed)
		log_warn(r->name, "reconcile failed: %s", sbx_buf_cstr(&r->failure));
	else if (r->writes)
		log_info(r->name, "reconciled with %d write(s) in %.3f s", r->writes, secs);
	if (!r->failed) {
		char *hash = strdup(r->in.hash), *old = NULL;

		if (hash && map_put(c->applied, r->name, hash, (void **)&old) < 0)
			free(hash);
		free(old);
	}
	workqueue_done(c->queue, r->name, r->failed, r->failed ? 0 : r->requeue_ms, controller_now_ms());
	c->inflight--;
	free(r->name);
	free(r->ns);
	free(r->ns_uid);
	free(r->ssh_endpoint);
	cJSON_Delete(r->desired);
	cJSON_Delete(r->apply);
	cJSON_Delete(r->prune);
	cJSON_Delete(r->hostkey);
	cJSON_Delete(r->idle);
	cJSON_Delete(r->conflicts);
	cJSON_Delete(r->problems);
	sbx_buf_dispose(&r->message);
	sbx_buf_dispose(&r->failure);
	free(r);
}

void reconcile_start(controller *c, const char *name)
{
	struct rec *r = calloc(1, sizeof(*r));
	const struct inputs *in = map_get(c->inputs, name);
	struct sandbox_view v;

	c->inflight++;
	if (!r || !(r->name = strdup(name))) {
		free(r);
		c->inflight--;
		workqueue_done(c->queue, name, true, 0, controller_now_ms());
		return;
	}
	r->c = c;
	r->started = controller_now_ms();
	r->to_applied = r->to_ready = -1;
	sbx_buf_init(&r->failure, 8192);
	sbx_buf_init(&r->message, 8192);
	if (in)
		r->in = *in;
	if (c->repo && c->repo->policy && *c->repo->policy->ssh_endpoint)
		r->ssh_endpoint = strdup(c->repo->policy->ssh_endpoint);
	controller_view(c, name, &v);
	r->v = controller_verdict(c, &v);
	switch (r->v.action) {
	case SBX_ACT_IGNORE:
		finish(r);
		break;
	case SBX_ACT_APPLY:
		apply_pass(r);
		break;
	case SBX_ACT_INVALID:
		invalid_file(r, &v);
		break;
	case SBX_ACT_KEEP:
		r->ns = v.ns ? strdup(v.ns) : NULL;
		sbx_buf_puts(&r->message, c->fleet.message);
		report(r, "PruneBlocked");
		break;
	case SBX_ACT_PENDING_DELETE:
	case SBX_ACT_DELETE:
		removed(r, &v);
		break;
	}
}
