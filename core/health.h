/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Health of live objects on an ordered scale (Healthy < Suspended <
 * Progressing < Missing < Degraded), gitops-engine style: a pure function
 * of each object, and the worst one wins for the sandbox.
 */
#ifndef SBX_HEALTH_H
#define SBX_HEALTH_H

#include <cjson/cJSON.h>

#include "buf.h"

typedef enum sbx_health {
	SBX_HEALTH_HEALTHY,
	SBX_HEALTH_SUSPENDED,
	SBX_HEALTH_PROGRESSING,
	SBX_HEALTH_MISSING,
	SBX_HEALTH_DEGRADED,
} sbx_health;

/* The health of one live object (NULL: Missing). A reason for people is
 * appended to why (may be NULL) when it is not Healthy, and for notes such
 * as a pending volume expansion. */
sbx_health sbx_health_of(const cJSON *live, sbx_buf *why);

/* "Healthy", "Suspended", ... Static string. */
const char *sbx_health_name(sbx_health h);

#endif
