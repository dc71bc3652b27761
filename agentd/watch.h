#ifndef AGENTD_WATCH_H
#define AGENTD_WATCH_H

/*
 * watch: a thread that waits for one file descriptor to be readable, and
 * optionally for a period to pass, and calls back for each, until it is
 * stopped. The reconciler, the drop log and the link watcher are each one.
 */

struct watch;

struct watch_ops {
	const char *name;	   /* for the log */
	void (*ready)(void *data); /* fd is readable */
	void (*tick)(void *data);  /* every period_s seconds; NULL: none */
	unsigned int period_s;	   /* 0: no tick */
};

/* Start the thread; ops must outlive it. Returns 0 or a negative errno. */
int watch_start(int fd, const struct watch_ops *ops, void *data, struct watch **ret);
/* Stop the thread (after the callback under way returns) and free w (may be NULL). */
void watch_stop(struct watch *w);

#endif
