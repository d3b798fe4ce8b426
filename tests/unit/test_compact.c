// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for controller/compact.c: what trimming keeps and drops per
 * kind, and that packing gives back the same object, stored, deflated and
 * deflated against a sibling of the same kind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compact.h"

/* A Deployment as the API server answers it, for sandbox `name`. */
static cJSON *deployment(const char *name)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{"
		 "\"annotations\":{\"sandbox.dev/applied-hash\":\"e9ec2024486c693c\","
		 "\"sandbox.dev/tracking-id\":\"sandbox-controller:apps/Deployment:sandbox-%s/sandbox\","
		 "\"kubectl.kubernetes.io/last-applied-configuration\":\"{}\"},"
		 "\"creationTimestamp\":\"2026-12-02T03:53:25Z\",\"generation\":1,"
		 "\"labels\":{\"app.kubernetes.io/managed-by\":\"sandbox-controller\",\"sandbox.dev/name\":\"%s\"},"
		 "\"managedFields\":[{\"manager\":\"sandbox-controller\",\"operation\":\"Apply\"}],"
		 "\"name\":\"sandbox\",\"namespace\":\"sandbox-%s\",\"resourceVersion\":\"12441\","
		 "\"uid\":\"ee7f5fc4-a602-4b8d-829b-b538490a0bad\"},"
		 "\"spec\":{\"replicas\":1,\"selector\":{\"matchLabels\":{\"sandbox.dev/name\":\"%s\"}},"
		 "\"template\":{\"spec\":{\"containers\":[{\"name\":\"sandbox\",\"image\":\"devbox:2026.11\","
		 "\"command\":[\"/usr/sbin/sshd\",\"-D\",\"-e\",\"-p\",\"2222\"],"
		 "\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":\"2Gi\"}}}]}}},"
		 "\"status\":{\"observedGeneration\":1,\"availableReplicas\":1,\"conditions\":["
		 "{\"type\":\"Available\",\"status\":\"True\",\"reason\":\"MinimumReplicasAvailable\"}]}}",
		 name, name, name, name);
	return cJSON_Parse(text);
}

static const cJSON *at(const cJSON *o, const char *a, const char *b)
{
	o = cJSON_GetObjectItemCaseSensitive(o, a);
	return b ? cJSON_GetObjectItemCaseSensitive(o, b) : o;
}

static void test_compact__trim_drops_bookkeeping_and_keeps_what_is_read(void **state)
{
	cJSON *d = deployment("alice");

	(void)state;
	compact_trim(d);
	assert_null(at(d, "metadata", "managedFields"));
	assert_null(at(d, "metadata", "creationTimestamp"));
	assert_null(cJSON_GetObjectItem(at(d, "metadata", "annotations"),
					"kubectl.kubernetes.io/last-applied-configuration"));
	/* diffing, ownership, pruning and health read these */
	assert_non_null(cJSON_GetObjectItem(at(d, "metadata", "annotations"), "sandbox.dev/tracking-id"));
	assert_non_null(cJSON_GetObjectItem(at(d, "metadata", "annotations"), "sandbox.dev/applied-hash"));
	assert_non_null(at(d, "metadata", "uid"));
	assert_non_null(at(d, "metadata", "generation"));
	assert_non_null(at(d, "metadata", "labels"));
	assert_non_null(at(d, "spec", "template"));
	assert_non_null(at(d, "status", "conditions"));
	cJSON_Delete(d);
}

static void test_compact__trim_keeps_status_only_where_it_is_read(void **state)
{
	static const struct {
		const char *kind;
		bool kept;
	} table[] = {
		{ "Deployment", true },
		{ "PersistentVolumeClaim", true },
		{ "Sandbox", true },
		{ "ResourceQuota", false },
		{ "Namespace", false },
		{ "Service", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(*table); i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "kind", table[i].kind);
		cJSON_AddObjectToObject(o, "metadata");
		cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "status"), "phase", "Active");
		compact_trim(o);
		if ((cJSON_GetObjectItem(o, "status") != NULL) != table[i].kept)
			fail_msg("%s: status %s", table[i].kind, table[i].kept ? "dropped" : "kept");
		cJSON_Delete(o);
	}
}

/* Pack obj against dict, unpack it, and check it came back equal; the
 * packed size. */
static size_t round_trip(compact *p, const cJSON *obj, const char *dict)
{
	size_t dlen = dict ? strlen(dict) : 0, size;
	compact_blob b;
	cJSON *back;

	assert_int_equal(compact_pack(p, obj, dict, dlen, &b), 0);
	back = compact_unpack(p, &b, dict, dlen);
	assert_non_null(back);
	assert_true(cJSON_Compare(obj, back, true));
	/* a blob packed against a dictionary cannot be read without it */
	if (dict)
		assert_null(compact_unpack(p, &b, NULL, 0));
	size = b.zlen;
	cJSON_Delete(back);
	compact_blob_dispose(&b);
	return size;
}

static void test_compact__pack_round_trips(void **state)
{
	compact *p = compact_new();
	cJSON *alice = deployment("alice"), *bob = deployment("bob"), *tiny = cJSON_CreateObject();
	char *dict, *json;
	size_t plain, with_dict;

	(void)state;
	assert_non_null(p);
	compact_trim(alice);
	compact_trim(bob);
	dict = cJSON_PrintUnformatted(alice);
	json = cJSON_PrintUnformatted(bob);
	/* too small to gain: stored as it is */
	assert_int_equal(round_trip(p, tiny, NULL), 2);
	plain = round_trip(p, bob, NULL);
	with_dict = round_trip(p, bob, dict);
	/* a sibling of the same template shares nearly every byte */
	assert_true(plain < strlen(json));
	assert_true(with_dict * 4 < strlen(json));
	/* the packer is reused: the same again */
	assert_int_equal(round_trip(p, bob, dict), with_dict);
	/* a dictionary longer than deflate's window: its last 32 KiB count */
	{
		size_t n = strlen(dict) + 40000;
		char *big = malloc(n + 1);

		assert_non_null(big);
		memset(big, ' ', n - strlen(dict));
		memcpy(big + n - strlen(dict), dict, strlen(dict) + 1);
		assert_true(round_trip(p, bob, big) * 4 < strlen(json));
		free(big);
	}
	free(dict);
	free(json);
	cJSON_Delete(alice);
	cJSON_Delete(bob);
	cJSON_Delete(tiny);
	compact_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compact__trim_drops_bookkeeping_and_keeps_what_is_read),
		cmocka_unit_test(test_compact__trim_keeps_status_only_where_it_is_read),
		cmocka_unit_test(test_compact__pack_round_trips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
