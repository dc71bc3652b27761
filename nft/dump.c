/*
 * Read the program's table back from the kernel and decode it into the
 * rules model. Nothing outside the kernel is consulted: rule ids and
 * descriptions come from rule and element userdata, interfaces from
 * the dispatch map, verdicts from the allow and deny sets. Anything
 * that is not exactly what layout.c builds marks its container damaged.
 *
 * The allow and deny sets are read key by key where the kernel reports
 * how many elements a set holds: a set dump is resumed by walking the
 * set again from its start for every 32 KiB reply, which is quadratic,
 * while asking for the keys the chains name is linear, and finding as
 * many as the set holds proves there is nothing else in it. Any doubt
 * and the set is dumped after all.
 */

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mman.h>

#include <arpa/inet.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <net/if.h>

#include "nft/nft_int.h"

#define DUMP_TRIES 5

/* Debian's uapi headers predate the set element count (kernels of 2025 on). */
#ifndef NFTA_SET_COUNT
#define NFTA_SET_COUNT 20
#endif

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

/*
 * What both threads found by key, written once where it stays: room
 * for as many elements as the kernel says each set holds, taken with an
 * atomic counter. Finding more than that is a reason to dump the set.
 */
struct fetched {
	struct nft_elem *v[2]; /* allow [0], deny [1] */
	size_t cap[2];
	atomic_size_t n[2];
	atomic_uint bad; /* replies that did not decode, or did not fit */
};

/*
 * Claims live in a region of large blocks, one per dumping thread, given
 * back to the system whole: 130,000 small allocations at 10,000
 * containers would cost time, and their thread's arena would keep the
 * pages after the dump. Blocks come populated: one call instead of a
 * page fault per page.
 */
#define REGION_BLOCK (1u << 20)

struct region_block {
	struct region_block *next;
	size_t used;
	size_t size;
	max_align_t data[];
};

struct region {
	struct region_block *head;
};

static void *
region_alloc(struct region *r, size_t size)
{
	struct region_block *b = r->head;
	void *p;

	size = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (b == NULL || b->size - b->used < size) {
		size_t total = sizeof(*b) + (size > REGION_BLOCK ? size : REGION_BLOCK);

		b = mmap(NULL, total, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (b == MAP_FAILED)
			return NULL;
		b->next = r->head;
		b->used = 0;
		b->size = total - sizeof(*b);
		r->head = b;
	}
	p = (char *)b->data + b->used;
	b->used += size;
	return p;
}

/*
 * Populate the pages of a fresh allocation in one call: a page faulted
 * in on its own costs more than the work done in it. Only a hint.
 */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

static void
prefault(void *p, size_t len)
{
	uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
	uintptr_t b = ((uintptr_t)p + len) & ~(uintptr_t)4095;

	if (b > a)
		(void)madvise((void *)a, b - a, MADV_POPULATE_WRITE);
}

/* Room for n elements, where the kernel says how many a set holds. */
static int
elems_reserve(struct nft_elems *es, size_t n)
{
	struct nft_elem *v = reallocarray(es->v, n ? n : 1, sizeof(*v));

	if (v == NULL)
		return -ENOMEM;
	prefault(v, n * sizeof(*v));
	es->v = v;
	es->cap = n ? n : 1;
	return 0;
}

static void
region_free(struct region *r)
{
	while (r->head != NULL) {
		struct region_block *b = r->head;

		r->head = b->next;
		munmap(b, sizeof(*b) + b->size);
	}
}

/* A container chain as dumped, before it is decoded. */
struct dchain {
	char *name;
	struct claim *claims; /* in the region of the thread that dumped it */
	size_t n;
	char bad[96]; /* first reason a rule was not ours */
};

/*
 * The worker dumps chains while the main thread reads the dispatch map
 * that it needs only afterwards, to know the interfaces it fetches for.
 */
struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int state; /* 0: closed; 1: open; -1: given up, nothing to wait for */
};

static void
gate_set(struct gate *g, int state)
{
	pthread_mutex_lock(&g->lock);
	g->state = state;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

static int
gate_wait(struct gate *g)
{
	int state;

	pthread_mutex_lock(&g->lock);
	while (g->state == 0)
		pthread_cond_wait(&g->cond, &g->lock);
	state = g->state;
	pthread_mutex_unlock(&g->lock);
	return state > 0 ? 0 : -ECANCELED;
}

/* Dispatch elements that jump, sorted by target chain. */
struct dispatch_index {
	const struct nft_elem **v;
	size_t n;
};

struct dump {
	struct nft_state *st;
	const char *table;
	const struct rules_set *want; /* containers to verify rather than decode */
	struct dchain *chains;	      /* sorted by name once the chain dump is done */
	size_t nchains;
	size_t cap;
	unsigned int base_rules_seen;
	unsigned int drop_rules_seen;
	enum layout_set set;   /* the set whose elements are being dumped */
	struct dchain *chain;  /* the chain whose rules are being dumped */
	struct claim *scratch; /* its claims so far */
	size_t nscratch;
	size_t scratch_cap;
	struct region region;
	struct claim_cache *cache;
	int err;
	/* reading the allow and deny sets by key */
	bool fetch;			/* the kernel tells how many elements they hold */
	uint32_t count[LAYOUT_SET_MAX]; /* ... and so many it said */
	bool has_count[LAYOUT_SET_MAX];
	const struct dispatch_index *ix; /* ready once ix_ready opens */
	struct gate *ix_ready;
	struct fetched *fetched; /* shared by the threads */
	bool by_key;		 /* the elements asked for go to fetched, not to st */
	size_t got;		 /* elements in the replies to one request */
	size_t *mine;		 /* the chains this thread dumped, to fetch for */
	size_t nmine;
	size_t mine_cap;
};

static void __attribute__((format(printf, 3, 4)))
set_reason(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (buf[0] != '\0')
		return; /* the first reason explains the rest */
	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

static int
table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	struct nftnl_table *t = nftnl_table_alloc();
	const char *comment = NULL;
	uint32_t len = 0;
	const void *u;

	if (t == NULL || nftnl_table_nlmsg_parse(nlh, t) < 0) {
		d->err = -ENOMEM;
		goto out;
	}
	d->st->exists = true;
	d->st->flags = nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS);
	d->st->owner = nftnl_table_get_u32(t, NFTNL_TABLE_OWNER);
	u = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len);
	/* the comment TLV: type 0, length, NUL-terminated text */
	if (u != NULL && len == 2 + sizeof(LAYOUT_COMMENT) && ((const uint8_t *)u)[0] == 0)
		comment = (const char *)u + 2;
	d->st->ours =
		comment != NULL && memcmp(comment, LAYOUT_COMMENT, sizeof(LAYOUT_COMMENT)) == 0;
out:
	if (t != NULL)
		nftnl_table_free(t);
	return MNL_CB_OK;
}

static int
set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	struct nftnl_set *s = nftnl_set_alloc();
	const char *name;
	int i;

	if (s == NULL || nftnl_set_nlmsg_parse(nlh, s) < 0) {
		d->err = -ENOMEM;
		goto out;
	}
	if (strcmp(nftnl_set_get_str(s, NFTNL_SET_TABLE), d->table) != 0)
		goto out;
	name = nftnl_set_get_str(s, NFTNL_SET_NAME);
	if (strcmp(name, LAYOUT_DROP_SET) == 0) {
		if (layout_drop_set_check(s) == 0)
			d->st->drop_set_present = true;
		else {
			set_reason(d->st->base_damage, sizeof(d->st->base_damage),
				   "set %s has the wrong type", name);
			d->st->base_unrepairable = true;
		}
		goto out;
	}
	for (i = 0; i < LAYOUT_SET_MAX; i++)
		if (strcmp(name, layout_set_names[i]) == 0)
			break;
	if (i < LAYOUT_SET_MAX) {
		const struct nlattr *a;

		mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		{
			if (mnl_attr_get_type(a) == NFTA_SET_COUNT &&
			    mnl_attr_validate(a, MNL_TYPE_U32) == 0) {
				d->count[i] = ntohl(mnl_attr_get_u32(a));
				d->has_count[i] = true;
			}
		}
		if (layout_set_check(s, d->table, i) == 0)
			d->st->set_present[i] = true;
		else {
			set_reason(d->st->base_damage, sizeof(d->st->base_damage),
				   "set %s has the wrong type", name);
			d->st->base_unrepairable = true;
		}
	} else {
		char **v = reallocarray(d->st->foreign_sets, d->st->nforeign_sets + 1, sizeof(*v));

		if (v == NULL || (v[d->st->nforeign_sets] = strdup(name)) == NULL) {
			if (v != NULL)
				d->st->foreign_sets = v;
			d->err = -ENOMEM;
			goto out;
		}
		d->st->foreign_sets = v;
		d->st->nforeign_sets++;
	}
out:
	if (s != NULL)
		nftnl_set_free(s);
	return MNL_CB_OK;
}

static int
add_foreign_chain(struct nft_state *st, const char *name)
{
	char **v = reallocarray(st->foreign_chains, st->nforeign_chains + 1, sizeof(*v));

	if (v == NULL)
		return -ENOMEM;
	st->foreign_chains = v;
	v[st->nforeign_chains] = strdup(name);
	if (v[st->nforeign_chains] == NULL)
		return -ENOMEM;
	st->nforeign_chains++;
	return 0;
}

static int
chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	struct nftnl_chain *ch = nftnl_chain_alloc();
	struct dchain *v;
	const char *name;

	if (ch == NULL || nftnl_chain_nlmsg_parse(nlh, ch) < 0) {
		d->err = -ENOMEM;
		goto out;
	}
	/* the kernel does not filter chain dumps by table */
	if (strcmp(nftnl_chain_get_str(ch, NFTNL_CHAIN_TABLE), d->table) != 0)
		goto out;
	name = nftnl_chain_get_str(ch, NFTNL_CHAIN_NAME);
	if (strcmp(name, LAYOUT_DROP_CHAIN) == 0) {
		if (!nftnl_chain_is_set(ch, NFTNL_CHAIN_HOOKNUM))
			d->st->drop_chain_present = true;
		else {
			set_reason(d->st->base_damage, sizeof(d->st->base_damage),
				   "chain %s is hooked", name);
			d->st->base_unrepairable = true;
		}
		goto out;
	}
	if (strcmp(name, LAYOUT_BASE_CHAIN) == 0) {
		if (layout_base_chain_check(ch) == 0)
			d->st->base_chain_present = true;
		else {
			set_reason(d->st->base_damage, sizeof(d->st->base_damage),
				   "chain %s is not hooked as it should be", name);
			d->st->base_unrepairable = true;
		}
		goto out;
	}
	if (layout_chain_container(name) == NULL || nftnl_chain_is_set(ch, NFTNL_CHAIN_HOOKNUM)) {
		if (add_foreign_chain(d->st, name) < 0)
			d->err = -ENOMEM;
		goto out;
	}
	v = nft_grow(d->chains, d->nchains, &d->cap, sizeof(*v), 64);
	if (v == NULL) {
		d->err = -ENOMEM;
		goto out;
	}
	d->chains = v;
	memset(&d->chains[d->nchains], 0, sizeof(d->chains[0]));
	d->chains[d->nchains].name = strdup(name);
	if (d->chains[d->nchains].name == NULL)
		d->err = -ENOMEM;
	else
		d->nchains++;
out:
	if (ch != NULL)
		nftnl_chain_free(ch);
	return MNL_CB_OK;
}

static int
dchain_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dchain *)a)->name, ((const struct dchain *)b)->name);
}

/* One more claim of the chain being dumped. */
static int
scratch_add(struct dump *d, const struct claim *cl)
{
	struct claim *c = nft_grow(d->scratch, d->nscratch, &d->scratch_cap, sizeof(*c), 64);

	if (c == NULL)
		return -ENOMEM;
	d->scratch = c;
	c = &d->scratch[d->nscratch];
	*c = *cl;
	/* the claim pointed into the dumped rule, which is about to go */
	if (cl->id_len + cl->desc_len > 0) {
		char *s = region_alloc(&d->region, cl->id_len + cl->desc_len);

		if (s == NULL)
			return -ENOMEM;
		memcpy(s, cl->id, cl->id_len);
		memcpy(s + cl->id_len, cl->desc, cl->desc_len);
		c->id = s;
		c->desc = s + cl->id_len;
	}
	d->nscratch++;
	return 0;
}

/* The chain's dump is complete: its claims move to the region. */
static int
scratch_seal(struct dump *d, struct dchain *dc)
{
	size_t n = d->nscratch;

	d->nscratch = 0;
	if (n == 0)
		return 0;
	dc->claims = region_alloc(&d->region, n * sizeof(*dc->claims));
	if (dc->claims == NULL)
		return -ENOMEM;
	memcpy(dc->claims, d->scratch, n * sizeof(*dc->claims));
	dc->n = n;
	return 0;
}

/*
 * The base chain's and the drop chain's few rules, checked as libnftnl
 * objects; the base chain's first says which options made them all.
 */
static int
fixed_rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	struct nftnl_rule *r = nftnl_rule_alloc();
	unsigned int *seen;
	bool drop;

	if (r == NULL || nftnl_rule_nlmsg_parse(nlh, r) < 0) {
		d->err = -ENOMEM;
		goto out;
	}
	drop = strcmp(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), LAYOUT_DROP_CHAIN) == 0;
	seen = drop ? &d->drop_rules_seen : &d->base_rules_seen;
	if (!drop && *seen == 0 && layout_base_options(r, &d->st->opts) < 0)
		d->st->base_rules_ok = false;
	if ((drop ? layout_drop_rule_check(r, d->table, &d->st->opts, *seen)
		  : layout_base_rule_check(r, d->table, &d->st->opts, *seen)) != 0)
		d->st->base_rules_ok = false;
	(*seen)++;
out:
	if (r != NULL)
		nftnl_rule_free(r);
	return MNL_CB_OK;
}

/* A container chain's rules, read in place: there are 100,000 of them. */
static int
rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	struct dchain *dc = d->chain;
	struct raw_rule r;
	struct claim cl;
	int err;

	if (raw_rule_parse_head(nlh, &r) < 0 || strcmp(r.table, d->table) != 0 ||
	    strcmp(r.chain, dc->name) != 0)
		return MNL_CB_OK;
	err = layout_claim_match(d->cache, &r, &cl);
	if (err == -EBADMSG) {
		if (dc->bad[0] == '\0')
			snprintf(dc->bad, sizeof(dc->bad), "rule handle %llu is not ours",
				 (unsigned long long)r.handle);
		return MNL_CB_OK;
	}
	if (err == 0)
		err = scratch_add(d, &cl);
	if (err < 0)
		d->err = err;
	return MNL_CB_OK;
}

static int
elems_add(struct nft_elems *es, struct nft_elem *e)
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
	if (re->key_len != sizeof(e->ifname) + (tagged ? sizeof(uint32_t) : 0))
		return -EBADMSG;
	memcpy(e->ifname, re->key, sizeof(e->ifname));
	e->ifname[sizeof(e->ifname) - 1] = '\0';
	if (tagged) {
		memcpy(&e->value, (const char *)re->key + sizeof(e->ifname), sizeof(e->value));
		if (!re->has_counter)
			return -EBADMSG;
		e->ctr.packets = re->packets;
		e->ctr.bytes = re->bytes;
		if (re->udata != NULL &&
		    nftnl_udata_parse(re->udata, re->udata_len, tail_cb, e) < 0)
			return -EBADMSG;
		if (e->tail_len > 0 && e->tail == NULL)
			return -ENOMEM;
	} else if (d->set == LAYOUT_SET_DEFTAG) {
		if (re->data == NULL || re->data_len != sizeof(e->value))
			return -EBADMSG;
		memcpy(&e->value, re->data, sizeof(e->value));
	} else if (d->set == LAYOUT_SET_DISPATCH && re->verdict == NFT_JUMP && re->chain != NULL) {
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
		set_reason(d->st->base_damage, sizeof(d->st->base_damage),
			   "set %s holds a foreign element", layout_set_names[d->set]);
		d->st->base_unrepairable = true;
		free(e.tail);
		return 0;
	}
	if (err == 0)
		err = elems_add(&d->st->elems[d->set], &e);
	if (err < 0) {
		free(e.chain);
		free(e.tail);
	}
	return err;
}

static int
elem_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	int err = raw_elems_foreach(nlh, raw_elem_cb, d);

	if (err < 0)
		d->err = err;
	return MNL_CB_OK;
}

/* FNV-1a of an element's key: 100,000 lookups at 10,000 containers
 * want a hash, not a sort. */
uint32_t
nft_hash_key(const char *ifname, uint32_t value)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < IFNAMSIZ && ifname[i] != '\0'; i++)
		h = (h ^ (uint8_t)ifname[i]) * 16777619u;
	for (i = 0; i < sizeof(value); i++)
		h = (h ^ ((value >> (8 * i)) & 0xff)) * 16777619u;
	return h;
}

/* Open addressing, at most half full: slot holds index + 1, 0 is empty. */
static int
elems_index(struct nft_elems *es)
{
	size_t size = 16, i, k;

	while (size < 2 * es->n)
		size *= 2;
	es->slot = calloc(size, sizeof(*es->slot));
	if (es->slot == NULL)
		return -ENOMEM;
	es->mask = size - 1;
	for (i = 0; i < es->n; i++) {
		k = nft_hash_key(es->v[i].ifname, es->v[i].value) & es->mask;
		while (es->slot[k] != 0)
			k = (k + 1) & es->mask;
		es->slot[k] = (uint32_t)i + 1;
	}
	return 0;
}

const struct nft_elem *
nft_elems_find(const struct nft_elems *es, const char *ifname, uint32_t value)
{
	size_t k;

	if (es->slot == NULL)
		return NULL;
	for (k = nft_hash_key(ifname, value) & es->mask; es->slot[k] != 0; k = (k + 1) & es->mask) {
		const struct nft_elem *e = &es->v[es->slot[k] - 1];

		if (e->value == value && strncmp(e->ifname, ifname, sizeof(e->ifname)) == 0)
			return e;
	}
	return NULL;
}

static int
by_chain_cmp(const void *a, const void *b)
{
	const struct nft_elem *x = *(const struct nft_elem *const *)a;
	const struct nft_elem *y = *(const struct nft_elem *const *)b;

	return strcmp(x->chain, y->chain);
}

static int
dispatch_index_build(const struct nft_state *st, struct dispatch_index *ix)
{
	const struct nft_elems *es = &st->elems[LAYOUT_SET_DISPATCH];
	size_t i;

	ix->n = 0;
	ix->v = calloc(es->n ? es->n : 1, sizeof(*ix->v));
	if (ix->v == NULL)
		return -ENOMEM;
	for (i = 0; i < es->n; i++)
		if (es->v[i].chain != NULL)
			ix->v[ix->n++] = &es->v[i];
	qsort(ix->v, ix->n, sizeof(*ix->v), by_chain_cmp);
	return 0;
}

/* The interface whose dispatch element jumps to chain; NULL unless one. */
static const char *
dispatch_ifname(const struct dispatch_index *ix, const char *chain)
{
	size_t lo = 0, hi = ix->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(ix->v[mid]->chain, chain) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == ix->n || strcmp(ix->v[lo]->chain, chain) != 0)
		return NULL;
	if (lo + 1 < ix->n && strcmp(ix->v[lo + 1]->chain, chain) == 0)
		return NULL;
	return ix->v[lo]->ifname;
}

/* The head of a request about set which's elements. */
static struct nlmsghdr *
elem_request(struct nft_conn *c, char *buf, enum layout_set which, uint16_t flags)
{
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET, flags,
						     nft_conn_seq(c));

	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, c->table);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, layout_set_names[which]);
	return nlh;
}

/*
 * One object kind of the table: a dump request and its callback. Rules
 * are asked for one chain at a time: the kernel resumes a table-wide
 * rule dump by walking every rule again up to where the last reply
 * stopped, which is quadratic; a chain's dump starts from a hash lookup
 * of the chain.
 */
static int
dump_objects(struct nft_conn *c, struct dump *d, uint16_t type, const char *chain, mnl_cb_t cb)
{
	NFT_MSG_ALIGNED char buf[NFT_REQ_BUF] = {0};
	struct nlmsghdr *nlh;
	uint16_t flags = NLM_F_DUMP;
	int r;

	switch (type) {
	case NFT_MSG_GETTABLE: {
		struct nftnl_table *t = nftnl_table_alloc();

		if (t == NULL)
			return -ENOMEM;
		nftnl_table_set_str(t, NFTNL_TABLE_NAME, c->table);
		nlh = nftnl_table_nlmsg_build_hdr(buf, type, NFPROTO_INET, NLM_F_ACK,
						  nft_conn_seq(c));
		nftnl_table_nlmsg_build_payload(nlh, t);
		nftnl_table_free(t);
		break;
	}
	case NFT_MSG_GETSETELEM:
		nlh = elem_request(c, buf, d->set, flags);
		break;
	case NFT_MSG_GETRULE: {
		struct nftnl_rule *ru = nftnl_rule_alloc();

		if (ru == NULL)
			return -ENOMEM;
		nftnl_rule_set_str(ru, NFTNL_RULE_TABLE, c->table);
		nftnl_rule_set_str(ru, NFTNL_RULE_CHAIN, chain);
		nlh = nftnl_rule_nlmsg_build_hdr(buf, type, NFPROTO_INET, flags, nft_conn_seq(c));
		nftnl_rule_nlmsg_build_payload(nlh, ru);
		nftnl_rule_free(ru);
		break;
	}
	default:
		/* chains and sets; the callbacks check the table too */
		nlh = nftnl_nlmsg_build_hdr(buf, type, NFPROTO_INET, flags, nft_conn_seq(c));
		mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, c->table);
	}
	r = nft_conn_dump(c, nlh, cb, d);
	if (r == 0 && d->err < 0)
		r = d->err;
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

		nlh = elem_request(c, buf, which, NLM_F_ACK);
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
		r = nft_conn_request_many(c, nlh, elem_cb, d);
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
 * shorter range than those of allow rules (layout_compile()), and the
 * default is most often deny. A wrong guess costs one more request,
 * where the other set is asked.
 */
static int
fetch_chain(struct nft_conn *c, struct dump *d, const struct dchain *dc,
	    struct fetch_batch batch[2], struct fkeys retry[2])
{
	const char *ifname = dispatch_ifname(d->ix, dc->name);
	const struct claim *dflt;
	uint32_t last = 0;
	size_t i;
	int r = 0;

	if (ifname == NULL || dc->n == 0)
		return 0; /* decode() says why; the sets' counts will not add up */
	dflt = &dc->claims[dc->n - 1];
	for (i = 0; i < dc->n && r == 0; i++) {
		const struct claim *cl = &dc->claims[i];
		int deny = cl->kind == CLAIM_DEFAULT || cl->range_hi + 1 < dflt->tag;
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
static int
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

	nlh = elem_request(c, buf, which, NLM_F_ACK);
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	el = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS, htonl(NFT_SET_ELEM_CATCHALL));
	mnl_attr_nest_end(nlh, el);
	mnl_attr_nest_end(nlh, list);
	r = nft_conn_dump(c, nlh, NULL, NULL);
	*ret = r == 0;
	return r == -ENOENT ? 0 : r;
}

static void
elems_clear(struct nft_elems *es)
{
	size_t i;

	for (i = 0; i < es->n; i++) {
		free(es->v[i].chain);
		free(es->v[i].tail);
	}
	free(es->v);
	free(es->slot);
	memset(es, 0, sizeof(*es));
}

/*
 * What the threads found, against what the kernel says the sets hold:
 * as many and no catch-all, and they are all of it. Otherwise the set
 * is dumped whole, so that decode() sees whatever else is in it.
 */
static int
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
		r = dump_objects(c, d, NFT_MSG_GETSETELEM, NULL, elem_cb);
	}
	return r;
}

static void
fetched_free(struct fetched *f)
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

/*
 * A second thread with its own socket dumps container chains too: the
 * kernel fills a dump inside the syscalls of the thread that reads it,
 * so this puts a second CPU to the kernel's half of the work as well.
 * The threads take chains from one counter, so that neither waits for
 * the other whatever the sets cost; each chain's claims are written by
 * the one thread that took it.
 */
#define WORKER_MIN_CHAINS 512

struct worker {
	struct nft_conn *c;
	struct dump d;
	atomic_size_t *next; /* the next chain nobody has taken */
	pthread_t tid;
	bool running;
	int r;
};

static int
dump_chains(struct nft_conn *c, struct dump *d, atomic_size_t *next)
{
	size_t j;
	int r = 0;

	while (r == 0 && (j = atomic_fetch_add(next, 1)) < d->nchains) {
		d->chain = &d->chains[j];
		r = dump_objects(c, d, NFT_MSG_GETRULE, d->chain->name, rule_cb);
		if (r == 0)
			r = scratch_seal(d, d->chain);
		if (r == 0 && d->fetch) {
			size_t *v = nft_grow(d->mine, d->nmine, &d->mine_cap, sizeof(*v), 1024);

			if (v == NULL)
				r = -ENOMEM;
			else {
				d->mine = v;
				d->mine[d->nmine++] = j;
			}
		}
	}
	/* the other thread's chains are its to finish and ask for */
	if (r == 0 && d->fetch)
		r = gate_wait(d->ix_ready);
	if (r == 0 && d->fetch)
		r = fetch_mine(c, d);
	return r;
}

static void *
worker_run(void *arg)
{
	struct worker *w = arg;

	w->r = dump_chains(w->c, &w->d, w->next);
	return NULL;
}

/* Without a worker (one CPU, few chains, or no resources for one) the
 * main thread dumps every chain. */
static void
worker_start(struct nft_conn *c, struct dump *d, atomic_size_t *next, struct worker *w)
{
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2 || d->nchains < WORKER_MIN_CHAINS ||
	    nft_conn_open(c->table, &w->c) < 0)
		return;
	w->c->intr_ok = c->intr_ok;
	w->d = *d;
	w->d.scratch = NULL;
	w->d.nscratch = w->d.scratch_cap = 0;
	w->d.region = (struct region){0};
	w->d.mine = NULL;
	w->d.nmine = w->d.mine_cap = 0;
	w->d.cache = layout_claim_cache_new();
	if (w->d.cache == NULL)
		return;
	w->next = next;
	w->running = pthread_create(&w->tid, NULL, worker_run, w) == 0;
}

static int
worker_join(struct nft_conn *c, struct worker *w)
{
	if (w->running)
		pthread_join(w->tid, NULL);
	if (w->c != NULL)
		c->sent += w->c->sent;
	layout_claim_cache_free(w->d.cache);
	free(w->d.scratch);
	free(w->d.mine);
	nft_conn_close(w->c);
	return w->running ? w->r : 0;
}

void
nft_state_free(struct nft_state *s)
{
	struct region_block *b, *next;
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < LAYOUT_SET_MAX; i++)
		elems_clear(&s->elems[i]);
	for (i = 0; i < s->nforeign_chains; i++)
		free(s->foreign_chains[i]);
	free(s->foreign_chains);
	for (i = 0; i < s->nforeign_sets; i++)
		free(s->foreign_sets[i]);
	free(s->foreign_sets);
	free(s->containers); /* and what they point to: */
	for (b = s->arena; b != NULL; b = next) {
		next = b->next;
		munmap(b, sizeof(*b) + b->size);
	}
	free(s);
}

static void
dump_free(struct dump *d)
{
	size_t i;

	for (i = 0; i < d->nchains; i++)
		free(d->chains[i].name);
	free(d->chains);
	free(d->scratch);
	free(d->mine);
	region_free(&d->region);
}

static void
note_tag(struct nft_state *st, uint32_t tag)
{
	if (tag > st->tag_max)
		st->tag_max = tag;
}

/* Rebuild one user rule from its claims [first, last). */
static int
decode_rule(const struct nft_state *st, const struct dchain *dc, size_t first, size_t last,
	    const char *ifname, struct region *out, struct rules_rule *r, struct nft_counter *ctr,
	    const char **why)
{
	const struct claim *c0 = &dc->claims[first];
	const struct nft_elem *ea = nft_elems_find(&st->elems[LAYOUT_SET_ALLOW], ifname, c0->tag);
	const struct nft_elem *ed = nft_elems_find(&st->elems[LAYOUT_SET_DENY], ifname, c0->tag);
	const struct nft_elem *e = ea ? ea : ed;
	size_t i, dlen;

	if ((ea == NULL) == (ed == NULL)) {
		*why = "a rule's tag is in neither or both of the allow and deny sets";
		return -EBADMSG;
	}
	memset(r, 0, sizeof(*r));
	memcpy(r->id, c0->id, c0->id_len);
	r->id[c0->id_len] = '\0';
	r->daddr = c0->daddr;
	r->plen = c0->plen;
	r->proto = c0->proto;
	r->action = ea ? RULES_ACTION_ALLOW : RULES_ACTION_DENY;
	for (i = first; i < last; i++) {
		const struct claim *c = &dc->claims[i];

		if (c->id_len != c0->id_len || memcmp(c->id, c0->id, c0->id_len) != 0 ||
		    c->daddr != c0->daddr || c->plen != c0->plen || c->proto != c0->proto ||
		    c->has_port != c0->has_port || (i > first && c->desc_len > 0)) {
			*why = "the items of a rule disagree";
			return -EBADMSG;
		}
		if (!c->has_port)
			continue;
		/* items are stored merged and sorted, as rules/ normalises them */
		if (r->nports == RULES_PORTS_MAX ||
		    (r->nports > 0 && c->port_lo <= (uint32_t)r->ports[r->nports - 1].hi + 1)) {
			*why = "a rule's ports are not in normal form";
			return -EBADMSG;
		}
		r->ports[r->nports].lo = c->port_lo;
		r->ports[r->nports].hi = c->port_hi;
		r->nports++;
	}
	if (!c0->has_port && last - first != 1) {
		*why = "a rule without ports has several items";
		return -EBADMSG;
	}
	dlen = c0->desc_len + e->tail_len;
	if (dlen > 0) {
		r->desc = region_alloc(out, dlen + 1);
		if (r->desc == NULL)
			return -ENOMEM;
		memcpy(r->desc, c0->desc, c0->desc_len);
		memcpy(r->desc + c0->desc_len, e->tail, e->tail_len);
		r->desc[dlen] = '\0';
		if (!rules_desc_valid(r->desc, dlen) ||
		    c0->desc_len != layout_desc_head_len(r->id, dlen)) {
			*why = "a rule's description is not in normal form";
			return -EBADMSG;
		}
	}
	*ctr = e->ctr;
	return 0;
}

/*
 * A chain decodes when it is reset, then claims grouped by consecutive
 * tags from its block's base, then default; and when the sets hold a
 * verdict for each tag, the default tag for its interface, and exactly
 * one dispatch element jumping to it.
 */
static int
decode_container(const struct nft_state *st, const struct dispatch_index *ix,
		 const struct dchain *dc, struct region *out, struct nft_container *ct,
		 const char **why)
{
	const struct claim *dflt;
	const struct nft_elem *e;
	const char *ifname;
	uint32_t base, ndeny = 0;
	size_t i, first, nrules;
	int r;

	if (dc->bad[0] != '\0') {
		*why = dc->bad;
		return -EBADMSG;
	}
	if (dc->n < 1 || dc->claims[dc->n - 1].kind != CLAIM_DEFAULT) {
		*why = "the chain does not end with its default claim";
		return -EBADMSG;
	}
	ifname = dispatch_ifname(ix, dc->name);
	if (ifname == NULL) {
		*why = "no single interface dispatches to the chain";
		return -EBADMSG;
	}
	snprintf(ct->fw.ifname, sizeof(ct->fw.ifname), "%s", ifname);
	dflt = &dc->claims[dc->n - 1];
	base = dflt->range_lo;
	nrules = dflt->tag - base;
	ct->tag_base = base;
	if (dflt->range_hi != dflt->tag || dflt->tag < base || nrules > RULES_PER_CONTAINER_MAX) {
		*why = "the default claim is not in normal form";
		return -EBADMSG;
	}
	ct->fw.rules = region_alloc(out, (nrules ? nrules : 1) * sizeof(*ct->fw.rules));
	ct->counters = region_alloc(out, (nrules ? nrules : 1) * sizeof(*ct->counters));
	if (ct->fw.rules == NULL || ct->counters == NULL)
		return -ENOMEM;
	/* claims with the same tag make up one rule; tags count up from base */
	for (i = 0; dc->claims[i].kind == CLAIM_MATCH;) {
		first = i;
		while (dc->claims[i].kind == CLAIM_MATCH &&
		       dc->claims[i].tag == dc->claims[first].tag)
			i++;
		if (dc->claims[first].tag != base + ct->fw.nrules || ct->fw.nrules == nrules) {
			*why = "the rules' tags are not consecutive";
			return -EBADMSG;
		}
		r = decode_rule(st, dc, first, i, ifname, out, &ct->fw.rules[ct->fw.nrules],
				&ct->counters[ct->fw.nrules], why);
		if (r < 0)
			return r;
		ct->fw.nrules++;
	}
	if (i != dc->n - 1) {
		*why = "a default claim is out of place";
		return -EBADMSG;
	}
	if (ct->fw.nrules != nrules) {
		*why = "the chain has fewer rules than its tags say";
		return -EBADMSG;
	}
	for (i = 0; i < nrules; i++) {
		const struct rules_rule *ru = &ct->fw.rules[i];
		bool deny = ru->action == RULES_ACTION_DENY;
		size_t k;

		ndeny += deny;
		if (deny && ndeny != i + 1) {
			*why = "a deny rule comes after an allow rule";
			return -EBADMSG;
		}
		for (k = 0; k < i; k++)
			if (strcmp(ct->fw.rules[k].id, ru->id) == 0) {
				*why = "two rules have the same id";
				return -EBADMSG;
			}
	}
	for (i = 0; i + 1 < dc->n; i++) {
		const struct claim *c = &dc->claims[i];
		uint32_t hi = base + (c->tag - base < ndeny ? ndeny : nrules) - 1;

		if (c->range_lo != base || c->range_hi != hi) {
			*why = "a claim's range does not match its rule";
			return -EBADMSG;
		}
	}
	e = nft_elems_find(&st->elems[LAYOUT_SET_ALLOW], ifname, dflt->tag);
	ct->fw.policy = e ? RULES_ACTION_ALLOW : RULES_ACTION_DENY;
	if (e == NULL)
		e = nft_elems_find(&st->elems[LAYOUT_SET_DENY], ifname, dflt->tag);
	if (e == NULL || (ct->fw.policy == RULES_ACTION_ALLOW &&
			  nft_elems_find(&st->elems[LAYOUT_SET_DENY], ifname, dflt->tag))) {
		*why = "the default tag has no single verdict";
		return -EBADMSG;
	}
	ct->dflt = e->ctr;
	if (nft_elems_find(&st->elems[LAYOUT_SET_ATTACHED], ifname, 0) == NULL) {
		*why = "the interface is missing from the attached set";
		return -EBADMSG;
	}
	/* a map holds one element per interface: this one, or a wrong one */
	if (nft_elems_find(&st->elems[LAYOUT_SET_DEFTAG], ifname, dflt->tag) == NULL) {
		*why = "the interface's default tag is wrong";
		return -EBADMSG;
	}
	return 0;
}

/*
 * Decoding is spread over the threads like the chains were: each takes
 * DECODE_BATCH chains at a time and writes what it decodes into a
 * region of its own, which the state owns from then on.
 */
#define DECODE_BATCH 64

struct decoder {
	struct dump *d;
	atomic_size_t *next;
	struct region out;
	struct claim *want; /* verify(): the desired container's claims */
	size_t want_cap;
	uint32_t tag_max;
	pthread_t tid;
	bool running;
	int r;
};

/* Is tag's element in the set the action names, and only there? */
static const struct nft_elem *
verdict_elem(const struct nft_state *st, const char *ifname, uint32_t tag, uint8_t action)
{
	bool allow = action == RULES_ACTION_ALLOW;
	const struct nft_elem *e =
		nft_elems_find(&st->elems[allow ? LAYOUT_SET_ALLOW : LAYOUT_SET_DENY], ifname, tag);

	if (e == NULL ||
	    nft_elems_find(&st->elems[allow ? LAYOUT_SET_DENY : LAYOUT_SET_ALLOW], ifname, tag))
		return NULL;
	return e;
}

static bool
claim_equal(const struct claim *a, const struct claim *b)
{
	return a->kind == b->kind && a->plen == b->plen && a->proto == b->proto &&
	       a->has_port == b->has_port && a->daddr == b->daddr && a->port_lo == b->port_lo &&
	       a->port_hi == b->port_hi && a->range_lo == b->range_lo &&
	       a->range_hi == b->range_hi && a->tag == b->tag && a->id_len == b->id_len &&
	       (a->id_len == 0 || memcmp(a->id, b->id, a->id_len) == 0) &&
	       a->desc_len == b->desc_len &&
	       (a->desc_len == 0 || memcmp(a->desc, b->desc, a->desc_len) == 0);
}

/*
 * Does the kernel hold exactly w for this chain? The claims are compared
 * with what layout_compile() makes of w on the chain's tag block, and the
 * sets with what apply puts in them, without decoding anything: a pass
 * that finds the table as desired writes nothing per rule.
 */
static bool
verify(struct decoder *dec, const struct dchain *dc, const struct rules_container *w)
{
	const struct nft_state *st = dec->d->st;
	const char *ifname = dispatch_ifname(dec->d->ix, dc->name);
	size_t i, n = layout_nclaims(w);
	const struct nft_elem *e;
	uint32_t base;

	if (dc->bad[0] != '\0' || dc->n != n || ifname == NULL ||
	    strncmp(ifname, w->ifname, IFNAMSIZ) != 0)
		return false;
	if (dec->want_cap < n) {
		struct claim *v = reallocarray(dec->want, n, sizeof(*v));

		if (v == NULL)
			return false; /* decoded instead */
		dec->want = v;
		dec->want_cap = n;
	}
	base = dc->claims[n - 1].range_lo;
	layout_compile(w, base, dec->want);
	for (i = 0; i < n; i++)
		if (!claim_equal(&dc->claims[i], &dec->want[i]))
			return false;
	for (i = 0; i < w->nrules; i++) {
		const struct rules_rule *ru = &w->rules[i];
		size_t dlen = ru->desc ? strlen(ru->desc) : 0;
		size_t head = layout_desc_head_len(ru->id, dlen);

		e = verdict_elem(st, ifname, base + (uint32_t)i, ru->action);
		if (e == NULL || e->tail_len != dlen - head ||
		    (e->tail_len > 0 && memcmp(e->tail, ru->desc + head, e->tail_len) != 0))
			return false;
	}
	return verdict_elem(st, ifname, base + (uint32_t)w->nrules, w->policy) != NULL &&
	       nft_elems_find(&st->elems[LAYOUT_SET_ATTACHED], ifname, 0) != NULL &&
	       nft_elems_find(&st->elems[LAYOUT_SET_DEFTAG], ifname, base + (uint32_t)w->nrules);
}

static int
decode_some(struct decoder *dec)
{
	struct dump *d = dec->d;
	struct nft_state *st = d->st;
	const struct rules_container *w;
	size_t i, j, lo;
	int r = 0;

	while (r == 0 && (lo = atomic_fetch_add(dec->next, DECODE_BATCH)) < d->nchains) {
		for (i = lo; i < lo + DECODE_BATCH && i < d->nchains && r == 0; i++) {
			struct nft_container *ct = &st->containers[i];
			const char *why = NULL;

			for (j = 0; j < d->chains[i].n; j++) {
				if (d->chains[i].claims[j].tag > dec->tag_max)
					dec->tag_max = d->chains[i].claims[j].tag;
				if (d->chains[i].claims[j].range_hi > dec->tag_max)
					dec->tag_max = d->chains[i].claims[j].range_hi;
			}
			strcpy(ct->fw.id, layout_chain_container(d->chains[i].name));
			w = d->want ? rules_set_find(d->want, ct->fw.id) : NULL;
			if (w != NULL && w->ifname[0] != '\0' && verify(dec, &d->chains[i], w)) {
				strcpy(ct->fw.ifname, w->ifname);
				ct->fw.policy = w->policy;
				ct->tag_base = d->chains[i].claims[d->chains[i].n - 1].range_lo;
				ct->same = w;
				continue;
			}
			r = decode_container(st, d->ix, &d->chains[i], &dec->out, ct, &why);
			if (r == -EBADMSG) {
				/* keep the id (and interface, if known) so apply can
				 * rewrite or remove it; the rest is untrustworthy */
				ct->fw.rules = NULL;
				ct->counters = NULL;
				ct->fw.nrules = 0;
				snprintf(ct->damage, sizeof(ct->damage), "%s", why);
				r = 0;
			}
		}
	}
	return r;
}

static void *
decoder_run(void *arg)
{
	struct decoder *dec = arg;

	dec->r = decode_some(dec);
	return NULL;
}

/* The decoders' regions go to the state, whatever became of them. */
static void
decoder_finish(struct nft_state *st, struct decoder *dec)
{
	struct region_block *b;

	while ((b = dec->out.head) != NULL) {
		dec->out.head = b->next;
		b->next = st->arena;
		st->arena = b;
	}
	if (dec->tag_max > st->tag_max)
		st->tag_max = dec->tag_max;
	free(dec->want);
}

static int
decode(struct dump *d)
{
	struct nft_state *st = d->st;
	atomic_size_t next = 0;
	struct decoder dec[2] = {{.d = d, .next = &next}, {.d = d, .next = &next}};
	size_t i, j;
	int r;

	for (i = 0; i < LAYOUT_SET_MAX; i++) {
		if (elems_index(&st->elems[i]) < 0)
			return -ENOMEM;
		if (i == LAYOUT_SET_ALLOW || i == LAYOUT_SET_DENY || i == LAYOUT_SET_DEFTAG)
			for (j = 0; j < st->elems[i].n; j++)
				note_tag(st, st->elems[i].v[j].value);
	}
	st->containers = calloc(d->nchains ? d->nchains : 1, sizeof(*st->containers));
	if (st->containers == NULL)
		return -ENOMEM;
	prefault(st->containers, d->nchains * sizeof(*st->containers));
	st->ncontainers = d->nchains;
	if (sysconf(_SC_NPROCESSORS_ONLN) >= 2 && d->nchains >= WORKER_MIN_CHAINS)
		dec[1].running = pthread_create(&dec[1].tid, NULL, decoder_run, &dec[1]) == 0;
	r = decode_some(&dec[0]);
	if (dec[1].running) {
		pthread_join(dec[1].tid, NULL);
		if (r == 0)
			r = dec[1].r;
	}
	decoder_finish(st, &dec[0]);
	decoder_finish(st, &dec[1]);
	return r;
}

static int
dump_once(struct nft_conn *c, const struct rules_set *want, struct nft_state *st)
{
	struct gate ix_ready = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
	struct dump d = {.st = st, .table = c->table, .want = want, .ix_ready = &ix_ready};
	struct fetched fetched = {0};
	struct dispatch_index ix = {0};
	struct worker w = {0};
	atomic_size_t next = 0;
	uint32_t genid_after;
	bool owned = false;
	int r, r2, i;

	r = nft_conn_genid(c, &st->genid);
	if (r < 0)
		return r;
	r = dump_objects(c, &d, NFT_MSG_GETTABLE, NULL, table_cb);
	if (r == -ENOENT)
		return 0; /* no table: an empty state */
	if (r < 0)
		goto out;
	st->base_rules_ok = true;
	/* Only the owner's socket can change an owned table: other commits
	 * move the generation and mark dumps interrupted, but this one holds
	 * still (our own commits wait for the reading: one thread, one lock). */
	owned = state_owned_by(st, c);
	c->intr_ok = owned;
	r = dump_objects(c, &d, NFT_MSG_GETSET, NULL, set_cb);
	if (r == 0)
		r = dump_objects(c, &d, NFT_MSG_GETCHAIN, NULL, chain_cb);
	if (r < 0)
		goto out;
	qsort(d.chains, d.nchains, sizeof(*d.chains), dchain_cmp);
	d.cache = layout_claim_cache_new();
	if (d.cache == NULL)
		r = -ENOMEM;
	d.fetch = st->set_present[LAYOUT_SET_ALLOW] && st->set_present[LAYOUT_SET_DENY] &&
		  d.has_count[LAYOUT_SET_ALLOW] && d.has_count[LAYOUT_SET_DENY];
	d.ix = &ix;
	if (r == 0 && d.fetch) {
		for (i = 0; i < 2 && r == 0; i++) {
			fetched.cap[i] = d.count[i ? LAYOUT_SET_DENY : LAYOUT_SET_ALLOW];
			fetched.v[i] =
				reallocarray(NULL, fetched.cap[i] + 1, sizeof(*fetched.v[i]));
			if (fetched.v[i] == NULL)
				r = -ENOMEM;
			else
				prefault(fetched.v[i], fetched.cap[i] * sizeof(*fetched.v[i]));
		}
		d.fetched = &fetched;
	}
	if (r == 0)
		worker_start(c, &d, &next, &w);
	/* the interface sets: reading by key starts from dispatch */
	for (i = 0; r == 0 && i < LAYOUT_SET_MAX; i++) {
		if (!st->set_present[i] || i == LAYOUT_SET_ALLOW || i == LAYOUT_SET_DENY)
			continue;
		if (d.has_count[i])
			r = elems_reserve(&st->elems[i], d.count[i]);
		d.set = i;
		if (r == 0)
			r = dump_objects(c, &d, NFT_MSG_GETSETELEM, NULL, elem_cb);
	}
	if (r == 0)
		r = dispatch_index_build(st, &ix);
	gate_set(&ix_ready, r == 0 ? 1 : -1);
	if (r == 0 && st->base_chain_present)
		r = dump_objects(c, &d, NFT_MSG_GETRULE, LAYOUT_BASE_CHAIN, fixed_rule_cb);
	if (r == 0 && st->opts.log_rate > 0 && st->drop_chain_present)
		r = dump_objects(c, &d, NFT_MSG_GETRULE, LAYOUT_DROP_CHAIN, fixed_rule_cb);
	for (i = LAYOUT_SET_ALLOW; r == 0 && !d.fetch && i <= LAYOUT_SET_DENY; i++) {
		if (!st->set_present[i])
			continue;
		d.set = i;
		r = dump_objects(c, &d, NFT_MSG_GETSETELEM, NULL, elem_cb);
	}
	if (r == 0)
		r = dump_chains(c, &d, &next);
	else
		atomic_store(&next, d.nchains); /* the worker stops too */
	r2 = worker_join(c, &w);
	if (r == 0)
		r = r2;
	if (r == 0 && d.fetch)
		r = fetch_settle(c, &d, &fetched);
	if (r < 0)
		goto out;
	if (!st->base_chain_present || d.base_rules_seen != layout_base_nrules(&st->opts))
		st->base_rules_ok = false;
	if (st->opts.log_rate > 0 && (!st->drop_chain_present || !st->drop_set_present ||
				      d.drop_rules_seen != LAYOUT_DROP_NRULES)) {
		set_reason(st->base_damage, sizeof(st->base_damage), "the drop log is %s",
			   st->drop_chain_present ? "altered" : "missing");
		st->base_rules_ok = false;
	}
	if (st->base_damage[0] == '\0' && !st->base_rules_ok)
		snprintf(st->base_damage, sizeof(st->base_damage), "the base chain is %s",
			 st->base_chain_present ? "altered" : "missing");
	for (i = 0; i < LAYOUT_SET_MAX; i++)
		if (!st->set_present[i])
			set_reason(st->base_damage, sizeof(st->base_damage), "set %s is missing",
				   layout_set_names[i]);
	r = decode(&d);
	if (r < 0)
		goto out;
	/* Everything above must describe one generation of the ruleset, or
	 * of a table that no other commit could change. */
	r = nft_conn_genid(c, &genid_after);
	if (r == 0 && genid_after != st->genid && owned) {
		st->others = genid_after - st->genid;
		st->genid = genid_after; /* what it read holds in this one too */
	} else if (r == 0 && genid_after != st->genid) {
		r = -EAGAIN;
	}
out:
	c->intr_ok = false;
	if (r == -EINTR)
		r = -EAGAIN; /* a commit interrupted a dump: read again */
	layout_claim_cache_free(d.cache);
	region_free(&w.d.region); /* the worker's chains were decoded above */
	free(ix.v);
	fetched_free(&fetched);
	dump_free(&d);
	return r;
}

int
nft_dump(struct nft_conn *c, const struct rules_set *want, struct nft_state **ret,
	 struct nft_error *reterr)
{
	struct nft_state *st = NULL;
	int r = -EAGAIN, tries;

	memset(reterr, 0, sizeof(*reterr));
	for (tries = 0; tries < DUMP_TRIES && r == -EAGAIN; tries++) {
		nft_state_free(st);
		st = calloc(1, sizeof(*st));
		if (st == NULL) {
			r = -ENOMEM;
			break;
		}
		r = dump_once(c, want, st);
	}
	if (r < 0) {
		nft_state_free(st);
		reterr->err = r;
		snprintf(reterr->what, sizeof(reterr->what), "dump table");
		if (r == -EAGAIN)
			snprintf(reterr->detail, sizeof(reterr->detail),
				 "the ruleset kept changing while it was read");
		return r;
	}
	st->reads = (unsigned int)tries;
	*ret = st;
	return 0;
}

bool
nft_state_table_exists(const struct nft_state *s)
{
	return s->exists;
}

bool
nft_state_table_owned(const struct nft_state *s)
{
	return s->flags & NFT_TABLE_F_OWNER;
}

bool
nft_state_table_persist(const struct nft_state *s)
{
	return s->flags & NFT_TABLE_F_PERSIST;
}

uint32_t
nft_state_genid(const struct nft_state *s)
{
	return s->genid;
}

unsigned int
nft_state_reads(const struct nft_state *s)
{
	return s->reads;
}

unsigned int
nft_state_others(const struct nft_state *s)
{
	return s->others;
}

size_t
nft_state_count(const struct nft_state *s)
{
	return s->ncontainers;
}

const struct nft_container *
nft_state_get(const struct nft_state *s, size_t i)
{
	return i < s->ncontainers ? &s->containers[i] : NULL;
}

static int
container_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct nft_container *)elem)->fw.id);
}

const struct nft_container *
nft_state_find(const struct nft_state *s, const char *id)
{
	return bsearch(id, s->containers, s->ncontainers, sizeof(*s->containers), container_cmp);
}

const struct nft_options *
nft_state_options(const struct nft_state *s)
{
	return &s->opts;
}

const char *
nft_state_base_damage(const struct nft_state *s)
{
	return s->base_damage;
}
