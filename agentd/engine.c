/*
 * The desired state, in memory, on disk and in the kernel. One change
 * at a time: stage the container's file, change its chain in the kernel
 * (one transaction the size of that container), commit the file, and
 * only then let the new state be seen. Reads share a lock and never
 * touch the kernel or the disk.
 */

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <search.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "agentd/audit.h"
#include "agentd/drops.h"
#include "agentd/engine.h"
#include "agentd/engine_int.h"
#include "agentd/kernel_json.h"
#include "agentd/links.h"
#include "agentd/log.h"
#include "agentd/store.h"
#include "api/api.h"
#include "nft/nft.h"
#include "rules/rules.h"

/* Another writer may commit between a dump and our transaction. */
#define ENGINE_APPLY_TRIES 5
#define PID_MAX 4194304 /* the kernel's PID_MAX_LIMIT */

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

static void
ct_free(void *p)
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

/* Swap old for next in the trees; either may be NULL. Takes next, frees old. */
static int
ct_replace(struct engine *e, struct engine_ct *old, struct engine_ct *next)
{
	if (old != NULL) {
		if (old->fw.ifname[0] != '\0')
			tdelete(old, &e->by_ifname, by_ifname_cmp);
		tdelete(old, &e->by_id, by_id_cmp);
		e->n--;
		ct_free(old);
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
	return 0;
fail:
	ct_free(next);
	return -ENOMEM;
}

static void
fail_not_found(struct api_result *res, const char *id)
{
	api_result_fail(
		res, API_STATUS_NOT_FOUND, "container_not_found", "",
		"container %s has no firewall; create it with POST "
		"/api/v1/containers/%s/firewall/reset or PUT /api/v1/containers/%s/firewall",
		id, id, id);
}

/* Answers. */

/* {"container_id", "interface", "interface_present", "default_action", "rules", "revision"} */
static cJSON *
firewall_json(const struct engine *e, const struct engine_ct *c)
{
	cJSON *o = cJSON_CreateObject(), *fw = rules_container_to_json(&c->fw), *item;

	if (o == NULL || fw == NULL || !cJSON_AddStringToObject(o, "container_id", c->fw.id))
		goto fail;
	while ((item = fw->child) != NULL) {
		cJSON_DetachItemViaPointer(fw, item);
		if (!cJSON_AddItemToObject(o, item->string, item)) {
			cJSON_Delete(item);
			goto fail;
		}
	}
	if (!kernel_json_presence(o, e->links, c->fw.ifname) ||
	    !cJSON_AddNumberToObject(o, "revision", (double)c->revision))
		goto fail;
	cJSON_Delete(fw);
	return o;
fail:
	cJSON_Delete(fw);
	cJSON_Delete(o);
	return NULL;
}

static void
answer_firewall(const struct engine *e, struct api_result *res, enum api_status status,
		const struct engine_ct *c)
{
	api_result_answer(res, status, firewall_json(e, c));
}

/* The state file: {"revision": N, "firewall": {...}}. */
static char *
file_render(const struct engine_ct *c)
{
	cJSON *o = cJSON_CreateObject(), *fw = rules_container_to_json(&c->fw);
	char *text = NULL;

	if (o != NULL && fw != NULL &&
	    cJSON_AddNumberToObject(o, "revision", (double)c->revision) &&
	    cJSON_AddItemToObject(o, "firewall", fw)) {
		fw = NULL;
		text = cJSON_PrintUnformatted(o);
	}
	cJSON_Delete(fw);
	cJSON_Delete(o);
	return text;
}

static int
file_parse(const char *id, const char *buf, size_t len, struct engine_ct **ret,
	   struct rules_error *reterr)
{
	cJSON *o = NULL;
	const cJSON *rev, *fw;
	struct engine_ct *c = NULL;
	int r = -EINVAL;

	memset(reterr, 0, sizeof(*reterr));
	reterr->code = "invalid_state_file";
	if (rules_json_check_raw(buf, len, reterr) < 0 ||
	    (o = cJSON_ParseWithLength(buf, len)) == NULL)
		goto out;
	rev = cJSON_GetObjectItemCaseSensitive(o, "revision");
	fw = cJSON_GetObjectItemCaseSensitive(o, "firewall");
	if (!cJSON_IsNumber(rev) || rev->valuedouble < 1 || fw == NULL) {
		snprintf(reterr->message, sizeof(reterr->message),
			 "expected {\"revision\": N, \"firewall\": {...}}");
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = rules_container_parse(fw, id, &c->fw, reterr);
	if (r < 0)
		goto out;
	c->revision = (uint64_t)rev->valuedouble;
	*ret = c;
	c = NULL;
out:
	free(c);
	cJSON_Delete(o);
	return r;
}

/* The kernel. */

/* Every container in id order: pointers into the trees (free only v). */
struct ct_list {
	struct engine_ct **v;
	size_t n;
};

static void
ct_list_one(const void *node, VISIT which, void *data)
{
	struct ct_list *l = data;

	if (which == postorder || which == leaf)
		l->v[l->n++] = *(struct engine_ct *const *)node;
}

static int
ct_list(struct engine *e, struct ct_list *ret)
{
	ret->n = 0;
	ret->v = calloc(e->n + 1, sizeof(*ret->v));
	if (ret->v == NULL)
		return -ENOMEM;
	twalk_r(e->by_id, ct_list_one, ret);
	return 0;
}

/*
 * The whole desired state as a rules_set, with container id's firewall
 * replaced by fw (or left out when fw is NULL). The set shares the
 * containers' rules: free only its array.
 */
static int
desired_set(struct engine *e, const char *id, const struct rules_container *fw,
	    struct rules_set *ret)
{
	struct rules_container *v = calloc(e->n + 1, sizeof(*v));
	struct ct_list l;
	size_t i, n = 0;

	if (v == NULL || ct_list(e, &l) < 0) {
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
	ret->containers = v;
	ret->ncontainers = n;
	return 0;
}

static void
fail_kernel(struct api_result *res, int r, const struct nft_error *err)
{
	api_result_fail(res, API_STATUS_KERNEL_FAILED, "kernel_error", "",
			"the kernel refused the change (%s%s%s%s%s): %s%s%s; nothing changed",
			err->what[0] ? err->what : "apply", err->container[0] ? ", container " : "",
			err->container, err->rule[0] ? ", rule " : "", err->rule, strerror(-r),
			err->detail[0] ? ": " : "", err->detail);
}

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

/* nft_dump(), saying (debug) when other commits came in while it read. */
static int
read_table(struct engine *e, const struct rules_set *want, struct nft_state **ret,
	   struct nft_error *reterr, const char *why)
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

/*
 * Make the table hold want in one transaction, diffing against have
 * (borrowed; NULL: dump it) first and against fresh dumps when someone
 * else commits in between. why names the occasion in the log; *ret_st
 * (may be NULL) says what was sent.
 */
static int
kernel_sync(struct engine *e, const struct rules_set *want, const struct nft_state *have,
	    const char *why, struct nft_apply_stats *ret_st, struct nft_error *reterr)
{
	struct nft_apply_stats st = {0};
	uint32_t genid;
	int tries, r = 0;

	for (tries = 0; tries < ENGINE_APPLY_TRIES; tries++) {
		struct nft_state *fresh = NULL;

		if (have == NULL || tries > 0)
			r = read_table(e, want, &fresh, reterr, why);
		if (r == 0) {
			log_damage(fresh ? fresh : have, why);
			r = nft_apply(e->nc, want, fresh ? fresh : have, e->model, &st, reterr);
			if (r == -ERESTART)
				log_debug("%s: the ruleset moved after table %s was read; reading "
					  "it again",
					  why, nft_conn_table(e->nc));
		}
		nft_state_free(fresh);
		/* a large commit is made unheard (see nft_monitor_open()):
		 * a generation past its own means someone else committed */
		if (r == 0 && st.messages > 0 && nft_genid(e->nc, &genid) == 0 &&
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
	int r = desired_set(e, id, fw, &want);

	if (r < 0)
		return r;
	r = kernel_sync(e, &want, have, why, ret_st, reterr);
	free(want.containers);
	return r;
}

uint32_t
engine_genid_next(uint32_t g)
{
	return g + 1 != 0 ? g + 1 : 1;
}

/* Make the kernel enforce fw for container id (nothing for it when fw is NULL). */
static int
kernel_put(struct engine *e, const char *id, const struct rules_container *fw,
	   struct nft_error *reterr)
{
	struct nft_apply_stats st = {0};
	/* with owner and persist the table is this socket's: no other commit
	 * can change it, so commits around ours do not matter */
	bool owned = e->persist;
	uint32_t g0 = 0, g1 = 0;
	bool in_sync;
	int r;

	/* in sync before, and our commit the only one since: in sync after */
	in_sync = e->genid_in_sync != 0 &&
		  (owned || (nft_genid(e->nc, &g0) == 0 && g0 == e->genid_in_sync));
	e->genid_in_sync = 0;
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

static void
fail_storage(const struct engine *e, struct api_result *res, int r)
{
	if (r == -ENOSPC || r == -EDQUOT)
		api_result_fail(res, API_STATUS_STORAGE_FULL, "storage_full", "",
				"the state directory %s is full (%s); nothing changed",
				store_dir(e->store), strerror(-r));
	else
		api_result_fail(res, API_STATUS_STORAGE_FAILED, "storage_error", "",
				"the state directory %s failed (%s); nothing changed",
				store_dir(e->store), strerror(-r));
}

/* Stage c's state file (see store.h). */
static int
stage(struct engine *e, const struct engine_ct *c, struct store_staged **ret)
{
	char *text = file_render(c);
	int r = text ? store_stage(e->store, c->fw.id, text, strlen(text), ret) : -ENOMEM;

	free(text);
	return r;
}

/*
 * Make next (NULL: remove) the state of container id, everywhere.
 * old is the current state (NULL: new). On success the trees hold next
 * and old is freed; on failure nothing changed and next is freed.
 */
static bool
commit(struct engine *e, const char *id, struct engine_ct *old, struct engine_ct *next,
       struct api_result *res)
{
	const struct rules_container *oldfw = old ? &old->fw : NULL;
	const struct rules_container *nextfw = next ? &next->fw : NULL;
	struct store_staged *st = NULL;
	struct nft_error err;
	int r = 0, r2;

	if (next != NULL && (r = stage(e, next, &st)) < 0)
		goto storage;
	r = kernel_put(e, id, nextfw, &err);
	if (r < 0) {
		store_abort(e->store, st);
		log_warn(r, "container %s: kernel refused the change: %s %s", id, err.what,
			 err.detail);
		fail_kernel(res, r, &err);
		ct_free(next);
		return false;
	}
	/* the file follows the kernel: its commit is the change's point of no return */
	r = next ? store_commit(e->store, st) : store_remove(e->store, id);
	if (r < 0) {
		r2 = kernel_put(e, id, oldfw, &err);
		if (r2 < 0)
			log_warn(r2,
				 "container %s: could not restore its kernel state after a "
				 "storage failure; the kernel enforces the new state",
				 id);
		goto storage;
	}
	if (ct_replace(e, old, next) < 0) {
		/* the trees could not hold it: better to stop than to lie */
		log_warnx("container %s: out of memory recording a committed change; exiting", id);
		abort();
	}
	return true;
storage:
	log_warn(r, "container %s: state directory %s", id, store_dir(e->store));
	fail_storage(e, res, r);
	ct_free(next);
	return false;
}

static struct engine_ct *
ct_new(const char *id, const struct engine_ct *src, struct api_result *res)
{
	struct engine_ct *c = calloc(1, sizeof(*c));

	if (c != NULL && src != NULL && rules_container_copy(&c->fw, &src->fw) < 0) {
		free(c);
		c = NULL;
	}
	if (c == NULL) {
		api_result_nomem(res);
		return NULL;
	}
	if (src == NULL) {
		snprintf(c->fw.id, sizeof(c->fw.id), "%s", id);
		c->fw.policy = RULES_ACTION_DENY;
	}
	c->revision = src ? src->revision + 1 : 1;
	return c;
}

static bool
id_ok(const char *id, struct api_result *res)
{
	if (rules_id_valid(id))
		return true;
	api_result_fail(res, API_STATUS_BAD_INPUT, "invalid_container_id", "container_id",
			"container id: expected 1-64 characters of A-Z a-z 0-9 _ . - (not \".\" or "
			"\"..\")");
	return false;
}

/* The calls. */

void
engine_reset(void *ctx, const char *id, struct api_result *res)
{
	struct engine *e = ctx;
	struct engine_ct *old, *next;
	size_t i;

	if (!id_ok(id, res))
		return;
	pthread_rwlock_wrlock(&e->lock);
	old = engine_ct_find(e, id);
	if (old != NULL && old->fw.policy == RULES_ACTION_DENY && old->fw.nrules == 0) {
		answer_firewall(e, res, API_STATUS_OK, old);
		goto out;
	}
	next = ct_new(id, old, res);
	if (next == NULL)
		goto out;
	for (i = 0; i < next->fw.nrules; i++)
		rules_rule_clear(&next->fw.rules[i]);
	next->fw.nrules = 0;
	next->fw.policy = RULES_ACTION_DENY;
	if (commit(e, id, old, next, res)) {
		log_info("container %s: reset to deny-all (revision %llu)", id,
			 (unsigned long long)next->revision);
		answer_firewall(e, res, old ? API_STATUS_OK : API_STATUS_CREATED, next);
	}
out:
	pthread_rwlock_unlock(&e->lock);
}

static cJSON *
rule_json(const struct rules_rule *r, uint64_t revision)
{
	cJSON *o = rules_rule_to_json(r);

	if (o != NULL && cJSON_AddNumberToObject(o, "revision", (double)revision) == NULL) {
		cJSON_Delete(o);
		o = NULL;
	}
	return o;
}

static bool
desc_equal(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Where a new rule goes in canonical order: after the rules of its kind. */
static size_t
rule_slot(const struct rules_container *fw, uint8_t action)
{
	size_t i = 0;

	if (action == RULES_ACTION_ALLOW)
		return fw->nrules;
	while (i < fw->nrules && fw->rules[i].action == RULES_ACTION_DENY)
		i++;
	return i;
}

void
engine_rule_add(void *ctx, const char *id, const struct cJSON *body, struct api_result *res)
{
	struct engine *e = ctx;
	struct rules_rule rule = {0};
	struct rules_error re = {0};
	struct engine_ct *old, *next;
	struct rules_rule *v;
	size_t i, slot;

	if (!id_ok(id, res))
		return;
	if (rules_rule_parse(body, 0, &rule, &re) < 0) {
		api_result_rules_error(res, &re);
		return;
	}
	pthread_rwlock_wrlock(&e->lock);
	old = engine_ct_find(e, id);
	if (old == NULL) {
		fail_not_found(res, id);
		goto out;
	}
	for (i = 0; i < old->fw.nrules; i++) {
		const struct rules_rule *h = &old->fw.rules[i];
		bool same = rules_rule_same_match(h, &rule);

		if (same && desc_equal(h->desc, rule.desc) &&
		    (rule.id[0] == '\0' || strcmp(h->id, rule.id) == 0)) {
			api_result_answer(res, API_STATUS_OK, rule_json(h, old->revision));
			goto out;
		}
		if (same) {
			api_result_fail(
				res, API_STATUS_CONFLICT, "rule_conflict", "",
				"rule %s already matches the same packets with the same action; "
				"delete it first to change its description or id",
				h->id);
			goto out;
		}
		if (rule.id[0] != '\0' && strcmp(h->id, rule.id) == 0) {
			api_result_fail(res, API_STATUS_CONFLICT, "rule_conflict", "id",
					"rule id %s is taken by another rule of container %s",
					rule.id, id);
			goto out;
		}
	}
	if (old->fw.nrules >= RULES_PER_CONTAINER_MAX) {
		api_result_fail(res, API_STATUS_CONFLICT, "too_many_rules", "",
				"container %s has %d rules, the most a container can have", id,
				RULES_PER_CONTAINER_MAX);
		goto out;
	}
	if (rule.id[0] == '\0')
		rules_rule_id_assign(&rule, old->fw.rules, old->fw.nrules);
	next = ct_new(id, old, res);
	if (next == NULL)
		goto out;
	v = reallocarray(next->fw.rules, next->fw.nrules + 1, sizeof(*v));
	if (v == NULL) {
		ct_free(next);
		api_result_nomem(res);
		goto out;
	}
	next->fw.rules = v;
	slot = rule_slot(&next->fw, rule.action);
	memmove(&v[slot + 1], &v[slot], (next->fw.nrules - slot) * sizeof(*v));
	v[slot] = rule; /* next owns the description now */
	memset(&rule, 0, sizeof(rule));
	next->fw.nrules++;
	if (commit(e, id, old, next, res)) {
		log_info("container %s: added rule %s (revision %llu)", id, v[slot].id,
			 (unsigned long long)next->revision);
		api_result_answer(res, API_STATUS_CREATED, rule_json(&v[slot], next->revision));
	}
out:
	pthread_rwlock_unlock(&e->lock);
	rules_rule_clear(&rule);
}

void
engine_rule_delete(void *ctx, const char *id, const char *rule_id, struct api_result *res)
{
	struct engine *e = ctx;
	struct engine_ct *old, *next;
	size_t i;

	if (!id_ok(id, res))
		return;
	pthread_rwlock_wrlock(&e->lock);
	old = engine_ct_find(e, id);
	if (old == NULL) {
		fail_not_found(res, id);
		goto out;
	}
	for (i = 0; i < old->fw.nrules; i++)
		if (strcmp(old->fw.rules[i].id, rule_id) == 0)
			break;
	if (i == old->fw.nrules) {
		api_result_fail(res, API_STATUS_NOT_FOUND, "rule_not_found", "",
				"container %s has no rule with id \"%.64s\" (list them with GET "
				"/api/v1/containers/%s/firewall/egress)",
				id, rule_id, id);
		goto out;
	}
	next = ct_new(id, old, res);
	if (next == NULL)
		goto out;
	rules_rule_clear(&next->fw.rules[i]);
	memmove(&next->fw.rules[i], &next->fw.rules[i + 1],
		(next->fw.nrules - i - 1) * sizeof(next->fw.rules[0]));
	next->fw.nrules--;
	if (commit(e, id, old, next, res)) {
		cJSON *o = cJSON_CreateObject();

		log_info("container %s: deleted rule %s (revision %llu)", id, rule_id,
			 (unsigned long long)next->revision);
		if (o != NULL &&
		    (!cJSON_AddStringToObject(o, "container_id", id) ||
		     !cJSON_AddStringToObject(o, "deleted", rule_id) ||
		     !cJSON_AddNumberToObject(o, "revision", (double)next->revision))) {
			cJSON_Delete(o);
			o = NULL;
		}
		api_result_answer(res, API_STATUS_OK, o);
	}
out:
	pthread_rwlock_unlock(&e->lock);
}

/* The firewall object; rules_only: less what is not about rules. */
static void
firewall_get(struct engine *e, const char *id, bool rules_only, struct api_result *res)
{
	const struct engine_ct *c;
	cJSON *o;

	if (!id_ok(id, res))
		return;
	pthread_rwlock_rdlock(&e->lock);
	c = engine_ct_find(e, id);
	if (c == NULL) {
		fail_not_found(res, id);
		goto out;
	}
	o = firewall_json(e, c);
	if (o != NULL && rules_only) {
		cJSON_DeleteItemFromObjectCaseSensitive(o, "interface");
		cJSON_DeleteItemFromObjectCaseSensitive(o, "default_action");
	}
	api_result_answer(res, API_STATUS_OK, o);
out:
	pthread_rwlock_unlock(&e->lock);
}

void
engine_rules_get(void *ctx, const char *id, struct api_result *res)
{
	struct engine *e = ctx;

	firewall_get(e, id, true, res);
}

void
engine_firewall_get(void *ctx, const char *id, struct api_result *res)
{
	struct engine *e = ctx;

	firewall_get(e, id, false, res);
}

/* Refuse a member that belongs to another call, naming the right one. */
static bool
refuse_member(const struct cJSON *body, const char *name, const char *hint, struct api_result *res)
{
	if (!cJSON_IsObject(body) || cJSON_GetObjectItemCaseSensitive(body, name) == NULL)
		return false;
	api_result_fail(res, API_STATUS_BAD_INPUT, "unknown_field", name,
			"%s: not accepted here; %s", name, hint);
	return true;
}

void
engine_firewall_put(void *ctx, const char *id, const struct cJSON *body, struct api_result *res)
{
	struct engine *e = ctx;
	struct rules_error re = {0};
	struct engine_ct *old, *next;

	if (!id_ok(id, res) ||
	    refuse_member(body, "interface", "attach with PUT /api/v1/containers/{id}", res))
		return;
	next = calloc(1, sizeof(*next));
	if (next == NULL) {
		api_result_nomem(res);
		return;
	}
	if (rules_container_parse(body, id, &next->fw, &re) < 0) {
		api_result_rules_error(res, &re);
		free(next);
		return;
	}
	pthread_rwlock_wrlock(&e->lock);
	old = engine_ct_find(e, id);
	if (old != NULL) {
		memcpy(next->fw.ifname, old->fw.ifname, sizeof(next->fw.ifname));
		if (rules_container_equal(&old->fw, &next->fw)) {
			ct_free(next);
			answer_firewall(e, res, API_STATUS_OK, old);
			goto out;
		}
	}
	next->revision = old ? old->revision + 1 : 1;
	if (commit(e, id, old, next, res)) {
		log_info("container %s: firewall replaced: default %s, %zu rules (revision %llu)",
			 id, rules_action_name(next->fw.policy), next->fw.nrules,
			 (unsigned long long)next->revision);
		answer_firewall(e, res, old ? API_STATUS_OK : API_STATUS_CREATED, next);
	}
out:
	pthread_rwlock_unlock(&e->lock);
}

/* {"netns": PATH} or {"pid": N} to the host end of the container's veth. */
static bool
resolve_peer(const cJSON *m, char *ifname, struct api_result *res)
{
	bool by_path = strcmp(m->string, "netns") == 0;
	char why[256];
	int r;

	if (by_path && (!cJSON_IsString(m) || m->valuestring[0] != '/' ||
			strlen(m->valuestring) >= PATH_MAX)) {
		api_result_fail(res, API_STATUS_BAD_INPUT, "invalid_netns", "netns",
				"netns: expected the absolute path of a network namespace, e.g. "
				"\"/run/netns/NAME\" or \"/proc/PID/ns/net\"");
		return false;
	}
	if (!by_path && (!cJSON_IsNumber(m) || m->valuedouble < 1 || m->valuedouble > PID_MAX ||
			 m->valuedouble != (double)(pid_t)m->valuedouble)) {
		api_result_fail(res, API_STATUS_BAD_INPUT, "invalid_pid", "pid",
				"pid: expected the id of a process in the container, 1 to %d",
				PID_MAX);
		return false;
	}
	r = links_host_peer(by_path ? m->valuestring : NULL, by_path ? 0 : (pid_t)m->valuedouble,
			    ifname, why, sizeof(why));
	if (r == -ENOENT || r == -ENODEV || r == -ENOTUNIQ) {
		api_result_fail(res, API_STATUS_BAD_INPUT,
				r == -ENOENT   ? "netns_not_found"
				: r == -ENODEV ? "no_veth_peer"
					       : "ambiguous_veth_peer",
				m->string, "%s", why);
		return false;
	}
	if (r < 0) {
		api_result_fail(res, r == -ENOMEM ? API_STATUS_NO_MEMORY : API_STATUS_KERNEL_FAILED,
				"links_failed", m->string, "%s", why);
		return false;
	}
	return true;
}

void
engine_container_put(void *ctx, const char *id, const struct cJSON *body, struct api_result *res)
{
	struct engine *e = ctx;
	struct rules_container parsed = {0};
	struct rules_error re = {0};
	const struct cJSON *m;
	struct engine_ct *old, *next, *other;

	if (!id_ok(id, res))
		return;
	cJSON_ArrayForEach(m, body)
	{
		if (strcmp(m->string, "interface") != 0 && strcmp(m->string, "netns") != 0 &&
		    strcmp(m->string, "pid") != 0) {
			api_result_fail(
				res, API_STATUS_BAD_INPUT, "unknown_field", m->string,
				"%.64s: unknown field; this call takes one of \"interface\", "
				"\"netns\" or \"pid\" (set rules with PUT "
				"/api/v1/containers/%s/firewall)",
				m->string, id);
			return;
		}
	}
	if (cJSON_GetArraySize(body) != 1) {
		api_result_fail(
			res, API_STATUS_BAD_INPUT, "missing_field", "interface",
			"give exactly one of: {\"interface\": \"hc1\"} (null detaches), "
			"{\"netns\": \"/run/netns/NAME\"} or {\"pid\": N}: the agent then finds "
			"the host end of the container's veth");
		return;
	}
	if (cJSON_GetObjectItemCaseSensitive(body, "interface") != NULL) {
		if (rules_container_parse(body, id, &parsed, &re) < 0) {
			api_result_rules_error(res, &re);
			return;
		}
	} else if (!resolve_peer(body->child, parsed.ifname, res))
		return;
	pthread_rwlock_wrlock(&e->lock);
	old = engine_ct_find(e, id);
	other = parsed.ifname[0] ? engine_ct_find_ifname(e, parsed.ifname) : NULL;
	if (other != NULL && other != old) {
		api_result_fail(res, API_STATUS_CONFLICT, "interface_in_use", "interface",
				"interface %s is attached to container %s; detach it there first",
				parsed.ifname, other->fw.id);
		goto out;
	}
	if (old != NULL && strcmp(old->fw.ifname, parsed.ifname) == 0) {
		answer_firewall(e, res, API_STATUS_OK, old);
		goto out;
	}
	next = ct_new(id, old, res);
	if (next == NULL)
		goto out;
	memcpy(next->fw.ifname, parsed.ifname, sizeof(next->fw.ifname));
	if (commit(e, id, old, next, res)) {
		if (next->fw.ifname[0] != '\0')
			log_info("container %s: attached to interface %s (revision %llu)", id,
				 next->fw.ifname, (unsigned long long)next->revision);
		else
			log_info("container %s: detached (revision %llu)", id,
				 (unsigned long long)next->revision);
		answer_firewall(e, res, old ? API_STATUS_OK : API_STATUS_CREATED, next);
	}
out:
	pthread_rwlock_unlock(&e->lock);
	rules_container_clear(&parsed);
}

void
engine_container_delete(void *ctx, const char *id, struct api_result *res)
{
	struct engine *e = ctx;
	struct engine_ct *old;

	if (!id_ok(id, res))
		return;
	pthread_rwlock_wrlock(&e->lock);
	old = engine_ct_find(e, id);
	if (old == NULL) {
		api_result_fail(res, API_STATUS_NOT_FOUND, "container_not_found", "",
				"container %s is not known", id);
	} else if (commit(e, id, old, NULL, res)) {
		cJSON *o = cJSON_CreateObject();

		log_info("container %s: deleted", id);
		if (o != NULL && (!cJSON_AddStringToObject(o, "container_id", id) ||
				  !cJSON_AddTrueToObject(o, "deleted"))) {
			cJSON_Delete(o);
			o = NULL;
		}
		api_result_answer(res, API_STATUS_OK, o);
	}
	pthread_rwlock_unlock(&e->lock);
}

static cJSON *
list_entry(const struct engine *e, const struct engine_ct *c)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || !cJSON_AddStringToObject(o, "container_id", c->fw.id) ||
	    !(c->fw.ifname[0] ? cJSON_AddStringToObject(o, "interface", c->fw.ifname)
			      : cJSON_AddNullToObject(o, "interface")) ||
	    !kernel_json_presence(o, e->links, c->fw.ifname) ||
	    !cJSON_AddStringToObject(o, "default_action", rules_action_name(c->fw.policy)) ||
	    !cJSON_AddNumberToObject(o, "rule_count", (double)c->fw.nrules) ||
	    !cJSON_AddNumberToObject(o, "revision", (double)c->revision)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* One JSON entry per container, in id order, into dst (an array, or an
 * object keyed by id); false when out of memory. */
static bool
add_each(struct engine *e, cJSON *dst,
	 cJSON *(*entry)(const struct engine *, const struct engine_ct *))
{
	struct ct_list l;
	bool ok = ct_list(e, &l) == 0;
	size_t i;

	for (i = 0; ok && i < l.n; i++) {
		cJSON *o = entry(e, l.v[i]);

		ok = o != NULL &&
		     (cJSON_IsArray(dst) ? cJSON_AddItemToArray(dst, o)
					 : cJSON_AddItemToObject(dst, l.v[i]->fw.id, o));
		if (!ok)
			cJSON_Delete(o);
	}
	free(l.v);
	return ok;
}

/* {"containers": one entry per container}, an array or an object by id */
static void
answer_each(struct engine *e, bool by_id,
	    cJSON *(*entry)(const struct engine *, const struct engine_ct *),
	    struct api_result *res)
{
	cJSON *o = cJSON_CreateObject(), *dst = NULL;
	bool ok;

	if (o != NULL)
		dst = by_id ? cJSON_AddObjectToObject(o, "containers")
			    : cJSON_AddArrayToObject(o, "containers");
	pthread_rwlock_rdlock(&e->lock);
	ok = dst != NULL && add_each(e, dst, entry);
	pthread_rwlock_unlock(&e->lock);
	if (!ok) {
		cJSON_Delete(o);
		o = NULL;
	}
	api_result_answer(res, API_STATUS_OK, o);
}

void
engine_containers_list(void *ctx, struct api_result *res)
{
	struct engine *e = ctx;

	answer_each(e, false, list_entry, res);
}

/* Does the kernel hold the desired state? A dump only when the ruleset changed. */
static int
kernel_in_sync(struct engine *e, bool *ret)
{
	struct nft_apply_stats st;
	struct nft_state *have = NULL;
	struct nft_error err;
	struct rules_set want;
	uint32_t genid;
	int r;

	r = nft_genid(e->nc, &genid);
	if (r < 0)
		return r;
	if (genid != 0 && genid == e->genid_in_sync) {
		*ret = true;
		return 0;
	}
	r = desired_set(e, NULL, NULL, &want);
	if (r < 0)
		return r;
	r = read_table(e, &want, &have, &err, "health");
	if (r == 0)
		r = nft_diff(e->nc, &want, have, &st, &err);
	if (r == 0) {
		*ret = st.messages == 0;
		if (*ret)
			e->genid_in_sync = nft_state_genid(have);
	}
	nft_state_free(have);
	free(want.containers);
	return r;
}

static bool
add_reconcile(cJSON *o, const struct engine *e)
{
	cJSON *r = cJSON_AddObjectToObject(o, "reconcile");
	char when[32] = "";

	if (e->last_repair != 0)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&e->last_repair));
	return r != NULL && cJSON_AddNumberToObject(r, "passes", (double)e->passes) &&
	       cJSON_AddNumberToObject(r, "repairs", (double)e->repairs) &&
	       (e->last_repair == 0 ? cJSON_AddNullToObject(r, "last_repair") != NULL
				    : cJSON_AddStringToObject(r, "last_repair", when) != NULL);
}

void
engine_health(void *ctx, struct api_result *res)
{
	struct engine *e = ctx;
	cJSON *o = cJSON_CreateObject();
	bool in_sync = false;
	int r;

	pthread_rwlock_wrlock(&e->lock);
	r = kernel_in_sync(e, &in_sync);
	if (r < 0)
		log_warn(r, "health: reading table %s", nft_conn_table(e->nc));
	if (o != NULL &&
	    (!cJSON_AddStringToObject(o, "status", in_sync ? "ok" : "degraded") ||
	     !cJSON_AddBoolToObject(o, "kernel_in_sync", in_sync) ||
	     !cJSON_AddStringToObject(o, "table", nft_conn_table(e->nc)) ||
	     !cJSON_AddBoolToObject(o, "tamper_protection", e->persist) ||
	     !cJSON_AddNumberToObject(o, "containers", (double)e->n) || !add_reconcile(o, e))) {
		cJSON_Delete(o);
		o = NULL;
	}
	pthread_rwlock_unlock(&e->lock);
	api_result_answer(res, API_STATUS_OK, o);
}

/* The whole host: the control plane's declarative calls. */

struct host_change {
	const char *id;
	struct engine_ct *old;	     /* NULL: created */
	struct engine_ct *next;	     /* NULL: removed */
	struct store_staged *staged; /* until committed or dropped */
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

	for (i = 0; i < p->n; i++)
		ct_free(p->v[i].next);
	free(p->v);
}

/* What it takes to go from the desired state to want. */
static int
host_plan(struct engine *e, const struct rules_set *want, struct host_plan *p)
{
	struct ct_list have;
	size_t i;

	if (ct_list(e, &have) < 0)
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
			r = stage(e, c->old, &c->staged);
			if (r == 0)
				r = store_commit(e->store, c->staged);
			c->staged = NULL;
		}
		if (r < 0)
			log_warn(r, "container %s: could not restore its state file", c->id);
	}
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
				r = stage(e, c->next, &c->staged);
		} else {
			r = c->next ? store_commit(e->store, c->staged)
				    : store_remove(e->store, c->id);
			c->staged = NULL;
			c->committed = r == 0;
		}
		if (r < 0)
			log_warn(r, "container %s: state directory %s", c->id, store_dir(e->store));
	}
	return r;
}

void
engine_host_put(void *ctx, const struct cJSON *body, struct api_result *res)
{
	struct engine *e = ctx;
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
	pthread_rwlock_wrlock(&e->lock);
	r = host_plan(e, want, &p);
	if (r < 0) {
		api_result_nomem(res);
		goto out;
	}
	if (p.n == 0) {
		api_result_answer(res, API_STATUS_OK, host_summary(&p, e->n));
		goto out;
	}
	r = host_store(e, &p, false);
	if (r < 0) {
		host_unstore(e, &p);
		fail_storage(e, res, r);
		goto out;
	}
	r = kernel_sync(e, want, NULL, "host state", NULL, &err);
	if (r < 0) {
		host_unstore(e, &p);
		log_warn(r, "host state: kernel refused the change: %s %s", err.what, err.detail);
		fail_kernel(res, r, &err);
		goto out;
	}
	r = host_store(e, &p, true);
	if (r < 0) {
		host_unstore(e, &p);
		if (engine_kernel_resync(e, NULL, NULL, NULL, "host state undone", NULL, &err) < 0)
			log_warnx(
				"host state: could not restore the kernel after a storage failure; "
				"the kernel enforces the new state");
		fail_storage(e, res, r);
		goto out;
	}
	/* said before the trees take (and free) the containers it names */
	summary = host_summary(&p, want->ncontainers);
	log_info("host state: %zu containers changed, %zu unchanged", p.n, p.unchanged);
	/* every old one leaves the trees before any new one enters: an
	 * interface may move from one container to another */
	for (i = 0; i < p.n; i++)
		if (p.v[i].old != NULL)
			ct_replace(e, p.v[i].old, NULL);
	for (i = 0; i < p.n; i++) {
		if (p.v[i].next == NULL)
			continue;
		if (ct_replace(e, NULL, p.v[i].next) < 0) {
			log_warnx(
				"host state: out of memory recording a committed change; exiting");
			abort();
		}
		p.v[i].next = NULL; /* the trees have it */
	}
	api_result_answer(res, API_STATUS_OK, summary);
out:
	pthread_rwlock_unlock(&e->lock);
	host_plan_free(&p);
	rules_set_free(want);
}

static cJSON *
host_entry(const struct engine *e, const struct engine_ct *c)
{
	cJSON *fw = rules_container_to_json(&c->fw);

	(void)e; /* the desired state only, exactly as PUT takes it */
	if (fw != NULL && !cJSON_AddNumberToObject(fw, "revision", (double)c->revision)) {
		cJSON_Delete(fw);
		fw = NULL;
	}
	return fw;
}

void
engine_host_get(void *ctx, struct api_result *res)
{
	struct engine *e = ctx;

	answer_each(e, true, host_entry, res);
}

/* The audit: from the kernel, set against the desired state. */

void
engine_audit(void *ctx, const char *id, struct api_result *res)
{
	struct engine *e = ctx;
	struct nft_state *have = NULL;
	struct rules_set want = {0};
	struct nft_error err;
	int r;

	if (id != NULL && !id_ok(id, res))
		return;
	/* the write lock: the dump uses the agent's netlink socket */
	pthread_rwlock_wrlock(&e->lock);
	r = desired_set(e, NULL, NULL, &want);
	if (r == 0)
		r = read_table(e, NULL, &have, &err, "audit");
	if (r < 0) {
		pthread_rwlock_unlock(&e->lock);
		free(want.containers);
		if (r == -ENOMEM)
			api_result_nomem(res);
		else
			fail_kernel(res, r, &err);
		return;
	}
	if (id != NULL && engine_ct_find(e, id) == NULL && nft_state_find(have, id) == NULL) {
		fail_not_found(res, id);
	} else {
		res->text = audit_text(nft_conn_table(e->nc), have, &want, e->links, id);
		if (res->text == NULL)
			api_result_nomem(res);
		else
			res->status = API_STATUS_OK;
	}
	pthread_rwlock_unlock(&e->lock);
	nft_state_free(have);
	free(want.containers);
}

/* Interfaces. */

void
engine_set_links(struct engine *e, struct links *l)
{
	e->links = l;
}

void
engine_link_changed(const char *ifname, bool present, void *data)
{
	struct engine *e = data;
	struct engine_ct *c;

	pthread_rwlock_rdlock(&e->lock);
	c = engine_ct_find_ifname(e, ifname);
	if (c != NULL)
		log_info("container %s: interface %s %s", c->fw.id, ifname,
			 present ? "is up: its firewall applies to it"
				 : "is gone (the firewall stays, for when it is back)");
	pthread_rwlock_unlock(&e->lock);
}

/* The drop log. */

void
engine_set_drops(struct engine *e, struct drops *d)
{
	e->drops = d;
}

int
engine_drop_names(struct engine *e, const char *ifname, uint32_t tag, char *ret_container,
		  char *ret_rule)
{
	const char *id;
	struct engine_ct *c;
	size_t i;
	int r;

	pthread_rwlock_rdlock(&e->lock);
	r = nft_model_tag(e->model, ifname, tag, &id, &i);
	c = r == 0 ? engine_ct_find(e, id) : NULL;
	if (c == NULL)
		r = -ENOENT;
	else {
		strcpy(ret_container, c->fw.id);
		strcpy(ret_rule, i < c->fw.nrules    ? c->fw.rules[i].id
				 : i == c->fw.nrules ? "default"
						     : "unknown");
	}
	pthread_rwlock_unlock(&e->lock);
	return r;
}

#define DROPS_LIMIT_DEFAULT 50

void
engine_drops(void *ctx, const char *id, const char *limit, struct api_result *res)
{
	struct engine *e = ctx;
	unsigned long n = DROPS_LIMIT_DEFAULT;
	bool known;
	cJSON *o;
	char *end;

	if (!id_ok(id, res))
		return;
	if (limit != NULL) {
		errno = 0;
		n = strtoul(limit, &end, 10);
		if (errno != 0 || end == limit || *end != '\0' || limit[0] == '-' || n == 0 ||
		    n > DROPS_RING) {
			api_result_fail(
				res, API_STATUS_BAD_INPUT, "invalid_limit", "limit",
				"limit \"%.32s\": expected a number of drops, 1 to %d (default %d)",
				limit, DROPS_RING, DROPS_LIMIT_DEFAULT);
			return;
		}
	}
	pthread_rwlock_rdlock(&e->lock);
	known = engine_ct_find(e, id) != NULL;
	pthread_rwlock_unlock(&e->lock);
	if (!known) {
		fail_not_found(res, id);
		return;
	}
	if (e->drops == NULL) {
		api_result_fail(res, API_STATUS_CONFLICT, "drop_log_off", "",
				"the drop log is off (agentd --drop-log-rate 0)");
		return;
	}
	o = drops_json(e->drops, id, (unsigned int)n);
	if (o != NULL && cJSON_AddStringToObject(o, "container_id", id) == NULL) {
		cJSON_Delete(o);
		o = NULL;
	}
	api_result_answer(res, API_STATUS_OK, o);
}

struct nft_monitor *
engine_monitor(const struct engine *e)
{
	return e->monitor;
}

/* Start and stop. */

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
};

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
	if (c->fw.ifname[0] != '\0' && engine_ct_find_ifname(l->e, c->fw.ifname) != NULL) {
		log_warnx("state: %s: interface %s is attached to container %s too", path,
			  c->fw.ifname, engine_ct_find_ifname(l->e, c->fw.ifname)->fw.id);
		ct_free(c);
		l->bad++;
		return 0;
	}
	return ct_replace(l->e, NULL, c);
}

static void *
loader_run(void *arg)
{
	struct loader *l = arg;

	l->r = store_load(l->e->store, load_one, l);
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
	l.e = e;
	r = store_open(o->state_dir, &e->store);
	if (r < 0) {
		log_warn(r, "state directory %s", o->state_dir);
		goto fail;
	}
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
	r2 = read_table(e, NULL, &have, &err, "start-up");
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
	tdestroy(e->by_id, ct_free);
	nft_model_free(e->model);
	nft_monitor_close(e->monitor);
	/* closing the socket orphans the table; persist keeps it in force */
	nft_conn_close(e->nc);
	store_close(e->store);
	pthread_rwlock_destroy(&e->lock);
	free(e);
}
