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

/*
 * Templates. Claims come in a few shapes (which address, protocol and
 * port matches they carry). For each, the builder makes two claims with
 * every value different; the attributes that differ between the two are
 * where values go, and every other attribute of a dumped claim must be
 * byte for byte the template's. Templates are made as shapes are met:
 * an IPv6 network's shape is its length in bytes, and whether it ends
 * inside one. A rule that expires has each shape once more, with the
 * time.
 */
#define ADDR4_SHAPES 3	/* any, host, net */
#define ADDR6_SHAPES 33 /* any, 1 to 16 whole bytes, 1 to 16 bytes with a mask */
#define MATCH_SHAPES 6	/* protocol: any, one; port: none, one, range */
enum {
	SHAPE_DEFAULT = 0,
	SHAPE_IPV6 = 1 + ADDR4_SHAPES * MATCH_SHAPES,
	SHAPE_NAME = SHAPE_IPV6 + ADDR6_SHAPES * MATCH_SHAPES, /* by family */
	SHAPE_PLAIN = SHAPE_NAME + RULES_FAMILY_MAX * MATCH_SHAPES,
	SHAPE_MAX = 2 * SHAPE_PLAIN, /* then those of rules that expire */
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
#define LEARNED_MAX 64 /* a shape's claims all have one length; few shapes are met */

struct learned {
	uint16_t len;	       /* of the expressions */
	uint16_t off[SRC_MAX]; /* where each value is in them */
	uint8_t vlen[SRC_MAX]; /* and how long */
	bool has[SRC_MAX];
	uint16_t gap[SRC_MAX + 1][2]; /* the bytes around the values: offset, length */
	unsigned int ngaps;
	uint8_t family; /* the same bytes mean other things in the other family's chain */
	bool match;
	char bytes[];
};

struct claim_cache {
	struct template *t[SHAPE_MAX];
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
	for (i = 0; i < SHAPE_MAX; i++)
		free(cc->t[i]);
	free(cc);
}

/* Values ordered by where they are in the rule (an IPv4 span has the protocol first). */
static int
by_offset(const void *a, const void *b, void *arg)
{
	const uint16_t *off = arg;
	int x = *(const int *)a, y = *(const int *)b;

	return (off[x] > off[y]) - (off[x] < off[y]);
}

static void
learn(struct claim_cache *cc, const struct raw_rule *r, uint8_t family, const struct claim_src *s)
{
	struct learned *l;
	int order[SRC_MAX];
	unsigned int i, n = 0;
	uint16_t at = 0;

	if (cc->nlearned == LEARNED_MAX)
		return;
	l = calloc(1, sizeof(*l) + r->exprs_len);
	if (l == NULL)
		return; /* a cache: the next claim is parsed instead */
	l->len = r->exprs_len;
	l->family = family;
	l->match = s->match;
	memcpy(l->bytes, r->exprs, r->exprs_len);
	for (i = 0; i < SRC_MAX; i++) {
		if (s->v[i] == NULL)
			continue;
		l->has[i] = true;
		l->vlen[i] = s->len[i];
		l->off[i] = (uint16_t)((const char *)s->v[i] - (const char *)r->exprs);
		if (i == SRC_PORT_HI && s->v[i] == s->v[SRC_PORT_LO])
			continue; /* a single port: one value, read twice */
		order[n++] = (int)i;
	}
	qsort_r(order, n, sizeof(order[0]), by_offset, l->off);
	for (i = 0; i < n; i++) {
		int v = order[i];

		if (l->off[v] < at) {
			free(l);
			return; /* values that overlap: parse such claims */
		}
		l->gap[l->ngaps][0] = at;
		l->gap[l->ngaps++][1] = l->off[v] - at;
		at = l->off[v] + s->len[v];
	}
	l->gap[l->ngaps][0] = at;
	l->gap[l->ngaps++][1] = l->len - at;
	cc->learned[cc->nlearned++] = l;
}

/* Where the values of a claim shaped as a learned one are, or -ENOENT. */
static int
recall(const struct claim_cache *cc, const struct raw_rule *r, uint8_t family, struct claim_src *s)
{
	const char *x = r->exprs;
	unsigned int i, j;

	for (i = 0; i < cc->nlearned; i++) {
		const struct learned *l = cc->learned[i];

		if (l->len != r->exprs_len || l->family != family)
			continue;
		for (j = 0; j < l->ngaps; j++)
			if (memcmp(x + l->gap[j][0], l->bytes + l->gap[j][0], l->gap[j][1]) != 0)
				break;
		if (j < l->ngaps)
			continue;
		s->match = l->match;
		for (j = 0; j < SRC_MAX; j++) {
			s->v[j] = l->has[j] ? x + l->off[j] : NULL;
			s->len[j] = l->vlen[j];
		}
		return 0;
	}
	return -ENOENT;
}

static unsigned int
shape_of(const struct claim *cl)
{
	unsigned int addr = cl->plen == 0 ? 0 : cl->plen == 32 ? 1 : 2;
	unsigned int port = !cl->has_port ? 0 : cl->port_lo == cl->port_hi ? 1 : 2;
	unsigned int match = (cl->proto != RULES_PROTO_ANY) * 3 + port;

	unsigned int expires = cl->expires_at != 0 ? SHAPE_PLAIN : 0;

	if (cl->kind == CLAIM_DEFAULT)
		return SHAPE_DEFAULT;
	if (cl->name_id != 0)
		return expires + SHAPE_NAME + cl->family * MATCH_SHAPES + match;
	if (cl->family == RULES_FAMILY_IPV6) {
		addr = cl->plen == 0 ? 0 : (cl->plen + 7u) / 8 + (cl->plen % 8 != 0 ? 16 : 0);
		return expires + SHAPE_IPV6 + addr * MATCH_SHAPES + match;
	}
	return expires + 1 + addr * MATCH_SHAPES + match;
}

/* An IPv6 network of the address shape addr, one of two variants. */
static void
sample6(unsigned int addr, int v, struct claim *cl)
{
	unsigned int bytes = addr > 16 ? addr - 16 : addr, i;
	uint8_t mask[16];

	cl->family = RULES_FAMILY_IPV6;
	if (addr == 0)
		return;
	cl->plen = (uint8_t)(8 * bytes - (addr > 16 ? 1 + v : 0));
	layout_prefix_mask6(cl->plen, mask);
	for (i = 0; i < 16; i++)
		cl->daddr6[i] = (uint8_t)((v ? 0xfd : 0x20) + i) & mask[i];
}

/* A claim of the shape with every value set from one of two variants. */
static void
sample(unsigned int shape, int v, struct claim *cl)
{
	bool expires = shape >= SHAPE_PLAIN, six;
	unsigned int x, addr, proto, port;

	shape %= SHAPE_PLAIN;
	memset(cl, 0, sizeof(*cl));
	if (shape >= SHAPE_NAME) {
		/* a rule by name: no address of its own, the set's id instead */
		x = shape - SHAPE_NAME;
		cl->name_id = v ? layout_name_id(2, 3) : layout_name_id(1, 1);
		six = x / MATCH_SHAPES == RULES_FAMILY_IPV6;
		x %= MATCH_SHAPES;
		addr = 0;
	} else {
		six = shape >= SHAPE_IPV6;
		x = shape - (six ? SHAPE_IPV6 : 1);
		addr = x / MATCH_SHAPES;
	}
	proto = (x / 3) % 2;
	port = x % 3;
	cl->expires_at = !expires ? 0 : v ? 2000000000 : 1900000000;
	cl->kind = shape == SHAPE_DEFAULT ? CLAIM_DEFAULT : CLAIM_MATCH;
	cl->range_lo = v ? 200 : 100;
	cl->range_hi = v ? 207 : 105;
	cl->tag = v ? 203 : 101;
	if (cl->kind == CLAIM_DEFAULT)
		return;
	if (six) {
		sample6(addr, v, cl);
	} else {
		cl->plen = addr == 0 ? 0 : addr == 1 ? 32 : v ? 16 : 8;
		cl->daddr = addr == 0 ? 0 : v ? 0xc0a80000 | (addr == 1 ? 0x0709 : 0) : 0x0a000000;
	}
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
	struct template *t = cc->t[shape];
	NFT_MSG_ALIGNED char other_buf[sizeof(t->buf)];
	struct raw_rule other;
	struct claim cl;
	unsigned int i, j;

	if (t != NULL && t->built)
		return t;
	if (t == NULL && (t = cc->t[shape] = calloc(1, sizeof(*t))) == NULL)
		return NULL;
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
layout_claim_match(struct claim_cache *cc, struct raw_rule *r, uint8_t family, struct claim *ret)
{
	const struct template *t;
	struct claim_src s;
	struct claim cl;

	if (r->exprs_len > 0 && recall(cc, r, family, &s) == 0)
		return layout_claim_from_src(r, family, &s, ret);
	if (raw_rule_parse_exprs(r) < 0 || layout_claim_src(r, family, &s) < 0 ||
	    layout_claim_from_src(r, family, &s, &cl) < 0)
		return -EBADMSG;
	t = template_get(cc, shape_of(&cl));
	if (t == NULL)
		return -ENOMEM;
	if (!matches(t, r))
		return -EBADMSG;
	learn(cc, r, family, &s);
	*ret = cl;
	return 0;
}
