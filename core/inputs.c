// SPDX-License-Identifier: Apache-2.0
/*
 * Inputs hashes (see inputs.h): SHA-256 over the policy, each template's
 * path and bytes, then the sandbox's own part; the first 8 bytes in hex.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "inputs.h"

struct sbx_inputs {
	EVP_MD_CTX *shared;     /* policy and templates, hashed once */
};

sbx_inputs *sbx_inputs_new(const sbx_git_files *f)
{
	sbx_inputs *in = calloc(1, sizeof(*in));

	if (!in || !(in->shared = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(in->shared, EVP_sha256(), NULL)) {
		sbx_inputs_free(in);
		return NULL;
	}
	if (f->policy)
		EVP_DigestUpdate(in->shared, f->policy->data, f->policy->len);
	EVP_DigestUpdate(in->shared, "\0", 1);
	for (size_t i = 0; i < f->ntemplates; i++) {
		EVP_DigestUpdate(in->shared, f->templates[i].path, strlen(f->templates[i].path) + 1);
		EVP_DigestUpdate(in->shared, f->templates[i].data, f->templates[i].len);
		EVP_DigestUpdate(in->shared, "\0", 1);
	}
	return in;
}

void sbx_inputs_hash(char out[17], const sbx_inputs *in, const char *what, const char *data,
		     size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	out[0] = '\0';
	if (ctx && in && EVP_MD_CTX_copy_ex(ctx, in->shared) && EVP_DigestUpdate(ctx, what, strlen(what) + 1) &&
	    (!data || EVP_DigestUpdate(ctx, data, len)) && EVP_DigestFinal_ex(ctx, md, &n))
		for (int i = 0; i < 8; i++)
			snprintf(out + 2 * i, 3, "%02x", md[i]);
	EVP_MD_CTX_free(ctx);
}

void sbx_inputs_free(sbx_inputs *in)
{
	if (!in)
		return;
	EVP_MD_CTX_free(in->shared);
	free(in);
}
