// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for cli/change.c, sandbox diff's model: what is dropped
 * before comparing, Secret values masked, the field list, what a change
 * means for the sandbox, and the key that groups sandboxes changing the
 * same way. Tables where the rule has cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "change.h"

static char *fields_of(const char *live, const char *merged)
{
	cJSON *l = live ? cJSON_Parse(live) : NULL, *m = merged ? cJSON_Parse(merged) : NULL;
	cJSON *out = cJSON_CreateArray();
	char *text;

	cli_change_fields(out, l, m);
	text = cJSON_PrintUnformatted(out);
	cJSON_Delete(l);
	cJSON_Delete(m);
	cJSON_Delete(out);
	return text;
}

static void test_change__fields_table(void **state)
{
	static const struct {
		const char *live, *merged, *want;
	} cases[] = {
		{ "{\"a\":1}", "{\"a\":1}", "[]" },
		{ "{\"spec\":{\"replicas\":1}}", "{\"spec\":{\"replicas\":0}}",
		  "[{\"path\":\"spec.replicas\",\"from\":1,\"to\":0}]" },
		{ "{\"m\":{}}", "{\"m\":{\"labels\":{\"team\":\"x\"}}}",
		  "[{\"path\":\"m.labels\",\"to\":{\"team\":\"x\"}}]" },
		{ "{\"l\":{\"app.kubernetes.io/name\":\"a\"}}", "{\"l\":{\"app.kubernetes.io/name\":\"b\"}}",
		  "[{\"path\":\"l[\\\"app.kubernetes.io/name\\\"]\",\"from\":\"a\",\"to\":\"b\"}]" },
		{ "{\"c\":[{\"n\":1},{\"n\":2}]}", "{\"c\":[{\"n\":1}]}",
		  "[{\"path\":\"c[1]\",\"from\":{\"n\":2}}]" },
		{ "{\"c\":[1,2]}", "{\"c\":[1,3]}", "[{\"path\":\"c[1]\",\"from\":2,\"to\":3}]" },
		{ "{\"gone\":true,\"kept\":1}", "{\"kept\":1}", "[{\"path\":\"gone\",\"from\":true}]" },
		{ NULL, "{\"kind\":\"Service\"}", "[{\"path\":\"\",\"to\":{\"kind\":\"Service\"}}]" },
		{ "{\"kind\":\"Service\"}", NULL, "[{\"path\":\"\",\"from\":{\"kind\":\"Service\"}}]" },
		{ "{\"a\":\"1\"}", "{\"a\":1}", "[{\"path\":\"a\",\"from\":\"1\",\"to\":1}]" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = fields_of(cases[i].live, cases[i].merged);

		if (strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu: got %s, want %s", i, got, cases[i].want);
		free(got);
	}
}

static void test_change__normalize_drops_what_the_server_keeps(void **state)
{
	cJSON *o = cJSON_Parse("{\"kind\":\"Service\",\"metadata\":{\"name\":\"s\",\"uid\":\"u\","
			       "\"resourceVersion\":\"9\",\"generation\":2,\"creationTimestamp\":\"t\","
			       "\"managedFields\":[{}],\"annotations\":{\"sandbox.dev/applied-hash\":\"ab\"}},"
			       "\"spec\":{\"x\":1},\"status\":{\"y\":2}}");
	char *text;

	(void)state;
	cli_change_normalize(o);
	cli_change_normalize(NULL);
	text = cJSON_PrintUnformatted(o);
	assert_string_equal(text, "{\"kind\":\"Service\",\"metadata\":{\"name\":\"s\"},\"spec\":{\"x\":1}}");
	free(text);
	cJSON_Delete(o);
}

static void test_change__secret_values_are_masked(void **state)
{
	cJSON *live = cJSON_Parse("{\"kind\":\"Secret\",\"data\":{\"same\":\"c2VjcmV0\",\"old\":\"YQ==\",\"gone\":\"Yg==\"}}");
	cJSON *merged = cJSON_Parse("{\"kind\":\"Secret\",\"data\":{\"same\":\"c2VjcmV0\",\"old\":\"Yw==\",\"new\":\"ZA==\"}}");
	cJSON *cm = cJSON_Parse("{\"kind\":\"ConfigMap\",\"data\":{\"k\":\"v\"}}");
	char *l, *m, *c;

	(void)state;
	cli_change_mask_secrets(live, merged);
	cli_change_mask_secrets(cm, NULL);
	l = cJSON_PrintUnformatted(live);
	m = cJSON_PrintUnformatted(merged);
	c = cJSON_PrintUnformatted(cm);
	assert_string_equal(l, "{\"kind\":\"Secret\",\"data\":{\"same\":\"***\",\"old\":\"*** (before)\",\"gone\":\"*** (before)\"}}");
	assert_string_equal(m, "{\"kind\":\"Secret\",\"data\":{\"same\":\"***\",\"old\":\"*** (after)\",\"new\":\"*** (after)\"}}");
	assert_string_equal(c, "{\"kind\":\"ConfigMap\",\"data\":{\"k\":\"v\"}}");
	assert_null(strstr(l, "c2VjcmV0"));
	free(l);
	free(m);
	free(c);
	cJSON_Delete(live);
	cJSON_Delete(merged);
	cJSON_Delete(cm);
}

static void test_change__effects_table(void **state)
{
	static const struct {
		const char *live, *merged;
		bool restarts, starts, stops, grows;
	} cases[] = {
		{ "{\"kind\":\"Deployment\",\"spec\":{\"replicas\":1,\"template\":{\"a\":1}}}",
		  "{\"kind\":\"Deployment\",\"spec\":{\"replicas\":1,\"template\":{\"a\":2}}}", true, false, false, false },
		{ "{\"kind\":\"Deployment\",\"metadata\":{\"labels\":{}},\"spec\":{\"template\":{\"a\":1}}}",
		  "{\"kind\":\"Deployment\",\"metadata\":{\"labels\":{\"t\":\"x\"}},\"spec\":{\"template\":{\"a\":1}}}",
		  false, false, false, false },
		{ "{\"kind\":\"Deployment\",\"spec\":{\"replicas\":0,\"template\":{}}}",
		  "{\"kind\":\"Deployment\",\"spec\":{\"replicas\":1,\"template\":{}}}", false, true, false, false },
		{ "{\"kind\":\"Deployment\",\"spec\":{\"template\":{}}}",
		  "{\"kind\":\"Deployment\",\"spec\":{\"replicas\":0,\"template\":{}}}", false, false, true, false },
		{ "{\"kind\":\"PersistentVolumeClaim\",\"spec\":{\"resources\":{\"requests\":{\"storage\":\"10Gi\"}}}}",
		  "{\"kind\":\"PersistentVolumeClaim\",\"spec\":{\"resources\":{\"requests\":{\"storage\":\"20Gi\"}}}}",
		  false, false, false, true },
		{ "{\"kind\":\"PersistentVolumeClaim\",\"spec\":{\"resources\":{\"requests\":{\"storage\":\"20Gi\"}}}}",
		  "{\"kind\":\"PersistentVolumeClaim\",\"spec\":{\"resources\":{\"requests\":{\"storage\":\"10Gi\"}}}}",
		  false, false, false, false },
		{ NULL, "{\"kind\":\"Deployment\",\"spec\":{\"template\":{}}}", false, false, false, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *l = cases[i].live ? cJSON_Parse(cases[i].live) : NULL, *m = cJSON_Parse(cases[i].merged);
		cli_effects e = { 0 };

		cli_change_effects(&e, l, m);
		if (e.restarts != cases[i].restarts || e.starts != cases[i].starts || e.stops != cases[i].stops ||
		    e.grows != cases[i].grows)
			fail_msg("case %zu: restarts %d starts %d stops %d grows %d", i, e.restarts, e.starts,
				 e.stops, e.grows);
		if (e.grows)
			assert_string_equal(e.grow_to, "20Gi");
		cJSON_Delete(l);
		cJSON_Delete(m);
	}
}

static char *key_of(const char *sandbox, const char *ns, const char *from, const char *to)
{
	cJSON *obj = cJSON_Parse("{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"sandbox\"}}");
	cJSON *fields = cJSON_CreateArray(), *l = cJSON_Parse(from), *m = cJSON_Parse(to);
	sbx_buf key = SBX_BUF_INIT;

	cli_change_fields(fields, l, m);
	cli_change_key(&key, "change", obj, fields, sandbox, ns);
	cJSON_Delete(obj);
	cJSON_Delete(fields);
	cJSON_Delete(l);
	cJSON_Delete(m);
	return sbx_buf_take(&key, NULL);
}

static void test_change__same_change_same_key_whatever_the_names(void **state)
{
	char *a = key_of("ana", "sbx-ana", "{\"ns\":\"sbx-ana\",\"cpu\":\"1\"}", "{\"ns\":\"sbx-ana\",\"cpu\":\"2\"}");
	char *b = key_of("ben", "sbx-ben", "{\"ns\":\"sbx-ben\",\"cpu\":\"1\"}", "{\"ns\":\"sbx-ben\",\"cpu\":\"2\"}");
	char *c = key_of("cyd", "sbx-cyd", "{\"cpu\":\"1\"}", "{\"cpu\":\"4\"}");
	char *d = key_of("dee", "sbx-dee", "{\"owner\":\"ann\"}", "{\"owner\":\"dee\"}");

	(void)state;
	assert_string_equal(a, b);
	assert_string_equal(a, "change Deployment sandbox\n  cpu: \"1\" -> \"2\"\n");
	assert_string_not_equal(a, c);
	assert_non_null(strstr(d, "\"<name>\""));
	free(a);
	free(b);
	free(c);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_change__fields_table),
		cmocka_unit_test(test_change__normalize_drops_what_the_server_keeps),
		cmocka_unit_test(test_change__secret_values_are_masked),
		cmocka_unit_test(test_change__effects_table),
		cmocka_unit_test(test_change__same_change_same_key_whatever_the_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
