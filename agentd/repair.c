/*
 * Repairs: a pass that makes the kernel hold the desired state again,
 * and targeted rewrites of the containers other processes touched, as
 * the reconciler (reconcile.c) asks. Both hold the engine's write lock.
 */

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agentd/engine.h"
#include "agentd/engine_int.h"
#include "agentd/log.h"
#include "nft/nft.h"

static long
since_us(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000000L + (t1.tv_nsec - t0->tv_nsec) / 1000;
}

/* A pass that reads the whole table; the caller holds the write lock. */
static int
reconcile_locked(struct engine *e, const char *why, bool force)
{
	uint64_t sent0 = nft_conn_sent(e->nc);
	struct nft_apply_stats st;
	struct nft_error err;
	struct timespec t0;
	uint32_t genid;
	int r;

	/* the generation moves with every commit: unmoved, or moved only by
	 * commits announced as touching other tables, nothing changed; nor
	 * can anything change a table that is the agent's own */
	if (!force && engine_known_in_sync(e, &genid)) {
		log_debug("%s: generation %u still holds the desired state; nothing read", why,
			  e->genid_in_sync);
		return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = engine_kernel_resync(e, NULL, NULL, NULL, why, &st, &err);
	if (r < 0) {
		log_warn(r, "%s: making table %s hold the desired state: %s%s%s%s%s", why,
			 nft_conn_table(e->nc), err.what, err.container[0] ? ", container " : "",
			 err.container, err.detail[0] ? ": " : "", err.detail);
		return r;
	}
	e->passes++;
	if (st.messages == 0) {
		log_debug("%s: table %s holds the desired state: %zu containers read in %.1f ms, "
			  "%llu messages sent (requests), nothing changed",
			  why, nft_conn_table(e->nc), e->n, since_us(&t0) / 1000.0,
			  (unsigned long long)(nft_conn_sent(e->nc) - sent0));
		return 0;
	}
	e->repairs++;
	e->last_repair = time(NULL);
	return (int)st.messages;
}

int
engine_reconcile(struct engine *e, const char *why, bool force)
{
	int r;

	pthread_rwlock_wrlock(&e->lock);
	r = reconcile_locked(e, why, force);
	pthread_rwlock_unlock(&e->lock);
	return r;
}

/* The containers a batch of changes touched, and the keys added for them. */
struct touched {
	const char **ids; /* into the changes, or the trees */
	size_t n;
	struct nft_key *keys; /* elements added to verdict sets */
	const char **key_ids;
	size_t nkeys;
};

static void
touched_add(struct touched *t, const char *id)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->ids[i], id) == 0)
			return;
	t->ids[t->n++] = id;
}

/* false: a change no container accounts for, which only a full pass can put right */
static bool
touched_collect(struct engine *e, const struct nft_change *ch, size_t n, struct touched *t)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct engine_ct *c;

		switch (ch[i].kind) {
		case NFT_CHANGE_CHAIN:
			touched_add(t, ch[i].container);
			break;
		case NFT_CHANGE_ELEM:
			/* an entry for an interface no container has: only a
			 * full pass finds what else is there */
			c = engine_ct_find_ifname(e, ch[i].ifname);
			if (c == NULL)
				return false;
			touched_add(t, c->fw.id);
			if (ch[i].added && ch[i].tag != 0) {
				t->keys[t->nkeys] =
					(struct nft_key){.set = ch[i].set, .tag = ch[i].tag};
				memcpy(t->keys[t->nkeys].ifname, ch[i].ifname,
				       sizeof(ch[i].ifname));
				t->key_ids[t->nkeys++] = c->fw.id;
			}
			break;
		case NFT_CHANGE_COMMIT:
			break;
		default:
			return false;
		}
	}
	return true;
}

/* Repair one container, with the keys added for it. */
static int
repair_one(struct engine *e, const struct touched *t, const char *id, const char *why)
{
	struct engine_ct *c = engine_ct_find(e, id);
	const struct rules_container *want = c != NULL && c->fw.ifname[0] ? &c->fw : NULL;
	struct nft_key *extra = calloc(t->nkeys + 1, sizeof(*extra));
	uint64_t sent0 = nft_conn_sent(e->nc);
	struct nft_apply_stats st;
	struct nft_error err;
	struct timespec t0;
	size_t i, n = 0;
	int r;

	if (extra == NULL)
		return -ENOMEM;
	for (i = 0; i < t->nkeys; i++)
		if (strcmp(t->key_ids[i], id) == 0)
			extra[n++] = t->keys[i];
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = nft_repair(e->nc, e->model, id, want, extra, n, &st, &err);
	free(extra);
	if (r == 0) {
		log_info("%s: container %s rewritten in %.1f ms: %u messages in one transaction, "
			 "%llu messages sent in all",
			 why, id, since_us(&t0) / 1000.0, st.messages,
			 (unsigned long long)(nft_conn_sent(e->nc) - sent0));
		/* the kernel holds it as desired again */
		if (c != NULL)
			c->out_of_sync = false;
	} else if (r != -ERESTART)
		log_warn(r, "%s: container %s: %s%s%s", why, id, err.what,
			 err.detail[0] ? ": " : "", err.detail);
	return r;
}

int
engine_repair(struct engine *e, const struct nft_change *ch, size_t n, const char *why)
{
	struct touched t = {
		.ids = calloc(n + 1, sizeof(*t.ids)),
		.keys = calloc(n + 1, sizeof(*t.keys)),
		.key_ids = calloc(n + 1, sizeof(*t.key_ids)),
	};
	bool targeted;
	size_t i;
	int r = 0;

	pthread_rwlock_wrlock(&e->lock);
	targeted = t.ids && t.keys && t.key_ids && touched_collect(e, ch, n, &t);
	for (i = 0; targeted && i < t.n && r >= 0; i++)
		r = repair_one(e, &t, t.ids[i], why);
	if (!targeted || r < 0) {
		r = reconcile_locked(e, why, true);
	} else if (t.n > 0) {
		e->passes++;
		e->repairs++;
		e->last_repair = time(NULL);
		/* what was announced is put right; the next timer pass reads the rest */
		e->genid_in_sync = 0;
		r = (int)t.n;
	}
	pthread_rwlock_unlock(&e->lock);
	free(t.ids);
	free(t.keys);
	free(t.key_ids);
	return r;
}

void
engine_commits_elsewhere(struct engine *e, const uint32_t *genids, size_t n)
{
	size_t i;

	pthread_rwlock_wrlock(&e->lock);
	for (i = 0; i < n && e->genid_in_sync != 0; i++)
		if (genids[i] == engine_genid_next(e->genid_in_sync))
			e->genid_in_sync = genids[i];
	pthread_rwlock_unlock(&e->lock);
}
