// SPDX-License-Identifier: Apache-2.0
/*
 * The API client against a FAKE API server (tests/e2e/fake-apiserver.py)
 * for the faults a real one will not produce on demand: 429 storms with
 * Retry-After, persistent 503, 500, field causes, redirects, oversized
 * bodies. Everything else is tested against the real control plane.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "buf.h"
#include "error.h"
#include "kube.h"

static char dir[] = "/tmp/sbx-fake-XXXXXX";
static pid_t server;
static sbx_kube_config cfg;
static sbx_kube *kube;

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	sbx_buf b = SBX_BUF_INIT;
	char chunk[4096];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		sbx_buf_put(&b, chunk, n);
	fclose(f);
	return sbx_buf_take(&b, len);
}

static int setup(void **state)
{
	const char *src = getenv("SBX_SOURCE_ROOT");
	sbx_kube_options o = SBX_KUBE_OPTIONS_INIT;
	sbx_buf cmd = SBX_BUF_INIT, path = SBX_BUF_INIT, url = SBX_BUF_INIT;
	char *port = NULL;

	if (!mkdtemp(dir))
		return -1;
	sbx_buf_printf(&cmd, "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
		       "-addext subjectAltName=IP:127.0.0.1 -keyout %s/key.pem -out %s/cert.pem "
		       ">/dev/null 2>&1", dir, dir);
	if (system(cmd.ptr) != 0)
		return -1;
	server = fork();
	if (server == 0) {
		char script[512], cert[256], key[256], portfile[256];

		snprintf(script, sizeof(script), "%s/tests/e2e/fake-apiserver.py", src ? src : ".");
		snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
		snprintf(key, sizeof(key), "%s/key.pem", dir);
		snprintf(portfile, sizeof(portfile), "%s/port", dir);
		execlp("python3", "python3", script, cert, key, portfile, (char *)NULL);
		_exit(127);
	}
	sbx_buf_clear(&path);
	sbx_buf_printf(&path, "%s/port", dir);
	for (int i = 0; i < 100 && !(port = slurp(path.ptr, NULL)); i++)
		usleep(100000);
	if (!port)
		return -1;
	for (int i = 0; i < 20 && !*port; i++) {
		usleep(100000);
		free(port);
		port = slurp(path.ptr, NULL);
	}
	sbx_buf_clear(&url);
	sbx_buf_printf(&url, "https://127.0.0.1:%s", port);
	free(port);
	cfg.server = sbx_buf_take(&url, NULL);
	sbx_buf_clear(&path);
	sbx_buf_printf(&path, "%s/cert.pem", dir);
	cfg.ca = slurp(path.ptr, &cfg.ca_len);
	o.max_retries = 3;
	o.backoff_base_ms = 20;
	o.max_body = 1 << 20;
	sbx_buf_dispose(&cmd);
	sbx_buf_dispose(&path);
	return sbx_kube_new(&kube, &cfg, &o) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	sbx_buf cmd = SBX_BUF_INIT;

	sbx_kube_free(kube);
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
	}
	free(cfg.server);
	free(cfg.ca);
	sbx_buf_printf(&cmd, "rm -rf '%s'", dir);
	if (system(cmd.ptr) != 0)
		return -1;
	sbx_buf_dispose(&cmd);
	return 0;
}

struct outcome {
	int done;
	sbx_kube_resp resp;
};

static void done(sbx_kube_resp *resp, void *payload)
{
	struct outcome *o = payload;

	o->resp = *resp;
	resp->body = NULL;
	o->done = 1;
}

static struct outcome get(const char *path)
{
	sbx_kube_req q = { "GET", path, NULL, NULL };
	struct outcome o;

	memset(&o, 0, sizeof(o));
	assert_int_equal(sbx_kube_start(kube, &q, done, &o), 0);
	for (int i = 0; i < 600 && !o.done; i++)
		sbx_kube_run(kube, 100);
	assert_true(o.done);
	return o;
}

static void test_kube_faults__retry_after_is_honoured(void **state)
{
	struct timespec a, b;
	struct outcome o;

	clock_gettime(CLOCK_MONOTONIC, &a);
	o = get("/storm/2/a");
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_int_equal(o.resp.err, 0);
	assert_int_equal(o.resp.status, 200);
	assert_int_equal(o.resp.attempts, 3);
	/* two waits of Retry-After: 1 (the backoff alone would be 20-40 ms) */
	assert_true(b.tv_sec - a.tv_sec >= 2 || (b.tv_sec - a.tv_sec == 1 && b.tv_nsec >= a.tv_nsec));
	assert_int_equal(sbx_kube_request_count(kube, "GET", 429), 2);
	cJSON_Delete(o.resp.body);
}

static void test_kube_faults__storm_gives_up_typed(void **state)
{
	struct outcome o = get("/storm/100/b");

	assert_int_equal(o.resp.err, SBX_ETOOMANY);
	assert_int_equal(o.resp.attempts, 4); /* the first try and 3 retries */
	assert_string_equal(o.resp.reason, "TooManyRequests");
	cJSON_Delete(o.resp.body);
}

static void test_kube_faults__unavailable_backs_off(void **state)
{
	struct outcome o = get("/unavailable");

	assert_int_equal(o.resp.err, SBX_ESERVER);
	assert_int_equal(o.resp.attempts, 4);
	assert_string_equal(o.resp.message, "try later");
	cJSON_Delete(o.resp.body);
}

static void test_kube_faults__internal_error_not_retried(void **state)
{
	struct outcome o = get("/internal");

	assert_int_equal(o.resp.err, SBX_ESERVER);
	assert_int_equal(o.resp.attempts, 1);
	cJSON_Delete(o.resp.body);
}

static void test_kube_faults__field_causes_in_message(void **state)
{
	struct outcome o = get("/invalid");

	assert_int_equal(o.resp.err, SBX_EINVALIDOBJ);
	assert_string_equal(o.resp.message, "Deployment.apps \"x\" is invalid; spec.replicas: must be >= 0");
	cJSON_Delete(o.resp.body);
}

static void test_kube_faults__redirect_not_followed(void **state)
{
	struct outcome o = get("/redirect");

	assert_int_equal(o.resp.status, 302);
	assert_int_not_equal(o.resp.err, 0);
	assert_int_equal(sbx_kube_request_count(kube, "GET", 302), 1);
	cJSON_Delete(o.resp.body);
}

static void test_kube_faults__body_over_limit_refused(void **state)
{
	struct outcome o = get("/huge");

	assert_int_equal(o.resp.err, SBX_ETRANSPORT);
	assert_string_equal(o.resp.message, "the response is larger than the client's limit");
	assert_int_equal(o.resp.attempts, 1);
	cJSON_Delete(o.resp.body);
}

static void count_upsert(cJSON *obj, void *payload)
{
	(void)payload;
	cJSON_Delete(obj);
}

/* How often the fake server saw KEY. */
static int hits(const char *key)
{
	sbx_buf path = SBX_BUF_INIT;
	struct outcome o;
	int n;

	sbx_buf_printf(&path, "/count/%s", key);
	o = get(path.ptr);
	assert_int_equal(o.resp.err, 0);
	n = (int)cJSON_GetObjectItem(o.resp.body, "count")->valuedouble;
	cJSON_Delete(o.resp.body);
	sbx_buf_dispose(&path);
	return n;
}

/* Watch streams that end at once with nothing usable (an ERROR event, a
 * line that is not JSON, an empty body) are started again with a growing
 * delay, not in a hot loop: over three seconds a few streams, not
 * thousands. The first restart still comes at once. */
static void test_kube_faults__watch_restarts_back_off(void **state)
{
	static const char *const faults[] = { "error", "garbage", "empty" };
	sbx_kube_watch_handlers h = { NULL, NULL, count_upsert, NULL };
	const sbx_kind *cm = sbx_kind_find("v1", "ConfigMap");

	(void)state;
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		sbx_buf sel = SBX_BUF_INIT, key = SBX_BUF_INIT;
		sbx_kube_watch *w = NULL;
		struct timespec t0, t1;
		int streams;

		sbx_buf_printf(&sel, "fault=%s", faults[i]);
		assert_int_equal(sbx_kube_watch_start(&w, kube, cm, NULL, sel.ptr, &h, NULL), 0);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		do {
			sbx_kube_run(kube, 50);
			clock_gettime(CLOCK_MONOTONIC, &t1);
		} while ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 3000);
		sbx_kube_watch_stop(w);
		sbx_buf_printf(&key, "watch/%s", faults[i]);
		streams = hits(key.ptr);
		/* base delay 20 ms, doubling: about 8 restarts fit in 3 s */
		if (streams < 3 || streams > 15)
			fail_msg("%s: %d watch streams in 3 s", faults[i], streams);
		sbx_buf_dispose(&sel);
		sbx_buf_dispose(&key);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kube_faults__retry_after_is_honoured),
		cmocka_unit_test(test_kube_faults__storm_gives_up_typed),
		cmocka_unit_test(test_kube_faults__unavailable_backs_off),
		cmocka_unit_test(test_kube_faults__internal_error_not_retried),
		cmocka_unit_test(test_kube_faults__field_causes_in_message),
		cmocka_unit_test(test_kube_faults__redirect_not_followed),
		cmocka_unit_test(test_kube_faults__body_over_limit_refused),
		cmocka_unit_test(test_kube_faults__watch_restarts_back_off),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
