/*
 * The model back to JSON, in the form the parsers take, so that
 * parsing a rendering gives back an equal model.
 */

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "rules/rules_int.h"

/*
 * The members of each form, in order, for both renderings: a cJSON tree
 * and a written text (rules_jw). Every value is a string, or NULL for null.
 */
typedef bool (*member_fn)(void *out, const char *key, const char *value);

static bool
rule_members(const struct rules_rule *r, member_fn member, void *out)
{
	char dest[RULES_DEST_STRLEN], ports[RULES_PORTS_STRLEN], t[RULES_TIME_STRLEN];

	/* "expires_at" only on rules that expire, so that others read as they always did */
	return member(out, "id", r->id) && member(out, "destination", rules_dest_format(r, dest)) &&
	       member(out, "destination_port",
		      r->nports ? rules_ports_format(r, ports, sizeof(ports)) : NULL) &&
	       member(out, "protocol", rules_proto_name(r->proto)) &&
	       member(out, "action", rules_action_name(r->action)) &&
	       member(out, "description", r->desc != NULL ? r->desc : "") &&
	       (r->expires_at == 0 ||
		member(out, "expires_at", rules_time_format(r->expires_at, t)));
}

static bool
container_members(const struct rules_container *c, member_fn member, void *out)
{
	return member(out, "interface", c->ifname[0] ? c->ifname : NULL) &&
	       member(out, "default_action", rules_action_name(c->policy));
}

static bool
cjson_member(void *out, const char *key, const char *value)
{
	return (value ? cJSON_AddStringToObject(out, key, value)
		      : cJSON_AddNullToObject(out, key)) != NULL;
}

static bool
jw_member(void *out, const char *key, const char *value)
{
	rules_jw_key(out, key);
	rules_jw_str(out, value);
	return true;
}

cJSON *
rules_rule_to_json(const struct rules_rule *r)
{
	cJSON *o = cJSON_CreateObject();

	if (o != NULL && !rule_members(r, cjson_member, o)) {
		cJSON_Delete(o);
		o = NULL;
	}
	return o;
}

cJSON *
rules_addresses_to_json(const struct rules_container *c)
{
	cJSON *a = cJSON_CreateArray();
	char buf[RULES_DEST_STRLEN];
	size_t i;

	for (i = 0; a != NULL && i < c->naddresses; i++) {
		if (!cJSON_AddItemToArray(
			    a, cJSON_CreateString(rules_address_format(&c->addresses[i], buf)))) {
			cJSON_Delete(a);
			a = NULL;
		}
	}
	return a;
}

cJSON *
rules_container_to_json(const struct rules_container *c)
{
	cJSON *o, *ret = NULL, *rules, *item;
	size_t i;

	o = cJSON_CreateObject();
	if (o == NULL || !container_members(c, cjson_member, o))
		goto out;
	item = rules_addresses_to_json(c);
	if (item == NULL)
		goto out;
	if (!cJSON_AddItemToObject(o, "addresses", item)) {
		cJSON_Delete(item);
		goto out;
	}
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

void
rules_container_write(struct rules_jw *w, const struct rules_container *c,
		      void (*extra)(struct rules_jw *w, size_t i, const void *data),
		      const void *data)
{
	char addr[RULES_DEST_STRLEN];
	size_t i;

	container_members(c, jw_member, w);
	rules_jw_key(w, "addresses");
	rules_jw_open(w, '[');
	for (i = 0; i < c->naddresses; i++)
		rules_jw_str(w, rules_address_format(&c->addresses[i], addr));
	rules_jw_close(w, ']');
	rules_jw_key(w, "rules");
	rules_jw_open(w, '[');
	for (i = 0; i < c->nrules; i++) {
		rules_jw_open(w, '{');
		rule_members(&c->rules[i], jw_member, w);
		if (extra != NULL)
			extra(w, i, data);
		rules_jw_close(w, '}');
	}
	rules_jw_close(w, ']');
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
