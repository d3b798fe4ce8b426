// SPDX-License-Identifier: Apache-2.0
/*
 * ed25519 host keys with libssh, packed into the ssh-host-key Secret, and
 * the fingerprint of a live Secret's public key.
 */
#include <libssh/libssh.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "hostkey.h"
#include "render.h"
#include "sshkey.h"

int sbx_hostkey_generate(char **private_pem, char **public_line)
{
	ssh_key key = NULL;
	char *priv = NULL, *pub = NULL;
	sbx_buf line = SBX_BUF_INIT;
	int r = 0;

	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK ||
	    ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &priv) != SSH_OK ||
	    ssh_pki_export_pubkey_base64(key, &pub) != SSH_OK) {
		r = sbx_error_set(SBX_EIO, "could not generate an ed25519 host key");
		goto done;
	}
	sbx_buf_printf(&line, "ssh-ed25519 %s", pub);
	{
		char *pubcopy = sbx_buf_take(&line, NULL), *privcopy = strdup(priv);

		if (!pubcopy || !privcopy) {
			free(pubcopy);
			free(privcopy);
			r = sbx_error_set(SBX_ENOMEM, "out of memory");
			goto done;
		}
		*public_line = pubcopy;
		*private_pem = privcopy;
	}
done:
	if (priv) {
		explicit_bzero(priv, strlen(priv));
		ssh_string_free_char(priv);
	}
	ssh_string_free_char(pub);
	ssh_key_free(key);
	sbx_buf_dispose(&line);
	return r;
}

static char *b64(const char *s)
{
	size_t len = strlen(s);
	unsigned char *out = malloc(4 * ((len + 2) / 3) + 1);

	if (out)
		EVP_EncodeBlock(out, (const unsigned char *)s, (int)len);
	return (char *)out;
}

cJSON *sbx_hostkey_secret(const char *ns, const char *name, const char *instance)
{
	char *priv = NULL, *pub = NULL, *bpriv = NULL, *bpub = NULL;
	cJSON *s = NULL, *meta, *data;

	if (sbx_hostkey_generate(&priv, &pub) < 0)
		return NULL;
	bpriv = b64(priv);
	bpub = b64(pub);
	s = cJSON_CreateObject();
	if (!bpriv || !bpub || !s) {
		sbx_error_set(SBX_ENOMEM, "out of memory");
		cJSON_Delete(s);
		s = NULL;
		goto done;
	}
	cJSON_AddStringToObject(s, "apiVersion", "v1");
	cJSON_AddStringToObject(s, "kind", "Secret");
	meta = cJSON_AddObjectToObject(s, "metadata");
	cJSON_AddStringToObject(meta, "name", SBX_HOSTKEY_SECRET);
	cJSON_AddStringToObject(meta, "namespace", ns);
	sbx_render_mark(s, instance, name);
	cJSON_AddStringToObject(s, "type", "Opaque");
	data = cJSON_AddObjectToObject(s, "data");
	cJSON_AddStringToObject(data, SBX_HOSTKEY_PRIVATE, bpriv);
	cJSON_AddStringToObject(data, SBX_HOSTKEY_PUBLIC, bpub);
done:
	if (priv)
		explicit_bzero(priv, strlen(priv));
	if (bpriv)
		explicit_bzero(bpriv, strlen(bpriv));
	free(priv);
	free(pub);
	free(bpriv);
	free(bpub);
	return s;
}

int sbx_hostkey_fingerprint(sbx_buf *out, const cJSON *secret)
{
	return sbx_hostkey_public(NULL, out, secret);
}

int sbx_hostkey_public(sbx_buf *line_out, sbx_buf *fingerprint, const cJSON *secret)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(secret, "data"), SBX_HOSTKEY_PUBLIC);
	sbx_sshkey key = SBX_SSHKEY_INIT;
	unsigned char *line;
	size_t n;
	int len, r;

	if (!cJSON_IsString(v))
		return sbx_error_set(SBX_EINVAL, "the host-key Secret has no public key");
	n = strlen(v->valuestring);
	line = malloc(n / 4 * 3 + 4);
	if (!line)
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	len = EVP_DecodeBlock(line, (const unsigned char *)v->valuestring, (int)n);
	if (len < 0) {
		free(line);
		return sbx_error_set(SBX_EINVAL, "the host-key Secret's public key is not base64");
	}
	while (len > 0 && (line[len - 1] == '\0' || line[len - 1] == '\n'))
		len--;
	r = sbx_sshkey_parse(&key, (const char *)line, (size_t)len, 2048);
	if (r == 0 && fingerprint)
		r = sbx_sshkey_fingerprint(fingerprint, &key);
	if (r == 0 && line_out)
		r = sbx_sshkey_format(line_out, &key);
	sbx_sshkey_dispose(&key);
	free(line);
	return r;
}
