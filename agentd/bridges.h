#ifndef AGENTD_BRIDGES_H
#define AGENTD_BRIDGES_H

/*
 * bridges: keep br_netfilter on for every Linux bridge that carries the
 * interface of an attached container (--bridge-netfilter=on), so that
 * traffic between the bridge's ports crosses the IP hooks (and
 * conntrack) where the firewall is. Only those bridges' own options
 * (nf_call_iptables, nf_call_ip6tables) are set; other bridges and the
 * host-wide sysctls stay as they are. With leave, nothing is set.
 */

#include <stdbool.h>

struct engine;
struct links;
struct links_link;
struct rules_jw;

struct bridges;

/* A new keeper for engine e's containers; leave: change nothing. Returns 0 or -ENOMEM. */
int bridges_new(struct engine *e, bool leave, struct bridges **ret);
/* Free b (NULL: nothing); the bridges keep their options. */
void bridges_free(struct bridges *b);
/*
 * A links_link_cb (data: a struct bridges): a port of an attached
 * container on a bridge, or a bridge with such a port, gets the options
 * on. Takes the engine's lock for reading.
 */
void bridges_on_link(struct links *l, const struct links_link *k, bool event, void *data);
/*
 * Container id was just attached to ifname: when it is a bridge port, its
 * bridge gets the options on before this returns. The caller holds the
 * engine's lock (l may be NULL: interfaces are not followed).
 */
void bridges_attached(struct bridges *b, struct links *l, const char *ifname, const char *id);
/*
 * Write "bridge_netfilter": "on"|"leave" and "bridges": [...] (each bridge
 * carrying an attached container's interface, see docs/api.md) into the
 * object w has open. The caller holds the engine's lock.
 */
void bridges_write(struct bridges *b, struct links *l, struct rules_jw *w);

#endif
