/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SRE-owned policy (templates/policy.yaml): size classes, per-sandbox
 * caps, per-developer overrides, fleet budget, images, ssh and deletion
 * rules; and sbx_policy_resolve(), the one place that turns a sandbox's
 * request into its effective resources.
 */
#ifndef SBX_POLICY_H
#define SBX_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "diag.h"

typedef struct sbx_spec sbx_spec;

typedef struct sbx_named_resources {
	char *name;
	sbx_resources r;
	int line, col;
} sbx_named_resources;

typedef struct sbx_policy {
	char *path;
	char *namespace_prefix;        /* "" allowed */
	char *default_size;
	sbx_named_resources *sizes;    /* in file order */
	size_t nsizes;
	sbx_resources limits;          /* per-sandbox caps; absent fields are uncapped */
	sbx_named_resources *overrides;/* SRE per-developer quota */
	size_t noverrides;
	sbx_resources budget;          /* fleet total; absent fields are unlimited */
	char *image_default;
	char **images_allowed;         /* glob patterns (fnmatch) */
	size_t nimages_allowed;
	int min_rsa_bits;              /* default 3072 */
	char *ssh_endpoint;            /* "" = API server port-forward */
	int64_t grace_period_s;        /* deletion.gracePeriod in seconds, default 72h */
	int max_prune_percent;         /* default 20 */
	int64_t idle_after_s;          /* idle.suspendAfter in seconds; 0 (the default): never */
} sbx_policy;

/* What one sandbox gets: `workload` sizes the container and volume,
 * `quota` is the namespace ResourceQuota (the SRE override where one is
 * set, else the workload's own figures). */
typedef struct sbx_effective {
	const char *size;              /* size class name; borrowed from the policy */
	sbx_resources workload;
	sbx_resources quota;
	int64_t idle_after_s;          /* suspended after this long unused; 0: never */
} sbx_effective;

/* Parse and validate a policy file. Every problem goes to diags. Returns 0
 * and *out (caller must sbx_policy_free), or SBX_EINVAL / SBX_ENOMEM. */
int sbx_policy_parse(sbx_policy **out, const char *path, const char *data, size_t len,
		     sbx_diags *diags);

/* A built-in policy equal to the documented defaults, for tools that run
 * without a policy file. Caller must sbx_policy_free. */
int sbx_policy_default(sbx_policy **out);

/* The size class called name, or NULL. Borrowed. */
const sbx_named_resources *sbx_policy_size(const sbx_policy *p, const char *name);

/* The SRE override for sandbox `name`, or NULL. Borrowed. */
const sbx_named_resources *sbx_policy_override(const sbx_policy *p, const char *name);

/* Resolve a sandbox's effective resources: size class (or the default) ->
 * the developer's resources fields -> the SRE override -> caps. A developer
 * value above its cap (the policy limit, or the override where the SRE set
 * one) is reported in diags at the offending line, naming the sandbox and
 * the numbers. Returns 0 or SBX_EINVAL. */
int sbx_policy_resolve(sbx_effective *out, const sbx_policy *p, const sbx_spec *s,
		       sbx_diags *diags);

/* Whether image is allowed by the policy's patterns. */
bool sbx_policy_image_allowed(const sbx_policy *p, const char *image);

/* Free a policy. NULL-safe. */
void sbx_policy_free(sbx_policy *p);

#endif
