/*
 * A container's state file: what is rendered parses back equal, and
 * revisions outside 1..10^15 or not whole are refused (a double cast to
 * an integer it does not fit is undefined).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "rules/rules_int.h"

#define FW                                                                                         \
	"\"firewall\": {\"interface\": \"veth1\", \"rules\": [{\"id\": \"web\", "                  \
	"\"destination\": \"203.0.113.0/24\", \"protocol\": \"tcp\", "                             \
	"\"destination_port\": \"443\", \"action\": \"allow\"}]}"

static int
parse(const char *text, struct rules_container *c, uint64_t *rev, struct rules_error *e)
{
	return rules_state_parse(text, strlen(text), "c1", c, rev, e);
}

START_TEST(state_round_trip)
{
	static const char text[] = "{\"revision\": 7, " FW "}";
	struct rules_container c = {0}, again = {0};
	struct rules_error e;
	uint64_t rev = 0, rev2 = 0;
	char *out;

	ck_assert_int_eq(parse(text, &c, &rev, &e), 0);
	ck_assert_uint_eq(rev, 7);
	ck_assert_str_eq(c.ifname, "veth1");
	ck_assert_uint_eq(c.nrules, 1);
	out = rules_state_render(&c, 1000000000000000ULL);
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(parse(out, &again, &rev2, &e), 0);
	ck_assert_uint_eq(rev2, 1000000000000000ULL);
	ck_assert(rules_container_equal(&c, &again));
	free(out);
	rules_container_clear(&c);
	rules_container_clear(&again);
}
END_TEST

START_TEST(state_refused)
{
	static const char *const bad[] = {
		"{\"revision\": 0, " FW "}",
		"{\"revision\": -1, " FW "}",
		"{\"revision\": 1.5, " FW "}",
		"{\"revision\": 1e300, " FW "}",
		"{\"revision\": 1000000000000001, " FW "}",
		"{\"revision\": \"1\", " FW "}",
		"{\"revision\": 1}",
		"{" FW "}",
		"[1]",
		"{\"revision\": 1, " FW,
	};
	struct rules_container c = {0};
	struct rules_error e;
	uint64_t rev = 42;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(parse(bad[i], &c, &rev, &e) == -EINVAL, "accepted: %s", bad[i]);
		ck_assert_str_eq(e.code, "invalid_state_file");
		ck_assert_uint_eq(rev, 42);
		ck_assert_uint_eq(c.nrules, 0);
	}
}
END_TEST

static Suite *
state_suite(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("file");

	tcase_add_test(tc, state_round_trip);
	tcase_add_test(tc, state_refused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(state_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
