/*
 * The resolver's messages and policy, with packets built by ldns as a
 * client and an upstream server would send them.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cjson/cJSON.h>
#include <ldns/ldns.h>

#include "resolver/resolver.h"

static const struct resolver_ttl TTL = {30, 3600};

/* A packet from its text form (ldns's presentation of a whole message). */
static void
wire_of(ldns_pkt *p, uint8_t **w, size_t *n)
{
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(ldns_pkt2wire(w, p, n), LDNS_STATUS_OK);
	ldns_pkt_free(p);
}

static ldns_pkt *
query_pkt(const char *name, ldns_rr_type type, uint16_t id)
{
	ldns_rdf *d = NULL;
	ldns_pkt *p;

	ck_assert_int_eq(ldns_str2rdf_dname(&d, name), LDNS_STATUS_OK);
	p = ldns_pkt_query_new(d, type, LDNS_RR_CLASS_IN, LDNS_RD);
	ck_assert_ptr_nonnull(p);
	ldns_pkt_set_id(p, id);
	return p;
}

static void
push(ldns_pkt *p, ldns_pkt_section s, const char *rr_text)
{
	ldns_rr *rr = NULL;

	ck_assert_msg(ldns_rr_new_frm_str(&rr, rr_text, 0, NULL, NULL) == LDNS_STATUS_OK, "%s",
		      rr_text);
	ck_assert(ldns_pkt_push_rr(p, s, rr));
}

/* An upstream answer to our query for name/type with id: the records in an[]. */
static ldns_pkt *
answer_pkt(const char *name, ldns_rr_type type, uint16_t id, const char *const *an)
{
	ldns_pkt *p = query_pkt(name, type, id);

	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_ra(p, true);
	while (an != NULL && *an != NULL)
		push(p, LDNS_SECTION_ANSWER, *an++);
	return p;
}

static ldns_pkt *
parse(const uint8_t *w, size_t n)
{
	ldns_pkt *p = NULL;

	ck_assert_int_eq(ldns_wire2pkt(&p, w, n), LDNS_STATUS_OK);
	return p;
}

START_TEST(query_read)
{
	struct resolver_query q;
	ldns_pkt *p = query_pkt("ExAmple.COM.", LDNS_RR_TYPE_AAAA, 0x1234);
	uint8_t *w;
	size_t n;
	int rcode;

	ldns_pkt_set_edns_udp_size(p, 4096);
	wire_of(p, &w, &n);
	ck_assert_int_eq(resolver_query_parse(w, n, &q, &rcode), 0);
	ck_assert_str_eq(q.name, "example.com");
	ck_assert_uint_eq(q.qtype, RESOLVER_TYPE_AAAA);
	ck_assert_uint_eq(q.id, 0x1234);
	ck_assert(q.rd);
	ck_assert_uint_eq(q.udp_size, 4096);
	free(w);
}
END_TEST

START_TEST(query_refused)
{
	struct resolver_query q;
	ldns_pkt *p;
	/* a header with one question, and a label longer than what follows */
	uint8_t *w, junk[40] = {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, [12] = 63};
	size_t n;
	int rcode;

	/* no DNS query: dropped */
	ck_assert_int_eq(resolver_query_parse(junk, 11, &q, &rcode), -EBADMSG);
	wire_of(answer_pkt("example.com.", LDNS_RR_TYPE_A, 1, NULL), &w, &n);
	ck_assert_int_eq(resolver_query_parse(w, n, &q, &rcode), -EBADMSG);
	free(w);
	ck_assert_int_eq(resolver_query_parse(junk, sizeof(junk), &q, &rcode), -EPROTO);
	ck_assert_int_eq(rcode, RESOLVER_RCODE_FORMERR);
	p = query_pkt("example.com.", LDNS_RR_TYPE_A, 2);
	ldns_pkt_set_opcode(p, LDNS_PACKET_NOTIFY);
	wire_of(p, &w, &n);
	ck_assert_int_eq(resolver_query_parse(w, n, &q, &rcode), -EPROTO);
	ck_assert_int_eq(rcode, RESOLVER_RCODE_NOTIMP);
	free(w);
	p = query_pkt("example.com.", LDNS_RR_TYPE_A, 3);
	{
		ldns_rr *rr = NULL;

		ck_assert_int_eq(ldns_rr_new_question_frm_str(&rr, "example.org. IN A", NULL, NULL),
				 LDNS_STATUS_OK);
		ck_assert(ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, rr));
	}
	wire_of(p, &w, &n);
	ck_assert_int_eq(resolver_query_parse(w, n, &q, &rcode), -EPROTO);
	ck_assert_int_eq(rcode, RESOLVER_RCODE_REFUSED);
	free(w);
	/* an answer smuggled in a query */
	p = query_pkt("example.com.", LDNS_RR_TYPE_A, 4);
	push(p, LDNS_SECTION_ANSWER, "x.example.com. 1 IN TXT \"secret\"");
	wire_of(p, &w, &n);
	ck_assert_int_eq(resolver_query_parse(w, n, &q, &rcode), -EPROTO);
	ck_assert_int_eq(rcode, RESOLVER_RCODE_REFUSED);
	free(w);
}
END_TEST

START_TEST(reply_made_here)
{
	ldns_pkt *p = query_pkt("Secret.Attacker.EXAMPLE.", LDNS_RR_TYPE_TXT, 0xbeef), *a;
	uint8_t *w, *r;
	size_t n, rn;
	char *owner;

	wire_of(p, &w, &n);
	ck_assert_int_eq(resolver_reply(w, n, RESOLVER_RCODE_NXDOMAIN, &r, &rn), 0);
	a = parse(r, rn);
	ck_assert_uint_eq(ldns_pkt_id(a), 0xbeef);
	ck_assert(ldns_pkt_qr(a));
	ck_assert(ldns_pkt_rd(a));
	ck_assert_int_eq(ldns_pkt_get_rcode(a), RESOLVER_RCODE_NXDOMAIN);
	ck_assert_uint_eq(ldns_pkt_ancount(a), 0);
	owner = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(a), 0)));
	ck_assert_str_eq(owner, "Secret.Attacker.EXAMPLE."); /* as asked: 0x20 survives */
	free(owner);
	ldns_pkt_free(a);
	free(r);
	free(w);
}
END_TEST

START_TEST(upstream_query_made_anew)
{
	struct resolver_query q = {.id = 7, .qtype = RESOLVER_TYPE_A, .cd = true};
	ldns_pkt *p;
	uint8_t *w;
	size_t n;
	char *s;

	strcpy(q.name, "api.example.com");
	ck_assert_int_eq(resolver_upstream_query(&q, 0x4242, &w, &n), 0);
	p = parse(w, n);
	ck_assert_uint_eq(ldns_pkt_id(p), 0x4242);
	ck_assert(ldns_pkt_rd(p));
	ck_assert(ldns_pkt_cd(p));
	ck_assert(!ldns_pkt_qr(p));
	ck_assert_uint_eq(ldns_pkt_edns_udp_size(p), 1232);
	ck_assert_uint_eq(ldns_pkt_qdcount(p), 1);
	ck_assert_uint_eq(ldns_pkt_ancount(p) + ldns_pkt_nscount(p) + ldns_pkt_arcount(p), 0);
	s = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(p), 0)));
	ck_assert_str_eq(s, "api.example.com.");
	free(s);
	ldns_pkt_free(p);
	free(w);
}
END_TEST

/* A query for name/type as the container sent it, read. */
static void
asked(const char *name, ldns_rr_type type, struct resolver_query *q, uint8_t **w, size_t *n)
{
	int rcode;

	wire_of(query_pkt(name, type, 0x0a0a), w, n);
	ck_assert_int_eq(resolver_query_parse(*w, *n, q, &rcode), 0);
}

START_TEST(answer_follows_the_chain)
{
	static const char *const an[] = {
		"unrelated.example. 5 IN A 198.51.100.99",
		"api.example.com. 300 IN CNAME edge.cdn.example.",
		"edge.cdn.example. 20 IN A 192.0.2.1",
		"edge.cdn.example. 100 IN A 192.0.2.2",
		"edge.cdn.example. 100 IN TXT \"not asked for\"",
		NULL,
	};
	struct resolver_addr addrs[RESOLVER_ADDRS_MAX];
	struct resolver_query q;
	ldns_pkt *p, *a;
	uint8_t *qw, *w, *r;
	size_t qn, n, rn, na, i;

	asked("API.example.com.", LDNS_RR_TYPE_A, &q, &qw, &qn);
	p = answer_pkt("api.example.com.", LDNS_RR_TYPE_A, 0x5151, an);
	push(p, LDNS_SECTION_AUTHORITY, "example.com. 60 IN NS ns.evil.example.");
	push(p, LDNS_SECTION_ADDITIONAL, "ns.evil.example. 60 IN A 203.0.113.66");
	wire_of(p, &w, &n);
	ck_assert_int_eq(resolver_answer(&q, 0x5151, qw, qn, w, n, &TTL, addrs, &na, &r, &rn), 0);
	ck_assert_uint_eq(na, 2);
	ck_assert_uint_eq(addrs[0].family, RULES_FAMILY_IPV4);
	ck_assert_mem_eq(addrs[0].addr, "\xc0\x00\x02\x01", 4);
	ck_assert_uint_eq(addrs[0].ttl, 30); /* 20, raised to the minimum */
	ck_assert_uint_eq(addrs[1].ttl, 100);
	a = parse(r, rn);
	ck_assert_uint_eq(ldns_pkt_id(a), 0x0a0a);
	ck_assert_uint_eq(ldns_pkt_ancount(a), 3);
	ck_assert_uint_eq(ldns_pkt_nscount(a) + ldns_pkt_arcount(a), 0);
	for (i = 0; i < 3; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(a), i);

		/* never longer than the shortest-lived address stays open */
		ck_assert_uint_le(ldns_rr_ttl(rr), 30);
		ck_assert_int_ne(ldns_rr_get_type(rr), LDNS_RR_TYPE_TXT);
	}
	ldns_pkt_free(a);
	free(r);
	free(w);
	free(qw);
}
END_TEST

START_TEST(answer_ttl_capped)
{
	static const char *const an[] = {"v6.example.com. 86400 IN AAAA 2001:db8::7", NULL};
	struct resolver_addr addrs[RESOLVER_ADDRS_MAX];
	struct resolver_query q;
	ldns_pkt *a;
	uint8_t *qw, *w, *r;
	size_t qn, n, rn, na;

	asked("v6.example.com.", LDNS_RR_TYPE_AAAA, &q, &qw, &qn);
	wire_of(answer_pkt("v6.example.com.", LDNS_RR_TYPE_AAAA, 9, an), &w, &n);
	ck_assert_int_eq(resolver_answer(&q, 9, qw, qn, w, n, &TTL, addrs, &na, &r, &rn), 0);
	ck_assert_uint_eq(na, 1);
	ck_assert_uint_eq(addrs[0].family, RULES_FAMILY_IPV6);
	ck_assert_uint_eq(addrs[0].ttl, 3600);
	a = parse(r, rn);
	ck_assert_uint_eq(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(a), 0)), 3600);
	ldns_pkt_free(a);
	free(r);
	free(w);
	free(qw);
}
END_TEST

START_TEST(answer_not_ours)
{
	static const char *const an[] = {"a.example.com. 60 IN A 192.0.2.1", NULL};
	struct resolver_addr addrs[RESOLVER_ADDRS_MAX];
	struct resolver_query q;
	ldns_pkt *p;
	uint8_t *qw, *w, *r = NULL;
	size_t qn, n, rn, na;

	asked("a.example.com.", LDNS_RR_TYPE_A, &q, &qw, &qn);
	/* another id, another name, another type: not the answer awaited */
	wire_of(answer_pkt("a.example.com.", LDNS_RR_TYPE_A, 10, an), &w, &n);
	ck_assert_int_eq(resolver_answer(&q, 11, qw, qn, w, n, &TTL, addrs, &na, &r, &rn),
			 -EBADMSG);
	free(w);
	wire_of(answer_pkt("b.example.com.", LDNS_RR_TYPE_A, 11, an), &w, &n);
	ck_assert_int_eq(resolver_answer(&q, 11, qw, qn, w, n, &TTL, addrs, &na, &r, &rn),
			 -EBADMSG);
	free(w);
	wire_of(answer_pkt("a.example.com.", LDNS_RR_TYPE_AAAA, 11, an), &w, &n);
	ck_assert_int_eq(resolver_answer(&q, 11, qw, qn, w, n, &TTL, addrs, &na, &r, &rn),
			 -EBADMSG);
	free(w);
	/* truncated: ask again over TCP */
	p = answer_pkt("a.example.com.", LDNS_RR_TYPE_A, 11, NULL);
	ldns_pkt_set_tc(p, true);
	wire_of(p, &w, &n);
	ck_assert_int_eq(resolver_answer(&q, 11, qw, qn, w, n, &TTL, addrs, &na, &r, &rn),
			 -EMSGSIZE);
	ck_assert_ptr_null(r);
	ck_assert_uint_eq(na, 0);
	free(w);
	free(qw);
}
END_TEST

START_TEST(answer_failures)
{
	static const char *const loop[] = {
		"a.example.com. 60 IN CNAME b.example.com.",
		"b.example.com. 60 IN CNAME a.example.com.",
		NULL,
	};
	struct resolver_addr addrs[RESOLVER_ADDRS_MAX];
	struct resolver_query q;
	ldns_pkt *p, *a;
	uint8_t *qw, *w, *r;
	size_t qn, n, rn, na;

	asked("a.example.com.", LDNS_RR_TYPE_A, &q, &qw, &qn);
	/* refused upstream: SERVFAIL to the container, nothing in it */
	p = answer_pkt("a.example.com.", LDNS_RR_TYPE_A, 1, NULL);
	push(p, LDNS_SECTION_ANSWER, "a.example.com. 60 IN A 192.0.2.1");
	ldns_pkt_set_rcode(p, RESOLVER_RCODE_REFUSED);
	wire_of(p, &w, &n);
	ck_assert_int_eq(resolver_answer(&q, 1, qw, qn, w, n, &TTL, addrs, &na, &r, &rn), 0);
	ck_assert_uint_eq(na, 0);
	a = parse(r, rn);
	ck_assert_int_eq(ldns_pkt_get_rcode(a), RESOLVER_RCODE_SERVFAIL);
	ck_assert_uint_eq(ldns_pkt_ancount(a), 0);
	ldns_pkt_free(a);
	free(r);
	free(w);
	/* a CNAME loop ends, and opens nothing */
	wire_of(answer_pkt("a.example.com.", LDNS_RR_TYPE_A, 2, loop), &w, &n);
	ck_assert_int_eq(resolver_answer(&q, 2, qw, qn, w, n, &TTL, addrs, &na, &r, &rn), 0);
	ck_assert_uint_eq(na, 0);
	free(r);
	free(w);
	free(qw);
}
END_TEST

START_TEST(answer_addresses_bounded)
{
	struct resolver_addr addrs[RESOLVER_ADDRS_MAX];
	struct resolver_query q;
	ldns_pkt *p, *a;
	uint8_t *qw, *w, *r;
	size_t qn, n, rn, na;
	char rr[64];
	int i;

	asked("many.example.com.", LDNS_RR_TYPE_A, &q, &qw, &qn);
	p = answer_pkt("many.example.com.", LDNS_RR_TYPE_A, 3, NULL);
	for (i = 0; i < RESOLVER_ADDRS_MAX + 10; i++) {
		snprintf(rr, sizeof(rr), "many.example.com. 60 IN A 10.0.%d.%d", i / 250, i % 250);
		push(p, LDNS_SECTION_ANSWER, rr);
	}
	wire_of(p, &w, &n);
	ck_assert_int_eq(resolver_answer(&q, 3, qw, qn, w, n, &TTL, addrs, &na, &r, &rn), 0);
	ck_assert_uint_eq(na, RESOLVER_ADDRS_MAX);
	a = parse(r, rn);
	ck_assert_uint_eq(ldns_pkt_ancount(a), RESOLVER_ADDRS_MAX);
	ldns_pkt_free(a);
	free(r);
	free(w);
	free(qw);
}
END_TEST

static void
container_from(const char *json, struct rules_container *c)
{
	struct rules_error e;
	cJSON *o = cJSON_Parse(json);

	ck_assert_ptr_nonnull(o);
	ck_assert_msg(rules_container_parse(o, "c", c, &e) == 0, "%s", e.message);
	cJSON_Delete(o);
}

START_TEST(policy)
{
	struct rules_container c;
	struct resolver_query q = {.qtype = RESOLVER_TYPE_A};
	size_t rules[8], n;

	container_from(
		"{\"rules\": ["
		"{\"id\": \"gh\", \"destination\": \"*.github.com\", \"action\": \"allow\"},"
		"{\"id\": \"st\", \"destination\": \"api.stripe.com\", \"action\": \"allow\", "
		"\"protocol\": \"tcp\", \"destination_port\": 443},"
		"{\"id\": \"st2\", \"destination\": \"api.stripe.com\", \"action\": \"allow\", "
		"\"protocol\": \"udp\"},"
		"{\"id\": \"no\", \"destination\": \"*.gist.github.com\", \"action\": \"deny\"},"
		"{\"destination\": \"10.0.0.0/8\", \"action\": \"allow\"}]}",
		&c);
	strcpy(q.name, "api.stripe.com");
	ck_assert_int_eq(resolver_decide(&c, &q, rules, &n), RESOLVER_FORWARD);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(c.rules[rules[0]].id, "st");
	ck_assert_str_eq(c.rules[rules[1]].id, "st2");
	strcpy(q.name, "raw.github.com");
	ck_assert_int_eq(resolver_decide(&c, &q, rules, &n), RESOLVER_FORWARD);
	ck_assert_uint_eq(n, 1);
	q.qtype = 16; /* TXT of a name it may resolve: nothing */
	ck_assert_int_eq(resolver_decide(&c, &q, rules, &n), RESOLVER_NODATA);
	q.qtype = RESOLVER_TYPE_AAAA;
	strcpy(q.name, "x.gist.github.com"); /* deny beats allow */
	ck_assert_int_eq(resolver_decide(&c, &q, rules, &n), RESOLVER_REFUSE);
	strcpy(q.name, "github.com"); /* the wildcard is not the name itself */
	ck_assert_int_eq(resolver_decide(&c, &q, rules, &n), RESOLVER_REFUSE);
	strcpy(q.name, "c2VjcmV0.attacker.example");
	ck_assert_int_eq(resolver_decide(&c, &q, rules, &n), RESOLVER_REFUSE);
	c.policy = RULES_ACTION_ALLOW; /* the default decides other names */
	q.qtype = 16;
	ck_assert_int_eq(resolver_decide(&c, &q, rules, &n), RESOLVER_FORWARD);
	ck_assert_uint_eq(n, 0);
	strcpy(q.name, "x.gist.github.com");
	ck_assert_int_eq(resolver_decide(&c, &q, rules, &n), RESOLVER_REFUSE);
	rules_container_clear(&c);
}
END_TEST

static Suite *
resolver_suite(void)
{
	Suite *s = suite_create("resolver");
	TCase *tc = tcase_create("messages");

	tcase_add_test(tc, query_read);
	tcase_add_test(tc, query_refused);
	tcase_add_test(tc, reply_made_here);
	tcase_add_test(tc, upstream_query_made_anew);
	tcase_add_test(tc, answer_follows_the_chain);
	tcase_add_test(tc, answer_ttl_capped);
	tcase_add_test(tc, answer_not_ours);
	tcase_add_test(tc, answer_failures);
	tcase_add_test(tc, answer_addresses_bounded);
	tcase_add_test(tc, policy);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(resolver_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
