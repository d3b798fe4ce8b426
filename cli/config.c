// SPDX-License-Identifier: Apache-2.0
/*
 * The CLI's settings, resolved flag > environment > config file > default,
 * each remembering where it came from for `sandbox config`. The file is a
 * flat YAML mapping read with the same safe loader as sandbox files.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "config.h"
#include "diag.h"
#include "yamlfile.h"

#define CONFIG_MAX (64 * 1024)

static const struct {
	const char *key, *env, *flag, *help;
} settings[CFG_COUNT] = {
	[CFG_REPO] = { "repo", "SANDBOX_REPO", "repo-url",
		       "the GitOps repository url (file://, ssh://, user@host:path, https://)" },
	[CFG_BRANCH] = { "branch", "SANDBOX_BRANCH", "branch", "the branch the controller watches" },
	[CFG_CLONE] = { "clone", "SANDBOX_CLONE", "clone", "the local clone, made on first use" },
	[CFG_NAME] = { "name", "SANDBOX_NAME", NULL, "your sandbox's name when a command is not given one" },
	[CFG_CONTEXT] = { "context", "SANDBOX_CONTEXT", "context", "the kubeconfig context" },
	[CFG_KUBECONFIG] = { "kubeconfig", "KUBECONFIG", "kubeconfig", "kubeconfig file(s), ':'-separated" },
	[CFG_GIT_SSH_KEY] = { "gitSshKey", "SANDBOX_GIT_SSH_KEY", "git-ssh-key",
			      "private key for ssh:// remotes (unset: ssh-agent)" },
	[CFG_GIT_KNOWN_HOSTS] = { "gitKnownHosts", "SANDBOX_GIT_KNOWN_HOSTS", "git-known-hosts",
				  "known_hosts that must hold the git server's key" },
	[CFG_GIT_TOKEN_FILE] = { "gitTokenFile", "SANDBOX_GIT_TOKEN_FILE", "git-token-file",
				 "file holding a token for https:// remotes" },
	[CFG_GIT_CA_FILE] = { "gitCaFile", "SANDBOX_GIT_CA_FILE", "git-ca-file",
			      "PEM CAs that sign an https:// remote's certificate (unset: the system's)" },
};

const char cli_config_help[] =
	"Settings (flag > environment > ~/.config/sandbox/config.yaml; see 'sandbox config'):\n"
	"  --repo-url URL          the GitOps repository ($SANDBOX_REPO, 'repo')\n"
	"  --branch B              its branch (default main)\n"
	"  --clone DIR             the local clone (default ~/.local/share/sandbox/repo)\n"
	"  --context C             kubeconfig context\n"
	"  --kubeconfig FILE       kubeconfig (default $KUBECONFIG, else ~/.kube/config)\n"
	"  --git-ssh-key FILE      key for ssh:// remotes (default: ssh-agent)\n"
	"  --git-known-hosts FILE  known_hosts for ssh:// remotes (default ~/.ssh/known_hosts)\n"
	"  --git-token-file FILE   token for https:// remotes\n"
	"  --git-ca-file FILE      CAs for https:// remotes (default: the system's)\n"
	"  --config FILE           the config file ($SANDBOX_CONFIG)\n";

const char *cli_config_key(enum cli_setting_id id) { return settings[id].key; }
const char *cli_config_env(enum cli_setting_id id) { return settings[id].env; }
const char *cli_config_describe(enum cli_setting_id id) { return settings[id].help; }

void cli_config_init(cli_config *c)
{
	memset(c, 0, sizeof(*c));
}

static const char *home(void)
{
	const char *h = getenv("HOME");
	const struct passwd *pw;

	if (h && *h)
		return h;
	pw = getpwuid(getuid());
	return pw ? pw->pw_dir : "/";
}

/* "~/x" -> "$HOME/x"; anything else copied. Caller must free. */
static char *expand(const char *v)
{
	sbx_buf b = SBX_BUF_INIT;

	if (v[0] == '~' && (v[1] == '/' || !v[1]))
		sbx_buf_printf(&b, "%s%s", home(), v + 1);
	else
		sbx_buf_puts(&b, v);
	return sbx_buf_take(&b, NULL);
}

static void set(cli_config *c, int id, const char *value, const char *source)
{
	free(c->value[id]);
	c->value[id] = expand(value);
	c->source[id] = source;
}

int cli_config_flag(cli_config *c, int code, const char *arg)
{
	static char sources[CFG_COUNT][40];
	int id = code - CLI_OPT_BASE;

	if (id == CFG_COUNT) {
		free(c->file);
		c->file = expand(arg);
		c->file_source = "flag --config";
		return 1;
	}
	if (id < 0 || id >= CFG_COUNT || !settings[id].flag)
		return 0;
	snprintf(sources[id], sizeof(sources[id]), "flag --%s", settings[id].flag);
	set(c, id, arg, sources[id]);
	return 1;
}

int cli_config_option(cli_config *c, int code, const char *arg, const char *help)
{
	if (cli_config_flag(c, code, arg))
		return EXIT_OK;
	fprintf(stderr, "%s%s", help, cli_config_help);
	return EXIT_USAGE;
}

void cli_config_print_help(const char *help)
{
	printf("%s%s", help, cli_config_help);
}

int cli_config_name(const char **name, const cli_config *c, int argc, char **argv, int optind)
{
	if (argc - optind > 1)
		return cli_error(EXIT_USAGE, "one sandbox at a time: unexpected '%s'",
				 argv[optind + 1]);
	*name = optind < argc ? argv[optind] : c->value[CFG_NAME];
	if (!*name)
		return cli_error(EXIT_USAGE, "which sandbox? give NAME or set 'name' in '%s'", c->file);
	return EXIT_OK;
}

static int read_file(cli_config *c)
{
	static char source[40 + 4096];
	sbx_diags diags = SBX_DIAGS_INIT;
	sbx_buf text = SBX_BUF_INIT, out = SBX_BUF_INIT;
	sbx_ynode *root = NULL;
	char chunk[4096];
	size_t n;
	FILE *f = fopen(c->file, "r");
	int status = 0;

	if (!f) {
		/* only a file someone named must exist */
		if (strcmp(c->file_source, "default") != 0)
			status = cli_error(EXIT_INVALID, "cannot read the config file '%s'; check "
					   "the path given by %s", c->file, c->file_source);
		goto done;
	}
	sbx_buf_init(&text, CONFIG_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		sbx_buf_put(&text, chunk, n);
	if (text.failed) {
		status = cli_error(EXIT_INVALID, "the config file '%s' is larger than %d KiB",
				   c->file, CONFIG_MAX / 1024);
		goto done;
	}
	if (sbx_yaml_load(&root, c->file, sbx_buf_cstr(&text), text.len, &diags) == 0 && root &&
	    root->kind != SBX_YNODE_MAP)
		sbx_diag_add(&diags, c->file, root->line, root->col, "expected a mapping of "
			     "settings (repo: URL, clone: DIR, name: NAME, ...)");
	for (size_t i = 0; root && root->kind == SBX_YNODE_MAP && i < root->count; i++) {
		const sbx_ynode *k = root->keys[i], *v = root->items[i];
		int id = -1;

		for (int s = 0; s < CFG_COUNT; s++)
			if (strcmp(k->value, settings[s].key) == 0)
				id = s;
		if (id < 0) {
			sbx_diag_add(&diags, c->file, k->line, k->col, "unknown setting '%s' (known: "
				     "repo, branch, clone, name, context, kubeconfig, gitSshKey, "
				     "gitKnownHosts, gitTokenFile, gitCaFile)", k->value);
		} else if (v->kind != SBX_YNODE_SCALAR || sbx_ynode_type(v) != SBX_YTYPE_STR) {
			sbx_diag_add(&diags, c->file, v->line, v->col, "'%s' must be a string, not %s",
				     k->value, sbx_ytype_name(sbx_ynode_type(v)));
		} else if (!c->value[id]) {
			snprintf(source, sizeof(source), "file %s", c->file);
			set(c, id, v->value, source);
		}
	}
	if (diags.count) {
		sbx_diags_format(&out, &diags);
		fputs(sbx_buf_cstr(&out), stderr);
		status = cli_error(EXIT_INVALID, "fix the config file '%s'", c->file);
	}
done:
	if (f)
		fclose(f);
	sbx_ynode_free(root);
	sbx_diags_dispose(&diags);
	sbx_buf_dispose(&text);
	sbx_buf_dispose(&out);
	return status;
}

static void set_default(cli_config *c, int id, const char *value)
{
	if (!c->value[id] && value)
		set(c, id, value, "default");
}

int cli_config_load(cli_config *c)
{
	static char env_sources[CFG_COUNT][48];
	sbx_buf b = SBX_BUF_INIT;
	const char *v, *login;
	const struct passwd *pw;
	int status;

	for (int id = 0; id < CFG_COUNT; id++) {
		v = getenv(settings[id].env);
		if (!c->value[id] && v && *v) {
			snprintf(env_sources[id], sizeof(env_sources[id]), "env %s", settings[id].env);
			set(c, id, v, env_sources[id]);
		}
	}
	if (!c->file) {
		v = getenv("SANDBOX_CONFIG");
		if (v && *v) {
			c->file = expand(v);
			c->file_source = "env SANDBOX_CONFIG";
		} else {
			v = getenv("XDG_CONFIG_HOME");
			if (v && *v)
				sbx_buf_printf(&b, "%s/sandbox/config.yaml", v);
			else
				sbx_buf_printf(&b, "%s/.config/sandbox/config.yaml", home());
			c->file = sbx_buf_take(&b, NULL);
			c->file_source = "default";
		}
	}
	if ((status = read_file(c)) != 0)
		return status;
	v = getenv("XDG_DATA_HOME");
	if (v && *v)
		sbx_buf_printf(&b, "%s/sandbox/repo", v);
	else
		sbx_buf_printf(&b, "%s/.local/share/sandbox/repo", home());
	set_default(c, CFG_CLONE, sbx_buf_cstr(&b));
	sbx_buf_clear(&b);
	sbx_buf_printf(&b, "%s/.ssh/known_hosts", home());
	set_default(c, CFG_GIT_KNOWN_HOSTS, sbx_buf_cstr(&b));
	sbx_buf_dispose(&b);
	set_default(c, CFG_BRANCH, "main");
	login = getenv("USER");
	if (!login || !*login) {
		pw = getpwuid(getuid());
		login = pw ? pw->pw_name : NULL;
	}
	set_default(c, CFG_NAME, login);
	return 0;
}

void cli_config_dispose(cli_config *c)
{
	for (int id = 0; id < CFG_COUNT; id++)
		free(c->value[id]);
	free(c->file);
	memset(c, 0, sizeof(*c));
}
