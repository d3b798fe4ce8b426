// SPDX-License-Identifier: Apache-2.0
/*
 * Repository loading: files from a folder (or from git blobs) -> policy,
 * templates, sandboxes; fleet checks such as the budget that need them all.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "repo.h"
#include "yamlfile.h"

static char *join(const char *a, const char *b)
{
	sbx_buf buf = SBX_BUF_INIT;

	if (a && *a && strcmp(a, ".") != 0)
		sbx_buf_printf(&buf, "%s/%s", a, b);
	else
		sbx_buf_puts(&buf, b);
	return sbx_buf_take(&buf, NULL);
}

static int cmp_spec(const void *a, const void *b)
{
	const sbx_spec *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

struct total {
	const char *field;
	sbx_quantity sum;
	const sbx_quantity *budget;
	int over;
};

/* Name each sandbox that takes the fleet past the budget, in name order. */
static void check_budget(sbx_repo *repo, sbx_diags *diags)
{
	const sbx_resources *b = &repo->policy->budget;
	struct total t[] = {
		{ "cpu", { 0, 0, SBX_QUANTITY_DECIMAL_SI }, b->has_cpu ? &b->cpu : NULL, 0 },
		{ "memory", { 0, 0, SBX_QUANTITY_BINARY_SI }, b->has_memory ? &b->memory : NULL, 0 },
		{ "storage", { 0, 0, SBX_QUANTITY_BINARY_SI }, b->has_storage ? &b->storage : NULL, 0 },
	};

	for (size_t i = 0; i < repo->nspecs; i++) {
		const sbx_spec *s = repo->specs[i];
		sbx_effective e;
		sbx_diags ignore = SBX_DIAGS_INIT;
		const sbx_quantity *q[3];

		if (sbx_policy_resolve(&e, repo->policy, s, &ignore) < 0) {
			sbx_diags_dispose(&ignore);
			continue;
		}
		q[0] = &e.quota.cpu;
		q[1] = &e.quota.memory;
		q[2] = &e.quota.storage;
		for (size_t k = 0; k < 3; k++) {
			sbx_buf sum = SBX_BUF_INIT, cap = SBX_BUF_INIT;

			if (!t[k].budget || sbx_quantity_add(&t[k].sum, &t[k].sum, q[k]) < 0)
				continue;
			if (sbx_quantity_cmp(&t[k].sum, t[k].budget) <= 0)
				continue;
			sbx_quantity_format(&sum, &t[k].sum);
			sbx_quantity_format(&cap, t[k].budget);
			sbx_diag_add(diags, s->path, 1, 1, "sandbox '%s' takes the fleet over budget: "
				     "%s would total %s, the budget (spec.budget.%s in %s) is %s",
				     s->name, t[k].field, sbx_buf_cstr(&sum), t[k].field,
				     repo->policy->path, sbx_buf_cstr(&cap));
			sbx_buf_dispose(&sum);
			sbx_buf_dispose(&cap);
		}
	}
}

void sbx_repo_totals(sbx_resources *out, const sbx_repo *repo)
{
	memset(out, 0, sizeof(*out));
	out->cpu.format = SBX_QUANTITY_DECIMAL_SI;
	out->memory.format = out->storage.format = SBX_QUANTITY_BINARY_SI;
	out->has_cpu = out->has_memory = out->has_storage = true;
	for (size_t i = 0; repo->policy && i < repo->nspecs; i++) {
		sbx_effective e;
		sbx_diags ignore = SBX_DIAGS_INIT;

		if (sbx_policy_resolve(&e, repo->policy, repo->specs[i], &ignore) == 0) {
			sbx_quantity_add(&out->cpu, &out->cpu, &e.quota.cpu);
			sbx_quantity_add(&out->memory, &out->memory, &e.quota.memory);
			sbx_quantity_add(&out->storage, &out->storage, &e.quota.storage);
		}
		sbx_diags_dispose(&ignore);
	}
}

int sbx_repo_load(sbx_repo **out, const sbx_repo_files *files, const char *prefix,
		  sbx_diags *diags)
{
	sbx_repo *repo = calloc(1, sizeof(*repo));
	sbx_file *tfiles = NULL;
	size_t before = diags->count;
	char *path = NULL;
	int r = 0;

	if (!repo)
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	path = join(prefix, files->policy ? files->policy->path : SBX_REPO_POLICY);
	if (!path) {
		r = sbx_error_set(SBX_ENOMEM, "out of memory");
		goto done;
	}
	if (!files->policy)
		sbx_diag_add(diags, path, 0, 0, "the policy file is missing; every repository needs "
			     "one (see docs/sandbox-spec.md)");
	else if (sbx_policy_parse(&repo->policy, path, files->policy->data, files->policy->len, diags) ==
		 SBX_ENOMEM)
		r = sbx_error_set(SBX_ENOMEM, "out of memory");
	free(path);
	tfiles = calloc(files->ntemplates ? files->ntemplates : 1, sizeof(*tfiles));
	if (r < 0 || !tfiles) {
		r = sbx_error_set(SBX_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < files->ntemplates; i++) {
		tfiles[i] = files->templates[i];
		tfiles[i].path = join(prefix, files->templates[i].path);
		if (!tfiles[i].path) {
			r = sbx_error_set(SBX_ENOMEM, "out of memory");
			goto done;
		}
	}
	if (files->ntemplates == 0)
		sbx_diag_add(diags, prefix && *prefix ? prefix : ".", 0, 0, "no object templates "
			     "found in templates/");
	else if (sbx_templates_load(&repo->templates, tfiles, files->ntemplates, diags) == SBX_ENOMEM) {
		r = SBX_ENOMEM;
		goto done;
	}

	repo->specs = calloc(files->nsandboxes ? files->nsandboxes : 1, sizeof(*repo->specs));
	if (!repo->specs) {
		r = sbx_error_set(SBX_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < files->nsandboxes; i++) {
		const sbx_file *f = &files->sandboxes[i];
		sbx_spec *s = NULL;

		path = join(prefix, f->path);
		if (!path) {
			r = sbx_error_set(SBX_ENOMEM, "out of memory");
			goto done;
		}
		repo->nsandbox_files++;
		r = sbx_spec_parse(&s, path, f->data, f->len, repo->policy, diags);
		free(path);
		if (r == SBX_ENOMEM)
			goto done;
		if (r == 0)
			repo->specs[repo->nspecs++] = s;
		else
			repo->ninvalid++;
		r = 0;
	}
	qsort(repo->specs, repo->nspecs, sizeof(*repo->specs), cmp_spec);
	if (repo->policy)
		check_budget(repo, diags);
done:
	if (tfiles)
		for (size_t i = 0; i < files->ntemplates; i++)
			free((char *)tfiles[i].path);
	free(tfiles);
	if (r == SBX_ENOMEM) {
		sbx_repo_free(repo);
		return r;
	}
	*out = repo;
	return diags->count > before || diags->oom ? SBX_EINVAL : 0;
}

struct filelist {
	sbx_file *items;
	size_t count, cap;
};

static void filelist_dispose(struct filelist *l)
{
	for (size_t i = 0; i < l->count; i++) {
		free((char *)l->items[i].path);
		free((char *)l->items[i].data);
	}
	free(l->items);
}

/* Read DIR/rel into the list, bounded. Problems go to diags. */
static int read_one(struct filelist *l, const char *dir, const char *rel, sbx_diags *diags)
{
	char *full = join(dir, rel);
	struct stat st;
	char *data = NULL;
	int fd = -1, r = 0;
	ssize_t got;

	if (!full)
		return SBX_ENOMEM;
	if (lstat(full, &st) < 0) {
		if (errno == ENOENT)
			r = SBX_ENOTFOUND;
		else
			sbx_diag_add(diags, full, 0, 0, "cannot read: %s", strerror(errno));
		goto done;
	}
	if (S_ISLNK(st.st_mode)) {
		sbx_diag_add(diags, full, 0, 0, "symbolic links are not allowed; commit the file itself");
		goto done;
	}
	if (!S_ISREG(st.st_mode))
		goto done;
	if (st.st_size > SBX_YAML_MAX_BYTES) {
		sbx_diag_add(diags, full, 0, 0, "file is %lld bytes; the limit is %d bytes (256 KiB)",
			     (long long)st.st_size, SBX_YAML_MAX_BYTES);
		goto done;
	}
	data = malloc((size_t)st.st_size + 2);
	if (!data) {
		r = SBX_ENOMEM;
		goto done;
	}
	fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		sbx_diag_add(diags, full, 0, 0, "cannot read: %s", strerror(errno));
		goto done;
	}
	got = read(fd, data, (size_t)st.st_size + 1);
	if (got < 0 || got > st.st_size) {
		sbx_diag_add(diags, full, 0, 0, "cannot read: %s", got < 0 ? strerror(errno) :
			     "file grew while reading");
		goto done;
	}
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		sbx_file *p = realloc(l->items, cap * sizeof(*p));

		if (!p) {
			r = SBX_ENOMEM;
			goto done;
		}
		l->items = p;
		l->cap = cap;
	}
	data[got] = '\0';
	l->items[l->count].path = strdup(rel);
	if (!l->items[l->count].path) {
		r = SBX_ENOMEM;
		goto done;
	}
	l->items[l->count].data = data;
	l->items[l->count].len = (size_t)got;
	l->count++;
	data = NULL;
done:
	if (fd >= 0)
		close(fd);
	free(data);
	free(full);
	return r;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.yaml names in DIR/sub, sorted; *.yml files are reported. */
static int read_dir(struct filelist *l, const char *dir, const char *sub, const char *skip,
		    sbx_diags *diags)
{
	char *full = join(dir, sub);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *d;
	int r = 0;

	d = full ? opendir(full) : NULL;
	if (!d) {
		if (full)
			sbx_diag_add(diags, full, 0, 0, "cannot open folder: %s", strerror(errno));
		free(full);
		return full ? 0 : SBX_ENOMEM;
	}
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (e->d_name[0] == '.')
			continue;
		if (len > 4 && strcmp(e->d_name + len - 4, ".yml") == 0) {
			char *p = join(full, e->d_name);

			sbx_diag_add(diags, p, 0, 0, "files must end in .yaml; rename it to '%.*s.yaml'",
				     (int)(len - 4), e->d_name);
			free(p);
			continue;
		}
		if (len <= 5 || strcmp(e->d_name + len - 5, ".yaml") != 0)
			continue;
		if (skip && strcmp(e->d_name, skip) == 0)
			continue;
		if (n == cap) {
			char **p = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*p));

			if (!p) {
				r = SBX_ENOMEM;
				goto done;
			}
			names = p;
		}
		names[n] = strdup(e->d_name);
		if (!names[n]) {
			r = SBX_ENOMEM;
			goto done;
		}
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_name);
	for (size_t i = 0; i < n && r == 0; i++) {
		char *rel = join(sub, names[i]);

		r = rel ? read_one(l, dir, rel, diags) : SBX_ENOMEM;
		if (r == SBX_ENOTFOUND)
			r = 0;
		free(rel);
	}
done:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	free(full);
	return r;
}

int sbx_repo_load_dir(sbx_repo **out, const char *dir, sbx_diags *diags)
{
	struct filelist policy = { 0 }, templates = { 0 }, sandboxes = { 0 };
	sbx_repo_files files = { 0 };
	size_t before = diags->count;
	int r;

	r = read_one(&policy, dir, SBX_REPO_POLICY, diags);
	if (r == SBX_ENOTFOUND)
		r = 0;
	if (r == 0)
		r = read_dir(&templates, dir, "templates", "policy.yaml", diags);
	if (r == 0)
		r = read_dir(&sandboxes, dir, "sandboxes", NULL, diags);
	if (r < 0) {
		r = sbx_error_set(SBX_ENOMEM, "out of memory");
		goto done;
	}
	files.policy = policy.count ? &policy.items[0] : NULL;
	files.templates = templates.items;
	files.ntemplates = templates.count;
	files.sandboxes = sandboxes.items;
	files.nsandboxes = sandboxes.count;
	r = sbx_repo_load(out, &files, dir, diags);
	if (r == 0 && diags->count > before)
		r = SBX_EINVAL;
done:
	filelist_dispose(&policy);
	filelist_dispose(&templates);
	filelist_dispose(&sandboxes);
	return r;
}

const sbx_spec *sbx_repo_find(const sbx_repo *repo, const char *name)
{
	for (size_t i = 0; i < repo->nspecs; i++)
		if (strcmp(repo->specs[i]->name, name) == 0)
			return repo->specs[i];
	return NULL;
}

void sbx_repo_free(sbx_repo *repo)
{
	if (!repo)
		return;
	sbx_policy_free(repo->policy);
	sbx_templates_free(repo->templates);
	for (size_t i = 0; i < repo->nspecs; i++)
		sbx_spec_free(repo->specs[i]);
	free(repo->specs);
	free(repo);
}
