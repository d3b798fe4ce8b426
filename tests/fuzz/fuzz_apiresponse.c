// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for what the API client reads from an answer: the
 * input's first two bytes choose an HTTP status (100 to 599), the rest is
 * the body. It is read as every response is (a Status for an error: its
 * reason, message and field causes), then, for a success, handed to a
 * ConfigMap watch as a page of its list (items, continue token,
 * resourceVersion). Nothing may crash or leak; an error always carries an
 * error code and a message, and every listed object handed over is a
 * JSON object. The body is also read with its managedFields blanked
 * first, as watches read it: when the body is JSON, so is the blanked
 * text, and the two parse the same but for managedFields.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kinds.h"
#include "kube-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void upsert(cJSON *obj, void *payload)
{
	(void)payload;
	if (!cJSON_IsObject(obj))
		__builtin_trap();
	cJSON_Delete(obj);
}

/* Remove metadata.managedFields of each listed object (items[*], or an
 * event's object), every copy under every spelling. */
static void remove_managed(cJSON *meta)
{
	cJSON *m;

	if (cJSON_IsObject(meta))
		while ((m = cJSON_GetObjectItemCaseSensitive(meta, "managedFields")))
			cJSON_Delete(cJSON_DetachItemViaPointer(meta, m));
}

static void remove_listed(cJSON *obj)
{
	cJSON *c;

	if (cJSON_IsObject(obj))
		cJSON_ArrayForEach(c, obj)
			if (c->string && !strcmp(c->string, "metadata"))
				remove_managed(c);
}

static void remove_all(cJSON *top)
{
	cJSON *c, *e;

	if (!cJSON_IsObject(top))
		return;
	cJSON_ArrayForEach(c, top) {
		if (c->string && !strcmp(c->string, "object"))
			remove_listed(c);
		if (c->string && !strcmp(c->string, "items") && cJSON_IsArray(c))
			cJSON_ArrayForEach(e, c)
				remove_listed(e);
	}
}

/* The body with its managedFields blanked parses as the body does, but
 * for them. */
static void check_dropped(const char *body, size_t len)
{
	cJSON *want = cJSON_ParseWithLength(body, len), *got;
	char *text, *a, *b;

	if (!want)
		return;
	if (!(text = malloc(len ? len : 1)))
		__builtin_trap();
	memcpy(text, body, len);
	sbx_kube_drop_managed_fields(text, len);
	if (!(got = cJSON_ParseWithLength(text, len)))
		__builtin_trap();
	remove_all(want);
	remove_all(got);
	/* printed, not cJSON_Compare: that takes an object with a key twice
	 * for different from itself */
	a = cJSON_PrintUnformatted(want);
	b = cJSON_PrintUnformatted(got);
	if (a && b && strcmp(a, b))
		__builtin_trap();
	free(a);
	free(b);
	cJSON_Delete(want);
	cJSON_Delete(got);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static sbx_kube_config cfg = { .server = "https://127.0.0.1:1" };
	static sbx_kube *k;
	sbx_kube_watch_handlers h = { NULL, NULL, upsert, NULL };
	sbx_kube_resp resp;
	sbx_kube_watch *w;
	long status;

	if (!k) {
		sbx_kube_options o = SBX_KUBE_OPTIONS_INIT;

		if (sbx_kube_new(&k, &cfg, &o) < 0)
			__builtin_trap();
	}
	if (size < 2)
		return 0;
	status = 100 + (data[0] | data[1] << 8) % 500;
	memset(&resp, 0, sizeof(resp));
	sbx_kube_read_response(&resp, status, (const char *)data + 2, size - 2);
	if (status >= 300 && (!resp.err || !resp.message[0]))
		__builtin_trap();
	if (memchr(resp.message, '\0', sizeof(resp.message)) == NULL ||
	    memchr(resp.reason, '\0', sizeof(resp.reason)) == NULL)
		__builtin_trap();
	if (status < 300 && sbx_kube_watch_start(&w, k, sbx_kind_lookup("v1", "ConfigMap"), NULL, NULL, &h,
						 NULL) == 0) {
		sbx_kube_watch_feed_page(w, &resp);
		sbx_kube_watch_stop(w);
	}
	cJSON_Delete(resp.body);
	check_dropped((const char *)data + 2, size - 2);
	return 0;
}
