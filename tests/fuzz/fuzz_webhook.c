// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for the controller's HTTP server: the input is one
 * connection's bytes (request line, headers, body; pipelined requests
 * too), sent over loopback to the server running in this process, which
 * is polled as the controller's loop polls it until the connection ends.
 * The word SIGNATURE in the input becomes the valid X-Hub-Signature-256
 * of what follows the first blank line, so mutated requests with a plain
 * body still reach the payload's parser (a chunked body is signed with its
 * framing, so it stops at the signature check). Whatever arrives, the
 * server must answer with an HTTP status or close; it must hand over no
 * event from an input without SIGNATURE (no one can sign without the
 * secret), and answer each one it hands over 202; and it must end the
 * connection within 2 seconds of the client ending its side.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/hmac.h>

#include "http.h"

#define SECRET "fuzz-secret"
#define PLACEHOLDER "SIGNATURE"
#define GRACE_MS 2000     /* after the client's end, for the server's */
#define SEND_MS 10000     /* to send one input */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned delivered;

static void on_webhook(const char *event, const char *ref, void *payload)
{
	(void)payload;
	if (!event || !ref || !*event)
		__builtin_trap();
	delivered++;
}

static void on_metrics(sbx_buf *out, void *payload)
{
	(void)payload;
	sbx_buf_puts(out, "sandbox_up 1\n");
}

static bool on_ready(sbx_buf *why, void *payload)
{
	(void)payload;
	sbx_buf_puts(why, "not yet\nsecond line");
	return false;
}

/* The request with each PLACEHOLDER replaced by the signature of the body
 * (what follows the first blank line). */
static void sign(sbx_buf *out, const char *in, size_t len)
{
	const char *blank = memmem(in, len, "\r\n\r\n", 4), *p = in, *hit;
	const char *body = blank ? blank + 4 : in + len;
	unsigned char mac[32];
	unsigned int mac_len = 0;
	char sig[7 + 64 + 1];

	HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)body,
	     (size_t)(in + len - body), mac, &mac_len);
	memcpy(sig, "sha256=", 7);
	for (unsigned i = 0; i < 32; i++)
		snprintf(sig + 7 + 2 * i, 3, "%02x", mac[i]);
	while ((hit = memmem(p, (size_t)(in + len - p), PLACEHOLDER, strlen(PLACEHOLDER)))) {
		sbx_buf_put(out, p, (size_t)(hit - p));
		sbx_buf_puts(out, sig);
		p = hit + strlen(PLACEHOLDER);
	}
	sbx_buf_put(out, p, (size_t)(in + len - p));
}

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Run the server until it closes the client's connection; the answer in *answer. */
static void converse(http_server *s, int fd, const sbx_buf *req, sbx_buf *answer)
{
	long long start = now_ms(), shut_at = 0;
	size_t sent = 0;

	for (;;) {
		struct pollfd fds[HTTP_MAX_CONNECTIONS + 2];
		size_t n = http_server_fds(s, fds, HTTP_MAX_CONNECTIONS, NULL);
		char buf[4096];
		ssize_t got;

		fds[n].fd = fd;
		fds[n].events = (short)(POLLIN | (sent < req->len ? POLLOUT : 0));
		fds[n].revents = 0;
		poll(fds, n + 1, 5);
		http_server_run(s);
		if (sent < req->len) {
			got = send(fd, req->ptr + sent, req->len - sent, MSG_NOSIGNAL);
			if (got > 0)
				sent += (size_t)got;
			else if (got < 0 && errno != EAGAIN)
				sent = req->len;   /* the server closed already */
		}
		if (sent == req->len && !shut_at) {
			shutdown(fd, SHUT_WR);   /* the client is done: the server must end too */
			shut_at = now_ms();
		}
		while ((got = recv(fd, buf, sizeof(buf), 0)) > 0)
			sbx_buf_put(answer, buf, (size_t)got);
		if (got == 0 || (got < 0 && errno != EAGAIN))
			return;   /* closed */
		if (shut_at ? now_ms() - shut_at > GRACE_MS : now_ms() - start > SEND_MS)
			__builtin_trap();   /* a hang: the connection outlived its client */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static http_server *s;
	static struct sockaddr_in addr;
	http_handlers h = { on_metrics, NULL, on_ready, on_webhook, NULL };
	sbx_buf req = SBX_BUF_INIT, answer = SBX_BUF_INIT;
	unsigned before = delivered;
	bool signed_input = memmem(data, size, PLACEHOLDER, strlen(PLACEHOLDER)) != NULL;
	int fd;

	if (!s) {
		if (http_server_start(&s, "127.0.0.1", 0, SECRET, strlen(SECRET), &h) < 0)
			__builtin_trap();
		addr.sin_family = AF_INET;
		addr.sin_port = htons((uint16_t)http_server_port(s));
		addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	}
	sign(&req, (const char *)data, size);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || req.failed || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		__builtin_trap();
	converse(s, fd, &req, &answer);
	close(fd);
	/* an answer is HTTP; an event was handed over only when signed, and
	 * answered 202 */
	if (answer.len && strncmp(sbx_buf_cstr(&answer), "HTTP/1.", 7) != 0)
		__builtin_trap();
	if (delivered != before && (!signed_input || !strstr(sbx_buf_cstr(&answer), " 202 ")))
		__builtin_trap();
	sbx_buf_dispose(&req);
	sbx_buf_dispose(&answer);
	return 0;
}
