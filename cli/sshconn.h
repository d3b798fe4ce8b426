/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The way to a sandbox's sshd, shared by `sandbox ssh` and `sandbox
 * doctor`: a socket through the API server's port-forward (a child process
 * pumps it into a socketpair) or to the policy's gateway, and key
 * authentication with ssh-agent or the usual key files.
 */
#ifndef SBX_CLI_SSHCONN_H
#define SBX_CLI_SSHCONN_H

#include <stdbool.h>
#include <sys/types.h>

#include <libssh/libssh.h>

#include "buf.h"
#include "kubeconfig.h"

/* SBX_SSHD_PORT (spec.h) of pod ns/pod through the port-forward, or the
 * gateway "host:port" when endpoint is one (status.ssh.endpoint; NULL or
 * "port-forward:..." mean the port-forward). Returns a socket, or -1 with
 * the reason in sbx_error_last(); *child is the pump's pid (0: none). */
int cli_ssh_transport(sbx_kube_config *kcfg, const char *endpoint, const char *ns, const char *pod,
		      pid_t *child);

/* Close the socket and reap the pump (killed when it lingers). */
void cli_ssh_transport_close(int fd, pid_t child);

/* A libssh session on the connected socket `sock` for sandbox `name`
 * (host alias sandbox-NAME, no ~/.ssh/config), logging in as user, each
 * network wait bounded by timeout_s. NULL on out of memory. Caller must
 * ssh_free. */
ssh_session cli_ssh_session(int sock, const char *name, const char *user, long timeout_s);

/* Authenticate s with key_file when given, else ssh-agent, then
 * ~/.ssh/id_ed25519, id_ecdsa, id_rsa. `tried` lists what was tried, each
 * named. A passphrase is asked for only on a terminal. */
bool cli_ssh_authenticate(ssh_session s, const char *key_file, sbx_buf *tried);

#endif
