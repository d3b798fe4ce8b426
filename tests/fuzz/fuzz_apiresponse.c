// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for what the API client reads from an answer: the
 * input's first two bytes choose an HTTP status (100 to 599), the rest is
 * the body. It is read as every response is (a Status for an error: its
 * reason, message and field causes), then, for a success, handed to a
 * ConfigMap watch as a page of its list (items, continue token,
 * resourceVersion). Nothing may crash or leak; an error always carries an
 * error code and a message, and every listed object handed over is a
 * JSON object.
 */
#include <stddef.h>
#include <stdint.h>
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
	return 0;
}
