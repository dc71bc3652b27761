#ifndef AGENTD_KERNEL_JSON_H
#define AGENTD_KERNEL_JSON_H

/*
 * kernel_json: the kernel's state as JSON (the decoded table), and
 * whether the host has an interface.
 */

#include <stdbool.h>
#include <stdio.h>

#include "nft/nft.h"

struct cJSON;

/*
 * Write the decoded kernel state of table as one JSON document to f:
 * {"table", "exists", "owned", "persist", "containers": {"<id>": {"interface",
 * "default_action", "rules": [{rule fields, "packets", "bytes"}],
 * "dropped": {"packets", "bytes"}}}}. Containers whose kernel objects
 * are not as written carry "damage" instead of rules. Returns 0, or a
 * negative errno when memory or the stream fails.
 */
int kernel_json_write_state(FILE *f, const char *table, const struct nft_state *st);
/* The members of one container of it, into the object w has open. */
void kernel_json_write_container(struct rules_jw *w, const struct nft_state *st,
				 const struct nft_container *ct);
/*
 * "interface_present" from presence as links_presence() gives it: true
 * when the interface exists, null when that cannot be told. Added to o
 * (false when out of memory), or written to the object w has open.
 */
bool kernel_json_presence(struct cJSON *o, int presence);
void kernel_json_write_presence(struct rules_jw *w, int presence);

#endif
