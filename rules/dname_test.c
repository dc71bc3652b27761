/*
 * Destinations by name: what is a host name or a wildcard, how it is
 * stored, and which queries a pattern matches.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "rules/rules_int.h"

static const struct {
	const char *in, *stored;
} accepted[] = {
	{"api.stripe.com", "api.stripe.com"},
	{"API.Stripe.COM", "api.stripe.com"},
	{"api.stripe.com.", "api.stripe.com"},
	{"*.github.com", "*.github.com"},
	{"*.GitHub.com.", "*.github.com"},
	{"256.example.com", "256.example.com"},
	{"xn--bcher-kva.example", "xn--bcher-kva.example"},
	{"a-b.c-d.example", "a-b.c-d.example"},
	{"1e100.net", "1e100.net"},
};

START_TEST(dname_accepts)
{
	struct rules_rule r = {0};
	struct rules_error e;

	ck_assert_int_eq(rules_dest_parse(accepted[_i].in, &r, &e), 0);
	ck_assert_ptr_nonnull(r.dname);
	ck_assert_str_eq(r.dname, accepted[_i].stored);
	ck_assert_uint_eq(r.plen, 0);
	rules_rule_clear(&r);
}
END_TEST

START_TEST(dname_limits)
{
	char name[300], label[70];
	struct rules_rule r = {0};
	struct rules_error e;
	size_t n;

	memset(label, 'a', 63);
	label[63] = '\0';
	snprintf(name, sizeof(name), "%s.example", label);
	ck_assert_int_eq(rules_dest_parse(name, &r, &e), 0);
	rules_rule_clear(&r);
	snprintf(name, sizeof(name), "a%s.example", label);
	ck_assert_int_eq(rules_dest_parse(name, &r, &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.message, "longer than 63"));
	/* 253 bytes in three labels of 63 and one of 61: accepted; one more is not */
	snprintf(name, sizeof(name), "%s.%s.%s.%.61s", label, label, label, label);
	n = strlen(name);
	ck_assert_uint_eq(n, 253);
	ck_assert_int_eq(rules_dest_parse(name, &r, &e), 0);
	rules_rule_clear(&r);
	name[n - 1] = 'a';
	name[n] = 'b';
	name[n + 1] = '\0';
	ck_assert_int_eq(rules_dest_parse(name, &r, &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.message, "longer than 253"));
}
END_TEST

static const struct {
	const char *in, *why;
} refused[] = {
	{"localhost", "two labels or more"},
	{"a..example.com", "empty label"},
	{".example.com", "empty label"},
	{"example.com..", "empty label"},
	{"*.com", "two labels or more"},
	{"*", "\"*\" is accepted only"},
	{"*example.com", "\"*\" is accepted only"},
	{"a.*.example.com", "\"*\" is accepted only"},
	{"foo*.example.com", "\"*\" is accepted only"},
	{"*.*.example.com", "\"*\" is accepted only"},
	{"-a.example.com", "hyphen"},
	{"a-.example.com", "hyphen"},
	{"_dmarc.example.com", "underscores"},
	{"ex_ample.com", "underscores"},
	{"example.com/24", "no /prefix"},
	{"*.example.com/8", "no /prefix"},
	{"b\xc3\xbc"
	 "cher.example",
	 "xn--"},
	{"example.123", "all digits"},
	{"exa mple.com", "letters, digits and hyphens"},
	{"example.com;rm", "letters, digits and hyphens"},
	{"example.com:443", "a port is not part of a name"},
};

START_TEST(dname_refuses)
{
	struct rules_rule r = {0};
	struct rules_error e;

	ck_assert_int_eq(rules_dest_parse(refused[_i].in, &r, &e), -EINVAL);
	ck_assert_str_eq(e.code, "invalid_destination");
	ck_assert_str_eq(e.field, "destination");
	ck_assert_msg(strstr(e.message, refused[_i].why) != NULL, "message \"%s\" lacks \"%s\"",
		      e.message, refused[_i].why);
	ck_assert_ptr_null(r.dname);
}
END_TEST

START_TEST(dname_match)
{
	ck_assert(rules_dname_match("api.stripe.com", "api.stripe.com"));
	ck_assert(!rules_dname_match("api.stripe.com", "xapi.stripe.com"));
	ck_assert(!rules_dname_match("api.stripe.com", "a.api.stripe.com"));
	ck_assert(rules_dname_match("*.github.com", "api.github.com"));
	ck_assert(rules_dname_match("*.github.com", "a.b.github.com"));
	ck_assert(!rules_dname_match("*.github.com", "github.com"));
	ck_assert(!rules_dname_match("*.github.com", "evilgithub.com"));
	ck_assert(!rules_dname_match("*.github.com", ".github.com"));
	ck_assert(!rules_dname_match("*.github.com", "github.com.evil"));
}
END_TEST

/* A name rule: its own id, rendered as its name, kept by copies. */
START_TEST(dname_rule)
{
	const char *json = "{\"destination\": \"API.Stripe.com\", \"protocol\": \"tcp\", "
			   "\"destination_port\": 443, \"action\": \"allow\"}";
	struct rules_rule a, b, c;
	struct rules_error e;
	cJSON *o = cJSON_Parse(json);

	ck_assert_int_eq(rules_rule_parse(o, 1, &a, &e), 0);
	cJSON_Delete(o);
	rules_rule_id_assign(&a, NULL, 0);
	ck_assert_int_eq(rules_rule_copy(&b, &a), 0);
	ck_assert(rules_rule_equal(&a, &b));
	ck_assert_ptr_ne(a.dname, b.dname);
	o = rules_rule_to_json(&b);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "destination")->valuestring, "api.stripe.com");
	ck_assert_int_eq(rules_rule_parse(o, 1, &c, &e), 0);
	cJSON_Delete(o);
	ck_assert(rules_rule_equal(&b, &c));
	/* not the same match as any address, nor as another name */
	free(c.dname);
	c.dname = strdup("api.stripe.co");
	ck_assert(!rules_rule_same_match(&b, &c));
	rules_rule_id_assign(&c, NULL, 0);
	ck_assert_str_ne(b.id, c.id);
	free(c.dname);
	c.dname = NULL;
	ck_assert(!rules_rule_same_match(&b, &c));
	ck_assert(!rules_rule_same_match(&c, &b));
	rules_rule_clear(&a);
	rules_rule_clear(&b);
	rules_rule_clear(&c);
}
END_TEST

/* An error after the destination frees the name (ASan sees a leak otherwise). */
START_TEST(dname_rule_refused_later)
{
	const char *json = "{\"destination\": \"example.com\", \"action\": \"maybe\"}";
	struct rules_rule r;
	struct rules_error e;
	cJSON *o = cJSON_Parse(json);

	ck_assert_int_eq(rules_rule_parse(o, 1, &r, &e), -EINVAL);
	ck_assert_str_eq(e.field, "action");
	ck_assert_ptr_null(r.dname);
	cJSON_Delete(o);
}
END_TEST

static Suite *
dname_suite(void)
{
	Suite *s = suite_create("dname");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, dname_accepts, 0, sizeof(accepted) / sizeof(accepted[0]));
	tcase_add_test(tc, dname_limits);
	tcase_add_loop_test(tc, dname_refuses, 0, sizeof(refused) / sizeof(refused[0]));
	tcase_add_test(tc, dname_match);
	tcase_add_test(tc, dname_rule);
	tcase_add_test(tc, dname_rule_refused_later);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(dname_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
