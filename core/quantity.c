// SPDX-License-Identifier: Apache-2.0
/*
 * Kubernetes resource.Quantity: a scanner that accepts what apimachinery's
 * ParseQuantity accepts, exact compare and add on unscaled * 10^scale, and
 * the canonical String() form. Values Kubernetes would keep in arbitrary
 * precision but that do not fit an int64 mantissa are refused (SBX_ERANGE).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "quantity.h"

/*
 * Checked against apimachinery v0.37 by differential testing. Where this
 * differs from it, on purpose:
 * - A value that needs more than an int64 mantissa, which Kubernetes keeps
 *   as an inf.Dec ("9223372036854775808", "1.0000000000000000001E"), is
 *   SBX_ERANGE; so is one whose canonical exponent would not fit an int32.
 * - The computed canonical form is always printed; Kubernetes echoes some
 *   inputs from a cache instead ("+1", "01", "1.", "1e4294967296").
 * - Decimal SI past E prints with an exponent ("1000E" is "1e21"), as
 *   upstream apimachinery does since v0.37 printed it as "1".
 * - A whole binary SI value whose suffix would pass Ei (only reachable by
 *   adding) prints as decimal SI; Kubernetes drops the suffix there.
 * - -2^63 in binary SI prints without a suffix, as Kubernetes' int64 path
 *   does (its inf.Dec path prints "-8Ei", which parses back capped).
 * The rest follows Kubernetes, odd parts included: "Gi", "." and "-" parse
 * as zero but "Pi", "Ei" and "e-10" do not; exponents wrap to int32; a value
 * below 1n rounds away from zero to it; binary SI is capped at 2^63-1; a
 * zero augend takes the addend's format.
 */

#define MAG_MAX_POS ((uint64_t)INT64_MAX)
#define MAG_MAX_NEG ((uint64_t)INT64_MAX + 1)
#define NANOS ((uint64_t)1000000000)
#define QUOTE_MAX 64 /* bytes of user input repeated in a message */
#define TEXT_MAX 128 /* canonical text: at most sign, 90 digits and suffix */
#define BIG_LIMBS 12 /* base 10^9 limbs for a binary value below 2^63 * 10^70 */

/* A value being worked on: (-1)^neg * mag * 10^scale, wider than the struct
 * so that normalising and aligning cannot overflow. */
typedef struct num {
	bool neg;
	uint64_t mag;
	int64_t scale;
} num;

/* The pieces of a quantity string, as apimachinery's parseQuantityString
 * splits them. */
typedef struct pieces {
	bool neg;
	bool digits;        /* any digit at all, leading zeros included */
	const char *num;    /* integer digits after the leading zeros */
	size_t num_len;
	const char *frac;   /* digits after the point */
	size_t frac_len;
	const char *suffix;
	size_t suffix_len;
} pieces;

static const uint64_t ten_pow[20] = {
	1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
	100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL,
	1000000000000ULL, 10000000000000ULL, 100000000000000ULL,
	1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
	1000000000000000000ULL, 10000000000000000000ULL,
};

static const struct {
	const char *text;
	int base;
	int32_t exp;
	sbx_quantity_fmt format;
} units[] = {
	{ "", 10, 0, SBX_QUANTITY_DECIMAL_SI },
	{ "n", 10, -9, SBX_QUANTITY_DECIMAL_SI },
	{ "u", 10, -6, SBX_QUANTITY_DECIMAL_SI },
	{ "m", 10, -3, SBX_QUANTITY_DECIMAL_SI },
	{ "k", 10, 3, SBX_QUANTITY_DECIMAL_SI },
	{ "M", 10, 6, SBX_QUANTITY_DECIMAL_SI },
	{ "G", 10, 9, SBX_QUANTITY_DECIMAL_SI },
	{ "T", 10, 12, SBX_QUANTITY_DECIMAL_SI },
	{ "P", 10, 15, SBX_QUANTITY_DECIMAL_SI },
	{ "E", 10, 18, SBX_QUANTITY_DECIMAL_SI },
	{ "Ki", 2, 10, SBX_QUANTITY_BINARY_SI },
	{ "Mi", 2, 20, SBX_QUANTITY_BINARY_SI },
	{ "Gi", 2, 30, SBX_QUANTITY_BINARY_SI },
	{ "Ti", 2, 40, SBX_QUANTITY_BINARY_SI },
	{ "Pi", 2, 50, SBX_QUANTITY_BINARY_SI },
	{ "Ei", 2, 60, SBX_QUANTITY_BINARY_SI },
};

/* Decimal SI suffixes by exponent / 3 + 3 (exponents -9 to 18). */
static const char *const si_suffix[] = { "n", "u", "m", "", "k", "M", "G", "T", "P", "E" };
/* Binary SI suffixes by the number of 1024 factors. */
static const char *const bin_suffix[] = { "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei" };

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A bounded, printable copy of user input for an error message. */
static const char *quote(char dst[QUOTE_MAX + 4], const char *s)
{
	size_t i;

	for (i = 0; s[i] && i < QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (s[i]) {
		memcpy(dst + i, "...", 3);
		i += 3;
	}
	dst[i] = '\0';
	return dst;
}

/* v *= 10^k for k >= 0; false, v unchanged, when that overflows uint64. */
static bool scale_up(uint64_t *v, int64_t k)
{
	if (*v == 0 || k == 0)
		return true;
	if (k < 0 || k > 19 || *v > UINT64_MAX / ten_pow[k])
		return false;
	*v *= ten_pow[k];
	return true;
}

static int ndigits(uint64_t v)
{
	int n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* Move factors of ten from the mantissa into the scale. */
static void strip_zeros(num *n)
{
	if (n->mag == 0) {
		n->scale = 0;
		return;
	}
	while (n->mag % 10 == 0) {
		n->mag /= 10;
		n->scale++;
	}
}

static num unpack(const sbx_quantity *q)
{
	num n;

	n.neg = q->unscaled < 0;
	n.mag = n.neg ? (uint64_t)(-(q->unscaled + 1)) + 1 : (uint64_t)q->unscaled;
	n.scale = q->scale;
	return n;
}

/*
 * Store n in *out if it fits: the mantissa in int64 and the scale in int32,
 * with a canonical exponent that itself fits int32 (so the printed form
 * parses back to the same value).
 */
static bool store(sbx_quantity *out, num n, sbx_quantity_fmt format)
{
	uint64_t limit = n.neg ? MAG_MAX_NEG : MAG_MAX_POS;

	strip_zeros(&n);
	if (n.scale == (int64_t)INT32_MAX + 1 && n.mag <= limit / 10) {
		n.mag *= 10;
		n.scale--;
	}
	if (n.mag > limit || n.scale > INT32_MAX || n.scale < INT32_MIN)
		return false;
	if (n.mag == 0)
		out->unscaled = 0;
	else if (n.neg)
		out->unscaled = n.mag == MAG_MAX_NEG ? INT64_MIN : -(int64_t)n.mag;
	else
		out->unscaled = (int64_t)n.mag;
	out->scale = (int32_t)n.scale;
	out->format = format;
	return true;
}

/* Go's int32(x): keep the low 32 bits, as Kubernetes does with exponents. */
static int32_t wrap32(int64_t v)
{
	uint32_t u = (uint32_t)(uint64_t)v;

	return u <= (uint32_t)INT32_MAX ? (int32_t)u : (int32_t)(u - 0x80000000u) + INT32_MIN;
}

/* Go's strconv.ParseInt(s, 10, 64): optional sign, then only digits. */
static bool parse_int64(int64_t *out, const char *s, size_t len)
{
	bool neg = false;
	uint64_t v = 0, limit;
	size_t i = 0;

	if (len > 0 && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		i++;
	}
	if (i == len)
		return false;
	limit = neg ? MAG_MAX_NEG : MAG_MAX_POS;
	for (; i < len; i++) {
		unsigned d;

		if (!is_digit(s[i]))
			return false;
		d = (unsigned)(s[i] - '0');
		if (v > (limit - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (!neg)
		*out = (int64_t)v;
	else
		*out = v == MAG_MAX_NEG ? INT64_MIN : -(int64_t)v;
	return true;
}

/* Split s as parseQuantityString does; false when the layout is wrong. */
static bool split(pieces *p, const char *s)
{
	size_t pos = 0, end = strlen(s);

	memset(p, 0, sizeof(*p));
	if (s[0] == '-') {
		p->neg = true;
		pos++;
	} else if (s[0] == '+') {
		pos++;
	}
	while (pos < end && s[pos] == '0') {
		p->digits = true;
		pos++;
	}
	p->num = p->frac = p->suffix = s + pos;
	if (pos == end)
		return true; /* only a sign and zeros: zero, no suffix */
	while (pos < end && is_digit(s[pos]))
		pos++;
	p->num_len = (size_t)(s + pos - p->num);
	if (pos < end && s[pos] == '.') {
		pos++;
		p->frac = s + pos;
		while (pos < end && is_digit(s[pos]))
			pos++;
		p->frac_len = (size_t)(s + pos - p->frac);
	}
	if (p->num_len || p->frac_len)
		p->digits = true;
	p->suffix = s + pos;
	while (pos < end && strchr("eEinumkKMGTP", s[pos]))
		pos++;
	if (pos < end && (s[pos] == '-' || s[pos] == '+'))
		pos++;
	while (pos < end && is_digit(s[pos]))
		pos++;
	p->suffix_len = end - (size_t)(p->suffix - s);
	return pos == end;
}

/* Look the suffix up as quantitySuffixer.interpret does. */
static bool interpret(const pieces *p, int *base, int32_t *exp, sbx_quantity_fmt *format)
{
	int64_t e;
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strlen(units[i].text) == p->suffix_len &&
		    memcmp(units[i].text, p->suffix, p->suffix_len) == 0) {
			*base = units[i].base;
			*exp = units[i].exp;
			*format = units[i].format;
			return true;
		}
	}
	if (p->suffix_len > 1 && (p->suffix[0] == 'e' || p->suffix[0] == 'E') &&
	    parse_int64(&e, p->suffix + 1, p->suffix_len - 1)) {
		*base = 10;
		*exp = wrap32(e);
		*format = SBX_QUANTITY_DECIMAL_EXP;
		return true;
	}
	return false;
}

/* The i-th digit of the integer and fraction digits written together. */
static unsigned digit_at(const pieces *p, size_t i)
{
	char c = i < p->num_len ? p->num[i] : p->frac[i - p->num_len];

	return (unsigned)(c - '0');
}

/*
 * A decimal (SI or exponent) value: the digits times 10^scale, rounded away
 * from zero to a whole number of nanos as Kubernetes does. Returns false when
 * the result needs more than 19 significant digits.
 */
static bool decimal_value(num *out, const pieces *p, int32_t scale)
{
	size_t len = p->num_len + p->frac_len, first = 0, last, keep, nines;
	int64_t s;
	uint64_t m = 0;

	while (first < len && digit_at(p, first) == 0)
		first++;
	if (first == len) {
		out->mag = 0;
		out->scale = 0;
		return true;
	}
	last = len - 1;
	while (digit_at(p, last) == 0)
		last--;
	s = (int64_t)scale + (int64_t)(len - 1 - last);
	if (s >= -9) {
		if (last - first + 1 > 19)
			return false;
		for (; first <= last; first++)
			m = m * 10 + digit_at(p, first);
		out->mag = m;
		out->scale = s;
		return true;
	}
	/* Digits below 10^-9 are dropped; the last one is not zero, so the
	 * kept part goes up by one, carrying through any trailing nines. */
	if ((int64_t)(last - first + 1) + 9 + s <= 0) {
		out->mag = 1;
		out->scale = -9;
		return true;
	}
	keep = (size_t)((int64_t)(last - first + 1) + 9 + s);
	nines = 0;
	while (nines < keep && digit_at(p, first + keep - 1 - nines) == 9)
		nines++;
	if (keep - nines > 19)
		return false;
	for (size_t i = 0; i < keep - nines; i++)
		m = m * 10 + digit_at(p, first + i);
	out->mag = m + 1;
	out->scale = -9 + (int64_t)nines;
	return true;
}

/*
 * A binary SI value: the digits times 2^exp, rounded away from zero to a
 * whole number of nanos and capped at 2^63-1 as Kubernetes does. The
 * fraction is multiplied digit by digit from the right, so no big numbers
 * are needed: 0.F * 2^exp = carry + 0.G, and G's first nine digits are nanos.
 * Returns false when the result needs more than 19 significant digits.
 */
static bool binary_value(num *out, sbx_quantity_fmt *format, const pieces *p, int32_t exp)
{
	uint64_t mult = (uint64_t)1 << exp, whole = 0, carry = 0, nanos = 0;
	size_t flen = p->frac_len, i;
	bool sticky = false, cap = false;
	unsigned k;

	while (flen > 0 && p->frac[flen - 1] == '0')
		flen--;
	for (i = flen; i-- > 0;) {
		uint64_t x = (uint64_t)(p->frac[i] - '0') * mult + carry;

		if (i < 9)
			nanos += (x % 10) * ten_pow[8 - i];
		else if (x % 10)
			sticky = true;
		carry = x / 10;
	}
	if (sticky)
		nanos++;
	if (p->num_len > 19) {
		cap = true;
	} else {
		for (i = 0; i < p->num_len; i++)
			whole = whole * 10 + (uint64_t)(p->num[i] - '0');
		if (whole > (UINT64_MAX - carry - 1) / mult)
			cap = true;
		else
			whole = whole * mult + carry;
	}
	if (!cap && nanos == NANOS) {
		whole++;
		nanos = 0;
	}
	if (cap || whole > MAG_MAX_POS || (whole == MAG_MAX_POS && nanos > 0)) {
		whole = MAG_MAX_POS;
		nanos = 0;
	}
	*format = whole == 0 && nanos > 0 ? SBX_QUANTITY_DECIMAL_SI : SBX_QUANTITY_BINARY_SI;
	out->scale = 0;
	out->mag = whole;
	if (nanos == 0)
		return true;
	for (k = 0; nanos % 10 == 0; k++)
		nanos /= 10;
	if (!scale_up(&whole, 9 - k) || whole > UINT64_MAX - nanos)
		return false;
	out->mag = whole + nanos;
	out->scale = -(int64_t)(9 - k);
	return true;
}

/* dst = odd * 5^fives * 2^twos in decimal, for a whole value past uint64. */
static void big_text(char *dst, size_t cap, uint64_t odd, int64_t fives, unsigned twos)
{
	uint32_t limb[BIG_LIMBS]; /* base 10^9, least significant first */
	size_t len = 0, used;
	int64_t i;

	for (; odd; odd /= NANOS)
		limb[len++] = (uint32_t)(odd % NANOS);
	for (i = 0; i <= fives; i++) {
		uint64_t mult = i < fives ? 5 : (uint64_t)1 << twos, carry = 0;

		for (size_t j = 0; j < len; j++) {
			uint64_t t = (uint64_t)limb[j] * mult + carry;

			limb[j] = (uint32_t)(t % NANOS);
			carry = t / NANOS;
		}
		if (carry && len < BIG_LIMBS)
			limb[len++] = (uint32_t)carry;
	}
	used = (size_t)snprintf(dst, cap, "%" PRIu32, limb[len - 1]);
	while (--len > 0 && used < cap)
		used += (size_t)snprintf(dst + used, cap - used, "%09" PRIu32, limb[len - 1]);
}

/*
 * The binary SI text of a whole value of at least 1Ki, as Kubernetes prints
 * it: the number without factors of 1024 and the suffix for them. False when
 * the value must print as decimal SI instead: a fraction, below 1Ki, or so
 * large that the suffix would pass Ei (Kubernetes then drops the suffix and
 * prints a different value; decimal SI keeps it).
 */
static bool binary_text(char text[TEXT_MAX], const num *n)
{
	const char *sign = n->neg ? "-" : "";
	uint64_t v = n->mag;
	int64_t twos = 0;
	unsigned f = 0;
	char digits[TEXT_MAX - 8];

	if (n->scale < 0)
		return false;
	if (scale_up(&v, n->scale)) {
		if (v < 1024)
			return false;
		/* Kubernetes' int64 path leaves -2^63 without a suffix. */
		if (!(n->neg && v == MAG_MAX_NEG)) {
			for (; v % 1024 == 0; f++)
				v /= 1024;
		}
		snprintf(text, TEXT_MAX, "%s%" PRIu64 "%s", sign, v, bin_suffix[f]);
		return true;
	}
	v = n->mag;
	for (; v % 2 == 0; twos++)
		v /= 2;
	twos += n->scale;
	if (twos / 10 > 6)
		return false;
	big_text(digits, sizeof(digits), v, n->scale, (unsigned)(twos % 10));
	snprintf(text, TEXT_MAX, "%s%s%s", sign, digits, bin_suffix[twos / 10]);
	return true;
}

/* Write the canonical text of q, as Quantity.String() prints it. */
static void canonical(char text[TEXT_MAX], const sbx_quantity *q)
{
	num n = unpack(q);
	sbx_quantity_fmt format = q->format;
	const char *sign = n.neg ? "-" : "";
	const char *zeros = "";
	char expbuf[24];
	const char *suffix = "";
	int64_t e;

	if (n.mag == 0) {
		snprintf(text, TEXT_MAX, "0");
		return;
	}
	strip_zeros(&n);
	if (format == SBX_QUANTITY_BINARY_SI) {
		if (binary_text(text, &n))
			return;
		format = SBX_QUANTITY_DECIMAL_SI;
	}
	e = n.scale;
	switch (e % 3) {
	case 1:
	case -2:
		zeros = "0";
		e -= 1;
		break;
	case 2:
	case -1:
		zeros = "00";
		e -= 2;
		break;
	}
	if (format == SBX_QUANTITY_DECIMAL_SI && e >= -9 && e <= 18) {
		suffix = si_suffix[e / 3 + 3];
	} else if (e != 0) {
		snprintf(expbuf, sizeof(expbuf), "e%" PRId64, e);
		suffix = expbuf;
	}
	snprintf(text, TEXT_MAX, "%s%" PRIu64 "%s%s", sign, n.mag, zeros, suffix);
}

int sbx_quantity_parse(sbx_quantity *out, const char *s)
{
	char quoted[QUOTE_MAX + 4];
	pieces p;
	num n = { false, 0, 0 };
	sbx_quantity_fmt format = SBX_QUANTITY_DECIMAL_SI;
	int32_t exp = 0;
	int base = 10, r = 0;
	bool ok;

	if (!s || !s[0]) {
		r = sbx_error_set(SBX_EINVAL, "quantity '' is empty; write a number such as "
				  "500m, 2 or 4Gi");
		goto done;
	}
	if (!split(&p, s)) {
		r = sbx_error_set(SBX_EINVAL, "quantity '%s' is not a number with an optional "
				  "suffix; write it like 500m, 2, 4Gi or 1e3", quote(quoted, s));
		goto done;
	}
	if (!interpret(&p, &base, &exp, &format)) {
		r = sbx_error_set(SBX_EINVAL, "quantity '%s' has an unknown suffix; use one of "
				  "n u m k M G T P E Ki Mi Gi Ti Pi Ei or an exponent such as e3",
				  quote(quoted, s));
		goto done;
	}
	/* Kubernetes turns a digitless number ("Gi", ".") into zero on its
	 * fast path but fails on its slow one ("e-10", "Pi"). */
	if (!p.digits && ((base == 10 && exp < -9) || (base == 2 && exp >= 50))) {
		r = sbx_error_set(SBX_EINVAL, "quantity '%s' has no digits; write a number "
				  "such as 500m, 2 or 4Gi", quote(quoted, s));
		goto done;
	}
	n.neg = p.neg;
	if (base == 10)
		ok = decimal_value(&n, &p, wrap32((int64_t)exp - (int64_t)p.frac_len));
	else
		ok = binary_value(&n, &format, &p, exp);
	if (!ok || !store(out, n, format)) {
		r = sbx_error_set(SBX_ERANGE, "quantity '%s' is too large or too precise to "
				  "represent exactly; use at most 18 significant digits",
				  quote(quoted, s));
		goto done;
	}
done:
	return r;
}

int sbx_quantity_parse_size(sbx_quantity *out, const char *s)
{
	char quoted[QUOTE_MAX + 4];
	sbx_quantity q;
	int r;

	r = sbx_quantity_parse(&q, s);
	if (r < 0)
		goto done;
	if (sbx_quantity_is_negative(&q)) {
		r = sbx_error_set(SBX_ERANGE, "quantity '%s' must not be negative",
				  quote(quoted, s));
		goto done;
	}
	*out = q;
done:
	return r;
}

int sbx_quantity_cmp(const sbx_quantity *a, const sbx_quantity *b)
{
	num x = unpack(a), y = unpack(b);
	int sx = x.mag == 0 ? 0 : x.neg ? -1 : 1;
	int sy = y.mag == 0 ? 0 : y.neg ? -1 : 1;
	int64_t ex, ey;
	int c = 0;

	if (sx != sy) {
		c = sx < sy ? -1 : 1;
		goto done;
	}
	if (sx == 0)
		goto done;
	strip_zeros(&x);
	strip_zeros(&y);
	/* Same number of digits before the point first; then the two
	 * mantissas, aligned, have at most 19 digits and fit uint64. */
	ex = x.scale + ndigits(x.mag);
	ey = y.scale + ndigits(y.mag);
	if (ex != ey) {
		c = ex < ey ? -1 : 1;
	} else {
		if (x.scale > y.scale)
			x.mag *= ten_pow[x.scale - y.scale];
		else
			y.mag *= ten_pow[y.scale - x.scale];
		c = x.mag < y.mag ? -1 : x.mag > y.mag;
	}
	if (sx < 0)
		c = -c;
done:
	return c;
}

int sbx_quantity_add(sbx_quantity *out, const sbx_quantity *a, const sbx_quantity *b)
{
	char ta[TEXT_MAX], tb[TEXT_MAX];
	num x = unpack(a), y = unpack(b), big, small, sum;
	sbx_quantity res;
	uint64_t m;
	int r = 0;

	/* As Quantity.Add: a zero a takes b whole, format included; adding
	 * zero keeps a. */
	if (x.mag == 0) {
		*out = *b;
		goto done;
	}
	if (y.mag == 0) {
		*out = *a;
		goto done;
	}
	strip_zeros(&x);
	strip_zeros(&y);
	big = x.scale >= y.scale ? x : y;
	small = x.scale >= y.scale ? y : x;
	/* small's mantissa is not a multiple of ten, so neither is the sum:
	 * if big does not align within uint64 the sum cannot fit. */
	m = big.mag;
	if (!scale_up(&m, big.scale - small.scale))
		goto overflow;
	sum.scale = small.scale;
	if (big.neg == small.neg) {
		if (m > UINT64_MAX - small.mag)
			goto overflow;
		sum.mag = m + small.mag;
		sum.neg = big.neg;
	} else if (m >= small.mag) {
		sum.mag = m - small.mag;
		sum.neg = big.neg;
	} else {
		sum.mag = small.mag - m;
		sum.neg = small.neg;
	}
	if (sum.mag == 0)
		sum.neg = false;
	if (!store(&res, sum, a->format))
		goto overflow;
	*out = res;
	goto done;
overflow:
	canonical(ta, a);
	canonical(tb, b);
	r = sbx_error_set(SBX_ERANGE, "sum of quantities '%s' and '%s' is too large to "
			  "represent exactly", ta, tb);
done:
	return r;
}

bool sbx_quantity_is_negative(const sbx_quantity *q)
{
	return q->unscaled < 0;
}

bool sbx_quantity_is_zero(const sbx_quantity *q)
{
	return q->unscaled == 0;
}

int sbx_quantity_format(sbx_buf *out, const sbx_quantity *q)
{
	char text[TEXT_MAX];

	canonical(text, q);
	return sbx_buf_puts(out, text);
}

int sbx_quantity_milli(int64_t *out, const sbx_quantity *q)
{
	char text[TEXT_MAX];
	num n = unpack(q);
	uint64_t m;
	int64_t t;
	int r = 0;

	strip_zeros(&n);
	m = n.mag;
	t = n.scale + 3;
	if (m == 0) {
		*out = 0;
		goto done;
	}
	if (t >= 0) {
		if (!scale_up(&m, t) || m > (n.neg ? MAG_MAX_NEG : MAG_MAX_POS)) {
			canonical(text, q);
			r = sbx_error_set(SBX_ERANGE, "quantity '%s' is too large to count in "
					  "milli-units", text);
			goto done;
		}
	} else if (-t > 19) {
		m = 1;
	} else {
		m = m / ten_pow[-t] + (m % ten_pow[-t] != 0);
	}
	if (!n.neg)
		*out = (int64_t)m;
	else
		*out = m == MAG_MAX_NEG ? INT64_MIN : -(int64_t)m;
done:
	return r;
}
