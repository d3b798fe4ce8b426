// SPDX-License-Identifier: Apache-2.0
/*
 * `sandbox diff`: before a change is merged, what it will do to the
 * cluster. Each sandbox of the working tree, a folder or a git revision is
 * rendered as the controller renders it, planned against the live objects
 * as the controller plans, and each object to apply is sent as a
 * server-side apply with dryRun=All and the controller's field manager, so
 * defaults, admission and field ownership are the server's. The answer is
 * compared with what is live: a unified diff per object (through `diff -u
 * -N`, or SANDBOX_EXTERNAL_DIFF), a line per sandbox, and a fleet summary
 * that groups sandboxes changing the same way.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "change.h"
#include "cmd.h"
#include "desired.h"
#include "diff.h"
#include "error.h"
#include "gitops.h"
#include "idle.h"
#include "kinds.h"
#include "kubecli.h"
#include "plan.h"
#include "render.h"
#include "repo.h"

static const char help[] =
	"Usage: sandbox diff [NAME...] [--repo DIR | --rev REV] [-o text|json]\n\n"
	"Show what a change will do to the cluster before it is merged: each sandbox\n"
	"(default: all) rendered from the working tree of DIR (default: the current\n"
	"folder) or from revision REV of the clone, compared with what is live. Each\n"
	"object the controller would apply is sent to the API server as a dry run\n"
	"(server-side apply, dryRun=All, the controller's field manager), so the\n"
	"server's defaults and admission count. Printed: a unified diff per object\n"
	"(Secret values masked), a line per sandbox (objects to create, change and\n"
	"prune; whether the pod restarts or the volume grows; what a removed file's\n"
	"grace period will delete), and a fleet summary where sandboxes that change\n"
	"the same way are grouped and counted; a group's diff is printed once.\n\n"
	"Options:\n"
	"  --repo DIR                 the repository's working tree (default: .)\n"
	"  --rev REV                  a revision of the clone instead (commit, branch,\n"
	"                             tag, HEAD~1; fetched first)\n"
	"  --controller-instance ID   the controller's --instance (default sandbox-controller)\n"
	"  -o, --output FMT           text (default) or json (for CI bots)\n"
	"  -h, --help                 show this help\n\n"
	"Environment: SANDBOX_EXTERNAL_DIFF replaces 'diff -u -N' (split on spaces;\n"
	"run in a folder with live/ and merged/, one file per object).\n\n"
	"Exit status (as kubectl diff): 0 no differences, 1 differences, 2 or more an\n"
	"error; what could not be compared (forbidden, not readable) is said and\n"
	"makes it 2, the rest is still compared. Without rights to patch, objects\n"
	"are compared without the server's dry run, and it says so.\n";

enum { EXIT_ERROR = 2 };

struct run {
	cli_kube k;
	const sbx_repo *repo;
	const char *instance;
	const char *tmp;           /* a folder of our own, removed at the end */
	bool json;
	cJSON *live_sandboxes;     /* owned Sandbox objects, by name (an object) */
	cJSON *results;            /* one object per sandbox, in order */
	int errors;
	size_t live_count;
};

static const char *jstr(const cJSON *o, const char *a, const char *b)
{
	return cli_json_str(o, a, b, NULL);
}

/* ---- the objects live ------------------------------------------------ */

/* Everything of the renderable kinds in the sandbox's namespace, and its
 * Namespace and Sandbox. A kind this user may not list is named in
 * `unread` (an object of kind -> true) and skipped. Returns 0, or -1 with
 * the reason in why. */
static int gather_live(struct run *rn, cJSON *live, cJSON *unread, const char *name, const char *ns,
		       sbx_buf *why)
{
	const sbx_kind *kind;
	cJSON *obj = NULL, *items = NULL;
	char *rv = NULL;
	int r;

	for (size_t i = 0; (kind = sbx_kind_at(i)); i++) {
		if (!kind->renderable || !kind->namespaced)
			continue;
		r = sbx_kube_list(rn->k.kube, &items, &rv, kind, ns, NULL, 500);
		if (r == SBX_EFORBIDDEN && unread) {
			cJSON_AddStringToObject(unread, kind->kind, kind->resource);
			continue;
		}
		if (r < 0) {
			sbx_buf_printf(why, "%s", sbx_error_last());
			return -1;
		}
		free(rv);
		rv = NULL;
		while (items->child) {
			/* a list's items carry no kind of their own */
			obj = cJSON_DetachItemViaPointer(items, items->child);
			if (!cJSON_GetObjectItemCaseSensitive(obj, "kind")) {
				cJSON_AddStringToObject(obj, "apiVersion", kind->api_version);
				cJSON_AddStringToObject(obj, "kind", kind->kind);
			}
			cJSON_AddItemToArray(live, obj);
		}
		cJSON_Delete(items);
	}
	r = sbx_kube_get(rn->k.kube, &obj, sbx_kind_find("v1", "Namespace"), NULL, ns);
	if (r == 0) {
		cJSON_AddItemToArray(live, obj);
	} else if (r == SBX_EFORBIDDEN && unread) {
		cJSON_AddStringToObject(unread, "Namespace", "the namespace itself");
	} else if (r != SBX_ENOTFOUND) {
		sbx_buf_printf(why, "%s", sbx_error_last());
		return -1;
	}
	obj = cJSON_GetObjectItemCaseSensitive(rn->live_sandboxes, name);
	if (obj)
		cJSON_AddItemToArray(live, cJSON_Duplicate(obj, 1));
	return 0;
}

static const cJSON *find_live(const cJSON *live, const cJSON *obj)
{
	sbx_buf a = SBX_BUF_INIT, b = SBX_BUF_INIT;
	const cJSON *l, *found = NULL;

	sbx_diff_key(&a, obj);
	cJSON_ArrayForEach(l, live) {
		sbx_buf_clear(&b);
		sbx_diff_key(&b, l);
		if (!strcmp(sbx_buf_cstr(&a), sbx_buf_cstr(&b))) {
			found = l;
			break;
		}
	}
	sbx_buf_dispose(&a);
	sbx_buf_dispose(&b);
	return found;
}

/* live with every field of desired laid over it (lists replaced): what
 * server-side apply would make of it, less the server's defaults */
static cJSON *overlay(const cJSON *live, const cJSON *desired)
{
	cJSON *out = cJSON_Duplicate(live, 1);
	const cJSON *d;

	if (!out || !cJSON_IsObject(desired) || !cJSON_IsObject(out)) {
		cJSON_Delete(out);
		return cJSON_Duplicate(desired, 1);
	}
	cJSON_ArrayForEach(d, desired) {
		cJSON *l = cJSON_GetObjectItemCaseSensitive(out, d->string);
		cJSON *v = l && cJSON_IsObject(d) ? overlay(l, d) : cJSON_Duplicate(d, 1);

		if (l)
			cJSON_ReplaceItemViaPointer(out, l, v);
		else
			cJSON_AddItemToObject(out, d->string, v);
	}
	return out;
}

/* ---- one object -------------------------------------------------------- */

static cJSON *add_object(cJSON *objects, const char *action, const cJSON *about, cJSON *live,
			 cJSON *merged)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(about, "metadata");
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "action", action);
	cJSON_AddStringToObject(o, "apiVersion", jstr(about, "apiVersion", NULL));
	cJSON_AddStringToObject(o, "kind", jstr(about, "kind", NULL));
	if (jstr(meta, "namespace", NULL))
		cJSON_AddStringToObject(o, "namespace", jstr(meta, "namespace", NULL));
	cJSON_AddStringToObject(o, "name", jstr(meta, "name", NULL));
	cli_change_normalize(live);
	cli_change_normalize(merged);
	cli_change_mask_secrets(live, merged);
	cli_change_fields(cJSON_AddArrayToObject(o, "changes"), live, merged);
	/* kept for the unified diff and the effects; not printed */
	if (live)
		cJSON_AddItemToObject(o, "_live", live);
	if (merged)
		cJSON_AddItemToObject(o, "_merged", merged);
	cJSON_AddItemToArray(objects, o);
	return o;
}

/* Append a formatted line to the array `key` of res (made when missing). */
static void vappend(cJSON *res, const char *key, const char *fmt, va_list ap)
{
	sbx_buf b = SBX_BUF_INIT;
	cJSON *list = cJSON_GetObjectItemCaseSensitive(res, key);

	sbx_buf_vprintf(&b, fmt, ap);
	if (!list)
		list = cJSON_AddArrayToObject(res, key);
	cJSON_AddItemToArray(list, cJSON_CreateString(sbx_buf_cstr(&b)));
	sbx_buf_dispose(&b);
}

/* Something the reader should know about a comparison. */
static void note(cJSON *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(cJSON *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vappend(res, "notes", fmt, ap);
	va_end(ap);
}

/* Something that could not be compared: the exit status becomes 2. */
static void problem(struct run *rn, cJSON *res, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void problem(struct run *rn, cJSON *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vappend(res, "errors", fmt, ap);
	va_end(ap);
	rn->errors++;
}

/* The dry run of one object to apply: the server's answer, or (forbidden,
 * or its namespace not made yet) the best that can be said without it. */
static void dry_run(struct run *rn, cJSON *res, cJSON *objects, const cJSON *desired, const cJSON *live,
		    bool *said_forbidden, bool ns_missing)
{
	sbx_kube_apply_options ao = SBX_KUBE_APPLY_OPTIONS_INIT;
	cJSON *merged = NULL;
	const char *kind = jstr(desired, "kind", NULL), *name = jstr(desired, "metadata", "name");
	int r;

	ao.force = true;
	ao.dry_run = true;
	r = ns_missing && strcmp(kind, "Namespace") != 0 ? SBX_ENOTFOUND
							  : sbx_kube_apply(rn->k.kube, &merged, desired, &ao);
	if (r == SBX_EFORBIDDEN && strstr(sbx_error_last(), "exceeded quota")) {
		/* the quota this change raises is applied first, in the real
		 * apply; a dry run of one object cannot know */
		note(res, "%s %s: the dry run was measured against the quota as it is now, which this "
		     "change raises first: compared without the server's defaults", kind, name);
		merged = live ? overlay(live, desired) : cJSON_Duplicate(desired, 1);
	} else if (r == SBX_EFORBIDDEN) {
		if (!*said_forbidden)
			note(res, "the API server refused the dry run (%s): compared with the rendered "
			     "objects laid over the live ones, without the server's defaults or admission",
			     sbx_error_last());
		*said_forbidden = true;
		merged = live ? overlay(live, desired) : cJSON_Duplicate(desired, 1);
	} else if (r == SBX_ENOTFOUND && !live) {
		/* its namespace does not exist yet: nothing to ask the server */
		merged = cJSON_Duplicate(desired, 1);
	} else if (r < 0) {
		problem(rn, res, "%s %s: the API server would refuse it: %s", kind, name, sbx_error_last());
		return;
	}
	add_object(objects, live ? "change" : "create", desired, live ? cJSON_Duplicate(live, 1) : NULL,
		   merged);
}

/* ---- one sandbox ------------------------------------------------------- */

static void effects_of(cJSON *res)
{
	cli_effects e = { 0 };
	const cJSON *o;
	sbx_buf b = SBX_BUF_INIT;

	cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(res, "objects"))
		cli_change_effects(&e, cJSON_GetObjectItemCaseSensitive(o, "_live"),
				   cJSON_GetObjectItemCaseSensitive(o, "_merged"));
	cJSON_AddBoolToObject(res, "podRestarts", e.restarts);
	cJSON_AddBoolToObject(res, "podStarts", e.starts);
	cJSON_AddBoolToObject(res, "podStops", e.stops);
	if (e.grows) {
		sbx_buf_printf(&b, "%s -> %s", e.grow_from, e.grow_to);
		cJSON_AddStringToObject(res, "volumeGrows", sbx_buf_cstr(&b));
	}
	sbx_buf_dispose(&b);
}

static void diff_valid(struct run *rn, cJSON *res, const sbx_spec *spec)
{
	sbx_plan_options po = SBX_PLAN_OPTIONS_INIT;
	sbx_render_options ro = SBX_RENDER_OPTIONS_INIT;
	sbx_effective e;
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_buf ns = SBX_BUF_INIT, why = SBX_BUF_INIT;
	cJSON *desired = NULL, *live = cJSON_CreateArray(), *unread = cJSON_CreateObject(), *objects, *obj;
	bool forbidden = false, ns_missing;
	sbx_plan p;

	sbx_render_namespace(&ns, rn->repo->policy, spec->name);
	cJSON_AddStringToObject(res, "namespace", sbx_buf_cstr(&ns));
	objects = cJSON_AddArrayToObject(res, "objects");
	ro.instance = rn->instance;
	/* a sandbox asleep for idleness runs no pod, and that is no difference
	 * while idle suspension stays on for it (else the controller wakes it) */
	ro.asleep = !spec->suspended &&
		    sbx_idle_asleep_since(cJSON_GetObjectItemCaseSensitive(rn->live_sandboxes, spec->name)) &&
		    sbx_policy_resolve(&e, rn->repo->policy, spec, &d) == 0 && e.idle_after_s > 0;
	sbx_diags_dispose(&d);
	d = (sbx_diags)SBX_DIAGS_INIT;
	if (sbx_desired(&desired, rn->repo, spec, &ro, &d) < 0) {
		sbx_buf_clear(&why);
		sbx_diags_format(&why, &d);
		problem(rn, res, "does not render: %s", sbx_buf_cstr(&why));
		goto done;
	}
	if (gather_live(rn, live, unread, spec->name, sbx_buf_cstr(&ns), &why) < 0) {
		problem(rn, res, "could not compare: %s", sbx_buf_cstr(&why));
		goto done;
	}
	/* what cannot be read live is not compared (below), and said; when
	 * nothing can be, the sandbox is not compared at all */
	if (cJSON_GetObjectItemCaseSensitive(unread, "Deployment")) {
		problem(rn, res, "could not compare: you may not read %s (its Deployment, for one)",
			sbx_buf_cstr(&ns));
		goto done;
	}
	if (unread->child) {
		sbx_buf_clear(&why);
		cJSON_ArrayForEach(obj, unread)
			sbx_buf_printf(&why, "%s%s", obj == unread->child ? "" : ", ", obj->valuestring);
		note(res, "not compared, as you may not read them in %s: %s", sbx_buf_cstr(&ns), sbx_buf_cstr(&why));
	}
	po.instance = rn->instance;
	if (sbx_plan_make(&p, desired, live, &po) < 0) {
		problem(rn, res, "%s", sbx_error_last());
		goto done;
	}
	cJSON_ArrayForEach(obj, p.conflicts)
		note(res, "Conflict: %s; the controller applies nothing to this sandbox until it is "
		     "moved away", obj->valuestring);
	ns_missing = !cJSON_GetObjectItemCaseSensitive(unread, "Namespace");
	cJSON_ArrayForEach(obj, live)
		if (!strcmp(jstr(obj, "kind", NULL), "Namespace"))
			ns_missing = false;
	if (ns_missing)
		note(res, "namespace %s does not exist yet: its objects are shown as rendered, without "
		     "the server's defaults", sbx_buf_cstr(&ns));
	if (!cJSON_GetArraySize(p.conflicts)) {
		cJSON_ArrayForEach(obj, p.apply)
			if (!cJSON_GetObjectItemCaseSensitive(unread, jstr(obj, "kind", NULL)))
				dry_run(rn, res, objects, obj, find_live(live, obj), &forbidden, ns_missing);
		cJSON_ArrayForEach(obj, p.prune)
			add_object(objects, "prune", obj, cJSON_Duplicate(obj, 1), NULL);
	}
	if (p.drifted)
		note(res, "%d object(s) changed in the cluster since the controller applied them: "
		     "the controller reverts them", p.drifted);
	sbx_plan_dispose(&p);
	effects_of(res);
done:
	cJSON_Delete(desired);
	cJSON_Delete(live);
	cJSON_Delete(unread);
	sbx_diags_dispose(&d);
	sbx_buf_dispose(&ns);
	sbx_buf_dispose(&why);
}

/* A live Sandbox of ours whose file is gone: the workload stops now
 * (PendingDelete), and after the grace period its namespace goes, with
 * everything in it, when the Sandbox recorded that it created it. */
static void diff_removed(struct run *rn, cJSON *res, const cJSON *sandbox)
{
	const char *name = jstr(sandbox, "metadata", "name");
	const char *ns = jstr(sandbox, "spec", "namespace");
	const char *recorded = jstr(sandbox, "status", "namespaceUID");
	const char *since = jstr(sandbox, "status", "pendingDeleteSince");
	cJSON *live = cJSON_CreateArray(), *after, *obj, *deploy;
	sbx_buf why = SBX_BUF_INIT, what = SBX_BUF_INIT;
	long long grace = rn->repo->policy ? rn->repo->policy->grace_period_s : 0;
	const cJSON *nsobj = NULL;

	cJSON_AddStringToObject(res, "state", "removed");
	if (ns)
		cJSON_AddStringToObject(res, "namespace", ns);
	cJSON_AddArrayToObject(res, "objects");
	if (ns && gather_live(rn, live, NULL, name, ns, &why) < 0) {
		problem(rn, res, "could not compare: %s", sbx_buf_cstr(&why));
		goto done;
	}
	cJSON_ArrayForEach(obj, live)
		if (!strcmp(jstr(obj, "kind", NULL), "Namespace"))
			nsobj = obj;
	deploy = NULL;
	cJSON_ArrayForEach(obj, live)
		if (!strcmp(jstr(obj, "kind", NULL), "Deployment") && !strcmp(jstr(obj, "metadata", "name"), "sandbox"))
			deploy = obj;
	if (deploy) {
		cJSON *stopped = cJSON_Duplicate(deploy, 1);
		cJSON *spec = cJSON_GetObjectItemCaseSensitive(stopped, "spec");

		cJSON_DeleteItemFromObjectCaseSensitive(spec, "replicas");
		cJSON_AddNumberToObject(spec, "replicas", 0);
		add_object(cJSON_GetObjectItemCaseSensitive(res, "objects"), "scale", deploy,
			   cJSON_Duplicate(deploy, 1), stopped);
	}
	after = cJSON_AddArrayToObject(res, "deletedAfterGrace");
	if (nsobj && recorded && jstr(nsobj, "metadata", "uid") && !strcmp(recorded, jstr(nsobj, "metadata", "uid"))) {
		sbx_buf_printf(&what, "Namespace %s", ns);
		cJSON_AddItemToArray(after, cJSON_CreateString(sbx_buf_cstr(&what)));
		cJSON_ArrayForEach(obj, live) {
			if (!strcmp(jstr(obj, "kind", NULL), "Namespace") || !strcmp(jstr(obj, "kind", NULL), "Sandbox"))
				continue;
			sbx_buf_clear(&what);
			sbx_buf_printf(&what, "%s %s/%s", jstr(obj, "kind", NULL), ns, jstr(obj, "metadata", "name"));
			cJSON_AddItemToArray(after, cJSON_CreateString(sbx_buf_cstr(&what)));
		}
	} else if (ns) {
		note(res, "namespace %s was not created by this Sandbox (no matching uid recorded): it "
		     "is left in place, with its volume", ns);
	}
	sbx_buf_clear(&what);
	sbx_buf_printf(&what, "Sandbox %s", name);
	cJSON_AddItemToArray(after, cJSON_CreateString(sbx_buf_cstr(&what)));
	sbx_buf_clear(&what);
	if (grace % 86400 == 0 && grace)
		sbx_buf_printf(&what, "%lldd", grace / 86400);
	else if (grace % 3600 == 0 && grace)
		sbx_buf_printf(&what, "%lldh", grace / 3600);
	else
		sbx_buf_printf(&what, "%llds", grace);
	cJSON_AddStringToObject(res, "gracePeriod", sbx_buf_cstr(&what));
	if (since)
		cJSON_AddStringToObject(res, "pendingDeleteSince", since);
	effects_of(res);
done:
	cJSON_Delete(live);
	sbx_buf_dispose(&why);
	sbx_buf_dispose(&what);
}

/* ---- unified diffs ----------------------------------------------------- */

static int write_file(const char *path, const cJSON *obj)
{
	sbx_buf b = SBX_BUF_INIT;
	FILE *f;
	int ok;

	if (!obj)
		return 0; /* diff -N: absent means empty */
	sbx_render_yaml(&b, obj);
	f = fopen(path, "w");
	ok = f && fwrite(b.ptr, 1, b.len, f) == b.len;
	if (f && fclose(f) != 0)
		ok = 0;
	sbx_buf_dispose(&b);
	return ok ? 0 : sbx_error_set(SBX_EIO, "cannot write '%s': %s", path, strerror(errno));
}

/* "apps.v1.Deployment.NS.NAME", as kubectl diff names its files */
static void file_name(sbx_buf *out, const cJSON *o)
{
	const char *api = jstr(o, "apiVersion", NULL);

	for (const char *c = api; c && *c; c++)
		sbx_buf_putc(out, *c == '/' ? '.' : *c);
	sbx_buf_printf(out, ".%s.%s.%s", jstr(o, "kind", NULL),
		       jstr(o, "namespace", NULL) ? jstr(o, "namespace", NULL) : "",
		       jstr(o, "name", NULL));
}

/* Run the diff program in dir over live/ and merged/; its output goes to
 * stdout, or into *text when text is not NULL. Returns its exit status,
 * or -1 when it could not run. */
static int run_diff(const char *dir, sbx_buf *text)
{
	const char *ext = getenv("SANDBOX_EXTERNAL_DIFF");
	char *words = strdup(ext && *ext ? ext : "diff -u -N");
	char *argv[34], *save = NULL;
	int n = 0, fds[2] = { -1, -1 }, st;
	pid_t pid;

	if (!words)
		return -1;
	for (char *w = strtok_r(words, " ", &save); w && n < 31; w = strtok_r(NULL, " ", &save))
		argv[n++] = w;
	argv[n++] = "live";
	argv[n++] = "merged";
	argv[n] = NULL;
	fflush(stdout);
	if (text && pipe(fds) < 0) {
		free(words);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		if (text) {
			dup2(fds[1], 1);
			close(fds[0]);
			close(fds[1]);
		}
		if (chdir(dir) == 0)
			execvp(argv[0], argv);
		fprintf(stderr, "sandbox: error: cannot run '%s': %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	free(words);
	if (text) {
		char chunk[4096];
		ssize_t got;

		close(fds[1]);
		while (pid > 0 && (got = read(fds[0], chunk, sizeof(chunk))) != 0) {
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0)
				break;
			sbx_buf_put(text, chunk, (size_t)got);
		}
		close(fds[0]);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Write one sandbox's objects under tmp/NAME/{live,merged} and diff them. */
static int diff_sandbox(struct run *rn, cJSON *res, sbx_buf *text)
{
	sbx_buf dir = SBX_BUF_INIT, path = SBX_BUF_INIT;
	const cJSON *o;
	int r = 0;

	sbx_buf_printf(&dir, "%s/%s", rn->tmp, jstr(res, "name", NULL));
	for (const char *const *sub = (const char *const[]){ "", "/live", "/merged", NULL }; *sub; sub++) {
		sbx_buf_clear(&path);
		sbx_buf_printf(&path, "%s%s", sbx_buf_cstr(&dir), *sub);
		if (mkdir(sbx_buf_cstr(&path), 0700) < 0 && errno != EEXIST)
			r = sbx_error_set(SBX_EIO, "cannot make '%s': %s", sbx_buf_cstr(&path), strerror(errno));
	}
	cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(res, "objects")) {
		for (int side = 0; side < 2 && r == 0; side++) {
			sbx_buf_clear(&path);
			sbx_buf_printf(&path, "%s/%s/", sbx_buf_cstr(&dir), side ? "merged" : "live");
			file_name(&path, o);
			r = write_file(sbx_buf_cstr(&path),
				       cJSON_GetObjectItemCaseSensitive(o, side ? "_merged" : "_live"));
		}
	}
	if (r == 0) {
		r = run_diff(sbx_buf_cstr(&dir), text);
		if (r > 1 || r < 0)
			r = sbx_error_set(SBX_EIO, "the diff program failed (exit status %d)", r);
		else
			r = 0;
	}
	sbx_buf_dispose(&dir);
	sbx_buf_dispose(&path);
	return r;
}

/* ---- the whole run ----------------------------------------------------- */

static bool changed(const cJSON *res)
{
	return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "objects")) > 0 ||
	       cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "deletedAfterGrace")) > 0;
}

/* The group key of a sandbox: its object changes with its names made
 * generic; "" when nothing changes. */
static void group_key(sbx_buf *key, const cJSON *res)
{
	const cJSON *o;

	if (jstr(res, "state", NULL))
		sbx_buf_printf(key, "%s\n", jstr(res, "state", NULL));
	cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(res, "objects")) {
		cJSON *about = cJSON_CreateObject(), *meta = cJSON_AddObjectToObject(about, "metadata");

		cJSON_AddStringToObject(about, "kind", jstr(o, "kind", NULL));
		cJSON_AddStringToObject(meta, "name", jstr(o, "name", NULL));
		cli_change_key(key, jstr(o, "action", NULL), about, cJSON_GetObjectItemCaseSensitive(o, "changes"),
			       jstr(res, "name", NULL), jstr(res, "namespace", NULL));
		cJSON_Delete(about);
	}
}

static void count_actions(const cJSON *res, int *create, int *change, int *prune)
{
	const cJSON *o;

	cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(res, "objects")) {
		const char *a = jstr(o, "action", NULL);

		if (!strcmp(a, "create"))
			(*create)++;
		else if (!strcmp(a, "prune"))
			(*prune)++;
		else
			(*change)++;
	}
}

/* One line for a sandbox. */
static void sandbox_line(sbx_buf *out, const cJSON *res)
{
	int create = 0, change = 0, prune = 0;
	const cJSON *o, *n;
	const char *state = jstr(res, "state", NULL), *sep = "";

	sbx_buf_printf(out, "%s: ", jstr(res, "name", NULL));
	if (state && !strcmp(state, "invalid")) {
		sbx_buf_puts(out, "the file is invalid: the controller leaves its objects alone (InvalidSpec); "
			     "'sandbox lint' says why\n");
		return;
	}
	if (state && !strcmp(state, "removed")) {
		const cJSON *after = cJSON_GetObjectItemCaseSensitive(res, "deletedAfterGrace");

		sbx_buf_printf(out, "the file is removed: the workload stops now (PendingDelete%s%s); "
			       "after the grace period (%s) the controller deletes",
			       jstr(res, "pendingDeleteSince", NULL) ? " since " : "",
			       jstr(res, "pendingDeleteSince", NULL) ? jstr(res, "pendingDeleteSince", NULL) : "",
			       jstr(res, "gracePeriod", NULL));
		cJSON_ArrayForEach(o, after) {
			sbx_buf_printf(out, "%s %s", o == after->child ? "" : ",", o->valuestring);
		}
		sbx_buf_putc(out, '\n');
	} else {
		count_actions(res, &create, &change, &prune);
		if (!create && !change && !prune)
			sbx_buf_puts(out, "no changes");
		if (create)
			sbx_buf_printf(out, "%s%d to create", sep, create), sep = ", ";
		if (change)
			sbx_buf_printf(out, "%s%d to change", sep, change), sep = ", ";
		if (prune)
			sbx_buf_printf(out, "%s%d to prune", sep, prune), sep = ", ";
		if (create || change || prune) {
			sbx_buf_puts(out, " (");
			cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(res, "objects"))
				sbx_buf_printf(out, "%s%s %s", o == cJSON_GetObjectItemCaseSensitive(res, "objects")->child ? "" : ", ",
					       jstr(o, "kind", NULL), jstr(o, "name", NULL));
			sbx_buf_putc(out, ')');
		}
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "podRestarts")))
			sbx_buf_puts(out, "; the pod restarts");
		else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "podStarts")))
			sbx_buf_puts(out, "; the pod starts");
		else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "podStops")))
			sbx_buf_puts(out, "; the pod stops");
		if (jstr(res, "volumeGrows", NULL))
			sbx_buf_printf(out, "; the home volume grows (%s)", jstr(res, "volumeGrows", NULL));
		sbx_buf_putc(out, '\n');
	}
	cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(res, "notes"))
		sbx_buf_printf(out, "  note: %s\n", n->valuestring);
	cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(res, "errors"))
		sbx_buf_printf(out, "  error: %s\n", n->valuestring);
}

/* Group the sandboxes that change the same way (results get "group": i);
 * returns the groups as [{key, sandboxes: [names]}], largest first. */
static cJSON *make_groups(cJSON *results)
{
	cJSON *groups = cJSON_CreateArray(), *res, *g;
	sbx_buf key = SBX_BUF_INIT;

	cJSON_ArrayForEach(res, results) {
		int i = 0;

		if (!changed(res))
			continue;
		sbx_buf_clear(&key);
		group_key(&key, res);
		cJSON_ArrayForEach(g, groups) {
			if (!strcmp(jstr(g, "key", NULL), sbx_buf_cstr(&key)))
				break;
			i++;
		}
		if (!g) {
			g = cJSON_CreateObject();
			cJSON_AddStringToObject(g, "key", sbx_buf_cstr(&key));
			cJSON_AddArrayToObject(g, "sandboxes");
			cJSON_AddItemToArray(groups, g);
		}
		cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(g, "sandboxes"),
				     cJSON_CreateString(jstr(res, "name", NULL)));
	}
	sbx_buf_dispose(&key);
	return groups;
}

static void strip_private(cJSON *results)
{
	cJSON *res, *o;

	cJSON_ArrayForEach(res, results)
		cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(res, "objects")) {
			cJSON_DeleteItemFromObjectCaseSensitive(o, "_live");
			cJSON_DeleteItemFromObjectCaseSensitive(o, "_merged");
		}
}

/* Which files the source has under sandboxes/, by name (an object of
 * true), so a live Sandbox without a valid spec is told apart: invalid
 * file, or removed. */
static int dir_files(cJSON *names, const char *dir)
{
	sbx_buf path = SBX_BUF_INIT;
	DIR *d;
	struct dirent *e;

	sbx_buf_printf(&path, "%s/sandboxes", dir);
	d = opendir(sbx_buf_cstr(&path));
	sbx_buf_dispose(&path);
	if (!d)
		return errno == ENOENT ? 0 : sbx_error_set(SBX_EIO, "cannot read %s/sandboxes: %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (n > 5 && !strcmp(e->d_name + n - 5, ".yaml")) {
			char *name = strndup(e->d_name, n - 5);

			if (name && !cJSON_GetObjectItemCaseSensitive(names, name))
				cJSON_AddTrueToObject(names, name);
			free(name);
		}
	}
	closedir(d);
	return 0;
}

static void git_files(cJSON *names, const sbx_git_files *f)
{
	sbx_buf name = SBX_BUF_INIT;

	for (size_t i = 0; i < f->nsandboxes + f->nrefused; i++) {
		const char *p = i < f->nsandboxes ? f->sandboxes[i].path : f->refused[i - f->nsandboxes];
		const char *base = strrchr(p, '/') ? strrchr(p, '/') + 1 : p;
		const char *dot = strrchr(base, '.');

		sbx_buf_clear(&name);
		sbx_buf_put(&name, base, dot ? (size_t)(dot - base) : strlen(base));
		if (!cJSON_GetObjectItemCaseSensitive(names, sbx_buf_cstr(&name)))
			cJSON_AddTrueToObject(names, sbx_buf_cstr(&name));
	}
	sbx_buf_dispose(&name);
}

static bool wanted(int argc, char **argv, int first, const char *name)
{
	if (first >= argc)
		return true;
	for (int i = first; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return false;
}

static void progress(size_t done, size_t total)
{
	if (total >= 20 && isatty(2) && (done % 10 == 0 || done == total))
		fprintf(stderr, "\rcompared %zu of %zu sandboxes%s", done, total, done == total ? "\n" : "");
}

static int print_text(struct run *rn, cJSON *groups)
{
	sbx_buf out = SBX_BUF_INIT;
	const cJSON *res, *g;
	int create = 0, change = 0, prune = 0, nchanged = 0, status = 0;

	/* the diffs: a group's first sandbox stands for the group */
	cJSON_ArrayForEach(g, groups) {
		const char *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(g, "sandboxes"), 0)->valuestring;
		int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(g, "sandboxes"));

		cJSON_ArrayForEach(res, rn->results)
			if (!strcmp(jstr(res, "name", NULL), first))
				break;
		if (!cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "objects")))
			continue;
		if (n > 1)
			printf("# %s, and %d more sandboxes that change the same way\n", first, n - 1);
		else
			printf("# %s\n", first);
		if (diff_sandbox(rn, (cJSON *)res, NULL) < 0) {
			cli_error(EXIT_ERROR, "%s", sbx_error_last());
			status = -1;
		}
	}
	if (cJSON_GetArraySize(groups))
		putchar('\n');
	cJSON_ArrayForEach(res, rn->results) {
		if (!changed(res) && !cJSON_GetObjectItemCaseSensitive(res, "errors") &&
		    !cJSON_GetObjectItemCaseSensitive(res, "notes") && !jstr(res, "state", NULL))
			continue;
		sandbox_line(&out, res);
		if (changed(res))
			nchanged++;
		count_actions(res, &create, &change, &prune);
	}
	fputs(sbx_buf_cstr(&out), stdout);
	printf("%s%d of %zu sandboxes change: %d objects to create, %d to change, %d to prune",
	       out.len ? "\n" : "", nchanged, (size_t)cJSON_GetArraySize(rn->results), create, change, prune);
	if (rn->errors)
		printf("; %d could not be compared", rn->errors);
	printf(".\n");
	if (cJSON_GetArraySize(groups) && nchanged > cJSON_GetArraySize(groups)) {
		printf("%d ways of changing:\n", cJSON_GetArraySize(groups));
		cJSON_ArrayForEach(g, groups) {
			const cJSON *names = cJSON_GetObjectItemCaseSensitive(g, "sandboxes"), *nm;
			int i = 0, n = cJSON_GetArraySize(names);

			printf("  %d sandbox%s (", n, n == 1 ? "" : "es");
			cJSON_ArrayForEach(nm, names) {
				if (i == 5) {
					printf(", ...");
					break;
				}
				printf("%s%s", i++ ? ", " : "", nm->valuestring);
			}
			printf("):\n");
			for (const char *k = jstr(g, "key", NULL), *nl; *k; k = nl + 1) {
				nl = strchr(k, '\n');
				printf("    %.*s\n", (int)(nl ? nl - k : (long)strlen(k)), k);
				if (!nl)
					break;
			}
		}
	}
	sbx_buf_dispose(&out);
	return status;
}

static int print_json(struct run *rn, cJSON *groups)
{
	cJSON *doc = cJSON_CreateObject(), *res;
	bool differences = false;
	char *text;
	int status = 0;

	cJSON_ArrayForEach(res, rn->results) {
		sbx_buf t = SBX_BUF_INIT;

		if (!cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "objects")))
			continue;
		sbx_buf_init(&t, (size_t)16 << 20);
		if (diff_sandbox(rn, res, &t) < 0)
			status = -1;
		cJSON_AddStringToObject(res, "diff", sbx_buf_cstr(&t));
		sbx_buf_dispose(&t);
	}
	cJSON_ArrayForEach(res, rn->results)
		differences |= changed(res);
	strip_private(rn->results);
	cJSON_AddBoolToObject(doc, "differences", differences);
	cJSON_AddNumberToObject(doc, "errors", rn->errors);
	cJSON_AddItemReferenceToObject(doc, "groups", groups);
	cJSON_AddItemReferenceToObject(doc, "sandboxes", rn->results);
	text = cJSON_Print(doc);
	if (text)
		puts(text);
	free(text);
	cJSON_Delete(doc);
	return status;
}

static void remove_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	sbx_buf p = SBX_BUF_INIT;

	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		sbx_buf_clear(&p);
		sbx_buf_printf(&p, "%s/%s", path, e->d_name);
		if (unlink(sbx_buf_cstr(&p)) < 0)
			remove_tree(sbx_buf_cstr(&p));
	}
	if (d)
		closedir(d);
	rmdir(path);
	sbx_buf_dispose(&p);
}

int cmd_diff(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "repo", required_argument, NULL, 'r' },
		{ "rev", required_argument, NULL, 'R' },
		{ "controller-instance", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		CLI_CONFIG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *rev = NULL, *format = "text";
	char tmpl[] = "/tmp/sandbox-diff.XXXXXX", oid[SBX_GIT_OID_HEX];
	struct run rn = { 0 };
	cli_config cfg;
	sbx_diags diags = SBX_DIAGS_INIT;
	sbx_git *g = NULL;
	sbx_git_files files = { 0 };
	sbx_repo *repo = NULL;
	sbx_buf out = SBX_BUF_INIT;
	cJSON *names = cJSON_CreateObject(), *items = NULL, *sb, *groups = NULL;
	char *rv = NULL;
	size_t total = 0, done = 0;
	int c, status = EXIT_OK;

	rn.instance = "sandbox-controller";
	cli_config_init(&cfg);
	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'r': dir = optarg; break;
		case 'R': rev = optarg; break;
		case 'i': rn.instance = optarg; break;
		case 'o': format = optarg; break;
		case 'h': cli_config_print_help(help); goto done;
		default:
			if ((status = cli_config_option(&cfg, c, optarg, help)) != EXIT_OK)
				goto done;
		}
	}
	if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0) {
		status = cli_error(EXIT_USAGE, "unknown output format '%s' (text or json)", format);
		goto done;
	}
	if (dir && rev) {
		status = cli_error(EXIT_USAGE, "--repo and --rev are two sources: give one");
		goto done;
	}
	rn.json = !strcmp(format, "json");
	/* failures are 2 here: 1 means "differences" */
	if (cli_config_load(&cfg) != EXIT_OK) {
		status = EXIT_ERROR;
		goto done;
	}

	/* the source */
	if (rev) {
		if (cli_git_fetch(&g, oid, &cfg) != EXIT_OK) {
			status = EXIT_ERROR;
			goto done;
		}
		if (sbx_git_resolve(g, rev, oid) < 0 || sbx_git_read(&files, g, oid, &diags) < 0) {
			status = cli_error(EXIT_ERROR, "%s", sbx_error_last());
			goto done;
		}
		if (sbx_git_repo_load(&repo, &files, &diags) == SBX_ENOMEM) {
			status = cli_error(EXIT_ERROR, "%s", sbx_error_last());
			goto done;
		}
		git_files(names, &files);
	} else {
		dir = dir ? dir : ".";
		if (sbx_repo_load_dir(&repo, dir, &diags) == SBX_ENOMEM || dir_files(names, dir) < 0) {
			status = cli_error(EXIT_ERROR, "%s", sbx_error_last());
			goto done;
		}
	}
	if (!repo->policy || !repo->templates) {
		sbx_diags_sort(&diags);
		sbx_diags_format(&out, &diags);
		fputs(sbx_buf_cstr(&out), stderr);
		status = cli_error(EXIT_ERROR, "the policy or the templates are invalid: the controller "
				   "would change nothing and report every sandbox InvalidSpec; 'sandbox lint' "
				   "says why");
		goto done;
	}
	rn.repo = repo;

	/* the cluster */
	if ((status = cli_kube_open(&rn.k, &cfg)) != EXIT_OK) {
		status = EXIT_ERROR;
		goto done;
	}
	rn.live_sandboxes = cJSON_CreateObject();
	if (sbx_kube_list(rn.k.kube, &items, &rv, sbx_kind_find("sandbox.dev/v1alpha1", "Sandbox"), NULL,
			  NULL, 500) < 0) {
		status = cli_error(EXIT_ERROR, "%s", sbx_error_last());
		goto done;
	}
	while (items->child) {
		cJSON *o = cJSON_DetachItemViaPointer(items, items->child);

		if (!cJSON_GetObjectItemCaseSensitive(o, "kind")) {
			cJSON_AddStringToObject(o, "apiVersion", "sandbox.dev/v1alpha1");
			cJSON_AddStringToObject(o, "kind", "Sandbox");
		}

		if (sbx_diff_owned(o, rn.instance) && jstr(o, "metadata", "name")) {
			cJSON_AddItemToObject(rn.live_sandboxes, jstr(o, "metadata", "name"), o);
			rn.live_count++;
		} else {
			cJSON_Delete(o);
		}
	}
	for (int i = optind; i < argc; i++)
		if (!sbx_repo_find(repo, argv[i]) && !cJSON_GetObjectItemCaseSensitive(names, argv[i]) &&
		    !cJSON_GetObjectItemCaseSensitive(rn.live_sandboxes, argv[i])) {
			status = cli_error(EXIT_ERROR, "no sandbox '%s': no file sandboxes/%s.yaml and no "
					   "Sandbox of this controller in the cluster", argv[i], argv[i]);
			goto done;
		}

	if (!(rn.tmp = mkdtemp(tmpl))) {
		status = cli_error(EXIT_ERROR, "cannot make a temporary folder: %s", strerror(errno));
		goto done;
	}
	rn.results = cJSON_CreateArray();
	for (size_t i = 0; i < repo->nspecs; i++)
		total += wanted(argc, argv, optind, repo->specs[i]->name);
	cJSON_ArrayForEach(sb, rn.live_sandboxes)
		total += !sbx_repo_find(repo, sb->string) && wanted(argc, argv, optind, sb->string);
	for (size_t i = 0; i < repo->nspecs; i++) {
		cJSON *res;

		if (!wanted(argc, argv, optind, repo->specs[i]->name))
			continue;
		res = cJSON_CreateObject();
		cJSON_AddStringToObject(res, "name", repo->specs[i]->name);
		cJSON_AddItemToArray(rn.results, res);
		diff_valid(&rn, res, repo->specs[i]);
		progress(++done, total);
	}
	/* live Sandboxes without a valid file: an invalid file, or a removed one */
	cJSON_ArrayForEach(sb, rn.live_sandboxes) {
		cJSON *res;

		if (sbx_repo_find(repo, sb->string) || !wanted(argc, argv, optind, sb->string))
			continue;
		res = cJSON_CreateObject();
		cJSON_AddStringToObject(res, "name", sb->string);
		cJSON_AddItemToArray(rn.results, res);
		if (cJSON_GetObjectItemCaseSensitive(names, sb->string)) {
			cJSON_AddStringToObject(res, "state", "invalid");
			cJSON_AddArrayToObject(res, "objects");
		} else {
			diff_removed(&rn, res, sb);
		}
		progress(++done, total);
	}
	{
		/* the breaker, measured against the live Sandboxes (the controller
		 * measures against the revision in force, which is usually them) */
		int removed = 0;

		cJSON_ArrayForEach(sb, rn.results)
			removed += jstr(sb, "state", NULL) && !strcmp(jstr(sb, "state", NULL), "removed") &&
				   !jstr(sb, "pendingDeleteSince", NULL);
		if (removed > 1 && (size_t)removed * 100 > (size_t)repo->policy->max_prune_percent * rn.live_count)
			fprintf(stderr, "sandbox: warning: this removes %d of %zu sandboxes, more than "
				"deletion.maxPrunePercent (%d%%): the controller will refuse the removals "
				"(PruneBlocked) and delete nothing\n", removed, rn.live_count,
				repo->policy->max_prune_percent);
	}
	groups = make_groups(rn.results);
	if ((rn.json ? print_json(&rn, groups) : print_text(&rn, groups)) < 0)
		rn.errors++;
	status = rn.errors ? EXIT_ERROR : EXIT_OK;
	if (!rn.errors) {
		cJSON_ArrayForEach(sb, rn.results)
			if (changed(sb))
				status = 1;
	}
done:
	if (rn.tmp)
		remove_tree(rn.tmp);
	cJSON_Delete(groups);
	cJSON_Delete(rn.results);
	cJSON_Delete(rn.live_sandboxes);
	cJSON_Delete(items);
	cJSON_Delete(names);
	free(rv);
	cli_kube_close(&rn.k);
	sbx_repo_free(repo);
	sbx_git_files_dispose(&files);
	sbx_git_free(g);
	sbx_diags_dispose(&diags);
	sbx_buf_dispose(&out);
	cli_config_dispose(&cfg);
	return status;
}
