/* udpflood DST PORT SECONDS: send 18-byte UDP datagrams (64-byte Ethernet
 * frames) from one socket as fast as sendmmsg allows; prints datagrams sent
 * and the CPU time (us) this process used, softirq work done in its context
 * included. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	struct sockaddr_in6 a6 = {0};
	struct sockaddr_in a4 = {0};
	struct sockaddr *sa;
	socklen_t sl;
	int fam = strchr(argv[1], ':') ? AF_INET6 : AF_INET;
	if (fam == AF_INET6) {
		a6.sin6_family = AF_INET6; a6.sin6_port = htons(atoi(argv[2]));
		inet_pton(AF_INET6, argv[1], &a6.sin6_addr); sa = (void *)&a6; sl = sizeof a6;
	} else {
		a4.sin_family = AF_INET; a4.sin_port = htons(atoi(argv[2]));
		inet_pton(AF_INET, argv[1], &a4.sin_addr); sa = (void *)&a4; sl = sizeof a4;
	}
	int s = socket(fam, SOCK_DGRAM, 0);
	if (s < 0 || connect(s, sa, sl) < 0) { perror("socket/connect"); return 1; }
	char buf[18] = "hoody-bridge-bench";
	struct iovec iov = { buf, sizeof buf };
	struct mmsghdr m[64];
	memset(m, 0, sizeof m);
	for (int i = 0; i < 64; i++) { m[i].msg_hdr.msg_iov = &iov; m[i].msg_hdr.msg_iovlen = 1; }
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	double secs = atof(argv[3]);
	unsigned long n = 0;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 >= secs)
			break;
		int r = sendmmsg(s, m, 64, 0);
		if (r > 0) n += r;
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("%lu %ld\n", n, (long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000L + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	return 0;
}
