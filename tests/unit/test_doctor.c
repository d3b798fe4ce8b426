// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for cli/doctor.c: which links a broken one skips, the first
 * broken link, the exit status, the human output of one whole report
 * (golden), its JSON, and the readings of live objects as a table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "doctor.h"

/* Run the walk's bookkeeping with the given results; links without one
 * are OK when they can be checked. */
static void walk(doc_report *r, const enum doc_status *given)
{
	for (int l = 0; l < DOC_NLINKS; l++) {
		enum doc_link blocker;

		if (!doc_can_check(r, (enum doc_link)l, &blocker))
			doc_skip(r, (enum doc_link)l, blocker);
		else
			doc_set(r, (enum doc_link)l, given[l] ? given[l] : DOC_OK, 5, given[l] == DOC_FAIL ?
				"the fix" : NULL, "%s detail", doc_link_name((enum doc_link)l));
	}
}

static void test_doctor__skips_follow_the_chain(void **state)
{
	static const struct {
		enum doc_link broken;
		const char *skipped;   /* the links skipped, by name, space-separated */
	} rows[] = {
		{ DOC_SETTINGS, "clone git file " },
		{ DOC_CLONE, "" },
		{ DOC_GIT, "file " },
		{ DOC_FILE, "" },
		{ DOC_CLUSTER, "controller namespace access ssh " },
		{ DOC_CONTROLLER, "namespace access ssh " },
		{ DOC_NAMESPACE, "ssh " },
		{ DOC_ACCESS, "ssh " },
		{ DOC_SSH, "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum doc_status given[DOC_NLINKS] = { 0 };
		doc_report r = { 0 };
		char skipped[256] = "";

		given[rows[i].broken] = DOC_FAIL;
		walk(&r, given);
		for (int l = 0; l < DOC_NLINKS; l++)
			if (r.link[l].status == DOC_SKIP) {
				strcat(skipped, doc_link_name((enum doc_link)l));
				strcat(skipped, " ");
			}
		assert_string_equal(skipped, rows[i].skipped);
		assert_int_equal(doc_first_broken(&r), rows[i].broken);
		assert_int_equal(doc_exit_status(&r), 1);
		doc_report_dispose(&r);
	}
}

static void test_doctor__warnings_do_not_break(void **state)
{
	enum doc_status given[DOC_NLINKS] = { 0 };
	doc_report r = { 0 };

	(void)state;
	given[DOC_CONTROLLER] = DOC_WARN;
	walk(&r, given);
	assert_int_equal(r.link[DOC_SSH].status, DOC_OK);
	assert_int_equal(doc_first_broken(&r), -1);
	assert_int_equal(doc_exit_status(&r), 0);
	doc_report_dispose(&r);
}

/* The human output of one report, fixed here: a change to it is a change
 * people see. */
static void test_doctor__human_output_golden(void **state)
{
	static const char want[] =
		"  ok    settings    repository and branch configured (5 ms)\n"
		"                    settings detail\n"
		"  ok    clone       your clone has nothing unpushed (5 ms)\n"
		"                    clone detail\n"
		"  ok    git         the remote answers and accepts you (5 ms)\n"
		"                    git detail\n"
		"  ok    file        your file at the remote's head lints clean (5 ms)\n"
		"                    file detail\n"
		"  ok    cluster     the API server answers with your kubeconfig (5 ms)\n"
		"                    cluster detail\n"
		"  ok    controller  the controller applied the file (5 ms)\n"
		"                    controller detail\n"
		"  ok    namespace   quota, volume and pod are fine (5 ms)\n"
		"                    namespace detail\n"
		"  FAIL  access      you may port-forward to the pod (5 ms)\n"
		"                    you may not create pods/portforward in sbx-alice\n"
		"                    (owner in the file: alice@example.com)\n"
		"  skip  ssh         sshd answers, knows the host key and one of your keys\n"
		"                    skipped: needs access\n"
		"\n"
		"First broken link: access (you may port-forward to the pod).\n"
		"Fix: ask your SREs to check the RoleBinding:\n"
		"     kubectl -n sbx-alice get rolebinding sandbox-owner\n";
	enum doc_status given[DOC_NLINKS] = { 0 };
	doc_report r = { 0 };
	sbx_buf out = SBX_BUF_INIT;

	(void)state;
	given[DOC_ACCESS] = DOC_FAIL;
	walk(&r, given);
	doc_set(&r, DOC_ACCESS, DOC_FAIL, 5, "ask your SREs to check the RoleBinding:\n"
		"kubectl -n sbx-alice get rolebinding sandbox-owner", "you may not create pods/portforward "
		"in sbx-alice\n(owner in the file: alice@example.com)");
	for (int l = 0; l < DOC_NLINKS; l++)
		doc_render_line(&out, &r, (enum doc_link)l);
	doc_render_verdict(&out, &r);
	assert_string_equal(sbx_buf_cstr(&out), want);
	sbx_buf_dispose(&out);
	doc_report_dispose(&r);
}

static void test_doctor__json(void **state)
{
	enum doc_status given[DOC_NLINKS] = { 0 };
	doc_report r = { 0 };
	cJSON *j;

	(void)state;
	r.sandbox = strdup("alice");
	given[DOC_GIT] = DOC_FAIL;
	walk(&r, given);
	j = doc_render_json(&r);
	assert_string_equal(cJSON_GetObjectItem(j, "sandbox")->valuestring, "alice");
	assert_string_equal(cJSON_GetObjectItem(j, "firstBroken")->valuestring, "git");
	assert_string_equal(cJSON_GetObjectItem(j, "fix")->valuestring, "the fix");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "ok")));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "checks")), DOC_NLINKS);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "checks"),
								   DOC_FILE), "status")->valuestring, "skip");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "checks"),
								   DOC_GIT), "status")->valuestring, "fail");
	cJSON_Delete(j);
	doc_report_dispose(&r);
}

/* ---- readings ------------------------------------------------------------ */

struct reading {
	const char *json;
	const char *problem;   /* a substring of the problem, or NULL: none */
	const char *fix;       /* a substring of the fix */
};

static void check_readings(const struct reading *rows, size_t n, char *(*fn)(const cJSON *, char **))
{
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_Parse(rows[i].json);
		char *fix = NULL, *p;

		assert_non_null(o);
		p = fn(o, &fix);
		if (!rows[i].problem) {
			assert_null(p);
		} else {
			assert_non_null(p);
			if (!strstr(p, rows[i].problem) || !strstr(fix, rows[i].fix))
				fail_msg("row %zu: '%s' / '%s'", i, p, fix);
		}
		free(p);
		free(fix);
		cJSON_Delete(o);
	}
}

static void test_doctor__pod_readings(void **state)
{
	static const struct reading rows[] = {
		{ "{\"metadata\":{\"name\":\"p\",\"namespace\":\"n\"},\"status\":{\"phase\":\"Pending\","
		  "\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"False\",\"message\":"
		  "\"0/3 nodes are available: 3 Insufficient cpu.\"}]}}",
		  "cannot be scheduled: 0/3 nodes are available: 3 Insufficient cpu.", "sandbox resize" },
		{ "{\"metadata\":{\"name\":\"p\",\"namespace\":\"n\"},\"status\":{\"phase\":\"Pending\","
		  "\"containerStatuses\":[{\"name\":\"sandbox\",\"image\":\"reg/devbox:9\",\"state\":"
		  "{\"waiting\":{\"reason\":\"ImagePullBackOff\",\"message\":\"not found\"}}}]}}",
		  "image reg/devbox:9 cannot be pulled (ImagePullBackOff): not found", "spec.image" },
		{ "{\"metadata\":{\"name\":\"p\",\"namespace\":\"n\"},\"status\":{\"phase\":\"Running\","
		  "\"containerStatuses\":[{\"name\":\"sandbox\",\"restartCount\":4,\"state\":"
		  "{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}}}]}}",
		  "does not stay up (CrashLoopBackOff, 4 restarts)", "kubectl -n n logs p --previous" },
		{ "{\"metadata\":{\"name\":\"p\",\"namespace\":\"n\"},\"status\":{\"phase\":\"Running\","
		  "\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\",\"message\":\"probe\"}]}}",
		  "pod p is Running and not ready: probe", "describe pod p" },
		{ "{\"metadata\":{\"name\":\"p\",\"namespace\":\"n\"},\"status\":{\"phase\":\"Running\","
		  "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}", NULL, NULL },
	};

	(void)state;
	check_readings(rows, sizeof(rows) / sizeof(rows[0]), doc_pod_problem);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cJSON *pod = cJSON_Parse(rows[i].json);
		const char *c = doc_crashing_container(pod);

		/* only the crash loop's container has logs worth reading */
		if (i == 2)
			assert_string_equal(c, "sandbox");
		else
			assert_null(c);
		cJSON_Delete(pod);
	}
}

static void test_doctor__volume_and_quota_readings(void **state)
{
	static const struct reading pvcs[] = {
		{ "{\"metadata\":{\"name\":\"home\"},\"spec\":{\"storageClassName\":\"fast\"},"
		  "\"status\":{\"phase\":\"Pending\"}}", "volume home is Pending", "'fast'" },
		{ "{\"metadata\":{\"name\":\"home\"},\"spec\":{},\"status\":{\"phase\":\"Pending\"}}",
		  "no StorageClass named", "kubectl get storageclass" },
		{ "{\"metadata\":{\"name\":\"home\"},\"status\":{\"phase\":\"Bound\",\"conditions\":"
		  "[{\"type\":\"FileSystemResizePending\",\"status\":\"True\"}]}}",
		  "waiting for a resize", "delete pod" },
		{ "{\"metadata\":{\"name\":\"home\"},\"status\":{\"phase\":\"Bound\"}}", NULL, NULL },
	};
	static const struct reading quotas[] = {
		/* the pod takes the whole size: the usual state */
		{ "{\"status\":{\"hard\":{\"limits.cpu\":\"2\",\"pods\":\"4\"},\"used\":{\"limits.cpu\":\"2\","
		  "\"pods\":\"1\"}}}", NULL, NULL },
		{ "{\"status\":{\"hard\":{\"limits.memory\":\"2Gi\"},\"used\":{\"limits.memory\":\"3Gi\"}}}",
		  "quota limits.memory: 3Gi used, but only 2Gi allowed", "sandbox quota set" },
		{ "{\"status\":{\"hard\":{\"limits.cpu\":\"500m\"},\"used\":{\"limits.cpu\":\"1\"}}}",
		  "1 used, but only 500m allowed", "sandbox resize" },
	};

	(void)state;
	check_readings(pvcs, sizeof(pvcs) / sizeof(pvcs[0]), doc_pvc_problem);
	check_readings(quotas, sizeof(quotas) / sizeof(quotas[0]), doc_quota_problem);
}

static void test_doctor__failed_create_newest(void **state)
{
	cJSON *events = cJSON_Parse(
		"[{\"reason\":\"FailedCreate\",\"lastTimestamp\":\"2026-12-01T10:00:00Z\",\"message\":\"old\"},"
		"{\"reason\":\"Scheduled\",\"lastTimestamp\":\"2026-12-01T12:00:00Z\",\"message\":\"no\"},"
		"{\"reason\":\"FailedCreate\",\"lastTimestamp\":\"2026-12-01T11:00:00Z\",\"message\":"
		"\"pods is forbidden: exceeded quota: sandbox\"}]");
	char *m = doc_failed_create(events);

	(void)state;
	assert_string_equal(m, "pods is forbidden: exceeded quota: sandbox");
	free(m);
	assert_null(doc_failed_create(NULL));
	cJSON_Delete(events);
}

static void test_doctor__metrics(void **state)
{
	static const char text[] =
		"# HELP sandbox_git_errors_total Fetches that failed.\n"
		"# TYPE sandbox_git_errors_total counter\n"
		"sandbox_git_errors_total 3\n"
		"sandbox_git_last_success_timestamp_seconds 1764590000.5\n"
		"sandbox_workqueue_depth 7\n"
		"sandbox_api_requests_total{verb=\"GET\",code=\"200\"} 100\n"
		"sandbox_api_requests_total{verb=\"PATCH\",code=\"429\"} 4\n"
		"sandbox_api_requests_total{verb=\"GET\",code=\"429\"} 1\n"
		"sandbox_api_requests_total{verb=\"PATCH\",code=\"503\"} 2\n"
		"sandbox_api_requests_total{verb=\"GET\",code=\"500\"} 1\n"
		"sandbox_workqueue_depth_other 99";
	doc_metrics m;

	(void)state;
	doc_read_metrics(&m, text);
	assert_true(m.found);
	assert_true(m.git_errors == 3);
	assert_true(m.git_last_success == 1764590000.5);
	assert_true(m.queue_depth == 7);
	assert_true(m.api_throttled == 5);
	assert_true(m.api_server_errors == 3);
	doc_read_metrics(&m, "<html>not metrics</html>");
	assert_false(m.found);
	doc_read_metrics(&m, "");
	assert_false(m.found);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doctor__skips_follow_the_chain),
		cmocka_unit_test(test_doctor__warnings_do_not_break),
		cmocka_unit_test(test_doctor__human_output_golden),
		cmocka_unit_test(test_doctor__json),
		cmocka_unit_test(test_doctor__pod_readings),
		cmocka_unit_test(test_doctor__volume_and_quota_readings),
		cmocka_unit_test(test_doctor__failed_create_newest),
		cmocka_unit_test(test_doctor__metrics),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
