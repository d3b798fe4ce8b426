/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OpenSSH public-key lines ("TYPE BASE64 [COMMENT]"): parse, validate
 * against policy (RSA size, allowed types, no options prefix) and
 * fingerprint in OpenSSH's SHA256 format.
 */
#ifndef SBX_SSHKEY_H
#define SBX_SSHKEY_H

#include <stddef.h>

#include "buf.h"

#define SBX_SSHKEY_MAX_COMMENT 256
#define SBX_SSHKEY_MAX_LINE 16384

typedef struct sbx_sshkey {
	char *type;            /* "ssh-ed25519", "ecdsa-sha2-nistp256", ... */
	unsigned char *blob;   /* decoded key blob */
	size_t blob_len;
	char *comment;         /* "" when absent */
	int bits;              /* RSA modulus bits, ECDSA curve bits, 256 for ed25519 */
} sbx_sshkey;

#define SBX_SSHKEY_INIT { NULL, NULL, 0, NULL, 0 }

/* Parse and validate one public-key line (len bytes, need not be NUL
 * terminated). Accepted types: ssh-ed25519, ecdsa-sha2-nistp256/384/521,
 * ssh-rsa with at least min_rsa_bits, sk-ssh-ed25519@openssh.com and
 * sk-ecdsa-sha2-nistp256@openssh.com. Returns 0, or SBX_EINVAL with a
 * message for people in sbx_error_last() (e.g. "ssh-rsa key has 2048 bits;
 * policy requires at least 3072"). On success the caller must
 * sbx_sshkey_dispose(out). */
int sbx_sshkey_parse(sbx_sshkey *out, const char *line, size_t len, int min_rsa_bits);

/* Append "SHA256:<unpadded base64>" (as ssh-keygen -lf prints) to out. */
int sbx_sshkey_fingerprint(sbx_buf *out, const sbx_sshkey *k);

/* Append the normalised line "TYPE BASE64[ COMMENT]" to out. */
int sbx_sshkey_format(sbx_buf *out, const sbx_sshkey *k);

/* Free the contents of k (NULL-safe fields). */
void sbx_sshkey_dispose(sbx_sshkey *k);

#endif
