// SPDX-License-Identifier: Apache-2.0
/*
 * The Sandbox custom resource (sandboxes.sandbox.dev, cluster-scoped, one
 * per git file, the status carrier for `kubectl get sandboxes`) and the
 * ClusterRole that lets every authenticated user read them. The manifest in
 * controller/sandbox-crd.yaml is this, printed by --print-crd.
 */
#include <stdlib.h>
#include <string.h>

#include "controller.h"
#include "diff.h"
#include "error.h"
#include "log.h"
#include "render.h"

static const char crd_json[] =
	"{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
	"\"metadata\":{\"name\":\"sandboxes.sandbox.dev\",\"labels\":{\"" SBX_LABEL_MANAGED_BY "\":\"" SBX_MANAGER "\"}},"
	"\"spec\":{\"group\":\"sandbox.dev\",\"scope\":\"Cluster\","
	"\"names\":{\"plural\":\"sandboxes\",\"singular\":\"sandbox\",\"kind\":\"Sandbox\",\"listKind\":\"SandboxList\",\"shortNames\":[\"sbx\"]},"
	"\"versions\":[{\"name\":\"v1alpha1\",\"served\":true,\"storage\":true,"
	"\"subresources\":{\"status\":{}},"
	"\"additionalPrinterColumns\":["
	"{\"name\":\"Owner\",\"type\":\"string\",\"jsonPath\":\".spec.owner\"},"
	"{\"name\":\"Size\",\"type\":\"string\",\"jsonPath\":\".spec.size\"},"
	"{\"name\":\"Sync\",\"type\":\"string\",\"jsonPath\":\".status.sync\"},"
	"{\"name\":\"Health\",\"type\":\"string\",\"jsonPath\":\".status.health\"},"
	"{\"name\":\"Revision\",\"type\":\"string\",\"jsonPath\":\".status.shortRevision\"},"
	"{\"name\":\"Age\",\"type\":\"date\",\"jsonPath\":\".metadata.creationTimestamp\"},"
	"{\"name\":\"Message\",\"type\":\"string\",\"jsonPath\":\".status.message\",\"priority\":1}],"
	"\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\",\"properties\":{"
	"\"apiVersion\":{\"type\":\"string\"},\"kind\":{\"type\":\"string\"},\"metadata\":{\"type\":\"object\"},"
	"\"spec\":{\"type\":\"object\",\"description\":\"A summary of sandboxes/NAME.yaml at the observed revision; git is the source of truth.\",\"properties\":{"
	"\"owner\":{\"type\":\"string\"},\"size\":{\"type\":\"string\"},\"namespace\":{\"type\":\"string\"},"
	"\"cpu\":{\"type\":\"string\"},\"memory\":{\"type\":\"string\"},\"storage\":{\"type\":\"string\"},"
	"\"image\":{\"type\":\"string\"},\"suspended\":{\"type\":\"boolean\"},\"file\":{\"type\":\"string\"}}},"
	"\"status\":{\"type\":\"object\",\"properties\":{"
	"\"observedRevision\":{\"type\":\"string\"},\"shortRevision\":{\"type\":\"string\"},"
	"\"sync\":{\"type\":\"string\",\"enum\":[\"Synced\",\"OutOfSync\",\"Failed\",\"InvalidSpec\",\"PendingDelete\",\"PruneBlocked\",\"Conflict\"]},"
	"\"health\":{\"type\":\"string\",\"enum\":[\"Healthy\",\"Progressing\",\"Degraded\",\"Missing\",\"Suspended\"]},"
	"\"message\":{\"type\":\"string\"},"
	"\"problems\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
	"\"objects\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
	"\"kind\":{\"type\":\"string\"},\"name\":{\"type\":\"string\"},\"health\":{\"type\":\"string\"},\"message\":{\"type\":\"string\"}}}},"
	"\"ssh\":{\"type\":\"object\",\"properties\":{\"endpoint\":{\"type\":\"string\"},\"hostKeyFingerprint\":{\"type\":\"string\"},\"hostKey\":{\"type\":\"string\"}}},"
	"\"timeline\":{\"type\":\"object\",\"properties\":{"
	"\"committed\":{\"type\":\"string\"},\"seen\":{\"type\":\"string\"},\"applied\":{\"type\":\"string\"},\"ready\":{\"type\":\"string\"}}},"
	"\"pendingDeleteSince\":{\"type\":\"string\"},"
	"\"namespaceUID\":{\"type\":\"string\",\"description\":\"The uid of the namespace this Sandbox created; only that namespace is ever deleted with it.\"},"
	"\"inputsHash\":{\"type\":\"string\",\"description\":\"A hash of the sandbox file, policy and templates the status describes.\"},"
	"\"lastSyncTime\":{\"type\":\"string\"}}}}}}}]}}";

static const char role_json[] =
	"{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"ClusterRole\","
	"\"metadata\":{\"name\":\"sandbox-viewer\",\"labels\":{\"" SBX_LABEL_MANAGED_BY "\":\"" SBX_MANAGER "\"}},"
	"\"rules\":[{\"apiGroups\":[\"sandbox.dev\"],\"resources\":[\"sandboxes\"],\"verbs\":[\"get\",\"list\",\"watch\"]}]}";

static const char binding_json[] =
	"{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"ClusterRoleBinding\","
	"\"metadata\":{\"name\":\"sandbox-viewer\",\"labels\":{\"" SBX_LABEL_MANAGED_BY "\":\"" SBX_MANAGER "\"}},"
	"\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"ClusterRole\",\"name\":\"sandbox-viewer\"},"
	"\"subjects\":[{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"Group\",\"name\":\"system:authenticated\"}]}";

cJSON *crd_sandbox(void)
{
	return cJSON_Parse(crd_json);
}

cJSON *crd_viewer_role(void)
{
	return cJSON_Parse(role_json);
}

cJSON *crd_viewer_binding(void)
{
	return cJSON_Parse(binding_json);
}

/* Wait until the API serves the new resource (the CRD is Established). */
static int wait_established(controller *c)
{
	const sbx_kind *k = sbx_kind_find("apiextensions.k8s.io/v1", "CustomResourceDefinition");

	for (int i = 0; i < 100; i++) {
		cJSON *crd = NULL;
		const cJSON *cond;
		int ok = 0;

		if (sbx_kube_get(c->kube, &crd, k, NULL, "sandboxes.sandbox.dev") < 0)
			return -1;
		cJSON_ArrayForEach(cond, cJSON_GetObjectItem(cJSON_GetObjectItem(crd, "status"), "conditions")) {
			const cJSON *t = cJSON_GetObjectItem(cond, "type"), *s = cJSON_GetObjectItem(cond, "status");

			ok |= cJSON_IsString(t) && cJSON_IsString(s) && !strcmp(t->valuestring, "Established") &&
			      !strcmp(s->valuestring, "True");
		}
		cJSON_Delete(crd);
		if (ok)
			return 0;
		sbx_kube_run(c->kube, 100);
	}
	return sbx_error_set(SBX_ETIMEOUT, "the Sandbox CRD did not become Established");
}

int crd_install(controller *c)
{
	cJSON *objs[] = { crd_sandbox(), crd_viewer_role(), crd_viewer_binding() };
	sbx_kube_apply_options ao = SBX_KUBE_APPLY_OPTIONS_INIT;
	int r = 0;

	ao.force = true;
	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		const cJSON *name = cJSON_GetObjectItem(cJSON_GetObjectItem(objs[i], "metadata"), "name");
		cJSON *live = NULL;

		if (!objs[i]) {
			r = sbx_error_set(SBX_ENOMEM, "out of memory");
		} else if (r == 0) {
			/* already in place: no write, so a restart is a read-only affair */
			const sbx_kind *k = sbx_kind_find(cJSON_GetObjectItem(objs[i], "apiVersion")->valuestring,
							  cJSON_GetObjectItem(objs[i], "kind")->valuestring);

			if (sbx_kube_get(c->kube, &live, k, NULL, name->valuestring) < 0 ||
			    !sbx_diff_subset(objs[i], live, NULL))
				r = sbx_kube_apply(c->kube, NULL, objs[i], &ao);
			cJSON_Delete(live);
		}
		cJSON_Delete(objs[i]);
	}
	if (r == 0)
		r = wait_established(c);
	if (r < 0)
		log_error(NULL, "could not install the Sandbox CRD: %s", sbx_error_last());
	return r;
}
