// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for core/safety.c: one table, one row per situation the
 * deleting rules must get right (the ordinary ones, every finding of the
 * deletion-safety review, the grace period's end step by step). A row is
 * written in a compact text form, parsed below:
 *
 *   in_force  "a b c" (the last revision in force), NULL: not known yet
 *   files     "a b:invalid c:refused" (the new revision's sandbox files)
 *   live      "a b:pending=-2,ns=u1,live-ns=u1,workloads=1 c:foreign"
 *             flags: foreign, deleting, pending=HOURS (relative to now),
 *             ns=UID (recorded), live-ns=UID (ours), live-ns-foreign=UID,
 *             ns-deleting, workloads=N
 *   want      "a=apply+prune b=invalid c=pending d=delete:workload"
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "safety.h"

#define HOUR (3600LL * 1000)
#define NOW (1800000000LL * 1000)
#define GRACE (72 * HOUR)

enum { POLICY_BAD = 1, TEMPLATES_BAD = 2, NOT_SYNCED = 4 };

struct row {
	const char *what;
	const char *in_force;
	const char *files;
	const char *live;
	int pct;
	int flags;
	sbx_block block;
	size_t removed;
	const char *want;
	const char *message;   /* a part the fleet's message must hold, or NULL */
};

static const struct row rows[] = {
	/* ordinary */
	{ "three valid files, all live: apply and prune", "a b c", "a b c", "a b c", 20, 0,
	  SBX_BLOCK_NONE, 0, "a=apply+prune b=apply+prune c=apply+prune", NULL },
	{ "a new file: apply", "a", "a b", "a", 20, 0, SBX_BLOCK_NONE, 0,
	  "a=apply+prune b=apply+prune", NULL },
	{ "first start, nothing known yet: the live ones stand for the fleet", NULL, "a b", "a b", 20,
	  0, SBX_BLOCK_NONE, 0, "a=apply+prune b=apply+prune", NULL },
	{ "restore within the grace period: apply again", "a b", "a b c", "a b c:pending=-1", 20, 0,
	  SBX_BLOCK_NONE, 0, "a=apply+prune b=apply+prune c=apply+prune", NULL },
	/* finding 1: a refused or invalid file touches nothing */
	{ "refused file (symlink, oversized, *.yml) is invalid, not removed", "a b c",
	  "a b c:refused", "a b c", 20, 0, SBX_BLOCK_NONE, 0,
	  "a=apply+prune b=apply+prune c=invalid", NULL },
	{ "every file refused: nothing removed, nothing touched", "a b c", "a:refused b:refused c:refused",
	  "a b c", 20, 0, SBX_BLOCK_NONE, 0, "a=invalid b=invalid c=invalid", NULL },
	{ "invalid file: InvalidSpec", "a b", "a b:invalid", "a b", 20, 0, SBX_BLOCK_NONE, 0,
	  "a=apply+prune b=invalid", NULL },
	{ "invalid new file with no Sandbox yet: still only reported", "a", "a b:invalid", "a", 20, 0,
	  SBX_BLOCK_NONE, 0, "a=apply+prune b=invalid", NULL },
	{ "a refused file of a name in force is not a removal", "a b c d e", "a b c d:refused e:refused",
	  "a b c d e", 0, 0, SBX_BLOCK_NONE, 0,
	  "a=apply+prune b=apply+prune c=apply+prune d=invalid e=invalid", NULL },
	/* finding 2: the breaker counts what this revision removes */
	{ "one removal of three at 20%: allowed", "a b c", "a b", "a b c", 20, 0, SBX_BLOCK_NONE, 1,
	  "a=apply+prune b=apply+prune c=pending", NULL },
	{ "one removal of four at 20%: allowed", "a b c d", "a b c", "a b c d", 20, 0,
	  SBX_BLOCK_NONE, 1, "a=apply+prune b=apply+prune c=apply+prune d=pending", NULL },
	{ "one removal at 0%: allowed", "a b", "a", "a b", 0, 0, SBX_BLOCK_NONE, 1,
	  "a=apply+prune b=pending", NULL },
	{ "two removals at 0%: refused", "a b c d e f g h i j", "a b c d e f g h", "a b c d e f g h i j",
	  0, 0, SBX_BLOCK_MASS, 2, "a=apply b=apply c=apply d=apply e=apply f=apply g=apply h=apply "
	  "i=keep j=keep", "removes 2 of 10 sandboxes (i, j)" },
	{ "two of ten at 20%: at the limit, allowed", "a b c d e f g h i j", "a b c d e f g h",
	  "a b c d e f g h i j", 20, 0, SBX_BLOCK_NONE, 2,
	  "a=apply+prune b=apply+prune c=apply+prune d=apply+prune e=apply+prune f=apply+prune "
	  "g=apply+prune h=apply+prune i=pending j=pending", NULL },
	{ "three of ten at 20%: refused, valid ones apply without pruning (finding 8)",
	  "a b c d e f g h i j", "a b c d e f g", "a b c d e f g h i j", 20, 0, SBX_BLOCK_MASS, 3,
	  "a=apply b=apply c=apply d=apply e=apply f=apply g=apply h=keep i=keep j=keep",
	  "more than deletion.maxPrunePercent (20%)" },
	{ "two of three at 50%: refused", "a b c", "a", "a b c", 50, 0, SBX_BLOCK_MASS, 2,
	  "a=apply b=keep c=keep", "removes 2 of 3 sandboxes (b, c)" },
	{ "all but one of five at 100%: allowed", "a b c d e", "a", "a b c d e", 100, 0,
	  SBX_BLOCK_NONE, 4, "a=apply+prune b=pending c=pending d=pending e=pending", NULL },
	{ "many removed: the message names five and counts the rest", "a b c d e f g h", "a",
	  "a b c d e f g h", 20, 0, SBX_BLOCK_MASS, 7,
	  "a=apply b=keep c=keep d=keep e=keep f=keep g=keep h=keep", "(b, c, d, e, f and 2 more)" },
	{ "an earlier removal still pending is not counted again", "a b c", "a b", "a b c x:pending=-1",
	  20, 0, SBX_BLOCK_NONE, 1, "a=apply+prune b=apply+prune c=pending x=pending", NULL },
	{ "while refused, a sandbox already pending keeps its clock", "a b c d", "a b",
	  "a b c d x:pending=-5", 20, 0, SBX_BLOCK_MASS, 2,
	  "a=apply b=apply c=keep d=keep x=pending", NULL },
	{ "while refused, a grace period that ends is held, not deleted", "a b c d", "a b",
	  "a b c d x:pending=-80,ns=u1,live-ns=u1", 20, 0, SBX_BLOCK_MASS, 2,
	  "a=apply b=apply c=keep d=keep x=pending+held", NULL },
	{ "removed earlier but never marked pending: its clock starts now", "a b", "a b", "a b x", 20,
	  0, SBX_BLOCK_NONE, 0, "a=apply+prune b=apply+prune x=pending", NULL },
	/* finding 3: a known block survives a restart */
	{ "restart while a mass removal is refused: still refused", "a b c", "a", "a b c", 50, 0,
	  SBX_BLOCK_MASS, 2, "a=apply b=keep c=keep", NULL },
	{ "restart before any revision in force is stored: live ones stand for it", NULL, "a",
	  "a b c", 50, 0, SBX_BLOCK_MASS, 2, "a=apply b=keep c=keep", NULL },
	{ "not synced: nothing is decided, even for an empty tree", "a b c", "", "", 20, NOT_SYNCED,
	  SBX_BLOCK_NOT_SYNCED, 0, "", "not synced" },
	{ "not synced: every sandbox ignored", "a b", "a", "a b", 20, NOT_SYNCED,
	  SBX_BLOCK_NOT_SYNCED, 0, "a=ignore b=ignore", NULL },
	/* empty tree, invalid policy or templates */
	{ "empty sandboxes/ with a fleet: refused", "a b c", "", "a b c", 100, 0, SBX_BLOCK_EMPTY, 3,
	  "a=keep b=keep c=keep", "no sandbox files at all" },
	{ "empty sandboxes/ removing the last one: refused too", "a", "", "a", 100, 0,
	  SBX_BLOCK_EMPTY, 1, "a=keep", NULL },
	{ "empty sandboxes/ with nothing in force: nothing to refuse", "", "", "x:pending=-1", 20, 0,
	  SBX_BLOCK_NONE, 0, "x=pending", NULL },
	{ "invalid policy: nothing changes, a pending clock is kept", "a b c", "a b:invalid",
	  "a b c x:pending=-1", 20, POLICY_BAD, SBX_BLOCK_POLICY, 1,
	  "a=keep b=keep c=keep x=pending", "invalid templates/policy.yaml (bad size)" },
	{ "invalid template: nothing changes", "a b", "a b", "a b", 20, TEMPLATES_BAD,
	  SBX_BLOCK_TEMPLATES, 0, "a=keep b=keep", "invalid template" },
	/* another instance's, or going */
	{ "another instance's Sandbox without a file: not ours", "a", "a", "a z:foreign", 20, 0,
	  SBX_BLOCK_NONE, 0, "a=apply+prune z=ignore", NULL },
	{ "another instance's Sandbox and our valid file: apply reports the conflict", "a", "a z",
	  "a z:foreign", 20, 0, SBX_BLOCK_NONE, 0, "a=apply+prune z=apply+prune", NULL },
	{ "another instance's Sandbox and our invalid file: not ours", "a", "a z:invalid",
	  "a z:foreign", 20, 0, SBX_BLOCK_NONE, 0, "a=apply+prune z=ignore", NULL },
	{ "a Sandbox being deleted: left to finish", "a b", "a", "a b:deleting", 20, 0,
	  SBX_BLOCK_NONE, 1, "a=apply+prune b=ignore", NULL },
	/* the end of the grace period, step by step (findings 4 and 6) */
	{ "grace not over: pending", "a", "a", "a x:pending=-71,ns=u1,live-ns=u1,workloads=1", 20, 0,
	  SBX_BLOCK_NONE, 0, "a=apply+prune x=pending", NULL },
	{ "grace over: the workload first", "a", "a", "a x:pending=-72,ns=u1,live-ns=u1,workloads=1",
	  20, 0, SBX_BLOCK_NONE, 0, "a=apply+prune x=delete:workload", NULL },
	{ "workload gone: the namespace next", "a", "a", "a x:pending=-80,ns=u1,live-ns=u1", 20, 0,
	  SBX_BLOCK_NONE, 0, "a=apply+prune x=delete:namespace", NULL },
	{ "namespace terminating: wait for it", "a", "a", "a x:pending=-80,ns=u1,live-ns=u1,ns-deleting",
	  20, 0, SBX_BLOCK_NONE, 0, "a=apply+prune x=delete:wait", NULL },
	{ "namespace gone: the Sandbox last", "a", "a", "a x:pending=-80,ns=u1", 20, 0, SBX_BLOCK_NONE,
	  0, "a=apply+prune x=delete:sandbox", NULL },
	{ "never created its namespace (a conflict): the namespace is kept", "a", "a",
	  "a x:pending=-80,live-ns-foreign=u9", 20, 0, SBX_BLOCK_NONE, 0,
	  "a=apply+prune x=delete:sandbox+keepns", NULL },
	{ "never created it, though it carries our labels: kept", "a", "a",
	  "a x:pending=-80,live-ns=u9,workloads=1", 20, 0, SBX_BLOCK_NONE, 0,
	  "a=apply+prune x=delete:sandbox+keepns", NULL },
	{ "a namespace of that name made again by someone else: kept", "a", "a",
	  "a x:pending=-80,ns=u1,live-ns=u2", 20, 0, SBX_BLOCK_NONE, 0,
	  "a=apply+prune x=delete:sandbox+keepns", NULL },
	{ "its namespace without our full tracking id: kept", "a", "a",
	  "a x:pending=-80,ns=u1,live-ns-foreign=u1", 20, 0, SBX_BLOCK_NONE, 0,
	  "a=apply+prune x=delete:sandbox+keepns", NULL },
};

#define MAXN 32

struct parsed {
	char buf[1024];
	const char *in_force[MAXN];
	size_t nin_force;
	sbx_safety_file files[MAXN];
	size_t nfiles;
	sbx_safety_live live[MAXN];
	size_t nlive;
};

/* Split `text` (copied into p->buf at *used) into space-separated tokens. */
static size_t tokens(char **out, struct parsed *p, size_t *used, const char *text)
{
	char *s = p->buf + *used, *save = NULL, *t;
	size_t n = 0;

	size_t len = strlen(text);

	assert_true(*used + len + 1 < sizeof(p->buf));
	memcpy(s, text, len + 1);
	*used += len + 1;
	for (t = strtok_r(s, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		assert_true(n < MAXN);
		out[n++] = t;
	}
	return n;
}

static void parse_live(sbx_safety_live *l, char *tok)
{
	char *flags = strchr(tok, ':'), *save = NULL, *f;

	memset(l, 0, sizeof(*l));
	l->name = tok;
	l->ours = true;
	if (!flags)
		return;
	*flags++ = '\0';
	for (f = strtok_r(flags, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
		if (!strcmp(f, "foreign"))
			l->ours = false;
		else if (!strcmp(f, "deleting"))
			l->deleting = true;
		else if (!strncmp(f, "pending=", 8))
			l->pending_since_ms = NOW + atoll(f + 8) * HOUR;
		else if (!strncmp(f, "ns=", 3))
			l->ns_uid_recorded = f + 3;
		else if (!strncmp(f, "live-ns=", 8))
			l->ns_exists = l->ns_ours = true, l->ns_uid = f + 8;
		else if (!strncmp(f, "live-ns-foreign=", 16))
			l->ns_exists = true, l->ns_uid = f + 16;
		else if (!strcmp(f, "ns-deleting"))
			l->ns_deleting = true;
		else if (!strncmp(f, "workloads=", 10))
			l->workloads = atoi(f + 10);
		else
			fail_msg("unknown live flag '%s'", f);
	}
}

static void parse(struct parsed *p, sbx_safety_input *in, const struct row *r)
{
	char *tok[MAXN];
	size_t used = 0, n;

	memset(p, 0, sizeof(*p));
	memset(in, 0, sizeof(*in));
	if (r->in_force) {
		n = tokens(tok, p, &used, r->in_force);
		for (size_t i = 0; i < n; i++)
			p->in_force[p->nin_force++] = tok[i];
	}
	n = tokens(tok, p, &used, r->files);
	for (size_t i = 0; i < n; i++) {
		char *colon = strchr(tok[i], ':');
		sbx_safety_file *f = &p->files[p->nfiles++];

		f->name = tok[i];
		f->state = SBX_FILE_VALID;
		if (colon) {
			*colon++ = '\0';
			f->state = !strcmp(colon, "invalid") ? SBX_FILE_INVALID : SBX_FILE_REFUSED;
		}
	}
	n = tokens(tok, p, &used, r->live);
	for (size_t i = 0; i < n; i++)
		parse_live(&p->live[p->nlive++], tok[i]);
	in->revision = "0123456789abcdef0123456789abcdef01234567";
	in->synced = !(r->flags & NOT_SYNCED);
	in->have_in_force = r->in_force != NULL;
	in->in_force = p->in_force;
	in->nin_force = p->nin_force;
	in->files = p->files;
	in->nfiles = p->nfiles;
	in->live = p->live;
	in->nlive = p->nlive;
	in->policy_ok = !(r->flags & POLICY_BAD);
	in->templates_ok = !(r->flags & TEMPLATES_BAD);
	in->policy_error = "bad size";
	in->max_prune_percent = r->pct;
}

static void describe(char *out, size_t len, const sbx_verdict *v)
{
	const char *a = v->action == SBX_ACT_PENDING_DELETE ? "pending" : sbx_action_name(v->action);

	snprintf(out, len, "%s%s%s%s%s%s", a, v->prune ? "+prune" : "", v->held ? "+held" : "",
		 v->action == SBX_ACT_DELETE ? ":" : "",
		 v->action == SBX_ACT_DELETE ? sbx_delete_step_name(v->step) : "",
		 v->keep_namespace ? "+keepns" : "");
}

static void test_safety__table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct parsed p;
		sbx_safety_input in;
		sbx_safety_fleet fleet;
		const char **names = NULL;
		sbx_verdict *verdicts = NULL;
		size_t count = 0;
		char got[2048] = "", one[64];

		parse(&p, &in, r);
		assert_int_equal(sbx_safety_decide(&fleet, &names, &verdicts, &count, &in, GRACE, NOW), 0);
		for (size_t k = 0; k < count; k++) {
			describe(one, sizeof(one), &verdicts[k]);
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s=%s", k ? " " : "",
				 names[k], one);
		}
		if (fleet.block != r->block || fleet.removed != r->removed || strcmp(got, r->want) != 0 ||
		    (r->message && !strstr(fleet.message, r->message)))
			fail_msg("row %zu '%s':\n  block %d (want %d), removed %zu (want %zu)\n"
				 "  got:  %s\n  want: %s\n  message: %s", i, r->what, fleet.block, r->block,
				 fleet.removed, r->removed, got, r->want, fleet.message);
		assert_true(r->block == SBX_BLOCK_NONE ? fleet.message[0] == '\0' : fleet.message[0] != '\0');
		free(names);
		free(verdicts);
	}
}

/* The grace clock: it starts when the sandbox first goes pending and
 * never restarts; the deletion comes exactly at its end. */
static void test_safety__grace_clock(void **state)
{
	sbx_safety_live l = { .name = "x", .ours = true };
	sbx_verdict v;

	(void)state;
	v = sbx_safety_sandbox(SBX_BLOCK_NONE, SBX_FILE_ABSENT, &l, GRACE, NOW);
	assert_int_equal(v.action, SBX_ACT_PENDING_DELETE);
	assert_true(v.since_ms == NOW && v.until_ms == NOW + GRACE);
	l.pending_since_ms = NOW - GRACE + 1;
	v = sbx_safety_sandbox(SBX_BLOCK_MASS, SBX_FILE_ABSENT, &l, GRACE, NOW);
	assert_int_equal(v.action, SBX_ACT_PENDING_DELETE);
	assert_true(v.since_ms == NOW - GRACE + 1 && !v.held);
	l.pending_since_ms = NOW - GRACE;
	v = sbx_safety_sandbox(SBX_BLOCK_NONE, SBX_FILE_ABSENT, &l, GRACE, NOW);
	assert_int_equal(v.action, SBX_ACT_DELETE);
	assert_int_equal(v.step, SBX_STEP_SANDBOX);
	assert_true(v.keep_namespace);
	assert_true(v.since_ms == NOW - GRACE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_safety__table),
		cmocka_unit_test(test_safety__grace_clock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
