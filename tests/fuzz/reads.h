/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How the stream harnesses (watchstream, portforward) cut their input into
 * reads, as TCP, TLS and HTTP/2 cut a stream: the first byte seeds the
 * sizes, mostly 1 to 61 bytes and now and then the rest at once.
 */
#ifndef SBX_FUZZ_READS_H
#define SBX_FUZZ_READS_H

#include <stddef.h>

/* The size of the next read when `left` bytes remain (at least 1). */
static inline size_t next_read(unsigned *seed, size_t left)
{
	size_t n;

	*seed = *seed * 1103515245u + 12345u;
	n = (*seed >> 16) % 8 == 0 ? left : 1 + (*seed >> 16) % 61;
	return n > left ? left : n;
}

#endif
