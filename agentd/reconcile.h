#ifndef AGENTD_RECONCILE_H
#define AGENTD_RECONCILE_H

/*
 * reconcile: puts the kernel back to the desired state when anyone else
 * changes the table (as soon as nf_tables announces it),
 * and every interval_s seconds as a safety net (0: never).
 */

struct engine;
struct reconciler;

/*
 * Start the reconciler's thread on e's announcements (engine_monitor()),
 * with a timer pass every interval_s seconds (0: none). Returns 0 with
 * *ret owning it, or a negative errno.
 */
int reconcile_start(struct engine *e, unsigned int interval_s, struct reconciler **ret);
/* Stop the thread and free rc (which may be NULL). */
void reconcile_stop(struct reconciler *rc);

#endif
