// SPDX-License-Identifier: Apache-2.0
/*
 * The bad-input corpus: every file under tests/data/bad/ is one invalid
 * input whose header comments name what it is and the exact error lines it
 * must produce (`# expect: PATH:LINE:COL: error: MESSAGE`).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "diag.h"
#include "policy.h"
#include "render.h"
#include "spec.h"

static const char *data_dir(void)
{
	const char *d = getenv("SBX_TEST_DATA");

	return d ? d : "tests/data";
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	sbx_buf b = SBX_BUF_INIT;
	char chunk[4096];
	size_t n;

	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		sbx_buf_put(&b, chunk, n);
	fclose(f);
	return sbx_buf_take(&b, len);
}

static sbx_policy *repo_policy(void)
{
	sbx_buf path = SBX_BUF_INIT;
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_policy *p = NULL;
	size_t len;
	char *text;

	sbx_buf_printf(&path, "%s/../../templates/policy.yaml", data_dir());
	text = slurp(sbx_buf_cstr(&path), &len);
	assert_int_equal(sbx_policy_parse(&p, "templates/policy.yaml", text, len, &d), 0);
	free(text);
	sbx_buf_dispose(&path);
	sbx_diags_dispose(&d);
	return p;
}

/* Value of header "# KEY: value" lines; appends every match to out. */
static void header(sbx_buf *out, const char *text, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = text; p && *p == '#'; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		const char *eol = strchr(p, '\n');

		if (strncmp(p + 2, key, klen) == 0 && p[2 + klen] == ':')
			sbx_buf_printf(out, "%.*s\n", (int)((eol ? eol : p + strlen(p)) - (p + 4 + klen)),
				       p + 4 + klen);
	}
}

static void run_case(void **state)
{
	const char *file = *state;
	sbx_buf full = SBX_BUF_INIT, kind = SBX_BUF_INIT, path = SBX_BUF_INIT, expect = SBX_BUF_INIT,
		got = SBX_BUF_INIT;
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_policy *policy = repo_policy();
	size_t len;
	char *text;

	sbx_buf_printf(&full, "%s/bad/%s", data_dir(), file);
	text = slurp(sbx_buf_cstr(&full), &len);
	header(&kind, text, "kind");
	header(&path, text, "path");
	header(&expect, text, "expect");
	assert_true(expect.len > 0);
	if (path.len)
		path.ptr[--path.len] = '\0';
	else
		sbx_buf_printf(&path, "sandboxes/%s", file);

	if (kind.len == 0 || strcmp(kind.ptr, "sandbox\n") == 0) {
		sbx_spec *s = NULL;

		assert_int_not_equal(sbx_spec_parse(&s, path.ptr, text, len, policy, &d), 0);
		assert_null(s);
	} else if (strcmp(kind.ptr, "policy\n") == 0) {
		sbx_policy *p = NULL;

		assert_int_not_equal(sbx_policy_parse(&p, path.ptr, text, len, &d), 0);
		assert_null(p);
	} else if (strcmp(kind.ptr, "template\n") == 0) {
		/* load the template, then render it for the example sandbox 'alice' */
		sbx_file f = { path.ptr, text, len };
		sbx_templates *t = NULL;
		sbx_spec *alice = NULL;
		sbx_buf apath = SBX_BUF_INIT;
		cJSON *objs = NULL;
		char *atext;
		size_t alen;

		sbx_buf_printf(&apath, "%s/../../sandboxes/alice.yaml", data_dir());
		atext = slurp(apath.ptr, &alen);
		assert_int_equal(sbx_spec_parse(&alice, "sandboxes/alice.yaml", atext, alen, policy, &d), 0);
		if (sbx_templates_load(&t, &f, 1, &d) == 0)
			assert_int_not_equal(sbx_render(&objs, t, policy, alice, NULL, &d), 0);
		assert_null(objs);
		sbx_templates_free(t);
		sbx_spec_free(alice);
		free(atext);
		sbx_buf_dispose(&apath);
	} else {
		fail_msg("%s: unknown kind '%s'", file, kind.ptr);
	}
	sbx_diags_sort(&d);
	sbx_diags_format(&got, &d);
	if (strcmp(sbx_buf_cstr(&got), sbx_buf_cstr(&expect)) != 0)
		fail_msg("%s:\n--- expected\n%s--- got\n%s", file, sbx_buf_cstr(&expect),
			 sbx_buf_cstr(&got));
	free(text);
	sbx_policy_free(policy);
	sbx_diags_dispose(&d);
	sbx_buf_dispose(&full);
	sbx_buf_dispose(&kind);
	sbx_buf_dispose(&path);
	sbx_buf_dispose(&expect);
	sbx_buf_dispose(&got);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	sbx_buf dir = SBX_BUF_INIT;
	struct CMUnitTest *tests;
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	DIR *d;
	int r;

	sbx_buf_printf(&dir, "%s/bad", data_dir());
	d = opendir(sbx_buf_cstr(&dir));
	if (!d) {
		fprintf(stderr, "cannot open %s\n", sbx_buf_cstr(&dir));
		return 1;
	}
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			names = realloc(names, (n + 1) * sizeof(*names));
			names[n++] = strdup(e->d_name);
		}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp);
	tests = calloc(n, sizeof(*tests));
	for (size_t i = 0; i < n; i++) {
		tests[i].name = names[i];
		tests[i].test_func = run_case;
		tests[i].initial_state = names[i];
	}
	r = _cmocka_run_group_tests("corpus", tests, n, NULL, NULL);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(tests);
	sbx_buf_dispose(&dir);
	return r;
}
