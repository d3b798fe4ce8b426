// SPDX-License-Identifier: Apache-2.0
/*
 * sandbox doctor's model: links, results, skips, verdict and output; and
 * the readings of live objects. No I/O here (see doctor.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor.h"
#include "quantity.h"

#define BIT(l) (1u << (l))

static const struct {
	const char *name, *title;
	unsigned needs;
} links[DOC_NLINKS] = {
	[DOC_SETTINGS] = { "settings", "repository and branch configured", 0 },
	[DOC_CLONE] = { "clone", "your clone has nothing unpushed", BIT(DOC_SETTINGS) },
	[DOC_GIT] = { "git", "the remote answers and accepts you", BIT(DOC_SETTINGS) },
	[DOC_FILE] = { "file", "your file at the remote's head lints clean", BIT(DOC_GIT) },
	[DOC_CLUSTER] = { "cluster", "the API server answers with your kubeconfig", 0 },
	[DOC_CONTROLLER] = { "controller", "the controller applied the file", BIT(DOC_CLUSTER) },
	[DOC_NAMESPACE] = { "namespace", "quota, volume and pod are fine", BIT(DOC_CONTROLLER) },
	[DOC_ACCESS] = { "access", "you may port-forward to the pod", BIT(DOC_CONTROLLER) },
	[DOC_SSH] = { "ssh", "sshd answers, knows the host key and one of your keys",
		      BIT(DOC_NAMESPACE) | BIT(DOC_ACCESS) },
};

const char *doc_link_name(enum doc_link l)
{
	return links[l].name;
}

const char *doc_link_title(enum doc_link l)
{
	return links[l].title;
}

unsigned doc_link_needs(enum doc_link l)
{
	return links[l].needs;
}

bool doc_can_check(const doc_report *r, enum doc_link l, enum doc_link *blocker)
{
	for (int i = 0; i < (int)l; i++) {
		if (!(links[l].needs & BIT(i)))
			continue;
		if (r->link[i].status != DOC_OK && r->link[i].status != DOC_WARN) {
			if (blocker)
				*blocker = (enum doc_link)i;
			return false;
		}
		if (!doc_can_check(r, (enum doc_link)i, blocker))
			return false;
	}
	return true;
}

static char *vformat(const char *fmt, va_list ap)
{
	va_list again;
	int n;
	char *s;

	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, again);
	va_end(again);
	s = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (s)
		vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *format(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vformat(fmt, ap);
	va_end(ap);
	return s;
}

void doc_set(doc_report *r, enum doc_link l, enum doc_status s, long ms, const char *fix,
	     const char *fmt, ...)
{
	doc_result *res = &r->link[l];
	va_list ap;

	free(res->detail);
	free(res->fix);
	va_start(ap, fmt);
	res->detail = vformat(fmt, ap);
	va_end(ap);
	res->fix = fix ? strdup(fix) : NULL;
	res->status = s;
	res->ms = ms;
}

void doc_skip(doc_report *r, enum doc_link l, enum doc_link blocker)
{
	doc_set(r, l, DOC_SKIP, 0, NULL, "skipped: needs %s", links[blocker].name);
}

int doc_first_broken(const doc_report *r)
{
	for (int i = 0; i < DOC_NLINKS; i++)
		if (r->link[i].status == DOC_FAIL)
			return i;
	return -1;
}

int doc_exit_status(const doc_report *r)
{
	return doc_first_broken(r) < 0 ? 0 : 1;
}

static const char *status_word(enum doc_status s)
{
	switch (s) {
	case DOC_OK: return "ok";
	case DOC_WARN: return "warn";
	case DOC_FAIL: return "FAIL";
	case DOC_SKIP: return "skip";
	default: return "-";
	}
}

/* text, each line after the first indented by `indent` */
static void put_indented(sbx_buf *out, const char *text, const char *indent)
{
	for (const char *p = text; *p; p++) {
		sbx_buf_putc(out, *p);
		if (*p == '\n' && p[1])
			sbx_buf_puts(out, indent);
	}
}

void doc_render_line(sbx_buf *out, const doc_report *r, enum doc_link l)
{
	const doc_result *res = &r->link[l];

	sbx_buf_printf(out, "  %-5s %-11s %s", status_word(res->status), links[l].name, links[l].title);
	if (res->status != DOC_SKIP)
		sbx_buf_printf(out, " (%ld ms)", res->ms);
	sbx_buf_putc(out, '\n');
	if (res->detail && *res->detail) {
		sbx_buf_puts(out, "                    ");
		put_indented(out, res->detail, "                    ");
		sbx_buf_putc(out, '\n');
	}
}

void doc_render_verdict(sbx_buf *out, const doc_report *r)
{
	int b = doc_first_broken(r);

	if (b < 0) {
		sbx_buf_printf(out, "\nAll links hold%s.\n", r->sandbox ? "" : " (no sandbox named: "
			       "the cluster-side links were not checked)");
		for (int i = 0; i < DOC_NLINKS; i++)
			if (r->link[i].status == DOC_WARN && r->link[i].fix)
				sbx_buf_printf(out, "Worth a look (%s): %s\n", links[i].name, r->link[i].fix);
		return;
	}
	sbx_buf_printf(out, "\nFirst broken link: %s (%s).\n", links[b].name, links[b].title);
	if (r->link[b].fix) {
		sbx_buf_puts(out, "Fix: ");
		put_indented(out, r->link[b].fix, "     ");
		sbx_buf_putc(out, '\n');
	}
}

cJSON *doc_render_json(const doc_report *r)
{
	cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "checks");
	int b = doc_first_broken(r);

	if (r->sandbox)
		cJSON_AddStringToObject(root, "sandbox", r->sandbox);
	for (int i = 0; i < DOC_NLINKS; i++) {
		cJSON *c = cJSON_CreateObject();
		const doc_result *res = &r->link[i];

		cJSON_AddStringToObject(c, "name", links[i].name);
		cJSON_AddStringToObject(c, "title", links[i].title);
		cJSON_AddStringToObject(c, "status", res->status == DOC_FAIL ? "fail" : status_word(res->status));
		if (res->detail)
			cJSON_AddStringToObject(c, "detail", res->detail);
		if (res->fix)
			cJSON_AddStringToObject(c, "fix", res->fix);
		cJSON_AddNumberToObject(c, "ms", (double)res->ms);
		cJSON_AddItemToArray(arr, c);
	}
	if (b >= 0) {
		cJSON_AddStringToObject(root, "firstBroken", links[b].name);
		if (r->link[b].fix)
			cJSON_AddStringToObject(root, "fix", r->link[b].fix);
	}
	cJSON_AddBoolToObject(root, "ok", b < 0);
	return root;
}

void doc_report_dispose(doc_report *r)
{
	for (int i = 0; i < DOC_NLINKS; i++) {
		free(r->link[i].detail);
		free(r->link[i].fix);
	}
	free(r->sandbox);
	memset(r, 0, sizeof(*r));
}

/* ---- readings ----------------------------------------------------------- */

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *at(const cJSON *o, const char *a, const char *b)
{
	o = cJSON_GetObjectItem(o, a);
	return b ? cJSON_GetObjectItem(o, b) : o;
}

static const cJSON *condition(const cJSON *obj, const char *type)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, at(obj, "status", "conditions"))
		if (str(c, "type") && !strcmp(str(c, "type"), type))
			return c;
	return NULL;
}

char *doc_pod_problem(const cJSON *pod, char **fix)
{
	const char *name = str(at(pod, "metadata", NULL), "name"), *ns = str(at(pod, "metadata", NULL), "namespace");
	const cJSON *sched = condition(pod, "PodScheduled"), *ready = condition(pod, "Ready"), *cs;

	*fix = NULL;
	if (sched && str(sched, "status") && !strcmp(str(sched, "status"), "False")) {
		*fix = format("the cluster has no node that fits the pod: a smaller size "
			      "(sandbox resize NAME --size ...) or ask your SREs for capacity; "
			      "kubectl -n %s describe pod %s", ns ? ns : "", name ? name : "");
		return format("pod %s cannot be scheduled: %s", name ? name : "?",
			      str(sched, "message") ? str(sched, "message") : "no reason given");
	}
	cJSON_ArrayForEach(cs, at(pod, "status", "containerStatuses")) {
		const cJSON *waiting = at(cs, "state", "waiting");
		const char *reason = str(waiting, "reason"), *msg = str(waiting, "message");

		if (!reason)
			continue;
		if (!strcmp(reason, "ImagePullBackOff") || !strcmp(reason, "ErrImagePull") ||
		    !strcmp(reason, "InvalidImageName")) {
			*fix = format("use an image the cluster can pull: spec.image in your file, or "
				      "the policy's images.default (ask your SREs); kubectl -n %s describe pod %s",
				      ns ? ns : "", name ? name : "");
			return format("image %s cannot be pulled (%s)%s%s", str(cs, "image") ? str(cs, "image") : "?",
				      reason, msg ? ": " : "", msg ? msg : "");
		}
		if (!strcmp(reason, "CrashLoopBackOff") || !strcmp(reason, "CreateContainerConfigError") ||
		    !strcmp(reason, "CreateContainerError")) {
			*fix = format("read why it stops: kubectl -n %s logs %s --previous", ns ? ns : "",
				      name ? name : "");
			return format("container %s does not stay up (%s, %d restarts)%s%s",
				      str(cs, "name") ? str(cs, "name") : "?", reason,
				      cJSON_GetObjectItem(cs, "restartCount") ?
				      cJSON_GetObjectItem(cs, "restartCount")->valueint : 0,
				      msg ? ": " : "", msg ? msg : "");
		}
	}
	if (!ready || !str(ready, "status") || strcmp(str(ready, "status"), "True") != 0) {
		*fix = format("wait a little, then look: kubectl -n %s describe pod %s", ns ? ns : "",
			      name ? name : "");
		return format("pod %s is %s and not ready%s%s", name ? name : "?",
			      str(at(pod, "status", NULL), "phase") ? str(at(pod, "status", NULL), "phase") : "unknown",
			      ready && str(ready, "message") ? ": " : "",
			      ready && str(ready, "message") ? str(ready, "message") : "");
	}
	return NULL;
}

const char *doc_crashing_container(const cJSON *pod)
{
	const cJSON *cs;

	cJSON_ArrayForEach(cs, at(pod, "status", "containerStatuses")) {
		const char *reason = str(at(cs, "state", "waiting"), "reason");

		if (reason && !strcmp(reason, "CrashLoopBackOff"))
			return str(cs, "name");
	}
	return NULL;
}

char *doc_pvc_problem(const cJSON *pvc, char **fix)
{
	const char *name = str(at(pvc, "metadata", NULL), "name");
	const char *phase = str(at(pvc, "status", NULL), "phase");
	const char *sc = str(at(pvc, "spec", NULL), "storageClassName");
	const cJSON *resizing = condition(pvc, "Resizing"), *pending = condition(pvc, "FileSystemResizePending");

	*fix = NULL;
	if (phase && !strcmp(phase, "Pending")) {
		*fix = format("ask your SREs: the volume needs a StorageClass%s%s%s with a working "
			      "provisioner (kubectl get storageclass)", sc ? " ('" : "", sc ? sc : "",
			      sc ? "')" : "");
		return format("volume %s is Pending: no volume was provisioned for it%s%s", name ? name : "?",
			      sc ? " by StorageClass " : " (no StorageClass named, and no default one?)",
			      sc ? sc : "");
	}
	if (resizing || pending) {
		*fix = strdup("a resize finishes when the pod restarts on some storage: "
			      "kubectl -n NAMESPACE delete pod -l app.kubernetes.io/name=sandbox");
		return format("volume %s is waiting for a resize to finish", name ? name : "?");
	}
	return NULL;
}

char *doc_quota_problem(const cJSON *quota, char **fix)
{
	const cJSON *hard = at(quota, "status", "hard"), *used = at(quota, "status", "used"), *h;

	*fix = NULL;
	/* used == hard is the usual state (the pod takes the whole size);
	 * only more than allowed is a problem (the quota was lowered) */
	cJSON_ArrayForEach(h, hard) {
		sbx_quantity qh, qu;
		const char *u = str(used, h->string);

		if (!cJSON_IsString(h) || !u || sbx_quantity_parse(&qu, u) < 0 ||
		    sbx_quantity_parse(&qh, h->valuestring) < 0 || sbx_quantity_cmp(&qu, &qh) <= 0)
			continue;
		*fix = strdup("the quota is below what the sandbox uses: a larger size (sandbox resize "
			      "NAME --size ...), or an override from your SREs (sandbox quota set)");
		return format("quota %s: %s used, but only %s allowed", h->string, u, h->valuestring);
	}
	return NULL;
}

/* The value at the end of a sample line "name{labels} value". */
static double sample_value(const char *line, const char *end)
{
	const char *sp = end;

	while (sp > line && sp[-1] != ' ')
		sp--;
	return strtod(sp, NULL);
}

void doc_read_metrics(doc_metrics *out, const char *text)
{
	memset(out, 0, sizeof(*out));
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *stop = line + len;

#define IS(name) (len > strlen(name) && !strncmp(line, name, strlen(name)) && \
		  (line[strlen(name)] == ' ' || line[strlen(name)] == '{'))
		if (*line != '#' && !strncmp(line, "sandbox_", 8))
			out->found = true;
		if (IS("sandbox_git_last_success_timestamp_seconds"))
			out->git_last_success = sample_value(line, stop);
		else if (IS("sandbox_git_errors_total"))
			out->git_errors = sample_value(line, stop);
		else if (IS("sandbox_workqueue_depth"))
			out->queue_depth = sample_value(line, stop);
		else if (IS("sandbox_api_requests_total") && memmem(line, len, "code=\"429\"", strlen("code=\"429\"")))
			out->api_throttled += sample_value(line, stop);
		else if (IS("sandbox_api_requests_total") && memmem(line, len, "code=\"5", strlen("code=\"5")))
			out->api_server_errors += sample_value(line, stop);
#undef IS
		line = end ? end + 1 : NULL;
	}
}

char *doc_failed_create(const cJSON *events)
{
	const cJSON *e;
	const char *best = NULL, *best_time = "";

	cJSON_ArrayForEach(e, events) {
		const char *t = str(e, "lastTimestamp") ? str(e, "lastTimestamp") : str(e, "eventTime");

		if (str(e, "reason") && !strcmp(str(e, "reason"), "FailedCreate") && str(e, "message") &&
		    (!t || strcmp(t, best_time) >= 0)) {
			best = str(e, "message");
			best_time = t ? t : best_time;
		}
	}
	return best ? strdup(best) : NULL;
}
