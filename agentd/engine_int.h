#ifndef AGENTD_ENGINE_INT_H
#define AGENTD_ENGINE_INT_H

/*
 * The engine's insides, for the files that work with it from within
 * agentd: the repairs (repair.c), the API's calls (calls.c, firewall.c,
 * host.c, status.c) and the naming of what the kernel reports (drops.c,
 * links.c). Other modules use engine.h only.
 */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "agentd/engine.h"
#include "nft/nft.h"
#include "rules/rules.h"

struct store_staged;

/*
 * One container's desired state; its revision counts changes from 1.
 * out_of_sync: the agent's last reading of the kernel found it not
 * holding fw exactly (or a repair failed), and nothing has rewritten it
 * since; a new engine_ct (every change makes one) starts false, as the
 * kernel has just taken it.
 */
struct engine_ct {
	struct rules_container fw;
	uint64_t revision;
	bool out_of_sync;
};

struct engine {
	pthread_rwlock_t lock; /* writers: every change, and anything on the socket */
	void *by_id;	       /* tsearch trees of struct engine_ct */
	void *by_ifname;       /* attached containers only */
	size_t n;
	struct nft_conn *nc;
	struct nft_monitor *monitor; /* other processes' changes to the table */
	struct nft_model *model;
	struct store *store;
	struct nft_options opts; /* the table options the agent writes */
	struct links *links;	 /* see engine_options */
	uint32_t genid_in_sync;	 /* the generation last seen to hold the desired state */
	bool persist;
	int expiry_fd;	      /* timerfd: the earliest expires_at of a rule (expiry.c) */
	int64_t expiry_armed; /* what it is set to; 0: not set */
	/* told of every change to the desired state, under the write lock (dns.c) */
	void (*observer)(void *data, const struct engine_ct *old, const struct engine_ct *next);
	void *observer_data;
	uint64_t passes;  /* reconciler passes that read the kernel */
	uint64_t repairs; /* passes that had to change it */
	time_t last_repair;
};

/*
 * The expiry timer (expiry.c), under the lock for writing. note sets it
 * to fw's earliest expires_at when that comes before the time it is set
 * to (every container the engine takes is noted); at sets it to t if
 * earlier; reset forgets the time set, for a pass that notes every
 * container again.
 */
void engine_expiry_note(struct engine *e, const struct rules_container *fw);
void engine_expiry_at(struct engine *e, int64_t t);
void engine_expiry_reset(struct engine *e);
int engine_expiry_fd(const struct engine *e);

/* Every container in id order: pointers into the trees (free only v). */
struct engine_ct_list {
	struct engine_ct **v;
	size_t n;
};

/* Why engine_commit() failed: the state directory, or the kernel (as kernel says). */
struct engine_error {
	bool storage;
	struct nft_error kernel;
};

/* The containers. The caller holds the lock, for reading at least. */

/* The container with id, or the one attached to interface ifname; NULL when none. */
struct engine_ct *engine_ct_find(const struct engine *e, const char *id);
struct engine_ct *engine_ct_find_ifname(const struct engine *e, const char *ifname);
/* Every container, in id order, into *ret. Returns 0 or -ENOMEM. */
int engine_ct_list(struct engine *e, struct engine_ct_list *ret);
/*
 * Swap old for next in the trees (write lock); either may be NULL. Takes
 * next and frees old. Returns 0, or -ENOMEM with next freed.
 */
int engine_ct_replace(struct engine *e, struct engine_ct *old, struct engine_ct *next);
/* Free a struct engine_ct and what it holds (NULL: nothing); tdestroy()'s type. */
void engine_ct_free(void *p);

/*
 * Is ifname a port of a Linux bridge now? Then its container is enforced
 * on the bridged path (nft/bridged.c). The caller holds the lock.
 */
bool engine_bridged(const struct engine *e, const char *ifname);
/*
 * Enforce c anew when its interface joined or left a bridge since the
 * kernel took it (write lock). Returns 0 or a negative errno.
 */
int engine_follow_bridge(struct engine *e, const struct engine_ct *c);

/* The kernel. The caller holds the write lock: the socket is the engine's. */

/*
 * The whole desired state as a rules_set in *ret, with container id's
 * firewall replaced by fw (or left out when fw is NULL). The set shares
 * the containers' rules: free only ret->containers. Returns 0 or -ENOMEM.
 */
int engine_desired_set(struct engine *e, const char *id, const struct rules_container *fw,
		       struct rules_set *ret);
/*
 * nft_dump() of the table (want: as in nft_dump()), saying in the debug
 * log, for the occasion why, when other commits came in while it read.
 */
int engine_read_table(struct engine *e, const struct rules_set *want, const char *why,
		      struct nft_state **ret, struct nft_error *reterr);
/*
 * Make the table hold want in one transaction, diffed against have
 * (borrowed; NULL: dump it), and against a fresh dump when someone else
 * commits in between; why names the occasion in the log. *ret_st (may be
 * NULL) says what was sent. Returns 0, or a negative errno and *reterr.
 */
int engine_kernel_sync(struct engine *e, const struct rules_set *want, const struct nft_state *have,
		       const char *why, struct nft_apply_stats *ret_st, struct nft_error *reterr);
/* engine_kernel_sync() of the whole desired state, with id's firewall set to fw. */
int engine_kernel_resync(struct engine *e, const char *id, const struct rules_container *fw,
			 const struct nft_state *have, const char *why,
			 struct nft_apply_stats *ret_st, struct nft_error *reterr);
/*
 * Does the kernel hold the desired state? Reads the table only when the
 * generation moved since it last did. Returns 0 with the answer in *ret,
 * or a negative errno.
 */
int engine_kernel_in_sync(struct engine *e, bool *ret);
/* The generation after g: a commit advances it by one, skipping 0. */
uint32_t engine_genid_next(uint32_t g);
/*
 * Is the kernel known to still hold the desired state, without reading
 * it? Yes when it did at genid_in_sync and either the table is this
 * socket's own (owner and persist: no other commit can touch it) or no
 * commit came since. *ret_genid: the generation read (0 when owned).
 */
bool engine_known_in_sync(struct engine *e, uint32_t *ret_genid);
/*
 * What a reading of the kernel says of each container: set out_of_sync
 * on every attached one the kernel does not hold exactly as desired (or
 * whose table's own objects are damaged), clear it on the others.
 */
void engine_kernel_note(struct engine *e, const struct nft_state *have);
/* The kernel holds the whole desired state: clear every out_of_sync. */
void engine_kernel_trust(struct engine *e);
/* The --container-ifprefix that ifname starts with; NULL when none does. */
const char *engine_ifprefix(const struct engine *e, const char *ifname);

/* Changes. The caller holds the write lock. */

/*
 * Stage c's state file (see store.h): *ret is for store_commit() or
 * store_abort(). With ret_text (else NULL), the file's text is the
 * caller's to keep and free.
 */
int engine_stage(struct engine *e, const struct engine_ct *c, struct store_staged **ret,
		 char **ret_text);
/*
 * Make next (NULL: remove) the state of container id, everywhere; old is
 * the current state (NULL: new). Returns 0 with next in the trees and old
 * freed; or a negative errno, logged and explained in *reterr, with
 * nothing changed and next freed.
 */
int engine_commit(struct engine *e, const char *id, struct engine_ct *old, struct engine_ct *next,
		  struct engine_error *reterr);

#endif
