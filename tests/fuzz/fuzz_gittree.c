// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for the git tree reader (sbx_git_read): the input
 * describes a commit that a hostile repository could hold, written as raw
 * objects (so names with '/', empty or repeated names, unsorted entries and
 * odd modes all reach the reader, as git's own tools would never write
 * them) into an in-memory object store, then read. Whatever the trees say,
 * every file handed over must be a *.yaml straight in templates/ or
 * sandboxes/, not hidden, within the size limit; every refusal a
 * sandboxes/ path; the subject one bounded line.
 *
 * Input: one byte choosing the root's entries for templates/ and
 * sandboxes/ (two bits each: a tree, or a file or a symbolic link whose
 * object is missing, since the reader refuses those by mode, or absent), the
 * commit message up to a NUL, then entries until the end, each
 *   [byte: bit 7 the folder, bits 0-2 the mode, bits 3-4 the target]
 *   [name up to a NUL] [a length byte and that many bytes of blob]
 * where the target is a blob of those bytes, a missing object or the empty
 * tree (the blob bytes are then skipped).
 */
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>

#include "buf.h"
#include "git-private.h"

#define MAX_BLOB 128

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[4096];   /* $TMPDIR/fuzz-gittree-XXXXXX, removed once open */

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_dir(void)
{
	nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

struct input {
	const uint8_t *p, *end;
};

static int take_byte(struct input *in)
{
	return in->p < in->end ? *in->p++ : -1;
}

/* Bytes up to a NUL (or the end), without it. */
static const char *take_string(struct input *in, size_t *len)
{
	const uint8_t *start = in->p, *nul = memchr(in->p, 0, (size_t)(in->end - in->p));

	*len = (size_t)((nul ? nul : in->end) - start);
	in->p = nul ? nul + 1 : in->end;
	return (const char *)start;
}

/* One raw tree entry: "MODE NAME\0" and the 20 bytes of the id. */
static void put_entry(sbx_buf *tree, const char *mode, const char *name, size_t len,
		      const git_oid *id)
{
	sbx_buf_printf(tree, "%s ", mode);
	sbx_buf_put(tree, name, len);
	sbx_buf_putc(tree, '\0');
	sbx_buf_put(tree, id->id, GIT_OID_RAWSZ);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* A file handed over: folder/NAME.yaml, one level, not hidden, bounded. */
static void check_file(const sbx_file *f, const char *folder)
{
	const char *name;

	if (strncmp(f->path, folder, strlen(folder)) != 0)
		__builtin_trap();
	name = f->path + strlen(folder);
	if (!*name || strchr(name, '/') || name[0] == '.' || !ends_with(name, ".yaml") ||
	    f->len > MAX_BLOB || f->data[f->len] != '\0')
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const modes[] = { "100644", "100755", "120000", "160000", "40000",
					     "100664", "0", "644" };
	static sbx_git *g;
	static git_odb *odb;
	static git_odb_backend *mem;
	struct input in = { data, data + size };
	sbx_buf folders[2] = { SBX_BUF_INIT, SBX_BUF_INIT }, root = SBX_BUF_INIT, commit = SBX_BUF_INIT;
	git_oid blob_id, empty_id, missing, commit_id, folder_id[2], root_id;
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_git_files files;
	char hex[GIT_OID_HEXSZ + 1];
	const char *msg;
	size_t msg_len;
	int sel, b;

	if (!g) {
		sbx_git_options o = SBX_GIT_OPTIONS_INIT;

		snprintf(dir, sizeof(dir), "%s/fuzz-gittree-XXXXXX",
			 getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (!mkdtemp(dir))
			__builtin_trap();
		o.url = "file:///nonexistent/repository";
		o.mirror_dir = dir;
		o.max_blob = MAX_BLOB;
		if (sbx_git_open(&g, &o) < 0 || git_repository_odb(&odb, g->repo) < 0 ||
		    git_mempack_new(&mem) < 0 || git_odb_add_backend(odb, mem, 1000) < 0)
			__builtin_trap();
		remove_dir();   /* every object is in memory from here on */
		git_libgit2_opts(GIT_OPT_ENABLE_CACHING, 0);   /* so memory stays flat */
	}
	git_mempack_reset(mem);
	if ((sel = take_byte(&in)) < 0)
		return 0;
	msg = take_string(&in, &msg_len);
	memset(missing.id, 0xab, sizeof(missing.id));
	if (git_odb_write(&empty_id, odb, "", 0, GIT_OBJECT_TREE) < 0)
		__builtin_trap();
	while ((b = take_byte(&in)) >= 0) {
		size_t name_len, len;
		const char *name = take_string(&in, &name_len);
		const git_oid *target = &blob_id;
		int n = take_byte(&in);

		len = n < 0 ? 0 : (size_t)n;
		if (len > (size_t)(in.end - in.p))
			len = (size_t)(in.end - in.p);
		switch (b >> 3 & 3) {
		case 0:
			if (git_odb_write(&blob_id, odb, in.p, len, GIT_OBJECT_BLOB) < 0)
				__builtin_trap();
			break;
		case 1: target = &missing; break;
		default: target = &empty_id; break;
		}
		in.p += len;
		put_entry(&folders[b >> 7 & 1], modes[b & 7], name, name_len, target);
	}
	for (int i = 0; i < 2; i++)
		if (folders[i].failed ||
		    git_odb_write(&folder_id[i], odb, folders[i].ptr ? folders[i].ptr : "",
				  folders[i].len, GIT_OBJECT_TREE) < 0)
			__builtin_trap();
	/* the root, sorted as git sorts it: sandboxes before templates */
	for (int i = 0; i < 2; i++) {
		static const char *const names[] = { "sandboxes", "templates" };
		static const char *const root_modes[] = { "40000", "100644", "120000", NULL };
		const char *mode = root_modes[sel >> (2 * i) & 3];

		if (mode)
			put_entry(&root, mode, names[i], strlen(names[i]),
				  strcmp(mode, "40000") == 0 ? &folder_id[i] : &missing);
	}
	if (root.failed || git_odb_write(&root_id, odb, root.ptr ? root.ptr : "", root.len,
					 GIT_OBJECT_TREE) < 0)
		__builtin_trap();
	git_oid_tostr(hex, sizeof(hex), &root_id);
	sbx_buf_printf(&commit, "tree %s\nauthor A <a@example.com> 1 +0000\n"
		       "committer A <a@example.com> 1 +0000\n\n", hex);
	sbx_buf_put(&commit, msg, msg_len);
	if (commit.failed || git_odb_write(&commit_id, odb, commit.ptr, commit.len,
					   GIT_OBJECT_COMMIT) < 0)
		__builtin_trap();
	git_oid_tostr(hex, sizeof(hex), &commit_id);
	if (sbx_git_read(&files, g, hex, &d) == 0) {
		if (files.policy) {
			check_file(files.policy, "templates/");
			if (strcmp(files.policy->path, "templates/policy.yaml") != 0)
				__builtin_trap();
		}
		for (size_t i = 0; i < files.ntemplates; i++)
			check_file(&files.templates[i], "templates/");
		for (size_t i = 0; i < files.nsandboxes; i++)
			check_file(&files.sandboxes[i], "sandboxes/");
		for (size_t i = 0; i < files.nrefused; i++)
			if (strncmp(files.refused[i], "sandboxes/", 10) != 0)
				__builtin_trap();
		if (strchr(files.subject, '\n') || strlen(files.subject) > SUBJECT_MAX)
			__builtin_trap();
		sbx_git_files_dispose(&files);
	}
	sbx_diags_dispose(&d);
	sbx_buf_dispose(&folders[0]);
	sbx_buf_dispose(&folders[1]);
	sbx_buf_dispose(&root);
	sbx_buf_dispose(&commit);
	return 0;
}
