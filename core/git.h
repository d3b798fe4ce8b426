/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Git access on libgit2 for the controller and the CLI: a local mirror of
 * one branch of a remote (file://, ssh:// with a key and known_hosts,
 * https:// with a token), a cheap "did the branch move?" check, reading a
 * revision's files straight from the tree (no checkout), and a tree diff
 * that names what changed.
 */
#ifndef SBX_GIT_H
#define SBX_GIT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "diag.h"
#include "render.h"
#include "repo.h"

#define SBX_GIT_OID_HEX 41   /* 40 hex digits and a NUL */

typedef struct sbx_git sbx_git;

typedef struct sbx_git_options {
	const char *url;              /* file:///..., ssh://user@host:port/path, https://... */
	const char *branch;           /* default "main" */
	const char *mirror_dir;       /* local bare mirror, created when missing */
	const char *ssh_key;          /* private key file for ssh:// (NULL: ssh-agent) */
	const char *known_hosts;      /* required for ssh://: the server key is verified against it */
	const char *token_file;       /* https://: a token, sent as the password (re-read each fetch) */
	size_t max_blob;              /* largest file read; default 256 KiB */
	bool worktree;                /* mirror_dir is a clone with a working tree (the CLI's) */
	const char *ca_file;          /* https://: PEM CAs to verify the server with (default: the system's) */
	int timeout_s;                /* bound on each ref check and fetch (a child process does
				       * the network part); 0: unbounded */
} sbx_git_options;

#define SBX_GIT_OPTIONS_INIT { NULL, "main", NULL, NULL, NULL, NULL, 256 * 1024, false, NULL, 0 }

/* Open (creating when missing) the mirror for opts->url. Does no network
 * I/O. With opts->worktree the folder is a normal clone (HEAD on the
 * branch, files checked out by gitwork.c); an existing clone must have
 * opts->url as its "origin". Returns 0 and *out (caller must sbx_git_free), or a negative SBX_E*
 * with the reason in sbx_error_last() (never a token). */
int sbx_git_open(sbx_git **out, const sbx_git_options *opts);

/* Ask the remote where the branch points (one ls-remote round trip, no
 * objects) and write its commit id into `oid` (hex). Returns 0, or
 * SBX_ETRANSPORT / SBX_ENOTFOUND (no such branch) / SBX_EINVAL (host key
 * mismatch, bad credentials) / SBX_ETIMEOUT (past opts.timeout_s) with the
 * reason. */
int sbx_git_remote_head(sbx_git *g, char oid[SBX_GIT_OID_HEX]);

/* Fetch the branch into the mirror and write the fetched commit id into
 * `oid`. A failed or partial fetch leaves the mirror's previous revision
 * usable. */
int sbx_git_fetch(sbx_git *g, char oid[SBX_GIT_OID_HEX]);

/* The same two operations without blocking, for a caller with a loop of
 * its own: the work runs in a child process bounded by opts.timeout_s (0:
 * no bound). Start one, poll sbx_git_job_fd() for POLLIN with a timeout
 * of at most sbx_git_job_wait_ms(), and call sbx_git_job_done() when it is
 * readable or the wait ran out; once that returns true,
 * sbx_git_job_result() gives what the blocking call would have. While a
 * job runs, the handle must not be used otherwise. */
typedef struct sbx_git_job sbx_git_job;

/* Start a ref check (fetch false) or a fetch. Returns 0 and *out (caller
 * must sbx_git_job_free), or SBX_EIO / SBX_ENOMEM. */
int sbx_git_job_start(sbx_git_job **out, sbx_git *g, bool fetch);

/* The descriptor to poll for POLLIN, or -1 once the job is done. */
int sbx_git_job_fd(const sbx_git_job *j);

/* Milliseconds until the job's deadline (0 when past or done; -1: none). */
long sbx_git_job_wait_ms(const sbx_git_job *j);

/* Take what the child sent; past the deadline, kill it. Never blocks.
 * Returns whether the job has finished. */
bool sbx_git_job_done(sbx_git_job *j);

/* A finished job's outcome, as sbx_git_remote_head / sbx_git_fetch return
 * it (the reason in sbx_error_last()); the commit id in oid on success. */
int sbx_git_job_result(const sbx_git_job *j, char oid[SBX_GIT_OID_HEX]);

/* Free a job, killing its child if it still runs. NULL-safe. */
void sbx_git_job_free(sbx_git_job *j);

/* The remote's url as messages show it: without a password. Borrowed
 * from g. */
const char *sbx_git_url(const sbx_git *g);

/* Append url to out as messages may show it: "user:secret@" becomes
 * "user@"; a string that is not a url we take and holds an '@' is not
 * shown at all. Returns 0 or SBX_ENOMEM. */
int sbx_git_redact_url(sbx_buf *out, const char *url);

/* The files of one revision, read from its tree. */
typedef struct sbx_git_files {
	sbx_file *policy;             /* templates/policy.yaml, or NULL when absent */
	sbx_file *templates;          /* templates/ *.yaml except the policy, sorted */
	size_t ntemplates;
	sbx_file *sandboxes;          /* sandboxes/ *.yaml, sorted */
	size_t nsandboxes;
	char **refused;               /* sandboxes/ entries named *.yaml or *.yml that were
				       * refused (symlink, submodule, oversized, *.yml), with
				       * a located error in diags: a sandbox file is there,
				       * but unusable */
	size_t nrefused;
	char commit[SBX_GIT_OID_HEX];
	char *subject;                /* first line of the commit message */
	long long commit_time;        /* committer time, seconds since the epoch */
} sbx_git_files;

/* Read templates/ and sandboxes/ of commit `oid` (hex) from the mirror.
 * Symbolic links, submodules, non-.yaml files (*.yml is reported) and blobs
 * over max_blob are refused per file with a located error in diags (the
 * rest is still read); refused sandbox entries are listed in out->refused. Paths are relative to the repository root. Returns
 * 0 and fills *out (caller must sbx_git_files_dispose), or a negative
 * SBX_E* when the revision cannot be read at all. */
int sbx_git_read(sbx_git_files *out, sbx_git *g, const char *oid, sbx_diags *diags);

void sbx_git_files_dispose(sbx_git_files *f);

/* sbx_repo_load of a revision's files: *out as sbx_repo_load sets it
 * (caller must sbx_repo_free), problems into diags. */
int sbx_git_repo_load(sbx_repo **out, const sbx_git_files *f, sbx_diags *diags);

/* What changed between two revisions (from may be NULL: everything).
 * `all` is set when anything under templates/ changed (every sandbox is
 * affected); `names` lists the sandboxes whose file was added, modified or
 * removed (file name without .yaml), sorted and unique. Caller must
 * sbx_git_changes_dispose. */
typedef struct sbx_git_changes {
	bool all;
	char **names;
	size_t count;
} sbx_git_changes;

int sbx_git_diff(sbx_git_changes *out, sbx_git *g, const char *from_oid, const char *to_oid);

void sbx_git_changes_dispose(sbx_git_changes *c);

/* Counters for metrics and tests: remote head checks and fetches made. */
void sbx_git_stats(const sbx_git *g, unsigned long *head_checks, unsigned long *fetches);

/* ---- the CLI's working clone (opts.worktree; gitwork.c) --------------- */

/* Append one line per local change that would be in the way of a checkout
 * ("  modified:   sandboxes/alice.yaml", untracked files included, ignored
 * ones not), and a line when the local branch has commits the remote
 * branch lacks. Returns how many lines were added (0: clean), or a
 * negative SBX_E*. */
int sbx_git_local_changes(sbx_buf *out, sbx_git *g);

/* Move the clone's branch, index and working tree to commit `oid` (hex,
 * already fetched), refusing to overwrite local changes. */
int sbx_git_checkout(sbx_git *g, const char *oid);

/* Commit a one-file change on top of `parent` (hex): `path` (relative to
 * the repository root) set to `len` bytes of `data`, or removed when data
 * is NULL, with `message` and the author from git's configuration (else
 * the login name). Push it to the branch and, on success, check it out and
 * write its id into `oid`. Returns 0; SBX_ECONFLICT when the remote branch
 * is no longer at `parent` (fetch, redo the change on the new head and try
 * again); SBX_EINVAL when the remote refused the push or the credentials;
 * SBX_ETRANSPORT when it could not be reached. */
int sbx_git_commit_push(char oid[SBX_GIT_OID_HEX], sbx_git *g, const char *parent,
			const char *path, const char *data, size_t len, const char *message);

/* Whether commit `later` (hex) is `earlier` or comes after it. Returns 1,
 * 0, or a negative SBX_E* (SBX_ENOTFOUND when either is not in the clone:
 * fetch first). */
int sbx_git_contains(sbx_git *g, const char *later, const char *earlier);

/* Free. NULL-safe. */
/* The commit `rev` names in the clone: a commit id (or a prefix), a
 * branch (the remote's, origin/BRANCH, first), a tag, or an expression
 * (HEAD~1). Writes it into oid; SBX_ENOTFOUND or SBX_EINVAL with the
 * reason otherwise. */
int sbx_git_resolve(sbx_git *g, const char *rev, char oid[SBX_GIT_OID_HEX]);

void sbx_git_free(sbx_git *g);

#endif
