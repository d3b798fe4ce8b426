// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for the kubeconfig loader: the input is one kubeconfig
 * file (written to a private temporary file, as the loader reads paths),
 * loaded for its current context with exec plugins and insecure TLS
 * refused, as the controller loads one. It must load or fail with an
 * error, never crash; a loaded config must name a server.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "error.h"
#include "kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	sbx_kubeconfig_options o = SBX_KUBECONFIG_OPTIONS_INIT;
	sbx_kube_config *c = NULL;
	FILE *f;

	if (!path[0]) {
		snprintf(path, sizeof(path), "/tmp/fuzz-kubeconfig-%ld.yaml", (long)getpid());
		unsetenv("KUBECONFIG");
	}
	f = fopen(path, "wb");
	if (!f)
		__builtin_trap();
	if (size && fwrite(data, 1, size, f) != size)
		__builtin_trap();
	fclose(f);
	o.paths = path;
	if (sbx_kubeconfig_load(&c, &o) == 0) {
		if (!c || !c->server)
			__builtin_trap();
		sbx_kube_config_free(c);
	} else if (!*sbx_error_last()) {
		__builtin_trap(); /* a failure always says why */
	}
	sbx_error_clear();
	return 0;
}
