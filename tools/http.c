/* libcurl transport to agentd: its unix socket, or TCP with a bearer token. */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "tools/http.h"

/*
 * agentd accepts at once or not at all; a whole-firewall PUT is one
 * kernel transaction and a write to disk, far below the total.
 */
#define CONNECT_TIMEOUT_MS 5000L
#define TOTAL_TIMEOUT_MS 60000L

struct cli_http {
	CURL *curl;
	char *socket; /* NULL over TCP */
	char *base;   /* scheme and authority, no trailing slash */
	char *where;
	char *auth; /* the Authorization header line; NULL on the unix socket */
};

struct reply_buf {
	char *data;
	size_t len;
	size_t cap;
	int err;
};

static struct cli_http *
http_alloc(void)
{
	struct cli_http *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->curl = curl_easy_init();
	if (h->curl == NULL) {
		free(h);
		return NULL;
	}
	return h;
}

int
cli_http_new_unix(const char *path, struct cli_http **ret)
{
	struct cli_http *h = http_alloc();

	if (h == NULL)
		return -ENOMEM;
	/* the host is only the Host header's value: the socket decides */
	h->socket = strdup(path);
	h->base = strdup("http://localhost");
	if (h->socket == NULL || h->base == NULL ||
	    asprintf(&h->where, "unix socket %s", path) < 0) {
		h->where = NULL;
		cli_http_free(h);
		return -ENOMEM;
	}
	*ret = h;
	return 0;
}

int
cli_http_new_tcp(const char *url, const char *token, struct cli_http **ret)
{
	struct cli_http *h = http_alloc();
	size_t n = strlen(url);

	if (h == NULL)
		return -ENOMEM;
	while (n > 0 && url[n - 1] == '/')
		n--;
	h->base = strndup(url, n);
	h->where = strndup(url, n);
	if (h->base == NULL || h->where == NULL ||
	    asprintf(&h->auth, "Authorization: Bearer %s", token) < 0) {
		h->auth = NULL;
		cli_http_free(h);
		return -ENOMEM;
	}
	*ret = h;
	return 0;
}

void
cli_http_free(struct cli_http *h)
{
	if (h == NULL)
		return;
	if (h->auth != NULL) {
		explicit_bzero(h->auth, strlen(h->auth));
		free(h->auth);
	}
	free(h->where);
	free(h->base);
	free(h->socket);
	curl_easy_cleanup(h->curl);
	free(h);
}

const char *
cli_http_where(const struct cli_http *h)
{
	return h->where;
}

bool
cli_http_is_unix(const struct cli_http *h)
{
	return h->socket != NULL;
}

int
cli_http_escape(struct cli_http *h, const char *s, char **ret)
{
	char *e = curl_easy_escape(h->curl, s, 0);
	char *copy;

	if (e == NULL)
		return -ENOMEM;
	/* curl's memory goes back to curl; callers get plain malloc() */
	copy = strdup(e);
	curl_free(e);
	if (copy == NULL)
		return -ENOMEM;
	*ret = copy;
	return 0;
}

static size_t
on_data(char *p, size_t size, size_t n, void *data)
{
	struct reply_buf *b = data;
	size_t len = size * n, cap;
	char *nd;

	if (len > CLI_HTTP_REPLY_MAX - b->len) {
		b->err = -EFBIG;
		return 0; /* libcurl stops with CURLE_WRITE_ERROR */
	}
	if (b->len + len + 1 > b->cap) {
		cap = b->cap != 0 ? b->cap : 4096;
		while (cap < b->len + len + 1)
			cap *= 2;
		if (cap > CLI_HTTP_REPLY_MAX + 1)
			cap = CLI_HTTP_REPLY_MAX + 1;
		nd = realloc(b->data, cap);
		if (nd == NULL) {
			b->err = -ENOMEM;
			return 0;
		}
		b->data = nd;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}

static int
header_add(struct curl_slist **list, const char *line)
{
	struct curl_slist *n = curl_slist_append(*list, line);

	if (n == NULL)
		return -ENOMEM; /* *list is still whole */
	*list = n;
	return 0;
}

static int
headers_build(const struct cli_http *h, bool body, struct curl_slist **ret)
{
	struct curl_slist *l = NULL;

	/* agentd answers at once: do not wait a second for "100 Continue" */
	if (header_add(&l, "Expect:") < 0 ||
	    (body && header_add(&l, "Content-Type: application/json") < 0) ||
	    (h->auth != NULL && header_add(&l, h->auth) < 0)) {
		curl_slist_free_all(l);
		return -ENOMEM;
	}
	*ret = l;
	return 0;
}

static CURLcode
setup(struct cli_http *h, const char *url, const char *method, const char *body, size_t len,
      struct curl_slist *headers, struct reply_buf *b, char *errbuf)
{
	CURL *c = h->curl;
	CURLcode rc;

	if ((rc = curl_easy_setopt(c, CURLOPT_URL, url)) != CURLE_OK ||
	    (rc = curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https")) != CURLE_OK ||
	    /* the token goes to agentd and nowhere else, whatever http_proxy says */
	    (rc = curl_easy_setopt(c, CURLOPT_PROXY, "")) != CURLE_OK ||
	    /* "." and ".." as ids reach agentd, to be refused, not resolved away */
	    (rc = curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L)) != CURLE_OK ||
	    (rc = curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1)) !=
		    CURLE_OK ||
	    (rc = curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
	    (rc = curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS)) != CURLE_OK ||
	    (rc = curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, TOTAL_TIMEOUT_MS)) != CURLE_OK ||
	    (rc = curl_easy_setopt(c, CURLOPT_USERAGENT, "hoody")) != CURLE_OK ||
	    (rc = curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers)) != CURLE_OK ||
	    (rc = curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf)) != CURLE_OK ||
	    (rc = curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data)) != CURLE_OK ||
	    (rc = curl_easy_setopt(c, CURLOPT_WRITEDATA, b)) != CURLE_OK)
		return rc;
	if (h->socket != NULL &&
	    (rc = curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, h->socket)) != CURLE_OK)
		return rc;
	if (body != NULL &&
	    ((rc = curl_easy_setopt(c, CURLOPT_POSTFIELDS, body)) != CURLE_OK ||
	     (rc = curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len)) != CURLE_OK))
		return rc;
	/* GET is the default and POSTFIELDS makes a POST; the rest are named */
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		rc = curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	return rc;
}

static int
curl_to_errno(CURLcode rc, long oserr)
{
	switch (rc) {
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return -EINVAL;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_COULDNT_CONNECT:
		/* ENOENT: no socket; EACCES: not in its group; ECONNREFUSED */
		return oserr > 0 ? -(int)oserr : -ECONNREFUSED;
	default:
		return -EIO;
	}
}

int
cli_http_request(struct cli_http *h, const char *method, const char *path, const char *body,
		 size_t len, struct cli_http_reply *ret, struct cli_http_error *reterr)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL;
	struct reply_buf b = {0};
	long status = 0, oserr = 0;
	char *url = NULL;
	CURLcode rc;
	int r;

	if (asprintf(&url, "%s/api/v1%s", h->base, path) < 0)
		return -ENOMEM;
	r = headers_build(h, body != NULL, &headers);
	if (r < 0)
		goto out;
	rc = setup(h, url, method, body, len, headers, &b, errbuf);
	if (rc == CURLE_OK)
		rc = curl_easy_perform(h->curl);
	if (rc != CURLE_OK) {
		curl_easy_getinfo(h->curl, CURLINFO_OS_ERRNO, &oserr);
		r = b.err != 0 ? b.err : curl_to_errno(rc, oserr);
		if (oserr > 0 && rc == CURLE_COULDNT_CONNECT)
			snprintf(reterr->message, sizeof(reterr->message), "%s: %s",
				 curl_easy_strerror(rc), strerror((int)oserr));
		else
			snprintf(reterr->message, sizeof(reterr->message), "%s",
				 errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	if (b.data == NULL) {
		b.data = calloc(1, 1); /* an empty body is still a string */
		if (b.data == NULL) {
			r = -ENOMEM;
			goto out;
		}
	}
	ret->status = status;
	ret->body = b.data;
	ret->len = b.len;
	b.data = NULL;
	r = 0;
out:
	/* errbuf and the header list die here: leave curl no pointer to them */
	curl_easy_reset(h->curl);
	free(b.data);
	curl_slist_free_all(headers);
	free(url);
	return r;
}

void
cli_http_reply_clear(struct cli_http_reply *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
	r->status = 0;
}
