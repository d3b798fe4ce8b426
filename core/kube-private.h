/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The parts of the API client that read what a server sends, callable on
 * their own so the fuzzers (tests/fuzz/fuzz_kube_*.c) can reach them
 * without a server. Not installed; product code uses kube.h.
 */
#ifndef SBX_KUBE_PRIVATE_H
#define SBX_KUBE_PRIVATE_H

#include <stddef.h>

#include "kube.h"

/* Read a response as the client does: out->body parsed from body (NULL
 * when it is not JSON) and, for a status of 300 or more, err, reason and
 * message from its Status. out must be zeroed; the caller
 * cJSON_Deletes out->body; body must outlive out->raw. */
void sbx_kube_read_response(sbx_kube_resp *out, long status, const char *body, size_t len);

/* Blank (overwrite with spaces) metadata.managedFields of every object in
 * a list response's items, or of a watch event's object, in the JSON text
 * json[0..len): still JSON, and parsed it is the same but for those
 * members. Nothing else is touched; text that is not JSON is left as it
 * is from where the walk finds that. Watches call it on every list page
 * and event before parsing them. */
void sbx_kube_drop_managed_fields(char *json, size_t len);

/* Bytes of w's watch stream as they arrive, split anywhere: each complete
 * event goes to w's handlers. Returns 0 to go on, or 2 once the stream
 * must start again from a list (a line over the limit or not JSON, an
 * ERROR event). */
int sbx_kube_watch_feed(sbx_kube_watch *w, const char *data, size_t n);

/* A response to w's list request, as the client delivers it: the list it
 * had queued is dropped first. */
void sbx_kube_watch_feed_page(sbx_kube_watch *w, sbx_kube_resp *resp);

#endif
