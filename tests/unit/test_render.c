// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for core/render.c: the repository's templates rendered for its
 * example sandboxes (order, metadata, typed values, list splices), template
 * refusals, injection attempts that must stay single string values, and the
 * YAML writer's quoting and round trip through the loader.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "buf.h"
#include "diag.h"
#include "desired.h"
#include "error.h"
#include "idle.h"
#include "policy.h"
#include "render.h"
#include "repo.h"
#include "spec.h"
#include "testutil.h"
#include "yamlfile.h"

#define ALICE_KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHSoUIZelGdP3RrTnXJvKXYV93zRjcY9w6U3zg30UICA alice@laptop"
#define MAX_TEMPLATES 32

/* The repository's templates, held in memory for sbx_templates_load. */
struct repo_templates {
	sbx_file files[MAX_TEMPLATES];
	char *paths[MAX_TEMPLATES];
	char *data[MAX_TEMPLATES];
	size_t count;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every template in templates/ (not policy.yaml), sorted by name. */
static void read_repo_templates(struct repo_templates *t)
{
	sbx_buf dir = SBX_BUF_INIT;
	struct dirent *e;
	DIR *d;

	memset(t, 0, sizeof(*t));
	sbx_buf_printf(&dir, "%s/../../templates", test_data_dir());
	d = opendir(sbx_buf_cstr(&dir));
	if (!d)
		fail_msg("cannot open '%s'", sbx_buf_cstr(&dir));
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		sbx_buf rel = SBX_BUF_INIT;

		if (n <= 5 || strcmp(e->d_name + n - 5, ".yaml") != 0 ||
		    strcmp(e->d_name, "policy.yaml") == 0)
			continue;
		assert_true(t->count < MAX_TEMPLATES);
		sbx_buf_printf(&rel, "templates/%s", e->d_name);
		t->paths[t->count++] = sbx_buf_take(&rel, NULL);
	}
	closedir(d);
	sbx_buf_dispose(&dir);
	qsort(t->paths, t->count, sizeof(t->paths[0]), cmp_str);
	for (size_t i = 0; i < t->count; i++) {
		t->data[i] = test_read_repo_file(t->paths[i], &t->files[i].len);
		t->files[i].path = t->paths[i];
		t->files[i].data = t->data[i];
	}
}

static void free_repo_templates(struct repo_templates *t)
{
	for (size_t i = 0; i < t->count; i++) {
		free(t->paths[i]);
		free(t->data[i]);
	}
}

static sbx_templates *load_templates(const sbx_file *files, size_t n)
{
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_templates *t = NULL;
	int r = sbx_templates_load(&t, files, n, &d);

	if (r != 0 || d.count)
		test_fail_with_diags("templates", r, &d);
	sbx_diags_dispose(&d);
	return t;
}

static sbx_templates *repo_templates(void)
{
	struct repo_templates rt;
	sbx_templates *t;

	read_repo_templates(&rt);
	t = load_templates(rt.files, rt.count);
	free_repo_templates(&rt);
	return t;
}

static sbx_policy *repo_policy(void)
{
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_policy *p = NULL;
	size_t len;
	char *text = test_read_repo_file("templates/policy.yaml", &len);
	int r = sbx_policy_parse(&p, "templates/policy.yaml", text, len, &d);

	if (r != 0)
		test_fail_with_diags("policy", r, &d);
	sbx_diags_dispose(&d);
	free(text);
	return p;
}

static sbx_spec *parse_spec(const char *path, const char *text, size_t len, const sbx_policy *p)
{
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_spec *s = NULL;
	int r = sbx_spec_parse(&s, path, text, len, p, &d);

	if (r != 0 || d.count)
		test_fail_with_diags(path, r, &d);
	sbx_diags_dispose(&d);
	return s;
}

static sbx_spec *repo_spec(const char *name, const sbx_policy *p)
{
	sbx_buf rel = SBX_BUF_INIT;
	sbx_spec *s;
	size_t len;
	char *text;

	sbx_buf_printf(&rel, "sandboxes/%s.yaml", name);
	text = test_read_repo_file(sbx_buf_cstr(&rel), &len);
	s = parse_spec(sbx_buf_cstr(&rel), text, len, p);
	free(text);
	sbx_buf_dispose(&rel);
	return s;
}

/* A sandbox file for alice with `body` appended to its spec (line 8 on). */
static sbx_spec *alice_with(const char *owner, const char *body, const sbx_policy *p)
{
	sbx_buf b = SBX_BUF_INIT;
	sbx_spec *s;

	sbx_buf_printf(&b, "apiVersion: sandbox.dev/v1alpha1\nkind: Sandbox\nmetadata:\n"
		       "  name: alice\nspec:\n  owner: %s\n  sshKeys: [\"" ALICE_KEY "\"]\n%s",
		       owner, body);
	s = parse_spec("sandboxes/alice.yaml", b.ptr, b.len, p);
	sbx_buf_dispose(&b);
	return s;
}

static cJSON *render_ok(const sbx_templates *t, const sbx_policy *p, const sbx_spec *s,
			const sbx_render_options *opts)
{
	sbx_diags d = SBX_DIAGS_INIT;
	cJSON *out = NULL;
	int r = sbx_render(&out, t, p, s, opts, &d);

	if (r != 0 || d.count)
		test_fail_with_diags("render", r, &d);
	assert_true(cJSON_IsArray(out));
	sbx_diags_dispose(&d);
	return out;
}

/* The object of this kind (the first one). Borrowed. */
static cJSON *find_kind(const cJSON *objs, const char *kind)
{
	cJSON *o;

	cJSON_ArrayForEach(o, objs) {
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "kind");

		if (cJSON_IsString(k) && strcmp(k->valuestring, kind) == 0)
			return o;
	}
	fail_msg("no %s rendered", kind);
	return NULL;
}

/* Follow a path of object keys and array indexes ("spec", "#0", ...). */
static cJSON *dig(const cJSON *v, ...)
{
	const char *key;
	va_list ap;

	va_start(ap, v);
	while (v && (key = va_arg(ap, const char *)) != NULL) {
		if (key[0] == '#')
			v = cJSON_GetArrayItem(v, (int)strtol(key + 1, NULL, 10));
		else
			v = cJSON_GetObjectItemCaseSensitive(v, key);
	}
	va_end(ap);
	if (!v)
		fail_msg("path not found");
	return (cJSON *)v;
}

static int count_kind(const cJSON *objs, const char *kind)
{
	const cJSON *o;
	int n = 0;

	cJSON_ArrayForEach(o, objs)
		n += strcmp(cJSON_GetObjectItemCaseSensitive(o, "kind")->valuestring, kind) == 0;
	return n;
}

/* The container of the rendered Deployment. Borrowed. */
static cJSON *container(const cJSON *objs)
{
	return dig(find_kind(objs, "Deployment"), "spec", "template", "spec", "containers", "#0",
		   NULL);
}

static void test_render__repository_templates_load(void **state)
{
	sbx_templates *t = repo_templates();

	(void)state;
	assert_int_equal(sbx_templates_count(t), 9);
	sbx_templates_free(t);
	sbx_templates_free(NULL);
}

static void test_render__alice_objects_in_order(void **state)
{
	static const char *const want[] = { "Namespace", "LimitRange", "NetworkPolicy",
		"ResourceQuota", "RoleBinding", "Secret", "PersistentVolumeClaim",
		"Deployment", "Service" };
	sbx_templates *t = repo_templates();
	sbx_policy *p = repo_policy();
	sbx_spec *s = repo_spec("alice", p);
	cJSON *objs = render_ok(t, p, s, NULL);
	size_t i = 0;
	const cJSON *o;

	(void)state;
	assert_int_equal(cJSON_GetArraySize(objs), 9);
	cJSON_ArrayForEach(o, objs) {
		assert_string_equal(dig(o, "kind", NULL)->valuestring, want[i]);
		i++;
	}
	cJSON_Delete(objs);
	sbx_spec_free(s);
	sbx_policy_free(p);
	sbx_templates_free(t);
}

static void test_render__metadata_on_every_object(void **state)
{
	sbx_templates *t = repo_templates();
	sbx_policy *p = repo_policy();
	sbx_spec *s = repo_spec("alice", p);
	cJSON *objs = render_ok(t, p, s, NULL);
	const cJSON *o;

	(void)state;
	cJSON_ArrayForEach(o, objs) {
		const cJSON *meta = dig(o, "metadata", NULL);
		const cJSON *ns = cJSON_GetObjectItemCaseSensitive(meta, "namespace");
		const char *kind = dig(o, "kind", NULL)->valuestring;
		const char *id = dig(meta, "annotations", SBX_ANNOTATION_TRACKING, NULL)->valuestring;

		assert_string_equal(dig(meta, "labels", SBX_LABEL_MANAGED_BY, NULL)->valuestring,
				    "sandbox-controller");
		assert_string_equal(dig(meta, "labels", SBX_LABEL_NAME, NULL)->valuestring, "alice");
		assert_true(strncmp(id, "sandbox-controller:", 19) == 0);
		if (strcmp(kind, "Namespace") == 0) {
			assert_null(ns);
			assert_string_equal(dig(meta, "name", NULL)->valuestring, "sbx-alice");
			assert_string_equal(id, "sandbox-controller:/Namespace:/sbx-alice");
			/* the template's own labels are kept */
			assert_string_equal(dig(meta, "labels", "pod-security.kubernetes.io/enforce",
						NULL)->valuestring, "restricted");
		} else {
			assert_true(cJSON_IsString(ns));
			assert_string_equal(ns->valuestring, "sbx-alice");
		}
	}
	assert_string_equal(dig(find_kind(objs, "Deployment"), "metadata", "annotations",
				SBX_ANNOTATION_TRACKING, NULL)->valuestring,
			    "sandbox-controller:apps/Deployment:sbx-alice/sandbox");
	assert_string_equal(dig(find_kind(objs, "RoleBinding"), "metadata", "annotations",
				SBX_ANNOTATION_TRACKING, NULL)->valuestring,
			    "sandbox-controller:rbac.authorization.k8s.io/RoleBinding:sbx-alice/"
			    "sandbox-owner");
	cJSON_Delete(objs);
	sbx_spec_free(s);
	sbx_policy_free(p);
	sbx_templates_free(t);
}

static void test_render__instance_in_tracking_id(void **state)
{
	sbx_templates *t = repo_templates();
	sbx_policy *p = repo_policy();
	sbx_spec *s = repo_spec("alice", p);
	sbx_render_options opts = SBX_RENDER_OPTIONS_INIT;
	cJSON *objs;

	(void)state;
	opts.instance = "ctl-eu1";
	objs = render_ok(t, p, s, &opts);
	assert_string_equal(dig(find_kind(objs, "Service"), "metadata", "annotations",
				SBX_ANNOTATION_TRACKING, NULL)->valuestring,
			    "ctl-eu1:/Service:sbx-alice/sandbox");
	/* the managed-by label does not change with the instance */
	assert_string_equal(dig(find_kind(objs, "Service"), "metadata", "labels",
				SBX_LABEL_MANAGED_BY, NULL)->valuestring, "sandbox-controller");
	cJSON_Delete(objs);
	sbx_spec_free(s);
	sbx_policy_free(p);
	sbx_templates_free(t);
}

static void test_render__typed_values(void **state)
{
	sbx_templates *t = repo_templates();
	sbx_policy *p = repo_policy();
	sbx_spec *s = repo_spec("alice", p);
	cJSON *objs = render_ok(t, p, s, NULL);
	const cJSON *dep = find_kind(objs, "Deployment"), *v;

	(void)state;
	v = dig(dep, "spec", "replicas", NULL);
	assert_true(cJSON_IsNumber(v));
	assert_int_equal(v->valueint, 1);
	/* quantities are strings, as the API expects */
	v = dig(container(objs), "resources", "requests", "cpu", NULL);
	assert_true(cJSON_IsString(v));
	assert_string_equal(v->valuestring, "1");
	assert_string_equal(dig(container(objs), "resources", "limits", "memory", NULL)->valuestring,
			    "2Gi");
	assert_string_equal(dig(container(objs), "image", NULL)->valuestring,
			    "registry.example.com/devbox:2026.11");
	/* template literals keep their YAML types */
	v = dig(dep, "spec", "template", "spec", "automountServiceAccountToken", NULL);
	assert_true(cJSON_IsBool(v) && cJSON_IsFalse(v));
	v = dig(dep, "spec", "template", "spec", "volumes", "#1", "secret", "defaultMode", NULL);
	assert_true(cJSON_IsNumber(v));
	assert_int_equal(v->valueint, 0440);
	v = dig(find_kind(objs, "ResourceQuota"), "spec", "hard", "pods", NULL);
	assert_true(cJSON_IsString(v));
	assert_string_equal(v->valuestring, "4");
	assert_string_equal(dig(find_kind(objs, "ResourceQuota"), "spec", "hard", "requests.storage",
				NULL)->valuestring, "10Gi");
	assert_string_equal(dig(find_kind(objs, "PersistentVolumeClaim"), "spec", "resources",
				"requests", "storage", NULL)->valuestring, "10Gi");
	/* "2222" quoted in the template stays a string inside a flow list */
	assert_string_equal(dig(container(objs), "command", "#4", NULL)->valuestring, "2222");
	cJSON_Delete(objs);
	sbx_spec_free(s);
	sbx_policy_free(p);
	sbx_templates_free(t);
}

/* Suspended in git, or asleep for idleness: no pod, the volume kept; and
 * ${suspended} stays what git says. */
static void test_render__suspended_replicas_zero(void **state)
{
	static const struct {
		const char *body;
		bool asleep;
	} cases[] = { { "  suspended: true\n", false }, { "", true } };
	sbx_templates *t = repo_templates();
	sbx_policy *p = repo_policy();

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sbx_spec *s = alice_with("alice@example.com", cases[i].body, p);
		sbx_render_options ro = SBX_RENDER_OPTIONS_INIT;
		const cJSON *replicas;
		cJSON *objs;

		ro.asleep = cases[i].asleep;
		objs = render_ok(t, p, s, &ro);
		replicas = dig(find_kind(objs, "Deployment"), "spec", "replicas", NULL);
		assert_true(cJSON_IsNumber(replicas));
		assert_int_equal(replicas->valueint, 0);
		assert_int_equal(count_kind(objs, "PersistentVolumeClaim"), 1);
		assert_int_equal(cJSON_GetArraySize(objs), 9);
		assert_int_equal(s->suspended, !cases[i].asleep);
		cJSON_Delete(objs);
		sbx_spec_free(s);
	}
	sbx_policy_free(p);
	sbx_templates_free(t);
}

/* With idle suspension on, what the controller applies ends with the
 * activity Lease: ours in every label, only its duration set (a quarter
 * of suspendAfter, from 3 s to 60 s). Off, there is none. */
static void test_render__desired_activity_lease(void **state)
{
	static const struct {
		const char *body;
		int lease_s;   /* 0: no Lease */
	} cases[] = {
		{ "", 0 },
		{ "  idle:\n    suspendAfter: never\n", 0 },
		{ "  idle:\n    suspendAfter: 8h\n", 60 },
		{ "  idle:\n    suspendAfter: 40s\n", 10 },
		{ "  idle:\n    suspendAfter: 2s\n", 3 },
	};
	sbx_repo repo = { 0 };

	(void)state;
	repo.templates = repo_templates();
	repo.policy = repo_policy();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sbx_spec *s = alice_with("alice@example.com", cases[i].body, repo.policy);
		sbx_diags d = SBX_DIAGS_INIT;
		cJSON *objs = NULL;
		const cJSON *lease;

		assert_int_equal(sbx_desired(&objs, &repo, s, NULL, &d), 0);
		lease = cJSON_GetArrayItem(objs, cJSON_GetArraySize(objs) - 1);
		if (!cases[i].lease_s) {
			assert_int_equal(count_kind(objs, "Lease"), 0);
		} else {
			assert_int_equal(count_kind(objs, "Lease"), 1);
			assert_string_equal(dig(lease, "kind", NULL)->valuestring, "Lease");
			assert_string_equal(dig(lease, "metadata", "name", NULL)->valuestring, SBX_IDLE_LEASE);
			assert_string_equal(dig(lease, "metadata", "namespace", NULL)->valuestring,
					    "sbx-alice");
			assert_string_equal(dig(lease, "metadata", "labels", SBX_LABEL_NAME, NULL)->valuestring,
					    "alice");
			assert_non_null(dig(lease, "metadata", "annotations", SBX_ANNOTATION_HASH, NULL));
			assert_int_equal(dig(lease, "spec", "leaseDurationSeconds", NULL)->valueint,
					 cases[i].lease_s);
			assert_null(cJSON_GetObjectItem(dig(lease, "spec", NULL), "renewTime"));
		}
		cJSON_Delete(objs);
		sbx_diags_dispose(&d);
		sbx_spec_free(s);
	}
	sbx_policy_free(repo.policy);
	sbx_templates_free(repo.templates);
}

static void test_render__authorized_keys_base64(void **state)
{
	sbx_templates *t = repo_templates();
	sbx_policy *p = repo_policy();
	sbx_spec *s = repo_spec("bob", p);
	cJSON *objs = render_ok(t, p, s, NULL);
	const char *b64 = dig(find_kind(objs, "Secret"), "data", "authorized_keys", NULL)->valuestring;
	size_t len = strlen(b64);
	unsigned char *raw = malloc(len + 1);
	size_t rawlen;
	sbx_buf want = SBX_BUF_INIT;
	int n;

	(void)state;
	assert_non_null(raw);
	n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)len);
	assert_true(n >= 0);
	/* EVP_DecodeBlock counts the '=' padding as zero bytes */
	rawlen = (size_t)n - (len && b64[len - 1] == '=') - (len > 1 && b64[len - 2] == '=');
	raw[rawlen] = '\0';
	for (size_t i = 0; i < s->nkeys; i++) {
		sbx_sshkey_format(&want, &s->keys[i]);
		sbx_buf_putc(&want, '\n');
	}
	assert_string_equal((const char *)raw, sbx_buf_cstr(&want));
	assert_true(strncmp((const char *)raw, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEfDtP4", 43) == 0);
	assert_non_null(strstr((const char *)raw, "\nssh-rsa AAAAB3NzaC1yc2E"));
	assert_int_equal(raw[rawlen - 1], '\n');
	sbx_buf_dispose(&want);
	free(raw);
	cJSON_Delete(objs);
	sbx_spec_free(s);
	sbx_policy_free(p);
	sbx_templates_free(t);
}

static void test_render__list_splice(void **state)
{
	sbx_templates *t = repo_templates();
	sbx_policy *p = repo_policy();
	sbx_spec *s = repo_spec("alice", p);
	cJSON *objs = render_ok(t, p, s, NULL);
	const cJSON *ports = dig(container(objs), "ports", NULL);
	const cJSON *env = dig(container(objs), "env", NULL);

	(void)state;
	assert_int_equal(cJSON_GetArraySize(ports), 2);
	assert_string_equal(dig(ports, "#0", "name", NULL)->valuestring, "ssh");
	assert_int_equal(dig(ports, "#0", "containerPort", NULL)->valueint, 2222);
	assert_string_equal(dig(ports, "#1", "name", NULL)->valuestring, "p3000");
	assert_true(cJSON_IsNumber(dig(ports, "#1", "containerPort", NULL)));
	assert_int_equal(dig(ports, "#1", "containerPort", NULL)->valueint, 3000);
	assert_string_equal(dig(ports, "#1", "protocol", NULL)->valuestring, "TCP");
	assert_int_equal(cJSON_GetArraySize(env), 2);
	assert_string_equal(dig(env, "#0", "name", NULL)->valuestring, "SANDBOX_NAME");
	assert_string_equal(dig(env, "#0", "value", NULL)->valuestring, "alice");
	assert_string_equal(dig(env, "#1", "name", NULL)->valuestring, "EDITOR");
	assert_string_equal(dig(env, "#1", "value", NULL)->valuestring, "vim");
	cJSON_Delete(objs);
	sbx_spec_free(s);

	/* bob: no ports (an empty splice), a number-looking env value stays a string */
	s = repo_spec("bob", p);
	objs = render_ok(t, p, s, NULL);
	ports = dig(container(objs), "ports", NULL);
	env = dig(container(objs), "env", NULL);
	assert_int_equal(cJSON_GetArraySize(ports), 1);
	assert_int_equal(cJSON_GetArraySize(env), 3);
	assert_string_equal(dig(env, "#2", "name", NULL)->valuestring, "PGPORT");
	assert_true(cJSON_IsString(dig(env, "#2", "value", NULL)));
	assert_string_equal(dig(env, "#2", "value", NULL)->valuestring, "5433");
	/* bob's own figures: medium with 6Gi memory */
	assert_string_equal(dig(container(objs), "resources", "limits", "memory", NULL)->valuestring,
			    "6Gi");
	assert_string_equal(dig(container(objs), "resources", "limits", "cpu", NULL)->valuestring,
			    "2");
	cJSON_Delete(objs);
	sbx_spec_free(s);
	sbx_policy_free(p);
	sbx_templates_free(t);
}

static void test_render__carol_override_quota(void **state)
{
	sbx_templates *t = repo_templates();
	sbx_policy *p = repo_policy();
	sbx_spec *s = repo_spec("carol", p);
	cJSON *objs = render_ok(t, p, s, NULL);
	const cJSON *hard = dig(find_kind(objs, "ResourceQuota"), "spec", "hard", NULL);

	(void)state;
	assert_string_equal(dig(hard, "requests.cpu", NULL)->valuestring, "16");
	assert_string_equal(dig(hard, "limits.memory", NULL)->valuestring, "64Gi");
	assert_string_equal(dig(hard, "requests.storage", NULL)->valuestring, "100Gi");
	assert_string_equal(dig(container(objs), "resources", "requests", "cpu", NULL)->valuestring,
			    "12");
	assert_string_equal(dig(container(objs), "image", NULL)->valuestring,
			    "registry.example.com/devbox:2026.11-cuda");
	cJSON_Delete(objs);
	sbx_spec_free(s);
	sbx_policy_free(p);
	sbx_templates_free(t);
}

static void test_render__injection_stays_a_value(void **state)
{
	static const char evil_env[] = "x\n---\nkind: Secret\nmetadata:\n  name: stolen\nx: y";
	sbx_templates *t = repo_templates();
	sbx_policy *p = repo_policy();
	sbx_spec *s = alice_with("\"x: y\"", "  env:\n    EVIL: \"x\\n---\\nkind: Secret\\n"
				 "metadata:\\n  name: stolen\\nx: y\"\n    TMPL: \"${namespace}\"\n"
				 "    KV: \"a: b\"\n", p);
	cJSON *objs = render_ok(t, p, s, NULL);
	const cJSON *env = dig(container(objs), "env", NULL);
	const cJSON *subject = dig(find_kind(objs, "RoleBinding"), "subjects", "#0", NULL);
	const cJSON *o;

	(void)state;
	assert_string_equal(s->owner, "x: y");
	assert_int_equal(cJSON_GetArraySize(objs), 9);
	assert_int_equal(count_kind(objs, "Secret"), 1);
	cJSON_ArrayForEach(o, objs)
		assert_string_not_equal(dig(o, "metadata", "name", NULL)->valuestring, "stolen");
	/* the owner is one string value; the subject gains no key */
	assert_true(cJSON_IsString(dig(subject, "name", NULL)));
	assert_string_equal(dig(subject, "name", NULL)->valuestring, "x: y");
	assert_int_equal(cJSON_GetArraySize(subject), 3);
	assert_null(cJSON_GetObjectItemCaseSensitive(subject, "x"));
	/* env values: exact strings, placeholders in them are not expanded */
	assert_int_equal(cJSON_GetArraySize(env), 4);
	assert_string_equal(dig(env, "#1", "name", NULL)->valuestring, "EVIL");
	assert_string_equal(dig(env, "#1", "value", NULL)->valuestring, evil_env);
	assert_int_equal(cJSON_GetArraySize(dig(env, "#1", NULL)), 2);
	assert_string_equal(dig(env, "#2", "value", NULL)->valuestring, "${namespace}");
	assert_string_equal(dig(env, "#3", "value", NULL)->valuestring, "a: b");
	cJSON_Delete(objs);
	sbx_spec_free(s);

	/* an owner written as a placeholder is not expanded either */
	s = alice_with("\"${namespace}\"", "", p);
	objs = render_ok(t, p, s, NULL);
	assert_string_equal(dig(find_kind(objs, "RoleBinding"), "subjects", "#0", "name", NULL)
			    ->valuestring, "${namespace}");
	cJSON_Delete(objs);
	sbx_spec_free(s);
	sbx_policy_free(p);
	sbx_templates_free(t);
}

static void test_render__injection_survives_yaml_output(void **state)
{
	static const char evil_env[] = "x\n---\nkind: Secret\nmetadata:\n  name: stolen\nx: y";
	sbx_templates *t = repo_templates();
	sbx_policy *p = repo_policy();
	sbx_spec *s = alice_with("\"x: y\"", "  env:\n    EVIL: \"x\\n---\\nkind: Secret\\n"
				 "metadata:\\n  name: stolen\\nx: y\"\n", p);
	cJSON *objs = render_ok(t, p, s, NULL);
	sbx_buf yaml = SBX_BUF_INIT;
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_ynode *root = NULL;
	const sbx_ynode *env, *subjects;

	(void)state;
	assert_int_equal(sbx_render_yaml(&yaml, find_kind(objs, "Deployment")), 0);
	assert_int_equal(sbx_yaml_load(&root, "out.yaml", yaml.ptr, yaml.len, &d), 0);
	assert_int_equal(d.count, 0);
	env = sbx_ynode_get(sbx_ynode_get(sbx_ynode_get(sbx_ynode_get(root, "spec"), "template"),
					  "spec"), "containers");
	env = sbx_ynode_get(env->items[0], "env");
	assert_int_equal(env->count, 2);
	assert_int_equal(env->items[1]->count, 2);
	assert_string_equal(sbx_ynode_get(env->items[1], "value")->value, evil_env);
	assert_int_equal(sbx_ynode_type(sbx_ynode_get(env->items[1], "value")), SBX_YTYPE_STR);
	sbx_ynode_free(root);
	root = NULL;

	sbx_buf_clear(&yaml);
	assert_int_equal(sbx_render_yaml(&yaml, find_kind(objs, "RoleBinding")), 0);
	assert_int_equal(sbx_yaml_load(&root, "out.yaml", yaml.ptr, yaml.len, &d), 0);
	subjects = sbx_ynode_get(root, "subjects");
	assert_int_equal(subjects->count, 1);
	assert_int_equal(subjects->items[0]->count, 3);
	assert_string_equal(sbx_ynode_get(subjects->items[0], "name")->value, "x: y");
	sbx_ynode_free(root);
	sbx_buf_dispose(&yaml);
	cJSON_Delete(objs);
	sbx_spec_free(s);
	sbx_policy_free(p);
	sbx_templates_free(t);
}

static void test_render__other_namespace_refused(void **state)
{
	static const char other[] =
		"# a ConfigMap that tries to land elsewhere\n"
		"apiVersion: v1\n"
		"kind: ConfigMap\n"
		"metadata:\n"
		"  name: motd\n"
		"  namespace: kube-system\n"
		"data:\n"
		"  motd: hello\n";
	static const char own[] =
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: motd\n  namespace: ${namespace}\n"
		"data:\n  motd: hello\n";
	sbx_file f = { "templates/configmap.yaml", other, sizeof(other) - 1 };
	sbx_templates *t = load_templates(&f, 1);
	sbx_policy *p = repo_policy();
	sbx_spec *s = repo_spec("alice", p);
	sbx_diags d = SBX_DIAGS_INIT;
	cJSON *objs = (cJSON *)&d;

	(void)state;
	assert_int_equal(sbx_render(&objs, t, p, s, NULL, &d), SBX_EINVAL);
	assert_ptr_equal(objs, (cJSON *)&d);
	assert_int_equal(d.count, 1);
	assert_string_equal(d.items[0].path, "templates/configmap.yaml");
	assert_string_equal(d.items[0].message, "the template renders into namespace 'kube-system', "
			    "not the sandbox's namespace 'sbx-alice'");
	assert_int_equal(d.items[0].line, 2);
	sbx_diags_dispose(&d);
	sbx_templates_free(t);

	/* naming its own namespace is fine */
	f.data = own;
	f.len = sizeof(own) - 1;
	t = load_templates(&f, 1);
	objs = render_ok(t, p, s, NULL);
	assert_string_equal(dig(objs, "#0", "metadata", "namespace", NULL)->valuestring, "sbx-alice");
	assert_string_equal(dig(objs, "#0", "data", "motd", NULL)->valuestring, "hello");
	cJSON_Delete(objs);
	sbx_templates_free(t);
	sbx_spec_free(s);
	sbx_policy_free(p);
}

static void test_render__cluster_scoped_refused_at_load(void **state)
{
	static const char text[] =
		"apiVersion: rbac.authorization.k8s.io/v1\n"
		"kind: ClusterRole\n"
		"metadata:\n"
		"  name: everything\n"
		"rules: []\n";
	sbx_file f = { "templates/clusterrole.yaml", text, sizeof(text) - 1 };
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_templates *t = NULL;

	(void)state;
	assert_int_equal(sbx_templates_load(&t, &f, 1, &d), SBX_EINVAL);
	assert_null(t);
	assert_int_equal(d.count, 1);
	assert_string_equal(d.items[0].path, "templates/clusterrole.yaml");
	assert_string_equal(d.items[0].message, "kind 'ClusterRole' is cluster-scoped; templates may "
			    "render only namespaced kinds and the Namespace");
	assert_int_equal(d.items[0].line, 2);
	assert_int_equal(d.items[0].col, 7);
	sbx_diags_dispose(&d);
}

static void test_render__unknown_kind_refused(void **state)
{
	static const char text[] =
		"apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: miner\n";
	sbx_file f = { "templates/cronjob.yaml", text, sizeof(text) - 1 };
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_templates *t = NULL;

	(void)state;
	assert_int_equal(sbx_templates_load(&t, &f, 1, &d), SBX_EINVAL);
	assert_int_equal(d.count, 1);
	assert_string_equal(d.items[0].message, "kind 'CronJob' (apiVersion 'batch/v1') is not one "
			    "sandbox renders");
	sbx_diags_dispose(&d);
}

static void test_render__unknown_variable_hint(void **state)
{
	static const char text[] =
		"apiVersion: v1\n"
		"kind: ConfigMap\n"
		"metadata:\n"
		"  name: motd\n"
		"data:\n"
		"  motd: Welcome ${nmae}\n"
		"  other: ${zzzzzz}\n";
	sbx_file f = { "templates/configmap.yaml", text, sizeof(text) - 1 };
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_templates *t = NULL;

	(void)state;
	assert_int_equal(sbx_templates_load(&t, &f, 1, &d), SBX_EINVAL);
	assert_null(t);
	assert_int_equal(d.count, 2);
	assert_string_equal(d.items[0].message, "unknown variable 'nmae' (did you mean 'name'?)");
	assert_int_equal(d.items[0].line, 6);
	assert_int_equal(d.items[0].col, 9);
	assert_string_equal(d.items[1].message, "unknown variable 'zzzzzz'");
	assert_int_equal(d.items[1].line, 7);
	sbx_diags_dispose(&d);
}

static void test_render__placeholder_rules(void **state)
{
	static const char text[] =
		"apiVersion: v1\n"
		"kind: ConfigMap\n"
		"metadata:\n"
		"  name: motd\n"
		"data:\n"
		"  a: \"ports: ${ports}\"\n"
		"  b: ${name|upper}\n"
		"  c: ${name\n";
	sbx_file f = { "templates/configmap.yaml", text, sizeof(text) - 1 };
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_templates *t = NULL;

	(void)state;
	assert_int_equal(sbx_templates_load(&t, &f, 1, &d), SBX_EINVAL);
	assert_int_equal(d.count, 3);
	assert_string_equal(d.items[0].message, "list variable 'ports' must stand alone in its value");
	assert_string_equal(d.items[1].message, "unknown filter 'upper' (the only filter is 'base64')");
	assert_string_equal(d.items[2].message, "unterminated placeholder '${name'");
	sbx_diags_dispose(&d);
}

static void test_render__text_substitution_and_escape(void **state)
{
	static const char text[] =
		"apiVersion: v1\n"
		"kind: ConfigMap\n"
		"metadata:\n"
		"  name: motd\n"
		"data:\n"
		"  greeting: Hello ${name}, you are in ${namespace}\n"
		"  literal: \"$${name} stays\"\n"
		"  number: \"n=${replicas}\"\n"
		"  keys: ${sshKeys}\n";
	sbx_file f = { "templates/configmap.yaml", text, sizeof(text) - 1 };
	sbx_templates *t = load_templates(&f, 1);
	sbx_policy *p = repo_policy();
	sbx_spec *s = repo_spec("alice", p);
	cJSON *objs = render_ok(t, p, s, NULL);
	const cJSON *data = dig(objs, "#0", "data", NULL);

	(void)state;
	assert_string_equal(dig(data, "greeting", NULL)->valuestring,
			    "Hello alice, you are in sbx-alice");
	assert_string_equal(dig(data, "literal", NULL)->valuestring, "${name} stays");
	assert_string_equal(dig(data, "number", NULL)->valuestring, "n=1");
	assert_true(cJSON_IsArray(dig(data, "keys", NULL)));
	assert_string_equal(dig(data, "keys", "#0", NULL)->valuestring, ALICE_KEY);
	cJSON_Delete(objs);
	sbx_spec_free(s);
	sbx_policy_free(p);
	sbx_templates_free(t);
}

static void test_render__namespace_must_be_sandbox_namespace(void **state)
{
	static const char text[] =
		"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shared\n";
	sbx_file f = { "templates/namespace.yaml", text, sizeof(text) - 1 };
	sbx_templates *t = load_templates(&f, 1);
	sbx_policy *p = repo_policy();
	sbx_spec *s = repo_spec("alice", p);
	sbx_diags d = SBX_DIAGS_INIT;
	cJSON *objs = NULL;

	(void)state;
	assert_int_equal(sbx_render(&objs, t, p, s, NULL, &d), SBX_EINVAL);
	assert_null(objs);
	assert_int_equal(d.count, 1);
	assert_string_equal(d.items[0].message,
			    "the Namespace must be named 'sbx-alice' (use ${namespace})");
	sbx_diags_dispose(&d);
	sbx_spec_free(s);
	sbx_policy_free(p);
	sbx_templates_free(t);
}

/* The activity Lease of idle suspension is the controller's: templates
 * render no Lease (its rights on Leases stop at that one name). */
static void test_render__lease_refused(void **state)
{
	static const char text[] =
		"apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: anything\n";
	sbx_file f = { "templates/lease.yaml", text, sizeof(text) - 1 };
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_templates *t = NULL;

	(void)state;
	assert_int_equal(sbx_templates_load(&t, &f, 1, &d), SBX_EINVAL);
	assert_int_equal(d.count, 1);
	assert_string_equal(d.items[0].message, "kind 'Lease' is the controller's own (the activity "
			    "Lease of idle suspension); templates may not render it");
	sbx_diags_dispose(&d);
}

static void test_render__over_cap_is_an_error(void **state)
{
	sbx_templates *t = repo_templates();
	sbx_policy *p = repo_policy();
	sbx_spec *s = alice_with("alice@example.com", "  resources: {memory: 64Gi}\n", NULL);
	sbx_diags d = SBX_DIAGS_INIT;
	cJSON *objs = NULL;

	(void)state;
	assert_int_equal(sbx_render(&objs, t, p, s, NULL, &d), SBX_EINVAL);
	assert_null(objs);
	assert_int_equal(d.count, 1);
	assert_string_equal(d.items[0].message, "sandbox 'alice' asks for memory 64Gi, above its cap "
			    "of 32Gi (spec.limits.memory in the policy); ask the SRE team for an "
			    "override");
	sbx_diags_dispose(&d);
	sbx_spec_free(s);
	sbx_policy_free(p);
	sbx_templates_free(t);
}

static void test_render__yaml_quotes_ambiguous_strings(void **state)
{
	cJSON *obj = cJSON_CreateObject();
	sbx_buf out = SBX_BUF_INIT;
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_ynode *root = NULL;
	static const char *const strings[] = { "2", "true", "False", "null", "~", "", "1.5", "0x1f",
		"0o17", ".inf", "-3", "1e3" };
	char key[8];

	(void)state;
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		snprintf(key, sizeof(key), "s%zu", i);
		cJSON_AddStringToObject(obj, key, strings[i]);
	}
	cJSON_AddStringToObject(obj, "plain", "hello");
	cJSON_AddStringToObject(obj, "quantity", "2Gi");
	cJSON_AddNumberToObject(obj, "num", 2);
	cJSON_AddNumberToObject(obj, "frac", 0.5);
	cJSON_AddBoolToObject(obj, "yes", 1);
	cJSON_AddNullToObject(obj, "nothing");
	cJSON_AddStringToObject(obj, "1", "key looks like a number");
	cJSON_AddStringToObject(obj, "multi", "line one\nline two\n");
	cJSON_AddItemToObject(obj, "list", cJSON_CreateArray());
	cJSON_AddItemToArray(cJSON_GetObjectItem(obj, "list"), cJSON_CreateString("3"));
	cJSON_AddItemToArray(cJSON_GetObjectItem(obj, "list"), cJSON_CreateNumber(3));

	assert_int_equal(sbx_render_yaml(&out, obj), 0);
	assert_non_null(strstr(sbx_buf_cstr(&out), "s0: \"2\"\n"));
	assert_non_null(strstr(sbx_buf_cstr(&out), "s1: \"true\"\n"));
	assert_non_null(strstr(sbx_buf_cstr(&out), "plain: hello\n"));
	assert_non_null(strstr(sbx_buf_cstr(&out), "quantity: 2Gi\n"));
	assert_non_null(strstr(sbx_buf_cstr(&out), "num: 2\n"));
	assert_non_null(strstr(sbx_buf_cstr(&out), "\"yes\": true\n"));
	assert_non_null(strstr(sbx_buf_cstr(&out), "\"1\": key looks like a number\n"));
	assert_null(strstr(sbx_buf_cstr(&out), "---"));

	/* round trip: every value comes back with its type */
	assert_int_equal(sbx_yaml_load(&root, "out.yaml", out.ptr, out.len, &d), 0);
	assert_int_equal(d.count, 0);
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		const sbx_ynode *n;

		snprintf(key, sizeof(key), "s%zu", i);
		n = sbx_ynode_get(root, key);
		assert_non_null(n);
		assert_int_equal(sbx_ynode_type(n), SBX_YTYPE_STR);
		assert_string_equal(n->value, strings[i]);
	}
	assert_int_equal(sbx_ynode_type(sbx_ynode_get(root, "plain")), SBX_YTYPE_STR);
	assert_int_equal(sbx_ynode_type(sbx_ynode_get(root, "num")), SBX_YTYPE_INT);
	assert_int_equal(sbx_ynode_type(sbx_ynode_get(root, "frac")), SBX_YTYPE_FLOAT);
	assert_int_equal(sbx_ynode_type(sbx_ynode_get(root, "yes")), SBX_YTYPE_BOOL);
	assert_int_equal(sbx_ynode_type(sbx_ynode_get(root, "nothing")), SBX_YTYPE_NULL);
	assert_string_equal(sbx_ynode_get(root, "1")->value, "key looks like a number");
	assert_string_equal(sbx_ynode_get(root, "multi")->value, "line one\nline two\n");
	assert_int_equal(sbx_ynode_type(sbx_ynode_get(root, "list")->items[0]), SBX_YTYPE_STR);
	assert_int_equal(sbx_ynode_type(sbx_ynode_get(root, "list")->items[1]), SBX_YTYPE_INT);
	assert_int_equal(root->count, cJSON_GetArraySize(obj));
	sbx_ynode_free(root);
	sbx_buf_dispose(&out);
	cJSON_Delete(obj);
}

static void test_render__yaml_quotes_yaml11_booleans(void **state)
{
	/* kubectl reads YAML 1.1, where these plain words are booleans */
	static const char *const words[] = { "yes", "No", "on", "OFF", "y", "N" };
	cJSON *obj = cJSON_CreateObject();
	sbx_buf out = SBX_BUF_INIT, want = SBX_BUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		cJSON_AddStringToObject(obj, words[i], words[i]);
	cJSON_AddStringToObject(obj, "yesterday", "only");
	assert_int_equal(sbx_render_yaml(&out, obj), 0);
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		sbx_buf_printf(&want, "\"%s\": \"%s\"\n", words[i], words[i]);
	sbx_buf_puts(&want, "yesterday: only\n");
	assert_string_equal(sbx_buf_cstr(&out), sbx_buf_cstr(&want));
	sbx_buf_dispose(&out);
	sbx_buf_dispose(&want);
	cJSON_Delete(obj);
}

static void test_render__yaml_round_trips_every_object(void **state)
{
	sbx_templates *t = repo_templates();
	sbx_policy *p = repo_policy();
	sbx_spec *s = repo_spec("bob", p);
	cJSON *objs = render_ok(t, p, s, NULL);
	const cJSON *o;

	(void)state;
	cJSON_ArrayForEach(o, objs) {
		sbx_buf out = SBX_BUF_INIT;
		sbx_diags d = SBX_DIAGS_INIT;
		sbx_ynode *root = NULL;
		const sbx_ynode *meta;

		assert_int_equal(sbx_render_yaml(&out, o), 0);
		if (sbx_yaml_load(&root, "out.yaml", out.ptr, out.len, &d) != 0)
			test_fail_with_diags(sbx_buf_cstr(&out), -1, &d);
		assert_string_equal(sbx_ynode_get(root, "kind")->value,
				    cJSON_GetObjectItem(o, "kind")->valuestring);
		meta = sbx_ynode_get(root, "metadata");
		assert_string_equal(sbx_ynode_get(sbx_ynode_get(meta, "labels"), SBX_LABEL_NAME)->value,
				    "bob");
		assert_int_equal(root->count, cJSON_GetArraySize(o));
		sbx_ynode_free(root);
		sbx_buf_dispose(&out);
	}
	cJSON_Delete(objs);
	sbx_spec_free(s);
	sbx_policy_free(p);
	sbx_templates_free(t);
}

static void test_render__yaml_escapes_what_yaml_cannot_carry(void **state)
{
	/* libyaml reads NEL, LS and PS as line breaks and refuses C1 controls,
	 * a byte order mark and U+FFFE; each must come back as it went out */
	static const struct { const char *value, *written; } rows[] = {
		{ "one\xc2\x85two", "\"one\\Ntwo\"" },
		{ "a\xe2\x80\xa8" "b\xe2\x80\xa9" "c", "\"a\\Lb\\Pc\"" },
		{ "\xc2\x80x\xc2\x9f", "\"\\x80x\\x9f\"" },
		{ "\xef\xbb\xbf" "bom", "\"\\uFEFFbom\"" },
		{ "\xef\xbf\xbe\xef\xbf\xbf", "\"\\uFFFE\\uFFFF\"" },
		{ "caf\xc3\xa9 \xc2\xa0nbsp", "caf\xc3\xa9 \xc2\xa0nbsp" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cJSON *obj = cJSON_CreateObject();
		sbx_buf out = SBX_BUF_INIT, want = SBX_BUF_INIT;
		sbx_diags d = SBX_DIAGS_INIT;
		sbx_ynode *root = NULL;

		cJSON_AddStringToObject(obj, "v", rows[i].value);
		assert_int_equal(sbx_render_yaml(&out, obj), 0);
		sbx_buf_printf(&want, "v: %s\n", rows[i].written);
		assert_string_equal(sbx_buf_cstr(&out), sbx_buf_cstr(&want));
		if (sbx_yaml_load(&root, "out.yaml", out.ptr, out.len, &d) != 0)
			test_fail_with_diags(sbx_buf_cstr(&out), -1, &d);
		assert_string_equal(sbx_ynode_get(root, "v")->value, rows[i].value);
		sbx_ynode_free(root);
		sbx_buf_dispose(&out);
		sbx_buf_dispose(&want);
		cJSON_Delete(obj);
	}
}

static void test_render__yaml_numbers_beyond_long_long(void **state)
{
	cJSON *obj = cJSON_CreateObject();
	sbx_buf out = SBX_BUF_INIT;

	(void)state;
	cJSON_AddNumberToObject(obj, "big", 1e20);
	cJSON_AddNumberToObject(obj, "huge", -1e300);
	cJSON_AddNumberToObject(obj, "max", 9007199254740992.0);
	assert_int_equal(sbx_render_yaml(&out, obj), 0);
	assert_string_equal(sbx_buf_cstr(&out), "big: 1e+20\nhuge: -1.0000000000000001e+300\n"
			    "max: 9007199254740992\n");
	sbx_buf_dispose(&out);
	cJSON_Delete(obj);
}

static void test_render__numbers_json_cannot_carry_refused(void **state)
{
	static const char text[] =
		"apiVersion: v1\n"
		"kind: ConfigMap\n"
		"metadata:\n"
		"  name: motd\n"
		"data:\n"
		"  a: .inf\n"
		"  b: 1e999\n"
		"  c: .nan\n"
		"  d: \".inf\"\n"
		"  e: 1e300\n";
	sbx_file f = { "templates/configmap.yaml", text, sizeof(text) - 1 };
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_templates *t = NULL;

	(void)state;
	assert_int_equal(sbx_templates_load(&t, &f, 1, &d), SBX_EINVAL);
	assert_int_equal(d.count, 3);
	assert_string_equal(d.items[0].message, "'.inf' is a number JSON cannot carry (no infinity, "
			    "NaN or beyond 1.8e308); quote it to keep it as text");
	assert_int_equal(d.items[0].line, 6);
	assert_int_equal(d.items[1].line, 7);
	assert_int_equal(d.items[2].line, 8);
	sbx_diags_dispose(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render__repository_templates_load),
		cmocka_unit_test(test_render__alice_objects_in_order),
		cmocka_unit_test(test_render__metadata_on_every_object),
		cmocka_unit_test(test_render__instance_in_tracking_id),
		cmocka_unit_test(test_render__typed_values),
		cmocka_unit_test(test_render__suspended_replicas_zero),
		cmocka_unit_test(test_render__desired_activity_lease),
		cmocka_unit_test(test_render__authorized_keys_base64),
		cmocka_unit_test(test_render__list_splice),
		cmocka_unit_test(test_render__carol_override_quota),
		cmocka_unit_test(test_render__injection_stays_a_value),
		cmocka_unit_test(test_render__injection_survives_yaml_output),
		cmocka_unit_test(test_render__other_namespace_refused),
		cmocka_unit_test(test_render__cluster_scoped_refused_at_load),
		cmocka_unit_test(test_render__unknown_kind_refused),
		cmocka_unit_test(test_render__unknown_variable_hint),
		cmocka_unit_test(test_render__placeholder_rules),
		cmocka_unit_test(test_render__text_substitution_and_escape),
		cmocka_unit_test(test_render__namespace_must_be_sandbox_namespace),
		cmocka_unit_test(test_render__lease_refused),
		cmocka_unit_test(test_render__over_cap_is_an_error),
		cmocka_unit_test(test_render__yaml_quotes_ambiguous_strings),
		cmocka_unit_test(test_render__yaml_quotes_yaml11_booleans),
		cmocka_unit_test(test_render__yaml_round_trips_every_object),
		cmocka_unit_test(test_render__yaml_escapes_what_yaml_cannot_carry),
		cmocka_unit_test(test_render__yaml_numbers_beyond_long_long),
		cmocka_unit_test(test_render__numbers_json_cannot_carry_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
