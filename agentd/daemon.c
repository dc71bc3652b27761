/*
 * The agent's life: load the desired state, make the kernel hold it in
 * one transaction (adopting the table), serve the API, and on SIGTERM
 * or SIGINT stop serving and exit with the rules left in force.
 */

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "agentd/bridges.h"
#include "agentd/calls.h"
#include "agentd/daemon.h"
#include "agentd/drops.h"
#include "agentd/engine.h"
#include "agentd/expiry.h"
#include "agentd/firewall.h"
#include "agentd/host.h"
#include "agentd/links.h"
#include "agentd/log.h"
#include "agentd/reconcile.h"
#include "agentd/status.h"
#include "api/api.h"

#define TOKEN_MAX 4096
#define STR_(x) #x
#define STR(x) STR_(x)

/*
 * The bearer token: one line of visible ASCII, nothing after it but
 * its newline, from a file no one but its owner can read. Anything
 * else is refused whole, never cut: a token cut at a NUL or CR would be
 * shorter than its owner thinks.
 */
static int
read_token(const char *path, char **ret, const char **why)
{
	char buf[TOKEN_MAX + 3];
	struct stat st;
	ssize_t n;
	size_t len, i;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	*why = "";
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
		*why = ": not a regular file of mode 0600 or stricter";
		close(fd);
		return -EPERM;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	len = (size_t)n;
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	for (i = 0; i < len && buf[i] > ' ' && buf[i] < 0x7f; i++)
		;
	if (len == 0 || len > TOKEN_MAX || i < len) {
		*why = ": one line of 1-" STR(
			TOKEN_MAX) " visible ASCII characters, no spaces or control bytes";
		explicit_bzero(buf, sizeof(buf));
		return -EINVAL;
	}
	buf[len] = '\0';
	*ret = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return *ret ? 0 : -ENOMEM;
}

/*
 * Keep CAP_NET_ADMIN and nothing else, for good: the netlink socket is
 * open and the API bound, and the state directory is our own. Each
 * thread has its own capabilities, and a thread starts with its
 * creator's: call this before starting any thread that lives on.
 */
static int
drop_privileges(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {{0}};
	unsigned long cap;

	/* without CAP_SETPCAP (systemd's CapabilityBoundingSet= already
	 * narrowed it) the bounding set stays as it is: nothing is ever
	 * exec'd, and the capset below still applies */
	for (cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (cap != CAP_NET_ADMIN && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1 &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EPERM)
			return -errno;
	d[0].effective = d[0].permitted = 1u << CAP_NET_ADMIN;
	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

/* The API's lines, in agentd's log. */
static void __attribute__((format(printf, 4, 0)))
api_log(void *ctx, enum api_log_level level, int r, const char *fmt, va_list ap)
{
	(void)ctx;
	log_vmsg(level == API_LOG_WARN	 ? LOG_LEVEL_WARN
		 : level == API_LOG_INFO ? LOG_LEVEL_INFO
					 : LOG_LEVEL_DEBUG,
		 r, fmt, ap);
}

/* The API's calls, with a struct calls as their ctx. */
static const struct api_ops api_ops = {
	.health = status_health,
	.containers_list = status_list,
	.container_put = firewall_container_put,
	.container_delete = firewall_container_delete,
	.firewall_get = firewall_get,
	.firewall_put = firewall_put,
	.reset = firewall_reset,
	.rules_get = firewall_rules_get,
	.rule_add = firewall_rule_add,
	.rule_delete = firewall_rule_delete,
	.drops = firewall_drops,
	.audit = status_audit,
	.host_get = host_get,
	.host_put = host_put,
	.log = api_log,
};

/* Tell systemd (Type=notify) that the kernel holds the state and the API serves. */
static void
notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sa.sun_path))
		return;
	strcpy(sa.sun_path, path);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	len = offsetof(struct sockaddr_un, sun_path) + strlen(path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
		log_warn(-errno, "notify systemd");
	close(fd);
}

int
daemon_run(const struct daemon_options *o)
{
	struct engine_options eo = {
		.table = o->table,
		.state_dir = o->state_dir,
		.no_table_owner = o->no_table_owner,
		.monitor_buffer = o->monitor_buffer,
		.nft = &o->nft,
	};
	struct reconciler *rc = NULL;
	struct expiry *expiry = NULL;
	struct bridges *bridges = NULL;
	struct calls calls;
	struct drops *drops = NULL;
	struct dns *dns = NULL;
	struct links *links = NULL;
	struct api_options ao = {
		.socket_path = o->socket_path,
		.socket_gid = o->socket_gid,
		.listen = o->listen,
		.threads = o->threads,
		.max_connections = o->max_connections,
		.max_per_address = o->max_per_address,
		.timeout_s = o->timeout_s,
	};
	struct engine *e = NULL;
	struct api *a = NULL;
	char *token = NULL;
	sigset_t stop;
	int sig = 0, r, r2;

	/* Grow the heap in large steps: start-up allocates a large state in
	 * small pieces, and small steps would extend the heap over and over.
	 * malloc_trim() below gives the rest back. */
	mallopt(M_TOP_PAD, 16 << 20);
	/* every thread started from here on leaves these signals to sigwait() */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (o->listen != NULL) {
		const char *why;

		r = read_token(o->token_file, &token, &why);
		if (r < 0) {
			log_warn(r, "--token-file %s%s", o->token_file, why);
			return EXIT_FAILURE;
		}
		ao.token = token;
	}
	/* interfaces are followed for the API and to know the bridge ports;
	 * enforcement goes on without them, but no container can be called
	 * enforced, and bridged ones drop everything */
	r2 = links_open(&links);
	if (r2 < 0)
		log_warn(r2, "links: following the host's interfaces; the API cannot tell "
			     "whether containers' interfaces exist, so none is reported enforced "
			     "and health is degraded; containers on bridges send nothing");
	eo.links = links;
	/* the start-up's threads are joined when it returns */
	r = engine_start(&eo, &e);
	/* the start-up's dump and JSON trees are gone: give their pages back */
	malloc_trim(0);
	if (r == 0)
		r = api_open(&ao, &api_ops, &calls, &a);
	if (token != NULL) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	/* the resolver is started as another user: before the privileges go */
	if (r == 0 && o->nft.dns_port != 0)
		r = dns_prepare(&o->dns, &dns);
	if (r == 0) {
		r = drop_privileges();
		if (r < 0)
			log_warn(r, "dropping capabilities");
	}
	if (r == 0) {
		r = reconcile_start(e, o->reconcile_interval_s, &rc);
		if (r < 0)
			log_warn(r, "starting the reconciler");
	}
	if (r == 0) {
		r = expiry_start(e, &expiry);
		if (r < 0)
			log_warn(r, "starting the expiry of rules");
	}
	if (r == 0) {
		r = bridges_new(e, o->bridge_netfilter_leave, &bridges);
		if (r < 0)
			log_warn(r, "bridges");
	}
	if (r == 0 && o->bridge_netfilter_leave)
		log_info("--bridge-netfilter=leave: no bridge's nf_call_iptables or "
			 "nf_call_ip6tables is changed; traffic between the ports of a bridge "
			 "reaches the firewall only where they or the host's sysctls are on");
	/* the thread starts with the capabilities dropped */
	if (r == 0 && links != NULL &&
	    (r2 = links_run(links, links_follow_container, e, bridges_on_link, bridges)) < 0) {
		log_warn(r2, "links: following the host's interfaces");
		engine_forget_links(e);
		links_stop(links);
		links = NULL;
	}
	/* the drop log only informs: enforcement goes on without it */
	if (r == 0 && o->nft.log_rate > 0)
		drops_start(e, o->nft.log_group, &drops);
	if (r == 0 && dns != NULL) {
		r = dns_start(dns, e, drops);
		if (r < 0)
			log_warn(r, "starting the resolver's link");
	}
	calls = (struct calls){.engine = e,
			       .links = links,
			       .drops = drops,
			       .bridges = bridges,
			       .resolver = dns != NULL};
	if (r == 0)
		r = api_serve(a);
	if (r == 0) {
		log_info("serving (table %s, state %s)", o->table, o->state_dir);
		notify_ready();
		while (sigwait(&stop, &sig) != 0)
			;
		log_info("%s: stopping; the kernel keeps enforcing table %s", strsignal(sig),
			 o->table);
	}
	api_stop(a);
	dns_stop(dns);
	drops_stop(drops);
	links_stop(links);
	bridges_free(bridges);
	expiry_stop(expiry);
	reconcile_stop(rc);
	engine_stop(e);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
