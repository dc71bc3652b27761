#ifndef HOODY_CLI_COMMANDS_H
#define HOODY_CLI_COMMANDS_H

/*
 * commands: hoody's command tree (commands.c), and what hoody.c needs to
 * parse argv against it and run a command: the options, how an answer
 * is shown, the exit statuses.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CLI_EXIT_API 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_UNREACHABLE 3

#define CLI_SOCKET_DEFAULT "/run/hoody-firewall/agentd.sock"
#define CLI_SOCKET_ENV "HOODY_FIREWALL_SOCKET"

/* Every option hoody takes; hoody.c names them for getopt_long(). */
enum cli_opt {
	CLI_OPT_SOCKET = 0,
	CLI_OPT_URL,
	CLI_OPT_TOKEN_FILE,
	CLI_OPT_OUTPUT,
	CLI_OPT_HELP,
	CLI_OPT_CONTAINER,
	CLI_OPT_ACTION,
	CLI_OPT_PROTOCOL,
	CLI_OPT_PORT,
	CLI_OPT_DESTINATION,
	CLI_OPT_DESCRIPTION,
	CLI_OPT_RULE_ID,
	CLI_OPT_INTERFACE,
	CLI_OPT_FILE,
	CLI_OPT_LIMIT,
	CLI_OPT_NETNS,
	CLI_OPT_PID,
	CLI_OPT_ADDRESS,
	CLI_OPT_TTL,
	CLI_OPT_EXPIRES_AT,
	CLI_OPT_MAX,
};

#define CLI_OPT_BIT(o) (1u << (o))
#define CLI_GLOBAL_OPTS                                                                            \
	(CLI_OPT_BIT(CLI_OPT_SOCKET) | CLI_OPT_BIT(CLI_OPT_URL) |                                  \
	 CLI_OPT_BIT(CLI_OPT_TOKEN_FILE) | CLI_OPT_BIT(CLI_OPT_OUTPUT) |                           \
	 CLI_OPT_BIT(CLI_OPT_HELP))

/* How a command shows agentd's answer (print.h), unless -o json. */
enum cli_view {
	CLI_VIEW_FIREWALL = 0,
	CLI_VIEW_EGRESS,
	CLI_VIEW_RULE_CREATED,
	CLI_VIEW_RULE_DELETED,
	CLI_VIEW_RESET,
	CLI_VIEW_ATTACH,
	CLI_VIEW_CONTAINER_DELETED,
	CLI_VIEW_CONTAINERS,
	CLI_VIEW_HEALTH,
	CLI_VIEW_AUDIT,
	CLI_VIEW_DROPS,
	CLI_VIEW_MAX,
};

/* One run: the options given on the way down the tree. */
#define CLI_ADDRESSES_MAX 64 /* agentd takes fewer, and says how many */

struct cli_ctx {
	const char *val[CLI_OPT_MAX]; /* the last value given for each option, from argv */
	/* every --address, in order */
	const char *addresses[CLI_ADDRESSES_MAX];
	size_t naddresses;
	bool json;
};

/* A command: a group of commands, or a leaf that makes one call. */
struct cli_cmd {
	const char *name;
	const char *full;    /* for messages: "hoody firewall egress create" */
	const char *summary; /* its line in the parent's help */
	const char *help;    /* leaves: all of it; groups: what they are for */
	const char *extra;   /* groups: more help after the command list */
	/* a group's commands, NULL-terminated; NULL for a leaf */
	const struct cli_cmd *const *subs;
	/* options accepted besides CLI_GLOBAL_OPTS, and those required, as CLI_OPT_BIT(CLI_OPT_...)
	 */
	unsigned opts;
	unsigned required;
	const char *arg; /* the name of the one operand, or NULL for none */
	const char *method;
	/* after /containers/ID when the command takes -c, else the whole path */
	const char *path;
	const char *host_path; /* the whole path when -c is optional and not given */
	/* the request body from x, malloc'd; returns 0, or an exit status having said why */
	int (*body)(const struct cli_ctx *x, char **ret_body, size_t *ret_len);
	enum cli_view view;
};

/* The root of the tree: "hoody", with every command below it. */
extern const struct cli_cmd cli_cmd_hoody;

/*
 * Read all of f, at most max bytes, NUL-terminated. Returns 0 with
 * *ret_buf owning the text, -EFBIG past max, -EIO or -ENOMEM.
 */
int cli_read_stream(FILE *f, size_t max, char **ret_buf, size_t *ret_len);

#endif
