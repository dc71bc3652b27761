/*
 * Rules that expire: "expires_at" as RFC 3339 UTC text, "ttl" turned
 * into it, and the rules whose time has come. The clock is the
 * caller's: every function that needs the time takes it.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rules/rules_int.h"

#define TIME_HINT "expected RFC 3339 UTC to the second, such as \"2026-12-31T18:00:00Z\""

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool
leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* n decimal digits at s, or -1. */
static int
digits(const char *s, unsigned n)
{
	int v = 0;

	while (n-- > 0) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s++ - '0');
	}
	return v;
}

const char *
rules_time_read(const char *s, int64_t *ret)
{
	static const unsigned char mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, sec;
	size_t n = strlen(s);

	if (n < 20)
		return "too short";
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	sec = digits(s + 17, 2);
	if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0 || s[4] != '-' || s[7] != '-' ||
	    s[10] != 'T' || s[13] != ':' || s[16] != ':')
		return "not of the form YYYY-MM-DDTHH:MM:SSZ";
	if (s[19] == '.')
		return "fractions of a second are not accepted";
	if (strcmp(s + 19, "Z") != 0 && strcmp(s + 19, "+00:00") != 0)
		return "not UTC (end it with Z)";
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y)) ||
	    h > 23 || mi > 59 || sec > 59)
		return "no such date or time";
	*ret = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec;
	return NULL;
}

const char *
rules_time_format(int64_t t, char buf[RULES_TIME_STRLEN])
{
	int64_t days = t / 86400, y;
	unsigned m, d, s = (unsigned)(t % 86400);

	civil_from_days(days, &y, &m, &d);
	snprintf(buf, RULES_TIME_STRLEN, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02uZ", y, m, d,
		 s / 3600, s / 60 % 60, s % 60);
	return buf;
}

int
rules_expiry_parse(const struct cJSON *expires_at, const struct cJSON *ttl, struct rules_rule *r,
		   struct rules_error *reterr)
{
	char q[RULES_QUOTE_SIZE];
	const char *why;
	double v;

	if (expires_at != NULL && ttl != NULL)
		return rules_error_set(reterr, "invalid_expiry", "ttl",
				       "ttl and expires_at: give one of them, not both");
	if (expires_at != NULL) {
		if (!cJSON_IsString(expires_at))
			return rules_error_set(reterr, "invalid_expiry", "expires_at",
					       "expires_at: got %s; " TIME_HINT,
					       rules_json_type(expires_at));
		why = rules_time_read(expires_at->valuestring, &r->expires_at);
		if (why != NULL)
			return rules_error_set(reterr, "invalid_expiry", "expires_at",
					       "expires_at %s: %s; " TIME_HINT,
					       rules_quote(expires_at->valuestring, q), why);
		return 0;
	}
	if (ttl == NULL)
		return 0;
	if (!cJSON_IsNumber(ttl))
		return rules_error_set(reterr, "invalid_expiry", "ttl",
				       "ttl: got %s; expected a whole number of seconds, 1 to %u",
				       rules_json_type(ttl), RULES_EXPIRY_MAX);
	v = ttl->valuedouble;
	/* the range test comes first: the cast is defined only inside it */
	if (!(v >= 1 && v <= RULES_EXPIRY_MAX) || v != (double)(uint32_t)v)
		return rules_error_set(reterr, "invalid_expiry", "ttl",
				       "ttl %g: expected a whole number of seconds, 1 to %u "
				       "(365 days)",
				       v, RULES_EXPIRY_MAX);
	r->ttl = (uint32_t)v;
	return 0;
}

int
rules_rule_expiry_resolve(struct rules_rule *r, int64_t now, struct rules_error *reterr)
{
	char t[RULES_TIME_STRLEN], n[RULES_TIME_STRLEN];

	if (r->ttl > 0) {
		r->expires_at = now + r->ttl;
		r->ttl = 0;
		return 0;
	}
	if (r->expires_at == 0)
		return 0;
	if (r->expires_at <= now)
		return rules_error_set(reterr, "invalid_expiry", "expires_at",
				       "expires_at \"%s\" has passed (it is %s now); expected a "
				       "time in the future",
				       rules_time_format(r->expires_at, t),
				       rules_time_format(now, n));
	if (r->expires_at - now > RULES_EXPIRY_MAX)
		return rules_error_set(reterr, "invalid_expiry", "expires_at",
				       "expires_at \"%s\" is more than 365 days ahead; expected "
				       "a time before %s",
				       rules_time_format(r->expires_at, t),
				       rules_time_format(now + RULES_EXPIRY_MAX, n));
	return 0;
}

int
rules_container_expiry_resolve(struct rules_container *c, int64_t now, struct rules_error *reterr)
{
	size_t i;
	int r;

	for (i = 0; i < c->nrules; i++) {
		r = rules_rule_expiry_resolve(&c->rules[i], now, reterr);
		if (r < 0) {
			snprintf(reterr->container, sizeof(reterr->container), "%s", c->id);
			snprintf(reterr->rule, sizeof(reterr->rule), "%s", c->rules[i].id);
			return r;
		}
	}
	return 0;
}

size_t
rules_container_drop_expired(struct rules_container *c, int64_t now)
{
	size_t i, n = 0;

	for (i = 0; i < c->nrules; i++) {
		if (c->rules[i].expires_at != 0 && c->rules[i].expires_at <= now) {
			rules_rule_clear(&c->rules[i]);
			continue;
		}
		c->rules[n++] = c->rules[i];
	}
	i = c->nrules - n;
	c->nrules = n;
	return i;
}

int64_t
rules_container_next_expiry(const struct rules_container *c)
{
	int64_t t = 0;
	size_t i;

	for (i = 0; i < c->nrules; i++)
		if (c->rules[i].expires_at != 0 && (t == 0 || c->rules[i].expires_at < t))
			t = c->rules[i].expires_at;
	return t;
}
