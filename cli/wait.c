// SPDX-License-Identifier: Apache-2.0
/*
 * --wait: poll the Sandbox the controller keeps and the pods of its
 * namespace, and print the steps as they are reached. Level-based like the
 * controller: each poll reads the whole state, so a missed change costs
 * nothing.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "error.h"
#include "gitops.h"
#include "idle.h"
#include "kubecli.h"
#include "wait.h"

#define POLL_MS 500
#define WAKE_POLL_MS 200
#define FAILING_GRACE_S 30.0

enum step { STEP_PUSHED, STEP_SEEN, STEP_APPLIED, STEP_SCHEDULED, STEP_RUNNING, STEP_READY, STEP_N };

static const char *const step_names[STEP_N] = {
	"pushed", "seen by the controller", "applied", "pod scheduled", "pod running", "ready",
};

long cli_duration(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || v < 0 || v > 86400 * 7)
		return -1;
	if (!*end || !strcmp(end, "s"))
		return v;
	if (!strcmp(end, "m"))
		return v * 60;
	if (!strcmp(end, "h"))
		return v * 3600;
	return -1;
}

/* End the ticking line of a terminal before anything else is printed. */
static void clear_line_to(FILE *out, bool live)
{
	if (live) {
		fputs("\r\033[K", out);
		fflush(out);
	}
}

static void clear_line(bool live)
{
	clear_line_to(stdout, live);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool condition_true(const cJSON *pod, const char *type)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "status"), "conditions")) {
		const char *t = cli_json_str(c, "type", NULL), *s = cli_json_str(c, "status", NULL);

		if (t && s && !strcmp(t, type) && !strcmp(s, "True"))
			return true;
	}
	return false;
}

/* How far the pods of the sandbox's namespace got; a pod being deleted
 * (the old one of a restart) does not count. */
static enum step pod_step(cli_kube *k, const char *ns, char *why, size_t whylen)
{
	cJSON *items = NULL, *pod;
	char *rv = NULL;
	enum step best = STEP_APPLIED;

	if (!ns || sbx_kube_list(k->kube, &items, &rv, sbx_kind_find("v1", "Pod"), ns, NULL, 100) < 0)
		goto done;
	cJSON_ArrayForEach(pod, items) {
		enum step s = STEP_APPLIED;
		const char *phase = cli_json_str(pod, "status", "phase", NULL);

		if (cli_json_str(pod, "metadata", "deletionTimestamp", NULL))
			continue;
		if (condition_true(pod, "PodScheduled"))
			s = STEP_SCHEDULED;
		if (s == STEP_SCHEDULED && phase && !strcmp(phase, "Running"))
			s = STEP_RUNNING;
		if (s == STEP_RUNNING && condition_true(pod, "Ready"))
			s = STEP_READY;
		if (s == STEP_APPLIED) {
			const cJSON *c;

			cJSON_ArrayForEach(c, cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "status"),
								  "conditions")) {
				const char *m = cli_json_str(c, "message", NULL);

				if (m)
					snprintf(why, whylen, "%s", m);
			}
		}
		if (s > best)
			best = s;
	}
done:
	cJSON_Delete(items);
	free(rv);
	return best;
}

int cli_wait(const cli_config *cfg, const char *name, const char *oid, const char *timeout)
{
	cli_kube k;
	double start = now(), failing_since = 0;
	long limit = timeout ? cli_duration(timeout) : 300;
	enum step shown = STEP_PUSHED;
	char why[512] = "", last_message[512] = "", checked[64] = "";
	bool contained = false;
	bool live = isatty(STDOUT_FILENO);
	int status;

	if (limit < 0)
		return cli_error(EXIT_USAGE, "--timeout '%s' is not a duration (90s, 5m, 1h)", timeout);
	if ((status = cli_kube_open(&k, cfg)) != EXIT_OK)
		return status;
	printf("  %-24s %6.1fs  %.12s\n", step_names[STEP_PUSHED], 0.0, oid);
	fflush(stdout);
	for (;;) {
		cJSON *sb = NULL;
		enum step reached = STEP_PUSHED;
		const char *rev, *sync, *health, *msg;
		double t = now() - start;
		int r = cli_kube_sandbox(&k, &sb, name);

		if (r < 0 && r != SBX_ENOTFOUND) {
			clear_line(live);
			status = cli_error(EXIT_INVALID, "%s", sbx_error_last());
			goto done;
		}
		rev = cli_json_str(sb, "status", "observedRevision", NULL);
		sync = cli_json_str(sb, "status", "sync", NULL);
		health = cli_json_str(sb, "status", "health", NULL);
		msg = cli_json_str(sb, "status", "message", NULL);
		if (msg)
			snprintf(last_message, sizeof(last_message), "%s", msg);
		/* a later push may already be what the controller reports: it
		 * counts when it contains ours */
		if (rev && strcmp(rev, oid) != 0 && strcmp(rev, checked) != 0) {
			snprintf(checked, sizeof(checked), "%s", rev);
			contained = cli_git_contains(cfg, rev, oid) == 1;
		}
		if (rev && (!strcmp(rev, oid) || (contained && !strcmp(rev, checked)))) {
			reached = STEP_SEEN;
			if (sync && (!strcmp(sync, "InvalidSpec") || !strcmp(sync, "Conflict") ||
				     !strcmp(sync, "PruneBlocked"))) {
				clear_line(live);
				status = cli_error(EXIT_INVALID, "the controller reports %s: %s", sync,
						   msg ? msg : "(no message)");
				cJSON_Delete(sb);
				goto done;
			}
			if (sync && !strcmp(sync, "Synced"))
				reached = pod_step(&k, cli_json_str(sb, "spec", "namespace", NULL), why,
						   sizeof(why));
			if (reached == STEP_READY && (!health || strcmp(health, "Healthy") != 0))
				reached = STEP_RUNNING;
			/* the controller retries failures (a quota that lags a resize, say):
			 * say so, and give up only when it lasts */
			if ((sync && !strcmp(sync, "Failed")) || (health && !strcmp(health, "Degraded"))) {
				if (!failing_since) {
					failing_since = t;
					clear_line(live);
					printf("  %-24s %6.1fs  %s\n", "(controller retrying)", t,
					       msg ? msg : "");
					fflush(stdout);
				}
				if (t - failing_since > FAILING_GRACE_S) {
					clear_line(live);
					status = cli_error(EXIT_INVALID, "the sandbox stays %s: %s",
							   sync && !strcmp(sync, "Failed") ? "Failed" : "Degraded",
							   msg ? msg : "(no message)");
					cJSON_Delete(sb);
					goto done;
				}
			} else {
				failing_since = 0;
			}
		}
		cJSON_Delete(sb);
		if (shown < reached)
			clear_line(live);
		while (shown < reached) {
			shown++;
			printf("  %-24s %6.1fs\n", step_names[shown], t);
			fflush(stdout);
		}
		if (live && shown < STEP_READY) {
			/* on a terminal, one line that ticks while nothing happens */
			printf("\r\033[K  waiting for %s ... %.0fs", step_names[shown + 1], t);
			fflush(stdout);
		}
		if (shown == STEP_READY) {
			printf("sandbox '%s' is ready; log in with 'sandbox ssh %s'\n", name, name);
			status = EXIT_OK;
			goto done;
		}
		if (t > (double)limit) {
			clear_line(live);
			status = cli_error(EXIT_INVALID, "timed out after %lds waiting for '%s'%s%s%s%s; "
					   "see 'sandbox status %s'", limit,
					   step_names[shown + 1], *last_message ? ": " : "", last_message,
					   *why ? "; pod: " : "", why, name);
			goto done;
		}
		nanosleep(&(struct timespec){ 0, POLL_MS * 1000000L }, NULL);
	}
done:
	cli_kube_close(&k);
	return status;
}

static const char *const wake_names[] = {
	"activity marked", "woken by the controller", "pod scheduled", "pod running", "ready",
};

int cli_wake_wait(cli_kube *k, const char *name, long limit_s, FILE *out)
{
	double start = now();
	bool live = out && isatty(fileno(out));
	char why[512] = "", last_message[512] = "";
	int shown = 0, status = EXIT_INVALID;

	if (out) {
		fprintf(out, "sandbox '%s' was suspended for idleness; waking it\n", name);
		fprintf(out, "  %-24s %6.1fs\n", wake_names[0], 0.0);
		fflush(out);
	}
	for (;;) {
		cJSON *sb = NULL;
		int reached = 0;
		double t = now() - start;
		int r = cli_kube_sandbox(k, &sb, name);
		const char *health = cli_json_str(sb, "status", "health", NULL);
		const char *msg = cli_json_str(sb, "status", "message", NULL);

		if (r < 0) {
			clear_line_to(out, live);
			status = cli_error(EXIT_INVALID, "%s", sbx_error_last());
			goto done;
		}
		if (msg)
			snprintf(last_message, sizeof(last_message), "%s", msg);
		if (!sbx_idle_asleep_since(sb)) {
			/* pod_step counts from STEP_APPLIED: woken */
			reached = 1 + (int)(pod_step(k, cli_json_str(sb, "spec", "namespace", NULL), why,
						     sizeof(why)) - STEP_APPLIED);
			if (reached == 4 && (!health || strcmp(health, "Healthy") != 0))
				reached = 3;
		}
		cJSON_Delete(sb);
		if (shown < reached)
			clear_line_to(out, live);
		for (; shown < reached; shown++)
			if (out) {
				fprintf(out, "  %-24s %6.1fs\n", wake_names[shown + 1], t);
				fflush(out);
			}
		if (shown == 4) {
			status = EXIT_OK;
			goto done;
		}
		if (live) {
			fprintf(out, "\r\033[K  waiting for %s ... %.0fs", wake_names[shown + 1], t);
			fflush(out);
		}
		if (t > (double)limit_s) {
			clear_line_to(out, live);
			status = cli_error(EXIT_INVALID, "timed out after %lds waking '%s': waiting for "
					   "'%s'%s%s%s%s; see 'sandbox status %s'", limit_s, name,
					   wake_names[shown + 1], *last_message ? ": " : "", last_message,
					   *why ? "; pod: " : "", why, name);
			goto done;
		}
		nanosleep(&(struct timespec){ 0, WAKE_POLL_MS * 1000000L }, NULL);
	}
done:
	return status;
}
