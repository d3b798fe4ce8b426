// SPDX-License-Identifier: Apache-2.0
/*
 * What the API client makes of an answer (core/kube.c through
 * kube-private.h), without a server: a table of statuses and bodies and
 * the error, reason and message each becomes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "kinds.h"
#include "kube-private.h"
#include "kube.h"

struct row {
	const char *what;
	long status;
	const char *body;
	int err;
	const char *reason, *message;
};

static const struct row rows[] = {
	{ "a success: no error, the body parsed", 200, "{\"kind\":\"ConfigMap\"}", 0, "", "" },
	{ "a Status: its reason and message", 404,
	  "{\"kind\":\"Status\",\"reason\":\"NotFound\",\"message\":\"configmaps \\\"x\\\" not found\"}",
	  SBX_ENOTFOUND, "NotFound", "configmaps \"x\" not found" },
	{ "field causes the message lacks are added", 422,
	  "{\"kind\":\"Status\",\"reason\":\"Invalid\",\"message\":\"invalid\",\"details\":{\"causes\":"
	  "[{\"field\":\"spec.x\",\"message\":\"must be positive\"},{\"message\":\"invalid\"}]}}",
	  SBX_EINVALIDOBJ, "Invalid", "invalid; spec.x: must be positive" },
	{ "an unknown reason: the code decides", 409, "{\"reason\":\"SomethingNew\",\"message\":\"m\"}",
	  SBX_ECONFLICT, "SomethingNew", "m" },
	{ "no body at all: the code, said plainly", 503, "", SBX_ESERVER, "",
	  "the API server answered HTTP 503" },
	{ "not JSON (a proxy's page): the code, said plainly", 502, "<html>bad gateway</html>",
	  SBX_ESERVER, "", "the API server answered HTTP 502" },
	{ "an empty message: the code, said plainly", 403, "{\"reason\":\"Forbidden\",\"message\":\"\"}",
	  SBX_EFORBIDDEN, "Forbidden", "the API server answered HTTP 403" },
	{ "a message that is not a string", 429, "{\"message\":42}", SBX_ETOOMANY, "",
	  "the API server answered HTTP 429" },
};

static void test_kuberead__table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		sbx_kube_resp resp;

		memset(&resp, 0, sizeof(resp));
		sbx_kube_read_response(&resp, r->status, r->body, strlen(r->body));
		if (resp.err != r->err || resp.status != r->status || strcmp(resp.reason, r->reason) ||
		    strcmp(resp.message, r->message))
			fail_msg("row %zu '%s': err %d (want %d), reason '%s' (want '%s'), message '%s' "
				 "(want '%s')", i, r->what, resp.err, r->err, resp.reason, r->reason,
				 resp.message, r->message);
		if (r->status < 300 && !resp.body)
			fail_msg("row %zu '%s': the body was not parsed", i, r->what);
		cJSON_Delete(resp.body);
	}
}

static void count_object(cJSON *obj, void *payload)
{
	assert_true(cJSON_IsObject(obj));
	(*(int *)payload)++;
	cJSON_Delete(obj);
}

/* A list page's items reach the watch's handler as objects with their
 * kind; anything else in the array (a broken server's) is dropped, never
 * handed over. */
static void test_kuberead__list_page_items(void **state)
{
	static sbx_kube_config cfg = { .server = "https://127.0.0.1:1" };
	static const char page[] = "{\"items\":[{\"metadata\":{\"name\":\"a\"}},\"continue\",7,null,[],"
				   "{\"metadata\":{\"name\":\"b\"}}],\"metadata\":{\"resourceVersion\":\"9\"}}";
	sbx_kube_options o = SBX_KUBE_OPTIONS_INIT;
	sbx_kube_watch_handlers h = { NULL, NULL, count_object, NULL };
	sbx_kube_resp resp;
	sbx_kube_watch *w;
	sbx_kube *k;
	int n = 0;

	(void)state;
	assert_int_equal(sbx_kube_new(&k, &cfg, &o), 0);
	assert_int_equal(sbx_kube_watch_start(&w, k, sbx_kind_lookup("v1", "ConfigMap"), NULL, NULL, &h, &n), 0);
	memset(&resp, 0, sizeof(resp));
	sbx_kube_read_response(&resp, 200, page, strlen(page));
	sbx_kube_watch_feed_page(w, &resp);
	assert_int_equal(n, 2);
	assert_true(sbx_kube_watch_synced(w));
	assert_string_equal(sbx_kube_watch_version(w), "9");
	cJSON_Delete(resp.body);
	sbx_kube_watch_stop(w);
	sbx_kube_free(k);
}

static void test_kuberead__list_page_not_a_list(void **state)
{
	/* a success whose body is not a list (a proxy's page, a body cut
	 * short, one that did not parse) must not pass for an empty list:
	 * the cache would take every object for deleted */
	static sbx_kube_config cfg = { .server = "https://127.0.0.1:1" };
	static const char *const bodies[] = { "<html>ok</html>", "", "{\"kind\":\"Status\"}",
					      "{\"items\":{}}", "[1,2]" };
	sbx_kube_options o = SBX_KUBE_OPTIONS_INIT;
	sbx_kube_watch_handlers h = { NULL, NULL, count_object, NULL };
	sbx_kube *k;

	(void)state;
	assert_int_equal(sbx_kube_new(&k, &cfg, &o), 0);
	for (size_t i = 0; i <= sizeof(bodies) / sizeof(bodies[0]); i++) {
		/* the last round: items null, an empty list as Go may write it */
		const char *body = i < sizeof(bodies) / sizeof(bodies[0]) ? bodies[i] :
				   "{\"items\":null,\"metadata\":{\"resourceVersion\":\"5\"}}";
		sbx_kube_resp resp;
		sbx_kube_watch *w;
		int n = 0;

		assert_int_equal(sbx_kube_watch_start(&w, k, sbx_kind_lookup("v1", "ConfigMap"), NULL,
						      NULL, &h, &n), 0);
		memset(&resp, 0, sizeof(resp));
		sbx_kube_read_response(&resp, 200, body, strlen(body));
		sbx_kube_watch_feed_page(w, &resp);
		if (sbx_kube_watch_synced(w) != (i == sizeof(bodies) / sizeof(bodies[0])) || n != 0)
			fail_msg("body '%s': synced %d, %d objects", body, sbx_kube_watch_synced(w), n);
		cJSON_Delete(resp.body);
		sbx_kube_watch_stop(w);
	}
	sbx_kube_free(k);
}

/* /version as servers write it: upstream, and managed providers who add a
 * "+" to the minor and a suffix to gitVersion. */
static void test_kuberead__version(void **state)
{
	static const struct {
		const char *body;
		bool ok;
		int major, minor;
		const char *git;
	} versions[] = {
		{ "{\"major\":\"1\",\"minor\":\"34\",\"gitVersion\":\"v1.34.4\"}", true, 1, 34, "v1.34.4" },
		{ "{\"major\":\"1\",\"minor\":\"33+\",\"gitVersion\":\"v1.33.5-eks-113cf36\"}", true, 1, 33,
		  "v1.33.5-eks-113cf36" },
		{ "{\"major\":\"1\",\"minor\":\"37\"}", true, 1, 37, "" },
		{ "{\"major\":\"1\"}", false, 1, -1, "" },
		{ "{\"major\":\"1\",\"minor\":\"\"}", false, 1, -1, "" },
		{ "{\"major\":\"1\",\"minor\":\"3x\"}", false, 1, -1, "" },
		{ "{\"major\":1,\"minor\":\"34\"}", false, -1, 34, "" },
		{ "[]", false, -1, -1, "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		cJSON *v = cJSON_Parse(versions[i].body);
		char git[64];
		int major, minor;
		bool ok;

		assert_non_null(v);
		ok = sbx_kube_version_parse(v, &major, &minor, git, sizeof(git));
		if (ok != versions[i].ok || major != versions[i].major || minor != versions[i].minor ||
		    strcmp(git, versions[i].git))
			fail_msg("%s: %d %d.%d '%s'", versions[i].body, ok, major, minor, git);
		cJSON_Delete(v);
	}
}

/* Server-side apply's managedFields is blanked in the text before a list
 * page or watch event is parsed: only metadata.managedFields of each
 * listed object (or of an event's object), with a comma next to it, and
 * the text stays JSON. Each row: the text, and what it must parse to
 * after. */
static void test_kuberead__managed_fields_dropped(void **state)
{
	static const struct {
		const char *in, *want;   /* want NULL: not JSON, and the text becomes `after` */
		const char *after;
	} cases[] = {
		/* a list page: first, middle, last and only member */
		{ "{\"items\":[{\"metadata\":{\"managedFields\":[{\"manager\":\"m\"}],\"name\":\"a\"}},"
		  "{\"metadata\":{\"name\":\"b\",\"managedFields\":[{\"f:x\":{}}],\"uid\":\"u\"}},"
		  "{\"metadata\":{\"name\":\"c\",\"managedFields\":[]}},"
		  "{\"metadata\":{\"managedFields\":[\"]}\\\"\"]}}],\"metadata\":{\"resourceVersion\":\"9\"}}",
		  "{\"items\":[{\"metadata\":{\"name\":\"a\"}},{\"metadata\":{\"name\":\"b\",\"uid\":\"u\"}},"
		  "{\"metadata\":{\"name\":\"c\"}},{\"metadata\":{}}],\"metadata\":{\"resourceVersion\":\"9\"}}", NULL },
		/* a watch event, spaced out as a pretty printer would */
		{ "{ \"type\" : \"ADDED\" , \"object\" : { \"metadata\" : { \"name\" : \"a\" ,\n"
		  "  \"managedFields\" : [ { \"manager\" : \"m\" } ] } , \"spec\" : { } } }",
		  "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"},\"spec\":{}}}", NULL },
		/* control bytes between tokens, which the parser takes for spaces */
		{ "{\"object\":{\"metadata\":{\"name\":\"a\",\"managedFields\":\x01[\x02]\x03}\x04}}",
		  "{\"object\":{\"metadata\":{\"name\":\"a\"}}}", NULL },
		/* twice in one metadata: both go */
		{ "{\"object\":{\"metadata\":{\"a\":1,\"managedFields\":[],\"managedFields\":{}}}}",
		  "{\"object\":{\"metadata\":{\"a\":1}}}", NULL },
		/* the same name anywhere else stays: a ConfigMap's data key, a
		 * template's metadata, the list's own metadata, a string */
		{ "{\"items\":[{\"metadata\":{\"name\":\"a\"},\"data\":{\"managedFields\":\"x\"},"
		  "\"spec\":{\"template\":{\"metadata\":{\"managedFields\":[]}}}}],"
		  "\"metadata\":{\"managedFields\":[]},\"managedFields\":\"\\\"managedFields\\\":[]\"}",
		  "{\"items\":[{\"metadata\":{\"name\":\"a\"},\"data\":{\"managedFields\":\"x\"},"
		  "\"spec\":{\"template\":{\"metadata\":{\"managedFields\":[]}}}}],"
		  "\"metadata\":{\"managedFields\":[]},\"managedFields\":\"\\\"managedFields\\\":[]\"}", NULL },
		/* items that are not objects, numbers and literals around */
		{ "{\"items\":[1,-2.5e3,true,null,\"s\",[{\"metadata\":{\"managedFields\":[]}}],"
		  "{\"metadata\":{\"managedFields\":[1]}}]}",
		  "{\"items\":[1,-2.5e3,true,null,\"s\",[{\"metadata\":{\"managedFields\":[]}}],{\"metadata\":{}}]}", NULL },
		/* an escaped spelling is not matched (and the cache trims it) */
		{ "{\"object\":{\"metadata\":{\"managed\\u0046ields\":[]}}}",
		  "{\"object\":{\"metadata\":{\"managedFields\":[]}}}", NULL },
		/* not JSON: what comes before where the walk finds that is blanked,
		 * the rest is left as it is */
		{ "{\"items\":[{\"metadata\":{\"managedFields\":[]}},{\"metadata\":{\"managedFields\":[]", NULL,
		  "{\"items\":[{\"metadata\":{                  }},{\"metadata\":{\"managedFields\":[]" },
		{ "[{\"metadata\":{\"managedFields\":[]}}]", "[{\"metadata\":{\"managedFields\":[]}}]", NULL },
		{ "", NULL, "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].in);
		char *text = strdup(cases[i].in);
		cJSON *got, *want = cases[i].want ? cJSON_Parse(cases[i].want) : NULL;

		assert_non_null(text);
		sbx_kube_drop_managed_fields(text, len);
		got = cJSON_ParseWithLength(text, len);
		if (strlen(text) != len)
			fail_msg("row %zu: the length changed: '%s'", i, text);
		if (cases[i].want && (!want || !got || !cJSON_Compare(got, want, true)))
			fail_msg("row %zu: '%s'", i, text);
		if (!cases[i].want && (got || strcmp(text, cases[i].after)))
			fail_msg("row %zu: '%s' parsed, or is not '%s'", i, text, cases[i].after);
		cJSON_Delete(got);
		cJSON_Delete(want);
		free(text);
	}
}

static void keep_object(cJSON *obj, void *payload)
{
	cJSON **kept = payload;

	cJSON_Delete(*kept);
	*kept = obj;
}

/* A watch event's object reaches the handler without managedFields,
 * everything else as sent. */
static void test_kuberead__watch_event_without_managed_fields(void **state)
{
	static sbx_kube_config cfg = { .server = "https://127.0.0.1:1" };
	static const char event[] = "{\"type\":\"MODIFIED\",\"object\":{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
				    "\"metadata\":{\"name\":\"a\",\"managedFields\":[{\"manager\":\"m\",\"fieldsV1\":"
				    "{\"f:data\":{}}}],\"resourceVersion\":\"3\"},\"data\":{\"managedFields\":\"kept\"}}}\n";
	sbx_kube_options o = SBX_KUBE_OPTIONS_INIT;
	sbx_kube_watch_handlers h = { NULL, NULL, keep_object, NULL };
	cJSON *kept = NULL, *want = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
						 "{\"name\":\"a\",\"resourceVersion\":\"3\"},\"data\":"
						 "{\"managedFields\":\"kept\"}}");
	sbx_kube_watch *w;
	sbx_kube *k;

	(void)state;
	assert_int_equal(sbx_kube_new(&k, &cfg, &o), 0);
	assert_int_equal(sbx_kube_watch_start(&w, k, sbx_kind_lookup("v1", "ConfigMap"), NULL, NULL, &h, &kept), 0);
	/* in two reads, cut inside managedFields */
	assert_int_equal(sbx_kube_watch_feed(w, event, 60), 0);
	assert_int_equal(sbx_kube_watch_feed(w, event + 60, strlen(event) - 60), 0);
	assert_non_null(kept);
	assert_true(cJSON_Compare(kept, want, true));
	cJSON_Delete(kept);
	cJSON_Delete(want);
	sbx_kube_watch_stop(w);
	sbx_kube_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kuberead__table),
		cmocka_unit_test(test_kuberead__list_page_items),
		cmocka_unit_test(test_kuberead__list_page_not_a_list),
		cmocka_unit_test(test_kuberead__version),
		cmocka_unit_test(test_kuberead__managed_fields_dropped),
		cmocka_unit_test(test_kuberead__watch_event_without_managed_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
