/*
 * Who opened a TCP connection to the resolver from a bridge. Such a
 * connection's packets carry their port's id in the mark (bridged.c),
 * but an accepted socket does not show it; the chain dns records it in
 * peers4 or peers6 as the handshake passes (layout_dns_rule()), and
 * this reads it back, on the resolver's behalf.
 */

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "nft/nft_int.h"

static int
peer_elem_cb(const struct raw_elem *re, void *data)
{
	uint32_t *mark = data;

	if (re != NULL && re->data != NULL && re->data_len == sizeof(*mark))
		memcpy(mark, re->data, sizeof(*mark));
	return 0;
}

static int
peer_cb(const struct nlmsghdr *nlh, void *data)
{
	return raw_elems_foreach(nlh, peer_elem_cb, data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

int
nft_dns_peer(struct nft_conn *c, const char *ifname, uint8_t family, const void *addr,
	     uint16_t port, uint32_t *ret_mark)
{
	NFT_MSG_ALIGNED char buf[NFT_REQ_BUF];
	bool v6 = family == RULES_FAMILY_IPV6;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	uint8_t key[16 + 16 + 4];
	size_t klen = layout_peers_key(key, ifname, v6, addr, port);
	struct nlmsghdr *nlh;
	int r = -ENOMEM;

	*ret_mark = 0;
	if (s == NULL || e == NULL || nftnl_set_set_str(s, NFTNL_SET_TABLE, c->table) < 0 ||
	    nftnl_set_set_str(s, NFTNL_SET_NAME, layout_peers_name(v6)) < 0 ||
	    nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, klen) < 0)
		goto out;
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_elem_add(s, e); /* takes e */
	e = NULL;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_ACK,
				    nft_conn_seq(c));
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	r = nft_conn_dump(c, nlh, peer_cb, ret_mark);
	if (r == -ENOENT)
		r = 0; /* none recorded: gone, or never made */
out:
	if (e != NULL)
		nftnl_set_elem_free(e);
	if (s != NULL)
		nftnl_set_free(s);
	return r;
}
