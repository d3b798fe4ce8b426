// SPDX-License-Identifier: Apache-2.0
/*
 * Leader election on a coordination.k8s.io Lease: take it when it is free
 * or expired, renew it every couple of seconds, write nothing unless held.
 * Optimistic concurrency (resourceVersion) settles races. Renewal is two
 * non-blocking requests (read, then write) driven by the loop; leadership
 * lasts, by this replica's own clock, until the Lease could expire.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controller.h"
#include "error.h"
#include "log.h"

#define LEASE_NAME "sandbox-controller"
#define LEASE_SECONDS 15
#define LEASE_MARGIN_S 3   /* stop writing this long before the Lease could be taken */
#define RENEW_MS 2000

static void micro_time(char out[40], long long wall_ms)
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;
	char base[24];

	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 40, "%s.%06lldZ", base, (wall_ms % 1000) * 1000);
}

static cJSON *lease_object(controller *c, const cJSON *live, long long now)
{
	cJSON *l = live ? cJSON_Duplicate(live, 1) : cJSON_CreateObject(), *spec;
	char ts[40];

	micro_time(ts, now);
	if (!live) {
		cJSON *meta = cJSON_AddObjectToObject(l, "metadata");

		cJSON_AddStringToObject(meta, "name", LEASE_NAME);
		cJSON_AddStringToObject(meta, "namespace", c->o.lease_namespace);
	}
	cJSON_DeleteItemFromObject(l, "apiVersion");
	cJSON_DeleteItemFromObject(l, "kind");
	cJSON_AddStringToObject(l, "apiVersion", "coordination.k8s.io/v1");
	cJSON_AddStringToObject(l, "kind", "Lease");
	cJSON_DeleteItemFromObject(l, "spec");
	spec = cJSON_AddObjectToObject(l, "spec");
	cJSON_AddStringToObject(spec, "holderIdentity", c->o.identity);
	cJSON_AddNumberToObject(spec, "leaseDurationSeconds", LEASE_SECONDS);
	cJSON_AddStringToObject(spec, "renewTime", ts);
	if (!live || !c->leader)
		cJSON_AddStringToObject(spec, "acquireTime", ts);
	else if (cJSON_GetObjectItem(cJSON_GetObjectItem(live, "spec"), "acquireTime"))
		cJSON_AddItemToObject(spec, "acquireTime", cJSON_Duplicate(cJSON_GetObjectItem(
			cJSON_GetObjectItem(live, "spec"), "acquireTime"), 1));
	return l;
}

static void set_leader(controller *c, bool leader)
{
	if (leader != c->leader)
		log_info(NULL, leader ? "became the leader (Lease %s/%s)" : "not the leader (Lease %s/%s)",
			 c->o.lease_namespace, LEASE_NAME);
	if (leader && !c->leader)
		c->leader_since = controller_wall_ms();
	c->leader = leader;
}

static void lease_written(sbx_kube_resp *resp, void *payload)
{
	controller *c = payload;

	c->lease_inflight = false;
	if (resp->err) {
		/* a conflict means another replica wrote first: it leads */
		set_leader(c, false);
		return;
	}
	/* valid by our own clock from when the renewal began, with room for
	 * the other replicas' clocks */
	c->lease_valid_until = c->lease_sent + (LEASE_SECONDS - LEASE_MARGIN_S) * 1000LL;
	set_leader(c, true);
}

static void lease_read(sbx_kube_resp *resp, void *payload)
{
	controller *c = payload;
	const sbx_kind *k = sbx_kind_find("coordination.k8s.io/v1", "Lease");
	long long wall = controller_wall_ms();
	const cJSON *spec;
	const char *holder;
	cJSON *want = NULL;
	char *body = NULL;
	int r;

	if (resp->err == SBX_ENOTFOUND) {
		want = lease_object(c, NULL, wall);
		r = sbx_kube_start_create(c->kube, want, lease_written, c);
		goto done;
	}
	if (resp->err) {
		/* cannot tell: a leader that cannot renew must stop writing */
		r = -1;
		goto done;
	}
	spec = cJSON_GetObjectItem(resp->body, "spec");
	holder = cJSON_IsString(cJSON_GetObjectItem(spec, "holderIdentity"))
			 ? cJSON_GetObjectItem(spec, "holderIdentity")->valuestring : "";
	if (strcmp(holder, c->o.identity) != 0 && *holder) {
		long long renewed = controller_parse_time(cJSON_IsString(cJSON_GetObjectItem(spec, "renewTime"))
						  ? cJSON_GetObjectItem(spec, "renewTime")->valuestring : NULL);
		const cJSON *dur = cJSON_GetObjectItem(spec, "leaseDurationSeconds");

		if (renewed + (cJSON_IsNumber(dur) ? (long long)dur->valuedouble : LEASE_SECONDS) * 1000 > wall) {
			r = -1; /* someone else holds a live lease */
			goto done;
		}
	}
	/* a merge patch carrying the live resourceVersion: a racing writer
	 * gets a conflict instead of both believing they lead */
	want = lease_object(c, resp->body, wall);
	body = cJSON_PrintUnformatted(want);
	r = body ? sbx_kube_start_patch(c->kube, k, c->o.lease_namespace, LEASE_NAME, NULL, body,
					lease_written, c) : SBX_ENOMEM;
done:
	if (r < 0) {
		c->lease_inflight = false;
		set_leader(c, false);
	}
	cJSON_Delete(want);
	free(body);
}

void leader_tick(controller *c, long long now_ms)
{
	const sbx_kind *k = sbx_kind_find("coordination.k8s.io/v1", "Lease");
	sbx_buf path = SBX_BUF_INIT;
	sbx_kube_req q = { "GET", NULL, NULL, NULL };

	if (!c->o.leader_elect) {
		if (!c->leader)
			c->leader_since = controller_wall_ms();
		c->leader = true;
		return;
	}
	if (c->lease_inflight || now_ms < c->lease_renew_at)
		return;
	c->lease_renew_at = now_ms + RENEW_MS;
	c->lease_sent = now_ms;
	c->lease_inflight = true;
	sbx_kube_path(&path, k, c->o.lease_namespace, LEASE_NAME, NULL);
	q.path = sbx_buf_cstr(&path);
	if (sbx_kube_start(c->kube, &q, lease_read, c) < 0) {
		c->lease_inflight = false;
		set_leader(c, false);
	}
	sbx_buf_dispose(&path);
}

void leader_release(controller *c)
{
	const sbx_kind *k = sbx_kind_find("coordination.k8s.io/v1", "Lease");

	if (!c->o.leader_elect || !c->leader)
		return;
	/* an empty holder lets the next replica take over without waiting */
	sbx_kube_patch(c->kube, NULL, k, c->o.lease_namespace, LEASE_NAME, NULL,
		       "{\"spec\":{\"holderIdentity\":\"\"}}");
	c->leader = false;
}
