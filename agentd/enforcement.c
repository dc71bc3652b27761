/*
 * Whether a container's firewall is enforced now: attached, held by the
 * kernel as stored, on an interface that exists.
 */

#include "agentd/enforcement.h"

static const char *const names[ENFORCEMENT_MAX] = {
	[ENFORCEMENT_ENFORCED] = "enforced",
	[ENFORCEMENT_NOT_ATTACHED] = "not_attached",
	[ENFORCEMENT_INTERFACE_MISSING] = "interface_missing",
	[ENFORCEMENT_BRIDGE_PORT] = "bridge_port",
	[ENFORCEMENT_KERNEL_OUT_OF_SYNC] = "kernel_out_of_sync",
	[ENFORCEMENT_INTERFACE_UNKNOWN] = "interface_unknown",
};

const char *
enforcement_name(enum enforcement e)
{
	return e < ENFORCEMENT_MAX ? names[e] : "kernel_out_of_sync";
}

enum enforcement
enforcement_of(bool attached, bool kernel_ok, int presence, bool kernel_bridged)
{
	/* what the platform must fix first, then what the agent must */
	if (!attached)
		return ENFORCEMENT_NOT_ATTACHED;
	if (presence == 0)
		return ENFORCEMENT_INTERFACE_MISSING;
	/* the IP hooks see a bridge port's packets as the bridge's: only
	 * the bridged path names the port (until then they are dropped) */
	if (presence == 2 && !kernel_bridged)
		return ENFORCEMENT_BRIDGE_PORT;
	if (!kernel_ok)
		return ENFORCEMENT_KERNEL_OUT_OF_SYNC;
	if (presence < 0)
		return ENFORCEMENT_INTERFACE_UNKNOWN;
	return ENFORCEMENT_ENFORCED;
}
