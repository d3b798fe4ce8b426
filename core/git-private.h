/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What git.c (fetching and reading) and gitwork.c (the CLI's working clone:
 * commit and push) share: the handle's fields and the per-operation
 * helpers. Not installed; only these two files and the tree reader's
 * fuzzer (tests/fuzz/fuzz_gittree.c) include it.
 */
#ifndef SBX_GIT_PRIVATE_H
#define SBX_GIT_PRIVATE_H

#include <git2.h>

#include "git.h"

#define REMOTE "origin"
#define KNOWN_HOSTS_MAX ((size_t)4 << 20)
#define TOKEN_MAX ((size_t)64 << 10)
#define SUBJECT_MAX 1000

enum scheme { SCHEME_FILE, SCHEME_SSH, SCHEME_HTTPS };

struct sbx_git {
	git_repository *repo;
	git_remote *remote;   /* in memory, created once */
	enum scheme scheme;
	char *url;
	char *shown;          /* url without a password, for messages */
	char *secret;         /* password in the url, scrubbed from messages */
	char *mirror_dir;
	char *branch;
	char *refspec;        /* +refs/heads/B:refs/remotes/origin/B */
	char *remote_ref;     /* refs/heads/B */
	char *local_ref;      /* refs/remotes/origin/B */
	char *user;           /* from the url, or NULL */
	char *host;           /* ssh:// and https://: from the url, lowercase */
	int port;             /* from the url; 0 when absent */
	char *ssh_key;
	char *ssh_pub;        /* KEY.pub when it exists, else NULL */
	char *known_hosts;
	char *token_file;
	size_t max_blob;
	unsigned long head_checks;
	unsigned long fetches;
	int cb_code;          /* failure reported by a callback during this operation */
	int cred_tries;
	int inited;
	bool worktree;        /* a clone with a working tree, not a bare mirror */
	char *push_status;    /* the remote's reason for refusing the last push, or NULL */
	char remote_says[400];/* the last line the remote printed during a push ("remote: ...") */
	const char *what;     /* "mirror" or "clone", for messages */
	int timeout_s;        /* bound on a network operation, 0: none */
};

/* Start one network operation: its own error, its own credential budget. */
void sbx_git__begin(sbx_git *g);

/* Remote callbacks: credentials from the options, host keys checked
 * against known_hosts. */
void sbx_git__callbacks_init(git_remote_callbacks *cb, sbx_git *g);

/* Record a libgit2 failure of `what` ("fetching from") in the error set,
 * with passwords scrubbed (unless a callback already said why). Returns
 * the SBX_E* code. */
int sbx_git__fail(sbx_git *g, int error, const char *what);

#endif
