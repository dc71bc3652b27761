/*
 * Rules that expire: RFC 3339 times both ways, "ttl" and "expires_at"
 * parsed and resolved against a given clock, expired rules taken out.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "rules/rules_int.h"

#define NOW 1796126400 /* 2026-12-01T12:00:00Z */

static int
parse(const char *extra, struct rules_rule *r, struct rules_error *e)
{
	char json[512];
	cJSON *o;
	int rc;

	snprintf(json, sizeof(json), "{\"destination\": \"10.0.0.0/8\", \"action\": \"allow\"%s}",
		 extra);
	o = cJSON_Parse(json);
	ck_assert_msg(o != NULL, "test JSON does not parse: %s", json);
	rc = rules_rule_parse(o, 1, r, e);
	cJSON_Delete(o);
	return rc;
}

/* Known instants, and what libc's timegm() says of dates across the range. */
START_TEST(time_known)
{
	static const struct {
		const char *text;
		int64_t t;
	} v[] = {
		{"1970-01-01T00:00:00Z", 0},	      {"2000-02-29T23:59:59Z", 951868799},
		{"2026-12-01T12:00:00Z", NOW},	      {"2038-01-19T03:14:08Z", 2147483648},
		{"2100-03-01T00:00:00Z", 4107542400},
	};
	char buf[RULES_TIME_STRLEN];
	int64_t t;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ck_assert_ptr_null(rules_time_read(v[i].text, &t));
		ck_assert_int_eq(t, v[i].t);
		ck_assert_str_eq(rules_time_format(t, buf), v[i].text);
	}
	ck_assert_ptr_null(rules_time_read("2026-12-01T12:00:00+00:00", &t));
	ck_assert_int_eq(t, NOW);
}
END_TEST

START_TEST(time_agrees_with_timegm)
{
	char buf[RULES_TIME_STRLEN];
	int64_t t, back;
	struct tm tm;

	for (t = 0; t < 4200000000; t += 86400 * 37 + 3607) {
		gmtime_r(&(time_t){(time_t)t}, &tm);
		ck_assert_int_eq((int64_t)timegm(&tm), t);
		rules_time_format(t, buf);
		ck_assert_ptr_null(rules_time_read(buf, &back));
		ck_assert_int_eq(back, t);
		ck_assert_int_eq(tm.tm_year + 1900, atoi(buf));
	}
}
END_TEST

START_TEST(time_refused)
{
	static const char *const bad[] = {
		"",
		"2026-12-01",
		"2026-12-01T12:00:00",
		"2026-12-01 12:00:00Z",
		"2026-12-01T12:00:00z",
		"2026-12-01T12:00:00.5Z",
		"2026-12-01T12:00:00+01:00",
		"2026-12-01T12:00:00Zjunk",
		"2026-13-01T12:00:00Z",
		"2026-02-29T12:00:00Z",
		"2100-02-29T12:00:00Z",
		"2026-04-31T12:00:00Z",
		"2026-12-00T12:00:00Z",
		"2026-12-01T24:00:00Z",
		"2026-12-01T12:60:00Z",
		"2026-12-01T12:00:60Z",
		"1969-12-31T23:59:59Z",
		"+026-12-01T12:00:00Z",
	};
	int64_t t;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(rules_time_read(bad[i], &t) != NULL, "accepted %s", bad[i]);
	ck_assert_ptr_null(rules_time_read("2024-02-29T00:00:00Z", &t));
}
END_TEST

START_TEST(ttl_resolves)
{
	struct rules_rule r;
	struct rules_error e;

	ck_assert_int_eq(parse(", \"ttl\": 600", &r, &e), 0);
	ck_assert_uint_eq(r.ttl, 600);
	ck_assert_int_eq(r.expires_at, 0);
	ck_assert_int_eq(rules_rule_expiry_resolve(&r, NOW, &e), 0);
	ck_assert_int_eq(r.expires_at, NOW + 600);
	ck_assert_uint_eq(r.ttl, 0);
	rules_rule_clear(&r);
	ck_assert_int_eq(parse(", \"ttl\": 31536000", &r, &e), 0);
	ck_assert_int_eq(rules_rule_expiry_resolve(&r, NOW, &e), 0);
	ck_assert_int_eq(r.expires_at, NOW + 31536000);
	rules_rule_clear(&r);
	ck_assert_int_eq(parse(", \"ttl\": null, \"expires_at\": null", &r, &e), 0);
	ck_assert_int_eq(rules_rule_expiry_resolve(&r, NOW, &e), 0);
	ck_assert_int_eq(r.expires_at, 0);
	rules_rule_clear(&r);
}
END_TEST

START_TEST(expires_at_checked_against_now)
{
	struct rules_rule r;
	struct rules_error e;

	ck_assert_int_eq(parse(", \"expires_at\": \"2026-12-01T12:00:01Z\"", &r, &e), 0);
	ck_assert_int_eq(rules_rule_expiry_resolve(&r, NOW, &e), 0);
	ck_assert_int_eq(r.expires_at, NOW + 1);
	ck_assert_int_eq(rules_rule_expiry_resolve(&r, NOW + 1, &e), -EINVAL);
	ck_assert_str_eq(e.code, "invalid_expiry");
	ck_assert_str_eq(e.field, "expires_at");
	ck_assert_ptr_nonnull(strstr(e.message, "has passed"));
	rules_rule_clear(&r);
	ck_assert_int_eq(parse(", \"expires_at\": \"2027-12-01T12:00:01Z\"", &r, &e), 0);
	ck_assert_int_eq(rules_rule_expiry_resolve(&r, NOW, &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.message, "365 days"));
	rules_rule_clear(&r);
}
END_TEST

START_TEST(expiry_refused)
{
	static const struct {
		const char *extra, *field;
	} bad[] = {
		{", \"ttl\": 0", "ttl"},
		{", \"ttl\": -1", "ttl"},
		{", \"ttl\": 31536001", "ttl"},
		{", \"ttl\": 2.5", "ttl"},
		{", \"ttl\": \"60\"", "ttl"},
		{", \"ttl\": true", "ttl"},
		{", \"ttl\": 60, \"expires_at\": \"2027-01-01T00:00:00Z\"", "ttl"},
		{", \"expires_at\": 1800000000", "expires_at"},
		{", \"expires_at\": \"tomorrow\"", "expires_at"},
		{", \"expires_at\": \"2027-01-01T00:00:00.000Z\"", "expires_at"},
	};
	struct rules_rule r;
	struct rules_error e;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(parse(bad[i].extra, &r, &e) == -EINVAL, "accepted %s", bad[i].extra);
		ck_assert_str_eq(e.code, "invalid_expiry");
		ck_assert_str_eq(e.field, bad[i].field);
		ck_assert_str_eq(e.rule, "#1");
	}
}
END_TEST

/* expires_at is part of equality and of the rendering, not of the match or id. */
START_TEST(expiry_equal_and_render)
{
	struct rules_rule a, b;
	struct rules_error e;
	cJSON *o;

	ck_assert_int_eq(parse(", \"expires_at\": \"2027-01-01T00:00:00Z\"", &a, &e), 0);
	ck_assert_int_eq(parse("", &b, &e), 0);
	rules_rule_id_assign(&a, NULL, 0);
	rules_rule_id_assign(&b, NULL, 0);
	ck_assert_str_eq(a.id, b.id);
	ck_assert(rules_rule_same_match(&a, &b));
	ck_assert(!rules_rule_equal(&a, &b));
	o = rules_rule_to_json(&a);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "expires_at")->valuestring, "2027-01-01T00:00:00Z");
	cJSON_Delete(o);
	o = rules_rule_to_json(&b);
	ck_assert_ptr_null(cJSON_GetObjectItem(o, "expires_at"));
	cJSON_Delete(o);
	rules_rule_clear(&a);
	rules_rule_clear(&b);
}
END_TEST

START_TEST(container_drop_and_next)
{
	const char *json = "{\"rules\": ["
			   "{\"id\": \"a\", \"destination\": \"10.0.0.1\", \"action\": \"deny\", "
			   "\"expires_at\": \"2026-12-01T12:00:10Z\"},"
			   "{\"id\": \"b\", \"destination\": \"10.0.0.2\", \"action\": \"allow\"},"
			   "{\"id\": \"c\", \"destination\": \"10.0.0.3\", \"action\": \"allow\", "
			   "\"expires_at\": \"2026-12-01T12:00:05Z\"},"
			   "{\"id\": \"d\", \"destination\": \"10.0.0.4\", \"action\": \"allow\", "
			   "\"ttl\": 30}]}";
	struct rules_container c;
	struct rules_error e;
	cJSON *o = cJSON_Parse(json);

	ck_assert_int_eq(rules_container_parse(o, "x", &c, &e), 0);
	cJSON_Delete(o);
	ck_assert_int_eq(rules_container_expiry_resolve(&c, NOW, &e), 0);
	ck_assert_int_eq(rules_container_next_expiry(&c), NOW + 5);
	ck_assert_uint_eq(rules_container_drop_expired(&c, NOW + 4), 0);
	ck_assert_uint_eq(rules_container_drop_expired(&c, NOW + 10), 2);
	ck_assert_uint_eq(c.nrules, 2);
	ck_assert_str_eq(c.rules[0].id, "b");
	ck_assert_str_eq(c.rules[1].id, "d");
	ck_assert_int_eq(rules_container_next_expiry(&c), NOW + 30);
	ck_assert_uint_eq(rules_container_drop_expired(&c, NOW + 30), 1);
	ck_assert_int_eq(rules_container_next_expiry(&c), 0);
	/* a container resolved later names the refused rule */
	ck_assert_int_eq(rules_container_drop_expired(&c, NOW), 0);
	c.rules[0].expires_at = NOW - 1;
	ck_assert_int_eq(rules_container_expiry_resolve(&c, NOW, &e), -EINVAL);
	ck_assert_str_eq(e.rule, "b");
	ck_assert_str_eq(e.container, "x");
	rules_container_clear(&c);
}
END_TEST

static Suite *
expiry_suite(void)
{
	Suite *s = suite_create("expiry");
	TCase *tc = tcase_create("time");

	tcase_add_test(tc, time_known);
	tcase_add_test(tc, time_agrees_with_timegm);
	tcase_add_test(tc, time_refused);
	suite_add_tcase(s, tc);
	tc = tcase_create("rules");
	tcase_add_test(tc, ttl_resolves);
	tcase_add_test(tc, expires_at_checked_against_now);
	tcase_add_test(tc, expiry_refused);
	tcase_add_test(tc, expiry_equal_and_render);
	tcase_add_test(tc, container_drop_and_next);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(expiry_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
