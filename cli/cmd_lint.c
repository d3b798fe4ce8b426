// SPDX-License-Identifier: Apache-2.0
/*
 * `sandbox lint`: validate a GitOps repository the way the controller
 * will, print every problem located, and exit 0 / 1 / 2 for CI.
 */
#include <getopt.h>
#include <stdio.h>

#include "cmd.h"
#include "diag.h"
#include "error.h"
#include "repo.h"

static const char help[] =
	"Usage: sandbox lint [--repo DIR]\n\n"
	"Validate DIR/sandboxes/*.yaml, DIR/templates/policy.yaml and the object\n"
	"templates in DIR/templates/, exactly as the controller does, rendering\n"
	"every sandbox once. Every problem\n"
	"is printed as PATH:LINE:COL: error: MESSAGE, then a summary line.\n\n"
	"Options:\n"
	"  --repo DIR   the repository to check (default: the current folder)\n"
	"  -h, --help   show this help\n\n"
	"Exit status: 0 all valid, 1 invalid input, 2 usage error.\n";

int cmd_lint(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "repo", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = ".";
	sbx_diags diags = SBX_DIAGS_INIT;
	sbx_buf out = SBX_BUF_INIT;
	sbx_repo *repo = NULL;
	size_t unrendered = 0;
	int c, r, status;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': dir = optarg; break;
		case 'h': fputs(help, stdout); return EXIT_OK;
		default: fputs(help, stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_error(EXIT_USAGE, "unexpected argument '%s' (lint checks the whole "
				 "repository; use --repo DIR)", argv[optind]);
	r = sbx_repo_load_dir(&repo, dir, &diags);
	if (r == SBX_ENOMEM) {
		status = cli_error(EXIT_INVALID, "%s", sbx_error_last());
		goto done;
	}
	/* some template problems show only when rendering: render every
	 * valid sandbox as the controller would, and drop the objects */
	cli_arena_begin();
	for (size_t i = 0; repo->policy && repo->templates && i < repo->nspecs; i++) {
		cJSON *objs = NULL;

		r = sbx_render(&objs, repo->templates, repo->policy, repo->specs[i], NULL, &diags);
		if (r == SBX_ENOMEM) {
			status = cli_error(EXIT_INVALID, "%s", sbx_error_last());
			goto done;
		}
		unrendered += r < 0;
		cJSON_Delete(objs);
		cli_arena_reset();
	}
	cli_arena_end();
	sbx_diags_sort(&diags);
	sbx_diags_format(&out, &diags);
	fputs(sbx_buf_cstr(&out), stdout);
	if (diags.count) {
		printf("%zu problem%s; %zu of %zu sandbox files valid, policy %s, templates %s\n",
		       diags.count, diags.count == 1 ? "" : "s", repo->nspecs - unrendered,
		       repo->nsandbox_files, repo->policy ? "valid" : "invalid",
		       !repo->templates ? "invalid" : unrendered ? "fail to render" : "valid");
		status = EXIT_INVALID;
	} else {
		printf("ok: %zu sandbox%s, %zu templates and the policy are valid\n", repo->nspecs,
		       repo->nspecs == 1 ? "" : "es", sbx_templates_count(repo->templates));
		status = EXIT_OK;
	}
done:
	cli_arena_end();
	sbx_buf_dispose(&out);
	sbx_diags_dispose(&diags);
	sbx_repo_free(repo);
	return status;
}
