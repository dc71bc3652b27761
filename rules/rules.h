#ifndef AGENTD_RULES_H
#define AGENTD_RULES_H

/*
 * rules: the desired egress firewall of containers, as a typed model.
 *
 * Pure code: parses and validates the JSON the control plane sends,
 * normalises it, and renders it back. No I/O, no clocks, no logging.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON; /* the JSON entry points take cJSON trees; callers include cJSON.h */

#define RULES_ID_MAX 64	    /* container and rule ids, in bytes */
#define RULES_IFNAME_MAX 15 /* IFNAMSIZ - 1 */
#define RULES_PORTS_MAX 16  /* items in a destination_port list */
#define RULES_DESC_MAX 256  /* description, in bytes of UTF-8 */
#define RULES_PER_CONTAINER_MAX 1024
#define RULES_ADDRESSES_MAX 16
#define RULES_DNAME_MAX 253 /* a host name, without the trailing dot */
#define RULES_LABEL_MAX 63

enum rules_proto {
	RULES_PROTO_ANY = 0,
	RULES_PROTO_TCP,
	RULES_PROTO_UDP,
	RULES_PROTO_ICMP,
	RULES_PROTO_MAX,
};

/* The address family of a rule's destination. */
enum rules_family {
	RULES_FAMILY_IPV4 = 0,
	RULES_FAMILY_IPV6,
	RULES_FAMILY_MAX,
};

enum rules_action {
	RULES_ACTION_DENY = 0,
	RULES_ACTION_ALLOW,
	RULES_ACTION_MAX,
};

/* An inclusive port range; lo == hi for a single port. */
struct rules_port_range {
	uint16_t lo;
	uint16_t hi;
};

struct rules_rule {
	char id[RULES_ID_MAX + 1];
	uint32_t daddr;	    /* IPv4: host byte order, host bits clear; IPv6: 0 */
	uint8_t daddr6[16]; /* IPv6: network byte order, host bits clear; IPv4: zero */
	uint8_t family;	    /* enum rules_family */
	uint8_t plen;	    /* 0..32 or 0..128; 0 is every address of the family */
	uint8_t proto;	    /* enum rules_proto; icmp is ICMPv6 for IPv6 */
	uint8_t action;	    /* enum rules_action */
	uint8_t nports;	    /* 0: every port */
	/* sorted ascending, disjoint and not adjacent (merged) */
	struct rules_port_range ports[RULES_PORTS_MAX];
	char *desc; /* owned, NUL-terminated UTF-8; NULL when empty */
	/*
	 * A destination by name (owned): lower case, no trailing dot,
	 * "*.example.com" for the names under example.com. NULL for an
	 * address; with a name, family, daddr, daddr6 and plen are zero.
	 */
	char *dname;
	/* When the rule stops matching: seconds since the epoch (UTC); 0 never. */
	int64_t expires_at;
	/* "ttl" as a call gave it, until rules_rule_expiry_resolve() makes it expires_at */
	uint32_t ttl;
};

/* An address a container's port may claim as its own ("addresses"). */
struct rules_address {
	uint8_t family;	  /* enum rules_family */
	uint8_t addr[16]; /* network byte order; IPv4 in the first 4 bytes, the rest zero */
};

struct rules_container {
	char id[RULES_ID_MAX + 1];
	char ifname[RULES_IFNAME_MAX + 1]; /* "" when not attached */
	uint8_t policy;			   /* default action, enum rules_action */
	/* Not part of the document: the agent's observation that ifname is
	 * a port of a Linux bridge, which changes how it is enforced. */
	bool bridged;
	/* "addresses": sorted by family then address, no two alike; NULL when none */
	struct rules_address *addresses;
	size_t naddresses;
	size_t nrules;
	/*
	 * Canonical order: deny rules first, then allow rules, each in the
	 * order they were given. Rule ids are unique within the container.
	 */
	struct rules_rule *rules;
};

struct rules_set {
	size_t ncontainers;
	struct rules_container *containers; /* sorted by id (strcmp) */
};

/*
 * Why a document was refused. code is a static machine-readable string
 * ("invalid_destination", "unknown_field", ...); field names the JSON
 * field ("destination") or is empty when the whole object is at fault;
 * container and rule name where (rule is the id, or "#N" with N counted
 * from 1 when the rule has no id); message is for people and says what
 * was wrong and what is accepted.
 */
struct rules_error {
	const char *code;
	char field[32];
	char container[RULES_ID_MAX + 1];
	char rule[RULES_ID_MAX + 2];
	char message[384];
};

/*
 * Parse a complete desired state: {"containers": {"<id>": {container}}}.
 * On success *ret_set owns a new set (release with rules_set_free()).
 * On failure returns -EINVAL (or -ENOMEM), leaves *ret_set alone and
 * explains in *reterr. Interfaces must be unique across containers.
 */
int rules_set_parse(const char *buf, size_t len, struct rules_set **ret_set,
		    struct rules_error *reterr);
/* The same from a parsed document. */
int rules_set_from_json(const struct cJSON *doc, struct rules_set **ret_set,
			struct rules_error *reterr);

/*
 * A container's state file: {"revision": N, "firewall": {container}}.
 * _render returns the text (the caller frees it), or NULL when out of
 * memory. _parse fills *ret as rules_container_parse() does for
 * container id, and *ret_revision (1 to 10^15); on failure returns
 * -EINVAL or -ENOMEM, leaves both alone and explains in *reterr.
 */
char *rules_state_render(const struct rules_container *c, uint64_t revision);
int rules_state_parse(const char *buf, size_t len, const char *id, struct rules_container *ret,
		      uint64_t *ret_revision, struct rules_error *reterr);

/*
 * Refuse raw JSON text that cJSON would parse lossily: NUL bytes, a
 * \u0000 escape or an unescaped control character inside a string; or
 * that would cost far more parsed than sent: more than
 * RULES_JSON_VALUES_MIN values and one per RULES_JSON_BYTES_PER_VALUE
 * bytes (a 64 MiB "[0,0,...]" would be 32 million nodes, some 2 GB; the
 * densest real state, a rule of an id and a destination, spends over 12
 * bytes a value). Call it on every body before cJSON sees it. Returns 0,
 * or -EINVAL with code "invalid_json" and the byte offset in *reterr.
 */
#define RULES_JSON_VALUES_MIN 1024
#define RULES_JSON_BYTES_PER_VALUE 8
int rules_json_check_raw(const char *buf, size_t len, struct rules_error *reterr);

/*
 * Parse one container's firewall object {"interface", "addresses",
 * "default_action", "rules"} for container id. "interface" is optional
 * (not attached); "addresses" defaults to none (nothing pinned);
 * "default_action" defaults to "deny"; "rules" defaults to none.
 * Rule ids that are absent are assigned (see rules_rule_id_assign()).
 * On success fills *ret (caller releases with rules_container_clear());
 * on failure returns -EINVAL/-ENOMEM, leaves *ret zeroed, fills *reterr.
 */
int rules_container_parse(const struct cJSON *obj, const char *id, struct rules_container *ret,
			  struct rules_error *reterr);

/*
 * Parse an "addresses" value alone (NULL or null: none) into c, whose
 * addresses must be empty: for calls that take it beside members other
 * than a container's. On failure returns -EINVAL/-ENOMEM, leaves c
 * alone and fills *reterr (code "invalid_address", field "addresses").
 */
int rules_addresses_parse(const struct cJSON *item, struct rules_container *c,
			  struct rules_error *reterr);

/*
 * Replace c's addresses by a copy of the n at v (sorted and distinct, as
 * in a container). Returns 0, or -ENOMEM with c left alone.
 */
int rules_container_set_addresses(struct rules_container *c, const struct rules_address *v,
				  size_t n);

/*
 * Parse one rule object as the REST API takes it. An absent "id" leaves
 * ret->id empty for the caller to assign. On failure returns -EINVAL or
 * -ENOMEM, leaves *ret zeroed and fills *reterr (rule is "#index" when
 * index > 0 and the rule has no id).
 */
int rules_rule_parse(const struct cJSON *obj, unsigned index, struct rules_rule *ret,
		     struct rules_error *reterr);

/*
 * Give r an id derived from its match and action ("r" + 8 hex digits),
 * unique among the n rules in others (a "-2", "-3"... suffix resolves a
 * clash). Identical rules therefore get identical ids.
 */
void rules_rule_id_assign(struct rules_rule *r, const struct rules_rule *others, size_t n);

/* True when a and b have the same destination (family, address and prefix). */
bool rules_dest_equal(const struct rules_rule *a, const struct rules_rule *b);

/* True when a and b match the same packets with the same action. */
bool rules_rule_same_match(const struct rules_rule *a, const struct rules_rule *b);

/* True when a and b are identical, descriptions and ids included. */
bool rules_rule_equal(const struct rules_rule *a, const struct rules_rule *b);

/* True when a and b are identical (id, interface, addresses, policy, every rule). */
bool rules_container_equal(const struct rules_container *a, const struct rules_container *b);

/* Validators for ids that arrive outside a JSON body (URL path, argv). */
bool rules_id_valid(const char *id);
bool rules_ifname_valid(const char *ifname);

/*
 * Check len bytes of s for valid UTF-8 without control characters.
 * Returns 0, or -EILSEQ with the offset of the bad byte and a static
 * reason ("overlong encoding", ...) in the outputs.
 */
int rules_text_check(const char *s, size_t len, size_t *ret_off, const char **ret_why);
/*
 * True when len bytes at s are an acceptable description: at most
 * RULES_DESC_MAX bytes of valid UTF-8 without control characters. For
 * text that arrives outside JSON, such as a description read back from
 * the kernel.
 */
bool rules_desc_valid(const char *s, size_t len);
/*
 * Make s (NUL-terminated) safe to send as text: each byte that is not
 * part of valid UTF-8, or is a control character, becomes '?'. For
 * messages that quote what a client sent, or that a cut left broken.
 */
void rules_text_clean(char *s);

/*
 * Render back to JSON. Each returns a new cJSON tree owned by the caller,
 * or NULL on out-of-memory. A rule renders as {"id", "destination"
 * (always "a.b.c.d/len", or for IPv6 the RFC 5952 text and "/len"),
 * "destination_port" (string, or null for every
 * port), "protocol", "action", "description" (string, "" when none)}.
 * A container renders as {"interface" (null when not attached),
 * "default_action", "addresses" ([] when none), "rules"}.
 */
struct cJSON *rules_rule_to_json(const struct rules_rule *r);
struct cJSON *rules_container_to_json(const struct rules_container *c); /* without the id */
/* c's "addresses" alone: an array of strings in canonical form. */
struct cJSON *rules_addresses_to_json(const struct rules_container *c);
struct cJSON *rules_set_to_json(const struct rules_set *s);

/*
 * A JSON text written as it goes (jw.c), for answers too large to build
 * as a tree first. A value after rules_jw_key() is a member, any other an
 * element; the writer puts the commas. Strings are escaped as cJSON
 * escapes them. Out of memory, it writes nothing more and take() says so.
 */
struct rules_jw {
	char *buf;
	size_t len;
	size_t cap;
	bool failed;
	bool after_key;
	unsigned int depth;
	uint64_t first; /* bit d: nothing written yet at depth d */
};

void rules_jw_init(struct rules_jw *w);
void rules_jw_reset(struct rules_jw *w); /* empty again, keeping the buffer */
void rules_jw_free(struct rules_jw *w);
/* The text, NUL-terminated and the caller's to free(); NULL if it failed. */
char *rules_jw_take(struct rules_jw *w);
void rules_jw_open(struct rules_jw *w, char bracket); /* '{' or '[' */
void rules_jw_close(struct rules_jw *w, char bracket);
void rules_jw_key(struct rules_jw *w, const char *key);
void rules_jw_str(struct rules_jw *w, const char *s); /* NULL: null */
void rules_jw_bool(struct rules_jw *w, bool b);
void rules_jw_u64(struct rules_jw *w, uint64_t v);

/*
 * The members of rules_container_to_json()'s object, written into the
 * object w has open; extra, when not NULL, adds members to rule i's.
 */
void rules_container_write(struct rules_jw *w, const struct rules_container *c,
			   void (*extra)(struct rules_jw *w, size_t i, const void *data),
			   const void *data);

/* Format helpers; each writes a NUL-terminated string and returns buf. */
#define RULES_DEST_STRLEN 44 /* "ffff:...:ffff/128" and its NUL */
char *rules_cidr_format(uint32_t daddr, uint8_t plen, char buf[19]);
/* An IPv6 network in RFC 5952 form (lower case, "::" for the longest zero run), "/plen". */
char *rules_cidr6_format(const uint8_t daddr6[16], uint8_t plen, char buf[RULES_DEST_STRLEN]);
/* One address, without a prefix length: "10.0.3.7", "fd42::7". */
char *rules_address_format(const struct rules_address *a, char buf[RULES_DEST_STRLEN]);
/* A rule's destination, as rules_rule_to_json() shows it: in buf, or its name. */
const char *rules_dest_format(const struct rules_rule *r, char buf[RULES_DEST_STRLEN]);
/*
 * Does a query for name (lower case, no trailing dot) match a name
 * rule's pattern: the same name, or for "*.example.com" any name that
 * ends in ".example.com" with a label or more before it?
 */
bool rules_dname_match(const char *pattern, const char *name);
char *rules_ports_format(const struct rules_rule *r, char *buf, size_t size);
const char *rules_proto_name(uint8_t proto);
const char *rules_action_name(uint8_t action);

/* Deep copies and release. Copies return -ENOMEM on failure. */
int rules_rule_copy(struct rules_rule *dst, const struct rules_rule *src);
void rules_rule_clear(struct rules_rule *r);
int rules_container_copy(struct rules_container *dst, const struct rules_container *src);
void rules_container_clear(struct rules_container *c);
void rules_set_free(struct rules_set *s);

/*
 * How have (e.g. what the kernel enforces) differs from want: cb gets one
 * sentence per difference (interface, each address missing or extra,
 * default action, each rule missing, extra or enforced with other
 * fields); returns how many.
 */
#define RULES_DIFF_MAX 160
typedef void (*rules_diff_cb)(const char *difference, void *data);
size_t rules_container_diff(const struct rules_container *want, const struct rules_container *have,
			    rules_diff_cb cb, void *data);

/*
 * Rules that expire. "expires_at" (RFC 3339 UTC to the second) and,
 * in calls, "ttl" (seconds) are parsed with the rest of a rule; the
 * caller then resolves them against its clock: a ttl becomes
 * expires_at = now + ttl, and a time that has passed or lies more than
 * RULES_EXPIRY_MAX ahead is refused ("invalid_expiry", -EINVAL).
 */
#define RULES_EXPIRY_MAX (365u * 86400u)
#define RULES_TIME_STRLEN 48
int rules_rule_expiry_resolve(struct rules_rule *r, int64_t now, struct rules_error *reterr);
int rules_container_expiry_resolve(struct rules_container *c, int64_t now,
				   struct rules_error *reterr);
/* Remove the rules whose time is at or before now; returns how many. */
size_t rules_container_drop_expired(struct rules_container *c, int64_t now);
/* The earliest expires_at of c's rules, or 0 when none expires. */
int64_t rules_container_next_expiry(const struct rules_container *c);
/* t as "2026-12-31T18:00:00Z"; returns buf. */
const char *rules_time_format(int64_t t, char buf[RULES_TIME_STRLEN]);

/* Does c have a rule whose destination is a name? */
bool rules_container_has_names(const struct rules_container *c);

/* Binary search by id; NULL when absent. */
const struct rules_container *rules_set_find(const struct rules_set *s, const char *id);

#endif
