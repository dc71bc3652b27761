/*
 * The API's calls that report on the host: its health (is the kernel
 * in sync, how many containers nothing enforces, what the reconciler
 * did), the list of containers, and the audit of what the kernel really
 * enforces.
 */

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "agentd/audit.h"
#include "agentd/bridges.h"
#include "agentd/calls.h"
#include "agentd/engine_int.h"
#include "agentd/log.h"
#include "agentd/status.h"
#include "api/api.h"
#include "nft/nft.h"
#include "rules/rules.h"

static cJSON *
list_entry(const struct calls *calls, const struct engine_ct *c)
{
	cJSON *o = cJSON_CreateObject(), *a = rules_addresses_to_json(&c->fw);

	if (o == NULL || a == NULL || !cJSON_AddStringToObject(o, "container_id", c->fw.id) ||
	    !(c->fw.ifname[0] ? cJSON_AddStringToObject(o, "interface", c->fw.ifname)
			      : cJSON_AddNullToObject(o, "interface")) ||
	    !cJSON_AddItemToObject(o, "addresses", a))
		goto fail;
	a = NULL; /* o's now */
	if (!calls_add_presence(o, calls, c, false) ||
	    !cJSON_AddStringToObject(o, "default_action", rules_action_name(c->fw.policy)) ||
	    !cJSON_AddNumberToObject(o, "rule_count", (double)c->fw.nrules) ||
	    !cJSON_AddNumberToObject(o, "revision", (double)c->revision))
		goto fail;
	return o;
fail:
	cJSON_Delete(a);
	cJSON_Delete(o);
	return NULL;
}

void
status_list(void *ctx, struct api_result *res)
{
	calls_answer_each(ctx, false, list_entry, res);
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

/* "not_enforced": N, "enforcement": {"enforced": N, "not_attached": N, ...} */
static bool
add_census(cJSON *o, const size_t count[ENFORCEMENT_MAX])
{
	cJSON *by = NULL;
	int k;

	if (!cJSON_AddNumberToObject(o, "not_enforced", (double)calls_not_enforced(count)) ||
	    (by = cJSON_AddObjectToObject(o, "enforcement")) == NULL)
		return false;
	for (k = 0; k < ENFORCEMENT_MAX; k++)
		if (!cJSON_AddNumberToObject(by, enforcement_name(k), (double)count[k]))
			return false;
	return true;
}

static bool
add_ifprefixes(cJSON *o, const struct nft_options *opts)
{
	cJSON *a = cJSON_AddArrayToObject(o, "container_ifprefixes");
	unsigned int i;

	for (i = 0; a != NULL && i < opts->nifprefix; i++)
		if (!cJSON_AddItemToArray(a, cJSON_CreateString(opts->ifprefix[i])))
			return false;
	return a != NULL;
}

/* "bridge_netfilter" and "bridges", written once (bridges.c) for the audit too. */
static bool
add_bridges(cJSON *o, const struct calls *calls)
{
	struct rules_jw w;
	cJSON *b = NULL, *item;
	char *text;
	bool ok;

	rules_jw_init(&w);
	rules_jw_open(&w, '{');
	bridges_write(calls->bridges, calls->links, &w);
	rules_jw_close(&w, '}');
	text = rules_jw_take(&w);
	if (text != NULL)
		b = cJSON_Parse(text);
	free(text);
	ok = b != NULL;
	while (ok && (item = b->child) != NULL) {
		cJSON_DetachItemViaPointer(b, item);
		ok = cJSON_AddItemToObject(o, item->string, item);
		if (!ok)
			cJSON_Delete(item);
	}
	cJSON_Delete(b);
	return ok;
}

void
status_health(void *ctx, struct api_result *res)
{
	const struct calls *calls = ctx;
	struct engine *e = calls->engine;
	size_t count[ENFORCEMENT_MAX] = {0};
	cJSON *o = cJSON_CreateObject();
	bool in_sync = false, followed = calls->links != NULL;
	int r;

	pthread_rwlock_wrlock(&e->lock);
	r = engine_kernel_in_sync(e, &in_sync);
	if (r < 0)
		log_warn(r, "health: reading table %s", nft_conn_table(e->nc));
	/* degraded: what the agent itself should keep, and does not; a
	 * container not attached, or whose interface is gone, is the
	 * platform's doing, and is counted in not_enforced instead */
	if (o != NULL &&
	    (calls_census(calls, r == 0, count) < 0 ||
	     !cJSON_AddStringToObject(o, "status", in_sync && followed ? "ok" : "degraded") ||
	     !cJSON_AddBoolToObject(o, "kernel_in_sync", in_sync) ||
	     !cJSON_AddStringToObject(o, "table", nft_conn_table(e->nc)) ||
	     !cJSON_AddBoolToObject(o, "tamper_protection", e->persist) ||
	     !cJSON_AddNumberToObject(o, "containers", (double)e->n) || !add_census(o, count) ||
	     !cJSON_AddBoolToObject(o, "interfaces_followed", followed) || !add_bridges(o, calls) ||
	     !add_ifprefixes(o, &e->opts) || !add_reconcile(o, e))) {
		cJSON_Delete(o);
		o = NULL;
	}
	pthread_rwlock_unlock(&e->lock);
	api_result_answer(res, API_STATUS_OK, o);
}

void
status_audit(void *ctx, const char *id, struct api_result *res)
{
	const struct calls *calls = ctx;
	struct engine *e = calls->engine;
	struct nft_state *have = NULL;
	struct rules_set want = {0};
	struct nft_error err;
	int r;

	if (id != NULL && !calls_id_ok(id, res))
		return;
	/* the write lock: the dump uses the agent's netlink socket */
	pthread_rwlock_wrlock(&e->lock);
	r = engine_desired_set(e, NULL, NULL, &want);
	if (r == 0)
		r = engine_read_table(e, NULL, "audit", &have, &err);
	if (r < 0) {
		pthread_rwlock_unlock(&e->lock);
		free(want.containers);
		if (r == -ENOMEM)
			api_result_nomem(res);
		else
			calls_fail_kernel(res, r, &err);
		return;
	}
	/* what the reading found is what the other answers say from now on */
	engine_kernel_note(e, have);
	if (id != NULL && engine_ct_find(e, id) == NULL && nft_state_find(have, id) == NULL) {
		calls_fail_not_found(res, id);
	} else {
		res->text = audit_text(nft_conn_table(e->nc), have, &want, calls->links,
				       calls->bridges, id);
		if (res->text == NULL)
			api_result_nomem(res);
		else
			res->status = API_STATUS_OK;
	}
	pthread_rwlock_unlock(&e->lock);
	nft_state_free(have);
	free(want.containers);
}
