#ifndef AGENTD_STORE_H
#define AGENTD_STORE_H

/*
 * store: the desired state on disk, one file per container
 * (DIR/containers/<id>.json), replaced atomically and durably.
 *
 * A write is staged (a temporary file written and fsync'd) before the
 * kernel is changed and committed (renamed over the old file, directory
 * fsync'd) after it, so that a failure at any step leaves either the
 * old file or the new one, never a mix, and never a file that claims
 * more than the kernel was told.
 */

#include <stdbool.h>
#include <stddef.h>

struct store;

/* Create DIR (mode 0700) and DIR/containers when missing, and remove stale temporaries. */
int store_open(const char *dir, struct store **ret);
void store_close(struct store *s);
const char *store_dir(const struct store *s);
/* store_open() made the directory: there was no state before. */
bool store_created(const struct store *s);

/*
 * Call cb with every container file's id and contents. A file whose
 * name is not a valid id is skipped and reported through cb with a
 * NULL buf. Stops at and returns cb's first negative return.
 */
int store_load(struct store *s,
	       int (*cb)(const char *id, const char *buf, size_t len, const char *path, void *data),
	       void *data);

int store_stage(struct store *s, const char *id, const char *buf, size_t len);
/*
 * store_stage() in two halves, so that the file reaches the disk while
 * the caller commits to the kernel: _start writes the temporary file and
 * hands its fsync to the store's thread, _finish waits for it (and
 * removes the file when it failed). One staged file at a time.
 */
int store_stage_start(struct store *s, const char *id, const char *buf, size_t len);
int store_stage_finish(struct store *s, const char *id);
int store_commit(struct store *s, const char *id);
void store_abort(struct store *s, const char *id);
int store_remove(struct store *s, const char *id);

#endif
