// SPDX-License-Identifier: Apache-2.0
/*
 * kubeconfig loading: files and inline data, relative paths, merged
 * KUBECONFIG lists (first wins), token files and their rotation, the
 * in-cluster service account, and each kind of bad file with its error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>
#include <cmocka.h>

#include "buf.h"
#include "error.h"
#include "kubeconfig.h"

static char *fixture(const char *name)
{
	const char *d = getenv("SBX_TEST_DATA");
	sbx_buf b = SBX_BUF_INIT;

	sbx_buf_printf(&b, "%s/kubeconfig/%s", d ? d : "tests/data", name);
	return sbx_buf_take(&b, NULL);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	sbx_buf b = SBX_BUF_INIT;
	char chunk[1024];
	size_t n;

	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		sbx_buf_put(&b, chunk, n);
	fclose(f);
	return sbx_buf_take(&b, NULL);
}

static sbx_kube_config *load(const char *paths, const char *context)
{
	sbx_kubeconfig_options o = SBX_KUBECONFIG_OPTIONS_INIT;
	sbx_kube_config *c = NULL;

	o.paths = paths;
	o.context = context;
	sbx_error_clear();
	if (sbx_kubeconfig_load(&c, &o) < 0)
		fail_msg("load '%s': %s", paths, sbx_error_last());
	return c;
}

static int load_error(const char *name, const char *context, const char *want)
{
	sbx_kubeconfig_options o = SBX_KUBECONFIG_OPTIONS_INIT;
	sbx_kube_config *c = NULL;
	char *path = fixture(name);
	int r;

	o.paths = path;
	o.context = context;
	sbx_error_clear();
	r = sbx_kubeconfig_load(&c, &o);
	assert_true(r < 0);
	assert_null(c);
	if (!strstr(sbx_error_last(), want))
		fail_msg("%s: got '%s', want '%s'", name, sbx_error_last(), want);
	free(path);
	return r;
}

static void test_kubeconfig__files_relative_to_the_kubeconfig(void **state)
{
	char *path = fixture("files.yaml"), *ca = fixture("certs/ca.crt"), *cert = fixture("certs/client.crt");
	char *ca_text = slurp(ca), *cert_text = slurp(cert);
	sbx_kube_config *c = load(path, NULL);

	assert_string_equal(c->server, "https://127.0.0.1:6443");
	assert_string_equal(c->context, "dev");
	assert_string_equal(c->namespace, "team-a");
	assert_int_equal(c->ca_len, strlen(ca_text));
	assert_memory_equal(c->ca, ca_text, c->ca_len);
	assert_memory_equal(c->cert, cert_text, c->cert_len);
	assert_non_null(c->key);
	assert_null(c->token);
	assert_false(c->insecure);
	sbx_kube_config_free(c);
	free(path);
	free(ca);
	free(cert);
	free(ca_text);
	free(cert_text);
}

static void test_kubeconfig__inline_data_equals_files(void **state)
{
	char *a = fixture("files.yaml"), *b = fixture("inline.yaml");
	sbx_kube_config *x = load(a, NULL), *y = load(b, NULL);

	assert_int_equal(x->ca_len, y->ca_len);
	assert_memory_equal(x->ca, y->ca, x->ca_len);
	assert_int_equal(x->cert_len, y->cert_len);
	assert_memory_equal(x->cert, y->cert, x->cert_len);
	assert_int_equal(x->key_len, y->key_len);
	assert_memory_equal(x->key, y->key, x->key_len);
	assert_string_equal(y->namespace, "default");
	assert_null(x->tls_server_name);
	assert_string_equal(y->tls_server_name, "kubernetes.default.svc");
	sbx_kube_config_free(x);
	sbx_kube_config_free(y);
	free(a);
	free(b);
}

static void test_kubeconfig__merged_list_first_wins(void **state)
{
	char *a = fixture("first.yaml"), *b = fixture("second.yaml");
	sbx_buf list = SBX_BUF_INIT;
	sbx_kube_config *c;

	sbx_buf_printf(&list, "%s:%s", a, b);
	c = load(list.ptr, NULL);
	assert_string_equal(c->context, "shared");
	assert_string_equal(c->server, "https://one.example:6443");
	assert_string_equal(c->token, "canary-token-inline");
	sbx_kube_config_free(c);

	/* a context only the second file has; its tokenFile is relative to it */
	c = load(list.ptr, "other");
	assert_string_equal(c->server, "https://two.example:6443");
	assert_string_equal(c->token, "canary-token-from-file");
	assert_string_equal(c->namespace, "ops");
	sbx_kube_config_free(c);

	/* the other order: the second file's current-context now wins */
	sbx_buf_clear(&list);
	sbx_buf_printf(&list, "%s:%s", b, a);
	c = load(list.ptr, NULL);
	assert_string_equal(c->context, "other");
	sbx_kube_config_free(c);
	sbx_buf_dispose(&list);
	free(a);
	free(b);
}

static void test_kubeconfig__kubeconfig_env_and_missing_files(void **state)
{
	char *a = fixture("first.yaml");
	sbx_buf list = SBX_BUF_INIT;
	sbx_kube_config *c;

	/* a missing file in a list is skipped, as kubectl does */
	sbx_buf_printf(&list, "%s:/nonexistent/kubeconfig", a);
	setenv("KUBECONFIG", list.ptr, 1);
	c = load(NULL, NULL);
	assert_string_equal(c->server, "https://one.example:6443");
	sbx_kube_config_free(c);
	unsetenv("KUBECONFIG");
	sbx_buf_dispose(&list);
	free(a);
}

static void test_kubeconfig__context_not_found_lists_contexts(void **state)
{
	assert_int_equal(load_error("first.yaml", "prod", "context 'prod' not found in kubeconfig"),
			 SBX_ENOTFOUND);
	assert_non_null(strstr(sbx_error_last(), "(contexts: shared)"));
}

static void test_kubeconfig__bad_files(void **state)
{
	static const struct { const char *file, *want; } cases[] = {
		{ "bad/no-current-context.yaml", "has no current-context; pass --context" },
		{ "bad/missing-cluster.yaml", "context 'x' names cluster 'nowhere', which is not in" },
		{ "bad/exec-plugin.yaml", "uses an exec credential plugin, which is refused unless explicitly enabled" },
		{ "bad/insecure.yaml", "sets insecure-skip-tls-verify, which is refused unless explicitly enabled" },
		{ "bad/plain-http.yaml", "server 'http://127.0.0.1:8080' must start with https://" },
		{ "bad/basic-auth.yaml", "uses basic authentication, which is not supported" },
		{ "bad/bad-base64.yaml", "certificate-authority-data in kubeconfig" },
		{ "bad/cert-without-key.yaml", "has a client certificate but no client key" },
		{ "bad/missing-file.yaml", "cannot read certificate-authority" },
		{ "bad/syntax-error.yaml", "kubeconfig " },
		{ "bad/does-not-exist.yaml", "cannot read kubeconfig" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		load_error(cases[i].file, NULL, cases[i].want);
		/* no secret ever reaches a message */
		assert_null(strstr(sbx_error_last(), "hunter2"));
	}
}

static void test_kubeconfig__insecure_only_when_allowed(void **state)
{
	sbx_kubeconfig_options o = SBX_KUBECONFIG_OPTIONS_INIT;
	sbx_kube_config *c = NULL;
	char *path = fixture("bad/insecure.yaml");

	o.paths = path;
	o.allow_insecure = true;
	assert_int_equal(sbx_kubeconfig_load(&c, &o), 0);
	assert_true(c->insecure);
	sbx_kube_config_free(c);
	free(path);
}

static void test_kubeconfig__exec_plugin_when_allowed(void **state)
{
	sbx_kubeconfig_options o = SBX_KUBECONFIG_OPTIONS_INIT;
	sbx_kube_config *c = NULL;
	char *path = fixture("exec.yaml");

	o.paths = path;
	assert_int_equal(sbx_kubeconfig_load(&c, &o), SBX_EINVAL);
	assert_non_null(strstr(sbx_error_last(), "refused unless explicitly enabled"));
	o.allow_exec = true;
	sbx_error_clear();
	if (sbx_kubeconfig_load(&c, &o) < 0)
		fail_msg("%s", sbx_error_last());
	assert_string_equal(c->token, "exec-alpha-x");
	assert_true(c->token_expiry > 4000000000);
	/* forced renewal (the server said 401) runs it again */
	free(c->token);
	c->token = strdup("stale");
	assert_int_equal(sbx_kube_config_refresh(c, true), 0);
	assert_string_equal(c->token, "exec-alpha-x");
	sbx_kube_config_free(c);
	o.context = "failing";
	sbx_error_clear();
	assert_true(sbx_kubeconfig_load(&c, &o) < 0);
	assert_non_null(strstr(sbx_error_last(), "exec-credential.sh' failed (exit status 1)"));
	free(path);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_kubeconfig__token_file_rotation(void **state)
{
	char dir[] = "/tmp/sbx-kubeconfig-XXXXXX";
	sbx_buf kc = SBX_BUF_INIT, tok = SBX_BUF_INIT;
	struct utimbuf later;
	sbx_kube_config *c;

	assert_non_null(mkdtemp(dir));
	sbx_buf_printf(&tok, "%s/token", dir);
	sbx_buf_printf(&kc, "%s/config", dir);
	write_file(tok.ptr, "first-token\n");
	write_file(kc.ptr, "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
		   "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
		   "users: [{name: u, user: {tokenFile: token}}]\n"
		   "contexts: [{name: x, context: {cluster: c, user: u}}]\n");
	c = load(kc.ptr, NULL);
	assert_string_equal(c->token, "first-token");
	assert_int_equal(sbx_kube_config_refresh_token(c), 0);
	assert_string_equal(c->token, "first-token");
	write_file(tok.ptr, "second-token\n");
	later.actime = later.modtime = c->token_mtime + 10;
	utime(tok.ptr, &later);
	assert_int_equal(sbx_kube_config_refresh_token(c), 0);
	assert_string_equal(c->token, "second-token");
	/* a token file that disappears keeps the last token */
	remove(tok.ptr);
	assert_true(sbx_kube_config_refresh_token(c) < 0);
	assert_string_equal(c->token, "second-token");
	sbx_kube_config_free(c);
	remove(kc.ptr);
	rmdir(dir);
	sbx_buf_dispose(&kc);
	sbx_buf_dispose(&tok);
}

static void test_kubeconfig__in_cluster(void **state)
{
	char dir[] = "/tmp/sbx-sa-XXXXXX";
	sbx_buf p = SBX_BUF_INIT;
	sbx_kube_config *c = NULL;

	assert_non_null(mkdtemp(dir));
	sbx_buf_printf(&p, "%s/token", dir);
	write_file(p.ptr, "sa-token");
	sbx_buf_clear(&p);
	sbx_buf_printf(&p, "%s/ca.crt", dir);
	write_file(p.ptr, "-----BEGIN CERTIFICATE-----\n");
	sbx_buf_clear(&p);
	sbx_buf_printf(&p, "%s/namespace", dir);
	write_file(p.ptr, "sandbox-system\n");
	unsetenv("KUBERNETES_SERVICE_HOST");
	assert_int_equal(sbx_kubeconfig_in_cluster(&c, dir), SBX_ENOTFOUND);
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	assert_int_equal(sbx_kubeconfig_in_cluster(&c, dir), 0);
	assert_string_equal(c->server, "https://10.96.0.1:443");
	assert_string_equal(c->token, "sa-token");
	assert_string_equal(c->namespace, "sandbox-system");
	assert_string_equal(c->context, "in-cluster");
	sbx_kube_config_free(c);
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	assert_int_equal(sbx_kubeconfig_in_cluster(&c, dir), 0);
	assert_string_equal(c->server, "https://[fd00::1]:443");
	sbx_kube_config_free(c);
	/* no namespace file: "default" */
	sbx_buf_clear(&p);
	sbx_buf_printf(&p, "%s/namespace", dir);
	remove(p.ptr);
	assert_int_equal(sbx_kubeconfig_in_cluster(&c, dir), 0);
	assert_string_equal(c->namespace, "default");
	sbx_kube_config_free(c);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	for (const char *f = "token\0ca.crt\0namespace\0"; *f; f += strlen(f) + 1) {
		sbx_buf_clear(&p);
		sbx_buf_printf(&p, "%s/%s", dir, f);
		remove(p.ptr);
	}
	rmdir(dir);
	sbx_buf_dispose(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kubeconfig__files_relative_to_the_kubeconfig),
		cmocka_unit_test(test_kubeconfig__inline_data_equals_files),
		cmocka_unit_test(test_kubeconfig__merged_list_first_wins),
		cmocka_unit_test(test_kubeconfig__kubeconfig_env_and_missing_files),
		cmocka_unit_test(test_kubeconfig__context_not_found_lists_contexts),
		cmocka_unit_test(test_kubeconfig__bad_files),
		cmocka_unit_test(test_kubeconfig__insecure_only_when_allowed),
		cmocka_unit_test(test_kubeconfig__exec_plugin_when_allowed),
		cmocka_unit_test(test_kubeconfig__token_file_rotation),
		cmocka_unit_test(test_kubeconfig__in_cluster),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
