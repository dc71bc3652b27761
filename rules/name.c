/*
 * Names: container and rule ids, interface names, protocol and action
 * keywords.
 */

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "rules/rules_int.h"

static const char *const proto_names[RULES_PROTO_MAX] = {
	[RULES_PROTO_ANY] = "any",
	[RULES_PROTO_TCP] = "tcp",
	[RULES_PROTO_UDP] = "udp",
	[RULES_PROTO_ICMP] = "icmp",
};

static const char *const action_names[RULES_ACTION_MAX] = {
	[RULES_ACTION_DENY] = "deny",
	[RULES_ACTION_ALLOW] = "allow",
};

static bool
id_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

/* "." and ".." would name directories wherever an id becomes a path */
static bool
dot_name(const char *s)
{
	return strcmp(s, ".") == 0 || strcmp(s, "..") == 0;
}

bool
rules_id_valid(const char *id)
{
	size_t n;

	if (id == NULL)
		return false;
	for (n = 0; id[n] != '\0'; n++)
		if (n == RULES_ID_MAX || !id_char(id[n]))
			return false;
	return n > 0 && !dot_name(id);
}

bool
rules_ifname_valid(const char *ifname)
{
	size_t n;

	if (ifname == NULL)
		return false;
	/* the kernel's dev_valid_name(), narrowed to printable ASCII */
	for (n = 0; ifname[n] != '\0'; n++) {
		char c = ifname[n];

		if (n == RULES_IFNAME_MAX || c <= ' ' || c > '~' || c == '/' || c == ':')
			return false;
	}
	return n > 0 && !dot_name(ifname);
}

static int
lookup(const char *const *names, int n, const char *s)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -EINVAL;
}

int
rules_proto_from_name(const char *s)
{
	return lookup(proto_names, RULES_PROTO_MAX, s);
}

int
rules_action_from_name(const char *s)
{
	return lookup(action_names, RULES_ACTION_MAX, s);
}

const char *
rules_proto_name(uint8_t proto)
{
	return proto < RULES_PROTO_MAX ? proto_names[proto] : "unknown";
}

const char *
rules_action_name(uint8_t action)
{
	return action < RULES_ACTION_MAX ? action_names[action] : "unknown";
}
