/*
 * The model back to JSON, in the form the parsers take, so that
 * parsing a rendering gives back an equal model.
 */

#include <stddef.h>

#include <cjson/cJSON.h>

#include "rules/rules_int.h"

cJSON *
rules_rule_to_json(const struct rules_rule *r)
{
	char cidr[19], ports[RULES_PORTS_STRLEN];
	cJSON *o, *ret = NULL, *p;

	o = cJSON_CreateObject();
	if (o == NULL)
		return NULL;
	if (cJSON_AddStringToObject(o, "id", r->id) == NULL ||
	    cJSON_AddStringToObject(o, "destination", rules_cidr_format(r->daddr, r->plen, cidr)) ==
		    NULL)
		goto out;
	if (r->nports == 0)
		p = cJSON_AddNullToObject(o, "destination_port");
	else
		p = cJSON_AddStringToObject(o, "destination_port",
					    rules_ports_format(r, ports, sizeof(ports)));
	if (p == NULL)
		goto out;
	if (cJSON_AddStringToObject(o, "protocol", rules_proto_name(r->proto)) == NULL ||
	    cJSON_AddStringToObject(o, "action", rules_action_name(r->action)) == NULL ||
	    cJSON_AddStringToObject(o, "description", r->desc != NULL ? r->desc : "") == NULL)
		goto out;
	ret = o;
	o = NULL;
out:
	cJSON_Delete(o);
	return ret;
}

cJSON *
rules_container_to_json(const struct rules_container *c)
{
	cJSON *o, *ret = NULL, *ifname, *rules, *item;
	size_t i;

	o = cJSON_CreateObject();
	if (o == NULL)
		return NULL;
	if (c->ifname[0] == '\0')
		ifname = cJSON_AddNullToObject(o, "interface");
	else
		ifname = cJSON_AddStringToObject(o, "interface", c->ifname);
	if (ifname == NULL ||
	    cJSON_AddStringToObject(o, "default_action", rules_action_name(c->policy)) == NULL)
		goto out;
	rules = cJSON_AddArrayToObject(o, "rules");
	if (rules == NULL)
		goto out;
	for (i = 0; i < c->nrules; i++) {
		item = rules_rule_to_json(&c->rules[i]);
		if (item == NULL)
			goto out;
		if (!cJSON_AddItemToArray(rules, item)) {
			cJSON_Delete(item);
			goto out;
		}
	}
	ret = o;
	o = NULL;
out:
	cJSON_Delete(o);
	return ret;
}

cJSON *
rules_set_to_json(const struct rules_set *s)
{
	cJSON *o, *ret = NULL, *containers, *item;
	size_t i;

	o = cJSON_CreateObject();
	if (o == NULL)
		return NULL;
	containers = cJSON_AddObjectToObject(o, "containers");
	if (containers == NULL)
		goto out;
	for (i = 0; i < s->ncontainers; i++) {
		item = rules_container_to_json(&s->containers[i]);
		if (item == NULL)
			goto out;
		if (!cJSON_AddItemToObject(containers, s->containers[i].id, item)) {
			cJSON_Delete(item);
			goto out;
		}
	}
	ret = o;
	o = NULL;
out:
	cJSON_Delete(o);
	return ret;
}
