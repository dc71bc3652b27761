/*
 * The rules of the container chains, read into claims. A second thread
 * with its own socket dumps container chains too: the kernel fills a
 * dump inside the syscalls of the thread that reads it, so this puts a
 * second CPU to the kernel's half of the work as well. The threads take
 * chains from one counter, so that neither waits for the other whatever
 * the sets cost; each chain's claims are written by the one thread that
 * took it.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter/nf_tables.h>

#include "nft/dump_int.h"

/* One more claim of the chain being dumped. */
static int
scratch_add(struct dump *d, const struct claim *cl)
{
	struct claim *c = nft_grow(d->scratch, d->nscratch, &d->scratch_cap, sizeof(*c), 64);

	if (c == NULL)
		return -ENOMEM;
	d->scratch = c;
	c = &d->scratch[d->nscratch];
	*c = *cl;
	/* the claim pointed into the dumped rule, which is about to go */
	if (cl->id_len + cl->desc_len > 0) {
		char *s = region_alloc(&d->region, cl->id_len + cl->desc_len);

		if (s == NULL)
			return -ENOMEM;
		/* either may be empty, and then NULL */
		if (cl->id_len > 0)
			memcpy(s, cl->id, cl->id_len);
		if (cl->desc_len > 0)
			memcpy(s + cl->id_len, cl->desc, cl->desc_len);
		c->id = s;
		c->desc = s + cl->id_len;
	}
	d->nscratch++;
	return 0;
}

/* The chain's dump is complete: its claims move to the region. */
static int
scratch_seal(struct dump *d, struct dchain *dc)
{
	size_t n = d->nscratch;

	d->nscratch = 0;
	if (n == 0)
		return 0;
	dc->claims = region_alloc(&d->region, n * sizeof(*dc->claims));
	if (dc->claims == NULL)
		return -ENOMEM;
	memcpy(dc->claims, d->scratch, n * sizeof(*dc->claims));
	dc->n = n;
	return 0;
}

/* A container chain's rules, read in place: there are 100,000 of them. */
static int
rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	struct dchain *dc = d->chain;
	struct raw_rule r;
	struct claim cl;
	int err;

	if (raw_rule_parse_head(nlh, &r) < 0 || strcmp(r.table, d->table) != 0 ||
	    strcmp(r.chain, dc->name) != 0)
		return MNL_CB_OK;
	err = layout_claim_match(d->cache, &r, layout_chain_family(dc->name), &cl);
	if (err == -EBADMSG) {
		if (dc->bad[0] == '\0')
			snprintf(dc->bad, sizeof(dc->bad), "rule handle %llu is not ours",
				 (unsigned long long)r.handle);
		return MNL_CB_OK;
	}
	if (err == 0)
		err = scratch_add(d, &cl);
	if (err < 0)
		d->err = err;
	return MNL_CB_OK;
}

void
chains_index_ready(struct gate *g, bool ready)
{
	pthread_mutex_lock(&g->lock);
	g->state = ready ? 1 : -1;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

static int
gate_wait(struct gate *g)
{
	int state;

	pthread_mutex_lock(&g->lock);
	while (g->state == 0)
		pthread_cond_wait(&g->cond, &g->lock);
	state = g->state;
	pthread_mutex_unlock(&g->lock);
	return state > 0 ? 0 : -ECANCELED;
}

int
chains_dump(struct nft_conn *c, struct dump *d, atomic_size_t *next)
{
	size_t j;
	int r = 0;

	while (r == 0 && (j = atomic_fetch_add(next, 1)) < d->nchains) {
		d->chain = &d->chains[j];
		r = request_dump(c, d, NFT_MSG_GETRULE, d->chain->name, rule_cb);
		if (r == 0)
			r = scratch_seal(d, d->chain);
		if (r == 0 && d->fetch) {
			size_t *v = nft_grow(d->mine, d->nmine, &d->mine_cap, sizeof(*v), 1024);

			if (v == NULL)
				r = -ENOMEM;
			else {
				d->mine = v;
				d->mine[d->nmine++] = j;
			}
		}
	}
	/* the other thread's chains are its to finish and ask for */
	if (r == 0 && d->fetch)
		r = gate_wait(d->ix_ready);
	if (r == 0 && d->fetch)
		r = fetch_mine(c, d);
	return r;
}

static void *
worker_run(void *arg)
{
	struct worker *w = arg;

	w->r = chains_dump(w->c, &w->d, w->next);
	return NULL;
}

/* Without a worker (one CPU, few chains, or no resources for one) the
 * main thread dumps every chain. */
void
chains_start(struct nft_conn *c, struct dump *d, atomic_size_t *next, struct worker *w)
{
	if (!dump_threaded(d->nchains) || nft_conn_open(c->table, &w->c) < 0)
		return;
	w->c->intr_ok = c->intr_ok;
	w->d = *d;
	w->d.scratch = NULL;
	w->d.nscratch = w->d.scratch_cap = 0;
	w->d.region = (struct region){0};
	w->d.mine = NULL;
	w->d.nmine = w->d.mine_cap = 0;
	w->d.cache = layout_claim_cache_new();
	if (w->d.cache == NULL)
		return;
	w->next = next;
	w->running = pthread_create(&w->tid, NULL, worker_run, w) == 0;
}

int
chains_join(struct nft_conn *c, struct worker *w)
{
	if (w->running)
		pthread_join(w->tid, NULL);
	if (w->c != NULL)
		c->sent += w->c->sent;
	layout_claim_cache_free(w->d.cache);
	free(w->d.scratch);
	free(w->d.mine);
	nft_conn_close(w->c);
	return w->running ? w->r : 0;
}
