/*
 * The claims of container chains, recognised by template. Claims come
 * in a few shapes; the first claim of a shape is parsed and checked
 * against a template built for it, and later ones by their bytes.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "nft/nft_int.h"

/* The length of each value, by SRC_*. */
static const uint8_t src_len[SRC_MAX] = {4, 4, 1, 2, 2, 4, 4, 4};

/*
 * Templates. Claims come in a few shapes (which address, protocol and
 * port matches they carry). For each, the builder makes two claims with
 * every value different; the attributes that differ between the two are
 * where values go, and every other attribute of a dumped claim must be
 * byte for byte the template's.
 */
enum {
	SHAPE_DEFAULT = 0,
	SHAPE_MAX =
		1 +
		3 * 2 * 3, /* address: any, host, net; protocol: any, one; port: none, one, range */
};

struct template
{
	bool built;
	NFT_MSG_ALIGNED char buf[2048]; /* the serialised rule the views point into */
	struct raw_rule r;
	bool var[RAW_EXPRS_MAX][RAW_ATTRS_MAX];
};

/*
 * A claim that passed matches(), kept as sent: another claim is one too
 * if its expressions are the same bytes but for where the values are
 * (those are the only bytes in which two claims of a shape differ), and
 * the values are. Checked so, 100,000 claims cost a memcmp each instead
 * of a parse of their 60-odd attributes.
 */
#define LEARNED_MAX SHAPE_MAX /* a shape's claims all have one length */

struct learned {
	uint16_t len;	       /* of the expressions */
	uint16_t off[SRC_MAX]; /* where each value is in them */
	bool has[SRC_MAX];
	uint16_t gap[SRC_MAX + 1][2]; /* the bytes around the values: offset, length */
	unsigned int ngaps;
	bool match;
	char bytes[];
};

struct claim_cache {
	struct template t[SHAPE_MAX];
	struct learned *learned[LEARNED_MAX];
	unsigned int nlearned;
};

struct claim_cache *
layout_claim_cache_new(void)
{
	return calloc(1, sizeof(struct claim_cache));
}

void
layout_claim_cache_free(struct claim_cache *cc)
{
	unsigned int i;

	if (cc == NULL)
		return;
	for (i = 0; i < cc->nlearned; i++)
		free(cc->learned[i]);
	free(cc);
}

static void
learn(struct claim_cache *cc, const struct raw_rule *r, const struct claim_src *s)
{
	struct learned *l;
	uint16_t at = 0;
	unsigned int i;

	if (cc->nlearned == LEARNED_MAX)
		return;
	l = calloc(1, sizeof(*l) + r->exprs_len);
	if (l == NULL)
		return; /* a cache: the next claim is parsed instead */
	l->len = r->exprs_len;
	l->match = s->match;
	memcpy(l->bytes, r->exprs, r->exprs_len);
	for (i = 0; i < SRC_MAX; i++) {
		if (s->v[i] == NULL)
			continue;
		l->has[i] = true;
		l->off[i] = (uint16_t)((const char *)s->v[i] - (const char *)r->exprs);
		if (i == SRC_PORT_HI && s->v[i] == s->v[SRC_PORT_LO])
			continue; /* a single port: one value, read twice */
		if (l->off[i] < at) {
			free(l);
			return; /* not in the builder's order: parse such claims */
		}
		l->gap[l->ngaps][0] = at;
		l->gap[l->ngaps++][1] = l->off[i] - at;
		at = l->off[i] + src_len[i];
	}
	l->gap[l->ngaps][0] = at;
	l->gap[l->ngaps++][1] = l->len - at;
	cc->learned[cc->nlearned++] = l;
}

/* Where the values of a claim shaped as a learned one are, or -ENOENT. */
static int
recall(const struct claim_cache *cc, const struct raw_rule *r, struct claim_src *s)
{
	const char *x = r->exprs;
	unsigned int i, j;

	for (i = 0; i < cc->nlearned; i++) {
		const struct learned *l = cc->learned[i];

		if (l->len != r->exprs_len)
			continue;
		for (j = 0; j < l->ngaps; j++)
			if (memcmp(x + l->gap[j][0], l->bytes + l->gap[j][0], l->gap[j][1]) != 0)
				break;
		if (j < l->ngaps)
			continue;
		s->match = l->match;
		for (j = 0; j < SRC_MAX; j++)
			s->v[j] = l->has[j] ? x + l->off[j] : NULL;
		return 0;
	}
	return -ENOENT;
}

static unsigned int
shape_of(const struct claim *cl)
{
	unsigned int addr = cl->plen == 0 ? 0 : cl->plen == 32 ? 1 : 2;
	unsigned int port = !cl->has_port ? 0 : cl->port_lo == cl->port_hi ? 1 : 2;

	if (cl->kind == CLAIM_DEFAULT)
		return SHAPE_DEFAULT;
	return 1 + (addr * 2 + (cl->proto != RULES_PROTO_ANY)) * 3 + port;
}

/* A claim of the shape with every value set from one of two variants. */
static void
sample(unsigned int shape, int v, struct claim *cl)
{
	unsigned int x = shape - 1, addr = x / 6, proto = (x / 3) % 2, port = x % 3;

	memset(cl, 0, sizeof(*cl));
	cl->kind = shape == SHAPE_DEFAULT ? CLAIM_DEFAULT : CLAIM_MATCH;
	cl->range_lo = v ? 200 : 100;
	cl->range_hi = v ? 207 : 105;
	cl->tag = v ? 203 : 101;
	if (cl->kind == CLAIM_DEFAULT)
		return;
	cl->plen = addr == 0 ? 0 : addr == 1 ? 32 : v ? 16 : 8;
	cl->daddr = addr == 0 ? 0 : v ? 0xc0a80000 | (addr == 1 ? 0x0709 : 0) : 0x0a000000;
	cl->proto = !proto ? RULES_PROTO_ANY : v ? RULES_PROTO_UDP : RULES_PROTO_TCP;
	cl->has_port = port > 0;
	cl->port_lo = port == 1 ? (v ? 443 : 80) : v ? 3000 : 1000;
	cl->port_hi = port == 1 ? cl->port_lo : v ? 4000 : 2000;
	cl->id = "r";
	cl->id_len = 1;
}

static int
serialise(const struct claim *cl, char *buf, size_t size, struct raw_rule *ret)
{
	struct nftnl_rule *r = layout_claim_rule("t", "c", cl);
	struct nlmsghdr *nlh;

	if (r == NULL)
		return -ENOMEM;
	memset(buf, 0, size);
	nlh = nftnl_rule_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE, NFPROTO_INET, 0, 0);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	return nlh->nlmsg_len <= size ? raw_rule_parse(nlh, ret) : -EMSGSIZE;
}

static const struct template *
template_get(struct claim_cache *cc, unsigned int shape)
{
	struct template *t = &cc->t[shape];
	NFT_MSG_ALIGNED char other_buf[sizeof(t->buf)];
	struct raw_rule other;
	struct claim cl;
	unsigned int i, j;

	if (t->built)
		return t;
	sample(shape, 0, &cl);
	if (serialise(&cl, t->buf, sizeof(t->buf), &t->r) < 0)
		return NULL;
	sample(shape, 1, &cl);
	if (serialise(&cl, other_buf, sizeof(other_buf), &other) < 0 || other.nexprs != t->r.nexprs)
		return NULL;
	for (i = 0; i < t->r.nexprs; i++)
		for (j = 0; j < t->r.e[i].nattrs; j++) {
			const struct raw_attr *a = &t->r.e[i].a[j];
			const struct raw_attr *b = raw_expr_attr(&other.e[i], a->type);

			t->var[i][j] =
				b == NULL || b->len != a->len || memcmp(a->data, b->data, a->len);
		}
	t->built = true;
	return t;
}

static bool
matches(const struct template *t, const struct raw_rule *r)
{
	unsigned int i, j;

	if (r->nexprs != t->r.nexprs)
		return false;
	for (i = 0; i < r->nexprs; i++) {
		const struct raw_expr *te = &t->r.e[i], *re = &r->e[i];

		if (strcmp(te->name, re->name) != 0 || te->nattrs != re->nattrs)
			return false;
		for (j = 0; j < te->nattrs; j++) {
			const struct raw_attr *ta = &te->a[j];
			const struct raw_attr *ra = raw_expr_attr(re, ta->type);

			if (ra == NULL || ra->len != ta->len ||
			    (!t->var[i][j] && memcmp(ra->data, ta->data, ta->len) != 0))
				return false;
		}
	}
	return true;
}

int
layout_claim_match(struct claim_cache *cc, struct raw_rule *r, struct claim *ret)
{
	const struct template *t;
	struct claim_src s;
	struct claim cl;

	if (r->exprs_len > 0 && recall(cc, r, &s) == 0)
		return layout_claim_from_src(r, &s, ret);
	if (raw_rule_parse_exprs(r) < 0 || layout_claim_src(r, &s) < 0 ||
	    layout_claim_from_src(r, &s, &cl) < 0)
		return -EBADMSG;
	t = template_get(cc, shape_of(&cl));
	if (t == NULL)
		return -ENOMEM;
	if (!matches(t, r))
		return -EBADMSG;
	learn(cc, r, &s);
	*ret = cl;
	return 0;
}
