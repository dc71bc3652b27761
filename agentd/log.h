#ifndef AGENTD_LOG_H
#define AGENTD_LOG_H

/*
 * Logging for agentd, after OpenBSD's log.h: one line per event on
 * stderr, lower case, subject first. log_warn() appends strerror(-r).
 */

#include <stdbool.h>

enum log_format {
	LOG_FORMAT_TEXT = 0,
	LOG_FORMAT_JSON,
	LOG_FORMAT_MAX,
};

void log_init(const char *progname, enum log_format format, bool debug);
void log_warn(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
