/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the controller applies for one sandbox, built the same way for the
 * controller and for `sandbox diff`: the Sandbox object first, then the
 * rendered objects, each marked for the controller instance and stamped
 * with the applied-hash annotation.
 */
#ifndef SBX_DESIRED_H
#define SBX_DESIRED_H

#include <cjson/cJSON.h>

#include "diag.h"
#include "policy.h"
#include "render.h"
#include "repo.h"

/* The Sandbox object of `name`. With e and spec (a valid file): its
 * owner, size, namespace `ns`, resources and suspended; without (an
 * invalid file): its name and file only. NULL on out of memory. */
cJSON *sbx_desired_sandbox(const char *name, const char *instance, const sbx_effective *e,
			   const sbx_spec *spec, const char *ns);

/* Add the applied-hash annotation: a hash of the object as it is, so a
 * field dropped from a template still shows as a change. */
void sbx_desired_stamp(cJSON *obj);

/* Every object of `spec` in apply order, stamped: the Sandbox, the
 * rendered objects and, when idle suspension is on for it, the activity
 * Lease (core/idle.h). ro as for sbx_render (NULL: the defaults). Returns 0
 * and *out (a JSON array; caller must cJSON_Delete), or a negative SBX_E*
 * with the located problems in d (policy or templates that do not render
 * it). */
int sbx_desired(cJSON **out, const sbx_repo *repo, const sbx_spec *spec, const sbx_render_options *ro,
		sbx_diags *d);

#endif
