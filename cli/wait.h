/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --wait: follow a pushed change through the controller and the cluster
 * (pushed -> seen -> applied -> scheduled -> running -> ready), printing
 * each step with its elapsed time, until ready, a failure the status
 * names, or the timeout.
 */
#ifndef SBX_CLI_WAIT_H
#define SBX_CLI_WAIT_H

#include <stdio.h>

#include "config.h"
#include "kubecli.h"

/* Wait for sandbox `name` to reach commit `oid` and be ready. `timeout` is
 * a duration ("90s", "5m", "1h"; NULL: 5m). Returns EXIT_OK when ready,
 * else prints the reason and returns EXIT_INVALID (EXIT_USAGE for a bad
 * timeout). */
int cli_wait(const cli_config *cfg, const char *name, const char *oid, const char *timeout);

/* Wait for sandbox `name`, suspended for idleness and just marked active,
 * to be woken by the controller and ready (woken -> scheduled -> running
 * -> ready), printing each step with its elapsed time to `out` (NULL:
 * quietly), for at most limit_s seconds. Returns EXIT_OK when ready, else
 * prints what it was waiting for and returns EXIT_INVALID. */
int cli_wake_wait(cli_kube *k, const char *name, long limit_s, FILE *out);

/* Parse a duration ("300", "90s", "5m", "2h") into seconds; -1 if invalid. */
long cli_duration(const char *s);

#endif
