#ifndef AGENTD_RESOLVER_H
#define AGENTD_RESOLVER_H

/*
 * resolver: the DNS side of rules by name, as pure code. What a
 * container may resolve (policy.c), and the messages (message.c): a
 * container's query read, the query sent upstream in its place, the
 * upstream answer checked against it and turned into the addresses to
 * open and the answer the container gets, and the answers given
 * without asking anyone. Packets are parsed and built with ldns; every
 * byte here comes from a container or an upstream server and is
 * untrusted (fuzz_message.c). No I/O, no clocks: the process that owns
 * the sockets (not yet built) calls these.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/rules.h"

#define RESOLVER_TYPE_A 1
#define RESOLVER_TYPE_AAAA 28
#define RESOLVER_RCODE_NOERROR 0
#define RESOLVER_RCODE_FORMERR 1
#define RESOLVER_RCODE_SERVFAIL 2
#define RESOLVER_RCODE_NXDOMAIN 3
#define RESOLVER_RCODE_NOTIMP 4
#define RESOLVER_RCODE_REFUSED 5

/* The longest name text: 253 bytes, each possibly a \DDD escape. */
#define RESOLVER_NAME_MAX (4 * RULES_DNAME_MAX)

/* A container's query, as read. */
struct resolver_query {
	uint16_t id;
	uint16_t qtype;
	bool rd;
	bool cd;
	uint16_t udp_size; /* EDNS payload size offered; 0 without EDNS */
	/* lower case, no trailing dot ("" for the root); odd bytes as \DDD */
	char name[RESOLVER_NAME_MAX + 1];
};

/*
 * Read a container's query: 0 and *ret; -EBADMSG when it is no DNS
 * message (drop it); -EPROTO when it is one that gets no answer but an
 * error (resolver_reply() with *ret_rcode: FORMERR for a malformed
 * question, NOTIMP for other opcodes, REFUSED for other classes or
 * question counts).
 */
int resolver_query_parse(const uint8_t *wire, size_t len, struct resolver_query *ret,
			 int *ret_rcode);

/*
 * An answer to q made here: its question as the container asked it (from
 * the query's wire, for the case of its letters), no records, rcode
 * (NXDOMAIN for a name it may not resolve, NOERROR for "no records of
 * that type", SERVFAIL when upstream failed). *ret_wire is malloc'd, the
 * caller's. 0, -EBADMSG (the query's wire does not parse) or -ENOMEM.
 */
int resolver_reply(const uint8_t *query_wire, size_t len, int rcode, uint8_t **ret_wire,
		   size_t *ret_len);

/* What a container may do with a name (policy.c). */
enum resolver_verdict {
	RESOLVER_REFUSE = 0, /* NXDOMAIN, and nothing leaves the host */
	RESOLVER_NODATA,     /* a name it may resolve, a type it may not: empty answer */
	RESOLVER_FORWARD,    /* ask upstream; open what the answer gives for the rules */
};

/*
 * Decide q for container c: a deny rule by name that matches refuses
 * it; else allow rules by name that match make it forwarded (A and AAAA;
 * other types get an empty answer), and their indices in c->rules go to
 * rules[] (room for c->nrules), their count to *ret_n; else the default
 * action decides: deny refuses, allow forwards every type with no rule
 * (the default opens every address already).
 */
enum resolver_verdict resolver_decide(const struct rules_container *c,
				      const struct resolver_query *q, size_t *rules, size_t *ret_n);

/*
 * The query sent upstream for q: a new message with id, q's name (lower
 * case) and type, RD, EDNS with a payload size of 1232; nothing of the
 * container's packet but its question. *ret_wire malloc'd. 0, -EINVAL
 * (q's name does not make a name) or -ENOMEM.
 */
int resolver_upstream_query(const struct resolver_query *q, uint16_t id, uint8_t **ret_wire,
			    size_t *ret_len);

/* An address an answer gave, and how long to keep it open (seconds). */
struct resolver_addr {
	uint8_t family; /* enum rules_family */
	uint8_t addr[16];
	uint32_t ttl;
};

#define RESOLVER_ADDRS_MAX 64 /* per answer; more are left out of it */

/* How long learned addresses stay open: each record's TTL, clamped. */
struct resolver_ttl {
	uint32_t min;
	uint32_t max;
};

/*
 * Check the upstream answer (wire, len) to the query sent for q with
 * id, and make what follows from it: the addresses of q's name
 * (following CNAMEs from it, within the answer; A for A, AAAA for AAAA)
 * with their lifetime, the smallest TTL on the chain clamped to ttl,
 * into addrs (at most RESOLVER_ADDRS_MAX, *ret_n); and the answer the
 * container gets: its own id and question (from query_wire), the chain
 * and the addresses only (no other records, no authority or additional
 * section), each TTL at most the addresses' lifetime, the upstream
 * rcode (NOERROR or NXDOMAIN; anything else becomes SERVFAIL, with no
 * records). 0; -EBADMSG when the answer is not one to that query (wrong
 * id, question, not a response, truncated: drop it and wait for
 * another); -ENOMEM.
 */
int resolver_answer(const struct resolver_query *q, uint16_t id, const uint8_t *query_wire,
		    size_t query_len, const uint8_t *wire, size_t len,
		    const struct resolver_ttl *ttl, struct resolver_addr *addrs, size_t *ret_n,
		    uint8_t **ret_wire, size_t *ret_len);

#endif
