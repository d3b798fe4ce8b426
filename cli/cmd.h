/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The command table of the `sandbox` CLI: one cmd_*.c per subcommand, each
 * exposing its entry point and one-line summary here.
 */
#ifndef SBX_CLI_CMD_H
#define SBX_CLI_CMD_H

#include <stdbool.h>
#include <stdio.h>

#include "buf.h"

/* The login user of the devbox image (images/devbox: uid 1000, home
 * /home/dev): sandbox ssh's default and ssh-config's User. */
#define CLI_SANDBOX_USER "dev"

/* Exit statuses, kubectl-style. */
enum { EXIT_OK = 0, EXIT_INVALID = 1, EXIT_USAGE = 2 };

typedef struct cli_cmd {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);   /* argv[0] is the command name */
} cli_cmd;

int cmd_config(int argc, char **argv);
int cmd_create(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_lint(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_quota(int argc, char **argv);
int cmd_resize(int argc, char **argv);
int cmd_ssh(int argc, char **argv);
int cmd_ssh_config(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_tunnel(int argc, char **argv);
int cmd_render(int argc, char **argv);
int cmd_version(int argc, char **argv);

/* cJSON from an arena (arena.c): begin switches cJSON's allocator to it,
 * reset drops everything allocated since (no cJSON pointer from before may
 * be used afterwards), end frees the arena and restores malloc. */
void cli_arena_begin(void);
void cli_arena_reset(void);
void cli_arena_end(void);

/* Print "sandbox: error: MESSAGE" to stderr and return `status`. */
int cli_error(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Ask `question` on a terminal before a change is pushed: EXIT_OK when
 * `yes` is set or the answer is y; else the exit status, after saying why
 * (cancelled, or stdin is not a terminal and --yes is missing). */
int cli_confirm(bool yes, const char *question);

/* Append `word` for a POSIX shell command line: as is when it holds only
 * safe characters, else single-quoted. */
void cli_shell_quote(sbx_buf *out, const char *word);

/* Whether argv holds -h or --help before any "--". */
int cli_wants_help(int argc, char **argv);

#endif
