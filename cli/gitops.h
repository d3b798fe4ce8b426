/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How every writing command changes the GitOps repository: open (or clone)
 * the configured clone, refuse local changes, then fetch, edit one file,
 * validate the result with the core library exactly as lint does, commit
 * and push; when the branch moved meanwhile, redo the edit on the new head
 * (a rebase of the one-file change) a bounded number of times.
 */
#ifndef SBX_CLI_GITOPS_H
#define SBX_CLI_GITOPS_H

#include <stdbool.h>

#include "buf.h"
#include "config.h"
#include "git.h"

/* One file's new contents, filled by an edit function. */
typedef struct cli_change {
	char path[300];          /* "sandboxes/alice.yaml" */
	sbx_buf data;            /* new contents (ignored when remove) */
	bool remove;             /* delete the file */
	char message[512];       /* commit message */
	bool plan;               /* a plan was printed: add the fleet budget line, then ask */
	bool yes;                /* with plan: push without asking */
} cli_change;

/* Make the change on the files of the fetched head. `attempt` counts from
 * 1 (later ones redo the change after the branch moved). Returns 0, or an
 * exit status after printing why the change cannot be made. */
typedef int (*cli_edit_fn)(cli_change *out, const sbx_git_files *files, int attempt,
			   void *payload);

/* Apply `edit` to the repository of cfg and push it. On success writes the
 * pushed commit into oid and returns EXIT_OK; otherwise prints what went
 * wrong and what to do, and returns an exit status. */
int cli_git_change(char oid[SBX_GIT_OID_HEX], const cli_config *cfg, cli_edit_fn edit,
		   void *payload);

/* The git options of cfg's clone (a working tree; each fetch bounded by
 * 120 s). */
void cli_git_options(sbx_git_options *o, const cli_config *cfg);

/* Open the clone of cfg and fetch: for commands that only read the
 * repository. Writes the head into oid and sets *out (caller must
 * sbx_git_free). Prints the error and returns an exit status on failure. */
int cli_git_fetch(sbx_git **out, char oid[SBX_GIT_OID_HEX], const cli_config *cfg);

/* Whether the remote's commit `later` includes our `earlier` one (fetching
 * into the clone when it does not know `later` yet): 1, 0, or -1 when it
 * cannot tell. Prints nothing. */
int cli_git_contains(const cli_config *cfg, const char *later, const char *earlier);

/* The file `path` of files, or NULL. Borrowed. */
const sbx_file *cli_git_file(const sbx_git_files *files, const char *path);

#endif
