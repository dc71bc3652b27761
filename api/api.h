#ifndef AGENTD_API_H
#define AGENTD_API_H

/*
 * api: the REST API (README.md, "The REST API") over HTTP, served by libmicrohttpd on
 * a Unix socket and, optionally, on TCP with a bearer token.
 */

#include <stdbool.h>

struct engine;
struct api;

struct api_options {
	const char *socket_path; /* NULL: no Unix socket */
	const char *listen;	 /* "ADDR:PORT" or NULL */
	const char *token;	 /* required with listen */
	unsigned int threads;
	unsigned int max_connections;
	unsigned int timeout_s; /* idle connections are closed after this */
};

/* Bind and start serving. Returns 0, or a negative errno (logged). */
int api_start(const struct api_options *o, struct engine *e, struct api **ret);
/* Stop accepting, finish nothing more, release the sockets. */
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
	char *text;	/* the JSON answer, malloc'd; NULL: out of memory */
	char allow[32]; /* 405: the methods the path takes */
};

void api_route(struct engine *e, const struct api_request *rq, struct api_reply *rp);
void api_reply_error(struct api_reply *rp, unsigned int status, const char *code, const char *field,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
