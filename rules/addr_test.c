/*
 * Strict IPv4/CIDR parsing of "destination" and rules_cidr_format().
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "rules/rules_int.h"

struct accept_case {
	const char *in;
	uint32_t daddr;
	uint8_t plen;
};

static const struct accept_case accepted[] = {
	{"203.0.113.10", 0xcb00710a, 32},
	{"203.0.113.10/32", 0xcb00710a, 32},
	{"10.0.0.0/8", 0x0a000000, 8},
	{"0.0.0.0/0", 0, 0},
	{"0.0.0.0", 0, 32},
	{"255.255.255.255", 0xffffffff, 32},
	{"192.168.1.0/24", 0xc0a80100, 24},
	{"172.16.0.0/12", 0xac100000, 12},
	{"100.64.0.0/10", 0x64400000, 10},
};

START_TEST(addr_accepts)
{
	const struct accept_case *c = &accepted[_i];
	struct rules_error e;
	uint32_t daddr = 1;
	uint8_t plen = 99;

	ck_assert_int_eq(rules_cidr_parse(c->in, &daddr, &plen, &e), 0);
	ck_assert_uint_eq(daddr, c->daddr);
	ck_assert_uint_eq(plen, c->plen);
}
END_TEST

struct refuse_case {
	const char *in;
	const char *why;
};

static const struct refuse_case refused[] = {
	{"", "empty"},
	{"example.com", "hostnames are not accepted; resolve it first"},
	{"localhost", "numeric IPv4 only"},
	{"256.example.com", "hostnames"},
	{"::1", "IPv6"},
	{"2001:db8::/32", "IPv6"},
	{"::ffff:10.0.0.1", "IPv6"},
	{"10.0.0.0/33", "over 32"},
	{"10.0.0.0/99999999999", "over 32"},
	{"10.0.0.0/", "missing prefix length"},
	{"10.0.0.0/033", "leading zeros in the prefix"},
	{"10.0.0.0/00", "leading zeros in the prefix"},
	{"10.0.0.0/-1", "decimal number 0-32"},
	{"10.0.0.0/8x", "decimal number 0-32"},
	{"10.0.0.0/8/8", "decimal number 0-32"},
	{"10.0.0.256", "octets are 0-255"},
	{"300.1.1.1", "octets are 0-255"},
	{"1.2.3.99999999999", "octets are 0-255"},
	{"010.0.0.1", "leading zeros"},
	{"10.0.0.01", "octal"},
	{"0x0a.0.0.1", "hexadecimal"},
	{"10.0.0.0X1", "hexadecimal"},
	{"10.0X0a.0.1", "hexadecimal"},
	{"10.1", "write all four octets"},
	{"10", "short forms"},
	{"10.0.0", "short forms"},
	{"10..0.1", "malformed"},
	{"10.0.0.", "malformed"},
	{".10.0.0.1", "malformed"},
	{"10,0,0,1", "malformed"},
	{" 10.0.0.1", "whitespace"},
	{"10.0.0.1 ", "whitespace"},
	{"10.0.0.0/ 8", "whitespace"},
	{"10.0.0.1\n", "whitespace"},
	{"10.0.0.1x", "after the address"},
	{"10.0.0.1.5", "after the address"},
	{"10.0.0.1#", "after the address"},
	{"10.0.0.1/8", "host bits set; did you mean \"10.0.0.0/8\"?"},
	{"192.168.1.77/24", "did you mean \"192.168.1.0/24\""},
	{"10.0.0.0/0", "did you mean \"0.0.0.0/0\""},
};

START_TEST(addr_refuses)
{
	const struct refuse_case *c = &refused[_i];
	char quoted[RULES_QUOTE_SIZE];
	struct rules_error e;
	uint32_t daddr = 7;
	uint8_t plen = 99;

	ck_assert_int_eq(rules_cidr_parse(c->in, &daddr, &plen, &e), -EINVAL);
	ck_assert_str_eq(e.code, "invalid_destination");
	ck_assert_str_eq(e.field, "destination");
	ck_assert_msg(strstr(e.message, rules_quote(c->in, quoted)) != NULL,
		      "message \"%s\" does not name %s", e.message, quoted);
	ck_assert_msg(strstr(e.message, c->why) != NULL, "message \"%s\" lacks \"%s\"", e.message,
		      c->why);
	/* outputs are left alone on failure */
	ck_assert_uint_eq(daddr, 7);
	ck_assert_uint_eq(plen, 99);
}
END_TEST

START_TEST(addr_refusal_says_what_is_accepted)
{
	struct rules_error e;
	uint32_t daddr;
	uint8_t plen;

	ck_assert_int_eq(rules_cidr_parse("10.1", &daddr, &plen, &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.message, "expected an IPv4 address or CIDR"));
	ck_assert_str_eq(e.message, "destination \"10.1\": short forms are not accepted; write all "
				    "four octets; expected an IPv4 address or CIDR such as "
				    "\"203.0.113.10\" or \"10.0.0.0/8\"");
}
END_TEST

START_TEST(addr_host_bits_message)
{
	struct rules_error e;
	uint32_t daddr;
	uint8_t plen;

	ck_assert_int_eq(rules_cidr_parse("10.0.0.1/8", &daddr, &plen, &e), -EINVAL);
	ck_assert_str_eq(e.message, "destination \"10.0.0.1/8\": host bits set; did you mean "
				    "\"10.0.0.0/8\"?");
}
END_TEST

START_TEST(addr_quotes_hostile_values)
{
	struct rules_error e;
	uint32_t daddr;
	uint8_t plen;
	char in[200];

	/* control bytes are escaped and long values are cut short */
	memset(in, 'a', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	in[3] = '\x1b';
	ck_assert_int_eq(rules_cidr_parse(in, &daddr, &plen, &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.message, "\"aaa\\x1baaa"));
	ck_assert_ptr_nonnull(strstr(e.message, "...\""));
	ck_assert_ptr_null(strchr(e.message, '\x1b'));
}
END_TEST

START_TEST(addr_format)
{
	char buf[19];

	ck_assert_str_eq(rules_cidr_format(0xcb00710a, 32, buf), "203.0.113.10/32");
	ck_assert_str_eq(rules_cidr_format(0, 0, buf), "0.0.0.0/0");
	ck_assert_str_eq(rules_cidr_format(0x0a000000, 8, buf), "10.0.0.0/8");
	ck_assert_str_eq(rules_cidr_format(0xffffffff, 32, buf), "255.255.255.255/32");
}
END_TEST

/* Every prefix length formats and parses back to itself. */
START_TEST(addr_round_trip)
{
	uint8_t plen = (uint8_t)_i, got_plen;
	uint32_t mask = plen == 0 ? 0 : UINT32_MAX << (32 - plen);
	uint32_t daddr = 0xc6336479 & mask, got;
	struct rules_error e;
	char buf[19];

	ck_assert_int_eq(rules_cidr_parse(rules_cidr_format(daddr, plen, buf), &got, &got_plen, &e),
			 0);
	ck_assert_uint_eq(got, daddr);
	ck_assert_uint_eq(got_plen, plen);
}
END_TEST

static Suite *
addr_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, addr_accepts, 0, sizeof(accepted) / sizeof(accepted[0]));
	tcase_add_loop_test(tc, addr_refuses, 0, sizeof(refused) / sizeof(refused[0]));
	tcase_add_test(tc, addr_refusal_says_what_is_accepted);
	tcase_add_test(tc, addr_host_bits_message);
	tcase_add_test(tc, addr_quotes_hostile_values);
	suite_add_tcase(s, tc);
	tc = tcase_create("format");
	tcase_add_test(tc, addr_format);
	tcase_add_loop_test(tc, addr_round_trip, 0, 33);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(addr_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
