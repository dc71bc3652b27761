/*
 * The desired state on disk: one file per container, two slots each.
 *
 * A slot is a 32-byte header and the container's JSON:
 *
 *	 0  "HFWSTAT1"		magic and format version
 *	 8  le32 slot size	bytes, a multiple of 4096; the file is two slots
 *	12  le32 length		of the JSON
 *	16  le64 sequence	one more than the other slot's when written
 *	24  le32 crc32		zlib's, of bytes 8-23 and then the JSON
 *	28  le32 0
 *
 * Both slots are written out in full (zeros where unused) when the file
 * is made, so that a later change overwrites blocks the file already
 * has: no allocation, so no ENOSPC and no journal commit on the way.
 */

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <zlib.h>

#include "agentd/store.h"
#include "rules/rules.h"

#define STORE_SUBDIR "containers"
#define STORE_SUFFIX ".state"
#define STORE_TMP_SUFFIX ".state.tmp"
#define STORE_MAGIC "HFWSTAT1"
#define STORE_HDR 32u
#define STORE_BLOCK 4096u
/* The largest container the rules allow (RULES_PER_CONTAINER_MAX rules,
 * each with a description of RULES_DESC_MAX bytes) fits with room to spare. */
#define STORE_PAYLOAD_MAX (4u << 20)
/* room for the largest payload and half as much again */
#define STORE_SLOT_MAX (8u << 20)
/* changes of several containers, until every one is committed */
#define STORE_JOURNAL "host.journal"
#define STORE_JOURNAL_TMP "host.journal.tmp"
#define STORE_JOURNAL_MAGIC "HFWJRNL1"

struct store {
	int dfd;      /* DIR/containers */
	int tfd;      /* DIR */
	bool created; /* DIR/containers did not exist */
	char dir[PATH_MAX];
};

struct store_staged {
	char file[RULES_ID_MAX + 16];
	char tmp[RULES_ID_MAX + 16];
	uint8_t *slot; /* in place: the slot to write at off; NULL: rename tmp */
	size_t n;
	off_t off;
};

/* 1 when made, 0 when it was there */
static int
mkdir_at(int at, const char *path)
{
	if (mkdirat(at, path, 0700) == 0)
		return 1;
	return errno == EEXIST ? 0 : -errno;
}

static bool
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcmp(s + n - m, suffix) == 0;
}

/* Temporaries are what a crash between stage and commit leaves behind. */
static void
remove_temporaries(struct store *s)
{
	int fd = dup(s->dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	/* the dup shares its position with every other reader of dfd */
	rewinddir(d);
	while ((de = readdir(d)) != NULL)
		if (has_suffix(de->d_name, STORE_TMP_SUFFIX))
			unlinkat(s->dfd, de->d_name, 0);
	closedir(d);
}

static int journal_finish(struct store *s);

int
store_open(const char *dir, struct store **ret)
{
	struct store *s;
	int top = -1, r;

	if (strlen(dir) >= sizeof(s->dir))
		return -ENAMETOOLONG;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->dfd = -1;
	s->tfd = -1;
	strcpy(s->dir, dir);
	r = mkdir_at(AT_FDCWD, dir);
	if (r >= 0) {
		top = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		r = top < 0 ? -errno : mkdir_at(top, STORE_SUBDIR);
		s->created = r == 1;
	}
	if (r >= 0) {
		s->dfd = openat(top, STORE_SUBDIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		r = s->dfd < 0 ? -errno : 0;
	}
	if (r >= 0 && fsync(top) < 0)
		r = -errno;
	s->tfd = top;
	if (r >= 0) {
		remove_temporaries(s);
		r = journal_finish(s);
	}
	if (r < 0) {
		store_close(s);
		return r;
	}
	*ret = s;
	return 0;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->dfd >= 0)
		close(s->dfd);
	if (s->tfd >= 0)
		close(s->tfd);
	free(s);
}

const char *
store_dir(const struct store *s)
{
	return s->dir;
}

bool
store_created(const struct store *s)
{
	return s->created;
}

static int
pread_full(int fd, void *buf, size_t n, off_t off)
{
	size_t done = 0;

	while (done < n) {
		ssize_t k = pread(fd, (char *)buf + done, n - done, off + (off_t)done);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		done += (size_t)k;
	}
	return 0;
}

static int
pwrite_full(int fd, const void *buf, size_t n, off_t off)
{
	size_t done = 0;

	while (done < n) {
		ssize_t k = pwrite(fd, (const char *)buf + done, n - done, off + (off_t)done);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		done += (size_t)k;
	}
	return 0;
}

static uint32_t
slot_crc(const uint8_t *hdr, const void *payload, size_t len)
{
	uLong c = crc32(0, hdr + 8, 16);

	return (uint32_t)crc32(c, payload, (uInt)len);
}

/* Header and payload into dst, which has STORE_HDR + len bytes. */
static void
slot_encode(uint8_t *dst, uint32_t size, uint64_t seq, const char *payload, size_t len)
{
	uint32_t v32;
	uint64_t v64;

	memcpy(dst, STORE_MAGIC, 8);
	v32 = htole32(size);
	memcpy(dst + 8, &v32, 4);
	v32 = htole32((uint32_t)len);
	memcpy(dst + 12, &v32, 4);
	v64 = htole64(seq);
	memcpy(dst + 16, &v64, 8);
	v32 = htole32(slot_crc(dst, payload, len));
	memcpy(dst + 24, &v32, 4);
	memset(dst + 28, 0, 4);
	memcpy(dst + STORE_HDR, payload, len);
}

struct slot_hdr {
	uint32_t len, crc;
	uint64_t seq;
	bool whole; /* magic, size and length fit the file (and, once checked, the crc) */
};

static struct slot_hdr
slot_hdr_parse(const uint8_t *h, uint32_t size)
{
	struct slot_hdr sh = {0};
	uint32_t v32;
	uint64_t v64;

	memcpy(&v32, h + 8, 4);
	sh.whole = memcmp(h, STORE_MAGIC, 8) == 0 && le32toh(v32) == size;
	memcpy(&v32, h + 12, 4);
	sh.len = le32toh(v32);
	memcpy(&v64, h + 16, 8);
	sh.seq = le64toh(v64);
	memcpy(&v32, h + 24, 4);
	sh.crc = le32toh(v32);
	sh.whole = sh.whole && sh.len <= size - STORE_HDR && sh.len <= STORE_PAYLOAD_MAX;
	return sh;
}

/* What a file holds: its current slot and that slot's JSON. */
struct current {
	uint32_t size;
	int slot;
	uint64_t seq;
	char *buf; /* NUL-terminated */
	size_t len;
};

/*
 * Read the file's current slot into c. -EBADMSG (and the reason in
 * *problem) when the file is not a state file or no slot is intact.
 */
static int
file_current(int fd, struct current *c, const char **problem)
{
	struct slot_hdr sh[2], other;
	struct stat st;
	uint8_t *file;
	int first, k, r;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size < 2 * STORE_BLOCK ||
	    st.st_size % (2 * STORE_BLOCK) != 0 || st.st_size > 2 * (off_t)STORE_SLOT_MAX) {
		*problem = "not a state file (its size is not that of two slots)";
		return -EBADMSG;
	}
	c->size = (uint32_t)(st.st_size / 2);
	/* one read: the file is small, and its page cache is all it costs */
	file = malloc((size_t)st.st_size);
	if (file == NULL)
		return -ENOMEM;
	r = pread_full(fd, file, (size_t)st.st_size, 0);
	if (r < 0) {
		free(file);
		return r;
	}
	for (k = 0; k < 2; k++) {
		const uint8_t *h = file + (size_t)k * c->size;

		sh[k] = slot_hdr_parse(h, c->size);
		sh[k].whole = sh[k].whole && slot_crc(h, h + STORE_HDR, sh[k].len) == sh[k].crc;
	}
	if (!sh[0].whole && !sh[1].whole) {
		free(file);
		*problem = "no intact copy of the state (both slots fail their checksum)";
		return -EBADMSG;
	}
	first = sh[1].whole && (!sh[0].whole || sh[1].seq > sh[0].seq);
	other = slot_hdr_parse(file + (size_t)!first * c->size, c->size);
	/* a write that never finished: the change it carried was never answered */
	if (other.whole && other.seq > sh[first].seq)
		*problem = "the newest copy is torn (a change being written when the agent "
			   "stopped); the one before it stands";
	c->slot = first;
	c->seq = sh[first].seq;
	c->len = sh[first].len;
	/* the JSON to the front; the slot's size leaves room for the NUL */
	memmove(file, file + (size_t)first * c->size + STORE_HDR, c->len);
	file[c->len] = '\0';
	c->buf = (char *)file;
	return 0;
}

int
store_load(struct store *s,
	   int (*cb)(const char *id, const char *buf, size_t len, const char *path,
		     const char *problem, void *data),
	   void *data)
{
	int fd = dup(s->dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	int r = 0;

	if (d == NULL) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		return r;
	}
	rewinddir(d);
	while (r >= 0 && (errno = 0, de = readdir(d)) != NULL) {
		char id[NAME_MAX + 1], path[PATH_MAX + NAME_MAX + 16];
		size_t n = strlen(de->d_name);
		const char *problem = NULL;
		struct current c = {0};
		int ffd;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/" STORE_SUBDIR "/%s", s->dir, de->d_name);
		if (!has_suffix(de->d_name, STORE_SUFFIX)) {
			/* a file the agent did not write may be state it cannot read */
			r = cb(de->d_name, NULL, 0, path,
			       "not a state file of this agent (expected <id>" STORE_SUFFIX ")",
			       data);
			continue;
		}
		memcpy(id, de->d_name, n - strlen(STORE_SUFFIX));
		id[n - strlen(STORE_SUFFIX)] = '\0';
		if (!rules_id_valid(id)) {
			r = cb(id, NULL, 0, path, "the file name is not a valid container id",
			       data);
			continue;
		}
		ffd = openat(s->dfd, de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		r = ffd < 0 ? -errno : file_current(ffd, &c, &problem);
		if (ffd >= 0)
			close(ffd);
		if (r == 0)
			r = cb(id, c.buf, c.len, path, problem, data);
		else if (r == -EBADMSG)
			r = cb(id, NULL, 0, path, problem, data);
		free(c.buf);
	}
	if (r >= 0 && errno != 0)
		r = -errno;
	closedir(d);
	return r < 0 ? r : 0;
}

/* A new file of two slots under st->tmp, slot 0 holding buf, synced. */
static int
write_new(struct store *s, struct store_staged *st, uint64_t seq, const char *buf, size_t len)
{
	static const uint8_t zeros[STORE_BLOCK];
	/* room to grow by half before the file has to be made anew */
	uint32_t size = (uint32_t)((STORE_HDR + len + len / 2 + STORE_BLOCK - 1) / STORE_BLOCK *
				   STORE_BLOCK);
	size_t n = STORE_HDR + len;
	uint8_t *slot = malloc(n);
	off_t off;
	int fd, r;

	if (slot == NULL)
		return -ENOMEM;
	slot_encode(slot, size, seq, buf, len);
	fd = openat(s->dfd, st->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	r = fd < 0 ? -errno : pwrite_full(fd, slot, n, 0);
	free(slot);
	for (off = (off_t)n; r == 0 && off < 2 * (off_t)size; off += (off_t)sizeof(zeros)) {
		size_t k = (size_t)(2 * (off_t)size - off);

		r = pwrite_full(fd, zeros, k < sizeof(zeros) ? k : sizeof(zeros), off);
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (fd >= 0)
		close(fd);
	if (r < 0)
		unlinkat(s->dfd, st->tmp, 0);
	return r;
}

int
store_stage(struct store *s, const char *id, const char *buf, size_t len, struct store_staged **ret)
{
	struct store_staged *st;
	const char *problem = NULL;
	struct current c = {0};
	int fd, r = 0;

	if (strlen(id) > RULES_ID_MAX)
		return -EINVAL;
	if (len > STORE_PAYLOAD_MAX)
		return -EFBIG;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return -ENOMEM;
	snprintf(st->file, sizeof(st->file), "%s" STORE_SUFFIX, id);
	snprintf(st->tmp, sizeof(st->tmp), "%s" STORE_TMP_SUFFIX, id);
	fd = openat(s->dfd, st->file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno != ENOENT)
		r = -errno;
	if (fd >= 0) {
		r = file_current(fd, &c, &problem);
		close(fd);
		free(c.buf);
		/* a file without an intact slot is replaced whole */
		if (r == -EBADMSG)
			r = 0;
	}
	if (r == 0 && c.size > 0 && len <= c.size - STORE_HDR) {
		st->n = STORE_HDR + len;
		st->off = (off_t)(1 - c.slot) * c.size;
		st->slot = malloc(st->n);
		if (st->slot == NULL)
			r = -ENOMEM;
		else
			slot_encode(st->slot, c.size, c.seq + 1, buf, len);
	} else if (r == 0) {
		r = write_new(s, st, c.seq + 1, buf, len);
	}
	if (r < 0) {
		free(st->slot);
		free(st);
		return r;
	}
	*ret = st;
	return 0;
}

int
store_commit(struct store *s, struct store_staged *st)
{
	int fd, r;

	if (st->slot != NULL) {
		fd = openat(s->dfd, st->file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
		r = fd < 0 ? -errno : pwrite_full(fd, st->slot, st->n, st->off);
		/* fdatasync: the blocks are the file's already, no metadata to wait for */
		if (r == 0 && fdatasync(fd) < 0)
			r = -errno;
		/* what reached the page cache must not pass for the state later */
		if (r < 0 && fd >= 0)
			(void)pwrite_full(fd, (const uint8_t[STORE_HDR]){0}, STORE_HDR, st->off);
		if (fd >= 0)
			close(fd);
	} else if (renameat(s->dfd, st->tmp, s->dfd, st->file) < 0) {
		r = -errno;
		unlinkat(s->dfd, st->tmp, 0);
	} else {
		/* the rename is durable only once the directory is */
		r = fsync(s->dfd) < 0 ? -errno : 0;
	}
	free(st->slot);
	free(st);
	return r;
}

void
store_abort(struct store *s, struct store_staged *st)
{
	if (st == NULL)
		return;
	if (st->slot == NULL)
		unlinkat(s->dfd, st->tmp, 0);
	free(st->slot);
	free(st);
}

int
store_remove(struct store *s, const char *id)
{
	char file[RULES_ID_MAX + 16];

	snprintf(file, sizeof(file), "%s" STORE_SUFFIX, id);
	if (unlinkat(s->dfd, file, 0) < 0 && errno != ENOENT)
		return -errno;
	return fsync(s->dfd) < 0 ? -errno : 0;
}

struct timespec
store_written(struct store *s, const char *id)
{
	char file[RULES_ID_MAX + 16];
	struct stat st;

	snprintf(file, sizeof(file), "%s" STORE_SUFFIX, id);
	if (fstatat(s->dfd, file, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return (struct timespec){0, 0};
	return st.st_mtim;
}

/*
 * The journal: magic, le32 count, then per change le16 id length, the
 * id, u8 1 (write) or 0 (remove), le32 length and the text; last the
 * crc32 of all before it. Written whole under a temporary name, synced
 * and renamed into place: it is there whole or not at all.
 */
static int
journal_append(uint8_t **buf, size_t *n, size_t *cap, const void *p, size_t len)
{
	if (*n + len > *cap) {
		size_t c = *cap ? *cap : 4096;
		uint8_t *b;

		while (c < *n + len)
			c *= 2;
		b = realloc(*buf, c);
		if (b == NULL)
			return -ENOMEM;
		*buf = b;
		*cap = c;
	}
	memcpy(*buf + *n, p, len);
	*n += len;
	return 0;
}

int
store_journal(struct store *s, const struct store_entry *v, size_t nv)
{
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0, i;
	uint32_t v32 = htole32((uint32_t)nv);
	int fd = -1, r;

	r = journal_append(&buf, &n, &cap, STORE_JOURNAL_MAGIC, 8);
	if (r == 0)
		r = journal_append(&buf, &n, &cap, &v32, 4);
	for (i = 0; i < nv && r == 0; i++) {
		uint16_t idlen = htole16((uint16_t)strlen(v[i].id));
		uint8_t op = v[i].buf != NULL;
		uint32_t len = htole32((uint32_t)v[i].len);

		r = journal_append(&buf, &n, &cap, &idlen, 2);
		if (r == 0)
			r = journal_append(&buf, &n, &cap, v[i].id, strlen(v[i].id));
		if (r == 0)
			r = journal_append(&buf, &n, &cap, &op, 1);
		if (r == 0 && op)
			r = journal_append(&buf, &n, &cap, &len, 4);
		if (r == 0 && op)
			r = journal_append(&buf, &n, &cap, v[i].buf, v[i].len);
	}
	v32 = htole32((uint32_t)crc32(0, buf, (uInt)n));
	if (r == 0)
		r = journal_append(&buf, &n, &cap, &v32, 4);
	if (r == 0) {
		fd = openat(s->tfd, STORE_JOURNAL_TMP,
			    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
		r = fd < 0 ? -errno : pwrite_full(fd, buf, n, 0);
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (fd >= 0)
		close(fd);
	if (r == 0 && renameat(s->tfd, STORE_JOURNAL_TMP, s->tfd, STORE_JOURNAL) < 0)
		r = -errno;
	if (r == 0 && fsync(s->tfd) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(s->tfd, STORE_JOURNAL_TMP, 0);
	free(buf);
	return r;
}

int
store_journal_done(struct store *s)
{
	/* none there is done, also on a disk that refuses every unlink */
	if (faccessat(s->tfd, STORE_JOURNAL, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
		return 0;
	if (unlinkat(s->tfd, STORE_JOURNAL, 0) < 0)
		return errno == ENOENT ? 0 : -errno;
	return fsync(s->tfd) < 0 ? -errno : 0;
}

/* Commit one change the journal holds. */
static int
journal_apply(struct store *s, const char *id, const uint8_t *text, size_t len, bool write)
{
	struct store_staged *st;
	int r;

	if (!write)
		return store_remove(s, id);
	r = store_stage(s, id, (const char *)text, len, &st);
	return r < 0 ? r : store_commit(s, st);
}

/*
 * Walk the journal in j[0..n) (its crc checked), committing each change
 * when apply: -EBADMSG when it is not one.
 */
static int
journal_walk(struct store *s, const uint8_t *j, size_t n, bool apply)
{
	size_t off = 12, i, count;
	uint32_t v32;
	int r = 0;

	memcpy(&v32, j + 8, 4);
	count = le32toh(v32);
	for (i = 0; i < count && r == 0; i++) {
		char id[RULES_ID_MAX + 1];
		uint16_t idlen;
		uint32_t len = 0;
		bool write;

		if (n - off < 3)
			return -EBADMSG;
		memcpy(&idlen, j + off, 2);
		idlen = le16toh(idlen);
		if (idlen == 0 || idlen > RULES_ID_MAX || n - off - 2 < (size_t)idlen + 1)
			return -EBADMSG;
		memcpy(id, j + off + 2, idlen);
		id[idlen] = '\0';
		off += 2 + idlen;
		write = j[off++] == 1;
		if (write) {
			if (n - off < 4)
				return -EBADMSG;
			memcpy(&len, j + off, 4);
			len = le32toh(len);
			off += 4;
			if (n - off < len || len > STORE_PAYLOAD_MAX)
				return -EBADMSG;
		}
		if (!rules_id_valid(id))
			return -EBADMSG;
		if (apply)
			r = journal_apply(s, id, j + off, len, write);
		off += len;
	}
	return r < 0 ? r : off == n ? 0 : -EBADMSG;
}

/*
 * A journal left by a stop before all its changes were committed: they
 * were meant to land together, and the kernel may hold them already;
 * commit them all now, then drop it. One that is not whole was never
 * renamed into place: nothing of it was committed.
 */
static int
journal_finish(struct store *s)
{
	int fd = openat(s->tfd, STORE_JOURNAL, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	uint8_t *j = NULL;
	uint32_t crc;
	int r;

	unlinkat(s->tfd, STORE_JOURNAL_TMP, 0);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	r = fstat(fd, &st) < 0 ? -errno : 0;
	if (r == 0 && (st.st_size < 16 || st.st_size > (off_t)1 << 30))
		r = -EBADMSG;
	if (r == 0)
		r = (j = malloc((size_t)st.st_size)) == NULL ? -ENOMEM : 0;
	if (r == 0)
		r = pread_full(fd, j, (size_t)st.st_size, 0);
	close(fd);
	if (r == 0) {
		size_t n = (size_t)st.st_size - 4;

		memcpy(&crc, j + n, 4);
		if (memcmp(j, STORE_JOURNAL_MAGIC, 8) != 0 || le32toh(crc) != crc32(0, j, (uInt)n))
			r = -EBADMSG;
		/* checked whole before the first change is committed */
		if (r == 0)
			r = journal_walk(s, j, n, false);
		if (r == 0)
			r = journal_walk(s, j, n, true);
	}
	free(j);
	return r < 0 ? r : store_journal_done(s);
}
