/*
 * Make the kernel hold a desired rules_set: diff it against a dump and
 * send the difference as one transaction. A container whose firewall
 * is unchanged is not touched at all; a changed one has its chain
 * flushed and refilled and its tags replaced, which costs the same
 * whatever the number of other containers; nothing that makes the
 * kernel re-validate the table is sent unless a container's interface
 * (its dispatch element) or the base chain changes.
 */

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "nft/nft_int.h"

enum op {
	OP_KEEP = 0,
	OP_REWRITE, /* the chain exists: flush and refill */
	OP_CREATE,
};

struct target {
	const struct rules_container *want;
	const struct nft_container *have; /* for counters; NULL when new */
	/* nft_put(): the container as last committed, and its counters */
	const struct model_ct *old;
	const struct nft_counter *old_ctrs; /* old->nrules + 1 (the default) */
	enum op op;
	uint32_t base;
	bool add_attached; /* the interface's attached and dispatch elements */
	bool add_dispatch;
	char chain[LAYOUT_CHAIN_NAME_MAX + 1];
};

/*
 * Elements of one set on their way to the kernel, from many containers.
 * They go out as soon as a message's worth is gathered, so that a large
 * apply never holds them all.
 */
#define ELEM_BATCH_FLUSH 256

struct elem_batch {
	uint16_t type;	     /* NFT_MSG_NEWSETELEM or NFT_MSG_DELSETELEM */
	struct nftnl_set *s; /* the elements not sent yet */
	const char **owners; /* the container of every element, in order */
	size_t n;
	size_t sent;
	size_t cap;
};

struct plan {
	struct nft_conn *c;
	const struct nft_state *have; /* NULL in nft_put() */
	struct nft_batch *b;
	struct target *t; /* desired containers with an interface, by id */
	size_t nt;
	const struct target **by_ifname; /* hash table, at most half full */
	size_t ifmask;
	uint32_t tag_next;
	bool adopt;	 /* send the table message even when nothing else changes */
	bool fresh;	 /* build everything: no table, or one we recreate */
	bool base_chain; /* (re)create the base chain's rules */
	struct elem_batch add[LAYOUT_SET_MAX];
	struct elem_batch del[LAYOUT_SET_MAX];
	struct nft_apply_stats *st;
};

static const struct target *
owner_of(const struct plan *p, const char *ifname)
{
	size_t k;

	for (k = nft_hash_key(ifname, 0) & p->ifmask; p->by_ifname[k] != NULL;
	     k = (k + 1) & p->ifmask)
		if (strcmp(p->by_ifname[k]->want->ifname, ifname) == 0)
			return p->by_ifname[k];
	return NULL;
}

static int
target_id_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct target *)elem)->want->id);
}

/* p->t follows want's order, which is by id. */
static const struct target *
target_find(const struct plan *p, const char *id)
{
	return bsearch(id, p->t, p->nt, sizeof(*p->t), target_id_cmp);
}

enum obj {
	OBJ_TABLE = 0,
	OBJ_SET,
	OBJ_CHAIN,
	OBJ_RULE,
	OBJ_MAX,
};

/*
 * One message of the transaction about object o of kind k, which this
 * takes (o may be NULL after a failed allocation: -ENOMEM). container
 * and rule name what the message is for, should the kernel refuse it.
 */
static int
put(struct plan *p, enum obj k, void *o, uint16_t type, uint16_t flags, const char *container,
    const char *rule, const char *what)
{
	uint32_t seq;
	char *buf = NULL;
	int r = -ENOMEM;

	if (o != NULL)
		buf = nft_batch_reserve(p->b, container, rule, what, &seq);
	if (buf != NULL) {
		struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, type, NFPROTO_INET, flags, seq);

		switch (k) {
		case OBJ_TABLE:
			nftnl_table_nlmsg_build_payload(nlh, o);
			break;
		case OBJ_SET:
			nftnl_set_nlmsg_build_payload(nlh, o);
			break;
		case OBJ_CHAIN:
			nftnl_chain_nlmsg_build_payload(nlh, o);
			break;
		default:
			nftnl_rule_nlmsg_build_payload(nlh, o);
		}
		r = nft_batch_next(p->b);
	}
	if (o != NULL) {
		switch (k) {
		case OBJ_TABLE:
			nftnl_table_free(o);
			break;
		case OBJ_SET:
			nftnl_set_free(o);
			break;
		case OBJ_CHAIN:
			nftnl_chain_free(o);
			break;
		default:
			nftnl_rule_free(o);
		}
	}
	return r;
}

/* Without a handle, DELRULE empties the whole chain. */
static int
put_flush(struct plan *p, const char *chain, const char *container)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (r != NULL && (nftnl_rule_set_str(r, NFTNL_RULE_TABLE, p->c->table) < 0 ||
			  nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain) < 0)) {
		nftnl_rule_free(r);
		r = NULL;
	}
	return put(p, OBJ_RULE, r, NFT_MSG_DELRULE, 0, container, NULL, "flush chain");
}

static int
put_rule(struct plan *p, struct nftnl_rule *r, const char *container, const char *rule)
{
	return put(p, OBJ_RULE, r, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, container, rule,
		   "add rule");
}

static struct nftnl_set *
elem_set(const struct plan *p, enum layout_set which)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (s == NULL)
		return NULL;
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	if (nftnl_set_set_str(s, NFTNL_SET_TABLE, p->c->table) < 0 ||
	    nftnl_set_set_str(s, NFTNL_SET_NAME, layout_set_names[which]) < 0) {
		nftnl_set_free(s);
		return NULL;
	}
	return s;
}

static int eb_send(struct plan *p, struct elem_batch *eb, enum layout_set which);

static int
eb_add(struct plan *p, struct elem_batch *eb, enum layout_set which, struct nftnl_set_elem *e,
       const char *owner)
{
	const char **o;

	if (e == NULL)
		return -ENOMEM;
	if (eb->s == NULL && (eb->s = elem_set(p, which)) == NULL)
		goto fail;
	o = nft_grow(eb->owners, eb->n, &eb->cap, sizeof(*o), 1024);
	if (o == NULL)
		goto fail;
	eb->owners = o;
	nftnl_set_elem_add(eb->s, e); /* takes e */
	eb->owners[eb->n++] = owner;
	return eb->n - eb->sent >= ELEM_BATCH_FLUSH ? eb_send(p, eb, which) : 0;
fail:
	nftnl_set_elem_free(e);
	return -ENOMEM;
}

static size_t
count_elems(const struct nlmsghdr *nlh)
{
	const struct nlattr *a, *e;
	size_t n = 0;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
	{
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS)
			mnl_attr_for_each_nested(e, a) n++;
	}
	return n;
}

/*
 * Send the elements gathered for one set. Elements of many containers
 * share messages (an element message holds at most 64 KiB), which keeps
 * a large apply at one message per few hundred elements; the batch
 * maps an error on one element back to its container.
 */
static int
eb_send(struct plan *p, struct elem_batch *eb, enum layout_set which)
{
	uint16_t type = eb->type;
	static const char *const what[2][LAYOUT_SET_MAX] = {
		{"add allow element", "add deny element", "add attached element",
		 "add default-tag element", "add dispatch element"},
		{"delete allow element", "delete deny element", "delete attached element",
		 "delete default-tag element", "delete dispatch element"},
	};
	struct nftnl_set_elems_iter *it;
	size_t first = eb->sent;
	int more, r = 0;

	if (eb->n == eb->sent)
		return 0;
	it = nftnl_set_elems_iter_create(eb->s);
	if (it == NULL)
		return -ENOMEM;
	do {
		uint32_t seq;
		char *buf = nft_batch_reserve(p->b, NULL, NULL,
					      what[type == NFT_MSG_DELSETELEM][which], &seq);
		struct nlmsghdr *nlh;

		if (buf == NULL) {
			r = -ENOMEM;
			break;
		}
		nlh = nftnl_set_elem_nlmsg_build_hdr(buf, type, NFPROTO_INET,
						     type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0,
						     seq);
		more = nftnl_set_elems_nlmsg_build_payload_iter(nlh, it);
		nft_batch_owners(p->b, &eb->owners[first]);
		first += count_elems(nlh);
		r = nft_batch_next(p->b);
	} while (more > 0 && r == 0);
	nftnl_set_elems_iter_destroy(it);
	/* the messages hold copies: the elements can go */
	nftnl_set_free(eb->s);
	eb->s = NULL;
	eb->sent = eb->n;
	return r;
}

static void
eb_free(struct elem_batch *eb)
{
	if (eb->s != NULL)
		nftnl_set_free(eb->s);
	free(eb->owners);
}

static struct nftnl_set_elem *
elem_key_of(enum layout_set which, const struct nft_elem *e)
{
	if (which == LAYOUT_SET_ALLOW || which == LAYOUT_SET_DENY)
		return layout_tag_key(e->ifname, e->value);
	return layout_ifname_elem(e->ifname);
}

/* Should an existing element stay? */
static bool
elem_keep(const struct plan *p, enum layout_set which, const struct nft_elem *e)
{
	const struct target *t = owner_of(p, e->ifname);

	if (t == NULL)
		return false;
	if (t->op == OP_KEEP)
		return true;
	/* A rewritten container keeps its interface's entries when they
	 * already point where they should: re-adding a dispatch jump would
	 * make the kernel re-validate every chain of the table. */
	if (which == LAYOUT_SET_ATTACHED)
		return true;
	if (which == LAYOUT_SET_DISPATCH)
		return e->chain != NULL && strcmp(e->chain, t->chain) == 0;
	return false;
}

/* Gather every element of the set that should not stay. */
static int
delete_elems(struct plan *p, enum layout_set which)
{
	const struct nft_elems *es = &p->have->elems[which];
	size_t i;
	int r = 0;

	for (i = 0; i < es->n && r == 0; i++) {
		const struct target *t;

		if (elem_keep(p, which, &es->v[i]))
			continue;
		t = owner_of(p, es->v[i].ifname);
		r = eb_add(p, &p->del[which], which, elem_key_of(which, &es->v[i]),
			   t ? t->want->id : NULL);
	}
	return r;
}

/* Counters follow a rule as long as it keeps its id and matches the same packets. */
static const struct nft_counter *
carried_counter(const struct target *t, size_t i)
{
	const struct rules_rule *w = &t->want->rules[i];
	uint64_t key;
	size_t j;

	if (t->have != NULL && t->have->counters != NULL) {
		for (j = 0; j < t->have->fw.nrules; j++) {
			const struct rules_rule *h = &t->have->fw.rules[j];

			if (strcmp(h->id, w->id) == 0 && rules_rule_same_match(h, w))
				return &t->have->counters[j];
		}
	}
	if (t->old != NULL && t->old_ctrs != NULL) {
		key = model_rule_key(w);
		for (j = 0; j < t->old->nrules; j++)
			if (t->old->rules[j].key == key)
				return &t->old_ctrs[j];
	}
	return NULL;
}

static const struct nft_counter *
carried_default(const struct target *t)
{
	if (t->have != NULL && t->have->counters != NULL && t->have->fw.policy == t->want->policy)
		return &t->have->dflt;
	if (t->old != NULL && t->old_ctrs != NULL && t->old->policy == t->want->policy)
		return &t->old_ctrs[t->old->nrules];
	return NULL;
}

/* Gather the elements of a container that is created or rewritten. */
static int
add_container_elems(struct plan *p, const struct target *t)
{
	const struct rules_container *w = t->want;
	uint32_t dtag = t->base + w->nrules;
	size_t i;
	int r = 0;

	for (i = 0; i < w->nrules && r == 0; i++) {
		const struct rules_rule *ru = &w->rules[i];
		size_t dlen = ru->desc ? strlen(ru->desc) : 0;
		size_t head = layout_desc_head_len(ru->id, dlen);
		enum layout_set which =
			ru->action == RULES_ACTION_ALLOW ? LAYOUT_SET_ALLOW : LAYOUT_SET_DENY;

		r = eb_add(p, &p->add[which], which,
			   layout_tag_elem(w->ifname, t->base + i, carried_counter(t, i),
					   ru->desc ? ru->desc + head : NULL, dlen - head),
			   w->id);
	}
	if (r == 0) {
		enum layout_set which =
			w->policy == RULES_ACTION_ALLOW ? LAYOUT_SET_ALLOW : LAYOUT_SET_DENY;

		r = eb_add(p, &p->add[which], which,
			   layout_tag_elem(w->ifname, dtag, carried_default(t), NULL, 0), w->id);
	}
	if (r == 0)
		r = eb_add(p, &p->add[LAYOUT_SET_DEFTAG], LAYOUT_SET_DEFTAG,
			   layout_deftag_elem(w->ifname, dtag), w->id);
	if (r == 0 && t->add_attached)
		r = eb_add(p, &p->add[LAYOUT_SET_ATTACHED], LAYOUT_SET_ATTACHED,
			   layout_ifname_elem(w->ifname), w->id);
	if (r == 0 && t->add_dispatch)
		r = eb_add(p, &p->add[LAYOUT_SET_DISPATCH], LAYOUT_SET_DISPATCH,
			   layout_dispatch_elem(w->ifname, t->chain), w->id);
	return r;
}

static int
add_container_rules(struct plan *p, const struct target *t)
{
	struct claim *cl = calloc(layout_nclaims(t->want), sizeof(*cl));
	size_t i, n;
	int r = 0;

	if (cl == NULL)
		return -ENOMEM;
	n = layout_compile(t->want, t->base, cl);
	for (i = 0; i < n && r == 0; i++) {
		/* a claim's tag is its rule's index above the base */
		const char *rid =
			cl[i].kind == CLAIM_MATCH ? t->want->rules[cl[i].tag - t->base].id : NULL;

		r = put_rule(p, layout_claim_rule(p->c->table, t->chain, &cl[i]), t->want->id, rid);
	}
	free(cl);
	return r;
}

/* Pick a block of n tags above every tag in use. */
static int
tag_block(uint32_t *next, uint32_t n, uint32_t *ret_base)
{
	/* Wrapping would reuse tags that stale conntrack entries may still
	 * carry; 2^32 tags last for billions of changes, so refuse. */
	if (*next == 0 || (uint64_t)*next + n > UINT32_MAX)
		return -ERANGE;
	*ret_base = *next;
	*next += n;
	return 0;
}

static int
first_tag(const struct nft_state *have, uint32_t *ret)
{
	uint32_t r;

	if (have->tag_max != 0) {
		*ret = have->tag_max + 1;
		return 0;
	}
	/* A new table starts at a random tag: flows marked by an earlier,
	 * deleted table must not find their old tags meaning something. */
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		return -errno;
	*ret = 1 + (r & 0x3fffffff);
	return 0;
}

static int
plan_targets(struct plan *p, const struct rules_set *want)
{
	size_t i, k;
	int r;

	r = first_tag(p->have, &p->tag_next);
	if (r < 0)
		return r;
	p->ifmask = 15;
	while (p->ifmask + 1 < 2 * want->ncontainers)
		p->ifmask = 2 * p->ifmask + 1;
	p->t = calloc(want->ncontainers ? want->ncontainers : 1, sizeof(*p->t));
	p->by_ifname = calloc(p->ifmask + 1, sizeof(*p->by_ifname));
	if (p->t == NULL || p->by_ifname == NULL)
		return -ENOMEM;
	for (i = 0; i < want->ncontainers; i++) {
		const struct rules_container *w = &want->containers[i];
		const struct nft_container *h;
		struct target *t;

		if (w->ifname[0] == '\0')
			continue; /* not attached: nothing to enforce yet */
		t = &p->t[p->nt++];
		t->want = w;
		k = nft_hash_key(w->ifname, 0) & p->ifmask;
		while (p->by_ifname[k] != NULL)
			k = (k + 1) & p->ifmask;
		p->by_ifname[k] = t;
		h = nft_state_find(p->have, w->id);
		/* counters come only from a container that decoded soundly */
		t->have = h != NULL && h->damage[0] == '\0' ? h : NULL;
		layout_chain_name(w->id, t->chain);
		if (p->fresh || h == NULL)
			t->op = OP_CREATE;
		else if (t->have != NULL &&
			 (t->have->same == w ||
			  (t->have->same == NULL && rules_container_equal(&t->have->fw, w))))
			t->op = OP_KEEP;
		else
			t->op = OP_REWRITE;
		if (t->op == OP_KEEP) {
			p->st->unchanged++;
			continue;
		}
		if (t->op == OP_CREATE)
			p->st->created++;
		else
			p->st->updated++;
		r = tag_block(&p->tag_next, w->nrules + 1, &t->base);
		if (r < 0)
			return r;
	}
	for (i = 0; i < p->nt; i++) {
		struct target *t = &p->t[i];
		const struct nft_elem *e;

		if (t->op == OP_KEEP)
			continue;
		t->add_attached = p->fresh || nft_elems_find(&p->have->elems[LAYOUT_SET_ATTACHED],
							     t->want->ifname, 0) == NULL;
		e = p->fresh ? NULL
			     : nft_elems_find(&p->have->elems[LAYOUT_SET_DISPATCH], t->want->ifname,
					      0);
		t->add_dispatch = e == NULL || !elem_keep(p, LAYOUT_SET_DISPATCH, e);
	}
	return 0;
}

/* Containers and chains of the table that want does not have. */
static int
remove_stale(struct plan *p)
{
	size_t i;
	int r = 0;

	for (i = 0; i < p->have->ncontainers && r == 0; i++) {
		const struct nft_container *h = &p->have->containers[i];
		char chain[LAYOUT_CHAIN_NAME_MAX + 1];

		if (target_find(p, h->fw.id) != NULL)
			continue;
		layout_chain_name(h->fw.id, chain);
		p->st->removed++;
		r = put_flush(p, chain, h->fw.id);
		if (r == 0)
			r = put(p, OBJ_CHAIN, layout_container_chain(p->c->table, chain),
				NFT_MSG_DELCHAIN, 0, h->fw.id, NULL, "delete chain");
	}
	for (i = 0; i < p->have->nforeign_chains && r == 0; i++) {
		r = put_flush(p, p->have->foreign_chains[i], NULL);
		if (r == 0)
			r = put(p, OBJ_CHAIN,
				layout_container_chain(p->c->table, p->have->foreign_chains[i]),
				NFT_MSG_DELCHAIN, 0, NULL, NULL, "delete foreign chain");
	}
	for (i = 0; i < p->have->nforeign_sets && r == 0; i++) {
		struct nftnl_set *s = nftnl_set_alloc();

		if (s == NULL || nftnl_set_set_str(s, NFTNL_SET_TABLE, p->c->table) < 0 ||
		    nftnl_set_set_str(s, NFTNL_SET_NAME, p->have->foreign_sets[i]) < 0) {
			if (s != NULL)
				nftnl_set_free(s);
			return -ENOMEM;
		}
		nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
		r = put(p, OBJ_SET, s, NFT_MSG_DELSET, 0, NULL, NULL, "delete foreign set");
	}
	return r;
}

/* The drop log of a table that no longer wants one; the base chain's
 * gotos to it are flushed first. */
static int
remove_drop_log(struct plan *p)
{
	struct nftnl_set *s;
	int r = 0;

	if (p->have->drop_chain_present)
		r = put(p, OBJ_CHAIN, layout_container_chain(p->c->table, LAYOUT_DROP_CHAIN),
			NFT_MSG_DELCHAIN, 0, NULL, NULL, "delete drop log chain");
	if (r < 0 || !p->have->drop_set_present)
		return r;
	s = layout_drop_set(p->c->table);
	if (s != NULL)
		nftnl_set_unset(s, NFTNL_SET_ID);
	return put(p, OBJ_SET, s, NFT_MSG_DELSET, 0, NULL, NULL, "delete drop log set");
}

/* The drop log, before the base chain rules that go to it. */
static int
add_drop_log(struct plan *p)
{
	const struct nft_state *h = p->have;
	unsigned int i;
	int r = 0;

	if (p->fresh || !h->drop_set_present)
		r = put(p, OBJ_SET, layout_drop_set(p->c->table), NFT_MSG_NEWSET, NLM_F_CREATE,
			NULL, NULL, "create drop log set");
	if (r == 0 && (p->fresh || !h->drop_chain_present))
		r = put(p, OBJ_CHAIN, layout_container_chain(p->c->table, LAYOUT_DROP_CHAIN),
			NFT_MSG_NEWCHAIN, NLM_F_CREATE, NULL, NULL, "create drop log chain");
	for (i = 0; p->base_chain && i < LAYOUT_DROP_NRULES && r == 0; i++)
		r = put_rule(p, layout_drop_rule(p->c->table, &p->c->opts, i), NULL, NULL);
	return r;
}

static int
build(struct plan *p)
{
	uint32_t flags = p->c->no_owner ? 0 : NFT_TABLE_F_OWNER | NFT_TABLE_F_PERSIST;
	const struct nft_state *h = p->have;
	size_t i;
	int r;

	/* A table we made without persist (or that cannot be mended in
	 * place) is replaced in the same transaction: no gap opens. */
	if (h->exists && p->fresh) {
		r = put(p, OBJ_TABLE, layout_table(p->c->table, 0), NFT_MSG_DELTABLE, 0, NULL, NULL,
			"delete table");
		if (r < 0)
			return r;
	}
	/* adopts an orphaned table; without a change besides it, nothing is sent */
	r = put(p, OBJ_TABLE, layout_table(p->c->table, flags), NFT_MSG_NEWTABLE, NLM_F_CREATE,
		NULL, NULL, "create table");
	if (r < 0)
		return r;
	if (!p->fresh) {
		/* deletions first: elements, then rules, then chains and sets */
		for (i = 0; i < LAYOUT_SET_MAX && r == 0; i++)
			r = delete_elems(p, i);
		for (i = 0; i < LAYOUT_SET_MAX && r == 0; i++)
			r = eb_send(p, &p->del[i], i);
		for (i = 0; i < p->nt && r == 0; i++)
			if (p->t[i].op == OP_REWRITE)
				r = put_flush(p, p->t[i].chain, p->t[i].want->id);
		if (r == 0 && p->base_chain && h->base_chain_present)
			r = put_flush(p, LAYOUT_BASE_CHAIN, NULL);
		if (r == 0 && p->base_chain && h->drop_chain_present)
			r = put_flush(p, LAYOUT_DROP_CHAIN, NULL);
		if (r == 0 && p->c->opts.log_rate == 0)
			r = remove_drop_log(p);
		if (r == 0)
			r = remove_stale(p);
	}
	for (i = 0; i < LAYOUT_SET_MAX && r == 0; i++) {
		static const char *const what[LAYOUT_SET_MAX] = {
			"create set allow", "create set deny", "create set attached",
			"create map deftag", "create map dispatch"};

		if (p->fresh || !h->set_present[i])
			r = put(p, OBJ_SET, layout_set(p->c->table, i), NFT_MSG_NEWSET,
				NLM_F_CREATE, NULL, NULL, what[i]);
	}
	if (r == 0 && p->c->opts.log_rate > 0)
		r = add_drop_log(p);
	if (r == 0 && (p->fresh || !h->base_chain_present))
		r = put(p, OBJ_CHAIN, layout_base_chain(p->c->table), NFT_MSG_NEWCHAIN,
			NLM_F_CREATE, NULL, NULL, "create base chain");
	for (i = 0; p->base_chain && i < layout_base_nrules(&p->c->opts) && r == 0; i++)
		r = put_rule(p, layout_base_rule(p->c->table, &p->c->opts, i), NULL, NULL);
	for (i = 0; i < p->nt && r == 0; i++) {
		const struct target *t = &p->t[i];

		if (t->op == OP_KEEP)
			continue;
		if (t->op == OP_CREATE)
			r = put(p, OBJ_CHAIN, layout_container_chain(p->c->table, t->chain),
				NFT_MSG_NEWCHAIN, NLM_F_CREATE, t->want->id, NULL, "create chain");
		if (r == 0)
			r = add_container_rules(p, t);
		if (r == 0)
			r = add_container_elems(p, t);
	}
	/* the rest of the elements; a dispatch jump follows its chain */
	for (i = 0; i < LAYOUT_SET_MAX && r == 0; i++)
		r = eb_send(p, &p->add[i], i);
	return r;
}

static unsigned int
elapsed_us(const struct timespec *a, const struct timespec *b)
{
	return (unsigned int)((b->tv_sec - a->tv_sec) * 1000000 + (b->tv_nsec - a->tv_nsec) / 1000);
}

static void
plan_init(struct plan *p, struct nft_conn *c, const struct nft_state *have,
	  struct nft_apply_stats *st)
{
	size_t i;

	memset(p, 0, sizeof(*p));
	memset(st, 0, sizeof(*st));
	p->c = c;
	p->have = have;
	p->st = st;
	for (i = 0; i < LAYOUT_SET_MAX; i++) {
		p->add[i].type = NFT_MSG_NEWSETELEM;
		p->del[i].type = NFT_MSG_DELSETELEM;
	}
}

static void
plan_free(struct plan *p)
{
	size_t i;

	for (i = 0; i < LAYOUT_SET_MAX; i++) {
		eb_free(&p->add[i]);
		eb_free(&p->del[i]);
	}
	nft_batch_free(p->b);
	free(p->t);
	free(p->by_ifname);
}

/* Send the transaction built so far; a batch of only its table message changes nothing. */
static int
plan_commit(struct plan *p, const struct timespec *t0, struct nft_error *reterr)
{
	struct timespec t1, t2;
	bool quiet;
	int r;

	if (nft_batch_count(p->b) <= 1 && !p->adopt)
		return 0;
	p->st->messages = nft_batch_count(p->b);
	quiet = p->c->monitor != NULL && p->st->messages >= MONITOR_QUIET_MIN;
	if (quiet)
		monitor_quiet(p->c->monitor, true);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r = nft_batch_commit(p->b, reterr);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	if (quiet)
		monitor_quiet(p->c->monitor, false);
	p->st->build_us = elapsed_us(t0, &t1);
	p->st->commit_us = elapsed_us(&t1, &t2);
	return r;
}

/* After a commit: the model describes the kernel again. */
static int
model_rebuild(struct nft_model *m, const struct plan *p)
{
	size_t i;
	int r = 0;

	model_clear(m);
	for (i = 0; i < p->nt && r == 0; i++) {
		const struct target *t = &p->t[i];

		r = model_set(m, t->want, t->op == OP_KEEP ? t->have->tag_base : t->base);
	}
	m->tag_next = p->tag_next;
	m->valid = r == 0;
	return r;
}

static int
apply_once(struct nft_conn *c, const struct rules_set *want, const struct nft_state *have,
	   bool commit, struct nft_model *model, struct nft_apply_stats *st,
	   struct nft_error *reterr)
{
	struct plan p;
	struct timespec t0;
	int r;

	plan_init(&p, c, have, st);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (model != NULL)
		model->valid = false;
	if (have->exists && !have->ours) {
		reterr->err = -EEXIST;
		snprintf(reterr->what, sizeof(reterr->what), "take over table");
		snprintf(reterr->detail, sizeof(reterr->detail),
			 "the table exists and was not made by hoody-firewall; "
			 "choose another --table or delete it");
		return -EEXIST;
	}
	/* sets of the wrong type or holding elements we cannot name, and a
	 * base chain on the wrong hook, cannot be mended in place */
	/* the flags of a table cannot change: one made with other flags
	 * is replaced, in the same transaction */
	p.fresh = !have->exists || have->base_unrepairable ||
		  (!c->no_owner && !(have->flags & NFT_TABLE_F_PERSIST)) ||
		  (c->no_owner && (have->flags & (NFT_TABLE_F_OWNER | NFT_TABLE_F_PERSIST)));
	p.base_chain = p.fresh || !have->base_rules_ok || !nft_options_equal(&have->opts, &c->opts);
	p.adopt = c->hold && !c->no_owner && have->exists && !state_owned_by(have, c);
	p.b = nft_batch_new(c, have->genid);
	r = p.b ? plan_targets(&p, want) : -ENOMEM;
	if (r == 0)
		r = build(&p);
	if (r < 0) {
		reterr->err = r;
		snprintf(reterr->what, sizeof(reterr->what), "build transaction");
		goto out;
	}
	st->persist = nft_batch_count(p.b) == 1 ? nft_state_table_persist(have) : !c->no_owner;
	if (!commit) {
		st->messages = nft_batch_count(p.b) <= 1 ? 0 : nft_batch_count(p.b);
		goto out;
	}
	r = plan_commit(&p, &t0, reterr);
	/* the batch was checked against have's generation, and a commit
	 * advances it by one (skipping 0) */
	st->genid = have->genid;
	if (r == 0 && st->messages > 0)
		while (++st->genid == 0)
			;
	if (r == 0 && model != NULL)
		r = model_rebuild(model, &p);
out:
	plan_free(&p);
	return r;
}

static int
apply_or_check(struct nft_conn *c, const struct rules_set *want, const struct nft_state *have,
	       bool commit, struct nft_model *model, struct nft_apply_stats *ret_stats,
	       struct nft_error *reterr)
{
	struct nft_apply_stats st;
	int r;

	memset(reterr, 0, sizeof(*reterr));
	r = apply_once(c, want, have, commit, model, &st, reterr);
	/* Kernels before 5.12 (owner) or 6.9 (persist) refuse the flags:
	 * fall back to a plain table, which the caller reports. */
	if ((r == -EOPNOTSUPP || r == -EINVAL) && !c->no_owner &&
	    strcmp(reterr->what, "create table") == 0) {
		c->no_owner = true;
		memset(reterr, 0, sizeof(*reterr));
		r = apply_once(c, want, have, commit, model, &st, reterr);
	}
	if (r == -EPERM && strcmp(reterr->what, "create table") == 0)
		snprintf(reterr->detail, sizeof(reterr->detail),
			 "the table is owned by another running process (netlink port %u)",
			 have->owner);
	if (r == 0)
		*ret_stats = st;
	return r;
}

int
nft_apply(struct nft_conn *c, const struct rules_set *want, const struct nft_state *have,
	  struct nft_model *model, struct nft_apply_stats *ret_stats, struct nft_error *reterr)
{
	return apply_or_check(c, want, have, true, model, ret_stats, reterr);
}

int
nft_diff(struct nft_conn *c, const struct rules_set *want, const struct nft_state *have,
	 struct nft_apply_stats *ret_stats, struct nft_error *reterr)
{
	return apply_or_check(c, want, have, false, NULL, ret_stats, reterr);
}

/* Counters of the old container's tag elements, by tag, in ctrs. */
struct fetch {
	const struct model_ct *old;
	struct nft_counter *ctrs;
};

static int
fetch_elem_cb(const struct raw_elem *re, void *data)
{
	struct fetch *f = data;
	uint32_t tag;

	if (re == NULL || re->key_len != IFNAMSIZ + sizeof(tag))
		return 0;
	memcpy(&tag, (const char *)re->key + IFNAMSIZ, sizeof(tag));
	if (re->has_counter && tag - f->old->base <= f->old->nrules) {
		f->ctrs[tag - f->old->base].packets = re->packets;
		f->ctrs[tag - f->old->base].bytes = re->bytes;
	}
	return 0;
}

static int
fetch_cb(const struct nlmsghdr *nlh, void *data)
{
	return raw_elems_foreach(nlh, fetch_elem_cb, data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

/*
 * One GETSETELEM per verdict set, naming the old tags: the kernel
 * answers each element, so this costs two round trips, not a dump.
 * -ENOENT when an element is missing: the table is not what we left.
 */
static int
fetch_counters(struct plan *p, const struct model_ct *old, struct nft_counter *ctrs)
{
	struct fetch f = {.old = old, .ctrs = ctrs};
	int which, r = 0;

	for (which = LAYOUT_SET_ALLOW; which <= LAYOUT_SET_DENY && r == 0; which++) {
		uint8_t action = which == LAYOUT_SET_ALLOW ? RULES_ACTION_ALLOW : RULES_ACTION_DENY;
		struct nftnl_set *s = elem_set(p, which);
		NFT_MSG_ALIGNED char buf[NFT_REQ_BUF];
		struct nlmsghdr *nlh;
		size_t n = 0;
		uint32_t i;

		if (s == NULL)
			return -ENOMEM;
		for (i = 0; i <= old->nrules; i++) {
			uint8_t a = i < old->nrules ? old->rules[i].action : old->policy;
			struct nftnl_set_elem *e;

			if (a != action)
				continue;
			e = layout_tag_key(old->ifname, old->base + i);
			if (e == NULL) {
				nftnl_set_free(s);
				return -ENOMEM;
			}
			nftnl_set_elem_add(s, e);
			n++;
		}
		/* a request of 1025 keys of 20 bytes fits the buffer */
		if (n > 0) {
			nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET,
						    NLM_F_ACK, nft_conn_seq(p->c));
			nftnl_set_elems_nlmsg_build_payload(nlh, s);
			r = nft_conn_dump(p->c, nlh, fetch_cb, &f);
		}
		nftnl_set_free(s);
	}
	return r;
}

/* Delete everything the old container put in the kernel but its chain. */
static int
put_unlink_old(struct plan *p, const struct model_ct *old, bool keep_ifname)
{
	uint32_t i;
	int r = 0;

	for (i = 0; i <= old->nrules && r == 0; i++) {
		uint8_t a = i < old->nrules ? old->rules[i].action : old->policy;
		enum layout_set which =
			a == RULES_ACTION_ALLOW ? LAYOUT_SET_ALLOW : LAYOUT_SET_DENY;

		r = eb_add(p, &p->del[which], which, layout_tag_key(old->ifname, old->base + i),
			   old->id);
	}
	if (r == 0)
		r = eb_add(p, &p->del[LAYOUT_SET_DEFTAG], LAYOUT_SET_DEFTAG,
			   layout_ifname_elem(old->ifname), old->id);
	if (r == 0 && !keep_ifname)
		r = eb_add(p, &p->del[LAYOUT_SET_DISPATCH], LAYOUT_SET_DISPATCH,
			   layout_ifname_elem(old->ifname), old->id);
	if (r == 0 && !keep_ifname)
		r = eb_add(p, &p->del[LAYOUT_SET_ATTACHED], LAYOUT_SET_ATTACHED,
			   layout_ifname_elem(old->ifname), old->id);
	for (i = 0; i < LAYOUT_SET_MAX && r == 0; i++)
		r = eb_send(p, &p->del[i], i);
	return r;
}

static int
put_build(struct plan *p, struct target *t, const char *id)
{
	const struct model_ct *old = t->old;
	bool attach = t->want != NULL && t->want->ifname[0] != '\0';
	bool same_if = attach && old != NULL && strcmp(old->ifname, t->want->ifname) == 0;
	int r = 0;

	if (old != NULL) {
		r = put_unlink_old(p, old, same_if);
		if (r == 0)
			r = put_flush(p, t->chain, id);
		if (r == 0 && !attach)
			r = put(p, OBJ_CHAIN, layout_container_chain(p->c->table, t->chain),
				NFT_MSG_DELCHAIN, 0, id, NULL, "delete chain");
	}
	if (!attach || r < 0)
		return r;
	if (old == NULL)
		r = put(p, OBJ_CHAIN, layout_container_chain(p->c->table, t->chain),
			NFT_MSG_NEWCHAIN, NLM_F_CREATE, id, NULL, "create chain");
	t->add_attached = t->add_dispatch = !same_if;
	if (r == 0)
		r = tag_block(&p->tag_next, t->want->nrules + 1, &t->base);
	if (r == 0)
		r = add_container_rules(p, t);
	if (r == 0)
		r = add_container_elems(p, t);
	for (size_t i = 0; i < LAYOUT_SET_MAX && r == 0; i++)
		r = eb_send(p, &p->add[i], i);
	return r;
}

/*
 * Commit a one-container plan built without error (r == 0; else what
 * names the step that failed) and bring the model along. A kernel that
 * does not hold what the model says (somebody else changed it) makes it
 * -ERESTART.
 */
static int
put_finish(struct plan *p, struct nft_model *m, const char *id, const struct target *t,
	   const struct timespec *t0, int r, const char *what, struct nft_error *reterr)
{
	if (r < 0 && reterr->what[0] == '\0') {
		reterr->err = r;
		snprintf(reterr->container, sizeof(reterr->container), "%s", id);
		snprintf(reterr->what, sizeof(reterr->what), "%s", what);
	}
	if (r == 0)
		r = plan_commit(p, t0, reterr);
	if (r == 0) {
		m->tag_next = p->tag_next;
		if (t->want != NULL && t->want->ifname[0] != '\0') {
			r = model_set(m, t->want, t->base);
			p->st->created = t->old == NULL;
			p->st->updated = t->old != NULL;
		} else {
			model_remove(m, id);
			p->st->removed = 1;
		}
	}
	if (r == -ENOENT || r == -EEXIST || r == -EBUSY || r == -ERESTART) {
		m->valid = false;
		r = -ERESTART;
	}
	return r;
}

int
nft_put(struct nft_conn *c, struct nft_model *m, const char *id, const struct rules_container *want,
	struct nft_apply_stats *ret_stats, struct nft_error *reterr)
{
	struct nft_counter *ctrs = NULL;
	struct nft_apply_stats st;
	struct target t = {.want = want};
	const struct model_ct *other;
	struct timespec t0;
	struct plan p;
	int r;

	memset(reterr, 0, sizeof(*reterr));
	plan_init(&p, c, NULL, &st);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!m->valid)
		return -ERESTART;
	t.old = model_find(m, id);
	if (want != NULL && want->ifname[0] != '\0') {
		other = model_find_ifname(m, want->ifname);
		if (other != NULL && strcmp(other->id, id) != 0) {
			reterr->err = -EEXIST;
			snprintf(reterr->container, sizeof(reterr->container), "%s", id);
			snprintf(reterr->what, sizeof(reterr->what), "attach interface");
			snprintf(reterr->detail, sizeof(reterr->detail),
				 "interface %s is attached to container %s", want->ifname,
				 other->id);
			return -EEXIST;
		}
	} else if (t.old == NULL)
		return 0; /* not in the kernel, and not to be */
	layout_chain_name(id, t.chain);
	p.tag_next = m->tag_next;
	p.b = nft_batch_new(c, 0);
	r = p.b ? 0 : -ENOMEM;
	/* counters matter only to a container that stays in the kernel */
	if (r == 0 && t.old != NULL && want != NULL && want->ifname[0] != '\0') {
		ctrs = calloc(t.old->nrules + 1, sizeof(*ctrs));
		r = ctrs ? fetch_counters(&p, t.old, ctrs) : -ENOMEM;
		t.old_ctrs = ctrs;
	}
	if (r == 0)
		r = put_build(&p, &t, id);
	r = put_finish(&p, m, id, &t, &t0, r, "build transaction", reterr);
	if (r == 0)
		*ret_stats = st;
	free(ctrs);
	plan_free(&p);
	return r;
}

/*
 * nft_repair(): a container is made whole again after another process
 * changed it, reading only its own objects: each key it may have in the
 * kernel is asked for (a few dozen requests), each one found is
 * deleted, and the container is written afresh with a new tag block.
 */
struct probe {
	bool present;
	bool has_counter;
	struct nft_counter ctr;
	char chain[LAYOUT_CHAIN_NAME_MAX + 1]; /* dispatch: the jump's target */
};

static int
probe_elem_cb(const struct raw_elem *re, void *data)
{
	struct probe *pr = data;

	if (re == NULL)
		return 0;
	pr->present = true;
	pr->has_counter = re->has_counter;
	pr->ctr.packets = re->packets;
	pr->ctr.bytes = re->bytes;
	if (re->chain != NULL)
		snprintf(pr->chain, sizeof(pr->chain), "%s", re->chain);
	return 0;
}

static int
probe_cb(const struct nlmsghdr *nlh, void *data)
{
	return raw_elems_foreach(nlh, probe_elem_cb, data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

/* Is key (taken) in the set? */
static int
probe_elem(struct plan *p, enum layout_set which, struct nftnl_set_elem *key, struct probe *ret)
{
	NFT_MSG_ALIGNED char buf[NFT_REQ_BUF];
	struct nftnl_set *s = elem_set(p, which);
	struct nlmsghdr *nlh;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (s == NULL || key == NULL) {
		if (key != NULL)
			nftnl_set_elem_free(key);
		nftnl_set_free(s);
		return -ENOMEM;
	}
	nftnl_set_elem_add(s, key);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_ACK,
				    nft_conn_seq(p->c));
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	r = nft_conn_dump(p->c, nlh, probe_cb, ret);
	return r == -ENOENT ? 0 : r;
}

/* Delete key from the set if it is there; *ret says what it held. */
static int
repair_unlink(struct plan *p, enum layout_set which, struct nftnl_set_elem *(*mk)(const void *),
	      const void *arg, const char *id, struct probe *ret)
{
	int r = probe_elem(p, which, mk(arg), ret);

	if (r == 0 && ret->present)
		r = eb_add(p, &p->del[which], which, mk(arg), id);
	return r;
}

struct tag_key {
	const char *ifname;
	uint32_t tag;
};

static struct nftnl_set_elem *
mk_tag_key(const void *arg)
{
	const struct tag_key *k = arg;

	return layout_tag_key(k->ifname, k->tag);
}

static struct nftnl_set_elem *
mk_ifname_key(const void *arg)
{
	return layout_ifname_elem(arg);
}

static int
chain_exists(struct plan *p, const char *chain, bool *ret)
{
	NFT_MSG_ALIGNED char buf[NFT_REQ_BUF];
	struct nftnl_chain *ch = layout_container_chain(p->c->table, chain);
	struct nlmsghdr *nlh;
	int r;

	if (ch == NULL)
		return -ENOMEM;
	nlh = nftnl_chain_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, NFPROTO_INET, NLM_F_ACK,
					  nft_conn_seq(p->c));
	nftnl_chain_nlmsg_build_payload(nlh, ch);
	nftnl_chain_free(ch);
	r = nft_conn_dump(p->c, nlh, NULL, NULL);
	*ret = r == 0;
	return r == -ENOENT ? 0 : r;
}

/* Delete whatever of the old container is left, and the foreign keys. */
static int
repair_unlink_old(struct plan *p, struct target *t, const char *id, bool keep_ifname,
		  const struct nft_key *extra, size_t nextra, struct nft_counter *ctrs)
{
	const struct model_ct *old = t->old;
	struct probe pr;
	uint32_t i;
	size_t k;
	int which, r = 0;

	for (i = 0; old != NULL && i <= old->nrules && r == 0; i++) {
		struct tag_key key = {old->ifname, old->base + i};
		uint8_t a = i < old->nrules ? old->rules[i].action : old->policy;

		for (which = LAYOUT_SET_ALLOW; which <= LAYOUT_SET_DENY && r == 0; which++) {
			r = repair_unlink(p, which, mk_tag_key, &key, id, &pr);
			/* counters are evidence: carried from where the tag belongs */
			if (r == 0 && pr.present && pr.has_counter &&
			    a == (which == LAYOUT_SET_ALLOW ? RULES_ACTION_ALLOW
							    : RULES_ACTION_DENY))
				ctrs[i] = pr.ctr;
		}
	}
	if (old != NULL && r == 0)
		r = repair_unlink(p, LAYOUT_SET_DEFTAG, mk_ifname_key, old->ifname, id, &pr);
	for (k = 0; old != NULL && !keep_ifname && k < 2 && r == 0; k++)
		r = repair_unlink(p, k == 0 ? LAYOUT_SET_DISPATCH : LAYOUT_SET_ATTACHED,
				  mk_ifname_key, old->ifname, id, &pr);
	for (k = 0; k < nextra && r == 0; k++) {
		struct tag_key key = {extra[k].ifname, extra[k].tag};

		/* the old container's own keys were handled above */
		if (old != NULL && strcmp(old->ifname, key.ifname) == 0 &&
		    key.tag - old->base <= old->nrules)
			continue;
		r = repair_unlink(p, extra[k].set, mk_tag_key, &key, id, &pr);
	}
	return r;
}

/* Make the interface's own entries right: deftag goes, dispatch and attached stay if right. */
static int
repair_ifname(struct plan *p, struct target *t, const char *id, bool same_if)
{
	const char *ifname = t->want->ifname;
	struct probe pr;
	int r = 0;

	/* a new interface may hold entries another process left */
	if (!same_if)
		r = repair_unlink(p, LAYOUT_SET_DEFTAG, mk_ifname_key, ifname, id, &pr);
	if (r == 0)
		r = probe_elem(p, LAYOUT_SET_DISPATCH, layout_ifname_elem(ifname), &pr);
	t->add_dispatch = !pr.present || strcmp(pr.chain, t->chain) != 0;
	if (r == 0 && pr.present && t->add_dispatch)
		r = eb_add(p, &p->del[LAYOUT_SET_DISPATCH], LAYOUT_SET_DISPATCH,
			   layout_ifname_elem(ifname), id);
	if (r == 0)
		r = probe_elem(p, LAYOUT_SET_ATTACHED, layout_ifname_elem(ifname), &pr);
	t->add_attached = !pr.present;
	return r;
}

int
nft_repair(struct nft_conn *c, struct nft_model *m, const char *id,
	   const struct rules_container *want, const struct nft_key *extra, size_t nextra,
	   struct nft_apply_stats *ret_stats, struct nft_error *reterr)
{
	struct nft_counter *ctrs = NULL;
	struct nft_apply_stats st;
	struct target t = {.want = want};
	const struct model_ct *other;
	bool attach = want != NULL && want->ifname[0] != '\0', same_if, chain;
	struct timespec t0;
	struct plan p;
	size_t i;
	int r;

	memset(reterr, 0, sizeof(*reterr));
	plan_init(&p, c, NULL, &st);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!m->valid)
		return -ERESTART;
	t.old = model_find(m, id);
	other = attach ? model_find_ifname(m, want->ifname) : NULL;
	if (other != NULL && strcmp(other->id, id) != 0)
		return -ERESTART; /* the whole table must be put right */
	same_if = attach && t.old != NULL && strcmp(t.old->ifname, want->ifname) == 0;
	layout_chain_name(id, t.chain);
	p.tag_next = m->tag_next;
	p.b = nft_batch_new(c, 0);
	ctrs = calloc(t.old ? t.old->nrules + 1 : 1, sizeof(*ctrs));
	r = p.b && ctrs ? 0 : -ENOMEM;
	t.old_ctrs = t.old ? ctrs : NULL;
	if (r == 0)
		r = repair_unlink_old(&p, &t, id, same_if, extra, nextra, ctrs);
	if (r == 0 && attach)
		r = repair_ifname(&p, &t, id, same_if);
	for (i = 0; i < LAYOUT_SET_MAX && r == 0; i++)
		r = eb_send(&p, &p.del[i], i);
	if (r == 0)
		r = chain_exists(&p, t.chain, &chain);
	if (r == 0 && chain)
		r = put_flush(&p, t.chain, id);
	if (r == 0 && chain && !attach)
		r = put(&p, OBJ_CHAIN, layout_container_chain(c->table, t.chain), NFT_MSG_DELCHAIN,
			0, id, NULL, "delete chain");
	if (r == 0 && !chain && attach)
		r = put(&p, OBJ_CHAIN, layout_container_chain(c->table, t.chain), NFT_MSG_NEWCHAIN,
			NLM_F_CREATE, id, NULL, "create chain");
	if (r == 0 && attach)
		r = tag_block(&p.tag_next, want->nrules + 1, &t.base);
	if (r == 0 && attach)
		r = add_container_rules(&p, &t);
	if (r == 0 && attach)
		r = add_container_elems(&p, &t);
	for (i = 0; i < LAYOUT_SET_MAX && r == 0; i++)
		r = eb_send(&p, &p.add[i], i);
	r = put_finish(&p, m, id, &t, &t0, r, "read container", reterr);
	if (r == 0)
		*ret_stats = st;
	free(ctrs);
	plan_free(&p);
	return r;
}
