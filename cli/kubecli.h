/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CLI's view of the cluster: a client from the developer's own
 * kubeconfig, who the cluster says you are, and the Sandbox resources the
 * controller keeps.
 */
#ifndef SBX_CLI_KUBECLI_H
#define SBX_CLI_KUBECLI_H

#include <cjson/cJSON.h>

#include "config.h"
#include "kube.h"

typedef struct cli_kube {
	sbx_kube_config *cfg;
	sbx_kube *kube;
} cli_kube;

/* Connect (no request yet) with cfg's kubeconfig and context. Prints the
 * error and returns an exit status on failure. */
int cli_kube_open(cli_kube *k, const cli_config *cfg);

void cli_kube_close(cli_kube *k);

/* POST body to path and wait: *out is the answer's body (caller must
 * cJSON_Delete). On failure "WHAT failed: reason" in sbx_error_last() and
 * the typed SBX_E*. */
int cli_kube_post(cli_kube *k, cJSON **out, const char *path, const char *body, const char *what);

/* GET path and wait for a text answer (pod logs): *out is it, malloc'd.
 * On failure "WHAT failed: reason" in sbx_error_last(). */
int cli_kube_get_text(cli_kube *k, char **out, const char *path, const char *what);

/* The user name the cluster authenticates you as (SelfSubjectReview).
 * Returns 0 and *user (caller must free), or a negative SBX_E* with the
 * reason in sbx_error_last(). */
int cli_kube_whoami(cli_kube *k, char **user);

/* The Sandbox called name (caller must cJSON_Delete *out). SBX_ENOTFOUND
 * when the controller has not made it (yet). */
int cli_kube_sandbox(cli_kube *k, cJSON **out, const char *name);

/* The running pod of sandbox `name` (prints the error and returns an exit
 * status when there is none): *sandbox the Sandbox (caller must
 * cJSON_Delete), ns and pod its namespace and pod name (borrowed from
 * *sandbox and a copy in `pod`). */
int cli_kube_sandbox_pod(cli_kube *k, cJSON **sandbox, const char **ns, char *pod, size_t podlen,
			 const char *name);

/* A string field of obj at a path of keys ("status", "sync", NULL), or
 * NULL. Borrowed from obj. */
const char *cli_json_str(const cJSON *obj, ...);

#endif
