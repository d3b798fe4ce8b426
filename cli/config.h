/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CLI's settings: where the GitOps repository is and where its clone
 * lives, the default sandbox name, how to reach the cluster. Each comes
 * from a flag, else an environment variable, else
 * ~/.config/sandbox/config.yaml, else a default, and remembers which.
 */
#ifndef SBX_CLI_CONFIG_H
#define SBX_CLI_CONFIG_H

#include <getopt.h>

enum cli_setting_id {
	CFG_REPO, CFG_BRANCH, CFG_CLONE, CFG_NAME, CFG_CONTEXT, CFG_KUBECONFIG,
	CFG_GIT_SSH_KEY, CFG_GIT_KNOWN_HOSTS, CFG_GIT_TOKEN_FILE, CFG_GIT_CA_FILE, CFG_COUNT
};

typedef struct cli_config {
	char *value[CFG_COUNT];        /* NULL when unset; owned */
	const char *source[CFG_COUNT]; /* "flag --x", "env X", "file PATH", "default" */
	char *file;                    /* the config file read (or that would be) */
	const char *file_source;       /* "flag --config", "env SANDBOX_CONFIG", "default" */
} cli_config;

/* getopt_long codes of the shared flags start here. */
#define CLI_OPT_BASE 1000

/* The shared flags, to splice into a command's option table:
 * struct option opts[] = { ..., CLI_CONFIG_OPTIONS, { NULL, 0, NULL, 0 } }; */
#define CLI_CONFIG_OPTIONS                                                   \
	{ "repo-url", required_argument, NULL, CLI_OPT_BASE + CFG_REPO },          \
	{ "branch", required_argument, NULL, CLI_OPT_BASE + CFG_BRANCH },          \
	{ "clone", required_argument, NULL, CLI_OPT_BASE + CFG_CLONE },            \
	{ "context", required_argument, NULL, CLI_OPT_BASE + CFG_CONTEXT },        \
	{ "kubeconfig", required_argument, NULL, CLI_OPT_BASE + CFG_KUBECONFIG },  \
	{ "git-ssh-key", required_argument, NULL, CLI_OPT_BASE + CFG_GIT_SSH_KEY }, \
	{ "git-known-hosts", required_argument, NULL, CLI_OPT_BASE + CFG_GIT_KNOWN_HOSTS }, \
	{ "git-token-file", required_argument, NULL, CLI_OPT_BASE + CFG_GIT_TOKEN_FILE }, \
	{ "git-ca-file", required_argument, NULL, CLI_OPT_BASE + CFG_GIT_CA_FILE }, \
	{ "config", required_argument, NULL, CLI_OPT_BASE + CFG_COUNT }

/* Help text lines for the shared flags. */
extern const char cli_config_help[];

/* Start empty. */
void cli_config_init(cli_config *c);

/* Take a shared flag (getopt code and its argument). Returns 1 when the
 * code was one of them, 0 otherwise. */
int cli_config_flag(cli_config *c, int code, const char *arg);

/* cli_config_flag for a command's `default:` case: EXIT_OK when the code
 * was a shared flag, else print the command's help (and the shared
 * flags') to stderr and return EXIT_USAGE. */
int cli_config_option(cli_config *c, int code, const char *arg, const char *help);

/* Print a command's help and the shared flags to stdout (for --help). */
void cli_config_print_help(const char *help);

/* The sandbox a command is about: argv[optind] when given (at most one),
 * else the 'name' setting. Call after cli_config_load. Returns EXIT_OK and
 * *name (borrowed), or prints why not and returns EXIT_USAGE. */
int cli_config_name(const char **name, const cli_config *c, int argc, char **argv, int optind);

/* Fill what flags left unset from the environment, the config file and
 * the defaults. Returns 0, or EXIT_INVALID after printing what is wrong
 * with the file. */
int cli_config_load(cli_config *c);

/* The key in the config file, the environment variable and the flag of a
 * setting; a line of help. Static strings. */
const char *cli_config_key(enum cli_setting_id id);
const char *cli_config_env(enum cli_setting_id id);
const char *cli_config_describe(enum cli_setting_id id);

/* Free the values. */
void cli_config_dispose(cli_config *c);

#endif
