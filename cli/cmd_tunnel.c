// SPDX-License-Identifier: Apache-2.0
/*
 * `sandbox tunnel` and `sandbox ssh-config`: the sandbox's sshd (port 2222
 * of its pod) on stdin/stdout through the API server's port-forward, with
 * the developer's own kubeconfig, and the OpenSSH configuration that uses
 * it as a ProxyCommand with the host key the controller published pinned.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "activity.h"
#include "cmd.h"
#include "error.h"
#include "kubecli.h"
#include "portforward.h"
#include "spec.h"

/* ssh's status for a connection that could not be made */
#define EXIT_CONNECT 255

static const char tunnel_help[] =
	"Usage: sandbox tunnel [NAME]\n\n"
	"Join stdin and stdout to the sshd of sandbox NAME (port 2222 of its pod)\n"
	"through the API server's port-forward, with your kubeconfig. Meant as an\n"
	"OpenSSH ProxyCommand: see 'sandbox ssh-config'. While connected the sandbox\n"
	"counts as in use (idle suspension); one suspended for idleness is woken\n"
	"first, quietly.\n\n"
	"Exit status: 0 when the connection ended, 255 when it could not be made.\n\n";

static const char config_help[] =
	"Usage: sandbox ssh-config [NAME]\n\n"
	"Print an OpenSSH configuration block for sandbox NAME: host 'sandbox-NAME'\n"
	"reached through 'sandbox tunnel NAME', its host key pinned to the one the\n"
	"controller published (written to ~/.config/sandbox/known_hosts; no\n"
	"trust-on-first-use). Then plain ssh, scp, rsync and editors work:\n\n"
	"  sandbox ssh-config alice >> ~/.ssh/config\n"
	"  ssh sandbox-alice\n\n";

static int parse(int argc, char **argv, const char *help, cli_config *cfg, const char **name)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		CLI_CONFIG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int ch, status = EXIT_OK;

	optind = 1;
	while (status == EXIT_OK && (ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'h') {
			cli_config_print_help(help);
			return -1;
		}
		status = cli_config_option(cfg, ch, optarg, help);
	}
	if (status == EXIT_OK)
		status = cli_config_load(cfg);
	if (status == EXIT_OK)
		status = cli_config_name(name, cfg, argc, argv, optind);
	return status;
}

int cmd_tunnel(int argc, char **argv)
{
	cli_config cfg;
	cli_kube k = { 0 };
	cli_activity act = { 0 };
	cJSON *sb = NULL;
	sbx_portforward *pf = NULL;
	const char *name, *ns;
	char pod[256];
	int status;

	cli_config_init(&cfg);
	status = parse(argc, argv, tunnel_help, &cfg, &name);
	if (status != EXIT_OK) {
		status = status < 0 ? EXIT_OK : status;
		goto done;
	}
	if ((status = cli_kube_open(&k, &cfg)) != EXIT_OK ||
	    (status = cli_activity_pod(&k, &cfg, &act, &sb, &ns, pod, sizeof(pod), name,
						CLI_WAKE_TIMEOUT_S, NULL)) != EXIT_OK) {
		status = EXIT_CONNECT;
		goto done;
	}
	if (sbx_portforward_open(&pf, k.cfg, ns, pod, SBX_SSHD_PORT) < 0) {
		status = cli_error(EXIT_CONNECT, "%s", sbx_error_last());
		goto done;
	}
	if (sbx_portforward_pump(pf, STDIN_FILENO, STDOUT_FILENO) < 0)
		status = cli_error(EXIT_CONNECT, "%s", sbx_error_last());
done:
	sbx_portforward_free(pf);
	cli_activity_stop(&act);
	cJSON_Delete(sb);
	cli_kube_close(&k);
	cli_config_dispose(&cfg);
	return status;
}

/* Replace the line for `alias` in the known_hosts file (made if missing). */
static int pin(const char *file, const char *alias, const char *key)
{
	sbx_buf out = SBX_BUF_INIT;
	char *line = NULL, tmp[PATH_MAX + 64];
	size_t cap = 0, alen = strlen(alias);
	FILE *f = fopen(file, "r"), *w = NULL;
	int status = EXIT_OK;

	if (!f && errno != ENOENT) {
		status = cli_error(EXIT_INVALID, "cannot read '%s': %s", file, strerror(errno));
		goto done;
	}
	while (f && getline(&line, &cap, f) > 0)
		if (!(strncmp(line, alias, alen) == 0 && line[alen] == ' '))
			sbx_buf_puts(&out, line);
	sbx_buf_printf(&out, "%s %s\n", alias, key);
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	w = fopen(tmp, "w");
	if (!w || fwrite(out.ptr, 1, out.len, w) != out.len) {
		status = cli_error(EXIT_INVALID, "cannot write '%s': %s", tmp, strerror(errno));
		goto done;
	}
	if (fclose(w) != 0 || rename(tmp, file) != 0)
		status = cli_error(EXIT_INVALID, "cannot write '%s': %s", file, strerror(errno));
	w = NULL;
done:
	if (w) {
		fclose(w);
		unlink(tmp);
	}
	if (f)
		fclose(f);
	free(line);
	sbx_buf_dispose(&out);
	return status;
}

int cmd_ssh_config(int argc, char **argv)
{
	cli_config cfg;
	cli_kube k = { 0 };
	cJSON *sb = NULL;
	const char *name, *key, *fp, *home = getenv("HOME");
	char dir[PATH_MAX], file[PATH_MAX + 32], self[PATH_MAX];
	sbx_buf proxy = SBX_BUF_INIT;
	ssize_t n;
	int status, r;

	cli_config_init(&cfg);
	status = parse(argc, argv, config_help, &cfg, &name);
	if (status != EXIT_OK) {
		status = status < 0 ? EXIT_OK : status;
		goto done;
	}
	if ((status = cli_kube_open(&k, &cfg)) != EXIT_OK)
		goto done;
	r = cli_kube_sandbox(&k, &sb, name);
	if (r < 0) {
		status = cli_error(EXIT_INVALID, r == SBX_ENOTFOUND ? "the cluster has no sandbox "
				   "'%s'" : "%s", r == SBX_ENOTFOUND ? name : sbx_error_last());
		goto done;
	}
	key = cli_json_str(sb, "status", "ssh", "hostKey", NULL);
	fp = cli_json_str(sb, "status", "ssh", "hostKeyFingerprint", NULL);
	if (!key || !fp) {
		status = cli_error(EXIT_INVALID, "the controller has not published the host key of "
				   "'%s' yet; see 'sandbox status %s'", name, name);
		goto done;
	}
	{
		const char *xdg = getenv("XDG_CONFIG_HOME");

		snprintf(dir, sizeof(dir), "%s%s/sandbox", xdg && *xdg ? xdg : home ? home : "/",
			 xdg && *xdg ? "" : "/.config");
	}
	snprintf(file, sizeof(file), "%s/known_hosts", dir);
	for (char *c = dir + 1; *c; c++)
		if (*c == '/') {
			*c = '\0';
			mkdir(dir, 0700);
			*c = '/';
		}
	mkdir(dir, 0700);
	{
		char alias[300];

		snprintf(alias, sizeof(alias), "sandbox-%s", name);
		if ((status = pin(file, alias, key)) != EXIT_OK)
			goto done;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	/* the tunnel must reach the same cluster: the flags given here go with it */
	cli_shell_quote(&proxy, n > 0 ? self : "sandbox");
	sbx_buf_puts(&proxy, " tunnel");
	for (int id = 0; id < CFG_COUNT; id++)
		if (cfg.value[id] && !strncmp(cfg.source[id], "flag ", 5)) {
			sbx_buf_printf(&proxy, " %s ", cfg.source[id] + 5);
			cli_shell_quote(&proxy, cfg.value[id]);
		}
	if (!strcmp(cfg.file_source, "flag --config")) {
		sbx_buf_puts(&proxy, " --config ");
		cli_shell_quote(&proxy, cfg.file);
	}
	sbx_buf_putc(&proxy, ' ');
	cli_shell_quote(&proxy, name);
	printf("# sandbox %s: host key %s, pinned in %s\n"
	       "Host sandbox-%s\n"
	       "  HostName sandbox-%s\n"
	       "  HostKeyAlias sandbox-%s\n"
	       "  User " CLI_SANDBOX_USER "\n"
	       "  ProxyCommand %s\n"
	       "  UserKnownHostsFile \"%s\"\n"
	       "  StrictHostKeyChecking yes\n"
	       "  CheckHostIP no\n"
	       "  ServerAliveInterval 30\n",
	       name, fp, file, name, name, name, sbx_buf_cstr(&proxy), file);
done:
	sbx_buf_dispose(&proxy);
	cJSON_Delete(sb);
	cli_kube_close(&k);
	cli_config_dispose(&cfg);
	return status;
}
