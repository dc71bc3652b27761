/*
 * Resolving a container's network namespace (a path or a process) to the
 * host end of its veth pair, from link attributes and the namespace id
 * the kernel gives it.
 */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/socket.h>

#include "agentd/links.h"
#include "agentd/links_int.h"

#define NETNS_NOT_ONE                                                                              \
	"no network namespace there (accepted: /run/netns/NAME, as `ip netns` makes them, "        \
	"or /proc/PID/ns/net)"

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
		return links_nl_errno(r);
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

/* "/proc/PID/ns/net": the process's id, else 0 */
static pid_t
netns_path_pid(const char *path)
{
	const char *p = path + 6;
	long pid = 0;

	if (strncmp(path, "/proc/", 6) != 0 || *p == '0')
		return 0;
	for (; isdigit((unsigned char)*p) && pid <= LINKS_PID_MAX; p++)
		pid = pid * 10 + (*p - '0');
	return strcmp(p, "/ns/net") == 0 && pid <= LINKS_PID_MAX ? (pid_t)pid : 0;
}

/*
 * A namespace of `ip netns` (/run/netns/NAME), opened without ever
 * opening anything else: O_PATH (a FIFO or a device is not opened, so
 * nothing blocks), on nsfs, then opened for real. Every failure is
 * -ENOENT alike, so that an answer tells nothing of the host's files.
 */
static int
netns_open(const char *path)
{
	const char *name = path + 11;
	struct statfs sf;
	char self[32];
	int fd, ns;

	if (strncmp(path, "/run/netns/", 11) != 0 || name[0] == '\0' || strchr(name, '/') != NULL ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -ENOENT;
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	if (fstatfs(fd, &sf) < 0 || sf.f_type != NSFS_MAGIC) {
		close(fd);
		return -ENOENT;
	}
	/* the kernel takes no O_PATH descriptor for a namespace */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	ns = open(self, O_RDONLY | O_CLOEXEC);
	close(fd);
	return ns >= 0 ? ns : -ENOENT;
}

int
links_host_peer(const char *netns_path, pid_t pid, char *ifname, char *reterr, size_t reterr_size)
{
	struct peer_search ps = {0};
	struct nl_cache *cache = NULL;
	struct nl_sock *sk = nl_socket_alloc();
	int fd = -1, r;

	/* a process's namespace is found by its id: opening another root
	 * process's file would take CAP_SYS_PTRACE, which the agent drops */
	if (netns_path != NULL && netns_path_pid(netns_path) != 0) {
		pid = netns_path_pid(netns_path);
		netns_path = NULL;
	}
	if (netns_path != NULL) {
		fd = netns_open(netns_path);
		if (fd < 0) {
			snprintf(reterr, reterr_size, "netns %s: %s", netns_path, NETNS_NOT_ONE);
			nl_socket_free(sk);
			return fd;
		}
	}
	r = sk == NULL ? -ENOMEM : links_nl_errno(nl_connect(sk, NETLINK_ROUTE));
	/* the dump first: reporting a veth's peer gives its namespace an id */
	if (r == 0)
		r = links_nl_errno(rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache));
	if (r == 0)
		r = namespace_id(sk, fd, pid, &ps.nsid);
	if (r == -ENOENT && netns_path != NULL)
		snprintf(reterr, reterr_size, "netns %s: %s", netns_path, NETNS_NOT_ONE);
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
