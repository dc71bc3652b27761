/*
 * Keeping br_netfilter on for the Linux bridges that carry attached
 * containers' interfaces, and saying which bridges those are and what of
 * their traffic reaches the IP hooks. The options are set when the agent
 * starts, when a container is attached to a bridge port, when a port of
 * an attached container joins a bridge, and whenever an RTM_NEWLINK of
 * such a bridge reports them off (turned off, or the bridge recreated).
 *
 * They are never turned off again, also not when the last attached port
 * leaves: other software on the host (a container runtime, libvirt) may
 * filter that bridge's traffic through the IP hooks too, and the agent
 * cannot tell whether it does.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "agentd/bridges.h"
#include "agentd/engine_int.h"
#include "agentd/links.h"
#include "agentd/log.h"
#include "rules/rules.h"

struct bridges {
	struct engine *engine;
	bool leave;
	pthread_mutex_t lock; /* one change of the options at a time */
};

int
bridges_new(struct engine *e, bool leave, struct bridges **ret)
{
	struct bridges *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return -ENOMEM;
	b->engine = e;
	b->leave = leave;
	pthread_mutex_init(&b->lock, NULL);
	*ret = b;
	return 0;
}

void
bridges_free(struct bridges *b)
{
	if (b == NULL)
		return;
	pthread_mutex_destroy(&b->lock);
	free(b);
}

static const char *
options_off(const struct links_link *br)
{
	if (br->nf[0] != 1 && br->nf[1] != 1)
		return "nf_call_iptables and nf_call_ip6tables";
	return br->nf[0] != 1 ? "nf_call_iptables" : "nf_call_ip6tables";
}

/*
 * Turn the options of bridge on unless they are, naming port of container
 * id as the reason; found_off: an event of the bridge itself said they
 * were off. The caller holds the engine's lock.
 */
static void
keep_on(struct bridges *b, struct links *l, int bridge, const char *port, const char *id,
	bool found_off)
{
	struct links_link br;
	int r;

	pthread_mutex_lock(&b->lock);
	if (links_bridge_get(l, bridge, &br) < 0 || (br.nf[0] == 1 && br.nf[1] == 1))
		goto out;
	r = links_bridge_nf_on(l, bridge);
	if (r < 0)
		log_warn(r,
			 "bridge %s: turning on %s (port %s of container %s); traffic between "
			 "the bridge's ports does not reach the firewall until they are on",
			 br.name, options_off(&br), port, id);
	else if (found_off)
		log_info("bridge %s: found %s off; turned nf_call_iptables and nf_call_ip6tables "
			 "on again (port %s of container %s)",
			 br.name, options_off(&br), port, id);
	else
		log_info("bridge %s: turned on nf_call_iptables and nf_call_ip6tables (port %s of "
			 "container %s)",
			 br.name, port, id);
out:
	pthread_mutex_unlock(&b->lock);
}

struct attached_port {
	const struct engine *e;
	const char *id;
	char port[16];
};

static bool
is_attached(const char *port, void *data)
{
	struct attached_port *a = data;
	const struct engine_ct *c = engine_ct_find_ifname(a->e, port);

	if (c == NULL)
		return false;
	a->id = c->fw.id;
	snprintf(a->port, sizeof(a->port), "%s", port);
	return true;
}

void
bridges_on_link(struct links *l, const struct links_link *k, bool event, void *data)
{
	struct bridges *b = data;
	struct engine *e = b->engine;
	struct attached_port a = {.e = e};
	const struct engine_ct *c;
	bool bridge_off = k->bridge && (k->nf[0] != 1 || k->nf[1] != 1);

	/* most interfaces are neither: no lock for them */
	if (b->leave || (k->master == 0 && !bridge_off))
		return;
	pthread_rwlock_rdlock(&e->lock);
	if (k->master != 0 && (c = engine_ct_find_ifname(e, k->name)) != NULL)
		keep_on(b, l, k->master, k->name, c->fw.id, false);
	else if (bridge_off && links_port_find(l, k->ifindex, is_attached, &a))
		keep_on(b, l, k->ifindex, a.port, a.id, event);
	pthread_rwlock_unlock(&e->lock);
}

void
bridges_attached(struct bridges *b, struct links *l, const char *ifname, const char *id)
{
	struct links_link br;

	/* an interface made a moment ago is not known yet: its joining
	 * event, on its way, finds the container attached */
	if (!b->leave && l != NULL && links_bridge_of(l, ifname, &br) == 0)
		keep_on(b, l, br.ifindex, ifname, id, false);
}

/* A host-wide br_netfilter sysctl: 1 or 0; -1 when br_netfilter is not loaded. */
static int
host_sysctl(const char *name)
{
	char path[64], c = '\0';
	int fd, v = -1;

	snprintf(path, sizeof(path), "/proc/sys/net/bridge/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (read(fd, &c, 1) == 1 && (c == '0' || c == '1'))
		v = c - '0';
	close(fd);
	return v;
}

static void
write_option(struct rules_jw *w, const char *key, int v)
{
	rules_jw_key(w, key);
	if (v < 0)
		rules_jw_str(w, NULL);
	else
		rules_jw_bool(w, v != 0);
}

static void
write_bridge(struct rules_jw *w, const struct links_link *br, const int host[2])
{
	rules_jw_open(w, '{');
	rules_jw_key(w, "name");
	rules_jw_str(w, br->name);
	write_option(w, "nf_call_iptables", br->nf[0]);
	write_option(w, "nf_call_ip6tables", br->nf[1]);
	write_option(w, "host_nf_call_iptables", host[0]);
	write_option(w, "host_nf_call_ip6tables", host[1]);
	/* the bridge's option and the sysctl are OR'ed by the kernel */
	rules_jw_key(w, "same_bridge_filtered");
	rules_jw_open(w, '{');
	rules_jw_key(w, "ipv4");
	rules_jw_bool(w, br->nf[0] == 1 || host[0] == 1);
	rules_jw_key(w, "ipv6");
	rules_jw_bool(w, br->nf[1] == 1 || host[1] == 1);
	rules_jw_close(w, '}');
	rules_jw_close(w, '}');
}

void
bridges_write(struct bridges *b, struct links *l, struct rules_jw *w)
{
	int host[2] = {host_sysctl("bridge-nf-call-iptables"),
		       host_sysctl("bridge-nf-call-ip6tables")};
	struct engine_ct_list list = {0};
	struct links_link br;
	size_t i, j, n = 0;
	int *seen = NULL;

	rules_jw_key(w, "bridge_netfilter");
	rules_jw_str(w, b->leave ? "leave" : "on");
	rules_jw_key(w, "bridges");
	rules_jw_open(w, '[');
	if (l != NULL && (engine_ct_list(b->engine, &list) < 0 ||
			  (seen = calloc(list.n + 1, sizeof(*seen))) == NULL))
		w->failed = true; /* out of memory: the answer says so */
	for (i = 0; seen != NULL && i < list.n; i++) {
		const char *ifname = list.v[i]->fw.ifname;

		if (ifname[0] == '\0' || links_bridge_of(l, ifname, &br) < 0)
			continue;
		for (j = 0; j < n && seen[j] != br.ifindex; j++)
			;
		if (j < n)
			continue;
		seen[n++] = br.ifindex;
		write_bridge(w, &br, host);
	}
	rules_jw_close(w, ']');
	free(seen);
	free(list.v);
}
