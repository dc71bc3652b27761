#ifndef AGENTD_NFT_LAYOUT_H
#define AGENTD_NFT_LAYOUT_H

/*
 * The objects of the program's table (nft/ only): built by layout.c and
 * claim.c, recognised in dumps by recognise.c and, for the claims of
 * container chains, by the learned templates of claim_cache.c.
 */

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h> /* libnftnl's headers want FILE */

#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "nft/nft.h"

struct raw_rule;

#define LAYOUT_COMMENT "hoody-firewall layout 1"
#define LAYOUT_BASE_CHAIN "pre"
#define LAYOUT_CHAIN_PREFIX "c_"
#define LAYOUT_CHAIN6_PREFIX "c6_" /* a container's IPv6 claims, when it has IPv6 rules */
#define LAYOUT_CHAIN_NAME_MAX (sizeof(LAYOUT_CHAIN6_PREFIX) - 1 + RULES_ID_MAX)

/* The drop log's chain and its per container buckets. */
#define LAYOUT_DROP_CHAIN "drops"
#define LAYOUT_DROP_SET "droprate"
#define LAYOUT_DROP_SET_SIZE 65535
#define LAYOUT_DROP_NRULES 2
#define LAYOUT_DROP_HOST_RATE 1000 /* log entries per second for the whole host */
#define LAYOUT_DROP_SNAPLEN 128	   /* enough for the IP and transport headers */

/* nft's datatype ids, so that `nft list` shows our sets readably. */
#define NFT_TYPE_IPADDR 7
#define NFT_TYPE_IP6ADDR 8
#define NFT_TYPE_INET_SERVICE 13
#define NFT_TYPE_MARK 19
#define NFT_TYPE_IFNAME 41
#define NFT_TYPE_BITS 6

enum layout_set {
	LAYOUT_SET_ALLOW = 0, /* ifname . mark: tags whose verdict is accept */
	LAYOUT_SET_DENY,      /* ifname . mark: tags whose verdict is drop */
	LAYOUT_SET_ATTACHED,  /* ifname: container interfaces */
	LAYOUT_SET_DEFTAG,    /* ifname : mark: the default tag, for IPv6 */
	LAYOUT_SET_DISPATCH,  /* ifname : verdict: jump to the container chain */
	LAYOUT_SET_DISPATCH6, /* ifname : verdict: jump to its IPv6 chain, if it has one */
	LAYOUT_SET_DNS,	      /* ifname: containers with rules by name, their DNS to the resolver */
	LAYOUT_SET_PORTS,     /* bridge table, ifname : mark: every container's port id */
	LAYOUT_SET_BPORTS,    /* mark : verdict: goto b_<id> of a container on a bridge */
	LAYOUT_SET_DNSB,      /* mark: bridged containers with rules by name (set dns's kin) */
	LAYOUT_SET_PINNED,    /* bridge table, ifname: ports with "addresses" */
	LAYOUT_SET_PIN4,      /* bridge table, ifname . ipv4_addr: what they may claim */
	LAYOUT_SET_PIN6,      /* bridge table, ifname . ipv6_addr */
	LAYOUT_SET_MAX,
};

extern const char *const layout_set_names[LAYOUT_SET_MAX];

/*
 * Rules by name. Each has a set per family, d4_<id> (ipv4_addr) and
 * d6_<id> (ipv6_addr), of the addresses the container's lookups of a
 * matching name returned, each element timing out with its answer; its
 * claims match the destination against them. The id is the container's
 * port id and a number unique in the container, so that it stays with
 * the rule while the container is rewritten (and the learned addresses
 * with it) and names no other container's sets. The set's comment
 * holds the rule's name.
 */
#define LAYOUT_DSET_NAME_MAX 12 /* "d4_" + 8 hex digits + NUL */
#define LAYOUT_DNUM_MAX 0xffffu /* numbers 1 to this in a container */

static inline uint32_t
layout_name_id(uint16_t port, uint16_t num)
{
	return (uint32_t)port << 16 | num;
}

void layout_dset_name(uint8_t family, uint32_t name_id, char buf[LAYOUT_DSET_NAME_MAX]);
/* Is name that of a set of a rule by name? Its family and id, then. */
bool layout_dset_parse(const char *name, uint8_t *ret_family, uint32_t *ret_name_id);
/* The set of family for the rule by name dname with name_id. */
struct nftnl_set *layout_dset(const char *table, uint8_t family, uint32_t name_id,
			      const char *dname);
/*
 * 0 when a dumped set is one layout_dset() makes for family, with the
 * rule's name copied to dname; else -EBADMSG.
 */
int layout_dset_check(const struct nftnl_set *s, uint8_t family, char dname[RULES_DNAME_MAX + 1]);

/* The family of the table a set is in: ports is the bridge table's. */
static inline uint8_t
layout_set_family(enum layout_set which)
{
	return which == LAYOUT_SET_PORTS || which >= LAYOUT_SET_PINNED ? 7 /* NFPROTO_BRIDGE */
								       : 1 /* NFPROTO_INET */;
}

/*
 * Bridged containers (bridged.c). A frame from a container's port
 * carries the port's id in the packet mark from the bridge table's
 * prerouting to the inet table's: the bits of LAYOUT_MARK_FIELD, with
 * LAYOUT_MARK_VALID set, are replaced, and taken out again before the
 * packet is accepted. A port that is not a container's gets the field
 * with id 0 (EXEMPT); the container cannot set a mark that crosses
 * into the host. Tags never have bit 31, so that a tag copied into the
 * mark by someone else can never pass for an id.
 */
#define LAYOUT_MARK_FIELD 0xffff0000u
#define LAYOUT_MARK_VALID 0x80000000u
#define LAYOUT_MARK_EXEMPT LAYOUT_MARK_VALID
#define LAYOUT_PORT_SHIFT 16
#define LAYOUT_PORT_MAX 0x7fffu	       /* ids 1 to this */
#define LAYOUT_BRIDGED_CHAIN "bridged" /* inet: where marked packets go first */
#define LAYOUT_BCHAIN_PREFIX "b_"      /* inet: a bridged container's own chain */

static inline uint32_t
layout_port_mark(uint16_t port)
{
	return LAYOUT_MARK_VALID | (uint32_t)port << LAYOUT_PORT_SHIFT;
}

/*
 * With a resolver (nft_options.dns_port), the chain dns hooks nat
 * prerouting just before the host's own DNAT and redirects port 53 of
 * the interfaces of set dns to the resolver's port on the host.
 */
#define LAYOUT_DNS_CHAIN "dns"
#define LAYOUT_DNS_PRIO (-101)
#define LAYOUT_DNS_NRULES 6
struct nftnl_chain *layout_dns_chain(const char *table);
struct nftnl_rule *layout_dns_rule(const char *table, const struct nft_options *o, unsigned int i);
int layout_dns_chain_check(const struct nftnl_chain *ch);
/*
 * An accepted TCP connection carries no mark, so the chain dns records
 * who opened each TCP connection it redirects from a bridge: the maps
 * peers4 and peers6, bridge . source address . source port : the mark,
 * filled by the kernel as the handshake passes, each entry for
 * LAYOUT_PEERS_TIMEOUT_MS. The resolver asks agentd (nft_dns_peer()).
 */
#define LAYOUT_PEERS_TIMEOUT_MS 10000
#define LAYOUT_PEERS_SIZE 65535
const char *layout_peers_name(bool v6);
struct nftnl_set *layout_peers_set(const char *table, bool v6);
int layout_peers_set_check(const struct nftnl_set *s, bool v6);
/* The key of an entry: bridge, address (4 or 16 bytes), port (network order). */
size_t layout_peers_key(uint8_t key[16 + 16 + 4], const char *ifname, bool v6, const void *addr,
			uint16_t port);

/* The chains of the bridge table. */
enum layout_bchain {
	LAYOUT_BR_PRE = 0, /* prerouting: which port, which id */
	LAYOUT_BR_OURS,	   /* a container's port: only ARP, IPv4, IPv6 */
	LAYOUT_BR_PINS,	   /* a pinned port: only its own addresses */
	LAYOUT_BR_FW,	   /* forward: bridged IP of ours the IP hooks never saw */
	LAYOUT_BR_MAX,
};

extern const char *const layout_bchain_names[LAYOUT_BR_MAX];

/* What a set is made with, and what a dumped one must say of itself. */
struct layout_set_shape {
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

extern const struct layout_set_shape layout_set_shapes[LAYOUT_SET_MAX];

/* The IP protocol number of each enum rules_proto (0 for any), by family. */
extern const uint8_t layout_proto_numbers[RULES_FAMILY_MAX][RULES_PROTO_MAX];

/* The kinds of rule in a container chain, in chain order. */
enum claim_kind {
	CLAIM_MATCH = 0, /* one port item of a user rule */
	CLAIM_DEFAULT,	 /* nothing claimed the packet: the default action does */
	CLAIM_MAX,
};

/*
 * One rule of a container chain. A claim writes its tag into the
 * conntrack mark unless the mark already holds a tag in
 * [range_lo, range_hi]; the base chain turns the tag into a verdict.
 */
struct claim {
	uint8_t kind;
	uint8_t family; /* enum rules_family: c_<id> holds IPv4's and the default, c6_<id> IPv6's */
	uint8_t plen;
	uint8_t proto; /* enum rules_proto */
	bool has_port;
	uint32_t daddr;	    /* IPv4: host byte order */
	uint8_t daddr6[16]; /* IPv6 */
	uint16_t port_lo;
	uint16_t port_hi;
	uint32_t range_lo;
	uint32_t range_hi;
	uint32_t tag;
	uint32_t name_id;   /* a rule by name: its sets d4_/d6_ (layout_dset_name()); 0 none */
	int64_t expires_at; /* CLAIM_MATCH: its rule's, in seconds since the epoch; 0 never */
	uint8_t id_len;
	const char *id;	  /* CLAIM_MATCH: the user rule's id, not NUL-terminated; not owned */
	const char *desc; /* head of the description; not owned */
	size_t desc_len;
};

/* Our userdata attributes, above the types nft itself uses. */
enum {
	LAYOUT_UDATA_RULE_ID = 16,
	LAYOUT_UDATA_DESC = 17,
	LAYOUT_UDATA_IFPREFIX = 18, /* base rule 0: the options, see nft_options */
	LAYOUT_UDATA_DROPLOG = 19,
	LAYOUT_UDATA_DNS = 20,
};

/* Rule userdata: the head of a description; element userdata: the rest. */
#define LAYOUT_RULE_UDATA_MAX 256
#define LAYOUT_ELEM_UDATA_MAX 254 /* the kernel stores element userdata length in a u8 */

/*
 * An IPv4 claim with an address and a protocol matches the header from
 * the protocol (offset 9) to the end of the destination (offset 16) in
 * one load; the destination is at LAYOUT_SPAN4_DADDR in it.
 */
#define LAYOUT_SPAN4_OFF 9
#define LAYOUT_SPAN4_LEN 11
#define LAYOUT_SPAN4_DADDR 7

/* The network mask of a prefix length, in network byte order. */
static inline uint32_t
layout_prefix_mask(uint8_t plen)
{
	return plen == 0 ? 0 : htobe32(~0u << (32 - plen));
}

/* The network mask of an IPv6 prefix length in its first (plen + 7) / 8 bytes. */
static inline void
layout_prefix_mask6(uint8_t plen, uint8_t mask[16])
{
	unsigned i;

	for (i = 0; i < 16; i++)
		mask[i] = plen >= 8 * (i + 1) ? 0xff
			  : plen <= 8 * i     ? 0
					      : (uint8_t)(0xff << (8 - (plen - 8 * i)));
}

/*
 * Rule assembly (layout.c): any allocation failure marks the builder
 * failed, and the caller checks once at the end instead of after every
 * expression.
 */
struct layout_rb {
	struct nftnl_rule *r;
	bool failed;
};

/* A new rule of family inet for table and chain (copied), or NULL when out of memory. */
struct nftnl_rule *layout_rb_new(const char *table, const char *chain);
/* Append e (taken) to b's rule; NULL (an allocation that failed) marks b failed. */
void layout_rb_add(struct layout_rb *b, struct nftnl_expr *e);
/* b's rule, the caller's now, or NULL (and the rule freed) when b failed. */
struct nftnl_rule *layout_rb_done(struct layout_rb *b);

/* layout.c: building. */
/* A new rule of family (NFPROTO_*) for table and chain (copied), or NULL. */
struct nftnl_rule *layout_rb_new_family(uint8_t family, const char *table, const char *chain);
void layout_chain_name(const char *container_id, char buf[LAYOUT_CHAIN_NAME_MAX + 1]);
void layout_bchain_name(const char *container_id, char buf[LAYOUT_CHAIN_NAME_MAX + 1]);
void layout_chain6_name(const char *container_id, char buf[LAYOUT_CHAIN_NAME_MAX + 1]);
/* The container id of a container's chain (c_, c6_ or b_), or NULL for other chains. */
const char *layout_chain_container(const char *chain);
/* The family whose claims a container chain holds (enum rules_family). */
uint8_t layout_chain_family(const char *chain);
/* claim.c: how much of a description of desc_len bytes rides in the rule's userdata. */
size_t layout_desc_head_len(const char *rule_id, size_t desc_len);

/*
 * Object builders: each returns a new libnftnl object that the caller
 * owns, or NULL when out of memory (or, for rules, when i is past the
 * chain's last rule). Copies what it is given.
 */
struct nftnl_table *layout_table(const char *table, uint32_t flags);
struct nftnl_set *layout_set(const char *table, enum layout_set which);
struct nftnl_chain *layout_base_chain(const char *table);
struct nftnl_chain *layout_container_chain(const char *table, const char *chain);
/* How many rules the base chain has with these options. */
unsigned int layout_base_nrules(const struct nft_options *o);
struct nftnl_rule *layout_base_rule(const char *table, const struct nft_options *o, unsigned int i);
struct nftnl_set *layout_drop_set(const char *table);
struct nftnl_rule *layout_drop_rule(const char *table, const struct nft_options *o, unsigned int i);
/* claim.c */
struct nftnl_rule *layout_claim_rule(const char *table, const char *chain, const struct claim *cl);
/*
 * bridged.c: the bridge table (family bridge, named as ours), its chains
 * and their rules; the inet chain bridged; a bridged container's chain
 * b_<id> for its interface.
 */
struct nftnl_table *layout_btable(const char *table, uint32_t flags);
struct nftnl_chain *layout_bchain(const char *table, enum layout_bchain which);
unsigned int layout_bchain_nrules(const struct nft_options *o, enum layout_bchain which);
struct nftnl_rule *layout_bchain_rule(const char *table, const struct nft_options *o,
				      enum layout_bchain which, unsigned int i);
#define LAYOUT_BRIDGED_NRULES 4
struct nftnl_rule *layout_bridged_rule(const char *table, unsigned int i);
unsigned int layout_bport_nrules(const struct nft_options *o);
struct nftnl_rule *layout_bport_rule(const char *table, const struct nft_options *o,
				     const char *chain, const char *ifname, unsigned int i);
struct nftnl_set_elem *layout_ports_elem(const char *ifname, uint16_t port);
/* An element of pin4 or pin6 (as family): the interface and an address of its (4 or 16 bytes). */
struct nftnl_set_elem *layout_pin_elem(const char *ifname, uint8_t family, const uint8_t *addr);
struct nftnl_set_elem *layout_bports_elem(uint16_t port,
					  const char *chain); /* chain NULL: key only */

/*
 * Element builders. Keys are the interface name, zero-padded to
 * IFNAMSIZ, followed by the tag for the allow and deny sets.
 */
struct nftnl_set_elem *layout_tag_key(const char *ifname, uint32_t tag); /* key only */
/* expires_at (seconds since the epoch, 0 never): the element goes then. */
struct nftnl_set_elem *layout_tag_elem(const char *ifname, uint32_t tag,
				       const struct nft_counter *ctr, const char *desc_tail,
				       size_t tail_len, int64_t expires_at);
/* From now until expires_at, in milliseconds; at least 1, as 0 would mean never. */
uint64_t layout_timeout_ms(int64_t expires_at);
struct nftnl_set_elem *layout_ifname_elem(const char *ifname);
struct nftnl_set_elem *layout_deftag_elem(const char *ifname, uint32_t tag);
struct nftnl_set_elem *layout_dispatch_elem(const char *ifname, const char *chain);

/*
 * claim.c: compile a container into its claims, in tag order, with tags from
 * tag_base (one per rule, then the default's). Returns the number of
 * claims written to out (at most layout_nclaims(c)). Each goes to the
 * chain of its family, in this order; the default goes to c_<id>.
 */
size_t layout_nclaims(const struct rules_container *c);
/* Does c have IPv6 rules (or rules by name), and so a chain c6_<id> and a dispatch6 element? */
bool layout_has_ipv6(const struct rules_container *c);
/*
 * A rule by name i has claims in both chains, with name_ids[i] (NULL
 * when c has none): its IPv4 items, then its IPv6 items.
 */
size_t layout_compile(const struct rules_container *c, uint32_t tag_base, const uint32_t *name_ids,
		      struct claim *out);

/*
 * recognise.c: 0 when a dumped object is exactly what the builders
 * make, else -EBADMSG (-ENOMEM when building the reference failed).
 */
int layout_base_rule_check(const struct nftnl_rule *r, const char *table,
			   const struct nft_options *o, unsigned int i);
int layout_drop_rule_check(const struct nftnl_rule *r, const char *table,
			   const struct nft_options *o, unsigned int i);
int layout_drop_set_check(const struct nftnl_set *s);
int layout_set_check(const struct nftnl_set *s, const char *table, enum layout_set which);
int layout_base_chain_check(const struct nftnl_chain *ch);
/* Does a dumped table carry our layout's comment? */
bool layout_table_ours(const struct nftnl_table *t);
/* 0 when r is the same as want (taken), else -EBADMSG; -ENOMEM when want is NULL. */
int layout_rule_check(const struct nftnl_rule *r, struct nftnl_rule *want);
/* 0 when a dumped chain of the bridge table is hooked as which is. */
int layout_bchain_check(const struct nftnl_chain *ch, enum layout_bchain which);
/*
 * The options a dumped base rule 0 says the table was built with: 0
 * and *ret filled (all zero without options), or -EBADMSG and *ret
 * zeroed.
 */
int layout_base_options(const struct nftnl_rule *r, struct nft_options *ret);

/*
 * Where a dumped claim keeps its values: pointers into the rule, found
 * by following the builder's order. Only the values differ between two
 * claims of one shape (see claim_cache.c).
 */
enum {
	SRC_MASK = 0, /* absent: no address, or a host outside an IPv4 span */
	SRC_DADDR,
	SRC_PROTO,
	SRC_PORT_LO,
	SRC_PORT_HI, /* the same as SRC_PORT_LO for a single port */
	SRC_RANGE_LO,
	SRC_RANGE_HI,
	SRC_TAG,
	SRC_EXPIRES, /* big-endian nanoseconds since the epoch */
	SRC_DSET,    /* the name of a rule by name's set, NUL-terminated */
	SRC_MAX,
};

struct claim_src {
	bool match;
	const void *v[SRC_MAX]; /* NULL where the claim has no such value */
	uint8_t len[SRC_MAX];	/* their lengths: an IPv6 network's depends on its prefix */
};

/*
 * Find where r's values are, following the order in which the builder
 * writes a claim of family (enum rules_family) through r's parsed
 * expressions; lenient about everything else, which the claim cache's
 * templates check. 0, or -EBADMSG when a value is not there.
 */
int layout_claim_src(const struct raw_rule *r, uint8_t family, struct claim_src *s);
/*
 * Read the values s points to into *cl, a claim of family, with the
 * id and description from r's userdata (cl points into r). 0 when each
 * is one that layout_compile() could have written, else -EBADMSG.
 */
int layout_claim_from_src(const struct raw_rule *r, uint8_t family, const struct claim_src *s,
			  struct claim *cl);

/*
 * claim_cache.c: claims are checked against templates that the cache
 * builds once per shape of rule, and those seen once are recognised by
 * their bytes. new returns NULL when out of memory; free accepts NULL.
 */
struct claim_cache;
struct claim_cache *layout_claim_cache_new(void);
void layout_claim_cache_free(struct claim_cache *cc);
/*
 * 0 and the claim in *ret when r is exactly a claim of family (that of
 * the chain it is in) the builder makes (ret's id and desc point into
 * r), -EBADMSG when not, -ENOMEM. r needs only its head parsed: its
 * expressions are parsed when no claim seen before shows that it is
 * one too.
 */
int layout_claim_match(struct claim_cache *cc, struct raw_rule *r, uint8_t family,
		       struct claim *ret);

#endif
