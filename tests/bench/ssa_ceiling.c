// SPDX-License-Identifier: Apache-2.0
/*
 * The ceiling the controller's cold sync is measured against: the same
 * rendered objects sent straight to the API server as server-side applies,
 * N requests in flight over the project's own client (HTTP/2), no reads,
 * no status, no client rate limit: the most this API server takes on this
 * machine. Namespaces first (the rest needs them), then everything else.
 *
 *   ssa_ceiling FILE.json [IN_FLIGHT]    FILE: a v1 List (sandbox render -o json)
 *
 * Prints one line: objects, seconds, objects/s, client CPU seconds,
 * requests and failures. Uses $KUBECONFIG.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "error.h"
#include "kube.h"
#include "kubeconfig.h"

struct pump {
	sbx_kube *k;
	cJSON **objs;
	size_t n, next, done;
	int inflight, max, failed;
};

static void applied(sbx_kube_resp *resp, void *payload)
{
	struct pump *p = payload;

	p->inflight--;
	p->done++;
	if (resp->err) {
		if (!p->failed)
			fprintf(stderr, "ssa_ceiling: %s\n", resp->message);
		p->failed++;
	}
}

/* Apply objs[0..n) with up to p->max in flight. */
static int pump(struct pump *p)
{
	sbx_kube_apply_options ao = SBX_KUBE_APPLY_OPTIONS_INIT;

	ao.field_manager = "ceiling";
	ao.force = true;
	while (p->done < p->n) {
		while (p->inflight < p->max && p->next < p->n) {
			if (sbx_kube_start_apply(p->k, p->objs[p->next], &ao, applied, p) < 0) {
				fprintf(stderr, "ssa_ceiling: %s\n", sbx_error_last());
				return -1;
			}
			p->next++;
			p->inflight++;
		}
		if (sbx_kube_run(p->k, 1000) < 0) {
			fprintf(stderr, "ssa_ceiling: %s\n", sbx_error_last());
			return -1;
		}
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long len;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)len + 1)) && fread(buf, 1, (size_t)len, f) == (size_t)len)
		buf[len] = '\0';
	else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	sbx_kubeconfig_options ko = SBX_KUBECONFIG_OPTIONS_INIT;
	sbx_kube_options o = SBX_KUBE_OPTIONS_INIT;
	sbx_kube_config *cfg = NULL;
	struct pump first = { 0 }, rest = { 0 };
	struct rusage ru;
	char *text;
	cJSON *list, *obj;
	size_t n = 0;
	double t0, t1, cpu;
	unsigned long requests;

	if (argc < 2 || argc > 3) {
		fputs("usage: ssa_ceiling FILE.json [IN_FLIGHT]\n", stderr);
		return 2;
	}
	if (!(text = slurp(argv[1])) || !(list = cJSON_Parse(text))) {
		fprintf(stderr, "ssa_ceiling: cannot read a JSON List from '%s'\n", argv[1]);
		return 2;
	}
	free(text);
	n = (size_t)cJSON_GetArraySize(cJSON_GetObjectItem(list, "items"));
	first.objs = calloc(n + 1, sizeof(cJSON *));
	rest.objs = calloc(n + 1, sizeof(cJSON *));
	cJSON_ArrayForEach(obj, cJSON_GetObjectItem(list, "items")) {
		struct pump *p = strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(obj, "kind")), "Namespace") ? &rest : &first;

		p->objs[p->n++] = obj;
	}
	o.qps = 1e9;   /* no client-side limit: the server is what is measured */
	o.burst = 1 << 30;
	o.max_retries = 5;
	if (sbx_kubeconfig_load(&cfg, &ko) < 0 || sbx_kube_new(&first.k, cfg, &o) < 0) {
		fprintf(stderr, "ssa_ceiling: %s\n", sbx_error_last());
		return 2;
	}
	rest.k = first.k;
	first.max = rest.max = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 64;
	if (first.max < 1)
		first.max = rest.max = 1;
	t0 = now_s();
	if (pump(&first) < 0 || pump(&rest) < 0)
		return 1;
	t1 = now_s();
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	      (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	requests = sbx_kube_request_count(first.k, NULL, -1);
	printf("objects %zu seconds %.2f objects/s %.0f cpu %.2f requests %lu failed %d\n", first.n + rest.n,
	       t1 - t0, (double)(first.n + rest.n) / (t1 - t0), cpu, requests, first.failed + rest.failed);
	sbx_kube_free(first.k);
	sbx_kube_config_free(cfg);
	free(first.objs);
	free(rest.objs);
	cJSON_Delete(list);
	return first.failed + rest.failed ? 1 : 0;
}
