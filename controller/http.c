// SPDX-License-Identifier: Apache-2.0
/*
 * The controller's HTTP server: libmicrohttpd in external-polling mode, so
 * the controller's loop polls its sockets and calls http_server_run(). Serves
 * /metrics, /healthz, /readyz and the signed GitHub /webhook.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "error.h"
#include "http.h"

#define SIGNATURE_PREFIX "sha256="
#define SIGNATURE_HEADER "X-Hub-Signature-256"
#define EVENT_HEADER "X-GitHub-Event"
#define TEXT_TYPE "text/plain; charset=utf-8"
#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define MAX_REASON 1024        /* bytes of a /healthz or /readyz reason */
#define FD_OVERFLOW_WAIT_MS 100

struct http_server {
	struct MHD_Daemon *daemon;
	http_handlers h;
	unsigned char *secret;   /* NULL when /webhook is off */
	size_t secret_len;
	unsigned port;
	char start_error[256];   /* libmicrohttpd's first complaint while starting */
	bool starting;
};

/* Per-request state of a POST /webhook while its body arrives. */
typedef struct upload {
	sbx_buf body;
} upload;

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool http_signature_ok(const char *secret, size_t secret_len, const char *body, size_t body_len,
		       const char *signature)
{
	unsigned char want[32], got[EVP_MAX_MD_SIZE];
	unsigned int got_len = 0;
	const char *hex;
	bool ok = false;
	size_t i;

	if (!secret || !secret_len || !signature || (!body && body_len))
		goto done;
	if (strncmp(signature, SIGNATURE_PREFIX, strlen(SIGNATURE_PREFIX)) != 0)
		goto done;
	hex = signature + strlen(SIGNATURE_PREFIX);
	if (strlen(hex) != 2 * sizeof(want))
		goto done;
	for (i = 0; i < sizeof(want); i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			goto done;
		want[i] = (unsigned char)(hi << 4 | lo);
	}
	if (!HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)(body ? body : ""),
		  body_len, got, &got_len) || got_len != sizeof(want))
		goto done;
	ok = CRYPTO_memcmp(want, got, sizeof(want)) == 0;
done:
	OPENSSL_cleanse(got, sizeof(got));
	return ok;
}

/* Queue a response whose body is copied from text. */
static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
			     const char *text, size_t len, const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret = MHD_NO;

	r = MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
	if (!r)
		goto done;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES)
		goto done;
	if (allow && MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow) != MHD_YES)
		goto done;
	ret = MHD_queue_response(c, status, r);
done:
	if (r)
		MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, const char *text)
{
	return reply(c, status, TEXT_TYPE, text, strlen(text), NULL);
}

static enum MHD_Result serve_metrics(http_server *s, struct MHD_Connection *c)
{
	sbx_buf out = SBX_BUF_INIT;
	enum MHD_Result ret;

	if (s->h.metrics)
		s->h.metrics(&out, s->h.payload);
	if (out.failed)
		ret = reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics unavailable\n");
	else
		ret = reply(c, MHD_HTTP_OK, METRICS_TYPE, sbx_buf_cstr(&out), out.len, NULL);
	sbx_buf_dispose(&out);
	return ret;
}

/* /healthz and /readyz: "ok", or 503 with the first line of the check's
 * reason (or `fallback` when it gave none). */
static enum MHD_Result serve_check(http_server *s, struct MHD_Connection *c,
				   bool (*check)(sbx_buf *why, void *payload), const char *fallback)
{
	sbx_buf why, msg;
	enum MHD_Result ret;
	size_t len;

	sbx_buf_init(&why, MAX_REASON);
	sbx_buf_init(&msg, MAX_REASON + 2);
	if (!check || check(&why, s->h.payload)) {
		ret = reply_text(c, MHD_HTTP_OK, "ok\n");
		goto done;
	}
	/* an overlong reason still has its start, unchanged since it failed */
	len = strcspn(sbx_buf_cstr(&why), "\n");
	if (len)
		sbx_buf_put(&msg, sbx_buf_cstr(&why), len);
	else
		sbx_buf_puts(&msg, fallback);
	sbx_buf_putc(&msg, '\n');
	ret = reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, TEXT_TYPE, sbx_buf_cstr(&msg), msg.len, NULL);
done:
	sbx_buf_dispose(&why);
	sbx_buf_dispose(&msg);
	return ret;
}

static const char *header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* Whether a Content-Length header announces more than the cap. */
static bool announced_too_large(struct MHD_Connection *c)
{
	const char *v = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long n;
	char *end;

	if (!v)
		return false;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (end == v || errno == ERANGE)
		return true;
	return n > HTTP_MAX_WEBHOOK_BODY;
}

/* The body has arrived and its signature checked out: hand the event over. */
static enum MHD_Result deliver(http_server *s, struct MHD_Connection *c, const upload *u)
{
	const char *event = header(c, EVENT_HEADER);
	const cJSON *ref;
	cJSON *doc;
	enum MHD_Result ret;

	doc = cJSON_ParseWithLength(u->body.ptr ? u->body.ptr : "", u->body.len);
	if (!cJSON_IsObject(doc)) {
		ret = reply_text(c, MHD_HTTP_BAD_REQUEST,
				 "webhook body is not a JSON object: set the content type to application/json\n");
		goto done;
	}
	ref = cJSON_GetObjectItemCaseSensitive(doc, "ref");
	if (s->h.webhook)
		s->h.webhook(event && *event ? event : "push",
			     cJSON_IsString(ref) && ref->valuestring ? ref->valuestring : "", s->h.payload);
	ret = reply_text(c, MHD_HTTP_ACCEPTED, "accepted\n");
done:
	cJSON_Delete(doc);
	return ret;
}

/*
 * POST /webhook, called by libmicrohttpd once for the headers, once per
 * piece of body and once at the end. Everything that can be refused without
 * the body is refused before reading it (the connection is then closed).
 * A chunked body that grows past the cap cannot be answered mid-upload, so
 * its connection is closed without a response.
 */
static enum MHD_Result serve_webhook(http_server *s, struct MHD_Connection *c,
				     const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	upload *u = *con_cls;

	if (!u) {
		if (!s->secret)
			return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "no webhook secret configured\n");
		if (!header(c, SIGNATURE_HEADER))
			return reply_text(c, MHD_HTTP_UNAUTHORIZED, "bad or missing signature\n");
		if (announced_too_large(c))
			return reply_text(c, MHD_HTTP_CONTENT_TOO_LARGE, "webhook body too large\n");
		u = calloc(1, sizeof(*u));
		if (!u)
			return MHD_NO;
		sbx_buf_init(&u->body, HTTP_MAX_WEBHOOK_BODY);
		*con_cls = u;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (*upload_data_size > HTTP_MAX_WEBHOOK_BODY - u->body.len ||
		    sbx_buf_put(&u->body, upload_data, *upload_data_size) < 0)
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!http_signature_ok((const char *)s->secret, s->secret_len, u->body.ptr, u->body.len,
			       header(c, SIGNATURE_HEADER)))
		return reply_text(c, MHD_HTTP_UNAUTHORIZED, "bad or missing signature\n");
	return deliver(s, c, u);
}

static bool is_get(const char *method)
{
	return strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	http_server *s = cls;

	(void)version;
	if (strcmp(url, "/webhook") == 0) {
		if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
			return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, TEXT_TYPE, "method not allowed\n",
				     strlen("method not allowed\n"), "POST");
		return serve_webhook(s, c, upload_data, upload_data_size, con_cls);
	}
	if (strcmp(url, "/metrics") != 0 && strcmp(url, "/healthz") != 0 && strcmp(url, "/readyz") != 0)
		return reply_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
	if (!is_get(method))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, TEXT_TYPE, "method not allowed\n",
			     strlen("method not allowed\n"), "GET, HEAD");
	if (strcmp(url, "/metrics") == 0)
		return serve_metrics(s, c);
	if (strcmp(url, "/healthz") == 0)
		return serve_check(s, c, s->h.healthz, "not healthy");
	return serve_check(s, c, s->h.readyz, "not ready");
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	upload *u = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (!u)
		return;
	sbx_buf_dispose(&u->body);
	free(u);
	*con_cls = NULL;
}

/* libmicrohttpd's messages are kept only while starting (to explain a
 * failure); afterwards they are dropped, as nothing here may print. */
static void on_log(void *cls, const char *fmt, va_list ap)
{
	http_server *s = cls;
	size_t n;

	if (!s->starting || s->start_error[0])
		return;
	vsnprintf(s->start_error, sizeof(s->start_error), fmt, ap);
	n = strlen(s->start_error);
	while (n && (s->start_error[n - 1] == '\n' || s->start_error[n - 1] == '.'))
		s->start_error[--n] = '\0';
}

/* NULL addr listens on 127.0.0.1; an empty secret counts as none (an HMAC
 * under an empty key proves nothing). */
int http_server_start(http_server **out, const char *addr, unsigned port, const char *secret,
		      size_t secret_len, const http_handlers *h)
{
	struct sockaddr_storage sa;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_ERROR_LOG;
	http_server *s = NULL;
	int rc = 0;

	if (!out || port > 65535) {
		rc = sbx_error_set(SBX_EUSAGE, "invalid http server arguments");
		goto done;
	}
	if (!addr)
		addr = "127.0.0.1";
	memset(&sa, 0, sizeof(sa));
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&sa)->sin_addr) == 1) {
		((struct sockaddr_in *)&sa)->sin_family = AF_INET;
		((struct sockaddr_in *)&sa)->sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&sa)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&sa)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&sa)->sin6_port = htons((uint16_t)port);
		flags |= MHD_USE_IPv6;
	} else {
		rc = sbx_error_set(SBX_EINVAL, "invalid listen address '%s': use an IPv4 or IPv6 address",
				   addr);
		goto done;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		rc = sbx_error_set(SBX_ENOMEM, "out of memory");
		goto done;
	}
	if (h)
		s->h = *h;
	if (secret && secret_len) {
		s->secret = malloc(secret_len);
		if (!s->secret) {
			rc = sbx_error_set(SBX_ENOMEM, "out of memory");
			goto done;
		}
		memcpy(s->secret, secret, secret_len);
		s->secret_len = secret_len;
	}
	s->starting = true;
	s->daemon = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, s,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_CONNECTIONS,
				     MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_PER_CLIENT,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_IDLE_TIMEOUT_S,
				     MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				     MHD_OPTION_EXTERNAL_LOGGER, on_log, s,
				     MHD_OPTION_END);
	s->starting = false;
	if (!s->daemon) {
		rc = sbx_error_set(SBX_EIO, "could not listen on '%s' port %u: %s", addr, port,
				   s->start_error[0] ? s->start_error : "libmicrohttpd refused to start");
		goto done;
	}
	info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : port;
	*out = s;
	s = NULL;
done:
	http_server_stop(s);
	return rc;
}

unsigned http_server_port(const http_server *s)
{
	return s ? s->port : 0;
}

/*
 * libmicrohttpd hands out select() sets; they become pollfd entries here.
 * A descriptor at or above FD_SETSIZE, or more descriptors than `max`,
 * cannot be reported: the wait is then cut short so http_server_run() (which
 * polls on its own) still serves them soon.
 */
size_t http_server_fds(http_server *s, struct pollfd *fds, size_t max, long *timeout_ms)
{
	fd_set rs, ws, es;
	MHD_socket maxfd = -1;
	MHD_UNSIGNED_LONG_LONG t;
	bool missed = false;
	size_t n = 0;
	int fd;

	if (!s || !s->daemon)
		return 0;
	FD_ZERO(&rs);
	FD_ZERO(&ws);
	FD_ZERO(&es);
	if (MHD_get_fdset2(s->daemon, &rs, &ws, &es, &maxfd, FD_SETSIZE) != MHD_YES)
		missed = true;
	for (fd = 0; fd <= maxfd && fd < FD_SETSIZE; fd++) {
		short events = (short)((FD_ISSET(fd, &rs) ? POLLIN : 0) | (FD_ISSET(fd, &ws) ? POLLOUT : 0));

		if (!events)
			continue;
		if (n == max) {
			missed = true;
			break;
		}
		fds[n].fd = fd;
		fds[n].events = events;
		fds[n].revents = 0;
		n++;
	}
	if (!timeout_ms)
		return n;
	if (MHD_get_timeout(s->daemon, &t) == MHD_YES) {
		long ms = t > (MHD_UNSIGNED_LONG_LONG)LONG_MAX ? LONG_MAX : (long)t;

		if (*timeout_ms < 0 || ms < *timeout_ms)
			*timeout_ms = ms;
	}
	if (missed && (*timeout_ms < 0 || *timeout_ms > FD_OVERFLOW_WAIT_MS))
		*timeout_ms = FD_OVERFLOW_WAIT_MS;
	return n;
}

void http_server_run(http_server *s)
{
	if (s && s->daemon)
		MHD_run(s->daemon);
}

void http_server_stop(http_server *s)
{
	if (!s)
		return;
	if (s->daemon)
		MHD_stop_daemon(s->daemon);
	if (s->secret) {
		OPENSSL_cleanse(s->secret, s->secret_len);
		free(s->secret);
	}
	free(s);
}
