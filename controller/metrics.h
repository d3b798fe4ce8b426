/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small Prometheus registry: counters, gauges and histograms with up to
 * three labels, written in the text exposition format for /metrics.
 * Single-threaded: updated and read from the controller's loop only.
 */
#ifndef SBX_CONTROLLER_METRICS_H
#define SBX_CONTROLLER_METRICS_H

#include <stddef.h>

#include "buf.h"

typedef struct metrics metrics;
typedef struct metric metric;

typedef enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM } metric_type;

/* A registry. Caller must metrics_free. NULL on out of memory. */
metrics *metrics_new(void);
void metrics_free(metrics *m);

/* Register a family. `labels` is a NULL-terminated list of label names (or
 * NULL); `buckets`/`nbuckets` are the upper bounds for a histogram (sorted,
 * +Inf implied). Returns a handle owned by the registry, NULL on failure.
 * Names and help text are static strings. */
metric *metrics_add(metrics *m, metric_type type, const char *name, const char *help,
		    const char *const *labels, const double *buckets, size_t nbuckets);

/* Update the series with the given label values (as many as the family
 * has labels; NULL when it has none). Values are copied. */
void metric_inc(metric *f, const char *const *values, double by);
void metric_set(metric *f, const char *const *values, double value);
void metric_observe(metric *f, const char *const *values, double value);

/* Drop every series of a gauge family (before re-setting all of them). */
void metric_reset(metric *f);

/* Append the whole registry in the Prometheus text format (version 0.0.4),
 * families in registration order, series in first-seen order. */
int metrics_write(sbx_buf *out, const metrics *m);

#endif
