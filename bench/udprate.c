/*
 * udprate: one UDP flow of small datagrams, as fast as one core can send,
 * and a receiver that counts them. For the data-path benchmark: iperf3's
 * UDP mode does not run in our namespaces, and what is measured here is
 * packets per second through the host's hooks, not the sender.
 *
 *   udprate recv PORT SECONDS        print datagrams/s over SECONDS
 *   udprate send ADDR PORT SECONDS   send 18-byte datagrams (64-byte frames)
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BURST 64
#define PAYLOAD 18 /* 14 ethernet + 20 IP + 8 UDP + 18 + 4 FCS = 64 */
#define SRC_PORT 40000

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
do_recv(int port, double seconds)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	static char bufs[BURST][64];
	struct mmsghdr msgs[BURST];
	struct iovec iov[BURST];
	struct timespec timeout = {0, 100 * 1000 * 1000};
	unsigned long long n = 0;
	double start = 0, end;
	int fd, i, size = 8 << 20;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("udprate: bind");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	for (i = 0; i < BURST; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	printf("ready\n");
	fflush(stdout);
	/* the clock starts with the first datagram */
	for (;;) {
		int got = recvmmsg(fd, msgs, BURST, 0, &timeout);

		if (got < 0 && errno != EAGAIN && errno != EINTR) {
			perror("udprate: recvmmsg");
			return 1;
		}
		if (got > 0 && start == 0) {
			start = now();
			got--; /* counted from the first one's arrival */
		}
		if (got > 0)
			n += got;
		if (start != 0 && now() - start >= seconds)
			break;
	}
	end = now();
	printf("%.0f\n", n / (end - start));
	return 0;
}

static int
do_send(const char *addr, int port, double seconds)
{
	struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = htons(SRC_PORT)};
	struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(port)};
	static char payload[PAYLOAD];
	struct mmsghdr msgs[BURST];
	struct iovec iov = {payload, sizeof(payload)};
	double end;
	int fd, i;

	if (inet_pton(AF_INET, addr, &dst.sin_addr) != 1) {
		fprintf(stderr, "udprate: bad address %s\n", addr);
		return 2;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	/* a fixed source port: one flow, one conntrack entry */
	if (fd < 0 || bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0 ||
	    connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
		perror("udprate: socket");
		return 1;
	}
	for (i = 0; i < BURST; i++) {
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	end = now() + seconds;
	while (now() < end)
		if (sendmmsg(fd, msgs, BURST, 0) < 0 && errno != ENOBUFS && errno != EAGAIN &&
		    errno != ECONNREFUSED) {
			perror("udprate: sendmmsg");
			return 1;
		}
	return 0;
}

int
main(int argc, char *argv[])
{
	if (argc == 4 && strcmp(argv[1], "recv") == 0)
		return do_recv(atoi(argv[2]), atof(argv[3]));
	if (argc == 5 && strcmp(argv[1], "send") == 0)
		return do_send(argv[2], atoi(argv[3]), atof(argv[4]));
	fprintf(stderr, "usage: udprate recv PORT SECONDS | send ADDR PORT SECONDS\n");
	return 2;
}
