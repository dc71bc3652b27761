/*
 * HTTP with libmicrohttpd: listening sockets, limits, bearer tokens,
 * request bodies. A pool of threads each polls many connections, so a
 * slow or silent client holds a connection slot until its timeout but
 * never a thread.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <microhttpd.h>

#include "api/api.h"

#define API_PREFIX "/api/v1/"
#define API_SEGMENTS_MAX 8

struct listener {
	int fd; /* bound and listening; -1: none */
	struct MHD_Daemon *d;
	struct api *api;
	bool tcp; /* requests must carry the token */
	char name[108];
};

struct api {
	const struct api_ops *ops;
	void *ctx;
	struct api_options o;
	struct listener unix_l;
	struct listener tcp_l;
	char *token;
	char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* One request being read. */
struct request {
	char *body;
	size_t len;
	size_t cap;
	unsigned int max; /* the most this call's body may hold */
	bool too_big;
	struct timespec start;
};

/* Keep URLs as sent: routes.c decodes each segment, so "%2F" stays inside an id. */
static size_t
unescape_none(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode %HH in place; false on a bad escape or an encoded NUL. */
static bool
percent_decode(char *s)
{
	char *w = s;

	for (; *s != '\0'; s++) {
		if (*s == '%') {
			int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);

			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return false;
			*w++ = (char)(hi * 16 + lo);
			s += 2;
		} else
			*w++ = *s;
	}
	*w = '\0';
	return true;
}

/* Constant time in the token's contents: a timing probe learns nothing but its length. */
static bool
token_ok(const struct api *a, const char *header)
{
	size_t n = strlen(a->token), i;
	unsigned char diff = 0;

	if (header == NULL || strncmp(header, "Bearer ", 7) != 0)
		return false;
	header += 7;
	if (strlen(header) != n)
		return false;
	for (i = 0; i < n; i++)
		diff |= (unsigned char)header[i] ^ (unsigned char)a->token[i];
	return diff == 0;
}

static enum MHD_Result
send_reply(struct MHD_Connection *conn, struct api_reply *rp)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *text = rp->text;
	size_t len;

	if (text == NULL) {
		static const char oom[] =
			"{\"error\":{\"code\":\"out_of_memory\",\"message\":\"out of memory\","
			"\"field\":\"\"}}\n";

		rp->status = 503;
		resp = MHD_create_response_from_buffer(strlen(oom), (void *)(uintptr_t)oom,
						       MHD_RESPMEM_PERSISTENT);
	} else {
		/* the response frees text: a large audit is not copied */
		len = strlen(text);
		resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
		if (resp == NULL)
			free(text);
	}
	rp->text = NULL;
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (rp->allow[0] != '\0')
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rp->allow);
	if (rp->status == 401)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	ret = MHD_queue_response(conn, rp->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Split what follows /api/v1/ into decoded segments; false when the path is not ours. */
static bool
split_path(char *path, char **seg, unsigned int *nseg)
{
	char *s, *save = NULL;

	*nseg = 0;
	if (strncmp(path, API_PREFIX, strlen(API_PREFIX)) != 0)
		return false;
	path += strlen(API_PREFIX);
	/* a trailing slash is the same path */
	if (path[0] != '\0' && path[strlen(path) - 1] == '/')
		path[strlen(path) - 1] = '\0';
	if (path[0] == '\0' || strstr(path, "//") != NULL)
		return false;
	for (s = strtok_r(path, "/", &save); s != NULL; s = strtok_r(NULL, "/", &save)) {
		if (*nseg == API_SEGMENTS_MAX || !percent_decode(s))
			return false;
		seg[(*nseg)++] = s;
	}
	return true;
}

/* A line for the daemon's log, through its hook. */
static void __attribute__((format(printf, 4, 5)))
say(const struct api *a, enum api_log_level level, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	a->ops->log(a->ctx, level, r, fmt, ap);
	va_end(ap);
}

static void
log_request(const struct api *a, const char *method, const char *url, unsigned int status,
	    const struct request *rq)
{
	struct timespec now;
	double ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - rq->start.tv_sec) * 1e3 + (now.tv_nsec - rq->start.tv_nsec) / 1e6;
	if (status >= 500)
		say(a, API_LOG_WARN, 0, "api: %.16s %.200s: %u (%.1f ms)", method, url, status, ms);
	else
		say(a, API_LOG_DEBUG, 0, "api: %.16s %.200s: %u (%.1f ms)", method, url, status,
		    ms);
}

/*
 * One line per accepted change, saying who made it: the peer's uid and
 * pid on the socket (the kernel's word for it), the address on TCP.
 */
static void
log_change(const struct listener *l, struct MHD_Connection *conn, const char *method,
	   const char *url, const struct api_reply *rp)
{
	const union MHD_ConnectionInfo *ci;
	char who[80] = "unknown";

	if (!l->tcp) {
		struct ucred cr;
		socklen_t len = sizeof(cr);

		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci != NULL &&
		    getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0)
			snprintf(who, sizeof(who), "uid=%u pid=%d", (unsigned int)cr.uid,
				 (int)cr.pid);
	} else {
		char addr[INET_ADDRSTRLEN];

		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci != NULL && ci->client_addr != NULL &&
		    ci->client_addr->sa_family == AF_INET &&
		    inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr,
			      addr, sizeof(addr)) != NULL)
			snprintf(who, sizeof(who), "addr=%s", addr);
	}
	say(l->api, API_LOG_INFO, 0, "api: change by %s: %.16s %.200s: %u %s", who, method, url,
	    rp->status, rp->change);
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
       const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct listener *l = cls;
	struct request *rq = *con_cls;
	struct api_reply rp = {0};
	struct api_request arq = {0};
	char *seg[API_SEGMENTS_MAX], *path, limit[32];
	enum MHD_Result ret;

	(void)version;
	if (rq == NULL) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);

		rq = calloc(1, sizeof(*rq));
		if (rq == NULL)
			return MHD_NO;
		clock_gettime(CLOCK_MONOTONIC, &rq->start);
		rq->max = strcmp(method, "PUT") == 0 && strcmp(url, "/api/v1/firewall") == 0
				  ? API_HOST_BODY_MAX
				  : API_BODY_MAX;
		*con_cls = rq;
		/* refuse before reading anything: no token, or a body announced too big */
		if (l->tcp &&
		    !token_ok(l->api, MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
								  MHD_HTTP_HEADER_AUTHORIZATION))) {
			api_reply_error(&rp, 401, "unauthorized", "",
					"this listener needs Authorization: Bearer <token>");
			log_request(l->api, method, url, 401, rq);
			return send_reply(conn, &rp);
		}
		if (cl != NULL && strtoull(cl, NULL, 10) > rq->max) {
			api_reply_error(&rp, 413, "payload_too_large", "",
					"the body is %.20s bytes; at most %u are accepted", cl,
					rq->max);
			log_request(l->api, method, url, 413, rq);
			return send_reply(conn, &rp);
		}
		return MHD_YES;
	}
	if (*upload_size > 0) {
		size_t n = *upload_size;

		*upload_size = 0;
		if (rq->too_big || rq->len + n > rq->max) {
			/* chunked bodies announce no length: count and drop */
			rq->too_big = true;
			return MHD_YES;
		}
		if (rq->len + n + 1 > rq->cap) {
			size_t cap = rq->cap ? rq->cap : 4096;
			char *b;

			while (cap < rq->len + n + 1)
				cap *= 2;
			b = realloc(rq->body, cap);
			if (b == NULL)
				return MHD_NO;
			rq->body = b;
			rq->cap = cap;
		}
		memcpy(rq->body + rq->len, upload, n);
		rq->len += n;
		rq->body[rq->len] = '\0';
		return MHD_YES;
	}
	if (rq->too_big) {
		api_reply_error(&rp, 413, "payload_too_large", "",
				"the body is over %u bytes, the most accepted", rq->max);
		log_request(l->api, method, url, 413, rq);
		return send_reply(conn, &rp);
	}
	path = strdup(url);
	if (path == NULL)
		return MHD_NO;
	arq.method = method;
	arq.seg = seg;
	arq.content_type =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	/* query values arrive as sent (unescape_none): decoded here, one
	 * that does not decode goes on as sent, to be refused as a value */
	arq.limit = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "limit");
	if (arq.limit != NULL && strlen(arq.limit) < sizeof(limit)) {
		strcpy(limit, arq.limit);
		if (percent_decode(limit))
			arq.limit = limit;
	}
	arq.body = rq->body ? rq->body : "";
	arq.body_len = rq->len;
	if (!split_path(path, seg, &arq.nseg))
		api_reply_error(&rp, 404, "not_found", "",
				"no such path; the API lives under /api/v1/ (health, containers, "
				"containers/{id}[/firewall[/reset|/egress[/{rule_id}]]])");
	else
		api_route(l->api->ops, l->api->ctx, &arq, &rp);
	free(path);
	log_request(l->api, method, url, rp.status, rq);
	if (rp.change[0] != '\0')
		log_change(l, conn, method, url, &rp);
	ret = send_reply(conn, &rp);
	return ret;
}

static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	  enum MHD_RequestTerminationCode why)
{
	struct request *rq = *con_cls;

	(void)cls;
	(void)conn;
	(void)why;
	if (rq != NULL) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	say(cls, API_LOG_DEBUG, 0, "api: libmicrohttpd: %s", msg);
}

/* Serve l's socket, which libmicrohttpd then owns (and closes). */
static int
serve_listener(struct listener *l)
{
	const struct api_options *o = &l->api->o;

	if (l->fd < 0)
		return 0;
	l->d = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
		handle, l, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, l->api, MHD_OPTION_LISTEN_SOCKET,
		l->fd, MHD_OPTION_THREAD_POOL_SIZE, o->threads, MHD_OPTION_CONNECTION_LIMIT,
		o->max_connections, MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
		MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_UNESCAPE_CALLBACK,
		unescape_none, NULL,
		/* clients that never finish their headers hold slots: from one
		 * address, only so many (the Unix socket has a daemon of its own) */
		l->tcp ? MHD_OPTION_PER_IP_CONNECTION_LIMIT : MHD_OPTION_END, o->max_per_address,
		MHD_OPTION_END);
	if (l->d == NULL) {
		say(l->api, API_LOG_WARN, 0, "api: libmicrohttpd would not start on %s", l->name);
		return -EIO;
	}
	l->fd = -1;
	say(l->api, API_LOG_INFO, 0, "api: listening on %s%s", l->name,
	    l->tcp ? " (bearer token required)" : "");
	return 0;
}

/* A socket file left by an agent that is gone is replaced; a live one is not. */
/*
 * The socket's directory: made if missing; else one that nobody but root
 * or the agent's user can put things in (or sticky), so that no one can
 * swap the socket for another between the agent's checks and a client.
 */
static int
socket_dir(char *dir, const char **why)
{
	struct stat st;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (stat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode)) {
		*why = ": its directory is not one";
		return -ENOTDIR;
	}
	if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
	    ((st.st_mode & 022) != 0 && (st.st_mode & S_ISVTX) == 0)) {
		*why = ": others may write its directory (it must be root's or the agent's user's, "
		       "writable by no one else unless sticky)";
		return -EPERM;
	}
	return 0;
}

static int
unix_listen(const char *path, gid_t gid, int *ret_fd, const char **why)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[sizeof(sa.sun_path)], *slash;
	struct stat st;
	mode_t old;
	int fd, r;

	*why = "";
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash != NULL) {
		slash[slash == dir] = '\0'; /* "/x": the root */
		r = socket_dir(dir, why);
		if (r < 0)
			return r;
	}
	/* only a socket is ever replaced: a file there is someone's */
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		*why = ": something that is not a socket is there; it is left alone";
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		*why = ": another agent serves it";
		return -EADDRINUSE;
	}
	if (errno == ECONNREFUSED)
		unlink(path); /* a socket no one serves: an agent that died */
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* 0660 from the start: no moment where anyone else may connect */
	old = umask(0117);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	/* the group's members may connect too; the directory is root's (checked) */
	if (r == 0 && gid != (gid_t)-1 && lchown(path, (uid_t)-1, gid) < 0) {
		*why = ": giving it its group";
		r = -1;
	}
	if (r < 0 || listen(fd, 128) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

static int
tcp_listen(const char *spec, int *ret_fd)
{
	char host[64];
	const char *colon = strrchr(spec, ':');
	struct sockaddr_in sa = {.sin_family = AF_INET};
	char *end;
	unsigned long port;
	int fd, one = 1;

	if (colon == NULL || (size_t)(colon - spec) >= sizeof(host))
		return -EINVAL;
	memcpy(host, spec, colon - spec);
	host[colon - spec] = '\0';
	port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || port == 0 || port > 65535 ||
	    inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -EINVAL;
	sa.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 128) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

int
api_open(const struct api_options *o, const struct api_ops *ops, void *ctx, struct api **ret)
{
	struct api *a = calloc(1, sizeof(*a));
	int r = 0;

	if (a == NULL)
		return -ENOMEM;
	a->ops = ops;
	a->ctx = ctx;
	a->o = *o;
	a->unix_l = (struct listener){.fd = -1, .api = a, .tcp = false};
	a->tcp_l = (struct listener){.fd = -1, .api = a, .tcp = true};
	if (o->listen != NULL && (o->token == NULL || (a->token = strdup(o->token)) == NULL)) {
		r = o->token == NULL ? -EINVAL : -ENOMEM;
		goto fail;
	}
	a->o.token = NULL; /* a->token is the copy kept */
	if (o->socket_path != NULL) {
		const char *why;

		r = unix_listen(o->socket_path, o->socket_gid, &a->unix_l.fd, &why);
		if (r < 0) {
			say(a, API_LOG_WARN, r, "api: socket %s%s", o->socket_path, why);
			goto fail;
		}
		snprintf(a->socket_path, sizeof(a->socket_path), "%s", o->socket_path);
		snprintf(a->unix_l.name, sizeof(a->unix_l.name), "unix socket %s", o->socket_path);
	}
	if (o->listen != NULL) {
		r = tcp_listen(o->listen, &a->tcp_l.fd);
		if (r < 0) {
			say(a, API_LOG_WARN, r, "api: listen %s", o->listen);
			goto fail;
		}
		snprintf(a->tcp_l.name, sizeof(a->tcp_l.name), "tcp %s", o->listen);
	}
	*ret = a;
	return 0;
fail:
	api_stop(a);
	return r;
}

int
api_serve(struct api *a)
{
	int r = serve_listener(&a->unix_l);

	return r < 0 ? r : serve_listener(&a->tcp_l);
}

void
api_stop(struct api *a)
{
	if (a == NULL)
		return;
	if (a->unix_l.d != NULL)
		MHD_stop_daemon(a->unix_l.d);
	if (a->tcp_l.d != NULL)
		MHD_stop_daemon(a->tcp_l.d);
	if (a->unix_l.fd >= 0)
		close(a->unix_l.fd);
	if (a->tcp_l.fd >= 0)
		close(a->tcp_l.fd);
	if (a->socket_path[0] != '\0')
		unlink(a->socket_path);
	if (a->token != NULL) {
		explicit_bzero(a->token, strlen(a->token));
		free(a->token);
	}
	free(a);
}
