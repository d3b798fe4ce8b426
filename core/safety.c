// SPDX-License-Identifier: Apache-2.0
/*
 * The safety rules of deleting, as pure functions: the breaker for a whole
 * revision, and one sandbox's action including the order of its deletion.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "safety.h"

#define NAMES_SHOWN 5   /* removed sandboxes named in a message */

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool sorted_has(const char *const *v, size_t n, const char *name)
{
	return n && bsearch(&name, v, n, sizeof(*v), cmp_name) != NULL;
}

/* Append printf output to a fixed message, cut at its end. */
static void say(sbx_safety_fleet *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(sbx_safety_fleet *f, const char *fmt, ...)
{
	size_t used = strlen(f->message);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->message + used, sizeof(f->message) - used, fmt, ap);
	va_end(ap);
}

int sbx_safety_fleet_decide(sbx_safety_fleet *out, const sbx_safety_input *in)
{
	const char **present = NULL, **fleet = NULL, **removed = NULL;
	size_t nfleet = 0, nremoved = 0;
	sbx_safety_fleet f;
	int r = 0;

	memset(&f, 0, sizeof(f));
	if (!in->synced) {
		f.block = SBX_BLOCK_NOT_SYNCED;
		say(&f, "the cluster's state is not known yet (the cache has not synced); nothing is "
		    "decided until it is");
		goto done;
	}
	present = calloc(in->nfiles + 1, sizeof(*present));
	fleet = calloc(in->nin_force + in->nlive + 1, sizeof(*fleet));
	removed = calloc(in->nin_force + in->nlive + 1, sizeof(*removed));
	if (!present || !fleet || !removed) {
		r = sbx_error_set(SBX_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < in->nfiles; i++)
		present[i] = in->files[i].name;
	qsort(present, in->nfiles, sizeof(*present), cmp_name);
	/* the fleet this revision is measured against: the last revision in
	 * force, or before one is known, the live Sandboxes not already going */
	if (in->have_in_force) {
		for (size_t i = 0; i < in->nin_force; i++)
			fleet[nfleet++] = in->in_force[i];
	} else {
		for (size_t i = 0; i < in->nlive; i++)
			if (in->live[i].ours && !in->live[i].deleting && !in->live[i].pending_since_ms)
				fleet[nfleet++] = in->live[i].name;
	}
	qsort(fleet, nfleet, sizeof(*fleet), cmp_name);
	for (size_t i = 0; i < nfleet; i++) {
		if (i && !strcmp(fleet[i], fleet[i - 1]))
			continue;
		f.fleet++;
		if (!sorted_has(present, in->nfiles, fleet[i]))
			removed[nremoved++] = fleet[i];
	}
	f.removed = nremoved;
	if (!in->policy_ok || !in->templates_ok) {
		f.block = in->policy_ok ? SBX_BLOCK_TEMPLATES : SBX_BLOCK_POLICY;
		say(&f, "revision %.12s has an invalid %s (%s); nothing is changed or deleted until a "
		    "valid revision arrives", in->revision ? in->revision : "",
		    in->policy_ok ? "template" : "templates/policy.yaml",
		    in->policy_error && *in->policy_error ? in->policy_error : "see the controller log");
	} else if (in->nfiles == 0 && f.fleet > 0) {
		f.block = SBX_BLOCK_EMPTY;
		say(&f, "revision %.12s has no sandbox files at all; deleting ", in->revision ? in->revision : "");
		if (f.fleet == 1)
			say(&f, "the only sandbox");
		else
			say(&f, "all %zu sandboxes", f.fleet);
		say(&f, " is refused: restore sandboxes/ (to remove the last sandbox, delete its Sandbox "
		    "and namespace with kubectl)");
	} else if (nremoved > 1 && nremoved * 100 > (size_t)in->max_prune_percent * f.fleet) {
		f.block = SBX_BLOCK_MASS;
		say(&f, "revision %.12s removes %zu of %zu sandboxes (", in->revision ? in->revision : "",
		    nremoved, f.fleet);
		for (size_t i = 0; i < nremoved && i < NAMES_SHOWN; i++)
			say(&f, "%s%s", i ? ", " : "", removed[i]);
		if (nremoved > NAMES_SHOWN)
			say(&f, " and %zu more", nremoved - NAMES_SHOWN);
		say(&f, "), more than deletion.maxPrunePercent (%d%%) allows; nothing is deleted or "
		    "pruned until a revision removes fewer: restore the files, remove them one at a "
		    "time, or raise the limit", in->max_prune_percent);
	}
done:
	if (r == 0)
		*out = f;
	free(present);
	free(fleet);
	free(removed);
	return r;
}

/* The grace period is over: the next step of deleting, in order. */
static void delete_step(sbx_verdict *v, const sbx_safety_live *live)
{
	const char *rec = live->ns_uid_recorded;

	v->action = SBX_ACT_DELETE;
	if (!rec || !*rec) {
		/* it never created its namespace (a conflict, say): never delete it */
		v->keep_namespace = true;
		v->step = SBX_STEP_SANDBOX;
	} else if (!live->ns_exists) {
		v->step = SBX_STEP_SANDBOX;
	} else if (!live->ns_ours || !live->ns_uid || strcmp(live->ns_uid, rec) != 0) {
		/* a namespace of that name that is not the one it created */
		v->keep_namespace = true;
		v->step = SBX_STEP_SANDBOX;
	} else if (live->ns_deleting) {
		v->step = SBX_STEP_WAIT;
	} else if (live->workloads > 0) {
		v->step = SBX_STEP_WORKLOAD;
	} else {
		v->step = SBX_STEP_NAMESPACE;
	}
}

sbx_verdict sbx_safety_sandbox(sbx_block block, sbx_file_state file, const sbx_safety_live *live,
			       long long grace_ms, long long now_ms)
{
	sbx_verdict v;
	bool unrenderable = block == SBX_BLOCK_POLICY || block == SBX_BLOCK_TEMPLATES;

	memset(&v, 0, sizeof(v));
	v.action = SBX_ACT_IGNORE;
	if (block == SBX_BLOCK_NOT_SYNCED || (live && live->deleting))
		return v;
	if (live && !live->ours) {
		/* another instance's Sandbox: only a valid file of ours may claim the
		 * name, and applying then reports the conflict */
		if (file == SBX_FILE_VALID && !unrenderable) {
			v.action = SBX_ACT_APPLY;
			v.prune = block == SBX_BLOCK_NONE;
		}
		return v;
	}
	if (file != SBX_FILE_ABSENT) {
		if (unrenderable)
			v.action = SBX_ACT_KEEP;
		else if (file == SBX_FILE_VALID)
			v.action = SBX_ACT_APPLY;
		else
			v.action = SBX_ACT_INVALID;
		v.prune = v.action == SBX_ACT_APPLY && block == SBX_BLOCK_NONE;
		return v;
	}
	if (!live)
		return v;
	if (block != SBX_BLOCK_NONE && !live->pending_since_ms) {
		v.action = SBX_ACT_KEEP;
		return v;
	}
	/* the file is gone and the removal was allowed, now or earlier: the
	 * grace clock runs from when it first went PendingDelete */
	v.since_ms = live->pending_since_ms ? live->pending_since_ms : now_ms;
	v.until_ms = v.since_ms + grace_ms;
	v.action = SBX_ACT_PENDING_DELETE;
	if (now_ms < v.until_ms)
		return v;
	if (block != SBX_BLOCK_NONE) {
		v.held = true;
		return v;
	}
	delete_step(&v, live);
	return v;
}

struct named {
	const char *name;
	sbx_file_state file;
	const sbx_safety_live *live;
};

static int cmp_named(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

int sbx_safety_decide(sbx_safety_fleet *fleet, const char ***names, sbx_verdict **verdicts,
		      size_t *count, const sbx_safety_input *in, long long grace_ms,
		      long long now_ms)
{
	struct named *all = calloc(in->nfiles + in->nlive + 1, sizeof(*all));
	const char **nv = NULL;
	sbx_verdict *vv = NULL;
	size_t n = 0, m = 0;
	int r;

	if (!all)
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	if ((r = sbx_safety_fleet_decide(fleet, in)) < 0)
		goto done;
	for (size_t i = 0; i < in->nfiles; i++)
		all[n++] = (struct named){ in->files[i].name, in->files[i].state, NULL };
	for (size_t i = 0; i < in->nlive; i++)
		all[n++] = (struct named){ in->live[i].name, SBX_FILE_ABSENT, &in->live[i] };
	qsort(all, n, sizeof(*all), cmp_named);
	/* one entry per name: the file's state and the live object together */
	for (size_t i = 0; i < n; i++) {
		if (m && !strcmp(all[m - 1].name, all[i].name)) {
			if (all[i].live)
				all[m - 1].live = all[i].live;
			if (all[i].file != SBX_FILE_ABSENT)
				all[m - 1].file = all[i].file;
			continue;
		}
		all[m++] = all[i];
	}
	nv = calloc(m + 1, sizeof(*nv));
	vv = calloc(m + 1, sizeof(*vv));
	if (!nv || !vv) {
		r = sbx_error_set(SBX_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < m; i++) {
		nv[i] = all[i].name;
		vv[i] = sbx_safety_sandbox(fleet->block, all[i].file, all[i].live, grace_ms, now_ms);
	}
	*names = nv;
	*verdicts = vv;
	*count = m;
	nv = NULL;
	vv = NULL;
done:
	free(all);
	free(nv);
	free(vv);
	return r;
}

const char *sbx_action_name(sbx_action a)
{
	static const char *const names[] = { "ignore", "apply", "invalid", "keep", "pending-delete",
					     "delete" };

	return (size_t)a < sizeof(names) / sizeof(names[0]) ? names[a] : "?";
}

const char *sbx_delete_step_name(sbx_delete_step s)
{
	static const char *const names[] = { "none", "workload", "namespace", "wait", "sandbox" };

	return (size_t)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}
