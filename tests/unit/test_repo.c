// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for core/repo.c: loading the repository's own example from
 * memory and from a folder copy, the per-file refusals (.yml, symlinks,
 * oversized files, missing policy or templates), path prefixes, invalid
 * sandboxes kept apart and the fleet budget check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "diag.h"
#include "error.h"
#include "repo.h"
#include "yamlfile.h"

#define ALICE_KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHSoUIZelGdP3RrTnXJvKXYV93zRjcY9w6U3zg30UICA alice@laptop"
#define MISSING_POLICY "the policy file is missing; every repository needs one " \
	"(see docs/sandbox-spec.md)"

/* A sandbox without spec.owner: invalid wherever it goes. */
static const char dan_text[] =
	"apiVersion: sandbox.dev/v1alpha1\n"
	"kind: Sandbox\n"
	"metadata:\n"
	"  name: dan\n"
	"spec:\n"
	"  sshKeys:\n"
	"    - " ALICE_KEY "\n";

#define MAX_FILES 32

/* The repository's own example, read into memory. Paths are relative to
 * the repository root, as in a git tree. */
typedef struct example {
	sbx_file policy;
	sbx_file templates[MAX_FILES];
	size_t ntemplates;
	sbx_file sandboxes[MAX_FILES];
	size_t nsandboxes;
} example;

static const char *data_dir(void)
{
	const char *d = getenv("SBX_TEST_DATA");

	return d && d[0] ? d : "tests/data";
}

/* DATA/../../rel. Caller must free. */
static char *root_path(const char *rel)
{
	sbx_buf b = SBX_BUF_INIT;

	sbx_buf_printf(&b, "%s/../../%s", data_dir(), rel);
	return sbx_buf_take(&b, NULL);
}

static char *read_file(const char *path, size_t *len)
{
	sbx_buf b = SBX_BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "rb");
	char *s;

	if (!f)
		fail_msg("cannot open '%s'; set SBX_TEST_DATA to the tests/data directory", path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(sbx_buf_put(&b, chunk, n), 0);
	fclose(f);
	s = sbx_buf_take(&b, len);
	assert_non_null(s);
	return s;
}

static void set_file(sbx_file *f, const char *path, char *data, size_t len)
{
	f->path = strdup(path);
	assert_non_null(f->path);
	f->data = data;
	f->len = len;
}

static void load_file(sbx_file *f, const char *rel)
{
	char *full = root_path(rel);
	size_t len;
	char *data = read_file(full, &len);

	set_file(f, rel, data, len);
	free(full);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted *.yaml names in the repository's folder sub (except skip). */
static size_t list_yaml(char **names, const char *sub, const char *skip)
{
	char *full = root_path(sub);
	DIR *d = opendir(full);
	struct dirent *e;
	size_t n = 0;

	if (!d)
		fail_msg("cannot open '%s'", full);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len <= 5 || strcmp(e->d_name + len - 5, ".yaml") != 0 || e->d_name[0] == '.')
			continue;
		if (skip && strcmp(e->d_name, skip) == 0)
			continue;
		assert_true(n < MAX_FILES);
		names[n] = strdup(e->d_name);
		assert_non_null(names[n]);
		n++;
	}
	closedir(d);
	free(full);
	qsort(names, n, sizeof(*names), cmp_str);
	return n;
}

static void example_load(example *ex)
{
	char *names[MAX_FILES];
	size_t n;
	sbx_buf rel = SBX_BUF_INIT;

	memset(ex, 0, sizeof(*ex));
	load_file(&ex->policy, SBX_REPO_POLICY);
	n = list_yaml(names, "templates", "policy.yaml");
	for (size_t i = 0; i < n; i++) {
		sbx_buf_clear(&rel);
		sbx_buf_printf(&rel, "templates/%s", names[i]);
		load_file(&ex->templates[ex->ntemplates++], sbx_buf_cstr(&rel));
		free(names[i]);
	}
	n = list_yaml(names, "sandboxes", NULL);
	for (size_t i = 0; i < n; i++) {
		sbx_buf_clear(&rel);
		sbx_buf_printf(&rel, "sandboxes/%s", names[i]);
		load_file(&ex->sandboxes[ex->nsandboxes++], sbx_buf_cstr(&rel));
		free(names[i]);
	}
	sbx_buf_dispose(&rel);
	assert_true(ex->ntemplates > 0);
	assert_int_equal(ex->nsandboxes, 3);
}

static void file_dispose(sbx_file *f)
{
	free((char *)f->path);
	free((char *)f->data);
	memset(f, 0, sizeof(*f));
}

static void example_dispose(example *ex)
{
	file_dispose(&ex->policy);
	for (size_t i = 0; i < ex->ntemplates; i++)
		file_dispose(&ex->templates[i]);
	for (size_t i = 0; i < ex->nsandboxes; i++)
		file_dispose(&ex->sandboxes[i]);
}

static sbx_repo_files example_files(const example *ex)
{
	sbx_repo_files files = { &ex->policy, ex->templates, ex->ntemplates, ex->sandboxes,
				 ex->nsandboxes };

	return files;
}

/* Replace the first `from` in the policy text by `to`. */
static void policy_replace(example *ex, const char *from, const char *to)
{
	const char *at = strstr(ex->policy.data, from);
	sbx_buf b = SBX_BUF_INIT;

	assert_non_null(at);
	sbx_buf_put(&b, ex->policy.data, (size_t)(at - ex->policy.data));
	sbx_buf_puts(&b, to);
	sbx_buf_puts(&b, at + strlen(from));
	free((char *)ex->policy.data);
	ex->policy.data = sbx_buf_take(&b, &ex->policy.len);
	assert_non_null(ex->policy.data);
}

static void add_sandbox(example *ex, const char *path, const char *text)
{
	char *data = strdup(text);

	assert_non_null(data);
	assert_true(ex->nsandboxes < MAX_FILES);
	set_file(&ex->sandboxes[ex->nsandboxes++], path, data, strlen(text));
}

static char *format_diags(const sbx_diags *d)
{
	sbx_buf b = SBX_BUF_INIT;

	sbx_diags_format(&b, d);
	return sbx_buf_take(&b, NULL);
}

/* The diagnostics, sorted and formatted, must be exactly `want`. */
static void assert_diags(sbx_diags *d, const char *want)
{
	char *got;

	sbx_diags_sort(d);
	got = format_diags(d);
	assert_string_equal(got, want);
	free(got);
}

static void assert_names(const sbx_repo *repo, const char *a, const char *b, const char *c)
{
	assert_int_equal(repo->nspecs, 3);
	assert_string_equal(repo->specs[0]->name, a);
	assert_string_equal(repo->specs[1]->name, b);
	assert_string_equal(repo->specs[2]->name, c);
}

/* --- in memory --------------------------------------------------------- */

static void test_repo__load_example(void **state)
{
	example ex;
	sbx_repo_files files;
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_repo *repo = NULL;
	sbx_file tmp;
	int r;

	(void)state;
	example_load(&ex);
	/* Given out of order: carol, alice, bob. */
	tmp = ex.sandboxes[2];
	ex.sandboxes[2] = ex.sandboxes[1];
	ex.sandboxes[1] = ex.sandboxes[0];
	ex.sandboxes[0] = tmp;
	files = example_files(&ex);
	r = sbx_repo_load(&repo, &files, NULL, &d);
	if (r != 0 || d.count) {
		char *s = format_diags(&d);

		fail_msg("example failed (%d):\n%s", r, s);
	}
	assert_non_null(repo);
	assert_non_null(repo->policy);
	assert_non_null(repo->templates);
	assert_string_equal(repo->policy->path, "templates/policy.yaml");
	assert_names(repo, "alice", "bob", "carol");
	assert_string_equal(repo->specs[0]->path, "sandboxes/alice.yaml");
	assert_string_equal(repo->specs[2]->path, "sandboxes/carol.yaml");
	assert_int_equal(repo->nsandbox_files, 3);
	assert_int_equal(repo->ninvalid, 0);
	sbx_repo_free(repo);
	example_dispose(&ex);
}

static void test_repo__find(void **state)
{
	example ex;
	sbx_repo_files files;
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_repo *repo = NULL;

	(void)state;
	example_load(&ex);
	files = example_files(&ex);
	assert_int_equal(sbx_repo_load(&repo, &files, NULL, &d), 0);
	assert_ptr_equal(sbx_repo_find(repo, "alice"), repo->specs[0]);
	assert_ptr_equal(sbx_repo_find(repo, "bob"), repo->specs[1]);
	assert_ptr_equal(sbx_repo_find(repo, "carol"), repo->specs[2]);
	assert_string_equal(sbx_repo_find(repo, "carol")->size, "large");
	assert_null(sbx_repo_find(repo, "dave"));
	assert_null(sbx_repo_find(repo, "Alice"));
	assert_null(sbx_repo_find(repo, "alic"));
	assert_null(sbx_repo_find(repo, ""));
	sbx_repo_free(repo);
	example_dispose(&ex);
	/* NULL-safe free. */
	sbx_repo_free(NULL);
}

static void test_repo__missing_policy(void **state)
{
	example ex;
	sbx_repo_files files;
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_repo *repo = NULL;

	(void)state;
	example_load(&ex);
	files = example_files(&ex);
	files.policy = NULL;
	assert_int_equal(sbx_repo_load(&repo, &files, NULL, &d), SBX_EINVAL);
	assert_diags(&d, "templates/policy.yaml: error: " MISSING_POLICY "\n");
	/* The rest is still checked and kept, without the policy's rules. */
	assert_non_null(repo);
	assert_null(repo->policy);
	assert_non_null(repo->templates);
	assert_names(repo, "alice", "bob", "carol");
	assert_int_equal(repo->ninvalid, 0);
	sbx_repo_free(repo);
	sbx_diags_dispose(&d);
	example_dispose(&ex);
}

static void test_repo__invalid_sandbox(void **state)
{
	example ex;
	sbx_repo_files files;
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_repo *repo = NULL;

	(void)state;
	example_load(&ex);
	add_sandbox(&ex, "sandboxes/dan.yaml", dan_text);
	files = example_files(&ex);
	assert_int_equal(sbx_repo_load(&repo, &files, NULL, &d), SBX_EINVAL);
	assert_diags(&d, "sandboxes/dan.yaml:6:3: error: missing required field 'spec.owner'\n");
	assert_non_null(repo);
	assert_non_null(repo->policy);
	assert_non_null(repo->templates);
	assert_int_equal(repo->nsandbox_files, 4);
	assert_int_equal(repo->ninvalid, 1);
	assert_names(repo, "alice", "bob", "carol");
	assert_null(sbx_repo_find(repo, "dan"));
	sbx_repo_free(repo);
	sbx_diags_dispose(&d);
	example_dispose(&ex);
}

static void test_repo__prefix(void **state)
{
	example ex;
	sbx_repo_files files;
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_repo *repo = NULL;

	(void)state;
	example_load(&ex);
	add_sandbox(&ex, "sandboxes/dan.yaml", dan_text);
	policy_replace(&ex, "budget: {cpu: \"400\"", "budget: {cpu: \"14\"");
	files = example_files(&ex);
	assert_int_equal(sbx_repo_load(&repo, &files, "checkout/main", &d), SBX_EINVAL);
	assert_diags(&d,
		"checkout/main/sandboxes/carol.yaml:1:1: error: sandbox 'carol' takes the fleet "
		"over budget: cpu would total 19, the budget (spec.budget.cpu in "
		"checkout/main/templates/policy.yaml) is 14\n"
		"checkout/main/sandboxes/dan.yaml:6:3: error: missing required field 'spec.owner'\n");
	assert_string_equal(repo->policy->path, "checkout/main/templates/policy.yaml");
	assert_string_equal(repo->specs[1]->path, "checkout/main/sandboxes/bob.yaml");
	/* The callers' files keep their own paths. */
	assert_string_equal(ex.sandboxes[3].path, "sandboxes/dan.yaml");
	assert_int_equal(strncmp(ex.templates[0].path, "templates/", 10), 0);
	sbx_repo_free(repo);
	sbx_diags_dispose(&d);

	/* Missing policy, no templates: both named under the prefix. */
	files.policy = NULL;
	files.ntemplates = 0;
	files.nsandboxes = 0;
	repo = NULL;
	assert_int_equal(sbx_repo_load(&repo, &files, "checkout/main", &d), SBX_EINVAL);
	assert_diags(&d, "checkout/main: error: no object templates found in templates/\n"
			 "checkout/main/templates/policy.yaml: error: " MISSING_POLICY "\n");
	assert_null(repo->templates);
	assert_int_equal(repo->nspecs, 0);
	sbx_repo_free(repo);
	sbx_diags_dispose(&d);
	example_dispose(&ex);
}

static void test_repo__empty_prefix(void **state)
{
	static const char *const prefixes[] = { "", ".", NULL };
	example ex;
	sbx_repo_files files;

	(void)state;
	example_load(&ex);
	add_sandbox(&ex, "sandboxes/dan.yaml", dan_text);
	files = example_files(&ex);
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		sbx_diags d = SBX_DIAGS_INIT;
		sbx_repo *repo = NULL;

		assert_int_equal(sbx_repo_load(&repo, &files, prefixes[i], &d), SBX_EINVAL);
		assert_diags(&d, "sandboxes/dan.yaml:6:3: error: missing required field "
				 "'spec.owner'\n");
		assert_string_equal(repo->specs[0]->path, "sandboxes/alice.yaml");
		sbx_repo_free(repo);
		sbx_diags_dispose(&d);
	}
	example_dispose(&ex);
}

static void test_repo__no_templates(void **state)
{
	example ex;
	sbx_repo_files files;
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_repo *repo = NULL;

	(void)state;
	example_load(&ex);
	files = example_files(&ex);
	files.ntemplates = 0;
	files.templates = NULL;
	assert_int_equal(sbx_repo_load(&repo, &files, NULL, &d), SBX_EINVAL);
	assert_diags(&d, ".: error: no object templates found in templates/\n");
	assert_null(repo->templates);
	assert_non_null(repo->policy);
	assert_names(repo, "alice", "bob", "carol");
	sbx_repo_free(repo);
	sbx_diags_dispose(&d);
	example_dispose(&ex);
}

/* Load the example with the budget line replaced; check the messages. */
static void check_budget(const char *budget, int want_r, const char *want)
{
	example ex;
	sbx_repo_files files;
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_repo *repo = NULL;

	example_load(&ex);
	policy_replace(&ex, "budget: {cpu: \"400\", memory: 1600Gi}", budget);
	files = example_files(&ex);
	assert_int_equal(sbx_repo_load(&repo, &files, NULL, &d), want_r);
	assert_diags(&d, want);
	/* Going over the budget does not make a sandbox invalid. */
	assert_names(repo, "alice", "bob", "carol");
	assert_int_equal(repo->ninvalid, 0);
	sbx_repo_free(repo);
	sbx_diags_dispose(&d);
	example_dispose(&ex);
}

/* Quotas of the example: alice 1 / 2Gi / 10Gi (small), bob 2 / 6Gi / 20Gi
 * (medium with memory 6Gi), carol 16 / 64Gi / 100Gi (the SRE override). */
static void test_repo__budget_under(void **state)
{
	(void)state;
	check_budget("budget: {cpu: \"400\", memory: 1600Gi}", 0, "");
	/* Exactly at the budget is not over it. */
	check_budget("budget: {cpu: \"19\", memory: 72Gi, storage: 130Gi}", 0, "");
	/* An absent figure is unlimited. */
	check_budget("budget: {}", 0, "");
}

/* The totals the plan of `sandbox resize` shows: the same sums. */
static void test_repo__totals(void **state)
{
	example ex;
	sbx_repo_files files;
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_repo *repo = NULL;
	sbx_resources t;
	sbx_buf b = SBX_BUF_INIT;

	(void)state;
	example_load(&ex);
	files = example_files(&ex);
	assert_int_equal(sbx_repo_load(&repo, &files, NULL, &d), 0);
	sbx_repo_totals(&t, repo);
	sbx_quantity_format(&b, &t.cpu);
	sbx_buf_puts(&b, " ");
	sbx_quantity_format(&b, &t.memory);
	sbx_buf_puts(&b, " ");
	sbx_quantity_format(&b, &t.storage);
	assert_string_equal(sbx_buf_cstr(&b), "19 72Gi 130Gi");
	sbx_buf_dispose(&b);
	sbx_repo_free(repo);
	example_dispose(&ex);
}

static void test_repo__budget_last_one_over(void **state)
{
	(void)state;
	check_budget("budget: {cpu: \"14\", memory: 1600Gi}", SBX_EINVAL,
		     "sandboxes/carol.yaml:1:1: error: sandbox 'carol' takes the fleet over budget: "
		     "cpu would total 19, the budget (spec.budget.cpu in templates/policy.yaml) "
		     "is 14\n");
}

static void test_repo__budget_names_from_first_over(void **state)
{
	(void)state;
	/* alice alone fits (1 <= 2); bob takes it to 3 and carol keeps it over. */
	check_budget("budget: {cpu: \"2\"}", SBX_EINVAL,
		     "sandboxes/bob.yaml:1:1: error: sandbox 'bob' takes the fleet over budget: "
		     "cpu would total 3, the budget (spec.budget.cpu in templates/policy.yaml) "
		     "is 2\n"
		     "sandboxes/carol.yaml:1:1: error: sandbox 'carol' takes the fleet over budget: "
		     "cpu would total 19, the budget (spec.budget.cpu in templates/policy.yaml) "
		     "is 2\n");
	/* Over from the first sandbox on. */
	check_budget("budget: {cpu: 500m}", SBX_EINVAL,
		     "sandboxes/alice.yaml:1:1: error: sandbox 'alice' takes the fleet over budget: "
		     "cpu would total 1, the budget (spec.budget.cpu in templates/policy.yaml) "
		     "is 500m\n"
		     "sandboxes/bob.yaml:1:1: error: sandbox 'bob' takes the fleet over budget: "
		     "cpu would total 3, the budget (spec.budget.cpu in templates/policy.yaml) "
		     "is 500m\n"
		     "sandboxes/carol.yaml:1:1: error: sandbox 'carol' takes the fleet over budget: "
		     "cpu would total 19, the budget (spec.budget.cpu in templates/policy.yaml) "
		     "is 500m\n");
}

static void test_repo__budget_each_figure(void **state)
{
	(void)state;
	/* memory: 2Gi, 8Gi (= budget, fine), 72Gi; storage: 10Gi, 30Gi, 130Gi. */
	check_budget("budget: {cpu: \"100\", memory: 8Gi, storage: 20Gi}", SBX_EINVAL,
		     "sandboxes/bob.yaml:1:1: error: sandbox 'bob' takes the fleet over budget: "
		     "storage would total 30Gi, the budget (spec.budget.storage in "
		     "templates/policy.yaml) is 20Gi\n"
		     "sandboxes/carol.yaml:1:1: error: sandbox 'carol' takes the fleet over budget: "
		     "memory would total 72Gi, the budget (spec.budget.memory in "
		     "templates/policy.yaml) is 8Gi\n"
		     "sandboxes/carol.yaml:1:1: error: sandbox 'carol' takes the fleet over budget: "
		     "storage would total 130Gi, the budget (spec.budget.storage in "
		     "templates/policy.yaml) is 20Gi\n");
}

static void test_repo__budget_skips_invalid(void **state)
{
	example ex;
	sbx_repo_files files;
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_repo *repo = NULL;
	sbx_buf aaron = SBX_BUF_INIT;

	(void)state;
	example_load(&ex);
	/* 'aaron' would come first by name but has no owner: not counted. */
	sbx_buf_puts(&aaron, dan_text);
	assert_non_null(strstr(aaron.ptr, "name: dan"));
	memcpy(strstr(aaron.ptr, "name: dan") + 6, "ann", 3);
	add_sandbox(&ex, "sandboxes/ann.yaml", sbx_buf_cstr(&aaron));
	policy_replace(&ex, "budget: {cpu: \"400\"", "budget: {cpu: \"3\"");
	files = example_files(&ex);
	assert_int_equal(sbx_repo_load(&repo, &files, NULL, &d), SBX_EINVAL);
	assert_diags(&d, "sandboxes/ann.yaml:6:3: error: missing required field 'spec.owner'\n"
			 "sandboxes/carol.yaml:1:1: error: sandbox 'carol' takes the fleet over "
			 "budget: cpu would total 19, the budget (spec.budget.cpu in "
			 "templates/policy.yaml) is 3\n");
	assert_int_equal(repo->ninvalid, 1);
	sbx_repo_free(repo);
	sbx_diags_dispose(&d);
	sbx_buf_dispose(&aaron);
	example_dispose(&ex);
}

/* --- from a folder ----------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void write_file(const char *dir, const char *rel, const char *data, size_t len)
{
	sbx_buf path = SBX_BUF_INIT;
	FILE *f;

	sbx_buf_printf(&path, "%s/%s", dir, rel);
	f = fopen(sbx_buf_cstr(&path), "wb");
	if (!f)
		fail_msg("cannot create '%s'", sbx_buf_cstr(&path));
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	sbx_buf_dispose(&path);
}

static void make_dir(const char *dir, const char *rel)
{
	sbx_buf path = SBX_BUF_INIT;

	sbx_buf_printf(&path, "%s/%s", dir, rel);
	assert_int_equal(mkdir(sbx_buf_cstr(&path), 0755), 0);
	sbx_buf_dispose(&path);
}

/* A fresh temporary copy of the example. */
static int setup_copy(void **state)
{
	char *dir = strdup("/tmp/sbx-test-repo-XXXXXX");
	example ex;

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	make_dir(dir, "templates");
	make_dir(dir, "sandboxes");
	example_load(&ex);
	write_file(dir, ex.policy.path, ex.policy.data, ex.policy.len);
	for (size_t i = 0; i < ex.ntemplates; i++)
		write_file(dir, ex.templates[i].path, ex.templates[i].data, ex.templates[i].len);
	for (size_t i = 0; i < ex.nsandboxes; i++)
		write_file(dir, ex.sandboxes[i].path, ex.sandboxes[i].data, ex.sandboxes[i].len);
	example_dispose(&ex);
	*state = dir;
	return 0;
}

static int teardown_copy(void **state)
{
	char *dir = *state;

	if (dir && nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "could not remove '%s'\n", dir);
	free(dir);
	return 0;
}

/* DIR/rel. Caller must free. */
static char *in_dir(const char *dir, const char *rel)
{
	sbx_buf b = SBX_BUF_INIT;

	sbx_buf_printf(&b, "%s/%s", dir, rel);
	return sbx_buf_take(&b, NULL);
}

/* Load DIR and compare the diagnostics with `want`, where every "@" stands
 * for DIR. Returns the repo (caller must free). */
static sbx_repo *load_dir_expect(const char *dir, int want_r, const char *want)
{
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_buf expanded = SBX_BUF_INIT;
	sbx_repo *repo = NULL;

	for (const char *p = want; *p; p++) {
		if (*p == '@')
			sbx_buf_puts(&expanded, dir);
		else
			sbx_buf_putc(&expanded, *p);
	}
	assert_int_equal(sbx_repo_load_dir(&repo, dir, &d), want_r);
	assert_diags(&d, sbx_buf_cstr(&expanded));
	assert_non_null(repo);
	sbx_diags_dispose(&d);
	sbx_buf_dispose(&expanded);
	return repo;
}

static void test_repo__load_dir_example(void **state)
{
	const char *dir = *state;
	sbx_repo *repo;
	char *want;

	repo = load_dir_expect(dir, 0, "");
	assert_non_null(repo->policy);
	assert_non_null(repo->templates);
	assert_names(repo, "alice", "bob", "carol");
	assert_int_equal(repo->nsandbox_files, 3);
	assert_int_equal(repo->ninvalid, 0);
	want = in_dir(dir, "sandboxes/alice.yaml");
	assert_string_equal(repo->specs[0]->path, want);
	free(want);
	want = in_dir(dir, "templates/policy.yaml");
	assert_string_equal(repo->policy->path, want);
	free(want);
	sbx_repo_free(repo);
}

static void test_repo__load_dir_ignores_other_files(void **state)
{
	const char *dir = *state;
	sbx_repo *repo;

	/* Hidden files, other extensions and folders are not sandboxes. */
	write_file(dir, "sandboxes/.hidden.yaml", "not: [valid", 11);
	write_file(dir, "sandboxes/README.md", "# notes\n", 8);
	write_file(dir, "sandboxes/dan.yaml.orig", dan_text, strlen(dan_text));
	write_file(dir, "templates/notes.txt", "x", 1);
	make_dir(dir, "sandboxes/sub.yaml");
	write_file(dir, "README.md", "# repo\n", 7);
	repo = load_dir_expect(dir, 0, "");
	assert_names(repo, "alice", "bob", "carol");
	assert_int_equal(repo->nsandbox_files, 3);
	sbx_repo_free(repo);
}

static void test_repo__load_dir_invalid_sandbox(void **state)
{
	const char *dir = *state;
	sbx_repo *repo;

	write_file(dir, "sandboxes/dan.yaml", dan_text, strlen(dan_text));
	repo = load_dir_expect(dir, SBX_EINVAL,
			       "@/sandboxes/dan.yaml:6:3: error: missing required field 'spec.owner'\n");
	assert_names(repo, "alice", "bob", "carol");
	assert_int_equal(repo->nsandbox_files, 4);
	assert_int_equal(repo->ninvalid, 1);
	sbx_repo_free(repo);
}

static void test_repo__load_dir_yml(void **state)
{
	const char *dir = *state;
	sbx_repo *repo;

	write_file(dir, "sandboxes/dan.yml", dan_text, strlen(dan_text));
	write_file(dir, "templates/extra.yml", "x: 1\n", 5);
	repo = load_dir_expect(dir, SBX_EINVAL,
			       "@/sandboxes/dan.yml: error: files must end in .yaml; rename it to "
			       "'dan.yaml'\n"
			       "@/templates/extra.yml: error: files must end in .yaml; rename it to "
			       "'extra.yaml'\n");
	/* Not read at all. */
	assert_int_equal(repo->nsandbox_files, 3);
	assert_int_equal(repo->ninvalid, 0);
	assert_non_null(repo->templates);
	assert_names(repo, "alice", "bob", "carol");
	sbx_repo_free(repo);
}

static void test_repo__load_dir_symlink(void **state)
{
	const char *dir = *state;
	char *target = in_dir(dir, "sandboxes/alice.yaml");
	char *link = in_dir(dir, "sandboxes/dan.yaml");
	char *tlink = in_dir(dir, "templates/zz-link.yaml");
	char *ttarget = in_dir(dir, "templates/service.yaml");
	sbx_repo *repo;

	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(symlink(ttarget, tlink), 0);
	repo = load_dir_expect(dir, SBX_EINVAL,
			       "@/sandboxes/dan.yaml: error: symbolic links are not allowed; commit "
			       "the file itself\n"
			       "@/templates/zz-link.yaml: error: symbolic links are not allowed; commit "
			       "the file itself\n");
	assert_int_equal(repo->nsandbox_files, 3);
	assert_non_null(repo->templates);
	assert_names(repo, "alice", "bob", "carol");
	sbx_repo_free(repo);
	free(target);
	free(link);
	free(tlink);
	free(ttarget);
}

static void test_repo__load_dir_policy_symlink(void **state)
{
	const char *dir = *state;
	char *policy = in_dir(dir, "templates/policy.yaml");
	char *real = in_dir(dir, "policy-real.yaml");
	sbx_repo *repo;

	assert_int_equal(rename(policy, real), 0);
	assert_int_equal(symlink(real, policy), 0);
	repo = load_dir_expect(dir, SBX_EINVAL,
			       "@/templates/policy.yaml: error: symbolic links are not allowed; commit "
			       "the file itself\n"
			       "@/templates/policy.yaml: error: " MISSING_POLICY "\n");
	assert_null(repo->policy);
	sbx_repo_free(repo);
	free(policy);
	free(real);
}

static void test_repo__load_dir_oversized(void **state)
{
	const char *dir = *state;
	char *path = in_dir(dir, "sandboxes/alice.yaml");
	size_t len;
	char *alice = read_file(path, &len);
	char *big = malloc(SBX_YAML_MAX_BYTES + 2);
	sbx_repo *repo;

	assert_non_null(big);
	/* Exactly at the limit: alice's file padded with a comment. */
	memcpy(big, alice, len);
	memset(big + len, ' ', SBX_YAML_MAX_BYTES - len);
	big[len] = '#';
	big[SBX_YAML_MAX_BYTES - 1] = '\n';
	write_file(dir, "sandboxes/alice.yaml", big, SBX_YAML_MAX_BYTES);
	repo = load_dir_expect(dir, 0, "");
	assert_names(repo, "alice", "bob", "carol");
	sbx_repo_free(repo);

	/* One byte more is refused without reading it; the others load. */
	big[SBX_YAML_MAX_BYTES - 1] = ' ';
	big[SBX_YAML_MAX_BYTES] = '\n';
	write_file(dir, "sandboxes/alice.yaml", big, SBX_YAML_MAX_BYTES + 1);
	repo = load_dir_expect(dir, SBX_EINVAL,
			       "@/sandboxes/alice.yaml: error: file is 262145 bytes; the limit is "
			       "262144 bytes (256 KiB)\n");
	assert_int_equal(repo->nspecs, 2);
	assert_int_equal(repo->nsandbox_files, 2);
	assert_string_equal(repo->specs[0]->name, "bob");
	assert_null(sbx_repo_find(repo, "alice"));
	sbx_repo_free(repo);
	free(big);
	free(alice);
	free(path);
}

static void test_repo__load_dir_missing_policy(void **state)
{
	const char *dir = *state;
	char *policy = in_dir(dir, "templates/policy.yaml");
	sbx_repo *repo;

	assert_int_equal(unlink(policy), 0);
	repo = load_dir_expect(dir, SBX_EINVAL, "@/templates/policy.yaml: error: " MISSING_POLICY "\n");
	assert_null(repo->policy);
	assert_non_null(repo->templates);
	assert_names(repo, "alice", "bob", "carol");
	sbx_repo_free(repo);
	free(policy);
}

static void test_repo__load_dir_empty_templates(void **state)
{
	const char *dir = *state;
	char *tdir = in_dir(dir, "templates");
	DIR *d = opendir(tdir);
	struct dirent *e;
	sbx_repo *repo;

	/* Keep only the policy. */
	assert_non_null(d);
	while ((e = readdir(d))) {
		char *p;

		if (e->d_name[0] == '.' || strcmp(e->d_name, "policy.yaml") == 0)
			continue;
		p = in_dir(tdir, e->d_name);
		assert_int_equal(unlink(p), 0);
		free(p);
	}
	closedir(d);
	repo = load_dir_expect(dir, SBX_EINVAL, "@: error: no object templates found in templates/\n");
	assert_null(repo->templates);
	assert_non_null(repo->policy);
	assert_names(repo, "alice", "bob", "carol");
	sbx_repo_free(repo);
	free(tdir);
}

static void test_repo__load_dir_missing_folders(void **state)
{
	const char *dir = *state;
	sbx_repo *repo;

	assert_int_equal(nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
	assert_int_equal(mkdir(dir, 0700), 0);
	repo = load_dir_expect(dir, SBX_EINVAL,
			       "@: error: no object templates found in templates/\n"
			       "@/sandboxes: error: cannot open folder: No such file or directory\n"
			       "@/templates: error: cannot open folder: No such file or directory\n"
			       "@/templates/policy.yaml: error: " MISSING_POLICY "\n");
	assert_null(repo->policy);
	assert_null(repo->templates);
	assert_int_equal(repo->nspecs, 0);
	assert_int_equal(repo->nsandbox_files, 0);
	sbx_repo_free(repo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_repo__load_example),
		cmocka_unit_test(test_repo__find),
		cmocka_unit_test(test_repo__missing_policy),
		cmocka_unit_test(test_repo__invalid_sandbox),
		cmocka_unit_test(test_repo__prefix),
		cmocka_unit_test(test_repo__empty_prefix),
		cmocka_unit_test(test_repo__no_templates),
		cmocka_unit_test(test_repo__budget_under),
		cmocka_unit_test(test_repo__totals),
		cmocka_unit_test(test_repo__budget_last_one_over),
		cmocka_unit_test(test_repo__budget_names_from_first_over),
		cmocka_unit_test(test_repo__budget_each_figure),
		cmocka_unit_test(test_repo__budget_skips_invalid),
		cmocka_unit_test_setup_teardown(test_repo__load_dir_example, setup_copy, teardown_copy),
		cmocka_unit_test_setup_teardown(test_repo__load_dir_ignores_other_files, setup_copy,
						teardown_copy),
		cmocka_unit_test_setup_teardown(test_repo__load_dir_invalid_sandbox, setup_copy,
						teardown_copy),
		cmocka_unit_test_setup_teardown(test_repo__load_dir_yml, setup_copy, teardown_copy),
		cmocka_unit_test_setup_teardown(test_repo__load_dir_symlink, setup_copy, teardown_copy),
		cmocka_unit_test_setup_teardown(test_repo__load_dir_policy_symlink, setup_copy,
						teardown_copy),
		cmocka_unit_test_setup_teardown(test_repo__load_dir_oversized, setup_copy,
						teardown_copy),
		cmocka_unit_test_setup_teardown(test_repo__load_dir_missing_policy, setup_copy,
						teardown_copy),
		cmocka_unit_test_setup_teardown(test_repo__load_dir_empty_templates, setup_copy,
						teardown_copy),
		cmocka_unit_test_setup_teardown(test_repo__load_dir_missing_folders, setup_copy,
						teardown_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
