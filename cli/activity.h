/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a connection does for idle suspension (docs/controller.md): mark the
 * sandbox active by renewing its activity Lease, wake it when it sleeps,
 * and keep renewing from a child process while the connection is open.
 * Shared by `sandbox ssh` and `sandbox tunnel`.
 */
#ifndef SBX_CLI_ACTIVITY_H
#define SBX_CLI_ACTIVITY_H

#include <stdio.h>
#include <sys/types.h>

#include "config.h"
#include "kubecli.h"

typedef struct cli_activity {
	pid_t renewer;    /* the child renewing the Lease, or 0 */
} cli_activity;

/* How long a connection waits for a sleeping sandbox to wake, unless
 * told otherwise. */
#define CLI_WAKE_TIMEOUT_S 120

/* The running pod of sandbox `name`, as cli_kube_sandbox_pod, for a
 * connection: when the sandbox has an activity Lease, renew it now, wake
 * the sandbox if it sleeps (at most wake_s seconds; steps to `progress`,
 * NULL: quietly) and keep renewing until cli_activity_stop. Prints the
 * error and returns an exit status when there is no pod to connect to. */
int cli_activity_pod(cli_kube *k, const cli_config *cfg, cli_activity *a, cJSON **sandbox,
		     const char **ns, char *pod, size_t podlen, const char *name, long wake_s,
		     FILE *progress);

/* Stop renewing (the connection is closed). */
void cli_activity_stop(cli_activity *a);

#endif
