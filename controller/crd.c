// SPDX-License-Identifier: Apache-2.0
/*
 * The Sandbox custom resource (sandboxes.sandbox.dev, cluster-scoped, one
 * per git file, the status carrier for `kubectl get sandboxes`). The
 * manifest in deploy/base/crd.yaml is this, printed by --print-crd. The
 * controller installs it only with --install-crd; it never writes RBAC.
 */
#include <stdlib.h>
#include <string.h>

#include "controller.h"
#include "diff.h"
#include "error.h"
#include "render.h"

#define CRD_NAME "sandboxes.sandbox.dev"

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
	"\"idle\":{\"type\":\"object\",\"description\":\"Idle suspension, when it is on: running since activeSince; while suspended for idleness, idle since idleSince, and the activity Lease's renewTime then (a different one wakes it).\",\"properties\":{"
	"\"activeSince\":{\"type\":\"string\"},\"idleSince\":{\"type\":\"string\"},\"lastRenewal\":{\"type\":\"string\"}}},"
	"\"pendingDeleteSince\":{\"type\":\"string\"},"
	"\"namespaceUID\":{\"type\":\"string\",\"description\":\"The uid of the namespace this Sandbox created; only that namespace is ever deleted with it.\"},"
	"\"inputsHash\":{\"type\":\"string\",\"description\":\"A hash of the sandbox file, policy and templates the status describes.\"},"
	"\"lastSyncTime\":{\"type\":\"string\"}}}}}}}]}}";

cJSON *crd_sandbox(void)
{
	return cJSON_Parse(crd_json);
}

/* Wait until the API serves the new resource (the CRD is Established). */
static int wait_established(controller *c, const sbx_kind *k)
{
	for (int i = 0; i < 100; i++) {
		cJSON *crd = NULL;
		const cJSON *cond;
		int ok = 0, r = sbx_kube_get(c->kube, &crd, k, NULL, CRD_NAME);

		if (r < 0)
			return r;
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

/* With --install-crd: create or update the CRD when it differs from ours
 * (no write when it is in place, so a restart is a read-only affair). */
static int install(controller *c, const sbx_kind *k)
{
	sbx_kube_apply_options ao = SBX_KUBE_APPLY_OPTIONS_INIT;
	cJSON *want = crd_sandbox(), *live = NULL;
	int r;

	if (!want) {
		r = sbx_error_set(SBX_ENOMEM, "out of memory");
		goto done;
	}
	ao.force = true;
	r = sbx_kube_get(c->kube, &live, k, NULL, CRD_NAME);
	if (r == SBX_ENOTFOUND)
		sbx_error_clear(); /* expected: an apply failure must be what is told */
	if (r == SBX_ENOTFOUND || (r == 0 && !sbx_diff_subset(want, live, NULL)))
		r = sbx_kube_apply(c->kube, NULL, want, &ao);
done:
	cJSON_Delete(live);
	cJSON_Delete(want);
	return r;
}

int crd_ensure(controller *c)
{
	const sbx_kind *k = sbx_kind_find("apiextensions.k8s.io/v1", "CustomResourceDefinition");
	cJSON *live = NULL;
	int r;

	if (c->o.install_crd) {
		r = install(c, k);
	} else {
		r = sbx_kube_get(c->kube, &live, k, NULL, CRD_NAME);
		cJSON_Delete(live);
		if (r == SBX_ENOTFOUND) {
			sbx_error_clear(); /* the advice replaces the bare 404 */
			sbx_error_set(r, "the Sandbox CRD %s is not installed: apply deploy/ "
				      "(kubectl apply -k deploy/) or start once with --install-crd", CRD_NAME);
		}
	}
	return r == 0 ? wait_established(c, k) : r;
}
