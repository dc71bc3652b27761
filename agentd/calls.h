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

struct api_result;
struct cJSON;
struct drops;
struct engine;
struct engine_ct;
struct links;
struct nft_error;

/* What the calls work on: set before the API starts, fixed after. */
struct calls {
	struct engine *engine;
	struct links *links; /* NULL: interfaces not followed */
	struct drops *drops; /* NULL: no drop log */
};

/* True when id is a valid container id; otherwise false, with res failed. */
bool calls_id_ok(const char *id, struct api_result *res);
/* Fail res: container id has no firewall, and how to give it one. */
void calls_fail_not_found(struct api_result *res, const char *id);
/* Fail res: the kernel refused a change with r, as err details; nothing changed. */
void calls_fail_kernel(struct api_result *res, int r, const struct nft_error *err);
/* Fail res: the state directory failed with r (full, or otherwise); nothing changed. */
void calls_fail_storage(const struct engine *e, struct api_result *res, int r);

/*
 * Answer res with {"containers": ...}: entry's object for each container
 * in id order, in an array, or in an object by id when by_id. Holds the
 * engine's lock for reading meanwhile; entry returns NULL out of memory.
 */
typedef struct cJSON *(*calls_entry_fn)(const struct calls *calls, const struct engine_ct *c);
void calls_answer_each(const struct calls *calls, bool by_id, calls_entry_fn entry,
		       struct api_result *res);

#endif
