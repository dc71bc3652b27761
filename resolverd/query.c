/*
 * Containers' queries: read (UDP, TCP), decided (resolver_decide()),
 * asked upstream in a message of our own, and answered once agentd has
 * opened what the answer gives. Who asked is the interface the query
 * came in on: the packet's on UDP, the connection's on TCP (the kernel
 * keeps the ingress of the handshake, IP_PKTOPTIONS).
 */

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>

#include "resolverd/resolverd.h"

#define UDP_MAX 4096 /* what we read of a query or an answer */

struct client {
	enum rd_client kind;
	unsigned int tcp;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	struct in_pktinfo pi4;
	struct in6_pktinfo pi6;
};

static void
send_udp(struct rd *rd, const struct client *c, const uint8_t *wire, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = (void *)(uintptr_t)wire, .iov_len = len};
	struct msghdr msg = {.msg_name = (void *)(uintptr_t)&c->peer,
			     .msg_namelen = c->peerlen,
			     .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf};
	struct cmsghdr *cm;

	memset(&u, 0, sizeof(u));
	/* from the address the query went to after the redirect: conntrack
	 * then gives the container the address it asked */
	if (c->kind == RD_UDP4) {
		struct in_pktinfo pi = {.ipi_spec_dst = c->pi4.ipi_addr};

		msg.msg_controllen = CMSG_SPACE(sizeof(pi));
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	} else {
		msg.msg_controllen = CMSG_SPACE(sizeof(c->pi6));
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(c->pi6));
		memcpy(CMSG_DATA(cm), &c->pi6, sizeof(c->pi6));
	}
	sendmsg(c->kind == RD_UDP4 ? rd->udp4 : rd->udp6, &msg, MSG_DONTWAIT);
}

static void
tcp_close(struct rd *rd, unsigned int slot)
{
	struct rd_tcp *t = &rd->tcp[slot];

	if (t->fd < 0)
		return;
	close(t->fd);
	t->fd = -1;
	t->gen++;
	t->have = 0;
}

static void
send_tcp(struct rd *rd, unsigned int slot, const uint8_t *wire, size_t len)
{
	struct rd_tcp *t = &rd->tcp[slot];
	uint8_t hdr[2] = {(uint8_t)(len >> 8), (uint8_t)len};
	struct iovec iov[2] = {{hdr, 2}, {(void *)(uintptr_t)wire, len}};
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};

	if (sendmsg(t->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)len + 2)
		tcp_close(rd, slot); /* a client that does not read its answers */
	else
		t->idle_ms = rd_now_ms() + RD_TCP_IDLE_MS;
}

/* The answer wire to client c (rcode < 0), or one made here with rcode. */
static void
reply(struct rd *rd, const struct client *c, const uint8_t *query, size_t qlen, int rcode,
      const uint8_t *wire, size_t len, uint16_t udp_size)
{
	uint8_t *made = NULL;
	size_t max = udp_size > 512 ? udp_size : 512;

	if (rcode >= 0) {
		if (resolver_reply(query, qlen, rcode, &made, &len) < 0)
			return;
		wire = made;
	}
	if (c->kind == RD_TCP) {
		send_tcp(rd, c->tcp, wire, len);
	} else if (len > max) {
		/* too long for the client's datagrams: the question alone,
		 * truncated, and it asks again over TCP */
		free(made);
		if (resolver_reply(query, qlen, 0, &made, &len) < 0)
			return;
		made[2] |= 0x02; /* TC */
		send_udp(rd, c, made, len);
	} else {
		send_udp(rd, c, wire, len);
	}
	free(made);
}

static void
query_client(const struct rd_query *q, struct client *c)
{
	memset(c, 0, sizeof(*c));
	c->kind = q->kind;
	c->tcp = q->tcp;
	c->peer = q->peer;
	c->peerlen = q->peerlen;
	c->pi4 = q->pi4;
	c->pi6 = q->pi6;
}

static void
query_free(struct rd *rd, struct rd_query *q)
{
	struct rd_ct *ct = rd_ct_find(rd, q->ifname);

	if (ct != NULL && ct->queries > 0)
		ct->queries--;
	if (q->up_fd >= 0)
		close(q->up_fd);
	free(q->wire);
	free(q->answer);
	memset(q, 0, sizeof(*q));
	q->up_fd = -1;
}

/* Answer q (with its answer, or rcode when >= 0) unless its TCP client went. */
static void
query_done(struct rd *rd, struct rd_query *q, int rcode)
{
	struct client c;

	query_client(q, &c);
	if (q->kind != RD_TCP || (rd->tcp[q->tcp].fd >= 0 && rd->tcp[q->tcp].gen == q->tcp_gen))
		reply(rd, &c, q->wire, q->len, rcode, q->answer, q->alen, q->q.udp_size);
	query_free(rd, q);
}

/* Ask the next upstream server, in a message and from a port of its own. */
static int
ask_upstream(struct rd *rd, struct rd_query *q)
{
	const struct sockaddr_storage *up;
	uint8_t *wire = NULL;
	size_t len;
	int fd, r;

	if (rd->nup == 0)
		return -ENOENT;
	if (q->up_fd >= 0) {
		close(q->up_fd);
		q->up_fd = -1;
	}
	up = &rd->up[q->up_next % rd->nup];
	if (getrandom(&q->up_id, sizeof(q->up_id), 0) != sizeof(q->up_id))
		return -EIO;
	r = resolver_upstream_query(&q->q, q->up_id, &wire, &len);
	if (r < 0)
		return r;
	fd = socket(up->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    connect(fd, (const struct sockaddr *)up, rd->uplen[q->up_next % rd->nup]) < 0 ||
	    send(fd, wire, len, 0) != (ssize_t)len) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		free(wire);
		return r;
	}
	free(wire);
	q->up_fd = fd;
	q->up_next++;
	q->retry_ms = rd_now_ms() + RD_UPSTREAM_RETRY_MS;
	return rd_watch(rd, fd, RD_TAG_UPSTREAM, (unsigned int)(q - rd->q));
}

/* Take a query token of ct: at most rate a second, bursts of twice that. */
static bool
ct_take(struct rd *rd, struct rd_ct *ct)
{
	int64_t now = rd_now_ms();

	ct->tokens += (now - ct->refill_ms) * rd->rate / 1000.0;
	if (ct->tokens > 2.0 * rd->rate)
		ct->tokens = 2.0 * rd->rate;
	ct->refill_ms = now;
	if (ct->tokens < 1 || ct->queries >= RD_QUERIES_PER_CT)
		return false;
	ct->tokens -= 1;
	return true;
}

/* A query from client c, of container ct (NULL: one agentd named none). */
static void
handle(struct rd *rd, const struct client *c, struct rd_ct *ct, const uint8_t *wire, size_t len)
{
	size_t *idx, n = 0, i;
	struct resolver_query q;
	enum resolver_verdict v;
	struct rd_query *pq = NULL;
	int rcode;

	/* an interface agentd sent no policy for gets nothing from here */
	if (ct == NULL) {
		reply(rd, c, wire, len, RESOLVER_RCODE_REFUSED, NULL, 0, 0);
		return;
	}
	if (!ct_take(rd, ct))
		return; /* over its rate: dropped, the client asks again later */
	switch (resolver_query_parse(wire, len, &q, &rcode)) {
	case 0:
		break;
	case -EPROTO:
		reply(rd, c, wire, len, rcode, NULL, 0, 0);
		return;
	default:
		return;
	}
	idx = calloc(ct->fw.nrules + 1, sizeof(*idx));
	if (idx == NULL) {
		reply(rd, c, wire, len, RESOLVER_RCODE_SERVFAIL, NULL, 0, q.udp_size);
		return;
	}
	v = resolver_decide(&ct->fw, &q, idx, &n);
	if (v != RESOLVER_FORWARD)
		free(idx);
	if (v == RESOLVER_REFUSE) {
		/* nothing leaves the host: nothing to carry data out */
		reply(rd, c, wire, len, RESOLVER_RCODE_NXDOMAIN, NULL, 0, q.udp_size);
		rd_send_refused(rd, ct, q.name, q.qtype);
		return;
	}
	if (v == RESOLVER_NODATA) {
		reply(rd, c, wire, len, RESOLVER_RCODE_NOERROR, NULL, 0, q.udp_size);
		return;
	}
	for (i = 0; i < RD_QUERIES_MAX && pq == NULL; i++)
		if (!rd->q[i].used)
			pq = &rd->q[i];
	if (pq == NULL || (pq->wire = malloc(len)) == NULL) {
		free(idx);
		reply(rd, c, wire, len, RESOLVER_RCODE_SERVFAIL, NULL, 0, q.udp_size);
		return;
	}
	pq->used = true;
	pq->kind = c->kind;
	pq->tcp = c->tcp;
	pq->tcp_gen = c->kind == RD_TCP ? rd->tcp[c->tcp].gen : 0;
	pq->peer = c->peer;
	pq->peerlen = c->peerlen;
	pq->pi4 = c->pi4;
	pq->pi6 = c->pi6;
	memcpy(pq->wire, wire, len);
	pq->len = len;
	pq->q = q;
	snprintf(pq->ifname, sizeof(pq->ifname), "%s", ct->ifname);
	snprintf(pq->ct, sizeof(pq->ct), "%s", ct->fw.id);
	for (i = 0; i < n && pq->nrules < RD_RULES_MAX; i++)
		snprintf(pq->rules[pq->nrules++], RULES_ID_MAX + 1, "%s", ct->fw.rules[idx[i]].id);
	free(idx);
	pq->deadline_ms = rd_now_ms() + RD_UPSTREAM_DEADLINE_MS;
	ct->queries++;
	if (ask_upstream(rd, pq) < 0)
		query_done(rd, pq, RESOLVER_RCODE_SERVFAIL);
}

void
rd_udp_ready(struct rd *rd, int fd, enum rd_client kind)
{
	uint8_t buf[UDP_MAX];
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
			 CMSG_SPACE(sizeof(struct in_pktinfo)) + CMSG_SPACE(sizeof(uint32_t))];
		struct cmsghdr align;
	} u;
	int k;

	for (k = 0; k < 64; k++) {
		struct client c = {.kind = kind};
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
		struct msghdr msg = {.msg_name = &c.peer,
				     .msg_namelen = sizeof(c.peer),
				     .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = u.buf,
				     .msg_controllen = sizeof(u.buf)};
		char ifname[IFNAMSIZ] = "";
		unsigned int ifindex = 0;
		uint32_t mark = 0;
		struct cmsghdr *cm;
		struct rd_ct *ct;
		ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);

		if (n < 0)
			return;
		c.peerlen = msg.msg_namelen;
		for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
			if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
				memcpy(&c.pi4, CMSG_DATA(cm), sizeof(c.pi4));
				ifindex = c.pi4.ipi_ifindex;
			} else if (cm->cmsg_level == IPPROTO_IPV6 &&
				   cm->cmsg_type == IPV6_PKTINFO) {
				memcpy(&c.pi6, CMSG_DATA(cm), sizeof(c.pi6));
				ifindex = c.pi6.ipi6_ifindex;
			} else if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_MARK &&
				   cm->cmsg_len == CMSG_LEN(sizeof(mark))) {
				memcpy(&mark, CMSG_DATA(cm), sizeof(mark));
			}
		}
		if ((msg.msg_flags & MSG_TRUNC) || ifindex == 0 ||
		    if_indextoname(ifindex, ifname) == NULL)
			continue;
		/* in on a bridge: the port's id, which the table wrote, says who */
		ct = rd_ct_find(rd, ifname);
		handle(rd, &c, ct != NULL ? ct : rd_ct_find_mark(rd, mark), buf, (size_t)n);
	}
}

/* The interface the connection's handshake came in on. */
static int
tcp_ifindex(int fd, int family)
{
	union {
		char buf[256];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_control = u.buf};
	socklen_t len = sizeof(u.buf);
	struct cmsghdr *cm;
	int one = 1;

	if (family == AF_INET) {
		if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
		    getsockopt(fd, IPPROTO_IP, IP_PKTOPTIONS, u.buf, &len) < 0)
			return -errno;
	} else if (setsockopt(fd, IPPROTO_IPV6, IPV6_2292PKTINFO, &one, sizeof(one)) < 0 ||
		   getsockopt(fd, IPPROTO_IPV6, IPV6_2292PKTOPTIONS, u.buf, &len) < 0) {
		return -errno;
	}
	msg.msg_controllen = len;
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO)
			return ((struct in_pktinfo *)(void *)CMSG_DATA(cm))->ipi_ifindex;
		if (cm->cmsg_level == IPPROTO_IPV6 &&
		    (cm->cmsg_type == IPV6_2292PKTINFO || cm->cmsg_type == IPV6_PKTINFO))
			return ((struct in6_pktinfo *)(void *)CMSG_DATA(cm))->ipi6_ifindex;
	}
	return -ENOENT;
}

/*
 * A connection that came in on a container's interface is that
 * container's; one that came in on a bridge waits for agentd to say
 * whose port opened it (tcp[].peer), reading meanwhile.
 */
void
rd_tcp_accept(struct rd *rd, int lfd, enum rd_client family)
{
	int k;

	for (k = 0; k < 16; k++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd =
			accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		char ifname[IFNAMSIZ];
		struct rd_ct *ct = NULL;
		struct rd_tcp *t;
		unsigned int i;
		int ifindex;

		if (fd < 0)
			return;
		ifindex = tcp_ifindex(fd, family == RD_UDP4 ? AF_INET : AF_INET6);
		for (i = 0; i < RD_TCP_MAX && rd->tcp[i].fd >= 0; i++)
			;
		if (ifindex <= 0 || i == RD_TCP_MAX ||
		    if_indextoname((unsigned int)ifindex, ifname) == NULL ||
		    ((ct = rd_ct_find(rd, ifname)) == NULL && !rd->agent_ready)) {
			close(fd);
			continue;
		}
		t = &rd->tcp[i];
		t->fd = fd;
		t->have = 0;
		t->idle_ms = rd_now_ms() + RD_TCP_IDLE_MS;
		t->peer = 0;
		snprintf(t->ifname, sizeof(t->ifname), "%s", ifname);
		if (ct == NULL) {
			t->ifname[0] = '\0';
			t->peer = ++rd->next_req;
			rd_send_peer(rd, t->peer, ifname, &peer);
		}
		if (rd_watch(rd, fd, RD_TAG_TCP_CLIENT, i) < 0)
			tcp_close(rd, i);
	}
}

/* Answer every whole query read, once the connection's container is known. */
static void
tcp_serve(struct rd *rd, unsigned int slot)
{
	struct rd_tcp *t = &rd->tcp[slot];

	while (t->fd >= 0 && t->ifname[0] != '\0' && t->have >= 2) {
		size_t len = (size_t)t->buf[0] << 8 | t->buf[1];
		struct client c = {.kind = RD_TCP, .tcp = slot};

		if (len > RD_TCP_BUF) {
			tcp_close(rd, slot);
			return;
		}
		if (t->have < 2 + len)
			return;
		handle(rd, &c, rd_ct_find(rd, t->ifname), t->buf + 2, len);
		if (t->fd < 0)
			return;
		memmove(t->buf, t->buf + 2 + len, t->have - 2 - len);
		t->have -= 2 + len;
	}
}

void
rd_peer(struct rd *rd, uint64_t req, uint32_t mark)
{
	struct rd_ct *ct = rd_ct_find_mark(rd, mark);
	unsigned int i;

	for (i = 0; i < RD_TCP_MAX; i++) {
		struct rd_tcp *t = &rd->tcp[i];

		if (t->fd < 0 || t->peer == 0 || t->peer != req)
			continue;
		t->peer = 0;
		if (ct == NULL) {
			tcp_close(rd, i); /* no container of ours: nobody to answer */
			return;
		}
		snprintf(t->ifname, sizeof(t->ifname), "%s", ct->ifname);
		tcp_serve(rd, i);
		return;
	}
}

void
rd_tcp_ready(struct rd *rd, unsigned int slot)
{
	struct rd_tcp *t = &rd->tcp[slot];
	ssize_t n;

	if (t->fd < 0)
		return;
	n = recv(t->fd, t->buf + t->have, sizeof(t->buf) - t->have, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN)) {
		tcp_close(rd, slot);
		return;
	}
	if (n < 0)
		return;
	t->have += n;
	t->idle_ms = rd_now_ms() + RD_TCP_IDLE_MS;
	tcp_serve(rd, slot);
}

void
rd_upstream_ready(struct rd *rd, unsigned int slot)
{
	struct rd_query *q = &rd->q[slot];
	uint8_t buf[UDP_MAX];
	ssize_t n;
	int r;

	if (!q->used || q->up_fd < 0)
		return;
	n = recv(q->up_fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0 || (size_t)n > sizeof(buf))
		return; /* an error from the network, or no DNS answer: wait for another */
	r = resolver_answer(&q->q, q->up_id, q->wire, q->len, buf, (size_t)n, &rd->ttl, q->addrs,
			    &q->naddrs, &q->answer, &q->alen);
	if (r == -EBADMSG)
		return;
	close(q->up_fd);
	q->up_fd = -1;
	if (r < 0) {
		/* truncated (no TCP upstream yet), or out of memory */
		query_done(rd, q, RESOLVER_RCODE_SERVFAIL);
		return;
	}
	if (q->naddrs == 0 || q->nrules == 0) {
		/* nothing to open: an answer without addresses, or a
		 * container whose default allows the name */
		query_done(rd, q, -1);
		return;
	}
	q->req = ++rd->next_req;
	q->deadline_ms = rd_now_ms() + RD_AGENT_DEADLINE_MS;
	rd_send_open(rd, q);
}

void
rd_opened(struct rd *rd, uint64_t req, bool ok)
{
	size_t i;

	for (i = 0; i < RD_QUERIES_MAX; i++)
		if (rd->q[i].used && rd->q[i].req == req && req != 0) {
			query_done(rd, &rd->q[i], ok ? -1 : RESOLVER_RCODE_SERVFAIL);
			return;
		}
}

void
rd_resend_opens(struct rd *rd)
{
	size_t i;

	for (i = 0; i < RD_QUERIES_MAX; i++)
		if (rd->q[i].used && rd->q[i].req != 0)
			rd_send_open(rd, &rd->q[i]);
}

int
rd_timers(struct rd *rd)
{
	int64_t now = rd_now_ms(), next = now + 1000;
	size_t i;

	for (i = 0; i < RD_QUERIES_MAX; i++) {
		struct rd_query *q = &rd->q[i];

		if (!q->used)
			continue;
		if (now >= q->deadline_ms) {
			query_done(rd, q, RESOLVER_RCODE_SERVFAIL);
			continue;
		}
		if (q->req == 0 && now >= q->retry_ms && ask_upstream(rd, q) < 0) {
			query_done(rd, q, RESOLVER_RCODE_SERVFAIL);
			continue;
		}
		if (q->deadline_ms < next)
			next = q->deadline_ms;
		if (q->req == 0 && q->retry_ms < next)
			next = q->retry_ms;
	}
	for (i = 0; i < RD_TCP_MAX; i++) {
		if (rd->tcp[i].fd < 0)
			continue;
		if (now >= rd->tcp[i].idle_ms)
			tcp_close(rd, i);
		else if (rd->tcp[i].idle_ms < next)
			next = rd->tcp[i].idle_ms;
	}
	return (int)(next - now);
}
