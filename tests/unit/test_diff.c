// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for core/diff.c: the desired-subset-of-live comparison (maps,
 * lists, numbers, booleans, null) and the path it reports, object keys
 * "GROUP/KIND/NAMESPACE/NAME" and the tracking annotation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "diff.h"
#include "render.h"

static cJSON *parse(const char *json)
{
	cJSON *j = cJSON_Parse(json);

	if (!j)
		fail_msg("bad test JSON: %s", json);
	return j;
}

/* Compare desired and live (JSON text); check the verdict and, when they
 * differ, the reported path ("" when they match). */
static void check(const char *desired, const char *live, bool same, const char *path)
{
	cJSON *d = parse(desired), *l = parse(live);
	sbx_buf why = SBX_BUF_INIT;

	assert_int_equal(sbx_diff_subset(d, l, NULL), same);
	assert_int_equal(sbx_diff_subset(d, l, &why), same);
	assert_false(why.failed);
	if (same)
		assert_string_equal(sbx_buf_cstr(&why), "");
	else if (path)
		assert_string_equal(sbx_buf_cstr(&why), path);
	sbx_buf_dispose(&why);
	cJSON_Delete(d);
	cJSON_Delete(l);
}

static void expect_same(const char *desired, const char *live)
{
	check(desired, live, true, NULL);
}

static void expect_differ(const char *desired, const char *live, const char *path)
{
	check(desired, live, false, path);
}

/* An object is in sync with itself and with a copy the server added to. */
static void test_diff__subset_extra_live_keys(void **state)
{
	(void)state;
	expect_same("{}", "{}");
	expect_same("{}", "{\"a\":1}");
	expect_same("{\"a\":1}", "{\"a\":1}");
	expect_same("{\"spec\":{\"replicas\":1}}",
		    "{\"spec\":{\"replicas\":1,\"revisionHistoryLimit\":10},"
		    "\"status\":{\"readyReplicas\":1},\"metadata\":{\"uid\":\"x\"}}");
	expect_same("{\"metadata\":{\"labels\":{\"app\":\"web\"}}}",
		    "{\"metadata\":{\"labels\":{\"app\":\"web\",\"pod-template-hash\":\"abc\"}}}");
}

/* A desired key missing or different live is reported by its path. */
static void test_diff__maps(void **state)
{
	(void)state;
	expect_differ("{\"a\":1}", "{}", "a");
	expect_differ("{\"a\":1}", "{\"b\":1}", "a");
	expect_differ("{\"spec\":{\"replicas\":2}}", "{\"spec\":{\"replicas\":1}}", "spec.replicas");
	expect_differ("{\"spec\":{\"replicas\":2}}", "{\"spec\":{}}", "spec.replicas");
	expect_differ("{\"spec\":{\"replicas\":2}}", "{}", "spec");
	expect_differ("{\"spec\":{\"a\":1}}", "{\"spec\":\"text\"}", "spec");
	expect_differ("{\"spec\":{\"a\":1}}", "{\"spec\":[]}", "spec");
	/* keys are case-sensitive */
	expect_differ("{\"Name\":\"x\"}", "{\"name\":\"x\"}", "Name");
	/* the first difference in desired order is reported */
	expect_differ("{\"a\":1,\"b\":2,\"c\":3}", "{\"a\":1,\"b\":0,\"c\":0}", "b");
	/* siblings checked before a difference leave no trace in the path */
	expect_differ("{\"m\":{\"x\":{\"y\":1},\"z\":2}}", "{\"m\":{\"x\":{\"y\":1},\"z\":3}}", "m.z");
}

/* The path through lists of objects, as a person would read it. */
static void test_diff__why_path(void **state)
{
	(void)state;
	expect_differ("{\"spec\":{\"template\":{\"spec\":{\"containers\":["
		      "{\"name\":\"app\",\"resources\":{\"limits\":{\"cpu\":\"2\"}}}]}}}}",
		      "{\"spec\":{\"template\":{\"spec\":{\"containers\":["
		      "{\"name\":\"app\",\"image\":\"x\",\"resources\":{\"limits\":{\"cpu\":\"1\","
		      "\"memory\":\"1Gi\"}}}]}}}}",
		      "spec.template.spec.containers[0].resources.limits.cpu");
	expect_differ("{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\",\"ports\":[{\"containerPort\":80},{\"containerPort\":443}]}]}}",
		      "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\",\"ports\":[{\"containerPort\":80},{\"containerPort\":8443}]}]}}",
		      "spec.containers[1].ports[1].containerPort");
	expect_differ("{\"args\":[\"a\",\"b\"]}", "{\"args\":[\"a\",\"c\"]}", "args[1]");
	expect_differ("[[1,2],[3,4]]", "[[1,2],[3,5]]", "[1][1]");
	expect_differ("[{\"a\":1}]", "[{\"a\":2}]", "[0].a");
}

/* The path is appended to what the caller already wrote. */
static void test_diff__why_appends(void **state)
{
	cJSON *d = parse("{\"spec\":{\"replicas\":2}}"), *l = parse("{\"spec\":{\"replicas\":1}}");
	sbx_buf why = SBX_BUF_INIT;

	(void)state;
	assert_int_equal(sbx_buf_puts(&why, "Deployment web: "), 0);
	assert_false(sbx_diff_subset(d, l, &why));
	assert_int_equal(strncmp(sbx_buf_cstr(&why), "Deployment web: ", 16), 0);
	assert_non_null(strstr(sbx_buf_cstr(&why) + 16, "spec.replicas"));
	assert_string_equal(sbx_buf_cstr(&why) + why.len - 13, "spec.replicas");
	sbx_buf_clear(&why);
	assert_true(sbx_diff_subset(d, d, &why));
	assert_string_equal(sbx_buf_cstr(&why), "");
	sbx_buf_dispose(&why);
	cJSON_Delete(d);
	cJSON_Delete(l);
}

/* Lists must have the same length and match element by element, in order. */
static void test_diff__arrays(void **state)
{
	(void)state;
	expect_same("[]", "[]");
	expect_same("[1,2,3]", "[1,2,3]");
	expect_same("{\"l\":[{\"name\":\"a\"}]}", "{\"l\":[{\"name\":\"a\",\"extra\":true}]}");
	expect_differ("{\"l\":[1,2]}", "{\"l\":[1,2,3]}", "l");
	expect_differ("{\"l\":[1,2,3]}", "{\"l\":[1,2]}", "l");
	expect_differ("{\"l\":[]}", "{\"l\":[1]}", "l");
	expect_differ("{\"l\":[1,2]}", "{\"l\":[2,1]}", "l[0]");
	expect_differ("{\"l\":[1]}", "{\"l\":{\"0\":1}}", "l");
	expect_differ("{\"l\":[1]}", "{\"l\":1}", "l");
	expect_differ("{\"l\":[]}", "{}", "l");
	expect_differ("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}}}",
		      "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"sidecar\"}]}}}}",
		      "spec.template.spec.containers");
}

/* Numbers compare by value, whatever their spelling; not to strings. */
static void test_diff__numbers(void **state)
{
	(void)state;
	expect_same("{\"n\":1}", "{\"n\":1.0}");
	expect_same("{\"n\":1}", "{\"n\":1e0}");
	expect_same("{\"n\":100}", "{\"n\":1E2}");
	expect_same("{\"n\":0}", "{\"n\":-0}");
	expect_same("{\"n\":0.5}", "{\"n\":5e-1}");
	expect_same("{\"n\":3000000000}", "{\"n\":3e9}");
	expect_differ("{\"n\":1}", "{\"n\":2}", "n");
	expect_differ("{\"n\":1}", "{\"n\":1.5}", "n");
	expect_differ("{\"n\":1}", "{\"n\":\"1\"}", "n");
	expect_differ("{\"n\":\"1\"}", "{\"n\":1}", "n");
	expect_differ("{\"n\":0}", "{\"n\":false}", "n");
	expect_differ("{\"n\":0}", "{\"n\":null}", "n");
}

/* Strings compare exactly. */
static void test_diff__strings(void **state)
{
	(void)state;
	expect_same("{\"s\":\"\"}", "{\"s\":\"\"}");
	expect_same("{\"s\":\"nginx:1.27\"}", "{\"s\":\"nginx:1.27\"}");
	expect_differ("{\"s\":\"a\"}", "{\"s\":\"A\"}", "s");
	expect_differ("{\"s\":\"a\"}", "{\"s\":\"a \"}", "s");
	expect_differ("{\"s\":\"\"}", "{}", "s");
	expect_differ("{\"s\":\"x\"}", "{\"s\":[\"x\"]}", "s");
}

/* Booleans compare as booleans, not as numbers or strings. */
static void test_diff__bools(void **state)
{
	(void)state;
	expect_same("{\"b\":true}", "{\"b\":true}");
	expect_same("{\"b\":false}", "{\"b\":false}");
	expect_differ("{\"b\":true}", "{\"b\":false}", "b");
	expect_differ("{\"b\":false}", "{\"b\":true}", "b");
	expect_differ("{\"b\":false}", "{}", "b");
	expect_differ("{\"b\":true}", "{\"b\":1}", "b");
	expect_differ("{\"b\":true}", "{\"b\":\"true\"}", "b");
}

/* A desired null matches an absent field or a null, nothing else. */
static void test_diff__null(void **state)
{
	(void)state;
	expect_same("{\"x\":null}", "{}");
	expect_same("{\"x\":null}", "{\"x\":null}");
	expect_same("{\"spec\":{\"x\":null,\"y\":1}}", "{\"spec\":{\"y\":1}}");
	expect_differ("{\"x\":null}", "{\"x\":0}", "x");
	expect_differ("{\"x\":null}", "{\"x\":\"\"}", "x");
	expect_differ("{\"x\":null}", "{\"x\":{}}", "x");
	expect_differ("{\"x\":1}", "{\"x\":null}", "x");
	expect_differ("{\"x\":{}}", "{\"x\":null}", "x");
}

/* Whole-tree edge cases: NULL live is absent, both ways round. */
static void test_diff__roots(void **state)
{
	cJSON *d = parse("{\"a\":1}"), *n = parse("null");
	sbx_buf why = SBX_BUF_INIT;

	(void)state;
	assert_false(sbx_diff_subset(d, NULL, &why));
	assert_string_equal(sbx_buf_cstr(&why), "");
	assert_true(sbx_diff_subset(n, NULL, NULL));
	assert_false(sbx_diff_subset(n, d, NULL));
	assert_false(sbx_diff_subset(d, n, NULL));
	sbx_buf_dispose(&why);
	cJSON_Delete(d);
	cJSON_Delete(n);
}

static void expect_key(const char *json, const char *want)
{
	cJSON *o = parse(json);
	sbx_buf b = SBX_BUF_INIT;

	assert_int_equal(sbx_diff_key(&b, o), 0);
	assert_string_equal(sbx_buf_cstr(&b), want);
	sbx_buf_dispose(&b);
	cJSON_Delete(o);
}

/* GROUP/KIND/NAMESPACE/NAME: the group without its version, empty for the
 * core group, an empty namespace for cluster-scoped objects. */
static void test_diff__key(void **state)
{
	(void)state;
	expect_key("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
		   "\"metadata\":{\"name\":\"web\",\"namespace\":\"sbx-alice\"}}",
		   "apps/Deployment/sbx-alice/web");
	expect_key("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
		   "\"metadata\":{\"name\":\"cfg\",\"namespace\":\"sbx-alice\"}}",
		   "/ConfigMap/sbx-alice/cfg");
	expect_key("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"sbx-alice\"}}",
		   "/Namespace//sbx-alice");
	expect_key("{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"ClusterRole\","
		   "\"metadata\":{\"name\":\"viewer\"}}",
		   "rbac.authorization.k8s.io/ClusterRole//viewer");
	expect_key("{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\","
		   "\"metadata\":{\"name\":\"deny\",\"namespace\":\"ns\"}}",
		   "networking.k8s.io/NetworkPolicy/ns/deny");
	/* missing pieces are empty, not an error */
	expect_key("{}", "///");
	expect_key("{\"kind\":\"Pod\",\"metadata\":{\"name\":7}}", "/Pod//");
}

/* The key is appended to what the buffer holds. */
static void test_diff__key_appends(void **state)
{
	cJSON *o = parse("{\"apiVersion\":\"v1\",\"kind\":\"Secret\","
			 "\"metadata\":{\"name\":\"s\",\"namespace\":\"n\"}}");
	sbx_buf b = SBX_BUF_INIT;

	(void)state;
	assert_int_equal(sbx_buf_puts(&b, "key="), 0);
	assert_int_equal(sbx_diff_key(&b, o), 0);
	assert_string_equal(sbx_buf_cstr(&b), "key=/Secret/n/s");
	sbx_buf_dispose(&b);
	cJSON_Delete(o);
}

/* The tracking annotation, borrowed from the object, or NULL. */
static void test_diff__tracking_id(void **state)
{
	cJSON *o = parse("{\"metadata\":{\"annotations\":{\"" SBX_ANNOTATION_TRACKING "\":"
			 "\"alice:apps/Deployment:sbx-alice/web\",\"other\":\"x\"}}}");
	cJSON *none = parse("{\"metadata\":{\"annotations\":{\"other\":\"x\"}}}");
	cJSON *nometa = parse("{\"kind\":\"Pod\"}");
	cJSON *notstr = parse("{\"metadata\":{\"annotations\":{\"" SBX_ANNOTATION_TRACKING "\":1}}}");
	const char *id;

	(void)state;
	assert_string_equal(SBX_ANNOTATION_TRACKING, "sandbox.dev/tracking-id");
	id = sbx_diff_tracking_id(o);
	assert_non_null(id);
	assert_string_equal(id, "alice:apps/Deployment:sbx-alice/web");
	assert_ptr_equal(id, cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "metadata"),
								     "annotations"),
						 SBX_ANNOTATION_TRACKING)->valuestring);
	assert_null(sbx_diff_tracking_id(none));
	assert_null(sbx_diff_tracking_id(nometa));
	assert_null(sbx_diff_tracking_id(notstr));
	assert_null(sbx_diff_tracking_id(NULL));
	cJSON_Delete(o);
	cJSON_Delete(none);
	cJSON_Delete(nometa);
	cJSON_Delete(notstr);
}

/* Ownership is the whole tracking id against the object's own coordinates:
 * a copy carrying our annotation elsewhere, another instance, or an id
 * that only starts like ours is not ours. */
static void test_diff__owned_by_full_tracking_id(void **state)
{
	static const struct {
		const char *obj;
		const char *instance;
		bool ours;
	} rows[] = {
#define OBJ(av, kind, ns, name, id) "{\"apiVersion\":\"" av "\",\"kind\":\"" kind "\",\"metadata\":{" \
		ns "\"name\":\"" name "\",\"annotations\":{\"" SBX_ANNOTATION_TRACKING "\":\"" id "\"}}}"
		{ OBJ("apps/v1", "Deployment", "\"namespace\":\"sbx-a\",", "sandbox", "ctl:apps/Deployment:sbx-a/sandbox"),
		  "ctl", true },
		{ OBJ("v1", "Namespace", "", "sbx-a", "ctl:/Namespace:/sbx-a"), "ctl", true },
		{ OBJ("sandbox.dev/v1alpha1", "Sandbox", "", "a", "ctl:sandbox.dev/Sandbox:/a"), "ctl", true },
		/* copied into another namespace with its annotation */
		{ OBJ("apps/v1", "Deployment", "\"namespace\":\"other\",", "sandbox", "ctl:apps/Deployment:sbx-a/sandbox"),
		  "ctl", false },
		/* renamed copy */
		{ OBJ("apps/v1", "Deployment", "\"namespace\":\"sbx-a\",", "copy", "ctl:apps/Deployment:sbx-a/sandbox"),
		  "ctl", false },
		/* another kind carrying the id */
		{ OBJ("v1", "ConfigMap", "\"namespace\":\"sbx-a\",", "sandbox", "ctl:apps/Deployment:sbx-a/sandbox"),
		  "ctl", false },
		/* the same object under another instance, or a prefix of it */
		{ OBJ("v1", "Namespace", "", "sbx-a", "ctl:/Namespace:/sbx-a"), "other", false },
		{ OBJ("v1", "Namespace", "", "sbx-a", "ctl-2:/Namespace:/sbx-a"), "ctl", false },
		{ OBJ("v1", "Namespace", "", "sbx-a", "ctl:/Namespace:/sbx-a"), "ct", false },
		{ "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"sbx-a\"}}", "ctl", false },
#undef OBJ
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cJSON *o = parse(rows[i].obj);

		if (sbx_diff_owned(o, rows[i].instance) != rows[i].ours)
			fail_msg("row %zu: %s owned by '%s' should be %d", i, rows[i].obj, rows[i].instance,
				 rows[i].ours);
		cJSON_Delete(o);
	}
	assert_false(sbx_diff_owned(NULL, "ctl"));
}

/* Marking an object writes the id that ownership then recognises. */
static void test_diff__mark_then_owned(void **state)
{
	cJSON *o = parse("{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\",\"namespace\":\"n\"}}");

	(void)state;
	assert_int_equal(sbx_render_mark(o, "ctl", "alice"), 0);
	assert_string_equal(sbx_diff_tracking_id(o), "ctl:/Secret:n/s");
	assert_true(sbx_diff_owned(o, "ctl"));
	assert_false(sbx_diff_owned(o, "other"));
	cJSON_Delete(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diff__subset_extra_live_keys),
		cmocka_unit_test(test_diff__maps),
		cmocka_unit_test(test_diff__why_path),
		cmocka_unit_test(test_diff__why_appends),
		cmocka_unit_test(test_diff__arrays),
		cmocka_unit_test(test_diff__numbers),
		cmocka_unit_test(test_diff__strings),
		cmocka_unit_test(test_diff__bools),
		cmocka_unit_test(test_diff__null),
		cmocka_unit_test(test_diff__roots),
		cmocka_unit_test(test_diff__key),
		cmocka_unit_test(test_diff__key_appends),
		cmocka_unit_test(test_diff__tracking_id),
		cmocka_unit_test(test_diff__owned_by_full_tracking_id),
		cmocka_unit_test(test_diff__mark_then_owned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
