/*
 * The drop log: packets the table drops, as nfnetlink_log delivers them
 * to the NFLOG group of the drops chain (see layout.c). The kernel has
 * already rate-limited them per container and for the host; each comes
 * with the conntrack mark copied into the packet mark, which is the tag
 * of the rule (or default) that dropped it.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <net/if.h>
#include <netinet/in.h>

#include "nft/nft_int.h"

#define DROPLOG_BUF 65536
#define DROPLOG_RCVBUF (1024 * 1024)

struct nft_droplog {
	struct mnl_socket *nl;
	uint16_t group;
	uint32_t seq;
	char *buf;
};

/* One config request to the group's instance, answered with an ack. */
static int
config(struct nft_droplog *l, uint16_t attr, const void *data, uint16_t len)
{
	NFT_MSG_ALIGNED char buf[8192] = {0};
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++l->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(l->group);
	mnl_attr_put(nlh, attr, len, data);
	return nft_sock_request(l->nl, nlh, l->buf, DROPLOG_BUF, NULL, NULL);
}

int
nft_droplog_open(uint16_t group, struct nft_droplog **ret)
{
	struct nfulnl_msg_config_cmd bind = {.command = NFULNL_CFG_CMD_BIND};
	struct nfulnl_msg_config_mode mode = {.copy_range = htonl(LAYOUT_DROP_SNAPLEN),
					      .copy_mode = NFULNL_COPY_PACKET};
	uint32_t qthresh = htonl(1); /* each drop as it happens: the kernel limits the rate */
	struct nft_droplog *l = calloc(1, sizeof(*l));
	int r;

	if (l == NULL)
		return -ENOMEM;
	l->group = group;
	l->seq = (uint32_t)time(NULL);
	l->buf = malloc(DROPLOG_BUF);
	/* a larger buffer absorbs bursts of reports between reads */
	r = l->buf != NULL ? nft_sock_open(0, DROPLOG_RCVBUF, &l->nl) : -ENOMEM;
	if (r < 0)
		goto fail;
	r = config(l, NFULA_CFG_CMD, &bind, sizeof(bind)); /* -EPERM: someone has the group */
	if (r == 0)
		r = config(l, NFULA_CFG_MODE, &mode, sizeof(mode));
	if (r == 0)
		r = config(l, NFULA_CFG_QTHRESH, &qthresh, sizeof(qthresh));
	if (r < 0)
		goto fail;
	*ret = l;
	return 0;
fail:
	nft_droplog_close(l);
	return r;
}

void
nft_droplog_close(struct nft_droplog *l)
{
	if (l == NULL)
		return;
	if (l->nl != NULL)
		mnl_socket_close(l->nl); /* the kernel unbinds the group with the socket */
	free(l->buf);
	free(l);
}

int
nft_droplog_fd(const struct nft_droplog *l)
{
	return mnl_socket_get_fd(l->nl);
}

struct packet_read {
	const struct nlattr *tb[NFULA_MAX + 1];
};

static int
attr_cb(const struct nlattr *a, void *data)
{
	struct packet_read *p = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type <= NFULA_MAX)
		p->tb[type] = a;
	return MNL_CB_OK;
}

/* Addresses and ports from the headers the kernel copied. */
static void
parse_headers(const uint8_t *pkt, size_t len, struct nft_drop *d)
{
	size_t l4 = 0;

	if (len >= 20 && (pkt[0] >> 4) == 4) {
		d->family = AF_INET;
		d->proto = pkt[9];
		memcpy(d->saddr, pkt + 12, 4);
		memcpy(d->daddr, pkt + 16, 4);
		l4 = (size_t)(pkt[0] & 0xf) * 4;
		/* a later fragment carries no ports */
		if ((ntohs(*(const uint16_t *)(pkt + 6)) & 0x1fff) != 0)
			return;
	} else if (len >= 40 && (pkt[0] >> 4) == 6) {
		d->family = AF_INET6;
		d->proto = pkt[6]; /* the next header; extension headers are not followed */
		memcpy(d->saddr, pkt + 8, 16);
		memcpy(d->daddr, pkt + 24, 16);
		l4 = 40;
	} else
		return;
	if ((d->proto == IPPROTO_TCP || d->proto == IPPROTO_UDP) && len >= l4 + 4) {
		d->sport = (uint16_t)(pkt[l4] << 8 | pkt[l4 + 1]);
		d->dport = (uint16_t)(pkt[l4 + 2] << 8 | pkt[l4 + 3]);
	}
}

static int
packet(const struct nlmsghdr *nlh, nft_droplog_cb cb, void *data)
{
	struct packet_read p = {{0}};
	struct nft_drop d = {0};
	const struct nlattr *in;

	if (nlh->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET))
		return 0;
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_cb, &p) < 0)
		return 0; /* a malformed message: skip it, not the rest */
	clock_gettime(CLOCK_REALTIME, &d.when);
	if (p.tb[NFULA_MARK] != NULL && mnl_attr_get_payload_len(p.tb[NFULA_MARK]) == 4)
		d.tag = ntohl(mnl_attr_get_u32(p.tb[NFULA_MARK]));
	/* a bridged packet came in on the bridge through a port: the container's */
	in = p.tb[NFULA_IFINDEX_PHYSINDEV] != NULL ? p.tb[NFULA_IFINDEX_PHYSINDEV]
						   : p.tb[NFULA_IFINDEX_INDEV];
	if (in != NULL && mnl_attr_get_payload_len(in) == 4 &&
	    if_indextoname(ntohl(mnl_attr_get_u32(in)), d.ifname) == NULL)
		d.ifname[0] = '\0'; /* gone since */
	if (p.tb[NFULA_PAYLOAD] != NULL)
		parse_headers(mnl_attr_get_payload(p.tb[NFULA_PAYLOAD]),
			      mnl_attr_get_payload_len(p.tb[NFULA_PAYLOAD]), &d);
	return cb(&d, data);
}

struct reader {
	nft_droplog_cb cb;
	void *data;
};

/* One datagram of drop reports. */
static int
packets(const char *buf, size_t n, void *data)
{
	const struct reader *rd = data;
	const struct nlmsghdr *nlh;
	int len = (int)n, r;

	for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len);
	     nlh = mnl_nlmsg_next(nlh, &len)) {
		r = packet(nlh, rd->cb, rd->data);
		if (r < 0)
			return r;
	}
	return 0;
}

int
nft_droplog_read(struct nft_droplog *l, nft_droplog_cb cb, void *data)
{
	struct reader rd = {cb, data};

	return nft_sock_drain(l->nl, l->buf, DROPLOG_BUF, packets, &rd);
}
