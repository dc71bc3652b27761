#ifndef AGENTD_STORE_H
#define AGENTD_STORE_H

/*
 * store: the desired state on disk, one file per container
 * (DIR/containers/<id>.state), changed atomically and durably.
 *
 * A file holds two slots of equal size, each a checksummed copy of the
 * container's JSON with a sequence number; the intact copy with the
 * higher number is the state. A change overwrites the other slot in
 * place and syncs its data: one write, one fdatasync, no metadata, so
 * nothing else on the disk is waited for. A crash or a failed write
 * mid-slot leaves that slot failing its checksum and the old state
 * standing. A new file, or one whose slots are too small for the change,
 * is written whole under a temporary name and renamed into place.
 *
 * A change is staged before the kernel is changed (everything that
 * needs room on the disk happens then, so a full disk refuses the
 * change before the kernel sees it) and committed after it (the slot
 * write or the rename: the change's point of no return), so that the
 * file never claims more than the kernel was told.
 */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct store;
struct store_staged;

/*
 * Create DIR (mode 0700) and DIR/containers when missing, and remove stale
 * temporaries. Returns 0 with *ret owning the store, or a negative errno.
 */
int store_open(const char *dir, struct store **ret);
/* Close s (NULL: nothing). */
void store_close(struct store *s);
/* DIR as given to store_open(), for messages; s owns it. */
const char *store_dir(const struct store *s);
/* store_open() made the directory: there was no state before. */
bool store_created(const struct store *s);

/*
 * Call cb with every container's id and the contents of its file's
 * current slot, and a note when the newest slot was torn. A file that
 * cannot be used (a name that is no valid id, no intact slot) is
 * reported through cb with a NULL buf and the problem. Stops at and
 * returns cb's first negative return.
 */
int store_load(struct store *s,
	       int (*cb)(const char *id, const char *buf, size_t len, const char *path,
			 const char *problem, void *data),
	       void *data);

/*
 * Make buf container id's next state, in two steps: _stage does what can
 * fail for lack of room and changes nothing anyone reads; _commit makes
 * it the state, durably. Either frees *st, and so does _abort, which
 * drops a staged change (NULL: nothing to drop). On failure the old
 * state stands.
 */
int store_stage(struct store *s, const char *id, const char *buf, size_t len,
		struct store_staged **ret);
int store_commit(struct store *s, struct store_staged *st);
void store_abort(struct store *s, struct store_staged *st);
/*
 * Changes of several containers that must land together, even across a
 * crash (a redo record): store_journal() makes what they are durable
 * (each entry an id and the text of its next state, or NULL for a
 * removal) before the first of them is committed, store_journal_done()
 * drops it once all are. store_open() commits the changes of a journal
 * it finds before anything is loaded.
 */
struct store_entry {
	const char *id;
	const char *buf; /* NULL: the container goes */
	size_t len;
};
int store_journal(struct store *s, const struct store_entry *v, size_t n);
int store_journal_done(struct store *s);
/* Remove container id's file (gone already: 0). */
int store_remove(struct store *s, const char *id);
/* When container id's file was last written ({0, 0}: no file). */
struct timespec store_written(struct store *s, const char *id);

#endif
