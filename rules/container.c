/*
 * One container's firewall: its object, rule-set invariants (unique
 * ids, no duplicate rules, canonical order), comparison and copies.
 */

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rules/rules_int.h"

/* Also the order of the "accepted fields are ..." list. */
enum container_field {
	CONTAINER_FIELD_INTERFACE,
	CONTAINER_FIELD_ADDRESSES,
	CONTAINER_FIELD_DEFAULT_ACTION,
	CONTAINER_FIELD_RULES,
	CONTAINER_FIELD_MAX,
};

#define IFNAME_HINT                                                                                \
	"expected 1-15 printable ASCII characters without spaces, \"/\" or \":\" (not \".\" or "   \
	"\"..\"), or null when not attached"

static int
parse_interface(const struct cJSON *item, struct rules_container *c, struct rules_error *reterr)
{
	char q[RULES_QUOTE_SIZE];

	if (item == NULL || cJSON_IsNull(item))
		return 0;
	if (!cJSON_IsString(item))
		return rules_error_set(
			reterr, "invalid_interface", "interface",
			"interface: expected a string such as \"hc1\" or null, got %s",
			rules_json_type(item));
	if (!rules_ifname_valid(item->valuestring))
		return rules_error_set(reterr, "invalid_interface", "interface",
				       "interface %s: " IFNAME_HINT,
				       rules_quote(item->valuestring, q));
	snprintf(c->ifname, sizeof(c->ifname), "%s", item->valuestring);
	return 0;
}

#define ADDRESS_HINT "expected one IPv4 or IPv6 address such as \"10.0.3.7\" or \"fd42::7\""

/* An entry of "addresses"; label is set per entry. */
static const struct rules_addr_use address_use = {
	.code = "invalid_address",
	.field = "addresses",
	.hint = ADDRESS_HINT,
	.port = "a port is not part of an address",
	.zone = ": the container's port is the interface",
	.mapped = "",
	.prefix = false,
};

/* Why a is no address a port can claim as its own source, or NULL. */
static const char *
not_own(const struct rules_address *a)
{
	static const uint8_t zero[16], bcast[4] = {255, 255, 255, 255};

	if (memcmp(a->addr, zero, sizeof(zero)) == 0)
		return "the unspecified address";
	if (a->family == RULES_FAMILY_IPV4 && (a->addr[0] & 0xf0) == 224)
		return "a multicast address";
	if (a->family == RULES_FAMILY_IPV4 && memcmp(a->addr, bcast, sizeof(bcast)) == 0)
		return "the broadcast address";
	if (a->family == RULES_FAMILY_IPV6 && a->addr[0] == 0xff)
		return "a multicast address";
	return NULL;
}

/* Entry i of "addresses" into *ret. */
static int
parse_address(const struct cJSON *item, size_t i, struct rules_address *ret,
	      struct rules_error *reterr)
{
	struct rules_addr_use u = address_use;
	char label[32], q[RULES_QUOTE_SIZE], why[64];
	struct rules_rule r;
	const char *w;
	int rc;

	snprintf(label, sizeof(label), "addresses[%zu]", i);
	if (!cJSON_IsString(item))
		return rules_error_set(reterr, u.code, u.field, "%s: got %s; " ADDRESS_HINT, label,
				       rules_json_type(item));
	u.label = label;
	rc = rules_addr_parse(item->valuestring, &u, &r, reterr);
	if (rc < 0)
		return rc;
	memset(ret, 0, sizeof(*ret));
	ret->family = r.family;
	if (r.family == RULES_FAMILY_IPV6) {
		memcpy(ret->addr, r.daddr6, sizeof(r.daddr6));
	} else {
		ret->addr[0] = (uint8_t)(r.daddr >> 24);
		ret->addr[1] = (uint8_t)(r.daddr >> 16);
		ret->addr[2] = (uint8_t)(r.daddr >> 8);
		ret->addr[3] = (uint8_t)r.daddr;
	}
	w = not_own(ret);
	if (w != NULL) {
		snprintf(why, sizeof(why), "%s, which no port sends from as its own", w);
		return rules_addr_refuse(&u, reterr, rules_quote(item->valuestring, q), why);
	}
	return 0;
}

static int
cmp_address(const void *a, const void *b)
{
	const struct rules_address *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

int
rules_addresses_parse(const struct cJSON *item, struct rules_container *c,
		      struct rules_error *reterr)
{
	struct rules_address v[RULES_ADDRESSES_MAX];
	char a[RULES_DEST_STRLEN], q[RULES_QUOTE_SIZE];
	const struct cJSON *it;
	size_t j, n = 0;
	int r;

	assert(c->naddresses == 0);
	if (item == NULL || cJSON_IsNull(item))
		return 0;
	if (!cJSON_IsArray(item))
		return rules_error_set(reterr, "invalid_address", "addresses",
				       "addresses: expected an array such as [\"10.0.3.7\", "
				       "\"fd42::7\"], got %s",
				       rules_json_type(item));
	if (cJSON_GetArraySize(item) > RULES_ADDRESSES_MAX)
		return rules_error_set(reterr, "invalid_address", "addresses",
				       "addresses: %d given; at most %d are accepted",
				       cJSON_GetArraySize(item), RULES_ADDRESSES_MAX);
	for (it = item->child; it != NULL; it = it->next, n++) {
		r = parse_address(it, n, &v[n], reterr);
		if (r < 0)
			return r;
		/* "FD42::7" and "fd42:0::7" are one address: compare them parsed */
		for (j = 0; j < n; j++)
			if (cmp_address(&v[j], &v[n]) == 0)
				return rules_error_set(
					reterr, "invalid_address", "addresses",
					"addresses[%zu] %s: the same address as addresses[%zu] "
					"(%s); give each address once",
					n, rules_quote(it->valuestring, q), j,
					rules_address_format(&v[j], a));
	}
	if (n > 1) /* qsort() takes no NULL, even for nothing */
		qsort(v, n, sizeof(v[0]), cmp_address);
	r = rules_container_set_addresses(c, v, n);
	return r < 0 ? rules_error_nomem(reterr) : 0;
}

static int
parse_policy(const struct cJSON *item, struct rules_container *c, struct rules_error *reterr)
{
	char q[RULES_QUOTE_SIZE];
	int a;

	c->policy = RULES_ACTION_DENY;
	if (item == NULL || cJSON_IsNull(item))
		return 0;
	if (!cJSON_IsString(item))
		return rules_error_set(
			reterr, "invalid_default_action", "default_action",
			"default_action: expected a string, \"allow\" or \"deny\", got %s",
			rules_json_type(item));
	a = rules_action_from_name(item->valuestring);
	if (a < 0)
		return rules_error_set(reterr, "invalid_default_action", "default_action",
				       "default_action %s: expected \"allow\" or \"deny\"",
				       rules_quote(item->valuestring, q));
	c->policy = (uint8_t)a;
	return 0;
}

static int
parse_rules(const struct cJSON *arr, struct rules_container *c, struct rules_error *reterr)
{
	const struct cJSON *it;
	size_t n;
	int r;

	if (arr == NULL || cJSON_IsNull(arr))
		return 0;
	if (!cJSON_IsArray(arr))
		return rules_error_set(reterr, "invalid_rules", "rules",
				       "rules: expected an array of rule objects, got %s",
				       rules_json_type(arr));
	n = (size_t)cJSON_GetArraySize(arr);
	if (n > RULES_PER_CONTAINER_MAX)
		return rules_error_set(
			reterr, "too_many_rules", "rules",
			"rules: %zu rules given; at most %d are accepted per container", n,
			RULES_PER_CONTAINER_MAX);
	if (n == 0)
		return 0;
	c->rules = calloc(n, sizeof(*c->rules));
	if (c->rules == NULL)
		return rules_error_nomem(reterr);
	for (it = arr->child; it != NULL; it = it->next) {
		r = rules_rule_parse(it, (unsigned)c->nrules + 1, &c->rules[c->nrules], reterr);
		if (r < 0)
			return r;
		c->nrules++;
	}
	return 0;
}

/* How messages name rule i: its id, or its position from 1. */
static const char *
rule_name(const struct rules_container *c, size_t i, char buf[RULES_ID_MAX + 2])
{
	if (c->rules[i].id[0] != '\0')
		snprintf(buf, RULES_ID_MAX + 2, "%s", c->rules[i].id);
	else
		snprintf(buf, RULES_ID_MAX + 2, "#%zu", i + 1);
	return buf;
}

/* Quadratic, but bounded by RULES_PER_CONTAINER_MAX and run once per parse. */
static int
check_unique(const struct rules_container *c, struct rules_error *reterr)
{
	char a[RULES_ID_MAX + 2], b[RULES_ID_MAX + 2];
	size_t i, j;
	int r;

	for (j = 1; j < c->nrules; j++) {
		for (i = 0; i < j; i++) {
			const struct rules_rule *x = &c->rules[i], *y = &c->rules[j];

			if (y->id[0] != '\0' && strcmp(x->id, y->id) == 0) {
				r = rules_error_set(
					reterr, "duplicate_rule_id", "id",
					"id \"%s\" is used by rules #%zu and #%zu; rule "
					"ids must be unique within a container",
					y->id, i + 1, j + 1);
				rule_name(c, j, reterr->rule);
				return r;
			}
			if (rules_rule_same_match(x, y)) {
				r = rules_error_set(
					reterr, "duplicate_rule", "",
					"rule %s duplicates rule %s (same destination, "
					"ports, protocol and action); remove one of them",
					rule_name(c, j, b), rule_name(c, i, a));
				rule_name(c, j, reterr->rule);
				return r;
			}
		}
	}
	return 0;
}

/* Stable partition: deny rules first, each group in the order given. */
static int
order(struct rules_container *c, struct rules_error *reterr)
{
	static const uint8_t pass[] = {RULES_ACTION_DENY, RULES_ACTION_ALLOW};
	struct rules_rule *sorted;
	size_t i, k, n = 0;

	if (c->nrules == 0)
		return 0;
	sorted = malloc(c->nrules * sizeof(*sorted));
	if (sorted == NULL)
		return rules_error_nomem(reterr);
	for (k = 0; k < sizeof(pass); k++)
		for (i = 0; i < c->nrules; i++)
			if (c->rules[i].action == pass[k])
				sorted[n++] = c->rules[i]; /* moves desc ownership */
	free(c->rules);
	c->rules = sorted;
	return 0;
}

int
rules_container_parse(const struct cJSON *obj, const char *id, struct rules_container *ret,
		      struct rules_error *reterr)
{
	struct rules_field f[CONTAINER_FIELD_MAX] = {
		[CONTAINER_FIELD_INTERFACE] = {"interface", NULL},
		[CONTAINER_FIELD_ADDRESSES] = {"addresses", NULL},
		[CONTAINER_FIELD_DEFAULT_ACTION] = {"default_action", NULL},
		[CONTAINER_FIELD_RULES] = {"rules", NULL},
	};
	char q[RULES_QUOTE_SIZE];
	struct rules_container c;
	size_t i;
	int r;

	memset(ret, 0, sizeof(*ret));
	memset(&c, 0, sizeof(c));
	if (!rules_id_valid(id))
		return rules_error_set(reterr, "invalid_container_id", "",
				       "container id %s: " RULES_ID_HINT,
				       rules_quote(id != NULL ? id : "", q));
	snprintf(c.id, sizeof(c.id), "%s", id);
	if (!cJSON_IsObject(obj)) {
		r = rules_error_set(
			reterr, "invalid_container", "",
			"container: expected an object such as {\"interface\": \"hc1\", "
			"\"default_action\": \"deny\", \"rules\": []}, got %s",
			rules_json_type(obj));
		goto out;
	}
	r = rules_json_fields(obj, f, CONTAINER_FIELD_MAX, reterr);
	if (r < 0)
		goto out;
	r = parse_interface(f[CONTAINER_FIELD_INTERFACE].item, &c, reterr);
	if (r < 0)
		goto out;
	r = rules_addresses_parse(f[CONTAINER_FIELD_ADDRESSES].item, &c, reterr);
	if (r < 0)
		goto out;
	r = parse_policy(f[CONTAINER_FIELD_DEFAULT_ACTION].item, &c, reterr);
	if (r < 0)
		goto out;
	r = parse_rules(f[CONTAINER_FIELD_RULES].item, &c, reterr);
	if (r < 0)
		goto out;
	r = check_unique(&c, reterr);
	if (r < 0)
		goto out;
	/* in the order given, so that clash suffixes follow the document */
	for (i = 0; i < c.nrules; i++)
		if (c.rules[i].id[0] == '\0')
			rules_rule_id_assign(&c.rules[i], c.rules, c.nrules);
	r = order(&c, reterr);
	if (r < 0)
		goto out;
	*ret = c;
	return 0;
out:
	rules_container_clear(&c);
	snprintf(reterr->container, sizeof(reterr->container), "%s", id);
	return r;
}

bool
rules_container_equal(const struct rules_container *a, const struct rules_container *b)
{
	size_t i;

	if (strcmp(a->id, b->id) != 0 || strcmp(a->ifname, b->ifname) != 0 ||
	    a->policy != b->policy || a->nrules != b->nrules || a->naddresses != b->naddresses ||
	    (a->naddresses > 0 &&
	     memcmp(a->addresses, b->addresses, a->naddresses * sizeof(*a->addresses)) != 0))
		return false;
	for (i = 0; i < a->nrules; i++)
		if (!rules_rule_equal(&a->rules[i], &b->rules[i]))
			return false;
	return true;
}

int
rules_container_set_addresses(struct rules_container *c, const struct rules_address *v, size_t n)
{
	struct rules_address *a = NULL;

	if (n > 0) {
		a = malloc(n * sizeof(*a));
		if (a == NULL)
			return -ENOMEM;
		memcpy(a, v, n * sizeof(*a));
	}
	free(c->addresses);
	c->addresses = a;
	c->naddresses = n;
	return 0;
}

int
rules_container_copy(struct rules_container *dst, const struct rules_container *src)
{
	struct rules_container c = *src;
	size_t i;
	int r;

	c.rules = NULL;
	c.nrules = 0;
	c.addresses = NULL;
	c.naddresses = 0;
	r = rules_container_set_addresses(&c, src->addresses, src->naddresses);
	if (r < 0)
		return r;
	if (src->nrules > 0) {
		c.rules = calloc(src->nrules, sizeof(*c.rules));
		if (c.rules == NULL) {
			r = -ENOMEM;
			goto out;
		}
	}
	for (i = 0; i < src->nrules; i++) {
		r = rules_rule_copy(&c.rules[i], &src->rules[i]);
		if (r < 0)
			goto out;
		c.nrules++;
	}
	*dst = c;
	return 0;
out:
	rules_container_clear(&c);
	return r;
}

void
rules_container_clear(struct rules_container *c)
{
	size_t i;

	for (i = 0; i < c->nrules; i++)
		rules_rule_clear(&c->rules[i]);
	free(c->rules);
	free(c->addresses);
	memset(c, 0, sizeof(*c));
}
