/*
 * Strict parsing of "destination" (IPv4 and IPv6), the canonical forms
 * and their formatting.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "rules/rules_int.h"

/* A destination that addr.c has seen a ":" in. */
static int
dest6(const char *s, struct rules_rule *r, struct rules_error *reterr)
{
	return rules_addr6_parse(s, &rules_dest_use, r, reterr);
}

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
	struct rules_rule r = {.daddr = 1, .plen = 99, .family = RULES_FAMILY_IPV6};
	struct rules_error e;

	ck_assert_int_eq(rules_dest_parse(c->in, &r, &e), 0);
	ck_assert_uint_eq(r.family, RULES_FAMILY_IPV4);
	ck_assert_uint_eq(r.daddr, c->daddr);
	ck_assert_uint_eq(r.plen, c->plen);
}
END_TEST

struct refuse_case {
	const char *in;
	const char *why;
};

static const struct refuse_case refused[] = {
	{"", "empty"},
	{"203.0.113.10:443", "a port is not part of the destination; give it in destination_port"},
	{"example.com:443", "a port is not part of a name; give it in destination_port"},
	{"10:", "malformed"},
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

/* A refusal names the field and the value, and leaves the rule alone. */
static void
expect_refused(int (*parse)(const char *, struct rules_rule *, struct rules_error *),
	       const struct refuse_case *c)
{
	static const struct rules_rule untouched = {.daddr = 7, .plen = 99, .daddr6 = {1}};
	struct rules_rule r = untouched;
	char quoted[RULES_QUOTE_SIZE];
	struct rules_error e;

	ck_assert_int_eq(parse(c->in, &r, &e), -EINVAL);
	ck_assert_str_eq(e.code, "invalid_destination");
	ck_assert_str_eq(e.field, "destination");
	ck_assert_msg(strstr(e.message, rules_quote(c->in, quoted)) != NULL,
		      "message \"%s\" does not name %s", e.message, quoted);
	ck_assert_msg(strstr(e.message, c->why) != NULL, "message \"%s\" lacks \"%s\"", e.message,
		      c->why);
	ck_assert_mem_eq(&r, &untouched, sizeof(r));
}

START_TEST(addr_refuses)
{
	expect_refused(rules_dest_parse, &refused[_i]);
}
END_TEST

START_TEST(addr_refusal_says_what_is_accepted)
{
	struct rules_rule r;
	struct rules_error e;

	ck_assert_int_eq(rules_dest_parse("10.1", &r, &e), -EINVAL);
	ck_assert_str_eq(e.message,
			 "destination \"10.1\": short forms are not accepted; write all "
			 "four octets; expected an IPv4 or IPv6 address or network such "
			 "as \"203.0.113.10\", \"10.0.0.0/8\" or \"2001:db8::/32\", or a "
			 "host name such as \"api.stripe.com\"");
}
END_TEST

START_TEST(addr_host_bits_message)
{
	struct rules_rule r;
	struct rules_error e;

	ck_assert_int_eq(rules_dest_parse("10.0.0.1/8", &r, &e), -EINVAL);
	ck_assert_str_eq(e.message, "destination \"10.0.0.1/8\": host bits set; did you mean "
				    "\"10.0.0.0/8\"?");
}
END_TEST

START_TEST(addr_quotes_hostile_values)
{
	struct rules_rule r;
	struct rules_error e;
	char in[200];

	/* control bytes are escaped and long values are cut short */
	memset(in, 'a', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	in[3] = '\x1b';
	ck_assert_int_eq(rules_dest_parse(in, &r, &e), -EINVAL);
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
	uint8_t plen = (uint8_t)_i;
	uint32_t mask = plen == 0 ? 0 : UINT32_MAX << (32 - plen);
	uint32_t daddr = 0xc6336479 & mask;
	struct rules_rule r;
	struct rules_error e;
	char buf[19];

	ck_assert_int_eq(rules_dest_parse(rules_cidr_format(daddr, plen, buf), &r, &e), 0);
	ck_assert_uint_eq(r.daddr, daddr);
	ck_assert_uint_eq(r.plen, plen);
}
END_TEST

/* IPv6: what is accepted, and the canonical form (RFC 5952) it is shown in. */
struct accept6_case {
	const char *in;
	const char *canon;
};

static const struct accept6_case accepted6[] = {
	{"2001:db8::10", "2001:db8::10/128"},
	{"2001:db8::/32", "2001:db8::/32"},
	{"::/0", "::/0"},
	{"::", "::/128"},
	{"::1", "::1/128"},
	{"2001:DB8::A", "2001:db8::a/128"},				 /* upper case */
	{"2001:0db8:0000:0000:0000:0000:0000:0010", "2001:db8::10/128"}, /* leading zeros */
	{"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1/128"},    /* the first of equal runs */
	{"2001:0:0:1:0:0:0:1", "2001:0:0:1::1/128"},	      /* the longest run */
	{"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1/128"}, /* one zero group stays */
	{"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0/128"},	      /* "::" for one group */
	{"::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8/128"},
	{"fe80::/10", "fe80::/10"},
	{"2001:db8:1::/48", "2001:db8:1::/48"},
	{"2001:db8::/127", "2001:db8::/127"},
	{"64:ff9b::102:304", "64:ff9b::102:304/128"},
	{"::fffe:0:0/95", "::fffe:0:0/95"}, /* next to the mapped range, outside it */
	{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"},
};

START_TEST(addr6_accepts)
{
	const struct accept6_case *c = &accepted6[_i];
	struct rules_rule r = {.daddr = 1, .plen = 99};
	char buf[RULES_DEST_STRLEN];
	struct rules_error e;

	ck_assert_msg(dest6(c->in, &r, &e) == 0, "%s: %s", c->in, e.message);
	ck_assert_uint_eq(r.family, RULES_FAMILY_IPV6);
	ck_assert_uint_eq(r.daddr, 0);
	ck_assert_str_eq(rules_dest_format(&r, buf), c->canon);
}
END_TEST

static const struct refuse_case refused6[] = {
	{"::ffff:1.2.3.4", "IPv4-mapped addresses are not accepted: IPv4 packets are matched by "
			   "IPv4 destinations; write \"1.2.3.4/32\""},
	{"::ffff:102:304", "IPv4-mapped addresses are not accepted"},
	{"::FFFF:10.0.0.0/104", "write \"10.0.0.0/8\""},
	{"0:0:0:0:0:ffff:1.2.3.4", "IPv4-mapped"},
	{"::ffff:0:0/96", "write \"0.0.0.0/0\""},
	{"::1.2.3.4", "dotted-quad tails are not accepted; write the last 32 bits as hex groups: "
		      "\"::102:304/128\""},
	{"64:ff9b::192.0.2.1", "\"64:ff9b::c000:201/128\""},
	{"::1.2.3", "malformed dotted-quad tail"},
	{"::1.2.3.4:5", "malformed dotted-quad tail"},
	{"fe80::1%eth0", "zone ids (\"%...\") are not accepted"},
	{"fe80::1%1/64", "zone ids"},
	{"[2001:db8::1]", "brackets are not accepted"},
	{"2001:db8::1/129", "the prefix length is over 128"},
	{"2001:db8::/0129", "leading zeros in the prefix length"},
	{"2001:db8::/", "missing prefix length"},
	{"2001:db8::/x", "the prefix length must be a decimal number 0-128"},
	{"2001:db8::1/64", "host bits set; did you mean \"2001:db8::/64\"?"},
	{"2001:db8::1/0", "did you mean \"::/0\"?"},
	{"2001:db9::/31", "did you mean \"2001:db8::/31\"?"},
	{":::1", "three colons in a row"},
	{"1:::", "three colons in a row"},
	{"1::2::3", "\"::\" may appear only once"},
	{"1:2:3:4:5:6:7:8:9", "more than 8 groups"},
	{"1:2:3:4::5:6:7:8", "more than 8 groups"},
	{"1:2:3:4:5:6:7:1.2.3.4", "more than 8 groups"},
	{"1:2:3:4:5:6:7", "8 groups are needed unless \"::\" stands for the missing ones"},
	{"2001:db8:0:0:0:0:0", "8 groups are needed"},
	{"12345::", "a group has more than 4 hex digits"},
	{"2001:00db8::", "more than 4 hex digits"},
	{":1::", "cannot begin with a single \":\""},
	{"1::2:", "cannot end with a single \":\""},
	{"2001:dg8::", "\"g\" is not a hex digit"},
	{"2001:db8::-1", "\"-\" is not a hex digit"},
	{"2001:db8::\x7f", "byte 0x7f is not a hex digit"},
	{"/64", "missing address"},
};

START_TEST(addr6_refuses)
{
	expect_refused(dest6, &refused6[_i]);
}
END_TEST

START_TEST(addr6_messages)
{
	struct rules_rule r;
	struct rules_error e;

	ck_assert_int_eq(dest6("2001:db8::1/64", &r, &e), -EINVAL);
	ck_assert_str_eq(e.message, "destination \"2001:db8::1/64\": host bits set; did you mean "
				    "\"2001:db8::/64\"?");
	ck_assert_int_eq(dest6(":::1", &r, &e), -EINVAL);
	ck_assert_str_eq(e.message, "destination \":::1\": three colons in a row; expected an IPv4 "
				    "or IPv6 address or network such as \"203.0.113.10\", "
				    "\"10.0.0.0/8\" or \"2001:db8::/32\", or a host name such as "
				    "\"api.stripe.com\"");
}
END_TEST

/* Every prefix length of an IPv6 network formats and parses back to itself. */
START_TEST(addr6_round_trip)
{
	static const uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0, 0, 0x12,
				      0,    0,	  0xab, 0xcd, 0,    0, 0, 0x01};
	unsigned plen = (unsigned)_i, i;
	struct rules_rule r, back;
	char buf[RULES_DEST_STRLEN];
	struct rules_error e;

	memset(&r, 0, sizeof(r));
	r.family = RULES_FAMILY_IPV6;
	r.plen = (uint8_t)plen;
	for (i = 0; i < 16; i++)
		r.daddr6[i] = plen >= 8 * (i + 1) ? a[i]
			      : plen <= 8 * i	  ? 0
						  : a[i] & (uint8_t)(0xff << (8 - (plen - 8 * i)));
	memset(&back, 0, sizeof(back));
	ck_assert_msg(dest6(rules_dest_format(&r, buf), &back, &e) == 0, "%s: %s", buf, e.message);
	ck_assert(rules_dest_equal(&r, &back));
}
END_TEST

START_TEST(addr_families_differ)
{
	struct rules_rule a, b;
	struct rules_error e;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(rules_dest_parse("0.0.0.0/0", &a, &e), 0);
	ck_assert_int_eq(dest6("::/0", &b, &e), 0);
	ck_assert(!rules_dest_equal(&a, &b));
	ck_assert(rules_dest_equal(&a, &a));
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
	tcase_add_loop_test(tc, addr6_accepts, 0, sizeof(accepted6) / sizeof(accepted6[0]));
	tcase_add_loop_test(tc, addr6_refuses, 0, sizeof(refused6) / sizeof(refused6[0]));
	tcase_add_test(tc, addr6_messages);
	tcase_add_test(tc, addr_families_differ);
	suite_add_tcase(s, tc);
	tc = tcase_create("format");
	tcase_add_test(tc, addr_format);
	tcase_add_loop_test(tc, addr_round_trip, 0, 33);
	tcase_add_loop_test(tc, addr6_round_trip, 0, 129);
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
