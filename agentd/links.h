#ifndef AGENTD_LINKS_H
#define AGENTD_LINKS_H

/*
 * links: the host's network interfaces, through rtnetlink (libnl-route).
 * A thread follows link events to know which interfaces exist now, which
 * are ports of which Linux bridge, and each bridge's br_netfilter
 * options; and a container's namespace (a path or a process) is
 * resolved to the host end of its veth pair from link attributes.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct links;

/* One interface as last heard. */
struct links_link {
	int ifindex;
	char name[16];
	int master;   /* the Linux bridge it is a port of; 0: none */
	bool bridge;  /* it is a Linux bridge */
	int8_t nf[2]; /* a bridge's nf_call_iptables, nf_call_ip6tables; -1 unknown */
};

/* Called from the links thread when ifname appears or goes, or joins or leaves a bridge. */
typedef void (*links_cb)(const char *ifname, bool present, void *data);
/*
 * Called with every interface that exists, as noted: from the links
 * thread on each of its RTM_NEWLINKs (event true), and for each one a
 * full read finds (the first, from links_run(), and after lost events).
 */
typedef void (*links_link_cb)(struct links *l, const struct links_link *k, bool event, void *data);

/* Subscribe to link events and read every interface. */
int links_open(struct links **ret);
/*
 * Start the thread that follows the events since links_open(), telling
 * cb and link_cb; link_cb hears of every interface the first read found.
 */
int links_run(struct links *l, links_cb cb, void *data, links_link_cb link_cb, void *link_data);
/* Stop the thread and free l (which may be NULL). */
void links_stop(struct links *l);
/* Does an interface named ifname exist in the host namespace now? */
bool links_present(struct links *l, const char *ifname);
/*
 * The same for the API, as the links thread last heard: 1 it exists, 2
 * it exists as a port of a Linux bridge, 0 it does not, -1 cannot be
 * told (ifname is "", or l is NULL: interfaces are not followed). Takes
 * no system call: for answers about every container.
 */
int links_presence(struct links *l, const char *ifname);
/*
 * The same, asking the kernel about a name the links thread has not
 * heard of yet (made a moment ago: its event is on its way), so that an
 * answer about one container never calls missing what the caller has
 * just made. -1 also when the kernel does not answer.
 */
int links_presence_now(struct links *l, const char *ifname);
/* Is ifname a Linux bridge (asking the kernel about a name not heard of)? */
bool links_is_bridge(struct links *l, const char *ifname);
/* The bridge with ifindex into ret; -ENOENT when there is no such bridge. */
int links_bridge_get(struct links *l, int ifindex, struct links_link *ret);
/* The bridge port is a port of, into ret; -ENOENT when it is none's (or unknown). */
int links_bridge_of(struct links *l, const char *port, struct links_link *ret);
/*
 * Whether match() says true of a port of bridge (called on each, in no
 * order, until one does). Holds l's lock meanwhile: match must not call l.
 */
bool links_port_find(struct links *l, int bridge, bool (*match)(const char *port, void *data),
		     void *data);
/*
 * Set the bridge's nf_call_iptables and nf_call_ip6tables to 1 (one
 * RTM_NEWLINK, acknowledged), and note it. Returns 0 or a negative errno.
 */
int links_bridge_nf_on(struct links *l, int ifindex);

/*
 * A links_cb for an engine (engine is its struct engine): logs, naming
 * the container, when a container's interface appears or goes, and has
 * the engine enforce it anew when it joins or leaves a bridge.
 */
void links_follow_container(const char *ifname, bool present, void *engine);

#define LINKS_PID_MAX 4194304 /* the kernel's PID_MAX_LIMIT */

/*
 * The host-side interface of the veth pair whose other end is in the
 * network namespace at netns_path, "/run/netns/NAME" or
 * "/proc/PID/ns/net" (or, when it is NULL, that of process pid). Returns 0 with the name in ifname
 * (16 bytes); otherwise a negative errno with reterr saying what went wrong for the API: -ENOENT no
 * such namespace or process, -ENODEV no veth of the host leads there, -ENOTUNIQ several do (named
 * in reterr).
 */
int links_host_peer(const char *netns_path, pid_t pid, char *ifname, char *reterr,
		    size_t reterr_size);

#endif
