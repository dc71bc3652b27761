/*
 * A container's state as the agent keeps it on disk:
 * {"revision": N, "firewall": {container}}.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rules/rules_int.h"

/*
 * Revisions count changes. cJSON prints numbers to 15 significant
 * digits when that reads back within its tolerance, so larger ones
 * would not come back as written.
 */
#define REVISION_MAX 1e15

char *
rules_state_render(const struct rules_container *c, uint64_t revision)
{
	cJSON *o = cJSON_CreateObject(), *fw = rules_container_to_json(c);
	char *text = NULL;

	if (o != NULL && fw != NULL && cJSON_AddNumberToObject(o, "revision", (double)revision) &&
	    cJSON_AddItemToObject(o, "firewall", fw)) {
		fw = NULL;
		text = cJSON_PrintUnformatted(o);
	}
	cJSON_Delete(fw);
	cJSON_Delete(o);
	return text;
}

int
rules_state_parse(const char *buf, size_t len, const char *id, struct rules_container *ret,
		  uint64_t *ret_revision, struct rules_error *reterr)
{
	cJSON *o = NULL;
	const cJSON *rev, *fw;
	int r;

	r = rules_json_check_raw(buf, len, reterr);
	if (r < 0)
		return r;
	o = cJSON_ParseWithLength(buf, len);
	if (o == NULL)
		return rules_error_set(reterr, "invalid_state_file", "", "not JSON");
	rev = cJSON_GetObjectItemCaseSensitive(o, "revision");
	fw = cJSON_GetObjectItemCaseSensitive(o, "firewall");
	if (!cJSON_IsNumber(rev) || !(rev->valuedouble >= 1 && rev->valuedouble <= REVISION_MAX) ||
	    rev->valuedouble != (double)(uint64_t)rev->valuedouble || fw == NULL) {
		r = rules_error_set(reterr, "invalid_state_file", "",
				    "expected {\"revision\": N, \"firewall\": {...}} with N a "
				    "whole number from 1 to 10^15");
		goto out;
	}
	r = rules_container_parse(fw, id, ret, reterr);
	if (r == 0)
		*ret_revision = (uint64_t)rev->valuedouble;
out:
	cJSON_Delete(o);
	return r;
}
