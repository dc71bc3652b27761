#ifndef AGENTD_STATUS_H
#define AGENTD_STATUS_H

/*
 * status: the API's calls that report on the host, for struct api_ops
 * with a struct calls as ctx. Each fills res, which then owns the answer.
 */

struct api_result;

/*
 * GET /health: whether the kernel holds the desired state (reading the
 * table only when the generation moved), how many containers are not
 * enforced and why, and the reconciler's counts. Holds the engine's
 * write lock meanwhile: a read uses its socket.
 */
void status_health(void *ctx, struct api_result *res);
/* GET /containers: one entry per container, in id order (engine read-locked). */
void status_list(void *ctx, struct api_result *res);
/*
 * GET /firewall/audit, and .../{id}/firewall/audit when id is not NULL:
 * the table, read under the engine's write lock, against the desired
 * state. The answer is rendered already, in res->text.
 */
void status_audit(void *ctx, const char *id, struct api_result *res);

#endif
