#ifndef AGENTD_ENGINE_H
#define AGENTD_ENGINE_H

/*
 * engine: the desired state of every container, kept equal in memory,
 * on disk (store) and in the kernel (nft). Every change is staged on
 * disk, committed to the kernel, then committed on disk; a failure at
 * any step undoes the earlier ones, so a caller that is told "failed"
 * can rely on nothing having changed. Changes are serialised; reads
 * run side by side.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct engine;
struct nft_change;
struct nft_monitor;
struct nft_options;

struct links;

struct engine_options {
	const char *table;
	const char *state_dir;
	bool no_table_owner;	     /* a plain table, as on kernels without owner flags */
	unsigned int monitor_buffer; /* bytes for other processes' changes */
	const struct nft_options *nft;
	/* the host's interfaces: which are bridge ports (NULL: none is taken
	 * for one, and bridged containers' packets are dropped) */
	struct links *links;
};

/*
 * Load the state directory, make the kernel hold it in one transaction
 * and adopt the table. Returns 0, or a negative errno with a message
 * logged (a state file that does not parse stops the start: the agent
 * never guesses a firewall).
 */
int engine_start(const struct engine_options *o, struct engine **ret);
/* The host's interfaces are not followed any longer: no port is taken for a bridge's. */
void engine_forget_links(struct engine *e);
/* Free e (NULL: nothing); the table stays in force (persist) as the socket closes. */
void engine_stop(struct engine *e);
/* Announcements of other processes' changes to the table, for the reconciler (e owns it). */
struct nft_monitor *engine_monitor(const struct engine *e);

/* repair.c: putting the kernel right, as the reconciler (reconcile.c) asks. */

/*
 * A reconciler pass: read the kernel and send it what differs from the
 * desired state, in one transaction; why names the occasion in the log.
 * Unless force, a pass whose generation has not moved since the kernel
 * last held the desired state reads nothing. Returns the number of
 * messages sent (0: the kernel held it), or a negative errno.
 */
int engine_reconcile(struct engine *e, const char *why, bool force);
/*
 * Put right what other processes changed, as announced in ch: each
 * container they touched is read and rewritten on its own (at a cost
 * that does not grow with the table); a change to anything else, or
 * one that cannot be tied to a container, takes a full pass. Returns
 * what engine_reconcile() does.
 */
int engine_repair(struct engine *e, const struct nft_change *ch, size_t n, const char *why);
/*
 * Other processes' commits (their generations, in order) that were
 * announced without a change to the table: if the kernel held the
 * desired state before them, it still does, and a timer pass reads
 * nothing. A generation missing from the sequence (an announcement not
 * heard) leaves the next pass to read the table.
 */
void engine_commits_elsewhere(struct engine *e, const uint32_t *genids, size_t n);

#endif
