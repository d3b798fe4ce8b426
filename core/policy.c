// SPDX-License-Identifier: Apache-2.0
/*
 * Policy parsing and validation, and sbx_policy_resolve(): the only place
 * that combines size classes, developer fields, SRE overrides and caps.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "policy.h"
#include "spec.h"
#include "yamlfile.h"

#define DEFAULT_MIN_RSA_BITS 3072
#define DEFAULT_GRACE_S (72 * 3600)
#define DEFAULT_MAX_PRUNE 20
#define MAX_PREFIX 30

static char *dup_value(const sbx_ynode *n, const char *fallback)
{
	return strdup(n ? n->value : fallback);
}

static int parse_named(sbx_diags *d, const char *path, const sbx_ynode *map, const char *field,
		       bool required, sbx_named_resources **out, size_t *count)
{
	sbx_named_resources *list;
	sbx_buf name = SBX_BUF_INIT;
	int r = 0;

	if (map->kind != SBX_YNODE_MAP)
		return sbx_check_error(d, path, map, "'%s' must be a mapping of names, not %s", field,
				       sbx_ytype_name(sbx_ynode_type(map)));
	list = calloc(map->count ? map->count : 1, sizeof(*list));
	if (!list)
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	for (size_t i = 0; i < map->count; i++) {
		const sbx_ynode *k = map->keys[i];
		sbx_named_resources *e = &list[*count];

		if (!sbx_is_dns_label(k->value, 63)) {
			r = sbx_check_error(d, path, k, "'%s' key '%s' must be a DNS-1123 label "
					    "(lowercase letters, digits and '-')", field, k->value);
			continue;
		}
		sbx_buf_clear(&name);
		sbx_buf_printf(&name, "%s.%s", field, k->value);
		if (sbx_check_resources(d, path, map->items[i], sbx_buf_cstr(&name), required,
					&e->r) < 0) {
			r = SBX_EINVAL;
			continue;
		}
		e->name = strdup(k->value);
		if (!e->name) {
			r = sbx_error_set(SBX_ENOMEM, "out of memory");
			break;
		}
		e->line = k->line;
		e->col = k->col;
		(*count)++;
	}
	sbx_buf_dispose(&name);
	*out = list;
	return r;
}

static void copy_images(sbx_diags *d, const char *path, const sbx_ynode *spec, sbx_policy *p, int *r)
{
	const sbx_ynode *images = sbx_ynode_get(spec, "images");
	static const char *const known[] = { "default", "allowed", NULL };
	const sbx_ynode *def, *allowed;

	if (sbx_check_map(d, path, images, spec, "spec.images") < 0) {
		*r = SBX_EINVAL;
		return;
	}
	if (sbx_check_known_fields(d, path, images, "spec.images", known) < 0)
		*r = SBX_EINVAL;
	def = sbx_ynode_get(images, "default");
	if (sbx_check_string(d, path, def, images, "spec.images.default", true) < 0)
		*r = SBX_EINVAL;
	else if (!(p->image_default = strdup(def->value)))
		*r = SBX_ENOMEM;
	allowed = sbx_ynode_get(images, "allowed");
	if (!allowed)
		return;
	if (sbx_check_seq(d, path, allowed, "spec.images.allowed") < 0) {
		*r = SBX_EINVAL;
		return;
	}
	p->images_allowed = calloc(allowed->count ? allowed->count : 1, sizeof(char *));
	if (!p->images_allowed)
		*r = SBX_ENOMEM;
	for (size_t i = 0; p->images_allowed && i < allowed->count; i++) {
		if (sbx_check_string(d, path, allowed->items[i], allowed, "spec.images.allowed[]",
				     true) < 0) {
			*r = SBX_EINVAL;
			continue;
		}
		if (!(p->images_allowed[p->nimages_allowed] = strdup(allowed->items[i]->value))) {
			*r = SBX_ENOMEM;
			return;
		}
		p->nimages_allowed++;
	}
	bool listed = false;

	for (size_t i = 0; i < p->nimages_allowed; i++)
		listed = listed || fnmatch(p->images_allowed[i], p->image_default ? p->image_default : "", 0) == 0;
	if (p->image_default && p->nimages_allowed && !listed)
		*r = sbx_check_error(d, path, def, "default image '%s' is not in spec.images.allowed",
				     p->image_default);
}

static void read_ssh(sbx_diags *d, const char *path, const sbx_ynode *ssh, sbx_policy *p, int *r)
{
	static const char *const known[] = { "minRsaBits", "endpoint", NULL };
	const sbx_ynode *bits, *endpoint;
	long long v;

	if (!ssh)
		return;
	if (sbx_check_map(d, path, ssh, NULL, "spec.ssh") < 0) {
		*r = SBX_EINVAL;
		return;
	}
	if (sbx_check_known_fields(d, path, ssh, "spec.ssh", known) < 0)
		*r = SBX_EINVAL;
	bits = sbx_ynode_get(ssh, "minRsaBits");
	if (bits) {
		if (sbx_ynode_int(&v, bits) < 0 || v < 2048 || v > 16384)
			*r = sbx_check_error(d, path, bits, "'spec.ssh.minRsaBits' must be an integer "
					     "between 2048 and 16384");
		else
			p->min_rsa_bits = (int)v;
	}
	endpoint = sbx_ynode_get(ssh, "endpoint");
	if (endpoint && sbx_check_string(d, path, endpoint, ssh, "spec.ssh.endpoint", false) < 0) {
		*r = SBX_EINVAL;
	} else if (endpoint && endpoint->len) {
		const char *colon = strrchr(endpoint->value, ':');
		char *end;
		long port = colon ? strtol(colon + 1, &end, 10) : 0;

		if (!colon || colon == endpoint->value || !colon[1] || *end || port < 1 || port > 65535)
			*r = sbx_check_error(d, path, endpoint, "'spec.ssh.endpoint' must be "
					     "\"host:port\", not '%s'", endpoint->value);
		else {
			free(p->ssh_endpoint);
			if (!(p->ssh_endpoint = strdup(endpoint->value)))
				*r = SBX_ENOMEM;
		}
	}
}

static void read_deletion(sbx_diags *d, const char *path, const sbx_ynode *del, sbx_policy *p, int *r)
{
	static const char *const known[] = { "gracePeriod", "maxPrunePercent", NULL };
	const sbx_ynode *grace, *prune;
	long long v;

	if (!del)
		return;
	if (sbx_check_map(d, path, del, NULL, "spec.deletion") < 0) {
		*r = SBX_EINVAL;
		return;
	}
	if (sbx_check_known_fields(d, path, del, "spec.deletion", known) < 0)
		*r = SBX_EINVAL;
	grace = sbx_ynode_get(del, "gracePeriod");
	if (grace && (grace->kind != SBX_YNODE_SCALAR ||
		      sbx_duration_parse(&p->grace_period_s, grace->value) < 0))
		*r = sbx_check_error(d, path, grace, "'spec.deletion.gracePeriod' must be a duration "
				     "such as \"72h\", \"1h30m\" or \"90s\"");
	prune = sbx_ynode_get(del, "maxPrunePercent");
	if (prune) {
		if (sbx_ynode_int(&v, prune) < 0 || v < 0 || v > 100)
			*r = sbx_check_error(d, path, prune, "'spec.deletion.maxPrunePercent' must be an "
					     "integer from 0 to 100");
		else
			p->max_prune_percent = (int)v;
	}
}

/* spec.idle: when an unused sandbox is scaled to zero (absent: never). */
static void read_idle(sbx_diags *d, const char *path, const sbx_ynode *idle, sbx_policy *p, int *r)
{
	static const char *const known[] = { "suspendAfter", NULL };
	const sbx_ynode *after;

	if (!idle)
		return;
	if (sbx_check_map(d, path, idle, NULL, "spec.idle") < 0) {
		*r = SBX_EINVAL;
		return;
	}
	if (sbx_check_known_fields(d, path, idle, "spec.idle", known) < 0)
		*r = SBX_EINVAL;
	after = sbx_ynode_get(idle, "suspendAfter");
	if (after && sbx_check_idle_after(d, path, after, "spec.idle.suspendAfter",
					  &p->idle_after_s) < 0)
		*r = SBX_EINVAL;
}

/* Sizes must fit the caps, and the default size must exist. */
static void check_sizes(sbx_diags *d, const char *path, const sbx_ynode *spec, sbx_policy *p, int *r)
{
	for (size_t i = 0; i < p->nsizes; i++) {
		const sbx_named_resources *s = &p->sizes[i];
		struct { const char *f; const sbx_quantity *v, *cap; bool has; int line; } c[] = {
			{ "cpu", &s->r.cpu, &p->limits.cpu, p->limits.has_cpu, s->r.line_cpu },
			{ "memory", &s->r.memory, &p->limits.memory, p->limits.has_memory, s->r.line_memory },
			{ "storage", &s->r.storage, &p->limits.storage, p->limits.has_storage, s->r.line_storage },
		};

		for (size_t k = 0; k < 3; k++) {
			sbx_buf a = SBX_BUF_INIT, b = SBX_BUF_INIT;

			if (!c[k].has || sbx_quantity_cmp(c[k].v, c[k].cap) <= 0)
				continue;
			sbx_quantity_format(&a, c[k].v);
			sbx_quantity_format(&b, c[k].cap);
			sbx_diag_add(d, path, c[k].line, 1, "size '%s' has %s %s, above the cap "
				     "spec.limits.%s of %s", s->name, c[k].f, sbx_buf_cstr(&a), c[k].f,
				     sbx_buf_cstr(&b));
			*r = SBX_EINVAL;
			sbx_buf_dispose(&a);
			sbx_buf_dispose(&b);
		}
	}
	if (p->default_size && p->nsizes && !sbx_policy_size(p, p->default_size))
		*r = sbx_check_error(d, path, sbx_ynode_get(spec, "defaultSize"),
				     "defaultSize '%s' is not one of spec.sizes", p->default_size);
}

static int init_defaults(sbx_policy *p)
{
	p->namespace_prefix = strdup("sbx-");
	p->ssh_endpoint = strdup("");
	p->min_rsa_bits = DEFAULT_MIN_RSA_BITS;
	p->grace_period_s = DEFAULT_GRACE_S;
	p->max_prune_percent = DEFAULT_MAX_PRUNE;
	return p->namespace_prefix && p->ssh_endpoint ? 0 : SBX_ENOMEM;
}

int sbx_policy_parse(sbx_policy **out, const char *path, const char *data, size_t len,
		     sbx_diags *diags)
{
	static const char *const top[] = { "apiVersion", "kind", "metadata", "spec", NULL };
	static const char *const fields[] = { "namespacePrefix", "defaultSize", "sizes", "limits",
		"overrides", "budget", "images", "ssh", "deletion", "idle", NULL };
	sbx_ynode *root = NULL;
	const sbx_ynode *spec, *n;
	sbx_policy *p = NULL;
	int r;

	r = sbx_yaml_load(&root, path, data, len, diags);
	if (r < 0)
		goto done;
	if (!root || root->kind != SBX_YNODE_MAP) {
		r = sbx_check_error(diags, path, root, "a policy file must be a mapping with "
				    "apiVersion, kind and spec");
		goto done;
	}
	p = calloc(1, sizeof(*p));
	if (!p || init_defaults(p) < 0 || !(p->path = strdup(path))) {
		r = sbx_error_set(SBX_ENOMEM, "out of memory");
		goto done;
	}
	sbx_check_known_fields(diags, path, root, "the policy", top);
	sbx_check_header(diags, path, root, "Policy");
	spec = sbx_ynode_get(root, "spec");
	if (sbx_check_map(diags, path, spec, root, "spec") < 0)
		goto check;
	sbx_check_known_fields(diags, path, spec, "spec", fields);

	n = sbx_ynode_get(spec, "namespacePrefix");
	if (n && sbx_check_string(diags, path, n, spec, "spec.namespacePrefix", false) == 0) {
		bool ok = n->len <= MAX_PREFIX;

		for (size_t i = 0; ok && i < n->len; i++)
			ok = (n->value[i] >= 'a' && n->value[i] <= 'z') ||
			     (n->value[i] >= '0' && n->value[i] <= '9') || (n->value[i] == '-' && i > 0);
		if (!ok)
			sbx_check_error(diags, path, n, "'spec.namespacePrefix' must be at most %d "
					"lowercase letters, digits or '-' and start with a letter or "
					"digit, not '%s'", MAX_PREFIX, n->value);
		free(p->namespace_prefix);
		if (!(p->namespace_prefix = strdup(n->value))) {
			r = sbx_error_set(SBX_ENOMEM, "out of memory");
			goto done;
		}
	}
	n = sbx_ynode_get(spec, "sizes");
	if (sbx_check_map(diags, path, n, spec, "spec.sizes") == 0) {
		if (parse_named(diags, path, n, "spec.sizes", true, &p->sizes, &p->nsizes) == SBX_ENOMEM) {
			r = SBX_ENOMEM;
			goto done;
		}
		if (n->count == 0)
			sbx_check_error(diags, path, n, "'spec.sizes' must define at least one size");
	}
	n = sbx_ynode_get(spec, "defaultSize");
	if (sbx_check_string(diags, path, n, spec, "spec.defaultSize", true) == 0 &&
	    !(p->default_size = dup_value(n, NULL))) {
		r = sbx_error_set(SBX_ENOMEM, "out of memory");
		goto done;
	}
	n = sbx_ynode_get(spec, "limits");
	if (n)
		sbx_check_resources(diags, path, n, "spec.limits", false, &p->limits);
	n = sbx_ynode_get(spec, "overrides");
	if (n && parse_named(diags, path, n, "spec.overrides", false, &p->overrides, &p->noverrides) ==
			 SBX_ENOMEM) {
		r = SBX_ENOMEM;
		goto done;
	}
	n = sbx_ynode_get(spec, "budget");
	if (n)
		sbx_check_resources(diags, path, n, "spec.budget", false, &p->budget);
	copy_images(diags, path, spec, p, &r);
	read_ssh(diags, path, sbx_ynode_get(spec, "ssh"), p, &r);
	read_deletion(diags, path, sbx_ynode_get(spec, "deletion"), p, &r);
	read_idle(diags, path, sbx_ynode_get(spec, "idle"), p, &r);
	check_sizes(diags, path, spec, p, &r);
	if (r == SBX_ENOMEM || diags->oom) {
		r = sbx_error_set(SBX_ENOMEM, "out of memory");
		goto done;
	}
check:
	r = 0;
	for (size_t i = 0; i < diags->count; i++)
		if (strcmp(diags->items[i].path, path) == 0)
			r = SBX_EINVAL;
done:
	sbx_ynode_free(root);
	if (r == 0)
		*out = p;
	else
		sbx_policy_free(p);
	return r;
}

int sbx_policy_default(sbx_policy **out)
{
	static const char text[] =
		"apiVersion: sandbox.dev/v1alpha1\n"
		"kind: Policy\n"
		"spec:\n"
		"  defaultSize: small\n"
		"  sizes:\n"
		"    small: {cpu: \"1\", memory: 2Gi, storage: 10Gi}\n"
		"  images: {default: \"debian:12\"}\n";
	sbx_diags d = SBX_DIAGS_INIT;
	int r = sbx_policy_parse(out, "<built-in policy>", text, sizeof(text) - 1, &d);

	sbx_diags_dispose(&d);
	return r;
}

const sbx_named_resources *sbx_policy_size(const sbx_policy *p, const char *name)
{
	for (size_t i = 0; i < p->nsizes; i++)
		if (strcmp(p->sizes[i].name, name) == 0)
			return &p->sizes[i];
	return NULL;
}

const sbx_named_resources *sbx_policy_override(const sbx_policy *p, const char *name)
{
	for (size_t i = 0; i < p->noverrides; i++)
		if (strcmp(p->overrides[i].name, name) == 0)
			return &p->overrides[i];
	return NULL;
}

bool sbx_policy_image_allowed(const sbx_policy *p, const char *image)
{
	if (p->image_default && strcmp(image, p->image_default) == 0)
		return true;
	for (size_t i = 0; i < p->nimages_allowed; i++)
		if (fnmatch(p->images_allowed[i], image, 0) == 0)
			return true;
	return false;
}

int sbx_policy_resolve(sbx_effective *out, const sbx_policy *p, const sbx_spec *s,
		       sbx_diags *diags)
{
	const sbx_named_resources *size, *ovr;
	sbx_effective e = { 0 };
	int r = 0;

	e.size = s->size ? s->size : p->default_size;
	size = e.size ? sbx_policy_size(p, e.size) : NULL;
	if (!size)
		return sbx_diag_add(diags, s->path, s->size_line ? s->size_line : 1,
				    s->size_col ? s->size_col : 1, "size '%s' is not defined in the "
				    "policy", e.size ? e.size : "");
	e.size = size->name;
	e.idle_after_s = s->idle_after_s >= 0 ? s->idle_after_s : p->idle_after_s;
	ovr = sbx_policy_override(p, s->name);
	e.workload = size->r;
	e.workload.line_cpu = e.workload.line_memory = e.workload.line_storage = 0;

	struct {
		const char *field;
		sbx_quantity *work, *quota;
		bool *work_has, *quota_has;
		const sbx_quantity *dev, *over, *cap;
		bool dev_has, over_has, cap_has;
		int line;
	} f[] = {
		{ "cpu", &e.workload.cpu, &e.quota.cpu, &e.workload.has_cpu, &e.quota.has_cpu,
		  &s->resources.cpu, ovr ? &ovr->r.cpu : NULL, &p->limits.cpu,
		  s->resources.has_cpu, ovr && ovr->r.has_cpu, p->limits.has_cpu, s->resources.line_cpu },
		{ "memory", &e.workload.memory, &e.quota.memory, &e.workload.has_memory,
		  &e.quota.has_memory, &s->resources.memory, ovr ? &ovr->r.memory : NULL,
		  &p->limits.memory, s->resources.has_memory, ovr && ovr->r.has_memory,
		  p->limits.has_memory, s->resources.line_memory },
		{ "storage", &e.workload.storage, &e.quota.storage, &e.workload.has_storage,
		  &e.quota.has_storage, &s->resources.storage, ovr ? &ovr->r.storage : NULL,
		  &p->limits.storage, s->resources.has_storage, ovr && ovr->r.has_storage,
		  p->limits.has_storage, s->resources.line_storage },
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		const sbx_quantity *cap = f[i].over_has ? f[i].over : f[i].cap_has ? f[i].cap : NULL;

		if (f[i].dev_has) {
			*f[i].work = *f[i].dev;
			*f[i].work_has = true;
		}
		*f[i].quota = f[i].over_has ? *f[i].over : *f[i].work;
		*f[i].quota_has = true;
		if (cap && sbx_quantity_cmp(f[i].work, cap) > 0) {
			sbx_buf a = SBX_BUF_INIT, b = SBX_BUF_INIT;

			sbx_quantity_format(&a, f[i].work);
			sbx_quantity_format(&b, cap);
			sbx_diag_add(diags, s->path, f[i].line ? f[i].line : s->size_line ? s->size_line : 1,
				     1, "sandbox '%s' asks for %s %s, above its cap of %s (spec.%s%s.%s in "
				     "the policy); ask the SRE team for an override", s->name, f[i].field,
				     sbx_buf_cstr(&a), sbx_buf_cstr(&b), f[i].over_has ? "overrides." : "limits",
				     f[i].over_has ? s->name : "", f[i].field);
			sbx_buf_dispose(&a);
			sbx_buf_dispose(&b);
			r = SBX_EINVAL;
		}
	}
	if (r == 0)
		*out = e;
	return r;
}

static void free_named(sbx_named_resources *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i].name);
	free(list);
}

void sbx_policy_free(sbx_policy *p)
{
	if (!p)
		return;
	free(p->path);
	free(p->namespace_prefix);
	free(p->default_size);
	free_named(p->sizes, p->nsizes);
	free_named(p->overrides, p->noverrides);
	free(p->image_default);
	for (size_t i = 0; i < p->nimages_allowed; i++)
		free(p->images_allowed[i]);
	free(p->images_allowed);
	free(p->ssh_endpoint);
	free(p);
}
