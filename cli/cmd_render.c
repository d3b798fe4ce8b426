// SPDX-License-Identifier: Apache-2.0
/*
 * `sandbox render`: print the Kubernetes objects sandboxes render to, as a
 * multi-document YAML stream or one JSON v1 List, without a cluster.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "diag.h"
#include "error.h"
#include "repo.h"

static const char help[] =
	"Usage: sandbox render [--repo DIR] [NAME...] [-o yaml|json]\n\n"
	"Print the Kubernetes objects the named sandboxes (default: all) render to,\n"
	"in apply order. The ssh host-key Secret is not shown: the controller\n"
	"generates it once per sandbox in the cluster.\n\n"
	"Options:\n"
	"  --repo DIR        the repository (default: the current folder)\n"
	"  -o, --output FMT  yaml (a multi-document stream, default) or json (one v1 List)\n"
	"  -h, --help        show this help\n\n"
	"Exit status: 0 rendered, 1 invalid input or unknown sandbox, 2 usage error.\n";

struct output {
	int json;
	size_t count;     /* JSON objects written so far */
	sbx_buf text;     /* reused for each object */
	int failed;
};

/* Render one sandbox and write its objects at once, so memory stays
 * bounded by one sandbox however many are rendered. */
static int render_one(struct output *o, const sbx_repo *repo, const sbx_spec *s, sbx_diags *diags)
{
	cJSON *objs = NULL;
	int r = sbx_render(&objs, repo->templates, repo->policy, s, NULL, diags);

	if (r < 0)
		return r;
	sbx_buf_clear(&o->text);
	if (o->json) {
		for (const cJSON *obj = objs->child; obj; obj = obj->next) {
			char *text = cJSON_PrintUnformatted(obj);

			if (!text) {
				o->failed = 1;
				break;
			}
			sbx_buf_printf(&o->text, "%s\n%s", o->count++ ? "," : "", text);
			cJSON_free(text);
		}
	} else {
		sbx_render_yaml_documents(&o->text, objs);
	}
	if (o->text.failed)
		o->failed = 1;
	else
		fwrite(o->text.ptr, 1, o->text.len, stdout);
	cJSON_Delete(objs);
	cli_arena_reset();
	return o->failed ? SBX_ENOMEM : 0;
}

int cmd_render(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "repo", required_argument, NULL, 'r' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = ".", *format = "yaml";
	sbx_diags diags = SBX_DIAGS_INIT, render_diags = SBX_DIAGS_INIT;
	sbx_buf out = SBX_BUF_INIT;
	sbx_repo *repo = NULL;
	struct output o = { 0 };
	int c, r, out_json, status = EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'r': dir = optarg; break;
		case 'o': format = optarg; break;
		case 'h': fputs(help, stdout); return EXIT_OK;
		default: fputs(help, stderr); return EXIT_USAGE;
		}
	}
	if (strcmp(format, "yaml") != 0 && strcmp(format, "json") != 0)
		return cli_error(EXIT_USAGE, "unknown output format '%s' (use yaml or json)", format);
	out_json = strcmp(format, "json") == 0;
	o.json = out_json;
	sbx_buf_init(&o.text, SBX_BUF_DEFAULT_MAX);
	r = sbx_repo_load_dir(&repo, dir, &diags);
	if (r == SBX_ENOMEM) {
		status = cli_error(EXIT_INVALID, "%s", sbx_error_last());
		goto done;
	}
	if (!repo->policy || !repo->templates) {
		sbx_diags_sort(&diags);
		sbx_diags_format(&out, &diags);
		fputs(sbx_buf_cstr(&out), stderr);
		status = cli_error(EXIT_INVALID, "the policy or the templates are invalid; "
				   "nothing rendered (run 'sandbox lint' for details)");
		goto done;
	}
	if (out_json)
		fputs("{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[", stdout);
	cli_arena_begin();
	if (optind < argc) {
		for (int i = optind; i < argc; i++) {
			const sbx_spec *s = sbx_repo_find(repo, argv[i]);

			if (!s) {
				status = cli_error(EXIT_INVALID, "no valid sandbox '%s' in %s/sandboxes "
						   "(run 'sandbox lint' to see why)", argv[i], dir);
				continue;
			}
			if (render_one(&o, repo, s, &render_diags) < 0)
				status = EXIT_INVALID;
		}
	} else {
		if (diags.count) {
			sbx_diags_sort(&diags);
			sbx_diags_format(&out, &diags);
			status = EXIT_INVALID;
		}
		for (size_t i = 0; i < repo->nspecs; i++)
			if (render_one(&o, repo, repo->specs[i], &render_diags) < 0)
				status = EXIT_INVALID;
	}
	cli_arena_end();
	if (out_json)
		fputs(o.count ? "\n]}\n" : "]}\n", stdout);
	sbx_diags_format(&out, &render_diags);
	fputs(sbx_buf_cstr(&out), stderr);
	if (o.failed)
		status = cli_error(EXIT_INVALID, "out of memory");
done:
	sbx_buf_dispose(&o.text);
	sbx_buf_dispose(&out);
	sbx_diags_dispose(&diags);
	sbx_diags_dispose(&render_diags);
	sbx_repo_free(repo);
	return status;
}
