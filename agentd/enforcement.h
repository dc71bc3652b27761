#ifndef AGENTD_ENFORCEMENT_H
#define AGENTD_ENFORCEMENT_H

/*
 * enforcement: whether anything really enforces a container's firewall
 * now, and if not, why. "enforced" only when the container is attached,
 * the kernel holds its firewall exactly as stored, and an interface of
 * that name exists on the host; anything else is a reason why its
 * traffic is not filtered as asked. The API shows it as "enforcement"
 * (docs/api.md).
 */

#include <stdbool.h>

enum enforcement {
	ENFORCEMENT_ENFORCED = 0,
	ENFORCEMENT_NOT_ATTACHED,	/* no interface: stored, nothing enforces it */
	ENFORCEMENT_INTERFACE_MISSING,	/* no interface of that name on the host now */
	ENFORCEMENT_BRIDGE_PORT,	/* a bridge port not enforced as one yet: all dropped */
	ENFORCEMENT_KERNEL_OUT_OF_SYNC, /* the kernel does not hold it as stored */
	ENFORCEMENT_INTERFACE_UNKNOWN,	/* whether the interface exists cannot be told */
	ENFORCEMENT_MAX,
};

/* "enforced", "not_attached", ...: the API's name of e. */
const char *enforcement_name(enum enforcement e);

/*
 * A container's enforcement: attached (it has an interface), kernel_ok
 * (the kernel holds its firewall exactly as stored), presence (as
 * links_presence() says: its interface exists: 1, exists as a port of a
 * bridge: 2, does not: 0, cannot be told: -1) and kernel_bridged (the
 * kernel enforces it on the bridged path, which a bridge port needs;
 * a routed interface is enforced either way). The reasons come in this
 * order: not attached, interface missing, bridge port, kernel out of
 * sync, interface unknown.
 */
enum enforcement enforcement_of(bool attached, bool kernel_ok, int presence, bool kernel_bridged);

#endif
