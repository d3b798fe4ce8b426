/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Format-keeping YAML edits: set or remove one value in a developer file or
 * the policy and leave every other byte (comments, key order, blank lines,
 * indentation, quoting) as it was. Used by the CLI's editing commands.
 */
#ifndef SBX_YAMLEDIT_H
#define SBX_YAMLEDIT_H

#include <stddef.h>

#include "buf.h"

/* Set the scalar at `path` (depth keys from the root mapping) to `value`.
 * Missing keys along the path are created (block style under a block
 * mapping, flow style inside a flow mapping). Returns 0 (doc edited in
 * place), SBX_EINVAL when the document does not parse or a node on the path
 * is not a mapping / the target is not a scalar (message in sbx_error_last()),
 * or SBX_ENOMEM.
 *
 * `doc` holds the whole file (it must load with sbx_yaml_load: at most
 * SBX_YAML_MAX_BYTES, valid UTF-8, no anchors, tags or duplicate keys) and
 * is replaced only on success; on failure it is untouched. `path` and
 * `value` are borrowed; 1 <= depth <= SBX_YAML_MAX_DEPTH. An existing
 * scalar keeps its quote style where the new value allows it; a plain one
 * stays plain only when it reads back as the same string, else it is
 * double-quoted. The result is checked before it is handed back: it loads,
 * `path` reads back as the string `value`, and nothing else changed. */
int sbx_yaml_edit_set(sbx_buf *doc, const char *const *path, size_t depth, const char *value);

/* Remove the pair at `path`. A mapping left empty by the removal (other than
 * the root) is removed with its key too. Removing a missing key is a no-op
 * that returns 0. Same errors as above.
 *
 * In a block mapping the pair's whole lines go (key line through the last
 * line of its value, with their trailing comments); comment lines before
 * the key and after the value stay. In a flow mapping the entry goes with
 * its separating comma. Ownership and checks as for sbx_yaml_edit_set. */
int sbx_yaml_edit_remove(sbx_buf *doc, const char *const *path, size_t depth);

#endif
