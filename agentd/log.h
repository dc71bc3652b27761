#ifndef AGENTD_LOG_H
#define AGENTD_LOG_H

/*
 * Logging for agentd, after OpenBSD's log.h: one line per event on
 * stderr, lower case, subject first. log_warn() appends strerror(-r).
 */

#include <stdarg.h>
#include <stdbool.h>

enum log_format {
	LOG_FORMAT_TEXT = 0,
	LOG_FORMAT_JSON,
	LOG_FORMAT_MAX,
};

enum log_level {
	LOG_LEVEL_DEBUG = 0,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_MAX,
};

/*
 * Set up once, before any thread logs: the name lines start with, their
 * format, and whether debug lines are written.
 */
void log_init(const char *progname, enum log_format format, bool debug);
/* One line each, at warning (log_warn: with strerror(-r)), info or debug level. */
void log_warn(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * The same from a va_list, at level, for messages that other modules
 * hand to agentd's log (debug lines only with debug on).
 */
void log_vmsg(enum log_level level, int r, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#endif
