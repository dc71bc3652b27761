/*
 * What the API's calls share: checking a container id, the failures
 * every call may answer with, whether a container is enforced and the
 * warnings that say when it is not, and answers with an entry per
 * container.
 */

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "agentd/calls.h"
#include "agentd/engine_int.h"
#include "agentd/kernel_json.h"
#include "agentd/links.h"
#include "agentd/store.h"
#include "api/api.h"
#include "nft/nft.h"
#include "rules/rules.h"

bool
calls_id_ok(const char *id, struct api_result *res)
{
	if (rules_id_valid(id))
		return true;
	api_result_fail(res, API_STATUS_BAD_INPUT, "invalid_container_id", "container_id",
			"container id: expected 1-64 characters of A-Z a-z 0-9 _ . - (not \".\" or "
			"\"..\")");
	return false;
}

bool
calls_interface_ok(const struct calls *calls, const char *id, const char *ifname,
		   struct api_result *res)
{
	if (ifname[0] == '\0' || !links_is_bridge(calls->links, ifname))
		return true;
	api_result_fail(res, API_STATUS_BAD_INPUT, "invalid_interface", "interface",
			"container %s: interface %s is a Linux bridge; attach the container's "
			"own port on it (the host end of its veth) instead",
			id, ifname);
	return false;
}

bool
calls_rules_supported(const struct calls *calls, const struct rules_container *c,
		      const struct rules_rule *r, struct api_result *res)
{
	size_t i, n = c != NULL ? c->nrules : 1;

	if (calls->resolver)
		return true;
	for (i = 0; i < n; i++) {
		const struct rules_rule *x = c != NULL ? &c->rules[i] : r;

		if (x->dname == NULL || x->action == RULES_ACTION_ALLOW)
			continue;
		api_result_fail(res, API_STATUS_BAD_INPUT, "invalid_destination", "destination",
				"destination \"%s\"%s%s: a deny rule by name makes the name "
				"unresolvable through agentd's DNS resolver, which this agent "
				"does not run (--dns-port 0); deny addresses instead",
				x->dname, c != NULL ? " of container " : "",
				c != NULL ? c->id : "");
		return false;
	}
	return true;
}

void
calls_fail_not_found(struct api_result *res, const char *id)
{
	api_result_fail(
		res, API_STATUS_NOT_FOUND, "container_not_found", "",
		"container %s has no firewall; create it with POST "
		"/api/v1/containers/%s/firewall/reset or PUT /api/v1/containers/%s/firewall",
		id, id, id);
}

void
calls_fail_kernel(struct api_result *res, int r, const struct nft_error *err)
{
	api_result_fail(res, API_STATUS_KERNEL_FAILED, "kernel_error", "",
			"the kernel refused the change (%s%s%s%s%s): %s%s%s; nothing changed",
			err->what[0] ? err->what : "apply", err->container[0] ? ", container " : "",
			err->container, err->rule[0] ? ", rule " : "", err->rule, strerror(-r),
			err->detail[0] ? ": " : "", err->detail);
}

void
calls_fail_storage(const struct engine *e, struct api_result *res, int r)
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

/* One JSON entry per container, in id order, into dst (an array, or an
 * object keyed by id); false when out of memory. */
static bool
add_each(const struct calls *calls, cJSON *dst, calls_entry_fn entry)
{
	struct engine_ct_list l;
	bool ok = engine_ct_list(calls->engine, &l) == 0;
	size_t i;

	for (i = 0; ok && i < l.n; i++) {
		cJSON *o = entry(calls, l.v[i]);

		ok = o != NULL &&
		     (cJSON_IsArray(dst) ? cJSON_AddItemToArray(dst, o)
					 : cJSON_AddItemToObject(dst, l.v[i]->fw.id, o));
		if (!ok)
			cJSON_Delete(o);
	}
	free(l.v);
	return ok;
}

void
calls_answer_each(const struct calls *calls, bool by_id, calls_entry_fn entry,
		  struct api_result *res)
{
	struct engine *e = calls->engine;
	cJSON *o = cJSON_CreateObject(), *dst = NULL;
	bool ok;

	if (o != NULL)
		dst = by_id ? cJSON_AddObjectToObject(o, "containers")
			    : cJSON_AddArrayToObject(o, "containers");
	pthread_rwlock_rdlock(&e->lock);
	ok = dst != NULL && add_each(calls, dst, entry);
	pthread_rwlock_unlock(&e->lock);
	if (!ok) {
		cJSON_Delete(o);
		o = NULL;
	}
	api_result_answer(res, API_STATUS_OK, o);
}

static enum enforcement
enforcement_at(const struct calls *calls, const struct engine_ct *c, int presence)
{
	return enforcement_of(c->fw.ifname[0] != '\0', !c->out_of_sync, presence,
			      nft_model_bridged(calls->engine->model, c->fw.id));
}

enum enforcement
calls_enforcement(const struct calls *calls, const struct engine_ct *c)
{
	return enforcement_at(calls, c, links_presence_now(calls->links, c->fw.ifname));
}

bool
calls_add_enforcement(cJSON *o, const struct calls *calls, const struct engine_ct *c)
{
	return cJSON_AddStringToObject(o, "enforcement",
				       enforcement_name(calls_enforcement(calls, c))) != NULL;
}

bool
calls_add_presence(cJSON *o, const struct calls *calls, const struct engine_ct *c, bool now)
{
	int p = now ? links_presence_now(calls->links, c->fw.ifname)
		    : links_presence(calls->links, c->fw.ifname);

	return kernel_json_presence(o, p) &&
	       cJSON_AddStringToObject(o, "enforcement",
				       enforcement_name(enforcement_at(calls, c, p)));
}

int
calls_census(const struct calls *calls, bool kernel_known, size_t count[ENFORCEMENT_MAX])
{
	struct engine_ct_list l;
	size_t i;

	if (engine_ct_list(calls->engine, &l) < 0)
		return -ENOMEM;
	for (i = 0; i < l.n; i++) {
		const struct engine_ct *c = l.v[i];

		count[enforcement_of(c->fw.ifname[0] != '\0', kernel_known && !c->out_of_sync,
				     links_presence(calls->links, c->fw.ifname),
				     nft_model_bridged(calls->engine->model, c->fw.id))]++;
	}
	free(l.v);
	return 0;
}

size_t
calls_not_enforced(const size_t count[ENFORCEMENT_MAX])
{
	size_t n = 0;
	int k;

	for (k = 0; k < ENFORCEMENT_MAX; k++)
		if (k != ENFORCEMENT_ENFORCED)
			n += count[k];
	return n;
}

cJSON *
calls_warnings(cJSON *o)
{
	return cJSON_AddArrayToObject(o, "warnings");
}

bool
calls_warn(cJSON *warnings, const char *code, const char *fmt, ...)
{
	cJSON *w = cJSON_CreateObject();
	char message[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (w == NULL || !cJSON_AddStringToObject(w, "code", code) ||
	    !cJSON_AddStringToObject(w, "message", message) || !cJSON_AddItemToArray(warnings, w)) {
		cJSON_Delete(w);
		return false;
	}
	return true;
}

bool
calls_warn_names(const struct calls *calls, cJSON *warnings, const struct engine_ct *c)
{
	size_t i;

	if (calls->resolver)
		return true;
	for (i = 0; i < c->fw.nrules; i++)
		if (c->fw.rules[i].dname != NULL)
			return calls_warn(
				warnings, "names_unresolved",
				"rules by name open only the addresses that the container's own "
				"lookups through agentd's DNS resolver return, and this agent "
				"runs none (--dns-port 0): rule %s (%s) opens nothing",
				c->fw.rules[i].id, c->fw.rules[i].dname);
	return true;
}

bool
calls_warn_enforcement(const struct calls *calls, cJSON *warnings, const struct engine_ct *c)
{
	enum enforcement en = calls_enforcement(calls, c);
	const char *code = enforcement_name(en), *id = c->fw.id, *ifname = c->fw.ifname;

	switch (en) {
	case ENFORCEMENT_ENFORCED:
		return true;
	case ENFORCEMENT_NOT_ATTACHED:
		return calls_warn(
			warnings, code,
			"container %s is not attached to an interface: its firewall is "
			"stored, but nothing enforces it and its traffic is not filtered; "
			"attach it with PUT /api/v1/containers/%s {\"interface\": ...}",
			id, id);
	case ENFORCEMENT_INTERFACE_MISSING:
		return calls_warn(
			warnings, code,
			"interface %s does not exist on this host now: container %s's "
			"firewall is in the kernel but filters nothing until an interface "
			"of that name appears; if the container's veth has another name, "
			"that one is not filtered by it (check the name)",
			ifname, id);
	case ENFORCEMENT_BRIDGE_PORT:
		return calls_warn(
			warnings, code,
			"interface %s is a port of a Linux bridge, and the kernel does not "
			"enforce container %s on the bridged path yet: everything it sends "
			"is dropped until it does (see the agent's log)",
			ifname, id);
	case ENFORCEMENT_KERNEL_OUT_OF_SYNC:
		return calls_warn(warnings, code,
				  "the kernel does not hold container %s's firewall as stored; the "
				  "agent is putting it right (see the audit and the agent's log)",
				  id);
	default:
		return calls_warn(warnings, code,
				  "the agent does not follow the host's interfaces (see its log), "
				  "so it cannot tell whether interface %s exists: do not count "
				  "container %s as enforced",
				  ifname, id);
	}
}

bool
calls_warn_released(const struct calls *calls, cJSON *warnings, const char *ifname, const char *id)
{
	const char *prefix = engine_ifprefix(calls->engine, ifname);
	/* an interface that is not there now is not filtered when it comes */
	bool absent = links_presence_now(calls->links, ifname) == 0;

	if (prefix != NULL)
		return calls_warn(warnings, "interface_dropped",
				  "interface %s has no container now (it was %s's): it matches "
				  "--container-ifprefix %s, so everything arriving on it%s is "
				  "dropped until a container is attached to it",
				  ifname, id, prefix, absent ? " (when it appears)" : "");
	return calls_warn(warnings, "interface_unfiltered",
			  "interface %s has no container now (it was %s's) and is no longer "
			  "filtered: everything arriving on it%s passes (no --container-ifprefix "
			  "of the agent matches it)",
			  ifname, id, absent ? " (when it appears)" : "");
}
