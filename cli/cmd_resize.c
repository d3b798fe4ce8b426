// SPDX-License-Identifier: Apache-2.0
/*
 * `sandbox resize`: change a sandbox's size in its file, touching only the
 * changed fields (comments and layout stay), after showing the plan: what
 * changes, whether the pod restarts, whether the volume grows, whether it
 * fits the caps. Storage never shrinks.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "error.h"
#include "gitops.h"
#include "policy.h"
#include "spec.h"
#include "wait.h"
#include "yamledit.h"

static const char help[] =
	"Usage: sandbox resize [NAME] [--size S | --cpu C --memory M --storage D]\n"
	"                      [--yes] [--wait]\n\n"
	"Change the size of a sandbox: edit only those fields of\n"
	"sandboxes/NAME.yaml (comments and layout are kept), show the plan, then\n"
	"commit 'sandbox: resize NAME (...)' and push. --size drops per-field cpu\n"
	"and memory values, which would hide the new size. Storage only grows.\n\n"
	"  NAME               default: the 'name' setting, else your login name\n"
	"  --size S           a size class of the policy\n"
	"  --cpu C, --memory M, --storage D\n"
	"                     per-field sizes (Kubernetes quantities: 2, 500m, 8Gi)\n"
	"  -y, --yes          push without asking (required when stdin is not a terminal)\n"
	"  --wait             follow the change until the sandbox is ready again\n"
	"  --timeout D        how long --wait waits (default 5m)\n"
	"  -h, --help         show this help\n\n";

struct resize {
	const char *name, *size, *cpu, *memory, *storage;
	bool yes;
};

/* Format a quantity, or "-" when absent. */
static const char *q(sbx_buf *b, const sbx_quantity *v, bool has)
{
	sbx_buf_clear(b);
	if (has)
		sbx_quantity_format(b, v);
	else
		sbx_buf_puts(b, "-");
	return sbx_buf_cstr(b);
}

static int parse_spec(sbx_spec **out, const sbx_policy *p, const char *path, const sbx_buf *doc)
{
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_buf text = SBX_BUF_INIT;
	int r = sbx_spec_parse(out, path, sbx_buf_cstr(doc), doc->len, p, &d);

	if (r < 0) {
		sbx_diags_sort(&d);
		sbx_diags_format(&text, &d);
		fputs(sbx_buf_cstr(&text), stderr);
		r = cli_error(EXIT_INVALID, "the resized file would not be valid; nothing was "
			      "committed");
	}
	sbx_buf_dispose(&text);
	sbx_diags_dispose(&d);
	return r;
}

/* Print the plan (the first time) and build the commit message. */
static int plan(cli_change *out, const struct resize *z, const sbx_policy *p,
		const sbx_effective *o, const sbx_effective *n, bool print)
{
	static const char *const names[3] = { "cpu", "memory", "storage" };
	const sbx_quantity *ov[3] = { &o->workload.cpu, &o->workload.memory, &o->workload.storage };
	const sbx_quantity *nv[3] = { &n->workload.cpu, &n->workload.memory, &n->workload.storage };
	const bool oh[3] = { o->workload.has_cpu, o->workload.has_memory, o->workload.has_storage };
	const bool nh[3] = { n->workload.has_cpu, n->workload.has_memory, n->workload.has_storage };
	sbx_buf a = SBX_BUF_INIT, b = SBX_BUF_INIT, msg = SBX_BUF_INIT;
	bool changed[3], restart = false, grows = false, any = false;
	int status = EXIT_OK;

	for (int i = 0; i < 3; i++) {
		changed[i] = oh[i] != nh[i] || (oh[i] && sbx_quantity_cmp(ov[i], nv[i]) != 0);
		any |= changed[i];
	}
	if (nh[2] && oh[2] && sbx_quantity_cmp(nv[2], ov[2]) < 0) {
		status = cli_error(EXIT_INVALID, "storage cannot shrink from %s to %s: a volume only "
				   "grows; to start again smaller, delete the sandbox (its data goes "
				   "after the grace period) and create it anew", q(&a, ov[2], true),
				   q(&b, nv[2], true));
		goto done;
	}
	restart = changed[0] || changed[1];
	grows = changed[2];
	if (print) {
		printf("Plan for sandbox '%s' (%s):\n", z->name, out->path);
		if (n->size && (!o->size || strcmp(o->size, n->size)))
			printf("  size      %s -> %s\n", o->size ? o->size : "-", n->size);
		for (int i = 0; i < 3; i++)
			printf("  %-9s %s%s%s\n", names[i], q(&a, ov[i], oh[i]), changed[i] ? " -> " :
			       " (unchanged)", changed[i] ? q(&b, nv[i], nh[i]) : "");
		printf("  pod       %s\n", restart ? "restarts with the new cpu/memory (the home "
		       "volume and its data are kept)" : "keeps running");
		printf("  volume    %s\n", grows ? "grows; the data is kept (online expansion where "
		       "the storage class allows it)" : "unchanged");
		if (sbx_policy_override(p, z->name))
			printf("  quota     an SRE override sets this sandbox's quota; the new size "
			       "must fit it\n");
		printf("  caps      fits the policy's per-sandbox limits\n");
	}
	if (!any && (!n->size || !o->size || !strcmp(o->size, n->size))) {
		status = cli_error(EXIT_INVALID, "nothing to change: '%s' already has these sizes",
				   z->name);
		goto done;
	}
	sbx_buf_printf(&msg, "sandbox: resize %s (", z->name);
	if (z->size)
		sbx_buf_printf(&msg, "size %s", z->size);
	for (int i = 0, first = !z->size; i < 3; i++)
		if (changed[i]) {
			sbx_buf_printf(&msg, "%s%s %s -> ", first ? "" : ", ", names[i],
				       q(&a, ov[i], oh[i]));
			sbx_buf_printf(&msg, "%s", q(&a, nv[i], nh[i]));
			first = 0;
		}
	sbx_buf_putc(&msg, ')');
	snprintf(out->message, sizeof(out->message), "%s", sbx_buf_cstr(&msg));
	out->plan = print;
	out->yes = z->yes;
done:
	sbx_buf_dispose(&a);
	sbx_buf_dispose(&b);
	sbx_buf_dispose(&msg);
	return status;
}

static int edit(cli_change *out, const sbx_git_files *files, int attempt, void *payload)
{
	const struct resize *z = payload;
	const char *res_cpu[] = { "spec", "resources", "cpu" };
	const char *res_mem[] = { "spec", "resources", "memory" };
	const char *res_sto[] = { "spec", "resources", "storage" };
	const char *size_path[] = { "spec", "size" };
	sbx_policy *p = NULL;
	sbx_spec *old = NULL, *new = NULL;
	sbx_effective eo, en;
	sbx_diags d = SBX_DIAGS_INIT;
	const sbx_file *f;
	int r = 0, status = EXIT_OK;

	snprintf(out->path, sizeof(out->path), "sandboxes/%s.yaml", z->name);
	f = cli_git_file(files, out->path);
	if (!f)
		return cli_error(EXIT_INVALID, "there is no sandbox '%s' (%s) in the repository; "
				 "create it with 'sandbox create %s'", z->name, out->path, z->name);
	if (files->policy ? sbx_policy_parse(&p, files->policy->path, files->policy->data,
					     files->policy->len, &d) < 0 : sbx_policy_default(&p) < 0) {
		status = cli_error(EXIT_INVALID, "the repository's policy is not valid; ask your "
				   "SREs ('sandbox lint' shows the problems)");
		goto done;
	}
	sbx_buf_put(&out->data, f->data, f->len);
	if ((status = parse_spec(&old, p, out->path, &out->data)) != EXIT_OK)
		goto done;
	if (z->size) {
		r = sbx_yaml_edit_set(&out->data, size_path, 2, z->size);
		if (r == 0)
			r = sbx_yaml_edit_remove(&out->data, res_cpu, 3);
		if (r == 0)
			r = sbx_yaml_edit_remove(&out->data, res_mem, 3);
		/* a storage value the new size does not reach would be a shrink */
		if (r == 0 && old->resources.has_storage && sbx_policy_size(p, z->size) &&
		    sbx_quantity_cmp(&old->resources.storage,
				     &sbx_policy_size(p, z->size)->r.storage) <= 0)
			r = sbx_yaml_edit_remove(&out->data, res_sto, 3);
	}
	if (r == 0 && z->cpu)
		r = sbx_yaml_edit_set(&out->data, res_cpu, 3, z->cpu);
	if (r == 0 && z->memory)
		r = sbx_yaml_edit_set(&out->data, res_mem, 3, z->memory);
	if (r == 0 && z->storage)
		r = sbx_yaml_edit_set(&out->data, res_sto, 3, z->storage);
	if (r < 0) {
		status = cli_error(EXIT_INVALID, "cannot edit '%s': %s; edit it by hand", out->path,
				   sbx_error_last());
		goto done;
	}
	if ((status = parse_spec(&new, p, out->path, &out->data)) != EXIT_OK)
		goto done;
	if (sbx_policy_resolve(&eo, p, old, &d) < 0)
		memset(&eo, 0, sizeof(eo));
	sbx_diags_dispose(&d);
	if (sbx_policy_resolve(&en, p, new, &d) < 0) {
		sbx_buf text = SBX_BUF_INIT;

		sbx_diags_format(&text, &d);
		fputs(sbx_buf_cstr(&text), stderr);
		sbx_buf_dispose(&text);
		status = cli_error(EXIT_INVALID, "the new size does not fit the policy's caps; "
				   "nothing was committed");
		goto done;
	}
	status = plan(out, z, p, &eo, &en, attempt == 1);
done:
	sbx_spec_free(old);
	sbx_spec_free(new);
	sbx_policy_free(p);
	sbx_diags_dispose(&d);
	return status;
}

int cmd_resize(int argc, char **argv)
{
	enum { O_SIZE = 1, O_CPU, O_MEMORY, O_STORAGE, O_WAIT, O_TIMEOUT };
	static const struct option opts[] = {
		{ "size", required_argument, NULL, O_SIZE },
		{ "cpu", required_argument, NULL, O_CPU },
		{ "memory", required_argument, NULL, O_MEMORY },
		{ "storage", required_argument, NULL, O_STORAGE },
		{ "yes", no_argument, NULL, 'y' },
		{ "wait", no_argument, NULL, O_WAIT },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		CLI_CONFIG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct resize z = { 0 };
	cli_config cfg;
	char oid[SBX_GIT_OID_HEX];
	const char *timeout = NULL;
	bool wait = false;
	int ch, status = EXIT_OK;

	cli_config_init(&cfg);
	optind = 1;
	while (status == EXIT_OK && (ch = getopt_long(argc, argv, "hy", opts, NULL)) != -1) {
		switch (ch) {
		case O_SIZE: z.size = optarg; break;
		case O_CPU: z.cpu = optarg; break;
		case O_MEMORY: z.memory = optarg; break;
		case O_STORAGE: z.storage = optarg; break;
		case 'y': z.yes = true; break;
		case O_WAIT: wait = true; break;
		case O_TIMEOUT: timeout = optarg; break;
		case 'h': cli_config_print_help(help); goto done;
		default: status = cli_config_option(&cfg, ch, optarg, help);
		}
	}
	if (status != EXIT_OK)
		goto done;
	if (z.size && (z.cpu || z.memory || z.storage)) {
		status = cli_error(EXIT_USAGE, "give --size or --cpu/--memory/--storage, not both");
		goto done;
	}
	if (!z.size && !z.cpu && !z.memory && !z.storage) {
		status = cli_error(EXIT_USAGE, "say what to change: --size S, or --cpu, --memory, "
				   "--storage");
		goto done;
	}
	if ((status = cli_config_load(&cfg)) != EXIT_OK ||
	    (status = cli_config_name(&z.name, &cfg, argc, argv, optind)) != EXIT_OK)
		goto done;
	status = cli_git_change(oid, &cfg, edit, &z);
	if (status == EXIT_OK && wait)
		status = cli_wait(&cfg, z.name, oid, timeout);
done:
	cli_config_dispose(&cfg);
	return status;
}
