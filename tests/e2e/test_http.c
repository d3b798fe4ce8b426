// SPDX-License-Identifier: Apache-2.0
/*
 * The controller's HTTP server on 127.0.0.1 with a free port, driven by a
 * small loop in this process (poll on http_server_fds, http_server_run)
 * while libcurl's multi interface sends real requests: every route, the
 * webhook's signature check, body cap and missing secret.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "error.h"
#include "http.h"

#define SECRET "test webhook secret"
#define METRICS_TEXT "# TYPE sandbox_up gauge\nsandbox_up 1\n"
#define MAX_FDS 16

/* What the handlers saw. */
static struct {
	int webhooks;
	char event[64];
	char ref[256];
	bool ready;
} seen;

static http_server *server;

typedef struct response {
	CURLcode result;
	long status;
	char type[128];
	char allow[64];
	sbx_buf body;
} response;

static void on_metrics(sbx_buf *out, void *payload)
{
	(void)payload;
	sbx_buf_puts(out, METRICS_TEXT);
}

static bool on_healthz(sbx_buf *why, void *payload)
{
	(void)why;
	(void)payload;
	return true;
}

static bool on_readyz(sbx_buf *why, void *payload)
{
	(void)payload;
	if (seen.ready)
		return true;
	sbx_buf_puts(why, "cache not synced: pods\nand a second line that is left out");
	return false;
}

static void on_webhook(const char *event, const char *ref, void *payload)
{
	assert_ptr_equal(payload, &seen);
	seen.webhooks++;
	snprintf(seen.event, sizeof(seen.event), "%s", event);
	snprintf(seen.ref, sizeof(seen.ref), "%s", ref);
}

static const http_handlers handlers = {
	.metrics = on_metrics,
	.healthz = on_healthz,
	.readyz = on_readyz,
	.webhook = on_webhook,
	.payload = &seen,
};

static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
	sbx_buf_put(userdata, data, size * n);
	return size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *userdata)
{
	response *r = userdata;
	size_t len = size * n;

	if (len > 7 && strncasecmp(data, "Allow: ", 7) == 0)
		snprintf(r->allow, sizeof(r->allow), "%.*s", (int)strcspn(data + 7, "\r\n"), data + 7);
	return len;
}

/* A chunked upload of `*left` bytes of 'x' (for the body cap). */
static size_t on_read(char *data, size_t size, size_t n, void *userdata)
{
	size_t *left = userdata, len = size * n < *left ? size * n : *left;

	memset(data, 'x', len);
	*left -= len;
	return len;
}

static long elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* Run the easy handle to completion, serving `s` in the same loop. */
static CURLcode drive(http_server *s, CURL *e)
{
	CURLM *multi = curl_multi_init();
	CURLcode result = CURLE_OPERATION_TIMEDOUT;
	struct timespec start;
	CURLMsg *msg;
	int running = 1, left;

	assert_non_null(multi);
	assert_int_equal(curl_multi_add_handle(multi, e), CURLM_OK);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (running && elapsed_ms(&start) < 20000) {
		struct pollfd fds[MAX_FDS];
		struct curl_waitfd wait[MAX_FDS];
		long timeout = 200;
		size_t n, i;

		assert_int_equal(curl_multi_perform(multi, &running), CURLM_OK);
		if (!running)
			break;
		n = http_server_fds(s, fds, MAX_FDS, &timeout);
		assert_true(n >= 1);
		for (i = 0; i < n; i++) {
			wait[i].fd = fds[i].fd;
			wait[i].events = (short)(((fds[i].events & POLLIN) ? CURL_WAIT_POLLIN : 0) |
						 ((fds[i].events & POLLOUT) ? CURL_WAIT_POLLOUT : 0));
			wait[i].revents = 0;
		}
		assert_true(timeout >= 0 && timeout <= 200);
		assert_int_equal(curl_multi_poll(multi, wait, (unsigned)n, (int)timeout, NULL), CURLM_OK);
		http_server_run(s);
	}
	while ((msg = curl_multi_info_read(multi, &left)))
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == e)
			result = msg->data.result;
	curl_multi_remove_handle(multi, e);
	curl_multi_cleanup(multi);
	return result;
}

/* One request: `method` NULL means GET, or POST when there is a body.
 * `headers` are "Name: value" strings, NULL-terminated (may be NULL).
 * Caller must sbx_buf_dispose(&r->body). */
static void request(http_server *s, response *r, const char *method, const char *path,
		    const char *const *headers, const char *body, size_t body_len)
{
	struct curl_slist *list = NULL;
	char url[128], *type = NULL;
	CURL *e = curl_easy_init();
	size_t i;

	assert_non_null(e);
	memset(r, 0, sizeof(*r));
	sbx_buf_init(&r->body, (size_t)8 << 20);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", http_server_port(s), path);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	if (body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	}
	if (method && strcmp(method, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (method)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	for (i = 0; headers && headers[i]; i++)
		list = curl_slist_append(list, headers[i]);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);
	r->result = drive(s, e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
	if (curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type)
		snprintf(r->type, sizeof(r->type), "%s", type);
	curl_slist_free_all(list);
	curl_easy_cleanup(e);
}

/* "X-Hub-Signature-256: sha256=<hex>" for body under secret. */
static void sign(char *out, size_t size, const char *secret, const char *body, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0, i;
	int n;

	assert_non_null(HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, len,
			     md, &md_len));
	n = snprintf(out, size, "X-Hub-Signature-256: sha256=");
	for (i = 0; i < md_len; i++)
		n += snprintf(out + n, size - (size_t)n, "%02x", md[i]);
}

static void webhook(response *r, const char *event, const char *body, size_t len, const char *signature)
{
	char ev[96];
	const char *headers[] = { "Content-Type: application/json", signature, NULL, NULL };

	if (!signature) {
		headers[1] = NULL;
	} else if (event) {
		snprintf(ev, sizeof(ev), "X-GitHub-Event: %s", event);
		headers[2] = ev;
	}
	request(server, r, NULL, "/webhook", headers, body, len);
}

static void signed_webhook(response *r, const char *event, const char *body, size_t len)
{
	char signature[128];

	sign(signature, sizeof(signature), SECRET, body, len);
	webhook(r, event, body, len, signature);
}

static int setup(void **state)
{
	(void)state;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	if (http_server_start(&server, "127.0.0.1", 0, SECRET, strlen(SECRET), &handlers) < 0) {
		fprintf(stderr, "%s\n", sbx_error_last());
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	http_server_stop(server);
	server = NULL;
	curl_global_cleanup();
	return 0;
}

static int reset_seen(void **state)
{
	(void)state;
	memset(&seen, 0, sizeof(seen));
	return 0;
}

static void test_http__signature_known_vector(void **state)
{
	const char *secret = "It's a Secret to Everybody", *body = "Hello, World!";
	const char *good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
	const char *upper = "sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17";
	static const char *const bad[] = {
		"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18",
		"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1",
		"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e177",
		"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1g",
		"sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
		"757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
		"sha256=",
		"",
	};
	size_t i;

	(void)state;
	assert_true(http_signature_ok(secret, strlen(secret), body, strlen(body), good));
	assert_true(http_signature_ok(secret, strlen(secret), body, strlen(body), upper));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(http_signature_ok(secret, strlen(secret), body, strlen(body), bad[i]));
	assert_false(http_signature_ok(secret, strlen(secret), body, strlen(body), NULL));
	assert_false(http_signature_ok(secret, strlen(secret) - 1, body, strlen(body), good));
	assert_false(http_signature_ok(secret, strlen(secret), body, strlen(body) - 1, good));
	assert_false(http_signature_ok(NULL, 0, body, strlen(body), good));
	assert_false(http_signature_ok("", 0, body, strlen(body), good));
}

static void test_http__start_port_zero(void **state)
{
	struct pollfd fds[MAX_FDS];
	long timeout = 5000;
	http_server *other = NULL;
	char want[96];
	size_t n;

	(void)state;
	assert_int_not_equal(http_server_port(server), 0);
	/* idle: only the listening socket, and no opinion about the timeout */
	n = http_server_fds(server, fds, MAX_FDS, &timeout);
	assert_int_equal(n, 1);
	assert_int_equal(fds[0].events, POLLIN);
	assert_int_equal(timeout, 5000);
	assert_int_equal(http_server_fds(server, fds, 0, &timeout), 0);
	assert_true(timeout >= 0 && timeout <= 100);
	http_server_run(server);

	/* the port is taken */
	sbx_error_clear();
	assert_int_equal(http_server_start(&other, "127.0.0.1", http_server_port(server), NULL, 0, &handlers),
			 SBX_EIO);
	assert_null(other);
	snprintf(want, sizeof(want), "could not listen on '127.0.0.1' port %u: ", http_server_port(server));
	assert_memory_equal(sbx_error_last(), want, strlen(want));
	sbx_error_clear();
	assert_int_equal(http_server_start(&other, "localhost", 0, NULL, 0, &handlers), SBX_EINVAL);
	assert_string_equal(sbx_error_last(), "invalid listen address 'localhost': use an IPv4 or IPv6 address");
	sbx_error_clear();
	assert_int_equal(http_server_start(&other, "127.0.0.1", 70000, NULL, 0, &handlers), SBX_EUSAGE);
	sbx_error_clear();
	http_server_stop(NULL);
}

static void test_http__metrics(void **state)
{
	response r;

	(void)state;
	request(server, &r, NULL, "/metrics", NULL, NULL, 0);
	assert_int_equal(r.result, CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.type, "text/plain; version=0.0.4; charset=utf-8");
	assert_string_equal(sbx_buf_cstr(&r.body), METRICS_TEXT);
	sbx_buf_dispose(&r.body);
}

static void test_http__healthz(void **state)
{
	response r;

	(void)state;
	request(server, &r, NULL, "/healthz", NULL, NULL, 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(sbx_buf_cstr(&r.body), "ok\n");
	sbx_buf_dispose(&r.body);
	request(server, &r, "HEAD", "/healthz", NULL, NULL, 0);
	assert_int_equal(r.result, CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(sbx_buf_cstr(&r.body), "");
	sbx_buf_dispose(&r.body);
}

static void test_http__readyz(void **state)
{
	response r;

	(void)state;
	request(server, &r, NULL, "/readyz", NULL, NULL, 0);
	assert_int_equal(r.status, 503);
	assert_string_equal(r.type, "text/plain; charset=utf-8");
	assert_string_equal(sbx_buf_cstr(&r.body), "cache not synced: pods\n");
	sbx_buf_dispose(&r.body);
	seen.ready = true;
	request(server, &r, NULL, "/readyz", NULL, NULL, 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(sbx_buf_cstr(&r.body), "ok\n");
	sbx_buf_dispose(&r.body);
}

static void test_http__webhook_good_signature(void **state)
{
	const char *push = "{\"ref\":\"refs/heads/main\",\"after\":\"0123abcd\"}";
	const char *ping = "{\"zen\":\"Keep it logically awesome.\",\"hook_id\":1}";
	response r;

	(void)state;
	signed_webhook(&r, NULL, push, strlen(push));
	assert_int_equal(r.status, 202);
	assert_string_equal(sbx_buf_cstr(&r.body), "accepted\n");
	assert_int_equal(seen.webhooks, 1);
	assert_string_equal(seen.event, "push");
	assert_string_equal(seen.ref, "refs/heads/main");
	sbx_buf_dispose(&r.body);

	signed_webhook(&r, "ping", ping, strlen(ping));
	assert_int_equal(r.status, 202);
	assert_int_equal(seen.webhooks, 2);
	assert_string_equal(seen.event, "ping");
	assert_string_equal(seen.ref, "");
	sbx_buf_dispose(&r.body);
}

static void test_http__webhook_bad_signature(void **state)
{
	const char *body = "{\"ref\":\"refs/heads/main\"}";
	const char *other = "{\"ref\":\"refs/heads/evil\"}";
	char signature[128];
	response r;

	(void)state;
	/* signed with another secret */
	sign(signature, sizeof(signature), "not the secret", body, strlen(body));
	webhook(&r, "push", body, strlen(body), signature);
	assert_int_equal(r.status, 401);
	assert_string_equal(sbx_buf_cstr(&r.body), "bad or missing signature\n");
	sbx_buf_dispose(&r.body);
	/* a good signature of another body */
	sign(signature, sizeof(signature), SECRET, other, strlen(other));
	webhook(&r, "push", body, strlen(body), signature);
	assert_int_equal(r.status, 401);
	assert_null(strstr(sbx_buf_cstr(&r.body), "sha256="));
	sbx_buf_dispose(&r.body);
	webhook(&r, "push", body, strlen(body), "X-Hub-Signature-256: sha256=zz");
	assert_int_equal(r.status, 401);
	sbx_buf_dispose(&r.body);
	assert_int_equal(seen.webhooks, 0);
}

static void test_http__webhook_missing_signature(void **state)
{
	const char *body = "{\"ref\":\"refs/heads/main\"}";
	response r;

	(void)state;
	webhook(&r, "push", body, strlen(body), NULL);
	assert_int_equal(r.status, 401);
	assert_string_equal(sbx_buf_cstr(&r.body), "bad or missing signature\n");
	sbx_buf_dispose(&r.body);
	assert_int_equal(seen.webhooks, 0);
}

static void test_http__webhook_body_cap(void **state)
{
	const char *head = "{\"ref\":\"refs/heads/big\",\"pad\":\"";
	size_t len = HTTP_MAX_WEBHOOK_BODY, hl = strlen(head);
	char *body = malloc(len + 1);
	response r;

	(void)state;
	assert_non_null(body);
	/* exactly at the cap: accepted */
	memcpy(body, head, hl);
	memset(body + hl, 'a', len - hl - 2);
	memcpy(body + len - 2, "\"}", 2);
	signed_webhook(&r, "push", body, len);
	assert_int_equal(r.status, 202);
	assert_int_equal(seen.webhooks, 1);
	assert_string_equal(seen.ref, "refs/heads/big");
	sbx_buf_dispose(&r.body);
	/* one byte more, even correctly signed: refused unread */
	memmove(body + len - 1, body + len - 2, 2);
	body[len - 2] = 'a';
	signed_webhook(&r, "push", body, len + 1);
	assert_int_equal(r.result, CURLE_OK);
	assert_int_equal(r.status, 413);
	assert_string_equal(sbx_buf_cstr(&r.body), "webhook body too large\n");
	sbx_buf_dispose(&r.body);
	assert_int_equal(seen.webhooks, 1);
	free(body);
}

static void test_http__webhook_chunked_over_cap(void **state)
{
	const char *headers[] = { "X-Hub-Signature-256: sha256=00", "Transfer-Encoding: chunked", NULL };
	struct curl_slist *list = NULL;
	size_t left = (size_t)HTTP_MAX_WEBHOOK_BODY * 32;
	char url[128];
	CURL *e = curl_easy_init();
	CURLcode result;
	size_t i;

	(void)state;
	/* no length announced: the connection is dropped once the cap is passed,
	 * long before the client has sent everything (socket buffers aside) */
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/webhook", http_server_port(server));
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(e, CURLOPT_READDATA, &left);
	for (i = 0; headers[i]; i++)
		list = curl_slist_append(list, headers[i]);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);
	result = drive(server, e);
	assert_int_not_equal(result, CURLE_OK);
	assert_int_not_equal(result, CURLE_OPERATION_TIMEDOUT);
	assert_true(left > (size_t)HTTP_MAX_WEBHOOK_BODY * 16);
	curl_slist_free_all(list);
	curl_easy_cleanup(e);
	assert_int_equal(seen.webhooks, 0);
}

static void test_http__webhook_not_json(void **state)
{
	const char *body = "payload=%7B%22ref%22%3A%22refs%2Fheads%2Fmain%22%7D";
	response r;

	(void)state;
	signed_webhook(&r, "push", body, strlen(body));
	assert_int_equal(r.status, 400);
	sbx_buf_dispose(&r.body);
	assert_int_equal(seen.webhooks, 0);
}

static void test_http__webhook_no_secret(void **state)
{
	const char *body = "{\"ref\":\"refs/heads/main\"}";
	char signature[128];
	http_server *s = NULL;
	const char *headers[] = { signature, NULL };
	response r;

	(void)state;
	assert_int_equal(http_server_start(&s, "127.0.0.1", 0, NULL, 0, &handlers), 0);
	sign(signature, sizeof(signature), SECRET, body, strlen(body));
	request(s, &r, NULL, "/webhook", headers, body, strlen(body));
	assert_int_equal(r.status, 503);
	assert_string_equal(sbx_buf_cstr(&r.body), "no webhook secret configured\n");
	sbx_buf_dispose(&r.body);
	http_server_stop(s);
	/* an empty secret is no secret */
	assert_int_equal(http_server_start(&s, "127.0.0.1", 0, "", 0, &handlers), 0);
	request(s, &r, NULL, "/webhook", headers, body, strlen(body));
	assert_int_equal(r.status, 503);
	sbx_buf_dispose(&r.body);
	http_server_stop(s);
	assert_int_equal(seen.webhooks, 0);
}

static void test_http__not_found_and_methods(void **state)
{
	response r;

	(void)state;
	request(server, &r, NULL, "/nope", NULL, NULL, 0);
	assert_int_equal(r.status, 404);
	sbx_buf_dispose(&r.body);
	request(server, &r, NULL, "/metrics/", NULL, NULL, 0);
	assert_int_equal(r.status, 404);
	sbx_buf_dispose(&r.body);
	request(server, &r, NULL, "/webhook", NULL, NULL, 0);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.allow, "POST");
	sbx_buf_dispose(&r.body);
	request(server, &r, NULL, "/metrics", NULL, "x", 1);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.allow, "GET, HEAD");
	sbx_buf_dispose(&r.body);
	request(server, &r, "DELETE", "/healthz", NULL, NULL, 0);
	assert_int_equal(r.status, 405);
	sbx_buf_dispose(&r.body);
	/* the server still answers after all that */
	request(server, &r, NULL, "/healthz", NULL, NULL, 0);
	assert_int_equal(r.status, 200);
	sbx_buf_dispose(&r.body);
}

/* Connect a plain TCP socket to the server from 127.0.0.1 (not waiting). */
static int idle_connection(http_server *s)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)http_server_port(s));
	connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	return fd;
}

/* Serve for about `ms` milliseconds. */
static void serve_for(http_server *s, long ms)
{
	struct timespec start;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (elapsed_ms(&start) < ms) {
		struct pollfd fds[MAX_FDS];
		long timeout = 50;
		size_t n = http_server_fds(s, fds, MAX_FDS, &timeout);

		poll(fds, n, (int)(timeout < 50 ? timeout : 50));
		http_server_run(s);
	}
}

/* 200 idle connections from one address take at most a few of the
 * server's slots: /readyz from another address is answered at once. */
static void test_http__one_client_cannot_starve_others(void **state)
{
	int fds[200];
	struct timespec start;
	response r;
	CURL *e;
	char url[128];

	(void)state;
	for (size_t i = 0; i < 200; i++)
		fds[i] = idle_connection(server);
	serve_for(server, 500);
	clock_gettime(CLOCK_MONOTONIC, &start);
	memset(&r, 0, sizeof(r));
	sbx_buf_init(&r.body, 4096);
	e = curl_easy_init();
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/readyz", http_server_port(server));
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(e, CURLOPT_INTERFACE, "host!127.0.0.2");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &r.body);
	r.result = drive(server, e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r.status);
	curl_easy_cleanup(e);
	assert_int_equal(r.result, CURLE_OK);
	assert_int_equal(r.status, 503);
	assert_true(elapsed_ms(&start) < 2000);
	sbx_buf_dispose(&r.body);
	for (size_t i = 0; i < 200; i++)
		close(fds[i]);
	serve_for(server, 200);
}

/* A client that starts a request and goes quiet is closed after the
 * server's idle timeout (HTTP_IDLE_TIMEOUT_S), not kept for ever. */
static void test_http__slow_header_is_closed(void **state)
{
	static const char partial[] = "GET /readyz HTTP/1.1\r\nHost: x";
	int fd = idle_connection(server);
	struct timespec start;
	char buf[64];
	ssize_t n = -1;

	(void)state;
	serve_for(server, 100);
	assert_int_equal(write(fd, partial, sizeof(partial) - 1), (ssize_t)sizeof(partial) - 1);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (elapsed_ms(&start) < (HTTP_IDLE_TIMEOUT_S + 5) * 1000L) {
		serve_for(server, 100);
		n = read(fd, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno != EAGAIN))
			break;
	}
	assert_true(n == 0 || (n < 0 && errno != EAGAIN));
	assert_true(elapsed_ms(&start) >= (HTTP_IDLE_TIMEOUT_S - 1) * 1000L);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http__signature_known_vector),
		cmocka_unit_test(test_http__start_port_zero),
		cmocka_unit_test_setup(test_http__metrics, reset_seen),
		cmocka_unit_test_setup(test_http__healthz, reset_seen),
		cmocka_unit_test_setup(test_http__readyz, reset_seen),
		cmocka_unit_test_setup(test_http__webhook_good_signature, reset_seen),
		cmocka_unit_test_setup(test_http__webhook_bad_signature, reset_seen),
		cmocka_unit_test_setup(test_http__webhook_missing_signature, reset_seen),
		cmocka_unit_test_setup(test_http__webhook_body_cap, reset_seen),
		cmocka_unit_test_setup(test_http__webhook_chunked_over_cap, reset_seen),
		cmocka_unit_test_setup(test_http__webhook_not_json, reset_seen),
		cmocka_unit_test_setup(test_http__webhook_no_secret, reset_seen),
		cmocka_unit_test_setup(test_http__not_found_and_methods, reset_seen),
		cmocka_unit_test_setup(test_http__one_client_cannot_starve_others, reset_seen),
		cmocka_unit_test_setup(test_http__slow_header_is_closed, reset_seen),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
