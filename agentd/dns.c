/*
 * The link to the resolver (see dns.h and resolverd/control.c for the
 * messages). One thread: it finds or starts the resolver, sends it the
 * policy, and serves its requests. Requests that arrive together are
 * opened in one kernel commit. Everything the resolver says is checked
 * here: it parses what containers send and is trusted with nothing.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <linux/capability.h>

#include "agentd/dns.h"
#include "agentd/drops.h"
#include "agentd/engine_int.h"
#include "agentd/learned.h"
#include "agentd/log.h"

#define DNS_SOCKET "resolver.sock"
#define DNS_IN_MAX (1u << 20) /* a line from the resolver: an answer's addresses */
#define DNS_BATCH_MAX 256     /* requests opened in one commit */
#define DNS_SEND_TIMEOUT_S 2  /* a resolver that does not read is restarted */
#define DNS_HOST_REPORTS 1000 /* refused queries written to the drop log per second, host-wide */
/*
 * An address stays open this much past the TTL its container was told,
 * so that repeated lookups within it need no commit (the element's own
 * timeout is not to be refreshed for every answer).
 */
#define DNS_SLACK_MS 1000
/* Request numbers: the resolver counts them from 1; a double holds them exactly to 2^53. */
#define DNS_REQ_MAX 9007199254740992.0

struct dns {
	struct engine *e;
	struct drops *drops;
	struct dns_options o;
	char path[108];
	pthread_t thread;
	bool started;
	int stop;	      /* eventfd */
	pthread_mutex_t lock; /* ctl and writing to it */
	int ctl;	      /* -1: not linked */
	bool synced;	      /* the resolver has the whole policy: send changes */
	char *in;
	size_t inlen, incap;
	struct learned *learned; /* under the engine's write lock */
	time_t report_sec;	 /* the host-wide limit of refused queries logged */
	unsigned int reports;
};

struct open_req {
	uint64_t req;
	bool ok;
	size_t first, n; /* its entries in the batch's learn vector */
};

/* What one batch of requests makes of the account (learned.h). */
struct batch_count {
	size_t kept;	/* open long enough already */
	size_t evicted; /* closed early: their containers at the bound */
};

int
dns_upstream_parse(const char *s, struct dns_upstream *ret)
{
	const char *colon = strrchr(s, ':'), *end;
	char host[sizeof(ret->addr)];
	unsigned long port = 53;
	struct in6_addr a6;
	struct in_addr a4;
	size_t len;
	char *e;

	if (s[0] == '[') {
		end = strchr(s, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return -EINVAL;
		len = end - s - 1;
		colon = end[1] == ':' ? end + 1 : NULL;
		s++;
	} else if (colon != NULL && strchr(s, ':') == colon) {
		len = colon - s; /* IPv4:port */
	} else {
		len = strlen(s); /* IPv4, or IPv6 without a port */
		colon = NULL;
	}
	if (len == 0 || len >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, len);
	host[len] = '\0';
	if (colon != NULL) {
		errno = 0;
		port = strtoul(colon + 1, &e, 10);
		if (errno != 0 || e == colon + 1 || *e != '\0' || port == 0 || port > 65535)
			return -EINVAL;
	}
	if (inet_pton(AF_INET, host, &a4) != 1 && inet_pton(AF_INET6, host, &a6) != 1)
		return -EINVAL;
	strcpy(ret->addr, host);
	ret->port = (uint16_t)port;
	return 0;
}

unsigned int
dns_upstream_resolv_conf(const char *path, struct dns_upstream *v)
{
	FILE *f = fopen(path, "re");
	char line[512], addr[128];
	unsigned int n = 0;

	if (f == NULL)
		return 0;
	while (n < DNS_UPSTREAM_MAX && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, " nameserver %127s", addr) == 1 &&
		    strchr(addr, '%') == NULL && /* a scoped link-local server: not ours to reach */
		    dns_upstream_parse(addr, &v[n]) == 0)
			n++;
	fclose(f);
	return n;
}

/* Write line and a newline; a resolver that does not take it loses the link. */
static void
send_line(struct dns *d, char *line)
{
	size_t len, off = 0;
	ssize_t n;

	if (line == NULL || d->ctl < 0) {
		free(line);
		return;
	}
	len = strlen(line);
	line[len++] = '\n'; /* rules_jw_take() leaves room: the NUL's */
	while (off < len) {
		n = send(d->ctl, line + off, len - off, MSG_NOSIGNAL);
		if (n <= 0) {
			log_warn(n < 0 ? -errno : -EPIPE, "dns: the resolver does not read; "
							  "linking again");
			shutdown(d->ctl, SHUT_RDWR);
			d->synced = false;
			break;
		}
		off += n;
	}
	free(line);
}

static void
write_policy(struct rules_jw *w, const struct dns *d, const struct rules_container *fw)
{
	uint32_t mask, mark = nft_model_port_mark(d->e->model, fw->id, &mask);
	size_t i;

	rules_jw_open(w, '{');
	rules_jw_key(w, "t");
	rules_jw_str(w, "policy");
	rules_jw_key(w, "ifname");
	rules_jw_str(w, fw->ifname);
	rules_jw_key(w, "id");
	rules_jw_str(w, fw->id);
	rules_jw_key(w, "default");
	rules_jw_str(w, rules_action_name(fw->policy));
	/* on a bridge, its queries come in on the bridge: the mark says whose */
	rules_jw_key(w, "mark");
	rules_jw_u64(w, mark);
	rules_jw_key(w, "mask");
	rules_jw_u64(w, mask);
	rules_jw_key(w, "names");
	rules_jw_open(w, '[');
	for (i = 0; i < fw->nrules; i++) {
		if (fw->rules[i].dname == NULL)
			continue;
		rules_jw_open(w, '{');
		rules_jw_key(w, "rule");
		rules_jw_str(w, fw->rules[i].id);
		rules_jw_key(w, "action");
		rules_jw_str(w, rules_action_name(fw->rules[i].action));
		rules_jw_key(w, "name");
		rules_jw_str(w, fw->rules[i].dname);
		rules_jw_close(w, '}');
	}
	rules_jw_close(w, ']');
	rules_jw_close(w, '}');
}

static bool
redirected(const struct rules_container *fw)
{
	return fw->ifname[0] != '\0' && rules_container_has_names(fw);
}

static void
send_policy(struct dns *d, const struct rules_container *fw)
{
	struct rules_jw w;

	rules_jw_init(&w);
	write_policy(&w, d, fw);
	send_line(d, rules_jw_take(&w));
}

static void
send_gone(struct dns *d, const char *ifname)
{
	struct rules_jw w;

	rules_jw_init(&w);
	rules_jw_open(&w, '{');
	rules_jw_key(&w, "t");
	rules_jw_str(&w, "gone");
	rules_jw_key(&w, "ifname");
	rules_jw_str(&w, ifname);
	rules_jw_close(&w, '}');
	send_line(d, rules_jw_take(&w));
}

/* The engine's observer: under its write lock. */
static void
on_change(void *data, const struct engine_ct *old, const struct engine_ct *next)
{
	struct dns *d = data;

	/* its sets may have gone with its rules: the account starts again */
	if (old != NULL && d->learned != NULL && rules_container_has_names(&old->fw))
		learned_forget(d->learned, old->fw.id);
	pthread_mutex_lock(&d->lock);
	if (d->synced) {
		if (old != NULL && redirected(&old->fw) &&
		    (next == NULL || !redirected(&next->fw) ||
		     strcmp(old->fw.ifname, next->fw.ifname) != 0))
			send_gone(d, old->fw.ifname);
		if (next != NULL && redirected(&next->fw))
			send_policy(d, &next->fw);
	}
	pthread_mutex_unlock(&d->lock);
}

/* Everything the resolver must know, from scratch (under the engine's lock). */
static void
sync_all(struct dns *d)
{
	struct engine_ct_list l = {0};
	struct rules_jw w;
	size_t i, k;

	rules_jw_init(&w);
	rules_jw_open(&w, '{');
	rules_jw_key(&w, "t");
	rules_jw_str(&w, "reset");
	rules_jw_key(&w, "port");
	rules_jw_u64(&w, d->o.port);
	rules_jw_key(&w, "upstreams");
	rules_jw_open(&w, '[');
	for (k = 0; k < d->o.nupstream; k++) {
		rules_jw_open(&w, '{');
		rules_jw_key(&w, "addr");
		rules_jw_str(&w, d->o.upstream[k].addr);
		rules_jw_key(&w, "port");
		rules_jw_u64(&w, d->o.upstream[k].port);
		rules_jw_close(&w, '}');
	}
	rules_jw_close(&w, ']');
	rules_jw_key(&w, "min_ttl");
	rules_jw_u64(&w, d->o.min_ttl);
	rules_jw_key(&w, "max_ttl");
	rules_jw_u64(&w, d->o.max_ttl);
	rules_jw_key(&w, "rate");
	rules_jw_u64(&w, d->o.rate);
	rules_jw_close(&w, '}');
	send_line(d, rules_jw_take(&w));
	if (engine_ct_list(d->e, &l) < 0) {
		log_warnx("dns: out of memory sending the policy");
		shutdown(d->ctl, SHUT_RDWR);
		return;
	}
	for (i = 0; i < l.n && d->ctl >= 0; i++)
		if (redirected(&l.v[i]->fw))
			send_policy(d, &l.v[i]->fw);
	free(l.v);
	send_line(d, strdup("{\"t\":\"ready\"}"));
	d->synced = true;
}

/* The child: dup the sockets to 3..7, become the user, run the resolver. */
static void __attribute__((noreturn))
exec_resolver(const struct dns *d, const int fds[5], const struct passwd *pw)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct c[2] = {{0}};
	static const char *const names[5] = {"control", "udp4", "udp6", "tcp4", "tcp6"};
	char args[5][24], *argv[7] = {(char *)(uintptr_t)d->o.resolver};
	int i, hi[5], devnull = open("/dev/null", O_RDWR);

	/* out of the agent's session: a Ctrl-C or a stop of agentd is not its */
	setsid();
	/* out of the way first: one may sit where another goes */
	for (i = 0; i < 5; i++)
		hi[i] = fds[i] >= 0 ? fcntl(fds[i], F_DUPFD, 64) : -1;
	for (i = 0; i < 5; i++)
		if ((fds[i] >= 0 && hi[i] < 0) || (hi[i] >= 0 && dup2(hi[i], 3 + i) < 0))
			_exit(127);
	if (devnull >= 0)
		dup2(devnull, 0);
	syscall(SYS_close_range, 8, ~0u, 0);
	for (i = 0; i < 5; i++) {
		snprintf(args[i], sizeof(args[i]), "--%s-fd=%d", names[i],
			 fds[i] >= 0 ? 3 + i : -1);
		argv[i + 1] = args[i];
	}
	/* nothing it execs can ever get a capability back: an empty
	 * bounding set (where the agent may still change it) and
	 * no-new-privileges, both kept across execve */
	for (i = 0; i <= CAP_LAST_CAP; i++)
		if (prctl(PR_CAPBSET_READ, i, 0, 0, 0) == 1)
			(void)prctl(PR_CAPBSET_DROP, i, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(126);
	/* root's capabilities go with root: none is left after the switch */
	if (getuid() == 0 && pw != NULL)
		if (setgroups(0, NULL) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
		    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
			_exit(126);
	/* as root, where no such user exists: not one capability kept */
	if (getuid() == 0 && syscall(SYS_capset, &h, c) < 0)
		_exit(126);
	execv(d->o.resolver, argv);
	_exit(127);
}

static int
bound(int family, int type, uint16_t port)
{
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(family, type | SOCK_CLOEXEC, 0), one = 1, r;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	r = family == AF_INET6 ? bind(fd, (struct sockaddr *)&s6, sizeof(s6))
			       : bind(fd, (struct sockaddr *)&s4, sizeof(s4));
	if (r == 0 && type == SOCK_STREAM)
		r = listen(fd, 128);
	if (r < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* Bind its sockets and start the resolver, detached: it outlives us. */
static int
spawn(struct dns *d)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const struct passwd *pw = getpwnam(d->o.user);
	int fds[5] = {-1, -1, -1, -1, -1}, i, r = 0, status;
	pid_t pid;

	if (pw == NULL)
		log_warnx("dns: no user %s: the resolver runs as root, without capabilities",
			  d->o.user);
	strcpy(sa.sun_path, d->path);
	unlink(d->path); /* a resolver that is gone left it */
	fds[0] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fds[0] < 0 || bind(fds[0], (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fds[0], 4) < 0) {
		r = -errno;
		log_warn(r, "dns: the resolver's socket %s", d->path);
		goto out;
	}
	fds[1] = bound(AF_INET, SOCK_DGRAM, d->o.port);
	fds[2] = bound(AF_INET6, SOCK_DGRAM, d->o.port);
	fds[3] = bound(AF_INET, SOCK_STREAM, d->o.port);
	fds[4] = bound(AF_INET6, SOCK_STREAM, d->o.port);
	if (fds[1] < 0 || fds[3] < 0) {
		r = fds[1] < 0 ? fds[1] : fds[3];
		log_warn(r, "dns: binding port %u (--dns-port)", d->o.port);
		goto out;
	}
	pid = fork();
	if (pid == 0) {
		/* a grandchild, so that nobody has to wait for it */
		if (fork() == 0)
			exec_resolver(d, fds, pw);
		_exit(0);
	}
	if (pid < 0)
		r = -errno;
	else
		waitpid(pid, &status, 0);
	if (r == 0)
		log_info("dns: resolver %s started on port %u", d->o.resolver, d->o.port);
out:
	for (i = 0; i < 5; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return r;
}

static int
connect_resolver(struct dns *d)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = DNS_SEND_TIMEOUT_S};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	strcpy(sa.sun_path, d->path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Link to the resolver on fd, and give it the policy. */
static void
link_up(struct dns *d, int fd)
{
	pthread_rwlock_rdlock(&d->e->lock);
	pthread_mutex_lock(&d->lock);
	d->ctl = fd;
	d->inlen = 0;
	sync_all(d);
	pthread_mutex_unlock(&d->lock);
	pthread_rwlock_unlock(&d->e->lock);
	log_info("dns: linked to the resolver");
}

/*
 * The link broke: the resolver went away, or would not read. Linked
 * again if it is still there; else agentd, which starts resolvers only
 * while it still may switch users, stops, for the service manager to
 * start both again (as OpenBSD's privilege-separated daemons do when a
 * child dies). Containers' queries fail meanwhile: nothing opens.
 */
static void
link_down(struct dns *d)
{
	int fd;

	pthread_mutex_lock(&d->lock);
	if (d->ctl >= 0)
		close(d->ctl);
	d->ctl = -1;
	d->synced = false;
	pthread_mutex_unlock(&d->lock);
	fd = connect_resolver(d);
	if (fd >= 0) {
		log_warnx("dns: the link to the resolver broke; linking again");
		link_up(d, fd);
		return;
	}
	log_warn(fd, "dns: the resolver is gone; stopping, for agentd and a resolver to be "
		     "started again");
	kill(getpid(), SIGTERM);
}

static const char *
str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/*
 * o's member key when it is a number from 0 to max, else -1: what the
 * resolver sends is checked before any cast (a double out of an
 * integer's range is undefined to convert).
 */
static int64_t
num_of(const cJSON *o, const char *key, double max)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= max
		       ? (int64_t)v->valuedouble
		       : -1;
}

/* The index of rule id in fw, or -1. */
static long
rule_index(const struct rules_container *fw, const char *id)
{
	size_t i;

	for (i = 0; i < fw->nrules; i++)
		if (strcmp(fw->rules[i].id, id) == 0)
			return (long)i;
	return -1;
}

static int64_t
realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Room for one more entry in *v. */
static struct nft_learn *
learn_push(struct nft_learn **v, size_t *n, size_t *cap)
{
	struct nft_learn *l;

	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;

		l = reallocarray(*v, c, sizeof(*l));
		if (l == NULL)
			return NULL;
		*v = l;
		*cap = c;
	}
	l = &(*v)[(*n)++];
	memset(l, 0, sizeof(*l));
	return l;
}

/*
 * Check an open request against the desired state (engine lock held)
 * and add what it opens to *v: the container exists, is attached, and
 * every rule named is one of its allow rules by name matching the name
 * asked; every address is an address, every lifetime within the clamp.
 * What is open long enough already is left out (the account).
 */
static int
check_open(struct dns *d, const cJSON *m, struct nft_learn **v, size_t *n, size_t *cap,
	   struct batch_count *bc)
{
	const char *id = str_of(m, "id"), *name = str_of(m, "name");
	const cJSON *rules = cJSON_GetObjectItemCaseSensitive(m, "rules");
	const cJSON *addrs = cJSON_GetObjectItemCaseSensitive(m, "addrs"), *ru, *a;
	const struct engine_ct *c = id ? engine_ct_find(d->e, id) : NULL;
	int64_t now = realtime_ms();

	if (c == NULL || name == NULL || !redirected(&c->fw) || !cJSON_IsArray(rules) ||
	    !cJSON_IsArray(addrs) || cJSON_GetArraySize(rules) == 0)
		return -EINVAL;
	cJSON_ArrayForEach(ru, rules)
	{
		long i = cJSON_IsString(ru) ? rule_index(&c->fw, ru->valuestring) : -1;
		const struct rules_rule *r = i >= 0 ? &c->fw.rules[i] : NULL;
		uint32_t name_id;

		if (r == NULL || r->dname == NULL || r->action != RULES_ACTION_ALLOW ||
		    !rules_dname_match(r->dname, name))
			return -EPERM;
		name_id = nft_model_name_id(d->e->model, c->fw.id, (size_t)i, r->id, r->dname);
		if (name_id == 0)
			return -ENOENT;
		cJSON_ArrayForEach(a, addrs)
		{
			const char *text = str_of(a, "addr");
			const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(a, "ttl");
			struct learned_key k = {.name_id = name_id}, ev;
			struct nft_learn *l;
			int64_t need;
			bool evicted;
			int verdict;

			if (text == NULL || !cJSON_IsNumber(ttl) || ttl->valuedouble < 1 ||
			    ttl->valuedouble > d->o.max_ttl)
				return -EINVAL;
			if (inet_pton(AF_INET, text, k.addr) == 1)
				k.family = RULES_FAMILY_IPV4;
			else if (inet_pton(AF_INET6, text, k.addr) == 1)
				k.family = RULES_FAMILY_IPV6;
			else
				return -EINVAL;
			need = now + (int64_t)ttl->valuedouble * 1000;
			verdict = learned_note(d->learned, c->fw.id, &k, need, need + DNS_SLACK_MS,
					       now, &ev, &evicted);
			if (verdict < 0)
				return verdict;
			if (evicted) {
				/* at the bound: the first to close goes now */
				if ((l = learn_push(v, n, cap)) == NULL)
					return -ENOMEM;
				*l = (struct nft_learn){.container = c->fw.id,
							.rule = "(bound)",
							.name_id = ev.name_id,
							.family = ev.family,
							.timeout_ms = 1};
				memcpy(l->addr, ev.addr, sizeof(l->addr));
				bc->evicted++;
			}
			if (verdict == LEARNED_KEEP) {
				bc->kept++;
				continue;
			}
			if ((l = learn_push(v, n, cap)) == NULL)
				return -ENOMEM;
			*l = (struct nft_learn){.container = c->fw.id,
						.rule = r->id,
						.name_id = name_id,
						.family = k.family,
						.timeout_ms =
							(uint64_t)(need + DNS_SLACK_MS - now)};
			memcpy(l->addr, k.addr, sizeof(l->addr));
		}
	}
	return 0;
}

/* A line of the agent's own from another thread than the observer's. */
static void
send_locked(struct dns *d, const char *line)
{
	pthread_mutex_lock(&d->lock);
	send_line(d, strdup(line));
	pthread_mutex_unlock(&d->lock);
}

static void
send_opened(struct dns *d, uint64_t req, bool ok)
{
	char line[80];

	snprintf(line, sizeof(line), "{\"t\":\"opened\",\"req\":%llu,\"ok\":%s}",
		 (unsigned long long)req, ok ? "true" : "false");
	send_locked(d, line);
}

static void
on_refused(struct dns *d, const cJSON *m)
{
	const char *id = str_of(m, "id"), *name = str_of(m, "name");
	int64_t qtype = num_of(m, "qtype", UINT16_MAX);
	char ifname[RULES_IFNAME_MAX + 1] = "";
	const struct engine_ct *c;
	time_t now = time(NULL);

	if (id == NULL || name == NULL || qtype < 0 || d->drops == NULL)
		return;
	if (now != d->report_sec) {
		d->report_sec = now;
		d->reports = 0;
	}
	if (d->reports++ >= DNS_HOST_REPORTS)
		return;
	pthread_rwlock_rdlock(&d->e->lock);
	c = engine_ct_find(d->e, id);
	if (c != NULL)
		strcpy(ifname, c->fw.ifname);
	pthread_rwlock_unlock(&d->e->lock);
	if (c != NULL)
		drops_dns(d->drops, id, ifname, name, (uint16_t)qtype);
}

/*
 * Who opened the TCP connection from addr:port that came in on a bridge:
 * the mark of its port, as the kernel recorded it (0: unknown). The
 * resolver matches it against the policy it has.
 */
static void
on_peer(struct dns *d, const cJSON *m)
{
	int64_t req = num_of(m, "req", DNS_REQ_MAX), port = num_of(m, "port", UINT16_MAX);
	const char *ifname = str_of(m, "ifname"), *addr = str_of(m, "addr");
	uint8_t a[16], family = RULES_FAMILY_IPV4;
	uint32_t mark = 0;
	char line[96];
	int r = -EINVAL;

	if (ifname != NULL && strlen(ifname) < RULES_IFNAME_MAX + 1 && addr != NULL && port >= 1 &&
	    req >= 0) {
		if (inet_pton(AF_INET, addr, a) == 1)
			r = 0;
		else if (inet_pton(AF_INET6, addr, a) == 1) {
			family = RULES_FAMILY_IPV6;
			r = 0;
		}
	}
	if (r == 0) {
		pthread_rwlock_wrlock(&d->e->lock);
		r = nft_dns_peer(d->e->nc, ifname, family, a, htons((uint16_t)port), &mark);
		pthread_rwlock_unlock(&d->e->lock);
	}
	if (r < 0)
		log_warn(r, "dns: who opened a TCP connection from %s on %s", addr ? addr : "?",
			 ifname ? ifname : "?");
	if (req < 0)
		return;
	snprintf(line, sizeof(line), "{\"t\":\"peer\",\"req\":%lld,\"mark\":%lu}", (long long)req,
		 (unsigned long)mark);
	send_locked(d, line);
}

/* Forget the account of the containers of msgs: what it says may not hold. */
static void
forget_all(struct dns *d, cJSON **msgs, size_t nmsgs)
{
	size_t i;

	for (i = 0; i < nmsgs; i++)
		if (str_of(msgs[i], "id") != NULL)
			learned_forget(d->learned, str_of(msgs[i], "id"));
}

/* Open what the requests ask, in one commit; each that fails alone on its own. */
static void
open_batch(struct dns *d, cJSON **msgs, size_t nmsgs)
{
	struct open_req reqs[DNS_BATCH_MAX];
	struct batch_count bc = {0};
	struct nft_learn *v = NULL;
	struct nft_error err;
	struct timespec t0, t1;
	size_t i, n = 0, cap = 0;
	int r = 0;

	pthread_rwlock_wrlock(&d->e->lock);
	for (i = 0; i < nmsgs; i++) {
		const char *id = str_of(msgs[i], "id"), *name = str_of(msgs[i], "name");
		int64_t req = num_of(msgs[i], "req", DNS_REQ_MAX);

		reqs[i].req = req < 0 ? 0 : (uint64_t)req;
		reqs[i].first = n;
		r = check_open(d, msgs[i], &v, &n, &cap, &bc);
		reqs[i].ok = r == 0;
		if (r < 0) {
			n = reqs[i].first; /* none of it */
			if (id != NULL)
				learned_forget(d->learned, id);
			log_warn(r,
				 "dns: refused to open what the resolver asked for container %s "
				 "(%s)",
				 id ? id : "?", name ? name : "?");
		}
		reqs[i].n = n - reqs[i].first;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = nft_learn(d->e->nc, v, n, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (r < 0) {
		log_warn(err.err ? err.err : r, "dns: opening learned addresses: %s %s", err.what,
			 err.detail);
		forget_all(d, msgs, nmsgs);
		for (i = 0; i < nmsgs; i++)
			if (reqs[i].ok)
				reqs[i].ok = nmsgs > 1 && nft_learn(d->e->nc, v + reqs[i].first,
								    reqs[i].n, &err) == 0;
	}
	if (bc.evicted > 0)
		log_info("dns: %zu learned addresses closed early: their containers hold "
			 "--dns-max-learned "
			 "(%u) already, and these were the first to close",
			 bc.evicted, d->o.max_learned);
	if (n > 0)
		log_debug("dns: %zu answers: %zu addresses opened in one commit of %.2f ms, %zu "
			  "open already",
			  nmsgs, n, (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6,
			  bc.kept);
	else
		log_debug("dns: %zu answers: their %zu addresses open already, no commit", nmsgs,
			  bc.kept);
	pthread_rwlock_unlock(&d->e->lock);
	free(v);
	for (i = 0; i < nmsgs; i++)
		send_opened(d, reqs[i].req, reqs[i].ok);
}

/*
 * Take the complete lines read: refusals are logged, requests to open
 * go to opens, at most DNS_BATCH_MAX of them. Returns how many.
 */
static size_t
take_lines(struct dns *d, cJSON **opens)
{
	size_t off = 0, nopens = 0;
	char *nl;

	while (nopens < DNS_BATCH_MAX && (nl = memchr(d->in + off, '\n', d->inlen - off)) != NULL) {
		cJSON *m;
		const char *t;

		*nl = '\0';
		m = cJSON_Parse(d->in + off);
		t = m ? str_of(m, "t") : NULL;
		if (t != NULL && strcmp(t, "open") == 0) {
			opens[nopens++] = m;
			m = NULL;
		} else if (t != NULL && strcmp(t, "refused") == 0) {
			on_refused(d, m);
		} else if (t != NULL && strcmp(t, "peer") == 0) {
			on_peer(d, m);
		}
		cJSON_Delete(m);
		off = (size_t)(nl - d->in) + 1;
	}
	memmove(d->in, d->in + off, d->inlen - off);
	d->inlen -= off;
	return nopens;
}

/* Read what the resolver sent, and serve every line of it; false when the link is gone. */
static bool
read_lines(struct dns *d)
{
	cJSON *opens[DNS_BATCH_MAX];
	size_t nopens, i;
	ssize_t n;

	for (;;) {
		if (d->incap - d->inlen < 4096) {
			size_t cap = d->incap ? d->incap * 2 : 65536;
			char *p = cap <= DNS_IN_MAX ? realloc(d->in, cap) : NULL;

			if (p == NULL) {
				log_warnx("dns: a line from the resolver is too long");
				return false;
			}
			d->in = p;
			d->incap = cap;
		}
		n = recv(d->ctl, d->in + d->inlen, d->incap - d->inlen, MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n <= 0)
			return false;
		d->inlen += n;
		/* a burst of requests takes several commits, none left waiting */
		do {
			nopens = take_lines(d, opens);
			if (nopens > 0)
				open_batch(d, opens, nopens);
			for (i = 0; i < nopens; i++)
				cJSON_Delete(opens[i]);
		} while (nopens == DNS_BATCH_MAX);
	}
}

static void *
run(void *data)
{
	struct dns *d = data;
	struct pollfd p[2] = {{.fd = d->stop, .events = POLLIN}};
	int r;

	link_up(d, d->ctl);
	for (;;) {
		if (d->ctl < 0) {
			/* agentd is stopping */
			poll(p, 1, -1);
			break;
		}
		p[1].fd = d->ctl;
		p[1].events = POLLIN;
		r = poll(p, 2, -1);
		if (r < 0)
			continue;
		if (p[0].revents)
			break;
		if (p[1].revents && !read_lines(d))
			link_down(d);
	}
	return NULL;
}

int
dns_prepare(const struct dns_options *o, struct dns **ret)
{
	struct dns *d = calloc(1, sizeof(*d));
	int r;

	if (d == NULL)
		return -ENOMEM;
	d->o = *o;
	d->ctl = -1;
	d->stop = -1;
	if ((size_t)snprintf(d->path, sizeof(d->path), "%s/%s", o->state_dir, DNS_SOCKET) >=
	    sizeof(d->path)) {
		free(d);
		return -ENAMETOOLONG;
	}
	pthread_mutex_init(&d->lock, NULL);
	d->learned = learned_new(o->max_learned);
	d->stop = eventfd(0, EFD_CLOEXEC);
	if (d->learned == NULL || d->stop < 0) {
		r = d->stop < 0 ? -errno : -ENOMEM;
		dns_stop(d);
		return r;
	}
	r = connect_resolver(d);
	if (r >= 0)
		log_info("dns: the resolver a previous agentd started is there");
	else if ((r = spawn(d)) == 0)
		r = connect_resolver(d);
	if (r < 0) {
		dns_stop(d);
		return r;
	}
	d->ctl = r;
	*ret = d;
	return 0;
}

int
dns_start(struct dns *d, struct engine *e, struct drops *drops)
{
	int r;

	d->e = e;
	d->drops = drops;
	pthread_rwlock_wrlock(&e->lock);
	e->observer = on_change;
	e->observer_data = d;
	pthread_rwlock_unlock(&e->lock);
	r = -pthread_create(&d->thread, NULL, run, d);
	if (r < 0) {
		pthread_rwlock_wrlock(&e->lock);
		e->observer = NULL;
		pthread_rwlock_unlock(&e->lock);
		return r;
	}
	d->started = true;
	return 0;
}

void
dns_stop(struct dns *d)
{
	uint64_t one = 1;

	if (d == NULL)
		return;
	if (d->started) {
		pthread_rwlock_wrlock(&d->e->lock);
		d->e->observer = NULL;
		pthread_rwlock_unlock(&d->e->lock);
		if (write(d->stop, &one, sizeof(one)) < 0)
			log_warn(-errno, "dns: stopping");
		pthread_join(d->thread, NULL);
	}
	if (d->ctl >= 0)
		close(d->ctl);
	if (d->stop >= 0)
		close(d->stop);
	pthread_mutex_destroy(&d->lock);
	learned_free(d->learned);
	free(d->in);
	free(d);
}
