#ifndef AGENTD_NFT_INT_H
#define AGENTD_NFT_INT_H

/* Declarations shared by the files of nft/ only. */

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <net/if.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter/nf_tables.h>

#include "nft/layout.h"
#include "nft/nft.h"
#include "nft/region.h"

/* Debian's uapi headers predate the persist flag (Linux 6.9). */
#ifndef NFT_TABLE_F_PERSIST
#define NFT_TABLE_F_PERSIST 0x4
#endif

/* Buffers that hold netlink messages: struct nlmsghdr wants 4 bytes. */
#define NFT_MSG_ALIGNED _Alignas(8)

/*
 * Room for item n of array v (size-byte items, *cap of them): v while
 * n < *cap, else v grown to twice *cap (first when empty) with *cap
 * updated, or NULL when out of memory (v untouched).
 */
static inline void *
nft_grow(void *v, size_t n, size_t *cap, size_t size, size_t first)
{
	size_t c = *cap ? *cap * 2 : first;

	if (n < *cap)
		return v;
	v = reallocarray(v, c, size);
	if (v != NULL)
		*cap = c;
	return v;
}

/* Requests and acks are small; dumps use a larger buffer (conn.c). */
#define NFT_REQ_BUF 16384

struct nft_conn {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	bool no_owner;		     /* the kernel refused owner/persist: plain table */
	bool hold;		     /* nft_conn_hold_table() */
	bool intr_ok;		     /* dumps of a table only this agent can change */
	struct nft_options opts;     /* what the table is built with */
	struct nft_monitor *monitor; /* listening to the table's announcements */
	uint64_t sent;		     /* netlink messages sent to the kernel */
	char *rbuf;		     /* answers to requests and dumps */
	char *many;		     /* nft_conn_request_many()'s, made on first use */
	char table[NFT_TABLE_NAME_MAX + 1];
};

/* monitor.c: leave (quiet) or rejoin the announcements' group. */
#define MONITOR_QUIET_MIN 1000 /* messages in a commit worth leaving for */
void monitor_quiet(struct nft_monitor *m, bool quiet);

/* conn.c: the netfilter netlink sockets, and exchanges outside transactions. */
/* The next sequence number of c's requests. */
uint32_t nft_conn_seq(struct nft_conn *c);
/*
 * Send req and feed each answer to cb (NULL: none wanted) until the
 * kernel is done: a dump's end, or the ack. Blocks, within a timeout;
 * 0, or the kernel's or the socket's negative errno.
 */
int nft_conn_dump(struct nft_conn *c, struct nlmsghdr *req, mnl_cb_t cb, void *data);
/* The same for a request answered by many small messages (set elements asked for by key). */
int nft_conn_request_many(struct nft_conn *c, struct nlmsghdr *req, mnl_cb_t cb, void *data);
/* The ruleset generation in *ret_genid: 0, or a negative errno. Blocks. */
int nft_conn_genid(struct nft_conn *c, uint32_t *ret_genid);
/*
 * A netfilter netlink socket, close-on-exec and non-blocking, bound to
 * the multicast groups of the mask groups (0: none) on a port the
 * kernel picks, with a receive buffer of rcvbuf bytes (0: the default;
 * best effort, the kernel enforces a minimum): 0 and the socket (the
 * caller's to close) in *ret, or a negative errno.
 */
int nft_sock_open(unsigned int groups, int rcvbuf, struct mnl_socket **ret);
/*
 * nft_conn_dump() on a bare socket from nft_sock_open(), reading answers
 * of up to size bytes into buf. Blocks, within a timeout.
 */
int nft_sock_request(struct mnl_socket *nl, struct nlmsghdr *req, char *buf, size_t size,
		     mnl_cb_t cb, void *data);
/*
 * Read what waits on nl (from nft_sock_open()), a datagram of up to size
 * bytes into buf at a time, each handed to cb. Does not block: 0 once
 * nothing is left, cb's negative return, or the socket's negative errno
 * (-ENOBUFS: the kernel dropped messages for it).
 */
int nft_sock_drain(struct mnl_socket *nl, char *buf, size_t size,
		   int (*cb)(const char *buf, size_t len, void *data), void *data);

/* batch.c: one transaction, with every message mapped back to its origin. */
struct nft_batch;
struct nft_batch *nft_batch_new(struct nft_conn *c, uint32_t genid);
void nft_batch_free(struct nft_batch *b);
unsigned int nft_batch_count(const struct nft_batch *b);
/*
 * Reserve the next message: returns where to build it and its sequence
 * number in *ret_seq; the origin strings must outlive the batch. Finish
 * each message with nft_batch_next().
 */
char *nft_batch_reserve(struct nft_batch *b, const char *container, const char *rule,
			const char *what, uint32_t *ret_seq);
int nft_batch_next(struct nft_batch *b);
/*
 * The last reserved message is a set element message whose elements
 * belong to owners[i], in order: an error on one names its container.
 * owners must outlive the batch.
 */
void nft_batch_owners(struct nft_batch *b, const char *const *owners);
int nft_batch_commit(struct nft_batch *b, struct nft_error *reterr);
/* Name in reterr the origin of message seq, and of the attribute at off in it. */
void nft_batch_explain(const struct nft_batch *b, uint32_t seq, uint32_t off,
		       struct nft_error *reterr);

/* raw.c: zero-copy views of dumped rules and elements. */
#define RAW_EXPRS_MAX 16
#define RAW_ATTRS_MAX 10

struct raw_attr {
	uint16_t type; /* NLA_F_* flags masked off */
	uint16_t len;
	const void *data;
};

struct raw_expr {
	const char *name;
	unsigned int nattrs;
	struct raw_attr a[RAW_ATTRS_MAX];
};

struct raw_rule {
	const char *table;
	const char *chain;
	uint64_t handle;
	const void *udata;
	uint16_t udata_len;
	const void *exprs; /* the expressions, as sent */
	uint16_t exprs_len;
	unsigned int nexprs; /* and parsed: 0 until raw_rule_parse_exprs() */
	struct raw_expr e[RAW_EXPRS_MAX];
};

struct raw_elem {
	const void *key;
	uint16_t key_len;
	const void *data; /* value data, for maps */
	uint16_t data_len;
	int32_t verdict; /* verdict maps */
	const char *chain;
	const void *udata;
	uint16_t udata_len;
	bool has_counter;
	bool has_timeout;    /* the kernel drops it when its time is up */
	uint64_t expiration; /* then: milliseconds left */
	uint64_t packets;
	uint64_t bytes;
};

/* Views point into nlh; -EBADMSG when it does not parse or exceeds them. */
int raw_rule_parse(const struct nlmsghdr *nlh, struct raw_rule *ret);
/* The same in two steps: the rule's own attributes, then its expressions. */
int raw_rule_parse_head(const struct nlmsghdr *nlh, struct raw_rule *ret);
int raw_rule_parse_exprs(struct raw_rule *r);
int raw_elems_foreach(const struct nlmsghdr *nlh, int (*cb)(const struct raw_elem *e, void *data),
		      void *data);
const struct raw_attr *raw_expr_attr(const struct raw_expr *e, uint16_t type);
uint32_t raw_expr_u32(const struct raw_expr *e, uint16_t type); /* UINT32_MAX if absent */
const void *raw_expr_value(const struct raw_expr *e, uint16_t type, uint16_t len);
bool raw_expr_is(const struct raw_expr *e, const char *name);

/* dump.c: what a dump found, kept for nft_apply() to diff against. */
struct nft_elem {
	char ifname[16]; /* IFNAMSIZ, NUL-padded; "" in bports */
	uint32_t value;	 /* allow, deny: the tag in the key; deftag: the data; bports: the key */
	uint32_t data;	 /* ports: the data (found by interface alone) */
	char *chain;	 /* dispatch: jump target (owned); NULL for other verdicts */
	struct nft_counter ctr;
	char *tail; /* allow, deny: description tail (owned) */
	size_t tail_len;
	bool has_timeout; /* allow, deny: the element of a rule that expires */
};

struct nft_elems {
	struct nft_elem *v; /* in the kernel's order */
	size_t n;
	size_t cap;
	uint32_t *slot; /* hash index of v, built once the dump is done */
	size_t mask;
};

struct nft_state {
	bool exists;
	bool ours; /* the table carries our layout comment */
	uint32_t flags;
	uint32_t owner;
	uint32_t genid;
	unsigned int reads;  /* other commits interrupted all but the last */
	unsigned int others; /* commits elsewhere during the last (owned table) */
	char base_damage[160];
	bool base_unrepairable; /* wrong set types, foreign elements, wrong hook */
	bool set_present[LAYOUT_SET_MAX];
	bool base_chain_present;
	bool base_rules_ok;	 /* the base chain and, with a drop log, the drop chain */
	struct nft_options opts; /* what the base chain was built with */
	bool drop_chain_present;
	bool dns_chain_present; /* hooked as layout_dns_chain() makes it */
	bool drop_set_present;
	bool peers_present[2]; /* peers4, peers6 (layout_peers_set()) */
	struct nft_elems elems[LAYOUT_SET_MAX];
	char **foreign_chains; /* chains that are neither the base nor a container's */
	size_t nforeign_chains;
	char **foreign_sets;
	size_t nforeign_sets;
	/* bridged containers (bridged.c): the bridge table, the chain bridged, each b_<id> */
	bool btable;		    /* the bridge table exists, and is ours */
	bool btable_foreign;	    /* one of that name exists that is not ours */
	bool btable_damaged;	    /* ours, but not as the layout makes it: rebuilt */
	bool bridged_chain_ok;	    /* the inet chain bridged holds its rules */
	struct nft_bchain *bchains; /* sorted by container id */
	size_t nbchains;
	struct nft_dset *dsets; /* the sets of rules by name, by id then family */
	size_t ndsets;
	size_t dsets_cap;
	struct nft_container *containers; /* sorted by id */
	size_t ncontainers;
	struct region arena; /* what the containers point to, freed whole */
	uint32_t tag_max;    /* the highest tag anything in the table uses */
};

/* A set of a rule by name as dumped: exactly what layout_dset() makes. */
struct nft_dset {
	uint32_t name_id;
	uint8_t family;
	char *dname; /* owned */
	/* what it holds, when the state was read without want (owned) */
	struct nft_learned *learned;
	size_t nlearned;
	size_t learned_cap;
};

/* state.c: the set of family for name_id in the state, or NULL. */
const struct nft_dset *state_dset(const struct nft_state *st, uint32_t name_id, uint8_t family);
/* Record a dumped set (dname copied); 0 or -ENOMEM. Sorted by state_dsets_sort(). */
int state_dset_add(struct nft_state *st, uint32_t name_id, uint8_t family, const char *dname);
void state_dsets_sort(struct nft_state *st);
/* The sets of the rules by name of port (ids sort by port): the first, and *ret_n. */
const struct nft_dset *state_dsets_of_port(const struct nft_state *st, uint16_t port,
					   size_t *ret_n);

/* A chain b_<id> as dumped: is it exactly what the layout makes for its container? */
struct nft_bchain {
	char *id;
	bool ok;
};

/* state.c: is chain b_<id> in the state, and *ret_ok: exactly what the layout makes? */
bool state_bchain(const struct nft_state *st, const char *id, bool *ret_ok);
int state_bchain_cmp(const void *a, const void *b);

/* The table is c's: no other socket can change it (see NFT_TABLE_F_OWNER). */
static inline bool
state_owned_by(const struct nft_state *s, const struct nft_conn *c)
{
	return s->exists && (s->flags & NFT_TABLE_F_OWNER) && s->owner == c->portid;
}

/*
 * A hash of an element's key (value 0 for sets keyed by interface only):
 * FNV-1a, as 100,000 lookups at 10,000 containers want a hash, not a
 * sort. Inline, like nft_elems_find(): both run per rule.
 */
static inline uint32_t
nft_hash_key(const char *ifname, uint32_t value)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < IFNAMSIZ && ifname[i] != '\0'; i++)
		h = (h ^ (uint8_t)ifname[i]) * 16777619u;
	for (i = 0; i < sizeof(value); i++)
		h = (h ^ ((value >> (8 * i)) & 0xff)) * 16777619u;
	return h;
}

/*
 * The element with this key (value 0 for sets keyed by interface only),
 * or NULL; es must have been indexed (state_elems_index(), state.c).
 */
static inline const struct nft_elem *
nft_elems_find(const struct nft_elems *es, const char *ifname, uint32_t value)
{
	size_t k;

	if (es->slot == NULL)
		return NULL;
	for (k = nft_hash_key(ifname, value) & es->mask; es->slot[k] != 0; k = (k + 1) & es->mask) {
		const struct nft_elem *e = &es->v[es->slot[k] - 1];

		if (e->value == value && strncmp(e->ifname, ifname, sizeof(e->ifname)) == 0)
			return e;
	}
	return NULL;
}

/* Do two containers pin their ports to the same addresses (sorted, unique)? */
static inline bool
nft_pins_equal(const struct rules_address *a, size_t na, const struct rules_address *b, size_t nb)
{
	return na == nb && (na == 0 || memcmp(a, b, na * sizeof(*a)) == 0);
}

/* model.c: what this process last committed, per container. */
struct model_rule {
	uint64_t key;	/* model_rule_key(): counters follow a rule while it holds */
	uint8_t action; /* which set its tag's element is in */
	/* a rule by name: model_dname_key() and its sets' id (0 for others) */
	uint64_t dkey;
	uint32_t name_id;
};

struct model_ct {
	char id[RULES_ID_MAX + 1];
	char ifname[RULES_IFNAME_MAX + 1];
	uint32_t base;
	uint16_t port; /* its id in the packet mark, from a bridge port (ports, bports) */
	bool bridged;  /* its interface is a bridge port: its chain b_<id> and bports element */
	uint8_t policy;
	bool has6;			 /* IPv6 rules: its chain c6_<id> and a dispatch6 element */
	bool has_names;			 /* rules by name, with their sets */
	struct rules_address *addresses; /* its pins, in the same allocation */
	size_t naddresses;
	uint32_t nrules;
	struct model_rule rules[];
};

struct nft_model {
	void *by_id; /* tsearch trees of the same struct model_ct nodes */
	void *by_ifname;
	size_t n;
	uint32_t tag_next; /* the first tag no block has used */
	bool valid;	   /* false until an nft_apply() commits, and after a failure */
	uint8_t ports_used[(LAYOUT_PORT_MAX + 1) / 8];
};

const struct model_ct *model_find(const struct nft_model *m, const char *id);
const struct model_ct *model_find_ifname(const struct nft_model *m, const char *ifname);
uint64_t model_rule_key(const struct rules_rule *r);
/* What stays the same while a rule by name keeps its id and name; never 0. */
uint64_t model_dname_key(const char *rule_id, const char *dname);
/* c as committed on tag block base and port, with name_ids (NULL: none) of its rules by name. */
int model_set(struct nft_model *m, const struct rules_container *c, uint32_t base, uint16_t port,
	      const uint32_t *name_ids);
/* Is port id taken (0 and ids past the last count as taken)? */
bool model_port_used(const struct nft_model *m, uint16_t port);
/* Why -ENOSPC: more containers attached than there are port ids. */
void nft_port_ids_spent(struct nft_error *reterr);
/* The lowest port id not taken: 0, or -ENOSPC. */
int model_port_alloc(const struct nft_model *m, uint16_t *ret);
void model_remove(struct nft_model *m, const char *id);
void model_clear(struct nft_model *m);

#endif
