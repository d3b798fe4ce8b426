// SPDX-License-Identifier: Apache-2.0
/*
 * The way to a sandbox's sshd for `sandbox ssh` and `sandbox doctor`: the
 * API server's port-forward or the policy's gateway, and the user's keys
 * (ssh-agent, then the usual key files). See sshconn.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "portforward.h"
#include "spec.h"
#include "sshconn.h"

/* ---- the transport ----------------------------------------------------- */

/* A child process opens the port-forward and pumps it into one end of a
 * socketpair; libssh gets the other. The child alone owns the TLS
 * connection; it reports the opening through a pipe, so a refusal is
 * told as such. Returns the fd for libssh, or -1 with the reason. */
static int tunnel_fd(sbx_kube_config *kcfg, const char *ns, const char *pod, pid_t *child)
{
	char why[1024] = "";
	ssize_t n, got = 0;
	int sv[2], pp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return sbx_error_set(SBX_EIO, "socketpair: %s", strerror(errno)), -1;
	if (pipe2(pp, O_CLOEXEC) < 0) {
		close(sv[0]);
		close(sv[1]);
		return sbx_error_set(SBX_EIO, "pipe: %s", strerror(errno)), -1;
	}
	fflush(NULL);
	*child = fork();
	if (*child == 0) {
		sbx_portforward *pf = NULL;
		int r;

		close(sv[0]);
		close(pp[0]);
		signal(SIGINT, SIG_IGN);   /* the parent decides when it ends */
		r = sbx_portforward_open(&pf, kcfg, ns, pod, SBX_SSHD_PORT);
		if (r < 0 && write(pp[1], sbx_error_last(), strlen(sbx_error_last())) < 0)
			_exit(1);
		close(pp[1]);
		if (r == 0)
			r = sbx_portforward_pump(pf, sv[1], sv[1]);
		sbx_portforward_free(pf);
		_exit(r < 0 ? 1 : 0);
	}
	close(sv[1]);
	close(pp[1]);
	while (*child > 0 && (n = read(pp[0], why + got, sizeof(why) - 1 - (size_t)got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += n;
	}
	close(pp[0]);
	if (*child < 0 || got > 0) {
		sbx_error_set(SBX_ETRANSPORT, "%s", *child < 0 ? strerror(errno) : why);
		close(sv[0]);
		return -1;
	}
	return sv[0];
}

/* The policy's gateway "host:port" over plain TCP. */
static int gateway_fd(const char *endpoint)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	char host[256];
	const char *colon = strrchr(endpoint, ':');
	int fd = -1;

	if (!colon || (size_t)(colon - endpoint) >= sizeof(host)) {
		sbx_error_set(SBX_EINVAL, "the ssh endpoint '%s' is not host:port", endpoint);
		return -1;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - endpoint), endpoint);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0) {
		sbx_error_set(SBX_ETRANSPORT, "cannot resolve the ssh gateway '%s'", endpoint);
		return -1;
	}
	for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	if (fd < 0)
		sbx_error_set(SBX_ETRANSPORT, "cannot connect to the ssh gateway '%s'", endpoint);
	return fd;
}

/* ---- authentication -------------------------------------------------- */

static int ask_passphrase(const char *prompt, char *buf, size_t len, int echo, int verify,
			  void *userdata)
{
	(void)verify;
	(void)userdata;
	if (!isatty(STDIN_FILENO))
		return -1;
	return ssh_getpass(prompt, buf, len, echo, 0);
}

static bool try_key_file(ssh_session s, const char *path, bool named, sbx_buf *tried)
{
	ssh_key key = NULL;
	bool ok = false;

	if (access(path, R_OK) != 0) {
		if (named)
			sbx_buf_printf(tried, "%s'%s' (cannot read it: %s)", tried->len ? ", " : "",
				       path, strerror(errno));
		return false;
	}
	if (ssh_pki_import_privkey_file(path, NULL, ask_passphrase, NULL, &key) != SSH_OK) {
		sbx_buf_printf(tried, "%s'%s' (not a private key libssh reads, or a wrong "
			       "passphrase)", tried->len ? ", " : "", path);
		return false;
	}
	sbx_buf_printf(tried, "%s'%s'", tried->len ? ", " : "", path);
	ok = ssh_userauth_publickey(s, NULL, key) == SSH_AUTH_SUCCESS;
	ssh_key_free(key);
	return ok;
}

bool cli_ssh_authenticate(ssh_session s, const char *key_file, sbx_buf *tried)
{
	static const char *const names[] = { "id_ed25519", "id_ecdsa", "id_rsa" };
	const char *home = getenv("HOME");
	char path[4096];

	if (key_file)
		return try_key_file(s, key_file, true, tried);
	if (getenv("SSH_AUTH_SOCK") && *getenv("SSH_AUTH_SOCK")) {
		sbx_buf_puts(tried, "ssh-agent");
		if (ssh_userauth_agent(s, NULL) == SSH_AUTH_SUCCESS)
			return true;
	}
	for (size_t i = 0; home && i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/.ssh/%s", home, names[i]);
		if (try_key_file(s, path, false, tried))
			return true;
	}
	return false;
}


ssh_session cli_ssh_session(int sock, const char *name, const char *user, long timeout_s)
{
	ssh_session s = ssh_new();
	char alias[300];

	if (!s)
		return NULL;
	snprintf(alias, sizeof(alias), "sandbox-%s", name);
	ssh_options_set(s, SSH_OPTIONS_FD, &sock);
	ssh_options_set(s, SSH_OPTIONS_HOST, alias);
	ssh_options_set(s, SSH_OPTIONS_USER, user);
	ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout_s);
	ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &(int){ 0 });
	return s;
}

int cli_ssh_transport(sbx_kube_config *kcfg, const char *endpoint, const char *ns, const char *pod,
		      pid_t *child)
{
	*child = 0;
	if (endpoint && strncmp(endpoint, "port-forward:", 13) != 0)
		return gateway_fd(endpoint);
	return tunnel_fd(kcfg, ns, pod, child);
}

void cli_ssh_transport_close(int fd, pid_t child)
{
	if (fd >= 0)
		close(fd);   /* the pump sees the end and closes the WebSocket */
	if (child > 0) {
		pid_t done_pid = 0;
		int ws;

		for (int i = 0; i < 40 && (done_pid = waitpid(child, &ws, WNOHANG)) == 0; i++)
			usleep(50 * 1000);
		if (done_pid == 0) {
			kill(child, SIGKILL);
			waitpid(child, &ws, 0);
		}
	}
}
