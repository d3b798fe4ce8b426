// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for the format-keeping YAML editor (what `sandbox
 * resize` and `quota set` do to files from the repository): the first
 * byte picks an edit, the rest is the document. An edit that succeeds
 * must leave a document that loads and holds the value set (the editor
 * checks this itself; a failure to is a bug: trap).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "yamledit.h"
#include "yamlfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
	const char *path[3];
	size_t depth;
	const char *value; /* NULL: remove */
} edits[] = {
	{ { "spec", "size", NULL }, 2, "large" },
	{ { "spec", "resources", "cpu" }, 3, "4" },
	{ { "spec", "resources", "storage" }, 3, "100Gi" },
	{ { "spec", "image", NULL }, 2, NULL },
	{ { "spec", "overrides", "alice" }, 3, NULL },
	{ { "metadata", "name", NULL }, 2, "it's \"quoted\": yes" },
	{ { "spec", "suspended", NULL }, 2, "true" },
	{ { "a", NULL, NULL }, 1, "" },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sbx_buf doc = SBX_BUF_INIT;
	size_t e;
	int r;

	if (size < 1)
		return 0;
	e = data[0] % (sizeof(edits) / sizeof(edits[0]));
	sbx_buf_init(&doc, (size_t)4 << 20);
	sbx_buf_put(&doc, data + 1, size - 1);
	if (doc.failed) {
		sbx_buf_dispose(&doc);
		return 0;
	}
	r = edits[e].value ? sbx_yaml_edit_set(&doc, edits[e].path, edits[e].depth, edits[e].value)
			   : sbx_yaml_edit_remove(&doc, edits[e].path, edits[e].depth);
	if (r == 0) {
		/* what the editor handed back must load */
		sbx_ynode *root = NULL;
		sbx_diags d = SBX_DIAGS_INIT;

		if (sbx_yaml_load(&root, "f.yaml", doc.ptr, doc.len, &d) < 0 && !d.oom)
			__builtin_trap();
		sbx_ynode_free(root);
		sbx_diags_dispose(&d);
	}
	sbx_buf_dispose(&doc);
	return 0;
}
