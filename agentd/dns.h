#ifndef AGENTD_DNS_H
#define AGENTD_DNS_H

/*
 * dns: agentd's side of the resolver of rules by name. The resolver is
 * a process of its own (hoody-resolver, resolverd/): it parses what
 * containers send, without privileges, and outlives agentd. This
 * module starts it (or finds the one a previous agentd started), sends
 * it every container's rules by name as they change, and does the one
 * thing it may ask: open the addresses an answer gave, for a rule by
 * name of that container whose name matches, for at most the answer's
 * lifetime. Refused queries go to the drop log.
 */

#include <stdbool.h>
#include <stdint.h>

struct drops;
struct engine;
struct dns;

#define DNS_PORT_DEFAULT 1053
#define DNS_UPSTREAM_MAX 4
#define DNS_MIN_TTL_DEFAULT 30
#define DNS_MAX_TTL_DEFAULT 3600
#define DNS_RATE_DEFAULT 100	     /* queries per second per container */
#define DNS_MAX_LEARNED_DEFAULT 4096 /* addresses open per container */

struct dns_upstream {
	char addr[46]; /* IPv4 or IPv6 text */
	uint16_t port;
};

struct dns_options {
	uint16_t port;	       /* what the table redirects port 53 to */
	const char *resolver;  /* the program */
	const char *user;      /* it runs as */
	const char *state_dir; /* its Unix socket: resolver.sock there */
	struct dns_upstream upstream[DNS_UPSTREAM_MAX];
	unsigned int nupstream; /* 0: the host's resolv.conf */
	unsigned int min_ttl, max_ttl;
	unsigned int rate;
	unsigned int max_learned; /* addresses open per container: then the first to close goes */
	unsigned int log_rate;	  /* refused queries reported per second per container */
};

/*
 * Parse "ADDR", "ADDR:PORT" or "[IPV6]:PORT" into *ret. 0 or -EINVAL.
 */
int dns_upstream_parse(const char *s, struct dns_upstream *ret);
/* The nameservers of resolv.conf at path (at most DNS_UPSTREAM_MAX). */
unsigned int dns_upstream_resolv_conf(const char *path, struct dns_upstream *v);

/*
 * Find the resolver a previous agentd started, or start one (its
 * sockets bound, as o->user): while agentd is still root, before it
 * drops its privileges. Returns 0 with the link in *ret, or a negative
 * errno (the port is taken, say), with the reason logged.
 */
int dns_prepare(const struct dns_options *o, struct dns **ret);
/*
 * Start the link's thread: the resolver is kept in step with e's
 * desired state, and its requests served. drops may be NULL. Returns 0
 * or a negative errno.
 */
int dns_start(struct dns *d, struct engine *e, struct drops *drops);
/* Stop the link and free d (NULL: nothing); the resolver goes on. */
void dns_stop(struct dns *d);

#endif
