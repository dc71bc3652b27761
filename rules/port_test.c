/*
 * "destination_port" strings: strict parsing, sort and merge, format.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "rules/rules_int.h"

struct accept_case {
	const char *in;
	const char *canonical; /* rules_ports_format() after sort and merge */
	uint8_t n;
};

static const struct accept_case accepted[] = {
	{"443", "443", 1},
	{"1", "1", 1},
	{"65535", "65535", 1},
	{"8000-9000", "8000-9000", 1},
	{"1-65535", "1-65535", 1},
	{"80-80", "80", 1},
	{"80,443,8000-8100", "80,443,8000-8100", 3},
	{"443,80", "80,443", 2},
	{"80-90,85", "80-90", 1},
	{"85,80-90", "80-90", 1},
	{"80,81", "80-81", 1},
	{"81,80", "80-81", 1},
	{"80,80", "80", 1},
	{"100-200,50-99,201", "50-201", 1},
	{"10-20,30-40,15-35", "10-40", 1},
	{"65535,65534", "65534-65535", 1},
	{"1-65535,80", "1-65535", 1},
	{"9,7,5,3,1", "1,3,5,7,9", 5},
	{"1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31", "1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31",
	 16},
};

START_TEST(port_accepts)
{
	const struct accept_case *c = &accepted[_i];
	struct rules_rule r;
	struct rules_error e;
	char buf[RULES_PORTS_STRLEN];

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(rules_ports_parse(c->in, r.ports, &r.nports, &e), 0);
	ck_assert_uint_eq(r.nports, c->n);
	ck_assert_str_eq(rules_ports_format(&r, buf, sizeof(buf)), c->canonical);
}
END_TEST

START_TEST(port_sorted_and_merged)
{
	struct rules_port_range p[RULES_PORTS_MAX];
	struct rules_error e;
	uint8_t n;

	ck_assert_int_eq(rules_ports_parse("8000-8100,443,80,444", p, &n, &e), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(p[0].lo, 80);
	ck_assert_uint_eq(p[0].hi, 80);
	ck_assert_uint_eq(p[1].lo, 443);
	ck_assert_uint_eq(p[1].hi, 444);
	ck_assert_uint_eq(p[2].lo, 8000);
	ck_assert_uint_eq(p[2].hi, 8100);
}
END_TEST

struct refuse_case {
	const char *in;
	const char *why;
};

static const struct refuse_case refused[] = {
	{"", "empty"},
	{"0", "ports are 1-65535"},
	{"65536", "ports are 1-65535"},
	{"99999999999999999999", "ports are 1-65535"},
	{"0-80", "ports are 1-65535"},
	{"80-65536", "ports are 1-65535"},
	{"9000-8000", "range 9000-8000 is reversed"},
	{"80,,443", "empty item"},
	{"80,", "empty item"},
	{",80", "empty item"},
	{",", "empty item"},
	{"1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", "more than 16 items"},
	{" 80", "spaces"},
	{"80 ", "spaces"},
	{"80, 443", "spaces"},
	{"80 - 90", "spaces"},
	{"80\t", "spaces"},
	{"+80", "signs"},
	{"-80", "signs"},
	{"80-+90", "signs"},
	{"80--90", "signs"},
	{"080", "leading zeros"},
	{"80-090", "leading zeros"},
	{"00", "leading zeros"},
	{"8000-", "a port is missing"},
	{"8000-,80", "a port is missing"},
	{"80a", "unexpected characters"},
	{"http", "unexpected characters"},
	{"80-90-100", "unexpected characters"},
	{"80;443", "unexpected characters"},
	{"0x50", "unexpected characters"},
	{"80.5", "unexpected characters"},
};

START_TEST(port_refuses)
{
	const struct refuse_case *c = &refused[_i];
	struct rules_port_range p[RULES_PORTS_MAX] = {{7, 7}};
	char quoted[RULES_QUOTE_SIZE];
	struct rules_error e;
	uint8_t n = 42;

	ck_assert_int_eq(rules_ports_parse(c->in, p, &n, &e), -EINVAL);
	ck_assert_str_eq(e.code, "invalid_port");
	ck_assert_str_eq(e.field, "destination_port");
	ck_assert_msg(strstr(e.message, rules_quote(c->in, quoted)) != NULL,
		      "message \"%s\" does not name %s", e.message, quoted);
	ck_assert_msg(strstr(e.message, c->why) != NULL, "message \"%s\" lacks \"%s\"", e.message,
		      c->why);
	ck_assert_uint_eq(n, 42);
	ck_assert_uint_eq(p[0].lo, 7);
}
END_TEST

START_TEST(port_zero_message)
{
	struct rules_port_range p[RULES_PORTS_MAX];
	struct rules_error e;
	uint8_t n;

	ck_assert_int_eq(rules_ports_parse("0", p, &n, &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.message, "destination_port \"0\": ports are 1-65535"));
	/* and what is accepted */
	ck_assert_ptr_nonnull(strstr(e.message, "\"80,443,8000-8100\""));
}
END_TEST

START_TEST(port_format_every_port)
{
	struct rules_rule r;
	char buf[8] = "junk";

	memset(&r, 0, sizeof(r));
	ck_assert_str_eq(rules_ports_format(&r, buf, sizeof(buf)), "");
}
END_TEST

START_TEST(port_format_truncates_safely)
{
	struct rules_port_range p[RULES_PORTS_MAX];
	struct rules_rule r;
	struct rules_error e;
	char buf[8];

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(rules_ports_parse("80,443,8000-8100", p, &r.nports, &e), 0);
	memcpy(r.ports, p, sizeof(p));
	ck_assert_str_eq(rules_ports_format(&r, buf, sizeof(buf)), "80,443,");
	ck_assert_str_eq(rules_ports_format(&r, buf, 3), "80");
}
END_TEST

/* The longest list fits RULES_PORTS_STRLEN. */
START_TEST(port_format_longest)
{
	struct rules_rule r;
	char buf[RULES_PORTS_STRLEN];
	uint8_t i;

	memset(&r, 0, sizeof(r));
	r.nports = RULES_PORTS_MAX;
	for (i = 0; i < RULES_PORTS_MAX; i++) {
		r.ports[i].lo = (uint16_t)(10000 + i * 3000);
		r.ports[i].hi = (uint16_t)(10000 + i * 3000 + 1000);
	}
	rules_ports_format(&r, buf, sizeof(buf));
	ck_assert_uint_eq(strlen(buf), 16 * 11 + 15);
	ck_assert_str_eq(buf + strlen(buf) - 11, "55000-56000");
}
END_TEST

static Suite *
port_suite(void)
{
	Suite *s = suite_create("port");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, port_accepts, 0, sizeof(accepted) / sizeof(accepted[0]));
	tcase_add_test(tc, port_sorted_and_merged);
	tcase_add_loop_test(tc, port_refuses, 0, sizeof(refused) / sizeof(refused[0]));
	tcase_add_test(tc, port_zero_message);
	suite_add_tcase(s, tc);
	tc = tcase_create("format");
	tcase_add_test(tc, port_format_every_port);
	tcase_add_test(tc, port_format_truncates_safely);
	tcase_add_test(tc, port_format_longest);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(port_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
