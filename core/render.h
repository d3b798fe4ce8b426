/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rendering: SRE-owned object templates (the YAML files in templates/) + one validated
 * sandbox -> Kubernetes objects as cJSON. Values are substituted into
 * nodes, typed (`${name}`, `${quota.cpu}`, `${authorizedKeys|base64}`);
 * user strings are never pasted into YAML text, so no input can add a key,
 * an object or a document.
 */
#ifndef SBX_RENDER_H
#define SBX_RENDER_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "diag.h"
#include "policy.h"
#include "spec.h"

#define SBX_LABEL_MANAGED_BY "app.kubernetes.io/managed-by"
#define SBX_MANAGER "sandbox-controller"
#define SBX_LABEL_NAME "sandbox.dev/name"
#define SBX_ANNOTATION_TRACKING "sandbox.dev/tracking-id"
#define SBX_ANNOTATION_HASH "sandbox.dev/applied-hash"   /* set by the controller */

typedef struct sbx_templates sbx_templates;

/* One input file held in memory (path for messages, bytes need not be
 * NUL-terminated). Borrowed by the functions that take it. */
typedef struct sbx_file {
	const char *path;
	const char *data;
	size_t len;
} sbx_file;

typedef struct sbx_render_options {
	const char *instance;   /* controller instance in tracking ids; NULL: "sandbox-controller" */
	bool asleep;            /* suspended for idleness: ${replicas} is 0 (${suspended}
				 * stays what git says) */
} sbx_render_options;

#define SBX_RENDER_OPTIONS_INIT { NULL, false }

/* Parse and check object templates: each file one object with apiVersion,
 * kind and metadata.name, a kind from the kind table, and only known
 * variables. Every problem goes to diags. Returns 0 and *out (caller must
 * sbx_templates_free), or SBX_EINVAL / SBX_ENOMEM. */
int sbx_templates_load(sbx_templates **out, const sbx_file *files, size_t nfiles,
		       sbx_diags *diags);

/* Number of templates loaded. */
size_t sbx_templates_count(const sbx_templates *t);

/* Render the objects of one sandbox, in apply order (wave, then kind, then
 * name): *out is a cJSON array (caller must cJSON_Delete). A template that
 * lands in another namespace, or a cluster-scoped kind other than
 * Namespace, is an error in diags. Returns 0, SBX_EINVAL or SBX_ENOMEM. */
int sbx_render(cJSON **out, const sbx_templates *t, const sbx_policy *p, const sbx_spec *s,
	       const sbx_render_options *opts, sbx_diags *diags);

/* The namespace of sandbox `name` under policy p, appended to out. */
int sbx_render_namespace(sbx_buf *out, const sbx_policy *p, const char *name);

/* The tracking id of obj for controller `instance`, from the object's own
 * coordinates: "INSTANCE:GROUP/KIND:NAMESPACE/NAME" (core group and
 * cluster scope empty), appended to out. The only place the format is
 * written. */
int sbx_render_tracking_id(sbx_buf *out, const char *instance, const cJSON *obj);

/* Mark obj (apiVersion, kind, metadata.name and namespace already set) as
 * made by controller `instance`: the managed-by label, the sandbox label
 * when `sandbox` is not NULL, and the tracking id. Returns 0 or
 * SBX_ENOMEM. */
int sbx_render_mark(cJSON *obj, const char *instance, const char *sandbox);

/* Append one object as a YAML document (no leading "---") to out, keys in
 * the object's order, strings quoted wherever plain text would change type. */
int sbx_render_yaml(sbx_buf *out, const cJSON *obj);

/* Append every object of the array objs as a document starting with "---",
 * as `sandbox render -o yaml` prints them. */
int sbx_render_yaml_documents(sbx_buf *out, const cJSON *objs);

/* Free templates. NULL-safe. */
void sbx_templates_free(sbx_templates *t);

#endif
