/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Desired-vs-live comparison for server-side apply: a live object is in
 * sync when every field the desired object sets has the same value live
 * (fields the server or others added are ignored). Pure functions over
 * cJSON trees.
 */
#ifndef SBX_DIFF_H
#define SBX_DIFF_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "buf.h"

/* Whether live holds every field of desired with an equal value. Maps
 * compare key by key (extra live keys ignored); lists compare element by
 * element and must have the same length; numbers compare by value; a
 * desired null matches an absent field. When they differ and `why` is not
 * NULL, the first differing path is appended ("spec.replicas"). */
bool sbx_diff_subset(const cJSON *desired, const cJSON *live, sbx_buf *why);

/* The key of an object: "GROUP/KIND/NAMESPACE/NAME" (core group empty).
 * Appended to out. */
int sbx_diff_key(sbx_buf *out, const cJSON *obj);

/* Whether obj was made by controller `instance`: its tracking id equals
 * the one its own coordinates give (sbx_render_tracking_id), so a copy in
 * another namespace, under another name or of another kind is not. */
bool sbx_diff_owned(const cJSON *obj, const char *instance);

/* Tracking id annotation value of obj, or NULL. Borrowed from obj. */
const char *sbx_diff_tracking_id(const cJSON *obj);

#endif
