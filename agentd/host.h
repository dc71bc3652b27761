#ifndef AGENTD_HOST_H
#define AGENTD_HOST_H

/*
 * host: the API's calls on the whole host's state, for struct api_ops
 * with a struct calls as ctx. Each fills res, which then owns the answer.
 */

struct api_result;
struct cJSON;

/*
 * GET /firewall: every container's firewall as PUT takes it, with its
 * revision, by id. Holds the engine's lock for reading meanwhile.
 */
void host_get(void *ctx, struct api_result *res);
/*
 * PUT /firewall: make body the whole desired state (containers it does
 * not name go), every file staged first and the kernel changed in one
 * transaction: all or nothing. Holds the engine's write lock meanwhile.
 */
void host_put(void *ctx, const struct cJSON *body, struct api_result *res);

#endif
