/*
 * The claims of container chains (see struct claim, layout.h): a
 * container compiled into claims, in tag order, and each claim built as
 * a rule of its family's chain, c_<id> or c6_<id>. These rules carry no
 * verdict and, but for rules that expire, use no expression with a
 * validate hook, so changing them does not make the kernel re-validate
 * the whole table on commit.
 */

#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <libnftnl/udata.h>
#include <linux/netfilter/nf_tables.h>
#include <netinet/in.h>

#include "nft/expr.h"
#include "nft/layout.h"

const uint8_t layout_proto_numbers[RULES_FAMILY_MAX][RULES_PROTO_MAX] = {
	[RULES_FAMILY_IPV4] =
		{
			[RULES_PROTO_TCP] = IPPROTO_TCP,
			[RULES_PROTO_UDP] = IPPROTO_UDP,
			[RULES_PROTO_ICMP] = IPPROTO_ICMP,
		},
	[RULES_FAMILY_IPV6] =
		{
			[RULES_PROTO_TCP] = IPPROTO_TCP,
			[RULES_PROTO_UDP] = IPPROTO_UDP,
			[RULES_PROTO_ICMP] = IPPROTO_ICMPV6,
		},
};

size_t
layout_desc_head_len(const char *rule_id, size_t desc_len)
{
	/* two TLVs of two header bytes each, the id, then the head */
	size_t room = LAYOUT_RULE_UDATA_MAX - 4 - strlen(rule_id);

	if (room > 255)
		room = 255;
	return desc_len < room ? desc_len : room;
}

/*
 * Write tag into the mark unless the mark holds a tag of [lo, hi]. The
 * kernel compares ranges with memcmp(): the host-endian mark must be
 * made big-endian first, or a block of tags that crosses a multiple of
 * 256 would compare out of order.
 */
static void
add_claim_tail(struct layout_rb *b, uint32_t lo, uint32_t hi, uint32_t tag)
{
	uint32_t lo_be = htonl(lo), hi_be = htonl(hi);

	layout_rb_add(b, expr_ct_load(NFT_CT_MARK, NFT_REG_1));
	layout_rb_add(b, expr_hton(sizeof(uint32_t)));
	layout_rb_add(b, expr_range(NFT_RANGE_NEQ, &lo_be, &hi_be, sizeof(lo_be)));
	layout_rb_add(b, expr_const(tag));
	layout_rb_add(b, expr_ct_set_mark());
}

/*
 * A rule that expires claims only while the clock is before its time,
 * so that it stops matching in the kernel whether or not the agent
 * runs. The time is host-endian nanoseconds, made big-endian for the
 * comparison as the tail's mark is. meta has a validate hook: a commit
 * that adds such a claim makes the kernel validate the table, as an
 * attach does; claims of rules that never expire stay without one.
 */
static void
add_expiry(struct layout_rb *b, int64_t expires_at)
{
	uint64_t ns = htobe64((uint64_t)expires_at * 1000000000u);

	layout_rb_add(b, expr_meta(NFT_META_TIME_NS, NFT_REG_1));
	layout_rb_add(b, expr_hton(sizeof(ns)));
	layout_rb_add(b, expr_cmp(NFT_CMP_LT, &ns, sizeof(ns)));
}

static bool
put_claim_udata(struct nftnl_rule *r, const struct claim *cl)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(LAYOUT_RULE_UDATA_MAX);
	bool ok;

	if (u == NULL)
		return false;
	ok = nftnl_udata_put(u, LAYOUT_UDATA_RULE_ID, cl->id_len, cl->id) &&
	     (cl->desc_len == 0 || nftnl_udata_put(u, LAYOUT_UDATA_DESC, cl->desc_len, cl->desc)) &&
	     nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u),
				 nftnl_udata_buf_len(u)) == 0;
	nftnl_udata_buf_free(u);
	return ok;
}

/*
 * c_<id>: the base chain sends only IPv4 there; offsets are IPv4's. A
 * claim with both an address and a protocol loads the header from the
 * protocol to the destination at once and masks out what lies between:
 * three expressions instead of five. The kernel pays per expression on
 * every apply, dump and commit, and claims are most of the table.
 */
static void
add_match4(struct layout_rb *b, const struct claim *cl)
{
	if (cl->plen > 0 && cl->proto != RULES_PROTO_ANY) {
		uint8_t mask[LAYOUT_SPAN4_LEN] = {0xff}, data[LAYOUT_SPAN4_LEN] = {0};
		uint32_t m = layout_prefix_mask(cl->plen), net = htonl(cl->daddr);

		data[0] = layout_proto_numbers[RULES_FAMILY_IPV4][cl->proto];
		memcpy(mask + LAYOUT_SPAN4_DADDR, &m, sizeof(m));
		memcpy(data + LAYOUT_SPAN4_DADDR, &net, sizeof(net));
		layout_rb_add(b, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, LAYOUT_SPAN4_OFF,
					      LAYOUT_SPAN4_LEN));
		layout_rb_add(b, expr_bitwise_and(mask, sizeof(mask)));
		layout_rb_add(b, expr_cmp(NFT_CMP_EQ, data, sizeof(data)));
		return;
	}
	if (cl->plen > 0) {
		uint32_t mask = layout_prefix_mask(cl->plen), net = htonl(cl->daddr);

		layout_rb_add(b, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 16, 4));
		if (cl->plen < 32)
			layout_rb_add(b, expr_bitwise_and(&mask, sizeof(mask)));
		layout_rb_add(b, expr_cmp(NFT_CMP_EQ, &net, sizeof(net)));
	}
	if (cl->proto != RULES_PROTO_ANY) {
		layout_rb_add(b, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 9, 1));
		layout_rb_add(b, expr_cmp_u8(layout_proto_numbers[RULES_FAMILY_IPV4][cl->proto]));
	}
}

/*
 * c6_<id>: only IPv6 there. The prefix's bytes alone are loaded, masked
 * only when it ends inside a byte. The protocol is conntrack's, which
 * skips extension headers as the transport header's offset does: the
 * next-header field would let a packet with one past a deny rule, and
 * meta l4proto has a validate hook.
 */
static void
add_match6(struct layout_rb *b, const struct claim *cl)
{
	if (cl->plen > 0) {
		uint32_t len = (cl->plen + 7u) / 8;
		uint8_t mask[16];

		layout_prefix_mask6(cl->plen, mask);
		layout_rb_add(b, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 24, len));
		if (cl->plen % 8 != 0)
			layout_rb_add(b, expr_bitwise_and(mask, len));
		layout_rb_add(b, expr_cmp(NFT_CMP_EQ, cl->daddr6, len));
	}
	if (cl->proto != RULES_PROTO_ANY) {
		layout_rb_add(b, expr_ct_load(NFT_CT_PROTOCOL, NFT_REG_1));
		layout_rb_add(b, expr_cmp_u8(layout_proto_numbers[RULES_FAMILY_IPV6][cl->proto]));
	}
}

/* A rule by name: the destination is one of the addresses its set holds. */
static void
add_dname(struct layout_rb *b, const struct claim *cl)
{
	char set[LAYOUT_DSET_NAME_MAX];

	layout_dset_name(cl->family, cl->name_id, set);
	if (cl->family == RULES_FAMILY_IPV6)
		layout_rb_add(b, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 24, 16));
	else
		layout_rb_add(b, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 16, 4));
	layout_rb_add(b, expr_lookup(set, 0, false, 0));
}

struct nftnl_rule *
layout_claim_rule(const char *table, const char *chain, const struct claim *cl)
{
	struct layout_rb b = {.r = layout_rb_new(table, chain)};

	if (b.r == NULL)
		return NULL;
	switch (cl->kind) {
	case CLAIM_MATCH:
		if (cl->family == RULES_FAMILY_IPV6)
			add_match6(&b, cl);
		else
			add_match4(&b, cl);
		if (cl->has_port) {
			uint16_t lo = htons(cl->port_lo), hi = htons(cl->port_hi);

			layout_rb_add(&b, expr_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2));
			if (lo == hi)
				layout_rb_add(&b, expr_cmp(NFT_CMP_EQ, &lo, sizeof(lo)));
			else
				layout_rb_add(&b, expr_range(NFT_RANGE_EQ, &lo, &hi, sizeof(lo)));
		}
		if (cl->expires_at != 0)
			add_expiry(&b, cl->expires_at);
		if (cl->name_id != 0)
			add_dname(&b, cl);
		add_claim_tail(&b, cl->range_lo, cl->range_hi, cl->tag);
		if (!b.failed && !put_claim_udata(b.r, cl))
			b.failed = true;
		break;
	case CLAIM_DEFAULT:
		add_claim_tail(&b, cl->range_lo, cl->range_hi, cl->tag);
		break;
	default:
		b.failed = true;
	}
	return layout_rb_done(&b);
}

bool
layout_has_ipv6(const struct rules_container *c)
{
	size_t i;

	for (i = 0; i < c->nrules; i++)
		if (c->rules[i].family == RULES_FAMILY_IPV6 || c->rules[i].dname != NULL)
			return true;
	return false;
}

size_t
layout_nclaims(const struct rules_container *c)
{
	size_t i, n = 1; /* the default */

	for (i = 0; i < c->nrules; i++)
		n += (c->rules[i].nports ? c->rules[i].nports : 1) *
		     (c->rules[i].dname != NULL ? RULES_FAMILY_MAX : 1);
	return n;
}

/*
 * Rule i gets tag tag_base + i and the default tag_base + nrules. Rules
 * come deny first (canonical order), so a deny claims unless an earlier
 * deny did, and an allow claims unless any deny or earlier allow did:
 * any matching deny wins over every allow.
 */
size_t
layout_compile(const struct rules_container *c, uint32_t tag_base, const uint32_t *name_ids,
	       struct claim *out)
{
	size_t i, j, n = 0, ndeny = 0;

	for (i = 0; i < c->nrules; i++)
		ndeny += c->rules[i].action == RULES_ACTION_DENY;
	for (i = 0; i < c->nrules; i++) {
		const struct rules_rule *r = &c->rules[i];
		size_t items = r->nports ? r->nports : 1;
		size_t dlen = r->desc ? strlen(r->desc) : 0;

		/* a name's items twice: each family's chain matches its own set */
		if (r->dname != NULL)
			items *= RULES_FAMILY_MAX;
		for (j = 0; j < items; j++) {
			struct claim *cl = &out[n++];
			size_t k = r->nports ? j % r->nports : 0;

			memset(cl, 0, sizeof(*cl));
			cl->kind = CLAIM_MATCH;
			cl->family = r->dname == NULL		    ? r->family
				     : j < items / RULES_FAMILY_MAX ? RULES_FAMILY_IPV4
								    : RULES_FAMILY_IPV6;
			cl->name_id = r->dname != NULL && name_ids != NULL ? name_ids[i] : 0;
			cl->daddr = r->daddr;
			memcpy(cl->daddr6, r->daddr6, sizeof(cl->daddr6));
			cl->plen = r->plen;
			cl->proto = r->proto;
			cl->has_port = r->nports > 0;
			if (cl->has_port) {
				cl->port_lo = r->ports[k].lo;
				cl->port_hi = r->ports[k].hi;
			}
			cl->range_lo = tag_base;
			cl->range_hi =
				tag_base + (r->action == RULES_ACTION_DENY ? ndeny : c->nrules) - 1;
			cl->tag = tag_base + i;
			cl->expires_at = r->expires_at;
			cl->id = r->id;
			cl->id_len = strlen(r->id);
			if (j == 0) {
				cl->desc = r->desc;
				cl->desc_len = layout_desc_head_len(r->id, dlen);
			}
		}
	}
	memset(&out[n], 0, sizeof(out[n]));
	out[n].kind = CLAIM_DEFAULT;
	out[n].range_lo = tag_base;
	out[n].range_hi = tag_base + c->nrules;
	out[n].tag = tag_base + c->nrules;
	return n + 1;
}
