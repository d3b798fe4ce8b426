// SPDX-License-Identifier: Apache-2.0
/*
 * The CLI's cluster access: the developer's kubeconfig (exec plugins
 * allowed, as kubectl does), SelfSubjectReview for "who am I", and reads
 * of the Sandbox resources.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "error.h"
#include "kubecli.h"

int cli_kube_open(cli_kube *k, const cli_config *cfg)
{
	sbx_kubeconfig_options ko = SBX_KUBECONFIG_OPTIONS_INIT;
	sbx_kube_options o = SBX_KUBE_OPTIONS_INIT;
	int r;

	memset(k, 0, sizeof(*k));
	ko.paths = cfg->value[CFG_KUBECONFIG];
	ko.context = cfg->value[CFG_CONTEXT];
	ko.allow_exec = true;
	o.max_retries = 2;
	o.timeout_ms = 20000;
	r = sbx_kubeconfig_load(&k->cfg, &ko);
	if (r == 0)
		r = sbx_kube_new(&k->kube, k->cfg, &o);
	if (r < 0) {
		cli_kube_close(k);
		return cli_error(EXIT_INVALID, "%s; check --kubeconfig / --context ('sandbox config')",
				 sbx_error_last());
	}
	return EXIT_OK;
}

void cli_kube_close(cli_kube *k)
{
	sbx_kube_free(k->kube);
	sbx_kube_config_free(k->cfg);
	memset(k, 0, sizeof(*k));
}

const char *cli_json_str(const cJSON *obj, ...)
{
	const char *key;
	va_list ap;

	va_start(ap, obj);
	while (obj && (key = va_arg(ap, const char *)))
		obj = cJSON_GetObjectItemCaseSensitive(obj, key);
	va_end(ap);
	return cJSON_IsString(obj) ? obj->valuestring : NULL;
}

struct result {
	int done;
	sbx_kube_resp resp;
	cJSON *body;
	char *text;     /* a copy of the raw body */
};

static void done_cb(sbx_kube_resp *resp, void *payload)
{
	struct result *res = payload;

	res->done = 1;
	res->resp = *resp;
	res->resp.raw = NULL;   /* borrowed for the call only */
	res->text = strdup(resp->raw ? resp->raw : "");
	res->body = resp->body;
	resp->body = NULL;
}

/* Send one request and wait; res gets the answer. Returns 0 or the typed
 * SBX_E* with "WHAT failed: reason" in sbx_error_last(). */
static int request(cli_kube *k, struct result *res, const char *method, const char *path,
		   const char *body, const char *what)
{
	sbx_kube_req req = { method, path, body, NULL };

	sbx_error_clear();
	if (sbx_kube_start(k->kube, &req, done_cb, res) < 0)
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	while (!res->done && sbx_kube_run(k->kube, 1000) >= 0)
		;
	if (!res->done || res->resp.err || !res->text)
		return sbx_error_set(res->done && res->resp.err ? res->resp.err : SBX_ETRANSPORT,
				     "%s failed: %s", what, res->done ? res->resp.message : "no answer");
	return 0;
}

int cli_kube_get_text(cli_kube *k, char **out, const char *path, const char *what)
{
	struct result res = { 0 };
	int r = request(k, &res, "GET", path, NULL, what);

	if (r == 0) {
		*out = res.text;
		res.text = NULL;
	}
	free(res.text);
	cJSON_Delete(res.body);
	return r;
}

int cli_kube_post(cli_kube *k, cJSON **out, const char *path, const char *body, const char *what)
{
	struct result res = { 0 };
	int r = request(k, &res, "POST", path, body, what);

	if (r == 0) {
		*out = res.body;
		res.body = NULL;
	}
	free(res.text);
	cJSON_Delete(res.body);
	return r;
}

int cli_kube_whoami(cli_kube *k, char **user)
{
	static const char body[] = "{\"apiVersion\":\"authentication.k8s.io/v1\","
				   "\"kind\":\"SelfSubjectReview\"}";
	cJSON *review = NULL;
	const char *name;
	int r = cli_kube_post(k, &review, "/apis/authentication.k8s.io/v1/selfsubjectreviews", body,
			      "asking the cluster who you are");

	if (r < 0)
		goto done;
	name = cli_json_str(review, "status", "userInfo", "username", NULL);
	if (!name || !*name) {
		r = sbx_error_set(SBX_EINVAL, "the cluster did not say who you are");
		goto done;
	}
	*user = strdup(name);
	if (!*user)
		r = SBX_ENOMEM;
done:
	cJSON_Delete(review);
	return r;
}

int cli_kube_sandbox(cli_kube *k, cJSON **out, const char *name)
{
	return sbx_kube_get(k->kube, out, sbx_kind_find("sandbox.dev/v1alpha1", "Sandbox"), NULL,
			    name);
}

int cli_kube_sandbox_pod(cli_kube *k, cJSON **sandbox, const char **ns_out, char *pod,
			 size_t podlen, const char *name)
{
	cJSON *sb = NULL, *items = NULL, *p;
	char *rv = NULL;
	const char *found = NULL, *ns = NULL;
	int r, status = EXIT_OK;

	r = cli_kube_sandbox(k, &sb, name);
	if (r == SBX_ENOTFOUND) {
		status = cli_error(EXIT_INVALID, "the cluster has no sandbox '%s' ('sandbox list' shows "
				   "the ones there are)", name);
		goto done;
	}
	if (r < 0) {
		status = cli_error(EXIT_INVALID, "%s", sbx_error_last());
		goto done;
	}
	ns = cli_json_str(sb, "spec", "namespace", NULL);
	if (!ns) {
		status = cli_error(EXIT_INVALID, "sandbox '%s' has no namespace yet; see 'sandbox status "
				   "%s'", name, name);
		goto done;
	}
	if (sbx_kube_list(k->kube, &items, &rv, sbx_kind_find("v1", "Pod"), ns, NULL, 100) < 0) {
		status = cli_error(EXIT_INVALID, "%s", sbx_error_last());
		goto done;
	}
	cJSON_ArrayForEach(p, items) {
		const char *phase = cli_json_str(p, "status", "phase", NULL);

		if (!cli_json_str(p, "metadata", "deletionTimestamp", NULL) && phase &&
		    !strcmp(phase, "Running"))
			found = cli_json_str(p, "metadata", "name", NULL);
	}
	if (!found || strlen(found) >= podlen) {
		status = cli_error(EXIT_INVALID, "sandbox '%s' has no running pod (health %s: %s); see "
				   "'sandbox status %s'", name,
				   cli_json_str(sb, "status", "health", NULL) ?
				   cli_json_str(sb, "status", "health", NULL) : "unknown",
				   cli_json_str(sb, "status", "message", NULL) ?
				   cli_json_str(sb, "status", "message", NULL) : "no message", name);
		goto done;
	}
	snprintf(pod, podlen, "%s", found);
done:
	cJSON_Delete(items);
	free(rv);
	if (status == EXIT_OK) {
		*sandbox = sb;
		*ns_out = ns;
	} else {
		cJSON_Delete(sb);
	}
	return status;
}
