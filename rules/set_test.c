/*
 * Containers and sets: container objects, rule-set invariants,
 * canonical order, the raw-JSON entry point, rendering round trips.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "rules/rules_int.h"

/* A pointer no parse may write: failures leave *ret_set alone. */
static struct rules_set sentinel;
static struct rules_set *const untouched = &sentinel;

static int
container(const char *json, struct rules_container *c, struct rules_error *reterr)
{
	cJSON *o = cJSON_Parse(json);
	int rc;

	ck_assert_msg(o != NULL, "test JSON does not parse: %s", json);
	rc = rules_container_parse(o, "web", c, reterr);
	cJSON_Delete(o);
	return rc;
}

static int
set(const char *json, struct rules_set **s, struct rules_error *reterr)
{
	return rules_set_parse(json, strlen(json), s, reterr);
}

static bool
zeroed(const struct rules_container *c)
{
	static const struct rules_container zero;

	return memcmp(c, &zero, sizeof(zero)) == 0;
}

static void
contains(const char *haystack, const char *needle)
{
	ck_assert_msg(strstr(haystack, needle) != NULL, "\"%s\" lacks \"%s\"", haystack, needle);
}

/* A container object with n distinct rules, every third one a deny. */
static cJSON *
many_rules(int n)
{
	cJSON *o = cJSON_CreateObject(), *rules = cJSON_AddArrayToObject(o, "rules"), *r;
	char dest[32];
	int i;

	for (i = 0; i < n; i++) {
		r = cJSON_CreateObject();
		snprintf(dest, sizeof(dest), "10.%d.%d.0/24", i / 256, i % 256);
		cJSON_AddStringToObject(r, "destination", dest);
		cJSON_AddStringToObject(r, "action", i % 3 == 0 ? "deny" : "allow");
		cJSON_AddItemToArray(rules, r);
	}
	return o;
}

START_TEST(container_defaults)
{
	struct rules_container c;
	struct rules_error e;

	ck_assert_int_eq(container("{}", &c, &e), 0);
	ck_assert_str_eq(c.id, "web");
	ck_assert_str_eq(c.ifname, "");
	ck_assert_uint_eq(c.policy, RULES_ACTION_DENY);
	ck_assert_uint_eq(c.nrules, 0);
	ck_assert_ptr_null(c.rules);
	rules_container_clear(&c);

	ck_assert_int_eq(
		container("{\"interface\": null, \"default_action\": null, \"rules\": null}", &c,
			  &e),
		0);
	ck_assert_str_eq(c.ifname, "");
	ck_assert_uint_eq(c.policy, RULES_ACTION_DENY);
	ck_assert_uint_eq(c.nrules, 0);
	rules_container_clear(&c);
}
END_TEST

START_TEST(container_full)
{
	struct rules_container c;
	struct rules_error e;

	ck_assert_int_eq(container("{\"interface\": \"hc1\", \"default_action\": \"allow\", "
				   "\"rules\": [{\"id\": \"x\", \"destination\": \"10.0.0.0/8\", "
				   "\"action\": \"deny\"}]}",
				   &c, &e),
			 0);
	ck_assert_str_eq(c.ifname, "hc1");
	ck_assert_uint_eq(c.policy, RULES_ACTION_ALLOW);
	ck_assert_uint_eq(c.nrules, 1);
	ck_assert_str_eq(c.rules[0].id, "x");
	rules_container_clear(&c);
	ck_assert(zeroed(&c));
}
END_TEST

/* Deny rules first, then allow rules, each group in the order given. */
START_TEST(container_canonical_order)
{
	struct rules_container c;
	struct rules_error e;
	static const char *const want[] = {"d1", "d2", "d3", "a1", "a2", "a3"};
	size_t i;

	ck_assert_int_eq(
		container("{\"rules\": ["
			  "{\"id\": \"a1\", \"destination\": \"10.0.0.1\", \"action\": \"allow\"},"
			  "{\"id\": \"d1\", \"destination\": \"10.0.0.2\", \"action\": \"deny\"},"
			  "{\"id\": \"a2\", \"destination\": \"10.0.0.3\", \"action\": \"allow\"},"
			  "{\"id\": \"a3\", \"destination\": \"10.0.0.4\", \"action\": \"allow\"},"
			  "{\"id\": \"d2\", \"destination\": \"10.0.0.5\", \"action\": \"deny\"},"
			  "{\"id\": \"d3\", \"destination\": \"10.0.0.6\", \"action\": \"deny\"}]}",
			  &c, &e),
		0);
	ck_assert_uint_eq(c.nrules, 6);
	for (i = 0; i < 6; i++)
		ck_assert_str_eq(c.rules[i].id, want[i]);
	rules_container_clear(&c);
}
END_TEST

/* Ids are assigned from the match alone, the same in every parse. */
START_TEST(container_assigns_ids)
{
	static const char *const json =
		"{\"rules\": [{\"destination\": \"10.0.0.0/8\", \"action\": \"allow\"},"
		"{\"destination\": \"192.0.2.0/24\", \"protocol\": \"tcp\", "
		"\"destination_port\": \"443\", \"action\": \"deny\"}]}";
	struct rules_container a, b;
	struct rules_rule alone;
	struct rules_error e;
	cJSON *o;

	ck_assert_int_eq(container(json, &a, &e), 0);
	ck_assert_int_eq(container(json, &b, &e), 0);
	ck_assert(rules_container_equal(&a, &b));
	ck_assert_str_ne(a.rules[0].id, a.rules[1].id);

	o = cJSON_Parse("{\"destination\": \"10.0.0.0/8\", \"action\": \"allow\"}");
	ck_assert_int_eq(rules_rule_parse(o, 1, &alone, &e), 0);
	cJSON_Delete(o);
	rules_rule_id_assign(&alone, NULL, 0);
	ck_assert_str_eq(a.rules[1].id, alone.id); /* the allow rule, now second */
	ck_assert_str_eq(alone.id, "r9a4ab5be");
	rules_rule_clear(&alone);
	rules_container_clear(&a);
	rules_container_clear(&b);
}
END_TEST

/* A user id that takes an assigned id's name pushes it to "-2", "-3". */
START_TEST(container_id_clash)
{
	struct rules_container c;
	struct rules_error e;
	char json[512];

	snprintf(json, sizeof(json),
		 "{\"rules\": [{\"destination\": \"10.0.0.0/8\", \"action\": \"allow\"},"
		 "{\"id\": \"r9a4ab5be\", \"destination\": \"10.0.0.1\", \"action\": \"allow\"}]}");
	ck_assert_int_eq(container(json, &c, &e), 0);
	ck_assert_str_eq(c.rules[0].id, "r9a4ab5be-2");
	ck_assert_str_eq(c.rules[1].id, "r9a4ab5be");
	rules_container_clear(&c);

	snprintf(json, sizeof(json),
		 "{\"rules\": [{\"id\": \"r9a4ab5be-2\", \"destination\": \"10.0.0.2\", "
		 "\"action\": \"allow\"},"
		 "{\"destination\": \"10.0.0.0/8\", \"action\": \"allow\"},"
		 "{\"id\": \"r9a4ab5be\", \"destination\": \"10.0.0.1\", \"action\": \"allow\"}]}");
	ck_assert_int_eq(container(json, &c, &e), 0);
	ck_assert_str_eq(c.rules[1].id, "r9a4ab5be-3");
	rules_container_clear(&c);
}
END_TEST

/* Same destination, different action or protocol: not duplicates. */
START_TEST(container_near_duplicates_accepted)
{
	struct rules_container c;
	struct rules_error e;

	ck_assert_int_eq(container("{\"rules\": ["
				   "{\"destination\": \"10.0.0.0/8\", \"action\": \"allow\"},"
				   "{\"destination\": \"10.0.0.0/8\", \"action\": \"deny\"},"
				   "{\"destination\": \"10.0.0.0/8\", \"action\": \"deny\", "
				   "\"protocol\": \"udp\"},"
				   "{\"destination\": \"10.0.0.0/9\", \"action\": \"deny\"}]}",
				   &c, &e),
			 0);
	ck_assert_uint_eq(c.nrules, 4);
	rules_container_clear(&c);
}
END_TEST

struct refuse_case {
	const char *json;
	const char *code;
	const char *field;
	const char *rule;
	const char *value;
	const char *why;
};

#define RULE_OK "{\"destination\": \"10.0.0.0/8\", \"action\": \"allow\"}"

static const struct refuse_case refused[] = {
	{"[]", "invalid_container", "", "", "got an array", "expected an object"},
	{"\"hc1\"", "invalid_container", "", "", "got a string", "\"interface\""},
	/* interface */
	{"{\"interface\": \"\"}", "invalid_interface", "interface", "", "interface \"\"",
	 "1-15 printable ASCII characters"},
	{"{\"interface\": \"a/b\"}", "invalid_interface", "interface", "", "\"a/b\"",
	 "without spaces, \"/\" or \":\""},
	{"{\"interface\": \"a:b\"}", "invalid_interface", "interface", "", "\"a:b\"", "\":\""},
	{"{\"interface\": \"a b\"}", "invalid_interface", "interface", "", "\"a b\"", "spaces"},
	{"{\"interface\": \"eth0\\t\"}", "invalid_interface", "interface", "", "\"eth0\\x09\"",
	 "spaces"},
	{"{\"interface\": \"veth1234567890ab\"}", "invalid_interface", "interface", "",
	 "\"veth1234567890ab\"", "1-15"},
	{"{\"interface\": \".\"}", "invalid_interface", "interface", "", "interface \".\"",
	 "(not \".\" or \"..\")"},
	{"{\"interface\": \"..\"}", "invalid_interface", "interface", "", "interface \"..\"",
	 "(not \".\" or \"..\")"},
	{"{\"interface\": \"caf\xc3\xa9\"}", "invalid_interface", "interface", "",
	 "\"caf\\xc3\\xa9\"", "printable ASCII"},
	{"{\"interface\": 1}", "invalid_interface", "interface", "", "got a number",
	 "expected a string"},
	/* default_action */
	{"{\"default_action\": \"permit\"}", "invalid_default_action", "default_action", "",
	 "\"permit\"", "expected \"allow\" or \"deny\""},
	{"{\"default_action\": \"Deny\"}", "invalid_default_action", "default_action", "",
	 "\"Deny\"", "\"allow\" or \"deny\""},
	{"{\"default_action\": false}", "invalid_default_action", "default_action", "",
	 "got a boolean", "expected a string"},
	/* rules */
	{"{\"rules\": {}}", "invalid_rules", "rules", "", "got an object", "expected an array"},
	{"{\"rules\": \"none\"}", "invalid_rules", "rules", "", "got a string",
	 "expected an array"},
	{"{\"rules\": [" RULE_OK ", 1]}", "invalid_rule", "", "#2", "got a number",
	 "expected an object"},
	{"{\"rules\": [" RULE_OK ", {\"destination\": \"10.0.0.1/8\", \"action\": \"deny\"}]}",
	 "invalid_destination", "destination", "#2", "\"10.0.0.1/8\"", "did you mean"},
	{"{\"rules\": [{\"id\": \"db\", \"destination\": \"10.0.0.0/8\", \"action\": \"drop\"}]}",
	 "invalid_action", "action", "db", "\"drop\"", "\"allow\" or \"deny\""},
	{"{\"rules\": [{\"destintion\": \"10.0.0.0/8\", \"action\": \"allow\"}]}", "unknown_field",
	 "destintion", "#1", "\"destintion\"", "accepted fields"},
	/* addresses */
	{"{\"addresses\": \"10.0.3.7\"}", "invalid_address", "addresses", "", "got a string",
	 "expected an array such as [\"10.0.3.7\", \"fd42::7\"]"},
	{"{\"addresses\": {}}", "invalid_address", "addresses", "", "got an object",
	 "expected an array"},
	{"{\"addresses\": [1]}", "invalid_address", "addresses", "", "addresses[0]: got a number",
	 "expected one IPv4 or IPv6 address such as \"10.0.3.7\" or \"fd42::7\""},
	{"{\"addresses\": [\"10.0.3.7\", null]}", "invalid_address", "addresses", "",
	 "addresses[1]: got null", "expected one IPv4 or IPv6 address"},
	{"{\"addresses\": [\"10.0.3.7\", \"10.0.0.1/24\"]}", "invalid_address", "addresses", "",
	 "addresses[1] \"10.0.0.1/24\": a prefix; give one address",
	 "expected one IPv4 or IPv6 address"},
	{"{\"addresses\": [\"10.0.3.7/32\"]}", "invalid_address", "addresses", "",
	 "addresses[0] \"10.0.3.7/32\"", "a prefix; give one address"},
	{"{\"addresses\": [\"fd42::/64\"]}", "invalid_address", "addresses", "",
	 "addresses[0] \"fd42::/64\"", "a prefix; give one address"},
	{"{\"addresses\": [\"fe80::1%eth0\"]}", "invalid_address", "addresses", "",
	 "addresses[0] \"fe80::1%eth0\"", "zone ids (\"%...\") are not accepted"},
	{"{\"addresses\": [\"::ffff:10.0.3.7\"]}", "invalid_address", "addresses", "",
	 "addresses[0] \"::ffff:10.0.3.7\"",
	 "IPv4-mapped addresses are not accepted; write \"10.0.3.7\""},
	{"{\"addresses\": [\"::10.0.3.7\"]}", "invalid_address", "addresses", "",
	 "addresses[0] \"::10.0.3.7\"", "as hex groups: \"::a00:307\""},
	{"{\"addresses\": [\"[fd42::7]\"]}", "invalid_address", "addresses", "", "\"[fd42::7]\"",
	 "brackets are not accepted"},
	{"{\"addresses\": [\"10.0.3.7:80\"]}", "invalid_address", "addresses", "",
	 "\"10.0.3.7:80\"", "a port is not part of an address"},
	{"{\"addresses\": [\"db.example\"]}", "invalid_address", "addresses", "", "\"db.example\"",
	 "hostnames are not accepted"},
	{"{\"addresses\": [\"010.0.3.7\"]}", "invalid_address", "addresses", "", "\"010.0.3.7\"",
	 "leading zeros"},
	{"{\"addresses\": [\"10.3.7\"]}", "invalid_address", "addresses", "", "\"10.3.7\"",
	 "short forms"},
	{"{\"addresses\": [\"\"]}", "invalid_address", "addresses", "", "addresses[0] \"\"",
	 "empty"},
	{"{\"addresses\": [\"fd42::7::1\"]}", "invalid_address", "addresses", "", "\"fd42::7::1\"",
	 "\"::\" may appear only once"},
	{"{\"addresses\": [\"0.0.0.0\"]}", "invalid_address", "addresses", "", "\"0.0.0.0\"",
	 "the unspecified address"},
	{"{\"addresses\": [\"::\"]}", "invalid_address", "addresses", "", "\"::\"",
	 "the unspecified address"},
	{"{\"addresses\": [\"224.0.0.1\"]}", "invalid_address", "addresses", "", "\"224.0.0.1\"",
	 "a multicast address"},
	{"{\"addresses\": [\"239.255.255.255\"]}", "invalid_address", "addresses", "",
	 "\"239.255.255.255\"", "a multicast address"},
	{"{\"addresses\": [\"ff02::1\"]}", "invalid_address", "addresses", "", "\"ff02::1\"",
	 "a multicast address"},
	{"{\"addresses\": [\"255.255.255.255\"]}", "invalid_address", "addresses", "",
	 "\"255.255.255.255\"", "the broadcast address"},
	{"{\"addresses\": [\"10.0.3.7\", \"fd42::7\", \"10.0.3.7\"]}", "invalid_address",
	 "addresses", "", "addresses[2] \"10.0.3.7\": the same address as addresses[0] (10.0.3.7)",
	 "give each address once"},
	{"{\"addresses\": [\"fd42::7\", \"FD42:0:0::0007\"]}", "invalid_address", "addresses", "",
	 "addresses[1] \"FD42:0:0::0007\": the same address as addresses[0] (fd42::7)", "once"},
	{"{\"addresses\": [], \"addresses\": []}", "duplicate_field", "addresses", "",
	 "\"addresses\"", "given twice"},
	/* keys */
	{"{\"interfce\": \"hc1\"}", "unknown_field", "interfce", "", "\"interfce\"",
	 "accepted fields are interface, addresses, default_action, rules"},
	{"{\"id\": \"web\"}", "unknown_field", "id", "", "\"id\"", "accepted fields"},
	{"{\"rules\": [], \"rules\": [" RULE_OK "]}", "duplicate_field", "rules", "", "\"rules\"",
	 "given twice"},
	{"{\"interface\": \"a\", \"interface\": \"b\"}", "duplicate_field", "interface", "",
	 "\"interface\"", "may appear once"},
	/* rule-set invariants */
	{"{\"rules\": [{\"id\": \"a\", \"destination\": \"10.0.0.1\", \"action\": \"allow\"},"
	 "{\"id\": \"b\", \"destination\": \"10.0.0.2\", \"action\": \"allow\"},"
	 "{\"id\": \"a\", \"destination\": \"10.0.0.3\", \"action\": \"deny\"}]}",
	 "duplicate_rule_id", "id", "a", "id \"a\"",
	 "used by rules #1 and #3; rule ids must be unique"},
	{"{\"rules\": [{\"id\": \"r1\", \"destination\": \"10.0.0.0/8\", \"action\": \"allow\"},"
	 "{\"destination\": \"192.0.2.0/24\", \"action\": \"deny\"},"
	 "{\"destination\": \"10.0.0.0/8\", \"action\": \"allow\", \"description\": \"again\"}]}",
	 "duplicate_rule", "", "#3", "rule #3 duplicates rule r1",
	 "(same destination, ports, protocol and action)"},
	{"{\"rules\": [{\"destination\": \"10.0.0.0/8\", \"protocol\": \"tcp\", "
	 "\"destination_port\": \"443,80\", \"action\": \"allow\"},"
	 "{\"id\": \"again\", \"destination\": \"10.0.0.0/8\", \"protocol\": \"tcp\", "
	 "\"destination_port\": \"80-80,443\", \"action\": \"allow\"}]}",
	 "duplicate_rule", "", "again", "rule again duplicates rule #1", "same destination"},
	{"{\"rules\": [{\"destination\": \"203.0.113.10\", \"protocol\": \"udp\", "
	 "\"destination_port\": 53, \"action\": \"deny\"},"
	 "{\"destination\": \"203.0.113.10/32\", \"protocol\": \"udp\", "
	 "\"destination_port\": \"53\", \"action\": \"deny\"}]}",
	 "duplicate_rule", "", "#2", "rule #2 duplicates rule #1", "remove one of them"},
};

START_TEST(container_refuses)
{
	const struct refuse_case *c = &refused[_i];
	struct rules_container ct;
	struct rules_error e;

	memset(&ct, 0xa5, sizeof(ct));
	ck_assert_int_eq(container(c->json, &ct, &e), -EINVAL);
	ck_assert_str_eq(e.code, c->code);
	ck_assert_str_eq(e.field, c->field);
	ck_assert_str_eq(e.container, "web");
	ck_assert_str_eq(e.rule, c->rule);
	contains(e.message, c->value);
	contains(e.message, c->why);
	ck_assert(zeroed(&ct));
}
END_TEST

START_TEST(container_refuses_bad_id)
{
	struct rules_container c;
	struct rules_error e;
	cJSON *o = cJSON_CreateObject();

	memset(&c, 0xa5, sizeof(c));
	ck_assert_int_eq(rules_container_parse(o, "bad id", &c, &e), -EINVAL);
	ck_assert_str_eq(e.code, "invalid_container_id");
	contains(e.message, "\"bad id\"");
	contains(e.message, "1-64 characters");
	ck_assert(zeroed(&c));
	ck_assert_int_eq(rules_container_parse(o, NULL, &c, &e), -EINVAL);
	ck_assert_str_eq(e.code, "invalid_container_id");
	cJSON_Delete(o);
}
END_TEST

START_TEST(container_rule_limit)
{
	struct rules_container c;
	struct rules_error e;
	cJSON *o;

	o = many_rules(RULES_PER_CONTAINER_MAX);
	ck_assert_int_eq(rules_container_parse(o, "big", &c, &e), 0);
	cJSON_Delete(o);
	ck_assert_uint_eq(c.nrules, RULES_PER_CONTAINER_MAX);
	/* 342 deny rules (i % 3 == 0) come first */
	ck_assert_uint_eq(c.rules[341].action, RULES_ACTION_DENY);
	ck_assert_uint_eq(c.rules[342].action, RULES_ACTION_ALLOW);
	rules_container_clear(&c);

	o = many_rules(RULES_PER_CONTAINER_MAX + 1);
	memset(&c, 0xa5, sizeof(c));
	ck_assert_int_eq(rules_container_parse(o, "big", &c, &e), -EINVAL);
	cJSON_Delete(o);
	ck_assert_str_eq(e.code, "too_many_rules");
	ck_assert_str_eq(e.field, "rules");
	ck_assert_str_eq(e.container, "big");
	contains(e.message, "1025 rules given");
	contains(e.message, "at most 1024");
	ck_assert(zeroed(&c));
}
END_TEST

/* The last rule fails after 1023 were parsed: they must all be freed. */
START_TEST(container_failure_frees_parsed_rules)
{
	struct rules_container c;
	struct rules_error e;
	cJSON *o = many_rules(RULES_PER_CONTAINER_MAX - 1), *bad = cJSON_CreateObject();

	cJSON_AddStringToObject(bad, "destination", "10.0.0.0/8");
	cJSON_AddStringToObject(bad, "action", "allow");
	cJSON_AddStringToObject(bad, "description", "bad \x01");
	cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(o, "rules"), bad);
	/* descriptions make every parsed rule own memory */
	for (bad = cJSON_GetObjectItemCaseSensitive(o, "rules")->child; bad->next != NULL;
	     bad = bad->next)
		cJSON_AddStringToObject(bad, "description", "owned");
	ck_assert_int_eq(rules_container_parse(o, "big", &c, &e), -EINVAL);
	cJSON_Delete(o);
	ck_assert_str_eq(e.code, "invalid_description");
	ck_assert_str_eq(e.rule, "#1024");
	ck_assert(zeroed(&c));
}
END_TEST

START_TEST(container_copy_and_equal)
{
	struct rules_container a, b;
	struct rules_error e;

	ck_assert_int_eq(container("{\"interface\": \"hc1\", \"rules\": ["
				   "{\"destination\": \"10.0.0.0/8\", \"action\": \"allow\", "
				   "\"description\": \"d\"},"
				   "{\"destination\": \"10.0.0.0/8\", \"action\": \"deny\"}]}",
				   &a, &e),
			 0);
	ck_assert_int_eq(rules_container_copy(&b, &a), 0);
	ck_assert(rules_container_equal(&a, &b));
	ck_assert_ptr_ne(a.rules, b.rules);
	ck_assert_ptr_null(b.addresses);
	ck_assert_ptr_ne(a.rules[1].desc, b.rules[1].desc);

	b.policy = RULES_ACTION_ALLOW;
	ck_assert(!rules_container_equal(&a, &b));
	b.policy = RULES_ACTION_DENY;
	strcpy(b.ifname, "hc2");
	ck_assert(!rules_container_equal(&a, &b));
	strcpy(b.ifname, "hc1");
	strcpy(b.id, "other");
	ck_assert(!rules_container_equal(&a, &b));
	strcpy(b.id, "web");
	b.rules[0].ports[0].lo = 1; /* nports is 0: not part of the rule */
	ck_assert(rules_container_equal(&a, &b));
	b.nrules = 1;
	ck_assert(!rules_container_equal(&a, &b));
	b.nrules = 2;
	b.rules[1].desc[0] = 'x';
	ck_assert(!rules_container_equal(&a, &b));
	rules_container_clear(&a);
	rules_container_clear(&b);

	ck_assert_int_eq(container("{}", &a, &e), 0);
	ck_assert_int_eq(rules_container_copy(&b, &a), 0);
	ck_assert(rules_container_equal(&a, &b));
	rules_container_clear(&a);
	rules_container_clear(&b);

	ck_assert_int_eq(container("{\"addresses\": [\"10.0.3.7\", \"fd42::7\"]}", &a, &e), 0);
	ck_assert_int_eq(rules_container_copy(&b, &a), 0);
	ck_assert(rules_container_equal(&a, &b));
	ck_assert_ptr_ne(a.addresses, b.addresses);
	b.addresses[1].addr[15] = 8;
	ck_assert(!rules_container_equal(&a, &b));
	b.addresses[1].addr[15] = 7;
	b.naddresses = 1;
	ck_assert(!rules_container_equal(&a, &b));
	b.naddresses = 2;
	ck_assert_int_eq(rules_container_set_addresses(&b, NULL, 0), 0);
	ck_assert_ptr_null(b.addresses);
	ck_assert(!rules_container_equal(&a, &b));
	rules_container_clear(&a);
	rules_container_clear(&b);
}
END_TEST

START_TEST(container_render)
{
	struct rules_container c;
	struct rules_error e;
	cJSON *o;

	ck_assert_int_eq(container("{\"rules\": [" RULE_OK "]}", &c, &e), 0);
	o = rules_container_to_json(&c);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(cJSON_GetArraySize(o), 4);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "interface")));
	/* always there, as "interface" is: [] when nothing is pinned */
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "addresses")), 0);
	ck_assert(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(o, "addresses")));
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(o, "default_action")->valuestring,
			 "deny");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "rules")), 1);
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(o, "id"));
	cJSON_Delete(o);
	rules_container_clear(&c);
}
END_TEST

/* Accepted in any order and spelling; kept sorted (IPv4 first) and shown canonical. */
START_TEST(container_addresses)
{
	static const char *const want[] = {"10.0.3.7", "10.0.3.10", "fd42::7", "fd42::1:0:0:7"};
	struct rules_container c;
	struct rules_error e;
	struct rules_jw w;
	char buf[RULES_DEST_STRLEN];
	cJSON *o, *a;
	char *text;
	size_t i;

	ck_assert_int_eq(container("{\"interface\": \"hc1\", \"addresses\": [\"FD42:0::7\", "
				   "\"10.0.3.10\", \"fd42:0:0:0:1:0:0:0007\", \"10.0.3.7\"]}",
				   &c, &e),
			 0);
	ck_assert_uint_eq(c.naddresses, 4);
	ck_assert_uint_eq(c.addresses[0].family, RULES_FAMILY_IPV4);
	ck_assert_mem_eq(c.addresses[0].addr, "\x0a\x00\x03\x07\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	ck_assert_uint_eq(c.addresses[2].family, RULES_FAMILY_IPV6);
	for (i = 0; i < c.naddresses; i++)
		ck_assert_str_eq(rules_address_format(&c.addresses[i], buf), want[i]);
	o = rules_container_to_json(&c);
	a = cJSON_GetObjectItemCaseSensitive(o, "addresses");
	ck_assert_int_eq(cJSON_GetArraySize(a), 4);
	for (i = 0; i < 4; i++)
		ck_assert_str_eq(cJSON_GetArrayItem(a, (int)i)->valuestring, want[i]);
	cJSON_Delete(o);
	rules_jw_init(&w);
	rules_jw_open(&w, '{');
	rules_container_write(&w, &c, NULL, NULL);
	rules_jw_close(&w, '}');
	text = rules_jw_take(&w);
	contains(text, "\"addresses\":[\"10.0.3.7\",\"10.0.3.10\",\"fd42::7\",\"fd42::1:0:0:7\"]");
	free(text);
	rules_jw_free(&w);
	rules_container_clear(&c);

	ck_assert_int_eq(container("{\"addresses\": []}", &c, &e), 0);
	ck_assert_uint_eq(c.naddresses, 0);
	ck_assert_ptr_null(c.addresses);
	rules_container_clear(&c);
	ck_assert_int_eq(container("{\"addresses\": null}", &c, &e), 0);
	ck_assert_ptr_null(c.addresses);
	rules_container_clear(&c);
}
END_TEST

START_TEST(container_address_limit)
{
	struct rules_container c;
	struct rules_error e;
	cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "addresses");
	char addr[32];
	int i;

	for (i = 1; i <= RULES_ADDRESSES_MAX; i++) {
		snprintf(addr, sizeof(addr), "10.0.3.%d", i);
		cJSON_AddItemToArray(a, cJSON_CreateString(addr));
	}
	ck_assert_int_eq(rules_container_parse(o, "web", &c, &e), 0);
	ck_assert_uint_eq(c.naddresses, RULES_ADDRESSES_MAX);
	rules_container_clear(&c);
	cJSON_AddItemToArray(a, cJSON_CreateString("fd42::7"));
	memset(&c, 0xa5, sizeof(c));
	ck_assert_int_eq(rules_container_parse(o, "web", &c, &e), -EINVAL);
	ck_assert_str_eq(e.code, "invalid_address");
	ck_assert_str_eq(e.field, "addresses");
	contains(e.message, "17 given; at most 16");
	ck_assert(zeroed(&c));
	cJSON_Delete(o);
}
END_TEST

/* Alone, for calls that take "addresses" beside other members: a refusal leaves c alone. */
START_TEST(container_addresses_alone)
{
	struct rules_container c = {.id = "web"};
	struct rules_error e;
	cJSON *good = cJSON_Parse("[\"fd42::7\", \"10.0.3.7\"]");
	cJSON *bad = cJSON_Parse("[\"10.0.3.8\", \"10.0.3.9/32\"]");

	ck_assert_int_eq(rules_addresses_parse(NULL, &c, &e), 0);
	ck_assert_uint_eq(c.naddresses, 0);
	ck_assert_int_eq(rules_addresses_parse(bad, &c, &e), -EINVAL);
	ck_assert_str_eq(e.code, "invalid_address");
	contains(e.message, "addresses[1] \"10.0.3.9/32\"");
	ck_assert_uint_eq(c.naddresses, 0);
	ck_assert_ptr_null(c.addresses);
	ck_assert_int_eq(rules_addresses_parse(good, &c, &e), 0);
	ck_assert_uint_eq(c.naddresses, 2);
	ck_assert_uint_eq(c.addresses[0].family, RULES_FAMILY_IPV4);
	rules_container_clear(&c);
	cJSON_Delete(good);
	cJSON_Delete(bad);
}
END_TEST

static const char *const container_trips[] = {
	"{}",
	"{\"interface\": \"hc1\", \"addresses\": [\"fd42::7\", \"10.0.3.7\", \"2001:DB8::1\"]}",
	"{\"interface\": \"hc1\", \"default_action\": \"allow\"}",
	"{\"rules\": [{\"destination\": \"10.0.0.0/8\", \"action\": \"allow\"},"
	"{\"destination\": \"203.0.113.10\", \"protocol\": \"tcp\", "
	"\"destination_port\": \"8000-8100,443,80,81\", \"action\": \"deny\", "
	"\"description\": \"caf\\u00e9\"},"
	"{\"id\": \"r9a4ab5be\", \"destination\": \"10.0.0.1\", \"action\": \"allow\"},"
	"{\"id\": \"keep\", \"destination\": \"0.0.0.0/0\", \"protocol\": \"icmp\", "
	"\"action\": \"deny\"}]}",
};

START_TEST(container_round_trip)
{
	struct rules_container a, b;
	struct rules_error e;
	cJSON *o;

	ck_assert_int_eq(container(container_trips[_i], &a, &e), 0);
	o = rules_container_to_json(&a);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(rules_container_parse(o, "web", &b, &e), 0);
	cJSON_Delete(o);
	ck_assert(rules_container_equal(&a, &b));
	rules_container_clear(&a);
	rules_container_clear(&b);
}
END_TEST

START_TEST(set_sorted_and_found)
{
	struct rules_set *s = untouched;
	struct rules_error e;
	const struct rules_container *c;

	ck_assert_int_eq(set("{\"containers\": {\"web\": {\"interface\": \"hc2\"}, "
			     "\"db\": {\"interface\": \"hc1\", \"rules\": [" RULE_OK "]}, "
			     "\"Zed\": {}, \"api\": {}}}",
			     &s, &e),
			 0);
	ck_assert_ptr_ne(s, untouched);
	ck_assert_uint_eq(s->ncontainers, 4);
	ck_assert_str_eq(s->containers[0].id, "Zed");
	ck_assert_str_eq(s->containers[1].id, "api");
	ck_assert_str_eq(s->containers[2].id, "db");
	ck_assert_str_eq(s->containers[3].id, "web");
	c = rules_set_find(s, "db");
	ck_assert_ptr_eq(c, &s->containers[2]);
	ck_assert_str_eq(c->ifname, "hc1");
	ck_assert_uint_eq(c->nrules, 1);
	ck_assert_ptr_eq(rules_set_find(s, "web"), &s->containers[3]);
	ck_assert_ptr_eq(rules_set_find(s, "Zed"), &s->containers[0]);
	ck_assert_ptr_null(rules_set_find(s, "zed"));
	ck_assert_ptr_null(rules_set_find(s, "nope"));
	rules_set_free(s);
}
END_TEST

START_TEST(set_empty)
{
	struct rules_set *s = untouched;
	struct rules_error e;

	ck_assert_int_eq(set(" {\"containers\": {}}\n", &s, &e), 0);
	ck_assert_uint_eq(s->ncontainers, 0);
	ck_assert_ptr_null(rules_set_find(s, "web"));
	rules_set_free(s);
	rules_set_free(NULL);
	ck_assert_ptr_null(rules_set_find(NULL, "web"));
}
END_TEST

/* Containers without an interface do not clash with each other. */
START_TEST(set_unattached_containers)
{
	struct rules_set *s = untouched;
	struct rules_error e;

	ck_assert_int_eq(set("{\"containers\": {\"a\": {}, \"b\": {\"interface\": null}, "
			     "\"c\": {}, \"d\": {\"interface\": \"hc1\"}}}",
			     &s, &e),
			 0);
	ck_assert_uint_eq(s->ncontainers, 4);
	rules_set_free(s);
}
END_TEST

START_TEST(set_round_trip)
{
	struct rules_set *a = untouched, *b = untouched;
	struct rules_error e;
	cJSON *o;
	char *text;
	size_t i;

	ck_assert_int_eq(
		set("{\"containers\": {"
		    "\"web\": {\"interface\": \"hc2\", \"default_action\": \"allow\", \"rules\": ["
		    "{\"destination\": \"198.51.100.0/24\", \"action\": \"deny\", "
		    "\"description\": \"no \\\"quotes\\\" \\\\ here\"},"
		    "{\"id\": \"dns\", \"destination\": \"9.9.9.9\", \"protocol\": \"udp\", "
		    "\"destination_port\": 53, \"action\": \"allow\"}]},"
		    "\"db\": {\"interface\": \"hc1\", \"rules\": [" RULE_OK "]},"
		    "\"idle\": {}}}",
		    &a, &e),
		0);
	o = rules_set_to_json(a);
	ck_assert_ptr_nonnull(o);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(set(text, &b, &e), 0);
	free(text);
	ck_assert_uint_eq(a->ncontainers, 3);
	ck_assert_uint_eq(b->ncontainers, a->ncontainers);
	for (i = 0; i < a->ncontainers; i++)
		ck_assert(rules_container_equal(&a->containers[i], &b->containers[i]));
	ck_assert_str_eq(rules_set_find(b, "web")->rules[0].desc, "no \"quotes\" \\ here");
	rules_set_free(a);
	rules_set_free(b);
}
END_TEST

START_TEST(set_not_nul_terminated)
{
	static const char doc[] = "{\"containers\": {\"a\": {}}}";
	struct rules_set *s = untouched;
	struct rules_error e;
	char *buf;

	/* exactly len bytes on the heap: ASan catches a read past them */
	buf = malloc(sizeof(doc) - 1);
	ck_assert_ptr_nonnull(buf);
	memcpy(buf, doc, sizeof(doc) - 1);
	ck_assert_int_eq(rules_set_parse(buf, sizeof(doc) - 1, &s, &e), 0);
	ck_assert_uint_eq(s->ncontainers, 1);
	rules_set_free(s);

	/* bytes past len are not part of the document */
	s = untouched;
	ck_assert_int_eq(rules_set_parse("{\"containers\": {}}garbage", 18, &s, &e), 0);
	rules_set_free(s);
	s = untouched;
	ck_assert_int_eq(rules_set_parse(buf, sizeof(doc) - 2, &s, &e), -EINVAL);
	ck_assert_str_eq(e.code, "invalid_json");
	ck_assert_ptr_eq(s, untouched);
	free(buf);
}
END_TEST

/* "\\u0000" is a backslash and "u0000", not a NUL: it must pass. */
START_TEST(set_escaped_backslash_is_not_nul)
{
	struct rules_set *s = untouched;
	struct rules_error e;

	ck_assert_int_eq(set("{\"containers\": {\"a\": {\"rules\": [{\"destination\": "
			     "\"10.0.0.0/8\", \"action\": \"allow\", \"description\": "
			     "\"C:\\\\u0000 \\\"\\\\\"}]}}}",
			     &s, &e),
			 0);
	ck_assert_str_eq(s->containers[0].rules[0].desc, "C:\\u0000 \"\\");
	rules_set_free(s);
}
END_TEST

struct set_case {
	const char *text;
	size_t len; /* 0: strlen(text) */
	const char *code;
	const char *field;
	const char *container;
	const char *rule;
	const char *value;
	const char *why;
};

static const struct set_case set_refused[] = {
	/* malformed JSON */
	{"", 0, "invalid_json", "", "", "", "invalid JSON at offset 0", "expected an object"},
	{"{", 0, "invalid_json", "", "", "", "invalid JSON at offset", "\"containers\""},
	{"{\"containers\": x}", 0, "invalid_json", "", "", "", "at offset 15",
	 "expected an object"},
	{"{\"containers\": {}} x", 0, "invalid_json", "", "", "", "at offset 19",
	 "expected an object"},
	{"{\"containers\": {},}", 0, "invalid_json", "", "", "", "invalid JSON", "offset"},
	{"{\"containers\": {}}\0", 19, "invalid_json", "", "", "", "at offset 18",
	 "NUL bytes are not allowed"},
	{"{\"containers\": \0{}}", 19, "invalid_json", "", "", "", "at offset 15", "NUL bytes"},
	{"{\"containers\": {\"a\": {\"rules\": [{\"destination\": \"10.0.0.0/8\", \"action\": "
	 "\"allow\", \"description\": \"x\\u0000y\"}]}}}",
	 0, "invalid_json", "", "", "", "at offset 98", "strings may not contain \\u0000"},
	{"{\"containers\": {\"a\\u0000b\": {}}}", 0, "invalid_json", "", "", "", "at offset 18",
	 "\\u0000"},
	{"{\"containers\": {\"a\": {\"interface\": \"hc\x01\"}}}", 0, "invalid_json", "", "", "",
	 "at offset 38", "control character 0x01 in a string"},
	/* document shape */
	{"[]", 0, "invalid_document", "", "", "", "got an array", "{\"containers\":"},
	{"null", 0, "invalid_document", "", "", "", "got null", "expected an object"},
	{"{}", 0, "missing_field", "containers", "", "", "\"containers\"", "expected an object"},
	{"{\"containers\": {}, \"version\": 1}", 0, "unknown_field", "version", "", "",
	 "\"version\"", "accepted fields are containers"},
	{"{\"containers\": {}, \"containers\": {}}", 0, "duplicate_field", "containers", "", "",
	 "\"containers\"", "given twice"},
	{"{\"containers\": []}", 0, "invalid_containers", "containers", "", "", "got an array",
	 "expected an object"},
	{"{\"containers\": null}", 0, "invalid_containers", "containers", "", "", "got null",
	 "container ids"},
	/* container ids */
	{"{\"containers\": {\"bad id\": {}}}", 0, "invalid_container_id", "containers", "", "",
	 "\"bad id\"", "1-64 characters"},
	{"{\"containers\": {\"..\": {}}}", 0, "invalid_container_id", "containers", "", "",
	 "\"..\"", "(not \".\" or \"..\")"},
	{"{\"containers\": {\"\": {}}}", 0, "invalid_container_id", "containers", "", "",
	 "container id \"\"", "1-64"},
	{"{\"containers\": {\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": "
	 "{}}}",
	 0, "invalid_container_id", "containers", "", "", "\"aaaaaaaaaaaaaaaa", "1-64"},
	{"{\"containers\": {\"a\": {}, \"b\": {}, \"a\": {\"interface\": \"hc1\"}}}", 0,
	 "duplicate_field", "containers", "a", "", "container \"a\"", "given twice"},
	/* across containers */
	{"{\"containers\": {\"b\": {\"interface\": \"hc1\"}, \"c\": {\"interface\": \"hc2\"}, "
	 "\"a\": {\"interface\": \"hc1\"}}}",
	 0, "duplicate_interface", "interface", "b", "", "interface \"hc1\"",
	 "used by containers \"a\" and \"b\""},
	/* inside containers */
	{"{\"containers\": {\"a\": 5}}", 0, "invalid_container", "", "a", "", "got a number",
	 "expected an object"},
	{"{\"containers\": {\"a\": {}, \"b\": {\"rules\": [{\"destination\": \"10.0.0.1/8\", "
	 "\"action\": \"allow\"}]}}}",
	 0, "invalid_destination", "destination", "b", "#1", "\"10.0.0.1/8\"",
	 "did you mean \"10.0.0.0/8\"?"},
	{"{\"containers\": {\"a\": {\"rules\": [{\"destintion\": \"10.0.0.0/8\", "
	 "\"action\": \"allow\"}]}}}",
	 0, "unknown_field", "destintion", "a", "#1", "\"destintion\"", "accepted fields"},
};

START_TEST(set_refuses)
{
	const struct set_case *c = &set_refused[_i];
	struct rules_set *s = untouched;
	struct rules_error e;

	ck_assert_int_eq(rules_set_parse(c->text, c->len > 0 ? c->len : strlen(c->text), &s, &e),
			 -EINVAL);
	ck_assert_ptr_eq(s, untouched);
	ck_assert_str_eq(e.code, c->code);
	ck_assert_str_eq(e.field, c->field);
	ck_assert_str_eq(e.container, c->container);
	ck_assert_str_eq(e.rule, c->rule);
	contains(e.message, c->value);
	contains(e.message, c->why);
}
END_TEST

START_TEST(set_check_raw)
{
	struct rules_error e;

	ck_assert_int_eq(rules_json_check_raw("{\"a\": \"\\\\u0000\"}", 16, &e), 0);
	ck_assert_int_eq(rules_json_check_raw("{\"a\": \"\\u0000\"}", 15, &e), -EINVAL);
	ck_assert_str_eq(e.code, "invalid_json");
	contains(e.message, "offset 7");
	/* a cut-off escape at the end is cJSON's to refuse, not a NUL */
	ck_assert_int_eq(rules_json_check_raw("\"\\u000", 6, &e), 0);
	ck_assert_int_eq(rules_json_check_raw("\"\\u00001\"", 9, &e), -EINVAL);
	ck_assert_int_eq(rules_json_check_raw("\"\\u0001\"", 8, &e), 0);
	ck_assert_int_eq(rules_json_check_raw("\"\\\"\\u0000\"", 10, &e), -EINVAL);
	ck_assert_int_eq(rules_json_check_raw("\"x\"\\u0000", 9, &e), 0);
	ck_assert_int_eq(rules_json_check_raw("\n{\t}\r", 5, &e), 0);
	ck_assert_int_eq(rules_json_check_raw(NULL, 0, &e), 0);
}
END_TEST

/* A body dense in values is refused before it is parsed; real ones pass. */
START_TEST(set_check_raw_density)
{
	size_t n = 1 << 20, i;
	char *b = malloc(n);
	struct rules_error e;

	ck_assert_ptr_nonnull(b);
	/* [0,0,...]: 2 bytes a value */
	b[0] = '[';
	for (i = 1; i + 1 < n; i += 2)
		memcpy(b + i, "0,", 2);
	b[n - 2] = '0';
	b[n - 1] = ']';
	ck_assert_int_eq(rules_json_check_raw(b, n, &e), -EINVAL);
	contains(e.message, "values in 1048576 bytes");
	/* the densest real rules: an id and a destination each */
	i = (size_t)snprintf(b, n, "{\"containers\": {\"c\": {\"rules\": [");
	while (i + 64 < n && i < 40000)
		i += (size_t)snprintf(b + i, n - i, "{\"id\":\"r\",\"destination\":\"1.2.3.4\"},");
	i += (size_t)snprintf(b + i - 1, n - i + 1, "]}}}") - 1;
	ck_assert_int_eq(rules_json_check_raw(b, i, &e), 0);
	free(b);
}
END_TEST

START_TEST(set_rule_limit)
{
	struct rules_set *s = untouched;
	struct rules_error e;
	cJSON *doc, *cs;
	char *text;
	int n;

	for (n = RULES_PER_CONTAINER_MAX; n <= RULES_PER_CONTAINER_MAX + 1; n++) {
		doc = cJSON_CreateObject();
		cs = cJSON_AddObjectToObject(doc, "containers");
		cJSON_AddItemToObject(cs, "big", many_rules(n));
		text = cJSON_PrintUnformatted(doc);
		cJSON_Delete(doc);
		s = untouched;
		if (n == RULES_PER_CONTAINER_MAX) {
			ck_assert_int_eq(set(text, &s, &e), 0);
			ck_assert_uint_eq(s->containers[0].nrules, RULES_PER_CONTAINER_MAX);
			rules_set_free(s);
		} else {
			ck_assert_int_eq(set(text, &s, &e), -EINVAL);
			ck_assert_str_eq(e.code, "too_many_rules");
			ck_assert_str_eq(e.container, "big");
			ck_assert_ptr_eq(s, untouched);
		}
		free(text);
	}
}
END_TEST

static Suite *
set_suite(void)
{
	Suite *s = suite_create("set");
	TCase *tc = tcase_create("container");

	tcase_add_test(tc, set_check_raw_density);
	tcase_add_test(tc, container_defaults);
	tcase_add_test(tc, container_full);
	tcase_add_test(tc, container_canonical_order);
	tcase_add_test(tc, container_assigns_ids);
	tcase_add_test(tc, container_id_clash);
	tcase_add_test(tc, container_near_duplicates_accepted);
	tcase_add_loop_test(tc, container_refuses, 0, sizeof(refused) / sizeof(refused[0]));
	tcase_add_test(tc, container_refuses_bad_id);
	tcase_add_test(tc, container_rule_limit);
	tcase_add_test(tc, container_failure_frees_parsed_rules);
	tcase_add_test(tc, container_copy_and_equal);
	tcase_add_test(tc, container_render);
	tcase_add_test(tc, container_addresses);
	tcase_add_test(tc, container_address_limit);
	tcase_add_test(tc, container_addresses_alone);
	tcase_add_loop_test(tc, container_round_trip, 0,
			    sizeof(container_trips) / sizeof(container_trips[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("set");
	tcase_add_test(tc, set_sorted_and_found);
	tcase_add_test(tc, set_empty);
	tcase_add_test(tc, set_unattached_containers);
	tcase_add_test(tc, set_round_trip);
	tcase_add_test(tc, set_not_nul_terminated);
	tcase_add_test(tc, set_escaped_backslash_is_not_nul);
	tcase_add_loop_test(tc, set_refuses, 0, sizeof(set_refused) / sizeof(set_refused[0]));
	tcase_add_test(tc, set_check_raw);
	tcase_add_test(tc, set_rule_limit);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(set_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
