/*
 * The dumped container chains, decoded into containers: each chain's
 * claims, with the verdicts and descriptions the sets hold for its
 * tags, become the user rules they were compiled from. A container the
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
	ifname = elems_dispatch_ifname(ix, dc->name);
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
	const char *ifname = elems_dispatch_ifname(dec->d->ix, dc->name);
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
	region_take(&st->arena, &dec->out);
	if (dec->tag_max > st->tag_max)
		st->tag_max = dec->tag_max;
	free(dec->want);
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
	st->containers = calloc(d->nchains ? d->nchains : 1, sizeof(*st->containers));
	if (st->containers == NULL)
		return -ENOMEM;
	region_prefault(st->containers, d->nchains * sizeof(*st->containers));
	st->ncontainers = d->nchains;
	if (dump_threaded(d->nchains))
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
