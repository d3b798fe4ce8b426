/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The static table of Kubernetes kinds sandbox renders and manages: API
 * group/version, REST resource name, scope and the apply wave.
 */
#ifndef SBX_KINDS_H
#define SBX_KINDS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sbx_kind {
	const char *api_version;  /* "v1", "apps/v1", ... */
	const char *kind;         /* "Deployment" */
	const char *resource;     /* "deployments" */
	bool namespaced;
	int wave;                 /* apply order: Namespace 0; policy objects 1; volume 2; workload 3 */
	bool renderable;          /* a template may render it */
} sbx_kind;

/* The entry for apiVersion + kind among the kinds a template may render,
 * or NULL. Static storage. */
const sbx_kind *sbx_kind_lookup(const char *api_version, const char *kind);

/* The entry for apiVersion + kind among every kind the API client knows
 * (the renderable ones plus Pod, ReplicaSet, Event, Node, ClusterRole,
 * ClusterRoleBinding,
 * CustomResourceDefinition and our Sandbox), or NULL. Static storage. */
const sbx_kind *sbx_kind_find(const char *api_version, const char *kind);

/* The i-th entry of the whole table, or NULL past its end (for walking it).
 * Static storage. */
const sbx_kind *sbx_kind_at(size_t i);

/* Whether `kind` is a well-known cluster-scoped kind (ClusterRole,
 * PersistentVolume, ...), for clearer refusals. */
bool sbx_kind_is_cluster_scoped(const char *kind);

#endif
