/*
 * reconcile: keeps the kernel equal to the desired state whatever else
 * happens on the host. One thread waits for nf_tables' announcements of
 * changes anyone else makes to the table, and for a timer (the safety
 * net for whatever an announcement cannot tell); either starts a pass.
 */

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agentd/engine.h"
#include "agentd/log.h"
#include "agentd/reconcile.h"
#include "agentd/watch.h"
#include "nft/nft.h"

struct reconciler {
	struct engine *e;
	struct nft_monitor *m;
	struct watch_ops ops;
	struct watch *w;
	bool touched; /* the table was changed by the commit being announced */
};

/*
 * What a batch of announcements said: the changes themselves (up to a
 * bound: past it, a full pass is cheaper than sorting them out), and
 * for the log the weightiest one (the table over a chain over an
 * element) and who made it; and the generations of the commits that
 * left the table alone.
 */
#define CHANGES_MAX 256

struct changes {
	struct nft_change v[CHANGES_MAX];
	unsigned int n;
	int weight;
	char what[160];
	char who[64];
	uint32_t elsewhere[CHANGES_MAX];
	unsigned int nelsewhere;
	bool *touched; /* the reconciler's: a commit's announcement may span reads */
};

/* How each kind of object is named in the log, and how much it weighs. */
static const struct {
	const char *name;
	int weight;
} change_objects[NFT_CHANGED_MAX] = {
	[NFT_CHANGED_TABLE] = {"the table", 5}, [NFT_CHANGED_CHAIN] = {"a chain", 4},
	[NFT_CHANGED_RULE] = {"a rule", 2},	[NFT_CHANGED_SET] = {"a set", 3},
	[NFT_CHANGED_ELEM] = {"an element", 1}, [NFT_CHANGED_OTHER] = {"an object", 3},
};

static int
note_change(const struct nft_change *ch, void *data)
{
	struct changes *c = data;
	const char *object, *verb = ch->added ? "added" : "deleted";
	int weight;

	if (ch->kind == NFT_CHANGE_COMMIT) {
		if (c->n > 0 && c->who[0] == '\0')
			snprintf(c->who, sizeof(c->who), "%s (pid %u)",
				 ch->proc[0] ? ch->proc : "?", ch->pid);
		if (!*c->touched && c->nelsewhere < CHANGES_MAX)
			c->elsewhere[c->nelsewhere++] = ch->genid;
		*c->touched = false;
		return 0;
	}
	*c->touched = true;
	if (c->n < CHANGES_MAX)
		c->v[c->n] = *ch;
	c->n++;
	object = change_objects[ch->object].name;
	weight = change_objects[ch->object].weight;
	if (weight <= c->weight)
		return 0;
	c->weight = weight;
	if (ch->kind == NFT_CHANGE_CHAIN)
		snprintf(c->what, sizeof(c->what), "%s %s of container %s", verb, object,
			 ch->container);
	else if (ch->kind == NFT_CHANGE_ELEM)
		snprintf(c->what, sizeof(c->what), "%s %s for interface %s", verb, object,
			 ch->ifname);
	else
		snprintf(c->what, sizeof(c->what), "%s %s", verb, object);
	return 0;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A pass that read the table freed a dump's worth of memory in this
 * thread's arena, whose top only a trim from this thread gives back. */
static void
after_pass(void)
{
	malloc_trim(0);
}

/* Changes from other processes: log what they did, then put it right. */
static void
on_events(struct reconciler *rc)
{
	struct changes *c = calloc(1, sizeof(*c));
	double t0 = now_ms();
	int r;

	if (c != NULL)
		c->touched = &rc->touched;
	r = c ? nft_monitor_read(rc->m, note_change, c) : -ENOMEM;
	if (r == -ENOBUFS) {
		rc->touched = false; /* the pass reads everything */
		log_warnx("reconcile: the kernel dropped change announcements; reading the whole "
			  "table");
		engine_reconcile(rc->e, "reconcile (announcements lost)", true);
		after_pass();
		free(c);
		return;
	}
	if (r < 0)
		log_warn(r, "reconcile: reading change announcements");
	if (c == NULL || c->n == 0) {
		if (c != NULL && c->nelsewhere > 0)
			engine_commits_elsewhere(rc->e, c->elsewhere, c->nelsewhere);
		free(c);
		return;
	}
	log_warnx("reconcile: the table was changed by %s: %s%s (%u changes)",
		  c->who[0] ? c->who : "another process", c->what, c->n > 1 ? " and more" : "",
		  c->n);
	if (c->n > CHANGES_MAX)
		r = engine_reconcile(rc->e, "reconcile", true);
	else
		r = engine_repair(rc->e, c->v, c->n, "reconcile");
	if (r > 0)
		log_info("reconcile: repaired %.1f ms after the announcement", now_ms() - t0);
	free(c);
	after_pass();
}

static void
on_ready(void *data)
{
	on_events(data);
}

static void
on_tick(void *data)
{
	struct reconciler *rc = data;

	/* announcements queued since the poll may account for the generation */
	on_events(rc);
	if (engine_reconcile(rc->e, "reconcile (timer)", false) >= 0)
		after_pass();
}

int
reconcile_start(struct engine *e, unsigned int interval_s, struct reconciler **ret)
{
	struct reconciler *rc = calloc(1, sizeof(*rc));
	int r;

	if (rc == NULL)
		return -ENOMEM;
	rc->e = e;
	rc->m = engine_monitor(e);
	rc->ops = (struct watch_ops){
		.name = "reconcile", .ready = on_ready, .tick = on_tick, .period_s = interval_s};
	r = watch_start(nft_monitor_fd(rc->m), &rc->ops, rc, &rc->w);
	if (r < 0) {
		free(rc);
		return r;
	}
	*ret = rc;
	return 0;
}

void
reconcile_stop(struct reconciler *rc)
{
	if (rc == NULL)
		return;
	watch_stop(rc->w);
	free(rc);
}
