/* The desired state on disk: one JSON file per container. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "agentd/store.h"
#include "rules/rules.h"

#define STORE_SUBDIR "containers"
#define STORE_SUFFIX ".json"
#define STORE_TMP_SUFFIX ".json.tmp"
/* One container with 1024 rules of 256-byte descriptions is under 1 MiB. */
#define STORE_FILE_MAX (4u << 20)

/*
 * The syncer: one thread that fsyncs a staged file while the caller
 * commits to the kernel. Changes are serialised, so one file at most
 * is in its hands.
 */
struct syncer {
	pthread_t tid;
	bool running;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int fd;	   /* to fsync and close; -1 when none */
	bool done; /* the last one's result is in r */
	bool stop;
	int r;
};

struct store {
	int dfd;      /* DIR/containers */
	bool created; /* DIR/containers did not exist */
	char dir[PATH_MAX];
	struct syncer sy;
};

static int
sync_close(int fd)
{
	int r = fsync(fd) < 0 ? -errno : 0;

	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

static void *
syncer_run(void *arg)
{
	struct syncer *sy = arg;

	pthread_mutex_lock(&sy->lock);
	for (;;) {
		int fd, r;

		while (sy->fd < 0 && !sy->stop)
			pthread_cond_wait(&sy->cond, &sy->lock);
		if (sy->fd < 0)
			break;
		fd = sy->fd;
		pthread_mutex_unlock(&sy->lock);
		r = sync_close(fd);
		pthread_mutex_lock(&sy->lock);
		sy->fd = -1;
		sy->r = r;
		sy->done = true;
		pthread_cond_broadcast(&sy->cond);
	}
	pthread_mutex_unlock(&sy->lock);
	return NULL;
}

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
	s->sy.fd = -1;
	pthread_mutex_init(&s->sy.lock, NULL);
	pthread_cond_init(&s->sy.cond, NULL);
	/* without the thread, staging syncs in the caller */
	s->sy.running = pthread_create(&s->sy.tid, NULL, syncer_run, &s->sy) == 0;
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
	if (top >= 0)
		close(top);
	if (r < 0) {
		store_close(s);
		return r;
	}
	remove_temporaries(s);
	*ret = s;
	return 0;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->sy.running) {
		pthread_mutex_lock(&s->sy.lock);
		s->sy.stop = true;
		pthread_cond_broadcast(&s->sy.cond);
		pthread_mutex_unlock(&s->sy.lock);
		pthread_join(s->sy.tid, NULL);
	}
	pthread_cond_destroy(&s->sy.cond);
	pthread_mutex_destroy(&s->sy.lock);
	if (s->dfd >= 0)
		close(s->dfd);
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
read_file(int dfd, const char *name, char **ret_buf, size_t *ret_len)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	size_t len = 0;
	char *buf;
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = -EINVAL;
	else if ((size_t)st.st_size > STORE_FILE_MAX)
		r = -EFBIG;
	if (r < 0) {
		close(fd);
		return r;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

int
store_load(struct store *s,
	   int (*cb)(const char *id, const char *buf, size_t len, const char *path, void *data),
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
		size_t n = strlen(de->d_name), len = 0;
		char *buf = NULL;

		if (!has_suffix(de->d_name, STORE_SUFFIX))
			continue;
		snprintf(path, sizeof(path), "%s/" STORE_SUBDIR "/%s", s->dir, de->d_name);
		memcpy(id, de->d_name, n - strlen(STORE_SUFFIX));
		id[n - strlen(STORE_SUFFIX)] = '\0';
		if (!rules_id_valid(id)) {
			r = cb(id, NULL, 0, path, data);
			continue;
		}
		r = read_file(s->dfd, de->d_name, &buf, &len);
		if (r == 0)
			r = cb(id, buf, len, path, data);
		free(buf);
	}
	if (r >= 0 && errno != 0)
		r = -errno;
	closedir(d);
	return r < 0 ? r : 0;
}

static void
names(const char *id, char file[RULES_ID_MAX + 16], char tmp[RULES_ID_MAX + 16])
{
	snprintf(file, RULES_ID_MAX + 16, "%s" STORE_SUFFIX, id);
	snprintf(tmp, RULES_ID_MAX + 16, "%s" STORE_TMP_SUFFIX, id);
}

/* Write the temporary file; its open descriptor in *ret_fd. */
static int
stage_write(struct store *s, const char *id, const char *buf, size_t len, int *ret_fd)
{
	char file[RULES_ID_MAX + 16], tmp[RULES_ID_MAX + 16];
	size_t off = 0;
	int fd, r = 0;

	names(id, file, tmp);
	fd = openat(s->dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	while (off < len && r == 0) {
		ssize_t n = write(fd, buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r = -errno;
		else
			off += (size_t)n;
	}
	if (r < 0) {
		close(fd);
		unlinkat(s->dfd, tmp, 0);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

int
store_stage(struct store *s, const char *id, const char *buf, size_t len)
{
	int fd, r = stage_write(s, id, buf, len, &fd);

	if (r == 0)
		r = sync_close(fd);
	if (r < 0)
		store_abort(s, id);
	return r;
}

int
store_stage_start(struct store *s, const char *id, const char *buf, size_t len)
{
	int fd, r = stage_write(s, id, buf, len, &fd);

	if (r < 0)
		return r;
	pthread_mutex_lock(&s->sy.lock);
	if (s->sy.running) {
		s->sy.fd = fd;
		s->sy.done = false;
		pthread_cond_broadcast(&s->sy.cond);
	} else {
		s->sy.r = sync_close(fd);
		s->sy.done = true;
	}
	pthread_mutex_unlock(&s->sy.lock);
	return 0;
}

int
store_stage_finish(struct store *s, const char *id)
{
	int r;

	pthread_mutex_lock(&s->sy.lock);
	while (!s->sy.done)
		pthread_cond_wait(&s->sy.cond, &s->sy.lock);
	r = s->sy.r;
	pthread_mutex_unlock(&s->sy.lock);
	if (r < 0)
		store_abort(s, id);
	return r;
}

int
store_commit(struct store *s, const char *id)
{
	char file[RULES_ID_MAX + 16], tmp[RULES_ID_MAX + 16];

	names(id, file, tmp);
	if (renameat(s->dfd, tmp, s->dfd, file) < 0) {
		int r = -errno;

		unlinkat(s->dfd, tmp, 0);
		return r;
	}
	/* the rename is durable only once the directory is */
	return fsync(s->dfd) < 0 ? -errno : 0;
}

void
store_abort(struct store *s, const char *id)
{
	char file[RULES_ID_MAX + 16], tmp[RULES_ID_MAX + 16];

	names(id, file, tmp);
	unlinkat(s->dfd, tmp, 0);
}

int
store_remove(struct store *s, const char *id)
{
	char file[RULES_ID_MAX + 16], tmp[RULES_ID_MAX + 16];

	names(id, file, tmp);
	if (unlinkat(s->dfd, file, 0) < 0 && errno != ENOENT)
		return -errno;
	return fsync(s->dfd) < 0 ? -errno : 0;
}
