// SPDX-License-Identifier: Apache-2.0
/*
 * `sandbox config`: every setting's effective value and where it came from
 * (flag, environment, config file, default), so "why does it use that
 * repository?" has a one-command answer.
 */
#include <getopt.h>
#include <stdio.h>

#include "cmd.h"
#include "config.h"

static const char help[] =
	"Usage: sandbox config [FLAGS]\n\n"
	"Show each setting, its effective value and where it came from. Settings\n"
	"come from flags, else environment variables, else the config file\n"
	"(~/.config/sandbox/config.yaml, a YAML mapping such as\n"
	"  repo: ssh://git@git.example.com/sre/sandboxes.git\n"
	"  name: alice\n"
	"), else defaults.\n\n";

int cmd_config(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		CLI_CONFIG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	cli_config cfg;
	int ch, status = EXIT_OK;

	cli_config_init(&cfg);
	optind = 1;
	while (status == EXIT_OK && (ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'h') {
			cli_config_print_help(help);
			goto done;
		}
		status = cli_config_option(&cfg, ch, optarg, help);
	}
	if (status != EXIT_OK)
		goto done;
	if (optind < argc) {
		status = cli_error(EXIT_USAGE, "unexpected argument '%s'", argv[optind]);
		goto done;
	}
	if ((status = cli_config_load(&cfg)) != EXIT_OK)
		goto done;
	printf("%-14s %-50s %s\n", "SETTING", "VALUE", "FROM");
	for (int id = 0; id < CFG_COUNT; id++)
		printf("%-14s %-50s %s\n", cli_config_key(id), cfg.value[id] ? cfg.value[id] : "-",
		       cfg.value[id] ? cfg.source[id] : "unset");
	printf("\nconfig file: %s (%s)\n", cfg.file, cfg.file_source);
	if (!cfg.value[CFG_REPO])
		printf("no repository is set: add 'repo: URL' to the config file, or set "
		       "SANDBOX_REPO\n");
done:
	cli_config_dispose(&cfg);
	return status;
}
