// SPDX-License-Identifier: Apache-2.0
/*
 * `sandbox`: the developer and SRE command line. Finds the subcommand in
 * the command table and hands it the arguments; prints help and version.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "sbx_version.h"

static const cli_cmd commands[] = {
	{ "create", "ask for a sandbox: write, commit and push its file", cmd_create },
	{ "resize", "change a sandbox's cpu, memory or storage (shows the plan)", cmd_resize },
	{ "delete", "remove a sandbox's file (its data is kept for the grace period)", cmd_delete },
	{ "list", "list the sandboxes the controller reports", cmd_list },
	{ "status", "show one sandbox: sync, health, timeline, message", cmd_status },
	{ "ssh", "log in to a sandbox, or run one command there", cmd_ssh },
	{ "ssh-config", "print an OpenSSH config block for a sandbox (host key pinned)", cmd_ssh_config },
	{ "tunnel", "join stdin/stdout to a sandbox's sshd (an ssh ProxyCommand)", cmd_tunnel },
	{ "doctor", "check every link from here to a shell in a sandbox; name the first broken one", cmd_doctor },
	{ "quota", "SREs: show or set a sandbox's override in the policy", cmd_quota },
	{ "config", "show the settings and where each comes from", cmd_config },
	{ "lint", "validate sandbox files, the policy and the templates", cmd_lint },
	{ "render", "print the Kubernetes objects a sandbox renders to", cmd_render },
	{ "diff", "show what a change will do to the cluster, object by object (dry run)", cmd_diff },
	{ "version", "print the version", cmd_version },
};

int cli_error(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("sandbox: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

int cli_confirm(bool yes, const char *question)
{
	char answer[16] = "";

	if (yes)
		return EXIT_OK;
	if (!isatty(STDIN_FILENO))
		return cli_error(EXIT_USAGE, "stdin is not a terminal: re-run with --yes to go ahead");
	fprintf(stderr, "%s [y/N] ", question);
	if (!fgets(answer, sizeof(answer), stdin) || (answer[0] != 'y' && answer[0] != 'Y'))
		return cli_error(EXIT_INVALID, "cancelled; nothing was pushed");
	return EXIT_OK;
}

void cli_shell_quote(sbx_buf *out, const char *word)
{
	bool plain = *word != '\0';

	for (const char *c = word; *c && plain; c++)
		plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=:,@%+-",
			       *c) != NULL;
	if (plain) {
		sbx_buf_puts(out, word);
		return;
	}
	sbx_buf_putc(out, '\'');
	for (const char *c = word; *c; c++)
		sbx_buf_puts(out, *c == '\'' ? "'\\''" : (char[]){ *c, 0 });
	sbx_buf_putc(out, '\'');
}

int cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	}
	return 0;
}

static void usage(FILE *f)
{
	fputs("sandbox - GitOps developer sandboxes on Kubernetes\n\n"
	      "Usage: sandbox COMMAND [OPTIONS]\n\n"
	      "Commands:\n", f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
	fputs("\nRun 'sandbox COMMAND --help' for the options of one command.\n"
	      "Exit status: 0 success, 1 invalid input or failure, 2 usage error.\n", f);
}

int cmd_version(int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		puts("Usage: sandbox version\n\nPrint the version of sandbox.");
		return EXIT_OK;
	}
	if (argc > 1)
		return cli_error(EXIT_USAGE, "'version' takes no arguments");
	printf("sandbox %s\n", SBX_VERSION);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(1, argv + 1);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	cli_error(EXIT_USAGE, "unknown command '%s'", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
