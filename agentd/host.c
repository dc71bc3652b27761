/*
 * The API's calls on the whole host's state, for control planes that
 * declare every container at once: PUT makes the kernel and the state
 * directory hold exactly the given containers in one step, GET gives
 * back what PUT takes.
 */

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "agentd/bridges.h"
#include "agentd/calls.h"
#include "agentd/engine_int.h"
#include "agentd/host.h"
#include "agentd/log.h"
#include "agentd/store.h"
#include "api/api.h"
#include "nft/nft.h"
#include "rules/rules.h"

struct host_change {
	const char *id;
	struct engine_ct *old;	     /* NULL: created */
	struct engine_ct *next;	     /* NULL: removed */
	struct store_staged *staged; /* until committed or dropped */
	char *text;		     /* next's state file, for the journal */
	bool committed;
};

struct host_plan {
	struct host_change *v;
	size_t n;
	size_t unchanged;
};

static void
host_plan_free(struct host_plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		engine_ct_free(p->v[i].next);
		free(p->v[i].text);
	}
	free(p->v);
}

/* What it takes to go from the desired state to want. */
static int
host_plan(struct engine *e, const struct rules_set *want, struct host_plan *p)
{
	struct engine_ct_list have;
	size_t i;

	if (engine_ct_list(e, &have) < 0)
		return -ENOMEM;
	p->v = calloc(want->ncontainers + have.n + 1, sizeof(*p->v));
	if (p->v == NULL) {
		free(have.v);
		return -ENOMEM;
	}
	for (i = 0; i < want->ncontainers; i++) {
		const struct rules_container *w = &want->containers[i];
		struct engine_ct *old = engine_ct_find(e, w->id);
		struct engine_ct *next;

		if (old != NULL && rules_container_equal(&old->fw, w)) {
			p->unchanged++;
			continue;
		}
		next = calloc(1, sizeof(*next));
		if (next == NULL || rules_container_copy(&next->fw, w) < 0) {
			free(next);
			free(have.v);
			return -ENOMEM;
		}
		next->revision = old ? old->revision + 1 : 1;
		p->v[p->n++] = (struct host_change){.id = next->fw.id, .old = old, .next = next};
	}
	for (i = 0; i < have.n; i++)
		if (rules_set_find(want, have.v[i]->fw.id) == NULL)
			p->v[p->n++] = (struct host_change){
				.id = have.v[i]->fw.id,
				.old = have.v[i],
			};
	free(have.v);
	return 0;
}

static cJSON *
host_summary(const struct host_plan *p, size_t total)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *lists[3] = {NULL, NULL, NULL};
	static const char *const names[3] = {"created", "updated", "removed"};
	size_t i;
	int k;

	if (o == NULL || !cJSON_AddBoolToObject(o, "changed", p->n > 0))
		goto fail;
	for (k = 0; k < 3; k++)
		if ((lists[k] = cJSON_AddArrayToObject(o, names[k])) == NULL)
			goto fail;
	for (i = 0; i < p->n; i++) {
		const struct host_change *c = &p->v[i];

		k = c->next == NULL ? 2 : c->old == NULL ? 0 : 1;
		if (!cJSON_AddItemToArray(lists[k], cJSON_CreateString(c->id)))
			goto fail;
	}
	if (!cJSON_AddNumberToObject(o, "unchanged", (double)p->unchanged) ||
	    !cJSON_AddNumberToObject(o, "containers", (double)total))
		goto fail;
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

/* Drop what is staged and put back the files of the changes committed so far. */
static void
host_unstore(struct engine *e, struct host_plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		struct host_change *c = &p->v[i];
		int r;

		store_abort(e->store, c->staged);
		c->staged = NULL;
		if (!c->committed)
			continue;
		if (c->old == NULL) {
			r = store_remove(e->store, c->id);
		} else {
			r = engine_stage(e, c->old, &c->staged, NULL);
			if (r == 0)
				r = store_commit(e->store, c->staged);
			c->staged = NULL;
		}
		if (r < 0)
			log_warn(r, "container %s: could not restore its state file", c->id);
	}
	/* the old state is back: a start must not finish the change */
	if (store_journal_done(e->store) < 0)
		log_warnx("host state: could not remove the journal in %s", store_dir(e->store));
}

/*
 * Several containers change: the journal says which and to what before
 * the kernel or any file does, so that a stop before all files are
 * committed finishes them at the next start (the kernel then follows).
 */
static int
host_journal(struct engine *e, const struct host_plan *p)
{
	struct store_entry *v = calloc(p->n, sizeof(*v));
	size_t i;
	int r;

	if (v == NULL)
		return -ENOMEM;
	for (i = 0; i < p->n; i++) {
		v[i].id = p->v[i].id;
		v[i].buf = p->v[i].text; /* staged with next; NULL: removed */
		v[i].len = v[i].buf != NULL ? strlen(v[i].buf) : 0;
	}
	r = store_journal(e->store, v, p->n);
	free(v);
	return r;
}

static int
host_store(struct engine *e, struct host_plan *p, bool commit_phase)
{
	size_t i;
	int r = 0;

	for (i = 0; i < p->n && r == 0; i++) {
		struct host_change *c = &p->v[i];

		if (!commit_phase) {
			if (c->next != NULL)
				r = engine_stage(e, c->next, &c->staged, &c->text);
		} else {
			r = c->next ? store_commit(e->store, c->staged)
				    : store_remove(e->store, c->id);
			c->staged = NULL;
			c->committed = r == 0;
		}
		if (r < 0)
			log_warn(r, "container %s: state directory %s", c->id, store_dir(e->store));
	}
	/* staged, the journal goes down before the kernel is changed: a disk
	 * that takes no journal refuses the change while nothing else has */
	if (r == 0 && p->n > 1) {
		r = commit_phase ? store_journal_done(e->store) : host_journal(e, p);
		if (r < 0)
			log_warn(r, "host state: the journal in %s", store_dir(e->store));
	}
	return r;
}

/* An interface a change takes from its container, and whose it was. */
struct host_released {
	char ifname[16];
	char id[RULES_ID_MAX + 1];
};

/*
 * The interfaces the plan takes from their containers (removed,
 * detached, moved), into a new array (*ret, *ret_n). Returns 0 or
 * -ENOMEM.
 */
static int
host_released(const struct host_plan *p, struct host_released **ret, size_t *ret_n)
{
	struct host_released *v = calloc(p->n + 1, sizeof(*v));
	size_t i, n = 0;

	if (v == NULL)
		return -ENOMEM;
	for (i = 0; i < p->n; i++) {
		const struct engine_ct *old = p->v[i].old, *next = p->v[i].next;

		if (old == NULL || old->fw.ifname[0] == '\0' ||
		    (next != NULL && strcmp(next->fw.ifname, old->fw.ifname) == 0))
			continue;
		memcpy(v[n].ifname, old->fw.ifname, sizeof(v[n].ifname));
		memcpy(v[n].id, old->fw.id, sizeof(v[n].id));
		n++;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/*
 * What the summary adds once the trees hold the new state: "not_enforced",
 * the number of containers nothing enforces, and "warnings": each changed
 * container that is not enforced, and each interface left without a
 * container. placed are the changed containers, now in the trees.
 */
static bool
host_warn(const struct calls *calls, cJSON *summary, struct engine_ct *const *placed,
	  size_t nplaced, const struct host_released *rel, size_t nrel)
{
	size_t count[ENFORCEMENT_MAX] = {0}, i;
	cJSON *w;

	if (calls_census(calls, true, count) < 0 ||
	    !cJSON_AddNumberToObject(summary, "not_enforced", (double)calls_not_enforced(count)) ||
	    (w = calls_warnings(summary)) == NULL)
		return false;
	for (i = 0; i < nplaced; i++)
		if (!calls_warn_enforcement(calls, w, placed[i]))
			return false;
	for (i = 0; i < nrel; i++)
		if (engine_ct_find_ifname(calls->engine, rel[i].ifname) == NULL &&
		    !calls_warn_released(calls, w, rel[i].ifname, rel[i].id))
			return false;
	return true;
}

void
host_put(void *ctx, const struct cJSON *body, struct api_result *res)
{
	const struct calls *calls = ctx;
	struct engine *e = calls->engine;
	struct host_released *rel = NULL;
	struct engine_ct **placed = NULL;
	size_t nrel = 0, nplaced = 0;
	struct host_plan p = {0};
	struct rules_set *want = NULL;
	struct rules_error re = {0};
	struct nft_error err;
	cJSON *summary;
	size_t i;
	int r;

	if (rules_set_from_json(body, &want, &re) < 0) {
		api_result_rules_error(res, &re);
		return;
	}
	for (i = 0; i < want->ncontainers; i++)
		if (rules_container_expiry_resolve(&want->containers[i], time(NULL), &re) < 0 ||
		    !calls_rules_supported(calls, &want->containers[i], NULL, res)) {
			if (re.code != NULL)
				api_result_rules_error(res, &re);
			rules_set_free(want);
			return;
		}
	for (i = 0; i < want->ncontainers; i++)
		if (!calls_interface_ok(calls, want->containers[i].id, want->containers[i].ifname,
					res)) {
			rules_set_free(want);
			return;
		}
	pthread_rwlock_wrlock(&e->lock);
	r = host_plan(e, want, &p);
	if (r < 0) {
		api_result_nomem(res);
		goto out;
	}
	if (p.n == 0) {
		summary = host_summary(&p, e->n);
		if (summary != NULL && !host_warn(calls, summary, NULL, 0, NULL, 0)) {
			cJSON_Delete(summary);
			summary = NULL;
		}
		api_result_answer(res, API_STATUS_OK, summary);
		goto out;
	}
	placed = calloc(p.n + 1, sizeof(*placed));
	if (placed == NULL || host_released(&p, &rel, &nrel) < 0) {
		api_result_nomem(res);
		goto out;
	}
	r = host_store(e, &p, false);
	if (r < 0) {
		host_unstore(e, &p);
		calls_fail_storage(e, res, r);
		goto out;
	}
	r = engine_kernel_sync(e, want, NULL, "host state", NULL, &err);
	if (r < 0) {
		host_unstore(e, &p);
		log_warn(r, "host state: kernel refused the change: %s %s", err.what, err.detail);
		calls_fail_kernel(res, r, &err);
		goto out;
	}
	r = host_store(e, &p, true);
	if (r < 0) {
		host_unstore(e, &p);
		if (engine_kernel_resync(e, NULL, NULL, NULL, "host state undone", NULL, &err) <
		    0) {
			log_warnx(
				"host state: could not restore the kernel after a storage failure; "
				"the kernel enforces the new state");
			for (i = 0; i < p.n; i++)
				if (p.v[i].old != NULL)
					p.v[i].old->out_of_sync = true;
		}
		calls_fail_storage(e, res, r);
		goto out;
	}
	/* said before the trees take (and free) the containers it names */
	summary = host_summary(&p, want->ncontainers);
	log_info("host state: %zu containers changed, %zu unchanged", p.n, p.unchanged);
	/* every old one leaves the trees before any new one enters: an
	 * interface may move from one container to another */
	for (i = 0; i < p.n; i++)
		if (p.v[i].old != NULL)
			engine_ct_replace(e, p.v[i].old, NULL);
	for (i = 0; i < p.n; i++) {
		if (p.v[i].next == NULL)
			continue;
		if (engine_ct_replace(e, NULL, p.v[i].next) < 0) {
			log_warnx(
				"host state: out of memory recording a committed change; exiting");
			abort();
		}
		placed[nplaced++] = p.v[i].next;
		p.v[i].next = NULL; /* the trees have it */
	}
	for (i = 0; i < nplaced; i++)
		if (placed[i]->fw.ifname[0] != '\0')
			bridges_attached(calls->bridges, calls->links, placed[i]->fw.ifname,
					 placed[i]->fw.id);
	if (summary != NULL && !host_warn(calls, summary, placed, nplaced, rel, nrel)) {
		cJSON_Delete(summary);
		summary = NULL;
	}
	api_result_answer(res, API_STATUS_OK, summary);
out:
	pthread_rwlock_unlock(&e->lock);
	host_plan_free(&p);
	rules_set_free(want);
	free(placed);
	free(rel);
}

static cJSON *
host_entry(const struct calls *calls, const struct engine_ct *c)
{
	cJSON *fw = rules_container_to_json(&c->fw);

	(void)calls; /* the desired state only, exactly as PUT takes it */
	if (fw != NULL && !cJSON_AddNumberToObject(fw, "revision", (double)c->revision)) {
		cJSON_Delete(fw);
		fw = NULL;
	}
	return fw;
}

void
host_get(void *ctx, struct api_result *res)
{
	calls_answer_each(ctx, true, host_entry, res);
}
