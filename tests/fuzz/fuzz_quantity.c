// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for core/quantity.c: parse arbitrary bytes and, when
 * they parse, check that the canonical form parses back to an equal value
 * and settles after one step, and that compare, add and milli agree.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "quantity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sbx_buf text = SBX_BUF_INIT, again_text = SBX_BUF_INIT;
	sbx_quantity q, again, sum;
	char *s = malloc(size + 1);
	int64_t milli;
	int r;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	sbx_error_clear();
	r = sbx_quantity_parse(&q, s);
	if (r != 0) {
		if ((r != SBX_EINVAL && r != SBX_ERANGE) || sbx_error_last()[0] == '\0')
			abort();
		goto done;
	}
	if (sbx_quantity_format(&text, &q) != 0)
		abort();
	if (sbx_quantity_parse(&again, sbx_buf_cstr(&text)) != 0 ||
	    sbx_quantity_cmp(&q, &again) != 0 ||
	    sbx_quantity_format(&again_text, &again) != 0)
		abort();
	/* The text can change once ("437.5Ki" prints "448000", which prints
	 * "448k", as in Kubernetes); from then on it is fixed. */
	sbx_buf_clear(&text);
	if (sbx_quantity_parse(&q, sbx_buf_cstr(&again_text)) != 0 ||
	    sbx_quantity_cmp(&q, &again) != 0 ||
	    sbx_quantity_format(&text, &q) != 0 ||
	    strcmp(sbx_buf_cstr(&text), sbx_buf_cstr(&again_text)) != 0)
		abort();
	if (sbx_quantity_cmp(&q, &q) != 0 ||
	    sbx_quantity_is_zero(&q) != (q.unscaled == 0) ||
	    sbx_quantity_is_negative(&q) != (q.unscaled < 0))
		abort();
	/* q + q is either out of range or compares like q against zero. */
	sbx_error_clear();
	r = sbx_quantity_add(&sum, &q, &q);
	if (r == 0) {
		int c = sbx_quantity_cmp(&sum, &q);

		if ((c > 0) != (q.unscaled > 0) || (c < 0) != (q.unscaled < 0))
			abort();
	} else if (r != SBX_ERANGE) {
		abort();
	}
	r = sbx_quantity_milli(&milli, &q);
	if (r != 0 && r != SBX_ERANGE)
		abort();
done:
	sbx_buf_dispose(&text);
	sbx_buf_dispose(&again_text);
	free(s);
	return 0;
}
