#ifndef AGENTD_DAEMON_H
#define AGENTD_DAEMON_H

/* The long-running agent: state, kernel, API, until SIGTERM or SIGINT. */

#include <stdbool.h>

#include "agentd/dns.h"
#include "nft/nft.h"

#define DROP_LOG_RATE_DEFAULT 10
#define DROP_LOG_GROUP_DEFAULT 100

struct daemon_options {
	const char *table;
	const char *state_dir;
	const char *socket_path;
	gid_t socket_gid; /* (gid_t)-1: root's group */
	const char *listen;
	const char *token_file;
	unsigned int threads;
	unsigned int max_connections;
	unsigned int max_per_address;
	unsigned int timeout_s;
	unsigned int reconcile_interval_s; /* 0: only on announced changes */
	unsigned int monitor_buffer;	   /* bytes for change announcements */
	bool no_table_owner;
	bool bridge_netfilter_leave; /* never set a bridge's br_netfilter options */
	struct nft_options nft;	     /* table options (nft.dns_port: the resolver's) */
	struct dns_options dns;	     /* the resolver, when nft.dns_port is not 0 */
};

/* Returns the process's exit status. */
int daemon_run(const struct daemon_options *o);

#endif
