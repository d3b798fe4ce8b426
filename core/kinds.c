// SPDX-License-Identifier: Apache-2.0
/*
 * Kind table: the only list of the object kinds sandbox may render.
 */
#include <string.h>

#include "kinds.h"

static const sbx_kind kinds[] = {
	{ "v1", "Namespace", "namespaces", false, 0, true },
	{ "v1", "ResourceQuota", "resourcequotas", true, 1, true },
	{ "v1", "LimitRange", "limitranges", true, 1, true },
	{ "rbac.authorization.k8s.io/v1", "Role", "roles", true, 1, true },
	{ "rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", true, 1, true },
	{ "v1", "Secret", "secrets", true, 1, true },
	{ "v1", "ConfigMap", "configmaps", true, 1, true },
	{ "v1", "ServiceAccount", "serviceaccounts", true, 1, true },
	{ "networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", true, 1, true },
	/* watched and applied as rendered, but made only by sbx_desired (the
	 * activity Lease): sbx_templates_load refuses it */
	{ "coordination.k8s.io/v1", "Lease", "leases", true, 1, true },
	{ "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, 2, true },
	{ "apps/v1", "Deployment", "deployments", true, 3, true },
	{ "v1", "Service", "services", true, 3, true },
	/* read or written by the controller and the CLI, never rendered */
	{ "v1", "Pod", "pods", true, 0, false },
	{ "apps/v1", "ReplicaSet", "replicasets", true, 0, false },
	{ "v1", "Event", "events", true, 0, false },
	{ "v1", "Node", "nodes", false, 0, false },
	{ "apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", false, 0, false },
	{ "rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", false, 0, false },
	{ "rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", false, 0, false },
	{ "sandbox.dev/v1alpha1", "Sandbox", "sandboxes", false, 0, false },
};

const sbx_kind *sbx_kind_find(const char *api_version, const char *kind)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].api_version, api_version) == 0 && strcmp(kinds[i].kind, kind) == 0)
			return &kinds[i];
	return NULL;
}

const sbx_kind *sbx_kind_at(size_t i)
{
	return i < sizeof(kinds) / sizeof(kinds[0]) ? &kinds[i] : NULL;
}

const sbx_kind *sbx_kind_lookup(const char *api_version, const char *kind)
{
	const sbx_kind *k = sbx_kind_find(api_version, kind);

	return k && k->renderable ? k : NULL;
}

bool sbx_kind_is_cluster_scoped(const char *kind)
{
	static const char *const cluster[] = { "Namespace", "ClusterRole", "ClusterRoleBinding",
		"PersistentVolume", "StorageClass", "CustomResourceDefinition", "Node",
		"PriorityClass", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
		"APIService", "IngressClass", "RuntimeClass", "Sandbox", NULL };

	for (const char *const *c = cluster; *c; c++)
		if (strcmp(*c, kind) == 0)
			return true;
	return false;
}
