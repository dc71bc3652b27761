#ifndef HOODY_CLI_HTTP_H
#define HOODY_CLI_HTTP_H

/*
 * http: the one place hoody talks to agentd. libcurl, over agentd's unix
 * socket or over TCP with a bearer token. Blocking, one request at a time;
 * nothing here prints.
 */

#include <stdbool.h>
#include <stddef.h>

/* Replies above this are refused: a bound on our memory, above the largest answers. */
#define CLI_HTTP_REPLY_MAX (64u << 20)

struct cli_http;

struct cli_http_reply {
	long status;
	char *body; /* owned, NUL-terminated; release with cli_http_reply_clear() */
	size_t len;
};

/* Why a request got no answer, in libcurl's words, for people. */
struct cli_http_error {
	char message[512];
};

/*
 * A client for agentd's unix socket at path. Copies path. Returns 0 with
 * *ret owning the client (release with cli_http_free()), or -ENOMEM.
 */
int cli_http_new_unix(const char *path, struct cli_http **ret);

/*
 * A client for agentd over TCP at url ("http://HOST:PORT", a trailing
 * slash is fine) that sends token as a bearer token. Copies both.
 * Returns 0 with *ret owning the client, or -ENOMEM.
 */
int cli_http_new_tcp(const char *url, const char *token, struct cli_http **ret);

/* Accepts NULL. */
void cli_http_free(struct cli_http *h);

/* Where the client looks, for messages: "unix socket PATH" or the URL. */
const char *cli_http_where(const struct cli_http *h);

/* True when the client talks over a unix socket. */
bool cli_http_is_unix(const struct cli_http *h);

/*
 * Percent-encode s as one path segment. Returns 0 with *ret owning the
 * copy (release with free()), or -ENOMEM.
 */
int cli_http_escape(struct cli_http *h, const char *s, char **ret);

/*
 * Send method to /api/v1 + path, with body (len bytes of JSON; NULL for
 * none), and wait for the whole answer. Returns 0 with *ret filled (any
 * HTTP status counts as an answer). Otherwise *ret is untouched and the
 * result is -ENOMEM, -EFBIG (reply over CLI_HTTP_REPLY_MAX), -EINVAL (a
 * URL libcurl refuses) or another negative errno when agentd could not be
 * reached or stopped answering (-ETIMEDOUT, -ECONNREFUSED, -ENOENT,
 * -EACCES, -EIO...); reterr then says what libcurl saw.
 */
int cli_http_request(struct cli_http *h, const char *method, const char *path, const char *body,
		     size_t len, struct cli_http_reply *ret, struct cli_http_error *reterr);

/* Free r's body and zero it; accepts a zeroed reply. */
void cli_http_reply_clear(struct cli_http_reply *r);

#endif
