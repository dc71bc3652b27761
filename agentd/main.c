/*
 * agentd: the hoody-firewall host agent.
 *
 *   agentd [--socket PATH] [--state-dir DIR] ...   the daemon: serve the API
 *   agentd --apply FILE [--table NAME]           make the kernel hold FILE's state, exit
 *   agentd --dump [--table NAME]                 print the state the kernel enforces
 */

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/mman.h>

#include "agentd/daemon.h"
#include "agentd/kernel_json.h"
#include "agentd/links.h"
#include "agentd/log.h"
#include "nft/nft.h"
#include "rules/rules.h"

#define EXIT_USAGE 2
#define SOCKET_DEFAULT "/run/hoody-firewall/agentd.sock"
#define STATE_DIR_DEFAULT "/var/lib/hoody-firewall"
#define CONNECTIONS_DEFAULT 256 /* per listener */
#define PER_ADDRESS_DEFAULT 16	/* TCP connections from one address */
#define IDLE_TIMEOUT_DEFAULT 10 /* seconds */
/* A bound on what --apply reads, far above a large host's state file. */
#define STATE_FILE_MAX (256u << 20)
/* Another writer may commit between our dump and our transaction. */
#define APPLY_TRIES 5
#ifndef LIBEXECDIR
#define LIBEXECDIR "/usr/local/libexec/hoody-firewall"
#endif
#define RESOLVER_INSTALLED LIBEXECDIR "/hoody-resolver"

/* hoody-resolver beside this program (a build tree), else where it is installed. */
static const char *
resolver_default(void)
{
	static char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	char *slash;

	if (n > 0) {
		path[n] = '\0';
		slash = strrchr(path, '/');
		if (slash != NULL) {
			strcpy(slash + 1, "hoody-resolver");
			if (access(path, X_OK) == 0)
				return path;
		}
	}
	return RESOLVER_INSTALLED;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: agentd [--socket PATH] [--socket-group GROUP]\n"
		"              [--listen ADDR:PORT --token-file FILE]\n"
		"              [--max-connections N] [--max-per-address N]\n"
		"              [--idle-timeout SECONDS]\n"
		"              [--state-dir DIR] [--table NAME] [--log-format text|json]\n"
		"              [--reconcile-interval SECONDS] [--monitor-buffer BYTES]\n"
		"              [--no-table-owner] [--bridge-netfilter on|leave]\n"
		"              [--container-ifprefix PREFIX]... [--drop-log-rate N]\n"
		"              [--drop-log-group N] [--dns-port N] [--dns-upstream "
		"ADDR[:PORT]]...\n"
		"              [--dns-min-ttl S] [--dns-max-ttl S] [--dns-rate N]\n"
		"              [--dns-max-learned N]\n"
		"              [--dns-user USER] [--resolver PATH]\n"
		"       agentd --apply FILE [--table NAME] [table options]\n"
		"       agentd --dump [--table NAME]\n"
		"\n"
		"Without --apply or --dump, agentd runs in the foreground: it makes the kernel\n"
		"enforce the state in --state-dir and serves the REST API until SIGTERM.\n"
		"\n"
		"  --socket PATH      the API's Unix socket, mode 0660 (default %s)\n"
		"  --socket-group GROUP\n"
		"                     the socket's group, whose members may use the API\n"
		"                     (default: root's)\n"
		"  --listen ADDR:PORT also serve the API over TCP (needs --token-file)\n"
		"  --token-file FILE  the bearer token TCP clients must send: one line, in a\n"
		"                     file of mode 0600\n"
		"  --max-connections N\n"
		"                     connections each listener serves at once (default %d)\n"
		"  --max-per-address N\n"
		"                     TCP connections from one address at once (default %d)\n"
		"  --idle-timeout SECONDS\n"
		"                     close a connection idle this long (default %d)\n"
		"  --state-dir DIR    where the desired state is kept (default %s)\n"
		"  --apply FILE       make the kernel enforce the desired state in FILE\n"
		"                     (\"-\" for standard input) in one transaction, then exit\n"
		"  --dump             print the rules the kernel enforces, decoded, with counters\n"
		"  --table NAME       the nftables table (family inet) to use (default %s)\n"
		"  --reconcile-interval SECONDS\n"
		"                     also compare the kernel with the state this often, besides\n"
		"                     on every change by another process (default 30; 0: never)\n"
		"  --monitor-buffer BYTES\n"
		"                     room for other processes' changes not yet read (default\n"
		"                     %d); past it they are lost and the whole table is read\n"
		"  --no-table-owner   make a plain table, as on kernels before 6.9 (for tests)\n"
		"  --bridge-netfilter on|leave\n"
		"                     on (default): keep nf_call_iptables and nf_call_ip6tables\n"
		"                     on for each bridge that has an attached container's\n"
		"                     interface as a port; leave: change no bridge\n"
		"table options:\n"
		"  --container-ifprefix PREFIX\n"
		"                     drop everything from interfaces named PREFIX... that no\n"
		"                     container is attached to (repeatable, up to %d)\n"
		"  --drop-log-rate N  report at most N dropped packets per second per\n"
		"                     container (default %d; 0: no drop log)\n"
		"  --drop-log-group N the NFLOG group the drops go through (default %d)\n"
		"  --dns-port N       the port on the host that containers with rules by name\n"
		"                     have their DNS queries (port 53, any address) redirected\n"
		"                     to, where agentd's resolver answers (default %d; 0: no\n"
		"                     resolver, and rules by name open nothing)\n"
		"  --dns-upstream ADDR[:PORT]\n"
		"                     the server the resolver asks (repeatable, up to %d;\n"
		"                     default: the nameservers of /etc/resolv.conf)\n"
		"  --dns-min-ttl S, --dns-max-ttl S\n"
		"                     an answer's addresses stay open for its TTL, at least\n"
		"                     S (default %d) and at most S (default %d) seconds\n"
		"  --dns-rate N       queries per second one container may send (default %d)\n"
		"  --dns-max-learned N\n"
		"                     addresses one container's lookups hold open; past it\n"
		"                     the first to close goes (default %d)\n"
		"  --dns-user USER    the resolver runs as USER, without capabilities\n"
		"                     (default nobody)\n"
		"  --resolver PATH    the resolver program (default: hoody-resolver beside\n"
		"                     agentd, else %s)\n"
		"  --log-format F     text (default) or json: one JSON object per line\n"
		"  --debug            log more\n"
		"  --help             show this\n",
		SOCKET_DEFAULT, CONNECTIONS_DEFAULT, PER_ADDRESS_DEFAULT, IDLE_TIMEOUT_DEFAULT,
		STATE_DIR_DEFAULT, NFT_TABLE_DEFAULT, NFT_MONITOR_RCVBUF_DEFAULT, NFT_IFPREFIX_MAX,
		DROP_LOG_RATE_DEFAULT, DROP_LOG_GROUP_DEFAULT, DNS_PORT_DEFAULT, DNS_UPSTREAM_MAX,
		DNS_MIN_TTL_DEFAULT, DNS_MAX_TTL_DEFAULT, DNS_RATE_DEFAULT, DNS_MAX_LEARNED_DEFAULT,
		RESOLVER_INSTALLED);
}

static int
parse_uint(const char *opt, const char *arg, unsigned int min, unsigned int max,
	   const char *expected, unsigned int *ret)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || arg[0] == '-' || v < min || v > max) {
		fprintf(stderr, "agentd: %s \"%s\": expected %s\n", opt, arg, expected);
		return -EINVAL;
	}
	*ret = (unsigned int)v;
	return 0;
}

static int
read_all(const char *path, char **ret_buf, size_t *ret_len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	size_t len = 0, cap = 1 << 16;
	char *buf = NULL, *nb;
	int r = 0;

	if (f == NULL)
		return -errno;
	for (;;) {
		size_t n;

		nb = realloc(buf, cap);
		if (nb == NULL) {
			r = -ENOMEM;
			break;
		}
		buf = nb;
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f))
				r = -EIO;
			break;
		}
		if (len == cap) {
			if (cap >= STATE_FILE_MAX) {
				r = -EFBIG;
				break;
			}
			cap *= 2;
		}
	}
	if (f != stdin)
		fclose(f);
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

/* "container "c1": rule "r1": " for whichever of the two is known. */
static void
where(char *buf, size_t size, const char *container, const char *rule)
{
	int n = 0;

	buf[0] = '\0';
	if (container[0] != '\0')
		n = snprintf(buf, size, "container \"%s\": ", container);
	/* rules without an id are named by position: #3 */
	if (rule[0] != '\0' && n >= 0 && (size_t)n < size)
		snprintf(buf + n, size - n, rule[0] == '#' ? "rule %s: " : "rule \"%s\": ", rule);
}

static void
print_rules_error(const char *path, const struct rules_error *e)
{
	char w[2 * RULES_ID_MAX + 64];

	where(w, sizeof(w), e->container, e->rule);
	fprintf(stderr, "agentd: %s: %s%s%s%s\n", path, w, e->field, e->field[0] ? ": " : "",
		e->message);
}

static void
print_nft_error(const char *table, const struct nft_error *e)
{
	char w[2 * RULES_ID_MAX + 64];

	where(w, sizeof(w), e->container, e->rule);
	fprintf(stderr, "agentd: table %s: %s%s: %s%s%s\n", table, w, e->what, strerror(-e->err),
		e->detail[0] ? ": " : "", e->detail);
}

static int
open_conn(const char *table, struct nft_conn **ret)
{
	int r = nft_conn_open(table, ret);

	if (r < 0)
		log_warn(r, "open netfilter netlink socket%s",
			 r == -EPERM ? " (agentd needs CAP_NET_ADMIN)" : "");
	return r;
}

/*
 * Every container --apply enforces needs its interface. Rules whose
 * time has passed are left out (the kernel would not match them), and
 * a "ttl" counts from now.
 */
static int
check_attached(const char *path, struct rules_set *s)
{
	struct rules_error re = {0};
	time_t now = time(NULL);
	size_t i;

	for (i = 0; i < s->ncontainers; i++) {
		if (rules_container_drop_expired(&s->containers[i], now) > 0)
			log_info("%s: container \"%s\": rules whose time has passed are left out",
				 path, s->containers[i].id);
		if (rules_container_expiry_resolve(&s->containers[i], now, &re) < 0) {
			print_rules_error(path, &re);
			return -EINVAL;
		}
		if (rules_container_has_names(&s->containers[i])) {
			fprintf(stderr,
				"agentd: %s: container \"%s\": rules by name open what lookups "
				"through the daemon's DNS resolver return; --apply runs none, "
				"give addresses\n",
				path, s->containers[i].id);
			return -EINVAL;
		}
		if (s->containers[i].ifname[0] != '\0')
			continue;
		fprintf(stderr,
			"agentd: %s: container \"%s\": interface: missing; --apply enforces a "
			"container on its host-side interface, e.g. \"interface\": \"hc1\"\n",
			path, s->containers[i].id);
		return -EINVAL;
	}
	return 0;
}

/*
 * A container whose interface is a bridge port now is enforced on the
 * bridged path, as the daemon would; --apply follows no later change.
 */
static int
mark_bridged(struct rules_set *s)
{
	struct links *l;
	size_t i;
	int r = links_open(&l);

	if (r < 0) {
		log_warn(r, "read the host's interfaces");
		return r;
	}
	for (i = 0; i < s->ncontainers; i++)
		s->containers[i].bridged = links_presence(l, s->containers[i].ifname) == 2;
	links_stop(l);
	return 0;
}

/*
 * A large apply allocates several times its file's size in small pieces
 * (the JSON tree, then the netlink messages), and on a virtual machine
 * every first touch of a page is an expensive exit. Fault the heap in
 * with one call, and keep freed memory for the next phase instead of
 * giving it back.
 */
#define HEAP_PER_FILE_BYTE 10
#define HEAP_PREPARE_MIN (1u << 20)
#define HEAP_PREPARE_MAX (512u << 20) /* mallopt() takes an int */

static void
heap_prepare(size_t file_len)
{
	size_t want = file_len * HEAP_PER_FILE_BYTE;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), start, end;
	char *p;

	if (file_len < HEAP_PREPARE_MIN)
		return;
	if (want > HEAP_PREPARE_MAX)
		want = HEAP_PREPARE_MAX;
	/* from the heap, not a mapping of its own, and kept after free();
	 * batch pages and the like then come from the same heap */
	mallopt(M_MMAP_THRESHOLD, (int)(want * 2));
	mallopt(M_TRIM_THRESHOLD, (int)(want * 2));
	p = malloc(want);
	if (p == NULL)
		return;
	start = ((uintptr_t)p + page - 1) & ~(page - 1);
	end = ((uintptr_t)p + want) & ~(page - 1);
	/* best effort: kernels before 5.14 fault the pages in one by one */
	madvise((void *)start, end - start, MADV_POPULATE_WRITE);
	free(p);
}

static double
ms(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1e3 + (b->tv_nsec - a->tv_nsec) / 1e6;
}

static int
do_apply(const char *path, const char *table, const struct nft_options *o)
{
	struct rules_set *want = NULL;
	struct nft_conn *c = NULL;
	struct nft_state *have = NULL;
	struct nft_apply_stats st;
	struct rules_error rerr;
	struct nft_error err;
	struct timespec t0, t1;
	char *buf = NULL;
	size_t len = 0;
	int r, tries;

	r = read_all(path, &buf, &len);
	if (r < 0) {
		log_warn(r, "read %s", path);
		return EXIT_FAILURE;
	}
	heap_prepare(len);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = rules_set_parse(buf, len, &want, &rerr);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	free(buf);
	log_debug("%s: parsed %zu containers in %.1f ms", path, r == 0 ? want->ncontainers : 0,
		  ms(&t0, &t1));
	if (r < 0) {
		print_rules_error(path, &rerr);
		return EXIT_FAILURE;
	}
	r = check_attached(path, want);
	if (r == 0)
		r = mark_bridged(want);
	if (r == 0)
		r = open_conn(table, &c);
	if (r == 0)
		nft_conn_set_options(c, o);
	for (tries = 0; r == 0 && tries < APPLY_TRIES; tries++) {
		nft_state_free(have);
		have = NULL;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = nft_dump(c, want, &have, &err);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		log_debug("table %s: dumped in %.1f ms", table, ms(&t0, &t1));
		if (r == 0)
			r = nft_apply(c, want, have, NULL, &st, &err);
		if (r != -ERESTART)
			break;
		log_debug("table %s: the ruleset changed during apply, trying again", table);
		r = 0;
	}
	if (r == 0 && tries == APPLY_TRIES)
		r = -ERESTART;
	if (r < 0) {
		if (err.err != 0)
			print_nft_error(table, &err);
		goto out;
	}
	if (st.messages == 0)
		log_info("table %s: already as desired (%u containers), nothing sent", table,
			 st.unchanged);
	else
		log_info("table %s: %u created, %u updated, %u removed, %u unchanged, in one "
			 "transaction of %u messages (commit %.1f ms)",
			 table, st.created, st.updated, st.removed, st.unchanged, st.messages,
			 st.commit_us / 1000.0);
	log_debug("table %s: transaction built in %.1f ms, committed in %.1f ms", table,
		  st.build_us / 1000.0, st.commit_us / 1000.0);
	if (!st.persist)
		log_warnx("table %s: the table lacks the owner and persist flags (kernel "
			  "before 6.9?): tamper protection is off",
			  table);
out:
	nft_state_free(have);
	nft_conn_close(c);
	rules_set_free(want);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int
do_dump(const char *table)
{
	struct nft_conn *c = NULL;
	struct nft_state *st = NULL;
	struct nft_error err;
	int r;

	r = open_conn(table, &c);
	if (r == 0) {
		r = nft_dump(c, NULL, &st, &err);
		if (r < 0)
			print_nft_error(table, &err);
	}
	if (r == 0) {
		r = kernel_json_write_state(stdout, table, st);
		if (r < 0)
			log_warn(r, "write dump");
	}
	nft_state_free(st);
	nft_conn_close(c);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{"apply", required_argument, NULL, 'a'},
		{"dump", no_argument, NULL, 'd'},
		{"table", required_argument, NULL, 't'},
		{"socket", required_argument, NULL, 's'},
		{"socket-group", required_argument, NULL, 'g'},
		{"listen", required_argument, NULL, 'l'},
		{"token-file", required_argument, NULL, 'k'},
		{"max-connections", required_argument, NULL, 'C'},
		{"max-per-address", required_argument, NULL, 'A'},
		{"idle-timeout", required_argument, NULL, 'T'},
		{"state-dir", required_argument, NULL, 'S'},
		{"log-format", required_argument, NULL, 'f'},
		{"reconcile-interval", required_argument, NULL, 'R'},
		{"monitor-buffer", required_argument, NULL, 'M'},
		{"no-table-owner", no_argument, NULL, 'O'},
		{"bridge-netfilter", required_argument, NULL, 'B'},
		{"container-ifprefix", required_argument, NULL, 'P'},
		{"drop-log-rate", required_argument, NULL, 'L'},
		{"drop-log-group", required_argument, NULL, 'G'},
		{"dns-port", required_argument, NULL, 'p'},
		{"dns-upstream", required_argument, NULL, 'u'},
		{"dns-min-ttl", required_argument, NULL, 'm'},
		{"dns-max-ttl", required_argument, NULL, 'x'},
		{"dns-rate", required_argument, NULL, 'r'},
		{"dns-max-learned", required_argument, NULL, 'N'},
		{"dns-user", required_argument, NULL, 'U'},
		{"resolver", required_argument, NULL, 'X'},
		{"debug", no_argument, NULL, 'D'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct daemon_options dopt = {
		.table = NFT_TABLE_DEFAULT,
		.state_dir = STATE_DIR_DEFAULT,
		.socket_path = SOCKET_DEFAULT,
		.socket_gid = (gid_t)-1,
		.threads = 4,
		.max_connections = CONNECTIONS_DEFAULT,
		.max_per_address = PER_ADDRESS_DEFAULT,
		.timeout_s = IDLE_TIMEOUT_DEFAULT,
		.reconcile_interval_s = 30,
		.monitor_buffer = NFT_MONITOR_RCVBUF_DEFAULT,
		.nft = {.log_rate = DROP_LOG_RATE_DEFAULT,
			.log_group = DROP_LOG_GROUP_DEFAULT,
			.dns_port = DNS_PORT_DEFAULT},
		.dns = {.user = "nobody",
			.min_ttl = DNS_MIN_TTL_DEFAULT,
			.max_ttl = DNS_MAX_TTL_DEFAULT,
			.rate = DNS_RATE_DEFAULT,
			.max_learned = DNS_MAX_LEARNED_DEFAULT},
	};
	unsigned int v;
	enum log_format fmt = LOG_FORMAT_TEXT;
	const char *apply = NULL;
	bool dump = false, debug = false, daemon_opt = false;
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			apply = optarg;
			break;
		case 'd':
			dump = true;
			break;
		case 't':
			dopt.table = optarg;
			break;
		case 's':
			dopt.socket_path = optarg;
			daemon_opt = true;
			break;
		case 'g': {
			const struct group *gr = getgrnam(optarg);

			if (gr == NULL) {
				fprintf(stderr,
					"agentd: --socket-group: no group \"%s\" on this host\n",
					optarg);
				return EXIT_USAGE;
			}
			dopt.socket_gid = gr->gr_gid;
			daemon_opt = true;
			break;
		}
		case 'l':
			dopt.listen = optarg;
			daemon_opt = true;
			break;
		case 'k':
			dopt.token_file = optarg;
			daemon_opt = true;
			break;
		case 'S':
			dopt.state_dir = optarg;
			daemon_opt = true;
			break;
		case 'f':
			if (strcmp(optarg, "json") == 0)
				fmt = LOG_FORMAT_JSON;
			else if (strcmp(optarg, "text") != 0) {
				fprintf(stderr, "agentd: --log-format: expected text or json\n");
				return EXIT_USAGE;
			}
			break;
		case 'R':
			if (parse_uint("--reconcile-interval", optarg, 0, 86400,
				       "seconds, 0 (never) to 86400", &v) < 0)
				return EXIT_USAGE;
			dopt.reconcile_interval_s = v;
			daemon_opt = true;
			break;
		case 'M':
			if (parse_uint("--monitor-buffer", optarg, 1, 1u << 30,
				       "bytes, 1 (the kernel's minimum) to 1073741824", &v) < 0)
				return EXIT_USAGE;
			dopt.monitor_buffer = v;
			daemon_opt = true;
			break;
		case 'P':
			if (dopt.nft.nifprefix == NFT_IFPREFIX_MAX || strlen(optarg) > 14 ||
			    !rules_ifname_valid(optarg)) {
				fprintf(stderr,
					"agentd: --container-ifprefix \"%s\": expected the start "
					"of "
					"an interface name, 1-14 bytes without '/', ':' or "
					"whitespace, at most %d times\n",
					optarg, NFT_IFPREFIX_MAX);
				return EXIT_USAGE;
			}
			strcpy(dopt.nft.ifprefix[dopt.nft.nifprefix++], optarg);
			break;
		case 'L':
			if (parse_uint("--drop-log-rate", optarg, 0, 10000,
				       "drops per second per container, 0 (no drop log) to 10000",
				       &v) < 0)
				return EXIT_USAGE;
			dopt.nft.log_rate = v;
			break;
		case 'G':
			if (parse_uint("--drop-log-group", optarg, 0, UINT16_MAX,
				       "an NFLOG group, 0 to 65535", &v) < 0)
				return EXIT_USAGE;
			dopt.nft.log_group = (uint16_t)v;
			break;
		case 'p':
			if (parse_uint("--dns-port", optarg, 0, UINT16_MAX,
				       "a port, 0 (no resolver) to 65535", &v) < 0)
				return EXIT_USAGE;
			dopt.nft.dns_port = (uint16_t)v;
			daemon_opt = true;
			break;
		case 'u':
			if (dopt.dns.nupstream == DNS_UPSTREAM_MAX ||
			    dns_upstream_parse(optarg, &dopt.dns.upstream[dopt.dns.nupstream]) <
				    0) {
				fprintf(stderr,
					"agentd: --dns-upstream \"%s\": expected an IPv4 or IPv6 "
					"address, with :PORT after it (IPv6 in brackets) if not "
					"53, "
					"at most %d times\n",
					optarg, DNS_UPSTREAM_MAX);
				return EXIT_USAGE;
			}
			dopt.dns.nupstream++;
			daemon_opt = true;
			break;
		case 'm':
		case 'x':
			if (parse_uint(ch == 'm' ? "--dns-min-ttl" : "--dns-max-ttl", optarg, 1,
				       86400, "seconds, 1 to 86400", &v) < 0)
				return EXIT_USAGE;
			*(ch == 'm' ? &dopt.dns.min_ttl : &dopt.dns.max_ttl) = v;
			daemon_opt = true;
			break;
		case 'C':
			if (parse_uint("--max-connections", optarg, 1, 65536,
				       "connections, 1 to 65536", &v) < 0)
				return EXIT_USAGE;
			dopt.max_connections = v;
			daemon_opt = true;
			break;
		case 'A':
			if (parse_uint("--max-per-address", optarg, 1, 65536,
				       "connections, 1 to 65536", &v) < 0)
				return EXIT_USAGE;
			dopt.max_per_address = v;
			daemon_opt = true;
			break;
		case 'T':
			if (parse_uint("--idle-timeout", optarg, 1, 3600, "seconds, 1 to 3600",
				       &v) < 0)
				return EXIT_USAGE;
			dopt.timeout_s = v;
			daemon_opt = true;
			break;
		case 'r':
			if (parse_uint("--dns-rate", optarg, 1, 100000,
				       "queries per second, 1 to 100000", &v) < 0)
				return EXIT_USAGE;
			dopt.dns.rate = v;
			daemon_opt = true;
			break;
		case 'N':
			if (parse_uint("--dns-max-learned", optarg, 1, 1000000,
				       "addresses, 1 to 1000000", &v) < 0)
				return EXIT_USAGE;
			dopt.dns.max_learned = v;
			daemon_opt = true;
			break;
		case 'U':
			dopt.dns.user = optarg;
			daemon_opt = true;
			break;
		case 'X':
			dopt.dns.resolver = optarg;
			daemon_opt = true;
			break;
		case 'O':
			dopt.no_table_owner = true;
			daemon_opt = true;
			break;
		case 'B':
			if (strcmp(optarg, "leave") != 0 && strcmp(optarg, "on") != 0) {
				fprintf(stderr,
					"agentd: --bridge-netfilter \"%s\": expected on (keep the "
					"bridges of attached containers filtered) or leave (change "
					"no bridge)\n",
					optarg);
				return EXIT_USAGE;
			}
			dopt.bridge_netfilter_leave = strcmp(optarg, "leave") == 0;
			daemon_opt = true;
			break;
		case 'D':
			debug = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	log_init("agentd", fmt, debug);
	if (optind != argc || (apply != NULL && dump) || ((apply != NULL || dump) && daemon_opt)) {
		fprintf(stderr,
			"agentd: give --apply FILE, --dump, or daemon options, not a mix\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	/* table names share the id alphabet: safe in messages and JSON */
	if (!rules_id_valid(dopt.table) || strlen(dopt.table) > NFT_TABLE_NAME_MAX) {
		fprintf(stderr,
			"agentd: --table \"%s\": expected 1-64 characters of "
			"A-Z a-z 0-9 _ . -\n",
			dopt.table);
		return EXIT_USAGE;
	}
	if (dopt.listen != NULL && dopt.token_file == NULL) {
		fprintf(stderr, "agentd: --listen needs --token-file: the API is never served "
				"over TCP without a bearer token\n");
		return EXIT_USAGE;
	}
	if (dopt.dns.min_ttl > dopt.dns.max_ttl) {
		fprintf(stderr, "agentd: --dns-min-ttl %u is above --dns-max-ttl %u\n",
			dopt.dns.min_ttl, dopt.dns.max_ttl);
		return EXIT_USAGE;
	}
	dopt.dns.port = dopt.nft.dns_port;
	dopt.dns.state_dir = dopt.state_dir;
	if (dopt.dns.resolver == NULL)
		dopt.dns.resolver = resolver_default();
	if (dopt.dns.nupstream == 0)
		dopt.dns.nupstream =
			dns_upstream_resolv_conf("/etc/resolv.conf", dopt.dns.upstream);
	/* --apply runs no resolver: its table redirects nothing */
	if (apply != NULL) {
		dopt.nft.dns_port = 0;
		return do_apply(apply, dopt.table, &dopt.nft);
	}
	if (dump)
		return do_dump(dopt.table);
	return daemon_run(&dopt);
}
