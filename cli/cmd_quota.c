// SPDX-License-Identifier: Apache-2.0
/*
 * `sandbox quota get|set` (SREs): read or change a sandbox's override in
 * templates/policy.yaml (spec.overrides.NAME), keeping the rest of the
 * policy file as it is; the change is validated, committed and pushed like
 * any other, and the controller turns it into the namespace quota.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "error.h"
#include "gitops.h"
#include "policy.h"
#include "repo.h"
#include "yamledit.h"

static const char help[] =
	"Usage: sandbox quota get NAME\n"
	"       sandbox quota set NAME [--cpu C] [--memory M] [--storage D] [--clear]\n\n"
	"For SREs: show or change the override of sandbox NAME in\n"
	"templates/policy.yaml (spec.overrides.NAME). An override replaces the\n"
	"developer's caps and becomes the namespace's ResourceQuota. 'set' edits\n"
	"only those fields (the file's comments and layout are kept), validates the\n"
	"repository, commits 'sandbox: quota NAME (...)' and pushes.\n\n"
	"  --cpu C, --memory M, --storage D   the override's values\n"
	"  --clear       remove the override (the policy's limits apply again)\n"
	"  -h, --help    show this help\n\n";

struct quota {
	const char *name;
	const char *v[3];
	bool clear;
};

static const char *const fields[3] = { "cpu", "memory", "storage" };

static int edit(cli_change *out, const sbx_git_files *files, int attempt, void *payload)
{
	const struct quota *qt = payload;
	sbx_buf msg = SBX_BUF_INIT;
	int r = 0;

	snprintf(out->path, sizeof(out->path), "%s", SBX_REPO_POLICY);
	if (!files->policy)
		return cli_error(EXIT_INVALID, "the repository has no %s to hold overrides; add "
				 "one first (see docs/sandbox-spec.md)", SBX_REPO_POLICY);
	{
		char path[300];

		snprintf(path, sizeof(path), "sandboxes/%s.yaml", qt->name);
		if (attempt == 1 && !cli_git_file(files, path))
			fprintf(stderr, "note: there is no sandbox '%s' (yet); the override waits "
				"for it\n", qt->name);
	}
	sbx_buf_put(&out->data, files->policy->data, files->policy->len);
	sbx_buf_printf(&msg, "sandbox: quota %s (", qt->name);
	if (qt->clear) {
		const char *path[] = { "spec", "overrides", qt->name };

		r = sbx_yaml_edit_remove(&out->data, path, 3);
		sbx_buf_puts(&msg, "override removed");
	}
	for (int i = 0, first = !qt->clear; r == 0 && i < 3; i++) {
		const char *path[] = { "spec", "overrides", qt->name, fields[i] };

		if (!qt->v[i])
			continue;
		r = sbx_yaml_edit_set(&out->data, path, 4, qt->v[i]);
		sbx_buf_printf(&msg, "%s%s %s", first ? "" : ", ", fields[i], qt->v[i]);
		first = 0;
	}
	sbx_buf_putc(&msg, ')');
	snprintf(out->message, sizeof(out->message), "%s", sbx_buf_cstr(&msg));
	sbx_buf_dispose(&msg);
	if (r < 0)
		return cli_error(EXIT_INVALID, "cannot edit %s: %s; edit it by hand", SBX_REPO_POLICY,
				 sbx_error_last());
	if (out->data.len == files->policy->len &&
	    memcmp(out->data.ptr, files->policy->data, out->data.len) == 0)
		return cli_error(EXIT_INVALID, "nothing to change: the override of '%s' already "
				 "says so", qt->name);
	return EXIT_OK;
}

static int show(const cli_config *cfg, const char *name)
{
	sbx_git *g = NULL;
	sbx_git_files files = { 0 };
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_policy *p = NULL;
	sbx_buf b = SBX_BUF_INIT;
	char head[SBX_GIT_OID_HEX];
	const sbx_named_resources *o;
	int status = cli_git_fetch(&g, head, cfg);

	if (status != EXIT_OK)
		goto done;
	if (sbx_git_read(&files, g, head, &d) < 0 || !files.policy ||
	    sbx_policy_parse(&p, files.policy->path, files.policy->data, files.policy->len, &d) < 0) {
		status = cli_error(EXIT_INVALID, "cannot read a valid %s at %.12s; 'sandbox lint' "
				   "shows why", SBX_REPO_POLICY, head);
		goto done;
	}
	o = sbx_policy_override(p, name);
	printf("%-8s %-12s %s\n", "FIELD", "OVERRIDE", "POLICY LIMIT");
	for (int i = 0; i < 3; i++) {
		static const sbx_resources none;
		const sbx_resources *or = o ? &o->r : &none, *lr = &p->limits;
		const sbx_quantity *ov = i == 0 ? &or->cpu : i == 1 ? &or->memory : &or->storage;
		const sbx_quantity *lv = i == 0 ? &lr->cpu : i == 1 ? &lr->memory : &lr->storage;
		bool oh = i == 0 ? or->has_cpu : i == 1 ? or->has_memory : or->has_storage;
		bool lh = i == 0 ? lr->has_cpu : i == 1 ? lr->has_memory : lr->has_storage;

		sbx_buf_clear(&b);
		if (oh)
			sbx_quantity_format(&b, ov);
		else
			sbx_buf_puts(&b, "-");
		printf("%-8s %-12s ", fields[i], sbx_buf_cstr(&b));
		sbx_buf_clear(&b);
		if (lh)
			sbx_quantity_format(&b, lv);
		else
			sbx_buf_puts(&b, "none");
		printf("%s\n", sbx_buf_cstr(&b));
	}
	if (!o)
		printf("no override for '%s' at %.12s: the policy's limits apply\n", name, head);
done:
	sbx_policy_free(p);
	sbx_buf_dispose(&b);
	sbx_diags_dispose(&d);
	sbx_git_files_dispose(&files);
	sbx_git_free(g);
	return status;
}

int cmd_quota(int argc, char **argv)
{
	enum { O_CPU = 1, O_MEMORY, O_STORAGE, O_CLEAR };
	static const struct option opts[] = {
		{ "cpu", required_argument, NULL, O_CPU },
		{ "memory", required_argument, NULL, O_MEMORY },
		{ "storage", required_argument, NULL, O_STORAGE },
		{ "clear", no_argument, NULL, O_CLEAR },
		{ "help", no_argument, NULL, 'h' },
		CLI_CONFIG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct quota qt = { 0 };
	cli_config cfg;
	char oid[SBX_GIT_OID_HEX];
	const char *verb;
	int ch, status = EXIT_OK;

	cli_config_init(&cfg);
	optind = 1;
	while (status == EXIT_OK && (ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case O_CPU: case O_MEMORY: case O_STORAGE: qt.v[ch - O_CPU] = optarg; break;
		case O_CLEAR: qt.clear = true; break;
		case 'h': cli_config_print_help(help); goto done;
		default: status = cli_config_option(&cfg, ch, optarg, help);
		}
	}
	if (status != EXIT_OK)
		goto done;
	if (argc - optind != 2 || (strcmp(argv[optind], "get") && strcmp(argv[optind], "set"))) {
		status = cli_error(EXIT_USAGE, "use 'sandbox quota get NAME' or 'sandbox quota set "
				   "NAME --cpu C --memory M --storage D'");
		goto done;
	}
	verb = argv[optind];
	qt.name = argv[optind + 1];
	if (!strcmp(verb, "get") && (qt.v[0] || qt.v[1] || qt.v[2] || qt.clear)) {
		status = cli_error(EXIT_USAGE, "'quota get' takes no values; did you mean 'quota set'?");
		goto done;
	}
	if (!strcmp(verb, "set") && !qt.v[0] && !qt.v[1] && !qt.v[2] && !qt.clear) {
		status = cli_error(EXIT_USAGE, "say what to set: --cpu, --memory, --storage, or --clear");
		goto done;
	}
	if ((status = cli_config_load(&cfg)) != EXIT_OK)
		goto done;
	if (!strcmp(verb, "get"))
		status = show(&cfg, qt.name);
	else if ((status = cli_git_change(oid, &cfg, edit, &qt)) == EXIT_OK)
		printf("the override of '%s' is pushed; the controller updates the namespace's "
		       "ResourceQuota on its next sync\n", qt.name);
done:
	cli_config_dispose(&cfg);
	return status;
}
