#ifndef AGENTD_LEARNED_H
#define AGENTD_LEARNED_H

/*
 * learned: the agent's account of what containers' lookups opened, so
 * that an answer never shortens what an earlier one opened (the kernel
 * would take the later timeout), answers that keep an address open no
 * longer than it is already cost no commit, and a container holds at
 * most a bound of addresses (the one that would close first goes
 * early). It is an account, not the truth: the kernel's sets are; it
 * starts empty, and forgetting a container only costs commits.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct learned;

struct learned_key {
	uint32_t name_id; /* the rule by name's sets */
	uint8_t family;	  /* enum rules_family */
	uint8_t addr[16];
};

/* NULL when out of memory; max: addresses per container (at least 1). */
struct learned *learned_new(size_t max);
void learned_free(struct learned *l);

enum learned_verdict {
	LEARNED_KEEP = 0, /* open until then at least already: nothing to do */
	LEARNED_OPEN,	  /* open it (or keep it open longer) */
};

/*
 * Container id's lookup wants k open until need_ms (any clock, the same
 * for every call; now_ms on it): KEEP when it is open that long already,
 * else OPEN, and it is counted open until grant_ms (>= need_ms: what the
 * caller will ask of the kernel). Entries past their time are dropped
 * first. At the bound, the entry that closes first makes room: it is
 * copied to *evicted and *ret_evicted set, to be closed now. Returns
 * the verdict, or -ENOMEM (nothing changed).
 */
int learned_note(struct learned *l, const char *id, const struct learned_key *k, int64_t need_ms,
		 int64_t grant_ms, int64_t now_ms, struct learned_key *evicted, bool *ret_evicted);
/* Forget what container id opened (its rules changed, or a commit failed). */
void learned_forget(struct learned *l, const char *id);
/* How many addresses container id holds open, as far as the account knows. */
size_t learned_count(const struct learned *l, const char *id);

#endif
