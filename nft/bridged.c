/*
 * Containers on a Linux bridge. The IP hooks see a bridged container's
 * packets as the bridge's, so the port has to be named before they get
 * there: a table of family bridge, named as ours, writes the port's id
 * into the packet mark at bridge prerouting, and the inet table's base
 * chain sends every packet with an id to the container chain b_<id>
 * through the map bports. b_<id> is the base chain's logic with the
 * port's name as a constant (layout.c), so a bridged container shares
 * its claims, tags, sets and counters with the routed path.
 *
 *   table bridge T:
 *     map ports: every attached container's interface : its id mark
 *     chain pre (prerouting, priority -200, policy accept):
 *       0 mark := iifname map @ports, goto ours (no element: next rule)
 *       1 iifname "PREFIX*": drop, one per --container-ifprefix
 *       2 mark field := EXEMPT (a port that is not a container's)
 *     set pinned, pin4, pin6: the ports with "addresses", and those
 *     chain ours:
 *       0 iifname @pinned: jump pins
 *       1-3 ARP, IPv4, IPv6: accept
 *       4 drop (VLAN tags and other ethertypes would pass the IP hooks by)
 *     chain pins: a pinned port claims nothing but its addresses
 *       0-3 ARP sender (0.0.0.0 for probes), IPv4 source, IPv6 source
 *         (link-local and :: aside), neighbour advertisement target
 *         (link-local aside) not its own: drop
 *       4 router advertisement: drop
 *   Every frame of a container pays two lookups here, and one more per
 *   packet in the IP hooks (bports); pins cost only pinned ports.
 *     chain fw (forward, priority -200, policy accept): the safety net
 *       0 no id: accept (not from a port, or the inet chain took it out)
 *       1 EXEMPT: clear the field, accept
 *       2 ARP: clear, accept
 *       3 neighbour solicitation/advertisement (hop limit 255): clear, accept
 *       4 drop: IP of a container that the IP hooks never saw, as when
 *         the bridge does not pass its frames to them (br_netfilter)
 *
 *   table inet T:
 *     pre 0: mark has an id: goto bridged
 *     chain bridged:
 *       0 ct direction reply: clear, accept
 *       1 mark field vmap @bports (goto b_<id>)
 *       2 EXEMPT: clear, accept
 *       3 drop (an id no container has: not enforced yet, or gone)
 *
 * The id is replaced whole, not ORed: frames from a veth arrive with
 * mark 0, as the kernel clears it crossing into the host namespace.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter_bridge.h>

#include "nft/expr.h"
#include "nft/layout.h"

const char *const layout_bchain_names[LAYOUT_BR_MAX] = {
	[LAYOUT_BR_PRE] = "pre",
	[LAYOUT_BR_OURS] = "ours",
	[LAYOUT_BR_PINS] = "pins",
	[LAYOUT_BR_FW] = "fw",
};

struct nftnl_table *
layout_btable(const char *table, uint32_t flags)
{
	struct nftnl_table *t = layout_table(table, flags);

	if (t != NULL)
		nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_BRIDGE);
	return t;
}

struct nftnl_chain *
layout_bchain(const char *table, enum layout_bchain which)
{
	struct nftnl_chain *ch = nftnl_chain_alloc();

	if (ch == NULL)
		return NULL;
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_FAMILY, NFPROTO_BRIDGE);
	if (nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, table) < 0 ||
	    nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, layout_bchain_names[which]) < 0)
		goto fail;
	if (which == LAYOUT_BR_OURS || which == LAYOUT_BR_PINS)
		return ch;
	/* before br_netfilter hands the frame to the IP hooks (priority 0) */
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_HOOKNUM,
			    which == LAYOUT_BR_PRE ? NF_BR_PRE_ROUTING : NF_BR_FORWARD);
	nftnl_chain_set_s32(ch, NFTNL_CHAIN_PRIO, NF_BR_PRI_FILTER_BRIDGED);
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	if (nftnl_chain_set_str(ch, NFTNL_CHAIN_TYPE, "filter") == 0)
		return ch;
fail:
	nftnl_chain_free(ch);
	return NULL;
}

int
layout_bchain_check(const struct nftnl_chain *ch, enum layout_bchain which)
{
	struct nftnl_chain *want = layout_bchain("", which);
	static const uint16_t attrs[] = {NFTNL_CHAIN_HOOKNUM, NFTNL_CHAIN_PRIO, NFTNL_CHAIN_POLICY};
	const char *ta, *tb;
	bool eq = want != NULL;
	size_t i;

	for (i = 0; eq && i < sizeof(attrs) / sizeof(attrs[0]); i++)
		eq = nftnl_chain_is_set(ch, attrs[i]) == nftnl_chain_is_set(want, attrs[i]) &&
		     (!nftnl_chain_is_set(ch, attrs[i]) ||
		      nftnl_chain_get_u32(ch, attrs[i]) == nftnl_chain_get_u32(want, attrs[i]));
	if (eq && nftnl_chain_is_set(want, NFTNL_CHAIN_TYPE)) {
		ta = nftnl_chain_get_str(ch, NFTNL_CHAIN_TYPE);
		tb = nftnl_chain_get_str(want, NFTNL_CHAIN_TYPE);
		eq = ta != NULL && strcmp(ta, tb) == 0;
	}
	if (want != NULL)
		nftnl_chain_free(want);
	return eq ? 0 : -EBADMSG;
}

unsigned int
layout_bchain_nrules(const struct nft_options *o, enum layout_bchain which)
{
	return which == LAYOUT_BR_PRE ? 2 + o->nifprefix : 5;
}

/* The mark's field replaced by value (0: taken out). */
static void
add_field_set(struct layout_rb *b, uint32_t value)
{
	layout_rb_add(b, expr_meta(NFT_META_MARK, NFT_REG_1));
	layout_rb_add(b, expr_bitwise_mask_xor(~LAYOUT_MARK_FIELD, value));
	layout_rb_add(b, expr_meta_set_mark());
}

/* The mark's field is value. */
static void
add_field_is(struct layout_rb *b, uint32_t field, uint32_t value)
{
	layout_rb_add(b, expr_meta(NFT_META_MARK, NFT_REG_1));
	layout_rb_add(b, expr_bitwise_and(&field, sizeof(field)));
	layout_rb_add(b, expr_cmp(NFT_CMP_EQ, &value, sizeof(value)));
}

static void
add_ethertype(struct layout_rb *b, uint16_t type)
{
	uint16_t be = htons(type);

	layout_rb_add(b, expr_payload(NFT_PAYLOAD_LL_HEADER, 12, 2));
	layout_rb_add(b, expr_cmp(NFT_CMP_EQ, &be, sizeof(be)));
}

/* An IPv6 neighbour solicitation or advertisement, as a bridge chain sees it. */
static void
add_bnd(struct layout_rb *b)
{
	uint8_t icmpv6 = 58, hops = 255, nd_lo = 135, nd_hi = 136;

	add_ethertype(b, ETH_P_IPV6);
	layout_rb_add(b, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 6, 1));
	layout_rb_add(b, expr_cmp(NFT_CMP_EQ, &icmpv6, 1));
	layout_rb_add(b, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 7, 1));
	layout_rb_add(b, expr_cmp(NFT_CMP_EQ, &hops, 1));
	layout_rb_add(b, expr_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1));
	layout_rb_add(b, expr_range(NFT_RANGE_EQ, &nd_lo, &nd_hi, 1));
}

static void
add_bpre(struct layout_rb *b, const struct nft_options *o, unsigned int i)
{
	const char *ports = layout_set_names[LAYOUT_SET_PORTS];

	if (i == 0) {
		/* one lookup: the id, and whether it is a container's port */
		layout_rb_add(b, expr_meta(NFT_META_IIFNAME, NFT_REG_1));
		layout_rb_add(b, expr_lookup(ports, NFT_REG_1, true, 0));
		layout_rb_add(b, expr_meta_set_mark());
		layout_rb_add(b, expr_goto(layout_bchain_names[LAYOUT_BR_OURS]));
	} else if (i <= o->nifprefix) {
		const char *prefix = o->ifprefix[i - 1];

		/* a container port no container owns yet: nothing passes */
		layout_rb_add(b, expr_meta(NFT_META_IIFNAME, NFT_REG_1));
		layout_rb_add(b, expr_cmp(NFT_CMP_EQ, prefix, strlen(prefix)));
		layout_rb_add(b, expr_verdict(NF_DROP));
	} else {
		add_field_set(b, LAYOUT_MARK_EXEMPT);
	}
}

/* The address at offset of base is not the port's: iifname . it not in set. */
static void
add_not_pinned(struct layout_rb *b, uint32_t base, uint32_t offset, uint32_t len,
	       enum layout_set set)
{
	layout_rb_add(b, expr_meta(NFT_META_IIFNAME, NFT_REG_1));
	layout_rb_add(b, expr_payload_to(base, offset, len, NFT_REG_2));
	layout_rb_add(b, expr_lookup(layout_set_names[set], 0, false, NFT_LOOKUP_F_INV));
}

/* The IPv6 address at offset of base is not link-local (fe80::/10). */
static void
add_not_link_local(struct layout_rb *b, uint32_t base, uint32_t offset)
{
	uint16_t mask = htons(0xffc0), ll = htons(0xfe80);

	layout_rb_add(b, expr_payload(base, offset, 2));
	layout_rb_add(b, expr_bitwise_and(&mask, sizeof(mask)));
	layout_rb_add(b, expr_cmp(NFT_CMP_NEQ, &ll, sizeof(ll)));
}

static void
add_icmpv6_type(struct layout_rb *b, uint8_t type)
{
	uint8_t icmpv6 = IPPROTO_ICMPV6;

	add_ethertype(b, ETH_P_IPV6);
	layout_rb_add(b, expr_meta(NFT_META_L4PROTO, NFT_REG_1));
	layout_rb_add(b, expr_cmp(NFT_CMP_EQ, &icmpv6, 1));
	layout_rb_add(b, expr_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1));
	layout_rb_add(b, expr_cmp(NFT_CMP_EQ, &type, 1));
}

/* Rule i of pins, where only pinned ports go; each drops. */
static void
add_pin(struct layout_rb *b, unsigned int i)
{
	static const uint8_t zero[16];

	switch (i) {
	case 0: /* ARP sender */
		add_ethertype(b, ETH_P_ARP);
		add_not_pinned(b, NFT_PAYLOAD_NETWORK_HEADER, 14, 4, LAYOUT_SET_PIN4);
		layout_rb_add(b, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 14, 4));
		layout_rb_add(b, expr_cmp(NFT_CMP_NEQ, zero, 4));
		break;
	case 1: /* IPv4 source */
		add_ethertype(b, ETH_P_IP);
		add_not_pinned(b, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, LAYOUT_SET_PIN4);
		break;
	case 2: /* IPv6 source, but for link-local and duplicate address detection's :: */
		add_ethertype(b, ETH_P_IPV6);
		add_not_link_local(b, NFT_PAYLOAD_NETWORK_HEADER, 8);
		layout_rb_add(b, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 8, 16));
		layout_rb_add(b, expr_cmp(NFT_CMP_NEQ, zero, 16));
		add_not_pinned(b, NFT_PAYLOAD_NETWORK_HEADER, 8, 16, LAYOUT_SET_PIN6);
		break;
	case 3: /* the target a neighbour advertisement answers for */
		add_icmpv6_type(b, 136);
		add_not_link_local(b, NFT_PAYLOAD_TRANSPORT_HEADER, 8);
		add_not_pinned(b, NFT_PAYLOAD_TRANSPORT_HEADER, 8, 16, LAYOUT_SET_PIN6);
		break;
	default: /* a router advertisement would make peers route through it */
		add_icmpv6_type(b, 134);
	}
	layout_rb_add(b, expr_verdict(NF_DROP));
}

static void
add_bours(struct layout_rb *b, unsigned int i)
{
	static const uint16_t types[3] = {ETH_P_ARP, ETH_P_IP, ETH_P_IPV6};

	if (i == 0) {
		/* unpinned ports, nearly all, pay one lookup for the pins */
		layout_rb_add(b, expr_meta(NFT_META_IIFNAME, NFT_REG_1));
		layout_rb_add(b, expr_lookup(layout_set_names[LAYOUT_SET_PINNED], 0, false, 0));
		layout_rb_add(b, expr_jump(layout_bchain_names[LAYOUT_BR_PINS]));
	} else if (i <= 3) {
		add_ethertype(b, types[i - 1]);
		layout_rb_add(b, expr_verdict(NF_ACCEPT));
	} else {
		layout_rb_add(b, expr_verdict(NF_DROP));
	}
}

static void
add_bfw(struct layout_rb *b, unsigned int i)
{
	switch (i) {
	case 0:
		add_field_is(b, LAYOUT_MARK_VALID, 0);
		layout_rb_add(b, expr_verdict(NF_ACCEPT));
		return;
	case 1:
		add_field_is(b, LAYOUT_MARK_FIELD, LAYOUT_MARK_EXEMPT);
		break;
	case 2:
		add_ethertype(b, ETH_P_ARP);
		break;
	case 3:
		add_bnd(b);
		break;
	default:
		layout_rb_add(b, expr_verdict(NF_DROP));
		return;
	}
	add_field_set(b, 0);
	layout_rb_add(b, expr_verdict(NF_ACCEPT));
}

struct nftnl_rule *
layout_bchain_rule(const char *table, const struct nft_options *o, enum layout_bchain which,
		   unsigned int i)
{
	struct layout_rb b = {
		.r = layout_rb_new_family(NFPROTO_BRIDGE, table, layout_bchain_names[which])};

	if (b.r == NULL)
		return NULL;
	if (i >= layout_bchain_nrules(o, which)) {
		nftnl_rule_free(b.r);
		return NULL;
	}
	if (which == LAYOUT_BR_PRE)
		add_bpre(&b, o, i);
	else if (which == LAYOUT_BR_OURS)
		add_bours(&b, i);
	else if (which == LAYOUT_BR_PINS)
		add_pin(&b, i);
	else
		add_bfw(&b, i);
	return layout_rb_done(&b);
}

struct nftnl_rule *
layout_bridged_rule(const char *table, unsigned int i)
{
	struct layout_rb b = {.r = layout_rb_new(table, LAYOUT_BRIDGED_CHAIN)};
	uint8_t reply = IP_CT_DIR_REPLY;
	uint32_t field = LAYOUT_MARK_FIELD;

	if (b.r == NULL)
		return NULL;
	switch (i) {
	case 0:
		layout_rb_add(&b, expr_ct_load(NFT_CT_DIRECTION, NFT_REG_1));
		layout_rb_add(&b, expr_cmp(NFT_CMP_EQ, &reply, sizeof(reply)));
		add_field_set(&b, 0);
		layout_rb_add(&b, expr_verdict(NF_ACCEPT));
		break;
	case 1:
		/* containers first: EXEMPT has no element */
		layout_rb_add(&b, expr_meta(NFT_META_MARK, NFT_REG_1));
		layout_rb_add(&b, expr_bitwise_and(&field, sizeof(field)));
		layout_rb_add(&b, expr_lookup(layout_set_names[LAYOUT_SET_BPORTS], NFT_REG_VERDICT,
					      true, 0));
		break;
	case 2:
		add_field_is(&b, LAYOUT_MARK_FIELD, LAYOUT_MARK_EXEMPT);
		add_field_set(&b, 0);
		layout_rb_add(&b, expr_verdict(NF_ACCEPT));
		break;
	case 3:
		layout_rb_add(&b, expr_verdict(NF_DROP));
		break;
	default:
		nftnl_rule_free(b.r);
		return NULL;
	}
	return layout_rb_done(&b);
}

struct nftnl_set_elem *
layout_ports_elem(const char *ifname, uint16_t port)
{
	struct nftnl_set_elem *e = layout_ifname_elem(ifname);
	uint32_t mark = layout_port_mark(port);

	if (e != NULL && nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, &mark, sizeof(mark)) < 0) {
		nftnl_set_elem_free(e);
		return NULL;
	}
	return e;
}

struct nftnl_set_elem *
layout_pin_elem(const char *ifname, uint8_t family, const uint8_t *addr)
{
	char key[IFNAMSIZ + 16] = {0};
	size_t alen = family == RULES_FAMILY_IPV6 ? 16 : 4;
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	if (e == NULL)
		return NULL;
	strncpy(key, ifname, IFNAMSIZ - 1);
	memcpy(key + IFNAMSIZ, addr, alen);
	if (nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, IFNAMSIZ + alen) < 0) {
		nftnl_set_elem_free(e);
		return NULL;
	}
	return e;
}

struct nftnl_set_elem *
layout_bports_elem(uint16_t port, const char *chain)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	uint32_t mark = layout_port_mark(port);

	if (e == NULL)
		return NULL;
	if (nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &mark, sizeof(mark)) < 0)
		goto fail;
	if (chain == NULL)
		return e;
	nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, NFT_GOTO);
	if (nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, chain) == 0)
		return e;
fail:
	nftnl_set_elem_free(e);
	return NULL;
}
