/*
 * expiry: rules out of the desired state when their time comes (see
 * expiry.h). A pass looks at every container only when the timer
 * fires, which is at the earliest expires_at the engine has seen
 * (or after a change of the clock): a host with no expiring rules is
 * never woken.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "agentd/engine_int.h"
#include "agentd/expiry.h"
#include "agentd/log.h"
#include "agentd/watch.h"

/* After a failed commit the kernel enforces the expiry already; try again then. */
#define EXPIRY_RETRY_S 5

struct expiry {
	struct engine *e;
	struct watch_ops ops;
	struct watch *w;
};

/* Take c's rules whose time has come out of its desired state; false if it failed. */
static bool
expire_one(struct engine *e, struct engine_ct *c, int64_t now)
{
	struct engine_ct *next = calloc(1, sizeof(*next));
	struct engine_error err;
	size_t i, n = 0;
	int r;

	if (next == NULL || rules_container_copy(&next->fw, &c->fw) < 0) {
		free(next);
		log_warnx("container %s: out of memory taking out expired rules", c->fw.id);
		return false;
	}
	next->revision = c->revision + 1;
	for (i = 0; i < c->fw.nrules; i++)
		if (c->fw.rules[i].expires_at != 0 && c->fw.rules[i].expires_at <= now)
			log_info("container %s: rule %s expired", c->fw.id, c->fw.rules[i].id);
	n = rules_container_drop_expired(&next->fw, now);
	r = engine_commit(e, c->fw.id, c, next, &err);
	if (r < 0)
		return false; /* engine_commit() said why */
	log_info("container %s: %zu expired rules taken out (revision %llu)", next->fw.id, n,
		 (unsigned long long)next->revision);
	return true;
}

static void
on_timer(void *data)
{
	struct expiry *x = data;
	struct engine *e = x->e;
	struct engine_ct_list l;
	uint64_t ticks;
	int64_t now;
	bool failed = false;
	size_t i;

	/* ECANCELED: the clock was set; every expiry is looked at again */
	if (read(engine_expiry_fd(e), &ticks, sizeof(ticks)) < 0 && errno != ECANCELED &&
	    errno != EAGAIN)
		log_warn(-errno, "expiry: reading the timer");
	pthread_rwlock_wrlock(&e->lock);
	now = time(NULL);
	engine_expiry_reset(e);
	if (engine_ct_list(e, &l) < 0) {
		failed = true;
	} else {
		for (i = 0; i < l.n; i++) {
			int64_t t = rules_container_next_expiry(&l.v[i]->fw);

			/* a commit notes what remains; a failed one is tried
			 * again later, not at once (its time has passed) */
			if (t != 0 && t <= now)
				failed |= !expire_one(e, l.v[i], now);
			else
				engine_expiry_note(e, &l.v[i]->fw);
		}
		free(l.v);
	}
	if (failed)
		engine_expiry_at(e, now + EXPIRY_RETRY_S);
	pthread_rwlock_unlock(&e->lock);
}

int
expiry_start(struct engine *e, struct expiry **ret)
{
	struct expiry *x = calloc(1, sizeof(*x));
	int r;

	if (x == NULL)
		return -ENOMEM;
	x->e = e;
	x->ops = (struct watch_ops){.name = "expiry", .ready = on_timer};
	r = watch_start(engine_expiry_fd(e), &x->ops, x, &x->w);
	if (r < 0) {
		free(x);
		return r;
	}
	*ret = x;
	return 0;
}

void
expiry_stop(struct expiry *x)
{
	if (x == NULL)
		return;
	watch_stop(x->w);
	free(x);
}
