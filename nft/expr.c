/*
 * Expression builders, one per kind of expression the layout uses (see
 * expr.h). Each sets exactly the attributes the kernel reports back in
 * a dump, so that a dumped expression and a built one compare equal.
 */

#include <stddef.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>

#include "nft/expr.h"

struct nftnl_expr *
expr_payload(uint32_t base, uint32_t offset, uint32_t len)
{
	return expr_payload_to(base, offset, len, NFT_REG_1);
}

struct nftnl_expr *
expr_payload_to(uint32_t base, uint32_t offset, uint32_t len, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	return e;
}

struct nftnl_expr *
expr_cmp(uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	return e;
}

struct nftnl_expr *
expr_cmp_u8(uint8_t v)
{
	return expr_cmp(NFT_CMP_EQ, &v, sizeof(v));
}

struct nftnl_expr *
expr_range(uint32_t op, const void *from, const void *to, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("range");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_RANGE_FROM_DATA, from, len);
	nftnl_expr_set(e, NFTNL_EXPR_RANGE_TO_DATA, to, len);
	return e;
}

/* The register and mask, xor xor: len bytes of each. */
static struct nftnl_expr *
bitwise(const void *mask, const void * xor, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, xor, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_OP, NFT_BITWISE_BOOL);
	return e;
}

struct nftnl_expr *
expr_bitwise_and(const void *mask, uint32_t len)
{
	static const uint8_t zero[16]; /* up to an IPv6 address */

	return bitwise(mask, zero, len);
}

struct nftnl_expr *
expr_bitwise_mask_xor(uint32_t mask, uint32_t xor)
{
	return bitwise(&mask, &xor, sizeof(mask));
}

struct nftnl_expr *
expr_meta(uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	return e;
}

struct nftnl_expr *
expr_ct_load(uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, dreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	return e;
}

struct nftnl_expr *
expr_ct_load_dir(uint32_t key, uint8_t dir, uint32_t dreg)
{
	struct nftnl_expr *e = expr_ct_load(key, dreg);

	if (e != NULL)
		nftnl_expr_set_u8(e, NFTNL_EXPR_CT_DIR, dir);
	return e;
}

struct nftnl_expr *
expr_redir(void)
{
	struct nftnl_expr *e = nftnl_expr_alloc("redir");

	if (e == NULL)
		return NULL;
	/* as the kernel reports it: a range of one port, from the register */
	nftnl_expr_set_u32(e, NFTNL_EXPR_REDIR_REG_PROTO_MIN, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_REDIR_REG_PROTO_MAX, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_REDIR_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED);
	return e;
}

struct nftnl_expr *
expr_ct_set_mark(void)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");

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
struct nftnl_expr *
expr_const(uint32_t value)
{
	struct nftnl_expr *e = nftnl_expr_alloc("hash");

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

struct nftnl_expr *
expr_lookup(const char *set, uint32_t dreg, bool has_dreg, uint32_t flags)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

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

struct nftnl_expr *
expr_imm_data(const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
	return e;
}

struct nftnl_expr *
expr_verdict(int verdict)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, verdict);
	return e;
}

static struct nftnl_expr *
fib_type(uint32_t flags)
{
	struct nftnl_expr *e = nftnl_expr_alloc("fib");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, flags);
	return e;
}

struct nftnl_expr *
expr_fib_daddr_type(void)
{
	return fib_type(NFTA_FIB_F_DADDR);
}

struct nftnl_expr *
expr_fib_saddr_type(void)
{
	return fib_type(NFTA_FIB_F_SADDR);
}

static struct nftnl_expr *
chain_verdict(int code, const char *chain)
{
	struct nftnl_expr *e = expr_verdict(code);

	if (e != NULL && nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain) < 0) {
		nftnl_expr_free(e);
		return NULL;
	}
	return e;
}

struct nftnl_expr *
expr_goto(const char *chain)
{
	return chain_verdict(NFT_GOTO, chain);
}

struct nftnl_expr *
expr_jump(const char *chain)
{
	return chain_verdict(NFT_JUMP, chain);
}

struct nftnl_expr *
expr_limit(uint64_t rate)
{
	struct nftnl_expr *e = nftnl_expr_alloc("limit");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, rate);
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, 1); /* per second */
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, (uint32_t)rate);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, 0);
	return e;
}

struct nftnl_expr *
expr_dynset_limit(const char *set, uint64_t rate)
{
	struct nftnl_expr *e = nftnl_expr_alloc("dynset"), *l = expr_limit(rate);

	if (e == NULL || l == NULL || nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, set) < 0) {
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

struct nftnl_expr *
expr_dynset_map(const char *set, uint32_t sreg_key, uint32_t sreg_data)
{
	struct nftnl_expr *e = nftnl_expr_alloc("dynset");

	if (e == NULL || nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, set) < 0) {
		nftnl_expr_free(e);
		return NULL;
	}
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, sreg_key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_DATA, sreg_data);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_ADD);
	nftnl_expr_set_u64(e, NFTNL_EXPR_DYNSET_TIMEOUT, 0);
	/* the kernel reports the flags, 0 too */
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_FLAGS, 0);
	return e;
}

struct nftnl_expr *
expr_meta_set_mark(void)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_MARK);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NFT_REG_1);
	return e;
}

struct nftnl_expr *
expr_log(uint16_t group, uint32_t snaplen)
{
	struct nftnl_expr *e = nftnl_expr_alloc("log");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, group);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_SNAPLEN, snaplen);
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_QTHRESHOLD, 0);
	return e;
}

struct nftnl_expr *
expr_hton(uint32_t size)
{
	struct nftnl_expr *e = nftnl_expr_alloc("byteorder");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN, size);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, size);
	return e;
}
