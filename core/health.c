// SPDX-License-Identifier: Apache-2.0
/*
 * Per-kind health rules: Deployment rollout and replica failures (quota and
 * admission refusals surface as ReplicaFailure/FailedCreate), volume claim
 * binding and expansion, namespace termination.
 */
#include <string.h>

#include "health.h"
#include "quantity.h"

static const cJSON *at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	return b ? cJSON_GetObjectItemCaseSensitive(v, b) : v;
}

static double num(const cJSON *v)
{
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const cJSON *condition(const cJSON *obj, const char *type)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, at(obj, "status", "conditions")) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "type");

		if (cJSON_IsString(t) && strcmp(t->valuestring, type) == 0)
			return c;
	}
	return NULL;
}

static const char *cstr(const cJSON *c, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static sbx_health deployment(const cJSON *d, sbx_buf *why)
{
	const cJSON *fail = condition(d, "ReplicaFailure"), *prog = condition(d, "Progressing");
	const cJSON *replicas = at(d, "spec", "replicas");
	/* absent means 1, as the API server defaults it */
	double want = replicas ? num(replicas) : 1, avail = num(at(d, "status", "availableReplicas"));

	if (fail && strcmp(cstr(fail, "status"), "True") == 0) {
		sbx_buf_printf(why, "%s: %s", cstr(fail, "reason"), cstr(fail, "message"));
		return SBX_HEALTH_DEGRADED;
	}
	if (prog && strcmp(cstr(prog, "status"), "False") == 0) {
		sbx_buf_printf(why, "%s: %s", cstr(prog, "reason"), cstr(prog, "message"));
		return SBX_HEALTH_DEGRADED;
	}
	if (num(at(d, "status", "observedGeneration")) < num(at(d, "metadata", "generation"))) {
		sbx_buf_puts(why, "waiting for the deployment controller to see the change");
		return SBX_HEALTH_PROGRESSING;
	}
	if (want == 0) {
		sbx_buf_puts(why, "scaled to zero");
		return SBX_HEALTH_SUSPENDED;
	}
	if (num(at(d, "status", "updatedReplicas")) < want) {
		sbx_buf_printf(why, "%.0f of %.0f replicas updated", num(at(d, "status", "updatedReplicas")), want);
		return SBX_HEALTH_PROGRESSING;
	}
	if (avail < want) {
		sbx_buf_printf(why, "%.0f of %.0f replicas available", avail, want);
		return SBX_HEALTH_PROGRESSING;
	}
	return SBX_HEALTH_HEALTHY;
}

static sbx_health claim(const cJSON *pvc, sbx_buf *why)
{
	const char *phase = cJSON_IsString(at(pvc, "status", "phase")) ? at(pvc, "status", "phase")->valuestring : "";
	const cJSON *want = at(at(pvc, "spec", "resources"), "requests", "storage");
	const cJSON *have = at(pvc, "status", "capacity");
	sbx_quantity w, h;

	if (strcmp(phase, "Lost") == 0) {
		sbx_buf_puts(why, "the volume claim lost its volume");
		return SBX_HEALTH_DEGRADED;
	}
	if (strcmp(phase, "Bound") != 0) {
		sbx_buf_printf(why, "volume claim is %s, waiting for a volume", *phase ? phase : "new");
		return SBX_HEALTH_PROGRESSING;
	}
	have = cJSON_GetObjectItemCaseSensitive(have, "storage");
	/* a bound claim serves its old size while an expansion is pending:
	 * healthy, with a note */
	if (cJSON_IsString(want) && cJSON_IsString(have) &&
	    sbx_quantity_parse(&w, want->valuestring) == 0 &&
	    sbx_quantity_parse(&h, have->valuestring) == 0 && sbx_quantity_cmp(&h, &w) < 0)
		sbx_buf_printf(why, "volume expansion from %s to %s pending", have->valuestring,
			       want->valuestring);
	return SBX_HEALTH_HEALTHY;
}

static sbx_health assess(const cJSON *live, sbx_buf *why)
{
	const cJSON *kind = at(live, "kind", NULL);

	if (!live)
		return SBX_HEALTH_MISSING;
	if (cJSON_GetObjectItemCaseSensitive(at(live, "metadata", NULL), "deletionTimestamp")) {
		sbx_buf_puts(why, "being deleted");
		return SBX_HEALTH_PROGRESSING;
	}
	if (!cJSON_IsString(kind))
		return SBX_HEALTH_HEALTHY;
	if (strcmp(kind->valuestring, "Deployment") == 0)
		return deployment(live, why);
	if (strcmp(kind->valuestring, "PersistentVolumeClaim") == 0)
		return claim(live, why);
	return SBX_HEALTH_HEALTHY;
}

sbx_health sbx_health_of(const cJSON *live, sbx_buf *why)
{
	sbx_buf scratch = SBX_BUF_INIT;
	sbx_health h = assess(live, why ? why : &scratch);

	sbx_buf_dispose(&scratch);
	return h;
}

const char *sbx_health_name(sbx_health h)
{
	switch (h) {
	case SBX_HEALTH_HEALTHY: return "Healthy";
	case SBX_HEALTH_SUSPENDED: return "Suspended";
	case SBX_HEALTH_PROGRESSING: return "Progressing";
	case SBX_HEALTH_MISSING: return "Missing";
	case SBX_HEALTH_DEGRADED: return "Degraded";
	}
	return "Unknown";
}
