// SPDX-License-Identifier: Apache-2.0
/*
 * OpenSSH public-key lines: split "TYPE BASE64 [COMMENT]", decode the blob
 * strictly, walk its wire structure (RFC 4253, 5656, 8709, PROTOCOL.u2f),
 * apply the key policy and compute the SHA256 fingerprint ssh-keygen prints.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "error.h"
#include "sshkey.h"

#define RSA_FLOOR_BITS 1024     /* OpenSSH refuses smaller moduli */
#define RSA_MAX_BITS 16384      /* OpenSSH refuses larger moduli */
#define ED25519_PK_LEN 32
#define QUOTE_MAX 40            /* bytes of user input echoed in messages */

enum kind { KIND_RSA, KIND_ECDSA, KIND_ED25519 };

struct keytype {
	const char *name;
	enum kind kind;
	bool sk;
	const char *curve;      /* ECDSA only */
	int curve_nid;          /* ECDSA only */
	int bits;               /* ECDSA and ed25519 */
};

static const struct keytype types[] = {
	{ "ssh-ed25519", KIND_ED25519, false, NULL, 0, 256 },
	{ "ecdsa-sha2-nistp256", KIND_ECDSA, false, "nistp256", NID_X9_62_prime256v1, 256 },
	{ "ecdsa-sha2-nistp384", KIND_ECDSA, false, "nistp384", NID_secp384r1, 384 },
	{ "ecdsa-sha2-nistp521", KIND_ECDSA, false, "nistp521", NID_secp521r1, 521 },
	{ "ssh-rsa", KIND_RSA, false, NULL, 0, 0 },
	{ "sk-ssh-ed25519@openssh.com", KIND_ED25519, true, NULL, 0, 256 },
	{ "sk-ecdsa-sha2-nistp256@openssh.com", KIND_ECDSA, true, "nistp256", NID_X9_62_prime256v1, 256 },
};

/* authorized_keys option names (sshd(8) "AUTHORIZED_KEYS FILE FORMAT") */
static const char *const option_names[] = {
	"agent-forwarding", "cert-authority", "command", "environment",
	"expiry-time", "from", "no-agent-forwarding", "no-port-forwarding",
	"no-pty", "no-touch-required", "no-user-rc", "no-X11-forwarding",
	"permitlisten", "permitopen", "port-forwarding", "principals", "pty",
	"restrict", "touch-required", "tunnel", "user-rc", "verify-required",
	"X11-forwarding",
};

struct reader {
	const unsigned char *p;
	size_t len;
	size_t off;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Copy at most QUOTE_MAX bytes of s into out for a message, replacing
 * anything that is not printable ASCII with '?'. */
static const char *quote(char out[QUOTE_MAX + 4], const char *s, size_t n)
{
	size_t i, k = n > QUOTE_MAX ? QUOTE_MAX : n;

	for (i = 0; i < k; i++) {
		unsigned char c = (unsigned char)s[i];
		out[i] = (c >= 0x20 && c < 0x7f && c != '\'') ? (char)c : '?';
	}
	if (k < n) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = '\0';
	return out;
}

static bool token_is(const char *s, size_t n, const char *name)
{
	return strlen(name) == n && memcmp(s, name, n) == 0;
}

static const struct keytype *find_type(const char *s, size_t n)
{
	const struct keytype *t = NULL;
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (token_is(s, n, types[i].name)) {
			t = &types[i];
			break;
		}
	}
	return t;
}

static bool is_cert_type(const char *s, size_t n)
{
	static const char suffix[] = "-cert-v01@openssh.com";
	size_t k = sizeof(suffix) - 1;

	return n > k && memcmp(s + n - k, suffix, k) == 0;
}

/* Anything that names a key type, accepted or not. */
static bool names_key_type(const char *s, size_t n)
{
	return find_type(s, n) || token_is(s, n, "ssh-dss") || is_cert_type(s, n);
}

/* Does the line look like authorized_keys options followed by a key? The
 * first field (s, n) is already known not to be a key type; rest is what
 * follows it. */
static bool looks_like_options(const char *s, size_t n, const char *rest, size_t rest_len)
{
	bool found = false;
	size_t i, name_len = 0, pos = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '=' || s[i] == ',' || s[i] == '"') {
			found = true;
			goto done;
		}
	}
	while (name_len < n && s[name_len] != '=' && s[name_len] != ',')
		name_len++;
	for (i = 0; i < sizeof(option_names) / sizeof(option_names[0]); i++) {
		if (strlen(option_names[i]) == name_len &&
		    strncasecmp(s, option_names[i], name_len) == 0) {
			found = true;
			goto done;
		}
	}
	while (pos < rest_len) {
		size_t start;

		while (pos < rest_len && is_blank(rest[pos]))
			pos++;
		start = pos;
		while (pos < rest_len && !is_blank(rest[pos]))
			pos++;
		if (pos > start && names_key_type(rest + start, pos - start)) {
			found = true;
			goto done;
		}
	}
done:
	return found;
}

/* Reject line breaks, NUL and other control characters anywhere. */
static int check_bytes(const char *line, size_t len)
{
	int r = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c == '\n' || c == '\r') {
			r = sbx_error_set(SBX_EINVAL, "ssh key contains a line break; "
				"put each key in its own list entry");
			goto done;
		}
		if (c == '\0') {
			r = sbx_error_set(SBX_EINVAL, "ssh key contains a NUL byte; "
				"paste the line from the .pub file unchanged");
			goto done;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			r = sbx_error_set(SBX_EINVAL, "ssh key contains control character 0x%02x; "
				"paste the line from the .pub file unchanged", c);
			goto done;
		}
	}
done:
	return r;
}

/* Strict UTF-8: no overlong forms, surrogates or code points past U+10FFFF. */
static bool valid_utf8(const unsigned char *s, size_t n)
{
	bool ok = false;
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t k, need;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else {
			goto done;
		}
		if (n - i - 1 < need)
			goto done;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				goto done;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			goto done;
		i += need + 1;
	}
	ok = true;
done:
	return ok;
}

static int b64_value(unsigned char c)
{
	int v = -1;

	if (c >= 'A' && c <= 'Z')
		v = c - 'A';
	else if (c >= 'a' && c <= 'z')
		v = c - 'a' + 26;
	else if (c >= '0' && c <= '9')
		v = c - '0' + 52;
	else if (c == '+')
		v = 62;
	else if (c == '/')
		v = 63;
	return v;
}

/* Decode canonical, padded base64 as OpenSSH writes it; reject anything
 * else (bad characters, missing or misplaced '=', non-zero pad bits). On
 * success *out is malloc'd; caller must free it. */
static int b64_decode(unsigned char **out, size_t *out_len, const char *s, size_t n)
{
	static const char hint[] = "paste the line from the .pub file unchanged";
	unsigned char *bin = NULL;
	size_t i, pad = 0;
	int r = 0, got;

	if (n % 4 != 0) {
		r = sbx_error_set(SBX_EINVAL, "ssh key data is not valid base64 "
			"(length %zu is not a multiple of 4); %s", n, hint);
		goto done;
	}
	if (n >= 1 && s[n - 1] == '=')
		pad++;
	if (pad == 1 && n >= 2 && s[n - 2] == '=')
		pad++;
	for (i = 0; i < n - pad; i++) {
		if (b64_value((unsigned char)s[i]) < 0) {
			r = sbx_error_set(SBX_EINVAL, "ssh key data is not valid base64 "
				"(unexpected character at offset %zu); %s", i, hint);
			goto done;
		}
	}
	if (pad > 0 && (b64_value((unsigned char)s[n - pad - 1]) & (pad == 1 ? 0x03 : 0x0f)) != 0) {
		r = sbx_error_set(SBX_EINVAL, "ssh key data is not valid base64 "
			"(non-zero padding bits); %s", hint);
		goto done;
	}
	bin = malloc(n / 4 * 3 + 1);
	if (!bin) {
		r = sbx_error_set(SBX_ENOMEM, "out of memory");
		goto done;
	}
	got = EVP_DecodeBlock(bin, (const unsigned char *)s, (int)n);
	if (got < 0 || (size_t)got != n / 4 * 3) {
		ERR_clear_error();
		r = sbx_error_set(SBX_EINVAL, "ssh key data is not valid base64; %s", hint);
		goto done;
	}
	*out = bin;
	*out_len = (size_t)got - pad;
	bin = NULL;
done:
	free(bin);
	return r;
}

static int truncated(void)
{
	return sbx_error_set(SBX_EINVAL, "ssh key data is truncated; "
		"paste the whole line from the .pub file");
}

/* Read one SSH "string" (uint32 length, bytes). */
static int get_string(struct reader *rd, const unsigned char **s, size_t *n)
{
	int r = 0;
	uint32_t len;

	if (rd->len - rd->off < 4) {
		r = truncated();
		goto done;
	}
	len = (uint32_t)rd->p[rd->off] << 24 | (uint32_t)rd->p[rd->off + 1] << 16 |
	      (uint32_t)rd->p[rd->off + 2] << 8 | (uint32_t)rd->p[rd->off + 3];
	rd->off += 4;
	if (len > rd->len - rd->off) {
		r = truncated();
		goto done;
	}
	*s = rd->p + rd->off;
	*n = len;
	rd->off += len;
done:
	return r;
}

/* Read a positive mpint (RFC 4251 section 5) with its leading zero byte
 * stripped; *n is 0 for the value zero. */
static int get_mpint(struct reader *rd, const char *what, const unsigned char **s, size_t *n)
{
	const unsigned char *p = NULL;
	size_t len = 0;
	int r;

	r = get_string(rd, &p, &len);
	if (r < 0)
		goto done;
	if (len > 0 && (p[0] & 0x80)) {
		r = sbx_error_set(SBX_EINVAL, "ssh-rsa key data has a negative %s; "
			"paste the line from the .pub file unchanged", what);
		goto done;
	}
	if (len > 0 && p[0] == 0) {
		if (len == 1 || !(p[1] & 0x80)) {
			r = sbx_error_set(SBX_EINVAL, "ssh-rsa key data has a badly encoded %s; "
				"paste the line from the .pub file unchanged", what);
			goto done;
		}
		p++;
		len--;
	}
	*s = p;
	*n = len;
done:
	return r;
}

static int parse_rsa(struct reader *rd, int min_bits, int *bits)
{
	const unsigned char *e = NULL, *n = NULL;
	size_t e_len = 0, n_len = 0;
	int r, nbits = 0;
	unsigned char top;

	r = get_mpint(rd, "public exponent", &e, &e_len);
	if (r < 0)
		goto done;
	r = get_mpint(rd, "modulus", &n, &n_len);
	if (r < 0)
		goto done;
	if (e_len == 0 || !(e[e_len - 1] & 1) || (e_len == 1 && e[0] < 3)) {
		r = sbx_error_set(SBX_EINVAL, "ssh-rsa key data has an invalid public exponent; "
			"paste the line from the .pub file unchanged");
		goto done;
	}
	if (n_len == 0 || !(n[n_len - 1] & 1)) {
		r = sbx_error_set(SBX_EINVAL, "ssh-rsa key data has an invalid modulus; "
			"paste the line from the .pub file unchanged");
		goto done;
	}
	if (n_len > RSA_MAX_BITS / 8) {
		r = sbx_error_set(SBX_EINVAL, "ssh-rsa key has more than %d bits; "
			"generate a smaller key, e.g. 'ssh-keygen -t ed25519'", RSA_MAX_BITS);
		goto done;
	}
	for (top = n[0]; top; top >>= 1)
		nbits++;
	nbits += (int)(n_len - 1) * 8;
	if (min_bits < RSA_FLOOR_BITS)
		min_bits = RSA_FLOOR_BITS;
	if (nbits < min_bits) {
		r = sbx_error_set(SBX_EINVAL, "ssh-rsa key has %d bits; policy requires at least %d; "
			"generate a new key with 'ssh-keygen -t ed25519'", nbits, min_bits);
		goto done;
	}
	*bits = nbits;
done:
	return r;
}

/* Is the uncompressed point a valid public point of the curve? */
static int check_point(const struct keytype *t, const unsigned char *q, size_t q_len)
{
	EC_GROUP *group = NULL;
	EC_POINT *point = NULL;
	int r = 0;

	group = EC_GROUP_new_by_curve_name(t->curve_nid);
	point = group ? EC_POINT_new(group) : NULL;
	if (!point) {
		ERR_clear_error();
		r = sbx_error_set(SBX_ENOMEM, "out of memory");
		goto done;
	}
	if (EC_POINT_oct2point(group, point, q, q_len, NULL) != 1 ||
	    EC_POINT_is_at_infinity(group, point) ||
	    EC_POINT_is_on_curve(group, point, NULL) != 1) {
		ERR_clear_error();
		r = sbx_error_set(SBX_EINVAL, "%s key data has a public point that is not on "
			"curve %s; paste the line from the .pub file unchanged", t->name, t->curve);
		goto done;
	}
done:
	EC_POINT_free(point);
	EC_GROUP_free(group);
	return r;
}

static int parse_ecdsa(struct reader *rd, const struct keytype *t)
{
	const unsigned char *curve = NULL, *q = NULL;
	size_t curve_len = 0, q_len = 0, want;
	char qbuf[QUOTE_MAX + 4];
	int r;

	r = get_string(rd, &curve, &curve_len);
	if (r < 0)
		goto done;
	if (!token_is((const char *)curve, curve_len, t->curve)) {
		r = sbx_error_set(SBX_EINVAL, "%s key data is for curve '%s', not '%s'; "
			"paste the line from the .pub file unchanged", t->name,
			quote(qbuf, (const char *)curve, curve_len), t->curve);
		goto done;
	}
	r = get_string(rd, &q, &q_len);
	if (r < 0)
		goto done;
	want = 1 + 2 * (((size_t)t->bits + 7) / 8);
	if (q_len != want || q[0] != 0x04) {
		r = sbx_error_set(SBX_EINVAL, "%s key data does not hold an uncompressed "
			"%zu-byte public point; paste the line from the .pub file unchanged",
			t->name, want);
		goto done;
	}
	r = check_point(t, q, q_len);
done:
	return r;
}

static int parse_ed25519(struct reader *rd, const struct keytype *t)
{
	const unsigned char *pk = NULL;
	size_t pk_len = 0;
	int r;

	r = get_string(rd, &pk, &pk_len);
	if (r < 0)
		goto done;
	if (pk_len != ED25519_PK_LEN) {
		r = sbx_error_set(SBX_EINVAL, "%s key data has a %zu-byte public key, "
			"expected %d; paste the line from the .pub file unchanged",
			t->name, pk_len, ED25519_PK_LEN);
		goto done;
	}
done:
	return r;
}

/* Walk the decoded blob of a key of type t; *bits gets the key size. */
static int parse_blob(const struct keytype *t, const unsigned char *blob, size_t blob_len,
		      int min_rsa_bits, int *bits)
{
	struct reader rd = { blob, blob_len, 0 };
	const unsigned char *s = NULL;
	size_t n = 0;
	char qbuf[QUOTE_MAX + 4];
	int r, b = t->bits;

	r = get_string(&rd, &s, &n);
	if (r < 0)
		goto done;
	if (!token_is((const char *)s, n, t->name)) {
		r = sbx_error_set(SBX_EINVAL, "ssh key type '%s' does not match its key data, "
			"which is '%s'; paste the line from the .pub file unchanged",
			t->name, quote(qbuf, (const char *)s, n));
		goto done;
	}
	switch (t->kind) {
	case KIND_RSA:
		r = parse_rsa(&rd, min_rsa_bits, &b);
		break;
	case KIND_ECDSA:
		r = parse_ecdsa(&rd, t);
		break;
	case KIND_ED25519:
		r = parse_ed25519(&rd, t);
		break;
	}
	if (r < 0)
		goto done;
	if (t->sk) {
		r = get_string(&rd, &s, &n);   /* application, e.g. "ssh:" */
		if (r < 0)
			goto done;
	}
	if (rd.off != rd.len) {
		r = sbx_error_set(SBX_EINVAL, "ssh key data has %zu unexpected trailing bytes; "
			"paste the line from the .pub file unchanged", rd.len - rd.off);
		goto done;
	}
	*bits = b;
done:
	return r;
}

/* Classify the first field; fails for anything but an accepted type. */
static int check_type(const struct keytype **out, const char *s, size_t n,
		      const char *rest, size_t rest_len)
{
	const struct keytype *t = find_type(s, n);
	char qbuf[QUOTE_MAX + 4];
	size_t name_len = 0;
	int r = 0;

	if (t)
		goto done;
	if (token_is(s, n, "ssh-dss")) {
		r = sbx_error_set(SBX_EINVAL, "DSA keys are not accepted; "
			"generate one with 'ssh-keygen -t ed25519'");
	} else if (is_cert_type(s, n)) {
		r = sbx_error_set(SBX_EINVAL, "ssh certificates ('%s') are not accepted; "
			"use the plain public key from the .pub file", quote(qbuf, s, n));
	} else if (looks_like_options(s, n, rest, rest_len)) {
		while (name_len < n && s[name_len] != '=' && s[name_len] != ',')
			name_len++;
		r = sbx_error_set(SBX_EINVAL, "ssh key options are not allowed (found '%s'); "
			"start the line with the key type, e.g. 'ssh-ed25519'",
			quote(qbuf, s, name_len));
	} else {
		r = sbx_error_set(SBX_EINVAL, "unknown ssh key type '%s'; use ssh-ed25519, "
			"ecdsa-sha2-nistp256/384/521, ssh-rsa or a security-key type (sk-...)",
			quote(qbuf, s, n));
	}
done:
	if (r == 0)
		*out = t;
	return r;
}

static char *dupmem(const void *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s) {
		if (n)
			memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

int sbx_sshkey_parse(sbx_sshkey *out, const char *line, size_t len, int min_rsa_bits)
{
	sbx_sshkey k = SBX_SSHKEY_INIT;
	const struct keytype *t = NULL;
	size_t start, end, type_end, data_start, data_end, comment_start;
	char qbuf[QUOTE_MAX + 4];
	int r = 0, bits = 0;

	assert(out);
	assert(line || len == 0);
	if (len > SBX_SSHKEY_MAX_LINE) {
		r = sbx_error_set(SBX_EINVAL, "ssh key line is %zu bytes; the limit is %d, "
			"paste a single public key line", len, SBX_SSHKEY_MAX_LINE);
		goto done;
	}
	r = check_bytes(line, len);
	if (r < 0)
		goto done;

	start = 0;
	end = len;
	while (start < end && is_blank(line[start]))
		start++;
	while (end > start && is_blank(line[end - 1]))
		end--;
	if (start == end) {
		r = sbx_error_set(SBX_EINVAL, "ssh key is empty; paste the line from your "
			".pub file, e.g. ~/.ssh/id_ed25519.pub");
		goto done;
	}

	type_end = start;
	while (type_end < end && !is_blank(line[type_end]))
		type_end++;
	data_start = type_end;
	while (data_start < end && is_blank(line[data_start]))
		data_start++;
	data_end = data_start;
	while (data_end < end && !is_blank(line[data_end]))
		data_end++;
	comment_start = data_end;
	while (comment_start < end && is_blank(line[comment_start]))
		comment_start++;

	r = check_type(&t, line + start, type_end - start, line + data_start, end - data_start);
	if (r < 0)
		goto done;
	if (data_start == data_end) {
		r = sbx_error_set(SBX_EINVAL, "ssh key has no key data after '%s'; "
			"paste the whole line from the .pub file",
			quote(qbuf, line + start, type_end - start));
		goto done;
	}
	if (end - comment_start > SBX_SSHKEY_MAX_COMMENT) {
		r = sbx_error_set(SBX_EINVAL, "ssh key comment is %zu bytes; the limit is %d, "
			"shorten it", end - comment_start, SBX_SSHKEY_MAX_COMMENT);
		goto done;
	}
	if (!valid_utf8((const unsigned char *)line + comment_start, end - comment_start)) {
		r = sbx_error_set(SBX_EINVAL, "ssh key comment is not valid UTF-8; "
			"re-save the file as UTF-8");
		goto done;
	}

	r = b64_decode(&k.blob, &k.blob_len, line + data_start, data_end - data_start);
	if (r < 0)
		goto done;
	r = parse_blob(t, k.blob, k.blob_len, min_rsa_bits, &bits);
	if (r < 0)
		goto done;

	k.type = dupmem(t->name, strlen(t->name));
	k.comment = dupmem(line + comment_start, end - comment_start);
	if (!k.type || !k.comment) {
		r = sbx_error_set(SBX_ENOMEM, "out of memory");
		goto done;
	}
	k.bits = bits;
	*out = k;
	k = (sbx_sshkey)SBX_SSHKEY_INIT;
done:
	sbx_sshkey_dispose(&k);
	return r;
}

/* Append standard padded base64 of data. */
static int put_b64(sbx_buf *out, const unsigned char *data, size_t n, bool keep_pad)
{
	unsigned char *enc = NULL;
	size_t enc_len;
	int r = 0;

	if (n > (size_t)1 << 28) {
		r = sbx_error_set(SBX_EINVAL, "ssh key data is too large to encode");
		goto done;
	}
	enc = malloc((n + 2) / 3 * 4 + 1);
	if (!enc) {
		r = sbx_error_set(SBX_ENOMEM, "out of memory");
		goto done;
	}
	enc_len = (size_t)EVP_EncodeBlock(enc, data, (int)n);
	while (!keep_pad && enc_len > 0 && enc[enc_len - 1] == '=')
		enc_len--;
	r = sbx_buf_put(out, enc, enc_len);
done:
	free(enc);
	return r;
}

int sbx_sshkey_fingerprint(sbx_buf *out, const sbx_sshkey *k)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	int r;

	assert(out && k && k->blob);
	if (EVP_Digest(k->blob, k->blob_len, md, &md_len, EVP_sha256(), NULL) != 1) {
		ERR_clear_error();
		r = sbx_error_set(SBX_ENOMEM, "computing the SHA256 fingerprint failed");
		goto done;
	}
	r = sbx_buf_puts(out, "SHA256:");
	if (r < 0)
		goto done;
	r = put_b64(out, md, md_len, false);
done:
	return r;
}

int sbx_sshkey_format(sbx_buf *out, const sbx_sshkey *k)
{
	int r;

	assert(out && k && k->type && k->blob);
	r = sbx_buf_puts(out, k->type);
	if (r < 0)
		goto done;
	r = sbx_buf_putc(out, ' ');
	if (r < 0)
		goto done;
	r = put_b64(out, k->blob, k->blob_len, true);
	if (r < 0)
		goto done;
	if (k->comment && k->comment[0]) {
		r = sbx_buf_putc(out, ' ');
		if (r < 0)
			goto done;
		r = sbx_buf_puts(out, k->comment);
	}
done:
	return r;
}

void sbx_sshkey_dispose(sbx_sshkey *k)
{
	if (k) {
		free(k->type);
		free(k->blob);
		free(k->comment);
		*k = (sbx_sshkey)SBX_SSHKEY_INIT;
	}
}
