/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A GitOps repository's contents, loaded and validated together:
 * templates/policy.yaml, the object templates in templates/ and one
 * sandboxes/NAME.yaml per developer, plus the fleet-wide checks (budget).
 * Used by `sandbox lint`/`render` on a folder and by the controller on blobs.
 */
#ifndef SBX_REPO_H
#define SBX_REPO_H

#include <stddef.h>

#include "diag.h"
#include "policy.h"
#include "render.h"
#include "spec.h"

#define SBX_REPO_POLICY "templates/policy.yaml"

typedef struct sbx_repo {
	sbx_policy *policy;          /* NULL when the policy is missing or invalid */
	sbx_templates *templates;    /* NULL when any template is invalid */
	sbx_spec **specs;            /* valid sandboxes, sorted by name */
	size_t nspecs;
	size_t nsandbox_files;       /* sandbox files seen, valid or not */
	size_t ninvalid;             /* sandbox files that failed validation */
} sbx_repo;

/* The files of one repository, in memory. `path`s are relative to the
 * repository root ("sandboxes/alice.yaml"). Borrowed. */
typedef struct sbx_repo_files {
	const sbx_file *policy;      /* NULL when absent */
	const sbx_file *templates;
	size_t ntemplates;
	const sbx_file *sandboxes;
	size_t nsandboxes;
} sbx_repo_files;

/* Validate everything and keep what is valid. Every problem goes to diags,
 * with paths prefixed by `prefix` (may be NULL or ""). Returns 0 when all is
 * valid, SBX_EINVAL when diags received errors (*out is set either way and
 * holds what was valid), SBX_ENOMEM otherwise. Caller must sbx_repo_free. */
int sbx_repo_load(sbx_repo **out, const sbx_repo_files *files, const char *prefix,
		  sbx_diags *diags);

/* Read DIR/templates and DIR/sandboxes from disk and sbx_repo_load() them.
 * Symbolic links and files over the size limit are refused per file;
 * `*.yml` files in sandboxes/ are reported (rename to .yaml). */
int sbx_repo_load_dir(sbx_repo **out, const char *dir, sbx_diags *diags);

/* The sandbox called name, or NULL. Borrowed from repo. */
const sbx_spec *sbx_repo_find(const sbx_repo *repo, const char *name);

/* The fleet's total quota: the sum of every valid sandbox's effective
 * quota (what the budget is checked against). All three fields are set. */
void sbx_repo_totals(sbx_resources *out, const sbx_repo *repo);

/* Free a repo. NULL-safe. */
void sbx_repo_free(sbx_repo *repo);

#endif
