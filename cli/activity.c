// SPDX-License-Identifier: Apache-2.0
/*
 * Activity for idle suspension (activity.h). The renewals come from a child
 * process with its own API client, so neither `sandbox ssh`'s terminal loop
 * nor the tunnel's pump has to stop for them; it ends with its parent.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "activity.h"
#include "cmd.h"
#include "error.h"
#include "idle.h"
#include "kinds.h"
#include "wait.h"

/* Write now, with microseconds (a Lease's renewTime is a MicroTime), and
 * this host as the holder. */
static int renew(sbx_kube *kube, const char *ns)
{
	char host[256] = "", patch[512];
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	if (gethostname(host, sizeof(host) - 1) < 0 || strpbrk(host, "\"\\"))
		snprintf(host, sizeof(host), "unknown");
	snprintf(patch, sizeof(patch),
		 "{\"spec\":{\"holderIdentity\":\"sandbox-cli@%s\",\"renewTime\":"
		 "\"%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ\"}}",
		 host, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (long)tv.tv_usec);
	return sbx_kube_patch(kube, NULL, sbx_kind_find("coordination.k8s.io/v1", "Lease"), ns,
			      SBX_IDLE_LEASE, NULL, patch);
}

/* The child: renew every interval until the parent is gone or stops us.
 * Quiet: the tunnel's stdout is the ssh stream. */
static void renewer(const cli_config *cfg, const char *ns, pid_t parent, long interval_ms)
{
	cli_kube k;
	int null = open("/dev/null", O_RDWR);

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(0);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
	}
	closefrom(STDERR_FILENO + 1);
	if (cli_kube_open(&k, cfg) != EXIT_OK)
		_exit(1);
	for (;;) {
		nanosleep(&(struct timespec){ interval_ms / 1000, (interval_ms % 1000) * 1000000L }, NULL);
		if (getppid() != parent)
			_exit(0);
		renew(k.kube, ns); /* a failure is retried at the next turn */
	}
}

int cli_activity_pod(cli_kube *k, const cli_config *cfg, cli_activity *a, cJSON **sandbox,
		     const char **ns, char *pod, size_t podlen, const char *name, long wake_s,
		     FILE *progress)
{
	cJSON *sb = NULL, *lease = NULL;
	const char *sns, *asleep;
	const cJSON *dur;
	long interval_ms;
	pid_t parent = getpid(), child;
	int status = EXIT_OK, r;

	a->renewer = 0;
	if (cli_kube_sandbox(k, &sb, name) < 0 || !(sns = cli_json_str(sb, "spec", "namespace", NULL)))
		goto pod; /* cli_kube_sandbox_pod says why */
	asleep = sbx_idle_asleep_since(sb);
	r = sbx_kube_get(k->kube, &lease, sbx_kind_find("coordination.k8s.io/v1", "Lease"), sns,
			 SBX_IDLE_LEASE);
	if (r == SBX_ENOTFOUND && !asleep)
		goto pod; /* idle suspension is off */
	if (r == 0)
		r = renew(k->kube, sns);
	if (r < 0) {
		if (asleep) {
			status = cli_error(EXIT_INVALID, "sandbox '%s' is suspended for idleness and could "
					   "not be woken: %s", name, sbx_error_last());
			goto done;
		}
		/* said only when the status shows idle suspension on: a cluster
		 * without it may not let you read Leases at all */
		if (cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(sb, "status"), "idle"))
			fprintf(stderr, "sandbox: warning: cannot mark '%s' as in use (%s); it may be "
				"suspended for idleness while you are connected\n", name, sbx_error_last());
		goto pod;
	}
	dur = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(lease, "spec"),
					       "leaseDurationSeconds");
	interval_ms = (cJSON_IsNumber(dur) && dur->valuedouble >= 3 ? (long)dur->valuedouble : 3) * 1000 / 3;
	fflush(NULL);
	child = fork();
	if (child == 0)
		renewer(cfg, sns, parent, interval_ms);
	if (child > 0)
		a->renewer = child;
	if (asleep && (status = cli_wake_wait(k, name, wake_s, progress)) != EXIT_OK)
		goto done;
pod:
	status = cli_kube_sandbox_pod(k, sandbox, ns, pod, podlen, name);
done:
	cJSON_Delete(lease);
	cJSON_Delete(sb);
	if (status != EXIT_OK)
		cli_activity_stop(a);
	return status;
}

void cli_activity_stop(cli_activity *a)
{
	if (a->renewer > 0) {
		kill(a->renewer, SIGTERM);
		waitpid(a->renewer, NULL, 0);
	}
	a->renewer = 0;
}
