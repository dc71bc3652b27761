#ifndef AGENTD_NFT_EXPR_H
#define AGENTD_NFT_EXPR_H

/*
 * Expression builders (expr.c), one per kind, for layout.c. Each
 * returns a new expression that the caller owns (nftnl_rule_add_expr()
 * takes it), or NULL when out of memory, and sets exactly the
 * attributes the kernel reports back in a dump, so that a dumped
 * expression and a built one compare equal. Data is copied. Registers
 * are register 1 unless a parameter names one.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h> /* libnftnl's headers want FILE */

#include <libnftnl/expr.h>

/* Load len bytes at offset of the header base (NFT_PAYLOAD_*). */
struct nftnl_expr *expr_payload(uint32_t base, uint32_t offset, uint32_t len);
/* The same into register dreg. */
struct nftnl_expr *expr_payload_to(uint32_t base, uint32_t offset, uint32_t len, uint32_t dreg);
/* Compare the register with op (NFT_CMP_*) against len bytes of data. */
struct nftnl_expr *expr_cmp(uint32_t op, const void *data, uint32_t len);
/* The register's first byte equals v. */
struct nftnl_expr *expr_cmp_u8(uint8_t v);
/* The register is (NFT_RANGE_EQ) or is not in [from, to], len bytes each. */
struct nftnl_expr *expr_range(uint32_t op, const void *from, const void *to, uint32_t len);
/* The register and mask, len bytes (at most 16). */
struct nftnl_expr *expr_bitwise_and(const void *mask, uint32_t len);
/* The 32-bit register and mask, xor xor: bits to keep, then bits to set. */
struct nftnl_expr *expr_bitwise_mask_xor(uint32_t mask, uint32_t xor);
/* Meta key (NFT_META_*) into register dreg. */
struct nftnl_expr *expr_meta(uint32_t key, uint32_t dreg);
/* Conntrack key (NFT_CT_*) into register dreg. */
struct nftnl_expr *expr_ct_load(uint32_t key, uint32_t dreg);
/* The same of the connection's dir (IP_CT_DIR_*) tuple (NFT_CT_PROTO_SRC, ...). */
struct nftnl_expr *expr_ct_load_dir(uint32_t key, uint8_t dir, uint32_t dreg);
/* Redirect to the local port in the register (network byte order). */
struct nftnl_expr *expr_redir(void);
/* The register into the conntrack mark. */
struct nftnl_expr *expr_ct_set_mark(void);
/* The register into the packet mark. */
struct nftnl_expr *expr_meta_set_mark(void);
/* The 32-bit constant value into the register, without a validate hook. */
struct nftnl_expr *expr_const(uint32_t value);
/* The register in set; with has_dreg, its data into dreg. */
struct nftnl_expr *expr_lookup(const char *set, uint32_t dreg, bool has_dreg, uint32_t flags);
/* len bytes of data into the register. */
struct nftnl_expr *expr_imm_data(const void *data, uint32_t len);
/* A verdict (NF_ACCEPT, NF_DROP, NFT_GOTO ...). */
struct nftnl_expr *expr_verdict(int verdict);
/* Goto chain. */
struct nftnl_expr *expr_goto(const char *chain);
struct nftnl_expr *expr_jump(const char *chain);
/* The routing type of the destination address into the register. */
struct nftnl_expr *expr_fib_daddr_type(void);
/* The same of the source address. */
struct nftnl_expr *expr_fib_saddr_type(void);
/* The register from host to network byte order, as one value of size (4 or 8) bytes. */
struct nftnl_expr *expr_hton(uint32_t size);
/* At most rate packets per second, bursts of as many. */
struct nftnl_expr *expr_limit(uint64_t rate);
/* update @set { register limit rate per second }: one bucket per key. */
struct nftnl_expr *expr_dynset_limit(const char *set, uint64_t rate);
/* add @set { register sreg_key : register sreg_data }, with the set's timeout. */
struct nftnl_expr *expr_dynset_map(const char *set, uint32_t sreg_key, uint32_t sreg_data);
/* Log the packet to NFLOG group, snaplen bytes of it. */
struct nftnl_expr *expr_log(uint16_t group, uint32_t snaplen);

#endif
