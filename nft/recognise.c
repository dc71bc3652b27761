/*
 * Recognising what a dump reads back: the table's own sets, chains and
 * rules, and the values of container chains' claims. Two expressions
 * are equal when they have the same name and the same attributes set
 * to the same bytes: a dumped rule is ours only if rebuilding it from
 * the values we extract gives it back.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <libnftnl/expr.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <net/if.h>

#include "nft/nft_int.h"

static int
options_cb(const struct nftnl_udata *attr, void *data)
{
	struct nft_options *o = data;
	uint8_t len = nftnl_udata_len(attr);
	uint32_t log[2];

	switch (nftnl_udata_type(attr)) {
	case LAYOUT_UDATA_DROPLOG:
		if (len != sizeof(log))
			return -1;
		memcpy(log, nftnl_udata_get(attr), sizeof(log));
		o->log_rate = log[0];
		o->log_group = log[1];
		return log[0] > 0 && log[1] <= UINT16_MAX ? 0 : -1;
	case LAYOUT_UDATA_DNS:
		if (len != sizeof(o->dns_port))
			return -1;
		memcpy(&o->dns_port, nftnl_udata_get(attr), len);
		return o->dns_port != 0 ? 0 : -1;
	case LAYOUT_UDATA_IFPREFIX:
		if (len == 0 || len >= sizeof(o->ifprefix[0]) || o->nifprefix == NFT_IFPREFIX_MAX)
			return -1;
		memcpy(o->ifprefix[o->nifprefix], nftnl_udata_get(attr), len);
		o->ifprefix[o->nifprefix][len] = '\0';
		o->nifprefix++;
		return 0;
	default:
		return -1;
	}
}

int
layout_base_options(const struct nftnl_rule *r, struct nft_options *ret)
{
	const void *u;
	uint32_t len;

	memset(ret, 0, sizeof(*ret));
	if (!nftnl_rule_is_set(r, NFTNL_RULE_USERDATA))
		return 0;
	u = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
	if (nftnl_udata_parse(u, len, options_cb, ret) < 0) {
		memset(ret, 0, sizeof(*ret));
		return -EBADMSG;
	}
	return 0;
}

/* Expressions as libnftnl prints them: dynset nests a limit, which
 * same_expr() cannot look into; these two rules are read rarely. */
static bool
rule_text(const struct nftnl_rule *r, char *buf, size_t size)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e;
	size_t used = 0;
	int n;

	if (it == NULL)
		return false;
	buf[0] = '\0';
	while ((e = nftnl_expr_iter_next(it)) != NULL) {
		n = nftnl_expr_snprintf(buf + used, size - used, e, NFTNL_OUTPUT_DEFAULT, 0);
		if (n < 0 || (size_t)n + 1 >= size - used)
			break;
		used += (size_t)n;
		buf[used++] = ';';
		buf[used] = '\0';
	}
	nftnl_expr_iter_destroy(it);
	return e == NULL;
}

int
layout_drop_rule_check(const struct nftnl_rule *r, const char *table, const struct nft_options *o,
		       unsigned int i)
{
	struct nftnl_rule *want = layout_drop_rule(table, o, i);
	char a[1024], b[1024]; /* the drop rule's text, with room to spare */
	bool eq;

	if (want == NULL)
		return i < LAYOUT_DROP_NRULES ? -ENOMEM : -EBADMSG;
	eq = rule_text(r, a, sizeof(a)) && rule_text(want, b, sizeof(b)) && strcmp(a, b) == 0 &&
	     !nftnl_rule_is_set(r, NFTNL_RULE_USERDATA);
	nftnl_rule_free(want);
	return eq ? 0 : -EBADMSG;
}

/* Attributes past the base that our expression kinds can carry: hash
 * has the most (up to its deprecated set id). */
#define EXPR_ATTRS (NFTNL_EXPR_HASH_SET_ID - NFTNL_EXPR_BASE + 1)

static bool
same_expr(const struct nftnl_expr *a, const struct nftnl_expr *b)
{
	uint16_t t;

	if (strcmp(nftnl_expr_get_str(a, NFTNL_EXPR_NAME), nftnl_expr_get_str(b, NFTNL_EXPR_NAME)))
		return false;
	for (t = NFTNL_EXPR_BASE; t < NFTNL_EXPR_BASE + EXPR_ATTRS; t++) {
		uint32_t la = 0, lb = 0;
		const void *da, *db;

		if (nftnl_expr_is_set(a, t) != nftnl_expr_is_set(b, t))
			return false;
		if (!nftnl_expr_is_set(a, t))
			continue;
		da = nftnl_expr_get(a, t, &la);
		db = nftnl_expr_get(b, t, &lb);
		if (la != lb || (la > 0 && memcmp(da, db, la) != 0))
			return false;
	}
	return true;
}

static bool
same_rule(const struct nftnl_rule *a, const struct nftnl_rule *b)
{
	struct nftnl_expr_iter *ia = nftnl_expr_iter_create(a);
	struct nftnl_expr_iter *ib = nftnl_expr_iter_create(b);
	const void *ua, *ub;
	uint32_t la = 0, lb = 0;
	bool eq = ia != NULL && ib != NULL;

	while (eq) {
		struct nftnl_expr *ea = nftnl_expr_iter_next(ia);
		struct nftnl_expr *eb = nftnl_expr_iter_next(ib);

		if (ea == NULL || eb == NULL) {
			eq = ea == eb;
			break;
		}
		eq = same_expr(ea, eb);
	}
	if (ia != NULL)
		nftnl_expr_iter_destroy(ia);
	if (ib != NULL)
		nftnl_expr_iter_destroy(ib);
	if (!eq)
		return false;
	ua = nftnl_rule_is_set(a, NFTNL_RULE_USERDATA)
		     ? nftnl_rule_get_data(a, NFTNL_RULE_USERDATA, &la)
		     : NULL;
	ub = nftnl_rule_is_set(b, NFTNL_RULE_USERDATA)
		     ? nftnl_rule_get_data(b, NFTNL_RULE_USERDATA, &lb)
		     : NULL;
	return la == lb && (la == 0 || memcmp(ua, ub, la) == 0);
}

bool
layout_table_ours(const struct nftnl_table *t)
{
	uint32_t len = 0;
	const uint8_t *u = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len);

	/* the comment TLV: type 0, length, NUL-terminated text */
	return u != NULL && len == 2 + sizeof(LAYOUT_COMMENT) && u[0] == 0 &&
	       memcmp(u + 2, LAYOUT_COMMENT, sizeof(LAYOUT_COMMENT)) == 0;
}

int
layout_rule_check(const struct nftnl_rule *r, struct nftnl_rule *want)
{
	bool eq;

	if (want == NULL)
		return -ENOMEM;
	eq = same_rule(r, want);
	nftnl_rule_free(want);
	return eq ? 0 : -EBADMSG;
}

int
layout_base_rule_check(const struct nftnl_rule *r, const char *table, const struct nft_options *o,
		       unsigned int i)
{
	if (i >= layout_base_nrules(o))
		return -EBADMSG;
	return layout_rule_check(r, layout_base_rule(table, o, i));
}

static bool
is_payload(const struct raw_expr *e, uint32_t base, uint32_t offset, uint32_t len)
{
	return raw_expr_is(e, "payload") && raw_expr_u32(e, NFTA_PAYLOAD_BASE) == base &&
	       raw_expr_u32(e, NFTA_PAYLOAD_OFFSET) == offset &&
	       raw_expr_u32(e, NFTA_PAYLOAD_LEN) == len;
}

static int
proto_from_number(uint8_t family, uint8_t n)
{
	int p;

	for (p = RULES_PROTO_TCP; p < RULES_PROTO_MAX; p++)
		if (layout_proto_numbers[family][p] == n)
			return p;
	return -1;
}

struct udata_view {
	const char *id;
	uint32_t id_len;
	const char *desc;
	uint32_t desc_len;
	unsigned int n;
	bool bad;
};

static int
udata_cb(const struct nftnl_udata *attr, void *data)
{
	struct udata_view *v = data;

	/* exactly the id, then optionally the head of the description */
	if (v->n == 0 && nftnl_udata_type(attr) == LAYOUT_UDATA_RULE_ID) {
		v->id = nftnl_udata_get(attr);
		v->id_len = nftnl_udata_len(attr);
	} else if (v->n == 1 && nftnl_udata_type(attr) == LAYOUT_UDATA_DESC) {
		v->desc = nftnl_udata_get(attr);
		v->desc_len = nftnl_udata_len(attr);
	} else {
		v->bad = true;
	}
	v->n++;
	return 0;
}

static int
parse_claim_udata(const struct raw_rule *r, struct claim *cl)
{
	struct udata_view v = {0};
	char id[RULES_ID_MAX + 1];

	if (r->udata == NULL || nftnl_udata_parse(r->udata, r->udata_len, udata_cb, &v) < 0 ||
	    v.bad || v.id_len == 0 || v.id_len > RULES_ID_MAX ||
	    (v.desc != NULL && v.desc_len == 0))
		return -EBADMSG;
	memcpy(id, v.id, v.id_len);
	id[v.id_len] = '\0';
	cl->id = v.id;
	cl->id_len = v.id_len;
	cl->desc = v.desc;
	cl->desc_len = v.desc_len;
	return rules_id_valid(id) ? 0 : -EBADMSG;
}

/* The value of e, an expression of kind name, and its length, as values v. */
static bool
take(struct claim_src *s, int v, const struct raw_expr *e, const char *name, uint16_t type,
     uint16_t len)
{
	s->v[v] = raw_expr_is(e, name) ? raw_expr_value(e, type, len) : NULL;
	s->len[v] = (uint8_t)len;
	return s->v[v] != NULL;
}

static const struct raw_expr *
next(const struct raw_rule *r, unsigned int *i)
{
	return ++*i < r->nexprs ? &r->e[*i] : NULL;
}

/* Is expression i a load for the lookup of a rule by name's set? */
static bool
before_lookup(const struct raw_rule *r, unsigned int i)
{
	return i + 1 < r->nexprs && raw_expr_is(&r->e[i + 1], "lookup");
}

/* After the load of len bytes of the address: a mask maybe, then the network. */
static const struct raw_expr *
src_net(const struct raw_rule *r, unsigned int *i, struct claim_src *s, uint16_t len)
{
	const struct raw_expr *e = next(r, i);

	s->match = true;
	if (raw_expr_is(e, "bitwise")) {
		if (!take(s, SRC_MASK, e, "bitwise", NFTA_BITWISE_MASK, len))
			return NULL;
		e = next(r, i);
	}
	return take(s, SRC_DADDR, e, "cmp", NFTA_CMP_DATA, len) ? next(r, i) : NULL;
}

/* After the load of the protocol: its number. */
static const struct raw_expr *
src_proto(const struct raw_rule *r, unsigned int *i, struct claim_src *s)
{
	s->match = true;
	return take(s, SRC_PROTO, next(r, i), "cmp", NFTA_CMP_DATA, 1) ? next(r, i) : NULL;
}

/* The address and protocol matches of a claim in an IPv6 chain. */
static const struct raw_expr *
src_match6(const struct raw_rule *r, unsigned int *i, struct claim_src *s)
{
	const struct raw_expr *e = &r->e[*i];
	uint32_t len;

	if (raw_expr_is(e, "payload") &&
	    raw_expr_u32(e, NFTA_PAYLOAD_BASE) == NFT_PAYLOAD_NETWORK_HEADER &&
	    raw_expr_u32(e, NFTA_PAYLOAD_OFFSET) == 24 && !before_lookup(r, *i)) {
		len = raw_expr_u32(e, NFTA_PAYLOAD_LEN);
		if (len == 0 || len > 16)
			return NULL;
		e = src_net(r, i, s, (uint16_t)len);
	}
	if (raw_expr_is(e, "ct") && raw_expr_u32(e, NFTA_CT_KEY) == NFT_CT_PROTOCOL)
		e = src_proto(r, i, s);
	return e;
}

/*
 * The protocol and address of an IPv4 claim in one load (see
 * LAYOUT_SPAN4_OFF): what lies between them must be masked out and
 * compared as zero, or the claim would not match what it says.
 */
static const struct raw_expr *
src_span4(const struct raw_rule *r, unsigned int *i, struct claim_src *s)
{
	static const uint8_t zero[LAYOUT_SPAN4_DADDR - 1];
	const struct raw_expr *e = next(r, i);
	const uint8_t *mask = NULL, *data = NULL;

	if (raw_expr_is(e, "bitwise"))
		mask = raw_expr_value(e, NFTA_BITWISE_MASK, LAYOUT_SPAN4_LEN);
	e = next(r, i);
	if (raw_expr_is(e, "cmp"))
		data = raw_expr_value(e, NFTA_CMP_DATA, LAYOUT_SPAN4_LEN);
	if (mask == NULL || data == NULL || mask[0] != 0xff ||
	    memcmp(mask + 1, zero, sizeof(zero)) != 0 || memcmp(data + 1, zero, sizeof(zero)) != 0)
		return NULL;
	s->match = true;
	s->v[SRC_MASK] = mask + LAYOUT_SPAN4_DADDR;
	s->v[SRC_DADDR] = data + LAYOUT_SPAN4_DADDR;
	s->v[SRC_PROTO] = data;
	s->len[SRC_MASK] = s->len[SRC_DADDR] = sizeof(uint32_t);
	s->len[SRC_PROTO] = 1;
	return next(r, i);
}

/* The same in an IPv4 chain. */
static const struct raw_expr *
src_match4(const struct raw_rule *r, unsigned int *i, struct claim_src *s)
{
	const struct raw_expr *e = &r->e[*i];

	if (is_payload(e, NFT_PAYLOAD_NETWORK_HEADER, LAYOUT_SPAN4_OFF, LAYOUT_SPAN4_LEN))
		return src_span4(r, i, s);
	if (is_payload(e, NFT_PAYLOAD_NETWORK_HEADER, 16, 4) && !before_lookup(r, *i))
		e = src_net(r, i, s, 4);
	if (is_payload(e, NFT_PAYLOAD_NETWORK_HEADER, 9, 1))
		e = src_proto(r, i, s);
	return e;
}

int
layout_claim_src(const struct raw_rule *r, uint8_t family, struct claim_src *s)
{
	const struct raw_expr *e;
	const struct raw_attr *a;
	unsigned int i = 0;

	memset(s, 0, sizeof(*s));
	if (r->nexprs == 0)
		return -EBADMSG;
	e = family == RULES_FAMILY_IPV6 ? src_match6(r, &i, s) : src_match4(r, &i, s);
	if (is_payload(e, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2)) {
		s->match = true;
		e = next(r, &i);
		if (raw_expr_is(e, "cmp")) {
			take(s, SRC_PORT_LO, e, "cmp", NFTA_CMP_DATA, 2);
			s->v[SRC_PORT_HI] = s->v[SRC_PORT_LO];
			s->len[SRC_PORT_HI] = 2;
		} else {
			take(s, SRC_PORT_LO, e, "range", NFTA_RANGE_FROM_DATA, 2);
			take(s, SRC_PORT_HI, e, "range", NFTA_RANGE_TO_DATA, 2);
		}
		if (s->v[SRC_PORT_LO] == NULL || s->v[SRC_PORT_HI] == NULL)
			return -EBADMSG;
		e = next(r, &i);
	}
	if (raw_expr_is(e, "meta") && raw_expr_u32(e, NFTA_META_KEY) == NFT_META_TIME_NS) {
		s->match = true;
		if (!raw_expr_is(next(r, &i), "byteorder") ||
		    !take(s, SRC_EXPIRES, next(r, &i), "cmp", NFTA_CMP_DATA, sizeof(uint64_t)))
			return -EBADMSG;
		e = next(r, &i);
	}
	/* a rule by name: the destination in its set */
	if (raw_expr_is(e, "payload") && before_lookup(r, i)) {
		if (!is_payload(e, NFT_PAYLOAD_NETWORK_HEADER,
				family == RULES_FAMILY_IPV6 ? 24 : 16,
				family == RULES_FAMILY_IPV6 ? 16 : 4))
			return -EBADMSG;
		a = raw_expr_attr(next(r, &i), NFTA_LOOKUP_SET);
		if (a == NULL || a->len != LAYOUT_DSET_NAME_MAX)
			return -EBADMSG;
		s->v[SRC_DSET] = a->data;
		s->len[SRC_DSET] = LAYOUT_DSET_NAME_MAX;
		s->match = true;
		e = next(r, &i);
	}
	/* the claim tail: ct mark, byteorder, range, hash, ct set */
	if (!raw_expr_is(e, "ct") || !raw_expr_is(next(r, &i), "byteorder"))
		return -EBADMSG;
	e = next(r, &i);
	if (!take(s, SRC_RANGE_LO, e, "range", NFTA_RANGE_FROM_DATA, 4) ||
	    !take(s, SRC_RANGE_HI, e, "range", NFTA_RANGE_TO_DATA, 4))
		return -EBADMSG;
	e = next(r, &i);
	a = raw_expr_is(e, "hash") ? raw_expr_attr(e, NFTA_HASH_OFFSET) : NULL;
	if (a == NULL || a->len != sizeof(uint32_t))
		return -EBADMSG;
	s->v[SRC_TAG] = a->data;
	s->len[SRC_TAG] = sizeof(uint32_t);
	return 0;
}

static uint32_t
get32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return ntohl(v);
}

static uint16_t
get16(const void *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return ntohs(v);
}

/* An IPv6 network: as many bytes as its prefix has, masked when it ends inside one. */
static int
net6_from_src(const struct claim_src *s, struct claim *cl)
{
	unsigned len = s->len[SRC_DADDR], i;
	const uint8_t *m = s->v[SRC_MASK];
	uint8_t last, bits;

	memcpy(cl->daddr6, s->v[SRC_DADDR], len);
	cl->plen = (uint8_t)(8 * len);
	if (m == NULL)
		return 0;
	for (i = 0; i + 1 < len; i++)
		if (m[i] != 0xff)
			return -EBADMSG;
	last = m[len - 1];
	bits = (uint8_t)__builtin_popcount(last);
	/* the builder masks only a prefix that ends inside a byte */
	if (bits == 0 || bits == 8 || last != (uint8_t)(0xff << (8 - bits)) ||
	    (cl->daddr6[len - 1] & (uint8_t)~last) != 0)
		return -EBADMSG;
	cl->plen = (uint8_t)(8 * (len - 1) + bits);
	return 0;
}

int
layout_claim_from_src(const struct raw_rule *r, uint8_t family, const struct claim_src *s,
		      struct claim *cl)
{
	int p;

	memset(cl, 0, sizeof(*cl));
	cl->family = family;
	/* A rule's claims carry its id; the default's carries nothing. A
	 * rule for every address and protocol matches nothing first. */
	cl->kind = r->udata != NULL ? CLAIM_MATCH : CLAIM_DEFAULT;
	if (cl->kind == CLAIM_DEFAULT && s->match)
		return -EBADMSG;
	if (family == RULES_FAMILY_IPV6) {
		if (s->v[SRC_DADDR] != NULL && net6_from_src(s, cl) < 0)
			return -EBADMSG;
	} else if (s->v[SRC_DADDR] != NULL) {
		cl->daddr = get32(s->v[SRC_DADDR]);
		cl->plen = 32;
	}
	if (family != RULES_FAMILY_IPV6 && s->v[SRC_MASK] != NULL) {
		uint32_t m = get32(s->v[SRC_MASK]);

		cl->plen = (uint8_t)__builtin_popcount(m);
		/* a mask that is not a prefix would not match a CIDR */
		if (cl->plen == 0 || htonl(m) != layout_prefix_mask(cl->plen) ||
		    (cl->daddr & ~m) != 0)
			return -EBADMSG;
	}
	if (s->v[SRC_PROTO] != NULL) {
		p = proto_from_number(family, *(const uint8_t *)s->v[SRC_PROTO]);
		if (p < 0)
			return -EBADMSG;
		cl->proto = (uint8_t)p;
	}
	if (s->v[SRC_PORT_LO] != NULL) {
		cl->has_port = true;
		cl->port_lo = get16(s->v[SRC_PORT_LO]);
		cl->port_hi = get16(s->v[SRC_PORT_HI]);
		if (cl->proto == RULES_PROTO_ANY || cl->proto == RULES_PROTO_ICMP ||
		    cl->port_lo == 0 || cl->port_lo > cl->port_hi)
			return -EBADMSG;
	}
	if (s->v[SRC_EXPIRES] != NULL) {
		uint64_t ns;

		memcpy(&ns, s->v[SRC_EXPIRES], sizeof(ns));
		ns = be64toh(ns);
		/* whole seconds, within what rules/ accepts */
		if (ns == 0 || ns % 1000000000u != 0 || ns / 1000000000u > INT32_MAX * 4ull)
			return -EBADMSG;
		cl->expires_at = (int64_t)(ns / 1000000000u);
	}
	if (s->v[SRC_DSET] != NULL) {
		char set[LAYOUT_DSET_NAME_MAX];
		uint8_t f;

		memcpy(set, s->v[SRC_DSET], sizeof(set));
		if (set[sizeof(set) - 1] != '\0' || !layout_dset_parse(set, &f, &cl->name_id) ||
		    f != family || cl->kind != CLAIM_MATCH)
			return -EBADMSG;
	}
	cl->range_lo = get32(s->v[SRC_RANGE_LO]);
	cl->range_hi = get32(s->v[SRC_RANGE_HI]);
	cl->tag = get32(s->v[SRC_TAG]);
	return cl->kind == CLAIM_MATCH ? parse_claim_udata(r, cl) : 0;
}

static int
has_counter_cb(struct nftnl_expr *e, void *data)
{
	*(bool *)data = strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter") == 0;
	return 0;
}

int
layout_set_check(const struct nftnl_set *s, const char *table, enum layout_set which)
{
	const struct layout_set_shape *sh = &layout_set_shapes[which];
	bool counter = false;

	(void)table;
	if (nftnl_set_get_u32(s, NFTNL_SET_FLAGS) != sh->flags ||
	    nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE) != sh->key_type ||
	    nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN) != sh->key_len)
		return -EBADMSG;
	if ((sh->flags & NFT_SET_MAP) &&
	    (nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE) != sh->data_type ||
	     nftnl_set_get_u32(s, NFTNL_SET_DATA_LEN) != sh->data_len))
		return -EBADMSG;
	nftnl_set_expr_foreach(s, has_counter_cb, &counter);
	return counter == sh->counter ? 0 : -EBADMSG;
}

int
layout_drop_set_check(const struct nftnl_set *s)
{
	return nftnl_set_get_u32(s, NFTNL_SET_FLAGS) == (NFT_SET_TIMEOUT | NFT_SET_EVAL) &&
			       nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE) == NFT_TYPE_IFNAME &&
			       nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN) == IFNAMSIZ
		       ? 0
		       : -EBADMSG;
}

/* A chain hooked at prerouting with priority prio, of type, policy accept. */
static int
hooked_check(const struct nftnl_chain *ch, int32_t prio, const char *want_type)
{
	const char *type = nftnl_chain_get_str(ch, NFTNL_CHAIN_TYPE);

	if (!nftnl_chain_is_set(ch, NFTNL_CHAIN_HOOKNUM) ||
	    nftnl_chain_get_u32(ch, NFTNL_CHAIN_HOOKNUM) != NF_INET_PRE_ROUTING ||
	    nftnl_chain_get_s32(ch, NFTNL_CHAIN_PRIO) != prio ||
	    nftnl_chain_get_u32(ch, NFTNL_CHAIN_POLICY) != NF_ACCEPT || type == NULL ||
	    strcmp(type, want_type) != 0)
		return -EBADMSG;
	return 0;
}

int
layout_base_chain_check(const struct nftnl_chain *ch)
{
	return hooked_check(ch, 0, "filter");
}

int
layout_dns_chain_check(const struct nftnl_chain *ch)
{
	return hooked_check(ch, LAYOUT_DNS_PRIO, "nat");
}
