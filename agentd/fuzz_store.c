/*
 * libFuzzer target for the state files (store.c) and what the agent
 * makes of them at its start (rules_state_parse()). The first byte
 * says how the rest is used:
 *
 * even: it is a file in the state directory, as a crash, a full disk
 *   or someone's editor may have left it; bit 1 pads it with zeros to
 *   the size of two slots, so that the fuzzer works on the contents.
 * odd: [u16 split][u32 where][u8 xor] then a payload: its first split
 *   bytes A and the rest B are written as two changes, and the byte at
 *   where (modulo the file's size) is then changed by xor, as a torn
 *   write or a bad sector would. The load must find B, or A when B's
 *   copy is the damaged one, or nothing usable; never anything else.
 *   With bit 2 too (5): the rest is a journal of a change of several
 *   containers left by a stop (DIR/host.journal), and the store is
 *   opened anew: one that is not whole changes no file and stops the
 *   open; one that is, is committed and gone.
 *
 * It works in a directory of its own under /dev/shm.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "agentd/store.h"
#include "rules/rules.h"

#define FILE_NAME "c1.state"
#define SLOTS_BLOCK 8192 /* two slots of 4096 bytes: the smallest state file */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct store *store;
static char dir[64] = "/dev/shm/hfw-fuzz-store-XXXXXX";
static int containers = -1; /* dir/containers */
static char journal[sizeof(dir) + 16];

struct loaded {
	int calls;
	char *buf; /* the last file's contents, or NULL when it was unusable */
	size_t len;
};

static int
load_cb(const char *id, const char *buf, size_t len, const char *path, const char *problem,
	void *data)
{
	struct loaded *l = data;
	struct rules_container c = {0};
	struct rules_error re;
	uint64_t rev;

	(void)path;
	(void)problem;
	if (strcmp(id, "c1") != 0)
		abort(); /* no other file is there */
	l->calls++;
	free(l->buf);
	l->buf = NULL;
	if (buf == NULL)
		return 0;
	if (buf[len] != '\0')
		abort(); /* the contents come NUL-terminated */
	if (rules_state_parse(buf, len, id, &c, &rev, &re) == 0)
		rules_container_clear(&c);
	l->buf = malloc(len + 1);
	if (l->buf == NULL)
		abort();
	memcpy(l->buf, buf, len + 1);
	l->len = len;
	return 0;
}

static struct loaded
load(void)
{
	struct loaded l = {0};

	if (store_load(store, load_cb, &l) < 0 || l.calls != 1)
		abort();
	return l;
}

static bool
holds(const struct loaded *l, const uint8_t *p, size_t n)
{
	return l->buf != NULL && l->len == n && memcmp(l->buf, p, n) == 0;
}

static void
as_file(const uint8_t *d, size_t n, bool pad)
{
	size_t size = pad ? (n + SLOTS_BLOCK - 1) / SLOTS_BLOCK * SLOTS_BLOCK : n;
	int fd = openat(containers, FILE_NAME, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	struct loaded l;

	if (fd < 0 || write(fd, d, n) != (ssize_t)n || ftruncate(fd, (off_t)size) < 0)
		abort();
	close(fd);
	l = load();
	free(l.buf);
}

static void
commit(const uint8_t *p, size_t n)
{
	struct store_staged *st;

	if (store_stage(store, "c1", (const char *)p, n, &st) < 0 || store_commit(store, st) < 0)
		abort();
}

static void
as_changes(const uint8_t *d, size_t n)
{
	size_t split, where;
	uint8_t xor, b;
	struct loaded l;
	struct stat sb;
	int fd;

	if (n < 7)
		return;
	split = (size_t)d[0] | (size_t)d[1] << 8;
	where = (size_t)d[2] | (size_t)d[3] << 8 | (size_t)d[4] << 16 | (size_t)d[5] << 24;
	xor = d[6];
	d += 7;
	n -= 7;
	split = split < n ? split : n;
	if (unlinkat(containers, FILE_NAME, 0) < 0 && errno != ENOENT)
		abort();
	commit(d, split);
	commit(d + split, n - split);
	fd = openat(containers, FILE_NAME, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0 || sb.st_size == 0)
		abort();
	where %= (size_t)sb.st_size;
	if (pread(fd, &b, 1, (off_t)where) != 1)
		abort();
	b ^= xor;
	if (pwrite(fd, &b, 1, (off_t)where) != 1)
		abort();
	close(fd);
	l = load();
	if (xor == 0 ? !holds(&l, d + split, n - split)
		     : !(l.buf == NULL || holds(&l, d + split, n - split) || holds(&l, d, split)))
		abort();
	free(l.buf);
}

/* What the start makes of any container's file. */
static int
any_cb(const char *id, const char *buf, size_t len, const char *path, const char *problem,
       void *data)
{
	struct rules_container c = {0};
	struct rules_error re;
	uint64_t rev;

	(void)path;
	(void)problem;
	(void)data;
	if (buf != NULL && rules_state_parse(buf, len, id, &c, &rev, &re) == 0)
		rules_container_clear(&c);
	return 0;
}

/*
 * Remove every container file (a journal may name any id); returns how
 * many there were.
 */
static int
clear_files(void)
{
	int fd = dup(containers), n = 0;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (d == NULL)
		abort();
	rewinddir(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && unlinkat(containers, de->d_name, 0) == 0)
			n++;
	closedir(d);
	return n;
}

/*
 * d as DIR/host.journal, a change of several containers cut short, and
 * the store opened anew: a journal that is not whole changes no file
 * and stops the open; one that is, is committed and gone.
 */
static void
as_journal(const uint8_t *d, size_t n)
{
	int fd, r;

	clear_files();
	store_close(store);
	store = NULL;
	fd = open(journal, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, d, n) != (ssize_t)n)
		abort();
	close(fd);
	r = store_open(dir, &store);
	if (r < 0 && clear_files() > 0)
		abort(); /* refused, yet it made files */
	if (r == 0 && access(journal, F_OK) == 0)
		abort(); /* committed, yet still there */
	if (r < 0 && (unlink(journal) < 0 || store_open(dir, &store) < 0))
		abort();
	if (store_load(store, any_cb, NULL) < 0)
		abort();
	clear_files();
}

static void
cleanup(void)
{
	char sub[sizeof(dir) + 16];

	snprintf(sub, sizeof(sub), "%s/containers", dir);
	unlinkat(containers, FILE_NAME, 0);
	store_close(store);
	rmdir(sub);
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char sub[sizeof(dir) + 16];

	(void)argc;
	(void)argv;
	if (mkdtemp(dir) == NULL || store_open(dir, &store) < 0) {
		perror(dir);
		exit(1);
	}
	snprintf(sub, sizeof(sub), "%s/containers", dir);
	snprintf(journal, sizeof(journal), "%s/host.journal", dir);
	containers = open(sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (containers < 0) {
		perror(sub);
		exit(1);
	}
	atexit(cleanup);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if ((data[0] & 5) == 5)
		as_journal(data + 1, size - 1);
	else if (data[0] & 1)
		as_changes(data + 1, size - 1);
	else
		as_file(data + 1, size - 1, data[0] & 2);
	return 0;
}
