// SPDX-License-Identifier: Apache-2.0
/*
 * `sandbox delete`: remove sandboxes/NAME.yaml and push, and say what
 * happens to the data: the workload stops at once, the namespace and the
 * home volume stay for the policy's grace period, and the file coming back
 * restores them.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "gitops.h"
#include "policy.h"

static const char help[] =
	"Usage: sandbox delete NAME [--yes]\n\n"
	"Remove sandboxes/NAME.yaml from the GitOps repository and push\n"
	"('sandbox: delete NAME'). The controller stops the sandbox at once and\n"
	"keeps its namespace and home volume for the policy's grace period\n"
	"(deletion.gracePeriod); bringing the file back within it restores the\n"
	"sandbox with its data. After it, both are deleted for good.\n\n"
	"  -y, --yes     delete without asking (required when stdin is not a terminal)\n"
	"  -h, --help    show this help\n\n";

struct del {
	const char *name;
	long long grace_s;
	char prefix[64];
};

static int edit(cli_change *out, const sbx_git_files *files, int attempt, void *payload)
{
	struct del *d = payload;
	sbx_policy *p = NULL;
	sbx_diags diags = SBX_DIAGS_INIT;

	(void)attempt;
	snprintf(out->path, sizeof(out->path), "sandboxes/%s.yaml", d->name);
	if (!cli_git_file(files, out->path))
		return cli_error(EXIT_INVALID, "there is no sandbox '%s' (%s) in the repository; "
				 "'sandbox list' shows the ones there are", d->name, out->path);
	out->remove = true;
	snprintf(out->message, sizeof(out->message), "sandbox: delete %s", d->name);
	if ((files->policy ? sbx_policy_parse(&p, files->policy->path, files->policy->data,
					      files->policy->len, &diags) : sbx_policy_default(&p)) == 0) {
		d->grace_s = p->grace_period_s;
		snprintf(d->prefix, sizeof(d->prefix), "%s", p->namespace_prefix);
	}
	sbx_policy_free(p);
	sbx_diags_dispose(&diags);
	return EXIT_OK;
}

int cmd_delete(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "yes", no_argument, NULL, 'y' },
		{ "help", no_argument, NULL, 'h' },
		CLI_CONFIG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct del d = { .grace_s = -1 };
	cli_config cfg;
	char oid[SBX_GIT_OID_HEX], question[400];
	bool yes = false;
	int ch, status = EXIT_OK;

	cli_config_init(&cfg);
	optind = 1;
	while (status == EXIT_OK && (ch = getopt_long(argc, argv, "hy", opts, NULL)) != -1) {
		switch (ch) {
		case 'y': yes = true; break;
		case 'h': cli_config_print_help(help); goto done;
		default: status = cli_config_option(&cfg, ch, optarg, help);
		}
	}
	if (status != EXIT_OK)
		goto done;
	if (argc - optind != 1) {
		status = cli_error(EXIT_USAGE, "delete needs exactly one NAME (it is never guessed)");
		goto done;
	}
	d.name = argv[optind];
	if ((status = cli_config_load(&cfg)) != EXIT_OK)
		goto done;
	snprintf(question, sizeof(question), "Delete sandbox '%s'? Its workload stops now; its "
		 "data is kept for the grace period.", d.name);
	if ((status = cli_confirm(yes, question)) != EXIT_OK ||
	    (status = cli_git_change(oid, &cfg, edit, &d)) != EXIT_OK)
		goto done;
	printf("sandbox '%s' is being deleted: the controller stops it now and keeps namespace "
	       "'%s%s' with its home volume", d.name, d.prefix, d.name);
	if (d.grace_s >= 0)
		printf(" for %lldh%02lldm", d.grace_s / 3600, d.grace_s % 3600 / 60);
	printf(" (the policy's grace period); then both are deleted for good.\n"
	       "To restore it with its data before then, bring the file back:\n"
	       "  git -C '%s' revert --no-edit %.12s && git -C '%s' push\n",
	       cfg.value[CFG_CLONE], oid, cfg.value[CFG_CLONE]);
done:
	cli_config_dispose(&cfg);
	return status;
}
