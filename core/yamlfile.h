/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Safe YAML loading on libyaml: a small node tree with line:column on every
 * node. The loader enforces the input rules every file obeys (no anchors,
 * aliases or tags, no duplicate keys, one document, depth and size limits,
 * valid UTF-8) and reports every violation it can find, located.
 */
#ifndef SBX_YAMLFILE_H
#define SBX_YAMLFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

#define SBX_YAML_MAX_BYTES (256 * 1024)
#define SBX_YAML_MAX_DEPTH 32

typedef enum sbx_ynode_kind {
	SBX_YNODE_SCALAR,
	SBX_YNODE_MAP,
	SBX_YNODE_SEQ,
} sbx_ynode_kind;

/* How a plain scalar resolves under the YAML 1.2 core schema. Quoted and
 * block scalars are always SBX_YTYPE_STR. */
typedef enum sbx_ytype {
	SBX_YTYPE_NULL,
	SBX_YTYPE_BOOL,
	SBX_YTYPE_INT,
	SBX_YTYPE_FLOAT,
	SBX_YTYPE_STR,
	SBX_YTYPE_MAP,
	SBX_YTYPE_SEQ,
} sbx_ytype;

typedef struct sbx_ynode sbx_ynode;
struct sbx_ynode {
	sbx_ynode_kind kind;
	int line, col;        /* 1-based position of the node's first character */
	char *value;          /* scalar: NUL-terminated text (may hold no NUL) */
	size_t len;           /* scalar: length of value */
	bool quoted;          /* scalar: quoted, literal or folded style */
	size_t count;         /* map: pairs; seq: items */
	sbx_ynode **keys;     /* map: key scalars, in file order */
	sbx_ynode **items;    /* map: values; seq: items */
};

/* Parse `len` bytes of `data` (one file; `path` is only used in messages)
 * into a tree. Every rule violation found is appended to diags. Returns 0
 * and *out (NULL for an empty document; caller must sbx_ynode_free), or
 * SBX_EINVAL when diags received errors (*out untouched), or SBX_ENOMEM. */
int sbx_yaml_load(sbx_ynode **out, const char *path, const char *data, size_t len,
		  sbx_diags *diags);

/* Free a tree. NULL-safe. */
void sbx_ynode_free(sbx_ynode *n);

/* The value for `key` in map n, or NULL (also when n is not a map).
 * Borrowed from n. */
const sbx_ynode *sbx_ynode_get(const sbx_ynode *n, const char *key);

/* How the node resolves (see sbx_ytype). */
sbx_ytype sbx_ynode_type(const sbx_ynode *n);

/* How a plain (unquoted) scalar with this text resolves. */
sbx_ytype sbx_yaml_resolve_plain(const char *s);

/* A word for people: "a string", "a number", "a list", ... */
const char *sbx_ytype_name(sbx_ytype t);

/* Parse an integer scalar (decimal, 0x hex or 0o octal, as the core
 * schema does). Returns 0 or SBX_EINVAL when n is not an int. */
int sbx_ynode_int(long long *out, const sbx_ynode *n);

#endif
