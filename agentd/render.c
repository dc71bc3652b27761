/* The kernel state as JSON, written one container at a time. */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "agentd/links.h"
#include "agentd/render.h"

/*
 * Counters go out as integer literals: cJSON numbers are doubles, exact
 * only to 2^53, and printing them costs a printf and a scanf each.
 */
static bool
add_u64(cJSON *o, const char *name, uint64_t v)
{
	char buf[24], *p = buf + sizeof(buf) - 1;

	*p = '\0';
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	return cJSON_AddRawToObject(o, name, p) != NULL;
}

static bool
add_counters(cJSON *o, const struct nft_counter *c)
{
	return add_u64(o, "packets", c->packets) && add_u64(o, "bytes", c->bytes);
}

static bool
add_counter(cJSON *o, const char *name, const struct nft_counter *c)
{
	cJSON *x = cJSON_AddObjectToObject(o, name);

	return x != NULL && add_counters(x, c);
}

cJSON *
agentd_render_container(const struct nft_container *ct)
{
	static const struct nft_counter zero;
	cJSON *o, *rules, *r;
	size_t i = 0;

	if (ct->damage[0] != '\0') {
		o = cJSON_CreateObject();
		if (o == NULL ||
		    !(ct->fw.ifname[0] ? cJSON_AddStringToObject(o, "interface", ct->fw.ifname)
				       : cJSON_AddNullToObject(o, "interface")) ||
		    !cJSON_AddStringToObject(o, "damage", ct->damage)) {
			cJSON_Delete(o);
			return NULL;
		}
		return o;
	}
	o = rules_container_to_json(&ct->fw);
	rules = o ? cJSON_GetObjectItemCaseSensitive(o, "rules") : NULL;
	if (rules == NULL)
		goto fail;
	cJSON_ArrayForEach(r, rules)
	{
		if (!add_counters(r, &ct->counters[i]))
			goto fail;
		i++;
	}
	/* the default action's hits: drops when it is deny */
	if (!add_counter(o, "dropped", ct->fw.policy == RULES_ACTION_DENY ? &ct->dflt : &zero))
		goto fail;
	if (ct->fw.policy == RULES_ACTION_ALLOW &&
	    !add_counter(o, "accepted_by_default", &ct->dflt))
		goto fail;
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

int
agentd_render_state(FILE *f, const char *table, const struct nft_state *st)
{
	cJSON *head = cJSON_CreateObject();
	char *text = NULL;
	size_t i, n = nft_state_count(st);
	int r = -ENOMEM;

	if (head == NULL || !cJSON_AddStringToObject(head, "table", table) ||
	    !cJSON_AddBoolToObject(head, "exists", nft_state_table_exists(st)) ||
	    !cJSON_AddBoolToObject(head, "owned", nft_state_table_owned(st)) ||
	    !cJSON_AddBoolToObject(head, "persist", nft_state_table_persist(st)))
		goto out;
	if (nft_state_base_damage(st)[0] != '\0' &&
	    !cJSON_AddStringToObject(head, "damage", nft_state_base_damage(st)))
		goto out;
	text = cJSON_PrintUnformatted(head);
	if (text == NULL)
		goto out;
	/* splice "containers" into the head object by hand, so that each
	 * container's tree exists only while it is being printed */
	text[strlen(text) - 1] = '\0';
	fprintf(f, "%s,\"containers\":{", text);
	for (i = 0; i < n; i++) {
		const struct nft_container *ct = nft_state_get(st, i);
		cJSON *o = agentd_render_container(ct);
		char *body = o ? cJSON_PrintUnformatted(o) : NULL;

		cJSON_Delete(o);
		if (body == NULL)
			goto out;
		/* ids are A-Z a-z 0-9 _ . - only: nothing to escape */
		fprintf(f, "%s\n\"%s\":%s", i ? "," : "", ct->fw.id, body);
		cJSON_free(body);
	}
	fprintf(f, "\n}}\n");
	r = fflush(f) == 0 && !ferror(f) ? 0 : -EIO;
out:
	cJSON_free(text);
	cJSON_Delete(head);
	return r;
}

bool
agentd_render_presence(cJSON *o, struct links *links, const char *ifname)
{
	if (ifname[0] == '\0' || links == NULL)
		return cJSON_AddNullToObject(o, "interface_present") != NULL;
	return cJSON_AddBoolToObject(o, "interface_present", links_present(links, ifname)) != NULL;
}
