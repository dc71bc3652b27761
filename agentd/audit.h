#ifndef AGENTD_AUDIT_H
#define AGENTD_AUDIT_H

#include "nft/nft.h"
#include "rules/rules.h"

struct bridges;
struct links;

/*
 * The audit of table: have (a dump) set against want (the desired
 * state, sorted by id), for every container either holds, or only
 * container only when it is not NULL:
 *
 *   {"table", "owned", "persist", "generation", "time", "container_ifprefixes",
 *    "drop_log": {"rate", "group"} or null, "bridge_netfilter", "bridges",
 *    ["damage"],
 *    "in_sync", "containers_in_sync", "containers_total",
 *    "containers_enforced", "containers_not_enforced",
 *    "digest": {"kernel", "desired"},
 *    "containers": [{"container_id", "enforced", "enforcement", "interface",
 *      "default_action", "rules": [{rule, "packets", "bytes"}],
 *      "dropped": {"packets", "bytes"}, "interface_present", "differences": [...],
 *      "in_sync", "digest": {"kernel", "desired"}}]}
 *
 * "enforced" says the kernel has a chain for the container; "enforcement"
 * whether it is protected as desired (enforcement.h). A container's
 * digests are sha256 of its id and canonical rendering; the host's, of
 * its containers' digests in id order. links (may be NULL) tells whether
 * interfaces exist; bridges, what bridges_write() says. The caller holds
 * the engine's lock. Returns the JSON text (the caller's to free()), or
 * NULL when out of memory.
 */
char *audit_text(const char *table, const struct nft_state *have, const struct rules_set *want,
		 struct links *links, struct bridges *bridges, const char *only);

#endif
