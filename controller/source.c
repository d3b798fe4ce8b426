// SPDX-License-Identifier: Apache-2.0
/*
 * The source stage and the inputs of the deleting rules. Poll the branch
 * (one ref check, then a fetch when it moved) in a child process the loop
 * polls; take a revision in: read and validate it, note every sandbox
 * file's state (refused ones included) and what each sandbox's inputs
 * hash to, ask safety.c whether the revision may remove anything, and
 * enqueue what changed. The last revision in force lives in a ConfigMap
 * in the controller's namespace, so a restart or another replica decides
 * the same way; the leader writes it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controller.h"
#include "diff.h"
#include "error.h"
#include "inputs.h"
#include "log.h"
#include "render.h"

#define STATE_RETRY_MS 5000
#define DEFAULT_GRACE_MS (72LL * 3600 * 1000)

static const char *str_at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool controller_file_name(sbx_buf *out, const char *path)
{
	const char *base = strrchr(path, '/'), *dot;

	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	if (!dot || dot == base || (strcmp(dot, ".yaml") && strcmp(dot, ".yml")))
		return false;
	sbx_buf_clear(out);
	sbx_buf_put(out, base, (size_t)(dot - base));
	return !out->failed;
}

bool controller_sandbox_of_key(sbx_buf *out, const char *key, const char *prefix)
{
	static const char sandbox[] = SANDBOX_KEY_PREFIX, ns[] = "/Namespace//";
	const char *name = NULL;

	if (!strncmp(key, sandbox, sizeof(sandbox) - 1))
		name = key + sizeof(sandbox) - 1;
	else if (!strncmp(key, ns, sizeof(ns) - 1) && prefix &&
		 !strncmp(key + sizeof(ns) - 1, prefix, strlen(prefix)))
		name = key + sizeof(ns) - 1 + strlen(prefix);
	sbx_buf_clear(out);
	if (!name || !*name || strchr(name, '/'))
		return false;
	sbx_buf_puts(out, name);
	return !out->failed;
}

/* ---- the state ConfigMap: the last revision in force ----------------- */

static void state_key(sbx_buf *key, const controller *c)
{
	sbx_buf_printf(key, "/ConfigMap/%s/%s-state", c->o.lease_namespace, c->o.instance);
}

/* The stored state, or NULL when there is none of ours. */
static const cJSON *stored_state(const controller *c)
{
	sbx_buf key = SBX_BUF_INIT;
	const cJSON *cm;

	state_key(&key, c);
	cm = cache_get(c->cache, sbx_buf_cstr(&key));
	sbx_buf_dispose(&key);
	return cm && controller_owns(c, cm) ? cm : NULL;
}

static void set_in_force(controller *c, const char *revision, const char *names)
{
	char *copy = names ? strdup(names) : NULL;

	snprintf(c->in_force, sizeof(c->in_force), "%s", revision ? revision : "");
	free(c->in_force_names);
	c->in_force_names = copy;
	if (names && !copy)
		c->in_force[0] = '\0'; /* out of memory: fall back to the live Sandboxes */
}

static void set_version(controller *c, const char *rv)
{
	free(c->state_version);
	c->state_version = rv ? strdup(rv) : NULL;
}

static bool decide_fleet(controller *c);
static void enqueue_all(controller *c);

static void state_done(sbx_kube_resp *resp, void *payload)
{
	controller *c = payload;
	char *names = c->state_writing;

	c->state_writing = NULL;
	if (resp->err) {
		if (!c->state_retry_at)
			log_warn(NULL, "cannot store the revision in force in ConfigMap %s/%s-state; new "
				 "revisions wait until it is stored (retrying): %s", c->o.lease_namespace,
				 c->o.instance, resp->message);
		c->state_retry_at = controller_now_ms() + STATE_RETRY_MS;
		free(names);
		return;
	}
	c->state_retry_at = 0;
	/* stored: the next revision is measured against this one, whatever
	 * the cache shows yet */
	set_in_force(c, str_at(resp->body, "data", "revision"), names);
	set_version(c, str_at(resp->body, "metadata", "resourceVersion"));
	free(names);
	if (decide_fleet(c))
		enqueue_all(c);
}

/* Store the revision taken as the one in force (the leader, once its
 * removals are allowed). */
static void write_state(controller *c)
{
	sbx_kube_apply_options ao = SBX_KUBE_APPLY_OPTIONS_INIT;
	cJSON *cm = cJSON_CreateObject(), *meta, *data;
	sbx_buf names = SBX_BUF_INIT, name = SBX_BUF_INIT;

	sbx_buf_init(&names, (size_t)64 << 20);
	for (size_t i = 0; i < c->files.nsandboxes; i++)
		if (controller_file_name(&name, c->files.sandboxes[i].path))
			sbx_buf_printf(&names, "%s\n", sbx_buf_cstr(&name));
	for (size_t i = 0; i < c->files.nrefused; i++)
		if (controller_file_name(&name, c->files.refused[i]))
			sbx_buf_printf(&names, "%s\n", sbx_buf_cstr(&name));
	cJSON_AddStringToObject(cm, "apiVersion", "v1");
	cJSON_AddStringToObject(cm, "kind", "ConfigMap");
	meta = cJSON_AddObjectToObject(cm, "metadata");
	sbx_buf_clear(&name);
	sbx_buf_printf(&name, "%s-state", c->o.instance);
	cJSON_AddStringToObject(meta, "name", sbx_buf_cstr(&name));
	cJSON_AddStringToObject(meta, "namespace", c->o.lease_namespace);
	sbx_render_mark(cm, c->o.instance, NULL);
	data = cJSON_AddObjectToObject(cm, "data");
	cJSON_AddStringToObject(data, "revision", c->revision);
	cJSON_AddStringToObject(data, "sandboxes", sbx_buf_cstr(&names));
	ao.force = true;
	c->state_writing = sbx_buf_take(&names, NULL);
	metric_inc(c->mt.writes, (const char *const[]){ "state" }, 1);
	if (!c->state_writing || sbx_kube_start_apply(c->kube, cm, &ao, state_done, c) < 0) {
		free(c->state_writing);
		c->state_writing = NULL;
		c->state_retry_at = controller_now_ms() + STATE_RETRY_MS;
	}
	cJSON_Delete(cm);
	sbx_buf_dispose(&names);
	sbx_buf_dispose(&name);
}

/* Whether this replica leads and has taken a revision whose removals are
 * allowed but which is not stored yet: the next one must wait for it. */
static bool store_pending(const controller *c)
{
	return c->revision[0] && c->fleet.block == SBX_BLOCK_NONE && strcmp(c->in_force, c->revision) != 0 &&
	       controller_may_write(c);
}

struct unapplied {
	const controller *c;
	size_t n;
};

static void count_unapplied(const char *name, void *value, void *payload)
{
	struct unapplied *u = payload;
	const struct inputs *in = value;
	const char *done = map_get(u->c->applied, name);

	if (!done || strcmp(done, in->hash) != 0)
		u->n++;
}

double source_head_unapplied(const controller *c, long long wall_ms)
{
	struct unapplied u = { c, 0 };
	long long since;

	if (!c->revision[0])
		return 0;
	map_each(c->inputs, count_unapplied, &u);
	if (!u.n && c->fleet.block == SBX_BLOCK_NONE && !strcmp(c->in_force, c->revision))
		return 0;
	since = c->revision_seen > c->leader_since ? c->revision_seen : c->leader_since;
	return wall_ms > since ? (double)(wall_ms - since) / 1000.0 : 0;
}

/* ---- the fleet's decision -------------------------------------------- */

void controller_live_of(const controller *c, const cJSON *obj, sbx_safety_live *l)
{
	memset(l, 0, sizeof(*l));
	l->name = str_at(obj, "metadata", "name");
	l->ours = controller_owns(c, obj);
	l->deleting = str_at(obj, "metadata", "deletionTimestamp") != NULL;
	l->pending_since_ms = controller_parse_time(str_at(obj, "status", "pendingDeleteSince"));
	l->ns_uid_recorded = str_at(obj, "status", "namespaceUID");
}

struct lives {
	sbx_safety_live *v;
	size_t n;
};

static void add_live(const char *key, void *value, void *payload)
{
	struct lives *g = payload;

	(void)key;
	g->v[g->n++] = *(const sbx_safety_live *)value;
}

struct files {
	sbx_safety_file *v;
	size_t n;
};

static void add_file(const char *key, void *value, void *payload)
{
	struct files *f = payload;

	f->v[f->n].name = key;
	f->v[f->n].state = (sbx_file_state)((intptr_t)value - 1);
	f->n++;
}

/* The first problem of the policy or a template, for the block's message. */
static const char *policy_problem(const controller *c)
{
	for (size_t i = 0; i < c->repo_diags.count; i++)
		if (!strncmp(c->repo_diags.items[i].path, "templates/", 10))
			return c->repo_diags.items[i].message;
	return NULL;
}

/* Ask safety.c about the revision taken, against the stored revision in
 * force (or, with none stored, the live Sandboxes). */
static bool decide_fleet(controller *c)
{
	sbx_safety_fleet before = c->fleet;
	sbx_safety_input in = { 0 };
	struct lives g = { calloc(map_count(c->live_sandboxes) + 1, sizeof(*g.v)), 0 };
	struct files files = { NULL, 0 };
	const char *stored = c->in_force[0] ? (c->in_force_names ? c->in_force_names : "") : NULL;
	char **names = NULL, *copy = NULL;
	size_t nnames = 0;
	sbx_block was = c->fleet.block;
	bool changed;

	files.v = calloc(map_count(c->file_state) + 1, sizeof(*files.v));
	if (stored && (copy = strdup(stored))) {
		size_t lines = 1;

		for (const char *p = copy; *p; p++)
			lines += *p == '\n';
		names = calloc(lines, sizeof(*names));
		for (char *p = copy, *nl; names && p; p = nl ? nl + 1 : NULL) {
			if ((nl = strchr(p, '\n')))
				*nl = '\0';
			if (*p)
				names[nnames++] = p;
		}
	}
	if (g.v)
		map_each(c->live_sandboxes, add_live, &g);
	if (!g.v || c->live_lost || !files.v || (stored && !names)) {
		log_error(NULL, "out of memory deciding revision %.12s; nothing is deleted", c->revision);
		c->fleet.block = SBX_BLOCK_NOT_SYNCED;
		goto done;
	}
	map_each(c->file_state, add_file, &files);
	in.revision = c->revision;
	in.synced = cache_synced(c->cache);
	in.have_in_force = stored != NULL;
	in.in_force = (const char *const *)names;
	in.nin_force = nnames;
	in.files = files.v;
	in.nfiles = files.n;
	in.live = g.v;
	in.nlive = g.n;
	in.policy_ok = c->repo && c->repo->policy;
	in.templates_ok = c->repo && c->repo->templates;
	in.policy_error = policy_problem(c);
	in.max_prune_percent = in.policy_ok ? c->repo->policy->max_prune_percent : 0;
	if (sbx_safety_fleet_decide(&c->fleet, &in) < 0) {
		c->fleet.block = SBX_BLOCK_NOT_SYNCED;
		snprintf(c->fleet.message, sizeof(c->fleet.message), "out of memory: nothing is deleted");
	}
	metric_set(c->mt.prune_blocked, NULL, c->fleet.block != SBX_BLOCK_NONE);
	if (c->fleet.block != SBX_BLOCK_NONE && (c->fleet.block != was || was == SBX_BLOCK_NONE))
		log_warn(NULL, "%s", c->fleet.message);
	else if (c->fleet.block == SBX_BLOCK_NONE && was != SBX_BLOCK_NONE)
		log_info(NULL, "revision %.12s may remove what it removes (%zu of %zu)", c->revision,
			 c->fleet.removed, c->fleet.fleet);
done:
	free(g.v);
	free(files.v);
	free(names);
	free(copy);
	changed = before.block != c->fleet.block || strcmp(before.message, c->fleet.message) != 0;
	return changed;
}

/* ---- a sandbox's view and verdict ------------------------------------ */

struct workloads {
	const controller *c;
	const char *ns;
	int n;
};

static void count_workload(const char *key, const cJSON *obj, void *payload)
{
	struct workloads *w = payload;
	const char *kind = str_at(obj, "kind", NULL), *ns = str_at(obj, "metadata", "namespace");

	(void)key;
	if (kind && !strcmp(kind, "Deployment") && ns && w->ns && !strcmp(ns, w->ns) &&
	    !str_at(obj, "metadata", "deletionTimestamp") && controller_owns(w->c, obj))
		w->n++;
}

void controller_view(controller *c, const char *name, struct sandbox_view *v)
{
	const cJSON *obj = controller_sandbox(c, name), *ns_obj = NULL;
	sbx_buf key = SBX_BUF_INIT;
	intptr_t f = (intptr_t)map_get(c->file_state, name);

	memset(v, 0, sizeof(*v));
	v->file = f ? (sbx_file_state)(f - 1) : SBX_FILE_ABSENT;
	v->obj = obj;
	if (!obj)
		return;
	v->ns = str_at(obj, "spec", "namespace");
	controller_live_of(c, obj, &v->live);
	if (v->ns) {
		struct workloads w = { c, v->ns, 0 };

		sbx_buf_printf(&key, "/Namespace//%s", v->ns);
		ns_obj = cache_get(c->cache, sbx_buf_cstr(&key));
		cache_each(c->cache, name, count_workload, &w);
		v->live.workloads = w.n;
	}
	v->ns_obj = ns_obj;
	v->live.ns_exists = ns_obj != NULL;
	v->live.ns_ours = ns_obj && controller_owns(c, ns_obj);
	v->live.ns_uid = str_at(ns_obj, "metadata", "uid");
	v->live.ns_deleting = str_at(ns_obj, "metadata", "deletionTimestamp") != NULL;
	sbx_buf_dispose(&key);
}

sbx_verdict controller_verdict(const controller *c, const struct sandbox_view *v)
{
	long long grace = c->repo && c->repo->policy ? c->repo->policy->grace_period_s * 1000LL
						     : DEFAULT_GRACE_MS;

	return sbx_safety_sandbox(c->fleet.block, v->file, v->obj ? &v->live : NULL, grace,
				  controller_wall_ms());
}

/* ---- taking a revision in -------------------------------------------- */

struct taking {
	controller *c;
	const char *oid;
	const sbx_git_files *files;
	const sbx_inputs *h;
	map *file_state;
	map *inputs;
	map *changed;
	long long now;
	bool first;
};

/* Note the inputs of `name` in the new revision and whether they changed. */
static void note_inputs(struct taking *t, const char *name, const char *what, const char *data,
			size_t len)
{
	struct inputs *in = calloc(1, sizeof(*in)), *old;
	size_t mark = cache_mark(t->c->cache);
	const cJSON *live = NULL;

	if (!in || map_get(t->inputs, name)) {
		free(in);
		return;
	}
	sbx_inputs_hash(in->hash, t->h, what, data, len);
	old = map_get(t->c->inputs, name);
	if (!old && t->first)
		live = controller_sandbox(t->c, name);
	if (old && !strcmp(old->hash, in->hash)) {
		*in = *old;
	} else if (!old && t->first && str_at(live, "status", "inputsHash") &&
		   !strcmp(str_at(live, "status", "inputsHash"), in->hash) &&
		   str_at(live, "status", "observedRevision")) {
		/* a restart: what the status describes is still what git says */
		snprintf(in->revision, sizeof(in->revision), "%s", str_at(live, "status", "observedRevision"));
	} else {
		snprintf(in->revision, sizeof(in->revision), "%s", t->oid);
		in->committed_s = t->files->commit_time;
		in->seen_ms = t->now;
		in->timed = !t->first;
		map_put(t->changed, name, "", NULL);
	}
	if (map_put(t->inputs, name, in, NULL) < 0)
		free(in);
	/* once per file of a revision: lend nothing out for longer */
	cache_release_to(t->c->cache, mark);
}

/* A live Sandbox without a file in the revision (most have one: only
 * those are read from the cache). */
static void note_live(const char *key, void *payload)
{
	struct taking *t = payload;
	const char *name = key + sizeof(SANDBOX_KEY_PREFIX) - 1;
	size_t mark;

	if (!*name || map_get(t->inputs, name))
		return;
	mark = cache_mark(t->c->cache);
	if (controller_owns(t->c, cache_get(t->c->cache, key)))
		note_inputs(t, name, "absent", NULL, 0);
	cache_release_to(t->c->cache, mark);
}

static void enqueue(const char *key, void *value, void *payload)
{
	controller *c = payload;

	(void)value;
	workqueue_add(c->queue, key, controller_now_ms());
}

static void enqueue_live(const char *key, void *payload)
{
	controller *c = payload;
	const char *name = key + sizeof(SANDBOX_KEY_PREFIX) - 1;

	if (*name)
		workqueue_add(c->queue, name, controller_now_ms());
}

/* Everything: a block began or ended, or the first revision. */
static void enqueue_all(controller *c)
{
	map_each(c->file_state, enqueue, c);
	cache_each_key(c->cache, SANDBOX_KEY_PREFIX, enqueue_live, c);
}

static void take_revision(controller *c, const char *oid)
{
	sbx_git_files files;
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_repo *repo = NULL;
	sbx_inputs *h = NULL;
	struct taking t = { c, oid, &files, NULL, map_new(), map_new(), map_new(), controller_wall_ms(),
			    !c->revision[0] };
	sbx_buf name = SBX_BUF_INIT;

	memset(&files, 0, sizeof(files));
	if (!t.file_state || !t.inputs || !t.changed) {
		log_error(NULL, "out of memory reading revision %.12s", oid);
		goto fail;
	}
	if (sbx_git_read(&files, c->git, oid, &d) < 0) {
		log_error(NULL, "cannot read revision %.12s: %s", oid, sbx_error_last());
		goto fail;
	}
	if (sbx_git_repo_load(&repo, &files, &d) == SBX_ENOMEM) {
		log_error(NULL, "out of memory reading revision %.12s", oid);
		goto fail;
	}
	/* every sandbox file, by name: valid, invalid, or refused by the source */
	t.h = h = sbx_inputs_new(&files);
	for (size_t i = 0; i < files.nsandboxes; i++) {
		if (!controller_file_name(&name, files.sandboxes[i].path))
			continue;
		map_put(t.file_state, sbx_buf_cstr(&name),
			(void *)(intptr_t)(1 + (sbx_repo_find(repo, sbx_buf_cstr(&name)) ? SBX_FILE_VALID
											 : SBX_FILE_INVALID)), NULL);
		note_inputs(&t, sbx_buf_cstr(&name), "file", files.sandboxes[i].data, files.sandboxes[i].len);
	}
	for (size_t i = 0; i < files.nrefused; i++) {
		if (!controller_file_name(&name, files.refused[i]) || map_get(t.file_state, sbx_buf_cstr(&name)))
			continue;
		map_put(t.file_state, sbx_buf_cstr(&name), (void *)(intptr_t)(1 + SBX_FILE_REFUSED), NULL);
		note_inputs(&t, sbx_buf_cstr(&name), files.refused[i], NULL, 0);
	}
	cache_each_key(c->cache, SANDBOX_KEY_PREFIX, note_live, &t);

	sbx_repo_free(c->repo);
	sbx_git_files_dispose(&c->files);
	sbx_diags_dispose(&c->repo_diags);
	map_free(c->file_state, NULL);
	map_free(c->inputs, free);
	c->repo = repo;
	c->files = files;
	c->repo_diags = d;
	c->file_state = t.file_state;
	c->inputs = t.inputs;
	snprintf(c->revision, sizeof(c->revision), "%s", oid);
	c->revision_seen = t.now;
	metric_reset(c->mt.revision);
	metric_set(c->mt.revision, (const char *const[]){ c->revision }, 1);
	log_info(NULL, "revision %.12s \"%s\": %zu sandbox files, %zu valid, %zu problems%s",
		 oid, files.subject ? files.subject : "", files.nsandboxes + files.nrefused,
		 repo->nspecs, d.count, t.first ? " (first sync)" : "");
	if (decide_fleet(c) || t.first)
		enqueue_all(c);
	else
		map_each(t.changed, enqueue, c);
	map_free(t.changed, NULL);
	sbx_inputs_free(h);
	sbx_buf_dispose(&name);
	return;
fail:
	sbx_repo_free(repo);
	sbx_git_files_dispose(&files);
	sbx_diags_dispose(&d);
	map_free(t.file_state, NULL);
	map_free(t.inputs, free);
	map_free(t.changed, NULL);
	sbx_inputs_free(h);
	sbx_buf_dispose(&name);
}

/* ---- the health ConfigMap: the controller's own git, for doctor ------ */

/* INSTANCE-health in the controller's namespace says whether the last
 * fetch failed, why and since when: what `sandbox doctor` shows people
 * who cannot read /metrics. Written by the leader on a change only
 * (compared with the cache), so an unchanged restart writes nothing. */
static void health_key(sbx_buf *key, const controller *c)
{
	sbx_buf_printf(key, "/ConfigMap/%s/%s-health", c->o.lease_namespace, c->o.instance);
}

static void health_done(sbx_kube_resp *resp, void *payload)
{
	controller *c = payload;
	const char *sent = str_at(resp->body, "data", "gitError");

	c->health_writing = false;
	free(c->health_sent);
	c->health_sent = !resp->err && sent ? strdup(sent) : NULL;
	if (resp->err) {
		if (!c->health_retry_at)
			log_warn(NULL, "cannot write ConfigMap %s/%s-health (retrying): %s",
				 c->o.lease_namespace, c->o.instance, resp->message);
		c->health_retry_at = controller_now_ms() + STATE_RETRY_MS;
		return;
	}
	c->health_retry_at = 0;
}

static void health_tick(controller *c, long long now)
{
	sbx_kube_apply_options ao = SBX_KUBE_APPLY_OPTIONS_INIT;
	sbx_buf key = SBX_BUF_INIT, name = SBX_BUF_INIT;
	const char *want = c->source_error ? c->source_error : "";
	const cJSON *live;
	cJSON *cm, *meta, *data;
	char since[32] = "";

	if (!c->revision[0] && !c->source_error)
		return;   /* nothing fetched yet: nothing to say */
	if (c->health_writing || now < c->health_retry_at || !cache_synced(c->cache) ||
	    !controller_may_write(c) || (c->health_sent && !strcmp(c->health_sent, want)))
		return;
	health_key(&key, c);
	live = cache_get(c->cache, sbx_buf_cstr(&key));
	sbx_buf_dispose(&key);
	if (live && controller_owns(c, live) && str_at(live, "data", "gitError") &&
	    !strcmp(str_at(live, "data", "gitError"), want))
		return;
	if (c->source_error) {
		time_t t = (time_t)(c->source_error_since / 1000);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	cm = cJSON_CreateObject();
	cJSON_AddStringToObject(cm, "apiVersion", "v1");
	cJSON_AddStringToObject(cm, "kind", "ConfigMap");
	meta = cJSON_AddObjectToObject(cm, "metadata");
	sbx_buf_printf(&name, "%s-health", c->o.instance);
	cJSON_AddStringToObject(meta, "name", sbx_buf_cstr(&name));
	cJSON_AddStringToObject(meta, "namespace", c->o.lease_namespace);
	sbx_render_mark(cm, c->o.instance, NULL);
	data = cJSON_AddObjectToObject(cm, "data");
	cJSON_AddStringToObject(data, "gitError", want);
	cJSON_AddStringToObject(data, "gitErrorSince", since);
	ao.force = true;
	metric_inc(c->mt.writes, (const char *const[]){ "health" }, 1);
	c->health_writing = sbx_kube_start_apply(c->kube, cm, &ao, health_done, c) == 0;
	if (!c->health_writing)
		c->health_retry_at = now + STATE_RETRY_MS;
	cJSON_Delete(cm);
	sbx_buf_dispose(&name);
}

/* ---- polling --------------------------------------------------------- */

static void source_failed(controller *c, int r)
{
	(void)r;
	metric_inc(c->mt.git_errors, NULL, 1);
	if (!c->source_error)
		c->source_error_since = controller_wall_ms();
	if (!c->source_error || strcmp(c->source_error, sbx_error_last()))
		log_error(NULL, "fetching %s failed (keeping revision %.12s): %s", sbx_git_url(c->git),
			  c->revision[0] ? c->revision : "none", sbx_error_last());
	free(c->source_error);
	c->source_error = strdup(sbx_error_last());
}

static void source_ok(controller *c)
{
	free(c->source_error);
	c->source_error = NULL;
	metric_set(c->mt.git_last_success, NULL, (double)controller_wall_ms() / 1000.0);
}

static void start_job(controller *c, bool fetch)
{
	c->job_fetch = fetch;
	if (sbx_git_job_start(&c->job, c->git, fetch) < 0) {
		c->job = NULL;
		source_failed(c, -1);
	}
}

void source_tick(controller *c, long long now)
{
	char oid[SBX_GIT_OID_HEX];
	bool fetch;
	int r;

	if (c->job) {
		if (!sbx_git_job_done(c->job))
			return;
		r = sbx_git_job_result(c->job, oid);
		fetch = c->job_fetch;
		sbx_git_job_free(c->job);
		c->job = NULL;
		if (r == 0 && !fetch && strcmp(oid, c->revision) != 0) {
			start_job(c, true); /* the branch moved */
			return;
		}
		metric_observe(c->mt.git_fetch_seconds, NULL, (double)(controller_now_ms() - c->job_started) / 1000.0);
		if (r < 0) {
			source_failed(c, r);
			return;
		}
		source_ok(c);
		if (fetch && strcmp(oid, c->revision) != 0)
			take_revision(c, oid);
		return;
	}
	/* no safety decision before the cluster's state is known, and none
	 * against a revision in force that is not stored yet */
	if (!cache_synced(c->cache) || store_pending(c) || (!c->fetch_now && now < c->next_poll))
		return;
	c->next_poll = now + c->o.poll_ms;
	c->job_started = now;
	/* a poll asks where the branch points and fetches only when it moved;
	 * a webhook has said it moved, so it fetches at once (each job is a
	 * process and a connection) */
	start_job(c, c->fetch_now);
	c->fetch_now = false;
}

int source_fd(const controller *c, long long now, long *timeout_ms)
{
	long long at = -1;
	long w;

	if (c->job) {
		w = sbx_git_job_wait_ms(c->job);
		if (w >= 0 && w < *timeout_ms)
			*timeout_ms = w;
		return sbx_git_job_fd(c->job);
	}
	if (store_pending(c))
		at = c->state_writing ? -1 : c->state_retry_at;
	else if (cache_synced(c->cache))
		at = c->fetch_now ? now : c->next_poll;
	if (at >= 0 && at - now < *timeout_ms)
		*timeout_ms = at > now ? (long)(at - now) : 0;
	return -1;
}

void source_state_tick(controller *c, long long now)
{
	const cJSON *st = stored_state(c);
	const char *rv = st ? str_at(st, "metadata", "resourceVersion") : NULL;

	/* the stored revision in force changed (written by us or the leader):
	 * take it, decide again */
	if (rv && (!c->state_version || strcmp(rv, c->state_version) != 0)) {
		set_version(c, rv);
		set_in_force(c, str_at(st, "data", "revision"), str_at(st, "data", "sandboxes"));
		if (c->revision[0] && decide_fleet(c))
			enqueue_all(c);
	}
	if (store_pending(c) && !c->state_writing && now >= c->state_retry_at)
		write_state(c);
	health_tick(c, now);
}

bool source_busy(const controller *c)
{
	return c->state_writing != NULL || c->health_writing;
}

void source_dispose(controller *c)
{
	sbx_git_job_free(c->job);
	c->job = NULL;
	map_free(c->file_state, NULL);
	map_free(c->inputs, free);
	free(c->state_version);
	free(c->state_writing);
	free(c->in_force_names);
	free(c->source_error);
	free(c->health_sent);
}
