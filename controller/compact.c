// SPDX-License-Identifier: Apache-2.0
/*
 * Trimming and packing of cached objects (raw deflate with zlib, a
 * dictionary per kind).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "compact.h"
#include "error.h"

enum { STORED, DEFLATED, DEFLATED_DICT };

#define WINDOW 32768 /* what raw deflate can refer back to */

struct compact {
	z_stream d, i;
	bool d_ok, i_ok;
	unsigned char *out;    /* deflate's output, grown as needed */
	size_t cap;
};

void compact_trim(cJSON *obj)
{
	static const char *const keep_status[] = { "Deployment", "PersistentVolumeClaim", "Sandbox" };
	cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, "kind"));
	bool keep = false;

	cJSON_DeleteItemFromObjectCaseSensitive(meta, "managedFields");
	cJSON_DeleteItemFromObjectCaseSensitive(meta, "creationTimestamp");
	cJSON_DeleteItemFromObjectCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(meta, "annotations"),
		"kubectl.kubernetes.io/last-applied-configuration");
	for (size_t i = 0; kind && i < sizeof(keep_status) / sizeof(*keep_status); i++)
		keep |= !strcmp(kind, keep_status[i]);
	if (!keep)
		cJSON_DeleteItemFromObjectCaseSensitive(obj, "status");
}

compact *compact_new(void)
{
	compact *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	/* level 1: a cold sync packs every object, and the dictionary does
	 * most of the work */
	p->d_ok = deflateInit2(&p->d, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK;
	p->i_ok = inflateInit2(&p->i, -15) == Z_OK;
	return p;
}

void compact_free(compact *p)
{
	if (!p)
		return;
	if (p->d_ok)
		deflateEnd(&p->d);
	if (p->i_ok)
		inflateEnd(&p->i);
	free(p->out);
	free(p);
}

static void tail(const char **dict, size_t *dlen)
{
	if (*dict && *dlen > WINDOW) {
		*dict += *dlen - WINDOW;
		*dlen = WINDOW;
	}
}

/* Deflate json into p->out; the packed size, or 0 when that failed. */
static size_t deflate_into(compact *p, const char *json, size_t len, const char *dict, size_t dlen)
{
	size_t bound;

	if (!p->d_ok || deflateReset(&p->d) != Z_OK ||
	    (dict && deflateSetDictionary(&p->d, (const Bytef *)dict, (uInt)dlen) != Z_OK))
		return 0;
	bound = deflateBound(&p->d, (uLong)len);
	if (bound > p->cap) {
		unsigned char *o = realloc(p->out, bound);

		if (!o)
			return 0;
		p->out = o;
		p->cap = bound;
	}
	p->d.next_in = (Bytef *)json;
	p->d.avail_in = (uInt)len;
	p->d.next_out = p->out;
	p->d.avail_out = (uInt)bound;
	return deflate(&p->d, Z_FINISH) == Z_STREAM_END ? bound - p->d.avail_out : 0;
}

int compact_pack(compact *p, const cJSON *obj, const char *dict, size_t dlen, compact_blob *out)
{
	char *json = cJSON_PrintUnformatted(obj);
	size_t len = json ? strlen(json) : 0, zlen;

	memset(out, 0, sizeof(*out));
	if (!json || len > UINT32_MAX) {
		free(json);
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	}
	tail(&dict, &dlen);
	zlen = deflate_into(p, json, len, dict, dlen);
	out->len = (uint32_t)len;
	if (zlen && zlen < len && (out->z = malloc(zlen))) {
		memcpy(out->z, p->out, zlen);
		out->zlen = (uint32_t)zlen;
		out->mode = dict ? DEFLATED_DICT : DEFLATED;
		free(json);
		return 0;
	}
	/* not smaller, or no memory for zlib: kept as it is */
	out->z = (unsigned char *)json;
	out->zlen = (uint32_t)len;
	out->mode = STORED;
	return 0;
}

cJSON *compact_unpack(compact *p, const compact_blob *b, const char *dict, size_t dlen)
{
	unsigned char *json;
	cJSON *obj;

	if (b->mode == STORED)
		return cJSON_ParseWithLength((const char *)b->z, b->zlen);
	if ((b->mode == DEFLATED_DICT) != (dict != NULL) || !p->i_ok || !(json = malloc(b->len)))
		return NULL;
	tail(&dict, &dlen);
	p->i.next_in = b->z;
	p->i.avail_in = b->zlen;
	p->i.next_out = json;
	p->i.avail_out = b->len;
	obj = inflateReset(&p->i) == Z_OK &&
			      (!dict || inflateSetDictionary(&p->i, (const Bytef *)dict, (uInt)dlen) == Z_OK) &&
			      inflate(&p->i, Z_FINISH) == Z_STREAM_END && p->i.avail_out == 0
		      ? cJSON_ParseWithLength((const char *)json, b->len)
		      : NULL;
	free(json);
	return obj;
}

void compact_blob_dispose(compact_blob *b)
{
	free(b->z);
	memset(b, 0, sizeof(*b));
}
