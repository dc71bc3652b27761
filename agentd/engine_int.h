#ifndef AGENTD_ENGINE_INT_H
#define AGENTD_ENGINE_INT_H

/*
 * The engine's insides, for the files that make up the engine besides
 * engine.c. Other modules use engine.h only.
 */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "agentd/engine.h"
#include "nft/nft.h"
#include "rules/rules.h"

/* One container's desired state; its revision counts changes from 1. */
struct engine_ct {
	struct rules_container fw;
	uint64_t revision;
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
	uint32_t genid_in_sync; /* the generation last seen to hold the desired state */
	bool persist;
	uint64_t passes;  /* reconciler passes that read the kernel */
	uint64_t repairs; /* passes that had to change it */
	time_t last_repair;
	struct drops *drops; /* NULL: no drop log */
	struct links *links; /* NULL: interfaces not followed */
};

/*
 * The container with id, or the one attached to interface ifname; NULL
 * when there is none. The caller holds the lock, for reading at least.
 */
struct engine_ct *engine_ct_find(const struct engine *e, const char *id);
struct engine_ct *engine_ct_find_ifname(const struct engine *e, const char *ifname);

/*
 * Make the table hold the whole desired state, with container id's
 * firewall replaced by fw (NULL: left out), in one transaction: diffed
 * against have (borrowed; NULL: dump it), read again when someone else
 * commits in between. why names the occasion in the log; *ret_st (may
 * be NULL) says what was sent. Returns 0, or a negative errno with
 * *reterr saying what failed. The caller holds the write lock.
 */
int engine_kernel_resync(struct engine *e, const char *id, const struct rules_container *fw,
			 const struct nft_state *have, const char *why,
			 struct nft_apply_stats *ret_st, struct nft_error *reterr);

/* The generation after g: a commit advances it by one, skipping 0. */
uint32_t engine_genid_next(uint32_t g);

#endif
