/*
 * hoody: the command-line client of agentd's REST API (README.md, "The REST API").
 *
 *   hoody [OPTIONS] firewall list|show|reset|set|attach|detach|delete ...
 *   hoody [OPTIONS] firewall egress list|create|delete ...
 *   hoody [OPTIONS] status
 *
 * Exit status: 0 done, 1 agentd refused the request (or a local failure),
 * 2 usage, 3 agentd could not be reached.
 */

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "tools/http.h"
#include "tools/print.h"

#define EXIT_API 1
#define EXIT_USAGE 2
#define EXIT_UNREACHABLE 3

#define SOCKET_DEFAULT "/run/hoody-firewall/agentd.sock"
#define SOCKET_ENV "HOODY_FIREWALL_SOCKET"
#define TOKEN_MAX 4096
/* agentd refuses bodies over its own limits, clearly; this only bounds our memory */
#define BODY_FILE_MAX (64u << 20)
/* how much of a body that is not JSON to show */
#define NOT_JSON_QUOTE 80
/* getopt values of options without a short form */
#define OPT_LONG_BASE 0x100

enum opt {
	OPT_SOCKET = 0,
	OPT_URL,
	OPT_TOKEN_FILE,
	OPT_OUTPUT,
	OPT_HELP,
	OPT_CONTAINER,
	OPT_ACTION,
	OPT_PROTOCOL,
	OPT_PORT,
	OPT_DESTINATION,
	OPT_DESCRIPTION,
	OPT_RULE_ID,
	OPT_INTERFACE,
	OPT_FILE,
	OPT_LIMIT,
	OPT_NETNS,
	OPT_PID,
	OPT_MAX,
};

#define F(o) (1u << (o))
#define GLOBAL_OPTS (F(OPT_SOCKET) | F(OPT_URL) | F(OPT_TOKEN_FILE) | F(OPT_OUTPUT) | F(OPT_HELP))

struct optdef {
	const char *name;
	int has_arg;
	char letter; /* 0: long form only */
};

static const struct optdef optdefs[OPT_MAX] = {
	[OPT_SOCKET] = {"socket", required_argument, 0},
	[OPT_URL] = {"url", required_argument, 0},
	[OPT_TOKEN_FILE] = {"token-file", required_argument, 0},
	[OPT_OUTPUT] = {"output", required_argument, 'o'},
	[OPT_HELP] = {"help", no_argument, 'h'},
	[OPT_CONTAINER] = {"container", required_argument, 'c'},
	[OPT_ACTION] = {"action", required_argument, 0},
	[OPT_PROTOCOL] = {"protocol", required_argument, 0},
	[OPT_PORT] = {"destination-port", required_argument, 0},
	[OPT_DESTINATION] = {"destination", required_argument, 0},
	[OPT_DESCRIPTION] = {"description", required_argument, 0},
	[OPT_RULE_ID] = {"id", required_argument, 0},
	[OPT_INTERFACE] = {"interface", required_argument, 0},
	[OPT_FILE] = {"file", required_argument, 'f'},
	[OPT_LIMIT] = {"limit", required_argument, 0},
	[OPT_NETNS] = {"netns", required_argument, 0},
	[OPT_PID] = {"pid", required_argument, 0},
};

enum view {
	VIEW_FIREWALL = 0,
	VIEW_EGRESS,
	VIEW_RULE_CREATED,
	VIEW_RULE_DELETED,
	VIEW_RESET,
	VIEW_ATTACH,
	VIEW_CONTAINER_DELETED,
	VIEW_CONTAINERS,
	VIEW_HEALTH,
	VIEW_AUDIT,
	VIEW_DROPS,
	VIEW_MAX,
};

struct ctx {
	const char *val[OPT_MAX]; /* the last value given for each option, from argv */
	bool json;
};

struct cmd {
	const char *name;
	const char *full;    /* for messages: "hoody firewall egress create" */
	const char *summary; /* its line in the parent's help */
	const char *help;    /* leaves: all of it; groups: what they are for */
	const char *extra;   /* groups: more help after the command list */
	/* a group's commands, NULL-terminated; NULL for a leaf */
	const struct cmd *const *subs;
	/* options accepted besides GLOBAL_OPTS, and those required, as F(OPT_...) */
	unsigned opts;
	unsigned required;
	const char *arg; /* the name of the one operand, or NULL for none */
	const char *method;
	/* after /containers/ID when the command takes -c, else the whole path */
	const char *path;
	const char *host_path; /* the whole path when -c is optional and not given */
	int (*body)(const struct ctx *x, char **ret_body, size_t *ret_len);
	enum view view;
};

static void usage_error(const struct cmd *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
usage_error(const struct cmd *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", c->full);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\ntry '%s --help'\n", c->full);
}

/*
 * Read all of f, at most max bytes, NUL-terminated. Returns 0 with
 * *ret_buf owning the text, -EFBIG past max, -EIO or -ENOMEM.
 */
static int
read_stream(FILE *f, size_t max, char **ret_buf, size_t *ret_len)
{
	size_t len = 0, cap = 0, n;
	char *buf = NULL, *nb;

	for (;;) {
		if (len == cap) {
			/* one byte past max tells "too long" from "exactly max" */
			if (cap > max) {
				free(buf);
				return -EFBIG;
			}
			cap = cap == 0 ? 4096 : 2 * cap;
			if (cap > max + 1)
				cap = max + 1;
			nb = realloc(buf, cap + 1);
			if (nb == NULL) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f)) {
				/* read(2) said why: EISDIR and the like */
				int r = errno > 0 ? -errno : -EIO;

				free(buf);
				return r;
			}
			break;
		}
	}
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

/* The token in path, without its line end. Says why on stderr when not. */
static int
token_read(const char *path, char **ret)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, i;
	int r;

	if (f == NULL) {
		fprintf(stderr, "hoody: token file %s: %s\n", path, strerror(errno));
		return EXIT_FAILURE;
	}
	r = read_stream(f, TOKEN_MAX, &buf, &len);
	fclose(f);
	if (r < 0) {
		fprintf(stderr, "hoody: token file %s: %s\n", path,
			r == -EFBIG ? "too long for a token" : strerror(-r));
		return EXIT_FAILURE;
	}
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	r = 0;
	if (len == 0) {
		fprintf(stderr, "hoody: token file %s: empty\n", path);
		r = EXIT_FAILURE;
	}
	/* it goes into a header line: a line end there would start another */
	for (i = 0; r == 0 && i < len; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f) {
			fprintf(stderr,
				"hoody: token file %s: holds more than one line or a "
				"control character\n",
				path);
			r = EXIT_FAILURE;
		}
	if (r != 0) {
		explicit_bzero(buf, len);
		free(buf);
		return r;
	}
	*ret = buf;
	return 0;
}

static struct cli_http *
transport_open(const struct cmd *c, const struct ctx *x, int *ret_exit)
{
	const char *sock = x->val[OPT_SOCKET], *url = x->val[OPT_URL];
	const char *token_file = x->val[OPT_TOKEN_FILE];
	struct cli_http *h = NULL;
	char *token = NULL;
	int r;

	*ret_exit = EXIT_USAGE;
	if (sock != NULL && url != NULL) {
		usage_error(c, "give --socket or --url, not both");
		return NULL;
	}
	if (url == NULL && token_file != NULL) {
		usage_error(c, "--token-file goes with --url (the unix socket needs no token)");
		return NULL;
	}
	if (url != NULL && token_file == NULL) {
		usage_error(c, "--url needs --token-file: agentd wants a token over TCP");
		return NULL;
	}
	if (url != NULL && strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
		usage_error(c, "--url '%s': expected http://HOST:PORT", url);
		return NULL;
	}
	if (sock != NULL && sock[0] == '\0') {
		usage_error(c, "--socket: empty path");
		return NULL;
	}
	if (url != NULL) {
		*ret_exit = token_read(token_file, &token);
		if (*ret_exit != 0)
			return NULL;
		r = cli_http_new_tcp(url, token, &h);
		explicit_bzero(token, strlen(token));
		free(token);
	} else {
		if (sock == NULL)
			sock = getenv(SOCKET_ENV);
		if (sock == NULL || sock[0] == '\0')
			sock = SOCKET_DEFAULT;
		r = cli_http_new_unix(sock, &h);
	}
	if (r < 0) {
		fprintf(stderr, "hoody: %s\n", strerror(-r));
		*ret_exit = EXIT_FAILURE;
		return NULL;
	}
	*ret_exit = 0;
	return h;
}

/* o as compact text in plain malloc() memory, as every body is; o stays the caller's. */
static int
json_body(cJSON *o, char **ret_body, size_t *ret_len)
{
	char *text = o != NULL ? cJSON_PrintUnformatted(o) : NULL;
	char *copy = text != NULL ? strdup(text) : NULL;

	cJSON_free(text);
	if (copy == NULL) {
		fprintf(stderr, "hoody: out of memory\n");
		return EXIT_FAILURE;
	}
	*ret_body = copy;
	*ret_len = strlen(copy);
	return 0;
}

static int
body_empty(const struct ctx *x, char **ret_body, size_t *ret_len)
{
	cJSON *o = cJSON_CreateObject();
	int r;

	(void)x;
	r = json_body(o, ret_body, ret_len);
	cJSON_Delete(o);
	return r;
}

/* Only the fields given: agentd applies its defaults and checks them all. */
static int
body_rule(const struct ctx *x, char **ret_body, size_t *ret_len)
{
	static const struct {
		enum opt opt;
		const char *key;
	} fields[] = {
		{OPT_RULE_ID, "id"},
		{OPT_DESTINATION, "destination"},
		{OPT_PORT, "destination_port"},
		{OPT_PROTOCOL, "protocol"},
		{OPT_ACTION, "action"},
		{OPT_DESCRIPTION, "description"},
	};
	cJSON *o = cJSON_CreateObject();
	size_t i;
	int r;

	for (i = 0; o != NULL && i < sizeof(fields) / sizeof(fields[0]); i++)
		if (x->val[fields[i].opt] != NULL &&
		    cJSON_AddStringToObject(o, fields[i].key, x->val[fields[i].opt]) == NULL) {
			cJSON_Delete(o);
			o = NULL;
		}
	r = json_body(o, ret_body, ret_len);
	cJSON_Delete(o);
	return r;
}

/* attach sends the interface, detach null. */
static int
body_interface(const struct ctx *x, char **ret_body, size_t *ret_len)
{
	const char *ifname = x->val[OPT_INTERFACE];
	cJSON *o = cJSON_CreateObject();
	int r;

	if (o != NULL && (ifname != NULL ? cJSON_AddStringToObject(o, "interface", ifname)
					 : cJSON_AddNullToObject(o, "interface")) == NULL) {
		cJSON_Delete(o);
		o = NULL;
	}
	r = json_body(o, ret_body, ret_len);
	cJSON_Delete(o);
	return r;
}

/* attach: exactly one of --interface, --netns, --pid */
static int
body_attach(const struct ctx *x, char **ret_body, size_t *ret_len)
{
	const char *ifname = x->val[OPT_INTERFACE], *netns = x->val[OPT_NETNS];
	const char *pid = x->val[OPT_PID];
	cJSON *o, *v;
	char *end;
	long n;
	int r;

	if ((ifname != NULL) + (netns != NULL) + (pid != NULL) != 1) {
		fprintf(stderr, "hoody firewall attach: give one of --interface, --netns, --pid\n"
				"try 'hoody firewall attach --help'\n");
		return EXIT_USAGE;
	}
	o = cJSON_CreateObject();
	if (pid != NULL) {
		errno = 0;
		n = strtol(pid, &end, 10);
		/* agentd judges the number; what is not one goes as text, to be refused */
		v = errno == 0 && end != pid && *end == '\0' ? cJSON_CreateNumber((double)n)
							     : cJSON_CreateString(pid);
	} else
		v = cJSON_CreateString(ifname != NULL ? ifname : netns);
	if (o == NULL || v == NULL ||
	    !cJSON_AddItemToObject(o,
				   ifname  ? "interface"
				   : netns ? "netns"
					   : "pid",
				   v)) {
		cJSON_Delete(v);
		cJSON_Delete(o);
		o = NULL;
	}
	r = json_body(o, ret_body, ret_len);
	cJSON_Delete(o);
	return r;
}

/* The document is agentd's to judge: sent as is. */
static int
body_file(const struct ctx *x, char **ret_body, size_t *ret_len)
{
	const char *path = x->val[OPT_FILE];
	bool is_stdin = strcmp(path, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(path, "re");
	int r;

	if (f == NULL) {
		fprintf(stderr, "hoody: %s: %s\n", path, strerror(errno));
		return EXIT_FAILURE;
	}
	r = read_stream(f, BODY_FILE_MAX, ret_body, ret_len);
	if (!is_stdin)
		fclose(f);
	if (r < 0) {
		fprintf(stderr, "hoody: %s: %s\n", is_stdin ? "standard input" : path,
			r == -EFBIG ? "too large" : strerror(-r));
		return EXIT_FAILURE;
	}
	return 0;
}

/* /containers/ID + suffix [/RULE_ID], each id one percent-encoded segment. */
static int
path_build(struct cli_http *h, const char *id, const char *suffix, const char *rule, char **ret)
{
	char *eid = NULL, *erule = NULL, *p = NULL;
	int r;

	r = cli_http_escape(h, id, &eid);
	if (r == 0 && rule != NULL)
		r = cli_http_escape(h, rule, &erule);
	if (r == 0 && asprintf(&p, "/containers/%s%s%s%s", eid, suffix, rule != NULL ? "/" : "",
			       rule != NULL ? erule : "") < 0)
		r = -ENOMEM;
	free(erule);
	free(eid);
	if (r < 0)
		return r;
	*ret = p;
	return 0;
}

/* path?limit=N; agentd judges N */
static int
query_add(struct cli_http *h, char **path, const char *limit)
{
	char *e = NULL, *p = NULL;
	int r = cli_http_escape(h, limit, &e);

	if (r == 0 && asprintf(&p, "%s?limit=%s", *path, e) < 0)
		r = -ENOMEM;
	free(e);
	if (r < 0)
		return r;
	free(*path);
	*path = p;
	return 0;
}

static int
transport_failed(const struct cli_http *h, int r, const struct cli_http_error *e)
{
	const char *where = cli_http_where(h), *hint;

	switch (r) {
	case -ENOMEM:
		fprintf(stderr, "hoody: out of memory\n");
		return EXIT_FAILURE;
	case -EFBIG:
		fprintf(stderr, "hoody: agentd at %s: answer over %u MiB, refused\n", where,
			CLI_HTTP_REPLY_MAX >> 20);
		return EXIT_API;
	case -EINVAL:
		fprintf(stderr, "hoody: --url %s: %s\n", where, e->message);
		return EXIT_USAGE;
	case -EACCES:
		hint = cli_http_is_unix(h) ? " (run as root or as a member of the socket's group)"
					   : "";
		break;
	case -ETIMEDOUT:
	case -EIO:
		/* connected, perhaps, but no whole answer came */
		fprintf(stderr, "hoody: no answer from agentd at %s: %s\n", where, e->message);
		return EXIT_UNREACHABLE;
	default:
		hint = cli_http_is_unix(h) ? " (is agentd running? set --socket or " SOCKET_ENV ")"
					   : " (is agentd running with --listen? check --url)";
		break;
	}
	fprintf(stderr, "hoody: cannot reach agentd at %s: %s%s\n", where, e->message, hint);
	return EXIT_UNREACHABLE;
}

/* hoody: <message> (<code>[, field <field>]), from the error object. */
static int
api_failed(const struct cli_http *h, const cJSON *root, long status)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
	const cJSON *field = cJSON_GetObjectItemCaseSensitive(e, "field");

	if (!cJSON_IsString(msg)) {
		fprintf(stderr,
			"hoody: agentd at %s answered HTTP %ld with neither data nor an error\n",
			cli_http_where(h), status);
		return EXIT_API;
	}
	fputs("hoody: ", stderr);
	cli_print_clean(stderr, msg->valuestring);
	if (cJSON_IsString(code) && code->valuestring[0] != '\0') {
		fputs(" (", stderr);
		cli_print_clean(stderr, code->valuestring);
	} else {
		fprintf(stderr, " (HTTP %ld", status);
	}
	if (cJSON_IsString(field) && field->valuestring[0] != '\0') {
		fputs(", field ", stderr);
		cli_print_clean(stderr, field->valuestring);
	}
	fputs(")\n", stderr);
	return EXIT_API;
}

/* Quote the start of the body: --url may point at something else. */
static void
not_json(const struct cli_http *h, struct cli_http_reply *reply)
{
	fprintf(stderr, "hoody: agentd at %s answered HTTP %ld with ", cli_http_where(h),
		reply->status);
	if (reply->len == 0) {
		fputs("an empty body\n", stderr);
		return;
	}
	/* the body is ours to cut */
	reply->body[strcspn(reply->body, "\r\n")] = '\0';
	if (strlen(reply->body) > NOT_JSON_QUOTE)
		strcpy(reply->body + NOT_JSON_QUOTE - 3, "...");
	fputs("a body that is not JSON: ", stderr);
	cli_print_clean(stderr, reply->body);
	fputc('\n', stderr);
}

/*
 * Send one request and check the answer. Returns 0 with *ret_root owning
 * the parsed answer (release with cJSON_Delete()), *ret_data its "data"
 * member and *ret_status the HTTP status; otherwise says on stderr what
 * went wrong and returns the exit status.
 */
static int
call(struct cli_http *h, const char *method, const char *path, const char *body, size_t len,
     cJSON **ret_root, const cJSON **ret_data, long *ret_status)
{
	struct cli_http_reply reply = {0};
	struct cli_http_error err = {""};
	const cJSON *data;
	cJSON *root;
	int r;

	r = cli_http_request(h, method, path, body, len, &reply, &err);
	if (r < 0)
		return transport_failed(h, r, &err);
	root = cJSON_ParseWithLength(reply.body, reply.len);
	if (root == NULL) {
		not_json(h, &reply);
		r = EXIT_API;
		goto out;
	}
	data = cJSON_GetObjectItemCaseSensitive(root, "data");
	if (reply.status / 100 != 2 || data == NULL) {
		r = api_failed(h, root, reply.status);
		cJSON_Delete(root);
		goto out;
	}
	*ret_root = root;
	*ret_data = data;
	*ret_status = reply.status;
	r = 0;
out:
	cli_http_reply_clear(&reply);
	return r;
}

static void
view_print(enum view v, const cJSON *data, long status)
{
	switch (v) {
	case VIEW_FIREWALL:
		cli_print_firewall(stdout, data);
		break;
	case VIEW_EGRESS:
		cli_print_egress(stdout, data);
		break;
	case VIEW_RULE_CREATED:
		cli_print_rule_created(stdout, data, status);
		break;
	case VIEW_RULE_DELETED:
		cli_print_rule_deleted(stdout, data);
		break;
	case VIEW_RESET:
		cli_print_reset(stdout, data, status);
		break;
	case VIEW_ATTACH:
		cli_print_attach(stdout, data, status);
		break;
	case VIEW_CONTAINER_DELETED:
		cli_print_container_deleted(stdout, data);
		break;
	case VIEW_CONTAINERS:
		cli_print_containers(stdout, data);
		break;
	case VIEW_HEALTH:
		cli_print_health(stdout, data);
		break;
	case VIEW_AUDIT:
		cli_print_audit(stdout, data);
		break;
	case VIEW_DROPS:
		cli_print_drops(stdout, data);
		break;
	case VIEW_MAX:
		break;
	}
}

static int
output_print(const struct ctx *x, enum view v, const cJSON *data, long status)
{
	if (!x->json) {
		view_print(v, data, status);
		return 0;
	}
	if (cli_print_json(stdout, data) < 0) {
		fprintf(stderr, "hoody: out of memory\n");
		return EXIT_FAILURE;
	}
	return 0;
}

/* Check what a leaf was given before anything is sent. */
static int
leaf_check(const struct cmd *c, int nargs, char **args, struct ctx *x)
{
	const char *out = x->val[OPT_OUTPUT];
	int want = c->arg != NULL ? 1 : 0, o;

	for (o = 0; o < OPT_MAX; o++)
		if ((c->required & F(o)) && x->val[o] == NULL) {
			usage_error(c, "missing --%s", optdefs[o].name);
			return EXIT_USAGE;
		}
	if (nargs < want) {
		usage_error(c, "missing %s", c->arg);
		return EXIT_USAGE;
	}
	if (nargs > want) {
		usage_error(c, "unexpected argument '%s'", args[want]);
		return EXIT_USAGE;
	}
	/* an empty id would name another route, not a bad id */
	if (x->val[OPT_CONTAINER] != NULL && x->val[OPT_CONTAINER][0] == '\0') {
		usage_error(c, "--container: empty id");
		return EXIT_USAGE;
	}
	if (want && args[0][0] == '\0') {
		usage_error(c, "%s: empty id", c->arg);
		return EXIT_USAGE;
	}
	if (out != NULL && strcmp(out, "json") != 0 && strcmp(out, "table") != 0) {
		usage_error(c, "--output '%s': expected table or json", out);
		return EXIT_USAGE;
	}
	x->json = out != NULL && strcmp(out, "json") == 0;
	return 0;
}

static int
leaf_run(const struct cmd *c, int nargs, char **args, struct ctx *x)
{
	struct cli_http *h = NULL;
	const cJSON *data = NULL;
	cJSON *root = NULL;
	char *path = NULL, *body = NULL;
	size_t len = 0;
	long status = 0;
	int r;

	r = leaf_check(c, nargs, args, x);
	if (r != 0)
		return r;
	h = transport_open(c, x, &r);
	if (h == NULL)
		return r;
	if ((c->opts & F(OPT_CONTAINER)) && x->val[OPT_CONTAINER] == NULL && c->host_path) {
		path = strdup(c->host_path);
	} else if (c->opts & F(OPT_CONTAINER)) {
		if (path_build(h, x->val[OPT_CONTAINER], c->path, c->arg != NULL ? args[0] : NULL,
			       &path) < 0)
			path = NULL;
	} else {
		path = strdup(c->path);
	}
	if (path != NULL && x->val[OPT_LIMIT] != NULL &&
	    query_add(h, &path, x->val[OPT_LIMIT]) < 0) {
		free(path);
		path = NULL;
	}
	if (path == NULL) {
		fprintf(stderr, "hoody: out of memory\n");
		r = EXIT_FAILURE;
		goto out;
	}
	if (c->body != NULL) {
		r = c->body(x, &body, &len);
		if (r != 0)
			goto out;
	}
	r = call(h, c->method, path, body, len, &root, &data, &status);
	if (r == 0)
		r = output_print(x, c->view, data, status);
out:
	cJSON_Delete(root);
	free(body);
	free(path);
	cli_http_free(h);
	return r;
}

static void
help_print(const struct cmd *c, FILE *f)
{
	const struct cmd *const *s;
	int width = 0;

	if (c->subs == NULL) {
		fputs(c->help, f);
		fputs("\nGlobal options, before or after the command: --socket PATH,\n"
		      "--url URL --token-file FILE, -o/--output table|json (see 'hoody --help').\n",
		      f);
		return;
	}
	/* only the top has extra help: the global options */
	fprintf(f, "usage: %s%s COMMAND ...\n\n%s\n\ncommands:\n", c->full,
		c->extra != NULL ? " [OPTIONS]" : "", c->help);
	for (s = c->subs; *s != NULL; s++)
		if ((int)strlen((*s)->name) > width)
			width = (int)strlen((*s)->name);
	for (s = c->subs; *s != NULL; s++)
		fprintf(f, "  %-*s  %s\n", width, (*s)->name, (*s)->summary);
	if (c->extra != NULL)
		fputs(c->extra, f);
	fprintf(f, "\nRun '%s COMMAND --help' for a command's options.\n", c->full);
}

/* What to call a bad option: the argument as given, or its letter. */
static void
bad_option(const struct cmd *c, char **argv, int ch)
{
	const char *arg = argv[optind - 1];
	const char *eq;

	if (strncmp(arg, "--", 2) != 0) {
		usage_error(c, ch == ':' ? "option '-%c' needs a value" : "unknown option '-%c'",
			    optopt);
		return;
	}
	eq = strchr(arg, '=');
	if (ch == ':')
		usage_error(c, "option '%s' needs a value", arg);
	else if (eq != NULL && optopt != 0)
		usage_error(c, "option '%.*s' takes no value", (int)(eq - arg), arg);
	else
		usage_error(c, "unknown or ambiguous option '%s'", arg);
}

/* What getopt_long() returns for option o. */
static int
opt_val(int o)
{
	return optdefs[o].letter != 0 ? optdefs[o].letter : OPT_LONG_BASE + o;
}

/*
 * Parse c's options in argv[1..argc) into x. A group stops at its first
 * operand (its command); a leaf takes operands anywhere. Returns -1 with
 * *ret_next the index of the first operand, or an exit status to end with.
 */
static int
options_parse(const struct cmd *c, int argc, char **argv, struct ctx *x, int *ret_next)
{
	struct option longopts[OPT_MAX + 1];
	char shortopts[2 + 2 * OPT_MAX + 1];
	unsigned allowed = GLOBAL_OPTS | c->opts;
	int nl = 0, ns = 0, ch, o;

	if (c->subs != NULL)
		shortopts[ns++] = '+';
	shortopts[ns++] = ':'; /* tell a missing value from an unknown option */
	for (o = 0; o < OPT_MAX; o++) {
		if (!(allowed & F(o)))
			continue;
		longopts[nl++] =
			(struct option){optdefs[o].name, optdefs[o].has_arg, NULL, opt_val(o)};
		if (optdefs[o].letter != 0) {
			shortopts[ns++] = optdefs[o].letter;
			if (optdefs[o].has_arg == required_argument)
				shortopts[ns++] = ':';
		}
	}
	longopts[nl] = (struct option){NULL, 0, NULL, 0};
	shortopts[ns] = '\0';

	optind = 0; /* glibc: start afresh, on this argv */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (ch == '?' || ch == ':') {
			bad_option(c, argv, ch);
			return EXIT_USAGE;
		}
		for (o = 0; o < OPT_MAX; o++)
			if (ch == opt_val(o))
				break;
		if (o == OPT_HELP) {
			help_print(c, stdout);
			return EXIT_SUCCESS;
		}
		if (o < OPT_MAX)
			x->val[o] = optarg;
	}
	*ret_next = optind;
	return -1;
}

static int
cmd_run(const struct cmd *c, int argc, char **argv, struct ctx *x)
{
	const struct cmd *const *s;
	int next, r;

	r = options_parse(c, argc, argv, x, &next);
	if (r >= 0)
		return r;
	if (c->subs == NULL)
		return leaf_run(c, argc - next, argv + next, x);
	if (next == argc) {
		usage_error(c, "missing command");
		return EXIT_USAGE;
	}
	for (s = c->subs; *s != NULL; s++)
		if (strcmp((*s)->name, argv[next]) == 0)
			return cmd_run(*s, argc - next, argv + next, x);
	usage_error(c, "unknown command '%s'", argv[next]);
	return EXIT_USAGE;
}

#define CONTAINER_HELP "  -c, --container ID   the container\n"

static const struct cmd cmd_egress_list = {
	.name = "list",
	.full = "hoody firewall egress list",
	.summary = "list a container's rules",
	.help = "usage: hoody firewall egress list -c ID\n"
		"\n"
		"List the egress rules of a container's firewall.\n"
		"\n" CONTAINER_HELP,
	.opts = F(OPT_CONTAINER),
	.required = F(OPT_CONTAINER),
	.method = "GET",
	.path = "/firewall/egress",
	.view = VIEW_EGRESS,
};

static const struct cmd cmd_egress_create = {
	.name = "create",
	.full = "hoody firewall egress create",
	.summary = "add a rule",
	.help = "usage: hoody firewall egress create -c ID --action allow|deny --destination "
		"ADDR[/LEN]\n"
		"           [--protocol tcp|udp|icmp|any] [--destination-port PORTS]\n"
		"           [--description TEXT] [--id RULE_ID]\n"
		"\n"
		"Add an egress rule to a container's firewall (reset or set the firewall\n"
		"first). Adding the same rule again changes nothing. agentd checks every\n"
		"value; options left out are left out of the request.\n"
		"\n" CONTAINER_HELP "  --action allow|deny  what to do with matching packets\n"
		"  --destination ADDR[/LEN]\n"
		"                       an IPv4 address or network, e.g. 203.0.113.0/24\n"
		"  --protocol tcp|udp|icmp|any\n"
		"                       the protocol to match (default any)\n"
		"  --destination-port PORTS\n"
		"                       a port, range or list: 443, 8000-9000, 80,443\n"
		"                       (tcp or udp; every port when left out)\n"
		"  --description TEXT   a note kept with the rule\n"
		"  --id RULE_ID         the rule's id (derived from the rule when left out)\n",
	.opts = F(OPT_CONTAINER) | F(OPT_ACTION) | F(OPT_PROTOCOL) | F(OPT_PORT) |
		F(OPT_DESTINATION) | F(OPT_DESCRIPTION) | F(OPT_RULE_ID),
	.required = F(OPT_CONTAINER) | F(OPT_ACTION) | F(OPT_DESTINATION),
	.method = "POST",
	.path = "/firewall/egress",
	.body = body_rule,
	.view = VIEW_RULE_CREATED,
};

static const struct cmd cmd_egress_delete = {
	.name = "delete",
	.full = "hoody firewall egress delete",
	.summary = "delete a rule by id",
	.help = "usage: hoody firewall egress delete -c ID RULE_ID\n"
		"\n"
		"Delete one egress rule from a container's firewall.\n"
		"\n" CONTAINER_HELP,
	.opts = F(OPT_CONTAINER),
	.required = F(OPT_CONTAINER),
	.arg = "RULE_ID",
	.method = "DELETE",
	.path = "/firewall/egress",
	.view = VIEW_RULE_DELETED,
};

static const struct cmd *const egress_cmds[] = {
	&cmd_egress_list,
	&cmd_egress_create,
	&cmd_egress_delete,
	NULL,
};

static const struct cmd cmd_egress = {
	.name = "egress",
	.full = "hoody firewall egress",
	.summary = "list, add and delete a container's egress rules",
	.help = "List, add and delete the egress rules of a container's firewall.",
	.subs = egress_cmds,
};

static const struct cmd cmd_fw_list = {
	.name = "list",
	.full = "hoody firewall list",
	.summary = "list the containers agentd knows",
	.help = "usage: hoody firewall list\n"
		"\n"
		"List the containers agentd knows, sorted by id: interface, default\n"
		"action, number of rules, revision.\n",
	.method = "GET",
	.path = "/containers",
	.view = VIEW_CONTAINERS,
};

static const struct cmd cmd_fw_show = {
	.name = "show",
	.full = "hoody firewall show",
	.summary = "show a container's firewall",
	.help = "usage: hoody firewall show -c ID\n"
		"\n"
		"Show a container's firewall: interface, default action, revision, rules.\n"
		"\n" CONTAINER_HELP,
	.opts = F(OPT_CONTAINER),
	.required = F(OPT_CONTAINER),
	.method = "GET",
	.path = "/firewall",
	.view = VIEW_FIREWALL,
};

static const struct cmd cmd_fw_reset = {
	.name = "reset",
	.full = "hoody firewall reset",
	.summary = "make a container's firewall deny-all with no rules",
	.help = "usage: hoody firewall reset -c ID\n"
		"\n"
		"Make a container's firewall deny-all with no rules, creating the\n"
		"container when it is new.\n"
		"\n" CONTAINER_HELP,
	.opts = F(OPT_CONTAINER),
	.required = F(OPT_CONTAINER),
	.method = "POST",
	.path = "/firewall/reset",
	.body = body_empty,
	.view = VIEW_RESET,
};

static const struct cmd cmd_fw_set = {
	.name = "set",
	.full = "hoody firewall set",
	.summary = "replace a container's firewall with a JSON document",
	.help = "usage: hoody firewall set -c ID -f FILE\n"
		"\n"
		"Replace a container's whole firewall in one step, creating the container\n"
		"when it is new. FILE holds the JSON document, sent as is:\n"
		"\n"
		"  {\"default_action\": \"deny\", \"rules\": [{\"destination\": "
		"\"203.0.113.10/32\",\n"
		"   \"destination_port\": \"443\", \"protocol\": \"tcp\", \"action\": "
		"\"allow\"}]}\n"
		"\n"
		"Setting the same document again changes nothing.\n"
		"\n" CONTAINER_HELP "  -f, --file FILE      the document; - for standard input\n",
	.opts = F(OPT_CONTAINER) | F(OPT_FILE),
	.required = F(OPT_CONTAINER) | F(OPT_FILE),
	.method = "PUT",
	.path = "/firewall",
	.body = body_file,
	.view = VIEW_FIREWALL,
};

static const struct cmd cmd_fw_attach = {
	.name = "attach",
	.full = "hoody firewall attach",
	.summary = "enforce a container's firewall on its host-side interface",
	.help = "usage: hoody firewall attach -c ID --interface IF | --netns PATH | --pid N\n"
		"\n"
		"Enforce a container's firewall on the host end of its veth pair: IF,\n"
		"or the one agentd finds from the container's network namespace (a\n"
		"path such as /run/netns/NAME, or a process in the container).\n"
		"A new container is created deny-all.\n"
		"\n" CONTAINER_HELP "  --interface IF       the host-side interface, e.g. hc1\n"
		"  --netns PATH         the container's network namespace\n"
		"  --pid N              a process in the container\n",
	.opts = F(OPT_CONTAINER) | F(OPT_INTERFACE) | F(OPT_NETNS) | F(OPT_PID),
	.required = F(OPT_CONTAINER),
	.method = "PUT",
	.path = "",
	.body = body_attach,
	.view = VIEW_ATTACH,
};

static const struct cmd cmd_fw_detach = {
	.name = "detach",
	.full = "hoody firewall detach",
	.summary = "stop enforcing a container's firewall; it stays stored",
	.help = "usage: hoody firewall detach -c ID\n"
		"\n"
		"Stop enforcing a container's firewall. It stays stored; attach\n"
		"enforces it again.\n"
		"\n" CONTAINER_HELP,
	.opts = F(OPT_CONTAINER),
	.required = F(OPT_CONTAINER),
	.method = "PUT",
	.path = "",
	.body = body_interface,
	.view = VIEW_ATTACH,
};

static const struct cmd cmd_fw_delete = {
	.name = "delete",
	.full = "hoody firewall delete",
	.summary = "forget a container that is gone",
	.help = "usage: hoody firewall delete -c ID\n"
		"\n"
		"Forget a container that is gone: its chain in the kernel and its\n"
		"stored firewall.\n"
		"\n" CONTAINER_HELP,
	.opts = F(OPT_CONTAINER),
	.required = F(OPT_CONTAINER),
	.method = "DELETE",
	.path = "",
	.view = VIEW_CONTAINER_DELETED,
};

static const struct cmd cmd_fw_audit = {
	.name = "audit",
	.full = "hoody firewall audit",
	.summary = "show what the kernel enforces, with counters, against the desired state",
	.help = "usage: hoody firewall audit [-c ID]\n"
		"\n"
		"Show the ruleset the kernel really enforces, decoded back into rules:\n"
		"per container its interface, default action, rules, packets they let\n"
		"through (hits), packets dropped by default, and whether the kernel and\n"
		"the desired state agree (each difference is listed). -o json adds every\n"
		"rule with its counters and the sha256 digests of both sides.\n"
		"\n"
		"  -c, --container ID   one container only\n",
	.opts = F(OPT_CONTAINER),
	.method = "GET",
	.path = "/firewall/audit",
	.host_path = "/firewall/audit",
	.view = VIEW_AUDIT,
};

static const struct cmd cmd_fw_drops = {
	.name = "drops",
	.full = "hoody firewall drops",
	.summary = "show the packets a container's firewall dropped lately",
	.help = "usage: hoody firewall drops -c ID [--limit N]\n"
		"\n"
		"Show the packets a container's firewall dropped most recently, newest\n"
		"first: when, which rule (or default), protocol, source and destination.\n"
		"The kernel reports at most agentd's --drop-log-rate drops a second per\n"
		"container; the agent keeps the newest few thousand of the host.\n"
		"\n" CONTAINER_HELP "  --limit N            at most N drops (default 50)\n",
	.opts = F(OPT_CONTAINER) | F(OPT_LIMIT),
	.required = F(OPT_CONTAINER),
	.method = "GET",
	.path = "/firewall/drops",
	.view = VIEW_DROPS,
};

static const struct cmd *const firewall_cmds[] = {
	&cmd_fw_list,	&cmd_fw_show,	&cmd_fw_reset, &cmd_fw_set,   &cmd_egress, &cmd_fw_attach,
	&cmd_fw_detach, &cmd_fw_delete, &cmd_fw_audit, &cmd_fw_drops, NULL,
};

static const struct cmd cmd_firewall = {
	.name = "firewall",
	.full = "hoody firewall",
	.summary = "show and change container firewalls",
	.help = "Show and change the egress firewalls of containers.",
	.subs = firewall_cmds,
};

static const struct cmd cmd_status = {
	.name = "status",
	.full = "hoody status",
	.summary = "show agentd's health",
	.help = "usage: hoody status\n"
		"\n"
		"Show agentd's health: whether the kernel holds the desired state, the\n"
		"nftables table, tamper protection, the number of containers.\n",
	.method = "GET",
	.path = "/health",
	.view = VIEW_HEALTH,
};

static const struct cmd *const hoody_cmds[] = {
	&cmd_firewall,
	&cmd_status,
	NULL,
};

static const struct cmd cmd_hoody = {
	.name = "hoody",
	.full = "hoody",
	.help = "Show and change the per-container egress firewalls that agentd enforces.",
	.extra = "\n"
		 "options (also accepted after any command):\n"
		 "  --socket PATH        agentd's unix socket (default: $" SOCKET_ENV ",\n"
		 "                       else " SOCKET_DEFAULT ")\n"
		 "  --url URL            reach agentd over TCP instead: http://HOST:PORT\n"
		 "  --token-file FILE    the bearer token for --url (required with it)\n"
		 "  -o, --output FORMAT  table (default) or json: the answer's data, pretty\n"
		 "  -h, --help           show help; every command has its own\n"
		 "\n"
		 "exit status: 0 done, 1 agentd refused the request (or a local failure),\n"
		 "2 usage error, 3 agentd could not be reached.\n",
	.subs = hoody_cmds,
};

int
main(int argc, char *argv[])
{
	struct ctx x = {0};
	int r;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "hoody: cannot initialise libcurl\n");
		return EXIT_FAILURE;
	}
	r = cmd_run(&cmd_hoody, argc, argv, &x);
	curl_global_cleanup();
	if ((fflush(stdout) != 0 || ferror(stdout)) && r == 0) {
		fprintf(stderr, "hoody: standard output: %s\n", strerror(errno));
		r = EXIT_FAILURE;
	}
	return r;
}
