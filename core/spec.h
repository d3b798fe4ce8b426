/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A developer's Sandbox file (sandboxes/NAME.yaml): parse and validate it
 * against the input rules and, when given, the policy.
 */
#ifndef SBX_SPEC_H
#define SBX_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "check.h"
#include "diag.h"
#include "policy.h"
#include "sshkey.h"

#define SBX_SPEC_MAX_KEYS 10
#define SBX_SPEC_MAX_PORTS 16
#define SBX_SPEC_MAX_ENV 64
#define SBX_SPEC_MAX_ENV_VALUE 4096
#define SBX_SPEC_MAX_OWNER 253
#define SBX_SSHD_PORT 2222

typedef struct sbx_env_var {
	char *name;
	char *value;
} sbx_env_var;

struct sbx_spec {
	char *path;             /* as given to sbx_spec_parse */
	char *name;             /* metadata.name */
	char *owner;            /* spec.owner */
	sbx_sshkey *keys;       /* validated keys, in file order */
	size_t nkeys;
	char *size;             /* NULL: the policy's default */
	int size_line, size_col;
	sbx_resources resources;/* developer overrides; absent fields unset */
	char *image;            /* NULL: the policy's default */
	bool suspended;
	int64_t idle_after_s;   /* spec.idle.suspendAfter: -1 unset (the policy's), 0 never */
	int *ports;
	size_t nports;
	sbx_env_var *env;
	size_t nenv;
};

/* Parse and validate one Sandbox file. `path` should end in NAME.yaml: the
 * name must equal it. With a policy, policy-dependent rules are checked too
 * (size class exists, image allowed, RSA size, name fits the prefix, caps).
 * Every problem goes to diags. Returns 0 and *out (caller must
 * sbx_spec_free), or SBX_EINVAL / SBX_ENOMEM. */
int sbx_spec_parse(sbx_spec **out, const char *path, const char *data, size_t len,
		   const sbx_policy *policy, sbx_diags *diags);

/* Whether name is one no sandbox may take ("default", "kube-*", ...). */
bool sbx_spec_name_reserved(const char *name);

/* Free a spec. NULL-safe. */
void sbx_spec_free(sbx_spec *s);

#endif
