/*
 * A transaction being built: its messages, each mapped back to the
 * container and rule it is for, and the set elements of many
 * containers gathered into shared messages. What a container puts in
 * the kernel is made here for both the whole-table apply (apply.c) and
 * the one-container changes (put.c).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "nft/plan.h"

/*
 * Elements of one set on their way to the kernel, from many containers.
 * They go out as soon as a message's worth is gathered, so that a large
 * apply never holds them all.
 */
#define ELEM_BATCH_FLUSH 256

/*
 * One message of the transaction about object o of kind k, which this
 * takes (o may be NULL after a failed allocation: -ENOMEM). container
 * and rule name what the message is for, should the kernel refuse it.
 */
int
plan_put(struct plan *p, enum obj k, void *o, uint16_t type, uint16_t flags, const char *container,
	 const char *rule, const char *what)
{
	uint32_t seq;
	char *buf = NULL;
	int r = -ENOMEM;

	if (o != NULL)
		buf = nft_batch_reserve(p->b, container, rule, what, &seq);
	if (buf != NULL) {
		struct nlmsghdr *nlh;
		uint32_t family;

		switch (k) {
		case OBJ_TABLE:
			family = nftnl_table_get_u32(o, NFTNL_TABLE_FAMILY);
			break;
		case OBJ_SET:
			family = nftnl_set_get_u32(o, NFTNL_SET_FAMILY);
			break;
		case OBJ_CHAIN:
			family = nftnl_chain_get_u32(o, NFTNL_CHAIN_FAMILY);
			break;
		default:
			family = nftnl_rule_get_u32(o, NFTNL_RULE_FAMILY);
		}
		nlh = nftnl_nlmsg_build_hdr(buf, type, family ? family : NFPROTO_INET, flags, seq);
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
int
plan_flush(struct plan *p, const char *chain, const char *container)
{
	return plan_flush_family(p, NFPROTO_INET, chain, container);
}

int
plan_flush_family(struct plan *p, uint8_t family, const char *chain, const char *container)
{
	struct nftnl_rule *r = layout_rb_new_family(family, p->c->table, chain);

	return plan_put(p, OBJ_RULE, r, NFT_MSG_DELRULE, 0, container, NULL, "flush chain");
}

int
plan_rule(struct plan *p, struct nftnl_rule *r, const char *container, const char *rule)
{
	return plan_put(p, OBJ_RULE, r, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, container,
			rule, "add rule");
}

struct nftnl_set *
plan_elem_set(const struct plan *p, enum layout_set which)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (s == NULL)
		return NULL;
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, layout_set_family(which));
	if (nftnl_set_set_str(s, NFTNL_SET_TABLE, p->c->table) < 0 ||
	    nftnl_set_set_str(s, NFTNL_SET_NAME, layout_set_names[which]) < 0) {
		nftnl_set_free(s);
		return NULL;
	}
	return s;
}

int
plan_elem_add(struct plan *p, struct elem_batch *eb, enum layout_set which,
	      struct nftnl_set_elem *e, const char *owner)
{
	const char **o;

	if (e == NULL)
		return -ENOMEM;
	if (eb->s == NULL && (eb->s = plan_elem_set(p, which)) == NULL)
		goto fail;
	o = nft_grow(eb->owners, eb->n, &eb->cap, sizeof(*o), 1024);
	if (o == NULL)
		goto fail;
	eb->owners = o;
	nftnl_set_elem_add(eb->s, e); /* takes e */
	eb->owners[eb->n++] = owner;
	return eb->n - eb->sent >= ELEM_BATCH_FLUSH ? plan_elems_send(p, eb, which) : 0;
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
int
plan_elems_send(struct plan *p, struct elem_batch *eb, enum layout_set which)
{
	uint16_t type = eb->type;
	static const char *const what[2][LAYOUT_SET_MAX] = {
		{"add allow element", "add deny element", "add attached element",
		 "add default-tag element", "add dispatch element", "add dispatch6 element",
		 "add dns element", "add ports element", "add bports element", "add pinned element",
		 "add pin4 element", "add pin6 element"},
		{"delete allow element", "delete deny element", "delete attached element",
		 "delete default-tag element", "delete dispatch element",
		 "delete dispatch6 element", "delete dns element", "delete ports element",
		 "delete bports element", "delete pinned element", "delete pin4 element",
		 "delete pin6 element"},
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
		nlh = nftnl_set_elem_nlmsg_build_hdr(buf, type, layout_set_family(which),
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

int
plan_elems_send_all(struct plan *p, struct elem_batch ebs[LAYOUT_SET_MAX])
{
	size_t i;
	int r = 0;

	for (i = 0; i < LAYOUT_SET_MAX && r == 0; i++)
		r = plan_elems_send(p, &ebs[i], i);
	return r;
}

static void
eb_free(struct elem_batch *eb)
{
	if (eb->s != NULL)
		nftnl_set_free(eb->s);
	free(eb->owners);
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

		r = plan_elem_add(p, &p->add[which], which,
				  layout_tag_elem(w->ifname, t->base + i, carried_counter(t, i),
						  ru->desc ? ru->desc + head : NULL, dlen - head,
						  ru->expires_at),
				  w->id);
	}
	if (r == 0) {
		enum layout_set which =
			w->policy == RULES_ACTION_ALLOW ? LAYOUT_SET_ALLOW : LAYOUT_SET_DENY;

		r = plan_elem_add(p, &p->add[which], which,
				  layout_tag_elem(w->ifname, dtag, carried_default(t), NULL, 0, 0),
				  w->id);
	}
	if (r == 0)
		r = plan_elem_add(p, &p->add[LAYOUT_SET_DEFTAG], LAYOUT_SET_DEFTAG,
				  layout_deftag_elem(w->ifname, dtag), w->id);
	if (r == 0 && t->add_attached)
		r = plan_elem_add(p, &p->add[LAYOUT_SET_ATTACHED], LAYOUT_SET_ATTACHED,
				  layout_ifname_elem(w->ifname), w->id);
	if (r == 0 && t->add_dispatch)
		r = plan_elem_add(p, &p->add[LAYOUT_SET_DISPATCH], LAYOUT_SET_DISPATCH,
				  layout_dispatch_elem(w->ifname, t->chain), w->id);
	if (r == 0 && t->add_dispatch6)
		r = plan_elem_add(p, &p->add[LAYOUT_SET_DISPATCH6], LAYOUT_SET_DISPATCH6,
				  layout_dispatch_elem(w->ifname, t->chain6), w->id);
	if (r == 0 && t->add_dns)
		r = plan_elem_add(p, &p->add[LAYOUT_SET_DNS], LAYOUT_SET_DNS,
				  layout_ifname_elem(w->ifname), w->id);
	if (r == 0 && t->add_ports)
		r = plan_elem_add(p, &p->add[LAYOUT_SET_PORTS], LAYOUT_SET_PORTS,
				  layout_ports_elem(w->ifname, t->port), w->id);
	if (r == 0 && t->add_pins)
		r = plan_pins(p, p->add, w->ifname, w->addresses, w->naddresses, w->id);
	if (r == 0 && t->fill_b)
		r = plan_elem_add(p, &p->add[LAYOUT_SET_BPORTS], LAYOUT_SET_BPORTS,
				  layout_bports_elem(t->port, t->bchain), w->id);
	if (r == 0 && t->add_dnsb)
		r = plan_elem_add(p, &p->add[LAYOUT_SET_DNSB], LAYOUT_SET_DNSB,
				  layout_bports_elem(t->port, NULL), w->id);
	return r;
}

int
plan_pins(struct plan *p, struct elem_batch ebs[LAYOUT_SET_MAX], const char *ifname,
	  const struct rules_address *a, size_t n, const char *owner)
{
	size_t i;
	int r = 0;

	if (n > 0)
		r = plan_elem_add(p, &ebs[LAYOUT_SET_PINNED], LAYOUT_SET_PINNED,
				  layout_ifname_elem(ifname), owner);
	for (i = 0; i < n && r == 0; i++) {
		enum layout_set which =
			a[i].family == RULES_FAMILY_IPV6 ? LAYOUT_SET_PIN6 : LAYOUT_SET_PIN4;

		r = plan_elem_add(p, &ebs[which], which,
				  layout_pin_elem(ifname, a[i].family, a[i].addr), owner);
	}
	return r;
}

/* A bridged container's chain b_<id>, for its interface (see bridged.c). */
static int
add_bchain(struct plan *p, const struct target *t)
{
	unsigned int i;
	int r = 0;

	if (!t->has_b)
		r = plan_put(p, OBJ_CHAIN, layout_container_chain(p->c->table, t->bchain),
			     NFT_MSG_NEWCHAIN, NLM_F_CREATE, t->want->id, NULL,
			     "create bridged chain");
	for (i = 0; i < layout_bport_nrules(&p->c->opts) && r == 0; i++)
		r = plan_rule(
			p,
			layout_bport_rule(p->c->table, &p->c->opts, t->bchain, t->want->ifname, i),
			t->want->id, NULL);
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
	/* a name without its id would match nothing, or its sets would be another's */
	if (t->name_ids == NULL && rules_container_has_names(t->want)) {
		free(cl);
		return -EINVAL;
	}
	n = layout_compile(t->want, t->base, t->name_ids, cl);
	for (i = 0; i < n && r == 0; i++) {
		/* a claim's tag is its rule's index above the base */
		const char *rid =
			cl[i].kind == CLAIM_MATCH ? t->want->rules[cl[i].tag - t->base].id : NULL;
		const char *chain = cl[i].family == RULES_FAMILY_IPV6 ? t->chain6 : t->chain;

		r = plan_rule(p, layout_claim_rule(p->c->table, chain, &cl[i]), t->want->id, rid);
	}
	free(cl);
	return r;
}

int
plan_chain_drop(struct plan *p, const char *chain, bool del, const char *id)
{
	int r = plan_flush(p, chain, id);

	if (r == 0 && del)
		r = plan_put(p, OBJ_CHAIN, layout_container_chain(p->c->table, chain),
			     NFT_MSG_DELCHAIN, 0, id, NULL, "delete chain");
	return r;
}

static bool
id_in(uint32_t id, const uint32_t *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == id)
			return true;
	return false;
}

int
plan_name_ids(struct target *t, const uint64_t *have_keys, const uint32_t *have_ids, size_t nhave,
	      const uint32_t *used, size_t nused)
{
	const struct rules_container *w = t->want;
	uint32_t num = 1, id;
	size_t i, j;

	free(t->name_ids);
	t->name_ids = NULL;
	if (!rules_container_has_names(w))
		return 0;
	t->name_ids = calloc(w->nrules, sizeof(*t->name_ids));
	if (t->name_ids == NULL)
		return -ENOMEM;
	/* first the rules that keep theirs: the same rule, name and port */
	for (i = 0; i < w->nrules; i++) {
		uint64_t key;

		if (w->rules[i].dname == NULL)
			continue;
		key = model_dname_key(w->rules[i].id, w->rules[i].dname);
		for (j = 0; j < nhave; j++)
			if (have_keys[j] == key && have_ids[j] >> 16 == t->port &&
			    !id_in(have_ids[j], t->name_ids, i))
				t->name_ids[i] = have_ids[j];
	}
	/* then new ones, on numbers no set of the port has, kept or not */
	for (i = 0; i < w->nrules; i++) {
		if (w->rules[i].dname == NULL || t->name_ids[i] != 0)
			continue;
		for (;; num++) {
			if (num > LAYOUT_DNUM_MAX)
				return -ENOSPC;
			id = layout_name_id(t->port, (uint16_t)num);
			if (!id_in(id, used, nused) && !id_in(id, have_ids, nhave) &&
			    !id_in(id, t->name_ids, w->nrules))
				break;
		}
		t->name_ids[i] = id;
	}
	return 0;
}

/* The sets of its rules by name: made when new, left be (with what they learned) when not. */
static int
add_dsets(struct plan *p, const struct target *t)
{
	size_t i;
	uint8_t f;
	int r = 0;

	for (i = 0; t->name_ids != NULL && i < t->want->nrules && r == 0; i++)
		for (f = 0; f < RULES_FAMILY_MAX && t->name_ids[i] != 0 && r == 0; f++)
			r = plan_put(p, OBJ_SET,
				     layout_dset(p->c->table, f, t->name_ids[i],
						 t->want->rules[i].dname),
				     NFT_MSG_NEWSET, NLM_F_CREATE, t->want->id,
				     t->want->rules[i].id, "create set of a rule by name");
	return r;
}

int
plan_dset_drop(struct plan *p, uint32_t name_id, uint8_t family, const char *owner)
{
	struct nftnl_set *s = layout_dset(p->c->table, family, name_id, "-");

	if (s != NULL)
		nftnl_set_unset(s, NFTNL_SET_ID);
	return plan_put(p, OBJ_SET, s, NFT_MSG_DELSET, 0, owner, NULL,
			"delete set of a rule by name");
}

int
plan_container(struct plan *p, const struct target *t, const char *id)
{
	int r = add_dsets(p, t);

	if (r == 0 && !t->has4)
		r = plan_put(p, OBJ_CHAIN, layout_container_chain(p->c->table, t->chain),
			     NFT_MSG_NEWCHAIN, NLM_F_CREATE, id, NULL, "create chain");
	if (r == 0 && t->want6 && !t->has6)
		r = plan_put(p, OBJ_CHAIN, layout_container_chain(p->c->table, t->chain6),
			     NFT_MSG_NEWCHAIN, NLM_F_CREATE, id, NULL, "create IPv6 chain");
	if (r == 0)
		r = add_container_rules(p, t);
	if (r == 0 && t->fill_b)
		r = add_bchain(p, t);
	if (r == 0)
		r = add_container_elems(p, t);
	return r;
}

/* Pick a block of n tags above every tag in use. */
int
plan_tag_block(uint32_t *next, uint32_t n, uint32_t *ret_base)
{
	/* Wrapping would reuse tags that stale conntrack entries may still
	 * carry; 2^32 tags last for billions of changes, so refuse. */
	if (*next == 0 || (uint64_t)*next + n > UINT32_MAX)
		return -ERANGE;
	*ret_base = *next;
	*next += n;
	return 0;
}

static unsigned int
elapsed_us(const struct timespec *a, const struct timespec *b)
{
	return (unsigned int)((b->tv_sec - a->tv_sec) * 1000000 + (b->tv_nsec - a->tv_nsec) / 1000);
}

void
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

void
plan_free(struct plan *p)
{
	size_t i;

	for (i = 0; i < LAYOUT_SET_MAX; i++) {
		eb_free(&p->add[i]);
		eb_free(&p->del[i]);
	}
	nft_batch_free(p->b);
	for (i = 0; i < p->nt; i++)
		free(p->t[i].name_ids);
	free(p->t);
	free(p->by_ifname);
	free(p->by_port);
}

/* Send the transaction built so far; a batch of only its table message changes nothing. */
int
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
