#ifndef AGENTD_NFT_DUMP_INT_H
#define AGENTD_NFT_DUMP_INT_H

/*
 * The reading of the table, shared by the files that do it: dump.c
 * (the orchestration), chains.c (container chains, by two threads),
 * fetch.c (the verdict sets key by key), elems.c (set elements),
 * decode.c (chains into containers), request.c (the requests they
 * send) and state.c (what they found).
 */

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "nft/nft_int.h"
#include "nft/region.h"

/* A container chain as dumped, before it is decoded. */
struct dchain {
	char *name;
	uint8_t family;	      /* the claims it holds: c_<id> IPv4's, c6_<id> IPv6's */
	struct claim *claims; /* in the region of the thread that dumped it */
	size_t n;
	char bad[96]; /* first reason a rule was not ours */
};

/* A container's chains as dumped: its own, and its IPv6 one; either may be missing. */
struct dcont {
	const char *id; /* in a chain's name */
	struct dchain *c[RULES_FAMILY_MAX];
};

/*
 * What both threads found by key, written once where it stays: room
 * for as many elements as the kernel says each set holds, taken with an
 * atomic counter. Finding more than that is a reason to dump the set.
 */
struct fetched {
	struct nft_elem *v[2]; /* allow [0], deny [1] */
	size_t cap[2];
	atomic_size_t n[2];
	atomic_uint bad; /* replies that did not decode, or did not fit */
};

/*
 * The worker dumps chains while the main thread reads the dispatch map
 * that it needs only afterwards, to know the interfaces it fetches for.
 */
struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int state; /* 0: closed; 1: open; -1: given up, nothing to wait for */
};

#define GATE_INIT                                                                                  \
	{                                                                                          \
		PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0                             \
	}

/* The elements of dispatch [0] and dispatch6 [1] that jump, sorted by target chain. */
struct dispatch_index {
	const struct nft_elem **v[RULES_FAMILY_MAX];
	size_t n[RULES_FAMILY_MAX];
};

struct dump {
	struct nft_state *st;
	const char *table;
	const struct rules_set *want; /* containers to verify rather than decode */
	struct dchain *chains;	      /* sorted by name once the chain dump is done */
	size_t nchains;
	size_t cap;
	struct dcont *conts; /* the chains by container, sorted by id, for the decoding */
	size_t nconts;
	unsigned int base_rules_seen;
	unsigned int drop_rules_seen;
	unsigned int dns_rules_seen;
	uint8_t family;		   /* of the table read: 0 (inet) or NFPROTO_BRIDGE */
	bool bseen[LAYOUT_BR_MAX]; /* the bridge table's chains found */
	char **bnames;		   /* the chains b_<id> found */
	size_t nbnames;
	struct nftnl_rule **rules; /* the rules of one fixed chain, as read */
	size_t nrules;
	const struct nft_elem **pins[2]; /* pin4's [0] and pin6's [1] elements, by interface */
	size_t npins[2];
	enum layout_set set;   /* the set whose elements are being dumped */
	struct dchain *chain;  /* the chain whose rules are being dumped */
	struct claim *scratch; /* its claims so far */
	size_t nscratch;
	size_t scratch_cap;
	struct region region;
	struct claim_cache *cache;
	int err;
	/* reading the allow and deny sets by key */
	bool fetch;			/* the kernel tells how many elements they hold */
	uint32_t count[LAYOUT_SET_MAX]; /* ... and so many it said */
	bool has_count[LAYOUT_SET_MAX];
	const struct dispatch_index *ix; /* ready once ix_ready opens */
	struct gate *ix_ready;
	struct fetched *fetched; /* shared by the threads */
	bool by_key;		 /* the elements asked for go to fetched, not to st */
	size_t got;		 /* elements in the replies to one request */
	size_t *mine;		 /* the chains this thread dumped, to fetch for */
	size_t nmine;
	size_t mine_cap;
};

/*
 * A second thread pays off with a second CPU and enough chains to share:
 * both the chain dump and the decoding take one then.
 */
#define DUMP_THREAD_MIN_CHAINS 512

static inline bool
dump_threaded(size_t nchains)
{
	return sysconf(_SC_NPROCESSORS_ONLN) >= 2 && nchains >= DUMP_THREAD_MIN_CHAINS;
}

/* request.c */
/*
 * Dump one object kind of the table (NFT_MSG_GET*: for rules, of chain;
 * for set elements, of d->set) through c, each reply to cb with d.
 * Blocks; returns 0, cb's d->err, or the exchange's negative errno.
 */
int request_dump(struct nft_conn *c, struct dump *d, uint16_t type, const char *chain, mnl_cb_t cb);
/* Build in buf the head of a request about set which's elements. */
/* The same for the set named set of the table of family. */
struct nlmsghdr *request_set_elems(struct nft_conn *c, char *buf, uint8_t family, const char *set,
				   uint16_t flags);
struct nlmsghdr *request_elems(struct nft_conn *c, char *buf, enum layout_set which,
			       uint16_t flags);

/* state.c */
/* Say why the table's own objects are damaged, unless a reason is there. */
void state_base_damage(struct nft_state *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Room for n elements, where the kernel says how many a set holds. 0 or -ENOMEM. */
int state_elems_reserve(struct nft_elems *es, size_t n);
/* Build the hash index of es (see nft_elems_find()). 0 or -ENOMEM. */
int state_elems_index(struct nft_elems *es);
/* Free what es holds; it is empty again. */
void state_elems_clear(struct nft_elems *es);

/* chains.c */
struct worker {
	struct nft_conn *c;
	struct dump d;
	atomic_size_t *next; /* the next chain nobody has taken */
	pthread_t tid;
	bool running;
	int r;
};

/*
 * Start a worker thread with a socket of its own taking chains from
 * *next, when dump_threaded() says so and it can (else w stays idle).
 * It copies d as it is now; finish it with chains_join() in any case.
 */
void chains_start(struct nft_conn *c, struct dump *d, atomic_size_t *next, struct worker *w);
/*
 * Dump the rules of chains taken from *next into claims, then (with
 * d->fetch) fetch their elements once the dispatch index is ready.
 * Returns 0 or a negative errno. Blocks.
 */
int chains_dump(struct nft_conn *c, struct dump *d, atomic_size_t *next);
/* Wait for w's thread and release what it holds but its region; its result. */
int chains_join(struct nft_conn *c, struct worker *w);
/* The dispatch index is ready (or never will be): fetching may go on. */
void chains_index_ready(struct gate *g, bool ready);

/* elems.c */
/* The callback for the replies of a set element dump or fetch of d->set. */
int elems_cb(const struct nlmsghdr *nlh, void *data);
/* Index st's dispatch and dispatch6 elements that jump, by target chain. 0 or -ENOMEM. */
int elems_dispatch_index(const struct nft_state *st, struct dispatch_index *ix);
/* Free what ix holds. */
void elems_dispatch_index_free(struct dispatch_index *ix);
/*
 * The interface whose element jumps to chain, in the map of the
 * chain's family (dispatch for c_<id>, dispatch6 for c6_<id>); NULL
 * unless exactly one.
 */
const char *elems_dispatch_ifname(const struct dispatch_index *ix, const char *chain);

/* fetch.c */
/*
 * Make room in f for as many allow and deny elements as d->count says,
 * and have d's elements asked for by key go there. 0 or -ENOMEM.
 */
int fetch_prepare(struct dump *d, struct fetched *f);
/* Fetch the elements of the chains this thread dumped, in both sets. Blocks. */
int fetch_mine(struct nft_conn *c, struct dump *d);
/*
 * Give the state what both threads fetched when it is all the sets
 * hold, else dump those sets whole. Blocks; 0 or a negative errno.
 */
int fetch_settle(struct nft_conn *c, struct dump *d, struct fetched *f);
/* Free what f holds that the state did not take. */
void fetch_free(struct fetched *f);

/* bridged_dump.c */
/* Whether the bridge table exists and is ours, into d->st. 0 or a negative errno. */
int bridged_read_table(struct nft_conn *c, struct dump *d);
/* A set or chain of the bridge table as a dump lists it: ours, or damage. */
void bridged_set_seen(struct dump *d, const struct nftnl_set *s, const char *name);
void bridged_chain_seen(struct dump *d, const struct nftnl_chain *ch, const char *name);
/* Once they are all listed: what is missing is damage too. */
void bridged_judge_lists(struct dump *d);
/*
 * The bridged path's rules: the bridge table's chains and bridged, once
 * the base chain told the options; each chain b_<id>, once ix knows the
 * interfaces. Judges them into d->st. 0 or a negative errno.
 */
int bridged_read_rules(struct nft_conn *c, struct dump *d, const struct dispatch_index *ix);
/* decode.c */
/*
 * Decode d's chains into d->st's containers (verifying those d->want
 * has instead), by two threads when worth it; the state owns what they
 * point to. 0, or -ENOMEM: a chain that is not ours is damage, not an
 * error.
 */
int decode_containers(struct dump *d);

#endif
