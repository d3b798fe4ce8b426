// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for core/policy.c: the repository's own templates/policy.yaml,
 * the documented defaults, sbx_policy_resolve() (size class -> developer
 * fields -> SRE override -> caps) and image pattern matching.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "diag.h"
#include "error.h"
#include "policy.h"
#include "quantity.h"
#include "spec.h"
#include "testutil.h"

#define ALICE_KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHSoUIZelGdP3RrTnXJvKXYV93zRjcY9w6U3zg30UICA alice@laptop"

static sbx_policy *parse_policy_text(const char *text)
{
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_policy *p = NULL;
	int r = sbx_policy_parse(&p, "templates/policy.yaml", text, strlen(text), &d);

	if (r != 0 || d.count)
		test_fail_with_diags("policy", r, &d);
	sbx_diags_dispose(&d);
	return p;
}

static sbx_policy *repo_policy(void)
{
	size_t len;
	char *text = test_read_repo_file("templates/policy.yaml", &len);
	sbx_policy *p = parse_policy_text(text);

	free(text);
	return p;
}

/* Parse a sandbox file without a policy (so no resolve happens inside). */
static sbx_spec *spec_text(const char *name, const char *spec_body)
{
	sbx_buf text = SBX_BUF_INIT, path = SBX_BUF_INIT;
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_spec *s = NULL;
	int r;

	sbx_buf_printf(&text, "apiVersion: sandbox.dev/v1alpha1\nkind: Sandbox\nmetadata:\n"
		       "  name: %s\nspec:\n  owner: %s@example.com\n  sshKeys: [\"" ALICE_KEY "\"]\n%s",
		       name, name, spec_body);
	sbx_buf_printf(&path, "sandboxes/%s.yaml", name);
	r = sbx_spec_parse(&s, sbx_buf_cstr(&path), text.ptr, text.len, NULL, &d);
	if (r != 0)
		test_fail_with_diags("spec", r, &d);
	sbx_diags_dispose(&d);
	sbx_buf_dispose(&text);
	sbx_buf_dispose(&path);
	return s;
}

static void assert_q(const sbx_quantity *q, bool has, const char *want)
{
	sbx_buf b = SBX_BUF_INIT;

	assert_true(has);
	sbx_quantity_format(&b, q);
	assert_string_equal(sbx_buf_cstr(&b), want);
	sbx_buf_dispose(&b);
}

static void test_policy__repository_file(void **state)
{
	sbx_policy *p = repo_policy();
	const sbx_named_resources *carol;

	(void)state;
	assert_string_equal(p->path, "templates/policy.yaml");
	assert_string_equal(p->namespace_prefix, "sbx-");
	assert_string_equal(p->default_size, "small");
	assert_int_equal(p->nsizes, 3);
	assert_string_equal(p->sizes[0].name, "small");
	assert_string_equal(p->sizes[1].name, "medium");
	assert_string_equal(p->sizes[2].name, "large");
	assert_q(&p->sizes[0].r.cpu, p->sizes[0].r.has_cpu, "1");
	assert_q(&p->sizes[0].r.memory, p->sizes[0].r.has_memory, "2Gi");
	assert_q(&p->sizes[0].r.storage, p->sizes[0].r.has_storage, "10Gi");
	assert_q(&p->sizes[2].r.cpu, p->sizes[2].r.has_cpu, "4");
	assert_q(&p->sizes[2].r.memory, p->sizes[2].r.has_memory, "8Gi");
	assert_q(&p->sizes[2].r.storage, p->sizes[2].r.has_storage, "50Gi");
	assert_ptr_equal(sbx_policy_size(p, "medium"), &p->sizes[1]);
	assert_null(sbx_policy_size(p, "huge"));

	assert_q(&p->limits.cpu, p->limits.has_cpu, "8");
	assert_q(&p->limits.memory, p->limits.has_memory, "32Gi");
	assert_q(&p->limits.storage, p->limits.has_storage, "200Gi");

	assert_int_equal(p->noverrides, 1);
	carol = sbx_policy_override(p, "carol");
	assert_non_null(carol);
	assert_q(&carol->r.cpu, carol->r.has_cpu, "16");
	assert_q(&carol->r.memory, carol->r.has_memory, "64Gi");
	assert_false(carol->r.has_storage);
	assert_null(sbx_policy_override(p, "alice"));

	assert_q(&p->budget.cpu, p->budget.has_cpu, "400");
	assert_q(&p->budget.memory, p->budget.has_memory, "1600Gi");
	assert_false(p->budget.has_storage);

	assert_string_equal(p->image_default, "registry.example.com/devbox:2026.11");
	assert_int_equal(p->nimages_allowed, 1);
	assert_string_equal(p->images_allowed[0], "registry.example.com/devbox:*");
	assert_int_equal(p->min_rsa_bits, 3072);
	assert_string_equal(p->ssh_endpoint, "");
	assert_int_equal(p->grace_period_s, 72 * 3600);
	assert_int_equal(p->max_prune_percent, 20);
	sbx_policy_free(p);
}

static void test_policy__defaults(void **state)
{
	sbx_policy *p = parse_policy_text("apiVersion: sandbox.dev/v1alpha1\nkind: Policy\nspec:\n"
					  "  defaultSize: s\n  sizes:\n"
					  "    s: {cpu: 500m, memory: 1Gi, storage: 1Gi}\n"
					  "  images: {default: \"debian:12\"}\n");

	(void)state;
	assert_int_equal(p->min_rsa_bits, 3072);
	assert_int_equal(p->grace_period_s, 259200);
	assert_int_equal(p->max_prune_percent, 20);
	assert_string_equal(p->namespace_prefix, "sbx-");
	assert_string_equal(p->ssh_endpoint, "");
	assert_false(p->limits.has_cpu || p->limits.has_memory || p->limits.has_storage);
	assert_false(p->budget.has_cpu || p->budget.has_memory || p->budget.has_storage);
	assert_int_equal(p->noverrides, 0);
	assert_int_equal(p->nimages_allowed, 0);
	/* without patterns only the default image is allowed */
	assert_true(sbx_policy_image_allowed(p, "debian:12"));
	assert_false(sbx_policy_image_allowed(p, "debian:13"));
	sbx_policy_free(p);
}

static void test_policy__built_in_default(void **state)
{
	sbx_policy *p = NULL;

	(void)state;
	assert_int_equal(sbx_policy_default(&p), 0);
	assert_non_null(p);
	assert_string_equal(p->default_size, "small");
	assert_non_null(sbx_policy_size(p, "small"));
	assert_int_equal(p->min_rsa_bits, 3072);
	assert_int_equal(p->grace_period_s, 259200);
	assert_int_equal(p->max_prune_percent, 20);
	sbx_policy_free(p);
	sbx_policy_free(NULL);
}

static void test_policy__durations_and_ssh(void **state)
{
	sbx_policy *p = parse_policy_text("apiVersion: sandbox.dev/v1alpha1\nkind: Policy\nspec:\n"
					  "  namespacePrefix: \"\"\n"
					  "  defaultSize: s\n  sizes:\n"
					  "    s: {cpu: \"1\", memory: 1Gi, storage: 1Gi}\n"
					  "  images: {default: \"debian:12\"}\n"
					  "  ssh: {minRsaBits: 4096, endpoint: \"ssh.example.com:2222\"}\n"
					  "  deletion: {gracePeriod: 1h30m, maxPrunePercent: 0}\n"
					  "  idle: {suspendAfter: 8h}\n");
	sbx_spec *alice = spec_text("alice", "");
	sbx_spec *bob = spec_text("bob", "  idle: {suspendAfter: never}\n");
	sbx_spec *carol = spec_text("carol", "  idle: {suspendAfter: 45m}\n");
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_effective e;

	(void)state;
	assert_int_equal(p->idle_after_s, 8 * 3600);
	/* a sandbox's own suspendAfter wins; never is 0 */
	assert_int_equal(sbx_policy_resolve(&e, p, alice, &d), 0);
	assert_int_equal(e.idle_after_s, 8 * 3600);
	assert_int_equal(sbx_policy_resolve(&e, p, bob, &d), 0);
	assert_int_equal(e.idle_after_s, 0);
	assert_int_equal(sbx_policy_resolve(&e, p, carol, &d), 0);
	assert_int_equal(e.idle_after_s, 45 * 60);
	sbx_spec_free(alice);
	sbx_spec_free(bob);
	sbx_spec_free(carol);
	sbx_diags_dispose(&d);
	assert_string_equal(p->namespace_prefix, "");
	assert_int_equal(p->min_rsa_bits, 4096);
	assert_string_equal(p->ssh_endpoint, "ssh.example.com:2222");
	assert_int_equal(p->grace_period_s, 5400);
	assert_int_equal(p->max_prune_percent, 0);
	sbx_policy_free(p);
}

static void test_policy__invalid_reports_all(void **state)
{
	static const char text[] =
		"apiVersion: sandbox.dev/v1alpha1\n"
		"kind: Policy\n"
		"spec:\n"
		"  defaultSize: tiny\n"
		"  sizes:\n"
		"    small: {cpu: \"16\", memory: 2Gi, storage: 10Gi}\n"
		"  limits: {cpu: \"8\"}\n"
		"  images: {default: \"debian:12\"}\n"
		"  deletion: {gracePeriod: 3d, maxPrunePercent: 101}\n"
		"  ssh: {minRsaBits: 1024}\n"
		"  idle: {suspendAfter: soon}\n";
	static const struct { int line, col; const char *message; } want[] = {
		{ 4, 16, "defaultSize 'tiny' is not one of spec.sizes" },
		{ 6, 1, "size 'small' has cpu 16, above the cap spec.limits.cpu of 8" },
		{ 9, 27, "'spec.deletion.gracePeriod' must be a duration such as \"72h\", \"1h30m\" or \"90s\"" },
		{ 9, 48, "'spec.deletion.maxPrunePercent' must be an integer from 0 to 100" },
		{ 10, 21, "'spec.ssh.minRsaBits' must be an integer between 2048 and 16384" },
		{ 11, 24, "'spec.idle.suspendAfter' must be a duration from 1s to 720h, such as "
		  "\"8h\" or \"45m\", or never" },
	};
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_policy *p = NULL;

	(void)state;
	assert_int_equal(sbx_policy_parse(&p, "policy.yaml", text, strlen(text), &d), SBX_EINVAL);
	assert_null(p);
	sbx_diags_sort(&d);
	assert_int_equal(d.count, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < d.count; i++) {
		assert_string_equal(d.items[i].message, want[i].message);
		assert_int_equal(d.items[i].line, want[i].line);
		assert_int_equal(d.items[i].col, want[i].col);
	}
	sbx_diags_dispose(&d);
}

static void test_policy__resolve_size_default(void **state)
{
	sbx_policy *p = repo_policy();
	sbx_spec *s = spec_text("alice", "");
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_effective e;

	(void)state;
	assert_int_equal(sbx_policy_resolve(&e, p, s, &d), 0);
	assert_int_equal(d.count, 0);
	assert_string_equal(e.size, "small");
	assert_ptr_equal(e.size, p->sizes[0].name);
	assert_q(&e.workload.cpu, e.workload.has_cpu, "1");
	assert_q(&e.workload.memory, e.workload.has_memory, "2Gi");
	assert_q(&e.workload.storage, e.workload.has_storage, "10Gi");
	/* no override: the quota is the workload's own figures */
	assert_q(&e.quota.cpu, e.quota.has_cpu, "1");
	assert_q(&e.quota.memory, e.quota.has_memory, "2Gi");
	assert_q(&e.quota.storage, e.quota.has_storage, "10Gi");
	sbx_spec_free(s);
	sbx_policy_free(p);
}

static void test_policy__resolve_developer_field(void **state)
{
	sbx_policy *p = repo_policy();
	sbx_spec *s = spec_text("bob", "  size: medium\n  resources:\n    memory: 6Gi\n");
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_effective e;

	(void)state;
	assert_int_equal(sbx_policy_resolve(&e, p, s, &d), 0);
	assert_string_equal(e.size, "medium");
	assert_q(&e.workload.cpu, e.workload.has_cpu, "2");
	assert_q(&e.workload.memory, e.workload.has_memory, "6Gi");
	assert_q(&e.workload.storage, e.workload.has_storage, "20Gi");
	assert_q(&e.quota.memory, e.quota.has_memory, "6Gi");
	sbx_spec_free(s);

	/* "1000m" equals "1": exactly at the size's figure */
	s = spec_text("bob", "  resources:\n    cpu: 8000m\n");
	assert_int_equal(sbx_policy_resolve(&e, p, s, &d), 0);
	assert_q(&e.workload.cpu, e.workload.has_cpu, "8");
	assert_int_equal(d.count, 0);
	sbx_spec_free(s);
	sbx_policy_free(p);
}

static void test_policy__resolve_sre_override(void **state)
{
	sbx_policy *p = repo_policy();
	sbx_spec *s = spec_text("carol", "  size: large\n  resources:\n    cpu: \"12\"\n"
				"    memory: 48Gi\n    storage: 100Gi\n");
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_effective e;

	(void)state;
	/* cpu 12 is above the policy limit of 8, within carol's override of 16 */
	assert_int_equal(sbx_policy_resolve(&e, p, s, &d), 0);
	assert_int_equal(d.count, 0);
	assert_string_equal(e.size, "large");
	assert_q(&e.workload.cpu, e.workload.has_cpu, "12");
	assert_q(&e.workload.memory, e.workload.has_memory, "48Gi");
	assert_q(&e.workload.storage, e.workload.has_storage, "100Gi");
	/* the override becomes the quota; storage has none and keeps the workload's */
	assert_q(&e.quota.cpu, e.quota.has_cpu, "16");
	assert_q(&e.quota.memory, e.quota.has_memory, "64Gi");
	assert_q(&e.quota.storage, e.quota.has_storage, "100Gi");
	sbx_spec_free(s);

	/* without developer fields the override still sets the quota */
	s = spec_text("carol", "");
	assert_int_equal(sbx_policy_resolve(&e, p, s, &d), 0);
	assert_q(&e.workload.cpu, e.workload.has_cpu, "1");
	assert_q(&e.quota.cpu, e.quota.has_cpu, "16");
	assert_q(&e.quota.memory, e.quota.has_memory, "64Gi");
	assert_q(&e.quota.storage, e.quota.has_storage, "10Gi");
	sbx_spec_free(s);
	sbx_policy_free(p);
}

static void test_policy__resolve_over_cap(void **state)
{
	sbx_policy *p = repo_policy();
	sbx_spec *s = spec_text("alice", "  resources:\n    cpu: \"12\"\n    memory: 33Gi\n");
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_effective e;

	(void)state;
	memset(&e, 0x5a, sizeof(e));
	assert_int_equal(sbx_policy_resolve(&e, p, s, &d), SBX_EINVAL);
	assert_int_equal(d.count, 2);
	assert_string_equal(d.items[0].path, "sandboxes/alice.yaml");
	assert_string_equal(d.items[0].message,
			    "sandbox 'alice' asks for cpu 12, above its cap of 8 (spec.limits.cpu in the "
			    "policy); ask the SRE team for an override");
	assert_int_equal(d.items[0].line, 9);
	assert_string_equal(d.items[1].message,
			    "sandbox 'alice' asks for memory 33Gi, above its cap of 32Gi (spec.limits.memory "
			    "in the policy); ask the SRE team for an override");
	assert_int_equal(d.items[1].line, 10);
	/* *out untouched on failure */
	assert_int_equal(((unsigned char *)&e)[0], 0x5a);
	sbx_diags_dispose(&d);
	sbx_spec_free(s);
	sbx_policy_free(p);
}

static void test_policy__resolve_over_override(void **state)
{
	sbx_policy *p = repo_policy();
	sbx_spec *s = spec_text("carol", "  resources:\n    cpu: \"20\"\n");
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_effective e;

	(void)state;
	assert_int_equal(sbx_policy_resolve(&e, p, s, &d), SBX_EINVAL);
	assert_int_equal(d.count, 1);
	assert_string_equal(d.items[0].message, "sandbox 'carol' asks for cpu 20, above its cap "
			    "of 16 (spec.overrides.carol.cpu in the policy); ask the SRE team for an "
			    "override");
	assert_int_equal(d.items[0].line, 9);
	sbx_diags_dispose(&d);
	sbx_spec_free(s);
	sbx_policy_free(p);
}

static void test_policy__resolve_override_lower_than_request(void **state)
{
	/* the override replaces the cap even when it is below the limits */
	sbx_policy *p = parse_policy_text("apiVersion: sandbox.dev/v1alpha1\nkind: Policy\nspec:\n"
					  "  defaultSize: small\n  sizes:\n"
					  "    small: {cpu: \"1\", memory: 2Gi, storage: 10Gi}\n"
					  "    medium: {cpu: \"2\", memory: 4Gi, storage: 20Gi}\n"
					  "  limits: {cpu: \"8\", memory: 32Gi, storage: 200Gi}\n"
					  "  overrides:\n    dave: {cpu: 1500m}\n"
					  "  images: {default: \"debian:12\"}\n");
	sbx_spec *s = spec_text("dave", "  resources:\n    cpu: \"2\"\n");
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_effective e;

	(void)state;
	assert_int_equal(sbx_policy_resolve(&e, p, s, &d), SBX_EINVAL);
	assert_int_equal(d.count, 1);
	assert_string_equal(d.items[0].message, "sandbox 'dave' asks for cpu 2, above its cap of "
			    "1500m (spec.overrides.dave.cpu in the policy); ask the SRE team for an "
			    "override");
	assert_int_equal(d.items[0].line, 9);
	sbx_diags_dispose(&d);
	sbx_spec_free(s);

	/* the size class alone is above the override: reported at the size line */
	s = spec_text("dave", "  size: medium\n");
	assert_int_equal(sbx_policy_resolve(&e, p, s, &d), SBX_EINVAL);
	assert_int_equal(d.count, 1);
	assert_string_equal(d.items[0].message, "sandbox 'dave' asks for cpu 2, above its cap of "
			    "1500m (spec.overrides.dave.cpu in the policy); ask the SRE team for an "
			    "override");
	assert_int_equal(d.items[0].line, 8);
	sbx_diags_dispose(&d);
	sbx_spec_free(s);

	/* within the override: fine, and the quota is the override */
	s = spec_text("dave", "  resources:\n    cpu: 1200m\n");
	assert_int_equal(sbx_policy_resolve(&e, p, s, &d), 0);
	assert_q(&e.workload.cpu, e.workload.has_cpu, "1200m");
	assert_q(&e.quota.cpu, e.quota.has_cpu, "1500m");
	assert_q(&e.quota.memory, e.quota.has_memory, "2Gi");
	sbx_spec_free(s);
	sbx_policy_free(p);
}

static void test_policy__resolve_unknown_size(void **state)
{
	sbx_policy *p = repo_policy();
	sbx_spec *s = spec_text("alice", "  size: huge\n");
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_effective e;

	(void)state;
	assert_int_equal(sbx_policy_resolve(&e, p, s, &d), SBX_EINVAL);
	assert_int_equal(d.count, 1);
	assert_string_equal(d.items[0].message, "size 'huge' is not defined in the policy");
	assert_int_equal(d.items[0].line, 8);
	assert_int_equal(d.items[0].col, 9);
	sbx_diags_dispose(&d);
	sbx_spec_free(s);
	sbx_policy_free(p);
}

static void test_policy__image_allowed(void **state)
{
	sbx_policy *p = repo_policy();

	(void)state;
	assert_true(sbx_policy_image_allowed(p, "registry.example.com/devbox:2026.11"));
	assert_true(sbx_policy_image_allowed(p, "registry.example.com/devbox:2026.11-cuda"));
	assert_true(sbx_policy_image_allowed(p, "registry.example.com/devbox:"));
	assert_false(sbx_policy_image_allowed(p, "registry.example.com/devbox"));
	assert_false(sbx_policy_image_allowed(p, "registry.example.com/devbox-evil:1"));
	assert_false(sbx_policy_image_allowed(p, "evil.example.com/registry.example.com/devbox:1"));
	assert_false(sbx_policy_image_allowed(p, "docker.io/library/debian:12"));
	assert_false(sbx_policy_image_allowed(p, ""));
	sbx_policy_free(p);
}

static void test_policy__image_patterns(void **state)
{
	sbx_policy *p = parse_policy_text("apiVersion: sandbox.dev/v1alpha1\nkind: Policy\nspec:\n"
					  "  defaultSize: s\n  sizes:\n"
					  "    s: {cpu: \"1\", memory: 1Gi, storage: 1Gi}\n"
					  "  images:\n    default: \"a.example/x:1\"\n"
					  "    allowed: [\"a.example/*:?\", \"b.example/y:[0-9]*\"]\n");

	(void)state;
	assert_int_equal(p->nimages_allowed, 2);
	assert_true(sbx_policy_image_allowed(p, "a.example/x:1"));
	assert_true(sbx_policy_image_allowed(p, "a.example/anything:2"));
	assert_false(sbx_policy_image_allowed(p, "a.example/anything:22"));
	assert_true(sbx_policy_image_allowed(p, "b.example/y:2026"));
	assert_false(sbx_policy_image_allowed(p, "b.example/y:latest"));
	sbx_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy__repository_file),
		cmocka_unit_test(test_policy__defaults),
		cmocka_unit_test(test_policy__built_in_default),
		cmocka_unit_test(test_policy__durations_and_ssh),
		cmocka_unit_test(test_policy__invalid_reports_all),
		cmocka_unit_test(test_policy__resolve_size_default),
		cmocka_unit_test(test_policy__resolve_developer_field),
		cmocka_unit_test(test_policy__resolve_sre_override),
		cmocka_unit_test(test_policy__resolve_over_cap),
		cmocka_unit_test(test_policy__resolve_over_override),
		cmocka_unit_test(test_policy__resolve_override_lower_than_request),
		cmocka_unit_test(test_policy__resolve_unknown_size),
		cmocka_unit_test(test_policy__image_allowed),
		cmocka_unit_test(test_policy__image_patterns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
