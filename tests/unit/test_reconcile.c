// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for controller/reconcile.c without a cluster: the API
 * client's request starters and watches are replaced at link time
 * (-Wl,--wrap, as cmocka suggests for mocking), so every request a pass
 * starts is recorded, completed by the test with the answer it needs, or
 * made to fail to start. The cache is the real one, fed through the
 * watch handlers it registers. What is checked: a request that cannot
 * start ends the pass with an error and frees its worker slot; a replica
 * that lost its Lease writes nothing more; a relist that runs out of
 * memory (strdup, wrapped too) breaks the cache.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controller.h"
#include "error.h"
#include "render.h"

/* strdup, which fails while strdup_fails is set */
static bool strdup_fails;

char *__real_strdup(const char *s);
char *__wrap_strdup(const char *s);
char *__wrap_strdup(const char *s)
{
	return strdup_fails ? NULL : __real_strdup(s);
}

/* ---- the recorded API client ----------------------------------------- */

struct call {
	char what[32];          /* "GET", "apply", "apply:status", "create", "delete", "patch:scale", "event" */
	char kind[40];
	char name[64];
	char revision[SBX_GIT_OID_HEX];   /* a status write's observedRevision */
	sbx_kube_done_fn done;
	void *payload;
	bool completed;
};

static struct call calls[128];
static size_t ncalls;
static const char *fail_start;   /* a `what` whose requests fail to start */

static int record(const char *what, const char *kind, const char *name, sbx_kube_done_fn done,
		  void *payload)
{
	struct call *c;

	if (fail_start && !strcmp(fail_start, what))
		return sbx_error_set(SBX_ENOMEM, "injected: a %s request could not start", what);
	assert_true(ncalls < sizeof(calls) / sizeof(calls[0]));
	c = &calls[ncalls++];
	memset(c, 0, sizeof(*c));
	snprintf(c->what, sizeof(c->what), "%s", what);
	snprintf(c->kind, sizeof(c->kind), "%s", kind ? kind : "");
	snprintf(c->name, sizeof(c->name), "%s", name ? name : "");
	c->done = done;
	c->payload = payload;
	return 0;
}

static const char *jstr(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItem(o, a);

	if (b)
		v = cJSON_GetObjectItem(v, b);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int __wrap_sbx_kube_start(sbx_kube *k, const sbx_kube_req *req, sbx_kube_done_fn done, void *payload);
int __wrap_sbx_kube_start(sbx_kube *k, const sbx_kube_req *req, sbx_kube_done_fn done, void *payload)
{
	(void)k;
	return record(req->method, NULL, req->path, done, payload);
}

int __wrap_sbx_kube_start_create(sbx_kube *k, const cJSON *obj, sbx_kube_done_fn done, void *payload);
int __wrap_sbx_kube_start_create(sbx_kube *k, const cJSON *obj, sbx_kube_done_fn done, void *payload)
{
	(void)k;
	return record("create", jstr(obj, "kind", NULL), jstr(obj, "metadata", "name"), done, payload);
}

int __wrap_sbx_kube_start_apply(sbx_kube *k, const cJSON *obj, const sbx_kube_apply_options *o,
				sbx_kube_done_fn done, void *payload);
int __wrap_sbx_kube_start_apply(sbx_kube *k, const cJSON *obj, const sbx_kube_apply_options *o,
				sbx_kube_done_fn done, void *payload)
{
	int r;

	(void)k;
	r = record(o && o->subresource ? "apply:status" : "apply", jstr(obj, "kind", NULL),
		   jstr(obj, "metadata", "name"), done, payload);
	if (r == 0 && jstr(obj, "status", "observedRevision"))
		snprintf(calls[ncalls - 1].revision, sizeof(calls[ncalls - 1].revision), "%s",
			 jstr(obj, "status", "observedRevision"));
	return r;
}

int __wrap_sbx_kube_start_delete(sbx_kube *k, const sbx_kind *kind, const char *ns, const char *name,
				 const sbx_kube_delete_options *o, sbx_kube_done_fn done, void *payload);
int __wrap_sbx_kube_start_delete(sbx_kube *k, const sbx_kind *kind, const char *ns, const char *name,
				 const sbx_kube_delete_options *o, sbx_kube_done_fn done, void *payload)
{
	(void)k;
	(void)ns;
	(void)o;
	return record("delete", kind->kind, name, done, payload);
}

int __wrap_sbx_kube_start_patch(sbx_kube *k, const sbx_kind *kind, const char *ns, const char *name,
				const char *subresource, const char *merge_patch, sbx_kube_done_fn done,
				void *payload);
int __wrap_sbx_kube_start_patch(sbx_kube *k, const sbx_kind *kind, const char *ns, const char *name,
				const char *subresource, const char *merge_patch, sbx_kube_done_fn done,
				void *payload)
{
	(void)k;
	(void)ns;
	(void)merge_patch;
	return record(subresource && !strcmp(subresource, "scale") ? "patch:scale" : "patch", kind->kind,
		      name, done, payload);
}

int __wrap_sbx_kube_start_event(sbx_kube *k, const cJSON *about, const char *type, const char *reason,
				const char *message, sbx_kube_done_fn done, void *payload);
int __wrap_sbx_kube_start_event(sbx_kube *k, const cJSON *about, const char *type, const char *reason,
				const char *message, sbx_kube_done_fn done, void *payload)
{
	(void)k;
	(void)about;
	(void)type;
	(void)message;
	return record("event", reason, NULL, done, payload);
}

/* Watches: the cache's handlers are kept, to feed it objects. */
struct fake_watch {
	const sbx_kind *kind;
	sbx_kube_watch_handlers h;
	void *payload;
};

static struct fake_watch watches[32];
static size_t nwatches;

int __wrap_sbx_kube_watch_start(sbx_kube_watch **out, sbx_kube *k, const sbx_kind *kind, const char *ns,
				const char *selector, const sbx_kube_watch_handlers *h, void *payload);
int __wrap_sbx_kube_watch_start(sbx_kube_watch **out, sbx_kube *k, const sbx_kind *kind, const char *ns,
				const char *selector, const sbx_kube_watch_handlers *h, void *payload)
{
	(void)k;
	(void)ns;
	(void)selector;
	assert_true(nwatches < sizeof(watches) / sizeof(watches[0]));
	watches[nwatches] = (struct fake_watch){ kind, *h, payload };
	*out = (sbx_kube_watch *)&watches[nwatches++];
	return 0;
}

bool __wrap_sbx_kube_watch_synced(const sbx_kube_watch *w);
bool __wrap_sbx_kube_watch_synced(const sbx_kube_watch *w)
{
	(void)w;
	return true;
}

void __wrap_sbx_kube_watch_stop(sbx_kube_watch *w);
void __wrap_sbx_kube_watch_stop(sbx_kube_watch *w)
{
	(void)w;
}

/* Put an object (JSON) into the cache, as its watch would. */
static void feed(const char *json)
{
	cJSON *obj = cJSON_Parse(json);

	assert_non_null(obj);
	for (size_t i = 0; i < nwatches; i++)
		if (!strcmp(watches[i].kind->kind, jstr(obj, "kind", NULL)))
			watches[i].h.upsert(cJSON_Duplicate(obj, 1), watches[i].payload);
	cJSON_Delete(obj);
}

/* Take an object out of the cache, as its watch would on a deletion. */
static void unfeed(const char *json)
{
	cJSON *obj = cJSON_Parse(json);

	assert_non_null(obj);
	for (size_t i = 0; i < nwatches; i++)
		if (!strcmp(watches[i].kind->kind, jstr(obj, "kind", NULL)))
			watches[i].h.remove(obj, watches[i].payload);
	cJSON_Delete(obj);
}

/* A relist of `kind` that shows only `json` (NULL: nothing). */
static void relist(const char *kind, const char *json)
{
	for (size_t i = 0; i < nwatches; i++) {
		if (strcmp(watches[i].kind->kind, kind))
			continue;
		watches[i].h.list_begin(watches[i].payload);
		if (json)
			watches[i].h.upsert(cJSON_Parse(json), watches[i].payload);
		watches[i].h.list_done(watches[i].payload);
	}
}

/* Complete every request recorded so far (not those its answers start)
 * with `err`, or success. */
static void complete_all(int err)
{
	size_t n = ncalls;

	for (size_t i = 0; i < n; i++) {
		sbx_kube_resp resp;

		if (calls[i].completed)
			continue;
		calls[i].completed = true;
		memset(&resp, 0, sizeof(resp));
		resp.err = err;
		resp.status = err == SBX_ENOTFOUND ? 404 : err ? 500 : 200;
		if (err)
			snprintf(resp.message, sizeof(resp.message), "%s", err == SBX_ENOTFOUND ? "not found" : "boom");
		if (calls[i].done)
			calls[i].done(&resp, calls[i].payload);
	}
}

static size_t count(const char *what)
{
	size_t n = 0;

	for (size_t i = 0; i < ncalls; i++)
		n += !strcmp(calls[i].what, what);
	return n;
}

/* ---- a controller around the real cache, queue and metrics ------------ */

static controller c;
static sbx_kube_config cfg;

static int setup(void **state)
{
	const char *src = getenv("SBX_SOURCE_ROOT");
	sbx_diags d = SBX_DIAGS_INIT;

	(void)state;
	ncalls = 0;
	nwatches = 0;
	fail_start = NULL;
	memset(&c, 0, sizeof(c));
	c.o.instance = "t";
	c.o.workers = 4;
	c.o.lease_namespace = "ctl";
	c.leader = true;
	c.file_state = map_new();
	c.inputs = map_new();
	c.created_ns = map_new();
	c.activity = map_new();
	c.live_sandboxes = map_new();
	c.applied = map_new();
	c.queue = workqueue_new(NULL);
	c.m = metrics_new();
	controller_metrics_init(&c);
	sbx_kube_options ko = SBX_KUBE_OPTIONS_INIT;

	cfg.server = "https://127.0.0.1:1";
	if (sbx_kube_new(&c.kube, &cfg, &ko) < 0 || cache_new(&c.cache, c.kube, controller_cache_changed, &c) < 0)
		return -1;
	if (sbx_repo_load_dir(&c.repo, src ? src : ".", &d) != 0) {
		sbx_diags_dispose(&d);
		return -1;
	}
	sbx_diags_dispose(&d);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cache_free(c.cache);
	sbx_kube_free(c.kube);
	sbx_repo_free(c.repo);
	workqueue_free(c.queue);
	metrics_free(c.m);
	map_free(c.file_state, NULL);
	map_free(c.inputs, free);
	map_free(c.created_ns, free);
	map_free(c.activity, free);
	map_free(c.live_sandboxes, free);
	map_free(c.applied, free);
	return 0;
}

static void set_file(const char *name, sbx_file_state s)
{
	map_put(c.file_state, name, (void *)(intptr_t)(s + 1), NULL);
}

/* Hand `name` to reconcile as the loop does. */
static void start(const char *name)
{
	const char *key;

	workqueue_add(c.queue, name, 0);
	key = workqueue_get(c.queue, 0);
	assert_non_null(key);
	assert_string_equal(key, name);
	reconcile_start(&c, key);
}

static bool metrics_say(const char *line)
{
	sbx_buf out = SBX_BUF_INIT;
	bool found;

	metrics_write(&out, c.m);
	found = strstr(sbx_buf_cstr(&out), line) != NULL;
	sbx_buf_dispose(&out);
	return found;
}

/* The pass is over and its worker slot free; the key waits for a retry. */
static void assert_ended_with_error(void)
{
	assert_int_equal(c.inflight, 0);
	assert_int_equal(workqueue_active(c.queue), 0);
	assert_int_equal(workqueue_depth(c.queue), 1);
	assert_true(metrics_say("sandbox_reconciles_total{result=\"error\"} 1"));
}

/* An apply that cannot start (the client out of memory, say) ends the
 * pass: no request left counted, the slot free, a retry queued. */
static void test_reconcile__apply_that_cannot_start_ends_the_pass(void **state)
{
	(void)state;
	set_file("alice", SBX_FILE_VALID);
	fail_start = "apply";
	start("alice");
	/* nothing of it is live, and the cache sees every Namespace and
	 * Sandbox: nothing to look up, the Sandbox is applied first */
	assert_int_equal(count("GET"), 0);
	assert_int_equal(count("apply"), 0);
	complete_all(0);
	assert_ended_with_error();
}

/* Stopping a removed sandbox's workload cannot start: the pass still
 * writes its status, then ends with the error and frees the slot. */
static void test_reconcile__scale_that_cannot_start_ends_the_pass(void **state)
{
	(void)state;
	feed("{\"apiVersion\":\"sandbox.dev/v1alpha1\",\"kind\":\"Sandbox\",\"metadata\":{\"name\":\"gone\","
	     "\"uid\":\"s1\",\"labels\":{\"" SBX_LABEL_MANAGED_BY "\":\"" SBX_MANAGER "\",\"" SBX_LABEL_NAME "\":\"gone\"},"
	     "\"annotations\":{\"" SBX_ANNOTATION_TRACKING "\":\"t:sandbox.dev/Sandbox:/gone\"}},"
	     "\"spec\":{\"namespace\":\"sbx-gone\"},\"status\":{\"sync\":\"Synced\"}}");
	feed("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"sandbox\","
	     "\"namespace\":\"sbx-gone\",\"uid\":\"d1\",\"labels\":{\"" SBX_LABEL_MANAGED_BY "\":\"" SBX_MANAGER "\","
	     "\"" SBX_LABEL_NAME "\":\"gone\"},\"annotations\":{\"" SBX_ANNOTATION_TRACKING "\":"
	     "\"t:apps/Deployment:sbx-gone/sandbox\"}},\"spec\":{\"replicas\":1}}");
	fail_start = "patch:scale";
	start("gone");
	assert_int_equal(count("patch:scale"), 0);
	assert_int_equal(count("apply:status"), 1);
	complete_all(0);
	assert_ended_with_error();
}

/* An invalid file whose carrier Sandbox cannot be created. */
static void test_reconcile__invalid_file_whose_sandbox_cannot_start(void **state)
{
	(void)state;
	set_file("bad", SBX_FILE_INVALID);
	fail_start = "apply";
	start("bad");
	assert_int_equal(ncalls, 0);
	assert_ended_with_error();
}

/* Leadership lost between the look-ups and the first write wave: nothing
 * is applied, the pass ends. The sandbox's namespace is ours and holds
 * nothing yet, so what goes in it is looked up first. */
static void test_reconcile__no_write_after_the_lease_is_lost(void **state)
{
	(void)state;
	feed("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"sbx-alice\","
	     "\"uid\":\"n1\",\"labels\":{\"" SBX_LABEL_MANAGED_BY "\":\"" SBX_MANAGER "\",\"" SBX_LABEL_NAME
	     "\":\"alice\"},\"annotations\":{\"" SBX_ANNOTATION_TRACKING "\":\"t:/Namespace:/sbx-alice\"}}}");
	set_file("alice", SBX_FILE_VALID);
	c.o.leader_elect = true;
	c.lease_valid_until = controller_now_ms() + 60000;
	start("alice");
	assert_true(count("GET") > 0);
	c.lease_valid_until = controller_now_ms() - 1;
	complete_all(SBX_ENOTFOUND);
	assert_int_equal(count("apply"), 0);
	assert_int_equal(count("apply:status"), 0);
	assert_int_equal(count("create"), 0);
	assert_int_equal(c.inflight, 0);
	c.o.leader_elect = false;
}

/* And with the Lease held, the same pass applies the Sandbox first. */
static void test_reconcile__the_sandbox_is_applied_first(void **state)
{
	(void)state;
	set_file("alice", SBX_FILE_VALID);
	start("alice");
	assert_int_equal(ncalls, 1);
	assert_string_equal(calls[0].what, "apply");
	assert_string_equal(calls[0].kind, "Sandbox");
	complete_all(0);
	assert_string_equal(calls[1].kind, "Namespace");
	for (int round = 0; round < 10 && c.inflight; round++)
		complete_all(0);
	assert_int_equal(c.inflight, 0);
}

#define R0 "0000000000000000000000000000000000000000"
#define R1 "1111111111111111111111111111111111111111"
#define R2 "2222222222222222222222222222222222222222"

static void set_inputs(const char *name, const char *revision)
{
	struct inputs *in = calloc(1, sizeof(*in));

	snprintf(in->hash, sizeof(in->hash), "%.16s", revision);
	snprintf(in->revision, sizeof(in->revision), "%s", revision);
	free(map_del(c.inputs, name));
	map_put(c.inputs, name, in, NULL);
}

/* A status tells the revision its pass started from: a revision taken
 * while the pass is in flight is not claimed, and a live status that
 * still shows an older revision (the cache behind our last write) is not
 * written back. */
static void test_reconcile__status_names_the_revision_it_started_from(void **state)
{
	size_t i;

	(void)state;
	feed("{\"apiVersion\":\"sandbox.dev/v1alpha1\",\"kind\":\"Sandbox\",\"metadata\":{\"name\":\"alice\","
	     "\"uid\":\"s1\",\"labels\":{\"" SBX_LABEL_MANAGED_BY "\":\"" SBX_MANAGER "\",\"" SBX_LABEL_NAME "\":\"alice\"},"
	     "\"annotations\":{\"" SBX_ANNOTATION_TRACKING "\":\"t:sandbox.dev/Sandbox:/alice\"}},"
	     "\"spec\":{\"namespace\":\"sbx-alice\"},\"status\":{\"sync\":\"Synced\",\"observedRevision\":\"" R0 "\"}}");
	set_file("alice", SBX_FILE_VALID);
	set_inputs("alice", R1);
	snprintf(c.revision, sizeof(c.revision), "%s", R1);
	start("alice");
	/* R2 is taken while the pass runs */
	set_inputs("alice", R2);
	snprintf(c.revision, sizeof(c.revision), "%s", R2);
	for (int round = 0; round < 10; round++)
		complete_all(round == 0 ? SBX_ENOTFOUND : 0);
	for (i = 0; i < ncalls && strcmp(calls[i].what, "apply:status"); i++)
		;
	assert_true(i < ncalls);
	assert_string_equal(calls[i].revision, R1);
	assert_int_equal(c.inflight, 0);
}

static void test_reconcile__sandbox_of_key(void **state)
{
	/* an unlabelled Namespace or Sandbox at a sandbox's name requeues it */
	static const struct { const char *key, *prefix, *want; } rows[] = {
		{ "sandbox.dev/Sandbox//alice", "sbx-", "alice" },
		{ "/Namespace//sbx-alice", "sbx-", "alice" },
		{ "/Namespace//alice", "", "alice" },
		{ "/Namespace//kube-system", "sbx-", NULL },
		{ "/Namespace//sbx-", "sbx-", NULL },
		{ "/Namespace//sbx-alice", NULL, NULL },
		{ "/ConfigMap/sbx-alice/motd", "sbx-", NULL },
		{ "sandbox.dev/Sandbox//", "sbx-", NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		sbx_buf out = SBX_BUF_INIT;
		bool got = controller_sandbox_of_key(&out, rows[i].key, rows[i].prefix);

		if (got != (rows[i].want != NULL) || (got && strcmp(sbx_buf_cstr(&out), rows[i].want)))
			fail_msg("row %zu '%s': %d '%s'", i, rows[i].key, got, sbx_buf_cstr(&out));
		sbx_buf_dispose(&out);
	}
}

/* The live Sandboxes the fleet's deletion decision reads are kept from the
 * cache's events, not unpacked from it per revision: after each event,
 * what is kept of each name is what the cache's object says (or nothing
 * for a Sandbox no longer there). */
#define SBX_OBJ(name, labels, annotations, meta, status)                                              \
	"{\"apiVersion\":\"sandbox.dev/v1alpha1\",\"kind\":\"Sandbox\",\"metadata\":{\"name\":\"" name "\"," \
	"\"labels\":{" labels "},\"annotations\":{" annotations "}" meta "},\"spec\":{\"namespace\":\"sbx-" \
	name "\"},\"status\":{" status "}}"
#define OURS(name) "\"" SBX_LABEL_MANAGED_BY "\":\"" SBX_MANAGER "\",\"" SBX_LABEL_NAME "\":\"" name "\""
#define TRACKED(name) "\"" SBX_ANNOTATION_TRACKING "\":\"t:sandbox.dev/Sandbox:/" name "\""

static void test_reconcile__live_sandboxes_follow_the_cache(void **state)
{
	static const struct {
		const char *what;       /* feed, unfeed, relist */
		const char *json;
		const char *name;       /* the name then checked */
		bool live, ours, deleting;
		bool pending;           /* pendingDeleteSince set */
		const char *ns_uid;
	} rows[] = {
		{ "feed", SBX_OBJ("alice", OURS("alice"), TRACKED("alice"), "", ""),
		  "alice", true, true, false, false, NULL },
		{ "feed", SBX_OBJ("alice", OURS("alice"), TRACKED("alice"), "",
				  "\"namespaceUID\":\"u1\",\"pendingDeleteSince\":\"2026-12-01T10:00:00Z\""),
		  "alice", true, true, false, true, "u1" },
		{ "feed", SBX_OBJ("alice", OURS("alice"), TRACKED("alice"),
				  ",\"deletionTimestamp\":\"2026-12-01T11:00:00Z\"", "\"namespaceUID\":\"u1\""),
		  "alice", true, true, true, false, "u1" },
		/* someone else's at another name: live, not ours */
		{ "feed", SBX_OBJ("bob", "", "", "", "\"namespaceUID\":\"u2\""), "bob", true, false, false, false, "u2" },
		/* tracked by another instance */
		{ "feed", SBX_OBJ("carol", OURS("carol"), "\"" SBX_ANNOTATION_TRACKING "\":\"other:sandbox.dev/Sandbox:/carol\"",
				  "", ""), "carol", true, false, false, false, NULL },
		{ "unfeed", SBX_OBJ("alice", OURS("alice"), TRACKED("alice"), "", ""),
		  "alice", false, false, false, false, NULL },
		{ "check", NULL, "bob", true, false, false, false, "u2" },
		/* a relist that shows only carol: bob is gone */
		{ "relist", SBX_OBJ("carol", OURS("carol"), TRACKED("carol"), "", ""),
		  "bob", false, false, false, false, NULL },
		{ "check", NULL, "carol", true, true, false, false, NULL },
		{ "relist", NULL, "carol", false, false, false, false, NULL },
	};
	sbx_buf key = SBX_BUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const sbx_safety_live *got;
		const cJSON *obj;
		sbx_safety_live want;

		if (!strcmp(rows[i].what, "feed"))
			feed(rows[i].json);
		else if (!strcmp(rows[i].what, "unfeed"))
			unfeed(rows[i].json);
		else if (!strcmp(rows[i].what, "relist"))
			relist("Sandbox", rows[i].json);
		got = controller_live_sandbox(&c, rows[i].name);
		sbx_buf_clear(&key);
		sbx_buf_printf(&key, SANDBOX_KEY_PREFIX "%s", rows[i].name);
		obj = cache_get(c.cache, sbx_buf_cstr(&key));
		if (!rows[i].live) {
			if (got || obj)
				fail_msg("row %zu: %s is still live", i, rows[i].name);
			continue;
		}
		if (!got || !obj)
			fail_msg("row %zu: %s is not live (kept %d, cached %d)", i, rows[i].name, !!got, !!obj);
		controller_live_of(&c, obj, &want);
		/* what is kept is what the cache's object says ... */
		assert_string_equal(got->name, want.name);
		assert_int_equal(got->ours, want.ours);
		assert_int_equal(got->deleting, want.deleting);
		assert_int_equal(got->pending_since_ms, want.pending_since_ms);
		if (want.ns_uid_recorded)
			assert_string_equal(got->ns_uid_recorded, want.ns_uid_recorded);
		else
			assert_null(got->ns_uid_recorded);
		/* ... and that is what the row expects */
		if (got->ours != rows[i].ours || got->deleting != rows[i].deleting ||
		    (got->pending_since_ms != 0) != rows[i].pending ||
		    (rows[i].ns_uid ? !got->ns_uid_recorded || strcmp(got->ns_uid_recorded, rows[i].ns_uid)
				    : got->ns_uid_recorded != NULL))
			fail_msg("row %zu: %s ours %d deleting %d pending %lld namespaceUID %s", i, rows[i].name,
				 got->ours, got->deleting, got->pending_since_ms,
				 got->ns_uid_recorded ? got->ns_uid_recorded : "(none)");
		cache_release(c.cache);
	}
	assert_false(c.live_lost);
	sbx_buf_dispose(&key);
}

/* A relist that cannot note what it no longer shows (out of memory) must
 * not leave that object in the cache as if it were there: the cache is
 * broken, and nothing is decided from it. */
static void test_reconcile__relist_out_of_memory_breaks_the_cache(void **state)
{
	(void)state;
	feed(SBX_OBJ("alice", OURS("alice"), TRACKED("alice"), "", ""));
	assert_false(cache_broken(c.cache));
	strdup_fails = true;
	relist("Sandbox", NULL);
	strdup_fails = false;
	assert_true(cache_broken(c.cache));
	assert_false(cache_synced(c.cache));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reconcile__apply_that_cannot_start_ends_the_pass, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile__scale_that_cannot_start_ends_the_pass, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile__invalid_file_whose_sandbox_cannot_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile__no_write_after_the_lease_is_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile__the_sandbox_is_applied_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile__status_names_the_revision_it_started_from, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile__live_sandboxes_follow_the_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile__relist_out_of_memory_breaks_the_cache, setup, teardown),
		cmocka_unit_test(test_reconcile__sandbox_of_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
