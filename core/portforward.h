/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A TCP connection to a pod's port through the API server: the
 * pods/portforward subresource over WebSocket (subprotocol
 * v4.channel.k8s.io, as kubelet's streaming server speaks it), with the
 * caller's own credentials. See docs/internals/portforward.md.
 */
#ifndef SBX_PORTFORWARD_H
#define SBX_PORTFORWARD_H

#include "kubeconfig.h"

typedef struct sbx_portforward sbx_portforward;

/* Connect to port `port` of pod ns/pod through the API server of cfg
 * (borrowed; must outlive the forward). Returns 0 and *out (caller must
 * sbx_portforward_free), or SBX_EFORBIDDEN / SBX_ENOTFOUND /
 * SBX_ETRANSPORT / SBX_EINVAL with the reason in sbx_error_last(). */
int sbx_portforward_open(sbx_portforward **out, sbx_kube_config *cfg, const char *ns,
			 const char *pod, int port);

/* Copy what arrives on in_fd to the pod's port and what the port sends to
 * out_fd, until either side ends. Returns 0 when one side closed, or a
 * negative SBX_E* (the error channel's message, a broken connection). */
int sbx_portforward_pump(sbx_portforward *pf, int in_fd, int out_fd);

/* Close (a WebSocket close frame, then the connection) and free. NULL-safe. */
void sbx_portforward_free(sbx_portforward *pf);

#endif
