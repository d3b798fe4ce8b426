// SPDX-License-Identifier: Apache-2.0
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "desired.h"
#include "error.h"
#include "idle.h"
#include "quantity.h"
#include "render.h"

cJSON *sbx_desired_sandbox(const char *name, const char *instance, const sbx_effective *e,
			   const sbx_spec *spec, const char *ns)
{
	cJSON *o = cJSON_CreateObject(), *m, *sp;
	sbx_buf b = SBX_BUF_INIT;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "apiVersion", "sandbox.dev/v1alpha1");
	cJSON_AddStringToObject(o, "kind", "Sandbox");
	m = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddStringToObject(m, "name", name);
	sbx_render_mark(o, instance, name);
	sp = cJSON_AddObjectToObject(o, "spec");
	sbx_buf_printf(&b, "sandboxes/%s.yaml", name);
	cJSON_AddStringToObject(sp, "file", sbx_buf_cstr(&b));
	if (e && spec) {
		cJSON_AddStringToObject(sp, "owner", spec->owner);
		cJSON_AddStringToObject(sp, "size", e->size);
		cJSON_AddStringToObject(sp, "namespace", ns);
		sbx_buf_clear(&b);
		sbx_quantity_format(&b, &e->workload.cpu);
		cJSON_AddStringToObject(sp, "cpu", sbx_buf_cstr(&b));
		sbx_buf_clear(&b);
		sbx_quantity_format(&b, &e->workload.memory);
		cJSON_AddStringToObject(sp, "memory", sbx_buf_cstr(&b));
		sbx_buf_clear(&b);
		sbx_quantity_format(&b, &e->workload.storage);
		cJSON_AddStringToObject(sp, "storage", sbx_buf_cstr(&b));
		cJSON_AddBoolToObject(sp, "suspended", spec->suspended);
	}
	sbx_buf_dispose(&b);
	return o;
}

void sbx_desired_stamp(cJSON *obj)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char hex[17];
	char *text = cJSON_PrintUnformatted(obj);
	cJSON *annotations = cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "metadata"), "annotations");

	if (!text || !annotations || !EVP_Digest(text, strlen(text), md, &n, EVP_sha256(), NULL)) {
		free(text);
		return;
	}
	for (int i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	cJSON_AddStringToObject(annotations, SBX_ANNOTATION_HASH, hex);
	free(text);
}

/* The activity Lease of a sandbox whose idle suspension is on: only its
 * duration is ours; the renewals are the clients'. */
static cJSON *activity_lease(const char *ns, const char *name, const char *instance, int64_t after_s)
{
	cJSON *o = cJSON_CreateObject(), *m;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "apiVersion", "coordination.k8s.io/v1");
	cJSON_AddStringToObject(o, "kind", "Lease");
	m = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddStringToObject(m, "name", SBX_IDLE_LEASE);
	cJSON_AddStringToObject(m, "namespace", ns);
	cJSON_AddNumberToObject(cJSON_AddObjectToObject(o, "spec"), "leaseDurationSeconds",
				(double)sbx_idle_lease_s(after_s));
	if (!cJSON_GetObjectItem(o, "spec") || sbx_render_mark(o, instance, name) < 0) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int sbx_desired(cJSON **out, const sbx_repo *repo, const sbx_spec *spec, const sbx_render_options *ro,
		sbx_diags *d)
{
	const char *instance = ro && ro->instance ? ro->instance : SBX_MANAGER;
	sbx_effective e;
	sbx_buf ns = SBX_BUF_INIT;
	cJSON *objs = NULL, *all, *sandbox, *lease = NULL, *obj;
	int r;

	*out = NULL;
	if ((r = sbx_policy_resolve(&e, repo->policy, spec, d)) < 0 ||
	    (r = sbx_render(&objs, repo->templates, repo->policy, spec, ro, d)) < 0)
		return r;
	sbx_render_namespace(&ns, repo->policy, spec->name);
	all = cJSON_CreateArray();
	sandbox = sbx_desired_sandbox(spec->name, instance, &e, spec, sbx_buf_cstr(&ns));
	if (e.idle_after_s > 0)
		lease = activity_lease(sbx_buf_cstr(&ns), spec->name, instance, e.idle_after_s);
	sbx_buf_dispose(&ns);
	if (!all || !sandbox || (e.idle_after_s > 0 && !lease)) {
		cJSON_Delete(all);
		cJSON_Delete(sandbox);
		cJSON_Delete(lease);
		cJSON_Delete(objs);
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	}
	cJSON_AddItemToArray(all, sandbox);
	while (objs->child)
		cJSON_AddItemToArray(all, cJSON_DetachItemViaPointer(objs, objs->child));
	cJSON_Delete(objs);
	if (lease)
		cJSON_AddItemToArray(all, lease);
	cJSON_ArrayForEach(obj, all)
		sbx_desired_stamp(obj);
	*out = all;
	return 0;
}
