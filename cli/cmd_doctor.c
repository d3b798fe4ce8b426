// SPDX-License-Identifier: Apache-2.0
/*
 * `sandbox doctor [NAME]`: walk the chain from this laptop to a shell in
 * the sandbox, link by link (doctor.h has the links and what depends on
 * what), print each as it completes, then the first broken link and one
 * fix. Every network step is bounded and says which bound expired.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libssh/libssh.h>
#include <openssl/evp.h>

#include "cmd.h"
#include "diag.h"
#include "doctor.h"
#include "error.h"
#include "git.h"
#include "gitops.h"
#include "idle.h"
#include "inputs.h"
#include "kubecli.h"
#include "render.h"
#include "repo.h"
#include "sshconn.h"
#include "sshkey.h"

#define STEP_TIMEOUT_S 10

static const char help[] =
	"Usage: sandbox doctor [NAME] [-o text|json]\n"
	"       sandbox doctor --all [--controller-namespace NS] [--controller-instance NAME]\n"
	"                            [--metrics-url URL] [-o text|json]\n\n"
	"Check every link from this laptop to a shell in sandbox NAME, in order:\n"
	"settings, your clone, the git remote, your file at the remote's head, the\n"
	"cluster, the controller, the sandbox's namespace (quota, volume, pod), your\n"
	"right to port-forward, and ssh (banner, host key, your keys, a login).\n"
	"Each line shows the result and its time; then the first broken link and\n"
	"one fix. Links that need a broken one are skipped. Each network step gives\n"
	"up after 10 s and says so.\n\n"
	"--all (SREs): the controller's health (its git, the leader, the revision in\n"
	"force against the remote's head, fetching, queue and API errors from its\n"
	"metrics) and every sandbox that is not Synced and Healthy, with its first\n"
	"broken link.\n\n"
	"Exit status: 0 all links hold, 1 a link is broken, 2 usage error.\n\n"
	"Options:\n"
	"  -o, --output FMT   text (default) or json (for scripts and support tickets)\n"
	"  -i FILE            the private key to try for ssh (default: ssh-agent, then\n"
	"                     ~/.ssh/id_ed25519, id_ecdsa, id_rsa)\n"
	"  -l USER            the ssh login user (default: " CLI_SANDBOX_USER ")\n"
	"  --all              the whole fleet and the controller (SREs)\n"
	"  --controller-namespace NS  where the controller runs (default sandbox-system)\n"
	"  --controller-instance NAME its --instance (default sandbox-controller)\n"
	"  --metrics-url URL  read the controller's /metrics there (default: through\n"
	"                     its Service, by the API server's proxy)\n";

struct doctor {
	cli_config cfg;
	const char *name, *key_file, *user, *ctl_ns, *ctl_instance, *metrics_url;
	bool json, all;
	doc_report r;
	sbx_git *g;
	char head[SBX_GIT_OID_HEX];
	cli_kube k;
	cJSON *sb;                 /* the Sandbox */
	const char *ns;            /* borrowed from sb */
	char pod[256];             /* the running pod, "" when none */
	sbx_buf file_keys;         /* the file's keys: "  SHA256:... comment" lines */
	char inputs[17];           /* the inputs hash of the remote's head, "" unknown */
	long long head_time;       /* its commit time */
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Drop one trailing newline: details are lines joined by '\n'. */
static void chomp(sbx_buf *b)
{
	if (b->len && b->ptr[b->len - 1] == '\n')
		b->ptr[--b->len] = '\0';
}

/* ---- the links ---------------------------------------------------------- */

static void settings(struct doctor *d)
{
	const cli_config *c = &d->cfg;

	if (!c->value[CFG_REPO]) {
		char fix[1024];

		snprintf(fix, sizeof(fix), "set 'repo: URL' in %s (or SANDBOX_REPO, or --repo-url URL)",
			 c->file);
		doc_set(&d->r, DOC_SETTINGS, DOC_FAIL, 0, fix, "no GitOps repository is configured");
		return;
	}
	doc_set(&d->r, DOC_SETTINGS, DOC_OK, 0, NULL, "repo %s (%s), branch %s, clone %s\n"
		"kubeconfig %s, context %s", c->value[CFG_REPO], c->source[CFG_REPO],
		c->value[CFG_BRANCH], c->value[CFG_CLONE],
		c->value[CFG_KUBECONFIG] ? c->value[CFG_KUBECONFIG] : "(default)",
		c->value[CFG_CONTEXT] ? c->value[CFG_CONTEXT] : "(current)");
}

static void clone_state(struct doctor *d)
{
	sbx_git_options o = SBX_GIT_OPTIONS_INIT;
	sbx_buf list = SBX_BUF_INIT;
	char fix[2048];
	int n;

	cli_git_options(&o, &d->cfg);
	o.timeout_s = STEP_TIMEOUT_S;
	if (sbx_git_open(&d->g, &o) < 0) {
		snprintf(fix, sizeof(fix), "move the folder away (mv '%s' '%s.old'); the next sandbox "
			 "command clones again", d->cfg.value[CFG_CLONE], d->cfg.value[CFG_CLONE]);
		doc_set(&d->r, DOC_CLONE, DOC_FAIL, 0, fix, "%s", sbx_error_last());
		return;
	}
	n = sbx_git_local_changes(&list, d->g);
	if (n > 0) {
		snprintf(fix, sizeof(fix), "push what you meant to push (git -C '%s' push origin HEAD:%s),\n"
			 "or set it aside (git -C '%s' stash -u; git -C '%s' reset --hard origin/%s)",
			 d->cfg.value[CFG_CLONE], d->cfg.value[CFG_BRANCH], d->cfg.value[CFG_CLONE],
			 d->cfg.value[CFG_CLONE], d->cfg.value[CFG_BRANCH]);
		chomp(&list);
		doc_set(&d->r, DOC_CLONE, DOC_FAIL, 0, fix, "the clone has what the remote does not; "
			"the controller sees only the remote:\n%s", sbx_buf_cstr(&list));
	} else if (n < 0) {
		doc_set(&d->r, DOC_CLONE, DOC_WARN, 0, NULL, "cannot tell: %s", sbx_error_last());
	} else {
		doc_set(&d->r, DOC_CLONE, DOC_OK, 0, NULL, "clean");
	}
	sbx_buf_dispose(&list);
}

static void git_remote(struct doctor *d)
{
	const char *url = d->cfg.value[CFG_REPO], *why;
	char fix[1024] = "";
	int r;

	if (!d->g) {
		doc_set(&d->r, DOC_GIT, DOC_FAIL, 0, NULL, "the clone could not be opened");
		return;
	}
	r = sbx_git_remote_head(d->g, d->head);
	why = sbx_error_last();
	if (r == 0) {
		doc_set(&d->r, DOC_GIT, DOC_OK, 0, NULL, "%s is at %.12s", d->cfg.value[CFG_BRANCH], d->head);
		return;
	}
	if (r == SBX_ETIMEOUT)
		snprintf(fix, sizeof(fix), "the remote did not answer within %d s: check the network "
			 "(VPN?) and the url '%s'", STEP_TIMEOUT_S, url);
	else if (r == SBX_ENOTFOUND)
		snprintf(fix, sizeof(fix), "the remote has no branch '%s': check 'branch' ('sandbox config')",
			 d->cfg.value[CFG_BRANCH]);
	else if (strstr(why, "does not match") || strstr(why, "revoked"))
		snprintf(fix, sizeof(fix), "stop: the git server's host key changed, or something is in "
			 "between; change known_hosts only after your SREs confirm the new key");
	else if (strstr(why, "known_hosts") || strstr(why, "host key"))
		snprintf(fix, sizeof(fix), "make the server's host key known: ssh-keyscan the host into "
			 "%s after checking its fingerprint with your SREs",
			 d->cfg.value[CFG_GIT_KNOWN_HOSTS] ? d->cfg.value[CFG_GIT_KNOWN_HOSTS] : "~/.ssh/known_hosts");
	else if (strstr(why, "authenticat"))
		snprintf(fix, sizeof(fix), "give git a key the server accepts: %s",
			 d->cfg.value[CFG_GIT_SSH_KEY] ? "the key in 'git-ssh-key' is refused; add its .pub to "
			 "your account on the git host" : "load one into ssh-agent (ssh-add) or set "
			 "'git-ssh-key: FILE' ('sandbox config')");
	else
		snprintf(fix, sizeof(fix), "check the url '%s' ('sandbox config') and that the server "
			 "runs: git ls-remote '%s'", url, url);
	doc_set(&d->r, DOC_GIT, DOC_FAIL, 0, fix, "%s", why);
}

static void file_at_head(struct doctor *d)
{
	sbx_git_files files = { 0 };
	sbx_diags diags = SBX_DIAGS_INIT, mine = SBX_DIAGS_INIT;
	sbx_repo *repo = NULL;
	sbx_buf out = SBX_BUF_INIT;
	char path[300], fix[1024];
	const sbx_spec *spec;
	const sbx_file *f;

	snprintf(path, sizeof(path), "sandboxes/%s.yaml", d->name);
	if (sbx_git_fetch(d->g, d->head) < 0 || sbx_git_read(&files, d->g, d->head, &diags) < 0) {
		doc_set(&d->r, DOC_FILE, DOC_FAIL, 0, "run it again; if it persists, move the clone away",
			"cannot read the remote's head: %s", sbx_error_last());
		goto done;
	}
	if ((f = cli_git_file(&files, path))) {
		sbx_inputs *in = sbx_inputs_new(&files);

		sbx_inputs_hash(d->inputs, in, "file", f->data, f->len);
		sbx_inputs_free(in);
		d->head_time = files.commit_time;
	} else {
		snprintf(fix, sizeof(fix), "create it: sandbox create %s (or check the name: sandbox list)",
			 d->name);
		doc_set(&d->r, DOC_FILE, DOC_FAIL, 0, fix, "%s is not at the remote's head (%.12s)", path,
			d->head);
		goto done;
	}
	{
		sbx_repo_files rf = { files.policy, files.templates, files.ntemplates, files.sandboxes,
				      files.nsandboxes };

		sbx_repo_load(&repo, &rf, NULL, &diags);
	}
	spec = repo ? sbx_repo_find(repo, d->name) : NULL;
	if (spec && repo->policy && repo->templates) {
		cJSON *objs = NULL;

		sbx_render(&objs, repo->templates, repo->policy, spec, NULL, &diags);
		cJSON_Delete(objs);
	}
	/* the user's own file first; the policy's and templates' problems
	 * break every sandbox and are the SREs' to fix */
	for (size_t i = 0; i < diags.count; i++) {
		const sbx_diag *g = &diags.items[i];

		if (!strcmp(g->path, path) || strncmp(g->path, "sandboxes/", 10) != 0)
			sbx_diag_add(&mine, g->path, g->line, g->col, "%s", g->message);
	}
	if (mine.count) {
		sbx_diags_sort(&mine);
		sbx_diags_format(&out, &mine);
		chomp(&out);
		snprintf(fix, sizeof(fix), "edit %s:%d (sandbox lint shows the same), commit and push",
			 mine.items[0].path, mine.items[0].line);
		doc_set(&d->r, DOC_FILE, DOC_FAIL, 0, fix, "%s", sbx_buf_cstr(&out));
		goto done;
	}
	for (size_t i = 0; i < spec->nkeys; i++) {
		sbx_buf_puts(&d->file_keys, "\n  ");
		sbx_sshkey_fingerprint(&d->file_keys, &spec->keys[i]);
		sbx_buf_printf(&d->file_keys, " %s", spec->keys[i].comment ? spec->keys[i].comment : "");
	}
	doc_set(&d->r, DOC_FILE, DOC_OK, 0, NULL, "%s lints clean at %.12s", path, d->head);
done:
	sbx_buf_dispose(&out);
	sbx_diags_dispose(&diags);
	sbx_diags_dispose(&mine);
	sbx_repo_free(repo);
	sbx_git_files_dispose(&files);
}

static void cluster(struct doctor *d)
{
	sbx_kubeconfig_options ko = SBX_KUBECONFIG_OPTIONS_INIT;
	sbx_kube_options o = SBX_KUBE_OPTIONS_INIT;
	char *user = NULL;
	int r;

	memset(&d->k, 0, sizeof(d->k));
	ko.paths = d->cfg.value[CFG_KUBECONFIG];
	ko.context = d->cfg.value[CFG_CONTEXT];
	ko.allow_exec = true;
	o.max_retries = 1;
	o.timeout_ms = STEP_TIMEOUT_S * 1000;
	r = sbx_kubeconfig_load(&d->k.cfg, &ko);
	if (r < 0) {
		doc_set(&d->r, DOC_CLUSTER, DOC_FAIL, 0, "point KUBECONFIG (or --kubeconfig, "
			"'kubeconfig:' in the config file) at your cluster's kubeconfig; your SREs "
			"have the command that writes it", "%s", sbx_error_last());
		return;
	}
	r = sbx_kube_new(&d->k.kube, d->k.cfg, &o);
	if (r == 0)
		r = cli_kube_whoami(&d->k, &user);
	if (r == SBX_EUNAUTHORIZED)
		doc_set(&d->r, DOC_CLUSTER, DOC_FAIL, 0, "log in to the cluster again (your "
			"credentials expired or are not accepted)", "%s", sbx_error_last());
	else if (r < 0)
		doc_set(&d->r, DOC_CLUSTER, DOC_FAIL, 0, "check that you can reach it (VPN?): "
			"kubectl cluster-info", "%s (%s; requests give up after %d s)", sbx_error_last(),
			d->k.cfg->server, STEP_TIMEOUT_S);
	else
		doc_set(&d->r, DOC_CLUSTER, DOC_OK, 0, NULL, "%s answers; you are %s", d->k.cfg->server, user);
	free(user);
}

/* The controller's own git status from INSTANCE-health: "" when its last
 * fetch worked or nothing is known, else "failing since T: MSG" (into
 * out). Returns whether it is failing. */
static bool controller_git(struct doctor *d, char *out, size_t len)
{
	const sbx_kind *k = sbx_kind_find("v1", "ConfigMap");
	cJSON *cm = NULL;
	char name[300];
	const char *err, *since;
	bool failing = false;

	out[0] = '\0';
	snprintf(name, sizeof(name), "%s-health", d->ctl_instance);
	if (sbx_kube_get(d->k.kube, &cm, k, d->ctl_ns, name) == 0) {
		err = cli_json_str(cm, "data", "gitError", NULL);
		since = cli_json_str(cm, "data", "gitErrorSince", NULL);
		failing = err && *err;
		if (failing)
			snprintf(out, len, "the controller's git has failed since %s: %s",
				 since && *since ? since : "?", err);
	}
	cJSON_Delete(cm);
	return failing;
}

static void controller(struct doctor *d)
{
	const char *sync, *health, *msg, *rev, *applied;
	char fix[1024], git[1200];
	bool git_failing;
	int r = d->sb ? 0 : cli_kube_sandbox(&d->k, &d->sb, d->name);   /* --all has it */

	if (r == SBX_ENOTFOUND) {
		snprintf(fix, sizeof(fix), "if the file is at the remote's head, the controller has not "
			 "seen it: ask your SREs whether sandbox-controller runs (kubectl -n "
			 "sandbox-system get pods)");
		doc_set(&d->r, DOC_CONTROLLER, DOC_FAIL, 0, fix, "the cluster has no Sandbox '%s'", d->name);
		return;
	}
	if (r < 0) {
		doc_set(&d->r, DOC_CONTROLLER, DOC_FAIL, 0, "ask your SREs for the sandbox-viewer role",
			"%s", sbx_error_last());
		return;
	}
	d->ns = cli_json_str(d->sb, "spec", "namespace", NULL);
	sync = cli_json_str(d->sb, "status", "sync", NULL);
	health = cli_json_str(d->sb, "status", "health", NULL);
	msg = cli_json_str(d->sb, "status", "message", NULL);
	rev = cli_json_str(d->sb, "status", "observedRevision", NULL);
	if (!sync || strcmp(sync, "Synced") != 0) {
		snprintf(fix, sizeof(fix), "%s",
			 sync && !strcmp(sync, "InvalidSpec") ? "fix the file as the message says, commit and push" :
			 sync && !strcmp(sync, "PendingDelete") ? "the file was removed; to keep the "
			 "sandbox, add it back (git revert the removal)" :
			 sync && !strcmp(sync, "Conflict") ? "an object the controller did not make is in "
			 "the way: ask your SREs to remove or hand it over" :
			 sync && !strcmp(sync, "PruneBlocked") ? "too many sandboxes would go at once: "
			 "your SREs must decide (see docs/controller.md, the breaker)" :
			 "see 'sandbox status NAME'; ask your SREs if it stays so");
		doc_set(&d->r, DOC_CONTROLLER, DOC_FAIL, 0, fix, "sync %s, health %s: %s",
			sync ? sync : "unknown", health ? health : "unknown", msg ? msg : "no message");
		return;
	}
	applied = cli_json_str(d->sb, "status", "inputsHash", NULL);
	git_failing = controller_git(d, git, sizeof(git));
	if (d->inputs[0] && applied && strcmp(applied, d->inputs) != 0) {
		long long behind = (long long)time(NULL) - d->head_time;

		doc_set(&d->r, DOC_CONTROLLER, behind < 60 ? DOC_WARN : DOC_FAIL, 0, git_failing ?
			"the controller cannot fetch the repository: tell your SREs what it says above" :
			"the controller does not keep up with the repository: ask your SREs "
			"(kubectl -n sandbox-system logs deploy/sandbox-controller)",
			"the controller has not applied your file as the remote's head %.12s has it "
			"(committed %lld s ago); the cluster shows %.12s%s%s", d->head, behind,
			rev ? rev : "?", git_failing ? "\n" : "", git);
	} else if (git_failing) {
		doc_set(&d->r, DOC_CONTROLLER, DOC_WARN, 0, "changes you push wait until it can fetch "
			"again: tell your SREs", "Synced at %.12s, health %s; but %s", rev ? rev : "?",
			health ? health : "unknown", git);
	} else {
		doc_set(&d->r, DOC_CONTROLLER, DOC_OK, 0, NULL, "Synced at %.12s, health %s",
			rev ? rev : "?", health ? health : "unknown");
	}
}

/* The objects of one kind in the sandbox's namespace (caller must
 * cJSON_Delete), or NULL with the reason in sbx_error_last(). */
static cJSON *list_in(struct doctor *d, const char *api_version, const char *kind)
{
	cJSON *items = NULL;
	char *rv = NULL;

	if (sbx_kube_list(d->k.kube, &items, &rv, sbx_kind_find(api_version, kind), d->ns, NULL, 100) < 0) {
		cJSON_Delete(items);
		items = NULL;
	}
	free(rv);
	return items;
}

/* problem, and the last lines the crashing container wrote before it
 * exited (its previous run), when the cluster gives them */
static char *with_last_lines(struct doctor *d, char *problem, const cJSON *pod)
{
	sbx_buf path = SBX_BUF_INIT, out = SBX_BUF_INIT;
	char *text = NULL;

	sbx_buf_printf(&path, "/api/v1/namespaces/%s/pods/%s/log?container=%s&previous=true&tailLines=5",
		       d->ns, cli_json_str(pod, "metadata", "name", NULL), doc_crashing_container(pod));
	sbx_buf_puts(&out, problem);
	if (cli_kube_get_text(&d->k, &text, sbx_buf_cstr(&path), "reading its log") == 0 && *text) {
		sbx_buf_puts(&out, "\nits last lines before it exited:");
		char *save = NULL;

		for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			sbx_buf_printf(&out, "\n  | %s", line);
	} else {
		sbx_buf_printf(&out, "\n(its log: %s)", *sbx_error_last() ? sbx_error_last() : "empty");
	}
	free(text);
	free(problem);
	problem = strdup(sbx_buf_cstr(&out));
	sbx_buf_dispose(&out);
	sbx_buf_dispose(&path);
	return problem;
}

/* quota, volume, pod, and when there is no pod the reason none was made:
 * the first problem found */
static void namespace(struct doctor *d)
{
	static const struct {
		const char *api_version, *kind;
		char *(*problem)(const cJSON *, char **);
	} looks[] = {
		{ "v1", "ResourceQuota", doc_quota_problem },
		{ "v1", "PersistentVolumeClaim", doc_pvc_problem },
		{ "v1", "Pod", doc_pod_problem },
	};
	char *problem = NULL, *fix = NULL;
	int pods = 0;

	if (!d->ns) {
		doc_set(&d->r, DOC_NAMESPACE, DOC_FAIL, 0, "see 'sandbox status NAME'",
			"the Sandbox names no namespace yet");
		return;
	}
	for (size_t i = 0; !problem && i < sizeof(looks) / sizeof(looks[0]); i++) {
		cJSON *items = list_in(d, looks[i].api_version, looks[i].kind);
		const cJSON *o;

		if (!items) {
			doc_set(&d->r, DOC_NAMESPACE, DOC_WARN, 0, NULL, "cannot look inside %s: %s", d->ns,
				sbx_error_last());
			return;
		}
		cJSON_ArrayForEach(o, items) {
			if (!problem && (problem = looks[i].problem(o, &fix)) && doc_crashing_container(o))
				problem = with_last_lines(d, problem, o);
			if (!strcmp(looks[i].kind, "Pod")) {
				pods++;
				if (!problem && !d->pod[0])
					snprintf(d->pod, sizeof(d->pod), "%s",
						 cli_json_str(o, "metadata", "name", NULL));
			}
		}
		cJSON_Delete(items);
	}
	if (!problem && pods == 0) {
		cJSON *events = list_in(d, "v1", "Event");
		char *why = doc_failed_create(events);
		bool suspended = cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(d->sb, "spec"),
								  "suspended"));
		const char *asleep = sbx_idle_asleep_since(d->sb);
		sbx_buf idle = SBX_BUF_INIT;

		cJSON_Delete(events);
		if (asleep)
			sbx_buf_printf(&idle, "the sandbox is suspended for idleness (idle since %s)", asleep);
		problem = why ? why : strdup(suspended ? "the sandbox is suspended (spec.suspended: true)" :
					     asleep ? sbx_buf_cstr(&idle) :
					     "there is no pod, and no event says why");
		sbx_buf_dispose(&idle);
		fix = strdup(why && strstr(why, "quota") ?
			     "the pod does not fit the quota: a larger size (sandbox resize NAME --size "
			     "...), or an override from your SREs (sandbox quota set)" :
			     suspended ? "set spec.suspended: false in your file, commit and push" :
			     asleep ? "'sandbox ssh NAME' (or plain ssh through 'sandbox tunnel') wakes it" :
			     "see 'sandbox status NAME' and kubectl -n NAMESPACE get events");
	}
	if (problem)
		doc_set(&d->r, DOC_NAMESPACE, DOC_FAIL, 0, fix, "%s", problem);
	else
		doc_set(&d->r, DOC_NAMESPACE, DOC_OK, 0, NULL, "pod %s is ready; quota and volume fine",
			d->pod);
	free(problem);
	free(fix);
}

static void access_check(struct doctor *d)
{
	cJSON *review = NULL;
	sbx_buf body = SBX_BUF_INIT;
	char fix[1024];
	int r;

	sbx_buf_printf(&body, "{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":"
		       "\"SelfSubjectAccessReview\",\"spec\":{\"resourceAttributes\":{\"namespace\":"
		       "\"%s\",\"verb\":\"create\",\"resource\":\"pods\",\"subresource\":"
		       "\"portforward\"}}}", d->ns ? d->ns : "");
	r = cli_kube_post(&d->k, &review, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
			  sbx_buf_cstr(&body), "asking whether you may port-forward");
	if (r < 0) {
		doc_set(&d->r, DOC_ACCESS, DOC_WARN, 0, NULL, "cannot tell: %s", sbx_error_last());
	} else if (!cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(review, "status"), "allowed"))) {
		snprintf(fix, sizeof(fix), "the RoleBinding sandbox-owner in %s must name you as "
			 "spec.owner of sandboxes/%s.yaml does (kubectl auth whoami); if the owner is "
			 "right, ask your SREs to check it (kubectl -n %s get rolebinding sandbox-owner)",
			 d->ns, d->name, d->ns);
		doc_set(&d->r, DOC_ACCESS, DOC_FAIL, 0, fix, "you may not create pods/portforward in %s "
			"(owner in the file: %s)", d->ns,
			cli_json_str(d->sb, "spec", "owner", NULL) ? cli_json_str(d->sb, "spec", "owner", NULL) : "?");
	} else {
		doc_set(&d->r, DOC_ACCESS, DOC_OK, 0, NULL, "you may port-forward in %s", d->ns);
	}
	cJSON_Delete(review);
	sbx_buf_dispose(&body);
}

/* One public key line "TYPE BASE64 COMMENT" as "\n  SHA256:... WHERE: in
 * the file" (or NOT), compared with the sandbox's file. */
static void key_line(sbx_buf *out, const struct doctor *d, const char *line, const char *where)
{
	sbx_buf fp = SBX_BUF_INIT;
	sbx_sshkey key;

	if (sbx_sshkey_parse(&key, line, strlen(line), 0) == 0) {
		if (sbx_sshkey_fingerprint(&fp, &key) == 0)
			sbx_buf_printf(out, "\n  %s %s: %s", sbx_buf_cstr(&fp), where,
				       strstr(sbx_buf_cstr(&d->file_keys), sbx_buf_cstr(&fp)) ?
				       "in the file" : "NOT in the file");
		sbx_sshkey_dispose(&key);
	}
	sbx_buf_dispose(&fp);
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The keys ssh-agent holds (SSH_AGENTC_REQUEST_IDENTITIES), each by
 * fingerprint: libssh tries them but does not list them. */
static void agent_keys(sbx_buf *out, const struct doctor *d)
{
	const char *sock = getenv("SSH_AUTH_SOCK");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	unsigned char req[5] = { 0, 0, 0, 1, 11 }, hdr[4], *buf = NULL;
	struct timeval tv = { STEP_TIMEOUT_S, 0 };
	uint32_t len, n, off = 5;
	int fd = -1;

	if (!sock || !*sock || strlen(sock) >= sizeof(sa.sun_path))
		return;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || write(fd, req, 5) != 5 ||
	    recv(fd, hdr, 4, MSG_WAITALL) != 4 || (len = be32(hdr)) < 5 || len > (1u << 20) ||
	    !(buf = malloc(len)) || recv(fd, buf, len, MSG_WAITALL) != (ssize_t)len || buf[0] != 12)
		goto done;
	n = be32(buf + 1);
	for (uint32_t i = 0; i < n && off + 4 <= len; i++) {
		uint32_t blen = be32(buf + off), clen;
		sbx_buf line = SBX_BUF_INIT;
		char where[300];

		if (blen > len - off - 4 || off + 4 + blen + 4 > len)
			break;
		clen = be32(buf + off + 4 + blen);
		if (clen > len - (off + 8 + blen))
			break;
		/* "TYPE BASE64": the type is the blob's first string */
		if (blen >= 4 && be32(buf + off + 4) <= blen - 4) {
			char *b64 = malloc(4 * ((size_t)blen + 2) / 3 + 4);

			if (b64)
				EVP_EncodeBlock((unsigned char *)b64, buf + off + 4, (int)blen);

			sbx_buf_printf(&line, "%.*s %s", (int)be32(buf + off + 4), (const char *)buf + off + 8,
				       b64 ? b64 : "");
			snprintf(where, sizeof(where), "ssh-agent (%.*s)", (int)clen,
				 (const char *)buf + off + 8 + blen);
			key_line(out, d, sbx_buf_cstr(&line), where);
			free(b64);
		}
		sbx_buf_dispose(&line);
		off += 8 + blen + clen;
	}
done:
	free(buf);
	if (fd >= 0)
		close(fd);
}

/* The user's keys: ssh-agent's, then the public key files (FILE.pub of -i
 * FILE, else the usual ones), each by fingerprint and whether the
 * sandbox's file lists it. */
static void your_keys(sbx_buf *out, const struct doctor *d)
{
	static const char *const names[] = { "id_ed25519", "id_ecdsa", "id_rsa" };
	const char *home = getenv("HOME");
	char path[4096];

	if (!d->key_file)
		agent_keys(out, d);
	for (size_t i = 0; i < (d->key_file ? 1 : sizeof(names) / sizeof(names[0])); i++) {
		char line[16384];
		size_t n = 0;
		FILE *f;

		if (d->key_file)
			snprintf(path, sizeof(path), "%s.pub", d->key_file);
		else
			snprintf(path, sizeof(path), "%s/.ssh/%s.pub", home ? home : "", names[i]);
		if (!(f = fopen(path, "r")))
			continue;
		n = fread(line, 1, sizeof(line) - 1, f);
		fclose(f);
		line[n] = '\0';
		line[strcspn(line, "\n")] = '\0';
		key_line(out, d, line, path);
	}
}

static void ssh_check(struct doctor *d)
{
	const char *want = cli_json_str(d->sb, "status", "ssh", "hostKeyFingerprint", NULL);
	const char *endpoint = cli_json_str(d->sb, "status", "ssh", "endpoint", NULL);
	ssh_session s = NULL;
	ssh_key server = NULL;
	ssh_channel ch = NULL;
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp = NULL, fix[2048];
	sbx_buf tried = SBX_BUF_INIT;
	pid_t child = 0;
	int sock = -1;

	if (!want) {
		doc_set(&d->r, DOC_SSH, DOC_FAIL, 0, "see 'sandbox status NAME'; ask your SREs if it "
			"stays so", "the controller has not published the host key");
		goto done;
	}
	sock = cli_ssh_transport(d->k.cfg, endpoint, d->ns, d->pod, &child);
	if (sock < 0) {
		doc_set(&d->r, DOC_SSH, DOC_FAIL, 0, "kubectl -n NAMESPACE port-forward POD 2222 shows the "
			"same; ask your SREs", "the connection to port 2222 did not open: %s", sbx_error_last());
		goto done;
	}
	if (!(s = cli_ssh_session(sock, d->name, d->user, STEP_TIMEOUT_S))) {
		doc_set(&d->r, DOC_SSH, DOC_FAIL, 0, NULL, "out of memory");
		goto done;
	}
	if (ssh_connect(s) != SSH_OK) {
		const char *e = ssh_get_error(s);

		doc_set(&d->r, DOC_SSH, DOC_FAIL, 0, "sshd does not run or does not listen on 2222: "
			"kubectl -n NAMESPACE logs deploy/sandbox; ask your SREs",
			"sshd sent no banner: %s", e && *e && strcmp(e, "Success") != 0 ? e :
			"the connection was closed");
		goto done;
	}
	if (ssh_get_server_publickey(s, &server) != SSH_OK ||
	    ssh_get_publickey_hash(server, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != 0 ||
	    !(fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen))) {
		doc_set(&d->r, DOC_SSH, DOC_FAIL, 0, NULL, "cannot read the server's host key");
		goto done;
	}
	if (strcmp(fp, want) != 0) {
		doc_set(&d->r, DOC_SSH, DOC_FAIL, 0, "do not log in; tell your SREs: the pod that answers "
			"is not running the sandbox's host key (sandbox status NAME shows the published one)",
			"the host key is %s, but the controller published %s", fp, want);
		goto done;
	}
	if (!cli_ssh_authenticate(s, d->key_file, &tried)) {
		snprintf(fix, sizeof(fix), "add your public key to spec.sshKeys in sandboxes/%s.yaml "
			 "(or load the matching private key: ssh-add FILE), commit and push", d->name);
		sbx_buf mine = SBX_BUF_INIT;

		your_keys(&mine, d);
		doc_set(&d->r, DOC_SSH, DOC_FAIL, 0, fix, "sshd accepted none of your keys (tried: %s);\n"
			"your public keys:%s\nthe file lists:%s", tried.len ? sbx_buf_cstr(&tried) : "none found",
			mine.len ? sbx_buf_cstr(&mine) : " (no FILE.pub found)",
			d->file_keys.len ? sbx_buf_cstr(&d->file_keys) : " (unknown: the file was not read)");
		sbx_buf_dispose(&mine);
		goto done;
	}
	ch = ssh_channel_new(s);
	if (!ch || ssh_channel_open_session(ch) != SSH_OK || ssh_channel_request_exec(ch, "true") != SSH_OK) {
		doc_set(&d->r, DOC_SSH, DOC_FAIL, 0, "kubectl -n NAMESPACE logs deploy/sandbox shows sshd's "
			"side", "logged in, but running 'true' failed: %s", ssh_get_error(s));
		goto done;
	}
	while (!ssh_channel_is_eof(ch) && ssh_channel_read_timeout(ch, fix, sizeof(fix), 0,
								   STEP_TIMEOUT_S * 1000) > 0)
		;
	ssh_channel_send_eof(ch);
	if (ssh_channel_get_exit_status(ch) != 0)
		doc_set(&d->r, DOC_SSH, DOC_FAIL, 0, "kubectl -n NAMESPACE logs deploy/sandbox",
			"logged in as %s, but 'true' exited %d", d->user, ssh_channel_get_exit_status(ch));
	else
		doc_set(&d->r, DOC_SSH, DOC_OK, 0, NULL, "host key %s as published; logged in as %s "
			"(%s) and ran 'true'", fp, d->user, sbx_buf_cstr(&tried));
done:
	if (ch) {
		ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	ssh_key_free(server);
	if (s) {
		ssh_disconnect(s);
		ssh_free(s);
	}
	cli_ssh_transport_close(sock, child);
	sbx_buf_dispose(&tried);
}

/* ---- the walk ------------------------------------------------------------- */

/* The fixes say NAME, NAMESPACE and POD; the reader gets the real ones. */
static void fill_in(char **fix, const struct doctor *d)
{
	static const char *const words[] = { "NAMESPACE", "NAME", "POD" };
	const char *values[] = { d->ns, d->name, d->pod[0] ? d->pod : NULL };
	sbx_buf out = SBX_BUF_INIT;

	if (!*fix)
		return;
	for (const char *p = *fix; *p;) {
		size_t i;

		for (i = 0; i < 3; i++)
			if (values[i] && !strncmp(p, words[i], strlen(words[i])))
				break;
		if (i < 3) {
			sbx_buf_puts(&out, values[i]);
			p += strlen(words[i]);
		} else {
			sbx_buf_putc(&out, *p++);
		}
	}
	free(*fix);
	*fix = strdup(sbx_buf_cstr(&out));
	sbx_buf_dispose(&out);
}

static void (*const steps[DOC_NLINKS])(struct doctor *) = {
	[DOC_SETTINGS] = settings, [DOC_CLONE] = clone_state, [DOC_GIT] = git_remote,
	[DOC_FILE] = file_at_head, [DOC_CLUSTER] = cluster, [DOC_CONTROLLER] = controller,
	[DOC_NAMESPACE] = namespace, [DOC_ACCESS] = access_check, [DOC_SSH] = ssh_check,
};

/* ---- --all: the controller and the fleet ------------------------------- */

/* One line of the controller's health: "  ok    leader      ...". */
static void health_line(struct doctor *d, cJSON *arr, enum doc_status st, const char *name,
			const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void health_line(struct doctor *d, cJSON *arr, enum doc_status st, const char *name,
			const char *fmt, ...)
{
	static const char *const words[] = { "-", "ok", "warn", "FAIL", "skip" };
	char text[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (d->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddStringToObject(o, "status", st == DOC_FAIL ? "fail" : words[st]);
		cJSON_AddStringToObject(o, "detail", text);
		cJSON_AddItemToArray(arr, o);
	} else {
		printf("  %-5s %-11s %s\n", words[st], name, text);
	}
}

static size_t to_buf(char *data, size_t size, size_t n, void *payload)
{
	return sbx_buf_put(payload, data, size * n) == 0 ? size * n : 0;
}

/* GET url over plain HTTP(S) into *out (malloc'd), bounded by 10 s. */
static int http_get(const char *url, char **out)
{
	CURL *h = curl_easy_init();
	sbx_buf body = SBX_BUF_INIT;
	long code = 0;
	CURLcode cc;

	if (!h)
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_buf);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)STEP_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(h);
	if (cc != CURLE_OK || code != 200) {
		sbx_buf_dispose(&body);
		return sbx_error_set(SBX_ETRANSPORT, "GET %s: %s", url, cc != CURLE_OK ?
				     curl_easy_strerror(cc) : "not 200");
	}
	*out = strdup(sbx_buf_cstr(&body));
	sbx_buf_dispose(&body);
	return *out ? 0 : SBX_ENOMEM;
}

/* Git freshness, fetch errors, queue depth and API errors from /metrics:
 * --metrics-url, else through the Service (proxy_path). */
static bool metrics_health(struct doctor *d, cJSON *arr, const char *proxy_path)
{
	doc_metrics m;
	char *text = NULL;
	bool ok = true;
	double ago;
	int r = d->metrics_url ? http_get(d->metrics_url, &text) :
		cli_kube_get_text(&d->k, &text, proxy_path, "reading the controller's /metrics");

	doc_read_metrics(&m, text ? text : "");
	free(text);
	if (r < 0 || !m.found) {
		health_line(d, arr, DOC_WARN, "metrics", "cannot read them (%s); an SRE can: kubectl -n %s "
			    "port-forward svc/sandbox-controller 8080, then --metrics-url "
			    "http://127.0.0.1:8080/metrics", r < 0 ? sbx_error_last() : "no sandbox_ metrics "
			    "in the answer", d->ctl_ns);
		return true;
	}
	/* whole seconds here, milliseconds there: never "-0 s ago" */
	ago = m.git_last_success > 0 && (double)time(NULL) > m.git_last_success ?
		     (double)time(NULL) - m.git_last_success : 0;

	if (m.git_last_success <= 0 || ago > 600) {
		ok = false;
		health_line(d, arr, DOC_FAIL, "fetching", "no successful fetch for %s (%.0f failures since "
			    "the start)", m.git_last_success > 0 ? "over 10 minutes" : "ever", m.git_errors);
	} else {
		health_line(d, arr, DOC_OK, "fetching", "last successful fetch %.0f s ago, %.0f failures "
			    "since the start", ago, m.git_errors);
	}
	health_line(d, arr, m.queue_depth > 100 ? DOC_WARN : DOC_OK, "queue", "%.0f sandboxes waiting",
		    m.queue_depth);
	health_line(d, arr, m.api_throttled + m.api_server_errors > 0 ? DOC_WARN : DOC_OK, "api",
		    "%.0f answers 429 (throttled), %.0f answers 5xx since the start", m.api_throttled,
		    m.api_server_errors);
	return ok;
}

/* The Lease, the revision in force against the remote's head, /metrics. */
static bool controller_health(struct doctor *d, cJSON *arr)
{
	const sbx_kind *lease_kind = sbx_kind_find("coordination.k8s.io/v1", "Lease");
	cJSON *lease = NULL, *cms = NULL;
	sbx_buf path = SBX_BUF_INIT;
	char *rv = NULL;
	const cJSON *cm;
	bool ok = true;
	int r = sbx_kube_get(d->k.kube, &lease, lease_kind, d->ctl_ns, "sandbox-controller");

	if (r == SBX_ENOTFOUND) {
		health_line(d, arr, DOC_WARN, "leader", "no Lease %s/sandbox-controller: one replica "
			    "without --leader-elect, or the controller never ran", d->ctl_ns);
	} else if (r < 0) {
		health_line(d, arr, DOC_WARN, "leader", "cannot read the Lease: %s", sbx_error_last());
	} else {
		const char *holder = cli_json_str(lease, "spec", "holderIdentity", NULL);
		const char *renewed = cli_json_str(lease, "spec", "renewTime", NULL);
		struct tm tm = { 0 };
		long long age = -1;

		if (renewed && strptime(renewed, "%Y-%m-%dT%H:%M:%S", &tm))
			age = (long long)time(NULL) - (long long)timegm(&tm);
		if (!holder || !*holder || age < 0 || age > 30) {
			ok = false;
			health_line(d, arr, DOC_FAIL, "leader", "no leader: the Lease was last renewed %lld s "
				    "ago%s%s; kubectl -n %s get pods,lease", age, holder && *holder ? " by " : "",
				    holder ? holder : "", d->ctl_ns);
		} else {
			health_line(d, arr, DOC_OK, "leader", "%s, renewed %lld s ago", holder, age);
		}
	}
	if (sbx_kube_list(d->k.kube, &cms, &rv, sbx_kind_find("v1", "ConfigMap"), d->ctl_ns, NULL, 100) == 0) {
		cJSON_ArrayForEach(cm, cms) {
			const char *name = cli_json_str(cm, "metadata", "name", NULL);
			const char *rev = cli_json_str(cm, "data", "revision", NULL);

			if (!name || !rev || strlen(name) < 6 || strcmp(name + strlen(name) - 6, "-state") != 0)
				continue;
			if (!d->head[0])
				health_line(d, arr, DOC_WARN, "revision", "%s: %.12s in force (the remote's head is "
					    "unknown: see the git link)", name, rev);
			else if (!strcmp(rev, d->head))
				health_line(d, arr, DOC_OK, "revision", "%s: the remote's head %.12s is in force",
					    name, rev);
			else {
				long long behind = d->head_time ? (long long)time(NULL) - d->head_time : -1;

				ok = ok && behind >= 0 && behind < 60;
				health_line(d, arr, behind >= 0 && behind < 60 ? DOC_WARN : DOC_FAIL, "revision",
					    "%s: %.12s in force, but the remote's head is %.12s (committed %lld s "
					    "ago): the controller has not taken it (its log says why)", name, rev,
					    d->head, behind);
			}
		}
	}
	sbx_buf_printf(&path, "/api/v1/namespaces/%s/services/sandbox-controller:http/proxy/metrics",
		       d->ctl_ns);
	{
		char git[1200];

		if (controller_git(d, git, sizeof(git))) {
			ok = false;
			health_line(d, arr, DOC_FAIL, "git", "%s", git);
		} else {
			health_line(d, arr, DOC_OK, "git", "no fetch error published (%s/%s-health)",
				    d->ctl_ns, d->ctl_instance);
		}
	}
	ok = metrics_health(d, arr, sbx_buf_cstr(&path)) && ok;
	cJSON_Delete(lease);
	cJSON_Delete(cms);
	free(rv);
	sbx_buf_dispose(&path);
	return ok;
}

static int doctor_all(struct doctor *d)
{
	cJSON *items = NULL, *root = cJSON_CreateObject(), *health, *list;
	const cJSON *sb;
	char *rv = NULL;
	int shown = 0, total = 0;
	bool ok = true;

	health = cJSON_AddArrayToObject(root, "controller");
	list = cJSON_AddArrayToObject(root, "sandboxes");
	settings(d);
	if (d->r.link[DOC_SETTINGS].status == DOC_OK) {
		clone_state(d);
		if (d->g)
			git_remote(d);
		if (d->r.link[DOC_GIT].status == DOC_OK) {
			sbx_git_files files = { 0 };
			sbx_diags diags = SBX_DIAGS_INIT;

			/* the head's commit time: how long the controller may lag */
			if (sbx_git_fetch(d->g, d->head) == 0 && sbx_git_read(&files, d->g, d->head, &diags) == 0)
				d->head_time = files.commit_time;
			sbx_git_files_dispose(&files);
			sbx_diags_dispose(&diags);
		}
	}
	cluster(d);
	if (d->r.link[DOC_CLUSTER].status != DOC_OK) {
		if (!d->json)
			printf("The cluster cannot be reached: %s\nFix: %s\n", d->r.link[DOC_CLUSTER].detail,
			       d->r.link[DOC_CLUSTER].fix);
		cJSON_Delete(root);
		return 1;
	}
	if (!d->json)
		printf("Controller (namespace %s):\n", d->ctl_ns);
	ok = controller_health(d, health);
	if (sbx_kube_list(d->k.kube, &items, &rv, sbx_kind_find("sandbox.dev/v1alpha1", "Sandbox"), NULL,
			  NULL, 500) < 0) {
		printf("cannot list the Sandboxes: %s\n", sbx_error_last());
		ok = false;
	}
	cJSON_ArrayForEach(sb, items) {
		const char *sync = cli_json_str(sb, "status", "sync", NULL);
		const char *health_s = cli_json_str(sb, "status", "health", NULL);
		int broken;

		total++;
		if (sync && health_s && !strcmp(sync, "Synced") && !strcmp(health_s, "Healthy"))
			continue;
		/* the cluster-side links of this one sandbox */
		doc_report_dispose(&d->r);
		d->r.link[DOC_CLUSTER].status = DOC_OK;
		d->name = cli_json_str(sb, "metadata", "name", NULL);
		d->sb = cJSON_Duplicate(sb, true);
		d->ns = NULL;
		d->pod[0] = '\0';
		d->inputs[0] = '\0';
		controller(d);
		if (d->r.link[DOC_CONTROLLER].status != DOC_FAIL)
			namespace(d);
		broken = doc_first_broken(&d->r);
		if (broken >= 0)
			fill_in(&d->r.link[broken].fix, d);
		shown++;
		ok = false;
		if (d->json) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddStringToObject(o, "name", d->name ? d->name : "");
			cJSON_AddStringToObject(o, "sync", sync ? sync : "");
			cJSON_AddStringToObject(o, "health", health_s ? health_s : "");
			if (broken >= 0) {
				cJSON_AddStringToObject(o, "firstBroken", doc_link_name((enum doc_link)broken));
				cJSON_AddStringToObject(o, "detail", d->r.link[broken].detail);
				if (d->r.link[broken].fix)
					cJSON_AddStringToObject(o, "fix", d->r.link[broken].fix);
			}
			cJSON_AddItemToArray(list, o);
		} else {
			if (shown == 1)
				printf("\nSandboxes not Synced and Healthy:\n");
			printf("  %-20s %s/%s\n", d->name ? d->name : "?", sync ? sync : "-",
			       health_s ? health_s : "-");
			if (broken >= 0)
				printf("    %s: %s\n    Fix: %s\n", doc_link_name((enum doc_link)broken),
				       d->r.link[broken].detail,
				       d->r.link[broken].fix ? d->r.link[broken].fix : "see 'sandbox status'");
			else
				printf("    no link is broken from here: it is on its way (sandbox status %s)\n",
				       d->name ? d->name : "");
		}
		cJSON_Delete(d->sb);
		d->sb = NULL;
	}
	if (d->json) {
		char *text;

		cJSON_AddBoolToObject(root, "ok", ok);
		text = cJSON_Print(root);
		if (text)
			puts(text);
		free(text);
	} else {
		printf("\n%d of %d sandboxes Synced and Healthy.\n", total - shown, total);
	}
	cJSON_Delete(items);
	cJSON_Delete(root);
	free(rv);
	return ok ? 0 : 1;
}

int cmd_doctor(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "all", no_argument, NULL, 'A' },
		{ "controller-namespace", required_argument, NULL, 'N' },
		{ "controller-instance", required_argument, NULL, 'I' },
		{ "metrics-url", required_argument, NULL, 'M' },
		CLI_CONFIG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct doctor d;
	sbx_buf out = SBX_BUF_INIT;
	int c, status;

	memset(&d, 0, sizeof(d));
	d.file_keys = (sbx_buf)SBX_BUF_INIT;
	cli_config_init(&d.cfg);
	d.user = CLI_SANDBOX_USER;
	d.ctl_ns = "sandbox-system";
	d.ctl_instance = "sandbox-controller";
	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:i:l:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			cli_config_print_help(help);
			status = EXIT_OK;
			goto done;
		case 'o':
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0) {
				status = cli_error(EXIT_USAGE, "-o takes text or json, not '%s'", optarg);
				goto done;
			}
			d.json = !strcmp(optarg, "json");
			break;
		case 'i': d.key_file = optarg; break;
		case 'A': d.all = true; break;
		case 'N': d.ctl_ns = optarg; break;
		case 'I': d.ctl_instance = optarg; break;
		case 'M': d.metrics_url = optarg; break;
		case 'l': d.user = optarg; break;
		default:
			if ((status = cli_config_option(&d.cfg, c, optarg, help)) != EXIT_OK)
				goto done;
		}
	}
	if ((status = cli_config_load(&d.cfg)) != EXIT_OK)
		goto done;
	if (d.all) {
		if (optind < argc) {
			status = cli_error(EXIT_USAGE, "--all takes no sandbox name");
			goto done;
		}
		status = doctor_all(&d);
		goto done;
	}
	if ((status = cli_config_name(&d.name, &d.cfg, argc, argv, optind)) != EXIT_OK)
		goto done;
	d.r.sandbox = strdup(d.name);
	if (!d.json)
		printf("Checking sandbox '%s':\n", d.name);
	for (int l = 0; l < DOC_NLINKS; l++) {
		enum doc_link blocker;
		long t0 = now_ms();

		if (!doc_can_check(&d.r, (enum doc_link)l, &blocker)) {
			doc_skip(&d.r, (enum doc_link)l, blocker);
		} else {
			sbx_error_clear();
			steps[l](&d);
			d.r.link[l].ms = now_ms() - t0;
			fill_in(&d.r.link[l].fix, &d);
		}
		if (!d.json) {
			sbx_buf_clear(&out);
			doc_render_line(&out, &d.r, (enum doc_link)l);
			fputs(sbx_buf_cstr(&out), stdout);
			fflush(stdout);
		}
	}
	sbx_buf_clear(&out);
	if (d.json) {
		cJSON *j = doc_render_json(&d.r);
		char *text = cJSON_Print(j);

		if (text)
			puts(text);
		free(text);
		cJSON_Delete(j);
	} else {
		doc_render_verdict(&out, &d.r);
		fputs(sbx_buf_cstr(&out), stdout);
	}
	status = doc_exit_status(&d.r);
done:
	sbx_buf_dispose(&out);
	sbx_buf_dispose(&d.file_keys);
	cJSON_Delete(d.sb);
	cli_kube_close(&d.k);
	sbx_git_free(d.g);
	doc_report_dispose(&d.r);
	cli_config_dispose(&d.cfg);
	return status;
}
