/*
 * The host's interfaces as rtnetlink reports them. Presence is kept as a
 * set of names, with their indexes so that a rename or a deletion by
 * index finds its old name; an overrun of the event socket is healed by
 * reading every interface again. Each bridge port keeps its bridge's
 * index, and each bridge its br_netfilter options.
 */

#include <errno.h>
#include <pthread.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

#include "agentd/engine_int.h"
#include "agentd/links.h"
#include "agentd/links_int.h"
#include "agentd/log.h"
#include "agentd/watch.h"

struct links {
	struct nl_sock *events;
	links_cb cb;
	void *data;
	links_link_cb link_cb;
	void *link_data;
	struct watch *w;
	pthread_mutex_t lock; /* the trees */
	void *by_name;	      /* tsearch trees of the same struct links_link nodes */
	void *by_index;
	bool resync; /* events were lost: read every interface again */
};

static int
by_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct links_link *)a)->name, ((const struct links_link *)b)->name);
}

static int
by_index_cmp(const void *a, const void *b)
{
	int x = ((const struct links_link *)a)->ifindex,
	    y = ((const struct links_link *)b)->ifindex;

	return (x > y) - (x < y);
}

/*
 * Forget the interface with ifindex; its name goes to gone ("" if none),
 * and whether it was a bridge port to *was_port.
 */
static void
forget(struct links *l, int ifindex, char gone[IFNAMSIZ], bool *was_port)
{
	struct links_link key = {.ifindex = ifindex}, *k;
	void *p = tfind(&key, &l->by_index, by_index_cmp);

	gone[0] = '\0';
	*was_port = false;
	if (p == NULL)
		return;
	k = *(struct links_link **)p;
	strcpy(gone, k->name);
	*was_port = k->master != 0;
	tdelete(k, &l->by_index, by_index_cmp);
	tdelete(k, &l->by_name, by_name_cmp);
	free(k);
}

static void
nop_free(void *p)
{
	(void)p;
}

static void
forget_all(struct links *l)
{
	tdestroy(l->by_name, nop_free);
	tdestroy(l->by_index, free);
	l->by_name = NULL;
	l->by_index = NULL;
}

/* Record one interface as it is now (now: a copy is kept); report a change
 * when told to (events, not the full reads: at start every interface
 * would be news). */
static void
note(struct links *l, const struct links_link *now, bool present, bool report)
{
	const char *name = now->name;
	char gone[IFNAMSIZ];
	struct links_link *k = NULL;
	bool renamed, was_port;

	pthread_mutex_lock(&l->lock);
	forget(l, now->ifindex, gone, &was_port);
	if (present && (k = malloc(sizeof(*k))) != NULL) {
		*k = *now;
		if (tsearch(k, &l->by_index, by_index_cmp) == NULL ||
		    tsearch(k, &l->by_name, by_name_cmp) == NULL) {
			tdelete(k, &l->by_index, by_index_cmp);
			free(k);
			l->resync = true; /* out of memory: start over later */
		}
	}
	pthread_mutex_unlock(&l->lock);
	renamed = gone[0] != '\0' && strcmp(gone, name) != 0;
	if (!report || l->cb == NULL)
		return;
	if (renamed || (!present && gone[0] != '\0'))
		l->cb(gone, false, l->data);
	/* joining or leaving a bridge changes how the interface is enforced */
	if (present && (renamed || gone[0] == '\0' || was_port != (now->master != 0)))
		l->cb(name, true, l->data);
}

static bool
is_kind(const char *kind, const char *want)
{
	return kind != NULL && strcmp(kind, want) == 0;
}

/* What we keep of link (nf: unknown, filled from the message by the caller). */
static void
link_of(struct rtnl_link *link, struct links_link *ret)
{
	/* a port of a Linux bridge: its slave kind, IFLA_INFO_SLAVE_KIND */
	bool port = is_kind(rtnl_link_get_slave_type(link), "bridge");

	*ret = (struct links_link){
		.ifindex = rtnl_link_get_ifindex(link),
		.master = port ? rtnl_link_get_master(link) : 0,
		.bridge = is_kind(rtnl_link_get_type(link), "bridge"),
		.nf = {-1, -1},
	};
	snprintf(ret->name, sizeof(ret->name), "%s", rtnl_link_get_name(link));
}

/* A bridge's nf_call_iptables and _ip6tables (IFLA_LINKINFO / IFLA_INFO_DATA),
 * which libnl-route 3.7 does not decode, from its RTM_NEWLINK h. */
static void
bridge_nf(struct nlmsghdr *h, int8_t nf[2])
{
	static struct nla_policy br[IFLA_BR_MAX + 1] = {
		[IFLA_BR_NF_CALL_IPTABLES] = {.type = NLA_U8},
		[IFLA_BR_NF_CALL_IP6TABLES] = {.type = NLA_U8},
	};
	struct nlattr *tb[IFLA_MAX + 1], *info[IFLA_INFO_MAX + 1], *data[IFLA_BR_MAX + 1];

	if (nlmsg_parse(h, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL) < 0 ||
	    tb[IFLA_LINKINFO] == NULL ||
	    nla_parse_nested(info, IFLA_INFO_MAX, tb[IFLA_LINKINFO], NULL) < 0 ||
	    info[IFLA_INFO_DATA] == NULL ||
	    nla_parse_nested(data, IFLA_BR_MAX, info[IFLA_INFO_DATA], br) < 0)
		return;
	if (data[IFLA_BR_NF_CALL_IPTABLES] != NULL)
		nf[0] = (int8_t)nla_get_u8(data[IFLA_BR_NF_CALL_IPTABLES]);
	if (data[IFLA_BR_NF_CALL_IP6TABLES] != NULL)
		nf[1] = (int8_t)nla_get_u8(data[IFLA_BR_NF_CALL_IP6TABLES]);
}

int
links_nl_errno(int r)
{
	switch (r) {
	case 0:
		return 0;
	case -NLE_NOMEM:
		return -ENOMEM;
	case -NLE_PERM:
		return -EPERM;
	case -NLE_OBJ_NOTFOUND:
		return -ENOENT;
	default:
		return -EIO;
	}
}

struct event {
	struct links *l;
	struct nlmsghdr *h;
	bool present;
	bool report; /* an event, not a full read */
};

static void
event_link(struct nl_object *o, void *arg)
{
	struct event *ev = arg;
	struct rtnl_link *link = (struct rtnl_link *)o;
	struct links_link k;

	/* the bridge's own messages about its ports (family AF_BRIDGE) say
	 * nothing of whether the interface exists: a port that leaves its
	 * bridge gets an AF_BRIDGE RTM_DELLINK and lives on. The message's
	 * family, not the object's: libnl calls a bridge itself AF_BRIDGE. */
	if (rtnl_link_get_name(link) == NULL ||
	    ((struct ifinfomsg *)nlmsg_data(ev->h))->ifi_family != AF_UNSPEC)
		return;
	link_of(link, &k);
	if (k.bridge)
		bridge_nf(ev->h, k.nf);
	note(ev->l, &k, ev->present, ev->report);
	if (ev->present && ev->l->link_cb != NULL)
		ev->l->link_cb(ev->l, &k, ev->report, ev->l->link_data);
}

static int
on_msg(struct nl_msg *msg, struct links *l, bool report)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct event ev = {
		.l = l, .h = h, .present = h->nlmsg_type == RTM_NEWLINK, .report = report};

	if (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK)
		nl_msg_parse(msg, event_link, &ev);
	return NL_OK;
}

static int
on_event(struct nl_msg *msg, void *arg)
{
	return on_msg(msg, arg, true);
}

static int
on_dump(struct nl_msg *msg, void *arg)
{
	return on_msg(msg, arg, false);
}

/* Read every interface into a fresh set (a dump of our own, not libnl's
 * cache: the cache drops the bridge options). */
static int
load(struct links *l)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	struct nl_sock *sk = nl_socket_alloc();
	int r = sk == NULL ? -NLE_NOMEM : nl_connect(sk, NETLINK_ROUTE);

	if (r == 0) {
		pthread_mutex_lock(&l->lock);
		forget_all(l);
		l->resync = false;
		pthread_mutex_unlock(&l->lock);
		nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_dump, l);
		r = nl_send_simple(sk, RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof(ifi));
	}
	if (r >= 0)
		r = nl_recvmsgs_default(sk);
	/* a set read in part: read it all again on the next event */
	if (r < 0 && sk != NULL)
		l->resync = true;
	nl_socket_free(sk);
	return links_nl_errno(r < 0 ? r : 0);
}

static void
on_ready(void *data)
{
	struct links *l = data;
	int r = nl_recvmsgs_default(l->events);

	/* an overrun (ENOBUFS) loses events: read everything again */
	if (r < 0 && r != -NLE_AGAIN)
		l->resync = true;
	if (!l->resync)
		return;
	log_warnx("links: interface events lost (%s); reading every interface",
		  r < 0 ? nl_geterror(r) : "out of memory");
	r = load(l);
	if (r < 0)
		log_warn(r, "links: reading interfaces");
}

static const struct watch_ops links_ops = {.name = "links", .ready = on_ready};

int
links_open(struct links **ret)
{
	struct links *l = calloc(1, sizeof(*l));
	int r;

	if (l == NULL)
		return -ENOMEM;
	pthread_mutex_init(&l->lock, NULL);
	l->events = nl_socket_alloc();
	r = l->events != NULL ? 0 : -ENOMEM;
	if (r == 0) {
		/* events carry no sequence numbers we asked for */
		nl_socket_disable_seq_check(l->events);
		nl_socket_modify_cb(l->events, NL_CB_VALID, NL_CB_CUSTOM, on_event, l);
		r = links_nl_errno(nl_connect(l->events, NETLINK_ROUTE));
	}
	/* subscribed before the first read: no change after it goes unseen */
	if (r == 0)
		r = links_nl_errno(nl_socket_add_membership(l->events, RTNLGRP_LINK));
	if (r == 0)
		r = links_nl_errno(nl_socket_set_nonblocking(l->events));
	if (r == 0)
		r = load(l);
	if (r < 0) {
		links_stop(l);
		return r;
	}
	*ret = l;
	return 0;
}

struct replay {
	struct links_link *v;
	size_t n, cap;
	bool failed;
};

static void
replay_one(const void *node, VISIT which, void *arg)
{
	struct replay *rp = arg;
	struct links_link *v;

	if (which != postorder && which != leaf)
		return;
	if (rp->n == rp->cap) {
		v = reallocarray(rp->v, rp->cap ? 2 * rp->cap : 64, sizeof(*v));
		if (v == NULL) {
			rp->failed = true;
			return;
		}
		rp->v = v;
		rp->cap = rp->cap ? 2 * rp->cap : 64;
	}
	rp->v[rp->n++] = **(struct links_link *const *)node;
}

int
links_run(struct links *l, links_cb cb, void *data, links_link_cb link_cb, void *link_data)
{
	struct replay rp = {0};
	size_t i;

	l->cb = cb;
	l->data = data;
	l->link_cb = link_cb;
	l->link_data = link_data;
	/* what the first read found, told now (outside the lock: the
	 * callback may ask l), as later full reads tell it */
	pthread_mutex_lock(&l->lock);
	twalk_r(l->by_index, replay_one, &rp);
	pthread_mutex_unlock(&l->lock);
	for (i = 0; i < rp.n && link_cb != NULL; i++)
		link_cb(l, &rp.v[i], false, link_data);
	free(rp.v);
	if (rp.failed)
		l->resync = true; /* read everything again on the first event */
	return watch_start(nl_socket_get_fd(l->events), &links_ops, l, &l->w);
}

void
links_stop(struct links *l)
{
	if (l == NULL)
		return;
	watch_stop(l->w);
	nl_socket_free(l->events);
	forget_all(l);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

/* The entry of ifname (by name) or of ifindex (name NULL), copied into ret. */
static bool
find(struct links *l, const char *name, int ifindex, struct links_link *ret)
{
	struct links_link key = {.ifindex = ifindex};
	void *p;

	if (name != NULL)
		snprintf(key.name, sizeof(key.name), "%s", name);
	pthread_mutex_lock(&l->lock);
	p = name != NULL ? tfind(&key, &l->by_name, by_name_cmp)
			 : tfind(&key, &l->by_index, by_index_cmp);
	if (p != NULL)
		*ret = **(struct links_link **)p;
	pthread_mutex_unlock(&l->lock);
	return p != NULL;
}

/* 1 (2: a bridge port) when k was found, else 0 */
static int
presence_of(bool found, const struct links_link *k)
{
	return !found ? 0 : k->master != 0 ? 2 : 1;
}

bool
links_present(struct links *l, const char *ifname)
{
	struct links_link k;

	return find(l, ifname, 0, &k);
}

/* Ask the kernel about ifname: 1 (into ret), 0 no such link, -1 no answer. */
static int
ask_kernel(const char *ifname, struct links_link *ret)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_link *link = NULL;
	int r = -1;

	if (sk != NULL && nl_connect(sk, NETLINK_ROUTE) == 0) {
		int e = rtnl_link_get_kernel(sk, 0, ifname, &link);

		r = e == 0 ? 1 : e == -NLE_NODEV ? 0 : -1;
	}
	if (link != NULL) {
		link_of(link, ret);
		rtnl_link_put(link);
	}
	nl_socket_free(sk);
	return r;
}

int
links_presence(struct links *l, const char *ifname)
{
	struct links_link k;

	if (l == NULL || ifname[0] == '\0')
		return -1;
	return presence_of(find(l, ifname, 0, &k), &k);
}

/*
 * ifname as the links thread last heard, else as the kernel says now: 1
 * (into ret), 0 no such link, -1 no answer. Not heard of: most such
 * names do not exist, which the cheap ioctl tells; one that does was
 * made a moment ago (its event is on its way) and only RTM_GETLINK
 * tells what it is.
 */
static int
lookup_now(struct links *l, const char *ifname, struct links_link *ret)
{
	if (find(l, ifname, 0, ret))
		return 1;
	return if_nametoindex(ifname) == 0 ? 0 : ask_kernel(ifname, ret);
}

int
links_presence_now(struct links *l, const char *ifname)
{
	struct links_link k;
	int r;

	if (l == NULL || ifname[0] == '\0')
		return -1;
	r = lookup_now(l, ifname, &k);
	return r < 0 ? r : presence_of(r == 1, &k);
}

bool
links_is_bridge(struct links *l, const char *ifname)
{
	struct links_link k;

	return l != NULL && lookup_now(l, ifname, &k) == 1 && k.bridge;
}

int
links_bridge_get(struct links *l, int ifindex, struct links_link *ret)
{
	struct links_link k;

	if (!find(l, NULL, ifindex, &k) || !k.bridge)
		return -ENOENT;
	*ret = k;
	return 0;
}

int
links_bridge_of(struct links *l, const char *port, struct links_link *ret)
{
	struct links_link k;

	if (!find(l, port, 0, &k) || k.master == 0)
		return -ENOENT;
	return links_bridge_get(l, k.master, ret);
}

struct port_search {
	int bridge;
	bool (*match)(const char *port, void *data);
	void *data;
	bool found;
};

static void
port_visit(const void *node, VISIT which, void *arg)
{
	const struct links_link *k = *(struct links_link *const *)node;
	struct port_search *ps = arg;

	if ((which == postorder || which == leaf) && !ps->found && k->master == ps->bridge)
		ps->found = ps->match(k->name, ps->data);
}

bool
links_port_find(struct links *l, int bridge, bool (*match)(const char *port, void *data),
		void *data)
{
	struct port_search ps = {.bridge = bridge, .match = match, .data = data};

	pthread_mutex_lock(&l->lock);
	twalk_r(l->by_index, port_visit, &ps);
	pthread_mutex_unlock(&l->lock);
	return ps.found;
}

/* The bridge options, as RTM_NEWLINK of the bridge with IFLA_LINKINFO
 * {IFLA_INFO_KIND "bridge", IFLA_INFO_DATA {...}} takes them. */
static int
nf_on_msg(int ifindex, struct nl_msg *msg)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = ifindex};
	struct nlattr *info, *data;

	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    (info = nla_nest_start(msg, IFLA_LINKINFO)) == NULL ||
	    nla_put_string(msg, IFLA_INFO_KIND, "bridge") < 0 ||
	    (data = nla_nest_start(msg, IFLA_INFO_DATA)) == NULL ||
	    nla_put_u8(msg, IFLA_BR_NF_CALL_IPTABLES, 1) < 0 ||
	    nla_put_u8(msg, IFLA_BR_NF_CALL_IP6TABLES, 1) < 0)
		return -ENOMEM;
	nla_nest_end(msg, data); /* IFLA_INFO_DATA */
	nla_nest_end(msg, info); /* IFLA_LINKINFO */
	return 0;
}

int
links_bridge_nf_on(struct links *l, int ifindex)
{
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
	struct nl_sock *sk = nl_socket_alloc();
	struct links_link key = {.ifindex = ifindex};
	int r = msg == NULL || sk == NULL ? -ENOMEM : nf_on_msg(ifindex, msg), e = 0;
	void *p;

	if (r == 0)
		e = nl_connect(sk, NETLINK_ROUTE);
	if (r == 0 && e == 0 && (e = nl_send_auto(sk, msg)) >= 0)
		e = nl_wait_for_ack(sk);
	if (r == 0 && e < 0)
		r = links_nl_errno(e);
	nlmsg_free(msg);
	nl_socket_free(sk);
	if (r < 0)
		return r;
	/* as its event will say: no second change before that event is read */
	pthread_mutex_lock(&l->lock);
	p = tfind(&key, &l->by_index, by_index_cmp);
	if (p != NULL)
		(*(struct links_link **)p)->nf[0] = (*(struct links_link **)p)->nf[1] = 1;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

void
links_follow_container(const char *ifname, bool present, void *engine)
{
	struct engine *e = engine;
	struct engine_ct *c;

	/* the write lock: joining a bridge changes what the kernel holds */
	pthread_rwlock_wrlock(&e->lock);
	c = engine_ct_find_ifname(e, ifname);
	if (c != NULL) {
		log_info("container %s: interface %s %s", c->fw.id, ifname,
			 present ? "is up: its firewall applies to it"
				 : "is gone (the firewall stays, for when it is back)");
		if (present)
			engine_follow_bridge(e, c);
	}
	pthread_rwlock_unlock(&e->lock);
}
