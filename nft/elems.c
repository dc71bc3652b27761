/*
 * The elements of the table's sets as a dump or a fetch reads them:
 * decoded into the state (or, fetched by key, into what the threads
 * share); and the dispatch map indexed by chain for the decoding.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "nft/dump_int.h"

static int
add_elem(struct nft_elems *es, struct nft_elem *e)
{
	struct nft_elem *v = nft_grow(es->v, es->n, &es->cap, sizeof(*v), 64);

	if (v == NULL)
		return -ENOMEM;
	es->v = v;
	es->v[es->n++] = *e;
	return 0;
}

static int
tail_cb(const struct nftnl_udata *attr, void *data)
{
	struct nft_elem *e = data;

	if (nftnl_udata_type(attr) == LAYOUT_UDATA_DESC && e->tail == NULL) {
		e->tail_len = nftnl_udata_len(attr);
		e->tail = malloc(e->tail_len + 1);
		if (e->tail != NULL)
			memcpy(e->tail, nftnl_udata_get(attr), e->tail_len);
	}
	return 0;
}

static int
decode_elem(struct dump *d, const struct raw_elem *re, struct nft_elem *e)
{
	bool tagged = d->set == LAYOUT_SET_ALLOW || d->set == LAYOUT_SET_DENY;

	memset(e, 0, sizeof(*e));
	if (d->set == LAYOUT_SET_BPORTS || d->set == LAYOUT_SET_DNSB) {
		/* keyed by a port's id: "" and the id mark in the key */
		if (re->key_len != sizeof(e->value))
			return -EBADMSG;
		memcpy(&e->value, re->key, sizeof(e->value));
		if (d->set == LAYOUT_SET_DNSB)
			return 0;
		if (re->verdict != NFT_GOTO || re->chain == NULL)
			return -EBADMSG;
		e->chain = strdup(re->chain);
		return e->chain != NULL ? 0 : -ENOMEM;
	}
	if (d->set == LAYOUT_SET_PIN4 || d->set == LAYOUT_SET_PIN6) {
		/* an interface and an address: IPv4 in value, IPv6 in tail */
		size_t alen = d->set == LAYOUT_SET_PIN4 ? 4 : 16;

		if (re->key_len != sizeof(e->ifname) + alen)
			return -EBADMSG;
		memcpy(e->ifname, re->key, sizeof(e->ifname));
		e->ifname[sizeof(e->ifname) - 1] = '\0';
		if (alen == 4) {
			memcpy(&e->value, (const char *)re->key + sizeof(e->ifname), alen);
			return 0;
		}
		e->tail = malloc(alen);
		if (e->tail == NULL)
			return -ENOMEM;
		memcpy(e->tail, (const char *)re->key + sizeof(e->ifname), alen);
		e->tail_len = alen;
		return 0;
	}
	if (re->key_len != sizeof(e->ifname) + (tagged ? sizeof(uint32_t) : 0))
		return -EBADMSG;
	memcpy(e->ifname, re->key, sizeof(e->ifname));
	e->ifname[sizeof(e->ifname) - 1] = '\0';
	if (tagged) {
		memcpy(&e->value, (const char *)re->key + sizeof(e->ifname), sizeof(e->value));
		if (!re->has_counter)
			return -EBADMSG;
		e->has_timeout = re->has_timeout;
		e->ctr.packets = re->packets;
		e->ctr.bytes = re->bytes;
		if (re->udata != NULL &&
		    nftnl_udata_parse(re->udata, re->udata_len, tail_cb, e) < 0)
			return -EBADMSG;
		if (e->tail_len > 0 && e->tail == NULL)
			return -ENOMEM;
	} else if (d->set == LAYOUT_SET_DEFTAG || d->set == LAYOUT_SET_PORTS) {
		if (re->data == NULL || re->data_len != sizeof(e->value))
			return -EBADMSG;
		/* a default tag is looked up with its value; a port id by interface */
		memcpy(d->set == LAYOUT_SET_PORTS ? &e->data : &e->value, re->data,
		       sizeof(e->value));
	} else if ((d->set == LAYOUT_SET_DISPATCH || d->set == LAYOUT_SET_DISPATCH6) &&
		   re->verdict == NFT_JUMP && re->chain != NULL) {
		e->chain = strdup(re->chain);
		if (e->chain == NULL)
			return -ENOMEM;
	}
	return 0;
}

static int
raw_elem_cb(const struct raw_elem *re, void *data)
{
	struct dump *d = data;
	struct nft_elem e = {0};
	int err = re ? decode_elem(d, re, &e) : -EBADMSG;

	d->got++;
	if (d->by_key) {
		struct fetched *f = d->fetched;
		int s = d->set == LAYOUT_SET_DENY;
		size_t i = err == 0 ? atomic_fetch_add(&f->n[s], 1) : 0;

		if (err == 0 && i < f->cap[s]) {
			f->v[s][i] = e;
			return 0;
		}
		/* the set will be dumped, and what is wrong told there */
		atomic_fetch_add(&f->bad, 1);
		free(e.chain);
		free(e.tail);
		return err == -EBADMSG ? 0 : err;
	}
	if (err == -EBADMSG) {
		/* not an element we could have written: cannot be addressed
		 * for deletion either, so the set is damaged */
		state_base_damage(d->st, "set %s holds a foreign element",
				  layout_set_names[d->set]);
		d->st->base_unrepairable = true;
		free(e.tail);
		return 0;
	}
	if (err == 0)
		err = add_elem(&d->st->elems[d->set], &e);
	if (err < 0) {
		free(e.chain);
		free(e.tail);
	}
	return err;
}

int
elems_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	int err = raw_elems_foreach(nlh, raw_elem_cb, d);

	if (err < 0)
		d->err = err;
	return MNL_CB_OK;
}

static int
by_chain_cmp(const void *a, const void *b)
{
	const struct nft_elem *x = *(const struct nft_elem *const *)a;
	const struct nft_elem *y = *(const struct nft_elem *const *)b;

	return strcmp(x->chain, y->chain);
}

int
elems_dispatch_index(const struct nft_state *st, struct dispatch_index *ix)
{
	static const enum layout_set maps[RULES_FAMILY_MAX] = {LAYOUT_SET_DISPATCH,
							       LAYOUT_SET_DISPATCH6};
	size_t f, i;

	for (f = 0; f < RULES_FAMILY_MAX; f++) {
		const struct nft_elems *es = &st->elems[maps[f]];

		ix->n[f] = 0;
		ix->v[f] = calloc(es->n ? es->n : 1, sizeof(*ix->v[f]));
		if (ix->v[f] == NULL)
			return -ENOMEM;
		for (i = 0; i < es->n; i++)
			if (es->v[i].chain != NULL)
				ix->v[f][ix->n[f]++] = &es->v[i];
		if (ix->n[f] > 1) /* qsort() takes no NULL, even for nothing */
			qsort(ix->v[f], ix->n[f], sizeof(*ix->v[f]), by_chain_cmp);
	}
	return 0;
}

void
elems_dispatch_index_free(struct dispatch_index *ix)
{
	size_t f;

	for (f = 0; f < RULES_FAMILY_MAX; f++)
		free(ix->v[f]);
}

const char *
elems_dispatch_ifname(const struct dispatch_index *ix, const char *chain)
{
	uint8_t f = layout_chain_family(chain);
	const struct nft_elem *const *v = ix->v[f];
	size_t lo = 0, hi = ix->n[f], n = ix->n[f];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(v[mid]->chain, chain) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == n || strcmp(v[lo]->chain, chain) != 0)
		return NULL;
	if (lo + 1 < n && strcmp(v[lo + 1]->chain, chain) == 0)
		return NULL;
	return v[lo]->ifname;
}
