/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sandbox diff`'s model, without I/O: what the server's dry run says an
 * object becomes against what is live, made readable (server-kept fields
 * dropped, Secret values masked), listed field by field, what it means
 * for the sandbox (the pod restarts, the volume grows), and a key that is
 * the same for sandboxes that change the same way.
 */
#ifndef SBX_CLI_CHANGE_H
#define SBX_CLI_CHANGE_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "buf.h"

/* Drop what the server keeps for itself and nobody writes in git:
 * managedFields, resourceVersion, generation, uid, creationTimestamp,
 * status, and the controller's applied-hash annotation (a hash of the
 * rest). obj may be NULL. */
void cli_change_normalize(cJSON *obj);

/* Replace the values of a Secret's data and stringData (both objects may
 * be NULL): "***" where live and merged agree, "*** (before)" and
 * "*** (after)" where they differ, as kubectl diff does. Not a Secret:
 * nothing. */
void cli_change_mask_secrets(cJSON *live, cJSON *merged);

/* The fields that differ between live and merged, appended to `out` (a
 * JSON array) as {"path", "from", "to"}; a field only on one side has no
 * "from" (added) or no "to" (removed). Paths are dotted
 * ("spec.replicas"), with [i] for list items and ["k"] for keys that hold
 * a dot or a slash. Either side may be NULL (created or deleted: one entry
 * with an empty path). */
void cli_change_fields(cJSON *out, const cJSON *live, const cJSON *merged);

typedef struct cli_effects {
	bool restarts;        /* a Deployment's pod template changes: its pod is replaced */
	bool starts;          /* replicas 0 -> more */
	bool stops;           /* replicas more -> 0 */
	bool grows;           /* a PersistentVolumeClaim's storage request grows */
	char grow_from[32], grow_to[32];
} cli_effects;

/* Add what one object's change means to e (live or merged may be NULL). */
void cli_change_effects(cli_effects *e, const cJSON *live, const cJSON *merged);

/* A key for one object's change that is the same for every sandbox that
 * changes that object the same way: "ACTION KIND NAME" and its field
 * changes, with the sandbox's namespace and name written as <namespace>
 * and <name>. Appended to out. */
void cli_change_key(sbx_buf *out, const char *action, const cJSON *obj, const cJSON *fields,
		    const char *sandbox, const char *ns);

#endif
