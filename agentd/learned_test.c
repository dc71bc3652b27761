/*
 * learned: an answer never shortens what an earlier one opened, repeats
 * that open nothing longer cost nothing, entries past their time go,
 * containers are apart, and at the bound the address that closes first
 * makes room.
 */

#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "agentd/learned.h"
#include "rules/rules.h"

static struct learned_key
key4(uint32_t name_id, uint8_t last)
{
	struct learned_key k = {.name_id = name_id, .family = RULES_FAMILY_IPV4};

	k.addr[0] = 203;
	k.addr[2] = 113;
	k.addr[3] = last;
	return k;
}

START_TEST(longer_opens_shorter_keeps)
{
	struct learned *l = learned_new(16);
	struct learned_key k = key4(0x10001, 10), ev;
	bool evicted;

	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(learned_note(l, "c1", &k, 30000, 30000, 0, &ev, &evicted), LEARNED_OPEN);
	/* the same until, or an earlier one: open already */
	ck_assert_int_eq(learned_note(l, "c1", &k, 30000, 30000, 100, &ev, &evicted), LEARNED_KEEP);
	ck_assert_int_eq(learned_note(l, "c1", &k, 5000, 5000, 200, &ev, &evicted), LEARNED_KEEP);
	ck_assert_int_eq(learned_note(l, "c1", &k, 31000, 31000, 300, &ev, &evicted), LEARNED_OPEN);
	ck_assert(!evicted);
	ck_assert_uint_eq(learned_count(l, "c1"), 1);
	/* the same address for another rule, another family's zeroes, another container */
	k.name_id = 0x10002;
	ck_assert_int_eq(learned_note(l, "c1", &k, 1000, 1000, 300, &ev, &evicted), LEARNED_OPEN);
	k.name_id = 0x10001;
	ck_assert_int_eq(learned_note(l, "c2", &k, 1000, 1000, 300, &ev, &evicted), LEARNED_OPEN);
	k.family = RULES_FAMILY_IPV6;
	ck_assert_int_eq(learned_note(l, "c1", &k, 1000, 1000, 300, &ev, &evicted), LEARNED_OPEN);
	ck_assert_uint_eq(learned_count(l, "c1"), 3);
	/* granted longer than needed: repeats within the slack cost nothing */
	k = key4(0x10003, 10);
	ck_assert_int_eq(learned_note(l, "c1", &k, 10000, 11000, 300, &ev, &evicted), LEARNED_OPEN);
	ck_assert_int_eq(learned_note(l, "c1", &k, 10900, 11900, 1200, &ev, &evicted),
			 LEARNED_KEEP);
	ck_assert_int_eq(learned_note(l, "c1", &k, 11100, 12100, 1400, &ev, &evicted),
			 LEARNED_OPEN);
	learned_free(l);
}
END_TEST

START_TEST(past_entries_go)
{
	struct learned *l = learned_new(16);
	struct learned_key k = key4(0x10001, 10), ev;
	bool evicted;

	ck_assert_int_eq(learned_note(l, "c1", &k, 1000, 1000, 0, &ev, &evicted), LEARNED_OPEN);
	/* at its time the element is gone from the kernel: open it again */
	ck_assert_int_eq(learned_note(l, "c1", &k, 900, 900, 1000, &ev, &evicted), LEARNED_OPEN);
	ck_assert_uint_eq(learned_count(l, "c1"), 1);
	learned_forget(l, "c1");
	ck_assert_uint_eq(learned_count(l, "c1"), 0);
	/* forgotten: the next answer opens, whatever the kernel holds */
	ck_assert_int_eq(learned_note(l, "c1", &k, 900, 900, 1000, &ev, &evicted), LEARNED_OPEN);
	learned_free(l);
}
END_TEST

START_TEST(bound_evicts_the_first_to_close)
{
	struct learned *l = learned_new(3);
	struct learned_key k, ev;
	bool evicted;

	k = key4(1 << 16 | 1, 1);
	ck_assert_int_eq(learned_note(l, "c1", &k, 5000, 5000, 0, &ev, &evicted), LEARNED_OPEN);
	k = key4(1 << 16 | 1, 2);
	ck_assert_int_eq(learned_note(l, "c1", &k, 2000, 2000, 0, &ev, &evicted), LEARNED_OPEN);
	k = key4(1 << 16 | 1, 3);
	ck_assert_int_eq(learned_note(l, "c1", &k, 9000, 9000, 0, &ev, &evicted), LEARNED_OPEN);
	ck_assert(!evicted);
	/* another container has a bound of its own */
	ck_assert_int_eq(learned_note(l, "c2", &k, 9000, 9000, 0, &ev, &evicted), LEARNED_OPEN);
	ck_assert(!evicted);
	k = key4(1 << 16 | 1, 4);
	ck_assert_int_eq(learned_note(l, "c1", &k, 4000, 4000, 0, &ev, &evicted), LEARNED_OPEN);
	ck_assert(evicted);
	ck_assert_uint_eq(ev.addr[3], 2); /* until 2000: the first to close */
	ck_assert_uint_eq(learned_count(l, "c1"), 3);
	/* .2 is not in the account any more: it opens again, .1 goes */
	k = key4(1 << 16 | 1, 2);
	ck_assert_int_eq(learned_note(l, "c1", &k, 6000, 6000, 0, &ev, &evicted), LEARNED_OPEN);
	ck_assert(evicted);
	ck_assert_uint_eq(ev.addr[3], 4);
	learned_free(l);
}
END_TEST

/* Many addresses: each found again after the index grew, and the bound holds. */
START_TEST(many)
{
	struct learned *l = learned_new(5000);
	struct learned_key k, ev;
	bool evicted;
	uint32_t i;

	for (i = 0; i < 5000; i++) {
		k = key4(1 << 16 | (i % 7 + 1), (uint8_t)i);
		k.addr[2] = (uint8_t)(i >> 8);
		ck_assert_int_eq(learned_note(l, "c1", &k, 10000 + i, 10000 + i, 0, &ev, &evicted),
				 LEARNED_OPEN);
		ck_assert(!evicted);
	}
	for (i = 0; i < 5000; i++) {
		k = key4(1 << 16 | (i % 7 + 1), (uint8_t)i);
		k.addr[2] = (uint8_t)(i >> 8);
		ck_assert_int_eq(learned_note(l, "c1", &k, 10000, 10000, 0, &ev, &evicted),
				 LEARNED_KEEP);
	}
	/* at the bound, with half past their time: swept, nothing evicted */
	k = key4(2 << 16 | 1, 1);
	ck_assert_int_eq(learned_note(l, "c1", &k, 20000, 20000, 12500, &ev, &evicted),
			 LEARNED_OPEN);
	ck_assert(!evicted);
	ck_assert_uint_eq(learned_count(l, "c1"), 2500);
	learned_free(l);
}
END_TEST

static Suite *
learned_suite(void)
{
	Suite *s = suite_create("learned");
	TCase *tc = tcase_create("account");

	tcase_add_test(tc, longer_opens_shorter_keeps);
	tcase_add_test(tc, past_entries_go);
	tcase_add_test(tc, bound_evicts_the_first_to_close);
	tcase_add_test(tc, many);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(learned_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
