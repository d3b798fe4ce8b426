// SPDX-License-Identifier: Apache-2.0
/*
 * Sandbox file parsing and validation: every field of the contract in
 * design section 2, every problem reported with its position.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "spec.h"
#include "yamlfile.h"

static const char *const reserved_exact[] = { "default", "system", "admin", "root", NULL };
static const char *const reserved_prefix[] = { "kube-", "openshift-", NULL };

bool sbx_spec_name_reserved(const char *name)
{
	for (const char *const *w = reserved_exact; *w; w++)
		if (strcmp(name, *w) == 0)
			return true;
	for (const char *const *w = reserved_prefix; *w; w++)
		if (strncmp(name, *w, strlen(*w)) == 0)
			return true;
	return false;
}

/* Whether the file name of path is NAME.yaml with a NAME. */
static bool is_yaml_name(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	return n > 5 && strcmp(base + n - 5, ".yaml") == 0;
}

/* "dir/alice.yaml" -> "alice" (malloc'd), or NULL when not *.yaml (or out
 * of memory). */
static char *name_from_path(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n <= 5 || strcmp(base + n - 5, ".yaml") != 0)
		return NULL;
	return strndup(base, n - 5);
}

static void check_name(sbx_diags *d, const char *path, const sbx_ynode *n, const sbx_policy *p,
		       sbx_spec *s)
{
	char *expect = name_from_path(path);
	size_t prefix = p ? strlen(p->namespace_prefix) : 0;

	if (!sbx_is_dns_label(n->value, 63))
		sbx_check_error(d, path, n, "metadata.name '%s' must be a DNS-1123 label: lowercase "
				"letters, digits and '-', starting and ending with a letter or digit",
				n->value);
	else if (prefix + n->len > 63)
		sbx_check_error(d, path, n, "metadata.name '%s' is too long: with the namespace prefix "
				"'%s' it must fit in 63 characters (at most %zu here)", n->value,
				p->namespace_prefix, 63 - prefix);
	if (sbx_spec_name_reserved(n->value))
		sbx_check_error(d, path, n, "metadata.name '%s' is reserved; pick another name", n->value);
	if (!expect && is_yaml_name(path))
		d->oom = 1;
	else if (!expect)
		sbx_check_error(d, path, n, "sandbox files must be named NAME.yaml");
	else if (strcmp(expect, n->value) != 0)
		sbx_check_error(d, path, n, "metadata.name '%s' must equal the file name '%s'",
				n->value, expect);
	free(expect);
	if (!(s->name = strdup(n->value)))
		d->oom = 1;
}

static void check_keys(sbx_diags *d, const char *path, const sbx_ynode *keys, const sbx_policy *p,
		       sbx_spec *s)
{
	int min_bits = p ? p->min_rsa_bits : 3072, r;

	if (sbx_check_seq(d, path, keys, "spec.sshKeys") < 0)
		return;
	if (keys->count == 0 || keys->count > SBX_SPEC_MAX_KEYS) {
		sbx_check_error(d, path, keys, "'spec.sshKeys' must list 1 to %d keys, not %zu",
				SBX_SPEC_MAX_KEYS, keys->count);
		if (keys->count == 0)
			return;
	}
	s->keys = calloc(keys->count, sizeof(*s->keys));
	if (!s->keys) {
		d->oom = 1;
		return;
	}
	for (size_t i = 0; i < keys->count && i < SBX_SPEC_MAX_KEYS; i++) {
		const sbx_ynode *k = keys->items[i];
		sbx_sshkey key = SBX_SSHKEY_INIT;

		if (k->kind != SBX_YNODE_SCALAR || sbx_ynode_type(k) != SBX_YTYPE_STR) {
			sbx_check_error(d, path, k, "each entry of 'spec.sshKeys' must be a public-key "
					"line such as 'ssh-ed25519 AAAA... you@laptop'");
			continue;
		}
		sbx_error_clear();
		r = sbx_sshkey_parse(&key, k->value, k->len, min_bits);
		if (r == SBX_ENOMEM) {
			d->oom = 1;
			return;
		}
		if (r < 0) {
			sbx_check_error(d, path, k, "spec.sshKeys[%zu]: %s", i, sbx_error_last());
			continue;
		}
		for (size_t j = 0; j < s->nkeys; j++) {
			if (s->keys[j].blob_len == key.blob_len &&
			    memcmp(s->keys[j].blob, key.blob, key.blob_len) == 0) {
				sbx_check_error(d, path, k, "spec.sshKeys[%zu] repeats key %zu", i, j);
				sbx_sshkey_dispose(&key);
				break;
			}
		}
		if (key.type)
			s->keys[s->nkeys++] = key;
	}
}

static void check_ports(sbx_diags *d, const char *path, const sbx_ynode *ports, sbx_spec *s)
{
	if (sbx_check_seq(d, path, ports, "spec.ports") < 0)
		return;
	if (ports->count > SBX_SPEC_MAX_PORTS)
		sbx_check_error(d, path, ports, "'spec.ports' lists %zu ports; at most %d are allowed",
				ports->count, SBX_SPEC_MAX_PORTS);
	s->ports = calloc(ports->count ? ports->count : 1, sizeof(int));
	if (!s->ports) {
		d->oom = 1;
		return;
	}
	for (size_t i = 0; i < ports->count; i++) {
		const sbx_ynode *n = ports->items[i];
		long long v;
		bool dup = false;

		if (sbx_ynode_int(&v, n) < 0 || v < 1 || v > 65535) {
			sbx_check_error(d, path, n, "each entry of 'spec.ports' must be a port number "
					"from 1 to 65535");
			continue;
		}
		if (v == SBX_SSHD_PORT) {
			sbx_check_error(d, path, n, "port %d is used by the sandbox's sshd", SBX_SSHD_PORT);
			continue;
		}
		for (size_t j = 0; j < s->nports; j++)
			dup = dup || s->ports[j] == v;
		if (dup) {
			sbx_check_error(d, path, n, "port %lld is listed twice", v);
			continue;
		}
		s->ports[s->nports++] = (int)v;
	}
}

static bool is_env_name(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_' ||
		      (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

static void check_env(sbx_diags *d, const char *path, const sbx_ynode *env, sbx_spec *s)
{
	if (env->kind != SBX_YNODE_MAP) {
		sbx_check_error(d, path, env, "'spec.env' must be a mapping of NAME: value, not %s",
				sbx_ytype_name(sbx_ynode_type(env)));
		return;
	}
	if (env->count > SBX_SPEC_MAX_ENV)
		sbx_check_error(d, path, env, "'spec.env' has %zu variables; at most %d are allowed",
				env->count, SBX_SPEC_MAX_ENV);
	s->env = calloc(env->count ? env->count : 1, sizeof(*s->env));
	if (!s->env) {
		d->oom = 1;
		return;
	}
	for (size_t i = 0; i < env->count; i++) {
		const sbx_ynode *k = env->keys[i], *v = env->items[i];
		sbx_ytype t = sbx_ynode_type(v);

		if (!is_env_name(k->value) || k->len > 128) {
			sbx_check_error(d, path, k, "environment variable name '%.128s' must be at most 128 "
					"letters, digits and '_', not starting with a digit", k->value);
			continue;
		}
		if (v->kind != SBX_YNODE_SCALAR || t == SBX_YTYPE_NULL) {
			sbx_check_error(d, path, v, "spec.env.%s must be a plain value, not %s", k->value,
					sbx_ytype_name(t));
			continue;
		}
		if (v->len > SBX_SPEC_MAX_ENV_VALUE || strlen(v->value) != v->len) {
			sbx_check_error(d, path, v, "spec.env.%s is longer than %d bytes or holds NUL",
					k->value, SBX_SPEC_MAX_ENV_VALUE);
			continue;
		}
		s->env[s->nenv].name = strdup(k->value);
		s->env[s->nenv].value = strdup(v->value);
		s->nenv++;
		if (!s->env[s->nenv - 1].name || !s->env[s->nenv - 1].value) {
			d->oom = 1;
			return;
		}
	}
}

/* spec.idle: suspendAfter, a duration or "never" (the policy's own rule). */
static void check_idle(sbx_diags *d, const char *path, const sbx_ynode *idle, sbx_spec *s)
{
	static const char *const fields[] = { "suspendAfter", NULL };
	const sbx_ynode *n;

	if (sbx_check_map(d, path, idle, NULL, "spec.idle") < 0)
		return;
	sbx_check_known_fields(d, path, idle, "spec.idle", fields);
	n = sbx_ynode_get(idle, "suspendAfter");
	if (n)
		sbx_check_idle_after(d, path, n, "spec.idle.suspendAfter", &s->idle_after_s);
}

static void check_spec(sbx_diags *d, const char *path, const sbx_ynode *spec, const sbx_policy *p,
		       sbx_spec *s)
{
	static const char *const fields[] = { "owner", "sshKeys", "size", "resources", "image",
		"suspended", "idle", "ports", "env", NULL };
	const sbx_ynode *n;

	sbx_check_known_fields(d, path, spec, "spec", fields);
	n = sbx_ynode_get(spec, "owner");
	if (sbx_check_string(d, path, n, spec, "spec.owner", true) == 0) {
		if (n->len > SBX_SPEC_MAX_OWNER)
			sbx_check_error(d, path, n, "'spec.owner' is longer than %d characters",
					SBX_SPEC_MAX_OWNER);
		if (!(s->owner = strdup(n->value)))
			d->oom = 1;
	}
	n = sbx_ynode_get(spec, "sshKeys");
	if (!n)
		sbx_check_error(d, path, spec, "missing required field 'spec.sshKeys' (your public "
				"key, e.g. the contents of ~/.ssh/id_ed25519.pub)");
	else
		check_keys(d, path, n, p, s);
	n = sbx_ynode_get(spec, "size");
	if (n && sbx_check_string(d, path, n, spec, "spec.size", true) == 0) {
		if (!(s->size = strdup(n->value)))
			d->oom = 1;
		s->size_line = n->line;
		s->size_col = n->col;
		if (p && !sbx_policy_size(p, n->value)) {
			const char *names[33] = { 0 }, *hint;
			sbx_buf list = SBX_BUF_INIT;

			for (size_t i = 0; i < p->nsizes && i < 32; i++) {
				names[i] = p->sizes[i].name;
				sbx_buf_printf(&list, "%s%s", i ? ", " : "", names[i]);
			}
			hint = sbx_check_suggest(n->value, names);
			if (hint)
				sbx_check_error(d, path, n, "unknown size '%s' (did you mean '%s'?); "
						"sizes: %s", n->value, hint, sbx_buf_cstr(&list));
			else
				sbx_check_error(d, path, n, "unknown size '%s'; sizes: %s", n->value,
						sbx_buf_cstr(&list));
			sbx_buf_dispose(&list);
		}
	}
	n = sbx_ynode_get(spec, "resources");
	if (n)
		sbx_check_resources(d, path, n, "spec.resources", false, &s->resources);
	n = sbx_ynode_get(spec, "image");
	if (n && sbx_check_string(d, path, n, spec, "spec.image", true) == 0) {
		if (!(s->image = strdup(n->value)))
			d->oom = 1;
		if (p && !sbx_policy_image_allowed(p, n->value))
			sbx_check_error(d, path, n, "image '%s' is not allowed by the policy "
					"(spec.images.allowed)", n->value);
	}
	n = sbx_ynode_get(spec, "suspended");
	if (n) {
		if (sbx_ynode_type(n) != SBX_YTYPE_BOOL)
			sbx_check_error(d, path, n, "'spec.suspended' must be true or false");
		else
			s->suspended = n->value[0] == 't' || n->value[0] == 'T';
	}
	n = sbx_ynode_get(spec, "idle");
	if (n)
		check_idle(d, path, n, s);
	n = sbx_ynode_get(spec, "ports");
	if (n)
		check_ports(d, path, n, s);
	n = sbx_ynode_get(spec, "env");
	if (n)
		check_env(d, path, n, s);
}

int sbx_spec_parse(sbx_spec **out, const char *path, const char *data, size_t len,
		   const sbx_policy *policy, sbx_diags *diags)
{
	static const char *const top[] = { "apiVersion", "kind", "metadata", "spec", NULL };
	static const char *const meta_fields[] = { "name", NULL };
	size_t before = diags->count;
	sbx_ynode *root = NULL;
	const sbx_ynode *n, *meta, *spec;
	sbx_spec *s = NULL;
	int r;

	r = sbx_yaml_load(&root, path, data, len, diags);
	if (r < 0)
		goto done;
	if (!root || root->kind != SBX_YNODE_MAP) {
		r = sbx_check_error(diags, path, root, "a sandbox file must be a mapping with "
				    "apiVersion, kind, metadata and spec");
		goto done;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		r = sbx_error_set(SBX_ENOMEM, "out of memory");
		goto done;
	}
	s->idle_after_s = -1;
	sbx_check_known_fields(diags, path, root, "the sandbox file", top);
	sbx_check_header(diags, path, root, "Sandbox");
	meta = sbx_ynode_get(root, "metadata");
	if (sbx_check_map(diags, path, meta, root, "metadata") == 0) {
		sbx_check_known_fields(diags, path, meta, "metadata", meta_fields);
		n = sbx_ynode_get(meta, "name");
		if (sbx_check_string(diags, path, n, meta, "metadata.name", true) == 0)
			check_name(diags, path, n, policy, s);
	}
	spec = sbx_ynode_get(root, "spec");
	if (sbx_check_map(diags, path, spec, root, "spec") == 0)
		check_spec(diags, path, spec, policy, s);
	if (policy && s->name && diags->count == before) {
		sbx_effective e;

		sbx_policy_resolve(&e, policy, s, diags);
	}
	r = diags->oom ? sbx_error_set(SBX_ENOMEM, "out of memory") : diags->count > before ? SBX_EINVAL : 0;
done:
	sbx_ynode_free(root);
	if (r == 0)
		*out = s;
	else
		sbx_spec_free(s);
	return r;
}

void sbx_spec_free(sbx_spec *s)
{
	if (!s)
		return;
	free(s->path);
	free(s->name);
	free(s->owner);
	for (size_t i = 0; i < s->nkeys; i++)
		sbx_sshkey_dispose(&s->keys[i]);
	free(s->keys);
	free(s->size);
	free(s->image);
	free(s->ports);
	for (size_t i = 0; i < s->nenv; i++) {
		free(s->env[i].name);
		free(s->env[i].value);
	}
	free(s->env);
	free(s);
}
