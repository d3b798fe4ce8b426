// SPDX-License-Identifier: Apache-2.0
/*
 * The CLI's side of git: a working clone the developer can look into,
 * checked for local changes before anything is written, moved to the
 * remote's head after each fetch, and one-file commits pushed straight
 * from a tree (no index, no merge): a push the remote refuses because the
 * branch moved is reported as SBX_ECONFLICT so the caller can redo its
 * change on the new head.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "git-private.h"

#define PUSH_REF "refs/sandbox/push"   /* the commit being pushed */

static const char *git_message(void)
{
	const git_error *e = git_error_last();

	return e && e->message ? e->message : "unknown error";
}

static const char *status_word(unsigned int s)
{
	if (s & (GIT_STATUS_INDEX_NEW))
		return "new file";
	if (s & (GIT_STATUS_INDEX_DELETED | GIT_STATUS_WT_DELETED))
		return "deleted";
	if (s & (GIT_STATUS_INDEX_RENAMED | GIT_STATUS_WT_RENAMED))
		return "renamed";
	if (s & GIT_STATUS_WT_NEW)
		return "untracked";
	if (s & GIT_STATUS_CONFLICTED)
		return "conflicted";
	return "modified";
}

int sbx_git_local_changes(sbx_buf *out, sbx_git *g)
{
	git_status_options so;
	git_status_list *list = NULL;
	git_oid local, remote;
	size_t ahead = 0, behind = 0;
	int n = 0, r = 0;

	sbx_error_clear();
	git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
	so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS |
		   GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	if (git_status_list_new(&list, g->repo, &so) < 0) {
		r = sbx_error_set(SBX_EIO, "cannot read the state of the clone '%s': %s",
				  g->mirror_dir, git_message());
		goto done;
	}
	for (size_t i = 0; i < git_status_list_entrycount(list); i++) {
		const git_status_entry *e = git_status_byindex(list, i);
		const git_diff_delta *d = e->index_to_workdir ? e->index_to_workdir : e->head_to_index;
		char word[16];

		if (e->status == GIT_STATUS_CURRENT || (e->status & GIT_STATUS_IGNORED) || !d)
			continue;
		snprintf(word, sizeof(word), "%s:", status_word(e->status));
		sbx_buf_printf(out, "  %-12s%s\n", word,
			       d->new_file.path ? d->new_file.path : d->old_file.path);
		n++;
	}
	if (git_reference_name_to_id(&local, g->repo, g->remote_ref) == 0 &&
	    git_reference_name_to_id(&remote, g->repo, g->local_ref) == 0 &&
	    git_graph_ahead_behind(&ahead, &behind, g->repo, &local, &remote) == 0 && ahead > 0) {
		sbx_buf_printf(out, "  %zu local commit%s on '%s' not on the remote\n", ahead,
			       ahead == 1 ? "" : "s", g->branch);
		n++;
	}
	r = out->failed ? SBX_ENOMEM : n;
done:
	git_status_list_free(list);
	return r;
}

int sbx_git_checkout(sbx_git *g, const char *oid)
{
	git_checkout_options co;
	git_object *target = NULL;
	git_reference *ref = NULL;
	git_oid id;
	int r = 0;

	sbx_error_clear();
	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_SAFE;
	if (git_oid_fromstr(&id, oid) < 0 ||
	    git_object_lookup(&target, g->repo, &id, GIT_OBJECT_COMMIT) < 0) {
		r = sbx_error_set(SBX_ENOTFOUND, "commit '%s' is not in the clone '%s'", oid,
				  g->mirror_dir);
		goto done;
	}
	if (git_checkout_tree(g->repo, target, &co) < 0 ||
	    git_reference_create(&ref, g->repo, g->remote_ref, &id, 1, "sandbox: update") < 0 ||
	    git_repository_set_head(g->repo, g->remote_ref) < 0)
		r = sbx_error_set(SBX_EIO, "cannot check out '%.12s' in the clone '%s': %s", oid,
				  g->mirror_dir, git_message());
done:
	git_reference_free(ref);
	git_object_free(target);
	return r;
}

/* The author: git's user.name/user.email, else the login name at this host. */
static int signature(git_signature **out, sbx_git *g)
{
	const struct passwd *pw;
	char host[256] = "localhost", email[600];
	const char *login;

	if (git_signature_default(out, g->repo) == 0)
		return 0;
	pw = getpwuid(getuid());
	login = getenv("USER");
	if (!login || !*login)
		login = pw ? pw->pw_name : "sandbox";
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(email, sizeof(email), "%s@%s", login, host);
	return git_signature_now(out, login, email);
}

static int push_update(const char *refname, const char *status, void *payload)
{
	sbx_git *g = payload;

	(void)refname;
	if (status && !g->push_status)
		g->push_status = strdup(status);
	return 0;
}

/* Keep the last non-empty line the remote printed (hooks explain refusals there). */
static int sideband(const char *str, int len, void *payload)
{
	sbx_git *g = payload;
	const char *end = str + len, *line = str;

	while (end > str && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	for (const char *c = str; c < end; c++)
		if (*c == '\n' || *c == '\r')
			line = c + 1;
	if (end > line) {
		size_t n = (size_t)(end - line);

		if (n >= sizeof(g->remote_says))
			n = sizeof(g->remote_says) - 1;
		memcpy(g->remote_says, line, n);
		g->remote_says[n] = '\0';
		for (char *c = g->remote_says; *c; c++)
			if ((unsigned char)*c < 0x20)
				*c = ' ';
	}
	return 0;
}

/* Whether the remote's reason for refusing an update means "the branch moved". */
static bool moved(const char *status)
{
	static const char *const words[] = { "non-fast-forward", "fetch first", "stale info",
					     "failed to lock", "cannot lock ref", "failed to update ref" };

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(status, words[i]))
			return true;
	return false;
}

static int build_commit(git_oid *out, sbx_git *g, const char *parent, const char *path,
			const char *data, size_t len, const char *message)
{
	git_commit *pc = NULL;
	git_tree *ptree = NULL, *tree = NULL;
	git_signature *sig = NULL;
	git_tree_update up = { 0 };
	git_oid pid, tid;
	int r = 0;

	if (git_oid_fromstr(&pid, parent) < 0 || git_commit_lookup(&pc, g->repo, &pid) < 0) {
		r = sbx_error_set(SBX_ENOTFOUND, "commit '%s' is not in the clone '%s'; fetch it "
				  "first", parent, g->mirror_dir);
		goto done;
	}
	up.action = data ? GIT_TREE_UPDATE_UPSERT : GIT_TREE_UPDATE_REMOVE;
	up.filemode = GIT_FILEMODE_BLOB;
	up.path = path;
	if (git_commit_tree(&ptree, pc) < 0 ||
	    (data && git_blob_create_from_buffer(&up.id, g->repo, data, len) < 0) ||
	    git_tree_create_updated(&tid, g->repo, ptree, 1, &up) < 0 ||
	    git_tree_lookup(&tree, g->repo, &tid) < 0 || signature(&sig, g) < 0 ||
	    git_commit_create(out, g->repo, NULL, sig, sig, NULL, message, tree, 1,
			      (const git_commit **)&pc) < 0)
		r = sbx_error_set(SBX_EIO, "cannot commit '%s' in the clone '%s': %s", path,
				  g->mirror_dir, git_message());
done:
	git_signature_free(sig);
	git_tree_free(tree);
	git_tree_free(ptree);
	git_commit_free(pc);
	return r;
}

int sbx_git_commit_push(char oid[SBX_GIT_OID_HEX], sbx_git *g, const char *parent,
			const char *path, const char *data, size_t len, const char *message)
{
	git_push_options po;
	git_reference *pending = NULL;
	git_oid id;
	char hex[SBX_GIT_OID_HEX], spec[SBX_GIT_OID_HEX + 300];
	char *specp = spec;
	git_strarray specs = { &specp, 1 };
	int e, r;

	sbx_git__begin(g);
	free(g->push_status);
	g->push_status = NULL;
	if ((r = build_commit(&id, g, parent, path, data, len, message)) < 0)
		goto done;
	git_oid_tostr(hex, sizeof(hex), &id);
	/* libgit2 pushes references, not bare commit ids */
	if (git_reference_create(&pending, g->repo, PUSH_REF, &id, 1, "sandbox: to push") < 0) {
		r = sbx_error_set(SBX_EIO, "cannot record the commit in the clone '%s': %s",
				  g->mirror_dir, git_message());
		goto done;
	}
	snprintf(spec, sizeof(spec), PUSH_REF ":%s", g->remote_ref);
	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	sbx_git__callbacks_init(&po.callbacks, g);
	po.callbacks.push_update_reference = push_update;
	po.callbacks.sideband_progress = sideband;
	g->remote_says[0] = '\0';
	po.proxy_opts.type = GIT_PROXY_AUTO;
	po.follow_redirects = GIT_REMOTE_REDIRECT_NONE;   /* never to another server */
	e = git_remote_push(g->remote, &specs, &po);
	if (e == GIT_ENONFASTFORWARD && !g->cb_code) {
		r = sbx_error_set(SBX_ECONFLICT, "branch '%s' of '%s' moved since the fetch",
				  g->branch, g->shown);
		goto done;
	}
	if (e < 0 || g->cb_code) {
		r = sbx_git__fail(g, e, "pushing to");
		goto done;
	}
	if (g->push_status) {
		r = moved(g->push_status) ?
			sbx_error_set(SBX_ECONFLICT, "branch '%s' of '%s' moved since the fetch (%s)",
				      g->branch, g->shown, g->push_status) :
			sbx_error_set(SBX_EINVAL, "'%s' refused the push to branch '%s': %s%s%s%s; "
				      "check that you may push there", g->shown, g->branch,
				      g->push_status, *g->remote_says ? " (remote: " : "",
				      g->remote_says, *g->remote_says ? ")" : "");
		goto done;
	}
	/* The remote has it: the clone follows (its origin ref too, for the next status). */
	if (git_reference_create(NULL, g->repo, g->local_ref, &id, 1, "sandbox: push") < 0) {
		r = sbx_error_set(SBX_EIO, "pushed, but cannot update '%s' in the clone '%s': %s",
				  g->local_ref, g->mirror_dir, git_message());
		goto done;
	}
	if ((r = sbx_git_checkout(g, hex)) < 0)
		goto done;
	memcpy(oid, hex, SBX_GIT_OID_HEX);
done:
	if (pending)
		git_reference_delete(pending);
	git_reference_free(pending);
	return r;
}

int sbx_git_contains(sbx_git *g, const char *later, const char *earlier)
{
	git_oid a, b;
	int r;

	sbx_error_clear();
	if (git_oid_fromstr(&a, later) < 0 || git_oid_fromstr(&b, earlier) < 0)
		return sbx_error_set(SBX_EINVAL, "not a commit id");
	if (git_oid_equal(&a, &b))
		return 1;
	r = git_graph_descendant_of(g->repo, &a, &b);
	if (r < 0)
		return sbx_error_set(SBX_ENOTFOUND, "commit '%.12s' or '%.12s' is not in the clone "
				     "'%s'", later, earlier, g->mirror_dir);
	return r;
}

int sbx_git_resolve(sbx_git *g, const char *rev, char oid[SBX_GIT_OID_HEX])
{
	git_object *obj = NULL, *commit = NULL;
	sbx_buf remote = SBX_BUF_INIT;
	int r;

	sbx_error_clear();
	/* a branch name means the remote's: the clone's own may lag */
	sbx_buf_printf(&remote, "origin/%s", rev);
	r = git_revparse_single(&obj, g->repo, sbx_buf_cstr(&remote));
	if (r < 0)
		r = git_revparse_single(&obj, g->repo, rev);
	sbx_buf_dispose(&remote);
	if (r < 0)
		return sbx_error_set(SBX_ENOTFOUND, "no revision '%s' in the clone '%s' (a commit id, a "
				     "branch, a tag, or an expression such as HEAD~1)", rev, g->mirror_dir);
	r = git_object_peel(&commit, obj, GIT_OBJECT_COMMIT);
	git_object_free(obj);
	if (r < 0)
		return sbx_error_set(SBX_EINVAL, "'%s' does not name a commit", rev);
	git_oid_tostr(oid, SBX_GIT_OID_HEX, git_object_id(commit));
	git_object_free(commit);
	return 0;
}
