#ifndef RESOLVERD_H
#define RESOLVERD_H

/*
 * resolverd: the process that answers containers' DNS queries for
 * rules by name. agentd starts it with its sockets bound (the UDP and
 * TCP listeners the table redirects port 53 to, and a Unix listener
 * for agentd itself) and it drops every privilege before it reads a
 * packet. It outlives agentd: a restarted agent connects again and
 * sends the policy anew, and what waits for it meanwhile is held.
 *
 * What it asks of agentd is only "open these addresses for this
 * container's rule, for so long" (control.c); it answers the container
 * once agentd says they are open (query.c).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "resolver/resolver.h"
#include "rules/rules.h"

#define RD_QUERIES_MAX 1024  /* queries under way, for all containers */
#define RD_QUERIES_PER_CT 64 /* ... for one container */
#define RD_TCP_MAX 128	     /* TCP clients at once */
#define RD_TCP_BUF 4096	     /* a TCP query's bytes; larger ones are not queries */
#define RD_UPSTREAM_MAX 4
#define RD_RULES_MAX 16		  /* rules by name one query opens addresses for */
#define RD_UPSTREAM_RETRY_MS 1000 /* then the next server is asked */
#define RD_UPSTREAM_DEADLINE_MS 4000
#define RD_AGENT_DEADLINE_MS 10000 /* an answer waits this long for agentd, then SERVFAIL */
#define RD_TCP_IDLE_MS 10000
#define RD_ORPHAN_MS 60000 /* without agentd this long, the resolver exits */

/* One container's policy: its rules by name and its default. */
struct rd_ct {
	char ifname[IFNAMSIZ];
	uint32_t mark, mask;	   /* on a bridge: packet mark & mask == mark (0: none) */
	struct rules_container fw; /* id, policy, and the rules by name only */
	double tokens;		   /* queries it may send now */
	int64_t refill_ms;
	unsigned int queries; /* under way */
};

enum rd_client {
	RD_UDP4,
	RD_UDP6,
	RD_TCP,
};

/* A query under way: asked upstream, or its answer waiting for agentd. */
struct rd_query {
	bool used;
	enum rd_client kind;
	unsigned int tcp; /* RD_TCP: the client's slot, and its generation */
	uint32_t tcp_gen;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	struct in_pktinfo pi4; /* where it came in: the answer leaves from there */
	struct in6_pktinfo pi6;
	uint8_t *wire; /* the container's query */
	size_t len;
	struct resolver_query q;
	char ifname[IFNAMSIZ];
	char ct[RULES_ID_MAX + 1];
	size_t nrules;
	char rules[RD_RULES_MAX][RULES_ID_MAX + 1];
	int up_fd; /* -1: not asking */
	uint16_t up_id;
	unsigned int up_next;
	int64_t retry_ms;
	int64_t deadline_ms;
	uint64_t req; /* waiting for agentd to open the addresses; 0: not */
	uint8_t *answer;
	size_t alen;
	struct resolver_addr addrs[RESOLVER_ADDRS_MAX];
	size_t naddrs;
};

struct rd_tcp {
	int fd; /* -1: free */
	uint32_t gen;
	char ifname[IFNAMSIZ]; /* the container's; "" while agentd is asked whose (peer) */
	uint64_t peer;
	uint8_t buf[2 + RD_TCP_BUF];
	size_t have;
	int64_t idle_ms;
};

struct rd {
	int ep;
	int ctl_listen, ctl; /* agentd's listener and its connection (-1: none) */
	int udp4, udp6, tcp4, tcp6;
	uint16_t port;
	struct sockaddr_storage up[RD_UPSTREAM_MAX];
	socklen_t uplen[RD_UPSTREAM_MAX];
	size_t nup;
	struct resolver_ttl ttl;
	unsigned int rate; /* queries per second per container */
	struct rd_ct *cts;
	size_t ncts;
	bool agent_ready; /* agentd sent the whole policy */
	uint64_t next_req;
	char *in; /* from agentd: lines */
	size_t inlen, incap;
	char *out; /* to agentd, not sent yet */
	size_t outlen, outcap;
	struct rd_query q[RD_QUERIES_MAX];
	struct rd_tcp tcp[RD_TCP_MAX];
};

/* epoll data: what is ready, and its slot. */
enum rd_tag {
	RD_TAG_CTL_LISTEN = 1,
	RD_TAG_CTL,
	RD_TAG_UDP4,
	RD_TAG_UDP6,
	RD_TAG_TCP4,
	RD_TAG_TCP6,
	RD_TAG_TCP_CLIENT,
	RD_TAG_UPSTREAM,
};

static inline uint64_t
rd_tag(enum rd_tag t, unsigned int slot)
{
	return (uint64_t)t << 32 | slot;
}

int64_t rd_now_ms(void);
int rd_watch(struct rd *rd, int fd, enum rd_tag t, unsigned int slot);

/* query.c */
void rd_udp_ready(struct rd *rd, int fd, enum rd_client kind);
void rd_tcp_accept(struct rd *rd, int fd, enum rd_client family);
void rd_tcp_ready(struct rd *rd, unsigned int slot);
void rd_upstream_ready(struct rd *rd, unsigned int slot);
/* Retries, deadlines and idle clients; the milliseconds until the next one. */
int rd_timers(struct rd *rd);
/* agentd opened (ok) the addresses of request req, or could not. */
void rd_opened(struct rd *rd, uint64_t req, bool ok);
/* Every answer waiting for agentd is asked for again (a new agentd). */
void rd_resend_opens(struct rd *rd);
/* agentd says which port's mark opened the connection of request req (0: none). */
void rd_peer(struct rd *rd, uint64_t req, uint32_t mark);

/* control.c */
struct rd_ct *rd_ct_find(struct rd *rd, const char *ifname);
/* The container whose bridge port a packet's mark names, or NULL. */
struct rd_ct *rd_ct_find_mark(struct rd *rd, uint32_t mark);
void rd_ctl_accept(struct rd *rd);
void rd_ctl_ready(struct rd *rd);
void rd_ctl_flush(struct rd *rd);
/* Ask agentd to open q's addresses (when it is there). */
void rd_send_open(struct rd *rd, const struct rd_query *q);
/* Ask agentd who opened a TCP connection from addr:port on ifname, a bridge. */
void rd_send_peer(struct rd *rd, uint64_t req, const char *ifname,
		  const struct sockaddr_storage *peer);
/* Tell agentd that ct's query for name was refused (its drop log). */
void rd_send_refused(struct rd *rd, const struct rd_ct *ct, const char *name, uint16_t qtype);

#endif
