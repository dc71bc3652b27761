#ifndef AGENTD_CALLS_H
#define AGENTD_CALLS_H

/*
 * calls: agentd's side of the REST API. The calls are in firewall.c (one
 * container), host.c (the whole host's state) and status.c (health, the
 * list of containers, the audit); daemon.c puts them in the struct
 * api_ops it serves, with a struct calls as their ctx. What they share
 * is here.
 */

#include <stdbool.h>
#include <stddef.h>

#include "agentd/enforcement.h"

struct api_result;
struct bridges;
struct cJSON;
struct drops;
struct engine;
struct engine_ct;
struct links;
struct nft_error;
struct rules_container;
struct rules_rule;

/* What the calls work on: set before the API starts, fixed after. */
struct calls {
	struct engine *engine;
	struct links *links; /* NULL: interfaces not followed */
	struct drops *drops; /* NULL: no drop log */
	struct bridges *bridges;
	bool resolver; /* agentd runs the resolver: rules by name work */
};

/* True when id is a valid container id; otherwise false, with res failed. */
bool calls_id_ok(const char *id, struct api_result *res);
/*
 * True when container id may be attached to ifname; false, with res
 * failed, when ifname is a Linux bridge (the bridge's traffic is not the
 * container's: its own port on the bridge is what to attach).
 */
bool calls_interface_ok(const struct calls *calls, const char *id, const char *ifname,
			struct api_result *res);
/*
 * True when the agent can enforce every rule of c (r alone, when c is
 * NULL); false, with res failed, for a deny rule by name when the agent
 * runs no resolver (only the resolver makes a name unresolvable).
 */
bool calls_rules_supported(const struct calls *calls, const struct rules_container *c,
			   const struct rules_rule *r, struct api_result *res);
/* Fail res: container id has no firewall, and how to give it one. */
void calls_fail_not_found(struct api_result *res, const char *id);
/* Fail res: the kernel refused a change with r, as err details; nothing changed. */
void calls_fail_kernel(struct api_result *res, int r, const struct nft_error *err);
/* Fail res: the state directory failed with r (full, or otherwise); nothing changed. */
void calls_fail_storage(const struct engine *e, struct api_result *res, int r);

/*
 * Whether c's firewall is enforced now: attached, held by the kernel as
 * the agent last found it (engine_ct.out_of_sync), on an interface the
 * host has (calls->links). The caller holds the engine's lock.
 */
enum enforcement calls_enforcement(const struct calls *calls, const struct engine_ct *c);
/* Add "enforcement": its name for c to o; false when out of memory. */
bool calls_add_enforcement(struct cJSON *o, const struct calls *calls, const struct engine_ct *c);
/*
 * Add "interface_present" and "enforcement" for c to o, looking the
 * interface up once: with now, as links_presence_now() (an answer about
 * c alone), else as links_presence() (one of every container's).
 */
bool calls_add_presence(struct cJSON *o, const struct calls *calls, const struct engine_ct *c,
			bool now);
/*
 * Count the containers in each state of enforcement into count (zeroed
 * by the caller). kernel_known false: the kernel could not be read, and
 * no attached container counts as enforced. Returns 0 or -ENOMEM.
 */
int calls_census(const struct calls *calls, bool kernel_known, size_t count[ENFORCEMENT_MAX]);
/* How many of a census are not enforced, whatever the reason. */
size_t calls_not_enforced(const size_t count[ENFORCEMENT_MAX]);

/*
 * Warnings: what a call did that its caller may not expect, as
 * "warnings": [{"code", "message"}] in its answer. Each returns false
 * when out of memory.
 */
/* Add "warnings": [] to o, returning the array (NULL: out of memory). */
struct cJSON *calls_warnings(struct cJSON *o);
bool calls_warn(struct cJSON *warnings, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * Warn when c's rules by name open nothing (the first one named): the
 * agent runs no resolver, or c is on a bridge, whose queries it does
 * not see yet.
 */
bool calls_warn_names(const struct calls *calls, struct cJSON *warnings, const struct engine_ct *c);
/* When c is not enforced, say why (the code is its enforcement's name). */
bool calls_warn_enforcement(const struct calls *calls, struct cJSON *warnings,
			    const struct engine_ct *c);
/*
 * ifname, which container id had, has no container now: say whether its
 * traffic passes unfiltered or a --container-ifprefix drops it.
 */
bool calls_warn_released(const struct calls *calls, struct cJSON *warnings, const char *ifname,
			 const char *id);

/*
 * Answer res with {"containers": ...}: entry's object for each container
 * in id order, in an array, or in an object by id when by_id. Holds the
 * engine's lock for reading meanwhile; entry returns NULL out of memory.
 */
typedef struct cJSON *(*calls_entry_fn)(const struct calls *calls, const struct engine_ct *c);
void calls_answer_each(const struct calls *calls, bool by_id, calls_entry_fn entry,
		       struct api_result *res);

#endif
