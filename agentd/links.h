#ifndef AGENTD_LINKS_H
#define AGENTD_LINKS_H

/*
 * links: the host's network interfaces, through rtnetlink (libnl-route).
 * A thread follows link events to know which interfaces exist now; and
 * a container's namespace (a path or a process) is resolved to the host
 * end of its veth pair from link attributes.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct links;

/* Called from the links thread when ifname appears or goes, or joins or leaves a bridge. */
typedef void (*links_cb)(const char *ifname, bool present, void *data);

/* Subscribe to link events and read every interface. */
int links_open(struct links **ret);
/* Start the thread that follows the events since links_open(), telling cb. */
int links_run(struct links *l, links_cb cb, void *data);
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
/*
 * A links_cb for an engine (engine is its struct engine): logs, naming
 * the container, when a container's interface appears or goes, and has
 * the engine enforce it anew when it joins or leaves a bridge.
 */
void links_follow_container(const char *ifname, bool present, void *engine);

/*
 * The host-side interface of the veth pair whose other end is in the
 * network namespace at netns_path (or, when it is NULL, that of process
 * pid). Returns 0 with the name in ifname (16 bytes); otherwise a
 * negative errno with reterr saying what went wrong for the API:
 * -ENOENT no such namespace or process, -ENODEV no veth of the host
 * leads there, -ENOTUNIQ several do (named in reterr).
 */
int links_host_peer(const char *netns_path, pid_t pid, char *ifname, char *reterr,
		    size_t reterr_size);

#endif
