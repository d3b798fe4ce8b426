/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cache's compact form of a live object: the parts nothing reads are
 * dropped (compact_trim), the rest is kept as compact JSON compressed with
 * raw deflate, against a dictionary when there is one: another object of
 * the same kind, which every sandbox's copy of a template resembles, so
 * a Deployment of a few kilobytes keeps a few hundred bytes. Parsed again
 * on every read, which costs microseconds.
 */
#ifndef SBX_CONTROLLER_COMPACT_H
#define SBX_CONTROLLER_COMPACT_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* Drop from a live object what neither diffing, health, pruning nor the
 * deleting rules read: managedFields, kubectl's last-applied annotation,
 * creationTimestamp, and the status of every kind but Deployment,
 * PersistentVolumeClaim and Sandbox. */
void compact_trim(cJSON *obj);

/* One object packed: `len` bytes of JSON, deflated into `z` unless that
 * failed (then `z` holds the JSON itself). */
typedef struct compact_blob {
	unsigned char *z;
	uint32_t zlen, len;
	uint8_t mode;          /* internal: stored, deflated, deflated with the dictionary */
} compact_blob;

/* A packer: reused compression state and scratch (one per cache). */
typedef struct compact compact;

/* NULL on out of memory. */
compact *compact_new(void);
void compact_free(compact *p);

/* Pack obj (serialized compactly) against `dict` (dlen bytes, may be NULL;
 * only its last 32 KiB count). Returns 0 or SBX_ENOMEM; *out is the
 * caller's (compact_blob_dispose). */
int compact_pack(compact *p, const cJSON *obj, const char *dict, size_t dlen, compact_blob *out);

/* The object again, or NULL (out of memory, or a blob not packed against
 * this dict). The caller must cJSON_Delete it. */
cJSON *compact_unpack(compact *p, const compact_blob *b, const char *dict, size_t dlen);

void compact_blob_dispose(compact_blob *b);

#endif
