// SPDX-License-Identifier: Apache-2.0
/*
 * What port-forward makes of the server's bytes (core/portforward.c through
 * portforward-private.h), without a connection: a table of answers and
 * frames, each fed whole and then a byte at a time, with the data, the
 * result and the error each must give; and the pong a ping gets.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "error.h"
#include "portforward-private.h"

/* the answer to RFC 6455's example key, as the API server gives it */
#define OK_101 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" \
	"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" \
	"Sec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n"
/* the first frame of each channel: its port, 2222 little-endian */
#define PORTS "\x82\x03\x00\xae\x08" "\x82\x03\x01\xae\x08"

/* input bytes and their count (they hold NULs) */
#define IN(s) s, sizeof(s) - 1

struct row {
	const char *what;
	const char *in;       /* NULL: 20 KiB of header that never ends */
	size_t len;
	bool closes;          /* then the server closes the connection */
	int want;             /* the last feed's result */
	const char *data;     /* what reaches the local side */
	const char *error;    /* part of sbx_error_last(), when want < 0 */
};

static const struct row rows[] = {
	{ "data after the ports, in two messages",
	  IN(OK_101 PORTS "\x82\x04\x00" "abc" "\x82\x03\x00" "de"), false, 0, "abcde", NULL },
	{ "a continuation goes on with its channel",
	  IN(OK_101 PORTS "\x02\x03\x00" "ab" "\x80\x02" "cd"), false, 0, "abcd", NULL },
	{ "a 16-bit length", IN(OK_101 PORTS "\x82\x7e\x00\x03\x00" "xy"), false, 0, "xy", NULL },
	{ "a 64-bit length", IN(OK_101 PORTS "\x82\x7f\x00\x00\x00\x00\x00\x00\x00\x03\x00" "xy"), false,
	  0, "xy", NULL },
	{ "a close frame ends it", IN(OK_101 PORTS "\x82\x02\x00" "z" "\x88\x02\x03\xe8"), false, 1,
	  "z", NULL },
	{ "the error channel's message", IN(OK_101 PORTS "\x82\x0e\x01" "no such port!"), false,
	  SBX_ETRANSPORT, "", "no such port!" },
	{ "recorded from the local cluster: the port refuses the connection",
	  IN(OK_101 "\x82\x03\x00\xaf\x08\x82\x03\x01\xaf\x08\x82\x7e\x00\x91\x01"
	     "error forwarding port 2223 to pod sshd-0/pf-capture, uid : failed to dial "
	     "127.0.0.1:17299: dial tcp 127.0.0.1:17299: connect: connection refused"
	     "\x88\x02\x03\xe8"), false, SBX_ETRANSPORT, "",
	  ": failed to dial 127.0.0.1:17299: dial tcp 127.0.0.1:17299: connect: connection refused" },
	{ "a refusal with its Status message", IN("HTTP/1.1 403 Forbidden\r\nContent-Type: "
	  "application/json\r\n\r\n{\"kind\":\"Status\",\"message\":\"pods \\\"p\\\" is forbidden\"}"),
	  true, SBX_EFORBIDDEN, "", "refused (HTTP 403): pods \"p\" is forbidden" },
	{ "a refusal without a body", IN("HTTP/1.1 404 Not Found\r\n\r\n"), true, SBX_ENOTFOUND, "",
	  "refused (HTTP 404)" },
	{ "not HTTP", IN("SSH-2.0-OpenSSH\r\n\r\n"), true, SBX_ETRANSPORT, "", "not an HTTP answer" },
	{ "an answer for another key", IN("HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: "
	  "AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n"), false,
	  SBX_ETRANSPORT, "", "does not match the key" },
	{ "another protocol", IN("HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: "
	  "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n"), false,
	  SBX_ETRANSPORT, "", "does not speak v4.channel.k8s.io" },
	{ "a masked frame from the server", IN(OK_101 "\x82\x81\x01\x02\x03\x04\x05"), false,
	  SBX_ETRANSPORT, "", "masked frame" },
	{ "a frame over 4 MiB", IN(OK_101 "\x82\x7f\x00\x00\x00\x00\x00\x40\x00\x01"), false,
	  SBX_ETRANSPORT, "", "too large" },
	{ "a fragmented ping", IN(OK_101 "\x09\x00"), false, SBX_ETRANSPORT, "",
	  "malformed control frame" },
	{ "a ping over 125 bytes", IN(OK_101 "\x89\x7e\x00\x80"), false, SBX_ETRANSPORT, "",
	  "malformed control frame" },
	{ "the server closes after the upgrade: an end", IN(OK_101 PORTS), true, 1, "", NULL },
	{ "the server closes without an answer", IN(""), true, SBX_ETRANSPORT, "",
	  "closed the connection" },
	{ "headers that never end", NULL, 0, false, SBX_ETRANSPORT, "", "answer headers too long" },
};

/* Feed in, `step` bytes at a time (0: at once); the local side's bytes in *out. */
static int feed(const struct row *r, size_t step, char *out, size_t cap)
{
	static char endless[20 * 1024];
	const char *in = r->in;
	size_t len = r->len, got = 0;
	sbx_portforward *pf;
	int fds[2], res = 0;
	ssize_t n;

	if (!in) {
		memset(endless, 'h', sizeof(endless));
		in = endless;
		len = sizeof(endless);
	}
	assert_int_equal(pipe2(fds, O_NONBLOCK), 0);
	assert_int_equal(sbx_portforward_offline(&pf), 0);
	for (size_t i = 0; i < len && res == 0; i += step ? step : len)
		res = sbx_portforward_feed(pf, in + i, step && step < len - i ? step : len - i, fds[1]);
	if (res == 0 && r->closes)
		res = sbx_portforward_feed(pf, NULL, 0, fds[1]);
	while (got < cap - 1 && (n = read(fds[0], out + got, cap - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	sbx_portforward_free(pf);
	close(fds[0]);
	close(fds[1]);
	return res;
}

static void test_portforward__table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		for (size_t step = 0; step <= 1; step++) {
			const struct row *r = &rows[i];
			char out[256];
			int res = feed(r, step, out, sizeof(out));

			if (res != r->want || strcmp(out, r->data) != 0 ||
			    (r->error && !strstr(sbx_error_last(), r->error)))
				fail_msg("row %zu '%s' (%s): result %d (want %d), data '%s' (want '%s'), "
					 "error '%s' (want '%s')", i, r->what, step ? "a byte at a time" :
					 "at once", res, r->want, out, r->data, sbx_error_last(),
					 r->error ? r->error : "");
		}
	}
}

static void test_portforward__ping_gets_its_pong(void **state)
{
	static const char in[] = OK_101 "\x89\x05hello";
	sbx_portforward *pf;
	const unsigned char *sent;
	size_t len;
	char payload[6];

	(void)state;
	assert_int_equal(sbx_portforward_offline(&pf), 0);
	assert_int_equal(sbx_portforward_feed(pf, in, sizeof(in) - 1, -1), 0);
	sent = (const unsigned char *)sbx_portforward_sent(pf, &len);
	/* FIN + pong, masked, 5 bytes, the mask, the masked payload */
	assert_int_equal(len, 2 + 4 + 5);
	assert_int_equal(sent[0], 0x8A);
	assert_int_equal(sent[1], 0x80 | 5);
	for (size_t i = 0; i < 5; i++)
		payload[i] = (char)(sent[6 + i] ^ sent[2 + i % 4]);
	payload[5] = '\0';
	assert_string_equal(payload, "hello");
	sbx_portforward_free(pf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_portforward__table),
		cmocka_unit_test(test_portforward__ping_gets_its_pong),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
