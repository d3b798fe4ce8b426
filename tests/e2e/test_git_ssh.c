// SPDX-License-Identifier: Apache-2.0
/*
 * core/git.c over ssh:// against a real OpenSSH sshd on 127.0.0.1: the test
 * starts sshd on a random high port with its own host key and
 * authorized_keys in a temporary folder, serves a bare repository through
 * the git CLI, and checks host-key verification and key authentication.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "diag.h"
#include "error.h"
#include "git.h"

#define SSHD "/usr/sbin/sshd"
#define PATH_LEN 512
#define CMD_LEN 4096

/*
 * Leaks inside libgit2 1.5.1's ssh transport and libssh2 1.10, a few dozen
 * bytes per ssh connection (the known_hosts handle, home-folder paths, the
 * auth method list after a refused key). None of them is reachable from
 * this project's code; the stacks pass through these functions. Read by
 * the sanitizers when the test is built with -fsanitize=address.
 */
const char *__lsan_default_suppressions(void);
const char *__asan_default_options(void);

/* Full stacks (libgit2 has no frame pointers), so the suppressions match. */
const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

const char *__lsan_default_suppressions(void)
{
	return "leak:git_remote_connect_ext\n"
	       "leak:libssh2_knownhost_init\n"
	       "leak:libssh2_userauth_list\n";
}

struct env {
	char root[64];                 /* temporary folder, removed by teardown */
	char user[64];
	int port;
	pid_t sshd;
	char url[PATH_LEN];
	char key[PATH_LEN];            /* authorized client key */
	char other_key[PATH_LEN];      /* a key the server does not know */
	char head[SBX_GIT_OID_HEX];    /* the branch on the server */
	int mirrors;
	bool made;                     /* root exists */
};

static void fmt(char *out, size_t n, const char *f, ...) __attribute__((format(printf, 3, 4)));

static void fmt(char *out, size_t n, const char *f, ...)
{
	va_list ap;
	int len;

	va_start(ap, f);
	len = vsnprintf(out, n, f, ap);
	va_end(ap);
	assert_true(len > 0 && (size_t)len < n);
}

/* Run a shell command; returns its exit status. */
static int sh(const char *f, ...) __attribute__((format(printf, 1, 2)));

static int sh(const char *f, ...)
{
	char cmd[CMD_LEN];
	va_list ap;
	int len;

	va_start(ap, f);
	len = vsnprintf(cmd, sizeof(cmd), f, ap);
	va_end(ap);
	if (len <= 0 || (size_t)len >= sizeof(cmd))
		return -1;
	return system(cmd);
}

/* The first line of a file, without its newline. */
static int first_line(const char *path, char *out, size_t n)
{
	FILE *f = fopen(path, "r");
	int r = -1;

	if (f && fgets(out, (int)n, f)) {
		out[strcspn(out, "\n")] = '\0';
		r = 0;
	}
	if (f)
		fclose(f);
	return r;
}

static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* sshd is ready when its port accepts a connection. */
static bool port_open(int port)
{
	struct sockaddr_in a = { 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static int start_sshd(struct env *e)
{
	char config[PATH_LEN], text[CMD_LEN], log[PATH_LEN];
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	int status;

	fmt(config, sizeof(config), "%s/sshd_config", e->root);
	fmt(log, sizeof(log), "%s/sshd.log", e->root);
	for (int attempt = 0; attempt < 8; attempt++) {
		/* below the ephemeral range (32768 and up) */
		e->port = 20000 + (int)((unsigned)(getpid() * 7919 + time(NULL) + attempt * 104729) %
					12000u);
		if (port_open(e->port))
			continue;
		/* HOME of its own: the account's ~/.bashrc, which Debian's bash
		 * reads for a command sent over ssh, stays out of each git call */
		fmt(text, sizeof(text),
		    "Port %d\nListenAddress 127.0.0.1\nHostKey %s/host_key\nPidFile %s/sshd.pid\n"
		    "AuthorizedKeysFile %s/authorized_keys\nStrictModes no\nUsePAM no\n"
		    "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
		    "PubkeyAuthentication yes\nPermitRootLogin prohibit-password\n"
		    "LogLevel VERBOSE\nSetEnv HOME=%s\n",
		    e->port, e->root, e->root, e->root, e->root);
		if (write_text(config, text) < 0)
			return -1;
		e->sshd = fork();
		if (e->sshd < 0)
			return -1;
		if (e->sshd == 0) {
			if (!freopen(log, "a", stderr))
				_exit(127);
			execl(SSHD, SSHD, "-D", "-e", "-f", config, (char *)NULL);
			_exit(127);
		}
		for (int i = 0; i < 200; i++) {
			if (port_open(e->port))
				return 0;
			if (waitpid(e->sshd, &status, WNOHANG) == e->sshd)
				break;   /* it exited: port taken or bad config; try another */
			nanosleep(&pause, NULL);
		}
		kill(e->sshd, SIGTERM);
		waitpid(e->sshd, &status, 0);
		e->sshd = 0;
	}
	return -1;
}

static int group_teardown(void **state);

static int setup_env(struct env *e)
{
	struct passwd *pw = getpwuid(getuid());
	char work[PATH_LEN], cmd[CMD_LEN];
	FILE *p;

	if (!pw || strlen(pw->pw_name) >= sizeof(e->user))
		return -1;
	/* sshd's per-connection processes are reparented here and reaped at the end. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (access("/run/sshd", F_OK) != 0 && mkdir("/run/sshd", 0755) != 0) {
		fprintf(stderr, "cannot create /run/sshd (sshd's privilege separation folder)\n");
		return -1;
	}
	snprintf(e->user, sizeof(e->user), "%s", pw->pw_name);
	snprintf(e->root, sizeof(e->root), "/tmp/sbx-gitssh-XXXXXX");
	if (!mkdtemp(e->root))
		return -1;
	e->made = true;
	snprintf(e->key, sizeof(e->key), "%s/client_key", e->root);
	snprintf(e->other_key, sizeof(e->other_key), "%s/other_key", e->root);
	snprintf(work, sizeof(work), "%s/work", e->root);
	if (sh("cd '%s' && for k in host_key other_host_key client_key other_key; do "
	       "ssh-keygen -q -t ed25519 -N '' -C \"$k\" -f \"$k\" || exit 1; done && "
	       "cp client_key.pub authorized_keys", e->root) != 0)
		return -1;
	/* The served repository: a bare one filled from a work tree. */
	if (sh("set -e; export GIT_CONFIG_NOSYSTEM=1; git init -q --bare -b main '%s/repo.git'; "
	       "git init -q -b main '%s'; cd '%s'; mkdir templates sandboxes; "
	       "echo 'kind: Policy' > templates/policy.yaml; echo 'name: alice' > sandboxes/alice.yaml; "
	       "echo 'name: bob' > sandboxes/bob.yaml; git add -A; "
	       "git -c user.name=Test -c user.email=test@example.com commit -q -m 'over ssh'; "
	       "git push -q '%s/repo.git' main", e->root, work, work, e->root) != 0)
		return -1;
	fmt(cmd, sizeof(cmd), "git -C '%s' rev-parse HEAD", work);
	p = popen(cmd, "r");
	if (!p || !fgets(e->head, sizeof(e->head), p) || pclose(p) != 0)
		return -1;
	if (start_sshd(e) < 0) {
		fprintf(stderr, "cannot start sshd; its log:\n");
		sh("cat '%s/sshd.log' >&2", e->root);
		return -1;
	}
	snprintf(e->url, sizeof(e->url), "ssh://%s@127.0.0.1:%d%s/repo.git", e->user, e->port,
		 e->root);
	return 0;
}

static int group_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	*state = e;
	if (!e || setup_env(e) < 0) {
		group_teardown(state);
		*state = NULL;
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	struct env *e = *state;
	int status;

	if (!e)
		return 0;
	if (e->sshd > 0) {
		kill(e->sshd, SIGTERM);
		waitpid(e->sshd, &status, 0);
		while (waitpid(-1, &status, WNOHANG) > 0)
			;
	}
	if (e->made)
		sh("rm -rf '%s'", e->root);
	free(e);
	return 0;
}

/* Write a known_hosts file from the public half of a host key:
 * "PATTERN TYPE BASE64". Returns its path in out. */
static void known_hosts(struct env *e, const char *name, const char *pattern, const char *pubkey,
			char *out, size_t n)
{
	char pub[PATH_LEN], line[2048], text[4096];

	fmt(pub, sizeof(pub), "%s/%s.pub", e->root, pubkey);
	assert_int_equal(first_line(pub, line, sizeof(line)), 0);
	fmt(out, n, "%s/%s", e->root, name);
	fmt(text, sizeof(text), "# test file\n\n%s %s\n", pattern, line);
	assert_int_equal(write_text(out, text), 0);
}

static sbx_git *open_ssh_bounded(struct env *e, const char *kh, const char *key, int timeout_s)
{
	sbx_git_options o = SBX_GIT_OPTIONS_INIT;
	char mirror[PATH_LEN];
	sbx_git *g = NULL;

	fmt(mirror, sizeof(mirror), "%s/mirror-%d", e->root, e->mirrors++);
	o.url = e->url;
	o.mirror_dir = mirror;
	o.known_hosts = kh;
	o.ssh_key = key;
	o.timeout_s = timeout_s;
	if (sbx_git_open(&g, &o) != 0)
		fail_msg("sbx_git_open: %s", sbx_error_last());
	return g;
}

static sbx_git *open_ssh(struct env *e, const char *kh, const char *key)
{
	return open_ssh_bounded(e, kh, key, 0);
}

static char *hostport(struct env *e, char *out, size_t n)
{
	fmt(out, n, "[127.0.0.1]:%d", e->port);
	return out;
}

static void test_git_ssh__fetch(void **state)
{
	struct env *e = *state;
	char kh[PATH_LEN], hp[64], oid[SBX_GIT_OID_HEX];
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_git_files f;
	unsigned long checks, fetches;
	sbx_git *g;

	known_hosts(e, "kh-good", hostport(e, hp, sizeof(hp)), "host_key", kh, sizeof(kh));
	g = open_ssh(e, kh, e->key);
	if (sbx_git_remote_head(g, oid) != 0)
		fail_msg("remote_head: %s", sbx_error_last());
	assert_string_equal(oid, e->head);
	if (sbx_git_fetch(g, oid) != 0)
		fail_msg("fetch: %s", sbx_error_last());
	assert_string_equal(oid, e->head);
	assert_int_equal(sbx_git_read(&f, g, oid, &d), 0);
	assert_int_equal(d.count, 0);
	assert_non_null(f.policy);
	assert_int_equal(f.nsandboxes, 2);
	assert_string_equal(f.sandboxes[0].path, "sandboxes/alice.yaml");
	assert_string_equal(f.subject, "over ssh");
	sbx_git_files_dispose(&f);
	sbx_git_stats(g, &checks, &fetches);
	assert_int_equal(checks, 1);
	assert_int_equal(fetches, 1);
	sbx_git_free(g);
	sbx_diags_dispose(&d);
}

static void test_git_ssh__hashed_and_wildcard_entries(void **state)
{
	struct env *e = *state;
	char kh[PATH_LEN], hp[64], pattern[96], oid[SBX_GIT_OID_HEX];
	sbx_git *g;

	/* ssh-keygen -H replaces the host names with HMAC-SHA1 hashes. */
	known_hosts(e, "kh-hashed", hostport(e, hp, sizeof(hp)), "host_key", kh, sizeof(kh));
	assert_int_equal(sh("ssh-keygen -q -H -f '%s' >/dev/null 2>&1", kh), 0);
	assert_int_equal(sh("grep -q '^|1|' '%s'", kh), 0);
	g = open_ssh(e, kh, e->key);
	if (sbx_git_remote_head(g, oid) != 0)
		fail_msg("remote_head with hashed known_hosts: %s", sbx_error_last());
	assert_string_equal(oid, e->head);
	sbx_git_free(g);

	fmt(pattern, sizeof(pattern), "example.org,[127.0.0.?]:%d", e->port);
	known_hosts(e, "kh-wild", pattern, "host_key", kh, sizeof(kh));
	g = open_ssh(e, kh, e->key);
	if (sbx_git_remote_head(g, oid) != 0)
		fail_msg("remote_head with a wildcard: %s", sbx_error_last());
	sbx_git_free(g);

	/* A negated pattern excludes the host even when another one matches. */
	fmt(pattern, sizeof(pattern), "[127.0.0.*]:%d,!%s", e->port, hp);
	known_hosts(e, "kh-neg", pattern, "host_key", kh, sizeof(kh));
	g = open_ssh(e, kh, e->key);
	assert_int_equal(sbx_git_remote_head(g, oid), SBX_EINVAL);
	assert_non_null(strstr(sbx_error_last(), "is not in known_hosts"));
	sbx_git_free(g);
}

static void test_git_ssh__host_key_mismatch(void **state)
{
	struct env *e = *state;
	char kh[PATH_LEN], hp[64], want[256], oid[SBX_GIT_OID_HEX];
	sbx_git *g;

	known_hosts(e, "kh-wrong", hostport(e, hp, sizeof(hp)), "other_host_key", kh, sizeof(kh));
	g = open_ssh(e, kh, e->key);
	fmt(want, sizeof(want), "host key for '%s' does not match known_hosts '%s'", hp, kh);
	assert_int_equal(sbx_git_remote_head(g, oid), SBX_EINVAL);
	assert_non_null(strstr(sbx_error_last(), want));
	assert_int_equal(sbx_git_fetch(g, oid), SBX_EINVAL);
	assert_non_null(strstr(sbx_error_last(), want));
	sbx_git_free(g);
}

static void test_git_ssh__unknown_host(void **state)
{
	struct env *e = *state;
	char kh[PATH_LEN], hp[64], want[256], oid[SBX_GIT_OID_HEX];
	sbx_git *g;

	/* The right key, but for another host (and the default port). */
	known_hosts(e, "kh-other", "127.0.0.1,git.example.org", "host_key", kh, sizeof(kh));
	g = open_ssh(e, kh, e->key);
	fmt(want, sizeof(want), "host key for '%s' is not in known_hosts '%s'",
	    hostport(e, hp, sizeof(hp)), kh);
	assert_int_equal(sbx_git_remote_head(g, oid), SBX_EINVAL);
	assert_non_null(strstr(sbx_error_last(), want));
	sbx_git_free(g);
}

static void test_git_ssh__revoked_key(void **state)
{
	struct env *e = *state;
	char kh[PATH_LEN], hp[64], pattern[96], oid[SBX_GIT_OID_HEX];
	sbx_git *g;

	fmt(pattern, sizeof(pattern), "@revoked %s", hostport(e, hp, sizeof(hp)));
	known_hosts(e, "kh-revoked", pattern, "host_key", kh, sizeof(kh));
	assert_int_equal(sh("sed -n 's/^@revoked //p' '%s' >> '%s'", kh, kh), 0);
	g = open_ssh(e, kh, e->key);
	assert_int_equal(sbx_git_remote_head(g, oid), SBX_EINVAL);
	assert_non_null(strstr(sbx_error_last(), "is revoked in known_hosts"));
	sbx_git_free(g);
}

static void test_git_ssh__wrong_client_key(void **state)
{
	struct env *e = *state;
	char kh[PATH_LEN], hp[64], want[PATH_LEN + 64], oid[SBX_GIT_OID_HEX];
	sbx_git *g;

	known_hosts(e, "kh-good2", hostport(e, hp, sizeof(hp)), "host_key", kh, sizeof(kh));
	g = open_ssh(e, kh, e->other_key);
	fmt(want, sizeof(want), "authentication to '%s' failed", e->url);
	assert_int_equal(sbx_git_remote_head(g, oid), SBX_EINVAL);
	assert_non_null(strstr(sbx_error_last(), want));
	assert_int_equal(sbx_git_fetch(g, oid), SBX_EINVAL);
	assert_non_null(strstr(sbx_error_last(), want));
	sbx_git_free(g);
}

static void test_git_ssh__no_agent(void **state)
{
	struct env *e = *state;
	char kh[PATH_LEN], hp[64], oid[SBX_GIT_OID_HEX];
	char *saved = getenv("SSH_AUTH_SOCK") ? strdup(getenv("SSH_AUTH_SOCK")) : NULL;
	sbx_git *g;
	int r;

	/* No key file and no agent: a clean failure, not a hang or a loop. */
	unsetenv("SSH_AUTH_SOCK");
	known_hosts(e, "kh-good3", hostport(e, hp, sizeof(hp)), "host_key", kh, sizeof(kh));
	g = open_ssh(e, kh, NULL);
	r = sbx_git_remote_head(g, oid);
	if (saved) {
		setenv("SSH_AUTH_SOCK", saved, 1);
		free(saved);
	}
	assert_int_not_equal(r, 0);
	sbx_git_free(g);
}

/* With a timeout the network part runs in a child process: the answer, the
 * counters and the fetched objects must all reach the caller. */
static void test_git_ssh__bounded_fetch(void **state)
{
	struct env *e = *state;
	char kh[PATH_LEN], hp[64], oid[SBX_GIT_OID_HEX];
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_git_files f;
	unsigned long checks, fetches;
	sbx_git *g;

	known_hosts(e, "kh-bounded", hostport(e, hp, sizeof(hp)), "host_key", kh, sizeof(kh));
	g = open_ssh_bounded(e, kh, e->key, 30);
	if (sbx_git_remote_head(g, oid) != 0)
		fail_msg("remote_head: %s", sbx_error_last());
	assert_string_equal(oid, e->head);
	if (sbx_git_fetch(g, oid) != 0)
		fail_msg("fetch: %s", sbx_error_last());
	assert_string_equal(oid, e->head);
	assert_int_equal(sbx_git_read(&f, g, oid, &d), 0);
	assert_int_equal(f.nsandboxes, 2);
	sbx_git_files_dispose(&f);
	sbx_git_stats(g, &checks, &fetches);
	assert_int_equal(checks, 1);
	assert_int_equal(fetches, 1);
	sbx_git_free(g);
}

/*
 * A server that accepts the connection and then says nothing: the real
 * sshd, with a key whose authorized_keys entry forces `sleep` instead of
 * git. Without a bound this hangs; with one the caller hears back in time
 * and the error says so. A failure of a bounded call carries the reason
 * from the child (here, a refused key).
 */
static void test_git_ssh__stuck_server_times_out(void **state)
{
	struct env *e = *state;
	char kh[PATH_LEN], hp[64], oid[SBX_GIT_OID_HEX], slow[PATH_LEN];
	sbx_git *g;

	fmt(slow, sizeof(slow), "%s/slow_key", e->root);
	assert_int_equal(sh("cd '%s' && ssh-keygen -q -t ed25519 -N '' -C slow -f slow_key && "
			    "printf 'command=\"sleep 8\",restrict %%s\\n' \"$(cat slow_key.pub)\" "
			    ">> authorized_keys", e->root), 0);
	known_hosts(e, "kh-slow", hostport(e, hp, sizeof(hp)), "host_key", kh, sizeof(kh));
	g = open_ssh_bounded(e, kh, slow, 2);
	/* the server would answer (EOF) after 8 s: an answer within 2 s is the bound's */
	assert_int_equal(sbx_git_remote_head(g, oid), SBX_ETIMEOUT);
	assert_non_null(strstr(sbx_error_last(), "got no answer within 2 s"));
	assert_int_equal(sbx_git_fetch(g, oid), SBX_ETIMEOUT);
	sbx_git_free(g);
	g = open_ssh_bounded(e, kh, e->other_key, 30);
	assert_int_equal(sbx_git_remote_head(g, oid), SBX_EINVAL);
	assert_non_null(strstr(sbx_error_last(), "authentication to"));
	sbx_git_free(g);
}

/*
 * The non-blocking form: a job against a tarpit (a socket on loopback that
 * accepts connections, in the kernel's backlog, and never says a word)
 * leaves the caller's loop free: each poll returns on the caller's own
 * timeout, done() says "not yet" at once, and the deadline ends it with the
 * bound's error. A job against the real server gives the head.
 */
static void test_git_ssh__job_never_blocks(void **state)
{
	struct env *e = *state;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	char kh[PATH_LEN], hp[64], oid[SBX_GIT_OID_HEX], url[PATH_LEN], mirror[PATH_LEN];
	sbx_git_options o = SBX_GIT_OPTIONS_INIT;
	sbx_git_job *j = NULL;
	sbx_git *g = NULL;
	int tarpit = socket(AF_INET, SOCK_STREAM, 0), turns = 0;
	struct timespec t0, t1;
	long slowest = 0;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(tarpit >= 0);
	assert_int_equal(bind(tarpit, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(tarpit, 8), 0);
	assert_int_equal(getsockname(tarpit, (struct sockaddr *)&sa, &len), 0);
	fmt(hp, sizeof(hp), "[127.0.0.1]:%d", ntohs(sa.sin_port));
	known_hosts(e, "kh-tarpit", hp, "host_key", kh, sizeof(kh));
	fmt(url, sizeof(url), "ssh://%s@127.0.0.1:%d/nowhere.git", e->user, ntohs(sa.sin_port));
	fmt(mirror, sizeof(mirror), "%s/mirror-tarpit", e->root);
	o.url = url;
	o.mirror_dir = mirror;
	o.known_hosts = kh;
	o.ssh_key = e->key;
	o.timeout_s = 2;
	if (sbx_git_open(&g, &o) != 0)
		fail_msg("sbx_git_open: %s", sbx_error_last());
	assert_int_equal(sbx_git_job_start(&j, g, false), 0);
	assert_true(sbx_git_job_fd(j) >= 0);
	assert_true(sbx_git_job_wait_ms(j) > 1000);
	while (turns < 200) {
		struct pollfd pfd = { sbx_git_job_fd(j), POLLIN, 0 };
		bool done;
		long ms;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		poll(&pfd, 1, 50);
		done = sbx_git_job_done(j);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms > slowest)
			slowest = ms;
		turns++;
		if (done)
			break;
	}
	/* about 40 turns of 50 ms; each turn is the caller's own wait */
	assert_true(turns > 20 && turns < 200);
	assert_true(slowest < 1000);
	assert_int_equal(sbx_git_job_fd(j), -1);
	assert_int_equal(sbx_git_job_result(j, oid), SBX_ETIMEOUT);
	assert_non_null(strstr(sbx_error_last(), "got no answer within 2 s"));
	sbx_git_job_free(j);
	sbx_git_free(g);
	close(tarpit);

	known_hosts(e, "kh-job", hostport(e, hp, sizeof(hp)), "host_key", kh, sizeof(kh));
	g = open_ssh_bounded(e, kh, e->key, 30);
	assert_int_equal(sbx_git_job_start(&j, g, false), 0);
	while (!sbx_git_job_done(j)) {
		struct pollfd pfd = { sbx_git_job_fd(j), POLLIN, 0 };

		poll(&pfd, 1, 100);
	}
	if (sbx_git_job_result(j, oid) != 0)
		fail_msg("job: %s", sbx_error_last());
	assert_string_equal(oid, e->head);
	sbx_git_job_free(j);
	/* freeing a job that still runs kills its child */
	assert_int_equal(sbx_git_job_start(&j, g, true), 0);
	sbx_git_job_free(j);
	sbx_git_free(g);
}

int main(void)
{
	if (access(SSHD, X_OK) != 0) {
		fprintf(stderr, "skipping: %s is not installed\n", SSHD);
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_git_ssh__fetch),
		cmocka_unit_test(test_git_ssh__hashed_and_wildcard_entries),
		cmocka_unit_test(test_git_ssh__host_key_mismatch),
		cmocka_unit_test(test_git_ssh__unknown_host),
		cmocka_unit_test(test_git_ssh__revoked_key),
		cmocka_unit_test(test_git_ssh__wrong_client_key),
		cmocka_unit_test(test_git_ssh__no_agent),
		cmocka_unit_test(test_git_ssh__bounded_fetch),
		cmocka_unit_test(test_git_ssh__stuck_server_times_out),
		cmocka_unit_test(test_git_ssh__job_never_blocks),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
