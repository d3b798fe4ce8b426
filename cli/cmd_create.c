// SPDX-License-Identifier: Apache-2.0
/*
 * `sandbox create`: write sandboxes/NAME.yaml from a few flags (your public
 * key and the cluster's name for you found on their own), validate it like
 * lint, commit and push it; --wait follows it to ready.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cmd.h"
#include "error.h"
#include "gitops.h"
#include "kubecli.h"
#include "policy.h"
#include "repo.h"
#include "wait.h"
#include "yamlfile.h"

static const char help[] =
	"Usage: sandbox create [NAME] [--size S | --cpu C --memory M --storage D]\n"
	"                      [--key FILE.pub] [--image I] [--owner O] [--wait]\n\n"
	"Ask for a sandbox: write sandboxes/NAME.yaml in the GitOps repository,\n"
	"check it exactly as 'sandbox lint' does, commit it as\n"
	"'sandbox: create NAME (size S)' and push. The controller does the rest.\n\n"
	"  NAME               default: the 'name' setting, else your login name\n"
	"  --size S           a size class of the policy (default: the policy's default)\n"
	"  --cpu C, --memory M, --storage D\n"
	"                     per-field sizes (Kubernetes quantities: 2, 500m, 8Gi)\n"
	"  --key FILE.pub     a public key to log in with (repeatable; default: the first\n"
	"                     of ~/.ssh/id_ed25519.pub, id_ecdsa.pub, id_rsa.pub, else\n"
	"                     the keys in ssh-agent)\n"
	"  --image I          the container image (must be allowed by the policy)\n"
	"  --owner O          your Kubernetes user name (default: what the cluster says)\n"
	"  --wait             follow the sandbox until ready (see --timeout)\n"
	"  --timeout D        how long --wait waits (default 5m; 30s, 10m, 1h)\n"
	"  -h, --help         show this help\n\n";

struct create {
	const char *name, *size, *cpu, *memory, *storage, *image;
	char *owner;
	char *keys[16];
	size_t nkeys;
};

/* YAML for a string: plain when that reads back as the same string. */
static void put_scalar(sbx_buf *b, const char *s)
{
	bool plain = *s && sbx_yaml_resolve_plain(s) == SBX_YTYPE_STR &&
		     strchr("-?:,[]{}#&*!|>'\"%@`", s[0]) == NULL && !strstr(s, ": ") &&
		     !strstr(s, " #") && s[strlen(s) - 1] != ' ' && s[strlen(s) - 1] != ':';

	for (const char *c = s; plain && *c; c++)
		plain = (unsigned char)*c >= 0x20 && *c != 0x7f;
	if (plain) {
		sbx_buf_puts(b, s);
		return;
	}
	sbx_buf_putc(b, '"');
	for (const char *c = s; *c; c++) {
		if (*c == '"' || *c == '\\')
			sbx_buf_putc(b, '\\');
		if ((unsigned char)*c < 0x20)
			sbx_buf_printf(b, "\\x%02x", (unsigned char)*c);
		else
			sbx_buf_putc(b, *c);
	}
	sbx_buf_putc(b, '"');
}

static int add_key_line(struct create *c, const char *line, size_t len)
{
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (!len || line[0] == '#')
		return 0;
	if (c->nkeys == sizeof(c->keys) / sizeof(c->keys[0]))
		return 0;   /* the file allows fewer anyway; lint says how many */
	c->keys[c->nkeys] = strndup(line, len);
	return c->keys[c->nkeys++] ? 0 : cli_error(EXIT_INVALID, "out of memory");
}

static int read_key_file(struct create *c, const char *path)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int status = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return cli_error(EXIT_INVALID, "cannot read the public key '%s': %s", path,
				 strerror(errno));
	while (status == 0 && (n = getline(&line, &cap, f)) > 0)
		status = add_key_line(c, line, (size_t)n);
	free(line);
	fclose(f);
	return status;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The public keys ssh-agent holds (SSH2_AGENTC_REQUEST_IDENTITIES), as
 * "TYPE BASE64 COMMENT" lines. */
static int agent_keys(struct create *c)
{
	const char *sock = getenv("SSH_AUTH_SOCK");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	unsigned char req[5] = { 0, 0, 0, 1, 11 }, hdr[4], *msg = NULL;
	size_t len = 0, got = 0, off;
	uint32_t count;
	int fd = -1, status = 0;

	if (!sock || !*sock || strlen(sock) >= sizeof(sa.sun_path))
		goto done;
	memcpy(sa.sun_path, sock, strlen(sock));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, req, sizeof(req)) != (ssize_t)sizeof(req) ||
	    recv(fd, hdr, 4, MSG_WAITALL) != 4)
		goto done;
	len = get32(hdr);
	if (len < 5 || len > (256 << 10) || !(msg = malloc(len)))
		goto done;
	while (got < len) {
		ssize_t n = read(fd, msg + got, len - got);

		if (n <= 0)
			goto done;
		got += (size_t)n;
	}
	if (msg[0] != 12)
		goto done;
	count = get32(msg + 1);
	off = 5;
	for (uint32_t i = 0; i < count && status == 0; i++) {
		uint32_t blen, clen, tlen;
		sbx_buf line = SBX_BUF_INIT;
		unsigned char *b64;

		if (off + 4 > len || (blen = get32(msg + off)) > len - off - 4 || blen < 4 ||
		    (tlen = get32(msg + off + 4)) > blen - 4 ||
		    off + 4 + blen + 4 > len || (clen = get32(msg + off + 4 + blen)) >
		    len - off - 8 - blen)
			break;
		b64 = malloc(4 * ((blen + 2) / 3) + 1);
		if (!b64)
			break;
		EVP_EncodeBlock(b64, msg + off + 4, (int)blen);
		sbx_buf_printf(&line, "%.*s %s %.*s", (int)tlen, (const char *)msg + off + 8,
			       (const char *)b64, (int)clen, (const char *)msg + off + 8 + blen);
		free(b64);
		status = add_key_line(c, sbx_buf_cstr(&line), line.len);
		sbx_buf_dispose(&line);
		off += 8 + blen + clen;
	}
done:
	free(msg);
	if (fd >= 0)
		close(fd);
	return status;
}

static int default_keys(struct create *c)
{
	static const char *const names[] = { "id_ed25519.pub", "id_ecdsa.pub", "id_rsa.pub" };
	const char *home = getenv("HOME");
	char path[4096];
	int status;

	for (size_t i = 0; home && i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/.ssh/%s", home, names[i]);
		if (access(path, R_OK) == 0) {
			fprintf(stderr, "using the public key %s\n", path);
			return read_key_file(c, path);
		}
	}
	if ((status = agent_keys(c)) != 0)
		return status;
	if (c->nkeys)
		fprintf(stderr, "using the %zu key%s in ssh-agent\n", c->nkeys,
			c->nkeys == 1 ? "" : "s");
	else
		status = cli_error(EXIT_USAGE, "no public key found (~/.ssh/id_ed25519.pub, "
				   "id_ecdsa.pub, id_rsa.pub, ssh-agent); make one with "
				   "'ssh-keygen -t ed25519' or give --key FILE.pub");
	return status;
}

/* The policy's default size, for the file and the commit message. */
static char *policy_default_size(const sbx_git_files *files)
{
	sbx_policy *p = NULL;
	sbx_diags d = SBX_DIAGS_INIT;
	char *size = NULL;

	if (files->policy)
		sbx_policy_parse(&p, files->policy->path, files->policy->data, files->policy->len, &d);
	else
		sbx_policy_default(&p);
	if (p && p->default_size)
		size = strdup(p->default_size);
	sbx_policy_free(p);
	sbx_diags_dispose(&d);
	return size;
}

static int edit(cli_change *out, const sbx_git_files *files, int attempt, void *payload)
{
	struct create *c = payload;
	sbx_buf *b = &out->data;
	char *size = NULL;
	const char *shown;

	(void)attempt;
	snprintf(out->path, sizeof(out->path), "sandboxes/%s.yaml", c->name);
	if (cli_git_file(files, out->path))
		return cli_error(EXIT_INVALID, "sandbox '%s' already exists (%s); change it with "
				 "'sandbox resize %s', or pick another name", c->name, out->path,
				 c->name);
	if (!c->size && !c->cpu && !c->memory && !c->storage)
		size = policy_default_size(files);
	shown = c->size ? c->size : size;
	sbx_buf_printf(b, "# Made by 'sandbox create'. Change it with 'sandbox resize' or by\n"
		       "# editing this file; see docs/sandbox-spec.md.\n"
		       "apiVersion: sandbox.dev/v1alpha1\nkind: Sandbox\nmetadata:\n  name: ");
	put_scalar(b, c->name);
	sbx_buf_puts(b, "\nspec:\n  owner: ");
	put_scalar(b, c->owner);
	sbx_buf_puts(b, "\n  sshKeys:\n");
	for (size_t i = 0; i < c->nkeys; i++) {
		sbx_buf_puts(b, "    - ");
		put_scalar(b, c->keys[i]);
		sbx_buf_putc(b, '\n');
	}
	if (shown) {
		sbx_buf_puts(b, "  size: ");
		put_scalar(b, shown);
		sbx_buf_putc(b, '\n');
	}
	if (c->cpu || c->memory || c->storage) {
		const char *v[3] = { c->cpu, c->memory, c->storage };
		const char *k[3] = { "cpu", "memory", "storage" };

		sbx_buf_puts(b, "  resources:\n");
		for (int i = 0; i < 3; i++)
			if (v[i]) {
				sbx_buf_printf(b, "    %s: ", k[i]);
				put_scalar(b, v[i]);
				sbx_buf_putc(b, '\n');
			}
	}
	if (c->image) {
		sbx_buf_puts(b, "  image: ");
		put_scalar(b, c->image);
		sbx_buf_putc(b, '\n');
	}
	if (shown)
		snprintf(out->message, sizeof(out->message), "sandbox: create %s (size %s)", c->name,
			 shown);
	else
		snprintf(out->message, sizeof(out->message), "sandbox: create %s (%s%s%s%s%s%s%s%s)",
			 c->name, c->cpu ? "cpu " : "", c->cpu ? c->cpu : "",
			 c->cpu && (c->memory || c->storage) ? ", " : "",
			 c->memory ? "memory " : "", c->memory ? c->memory : "",
			 c->memory && c->storage ? ", " : "", c->storage ? "storage " : "",
			 c->storage ? c->storage : "");
	free(size);
	return EXIT_OK;
}

int cmd_create(int argc, char **argv)
{
	enum { O_SIZE = 1, O_CPU, O_MEMORY, O_STORAGE, O_KEY, O_IMAGE, O_OWNER, O_WAIT, O_TIMEOUT };
	static const struct option opts[] = {
		{ "size", required_argument, NULL, O_SIZE },
		{ "cpu", required_argument, NULL, O_CPU },
		{ "memory", required_argument, NULL, O_MEMORY },
		{ "storage", required_argument, NULL, O_STORAGE },
		{ "key", required_argument, NULL, O_KEY },
		{ "image", required_argument, NULL, O_IMAGE },
		{ "owner", required_argument, NULL, O_OWNER },
		{ "wait", no_argument, NULL, O_WAIT },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		CLI_CONFIG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct create c = { 0 };
	cli_config cfg;
	cli_kube kube = { 0 };
	char oid[SBX_GIT_OID_HEX];
	const char *timeout = NULL;
	bool wait = false;
	int ch, status = EXIT_OK;

	cli_config_init(&cfg);
	optind = 1;
	while (status == EXIT_OK && (ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case O_SIZE: c.size = optarg; break;
		case O_CPU: c.cpu = optarg; break;
		case O_MEMORY: c.memory = optarg; break;
		case O_STORAGE: c.storage = optarg; break;
		case O_KEY: status = read_key_file(&c, optarg); break;
		case O_IMAGE: c.image = optarg; break;
		case O_OWNER: free(c.owner); c.owner = strdup(optarg); break;
		case O_WAIT: wait = true; break;
		case O_TIMEOUT: timeout = optarg; break;
		case 'h': cli_config_print_help(help); goto done;
		default: status = cli_config_option(&cfg, ch, optarg, help);
		}
	}
	if (status != EXIT_OK)
		goto done;
	if (c.size && (c.cpu || c.memory || c.storage)) {
		status = cli_error(EXIT_USAGE, "give --size or --cpu/--memory/--storage, not both");
		goto done;
	}
	if ((status = cli_config_load(&cfg)) != EXIT_OK ||
	    (status = cli_config_name(&c.name, &cfg, argc, argv, optind)) != EXIT_OK)
		goto done;
	if (!c.nkeys && (status = default_keys(&c)) != EXIT_OK)
		goto done;
	if (!c.owner) {
		if ((status = cli_kube_open(&kube, &cfg)) != EXIT_OK)
			goto done;
		if (cli_kube_whoami(&kube, &c.owner) < 0) {
			status = cli_error(EXIT_INVALID, "%s; give --owner with your Kubernetes user "
					   "name", sbx_error_last());
			goto done;
		}
		fprintf(stderr, "owner: %s (as the cluster knows you)\n", c.owner);
	}
	status = cli_git_change(oid, &cfg, edit, &c);
	if (status != EXIT_OK)
		goto done;
	if (wait)
		status = cli_wait(&cfg, c.name, oid, timeout);
	else
		printf("sandbox '%s' requested; the controller picks it up within its poll "
		       "interval.\nFollow it with 'sandbox status %s' (or create with --wait).\n",
		       c.name, c.name);
done:
	for (size_t i = 0; i < c.nkeys; i++)
		free(c.keys[i]);
	free(c.owner);
	cli_kube_close(&kube);
	cli_config_dispose(&cfg);
	return status;
}
