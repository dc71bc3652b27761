/*
 * batch.c without a kernel: every message of a transaction maps back to
 * the container and rule it was built for, and an error on one element
 * of a message shared by several containers names that element's owner.
 */

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "nft/nft_int.h"

static struct nft_conn conn = {.seq = 1000, .table = "t"};

static uint32_t
add_rule_msg(struct nft_batch *b, const char *container, const char *rule)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	uint32_t seq;
	char *buf = nft_batch_reserve(b, container, rule, "add rule", &seq);
	struct nlmsghdr *nlh;

	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(buf);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, "t");
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "c");
	nlh = nftnl_rule_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE, NFPROTO_INET, 0, seq);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	ck_assert_int_eq(nft_batch_next(b), 0);
	return seq;
}

START_TEST(messages_map_to_their_origin)
{
	struct nft_batch *b = nft_batch_new(&conn, 0);
	struct nft_error err;
	uint32_t s1, s2;

	ck_assert_ptr_nonnull(b);
	s1 = add_rule_msg(b, "web", "r1");
	s2 = add_rule_msg(b, "db", NULL);
	memset(&err, 0, sizeof(err));
	nft_batch_explain(b, s2, 0, &err);
	ck_assert_str_eq(err.container, "db");
	ck_assert_str_eq(err.rule, "");
	ck_assert_str_eq(err.what, "add rule");
	memset(&err, 0, sizeof(err));
	nft_batch_explain(b, s1, 0, &err);
	ck_assert_str_eq(err.container, "web");
	ck_assert_str_eq(err.rule, "r1");
	memset(&err, 0, sizeof(err));
	nft_batch_explain(b, s2 + 100, 0, &err); /* not a message of ours */
	ck_assert_str_eq(err.what, "transaction");
	ck_assert_str_eq(err.container, "");
	nft_batch_free(b);
}
END_TEST

/* Three elements of three containers in one message, as apply sends them. */
START_TEST(element_errors_name_their_container)
{
	static const char *const owners[] = {"alpha", "beta", "gamma"};
	static const char *const ifnames[] = {"hc1", "hc2", "hc3"};
	struct nft_batch *b = nft_batch_new(&conn, 0);
	struct nftnl_set *s = nftnl_set_alloc();
	const struct nlattr *a, *e;
	struct nlmsghdr *nlh;
	struct nft_error err;
	uint32_t seq;
	size_t i;
	char *buf;

	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(s);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, "t");
	nftnl_set_set_str(s, NFTNL_SET_NAME, "allow");
	for (i = 0; i < 3; i++)
		nftnl_set_elem_add(s, layout_tag_elem(ifnames[i], 10 + i, NULL, "tail", 4, 0));
	add_rule_msg(b, "before", NULL);
	buf = nft_batch_reserve(b, NULL, NULL, "add allow element", &seq);
	nlh = nftnl_set_elem_nlmsg_build_hdr(buf, NFT_MSG_NEWSETELEM, NFPROTO_INET, 0, seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nft_batch_owners(b, owners);
	ck_assert_int_eq(nft_batch_next(b), 0);

	/* an offset inside each element names that element's owner */
	i = 0;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
	{
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(e, a)
		{
			uint32_t off = (const char *)e - (const char *)nlh + 4;

			memset(&err, 0, sizeof(err));
			nft_batch_explain(b, seq, off, &err);
			ck_assert_str_eq(err.container, owners[i]);
			ck_assert_str_eq(err.what, "add allow element");
			i++;
		}
	}
	ck_assert_uint_eq(i, 3);
	/* no offset: the message, but no one container */
	memset(&err, 0, sizeof(err));
	nft_batch_explain(b, seq, 0, &err);
	ck_assert_str_eq(err.container, "");
	nftnl_set_free(s);
	nft_batch_free(b);
}
END_TEST

static Suite *
batch_suite(void)
{
	Suite *s = suite_create("batch");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, messages_map_to_their_origin);
	tcase_add_test(tc, element_errors_name_their_container);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(batch_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
