/*
 * One rule: parsing the REST API's rule object, ids, comparisons,
 * copies, names and rendering.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "rules/rules_int.h"

static int
parse(const char *json, unsigned index, struct rules_rule *r, struct rules_error *reterr)
{
	cJSON *o = cJSON_Parse(json);
	int rc;

	ck_assert_msg(o != NULL, "test JSON does not parse: %s", json);
	rc = rules_rule_parse(o, index, r, reterr);
	cJSON_Delete(o);
	return rc;
}

static bool
zeroed(const struct rules_rule *r)
{
	static const struct rules_rule zero;

	return memcmp(r, &zero, sizeof(zero)) == 0;
}

START_TEST(rule_defaults)
{
	struct rules_rule r;
	struct rules_error e;

	ck_assert_int_eq(
		parse("{\"destination\": \"10.0.0.0/8\", \"action\": \"deny\"}", 1, &r, &e), 0);
	ck_assert_str_eq(r.id, "");
	ck_assert_uint_eq(r.daddr, 0x0a000000);
	ck_assert_uint_eq(r.plen, 8);
	ck_assert_uint_eq(r.proto, RULES_PROTO_ANY);
	ck_assert_uint_eq(r.action, RULES_ACTION_DENY);
	ck_assert_uint_eq(r.nports, 0);
	ck_assert_ptr_null(r.desc);
	rules_rule_clear(&r);
}
END_TEST

START_TEST(rule_full)
{
	struct rules_rule r;
	struct rules_error e;

	ck_assert_int_eq(parse("{\"id\": \"web-1\", \"destination\": \"203.0.113.10\", "
			       "\"destination_port\": \"8000-8100,443,80\", \"protocol\": \"tcp\", "
			       "\"action\": \"allow\", \"description\": \"caf\\u00e9 backend\"}",
			       1, &r, &e),
			 0);
	ck_assert_str_eq(r.id, "web-1");
	ck_assert_uint_eq(r.daddr, 0xcb00710a);
	ck_assert_uint_eq(r.plen, 32);
	ck_assert_uint_eq(r.proto, RULES_PROTO_TCP);
	ck_assert_uint_eq(r.action, RULES_ACTION_ALLOW);
	ck_assert_uint_eq(r.nports, 3);
	ck_assert_uint_eq(r.ports[0].lo, 80);
	ck_assert_uint_eq(r.ports[1].lo, 443);
	ck_assert_uint_eq(r.ports[2].lo, 8000);
	ck_assert_uint_eq(r.ports[2].hi, 8100);
	ck_assert_str_eq(r.desc, "caf\xc3\xa9 backend");
	rules_rule_clear(&r);
	ck_assert(zeroed(&r));
}
END_TEST

START_TEST(rule_integer_port)
{
	struct rules_rule r;
	struct rules_error e;

	ck_assert_int_eq(parse("{\"destination\": \"10.0.0.0/8\", \"destination_port\": 53, "
			       "\"protocol\": \"udp\", \"action\": \"allow\"}",
			       1, &r, &e),
			 0);
	ck_assert_uint_eq(r.proto, RULES_PROTO_UDP);
	ck_assert_uint_eq(r.nports, 1);
	ck_assert_uint_eq(r.ports[0].lo, 53);
	ck_assert_uint_eq(r.ports[0].hi, 53);
	rules_rule_clear(&r);
}
END_TEST

/* null and "" mean "not given" for the optional fields. */
START_TEST(rule_nulls)
{
	struct rules_rule r;
	struct rules_error e;

	ck_assert_int_eq(
		parse("{\"id\": null, \"destination\": \"0.0.0.0/0\", "
		      "\"destination_port\": null, \"protocol\": null, \"action\": \"allow\", "
		      "\"description\": null}",
		      1, &r, &e),
		0);
	ck_assert_str_eq(r.id, "");
	ck_assert_uint_eq(r.proto, RULES_PROTO_ANY);
	ck_assert_uint_eq(r.nports, 0);
	ck_assert_ptr_null(r.desc);
	rules_rule_clear(&r);
	ck_assert_int_eq(parse("{\"destination\": \"0.0.0.0/0\", \"action\": \"allow\", "
			       "\"description\": \"\"}",
			       1, &r, &e),
			 0);
	ck_assert_ptr_null(r.desc);
	rules_rule_clear(&r);
}
END_TEST

static const char *const protos[] = {"any", "tcp", "udp", "icmp"};

START_TEST(rule_protocols)
{
	struct rules_rule r;
	struct rules_error e;
	char json[128];

	snprintf(json, sizeof(json),
		 "{\"destination\": \"10.0.0.0/8\", \"protocol\": \"%s\", \"action\": \"deny\"}",
		 protos[_i]);
	ck_assert_int_eq(parse(json, 1, &r, &e), 0);
	ck_assert_str_eq(rules_proto_name(r.proto), protos[_i]);
	rules_rule_clear(&r);
}
END_TEST

START_TEST(rule_limits_accepted)
{
	struct rules_rule r;
	struct rules_error e;
	char json[512], id[RULES_ID_MAX + 1], desc[RULES_DESC_MAX + 1];

	memset(id, 'i', RULES_ID_MAX);
	id[RULES_ID_MAX] = '\0';
	memset(desc, 'd', RULES_DESC_MAX);
	desc[RULES_DESC_MAX] = '\0';
	snprintf(json, sizeof(json),
		 "{\"id\": \"%s\", \"destination\": \"10.0.0.0/8\", \"action\": \"deny\", "
		 "\"description\": \"%s\", \"protocol\": \"tcp\", \"destination_port\": "
		 "\"1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31\"}",
		 id, desc);
	ck_assert_int_eq(parse(json, 1, &r, &e), 0);
	ck_assert_str_eq(r.id, id);
	ck_assert_str_eq(r.desc, desc);
	ck_assert_uint_eq(r.nports, RULES_PORTS_MAX);
	rules_rule_clear(&r);
}
END_TEST

struct refuse_case {
	const char *json;
	const char *code;
	const char *field;
	const char *value; /* the offending value as the message shows it */
	const char *why;
};

#define R(extra) "{\"destination\": \"10.0.0.0/8\", \"action\": \"allow\"" extra "}"
#define TCP(port) R(", \"protocol\": \"tcp\", \"destination_port\": " port)

static const struct refuse_case refused[] = {
	/* not an object */
	{"[]", "invalid_rule", "", "rule:", "expected an object"},
	{"\"10.0.0.0/8\"", "invalid_rule", "", "got a string", "expected an object"},
	{"null", "invalid_rule", "", "got null", "expected an object"},
	/* missing required fields */
	{"{\"action\": \"allow\"}", "missing_field", "destination", "\"destination\"",
	 "a rule needs a destination"},
	{"{\"destination\": \"10.0.0.0/8\"}", "missing_field", "action", "\"action\"",
	 "\"allow\" or \"deny\""},
	{"{}", "missing_field", "destination", "missing field", "\"10.0.0.0/8\""},
	/* destination */
	{"{\"destination\": 167772160, \"action\": \"allow\"}", "invalid_destination",
	 "destination", "got a number", "expected a string"},
	{"{\"destination\": null, \"action\": \"allow\"}", "invalid_destination", "destination",
	 "got null", "expected a string"},
	{"{\"destination\": [\"10.0.0.0/8\"], \"action\": \"allow\"}", "invalid_destination",
	 "destination", "got an array", "expected a string"},
	{"{\"destination\": \"*.com\", \"action\": \"allow\"}", "invalid_destination",
	 "destination", "\"*.com\"", "two labels or more"},
	{"{\"destination\": \"2001:db8::1/64\", \"action\": \"allow\"}", "invalid_destination",
	 "destination", "\"2001:db8::1/64\"", "host bits set; did you mean \"2001:db8::/64\"?"},
	{"{\"destination\": \"::ffff:1.2.3.4\", \"action\": \"allow\"}", "invalid_destination",
	 "destination", "\"::ffff:1.2.3.4\"", "write \"1.2.3.4/32\""},
	{"{\"destination\": \"fe80::1%eth0\", \"action\": \"allow\"}", "invalid_destination",
	 "destination", "\"fe80::1%eth0\"", "zone ids"},
	{"{\"destination\": \"10.0.0.0/33\", \"action\": \"allow\"}", "invalid_destination",
	 "destination", "\"10.0.0.0/33\"", "over 32"},
	{"{\"destination\": \"10.0.0.0/033\", \"action\": \"allow\"}", "invalid_destination",
	 "destination", "\"10.0.0.0/033\"", "leading zeros"},
	{"{\"destination\": \"10.0.0.0/\", \"action\": \"allow\"}", "invalid_destination",
	 "destination", "\"10.0.0.0/\"", "missing prefix length"},
	{"{\"destination\": \"10.0.0.0/-1\", \"action\": \"allow\"}", "invalid_destination",
	 "destination", "\"10.0.0.0/-1\"", "0-32"},
	{"{\"destination\": \"10.0.0.0/8x\", \"action\": \"allow\"}", "invalid_destination",
	 "destination", "\"10.0.0.0/8x\"", "0-32"},
	{"{\"destination\": \"10.0.0.300\", \"action\": \"allow\"}", "invalid_destination",
	 "destination", "\"10.0.0.300\"", "0-255"},
	{"{\"destination\": \"010.0.0.1\", \"action\": \"allow\"}", "invalid_destination",
	 "destination", "\"010.0.0.1\"", "leading zeros"},
	{"{\"destination\": \"0x0a.0.0.1\", \"action\": \"allow\"}", "invalid_destination",
	 "destination", "\"0x0a.0.0.1\"", "hexadecimal"},
	{"{\"destination\": \"10.1\", \"action\": \"allow\"}", "invalid_destination", "destination",
	 "\"10.1\"", "four octets"},
	{"{\"destination\": \"10\", \"action\": \"allow\"}", "invalid_destination", "destination",
	 "\"10\"", "four octets"},
	{"{\"destination\": \"\", \"action\": \"allow\"}", "invalid_destination", "destination",
	 "\"\"", "empty"},
	{"{\"destination\": \"10.0.0.1 \", \"action\": \"allow\"}", "invalid_destination",
	 "destination", "\"10.0.0.1 \"", "whitespace"},
	{"{\"destination\": \"10.0.0.1abc\", \"action\": \"allow\"}", "invalid_destination",
	 "destination", "\"10.0.0.1abc\"", "after the address"},
	{"{\"destination\": \"10.0.0.1/8\", \"action\": \"allow\"}", "invalid_destination",
	 "destination", "\"10.0.0.1/8\"", "host bits set; did you mean \"10.0.0.0/8\"?"},
	/* destination_port */
	{TCP("\"0\""), "invalid_port", "destination_port", "\"0\"", "ports are 1-65535"},
	{TCP("\"65536\""), "invalid_port", "destination_port", "\"65536\"", "ports are 1-65535"},
	{TCP("\"9000-8000\""), "invalid_port", "destination_port", "\"9000-8000\"", "reversed"},
	{TCP("\"80,,443\""), "invalid_port", "destination_port", "\"80,,443\"", "empty item"},
	{TCP("\"80,\""), "invalid_port", "destination_port", "\"80,\"", "empty item"},
	{TCP("\"1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17\""), "invalid_port", "destination_port",
	 "\"1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17\"", "more than 16 items"},
	{TCP("\"80, 443\""), "invalid_port", "destination_port", "\"80, 443\"", "spaces"},
	{TCP("\"+443\""), "invalid_port", "destination_port", "\"+443\"", "signs"},
	{TCP("\"-443\""), "invalid_port", "destination_port", "\"-443\"", "signs"},
	{TCP("\"0443\""), "invalid_port", "destination_port", "\"0443\"", "leading zeros"},
	{TCP("\"\""), "invalid_port", "destination_port", "\"\"", "empty"},
	{TCP("0"), "invalid_port", "destination_port",
	 "destination_port 0:", "whole number 1-65535"},
	{TCP("65536"), "invalid_port", "destination_port", "65536", "whole number 1-65535"},
	{TCP("-443"), "invalid_port", "destination_port", "-443", "whole number 1-65535"},
	{TCP("443.5"), "invalid_port", "destination_port", "443.5", "whole number 1-65535"},
	{TCP("1e100"), "invalid_port", "destination_port", "1e+100", "whole number 1-65535"},
	{TCP("true"), "invalid_port", "destination_port", "got a boolean", "expected a string"},
	{TCP("[443]"), "invalid_port", "destination_port", "got an array", "expected a string"},
	{TCP("{\"port\": 443}"), "invalid_port", "destination_port", "got an object",
	 "\"80,443,8000-8100\""},
	{R(", \"destination_port\": \"443\""), "invalid_port", "destination_port", "\"443\"",
	 "needs protocol tcp or udp, not \"any\""},
	{R(", \"destination_port\": \"443\", \"protocol\": \"any\""), "invalid_port",
	 "destination_port", "\"443\"", "needs protocol tcp or udp"},
	{R(", \"destination_port\": 443, \"protocol\": \"icmp\""), "invalid_port",
	 "destination_port", "\"443\"", "needs protocol tcp or udp, not \"icmp\""},
	/* protocol */
	{R(", \"protocol\": \"TCP\""), "invalid_protocol", "protocol", "\"TCP\"",
	 "expected \"tcp\", \"udp\", \"icmp\" or \"any\""},
	{R(", \"protocol\": \"sctp\""), "invalid_protocol", "protocol", "\"sctp\"", "\"icmp\""},
	{R(", \"protocol\": \"\""), "invalid_protocol", "protocol", "protocol \"\"", "\"tcp\""},
	{R(", \"protocol\": 6"), "invalid_protocol", "protocol", "got a number",
	 "expected a string"},
	/* action */
	{"{\"destination\": \"10.0.0.0/8\", \"action\": \"permit\"}", "invalid_action", "action",
	 "\"permit\"", "expected \"allow\" or \"deny\""},
	{"{\"destination\": \"10.0.0.0/8\", \"action\": \"ALLOW\"}", "invalid_action", "action",
	 "\"ALLOW\"", "\"allow\" or \"deny\""},
	{"{\"destination\": \"10.0.0.0/8\", \"action\": null}", "invalid_action", "action",
	 "got null", "expected a string"},
	{"{\"destination\": \"10.0.0.0/8\", \"action\": true}", "invalid_action", "action",
	 "got a boolean", "expected a string"},
	/* description */
	{R(", \"description\": \"bell\\u0007\""), "invalid_description", "description",
	 "\"bell\\x07\"", "control character at byte 4"},
	{R(", \"description\": \"two\\nlines\""), "invalid_description", "description",
	 "\"two\\x0alines\"", "control character"},
	{R(", \"description\": \"del\\u007f\""), "invalid_description", "description",
	 "\"del\\x7f\"", "control character"},
	{R(", \"description\": \"bad \xc3\x28\""), "invalid_description", "description",
	 "\"bad \\xc3(\"", "truncated sequence"},
	{R(", \"description\": \"\xed\xa0\x80\""), "invalid_description", "description",
	 "\"\\xed\\xa0\\x80\"", "surrogate"},
	{R(", \"description\": \"\xc0\xaf\""), "invalid_description", "description",
	 "\"\\xc0\\xaf\"", "overlong"},
	{R(", \"description\": \"\xf4\x90\x80\x80\""), "invalid_description", "description",
	 "\"\\xf4\\x90\\x80\\x80\"", "over U+10FFFF"},
	{R(", \"description\": \"\xe2\x82\""), "invalid_description", "description",
	 "\"\\xe2\\x82\"", "truncated"},
	{R(", \"description\": 5"), "invalid_description", "description", "got a number",
	 "as a string"},
	/* id */
	{R(", \"id\": \"a b\""), "invalid_id", "id", "\"a b\"", "1-64 characters"},
	{R(", \"id\": \"\""), "invalid_id", "id", "id \"\"", "1-64 characters"},
	{R(", \"id\": \".\""), "invalid_id", "id", "id \".\"", "(not \".\" or \"..\")"},
	{R(", \"id\": \"..\""), "invalid_id", "id", "id \"..\"", "A-Z a-z 0-9 _ . -"},
	{R(", \"id\": \"r/1\""), "invalid_id", "id", "\"r/1\"", "A-Z a-z 0-9 _ . -"},
	{R(", \"id\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""),
	 "invalid_id", "id", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	 "1-64 characters"},
	{R(", \"id\": 7"), "invalid_id", "id", "got a number", "as a string"},
	/* unknown and repeated keys */
	{"{\"destintion\": \"10.0.0.0/8\", \"action\": \"allow\"}", "unknown_field", "destintion",
	 "\"destintion\"",
	 "accepted fields are id, destination, destination_port, protocol, action, description"},
	{R(", \"port\": 443"), "unknown_field", "port", "\"port\"", "accepted fields are"},
	{R(", \"Action\": \"deny\""), "unknown_field", "Action", "\"Action\"", "accepted fields"},
	{R(", \"action\": \"deny\""), "duplicate_field", "action", "\"action\"", "given twice"},
	{R(", \"destination\": \"0.0.0.0/0\""), "duplicate_field", "destination", "\"destination\"",
	 "may appear once"},
	{R(", \"description\": \"a\", \"description\": \"b\""), "duplicate_field", "description",
	 "\"description\"", "given twice"},
};

START_TEST(rule_refuses)
{
	const struct refuse_case *c = &refused[_i];
	struct rules_rule r;
	struct rules_error e;

	memset(&r, 0xa5, sizeof(r));
	ck_assert_int_eq(parse(c->json, 5, &r, &e), -EINVAL);
	ck_assert_str_eq(e.code, c->code);
	ck_assert_str_eq(e.field, c->field);
	ck_assert_msg(strstr(e.message, c->value) != NULL, "message \"%s\" lacks value %s",
		      e.message, c->value);
	ck_assert_msg(strstr(e.message, c->why) != NULL, "message \"%s\" lacks \"%s\"", e.message,
		      c->why);
	ck_assert_str_eq(e.rule, "#5");
	ck_assert_str_eq(e.container, "");
	ck_assert(zeroed(&r));
}
END_TEST

START_TEST(rule_description_too_long)
{
	char desc[RULES_DESC_MAX + 2], json[400];
	struct rules_rule r;
	struct rules_error e;

	memset(desc, 'x', sizeof(desc) - 1);
	desc[sizeof(desc) - 1] = '\0';
	snprintf(json, sizeof(json), R(", \"description\": \"%s\""), desc);
	ck_assert_int_eq(parse(json, 1, &r, &e), -EINVAL);
	ck_assert_str_eq(e.code, "invalid_description");
	ck_assert_str_eq(e.field, "description");
	ck_assert_ptr_nonnull(strstr(e.message, "\"xxxxxxxxxxxxxxxx"));
	ck_assert_ptr_nonnull(strstr(e.message, "257 bytes is too long"));
	ck_assert_ptr_nonnull(strstr(e.message, "at most 256 bytes"));
	ck_assert(zeroed(&r));
}
END_TEST

/* A refused rule is named by its id when it has a valid one. */
START_TEST(rule_error_names_rule)
{
	struct rules_rule r;
	struct rules_error e;

	ck_assert_int_eq(parse("{\"id\": \"web\", \"destination\": \"10.0.0.1/8\", "
			       "\"action\": \"allow\"}",
			       3, &r, &e),
			 -EINVAL);
	ck_assert_str_eq(e.rule, "web");
	ck_assert_int_eq(
		parse("{\"destination\": \"10.0.0.1/8\", \"action\": \"allow\"}", 3, &r, &e),
		-EINVAL);
	ck_assert_str_eq(e.rule, "#3");
	ck_assert_int_eq(
		parse("{\"destination\": \"10.0.0.1/8\", \"action\": \"allow\"}", 0, &r, &e),
		-EINVAL);
	ck_assert_str_eq(e.rule, "");
	ck_assert_int_eq(parse("{\"id\": \"bad id\", \"destination\": \"10.0.0.0/8\", "
			       "\"action\": \"allow\"}",
			       12, &r, &e),
			 -EINVAL);
	ck_assert_str_eq(e.rule, "#12");
}
END_TEST

/* A reference FNV-1a over the encoding the id is documented to hash. */
static uint32_t
ref_fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 0x811c9dc5;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x01000193;
	return h;
}

START_TEST(rule_ref_hash_vectors)
{
	ck_assert_uint_eq(ref_fnv1a((const uint8_t *)"", 0), 0x811c9dc5);
	ck_assert_uint_eq(ref_fnv1a((const uint8_t *)"a", 1), 0xe40c292c);
	ck_assert_uint_eq(ref_fnv1a((const uint8_t *)"foobar", 6), 0xbf9cf968);
}
END_TEST

START_TEST(rule_id_is_hash_of_match)
{
	struct rules_rule r;
	struct rules_error e;
	char want[16];
	/* 10.0.0.0/8 tcp allow, ports 80 and 8000-8100, big-endian */
	const uint8_t enc[] = {
		10, 0,	  0,	0,    8,   RULES_PROTO_TCP, RULES_ACTION_ALLOW, 2, 0, 80, 0,
		80, 0x1f, 0x40, 0x1f, 0xa4};

	ck_assert_int_eq(parse(TCP("\"8000-8100,80\""), 1, &r, &e), 0);
	rules_rule_id_assign(&r, NULL, 0);
	snprintf(want, sizeof(want), "r%08" PRIx32, ref_fnv1a(enc, sizeof(enc)));
	ck_assert_str_eq(r.id, want);
	rules_rule_clear(&r);
}
END_TEST

/*
 * Pinned: ids are stored by clients, so the encoding may never change.
 * Worked out apart from C: FNV-1a of 0a 00 00 00 08 00 01 00.
 */
START_TEST(rule_id_golden)
{
	struct rules_rule r;
	struct rules_error e;

	ck_assert_int_eq(parse(R(""), 1, &r, &e), 0);
	rules_rule_id_assign(&r, NULL, 0);
	ck_assert_str_eq(r.id, "r9a4ab5be");
	rules_rule_clear(&r);
}
END_TEST

START_TEST(rule_id_deterministic)
{
	struct rules_rule a, b, c;
	struct rules_error e;

	ck_assert_int_eq(parse(TCP("\"443,80\""), 1, &a, &e), 0);
	ck_assert_int_eq(parse(TCP("\"80,443\""), 2, &b, &e), 0);
	ck_assert_int_eq(parse(TCP("\"80,443\", \"description\": \"other\""), 3, &c, &e), 0);
	rules_rule_id_assign(&a, NULL, 0);
	rules_rule_id_assign(&b, NULL, 0);
	rules_rule_id_assign(&c, NULL, 0);
	ck_assert_str_eq(a.id, b.id);
	ck_assert_str_eq(a.id, c.id); /* the description is not part of the match */
	ck_assert_uint_eq(strlen(a.id), 9);
	ck_assert_int_eq(a.id[0], 'r');
	ck_assert_uint_eq(strspn(a.id + 1, "0123456789abcdef"), 8);
	c.action = RULES_ACTION_DENY;
	rules_rule_id_assign(&c, NULL, 0);
	ck_assert_str_ne(a.id, c.id);
	rules_rule_clear(&a);
	rules_rule_clear(&b);
	rules_rule_clear(&c);
}
END_TEST

START_TEST(rule_id_clash_suffix)
{
	struct rules_rule others[3], r;
	struct rules_error e;
	char base[RULES_ID_MAX + 1], want[RULES_ID_MAX + 1];

	memset(others, 0, sizeof(others));
	ck_assert_int_eq(parse(R(""), 1, &r, &e), 0);
	rules_rule_id_assign(&r, NULL, 0);
	strcpy(base, r.id);

	snprintf(others[0].id, sizeof(others[0].id), "%s", base);
	r.id[0] = '\0';
	rules_rule_id_assign(&r, others, 1);
	snprintf(want, sizeof(want), "%s-2", base);
	ck_assert_str_eq(r.id, want);

	snprintf(others[1].id, sizeof(others[1].id), "%s-2", base);
	strcpy(others[2].id, "unrelated");
	rules_rule_id_assign(&r, others, 3);
	snprintf(want, sizeof(want), "%s-3", base);
	ck_assert_str_eq(r.id, want);
	rules_rule_clear(&r);
}
END_TEST

/* The rule being named may sit in others; it does not clash with itself. */
START_TEST(rule_id_skips_self)
{
	struct rules_rule v[2];
	struct rules_error e;
	char base[RULES_ID_MAX + 1];

	ck_assert_int_eq(parse(R(""), 1, &v[0], &e), 0);
	ck_assert_int_eq(parse(TCP("\"22\""), 2, &v[1], &e), 0);
	rules_rule_id_assign(&v[0], v, 2);
	strcpy(base, v[0].id);
	rules_rule_id_assign(&v[0], v, 2);
	ck_assert_str_eq(v[0].id, base);
	rules_rule_clear(&v[0]);
	rules_rule_clear(&v[1]);
}
END_TEST

START_TEST(rule_same_match_and_equal)
{
	struct rules_rule a, b;
	struct rules_error e;

	ck_assert_int_eq(parse(TCP("\"443\", \"id\": \"a\", \"description\": \"x\""), 1, &a, &e),
			 0);
	ck_assert_int_eq(parse(TCP("443, \"id\": \"a\", \"description\": \"x\""), 2, &b, &e), 0);
	ck_assert(rules_rule_same_match(&a, &b));
	ck_assert(rules_rule_equal(&a, &b));

	free(b.desc);
	b.desc = NULL;
	ck_assert(rules_rule_same_match(&a, &b));
	ck_assert(!rules_rule_equal(&a, &b));
	ck_assert(!rules_rule_equal(&b, &a));

	b.desc = strdup("x");
	strcpy(b.id, "b");
	ck_assert(rules_rule_same_match(&a, &b));
	ck_assert(!rules_rule_equal(&a, &b));

	strcpy(b.id, "a");
	b.ports[0].hi = 444;
	ck_assert(!rules_rule_same_match(&a, &b));
	b.ports[0].hi = 443;
	b.action = RULES_ACTION_DENY;
	ck_assert(!rules_rule_same_match(&a, &b));
	b.action = RULES_ACTION_ALLOW;
	b.plen = 9;
	ck_assert(!rules_rule_same_match(&a, &b));
	b.plen = 8;
	b.proto = RULES_PROTO_UDP;
	ck_assert(!rules_rule_same_match(&a, &b));
	b.proto = RULES_PROTO_TCP;
	b.daddr = 0x0b000000;
	ck_assert(!rules_rule_same_match(&a, &b));
	rules_rule_clear(&a);
	rules_rule_clear(&b);
}
END_TEST

/* The family is part of the match: "0.0.0.0/0" is not "::/0", nor its id. */
START_TEST(rule_family_is_part_of_the_match)
{
	struct rules_rule a, b;
	struct rules_error e;

	ck_assert_int_eq(parse("{\"destination\": \"0.0.0.0/0\", \"action\": \"deny\"}", 1, &a, &e),
			 0);
	ck_assert_int_eq(rules_rule_copy(&b, &a), 0);
	b.family = RULES_FAMILY_IPV6;
	ck_assert(!rules_rule_same_match(&a, &b));
	rules_rule_id_assign(&a, NULL, 0);
	rules_rule_id_assign(&b, NULL, 0);
	ck_assert_str_ne(a.id, b.id);
	b.daddr6[15] = 1;
	b.plen = 128;
	a = b;
	a.desc = NULL;
	a.daddr6[15] = 2;
	ck_assert(!rules_rule_same_match(&a, &b));
	rules_rule_clear(&b);
}
END_TEST

START_TEST(rule_copy)
{
	struct rules_rule a, b;
	struct rules_error e;

	ck_assert_int_eq(parse(TCP("\"443\", \"id\": \"a\", \"description\": \"x\""), 1, &a, &e),
			 0);
	ck_assert_int_eq(rules_rule_copy(&b, &a), 0);
	ck_assert(rules_rule_equal(&a, &b));
	ck_assert_ptr_ne(a.desc, b.desc);
	rules_rule_clear(&a);
	ck_assert_str_eq(b.desc, "x");
	rules_rule_clear(&b);
}
END_TEST

START_TEST(rule_names)
{
	ck_assert_str_eq(rules_proto_name(RULES_PROTO_ANY), "any");
	ck_assert_str_eq(rules_proto_name(RULES_PROTO_TCP), "tcp");
	ck_assert_str_eq(rules_proto_name(RULES_PROTO_UDP), "udp");
	ck_assert_str_eq(rules_proto_name(RULES_PROTO_ICMP), "icmp");
	ck_assert_str_eq(rules_proto_name(RULES_PROTO_MAX), "unknown");
	ck_assert_str_eq(rules_action_name(RULES_ACTION_DENY), "deny");
	ck_assert_str_eq(rules_action_name(RULES_ACTION_ALLOW), "allow");
	ck_assert_str_eq(rules_action_name(RULES_ACTION_MAX), "unknown");
}
END_TEST

struct name_case {
	const char *s;
	bool id_ok;
	bool ifname_ok;
};

static const struct name_case names[] = {
	{"web", true, true},
	{"a", true, true},
	{"A-Z_a.z-09", true, true},
	{"hc1", true, true},
	{"veth1234567890a", true, true},   /* 15 bytes */
	{"veth1234567890ab", true, false}, /* 16 bytes */
	{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true, false},
	{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false, false},
	{"", false, false},
	{".", false, false},
	{"..", false, false},
	{"...", true, true},
	{".hidden", true, true},
	{"a b", false, false},
	{"a/b", false, false},
	{"a:b", false, false},
	{"a\tb", false, false},
	{"eth0\n", false, false},
	{"br@0", false, true},
	{"caf\xc3\xa9", false, false},
	{"a\x7f", false, false},
};

START_TEST(rule_name_validators)
{
	const struct name_case *c = &names[_i];

	ck_assert_msg(rules_id_valid(c->s) == c->id_ok, "rules_id_valid(\"%s\")", c->s);
	ck_assert_msg(rules_ifname_valid(c->s) == c->ifname_ok, "rules_ifname_valid(\"%s\")", c->s);
}
END_TEST

START_TEST(rule_name_validators_null)
{
	ck_assert(!rules_id_valid(NULL));
	ck_assert(!rules_ifname_valid(NULL));
}
END_TEST

static const char *
str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	ck_assert_msg(cJSON_IsString(v), "%s is not a string", key);
	return v->valuestring;
}

START_TEST(rule_render)
{
	struct rules_rule r;
	struct rules_error e;
	cJSON *o;

	ck_assert_int_eq(parse("{\"id\": \"one\", \"destination\": \"203.0.113.10\", "
			       "\"action\": \"deny\"}",
			       1, &r, &e),
			 0);
	o = rules_rule_to_json(&r);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(cJSON_GetArraySize(o), 6);
	ck_assert_str_eq(str_of(o, "id"), "one");
	ck_assert_str_eq(str_of(o, "destination"), "203.0.113.10/32");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "destination_port")));
	ck_assert_str_eq(str_of(o, "protocol"), "any");
	ck_assert_str_eq(str_of(o, "action"), "deny");
	ck_assert_str_eq(str_of(o, "description"), "");
	cJSON_Delete(o);
	rules_rule_clear(&r);

	ck_assert_int_eq(parse(TCP("\"8000-8100,443,80,81\", \"description\": \"d\""), 1, &r, &e),
			 0);
	o = rules_rule_to_json(&r);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(str_of(o, "destination"), "10.0.0.0/8");
	ck_assert_str_eq(str_of(o, "destination_port"), "80-81,443,8000-8100");
	ck_assert_str_eq(str_of(o, "protocol"), "tcp");
	ck_assert_str_eq(str_of(o, "action"), "allow");
	ck_assert_str_eq(str_of(o, "description"), "d");
	cJSON_Delete(o);
	rules_rule_clear(&r);
}
END_TEST

static const char *const round_trips[] = {
	R(""),
	R(", \"id\": \"x\""),
	TCP("\"80,443,8000-8100\", \"id\": \"web\", \"description\": \"caf\\u00e9\""),
	TCP("\"1-65535\""),
	"{\"destination\": \"0.0.0.0/0\", \"action\": \"deny\", \"protocol\": \"icmp\"}",
	"{\"destination\": \"198.51.100.7\", \"action\": \"allow\", \"protocol\": \"udp\", "
	"\"destination_port\": 53, \"description\": \"dns\"}",
	"{\"destination\": \"2001:DB8:0::0010\", \"action\": \"allow\", \"protocol\": \"tcp\", "
	"\"destination_port\": \"443\"}",
	"{\"destination\": \"::/0\", \"action\": \"deny\", \"protocol\": \"icmp\"}",
};

/* An IPv6 rule: stored as bytes, shown in canonical form, its own id. */
START_TEST(rule_ipv6)
{
	static const uint8_t want[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x10};
	struct rules_rule r, v4;
	struct rules_error e;
	cJSON *o;

	ck_assert_int_eq(parse("{\"destination\": \"2001:0DB8::10\", \"protocol\": \"icmp\", "
			       "\"action\": \"allow\"}",
			       1, &r, &e),
			 0);
	ck_assert_uint_eq(r.family, RULES_FAMILY_IPV6);
	ck_assert_mem_eq(r.daddr6, want, 16);
	ck_assert_uint_eq(r.plen, 128);
	ck_assert_uint_eq(r.daddr, 0);
	o = rules_rule_to_json(&r);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "destination")->valuestring, "2001:db8::10/128");
	cJSON_Delete(o);
	ck_assert_int_eq(parse("{\"destination\": \"0.0.0.16/32\", \"protocol\": \"icmp\", "
			       "\"action\": \"allow\"}",
			       2, &v4, &e),
			 0);
	rules_rule_id_assign(&r, NULL, 0);
	rules_rule_id_assign(&v4, NULL, 0);
	ck_assert_str_ne(r.id, v4.id);
	ck_assert(!rules_rule_same_match(&r, &v4));
	rules_rule_clear(&r);
	rules_rule_clear(&v4);
}
END_TEST

START_TEST(rule_round_trip)
{
	struct rules_rule a, b;
	struct rules_error e;
	cJSON *o;

	ck_assert_int_eq(parse(round_trips[_i], 1, &a, &e), 0);
	rules_rule_id_assign(&a, NULL, 0);
	o = rules_rule_to_json(&a);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(rules_rule_parse(o, 1, &b, &e), 0);
	cJSON_Delete(o);
	ck_assert(rules_rule_equal(&a, &b));
	rules_rule_clear(&a);
	rules_rule_clear(&b);
}
END_TEST

static Suite *
rule_suite(void)
{
	Suite *s = suite_create("rule");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, rule_defaults);
	tcase_add_test(tc, rule_full);
	tcase_add_test(tc, rule_integer_port);
	tcase_add_test(tc, rule_nulls);
	tcase_add_loop_test(tc, rule_protocols, 0, sizeof(protos) / sizeof(protos[0]));
	tcase_add_test(tc, rule_limits_accepted);
	tcase_add_loop_test(tc, rule_refuses, 0, sizeof(refused) / sizeof(refused[0]));
	tcase_add_test(tc, rule_description_too_long);
	tcase_add_test(tc, rule_error_names_rule);
	suite_add_tcase(s, tc);

	tc = tcase_create("id");
	tcase_add_test(tc, rule_ref_hash_vectors);
	tcase_add_test(tc, rule_id_is_hash_of_match);
	tcase_add_test(tc, rule_id_golden);
	tcase_add_test(tc, rule_id_deterministic);
	tcase_add_test(tc, rule_id_clash_suffix);
	tcase_add_test(tc, rule_id_skips_self);
	suite_add_tcase(s, tc);

	tc = tcase_create("compare");
	tcase_add_test(tc, rule_same_match_and_equal);
	tcase_add_test(tc, rule_family_is_part_of_the_match);
	tcase_add_test(tc, rule_ipv6);
	tcase_add_test(tc, rule_copy);
	tcase_add_test(tc, rule_names);
	tcase_add_loop_test(tc, rule_name_validators, 0, sizeof(names) / sizeof(names[0]));
	tcase_add_test(tc, rule_name_validators_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("render");
	tcase_add_test(tc, rule_render);
	tcase_add_loop_test(tc, rule_round_trip, 0, sizeof(round_trips) / sizeof(round_trips[0]));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(rule_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
