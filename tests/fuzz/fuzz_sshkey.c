// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for core/sshkey.c: parse arbitrary bytes as a key line
 * (RSA minimum 2048) and, when they parse, fingerprint and format the key
 * and check the formatted line parses back to the same blob.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "sshkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sbx_sshkey k = SBX_SSHKEY_INIT, again = SBX_SSHKEY_INIT;
	sbx_buf fp = SBX_BUF_INIT, line = SBX_BUF_INIT;

	sbx_error_clear();
	if (sbx_sshkey_parse(&k, (const char *)data, size, 2048) != 0)
		goto done;
	if (sbx_sshkey_fingerprint(&fp, &k) != 0 || sbx_sshkey_format(&line, &k) != 0)
		abort();
	if (strncmp(sbx_buf_cstr(&fp), "SHA256:", 7) != 0 || fp.len != 7 + 43)
		abort();
	if (sbx_sshkey_parse(&again, line.ptr, line.len, 2048) != 0 ||
	    again.blob_len != k.blob_len || memcmp(again.blob, k.blob, k.blob_len) != 0 ||
	    strcmp(again.type, k.type) != 0 || strcmp(again.comment, k.comment) != 0 ||
	    again.bits != k.bits)
		abort();
done:
	sbx_sshkey_dispose(&again);
	sbx_sshkey_dispose(&k);
	sbx_buf_dispose(&line);
	sbx_buf_dispose(&fp);
	return 0;
}
