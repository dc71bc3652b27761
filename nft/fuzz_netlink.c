/*
 * libFuzzer target for what the kernel sends the agent over netlink:
 * the kernel's answers are the fuzzer's bytes, since a table someone
 * else wrote, or a kernel newer than ours, can hold anything. The first
 * byte picks the reader: 0 a dump decoded against a desired state, 1 a
 * dump decoded whole (the audit's, with the learned addresses), 2 the
 * monitor's announcements, 3 the drop log's NFLOG messages, 4 the
 * bridged DNS peer lookup. The rest is chunks, [u16 length, little
 * endian][bytes], each one datagram the kernel sends.
 *
 * The socket calls of conn.c are wrapped (-Wl,--wrap): requests go
 * nowhere, each read returns the next chunk with its messages given
 * the request's sequence number and, but for acks and errors, the type
 * of its answers (a kernel answers a GETRULE with NEWRULEs), and a
 * read past the input returns NLMSG_DONE, or nothing for the monitor
 * and the drop log. The process runs in a network namespace of its own.
 *
 * libnftnl trusts the kernel: it calls exit() on an attribute whose
 * length does not fit its type ("kernel ABI is broken"), and reads
 * through NULL for an expression without a name. No kernel sends such
 * messages, so a chunk with one is not fed to the agent. Which those
 * are, libnftnl's own parsers say, run first with exit() and SIGSEGV
 * caught and the leak checker looking away (what they abandon is theirs).
 *
 * Seeds come from the kernel: with HFW_FUZZ_RECORD=FILE and
 * HFW_FUZZ_MODE=N, the wrapped calls reach it, and what it answers is
 * written to FILE as an input of mode N (tests/fuzz/record makes them).
 */

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <linux/netfilter/nfnetlink.h>

#include <sanitizer/lsan_interface.h>

#include "nft/nft_int.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
ssize_t __real_mnl_socket_sendto(const struct mnl_socket *nl, const void *req, size_t len);
ssize_t __wrap_mnl_socket_sendto(const struct mnl_socket *nl, const void *req, size_t len);
ssize_t __real_mnl_socket_recvfrom(const struct mnl_socket *nl, void *buf, size_t size);
ssize_t __wrap_mnl_socket_recvfrom(const struct mnl_socket *nl, void *buf, size_t size);
int __real_recvmmsg(int fd, struct mmsghdr *mm, unsigned int n, int flags, struct timespec *t);
int __wrap_recvmmsg(int fd, struct mmsghdr *mm, unsigned int n, int flags, struct timespec *t);

enum mode { DUMP_WANT, DUMP_ALL, MONITOR, DROPLOG, DNS_PEER, MODES };

/*
 * The desired state the dumps are decoded against; tests/fuzz/record
 * builds the table of the seeds from it (HFW_FUZZ_PRINT_WANT=1).
 */
static const char want_json[] =
	"{\"containers\": {"
	"\"c1\": {\"interface\": \"hc1\", \"rules\": ["
	"{\"id\": \"web\", \"destination\": \"203.0.113.0/24\", \"protocol\": \"tcp\", "
	"\"destination_port\": \"443,8000-8100\", \"action\": \"allow\"},"
	"{\"id\": \"no\", \"destination\": \"203.0.113.11/32\", \"action\": \"deny\"},"
	"{\"id\": \"v6\", \"destination\": \"2001:db8::/32\", \"protocol\": \"udp\", "
	"\"destination_port\": \"53\", \"action\": \"allow\"},"
	"{\"id\": \"api\", \"destination\": \"api.example.test\", \"protocol\": \"tcp\", "
	"\"destination_port\": \"443\", \"action\": \"allow\"},"
	"{\"id\": \"ping\", \"destination\": \"0.0.0.0/0\", \"protocol\": \"icmp\", "
	"\"action\": \"allow\"}]},"
	"\"c2\": {\"interface\": \"hc2\", \"default_action\": \"allow\", \"rules\": ["
	"{\"id\": \"gh\", \"destination\": \"*.github.test\", \"action\": \"deny\"}]},"
	"\"c3\": {\"rules\": []}}}";

static struct {
	const uint8_t *in; /* the input's chunks not read yet */
	size_t left;
	uint32_t seq;	 /* of the last request sent */
	uint16_t answer; /* the type of its answers */
	bool live;	 /* the calls reach the kernel (recording seeds) */
	FILE *record;	 /* where what the kernel answers goes, once recording */
	struct rules_set *want;
	struct nft_conn *conn;
	struct nft_monitor *monitor;
	struct nft_droplog *droplog;
} fz;

static sigjmp_buf refused_at;
static bool refusing; /* a libnftnl parser is trying a message */

/* libnftnl's exit() while it tries a message: the message is refused. */
void
exit(int status)
{
	void (*real)(int);

	if (refusing)
		siglongjmp(refused_at, 1);
	*(void **)&real = dlsym(RTLD_NEXT, "exit");
	real(status);
	abort();
}

static struct sigaction fuzzer_segv; /* the fuzzer's handler, for the rest */

static void
segv(int sig, siginfo_t *si, void *ctx)
{
	if (refusing)
		siglongjmp(refused_at, 1);
	if (fuzzer_segv.sa_flags & SA_SIGINFO)
		fuzzer_segv.sa_sigaction(sig, si, ctx);
	else
		sigaction(SIGSEGV, &fuzzer_segv, NULL); /* the fault again, as it was handled */
}

/*
 * Whether libnftnl's parser of nlh's kind takes it without exiting or
 * crashing. Set elements are not tried: the agent reads them itself (raw.c).
 */
static bool
libnftnl_takes(const struct nlmsghdr *nlh)
{
	volatile bool ok = true;
	void *volatile o = NULL;

	static bool armed;

	if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES)
		return true;
	if (!armed) { /* now that the fuzzer has its handler in place */
		struct sigaction sa = {.sa_sigaction = segv,
				       .sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK};

		armed = sigaction(SIGSEGV, &sa, &fuzzer_segv) == 0;
	}
	__lsan_disable();
	refusing = true;
	if (sigsetjmp(refused_at, 1) == 0) {
		switch (nlh->nlmsg_type & 0xff) {
		case NFT_MSG_NEWTABLE:
		case NFT_MSG_DELTABLE:
			o = nftnl_table_alloc();
			nftnl_table_nlmsg_parse(nlh, o);
			nftnl_table_free(o);
			break;
		case NFT_MSG_NEWCHAIN:
		case NFT_MSG_DELCHAIN:
			o = nftnl_chain_alloc();
			nftnl_chain_nlmsg_parse(nlh, o);
			nftnl_chain_free(o);
			break;
		case NFT_MSG_NEWRULE:
		case NFT_MSG_DELRULE:
			o = nftnl_rule_alloc();
			nftnl_rule_nlmsg_parse(nlh, o);
			nftnl_rule_free(o);
			break;
		case NFT_MSG_NEWSET:
		case NFT_MSG_DELSET:
			o = nftnl_set_alloc();
			nftnl_set_nlmsg_parse(nlh, o);
			nftnl_set_free(o);
			break;
		}
	} else {
		ok = false; /* o and what the parser held are left, unseen by the leak checker */
	}
	refusing = false;
	__lsan_enable();
	return ok;
}

/*
 * The next chunk into buf (size bytes): its length, or -1 when none is
 * left. A kernel sends whole messages: the chunk ends before the first
 * that is not (libmnl reads an nlmsg_len over 2^31 as negative and
 * walks off the buffer).
 */
static ssize_t
next_chunk(void *buf, size_t size, bool answers, bool *truncated)
{
	size_t n, take, off = 0;
	struct nlmsghdr *nlh;

	*truncated = false;
	if (fz.left < 2)
		return -1;
	n = (size_t)fz.in[0] | (size_t)fz.in[1] << 8;
	fz.in += 2;
	fz.left -= 2;
	n = n < fz.left ? n : fz.left;
	take = n < size ? n : size;
	memcpy(buf, fz.in, take);
	fz.in += n;
	fz.left -= n;
	*truncated = take < n;
	if (*truncated)
		return (ssize_t)take; /* the reader gives up on it unread */
	while (off < take && take - off >= sizeof(*nlh)) {
		nlh = (struct nlmsghdr *)((char *)buf + off);
		if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > take - off)
			break;
		nlh->nlmsg_seq = fz.seq;
		nlh->nlmsg_pid = 0;
		if (answers && nlh->nlmsg_type >= NLMSG_MIN_TYPE)
			nlh->nlmsg_type = fz.answer;
		if (!libnftnl_takes(nlh))
			return -1;
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	return (ssize_t)(off < take ? off : take);
}

static void
record(const void *buf, size_t len)
{
	uint8_t h[2] = {(uint8_t)len, (uint8_t)(len >> 8)};

	if (fz.record == NULL)
		return; /* the sockets being opened */
	if (len > UINT16_MAX) {
		fprintf(stderr, "a datagram of %zu bytes does not fit a chunk\n", len);
		exit(1);
	}
	fwrite(h, 1, 2, fz.record);
	fwrite(buf, 1, len, fz.record);
}

ssize_t
__wrap_mnl_socket_sendto(const struct mnl_socket *nl, const void *req, size_t len)
{
	fz.seq = ((const struct nlmsghdr *)req)->nlmsg_seq;
	/* NFT_MSG_GETx answers with NFT_MSG_NEWx, the number before */
	fz.answer = (uint16_t)(((const struct nlmsghdr *)req)->nlmsg_type - 1);
	if (fz.live)
		return __real_mnl_socket_sendto(nl, req, len);
	return (ssize_t)len;
}

int
__wrap_recvmmsg(int fd, struct mmsghdr *mm, unsigned int n, int flags, struct timespec *t)
{
	struct iovec *iov = mm[0].msg_hdr.msg_iov;
	struct nlmsghdr *done = iov->iov_base;
	bool trunc = false;
	ssize_t len;
	int i, got;

	if (fz.live) {
		got = __real_recvmmsg(fd, mm, n, flags, t);
		for (i = 0; i < got; i++)
			record(mm[i].msg_hdr.msg_iov->iov_base, mm[i].msg_len);
		return got;
	}
	len = next_chunk(iov->iov_base, iov->iov_len, true, &trunc);
	if (len < 0) {
		memset(done, 0, sizeof(*done) + sizeof(int));
		done->nlmsg_len = NLMSG_LENGTH(sizeof(int));
		done->nlmsg_type = NLMSG_DONE;
		done->nlmsg_seq = fz.seq;
		len = (ssize_t)done->nlmsg_len;
	}
	mm[0].msg_len = (unsigned int)len;
	mm[0].msg_hdr.msg_flags = trunc ? MSG_TRUNC : 0;
	return 1;
}

ssize_t
__wrap_mnl_socket_recvfrom(const struct mnl_socket *nl, void *buf, size_t size)
{
	bool trunc;
	ssize_t len;

	if (fz.live) {
		len = __real_mnl_socket_recvfrom(nl, buf, size);
		if (len > 0)
			record(buf, (size_t)len);
		return len;
	}
	len = next_chunk(buf, size, false, &trunc);
	if (len < 0)
		errno = EAGAIN;
	if (trunc) {
		errno = ENOSPC; /* what libmnl says of a datagram larger than buf */
		return -1;
	}
	return len;
}

static int
change_cb(const struct nft_change *ch, void *data)
{
	(void)ch;
	(void)data;
	return 0;
}

static int
drop_cb(const struct nft_drop *d, void *data)
{
	(void)d;
	(void)data;
	return 0;
}

/* Look at everything a decoded state says, as the audit would. */
static void
use_state(const struct nft_state *st)
{
	size_t i, j, n;

	(void)nft_state_base_damage(st);
	(void)nft_state_options(st);
	for (i = 0; i < nft_state_count(st); i++)
		(void)nft_state_get(st, i);
	for (i = 0; i < fz.want->ncontainers; i++)
		(void)nft_state_find(st, fz.want->containers[i].id);
	for (i = 1; i < 64; i++)
		for (j = 0; j < RULES_FAMILY_MAX; j++)
			(void)nft_state_learned(st, (uint32_t)i, (uint8_t)j, &n);
}

static void
run(enum mode mode)
{
	static const uint8_t peer[16] = {10, 10, 1, 2};
	struct nft_state *st = NULL;
	struct nft_error err;
	uint32_t mark;

	switch (mode) {
	case DUMP_WANT:
	case DUMP_ALL:
		if (nft_dump(fz.conn, mode == DUMP_WANT ? fz.want : NULL, &st, &err) == 0) {
			use_state(st);
			nft_state_free(st);
		}
		break;
	case MONITOR:
		(void)nft_monitor_read(fz.monitor, change_cb, NULL);
		break;
	case DROPLOG:
		(void)nft_droplog_read(fz.droplog, drop_cb, NULL);
		break;
	case DNS_PEER:
		(void)nft_dns_peer(fz.conn, "br0", RULES_FAMILY_IPV4, peer, htons(40000), &mark);
		break;
	case MODES:
		break;
	}
}

/* Read the kernel's announcements or drops until it is quiet for 2 s. */
static void
record_quiet(int fd, enum mode mode)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	printf("ready\n");
	fflush(stdout);
	while (poll(&p, 1, 2000) > 0)
		run(mode);
}

static int
record_seed(const char *path, enum mode mode)
{
	uint8_t b = (uint8_t)mode;

	fz.record = fopen(path, "w");
	if (fz.record == NULL || mode >= MODES) {
		fprintf(stderr, "%s: cannot record mode %d\n", path, (int)mode);
		return 1;
	}
	fwrite(&b, 1, 1, fz.record);
	if (mode == MONITOR)
		record_quiet(nft_monitor_fd(fz.monitor), mode);
	else if (mode == DROPLOG)
		record_quiet(nft_droplog_fd(fz.droplog), mode);
	else
		run(mode);
	return fclose(fz.record) == 0 ? 0 : 1;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *rec = getenv("HFW_FUZZ_RECORD"), *table = getenv("HFW_FUZZ_TABLE");
	const char *group = getenv("HFW_FUZZ_GROUP"), *m = getenv("HFW_FUZZ_MODE");
	enum mode mode = m != NULL ? (enum mode)atoi(m) : DUMP_WANT;
	struct rules_error re;
	int r;

	(void)argc;
	(void)argv;
	if (getenv("HFW_FUZZ_PRINT_WANT") != NULL) {
		printf("%s\n", want_json);
		exit(0);
	}
	fz.live = rec != NULL;
	/* nothing reaches a kernel, but the sockets are real: keep them apart */
	if (!fz.live && unshare(CLONE_NEWNET) < 0) {
		perror("unshare(CLONE_NEWNET) (the target runs as root)");
		exit(1);
	}
	if (rules_set_parse(want_json, strlen(want_json), &fz.want, &re) < 0) {
		fprintf(stderr, "the built-in state: %s\n", re.message);
		exit(1);
	}
	fz.want->containers[1].bridged = true;
	/* opened with no input: the requests they make are answered by a done */
	r = nft_conn_open(table != NULL ? table : "hoody_egress", &fz.conn);
	if (r == 0 && (!fz.live || mode == MONITOR))
		r = nft_monitor_open(fz.conn, 0, &fz.monitor);
	if (r == 0 && (!fz.live || mode == DROPLOG))
		r = nft_droplog_open((uint16_t)(group != NULL ? atoi(group) : 100), &fz.droplog);
	if (r < 0) {
		fprintf(stderr, "opening the sockets: %s\n", strerror(-r));
		exit(1);
	}
	if (rec != NULL)
		exit(record_seed(rec, mode));
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	fz.in = data + 1;
	fz.left = size - 1;
	run((enum mode)(data[0] % MODES));
	return 0;
}
