/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one decision that can delete a developer's sandbox. From the last
 * revision in force, a new revision's sandbox files (refused ones
 * included), the live Sandboxes and the policy it decides, for the fleet,
 * whether this revision may remove anything, and for each sandbox what
 * the controller may do: apply, report an invalid file, keep, start or
 * continue the grace period, or take the next step of deleting. Pure: no
 * I/O and no clock; the controller gathers the inputs and carries out the
 * answer. docs/controller.md states the rules in words.
 */
#ifndef SBX_SAFETY_H
#define SBX_SAFETY_H

#include <stdbool.h>
#include <stddef.h>

/* What a revision holds for one sandbox name. */
typedef enum sbx_file_state {
	SBX_FILE_ABSENT,      /* no sandboxes/NAME.yaml */
	SBX_FILE_VALID,       /* parsed and validated */
	SBX_FILE_INVALID,     /* parsed or validated with errors */
	SBX_FILE_REFUSED,     /* the source refused it: symlink, oversized, *.yml, submodule */
} sbx_file_state;

typedef struct sbx_safety_file {
	const char *name;     /* the file name without folder and extension */
	sbx_file_state state;
} sbx_safety_file;

/* One live Sandbox object and what the end of its grace period needs. */
typedef struct sbx_safety_live {
	const char *name;
	bool ours;                     /* its tracking id is this instance's, in full */
	bool deleting;                 /* metadata.deletionTimestamp is set */
	long long pending_since_ms;    /* status.pendingDeleteSince (wall clock); 0: none */
	const char *ns_uid_recorded;   /* status.namespaceUID: the uid of the namespace this
					* Sandbox created; NULL or "": it never created one */
	bool ns_exists;                /* its namespace is in the cluster (the cache) */
	bool ns_ours;                  /* ... carrying our full tracking id */
	const char *ns_uid;            /* ... with this uid */
	bool ns_deleting;              /* ... and already being deleted */
	int workloads;                 /* our Deployments in it not yet being deleted */
} sbx_safety_live;

/* Why removals are refused for the whole fleet. */
typedef enum sbx_block {
	SBX_BLOCK_NONE,
	SBX_BLOCK_NOT_SYNCED,  /* the cache has not synced: nothing may be decided */
	SBX_BLOCK_POLICY,      /* templates/policy.yaml is missing or invalid */
	SBX_BLOCK_TEMPLATES,   /* a template is invalid */
	SBX_BLOCK_EMPTY,       /* no sandbox files at all while the fleet is not empty */
	SBX_BLOCK_MASS,        /* more than one removal, over maxPrunePercent of the fleet */
} sbx_block;

typedef struct sbx_safety_input {
	const char *revision;             /* the new revision (for messages) */
	bool synced;                      /* the cache has delivered its first full list */
	bool have_in_force;               /* the last revision in force is known */
	const char *const *in_force;      /* its sandbox names (any order) */
	size_t nin_force;
	const sbx_safety_file *files;     /* the new revision's sandbox files, every state */
	size_t nfiles;
	const sbx_safety_live *live;      /* the live Sandbox objects */
	size_t nlive;
	bool policy_ok, templates_ok;
	const char *policy_error;         /* first problem of an invalid policy or template */
	int max_prune_percent;            /* deletion.maxPrunePercent of the new revision */
} sbx_safety_input;

/* The fleet's answer for one revision. */
typedef struct sbx_safety_fleet {
	sbx_block block;
	size_t fleet;          /* sandboxes in the last revision in force (or, unknown, the
				* live ones not pending delete) */
	size_t removed;        /* of those, how many the new revision has no file for */
	char message[1024];    /* why removals are refused, in words; "" when they are not */
} sbx_safety_fleet;

typedef enum sbx_action {
	SBX_ACT_IGNORE,          /* nothing of ours to do: no Sandbox, another instance's, or
				  * going already */
	SBX_ACT_APPLY,           /* render and apply; prune only when `prune` */
	SBX_ACT_INVALID,         /* report the file's problems (InvalidSpec); touch nothing */
	SBX_ACT_KEEP,            /* removals are refused: report why (PruneBlocked); touch nothing */
	SBX_ACT_PENDING_DELETE,  /* the file is gone: stop the workload, keep namespace and volume */
	SBX_ACT_DELETE,          /* the grace period is over: take the next step of `step` */
} sbx_action;

/* Deleting a sandbox, one step per pass, each only once the one before is done. */
typedef enum sbx_delete_step {
	SBX_STEP_NONE,
	SBX_STEP_WORKLOAD,       /* delete our Deployments in the namespace */
	SBX_STEP_NAMESPACE,      /* delete the namespace it created, with a uid precondition */
	SBX_STEP_WAIT,           /* the namespace is terminating: wait until it is gone */
	SBX_STEP_SANDBOX,        /* delete the Sandbox object, last */
} sbx_delete_step;

typedef struct sbx_verdict {
	sbx_action action;
	bool prune;              /* APPLY: objects no longer desired may be deleted */
	long long since_ms;      /* PENDING_DELETE, DELETE: when the grace period began */
	long long until_ms;      /* PENDING_DELETE, DELETE: when it ends (or ended) */
	bool held;               /* PENDING_DELETE: the period is over, but the fleet's block
				  * holds the deletion */
	sbx_delete_step step;    /* DELETE */
	bool keep_namespace;     /* DELETE: the namespace is not the one this Sandbox created
				  * (or was never recorded): it is left where it is */
} sbx_verdict;

/* Decide for the fleet. Returns 0, or SBX_ENOMEM. */
int sbx_safety_fleet_decide(sbx_safety_fleet *out, const sbx_safety_input *in);

/* Decide for one sandbox, given the fleet's block, its file's state in the
 * new revision, its live Sandbox (NULL when there is none), the grace
 * period and the wall clock. */
sbx_verdict sbx_safety_sandbox(sbx_block block, sbx_file_state file, const sbx_safety_live *live,
			       long long grace_ms, long long now_ms);

/* Both at once, for every name that has a file or a live Sandbox: *names
 * and *verdicts (parallel arrays of *count, sorted by name; names are
 * borrowed from `in`; caller must free both arrays). Returns 0 or
 * SBX_ENOMEM. */
int sbx_safety_decide(sbx_safety_fleet *fleet, const char ***names, sbx_verdict **verdicts,
		      size_t *count, const sbx_safety_input *in, long long grace_ms,
		      long long now_ms);

/* "apply", "invalid", ... for logs and tests. Static storage. */
const char *sbx_action_name(sbx_action a);
const char *sbx_delete_step_name(sbx_delete_step s);

#endif
