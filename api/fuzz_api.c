/*
 * libFuzzer target for the REST API from raw bytes on a connection to
 * the answer: libmicrohttpd's parser, the server's glue (token, sizes,
 * path, query) and the routes, served as the agent serves them on a
 * Unix socket and on TCP with a token (the first byte's low bit says
 * which). The rest is sent as it is, the sending side shut, and every
 * answer read. Each answer must be a status
 * line with a valid status and, where it has a body, one JSON text of
 * clean UTF-8 as long as its Content-Length says (but for the errors
 * libmicrohttpd answers malformed HTTP with itself, in HTML).
 *
 * The daemon's side is played by calls that parse bodies with rules/
 * as the daemon does and answer with what they parsed; the kernel and
 * the state are the netns suites' (tests/netns). The process runs in a
 * network namespace of its own, its socket in a directory under
 * /dev/shm.
 */

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cjson/cJSON.h>

#include "api/api.h"
#include "rules/rules.h"

#define TOKEN "fuzz-token-0123456789"
#define PORT 8181
#define ANSWER_MAX (1u << 20)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64] = "/dev/shm/hfw-fuzz-api-XXXXXX";
static char sock_path[96];
static struct api *api;
static char *answer; /* ANSWER_MAX bytes */

/* ---------------------------------------------------------- the daemon's side */

static void
bad_id(const char *id, struct api_result *res)
{
	api_result_fail(res, API_STATUS_BAD_INPUT, "invalid_container_id", "", "invalid id");
	(void)id;
}

static void
answer_text(struct api_result *res, const char *json)
{
	api_result_answer(res, API_STATUS_OK, cJSON_Parse(json));
}

static void
health(void *ctx, struct api_result *res)
{
	(void)ctx;
	answer_text(res, "{\"status\": \"ok\"}");
}

static void
no_body(void *ctx, struct api_result *res)
{
	(void)ctx;
	answer_text(res, "{\"containers\": []}");
}

static void
by_id(void *ctx, const char *id, struct api_result *res)
{
	(void)ctx;
	if (!rules_id_valid(id))
		bad_id(id, res);
	else
		answer_text(res, "{\"id\": \"x\"}");
}

static void
container(void *ctx, const char *id, const cJSON *body, struct api_result *res)
{
	struct rules_container c = {0};
	struct rules_error re;

	(void)ctx;
	if (!rules_id_valid(id))
		bad_id(id, res);
	else if (rules_container_parse(body, id, &c, &re) < 0)
		api_result_rules_error(res, &re);
	else
		api_result_answer(res, API_STATUS_CREATED, rules_container_to_json(&c));
	rules_container_clear(&c);
}

static void
rule_add(void *ctx, const char *id, const cJSON *body, struct api_result *res)
{
	struct rules_rule r = {0};
	struct rules_error re;

	(void)ctx;
	if (!rules_id_valid(id))
		bad_id(id, res);
	else if (rules_rule_parse(body, 0, &r, &re) < 0)
		api_result_rules_error(res, &re);
	else
		api_result_answer(res, API_STATUS_CREATED, rules_rule_to_json(&r));
	rules_rule_clear(&r);
}

static void
rule_delete(void *ctx, const char *id, const char *rule_id, struct api_result *res)
{
	by_id(ctx, rules_id_valid(rule_id) ? id : "", res);
}

static void
drops(void *ctx, const char *id, const char *limit, struct api_result *res)
{
	(void)limit;
	by_id(ctx, id, res);
}

static void
audit(void *ctx, const char *id, struct api_result *res)
{
	by_id(ctx, id != NULL ? id : "all", res);
}

static void
host_put(void *ctx, const cJSON *body, struct api_result *res)
{
	struct rules_set *s = NULL;
	struct rules_error re;

	(void)ctx;
	if (rules_set_from_json(body, &s, &re) < 0)
		api_result_rules_error(res, &re);
	else
		api_result_answer(res, API_STATUS_OK, rules_set_to_json(s));
	rules_set_free(s);
}

static void
quiet(void *ctx, enum api_log_level level, int r, const char *fmt, va_list ap)
{
	(void)ctx;
	(void)level;
	(void)r;
	(void)fmt;
	(void)ap;
}

static const struct api_ops ops = {
	.health = health,
	.containers_list = no_body,
	.container_put = container,
	.container_delete = by_id,
	.firewall_get = by_id,
	.firewall_put = container,
	.reset = by_id,
	.rules_get = by_id,
	.rule_add = rule_add,
	.rule_delete = rule_delete,
	.drops = drops,
	.audit = audit,
	.host_get = no_body,
	.host_put = host_put,
	.log = quiet,
};

/* ---------------------------------------------------------- the client's side */

static int
connect_to(bool tcp)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	struct sockaddr_in in = {.sin_family = AF_INET,
				 .sin_port = htons(PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(tcp ? AF_INET : AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(un.sun_path, sizeof(un.sun_path), "%s", sock_path);
	if (fd < 0 || (tcp ? connect(fd, (struct sockaddr *)&in, sizeof(in))
			   : connect(fd, (struct sockaddr *)&un, sizeof(un))) < 0) {
		perror("connecting to the API");
		abort();
	}
	return fd;
}

/*
 * Walk the answers in a[0..n): each a status line, headers and as much
 * body as its Content-Length says. Returns whether n ends where an
 * answer does; with check, each must be well formed, and a JSON body
 * one JSON text of clean UTF-8 (only errors may have other bodies).
 */
static bool
answers_whole(const char *a, size_t n, bool check)
{
	while (n > 0) {
		const char *end = memmem(a, n, "\r\n\r\n", 4), *cl;
		unsigned int status;
		size_t hlen, blen = 0, off;
		const char *why;
		cJSON *j;

		if (end == NULL)
			return false;
		if (sscanf(a, "HTTP/1.%*1[01] %3u ", &status) != 1 || status < 100 || status > 599)
			abort();
		hlen = (size_t)(end - a) + 4;
		cl = memmem(a, hlen, "\r\nContent-Length: ", 18);
		if (cl != NULL)
			blen = strtoul(cl + 18, NULL, 10);
		if (blen > n - hlen)
			return false;
		/*
		 * libmicrohttpd answers malformed HTTP itself, in HTML, and
		 * closes; past such an answer nothing is ours to judge (to a
		 * malformed Content-Length, 0.9.75 sends its headers twice)
		 */
		if (blen > 0 && memmem(a, hlen, "\r\nContent-Type: application/json", 32) == NULL) {
			if (check && status < 400)
				abort();
			return true;
		}
		if (check && blen > 0) {
			j = cJSON_ParseWithLength(a + hlen, blen);
			if (j == NULL || rules_text_check(a + hlen, blen, &off, &why) < 0)
				abort();
			cJSON_Delete(j);
		}
		a += hlen + blen;
		n -= hlen + blen;
	}
	return true;
}

/*
 * Send d, shut the sending side and read the answers: until the server
 * closes, or is quiet for 100 ms before answering or 20 ms after whole
 * answers (libmicrohttpd may notice the shut side only at its idle
 * timeout: a request it waits the rest of would take that long). The
 * bytes read.
 */
static size_t
exchange(bool tcp, const uint8_t *d, size_t n)
{
	struct pollfd p = {.fd = connect_to(tcp)};
	size_t sent = 0, got = 0;
	ssize_t k;

	while (sent < n) {
		k = send(p.fd, d + sent, n - sent, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			break; /* the server closed early: what it said is still there */
		sent += (size_t)k;
	}
	shutdown(p.fd, SHUT_WR);
	for (;;) {
		bool whole = got > 0 && answers_whole(answer, got, false);

		int ready;

		p.events = POLLIN;
		ready = poll(&p, 1, got == 0 ? 100 : whole ? 20 : 10000);
		if (ready < 0 && errno == EINTR)
			continue; /* the fuzzer's timer */
		if (ready != 1) {
			if (got == 0 || whole)
				break;
			abort(); /* the server stopped in the middle of an answer */
		}
		k = recv(p.fd, answer + got, ANSWER_MAX - got, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
		if (got == ANSWER_MAX)
			abort(); /* an answer without end */
	}
	close(p.fd);
	return got;
}

static void
cleanup(void)
{
	api_stop(api);
	unlink(sock_path);
	rmdir(dir);
}

/* The loopback interface of the new namespace, up. */
static void
loopback_up(void)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		abort();
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		abort();
	close(fd);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char listen[32];
	struct api_options o = {.socket_path = sock_path,
				.listen = listen,
				.token = TOKEN,
				.threads = 2,
				.max_connections = 16,
				.max_per_address = 16,
				.timeout_s = 5};

	(void)argc;
	(void)argv;
	if (unshare(CLONE_NEWNET) < 0) {
		perror("unshare(CLONE_NEWNET) (the target runs as root)");
		exit(1);
	}
	loopback_up();
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		exit(1);
	}
	snprintf(sock_path, sizeof(sock_path), "%s/agentd.sock", dir);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", PORT);
	answer = malloc(ANSWER_MAX);
	if (answer == NULL || api_open(&o, &ops, NULL, &api) < 0 || api_serve(api) < 0) {
		fprintf(stderr, "the API did not start\n");
		exit(1);
	}
	atexit(cleanup);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n;

	if (size < 1)
		return 0;
	n = exchange(data[0] & 1, data + 1, size - 1);
	/* an answer to HEAD announces a body it does not send */
	if (memmem(data, size, "HEAD", 4) == NULL) {
		if (!answers_whole(answer, n, true))
			abort(); /* the server closed in the middle of an answer */
	} else if (n > 0 && memcmp(answer, "HTTP/1.", 7) != 0) {
		abort();
	}
	return 0;
}
