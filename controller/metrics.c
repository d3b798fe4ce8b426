// SPDX-License-Identifier: Apache-2.0
/*
 * The Prometheus registry behind /metrics: families in registration order,
 * each holding its series in first-seen order with a hash index over the
 * label values, written out in the text exposition format 0.0.4.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "metrics.h"

/*
 * Each family keeps at most MAX_SERIES series. An update that would create
 * one more is dropped and counted; once anything was dropped the registry
 * writes DROPPED_NAME (a counter) after all registered families.
 */
#define MAX_SERIES 10000
#define DROPPED_NAME "sandbox_metrics_dropped_series_total"
#define DROPPED_HELP "Updates dropped because their metric family already had 10000 series."

typedef struct series {
	uint64_t hash;
	double value;      /* counter, gauge */
	double sum;        /* histogram */
	uint64_t count;    /* histogram */
	uint64_t *counts;  /* histogram: per bucket (not cumulative), last is +Inf */
	char **values;     /* one per label */
} series;

struct metric {
	metrics *owner;
	metric *next;
	metric_type type;
	const char *name;
	const char *help;
	const char **labels;   /* nlabels names (static strings) */
	size_t nlabels;
	double *buckets;       /* nbuckets upper bounds, +Inf implied */
	size_t nbuckets;
	series **series;       /* first-seen order */
	size_t nseries, series_cap;
	uint32_t *index;       /* open addressing: series position + 1, 0 empty */
	size_t index_cap;      /* power of two, or 0 */
};

struct metrics {
	metric *head, *tail;
	uint64_t dropped;
};

metrics *metrics_new(void)
{
	return calloc(1, sizeof(metrics));
}

static void free_series(metric *f)
{
	size_t i;

	for (i = 0; i < f->nseries; i++)
		free(f->series[i]);
	free(f->series);
	free(f->index);
	f->series = NULL;
	f->index = NULL;
	f->nseries = f->series_cap = f->index_cap = 0;
}

void metrics_free(metrics *m)
{
	metric *f, *next;

	if (!m)
		return;
	for (f = m->head; f; f = next) {
		next = f->next;
		free_series(f);
		free(f->labels);
		free(f->buckets);
		free(f);
	}
	free(m);
}

static bool valid_name(const char *s, bool colon)
{
	size_t i;

	if (!s || !*s)
		return false;
	for (i = 0; s[i]; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			  (colon && c == ':') || (i > 0 && c >= '0' && c <= '9');

		if (!ok)
			return false;
	}
	return true;
}

static int check_family(const metrics *m, metric_type type, const char *name,
			const char *const *labels, const double *buckets, size_t nbuckets)
{
	const metric *f;
	size_t i, j;

	if (type != METRIC_COUNTER && type != METRIC_GAUGE && type != METRIC_HISTOGRAM)
		return sbx_error_set(SBX_EUSAGE, "metric '%s' has an unknown type", name ? name : "");
	if (!valid_name(name, true) || strcmp(name, DROPPED_NAME) == 0)
		return sbx_error_set(SBX_EUSAGE, "invalid metric name '%s'", name ? name : "");
	for (f = m->head; f; f = f->next)
		if (strcmp(f->name, name) == 0)
			return sbx_error_set(SBX_EUSAGE, "metric '%s' registered twice", name);
	for (i = 0; labels && labels[i]; i++) {
		if (!valid_name(labels[i], false) || strncmp(labels[i], "__", 2) == 0 ||
		    (type == METRIC_HISTOGRAM && strcmp(labels[i], "le") == 0))
			return sbx_error_set(SBX_EUSAGE, "metric '%s' has an invalid label name '%s'",
					     name, labels[i]);
		for (j = 0; j < i; j++)
			if (strcmp(labels[i], labels[j]) == 0)
				return sbx_error_set(SBX_EUSAGE, "metric '%s' repeats label '%s'",
						     name, labels[i]);
	}
	if (type != METRIC_HISTOGRAM)
		return 0;
	if (nbuckets && !buckets)
		return sbx_error_set(SBX_EUSAGE, "histogram '%s' has no bucket list", name);
	for (i = 0; i < nbuckets; i++)
		if (!isfinite(buckets[i]) || (i > 0 && !(buckets[i] > buckets[i - 1])))
			return sbx_error_set(SBX_EUSAGE,
					     "histogram '%s' buckets must be finite and increasing", name);
	return 0;
}

static series *find_or_add(metric *f, const char *const *values);

metric *metrics_add(metrics *m, metric_type type, const char *name, const char *help,
		    const char *const *labels, const double *buckets, size_t nbuckets)
{
	metric *f = NULL, *result = NULL;
	size_t n = 0;

	if (!m) {
		sbx_error_set(SBX_EUSAGE, "no metrics registry");
		goto done;
	}
	if (check_family(m, type, name, labels, buckets, nbuckets) < 0)
		goto done;
	while (labels && labels[n])
		n++;
	f = calloc(1, sizeof(*f));
	if (!f || (n && !(f->labels = calloc(n, sizeof(*f->labels))))) {
		sbx_error_set(SBX_ENOMEM, "out of memory");
		goto done;
	}
	if (n)
		memcpy(f->labels, labels, n * sizeof(*f->labels));
	f->nlabels = n;
	f->owner = m;
	f->type = type;
	f->name = name;
	f->help = help;
	if (type == METRIC_HISTOGRAM && nbuckets) {
		f->buckets = malloc(nbuckets * sizeof(*f->buckets));
		if (!f->buckets) {
			sbx_error_set(SBX_ENOMEM, "out of memory");
			goto done;
		}
		memcpy(f->buckets, buckets, nbuckets * sizeof(*f->buckets));
		f->nbuckets = nbuckets;
	}
	/* A family without labels has its one series from the start, at zero. */
	if (n == 0 && !find_or_add(f, NULL)) {
		sbx_error_set(SBX_ENOMEM, "out of memory");
		goto done;
	}
	if (m->tail)
		m->tail->next = f;
	else
		m->head = f;
	m->tail = f;
	result = f;
	f = NULL;
done:
	if (f) {
		free_series(f);
		free(f->labels);
		free(f->buckets);
		free(f);
	}
	return result;
}

static const char *value_at(const char *const *values, size_t i)
{
	return values && values[i] ? values[i] : "";
}

static uint64_t hash_values(const metric *f, const char *const *values)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < f->nlabels; i++) {
		const unsigned char *p = (const unsigned char *)value_at(values, i);

		for (; *p; p++)
			h = (h ^ *p) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
	}
	return h;
}

static bool same_values(const metric *f, const series *s, const char *const *values)
{
	size_t i;

	for (i = 0; i < f->nlabels; i++)
		if (strcmp(s->values[i], value_at(values, i)) != 0)
			return false;
	return true;
}

static void index_insert(uint32_t *index, size_t cap, uint64_t hash, uint32_t pos)
{
	size_t i = (size_t)hash & (cap - 1);

	while (index[i])
		i = (i + 1) & (cap - 1);
	index[i] = pos + 1;
}

static int grow_index(metric *f)
{
	size_t cap = f->index_cap ? f->index_cap * 2 : 16, i;
	uint32_t *index = calloc(cap, sizeof(*index));

	if (!index)
		return SBX_ENOMEM;
	for (i = 0; i < f->nseries; i++)
		index_insert(index, cap, f->series[i]->hash, (uint32_t)i);
	free(f->index);
	f->index = index;
	f->index_cap = cap;
	return 0;
}

/* One allocation: the struct, the bucket counts, the value pointers, then
 * the value strings. */
static series *new_series(const metric *f, const char *const *values, uint64_t hash)
{
	size_t nb = f->type == METRIC_HISTOGRAM ? f->nbuckets + 1 : 0;
	size_t size = sizeof(series) + nb * sizeof(uint64_t) + f->nlabels * sizeof(char *);
	size_t i, len;
	series *s;
	char *p;

	for (i = 0; i < f->nlabels; i++)
		size += strlen(value_at(values, i)) + 1;
	s = calloc(1, size);
	if (!s)
		return NULL;
	s->hash = hash;
	s->counts = nb ? (uint64_t *)(s + 1) : NULL;
	s->values = (char **)((char *)(s + 1) + nb * sizeof(uint64_t));
	p = (char *)(s->values + f->nlabels);
	for (i = 0; i < f->nlabels; i++) {
		len = strlen(value_at(values, i)) + 1;
		memcpy(p, value_at(values, i), len);
		s->values[i] = p;
		p += len;
	}
	return s;
}

/* The series for these label values, created on first use; NULL when out of
 * memory or when the family is full (then the update is counted as dropped). */
static series *find_or_add(metric *f, const char *const *values)
{
	uint64_t hash = hash_values(f, values);
	series *s, **grown;
	size_t i;

	if (f->index_cap) {
		for (i = (size_t)hash & (f->index_cap - 1); f->index[i]; i = (i + 1) & (f->index_cap - 1)) {
			s = f->series[f->index[i] - 1];
			if (s->hash == hash && same_values(f, s, values))
				return s;
		}
	}
	if (f->nseries >= MAX_SERIES) {
		f->owner->dropped++;
		return NULL;
	}
	if (f->nseries == f->series_cap) {
		size_t cap = f->series_cap ? f->series_cap * 2 : 8;

		grown = realloc(f->series, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		f->series = grown;
		f->series_cap = cap;
	}
	if ((f->nseries + 1) * 2 > f->index_cap && grow_index(f) < 0)
		return NULL;
	s = new_series(f, values, hash);
	if (!s)
		return NULL;
	f->series[f->nseries] = s;
	index_insert(f->index, f->index_cap, hash, (uint32_t)f->nseries);
	f->nseries++;
	return s;
}

/* Counters only go up: a negative or NaN increment is ignored. On a gauge
 * any finite or infinite step applies. Ignored for histograms. */
void metric_inc(metric *f, const char *const *values, double by)
{
	series *s;

	if (!f || f->type == METRIC_HISTOGRAM)
		return;
	if (f->type == METRIC_COUNTER && !(by >= 0))
		return;
	s = find_or_add(f, values);
	if (s)
		s->value += by;
}

/* Works for gauges and counters (a counter mirrored from elsewhere);
 * ignored for histograms. */
void metric_set(metric *f, const char *const *values, double value)
{
	series *s;

	if (!f || f->type == METRIC_HISTOGRAM)
		return;
	s = find_or_add(f, values);
	if (s)
		s->value = value;
}

/* Ignored unless the family is a histogram. A NaN lands in +Inf only. */
void metric_observe(metric *f, const char *const *values, double value)
{
	series *s;
	size_t i;

	if (!f || f->type != METRIC_HISTOGRAM)
		return;
	s = find_or_add(f, values);
	if (!s)
		return;
	for (i = 0; i < f->nbuckets; i++)
		if (value <= f->buckets[i])
			break;
	s->counts[i]++;
	s->count++;
	s->sum += value;
}

void metric_reset(metric *f)
{
	if (!f || f->type != METRIC_GAUGE)
		return;
	free_series(f);
}

/* Shortest of %.15g, %.16g, %.17g that reads back as the same double;
 * integers below 2^53 plainly, and Prometheus' spellings of NaN and Inf. */
static void put_number(sbx_buf *out, double v)
{
	char tmp[40];
	int prec;

	if (isnan(v)) {
		sbx_buf_puts(out, "NaN");
		return;
	}
	if (isinf(v)) {
		sbx_buf_puts(out, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == 0) {
		sbx_buf_putc(out, '0');
		return;
	}
	if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double)(long long)v) {
		sbx_buf_printf(out, "%lld", (long long)v);
		return;
	}
	for (prec = 15; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	if (prec == 17)
		snprintf(tmp, sizeof(tmp), "%.17g", v);
	sbx_buf_puts(out, tmp);
}

static void put_escaped(sbx_buf *out, const char *s, bool quote)
{
	const char *run = s;

	for (; *s; s++) {
		const char *rep = NULL;

		if (*s == '\\')
			rep = "\\\\";
		else if (*s == '\n')
			rep = "\\n";
		else if (quote && *s == '"')
			rep = "\\\"";
		if (!rep)
			continue;
		sbx_buf_put(out, run, (size_t)(s - run));
		sbx_buf_puts(out, rep);
		run = s + 1;
	}
	sbx_buf_put(out, run, (size_t)(s - run));
}

/* name{a="x",b="y",le="0.5"} value, braces left out when there is nothing
 * inside them. `le` is NULL except for histogram buckets. */
static void put_line(sbx_buf *out, const metric *f, const char *suffix, const series *s,
		     const double *le, double value)
{
	size_t i;

	sbx_buf_puts(out, f->name);
	sbx_buf_puts(out, suffix);
	if (f->nlabels || le) {
		sbx_buf_putc(out, '{');
		for (i = 0; i < f->nlabels; i++) {
			if (i)
				sbx_buf_putc(out, ',');
			sbx_buf_puts(out, f->labels[i]);
			sbx_buf_puts(out, "=\"");
			put_escaped(out, s->values[i], true);
			sbx_buf_putc(out, '"');
		}
		if (le) {
			if (f->nlabels)
				sbx_buf_putc(out, ',');
			sbx_buf_puts(out, "le=\"");
			put_number(out, *le);
			sbx_buf_putc(out, '"');
		}
		sbx_buf_putc(out, '}');
	}
	sbx_buf_putc(out, ' ');
	put_number(out, value);
	sbx_buf_putc(out, '\n');
}

static void put_header(sbx_buf *out, const char *name, const char *help, const char *type)
{
	if (help) {
		sbx_buf_printf(out, "# HELP %s ", name);
		put_escaped(out, help, false);
		sbx_buf_putc(out, '\n');
	}
	sbx_buf_printf(out, "# TYPE %s %s\n", name, type);
}

static void write_family(sbx_buf *out, const metric *f)
{
	static const char *const types[] = { "counter", "gauge", "histogram" };
	const double inf = INFINITY;
	uint64_t cum;
	size_t i, j;

	if (!f->nseries)
		return;
	put_header(out, f->name, f->help, types[f->type]);
	for (i = 0; i < f->nseries; i++) {
		const series *s = f->series[i];

		if (f->type != METRIC_HISTOGRAM) {
			put_line(out, f, "", s, NULL, s->value);
			continue;
		}
		cum = 0;
		for (j = 0; j < f->nbuckets; j++) {
			cum += s->counts[j];
			put_line(out, f, "_bucket", s, &f->buckets[j], (double)cum);
		}
		put_line(out, f, "_bucket", s, &inf, (double)s->count);
		put_line(out, f, "_sum", s, NULL, s->sum);
		put_line(out, f, "_count", s, NULL, (double)s->count);
	}
}

int metrics_write(sbx_buf *out, const metrics *m)
{
	const metric *f;

	if (!out || !m)
		return sbx_error_set(SBX_EUSAGE, "no metrics registry or output buffer");
	for (f = m->head; f; f = f->next)
		write_family(out, f);
	if (m->dropped) {
		put_header(out, DROPPED_NAME, DROPPED_HELP, "counter");
		sbx_buf_printf(out, "%s %llu\n", DROPPED_NAME, (unsigned long long)m->dropped);
	}
	if (out->failed)
		return sbx_error_set(SBX_ENOMEM, "metrics output did not fit");
	return 0;
}
