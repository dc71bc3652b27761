/*
 * The layout of the program's table, built with libnftnl. Everything
 * the table contains is made here and in claim.c, so that recognise.c
 * can check what a dump reads back against what we would have written.
 *
 *   chain pre (prerouting, priority filter, policy accept):
 *     0 the mark holds a bridge port's id: goto bridged (bridged.c)
 *     1 ct direction reply: accept (answers to connections towards it;
 *       early, so that replies of every flow cost two comparisons)
 *     2 iifname . ct mark @allow, not an expected connection: accept
 *     3 in from a bridge without an id, not the host's own multicast
 *       looped back: drop (the id was lost to a rewrite of the mark)
 *     4 iifname not @attached: accept (not a container: not ours)
 *     5 iifname . ct mark @deny: drop
 *     6 IPv6 neighbour solicitation/advertisement to the host: accept
 *     7 the same to link-local multicast: accept
 *     8 expected connection: ct mark set 0 (forget the master's tag)
 *     9 IPv4: iifname vmap @dispatch (jump to the container chain c_<id>)
 *    10 IPv6: ct mark set iifname map @deftag (the default's tag), then
 *       iifname vmap @dispatch6 (jump to c6_<id>, which only containers
 *       with IPv6 rules have; without one the default stands)
 *    11 iifname . ct mark @allow: accept
 *    12 iifname . ct mark @deny: drop
 *    13 drop (a container packet nothing claimed, e.g. untracked)
 *   A bridged container's chain b_<id> is rules 2, 5 and 8-13 with its
 *   port's name for iifname, neighbour discovery to any address (its
 *   peers are on the link), and every accept taking the id out of the
 *   mark; with a resolver, the resolver's rule after rule 2, which keeps
 *   it there for the resolver to read.
 *   With --container-ifprefix, one rule per prefix after rule 3:
 *     iifname "PREFIX*" not @attached: drop (a container not registered)
 *   With a resolver, after rule 4: a connection the dns chain redirected
 *     (ct status dnat, original port 53, reply from the resolver's port)
 *     from an interface of @dns: accept. Only the resolver answers it.
 *
 *   chain dns (nat prerouting, priority -101), with a resolver: UDP and
 *     TCP port 53 from an interface of @dns (a container with rules by
 *     name), or with a port id of @dnsb in the mark (such a container on
 *     a bridge): redirect to the resolver's port, whatever the
 *     destination.
 *   With the drop log, each drop above but the prefixes' is a goto to
 *
 *   chain drops: update @droprate { iifname limit rate N/second },
 *     limit (host-wide), meta mark set ct mark (the tag, for the
 *     reader), log group G; then drop. The limits are checked in the
 *     kernel: a flood costs the agent nothing.
 *
 *   chain c_<id>: the claims of the container's IPv4 rules, then the
 *   default's; chain c6_<id>: the claims of its IPv6 rules. See struct
 *   claim (layout.h) and claim.c. A claim writes its tag unless the mark
 *   holds one of higher precedence, and the default's tag has the
 *   lowest, so rule 8 writing it first is the same as c_<id> ending
 *   with it.
 *
 *   Why a chain per family: IPv4 claims read IPv4 header offsets and test
 *   no family, since only IPv4 reaches c_<id>; they stay as they are. A
 *   family test in every claim would add two expressions to each, IPv4's
 *   too (meta nfproto has a validate hook, so ct l3proto), and the kernel
 *   pays per expression on every apply, dump and commit. A chain c6_<id>
 *   costs a chain and a jump element for containers that have IPv6 rules,
 *   and nothing for the others; its jump makes the kernel validate the
 *   table when the first IPv6 rule comes, as an attach does, not at each
 *   change after it.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include "nft/expr.h"
#include "nft/layout.h"

const char *const layout_set_names[LAYOUT_SET_MAX] = {
	[LAYOUT_SET_ALLOW] = "allow",	    [LAYOUT_SET_DENY] = "deny",
	[LAYOUT_SET_ATTACHED] = "attached", [LAYOUT_SET_DEFTAG] = "deftag",
	[LAYOUT_SET_DISPATCH] = "dispatch", [LAYOUT_SET_DISPATCH6] = "dispatch6",
	[LAYOUT_SET_DNS] = "dns",	    [LAYOUT_SET_PORTS] = "ports",
	[LAYOUT_SET_BPORTS] = "bports",	    [LAYOUT_SET_DNSB] = "dnsb",
	[LAYOUT_SET_PINNED] = "pinned",	    [LAYOUT_SET_PIN4] = "pin4",
	[LAYOUT_SET_PIN6] = "pin6",
};

/* nft's userdata type for a table's comment */
#define NFT_UDATA_TABLE_COMMENT 0

void
layout_chain_name(const char *container_id, char buf[LAYOUT_CHAIN_NAME_MAX + 1])
{
	strcpy(buf, LAYOUT_CHAIN_PREFIX);
	strcat(buf, container_id);
}

void
layout_chain6_name(const char *container_id, char buf[LAYOUT_CHAIN_NAME_MAX + 1])
{
	strcpy(buf, LAYOUT_CHAIN6_PREFIX);
	strcat(buf, container_id);
}

void
layout_bchain_name(const char *container_id, char buf[LAYOUT_CHAIN_NAME_MAX + 1])
{
	strcpy(buf, LAYOUT_BCHAIN_PREFIX);
	strcat(buf, container_id);
}

uint8_t
layout_chain_family(const char *chain)
{
	return strncmp(chain, LAYOUT_CHAIN6_PREFIX, strlen(LAYOUT_CHAIN6_PREFIX)) == 0
		       ? RULES_FAMILY_IPV6
		       : RULES_FAMILY_IPV4;
}

const char *
layout_chain_container(const char *chain)
{
	static const char *const prefixes[] = {LAYOUT_CHAIN_PREFIX, LAYOUT_CHAIN6_PREFIX,
					       LAYOUT_BCHAIN_PREFIX};
	size_t i, n;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		n = strlen(prefixes[i]);
		if (strncmp(chain, prefixes[i], n) == 0 && rules_id_valid(chain + n))
			return chain + n;
	}
	return NULL;
}

void
layout_rb_add(struct layout_rb *b, struct nftnl_expr *e)
{
	if (e == NULL) {
		b->failed = true;
		return;
	}
	nftnl_rule_add_expr(b->r, e); /* takes e */
}

struct nftnl_rule *
layout_rb_new(const char *table, const char *chain)
{
	return layout_rb_new_family(NFPROTO_INET, table, chain);
}

struct nftnl_rule *
layout_rb_new_family(uint8_t family, const char *table, const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (r == NULL)
		return NULL;
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, family);
	if (nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table) < 0 ||
	    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain) < 0) {
		nftnl_rule_free(r);
		return NULL;
	}
	return r;
}

struct nftnl_rule *
layout_rb_done(struct layout_rb *b)
{
	if (b->failed) {
		nftnl_rule_free(b->r);
		return NULL;
	}
	return b->r;
}

/*
 * The interface into register 1: the one the packet came in on, or for
 * a bridged container's chain (ifname not NULL) its port, which the IP
 * hooks see only as the bridge.
 */
static void
add_ifname(struct layout_rb *b, const char *ifname)
{
	char key[IFNAMSIZ] = {0};

	if (ifname == NULL) {
		layout_rb_add(b, expr_meta(NFT_META_IIFNAME, NFT_REG_1));
		return;
	}
	strncpy(key, ifname, sizeof(key) - 1);
	layout_rb_add(b, expr_imm_data(key, sizeof(key)));
}

/* iifname . ct mark: the key of the allow and deny sets, in registers 1-2 */
static void
add_ifname_mark(struct layout_rb *b, const char *ifname)
{
	add_ifname(b, ifname);
	layout_rb_add(b, expr_ct_load(NFT_CT_MARK, NFT_REG_2));
}

/* Accept; a bridged packet leaves without the port's id (see LAYOUT_MARK_FIELD). */
static void
add_accept(struct layout_rb *b, bool bridged)
{
	if (bridged) {
		layout_rb_add(b, expr_meta(NFT_META_MARK, NFT_REG_1));
		layout_rb_add(b, expr_bitwise_mask_xor(~LAYOUT_MARK_FIELD, 0));
		layout_rb_add(b, expr_meta_set_mark());
	}
	layout_rb_add(b, expr_verdict(NF_ACCEPT));
}

static void
add_nd(struct layout_rb *b)
{
	uint8_t ipv6 = NFPROTO_IPV6, icmpv6 = IPPROTO_ICMPV6, hops = 255;
	uint8_t nd_lo = 135, nd_hi = 136; /* neighbour solicitation, advertisement */

	layout_rb_add(b, expr_meta(NFT_META_NFPROTO, NFT_REG_1));
	layout_rb_add(b, expr_cmp(NFT_CMP_EQ, &ipv6, 1));
	layout_rb_add(b, expr_meta(NFT_META_L4PROTO, NFT_REG_1));
	layout_rb_add(b, expr_cmp(NFT_CMP_EQ, &icmpv6, 1));
	layout_rb_add(b, expr_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1));
	layout_rb_add(b, expr_range(NFT_RANGE_EQ, &nd_lo, &nd_hi, 1));
	/* hop limit 255: neighbour discovery never crosses a router */
	layout_rb_add(b, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 7, 1));
	layout_rb_add(b, expr_cmp(NFT_CMP_EQ, &hops, 1));
}

/*
 * The base chain's rules in order; the prefix rules (one per
 * --container-ifprefix) come right after the fast path.
 */
enum base_kind {
	BASE_BRIDGED,
	BASE_REPLY,
	BASE_ALLOW_FAST,
	BASE_NO_ID,
	BASE_PREFIX,
	BASE_FOREIGN,
	BASE_DNS,
	BASE_DENY,
	BASE_ND_LOCAL,
	BASE_ND_MCAST,
	BASE_EXPECTED,
	BASE_DISPATCH,
	BASE_DEFTAG6,
	BASE_ALLOW,
	BASE_DENY_AGAIN,
	BASE_DROP,
	BASE_ND_ANY, /* b_<id> only: its peers are on the link */
};
/* the number of kinds of the base chain but BASE_PREFIX and BASE_DNS */
#define BASE_FIXED (BASE_DROP - 1)

/* The rules of a bridged container's chain b_<id>: the base chain's, for
 * one port; BASE_DNS only with a resolver. */
static const enum base_kind bport_kinds[] = {
	BASE_ALLOW_FAST, BASE_DNS,     BASE_DENY,  BASE_ND_ANY,	    BASE_EXPECTED,
	BASE_DISPATCH,	 BASE_DEFTAG6, BASE_ALLOW, BASE_DENY_AGAIN, BASE_DROP,
};

unsigned int
layout_base_nrules(const struct nft_options *o)
{
	return BASE_FIXED + o->nifprefix + (o->dns_port != 0);
}

static enum base_kind
base_kind(const struct nft_options *o, unsigned int i, unsigned int *prefix)
{
	if (i < BASE_PREFIX)
		return i;
	if (i < BASE_PREFIX + o->nifprefix) {
		*prefix = i - BASE_PREFIX;
		return BASE_PREFIX;
	}
	i = i - o->nifprefix + 1;
	/* the resolver's rule only with a resolver */
	return i < BASE_DNS || o->dns_port != 0 ? i : i + 1;
}

/* A packet the table drops: through the drop log when there is one. */
static void
add_drop(struct layout_rb *b, const struct nft_options *o)
{
	if (o->log_rate > 0)
		layout_rb_add(b, expr_goto(LAYOUT_DROP_CHAIN));
	else
		layout_rb_add(b, expr_verdict(NF_DROP));
}

/* The options the table was built with ride on its first rule. */
static bool
put_options_udata(struct nftnl_rule *r, const struct nft_options *o)
{
	struct nftnl_udata_buf *u;
	uint32_t log[2] = {o->log_rate, o->log_group};
	unsigned int i;
	bool ok;

	if (o->nifprefix == 0 && o->log_rate == 0 && o->dns_port == 0)
		return true;
	u = nftnl_udata_buf_alloc(LAYOUT_RULE_UDATA_MAX);
	if (u == NULL)
		return false;
	ok = o->log_rate == 0 || nftnl_udata_put(u, LAYOUT_UDATA_DROPLOG, sizeof(log), log);
	ok = ok && (o->dns_port == 0 ||
		    nftnl_udata_put(u, LAYOUT_UDATA_DNS, sizeof(o->dns_port), &o->dns_port));
	for (i = 0; ok && i < o->nifprefix; i++)
		ok = nftnl_udata_put(u, LAYOUT_UDATA_IFPREFIX, strlen(o->ifprefix[i]),
				     o->ifprefix[i]);
	ok = ok && nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u),
				       nftnl_udata_buf_len(u)) == 0;
	nftnl_udata_buf_free(u);
	return ok;
}

bool
nft_options_equal(const struct nft_options *a, const struct nft_options *b)
{
	unsigned int i;

	if (a->nifprefix != b->nifprefix || a->log_rate != b->log_rate ||
	    (a->log_rate > 0 && a->log_group != b->log_group) || a->dns_port != b->dns_port)
		return false;
	for (i = 0; i < a->nifprefix; i++)
		if (strcmp(a->ifprefix[i], b->ifprefix[i]) != 0)
			return false;
	return true;
}

/*
 * Rule kind k of the base chain, or for a bridged container's chain
 * when ifname (its port) is not NULL; prefix: which --container-ifprefix.
 */
static void
add_kind(struct layout_rb *rb, const struct nft_options *o, enum base_kind k, unsigned int prefix,
	 const char *ifname)
{
	uint32_t expected = IPS_EXPECTED, zero = 0, local = RTN_LOCAL;
	uint8_t reply = IP_CT_DIR_REPLY, ipv4 = NFPROTO_IPV4, ipv6 = NFPROTO_IPV6;
	uint16_t ff02 = htons(0xff02);
	const char *const *sets = layout_set_names;
	bool bridged = ifname != NULL;
	struct layout_rb b = *rb;

	switch (k) {
	case BASE_BRIDGED: {
		/* From a bridge port: the bridge table's id decides (bridged.c) */
		uint32_t valid = LAYOUT_MARK_VALID;

		layout_rb_add(&b, expr_meta(NFT_META_MARK, NFT_REG_1));
		layout_rb_add(&b, expr_bitwise_and(&valid, sizeof(valid)));
		layout_rb_add(&b, expr_cmp(NFT_CMP_EQ, &valid, sizeof(valid)));
		layout_rb_add(&b, expr_goto(LAYOUT_BRIDGED_CHAIN));
		break;
	}
	case BASE_REPLY:
		/* Our claims mark only original-direction packets: a reply
		 * never carries a container's verdict. */
		layout_rb_add(&b, expr_ct_load(NFT_CT_DIRECTION, NFT_REG_1));
		layout_rb_add(&b, expr_cmp(NFT_CMP_EQ, &reply, sizeof(reply)));
		layout_rb_add(&b, expr_verdict(NF_ACCEPT));
		break;
	case BASE_NO_ID: {
		/* In from a bridge without an id: someone rewrote the mark
		 * between the two tables, or the bridge table is gone. The
		 * host's own multicast, looped back, never crossed it. */
		char kind[IFNAMSIZ] = "bridge";

		layout_rb_add(&b, expr_meta(NFT_META_IIFKIND, NFT_REG_1));
		layout_rb_add(&b, expr_cmp(NFT_CMP_EQ, kind, sizeof(kind)));
		layout_rb_add(&b, expr_fib_saddr_type());
		layout_rb_add(&b, expr_cmp(NFT_CMP_NEQ, &local, sizeof(local)));
		layout_rb_add(&b, expr_verdict(NF_DROP));
		break;
	}
	case BASE_ALLOW_FAST:
		/* Fast path. Expected connections inherit their master's mark:
		 * they must be checked on their own. */
		add_ifname_mark(&b, ifname);
		layout_rb_add(&b, expr_lookup(sets[LAYOUT_SET_ALLOW], 0, false, 0));
		layout_rb_add(&b, expr_ct_load(NFT_CT_STATUS, NFT_REG_1));
		layout_rb_add(&b, expr_bitwise_and(&expected, sizeof(expected)));
		layout_rb_add(&b, expr_cmp(NFT_CMP_EQ, &zero, sizeof(zero)));
		add_accept(&b, bridged);
		break;
	case BASE_PREFIX:
		/* A container interface no container owns yet: nothing passes. */
		layout_rb_add(&b, expr_meta(NFT_META_IIFNAME, NFT_REG_1));
		layout_rb_add(
			&b, expr_cmp(NFT_CMP_EQ, o->ifprefix[prefix], strlen(o->ifprefix[prefix])));
		layout_rb_add(&b,
			      expr_lookup(sets[LAYOUT_SET_ATTACHED], 0, false, NFT_LOOKUP_F_INV));
		layout_rb_add(&b, expr_verdict(NF_DROP));
		break;
	case BASE_FOREIGN:
		layout_rb_add(&b, expr_meta(NFT_META_IIFNAME, NFT_REG_1));
		layout_rb_add(&b,
			      expr_lookup(sets[LAYOUT_SET_ATTACHED], 0, false, NFT_LOOKUP_F_INV));
		layout_rb_add(&b, expr_verdict(NF_ACCEPT));
		break;
	case BASE_DNS: {
		/* A container's query the dns chain redirected to the
		 * resolver: neither its rules nor its default decide it. A
		 * bridged one keeps its port's id in the mark: that is how the
		 * resolver tells who asked (SO_RCVMARK). */
		uint32_t dnat = IPS_DST_NAT;
		uint16_t dport = htons(53), port = htons(o->dns_port);

		layout_rb_add(&b, expr_ct_load(NFT_CT_STATUS, NFT_REG_1));
		layout_rb_add(&b, expr_bitwise_and(&dnat, sizeof(dnat)));
		layout_rb_add(&b, expr_cmp(NFT_CMP_EQ, &dnat, sizeof(dnat)));
		layout_rb_add(&b,
			      expr_ct_load_dir(NFT_CT_PROTO_DST, IP_CT_DIR_ORIGINAL, NFT_REG_1));
		layout_rb_add(&b, expr_cmp(NFT_CMP_EQ, &dport, sizeof(dport)));
		layout_rb_add(&b, expr_ct_load_dir(NFT_CT_PROTO_SRC, IP_CT_DIR_REPLY, NFT_REG_1));
		layout_rb_add(&b, expr_cmp(NFT_CMP_EQ, &port, sizeof(port)));
		add_ifname(&b, ifname);
		layout_rb_add(&b, expr_lookup(sets[LAYOUT_SET_DNS], 0, false, 0));
		layout_rb_add(&b, expr_verdict(NF_ACCEPT));
		break;
	}
	case BASE_DENY:
	case BASE_DENY_AGAIN:
		add_ifname_mark(&b, ifname);
		layout_rb_add(&b, expr_lookup(sets[LAYOUT_SET_DENY], 0, false, 0));
		add_drop(&b, o);
		break;
	case BASE_ND_LOCAL:
		add_nd(&b);
		layout_rb_add(&b, expr_fib_daddr_type());
		layout_rb_add(&b, expr_cmp(NFT_CMP_EQ, &local, sizeof(local)));
		layout_rb_add(&b, expr_verdict(NF_ACCEPT));
		break;
	case BASE_ND_MCAST:
		add_nd(&b);
		layout_rb_add(&b, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 24, 2));
		layout_rb_add(&b, expr_cmp(NFT_CMP_EQ, &ff02, sizeof(ff02)));
		layout_rb_add(&b, expr_verdict(NF_ACCEPT));
		break;
	case BASE_EXPECTED:
		/* Expected connections (conntrack helpers) inherit their
		 * master's mark: make them earn a tag of their own. */
		layout_rb_add(&b, expr_ct_load(NFT_CT_STATUS, NFT_REG_1));
		layout_rb_add(&b, expr_bitwise_and(&expected, sizeof(expected)));
		layout_rb_add(&b, expr_cmp(NFT_CMP_EQ, &expected, sizeof(expected)));
		layout_rb_add(&b, expr_imm_data(&zero, sizeof(zero)));
		layout_rb_add(&b, expr_ct_set_mark());
		break;
	case BASE_DISPATCH:
		layout_rb_add(&b, expr_meta(NFT_META_NFPROTO, NFT_REG_1));
		layout_rb_add(&b, expr_cmp(NFT_CMP_EQ, &ipv4, 1));
		add_ifname(&b, ifname);
		layout_rb_add(&b, expr_lookup(sets[LAYOUT_SET_DISPATCH], NFT_REG_VERDICT, true, 0));
		break;
	case BASE_DEFTAG6:
		/* The default first: the IPv6 claims, when the container has
		 * any, overwrite it as their precedence says. One rule, so that
		 * IPv4 packets test the family once, as before. */
		layout_rb_add(&b, expr_meta(NFT_META_NFPROTO, NFT_REG_1));
		layout_rb_add(&b, expr_cmp(NFT_CMP_EQ, &ipv6, 1));
		add_ifname(&b, ifname);
		layout_rb_add(&b, expr_lookup(sets[LAYOUT_SET_DEFTAG], NFT_REG_1, true, 0));
		layout_rb_add(&b, expr_ct_set_mark());
		add_ifname(&b, ifname);
		layout_rb_add(&b,
			      expr_lookup(sets[LAYOUT_SET_DISPATCH6], NFT_REG_VERDICT, true, 0));
		break;
	case BASE_ALLOW:
		add_ifname_mark(&b, ifname);
		layout_rb_add(&b, expr_lookup(sets[LAYOUT_SET_ALLOW], 0, false, 0));
		add_accept(&b, bridged);
		break;
	case BASE_DROP:
		add_drop(&b, o);
		break;
	case BASE_ND_ANY:
		add_nd(&b);
		add_accept(&b, bridged);
		break;
	}
	*rb = b;
}

struct nftnl_rule *
layout_base_rule(const char *table, const struct nft_options *o, unsigned int i)
{
	struct layout_rb b = {.r = layout_rb_new(table, LAYOUT_BASE_CHAIN)};
	unsigned int prefix = 0;
	enum base_kind k;

	if (b.r == NULL)
		return NULL;
	if (i >= layout_base_nrules(o)) {
		nftnl_rule_free(b.r);
		return NULL;
	}
	k = base_kind(o, i, &prefix);
	add_kind(&b, o, k, prefix, NULL);
	/* the options the table was built with ride on its first rule */
	if (i == 0 && !b.failed && !put_options_udata(b.r, o))
		b.failed = true;
	return layout_rb_done(&b);
}

unsigned int
layout_bport_nrules(const struct nft_options *o)
{
	return sizeof(bport_kinds) / sizeof(bport_kinds[0]) - (o->dns_port == 0);
}

struct nftnl_rule *
layout_bport_rule(const char *table, const struct nft_options *o, const char *chain,
		  const char *ifname, unsigned int i)
{
	struct layout_rb b = {.r = layout_rb_new(table, chain)};

	if (b.r == NULL)
		return NULL;
	if (i >= layout_bport_nrules(o)) {
		nftnl_rule_free(b.r);
		return NULL;
	}
	/* without a resolver, BASE_DNS (second) is left out */
	add_kind(&b, o, bport_kinds[i == 0 || o->dns_port != 0 ? i : i + 1], 0, ifname);
	return layout_rb_done(&b);
}

struct nftnl_rule *
layout_drop_rule(const char *table, const struct nft_options *o, unsigned int i)
{
	struct layout_rb b = {.r = layout_rb_new(table, LAYOUT_DROP_CHAIN)};

	if (b.r == NULL)
		return NULL;
	switch (i) {
	case 0:
		/* Over either limit the rule stops here and the next drops. */
		layout_rb_add(&b, expr_meta(NFT_META_IIFNAME, NFT_REG_1));
		layout_rb_add(&b, expr_dynset_limit(LAYOUT_DROP_SET, o->log_rate));
		layout_rb_add(&b, expr_limit(LAYOUT_DROP_HOST_RATE));
		layout_rb_add(&b, expr_ct_load(NFT_CT_MARK, NFT_REG_1));
		layout_rb_add(
			&b,
			expr_meta_set_mark()); /* the packet is dropped: the mark only informs */
		layout_rb_add(&b, expr_log(o->log_group, LAYOUT_DROP_SNAPLEN));
		break;
	case 1:
		layout_rb_add(&b, expr_verdict(NF_DROP));
		break;
	default:
		nftnl_rule_free(b.r);
		return NULL;
	}
	return layout_rb_done(&b);
}

struct nftnl_table *
layout_table(const char *table, uint32_t flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(LAYOUT_RULE_UDATA_MAX);
	bool ok;

	ok = t != NULL && u != NULL && nftnl_table_set_str(t, NFTNL_TABLE_NAME, table) == 0 &&
	     nftnl_udata_put_strz(u, NFT_UDATA_TABLE_COMMENT, LAYOUT_COMMENT) &&
	     nftnl_table_set_data(t, NFTNL_TABLE_USERDATA, nftnl_udata_buf_data(u),
				  nftnl_udata_buf_len(u)) == 0;
	if (u != NULL)
		nftnl_udata_buf_free(u);
	if (!ok) {
		if (t != NULL)
			nftnl_table_free(t);
		return NULL;
	}
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, flags);
	return t;
}

#define UDATA(s) s, sizeof(s) - 1
/* The kernel's struct nft_verdict, as a verdict map reports its data. */
#define VERDICT_DATA_LEN 16
/* nft marks a concatenated key with a typeof attribute; keep it so that
 * `nft list` prints the elements of allow and deny as nft would. */
#define CONCAT_UDATA "\x00\x04\x00\x00\x00\x00\x03\x08\x00\x04\x0d\x00\x00\x00\x01\x00"

const struct layout_set_shape layout_set_shapes[LAYOUT_SET_MAX] = {
	/* timeout: the elements of rules that expire go when they do */
	[LAYOUT_SET_ALLOW] = {NFT_SET_TIMEOUT, (NFT_TYPE_IFNAME << NFT_TYPE_BITS) | NFT_TYPE_MARK,
			      IFNAMSIZ + 4, 0, 0, true, UDATA(CONCAT_UDATA)},
	[LAYOUT_SET_DENY] = {NFT_SET_TIMEOUT, (NFT_TYPE_IFNAME << NFT_TYPE_BITS) | NFT_TYPE_MARK,
			     IFNAMSIZ + 4, 0, 0, true, UDATA(CONCAT_UDATA)},
	[LAYOUT_SET_ATTACHED] = {0, NFT_TYPE_IFNAME, IFNAMSIZ, 0, 0, false,
				 UDATA("\x00\x04\x01\x00\x00\x00")},
	[LAYOUT_SET_DEFTAG] =
		{NFT_SET_MAP, NFT_TYPE_IFNAME, IFNAMSIZ, NFT_TYPE_MARK, 4, false,
		 UDATA("\x00\x04\x01\x00\x00\x00\x01\x04\x01\x00\x00\x00\x06\x04\x00\x00\x00\x00")},
	[LAYOUT_SET_DISPATCH] =
		{NFT_SET_MAP, NFT_TYPE_IFNAME, IFNAMSIZ, NFT_DATA_VERDICT, VERDICT_DATA_LEN, false,
		 UDATA("\x00\x04\x01\x00\x00\x00\x01\x04\x00\x00\x00\x00\x06\x04\x00\x00\x00\x00")},
	[LAYOUT_SET_DISPATCH6] =
		{NFT_SET_MAP, NFT_TYPE_IFNAME, IFNAMSIZ, NFT_DATA_VERDICT, VERDICT_DATA_LEN, false,
		 UDATA("\x00\x04\x01\x00\x00\x00\x01\x04\x00\x00\x00\x00\x06\x04\x00\x00\x00\x00")},
	[LAYOUT_SET_DNS] = {0, NFT_TYPE_IFNAME, IFNAMSIZ, 0, 0, false,
			    UDATA("\x00\x04\x01\x00\x00\x00")},
	[LAYOUT_SET_PORTS] =
		{NFT_SET_MAP, NFT_TYPE_IFNAME, IFNAMSIZ, NFT_TYPE_MARK, 4, false,
		 UDATA("\x00\x04\x01\x00\x00\x00\x01\x04\x01\x00\x00\x00\x06\x04\x00\x00\x00\x00")},
	[LAYOUT_SET_BPORTS] =
		{NFT_SET_MAP, NFT_TYPE_MARK, 4, NFT_DATA_VERDICT, VERDICT_DATA_LEN, false,
		 UDATA("\x00\x04\x01\x00\x00\x00\x01\x04\x00\x00\x00\x00\x06\x04\x00\x00\x00\x00")},
	[LAYOUT_SET_DNSB] = {0, NFT_TYPE_MARK, 4, 0, 0, false, UDATA("\x00\x04\x01\x00\x00\x00")},
	[LAYOUT_SET_PINNED] = {0, NFT_TYPE_IFNAME, IFNAMSIZ, 0, 0, false,
			       UDATA("\x00\x04\x01\x00\x00\x00")},
	[LAYOUT_SET_PIN4] = {0, (NFT_TYPE_IFNAME << NFT_TYPE_BITS) | NFT_TYPE_IPADDR, IFNAMSIZ + 4,
			     0, 0, false, UDATA("\x00\x04\x01\x00\x00\x00")},
	[LAYOUT_SET_PIN6] = {0, (NFT_TYPE_IFNAME << NFT_TYPE_BITS) | NFT_TYPE_IP6ADDR,
			     IFNAMSIZ + 16, 0, 0, false, UDATA("\x00\x04\x01\x00\x00\x00")},
};

struct nftnl_set *
layout_set(const char *table, enum layout_set which)
{
	const struct layout_set_shape *sh = &layout_set_shapes[which];
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_expr *ctr = NULL;

	if (s == NULL)
		return NULL;
	if (nftnl_set_set_str(s, NFTNL_SET_TABLE, table) < 0 ||
	    nftnl_set_set_str(s, NFTNL_SET_NAME, layout_set_names[which]) < 0 ||
	    nftnl_set_set_data(s, NFTNL_SET_USERDATA, sh->udata, sh->udata_len) < 0)
		goto fail;
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, layout_set_family(which));
	/* the kernel insists on an id, unique within the transaction */
	nftnl_set_set_u32(s, NFTNL_SET_ID, which + 1);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, sh->flags);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, sh->key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, sh->key_len);
	if (sh->flags & NFT_SET_MAP) {
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, sh->data_type);
		if (sh->data_type != NFT_DATA_VERDICT)
			nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, sh->data_len);
	}
	if (sh->counter) {
		ctr = nftnl_expr_alloc("counter");
		if (ctr == NULL)
			goto fail;
		nftnl_set_add_expr(s, ctr); /* takes ctr */
	}
	return s;
fail:
	nftnl_set_free(s);
	return NULL;
}

void
layout_dset_name(uint8_t family, uint32_t name_id, char buf[LAYOUT_DSET_NAME_MAX])
{
	snprintf(buf, LAYOUT_DSET_NAME_MAX, "d%c_%08x", family == RULES_FAMILY_IPV6 ? '6' : '4',
		 name_id);
}

bool
layout_dset_parse(const char *name, uint8_t *ret_family, uint32_t *ret_name_id)
{
	char canon[LAYOUT_DSET_NAME_MAX];
	unsigned int id;
	uint8_t family;

	if (strlen(name) != LAYOUT_DSET_NAME_MAX - 1 || name[0] != 'd' ||
	    (name[1] != '4' && name[1] != '6') || sscanf(name + 3, "%8x", &id) != 1)
		return false;
	family = name[1] == '6' ? RULES_FAMILY_IPV6 : RULES_FAMILY_IPV4;
	/* one spelling only: lower-case hex, all eight digits */
	layout_dset_name(family, id, canon);
	if (strcmp(canon, name) != 0 || (id & 0xffff) == 0 || (id >> 16) == 0 ||
	    (id >> 16) > LAYOUT_PORT_MAX)
		return false;
	*ret_family = family;
	*ret_name_id = id;
	return true;
}

struct nftnl_set *
layout_dset(const char *table, uint8_t family, uint32_t name_id, const char *dname)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(LAYOUT_RULE_UDATA_MAX);
	struct nftnl_set *s = nftnl_set_alloc();
	char name[LAYOUT_DSET_NAME_MAX];
	bool ok;

	layout_dset_name(family, name_id, name);
	ok = u != NULL && s != NULL &&
	     /* nft lists it as the set's comment, which it takes NUL-terminated */
	     nftnl_udata_put(u, NFTNL_UDATA_SET_COMMENT, strlen(dname) + 1, dname) &&
	     nftnl_set_set_str(s, NFTNL_SET_TABLE, table) == 0 &&
	     nftnl_set_set_str(s, NFTNL_SET_NAME, name) == 0 &&
	     nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(u),
				nftnl_udata_buf_len(u)) == 0;
	if (u != NULL)
		nftnl_udata_buf_free(u);
	if (!ok) {
		if (s != NULL)
			nftnl_set_free(s);
		return NULL;
	}
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	/* ids of their own within a transaction: name ids are above the layout's */
	nftnl_set_set_u32(s, NFTNL_SET_ID,
			  family == RULES_FAMILY_IPV6 ? name_id | 0x80000000u : name_id);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE,
			  family == RULES_FAMILY_IPV6 ? NFT_TYPE_IP6ADDR : NFT_TYPE_IPADDR);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, family == RULES_FAMILY_IPV6 ? 16 : 4);
	return s;
}

struct dset_udata {
	char *dname;
	bool ok;
	unsigned int n;
};

static int
dset_udata_cb(const struct nftnl_udata *attr, void *data)
{
	struct dset_udata *v = data;
	uint8_t len = nftnl_udata_len(attr);

	if (v->n++ > 0 || nftnl_udata_type(attr) != NFTNL_UDATA_SET_COMMENT || len < 2 ||
	    len > RULES_DNAME_MAX + 1)
		return 0;
	memcpy(v->dname, nftnl_udata_get(attr), len);
	v->ok = v->dname[len - 1] == '\0' && strlen(v->dname) == len - 1u;
	return 0;
}

int
layout_dset_check(const struct nftnl_set *s, uint8_t family, char dname[RULES_DNAME_MAX + 1])
{
	struct dset_udata v = {.dname = dname};
	const void *u;
	uint32_t ulen = 0;

	if (nftnl_set_get_u32(s, NFTNL_SET_FLAGS) != NFT_SET_TIMEOUT ||
	    nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE) !=
		    (family == RULES_FAMILY_IPV6 ? NFT_TYPE_IP6ADDR : NFT_TYPE_IPADDR) ||
	    nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN) != (family == RULES_FAMILY_IPV6 ? 16u : 4u) ||
	    nftnl_set_is_set(s, NFTNL_SET_TIMEOUT))
		return -EBADMSG;
	u = nftnl_set_get_data(s, NFTNL_SET_USERDATA, &ulen);
	if (u == NULL || nftnl_udata_parse(u, ulen, dset_udata_cb, &v) < 0 || v.n != 1 || !v.ok)
		return -EBADMSG;
	return 0;
}

struct nftnl_chain *
layout_dns_chain(const char *table)
{
	struct nftnl_chain *ch = layout_container_chain(table, LAYOUT_DNS_CHAIN);

	if (ch == NULL)
		return NULL;
	/* Before the host's own DNAT (-100): the resolver's redirect is
	 * the one binding a container's query gets. */
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_HOOKNUM, NF_INET_PRE_ROUTING);
	nftnl_chain_set_s32(ch, NFTNL_CHAIN_PRIO, LAYOUT_DNS_PRIO);
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	if (nftnl_chain_set_str(ch, NFTNL_CHAIN_TYPE, "nat") < 0) {
		nftnl_chain_free(ch);
		return NULL;
	}
	return ch;
}

/* What each rule of chain dns matches: its protocol, and whose packets. */
static const struct {
	uint8_t proto;
	bool bridged;	 /* a port of @dnsb in the mark, else an interface of @dns */
	int8_t record_v; /* records the peer in peers4 (4) or peers6 (6); else redirects */
} dns_rules[LAYOUT_DNS_NRULES] = {
	{IPPROTO_UDP, false, 0}, {IPPROTO_TCP, false, 0}, {IPPROTO_UDP, true, 0},
	{IPPROTO_TCP, true, 4},	 {IPPROTO_TCP, true, 6},  {IPPROTO_TCP, true, 0},
};

/* 32-bit register k, named as the kernel reports it: a 128-bit one where it starts one */
static uint32_t
reg32(uint32_t k)
{
	return k % 4 == 0 ? NFT_REG_1 + k / 4 : NFT_REG32_00 + k;
}

/* The key of peers4 or peers6 from the packet, and the mark, for the kernel to add. */
static void
add_peer_record(struct layout_rb *b, bool v6)
{
	/* bridge . source address . source port : mark, in 32-bit registers from 0 */
	uint32_t aw = v6 ? 4 : 1; /* the address's words */

	layout_rb_add(b, expr_meta(NFT_META_IIFNAME, reg32(0)));
	layout_rb_add(b,
		      expr_payload_to(NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, 4 * aw, reg32(4)));
	layout_rb_add(b, expr_payload_to(NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2, reg32(4 + aw)));
	layout_rb_add(b, expr_meta(NFT_META_MARK, reg32(5 + aw)));
	layout_rb_add(b, expr_dynset_map(layout_peers_name(v6), reg32(0), reg32(5 + aw)));
}

/*
 * Rule i of chain dns: port 53 to the resolver's port, UDP then TCP,
 * from an interface of @dns (0, 1) and from a port of @dnsb (2, 5),
 * which the IP hooks see as the bridge's; a TCP connection from a
 * bridge is recorded first (3, 4), in rules of their own, so that a
 * full map leaves it unattributed (the resolver closes it), never
 * unredirected.
 */
struct nftnl_rule *
layout_dns_rule(const char *table, const struct nft_options *o, unsigned int i)
{
	struct layout_rb b = {.r = layout_rb_new(table, LAYOUT_DNS_CHAIN)};
	uint16_t dport = htons(53), port = htons(o->dns_port);

	if (b.r == NULL)
		return NULL;
	if (i >= LAYOUT_DNS_NRULES) {
		nftnl_rule_free(b.r);
		return NULL;
	}
	if (dns_rules[i].record_v != 0) {
		uint8_t nfproto = dns_rules[i].record_v == 6 ? NFPROTO_IPV6 : NFPROTO_IPV4;

		layout_rb_add(&b, expr_meta(NFT_META_NFPROTO, NFT_REG_1));
		layout_rb_add(&b, expr_cmp_u8(nfproto));
	}
	layout_rb_add(&b, expr_meta(NFT_META_L4PROTO, NFT_REG_1));
	layout_rb_add(&b, expr_cmp_u8(dns_rules[i].proto));
	layout_rb_add(&b, expr_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2));
	layout_rb_add(&b, expr_cmp(NFT_CMP_EQ, &dport, sizeof(dport)));
	if (!dns_rules[i].bridged) {
		layout_rb_add(&b, expr_meta(NFT_META_IIFNAME, NFT_REG_1));
		layout_rb_add(&b, expr_lookup(layout_set_names[LAYOUT_SET_DNS], 0, false, 0));
	} else {
		uint32_t field = LAYOUT_MARK_FIELD;

		layout_rb_add(&b, expr_meta(NFT_META_MARK, NFT_REG_1));
		layout_rb_add(&b, expr_bitwise_and(&field, sizeof(field)));
		layout_rb_add(&b, expr_lookup(layout_set_names[LAYOUT_SET_DNSB], 0, false, 0));
	}
	if (dns_rules[i].record_v != 0) {
		add_peer_record(&b, dns_rules[i].record_v == 6);
		return layout_rb_done(&b);
	}
	layout_rb_add(&b, expr_imm_data(&port, sizeof(port)));
	layout_rb_add(&b, expr_redir());
	return layout_rb_done(&b);
}

/* Per container token buckets of the drop log, made by the kernel. */
struct nftnl_set *
layout_drop_set(const char *table)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (s == NULL)
		return NULL;
	/* the key's byte order as nft writes it, so that `nft list` names the interfaces */
	if (nftnl_set_set_str(s, NFTNL_SET_TABLE, table) < 0 ||
	    nftnl_set_set_str(s, NFTNL_SET_NAME, LAYOUT_DROP_SET) < 0 ||
	    nftnl_set_set_data(s, NFTNL_SET_USERDATA, layout_set_shapes[LAYOUT_SET_ATTACHED].udata,
			       layout_set_shapes[LAYOUT_SET_ATTACHED].udata_len) < 0) {
		nftnl_set_free(s);
		return NULL;
	}
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, LAYOUT_SET_MAX + 1);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT | NFT_SET_EVAL);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, NFT_TYPE_IFNAME);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, IFNAMSIZ);
	/* a bucket outlives its interface by a minute, then goes */
	nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, 60000);
	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, LAYOUT_DROP_SET_SIZE);
	return s;
}

const char *
layout_peers_name(bool v6)
{
	return v6 ? "peers6" : "peers4";
}

/* bridge . address . port, as types and as bytes (each part in 32-bit words) */
static uint32_t
peers_key_type(bool v6)
{
	return (NFT_TYPE_IFNAME << 2 * NFT_TYPE_BITS) |
	       ((v6 ? NFT_TYPE_IP6ADDR : NFT_TYPE_IPADDR) << NFT_TYPE_BITS) | NFT_TYPE_INET_SERVICE;
}

static uint32_t
peers_key_len(bool v6)
{
	return IFNAMSIZ + (v6 ? 16 : 4) + 4;
}

struct nftnl_set *
layout_peers_set(const char *table, bool v6)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (s == NULL)
		return NULL;
	if (nftnl_set_set_str(s, NFTNL_SET_TABLE, table) < 0 ||
	    nftnl_set_set_str(s, NFTNL_SET_NAME, layout_peers_name(v6)) < 0) {
		nftnl_set_free(s);
		return NULL;
	}
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, LAYOUT_SET_MAX + 2 + v6);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP | NFT_SET_TIMEOUT | NFT_SET_EVAL);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, peers_key_type(v6));
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, peers_key_len(v6));
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_TYPE_MARK);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 4);
	nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, LAYOUT_PEERS_TIMEOUT_MS);
	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, LAYOUT_PEERS_SIZE);
	return s;
}

int
layout_peers_set_check(const struct nftnl_set *s, bool v6)
{
	return nftnl_set_get_u32(s, NFTNL_SET_FLAGS) ==
				       (NFT_SET_MAP | NFT_SET_TIMEOUT | NFT_SET_EVAL) &&
			       nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE) == peers_key_type(v6) &&
			       nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN) == peers_key_len(v6) &&
			       nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE) == NFT_TYPE_MARK &&
			       nftnl_set_get_u32(s, NFTNL_SET_DATA_LEN) == 4
		       ? 0
		       : -EBADMSG;
}

size_t
layout_peers_key(uint8_t key[16 + 16 + 4], const char *ifname, bool v6, const void *addr,
		 uint16_t port)
{
	size_t alen = v6 ? 16 : 4;

	memset(key, 0, peers_key_len(v6));
	strncpy((char *)key, ifname, IFNAMSIZ - 1);
	memcpy(key + IFNAMSIZ, addr, alen);
	memcpy(key + IFNAMSIZ + alen, &port, sizeof(port));
	return peers_key_len(v6);
}

struct nftnl_chain *
layout_container_chain(const char *table, const char *chain)
{
	struct nftnl_chain *ch = nftnl_chain_alloc();

	if (ch == NULL)
		return NULL;
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	if (nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, table) < 0 ||
	    nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, chain) < 0) {
		nftnl_chain_free(ch);
		return NULL;
	}
	return ch;
}

struct nftnl_chain *
layout_base_chain(const char *table)
{
	struct nftnl_chain *ch = layout_container_chain(table, LAYOUT_BASE_CHAIN);

	if (ch == NULL)
		return NULL;
	/* After conntrack (-200) so ct state exists, and after the host's
	 * own DNAT (-100): rules see the destination a packet really goes
	 * to. Prerouting sees forwarded packets and those for the host. */
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_HOOKNUM, NF_INET_PRE_ROUTING);
	nftnl_chain_set_s32(ch, NFTNL_CHAIN_PRIO, 0);
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	if (nftnl_chain_set_str(ch, NFTNL_CHAIN_TYPE, "filter") < 0) {
		nftnl_chain_free(ch);
		return NULL;
	}
	return ch;
}

/* Elements. */
static struct nftnl_set_elem *
elem_with_key(const void *key, uint32_t len)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	if (e == NULL)
		return NULL;
	if (nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, len) < 0) {
		nftnl_set_elem_free(e);
		return NULL;
	}
	return e;
}

struct nftnl_set_elem *
layout_ifname_elem(const char *ifname)
{
	char key[IFNAMSIZ] = {0};

	strncpy(key, ifname, IFNAMSIZ - 1);
	return elem_with_key(key, sizeof(key));
}

struct nftnl_set_elem *
layout_tag_key(const char *ifname, uint32_t tag)
{
	char key[IFNAMSIZ + sizeof(uint32_t)] = {0};

	strncpy(key, ifname, IFNAMSIZ - 1);
	memcpy(key + IFNAMSIZ, &tag, sizeof(tag));
	return elem_with_key(key, sizeof(key));
}

struct nftnl_set_elem *
layout_tag_elem(const char *ifname, uint32_t tag, const struct nft_counter *ctr,
		const char *desc_tail, size_t tail_len, int64_t expires_at)
{
	struct nftnl_set_elem *e = layout_tag_key(ifname, tag);
	struct nftnl_expr *c;

	if (e == NULL)
		return NULL;
	/* The element's counter starts where the replaced one stopped. */
	c = nftnl_expr_alloc("counter");
	if (c == NULL)
		goto fail;
	nftnl_expr_set_u64(c, NFTNL_EXPR_CTR_PACKETS, ctr ? ctr->packets : 0);
	nftnl_expr_set_u64(c, NFTNL_EXPR_CTR_BYTES, ctr ? ctr->bytes : 0);
	nftnl_set_elem_add_expr(e, c); /* takes c */
	if (expires_at != 0)
		nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, layout_timeout_ms(expires_at));
	if (tail_len > 0) {
		struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(LAYOUT_ELEM_UDATA_MAX);
		bool ok = u != NULL && nftnl_udata_put(u, LAYOUT_UDATA_DESC, tail_len, desc_tail) &&
			  nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA, nftnl_udata_buf_data(u),
					     nftnl_udata_buf_len(u)) == 0;

		if (u != NULL)
			nftnl_udata_buf_free(u);
		if (!ok)
			goto fail;
	}
	return e;
fail:
	nftnl_set_elem_free(e);
	return NULL;
}

uint64_t
layout_timeout_ms(int64_t expires_at)
{
	struct timespec now;
	int64_t ms;

	clock_gettime(CLOCK_REALTIME, &now);
	ms = expires_at * 1000 - (now.tv_sec * 1000 + now.tv_nsec / 1000000);
	return ms > 0 ? (uint64_t)ms : 1;
}

struct nftnl_set_elem *
layout_deftag_elem(const char *ifname, uint32_t tag)
{
	struct nftnl_set_elem *e = layout_ifname_elem(ifname);

	if (e != NULL && nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, &tag, sizeof(tag)) < 0) {
		nftnl_set_elem_free(e);
		return NULL;
	}
	return e;
}

struct nftnl_set_elem *
layout_dispatch_elem(const char *ifname, const char *chain)
{
	struct nftnl_set_elem *e = layout_ifname_elem(ifname);

	if (e == NULL)
		return NULL;
	nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, NFT_JUMP);
	if (nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, chain) < 0) {
		nftnl_set_elem_free(e);
		return NULL;
	}
	return e;
}
