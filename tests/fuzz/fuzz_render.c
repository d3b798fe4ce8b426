// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for rendering with hostile templates: the input is a
 * sandbox file and up to twelve object templates, separated by lines
 * "#---" (no separator: the input is one template, rendered for a fixed
 * sandbox). Templates must load or be refused with diagnostics; what
 * renders must carry its sandbox's labels and namespace; and every object
 * printed as YAML (`sandbox render -o yaml`) must read back as the same
 * object, so no value can change its type or add a key on the way out.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "render.h"
#include "spec.h"
#include "yamlfile.h"

#define SEPARATOR "\n#---\n"
#define MAX_TEMPLATES 12

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed_sandbox[] =
	"apiVersion: sandbox.dev/v1alpha1\nkind: Sandbox\nmetadata:\n  name: alice\nspec:\n"
	"  owner: alice@example.com\n  sshKeys:\n    - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHSoUIZel"
	"GdP3RrTnXJvKXYV93zRjcY9w6U3zg30UICA alice@laptop\n  env:\n    EDITOR: vim\n";

/* A YAML tree as JSON, scalars typed as the renderer types template text. */
static cJSON *to_json(const sbx_ynode *n)
{
	cJSON *out;

	if (!n)
		return cJSON_CreateNull();
	if (n->kind == SBX_YNODE_SCALAR) {
		long long v;

		if (n->quoted)
			return cJSON_CreateString(n->value);
		switch (sbx_ynode_type(n)) {
		case SBX_YTYPE_NULL:
			return cJSON_CreateNull();
		case SBX_YTYPE_BOOL:
			return cJSON_CreateBool(n->value[0] == 't' || n->value[0] == 'T');
		case SBX_YTYPE_INT:
			return sbx_ynode_int(&v, n) == 0 ? cJSON_CreateNumber((double)v) : NULL;
		case SBX_YTYPE_FLOAT:
			return cJSON_CreateNumber(strtod(n->value, NULL));
		default:
			return cJSON_CreateString(n->value);
		}
	}
	out = n->kind == SBX_YNODE_MAP ? cJSON_CreateObject() : cJSON_CreateArray();
	for (size_t i = 0; out && i < n->count; i++) {
		cJSON *child = to_json(n->items[i]);

		if (!child)
			__builtin_trap();
		if (n->kind == SBX_YNODE_MAP)
			cJSON_AddItemToObject(out, n->keys[i]->value, child);
		else
			cJSON_AddItemToArray(out, child);
	}
	return out;
}

static const char *string_at(const cJSON *obj, const char *a, const char *b, const char *c)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	if (c)
		v = cJSON_GetObjectItemCaseSensitive(v, c);
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* What rendered is the sandbox's, in its namespace, and prints as itself. */
static void check_object(const cJSON *obj, const sbx_spec *s, const char *ns)
{
	sbx_buf yaml = SBX_BUF_INIT;
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_ynode *root = NULL;
	cJSON *back;

	if (strcmp(string_at(obj, "metadata", "labels", SBX_LABEL_NAME), s->name) != 0 ||
	    strcmp(string_at(obj, "metadata", "labels", SBX_LABEL_MANAGED_BY), SBX_MANAGER) != 0)
		__builtin_trap();
	if (strcmp(string_at(obj, "kind", NULL, NULL), "Namespace") == 0 ?
	    strcmp(string_at(obj, "metadata", "name", NULL), ns) != 0 :
	    strcmp(string_at(obj, "metadata", "namespace", NULL), ns) != 0)
		__builtin_trap();
	if (sbx_render_yaml(&yaml, obj) < 0)
		__builtin_trap();
	if (sbx_yaml_load(&root, "rendered.yaml", yaml.ptr, yaml.len, &d) < 0)
		__builtin_trap();   /* what we print must read back */
	back = to_json(root);
	if (!cJSON_Compare(obj, back, 1))
		__builtin_trap();
	cJSON_Delete(back);
	sbx_ynode_free(root);
	sbx_diags_dispose(&d);
	sbx_buf_dispose(&yaml);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static sbx_policy *policy;
	sbx_file files[MAX_TEMPLATES];
	const char *in = (const char *)data, *end = in + size, *sep;
	const char *sandbox = fixed_sandbox;
	size_t sandbox_len = sizeof(fixed_sandbox) - 1, n = 0;
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_buf ns = SBX_BUF_INIT;
	sbx_templates *t = NULL;
	sbx_spec *s = NULL;
	cJSON *objs = NULL;
	const cJSON *o;

	if (!policy && sbx_policy_default(&policy) < 0)
		__builtin_trap();
	if ((sep = memmem(in, size, SEPARATOR, strlen(SEPARATOR)))) {
		sandbox = in;
		sandbox_len = (size_t)(sep - in);
		in = sep + strlen(SEPARATOR);
	}
	while (n < MAX_TEMPLATES && in <= end) {
		sep = memmem(in, (size_t)(end - in), SEPARATOR, strlen(SEPARATOR));
		files[n].path = "templates/fuzz.yaml";
		files[n].data = in;
		files[n].len = sep ? (size_t)(sep - in) : (size_t)(end - in);
		n++;
		if (!sep)
			break;
		in = sep + strlen(SEPARATOR);
	}
	if (sbx_spec_parse(&s, "sandboxes/alice.yaml", sandbox, sandbox_len, policy, &d) < 0)
		goto done;
	if (sbx_templates_load(&t, files, n, &d) < 0) {
		if (d.count == 0 && !d.oom)
			__builtin_trap();   /* a refusal must say why */
		goto done;
	}
	if (sbx_render(&objs, t, policy, s, NULL, &d) < 0) {
		if (d.count == 0 && !d.oom)
			__builtin_trap();
		goto done;
	}
	if (sbx_render_namespace(&ns, policy, s->name) < 0)
		__builtin_trap();
	cJSON_ArrayForEach(o, objs)
		check_object(o, s, sbx_buf_cstr(&ns));
done:
	sbx_buf_dispose(&ns);
	cJSON_Delete(objs);
	sbx_templates_free(t);
	sbx_spec_free(s);
	sbx_diags_dispose(&d);
	return 0;
}
