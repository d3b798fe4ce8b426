// SPDX-License-Identifier: Apache-2.0
/*
 * reconcile(sandbox): level-based, asynchronous. Render the desired
 * objects, compare with the cache, check unknown objects for ownership,
 * apply what differs in waves (Namespace; RBAC, quota, limits, secrets,
 * policy; volume; workload, service), prune what is ours and no longer
 * desired, assess health, write status only when it changed. Removed files
 * go to PendingDelete; invalid files are only reported.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>

#include "controller.h"
#include "diff.h"
#include "error.h"
#include "health.h"
#include "hostkey.h"
#include "log.h"
#include "render.h"

enum phase { P_CHECK, P_APPLY, P_PRUNE, P_DONE };

struct rec {
	controller *c;
	char *name;
	long long started;
	enum phase phase;
	int wave;
	int pending;              /* requests in flight for this phase */
	int writes;               /* write requests made */
	char *ns;
	cJSON *desired;           /* objects to apply, wave order (with the Sandbox first) */
	cJSON *apply;             /* subset of desired that differs from live */
	cJSON *hostkey;           /* a Secret to create, or NULL */
	cJSON *conflicts;         /* strings */
	sbx_buf failure;          /* first failure */
	int failed;               /* an API call failed (retry with backoff) */
	int drifted;              /* applies to objects that already existed */
	long requeue_ms;          /* look again after this long (0: only on events) */
	bool suspended;
	const char *owner;        /* borrowed from the spec, valid while the revision is */
};

static const char *meta(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "metadata"), key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const sbx_kind *kind_of(const cJSON *o)
{
	const cJSON *av = cJSON_GetObjectItemCaseSensitive(o, "apiVersion");
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "kind");

	return cJSON_IsString(av) && cJSON_IsString(k) ? sbx_kind_find(av->valuestring, k->valuestring) : NULL;
}

static void fail(struct rec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct rec *r, const char *fmt, ...)
{
	va_list ap;

	r->failed = 1;
	if (r->failure.len)
		return;
	va_start(ap, fmt);
	sbx_buf_vprintf(&r->failure, fmt, ap);
	va_end(ap);
}

static void finish(struct rec *r);
static void next_phase(struct rec *r);

/* ---- status ---------------------------------------------------------- */

static void sandbox_key(sbx_buf *key, const char *name)
{
	sbx_buf_printf(key, "sandbox.dev/Sandbox//%s", name);
}

static const cJSON *live_sandbox(controller *c, const char *name)
{
	sbx_buf key = SBX_BUF_INIT;
	const cJSON *o;

	sandbox_key(&key, name);
	o = cache_get(c->cache, sbx_buf_cstr(&key));
	sbx_buf_dispose(&key);
	return o;
}

static const char *live_status_str(const cJSON *cr, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cr, "status"), a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void status_done(sbx_kube_resp *resp, void *payload)
{
	struct rec *r = payload;

	if (resp->err)
		fail(r, "writing status: %s", resp->message);
	if (--r->pending == 0)
		finish(r);
}

static void event_done(sbx_kube_resp *resp, void *payload)
{
	(void)resp;
	(void)payload;
}

/* Record a Warning Event on the Sandbox when it enters a failing state. */
static void emit_event(struct rec *r, const char *reason, const char *message)
{
	const cJSON *cr = live_sandbox(r->c, r->name);
	cJSON *about = cr ? NULL : cJSON_CreateObject();

	if (about) {
		cJSON_AddStringToObject(about, "apiVersion", "sandbox.dev/v1alpha1");
		cJSON_AddStringToObject(about, "kind", "Sandbox");
		cJSON_AddStringToObject(cJSON_AddObjectToObject(about, "metadata"), "name", r->name);
	}
	if (sbx_kube_start_event(r->c->kube, cr ? cr : about, "Warning", reason, message, event_done,
				 NULL) == 0)
		r->writes++;
	cJSON_Delete(about);
}

struct status {
	const char *sync;
	sbx_health health;
	sbx_buf message;
	cJSON *objects;      /* per-object health */
	cJSON *problems;     /* strings, e.g. every error of an invalid file */
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
	cJSON_Delete(s->problems);
}

/* Write the status when it differs from what the cluster shows. The
 * timeline and revision are kept from the live status while the sandbox's
 * inputs have not changed, so an unchanged pass writes nothing. */
static void write_status(struct rec *r, struct status *s)
{
	controller *c = r->c;
	const cJSON *cr = live_sandbox(c, r->name);
	cJSON *obj = cJSON_CreateObject(), *st, *tl, *ssh;
	sbx_kube_apply_options ao = SBX_KUBE_APPLY_OPTIONS_INIT;
	const char *live_rev = live_status_str(cr, "observedRevision", NULL);
	bool changed = r->writes > 0 || !live_rev || map_get(c->removed, r->name) ||
		       !s->sync || !live_status_str(cr, "sync", NULL) ||
		       strcmp(live_status_str(cr, "sync", NULL), s->sync) != 0;
	const char *rev = changed || !live_rev ? c->revision : live_rev;
	char now[32], short_rev[8];
	const char *keep;
	sbx_buf why = SBX_BUF_INIT;

	controller_timestamp(now, controller_wall_ms());
	snprintf(short_rev, sizeof(short_rev), "%.7s", rev);
	cJSON_AddStringToObject(obj, "apiVersion", "sandbox.dev/v1alpha1");
	cJSON_AddStringToObject(obj, "kind", "Sandbox");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(obj, "metadata"), "name", r->name);
	st = cJSON_AddObjectToObject(obj, "status");
	cJSON_AddStringToObject(st, "observedRevision", rev);
	cJSON_AddStringToObject(st, "shortRevision", short_rev);
	cJSON_AddStringToObject(st, "sync", s->sync);
	cJSON_AddStringToObject(st, "health", sbx_health_name(s->health));
	cJSON_AddStringToObject(st, "message", sbx_buf_cstr(&s->message));
	if (s->problems)
		cJSON_AddItemToObject(st, "problems", cJSON_Duplicate(s->problems, 1));
	if (s->objects)
		cJSON_AddItemToObject(st, "objects", cJSON_Duplicate(s->objects, 1));
	ssh = cJSON_CreateObject();
	if (c->repo && c->repo->policy && *c->repo->policy->ssh_endpoint)
		cJSON_AddStringToObject(ssh, "endpoint", c->repo->policy->ssh_endpoint);
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
	{
		char committed[32];
		bool same_rev = live_rev && strcmp(live_rev, rev) == 0;

		controller_timestamp(committed, c->files.commit_time * 1000);
		keep = same_rev ? live_status_str(cr, "timeline", "committed") : NULL;
		cJSON_AddStringToObject(tl, "committed", keep ? keep : committed);
		keep = same_rev ? live_status_str(cr, "timeline", "seen") : NULL;
		if (!keep) {
			char seen[32];

			controller_timestamp(seen, c->revision_seen);
			cJSON_AddStringToObject(tl, "seen", seen);
		} else {
			cJSON_AddStringToObject(tl, "seen", keep);
		}
		keep = same_rev ? live_status_str(cr, "timeline", "applied") : NULL;
		if (keep)
			cJSON_AddStringToObject(tl, "applied", keep);
		else if (!strcmp(s->sync, "Synced"))
			cJSON_AddStringToObject(tl, "applied", now);
		keep = same_rev ? live_status_str(cr, "timeline", "ready") : NULL;
		if (keep)
			cJSON_AddStringToObject(tl, "ready", keep);
		else if (s->health == SBX_HEALTH_HEALTHY && !strcmp(s->sync, "Synced"))
			cJSON_AddStringToObject(tl, "ready", now);
	}
	if (s->pending_since)
		cJSON_AddStringToObject(st, "pendingDeleteSince", s->pending_since);
	if (cr) {
		/* equal both ways, lastSyncTime aside: nothing to write */
		cJSON *live = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(cr, "status"), 1);
		bool same;

		cJSON_DeleteItemFromObjectCaseSensitive(live, "lastSyncTime");
		same = live && sbx_diff_subset(st, live, &why) && sbx_diff_subset(live, st, NULL);
		cJSON_Delete(live);
		if (same) {
			cJSON_Delete(obj);
			sbx_buf_dispose(&why);
			finish(r);
			return;
		}
	}
	sbx_buf_dispose(&why);
	cJSON_AddStringToObject(st, "lastSyncTime", now);
	/* a failing state announced once, when it is entered */
	if ((!strcmp(s->sync, "Failed") || !strcmp(s->sync, "Conflict") || !strcmp(s->sync, "InvalidSpec") ||
	     !strcmp(s->sync, "PruneBlocked")) &&
	    (!live_status_str(cr, "sync", NULL) || strcmp(live_status_str(cr, "sync", NULL), s->sync)))
		emit_event(r, s->sync, sbx_buf_cstr(&s->message));
	ao.subresource = "status";
	ao.force = true;
	if (!cr) {
		/* no Sandbox to hold the status (its apply failed): nothing to write */
		cJSON_Delete(obj);
		finish(r);
		return;
	}
	r->pending++;
	r->writes++;
	metric_inc(c->mt.writes, (const char *const[]){ "status" }, 1);
	if (sbx_kube_start_apply(c->kube, obj, &ao, status_done, r) < 0) {
		r->pending--;
		fail(r, "writing status: %s", sbx_error_last());
		finish(r);
	}
	cJSON_Delete(obj);
}

/* ---- the Sandbox object (spec summary) ------------------------------ */

static cJSON *sandbox_object(struct rec *r, const sbx_effective *e)
{
	controller *c = r->c;
	cJSON *o = cJSON_CreateObject(), *m, *sp;
	sbx_buf b = SBX_BUF_INIT;

	cJSON_AddStringToObject(o, "apiVersion", "sandbox.dev/v1alpha1");
	cJSON_AddStringToObject(o, "kind", "Sandbox");
	m = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddStringToObject(m, "name", r->name);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(m, "labels"), SBX_LABEL_MANAGED_BY, SBX_MANAGER);
	cJSON_AddStringToObject(cJSON_GetObjectItem(m, "labels"), SBX_LABEL_NAME, r->name);
	sbx_buf_printf(&b, "%s:sandbox.dev/Sandbox:/%s", c->o.instance, r->name);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(m, "annotations"), SBX_ANNOTATION_TRACKING,
				sbx_buf_cstr(&b));
	sp = cJSON_AddObjectToObject(o, "spec");
	sbx_buf_clear(&b);
	sbx_buf_printf(&b, "sandboxes/%s.yaml", r->name);
	cJSON_AddStringToObject(sp, "file", sbx_buf_cstr(&b));
	if (e) {
		cJSON_AddStringToObject(sp, "owner", r->owner);
		cJSON_AddStringToObject(sp, "size", e->size);
		cJSON_AddStringToObject(sp, "namespace", r->ns);
		sbx_buf_clear(&b);
		sbx_quantity_format(&b, &e->workload.cpu);
		cJSON_AddStringToObject(sp, "cpu", sbx_buf_cstr(&b));
		sbx_buf_clear(&b);
		sbx_quantity_format(&b, &e->workload.memory);
		cJSON_AddStringToObject(sp, "memory", sbx_buf_cstr(&b));
		sbx_buf_clear(&b);
		sbx_quantity_format(&b, &e->workload.storage);
		cJSON_AddStringToObject(sp, "storage", sbx_buf_cstr(&b));
		cJSON_AddBoolToObject(sp, "suspended", r->suspended);
	}
	sbx_buf_dispose(&b);
	return o;
}

/* ---- phases ---------------------------------------------------------- */

static void check_done(sbx_kube_resp *resp, void *payload)
{
	struct rec *r = payload;

	if (resp->err == 0 && resp->body && !controller_owns(r->c, resp->body)) {
		sbx_buf who = SBX_BUF_INIT;
		const cJSON *k = cJSON_GetObjectItem(resp->body, "kind");

		sbx_buf_printf(&who, "%s %s%s%s exists and is not managed by %s",
			       cJSON_IsString(k) ? k->valuestring : "object",
			       meta(resp->body, "namespace") ? meta(resp->body, "namespace") : "",
			       meta(resp->body, "namespace") ? "/" : "", meta(resp->body, "name"),
			       r->c->o.instance);
		cJSON_AddItemToArray(r->conflicts, cJSON_CreateString(sbx_buf_cstr(&who)));
		sbx_buf_dispose(&who);
	} else if (resp->err && resp->err != SBX_ENOTFOUND) {
		fail(r, "%s", resp->message);
	}
	if (--r->pending == 0)
		next_phase(r);
}

static void apply_done(sbx_kube_resp *resp, void *payload)
{
	struct rec *r = payload;

	if (resp->err && resp->err != SBX_EEXIST)
		fail(r, "%s", resp->message);
	if (--r->pending == 0)
		next_phase(r);
}

static void start_check(struct rec *r, const cJSON *obj)
{
	const sbx_kind *k = kind_of(obj);
	sbx_buf path = SBX_BUF_INIT;
	sbx_kube_req q = { "GET", NULL, NULL, NULL };

	sbx_kube_path(&path, k, meta(obj, "namespace"), meta(obj, "name"), NULL);
	q.path = sbx_buf_cstr(&path);
	r->pending++;
	if (sbx_kube_start(r->c->kube, &q, check_done, r) < 0) {
		r->pending--;
		fail(r, "%s", sbx_error_last());
	}
	sbx_buf_dispose(&path);
}

static int wave_of(const cJSON *obj)
{
	const sbx_kind *k = kind_of(obj);

	if (!strcmp(cJSON_GetObjectItem(obj, "kind")->valuestring, "Sandbox"))
		return -1;
	return k ? k->wave : 3;
}

/* Apply every object of the current wave that differs; false when none. */
static bool start_wave(struct rec *r)
{
	sbx_kube_apply_options ao = SBX_KUBE_APPLY_OPTIONS_INIT;
	const cJSON *obj;

	ao.force = true; /* take back fields others changed: that is drift */
	cJSON_ArrayForEach(obj, r->apply) {
		if (wave_of(obj) != r->wave)
			continue;
		r->pending++;
		r->writes++;
		metric_inc(r->c->mt.writes, (const char *const[]){ "apply" }, 1);
		if (sbx_kube_start_apply(r->c->kube, obj, &ao, apply_done, r) < 0) {
			r->pending--;
			fail(r, "%s", sbx_error_last());
		}
	}
	if (r->wave == 1 && r->hostkey) {
		r->pending++;
		r->writes++;
		metric_inc(r->c->mt.writes, (const char *const[]){ "create" }, 1);
		if (sbx_kube_start_create(r->c->kube, r->hostkey, apply_done, r) < 0) {
			r->pending--;
			fail(r, "%s", sbx_error_last());
		}
	}
	return r->pending > 0;
}

struct prune_scan {
	struct rec *r;
	cJSON *doomed;
};

static bool desired_has(const struct rec *r, const char *key)
{
	const cJSON *obj;

	cJSON_ArrayForEach(obj, r->desired) {
		sbx_buf k = SBX_BUF_INIT;
		bool same;

		sbx_diff_key(&k, obj);
		same = strcmp(sbx_buf_cstr(&k), key) == 0;
		sbx_buf_dispose(&k);
		if (same)
			return true;
	}
	return false;
}

static void scan_prune(const char *key, const cJSON *obj, void *payload)
{
	struct prune_scan *p = payload;
	const char *kind = cJSON_IsString(cJSON_GetObjectItem(obj, "kind")) ?
			   cJSON_GetObjectItem(obj, "kind")->valuestring : "";
	const char *name = meta(obj, "name");

	/* never pruned: the namespace and the home volume (data), the Sandbox
	 * itself and the generated host key */
	if (!strcmp(kind, "Namespace") || !strcmp(kind, "PersistentVolumeClaim") ||
	    !strcmp(kind, "Sandbox") || (!strcmp(kind, "Secret") && name && !strcmp(name, SBX_HOSTKEY_SECRET)))
		return;
	if (!controller_owns(p->r->c, obj) || desired_has(p->r, key) || meta(obj, "deletionTimestamp"))
		return;
	cJSON_AddItemToArray(p->doomed, cJSON_Duplicate(obj, 1));
}

static void start_prune(struct rec *r)
{
	struct prune_scan p = { r, cJSON_CreateArray() };
	const cJSON *obj;

	cache_each(r->c->cache, r->name, scan_prune, &p);
	cJSON_ArrayForEach(obj, p.doomed) {
		sbx_kube_delete_options del = SBX_KUBE_DELETE_OPTIONS_INIT;

		del.uid = meta(obj, "uid");
		r->pending++;
		r->writes++;
		metric_inc(r->c->mt.writes, (const char *const[]){ "delete" }, 1);
		log_info(r->name, "pruning %s %s/%s", cJSON_GetObjectItem(obj, "kind")->valuestring,
			 meta(obj, "namespace") ? meta(obj, "namespace") : "", meta(obj, "name"));
		if (sbx_kube_start_delete(r->c->kube, kind_of(obj), meta(obj, "namespace"), meta(obj, "name"),
					  &del, apply_done, r) < 0) {
			r->pending--;
			fail(r, "%s", sbx_error_last());
		}
	}
	cJSON_Delete(p.doomed);
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

		if (wave_of(obj) < 0)
			continue;
		sbx_buf_clear(&key);
		sbx_diff_key(&key, obj);
		live = cache_get(r->c->cache, sbx_buf_cstr(&key));
		h = sbx_health_of(live, &why);
		if (h == SBX_HEALTH_MISSING)
			sbx_buf_puts(&why, "not in the cluster yet");
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "kind", cJSON_GetObjectItem(obj, "kind")->valuestring);
		cJSON_AddStringToObject(o, "name", meta(obj, "name"));
		cJSON_AddStringToObject(o, "health", sbx_health_name(h));
		if (why.len)
			cJSON_AddStringToObject(o, "message", sbx_buf_cstr(&why));
		cJSON_AddItemToArray(s->objects, o);
		if (h > s->health) {
			s->health = h;
			sbx_buf_clear(&s->message);
			sbx_buf_printf(&s->message, "%s %s: %s", cJSON_GetObjectItem(obj, "kind")->valuestring,
				       meta(obj, "name"), sbx_buf_cstr(&why));
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
	if (s->health == SBX_HEALTH_HEALTHY && r->suspended)
		s->health = SBX_HEALTH_SUSPENDED;
	if (s->health == SBX_HEALTH_HEALTHY)
		sbx_buf_printf(&s->message, "ready: connect with 'sandbox ssh %s'", r->name);
}

static void next_phase(struct rec *r)
{
	struct status s;

	for (;;) {
		switch (r->phase) {
		case P_CHECK:
			if (r->failed)
				goto report;
			/* the Sandbox first: it carries the status, even of a conflict */
			r->phase = P_APPLY;
			r->wave = -1;
			if (start_wave(r))
				return;
			continue;
		case P_APPLY:
			if (r->failed || cJSON_GetArraySize(r->conflicts))
				goto report;
			while (r->wave < 3) {
				r->wave++;
				if (start_wave(r))
					return;
			}
			r->phase = P_PRUNE;
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
	status_init(&s);
	if (cJSON_GetArraySize(r->conflicts)) {
		const cJSON *c;

		s.sync = "Conflict";
		s.health = SBX_HEALTH_DEGRADED;
		s.problems = cJSON_Duplicate(r->conflicts, 1);
		cJSON_ArrayForEach(c, r->conflicts)
			sbx_buf_printf(&s.message, "%s%s", s.message.len ? "; " : "", c->valuestring);
		sbx_buf_puts(&s.message, "; nothing was changed: remove or rename the object, or the template");
	} else {
		assess(r, &s);
		if (r->failed) {
			s.sync = "Failed";
			sbx_buf_clear(&s.message);
			sbx_buf_puts(&s.message, sbx_buf_cstr(&r->failure));
		} else {
			s.sync = "Synced";
		}
	}
	if (r->drifted)
		metric_inc(r->c->mt.drift, NULL, r->drifted);
	write_status(r, &s);
	status_dispose(&s);
}

/* ---- planning -------------------------------------------------------- */

static void stamp_hash(cJSON *obj)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char hex[17];
	char *text = cJSON_PrintUnformatted(obj);
	cJSON *annotations = cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "metadata"), "annotations");

	if (!text || !annotations || !EVP_Digest(text, strlen(text), md, &n, EVP_sha256(), NULL)) {
		free(text);
		return;
	}
	for (int i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	cJSON_AddStringToObject(annotations, SBX_ANNOTATION_HASH, hex);
	free(text);
}

/* Decide what to check and apply for a valid sandbox. */
static void plan(struct rec *r, const sbx_spec *spec)
{
	controller *c = r->c;
	sbx_render_options ro = SBX_RENDER_OPTIONS_INIT;
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_effective e;
	sbx_buf key = SBX_BUF_INIT, ns = SBX_BUF_INIT;
	cJSON *objs = NULL, *obj;
	const cJSON *live_ns;
	bool ns_known;

	ro.instance = c->o.instance;
	r->suspended = spec->suspended;
	r->owner = spec->owner;
	sbx_render_namespace(&ns, c->repo->policy, r->name);
	r->ns = sbx_buf_take(&ns, NULL);
	if (sbx_policy_resolve(&e, c->repo->policy, spec, &d) < 0 ||
	    sbx_render(&objs, c->repo->templates, c->repo->policy, spec, &ro, &d) < 0) {
		sbx_diags_format(&r->failure, &d);
		r->failed = 1;
		sbx_diags_dispose(&d);
		return;
	}
	sbx_diags_dispose(&d);
	r->desired = cJSON_CreateArray();
	cJSON_AddItemToArray(r->desired, sandbox_object(r, &e));
	while (objs->child)
		cJSON_AddItemToArray(r->desired, cJSON_DetachItemViaPointer(objs, objs->child));
	cJSON_Delete(objs);
	/* a field dropped from a template leaves the desired object a subset of
	 * the live one: a hash of each desired object, kept on the object,
	 * tells that it changed, and server-side apply then removes the field */
	cJSON_ArrayForEach(obj, r->desired)
		stamp_hash(obj);

	sbx_buf_printf(&key, "/Namespace//%s", r->ns);
	live_ns = cache_get(c->cache, sbx_buf_cstr(&key));
	ns_known = live_ns && controller_owns(c, live_ns);
	cJSON_ArrayForEach(obj, r->desired) {
		const cJSON *live;
		const sbx_kind *k = kind_of(obj);

		sbx_buf_clear(&key);
		sbx_diff_key(&key, obj);
		live = cache_get(c->cache, sbx_buf_cstr(&key));
		if (live && !controller_owns(c, live)) {
			sbx_buf who = SBX_BUF_INIT;

			sbx_buf_printf(&who, "%s %s%s%s exists and is not managed by %s",
				       cJSON_GetObjectItem(obj, "kind")->valuestring,
				       k && k->namespaced ? r->ns : "", k && k->namespaced ? "/" : "",
				       meta(obj, "name"), c->o.instance);
			cJSON_AddItemToArray(r->conflicts, cJSON_CreateString(sbx_buf_cstr(&who)));
			sbx_buf_dispose(&who);
			continue;
		}
		if (live && sbx_diff_subset(obj, live, NULL))
			continue;
		if (live)
			r->drifted++;
		cJSON_AddItemToArray(r->apply, cJSON_Duplicate(obj, 1));
		/* not in our cache: it may exist without our labels. Inside a
		 * namespace we do not hold yet nothing can exist unnoticed:
		 * the namespace's own check covers it. */
		if (!live && (!k || !k->namespaced || ns_known))
			start_check(r, obj);
	}
	sbx_buf_clear(&key);
	sbx_buf_printf(&key, "/Secret/%s/%s", r->ns, SBX_HOSTKEY_SECRET);
	if (!cache_get(c->cache, sbx_buf_cstr(&key))) {
		r->hostkey = sbx_hostkey_secret(r->ns, r->name, c->o.instance);
		if (!r->hostkey)
			fail(r, "%s", sbx_error_last());
	}
	sbx_buf_dispose(&key);
}

/* ---- removed, invalid, blocked --------------------------------------- */

static void scale_done(sbx_kube_resp *resp, void *payload)
{
	struct rec *r = payload;

	if (resp->err && resp->err != SBX_ENOTFOUND)
		fail(r, "%s", resp->message);
	if (--r->pending == 0)
		finish(r);
}

static long long parse_ts(const char *s)
{
	struct tm tm = { 0 };

	return s && strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) ? (long long)timegm(&tm) * 1000 : 0;
}

/* The file is gone: stop the workload, keep namespace and volume for the
 * grace period (looking again when it ends), then delete. */
static void pending_delete(struct rec *r)
{
	controller *c = r->c;
	const cJSON *cr = live_sandbox(c, r->name), *dep = NULL;
	const char *since = live_status_str(cr, "pendingDeleteSince", NULL);
	const char *ns = cr ? cJSON_IsString(cJSON_GetObjectItem(cJSON_GetObjectItem(cr, "spec"), "namespace")) ?
			 cJSON_GetObjectItem(cJSON_GetObjectItem(cr, "spec"), "namespace")->valuestring : NULL : NULL;
	long long grace = (c->repo && c->repo->policy ? c->repo->policy->grace_period_s : 72 * 3600) * 1000LL;
	long long now = controller_wall_ms(), start = since ? parse_ts(since) : now;
	sbx_buf key = SBX_BUF_INIT;
	struct status s;
	char ts[32];

	if (!cr) {
		finish(r); /* nothing of it is left */
		return;
	}
	if (ns) {
		sbx_buf_printf(&key, "apps/Deployment/%s/sandbox", ns);
		dep = cache_get(c->cache, sbx_buf_cstr(&key));
	}
	sbx_buf_dispose(&key);
	if (now - start >= grace) {
		/* the grace period is over: the namespace goes, data included */
		const sbx_kind *nsk = sbx_kind_find("v1", "Namespace"), *sk = sbx_kind_find("sandbox.dev/v1alpha1", "Sandbox");

		log_info(r->name, "grace period over: deleting namespace %s and the Sandbox", ns ? ns : "");
		if (ns) {
			r->pending++;
			r->writes++;
			sbx_kube_start_delete(c->kube, nsk, NULL, ns, NULL, scale_done, r);
		}
		r->pending++;
		r->writes++;
		sbx_kube_start_delete(c->kube, sk, NULL, r->name, NULL, scale_done, r);
		return;
	}
	/* stop the workload; the scale subresource leaves our other fields alone */
	if (ns && dep && cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetObjectItem(dep, "spec"), "replicas")) &&
	    cJSON_GetObjectItem(cJSON_GetObjectItem(dep, "spec"), "replicas")->valuedouble != 0) {
		r->pending++;
		r->writes++;
		if (sbx_kube_start_patch(c->kube, sbx_kind_find("apps/v1", "Deployment"), ns, "sandbox", "scale",
					 "{\"spec\":{\"replicas\":0}}", scale_done, r) < 0)
			r->pending--;
	}
	r->requeue_ms = (long)(grace - (now - start) + 1000);
	status_init(&s);
	controller_timestamp(ts, start);
	s.sync = "PendingDelete";
	s.health = SBX_HEALTH_SUSPENDED;
	s.pending_since = ts;
	free(r->ns);
	r->ns = ns ? strdup(ns) : NULL;
	sbx_buf_printf(&s.message, "sandboxes/%s.yaml was removed: the workload is stopped and the "
		       "namespace and volume are kept until %lld s after %s; restore the file to get "
		       "the sandbox back with its data", r->name, grace / 1000, ts);
	write_status(r, &s);
	status_dispose(&s);
}

static void status_only(struct rec *r, const char *sync, const char *message, cJSON *problems)
{
	struct status s;

	status_init(&s);
	s.sync = sync;
	s.health = SBX_HEALTH_MISSING;
	s.problems = problems;
	sbx_buf_puts(&s.message, message);
	write_status(r, &s);
	status_dispose(&s);
}

/* ---- entry and exit -------------------------------------------------- */

static long requeue_of(struct rec *r);

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
		log_warn(r->name, "reconcile failed: %s", sbx_buf_cstr(&r->failure));
	else if (r->writes)
		log_info(r->name, "reconciled with %d write(s) in %.3f s", r->writes, secs);
	if (!r->failed)
		map_put(c->applied, r->name, "", NULL);
	workqueue_done(c->queue, r->name, r->failed, r->failed ? 0 : requeue_of(r), controller_now_ms());
	c->inflight--;
	free(r->name);
	free(r->ns);
	cJSON_Delete(r->desired);
	cJSON_Delete(r->apply);
	cJSON_Delete(r->hostkey);
	cJSON_Delete(r->conflicts);
	sbx_buf_dispose(&r->failure);
	free(r);
}

static long requeue_of(struct rec *r)
{
	return r->requeue_ms;
}

void reconcile_start(controller *c, const char *name)
{
	struct rec *r = calloc(1, sizeof(*r));
	const sbx_spec *spec;
	const cJSON *foreign;
	sbx_buf path = SBX_BUF_INIT;

	c->inflight++;
	if (!r || !(r->name = strdup(name))) {
		free(r);
		c->inflight--;
		workqueue_done(c->queue, name, true, 0, controller_now_ms());
		return;
	}
	r->c = c;
	r->started = controller_now_ms();
	sbx_buf_init(&r->failure, 8192);
	r->apply = cJSON_CreateArray();
	r->conflicts = cJSON_CreateArray();
	/* another instance's sandbox (the same cluster, another repository):
	 * not ours to touch, whatever our repository says */
	foreign = live_sandbox(c, name);
	if (foreign && !controller_owns(c, foreign) && !(c->repo && sbx_repo_find(c->repo, name))) {
		finish(r);
		return;
	}
	if (!c->repo || !c->repo->policy || !c->repo->templates) {
		/* nothing can be rendered: change nothing, say why */
		status_only(r, "PruneBlocked", c->prune_reason ? c->prune_reason :
			    "the policy or the templates are invalid; nothing is changed until a valid revision arrives",
			    NULL);
		return;
	}
	spec = sbx_repo_find(c->repo, name);
	if (spec) {
		r->phase = P_CHECK;
		r->pending++; /* hold: the checks must not finish the phase while they start */
		plan(r, spec);
		if (--r->pending == 0)
			next_phase(r);
		return;
	}
	sbx_buf_printf(&path, "sandboxes/%s.yaml", name);
	for (size_t i = 0; i < c->files.nsandboxes; i++) {
		if (strcmp(c->files.sandboxes[i].path, sbx_buf_cstr(&path)) == 0) {
			/* the file is there but invalid: report every problem, touch nothing */
			cJSON *problems = cJSON_CreateArray();
			sbx_buf msg = SBX_BUF_INIT;
			size_t n = 0;

			for (size_t j = 0; j < c->repo_diags.count; j++) {
				const sbx_diag *g = &c->repo_diags.items[j];
				sbx_buf line = SBX_BUF_INIT;

				if (strcmp(g->path, sbx_buf_cstr(&path)) != 0)
					continue;
				sbx_buf_printf(&line, "%s:%d:%d: %s", g->path, g->line, g->col, g->message);
				cJSON_AddItemToArray(problems, cJSON_CreateString(sbx_buf_cstr(&line)));
				if (!n++)
					sbx_buf_printf(&msg, "%s (live objects are left as they are)", sbx_buf_cstr(&line));
				sbx_buf_dispose(&line);
			}
			if (!live_sandbox(c, name)) {
				/* a Sandbox to carry the status */
				cJSON *cr = sandbox_object(r, NULL);
				sbx_kube_apply_options ao = SBX_KUBE_APPLY_OPTIONS_INIT;

				sbx_kube_apply(c->kube, NULL, cr, &ao);
				cJSON_Delete(cr);
				r->writes++;
			}
			status_only(r, "InvalidSpec", sbx_buf_cstr(&msg), problems);
			sbx_buf_dispose(&msg);
			sbx_buf_dispose(&path);
			return;
		}
	}
	sbx_buf_dispose(&path);
	if (c->prune_blocked) {
		status_only(r, "PruneBlocked", c->prune_reason, NULL);
		return;
	}
	pending_delete(r);
}
