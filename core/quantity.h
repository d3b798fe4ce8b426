/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kubernetes resource.Quantity: parse, exact compare, add and canonical
 * formatting with the API server's semantics ("1000m" == "1", "1Gi" != "1G",
 * "1.5Gi" prints as "1536Mi").
 */
#ifndef SBX_QUANTITY_H
#define SBX_QUANTITY_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

typedef enum sbx_quantity_fmt {
	SBX_QUANTITY_DECIMAL_SI,   /* n, u, m, "", k, M, G, T, P, E */
	SBX_QUANTITY_BINARY_SI,    /* Ki, Mi, Gi, Ti, Pi, Ei */
	SBX_QUANTITY_DECIMAL_EXP,  /* e3, E-6 ... */
} sbx_quantity_fmt;

/* An exact value: unscaled * 10^scale, plus the suffix family it was
 * written in (which decides how it prints). Plain value type: copy freely. */
typedef struct sbx_quantity {
	int64_t unscaled;
	int32_t scale;
	sbx_quantity_fmt format;
} sbx_quantity;

/* Parse a quantity string ("500m", "2Gi", "1.5", "1e3"). Returns 0, or
 * SBX_EINVAL for bad syntax and SBX_ERANGE for a value that does not fit,
 * with the reason in sbx_error_last(). *out is set only on success. */
int sbx_quantity_parse(sbx_quantity *out, const char *s);

/* Like sbx_quantity_parse, for places where a size is expected: also
 * rejects negative values (SBX_ERANGE). */
int sbx_quantity_parse_size(sbx_quantity *out, const char *s);

/* Exact comparison of the values: <0, 0, >0. */
int sbx_quantity_cmp(const sbx_quantity *a, const sbx_quantity *b);

/* out = a + b, exactly; the result keeps a's format, or b's when a is zero
 * (as Kubernetes does). SBX_ERANGE on overflow (out unchanged). */
int sbx_quantity_add(sbx_quantity *out, const sbx_quantity *a, const sbx_quantity *b);

/* Whether the value is below zero / exactly zero. */
bool sbx_quantity_is_negative(const sbx_quantity *q);
bool sbx_quantity_is_zero(const sbx_quantity *q);

/* Append the canonical string, as Kubernetes prints it, to out. */
int sbx_quantity_format(sbx_buf *out, const sbx_quantity *q);

/* The value in milli-units rounded up, as Quantity.MilliValue() does;
 * SBX_ERANGE if it does not fit in int64. */
int sbx_quantity_milli(int64_t *out, const sbx_quantity *q);

#endif
