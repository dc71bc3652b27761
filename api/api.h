#ifndef AGENTD_API_H
#define AGENTD_API_H

/*
 * api: the REST API (docs/api.md) over HTTP, served by libmicrohttpd on
 * a Unix socket and, optionally, on TCP with a bearer token. It reaches
 * the daemon only through the struct api_ops the daemon fills in.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <sys/types.h>

struct api;
struct cJSON;
struct rules_error;

struct api_options {
	const char *socket_path; /* NULL: no Unix socket */
	gid_t socket_gid;	 /* the socket's group, or (gid_t)-1: root's */
	const char *listen;	 /* "ADDR:PORT" or NULL */
	const char *token;	 /* required with listen */
	unsigned int threads;
	unsigned int max_connections; /* per listener */
	unsigned int max_per_address; /* TCP: from one address at once */
	unsigned int timeout_s;	      /* idle connections are closed after this */
};

/* How a call went; routes.c turns each into an HTTP status. */
enum api_status {
	API_STATUS_OK = 0,
	API_STATUS_CREATED,
	API_STATUS_BAD_INPUT,
	API_STATUS_NOT_FOUND,
	API_STATUS_CONFLICT,
	API_STATUS_KERNEL_FAILED,
	API_STATUS_STORAGE_FAILED,
	API_STATUS_STORAGE_FULL,
	API_STATUS_NO_MEMORY,
	API_STATUS_MAX,
};

/*
 * The outcome of a call: on success data holds the answer (the result
 * owns it); otherwise code, field and message explain, for people and
 * for programs.
 */
#define API_MESSAGE_MAX 512 /* an error's message, in bytes */
#define API_BODY_MAX (1u << 20)
/* PUT /api/v1/firewall carries the whole host's state: far more than any other body. */
#define API_HOST_BODY_MAX (64u << 20)
struct api_result {
	enum api_status status;
	struct cJSON *data;
	char *text; /* or data already rendered as JSON (malloc'd), for large answers */
	const char *code;
	char field[32];
	char message[API_MESSAGE_MAX];
};

enum api_log_level {
	API_LOG_DEBUG = 0,
	API_LOG_INFO,
	API_LOG_WARN,
	API_LOG_MAX,
};

/*
 * The daemon's side of the API, which the daemon fills in. Each call
 * gets the ctx given to api_open(), the ids from its path as sent, the
 * request body parsed into a JSON object (NULL when the call takes
 * none), and fills res, which starts zeroed. Calls run in the API's
 * threads, several at a time.
 */
struct api_ops {
	void (*health)(void *ctx, struct api_result *res);
	void (*containers_list)(void *ctx, struct api_result *res);
	void (*container_put)(void *ctx, const char *id, const struct cJSON *body,
			      struct api_result *res);
	void (*container_delete)(void *ctx, const char *id, struct api_result *res);
	void (*firewall_get)(void *ctx, const char *id, struct api_result *res);
	void (*firewall_put)(void *ctx, const char *id, const struct cJSON *body,
			     struct api_result *res);
	void (*reset)(void *ctx, const char *id, struct api_result *res);
	void (*rules_get)(void *ctx, const char *id, struct api_result *res);
	void (*rule_add)(void *ctx, const char *id, const struct cJSON *body,
			 struct api_result *res);
	void (*rule_delete)(void *ctx, const char *id, const char *rule_id, struct api_result *res);
	/* limit is the query's limit=, NULL when absent */
	void (*drops)(void *ctx, const char *id, const char *limit, struct api_result *res);
	/* what the kernel enforces against the desired state; id NULL: every container */
	void (*audit)(void *ctx, const char *id, struct api_result *res);
	/* the whole host: PUT sets every container at once (those not named go) */
	void (*host_get)(void *ctx, struct api_result *res);
	void (*host_put)(void *ctx, const struct cJSON *body, struct api_result *res);
	/*
	 * One line for the daemon's log, from any of the API's threads; a
	 * negative r is an errno whose text ends the line.
	 */
	void (*log)(void *ctx, enum api_log_level level, int r, const char *fmt, va_list ap)
		__attribute__((format(printf, 4, 0)));
};

/*
 * Bind and listen on the sockets o names, starting no thread: what needs
 * privileges is done here, before the daemon gives them up. ops (which
 * must outlive the API) will answer the calls with ctx. Returns 0, or a
 * negative errno, said through ops->log.
 */
int api_open(const struct api_options *o, const struct api_ops *ops, void *ctx, struct api **ret);
/*
 * Start serving the sockets api_open() bound, each with its own pool of
 * threads, which inherit the calling thread's credentials. Returns 0, or
 * a negative errno, said through ops->log (then api_stop() a).
 */
int api_serve(struct api *a);
/* Stop accepting, finish nothing more, release the sockets (a may be NULL). */
void api_stop(struct api *a);

/* routes.c: one request, read in full, to its answer. */
struct api_request {
	const char *method;
	char **seg; /* the path's segments after /api/v1/, percent-decoded */
	unsigned int nseg;
	const char *content_type; /* NULL when absent */
	const char *limit;	  /* the query's limit=, NULL when absent */
	const char *body;
	size_t body_len;
};

struct api_reply {
	unsigned int status;
	char *text;	  /* the JSON answer, malloc'd; NULL: out of memory */
	char allow[32];	  /* 405: the methods the path takes */
	char change[200]; /* a change made: what, for the log ("" for reads and refusals) */
};

/* Route rq to its call in ops (with ctx) and fill rp with the answer. */
void api_route(const struct api_ops *ops, void *ctx, const struct api_request *rq,
	       struct api_reply *rp);
/* Fill rp with status and an error object {code, message, field}. */
void api_reply_error(struct api_reply *rp, unsigned int status, const char *code, const char *field,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* result.c: filling a struct api_result, for the daemon's calls. */

/* Fail res with status, a code for programs, the field at fault ("" if none) and a message. */
void api_result_fail(struct api_result *res, enum api_status status, const char *code,
		     const char *field, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Fail res as out of memory. */
void api_result_nomem(struct api_result *res);
/* Fail res for what rules/ refused in re (out of memory included). */
void api_result_rules_error(struct api_result *res, const struct rules_error *re);
/* Answer with data, which res takes; NULL data (out of memory) fails res. */
void api_result_answer(struct api_result *res, enum api_status status, struct cJSON *data);
/* Free what res holds and zero it. */
void api_result_clear(struct api_result *res);

#endif
