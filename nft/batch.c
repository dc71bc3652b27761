/*
 * One nf_tables transaction: BATCH_BEGIN, the messages, BATCH_END, sent
 * in a single sendmsg so the kernel commits all of it or none of it.
 *
 * Only BATCH_END asks for an ack. The kernel reports every failing
 * message whether or not it asked for one, and acks END only when the
 * transaction committed, so one ack answers the whole batch where an
 * ack per message would cost 100,000 skbs on a large apply.
 */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <libnftnl/batch.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "nft/nft_int.h"

/* Pages as nftables sizes them; the overrun holds the largest message
 * (a set element message is capped near 64 KiB by its u16 nest). */
#define BATCH_PAGE (2 * 1024 * 1024)
#define BATCH_OVERRUN (128 * 1024)
/* Room for error replies; past it the kernel drops them (ENOBUFS). */
#define BATCH_RCVBUF (4 * 1024 * 1024)
/* Kernels before 6.10 do not ack BATCH_END: how long to wait for one. */
#define BATCH_END_WAIT_MS 100

struct origin {
	uint32_t seq;
	const char *container;
	const char *rule;
	const char *what;
	const struct nlmsghdr *msg; /* in the batch's pages, which outlive the commit */
	const char *const *owners;  /* set elements: the container of each, in order */
};

struct nft_batch {
	struct nft_conn *c;
	struct nftnl_batch *nb;
	char *zero_lo; /* the span of the current page that is cleared */
	char *zero_hi;
	uint32_t begin_seq;
	struct origin *orig;
	size_t n;
	size_t cap;
};

static void
put_batch_hdr(char *buf, uint16_t type, uint16_t flags, uint32_t seq, uint32_t genid)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(NFNL_SUBSYS_NFTABLES);
	/* The kernel refuses the batch with ERESTART when the ruleset moved
	 * on since genid: our diff would be against a stale picture. */
	if (genid != 0)
		mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(genid));
}

/*
 * libmnl 1.0.4 leaves attribute padding as it finds it: keep the bytes
 * ahead of the batch's tail cleared, so that no stale heap bytes travel
 * to the kernel. A message ends at most BATCH_OVERRUN past the tail,
 * and a page holds BATCH_OVERRUN past its last tail, so clearing that
 * far never leaves the page. A tail outside the cleared span is on a
 * new page (libnftnl moved the message that overflowed the old one).
 */
static char *
batch_tail(struct nft_batch *b)
{
	char *buf = nftnl_batch_buffer(b->nb);

	if (buf < b->zero_lo || buf > b->zero_hi)
		b->zero_lo = b->zero_hi = buf;
	if (b->zero_hi < buf + BATCH_OVERRUN) {
		memset(b->zero_hi, 0, buf + BATCH_OVERRUN - b->zero_hi);
		b->zero_hi = buf + BATCH_OVERRUN;
	}
	return buf;
}

struct nft_batch *
nft_batch_new(struct nft_conn *c, uint32_t genid)
{
	struct nft_batch *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->c = c;
	b->nb = nftnl_batch_alloc(BATCH_PAGE, BATCH_OVERRUN);
	if (b->nb == NULL) {
		free(b);
		return NULL;
	}
	b->begin_seq = nft_conn_seq(c);
	put_batch_hdr(batch_tail(b), NFNL_MSG_BATCH_BEGIN, 0, b->begin_seq, genid);
	if (nftnl_batch_update(b->nb) < 0) {
		nft_batch_free(b);
		return NULL;
	}
	return b;
}

void
nft_batch_free(struct nft_batch *b)
{
	if (b == NULL)
		return;
	if (b->nb != NULL)
		nftnl_batch_free(b->nb);
	free(b->orig);
	free(b);
}

unsigned int
nft_batch_count(const struct nft_batch *b)
{
	return b->n;
}

char *
nft_batch_reserve(struct nft_batch *b, const char *container, const char *rule, const char *what,
		  uint32_t *ret_seq)
{
	struct origin *o;
	char *buf;

	o = nft_grow(b->orig, b->n, &b->cap, sizeof(*o), 256);
	if (o == NULL)
		return NULL;
	b->orig = o;
	o = &b->orig[b->n++];
	o->seq = nft_conn_seq(b->c);
	o->container = container;
	o->rule = rule;
	o->what = what;
	buf = batch_tail(b);
	o->msg = (const struct nlmsghdr *)buf;
	o->owners = NULL;
	*ret_seq = o->seq;
	return buf;
}

void
nft_batch_owners(struct nft_batch *b, const char *const *owners)
{
	b->orig[b->n - 1].owners = owners;
}

/* The owner of the set element at offset off of an element message. */
static const char *
element_owner(const struct origin *o, uint32_t off)
{
	const struct nlattr *a, *e;
	size_t i = 0;

	mnl_attr_for_each(a, o->msg, sizeof(struct nfgenmsg))
	{
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(e, a)
		{
			uint32_t start = (const char *)e - (const char *)o->msg;

			if (off >= start && off < start + e->nla_len)
				return o->owners[i];
			i++;
		}
	}
	return NULL;
}

int
nft_batch_next(struct nft_batch *b)
{
	return nftnl_batch_update(b->nb) < 0 ? -ENOMEM : 0;
}

static const struct origin *
origin_find(const struct nft_batch *b, uint32_t seq)
{
	size_t lo = 0, hi = b->n;

	/* Sequence numbers grow by one per message. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (b->orig[mid].seq - b->orig[0].seq < seq - b->orig[0].seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < b->n && b->orig[lo].seq == seq ? &b->orig[lo] : NULL;
}

struct acks {
	uint32_t end_seq;
	bool end_acked;
	int err;
	uint32_t err_seq;
	uint32_t err_off; /* the failing attribute's offset in its message; 0: unknown */
	char extack[sizeof(((struct nft_error *)0)->detail)];
};

static int
ack_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	struct acks *a = data;
	unsigned int off;
	struct nlattr *attr;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return MNL_CB_ERROR;
	if (e->error == 0) {
		if (nlh->nlmsg_seq == a->end_seq)
			a->end_acked = true;
		return MNL_CB_OK;
	}
	if (a->err != 0)
		return MNL_CB_OK; /* keep draining: the first error explains the rest */
	a->err = e->error;	  /* already -errno */
	a->err_seq = nlh->nlmsg_seq;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return MNL_CB_OK;
	off = sizeof(*e);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += mnl_nlmsg_get_payload_len(&e->msg);
	mnl_attr_for_each(attr, nlh, off)
	{
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_OFFS &&
		    mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			a->err_off = mnl_attr_get_u32(attr);
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			snprintf(a->extack, sizeof(a->extack), "%s", mnl_attr_get_str(attr));
	}
	return MNL_CB_OK;
}

static int
set_bufsize(int fd, int opt_force, int opt, int size)
{
	int cur = 0;
	socklen_t len = sizeof(cur);

	if (getsockopt(fd, SOL_SOCKET, opt, &cur, &len) == 0 && cur >= size)
		return 0;
	/* FORCE needs CAP_NET_ADMIN, which we have; fall back to the
	 * sysctl-capped option otherwise. */
	if (setsockopt(fd, SOL_SOCKET, opt_force, &size, sizeof(size)) == 0 ||
	    setsockopt(fd, SOL_SOCKET, opt, &size, sizeof(size)) == 0)
		return 0;
	return -errno;
}

static mnl_cb_t ctl_cbs[NLMSG_MIN_TYPE] = {
	[NLMSG_ERROR] = ack_cb,
};

static int
drain(struct nft_batch *b, struct acks *a)
{
	int fd = mnl_socket_get_fd(b->c->nl);
	NFT_MSG_ALIGNED char buf[NFT_REQ_BUF] = {0};
	bool waited = false;

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0) {
			struct pollfd pfd = {.fd = fd, .events = POLLIN};

			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS && a->err != 0)
				continue; /* lost only further errors: we have the first */
			if (errno != EAGAIN)
				return -errno;
			/* The kernel answers within sendmsg(); wait only for an
			 * END ack that an older kernel never sends. */
			if (a->end_acked || a->err != 0 || waited)
				return 0;
			waited = true;
			if (poll(&pfd, 1, BATCH_END_WAIT_MS) < 0 && errno != EINTR)
				return -errno;
			continue;
		}
		/* seq 0: answers to every message of the batch are welcome */
		if (mnl_cb_run2(buf, n, 0, b->c->portid, NULL, a, ctl_cbs,
				MNL_ARRAY_SIZE(ctl_cbs)) < 0)
			return -EPROTO;
	}
}

void
nft_batch_explain(const struct nft_batch *b, uint32_t seq, uint32_t off, struct nft_error *reterr)
{
	const struct origin *o = origin_find(b, seq);
	const char *owner;

	if (o == NULL) {
		snprintf(reterr->what, sizeof(reterr->what), "transaction");
		return;
	}
	owner = o->container;
	if (owner == NULL && o->owners != NULL && off != 0)
		owner = element_owner(o, off);
	snprintf(reterr->container, sizeof(reterr->container), "%s", owner ? owner : "");
	snprintf(reterr->rule, sizeof(reterr->rule), "%s", o->rule ? o->rule : "");
	snprintf(reterr->what, sizeof(reterr->what), "%s", o->what);
}

int
nft_batch_commit(struct nft_batch *b, struct nft_error *reterr)
{
	struct sockaddr_nl snl = {.nl_family = AF_NETLINK};
	struct acks a = {0};
	struct msghdr msg = {0};
	struct iovec *iov;
	size_t total = 0;
	int fd = mnl_socket_get_fd(b->c->nl);
	int i, niov, r;

	a.end_seq = nft_conn_seq(b->c);
	put_batch_hdr(batch_tail(b), NFNL_MSG_BATCH_END, NLM_F_ACK, a.end_seq, 0);
	if (nftnl_batch_update(b->nb) < 0)
		return -ENOMEM;

	niov = nftnl_batch_iovec_len(b->nb);
	iov = calloc(niov, sizeof(*iov));
	if (iov == NULL)
		return -ENOMEM;
	nftnl_batch_iovec(b->nb, iov, niov);
	for (i = 0; i < niov; i++)
		total += iov[i].iov_len;
	/* The whole batch travels in one skb: the send buffer must hold it. */
	r = set_bufsize(fd, SO_SNDBUFFORCE, SO_SNDBUF, (int)total + 4096);
	if (r == 0)
		r = set_bufsize(fd, SO_RCVBUFFORCE, SO_RCVBUF, BATCH_RCVBUF);
	if (r < 0) {
		snprintf(reterr->what, sizeof(reterr->what), "size socket buffers");
		goto out;
	}
	msg.msg_name = &snl;
	msg.msg_namelen = sizeof(snl);
	msg.msg_iov = iov;
	msg.msg_iovlen = niov;
	if (sendmsg(fd, &msg, 0) < 0) {
		r = -errno;
		snprintf(reterr->what, sizeof(reterr->what), "send transaction");
		goto out;
	}
	b->c->sent += nft_batch_count(b) + 2; /* with the batch's begin and end */
	r = drain(b, &a);
	if (r < 0) {
		snprintf(reterr->what, sizeof(reterr->what), "read kernel answers");
		snprintf(reterr->detail, sizeof(reterr->detail),
			 "the outcome of the transaction is unknown; dump to see what holds");
		goto out;
	}
	if (a.err == 0) {
		r = 0;
		goto out;
	}
	r = a.err;
	snprintf(reterr->detail, sizeof(reterr->detail), "%s", a.extack);
	nft_batch_explain(b, a.err_seq, a.err_off, reterr);
out:
	reterr->err = r;
	free(iov);
	return r;
}
