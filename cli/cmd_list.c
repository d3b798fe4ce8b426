// SPDX-License-Identifier: Apache-2.0
/*
 * `sandbox list` and `sandbox status`: what the controller reports in the
 * Sandbox resources, as a table for people or JSON/YAML for scripts;
 * status adds the commit-to-ready timeline, the message and the objects
 * that are not healthy.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "error.h"
#include "idle.h"
#include "kubecli.h"
#include "render.h"

static const char list_help[] =
	"Usage: sandbox list [-o table|json|yaml]\n\n"
	"List the sandboxes the controller reports (the Sandbox resources):\n"
	"NAME OWNER SIZE SYNC HEALTH AGE.\n\n"
	"  -o, --output FMT  table (default), json (a v1 List) or yaml\n"
	"  -h, --help        show this help\n\n";

static const char status_help[] =
	"Usage: sandbox status [NAME] [-o table|json|yaml]\n\n"
	"Show one sandbox as the controller reports it: sync and health, the\n"
	"current message, the commit-to-ready timeline, the ssh endpoint and host\n"
	"key, and any object that is not healthy.\n\n"
	"  NAME              default: the 'name' setting, else your login name\n"
	"  -o, --output FMT  table (default), json or yaml\n"
	"  -h, --help        show this help\n\n";

enum format { FMT_TABLE, FMT_JSON, FMT_YAML };

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

/* Seconds since an RFC 3339 UTC time, or -1. */
static long long since(const char *ts)
{
	struct tm tm = { 0 };

	if (!ts || !strptime(ts, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return -1;
	return (long long)(time(NULL) - timegm(&tm));
}

/* kubectl's short ages: 45s, 12m, 5h, 3d. */
static void age(char *out, size_t len, const char *ts)
{
	long long s = since(ts);

	if (s < 0)
		snprintf(out, len, "-");
	else if (s < 120)
		snprintf(out, len, "%llds", s);
	else if (s < 7200)
		snprintf(out, len, "%lldm", s / 60);
	else if (s < 172800)
		snprintf(out, len, "%lldh", s / 3600);
	else
		snprintf(out, len, "%lldd", s / 86400);
}

/* JSON or YAML, without managedFields (as kubectl shows objects). */
static int print_machine(cJSON *obj, enum format f)
{
	sbx_buf b = SBX_BUF_INIT;
	char *text = NULL;
	cJSON *item;

	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(obj, "metadata"), "managedFields");
	cJSON_ArrayForEach(item, cJSON_GetObjectItem(obj, "items"))
		cJSON_DeleteItemFromObject(cJSON_GetObjectItem(item, "metadata"), "managedFields");

	if (f == FMT_JSON) {
		text = cJSON_Print(obj);
		if (text)
			puts(text);
		cJSON_free(text);
		return text ? EXIT_OK : cli_error(EXIT_INVALID, "out of memory");
	}
	sbx_render_yaml(&b, obj);
	fputs(sbx_buf_cstr(&b), stdout);
	sbx_buf_dispose(&b);
	return b.failed ? cli_error(EXIT_INVALID, "out of memory") : EXIT_OK;
}

static int parse(int argc, char **argv, const char *help, cli_config *cfg, enum format *f)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		CLI_CONFIG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			if (!strcmp(optarg, "table"))
				*f = FMT_TABLE;
			else if (!strcmp(optarg, "json"))
				*f = FMT_JSON;
			else if (!strcmp(optarg, "yaml"))
				*f = FMT_YAML;
			else
				return cli_error(EXIT_USAGE, "unknown output format '%s' (table, json, "
						 "yaml)", optarg);
			break;
		case 'h': cli_config_print_help(help); return -1;
		default:
			if (cli_config_option(cfg, ch, optarg, help) != EXIT_OK)
				return EXIT_USAGE;
		}
	}
	return cli_config_load(cfg);
}

int cmd_list(int argc, char **argv)
{
	cli_config cfg;
	cli_kube k = { 0 };
	enum format f = FMT_TABLE;
	cJSON *items = NULL, *list = NULL, *sb;
	char *rv = NULL;
	int status;

	cli_config_init(&cfg);
	status = parse(argc, argv, list_help, &cfg, &f);
	if (status != EXIT_OK) {
		status = status < 0 ? EXIT_OK : status;
		goto done;
	}
	if (optind < argc) {
		status = cli_error(EXIT_USAGE, "'list' takes no NAME; use 'sandbox status %s'",
				   argv[optind]);
		goto done;
	}
	if ((status = cli_kube_open(&k, &cfg)) != EXIT_OK)
		goto done;
	if (sbx_kube_list(k.kube, &items, &rv, sbx_kind_find("sandbox.dev/v1alpha1", "Sandbox"),
			  NULL, NULL, 500) < 0) {
		status = cli_error(EXIT_INVALID, "%s; is the controller installed in this cluster "
				   "('sandbox config' shows which context)?", sbx_error_last());
		goto done;
	}
	if (f != FMT_TABLE) {
		list = cJSON_CreateObject();
		cJSON_AddStringToObject(list, "apiVersion", "v1");
		cJSON_AddStringToObject(list, "kind", "List");
		cJSON_AddItemToObject(list, "items", items);
		items = NULL;
		status = print_machine(list, f);
		goto done;
	}
	if (cJSON_GetArraySize(items) == 0) {
		fputs("No sandboxes found.\n", stderr);
		goto done;
	}
	printf("%-20s %-28s %-8s %-13s %-11s %-6s %s\n", "NAME", "OWNER", "SIZE", "SYNC", "HEALTH", "AGE",
	       "IDLE");
	cJSON_ArrayForEach(sb, items) {
		char a[32], idle[32];

		age(a, sizeof(a), cli_json_str(sb, "metadata", "creationTimestamp", NULL));
		/* how long a sandbox suspended for idleness has been idle */
		age(idle, sizeof(idle), sbx_idle_asleep_since(sb));
		printf("%-20s %-28s %-8s %-13s %-11s %-6s %s\n",
		       or_dash(cli_json_str(sb, "metadata", "name", NULL)),
		       or_dash(cli_json_str(sb, "spec", "owner", NULL)),
		       or_dash(cli_json_str(sb, "spec", "size", NULL)),
		       or_dash(cli_json_str(sb, "status", "sync", NULL)),
		       or_dash(cli_json_str(sb, "status", "health", NULL)), a, idle);
	}
done:
	cJSON_Delete(items);
	cJSON_Delete(list);
	free(rv);
	cli_kube_close(&k);
	cli_config_dispose(&cfg);
	return status;
}

static void timeline_row(const char *label, const char *ts, long long committed)
{
	struct tm tm = { 0 };

	if (!ts) {
		printf("  %-10s -\n", label);
		return;
	}
	if (committed >= 0 && strptime(ts, "%Y-%m-%dT%H:%M:%SZ", &tm))
		printf("  %-10s %s  (+%llds)\n", label, ts, (long long)timegm(&tm) - committed);
	else
		printf("  %-10s %s\n", label, ts);
}

static void print_status(const cJSON *sb)
{
	const cJSON *st = cJSON_GetObjectItem(sb, "status"), *o;
	const char *committed = cli_json_str(st, "timeline", "committed", NULL);
	struct tm tm = { 0 };
	long long c0 = committed && strptime(committed, "%Y-%m-%dT%H:%M:%SZ", &tm) ?
		       (long long)timegm(&tm) : -1;

	printf("Name:       %s\n", or_dash(cli_json_str(sb, "metadata", "name", NULL)));
	printf("Owner:      %s\n", or_dash(cli_json_str(sb, "spec", "owner", NULL)));
	printf("Namespace:  %s\n", or_dash(cli_json_str(sb, "spec", "namespace", NULL)));
	printf("Size:       %s (cpu %s, memory %s, storage %s)\n",
	       or_dash(cli_json_str(sb, "spec", "size", NULL)),
	       or_dash(cli_json_str(sb, "spec", "cpu", NULL)),
	       or_dash(cli_json_str(sb, "spec", "memory", NULL)),
	       or_dash(cli_json_str(sb, "spec", "storage", NULL)));
	printf("Sync:       %s at %s\n", or_dash(cli_json_str(st, "sync", NULL)),
	       or_dash(cli_json_str(st, "shortRevision", NULL)));
	printf("Health:     %s\n", or_dash(cli_json_str(st, "health", NULL)));
	printf("Message:    %s\n", or_dash(cli_json_str(st, "message", NULL)));
	printf("SSH:        %s  %s\n", or_dash(cli_json_str(st, "ssh", "endpoint", NULL)),
	       or_dash(cli_json_str(st, "ssh", "hostKeyFingerprint", NULL)));
	if (cli_json_str(st, "pendingDeleteSince", NULL))
		printf("Deleting:   file removed; data kept since %s for the grace period\n",
		       cli_json_str(st, "pendingDeleteSince", NULL));
	printf("Timeline:\n");
	timeline_row("committed", committed, c0);
	timeline_row("seen", cli_json_str(st, "timeline", "seen", NULL), c0);
	timeline_row("applied", cli_json_str(st, "timeline", "applied", NULL), c0);
	timeline_row("ready", cli_json_str(st, "timeline", "ready", NULL), c0);
	cJSON_ArrayForEach(o, cJSON_GetObjectItem(st, "problems")) {
		if (o == cJSON_GetObjectItem(st, "problems")->child)
			printf("Problems:\n");
		if (cJSON_IsString(o))
			printf("  %s\n", o->valuestring);
	}
	cJSON_ArrayForEach(o, cJSON_GetObjectItem(st, "objects")) {
		const char *h = cli_json_str(o, "health", NULL);

		if (h && strcmp(h, "Healthy") != 0)
			printf("Object:     %s/%s %s %s\n", or_dash(cli_json_str(o, "kind", NULL)),
			       or_dash(cli_json_str(o, "name", NULL)), h,
			       or_dash(cli_json_str(o, "message", NULL)));
	}
}

int cmd_status(int argc, char **argv)
{
	cli_config cfg;
	cli_kube k = { 0 };
	enum format f = FMT_TABLE;
	cJSON *sb = NULL;
	const char *name;
	int status, r;

	cli_config_init(&cfg);
	status = parse(argc, argv, status_help, &cfg, &f);
	if (status != EXIT_OK) {
		status = status < 0 ? EXIT_OK : status;
		goto done;
	}
	if ((status = cli_config_name(&name, &cfg, argc, argv, optind)) != EXIT_OK ||
	    (status = cli_kube_open(&k, &cfg)) != EXIT_OK)
		goto done;
	r = cli_kube_sandbox(&k, &sb, name);
	if (r == SBX_ENOTFOUND) {
		status = cli_error(EXIT_INVALID, "the cluster has no sandbox '%s'; if you just pushed "
				   "it, the controller has not seen it yet ('sandbox list' shows the "
				   "ones there are)", name);
		goto done;
	}
	if (r < 0) {
		status = cli_error(EXIT_INVALID, "%s", sbx_error_last());
		goto done;
	}
	if (f != FMT_TABLE)
		status = print_machine(sb, f);
	else
		print_status(sb);
done:
	cJSON_Delete(sb);
	cli_kube_close(&k);
	cli_config_dispose(&cfg);
	return status;
}
