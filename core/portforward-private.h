/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A port-forward without a connection, so the fuzzer
 * (tests/fuzz/fuzz_portforward.c) and the unit tests reach the reader of
 * what the server sends: the answer to the upgrade, then RFC 6455 frames
 * and the channel protocol. Not installed; product code uses portforward.h.
 */
#ifndef SBX_PORTFORWARD_PRIVATE_H
#define SBX_PORTFORWARD_PRIVATE_H

#include <stddef.h>

#include "portforward.h"

/* A forward that has sent its upgrade request with RFC 6455's example key
 * ("dGhlIHNhbXBsZSBub25jZQ==") and keeps what it would send from then on
 * (pongs, the close frame of sbx_portforward_free). Returns 0 and *out
 * (caller must sbx_portforward_free), or SBX_ENOMEM. */
int sbx_portforward_offline(sbx_portforward **out);

/* Bytes from the server as they arrive, split anywhere: first the answer
 * to the upgrade, then frames, read as sbx_portforward_pump reads them;
 * data of the port goes to out_fd. data NULL: the server closed the
 * connection (a refusal is read then, with its body). Returns 0 to go on,
 * 1 once the server sent a close frame or closed after the upgrade, or a
 * negative SBX_E* with the reason in sbx_error_last(). */
int sbx_portforward_feed(sbx_portforward *pf, const void *data, size_t len, int out_fd);

/* What the forward has sent so far: masked client frames. */
const char *sbx_portforward_sent(const sbx_portforward *pf, size_t *len);

#endif
