/*
 * Changes to the program's table, as nf_tables announces every
 * committed change to the NFNLGRP_NFTABLES group. Each one is reported
 * with what it touched: a container's chain, an element of one of our
 * sets (with its interface), or the table's own objects. Changes made
 * through the connection the monitor was opened for are not reported.
 */

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <net/if.h>

#include "nft/nft_int.h"

struct nft_monitor {
	struct mnl_socket *nl;
	uint32_t ours; /* the port whose commits are our own */
	bool lost;     /* membership could not be changed: report as lost */
	char table[NFT_TABLE_NAME_MAX + 1];
	char *buf;
};

#define MONITOR_BUF 65536

/*
 * Drop announcements of our own commits in the kernel: a commit of
 * 10,000 containers announces 160,000 objects, which would overflow
 * the socket only to be thrown away. nf_tables sends each commit's
 * announcements from the committing port, coalesced into skbs that
 * start with a message header, whose nlmsg_pid a socket filter sees
 * (loaded as a big-endian word, hence the swap).
 */
static int
ignore_port(int fd, uint32_t portid)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct nlmsghdr, nlmsg_pid)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __builtin_bswap32(portid), 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
	};
	struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ? -errno : 0;
}

int
nft_monitor_open(struct nft_conn *c, int rcvbuf, struct nft_monitor **ret)
{
	struct nft_monitor *m = calloc(1, sizeof(*m));
	int r;

	if (m == NULL)
		return -ENOMEM;
	snprintf(m->table, sizeof(m->table), "%s", c->table);
	m->ours = c->portid;
	m->buf = malloc(MONITOR_BUF);
	r = m->buf != NULL ? nft_sock_open(1 << (NFNLGRP_NFTABLES - 1), rcvbuf, &m->nl) : -ENOMEM;
	if (r < 0)
		goto fail;
	r = ignore_port(mnl_socket_get_fd(m->nl), m->ours);
	if (r < 0)
		goto fail;
	c->monitor = m;
	*ret = m;
	return 0;
fail:
	nft_monitor_close(m);
	return r;
}

void
nft_monitor_close(struct nft_monitor *m)
{
	if (m == NULL)
		return;
	if (m->nl != NULL)
		mnl_socket_close(m->nl);
	free(m->buf);
	free(m);
}

/*
 * While anyone listens, nf_tables builds an announcement of every object
 * a commit touches: 160,000 of them for a commit that creates 10,000
 * containers. Our own are dropped anyway; a large commit of ours is
 * made with the group left, and the caller compares the ruleset
 * generation afterwards to learn whether anyone else committed
 * meanwhile.
 */
void
monitor_quiet(struct nft_monitor *m, bool quiet)
{
	int group = NFNLGRP_NFTABLES;

	if (setsockopt(mnl_socket_get_fd(m->nl), SOL_NETLINK,
		       quiet ? NETLINK_DROP_MEMBERSHIP : NETLINK_ADD_MEMBERSHIP, &group,
		       sizeof(group)) < 0)
		m->lost = true; /* say so at the next read */
}

int
nft_monitor_fd(const struct nft_monitor *m)
{
	return mnl_socket_get_fd(m->nl);
}

struct reader {
	const struct nft_monitor *m;
	nft_monitor_cb cb;
	void *data;
	struct nft_change ch;
	int r;
};

/* The string attribute type of nlh's payload, or NULL. */
static const char *
attr_str(const struct nlmsghdr *nlh, uint16_t type)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh,
			  sizeof(struct nfgenmsg)) if (mnl_attr_get_type(a) == type &&
						       mnl_attr_validate(a, MNL_TYPE_NUL_STRING) ==
							       0) return mnl_attr_get_str(a);
	return NULL;
}

static int
elem_cb(const struct raw_elem *e, void *data)
{
	struct reader *rd = data;
	struct nft_change ch = rd->ch;

	if (e == NULL || e->key_len < IFNAMSIZ) {
		ch.kind = NFT_CHANGE_BASE; /* not a key we could have written */
	} else {
		memcpy(ch.ifname, e->key, IFNAMSIZ);
		ch.ifname[IFNAMSIZ - 1] = '\0';
		if (e->key_len == IFNAMSIZ + sizeof(uint32_t))
			memcpy(&ch.tag, (const char *)e->key + IFNAMSIZ, sizeof(ch.tag));
	}
	rd->r = rd->cb(&ch, rd->data);
	return rd->r < 0 ? rd->r : 0;
}

/* The kind of object a message type is about; whether it adds it. */
static enum nft_change_object
change_object(uint16_t type, bool *ret_added)
{
	switch (type) {
	case NFT_MSG_NEWTABLE:
	case NFT_MSG_NEWCHAIN:
	case NFT_MSG_NEWRULE:
	case NFT_MSG_NEWSET:
	case NFT_MSG_NEWSETELEM:
	case NFT_MSG_NEWOBJ:
	case NFT_MSG_NEWFLOWTABLE:
		*ret_added = true;
		break;
	default:
		*ret_added = false;
	}
	switch (type) {
	case NFT_MSG_NEWTABLE:
	case NFT_MSG_DELTABLE:
		return NFT_CHANGED_TABLE;
	case NFT_MSG_NEWCHAIN:
	case NFT_MSG_DELCHAIN:
		return NFT_CHANGED_CHAIN;
	case NFT_MSG_NEWRULE:
	case NFT_MSG_DELRULE:
		return NFT_CHANGED_RULE;
	case NFT_MSG_NEWSET:
	case NFT_MSG_DELSET:
		return NFT_CHANGED_SET;
	case NFT_MSG_NEWSETELEM:
	case NFT_MSG_DELSETELEM:
		return NFT_CHANGED_ELEM;
	default:
		return NFT_CHANGED_OTHER;
	}
}

static int
event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reader *rd = data;
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	uint16_t type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	const char *table, *name, *id;
	int layout_set;

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*g)) || nlh->nlmsg_pid == rd->m->ours)
		return MNL_CB_OK;
	memset(&rd->ch, 0, sizeof(rd->ch));
	rd->ch.object = change_object(type, &rd->ch.added);
	rd->ch.portid = nlh->nlmsg_pid;
	if (type == NFT_MSG_NEWGEN) {
		const struct nlattr *a;

		rd->ch.kind = NFT_CHANGE_COMMIT;
		mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		{
			if (mnl_attr_get_type(a) == NFTA_GEN_ID &&
			    mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				rd->ch.genid = ntohl(mnl_attr_get_u32(a));
			else if (mnl_attr_get_type(a) == NFTA_GEN_PROC_PID &&
				 mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				rd->ch.pid = ntohl(mnl_attr_get_u32(a));
			else if (mnl_attr_get_type(a) == NFTA_GEN_PROC_NAME &&
				 mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
				snprintf(rd->ch.proc, sizeof(rd->ch.proc), "%s",
					 mnl_attr_get_str(a));
		}
		rd->r = rd->cb(&rd->ch, rd->data);
		return rd->r < 0 ? MNL_CB_ERROR : MNL_CB_OK;
	}
	/* attribute 1 names the table in every kind of object */
	table = attr_str(nlh, NFTA_TABLE_NAME);
	if ((g->nfgen_family != NFPROTO_INET && g->nfgen_family != NFPROTO_BRIDGE) ||
	    table == NULL || strcmp(table, rd->m->table) != 0)
		return MNL_CB_OK;
	/* the bridge table and bports hold no rule of one container alone */
	if (g->nfgen_family == NFPROTO_BRIDGE)
		type = NFT_MSG_NEWTABLE;
	switch (type) {
	case NFT_MSG_NEWCHAIN:
	case NFT_MSG_DELCHAIN:
	case NFT_MSG_NEWRULE:
	case NFT_MSG_DELRULE:
		name = attr_str(nlh, type == NFT_MSG_NEWCHAIN || type == NFT_MSG_DELCHAIN
					     ? NFTA_CHAIN_NAME
					     : NFTA_RULE_CHAIN);
		id = name != NULL ? layout_chain_container(name) : NULL;
		rd->ch.kind = id != NULL ? NFT_CHANGE_CHAIN : NFT_CHANGE_BASE;
		if (id != NULL)
			snprintf(rd->ch.container, sizeof(rd->ch.container), "%s", id);
		break;
	case NFT_MSG_NEWSETELEM:
	case NFT_MSG_DELSETELEM:
		name = attr_str(nlh, NFTA_SET_ELEM_LIST_SET);
		for (layout_set = 0; layout_set < LAYOUT_SET_MAX; layout_set++)
			if (name != NULL && strcmp(name, layout_set_names[layout_set]) == 0)
				break;
		rd->ch.kind = NFT_CHANGE_BASE;
		if (layout_set == LAYOUT_SET_MAX || layout_set == LAYOUT_SET_PORTS ||
		    layout_set == LAYOUT_SET_BPORTS || layout_set == LAYOUT_SET_DNSB)
			break;
		rd->ch.kind = NFT_CHANGE_ELEM;
		rd->ch.set = layout_set;
		if (raw_elems_foreach(nlh, elem_cb, rd) == 0 || rd->r < 0)
			return rd->r < 0 ? MNL_CB_ERROR : MNL_CB_OK;
		rd->ch.kind = NFT_CHANGE_BASE; /* elements we could not read */
		break;
	default:
		/* the table itself, sets, objects, flowtables */
		rd->ch.kind = NFT_CHANGE_BASE;
	}
	rd->r = rd->cb(&rd->ch, rd->data);
	return rd->r < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

/* One datagram of announcements; one that does not parse ends there, and reading goes on. */
static int
events(const char *buf, size_t len, void *data)
{
	struct reader *rd = data;

	if (mnl_cb_run(buf, len, 0, 0, event_cb, rd) < 0 && rd->r < 0)
		return rd->r;
	return 0;
}

int
nft_monitor_read(struct nft_monitor *m, nft_monitor_cb cb, void *data)
{
	struct reader rd = {.m = m, .cb = cb, .data = data};

	if (m->lost) {
		m->lost = false;
		return -ENOBUFS;
	}
	/* ENOBUFS: announcements were lost */
	return nft_sock_drain(m->nl, m->buf, MONITOR_BUF, events, &rd);
}
