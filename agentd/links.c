/*
 * The host's interfaces as rtnetlink reports them. Presence is kept as a
 * set of names, with their indexes so that a rename or a deletion by
 * index finds its old name; an overrun of the event socket is healed by
 * reading every interface again.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/socket.h>

#include "agentd/engine_int.h"
#include "agentd/links.h"
#include "agentd/log.h"
#include "agentd/watch.h"

struct link {
	int ifindex;
	char name[IFNAMSIZ];
	bool bridge_port; /* enslaved to a Linux bridge */
};

struct links {
	struct nl_sock *events;
	links_cb cb;
	void *data;
	struct watch *w;
	pthread_mutex_t lock; /* the trees */
	void *by_name;	      /* tsearch trees of the same struct link nodes */
	void *by_index;
	bool resync; /* events were lost: read every interface again */
};

static int
by_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct link *)a)->name, ((const struct link *)b)->name);
}

static int
by_index_cmp(const void *a, const void *b)
{
	int x = ((const struct link *)a)->ifindex, y = ((const struct link *)b)->ifindex;

	return (x > y) - (x < y);
}

/*
 * Forget the interface with ifindex; its name goes to gone ("" if none),
 * and whether it was a bridge port to *was_port.
 */
static void
forget(struct links *l, int ifindex, char gone[IFNAMSIZ], bool *was_port)
{
	struct link key = {.ifindex = ifindex}, *k;
	void *p = tfind(&key, &l->by_index, by_index_cmp);

	gone[0] = '\0';
	*was_port = false;
	if (p == NULL)
		return;
	k = *(struct link **)p;
	strcpy(gone, k->name);
	*was_port = k->bridge_port;
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

/* Record one interface as it is now; report a change when told to (events,
 * not the full reads: at start every interface would be news). */
static void
note(struct links *l, int ifindex, const char *name, bool present, bool bridge_port, bool report)
{
	char gone[IFNAMSIZ];
	struct link *k = NULL;
	bool renamed, was_port;

	pthread_mutex_lock(&l->lock);
	forget(l, ifindex, gone, &was_port);
	if (present && (k = calloc(1, sizeof(*k))) != NULL) {
		k->ifindex = ifindex;
		k->bridge_port = bridge_port;
		snprintf(k->name, sizeof(k->name), "%s", name);
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
	if (present && (renamed || gone[0] == '\0' || was_port != bridge_port))
		l->cb(name, true, l->data);
}

/* The link is a port of a Linux bridge (its slave kind, IFLA_INFO_SLAVE_KIND). */
static bool
is_bridge_port(struct rtnl_link *link)
{
	const char *kind = rtnl_link_get_slave_type(link);

	return rtnl_link_get_master(link) != 0 && kind != NULL && strcmp(kind, "bridge") == 0;
}

static void
note_link(struct nl_object *o, void *arg)
{
	struct rtnl_link *link = (struct rtnl_link *)o;
	const char *name = rtnl_link_get_name(link);

	if (name != NULL && rtnl_link_get_family(link) == AF_UNSPEC)
		note(arg, rtnl_link_get_ifindex(link), name, true, is_bridge_port(link), false);
}

/* libnl's errors as errnos, for our callers */
static int
nl_errno(int r)
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

/* Read every interface into a fresh set. */
static int
load(struct links *l)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_cache *cache = NULL;
	int r = sk == NULL ? -NLE_NOMEM : nl_connect(sk, NETLINK_ROUTE);

	if (r == 0)
		r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (r == 0) {
		pthread_mutex_lock(&l->lock);
		forget_all(l);
		l->resync = false;
		pthread_mutex_unlock(&l->lock);
		nl_cache_foreach(cache, note_link, l);
	}
	nl_cache_free(cache);
	nl_socket_free(sk);
	return nl_errno(r);
}

struct event {
	struct links *l;
	bool present;
};

static void
event_link(struct nl_object *o, void *arg)
{
	struct event *ev = arg;
	struct rtnl_link *link = (struct rtnl_link *)o;
	const char *name = rtnl_link_get_name(link);

	/* the bridge's own messages about its ports (family AF_BRIDGE) say
	 * nothing of whether the interface exists: a port that leaves its
	 * bridge gets an AF_BRIDGE RTM_DELLINK and lives on */
	if (name != NULL && rtnl_link_get_family(link) == AF_UNSPEC)
		note(ev->l, rtnl_link_get_ifindex(link), name, ev->present, is_bridge_port(link),
		     true);
}

static int
on_event(struct nl_msg *msg, void *arg)
{
	struct event ev = {.l = arg, .present = nlmsg_hdr(msg)->nlmsg_type == RTM_NEWLINK};
	uint16_t type = nlmsg_hdr(msg)->nlmsg_type;

	if (type == RTM_NEWLINK || type == RTM_DELLINK)
		nl_msg_parse(msg, event_link, &ev);
	return NL_OK;
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
		r = nl_errno(nl_connect(l->events, NETLINK_ROUTE));
	}
	/* subscribed before the first read: no change after it goes unseen */
	if (r == 0)
		r = nl_errno(nl_socket_add_membership(l->events, RTNLGRP_LINK));
	if (r == 0)
		r = nl_errno(nl_socket_set_nonblocking(l->events));
	if (r == 0)
		r = load(l);
	if (r < 0) {
		links_stop(l);
		return r;
	}
	*ret = l;
	return 0;
}

int
links_run(struct links *l, links_cb cb, void *data)
{
	l->cb = cb;
	l->data = data;
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

/* 1 (2: a bridge port) when the set holds ifname, else 0 */
static int
known(struct links *l, const char *ifname)
{
	struct link key = {0};
	void *p;
	int r;

	snprintf(key.name, sizeof(key.name), "%s", ifname);
	pthread_mutex_lock(&l->lock);
	p = tfind(&key, &l->by_name, by_name_cmp);
	r = p == NULL ? 0 : (*(struct link **)p)->bridge_port ? 2 : 1;
	pthread_mutex_unlock(&l->lock);
	return r;
}

bool
links_present(struct links *l, const char *ifname)
{
	return known(l, ifname) != 0;
}

/* Ask the kernel about ifname: 1 (2: a bridge port), 0 no such link, -1 no answer. */
static int
ask_kernel(const char *ifname)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_link *link = NULL;
	int r = -1;

	if (sk != NULL && nl_connect(sk, NETLINK_ROUTE) == 0) {
		int e = rtnl_link_get_kernel(sk, 0, ifname, &link);

		r = e == 0 ? (is_bridge_port(link) ? 2 : 1) : e == -NLE_NODEV ? 0 : -1;
	}
	if (link != NULL)
		rtnl_link_put(link);
	nl_socket_free(sk);
	return r;
}

int
links_presence(struct links *l, const char *ifname)
{
	if (l == NULL || ifname[0] == '\0')
		return -1;
	return known(l, ifname);
}

int
links_presence_now(struct links *l, const char *ifname)
{
	int r = links_presence(l, ifname);

	if (r != 0)
		return r;
	/* Not heard of: most such names do not exist, which the cheap
	 * ioctl tells; one that does was made a moment ago (its event is
	 * on its way) and only RTM_GETLINK tells whether it is a port. */
	return if_nametoindex(ifname) == 0 ? 0 : ask_kernel(ifname);
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

/* Resolving a namespace to the host end of its veth. */

struct nsid_answer {
	int32_t nsid;
	bool seen;
};

static int
nsid_cb(struct nl_msg *msg, void *arg)
{
	struct nsid_answer *a = arg;
	struct nlattr *tb[NETNSA_MAX + 1];

	if (nlmsg_hdr(msg)->nlmsg_type == RTM_NEWNSID &&
	    nlmsg_parse(nlmsg_hdr(msg), sizeof(struct rtgenmsg), tb, NETNSA_MAX, NULL) == 0 &&
	    tb[NETNSA_NSID] != NULL) {
		a->nsid = nla_get_s32(tb[NETNSA_NSID]);
		a->seen = true;
	}
	return NL_OK;
}

/*
 * The id the host gives the namespace (of fd, or of pid when fd < 0);
 * NETNSA_NSID_NOT_ASSIGNED when no interface of the host leads there.
 * Asking by pid needs no access to the process: the kernel finds its
 * namespace itself.
 */
static int
namespace_id(struct nl_sock *sk, int fd, pid_t pid, int32_t *ret)
{
	struct rtgenmsg g = {.rtgen_family = AF_UNSPEC};
	struct nsid_answer a = {0};
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETNSID, NLM_F_REQUEST);
	int r;

	if (msg == NULL)
		return -ENOMEM;
	r = nlmsg_append(msg, &g, sizeof(g), NLMSG_ALIGNTO);
	if (r == 0)
		r = fd >= 0 ? nla_put_u32(msg, NETNSA_FD, (uint32_t)fd)
			    : nla_put_u32(msg, NETNSA_PID, (uint32_t)pid);
	if (r == 0)
		r = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	if (r >= 0) {
		nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, nsid_cb, &a);
		r = nl_recvmsgs_default(sk);
	}
	if (r == -NLE_OBJ_NOTFOUND || r == -NLE_NOADDR || r == -NLE_INVAL)
		return -ENOENT; /* no such process (ESRCH comes back as this) */
	if (r < 0)
		return nl_errno(r);
	if (!a.seen)
		return -EIO;
	*ret = a.nsid;
	return 0;
}

struct peer_search {
	int32_t nsid;
	unsigned int n;
	char first[IFNAMSIZ];
	char names[128]; /* for the message */
};

static void
peer_cb(struct nl_object *o, void *arg)
{
	struct peer_search *ps = arg;
	struct rtnl_link *link = (struct rtnl_link *)o;
	const char *name = rtnl_link_get_name(link);
	int32_t id;

	if (name == NULL || !rtnl_link_is_veth(link) || rtnl_link_get_link_netnsid(link, &id) < 0 ||
	    id != ps->nsid)
		return;
	if (ps->n++ == 0)
		snprintf(ps->first, sizeof(ps->first), "%s", name);
	snprintf(ps->names + strlen(ps->names), sizeof(ps->names) - strlen(ps->names), "%s%s",
		 ps->n > 1 ? ", " : "", name);
}

int
links_host_peer(const char *netns_path, pid_t pid, char *ifname, char *reterr, size_t reterr_size)
{
	struct peer_search ps = {0};
	struct nl_cache *cache = NULL;
	struct nl_sock *sk = nl_socket_alloc();
	int fd = -1, r;

	if (netns_path != NULL) {
		fd = open(netns_path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			snprintf(reterr, reterr_size, "netns %s: %s", netns_path, strerror(-r));
			nl_socket_free(sk);
			return r;
		}
	}
	r = sk == NULL ? -ENOMEM : nl_errno(nl_connect(sk, NETLINK_ROUTE));
	/* the dump first: reporting a veth's peer gives its namespace an id */
	if (r == 0)
		r = nl_errno(rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache));
	if (r == 0)
		r = namespace_id(sk, fd, pid, &ps.nsid);
	if (r == -ENOENT && netns_path != NULL)
		snprintf(reterr, reterr_size, "netns %s: not a network namespace", netns_path);
	else if (r == -ENOENT)
		snprintf(reterr, reterr_size, "pid %d: no such process", (int)pid);
	else if (r < 0)
		snprintf(reterr, reterr_size, "reading interfaces: %s", strerror(-r));
	if (r == 0 && ps.nsid != NETNSA_NSID_NOT_ASSIGNED)
		nl_cache_foreach(cache, peer_cb, &ps);
	if (r == 0 && ps.n == 0) {
		snprintf(reterr, reterr_size,
			 "no veth of the host has its other end in that namespace; attach with "
			 "{\"interface\": \"NAME\"} instead");
		r = -ENODEV;
	} else if (r == 0 && ps.n > 1) {
		snprintf(reterr, reterr_size,
			 "%u veths of the host lead to that namespace (%s); attach with "
			 "{\"interface\": \"NAME\"} to pick one",
			 ps.n, ps.names);
		r = -ENOTUNIQ;
	} else if (r == 0)
		snprintf(ifname, IFNAMSIZ, "%s", ps.first);
	nl_cache_free(cache);
	nl_socket_free(sk);
	if (fd >= 0)
		close(fd);
	return r;
}
