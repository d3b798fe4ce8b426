/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logfmt logging to stderr: `ts=... level=info sandbox=alice msg="..."`.
 * Callers never pass secrets; messages come from core errors, which hold
 * none.
 */
#ifndef SBX_CONTROLLER_LOG_H
#define SBX_CONTROLLER_LOG_H

/* Log one line. sandbox may be NULL. */
void slog(const char *level, const char *sandbox, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_info(sbx, ...) slog("info", sbx, __VA_ARGS__)
#define log_warn(sbx, ...) slog("warn", sbx, __VA_ARGS__)
#define log_error(sbx, ...) slog("error", sbx, __VA_ARGS__)

#endif
