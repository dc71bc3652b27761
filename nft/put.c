/*
 * One container changed without a dump of the table: nft_put() after a
 * change of ours, from what the model says the kernel holds; nft_repair()
 * after another process changed it, from what the kernel says when
 * asked for each of the container's own objects. Either sends a
 * transaction of the container's size, whatever the size of the table.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "nft/plan.h"

/* Counters of the old container's tag elements, by tag, in ctrs. */
struct counters {
	const struct model_ct *old;
	struct nft_counter *ctrs;
};

static int
counter_elem_cb(const struct raw_elem *re, void *data)
{
	struct counters *f = data;
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
counters_cb(const struct nlmsghdr *nlh, void *data)
{
	return raw_elems_foreach(nlh, counter_elem_cb, data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

/*
 * One GETSETELEM per verdict set, naming the old tags: the kernel
 * answers each element, so this costs two round trips, not a dump.
 * -ENOENT when an element is missing: the table is not what we left.
 */
static int
read_counters(struct plan *p, const struct model_ct *old, struct nft_counter *ctrs)
{
	struct counters f = {.old = old, .ctrs = ctrs};
	int which, r = 0;

	for (which = LAYOUT_SET_ALLOW; which <= LAYOUT_SET_DENY && r == 0; which++) {
		uint8_t action = which == LAYOUT_SET_ALLOW ? RULES_ACTION_ALLOW : RULES_ACTION_DENY;
		struct nftnl_set *s = plan_elem_set(p, which);
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
			r = nft_conn_dump(p->c, nlh, counters_cb, &f);
		}
		nftnl_set_free(s);
	}
	return r;
}

/*
 * Delete everything the old container put in the kernel but its chains:
 * its interface's dispatch, attached and ports elements unless
 * keep_ifname, its dispatch6 element unless keep6, its dns element
 * unless keep_dns (its dnsb element unless keep_dnsb), its bports
 * element unless keep_b.
 */
static int
put_unlink_old(struct plan *p, const struct model_ct *old, bool keep_ifname, bool keep6,
	       bool keep_dns, bool keep_dnsb, bool keep_b, bool keep_pins)
{
	uint32_t i;
	int r = 0;

	for (i = 0; i <= old->nrules && r == 0; i++) {
		uint8_t a = i < old->nrules ? old->rules[i].action : old->policy;
		enum layout_set which =
			a == RULES_ACTION_ALLOW ? LAYOUT_SET_ALLOW : LAYOUT_SET_DENY;

		r = plan_elem_add(p, &p->del[which], which,
				  layout_tag_key(old->ifname, old->base + i), old->id);
	}
	if (r == 0)
		r = plan_elem_add(p, &p->del[LAYOUT_SET_DEFTAG], LAYOUT_SET_DEFTAG,
				  layout_ifname_elem(old->ifname), old->id);
	if (r == 0 && !keep_ifname)
		r = plan_elem_add(p, &p->del[LAYOUT_SET_DISPATCH], LAYOUT_SET_DISPATCH,
				  layout_ifname_elem(old->ifname), old->id);
	if (r == 0 && !keep_ifname)
		r = plan_elem_add(p, &p->del[LAYOUT_SET_ATTACHED], LAYOUT_SET_ATTACHED,
				  layout_ifname_elem(old->ifname), old->id);
	if (r == 0 && old->has6 && !keep6)
		r = plan_elem_add(p, &p->del[LAYOUT_SET_DISPATCH6], LAYOUT_SET_DISPATCH6,
				  layout_ifname_elem(old->ifname), old->id);
	if (r == 0 && old->has_names && !keep_dns)
		r = plan_elem_add(p, &p->del[LAYOUT_SET_DNS], LAYOUT_SET_DNS,
				  layout_ifname_elem(old->ifname), old->id);
	if (r == 0 && !keep_ifname)
		r = plan_elem_add(p, &p->del[LAYOUT_SET_PORTS], LAYOUT_SET_PORTS,
				  layout_ifname_elem(old->ifname), old->id);
	if (r == 0 && old->bridged && !keep_b)
		r = plan_elem_add(p, &p->del[LAYOUT_SET_BPORTS], LAYOUT_SET_BPORTS,
				  layout_bports_elem(old->port, NULL), old->id);
	if (r == 0 && old->bridged && old->has_names && !keep_dnsb)
		r = plan_elem_add(p, &p->del[LAYOUT_SET_DNSB], LAYOUT_SET_DNSB,
				  layout_bports_elem(old->port, NULL), old->id);
	if (r == 0 && !keep_pins)
		r = plan_pins(p, p->del, old->ifname, old->addresses, old->naddresses, old->id);
	if (r == 0)
		r = plan_elems_send_all(p, p->del);
	return r;
}

/*
 * Its port id: the old one on the same interface, else the lowest free.
 * The chain b_<id> holds only the interface: a change of rules leaves
 * it be, as a new jump to it would make the kernel validate the table.
 */
static int
put_port(const struct nft_model *m, struct target *t, bool same_if)
{
	const struct model_ct *old = t->old;

	layout_bchain_name(t->want->id, t->bchain);
	t->add_ports = !same_if;
	t->add_pins = !same_if || !nft_pins_equal(old->addresses, old->naddresses,
						  t->want->addresses, t->want->naddresses);
	t->has_b = old != NULL && old->bridged;
	t->fill_b = t->want->bridged && !(same_if && old->bridged);
	if (same_if) {
		t->port = old->port;
		return 0;
	}
	return model_port_alloc(m, &t->port);
}

/*
 * The ids of its rules by name: kept from the old container while rule,
 * name and port stay. The old ids that go have their sets deleted once
 * the chains that use them are flushed (drop_names).
 */
static int
put_names(struct target *t)
{
	const struct model_ct *old = t->old;
	size_t n = old != NULL ? old->nrules : 0, i;
	uint64_t *keys = calloc(n ? n : 1, sizeof(*keys));
	uint32_t *ids = calloc(n ? n : 1, sizeof(*ids));
	int r = -ENOMEM;

	if (keys != NULL && ids != NULL) {
		for (i = 0; i < n; i++) {
			keys[i] = old->rules[i].dkey;
			ids[i] = old->rules[i].name_id;
		}
		r = plan_name_ids(t, keys, ids, n, NULL, 0);
	}
	free(keys);
	free(ids);
	return r;
}

static int
drop_names(struct plan *p, const struct target *t, const char *id)
{
	const struct model_ct *old = t->old;
	size_t i, j, n = t->name_ids != NULL ? t->want->nrules : 0;
	uint8_t f;
	int r = 0;

	for (i = 0; old != NULL && i < old->nrules && r == 0; i++) {
		if (old->rules[i].name_id == 0)
			continue;
		for (j = 0; j < n && t->name_ids[j] != old->rules[i].name_id; j++)
			;
		for (f = 0; j == n && f < RULES_FAMILY_MAX && r == 0; f++)
			r = plan_dset_drop(p, old->rules[i].name_id, f, id);
	}
	return r;
}

/*
 * A container's IPv6 chain and its dispatch6 element come with its
 * first IPv6 rule and go with its last: a new jump element makes the
 * kernel validate the table, as an attach does, so they stay while the
 * container has IPv6 rules and keeps its interface.
 */
static int
put_build(struct plan *p, const struct nft_model *m, struct target *t, const char *id)
{
	const struct model_ct *old = t->old;
	bool attach = t->want != NULL && t->want->ifname[0] != '\0';
	bool same_if = attach && old != NULL && strcmp(old->ifname, t->want->ifname) == 0;
	bool want_b = attach && t->want->bridged;
	bool names = attach && rules_container_has_names(t->want);
	/* the interface's dns element, and its port's dnsb one, stay */
	bool keep_dns = same_if && names && old->has_names;
	bool keep_dnsb = keep_dns && old->bridged && want_b;
	int r = attach ? put_port(m, t, same_if) : 0;

	if (r == 0 && attach)
		r = put_names(t);
	t->want6 = attach && layout_has_ipv6(t->want);
	if (old != NULL && r == 0) {
		r = put_unlink_old(p, old, same_if, same_if && t->want6, keep_dns, keep_dnsb,
				   want_b && !t->fill_b, attach && !t->add_pins);
		if (r == 0)
			r = plan_chain_drop(p, t->chain, !attach, id);
		if (r == 0 && old->has6)
			r = plan_chain_drop(p, t->chain6, !t->want6, id);
		if (r == 0)
			r = drop_names(p, t, id);
		if (r == 0 && old->bridged && (t->fill_b || !want_b))
			r = plan_chain_drop(p, t->bchain, !want_b, id);
	}
	if (!attach || r < 0)
		return r;
	t->has4 = old != NULL;
	t->has6 = old != NULL && old->has6;
	t->add_attached = t->add_dispatch = !same_if;
	t->add_dispatch6 = t->want6 && !(same_if && old->has6);
	t->add_dns = names && !keep_dns;
	t->add_dnsb = names && want_b && !keep_dnsb;
	r = plan_tag_block(&p->tag_next, t->want->nrules + 1, &t->base);
	if (r == 0)
		r = plan_container(p, t, id);
	if (r == 0)
		r = plan_elems_send_all(p, p->add);
	return r;
}

/* A change of one container under way. */
struct put {
	struct plan p;
	struct target t;
	struct nft_apply_stats st;
	struct timespec t0;
};

/*
 * Begin changing container id to want, timed from now: -ERESTART when
 * the model is no longer valid, else 0 with what the model holds of id
 * in u->t.old.
 */
static int
put_begin(struct put *u, struct nft_conn *c, const struct nft_model *m, const char *id,
	  const struct rules_container *want, struct nft_error *reterr)
{
	memset(reterr, 0, sizeof(*reterr));
	plan_init(&u->p, c, NULL, &u->st);
	clock_gettime(CLOCK_MONOTONIC, &u->t0);
	u->t = (struct target){.want = want};
	if (!m->valid)
		return -ERESTART;
	u->t.old = model_find(m, id);
	return 0;
}

/* The transaction, on the tags the model has left. 0 or -ENOMEM. */
static int
put_batch(struct put *u, const struct nft_model *m, const char *id)
{
	layout_chain_name(id, u->t.chain);
	layout_chain6_name(id, u->t.chain6);
	u->p.tag_next = m->tag_next;
	u->p.b = nft_batch_new(u->p.c, 0);
	return u->p.b != NULL ? 0 : -ENOMEM;
}

/*
 * Commit the change built without error (r == 0; else what names the
 * step that failed), bring the model along and release the plan. A
 * kernel that does not hold what the model says (somebody else changed
 * it) makes it -ERESTART.
 */
static int
put_end(struct put *u, struct nft_model *m, const char *id, int r, const char *what,
	struct nft_apply_stats *ret_stats, struct nft_error *reterr)
{
	struct plan *p = &u->p;
	const struct target *t = &u->t;

	if (r < 0 && reterr->what[0] == '\0') {
		reterr->err = r;
		snprintf(reterr->container, sizeof(reterr->container), "%s", id);
		snprintf(reterr->what, sizeof(reterr->what), "%s", what);
		if (r == -ENOSPC)
			nft_port_ids_spent(reterr);
	}
	if (r == 0)
		r = plan_commit(p, &u->t0, reterr);
	if (r == 0) {
		m->tag_next = p->tag_next;
		if (t->want != NULL && t->want->ifname[0] != '\0') {
			r = model_set(m, t->want, t->base, t->port, t->name_ids);
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
	if (r == 0)
		*ret_stats = u->st;
	free(u->t.name_ids);
	plan_free(p);
	return r;
}

int
nft_put(struct nft_conn *c, struct nft_model *m, const char *id, const struct rules_container *want,
	struct nft_apply_stats *ret_stats, struct nft_error *reterr)
{
	struct nft_counter *ctrs = NULL;
	const struct model_ct *other;
	struct put u;
	int r;

	r = put_begin(&u, c, m, id, want, reterr);
	if (r < 0)
		return r;
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
	} else if (u.t.old == NULL)
		return 0; /* not in the kernel, and not to be */
	r = put_batch(&u, m, id);
	/* counters matter only to a container that stays in the kernel */
	if (r == 0 && u.t.old != NULL && want != NULL && want->ifname[0] != '\0') {
		ctrs = calloc(u.t.old->nrules + 1, sizeof(*ctrs));
		r = ctrs ? read_counters(&u.p, u.t.old, ctrs) : -ENOMEM;
		u.t.old_ctrs = ctrs;
	}
	if (r == 0)
		r = put_build(&u.p, m, &u.t, id);
	r = put_end(&u, m, id, r, "build transaction", ret_stats, reterr);
	free(ctrs);
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
	struct nftnl_set *s = plan_elem_set(p, which);
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
		r = plan_elem_add(p, &p->del[which], which, mk(arg), id);
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
	for (k = 0; old != NULL && !keep_ifname && k < 5 && r == 0; k++) {
		static const enum layout_set sets[5] = {LAYOUT_SET_DISPATCH, LAYOUT_SET_ATTACHED,
							LAYOUT_SET_DISPATCH6, LAYOUT_SET_DNS,
							LAYOUT_SET_PORTS};

		r = repair_unlink(p, sets[k], mk_ifname_key, old->ifname, id, &pr);
	}
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

/* The interface's dispatch or dispatch6 element stays if it jumps to chain, else goes. */
static int
repair_jump(struct plan *p, enum layout_set which, const char *ifname, const char *chain,
	    const char *id, bool *ret_add)
{
	struct probe pr;
	int r = probe_elem(p, which, layout_ifname_elem(ifname), &pr);

	*ret_add = chain != NULL && (!pr.present || strcmp(pr.chain, chain) != 0);
	if (r == 0 && pr.present && (chain == NULL || *ret_add))
		r = plan_elem_add(p, &p->del[which], which, layout_ifname_elem(ifname), id);
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
		r = repair_jump(p, LAYOUT_SET_DISPATCH, ifname, t->chain, id, &t->add_dispatch);
	if (r == 0)
		r = repair_jump(p, LAYOUT_SET_DISPATCH6, ifname, t->want6 ? t->chain6 : NULL, id,
				&t->add_dispatch6);
	/* a container with rules by name takes the full pass: this one has none */
	if (r == 0)
		r = repair_unlink(p, LAYOUT_SET_DNS, mk_ifname_key, ifname, id, &pr);
	if (r == 0)
		r = probe_elem(p, LAYOUT_SET_ATTACHED, layout_ifname_elem(ifname), &pr);
	t->add_attached = !pr.present;
	/* the port's id is written again, whatever holds it */
	if (r == 0)
		r = repair_unlink(p, LAYOUT_SET_PORTS, mk_ifname_key, ifname, id, &pr);
	t->add_ports = true;
	return r;
}

int
nft_repair(struct nft_conn *c, struct nft_model *m, const char *id,
	   const struct rules_container *want, const struct nft_key *extra, size_t nextra,
	   struct nft_apply_stats *ret_stats, struct nft_error *reterr)
{
	struct nft_counter *ctrs = NULL;
	const struct model_ct *other;
	bool attach = want != NULL && want->ifname[0] != '\0', same_if;
	bool chain = false, chain6 = false;
	struct put u;
	int r;

	r = put_begin(&u, c, m, id, want, reterr);
	if (r < 0)
		return r;
	other = attach ? model_find_ifname(m, want->ifname) : NULL;
	/* the whole table must be put right: the bridged path and the pins
	 * are mended with it */
	if ((other != NULL && strcmp(other->id, id) != 0) ||
	    (attach &&
	     (want->bridged || want->naddresses > 0 || rules_container_has_names(want))) ||
	    (u.t.old != NULL &&
	     (u.t.old->bridged || u.t.old->naddresses > 0 || u.t.old->has_names)))
		return -ERESTART;
	same_if = attach && u.t.old != NULL && strcmp(u.t.old->ifname, want->ifname) == 0;
	if (attach)
		r = same_if ? (u.t.port = u.t.old->port, 0) : model_port_alloc(m, &u.t.port);
	if (r < 0)
		return r;
	u.t.want6 = attach && layout_has_ipv6(want);
	r = put_batch(&u, m, id);
	ctrs = calloc(u.t.old ? u.t.old->nrules + 1 : 1, sizeof(*ctrs));
	if (r == 0 && ctrs == NULL)
		r = -ENOMEM;
	u.t.old_ctrs = u.t.old ? ctrs : NULL;
	if (r == 0)
		r = repair_unlink_old(&u.p, &u.t, id, same_if, extra, nextra, ctrs);
	if (r == 0 && attach)
		r = repair_ifname(&u.p, &u.t, id, same_if);
	if (r == 0)
		r = plan_elems_send_all(&u.p, u.p.del);
	if (r == 0)
		r = chain_exists(&u.p, u.t.chain, &chain);
	if (r == 0 && chain)
		r = plan_chain_drop(&u.p, u.t.chain, !attach, id);
	if (r == 0)
		r = chain_exists(&u.p, u.t.chain6, &chain6);
	if (r == 0 && chain6)
		r = plan_chain_drop(&u.p, u.t.chain6, !u.t.want6, id);
	u.t.has4 = chain;
	u.t.has6 = chain6 && u.t.want6;
	if (r == 0 && attach)
		r = plan_tag_block(&u.p.tag_next, want->nrules + 1, &u.t.base);
	if (r == 0 && attach)
		r = plan_container(&u.p, &u.t, id);
	if (r == 0)
		r = plan_elems_send_all(&u.p, u.p.add);
	r = put_end(&u, m, id, r, "read container", ret_stats, reterr);
	free(ctrs);
	return r;
}
