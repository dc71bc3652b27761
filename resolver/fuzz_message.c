/*
 * libFuzzer target for the resolver's messages: the first byte says
 * whose bytes the rest are. 0: a container's query, read and answered
 * every way the resolver answers without asking anyone; 1 and 2: an
 * upstream answer to a query for example.com (A, AAAA), with the id it
 * carries so that the fuzzer reaches past the id check. Every message
 * made is parsed again, as the container would.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "resolver/resolver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
reparse(uint8_t *w, size_t n)
{
	ldns_pkt *p = NULL;

	if (ldns_wire2pkt(&p, w, n) != LDNS_STATUS_OK)
		abort(); /* what we make must parse */
	ldns_pkt_free(p);
	free(w);
}

static void
as_query(const uint8_t *d, size_t n)
{
	static const int rcodes[] = {RESOLVER_RCODE_NXDOMAIN, RESOLVER_RCODE_NOERROR,
				     RESOLVER_RCODE_SERVFAIL};
	struct resolver_query q;
	uint8_t *w;
	size_t wn, i;
	int rcode, r = resolver_query_parse(d, n, &q, &rcode);

	if (r == -EPROTO && resolver_reply(d, n, rcode, &w, &wn) == 0)
		reparse(w, wn);
	if (r < 0)
		return;
	for (i = 0; i < sizeof(rcodes) / sizeof(rcodes[0]); i++)
		if (resolver_reply(d, n, rcodes[i], &w, &wn) == 0)
			reparse(w, wn);
	if (resolver_upstream_query(&q, 1, &w, &wn) == 0)
		reparse(w, wn);
}

static void
as_answer(const uint8_t *d, size_t n, uint16_t qtype)
{
	static const struct resolver_ttl ttl = {30, 3600};
	struct resolver_addr addrs[RESOLVER_ADDRS_MAX];
	struct resolver_query q = {.qtype = qtype};
	uint8_t *query = NULL, *w;
	size_t qn, wn, na, i;
	uint16_t id;

	if (n < 2)
		return;
	id = (uint16_t)(d[0] << 8 | d[1]);
	strcpy(q.name, "example.com");
	if (resolver_upstream_query(&q, 0x0a0a, &query, &qn) < 0)
		return;
	if (resolver_answer(&q, id, query, qn, d, n, &ttl, addrs, &na, &w, &wn) == 0) {
		if (na > RESOLVER_ADDRS_MAX)
			abort();
		for (i = 0; i < na; i++)
			if (addrs[i].ttl < ttl.min || addrs[i].ttl > ttl.max)
				abort();
		reparse(w, wn);
	}
	free(query);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		as_query(data + 1, size - 1);
		break;
	case 1:
		as_answer(data + 1, size - 1, RESOLVER_TYPE_A);
		break;
	default:
		as_answer(data + 1, size - 1, RESOLVER_TYPE_AAAA);
	}
	return 0;
}
