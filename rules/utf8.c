/*
 * Text checks for free-form strings (descriptions). cJSON copies raw
 * bytes through unchecked, so broken UTF-8 would otherwise reach the
 * state file and every client that renders it.
 */

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "rules/rules_int.h"

/*
 * Decode the sequence at u (lead byte >= 0x80, avail bytes left).
 * Returns NULL and its length, or why it is refused.
 */
static const char *
sequence(const unsigned char *u, size_t avail, size_t *ret_len)
{
	static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
	uint32_t cp;
	size_t n, k;

	if (u[0] < 0xc0)
		return "stray continuation byte";
	if (u[0] < 0xe0) {
		n = 2;
		cp = u[0] & 0x1f;
	} else if (u[0] < 0xf0) {
		n = 3;
		cp = u[0] & 0x0f;
	} else if (u[0] < 0xf8) {
		n = 4;
		cp = u[0] & 0x07;
	} else {
		return "invalid byte";
	}
	for (k = 1; k < n; k++) {
		if (k >= avail || (u[k] & 0xc0) != 0x80)
			return "truncated sequence";
		cp = cp << 6 | (u[k] & 0x3f);
	}
	if (cp < min_cp[n])
		return "overlong encoding";
	if (cp >= 0xd800 && cp <= 0xdfff)
		return "surrogate code point";
	if (cp > 0x10ffff)
		return "code point over U+10FFFF";
	*ret_len = n;
	return NULL;
}

int
rules_text_check(const char *s, size_t len, size_t *ret_off, const char **ret_why)
{
	const unsigned char *u = (const unsigned char *)s;
	const char *why;
	size_t i, n;

	for (i = 0; i < len; i += n) {
		n = 1;
		why = NULL;
		if (u[i] < 0x20 || u[i] == 0x7f)
			why = "control character";
		else if (u[i] >= 0x80)
			why = sequence(u + i, len - i, &n);
		if (why != NULL) {
			*ret_off = i;
			*ret_why = why;
			return -EILSEQ;
		}
	}
	return 0;
}

bool
rules_desc_valid(const char *s, size_t len)
{
	size_t off;
	const char *why;

	return len <= RULES_DESC_MAX && rules_text_check(s, len, &off, &why) == 0;
}

void
rules_text_clean(char *s)
{
	unsigned char *u = (unsigned char *)s;
	size_t len = strlen(s), i, n;

	for (i = 0; i < len; i += n) {
		n = 1;
		if (u[i] < 0x20 || u[i] == 0x7f || (u[i] >= 0x80 && sequence(u + i, len - i, &n)))
			u[i] = '?';
	}
}
