/*
 * store: the two-slot state files on a real directory. What a change,
 * an abandoned change, a torn write and a damaged file leave behind.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <check.h>

#include "agentd/store.h"

struct seen {
	char id[64];
	char buf[32768];
	char problem[160];
	bool has_buf;
	int n;
};

static int
collect(const char *id, const char *buf, size_t len, const char *path, const char *problem,
	void *data)
{
	struct seen *s = data;

	(void)path;
	s->n++;
	snprintf(s->id, sizeof(s->id), "%s", id);
	s->has_buf = buf != NULL;
	snprintf(s->buf, sizeof(s->buf), "%.*s", buf ? (int)len : 0, buf ? buf : "");
	snprintf(s->problem, sizeof(s->problem), "%s", problem ? problem : "");
	return 0;
}

static char dir[64];
static char file[128];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/hfw-store-test.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/containers/c1.state", dir);
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct seen
load(struct store *s)
{
	struct seen seen = {0};

	ck_assert_int_eq(store_load(s, collect, &seen), 0);
	return seen;
}

static void
put(struct store *s, const char *id, const char *text)
{
	struct store_staged *st;

	ck_assert_int_eq(store_stage(s, id, text, strlen(text), &st), 0);
	ck_assert_int_eq(store_commit(s, st), 0);
}

static off_t
file_size(void)
{
	struct stat st;

	ck_assert_int_eq(stat(file, &st), 0);
	return st.st_size;
}

/* Flip one byte of the file at off. */
static void
damage(off_t off)
{
	int fd = open(file, O_RDWR);
	unsigned char b;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &b, 1, off), 1);
	b ^= 0x5a;
	ck_assert_int_eq(pwrite(fd, &b, 1, off), 1);
	close(fd);
}

START_TEST(store_changes_in_place)
{
	struct store *s;
	struct seen seen;
	off_t size;

	ck_assert_int_eq(store_open(dir, &s), 0);
	ck_assert(store_created(s));
	put(s, "c1", "{\"v\": 1}");
	size = file_size();
	ck_assert_int_eq(size % 8192, 0);
	put(s, "c1", "{\"v\": 2}");
	put(s, "c1", "{\"v\": 3}");
	/* the same file: no new one for a change that fits */
	ck_assert_int_eq(file_size(), size);
	seen = load(s);
	ck_assert_int_eq(seen.n, 1);
	ck_assert_str_eq(seen.id, "c1");
	ck_assert_str_eq(seen.buf, "{\"v\": 3}");
	ck_assert_str_eq(seen.problem, "");
	store_close(s);
	ck_assert_int_eq(store_open(dir, &s), 0);
	ck_assert(!store_created(s));
	ck_assert_str_eq(load(s).buf, "{\"v\": 3}");
	store_close(s);
}
END_TEST

START_TEST(store_abort_changes_nothing)
{
	struct store_staged *st;
	struct store *s;
	char big[6000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(store_open(dir, &s), 0);
	put(s, "c1", "{\"v\": 1}");
	/* in place and whole-file changes alike */
	ck_assert_int_eq(store_stage(s, "c1", "{\"v\": 2}", 8, &st), 0);
	store_abort(s, st);
	ck_assert_int_eq(store_stage(s, "c1", big, strlen(big), &st), 0);
	store_abort(s, st);
	ck_assert_str_eq(load(s).buf, "{\"v\": 1}");
	/* a new container staged and dropped leaves no file */
	ck_assert_int_eq(store_stage(s, "c2", "{}", 2, &st), 0);
	store_abort(s, st);
	ck_assert_int_eq(load(s).n, 1);
	store_close(s);
}
END_TEST

START_TEST(store_grows_the_file)
{
	struct seen seen;
	struct store *s;
	char big[20000];
	off_t size;

	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(store_open(dir, &s), 0);
	put(s, "c1", "{\"v\": 1}");
	size = file_size();
	put(s, "c1", big);
	ck_assert_int_gt(file_size(), size);
	seen = load(s);
	ck_assert_uint_eq(strlen(seen.buf), strlen(big));
	ck_assert(strcmp(seen.buf, big) == 0);
	/* and back down, in place */
	put(s, "c1", "{\"v\": 3}");
	ck_assert_str_eq(load(s).buf, "{\"v\": 3}");
	store_close(s);
}
END_TEST

START_TEST(store_torn_write_keeps_the_old_state)
{
	struct store *s;
	struct seen seen;
	off_t half;

	ck_assert_int_eq(store_open(dir, &s), 0);
	put(s, "c1", "{\"v\": 1}"); /* slot 0 */
	put(s, "c1", "{\"v\": 2}"); /* slot 1 */
	half = file_size() / 2;
	/* the newest slot's JSON torn: the one before stands, and says so */
	damage(half + 32 + 3);
	seen = load(s);
	ck_assert_str_eq(seen.buf, "{\"v\": 1}");
	ck_assert_ptr_nonnull(strstr(seen.problem, "torn"));
	/* the next change goes over the torn slot, not over the good one */
	put(s, "c1", "{\"v\": 3}");
	seen = load(s);
	ck_assert_str_eq(seen.buf, "{\"v\": 3}");
	ck_assert_str_eq(seen.problem, "");
	damage(half + 32 + 3);
	ck_assert_str_eq(load(s).buf, "{\"v\": 1}");
	/* both copies damaged: the file is refused, not guessed at */
	damage(32 + 3);
	seen = load(s);
	ck_assert(!seen.has_buf);
	ck_assert_ptr_nonnull(strstr(seen.problem, "no intact copy"));
	/* and a change replaces it whole */
	put(s, "c1", "{\"v\": 4}");
	ck_assert_str_eq(load(s).buf, "{\"v\": 4}");
	store_close(s);
}
END_TEST

START_TEST(store_refuses_foreign_files)
{
	char path[160];
	struct store *s;
	struct seen seen;
	int fd;

	ck_assert_int_eq(store_open(dir, &s), 0);
	snprintf(path, sizeof(path), "%s/containers/c1.json", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "{}", 2), 2);
	close(fd);
	seen = load(s);
	ck_assert_int_eq(seen.n, 1);
	ck_assert(!seen.has_buf);
	ck_assert_ptr_nonnull(strstr(seen.problem, "not a state file"));
	/* a file of the right name but not of two slots */
	ck_assert_int_eq(rename(path, file), 0);
	seen = load(s);
	ck_assert(!seen.has_buf);
	ck_assert_ptr_nonnull(strstr(seen.problem, "size"));
	store_close(s);
}
END_TEST

START_TEST(store_crash_between_stage_and_commit)
{
	struct store_staged *st;
	struct store *s, *after;
	char big[6000], path[160];

	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(store_open(dir, &s), 0);
	put(s, "c1", "{\"v\": 1}");
	ck_assert_int_eq(store_stage(s, "c1", big, strlen(big), &st), 0);
	snprintf(path, sizeof(path), "%s/containers/c1.state.tmp", dir);
	ck_assert_int_eq(access(path, F_OK), 0);
	/* what the next agent finds: the old state, and no temporary */
	ck_assert_int_eq(store_open(dir, &after), 0);
	ck_assert_int_ne(access(path, F_OK), 0);
	ck_assert_str_eq(load(after).buf, "{\"v\": 1}");
	store_close(after);
	store_abort(s, st);
	store_close(s);
}
END_TEST

START_TEST(store_remove_is_idempotent)
{
	struct store *s;

	ck_assert_int_eq(store_open(dir, &s), 0);
	put(s, "c1", "{}");
	ck_assert_int_eq(store_remove(s, "c1"), 0);
	ck_assert_int_eq(load(s).n, 0);
	ck_assert_int_eq(store_remove(s, "c1"), 0);
	store_close(s);
}
END_TEST

struct one {
	const char *id;
	char buf[64];
};

static int
pick(const char *id, const char *buf, size_t len, const char *path, const char *problem, void *data)
{
	struct one *o = data;

	(void)path;
	(void)problem;
	if (strcmp(id, o->id) == 0)
		snprintf(o->buf, sizeof(o->buf), "%.*s", buf ? (int)len : 0, buf ? buf : "");
	return 0;
}

/* The state of container id, as a store opened anew loads it ("" when none). */
static const char *
state_of(const char *id, struct one *o)
{
	struct store *s;

	*o = (struct one){.id = id};
	ck_assert_int_eq(store_open(dir, &s), 0);
	ck_assert_int_eq(store_load(s, pick, o), 0);
	store_close(s);
	return o->buf;
}

/* Whether container id has a file. */
static bool
has_file(const char *id)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/containers/%s.state", dir, id);
	return access(path, F_OK) == 0;
}

/* A stop after the first of several changes: the next open commits the rest. */
START_TEST(store_journal_finishes_at_open)
{
	static const struct store_entry v[] = {
		{"c1", "{\"v\": 2}", 8}, {"c2", NULL, 0}, {"c3", "{\"v\": 1}", 8}};
	struct store *s;
	struct one o;
	char path[128];

	ck_assert_int_eq(store_open(dir, &s), 0);
	put(s, "c1", "{\"v\": 1}");
	put(s, "c2", "{\"v\": 1}");
	ck_assert_int_eq(store_journal(s, v, 3), 0);
	put(s, "c1", "{\"v\": 2}"); /* then the agent stops */
	store_close(s);
	ck_assert_str_eq(state_of("c1", &o), "{\"v\": 2}");
	ck_assert(!has_file("c2"));
	ck_assert_str_eq(state_of("c3", &o), "{\"v\": 1}");
	snprintf(path, sizeof(path), "%s/host.journal", dir);
	ck_assert_int_eq(access(path, F_OK), -1);
	/* done, a journal is gone: the next open changes nothing */
	ck_assert_int_eq(store_open(dir, &s), 0);
	ck_assert_int_eq(store_journal(s, v, 1), 0);
	ck_assert_int_eq(store_journal_done(s), 0);
	put(s, "c1", "{\"v\": 9}");
	store_close(s);
	ck_assert_str_eq(state_of("c1", &o), "{\"v\": 9}");
}
END_TEST

/* A journal that fails its checksum is no order to follow: the open refuses. */
START_TEST(store_journal_damaged_refused)
{
	static const struct store_entry v[] = {{"c1", "{\"v\": 2}", 8}, {"c2", NULL, 0}};
	struct store *s;

	ck_assert_int_eq(store_open(dir, &s), 0);
	put(s, "c2", "{\"v\": 1}");
	ck_assert_int_eq(store_journal(s, v, 2), 0);
	store_close(s);
	snprintf(file, sizeof(file), "%s/host.journal", dir);
	damage(20);
	ck_assert_int_eq(store_open(dir, &s), -EBADMSG);
	ck_assert(!has_file("c1"));
	ck_assert(has_file("c2"));
}
END_TEST

static Suite *
store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("files");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, store_changes_in_place);
	tcase_add_test(tc, store_abort_changes_nothing);
	tcase_add_test(tc, store_grows_the_file);
	tcase_add_test(tc, store_torn_write_keeps_the_old_state);
	tcase_add_test(tc, store_refuses_foreign_files);
	tcase_add_test(tc, store_crash_between_stage_and_commit);
	tcase_add_test(tc, store_remove_is_idempotent);
	tcase_add_test(tc, store_journal_finishes_at_open);
	tcase_add_test(tc, store_journal_damaged_refused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(store_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
