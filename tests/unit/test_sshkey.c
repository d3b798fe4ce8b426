// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for core/sshkey.c: real ssh-keygen fixtures and their stored
 * fingerprints (tests/data/sshkey/fingerprints.txt), the table of lines that
 * must be rejected (bad-lines.txt), and a cross-check against ssh-keygen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "error.h"
#include "sshkey.h"

#define FILE_MAX ((size_t)1 << 20)

struct fixture {
	char file[64];
	int bits;
	char fingerprint[64];
};

static const char *data_dir(void)
{
	const char *d = getenv("SBX_TEST_DATA");

	return d && d[0] ? d : "tests/data";
}

/* Read tests/data/sshkey/<name> into b. */
static void read_data(sbx_buf *b, const char *name)
{
	char path[4096];
	char chunk[4096];
	FILE *f;
	size_t n;
	int len;

	len = snprintf(path, sizeof(path), "%s/sshkey/%s", data_dir(), name);
	assert_true(len > 0 && (size_t)len < sizeof(path));
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open '%s'; set SBX_TEST_DATA to the tests/data directory", path);
	sbx_buf_init(b, FILE_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(sbx_buf_put(b, chunk, n), 0);
	assert_int_equal(ferror(f), 0);
	fclose(f);
}

/* The first line of a .pub fixture, without its newline. Caller must free. */
static char *read_pub(const char *name)
{
	sbx_buf b;
	char *s, *nl;

	read_data(&b, name);
	s = sbx_buf_take(&b, NULL);
	assert_non_null(s);
	nl = strchr(s, '\n');
	if (nl)
		*nl = '\0';
	return s;
}

static size_t load_fixtures(struct fixture *out, size_t max)
{
	sbx_buf b;
	const char *p;
	size_t count = 0;

	read_data(&b, "fingerprints.txt");
	p = sbx_buf_cstr(&b);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char line[256];

		assert_true(n < sizeof(line));
		memcpy(line, p, n);
		line[n] = '\0';
		if (n > 0 && line[0] != '#') {
			assert_true(count < max);
			assert_int_equal(sscanf(line, "%63s %d %63s", out[count].file,
						&out[count].bits, out[count].fingerprint), 3);
			count++;
		}
		p += n + (nl ? 1 : 0);
	}
	sbx_buf_dispose(&b);
	return count;
}

static int parse_str(sbx_sshkey *k, const char *line, int min_rsa_bits)
{
	sbx_error_clear();
	return sbx_sshkey_parse(k, line, strlen(line), min_rsa_bits);
}

/* Expect `line` to parse into k; caller must sbx_sshkey_dispose(k). */
static void parse_ok(sbx_sshkey *k, const char *line, int min_rsa_bits)
{
	int r = parse_str(k, line, min_rsa_bits);

	if (r != 0)
		fail_msg("'%s' was rejected: %s", line, sbx_error_last());
}

static void expect_error(const char *line, int min_rsa_bits, const char *want)
{
	sbx_sshkey k = SBX_SSHKEY_INIT;
	int r = parse_str(&k, line, min_rsa_bits);

	assert_int_equal(r, SBX_EINVAL);
	assert_null(k.type);
	assert_null(k.blob);
	assert_null(k.comment);
	if (!strstr(sbx_error_last(), want))
		fail_msg("got '%s', want '%s'", sbx_error_last(), want);
}

static char *fingerprint(const sbx_sshkey *k)
{
	sbx_buf b = SBX_BUF_INIT;

	assert_int_equal(sbx_sshkey_fingerprint(&b, k), 0);
	return sbx_buf_take(&b, NULL);
}

static char *format(const sbx_sshkey *k)
{
	sbx_buf b = SBX_BUF_INIT;

	assert_int_equal(sbx_sshkey_format(&b, k), 0);
	return sbx_buf_take(&b, NULL);
}

/* Run `ssh-keygen -lf path` and copy the fingerprint it prints into fp.
 * Returns 0, or -1 when ssh-keygen is not installed. */
static int ssh_keygen_fingerprint(char *fp, size_t fp_size, const char *path)
{
	char cmd[4200];
	char out[1024] = "";
	char bits[32], sha[128];
	FILE *p;
	int len, status, r = -1;

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
		fail_msg("'%s' failed for '%s'", cmd, path);
	assert_int_equal(sscanf(out, "%31s %127s", bits, sha), 2);
	assert_true(strlen(sha) < fp_size);
	memcpy(fp, sha, strlen(sha) + 1);
	r = 0;
done:
	return r;
}

/* Write line to a temporary .pub file and fingerprint it with ssh-keygen. */
static int ssh_keygen_fingerprint_line(char *fp, size_t fp_size, const char *line)
{
	const char *tmp = getenv("TMPDIR");
	char path[4096];
	FILE *f;
	int fd, len, r;

	len = snprintf(path, sizeof(path), "%s/test_sshkey.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	assert_true(len > 0 && (size_t)len < sizeof(path));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_true(fprintf(f, "%s\n", line) > 0);
	assert_int_equal(fclose(f), 0);
	r = ssh_keygen_fingerprint(fp, fp_size, path);
	unlink(path);
	return r;
}

/* Every fixture parses and matches the fingerprint ssh-keygen printed. */
static void test_sshkey__fixtures(void **state)
{
	struct fixture fx[32];
	size_t i, n = load_fixtures(fx, 32);

	(void)state;
	assert_true(n >= 9);
	for (i = 0; i < n; i++) {
		sbx_sshkey k = SBX_SSHKEY_INIT;
		char *line = read_pub(fx[i].file);
		char *fp, *fmt;
		size_t type_len = strcspn(line, " ");

		parse_ok(&k, line, 2048);
		fp = fingerprint(&k);
		fmt = format(&k);
		if (strcmp(fp, fx[i].fingerprint) != 0)
			fail_msg("%s: fingerprint '%s', want '%s'", fx[i].file, fp, fx[i].fingerprint);
		assert_int_equal(k.bits, fx[i].bits);
		assert_int_equal(strlen(k.type), type_len);
		assert_memory_equal(k.type, line, type_len);
		assert_string_equal(k.comment, strchr(line + type_len + 1, ' ') + 1);
		assert_string_equal(fmt, line);
		free(fp);
		free(fmt);
		free(line);
		sbx_sshkey_dispose(&k);
	}
}

/* ssh-keygen, when installed, agrees with both the stored expectations and
 * with our fingerprint of the normalised line we write back. */
static void test_sshkey__ssh_keygen_agrees(void **state)
{
	struct fixture fx[32];
	size_t i, n = load_fixtures(fx, 32);
	char path[4096], fp[128];
	int len;

	(void)state;
	for (i = 0; i < n; i++) {
		sbx_sshkey k = SBX_SSHKEY_INIT;
		char *line = read_pub(fx[i].file);
		char *ours, *fmt;

		len = snprintf(path, sizeof(path), "%s/sshkey/%s", data_dir(), fx[i].file);
		assert_true(len > 0 && (size_t)len < sizeof(path));
		if (ssh_keygen_fingerprint(fp, sizeof(fp), path) < 0) {
			free(line);
			skip();
		}
		assert_string_equal(fp, fx[i].fingerprint);

		parse_ok(&k, line, 2048);
		fmt = format(&k);
		ours = fingerprint(&k);
		assert_int_equal(ssh_keygen_fingerprint_line(fp, sizeof(fp), fmt), 0);
		assert_string_equal(fp, ours);
		free(ours);
		free(fmt);
		free(line);
		sbx_sshkey_dispose(&k);
	}
}

/* Decode the escapes of a bad-lines.txt "line:" value into out. */
static void unescape(sbx_buf *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\\' && i + 1 < n) {
			char e = s[++i];

			if (e == 't') {
				c = '\t';
			} else if (e == 'n') {
				c = '\n';
			} else if (e == 'r') {
				c = '\r';
			} else if (e == '0') {
				c = '\0';
			} else if (e == '\\') {
				c = '\\';
			} else if (e == 'x' && i + 2 < n) {
				char hex[3] = { s[i + 1], s[i + 2], '\0' };
				char *end;
				long v = strtol(hex, &end, 16);

				assert_true(*end == '\0');
				c = (char)(unsigned char)v;
				i += 2;
			} else {
				fail_msg("bad escape '\\%c' in bad-lines.txt", e);
			}
		}
		assert_int_equal(sbx_buf_put(out, &c, 1), 0);
	}
}

/* Each line in bad-lines.txt is rejected with the message next to it. */
static void test_sshkey__bad_lines(void **state)
{
	sbx_buf file, line = SBX_BUF_INIT;
	char name[128] = "";
	const char *p;
	int min_bits = 2048, have_line = 0, cases = 0, failures = 0;

	(void)state;
	read_data(&file, "bad-lines.txt");
	p = sbx_buf_cstr(&file);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (n >= 6 && strncmp(p, "name: ", 6) == 0) {
			assert_true(n - 6 < sizeof(name));
			memcpy(name, p + 6, n - 6);
			name[n - 6] = '\0';
			min_bits = 2048;
			have_line = 0;
			sbx_buf_clear(&line);
		} else if (n >= 5 && strncmp(p, "min: ", 5) == 0) {
			char num[16], *end;

			assert_true(n - 5 < sizeof(num));
			memcpy(num, p + 5, n - 5);
			num[n - 5] = '\0';
			min_bits = (int)strtol(num, &end, 10);
			assert_true(end != num && *end == '\0');
		} else if (n >= 5 && strncmp(p, "line:", 5) == 0) {
			size_t off = n > 5 && p[5] == ' ' ? 6 : 5;

			sbx_buf_clear(&line);
			unescape(&line, p + off, n - off);
			have_line = 1;
		} else if (n >= 7 && strncmp(p, "error: ", 7) == 0) {
			sbx_sshkey k = SBX_SSHKEY_INIT;
			char want[512];
			char *copy;
			int r;

			assert_true(have_line && name[0]);
			assert_true(n - 7 < sizeof(want));
			memcpy(want, p + 7, n - 7);
			want[n - 7] = '\0';
			/* an exact-size heap copy, so ASan sees any read past len */
			copy = malloc(line.len ? line.len : 1);
			assert_non_null(copy);
			if (line.len)
				memcpy(copy, line.ptr, line.len);
			sbx_error_clear();
			r = sbx_sshkey_parse(&k, copy, line.len, min_bits);
			free(copy);
			if (r == 0) {
				print_message("bad-lines.txt '%s': accepted, want error '%s'\n", name, want);
				sbx_sshkey_dispose(&k);
				failures++;
			} else if (r != SBX_EINVAL || !strstr(sbx_error_last(), want) ||
				   k.type || k.blob || k.comment) {
				print_message("bad-lines.txt '%s': got %d '%s', want '%s'\n",
					      name, r, sbx_error_last(), want);
				failures++;
			}
			cases++;
			name[0] = '\0';
			have_line = 0;
		}
		p += n + (nl ? 1 : 0);
	}
	sbx_buf_dispose(&line);
	sbx_buf_dispose(&file);
	assert_true(cases >= 40);
	assert_int_equal(failures, 0);
}

static void test_sshkey__rsa_policy(void **state)
{
	sbx_sshkey k = SBX_SSHKEY_INIT;
	char *r2048 = read_pub("rsa2048.pub");
	char *r3072 = read_pub("rsa3072.pub");
	char *r4096 = read_pub("rsa4096.pub");

	(void)state;
	parse_ok(&k, r2048, 2048);
	assert_int_equal(k.bits, 2048);
	sbx_sshkey_dispose(&k);
	parse_ok(&k, r2048, 0);
	sbx_sshkey_dispose(&k);
	expect_error(r2048, 3072, "ssh-rsa key has 2048 bits; policy requires at least 3072");
	parse_ok(&k, r3072, 3072);
	assert_int_equal(k.bits, 3072);
	sbx_sshkey_dispose(&k);
	parse_ok(&k, r4096, 4096);
	assert_int_equal(k.bits, 4096);
	sbx_sshkey_dispose(&k);
	expect_error(r4096, 4097, "ssh-rsa key has 4096 bits; policy requires at least 4097");
	free(r2048);
	free(r3072);
	free(r4096);
}

/* The policy does not apply to non-RSA keys. */
static void test_sshkey__rsa_policy_ignores_other_types(void **state)
{
	static const char *const files[] = { "ed25519.pub", "ecdsa256.pub", "sk-ed25519.pub" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		sbx_sshkey k = SBX_SSHKEY_INIT;
		char *line = read_pub(files[i]);

		parse_ok(&k, line, 16384);
		sbx_sshkey_dispose(&k);
		free(line);
	}
}

static void test_sshkey__dsa_rejected(void **state)
{
	char *line = read_pub("dsa.pub");

	(void)state;
	expect_error(line, 2048, "DSA keys are not accepted; generate one with 'ssh-keygen -t ed25519'");
	assert_string_equal(sbx_error_last(),
			    "DSA keys are not accepted; generate one with 'ssh-keygen -t ed25519'");
	free(line);
}

/* Leading/trailing blanks go, runs of blanks separate fields, the comment
 * keeps its inner spaces. */
static void test_sshkey__whitespace(void **state)
{
	char *pub = read_pub("ed25519.pub");
	sbx_buf in = SBX_BUF_INIT, want = SBX_BUF_INIT;
	sbx_sshkey k = SBX_SSHKEY_INIT;
	const char *b64 = strchr(pub, ' ') + 1;
	size_t b64_len = strcspn(b64, " ");
	char *fmt;

	(void)state;
	assert_int_equal(sbx_buf_printf(&in, " \t ssh-ed25519 \t\t%.*s   my  laptop\tkey \t ",
					(int)b64_len, b64), 0);
	assert_int_equal(sbx_buf_printf(&want, "ssh-ed25519 %.*s my  laptop\tkey",
					(int)b64_len, b64), 0);
	parse_ok(&k, sbx_buf_cstr(&in), 2048);
	assert_string_equal(k.type, "ssh-ed25519");
	assert_string_equal(k.comment, "my  laptop\tkey");
	assert_int_equal(k.bits, 256);
	fmt = format(&k);
	assert_string_equal(fmt, sbx_buf_cstr(&want));
	free(fmt);
	sbx_sshkey_dispose(&k);
	sbx_buf_dispose(&in);
	sbx_buf_dispose(&want);
	free(pub);
}

static void test_sshkey__no_comment(void **state)
{
	char *pub = read_pub("ecdsa521.pub");
	sbx_sshkey k = SBX_SSHKEY_INIT;
	char *fmt;

	(void)state;
	*strrchr(pub, ' ') = '\0';
	parse_ok(&k, pub, 2048);
	assert_string_equal(k.comment, "");
	assert_int_equal(k.bits, 521);
	fmt = format(&k);
	assert_string_equal(fmt, pub);
	free(fmt);
	sbx_sshkey_dispose(&k);
	free(pub);
}

static void test_sshkey__comment_limit(void **state)
{
	char *pub = read_pub("ed25519.pub");
	sbx_buf in = SBX_BUF_INIT;
	sbx_sshkey k = SBX_SSHKEY_INIT;
	size_t base;
	int i;

	(void)state;
	*strrchr(pub, ' ') = '\0';
	assert_int_equal(sbx_buf_printf(&in, "%s ", pub), 0);
	base = in.len;
	for (i = 0; i < SBX_SSHKEY_MAX_COMMENT; i++)
		assert_int_equal(sbx_buf_putc(&in, 'c'), 0);
	parse_ok(&k, sbx_buf_cstr(&in), 2048);
	assert_int_equal(strlen(k.comment), SBX_SSHKEY_MAX_COMMENT);
	sbx_sshkey_dispose(&k);
	assert_int_equal(sbx_buf_putc(&in, 'c'), 0);
	expect_error(sbx_buf_cstr(&in), 2048, "ssh key comment is 257 bytes; the limit is 256");

	/* UTF-8 is fine in comments */
	in.len = base;
	assert_int_equal(sbx_buf_puts(&in, "jos\xc3\xa9 \xf0\x9f\x94\x91 laptop"), 0);
	parse_ok(&k, sbx_buf_cstr(&in), 2048);
	assert_string_equal(k.comment, "jos\xc3\xa9 \xf0\x9f\x94\x91 laptop");
	sbx_sshkey_dispose(&k);
	sbx_buf_dispose(&in);
	free(pub);
}

static void test_sshkey__line_limit(void **state)
{
	char *line = malloc(SBX_SSHKEY_MAX_LINE + 1);
	sbx_sshkey k = SBX_SSHKEY_INIT;
	int r;

	(void)state;
	assert_non_null(line);
	memcpy(line, "ssh-ed25519 ", 12);
	memset(line + 12, 'A', SBX_SSHKEY_MAX_LINE + 1 - 12);
	sbx_error_clear();
	r = sbx_sshkey_parse(&k, line, SBX_SSHKEY_MAX_LINE + 1, 2048);
	assert_int_equal(r, SBX_EINVAL);
	assert_string_equal(sbx_error_last(),
			    "ssh key line is 16385 bytes; the limit is 16384, paste a single public key line");
	/* at the limit the line is examined (and fails for another reason) */
	sbx_error_clear();
	r = sbx_sshkey_parse(&k, line, SBX_SSHKEY_MAX_LINE, 2048);
	assert_int_equal(r, SBX_EINVAL);
	assert_null(strstr(sbx_error_last(), "the limit is 16384"));
	free(line);
}

/* The line need not be NUL-terminated; nothing past len is read. */
static void test_sshkey__length_bounded(void **state)
{
	char *pub = read_pub("sk-ecdsa256.pub");
	size_t n = strlen(pub);
	char *copy = malloc(n + 8);
	sbx_sshkey k = SBX_SSHKEY_INIT;
	char *fp;
	int r;

	(void)state;
	assert_non_null(copy);
	memcpy(copy, pub, n);
	memcpy(copy + n, "garbage!", 8);
	sbx_error_clear();
	r = sbx_sshkey_parse(&k, copy, n, 2048);
	assert_int_equal(r, 0);
	assert_string_equal(k.comment, "ivy@yubikey");
	fp = fingerprint(&k);
	assert_string_equal(fp, "SHA256:9MWnvGwRPobuVJvNJJW+3TpjFD6eU4npSKVwznBBQUg");
	free(fp);
	sbx_sshkey_dispose(&k);

	/* cut inside the comment */
	r = sbx_sshkey_parse(&k, copy, n - 4, 2048);
	assert_int_equal(r, 0);
	assert_string_equal(k.comment, "ivy@yub");
	sbx_sshkey_dispose(&k);
	free(copy);
	free(pub);
}

static void test_sshkey__fingerprint_appends(void **state)
{
	char *pub = read_pub("ed25519.pub");
	sbx_buf b = SBX_BUF_INIT;
	sbx_sshkey k = SBX_SSHKEY_INIT;

	(void)state;
	parse_ok(&k, pub, 2048);
	assert_int_equal(sbx_buf_puts(&b, "fp="), 0);
	assert_int_equal(sbx_sshkey_fingerprint(&b, &k), 0);
	assert_int_equal(sbx_buf_puts(&b, ";"), 0);
	assert_string_equal(sbx_buf_cstr(&b), "fp=SHA256:jmA6KqJFGfR5Hmzagrw6r+AMtw9LF1TjCqN8DRqzslQ;");
	sbx_buf_dispose(&b);

	/* a buffer too small for the result fails without writing */
	sbx_buf_init(&b, 10);
	sbx_error_clear();
	assert_int_equal(sbx_sshkey_fingerprint(&b, &k), SBX_ENOMEM);
	sbx_buf_dispose(&b);
	sbx_sshkey_dispose(&k);
	free(pub);
}

/* Formatting then parsing gives the same key back. */
static void test_sshkey__roundtrip(void **state)
{
	static const char *const files[] = { "ed25519.pub", "ecdsa384.pub", "rsa4096.pub",
					     "sk-ed25519.pub", "sk-ecdsa256.pub" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		sbx_sshkey a = SBX_SSHKEY_INIT, b = SBX_SSHKEY_INIT;
		char *line = read_pub(files[i]);
		char *fmt;

		parse_ok(&a, line, 2048);
		fmt = format(&a);
		parse_ok(&b, fmt, 2048);
		assert_string_equal(a.type, b.type);
		assert_string_equal(a.comment, b.comment);
		assert_int_equal(a.blob_len, b.blob_len);
		assert_memory_equal(a.blob, b.blob, a.blob_len);
		assert_int_equal(a.bits, b.bits);
		free(fmt);
		free(line);
		sbx_sshkey_dispose(&a);
		sbx_sshkey_dispose(&b);
	}
}

static void test_sshkey__dispose_null_safe(void **state)
{
	sbx_sshkey k = SBX_SSHKEY_INIT;
	char *pub = read_pub("ed25519.pub");

	(void)state;
	sbx_sshkey_dispose(NULL);
	sbx_sshkey_dispose(&k);
	parse_ok(&k, pub, 2048);
	sbx_sshkey_dispose(&k);
	assert_null(k.type);
	assert_null(k.blob);
	assert_null(k.comment);
	assert_int_equal(k.blob_len, 0);
	sbx_sshkey_dispose(&k);
	free(pub);
}

/* On failure *out is left as it was. */
static void test_sshkey__out_untouched_on_error(void **state)
{
	sbx_sshkey k = { (char *)"sentinel", NULL, 7, NULL, 9 };

	(void)state;
	sbx_error_clear();
	assert_int_equal(sbx_sshkey_parse(&k, "ssh-ed25519 AAAA", 16, 2048), SBX_EINVAL);
	assert_string_equal(k.type, "sentinel");
	assert_int_equal(k.blob_len, 7);
	assert_int_equal(k.bits, 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sshkey__fixtures),
		cmocka_unit_test(test_sshkey__ssh_keygen_agrees),
		cmocka_unit_test(test_sshkey__bad_lines),
		cmocka_unit_test(test_sshkey__rsa_policy),
		cmocka_unit_test(test_sshkey__rsa_policy_ignores_other_types),
		cmocka_unit_test(test_sshkey__dsa_rejected),
		cmocka_unit_test(test_sshkey__whitespace),
		cmocka_unit_test(test_sshkey__no_comment),
		cmocka_unit_test(test_sshkey__comment_limit),
		cmocka_unit_test(test_sshkey__line_limit),
		cmocka_unit_test(test_sshkey__length_bounded),
		cmocka_unit_test(test_sshkey__fingerprint_appends),
		cmocka_unit_test(test_sshkey__roundtrip),
		cmocka_unit_test(test_sshkey__dispose_null_safe),
		cmocka_unit_test(test_sshkey__out_untouched_on_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
