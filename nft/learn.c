/*
 * What a container's lookups opened: elements of a rule by name's sets
 * d4_<id> and d6_<id>, each timing out with the answer that gave it.
 * Adding an element that is there already sets its timeout and its
 * expiration anew (kernel 6.10 and later; older kernels keep the old
 * ones), so that one message both opens and prolongs.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "nft/nft_int.h"

static struct nftnl_set_elem *
learned_elem(const struct nft_learn *l)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	if (e == NULL)
		return NULL;
	if (nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, l->addr,
			       l->family == RULES_FAMILY_IPV6 ? 16 : 4) < 0) {
		nftnl_set_elem_free(e);
		return NULL;
	}
	nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, l->timeout_ms);
	nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_EXPIRATION, l->timeout_ms);
	return e;
}

/* One message: l's element for its set. */
static int
learn_one(struct nft_batch *b, const char *table, const struct nft_learn *l)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *e = learned_elem(l);
	char name[LAYOUT_DSET_NAME_MAX];
	struct nlmsghdr *nlh;
	uint32_t seq;
	char *buf;
	int r = -ENOMEM;

	layout_dset_name(l->family, l->name_id, name);
	if (s == NULL || e == NULL || nftnl_set_set_str(s, NFTNL_SET_TABLE, table) < 0 ||
	    nftnl_set_set_str(s, NFTNL_SET_NAME, name) < 0)
		goto out;
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_elem_add(s, e); /* takes e */
	e = NULL;
	buf = nft_batch_reserve(b, l->container, l->rule, "open a learned address", &seq);
	if (buf == NULL)
		goto out;
	nlh = nftnl_set_elem_nlmsg_build_hdr(buf, NFT_MSG_NEWSETELEM, NFPROTO_INET, NLM_F_CREATE,
					     seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	r = nft_batch_next(b);
out:
	if (e != NULL)
		nftnl_set_elem_free(e);
	if (s != NULL)
		nftnl_set_free(s);
	return r;
}

int
nft_learn(struct nft_conn *c, const struct nft_learn *v, size_t n, struct nft_error *reterr)
{
	struct nft_batch *b;
	size_t i;
	int r = 0;

	memset(reterr, 0, sizeof(*reterr));
	if (n == 0)
		return 0;
	b = nft_batch_new(c, 0);
	if (b == NULL)
		return -ENOMEM;
	for (i = 0; i < n && r == 0; i++)
		r = learn_one(b, nft_conn_table(c), &v[i]);
	if (r == 0)
		r = nft_batch_commit(b, reterr);
	else
		reterr->err = r;
	nft_batch_free(b);
	return r;
}
