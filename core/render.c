// SPDX-License-Identifier: Apache-2.0
/*
 * Template rendering: YAML template trees -> cJSON objects with typed,
 * node-level substitution, then namespace, scope and tracking metadata
 * enforced on every object, sorted into apply waves. Also the YAML writer
 * used for `sandbox render -o yaml`.
 */
#include <math.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "kinds.h"
#include "render.h"
#include "yamlfile.h"

enum vtype { V_STR, V_INT, V_BOOL, V_LIST };

static const struct var {
	const char *name;
	enum vtype type;
} vars[] = {
	{ "name", V_STR }, { "namespace", V_STR }, { "owner", V_STR }, { "size", V_STR },
	{ "cpu", V_STR }, { "memory", V_STR }, { "storage", V_STR },
	{ "quota.cpu", V_STR }, { "quota.memory", V_STR }, { "quota.storage", V_STR },
	{ "image", V_STR }, { "replicas", V_INT }, { "suspended", V_BOOL },
	{ "authorizedKeys", V_STR }, { "sshKeys", V_LIST }, { "ports", V_LIST }, { "env", V_LIST },
};
#define NVARS (sizeof(vars) / sizeof(vars[0]))

struct tmpl {
	char *path;
	sbx_ynode *root;
	const sbx_kind *kind;
	char *name;   /* metadata.name as written (may hold placeholders) */
};

struct sbx_templates {
	struct tmpl *items;
	size_t count;
};

/* One placeholder found in a scalar. */
struct ref {
	const char *start;   /* at '$' */
	size_t len;          /* through '}' */
	const struct var *var;
	int base64;
};

static const struct var *find_var(const char *name, size_t len)
{
	for (size_t i = 0; i < NVARS; i++)
		if (strlen(vars[i].name) == len && memcmp(vars[i].name, name, len) == 0)
			return &vars[i];
	return NULL;
}

/* Scan s for the next "${...}" at or after *pos; "$${" is a literal "${".
 * Returns 1 with *ref filled, 0 at the end, -1 on a malformed or unknown
 * placeholder (message in *err, malloc'd). */
static int next_ref(const char *s, size_t *pos, struct ref *ref, char **err)
{
	const char *p = s + *pos, *end, *bar;
	sbx_buf msg = SBX_BUF_INIT;
	size_t nlen;

	for (;;) {
		p = strstr(p, "${");
		if (!p)
			return 0;
		if (p > s && p[-1] == '$') {
			p += 2;
			continue;
		}
		break;
	}
	end = strchr(p, '}');
	if (!end) {
		sbx_buf_printf(&msg, "unterminated placeholder '%.20s'", p);
		goto fail;
	}
	bar = memchr(p + 2, '|', (size_t)(end - p - 2));
	nlen = (size_t)((bar ? bar : end) - (p + 2));
	ref->start = p;
	ref->len = (size_t)(end - p + 1);
	ref->var = find_var(p + 2, nlen);
	ref->base64 = 0;
	if (!ref->var) {
		const char *names[NVARS + 1], *hint;
		char *word = strndup(p + 2, nlen);

		for (size_t i = 0; i < NVARS; i++)
			names[i] = vars[i].name;
		names[NVARS] = NULL;
		hint = word ? sbx_check_suggest(word, names) : NULL;
		sbx_buf_printf(&msg, "unknown variable '%s'%s%s%s", word ? word : "",
			       hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
		free(word);
		goto fail;
	}
	if (bar) {
		if ((size_t)(end - bar - 1) != 6 || memcmp(bar + 1, "base64", 6) != 0) {
			sbx_buf_printf(&msg, "unknown filter '%.*s' (the only filter is 'base64')",
				       (int)(end - bar - 1), bar + 1);
			goto fail;
		}
		if (ref->var->type != V_STR) {
			sbx_buf_printf(&msg, "filter 'base64' needs a string variable; '%s' is not one",
				       ref->var->name);
			goto fail;
		}
		ref->base64 = 1;
	}
	*pos = (size_t)(end - s + 1);
	return 1;
fail:
	*err = sbx_buf_take(&msg, NULL);
	return -1;
}

/* Check every placeholder in a template tree. */
static void check_tree(sbx_diags *d, const char *path, const sbx_ynode *n)
{
	if (n->kind == SBX_YNODE_SCALAR) {
		size_t pos = 0;
		struct ref ref;
		char *err = NULL;
		int r;

		while ((r = next_ref(n->value, &pos, &ref, &err)) == 1) {
			if (ref.var->type == V_LIST && !(ref.start == n->value && ref.len == n->len))
				sbx_check_error(d, path, n, "list variable '%s' must stand alone in its "
						"value", ref.var->name);
		}
		if (r < 0) {
			sbx_check_error(d, path, n, "%s", err);
			free(err);
		}
		if (sbx_ynode_type(n) == SBX_YTYPE_FLOAT) {
			char *end;

			if (!isfinite(strtod(n->value, &end)) || *end)
				sbx_check_error(d, path, n, "'%s' is a number JSON cannot carry "
						"(no infinity, NaN or beyond 1.8e308); quote it to keep "
						"it as text", n->value);
		}
		return;
	}
	for (size_t i = 0; i < n->count; i++) {
		if (n->kind == SBX_YNODE_MAP && strstr(n->keys[i]->value, "${"))
			sbx_check_error(d, path, n->keys[i], "placeholders are not allowed in keys");
		check_tree(d, path, n->items[i]);
	}
}

static void free_tmpl(struct tmpl *t)
{
	free(t->path);
	free(t->name);
	sbx_ynode_free(t->root);
}

int sbx_templates_load(sbx_templates **out, const sbx_file *files, size_t nfiles,
		       sbx_diags *diags)
{
	sbx_templates *t = calloc(1, sizeof(*t));
	size_t before = diags->count;
	int r = 0;

	if (!t || !(t->items = calloc(nfiles ? nfiles : 1, sizeof(*t->items)))) {
		free(t);
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < nfiles; i++) {
		const char *path = files[i].path;
		sbx_ynode *root = NULL;
		const sbx_ynode *av, *kind, *meta, *name, *ns;
		static const char *const top[] = { "apiVersion", "kind", "metadata", "spec", "data",
			"stringData", "type", "rules", "subjects", "roleRef", "immutable", NULL };

		int lr = sbx_yaml_load(&root, path, files[i].data, files[i].len, diags);

		if (lr == SBX_ENOMEM) {
			r = lr;
			break;
		}
		if (lr < 0)
			continue;
		if (!root || root->kind != SBX_YNODE_MAP) {
			sbx_check_error(diags, path, root, "a template must be one Kubernetes object "
					"(a mapping with apiVersion, kind and metadata)");
			sbx_ynode_free(root);
			continue;
		}
		sbx_check_known_fields(diags, path, root, "the template", top);
		av = sbx_ynode_get(root, "apiVersion");
		kind = sbx_ynode_get(root, "kind");
		meta = sbx_ynode_get(root, "metadata");
		if (sbx_check_string(diags, path, av, root, "apiVersion", true) < 0 ||
		    sbx_check_string(diags, path, kind, root, "kind", true) < 0 ||
		    sbx_check_map(diags, path, meta, root, "metadata") < 0) {
			sbx_ynode_free(root);
			continue;
		}
		name = sbx_ynode_get(meta, "name");
		if (sbx_check_string(diags, path, name, meta, "metadata.name", true) < 0) {
			sbx_ynode_free(root);
			continue;
		}
		t->items[t->count].kind = sbx_kind_lookup(av->value, kind->value);
		if (t->items[t->count].kind && !strcmp(kind->value, "Lease")) {
			/* watched and applied like the others, but made only by the
			 * controller, whose rights on Leases stop at that one name */
			sbx_check_error(diags, path, kind, "kind 'Lease' is the controller's own (the "
					"activity Lease of idle suspension); templates may not render it");
			sbx_ynode_free(root);
			continue;
		}
		if (!t->items[t->count].kind) {
			if (sbx_kind_is_cluster_scoped(kind->value))
				sbx_check_error(diags, path, kind, "kind '%s' is cluster-scoped; templates "
						"may render only namespaced kinds and the Namespace",
						kind->value);
			else
				sbx_check_error(diags, path, kind, "kind '%s' (apiVersion '%s') is not one "
						"sandbox renders", kind->value, av->value);
			sbx_ynode_free(root);
			continue;
		}
		ns = sbx_ynode_get(meta, "namespace");
		if (ns && !t->items[t->count].kind->namespaced)
			sbx_check_error(diags, path, ns, "a %s has no namespace", kind->value);
		check_tree(diags, path, root);
		t->items[t->count].path = strdup(path);
		t->items[t->count].name = strdup(name->value);
		t->items[t->count].root = root;
		t->count++;
		if (!t->items[t->count - 1].path || !t->items[t->count - 1].name) {
			r = sbx_error_set(SBX_ENOMEM, "out of memory");
			break;
		}
	}
	if (r == 0 && diags->oom)
		r = sbx_error_set(SBX_ENOMEM, "out of memory");
	else if (r == 0 && diags->count > before)
		r = SBX_EINVAL;
	if (r == 0) {
		*out = t;
	} else {
		sbx_templates_free(t);
	}
	return r;
}

size_t sbx_templates_count(const sbx_templates *t)
{
	return t->count;
}

void sbx_templates_free(sbx_templates *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->count; i++)
		free_tmpl(&t->items[i]);
	free(t->items);
	free(t);
}

int sbx_render_namespace(sbx_buf *out, const sbx_policy *p, const char *name)
{
	return sbx_buf_printf(out, "%s%s", p->namespace_prefix, name);
}

/* ---- values ---------------------------------------------------------- */

/* Add item to obj under key (to an array when key is NULL); item NULL, or
 * a failed add, clears *ok (the item is freed). Returns item, or NULL. */
static cJSON *add_item(cJSON *obj, const char *key, cJSON *item, bool *ok)
{
	if (item && obj && (key ? cJSON_AddItemToObject(obj, key, item) :
			    cJSON_AddItemToArray(obj, item)))
		return item;
	cJSON_Delete(item);
	*ok = false;
	return NULL;
}

static void add_buf_string(cJSON *obj, const char *key, const sbx_buf *b, bool *ok)
{
	add_item(obj, key, b->failed ? NULL : cJSON_CreateString(sbx_buf_cstr(b)), ok);
}

static void add_quantity(cJSON *v, const char *key, const sbx_quantity *q, bool *ok)
{
	sbx_buf b = SBX_BUF_INIT;

	sbx_quantity_format(&b, q);
	add_buf_string(v, key, &b, ok);
	sbx_buf_dispose(&b);
}

static cJSON *make_values(const sbx_policy *p, const sbx_spec *s, const sbx_effective *e, bool asleep)
{
	cJSON *v = cJSON_CreateObject(), *list;
	sbx_buf b = SBX_BUF_INIT;
	bool ok = v != NULL;

	add_item(v, "name", cJSON_CreateString(s->name), &ok);
	sbx_render_namespace(&b, p, s->name);
	add_buf_string(v, "namespace", &b, &ok);
	add_item(v, "owner", cJSON_CreateString(s->owner), &ok);
	add_item(v, "size", cJSON_CreateString(e->size), &ok);
	add_quantity(v, "cpu", &e->workload.cpu, &ok);
	add_quantity(v, "memory", &e->workload.memory, &ok);
	add_quantity(v, "storage", &e->workload.storage, &ok);
	add_quantity(v, "quota.cpu", &e->quota.cpu, &ok);
	add_quantity(v, "quota.memory", &e->quota.memory, &ok);
	add_quantity(v, "quota.storage", &e->quota.storage, &ok);
	add_item(v, "image", cJSON_CreateString(s->image ? s->image : p->image_default), &ok);
	add_item(v, "replicas", cJSON_CreateNumber(s->suspended || asleep ? 0 : 1), &ok);
	add_item(v, "suspended", cJSON_CreateBool(s->suspended), &ok);

	sbx_buf_clear(&b);
	list = add_item(v, "sshKeys", cJSON_CreateArray(), &ok);
	for (size_t i = 0; i < s->nkeys; i++) {
		sbx_buf line = SBX_BUF_INIT;

		if (sbx_sshkey_format(&line, &s->keys[i]) < 0)
			ok = false;
		add_buf_string(list, NULL, &line, &ok);
		sbx_buf_printf(&b, "%s\n", sbx_buf_cstr(&line));
		sbx_buf_dispose(&line);
	}
	add_buf_string(v, "authorizedKeys", &b, &ok);

	list = add_item(v, "ports", cJSON_CreateArray(), &ok);
	for (size_t i = 0; i < s->nports; i++) {
		cJSON *port = add_item(list, NULL, cJSON_CreateObject(), &ok);

		sbx_buf_clear(&b);
		sbx_buf_printf(&b, "p%d", s->ports[i]);
		add_buf_string(port, "name", &b, &ok);
		add_item(port, "containerPort", cJSON_CreateNumber(s->ports[i]), &ok);
		add_item(port, "protocol", cJSON_CreateString("TCP"), &ok);
	}
	list = add_item(v, "env", cJSON_CreateArray(), &ok);
	for (size_t i = 0; i < s->nenv; i++) {
		cJSON *var = add_item(list, NULL, cJSON_CreateObject(), &ok);

		add_item(var, "name", cJSON_CreateString(s->env[i].name), &ok);
		add_item(var, "value", cJSON_CreateString(s->env[i].value), &ok);
	}
	sbx_buf_dispose(&b);
	if (!ok) {
		cJSON_Delete(v);
		return NULL;
	}
	return v;
}

static int base64(sbx_buf *out, const char *s, size_t len)
{
	size_t n = 4 * ((len + 2) / 3) + 1;
	unsigned char *tmp = malloc(n);
	int r;

	if (!tmp)
		return SBX_ENOMEM;
	EVP_EncodeBlock(tmp, (const unsigned char *)s, (int)len);
	r = sbx_buf_puts(out, (const char *)tmp);
	free(tmp);
	return r;
}

static cJSON *value_of(const cJSON *values, const struct ref *ref)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(values, ref->var->name);

	if (ref->base64) {
		sbx_buf b = SBX_BUF_INIT;
		cJSON *s;

		s = base64(&b, v->valuestring, strlen(v->valuestring)) < 0 ? NULL :
		    cJSON_CreateString(sbx_buf_cstr(&b));
		sbx_buf_dispose(&b);
		return s;
	}
	return cJSON_Duplicate(v, 1);
}

/* A number as YAML and JSON read it back: an integer without a point. */
static void put_number(sbx_buf *b, double d)
{
	if (d >= -0x1p63 && d < 0x1p63 && d == (double)(long long)d)
		sbx_buf_printf(b, "%lld", (long long)d);
	else
		sbx_buf_printf(b, "%.17g", d);
}

static void append_text(sbx_buf *b, const cJSON *v)
{
	if (cJSON_IsString(v))
		sbx_buf_puts(b, v->valuestring);
	else if (cJSON_IsBool(v))
		sbx_buf_puts(b, cJSON_IsTrue(v) ? "true" : "false");
	else if (cJSON_IsNumber(v))
		put_number(b, v->valuedouble);
}

/* Literal text of a scalar with "$${" unescaped, typed as YAML would. */
static cJSON *literal(const sbx_ynode *n)
{
	sbx_buf b = SBX_BUF_INIT;
	cJSON *out = NULL;

	if (memchr(n->value, '$', n->len)) {
		for (const char *p = n->value; *p; p++)
			if (!(p[0] == '$' && p[1] == '$' && p[2] == '{'))
				sbx_buf_putc(&b, *p);
		out = b.failed ? NULL : cJSON_CreateString(sbx_buf_cstr(&b));
		goto done;
	}
	if (n->quoted) {
		out = cJSON_CreateString(n->value);
		goto done;
	}
	switch (sbx_yaml_resolve_plain(n->value)) {
	case SBX_YTYPE_NULL:
		out = cJSON_CreateNull();
		break;
	case SBX_YTYPE_BOOL:
		out = cJSON_CreateBool(n->value[0] == 't' || n->value[0] == 'T');
		break;
	case SBX_YTYPE_INT: {
		long long v;

		sbx_ynode_int(&v, n);
		out = cJSON_CreateNumber((double)v);
		break;
	}
	case SBX_YTYPE_FLOAT:
		out = cJSON_CreateNumber(strtod(n->value, NULL));
		break;
	default:
		out = cJSON_CreateString(n->value);
	}
done:
	sbx_buf_dispose(&b);
	return out;
}

/* Substitute into one scalar: a placeholder standing alone yields the typed
 * value, placeholders inside text yield a string. */
static cJSON *subst_scalar(const sbx_ynode *n, const cJSON *values)
{
	sbx_buf b = SBX_BUF_INIT;
	size_t pos = 0, last = 0;
	struct ref ref;
	char *err = NULL;
	int refs = 0;
	cJSON *out;

	if (!memchr(n->value, '$', n->len))
		return literal(n);
	while (next_ref(n->value, &pos, &ref, &err) == 1) {
		if (ref.start == n->value && ref.len == n->len) {
			cJSON *v = value_of(values, &ref);

			if (!n->quoted || !v || cJSON_IsString(v) || cJSON_IsArray(v))
				return v;
			/* quoting asks for a string: "${replicas}" is "1" */
			append_text(&b, v);
			cJSON_Delete(v);
			out = b.failed ? NULL : cJSON_CreateString(sbx_buf_cstr(&b));
			sbx_buf_dispose(&b);
			return out;
		}
		for (const char *p = n->value + last; p < ref.start; p++)
			if (!(p[0] == '$' && p[1] == '$' && p[2] == '{'))
				sbx_buf_putc(&b, *p);
		if (ref.base64) {
			cJSON *v = value_of(values, &ref);

			if (!v) {
				sbx_buf_dispose(&b);
				free(err);
				return NULL;
			}
			append_text(&b, v);
			cJSON_Delete(v);
		} else {
			append_text(&b, cJSON_GetObjectItemCaseSensitive(values, ref.var->name));
		}
		last = pos;
		refs++;
	}
	free(err);
	if (!refs) {
		sbx_buf_dispose(&b);
		return literal(n);
	}
	for (const char *p = n->value + last; *p; p++)
		if (!(p[0] == '$' && p[1] == '$' && p[2] == '{'))
			sbx_buf_putc(&b, *p);
	out = b.failed ? NULL : cJSON_CreateString(sbx_buf_cstr(&b));
	sbx_buf_dispose(&b);
	return out;
}

static cJSON *subst(const sbx_ynode *n, const cJSON *values)
{
	cJSON *out;

	if (n->kind == SBX_YNODE_SCALAR)
		return subst_scalar(n, values);
	out = n->kind == SBX_YNODE_MAP ? cJSON_CreateObject() : cJSON_CreateArray();
	for (size_t i = 0; out && i < n->count; i++) {
		cJSON *child = subst(n->items[i], values);

		if (!child) {
			cJSON_Delete(out);
			return NULL;
		}
		if (n->kind == SBX_YNODE_MAP) {
			if (!cJSON_AddItemToObject(out, n->keys[i]->value, child)) {
				cJSON_Delete(child);
				cJSON_Delete(out);
				return NULL;
			}
		} else if (cJSON_IsArray(child) && n->items[i]->kind == SBX_YNODE_SCALAR) {
			/* a list variable standing alone in a sequence item: splice */
			while (child->child)
				cJSON_AddItemToArray(out, cJSON_DetachItemViaPointer(child, child->child));
			cJSON_Delete(child);
		} else {
			cJSON_AddItemToArray(out, child);
		}
	}
	return out;
}

/* ---- metadata enforcement -------------------------------------------- */

/* The object under key, made when missing or not an object; NULL when
 * out of memory (or parent is NULL). */
static cJSON *ensure_object(cJSON *parent, const char *key)
{
	cJSON *o = cJSON_GetObjectItemCaseSensitive(parent, key);

	if (!parent || cJSON_IsObject(o))
		return o;
	if (o)
		cJSON_DeleteItemFromObjectCaseSensitive(parent, key);
	return cJSON_AddObjectToObject(parent, key);
}

/* obj[key] = value, in place when key is there. 0, or SBX_ENOMEM (also
 * when obj is NULL: an ensure_object that failed). */
static int set_string(cJSON *obj, const char *key, const char *value)
{
	cJSON *s = obj ? cJSON_CreateString(value) : NULL;

	if (s && (cJSON_GetObjectItemCaseSensitive(obj, key) ?
		  cJSON_ReplaceItemInObjectCaseSensitive(obj, key, s) :
		  cJSON_AddItemToObject(obj, key, s)))
		return 0;
	cJSON_Delete(s);
	return SBX_ENOMEM;
}

static const char *str_at(const cJSON *obj, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsString(v) ? v->valuestring : "";
}

int sbx_render_tracking_id(sbx_buf *out, const char *instance, const cJSON *obj)
{
	const char *av = str_at(obj, "apiVersion", NULL), *slash = strchr(av, '/');

	return sbx_buf_printf(out, "%s:%.*s/%s:%s/%s", instance, slash ? (int)(slash - av) : 0, av,
			      str_at(obj, "kind", NULL), str_at(obj, "metadata", "namespace"),
			      str_at(obj, "metadata", "name"));
}

int sbx_render_mark(cJSON *obj, const char *instance, const char *sandbox)
{
	cJSON *meta = ensure_object(obj, "metadata");
	sbx_buf id = SBX_BUF_INIT;
	int r;

	r = set_string(ensure_object(meta, "labels"), SBX_LABEL_MANAGED_BY, SBX_MANAGER);
	if (r == 0 && sandbox)
		r = set_string(ensure_object(meta, "labels"), SBX_LABEL_NAME, sandbox);
	sbx_render_tracking_id(&id, instance, obj);
	if (r == 0 && !id.failed)
		r = set_string(ensure_object(meta, "annotations"), SBX_ANNOTATION_TRACKING,
			       sbx_buf_cstr(&id));
	if (r < 0 || id.failed)
		r = sbx_error_set(SBX_ENOMEM, "out of memory");
	sbx_buf_dispose(&id);
	return r;
}

static int finish_object(cJSON *obj, const struct tmpl *t, const char *ns, const char *name,
			 const char *instance, sbx_diags *d)
{
	cJSON *meta = ensure_object(obj, "metadata");
	const cJSON *oname = cJSON_GetObjectItemCaseSensitive(meta, "name");
	const cJSON *ons = cJSON_GetObjectItemCaseSensitive(meta, "namespace");

	if (!meta)
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	if (!cJSON_IsString(oname) || !sbx_is_dns_label(oname->valuestring, 63)) {
		return sbx_check_error(d, t->path, t->root, "metadata.name must render to a DNS-1123 "
				       "label");
	}

	if (t->kind->namespaced) {
		if (ons && (!cJSON_IsString(ons) || strcmp(ons->valuestring, ns) != 0))
			return sbx_check_error(d, t->path, t->root, "the template renders into namespace "
					       "'%s', not the sandbox's namespace '%s'",
					       cJSON_IsString(ons) ? ons->valuestring : "?", ns);
		if (set_string(meta, "namespace", ns) < 0)
			return sbx_error_set(SBX_ENOMEM, "out of memory");
	} else if (strcmp(oname->valuestring, ns) != 0) {
		return sbx_check_error(d, t->path, t->root, "the Namespace must be named '%s' "
				       "(use ${namespace})", ns);
	} else {
		cJSON_DeleteItemFromObjectCaseSensitive(meta, "namespace");
	}
	return sbx_render_mark(obj, instance, name);
}

struct rendered {
	cJSON *obj;
	const struct tmpl *t;
};

static int cmp_rendered(const void *a, const void *b)
{
	const struct rendered *x = a, *y = b;
	int c;

	if (x->t->kind->wave != y->t->kind->wave)
		return x->t->kind->wave < y->t->kind->wave ? -1 : 1;
	c = strcmp(x->t->kind->kind, y->t->kind->kind);
	if (c)
		return c;
	return strcmp(cJSON_GetObjectItem(cJSON_GetObjectItem(x->obj, "metadata"), "name")->valuestring,
		      cJSON_GetObjectItem(cJSON_GetObjectItem(y->obj, "metadata"), "name")->valuestring);
}

int sbx_render(cJSON **out, const sbx_templates *t, const sbx_policy *p, const sbx_spec *s,
	       const sbx_render_options *opts, sbx_diags *diags)
{
	const char *instance = opts && opts->instance ? opts->instance : SBX_MANAGER;
	struct rendered *objs = calloc(t->count ? t->count : 1, sizeof(*objs));
	cJSON *values = NULL, *list = NULL;
	sbx_effective e;
	size_t before = diags->count, n = 0;
	int r = 0, fr;

	if (!objs)
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	r = sbx_policy_resolve(&e, p, s, diags);
	if (r < 0)
		goto done;
	values = make_values(p, s, &e, opts && opts->asleep);
	if (!values) {
		r = sbx_error_set(SBX_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < t->count; i++) {
		cJSON *obj = subst(t->items[i].root, values);

		if (!obj) {
			r = sbx_error_set(SBX_ENOMEM, "out of memory");
			goto done;
		}
		objs[n].obj = obj;
		objs[n].t = &t->items[i];
		n++;
		fr = finish_object(obj, &t->items[i], cJSON_GetObjectItem(values, "namespace")->valuestring,
				   s->name, instance, diags);
		if (fr == SBX_ENOMEM) {
			r = fr;
			goto done;
		}
		if (fr < 0)
			r = SBX_EINVAL;
	}
	if (r < 0 || diags->count > before)
		goto done;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (objs[i].t->kind == objs[j].t->kind &&
			    cmp_rendered(&objs[i], &objs[j]) == 0)
				r = sbx_check_error(diags, objs[j].t->path, objs[j].t->root,
						    "renders the same %s as '%s'", objs[j].t->kind->kind,
						    objs[i].t->path);
	if (r < 0)
		goto done;
	qsort(objs, n, sizeof(*objs), cmp_rendered);
	list = cJSON_CreateArray();
	if (!list) {
		r = sbx_error_set(SBX_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		cJSON_AddItemToArray(list, objs[i].obj);
		objs[i].obj = NULL;
	}
done:
	for (size_t i = 0; i < n; i++)
		cJSON_Delete(objs[i].obj);
	free(objs);
	cJSON_Delete(values);
	if (r == 0 && diags->count > before)
		r = SBX_EINVAL;
	if (r == 0)
		*out = list;
	else
		cJSON_Delete(list);
	return r;
}

/* ---- YAML writer ----------------------------------------------------- */

/* YAML 1.1 readers (kubectl among them) take these words for booleans. */
static int needs_quotes(const char *s)
{
	static const char *const yaml11_bools[] = { "y", "Y", "yes", "Yes", "YES", "n", "N",
		"no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", NULL };
	char c = s[0];

	if (sbx_yaml_resolve_plain(s) != SBX_YTYPE_STR)
		return 1;
	if (!strchr("yYnNoO", c))
		return 0;
	for (const char *const *w = yaml11_bools; *w; w++)
		if (strcmp(s, *w) == 0)
			return 1;
	return 0;
}

/* The escape of the character at p when YAML cannot carry it as it is
 * (libyaml reads NEL, LS and PS as line breaks, and refuses C1 controls,
 * a byte order mark and U+FFFE/U+FFFF), and its length in *len; NULL for
 * any other character. ASCII controls are escaped by put_string. */
static const char *unicode_escape(const unsigned char *p, size_t *len, char esc[8])
{
	*len = 2;
	if (p[0] == 0xC2 && p[1] == 0x85)
		return "\\N";
	if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {
		snprintf(esc, 8, "\\x%02x", p[1]);
		return esc;
	}
	*len = 3;
	if (p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9))
		return p[2] == 0xA8 ? "\\L" : "\\P";
	if (p[0] == 0xEF && ((p[1] == 0xBB && p[2] == 0xBF) || (p[1] == 0xBF && p[2] >= 0xBE))) {
		snprintf(esc, 8, "\\u%04X", (p[0] & 0x0F) << 12 | (p[1] & 0x3F) << 6 | (p[2] & 0x3F));
		return esc;
	}
	return NULL;
}

/* Whether s can be written plain and read back as the same string. */
static int plain_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || needs_quotes(s) || s[n - 1] == ' ' || s[n - 1] == ':')
		return 0;
	if (strchr(",[]{}#&*!|>'\"%@` \t", s[0]))
		return 0;
	if (strchr("-?:", s[0]) && (s[1] == ' ' || s[1] == '\0'))
		return 0;
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		size_t len;
		char esc[8];

		if (c < 0x20 || c == 0x7f)
			return 0;
		if (c >= 0x80 && unicode_escape((const unsigned char *)p, &len, esc))
			return 0;
		if ((c == ':' && (p[1] == ' ' || p[1] == '\0')) || (c == '#' && p > s && p[-1] == ' '))
			return 0;
	}
	return 1;
}

static void put_string(sbx_buf *b, const char *s)
{
	if (plain_ok(s)) {
		sbx_buf_puts(b, s);
		return;
	}
	sbx_buf_putc(b, '"');
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		const char *u;
		size_t len;
		char esc[8];

		if (c >= 0x80 && (u = unicode_escape((const unsigned char *)p, &len, esc))) {
			sbx_buf_puts(b, u);
			p += len - 1;
			continue;
		}
		switch (c) {
		case '"': sbx_buf_puts(b, "\\\""); break;
		case '\\': sbx_buf_puts(b, "\\\\"); break;
		case '\n': sbx_buf_puts(b, "\\n"); break;
		case '\t': sbx_buf_puts(b, "\\t"); break;
		case '\r': sbx_buf_puts(b, "\\r"); break;
		default:
			if (c < 0x20 || c == 0x7f)
				sbx_buf_printf(b, "\\x%02x", c);
			else
				sbx_buf_putc(b, (char)c);
		}
	}
	sbx_buf_putc(b, '"');
}

static void put_scalar(sbx_buf *b, const cJSON *v)
{
	if (cJSON_IsString(v))
		put_string(b, v->valuestring);
	else if (cJSON_IsBool(v))
		sbx_buf_puts(b, cJSON_IsTrue(v) ? "true" : "false");
	else if (cJSON_IsNumber(v))
		put_number(b, v->valuedouble);
	else if (cJSON_IsObject(v))
		sbx_buf_puts(b, "{}");
	else if (cJSON_IsArray(v))
		sbx_buf_puts(b, "[]");
	else
		sbx_buf_puts(b, "null");
}

static void indent(sbx_buf *b, int n)
{
	static const char spaces[] = "                                                                ";

	for (; n > 64; n -= 64)
		sbx_buf_put(b, spaces, 64);
	sbx_buf_put(b, spaces, (size_t)n);
}

static int is_block(const cJSON *v)
{
	return (cJSON_IsObject(v) || cJSON_IsArray(v)) && v->child;
}

static void write_seq(sbx_buf *b, const cJSON *v, int col, int inline_first);

/* A block mapping whose keys start at column col; the first key follows
 * "- " on the current line when inline_first is set. */
static void write_map(sbx_buf *b, const cJSON *v, int col, int inline_first)
{
	for (const cJSON *c = v->child; c; c = c->next) {
		if (!(inline_first && c == v->child))
			indent(b, col);
		put_string(b, c->string);
		sbx_buf_putc(b, ':');
		if (cJSON_IsObject(c) && c->child) {
			sbx_buf_putc(b, '\n');
			write_map(b, c, col + 2, 0);
		} else if (cJSON_IsArray(c) && c->child) {
			sbx_buf_putc(b, '\n');
			write_seq(b, c, col, 0);   /* sequences sit at their key's column */
		} else {
			sbx_buf_putc(b, ' ');
			put_scalar(b, c);
			sbx_buf_putc(b, '\n');
		}
	}
}

static void write_seq(sbx_buf *b, const cJSON *v, int col, int inline_first)
{
	for (const cJSON *c = v->child; c; c = c->next) {
		if (!(inline_first && c == v->child))
			indent(b, col);
		sbx_buf_puts(b, "- ");
		if (cJSON_IsObject(c) && c->child) {
			write_map(b, c, col + 2, 1);
		} else if (cJSON_IsArray(c) && c->child) {
			write_seq(b, c, col + 2, 1);
		} else {
			put_scalar(b, c);
			sbx_buf_putc(b, '\n');
		}
	}
}

static void write_document(sbx_buf *out, const cJSON *obj)
{
	if (is_block(obj) && cJSON_IsObject(obj))
		write_map(out, obj, 0, 0);
	else if (is_block(obj))
		write_seq(out, obj, 0, 0);
	else {
		put_scalar(out, obj);
		sbx_buf_putc(out, '\n');
	}
}

int sbx_render_yaml(sbx_buf *out, const cJSON *obj)
{
	write_document(out, obj);
	return out->failed ? sbx_error_set(SBX_ENOMEM, "could not write YAML") : 0;
}

int sbx_render_yaml_documents(sbx_buf *out, const cJSON *objs)
{
	for (const cJSON *obj = objs->child; obj; obj = obj->next) {
		sbx_buf_puts(out, "---\n");
		write_document(out, obj);
	}
	return out->failed ? sbx_error_set(SBX_ENOMEM, "could not write YAML") : 0;
}
