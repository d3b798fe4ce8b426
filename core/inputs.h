/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The inputs hash of a sandbox: what one revision gives it to render (the
 * policy, the templates and its own file, or what stands for the file:
 * absent, refused). The controller records it in status.inputsHash; the
 * CLI computes it from the remote's head to tell whether the controller
 * has applied what git says. The policy and templates are hashed once per
 * revision, then each sandbox's file on top.
 */
#ifndef SBX_INPUTS_H
#define SBX_INPUTS_H

#include <stddef.h>

#include "git.h"

typedef struct sbx_inputs sbx_inputs;

/* Hash f's policy and templates. Returns NULL on out of memory. */
sbx_inputs *sbx_inputs_new(const sbx_git_files *f);

/* The hash (16 hex digits) of one sandbox: `what` is "file" with the
 * file's bytes, or the reason there is none ("absent", a refusal). out is
 * "" on failure. */
void sbx_inputs_hash(char out[17], const sbx_inputs *in, const char *what, const char *data,
		     size_t len);

void sbx_inputs_free(sbx_inputs *in);

#endif
