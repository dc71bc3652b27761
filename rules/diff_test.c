/*
 * rules_container_diff(): every kind of difference is named, once, and
 * equal firewalls have none.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "rules/rules_int.h"

static void
parse(const char *json, struct rules_container *c)
{
	struct rules_error e;
	cJSON *o = cJSON_Parse(json);

	ck_assert_msg(o != NULL, "test JSON does not parse: %s", json);
	ck_assert_msg(rules_container_parse(o, "web", c, &e) == 0, "%s: %s", json, e.message);
	cJSON_Delete(o);
}

struct said {
	char all[1024];
	size_t n;
};

static void
collect(const char *difference, void *data)
{
	struct said *s = data;

	snprintf(s->all + strlen(s->all), sizeof(s->all) - strlen(s->all), "%s|", difference);
	s->n++;
}

static const char base[] =
	"{\"interface\": \"hc1\", \"rules\": ["
	"{\"id\": \"a\", \"destination\": \"203.0.113.10\", \"destination_port\": \"443\","
	" \"protocol\": \"tcp\", \"action\": \"allow\", \"description\": \"Stripe\"},"
	"{\"id\": \"b\", \"destination\": \"10.0.0.0/8\", \"action\": \"deny\"}]}";

static const struct {
	const char *have;
	const char *said; /* every sentence, in order, each followed by | */
} cases[] = {
	{base, ""},
	{"{\"interface\": \"hc2\", \"rules\": ["
	 "{\"id\": \"a\", \"destination\": \"203.0.113.10\", \"destination_port\": \"443\","
	 " \"protocol\": \"tcp\", \"action\": \"allow\", \"description\": \"Stripe\"},"
	 "{\"id\": \"b\", \"destination\": \"10.0.0.0/8\", \"action\": \"deny\"}]}",
	 "interface: desired hc1, enforced hc2|"},
	{"{\"interface\": \"hc1\", \"default_action\": \"allow\", \"rules\": ["
	 "{\"id\": \"a\", \"destination\": \"203.0.113.10\", \"destination_port\": \"443\","
	 " \"protocol\": \"tcp\", \"action\": \"allow\", \"description\": \"Stripe\"},"
	 "{\"id\": \"b\", \"destination\": \"10.0.0.0/8\", \"action\": \"deny\"}]}",
	 "default_action: desired deny, enforced allow|"},
	{"{\"interface\": \"hc1\", \"rules\": ["
	 "{\"id\": \"b\", \"destination\": \"10.0.0.0/8\", \"action\": \"deny\"}]}",
	 "rule a: desired, not enforced|"},
	{"{\"interface\": \"hc1\", \"rules\": ["
	 "{\"id\": \"a\", \"destination\": \"203.0.113.11\", \"destination_port\": \"80\","
	 " \"protocol\": \"udp\", \"action\": \"deny\", \"description\": \"other\"},"
	 "{\"id\": \"b\", \"destination\": \"10.0.0.0/8\", \"action\": \"deny\"},"
	 "{\"id\": \"c\", \"destination\": \"0.0.0.0/0\", \"action\": \"allow\"}]}",
	 "rule a: enforced with another destination, destination_port, protocol, action, "
	 "description|rule c: enforced, not desired|"},
	/* in canonical order: deny rules first */
	{"{\"rules\": []}", "interface: desired hc1, enforced none|rule b: desired, not enforced|"
			    "rule a: desired, not enforced|"},
};

START_TEST(diff_names_each_address)
{
	struct rules_container want, have;
	struct said s = {0};

	parse("{\"interface\": \"hc1\", \"addresses\": [\"10.0.3.7\", \"fd42::7\"]}", &want);
	parse("{\"interface\": \"hc1\", \"addresses\": [\"fd42::8\", \"fd42::7\"]}", &have);
	ck_assert_uint_eq(rules_container_diff(&want, &have, collect, &s), 2);
	ck_assert_str_eq(s.all, "address 10.0.3.7: desired, not enforced|"
				"address fd42::8: enforced, not desired|");
	rules_container_clear(&want);
	rules_container_clear(&have);
}
END_TEST

START_TEST(diff_names_each_difference)
{
	struct rules_container want, have;
	struct said s = {0};
	size_t n;

	parse(base, &want);
	parse(cases[_i].have, &have);
	n = rules_container_diff(&want, &have, collect, &s);
	ck_assert_str_eq(s.all, cases[_i].said);
	ck_assert_uint_eq(n, s.n);
	rules_container_clear(&want);
	rules_container_clear(&have);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("diff");
	TCase *tc = tcase_create("container");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, diff_names_each_difference, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, diff_names_each_address);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
