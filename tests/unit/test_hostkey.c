// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for core/hostkey.c: generated ed25519 key pairs (the private
 * half loads back into libssh and matches the public line), the
 * ssh-host-key Secret, and its fingerprint checked against sshkey.c and,
 * when installed, ssh-keygen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <libssh/libssh.h>
#include <openssl/evp.h>

#include "buf.h"
#include "error.h"
#include "hostkey.h"
#include "render.h"
#include "sshkey.h"

#define PEM_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----\n"
#define PEM_END "-----END OPENSSH PRIVATE KEY-----\n"

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Decode standard padded base64. Caller must free. */
static char *unbase64(const char *s)
{
	size_t n = strlen(s), pad = 0;
	unsigned char *out;
	int len;

	assert_true(n % 4 == 0);
	if (n && s[n - 1] == '=')
		pad++;
	if (n > 1 && s[n - 2] == '=')
		pad++;
	out = malloc(n / 4 * 3 + 1);
	assert_non_null(out);
	len = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	assert_true(len >= 0 && (size_t)len >= pad);
	len -= (int)pad;
	out[len] = '\0';
	assert_int_equal(strlen((char *)out), (size_t)len);
	return (char *)out;
}

static void free_private(char *pem)
{
	if (pem) {
		explicit_bzero(pem, strlen(pem));
		free(pem);
	}
}

/* The fingerprint sshkey.c gives for a public-key line. */
static void line_fingerprint(sbx_buf *out, const char *line)
{
	sbx_sshkey k = SBX_SSHKEY_INIT;

	assert_int_equal(sbx_sshkey_parse(&k, line, strlen(line), 2048), 0);
	assert_int_equal(sbx_sshkey_fingerprint(out, &k), 0);
	sbx_sshkey_dispose(&k);
}

/* Run `ssh-keygen -lf` on line written to a temporary file and copy the
 * fingerprint it prints into fp. Returns 0, or -1 when ssh-keygen is not
 * installed. */
static int ssh_keygen_fingerprint(char *fp, size_t fp_size, const char *line)
{
	const char *tmp = getenv("TMPDIR");
	char path[4096], cmd[4200], out[1024] = "", bits[32], sha[128];
	FILE *f, *p;
	int fd, len, status, r = -1;

	len = snprintf(path, sizeof(path), "%s/test_hostkey.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	assert_true(len > 0 && (size_t)len < sizeof(path));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_true(fprintf(f, "%s\n", line) > 0);
	assert_int_equal(fclose(f), 0);
	assert_null(strchr(path, '\''));
	len = snprintf(cmd, sizeof(cmd), "ssh-keygen -lf '%s' 2>/dev/null", path);
	assert_true(len > 0 && (size_t)len < sizeof(cmd));
	p = popen(cmd, "r");
	if (!p)
		goto done;
	if (!fgets(out, sizeof(out), p))
		out[0] = '\0';
	status = pclose(p);
	if (status == -1 || (WIFEXITED(status) && WEXITSTATUS(status) == 127))
		goto done;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("'%s' failed", cmd);
	assert_int_equal(sscanf(out, "%31s %127s", bits, sha), 2);
	assert_string_equal(bits, "256");
	assert_true(strlen(sha) < fp_size);
	memcpy(fp, sha, strlen(sha) + 1);
	r = 0;
done:
	unlink(path);
	return r;
}

/* An OpenSSH private key file and an "ssh-ed25519 AAAA..." line that
 * sshkey.c accepts as a 256-bit ed25519 key. */
static void test_hostkey__generate(void **state)
{
	char *priv = NULL, *pub = NULL;
	sbx_sshkey k = SBX_SSHKEY_INIT;

	(void)state;
	assert_int_equal(sbx_hostkey_generate(&priv, &pub), 0);
	assert_non_null(priv);
	assert_non_null(pub);
	assert_true(starts_with(priv, PEM_BEGIN));
	assert_true(ends_with(priv, PEM_END) || ends_with(priv, "-----END OPENSSH PRIVATE KEY-----"));
	assert_true(starts_with(pub, "ssh-ed25519 AAAA"));
	assert_null(strchr(pub, '\n'));
	assert_int_equal(sbx_sshkey_parse(&k, pub, strlen(pub), 2048), 0);
	assert_string_equal(k.type, "ssh-ed25519");
	assert_int_equal(k.bits, 256);
	/* the blob of an ed25519 key: string "ssh-ed25519" and a 32-byte key */
	assert_int_equal(k.blob_len, 4 + 11 + 4 + 32);
	sbx_sshkey_dispose(&k);
	free_private(priv);
	free(pub);
}

/* The private key loads back into libssh and its public half is the line. */
static void test_hostkey__private_matches_public(void **state)
{
	char *priv = NULL, *pub = NULL, *b64 = NULL;
	ssh_key key = NULL;

	(void)state;
	assert_int_equal(sbx_hostkey_generate(&priv, &pub), 0);
	assert_int_equal(ssh_pki_import_privkey_base64(priv, NULL, NULL, NULL, &key), SSH_OK);
	assert_int_equal(ssh_key_type(key), SSH_KEYTYPE_ED25519);
	assert_true(ssh_key_is_private(key));
	assert_int_equal(ssh_pki_export_pubkey_base64(key, &b64), SSH_OK);
	assert_string_equal(pub + strlen("ssh-ed25519 "), b64);
	ssh_string_free_char(b64);
	ssh_key_free(key);
	free_private(priv);
	free(pub);
}

/* Two calls, two different keys. */
static void test_hostkey__generate_differs(void **state)
{
	char *priv1 = NULL, *pub1 = NULL, *priv2 = NULL, *pub2 = NULL;

	(void)state;
	assert_int_equal(sbx_hostkey_generate(&priv1, &pub1), 0);
	assert_int_equal(sbx_hostkey_generate(&priv2, &pub2), 0);
	assert_string_not_equal(pub1, pub2);
	assert_string_not_equal(priv1, priv2);
	free_private(priv1);
	free_private(priv2);
	free(pub1);
	free(pub2);
}

static const char *str_at(const cJSON *o, const char *a, const char *b, const char *c)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	if (c)
		v = cJSON_GetObjectItemCaseSensitive(v, c);
	if (!cJSON_IsString(v))
		fail_msg("no string at %s.%s.%s", a, b ? b : "", c ? c : "");
	return v->valuestring;
}

/* The Secret: v1, named ssh-host-key in the namespace, the tracking labels
 * and annotation, both halves base64-encoded. */
static void test_hostkey__secret(void **state)
{
	cJSON *s = sbx_hostkey_secret("sbx-alice", "alice", "alice");
	const cJSON *data;
	char *priv, *pub;
	sbx_sshkey k = SBX_SSHKEY_INIT;
	ssh_key key = NULL;

	(void)state;
	assert_non_null(s);
	assert_string_equal(str_at(s, "apiVersion", NULL, NULL), "v1");
	assert_string_equal(str_at(s, "kind", NULL, NULL), "Secret");
	assert_string_equal(str_at(s, "metadata", "name", NULL), "ssh-host-key");
	assert_string_equal(str_at(s, "metadata", "name", NULL), SBX_HOSTKEY_SECRET);
	assert_string_equal(str_at(s, "metadata", "namespace", NULL), "sbx-alice");
	assert_string_equal(str_at(s, "metadata", "labels", "app.kubernetes.io/managed-by"),
			    "sandbox-controller");
	assert_string_equal(str_at(s, "metadata", "labels", "sandbox.dev/name"), "alice");
	assert_string_equal(str_at(s, "metadata", "annotations", SBX_ANNOTATION_TRACKING),
			    "alice:/Secret:sbx-alice/ssh-host-key");
	data = cJSON_GetObjectItemCaseSensitive(s, "data");
	assert_true(cJSON_IsObject(data));
	assert_int_equal(cJSON_GetArraySize(data), 2);
	priv = unbase64(str_at(s, "data", SBX_HOSTKEY_PRIVATE, NULL));
	pub = unbase64(str_at(s, "data", SBX_HOSTKEY_PUBLIC, NULL));
	assert_string_equal(SBX_HOSTKEY_PRIVATE, "ssh_host_ed25519_key");
	assert_string_equal(SBX_HOSTKEY_PUBLIC, "ssh_host_ed25519_key.pub");
	assert_true(starts_with(priv, PEM_BEGIN));
	assert_true(starts_with(pub, "ssh-ed25519 AAAA"));
	assert_int_equal(sbx_sshkey_parse(&k, pub, strlen(pub), 2048), 0);
	assert_string_equal(k.type, "ssh-ed25519");
	assert_int_equal(ssh_pki_import_privkey_base64(priv, NULL, NULL, NULL, &key), SSH_OK);
	sbx_sshkey_dispose(&k);
	ssh_key_free(key);
	free_private(priv);
	free(pub);
	cJSON_Delete(s);
}

/* The tracking annotation carries the instance, which need not be the
 * sandbox name; every Secret gets a fresh key. */
static void test_hostkey__secret_instance(void **state)
{
	cJSON *a = sbx_hostkey_secret("team-ns", "bob", "prod-bob");
	cJSON *b = sbx_hostkey_secret("team-ns", "bob", "prod-bob");

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(str_at(a, "metadata", "annotations", SBX_ANNOTATION_TRACKING),
			    "prod-bob:/Secret:team-ns/ssh-host-key");
	assert_string_equal(str_at(a, "metadata", "labels", SBX_LABEL_NAME), "bob");
	assert_string_equal(str_at(a, "metadata", "namespace", NULL), "team-ns");
	assert_string_not_equal(str_at(a, "data", SBX_HOSTKEY_PUBLIC, NULL),
				str_at(b, "data", SBX_HOSTKEY_PUBLIC, NULL));
	cJSON_Delete(a);
	cJSON_Delete(b);
}

/* The Secret's fingerprint is the fingerprint of its public line, and
 * what ssh-keygen prints for it. */
static void test_hostkey__fingerprint(void **state)
{
	cJSON *s = sbx_hostkey_secret("sbx-alice", "alice", "alice");
	sbx_buf got = SBX_BUF_INIT, want = SBX_BUF_INIT;
	char *pub, fp[128];

	(void)state;
	assert_non_null(s);
	assert_int_equal(sbx_hostkey_fingerprint(&got, s), 0);
	assert_true(starts_with(sbx_buf_cstr(&got), "SHA256:"));
	assert_int_equal(got.len, strlen("SHA256:") + 43);
	pub = unbase64(str_at(s, "data", SBX_HOSTKEY_PUBLIC, NULL));
	line_fingerprint(&want, pub);
	assert_string_equal(sbx_buf_cstr(&got), sbx_buf_cstr(&want));
	if (ssh_keygen_fingerprint(fp, sizeof(fp), pub) == 0)
		assert_string_equal(sbx_buf_cstr(&got), fp);
	else
		print_message("ssh-keygen not installed; cross-check skipped\n");
	free(pub);
	sbx_buf_dispose(&got);
	sbx_buf_dispose(&want);
	cJSON_Delete(s);
}

/* The fingerprint is appended, and the public line may end in a newline
 * and carry a comment (as a .pub file written by hand would). */
static void test_hostkey__fingerprint_live_forms(void **state)
{
	char *priv = NULL, *pub = NULL, *b64;
	sbx_buf line = SBX_BUF_INIT, got = SBX_BUF_INIT, want = SBX_BUF_INIT;
	cJSON *s = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"data\":{}}");
	unsigned char *enc;

	(void)state;
	assert_non_null(s);
	assert_int_equal(sbx_hostkey_generate(&priv, &pub), 0);
	assert_int_equal(sbx_buf_printf(&line, "%s root@sandbox\n", pub), 0);
	enc = malloc(4 * ((line.len + 2) / 3) + 1);
	assert_non_null(enc);
	EVP_EncodeBlock(enc, (const unsigned char *)line.ptr, (int)line.len);
	b64 = (char *)enc;
	assert_non_null(cJSON_AddStringToObject(cJSON_GetObjectItem(s, "data"), SBX_HOSTKEY_PUBLIC, b64));
	assert_int_equal(sbx_buf_puts(&got, "fp="), 0);
	assert_int_equal(sbx_hostkey_fingerprint(&got, s), 0);
	assert_int_equal(sbx_buf_puts(&want, "fp="), 0);
	line_fingerprint(&want, pub);
	assert_string_equal(sbx_buf_cstr(&got), sbx_buf_cstr(&want));
	free(b64);
	free_private(priv);
	free(pub);
	sbx_buf_dispose(&line);
	sbx_buf_dispose(&got);
	sbx_buf_dispose(&want);
	cJSON_Delete(s);
}

static void expect_einval(const char *json)
{
	cJSON *s = cJSON_Parse(json);
	sbx_buf out = SBX_BUF_INIT;

	if (!s)
		fail_msg("bad test JSON: %s", json);
	sbx_error_clear();
	assert_int_equal(sbx_hostkey_fingerprint(&out, s), SBX_EINVAL);
	assert_string_equal(sbx_buf_cstr(&out), "");
	assert_string_not_equal(sbx_error_last(), "");
	sbx_buf_dispose(&out);
	cJSON_Delete(s);
}

/* A Secret without a usable public key: SBX_EINVAL and nothing appended. */
static void test_hostkey__fingerprint_invalid(void **state)
{
	sbx_buf out = SBX_BUF_INIT;

	(void)state;
	expect_einval("{\"apiVersion\":\"v1\",\"kind\":\"Secret\"}");
	expect_einval("{\"kind\":\"Secret\",\"data\":{}}");
	expect_einval("{\"kind\":\"Secret\",\"data\":{\"ssh_host_ed25519_key\":\"eA==\"}}");
	expect_einval("{\"kind\":\"Secret\",\"data\":{\"ssh_host_ed25519_key.pub\":7}}");
	expect_einval("{\"kind\":\"Secret\",\"data\":{\"ssh_host_ed25519_key.pub\":null}}");
	expect_einval("{\"kind\":\"Secret\",\"data\":{\"ssh_host_ed25519_key.pub\":\"\"}}");
	/* not base64 */
	expect_einval("{\"kind\":\"Secret\",\"data\":{\"ssh_host_ed25519_key.pub\":\"!!!!\"}}");
	expect_einval("{\"kind\":\"Secret\",\"data\":{\"ssh_host_ed25519_key.pub\":\"abc\"}}");
	/* base64 of something that is not a key: "hello world" */
	expect_einval("{\"kind\":\"Secret\",\"data\":{\"ssh_host_ed25519_key.pub\":\"aGVsbG8gd29ybGQ=\"}}");
	/* base64 of "ssh-ed25519 AAAA" (a truncated key) */
	expect_einval("{\"kind\":\"Secret\",\"data\":{\"ssh_host_ed25519_key.pub\":\"c3NoLWVkMjU1MTkgQUFBQQ==\"}}");
	/* in stringData (not yet encoded by the server) it is not found */
	expect_einval("{\"kind\":\"Secret\",\"stringData\":{\"ssh_host_ed25519_key.pub\":\"x\"}}");
	sbx_error_clear();
	assert_int_equal(sbx_hostkey_fingerprint(&out, NULL), SBX_EINVAL);
	sbx_buf_dispose(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostkey__generate),
		cmocka_unit_test(test_hostkey__private_matches_public),
		cmocka_unit_test(test_hostkey__generate_differs),
		cmocka_unit_test(test_hostkey__secret),
		cmocka_unit_test(test_hostkey__secret_instance),
		cmocka_unit_test(test_hostkey__fingerprint),
		cmocka_unit_test(test_hostkey__fingerprint_live_forms),
		cmocka_unit_test(test_hostkey__fingerprint_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
