// SPDX-License-Identifier: Apache-2.0
/*
 * Activity for idle suspension (activity.h). The renewals come from a child
 * process with its own API client, so neither `sandbox ssh`'s terminal loop
 * nor the tunnel's pump has to stop for them; it ends with its parent.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "activity.h"
#include "cmd.h"
#include "error.h"
#include "idle.h"
#include "kinds.h"
#include "wait.h"

static const sbx_kind *lease_kind(void)
{
	return sbx_kind_find("coordination.k8s.io/v1", "Lease");
}

/* How long one renewal holds, from the Lease (at least 3 s). */
static long lease_s(const cJSON *lease)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(lease, "spec"),
							  "leaseDurationSeconds");

	return cJSON_IsNumber(v) && v->valuedouble >= 3 && v->valuedouble <= 3600 ? (long)v->valuedouble : 3;
}

/* Write now, with microseconds (a Lease's renewTime is a MicroTime), and
 * this host as the holder. *lease is the Lease as written (caller must
 * cJSON_Delete). */
static int renew(sbx_kube *kube, const char *ns, cJSON **lease)
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
	return sbx_kube_patch(kube, lease, lease_kind(), ns, SBX_IDLE_LEASE, NULL, patch);
}

/* The child: renew every third of the Lease's duration (as the last
 * renewal found it) until the parent is gone or stops us. Its stdin and
 * stdout are /dev/null (the tunnel's stdout is the ssh stream); stderr
 * stays, for one warning when renewing starts to fail (\r\n: `sandbox ssh`
 * may have the terminal in raw mode). */
static _Noreturn void renewer(const cli_config *cfg, const char *name, const char *ns, pid_t parent,
			      long hold_s)
{
	cli_kube k;
	int null = open("/dev/null", O_RDWR);
	bool warned = false;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_IGN);   /* the terminal's ^C is the session's */
	signal(SIGHUP, SIG_DFL);
	if (getppid() != parent || null < 0 || dup2(null, STDIN_FILENO) < 0 ||
	    dup2(null, STDOUT_FILENO) < 0)
		_exit(0);
	closefrom(STDERR_FILENO + 1);
	if (cli_kube_open(&k, cfg) != EXIT_OK)
		_exit(1);
	for (;;) {
		long ms = hold_s * 1000 / 3;
		cJSON *lease = NULL;

		nanosleep(&(struct timespec){ ms / 1000, (ms % 1000) * 1000000L }, NULL);
		if (getppid() != parent)
			_exit(0);
		if (renew(k.kube, ns, &lease) == 0) {
			hold_s = lease_s(lease);
			warned = false;
		} else if (!warned) {
			fprintf(stderr, "\r\nsandbox: warning: cannot mark '%s' as in use (%s); it may be "
				"suspended for idleness while you are connected\r\n", name, sbx_error_last());
			warned = true;
		}
		cJSON_Delete(lease);
	}
}

int cli_activity_pod(cli_kube *k, const cli_config *cfg, cli_activity *a, cJSON **sandbox,
		     const char **ns, char *pod, size_t podlen, const char *name, long wake_s,
		     FILE *progress)
{
	cJSON *sb = NULL, *lease = NULL;
	const char *sns, *asleep;
	pid_t parent = getpid(), child;
	int status = EXIT_OK, r;

	a->renewer = 0;
	if (cli_kube_sandbox(k, &sb, name) < 0 || !(sns = cli_json_str(sb, "spec", "namespace", NULL)))
		goto pod; /* cli_kube_sandbox_pod says why */
	asleep = sbx_idle_asleep_since(sb);
	r = renew(k->kube, sns, &lease);
	if (r == SBX_ENOTFOUND && !asleep)
		goto pod; /* idle suspension is off */
	if (r < 0) {
		if (asleep) {
			status = cli_error(EXIT_INVALID, "sandbox '%s' is suspended for idleness and could "
					   "not be woken: %s", name, sbx_error_last());
			goto done;
		}
		/* said only when the status shows idle suspension on: a cluster
		 * without it may not let you write Leases at all */
		if (cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(sb, "status"), "idle"))
			fprintf(stderr, "sandbox: warning: cannot mark '%s' as in use (%s); it may be "
				"suspended for idleness while you are connected\n", name, sbx_error_last());
		goto pod;
	}
	fflush(NULL);
	child = fork();
	if (child == 0)
		renewer(cfg, name, sns, parent, lease_s(lease));
	if (child < 0)
		fprintf(stderr, "sandbox: warning: cannot keep '%s' marked as in use (%s); it may be "
			"suspended for idleness while you are connected\n", name, strerror(errno));
	else
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
