/*
 * enforcement: a container counts as enforced only when it is attached,
 * the kernel holds it as stored and its interface exists; otherwise the
 * reason comes first that the platform must fix, then the agent's.
 */

#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "agentd/enforcement.h"

START_TEST(enforced_only_when_everything_holds)
{
	ck_assert_int_eq(enforcement_of(true, true, 1, false), ENFORCEMENT_ENFORCED);
	/* every other combination is not enforced */
	ck_assert_int_ne(enforcement_of(false, true, 1, false), ENFORCEMENT_ENFORCED);
	ck_assert_int_ne(enforcement_of(true, false, 1, false), ENFORCEMENT_ENFORCED);
	ck_assert_int_ne(enforcement_of(true, true, 0, false), ENFORCEMENT_ENFORCED);
	ck_assert_int_ne(enforcement_of(true, true, -1, false), ENFORCEMENT_ENFORCED);
}
END_TEST

START_TEST(reasons_in_order)
{
	/* not attached: nothing else matters, presence is unknown anyway */
	ck_assert_int_eq(enforcement_of(false, false, -1, false), ENFORCEMENT_NOT_ATTACHED);
	ck_assert_int_eq(enforcement_of(false, true, 0, false), ENFORCEMENT_NOT_ATTACHED);
	/* a missing interface before the kernel: the platform's to fix */
	ck_assert_int_eq(enforcement_of(true, false, 0, false), ENFORCEMENT_INTERFACE_MISSING);
	ck_assert_int_eq(enforcement_of(true, true, 0, false), ENFORCEMENT_INTERFACE_MISSING);
	ck_assert_int_eq(enforcement_of(true, true, 2, false), ENFORCEMENT_BRIDGE_PORT);
	ck_assert_int_eq(enforcement_of(true, false, 2, false), ENFORCEMENT_BRIDGE_PORT);
	/* on the bridged path, a bridge port is as any other interface */
	ck_assert_int_eq(enforcement_of(true, true, 2, true), ENFORCEMENT_ENFORCED);
	ck_assert_int_eq(enforcement_of(true, false, 2, true), ENFORCEMENT_KERNEL_OUT_OF_SYNC);
	ck_assert_int_eq(enforcement_of(true, true, 1, true), ENFORCEMENT_ENFORCED);
	/* what the kernel holds is known to be wrong before presence is unknown */
	ck_assert_int_eq(enforcement_of(true, false, 1, false), ENFORCEMENT_KERNEL_OUT_OF_SYNC);
	ck_assert_int_eq(enforcement_of(true, false, -1, false), ENFORCEMENT_KERNEL_OUT_OF_SYNC);
	ck_assert_int_eq(enforcement_of(true, true, -1, false), ENFORCEMENT_INTERFACE_UNKNOWN);
}
END_TEST

START_TEST(names_as_the_api_documents_them)
{
	ck_assert_str_eq(enforcement_name(ENFORCEMENT_ENFORCED), "enforced");
	ck_assert_str_eq(enforcement_name(ENFORCEMENT_NOT_ATTACHED), "not_attached");
	ck_assert_str_eq(enforcement_name(ENFORCEMENT_INTERFACE_MISSING), "interface_missing");
	ck_assert_str_eq(enforcement_name(ENFORCEMENT_KERNEL_OUT_OF_SYNC), "kernel_out_of_sync");
	ck_assert_str_eq(enforcement_name(ENFORCEMENT_INTERFACE_UNKNOWN), "interface_unknown");
	/* never "enforced" for a value out of range */
	ck_assert_str_ne(enforcement_name(ENFORCEMENT_MAX), "enforced");
}
END_TEST

static Suite *
enforcement_suite(void)
{
	Suite *s = suite_create("enforcement");
	TCase *tc = tcase_create("states");

	tcase_add_test(tc, enforced_only_when_everything_holds);
	tcase_add_test(tc, reasons_in_order);
	tcase_add_test(tc, names_as_the_api_documents_them);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(enforcement_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
