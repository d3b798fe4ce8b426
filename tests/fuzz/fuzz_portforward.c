// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for port-forward's reader: the input (after its first
 * byte) is what the API server sends on the connection, the answer to the
 * upgrade and then WebSocket frames, cut into reads whose sizes the first
 * byte seeds, so a header, a length or a frame is split anywhere, as TLS
 * records split them. Any bytes must end in data, a close or an error,
 * never a crash or a leak; and all the forward sends back while reading
 * is masked pongs of at most 125 bytes.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>

#include "portforward-private.h"
#include "reads.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every frame in sent is a masked pong. */
static void check_sent(const unsigned char *p, size_t len)
{
	while (len) {
		size_t n;

		if (len < 6 || (p[1] & 0x80) == 0 || (p[1] & 0x7f) > 125)
			__builtin_trap();
		n = 6 + (p[1] & 0x7f);
		if (n > len || p[0] != (0x80 | 0xA))
			__builtin_trap();
		p += n;
		len -= n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int out_fd = -1;
	sbx_portforward *pf;
	const char *sent;
	size_t sent_len;
	unsigned seed;
	int r = 0;

	if (out_fd < 0 && (out_fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0)
		__builtin_trap();
	if (size < 1)
		return 0;
	seed = data[0];
	data++;
	size--;
	if (sbx_portforward_offline(&pf) < 0)
		return 0;
	for (size_t i = 0; i < size && r == 0;) {
		size_t n = next_read(&seed, size - i);

		r = sbx_portforward_feed(pf, data + i, n, out_fd);
		i += n;
	}
	if (r == 0)
		sbx_portforward_feed(pf, NULL, 0, out_fd);   /* then the server closes */
	sent = sbx_portforward_sent(pf, &sent_len);
	check_sent((const unsigned char *)sent, sent_len);
	sbx_portforward_free(pf);
	return 0;
}
