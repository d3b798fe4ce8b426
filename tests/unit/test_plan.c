// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for core/plan.c: reconcile planning without a cluster. One
 * desired set (the Sandbox, its Namespace, a quota, the volume and the
 * Deployment) against a table of live states, each row with the applies,
 * look-ups, conflicts, prunes and drift it must give. Live objects are
 * written as tokens:
 *
 *   KIND[/NAME][@NAMESPACE][:flag,...]
 *   flags: same (as desired), changed (desired changed since the last
 *   apply), drift (changed out of band), unlabelled (no tracking id),
 *   other (another instance's), deleting
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "plan.h"
#include "render.h"

#define INSTANCE "ctl"
#define NS "sbx-a"

struct kindinfo {
	const char *kind, *api_version, *name;
	bool namespaced;
};

static const struct kindinfo kinds[] = {
	{ "Sandbox", "sandbox.dev/v1alpha1", "a", false },
	{ "Namespace", "v1", NS, false },
	{ "ResourceQuota", "v1", "sandbox", true },
	{ "PersistentVolumeClaim", "v1", "home", true },
	{ "Deployment", "apps/v1", "sandbox", true },
	{ "ConfigMap", "v1", "extra", true },
	{ "Secret", "v1", "ssh-host-key", true },
};

static const struct kindinfo *info(const char *kind)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kinds[i].kind, kind))
			return &kinds[i];
	fail_msg("unknown kind '%s'", kind);
	return NULL;
}

/* One object: `value` in its spec, `hash` as its applied-hash, marked as
 * INSTANCE's unless owner is NULL. */
static cJSON *object(const char *kind, const char *name, const char *ns, int value,
		     const char *hash, const char *owner)
{
	const struct kindinfo *k = info(kind);
	cJSON *o = cJSON_CreateObject(), *meta;

	cJSON_AddStringToObject(o, "apiVersion", k->api_version);
	cJSON_AddStringToObject(o, "kind", kind);
	meta = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddStringToObject(meta, "name", name ? name : k->name);
	if (k->namespaced)
		cJSON_AddStringToObject(meta, "namespace", ns ? ns : NS);
	if (owner)
		assert_int_equal(sbx_render_mark(o, owner, "a"), 0);
	else
		cJSON_AddObjectToObject(meta, "annotations");
	cJSON_AddStringToObject(cJSON_GetObjectItem(meta, "annotations"), SBX_ANNOTATION_HASH, hash);
	cJSON_AddNumberToObject(cJSON_AddObjectToObject(o, "spec"), "value", value);
	return o;
}

static cJSON *desired(void)
{
	static const char *const want[] = { "Sandbox", "Namespace", "ResourceQuota",
					    "PersistentVolumeClaim", "Deployment" };
	cJSON *d = cJSON_CreateArray();

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cJSON_AddItemToArray(d, object(want[i], NULL, NULL, 1, "h1", INSTANCE));
	return d;
}

static cJSON *live_of(const char *text)
{
	cJSON *l = cJSON_CreateArray();
	char buf[1024], *save = NULL, *tok;

	assert_true(strlen(text) < sizeof(buf));
	memcpy(buf, text, strlen(text) + 1);
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *flags = strchr(tok, ':'), *at, *slash, *f, *fsave = NULL;
		const char *owner = INSTANCE, *hash = "h1", *ns = NULL, *name = NULL;
		int value = 1;
		bool deleting = false;
		cJSON *o;

		if (flags)
			*flags++ = '\0';
		if ((at = strchr(tok, '@')))
			*at++ = '\0', ns = at;
		if ((slash = strchr(tok, '/')))
			*slash++ = '\0', name = slash;
		for (f = flags ? strtok_r(flags, ",", &fsave) : NULL; f; f = strtok_r(NULL, ",", &fsave)) {
			if (!strcmp(f, "changed"))
				hash = "h0", value = 0;
			else if (!strcmp(f, "drift"))
				value = 7;
			else if (!strcmp(f, "unlabelled"))
				owner = NULL;
			else if (!strcmp(f, "other"))
				owner = "other";
			else if (!strcmp(f, "deleting"))
				deleting = true;
			else if (strcmp(f, "same") != 0)
				fail_msg("unknown flag '%s'", f);
		}
		o = object(tok, name, ns, value, hash, owner);
		/* an object made elsewhere and copied keeps the id it had */
		if (ns && owner) {
			cJSON *a = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "metadata"), "annotations");
			sbx_buf id = SBX_BUF_INIT;
			cJSON *orig = object(tok, name, NULL, value, hash, owner);

			sbx_render_tracking_id(&id, owner, orig);
			cJSON_ReplaceItemInObject(a, SBX_ANNOTATION_TRACKING, cJSON_CreateString(sbx_buf_cstr(&id)));
			sbx_buf_dispose(&id);
			cJSON_Delete(orig);
		}
		if (deleting)
			cJSON_AddStringToObject(cJSON_GetObjectItem(o, "metadata"), "deletionTimestamp",
						"2026-12-01T00:00:00Z");
		cJSON_AddItemToArray(l, o);
	}
	return l;
}

/* "Kind Kind ..." of a list of objects. */
static void kinds_of(char *out, size_t len, const cJSON *list)
{
	const cJSON *o;

	out[0] = '\0';
	cJSON_ArrayForEach(o, list) {
		const cJSON *k = cJSON_GetObjectItem(o, "kind");
		const cJSON *ns = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "metadata"), "namespace");

		snprintf(out + strlen(out), len - strlen(out), "%s%s%s%s", out[0] ? " " : "", k->valuestring,
			 cJSON_IsString(ns) && strcmp(ns->valuestring, NS) ? "@" : "",
			 cJSON_IsString(ns) && strcmp(ns->valuestring, NS) ? ns->valuestring : "");
	}
}

struct row {
	const char *what;
	const char *live;
	bool prune;
	const char *apply, *check, *prunes;
	int conflicts, drifted;
	size_t held;
	bool hostkey;
	bool cluster_known; /* the caller watches cluster-scoped kinds whole */
};

#define ALL_SAME "Sandbox:same Namespace:same ResourceQuota:same PersistentVolumeClaim:same " \
	"Deployment:same Secret:same"

static const struct row rows[] = {
	{ "a new sandbox: apply everything, look up what is cluster-wide", "", true,
	  "Sandbox Namespace ResourceQuota PersistentVolumeClaim Deployment", "Sandbox Namespace", "",
	  0, 0, 0, true, false },
	{ "a new sandbox, every cluster-wide object known: nothing to look up", "", true,
	  "Sandbox Namespace ResourceQuota PersistentVolumeClaim Deployment", "", "", 0, 0, 0, true,
	  true },
	{ "in sync: nothing at all", ALL_SAME, true, "", "", "", 0, 0, 0, false, false },
	{ "our namespace, an object missing: apply it, look it up first",
	  "Sandbox:same Namespace:same ResourceQuota:same PersistentVolumeClaim:same Secret:same",
	  true, "Deployment", "Deployment", "", 0, 0, 0, false, false },
	{ "our namespace, an object missing, cluster-wide known: still looked up (namespaced kinds "
	  "are watched by label)",
	  "Sandbox:same Namespace:same ResourceQuota:same PersistentVolumeClaim:same Secret:same",
	  true, "Deployment", "Deployment", "", 0, 0, 0, false, true },
	{ "changed out of band: apply again, counted as drift",
	  "Sandbox:same Namespace:same ResourceQuota:drift PersistentVolumeClaim:same Deployment:drift "
	  "Secret:same", true, "ResourceQuota Deployment", "", "", 0, 2, 0, false, false },
	{ "changed in git: apply, not drift",
	  "Sandbox:same Namespace:same ResourceQuota:changed PersistentVolumeClaim:same "
	  "Deployment:changed Secret:same", true, "ResourceQuota Deployment", "", "", 0, 0, 0, false,
	  false },
	{ "an object of the same name not made by us: a conflict, not applied",
	  "Sandbox:same Namespace:unlabelled", true, "ResourceQuota PersistentVolumeClaim Deployment", "",
	  "", 1, 0, 0, true, false },
	{ "... the same, with every cluster-wide object known", "Sandbox:same Namespace:unlabelled", true,
	  "ResourceQuota PersistentVolumeClaim Deployment", "", "", 1, 0, 0, true, true },
	{ "an unlabelled Sandbox of the same name, known: a conflict, nothing looked up",
	  "Sandbox:unlabelled", true, "Namespace ResourceQuota PersistentVolumeClaim Deployment", "", "",
	  1, 0, 0, true, true },
	{ "another instance's object: a conflict",
	  "Sandbox:same Namespace:same ResourceQuota:same PersistentVolumeClaim:same Deployment:other "
	  "Secret:same", true, "", "", "", 1, 0, 0, false, false },
	{ "dropped from the templates: pruned", ALL_SAME " ConfigMap:same", true, "", "", "ConfigMap", 0,
	  0, 0, false, false },
	{ "dropped, while pruning is held: held, not pruned", ALL_SAME " ConfigMap:same", false, "", "",
	  "", 0, 0, 1, false, false },
	{ "a copy of ours in another namespace: not pruned, no conflict",
	  ALL_SAME " ConfigMap@elsewhere:same Deployment@elsewhere:same", true, "", "", "", 0, 0, 0,
	  false, false },
	{ "never pruned: the volume, the namespace, the host key, the Sandbox",
	  "Sandbox/b:same Namespace/sbx-b:same PersistentVolumeClaim/data:same Secret:same "
	  "Sandbox:same Namespace:same ResourceQuota:same PersistentVolumeClaim:same Deployment:same",
	  true, "", "", "", 0, 0, 0, false, false },
	{ "another instance's or unlabelled objects: never pruned",
	  ALL_SAME " ConfigMap/x:other ConfigMap/y:unlabelled", true, "", "", "", 0, 0, 0, false, false },
	{ "already being deleted: not pruned again", ALL_SAME " ConfigMap:deleting", true, "", "", "", 0,
	  0, 0, false, false },
};

static void test_plan__table(void **state)
{
	sbx_plan_options o = SBX_PLAN_OPTIONS_INIT;
	cJSON *want = desired();

	(void)state;
	o.instance = INSTANCE;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		cJSON *live = live_of(r->live);
		char apply[256], check[256], prune[256];
		sbx_plan p;

		o.prune = r->prune;
		o.cluster_known = r->cluster_known;
		assert_int_equal(sbx_plan_make(&p, want, live, &o), 0);
		kinds_of(apply, sizeof(apply), p.apply);
		kinds_of(check, sizeof(check), p.check);
		kinds_of(prune, sizeof(prune), p.prune);
		if (strcmp(apply, r->apply) || strcmp(check, r->check) || strcmp(prune, r->prunes) ||
		    cJSON_GetArraySize(p.conflicts) != r->conflicts || p.drifted != r->drifted ||
		    p.held != r->held || p.hostkey != r->hostkey)
			fail_msg("row %zu '%s':\n  apply '%s' (want '%s')\n  check '%s' (want '%s')\n"
				 "  prune '%s' (want '%s')\n  conflicts %d (want %d), drifted %d (want %d), "
				 "held %zu (want %zu), hostkey %d (want %d)", i, r->what, apply, r->apply,
				 check, r->check, prune, r->prunes, cJSON_GetArraySize(p.conflicts),
				 r->conflicts, p.drifted, r->drifted, p.held, r->held, p.hostkey, r->hostkey);
		sbx_plan_dispose(&p);
		cJSON_Delete(live);
	}
	cJSON_Delete(want);
}

/* A conflict names the object and the instance it is not managed by. */
static void test_plan__conflict_message(void **state)
{
	sbx_plan_options o = SBX_PLAN_OPTIONS_INIT;
	cJSON *want = desired(), *live = live_of("Namespace:unlabelled Deployment:other");
	sbx_plan p;

	(void)state;
	o.instance = INSTANCE;
	assert_int_equal(sbx_plan_make(&p, want, live, &o), 0);
	assert_int_equal(cJSON_GetArraySize(p.conflicts), 2);
	assert_string_equal(cJSON_GetArrayItem(p.conflicts, 0)->valuestring,
			    "Namespace " NS " exists and is not managed by " INSTANCE);
	assert_string_equal(cJSON_GetArrayItem(p.conflicts, 1)->valuestring,
			    "Deployment " NS "/sandbox exists and is not managed by " INSTANCE);
	sbx_plan_dispose(&p);
	cJSON_Delete(live);
	cJSON_Delete(want);
}

static void test_plan__waves(void **state)
{
	cJSON *s = object("Sandbox", NULL, NULL, 1, "h", INSTANCE), *n = object("Namespace", NULL, NULL, 1, "h", INSTANCE);
	cJSON *q = object("ResourceQuota", NULL, NULL, 1, "h", INSTANCE), *v = object("PersistentVolumeClaim", NULL, NULL, 1, "h", INSTANCE);
	cJSON *d = object("Deployment", NULL, NULL, 1, "h", INSTANCE);

	(void)state;
	assert_int_equal(sbx_plan_wave(s), -1);
	assert_int_equal(sbx_plan_wave(n), 0);
	assert_int_equal(sbx_plan_wave(q), 1);
	assert_int_equal(sbx_plan_wave(v), 2);
	assert_int_equal(sbx_plan_wave(d), 3);
	assert_true(sbx_plan_never_pruned(s) && sbx_plan_never_pruned(n) && sbx_plan_never_pruned(v));
	assert_false(sbx_plan_never_pruned(q) || sbx_plan_never_pruned(d));
	cJSON_Delete(s);
	cJSON_Delete(n);
	cJSON_Delete(q);
	cJSON_Delete(v);
	cJSON_Delete(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan__table),
		cmocka_unit_test(test_plan__conflict_message),
		cmocka_unit_test(test_plan__waves),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
