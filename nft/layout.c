/*
 * The layout of the program's table, built with libnftnl and recognised
 * in dumps. Everything the table contains is made here, so that what
 * we read back can be checked against what we would have written.
 *
 *   chain pre (prerouting, priority filter, policy accept):
 *     0 ct direction reply: accept (answers to connections towards it;
 *       first, so that replies of every flow cost one comparison)
 *     1 iifname . ct mark @allow, not an expected connection: accept
 *     2 iifname not @attached: accept (not a container: not ours)
 *     3 iifname . ct mark @deny: drop
 *     4 IPv6 neighbour solicitation/advertisement to the host: accept
 *     5 the same to link-local multicast: accept
 *     6 expected connection: ct mark set 0 (forget the master's tag)
 *     7 IPv4: iifname vmap @dispatch (jump to the container chain)
 *     8 IPv6: ct mark set iifname map @deftag (no IPv6 rules: default)
 *     9 iifname . ct mark @allow: accept
 *    10 iifname . ct mark @deny: drop
 *    11 drop (a container packet nothing claimed, e.g. untracked)
 *   With --container-ifprefix, one rule per prefix after rule 1:
 *     iifname "PREFIX*" not @attached: drop (a container not registered)
 *   With the drop log, each drop above but the prefixes' is a goto to
 *
 *   chain drops: update @droprate { iifname limit rate N/second },
 *     limit (host-wide), meta mark set ct mark (the tag, for the
 *     reader), log group G; then drop. The limits are checked in the
 *     kernel: a flood costs the agent nothing.
 *
 *   chain c_<id>: claims, see struct claim. These rules carry no verdict
 *   and use no expression with a validate hook, so changing them does
 *   not make the kernel re-validate the whole table on commit.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include "nft/nft_int.h"

const char *const layout_set_names[LAYOUT_SET_MAX] = {
	[LAYOUT_SET_ALLOW] = "allow",	    [LAYOUT_SET_DENY] = "deny",
	[LAYOUT_SET_ATTACHED] = "attached", [LAYOUT_SET_DEFTAG] = "deftag",
	[LAYOUT_SET_DISPATCH] = "dispatch",
};

/* nft's datatype ids, so that `nft list` shows our sets readably. */
#define NFT_TYPE_MARK 19
#define NFT_TYPE_IFNAME 41
#define NFT_TYPE_BITS 6
#define NFT_UDATA_TABLE_COMMENT 0

#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17

static const uint8_t proto_numbers[RULES_PROTO_MAX] = {
	[RULES_PROTO_TCP] = PROTO_TCP,
	[RULES_PROTO_UDP] = PROTO_UDP,
	[RULES_PROTO_ICMP] = PROTO_ICMP,
};

void
layout_chain_name(const char *container_id, char buf[LAYOUT_CHAIN_NAME_MAX + 1])
{
	strcpy(buf, LAYOUT_CHAIN_PREFIX);
	strcat(buf, container_id);
}

const char *
layout_chain_container(const char *chain)
{
	size_t n = strlen(LAYOUT_CHAIN_PREFIX);

	if (strncmp(chain, LAYOUT_CHAIN_PREFIX, n) != 0 || !rules_id_valid(chain + n))
		return NULL;
	return chain + n;
}

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
 * Rule assembly. Any allocation failure marks the builder failed; the
 * caller checks once at the end instead of after every expression.
 */
struct rb {
	struct nftnl_rule *r;
	bool failed;
};

static void
add(struct rb *b, struct nftnl_expr *e)
{
	if (e == NULL) {
		b->failed = true;
		return;
	}
	nftnl_rule_add_expr(b->r, e); /* takes e */
}

static struct nftnl_expr *
expr(const char *name)
{
	return nftnl_expr_alloc(name);
}

/*
 * Each builder sets exactly the attributes the kernel reports back in a
 * dump, so that a dumped expression and a built one compare equal.
 */
static struct nftnl_expr *
e_payload(uint32_t base, uint32_t offset, uint32_t len)
{
	struct nftnl_expr *e = expr("payload");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	return e;
}

static struct nftnl_expr *
e_cmp(uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = expr("cmp");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	return e;
}

static struct nftnl_expr *
e_cmp_u8(uint8_t v)
{
	return e_cmp(NFT_CMP_EQ, &v, sizeof(v));
}

static struct nftnl_expr *
e_range(uint32_t op, const void *from, const void *to, uint32_t len)
{
	struct nftnl_expr *e = expr("range");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_RANGE_FROM_DATA, from, len);
	nftnl_expr_set(e, NFTNL_EXPR_RANGE_TO_DATA, to, len);
	return e;
}

static struct nftnl_expr *
e_bitwise_and(const void *mask, uint32_t len)
{
	static const uint8_t zero[4];
	struct nftnl_expr *e = expr("bitwise");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_OP, NFT_BITWISE_BOOL);
	return e;
}

static struct nftnl_expr *
e_meta(uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = expr("meta");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	return e;
}

static struct nftnl_expr *
e_ct_load(uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = expr("ct");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, dreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	return e;
}

static struct nftnl_expr *
e_ct_set_mark(void)
{
	struct nftnl_expr *e = expr("ct");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_MARK);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_SREG, NFT_REG_1);
	return e;
}

/*
 * A constant into register 1 without an immediate expression: jhash of
 * whatever the register holds, modulo 1, plus the constant. immediate
 * has a validate hook; hash has none, and nft prints it faithfully.
 */
static struct nftnl_expr *
e_const(uint32_t value)
{
	struct nftnl_expr *e = expr("hash");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_LEN, sizeof(uint32_t));
	nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_MODULUS, 1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_SEED, 0);
	if (value != 0) /* the kernel leaves a zero offset out of dumps */
		nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_OFFSET, value);
	nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_TYPE, NFT_HASH_JENKINS);
	return e;
}

static struct nftnl_expr *
e_lookup(const char *set, uint32_t dreg, bool has_dreg, uint32_t flags)
{
	struct nftnl_expr *e = expr("lookup");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	if (has_dreg)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, dreg);
	if (nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set) < 0) {
		nftnl_expr_free(e);
		return NULL;
	}
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, flags);
	return e;
}

static struct nftnl_expr *
e_imm_data(const void *data, uint32_t len)
{
	struct nftnl_expr *e = expr("immediate");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
	return e;
}

static struct nftnl_expr *
e_verdict(int verdict)
{
	struct nftnl_expr *e = expr("immediate");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, verdict);
	return e;
}

static struct nftnl_expr *
e_fib_daddr_type(void)
{
	struct nftnl_expr *e = expr("fib");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
	return e;
}

static struct nftnl_expr *
e_goto(const char *chain)
{
	struct nftnl_expr *e = e_verdict(NFT_GOTO);

	if (e != NULL && nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain) < 0) {
		nftnl_expr_free(e);
		return NULL;
	}
	return e;
}

static struct nftnl_expr *
e_limit(uint64_t rate)
{
	struct nftnl_expr *e = expr("limit");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, rate);
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, 1); /* per second */
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, (uint32_t)rate);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, 0);
	return e;
}

/* update @droprate { reg 1 limit rate per second }: one bucket per key */
static struct nftnl_expr *
e_dynset_limit(uint64_t rate)
{
	struct nftnl_expr *e = expr("dynset"), *l = e_limit(rate);

	if (e == NULL || l == NULL ||
	    nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, LAYOUT_DROP_SET) < 0) {
		nftnl_expr_free(l);
		nftnl_expr_free(e);
		return NULL;
	}
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
	nftnl_expr_set_u64(e, NFTNL_EXPR_DYNSET_TIMEOUT, 0);
	nftnl_expr_set(e, NFTNL_EXPR_DYNSET_EXPR, l, 0); /* takes l */
	return e;
}

static struct nftnl_expr *
e_meta_set_mark(void)
{
	struct nftnl_expr *e = expr("meta");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_MARK);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NFT_REG_1);
	return e;
}

static struct nftnl_expr *
e_log(uint16_t group)
{
	struct nftnl_expr *e = expr("log");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, group);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_SNAPLEN, LAYOUT_DROP_SNAPLEN);
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_QTHRESHOLD, 0);
	return e;
}

static struct nftnl_rule *
rule_new(const char *table, const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (r == NULL)
		return NULL;
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	if (nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table) < 0 ||
	    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain) < 0) {
		nftnl_rule_free(r);
		return NULL;
	}
	return r;
}

static struct nftnl_rule *
rule_done(struct rb *b)
{
	if (b->failed) {
		nftnl_rule_free(b->r);
		return NULL;
	}
	return b->r;
}

/* iifname . ct mark: the key of the allow and deny sets, in registers 1-2 */
static void
add_ifname_mark(struct rb *b)
{
	add(b, e_meta(NFT_META_IIFNAME, NFT_REG_1));
	add(b, e_ct_load(NFT_CT_MARK, NFT_REG_2));
}

static void
add_nd(struct rb *b)
{
	uint8_t ipv6 = NFPROTO_IPV6, icmpv6 = IPPROTO_ICMPV6, hops = 255;
	uint8_t nd_lo = 135, nd_hi = 136; /* neighbour solicitation, advertisement */

	add(b, e_meta(NFT_META_NFPROTO, NFT_REG_1));
	add(b, e_cmp(NFT_CMP_EQ, &ipv6, 1));
	add(b, e_meta(NFT_META_L4PROTO, NFT_REG_1));
	add(b, e_cmp(NFT_CMP_EQ, &icmpv6, 1));
	add(b, e_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1));
	add(b, e_range(NFT_RANGE_EQ, &nd_lo, &nd_hi, 1));
	/* hop limit 255: neighbour discovery never crosses a router */
	add(b, e_payload(NFT_PAYLOAD_NETWORK_HEADER, 7, 1));
	add(b, e_cmp(NFT_CMP_EQ, &hops, 1));
}

/*
 * The base chain's rules in order; the prefix rules (one per
 * --container-ifprefix) come right after the fast path.
 */
enum base_kind {
	BASE_REPLY,
	BASE_ALLOW_FAST,
	BASE_PREFIX,
	BASE_FOREIGN,
	BASE_DENY,
	BASE_ND_LOCAL,
	BASE_ND_MCAST,
	BASE_EXPECTED,
	BASE_DISPATCH,
	BASE_DEFTAG6,
	BASE_ALLOW,
	BASE_DENY_AGAIN,
	BASE_DROP,
};
#define BASE_FIXED BASE_DROP /* the number of kinds but BASE_PREFIX */

unsigned int
layout_base_nrules(const struct nft_options *o)
{
	return BASE_FIXED + o->nifprefix;
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
	return i - o->nifprefix + 1;
}

/* A packet the table drops: through the drop log when there is one. */
static void
add_drop(struct rb *b, const struct nft_options *o)
{
	if (o->log_rate > 0)
		add(b, e_goto(LAYOUT_DROP_CHAIN));
	else
		add(b, e_verdict(NF_DROP));
}

/* The options the table was built with ride on its first rule. */
static bool
put_options_udata(struct nftnl_rule *r, const struct nft_options *o)
{
	struct nftnl_udata_buf *u;
	uint32_t log[2] = {o->log_rate, o->log_group};
	unsigned int i;
	bool ok;

	if (o->nifprefix == 0 && o->log_rate == 0)
		return true;
	u = nftnl_udata_buf_alloc(LAYOUT_RULE_UDATA_MAX);
	if (u == NULL)
		return false;
	ok = o->log_rate == 0 || nftnl_udata_put(u, LAYOUT_UDATA_DROPLOG, sizeof(log), log);
	for (i = 0; ok && i < o->nifprefix; i++)
		ok = nftnl_udata_put(u, LAYOUT_UDATA_IFPREFIX, strlen(o->ifprefix[i]),
				     o->ifprefix[i]);
	ok = ok && nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u),
				       nftnl_udata_buf_len(u)) == 0;
	nftnl_udata_buf_free(u);
	return ok;
}

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

bool
nft_options_equal(const struct nft_options *a, const struct nft_options *b)
{
	unsigned int i;

	if (a->nifprefix != b->nifprefix || a->log_rate != b->log_rate ||
	    (a->log_rate > 0 && a->log_group != b->log_group))
		return false;
	for (i = 0; i < a->nifprefix; i++)
		if (strcmp(a->ifprefix[i], b->ifprefix[i]) != 0)
			return false;
	return true;
}

struct nftnl_rule *
layout_base_rule(const char *table, const struct nft_options *o, unsigned int i)
{
	uint32_t expected = IPS_EXPECTED, zero = 0, local = RTN_LOCAL;
	uint8_t reply = IP_CT_DIR_REPLY, ipv4 = NFPROTO_IPV4, ipv6 = NFPROTO_IPV6;
	uint16_t ff02 = htons(0xff02);
	const char *const *sets = layout_set_names;
	struct rb b = {.r = rule_new(table, LAYOUT_BASE_CHAIN)};
	unsigned int prefix = 0;

	if (b.r == NULL)
		return NULL;
	if (i >= layout_base_nrules(o)) {
		nftnl_rule_free(b.r);
		return NULL;
	}
	switch (base_kind(o, i, &prefix)) {
	case BASE_REPLY:
		/* Our claims mark only original-direction packets: a reply
		 * never carries a container's verdict. */
		add(&b, e_ct_load(NFT_CT_DIRECTION, NFT_REG_1));
		add(&b, e_cmp(NFT_CMP_EQ, &reply, sizeof(reply)));
		add(&b, e_verdict(NF_ACCEPT));
		if (!put_options_udata(b.r, o))
			b.failed = true;
		break;
	case BASE_ALLOW_FAST:
		/* Fast path. Expected connections inherit their master's mark:
		 * they must be checked on their own. */
		add_ifname_mark(&b);
		add(&b, e_lookup(sets[LAYOUT_SET_ALLOW], 0, false, 0));
		add(&b, e_ct_load(NFT_CT_STATUS, NFT_REG_1));
		add(&b, e_bitwise_and(&expected, sizeof(expected)));
		add(&b, e_cmp(NFT_CMP_EQ, &zero, sizeof(zero)));
		add(&b, e_verdict(NF_ACCEPT));
		break;
	case BASE_PREFIX:
		/* A container interface no container owns yet: nothing passes. */
		add(&b, e_meta(NFT_META_IIFNAME, NFT_REG_1));
		add(&b, e_cmp(NFT_CMP_EQ, o->ifprefix[prefix], strlen(o->ifprefix[prefix])));
		add(&b, e_lookup(sets[LAYOUT_SET_ATTACHED], 0, false, NFT_LOOKUP_F_INV));
		add(&b, e_verdict(NF_DROP));
		break;
	case BASE_FOREIGN:
		add(&b, e_meta(NFT_META_IIFNAME, NFT_REG_1));
		add(&b, e_lookup(sets[LAYOUT_SET_ATTACHED], 0, false, NFT_LOOKUP_F_INV));
		add(&b, e_verdict(NF_ACCEPT));
		break;
	case BASE_DENY:
	case BASE_DENY_AGAIN:
		add_ifname_mark(&b);
		add(&b, e_lookup(sets[LAYOUT_SET_DENY], 0, false, 0));
		add_drop(&b, o);
		break;
	case BASE_ND_LOCAL:
		add_nd(&b);
		add(&b, e_fib_daddr_type());
		add(&b, e_cmp(NFT_CMP_EQ, &local, sizeof(local)));
		add(&b, e_verdict(NF_ACCEPT));
		break;
	case BASE_ND_MCAST:
		add_nd(&b);
		add(&b, e_payload(NFT_PAYLOAD_NETWORK_HEADER, 24, 2));
		add(&b, e_cmp(NFT_CMP_EQ, &ff02, sizeof(ff02)));
		add(&b, e_verdict(NF_ACCEPT));
		break;
	case BASE_EXPECTED:
		/* Expected connections (conntrack helpers) inherit their
		 * master's mark: make them earn a tag of their own. */
		add(&b, e_ct_load(NFT_CT_STATUS, NFT_REG_1));
		add(&b, e_bitwise_and(&expected, sizeof(expected)));
		add(&b, e_cmp(NFT_CMP_EQ, &expected, sizeof(expected)));
		add(&b, e_imm_data(&zero, sizeof(zero)));
		add(&b, e_ct_set_mark());
		break;
	case BASE_DISPATCH:
		add(&b, e_meta(NFT_META_NFPROTO, NFT_REG_1));
		add(&b, e_cmp(NFT_CMP_EQ, &ipv4, 1));
		add(&b, e_meta(NFT_META_IIFNAME, NFT_REG_1));
		add(&b, e_lookup(sets[LAYOUT_SET_DISPATCH], NFT_REG_VERDICT, true, 0));
		break;
	case BASE_DEFTAG6:
		add(&b, e_meta(NFT_META_NFPROTO, NFT_REG_1));
		add(&b, e_cmp(NFT_CMP_EQ, &ipv6, 1));
		add(&b, e_meta(NFT_META_IIFNAME, NFT_REG_1));
		add(&b, e_lookup(sets[LAYOUT_SET_DEFTAG], NFT_REG_1, true, 0));
		add(&b, e_ct_set_mark());
		break;
	case BASE_ALLOW:
		add_ifname_mark(&b);
		add(&b, e_lookup(sets[LAYOUT_SET_ALLOW], 0, false, 0));
		add(&b, e_verdict(NF_ACCEPT));
		break;
	case BASE_DROP:
		add_drop(&b, o);
		break;
	}
	return rule_done(&b);
}

struct nftnl_rule *
layout_drop_rule(const char *table, const struct nft_options *o, unsigned int i)
{
	struct rb b = {.r = rule_new(table, LAYOUT_DROP_CHAIN)};

	if (b.r == NULL)
		return NULL;
	switch (i) {
	case 0:
		/* Over either limit the rule stops here and the next drops. */
		add(&b, e_meta(NFT_META_IIFNAME, NFT_REG_1));
		add(&b, e_dynset_limit(o->log_rate));
		add(&b, e_limit(LAYOUT_DROP_HOST_RATE));
		add(&b, e_ct_load(NFT_CT_MARK, NFT_REG_1));
		add(&b, e_meta_set_mark()); /* the packet is dropped: the mark only informs */
		add(&b, e_log(o->log_group));
		break;
	case 1:
		add(&b, e_verdict(NF_DROP));
		break;
	default:
		nftnl_rule_free(b.r);
		return NULL;
	}
	return rule_done(&b);
}

/* Expressions as libnftnl prints them: dynset nests a limit, which
 * expr_equal() cannot look into; these two rules are read rarely. */
static bool
exprs_text(const struct nftnl_rule *r, char *buf, size_t size)
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
	eq = exprs_text(r, a, sizeof(a)) && exprs_text(want, b, sizeof(b)) && strcmp(a, b) == 0 &&
	     !nftnl_rule_is_set(r, NFTNL_RULE_USERDATA);
	nftnl_rule_free(want);
	return eq ? 0 : -EBADMSG;
}

static uint32_t
prefix_mask(uint8_t plen)
{
	return plen == 0 ? 0 : htonl(~0u << (32 - plen));
}

static struct nftnl_expr *
e_hton32(void)
{
	struct nftnl_expr *e = expr("byteorder");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN, sizeof(uint32_t));
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, sizeof(uint32_t));
	return e;
}

/*
 * Write tag into the mark unless the mark holds a tag of [lo, hi]. The
 * kernel compares ranges with memcmp(): the host-endian mark must be
 * made big-endian first, or a block of tags that crosses a multiple of
 * 256 would compare out of order.
 */
static void
add_claim_tail(struct rb *b, uint32_t lo, uint32_t hi, uint32_t tag)
{
	uint32_t lo_be = htonl(lo), hi_be = htonl(hi);

	add(b, e_ct_load(NFT_CT_MARK, NFT_REG_1));
	add(b, e_hton32());
	add(b, e_range(NFT_RANGE_NEQ, &lo_be, &hi_be, sizeof(lo_be)));
	add(b, e_const(tag));
	add(b, e_ct_set_mark());
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

struct nftnl_rule *
layout_claim_rule(const char *table, const char *chain, const struct claim *cl)
{
	struct rb b = {.r = rule_new(table, chain)};

	if (b.r == NULL)
		return NULL;
	switch (cl->kind) {
	case CLAIM_MATCH:
		/* The base chain sends only IPv4 here: offsets are IPv4's. */
		if (cl->plen > 0) {
			uint32_t mask = prefix_mask(cl->plen), net = htonl(cl->daddr);

			add(&b, e_payload(NFT_PAYLOAD_NETWORK_HEADER, 16, 4));
			if (cl->plen < 32)
				add(&b, e_bitwise_and(&mask, sizeof(mask)));
			add(&b, e_cmp(NFT_CMP_EQ, &net, sizeof(net)));
		}
		if (cl->proto != RULES_PROTO_ANY) {
			add(&b, e_payload(NFT_PAYLOAD_NETWORK_HEADER, 9, 1));
			add(&b, e_cmp_u8(proto_numbers[cl->proto]));
		}
		if (cl->has_port) {
			uint16_t lo = htons(cl->port_lo), hi = htons(cl->port_hi);

			add(&b, e_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2));
			if (lo == hi)
				add(&b, e_cmp(NFT_CMP_EQ, &lo, sizeof(lo)));
			else
				add(&b, e_range(NFT_RANGE_EQ, &lo, &hi, sizeof(lo)));
		}
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
	return rule_done(&b);
}

size_t
layout_nclaims(const struct rules_container *c)
{
	size_t i, n = 1; /* the default */

	for (i = 0; i < c->nrules; i++)
		n += c->rules[i].nports ? c->rules[i].nports : 1;
	return n;
}

/*
 * Rule i gets tag tag_base + i and the default tag_base + nrules. Rules
 * come deny first (canonical order), so a deny claims unless an earlier
 * deny did, and an allow claims unless any deny or earlier allow did:
 * any matching deny wins over every allow.
 */
size_t
layout_compile(const struct rules_container *c, uint32_t tag_base, struct claim *out)
{
	size_t i, j, n = 0, ndeny = 0;

	for (i = 0; i < c->nrules; i++)
		ndeny += c->rules[i].action == RULES_ACTION_DENY;
	for (i = 0; i < c->nrules; i++) {
		const struct rules_rule *r = &c->rules[i];
		size_t items = r->nports ? r->nports : 1;
		size_t dlen = r->desc ? strlen(r->desc) : 0;

		for (j = 0; j < items; j++) {
			struct claim *cl = &out[n++];

			memset(cl, 0, sizeof(*cl));
			cl->kind = CLAIM_MATCH;
			cl->daddr = r->daddr;
			cl->plen = r->plen;
			cl->proto = r->proto;
			cl->has_port = r->nports > 0;
			if (cl->has_port) {
				cl->port_lo = r->ports[j].lo;
				cl->port_hi = r->ports[j].hi;
			}
			cl->range_lo = tag_base;
			cl->range_hi =
				tag_base + (r->action == RULES_ACTION_DENY ? ndeny : c->nrules) - 1;
			cl->tag = tag_base + i;
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

/*
 * Recognising. Two expressions are equal when they have the same name
 * and the same attributes set to the same bytes: a dumped rule is ours
 * only if rebuilding it from the values we extract gives it back.
 */
/* Attributes past the base that our expression kinds can carry: hash
 * has the most (up to its deprecated set id). */
#define EXPR_ATTRS (NFTNL_EXPR_HASH_SET_ID - NFTNL_EXPR_BASE + 1)

static bool
expr_equal(const struct nftnl_expr *a, const struct nftnl_expr *b)
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
rule_equal(const struct nftnl_rule *a, const struct nftnl_rule *b)
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
		eq = expr_equal(ea, eb);
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

int
layout_base_rule_check(const struct nftnl_rule *r, const char *table, const struct nft_options *o,
		       unsigned int i)
{
	struct nftnl_rule *want;
	bool eq;

	if (i >= layout_base_nrules(o))
		return -EBADMSG;
	want = layout_base_rule(table, o, i);
	if (want == NULL)
		return -ENOMEM;
	eq = rule_equal(r, want);
	nftnl_rule_free(want);
	return eq ? 0 : -EBADMSG;
}

static bool
is_payload(const struct raw_expr *e, uint32_t base, uint32_t offset, uint32_t len)
{
	return raw_expr_is(e, "payload") && raw_expr_u32(e, NFTA_PAYLOAD_BASE) == base &&
	       raw_expr_u32(e, NFTA_PAYLOAD_OFFSET) == offset &&
	       raw_expr_u32(e, NFTA_PAYLOAD_LEN) == len;
}

static int
proto_from_number(uint8_t n)
{
	int p;

	for (p = RULES_PROTO_TCP; p < RULES_PROTO_MAX; p++)
		if (proto_numbers[p] == n)
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

/*
 * Where a dumped claim keeps its values: pointers into the rule, found
 * by following the builder's order. Only the values differ between two
 * claims of one shape (see matches()).
 */
enum {
	SRC_MASK = 0, /* absent: a host, or no address */
	SRC_DADDR,
	SRC_PROTO,
	SRC_PORT_LO,
	SRC_PORT_HI, /* the same as SRC_PORT_LO for a single port */
	SRC_RANGE_LO,
	SRC_RANGE_HI,
	SRC_TAG,
	SRC_MAX, /* in the order the builder writes them */
};

static const uint8_t src_len[SRC_MAX] = {4, 4, 1, 2, 2, 4, 4, 4};

struct claim_src {
	bool match;
	const void *v[SRC_MAX]; /* NULL where the claim has no such value */
};

/* Lenient about everything but where the values are: matches() checks the rest. */
static int
extract_src(const struct raw_rule *r, struct claim_src *s)
{
	const struct raw_expr *e = r->nexprs > 0 ? &r->e[0] : NULL;
	const struct raw_attr *a;
	unsigned int i = 0;

#define NEXT() (++i < r->nexprs ? &r->e[i] : NULL)
	memset(s, 0, sizeof(*s));
	if (is_payload(e, NFT_PAYLOAD_NETWORK_HEADER, 16, 4)) {
		s->match = true;
		e = NEXT();
		if (raw_expr_is(e, "bitwise")) {
			s->v[SRC_MASK] = raw_expr_value(e, NFTA_BITWISE_MASK, 4);
			if (s->v[SRC_MASK] == NULL)
				return -EBADMSG;
			e = NEXT();
		}
		s->v[SRC_DADDR] =
			raw_expr_is(e, "cmp") ? raw_expr_value(e, NFTA_CMP_DATA, 4) : NULL;
		if (s->v[SRC_DADDR] == NULL)
			return -EBADMSG;
		e = NEXT();
	}
	if (is_payload(e, NFT_PAYLOAD_NETWORK_HEADER, 9, 1)) {
		s->match = true;
		e = NEXT();
		s->v[SRC_PROTO] =
			raw_expr_is(e, "cmp") ? raw_expr_value(e, NFTA_CMP_DATA, 1) : NULL;
		if (s->v[SRC_PROTO] == NULL)
			return -EBADMSG;
		e = NEXT();
	}
	if (is_payload(e, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2)) {
		s->match = true;
		e = NEXT();
		if (raw_expr_is(e, "cmp")) {
			s->v[SRC_PORT_LO] = s->v[SRC_PORT_HI] = raw_expr_value(e, NFTA_CMP_DATA, 2);
		} else if (raw_expr_is(e, "range")) {
			s->v[SRC_PORT_LO] = raw_expr_value(e, NFTA_RANGE_FROM_DATA, 2);
			s->v[SRC_PORT_HI] = raw_expr_value(e, NFTA_RANGE_TO_DATA, 2);
		}
		if (s->v[SRC_PORT_LO] == NULL || s->v[SRC_PORT_HI] == NULL)
			return -EBADMSG;
		e = NEXT();
	}
	/* the claim tail: ct mark, byteorder, range, hash, ct set */
	if (!raw_expr_is(e, "ct") || !raw_expr_is(NEXT(), "byteorder"))
		return -EBADMSG;
	e = NEXT();
	if (raw_expr_is(e, "range")) {
		s->v[SRC_RANGE_LO] = raw_expr_value(e, NFTA_RANGE_FROM_DATA, 4);
		s->v[SRC_RANGE_HI] = raw_expr_value(e, NFTA_RANGE_TO_DATA, 4);
	}
	if (s->v[SRC_RANGE_LO] == NULL || s->v[SRC_RANGE_HI] == NULL)
		return -EBADMSG;
	e = NEXT();
	a = raw_expr_is(e, "hash") ? raw_expr_attr(e, NFTA_HASH_OFFSET) : NULL;
	if (a == NULL || a->len != sizeof(uint32_t))
		return -EBADMSG;
	s->v[SRC_TAG] = a->data;
	return 0;
#undef NEXT
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

/* The values, each one that layout_compile() could have written. */
static int
claim_from_src(const struct raw_rule *r, const struct claim_src *s, struct claim *cl)
{
	int p;

	memset(cl, 0, sizeof(*cl));
	cl->kind = s->match ? CLAIM_MATCH : CLAIM_DEFAULT;
	if (s->v[SRC_DADDR] != NULL) {
		cl->daddr = get32(s->v[SRC_DADDR]);
		cl->plen = 32;
	}
	if (s->v[SRC_MASK] != NULL) {
		uint32_t m = get32(s->v[SRC_MASK]);

		cl->plen = (uint8_t)__builtin_popcount(m);
		/* a mask that is not a prefix would not match a CIDR */
		if (cl->plen == 0 || htonl(m) != prefix_mask(cl->plen) || (cl->daddr & ~m) != 0)
			return -EBADMSG;
	}
	if (s->v[SRC_PROTO] != NULL) {
		p = proto_from_number(*(const uint8_t *)s->v[SRC_PROTO]);
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
	cl->range_lo = get32(s->v[SRC_RANGE_LO]);
	cl->range_hi = get32(s->v[SRC_RANGE_HI]);
	cl->tag = get32(s->v[SRC_TAG]);
	if (cl->kind == CLAIM_MATCH)
		return parse_claim_udata(r, cl);
	return r->udata == NULL ? 0 : -EBADMSG;
}

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
		return claim_from_src(r, &s, ret);
	if (raw_rule_parse_exprs(r) < 0 || extract_src(r, &s) < 0 || claim_from_src(r, &s, &cl) < 0)
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

struct set_shape {
	uint32_t flags;
	uint32_t key_type;
	uint32_t key_len;
	uint32_t data_type;
	uint32_t data_len; /* as the kernel reports it */
	bool counter;
	/* set userdata as nft writes it: key and data byte order */
	const char *udata;
	uint32_t udata_len;
};

#define UDATA(s) s, sizeof(s) - 1
/* The kernel's struct nft_verdict, as a verdict map reports its data. */
#define VERDICT_DATA_LEN 16
/* nft marks a concatenated key with a typeof attribute; keep it so that
 * `nft list` prints the elements of allow and deny as nft would. */
#define CONCAT_UDATA "\x00\x04\x00\x00\x00\x00\x03\x08\x00\x04\x0d\x00\x00\x00\x01\x00"

static const struct set_shape set_shapes[LAYOUT_SET_MAX] = {
	[LAYOUT_SET_ALLOW] = {0, (NFT_TYPE_IFNAME << NFT_TYPE_BITS) | NFT_TYPE_MARK, IFNAMSIZ + 4,
			      0, 0, true, UDATA(CONCAT_UDATA)},
	[LAYOUT_SET_DENY] = {0, (NFT_TYPE_IFNAME << NFT_TYPE_BITS) | NFT_TYPE_MARK, IFNAMSIZ + 4, 0,
			     0, true, UDATA(CONCAT_UDATA)},
	[LAYOUT_SET_ATTACHED] = {0, NFT_TYPE_IFNAME, IFNAMSIZ, 0, 0, false,
				 UDATA("\x00\x04\x01\x00\x00\x00")},
	[LAYOUT_SET_DEFTAG] =
		{NFT_SET_MAP, NFT_TYPE_IFNAME, IFNAMSIZ, NFT_TYPE_MARK, 4, false,
		 UDATA("\x00\x04\x01\x00\x00\x00\x01\x04\x01\x00\x00\x00\x06\x04\x00\x00\x00\x00")},
	[LAYOUT_SET_DISPATCH] =
		{NFT_SET_MAP, NFT_TYPE_IFNAME, IFNAMSIZ, NFT_DATA_VERDICT, VERDICT_DATA_LEN, false,
		 UDATA("\x00\x04\x01\x00\x00\x00\x01\x04\x00\x00\x00\x00\x06\x04\x00\x00\x00\x00")},
};

struct nftnl_set *
layout_set(const char *table, enum layout_set which)
{
	const struct set_shape *sh = &set_shapes[which];
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_expr *ctr = NULL;

	if (s == NULL)
		return NULL;
	if (nftnl_set_set_str(s, NFTNL_SET_TABLE, table) < 0 ||
	    nftnl_set_set_str(s, NFTNL_SET_NAME, layout_set_names[which]) < 0 ||
	    nftnl_set_set_data(s, NFTNL_SET_USERDATA, sh->udata, sh->udata_len) < 0)
		goto fail;
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
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
		ctr = expr("counter");
		if (ctr == NULL)
			goto fail;
		nftnl_set_add_expr(s, ctr); /* takes ctr */
	}
	return s;
fail:
	nftnl_set_free(s);
	return NULL;
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
	const struct set_shape *sh = &set_shapes[which];
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
	    nftnl_set_set_data(s, NFTNL_SET_USERDATA, set_shapes[LAYOUT_SET_ATTACHED].udata,
			       set_shapes[LAYOUT_SET_ATTACHED].udata_len) < 0) {
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

int
layout_drop_set_check(const struct nftnl_set *s)
{
	return nftnl_set_get_u32(s, NFTNL_SET_FLAGS) == (NFT_SET_TIMEOUT | NFT_SET_EVAL) &&
			       nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE) == NFT_TYPE_IFNAME &&
			       nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN) == IFNAMSIZ
		       ? 0
		       : -EBADMSG;
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

int
layout_base_chain_check(const struct nftnl_chain *ch)
{
	const char *type = nftnl_chain_get_str(ch, NFTNL_CHAIN_TYPE);

	if (!nftnl_chain_is_set(ch, NFTNL_CHAIN_HOOKNUM) ||
	    nftnl_chain_get_u32(ch, NFTNL_CHAIN_HOOKNUM) != NF_INET_PRE_ROUTING ||
	    nftnl_chain_get_s32(ch, NFTNL_CHAIN_PRIO) != 0 ||
	    nftnl_chain_get_u32(ch, NFTNL_CHAIN_POLICY) != NF_ACCEPT || type == NULL ||
	    strcmp(type, "filter") != 0)
		return -EBADMSG;
	return 0;
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
		const char *desc_tail, size_t tail_len)
{
	struct nftnl_set_elem *e = layout_tag_key(ifname, tag);
	struct nftnl_expr *c;

	if (e == NULL)
		return NULL;
	/* The element's counter starts where the replaced one stopped. */
	c = expr("counter");
	if (c == NULL)
		goto fail;
	nftnl_expr_set_u64(c, NFTNL_EXPR_CTR_PACKETS, ctr ? ctr->packets : 0);
	nftnl_expr_set_u64(c, NFTNL_EXPR_CTR_BYTES, ctr ? ctr->bytes : 0);
	nftnl_set_elem_add_expr(e, c); /* takes c */
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
