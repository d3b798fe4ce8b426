// SPDX-License-Identifier: Apache-2.0
/*
 * Per-thread last-error buffer: first message wins until cleared, like
 * curl's error buffer, so the innermost cause is what the user sees.
 */
#include <stdarg.h>
#include <stdio.h>

#include "error.h"

static _Thread_local char last[1024];
static _Thread_local int have_last;

int sbx_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	if (have_last)
		return code;
	va_start(ap, fmt);
	vsnprintf(last, sizeof(last), fmt, ap);
	va_end(ap);
	have_last = 1;
	return code;
}

const char *sbx_error_last(void)
{
	return have_last ? last : "";
}

void sbx_error_clear(void)
{
	have_last = 0;
	last[0] = '\0';
}

const char *sbx_error_name(int code)
{
	switch (code) {
	case SBX_OK: return "ok";
	case SBX_ENOMEM: return "out of memory";
	case SBX_EINVAL: return "invalid input";
	case SBX_EIO: return "input/output error";
	case SBX_ENOTFOUND: return "not found";
	case SBX_ERANGE: return "out of range";
	case SBX_EUSAGE: return "usage error";
	case SBX_EEXIST: return "already exists";
	case SBX_ECONFLICT: return "conflict";
	case SBX_EGONE: return "gone";
	case SBX_EFORBIDDEN: return "forbidden";
	case SBX_EUNAUTHORIZED: return "unauthorized";
	case SBX_EINVALIDOBJ: return "invalid";
	case SBX_ETOOMANY: return "too many requests";
	case SBX_ETIMEOUT: return "timeout";
	case SBX_ESERVER: return "server error";
	case SBX_ETRANSPORT: return "transport error";
	}
	return "unknown error";
}
