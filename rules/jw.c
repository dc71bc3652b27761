/*
 * A JSON text written as it goes. cJSON builds a tree first, a node and
 * a string allocation per value, all held before the first byte goes
 * out: too much for the largest answers, such as the audit. Strings are
 * escaped exactly as cJSON escapes them, so that a digest of either
 * rendering is the same.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"

void
rules_jw_init(struct rules_jw *w)
{
	memset(w, 0, sizeof(*w));
	w->first = 1;
}

void
rules_jw_reset(struct rules_jw *w)
{
	char *buf = w->buf;
	size_t cap = w->cap;

	rules_jw_init(w);
	w->buf = buf;
	w->cap = cap;
}

void
rules_jw_free(struct rules_jw *w)
{
	free(w->buf);
	rules_jw_init(w);
}

/* Room for n more bytes and the NUL; growing by half keeps copies linear. */
static bool
room(struct rules_jw *w, size_t n)
{
	size_t cap;
	char *b;

	if (w->failed)
		return false;
	if (w->len + n + 1 <= w->cap)
		return true;
	cap = w->cap ? w->cap + w->cap / 2 : 4096;
	if (cap < w->len + n + 1)
		cap = w->len + n + 1;
	b = realloc(w->buf, cap);
	if (b == NULL) {
		w->failed = true;
		return false;
	}
	w->buf = b;
	w->cap = cap;
	return true;
}

char *
rules_jw_take(struct rules_jw *w)
{
	char *s = room(w, 0) ? w->buf : NULL;

	if (s != NULL)
		s[w->len] = '\0';
	else
		free(w->buf);
	rules_jw_init(w);
	return s;
}

static void
put(struct rules_jw *w, const char *s, size_t n)
{
	if (!room(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

/* The comma before a member or an element, unless it is the first. */
static void
sep(struct rules_jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->first & (1ull << w->depth))
		w->first &= ~(1ull << w->depth);
	else
		put(w, ",", 1);
}

void
rules_jw_open(struct rules_jw *w, char bracket)
{
	sep(w);
	put(w, &bracket, 1);
	if (w->depth + 1 >= 64) {
		w->failed = true; /* deeper than anything we write */
		return;
	}
	w->depth++;
	w->first |= 1ull << w->depth;
}

void
rules_jw_close(struct rules_jw *w, char bracket)
{
	if (w->depth > 0)
		w->depth--;
	put(w, &bracket, 1);
}

static void
quoted(struct rules_jw *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t run;

	put(w, "\"", 1);
	while (*p != '\0') {
		char esc[8];

		for (run = 0; p[run] > 31 && p[run] != '"' && p[run] != '\\'; run++)
			;
		put(w, (const char *)p, run);
		p += run;
		if (*p == '\0')
			break;
		switch (*p) {
		case '"':
		case '\\':
			esc[0] = '\\', esc[1] = (char)*p, esc[2] = '\0';
			break;
		case '\b':
			strcpy(esc, "\\b");
			break;
		case '\f':
			strcpy(esc, "\\f");
			break;
		case '\n':
			strcpy(esc, "\\n");
			break;
		case '\r':
			strcpy(esc, "\\r");
			break;
		case '\t':
			strcpy(esc, "\\t");
			break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
		}
		put(w, esc, strlen(esc));
		p++;
	}
	put(w, "\"", 1);
}

void
rules_jw_key(struct rules_jw *w, const char *key)
{
	sep(w);
	quoted(w, key);
	put(w, ":", 1);
	w->after_key = true;
}

void
rules_jw_str(struct rules_jw *w, const char *s)
{
	sep(w);
	if (s == NULL)
		put(w, "null", 4);
	else
		quoted(w, s);
}

void
rules_jw_bool(struct rules_jw *w, bool b)
{
	sep(w);
	put(w, b ? "true" : "false", b ? 4 : 5);
}

void
rules_jw_u64(struct rules_jw *w, uint64_t v)
{
	char buf[24], *p = buf + sizeof(buf);

	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	sep(w);
	put(w, p, (size_t)(buf + sizeof(buf) - p));
}
