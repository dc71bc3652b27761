/*
 * The dumped container chains, decoded into containers: the claims of
 * a container's chains (c_<id>, and c6_<id> when it has IPv6 rules),
 * with the verdicts and descriptions the sets hold for their tags,
 * become the user rules they were compiled from. A container the
 * caller wants as the kernel holds it is only verified. Anything that
 * is not exactly what layout.c builds marks its container damaged.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nft/dump_int.h"

static void
note_tag(struct nft_state *st, uint32_t tag)
{
	if (tag > st->tag_max)
		st->tag_max = tag;
}

/*
 * A rule by name has its items in both chains: cl[first, last) holds
 * its IPv4 claims, then as many IPv6 claims that match the same. Its
 * name is its sets', which must both be there. The IPv6 half goes;
 * the name goes to r, the id to *ret_id.
 */
static int
decode_name(const struct nft_state *st, const struct claim *cl, size_t first, size_t *last,
	    struct region *out, struct rules_rule *r, uint32_t *ret_id, const char **why)
{
	size_t half = (*last - first) / 2, i;
	const struct nft_dset *d4, *d6;
	const struct claim *a, *b;

	for (i = first; i < first + half; i++) {
		a = &cl[i];
		b = &cl[i + half];
		if ((*last - first) % 2 != 0 || a->family != RULES_FAMILY_IPV4 ||
		    b->family != RULES_FAMILY_IPV6 || a->name_id != cl[first].name_id ||
		    b->name_id != a->name_id || b->proto != a->proto ||
		    b->has_port != a->has_port || b->port_lo != a->port_lo ||
		    b->port_hi != a->port_hi || b->expires_at != a->expires_at ||
		    b->id_len != a->id_len || memcmp(b->id, a->id, a->id_len) != 0 ||
		    b->desc_len != 0) {
			*why = "the claims of a rule by name differ between its chains";
			return -EBADMSG;
		}
	}
	d4 = state_dset(st, cl[first].name_id, RULES_FAMILY_IPV4);
	d6 = state_dset(st, cl[first].name_id, RULES_FAMILY_IPV6);
	if (half == 0 || d4 == NULL || d6 == NULL || strcmp(d4->dname, d6->dname) != 0) {
		*why = "a rule by name lacks its sets";
		return -EBADMSG;
	}
	r->dname = region_alloc(out, strlen(d4->dname) + 1);
	if (r->dname == NULL)
		return -ENOMEM;
	strcpy(r->dname, d4->dname);
	*ret_id = cl[first].name_id;
	*last = first + half;
	return 0;
}

/* Rebuild one user rule from its claims cl[first, last). */
static int
decode_rule(const struct nft_state *st, const struct claim *cl, size_t first, size_t last,
	    const char *ifname, struct region *out, struct rules_rule *r, struct nft_counter *ctr,
	    uint32_t *ret_name_id, const char **why)
{
	const struct claim *c0 = &cl[first];
	const struct nft_elem *ea = nft_elems_find(&st->elems[LAYOUT_SET_ALLOW], ifname, c0->tag);
	const struct nft_elem *ed = nft_elems_find(&st->elems[LAYOUT_SET_DENY], ifname, c0->tag);
	const struct nft_elem *e = ea ? ea : ed;
	size_t i, dlen;

	if ((ea == NULL) == (ed == NULL)) {
		*why = "a rule's tag is in neither or both of the allow and deny sets";
		return -EBADMSG;
	}
	memset(r, 0, sizeof(*r));
	*ret_name_id = 0;
	if (c0->name_id != 0) {
		int e2 = decode_name(st, cl, first, &last, out, r, ret_name_id, why);

		if (e2 < 0)
			return e2;
	}
	memcpy(r->id, c0->id, c0->id_len);
	r->id[c0->id_len] = '\0';
	r->family = c0->family;
	r->daddr = c0->daddr;
	memcpy(r->daddr6, c0->daddr6, sizeof(r->daddr6));
	r->plen = c0->plen;
	r->proto = c0->proto;
	r->expires_at = c0->expires_at;
	r->action = ea ? RULES_ACTION_ALLOW : RULES_ACTION_DENY;
	/* the kernel drops an element whose time is up: one that expires must say so */
	if (e->has_timeout != (c0->expires_at != 0)) {
		*why = "a rule's element does not expire with it";
		return -EBADMSG;
	}
	for (i = first; i < last; i++) {
		const struct claim *c = &cl[i];

		if (c->id_len != c0->id_len || memcmp(c->id, c0->id, c0->id_len) != 0 ||
		    c->family != c0->family || c->daddr != c0->daddr ||
		    memcmp(c->daddr6, c0->daddr6, sizeof(c->daddr6)) != 0 || c->plen != c0->plen ||
		    c->proto != c0->proto || c->has_port != c0->has_port ||
		    c->expires_at != c0->expires_at || (i > first && c->desc_len > 0)) {
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
		/* either part may be empty, and then NULL */
		if (c0->desc_len > 0)
			memcpy(r->desc, c0->desc, c0->desc_len);
		if (e->tail_len > 0)
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
 * Decoding is spread over the threads like the chains were: each takes
 * DECODE_BATCH containers at a time and writes what it decodes into a
 * region of its own, which the state owns from then on.
 */
#define DECODE_BATCH 64

struct decoder {
	struct dump *d;
	atomic_size_t *next;
	struct region out;
	struct claim *want; /* verify(): the desired container's claims */
	size_t want_cap;
	struct claim *merged; /* decode_container(): the claims of both chains */
	size_t merged_cap;
	uint32_t tag_max;
	pthread_t tid;
	bool running;
	int r;
};

/* Room for n claims in *v (*cap of them); false when out of memory. */
static bool
claims_room(struct claim **v, size_t *cap, size_t n)
{
	struct claim *x;

	if (*cap >= n)
		return true;
	x = reallocarray(*v, n, sizeof(*x));
	if (x == NULL)
		return false;
	*v = x;
	*cap = n;
	return true;
}

static bool
tags_ascend(const struct claim *cl, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (cl[i].tag < cl[i - 1].tag)
			return false;
	return true;
}

/*
 * The claims of a container's rules in tag order, as layout_compile()
 * made them: c_<id>'s but its default, and c6_<id>'s, merged by tag.
 * Each chain must be in tag order already.
 */
static int
merge_claims(struct decoder *dec, const struct dchain *c4, const struct dchain *c6, size_t *ret_n,
	     const char **why)
{
	size_t n4 = c4->n - 1, n6 = c6 != NULL ? c6->n : 0, i = 0, j = 0, k = 0;

	if (!tags_ascend(c4->claims, n4) || (c6 != NULL && !tags_ascend(c6->claims, n6))) {
		*why = "the rules' tags are not consecutive";
		return -EBADMSG;
	}
	if (!claims_room(&dec->merged, &dec->merged_cap, n4 + n6 + 1))
		return -ENOMEM;
	while (i < n4 || j < n6) {
		if (j == n6 || (i < n4 && c4->claims[i].tag <= c6->claims[j].tag))
			dec->merged[k++] = c4->claims[i++];
		else
			dec->merged[k++] = c6->claims[j++];
	}
	*ret_n = k;
	return 0;
}

/* The container's chains are dispatched to from one interface, each by its family's map. */
static const char *
chains_ifname(const struct nft_state *st, const struct dispatch_index *ix, const struct dchain *c4,
	      const struct dchain *c6, const char **why)
{
	const char *ifname = elems_dispatch_ifname(ix, c4->name), *ifname6;

	if (ifname == NULL) {
		*why = "no single interface dispatches to the chain";
		return NULL;
	}
	if (c6 == NULL) {
		if (nft_elems_find(&st->elems[LAYOUT_SET_DISPATCH6], ifname, 0) != NULL) {
			*why = "the interface dispatches IPv6 to a chain the container has no "
			       "rules for";
			return NULL;
		}
		return ifname;
	}
	ifname6 = elems_dispatch_ifname(ix, c6->name);
	if (ifname6 == NULL || strncmp(ifname6, ifname, IFNAMSIZ) != 0) {
		*why = "the IPv6 chain is not dispatched to from the container's interface";
		return NULL;
	}
	return ifname;
}

/*
 * A container decodes when its chain is claims grouped by consecutive
 * tags from its block's base, then the default, its IPv6 chain (when
 * it has IPv6 rules, and only then) claims of the same block; and when
 * the sets hold a verdict for each tag, the default tag for its
 * interface, and exactly one dispatch element jumping to each chain.
 */
static int
decode_container(struct decoder *dec, const struct dcont *cont, struct nft_container *ct,
		 const char **why)
{
	const struct nft_state *st = dec->d->st;
	const struct dchain *c4 = cont->c[RULES_FAMILY_IPV4], *c6 = cont->c[RULES_FAMILY_IPV6];
	const struct claim *dflt, *cl;
	const struct nft_elem *e;
	const char *ifname;
	uint32_t base, ndeny = 0, name_id;
	size_t i, first, nrules, n;
	int r;

	if (c4 == NULL) {
		*why = "the container's chain is missing, its IPv6 chain is not";
		return -EBADMSG;
	}
	if (c4->bad[0] != '\0' || (c6 != NULL && c6->bad[0] != '\0')) {
		*why = c4->bad[0] != '\0' ? c4->bad : c6->bad;
		return -EBADMSG;
	}
	if (c4->n < 1 || c4->claims[c4->n - 1].kind != CLAIM_DEFAULT) {
		*why = "the chain does not end with its default claim";
		return -EBADMSG;
	}
	if (c6 != NULL && c6->n == 0) {
		*why = "the IPv6 chain holds no rule";
		return -EBADMSG;
	}
	ifname = chains_ifname(st, dec->d->ix, c4, c6, why);
	if (ifname == NULL)
		return -EBADMSG;
	snprintf(ct->fw.ifname, sizeof(ct->fw.ifname), "%s", ifname);
	dflt = &c4->claims[c4->n - 1];
	base = dflt->range_lo;
	nrules = dflt->tag - base;
	ct->tag_base = base;
	if (dflt->range_hi != dflt->tag || dflt->tag < base || nrules > RULES_PER_CONTAINER_MAX) {
		*why = "the default claim is not in normal form";
		return -EBADMSG;
	}
	r = merge_claims(dec, c4, c6, &n, why);
	if (r < 0)
		return r;
	cl = dec->merged;
	ct->fw.rules = region_alloc(&dec->out, (nrules ? nrules : 1) * sizeof(*ct->fw.rules));
	ct->counters = region_alloc(&dec->out, (nrules ? nrules : 1) * sizeof(*ct->counters));
	if (ct->fw.rules == NULL || ct->counters == NULL)
		return -ENOMEM;
	/* claims with the same tag make up one rule; tags count up from base */
	for (i = 0; i < n && cl[i].kind == CLAIM_MATCH;) {
		first = i;
		while (i < n && cl[i].kind == CLAIM_MATCH && cl[i].tag == cl[first].tag)
			i++;
		if (cl[first].tag != base + ct->fw.nrules || ct->fw.nrules == nrules) {
			*why = "the rules' tags are not consecutive";
			return -EBADMSG;
		}
		r = decode_rule(st, cl, first, i, ifname, &dec->out, &ct->fw.rules[ct->fw.nrules],
				&ct->counters[ct->fw.nrules], &name_id, why);
		if (r < 0)
			return r;
		if (name_id != 0 && ct->name_ids == NULL) {
			ct->name_ids = region_alloc(&dec->out, nrules * sizeof(*ct->name_ids));
			if (ct->name_ids == NULL)
				return -ENOMEM;
			memset(ct->name_ids, 0, nrules * sizeof(*ct->name_ids));
		}
		if (name_id != 0)
			ct->name_ids[ct->fw.nrules] = name_id;
		ct->fw.nrules++;
	}
	if (i != n) {
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
	for (i = 0; i < n; i++) {
		uint32_t hi = base + (cl[i].tag - base < ndeny ? ndeny : nrules) - 1;

		if (cl[i].range_lo != base || cl[i].range_hi != hi) {
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
	if ((nft_elems_find(&st->elems[LAYOUT_SET_DNS], ifname, 0) != NULL) !=
	    rules_container_has_names(&ct->fw)) {
		*why = "the interface's place in the dns set does not match its rules by name";
		return -EBADMSG;
	}
	/* a map holds one element per interface: this one, or a wrong one */
	if (nft_elems_find(&st->elems[LAYOUT_SET_DEFTAG], ifname, dflt->tag) == NULL) {
		*why = "the interface's default tag is wrong";
		return -EBADMSG;
	}
	return 0;
}

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
	return a->kind == b->kind && a->family == b->family && a->plen == b->plen &&
	       a->proto == b->proto && a->has_port == b->has_port && a->daddr == b->daddr &&
	       memcmp(a->daddr6, b->daddr6, sizeof(a->daddr6)) == 0 && a->port_lo == b->port_lo &&
	       a->port_hi == b->port_hi && a->range_lo == b->range_lo &&
	       a->range_hi == b->range_hi && a->tag == b->tag && a->expires_at == b->expires_at &&
	       a->id_len == b->id_len && (a->id_len == 0 || memcmp(a->id, b->id, a->id_len) == 0) &&
	       a->desc_len == b->desc_len &&
	       (a->desc_len == 0 || memcmp(a->desc, b->desc, a->desc_len) == 0);
}

/* Do the chains hold exactly the claims layout_compile() makes of w on base? */
static bool
verify_claims(struct decoder *dec, const struct dchain *c4, const struct dchain *c6,
	      const struct rules_container *w, uint32_t base)
{
	size_t i, n = layout_nclaims(w), at[RULES_FAMILY_MAX] = {0};
	const struct dchain *dc[RULES_FAMILY_MAX] = {c4, c6};

	if (!claims_room(&dec->want, &dec->want_cap, n))
		return false; /* decoded instead */
	layout_compile(w, base, NULL, dec->want);
	for (i = 0; i < n; i++) {
		uint8_t f = dec->want[i].family;

		if (dc[f] == NULL || at[f] == dc[f]->n ||
		    !claim_equal(&dc[f]->claims[at[f]++], &dec->want[i]))
			return false;
	}
	return at[0] == c4->n && (c6 == NULL || at[1] == c6->n);
}

/*
 * Does the kernel hold exactly w for this container? The claims are
 * compared with what layout_compile() makes of w on the chain's tag
 * block, and the sets with what apply puts in them, without decoding
 * anything: a pass that finds the table as desired writes nothing per
 * rule.
 */
static bool
verify(struct decoder *dec, const struct dcont *cont, const struct rules_container *w)
{
	const struct nft_state *st = dec->d->st;
	const struct dchain *c4 = cont->c[RULES_FAMILY_IPV4], *c6 = cont->c[RULES_FAMILY_IPV6];
	const char *why, *ifname;
	const struct nft_elem *e;
	uint32_t base;
	size_t i;

	/* the ids of its rules by name are the kernel's: decoded, not compared */
	if (c4 == NULL || c4->n == 0 || c4->bad[0] != '\0' || (c6 != NULL && c6->bad[0] != '\0') ||
	    layout_has_ipv6(w) != (c6 != NULL) || rules_container_has_names(w))
		return false;
	ifname = chains_ifname(st, dec->d->ix, c4, c6, &why);
	if (ifname == NULL || strncmp(ifname, w->ifname, IFNAMSIZ) != 0)
		return false;
	base = c4->claims[c4->n - 1].range_lo;
	if (!verify_claims(dec, c4, c6, w, base))
		return false;
	for (i = 0; i < w->nrules; i++) {
		const struct rules_rule *ru = &w->rules[i];
		size_t dlen = ru->desc ? strlen(ru->desc) : 0;
		size_t head = layout_desc_head_len(ru->id, dlen);

		e = verdict_elem(st, ifname, base + (uint32_t)i, ru->action);
		if (e == NULL || e->tail_len != dlen - head ||
		    e->has_timeout != (ru->expires_at != 0) ||
		    (e->tail_len > 0 && memcmp(e->tail, ru->desc + head, e->tail_len) != 0))
			return false;
	}
	return verdict_elem(st, ifname, base + (uint32_t)w->nrules, w->policy) != NULL &&
	       nft_elems_find(&st->elems[LAYOUT_SET_ATTACHED], ifname, 0) != NULL &&
	       nft_elems_find(&st->elems[LAYOUT_SET_DEFTAG], ifname, base + (uint32_t)w->nrules);
}

static void
note_claims(struct decoder *dec, const struct dchain *dc)
{
	size_t j;

	for (j = 0; dc != NULL && j < dc->n; j++) {
		if (dc->claims[j].tag > dec->tag_max)
			dec->tag_max = dc->claims[j].tag;
		if (dc->claims[j].range_hi > dec->tag_max)
			dec->tag_max = dc->claims[j].range_hi;
	}
}

/*
 * The container's port id in the bridge table, and whether it is
 * bridged: its bports element goes to its chain b_<id>, which is exactly
 * what the layout makes for its interface. Either both or neither; and
 * bridged with rules by name (names), its port is in dnsb.
 */
static int
decode_port(const struct nft_state *st, struct nft_container *ct, bool names, const char **why)
{
	const struct nft_elem *e = nft_elems_find(&st->elems[LAYOUT_SET_PORTS], ct->fw.ifname, 0);
	char chain[LAYOUT_CHAIN_NAME_MAX + 1];
	uint16_t port = e ? (uint16_t)((e->data & ~LAYOUT_MARK_VALID) >> LAYOUT_PORT_SHIFT) : 0;
	bool has_chain, ok, dnsb;

	if (e == NULL || port == 0 || e->data != layout_port_mark(port)) {
		*why = "the interface has no port id in the bridge table";
		return -EBADMSG;
	}
	ct->port = port;
	dnsb = nft_elems_find(&st->elems[LAYOUT_SET_DNSB], "", e->data) != NULL;
	e = nft_elems_find(&st->elems[LAYOUT_SET_BPORTS], "", e->data);
	has_chain = state_bchain(st, ct->fw.id, &ok);
	if (e == NULL && !has_chain && !dnsb)
		return 0;
	layout_bchain_name(ct->fw.id, chain);
	if (e == NULL || !ok || strcmp(e->chain, chain) != 0) {
		*why = "its bridged chain is altered, or not reached from its port";
		return -EBADMSG;
	}
	if (dnsb != names) {
		*why = "its port's place in the dnsb set does not match its rules by name";
		return -EBADMSG;
	}
	ct->fw.bridged = true;
	return 0;
}

/* The ids of a container's rules by name are of its port, and each its own. */
static int
decode_names(const struct nft_container *ct, const char **why)
{
	size_t i, j;

	for (i = 0; ct->name_ids != NULL && i < ct->fw.nrules; i++) {
		if (ct->name_ids[i] == 0)
			continue;
		for (j = 0; j < i; j++)
			if (ct->name_ids[j] == ct->name_ids[i])
				break;
		if (ct->name_ids[i] >> 16 != ct->port || j < i) {
			*why = "a rule by name's sets are not its container's";
			return -EBADMSG;
		}
	}
	return 0;
}

static int
pin_cmp(const void *a, const void *b)
{
	const struct nft_elem *x = *(const struct nft_elem *const *)a;
	const struct nft_elem *y = *(const struct nft_elem *const *)b;
	int c = strncmp(x->ifname, y->ifname, sizeof(x->ifname));

	if (c != 0)
		return c;
	return x->tail != NULL ? memcmp(x->tail, y->tail, x->tail_len)
			       : memcmp(&x->value, &y->value, sizeof(x->value));
}

/* The pin elements by interface, for decode_pins(). 0 or -ENOMEM. */
static int
index_pins(struct dump *d)
{
	size_t f, i;

	for (f = 0; f < 2; f++) {
		const struct nft_elems *es = &d->st->elems[f ? LAYOUT_SET_PIN6 : LAYOUT_SET_PIN4];

		d->pins[f] = calloc(es->n ? es->n : 1, sizeof(*d->pins[f]));
		if (d->pins[f] == NULL)
			return -ENOMEM;
		for (i = 0; i < es->n; i++)
			d->pins[f][i] = &es->v[i];
		d->npins[f] = es->n;
		if (es->n > 1) /* qsort() takes no NULL, even for nothing */
			qsort(d->pins[f], es->n, sizeof(*d->pins[f]), pin_cmp);
	}
	return 0;
}

/* The first of v[0, n) whose interface is not before ifname. */
static size_t
pins_from(const struct nft_elem *const *v, size_t n, const char *ifname)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strncmp(v[mid]->ifname, ifname, IFNAMSIZ) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The addresses the container's port is pinned to: its pin4 and pin6
 * elements, and its pinned element exactly when there are any.
 */
static int
decode_pins(struct decoder *dec, struct nft_container *ct, const char **why)
{
	const struct dump *d = dec->d;
	size_t f, i, first[2], last[2], n = 0;
	bool pinned = nft_elems_find(&d->st->elems[LAYOUT_SET_PINNED], ct->fw.ifname, 0) != NULL;

	for (f = 0; f < 2; f++) {
		first[f] = last[f] = pins_from(d->pins[f], d->npins[f], ct->fw.ifname);
		while (last[f] < d->npins[f] &&
		       strncmp(d->pins[f][last[f]]->ifname, ct->fw.ifname, IFNAMSIZ) == 0)
			last[f]++;
		n += last[f] - first[f];
	}
	if (pinned != (n > 0) || n > RULES_ADDRESSES_MAX) {
		*why = "its pinned addresses are not as the layout makes them";
		return -EBADMSG;
	}
	ct->fw.naddresses = n;
	if (n == 0)
		return 0;
	ct->fw.addresses = region_alloc(&dec->out, n * sizeof(*ct->fw.addresses));
	if (ct->fw.addresses == NULL)
		return -ENOMEM;
	memset(ct->fw.addresses, 0, n * sizeof(*ct->fw.addresses));
	for (n = 0, f = 0; f < 2; f++)
		for (i = first[f]; i < last[f]; i++, n++) {
			const struct nft_elem *e = d->pins[f][i];

			ct->fw.addresses[n].family = f ? RULES_FAMILY_IPV6 : RULES_FAMILY_IPV4;
			memcpy(ct->fw.addresses[n].addr, f ? (const void *)e->tail : &e->value,
			       f ? 16 : 4);
		}
	return 0;
}

static int
decode_some(struct decoder *dec)
{
	struct dump *d = dec->d;
	struct nft_state *st = d->st;
	const struct rules_container *w;
	size_t i, lo;
	int r = 0;

	while (r == 0 && (lo = atomic_fetch_add(dec->next, DECODE_BATCH)) < d->nconts) {
		for (i = lo; i < lo + DECODE_BATCH && i < d->nconts && r == 0; i++) {
			const struct dcont *cont = &d->conts[i];
			const struct dchain *c4 = cont->c[RULES_FAMILY_IPV4];
			struct nft_container *ct = &st->containers[i];
			const char *why = NULL;

			note_claims(dec, c4);
			note_claims(dec, cont->c[RULES_FAMILY_IPV6]);
			strcpy(ct->fw.id, cont->id);
			ct->chain4 = c4 != NULL;
			ct->chain6 = cont->c[RULES_FAMILY_IPV6] != NULL;
			w = d->want ? rules_set_find(d->want, ct->fw.id) : NULL;
			if (w != NULL && w->ifname[0] != '\0' && verify(dec, cont, w)) {
				strcpy(ct->fw.ifname, w->ifname);
				if (decode_port(st, ct, rules_container_has_names(w), &why) == 0 &&
				    ct->fw.bridged == w->bridged &&
				    decode_pins(dec, ct, &why) == 0 &&
				    nft_pins_equal(ct->fw.addresses, ct->fw.naddresses,
						   w->addresses, w->naddresses)) {
					ct->fw.policy = w->policy;
					ct->tag_base = c4->claims[c4->n - 1].range_lo;
					ct->same = w;
					continue;
				}
				ct->port = 0;
				ct->fw.bridged = false;
				ct->fw.addresses = NULL;
				ct->fw.naddresses = 0;
			}
			r = decode_container(dec, cont, ct, &why);
			if (r == 0)
				r = decode_port(st, ct, rules_container_has_names(&ct->fw), &why);
			if (r == 0)
				r = decode_names(ct, &why);
			if (r == 0)
				r = decode_pins(dec, ct, &why);
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
	region_take(&st->arena, &dec->out);
	if (dec->tag_max > st->tag_max)
		st->tag_max = dec->tag_max;
	free(dec->want);
	free(dec->merged);
}

/*
 * The chains by container. Sorted by name, the IPv6 chains ("c6_...")
 * all come before the others ("c_..."), each run in the order of the
 * ids: the runs merge into the containers in id order.
 */
static int
group_chains(struct dump *d)
{
	size_t n6 = 0, i, j, k = 0;

	while (n6 < d->nchains && d->chains[n6].family == RULES_FAMILY_IPV6)
		n6++;
	d->conts = calloc(d->nchains ? d->nchains : 1, sizeof(*d->conts));
	if (d->conts == NULL)
		return -ENOMEM;
	for (i = n6, j = 0; i < d->nchains || j < n6; k++) {
		struct dchain *a = i < d->nchains ? &d->chains[i] : NULL;
		struct dchain *b = j < n6 ? &d->chains[j] : NULL;
		const char *ida = a ? layout_chain_container(a->name) : NULL;
		const char *idb = b ? layout_chain_container(b->name) : NULL;
		int cmp = a == NULL ? 1 : b == NULL ? -1 : strcmp(ida, idb);

		d->conts[k].id = cmp <= 0 ? ida : idb;
		if (cmp <= 0) {
			d->conts[k].c[RULES_FAMILY_IPV4] = a;
			i++;
		}
		if (cmp >= 0) {
			d->conts[k].c[RULES_FAMILY_IPV6] = b;
			j++;
		}
	}
	d->nconts = k;
	return 0;
}

int
decode_containers(struct dump *d)
{
	struct nft_state *st = d->st;
	atomic_size_t next = 0;
	struct decoder dec[2] = {{.d = d, .next = &next}, {.d = d, .next = &next}};
	size_t i, j;
	int r;

	for (i = 0; i < LAYOUT_SET_MAX; i++) {
		if (state_elems_index(&st->elems[i]) < 0)
			return -ENOMEM;
		if (i == LAYOUT_SET_ALLOW || i == LAYOUT_SET_DENY || i == LAYOUT_SET_DEFTAG)
			for (j = 0; j < st->elems[i].n; j++)
				note_tag(st, st->elems[i].v[j].value);
	}
	if (group_chains(d) < 0 || index_pins(d) < 0)
		return -ENOMEM;
	st->containers = calloc(d->nconts ? d->nconts : 1, sizeof(*st->containers));
	if (st->containers == NULL)
		return -ENOMEM;
	region_prefault(st->containers, d->nconts * sizeof(*st->containers));
	st->ncontainers = d->nconts;
	if (dump_threaded(d->nconts))
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
