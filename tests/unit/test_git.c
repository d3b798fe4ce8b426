// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for core/git.c against real repositories over file://: each
 * case builds a source repository with the git CLI in a temporary folder,
 * mirrors it, and checks the ref check, fetch, tree reading, refusals and diff.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "diag.h"
#include "error.h"
#include "git.h"

#define PATH_LEN 512
#define CMD_LEN 4096

struct env {
	char root[64];          /* temporary folder, removed by teardown */
	char src[PATH_LEN];     /* source repository (work tree) */
	char url[PATH_LEN];     /* file:// url of src */
	char mirror[PATH_LEN];  /* mirror folder */
};

static void fmt(char *out, size_t n, const char *f, ...) __attribute__((format(printf, 3, 4)));

static void fmt(char *out, size_t n, const char *f, ...)
{
	va_list ap;
	int len;

	va_start(ap, f);
	len = vsnprintf(out, n, f, ap);
	va_end(ap);
	assert_true(len > 0 && (size_t)len < n);
}

/* Run a shell command; it must succeed. */
static void sh(const char *f, ...) __attribute__((format(printf, 1, 2)));

static void sh(const char *f, ...)
{
	char cmd[CMD_LEN];
	va_list ap;
	int len, st;

	va_start(ap, f);
	len = vsnprintf(cmd, sizeof(cmd), f, ap);
	va_end(ap);
	assert_true(len > 0 && (size_t)len < sizeof(cmd));
	st = system(cmd);
	if (st != 0)
		fail_msg("command failed (%d): %s", st, cmd);
}

/* Write a file below the source repository (folders are created). */
static void put(struct env *e, const char *rel, const char *text)
{
	char path[PATH_LEN * 2];
	char *slash;
	FILE *f;

	fmt(path, sizeof(path), "%s/%s", e->src, rel);
	slash = strrchr(path, '/');
	*slash = '\0';
	sh("mkdir -p '%s'", path);
	*slash = '/';
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Write `size` bytes of YAML comment into rel. */
static void put_size(struct env *e, const char *rel, size_t size)
{
	char *text = malloc(size + 1);

	assert_non_null(text);
	memset(text, '#', size);
	text[size - 1] = '\n';
	text[size] = '\0';
	put(e, rel, text);
	free(text);
}

/* Commit the index of the source repository; oid receives the commit id. */
static void commit_index(struct env *e, const char *message, char oid[SBX_GIT_OID_HEX])
{
	char cmd[CMD_LEN];
	FILE *p;

	sh("cd '%s' && git -c user.name=Test -c user.email=test@example.com "
	   "commit -q --allow-empty --allow-empty-message -m '%s'", e->src, message);
	fmt(cmd, sizeof(cmd), "git -C '%s' rev-parse HEAD", e->src);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(oid, SBX_GIT_OID_HEX, p));
	assert_int_equal(pclose(p), 0);
	assert_int_equal(strlen(oid), SBX_GIT_OID_HEX - 1);
}

/* Commit everything in the source repository. */
static void commit(struct env *e, const char *message, char oid[SBX_GIT_OID_HEX])
{
	sh("git -C '%s' add -A", e->src);
	commit_index(e, message, oid);
}

/* The id a ref of the mirror points to. */
static void mirror_ref(struct env *e, const char *ref, char oid[SBX_GIT_OID_HEX])
{
	char cmd[CMD_LEN];
	FILE *p;

	fmt(cmd, sizeof(cmd), "git --git-dir='%s' rev-parse '%s'", e->mirror, ref);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(oid, SBX_GIT_OID_HEX, p));
	assert_int_equal(pclose(p), 0);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	if (!e)
		return -1;
	snprintf(e->root, sizeof(e->root), "/tmp/sbx-git-XXXXXX");
	if (!mkdtemp(e->root)) {
		free(e);
		return -1;
	}
	snprintf(e->src, sizeof(e->src), "%s/src", e->root);
	snprintf(e->url, sizeof(e->url), "file://%s/src", e->root);
	snprintf(e->mirror, sizeof(e->mirror), "%s/mirror", e->root);
	/* Fixed dates: commit_time is checked, and runs are reproducible. */
	setenv("GIT_AUTHOR_DATE", "1700000000 +0000", 1);
	setenv("GIT_COMMITTER_DATE", "1700000000 +0000", 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	char cmd[CMD_LEN];

	if (e) {
		if (snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->root) < (int)sizeof(cmd) &&
		    strncmp(e->root, "/tmp/sbx-git-", 13) == 0)
			(void)!system(cmd);
		free(e);
	}
	return 0;
}

/* A source repository with a policy, two templates and two sandboxes. */
static void base_repo(struct env *e, char oid[SBX_GIT_OID_HEX])
{
	sh("git init -q -b main '%s'", e->src);
	put(e, "templates/policy.yaml", "kind: Policy\n");
	put(e, "templates/ns.yaml", "kind: Namespace\n");
	put(e, "templates/deploy.yaml", "kind: Deployment\n");
	put(e, "templates/README.md", "not read\n");
	put(e, "sandboxes/bob.yaml", "name: bob\n");
	put(e, "sandboxes/alice.yaml", "name: alice\n");
	put(e, "sandboxes/.gitkeep", "");
	put(e, "sandboxes/notes.txt", "ignored\n");
	put(e, "sandboxes/old/carol.yaml", "name: carol\n");   /* one level only */
	put(e, "README.md", "top\n");
	commit(e, "first commit\n\nwith a body", oid);
}

static sbx_git *open_mirror(struct env *e, const char *branch)
{
	sbx_git_options o = SBX_GIT_OPTIONS_INIT;
	sbx_git *g = NULL;
	int r;

	o.url = e->url;
	o.mirror_dir = e->mirror;
	if (branch)
		o.branch = branch;
	r = sbx_git_open(&g, &o);
	if (r != 0)
		fail_msg("sbx_git_open: %s", sbx_error_last());
	return g;
}

static bool has_diag(const sbx_diags *d, const char *path, const char *msg)
{
	for (size_t i = 0; i < d->count; i++)
		if (strcmp(d->items[i].path, path) == 0 && strcmp(d->items[i].message, msg) == 0 &&
		    d->items[i].line == 0)
			return true;
	return false;
}

static void test_git__open_fetch_read(void **state)
{
	struct env *e = *state;
	char want[SBX_GIT_OID_HEX], head[SBX_GIT_OID_HEX], got[SBX_GIT_OID_HEX];
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_git_files f;
	unsigned long checks, fetches;
	sbx_git *g;

	base_repo(e, want);
	g = open_mirror(e, NULL);
	assert_int_equal(sbx_git_remote_head(g, head), 0);
	assert_string_equal(head, want);
	assert_int_equal(sbx_git_fetch(g, got), 0);
	assert_string_equal(got, want);
	mirror_ref(e, "refs/remotes/origin/main", head);
	assert_string_equal(head, want);

	assert_int_equal(sbx_git_read(&f, g, got, &d), 0);
	assert_int_equal(d.count, 0);
	assert_string_equal(f.commit, want);
	assert_string_equal(f.subject, "first commit");
	assert_int_equal(f.commit_time, 1700000000LL);
	assert_non_null(f.policy);
	assert_string_equal(f.policy->path, "templates/policy.yaml");
	assert_int_equal(f.policy->len, strlen("kind: Policy\n"));
	assert_memory_equal(f.policy->data, "kind: Policy\n", f.policy->len);
	assert_int_equal(f.ntemplates, 2);
	assert_string_equal(f.templates[0].path, "templates/deploy.yaml");
	assert_string_equal(f.templates[1].path, "templates/ns.yaml");
	assert_int_equal(f.nsandboxes, 2);
	assert_string_equal(f.sandboxes[0].path, "sandboxes/alice.yaml");
	assert_string_equal(f.sandboxes[0].data, "name: alice\n");
	assert_string_equal(f.sandboxes[1].path, "sandboxes/bob.yaml");
	assert_int_equal(f.sandboxes[1].len, strlen("name: bob\n"));
	sbx_git_files_dispose(&f);
	sbx_git_files_dispose(&f);   /* disposing twice is harmless */

	sbx_git_stats(g, &checks, &fetches);
	assert_int_equal(checks, 1);
	assert_int_equal(fetches, 1);
	sbx_git_free(g);

	/* Reopening finds the fetched revision without any network I/O. */
	g = open_mirror(e, NULL);
	assert_int_equal(sbx_git_read(&f, g, want, &d), 0);
	assert_int_equal(f.nsandboxes, 2);
	sbx_git_files_dispose(&f);
	sbx_git_stats(g, &checks, &fetches);
	assert_int_equal(checks + fetches, 0);
	sbx_git_free(g);
	sbx_diags_dispose(&d);
}

static void test_git__no_policy_no_folders(void **state)
{
	struct env *e = *state;
	char oid[SBX_GIT_OID_HEX], got[SBX_GIT_OID_HEX];
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_git_files f;
	sbx_git *g;

	sh("git init -q -b main '%s'", e->src);
	put(e, "README.md", "only this\n");
	commit(e, "", oid);
	g = open_mirror(e, NULL);
	assert_int_equal(sbx_git_fetch(g, got), 0);
	assert_int_equal(sbx_git_read(&f, g, got, &d), 0);
	assert_null(f.policy);
	assert_int_equal(f.ntemplates + f.nsandboxes, 0);
	assert_string_equal(f.subject, "");
	sbx_git_files_dispose(&f);
	sbx_git_free(g);
	sbx_diags_dispose(&d);
}

static void test_git__head_moves(void **state)
{
	struct env *e = *state;
	char c1[SBX_GIT_OID_HEX], c2[SBX_GIT_OID_HEX], head[SBX_GIT_OID_HEX];
	char got[SBX_GIT_OID_HEX];
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_git_files f;
	unsigned long checks, fetches;
	sbx_git *g;

	base_repo(e, c1);
	g = open_mirror(e, NULL);
	assert_int_equal(sbx_git_fetch(g, got), 0);
	assert_int_equal(sbx_git_remote_head(g, head), 0);
	assert_string_equal(head, c1);

	setenv("GIT_COMMITTER_DATE", "1700000100 +0000", 1);
	put(e, "sandboxes/dave.yaml", "name: dave\n");
	commit(e, "add dave", c2);
	assert_int_equal(sbx_git_remote_head(g, head), 0);
	assert_string_equal(head, c2);
	/* Not fetched yet: the new commit cannot be read. */
	assert_int_equal(sbx_git_read(&f, g, c2, &d), SBX_ENOTFOUND);
	assert_non_null(strstr(sbx_error_last(), c2));
	assert_int_equal(sbx_git_fetch(g, got), 0);
	assert_string_equal(got, c2);
	assert_int_equal(sbx_git_read(&f, g, c2, &d), 0);
	assert_int_equal(f.nsandboxes, 3);
	assert_string_equal(f.sandboxes[2].path, "sandboxes/dave.yaml");
	assert_string_equal(f.subject, "add dave");
	assert_int_equal(f.commit_time, 1700000100LL);
	sbx_git_files_dispose(&f);
	/* The older revision is still there. */
	assert_int_equal(sbx_git_read(&f, g, c1, &d), 0);
	assert_int_equal(f.nsandboxes, 2);
	sbx_git_files_dispose(&f);

	sbx_git_stats(g, &checks, &fetches);
	assert_int_equal(checks, 2);
	assert_int_equal(fetches, 2);
	sbx_git_free(g);
	sbx_diags_dispose(&d);
}

static void assert_changes(sbx_git *g, const char *from, const char *to, bool all,
			   const char *const *names, size_t count)
{
	sbx_git_changes c = { 0 };

	if (sbx_git_diff(&c, g, from, to) != 0)
		fail_msg("sbx_git_diff: %s", sbx_error_last());
	assert_int_equal(c.all, all);
	assert_int_equal(c.count, count);
	for (size_t i = 0; i < count; i++)
		assert_string_equal(c.names[i], names[i]);
	sbx_git_changes_dispose(&c);
}

static void test_git__diff(void **state)
{
	struct env *e = *state;
	char c1[SBX_GIT_OID_HEX], c2[SBX_GIT_OID_HEX], c3[SBX_GIT_OID_HEX];
	char c4[SBX_GIT_OID_HEX], c5[SBX_GIT_OID_HEX], c6[SBX_GIT_OID_HEX];
	char got[SBX_GIT_OID_HEX];
	sbx_git_changes c = { 0 };
	sbx_git *g;

	base_repo(e, c1);
	put(e, "sandboxes/alice.yaml", "name: alice\nsize: large\n");
	commit(e, "alice grows", c2);
	put(e, "templates/ns.yaml", "kind: Namespace\nmetadata: {}\n");
	commit(e, "template change", c3);
	sh("git -C '%s' rm -q sandboxes/bob.yaml", e->src);
	commit(e, "bob leaves", c4);
	sh("git -C '%s' mv sandboxes/alice.yaml sandboxes/erin.yaml", e->src);
	commit(e, "rename", c5);
	put(e, "README.md", "elsewhere\n");
	put(e, "sandboxes/notes.txt", "not a sandbox\n");
	put(e, "sandboxes/old/zed.yaml", "too deep\n");
	commit(e, "unrelated", c6);

	g = open_mirror(e, NULL);
	assert_int_equal(sbx_git_fetch(g, got), 0);
	assert_string_equal(got, c6);

	assert_changes(g, c1, c2, false, (const char *const[]){ "alice" }, 1);
	assert_changes(g, c2, c3, true, NULL, 0);
	assert_changes(g, c3, c4, false, (const char *const[]){ "bob" }, 1);
	assert_changes(g, c4, c5, false, (const char *const[]){ "alice", "erin" }, 2);
	assert_changes(g, c5, c6, false, NULL, 0);
	assert_changes(g, c1, c1, false, NULL, 0);
	/* Several commits at once, and backwards. */
	assert_changes(g, c1, c5, true, (const char *const[]){ "alice", "bob", "erin" }, 3);
	assert_changes(g, c4, c1, true, (const char *const[]){ "alice", "bob" }, 2);
	assert_changes(g, c5, c3, false, (const char *const[]){ "alice", "bob", "erin" }, 3);
	/* From nothing: everything. */
	assert_changes(g, NULL, c1, true, (const char *const[]){ "alice", "bob" }, 2);

	assert_int_equal(sbx_git_diff(&c, g, "0123", c1), SBX_EINVAL);
	assert_int_equal(sbx_git_diff(&c, g, c1, "0000000000000000000000000000000000000001"),
			 SBX_ENOTFOUND);
	assert_null(c.names);
	sbx_git_free(g);
}

static void test_git__refusals(void **state)
{
	struct env *e = *state;
	char c1[SBX_GIT_OID_HEX], c2[SBX_GIT_OID_HEX], got[SBX_GIT_OID_HEX];
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_git_files f;
	sbx_git *g;

	base_repo(e, c1);
	sh("ln -s alice.yaml '%s/sandboxes/link.yaml'", e->src);
	sh("ln -s ../sandboxes/bob.yaml '%s/templates/t.yaml'", e->src);
	put_size(e, "sandboxes/big.yaml", 300000);
	put_size(e, "sandboxes/edge.yaml", 256 * 1024);   /* exactly the limit: read */
	put(e, "sandboxes/frank.yml", "name: frank\n");
	put(e, "sandboxes/run.yaml", "name: run\n");
	sh("chmod +x '%s/sandboxes/run.yaml'", e->src);
	sh("git -C '%s' add -A", e->src);
	sh("git -C '%s' update-index --add --cacheinfo 160000,%s,sandboxes/sub.yaml", e->src, c1);
	sh("git -C '%s' update-index --add --cacheinfo 160000,%s,sandboxes/vendored", e->src, c1);
	commit_index(e, "bad files", c2);

	g = open_mirror(e, NULL);
	assert_int_equal(sbx_git_fetch(g, got), 0);
	assert_int_equal(sbx_git_read(&f, g, got, &d), 0);
	assert_true(has_diag(&d, "sandboxes/link.yaml",
			     "symbolic links are not allowed; commit the file itself"));
	assert_true(has_diag(&d, "templates/t.yaml",
			     "symbolic links are not allowed; commit the file itself"));
	assert_true(has_diag(&d, "sandboxes/big.yaml",
			     "file is 300000 bytes; the limit is 262144 bytes (256 KiB)"));
	assert_true(has_diag(&d, "sandboxes/frank.yml",
			     "files must end in .yaml; rename it to 'frank.yaml'"));
	assert_true(has_diag(&d, "sandboxes/sub.yaml", "submodules are not allowed"));
	assert_true(has_diag(&d, "sandboxes/vendored", "submodules are not allowed"));
	assert_int_equal(d.count, 6);
	/* The rest is still read. */
	assert_int_equal(f.ntemplates, 2);
	assert_int_equal(f.nsandboxes, 4);
	assert_string_equal(f.sandboxes[0].path, "sandboxes/alice.yaml");
	assert_string_equal(f.sandboxes[1].path, "sandboxes/bob.yaml");
	assert_string_equal(f.sandboxes[2].path, "sandboxes/edge.yaml");
	assert_int_equal(f.sandboxes[2].len, 256 * 1024);
	assert_string_equal(f.sandboxes[3].path, "sandboxes/run.yaml");
	/* Each refused sandbox entry is named, so a refused file is not taken
	 * for a removed one; a submodule not named like a file is not. */
	assert_int_equal(f.nrefused, 4);
	assert_string_equal(f.refused[0], "sandboxes/big.yaml");
	assert_string_equal(f.refused[1], "sandboxes/frank.yml");
	assert_string_equal(f.refused[2], "sandboxes/link.yaml");
	assert_string_equal(f.refused[3], "sandboxes/sub.yaml");
	sbx_git_files_dispose(&f);
	sbx_git_free(g);
	sbx_diags_dispose(&d);
}

static void test_git__slash_in_a_name(void **state)
{
	struct env *e = *state;
	char c1[SBX_GIT_OID_HEX], got[SBX_GIT_OID_HEX];
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_git_files f;
	sbx_git *g;

	base_repo(e, c1);
	/* git never writes such a tree (mktree refuses it), a crafted commit
	 * can: sandboxes/ holding "x/bob.yaml" beside alice.yaml */
	sh("cd '%s' && blob=$(git rev-parse HEAD:sandboxes/bob.yaml) && "
	   "alice=$(git rev-parse HEAD:sandboxes/alice.yaml) && "
	   "sub=$(perl -e 'print \"100644 alice.yaml\\0\" . pack(\"H*\", $ARGV[0]) . "
	   "\"100644 x/bob.yaml\\0\" . pack(\"H*\", $ARGV[1])' $alice $blob | "
	   "git hash-object -t tree -w --literally --stdin) && "
	   "root=$(printf '040000 tree %%s\\tsandboxes\\n040000 tree %%s\\ttemplates\\n' $sub "
	   "$(git rev-parse HEAD:templates) | git mktree) && "
	   "git update-ref refs/heads/main $(git commit-tree $root -p HEAD -m crafted)", e->src);
	g = open_mirror(e, NULL);
	assert_int_equal(sbx_git_fetch(g, got), 0);
	assert_int_equal(sbx_git_read(&f, g, got, &d), 0);
	assert_true(has_diag(&d, "sandboxes/x/bob.yaml",
			     "a tree entry whose name holds '/' is not allowed (git does not write one)"));
	assert_int_equal(d.count, 1);
	assert_int_equal(f.nsandboxes, 1);
	assert_string_equal(f.sandboxes[0].path, "sandboxes/alice.yaml");
	assert_int_equal(f.nrefused, 1);
	assert_string_equal(f.refused[0], "sandboxes/x/bob.yaml");
	sbx_git_files_dispose(&f);
	sbx_git_free(g);
	sbx_diags_dispose(&d);
}

static void test_git__max_blob_option(void **state)
{
	struct env *e = *state;
	char c1[SBX_GIT_OID_HEX], got[SBX_GIT_OID_HEX];
	sbx_git_options o = SBX_GIT_OPTIONS_INIT;
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_git_files f;
	sbx_git *g = NULL;

	base_repo(e, c1);
	o.url = e->url;
	o.mirror_dir = e->mirror;
	o.max_blob = 10;
	assert_int_equal(sbx_git_open(&g, &o), 0);
	assert_int_equal(sbx_git_fetch(g, got), 0);
	assert_int_equal(sbx_git_read(&f, g, got, &d), 0);
	/* "name: bob\n" is 10 bytes: kept; "name: alice\n" is 12: refused. */
	assert_int_equal(f.nsandboxes, 1);
	assert_string_equal(f.sandboxes[0].path, "sandboxes/bob.yaml");
	assert_true(has_diag(&d, "sandboxes/alice.yaml", "file is 12 bytes; the limit is 10 bytes"));
	assert_int_equal(f.nrefused, 1);
	assert_string_equal(f.refused[0], "sandboxes/alice.yaml");
	sbx_git_files_dispose(&f);
	sbx_git_free(g);
	sbx_diags_dispose(&d);
}

static void test_git__folder_is_not_a_folder(void **state)
{
	struct env *e = *state;
	char c1[SBX_GIT_OID_HEX], got[SBX_GIT_OID_HEX];
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_git_files f;
	sbx_git *g;

	sh("git init -q -b main '%s'", e->src);
	put(e, "elsewhere/a.yaml", "name: a\n");
	sh("ln -s elsewhere '%s/sandboxes'", e->src);
	put(e, "templates", "a file\n");
	commit(e, "odd layout", c1);
	g = open_mirror(e, NULL);
	assert_int_equal(sbx_git_fetch(g, got), 0);
	assert_int_equal(sbx_git_read(&f, g, got, &d), 0);
	assert_int_equal(f.nsandboxes + f.ntemplates, 0);
	assert_true(has_diag(&d, "sandboxes",
			     "symbolic links are not allowed; commit the folder itself"));
	assert_true(has_diag(&d, "templates", "must be a folder"));
	sbx_git_files_dispose(&f);
	sbx_git_free(g);
	sbx_diags_dispose(&d);
}

static void test_git__failed_fetch_keeps_revision(void **state)
{
	struct env *e = *state;
	char c1[SBX_GIT_OID_HEX], c2[SBX_GIT_OID_HEX], got[SBX_GIT_OID_HEX];
	char ref[SBX_GIT_OID_HEX], moved[PATH_LEN + 8], blob[SBX_GIT_OID_HEX];
	char cmd[CMD_LEN];
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_git_files f;
	FILE *p;
	sbx_git *g;

	base_repo(e, c1);
	g = open_mirror(e, NULL);
	assert_int_equal(sbx_git_fetch(g, got), 0);

	/* A partial fetch: the new commit's blob is missing on the remote. */
	put(e, "sandboxes/gina.yaml", "name: gina\nunique: 7f3a\n");
	commit(e, "add gina", c2);
	fmt(cmd, sizeof(cmd), "git -C '%s' rev-parse HEAD:sandboxes/gina.yaml", e->src);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(blob, sizeof(blob), p));
	assert_int_equal(pclose(p), 0);
	sh("rm -f '%s/.git/objects/%.2s/%s'", e->src, blob, blob + 2);
	assert_int_not_equal(sbx_git_fetch(g, got), 0);
	mirror_ref(e, "refs/remotes/origin/main", ref);
	assert_string_equal(ref, c1);

	/* The remote disappears. */
	fmt(moved, sizeof(moved), "%s-gone", e->src);
	assert_int_equal(rename(e->src, moved), 0);
	assert_int_equal(sbx_git_fetch(g, got), SBX_ETRANSPORT);
	assert_non_null(strstr(sbx_error_last(), e->url));
	assert_int_equal(sbx_git_remote_head(g, got), SBX_ETRANSPORT);
	assert_non_null(strstr(sbx_error_last(), e->url));
	mirror_ref(e, "refs/remotes/origin/main", ref);
	assert_string_equal(ref, c1);
	assert_int_equal(sbx_git_read(&f, g, c1, &d), 0);
	assert_int_equal(f.nsandboxes, 2);
	assert_int_equal(d.count, 0);
	sbx_git_files_dispose(&f);
	sbx_git_free(g);
	sbx_diags_dispose(&d);
}

static void test_git__missing_branch(void **state)
{
	struct env *e = *state;
	char c1[SBX_GIT_OID_HEX], got[SBX_GIT_OID_HEX];
	sbx_git *g;

	base_repo(e, c1);
	g = open_mirror(e, "release");
	assert_int_equal(sbx_git_remote_head(g, got), SBX_ENOTFOUND);
	assert_non_null(strstr(sbx_error_last(), "branch 'release' does not exist"));
	assert_int_equal(sbx_git_fetch(g, got), SBX_ENOTFOUND);
	assert_non_null(strstr(sbx_error_last(), "branch 'release' does not exist"));
	sbx_git_free(g);

	/* Another branch of the same repository is mirrored on its own. */
	sh("git -C '%s' branch release", e->src);
	g = open_mirror(e, "release");
	assert_int_equal(sbx_git_fetch(g, got), 0);
	assert_string_equal(got, c1);
	mirror_ref(e, "refs/remotes/origin/release", got);
	assert_string_equal(got, c1);
	sbx_git_free(g);
}

static void test_git__bad_options(void **state)
{
	struct env *e = *state;
	sbx_git_options o = SBX_GIT_OPTIONS_INIT;
	sbx_diags d = SBX_DIAGS_INIT;
	char c1[SBX_GIT_OID_HEX];
	sbx_git_files f;
	sbx_git *g = NULL;

	assert_int_equal(sbx_git_open(&g, &o), SBX_EUSAGE);
	o.mirror_dir = e->mirror;
	o.url = "/not/a/url";
	assert_int_equal(sbx_git_open(&g, &o), SBX_EINVAL);
	assert_string_equal(sbx_error_last(), "repository url '/not/a/url' is not a file://, "
			    "ssh:// or https:// url");
	o.url = "http://example.com/repo.git";
	assert_int_equal(sbx_git_open(&g, &o), SBX_EINVAL);
	o.url = "ssh://git@example.com/repo.git";
	assert_int_equal(sbx_git_open(&g, &o), SBX_EINVAL);
	assert_non_null(strstr(sbx_error_last(), "needs a known_hosts file"));
	o.known_hosts = "/nonexistent/known_hosts";
	assert_int_equal(sbx_git_open(&g, &o), SBX_EINVAL);
	assert_non_null(strstr(sbx_error_last(), "cannot read known_hosts '/nonexistent/known_hosts'"));
	o.known_hosts = NULL;
	o.url = "https://user:hunter2@example.com/repo.git";
	o.token_file = "/nonexistent/token";
	assert_int_equal(sbx_git_open(&g, &o), SBX_EINVAL);
	assert_null(strstr(sbx_error_last(), "hunter2"));
	o.token_file = NULL;
	o.url = e->url;
	o.branch = "bad..name";
	assert_int_equal(sbx_git_open(&g, &o), SBX_EINVAL);
	assert_string_equal(sbx_error_last(), "'bad..name' is not a valid branch name");
	assert_null(g);

	/* A folder that holds something else is not taken over. */
	base_repo(e, c1);
	o.branch = NULL;   /* "main" */
	o.mirror_dir = e->root;
	assert_int_equal(sbx_git_open(&g, &o), SBX_EINVAL);
	assert_non_null(strstr(sbx_error_last(), "is not empty and not a git repository"));
	o.mirror_dir = e->mirror;
	assert_int_equal(sbx_git_open(&g, &o), 0);
	assert_int_equal(sbx_git_read(&f, g, "main", &d), SBX_EINVAL);
	assert_int_equal(sbx_git_read(&f, g, c1, &d), SBX_ENOTFOUND);
	assert_non_null(strstr(sbx_error_last(), "fetch it first"));
	sbx_git_free(g);
	sbx_git_free(NULL);
	sbx_diags_dispose(&d);
}

static void test_git__url_change_and_secrets(void **state)
{
	struct env *e = *state;
	sbx_git_options o = SBX_GIT_OPTIONS_INIT;
	char c1[SBX_GIT_OID_HEX], got[SBX_GIT_OID_HEX], token[PATH_LEN + 8];
	FILE *t;
	sbx_git *g = NULL;

	base_repo(e, c1);
	fmt(token, sizeof(token), "%s/token", e->root);
	t = fopen(token, "w");
	assert_non_null(t);
	fputs("tok-do-not-print\n", t);
	fclose(t);
	/* Nothing listens on port 1: the failure names the url, never the secrets. */
	o.url = "https://user:hunter2@127.0.0.1:1/repo.git";
	o.mirror_dir = e->mirror;
	o.token_file = token;
	assert_int_equal(sbx_git_open(&g, &o), 0);
	assert_int_equal(sbx_git_remote_head(g, got), SBX_ETRANSPORT);
	assert_non_null(strstr(sbx_error_last(), "'https://user@127.0.0.1:1/repo.git'"));
	assert_null(strstr(sbx_error_last(), "hunter2"));
	assert_null(strstr(sbx_error_last(), "tok-do-not-print"));
	assert_int_equal(sbx_git_fetch(g, got), SBX_ETRANSPORT);
	assert_null(strstr(sbx_error_last(), "hunter2"));
	sbx_git_free(g);

	/* The same mirror pointed back at the file:// url works. */
	g = open_mirror(e, NULL);
	assert_int_equal(sbx_git_fetch(g, got), 0);
	assert_string_equal(got, c1);
	sbx_git_free(g);
}

/* A url as messages, logs, status and metrics may show it: never with a
 * password. */
static void test_git__redact_url(void **state)
{
	static const char *const rows[][2] = {
		{ "https://bot:canary-token@git.example.com/r.git", "https://bot@git.example.com/r.git" },
		{ "https://git.example.com/r.git", "https://git.example.com/r.git" },
		{ "ssh://git@host:2222/r.git", "ssh://git@host:2222/r.git" },
		{ "ssh://git:pw@host/r.git", "ssh://git@host/r.git" },
		{ "file:///srv/r.git", "file:///srv/r.git" },
		{ "git@host:r.git", "git@host:r.git" },
		{ "ftp://u:canary@host/r", "(a url that is not valid, hidden)" },
		{ "https://u:canary@", "(a url that is not valid, hidden)" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		sbx_buf b = SBX_BUF_INIT;

		assert_int_equal(sbx_git_redact_url(&b, rows[i][0]), 0);
		assert_string_equal(sbx_buf_cstr(&b), rows[i][1]);
		sbx_buf_dispose(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_git__open_fetch_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_git__no_policy_no_folders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_git__head_moves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_git__diff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_git__refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_git__slash_in_a_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_git__max_blob_option, setup, teardown),
		cmocka_unit_test_setup_teardown(test_git__folder_is_not_a_folder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_git__failed_fetch_keeps_revision, setup, teardown),
		cmocka_unit_test_setup_teardown(test_git__missing_branch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_git__bad_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_git__url_change_and_secrets, setup, teardown),
		cmocka_unit_test(test_git__redact_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
