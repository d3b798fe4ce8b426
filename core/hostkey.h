/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SSH host keys for sandboxes: generated once per sandbox by the
 * controller (ed25519, libssh) and stored in the sandbox's ssh-host-key
 * Secret; the public half's fingerprint is what `sandbox ssh` pins.
 */
#ifndef SBX_HOSTKEY_H
#define SBX_HOSTKEY_H

#include <cjson/cJSON.h>

#include "buf.h"

#define SBX_HOSTKEY_SECRET "ssh-host-key"
#define SBX_HOSTKEY_PRIVATE "ssh_host_ed25519_key"
#define SBX_HOSTKEY_PUBLIC "ssh_host_ed25519_key.pub"

/* Generate an ed25519 key pair: *private_pem is the OpenSSH private key
 * file, *public_line the "ssh-ed25519 AAAA..." line. Caller must free both
 * (wipe the private key first). Returns 0 or SBX_EIO / SBX_ENOMEM. */
int sbx_hostkey_generate(char **private_pem, char **public_line);

/* The Secret object holding a new key pair for namespace ns, with the
 * tracking labels of sandbox `name` and tracking id `instance`. Caller must
 * cJSON_Delete. NULL on failure (reason in sbx_error_last()). */
cJSON *sbx_hostkey_secret(const char *ns, const char *name, const char *instance);

/* The "SHA256:..." fingerprint of the public key in such a Secret (live
 * object, base64 data), appended to out. Returns 0 or SBX_EINVAL. */
int sbx_hostkey_fingerprint(sbx_buf *out, const cJSON *secret);

/* Both halves of what `sandbox ssh` pins, from such a Secret: the public
 * key line ("ssh-ed25519 AAAA..." and its comment, if any) and its fingerprint, each
 * appended to its buffer when not NULL. Returns 0 or SBX_EINVAL. */
int sbx_hostkey_public(sbx_buf *line, sbx_buf *fingerprint, const cJSON *secret);

#endif
