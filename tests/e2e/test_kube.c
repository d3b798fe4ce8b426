// SPDX-License-Identifier: Apache-2.0
/*
 * The API client against the real control plane of tests/cluster: every
 * kind the templates render through create/apply/get/list/delete, no-op
 * applies, pagination, watch across an apiserver restart and a forced 410,
 * typed errors (conflict, forbidden), token-file rotation, and secrets
 * kept out of every message. Needs `tests/cluster/up` and its env.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "buf.h"
#include "error.h"
#include "kube.h"
#include "render.h"
#include "repo.h"

static sbx_kube_config *cfg;
static sbx_kube *kube;
static sbx_kube *writer;   /* a second client: writes without running kube's watches */
static char prefix[32];

static const sbx_kind *K(const char *av, const char *kind)
{
	const sbx_kind *k = sbx_kind_find(av, kind);

	assert_non_null(k);
	return k;
}

static const char *mstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "metadata"), key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* When our field manager last applied obj (managedFields), or NULL. */
static const char *apply_time(const cJSON *obj)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "metadata"), "managedFields")) {
		const cJSON *m = cJSON_GetObjectItem(e, "manager"), *op = cJSON_GetObjectItem(e, "operation");
		const cJSON *t = cJSON_GetObjectItem(e, "time");

		if (cJSON_IsString(m) && !strcmp(m->valuestring, SBX_MANAGER) && cJSON_IsString(op) &&
		    !strcmp(op->valuestring, "Apply") && cJSON_IsString(t))
			return t->valuestring;
	}
	return NULL;
}

static int setup(void **state)
{
	sbx_kube_options o = SBX_KUBE_OPTIONS_INIT;

	if (!getenv("KUBECONFIG")) {
		fprintf(stderr, "KUBECONFIG is not set: start tests/cluster/up and eval tests/cluster/env\n");
		return -1;
	}
	o.qps = 500;
	o.burst = 500;
	if (sbx_kubeconfig_load(&cfg, NULL) < 0 || sbx_kube_new(&kube, cfg, &o) < 0 ||
	    sbx_kube_new(&writer, cfg, &o) < 0) {
		fprintf(stderr, "%s\n", sbx_error_last());
		return -1;
	}
	snprintf(prefix, sizeof(prefix), "kt%d-", (int)getpid());
	return 0;
}

static int teardown(void **state)
{
	sbx_kube_free(kube);
	sbx_kube_free(writer);
	sbx_kube_config_free(cfg);
	return 0;
}

static void make_namespace(const char *name)
{
	cJSON *ns = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{}}");

	cJSON_AddStringToObject(cJSON_GetObjectItem(ns, "metadata"), "name", name);
	sbx_error_clear();
	if (sbx_kube_apply(kube, NULL, ns, NULL) < 0)
		fail_msg("%s", sbx_error_last());
	cJSON_Delete(ns);
}

static void delete_namespace(const char *name)
{
	sbx_kube_delete(kube, K("v1", "Namespace"), NULL, name, NULL);
	sbx_error_clear();
}

/* Render the example sandbox alice with a per-run namespace prefix. */
static cJSON *render_alice(sbx_repo **repo_out)
{
	const char *src = getenv("SBX_SOURCE_ROOT");
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_repo *repo = NULL;
	cJSON *objs = NULL;

	assert_int_equal(sbx_repo_load_dir(&repo, src ? src : ".", &d), 0);
	free(repo->policy->namespace_prefix);
	repo->policy->namespace_prefix = strdup(prefix);
	assert_int_equal(sbx_render(&objs, repo->templates, repo->policy, sbx_repo_find(repo, "alice"),
				    NULL, &d), 0);
	sbx_diags_dispose(&d);
	*repo_out = repo;
	return objs;
}

static void test_kube__every_rendered_kind(void **state)
{
	sbx_repo *repo;
	cJSON *objs = render_alice(&repo), *obj, *live, *again, *items;
	sbx_buf ns = SBX_BUF_INIT, sel = SBX_BUF_INIT;
	unsigned long patches;
	int r;

	sbx_buf_printf(&ns, "%salice", prefix);
	/* the host-key Secret is the controller's; create it so the pod could start */
	cJSON_ArrayForEach(obj, objs) {
		sbx_error_clear();
		if (sbx_kube_apply(kube, &live, obj, NULL) < 0)
			fail_msg("%s", sbx_error_last());
		assert_non_null(mstr(live, "resourceVersion"));
		cJSON_Delete(live);
	}
	/* get each, then an identical second apply changes nothing */
	patches = sbx_kube_request_count(kube, "PATCH", 200);
	cJSON_ArrayForEach(obj, objs) {
		const sbx_kind *k = K(cJSON_GetObjectItem(obj, "apiVersion")->valuestring,
				      cJSON_GetObjectItem(obj, "kind")->valuestring);

		assert_int_equal(sbx_kube_get(kube, &live, k, mstr(obj, "namespace"), mstr(obj, "name")), 0);
		assert_int_equal(sbx_kube_apply(kube, &again, obj, NULL), 0);
		/* the apply wrote nothing: our field manager's entry keeps its
		 * time (resourceVersion alone can move with controllers' status
		 * updates in between) */
		assert_non_null(apply_time(live));
		assert_string_equal(apply_time(again), apply_time(live));
		if (strcmp(mstr(again, "resourceVersion"), mstr(live, "resourceVersion")) != 0) {
			const cJSON *g1 = cJSON_GetObjectItem(cJSON_GetObjectItem(live, "metadata"), "generation");
			const cJSON *g2 = cJSON_GetObjectItem(cJSON_GetObjectItem(again, "metadata"), "generation");

			assert_non_null(cJSON_GetObjectItem(live, "status"));
			if (g1 && g2)
				assert_true(g1->valuedouble == g2->valuedouble);
		}
		cJSON_Delete(live);
		cJSON_Delete(again);
	}
	assert_int_equal(sbx_kube_request_count(kube, "PATCH", 200), patches + (unsigned long)cJSON_GetArraySize(objs));
	/* list by label finds each namespaced object */
	sbx_buf_printf(&sel, "%s=%s,%s=alice", SBX_LABEL_MANAGED_BY, SBX_MANAGER, SBX_LABEL_NAME);
	cJSON_ArrayForEach(obj, objs) {
		const sbx_kind *k = K(cJSON_GetObjectItem(obj, "apiVersion")->valuestring,
				      cJSON_GetObjectItem(obj, "kind")->valuestring);

		if (!k->namespaced)
			continue;
		assert_int_equal(sbx_kube_list(kube, &items, NULL, k, ns.ptr, sel.ptr, 0), 0);
		assert_int_equal(cJSON_GetArraySize(items), 1);
		cJSON_Delete(items);
	}
	/* dry run: validated, not stored */
	{
		sbx_kube_apply_options o = SBX_KUBE_APPLY_OPTIONS_INIT;
		cJSON *cm = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"dry\"}}");

		cJSON_AddStringToObject(cJSON_GetObjectItem(cm, "metadata"), "namespace", ns.ptr);
		o.dry_run = true;
		assert_int_equal(sbx_kube_apply(kube, NULL, cm, &o), 0);
		assert_int_equal(sbx_kube_get(kube, &live, K("v1", "ConfigMap"), ns.ptr, "dry"), SBX_ENOTFOUND);
		/* strict field validation refuses unknown fields */
		cJSON_AddStringToObject(cm, "bogusField", "x");
		/* (the apiserver answers 500 InternalError for this one) */
		r = sbx_kube_apply(kube, NULL, cm, NULL);
		if (r >= 0 || !strstr(sbx_error_last(), ".bogusField: field not declared in schema"))
			fail_msg("apply with an unknown field: %d %s", r, sbx_error_last());
		cJSON_Delete(cm);
	}
	/* delete each namespaced object, then the namespace */
	cJSON_ArrayForEach(obj, objs) {
		const sbx_kind *k = K(cJSON_GetObjectItem(obj, "apiVersion")->valuestring,
				      cJSON_GetObjectItem(obj, "kind")->valuestring);

		if (!k->namespaced)
			continue;
		sbx_error_clear();
		if (sbx_kube_delete(kube, k, ns.ptr, mstr(obj, "name"), NULL) < 0)
			fail_msg("%s", sbx_error_last());
	}
	assert_int_equal(sbx_kube_delete(kube, K("apps/v1", "Deployment"), ns.ptr, "sandbox", NULL),
			 SBX_ENOTFOUND);
	delete_namespace(ns.ptr);
	cJSON_Delete(objs);
	sbx_repo_free(repo);
	sbx_buf_dispose(&ns);
	sbx_buf_dispose(&sel);
}

static void test_kube__list_1200_in_pages(void **state)
{
	sbx_buf ns = SBX_BUF_INIT, name = SBX_BUF_INIT;
	cJSON *items, *it;
	char *rv = NULL, seen[1200] = { 0 };
	unsigned long gets;

	sbx_buf_printf(&ns, "%spages", prefix);
	make_namespace(ns.ptr);
	for (int i = 0; i < 1200; i++) {
		cJSON *cm = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{}}");

		sbx_buf_clear(&name);
		sbx_buf_printf(&name, "cm-%04d", i);
		cJSON_AddStringToObject(cJSON_GetObjectItem(cm, "metadata"), "name", name.ptr);
		cJSON_AddStringToObject(cJSON_GetObjectItem(cm, "metadata"), "namespace", ns.ptr);
		if (sbx_kube_create(kube, NULL, cm) < 0)
			fail_msg("%s", sbx_error_last());
		cJSON_Delete(cm);
	}
	gets = sbx_kube_request_count(kube, "GET", 200);
	assert_int_equal(sbx_kube_list(kube, &items, &rv, K("v1", "ConfigMap"), ns.ptr, NULL, 500), 0);
	assert_int_equal(sbx_kube_request_count(kube, "GET", 200) - gets, 3);
	cJSON_ArrayForEach(it, items) {
		const char *n = mstr(it, "name");
		int i;

		if (strncmp(n, "cm-", 3) != 0)
			continue; /* kube-root-ca.crt */
		i = atoi(n + 3);
		assert_true(i >= 0 && i < 1200);
		assert_int_equal(seen[i], 0);
		seen[i] = 1;
	}
	for (int i = 0; i < 1200; i++)
		assert_int_equal(seen[i], 1);
	assert_non_null(rv);
	free(rv);
	cJSON_Delete(items);
	delete_namespace(ns.ptr);
	sbx_buf_dispose(&ns);
	sbx_buf_dispose(&name);
}

static void count_done(sbx_kube_resp *resp, void *payload)
{
	int *n = payload;

	*n += resp->err == 0;
}

static void test_kube__many_in_flight_on_one_http2_connection(void **state)
{
	sbx_kube_options o = SBX_KUBE_OPTIONS_INIT;
	sbx_kube_req q = { "GET", "/api/v1/namespaces/kube-system", NULL, NULL };
	unsigned long conns, h2;
	sbx_kube *k = NULL;
	int ok = 0;

	o.qps = 1000;
	o.burst = 1000;
	assert_int_equal(sbx_kube_new(&k, cfg, &o), 0);
	for (int i = 0; i < 200; i++)
		assert_int_equal(sbx_kube_start(k, &q, count_done, &ok), 0);
	while (sbx_kube_run(k, 1000) > 0)
		;
	assert_int_equal(ok, 200);
	sbx_kube_transport_stats(k, &conns, &h2);
	printf("# 200 requests: %lu connection(s), %lu over HTTP/2\n", conns, h2);
	assert_int_equal(h2, 200);
	assert_true(conns <= 2);
	sbx_kube_free(k);
}

static void test_kube__typed_errors(void **state)
{
	sbx_buf ns = SBX_BUF_INIT;
	cJSON *cm = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},\"data\":{\"a\":\"1\"}}");
	cJSON *live = NULL;
	sbx_kube_delete_options del = SBX_KUBE_DELETE_OPTIONS_INIT;

	sbx_buf_printf(&ns, "%serrors", prefix);
	make_namespace(ns.ptr);
	cJSON_AddStringToObject(cJSON_GetObjectItem(cm, "metadata"), "namespace", ns.ptr);
	assert_int_equal(sbx_kube_create(kube, &live, cm), 0);
	assert_int_equal(sbx_kube_create(kube, NULL, cm), SBX_EEXIST);
	assert_non_null(strstr(sbx_error_last(), "already exists"));
	/* a stale resourceVersion precondition is a conflict */
	del.resource_version = "1";
	assert_int_equal(sbx_kube_delete(kube, K("v1", "ConfigMap"), ns.ptr, "c", &del), SBX_ECONFLICT);
	del.resource_version = NULL;
	del.uid = "00000000-0000-0000-0000-000000000000";
	assert_int_equal(sbx_kube_delete(kube, K("v1", "ConfigMap"), ns.ptr, "c", &del), SBX_ECONFLICT);
	del.uid = mstr(live, "uid");
	assert_int_equal(sbx_kube_delete(kube, K("v1", "ConfigMap"), ns.ptr, "c", &del), 0);
	/* an event about the namespace */
	{
		cJSON *about = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"}}");

		cJSON_AddStringToObject(cJSON_GetObjectItem(about, "metadata"), "namespace", ns.ptr);
		sbx_error_clear();
		if (sbx_kube_event(kube, about, "Warning", "TestReason", "something happened") < 0)
			fail_msg("%s", sbx_error_last());
		cJSON_Delete(about);
	}
	/* the status subresource, with optimistic concurrency */
	{
		cJSON *nsobj = NULL, *updated = NULL;

		assert_int_equal(sbx_kube_get(kube, &nsobj, K("v1", "Namespace"), NULL, ns.ptr), 0);
		cJSON_AddStringToObject(nsobj, "apiVersion", "v1");
		cJSON_AddStringToObject(nsobj, "kind", "Namespace");
		cJSON_AddItemToObject(cJSON_GetObjectItem(nsobj, "status"), "conditions",
				      cJSON_Parse("[{\"type\":\"SandboxTest\",\"status\":\"True\","
						  "\"reason\":\"Test\",\"message\":\"set by test_kube\"}]"));
		sbx_error_clear();
		if (sbx_kube_update_status(kube, &updated, nsobj) < 0)
			fail_msg("%s", sbx_error_last());
		/* the first update moved resourceVersion on: the old one conflicts */
		assert_int_equal(sbx_kube_update_status(kube, NULL, nsobj), SBX_ECONFLICT);
		assert_non_null(strstr(sbx_error_last(), "the object has been modified"));
		cJSON_Delete(nsobj);
		cJSON_Delete(updated);
	}
	cJSON_Delete(live);
	cJSON_Delete(cm);
	delete_namespace(ns.ptr);
	sbx_buf_dispose(&ns);
}

static void test_kube__forbidden_for_alice(void **state)
{
	sbx_kubeconfig_options o = SBX_KUBECONFIG_OPTIONS_INIT;
	const char *path = getenv("SBX_ALICE_KUBECONFIG");
	sbx_kube_config *ac = NULL;
	sbx_kube *ak = NULL;
	cJSON *items;

	assert_non_null(path);
	o.paths = path;
	assert_int_equal(sbx_kubeconfig_load(&ac, &o), 0);
	assert_int_equal(sbx_kube_new(&ak, ac, NULL), 0);
	assert_int_equal(sbx_kube_list(ak, &items, NULL, K("v1", "Secret"), "kube-system", NULL, 0),
			 SBX_EFORBIDDEN);
	assert_non_null(strstr(sbx_error_last(), "alice"));
	sbx_kube_free(ak);
	sbx_kube_config_free(ac);
}

struct token_out {
	int done;
	char *token;
};

static void token_done(sbx_kube_resp *resp, void *p)
{
	struct token_out *out = p;
	const cJSON *t = cJSON_GetObjectItem(cJSON_GetObjectItem(resp->body, "status"), "token");

	out->done = 1;
	out->token = cJSON_IsString(t) ? strdup(t->valuestring) : NULL;
}

/* A token for a new service account (TokenRequest API). */
static char *request_token(const char *ns, const char *sa)
{
	sbx_buf path = SBX_BUF_INIT;
	sbx_kube_req q = { "POST", NULL, "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenRequest\",\"spec\":{}}", NULL };
	cJSON *obj = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\",\"metadata\":{}}");
	struct token_out out = { 0, NULL };

	cJSON_AddStringToObject(cJSON_GetObjectItem(obj, "metadata"), "name", sa);
	cJSON_AddStringToObject(cJSON_GetObjectItem(obj, "metadata"), "namespace", ns);
	assert_int_equal(sbx_kube_apply(kube, NULL, obj, NULL), 0);
	cJSON_Delete(obj);
	sbx_buf_printf(&path, "/api/v1/namespaces/%s/serviceaccounts/%s/token", ns, sa);
	q.path = path.ptr;
	assert_int_equal(sbx_kube_start(kube, &q, token_done, &out), 0);
	while (!out.done)
		sbx_kube_run(kube, 1000);
	sbx_buf_dispose(&path);
	assert_non_null(out.token);
	return out.token;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_kube__token_rotation_and_no_secret_in_messages(void **state)
{
	char dir[] = "/tmp/sbx-kt-XXXXXX";
	sbx_buf ns = SBX_BUF_INIT, tok = SBX_BUF_INIT, kc = SBX_BUF_INIT, text = SBX_BUF_INIT;
	sbx_kubeconfig_options o = SBX_KUBECONFIG_OPTIONS_INIT;
	sbx_kube_config *tc = NULL;
	sbx_kube *tk = NULL;
	cJSON *items, *rb;
	char *reader, *other;
	const char *canary = "canary-0123456789-not-a-real-token";

	sbx_buf_printf(&ns, "%stokens", prefix);
	make_namespace(ns.ptr);
	reader = request_token(ns.ptr, "reader");
	other = request_token(ns.ptr, "other");
	/* only 'reader' may list configmaps */
	rb = cJSON_Parse("{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"RoleBinding\","
			 "\"metadata\":{\"name\":\"reader\"},\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\","
			 "\"kind\":\"ClusterRole\",\"name\":\"view\"},\"subjects\":[{\"kind\":\"ServiceAccount\",\"name\":\"reader\"}]}");
	cJSON_AddStringToObject(cJSON_GetObjectItem(rb, "metadata"), "namespace", ns.ptr);
	cJSON_AddStringToObject(cJSON_GetArrayItem(cJSON_GetObjectItem(rb, "subjects"), 0), "namespace", ns.ptr);
	assert_int_equal(sbx_kube_apply(kube, NULL, rb, NULL), 0);
	cJSON_Delete(rb);

	assert_non_null(mkdtemp(dir));
	sbx_buf_printf(&tok, "%s/token", dir);
	sbx_buf_printf(&kc, "%s/config", dir);
	write_file(tok.ptr, reader);
	sbx_buf_printf(&text, "apiVersion: v1\nkind: Config\ncurrent-context: t\n"
		       "clusters: [{name: c, cluster: {server: '%s', certificate-authority-data: ''}}]\n"
		       "users: [{name: u, user: {tokenFile: token}}]\n"
		       "contexts: [{name: t, context: {cluster: c, user: u}}]\n", cfg->server);
	write_file(kc.ptr, text.ptr);
	o.paths = kc.ptr;
	assert_int_equal(sbx_kubeconfig_load(&tc, &o), 0);
	/* the test cluster's CA */
	free(tc->ca);
	tc->ca = malloc(cfg->ca_len);
	memcpy(tc->ca, cfg->ca, cfg->ca_len);
	tc->ca_len = cfg->ca_len;
	assert_int_equal(sbx_kube_new(&tk, tc, NULL), 0);
	assert_int_equal(sbx_kube_list(tk, &items, NULL, K("v1", "ConfigMap"), ns.ptr, NULL, 0), 0);
	cJSON_Delete(items);

	/* rotate to the other account: the next request uses it */
	sleep(1);
	write_file(tok.ptr, other);
	assert_int_equal(sbx_kube_list(tk, &items, NULL, K("v1", "ConfigMap"), ns.ptr, NULL, 0),
			 SBX_EFORBIDDEN);
	assert_non_null(strstr(sbx_error_last(), ":other\""));
	assert_null(strstr(sbx_error_last(), other));

	/* a canary token is refused, and appears in no message */
	sleep(1);
	write_file(tok.ptr, canary);
	assert_int_equal(sbx_kube_list(tk, &items, NULL, K("v1", "ConfigMap"), ns.ptr, NULL, 0),
			 SBX_EUNAUTHORIZED);
	assert_null(strstr(sbx_error_last(), canary));
	printf("# last error with the canary token planted: %s\n", sbx_error_last());

	sbx_kube_free(tk);
	sbx_kube_config_free(tc);
	unlink(tok.ptr);
	unlink(kc.ptr);
	rmdir(dir);
	free(reader);
	free(other);
	delete_namespace(ns.ptr);
	sbx_buf_dispose(&ns);
	sbx_buf_dispose(&tok);
	sbx_buf_dispose(&kc);
	sbx_buf_dispose(&text);
}

/* ---- watch ----------------------------------------------------------- */

struct seen {
	int lists;
	char names[64][32];
	char values[64][16];
	int n;
	int deleted;
};

static void w_begin(void *p) { ((struct seen *)p)->lists++; }
static void w_done(void *p) { (void)p; }

static void w_upsert(cJSON *obj, void *p)
{
	struct seen *s = p;
	const char *name = mstr(obj, "name");
	const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "data"), "v");
	int i;

	if (strncmp(name, "w-", 2) == 0) {
		for (i = 0; i < s->n; i++)
			if (strcmp(s->names[i], name) == 0)
				break;
		if (i == s->n && s->n < 64)
			snprintf(s->names[s->n++], 32, "%s", name);
		if (i < 64)
			snprintf(s->values[i], 16, "%s", cJSON_IsString(v) ? v->valuestring : "");
	}
	cJSON_Delete(obj); /* the handler's to keep or free */
}

static void w_remove(const cJSON *obj, void *p)
{
	((struct seen *)p)->deleted++;
}

static void put_cm(const char *ns, const char *name, const char *value)
{
	cJSON *cm = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{},\"data\":{}}");

	cJSON_AddStringToObject(cJSON_GetObjectItem(cm, "metadata"), "name", name);
	cJSON_AddStringToObject(cJSON_GetObjectItem(cm, "metadata"), "namespace", ns);
	cJSON_AddStringToObject(cJSON_GetObjectItem(cm, "data"), "v", value);
	if (sbx_kube_apply(writer, NULL, cm, NULL) < 0)
		fail_msg("%s", sbx_error_last());
	cJSON_Delete(cm);
}

static int wait_for(struct seen *s, int n, const char *value, int seconds)
{
	for (int t = 0; t < seconds * 10; t++) {
		int ok = s->n >= n;

		for (int i = 0; ok && i < n; i++)
			ok = strcmp(s->values[i], value) == 0;
		if (ok)
			return 1;
		sbx_kube_run(kube, 100);
	}
	return 0;
}

static void restart_apiserver(void)
{
	const char *state = getenv("SBX_CLUSTER_STATE"), *src = getenv("SBX_SOURCE_ROOT");
	sbx_buf cmd = SBX_BUF_INIT;

	assert_non_null(state);
	/* crash it, wait until it has gone, start it again with `up` */
	sbx_buf_printf(&cmd, "pid=$(cat '%s/pids/kube-apiserver.pid') && kill -9 $pid && "
		       "for i in $(seq 600); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done && "
		       "'%s/tests/cluster/up' >'%s/restart.log' 2>&1 || { cat '%s/restart.log'; false; }",
		       state, src ? src : ".", state, state);
	assert_int_equal(system(cmd.ptr), 0);
	sbx_buf_dispose(&cmd);
}

static void test_kube__watch_survives_apiserver_restart(void **state)
{
	sbx_kube_watch_handlers h = { w_begin, w_done, w_upsert, w_remove };
	sbx_buf ns = SBX_BUF_INIT;
	struct seen s;
	sbx_kube_watch *w = NULL;
	char name[16];

	memset(&s, 0, sizeof(s));
	sbx_buf_printf(&ns, "%swatch", prefix);
	make_namespace(ns.ptr);
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "w-%d", i);
		put_cm(ns.ptr, name, "1");
	}
	assert_int_equal(sbx_kube_watch_start(&w, kube, K("v1", "ConfigMap"), ns.ptr, NULL, &h, &s), 0);
	assert_true(wait_for(&s, 5, "1", 30));
	assert_true(sbx_kube_watch_synced(w));
	assert_int_equal(s.lists, 1);
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "w-%d", i);
		put_cm(ns.ptr, name, "2");
	}
	assert_true(wait_for(&s, 5, "2", 30));

	/* stop the apiserver; changes made right after it is back must all arrive */
	restart_apiserver();
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "w-%d", i);
		put_cm(ns.ptr, name, "3");
	}
	assert_true(wait_for(&s, 5, "3", 60));
	sbx_kube_watch_stop(w);
	delete_namespace(ns.ptr);
	sbx_buf_dispose(&ns);
}

static void compact_etcd(void)
{
	const char *base = getenv("SBX_CLUSTER_PORT_BASE");
	sbx_buf cmd = SBX_BUF_INIT;

	/* etcd's JSON gateway: read the current revision, compact to it */
	sbx_buf_printf(&cmd, "rev=$(curl -sf -X POST http://127.0.0.1:%s/v3/kv/range -d '{\"key\":\"AA==\"}' "
		       "| python3 -c 'import json,sys; print(json.load(sys.stdin)[\"header\"][\"revision\"])') && "
		       "curl -sf -X POST http://127.0.0.1:%s/v3/kv/compaction -d \"{\\\"revision\\\": $rev, \\\"physical\\\": true}\" >/dev/null",
		       base ? base : "16400", base ? base : "16400");
	assert_int_equal(system(cmd.ptr), 0);
	sbx_buf_dispose(&cmd);
}

static void test_kube__gone_leads_to_relist_with_nothing_lost(void **state)
{
	sbx_kube_watch_handlers h = { w_begin, w_done, w_upsert, w_remove };
	sbx_buf ns = SBX_BUF_INIT;
	struct seen s;
	sbx_kube_watch *w = NULL;
	char name[16];

	memset(&s, 0, sizeof(s));
	sbx_buf_printf(&ns, "%sgone", prefix);
	make_namespace(ns.ptr);
	put_cm(ns.ptr, "w-0", "1");
	assert_int_equal(sbx_kube_watch_start(&w, kube, K("v1", "ConfigMap"), ns.ptr, NULL, &h, &s), 0);
	assert_true(wait_for(&s, 1, "1", 30));
	/* while the watch is between streams, change things and compact etcd
	 * past its version: the resumed watch gets 410 Gone and must relist */
	restart_apiserver();
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "w-%d", i);
		put_cm(ns.ptr, name, "2");
	}
	for (int i = 0; i < 50; i++)
		put_cm(ns.ptr, "churn", i % 2 ? "a" : "b");
	compact_etcd();
	restart_apiserver();
	assert_true(wait_for(&s, 3, "2", 60));
	assert_true(sbx_kube_watch_relists(w) >= 1);
	assert_int_equal(s.lists, 2);
	sbx_kube_watch_stop(w);
	delete_namespace(ns.ptr);
	sbx_buf_dispose(&ns);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kube__every_rendered_kind),
		cmocka_unit_test(test_kube__list_1200_in_pages),
		cmocka_unit_test(test_kube__many_in_flight_on_one_http2_connection),
		cmocka_unit_test(test_kube__typed_errors),
		cmocka_unit_test(test_kube__forbidden_for_alice),
		cmocka_unit_test(test_kube__token_rotation_and_no_secret_in_messages),
		cmocka_unit_test(test_kube__watch_survives_apiserver_restart),
		cmocka_unit_test(test_kube__gone_leads_to_relist_with_nothing_lost),
	};

	if (getenv("SBX_TEST_FILTER"))
		cmocka_set_test_filter(getenv("SBX_TEST_FILTER"));
	return cmocka_run_group_tests(tests, setup, teardown);
}
