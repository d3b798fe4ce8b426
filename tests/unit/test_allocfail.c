// SPDX-License-Identifier: Apache-2.0
/*
 * Allocation failure, curl's torture style: the YAML loader and the
 * format-keeping editor run once with the n-th allocation failing, for
 * every n of a run without failures. Each run must end with out of memory
 * reported (SBX_ENOMEM, or diags marked oom) or with the normal answer:
 * never a crash, never a wrong success, and (under the sanitizer build)
 * never a leak. malloc, calloc, realloc, strdup and strndup of our own code
 * are wrapped at link time, and cJSON allocates through the same hooks.
 * Loading this repository's own example and rendering every sandbox in
 * it must also give, byte for byte, the YAML of a run without failures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "error.h"
#include "kinds.h"
#include "kube-private.h"
#include "kubeconfig.h"
#include "portforward-private.h"
#include "render.h"
#include "repo.h"
#include "yamledit.h"
#include "yamlfile.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static long fail_at = -1; /* the allocation that fails (-1: none) */
static long allocations;  /* made since the run began */

static int fails(void)
{
	return allocations++ == fail_at;
}

void *__wrap_malloc(size_t n) { return fails() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t size) { return fails() ? NULL : __real_calloc(n, size); }
void *__wrap_realloc(void *p, size_t n) { return fails() ? NULL : __real_realloc(p, n); }
char *__wrap_strdup(const char *s) { return fails() ? NULL : __real_strdup(s); }
char *__wrap_strndup(const char *s, size_t n) { return fails() ? NULL : __real_strndup(s, n); }

static void *cjson_malloc(size_t n) { return __wrap_malloc(n); }

/* Each case: one run of the code under test; 0 done as without failures,
 * 1 out of memory reported. A wrong answer fails the test. */
typedef int (*run_fn)(void);

static const char *const doc_text =
	"# a sandbox\napiVersion: sandbox.dev/v1alpha1\nkind: Sandbox\nmetadata:\n"
	"  name: alice  # me\nspec:\n  owner: alice@example.com\n  size: small\n"
	"  ports: [{port: 8080, name: web}]\n  env: {A: \"1\", B: 'two'}\n";

static int run_yaml_load(void)
{
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_ynode *root = NULL;
	int r = sbx_yaml_load(&root, "sandboxes/alice.yaml", doc_text, strlen(doc_text), &d);
	int oom = r == SBX_ENOMEM || d.oom;

	if (!oom && (r != 0 || !root))
		fail_msg("allocation %ld: the document did not load (%d)", fail_at, r);
	sbx_ynode_free(root);
	sbx_diags_dispose(&d);
	return oom;
}

static int run_yaml_edit(void)
{
	static const char *const set[] = { "spec", "resources", "cpu" };
	static const char *const del[] = { "spec", "env" };
	sbx_buf doc = SBX_BUF_INIT;
	int r, oom = 0;

	sbx_buf_init(&doc, 1 << 20);
	sbx_buf_puts(&doc, doc_text);
	r = doc.failed ? SBX_ENOMEM : sbx_yaml_edit_set(&doc, set, 3, "4");
	if (r == 0)
		r = sbx_yaml_edit_remove(&doc, del, 2);
	if (r == SBX_ENOMEM)
		oom = 1;
	else if (r != 0 || !strstr(sbx_buf_cstr(&doc), "cpu: \"4\"") || strstr(sbx_buf_cstr(&doc), "env:"))
		fail_msg("allocation %ld: the edits went wrong (%d): %s", fail_at, r, sbx_buf_cstr(&doc));
	sbx_buf_dispose(&doc);
	return oom;
}

/* The example repository loaded and every sandbox rendered, as YAML; the
 * first run (no failures) keeps its text, and every later success must
 * match it. */
static int run_repo_render(void)
{
	static char *baseline;
	const char *root = getenv("SBX_SOURCE_ROOT");
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_buf out = SBX_BUF_INIT;
	sbx_repo *repo = NULL;
	int r, oom = 0;

	assert_non_null(root);
	r = sbx_repo_load_dir(&repo, root, &d);
	for (size_t i = 0; r == 0 && i < repo->nspecs; i++) {
		cJSON *objs = NULL;

		r = sbx_render(&objs, repo->templates, repo->policy, repo->specs[i], NULL, &d);
		if (r == 0)
			r = sbx_render_yaml_documents(&out, objs);
		cJSON_Delete(objs);
	}
	if (r == 0 && out.failed)
		r = SBX_ENOMEM;
	if (r == SBX_ENOMEM || d.oom)
		oom = 1;
	else if (r != 0)
		fail_msg("allocation %ld: the example did not load or render (%d): %s", fail_at, r,
			 d.count ? d.items[0].message : sbx_error_last());
	else if (!baseline)
		baseline = __real_strdup(sbx_buf_cstr(&out));
	else if (strcmp(baseline, sbx_buf_cstr(&out)) != 0)
		fail_msg("allocation %ld: the rendered YAML differs from a run without failures",
			 fail_at);
	sbx_repo_free(repo);
	sbx_diags_dispose(&d);
	sbx_buf_dispose(&out);
	return oom;
}

/* What a watch handed over, in order: "+NAME," upserted, "-NAME,"
 * removed ("?" for an object without a name or kind). A fixed buffer, so
 * recording allocates nothing. */
static char seen[256];

static void see(char op, const cJSON *obj)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(meta, "name");
	size_t n = strlen(seen);

	snprintf(seen + n, sizeof(seen) - n, "%c%s,", op,
		 cJSON_IsString(name) && cJSON_GetObjectItemCaseSensitive(obj, "kind") ?
		 name->valuestring : "?");
}

static void on_upsert(cJSON *obj, void *payload)
{
	(void)payload;
	see('+', obj);
	cJSON_Delete(obj);
}

static void on_remove(const cJSON *obj, void *payload)
{
	(void)payload;
	see('-', obj);
}

/* A watch's list page, then its stream: every object handed over whole
 * and in order, or the watch starting again from a list (what it does
 * with a line it cannot parse) after handing over a prefix of them. */
static int run_watch(void)
{
	static sbx_kube_config cfg = { .server = "https://127.0.0.1:1" };
	static const char page[] = "{\"kind\":\"ConfigMapList\",\"apiVersion\":\"v1\",\"items\":["
		"{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"90\"}},"
		"{\"metadata\":{\"name\":\"b\",\"resourceVersion\":\"95\"},\"data\":{\"k\":\"v\"}}],"
		"\"metadata\":{\"resourceVersion\":\"100\"}}";
	static const char stream[] =
		"{\"type\":\"ADDED\",\"object\":{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\","
		"\"metadata\":{\"name\":\"c\",\"resourceVersion\":\"101\"}}}\n"
		"{\"type\":\"DELETED\",\"object\":{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\","
		"\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"102\"}}}\n"
		"{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\","
		"\"metadata\":{\"resourceVersion\":\"103\"}}}\n";
	static const char want[] = "+a,+b,+c,-a,";
	sbx_kube_options o = SBX_KUBE_OPTIONS_INIT;
	sbx_kube_watch_handlers h = { NULL, NULL, on_upsert, on_remove };
	sbx_kube_watch *w = NULL;
	sbx_kube_resp resp;
	sbx_kube *k = NULL;
	int r, oom = 0;

	seen[0] = '\0';
	if ((r = sbx_kube_new(&k, &cfg, &o)) < 0 ||
	    (r = sbx_kube_watch_start(&w, k, sbx_kind_lookup("v1", "ConfigMap"), NULL, NULL, &h,
				      NULL)) < 0) {
		if (r != SBX_ENOMEM)
			fail_msg("allocation %ld: the watch did not start (%d)", fail_at, r);
		sbx_kube_free(k);
		return 1;
	}
	memset(&resp, 0, sizeof(resp));
	sbx_kube_read_response(&resp, 200, page, strlen(page));
	sbx_kube_watch_feed_page(w, &resp);
	cJSON_Delete(resp.body);
	if (!sbx_kube_watch_synced(w))
		oom = 1;   /* the list is asked for again */
	else if (sbx_kube_watch_feed(w, stream, strlen(stream)) == 2)
		oom = 1;   /* the watch starts again from a list */
	else if (strcmp(seen, want) != 0 || strcmp(sbx_kube_watch_version(w), "103") != 0)
		fail_msg("allocation %ld: handed over '%s' at version %s", fail_at, seen,
			 sbx_kube_watch_version(w));
	if (oom && strncmp(seen, want, strlen(seen)) != 0)
		fail_msg("allocation %ld: handed over '%s' before starting again", fail_at, seen);
	sbx_kube_watch_stop(w);
	sbx_kube_free(k);
	return oom;
}

/* Port-forward's reader: the upgrade's answer, pings, data split over
 * frames (one of 1,000 bytes, so its buffer grows), fed in pieces; the
 * data whole, or out of memory said as such. */
static int run_portforward(void)
{
	static const char answer[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
		"Sec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n"
		"\x82\x03\x00\xae\x08" "\x89\x02hi" "\x82\x04\x00" "abc" "\x89\x05hello"
		"\x02\x02\x00" "d" "\x80\x01" "e" "\x82\x7e\x03\xe9\x00";
	char in[sizeof(answer) + 1000], out[1024], want[1024];
	sbx_portforward *pf = NULL;
	size_t got = 0;
	int fds[2], r = 0, oom = 0;
	ssize_t n;

	memcpy(in, answer, sizeof(answer) - 1);
	memset(in + sizeof(answer) - 1, 'x', 1000);
	memcpy(want, "abcde", 5);
	memset(want + 5, 'x', 1000);
	want[1005] = '\0';
	assert_int_equal(pipe(fds), 0);
	if ((r = sbx_portforward_offline(&pf)) == 0)
		for (size_t i = 0; i < sizeof(in) && r == 0; i += 7)
			r = sbx_portforward_feed(pf, in + i, sizeof(in) - i < 7 ? sizeof(in) - i : 7,
						 fds[1]);
	close(fds[1]);
	while (got < sizeof(out) - 1 && (n = read(fds[0], out + got, sizeof(out) - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(fds[0]);
	if (r == SBX_ENOMEM)
		oom = 1;
	else if (r != 0 || strcmp(out, want) != 0)
		fail_msg("allocation %ld: %d (%s), %zu bytes of data", fail_at, r, sbx_error_last(), got);
	sbx_portforward_free(pf);
	return oom;
}

/* Two kubeconfig files merged, kubectl's way, and the context of the
 * first used (a tls-server-name, inline data); then one whose user is an
 * exec plugin (arguments and environment): the same server, credentials,
 * names and token as without failures, or out of memory. */
static int run_kubeconfig(void)
{
	static char baseline[1024];
	const char *data = getenv("SBX_TEST_DATA");
	char paths[2048], got[1024];
	size_t n = 0;

	assert_non_null(data);
	for (int i = 0; i < 2; i++) {
		sbx_kubeconfig_options o = SBX_KUBECONFIG_OPTIONS_INIT;
		sbx_kube_config *c = NULL;
		int r;

		if (i == 0)
			snprintf(paths, sizeof(paths), "%s/kubeconfig/inline.yaml:"
				 "%s/kubeconfig/files.yaml", data, data);
		else
			snprintf(paths, sizeof(paths), "%s/kubeconfig/exec.yaml", data);
		o.paths = paths;
		o.allow_exec = true;
		r = sbx_kubeconfig_load(&c, &o);
		if (r == SBX_ENOMEM)
			return 1;
		/* cJSON cannot tell a reply it ran out of memory reading from one
		 * that is not JSON: the plugin's reply is then refused as such */
		if (i == 1 && r == SBX_EIO && strstr(sbx_error_last(), "returned no status.token"))
			return 1;
		if (r != 0)
			fail_msg("allocation %ld: %d (%s)", fail_at, r, sbx_error_last());
		n += (size_t)snprintf(got + n, sizeof(got) - n, "%s %s %s %zu %zu %zu %s %s %s|",
				      c->server, c->tls_server_name ? c->tls_server_name : "-",
				      c->context, c->ca_len, c->cert_len, c->key_len, c->namespace,
				      c->source, c->token ? c->token : "-");
		sbx_kube_config_free(c);
	}
	if (!baseline[0])
		memcpy(baseline, got, sizeof(got));
	else if (strcmp(got, baseline) != 0)
		fail_msg("allocation %ld: loaded '%s', not '%s'", fail_at, got, baseline);
	return 0;
}

/* Run `fn` without failures to count its allocations, then once with each
 * of them failing. */
static void torture(run_fn fn)
{
	cJSON_Hooks hooks = { cjson_malloc, free };
	long total;

	cJSON_InitHooks(&hooks);
	fail_at = -1;
	allocations = 0;
	assert_int_equal(fn(), 0);
	total = allocations;
	assert_true(total > 10);
	for (long n = 0; n < total; n++) {
		fail_at = n;
		allocations = 0;
		if (!fn() && allocations <= n)
			fail_msg("allocation %ld of %ld failed, yet the run reported success", n, total);
		sbx_error_clear();
	}
	fail_at = -1;
	cJSON_InitHooks(NULL);
	print_message("%ld allocations, each failed once\n", total);
}

static void test_allocfail__yaml_load(void **state)
{
	(void)state;
	torture(run_yaml_load);
}

static void test_allocfail__yaml_edit(void **state)
{
	(void)state;
	torture(run_yaml_edit);
}

static void test_allocfail__repo_render(void **state)
{
	(void)state;
	torture(run_repo_render);
}

static void test_allocfail__watch(void **state)
{
	(void)state;
	torture(run_watch);
}

static void test_allocfail__portforward(void **state)
{
	(void)state;
	torture(run_portforward);
}

static void test_allocfail__kubeconfig(void **state)
{
	(void)state;
	torture(run_kubeconfig);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allocfail__yaml_load),
		cmocka_unit_test(test_allocfail__yaml_edit),
		cmocka_unit_test(test_allocfail__repo_render),
		cmocka_unit_test(test_allocfail__watch),
		cmocka_unit_test(test_allocfail__portforward),
		cmocka_unit_test(test_allocfail__kubeconfig),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
