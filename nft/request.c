/*
 * The requests a reading of the table sends: a dump of one object kind,
 * and the head of a request about one set's elements.
 */

#include <errno.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "nft/dump_int.h"

struct nlmsghdr *
request_set_elems(struct nft_conn *c, char *buf, uint8_t family, const char *set, uint16_t flags)
{
	struct nlmsghdr *nlh =
		nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, family, flags, nft_conn_seq(c));

	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, c->table);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
	return nlh;
}

/* The head of a request about set which's elements. */
struct nlmsghdr *
request_elems(struct nft_conn *c, char *buf, enum layout_set which, uint16_t flags)
{
	return request_set_elems(c, buf, layout_set_family(which), layout_set_names[which], flags);
}

/*
 * One object kind of the table: a dump request and its callback. Rules
 * are asked for one chain at a time: the kernel resumes a table-wide
 * rule dump by walking every rule again up to where the last reply
 * stopped, which is quadratic; a chain's dump starts from a hash lookup
 * of the chain.
 */
int
request_dump(struct nft_conn *c, struct dump *d, uint16_t type, const char *chain, mnl_cb_t cb)
{
	NFT_MSG_ALIGNED char buf[NFT_REQ_BUF] = {0};
	uint8_t family = d->family ? d->family : NFPROTO_INET;
	struct nlmsghdr *nlh;
	uint16_t flags = NLM_F_DUMP;
	int r;

	switch (type) {
	case NFT_MSG_GETTABLE: {
		struct nftnl_table *t = nftnl_table_alloc();

		if (t == NULL)
			return -ENOMEM;
		nftnl_table_set_str(t, NFTNL_TABLE_NAME, c->table);
		nlh = nftnl_table_nlmsg_build_hdr(buf, type, family, NLM_F_ACK, nft_conn_seq(c));
		nftnl_table_nlmsg_build_payload(nlh, t);
		nftnl_table_free(t);
		break;
	}
	case NFT_MSG_GETSETELEM:
		nlh = request_elems(c, buf, d->set, flags);
		break;
	case NFT_MSG_GETRULE: {
		struct nftnl_rule *ru = nftnl_rule_alloc();

		if (ru == NULL)
			return -ENOMEM;
		nftnl_rule_set_str(ru, NFTNL_RULE_TABLE, c->table);
		nftnl_rule_set_str(ru, NFTNL_RULE_CHAIN, chain);
		nlh = nftnl_rule_nlmsg_build_hdr(buf, type, family, flags, nft_conn_seq(c));
		nftnl_rule_nlmsg_build_payload(nlh, ru);
		nftnl_rule_free(ru);
		break;
	}
	default:
		/* chains and sets; the callbacks check the table too */
		nlh = nftnl_nlmsg_build_hdr(buf, type, family, flags, nft_conn_seq(c));
		mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, c->table);
	}
	r = nft_conn_dump(c, nlh, cb, d);
	if (r == 0 && d->err < 0)
		r = d->err;
	return r;
}
