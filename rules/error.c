/*
 * Filling struct rules_error, and quoting user values for its message.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rules/rules_int.h"

/* Shown characters of a quoted value; the rest becomes "...". */
#define QUOTE_SHOWN 64

int
rules_error_set(struct rules_error *reterr, const char *code, const char *field, const char *fmt,
		...)
{
	va_list ap;

	memset(reterr, 0, sizeof(*reterr));
	reterr->code = code;
	snprintf(reterr->field, sizeof(reterr->field), "%s", field);
	va_start(ap, fmt);
	vsnprintf(reterr->message, sizeof(reterr->message), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int
rules_error_nomem(struct rules_error *reterr)
{
	rules_error_set(reterr, "out_of_memory", "", "out of memory");
	return -ENOMEM;
}

const char *
rules_quote(const char *s, char buf[RULES_QUOTE_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	buf[o++] = '"';
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		size_t need = 1;

		if (c == '"' || c == '\\')
			need = 2;
		else if (c < 0x20 || c > 0x7e)
			need = 4;
		if (o - 1 + need > QUOTE_SHOWN) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (need == 2) {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (need == 4) {
			/* control bytes and broken UTF-8 must not reach logs raw */
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 0xf];
		} else {
			buf[o++] = (char)c;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}
