// SPDX-License-Identifier: Apache-2.0
/*
 * The git source on libgit2: a bare mirror with one remote and one branch,
 * credentials and host-key checks for ssh:// and https://, reading a
 * revision's templates/ and sandboxes/ from its tree, and a tree diff that
 * names the sandboxes a commit touched.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "error.h"
#include "git.h"
#include "git-private.h"

/* A growable list of owned files. */
struct filelist {
	sbx_file *items;
	size_t count;
	size_t cap;
};

static void file_dispose(sbx_file *f)
{
	free((char *)f->path);
	free((char *)f->data);
	f->path = NULL;
	f->data = NULL;
	f->len = 0;
}

static void filelist_dispose(struct filelist *l)
{
	for (size_t i = 0; i < l->count; i++)
		file_dispose(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = l->cap = 0;
}

/* A growable list of owned strings: the entries a read refused. */
struct strlist {
	char **items;
	size_t count;
	size_t cap;
};

static int strlist_add(struct strlist *l, const char *s)
{
	char *copy;

	if (!l)
		return 0;
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		char **items = realloc(l->items, cap * sizeof(*items));

		if (!items)
			return SBX_ENOMEM;
		l->items = items;
		l->cap = cap;
	}
	if (!(copy = strdup(s)))
		return SBX_ENOMEM;
	l->items[l->count++] = copy;
	return 0;
}

static void strlist_dispose(struct strlist *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const sbx_file *)a)->path, ((const sbx_file *)b)->path);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && memcmp(s + n - m, suffix, m) == 0;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static char *printf_dup(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *printf_dup(const char *fmt, ...)
{
	sbx_buf b = SBX_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	sbx_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return sbx_buf_take(&b, NULL);
}

/* --- URLs -------------------------------------------------------------- */

/* Split "scheme://[user[:password]@]host[:port]/path" or the scp-like
 * "[user@]host:path" into parts. Every out string is malloc'd (or NULL). */
struct url_parts {
	char *user;
	char *password;
	char *host;
	int port;            /* 0 when absent */
	size_t auth_start;   /* offset of the userinfo in the url */
	size_t auth_end;     /* offset just after '@' (== auth_start without userinfo) */
};

static void url_parts_dispose(struct url_parts *p)
{
	free(p->user);
	free(p->password);
	free(p->host);
	memset(p, 0, sizeof(*p));
}

static int parse_authority(struct url_parts *p, const char *url, size_t start, size_t end,
			   bool allow_port)
{
	const char *a = url + start, *stop = url + end;
	const char *at = NULL, *host, *host_end, *port = NULL;
	int r = SBX_EINVAL;

	for (const char *c = a; c < stop; c++)
		if (*c == '@')
			at = c;
	p->auth_start = start;
	p->auth_end = start;
	if (at) {
		const char *colon = memchr(a, ':', (size_t)(at - a));

		p->user = strndup(a, (size_t)((colon ? colon : at) - a));
		if (colon)
			p->password = strndup(colon + 1, (size_t)(at - colon - 1));
		if (!p->user || (colon && !p->password)) {
			r = SBX_ENOMEM;
			goto done;
		}
		p->auth_end = (size_t)(at + 1 - url);
	}
	host = at ? at + 1 : a;
	if (*host == '[') {
		host_end = memchr(host, ']', (size_t)(stop - host));
		if (!host_end)
			goto done;
		host++;
		if (host_end + 1 < stop) {
			if (host_end[1] != ':')
				goto done;
			port = host_end + 2;
		}
	} else {
		host_end = memchr(host, ':', (size_t)(stop - host));
		if (host_end)
			port = host_end + 1;
		else
			host_end = stop;
	}
	if (host_end == host)
		goto done;
	p->host = strndup(host, (size_t)(host_end - host));
	if (!p->host) {
		r = SBX_ENOMEM;
		goto done;
	}
	for (char *c = p->host; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (port && port < stop) {
		long v = 0;

		if (!allow_port)
			goto done;
		for (const char *c = port; c < stop; c++) {
			if (!isdigit((unsigned char)*c) || v > 65535)
				goto done;
			v = v * 10 + (*c - '0');
		}
		if (v < 1 || v > 65535)
			goto done;
		p->port = (int)v;
	}
	r = 0;
done:
	return r;
}

/* The scheme of url and, for remote urls, its authority. */
static int parse_url(enum scheme *scheme, struct url_parts *p, const char *url)
{
	const char *sep = strstr(url, "://");
	size_t start, end;
	int r = SBX_EINVAL;

	memset(p, 0, sizeof(*p));
	if (strncmp(url, "file://", 7) == 0) {
		*scheme = SCHEME_FILE;
		r = url[7] ? 0 : SBX_EINVAL;
		goto done;
	}
	if (strncmp(url, "ssh://", 6) == 0 || strncmp(url, "https://", 8) == 0) {
		*scheme = url[1] == 's' ? SCHEME_SSH : SCHEME_HTTPS;
		start = (size_t)(sep + 3 - url);
		end = start + strcspn(url + start, "/?#");
		r = parse_authority(p, url, start, end, true);
		goto done;
	}
	/* scp-like [user@]host:path: a colon before any slash, no scheme */
	end = strcspn(url, ":/");
	if (!sep && url[end] == ':' && end > 0 && url[end + 1]) {
		*scheme = SCHEME_SSH;
		r = parse_authority(p, url, 0, end, false);
		if (r == 0 && p->password)
			r = SBX_EINVAL;
	}
done:
	if (r < 0)
		url_parts_dispose(p);
	return r;
}

int sbx_git_redact_url(sbx_buf *out, const char *url)
{
	struct url_parts parts;
	enum scheme scheme;

	if (parse_url(&scheme, &parts, url) < 0)
		/* not a url we take; it may still hold a password */
		return sbx_buf_puts(out, strchr(url, '@') ? "(a url that is not valid, hidden)" : url);
	if (parts.password)
		sbx_buf_printf(out, "%.*s%s@%s", (int)parts.auth_start, url, parts.user, url + parts.auth_end);
	else
		sbx_buf_puts(out, url);
	url_parts_dispose(&parts);
	return out->failed ? SBX_ENOMEM : 0;
}

/* Copy msg into b with every occurrence of secret replaced by "***". */
static void scrub(sbx_buf *b, const char *msg, const char *secret)
{
	size_t n = secret ? strlen(secret) : 0;
	const char *hit;

	while (n && (hit = strstr(msg, secret))) {
		sbx_buf_put(b, msg, (size_t)(hit - msg));
		sbx_buf_puts(b, "***");
		msg = hit + n;
	}
	sbx_buf_puts(b, msg);
}

/* Record a libgit2 failure of `what` (unless a callback already said why). */
int sbx_git__fail(sbx_git *g, int error, const char *what)
{
	const git_error *e = git_error_last();
	sbx_buf msg = SBX_BUF_INIT;
	int r;

	if (g->cb_code) {
		r = g->cb_code;
		goto done;
	}
	scrub(&msg, e && e->message ? e->message : "unknown error", g->secret);
	if (error == GIT_EAUTH)
		r = sbx_error_set(SBX_EINVAL, "authentication to '%s' failed: %s", g->shown,
				  sbx_buf_cstr(&msg));
	else if (error == GIT_ECERTIFICATE)
		r = sbx_error_set(SBX_ETRANSPORT, "the certificate of '%s' is not trusted: %s",
				  g->shown, sbx_buf_cstr(&msg));
	else
		r = sbx_error_set(SBX_ETRANSPORT, "%s '%s' failed: %s", what, g->shown,
				  sbx_buf_cstr(&msg));
done:
	sbx_buf_dispose(&msg);
	return r;
}

/* --- known_hosts ---------------------------------------------------------- */

/* Decode base64 of exactly len bytes into a malloc'd buffer. Returns the
 * decoded length, or -1 when it is not base64 (or out of memory). */
static long b64decode(unsigned char **out, const char *in, size_t len)
{
	unsigned char *buf = NULL;
	long n = -1;

	*out = NULL;
	if (len == 0 || len % 4 || len > INT32_MAX || !(buf = malloc(len / 4 * 3 + 1)))
		goto done;
	n = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)len);
	if (n < 0)
		goto done;
	n -= (in[len - 1] == '=') + (in[len - 2] == '=');
	*out = buf;
	buf = NULL;
done:
	free(buf);
	return n;
}

/* OpenSSH-style wildcard match (* and ?), case-insensitive. */
static bool match_pattern(const char *pat, size_t plen, const char *s)
{
	size_t p = 0, star = SIZE_MAX;
	const char *retry = NULL;
	bool ok = true;

	while (*s && ok) {
		if (p < plen && pat[p] == '*') {
			star = ++p;
			retry = s;
		} else if (p < plen && (pat[p] == '?' ||
					tolower((unsigned char)pat[p]) == tolower((unsigned char)*s))) {
			p++;
			s++;
		} else if (star != SIZE_MAX) {
			p = star;
			s = ++retry;
		} else {
			ok = false;
		}
	}
	while (ok && p < plen && pat[p] == '*')
		p++;
	return ok && p == plen;
}

/* Does the comma-separated pattern list (or hashed |1|salt|hash entry)
 * name `name`? A matching negated pattern (!pat) wins. */
/* A hashed entry "|1|base64(salt)|base64(HMAC-SHA1(salt, name))". */
static bool match_hashed(const char *entry, size_t len, const char *name)
{
	const char *salt = entry + 3, *bar = memchr(salt, '|', len - 3);
	unsigned char *s = NULL, *h = NULL, mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	long slen, hlen;
	bool hit = false;

	if (!bar)
		goto done;
	slen = b64decode(&s, salt, (size_t)(bar - salt));
	hlen = b64decode(&h, bar + 1, (size_t)(entry + len - bar - 1));
	if (slen > 0 && hlen == 20 &&
	    HMAC(EVP_sha1(), s, (int)slen, (const unsigned char *)name, strlen(name), mac,
		 &maclen) && maclen == 20)
		hit = CRYPTO_memcmp(mac, h, 20) == 0;
done:
	free(s);
	free(h);
	return hit;
}

/* Does the comma-separated pattern list (or hashed |1|salt|hash entry)
 * name `name`? A matching negated pattern (!pat) wins. */
static bool match_hosts(const char *list, size_t len, const char *name)
{
	bool hit = false, excluded = false;

	if (len > 3 && memcmp(list, "|1|", 3) == 0) {
		hit = match_hashed(list, len, name);
		len = 0;
	}
	while (len > 0 && !excluded) {
		const char *comma = memchr(list, ',', len);
		size_t n = comma ? (size_t)(comma - list) : len;
		bool neg = n > 0 && list[0] == '!';

		if (match_pattern(list + neg, n - neg, name)) {
			excluded = neg;
			hit = true;
		}
		list += n;
		len -= n;
		if (len > 0) {
			list++;
			len--;
		}
	}
	return hit && !excluded;
}

/* The key type named inside an SSH public key blob, or NULL. */
static bool blob_type(const unsigned char *blob, size_t len, const char **type, size_t *tlen)
{
	uint32_t n = 0;
	bool ok = len >= 4;

	if (ok)
		n = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 |
		    blob[3];
	ok = ok && n <= len - 4;
	if (ok) {
		*type = (const char *)blob + 4;
		*tlen = n;
	}
	return ok;
}

static const char *next_field(const char **p, const char *end, size_t *len)
{
	const char *s = *p, *f;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	f = s;
	while (s < end && *s != ' ' && *s != '\t')
		s++;
	*len = (size_t)(s - f);
	*p = s;
	return f;
}

/* Verify the server's key against the known_hosts file. */
static int check_host_key(sbx_git *g, const git_cert_hostkey *hk)
{
	sbx_buf file = SBX_BUF_INIT;
	char *name = NULL;
	const char *type = NULL, *p, *end;
	size_t tlen = 0;
	bool found = false, mismatch = false, revoked = false;
	FILE *f = NULL;
	char chunk[4096];
	size_t n;
	int r = 0;

	if (!(hk->type & GIT_CERT_SSH_RAW) || !hk->hostkey ||
	    !blob_type((const unsigned char *)hk->hostkey, hk->hostkey_len, &type, &tlen)) {
		r = sbx_error_set(SBX_EINVAL, "cannot verify the host key of '%s': the ssh library "
				  "did not provide it", g->host);
		goto done;
	}
	name = g->port && g->port != 22 ?
		printf_dup("[%s]:%d", g->host, g->port) : strdup(g->host);
	if (!name) {
		r = SBX_ENOMEM;
		goto done;
	}
	sbx_buf_init(&file, KNOWN_HOSTS_MAX);
	f = fopen(g->known_hosts, "rb");
	if (!f) {
		r = sbx_error_set(SBX_EIO, "cannot read known_hosts '%s': %s", g->known_hosts,
				  strerror(errno));
		goto done;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (sbx_buf_put(&file, chunk, n) < 0)
			break;
	if (ferror(f) || file.failed) {
		r = sbx_error_set(SBX_EIO, "cannot read known_hosts '%s': %s", g->known_hosts,
				  file.failed ? "file too large" : strerror(errno));
		goto done;
	}
	p = sbx_buf_cstr(&file);
	end = p + file.len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = eol ? eol : end, *q = p;
		const char *hosts, *ktype, *key;
		size_t hlen, klen, b64len;
		bool is_revoked = false;
		unsigned char *blob = NULL;
		long blen;

		p = eol ? eol + 1 : end;
		hosts = next_field(&q, line_end, &hlen);
		if (hlen == 0 || hosts[0] == '#')
			continue;
		if (hosts[0] == '@') {
			if (hlen == 8 && memcmp(hosts, "@revoked", 8) == 0)
				is_revoked = true;
			else
				continue;   /* @cert-authority: certificates are not supported */
			hosts = next_field(&q, line_end, &hlen);
		}
		ktype = next_field(&q, line_end, &klen);
		key = next_field(&q, line_end, &b64len);
		if (!klen || !b64len || !match_hosts(hosts, hlen, name))
			continue;
		blen = b64decode(&blob, key, b64len);
		if (blen == (long)hk->hostkey_len && memcmp(blob, hk->hostkey, hk->hostkey_len) == 0) {
			if (is_revoked)
				revoked = true;
			else
				found = true;
		} else if (!is_revoked && klen == tlen && memcmp(ktype, type, tlen) == 0) {
			mismatch = true;
		}
		free(blob);
	}
	if (revoked)
		r = sbx_error_set(SBX_EINVAL, "host key for '%s' is revoked in known_hosts '%s'",
				  name, g->known_hosts);
	else if (found)
		r = 0;
	else if (mismatch)
		r = sbx_error_set(SBX_EINVAL, "host key for '%s' does not match known_hosts '%s'; "
				  "if the server's key changed on purpose, update that file",
				  name, g->known_hosts);
	else
		r = sbx_error_set(SBX_EINVAL, "host key for '%s' is not in known_hosts '%s'; add "
				  "its %.*s key (ssh-keyscan -p %d %s)", name, g->known_hosts,
				  (int)tlen, type, g->port ? g->port : 22, g->host);
done:
	if (f)
		fclose(f);
	sbx_buf_dispose(&file);
	free(name);
	return r;
}

/* --- callbacks ------------------------------------------------------------ */

static int certificate(git_cert *cert, int valid, const char *host, void *payload)
{
	sbx_git *g = payload;
	int r = 0;

	if (g->scheme == SCHEME_SSH) {
		if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2)
			g->cb_code = sbx_error_set(SBX_EINVAL, "cannot verify the host key of '%s'",
						   host);
		else
			g->cb_code = check_host_key(g, (const git_cert_hostkey *)cert);
		r = g->cb_code ? GIT_EUSER : 0;
		goto done;
	}
	if (!valid) {
		g->cb_code = sbx_error_set(SBX_ETRANSPORT, "the certificate of '%s' is not trusted "
					   "for '%s' (signed by an unknown CA, or for another name); "
					   "give the CA that signed it as the git CA file", g->shown,
					   host);
		r = GIT_EUSER;
	}
done:
	return r;
}

/* The token in token_file without trailing whitespace. Caller must wipe and free. */
static int read_token(sbx_git *g, sbx_buf *token)
{
	FILE *f = fopen(g->token_file, "rb");
	char chunk[1024];
	size_t n;
	int r = 0;

	sbx_buf_init(token, TOKEN_MAX);
	if (!f) {
		r = sbx_error_set(SBX_EINVAL, "cannot read token file '%s': %s", g->token_file,
				  strerror(errno));
		goto done;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		sbx_buf_put(token, chunk, n);
	OPENSSL_cleanse(chunk, sizeof(chunk));
	if (ferror(f) || token->failed) {
		r = sbx_error_set(SBX_EINVAL, "cannot read token file '%s': %s", g->token_file,
				  token->failed ? "file too large" : "read error");
		goto done;
	}
	while (token->len > 0 && isspace((unsigned char)token->ptr[token->len - 1]))
		token->ptr[--token->len] = '\0';
	if (token->len == 0 || memchr(token->ptr, '\n', token->len) || strlen(token->ptr) != token->len)
		r = sbx_error_set(SBX_EINVAL, "token file '%s' must hold one token on one line",
				  g->token_file);
done:
	if (f)
		fclose(f);
	return r;
}

/* Same scheme, host and port as the configured url (the token goes nowhere else). */
static bool same_origin(const sbx_git *g, const char *url)
{
	enum scheme s;
	struct url_parts p;
	bool same = false;

	if (url && parse_url(&s, &p, url) == 0) {
		same = s == SCHEME_HTTPS && p.host && strcmp(p.host, g->host) == 0 &&
		       (p.port ? p.port : 443) == (g->port ? g->port : 443);
		url_parts_dispose(&p);
	}
	return same;
}

static int credentials(git_credential **out, const char *url, const char *user_from_url,
		       unsigned int allowed, void *payload)
{
	sbx_git *g = payload;
	const char *user = user_from_url && *user_from_url ? user_from_url : g->user;
	sbx_buf token = SBX_BUF_INIT;
	int r = GIT_EUSER;

	if (allowed == GIT_CREDENTIAL_USERNAME) {
		r = git_credential_username_new(out, user ? user : "git");
		goto done;
	}
	if (g->cred_tries++ > 0) {
		g->cb_code = sbx_error_set(SBX_EINVAL, "authentication to '%s' failed; check that "
					   "the %s is authorized for the repository", g->shown,
					   g->scheme == SCHEME_SSH ? "ssh key" : "token");
		goto done;
	}
	if (g->scheme == SCHEME_SSH && (allowed & GIT_CREDENTIAL_SSH_KEY)) {
		if (!user)
			user = "git";
		if (g->ssh_key)
			r = git_credential_ssh_key_new(out, user, g->ssh_pub, g->ssh_key, NULL);
		else
			r = git_credential_ssh_key_from_agent(out, user);
		goto done;
	}
	if (g->scheme == SCHEME_HTTPS && (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT)) {
		if (!g->token_file) {
			g->cb_code = sbx_error_set(SBX_EINVAL, "'%s' asks for credentials; give a "
						   "token file", g->shown);
			goto done;
		}
		if (!same_origin(g, url)) {
			g->cb_code = sbx_error_set(SBX_EINVAL, "'%s' redirected to another server "
						   "that asks for credentials; the token is not "
						   "sent there", g->shown);
			goto done;
		}
		g->cb_code = read_token(g, &token);
		if (g->cb_code)
			goto done;
		r = git_credential_userpass_plaintext_new(out, user ? user : "x-access-token",
							  token.ptr);
		goto done;
	}
	g->cb_code = sbx_error_set(SBX_EINVAL, "'%s' offers no authentication method this "
				   "program supports", g->shown);
done:
	if (token.ptr)
		OPENSSL_cleanse(token.ptr, token.cap);
	sbx_buf_dispose(&token);
	return r;
}

void sbx_git__callbacks_init(git_remote_callbacks *cb, sbx_git *g)
{
	git_remote_init_callbacks(cb, GIT_REMOTE_CALLBACKS_VERSION);
	cb->credentials = credentials;
	cb->certificate_check = certificate;
	cb->payload = g;
}

/* Start one network operation: its own error, its own credential budget. */
void sbx_git__begin(sbx_git *g)
{
	sbx_error_clear();
	git_error_clear();
	g->cb_code = 0;
	g->cred_tries = 0;
}

/* --- open ---------------------------------------------------------------- */

static bool dir_is_empty_or_missing(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool empty = !d && errno == ENOENT;

	if (d) {
		empty = true;
		while (empty && (e = readdir(d)))
			empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
		closedir(d);
	}
	return empty;
}

/* Set a key of the mirror's config when it differs (concurrent readers are fine). */
static int set_config(sbx_git *g, const char *key, const char *value)
{
	git_config *cfg = NULL;
	git_buf old = GIT_BUF_INIT;
	int e, r = 0;

	e = git_repository_config(&cfg, g->repo);
	if (e == 0 && (git_config_get_string_buf(&old, cfg, key) < 0 || strcmp(old.ptr, value) != 0))
		e = git_config_set_string(cfg, key, value);
	if (e < 0)
		r = sbx_error_set(SBX_EIO, "cannot write the config of the %s '%s': %s",
				  g->what, g->mirror_dir, git_error_last() ? git_error_last()->message :
				  "unknown error");
	git_buf_dispose(&old);
	git_config_free(cfg);
	return r;
}

/* An existing clone must fetch from the url we were given. */
static int check_origin(sbx_git *g)
{
	git_config *cfg = NULL;
	git_buf old = GIT_BUF_INIT;
	int r = 0;

	if (git_repository_config(&cfg, g->repo) == 0 &&
	    git_config_get_string_buf(&old, cfg, "remote." REMOTE ".url") == 0 &&
	    strcmp(old.ptr, g->shown) != 0)
		r = sbx_error_set(SBX_EINVAL, "the clone '%s' fetches from '%s', not '%s'; give "
				  "another clone folder or fix the repository url", g->mirror_dir,
				  old.ptr, g->shown);
	git_buf_dispose(&old);
	git_config_free(cfg);
	return r;
}

static int open_mirror(sbx_git *g)
{
	git_repository_init_options io;
	git_remote_create_options ro;
	bool created = false;
	int e, r = 0;

	e = git_repository_open_ext(&g->repo, g->mirror_dir, GIT_REPOSITORY_OPEN_NO_SEARCH |
				    (g->worktree ? 0 : GIT_REPOSITORY_OPEN_BARE), NULL);
	if (e == GIT_ENOTFOUND) {
		if (!dir_is_empty_or_missing(g->mirror_dir)) {
			r = sbx_error_set(SBX_EINVAL, "%s folder '%s' is not empty and not a git "
					  "repository; give an empty or new folder", g->what,
					  g->mirror_dir);
			goto done;
		}
		git_repository_init_options_init(&io, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
		io.flags = GIT_REPOSITORY_INIT_MKPATH | (g->worktree ? 0 : GIT_REPOSITORY_INIT_BARE);
		io.initial_head = g->branch;
		e = git_repository_init_ext(&g->repo, g->mirror_dir, &io);
		created = e == 0;
	}
	if (e < 0) {
		r = sbx_error_set(SBX_EIO, "cannot open the %s '%s': %s", g->what, g->mirror_dir,
				  git_error_last() ? git_error_last()->message : "unknown error");
		goto done;
	}
	/* For people who look into the mirror with git: "origin" (never a password). */
	if (g->worktree && !created)
		r = check_origin(g);
	else if ((r = set_config(g, "remote." REMOTE ".url", g->shown)) == 0 &&
		 (r = set_config(g, "remote." REMOTE ".fetch", g->refspec)) == 0)
		r = set_config(g, "remote." REMOTE ".tagopt", "--no-tags");
	if (r < 0)
		goto done;
	/*
	 * The remote used is an in-memory one with the refspec: no insteadOf
	 * rewriting, and no config lookups per operation.
	 */
	git_remote_create_options_init(&ro, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	ro.repository = g->repo;
	ro.fetchspec = g->refspec;
	ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (git_remote_create_with_opts(&g->remote, g->url, &ro) < 0) {
		sbx_buf msg = SBX_BUF_INIT;

		scrub(&msg, git_error_last() ? git_error_last()->message : "unknown error", g->secret);
		r = sbx_error_set(SBX_EINVAL, "cannot use url '%s': %s", g->shown, sbx_buf_cstr(&msg));
		sbx_buf_dispose(&msg);
	}
done:
	return r;
}

static int check_readable(const char *what, const char *path)
{
	int r = 0;

	if (access(path, R_OK) != 0)
		r = sbx_error_set(SBX_EINVAL, "cannot read %s '%s': %s", what, path, strerror(errno));
	return r;
}

int sbx_git_open(sbx_git **out, const sbx_git_options *opts)
{
	sbx_git *g = NULL;
	struct url_parts parts = { 0 };
	const char *branch;
	int valid = 0, r = 0;

	sbx_error_clear();
	if (!out || !opts || !opts->url || !opts->url[0] || !opts->mirror_dir ||
	    !opts->mirror_dir[0]) {
		r = sbx_error_set(SBX_EUSAGE, "a git source needs a url and a local folder");
		goto done;
	}
	branch = opts->branch && opts->branch[0] ? opts->branch : "main";
	g = calloc(1, sizeof(*g));
	if (!g) {
		r = SBX_ENOMEM;
		goto done;
	}
	if (git_libgit2_init() < 0) {
		r = sbx_error_set(SBX_EIO, "cannot start libgit2");
		goto done;
	}
	g->inited = 1;
	r = parse_url(&g->scheme, &parts, opts->url);
	if (r == SBX_ENOMEM)
		goto done;
	if (r < 0) {
		sbx_error_clear();
		r = sbx_error_set(SBX_EINVAL, "repository url '%s' is not a file://, ssh:// or "
				  "https:// url", parts.password ? "(hidden)" : opts->url);
		goto done;
	}
	g->url = strdup(opts->url);
	if (parts.password)
		g->secret = strdup(parts.password);
	{
		sbx_buf shown = SBX_BUF_INIT;

		sbx_git_redact_url(&shown, opts->url);
		g->shown = sbx_buf_take(&shown, NULL);
	}
	g->mirror_dir = strdup(opts->mirror_dir);
	g->branch = strdup(branch);
	g->remote_ref = printf_dup("refs/heads/%s", branch);
	g->local_ref = printf_dup("refs/remotes/" REMOTE "/%s", branch);
	g->refspec = printf_dup("+refs/heads/%s:refs/remotes/" REMOTE "/%s", branch, branch);
	g->user = dup_or_null(parts.user);
	g->host = dup_or_null(parts.host);
	g->port = parts.port;
	g->ssh_key = dup_or_null(opts->ssh_key);
	g->known_hosts = dup_or_null(opts->known_hosts);
	g->token_file = dup_or_null(opts->token_file);
	g->max_blob = opts->max_blob ? opts->max_blob : 256 * 1024;
	g->worktree = opts->worktree;
	g->timeout_s = opts->timeout_s;
	g->what = opts->worktree ? "clone" : "mirror";
	if (!g->url || !g->shown || !g->mirror_dir || !g->branch || !g->remote_ref ||
	    !g->local_ref || !g->refspec || (parts.user && !g->user) ||
	    (parts.host && !g->host) || (opts->ssh_key && !g->ssh_key) ||
	    (opts->known_hosts && !g->known_hosts) || (opts->token_file && !g->token_file)) {
		r = SBX_ENOMEM;
		goto done;
	}
	if (git_reference_name_is_valid(&valid, g->remote_ref) < 0 || !valid) {
		r = sbx_error_set(SBX_EINVAL, "'%s' is not a valid branch name", branch);
		goto done;
	}
	if (g->scheme == SCHEME_SSH) {
		if (!g->known_hosts) {
			r = sbx_error_set(SBX_EINVAL, "ssh url '%s' needs a known_hosts file to "
					  "verify the server", g->shown);
			goto done;
		}
		if ((r = check_readable("known_hosts", g->known_hosts)) < 0)
			goto done;
		if (g->ssh_key) {
			if ((r = check_readable("ssh key", g->ssh_key)) < 0)
				goto done;
			g->ssh_pub = printf_dup("%s.pub", g->ssh_key);
			if (!g->ssh_pub) {
				r = SBX_ENOMEM;
				goto done;
			}
			if (access(g->ssh_pub, R_OK) != 0) {
				free(g->ssh_pub);
				g->ssh_pub = NULL;
			}
		}
	}
	if (g->scheme == SCHEME_HTTPS && g->token_file &&
	    (r = check_readable("token file", g->token_file)) < 0)
		goto done;
	if (g->scheme == SCHEME_HTTPS && opts->ca_file) {
		if ((r = check_readable("CA file", opts->ca_file)) < 0)
			goto done;
		/* process-wide in libgit2: both programs use one remote */
		if (git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, opts->ca_file, NULL) < 0) {
			r = sbx_error_set(SBX_EINVAL, "cannot use the CA file '%s': %s", opts->ca_file,
					  git_error_last() ? git_error_last()->message : "unknown error");
			goto done;
		}
	}
	r = open_mirror(g);
done:
	url_parts_dispose(&parts);
	if (r < 0)
		sbx_git_free(g);
	else
		*out = g;
	return r;
}

/* --- remote operations ----------------------------------------------------- */

/* Find the branch in the remote's advertisement. */
static int find_head(sbx_git *g, git_remote *remote, git_oid *id)
{
	const git_remote_head **heads = NULL;
	size_t n = 0;
	int e, r = SBX_ENOTFOUND;

	e = git_remote_ls(&heads, &n, remote);
	if (e < 0) {
		r = sbx_git__fail(g, e, "listing the branches of");
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(heads[i]->name, g->remote_ref) == 0) {
			git_oid_cpy(id, &heads[i]->oid);
			r = 0;
			goto done;
		}
	r = sbx_error_set(SBX_ENOTFOUND, "branch '%s' does not exist in '%s'", g->branch,
			  g->shown);
done:
	return r;
}

static int remote_head_now(sbx_git *g, char oid[SBX_GIT_OID_HEX])
{
	git_remote_connect_options co;
	git_oid id;
	int e, r = 0;

	git_remote_connect_options_init(&co, GIT_REMOTE_CONNECT_OPTIONS_VERSION);
	sbx_git__callbacks_init(&co.callbacks, g);
	co.proxy_opts.type = GIT_PROXY_AUTO;
	co.follow_redirects = GIT_REMOTE_REDIRECT_NONE;   /* never to another server */
	e = git_remote_connect_ext(g->remote, GIT_DIRECTION_FETCH, &co);
	if (e < 0 || g->cb_code) {
		r = sbx_git__fail(g, e, "connecting to");
		goto done;
	}
	r = find_head(g, g->remote, &id);
	if (r == 0)
		git_oid_tostr(oid, SBX_GIT_OID_HEX, &id);
done:
	git_remote_disconnect(g->remote);
	return r;
}

static int fetch_now(sbx_git *g, char oid[SBX_GIT_OID_HEX])
{
	git_fetch_options fo;
	git_commit *commit = NULL;
	char *spec = g->refspec;
	git_strarray specs = { &spec, 1 };
	git_oid id, local;
	int e, r = 0;

	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	sbx_git__callbacks_init(&fo.callbacks, g);
	fo.proxy_opts.type = GIT_PROXY_AUTO;
	fo.follow_redirects = GIT_REMOTE_REDIRECT_NONE;   /* never to another server */
	fo.prune = GIT_FETCH_NO_PRUNE;
	fo.update_fetchhead = 0;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	e = git_remote_fetch(g->remote, &specs, &fo, NULL);
	if (e < 0 || g->cb_code) {
		r = sbx_git__fail(g, e, "fetching from");
		goto done;
	}
	/* The advertisement stays readable after the fetch disconnected. */
	if ((r = find_head(g, g->remote, &id)) < 0)
		goto done;
	if (git_commit_lookup(&commit, g->repo, &id) < 0 ||
	    git_reference_name_to_id(&local, g->repo, g->local_ref) < 0 ||
	    !git_oid_equal(&local, &id)) {
		r = sbx_error_set(SBX_ETRANSPORT, "fetching from '%s' did not bring branch '%s' "
				  "into the %s '%s'", g->shown, g->branch, g->what, g->mirror_dir);
		goto done;
	}
	git_oid_tostr(oid, SBX_GIT_OID_HEX, &id);
done:
	git_commit_free(commit);
	return r;
}

/*
 * libgit2 1.5 has no network timeouts: a server that accepts the connection
 * and then says nothing would hold the caller forever. So each ref check
 * and fetch runs in a child process (it writes only to the mirror on disk)
 * and reports back through a pipe. The caller polls the pipe with its
 * other descriptors (sbx_git_job_*), or waits on it alone (the blocking
 * calls); past the deadline the child is killed and the mirror keeps its
 * previous revision.
 */
struct answer {
	int r;
	char oid[SBX_GIT_OID_HEX];
	char message[1024];
};

struct sbx_git_job {
	sbx_git *g;
	const char *what;      /* "checking the branch of", "fetching from" */
	pid_t pid;
	int fd;                /* read end of the child's pipe; -1 once closed */
	struct answer a;
	size_t got;            /* bytes of `a` received */
	long long deadline;    /* monotonic ms; 0: none */
	bool done;
	int result;
};

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The lock files a fetch holds while it writes the branch's ref. */
static void remove_locks(sbx_git *g)
{
	sbx_buf path = SBX_BUF_INIT;
	const char *git_dir = git_repository_path(g->repo);

	sbx_buf_printf(&path, "%s%s.lock", git_dir, g->local_ref);
	unlink(sbx_buf_cstr(&path));
	sbx_buf_clear(&path);
	sbx_buf_printf(&path, "%spacked-refs.lock", git_dir);
	unlink(sbx_buf_cstr(&path));
	sbx_buf_dispose(&path);
}

int sbx_git_job_start(sbx_git_job **out, sbx_git *g, bool fetch)
{
	int (*op)(sbx_git *, char *) = fetch ? fetch_now : remote_head_now;
	sbx_git_job *j = calloc(1, sizeof(*j));
	int fds[2];
	pid_t parent;

	if (!j)
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	sbx_git__begin(g);
	if (fetch)
		g->fetches++;
	else
		g->head_checks++;
	j->g = g;
	j->what = fetch ? "fetching from" : "checking the branch of";
	j->fd = -1;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		free(j);
		return sbx_error_set(SBX_EIO, "cannot make a pipe: %s", strerror(errno));
	}
	fflush(NULL);
	parent = getpid();
	j->pid = fork();
	if (j->pid < 0) {
		int e = errno;

		close(fds[0]);
		close(fds[1]);
		free(j);
		return sbx_error_set(SBX_EIO, "cannot start a process for %s '%s': %s",
				     fetch ? "fetching from" : "checking the branch of", g->shown,
				     strerror(e));
	}
	if (j->pid == 0) {
		struct answer a = { 0 };

		/* the work dies with its caller: a killed controller must not
		 * leave a fetch behind that holds its sockets and ref locks */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(1);
		close(fds[0]);
		a.r = op(g, a.oid);
		if (a.r < 0)
			snprintf(a.message, sizeof(a.message), "%s", sbx_error_last());
		_exit(write(fds[1], &a, sizeof(a)) == (ssize_t)sizeof(a) ? 0 : 1);
	}
	close(fds[1]);
	j->fd = fds[0];
	fcntl(j->fd, F_SETFL, fcntl(j->fd, F_GETFL) | O_NONBLOCK);
	if (g->timeout_s > 0)
		j->deadline = mono_ms() + g->timeout_s * 1000LL;
	*out = j;
	return 0;
}

int sbx_git_job_fd(const sbx_git_job *j)
{
	return j && !j->done ? j->fd : -1;
}

long sbx_git_job_wait_ms(const sbx_git_job *j)
{
	long long left;

	if (!j || j->done)
		return 0;
	if (!j->deadline)
		return -1;
	left = j->deadline - mono_ms();
	return left > 0 ? (long)left : 0;
}

/* End the job: reap the child, keep the outcome. */
static void job_end(sbx_git_job *j, bool timed_out)
{
	int status = 0;

	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
	if (j->got < sizeof(j->a))
		kill(j->pid, SIGKILL);
	while (waitpid(j->pid, &status, 0) < 0 && errno == EINTR)
		;
	j->done = true;
	if (j->got < sizeof(j->a)) {
		/* a killed fetch may leave its ref locks behind: later fetches would fail */
		remove_locks(j->g);
		j->result = timed_out ? SBX_ETIMEOUT : SBX_ETRANSPORT;
		if (timed_out)
			snprintf(j->a.message, sizeof(j->a.message), "%s '%s' got no answer within %d s; "
				 "the server may be overloaded or the connection stuck", j->what,
				 j->g->shown, j->g->timeout_s);
		else
			snprintf(j->a.message, sizeof(j->a.message), "%s '%s' failed: the process doing "
				 "it ended without an answer (status %d)", j->what, j->g->shown, status);
	} else {
		j->a.message[sizeof(j->a.message) - 1] = '\0';
		j->a.oid[SBX_GIT_OID_HEX - 1] = '\0';
		j->result = j->a.r < 0 ? j->a.r : 0;
	}
}

bool sbx_git_job_done(sbx_git_job *j)
{
	if (j->done)
		return true;
	for (;;) {
		ssize_t n = read(j->fd, (char *)&j->a + j->got, sizeof(j->a) - j->got);

		if (n > 0) {
			j->got += (size_t)n;
			if (j->got == sizeof(j->a))
				break;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (j->deadline && mono_ms() >= j->deadline) {
				job_end(j, true);
				return true;
			}
			return false;
		}
		break; /* end of file or a read error: the child is gone */
	}
	job_end(j, false);
	return true;
}

int sbx_git_job_result(const sbx_git_job *j, char oid[SBX_GIT_OID_HEX])
{
	sbx_error_clear();
	if (!j->done)
		return sbx_error_set(SBX_EUSAGE, "the git job has not finished");
	if (j->result < 0)
		return sbx_error_set(j->result, "%s", j->a.message);
	memcpy(oid, j->a.oid, SBX_GIT_OID_HEX);
	return 0;
}

void sbx_git_job_free(sbx_git_job *j)
{
	if (!j)
		return;
	if (!j->done)
		job_end(j, false);
	free(j);
}

/* Run one job to its end, waiting on its pipe alone. */
static int bounded(sbx_git *g, bool fetch, char oid[SBX_GIT_OID_HEX])
{
	sbx_git_job *j = NULL;
	int r;

	if (g->timeout_s <= 0) {
		sbx_git__begin(g);
		if (fetch)
			g->fetches++;
		else
			g->head_checks++;
		return fetch ? fetch_now(g, oid) : remote_head_now(g, oid);
	}
	if ((r = sbx_git_job_start(&j, g, fetch)) < 0)
		return r;
	while (!sbx_git_job_done(j)) {
		struct pollfd pfd = { sbx_git_job_fd(j), POLLIN, 0 };
		long wait = sbx_git_job_wait_ms(j);

		if (poll(&pfd, 1, wait < 0 ? -1 : (int)(wait > 1000 ? 1000 : wait)) < 0 && errno != EINTR)
			break;
	}
	if (!j->done)
		job_end(j, false);
	r = sbx_git_job_result(j, oid);
	sbx_git_job_free(j);
	return r;
}

int sbx_git_remote_head(sbx_git *g, char oid[SBX_GIT_OID_HEX])
{
	return bounded(g, false, oid);
}

int sbx_git_fetch(sbx_git *g, char oid[SBX_GIT_OID_HEX])
{
	return bounded(g, true, oid);
}

/* --- reading a revision ----------------------------------------------------- */

static int parse_oid(git_oid *id, const char *hex)
{
	int r = 0;

	if (!hex || strlen(hex) != SBX_GIT_OID_HEX - 1 || git_oid_fromstr(id, hex) < 0)
		r = sbx_error_set(SBX_EINVAL, "'%s' is not a commit id (40 hex digits)",
				  hex ? hex : "(null)");
	return r;
}

static int lookup_commit(git_commit **out, sbx_git *g, const char *hex)
{
	git_oid id;
	int e, r;

	if ((r = parse_oid(&id, hex)) < 0)
		goto done;
	e = git_commit_lookup(out, g->repo, &id);
	if (e == GIT_ENOTFOUND)
		r = sbx_error_set(SBX_ENOTFOUND, "commit '%s' is not in the %s '%s'; fetch it "
				  "first", hex, g->what, g->mirror_dir);
	else if (e < 0)
		r = sbx_error_set(SBX_EIO, "cannot read commit '%s' from the %s '%s': %s", hex,
				  g->what, g->mirror_dir, git_error_last() ? git_error_last()->message :
				  "unknown error");
done:
	return r;
}

static int lookup_tree(git_tree **out, sbx_git *g, const char *hex)
{
	git_commit *commit = NULL;
	int r;

	if ((r = lookup_commit(&commit, g, hex)) < 0)
		goto done;
	if (git_commit_tree(out, commit) < 0)
		r = sbx_error_set(SBX_EIO, "cannot read the tree of commit '%s': %s", hex,
				  git_error_last() ? git_error_last()->message : "unknown error");
done:
	git_commit_free(commit);
	return r;
}

/* Append one blob as folder/name, or a diagnostic when it is refused. */
static int read_blob(struct filelist *l, struct strlist *refused, sbx_git *g, git_odb *odb,
		     const git_tree_entry *te, const char *path, sbx_diags *diags)
{
	const git_oid *id = git_tree_entry_id(te);
	git_blob *blob = NULL;
	git_object_t type;
	size_t size = 0;
	char *data = NULL, *p = NULL;
	int r = 0;

	if (git_odb_read_header(&size, &type, odb, id) < 0 || type != GIT_OBJECT_BLOB) {
		r = sbx_error_set(SBX_EIO, "cannot read '%s' from the %s '%s': %s", path,
				  g->what, g->mirror_dir, git_error_last() ? git_error_last()->message :
				  "not a blob");
		goto done;
	}
	if (size > g->max_blob) {
		if (g->max_blob % 1024 == 0)
			sbx_diag_add(diags, path, 0, 0, "file is %zu bytes; the limit is %zu bytes "
				     "(%zu KiB)", size, g->max_blob, g->max_blob / 1024);
		else
			sbx_diag_add(diags, path, 0, 0, "file is %zu bytes; the limit is %zu bytes",
				     size, g->max_blob);
		r = strlist_add(refused, path);
		goto done;
	}
	if (git_blob_lookup(&blob, g->repo, id) < 0) {
		r = sbx_error_set(SBX_EIO, "cannot read '%s' from the %s '%s': %s", path,
				  g->what, g->mirror_dir, git_error_last() ? git_error_last()->message :
				  "unknown error");
		goto done;
	}
	size = (size_t)git_blob_rawsize(blob);
	data = malloc(size + 1);
	p = strdup(path);
	if (!data || !p) {
		r = SBX_ENOMEM;
		goto done;
	}
	memcpy(data, git_blob_rawcontent(blob), size);
	data[size] = '\0';
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		sbx_file *items = realloc(l->items, cap * sizeof(*items));

		if (!items) {
			r = SBX_ENOMEM;
			goto done;
		}
		l->items = items;
		l->cap = cap;
	}
	l->items[l->count].path = p;
	l->items[l->count].data = data;
	l->items[l->count].len = size;
	l->count++;
	p = data = NULL;
done:
	free(p);
	free(data);
	git_blob_free(blob);
	return r;
}

/* The *.yaml files directly in `folder` of the tree (one level). */
static int read_folder(struct filelist *l, struct strlist *refused, sbx_git *g, git_odb *odb,
		       const git_tree *root, const char *folder, sbx_diags *diags)
{
	git_tree_entry *te = NULL;
	git_tree *tree = NULL;
	sbx_buf path = SBX_BUF_INIT;
	int e, r = 0;

	e = git_tree_entry_bypath(&te, root, folder);
	if (e == GIT_ENOTFOUND)
		goto done;
	if (e < 0) {
		r = sbx_error_set(SBX_EIO, "cannot read '%s' from the %s: %s", folder, g->what,
				  git_error_last() ? git_error_last()->message : "unknown error");
		goto done;
	}
	switch (git_tree_entry_filemode(te)) {
	case GIT_FILEMODE_TREE:
		break;
	case GIT_FILEMODE_LINK:
		sbx_diag_add(diags, folder, 0, 0, "symbolic links are not allowed; commit the "
			     "folder itself");
		goto done;
	case GIT_FILEMODE_COMMIT:
		sbx_diag_add(diags, folder, 0, 0, "submodules are not allowed");
		goto done;
	default:
		sbx_diag_add(diags, folder, 0, 0, "must be a folder");
		goto done;
	}
	if (git_tree_lookup(&tree, g->repo, git_tree_entry_id(te)) < 0) {
		r = sbx_error_set(SBX_EIO, "cannot read '%s' from the %s: %s", folder, g->what,
				  git_error_last() ? git_error_last()->message : "unknown error");
		goto done;
	}
	for (size_t i = 0, n = git_tree_entrycount(tree); i < n && r == 0; i++) {
		const git_tree_entry *ent = git_tree_entry_byindex(tree, i);
		const char *name = git_tree_entry_name(ent);
		git_filemode_t mode = git_tree_entry_filemode(ent);
		bool yaml = ends_with(name, ".yaml"), yml = ends_with(name, ".yml");

		if (name[0] == '.')
			continue;
		sbx_buf_clear(&path);
		if (sbx_buf_printf(&path, "%s/%s", folder, name) < 0) {
			r = SBX_ENOMEM;
			break;
		}
		if (strchr(name, '/')) {
			/* git never writes one: such a name would pass for a file of
			 * another folder, or shadow a sandbox's own file */
			sbx_diag_add(diags, path.ptr, 0, 0, "a tree entry whose name holds '/' is "
				     "not allowed (git does not write one)");
			if (yaml || yml)
				r = strlist_add(refused, path.ptr);
			continue;
		}
		if (mode == GIT_FILEMODE_COMMIT) {
			sbx_diag_add(diags, path.ptr, 0, 0, "submodules are not allowed");
			if (yaml || yml)
				r = strlist_add(refused, path.ptr);
			continue;
		}
		if (!yaml && !yml)
			continue;
		if (mode == GIT_FILEMODE_LINK) {
			sbx_diag_add(diags, path.ptr, 0, 0, "symbolic links are not allowed; commit "
				     "the file itself");
			r = strlist_add(refused, path.ptr);
			continue;
		}
		if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE) {
			sbx_diag_add(diags, path.ptr, 0, 0, "must be a file");
			r = strlist_add(refused, path.ptr);
			continue;
		}
		if (yml) {
			sbx_diag_add(diags, path.ptr, 0, 0, "files must end in .yaml; rename it to "
				     "'%.*s.yaml'", (int)(strlen(name) - 4), name);
			r = strlist_add(refused, path.ptr);
			continue;
		}
		r = read_blob(l, refused, g, odb, ent, path.ptr, diags);
	}
done:
	sbx_buf_dispose(&path);
	git_tree_free(tree);
	git_tree_entry_free(te);
	return r;
}

/* The first line of the message, bounded, cut on a UTF-8 boundary. */
static char *first_line(const char *msg)
{
	size_t n = msg ? strcspn(msg, "\n") : 0;

	while (n > 0 && isspace((unsigned char)msg[n - 1]))
		n--;
	if (n > SUBJECT_MAX) {
		n = SUBJECT_MAX;
		while (n > 0 && ((unsigned char)msg[n] & 0xC0) == 0x80)
			n--;
	}
	return strndup(msg ? msg : "", n);
}

int sbx_git_read(sbx_git_files *out, sbx_git *g, const char *oid, sbx_diags *diags)
{
	struct filelist templates = { 0 }, sandboxes = { 0 };
	struct strlist refused = { 0 };
	sbx_git_files f = { 0 };
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_odb *odb = NULL;
	int r;

	sbx_error_clear();
	if ((r = lookup_commit(&commit, g, oid)) < 0)
		goto done;
	if (git_commit_tree(&tree, commit) < 0 || git_repository_odb(&odb, g->repo) < 0) {
		r = sbx_error_set(SBX_EIO, "cannot read the tree of commit '%s': %s", oid,
				  git_error_last() ? git_error_last()->message : "unknown error");
		goto done;
	}
	if ((r = read_folder(&templates, NULL, g, odb, tree, "templates", diags)) < 0 ||
	    (r = read_folder(&sandboxes, &refused, g, odb, tree, "sandboxes", diags)) < 0)
		goto done;
	if (templates.count > 1)
		qsort(templates.items, templates.count, sizeof(*templates.items), cmp_file);
	if (sandboxes.count > 1)
		qsort(sandboxes.items, sandboxes.count, sizeof(*sandboxes.items), cmp_file);
	for (size_t i = 0; i < templates.count; i++) {
		if (strcmp(templates.items[i].path, "templates/policy.yaml") != 0)
			continue;
		f.policy = malloc(sizeof(*f.policy));
		if (!f.policy) {
			r = SBX_ENOMEM;
			goto done;
		}
		*f.policy = templates.items[i];
		memmove(&templates.items[i], &templates.items[i + 1],
			(templates.count - i - 1) * sizeof(*templates.items));
		templates.count--;
		break;
	}
	f.subject = first_line(git_commit_message(commit));
	if (!f.subject) {
		r = SBX_ENOMEM;
		goto done;
	}
	git_oid_tostr(f.commit, sizeof(f.commit), git_commit_id(commit));
	f.commit_time = (long long)git_commit_time(commit);
	f.templates = templates.items;
	f.ntemplates = templates.count;
	f.sandboxes = sandboxes.items;
	f.nsandboxes = sandboxes.count;
	f.refused = refused.items;
	f.nrefused = refused.count;
	templates.items = sandboxes.items = NULL;
	templates.count = sandboxes.count = 0;
	memset(&refused, 0, sizeof(refused));
	*out = f;
	memset(&f, 0, sizeof(f));
done:
	sbx_git_files_dispose(&f);
	filelist_dispose(&templates);
	filelist_dispose(&sandboxes);
	strlist_dispose(&refused);
	git_odb_free(odb);
	git_tree_free(tree);
	git_commit_free(commit);
	return r;
}

void sbx_git_files_dispose(sbx_git_files *f)
{
	if (!f)
		return;
	if (f->policy) {
		file_dispose(f->policy);
		free(f->policy);
	}
	for (size_t i = 0; i < f->ntemplates; i++)
		file_dispose(&f->templates[i]);
	for (size_t i = 0; i < f->nsandboxes; i++)
		file_dispose(&f->sandboxes[i]);
	free(f->templates);
	free(f->sandboxes);
	for (size_t i = 0; i < f->nrefused; i++)
		free(f->refused[i]);
	free(f->refused);
	free(f->subject);
	memset(f, 0, sizeof(*f));
}

/* --- diff ----------------------------------------------------------------- */

struct names {
	char **items;
	size_t count;
	size_t cap;
	bool all;
};

/* Note what a changed path means: a template, a sandbox, or nothing. */
static int classify(struct names *n, const char *path)
{
	const char *name = path ? path + 10 : NULL;
	char *copy = NULL;
	int r = 0;

	if (!path)
		goto done;
	if (strcmp(path, "templates") == 0 || strncmp(path, "templates/", 10) == 0) {
		n->all = true;
		goto done;
	}
	if (strncmp(path, "sandboxes/", 10) != 0 || strchr(name, '/') || !ends_with(name, ".yaml"))
		goto done;
	copy = strndup(name, strlen(name) - 5);
	if (!copy) {
		r = SBX_ENOMEM;
		goto done;
	}
	if (n->count == n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 16;
		char **items = realloc(n->items, cap * sizeof(*items));

		if (!items) {
			r = SBX_ENOMEM;
			goto done;
		}
		n->items = items;
		n->cap = cap;
	}
	n->items[n->count++] = copy;
	copy = NULL;
done:
	free(copy);
	return r;
}

int sbx_git_diff(sbx_git_changes *out, sbx_git *g, const char *from_oid, const char *to_oid)
{
	git_diff_options opts;
	git_tree *from = NULL, *to = NULL;
	git_diff *diff = NULL;
	struct names n = { 0 };
	size_t kept = 0;
	int r = 0;

	sbx_error_clear();
	if ((from_oid && (r = lookup_tree(&from, g, from_oid)) < 0) ||
	    (r = lookup_tree(&to, g, to_oid)) < 0)
		goto done;
	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	opts.flags |= GIT_DIFF_SKIP_BINARY_CHECK;
	if (git_diff_tree_to_tree(&diff, g->repo, from, to, &opts) < 0) {
		r = sbx_error_set(SBX_EIO, "cannot compare commits '%s' and '%s': %s",
				  from_oid ? from_oid : "(none)", to_oid, git_error_last() ?
				  git_error_last()->message : "unknown error");
		goto done;
	}
	for (size_t i = 0, nd = git_diff_num_deltas(diff); i < nd; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);

		if ((r = classify(&n, d->old_file.path)) < 0)
			goto done;
		if (d->new_file.path && d->old_file.path &&
		    strcmp(d->new_file.path, d->old_file.path) != 0 &&
		    (r = classify(&n, d->new_file.path)) < 0)
			goto done;
	}
	if (n.count > 1)
		qsort(n.items, n.count, sizeof(*n.items), cmp_str);
	for (size_t i = 0; i < n.count; i++) {
		if (kept > 0 && strcmp(n.items[kept - 1], n.items[i]) == 0) {
			free(n.items[i]);
			continue;
		}
		n.items[kept++] = n.items[i];
	}
	n.count = kept;
	out->all = n.all;
	out->names = n.items;
	out->count = n.count;
	n.items = NULL;
	n.count = 0;
done:
	for (size_t i = 0; i < n.count; i++)
		free(n.items[i]);
	free(n.items);
	git_diff_free(diff);
	git_tree_free(from);
	git_tree_free(to);
	return r;
}

void sbx_git_changes_dispose(sbx_git_changes *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->count; i++)
		free(c->names[i]);
	free(c->names);
	memset(c, 0, sizeof(*c));
}

const char *sbx_git_url(const sbx_git *g)
{
	return g ? g->shown : "";
}

void sbx_git_stats(const sbx_git *g, unsigned long *head_checks, unsigned long *fetches)
{
	if (head_checks)
		*head_checks = g ? g->head_checks : 0;
	if (fetches)
		*fetches = g ? g->fetches : 0;
}

void sbx_git_free(sbx_git *g)
{
	if (!g)
		return;
	git_remote_free(g->remote);
	git_repository_free(g->repo);
	free(g->url);
	free(g->shown);
	if (g->secret)
		OPENSSL_cleanse(g->secret, strlen(g->secret));
	free(g->secret);
	free(g->mirror_dir);
	free(g->branch);
	free(g->refspec);
	free(g->remote_ref);
	free(g->local_ref);
	free(g->user);
	free(g->host);
	free(g->ssh_key);
	free(g->ssh_pub);
	free(g->known_hosts);
	free(g->token_file);
	free(g->push_status);
	if (g->inited)
		git_libgit2_shutdown();
	free(g);
}

int sbx_git_repo_load(sbx_repo **out, const sbx_git_files *f, sbx_diags *diags)
{
	sbx_repo_files rf = { 0 };

	rf.policy = f->policy;
	rf.templates = f->templates;
	rf.ntemplates = f->ntemplates;
	rf.sandboxes = f->sandboxes;
	rf.nsandboxes = f->nsandboxes;
	return sbx_repo_load(out, &rf, NULL, diags);
}
