/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reconcile planning as a pure function: one sandbox's desired objects and
 * the live ones the cache holds -> what must be looked up before applying,
 * what to apply (by wave), whose objects are in the way, what drifted, and
 * what to prune. The controller carries the plan out; nothing here does
 * I/O, so the rules are tested without a cluster.
 */
#ifndef SBX_PLAN_H
#define SBX_PLAN_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct sbx_plan_options {
	const char *instance;   /* the controller instance in tracking ids */
	bool prune;             /* objects no longer desired may be deleted */
	bool cluster_known;     /* `live` holds every cluster-scoped object there is (the
				 * caller watches those kinds whole): one it lacks does not
				 * exist, so it needs no look-up */
} sbx_plan_options;

#define SBX_PLAN_OPTIONS_INIT { "sandbox-controller", true, false }

typedef struct sbx_plan {
	cJSON *apply;       /* desired objects that are missing or differ live, in the order
			     * given (copies) */
	cJSON *check;       /* of those, the ones to look up first because they may exist
			     * without our labels: cluster-scoped ones unless
			     * options.cluster_known, and namespaced ones in a namespace
			     * of ours (copies) */
	cJSON *conflicts;   /* strings: "KIND NS/NAME exists and is not managed by INSTANCE";
			     * when any, nothing may be applied */
	cJSON *prune;       /* live objects of ours no longer desired (copies; empty unless
			     * options.prune) */
	size_t held;        /* objects prune would delete that options.prune held back */
	int drifted;        /* objects to apply again though what we applied last is still
			     * what we want: changed out of band */
	bool hostkey;       /* the generated host-key Secret is missing: create it */
} sbx_plan;

/* Plan one sandbox. `desired` is the array of its rendered objects (the
 * Sandbox object first, each stamped with the applied-hash annotation);
 * `live` an array of the live objects that may matter: those labelled
 * with the sandbox's name and any at a desired object's key. Both are
 * borrowed. The namespace is the desired Namespace's name. Returns 0 and
 * fills *out (caller must sbx_plan_dispose), or SBX_ENOMEM. */
int sbx_plan_make(sbx_plan *out, const cJSON *desired, const cJSON *live,
		  const sbx_plan_options *o);

void sbx_plan_dispose(sbx_plan *p);

/* The apply wave of an object: -1 for the Sandbox object (it carries the
 * status, even of a conflict), else its kind's wave (3 when unknown). */
int sbx_plan_wave(const cJSON *obj);

/* Whether prune must never delete obj, whoever owns it: the namespace and
 * the home volume (data), the Sandbox, the generated host key. */
bool sbx_plan_never_pruned(const cJSON *obj);

#endif
