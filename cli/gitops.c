// SPDX-License-Identifier: Apache-2.0
/*
 * The write path of the CLI: clone, fetch, edit one file, validate as lint
 * does, commit, push, and redo the edit on the new head when someone
 * pushed first. See gitops.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "diag.h"
#include "error.h"
#include "gitops.h"
#include "repo.h"

#define MAX_ATTEMPTS 5

const sbx_file *cli_git_file(const sbx_git_files *files, const char *path)
{
	if (files->policy && strcmp(files->policy->path, path) == 0)
		return files->policy;
	for (size_t i = 0; i < files->ntemplates; i++)
		if (strcmp(files->templates[i].path, path) == 0)
			return &files->templates[i];
	for (size_t i = 0; i < files->nsandboxes; i++)
		if (strcmp(files->sandboxes[i].path, path) == 0)
			return &files->sandboxes[i];
	return NULL;
}

/* Tell people what a git failure means and what to try. */
static int git_error(const cli_config *cfg, int r)
{
	const char *hint = "";

	if (r == SBX_ETRANSPORT)
		hint = "; check the repository url ('sandbox config') and the network";
	else if (r == SBX_EINVAL && strstr(sbx_error_last(), "authentication") &&
		 strncmp(cfg->value[CFG_REPO], "https://", 8) != 0 &&
		 strncmp(cfg->value[CFG_REPO], "file://", 7) != 0)
		hint = cfg->value[CFG_GIT_SSH_KEY] ? "" :
		       " (the key comes from ssh-agent: is SSH_AUTH_SOCK set and the key "
		       "added? or give --git-ssh-key)";
	return cli_error(EXIT_INVALID, "%s%s", sbx_error_last(), hint);
}

void cli_git_options(sbx_git_options *o, const cli_config *cfg)
{
	o->url = cfg->value[CFG_REPO];
	o->branch = cfg->value[CFG_BRANCH];
	o->mirror_dir = cfg->value[CFG_CLONE];
	o->ssh_key = cfg->value[CFG_GIT_SSH_KEY];
	o->known_hosts = cfg->value[CFG_GIT_KNOWN_HOSTS];
	o->token_file = cfg->value[CFG_GIT_TOKEN_FILE];
	o->ca_file = cfg->value[CFG_GIT_CA_FILE];
	o->timeout_s = 120;   /* each fetch; the push itself is not bounded (Ctrl-C works) */
	o->worktree = true;
}

static int open_clone(sbx_git **out, const cli_config *cfg)
{
	sbx_git_options o = SBX_GIT_OPTIONS_INIT;
	int r;

	if (!cfg->value[CFG_REPO])
		return cli_error(EXIT_USAGE, "no GitOps repository is configured; set 'repo: URL' "
				 "in %s, or SANDBOX_REPO, or pass --repo-url URL", cfg->file);
	cli_git_options(&o, cfg);
	r = sbx_git_open(out, &o);
	return r < 0 ? git_error(cfg, r) : EXIT_OK;
}

int cli_git_contains(const cli_config *cfg, const char *later, const char *earlier)
{
	sbx_git_options o = SBX_GIT_OPTIONS_INIT;
	sbx_git *g = NULL;
	char head[SBX_GIT_OID_HEX];
	int r;

	cli_git_options(&o, cfg);
	r = sbx_git_open(&g, &o);
	if (r == 0) {
		r = sbx_git_contains(g, later, earlier);
		if (r == SBX_ENOTFOUND && sbx_git_fetch(g, head) == 0)
			r = sbx_git_contains(g, later, earlier);
	}
	sbx_git_free(g);
	return r < 0 ? -1 : r;
}

/* Fetch and move the (clean) clone to the remote's head. */
static int fetch(sbx_git *g, char head[SBX_GIT_OID_HEX], const cli_config *cfg)
{
	int r = sbx_git_fetch(g, head);

	if (r == 0)
		r = sbx_git_checkout(g, head);
	return r < 0 ? git_error(cfg, r) : EXIT_OK;
}

static int refuse_local_changes(sbx_git *g, const cli_config *cfg)
{
	sbx_buf list = SBX_BUF_INIT;
	int n = sbx_git_local_changes(&list, g), status = EXIT_OK;

	if (n < 0)
		status = git_error(cfg, n);
	else if (n > 0)
		status = cli_error(EXIT_INVALID, "the clone '%s' has local changes:\n%scommit and "
				   "push them with git, or move them away (git -C '%s' stash -u), "
				   "then run this again", cfg->value[CFG_CLONE],
				   sbx_buf_cstr(&list), cfg->value[CFG_CLONE]);
	sbx_buf_dispose(&list);
	return status;
}

int cli_git_fetch(sbx_git **out, char oid[SBX_GIT_OID_HEX], const cli_config *cfg)
{
	sbx_git *g = NULL;
	int status = open_clone(&g, cfg);

	if (status == EXIT_OK)
		status = refuse_local_changes(g, cfg);
	if (status == EXIT_OK)
		status = fetch(g, oid, cfg);
	if (status == EXIT_OK)
		*out = g;
	else
		sbx_git_free(g);
	return status;
}

/* The repository's files with the change made. The list is new (caller
 * must free *list); the files are borrowed from `files`, `c` and `mine`
 * (filled here). */
static int changed_files(sbx_repo_files *out, sbx_file **newlist, sbx_file *mine,
			 const sbx_git_files *files, const cli_change *c)
{
	bool is_template = strncmp(c->path, "templates/", 10) == 0;
	bool is_policy = strcmp(c->path, SBX_REPO_POLICY) == 0;
	const sbx_file *src = is_template && !is_policy ? files->templates : files->sandboxes;
	size_t n = is_template && !is_policy ? files->ntemplates : files->nsandboxes, m = 0;
	sbx_file *list = calloc(n + 1, sizeof(*list));
	bool placed = false;

	if (!list)
		return SBX_ENOMEM;
	*mine = (sbx_file){ c->path, sbx_buf_cstr(&c->data), c->data.len };
	for (size_t i = 0; i < n; i++) {
		int cmp = strcmp(src[i].path, c->path);

		if (cmp > 0 && !placed && !c->remove && !is_policy) {
			list[m++] = *mine;
			placed = true;
		}
		if (cmp == 0 && !is_policy) {
			if (!c->remove)
				list[m++] = *mine;
			placed = true;
			continue;
		}
		list[m++] = src[i];
	}
	if (!placed && !c->remove && !is_policy)
		list[m++] = *mine;
	out->policy = files->policy;
	out->templates = files->templates;
	out->ntemplates = files->ntemplates;
	out->sandboxes = files->sandboxes;
	out->nsandboxes = files->nsandboxes;
	if (is_policy)
		out->policy = c->remove ? NULL : mine;
	else if (is_template) {
		out->templates = list;
		out->ntemplates = m;
	} else {
		out->sandboxes = list;
		out->nsandboxes = m;
	}
	*newlist = list;
	return 0;
}

/* The plan's last line: the fleet total after the change against the budget. */
static void print_budget(const sbx_repo *after)
{
	static const char *const names[3] = { "cpu", "memory", "storage" };
	const sbx_resources *b = &after->policy->budget;
	const sbx_quantity *cap[3] = { b->has_cpu ? &b->cpu : NULL, b->has_memory ? &b->memory : NULL,
				       b->has_storage ? &b->storage : NULL };
	sbx_resources t;
	const sbx_quantity *sum[3] = { &t.cpu, &t.memory, &t.storage };
	sbx_buf line = SBX_BUF_INIT;
	bool over = false;

	sbx_repo_totals(&t, after);
	for (int i = 0; i < 3; i++) {
		if (!cap[i])
			continue;
		over |= sbx_quantity_cmp(sum[i], cap[i]) > 0;
		sbx_buf_printf(&line, "%s%s ", line.len ? ", " : "", names[i]);
		sbx_quantity_format(&line, sum[i]);
		sbx_buf_puts(&line, " of ");
		sbx_quantity_format(&line, cap[i]);
	}
	if (line.len)
		printf("  budget    %s: %s (the fleet after this change)\n", over ? "OVER" : "fits",
		       sbx_buf_cstr(&line));
	else
		printf("  budget    none set\n");
	sbx_buf_dispose(&line);
}

static bool seen_before(const sbx_diags *before, const sbx_diag *d)
{
	for (size_t i = 0; i < before->count; i++)
		if (before->items[i].line == d->line && strcmp(before->items[i].path, d->path) == 0 &&
		    strcmp(before->items[i].message, d->message) == 0)
			return true;
	return false;
}

/* Validate the repository after the change as lint would, and render the
 * changed sandbox. Only problems the change brings are reported: somebody
 * else's broken file does not stop you. */
static int validate(const sbx_git_files *files, const cli_change *c)
{
	sbx_repo_files before_files = { files->policy, files->templates, files->ntemplates,
					files->sandboxes, files->nsandboxes };
	sbx_repo_files after_files;
	sbx_file *list = NULL, mine;
	sbx_repo *before = NULL, *after = NULL;
	sbx_diags dbefore = SBX_DIAGS_INIT, dafter = SBX_DIAGS_INIT, fresh = SBX_DIAGS_INIT;
	sbx_buf out = SBX_BUF_INIT;
	int status = EXIT_OK;

	if (changed_files(&after_files, &list, &mine, files, c) < 0 ||
	    sbx_repo_load(&before, &before_files, NULL, &dbefore) == SBX_ENOMEM ||
	    sbx_repo_load(&after, &after_files, NULL, &dafter) == SBX_ENOMEM) {
		status = cli_error(EXIT_INVALID, "out of memory");
		goto done;
	}
	/* the changed sandbox must render too (template errors show there) */
	for (size_t i = 0; after->policy && after->templates && i < after->nspecs; i++) {
		cJSON *objs = NULL;

		if (strcmp(after->specs[i]->path, c->path) != 0)
			continue;
		sbx_render(&objs, after->templates, after->policy, after->specs[i], NULL, &dafter);
		cJSON_Delete(objs);
	}
	if (c->plan && after->policy)
		print_budget(after);
	for (size_t i = 0; i < dafter.count; i++) {
		const sbx_diag *d = &dafter.items[i];

		if (!seen_before(&dbefore, d))
			sbx_diag_add(&fresh, d->path, d->line, d->col, "%s", d->message);
	}
	if (fresh.count) {
		sbx_diags_sort(&fresh);
		sbx_diags_format(&out, &fresh);
		fputs(sbx_buf_cstr(&out), stderr);
		status = cli_error(EXIT_INVALID, "the change to '%s' is not valid (%zu problem%s); "
				   "nothing was committed", c->path, fresh.count,
				   fresh.count == 1 ? "" : "s");
	}
done:
	free(list);
	sbx_repo_free(before);
	sbx_repo_free(after);
	sbx_diags_dispose(&dbefore);
	sbx_diags_dispose(&dafter);
	sbx_diags_dispose(&fresh);
	sbx_buf_dispose(&out);
	return status;
}

int cli_git_change(char oid[SBX_GIT_OID_HEX], const cli_config *cfg, cli_edit_fn edit,
		   void *payload)
{
	sbx_git *g = NULL;
	char head[SBX_GIT_OID_HEX];
	int status = open_clone(&g, cfg), r;

	if (status != EXIT_OK || (status = refuse_local_changes(g, cfg)) != EXIT_OK)
		goto done;
	for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
		sbx_git_files files = { 0 };
		sbx_diags ignored = SBX_DIAGS_INIT;
		cli_change c = { .data = SBX_BUF_INIT };

		if ((status = fetch(g, head, cfg)) != EXIT_OK)
			goto done;
		/* files the controller would refuse (symlinks, ...) are lint's business */
		r = sbx_git_read(&files, g, head, &ignored);
		sbx_diags_dispose(&ignored);
		if (r < 0) {
			status = git_error(cfg, r);
			goto done;
		}
		status = edit(&c, &files, attempt, payload);
		if (status == EXIT_OK && c.data.failed)
			status = cli_error(EXIT_INVALID, "out of memory");
		if (status == EXIT_OK)
			status = validate(&files, &c);
		if (status == EXIT_OK && c.plan)
			status = cli_confirm(c.yes, "Push this change?");
		if (status == EXIT_OK) {
			r = sbx_git_commit_push(oid, g, head, c.path, c.remove ? NULL : c.data.ptr ?
						c.data.ptr : "", c.data.len, c.message);
			if (r == SBX_ECONFLICT && attempt < MAX_ATTEMPTS)
				fprintf(stderr, "the branch moved on the remote; redoing the change "
					"on its new head (attempt %d of %d)\n", attempt + 1,
					MAX_ATTEMPTS);
			else if (r < 0)
				status = r == SBX_ECONFLICT ?
					cli_error(EXIT_INVALID, "%s, %d times in a row; run the "
						  "command again", sbx_error_last(), MAX_ATTEMPTS) :
					git_error(cfg, r);
			else
				fprintf(stderr, "pushed %.12s to '%s': %s\n", oid,
					cfg->value[CFG_BRANCH], c.message);
		}
		sbx_buf_dispose(&c.data);
		sbx_git_files_dispose(&files);
		if (status != EXIT_OK || r == 0)
			goto done;
	}
done:
	sbx_git_free(g);
	return status;
}
