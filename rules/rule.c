/*
 * One rule: the REST API's rule object, ids derived from the match,
 * comparisons and copies.
 */

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rules/rules_int.h"

/* Also the order of the "accepted fields are ..." list. */
enum rule_field {
	RULE_FIELD_ID,
	RULE_FIELD_DESTINATION,
	RULE_FIELD_PORT,
	RULE_FIELD_PROTOCOL,
	RULE_FIELD_ACTION,
	RULE_FIELD_DESCRIPTION,
	RULE_FIELD_EXPIRES_AT,
	RULE_FIELD_TTL,
	RULE_FIELD_MAX,
};

#define PROTO_HINT "expected \"tcp\", \"udp\", \"icmp\" or \"any\""
#define ACTION_HINT "expected \"allow\" or \"deny\""
#define DESC_HINT "expected UTF-8 text of at most 256 bytes without control characters"

/* Optional fields may be left out or given as null. */
static bool
absent(const struct cJSON *item)
{
	return item == NULL || cJSON_IsNull(item);
}

static int
parse_id(const struct cJSON *item, struct rules_rule *r, struct rules_error *reterr)
{
	char q[RULES_QUOTE_SIZE];

	if (absent(item))
		return 0;
	if (!cJSON_IsString(item))
		return rules_error_set(reterr, "invalid_id", "id",
				       "id: got %s; " RULES_ID_HINT " as a string",
				       rules_json_type(item));
	if (!rules_id_valid(item->valuestring))
		return rules_error_set(reterr, "invalid_id", "id", "id %s: " RULES_ID_HINT,
				       rules_quote(item->valuestring, q));
	snprintf(r->id, sizeof(r->id), "%s", item->valuestring);
	return 0;
}

static int
parse_destination(const struct cJSON *item, struct rules_rule *r, struct rules_error *reterr)
{
	if (item == NULL)
		return rules_error_set(
			reterr, "missing_field", "destination",
			"missing field \"destination\"; a rule needs a destination "
			"such as \"10.0.0.0/8\" and an action, \"allow\" or \"deny\"");
	if (!cJSON_IsString(item))
		return rules_error_set(
			reterr, "invalid_destination", "destination",
			"destination: expected a string such as \"10.0.0.0/8\", got %s",
			rules_json_type(item));
	return rules_dest_parse(item->valuestring, r, reterr);
}

static int
parse_protocol(const struct cJSON *item, struct rules_rule *r, struct rules_error *reterr)
{
	char q[RULES_QUOTE_SIZE];
	int p;

	if (absent(item))
		return 0;
	if (!cJSON_IsString(item))
		return rules_error_set(reterr, "invalid_protocol", "protocol",
				       "protocol: expected a string, got %s; " PROTO_HINT,
				       rules_json_type(item));
	p = rules_proto_from_name(item->valuestring);
	if (p < 0)
		return rules_error_set(reterr, "invalid_protocol", "protocol",
				       "protocol %s: " PROTO_HINT,
				       rules_quote(item->valuestring, q));
	r->proto = (uint8_t)p;
	return 0;
}

/* After parse_protocol(): ports need a protocol that has them. */
static int
parse_port(const struct cJSON *item, struct rules_rule *r, struct rules_error *reterr)
{
	char ports[RULES_PORTS_STRLEN];
	double v;
	int rc;

	if (absent(item))
		return 0;
	if (cJSON_IsString(item)) {
		rc = rules_ports_parse(item->valuestring, r->ports, &r->nports, reterr);
		if (rc < 0)
			return rc;
	} else if (cJSON_IsNumber(item)) {
		v = item->valuedouble;
		/* the range test comes first: the cast is defined only inside it */
		if (!(v >= 1 && v <= 65535) || v != (double)(uint16_t)v)
			return rules_error_set(
				reterr, "invalid_port", "destination_port",
				"destination_port %g: expected a whole number 1-65535, "
				"or a string such as \"80,443,8000-8100\"",
				v);
		r->ports[0].lo = (uint16_t)v;
		r->ports[0].hi = (uint16_t)v;
		r->nports = 1;
	} else {
		return rules_error_set(reterr, "invalid_port", "destination_port",
				       "destination_port: expected a string such as \"443\" or "
				       "\"80,443,8000-8100\", a number or null, got %s",
				       rules_json_type(item));
	}
	if (r->proto != RULES_PROTO_TCP && r->proto != RULES_PROTO_UDP)
		return rules_error_set(
			reterr, "invalid_port", "destination_port",
			"destination_port \"%s\" needs protocol tcp or udp, not \"%s\"; "
			"set \"protocol\" or leave destination_port out",
			rules_ports_format(r, ports, sizeof(ports)), rules_proto_name(r->proto));
	return 0;
}

static int
parse_action(const struct cJSON *item, struct rules_rule *r, struct rules_error *reterr)
{
	char q[RULES_QUOTE_SIZE];
	int a;

	if (item == NULL)
		return rules_error_set(
			reterr, "missing_field", "action",
			"missing field \"action\"; a rule needs an action, \"allow\" or "
			"\"deny\"");
	if (!cJSON_IsString(item))
		return rules_error_set(reterr, "invalid_action", "action",
				       "action: expected a string, got %s; " ACTION_HINT,
				       rules_json_type(item));
	a = rules_action_from_name(item->valuestring);
	if (a < 0)
		return rules_error_set(reterr, "invalid_action", "action",
				       "action %s: " ACTION_HINT,
				       rules_quote(item->valuestring, q));
	r->action = (uint8_t)a;
	return 0;
}

static int
parse_description(const struct cJSON *item, struct rules_rule *r, struct rules_error *reterr)
{
	char q[RULES_QUOTE_SIZE];
	const char *why;
	size_t len, off;

	if (absent(item))
		return 0;
	if (!cJSON_IsString(item))
		return rules_error_set(reterr, "invalid_description", "description",
				       "description: got %s; " DESC_HINT " as a string",
				       rules_json_type(item));
	len = strlen(item->valuestring);
	rules_quote(item->valuestring, q);
	if (len > RULES_DESC_MAX)
		return rules_error_set(reterr, "invalid_description", "description",
				       "description %s: %zu bytes is too long; " DESC_HINT, q, len);
	if (rules_text_check(item->valuestring, len, &off, &why) < 0)
		return rules_error_set(reterr, "invalid_description", "description",
				       "description %s: %s at byte %zu; " DESC_HINT, q, why, off);
	if (len == 0)
		return 0;
	r->desc = strdup(item->valuestring);
	if (r->desc == NULL)
		return rules_error_nomem(reterr);
	return 0;
}

/* Name the refused rule by its id when it has a usable one. */
static void
name_rule(const struct cJSON *obj, unsigned index, struct rules_error *reterr)
{
	const struct cJSON *id = NULL;

	if (cJSON_IsObject(obj))
		id = cJSON_GetObjectItemCaseSensitive(obj, "id");
	if (cJSON_IsString(id) && rules_id_valid(id->valuestring))
		snprintf(reterr->rule, sizeof(reterr->rule), "%s", id->valuestring);
	else if (index > 0)
		snprintf(reterr->rule, sizeof(reterr->rule), "#%u", index);
}

int
rules_rule_parse(const struct cJSON *obj, unsigned index, struct rules_rule *ret,
		 struct rules_error *reterr)
{
	struct rules_field f[RULE_FIELD_MAX] = {
		[RULE_FIELD_ID] = {"id", NULL},
		[RULE_FIELD_DESTINATION] = {"destination", NULL},
		[RULE_FIELD_PORT] = {"destination_port", NULL},
		[RULE_FIELD_PROTOCOL] = {"protocol", NULL},
		[RULE_FIELD_ACTION] = {"action", NULL},
		[RULE_FIELD_DESCRIPTION] = {"description", NULL},
		[RULE_FIELD_EXPIRES_AT] = {"expires_at", NULL},
		[RULE_FIELD_TTL] = {"ttl", NULL},
	};
	struct rules_rule r;
	int rc;

	memset(ret, 0, sizeof(*ret));
	memset(&r, 0, sizeof(r));
	if (!cJSON_IsObject(obj)) {
		rc = rules_error_set(reterr, "invalid_rule", "",
				     "rule: expected an object such as {\"destination\": "
				     "\"10.0.0.0/8\", \"action\": \"allow\"}, got %s",
				     rules_json_type(obj));
		goto out;
	}
	rc = rules_json_fields(obj, f, RULE_FIELD_MAX, reterr);
	if (rc < 0)
		goto out;
	rc = parse_id(f[RULE_FIELD_ID].item, &r, reterr);
	if (rc < 0)
		goto out;
	rc = parse_destination(f[RULE_FIELD_DESTINATION].item, &r, reterr);
	if (rc < 0)
		goto out;
	rc = parse_protocol(f[RULE_FIELD_PROTOCOL].item, &r, reterr);
	if (rc < 0)
		goto out;
	rc = parse_port(f[RULE_FIELD_PORT].item, &r, reterr);
	if (rc < 0)
		goto out;
	rc = parse_action(f[RULE_FIELD_ACTION].item, &r, reterr);
	if (rc < 0)
		goto out;
	rc = rules_expiry_parse(
		absent(f[RULE_FIELD_EXPIRES_AT].item) ? NULL : f[RULE_FIELD_EXPIRES_AT].item,
		absent(f[RULE_FIELD_TTL].item) ? NULL : f[RULE_FIELD_TTL].item, &r, reterr);
	if (rc < 0)
		goto out;
	rc = parse_description(f[RULE_FIELD_DESCRIPTION].item, &r, reterr);
	if (rc < 0)
		goto out;
	*ret = r;
	return 0;
out:
	rules_rule_clear(&r);
	name_rule(obj, index, reterr);
	return rc;
}

/* 32-bit FNV-1a: simple, and the same on every host and release. */
static uint32_t
fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n-- > 0) {
		h ^= *p++;
		h *= 16777619u;
	}
	return h;
}

/*
 * Hash exactly what rules_rule_same_match() compares, in a fixed
 * big-endian encoding, so the id survives a restart or another host.
 * IPv6 destinations lead with a 6 and names with an "n" and their
 * length; IPv4 ones are encoded as they always were, so that their ids
 * stay.
 */
static uint32_t
match_hash(const struct rules_rule *r)
{
	uint8_t b[2 + RULES_DNAME_MAX + 4 + 4 * RULES_PORTS_MAX];
	size_t n = 0;
	uint8_t i;

	assert(r->nports <= RULES_PORTS_MAX);
	if (r->dname != NULL) {
		size_t len = strlen(r->dname);

		assert(len <= RULES_DNAME_MAX);
		b[n++] = 'n';
		b[n++] = (uint8_t)len;
		memcpy(b + n, r->dname, len);
		n += len;
	} else if (r->family == RULES_FAMILY_IPV6) {
		b[n++] = 6;
		memcpy(b + n, r->daddr6, sizeof(r->daddr6));
		n += sizeof(r->daddr6);
	} else {
		b[n++] = (uint8_t)(r->daddr >> 24);
		b[n++] = (uint8_t)(r->daddr >> 16);
		b[n++] = (uint8_t)(r->daddr >> 8);
		b[n++] = (uint8_t)r->daddr;
	}
	b[n++] = r->plen;
	b[n++] = r->proto;
	b[n++] = r->action;
	b[n++] = r->nports;
	for (i = 0; i < r->nports; i++) {
		b[n++] = (uint8_t)(r->ports[i].lo >> 8);
		b[n++] = (uint8_t)r->ports[i].lo;
		b[n++] = (uint8_t)(r->ports[i].hi >> 8);
		b[n++] = (uint8_t)r->ports[i].hi;
	}
	return fnv1a(b, n);
}

static bool
id_taken(const struct rules_rule *r, const struct rules_rule *others, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (&others[i] != r && strcmp(others[i].id, r->id) == 0)
			return true;
	return false;
}

void
rules_rule_id_assign(struct rules_rule *r, const struct rules_rule *others, size_t n)
{
	char base[10];
	unsigned k;

	snprintf(base, sizeof(base), "r%08" PRIx32, match_hash(r));
	snprintf(r->id, sizeof(r->id), "%s", base);
	for (k = 2; id_taken(r, others, n); k++)
		snprintf(r->id, sizeof(r->id), "%s-%u", base, k);
}

bool
rules_rule_same_match(const struct rules_rule *a, const struct rules_rule *b)
{
	return rules_dest_equal(a, b) && a->proto == b->proto && a->action == b->action &&
	       a->nports == b->nports &&
	       memcmp(a->ports, b->ports, a->nports * sizeof(a->ports[0])) == 0;
}

bool
rules_rule_equal(const struct rules_rule *a, const struct rules_rule *b)
{
	if (!rules_rule_same_match(a, b) || strcmp(a->id, b->id) != 0 ||
	    a->expires_at != b->expires_at || a->ttl != b->ttl)
		return false;
	if (a->desc == NULL || b->desc == NULL)
		return a->desc == b->desc;
	return strcmp(a->desc, b->desc) == 0;
}

int
rules_rule_copy(struct rules_rule *dst, const struct rules_rule *src)
{
	char *desc = NULL, *dname = NULL;

	if ((src->desc != NULL && (desc = strdup(src->desc)) == NULL) ||
	    (src->dname != NULL && (dname = strdup(src->dname)) == NULL)) {
		free(desc);
		return -ENOMEM;
	}
	*dst = *src;
	dst->desc = desc;
	dst->dname = dname;
	return 0;
}

void
rules_rule_clear(struct rules_rule *r)
{
	free(r->dname);
	free(r->desc);
	memset(r, 0, sizeof(*r));
}
