/*
 * What the API's calls share: checking a container id, the failures
 * every call may answer with, and answers with an entry per container.
 */

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "agentd/calls.h"
#include "agentd/engine_int.h"
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
