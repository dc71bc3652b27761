#ifndef AGENTD_EXPIRY_H
#define AGENTD_EXPIRY_H

/*
 * expiry: takes rules out of the desired state when their time comes.
 * The kernel stops an expiring rule on time by itself, agent or no
 * agent (its claims test the clock, its verdict element times out);
 * this makes the state files, the API and the table's layout say so,
 * by the same commit as any change. One thread waits on the engine's
 * timer (engine_expiry_fd()), which fires at the earliest expires_at.
 */

struct engine;
struct expiry;

/* Start the thread. Returns 0 with *ret owning it, or a negative errno. */
int expiry_start(struct engine *e, struct expiry **ret);
/* Stop it and free x (which may be NULL). */
void expiry_stop(struct expiry *x);

#endif
