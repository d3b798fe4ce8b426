// SPDX-License-Identifier: Apache-2.0
/*
 * logfmt writer: timestamp, level, optional sandbox, quoted message.
 */
#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

#include "buf.h"
#include "log.h"

void slog(const char *level, const char *sandbox, const char *fmt, ...)
{
	sbx_buf msg = SBX_BUF_INIT, line = SBX_BUF_INIT;
	struct timeval tv;
	struct tm tm;
	char ts[32];
	va_list ap;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	va_start(ap, fmt);
	sbx_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	sbx_buf_printf(&line, "ts=%s.%03ldZ level=%s", ts, (long)(tv.tv_usec / 1000), level);
	if (sandbox)
		sbx_buf_printf(&line, " sandbox=%s", sandbox);
	sbx_buf_puts(&line, " msg=\"");
	for (const char *p = sbx_buf_cstr(&msg); *p; p++) {
		if (*p == '"' || *p == '\\')
			sbx_buf_putc(&line, '\\');
		if (*p == '\n')
			sbx_buf_puts(&line, "\\n");
		else
			sbx_buf_putc(&line, *p);
	}
	sbx_buf_puts(&line, "\"\n");
	fputs(sbx_buf_cstr(&line), stderr);
	sbx_buf_dispose(&msg);
	sbx_buf_dispose(&line);
}
