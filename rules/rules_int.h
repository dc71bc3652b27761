#ifndef AGENTD_RULES_INT_H
#define AGENTD_RULES_INT_H

/*
 * Helpers shared by the files of rules/ and their tests. Other modules
 * use rules.h only.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/rules.h"

/* A quoted user value in a message: 64 shown characters, quotes, "...". */
#define RULES_QUOTE_SIZE 72

/* Longest rules_ports_format() output: "65535-65535," per item. */
#define RULES_PORTS_STRLEN (RULES_PORTS_MAX * 12)

#define RULES_ID_HINT "expected 1-64 characters of A-Z a-z 0-9 _ . - (not \".\" or \"..\")"

/* One accepted key of a JSON object; item is NULL when absent. */
struct rules_field {
	const char *name;
	const struct cJSON *item;
};

/*
 * Reset *reterr, fill code, field and message, and return -EINVAL so that
 * callers can write "return rules_error_set(...)".
 */
int rules_error_set(struct rules_error *reterr, const char *code, const char *field,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The same for allocation failures; returns -ENOMEM. */
int rules_error_nomem(struct rules_error *reterr);

/*
 * Write s into buf as a double-quoted string safe to show: quotes and
 * backslashes escaped, other bytes outside printable ASCII as \xNN, cut
 * after 64 characters with "...". Returns buf.
 */
const char *rules_quote(const char *s, char buf[RULES_QUOTE_SIZE]);

/* "a string", "a number", ... for messages about wrong JSON types. */
const char *rules_json_type(const struct cJSON *item);

/*
 * Sort the members of obj into fields[n] by key. Refuses keys not in
 * fields ("unknown_field") and keys given twice ("duplicate_field").
 */
int rules_json_fields(const struct cJSON *obj, struct rules_field *fields, size_t n,
		      struct rules_error *reterr);

/* enum value for "tcp", "allow", ...; -EINVAL when s is no such name. */
int rules_proto_from_name(const char *s);
int rules_action_from_name(const char *s);

/*
 * What an address being parsed stands for, to word its refusals: a
 * rule's "destination" (an address or a network) or an entry of
 * "addresses" (one address, no prefix length).
 */
struct rules_addr_use {
	const char *code;   /* "invalid_destination" */
	const char *field;  /* "destination" */
	const char *label;  /* names the value in messages: "destination", "addresses[2]" */
	const char *hint;   /* what is accepted; ends most refusals */
	const char *port;   /* why "a.b.c.d:port" is refused */
	const char *zone;   /* after "zone ids are not accepted" */
	const char *mapped; /* after "IPv4-mapped addresses are not accepted" */
	bool prefix;	    /* "/len" is accepted */
};

/* A rule's "destination". */
extern const struct rules_addr_use rules_dest_use;

/*
 * A strict dotted-quad IPv4 address or CIDR, or an IPv6 address or
 * prefix (addr6.c), as u allows. Returns 0 and sets r's family, daddr,
 * daddr6 and plen, or -EINVAL with u's code and field in *reterr and r
 * left alone.
 */
int rules_addr_parse(const char *s, const struct rules_addr_use *u, struct rules_rule *r,
		     struct rules_error *reterr);
/* A "destination": a name (dname.c), else rules_addr_parse() with rules_dest_use. */
int rules_dest_parse(const char *s, struct rules_rule *r, struct rules_error *reterr);
/* dname.c: a host name, or a wildcard, into r->dname (which it replaces). */
int rules_dname_parse(const char *s, struct rules_rule *r, struct rules_error *reterr);

/* addr.c, for addr6.c: the four octets of len bytes at s, or false. */
bool rules_quad_read(const char *s, size_t len, uint32_t *ret_addr);
/*
 * The prefix length after "/": decimal 0..max (32 or 128) without
 * leading zeros. NULL and *ret_plen, or why not.
 */
const char *rules_prefix_read(const char *p, unsigned max, unsigned *ret_plen);
/* Fill *reterr for a refused value q (quoted) used as u; returns -EINVAL. */
int rules_addr_refuse(const struct rules_addr_use *u, struct rules_error *reterr, const char *q,
		      const char *why);
/* A network or address as u shows it in a message: without "/len" unless u takes one. */
const char *rules_addr_suggest(const struct rules_addr_use *u, char buf[RULES_DEST_STRLEN]);

/* addr6.c: an IPv6 address or prefix, once addr.c has seen a ":" in it. */
int rules_addr6_parse(const char *s, const struct rules_addr_use *u, struct rules_rule *r,
		      struct rules_error *reterr);

/*
 * A "destination_port" string: a port, a range or a comma list. On
 * success the ranges are sorted and merged into ret_ports and *ret_n;
 * on failure returns -EINVAL with "invalid_port" in *reterr.
 */
int rules_ports_parse(const char *s, struct rules_port_range ret_ports[RULES_PORTS_MAX],
		      uint8_t *ret_n, struct rules_error *reterr);

/*
 * expiry.c: a rule's "expires_at" and "ttl" (either may be NULL, absent)
 * into r->expires_at or r->ttl. -EINVAL with "invalid_expiry".
 */
int rules_expiry_parse(const struct cJSON *expires_at, const struct cJSON *ttl,
		       struct rules_rule *r, struct rules_error *reterr);
/* RFC 3339 UTC to the second into *ret: NULL, or why not. */
const char *rules_time_read(const char *s, int64_t *ret);

#endif
