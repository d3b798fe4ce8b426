// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for the watch stream reader: the input (after its
 * first byte) is a watch response body, cut into reads whose sizes the
 * first byte seeds, so a line, a UTF-8 sequence or a JSON token is split
 * anywhere, as TCP and HTTP/2 frames split them. It is fed to a ConfigMap
 * watch whose handlers check what they are handed. A line that is not
 * JSON, one over the limit or an ERROR event must end the stream (a
 * relist), never crash or leak; every object handed over is a JSON object.
 */
#include <stddef.h>
#include <stdint.h>

#include "kinds.h"
#include "kube-private.h"
#include "reads.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void upsert(cJSON *obj, void *payload)
{
	(void)payload;
	if (!cJSON_IsObject(obj))
		__builtin_trap();
	cJSON_Delete(obj); /* the handler's */
}

static void removed(const cJSON *obj, void *payload)
{
	(void)payload;
	if (!cJSON_IsObject(obj))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static sbx_kube_config cfg = { .server = "https://127.0.0.1:1" };
	static sbx_kube *k;
	sbx_kube_watch_handlers h = { NULL, NULL, upsert, removed };
	sbx_kube_watch *w;
	unsigned seed;

	if (!k) {
		sbx_kube_options o = SBX_KUBE_OPTIONS_INIT;

		o.max_watch_line = (size_t)64 << 10; /* small, so inputs reach it */
		if (sbx_kube_new(&k, &cfg, &o) < 0)
			__builtin_trap();
	}
	if (size < 1)
		return 0;
	seed = data[0];
	data++;
	size--;
	if (sbx_kube_watch_start(&w, k, sbx_kind_lookup("v1", "ConfigMap"), NULL, NULL, &h, NULL) < 0)
		return 0;
	for (size_t i = 0; i < size;) {
		size_t n = next_read(&seed, size - i);

		if (sbx_kube_watch_feed(w, (const char *)data + i, n) == 2)
			break;
		i += n;
	}
	sbx_kube_watch_stop(w);
	return 0;
}
