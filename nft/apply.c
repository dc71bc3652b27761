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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "nft/plan.h"

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
	if (p->nt == 0) /* bsearch() takes no NULL, even for nothing */
		return NULL;
	return bsearch(id, p->t, p->nt, sizeof(*p->t), target_id_cmp);
}

static struct nftnl_set_elem *
elem_key_of(enum layout_set which, const struct nft_elem *e)
{
	if (which == LAYOUT_SET_ALLOW || which == LAYOUT_SET_DENY)
		return layout_tag_key(e->ifname, e->value);
	if (which == LAYOUT_SET_BPORTS || which == LAYOUT_SET_DNSB)
		return layout_bports_elem(
			(uint16_t)((e->value & ~LAYOUT_MARK_VALID) >> LAYOUT_PORT_SHIFT), NULL);
	if (which == LAYOUT_SET_PIN4)
		return layout_pin_elem(e->ifname, RULES_FAMILY_IPV4, (const uint8_t *)&e->value);
	if (which == LAYOUT_SET_PIN6)
		return layout_pin_elem(e->ifname, RULES_FAMILY_IPV6, (const uint8_t *)e->tail);
	return layout_ifname_elem(e->ifname);
}

/* The container a bports element's key names, if it stays bridged there. */
static const struct target *
bports_owner(const struct plan *p, const struct nft_elem *e)
{
	uint32_t port = (e->value & ~LAYOUT_MARK_VALID) >> LAYOUT_PORT_SHIFT;

	if (e->value != layout_port_mark((uint16_t)port) || port == 0 || port > LAYOUT_PORT_MAX)
		return NULL;
	return p->by_port[port];
}

/* Should an existing element stay? */
static bool
elem_keep(const struct plan *p, enum layout_set which, const struct nft_elem *e)
{
	const struct target *t;

	if (which == LAYOUT_SET_BPORTS) {
		t = bports_owner(p, e);
		return t != NULL && t->want->bridged && !t->fill_b && e->chain != NULL &&
		       strcmp(e->chain, t->bchain) == 0;
	}
	if (which == LAYOUT_SET_DNSB) {
		t = bports_owner(p, e);
		return t != NULL && t->want->bridged && rules_container_has_names(t->want);
	}
	t = owner_of(p, e->ifname);
	if (t == NULL)
		return false;
	if (which == LAYOUT_SET_PORTS)
		return !t->add_ports;
	if (which >= LAYOUT_SET_PINNED)
		return !t->add_pins;
	if (t->op == OP_KEEP)
		return true;
	/* A rewritten container keeps its interface's entries when they
	 * already point where they should: re-adding a dispatch jump would
	 * make the kernel re-validate every chain of the table. */
	if (which == LAYOUT_SET_ATTACHED)
		return true;
	if (which == LAYOUT_SET_DISPATCH)
		return e->chain != NULL && strcmp(e->chain, t->chain) == 0;
	if (which == LAYOUT_SET_DISPATCH6)
		return t->want6 && e->chain != NULL && strcmp(e->chain, t->chain6) == 0;
	if (which == LAYOUT_SET_DNS)
		return rules_container_has_names(t->want);
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
		t = which == LAYOUT_SET_BPORTS || which == LAYOUT_SET_DNSB
			    ? bports_owner(p, &es->v[i])
			    : owner_of(p, es->v[i].ifname);
		r = plan_elem_add(p, &p->del[which], which, elem_key_of(which, &es->v[i]),
				  t ? t->want->id : NULL);
	}
	return r;
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

/*
 * Every container keeps the port id the kernel has for its interface;
 * the others take the lowest free ones. A bridged container's chain
 * b_<id> stays as it is when its interface and port are unchanged.
 */
static int
plan_ports(struct plan *p)
{
	size_t i;
	uint16_t q = 1;

	p->by_port = calloc(LAYOUT_PORT_MAX + 1, sizeof(*p->by_port));
	if (p->by_port == NULL)
		return -ENOMEM;
	for (i = 0; i < p->nt && !p->fresh; i++) {
		struct target *t = &p->t[i];
		const struct nft_elem *e =
			nft_elems_find(&p->have->elems[LAYOUT_SET_PORTS], t->want->ifname, 0);
		uint16_t port =
			e ? (uint16_t)((e->data & ~LAYOUT_MARK_VALID) >> LAYOUT_PORT_SHIFT) : 0;

		if (e != NULL && port > 0 && e->data == layout_port_mark(port) &&
		    p->by_port[port] == NULL) {
			t->port = port;
			p->by_port[port] = t;
		}
	}
	for (i = 0; i < p->nt; i++) {
		struct target *t = &p->t[i];
		bool ok = false, rewrite;

		layout_bchain_name(t->want->id, t->bchain);
		t->has_b = !p->fresh && state_bchain(p->have, t->want->id, &ok);
		if (t->port == 0) {
			while (q <= LAYOUT_PORT_MAX && p->by_port[q] != NULL)
				q++;
			if (q > LAYOUT_PORT_MAX)
				return -ENOSPC;
			t->port = q;
			p->by_port[q] = t;
			t->add_ports = true;
		}
		/* a kept container keeps its port and, bridged, a sound chain
		 * built with the options of the base chain */
		rewrite = t->add_ports || (t->want->bridged && (!ok || p->base_chain));
		if (t->op == OP_KEEP && rewrite) {
			int r = plan_tag_block(&p->tag_next, t->want->nrules + 1, &t->base);

			if (r < 0)
				return r;
			t->op = OP_REWRITE;
			p->st->unchanged--;
			p->st->updated++;
		}
		/* b_<id> holds only the interface: a change of rules leaves it
		 * be (a new jump to it would make the kernel validate the table) */
		t->fill_b =
			t->want->bridged && t->op != OP_KEEP &&
			(!ok || t->add_ports || p->base_chain || t->have == NULL ||
			 !t->have->fw.bridged || strcmp(t->have->fw.ifname, t->want->ifname) != 0);
	}
	return 0;
}

/*
 * The ids of a changed container's rules by name: a rule keeps its own
 * (and what its sets learned) while its name and port stay; new ones
 * take numbers that no set of the port has in the kernel.
 */
static int
target_names(struct plan *p, struct target *t)
{
	const struct nft_container *h = t->have;
	size_t nhave = h != NULL && h->name_ids != NULL ? h->fw.nrules : 0, nports, i;
	/* only the port's own sets: a scan of all would cost every container all */
	const struct nft_dset *d = state_dsets_of_port(p->have, t->port, &nports);
	uint64_t *keys = calloc(nhave ? nhave : 1, sizeof(*keys));
	uint32_t *used = calloc(nports ? nports : 1, sizeof(*used));
	int r = -ENOMEM;

	if (keys != NULL && used != NULL) {
		for (i = 0; i < nhave; i++)
			if (h->fw.rules[i].dname != NULL)
				keys[i] = model_dname_key(h->fw.rules[i].id, h->fw.rules[i].dname);
		for (i = 0; i < nports; i++)
			used[i] = d[i].name_id;
		r = plan_name_ids(t, keys, nhave ? h->name_ids : NULL, nhave, used, nports);
	}
	free(keys);
	free(used);
	return r;
}

/* Is name_id that of a rule of a container that the table keeps or gets? */
static bool
name_id_wanted(const struct plan *p, uint32_t name_id)
{
	const struct target *t =
		(name_id >> 16) <= LAYOUT_PORT_MAX ? p->by_port[name_id >> 16] : NULL;
	const uint32_t *ids;
	size_t i, n;

	if (t == NULL)
		return false;
	ids = t->op == OP_KEEP && t->have != NULL ? t->have->name_ids : t->name_ids;
	n = t->want->nrules;
	for (i = 0; ids != NULL && i < n; i++)
		if (ids[i] == name_id)
			return true;
	return false;
}

/* The sets of rules by name that no rule wants any longer, once their rules are gone. */
static int
remove_stale_dsets(struct plan *p)
{
	size_t i;
	int r = 0;

	for (i = 0; i < p->have->ndsets && r == 0; i++) {
		const struct nft_dset *d = &p->have->dsets[i];

		if (!name_id_wanted(p, d->name_id))
			r = plan_dset_drop(p, d->name_id, d->family, NULL);
	}
	return r;
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
		layout_chain6_name(w->id, t->chain6);
		t->want6 = layout_has_ipv6(w);
		t->has4 = !p->fresh && h != NULL && h->chain4;
		t->has6 = !p->fresh && h != NULL && h->chain6;
		if (p->fresh || h == NULL)
			t->op = OP_CREATE;
		else if (t->have != NULL && t->have->fw.bridged == w->bridged &&
			 nft_pins_equal(t->have->fw.addresses, t->have->fw.naddresses, w->addresses,
					w->naddresses) &&
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
		r = plan_tag_block(&p->tag_next, w->nrules + 1, &t->base);
		if (r < 0)
			return r;
	}
	r = plan_ports(p);
	for (i = 0; i < p->nt && r == 0; i++) {
		struct target *t = &p->t[i];
		const struct nft_elem *e;

		if (t->op == OP_KEEP)
			continue;
		r = target_names(p, t);
		if (r < 0)
			break;
		t->add_attached = p->fresh || nft_elems_find(&p->have->elems[LAYOUT_SET_ATTACHED],
							     t->want->ifname, 0) == NULL;
		e = p->fresh ? NULL
			     : nft_elems_find(&p->have->elems[LAYOUT_SET_DISPATCH], t->want->ifname,
					      0);
		t->add_dispatch = e == NULL || !elem_keep(p, LAYOUT_SET_DISPATCH, e);
		e = p->fresh ? NULL
			     : nft_elems_find(&p->have->elems[LAYOUT_SET_DISPATCH6],
					      t->want->ifname, 0);
		t->add_dispatch6 =
			t->want6 && (e == NULL || !elem_keep(p, LAYOUT_SET_DISPATCH6, e));
		t->add_dns = rules_container_has_names(t->want) &&
			     (p->fresh || nft_elems_find(&p->have->elems[LAYOUT_SET_DNS],
							 t->want->ifname, 0) == NULL);
		t->add_dnsb = t->want->bridged && rules_container_has_names(t->want) &&
			      (p->fresh || nft_elems_find(&p->have->elems[LAYOUT_SET_DNSB], "",
							  layout_port_mark(t->port)) == NULL);
		/* a new interface, or other addresses: the old pins go, these come */
		t->add_pins = p->fresh || t->have == NULL ||
			      strcmp(t->have->fw.ifname, t->want->ifname) != 0 ||
			      !nft_pins_equal(t->have->fw.addresses, t->have->fw.naddresses,
					      t->want->addresses, t->want->naddresses);
	}
	return r;
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
		p->st->removed++;
		layout_chain_name(h->fw.id, chain);
		if (h->chain4)
			r = plan_chain_drop(p, chain, true, h->fw.id);
		layout_chain6_name(h->fw.id, chain);
		if (r == 0 && h->chain6)
			r = plan_chain_drop(p, chain, true, h->fw.id);
	}
	for (i = 0; i < p->have->nforeign_chains && r == 0; i++) {
		r = plan_flush(p, p->have->foreign_chains[i], NULL);
		if (r == 0)
			r = plan_put(
				p, OBJ_CHAIN,
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
		r = plan_put(p, OBJ_SET, s, NFT_MSG_DELSET, 0, NULL, NULL, "delete foreign set");
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
		r = plan_put(p, OBJ_CHAIN, layout_container_chain(p->c->table, LAYOUT_DROP_CHAIN),
			     NFT_MSG_DELCHAIN, 0, NULL, NULL, "delete drop log chain");
	if (r < 0 || !p->have->drop_set_present)
		return r;
	s = layout_drop_set(p->c->table);
	if (s != NULL)
		nftnl_set_unset(s, NFTNL_SET_ID);
	return plan_put(p, OBJ_SET, s, NFT_MSG_DELSET, 0, NULL, NULL, "delete drop log set");
}

/* The drop log, before the base chain rules that go to it. */
static int
add_drop_log(struct plan *p)
{
	const struct nft_state *h = p->have;
	unsigned int i;
	int r = 0;

	if (p->fresh || !h->drop_set_present)
		r = plan_put(p, OBJ_SET, layout_drop_set(p->c->table), NFT_MSG_NEWSET, NLM_F_CREATE,
			     NULL, NULL, "create drop log set");
	if (r == 0 && (p->fresh || !h->drop_chain_present))
		r = plan_put(p, OBJ_CHAIN, layout_container_chain(p->c->table, LAYOUT_DROP_CHAIN),
			     NFT_MSG_NEWCHAIN, NLM_F_CREATE, NULL, NULL, "create drop log chain");
	for (i = 0; p->base_chain && i < LAYOUT_DROP_NRULES && r == 0; i++)
		r = plan_rule(p, layout_drop_rule(p->c->table, &p->c->opts, i), NULL, NULL);
	return r;
}

/* The resolver's redirect of a table that no longer wants one. */
static int
remove_dns_redirect(struct plan *p)
{
	struct nftnl_set *s;
	unsigned int i;
	int r = 0;

	if (p->have->dns_chain_present)
		r = plan_put(p, OBJ_CHAIN, layout_container_chain(p->c->table, LAYOUT_DNS_CHAIN),
			     NFT_MSG_DELCHAIN, 0, NULL, NULL, "delete resolver chain");
	for (i = 0; i < 2 && r == 0; i++) {
		if (!p->have->peers_present[i])
			continue;
		s = layout_peers_set(p->c->table, i);
		if (s != NULL)
			nftnl_set_unset(s, NFTNL_SET_ID);
		r = plan_put(p, OBJ_SET, s, NFT_MSG_DELSET, 0, NULL, NULL,
			     "delete resolver peers map");
	}
	return r;
}

/* The resolver's redirect (chain dns), whose rules follow the base chain's. */
static int
add_dns_redirect(struct plan *p)
{
	unsigned int i;
	int r = 0;

	for (i = 0; i < 2 && r == 0; i++)
		if (p->fresh || !p->have->peers_present[i])
			r = plan_put(p, OBJ_SET, layout_peers_set(p->c->table, i), NFT_MSG_NEWSET,
				     NLM_F_CREATE, NULL, NULL, "create resolver peers map");
	if (r == 0 && (p->fresh || !p->have->dns_chain_present))
		r = plan_put(p, OBJ_CHAIN, layout_dns_chain(p->c->table), NFT_MSG_NEWCHAIN,
			     NLM_F_CREATE, NULL, NULL, "create resolver chain");
	for (i = 0; p->base_chain && i < LAYOUT_DNS_NRULES && r == 0; i++)
		r = plan_rule(p, layout_dns_rule(p->c->table, &p->c->opts, i), NULL, NULL);
	return r;
}

/*
 * The chains b_<id> that stay are emptied when they are filled again;
 * the others go (their bports elements went before).
 */
static int
drop_bchains(struct plan *p)
{
	size_t i;
	int r = 0;

	for (i = 0; i < p->have->nbchains && r == 0; i++) {
		const char *id = p->have->bchains[i].id;
		const struct target *t = target_find(p, id);
		char chain[LAYOUT_CHAIN_NAME_MAX + 1];

		if (t != NULL && t->want->bridged && !t->fill_b)
			continue;
		layout_bchain_name(id, chain);
		r = plan_chain_drop(p, chain, t == NULL || !t->want->bridged, id);
	}
	return r;
}

/* The fixed chains of the bridged path are emptied, to be filled again with the base chain. */
static int
flush_bridged(struct plan *p)
{
	int r = plan_flush(p, LAYOUT_BRIDGED_CHAIN, NULL), i;

	for (i = 0; i < LAYOUT_BR_MAX && r == 0; i++)
		r = plan_flush_family(p, NFPROTO_BRIDGE, layout_bchain_names[i], NULL);
	return r;
}

/* The bridged path's chains and, with the base chain, their rules (see bridged.c). */
static int
add_bridged(struct plan *p)
{
	unsigned int i, w;
	int r = 0;

	if (p->fresh)
		r = plan_put(p, OBJ_CHAIN,
			     layout_container_chain(p->c->table, LAYOUT_BRIDGED_CHAIN),
			     NFT_MSG_NEWCHAIN, NLM_F_CREATE, NULL, NULL, "create bridged chain");
	/* ours before pre, which goes there */
	for (w = LAYOUT_BR_MAX; w-- > 0 && p->fresh && r == 0;)
		r = plan_put(p, OBJ_CHAIN, layout_bchain(p->c->table, w), NFT_MSG_NEWCHAIN,
			     NLM_F_CREATE, NULL, NULL, "create bridge chain");
	for (i = 0; i < LAYOUT_BRIDGED_NRULES && p->base_chain && r == 0; i++)
		r = plan_rule(p, layout_bridged_rule(p->c->table, i), NULL, NULL);
	for (w = 0; w < LAYOUT_BR_MAX && p->base_chain && r == 0; w++)
		for (i = 0; i < layout_bchain_nrules(&p->c->opts, w) && r == 0; i++)
			r = plan_rule(p, layout_bchain_rule(p->c->table, &p->c->opts, w, i), NULL,
				      NULL);
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
		r = plan_put(p, OBJ_TABLE, layout_table(p->c->table, 0), NFT_MSG_DELTABLE, 0, NULL,
			     NULL, "delete table");
		if (r < 0)
			return r;
	}
	if (h->btable && p->fresh) {
		r = plan_put(p, OBJ_TABLE, layout_btable(p->c->table, 0), NFT_MSG_DELTABLE, 0, NULL,
			     NULL, "delete bridge table");
		if (r < 0)
			return r;
	}
	/* adopts an orphaned table; without a change besides it, nothing is sent */
	r = plan_put(p, OBJ_TABLE, layout_table(p->c->table, flags), NFT_MSG_NEWTABLE, NLM_F_CREATE,
		     NULL, NULL, "create table");
	/* made with the inet table, and adopted with it */
	if (r == 0 && (p->fresh || p->adopt))
		r = plan_put(p, OBJ_TABLE, layout_btable(p->c->table, flags), NFT_MSG_NEWTABLE,
			     NLM_F_CREATE, NULL, NULL, "create bridge table");
	if (r < 0)
		return r;
	if (!p->fresh) {
		/* deletions first: elements, then rules, then chains and sets */
		for (i = 0; i < LAYOUT_SET_MAX && r == 0; i++)
			r = delete_elems(p, i);
		if (r == 0)
			r = plan_elems_send_all(p, p->del);
		for (i = 0; i < p->nt && r == 0; i++) {
			const struct target *t = &p->t[i];

			if (t->op != OP_REWRITE)
				continue;
			if (t->has4)
				r = plan_flush(p, t->chain, t->want->id);
			/* an IPv6 chain goes with the last IPv6 rule */
			if (r == 0 && t->has6)
				r = plan_chain_drop(p, t->chain6, !t->want6, t->want->id);
		}
		if (r == 0)
			r = drop_bchains(p);
		if (r == 0 && p->base_chain)
			r = flush_bridged(p);
		if (r == 0 && p->base_chain && h->base_chain_present)
			r = plan_flush(p, LAYOUT_BASE_CHAIN, NULL);
		if (r == 0 && p->base_chain && h->drop_chain_present)
			r = plan_flush(p, LAYOUT_DROP_CHAIN, NULL);
		if (r == 0 && p->base_chain && h->dns_chain_present)
			r = plan_flush(p, LAYOUT_DNS_CHAIN, NULL);
		if (r == 0 && p->c->opts.dns_port == 0)
			r = remove_dns_redirect(p);
		if (r == 0 && p->c->opts.log_rate == 0)
			r = remove_drop_log(p);
		if (r == 0)
			r = remove_stale(p);
		if (r == 0)
			r = remove_stale_dsets(p);
	}
	for (i = 0; i < LAYOUT_SET_MAX && r == 0; i++) {
		static const char *const what[LAYOUT_SET_MAX] = {
			"create set allow",  "create set deny",	    "create set attached",
			"create map deftag", "create map dispatch", "create map dispatch6",
			"create set dns",    "create map ports",    "create map bports",
			"create set pinned", "create set pin4",	    "create set pin6"};

		if (p->fresh || !h->set_present[i])
			r = plan_put(p, OBJ_SET, layout_set(p->c->table, i), NFT_MSG_NEWSET,
				     NLM_F_CREATE, NULL, NULL, what[i]);
	}
	if (r == 0 && p->c->opts.log_rate > 0)
		r = add_drop_log(p);
	if (r == 0 && p->c->opts.dns_port != 0)
		r = add_dns_redirect(p);
	if (r == 0)
		r = add_bridged(p);
	if (r == 0 && (p->fresh || !h->base_chain_present))
		r = plan_put(p, OBJ_CHAIN, layout_base_chain(p->c->table), NFT_MSG_NEWCHAIN,
			     NLM_F_CREATE, NULL, NULL, "create base chain");
	for (i = 0; p->base_chain && i < layout_base_nrules(&p->c->opts) && r == 0; i++)
		r = plan_rule(p, layout_base_rule(p->c->table, &p->c->opts, i), NULL, NULL);
	for (i = 0; i < p->nt && r == 0; i++) {
		const struct target *t = &p->t[i];

		if (t->op != OP_KEEP)
			r = plan_container(p, t, t->want->id);
	}
	/* the rest of the elements; a dispatch jump follows its chain */
	if (r == 0)
		r = plan_elems_send_all(p, p->add);
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

		r = model_set(m, t->want, t->op == OP_KEEP ? t->have->tag_base : t->base, t->port,
			      t->op == OP_KEEP ? t->have->name_ids : t->name_ids);
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
	if (have->btable_foreign) {
		reterr->err = -EEXIST;
		snprintf(reterr->what, sizeof(reterr->what), "take over table");
		snprintf(reterr->detail, sizeof(reterr->detail),
			 "a bridge table of that name exists and was not made by "
			 "hoody-firewall; choose another --table or delete it");
		return -EEXIST;
	}
	/* the bridged path is built with the table, and mended only so */
	p.fresh = !have->exists || have->base_unrepairable || !have->btable ||
		  have->btable_damaged || !have->bridged_chain_ok ||
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
		if (r == -ENOSPC)
			nft_port_ids_spent(reterr);
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
