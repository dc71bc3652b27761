/*
 * The desired state, in memory, on disk and in the kernel. One change
 * at a time: stage the container's file, change its chain in the kernel
 * (one transaction the size of that container), commit the file, and
 * only then let the new state be seen. Reads share a lock and never
 * touch the kernel or the disk. The API's calls (calls.c and the files
 * it names) and the repairs (repair.c) work through engine_int.h.
 */

#include <errno.h>
#include <pthread.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/timerfd.h>

#include <cjson/cJSON.h>

#include "agentd/engine.h"
#include "agentd/engine_int.h"
#include "agentd/links.h"
#include "agentd/log.h"
#include "agentd/store.h"
#include "nft/nft.h"
#include "rules/rules.h"

/* Another writer may commit between a dump and our transaction. */
#define ENGINE_APPLY_TRIES 5

/* The containers. */

static int
by_id_cmp(const void *a, const void *b)
{
	return strcmp(((const struct engine_ct *)a)->fw.id, ((const struct engine_ct *)b)->fw.id);
}

static int
by_ifname_cmp(const void *a, const void *b)
{
	return strcmp(((const struct engine_ct *)a)->fw.ifname,
		      ((const struct engine_ct *)b)->fw.ifname);
}

struct engine_ct *
engine_ct_find(const struct engine *e, const char *id)
{
	struct engine_ct key;
	void *const *p;

	if (strlen(id) > RULES_ID_MAX)
		return NULL;
	strcpy(key.fw.id, id);
	p = tfind(&key, &e->by_id, by_id_cmp);
	return p ? *p : NULL;
}

struct engine_ct *
engine_ct_find_ifname(const struct engine *e, const char *ifname)
{
	struct engine_ct key;
	void *const *p;

	snprintf(key.fw.ifname, sizeof(key.fw.ifname), "%s", ifname);
	p = tfind(&key, &e->by_ifname, by_ifname_cmp);
	return p ? *p : NULL;
}

void
engine_ct_free(void *p)
{
	struct engine_ct *c = p;

	if (c == NULL)
		return;
	rules_container_clear(&c->fw);
	free(c);
}

static void
nop_free(void *p)
{
	(void)p;
}

void
engine_expiry_at(struct engine *e, int64_t t)
{
	struct itimerspec its = {.it_value = {.tv_sec = t}};

	if (t <= 0 || e->expiry_fd < 0 || (e->expiry_armed != 0 && e->expiry_armed <= t))
		return;
	/* a clock that is set wakes the thread too: what was due may be now */
	if (timerfd_settime(e->expiry_fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL) <
	    0)
		log_warn(-errno, "expiry: setting the timer");
	else
		e->expiry_armed = t;
}

void
engine_expiry_note(struct engine *e, const struct rules_container *fw)
{
	engine_expiry_at(e, rules_container_next_expiry(fw));
}

void
engine_expiry_reset(struct engine *e)
{
	e->expiry_armed = 0;
}

int
engine_expiry_fd(const struct engine *e)
{
	return e->expiry_fd;
}

int
engine_ct_replace(struct engine *e, struct engine_ct *old, struct engine_ct *next)
{
	if (e->observer != NULL)
		e->observer(e->observer_data, old, next);
	if (old != NULL) {
		if (old->fw.ifname[0] != '\0')
			tdelete(old, &e->by_ifname, by_ifname_cmp);
		tdelete(old, &e->by_id, by_id_cmp);
		e->n--;
		engine_ct_free(old);
	}
	if (next == NULL)
		return 0;
	if (tsearch(next, &e->by_id, by_id_cmp) == NULL)
		goto fail;
	if (next->fw.ifname[0] != '\0' && tsearch(next, &e->by_ifname, by_ifname_cmp) == NULL) {
		tdelete(next, &e->by_id, by_id_cmp);
		goto fail;
	}
	e->n++;
	engine_expiry_note(e, &next->fw);
	return 0;
fail:
	engine_ct_free(next);
	return -ENOMEM;
}

static int
file_parse(const char *id, const char *buf, size_t len, struct engine_ct **ret,
	   struct rules_error *reterr)
{
	struct engine_ct *c = calloc(1, sizeof(*c));
	int r;

	if (c == NULL)
		return -ENOMEM;
	r = rules_state_parse(buf, len, id, &c->fw, &c->revision, reterr);
	if (r < 0) {
		free(c);
		return r;
	}
	*ret = c;
	return 0;
}

static void
ct_list_one(const void *node, VISIT which, void *data)
{
	struct engine_ct_list *l = data;

	if (which == postorder || which == leaf)
		l->v[l->n++] = *(struct engine_ct *const *)node;
}

int
engine_ct_list(struct engine *e, struct engine_ct_list *ret)
{
	ret->n = 0;
	ret->v = calloc(e->n + 1, sizeof(*ret->v));
	if (ret->v == NULL)
		return -ENOMEM;
	twalk_r(e->by_id, ct_list_one, ret);
	return 0;
}

int
engine_desired_set(struct engine *e, const char *id, const struct rules_container *fw,
		   struct rules_set *ret)
{
	struct rules_container *v = calloc(e->n + 1, sizeof(*v));
	struct engine_ct_list l;
	size_t i, n = 0;

	if (v == NULL || engine_ct_list(e, &l) < 0) {
		free(v);
		return -ENOMEM;
	}
	for (i = 0; i < l.n; i++)
		if (id == NULL || strcmp(l.v[i]->fw.id, id) != 0)
			v[n++] = l.v[i]->fw;
	free(l.v);
	if (fw != NULL) {
		/* keep the order by id that nft_apply() relies on */
		for (i = n; i > 0 && strcmp(v[i - 1].id, fw->id) > 0; i--)
			v[i] = v[i - 1];
		v[i] = *fw;
		n++;
	}
	for (i = 0; i < n; i++)
		v[i].bridged = engine_bridged(e, v[i].ifname);
	ret->containers = v;
	ret->ncontainers = n;
	return 0;
}

/* The kernel. */

/* Say what a dump shows to be wrong, before it is put right. */
static void
log_damage(const struct nft_state *have, const char *why)
{
	size_t i, n = 0;

	if (nft_state_base_damage(have)[0] != '\0')
		log_warnx("%s: table: %s", why, nft_state_base_damage(have));
	for (i = 0; i < nft_state_count(have); i++) {
		const struct nft_container *ct = nft_state_get(have, i);

		if (ct->damage[0] == '\0')
			continue;
		if (n++ < 10)
			log_warnx("%s: container %s: %s", why, ct->fw.id, ct->damage);
	}
	if (n > 10)
		log_warnx("%s: %zu more containers damaged", why, n - 10);
}

int
engine_read_table(struct engine *e, const struct rules_set *want, const char *why,
		  struct nft_state **ret, struct nft_error *reterr)
{
	int r = nft_dump(e->nc, want, ret, reterr);

	if (r == 0 && nft_state_reads(*ret) > 1)
		log_debug("%s: table %s read %u times: other commits came in between", why,
			  nft_conn_table(e->nc), nft_state_reads(*ret));
	if (r == 0 && nft_state_others(*ret) > 0)
		log_debug("%s: table %s read while %u other commits came in; it is the agent's "
			  "own, so they left it alone",
			  why, nft_conn_table(e->nc), nft_state_others(*ret));
	return r;
}

int
engine_kernel_sync(struct engine *e, const struct rules_set *want, const struct nft_state *have,
		   const char *why, struct nft_apply_stats *ret_st, struct nft_error *reterr)
{
	struct nft_apply_stats st = {0};
	uint32_t genid;
	int tries, r = 0;

	for (tries = 0; tries < ENGINE_APPLY_TRIES; tries++) {
		struct nft_state *fresh = NULL;
		const struct nft_state *read = have;

		if (have == NULL || tries > 0) {
			r = engine_read_table(e, want, why, &fresh, reterr);
			read = fresh;
		}
		if (r == 0) {
			log_damage(read, why);
			r = nft_apply(e->nc, want, read, e->model, &st, reterr);
			if (r == -ERESTART)
				log_debug("%s: the ruleset moved after table %s was read; reading "
					  "it again",
					  why, nft_conn_table(e->nc));
			else if (r < 0)
				/* refused whole: the kernel holds what was read */
				engine_kernel_note(e, read);
		}
		nft_state_free(fresh);
		/* a large commit is made unheard (see nft_monitor_open()):
		 * a generation past its own means someone else committed,
		 * to this table only if it is not the agent's own now */
		if (r == 0 && st.messages > 0 && !st.persist && nft_genid(e->nc, &genid) == 0 &&
		    genid != st.genid) {
			log_warnx("%s: the table changed while it was being written; reading it "
				  "again",
				  why);
			r = -ERESTART;
		}
		if (r != -ERESTART)
			break;
	}
	if (r == 0) {
		e->persist = st.persist;
		e->genid_in_sync = st.genid;
		engine_kernel_trust(e);
		if (st.messages > 0)
			log_info("%s: table %s: %u containers created, %u updated, %u removed, "
				 "%u unchanged, %u messages in one transaction",
				 why, nft_conn_table(e->nc), st.created, st.updated, st.removed,
				 st.unchanged, st.messages);
	}
	if (ret_st != NULL)
		*ret_st = st;
	return r;
}

int
engine_kernel_resync(struct engine *e, const char *id, const struct rules_container *fw,
		     const struct nft_state *have, const char *why, struct nft_apply_stats *ret_st,
		     struct nft_error *reterr)
{
	struct rules_set want;
	int r = engine_desired_set(e, id, fw, &want);

	if (r < 0)
		return r;
	r = engine_kernel_sync(e, &want, have, why, ret_st, reterr);
	free(want.containers);
	return r;
}

uint32_t
engine_genid_next(uint32_t g)
{
	return g + 1 != 0 ? g + 1 : 1;
}

bool
engine_known_in_sync(struct engine *e, uint32_t *ret_genid)
{
	*ret_genid = 0;
	if (e->genid_in_sync == 0)
		return false;
	return e->persist || (nft_genid(e->nc, ret_genid) == 0 && *ret_genid == e->genid_in_sync);
}

bool
engine_bridged(const struct engine *e, const char *ifname)
{
	return ifname[0] != '\0' && links_presence(e->links, ifname) == 2;
}

/* Does the kernel (a reading) hold fw exactly, on the path its interface takes? */
static bool
kernel_holds(const struct engine *e, const struct nft_state *have, const struct rules_container *fw)
{
	const struct nft_container *kc = nft_state_find(have, fw->id);

	if (kc == NULL || kc->damage[0] != '\0' || kc->fw.bridged != engine_bridged(e, fw->ifname))
		return false;
	/* read against a desired state: what it found held is only named */
	return rules_container_equal(kc->same != NULL ? kc->same : &kc->fw, fw);
}

struct kernel_note {
	const struct engine *e;
	const struct nft_state *have; /* NULL: the kernel holds every container */
	bool base_ok;
};

static void
note_one(const void *node, VISIT which, void *data)
{
	const struct kernel_note *n = data;
	struct engine_ct *c = *(struct engine_ct *const *)node;

	if (which != postorder && which != leaf)
		return;
	c->out_of_sync = n->have != NULL && c->fw.ifname[0] != '\0' &&
			 (!n->base_ok || !kernel_holds(n->e, n->have, &c->fw));
}

void
engine_kernel_note(struct engine *e, const struct nft_state *have)
{
	struct kernel_note n = {
		.e = e, .have = have, .base_ok = nft_state_base_damage(have)[0] == '\0'};

	twalk_r(e->by_id, note_one, &n);
}

void
engine_kernel_trust(struct engine *e)
{
	struct kernel_note n = {.e = e, .have = NULL};

	twalk_r(e->by_id, note_one, &n);
}

const char *
engine_ifprefix(const struct engine *e, const char *ifname)
{
	unsigned int i;

	for (i = 0; i < e->opts.nifprefix; i++)
		if (strncmp(ifname, e->opts.ifprefix[i], strlen(e->opts.ifprefix[i])) == 0)
			return e->opts.ifprefix[i];
	return NULL;
}

/* Make the kernel enforce fw for container id (nothing for it when fw is NULL). */
static int
kernel_put(struct engine *e, const char *id, const struct rules_container *fw,
	   struct nft_error *reterr)
{
	struct nft_apply_stats st = {0};
	/* owned: commits around ours do not matter (engine_known_in_sync) */
	bool owned = e->persist;
	uint32_t g0, g1 = 0;
	bool in_sync;
	int r;

	/* in sync before, and our commit the only one since: in sync after */
	struct rules_container w;

	in_sync = engine_known_in_sync(e, &g0);
	e->genid_in_sync = 0;
	if (fw != NULL) {
		w = *fw;
		w.bridged = engine_bridged(e, w.ifname);
		fw = &w;
	}
	r = nft_put(e->nc, e->model, id, fw, &st, reterr);
	if (r == -ERESTART) {
		log_warnx("kernel: table %s is not as this agent left it (%s%s%s); resynchronising",
			  nft_conn_table(e->nc), reterr->what, reterr->detail[0] ? ": " : "",
			  reterr->detail);
		return engine_kernel_resync(e, id, fw, NULL, "resynchronised", NULL, reterr);
	}
	if (r < 0)
		return r;
	log_debug("kernel: container %s: %u messages, commit %u us", id, st.messages, st.commit_us);
	if (in_sync && nft_genid(e->nc, &g1) == 0 &&
	    (owned || g1 == (st.messages > 0 ? engine_genid_next(g0) : g0)))
		e->genid_in_sync = g1;
	return 0;
}

void
engine_forget_links(struct engine *e)
{
	pthread_rwlock_wrlock(&e->lock);
	e->links = NULL;
	pthread_rwlock_unlock(&e->lock);
}

int
engine_follow_bridge(struct engine *e, const struct engine_ct *c)
{
	bool now = engine_bridged(e, c->fw.ifname);
	struct nft_error err = {0};
	int r;

	if (now == nft_model_bridged(e->model, c->fw.id))
		return 0;
	r = kernel_put(e, c->fw.id, &c->fw, &err);
	if (r < 0)
		log_warn(r, "container %s: enforcing it %s: %s", c->fw.id,
			 now ? "as a bridge port" : "as routed", err.detail);
	else
		log_info("container %s: interface %s %s", c->fw.id, c->fw.ifname,
			 now ? "is a bridge port now: enforced where the bridge hands its frames on"
			     : "left its bridge: enforced as routed");
	return r;
}

/* Changes. */

int
engine_stage(struct engine *e, const struct engine_ct *c, struct store_staged **ret,
	     char **ret_text)
{
	char *text = rules_state_render(&c->fw, c->revision);
	int r = text ? store_stage(e->store, c->fw.id, text, strlen(text), ret) : -ENOMEM;

	if (r == 0 && ret_text != NULL)
		*ret_text = text;
	else
		free(text);
	return r;
}

int
engine_commit(struct engine *e, const char *id, struct engine_ct *old, struct engine_ct *next,
	      struct engine_error *reterr)
{
	const struct rules_container *oldfw = old ? &old->fw : NULL;
	const struct rules_container *nextfw = next ? &next->fw : NULL;
	struct store_staged *st = NULL;
	struct nft_error err;
	int r = 0, r2;

	if (next != NULL && (r = engine_stage(e, next, &st, NULL)) < 0)
		goto storage;
	r = kernel_put(e, id, nextfw, &reterr->kernel);
	if (r < 0) {
		store_abort(e->store, st);
		log_warn(r, "container %s: kernel refused the change: %s %s", id,
			 reterr->kernel.what, reterr->kernel.detail);
		reterr->storage = false;
		engine_ct_free(next);
		return r;
	}
	/* the file follows the kernel: its commit is the change's point of no return */
	r = next ? store_commit(e->store, st) : store_remove(e->store, id);
	if (r < 0) {
		r2 = kernel_put(e, id, oldfw, &err);
		if (r2 < 0) {
			log_warn(r2,
				 "container %s: could not restore its kernel state after a "
				 "storage failure; the kernel enforces the new state",
				 id);
			if (old != NULL)
				old->out_of_sync = true;
		}
		goto storage;
	}
	if (engine_ct_replace(e, old, next) < 0) {
		/* the trees could not hold it: better to stop than to lie */
		log_warnx("container %s: out of memory recording a committed change; exiting", id);
		abort();
	}
	return 0;
storage:
	log_warn(r, "container %s: state directory %s", id, store_dir(e->store));
	reterr->storage = true;
	engine_ct_free(next);
	return r;
}

int
engine_kernel_in_sync(struct engine *e, bool *ret)
{
	struct nft_apply_stats st;
	struct nft_state *have = NULL;
	struct nft_error err;
	struct rules_set want;
	uint32_t genid;
	int r;

	if (engine_known_in_sync(e, &genid)) {
		*ret = true;
		return 0;
	}
	r = engine_desired_set(e, NULL, NULL, &want);
	if (r < 0)
		return r;
	r = engine_read_table(e, &want, "health", &have, &err);
	if (r == 0)
		r = nft_diff(e->nc, &want, have, &st, &err);
	if (r == 0) {
		*ret = st.messages == 0;
		if (*ret) {
			e->genid_in_sync = nft_state_genid(have);
			engine_kernel_trust(e);
		} else {
			engine_kernel_note(e, have);
		}
	}
	nft_state_free(have);
	free(want.containers);
	return r;
}

/* Start and stop. */

struct nft_monitor *
engine_monitor(const struct engine *e)
{
	return e->monitor;
}

/*
 * A state directory that did not exist cannot speak for a table that
 * enforces containers: a mistyped --state-dir must not unlock a host.
 */
static int
check_fresh_store(const struct engine *e, const struct engine_options *o,
		  const struct nft_state *have)
{
	size_t n = nft_state_count(have);

	if (!store_created(e->store) || n == 0)
		return 0;
	log_warnx("state: %s is new, but table %s enforces %zu containers; refusing to remove "
		  "them. Point --state-dir at the agent's state, or delete the table first",
		  o->state_dir, o->table, n);
	return -EEXIST;
}

/*
 * The state loads in a thread while the main thread reads the kernel:
 * neither needs the other. This way round, the dump's garbage is in the
 * main arena, whose top malloc_trim() gives back; glibc never trims the
 * top of a thread's arena, which suits the state, as it stays.
 */
struct loader {
	struct engine *e;
	const struct engine_options *o;
	pthread_t tid;
	bool running;
	unsigned int bad;
	int r;
	char (*detached)[RULES_ID_MAX + 1]; /* containers a double claim detached */
	size_t ndetached;
};

/*
 * c claims the interface that other, loaded already, claims. Only a
 * whole-host change cut short leaves that (an attach takes no interface
 * another container holds): the file written last is that change's, and
 * its container keeps the interface; the other is detached, and written
 * so once loading is done. Either way the interface stays enforced.
 * Returns the one to detach.
 */
static struct engine_ct *
double_claim(struct loader *l, struct engine_ct *c, struct engine_ct *other)
{
	struct timespec tc = store_written(l->e->store, c->fw.id);
	struct timespec to = store_written(l->e->store, other->fw.id);
	bool c_newer = tc.tv_sec != to.tv_sec	  ? tc.tv_sec > to.tv_sec
		       : tc.tv_nsec != to.tv_nsec ? tc.tv_nsec > to.tv_nsec
						  : strcmp(c->fw.id, other->fw.id) > 0;
	struct engine_ct *keep = c_newer ? c : other, *lose = c_newer ? other : c;
	void *v = reallocarray(l->detached, l->ndetached + 1, sizeof(*l->detached));

	log_warnx("state: interface %s is claimed by containers %s and %s (a whole-host change "
		  "was cut short): %s, written last, keeps it; %s is detached",
		  c->fw.ifname, other->fw.id, c->fw.id, keep->fw.id, lose->fw.id);
	if (lose == other)
		tdelete(other, &l->e->by_ifname, by_ifname_cmp);
	lose->fw.ifname[0] = '\0';
	if (v != NULL) {
		l->detached = v;
		snprintf(l->detached[l->ndetached++], RULES_ID_MAX + 1, "%s", lose->fw.id);
	}
	return lose;
}

/* Write what double claims detached, so that the next start finds it so. */
static void
persist_detached(struct loader *l)
{
	size_t i;

	for (i = 0; i < l->ndetached; i++) {
		struct engine_ct *c = engine_ct_find(l->e, l->detached[i]);
		struct store_staged *st = NULL;
		int r = c ? engine_stage(l->e, c, &st, NULL) : -ENOENT;

		if (r == 0)
			r = store_commit(l->e->store, st);
		if (r < 0)
			log_warn(r, "state: writing container %s detached", l->detached[i]);
	}
	free(l->detached);
	l->detached = NULL;
	l->ndetached = 0;
}

static int
load_one(const char *id, const char *buf, size_t len, const char *path, const char *problem,
	 void *data)
{
	struct loader *l = data;
	struct rules_error re;
	struct engine_ct *c = NULL;
	int r;

	if (buf == NULL) {
		log_warnx("state: %s: %s", path, problem);
		l->bad++;
		return 0;
	}
	if (problem != NULL)
		log_warnx("state: %s: %s", path, problem);
	r = file_parse(id, buf, len, &c, &re);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		log_warnx("state: %s: %s%s%s", path, re.field, re.field[0] ? ": " : "", re.message);
		l->bad++;
		return 0;
	}
	if (c->fw.ifname[0] != '\0' && engine_ct_find_ifname(l->e, c->fw.ifname) != NULL)
		double_claim(l, c, engine_ct_find_ifname(l->e, c->fw.ifname));
	return engine_ct_replace(l->e, NULL, c);
}

static void *
loader_run(void *arg)
{
	struct loader *l = arg;

	l->r = store_load(l->e->store, load_one, l);
	if (l->r == 0 && l->bad == 0)
		persist_detached(l);
	if (l->r == 0 && l->bad > 0) {
		log_warnx("state: %u files in %s/containers cannot be used; fix or remove them "
			  "(the agent does not guess a firewall)",
			  l->bad, l->o->state_dir);
		l->r = -EINVAL;
	}
	return NULL;
}

static int
loader_join(struct loader *l)
{
	if (l->running)
		pthread_join(l->tid, NULL);
	else
		loader_run(l);
	l->running = false;
	return l->r;
}

int
engine_start(const struct engine_options *o, struct engine **ret)
{
	struct nft_state *have = NULL;
	struct nft_error err = {0};
	struct loader l = {.o = o};
	struct engine *e;
	int r, r2;

	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	pthread_rwlock_init(&e->lock, NULL);
	e->expiry_fd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
	if (e->expiry_fd < 0) {
		r = -errno;
		log_warn(r, "expiry: timer");
		goto fail;
	}
	if (o->nft != NULL)
		e->opts = *o->nft;
	e->links = o->links;
	l.e = e;
	r = store_open(o->state_dir, &e->store);
	if (r == -EBADMSG)
		log_warnx("state directory %s: host.journal, a change of several containers "
			  "to finish, is damaged; the kernel keeps enforcing what it holds. "
			  "Remove the file to start from the containers' files as they are",
			  o->state_dir);
	else if (r < 0)
		log_warn(r, "state directory %s", o->state_dir);
	if (r < 0)
		goto fail;
	r = nft_conn_open(o->table, &e->nc);
	if (r == 0)
		r = nft_model_new(&e->model);
	/* subscribed before the first read: no change after it goes unseen */
	if (r == 0)
		r = nft_monitor_open(e->nc, (int)o->monitor_buffer, &e->monitor);
	if (r < 0) {
		log_warn(r, "netfilter socket");
		goto fail;
	}
	nft_conn_hold_table(e->nc);
	if (o->no_table_owner)
		nft_conn_no_owner(e->nc);
	nft_conn_set_options(e->nc, o->nft);
	l.running = pthread_create(&l.tid, NULL, loader_run, &l) == 0;
	r2 = engine_read_table(e, NULL, "start-up", &have, &err);
	r = loader_join(&l);
	if (r < 0)
		goto fail;
	if (r2 < 0) {
		log_warn(r2, "kernel: reading table %s: %s", o->table, err.detail);
		r = r2;
		goto fail;
	}
	r = check_fresh_store(e, o, have);
	if (r < 0)
		goto fail;
	r = engine_kernel_resync(e, NULL, NULL, have, "start-up", NULL, &err);
	if (r < 0) {
		log_warn(r, "kernel: applying the stored state to table %s: %s%s%s%s%s", o->table,
			 err.what, err.container[0] ? ", container " : "", err.container,
			 err.detail[0] ? ": " : "", err.detail);
		goto fail;
	}
	nft_state_free(have);
	if (!e->persist)
		log_warnx("kernel: table %s has no owner/persist flags (%s): tamper protection "
			  "is off; the reconciler repairs changes after the fact",
			  o->table, o->no_table_owner ? "--no-table-owner" : "not on this kernel");
	log_info("state: %zu containers from %s; kernel table %s in force", e->n, o->state_dir,
		 o->table);
	*ret = e;
	return 0;
fail:
	nft_state_free(have);
	engine_stop(e);
	return r;
}

void
engine_stop(struct engine *e)
{
	if (e == NULL)
		return;
	tdestroy(e->by_ifname, nop_free);
	tdestroy(e->by_id, engine_ct_free);
	nft_model_free(e->model);
	nft_monitor_close(e->monitor);
	/* closing the socket orphans the table; persist keeps it in force */
	nft_conn_close(e->nc);
	store_close(e->store);
	if (e->expiry_fd >= 0)
		close(e->expiry_fd);
	pthread_rwlock_destroy(&e->lock);
	free(e);
}
