/* One line per event on stderr, as text or as JSON lines. */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "agentd/log.h"

static const char *log_prog = "agentd";
static enum log_format log_fmt = LOG_FORMAT_TEXT;
static bool log_dbg;

void
log_init(const char *progname, enum log_format format, bool debug)
{
	log_prog = progname;
	log_fmt = format;
	log_dbg = debug;
}

static void
vlog(const char *level, int r, const char *fmt, va_list ap)
{
	char msg[1024];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	if (r < 0 && n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(-r));
	if (log_fmt == LOG_FORMAT_JSON) {
		cJSON *o = cJSON_CreateObject();
		char *line = NULL;
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		if (o != NULL &&
		    cJSON_AddNumberToObject(o, "time", (double)ts.tv_sec + ts.tv_nsec / 1e9) &&
		    cJSON_AddStringToObject(o, "level", level) &&
		    cJSON_AddStringToObject(o, "msg", msg))
			line = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		if (line != NULL) {
			fprintf(stderr, "%s\n", line);
			cJSON_free(line);
			return;
		}
	}
	fprintf(stderr, "%s: %s%s%s\n", log_prog, strcmp(level, "info") ? level : "",
		strcmp(level, "info") ? ": " : "", msg);
}

void
log_warn(int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning", r, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning", 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("info", 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_dbg)
		return;
	va_start(ap, fmt);
	vlog("debug", 0, fmt, ap);
	va_end(ap);
}

void
log_vmsg(enum log_level level, int r, const char *fmt, va_list ap)
{
	static const char *const names[LOG_LEVEL_MAX] = {"debug", "info", "warning"};

	if (level >= LOG_LEVEL_MAX || (level == LOG_LEVEL_DEBUG && !log_dbg))
		return;
	vlog(names[level], r, fmt, ap);
}
