// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for core/kinds.c: every entry of the kind table through
 * sbx_kind_find() and sbx_kind_lookup() (renderable kinds only), scopes,
 * apply waves and the list of well-known cluster-scoped kinds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kinds.h"

static const struct {
	const char *api_version, *kind, *resource;
	bool namespaced;
	int wave;
	bool renderable;
} table[] = {
	{ "v1", "Namespace", "namespaces", false, 0, true },
	{ "v1", "ResourceQuota", "resourcequotas", true, 1, true },
	{ "v1", "LimitRange", "limitranges", true, 1, true },
	{ "rbac.authorization.k8s.io/v1", "Role", "roles", true, 1, true },
	{ "rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", true, 1, true },
	{ "v1", "Secret", "secrets", true, 1, true },
	{ "v1", "ConfigMap", "configmaps", true, 1, true },
	{ "v1", "ServiceAccount", "serviceaccounts", true, 1, true },
	{ "networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", true, 1, true },
	{ "coordination.k8s.io/v1", "Lease", "leases", true, 1, true },
	{ "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, 2, true },
	{ "apps/v1", "Deployment", "deployments", true, 3, true },
	{ "v1", "Service", "services", true, 3, true },
	{ "v1", "Pod", "pods", true, 0, false },
	{ "apps/v1", "ReplicaSet", "replicasets", true, 0, false },
	{ "v1", "Event", "events", true, 0, false },
	{ "v1", "Node", "nodes", false, 0, false },
	{ "apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions",
	  false, 0, false },
	{ "rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", false, 0, false },
	{ "rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", false, 0,
	  false },
	{ "sandbox.dev/v1alpha1", "Sandbox", "sandboxes", false, 0, false },
};

#define NTABLE (sizeof(table) / sizeof(table[0]))

static void test_kinds__find_every_kind(void **state)
{
	(void)state;
	for (size_t i = 0; i < NTABLE; i++) {
		const sbx_kind *k = sbx_kind_find(table[i].api_version, table[i].kind);

		assert_non_null(k);
		assert_string_equal(k->api_version, table[i].api_version);
		assert_string_equal(k->kind, table[i].kind);
		assert_string_equal(k->resource, table[i].resource);
		assert_int_equal(k->namespaced, table[i].namespaced);
		assert_int_equal(k->wave, table[i].wave);
		assert_int_equal(k->renderable, table[i].renderable);
		/* Static storage: the same entry every time. */
		assert_ptr_equal(sbx_kind_find(table[i].api_version, table[i].kind), k);
	}
}

static void test_kinds__lookup_renderable_only(void **state)
{
	(void)state;
	for (size_t i = 0; i < NTABLE; i++) {
		const sbx_kind *k = sbx_kind_lookup(table[i].api_version, table[i].kind);

		if (table[i].renderable)
			assert_ptr_equal(k, sbx_kind_find(table[i].api_version, table[i].kind));
		else
			assert_null(k);
	}
	assert_null(sbx_kind_lookup("v1", "Pod"));
	assert_null(sbx_kind_lookup("v1", "Event"));
	assert_null(sbx_kind_lookup("sandbox.dev/v1alpha1", "Sandbox"));
	assert_null(sbx_kind_lookup("rbac.authorization.k8s.io/v1", "ClusterRole"));
	assert_non_null(sbx_kind_find("v1", "Pod"));
	assert_non_null(sbx_kind_find("coordination.k8s.io/v1", "Lease"));
	assert_non_null(sbx_kind_find("sandbox.dev/v1alpha1", "Sandbox"));
}

static void test_kinds__unknown(void **state)
{
	(void)state;
	/* The apiVersion must match exactly, and so must the case of the kind. */
	assert_null(sbx_kind_find("apps/v1beta1", "Deployment"));
	assert_null(sbx_kind_find("v1", "Deployment"));
	assert_null(sbx_kind_find("extensions/v1beta1", "NetworkPolicy"));
	assert_null(sbx_kind_find("v1", "namespace"));
	assert_null(sbx_kind_find("v1", "Namespaces"));
	assert_null(sbx_kind_find("", ""));
	assert_null(sbx_kind_find("batch/v1", "Job"));
	assert_null(sbx_kind_lookup("apps/v1", "StatefulSet"));
	assert_null(sbx_kind_lookup("rbac.authorization.k8s.io/v1beta1", "Role"));
	assert_null(sbx_kind_lookup("sandbox.dev/v1", "Sandbox"));
}

static void test_kinds__namespaced(void **state)
{
	(void)state;
	assert_false(sbx_kind_find("v1", "Namespace")->namespaced);
	assert_false(sbx_kind_find("v1", "Node")->namespaced);
	assert_false(sbx_kind_find("sandbox.dev/v1alpha1", "Sandbox")->namespaced);
	assert_false(sbx_kind_find("apiextensions.k8s.io/v1", "CustomResourceDefinition")->namespaced);
	assert_true(sbx_kind_find("v1", "Pod")->namespaced);
	assert_true(sbx_kind_find("coordination.k8s.io/v1", "Lease")->namespaced);
	/* Everything a template renders into the sandbox's namespace is namespaced. */
	for (size_t i = 0; i < NTABLE; i++) {
		const sbx_kind *k = sbx_kind_lookup(table[i].api_version, table[i].kind);

		if (k && strcmp(k->kind, "Namespace") != 0)
			assert_true(k->namespaced);
	}
}

static void test_kinds__waves_order(void **state)
{
	const sbx_kind *ns = sbx_kind_lookup("v1", "Namespace");
	const sbx_kind *role = sbx_kind_lookup("rbac.authorization.k8s.io/v1", "Role");
	const sbx_kind *pvc = sbx_kind_lookup("v1", "PersistentVolumeClaim");
	const sbx_kind *deploy = sbx_kind_lookup("apps/v1", "Deployment");

	(void)state;
	assert_int_equal(ns->wave, 0);
	assert_int_equal(role->wave, 1);
	assert_int_equal(pvc->wave, 2);
	assert_int_equal(deploy->wave, 3);
	assert_true(ns->wave < role->wave);
	assert_true(role->wave < pvc->wave);
	assert_true(pvc->wave < deploy->wave);
	/* Policy objects go before the volume, the Service with the workload. */
	assert_int_equal(sbx_kind_lookup("v1", "ResourceQuota")->wave, 1);
	assert_int_equal(sbx_kind_lookup("v1", "LimitRange")->wave, 1);
	assert_int_equal(sbx_kind_lookup("v1", "Secret")->wave, 1);
	assert_int_equal(sbx_kind_lookup("networking.k8s.io/v1", "NetworkPolicy")->wave, 1);
	assert_int_equal(sbx_kind_lookup("rbac.authorization.k8s.io/v1", "RoleBinding")->wave, 1);
	assert_int_equal(sbx_kind_lookup("v1", "Service")->wave, 3);
	/* Only the Namespace is in wave 0 among the renderable kinds. */
	for (size_t i = 0; i < NTABLE; i++) {
		const sbx_kind *k = sbx_kind_lookup(table[i].api_version, table[i].kind);

		if (k) {
			assert_in_range(k->wave, 0, 3);
			assert_int_equal(k->wave == 0, strcmp(k->kind, "Namespace") == 0);
		}
	}
}

static void test_kinds__cluster_scoped(void **state)
{
	static const char *const cluster[] = { "Namespace", "ClusterRole", "ClusterRoleBinding",
		"PersistentVolume", "StorageClass", "CustomResourceDefinition", "Node",
		"PriorityClass", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
		"APIService", "IngressClass", "RuntimeClass", "Sandbox" };
	static const char *const namespaced[] = { "Role", "RoleBinding", "Deployment", "Pod",
		"Service", "Secret", "ConfigMap", "PersistentVolumeClaim", "Lease", "", "namespace",
		"clusterrole", "PersistentVolumes" };

	(void)state;
	for (size_t i = 0; i < sizeof(cluster) / sizeof(cluster[0]); i++)
		assert_true(sbx_kind_is_cluster_scoped(cluster[i]));
	for (size_t i = 0; i < sizeof(namespaced) / sizeof(namespaced[0]); i++)
		assert_false(sbx_kind_is_cluster_scoped(namespaced[i]));
	/* The table and the list agree on every kind the table knows. */
	for (size_t i = 0; i < NTABLE; i++)
		assert_int_equal(sbx_kind_is_cluster_scoped(table[i].kind), !table[i].namespaced);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds__find_every_kind),
		cmocka_unit_test(test_kinds__lookup_renderable_only),
		cmocka_unit_test(test_kinds__unknown),
		cmocka_unit_test(test_kinds__namespaced),
		cmocka_unit_test(test_kinds__waves_order),
		cmocka_unit_test(test_kinds__cluster_scoped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
