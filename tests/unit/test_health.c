// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for core/health.c: Deployment rollout and replica failures,
 * volume claim binding and expansion, objects being deleted, missing and
 * other kinds, the names and the order of the health scale.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "health.h"

/* Health of the object in `json`; check it and the reason appended (an
 * empty reason is checked too). */
static void expect_health(const char *json, sbx_health want, const char *why_want)
{
	cJSON *o = cJSON_Parse(json);
	sbx_buf why = SBX_BUF_INIT;

	if (!o)
		fail_msg("bad test JSON: %s", json);
	assert_int_equal(sbx_health_of(o, &why), want);
	assert_false(why.failed);
	if (why_want)
		assert_string_equal(sbx_buf_cstr(&why), why_want);
	sbx_buf_dispose(&why);
	cJSON_Delete(o);
}

#define DEPLOY(spec, status) \
	"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\"," \
	"\"metadata\":{\"name\":\"web\",\"namespace\":\"sbx-a\",\"generation\":3}," \
	"\"spec\":{" spec "},\"status\":{" status "}}"

#define ROLLED "\"observedGeneration\":3,\"replicas\":1,\"updatedReplicas\":1," \
	"\"readyReplicas\":1,\"availableReplicas\":1"

#define PROGRESSING_OK "{\"type\":\"Progressing\",\"status\":\"True\"," \
	"\"reason\":\"NewReplicaSetAvailable\",\"message\":\"ReplicaSet has successfully progressed.\"}"

#define AVAILABLE_OK "{\"type\":\"Available\",\"status\":\"True\",\"reason\":\"MinimumReplicasAvailable\"}"

/* Rolled out with every replica available: healthy, nothing to say. */
static void test_health__deployment_healthy(void **state)
{
	(void)state;
	expect_health(DEPLOY("\"replicas\":1", ROLLED ",\"conditions\":[" AVAILABLE_OK "," PROGRESSING_OK "]"),
		      SBX_HEALTH_HEALTHY, "");
	expect_health(DEPLOY("\"replicas\":3", "\"observedGeneration\":4,\"updatedReplicas\":3,"
			     "\"availableReplicas\":3"),
		      SBX_HEALTH_HEALTHY, "");
}

/* A quota or admission refusal: Degraded with the controller's reason and
 * message. */
static void test_health__deployment_replica_failure(void **state)
{
	(void)state;
	expect_health(DEPLOY("\"replicas\":1",
			     "\"observedGeneration\":3,\"replicas\":0,\"unavailableReplicas\":1,"
			     "\"conditions\":[" PROGRESSING_OK ","
			     "{\"type\":\"ReplicaFailure\",\"status\":\"True\",\"reason\":\"FailedCreate\","
			     "\"message\":\"pods \\\"web-1\\\" is forbidden: exceeded quota: q\"}]"),
		      SBX_HEALTH_DEGRADED, "FailedCreate: pods \"web-1\" is forbidden: exceeded quota: q");
	/* it wins over a rollout still in progress */
	expect_health(DEPLOY("\"replicas\":1",
			     "\"observedGeneration\":2,"
			     "\"conditions\":[{\"type\":\"ReplicaFailure\",\"status\":\"True\","
			     "\"reason\":\"FailedCreate\",\"message\":\"m\"}]"),
		      SBX_HEALTH_DEGRADED, "FailedCreate: m");
	/* a resolved failure condition does not count */
	expect_health(DEPLOY("\"replicas\":1", ROLLED ",\"conditions\":["
			     "{\"type\":\"ReplicaFailure\",\"status\":\"False\",\"reason\":\"FailedCreate\"}]"),
		      SBX_HEALTH_HEALTHY, "");
}

/* Progressing=False (deadline exceeded): Degraded. */
static void test_health__deployment_progress_deadline(void **state)
{
	(void)state;
	expect_health(DEPLOY("\"replicas\":1",
			     "\"observedGeneration\":3,\"replicas\":1,\"updatedReplicas\":1,"
			     "\"unavailableReplicas\":1,\"conditions\":["
			     "{\"type\":\"Progressing\",\"status\":\"False\","
			     "\"reason\":\"ProgressDeadlineExceeded\","
			     "\"message\":\"ReplicaSet \\\"web-abc\\\" has timed out progressing.\"}]"),
		      SBX_HEALTH_DEGRADED,
		      "ProgressDeadlineExceeded: ReplicaSet \"web-abc\" has timed out progressing.");
	/* Progressing=Unknown is not a failure */
	expect_health(DEPLOY("\"replicas\":1", ROLLED ",\"conditions\":["
			     "{\"type\":\"Progressing\",\"status\":\"Unknown\"}]"),
		      SBX_HEALTH_HEALTHY, "");
}

/* The deployment controller has not yet seen the latest spec. */
static void test_health__deployment_generation(void **state)
{
	(void)state;
	expect_health(DEPLOY("\"replicas\":1", "\"observedGeneration\":2,\"updatedReplicas\":1,"
			     "\"availableReplicas\":1"),
		      SBX_HEALTH_PROGRESSING, NULL);
	/* no status at all yet */
	expect_health("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
		      "\"metadata\":{\"name\":\"web\",\"generation\":1},\"spec\":{\"replicas\":1}}",
		      SBX_HEALTH_PROGRESSING, NULL);
}

/* Scaled to zero (and seen): Suspended. */
static void test_health__deployment_scaled_to_zero(void **state)
{
	(void)state;
	expect_health(DEPLOY("\"replicas\":0", "\"observedGeneration\":3"), SBX_HEALTH_SUSPENDED, NULL);
	/* a spec change not yet seen is reported first */
	expect_health(DEPLOY("\"replicas\":0", "\"observedGeneration\":2"), SBX_HEALTH_PROGRESSING, NULL);
}

/* Fewer replicas available or updated than wanted: Progressing, with a
 * count people can read. */
static void test_health__deployment_unavailable(void **state)
{
	(void)state;
	expect_health(DEPLOY("\"replicas\":1", "\"observedGeneration\":3,\"replicas\":1,"
			     "\"updatedReplicas\":1,\"unavailableReplicas\":1"),
		      SBX_HEALTH_PROGRESSING, "0 of 1 replicas available");
	expect_health(DEPLOY("\"replicas\":3", "\"observedGeneration\":3,\"replicas\":3,"
			     "\"updatedReplicas\":3,\"availableReplicas\":2"),
		      SBX_HEALTH_PROGRESSING, "2 of 3 replicas available");
	/* all available, but an old replica set still serves some */
	expect_health(DEPLOY("\"replicas\":2", "\"observedGeneration\":3,\"replicas\":3,"
			     "\"updatedReplicas\":1,\"availableReplicas\":2"),
		      SBX_HEALTH_PROGRESSING, NULL);
}

#define PVC(phase, capacity) \
	"{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\"," \
	"\"metadata\":{\"name\":\"home\",\"namespace\":\"sbx-a\"}," \
	"\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],\"resources\":{\"requests\":{\"storage\":\"20Gi\"}}}," \
	"\"status\":{\"phase\":\"" phase "\"" capacity "}}"

/* Volume claims: waiting for a volume, bound, lost. */
static void test_health__pvc_phases(void **state)
{
	(void)state;
	expect_health(PVC("Pending", ""), SBX_HEALTH_PROGRESSING, NULL);
	expect_health(PVC("Lost", ""), SBX_HEALTH_DEGRADED, NULL);
	expect_health(PVC("Bound", ",\"capacity\":{\"storage\":\"20Gi\"}"), SBX_HEALTH_HEALTHY, "");
	/* no status yet */
	expect_health("{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\","
		      "\"metadata\":{\"name\":\"home\"},\"spec\":{}}",
		      SBX_HEALTH_PROGRESSING, NULL);
	/* bigger than asked for: fine, nothing to say */
	expect_health(PVC("Bound", ",\"capacity\":{\"storage\":\"25Gi\"}"), SBX_HEALTH_HEALTHY, "");
	/* the same size spelt differently: nothing to say */
	expect_health(PVC("Bound", ",\"capacity\":{\"storage\":\"21474836480\"}"), SBX_HEALTH_HEALTHY, "");
}

/* A bound claim smaller than requested serves on while it expands: healthy
 * with a note. */
static void test_health__pvc_expansion_pending(void **state)
{
	(void)state;
	expect_health(PVC("Bound", ",\"capacity\":{\"storage\":\"10Gi\"}"), SBX_HEALTH_HEALTHY,
		      "volume expansion from 10Gi to 20Gi pending");
	expect_health(PVC("Bound", ",\"capacity\":{\"storage\":\"10737418240\"}"), SBX_HEALTH_HEALTHY,
		      "volume expansion from 10737418240 to 20Gi pending");
}

/* Anything being deleted is on its way (a Namespace terminating too). */
static void test_health__deletion(void **state)
{
	(void)state;
	expect_health("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"sbx-a\","
		      "\"deletionTimestamp\":\"2024-01-01T00:00:00Z\"},\"status\":{\"phase\":\"Terminating\"}}",
		      SBX_HEALTH_PROGRESSING, NULL);
	/* it wins over what the kind would say */
	expect_health("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
		      "\"deletionTimestamp\":\"2024-01-01T00:00:00Z\"},\"spec\":{\"replicas\":1},"
		      "\"status\":{\"conditions\":[{\"type\":\"ReplicaFailure\",\"status\":\"True\"}]}}",
		      SBX_HEALTH_PROGRESSING, NULL);
	expect_health("{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"h\","
		      "\"deletionTimestamp\":\"2024-01-01T00:00:00Z\"},\"status\":{\"phase\":\"Lost\"}}",
		      SBX_HEALTH_PROGRESSING, NULL);
}

/* Every non-healthy verdict comes with a reason for people. */
static void test_health__reasons_not_empty(void **state)
{
	const char *cases[] = {
		DEPLOY("\"replicas\":1", "\"observedGeneration\":2"),
		DEPLOY("\"replicas\":0", "\"observedGeneration\":3"),
		DEPLOY("\"replicas\":1", "\"observedGeneration\":3"),
		PVC("Pending", ""),
		PVC("Lost", ""),
		"{\"kind\":\"Secret\",\"metadata\":{\"deletionTimestamp\":\"2024-01-01T00:00:00Z\"}}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *o = cJSON_Parse(cases[i]);
		sbx_buf why = SBX_BUF_INIT;

		assert_non_null(o);
		assert_int_not_equal(sbx_health_of(o, &why), SBX_HEALTH_HEALTHY);
		assert_true(why.len > 0);
		sbx_buf_dispose(&why);
		cJSON_Delete(o);
	}
}

/* No live object: Missing. */
static void test_health__missing(void **state)
{
	sbx_buf why = SBX_BUF_INIT;

	(void)state;
	assert_int_equal(sbx_health_of(NULL, &why), SBX_HEALTH_MISSING);
	sbx_buf_dispose(&why);
}

/* Kinds without rules are healthy once they exist. */
static void test_health__other_kinds(void **state)
{
	(void)state;
	expect_health("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"}}",
		      SBX_HEALTH_HEALTHY, "");
	expect_health("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"s\"},"
		      "\"status\":{\"loadBalancer\":{}}}",
		      SBX_HEALTH_HEALTHY, "");
	expect_health("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"n\"},"
		      "\"status\":{\"phase\":\"Active\"}}",
		      SBX_HEALTH_HEALTHY, "");
	/* no kind at all */
	expect_health("{\"metadata\":{\"name\":\"x\"}}", SBX_HEALTH_HEALTHY, "");
	/* kind names are case-sensitive */
	expect_health("{\"kind\":\"deployment\",\"spec\":{\"replicas\":0}}", SBX_HEALTH_HEALTHY, "");
}

/* Names for people. */
static void test_health__name(void **state)
{
	(void)state;
	assert_string_equal(sbx_health_name(SBX_HEALTH_HEALTHY), "Healthy");
	assert_string_equal(sbx_health_name(SBX_HEALTH_SUSPENDED), "Suspended");
	assert_string_equal(sbx_health_name(SBX_HEALTH_PROGRESSING), "Progressing");
	assert_string_equal(sbx_health_name(SBX_HEALTH_MISSING), "Missing");
	assert_string_equal(sbx_health_name(SBX_HEALTH_DEGRADED), "Degraded");
	assert_string_equal(sbx_health_name((sbx_health)42), "Unknown");
}

/* Healthy < Suspended < Progressing < Missing < Degraded, so the worst of
 * several is the largest. */
static void test_health__order(void **state)
{
	const sbx_health scale[] = {
		SBX_HEALTH_HEALTHY, SBX_HEALTH_SUSPENDED, SBX_HEALTH_PROGRESSING,
		SBX_HEALTH_MISSING, SBX_HEALTH_DEGRADED,
	};

	(void)state;
	for (size_t i = 1; i < sizeof(scale) / sizeof(scale[0]); i++)
		assert_true(scale[i - 1] < scale[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_health__deployment_healthy),
		cmocka_unit_test(test_health__deployment_replica_failure),
		cmocka_unit_test(test_health__deployment_progress_deadline),
		cmocka_unit_test(test_health__deployment_generation),
		cmocka_unit_test(test_health__deployment_scaled_to_zero),
		cmocka_unit_test(test_health__deployment_unavailable),
		cmocka_unit_test(test_health__pvc_phases),
		cmocka_unit_test(test_health__pvc_expansion_pending),
		cmocka_unit_test(test_health__deletion),
		cmocka_unit_test(test_health__reasons_not_empty),
		cmocka_unit_test(test_health__missing),
		cmocka_unit_test(test_health__other_kinds),
		cmocka_unit_test(test_health__name),
		cmocka_unit_test(test_health__order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
