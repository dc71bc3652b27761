/*
 * The allow and deny sets, read key by key where the kernel reports
 * how many elements a set holds: a set dump is resumed by walking the
 * set again from its start for every 32 KiB reply, which is quadratic,
 * while asking for the keys the chains name is linear, and finding as
 * many as the set holds proves there is nothing else in it. Any doubt
 * and the set is dumped after all.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "nft/dump_int.h"

/* Keys per request: each found one comes back as its own reply, and
 * these must fit the socket's receive buffer until they are read. */
#define FETCH_CHUNK 64

struct fkey {
	char b[IFNAMSIZ + sizeof(uint32_t)]; /* interface name, NUL-padded, then tag */
};

struct fkeys {
	struct fkey *v;
	size_t n;
	size_t cap;
};

int
fetch_prepare(struct dump *d, struct fetched *f)
{
	int i, r = 0;

	for (i = 0; i < 2 && r == 0; i++) {
		f->cap[i] = d->count[i ? LAYOUT_SET_DENY : LAYOUT_SET_ALLOW];
		f->v[i] = reallocarray(NULL, f->cap[i] + 1, sizeof(*f->v[i]));
		if (f->v[i] == NULL)
			r = -ENOMEM;
		else
			region_prefault(f->v[i], f->cap[i] * sizeof(*f->v[i]));
	}
	d->fetched = f;
	return r;
}

static int
fkeys_add(struct fkeys *ks, const struct fkey *k)
{
	struct fkey *v = nft_grow(ks->v, ks->n, &ks->cap, sizeof(*v), 64);

	if (v == NULL)
		return -ENOMEM;
	ks->v = v;
	ks->v[ks->n++] = *k;
	return 0;
}

/*
 * Ask set which for keys[0, n), n at most FETCH_CHUNK: the kernel
 * answers each key it finds with its element, in order, and stops at
 * the first key it lacks. Keys it lacks go to miss, when given.
 */
static int
fetch_keys(struct nft_conn *c, struct dump *d, enum layout_set which, const struct fkey *keys,
	   size_t n, struct fkeys *miss)
{
	NFT_MSG_ALIGNED char buf[NFT_REQ_BUF] = {0};
	size_t i = 0, j;
	int r;

	while (i < n) {
		struct nlmsghdr *nlh;
		struct nlattr *list, *el, *key;

		nlh = request_elems(c, buf, which, NLM_F_ACK);
		list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
		for (j = i; j < n; j++) {
			el = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
			key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
			mnl_attr_put(nlh, NFTA_DATA_VALUE, sizeof(keys[j].b), keys[j].b);
			mnl_attr_nest_end(nlh, key);
			mnl_attr_nest_end(nlh, el);
		}
		mnl_attr_nest_end(nlh, list);
		d->set = which;
		d->got = 0;
		d->by_key = true;
		r = nft_conn_request_many(c, nlh, elems_cb, d);
		d->by_key = false;
		if (r == 0 && d->err < 0)
			r = d->err;
		if (r == -ENOENT && i + d->got < n) {
			r = miss != NULL ? fkeys_add(miss, &keys[i + d->got]) : 0;
			if (r < 0)
				return r;
			i += d->got + 1;
			continue;
		}
		if (r < 0)
			return r;
		if (i + d->got != n)
			return -EPROTO;
		i = n;
	}
	return 0;
}

/* Keys on their way to one set, sent FETCH_CHUNK at a time. */
struct fetch_batch {
	struct fkey k[FETCH_CHUNK];
	size_t n;
};

static int
batch_flush(struct nft_conn *c, struct dump *d, enum layout_set which, struct fetch_batch *b,
	    struct fkeys *miss)
{
	int r = fetch_keys(c, d, which, b->k, b->n, miss);

	b->n = 0;
	return r;
}

/*
 * The allow and deny keys one chain's claims name. The chain says which
 * set each tag's element should be in: claims of deny rules carry a
 * shorter range than those of allow rules (layout_compile()), which
 * end just below the default's tag, and the default is most often
 * deny. An IPv6 chain has no default: its widest range is an allow
 * rule's, unless it has only deny rules. A wrong guess costs one more
 * request, where the other set is asked.
 */
static int
fetch_chain(struct nft_conn *c, struct dump *d, const struct dchain *dc,
	    struct fetch_batch batch[2], struct fkeys retry[2])
{
	const char *ifname = elems_dispatch_ifname(d->ix, dc->name);
	uint32_t last = 0, allow_hi = 0;
	size_t i;
	int r = 0;

	if (ifname == NULL || dc->n == 0)
		return 0; /* decoding says why; the sets' counts will not add up */
	if (dc->family == RULES_FAMILY_IPV6) {
		for (i = 0; i < dc->n; i++)
			if (dc->claims[i].range_hi > allow_hi)
				allow_hi = dc->claims[i].range_hi;
	} else {
		allow_hi = dc->claims[dc->n - 1].tag - 1;
	}
	for (i = 0; i < dc->n && r == 0; i++) {
		const struct claim *cl = &dc->claims[i];
		int deny = cl->kind == CLAIM_DEFAULT || cl->range_hi < allow_hi;
		struct fkey *key;

		/* a rule's items share its tag; tags only grow in a sound
		 * chain, and no key may be counted twice */
		if (i > 0 && cl->tag == last)
			continue;
		if (i > 0 && cl->tag < last)
			break;
		last = cl->tag;
		key = &batch[deny].k[batch[deny].n++];
		memset(key->b, 0, sizeof(key->b));
		memcpy(key->b, ifname, strnlen(ifname, IFNAMSIZ - 1));
		memcpy(key->b + IFNAMSIZ, &cl->tag, sizeof(cl->tag));
		if (batch[deny].n == FETCH_CHUNK)
			r = batch_flush(c, d, deny ? LAYOUT_SET_DENY : LAYOUT_SET_ALLOW,
					&batch[deny], &retry[!deny]);
	}
	return r;
}

/* The elements of the chains this thread dumped, in both sets. */
int
fetch_mine(struct nft_conn *c, struct dump *d)
{
	struct fetch_batch *batch = malloc(2 * sizeof(*batch));
	struct fkeys retry[2] = {{0}};
	size_t i, j;
	int r = batch != NULL ? 0 : -ENOMEM, s;

	if (batch != NULL)
		batch[0].n = batch[1].n = 0;
	for (i = 0; i < d->nmine && r == 0; i++)
		r = fetch_chain(c, d, &d->chains[d->mine[i]], batch, retry);
	for (s = 0; s < 2 && r == 0; s++)
		r = batch_flush(c, d, s ? LAYOUT_SET_DENY : LAYOUT_SET_ALLOW, &batch[s],
				&retry[!s]);
	for (s = 0; s < 2 && r == 0; s++)
		for (j = 0; j < retry[s].n && r == 0; j += FETCH_CHUNK)
			r = fetch_keys(c, d, s ? LAYOUT_SET_DENY : LAYOUT_SET_ALLOW, &retry[s].v[j],
				       retry[s].n - j < FETCH_CHUNK ? retry[s].n - j : FETCH_CHUNK,
				       NULL);
	free(retry[0].v);
	free(retry[1].v);
	free(batch);
	return r;
}

/* Does the set hold a catch-all element? Counts leave it out. */
static int
fetch_catchall(struct nft_conn *c, enum layout_set which, bool *ret)
{
	NFT_MSG_ALIGNED char buf[NFT_REQ_BUF] = {0};
	struct nlattr *list, *el;
	struct nlmsghdr *nlh;
	int r;

	nlh = request_elems(c, buf, which, NLM_F_ACK);
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	el = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS, htonl(NFT_SET_ELEM_CATCHALL));
	mnl_attr_nest_end(nlh, el);
	mnl_attr_nest_end(nlh, list);
	r = nft_conn_dump(c, nlh, NULL, NULL);
	*ret = r == 0;
	return r == -ENOENT ? 0 : r;
}

/*
 * What the threads found, against what the kernel says the sets hold:
 * as many and no catch-all, and they are all of it. Otherwise the set
 * is dumped whole, so that decode_containers() sees whatever else is in
 * it.
 */
int
fetch_settle(struct nft_conn *c, struct dump *d, struct fetched *f)
{
	int r = 0, i;

	for (i = 0; i < 2 && r == 0; i++) {
		enum layout_set which = i ? LAYOUT_SET_DENY : LAYOUT_SET_ALLOW;
		size_t n = atomic_load(&f->n[i]);
		bool catchall = false;

		r = fetch_catchall(c, which, &catchall);
		if (r < 0)
			break;
		if (!catchall && atomic_load(&f->bad) == 0 && n == d->count[which]) {
			d->st->elems[which] =
				(struct nft_elems){.v = f->v[i], .n = n, .cap = f->cap[i]};
			f->v[i] = NULL;
			f->n[i] = 0;
			continue;
		}
		d->set = which;
		r = request_dump(c, d, NFT_MSG_GETSETELEM, NULL, elems_cb);
	}
	return r;
}

void
fetch_free(struct fetched *f)
{
	size_t i, j, n;

	for (i = 0; i < 2; i++) {
		n = atomic_load(&f->n[i]);
		for (j = 0; j < n && j < f->cap[i]; j++) {
			free(f->v[i][j].chain);
			free(f->v[i][j].tail);
		}
		free(f->v[i]);
	}
}
