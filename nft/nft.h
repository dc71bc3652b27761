#ifndef AGENTD_NFT_H
#define AGENTD_NFT_H

/*
 * nft: the only module that speaks nf_tables netlink.
 *
 * It turns a desired rules_set into one nf_tables transaction on the
 * program's table, and reads that table back into the same model with
 * counters. The kernel is the only source of truth for the read-back:
 * everything needed to recover ids and descriptions lives in the
 * ruleset itself (rule and element userdata).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "rules/rules.h"

#define NFT_TABLE_DEFAULT "hoody_egress"
#define NFT_TABLE_NAME_MAX 64

struct nft_conn;
struct nft_state;

/*
 * How the table treats interfaces of containers not yet registered, and
 * whether it reports drops; kept in the table itself, so that a dump
 * knows what the table was built with.
 */
#define NFT_IFPREFIX_MAX 8
struct nft_options {
	char ifprefix[NFT_IFPREFIX_MAX][16]; /* unowned interfaces named so: all dropped */
	unsigned int nifprefix;
	uint32_t log_rate;  /* drop log entries per container per second; 0: no drop log */
	uint16_t log_group; /* its NFLOG group */
	/* the resolver's port: containers with rules by name have their DNS
	 * queries redirected there; 0: no resolver */
	uint16_t dns_port;
};

bool nft_options_equal(const struct nft_options *a, const struct nft_options *b);

struct nft_counter {
	uint64_t packets;
	uint64_t bytes;
};

/* One container as the kernel enforces it. */
struct nft_container {
	struct rules_container fw;    /* rules in canonical order */
	struct nft_counter *counters; /* one per fw.rules[i]; NULL when damaged */
	struct nft_counter dflt;      /* packets that took the default action */
	uint32_t tag_base;	      /* first conntrack-mark tag of its block */
	bool chain4, chain6;	      /* its chains the table holds: c_<id>, c6_<id> */
	uint16_t port;		      /* its id in the packet mark (0: none found) */
	/* per rule: a rule by name's id (layout_name_id()), else 0; NULL without such rules */
	uint32_t *name_ids;
	char damage[160]; /* "" when the kernel objects are sound */
	/* nft_dump() with want: the container of want that the kernel holds
	 * exactly; then fw has only id, interface and default action, and
	 * there are no counters. NULL: decoded in full. */
	const struct rules_container *same;
};

/*
 * Why a kernel operation failed: err is a negative errno; container
 * and rule name the object the failing message was built from ("" when
 * it was not tied to one); detail holds the kernel's extended ack text
 * or our own explanation.
 */
struct nft_error {
	int err;
	char container[RULES_ID_MAX + 1];
	char rule[RULES_ID_MAX + 1];
	char what[48];
	char detail[256];
};

struct nft_apply_stats {
	unsigned int messages;	/* netlink messages in the transaction; 0: nothing to do */
	unsigned int build_us;	/* planning and building the transaction */
	unsigned int commit_us; /* from sending the transaction to the kernel's answer */
	unsigned int created;	/* containers */
	unsigned int updated;
	unsigned int removed;
	unsigned int unchanged;
	bool persist;	/* the table is made with owner+persist: tamper protection is on */
	uint32_t genid; /* nft_apply(): the ruleset generation it left (its own commit's) */
};

/*
 * Open a netfilter netlink socket for table name (family inet). Returns
 * 0 and a new connection in *ret, or a negative errno. The socket is the
 * table's owner once an apply creates or adopts it, for as long as it is
 * open.
 */
int nft_conn_open(const char *table, struct nft_conn **ret);
void nft_conn_close(struct nft_conn *c);
const char *nft_conn_table(const struct nft_conn *c);
/*
 * A long-lived connection holds the table: from now on nft_apply()
 * adopts a table that no live process owns even when nothing else
 * differs, so that tamper protection covers the process's lifetime.
 */
void nft_conn_hold_table(struct nft_conn *c);
/* The ruleset generation: it changes with every commit by anyone. */
int nft_genid(struct nft_conn *c, uint32_t *ret);
/* Netlink messages sent to the kernel so far, through c and its helpers. */
uint64_t nft_conn_sent(const struct nft_conn *c);
/* Create a plain table, without the owner and persist flags. */
void nft_conn_no_owner(struct nft_conn *c);
/* What nft_apply() builds the table with from now on (default: nothing extra). */
void nft_conn_set_options(struct nft_conn *c, const struct nft_options *o);

/*
 * Dump the table and decode it. Blocks until the kernel answered.
 * Returns 0 and a new state in *ret (a missing table is an empty state),
 * or a negative errno with *reterr filled. With want (else NULL), the
 * containers the kernel holds exactly as want has them are only checked,
 * not decoded (see nft_container.same): what nft_apply() of the same
 * want needs, at a fraction of the cost. want must outlive the state.
 */
int nft_dump(struct nft_conn *c, const struct rules_set *want, struct nft_state **ret,
	     struct nft_error *reterr);
void nft_state_free(struct nft_state *s);

bool nft_state_table_exists(const struct nft_state *s);
/* owner: a live process owns the table now; persist: it outlives its owner */
bool nft_state_table_owned(const struct nft_state *s);
bool nft_state_table_persist(const struct nft_state *s);
uint32_t nft_state_genid(const struct nft_state *s);
/* How many times the table was read: other commits interrupt a reading. */
unsigned int nft_state_reads(const struct nft_state *s);
/* Commits elsewhere while a table only this agent can change was read
 * (they could not touch it: the reading stands). */
unsigned int nft_state_others(const struct nft_state *s);
size_t nft_state_count(const struct nft_state *s);
const struct nft_container *nft_state_get(const struct nft_state *s, size_t i); /* by id */
const struct nft_container *nft_state_find(const struct nft_state *s, const char *id);
/* "" when the table's own objects (base chain, sets) are sound */
const char *nft_state_base_damage(const struct nft_state *s);

/* An address a rule by name opened, and for how long yet. */
struct nft_learned {
	uint8_t family;	  /* enum rules_family */
	uint8_t addr[16]; /* network byte order; IPv4 in the first 4 */
	uint64_t ms_left;
};

/*
 * The addresses of family that the rule by name with name_id (see
 * nft_container.name_ids) holds open, in *ret_n: read only by a dump
 * without want (the audit, agentd --dump, the start).
 */
const struct nft_learned *nft_state_learned(const struct nft_state *st, uint32_t name_id,
					    uint8_t family, size_t *ret_n);
/*
 * An address a container's lookup returned, to open for timeout_ms in
 * the sets of the rule by name with name_id (learn.c).
 */
struct nft_learn {
	const char *container; /* for errors; not owned */
	const char *rule;
	uint32_t name_id;
	uint8_t family;	  /* enum rules_family */
	uint8_t addr[16]; /* network byte order; IPv4 in the first 4 */
	uint64_t timeout_ms;
};

/*
 * Open v[0..n) in one transaction; an address open already stays open
 * for timeout_ms from now. Returns 0 or a negative errno with *reterr
 * naming the container and rule (-ENOENT: a set is gone with its rule).
 */
int nft_learn(struct nft_conn *c, const struct nft_learn *v, size_t n, struct nft_error *reterr);

/*
 * The mark of the bridge port that opened the TCP connection from
 * address:port (network byte order; family enum rules_family) that
 * came in on ifname, a bridge, to the resolver, as the chain dns
 * recorded it (peers.c); 0 in *ret_mark when none was. Returns 0 or a
 * negative errno.
 */
int nft_dns_peer(struct nft_conn *c, const char *ifname, uint8_t family, const void *addr,
		 uint16_t port, uint32_t *ret_mark);

/* What the table was built with, as its base chain says. */
const struct nft_options *nft_state_options(const struct nft_state *s);

/*
 * What this process last committed to the table: enough to change one
 * container without dumping the others. nft_apply() fills it, nft_put()
 * keeps it current; it is valid only while every change goes through
 * them on one connection.
 */
struct nft_model;
int nft_model_new(struct nft_model **ret);
void nft_model_free(struct nft_model *m);
bool nft_model_valid(const struct nft_model *m);
/* Did the last change put container id in the kernel as a bridged one? */
bool nft_model_bridged(const struct nft_model *m, const char *id);
/*
 * The mark a packet from container id's port carries in the IP hooks
 * while the port is on a bridge (0: it has no port id), and in *ret_mask
 * the bits that hold it: what tells a bridged container's packet apart
 * where the interface it came in on is the bridge.
 */
uint32_t nft_model_port_mark(const struct nft_model *m, const char *id, uint32_t *ret_mask);

/*
 * Make the kernel hold exactly want, starting from have (a dump taken
 * on the same connection), in one transaction. Containers without an
 * interface are not enforced and are removed from the kernel. Sends
 * nothing when the kernel already matches. When model is not NULL it
 * is rebuilt to describe the result (and invalidated on failure).
 * Returns 0, -ERESTART when the ruleset changed since have was dumped
 * (dump and try again), or another negative errno with *reterr naming the
 * container and rule.
 */
int nft_apply(struct nft_conn *c, const struct rules_set *want, const struct nft_state *have,
	      struct nft_model *model, struct nft_apply_stats *ret_stats, struct nft_error *reterr);

/* Like nft_apply() without sending anything: how far is have from want? */
int nft_diff(struct nft_conn *c, const struct rules_set *want, const struct nft_state *have,
	     struct nft_apply_stats *ret_stats, struct nft_error *reterr);

/*
 * Make the kernel enforce want for container id, or nothing for it
 * when want is NULL or has no interface, in one transaction the size
 * of that container whatever the size of the table. Counters of rules
 * that keep their id and match carry over. Returns 0; -EEXIST when
 * another container has the interface; -ERESTART when the model is
 * invalid or the kernel no longer holds what the model says (someone
 * else changed the table): dump, nft_apply() the whole desired state,
 * and the model is valid again; another negative errno with *reterr.
 */
int nft_put(struct nft_conn *c, struct nft_model *model, const char *id,
	    const struct rules_container *want, struct nft_apply_stats *ret_stats,
	    struct nft_error *reterr);

/* An element key of one of the table's verdict sets, as announced. */
struct nft_key {
	int set;	 /* which set (as in struct nft_change) */
	char ifname[16]; /* the interface in the key */
	uint32_t tag;	 /* the tag in the key */
};

/*
 * Put container id back to want (NULL or no interface: nothing in the
 * kernel) after another process changed it, without dumping the table:
 * its own objects are read key by key, whatever is left of it is
 * deleted, and it is written afresh, in one transaction of its size.
 * extra are keys another process added for it, to delete too. Counters
 * found where they belong carry over. Returns 0; -ERESTART when only
 * the whole table can be put right (nft_apply()); another negative
 * errno with *reterr.
 */
int nft_repair(struct nft_conn *c, struct nft_model *model, const char *id,
	       const struct rules_container *want, const struct nft_key *extra, size_t nextra,
	       struct nft_apply_stats *ret_stats, struct nft_error *reterr);

/*
 * Watching the table (monitor.c): every change anyone commits to it is
 * announced; nft_monitor_read() reports each one not made through c
 * (the connection the monitor is opened for), with what it touched.
 */
struct nft_monitor;

enum nft_change_kind {
	NFT_CHANGE_CHAIN,  /* a container's chain or its rules */
	NFT_CHANGE_ELEM,   /* an element of one of the table's sets */
	NFT_CHANGE_BASE,   /* the table itself, its base chain or sets, anything else */
	NFT_CHANGE_COMMIT, /* the end of another process's transaction (any table) */
};

/* What another process changed (for CHAIN, ELEM and BASE changes). */
enum nft_change_object {
	NFT_CHANGED_TABLE,
	NFT_CHANGED_CHAIN,
	NFT_CHANGED_RULE,
	NFT_CHANGED_SET,
	NFT_CHANGED_ELEM,
	NFT_CHANGED_OTHER, /* stateful objects, flowtables */
	NFT_CHANGED_MAX,
};

struct nft_change {
	enum nft_change_kind kind;
	enum nft_change_object object;
	bool added;			  /* added or replaced; false: deleted */
	uint32_t portid;		  /* the socket that made it */
	char container[RULES_ID_MAX + 1]; /* CHAIN: whose chain */
	int set;			  /* ELEM: which of the table's sets */
	char ifname[16];		  /* ELEM: the interface in its key */
	uint32_t tag;			  /* ELEM of a verdict set: the tag in its key */
	uint32_t pid;			  /* COMMIT: the committing process */
	uint32_t genid;			  /* COMMIT: the generation it made */
	char proc[32];			  /* COMMIT: its name */
};

typedef int (*nft_monitor_cb)(const struct nft_change *ch, void *data);

/*
 * Commits of c with over a thousand messages are made without listening
 * (building their announcements would cost the kernel seconds): compare
 * nft_genid() with the commit's genid afterwards to catch other commits
 * made meanwhile. rcvbuf is the socket's receive buffer in bytes (the
 * kernel enforces a minimum); announcements past it are lost, which
 * nft_monitor_read() reports. Close the monitor before c.
 */
#define NFT_MONITOR_RCVBUF_DEFAULT (16 * 1024 * 1024)
int nft_monitor_open(struct nft_conn *c, int rcvbuf, struct nft_monitor **ret);
void nft_monitor_close(struct nft_monitor *m);
int nft_monitor_fd(const struct nft_monitor *m);
/*
 * Report every change waiting on the socket; returns 0 when none is
 * left, -ENOBUFS when the kernel dropped some (read everything again),
 * or cb's negative return.
 */
int nft_monitor_read(struct nft_monitor *m, nft_monitor_cb cb, void *data);

/*
 * The drop log (droplog.c): packets the table dropped, as reported to
 * the NFLOG group of its options. The kernel limits them per container
 * and for the host before they reach us.
 */
struct nft_droplog;

struct nft_drop {
	struct timespec when; /* CLOCK_REALTIME, when read */
	char ifname[16];      /* the interface it came in on; "" when gone since */
	uint32_t tag;	      /* the tag that dropped it: see nft_model_tag() */
	int family;	      /* AF_INET, AF_INET6; 0 when the headers were not there */
	uint8_t proto;
	uint8_t saddr[16];
	uint8_t daddr[16];
	uint16_t sport; /* tcp and udp, else 0 */
	uint16_t dport;
};

typedef int (*nft_droplog_cb)(const struct nft_drop *d, void *data);

/* Bind the group; -EPERM (older kernels: -EBUSY) when another socket of
 * this namespace has it. */
int nft_droplog_open(uint16_t group, struct nft_droplog **ret);
void nft_droplog_close(struct nft_droplog *l);
int nft_droplog_fd(const struct nft_droplog *l);
/* Report every drop waiting; 0 when none is left, -ENOBUFS when some were lost. */
int nft_droplog_read(struct nft_droplog *l, nft_droplog_cb cb, void *data);

/*
 * What a tag of the drop log stands for in the model: its container's
 * interface must be ifname; *ret_index is the rule's index in the
 * container as last put (its nrules: the default). Returns 0 or -ENOENT.
 */
int nft_model_tag(const struct nft_model *m, const char *ifname, uint32_t tag, const char **ret_id,
		  size_t *ret_index);
/*
 * The sets' id (layout_name_id()) of rule index of container id as
 * last put, when that rule is by name with rule_id and dname; else 0.
 */
uint32_t nft_model_name_id(const struct nft_model *m, const char *id, size_t index,
			   const char *rule_id, const char *dname);

#endif
