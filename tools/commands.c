/*
 * hoody's commands: the tree of them, with their help, the options each
 * takes, the call each makes and how its answer is shown, and the
 * request bodies they build. hoody.c parses argv against it and runs
 * the call.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "tools/commands.h"

/* agentd refuses bodies over its own limits, clearly; this only bounds our memory */
#define BODY_FILE_MAX (64u << 20)

int
cli_read_stream(FILE *f, size_t max, char **ret_buf, size_t *ret_len)
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
body_empty(const struct cli_ctx *x, char **ret_body, size_t *ret_len)
{
	cJSON *o = cJSON_CreateObject();
	int r;

	(void)x;
	r = json_body(o, ret_body, ret_len);
	cJSON_Delete(o);
	return r;
}

/* A number of seconds, or of minutes, hours or days with m, h or d after it. */
static int
duration_parse(const char *s, double *ret)
{
	static const struct {
		char unit;
		double secs;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
	unsigned long long v;
	char *end;
	size_t i;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || v > 1000000000ull)
		return -EINVAL;
	if (*end == '\0') {
		*ret = (double)v;
		return 0;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (end[0] == units[i].unit && end[1] == '\0') {
			*ret = (double)v * units[i].secs;
			return 0;
		}
	return -EINVAL;
}

/* Only the fields given: agentd applies its defaults and checks them all. */
static int
body_rule(const struct cli_ctx *x, char **ret_body, size_t *ret_len)
{
	static const struct {
		enum cli_opt opt;
		const char *key;
	} fields[] = {
		{CLI_OPT_RULE_ID, "id"},
		{CLI_OPT_DESTINATION, "destination"},
		{CLI_OPT_PORT, "destination_port"},
		{CLI_OPT_PROTOCOL, "protocol"},
		{CLI_OPT_ACTION, "action"},
		{CLI_OPT_DESCRIPTION, "description"},
		{CLI_OPT_EXPIRES_AT, "expires_at"},
	};
	const char *ttl = x->val[CLI_OPT_TTL];
	cJSON *o = cJSON_CreateObject();
	double secs = 0;
	size_t i;
	int r;

	if (ttl != NULL && duration_parse(ttl, &secs) < 0) {
		fprintf(stderr,
			"hoody firewall egress create: --ttl %s: expected a duration such as 90, "
			"90s, "
			"10m, 2h or 7d\n",
			ttl);
		cJSON_Delete(o);
		return EXIT_FAILURE;
	}
	for (i = 0; o != NULL && i < sizeof(fields) / sizeof(fields[0]); i++)
		if (x->val[fields[i].opt] != NULL &&
		    cJSON_AddStringToObject(o, fields[i].key, x->val[fields[i].opt]) == NULL) {
			cJSON_Delete(o);
			o = NULL;
		}
	/* agentd checks the range, and that --expires-at is not given too */
	if (o != NULL && ttl != NULL && cJSON_AddNumberToObject(o, "ttl", secs) == NULL) {
		cJSON_Delete(o);
		o = NULL;
	}
	r = json_body(o, ret_body, ret_len);
	cJSON_Delete(o);
	return r;
}

/* attach sends the interface, detach null. */
static int
body_interface(const struct cli_ctx *x, char **ret_body, size_t *ret_len)
{
	const char *ifname = x->val[CLI_OPT_INTERFACE];
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

/* attach: exactly one of --interface, --netns, --pid; each --address, as given */
static int
body_attach(const struct cli_ctx *x, char **ret_body, size_t *ret_len)
{
	const char *ifname = x->val[CLI_OPT_INTERFACE], *netns = x->val[CLI_OPT_NETNS];
	const char *pid = x->val[CLI_OPT_PID];
	cJSON *o, *v;
	char *end;
	long n;
	int r;

	if ((ifname != NULL) + (netns != NULL) + (pid != NULL) != 1) {
		fprintf(stderr, "hoody firewall attach: give one of --interface, --netns, --pid\n"
				"try 'hoody firewall attach --help'\n");
		return CLI_EXIT_USAGE;
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
	/* agentd judges them; none sent, none pinned */
	if (o != NULL && x->naddresses > 0 &&
	    !cJSON_AddItemToObject(o, "addresses",
				   cJSON_CreateStringArray(x->addresses, (int)x->naddresses))) {
		cJSON_Delete(o);
		o = NULL;
	}
	r = json_body(o, ret_body, ret_len);
	cJSON_Delete(o);
	return r;
}

/* The document is agentd's to judge: sent as is. */
static int
body_file(const struct cli_ctx *x, char **ret_body, size_t *ret_len)
{
	const char *path = x->val[CLI_OPT_FILE];
	bool is_stdin = strcmp(path, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(path, "re");
	int r;

	if (f == NULL) {
		fprintf(stderr, "hoody: %s: %s\n", path, strerror(errno));
		return EXIT_FAILURE;
	}
	r = cli_read_stream(f, BODY_FILE_MAX, ret_body, ret_len);
	if (!is_stdin)
		fclose(f);
	if (r < 0) {
		fprintf(stderr, "hoody: %s: %s\n", is_stdin ? "standard input" : path,
			r == -EFBIG ? "too large" : strerror(-r));
		return EXIT_FAILURE;
	}
	return 0;
}

#define CONTAINER_HELP "  -c, --container ID   the container\n"

static const struct cli_cmd cmd_egress_list = {
	.name = "list",
	.full = "hoody firewall egress list",
	.summary = "list a container's rules",
	.help = "usage: hoody firewall egress list -c ID\n"
		"\n"
		"List the egress rules of a container's firewall.\n"
		"\n" CONTAINER_HELP,
	.opts = CLI_OPT_BIT(CLI_OPT_CONTAINER),
	.required = CLI_OPT_BIT(CLI_OPT_CONTAINER),
	.method = "GET",
	.path = "/firewall/egress",
	.view = CLI_VIEW_EGRESS,
};

static const struct cli_cmd cmd_egress_create = {
	.name = "create",
	.full = "hoody firewall egress create",
	.summary = "add a rule",
	.help = "usage: hoody firewall egress create -c ID --action allow|deny --destination "
		"ADDR[/LEN]\n"
		"           [--protocol tcp|udp|icmp|any] [--destination-port PORTS]\n"
		"           [--description TEXT] [--id RULE_ID]\n"
		"           [--ttl DURATION | --expires-at TIME]\n"
		"\n"
		"Add an egress rule to a container's firewall (reset or set the firewall\n"
		"first). Adding the same rule again changes nothing, but for its expiry,\n"
		"which it sets anew. agentd checks every value; options left out are\n"
		"left out of the request.\n"
		"\n" CONTAINER_HELP "  --action allow|deny  what to do with matching packets\n"
		"  --destination ADDR[/LEN]\n"
		"                       an IPv4 or IPv6 address or network, e.g.\n"
		"                       203.0.113.0/24 or 2001:db8::/32 (that family only)\n"
		"  --protocol tcp|udp|icmp|any\n"
		"                       the protocol to match (default any); icmp is\n"
		"                       ICMPv6 for an IPv6 destination\n"
		"  --destination-port PORTS\n"
		"                       a port, range or list: 443, 8000-9000, 80,443\n"
		"                       (tcp or udp; every port when left out)\n"
		"  --description TEXT   a note kept with the rule\n"
		"  --id RULE_ID         the rule's id (derived from the rule when left out)\n"
		"  --ttl DURATION       the rule stops matching this long from now: 90 or\n"
		"                       90s, 10m, 2h, 7d (at most 365 days)\n"
		"  --expires-at TIME    the rule stops matching then, in RFC 3339 UTC:\n"
		"                       2026-12-31T18:00:00Z\n",
	.opts = CLI_OPT_BIT(CLI_OPT_CONTAINER) | CLI_OPT_BIT(CLI_OPT_ACTION) |
		CLI_OPT_BIT(CLI_OPT_PROTOCOL) | CLI_OPT_BIT(CLI_OPT_PORT) |
		CLI_OPT_BIT(CLI_OPT_DESTINATION) | CLI_OPT_BIT(CLI_OPT_DESCRIPTION) |
		CLI_OPT_BIT(CLI_OPT_RULE_ID) | CLI_OPT_BIT(CLI_OPT_TTL) |
		CLI_OPT_BIT(CLI_OPT_EXPIRES_AT),
	.required = CLI_OPT_BIT(CLI_OPT_CONTAINER) | CLI_OPT_BIT(CLI_OPT_ACTION) |
		    CLI_OPT_BIT(CLI_OPT_DESTINATION),
	.method = "POST",
	.path = "/firewall/egress",
	.body = body_rule,
	.view = CLI_VIEW_RULE_CREATED,
};

static const struct cli_cmd cmd_egress_delete = {
	.name = "delete",
	.full = "hoody firewall egress delete",
	.summary = "delete a rule by id",
	.help = "usage: hoody firewall egress delete -c ID RULE_ID\n"
		"\n"
		"Delete one egress rule from a container's firewall.\n"
		"\n" CONTAINER_HELP,
	.opts = CLI_OPT_BIT(CLI_OPT_CONTAINER),
	.required = CLI_OPT_BIT(CLI_OPT_CONTAINER),
	.arg = "RULE_ID",
	.method = "DELETE",
	.path = "/firewall/egress",
	.view = CLI_VIEW_RULE_DELETED,
};

static const struct cli_cmd *const egress_cmds[] = {
	&cmd_egress_list,
	&cmd_egress_create,
	&cmd_egress_delete,
	NULL,
};

static const struct cli_cmd cmd_egress = {
	.name = "egress",
	.full = "hoody firewall egress",
	.summary = "list, add and delete a container's egress rules",
	.help = "List, add and delete the egress rules of a container's firewall.",
	.subs = egress_cmds,
};

static const struct cli_cmd cmd_fw_list = {
	.name = "list",
	.full = "hoody firewall list",
	.summary = "list the containers agentd knows",
	.help = "usage: hoody firewall list\n"
		"\n"
		"List the containers agentd knows, sorted by id: interface, whether\n"
		"the firewall is enforced (yes, or why not), default action, number of\n"
		"rules, revision, the addresses pinned to its port.\n",
	.method = "GET",
	.path = "/containers",
	.view = CLI_VIEW_CONTAINERS,
};

static const struct cli_cmd cmd_fw_show = {
	.name = "show",
	.full = "hoody firewall show",
	.summary = "show a container's firewall",
	.help = "usage: hoody firewall show -c ID\n"
		"\n"
		"Show a container's firewall: interface, the addresses pinned to it,\n"
		"default action, revision, whether it is enforced (yes, or why not),\n"
		"rules.\n"
		"\n" CONTAINER_HELP,
	.opts = CLI_OPT_BIT(CLI_OPT_CONTAINER),
	.required = CLI_OPT_BIT(CLI_OPT_CONTAINER),
	.method = "GET",
	.path = "/firewall",
	.view = CLI_VIEW_FIREWALL,
};

static const struct cli_cmd cmd_fw_reset = {
	.name = "reset",
	.full = "hoody firewall reset",
	.summary = "make a container's firewall deny-all with no rules",
	.help = "usage: hoody firewall reset -c ID\n"
		"\n"
		"Make a container's firewall deny-all with no rules, creating the\n"
		"container when it is new.\n"
		"\n" CONTAINER_HELP,
	.opts = CLI_OPT_BIT(CLI_OPT_CONTAINER),
	.required = CLI_OPT_BIT(CLI_OPT_CONTAINER),
	.method = "POST",
	.path = "/firewall/reset",
	.body = body_empty,
	.view = CLI_VIEW_RESET,
};

static const struct cli_cmd cmd_fw_set = {
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
	.opts = CLI_OPT_BIT(CLI_OPT_CONTAINER) | CLI_OPT_BIT(CLI_OPT_FILE),
	.required = CLI_OPT_BIT(CLI_OPT_CONTAINER) | CLI_OPT_BIT(CLI_OPT_FILE),
	.method = "PUT",
	.path = "/firewall",
	.body = body_file,
	.view = CLI_VIEW_FIREWALL,
};

static const struct cli_cmd cmd_fw_attach = {
	.name = "attach",
	.full = "hoody firewall attach",
	.summary = "enforce a container's firewall on its host-side interface",
	.help = "usage: hoody firewall attach -c ID --interface IF | --netns PATH | --pid N\n"
		"                            [--address A]...\n"
		"\n"
		"Enforce a container's firewall on the host end of its veth pair: IF,\n"
		"or the one agentd finds from the container's network namespace (a\n"
		"path such as /run/netns/NAME, or a process in the container).\n"
		"A new container is created deny-all. When no interface of that name\n"
		"exists now, agentd says so (a warning on standard error): the firewall\n"
		"filters nothing until it appears.\n"
		"Each --address pins an address the container's port may claim as its\n"
		"own; on a bridge, frames that claim any other are dropped. Attaching\n"
		"again replaces the pins: without --address, none.\n"
		"\n" CONTAINER_HELP "  --interface IF       the host-side interface, e.g. hc1\n"
		"  --netns PATH         the container's network namespace\n"
		"  --pid N              a process in the container\n"
		"  --address A          an IPv4 or IPv6 address, e.g. 10.0.3.7; repeatable\n",
	.opts = CLI_OPT_BIT(CLI_OPT_CONTAINER) | CLI_OPT_BIT(CLI_OPT_INTERFACE) |
		CLI_OPT_BIT(CLI_OPT_NETNS) | CLI_OPT_BIT(CLI_OPT_PID) |
		CLI_OPT_BIT(CLI_OPT_ADDRESS),
	.required = CLI_OPT_BIT(CLI_OPT_CONTAINER),
	.method = "PUT",
	.path = "",
	.body = body_attach,
	.view = CLI_VIEW_ATTACH,
};

static const struct cli_cmd cmd_fw_detach = {
	.name = "detach",
	.full = "hoody firewall detach",
	.summary = "stop enforcing a container's firewall; it stays stored",
	.help = "usage: hoody firewall detach -c ID\n"
		"\n"
		"Stop enforcing a container's firewall. It stays stored; attach\n"
		"enforces it again. Its interface is then no longer filtered, unless\n"
		"agentd runs with a --container-ifprefix that names it, which drops\n"
		"all its traffic; a warning on standard error says which.\n"
		"\n" CONTAINER_HELP,
	.opts = CLI_OPT_BIT(CLI_OPT_CONTAINER),
	.required = CLI_OPT_BIT(CLI_OPT_CONTAINER),
	.method = "PUT",
	.path = "",
	.body = body_interface,
	.view = CLI_VIEW_ATTACH,
};

static const struct cli_cmd cmd_fw_delete = {
	.name = "delete",
	.full = "hoody firewall delete",
	.summary = "forget a container that is gone",
	.help = "usage: hoody firewall delete -c ID\n"
		"\n"
		"Forget a container that is gone: its chain in the kernel and its\n"
		"stored firewall. Its interface, if it still exists, is then filtered\n"
		"no more (a warning says so, or that --container-ifprefix drops it).\n"
		"\n" CONTAINER_HELP,
	.opts = CLI_OPT_BIT(CLI_OPT_CONTAINER),
	.required = CLI_OPT_BIT(CLI_OPT_CONTAINER),
	.method = "DELETE",
	.path = "",
	.view = CLI_VIEW_CONTAINER_DELETED,
};

static const struct cli_cmd cmd_fw_audit = {
	.name = "audit",
	.full = "hoody firewall audit",
	.summary = "show what the kernel enforces, with counters, against the desired state",
	.help = "usage: hoody firewall audit [-c ID]\n"
		"\n"
		"Show the ruleset the kernel really enforces, decoded back into rules:\n"
		"per container its interface, default action, rules, packets they let\n"
		"through (hits), packets dropped by default, whether the kernel and the\n"
		"desired state agree (each difference is listed), and whether the\n"
		"firewall is enforced: in sync is not enough, a container that is not\n"
		"attached is in sync and enforced by nothing. -o json adds every rule\n"
		"with its counters and the sha256 digests of both sides.\n"
		"\n"
		"  -c, --container ID   one container only\n",
	.opts = CLI_OPT_BIT(CLI_OPT_CONTAINER),
	.method = "GET",
	.path = "/firewall/audit",
	.host_path = "/firewall/audit",
	.view = CLI_VIEW_AUDIT,
};

static const struct cli_cmd cmd_fw_drops = {
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
	.opts = CLI_OPT_BIT(CLI_OPT_CONTAINER) | CLI_OPT_BIT(CLI_OPT_LIMIT),
	.required = CLI_OPT_BIT(CLI_OPT_CONTAINER),
	.method = "GET",
	.path = "/firewall/drops",
	.view = CLI_VIEW_DROPS,
};

static const struct cli_cmd *const firewall_cmds[] = {
	&cmd_fw_list,	&cmd_fw_show,	&cmd_fw_reset, &cmd_fw_set,   &cmd_egress, &cmd_fw_attach,
	&cmd_fw_detach, &cmd_fw_delete, &cmd_fw_audit, &cmd_fw_drops, NULL,
};

static const struct cli_cmd cmd_firewall = {
	.name = "firewall",
	.full = "hoody firewall",
	.summary = "show and change container firewalls",
	.help = "Show and change the egress firewalls of containers.",
	.subs = firewall_cmds,
};

static const struct cli_cmd cmd_status = {
	.name = "status",
	.full = "hoody status",
	.summary = "show agentd's health",
	.help = "usage: hoody status\n"
		"\n"
		"Show agentd's health: whether the kernel holds the desired state, the\n"
		"nftables table, tamper protection, the number of containers and of\n"
		"those whose firewall nothing enforces (and why), and what happens to\n"
		"interfaces no container is attached to.\n",
	.method = "GET",
	.path = "/health",
	.view = CLI_VIEW_HEALTH,
};

static const struct cli_cmd *const hoody_cmds[] = {
	&cmd_firewall,
	&cmd_status,
	NULL,
};

const struct cli_cmd cli_cmd_hoody = {
	.name = "hoody",
	.full = "hoody",
	.help = "Show and change the per-container egress firewalls that agentd enforces.",
	.extra = "\n"
		 "options (also accepted after any command):\n"
		 "  --socket PATH        agentd's unix socket (default: $" CLI_SOCKET_ENV ",\n"
		 "                       else " CLI_SOCKET_DEFAULT ")\n"
		 "  --url URL            reach agentd over TCP instead: http://HOST:PORT\n"
		 "  --token-file FILE    the bearer token for --url (required with it)\n"
		 "  -o, --output FORMAT  table (default) or json: the answer's data, pretty\n"
		 "  -h, --help           show help; every command has its own\n"
		 "\n"
		 "agentd's warnings (an interface that does not exist, one that is no\n"
		 "longer filtered) go to standard error, as 'hoody: warning: ...'.\n"
		 "\n"
		 "exit status: 0 done, 1 agentd refused the request (or a local failure),\n"
		 "2 usage error, 3 agentd could not be reached.\n",
	.subs = hoody_cmds,
};
