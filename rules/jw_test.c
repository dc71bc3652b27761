/*
 * The JSON writer: its text parses, puts commas where they belong, and
 * renders a container byte for byte as cJSON does (digests depend on it).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "rules/rules_int.h"

/* Descriptions that need every kind of escape cJSON makes, and none. */
static const char *const descs[] = {
	"",
	"Allow Stripe API",
	"quote \" backslash \\ slash /",
	"tab\tnewline\ncr\rbackspace\bformfeed\f",
	"\x01\x1f control",
	"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92",
};

static void
fill(struct rules_container *c, const char *desc)
{
	static struct rules_rule r[2];
	static char d[64];

	memset(c, 0, sizeof(*c));
	memset(r, 0, sizeof(r));
	strcpy(c->id, "web-1");
	strcpy(c->ifname, "hc1");
	c->policy = RULES_ACTION_DENY;
	strcpy(r[0].id, "r\"1");
	r[0].daddr = 0xcb00710a;
	r[0].plen = 32;
	r[0].proto = RULES_PROTO_TCP;
	r[0].action = RULES_ACTION_ALLOW;
	r[0].nports = 2;
	r[0].ports[0].lo = r[0].ports[0].hi = 443;
	r[0].ports[1].lo = 8000;
	r[0].ports[1].hi = 9000;
	snprintf(d, sizeof(d), "%s", desc);
	r[0].desc = d;
	strcpy(r[1].id, "r2");
	r[1].proto = RULES_PROTO_ANY;
	r[1].action = RULES_ACTION_DENY;
	c->rules = r;
	c->nrules = 2;
}

START_TEST(jw_matches_cjson)
{
	struct rules_container c;
	struct rules_jw w;
	cJSON *o;
	char *want, *got;

	fill(&c, descs[_i]);
	o = rules_container_to_json(&c);
	ck_assert_ptr_nonnull(o);
	want = cJSON_PrintUnformatted(o);
	rules_jw_init(&w);
	rules_jw_open(&w, '{');
	rules_container_write(&w, &c, NULL, NULL);
	rules_jw_close(&w, '}');
	got = rules_jw_take(&w);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, want);
	free(got);
	cJSON_free(want);
	cJSON_Delete(o);
}
END_TEST

static void
counters(struct rules_jw *w, size_t i, const void *data)
{
	(void)data;
	rules_jw_key(w, "packets");
	rules_jw_u64(w, i ? UINT64_MAX : 0);
}

START_TEST(jw_nests_and_separates)
{
	struct rules_container c;
	struct rules_jw w;
	cJSON *o, *r;
	char *got;

	fill(&c, "x");
	rules_jw_init(&w);
	rules_jw_open(&w, '[');
	rules_jw_open(&w, '{');
	rules_jw_key(&w, "ok");
	rules_jw_bool(&w, true);
	rules_jw_key(&w, "c");
	rules_jw_open(&w, '{');
	rules_container_write(&w, &c, counters, NULL);
	rules_jw_close(&w, '}');
	rules_jw_key(&w, "list");
	rules_jw_open(&w, '[');
	rules_jw_u64(&w, 1);
	rules_jw_u64(&w, 2);
	rules_jw_close(&w, ']');
	rules_jw_close(&w, '}');
	rules_jw_str(&w, NULL);
	rules_jw_open(&w, '[');
	rules_jw_close(&w, ']');
	rules_jw_close(&w, ']');
	got = rules_jw_take(&w);
	ck_assert_ptr_nonnull(got);
	o = cJSON_Parse(got);
	ck_assert_msg(o != NULL, "does not parse: %s", got);
	ck_assert_int_eq(cJSON_GetArraySize(o), 3);
	ck_assert(cJSON_IsNull(cJSON_GetArrayItem(o, 1)));
	r = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(o, 0), "c"), "rules");
	ck_assert_int_eq(cJSON_GetArraySize(r), 2);
	/* integers beyond a double's 53 bits are written exactly */
	ck_assert_ptr_nonnull(strstr(got, "\"packets\":18446744073709551615}"));
	ck_assert_ptr_nonnull(strstr(got, "\"packets\":0}"));
	cJSON_Delete(o);
	free(got);
}
END_TEST

START_TEST(jw_empty_and_reset)
{
	struct rules_jw w;
	char *got;

	rules_jw_init(&w);
	got = rules_jw_take(&w);
	ck_assert_str_eq(got, "");
	free(got);
	rules_jw_open(&w, '[');
	rules_jw_u64(&w, 7);
	rules_jw_reset(&w);
	rules_jw_u64(&w, 8);
	got = rules_jw_take(&w);
	ck_assert_str_eq(got, "8");
	free(got);
	rules_jw_free(&w);
}
END_TEST

static Suite *
jw_suite(void)
{
	Suite *s = suite_create("jw");
	TCase *tc = tcase_create("write");

	tcase_add_loop_test(tc, jw_matches_cjson, 0, sizeof(descs) / sizeof(descs[0]));
	tcase_add_test(tc, jw_nests_and_separates);
	tcase_add_test(tc, jw_empty_and_reset);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(jw_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
