// SPDX-License-Identifier: Apache-2.0
/*
 * sandbox-controller: flags (each with an environment variable), signal
 * handling, then the loop in controller.c.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "controller.h"
#include "error.h"
#include "log.h"
#include "sbx_version.h"

static controller *running;

static void on_signal(int sig)
{
	(void)sig;
	if (running)
		running->stop = 1;
}

struct flag {
	const char *name;
	const char *env;
	const char *arg;       /* NULL: a switch */
	const char *help;
};

static const struct flag flags[] = {
	{ "repo", "SANDBOX_REPO", "URL", "the GitOps repository (file://, ssh://, https://); required" },
	{ "branch", "SANDBOX_BRANCH", "NAME", "the branch to follow (default main)" },
	{ "state-dir", "SANDBOX_STATE_DIR", "DIR", "where the git mirror lives (default /var/lib/sandbox-controller)" },
	{ "git-ssh-key", "SANDBOX_GIT_SSH_KEY", "FILE", "private key for ssh:// (default: ssh-agent)" },
	{ "git-known-hosts", "SANDBOX_GIT_KNOWN_HOSTS", "FILE", "known_hosts for ssh:// (required with ssh://)" },
	{ "git-token-file", "SANDBOX_GIT_TOKEN_FILE", "FILE", "token for https:// (re-read on every fetch)" },
	{ "poll-interval", "SANDBOX_POLL_INTERVAL", "SECONDS", "how often to check the branch (default 15)" },
	{ "kubeconfig", "KUBECONFIG", "FILES", "kubeconfig files, ':'-separated (default ~/.kube/config)" },
	{ "context", "SANDBOX_CONTEXT", "NAME", "kubeconfig context (default: current-context)" },
	{ "in-cluster", "SANDBOX_IN_CLUSTER", NULL, "use the pod's service account instead of a kubeconfig" },
	{ "listen", "SANDBOX_LISTEN", "ADDR:PORT", "serve /metrics, /healthz, /readyz, /webhook (default 127.0.0.1:8080; '' disables)" },
	{ "webhook-secret-file", "SANDBOX_WEBHOOK_SECRET_FILE", "FILE", "HMAC secret for /webhook (without it /webhook answers 503)" },
	{ "instance", "SANDBOX_INSTANCE", "NAME", "name in tracking ids and of the state ConfigMap NAME-state (default sandbox-controller)" },
	{ "leader-elect", "SANDBOX_LEADER_ELECT", NULL, "elect a leader through a Lease (several replicas)" },
	{ "lease-namespace", "SANDBOX_LEASE_NAMESPACE", "NS", "the controller's namespace: its Lease and the state ConfigMap holding the revision in force (default kube-system)" },
	{ "identity", "SANDBOX_IDENTITY", "NAME", "this replica's name in the Lease (default: hostname-pid)" },
	{ "workers", "SANDBOX_WORKERS", "N", "sandboxes reconciled at once (default 16)" },
	{ "once", "SANDBOX_ONCE", NULL, "sync once and exit (for scripts and benchmarks)" },
	{ "settle-timeout", "SANDBOX_SETTLE_TIMEOUT", "SECONDS", "with --once: wait up to this long for rollouts to finish (default 120; 0: exit once every sandbox was applied)" },
	{ "kube-qps", "SANDBOX_KUBE_QPS", "N", "API requests per second (default 100; burst twice that)" },
	{ "git-ca-file", "SANDBOX_GIT_CA_FILE", "FILE", "PEM CAs for https:// (default: the system's)" },
	{ "git-timeout", "SANDBOX_GIT_TIMEOUT", "SECONDS", "bound on each ref check and fetch (default 120; the last good revision stays)" },
	{ "install-crd", "SANDBOX_INSTALL_CRD", NULL, "install the Sandbox CRD when missing or different (needs create and patch on it; deploy/ installs it instead)" },
	{ "print-crd", NULL, NULL, "print the Sandbox CustomResourceDefinition and exit" },
	{ "version", NULL, NULL, "print the version and exit" },
	{ "help", NULL, NULL, "show this help" },
};
#define NFLAGS (sizeof(flags) / sizeof(flags[0]))

static void usage(FILE *f)
{
	fputs("Usage: sandbox-controller --repo URL [OPTIONS]\n\n"
	      "Keeps one sandbox per sandboxes/NAME.yaml of a git branch in the cluster:\n"
	      "renders, applies, reverts drift, prunes safely and reports status on the\n"
	      "Sandbox objects (kubectl get sandboxes). Every option can also be set through\n"
	      "the environment variable shown; a flag wins over the variable.\n\nOptions:\n", f);
	for (size_t i = 0; i < NFLAGS; i++) {
		char left[64];

		snprintf(left, sizeof(left), "--%s%s%s", flags[i].name, flags[i].arg ? " " : "",
			 flags[i].arg ? flags[i].arg : "");
		fprintf(f, "  %-32s %s", left, flags[i].help);
		if (flags[i].env)
			fprintf(f, " [%s]", flags[i].env);
		fputc('\n', f);
	}
	fputs("\nSignals: SIGTERM and SIGINT finish in-flight work and exit 0.\n", f);
}

static const char *value(const char **set, size_t i)
{
	if (set[i])
		return set[i];
	return flags[i].env ? getenv(flags[i].env) : NULL;
}

static bool truthy(const char *v)
{
	return v && (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !*v);
}

int main(int argc, char **argv)
{
	struct option lopts[NFLAGS + 1];
	const char *set[NFLAGS] = { 0 };
	static char identity[128], host_port[256];
	controller_options o;
	controller c;
	const char *v;
	char *end;
	int ch, idx, status;

	for (size_t i = 0; i < NFLAGS; i++) {
		lopts[i].name = flags[i].name;
		lopts[i].has_arg = flags[i].arg ? required_argument : no_argument;
		lopts[i].flag = NULL;
		lopts[i].val = 0;
	}
	memset(&lopts[NFLAGS], 0, sizeof(lopts[NFLAGS]));
	while ((ch = getopt_long(argc, argv, "h", lopts, &idx)) != -1) {
		if (ch == 'h') {
			usage(stdout);
			return 0;
		}
		if (ch != 0) {
			usage(stderr);
			return 2;
		}
		set[idx] = flags[idx].arg ? optarg : "1";
	}
	if (optind < argc) {
		fprintf(stderr, "sandbox-controller: error: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	for (size_t i = 0; i < NFLAGS; i++) {
		if (!set[i])
			continue;
		if (!strcmp(flags[i].name, "help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(flags[i].name, "version")) {
			printf("sandbox-controller %s\n", SBX_VERSION);
			return 0;
		}
		if (!strcmp(flags[i].name, "print-crd")) {
			cJSON *crd = crd_sandbox();
			sbx_buf out = SBX_BUF_INIT;

			sbx_render_yaml(&out, crd);
			fputs("# The Sandbox CustomResourceDefinition. Generated by\n"
			      "# 'sandbox-controller --print-crd'; CI fails when they differ.\n---\n", stdout);
			fputs(sbx_buf_cstr(&out), stdout);
			sbx_buf_dispose(&out);
			cJSON_Delete(crd);
			return 0;
		}
	}
	memset(&o, 0, sizeof(o));
#define FLAG(n) value(set, n)
	o.repo_url = FLAG(0);
	o.branch = FLAG(1) ? FLAG(1) : "main";
	o.state_dir = FLAG(2) ? FLAG(2) : "/var/lib/sandbox-controller";
	o.git_ssh_key = FLAG(3);
	o.git_known_hosts = FLAG(4);
	o.git_token_file = FLAG(5);
	v = FLAG(6);
	o.poll_ms = v ? strtol(v, &end, 10) * 1000 : 15000;
	if (v && (*end || o.poll_ms <= 0)) {
		fprintf(stderr, "sandbox-controller: error: --poll-interval '%s' must be a number of seconds\n", v);
		return 2;
	}
	o.kubeconfig = FLAG(7);
	o.context = FLAG(8);
	o.in_cluster = truthy(FLAG(9)) && FLAG(9);
	v = FLAG(10) ? FLAG(10) : "127.0.0.1:8080";
	if (*v) {
		const char *colon = strrchr(v, ':');

		if (!colon || !colon[1]) {
			fprintf(stderr, "sandbox-controller: error: --listen '%s' must be ADDR:PORT\n", v);
			return 2;
		}
		snprintf(host_port, sizeof(host_port), "%.*s", (int)(colon - v), v);
		o.listen_addr = *host_port ? host_port : "0.0.0.0";
		o.listen_port = (unsigned)strtoul(colon + 1, NULL, 10);
	}
	o.webhook_secret_file = FLAG(11);
	o.instance = FLAG(12) ? FLAG(12) : SBX_MANAGER;
	if (!sbx_is_dns_label(o.instance, 57)) {
		fprintf(stderr, "sandbox-controller: error: --instance '%s' must be a DNS label of at most "
			"57 characters (lowercase letters, digits, '-'): it names the state ConfigMap "
			"'INSTANCE-state'\n", o.instance);
		return 2;
	}
	o.leader_elect = FLAG(13) && truthy(FLAG(13));
	o.lease_namespace = FLAG(14) ? FLAG(14) : "kube-system";
	if (FLAG(15)) {
		o.identity = FLAG(15);
	} else {
		char host[64] = "controller";

		gethostname(host, sizeof(host) - 1);
		snprintf(identity, sizeof(identity), "%s-%d", host, (int)getpid());
		o.identity = identity;
	}
	v = FLAG(16);
	o.workers = v ? (int)strtol(v, &end, 10) : 16;
	if ((v && *end) || o.workers <= 0 || o.workers > 256) {
		fprintf(stderr, "sandbox-controller: error: --workers must be between 1 and 256\n");
		return 2;
	}
	o.once = FLAG(17) && truthy(FLAG(17));
	o.git_ca_file = FLAG(20);
	v = FLAG(21);
	{
		long t = v ? strtol(v, &end, 10) : 120;

		if ((v && (*end || !*v)) || t <= 0 || t > 3600) {
			fprintf(stderr, "sandbox-controller: error: --git-timeout must be between 1 and 3600 seconds\n");
			return 2;
		}
		o.git_timeout_s = (int)t;
	}
	v = FLAG(19);
	o.kube_qps = v ? strtod(v, &end) : 100;
	if (v && (*end || o.kube_qps <= 0)) {
		fprintf(stderr, "sandbox-controller: error: --kube-qps '%s' must be a positive number\n", v);
		return 2;
	}
	v = FLAG(18);
	o.settle_ms = v ? strtol(v, &end, 10) * 1000 : 120000;
	if (v && (*end || o.settle_ms < 0)) {
		fprintf(stderr, "sandbox-controller: error: --settle-timeout '%s' must be a number of seconds\n", v);
		return 2;
	}
	o.install_crd = FLAG(22) && truthy(FLAG(22));
#undef FLAG
	if (!o.repo_url) {
		fprintf(stderr, "sandbox-controller: error: --repo is required (or SANDBOX_REPO)\n");
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	{
		sbx_buf shown = SBX_BUF_INIT;

		sbx_git_redact_url(&shown, o.repo_url);
		log_info(NULL, "sandbox-controller %s starting: repo %s branch %s", SBX_VERSION,
			 sbx_buf_cstr(&shown), o.branch);
		sbx_buf_dispose(&shown);
	}
	if (controller_init(&c, &o) < 0) {
		log_error(NULL, "%s", sbx_error_last());
		controller_dispose(&c);
		return 1;
	}
	running = &c;
	status = controller_run(&c);
	running = NULL;
	controller_dispose(&c);
	return status;
}
