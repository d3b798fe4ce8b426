/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Field checks shared by the spec and policy validators: typed reads of YAML
 * nodes that report located errors, unknown-field detection with a "did you
 * mean" hint, DNS-1123 labels. Each check appends to diags and returns 0 or
 * SBX_EINVAL; callers keep going to report every problem.
 */
#ifndef SBX_CHECK_H
#define SBX_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "quantity.h"
#include "yamlfile.h"

/* One resource triple (cpu, memory, storage), each possibly absent. */
typedef struct sbx_resources {
	sbx_quantity cpu, memory, storage;
	bool has_cpu, has_memory, has_storage;
	int line_cpu, line_memory, line_storage;  /* where each was set (0: not from a file) */
} sbx_resources;

/* Report every key of map n not in the NULL-terminated `known` list, with a
 * "did you mean" hint where one is close. `where` names the map
 * ("spec", "spec.resources") in the message. */
int sbx_check_known_fields(sbx_diags *d, const char *path, const sbx_ynode *n,
			   const char *where, const char *const *known);

/* The closest word of `known` to `word` within a small edit distance, or
 * NULL. Borrowed from `known`. */
const char *sbx_check_suggest(const char *word, const char *const *known);

/* Require n to be a mapping / a sequence / a non-empty string. `field` is
 * the dotted name used in the message. NULL n reports "missing field". */
int sbx_check_map(sbx_diags *d, const char *path, const sbx_ynode *n, const sbx_ynode *parent,
		  const char *field);
int sbx_check_seq(sbx_diags *d, const char *path, const sbx_ynode *n, const char *field);
int sbx_check_string(sbx_diags *d, const char *path, const sbx_ynode *n, const sbx_ynode *parent,
		     const char *field, bool required);

/* Read a quantity (string or number scalar) that must not be negative. */
int sbx_check_quantity(sbx_diags *d, const char *path, const sbx_ynode *n, const char *field,
		       sbx_quantity *out);

/* Read a resources map {cpu, memory, storage}; `required` demands all three. */
int sbx_check_resources(sbx_diags *d, const char *path, const sbx_ynode *n, const char *field,
			bool required, sbx_resources *out);

/* Check a file's apiVersion (sandbox.dev/v1alpha1) and kind. */
int sbx_check_header(sbx_diags *d, const char *path, const sbx_ynode *root, const char *kind);

/* Whether s is a DNS-1123 label (lowercase alphanumerics and '-', starts
 * and ends alphanumeric, at most max characters). */
bool sbx_is_dns_label(const char *s, size_t max);

/* A Go-style duration ("72h", "1h30m", "90s", or "0") in seconds into
 * *out. Returns 0, or SBX_EINVAL when s is not one. */
int sbx_duration_parse(int64_t *out, const char *s);

#define SBX_IDLE_AFTER_MAX (720 * 3600)   /* 30 days */

/* An idle.suspendAfter value at n (`field` names it in the message): a
 * duration from 1s to 720h, or "never" (0). Returns 0 and *out, or
 * SBX_EINVAL with the error in d. */
int sbx_check_idle_after(sbx_diags *d, const char *path, const sbx_ynode *n, const char *field,
			 int64_t *out);

/* Report a value at node n (or at the start of the file if n is NULL). */
int sbx_check_error(sbx_diags *d, const char *path, const sbx_ynode *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
