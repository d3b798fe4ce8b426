// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for the YAML loader: any bytes must load or be
 * rejected with diagnostics, never crash, leak or hang.
 */
#include <stddef.h>
#include <stdint.h>

#include "yamlfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_ynode *root = NULL;

	if (sbx_yaml_load(&root, "fuzz.yaml", (const char *)data, size, &d) == 0) {
		(void)sbx_ynode_type(root);
		sbx_ynode_free(root);
	} else if (d.count == 0 && !d.oom) {
		__builtin_trap(); /* a rejection must say why */
	}
	sbx_diags_dispose(&d);
	return 0;
}
