/*
 * Rules that expire: "expires_at" as RFC 3339 UTC text, "ttl" turned
 * into it, and the rules whose time has come. The clock is the
 * caller's: every function that needs the time takes it (timegm() and
 * gmtime_r() only do the calendar).
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "rules/rules_int.h"

#define TIME_HINT "expected RFC 3339 UTC to the second, such as \"2026-12-31T18:00:00Z\""

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
	struct tm tm = {0}, back;
	time_t t;

	if (strlen(s) < 20)
		return "too short";
	tm.tm_year = digits(s, 4) - 1900;
	tm.tm_mon = digits(s + 5, 2) - 1;
	tm.tm_mday = digits(s + 8, 2);
	tm.tm_hour = digits(s + 11, 2);
	tm.tm_min = digits(s + 14, 2);
	tm.tm_sec = digits(s + 17, 2);
	if (tm.tm_year < -1900 || tm.tm_mon < -1 || tm.tm_mday < 0 || tm.tm_hour < 0 ||
	    tm.tm_min < 0 || tm.tm_sec < 0 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':')
		return "not of the form YYYY-MM-DDTHH:MM:SSZ";
	if (s[19] == '.')
		return "fractions of a second are not accepted";
	if (strcmp(s + 19, "Z") != 0 && strcmp(s + 19, "+00:00") != 0)
		return "not UTC (end it with Z)";
	/* timegm() carries an out-of-range field over: a date that does not
	 * exist comes back as another one */
	back = tm;
	t = timegm(&back);
	if (tm.tm_year < 70 || gmtime_r(&t, &back) == NULL || back.tm_year != tm.tm_year ||
	    back.tm_mon != tm.tm_mon || back.tm_mday != tm.tm_mday || back.tm_hour != tm.tm_hour ||
	    back.tm_min != tm.tm_min || back.tm_sec != tm.tm_sec)
		return "no such date or time";
	*ret = t;
	return NULL;
}

const char *
rules_time_format(int64_t t, char buf[RULES_TIME_STRLEN])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, RULES_TIME_STRLEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, RULES_TIME_STRLEN, "@%lld", (long long)t);
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
