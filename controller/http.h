/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The controller's HTTP endpoints on libmicrohttpd, run from the
 * controller's own loop (no threads): /metrics, /healthz, /readyz and
 * /webhook (GitHub push events, X-Hub-Signature-256 HMAC-SHA256 checked in
 * constant time, body capped).
 */
#ifndef SBX_CONTROLLER_HTTP_H
#define SBX_CONTROLLER_HTTP_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define HTTP_MAX_WEBHOOK_BODY (1024 * 1024)
#define HTTP_MAX_CONNECTIONS 64      /* in all */
#define HTTP_MAX_PER_CLIENT 8        /* from one address, so one client cannot take them all */
#define HTTP_IDLE_TIMEOUT_S 10       /* a connection quiet this long (a slow header) is closed */

typedef struct http_server http_server;

typedef struct http_handlers {
	/* Append the metrics text to out. */
	void (*metrics)(sbx_buf *out, void *payload);
	/* Liveness and readiness: return true when healthy / ready; may
	 * append a one-line reason to why. */
	bool (*healthz)(sbx_buf *why, void *payload);
	bool (*readyz)(sbx_buf *why, void *payload);
	/* A webhook whose signature checked out: `event` is X-GitHub-Event
	 * ("push", "ping", ...), `ref` the pushed ref from the JSON body ("" if
	 * none). Called from http_server_run(). */
	void (*webhook)(const char *event, const char *ref, void *payload);
	void *payload;
} http_handlers;

/* Verify `signature` ("sha256=<64 hex>") as HMAC-SHA256 of body under
 * secret, comparing in constant time. Exposed for tests. */
bool http_signature_ok(const char *secret, size_t secret_len, const char *body, size_t body_len,
		       const char *signature);

/* Listen on addr:port (e.g. "127.0.0.1", 8080; port 0 picks a free one).
 * `secret` (may be NULL: /webhook then answers 503 "no webhook secret
 * configured") is copied. Returns 0 and *out, or a negative SBX_E*. */
int http_server_start(http_server **out, const char *addr, unsigned port, const char *secret,
		      size_t secret_len, const http_handlers *h);

/* The port actually bound. */
unsigned http_server_port(const http_server *s);

/* Append the server's file descriptors to fds (at most max, events set),
 * return how many were added, and lower *timeout_ms to when the server
 * next needs to run (left alone when it does not care). */
size_t http_server_fds(http_server *s, struct pollfd *fds, size_t max, long *timeout_ms);

/* Serve whatever is ready (never blocks). */
void http_server_run(http_server *s);

/* Stop and free (in-flight requests are dropped). NULL-safe. */
void http_server_stop(http_server *s);

#endif
