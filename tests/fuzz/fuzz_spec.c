// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for Sandbox file validation against the built-in
 * policy, including rendering of every file that validates.
 */
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static sbx_policy *policy;
	sbx_diags d = SBX_DIAGS_INIT;
	sbx_spec *s = NULL;

	if (!policy && sbx_policy_default(&policy) < 0)
		__builtin_trap();
	if (sbx_spec_parse(&s, "sandboxes/alice.yaml", (const char *)data, size, policy, &d) == 0) {
		sbx_effective e;

		if (sbx_policy_resolve(&e, policy, s, &d) < 0)
			__builtin_trap(); /* parse already resolved it */
		sbx_spec_free(s);
	} else if (d.count == 0 && !d.oom) {
		__builtin_trap();
	}
	sbx_diags_dispose(&d);
	return 0;
}
