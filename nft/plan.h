#ifndef AGENTD_NFT_PLAN_H
#define AGENTD_NFT_PLAN_H

/*
 * A transaction being built (plan.c), for the whole-table apply
 * (apply.c) and the one-container changes (put.c): its messages, the
 * set elements gathered for it, and each container's rules and
 * elements as the layout makes them.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "nft/nft_int.h"

enum op {
	OP_KEEP = 0,
	OP_REWRITE, /* the chain exists: flush and refill */
	OP_CREATE,
};

struct target {
	const struct rules_container *want;
	const struct nft_container *have; /* for counters; NULL when new */
	/* put.c: the container as last committed, and its counters */
	const struct model_ct *old;
	const struct nft_counter *old_ctrs; /* old->nrules + 1 (the default) */
	enum op op;
	uint32_t base;
	bool want6;	   /* want has IPv6 rules: a chain c6_<id> and a dispatch6 element */
	bool has4, has6;   /* the chains that exist when its rules are added (flushed) */
	bool add_attached; /* the interface's attached, dispatch and dispatch6 elements */
	bool add_dispatch;
	bool add_dispatch6;
	bool add_dns;  /* its interface's element in dns: it has rules by name */
	bool add_dnsb; /* its port's element in dnsb: bridged, with rules by name */
	uint16_t port; /* its id in the packet mark (bridged.c) */
	/* per rule of want, a rule by name's id (layout_name_id()), else 0; NULL without names */
	uint32_t *name_ids;
	bool add_ports; /* its interface's element in the bridge table's ports */
	bool add_pins;	/* write want's pinned, pin4 and pin6 elements (the old ones went) */
	bool fill_b;	/* want is bridged: fill its chain b_<id>, and point bports there */
	bool has_b;	/* ... which exists (emptied) */
	char chain[LAYOUT_CHAIN_NAME_MAX + 1];
	char chain6[LAYOUT_CHAIN_NAME_MAX + 1];
	char bchain[LAYOUT_CHAIN_NAME_MAX + 1];
};

struct elem_batch {
	uint16_t type;	     /* NFT_MSG_NEWSETELEM or NFT_MSG_DELSETELEM */
	struct nftnl_set *s; /* the elements not sent yet */
	const char **owners; /* the container of every element, in order */
	size_t n;
	size_t sent;
	size_t cap;
};

struct plan {
	struct nft_conn *c;
	const struct nft_state *have; /* NULL for one container (put.c) */
	struct nft_batch *b;
	struct target *t; /* desired containers with an interface, by id */
	size_t nt;
	const struct target **by_ifname; /* hash table, at most half full */
	size_t ifmask;
	uint32_t tag_next;
	bool adopt;		       /* send the table message even when nothing else changes */
	bool fresh;		       /* build everything: no table, or one we recreate */
	bool base_chain;	       /* (re)create the base chain's rules */
	const struct target **by_port; /* LAYOUT_PORT_MAX + 1, by port id */
	struct elem_batch add[LAYOUT_SET_MAX];
	struct elem_batch del[LAYOUT_SET_MAX];
	struct nft_apply_stats *st;
};

enum obj {
	OBJ_TABLE = 0,
	OBJ_SET,
	OBJ_CHAIN,
	OBJ_RULE,
	OBJ_MAX,
};

/* An empty plan on c against have (NULL for one container); zeroes *st, which it fills. */
void plan_init(struct plan *p, struct nft_conn *c, const struct nft_state *have,
	       struct nft_apply_stats *st);
/* Release what p holds, its batch included. */
void plan_free(struct plan *p);
/*
 * Send the transaction built so far (p->b), unless it holds only its
 * table message and p does not adopt, and time it from t0. Blocks; 0,
 * or the commit's negative errno with *reterr filled.
 */
int plan_commit(struct plan *p, const struct timespec *t0, struct nft_error *reterr);

/*
 * One message of the transaction about object o of kind k, which this
 * takes (o may be NULL after a failed allocation: -ENOMEM). container
 * and rule name what the message is for, should the kernel refuse it.
 */
int plan_put(struct plan *p, enum obj k, void *o, uint16_t type, uint16_t flags,
	     const char *container, const char *rule, const char *what);
/* Empty chain (DELRULE without a handle) for container. 0 or -ENOMEM. */
int plan_flush(struct plan *p, const char *chain, const char *container);
/* The same in the table of family (NFPROTO_*). */
int plan_flush_family(struct plan *p, uint8_t family, const char *chain, const char *container);
/* Append rule r (taken) to its chain. 0 or -ENOMEM. */
int plan_rule(struct plan *p, struct nftnl_rule *r, const char *container, const char *rule);
/* A set object that names set which of the table, to carry elements; NULL when out of memory. */
struct nftnl_set *plan_elem_set(const struct plan *p, enum layout_set which);

/*
 * Gather element e (taken; NULL: -ENOMEM) of container owner (which
 * must outlive p) into eb, one of p->add or p->del for set which; a
 * message's worth is sent at once. 0 or -ENOMEM.
 */
int plan_elem_add(struct plan *p, struct elem_batch *eb, enum layout_set which,
		  struct nftnl_set_elem *e, const char *owner);
/* Send the elements gathered in eb (for set which) that are not sent yet. 0 or -ENOMEM. */
int plan_elems_send(struct plan *p, struct elem_batch *eb, enum layout_set which);
/* The same for each set's batch of ebs (p->add or p->del), in set order. */
int plan_elems_send_all(struct plan *p, struct elem_batch ebs[LAYOUT_SET_MAX]);

/*
 * The elements that pin ifname to its n addresses a (pinned, pin4,
 * pin6), into ebs (p->add or p->del), for owner. 0 or -ENOMEM.
 */
int plan_pins(struct plan *p, struct elem_batch ebs[LAYOUT_SET_MAX], const char *ifname,
	      const struct rules_address *a, size_t n, const char *owner);
/*
 * A container created or rewritten on t's tag block: the chains it
 * needs that t says are not there (id names them, should the kernel
 * refuse one), their rules, and the elements of its tags, default tag
 * and (as t says) interface. Counters carry over from t->have or
 * t->old. 0 or -ENOMEM.
 */
int plan_container(struct plan *p, const struct target *t, const char *id);
/*
 * Rules by name (layout_dset_name()). t->name_ids gets an id for each
 * rule by name of t->want, on t->port: the one it had when have_keys
 * (model_dname_key() of each rule the container had, 0 for others)
 * names the same rule and name, else a new one that neither have_ids
 * nor used holds. t->name_ids is freed by plan_free() for the targets
 * of p->t, by the caller for its own. 0, -ENOMEM or -ENOSPC.
 */
int plan_name_ids(struct target *t, const uint64_t *have_keys, const uint32_t *have_ids,
		  size_t nhave, const uint32_t *used, size_t nused);
/* Delete the set of family of name_id (after the rules that use it). 0 or -ENOMEM. */
int plan_dset_drop(struct plan *p, uint32_t name_id, uint8_t family, const char *owner);
/* Flush chain, and delete it when del; for container id. 0 or -ENOMEM. */
int plan_chain_drop(struct plan *p, const char *chain, bool del, const char *id);
/* Take a block of n tags from *next into *ret_base; -ERANGE past the last tag. */
int plan_tag_block(uint32_t *next, uint32_t n, uint32_t *ret_base);

#endif
