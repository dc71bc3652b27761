#ifndef AGENTD_FIREWALL_H
#define AGENTD_FIREWALL_H

/*
 * firewall: the API's calls on one container's firewall, for struct
 * api_ops with a struct calls as ctx. Each checks the id and fills res
 * (which then owns the answer). Changes take the engine's write lock
 * and go through engine_commit(): all or nothing, on disk and in the
 * kernel before they answer; reads take the lock for reading.
 */

struct api_result;
struct cJSON;

/* POST .../firewall/reset: deny everything, no rules; creates the container. */
void firewall_reset(void *ctx, const char *id, struct api_result *res);
/* POST .../firewall/egress: add the rule in body; the same rule again changes nothing. */
void firewall_rule_add(void *ctx, const char *id, const struct cJSON *body, struct api_result *res);
/* DELETE .../firewall/egress/{rule_id}: delete that rule. */
void firewall_rule_delete(void *ctx, const char *id, const char *rule_id, struct api_result *res);
/* GET .../firewall/egress: the container's rules. */
void firewall_rules_get(void *ctx, const char *id, struct api_result *res);
/* GET .../firewall: the whole firewall object. */
void firewall_get(void *ctx, const char *id, struct api_result *res);
/* PUT .../firewall: replace the firewall, keeping the interface; creates the container. */
void firewall_put(void *ctx, const char *id, const struct cJSON *body, struct api_result *res);
/*
 * PUT /containers/{id}: attach to the interface named in body, or to the
 * host end of the veth of {"netns": PATH} or {"pid": N}; a null interface
 * detaches. Creates the container.
 */
void firewall_container_put(void *ctx, const char *id, const struct cJSON *body,
			    struct api_result *res);
/* DELETE /containers/{id}: the container and its firewall go. */
void firewall_container_delete(void *ctx, const char *id, struct api_result *res);
/* GET .../firewall/drops: its latest drops, newest first, at most limit (NULL: 50). */
void firewall_drops(void *ctx, const char *id, const char *limit, struct api_result *res);

#endif
