// SPDX-License-Identifier: Apache-2.0
/*
 * `sandbox ssh`: a libssh client to the sandbox's sshd, through the API
 * server's port-forward (a child process pumps it into a socketpair that
 * libssh uses as its socket) or the policy's gateway endpoint over TCP.
 * The server's host key must be the one the controller published; agent
 * or key-file authentication; an interactive PTY in raw mode (restored on
 * every exit), window changes forwarded, `~.` to drop a hung session; or
 * one command with its exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "activity.h"
#include "cmd.h"
#include "error.h"
#include "kubecli.h"
#include "spec.h"
#include "sshconn.h"
#include "wait.h"

#define EXIT_CONNECT 255
#define CHUNK (32 * 1024)

static const char help[] =
	"Usage: sandbox ssh [NAME] [-t] [-i FILE] [-l USER] [--wake-timeout D] [-- COMMAND...]\n\n"
	"Log in to sandbox NAME, through the API server's port-forward with your\n"
	"kubeconfig (or the policy's ssh gateway). The server must present the host\n"
	"key the controller published for the sandbox; anything else is refused.\n"
	"Keys: ssh-agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa (or -i FILE).\n\n"
	"Without COMMAND: an interactive shell on a PTY; '~.' at the start of a line\n"
	"drops the connection, '~~' sends one '~'. With COMMAND: runs it without a\n"
	"PTY (unless -t), streams stdin, stdout and stderr, and exits with its status.\n"
	"Each word of COMMAND arrives as given (quoted for the remote shell), so\n"
	"\"-- sh -c 'exit 7'\" runs sh with one script, as kubectl exec would.\n\n"
	"While connected the sandbox counts as in use (idle suspension); one\n"
	"suspended for idleness is woken first, the steps shown on stderr.\n\n"
	"  -t            allocate a PTY for COMMAND\n"
	"  -i FILE       the private key to use\n"
	"  -l USER       the user to log in as (default: dev, the sandbox image's user)\n"
	"  --wake-timeout DURATION\n"
	"                how long to wait for a sleeping sandbox to wake (default 2m)\n"
	"  -h, --help    show this help\n\n"
	"Exit status: the remote command's, or 255 when the connection failed.\n\n";

/* ---- the terminal: raw mode restored on every way out ---------------- */

static struct termios saved_tio;
static bool raw_on;
static volatile sig_atomic_t winch;

static void restore_terminal(void)
{
	if (raw_on) {
		tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_tio);
		raw_on = false;
	}
}

static void on_fatal_signal(int sig)
{
	restore_terminal();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void on_winch(int sig)
{
	(void)sig;
	winch = 1;
}

static void raw_mode(void)
{
	struct termios t;

	if (tcgetattr(STDIN_FILENO, &saved_tio) < 0)
		return;
	t = saved_tio;
	cfmakeraw(&t);
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &t) == 0) {
		raw_on = true;
		atexit(restore_terminal);
		for (int s = 0, sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE }; s < 5; s++)
			signal(sigs[s], on_fatal_signal);
	}
}

static void term_size(int *cols, int *rows)
{
	struct winsize ws;

	*cols = 80;
	*rows = 24;
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	}
}

/* ---- the session ------------------------------------------------------- */

struct opts {
	const char *name, *key_file, *user;
	bool force_tty;
	char *command;          /* joined with spaces, as ssh does; NULL: a shell */
	long wake_s;            /* how long to wait for a sleeping sandbox to wake */
};

/* Send what came from stdin, minding the `~.` escape on a PTY. */
static int send_input(ssh_channel ch, const char *buf, size_t n, bool escapes, int *state)
{
	char out[CHUNK + 1];
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		char c = buf[i];

		if (escapes && *state == 1 && c == '~') {
			*state = 2;
			continue;
		}
		if (escapes && *state == 2) {
			if (c == '.')
				return 1;
			if (c != '~')
				out[m++] = '~';
		}
		out[m++] = c;
		*state = c == '\r' || c == '\n' ? 1 : 0;
		if (m >= CHUNK) {
			if (ssh_channel_write(ch, out, (uint32_t)m) < 0)
				return -1;
			m = 0;
		}
	}
	if (m && ssh_channel_write(ch, out, (uint32_t)m) < 0)
		return -1;
	return 0;
}

static int drain(ssh_channel ch)
{
	char buf[CHUNK];
	int n;

	for (int err = 0; err <= 1; err++)
		while ((n = ssh_channel_read_nonblocking(ch, buf, sizeof(buf), err)) > 0) {
			int fd = err ? STDERR_FILENO : STDOUT_FILENO;

			for (int off = 0; off < n;) {
				ssize_t w = write(fd, buf + off, (size_t)(n - off));

				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0)
					return -1;
				off += (int)w;
			}
		}
	return n == SSH_ERROR ? -1 : 0;
}

static int run_channel(ssh_session s, ssh_channel ch, const struct opts *o, bool pty)
{
	char buf[CHUNK], pending[CHUNK];
	size_t npending = 0;
	bool in_open = true, escapes = pty && isatty(STDIN_FILENO);
	int state = 1, fd = ssh_get_fd(s);

	(void)o;
	while (!ssh_channel_is_eof(ch) || ssh_channel_poll(ch, 0) > 0 || ssh_channel_poll(ch, 1) > 0) {
		struct pollfd p[2] = { { in_open && !npending ? STDIN_FILENO : -1, POLLIN, 0 },
				       { fd, POLLIN, 0 } };

		if (drain(ch) < 0)
			return -1;
		if (ssh_channel_is_closed(ch))
			break;
		if (winch && pty) {
			int cols, rows;

			winch = 0;
			term_size(&cols, &rows);
			ssh_channel_change_pty_size(ch, cols, rows);
		}
		/* write only what the window takes: a blocked write could wait for
		 * a window the server opens only once we read its output */
		if (npending) {
			uint32_t room = ssh_channel_window_size(ch);
			size_t n = npending < room ? npending : room;

			if (n) {
				int r = send_input(ch, pending, n, escapes, &state);

				if (r != 0)
					return r;
				memmove(pending, pending + n, npending - n);
				npending -= n;
			}
			if (!npending && !in_open)
				ssh_channel_send_eof(ch);
		}
		if (poll(p, 2, npending ? 20 : 100) < 0 && errno != EINTR)
			return -1;
		if (p[0].revents) {
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

			if (n > 0) {
				memcpy(pending, buf, (size_t)n);
				npending = (size_t)n;
			} else if (n == 0 || errno != EINTR) {
				in_open = false;
				if (!npending && !pty)
					ssh_channel_send_eof(ch);
			}
		}
	}
	return drain(ch);
}

static int session(const struct opts *o, int sock, const char *want_fp)
{
	ssh_session s = cli_ssh_session(sock, o->name, o->user, 20);
	ssh_channel ch = NULL;
	ssh_key server = NULL;
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp = NULL;
	sbx_buf tried = SBX_BUF_INIT;
	bool pty = o->command ? o->force_tty : true;
	int status = EXIT_CONNECT, r;

	if (!s) {
		cli_error(EXIT_CONNECT, "out of memory");
		goto done;
	}
	if (ssh_connect(s) != SSH_OK) {
		cli_error(EXIT_CONNECT, "ssh to sandbox '%s' failed: %s", o->name, ssh_get_error(s));
		goto done;
	}
	if (ssh_get_server_publickey(s, &server) != SSH_OK ||
	    ssh_get_publickey_hash(server, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != 0 ||
	    !(fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen))) {
		cli_error(EXIT_CONNECT, "cannot read the host key of sandbox '%s'", o->name);
		goto done;
	}
	if (strcmp(fp, want_fp) != 0) {
		cli_error(EXIT_CONNECT, "the host key of sandbox '%s' is %s, but the controller "
			  "published %s: this is not the sandbox's sshd (the connection may be "
			  "intercepted, or the pod is not the sandbox's); nothing was sent. Check "
			  "'sandbox status %s' and ask your SREs", o->name, fp, want_fp, o->name);
		goto done;
	}
	if (!cli_ssh_authenticate(s, o->key_file, &tried)) {
		cli_error(EXIT_CONNECT, "sandbox '%s' accepted none of your keys (tried: %s); its "
			  "file must list your public key (spec.sshKeys in sandboxes/%s.yaml)",
			  o->name, tried.len ? sbx_buf_cstr(&tried) : "none found", o->name);
		goto done;
	}
	ch = ssh_channel_new(s);
	if (!ch || ssh_channel_open_session(ch) != SSH_OK) {
		cli_error(EXIT_CONNECT, "cannot open a session on sandbox '%s': %s", o->name,
			  ssh_get_error(s));
		goto done;
	}
	if (pty) {
		int cols, rows;
		const char *term = getenv("TERM");

		term_size(&cols, &rows);
		if (ssh_channel_request_pty_size(ch, term && *term ? term : "xterm", cols, rows) != SSH_OK) {
			cli_error(EXIT_CONNECT, "sandbox '%s' refused a terminal: %s", o->name,
				  ssh_get_error(s));
			goto done;
		}
		signal(SIGWINCH, on_winch);
	}
	r = o->command ? ssh_channel_request_exec(ch, o->command) : ssh_channel_request_shell(ch);
	if (r != SSH_OK) {
		cli_error(EXIT_CONNECT, "sandbox '%s' refused the %s: %s", o->name,
			  o->command ? "command" : "shell", ssh_get_error(s));
		goto done;
	}
	if (pty && isatty(STDIN_FILENO))
		raw_mode();
	r = run_channel(s, ch, o, pty);
	restore_terminal();
	if (r == 1) {
		fprintf(stderr, "\r\nsandbox: connection to '%s' closed (~.)\n", o->name);
		goto done;
	}
	if (r < 0) {
		cli_error(EXIT_CONNECT, "the connection to sandbox '%s' broke: %s", o->name,
			  ssh_get_error(s));
		goto done;
	}
	status = ssh_channel_get_exit_status(ch);
	if (status < 0)
		status = EXIT_CONNECT;
done:
	restore_terminal();
	if (ch) {
		ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	ssh_key_free(server);
	sbx_buf_dispose(&tried);
	if (s) {
		ssh_disconnect(s);
		ssh_free(s);
	}
	return status;
}

int cmd_ssh(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "wake-timeout", required_argument, NULL, 'W' },
		CLI_CONFIG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .wake_s = CLI_WAKE_TIMEOUT_S };
	cli_config cfg;
	cli_kube k = { 0 };
	cli_activity act = { 0 };
	cJSON *sb = NULL;
	sbx_buf cmd = SBX_BUF_INIT;
	const char *ns, *endpoint, *fp;
	char pod[256];
	pid_t child = -1;
	int ch, sock = -1, status = EXIT_OK;

	cli_config_init(&cfg);
	optind = 1;
	/* options, NAME, more options; then "--" and the command */
	for (int round = 0; round < 2 && status == EXIT_OK; round++) {
		while (status == EXIT_OK &&
		       (ch = getopt_long(argc, argv, "+hti:l:", lopts, NULL)) != -1) {
			switch (ch) {
			case 't': o.force_tty = true; break;
			case 'i': o.key_file = optarg; break;
			case 'l': o.user = optarg; break;
			case 'W':
				if ((o.wake_s = cli_duration(optarg)) < 0)
					status = cli_error(EXIT_USAGE, "--wake-timeout '%s' is not a duration (90s, "
							   "5m, 1h)", optarg);
				break;
			case 'h': cli_config_print_help(help); goto done;
			default: status = cli_config_option(&cfg, ch, optarg, help);
			}
		}
		if (round > 0 || optind >= argc || strcmp(argv[optind - 1], "--") == 0 || o.name)
			break;
		o.name = argv[optind++];
	}
	if (status != EXIT_OK || (status = cli_config_load(&cfg)) != EXIT_OK)
		goto done;
	if (!o.name)
		o.name = cfg.value[CFG_NAME];
	if (!o.name) {
		status = cli_error(EXIT_USAGE, "which sandbox? give NAME or set 'name' in '%s'", cfg.file);
		goto done;
	}
	/* each argument arrives as it was given: quoted for the remote shell */
	for (int i = optind; i < argc; i++) {
		if (cmd.len)
			sbx_buf_putc(&cmd, ' ');
		cli_shell_quote(&cmd, argv[i]);
	}
	o.command = cmd.len ? cmd.ptr : NULL;
	if (!o.user)
		o.user = CLI_SANDBOX_USER;
	if ((status = cli_kube_open(&k, &cfg)) != EXIT_OK) {
		status = EXIT_CONNECT;
		goto done;
	}
	if ((status = cli_activity_pod(&k, &cfg, &act, &sb, &ns, pod, sizeof(pod), o.name, o.wake_s,
				       stderr)) != EXIT_OK) {
		status = EXIT_CONNECT;
		goto done;
	}
	fp = cli_json_str(sb, "status", "ssh", "hostKeyFingerprint", NULL);
	endpoint = cli_json_str(sb, "status", "ssh", "endpoint", NULL);
	if (!fp) {
		status = cli_error(EXIT_CONNECT, "the controller has not published the host key of "
				   "'%s' yet; see 'sandbox status %s'", o.name, o.name);
		goto done;
	}
	sock = cli_ssh_transport(k.cfg, endpoint, ns, pod, &child);
	if (sock < 0) {
		status = cli_error(EXIT_CONNECT, "%s", sbx_error_last());
		goto done;
	}
	status = session(&o, sock, fp);
done:
	cli_ssh_transport_close(sock, child);
	cli_activity_stop(&act);
	cJSON_Delete(sb);
	sbx_buf_dispose(&cmd);
	cli_kube_close(&k);
	cli_config_dispose(&cfg);
	return status;
}
