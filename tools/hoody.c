/*
 * hoody: the command-line client of agentd's REST API (docs/api.md).
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

#include "tools/commands.h"
#include "tools/http.h"
#include "tools/print.h"

#define TOKEN_MAX 4096
/* how much of a body that is not JSON to show */
#define NOT_JSON_QUOTE 80
/* getopt values of options without a short form */
#define OPT_LONG_BASE 0x100

struct optdef {
	const char *name;
	int has_arg;
	char letter; /* 0: long form only */
};

static const struct optdef optdefs[CLI_OPT_MAX] = {
	[CLI_OPT_SOCKET] = {"socket", required_argument, 0},
	[CLI_OPT_URL] = {"url", required_argument, 0},
	[CLI_OPT_TOKEN_FILE] = {"token-file", required_argument, 0},
	[CLI_OPT_OUTPUT] = {"output", required_argument, 'o'},
	[CLI_OPT_HELP] = {"help", no_argument, 'h'},
	[CLI_OPT_CONTAINER] = {"container", required_argument, 'c'},
	[CLI_OPT_ACTION] = {"action", required_argument, 0},
	[CLI_OPT_PROTOCOL] = {"protocol", required_argument, 0},
	[CLI_OPT_PORT] = {"destination-port", required_argument, 0},
	[CLI_OPT_DESTINATION] = {"destination", required_argument, 0},
	[CLI_OPT_DESCRIPTION] = {"description", required_argument, 0},
	[CLI_OPT_RULE_ID] = {"id", required_argument, 0},
	[CLI_OPT_INTERFACE] = {"interface", required_argument, 0},
	[CLI_OPT_FILE] = {"file", required_argument, 'f'},
	[CLI_OPT_LIMIT] = {"limit", required_argument, 0},
	[CLI_OPT_NETNS] = {"netns", required_argument, 0},
	[CLI_OPT_PID] = {"pid", required_argument, 0},
	[CLI_OPT_ADDRESS] = {"address", required_argument, 0},
	[CLI_OPT_TTL] = {"ttl", required_argument, 0},
	[CLI_OPT_EXPIRES_AT] = {"expires-at", required_argument, 0},
};

static void usage_error(const struct cli_cmd *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
usage_error(const struct cli_cmd *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", c->full);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\ntry '%s --help'\n", c->full);
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
	r = cli_read_stream(f, TOKEN_MAX, &buf, &len);
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
transport_open(const struct cli_cmd *c, const struct cli_ctx *x, int *ret_exit)
{
	const char *sock = x->val[CLI_OPT_SOCKET], *url = x->val[CLI_OPT_URL];
	const char *token_file = x->val[CLI_OPT_TOKEN_FILE];
	struct cli_http *h = NULL;
	char *token = NULL;
	int r;

	*ret_exit = CLI_EXIT_USAGE;
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
			sock = getenv(CLI_SOCKET_ENV);
		if (sock == NULL || sock[0] == '\0')
			sock = CLI_SOCKET_DEFAULT;
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
		return CLI_EXIT_API;
	case -EINVAL:
		fprintf(stderr, "hoody: --url %s: %s\n", where, e->message);
		return CLI_EXIT_USAGE;
	case -EACCES:
		hint = cli_http_is_unix(h) ? " (run as root or as a member of the socket's group)"
					   : "";
		break;
	case -ETIMEDOUT:
	case -EIO:
		/* connected, perhaps, but no whole answer came */
		fprintf(stderr, "hoody: no answer from agentd at %s: %s\n", where, e->message);
		return CLI_EXIT_UNREACHABLE;
	default:
		hint = cli_http_is_unix(h) ? " (is agentd running? set --socket or " CLI_SOCKET_ENV
					     ")"
					   : " (is agentd running with --listen? check --url)";
		break;
	}
	fprintf(stderr, "hoody: cannot reach agentd at %s: %s%s\n", where, e->message, hint);
	return CLI_EXIT_UNREACHABLE;
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
		return CLI_EXIT_API;
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
	return CLI_EXIT_API;
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
		r = CLI_EXIT_API;
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
view_print(enum cli_view v, const cJSON *data, long status)
{
	switch (v) {
	case CLI_VIEW_FIREWALL:
		cli_print_firewall(stdout, data);
		break;
	case CLI_VIEW_EGRESS:
		cli_print_egress(stdout, data);
		break;
	case CLI_VIEW_RULE_CREATED:
		cli_print_rule_created(stdout, data, status);
		break;
	case CLI_VIEW_RULE_DELETED:
		cli_print_rule_deleted(stdout, data);
		break;
	case CLI_VIEW_RESET:
		cli_print_reset(stdout, data, status);
		break;
	case CLI_VIEW_ATTACH:
		cli_print_attach(stdout, data, status);
		break;
	case CLI_VIEW_CONTAINER_DELETED:
		cli_print_container_deleted(stdout, data);
		break;
	case CLI_VIEW_CONTAINERS:
		cli_print_containers(stdout, data);
		break;
	case CLI_VIEW_HEALTH:
		cli_print_health(stdout, data);
		break;
	case CLI_VIEW_AUDIT:
		cli_print_audit(stdout, data);
		break;
	case CLI_VIEW_DROPS:
		cli_print_drops(stdout, data);
		break;
	case CLI_VIEW_MAX:
		break;
	}
}

static int
output_print(const struct cli_ctx *x, enum cli_view v, const cJSON *data, long status)
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
leaf_check(const struct cli_cmd *c, int nargs, char **args, struct cli_ctx *x)
{
	const char *out = x->val[CLI_OPT_OUTPUT];
	int want = c->arg != NULL ? 1 : 0, o;

	for (o = 0; o < CLI_OPT_MAX; o++)
		if ((c->required & CLI_OPT_BIT(o)) && x->val[o] == NULL) {
			usage_error(c, "missing --%s", optdefs[o].name);
			return CLI_EXIT_USAGE;
		}
	if (nargs < want) {
		usage_error(c, "missing %s", c->arg);
		return CLI_EXIT_USAGE;
	}
	if (nargs > want) {
		usage_error(c, "unexpected argument '%s'", args[want]);
		return CLI_EXIT_USAGE;
	}
	/* an empty id would name another route, not a bad id */
	if (x->val[CLI_OPT_CONTAINER] != NULL && x->val[CLI_OPT_CONTAINER][0] == '\0') {
		usage_error(c, "--container: empty id");
		return CLI_EXIT_USAGE;
	}
	if (want && args[0][0] == '\0') {
		usage_error(c, "%s: empty id", c->arg);
		return CLI_EXIT_USAGE;
	}
	if (out != NULL && strcmp(out, "json") != 0 && strcmp(out, "table") != 0) {
		usage_error(c, "--output '%s': expected table or json", out);
		return CLI_EXIT_USAGE;
	}
	x->json = out != NULL && strcmp(out, "json") == 0;
	return 0;
}

static int
leaf_run(const struct cli_cmd *c, int nargs, char **args, struct cli_ctx *x)
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
	if ((c->opts & CLI_OPT_BIT(CLI_OPT_CONTAINER)) && x->val[CLI_OPT_CONTAINER] == NULL &&
	    c->host_path) {
		path = strdup(c->host_path);
	} else if (c->opts & CLI_OPT_BIT(CLI_OPT_CONTAINER)) {
		if (path_build(h, x->val[CLI_OPT_CONTAINER], c->path,
			       c->arg != NULL ? args[0] : NULL, &path) < 0)
			path = NULL;
	} else {
		path = strdup(c->path);
	}
	if (path != NULL && x->val[CLI_OPT_LIMIT] != NULL &&
	    query_add(h, &path, x->val[CLI_OPT_LIMIT]) < 0) {
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
	/* on stderr, whatever the output: stdout stays the answer alone */
	if (r == 0) {
		fflush(stdout); /* the answer first, where both go to one place */
		cli_print_warnings(stderr, data);
	}
out:
	cJSON_Delete(root);
	free(body);
	free(path);
	cli_http_free(h);
	return r;
}

static void
help_print(const struct cli_cmd *c, FILE *f)
{
	const struct cli_cmd *const *s;
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
bad_option(const struct cli_cmd *c, char **argv, int ch)
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
options_parse(const struct cli_cmd *c, int argc, char **argv, struct cli_ctx *x, int *ret_next)
{
	struct option longopts[CLI_OPT_MAX + 1];
	char shortopts[2 + 2 * CLI_OPT_MAX + 1];
	unsigned allowed = CLI_GLOBAL_OPTS | c->opts;
	int nl = 0, ns = 0, ch, o;

	if (c->subs != NULL)
		shortopts[ns++] = '+';
	shortopts[ns++] = ':'; /* tell a missing value from an unknown option */
	for (o = 0; o < CLI_OPT_MAX; o++) {
		if (!(allowed & CLI_OPT_BIT(o)))
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
			return CLI_EXIT_USAGE;
		}
		for (o = 0; o < CLI_OPT_MAX; o++)
			if (ch == opt_val(o))
				break;
		if (o == CLI_OPT_HELP) {
			help_print(c, stdout);
			return EXIT_SUCCESS;
		}
		if (o == CLI_OPT_ADDRESS && x->naddresses == CLI_ADDRESSES_MAX) {
			usage_error(c, "more than %d --address options", CLI_ADDRESSES_MAX);
			return CLI_EXIT_USAGE;
		}
		if (o == CLI_OPT_ADDRESS)
			x->addresses[x->naddresses++] = optarg;
		if (o < CLI_OPT_MAX)
			x->val[o] = optarg;
	}
	*ret_next = optind;
	return -1;
}

static int
cmd_run(const struct cli_cmd *c, int argc, char **argv, struct cli_ctx *x)
{
	const struct cli_cmd *const *s;
	int next, r;

	r = options_parse(c, argc, argv, x, &next);
	if (r >= 0)
		return r;
	if (c->subs == NULL)
		return leaf_run(c, argc - next, argv + next, x);
	if (next == argc) {
		usage_error(c, "missing command");
		return CLI_EXIT_USAGE;
	}
	for (s = c->subs; *s != NULL; s++)
		if (strcmp((*s)->name, argv[next]) == 0)
			return cmd_run(*s, argc - next, argv + next, x);
	usage_error(c, "unknown command '%s'", argv[next]);
	return CLI_EXIT_USAGE;
}

int
main(int argc, char *argv[])
{
	struct cli_ctx x = {0};
	int r;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "hoody: cannot initialise libcurl\n");
		return EXIT_FAILURE;
	}
	r = cmd_run(&cli_cmd_hoody, argc, argv, &x);
	curl_global_cleanup();
	if ((fflush(stdout) != 0 || ferror(stdout)) && r == 0) {
		fprintf(stderr, "hoody: standard output: %s\n", strerror(errno));
		r = EXIT_FAILURE;
	}
	return r;
}
