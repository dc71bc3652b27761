/*
 * layout.c round trips, without a kernel: compile a container into
 * claims, build the rules, serialise them as netlink messages, parse
 * them back as a dump would, and recognise them. Altered rules must not
 * be recognised.
 */

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "nft/nft_int.h"

#define TABLE "t"
#define CHAIN "c_web"
#define CHAIN6 "c6_web"

static NFT_MSG_ALIGNED char msgbuf[16384];
static struct claim_cache *cache;

static struct nlmsghdr *
serialise(struct nftnl_rule *r)
{
	struct nlmsghdr *nlh;

	ck_assert_ptr_nonnull(r);
	memset(msgbuf, 0, sizeof(msgbuf));
	nlh = nftnl_rule_nlmsg_build_hdr(msgbuf, NFT_MSG_NEWRULE, NFPROTO_INET, 0, 1);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	return nlh;
}

/* Serialise set s (taken) into msgbuf. */
static struct nlmsghdr *
serialise_set(struct nftnl_set *s)
{
	struct nlmsghdr *nlh;

	memset(msgbuf, 0, sizeof(msgbuf));
	nlh = nftnl_set_nlmsg_build_hdr(msgbuf, NFT_MSG_NEWSET, NFPROTO_INET, 0, 1);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	return nlh;
}

/* Serialise r and parse it back, the way a dump hands rules to us. */
static struct nftnl_rule *
round_trip(struct nftnl_rule *r)
{
	struct nftnl_rule *back = nftnl_rule_alloc();

	ck_assert_ptr_nonnull(back);
	ck_assert_int_eq(nftnl_rule_nlmsg_parse(serialise(r), back), 0);
	return back;
}

/* Recognise r as a dump of a chain of family would; got->desc points into msgbuf. */
static int
claim_of6(struct nftnl_rule *r, uint8_t family, struct claim *got)
{
	struct raw_rule raw;

	ck_assert_int_eq(raw_rule_parse(serialise(r), &raw), 0);
	return layout_claim_match(cache, &raw, family, got);
}

static int
claim_of(struct nftnl_rule *r, struct claim *got)
{
	return claim_of6(r, RULES_FAMILY_IPV4, got);
}

static void
cache_setup(void)
{
	cache = layout_claim_cache_new();
	ck_assert_ptr_nonnull(cache);
}

static void
cache_teardown(void)
{
	layout_claim_cache_free(cache);
}

static void
container_from(const char *json, struct rules_container *c)
{
	struct rules_error e;
	cJSON *o = cJSON_Parse(json);

	ck_assert_ptr_nonnull(o);
	ck_assert_msg(rules_container_parse(o, "web", c, &e) == 0, "%s", e.message);
	cJSON_Delete(o);
}

static const char *const containers[] = {
	"{\"interface\": \"hc1\"}",
	"{\"interface\": \"hc1\", \"default_action\": \"allow\"}",
	"{\"interface\": \"hc1\", \"rules\": [{\"id\": \"r1\", \"destination\": "
	"\"203.0.113.10/32\", \"destination_port\": \"443\", \"protocol\": \"tcp\", "
	"\"action\": \"allow\", \"description\": \"Allow Stripe API\"}]}",
	"{\"interface\": \"hc9\", \"rules\": ["
	"{\"destination\": \"10.0.0.0/8\", \"destination_port\": \"80,443,8000-8100\", "
	"\"protocol\": \"tcp\", \"action\": \"allow\"},"
	"{\"destination\": \"10.1.2.3\", \"action\": \"deny\"},"
	"{\"destination\": \"0.0.0.0/0\", \"protocol\": \"icmp\", \"action\": \"allow\"},"
	"{\"destination\": \"192.0.2.0/24\", \"protocol\": \"udp\", \"action\": \"deny\","
	" \"destination_port\": 53}]}",
	/* a rule for everything: no match expressions, like the default */
	"{\"interface\": \"hc1\", \"default_action\": \"allow\", \"rules\": ["
	"{\"destination\": \"0.0.0.0/0\", \"action\": \"deny\"}]}",
	/* rules that expire: the clock test, alone or after the match */
	"{\"interface\": \"hc1\", \"default_action\": \"allow\", \"rules\": ["
	"{\"destination\": \"0.0.0.0/0\", \"action\": \"deny\", "
	"\"expires_at\": \"2027-06-01T12:00:00Z\"},"
	"{\"destination\": \"10.0.0.0/8\", \"destination_port\": \"80,443\", "
	"\"protocol\": \"tcp\", \"action\": \"allow\", \"expires_at\": \"2027-01-01T00:00:00Z\"},"
	"{\"destination\": \"10.0.0.0/8\", \"destination_port\": \"80,443\", "
	"\"protocol\": \"udp\", \"action\": \"allow\"}]}",
};

/* The values alike, byte for byte, and the id and description they point to. */
static void
expect_same_claim(const struct claim *got, const struct claim *want)
{
	struct claim a, b;

	memcpy(&a, got, sizeof(a)); /* both were zeroed before they were filled */
	memcpy(&b, want, sizeof(b));
	a.id = b.id = a.desc = b.desc = NULL;
	ck_assert_mem_eq(&a, &b, sizeof(a));
	if (got->id_len > 0)
		ck_assert_mem_eq(got->id, want->id, got->id_len);
	if (got->desc_len > 0)
		ck_assert_mem_eq(got->desc, want->desc, got->desc_len);
}

/* Every claim of every sample container survives the round trip. */
START_TEST(claims_round_trip)
{
	struct rules_container c;
	struct claim *cl;
	size_t i, n;

	container_from(containers[_i], &c);
	cl = calloc(layout_nclaims(&c), sizeof(*cl));
	ck_assert_ptr_nonnull(cl);
	n = layout_compile(&c, 1000, NULL, cl);
	ck_assert_uint_eq(n, layout_nclaims(&c));
	ck_assert_int_eq(cl[n - 1].kind, CLAIM_DEFAULT);
	ck_assert_uint_eq(cl[n - 1].tag, 1000 + c.nrules);
	for (i = 0; i < n; i++) {
		struct claim got;

		ck_assert_int_eq(claim_of(layout_claim_rule(TABLE, CHAIN, &cl[i]), &got), 0);
		expect_same_claim(&got, &cl[i]);
	}
	free(cl);
	rules_container_clear(&c);
}
END_TEST

/* Deny claims stop at the last deny tag, allow claims at the last rule. */
START_TEST(claims_give_deny_precedence)
{
	struct rules_container c;
	struct claim cl[16];
	size_t i, n;

	container_from(containers[3], &c);
	ck_assert_uint_le(layout_nclaims(&c), 16);
	n = layout_compile(&c, 50, NULL, cl);
	for (i = 0; i + 1 < n; i++) {
		const struct rules_rule *r = &c.rules[cl[i].tag - 50];

		ck_assert_uint_eq(cl[i].range_lo, 50);
		if (r->action == RULES_ACTION_DENY)
			ck_assert_uint_eq(cl[i].range_hi, 50 + 2 - 1); /* two deny rules */
		else
			ck_assert_uint_eq(cl[i].range_hi, 50 + c.nrules - 1);
	}
	/* a port list becomes one claim per item, with one tag */
	ck_assert_uint_eq(n, 3 + 1 + 1 + 1 + 1);
	rules_container_clear(&c);
}
END_TEST

/* Descriptions split between rule and element userdata, within limits. */
START_TEST(description_split_fits)
{
	char id[RULES_ID_MAX + 1];
	size_t head;

	memset(id, 'a', RULES_ID_MAX);
	id[RULES_ID_MAX] = '\0';
	head = layout_desc_head_len(id, RULES_DESC_MAX);
	ck_assert_uint_le(2 + strlen(id) + 2 + head, LAYOUT_RULE_UDATA_MAX);
	ck_assert_uint_le(2 + RULES_DESC_MAX - head, LAYOUT_ELEM_UDATA_MAX);
	ck_assert_uint_eq(layout_desc_head_len("r1", 10), 10);
}
END_TEST

struct mutation {
	const char *name;
	uint16_t attr;
	uint32_t value;
};

/* Change one attribute of one expression: the rule is no longer ours. */
static const struct mutation mutations[] = {
	{"payload", NFTNL_EXPR_PAYLOAD_OFFSET, 12}, /* saddr instead of daddr */
	{"cmp", NFTNL_EXPR_CMP_OP, NFT_CMP_NEQ},
	{"range", NFTNL_EXPR_RANGE_OP, NFT_RANGE_EQ},
	{"hash", NFTNL_EXPR_HASH_MODULUS, 2},
	{"ct", NFTNL_EXPR_CT_DIR, 1},
	{"bitwise", NFTNL_EXPR_BITWISE_OP, NFT_BITWISE_LSHIFT},
	{"byteorder", NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_NTOH},
};

struct mutate {
	const struct mutation *m;
	bool done;
};

static int
mutate_cb(struct nftnl_expr *e, void *data)
{
	struct mutate *mu = data;

	if (!mu->done && strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), mu->m->name) == 0) {
		nftnl_expr_set_u32(e, mu->m->attr, mu->m->value);
		mu->done = true;
	}
	return 0;
}

START_TEST(altered_claims_refused)
{
	struct rules_container c;
	struct claim cl[16], got;
	struct mutate mu = {.m = &mutations[_i]};
	size_t i, n;

	container_from(containers[3], &c);
	n = layout_compile(&c, 7, NULL, cl);
	for (i = 0; i < n && !mu.done; i++) {
		struct nftnl_rule *r = layout_claim_rule(TABLE, CHAIN, &cl[i]);
		int got_r;

		nftnl_expr_foreach(r, mutate_cb, &mu);
		got_r = claim_of(r, &got);
		if (mu.done)
			ck_assert_msg(got_r == -EBADMSG, "a claim with %s altered was accepted",
				      mu.m->name);
	}
	ck_assert_msg(mu.done, "no %s expression to alter", mutations[_i].name);
	rules_container_clear(&c);
}
END_TEST

/* A claim with an extra expression appended is not ours either. */
START_TEST(extended_claim_refused)
{
	struct claim cl[4], got;
	struct rules_container c;
	struct nftnl_rule *r;
	struct nftnl_expr *e;

	container_from(containers[2], &c);
	layout_compile(&c, 1, NULL, cl);
	r = layout_claim_rule(TABLE, CHAIN, &cl[0]);
	e = nftnl_expr_alloc("immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
	nftnl_rule_add_expr(r, e);
	ck_assert_int_eq(claim_of(r, &got), -EBADMSG);
	rules_container_clear(&c);
}
END_TEST

static int
mask_cb(struct nftnl_expr *e, void *data)
{
	uint8_t holes[LAYOUT_SPAN4_LEN] = {0xff};
	uint32_t len = 0;

	/* in a span, the holes are in the destination's part */
	holes[LAYOUT_SPAN4_DADDR] = holes[LAYOUT_SPAN4_DADDR + 2] = 0xff;
	if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "bitwise") == 0) {
		nftnl_expr_get(e, NFTNL_EXPR_BITWISE_MASK, &len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK,
			       len == sizeof(holes) ? holes : holes + LAYOUT_SPAN4_DADDR, len);
	}
	*(int *)data = 1;
	return 0;
}

/* A value slot with a value no rule could have: a mask with holes. */
START_TEST(non_prefix_mask_refused)
{
	struct claim cl[8], got;
	struct rules_container c;
	struct nftnl_rule *r;
	int seen = 0;

	container_from(containers[3], &c);
	layout_compile(&c, 1, NULL, cl);
	ck_assert_uint_eq(cl[0].plen, 32); /* the deny of 10.1.2.3 comes first */
	r = layout_claim_rule(TABLE, CHAIN, &cl[3]);
	ck_assert_uint_eq(cl[3].plen, 8);
	ck_assert_int_eq(claim_of(layout_claim_rule(TABLE, CHAIN, &cl[3]), &got), 0);
	nftnl_expr_foreach(r, mask_cb, &seen);
	ck_assert_int_eq(claim_of(r, &got), -EBADMSG);
	rules_container_clear(&c);
}
END_TEST

/*
 * An IPv4 claim with an address and a protocol loads both at once (see
 * LAYOUT_SPAN4_OFF); what lies between them must stay masked out and
 * zero, whether the claim is parsed or recognised by its bytes.
 */
struct span_edit {
	int variant;
	bool done;
};

static int
span_cb(struct nftnl_expr *e, void *data)
{
	struct span_edit *ed = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	uint16_t attr = strcmp(name, "bitwise") == 0 ? NFTNL_EXPR_BITWISE_MASK
			: strcmp(name, "cmp") == 0   ? NFTNL_EXPR_CMP_DATA
						     : 0;
	uint8_t v[LAYOUT_SPAN4_LEN];
	uint32_t len = 0;
	const void *p;

	if (attr == 0 || ed->done)
		return 0;
	p = nftnl_expr_get(e, attr, &len);
	if (len != sizeof(v) || (ed->variant == 1) != (attr == NFTNL_EXPR_CMP_DATA))
		return 0;
	memcpy(v, p, sizeof(v));
	if (ed->variant == 2)
		v[0] = 0x0f; /* part of the protocol only */
	else
		v[3] ^= 0x40; /* a byte of the source address */
	nftnl_expr_set(e, attr, v, sizeof(v));
	ed->done = true;
	return 0;
}

START_TEST(span_gaps_refused)
{
	struct span_edit ed = {.variant = _i % 3};
	struct claim cl[8], got;
	struct rules_container c;
	struct nftnl_rule *r;

	container_from(containers[3], &c);
	layout_compile(&c, 1, NULL, cl);
	ck_assert_uint_eq(cl[3].plen, 8);
	ck_assert_uint_eq(cl[3].proto, RULES_PROTO_TCP);
	/* the second time round, an intact claim of the shape was seen first */
	if (_i >= 3)
		ck_assert_int_eq(claim_of(layout_claim_rule(TABLE, CHAIN, &cl[4]), &got), 0);
	r = layout_claim_rule(TABLE, CHAIN, &cl[3]);
	nftnl_expr_foreach(r, span_cb, &ed);
	ck_assert(ed.done);
	ck_assert_int_eq(claim_of(r, &got), -EBADMSG);
	rules_container_clear(&c);
}
END_TEST

/*
 * IPv6: a container whose rules are given by hand, each with the 16
 * bytes of its network in hex; they go to the chain c6_<id>.
 */
struct rule6 {
	const char *hex;
	uint8_t plen;
	uint8_t proto;
	uint8_t action;
	const char *ports; /* NULL: every port */
};

static const struct rule6 rules6[] = {
	{"20010db8000000000000000000000010", 128, RULES_PROTO_TCP, RULES_ACTION_ALLOW, "443"},
	{"20010db8000000000000000000000000", 32, RULES_PROTO_ANY, RULES_ACTION_DENY, NULL},
	{"20010db8000100000000000000000000", 48, RULES_PROTO_UDP, RULES_ACTION_ALLOW,
	 "53,5000-6000"},
	{"20010db8000000000000000000000000", 29, RULES_PROTO_ICMP, RULES_ACTION_ALLOW, NULL},
	{"00000000000000000000000000000000", 0, RULES_PROTO_ANY, RULES_ACTION_ALLOW, NULL},
	{"fe800000000000000000000000000000", 10, RULES_PROTO_TCP, RULES_ACTION_DENY, "22"},
};

/* An IPv4 container with the rules above added; canonical order: denies first. */
static void
container6(struct rules_container *c)
{
	struct rules_container v4;
	struct rules_rule *all;
	size_t i, j, n = 0;

	container_from(containers[3], &v4);
	all = calloc(v4.nrules + sizeof(rules6) / sizeof(rules6[0]), sizeof(*all));
	ck_assert_ptr_nonnull(all);
	for (j = 0; j < 2; j++) {
		uint8_t action = j == 0 ? RULES_ACTION_DENY : RULES_ACTION_ALLOW;

		for (i = 0; i < v4.nrules; i++)
			if (v4.rules[i].action == action)
				all[n++] = v4.rules[i];
		for (i = 0; i < sizeof(rules6) / sizeof(rules6[0]); i++) {
			const struct rule6 *x = &rules6[i];
			struct rules_rule *r = &all[n];
			unsigned k;

			if (x->action != action)
				continue;
			r->family = RULES_FAMILY_IPV6;
			for (k = 0; k < 16; k++)
				sscanf(x->hex + 2 * k, "%2hhx", &r->daddr6[k]);
			r->plen = x->plen;
			r->proto = x->proto;
			r->action = x->action;
			if (x->ports != NULL) {
				char *end;
				const char *p = x->ports;

				while (*p != '\0') {
					r->ports[r->nports].lo = (uint16_t)strtoul(p, &end, 10);
					r->ports[r->nports].hi = r->ports[r->nports].lo;
					if (*end == '-')
						r->ports[r->nports].hi =
							(uint16_t)strtoul(end + 1, &end, 10);
					r->nports++;
					p = *end == ',' ? end + 1 : end;
				}
			}
			snprintf(r->id, sizeof(r->id), "v6-%zu", i);
			n++;
		}
	}
	free(v4.rules);
	*c = v4;
	c->rules = all;
	c->nrules = n;
}

/*
 * Rules by name: each item once per family, each claim round-trips in
 * its family's chain (the second time by the learned bytes), and a
 * claim naming a set of the other family, or none, is refused.
 */
START_TEST(claims_by_name_round_trip)
{
	static const char json[] =
		"{\"interface\": \"hc1\", \"rules\": ["
		"{\"id\": \"gh\", \"destination\": \"*.github.com\", \"action\": \"deny\"},"
		"{\"id\": \"s\", \"destination\": \"api.stripe.com\", \"protocol\": \"tcp\", "
		"\"destination_port\": \"443,8443-8444\", \"action\": \"allow\", "
		"\"description\": \"Stripe\"},"
		"{\"destination\": \"10.0.0.0/8\", \"action\": \"allow\"},"
		"{\"id\": \"t\", \"destination\": \"time.example\", \"protocol\": \"udp\", "
		"\"destination_port\": 123, \"action\": \"allow\", "
		"\"expires_at\": \"2027-01-01T00:00:00Z\"}]}";
	const uint32_t ids[] = {layout_name_id(7, 2), layout_name_id(7, 1), 0,
				layout_name_id(7, 9)};
	struct rules_container c;
	struct claim cl[32], got;
	size_t i, n, n6 = 0;
	int pass;

	container_from(json, &c);
	ck_assert(layout_has_ipv6(&c));
	n = layout_nclaims(&c);
	ck_assert_uint_eq(n, 2 + 4 + 1 + 2 + 1);
	ck_assert_uint_eq(layout_compile(&c, 500, ids, cl), n);
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i + 1 < n; i++) {
			uint8_t f = cl[i].family;

			n6 += pass == 0 && f == RULES_FAMILY_IPV6;
			ck_assert_msg(
				claim_of6(layout_claim_rule(TABLE, f ? CHAIN6 : CHAIN, &cl[i]), f,
					  &got) == 0,
				"claim %zu (pass %d) not recognised", i, pass);
			expect_same_claim(&got, &cl[i]);
			if (cl[i].name_id != 0)
				ck_assert_int_eq(claim_of6(layout_claim_rule(TABLE, CHAIN, &cl[i]),
							   !f, &got),
						 -EBADMSG);
		}
	ck_assert_uint_eq(n6, 1 + 2 + 1);
	/* the IPv4 items of a rule come before its IPv6 ones, with the same tag */
	ck_assert_uint_eq(cl[2].family, RULES_FAMILY_IPV4);
	ck_assert_uint_eq(cl[4].family, RULES_FAMILY_IPV6);
	ck_assert_uint_eq(cl[2].tag, cl[5].tag);
	ck_assert_uint_eq(cl[2].port_lo, cl[4].port_lo);
	ck_assert_uint_eq(cl[5].port_hi, 8444);
	ck_assert_uint_eq(cl[2].name_id, layout_name_id(7, 1));
	ck_assert_uint_eq(cl[6].name_id, 0);
	rules_container_clear(&c);
}
END_TEST

/* The sets of a rule by name: named by family and id, and read back with the name. */
START_TEST(dsets_recognised)
{
	char name[LAYOUT_DSET_NAME_MAX], dname[RULES_DNAME_MAX + 1];
	struct nftnl_set *s, *back;
	uint32_t id;
	uint8_t f;

	layout_dset_name(RULES_FAMILY_IPV6, layout_name_id(0x7fff, 0xffff), name);
	ck_assert_str_eq(name, "d6_7fffffff");
	ck_assert(layout_dset_parse(name, &f, &id));
	ck_assert_uint_eq(f, RULES_FAMILY_IPV6);
	ck_assert_uint_eq(id, 0x7fffffff);
	ck_assert(!layout_dset_parse("d4_0001000A", &f, &id));
	ck_assert(!layout_dset_parse("d4_00010000", &f, &id));
	ck_assert(!layout_dset_parse("d4_00000001", &f, &id));
	ck_assert(!layout_dset_parse("d5_00010001", &f, &id));
	ck_assert(!layout_dset_parse("d4_000100011", &f, &id));
	for (f = 0; f < RULES_FAMILY_MAX; f++) {
		s = layout_dset(TABLE, f, layout_name_id(3, 4), "*.github.com");
		ck_assert_ptr_nonnull(s);
		back = nftnl_set_alloc();
		ck_assert_ptr_nonnull(back);
		ck_assert_int_eq(nftnl_set_nlmsg_parse(serialise_set(s), back), 0);
		ck_assert_int_eq(layout_dset_check(back, f, dname), 0);
		ck_assert_str_eq(dname, "*.github.com");
		ck_assert_int_eq(layout_dset_check(back, !f, dname), -EBADMSG);
		nftnl_set_set_u32(back, NFTNL_SET_FLAGS, 0);
		ck_assert_int_eq(layout_dset_check(back, f, dname), -EBADMSG);
		nftnl_set_free(back);
	}
}
END_TEST

/* A container of both families: each claim round-trips in its family's chain. */
START_TEST(claims6_round_trip)
{
	struct rules_container c;
	struct claim cl[32];
	size_t i, n, n6 = 0;

	container6(&c);
	ck_assert(layout_has_ipv6(&c));
	ck_assert_uint_le(layout_nclaims(&c), 32);
	n = layout_compile(&c, 4000, NULL, cl);
	for (i = 0; i < n; i++) {
		uint8_t f = cl[i].family;
		struct claim got;

		n6 += f == RULES_FAMILY_IPV6;
		ck_assert_int_eq(
			claim_of6(layout_claim_rule(TABLE, f ? CHAIN6 : CHAIN, &cl[i]), f, &got),
			0);
		expect_same_claim(&got, &cl[i]);
		/* and never in the other family's chain */
		if (cl[i].kind == CLAIM_MATCH && (cl[i].plen > 0 || cl[i].proto != RULES_PROTO_ANY))
			ck_assert_int_eq(
				claim_of6(layout_claim_rule(TABLE, CHAIN, &cl[i]), !f, &got),
				-EBADMSG);
	}
	ck_assert_uint_eq(n6, 7); /* one claim per port item: 443; all; 53, 5000-6000; ... */
	ck_assert_int_eq(cl[n - 1].kind, CLAIM_DEFAULT);
	ck_assert_uint_eq(cl[n - 1].family, RULES_FAMILY_IPV4);
	rules_container_clear(&c);
}
END_TEST

/* Every IPv6 prefix length: as many bytes as it needs, masked inside a byte. */
START_TEST(claims6_every_prefix)
{
	struct claim cl, got;
	uint8_t mask[16];
	unsigned k;

	memset(&cl, 0, sizeof(cl));
	cl.kind = CLAIM_MATCH;
	cl.family = RULES_FAMILY_IPV6;
	cl.plen = (uint8_t)_i;
	cl.proto = RULES_PROTO_TCP;
	cl.range_lo = 10;
	cl.range_hi = 20;
	cl.tag = 12;
	cl.id = "p";
	cl.id_len = 1;
	layout_prefix_mask6(cl.plen, mask);
	for (k = 0; k < 16; k++)
		cl.daddr6[k] = (uint8_t)(0xa5 ^ k) & mask[k];
	ck_assert_int_eq(claim_of6(layout_claim_rule(TABLE, CHAIN6, &cl), RULES_FAMILY_IPV6, &got),
			 0);
	expect_same_claim(&got, &cl);
	/* a second claim of the shape is recognised by its bytes */
	cl.tag = 13;
	cl.daddr6[0] ^= 0x80 & mask[0];
	ck_assert_int_eq(claim_of6(layout_claim_rule(TABLE, CHAIN6, &cl), RULES_FAMILY_IPV6, &got),
			 0);
	expect_same_claim(&got, &cl);
}
END_TEST

/* Change one attribute of an IPv6 claim: the rule is no longer ours. */
static const struct mutation mutations6[] = {
	{"payload", NFTNL_EXPR_PAYLOAD_OFFSET, 8}, /* saddr instead of daddr */
	{"payload", NFTNL_EXPR_PAYLOAD_LEN, 16},
	{"ct", NFTNL_EXPR_CT_KEY, NFT_CT_L3PROTOCOL},
	{"cmp", NFTNL_EXPR_CMP_OP, NFT_CMP_NEQ},
	{"bitwise", NFTNL_EXPR_BITWISE_OP, NFT_BITWISE_LSHIFT},
};

/* An ICMPv6 claim for 2001:db8::/29: a prefix that ends inside a byte. */
static void
claim6_29(struct claim *cl)
{
	static const uint8_t net[16] = {0x20, 0x01, 0x0d, 0xb8};

	memset(cl, 0, sizeof(*cl));
	cl->kind = CLAIM_MATCH;
	cl->family = RULES_FAMILY_IPV6;
	cl->plen = 29;
	memcpy(cl->daddr6, net, sizeof(net));
	cl->proto = RULES_PROTO_ICMP;
	cl->range_hi = 3;
	cl->tag = 1;
	cl->id = "x";
	cl->id_len = 1;
}

START_TEST(altered_claims6_refused)
{
	struct claim cl, got;
	struct mutate mu = {.m = &mutations6[_i]};
	struct nftnl_rule *r;

	claim6_29(&cl);
	r = layout_claim_rule(TABLE, CHAIN6, &cl);
	nftnl_expr_foreach(r, mutate_cb, &mu);
	ck_assert(mu.done);
	ck_assert_int_eq(claim_of6(r, RULES_FAMILY_IPV6, &got), -EBADMSG);
}
END_TEST

static int
mask6_cb(struct nftnl_expr *e, void *data)
{
	const uint8_t *m = data;

	if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "bitwise") == 0)
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, m, 4);
	return 0;
}

/* Masks no prefix gives, and host bits under the mask, are refused. */
START_TEST(bad_masks6_refused)
{
	static const uint8_t masks[][4] = {
		{0xff, 0xff, 0xff, 0xff}, /* a whole byte is never masked */
		{0xff, 0xff, 0xff, 0x00},
		{0xff, 0xfe, 0xff, 0xf8}, /* a hole */
		{0xff, 0xff, 0xff, 0x0f}, /* not from the top */
	};
	struct claim cl, got;
	struct nftnl_rule *r;
	size_t i;

	claim6_29(&cl);
	for (i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		uint8_t m[4];

		memcpy(m, masks[i], sizeof(m));
		r = layout_claim_rule(TABLE, CHAIN6, &cl);
		nftnl_expr_foreach(r, mask6_cb, m);
		ck_assert_int_eq(claim_of6(r, RULES_FAMILY_IPV6, &got), -EBADMSG);
	}
	cl.daddr6[3] = 0xb9; /* a host bit past /29 */
	ck_assert_int_eq(claim_of6(layout_claim_rule(TABLE, CHAIN6, &cl), RULES_FAMILY_IPV6, &got),
			 -EBADMSG);
}
END_TEST

/* The options the base chain can be built with. */
static const struct nft_options base_options[] = {
	{.nifprefix = 0},
	{.ifprefix = {"hc", "veth"}, .nifprefix = 2},
	{.log_rate = 10, .log_group = 7},
	{.ifprefix = {"x"}, .nifprefix = 1, .log_rate = 1, .log_group = 65535},
	{.dns_port = 5353},
	{.ifprefix = {"hc"}, .nifprefix = 1, .log_rate = 10, .log_group = 7, .dns_port = 1},
};
#define NBASE_OPTIONS (sizeof(base_options) / sizeof(base_options[0]))

/* Base rules recognise themselves and only themselves, and rule 0 says
 * which options made them. */
START_TEST(base_rules_recognised)
{
	const struct nft_options *o = &base_options[_i];
	unsigned int i, j, n = layout_base_nrules(o), deny = 5 + o->nifprefix + (o->dns_port != 0);
	struct nft_options got;

	for (i = 0; i < n; i++) {
		struct nftnl_rule *r = round_trip(layout_base_rule(TABLE, o, i));

		for (j = 0; j < n; j++) {
			/* the two cached-deny checks are the same rule */
			bool same = i == j || (i == deny && j == deny + 7) ||
				    (i == deny + 7 && j == deny);

			ck_assert_msg(layout_base_rule_check(r, TABLE, o, j) ==
					      (same ? 0 : -EBADMSG),
				      "base rule %u checked as %u", i, j);
		}
		if (i == 0) {
			ck_assert_int_eq(layout_base_options(r, &got), 0);
			ck_assert(nft_options_equal(&got, o));
			/* other options: rule 0 alone already tells */
			ck_assert(
				!nft_options_equal(&got, &base_options[(_i + 1) % NBASE_OPTIONS]));
		}
		nftnl_rule_free(r);
	}
	ck_assert_ptr_null(layout_base_rule(TABLE, o, n));
}
END_TEST

/* The resolver's redirects recognise themselves, and the port they name. */
START_TEST(dns_rules_recognised)
{
	struct nft_options o = {.dns_port = 5353}, other = {.dns_port = 5354};
	unsigned int i, j;

	for (i = 0; i < LAYOUT_DNS_NRULES; i++) {
		struct nftnl_rule *r = round_trip(layout_dns_rule(TABLE, &o, i));

		for (j = 0; j < LAYOUT_DNS_NRULES; j++)
			ck_assert_int_eq(layout_rule_check(r, layout_dns_rule(TABLE, &o, j)),
					 i == j ? 0 : -EBADMSG);
		/* rules 3 and 4 record TCP peers from a bridge, and redirect nothing */
		ck_assert_int_eq(layout_rule_check(r, layout_dns_rule(TABLE, &other, i)),
				 i == 3 || i == 4 ? 0 : -EBADMSG);
		nftnl_rule_free(r);
	}
	ck_assert_ptr_null(layout_dns_rule(TABLE, &o, LAYOUT_DNS_NRULES));
}
END_TEST

/* The maps of TCP peers parse back as themselves, not as each other. */
START_TEST(peers_sets_recognised)
{
	struct nftnl_set *s = layout_peers_set(TABLE, _i), *back = nftnl_set_alloc();

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(nftnl_set_nlmsg_parse(serialise_set(s), back), 0);
	ck_assert_int_eq(layout_peers_set_check(back, _i), 0);
	ck_assert_int_eq(layout_peers_set_check(back, !_i), -EBADMSG);
	nftnl_set_free(back);
}
END_TEST

/*
 * The bridged path's fixed rules recognise themselves and only
 * themselves; a bridged container's chain b_<id> is recognised only
 * for its own interface, which its rules name.
 */
START_TEST(bridged_rules_recognised)
{
	const struct nft_options *o = &base_options[_i];
	unsigned int w, i, j, n, same_if = 0, other_if = 0;

	for (w = 0; w < LAYOUT_BR_MAX; w++) {
		n = layout_bchain_nrules(o, w);
		for (i = 0; i < n; i++) {
			struct nftnl_rule *r = round_trip(layout_bchain_rule(TABLE, o, w, i));

			for (j = 0; j < n; j++)
				ck_assert_msg(
					layout_rule_check(r, layout_bchain_rule(TABLE, o, w, j)) ==
						(i == j ? 0 : -EBADMSG),
					"bridge chain %u rule %u checked as %u", w, i, j);
			nftnl_rule_free(r);
		}
		ck_assert_ptr_null(layout_bchain_rule(TABLE, o, w, n));
	}
	for (i = 0; i < LAYOUT_BRIDGED_NRULES; i++) {
		struct nftnl_rule *r = round_trip(layout_bridged_rule(TABLE, i));

		for (j = 0; j < LAYOUT_BRIDGED_NRULES; j++)
			ck_assert_int_eq(layout_rule_check(r, layout_bridged_rule(TABLE, j)),
					 i == j ? 0 : -EBADMSG);
		nftnl_rule_free(r);
	}
	for (i = 0; i < layout_bport_nrules(o); i++) {
		struct nftnl_rule *r = round_trip(layout_bport_rule(TABLE, o, "b_web", "hv1", i));

		same_if +=
			layout_rule_check(r, layout_bport_rule(TABLE, o, "b_web", "hv1", i)) == 0;
		other_if +=
			layout_rule_check(r, layout_bport_rule(TABLE, o, "b_web", "hv2", i)) == 0;
		nftnl_rule_free(r);
	}
	ck_assert_uint_eq(same_if, layout_bport_nrules(o));
	/* only the rules without the interface: neighbour discovery, the
	 * expected connections and the last drop */
	ck_assert_uint_eq(other_if, 3);
}
END_TEST

/* Sets parse back with the shape we check for. */
START_TEST(sets_recognised)
{
	struct nftnl_set *s = layout_set(TABLE, _i), *back = nftnl_set_alloc();

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(nftnl_set_nlmsg_parse(serialise_set(s), back), 0);
	/* the kernel reports a verdict map's data length; we do not send it */
	if (_i == LAYOUT_SET_DISPATCH || _i == LAYOUT_SET_DISPATCH6 || _i == LAYOUT_SET_BPORTS)
		nftnl_set_set_u32(back, NFTNL_SET_DATA_LEN, 16);
	ck_assert_int_eq(layout_set_check(back, TABLE, _i), 0);
	/* allow and deny share a shape: compare with a set two along */
	ck_assert_int_eq(layout_set_check(back, TABLE, (_i + 2) % LAYOUT_SET_MAX), -EBADMSG);
	nftnl_set_free(back);
}
END_TEST

START_TEST(chain_names)
{
	char buf[LAYOUT_CHAIN_NAME_MAX + 1];

	layout_chain_name("web-1.a_b", buf);
	ck_assert_str_eq(buf, "c_web-1.a_b");
	ck_assert_str_eq(layout_chain_container(buf), "web-1.a_b");
	ck_assert_ptr_null(layout_chain_container("pre"));
	ck_assert_ptr_null(layout_chain_container("c_"));
	ck_assert_ptr_null(layout_chain_container("c_.."));
	ck_assert_ptr_null(layout_chain_container("c_a/b"));
	ck_assert_uint_eq(layout_chain_family(buf), RULES_FAMILY_IPV4);
	layout_chain6_name("web-1.a_b", buf);
	ck_assert_str_eq(buf, "c6_web-1.a_b");
	ck_assert_str_eq(layout_chain_container(buf), "web-1.a_b");
	ck_assert_uint_eq(layout_chain_family(buf), RULES_FAMILY_IPV6);
	ck_assert_ptr_null(layout_chain_container("c6_"));
	ck_assert_str_eq(layout_chain_container("c_6_x"), "6_x"); /* an id may start with 6_ */
	ck_assert_uint_eq(layout_chain_family("c_6_x"), RULES_FAMILY_IPV4);
}
END_TEST

static Suite *
layout_suite(void)
{
	Suite *s = suite_create("layout");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, cache_setup, cache_teardown);
	tcase_add_loop_test(tc, claims_round_trip, 0, sizeof(containers) / sizeof(containers[0]));
	tcase_add_test(tc, claims_give_deny_precedence);
	tcase_add_test(tc, description_split_fits);
	tcase_add_loop_test(tc, altered_claims_refused, 0,
			    sizeof(mutations) / sizeof(mutations[0]));
	tcase_add_test(tc, extended_claim_refused);
	tcase_add_test(tc, non_prefix_mask_refused);
	tcase_add_loop_test(tc, span_gaps_refused, 0, 6);
	tcase_add_test(tc, claims6_round_trip);
	tcase_add_test(tc, claims_by_name_round_trip);
	tcase_add_test(tc, dsets_recognised);
	tcase_add_loop_test(tc, claims6_every_prefix, 0, 129);
	tcase_add_loop_test(tc, altered_claims6_refused, 0,
			    sizeof(mutations6) / sizeof(mutations6[0]));
	tcase_add_test(tc, bad_masks6_refused);
	tcase_add_loop_test(tc, base_rules_recognised, 0, NBASE_OPTIONS);
	tcase_add_test(tc, dns_rules_recognised);
	tcase_add_loop_test(tc, peers_sets_recognised, 0, 2);
	tcase_add_loop_test(tc, sets_recognised, 0, LAYOUT_SET_MAX);
	tcase_add_loop_test(tc, bridged_rules_recognised, 0, NBASE_OPTIONS);
	tcase_add_test(tc, chain_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(layout_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
