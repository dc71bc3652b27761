/*
 * The netfilter netlink sockets of nft/, and their reading: a
 * connection's request/response exchanges, and the announcements and
 * drop reports that the monitor and the drop log drain.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/socket.h>

#include <arpa/inet.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "nft/nft_int.h"

/* Far longer than any answer takes: a stuck kernel answer must not hang
 * the agent forever. */
#define CONN_TIMEOUT_MS 30000

/* Dump replies are batched into skbs of up to 32 KiB; a smaller buffer
 * would truncate them. */
#define CONN_DUMP_BUF 65536

/* nft_conn_request_many(): answers read per call, and room for each */
#define CONN_MANY 64
#define CONN_MANY_BUF 4096

int
nft_sock_open(unsigned int groups, int rcvbuf, struct mnl_socket **ret)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
	int fd, r;

	if (nl == NULL)
		return -errno;
	fd = mnl_socket_get_fd(nl);
	/* FORCE passes over net.core.rmem_max with CAP_NET_ADMIN; without
	 * it, the capped option is the best there is */
	if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (mnl_socket_bind(nl, groups, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		mnl_socket_close(nl);
		return r;
	}
	*ret = nl;
	return 0;
}

int
nft_conn_open(const char *table, struct nft_conn **ret)
{
	struct nft_conn *c;
	int one = 1;
	int r;

	if (strlen(table) == 0 || strlen(table) > NFT_TABLE_NAME_MAX)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	/* kept: a dump makes several requests per container chain */
	c->rbuf = malloc(CONN_DUMP_BUF);
	if (c->rbuf == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	strcpy(c->table, table);
	r = nft_sock_open(0, 0, &c->nl);
	if (r < 0)
		goto fail;
	/* Extended acks carry the kernel's reason; capped acks keep error
	 * replies small by not echoing the failed message back. */
	if (mnl_socket_setsockopt(c->nl, NETLINK_EXT_ACK, &one, sizeof(one)) < 0 ||
	    mnl_socket_setsockopt(c->nl, NETLINK_CAP_ACK, &one, sizeof(one)) < 0) {
		r = -errno;
		goto fail;
	}
	c->portid = mnl_socket_get_portid(c->nl);
	c->seq = (uint32_t)time(NULL);
	*ret = c;
	return 0;
fail:
	nft_conn_close(c);
	return r;
}

void
nft_conn_close(struct nft_conn *c)
{
	if (c == NULL)
		return;
	if (c->nl != NULL)
		mnl_socket_close(c->nl);
	free(c->rbuf);
	free(c->many);
	free(c);
}

const char *
nft_conn_table(const struct nft_conn *c)
{
	return c->table;
}

void
nft_conn_hold_table(struct nft_conn *c)
{
	c->hold = true;
}

void
nft_conn_no_owner(struct nft_conn *c)
{
	c->no_owner = true;
}

void
nft_conn_set_options(struct nft_conn *c, const struct nft_options *o)
{
	c->opts = *o;
}

int
nft_genid(struct nft_conn *c, uint32_t *ret)
{
	return nft_conn_genid(c, ret);
}

uint64_t
nft_conn_sent(const struct nft_conn *c)
{
	return c->sent;
}

uint32_t
nft_conn_seq(struct nft_conn *c)
{
	return ++c->seq;
}

static int
wait_readable(struct nft_conn *c)
{
	struct pollfd pfd = {.fd = mnl_socket_get_fd(c->nl), .events = POLLIN};
	int n;

	do
		n = poll(&pfd, 1, CONN_TIMEOUT_MS);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

/* Whether the answers in buf include the last one for seq. */
static bool
holds_end(const void *buf, size_t len, uint32_t seq)
{
	const struct nlmsghdr *nlh = buf;
	int n = (int)len;

	for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n))
		if (nlh->nlmsg_seq == seq &&
		    (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR))
			return true;
	return false;
}

/* Unmark the dump parts a commit elsewhere marked interrupted. */
static void
clear_intr(void *buf, size_t len)
{
	struct nlmsghdr *nlh = buf;
	int n = (int)len;

	for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n))
		nlh->nlmsg_flags &= ~NLM_F_DUMP_INTR;
}

/*
 * Send one request and feed every answer to cb until the kernel says it
 * is done (dumps end with NLMSG_DONE; plain requests with an ack),
 * reading up to nslots answers of at most slot bytes per system call.
 * After an error the rest of the answer is read and dropped, so that the
 * next request does not get it: a dump another commit interrupted
 * (-EINTR) stops at its first marked part, not at its end.
 */
static int
exchange(struct nft_conn *c, struct nlmsghdr *req, char *buf, unsigned int nslots, size_t slot,
	 mnl_cb_t cb, void *data)
{
	struct mmsghdr mm[CONN_MANY];
	struct iovec iov[CONN_MANY];
	uint32_t seq = req->nlmsg_seq;
	unsigned int i;
	int n, r, failed = 0;

	if (mnl_socket_sendto(c->nl, req, req->nlmsg_len) < 0)
		return -errno;
	c->sent++;
	for (;;) {
		memset(mm, 0, nslots * sizeof(mm[0]));
		for (i = 0; i < nslots; i++) {
			iov[i].iov_base = buf + (size_t)i * slot;
			iov[i].iov_len = slot;
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(mnl_socket_get_fd(c->nl), mm, nslots, 0, NULL);
		if (n < 0) {
			if (errno == EAGAIN) {
				r = wait_readable(c);
				if (r < 0)
					return r;
				continue;
			}
			return -errno;
		}
		for (i = 0; i < (unsigned int)n; i++) {
			/* the rest of a truncated answer is lost: no end to wait for */
			if (mm[i].msg_hdr.msg_flags & MSG_TRUNC)
				return failed < 0 ? failed : -EMSGSIZE;
			if (failed == 0) {
				if (c->intr_ok)
					clear_intr(iov[i].iov_base, mm[i].msg_len);
				r = mnl_cb_run(iov[i].iov_base, mm[i].msg_len, seq, c->portid, cb,
					       data);
				if (r == MNL_CB_STOP)
					return 0; /* the last answer */
				/* the kernel's errors are errnos; anything else is no answer of its
				 */
				if (r < 0)
					failed = errno > 0 && errno < 4096 ? -errno : -EPROTO;
			}
			if (failed < 0 && holds_end(iov[i].iov_base, mm[i].msg_len, seq))
				return failed;
		}
	}
}

/* Dump replies come in skbs of up to 32 KiB, one per read. */
int
nft_conn_dump(struct nft_conn *c, struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	return exchange(c, req, c->rbuf, 1, CONN_DUMP_BUF, cb, data);
}

/*
 * A request answered by many small messages, all queued while the
 * kernel handles it (set elements asked for by key, one answer each),
 * then the ack: read CONN_MANY of them per system call, as a system call
 * per answer would cost more than the kernel's work for it.
 */
int
nft_conn_request_many(struct nft_conn *c, struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	if (c->many == NULL) {
		c->many = malloc(CONN_MANY * CONN_MANY_BUF);
		if (c->many == NULL)
			return -ENOMEM;
	}
	return exchange(c, req, c->many, CONN_MANY, CONN_MANY_BUF, cb, data);
}

int
nft_sock_request(struct mnl_socket *nl, struct nlmsghdr *req, char *buf, size_t size, mnl_cb_t cb,
		 void *data)
{
	/* a connection's view of the socket, enough for exchange() */
	struct nft_conn c = {.nl = nl, .portid = mnl_socket_get_portid(nl)};

	return exchange(&c, req, buf, 1, size, cb, data);
}

int
nft_sock_drain(struct mnl_socket *nl, char *buf, size_t size,
	       int (*cb)(const char *buf, size_t len, void *data), void *data)
{
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, size);
		int r;

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			return -errno; /* ENOBUFS: the kernel dropped messages */
		}
		r = cb(buf, (size_t)n, data);
		if (r < 0)
			return r;
	}
}

static int
genid_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
	{
		if (mnl_attr_get_type(a) == NFTA_GEN_ID && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			*(uint32_t *)data = ntohl(mnl_attr_get_u32(a));
	}
	return MNL_CB_OK;
}

/* The ruleset generation: it changes with every commit by anyone. */
int
nft_conn_genid(struct nft_conn *c, uint32_t *ret_genid)
{
	NFT_MSG_ALIGNED char buf[NFT_REQ_BUF] = {0};
	struct nlmsghdr *nlh;
	struct nfgenmsg *g;
	uint32_t genid = 0;
	int r;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = nft_conn_seq(c);
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	r = nft_conn_dump(c, nlh, genid_cb, &genid);
	if (r < 0)
		return r;
	*ret_genid = genid;
	return 0;
}
