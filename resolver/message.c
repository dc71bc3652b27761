/*
 * DNS messages with ldns: a container's query read, the query sent in
 * its place, the upstream answer checked and cut down to what the
 * container may know, and the answers made here.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "resolver/resolver.h"

#define UPSTREAM_UDP_SIZE 1232 /* the DNS flag day's size: no fragments */
#define CHAIN_MAX 8	       /* CNAMEs followed from the name asked */

/* A name as text: lower case, without the root's dot; false if it does not fit. */
static bool
name_text(const ldns_rdf *dname, char *buf, size_t size)
{
	char *s = ldns_rdf2str(dname);
	size_t n, i;
	bool ok;

	if (s == NULL)
		return false;
	n = strlen(s);
	if (n > 0 && s[n - 1] == '.')
		n--;
	ok = n < size;
	if (ok) {
		for (i = 0; i < n; i++)
			buf[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
		buf[n] = '\0';
	}
	free(s);
	return ok;
}

static const ldns_rr *
question_of(const ldns_pkt *p)
{
	return ldns_pkt_qdcount(p) == 1 ? ldns_rr_list_rr(ldns_pkt_question(p), 0) : NULL;
}

int
resolver_query_parse(const uint8_t *wire, size_t len, struct resolver_query *ret, int *ret_rcode)
{
	ldns_pkt *p = NULL;
	const ldns_rr *qr;
	int r = -EPROTO;

	memset(ret, 0, sizeof(*ret));
	/* a header that is not a query's is no question to us: dropped */
	if (len < LDNS_HEADER_SIZE || LDNS_QR_WIRE(wire))
		return -EBADMSG;
	*ret_rcode = RESOLVER_RCODE_FORMERR;
	if (ldns_wire2pkt(&p, wire, len) != LDNS_STATUS_OK)
		return -EPROTO;
	ret->id = ldns_pkt_id(p);
	ret->rd = ldns_pkt_rd(p);
	ret->cd = ldns_pkt_cd(p);
	ret->udp_size = ldns_pkt_edns(p) ? ldns_pkt_edns_udp_size(p) : 0;
	qr = question_of(p);
	if (ldns_pkt_get_opcode(p) != LDNS_PACKET_QUERY) {
		*ret_rcode = RESOLVER_RCODE_NOTIMP;
	} else if (qr == NULL || ldns_rr_get_class(qr) != LDNS_RR_CLASS_IN ||
		   ldns_pkt_ancount(p) != 0 || ldns_pkt_nscount(p) != 0) {
		*ret_rcode = RESOLVER_RCODE_REFUSED;
	} else if (name_text(ldns_rr_owner(qr), ret->name, sizeof(ret->name))) {
		ret->qtype = (uint16_t)ldns_rr_get_type(qr);
		r = 0;
	}
	ldns_pkt_free(p);
	return r;
}

/* p as wire bytes into *ret_wire (malloc'd); 0 or -ENOMEM. */
static int
to_wire(const ldns_pkt *p, uint8_t **ret_wire, size_t *ret_len)
{
	uint8_t *w = NULL;
	size_t n = 0;

	if (ldns_pkt2wire(&w, p, &n) != LDNS_STATUS_OK || w == NULL)
		return -ENOMEM;
	*ret_wire = w;
	*ret_len = n;
	return 0;
}

/*
 * The skeleton of an answer to the query in query_wire: its id, its
 * question as asked, RD and CD as asked, RA, rcode; EDNS if it had it.
 */
static int
reply_to(const uint8_t *query_wire, size_t len, int rcode, ldns_pkt **ret)
{
	ldns_pkt *q = NULL, *a;
	const ldns_rr *qr;
	ldns_rr *copy;

	if (ldns_wire2pkt(&q, query_wire, len) != LDNS_STATUS_OK)
		return -EBADMSG;
	a = ldns_pkt_new();
	if (a == NULL) {
		ldns_pkt_free(q);
		return -ENOMEM;
	}
	ldns_pkt_set_id(a, ldns_pkt_id(q));
	ldns_pkt_set_qr(a, true);
	ldns_pkt_set_opcode(a, ldns_pkt_get_opcode(q));
	ldns_pkt_set_rd(a, ldns_pkt_rd(q));
	ldns_pkt_set_cd(a, ldns_pkt_cd(q));
	ldns_pkt_set_ra(a, true);
	ldns_pkt_set_rcode(a, (uint8_t)rcode);
	if (ldns_pkt_edns(q))
		ldns_pkt_set_edns_udp_size(a, UPSTREAM_UDP_SIZE);
	qr = question_of(q);
	if (qr != NULL) {
		copy = ldns_rr_clone(qr);
		if (copy == NULL || !ldns_pkt_push_rr(a, LDNS_SECTION_QUESTION, copy)) {
			ldns_rr_free(copy);
			ldns_pkt_free(a);
			ldns_pkt_free(q);
			return -ENOMEM;
		}
	}
	ldns_pkt_free(q);
	*ret = a;
	return 0;
}

int
resolver_reply(const uint8_t *query_wire, size_t len, int rcode, uint8_t **ret_wire,
	       size_t *ret_len)
{
	ldns_pkt *a = NULL;
	int r = reply_to(query_wire, len, rcode, &a);

	if (r == 0)
		r = to_wire(a, ret_wire, ret_len);
	if (a != NULL)
		ldns_pkt_free(a);
	return r;
}

int
resolver_upstream_query(const struct resolver_query *q, uint16_t id, uint8_t **ret_wire,
			size_t *ret_len)
{
	ldns_rdf *name = NULL;
	ldns_pkt *p;
	int r;

	/* escapes in the name are read back as the bytes they stand for */
	if (ldns_str2rdf_dname(&name, q->name[0] ? q->name : ".") != LDNS_STATUS_OK)
		return -EINVAL;
	p = ldns_pkt_query_new(name, (ldns_rr_type)q->qtype, LDNS_RR_CLASS_IN, LDNS_RD);
	if (p == NULL) {
		ldns_rdf_deep_free(name);
		return -ENOMEM;
	}
	ldns_pkt_set_id(p, id);
	ldns_pkt_set_cd(p, q->cd);
	ldns_pkt_set_edns_udp_size(p, UPSTREAM_UDP_SIZE);
	r = to_wire(p, ret_wire, ret_len);
	ldns_pkt_free(p);
	return r;
}

/* Is rr of type in the answer, owned by name (case aside)? */
static bool
owned(const ldns_rr *rr, ldns_rr_type type, const ldns_rdf *name)
{
	return ldns_rr_get_type(rr) == type && ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN &&
	       ldns_dname_compare(ldns_rr_owner(rr), name) == 0;
}

static uint32_t
clamp(uint32_t v, const struct resolver_ttl *t)
{
	return v < t->min ? t->min : v > t->max ? t->max : v;
}

/*
 * Walk the answer from q's name: its CNAMEs one after the other (at most
 * CHAIN_MAX, no loops past that), then the records of the type asked
 * owned by the last name. keep[i] marks the records to pass on; *ret_ttl
 * is the smallest TTL of the chain.
 */
static const ldns_rdf *
walk(const ldns_rr_list *an, const ldns_rdf *qname, bool *keep, uint32_t *ret_ttl)
{
	const ldns_rdf *name = qname;
	size_t i, n = ldns_rr_list_rr_count(an), hops;
	uint32_t ttl = UINT32_MAX;

	for (hops = 0; hops < CHAIN_MAX; hops++) {
		for (i = 0; i < n; i++)
			if (!keep[i] && owned(ldns_rr_list_rr(an, i), LDNS_RR_TYPE_CNAME, name))
				break;
		if (i == n)
			break;
		keep[i] = true;
		if (ldns_rr_ttl(ldns_rr_list_rr(an, i)) < ttl)
			ttl = ldns_rr_ttl(ldns_rr_list_rr(an, i));
		name = ldns_rr_rdf(ldns_rr_list_rr(an, i), 0);
		if (name == NULL || ldns_rdf_get_type(name) != LDNS_RDF_TYPE_DNAME)
			return NULL;
	}
	*ret_ttl = ttl;
	return name;
}

/* The address in rr (A or AAAA) into a, with ttl; false if it has none. */
static bool
addr_of(const ldns_rr *rr, uint32_t ttl, struct resolver_addr *a)
{
	const ldns_rdf *d = ldns_rr_rdf(rr, 0);
	bool six = ldns_rr_get_type(rr) == LDNS_RR_TYPE_AAAA;
	size_t len = six ? 16 : 4;

	if (d == NULL || ldns_rdf_size(d) != len)
		return false;
	memset(a, 0, sizeof(*a));
	a->family = six ? RULES_FAMILY_IPV6 : RULES_FAMILY_IPV4;
	memcpy(a->addr, ldns_rdf_data(d), len);
	a->ttl = ttl;
	return true;
}

/* Is p the answer to the query we sent for q with id? */
static bool
answers(const ldns_pkt *p, const struct resolver_query *q, uint16_t id)
{
	const ldns_rr *qr = question_of(p);
	char name[RESOLVER_NAME_MAX + 1];

	return ldns_pkt_qr(p) && ldns_pkt_id(p) == id &&
	       ldns_pkt_get_opcode(p) == LDNS_PACKET_QUERY && qr != NULL &&
	       ldns_rr_get_type(qr) == (ldns_rr_type)q->qtype &&
	       ldns_rr_get_class(qr) == LDNS_RR_CLASS_IN &&
	       name_text(ldns_rr_owner(qr), name, sizeof(name)) && strcmp(name, q->name) == 0;
}

/* Copy the kept records of an into a's answer section, TTLs cut to life. */
static int
pass_on(ldns_pkt *a, const ldns_rr_list *an, const bool *keep, uint32_t life)
{
	size_t i;

	for (i = 0; i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *rr;

		if (!keep[i])
			continue;
		rr = ldns_rr_clone(ldns_rr_list_rr(an, i));
		if (rr == NULL)
			return -ENOMEM;
		if (ldns_rr_ttl(rr) > life)
			ldns_rr_set_ttl(rr, life);
		if (!ldns_pkt_push_rr(a, LDNS_SECTION_ANSWER, rr)) {
			ldns_rr_free(rr);
			return -ENOMEM;
		}
	}
	return 0;
}

int
resolver_answer(const struct resolver_query *q, uint16_t id, const uint8_t *query_wire,
		size_t query_len, const uint8_t *wire, size_t len, const struct resolver_ttl *ttl,
		struct resolver_addr *addrs, size_t *ret_n, uint8_t **ret_wire, size_t *ret_len)
{
	ldns_pkt *p = NULL, *a = NULL;
	const ldns_rr_list *an;
	const ldns_rdf *last;
	bool *keep = NULL;
	uint32_t chain_ttl = UINT32_MAX, life = ttl->max;
	size_t i, n = 0, count;
	int rcode, r;

	*ret_n = 0;
	if (ldns_wire2pkt(&p, wire, len) != LDNS_STATUS_OK)
		return -EBADMSG;
	r = -EBADMSG;
	if (!answers(p, q, id))
		goto out;
	r = -EMSGSIZE; /* ask again over TCP */
	if (ldns_pkt_tc(p))
		goto out;
	rcode = ldns_pkt_get_rcode(p);
	if (rcode != RESOLVER_RCODE_NOERROR && rcode != RESOLVER_RCODE_NXDOMAIN)
		rcode = RESOLVER_RCODE_SERVFAIL;
	r = reply_to(query_wire, query_len, rcode, &a);
	if (r < 0 || rcode == RESOLVER_RCODE_SERVFAIL)
		goto done;
	an = ldns_pkt_answer(p);
	count = ldns_rr_list_rr_count(an);
	keep = calloc(count ? count : 1, sizeof(*keep));
	r = -ENOMEM;
	if (keep == NULL)
		goto out;
	last = walk(an, ldns_rr_owner(question_of(p)), keep, &chain_ttl);
	for (i = 0; last != NULL && i < count; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);
		uint32_t t = ldns_rr_ttl(rr) < chain_ttl ? ldns_rr_ttl(rr) : chain_ttl;

		if (!owned(rr, (ldns_rr_type)q->qtype, last))
			continue;
		/* an address past the last one opened is not shown either */
		if (q->qtype == RESOLVER_TYPE_A || q->qtype == RESOLVER_TYPE_AAAA) {
			if (n == RESOLVER_ADDRS_MAX || !addr_of(rr, clamp(t, ttl), &addrs[n]))
				continue;
			if (addrs[n].ttl < life)
				life = addrs[n].ttl;
			n++;
		}
		keep[i] = true;
	}
	/* with nothing to open, the chain's own TTL bounds what the container keeps */
	if (n == 0 && chain_ttl != UINT32_MAX)
		life = clamp(chain_ttl, ttl);
	r = pass_on(a, an, keep, life);
done:
	if (r == 0)
		r = to_wire(a, ret_wire, ret_len);
	if (r == 0)
		*ret_n = n;
out:
	free(keep);
	if (a != NULL)
		ldns_pkt_free(a);
	ldns_pkt_free(p);
	return r;
}
