/*
 * hoody-resolver: the DNS resolver of rules by name (see resolverd.h).
 * agentd starts it; it is not meant to be run by hand.
 *
 *   hoody-resolver --control-fd N --udp4-fd N --udp6-fd N --tcp4-fd N
 *                  --tcp6-fd N [--user NAME]
 *
 * Each fd is a socket agentd bound (an fd of -1: that family is not
 * served). Before it reads anything it becomes NAME (default nobody),
 * with no capabilities and no way to gain any.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "resolverd/resolverd.h"

static struct rd rd;

int64_t
rd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
rd_watch(struct rd *r, int fd, enum rd_tag t, unsigned int slot)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = rd_tag(t, slot)};

	return epoll_ctl(r->ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* Become user: no root, no capabilities, no setuid programs that give them back. */
static int
drop_privileges(const char *user)
{
	struct passwd *pw;

	/* started by agentd, which made us its user already: still none */
	if (getuid() != 0)
		return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? -errno : 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		fprintf(stderr, "resolverd: no user %s\n", user);
		return -ENOENT;
	}
	if (setgroups(0, NULL) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		fprintf(stderr, "resolverd: becoming %s: %s\n", user, strerror(errno));
		return -errno;
	}
	return 0;
}

static int
fd_arg(const char *opt, const char *arg)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || v < -1 || v > 1 << 20) {
		fprintf(stderr, "resolverd: %s \"%s\": expected a file descriptor\n", opt, arg);
		exit(2);
	}
	return (int)v;
}

/* Never to block on a socket that had something ready a moment ago. */
static int
nonblocking(int fd)
{
	int fl = fd >= 0 ? fcntl(fd, F_GETFL) : 0;

	return fl < 0 || (fd >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) ? -errno : 0;
}

/* Ask for the ingress of every datagram: it says which container asked. */
static int
setup_udp(int fd, int level, int opt)
{
	int one = 1;

	if (fd < 0)
		return 0;
	return setsockopt(fd, level, opt, &one, sizeof(one)) < 0 ? -errno : 0;
}

static uint16_t
bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					      : ((struct sockaddr_in *)&ss)->sin_port);
}

static void
dispatch(uint64_t data, uint32_t events)
{
	unsigned int slot = (unsigned int)data;

	switch ((enum rd_tag)(data >> 32)) {
	case RD_TAG_CTL_LISTEN:
		rd_ctl_accept(&rd);
		break;
	case RD_TAG_CTL:
		if (events & EPOLLOUT)
			rd_ctl_flush(&rd);
		if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			rd_ctl_ready(&rd);
		break;
	case RD_TAG_UDP4:
		rd_udp_ready(&rd, rd.udp4, RD_UDP4);
		break;
	case RD_TAG_UDP6:
		rd_udp_ready(&rd, rd.udp6, RD_UDP6);
		break;
	case RD_TAG_TCP4:
		rd_tcp_accept(&rd, rd.tcp4, RD_UDP4);
		break;
	case RD_TAG_TCP6:
		rd_tcp_accept(&rd, rd.tcp6, RD_UDP6);
		break;
	case RD_TAG_TCP_CLIENT:
		rd_tcp_ready(&rd, slot);
		break;
	case RD_TAG_UPSTREAM:
		rd_upstream_ready(&rd, slot);
		break;
	}
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{"control-fd", required_argument, NULL, 'c'},
		{"udp4-fd", required_argument, NULL, '4'},
		{"udp6-fd", required_argument, NULL, '6'},
		{"tcp4-fd", required_argument, NULL, 't'},
		{"tcp6-fd", required_argument, NULL, 'T'},
		{"user", required_argument, NULL, 'u'},
		{NULL, 0, NULL, 0},
	};
	const char *user = "nobody";
	struct epoll_event ev[64];
	int64_t orphan_ms;
	size_t i;
	int ch, n, k;

	rd.ctl_listen = rd.ctl = rd.udp4 = rd.udp6 = rd.tcp4 = rd.tcp6 = -1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			rd.ctl_listen = fd_arg("--control-fd", optarg);
			break;
		case '4':
			rd.udp4 = fd_arg("--udp4-fd", optarg);
			break;
		case '6':
			rd.udp6 = fd_arg("--udp6-fd", optarg);
			break;
		case 't':
			rd.tcp4 = fd_arg("--tcp4-fd", optarg);
			break;
		case 'T':
			rd.tcp6 = fd_arg("--tcp6-fd", optarg);
			break;
		case 'u':
			user = optarg;
			break;
		default:
			fprintf(stderr, "usage: hoody-resolver --control-fd N --udp4-fd N "
					"--udp6-fd N --tcp4-fd N --tcp6-fd N [--user NAME]\n");
			return 2;
		}
	}
	if (rd.ctl_listen < 0 || (rd.udp4 < 0 && rd.udp6 < 0)) {
		fprintf(stderr, "resolverd: needs --control-fd and a UDP socket from agentd\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	rd.port = bound_port(rd.udp4 >= 0 ? rd.udp4 : rd.udp6);
	rd.ttl = (struct resolver_ttl){30, 3600};
	rd.rate = 100;
	for (i = 0; i < RD_QUERIES_MAX; i++)
		rd.q[i].up_fd = -1;
	for (i = 0; i < RD_TCP_MAX; i++)
		rd.tcp[i].fd = -1;
	rd.ep = epoll_create1(EPOLL_CLOEXEC);
	if (rd.ep < 0 || nonblocking(rd.ctl_listen) < 0 || nonblocking(rd.udp4) < 0 ||
	    nonblocking(rd.udp6) < 0 || nonblocking(rd.tcp4) < 0 || nonblocking(rd.tcp6) < 0 ||
	    setup_udp(rd.udp4, IPPROTO_IP, IP_PKTINFO) < 0 ||
	    setup_udp(rd.udp6, IPPROTO_IPV6, IPV6_RECVPKTINFO) < 0 ||
	    setup_udp(rd.udp4, SOL_SOCKET, SO_RCVMARK) < 0 ||
	    setup_udp(rd.udp6, SOL_SOCKET, SO_RCVMARK) < 0 ||
	    rd_watch(&rd, rd.ctl_listen, RD_TAG_CTL_LISTEN, 0) < 0 ||
	    (rd.udp4 >= 0 && rd_watch(&rd, rd.udp4, RD_TAG_UDP4, 0) < 0) ||
	    (rd.udp6 >= 0 && rd_watch(&rd, rd.udp6, RD_TAG_UDP6, 0) < 0) ||
	    (rd.tcp4 >= 0 && rd_watch(&rd, rd.tcp4, RD_TAG_TCP4, 0) < 0) ||
	    (rd.tcp6 >= 0 && rd_watch(&rd, rd.tcp6, RD_TAG_TCP6, 0) < 0)) {
		fprintf(stderr, "resolverd: setting up: %s\n", strerror(errno));
		return 1;
	}
	if (drop_privileges(user) < 0)
		return 1;
	orphan_ms = rd_now_ms() + RD_ORPHAN_MS;
	for (;;) {
		/* agentd stopped for good (a restart comes back at once): so do we */
		if (rd.ctl >= 0)
			orphan_ms = rd_now_ms() + RD_ORPHAN_MS;
		else if (rd_now_ms() >= orphan_ms)
			return 0;
		n = epoll_wait(rd.ep, ev, 64, rd_timers(&rd));
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "resolverd: epoll_wait: %s\n", strerror(errno));
			return 1;
		}
		for (k = 0; k < n; k++)
			dispatch(ev[k].data.u64, ev[k].events);
	}
}
