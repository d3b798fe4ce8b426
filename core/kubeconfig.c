// SPDX-License-Identifier: Apache-2.0
/*
 * kubeconfig and in-cluster configuration. Several files merge as kubectl
 * merges them: for each named cluster, user and context the first file
 * that defines it wins, and so does the first non-empty current-context.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "error.h"
#include "kubeconfig.h"
#include "yamlfile.h"

#define MAX_FILES 16
#define MAX_SECRET_FILE (1024 * 1024)
#define SA_ROOT "/var/run/secrets/kubernetes.io/serviceaccount"

struct kfile {
	char *path;
	char *dir;
	sbx_ynode *root;
};

struct kfiles {
	struct kfile f[MAX_FILES];
	size_t n;
};

/* Read a whole file of at most `max` bytes. Caller must free *out. */
static int read_file(char **out, size_t *len, const char *path, size_t max, const char *what)
{
	sbx_buf b = SBX_BUF_INIT;
	char chunk[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;
	ssize_t n;

	if (fd < 0)
		return sbx_error_set(errno == ENOENT ? SBX_ENOTFOUND : SBX_EIO, "cannot read %s '%s': %s",
				     what, path, strerror(errno));
	sbx_buf_init(&b, max);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 && (size_t)n <= max - b.len)
		if (sbx_buf_put(&b, chunk, (size_t)n) < 0)
			break;
	if (n < 0)
		r = sbx_error_set(SBX_EIO, "cannot read %s '%s': %s", what, path, strerror(errno));
	else if (n > 0 && !b.failed)
		r = sbx_error_set(SBX_EIO, "%s '%s' is larger than %zu bytes", what, path, max);
	else if (b.failed)
		r = sbx_error_set(SBX_ENOMEM, "out of memory");
	close(fd);
	if (r == 0) {
		*out = sbx_buf_take(&b, len);
		if (!*out)
			r = sbx_error_set(SBX_ENOMEM, "out of memory");
	}
	sbx_buf_dispose(&b);
	return r;
}

static char *dirname_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

static char *resolve(const struct kfile *f, const char *path)
{
	sbx_buf b = SBX_BUF_INIT;

	if (path[0] == '/')
		return strdup(path);
	sbx_buf_printf(&b, "%s/%s", f->dir, path);
	return sbx_buf_take(&b, NULL);
}

static void kfiles_dispose(struct kfiles *k)
{
	for (size_t i = 0; i < k->n; i++) {
		free(k->f[i].path);
		free(k->f[i].dir);
		sbx_ynode_free(k->f[i].root);
	}
	k->n = 0;
}

static int load_files(struct kfiles *k, const char *paths)
{
	const char *p = paths;

	while (*p) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		sbx_diags d = SBX_DIAGS_INIT;
		char *path = strndup(p, n), *data = NULL;
		size_t len;
		int r;

		p += n + (end ? 1 : 0);
		if (!path)
			return sbx_error_set(SBX_ENOMEM, "out of memory");
		if (!*path) {
			free(path);
			continue;
		}
		r = read_file(&data, &len, path, 4 * 1024 * 1024, "kubeconfig");
		if (r == SBX_ENOTFOUND && paths != p - n - (end ? 1 : 0)) {
			/* kubectl skips missing files in a list, except the first alone */
			sbx_error_clear();
			free(path);
			continue;
		}
		if (r < 0) {
			free(path);
			return r;
		}
		if (k->n == MAX_FILES) {
			free(data);
			free(path);
			return sbx_error_set(SBX_EINVAL, "more than %d kubeconfig files listed", MAX_FILES);
		}
		r = sbx_yaml_load(&k->f[k->n].root, path, data, len, &d);
		free(data);
		if (r < 0) {
			if (d.count)
				sbx_error_set(SBX_EINVAL, "kubeconfig %s:%d:%d: %s", d.items[0].path,
					      d.items[0].line, d.items[0].col, d.items[0].message);
			sbx_diags_dispose(&d);
			free(path);
			return r == SBX_ENOMEM ? r : SBX_EINVAL;
		}
		sbx_diags_dispose(&d);
		k->f[k->n].path = path;
		k->f[k->n].dir = dirname_of(path);
		k->n++;
		if (!k->f[k->n - 1].dir)   /* relative paths would resolve from "(null)" */
			return sbx_error_set(SBX_ENOMEM, "out of memory");
	}
	if (k->n == 0)
		return sbx_error_set(SBX_ENOTFOUND, "no kubeconfig found in '%s'; set KUBECONFIG or "
				     "pass --kubeconfig", paths);
	return 0;
}

static const char *str(const sbx_ynode *map, const char *key)
{
	const sbx_ynode *n = sbx_ynode_get(map, key);

	return n && n->kind == SBX_YNODE_SCALAR && sbx_ynode_type(n) != SBX_YTYPE_NULL ? n->value : NULL;
}

/* Find the entry called name in list `section` (clusters, users,
 * contexts) across the files, first file first; returns its inner map
 * (`field`) and the file it came from. */
static const sbx_ynode *find_named(const struct kfiles *k, const char *section, const char *field,
				   const char *name, const struct kfile **from)
{
	for (size_t i = 0; i < k->n; i++) {
		const sbx_ynode *list = sbx_ynode_get(k->f[i].root, section);

		if (!list || list->kind != SBX_YNODE_SEQ)
			continue;
		for (size_t j = 0; j < list->count; j++) {
			const char *n = str(list->items[j], "name");

			if (n && strcmp(n, name) == 0) {
				*from = &k->f[i];
				return sbx_ynode_get(list->items[j], field);
			}
		}
	}
	return NULL;
}

static void list_names(sbx_buf *b, const struct kfiles *k, const char *section)
{
	size_t count = 0;

	for (size_t i = 0; i < k->n; i++) {
		const sbx_ynode *list = sbx_ynode_get(k->f[i].root, section);

		for (size_t j = 0; list && list->kind == SBX_YNODE_SEQ && j < list->count; j++) {
			const char *n = str(list->items[j], "name");

			if (n)
				sbx_buf_printf(b, "%s%s", count++ ? ", " : "", n);
		}
	}
	if (!count)
		sbx_buf_puts(b, "none");
}

/* base64 "-data" fields. */
static int decode_b64(char **out, size_t *len, const char *text, const char *what, const char *src)
{
	size_t n = strlen(text), cap = n / 4 * 3 + 3;
	unsigned char *buf = malloc(cap + 1);
	sbx_buf clean = SBX_BUF_INIT;
	int got, pad = 0;

	if (!buf)
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	for (const char *p = text; *p; p++)
		if (*p != '\n' && *p != '\r' && *p != ' ')
			sbx_buf_putc(&clean, *p);
	if (clean.failed) {
		/* never decoded from part of the text: a CA cut to nothing would
		 * fall back to the system's */
		sbx_buf_dispose(&clean);
		free(buf);
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	}
	got = clean.len % 4 ? -1 : EVP_DecodeBlock(buf, (const unsigned char *)clean.ptr, (int)clean.len);
	if (got >= 0 && clean.len >= 2) {
		pad = (clean.ptr[clean.len - 1] == '=') + (clean.ptr[clean.len - 2] == '=');
		got -= pad;
	}
	sbx_buf_dispose(&clean);
	if (got < 0) {
		free(buf);
		return sbx_error_set(SBX_EINVAL, "%s in kubeconfig '%s' is not valid base64", what, src);
	}
	buf[got] = '\0';
	*out = (char *)buf;
	*len = (size_t)got;
	return 0;
}

/* A file field or its "-data" twin. */
static int file_or_data(char **out, size_t *len, const sbx_ynode *map, const struct kfile *f,
			const char *file_key, const char *data_key)
{
	const char *data = str(map, data_key), *file = str(map, file_key);
	char *path;
	int r;

	if (data)
		return decode_b64(out, len, data, data_key, f->path);
	if (!file)
		return 0;
	path = resolve(f, file);
	if (!path)
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	r = read_file(out, len, path, MAX_SECRET_FILE, file_key);
	free(path);
	return r;
}

#define EXEC_MAX_OUTPUT (1024 * 1024)
#define EXEC_TIMEOUT_MS 60000

extern char **environ;

static void wipe(char *s, size_t len)
{
	if (s) {
		explicit_bzero(s, len);
		free(s);
	}
}

/* Run the exec credential plugin and take the token from its
 * ExecCredential. Its stderr goes to ours (prompts, errors); stdout is
 * bounded; it gets KUBERNETES_EXEC_INFO and a minute to answer. */
static int run_exec(sbx_kube_config *c)
{
	sbx_buf out = SBX_BUF_INIT;
	cJSON *cred = NULL;
	const cJSON *status, *token, *expiry;
	char **env = NULL, chunk[4096];
	size_t nenv = 0, extra = 0;
	int fds[2], r = 0, wstatus = 0, waited = 0;
	pid_t pid;

	while (environ[nenv])
		nenv++;
	while (c->exec_env && c->exec_env[extra])
		extra++;
	env = calloc(nenv + extra + 2, sizeof(*env));
	if (!env)
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	if (pipe(fds) < 0) {
		free(env);
		return sbx_error_set(SBX_EIO, "cannot run the exec credential plugin: %s", strerror(errno));
	}
	memcpy(env, environ, nenv * sizeof(*env));
	memcpy(env + nenv, c->exec_env, extra * sizeof(*env));
	env[nenv + extra] = "KUBERNETES_EXEC_INFO={\"apiVersion\":\"client.authentication.k8s.io/v1\","
			    "\"kind\":\"ExecCredential\",\"spec\":{\"interactive\":false}}";
	pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		dup2(devnull, 0);
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execvpe(c->exec_argv[0], c->exec_argv, env);
		_exit(127);
	}
	close(fds[1]);
	free(env);
	if (pid < 0) {
		close(fds[0]);
		return sbx_error_set(SBX_EIO, "cannot run '%s': %s", c->exec_argv[0], strerror(errno));
	}
	sbx_buf_init(&out, EXEC_MAX_OUTPUT);
	for (;;) {
		struct pollfd pfd = { fds[0], POLLIN, 0 };
		ssize_t n;

		if (poll(&pfd, 1, EXEC_TIMEOUT_MS) <= 0) {
			kill(pid, SIGKILL);
			r = sbx_error_set(SBX_EIO, "the exec credential plugin '%s' did not answer within "
					  "%d s", c->exec_argv[0], EXEC_TIMEOUT_MS / 1000);
			break;
		}
		n = read(fds[0], chunk, sizeof(chunk));
		if (n <= 0)
			break;
		if ((size_t)n > EXEC_MAX_OUTPUT - out.len || sbx_buf_put(&out, chunk, (size_t)n) < 0) {
			kill(pid, SIGKILL);
			r = out.failed ? sbx_error_set(SBX_ENOMEM, "out of memory") :
			    sbx_error_set(SBX_EIO, "the exec credential plugin '%s' wrote more than %d "
					  "bytes", c->exec_argv[0], EXEC_MAX_OUTPUT);
			break;
		}
	}
	close(fds[0]);
	waited = waitpid(pid, &wstatus, 0) == pid;
	if (r == 0 && (!waited || !WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0))
		r = sbx_error_set(SBX_EIO, "the exec credential plugin '%s' failed (exit status %d)",
				  c->exec_argv[0], waited && WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
	if (r == 0) {
		cred = cJSON_ParseWithLength(sbx_buf_cstr(&out), out.len);
		status = cJSON_GetObjectItemCaseSensitive(cred, "status");
		token = cJSON_GetObjectItemCaseSensitive(status, "token");
		expiry = cJSON_GetObjectItemCaseSensitive(status, "expirationTimestamp");
		if (!cJSON_IsString(token) || !*token->valuestring) {
			r = sbx_error_set(SBX_EIO, "the exec credential plugin '%s' returned no "
					  "status.token", c->exec_argv[0]);
		} else {
			struct tm tm = { 0 };

			if (c->token) {
				explicit_bzero(c->token, strlen(c->token));
				free(c->token);
			}
			c->token = strdup(token->valuestring);
			c->token_expiry = 0;
			if (cJSON_IsString(expiry) && strptime(expiry->valuestring, "%Y-%m-%dT%H:%M:%SZ", &tm))
				c->token_expiry = timegm(&tm);
			explicit_bzero(token->valuestring, strlen(token->valuestring));
			if (!c->token)
				r = sbx_error_set(SBX_ENOMEM, "out of memory");
		}
	}
	if (out.ptr)
		explicit_bzero(out.ptr, out.len);
	sbx_buf_dispose(&out);
	cJSON_Delete(cred);
	return r;
}

int sbx_kube_config_refresh(sbx_kube_config *c, bool force)
{
	if (c->exec_argv) {
		/* a minute early, so a request never carries an expired token */
		if (force || !c->token || (c->token_expiry && time(NULL) + 60 >= c->token_expiry))
			return run_exec(c);
		return 0;
	}
	if (force && c->token_file)
		c->token_mtime = 0;
	return sbx_kube_config_refresh_token(c);
}

int sbx_kube_config_refresh_token(sbx_kube_config *c)
{
	struct stat st;
	char *token = NULL;
	size_t len;
	int r;

	if (!c->token_file)
		return 0;
	if (stat(c->token_file, &st) < 0)
		return sbx_error_set(SBX_EIO, "cannot read token file '%s': %s", c->token_file,
				     strerror(errno));
	if (c->token && st.st_mtime == c->token_mtime)
		return 0;
	r = read_file(&token, &len, c->token_file, MAX_SECRET_FILE, "token file");
	if (r < 0)
		return r;
	while (len && (token[len - 1] == '\n' || token[len - 1] == '\r' || token[len - 1] == ' '))
		token[--len] = '\0';
	if (c->token) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	c->token = token;
	c->token_mtime = st.st_mtime;
	return 0;
}

static int fill_exec(sbx_kube_config *c, const sbx_ynode *exec, const struct kfile *f,
		     const char *uname)
{
	const char *cmd = str(exec, "command");
	const sbx_ynode *args = sbx_ynode_get(exec, "args"), *env = sbx_ynode_get(exec, "env");
	size_t nargs = args && args->kind == SBX_YNODE_SEQ ? args->count : 0;
	size_t nenv = env && env->kind == SBX_YNODE_SEQ ? env->count : 0;

	if (!cmd)
		return sbx_error_set(SBX_EINVAL, "user '%s' in kubeconfig '%s': exec has no command",
				     uname, f->path);
	c->exec_argv = calloc(nargs + 2, sizeof(char *));
	c->exec_env = calloc(nenv + 1, sizeof(char *));
	if (!c->exec_argv || !c->exec_env)
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	/* a relative command with a '/' is relative to the kubeconfig, as kubectl does */
	c->exec_argv[0] = strchr(cmd, '/') && cmd[0] != '/' ? resolve(f, cmd) : strdup(cmd);
	for (size_t i = 0; i < nargs; i++)
		c->exec_argv[i + 1] = strdup(args->items[i]->kind == SBX_YNODE_SCALAR ? args->items[i]->value : "");
	for (size_t i = 0; i < nenv; i++) {
		const char *name = str(env->items[i], "name"), *value = str(env->items[i], "value");
		sbx_buf b = SBX_BUF_INIT;

		sbx_buf_printf(&b, "%s=%s", name ? name : "", value ? value : "");
		c->exec_env[i] = sbx_buf_take(&b, NULL);
	}
	/* a NULL here would cut the plugin's arguments or environment short
	 * (and sbx_kube_config_free stops at the first one) */
	for (size_t i = 0; i <= nargs + nenv; i++)
		if (!(i <= nargs ? c->exec_argv[i] : c->exec_env[i - nargs - 1]))
			goto oom;
	return run_exec(c);
oom:
	for (size_t i = 0; i <= nargs; i++)
		free(c->exec_argv[i]);
	for (size_t i = 0; i < nenv; i++)
		wipe(c->exec_env[i], c->exec_env[i] ? strlen(c->exec_env[i]) : 0);
	free(c->exec_argv);
	free(c->exec_env);
	c->exec_argv = c->exec_env = NULL;
	return sbx_error_set(SBX_ENOMEM, "out of memory");
}

static int fill_user(sbx_kube_config *c, const sbx_ynode *user, const struct kfile *f,
		     const sbx_kubeconfig_options *o, const char *uname)
{
	const char *token = str(user, "token"), *token_file = str(user, "tokenFile");
	int r;

	if (sbx_ynode_get(user, "exec") && !o->allow_exec)
		return sbx_error_set(SBX_EINVAL, "user '%s' in kubeconfig '%s' uses an exec credential "
				     "plugin, which is refused unless explicitly enabled", uname, f->path);
	if (sbx_ynode_get(user, "exec"))
		return fill_exec(c, sbx_ynode_get(user, "exec"), f, uname);
	if (sbx_ynode_get(user, "auth-provider"))
		return sbx_error_set(SBX_EINVAL, "user '%s' in kubeconfig '%s' uses an auth-provider, "
				     "which is not supported; use a token, tokenFile or client "
				     "certificate", uname, f->path);
	if (str(user, "username") || str(user, "password"))
		return sbx_error_set(SBX_EINVAL, "user '%s' in kubeconfig '%s' uses basic "
				     "authentication, which is not supported", uname, f->path);
	r = file_or_data(&c->cert, &c->cert_len, user, f, "client-certificate", "client-certificate-data");
	if (r == 0)
		r = file_or_data(&c->key, &c->key_len, user, f, "client-key", "client-key-data");
	if (r < 0)
		return r;
	if (!c->cert != !c->key)
		return sbx_error_set(SBX_EINVAL, "user '%s' in kubeconfig '%s' has a client %s but no "
				     "client %s", uname, f->path, c->cert ? "certificate" : "key",
				     c->cert ? "key" : "certificate");
	if (token && !(c->token = strdup(token)))
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	if (token_file) {
		c->token_file = resolve(f, token_file);
		if (!c->token_file)
			return sbx_error_set(SBX_ENOMEM, "out of memory");
		free(c->token);
		c->token = NULL;
		return sbx_kube_config_refresh_token(c);
	}
	return 0;
}

static int fill_cluster(sbx_kube_config *c, const sbx_ynode *cluster, const struct kfile *f,
			const sbx_kubeconfig_options *o, const char *cname)
{
	const char *server = str(cluster, "server"), *insecure = str(cluster, "insecure-skip-tls-verify");
	size_t n;
	int r;

	if (!server)
		return sbx_error_set(SBX_EINVAL, "cluster '%s' in kubeconfig '%s' has no server", cname,
				     f->path);
	if (strncmp(server, "https://", 8) != 0)
		return sbx_error_set(SBX_EINVAL, "cluster '%s' in kubeconfig '%s': server '%s' must "
				     "start with https://", cname, f->path, server);
	if (insecure && strcmp(insecure, "true") == 0) {
		if (!o->allow_insecure)
			return sbx_error_set(SBX_EINVAL, "cluster '%s' in kubeconfig '%s' sets "
					     "insecure-skip-tls-verify, which is refused unless "
					     "explicitly enabled", cname, f->path);
		c->insecure = true;
	}
	c->server = strdup(server);
	if (!c->server)
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	n = strlen(c->server);
	while (n > 8 && c->server[n - 1] == '/')
		c->server[--n] = '\0';
	if (str(cluster, "tls-server-name") &&
	    !(c->tls_server_name = strdup(str(cluster, "tls-server-name"))))
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	r = file_or_data(&c->ca, &c->ca_len, cluster, f, "certificate-authority",
			 "certificate-authority-data");
	return r;
}

int sbx_kubeconfig_load(sbx_kube_config **out, const sbx_kubeconfig_options *opts)
{
	sbx_kubeconfig_options defaults = SBX_KUBECONFIG_OPTIONS_INIT;
	const sbx_kubeconfig_options *o = opts ? opts : &defaults;
	struct kfiles k = { .n = 0 };
	const struct kfile *cf = NULL, *uf = NULL, *xf = NULL;
	const sbx_ynode *ctx, *cluster, *user;
	const char *ctx_name = o->context, *cname, *uname, *ns;
	sbx_kube_config *c = NULL;
	sbx_buf paths = SBX_BUF_INIT, names = SBX_BUF_INIT;
	int r;

	sbx_error_clear(); /* report this load's own failure */
	if (o->paths && *o->paths) {
		sbx_buf_puts(&paths, o->paths);
	} else if (getenv("KUBECONFIG") && *getenv("KUBECONFIG")) {
		sbx_buf_puts(&paths, getenv("KUBECONFIG"));
	} else {
		const char *home = getenv("HOME");

		sbx_buf_printf(&paths, "%s/.kube/config", home ? home : "");
	}
	r = paths.failed ? sbx_error_set(SBX_ENOMEM, "out of memory") :
	    load_files(&k, sbx_buf_cstr(&paths));
	if (r < 0)
		goto done;
	for (size_t i = 0; !ctx_name && i < k.n; i++) {
		const char *cur = str(k.f[i].root, "current-context");

		if (cur && *cur)
			ctx_name = cur;
	}
	if (!ctx_name) {
		r = sbx_error_set(SBX_EINVAL, "kubeconfig '%s' has no current-context; pass --context "
				  "or run 'kubectl config use-context NAME'", sbx_buf_cstr(&paths));
		goto done;
	}
	ctx = find_named(&k, "contexts", "context", ctx_name, &xf);
	if (!ctx) {
		list_names(&names, &k, "contexts");
		r = sbx_error_set(SBX_ENOTFOUND, "context '%s' not found in kubeconfig '%s' (contexts: %s)",
				  ctx_name, sbx_buf_cstr(&paths), sbx_buf_cstr(&names));
		goto done;
	}
	cname = str(ctx, "cluster");
	uname = str(ctx, "user");
	ns = str(ctx, "namespace");
	cluster = cname ? find_named(&k, "clusters", "cluster", cname, &cf) : NULL;
	if (!cluster) {
		r = sbx_error_set(SBX_ENOTFOUND, "context '%s' names cluster '%s', which is not in "
				  "kubeconfig '%s'", ctx_name, cname ? cname : "", sbx_buf_cstr(&paths));
		goto done;
	}
	user = uname ? find_named(&k, "users", "user", uname, &uf) : NULL;
	if (uname && !user) {
		r = sbx_error_set(SBX_ENOTFOUND, "context '%s' names user '%s', which is not in "
				  "kubeconfig '%s'", ctx_name, uname, sbx_buf_cstr(&paths));
		goto done;
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->context = strdup(ctx_name)) || !(c->namespace = strdup(ns ? ns : "default")) ||
	    !(c->source = strdup(sbx_buf_cstr(&paths)))) {
		r = sbx_error_set(SBX_ENOMEM, "out of memory");
		goto done;
	}
	r = fill_cluster(c, cluster, cf, o, cname);
	if (r == 0 && user)
		r = fill_user(c, user, uf, o, uname);
done:
	kfiles_dispose(&k);
	sbx_buf_dispose(&paths);
	sbx_buf_dispose(&names);
	if (r == 0)
		*out = c;
	else
		sbx_kube_config_free(c);
	return r;
}

int sbx_kubeconfig_in_cluster(sbx_kube_config **out, const char *root)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
	sbx_kube_config *c = NULL;
	sbx_buf b = SBX_BUF_INIT;
	char *ns = NULL;
	size_t len = 0;
	int r, nr;

	if (!root)
		root = SA_ROOT;
	if (!host || !*host || !port || !*port)
		return sbx_error_set(SBX_ENOTFOUND, "not running in a cluster: KUBERNETES_SERVICE_HOST "
				     "and KUBERNETES_SERVICE_PORT are not set");
	c = calloc(1, sizeof(*c));
	if (!c)
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	sbx_buf_printf(&b, strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host, port);
	c->server = sbx_buf_take(&b, NULL);
	sbx_buf_printf(&b, "%s/token", root);
	c->token_file = sbx_buf_take(&b, NULL);
	sbx_buf_printf(&b, "%s/ca.crt", root);
	r = b.failed || !c->server || !c->token_file ? sbx_error_set(SBX_ENOMEM, "out of memory") :
	    read_file(&c->ca, &c->ca_len, sbx_buf_cstr(&b), MAX_SECRET_FILE, "service account CA");
	sbx_buf_clear(&b);
	if (r == 0)
		r = sbx_kube_config_refresh_token(c);
	if (r == 0) {
		sbx_buf_printf(&b, "%s/namespace", root);
		nr = b.failed ? sbx_error_set(SBX_ENOMEM, "out of memory") :
		     read_file(&ns, &len, sbx_buf_cstr(&b), 256, "namespace");
		if (nr == SBX_ENOMEM) {
			r = nr;
		} else if (nr < 0) {
			sbx_error_clear();   /* no namespace file: "default" */
			ns = strdup("default");
			len = 0;
		}
		while (ns && len && ns[len - 1] == '\n')
			ns[--len] = '\0';
		c->namespace = ns;
		c->context = strdup("in-cluster");
		c->source = strdup(root);
	}
	sbx_buf_dispose(&b);
	if (r == 0 && (!c->server || !c->namespace || !c->context || !c->source))
		r = sbx_error_set(SBX_ENOMEM, "out of memory");
	if (r == 0)
		*out = c;
	else
		sbx_kube_config_free(c);
	return r;
}


void sbx_kube_config_free(sbx_kube_config *c)
{
	if (!c)
		return;
	free(c->server);
	free(c->tls_server_name);
	free(c->ca);
	free(c->cert);
	wipe(c->key, c->key_len);
	wipe(c->token, c->token ? strlen(c->token) : 0);
	free(c->token_file);
	for (size_t i = 0; c->exec_argv && c->exec_argv[i]; i++)
		free(c->exec_argv[i]);
	free(c->exec_argv);
	for (size_t i = 0; c->exec_env && c->exec_env[i]; i++)
		wipe(c->exec_env[i], strlen(c->exec_env[i]));
	free(c->exec_env);
	free(c->namespace);
	free(c->context);
	free(c->source);
	free(c);
}
