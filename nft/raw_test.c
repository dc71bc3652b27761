/*
 * raw_elems_foreach() on set elements as a dump might hand them over,
 * built by hand: the well-formed ones read, and inner attributes that
 * claim more than their outer attribute holds, or a verdict code of the
 * wrong size, make the element unreadable (NULL), never read past it.
 */

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "nft/nft_int.h"

static char buf[4096];

struct seen {
	unsigned int n, null;
	struct raw_elem e;
};

static int
seen_cb(const struct raw_elem *e, void *data)
{
	struct seen *s = data;

	s->n++;
	if (e == NULL)
		s->null++;
	else
		s->e = *e;
	return 0;
}

/* One element: key (its inner length lied about by key_lie), a goto verdict of code_len bytes. */
static struct nlmsghdr *
message(int key_lie, size_t code_len)
{
	struct nlmsghdr *nlh;
	struct nlattr *list, *elem, *key, *val, *data, *verdict;
	uint32_t mark = htonl(0x80010000), code = htonl(NFT_GOTO);

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSETELEM;
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct nfgenmsg));
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	elem = mnl_attr_nest_start(nlh, 1);
	key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
	val = (struct nlattr *)mnl_nlmsg_get_payload_tail(nlh);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, sizeof(mark), &mark);
	mnl_attr_nest_end(nlh, key);
	val->nla_len = (uint16_t)(val->nla_len + key_lie);
	data = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_DATA);
	verdict = mnl_attr_nest_start(nlh, NFTA_DATA_VERDICT);
	mnl_attr_put(nlh, NFTA_VERDICT_CODE, code_len, &code);
	mnl_attr_put_strz(nlh, NFTA_VERDICT_CHAIN, "b_web");
	mnl_attr_nest_end(nlh, verdict);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, elem);
	mnl_attr_nest_end(nlh, list);
	return nlh;
}

START_TEST(elem_well_formed)
{
	struct seen s = {0};

	ck_assert_int_eq(raw_elems_foreach(message(0, 4), seen_cb, &s), 0);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_uint_eq(s.null, 0);
	ck_assert_uint_eq(s.e.key_len, 4);
	ck_assert_int_eq(s.e.verdict, NFT_GOTO);
	ck_assert_str_eq(s.e.chain, "b_web");
}
END_TEST

START_TEST(elem_key_overruns)
{
	struct seen s = {0};

	/* the key's value claims 64 bytes more than the key holds */
	ck_assert_int_eq(raw_elems_foreach(message(64, 4), seen_cb, &s), 0);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_uint_eq(s.null, 1);
}
END_TEST

START_TEST(elem_key_too_short)
{
	struct seen s = {0};

	/* a value length below its own header */
	ck_assert_int_eq(raw_elems_foreach(message(-6, 4), seen_cb, &s), 0);
	ck_assert_uint_eq(s.null, 1);
}
END_TEST

START_TEST(elem_verdict_code_short)
{
	struct seen s = {0};

	ck_assert_int_eq(raw_elems_foreach(message(0, 2), seen_cb, &s), 0);
	ck_assert_uint_eq(s.null, 1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("raw");
	TCase *tc = tcase_create("elements");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, elem_well_formed);
	tcase_add_test(tc, elem_key_overruns);
	tcase_add_test(tc, elem_key_too_short);
	tcase_add_test(tc, elem_verdict_code_short);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
