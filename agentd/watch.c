/* One thread per watched descriptor, stopped through an eventfd. */

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <sys/eventfd.h>

#include "agentd/log.h"
#include "agentd/watch.h"

struct watch {
	int fd;
	int stop_fd;
	const struct watch_ops *ops;
	void *data;
	pthread_t tid;
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *
run(void *arg)
{
	struct watch *w = arg;
	const struct watch_ops *o = w->ops;
	bool ticks = o->tick != NULL && o->period_s > 0;
	double next = now_ms() + o->period_s * 1e3;

	for (;;) {
		struct pollfd p[2] = {
			{.fd = w->stop_fd, .events = POLLIN},
			{.fd = w->fd, .events = POLLIN},
		};
		double wait = next - now_ms();

		if (poll(p, 2, !ticks ? -1 : wait < 0 ? 0 : (int)wait) < 0 && errno != EINTR) {
			log_warn(-errno, "%s: poll", o->name);
			break;
		}
		if (p[0].revents != 0)
			break;
		if (p[1].revents != 0)
			o->ready(w->data);
		if (ticks && now_ms() >= next) {
			o->tick(w->data);
			next = now_ms() + o->period_s * 1e3;
		}
	}
	return NULL;
}

int
watch_start(int fd, const struct watch_ops *ops, void *data, struct watch **ret)
{
	struct watch *w = calloc(1, sizeof(*w));
	int r;

	if (w == NULL)
		return -ENOMEM;
	w->fd = fd;
	w->ops = ops;
	w->data = data;
	w->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (w->stop_fd < 0) {
		r = -errno;
		free(w);
		return r;
	}
	r = -pthread_create(&w->tid, NULL, run, w);
	if (r < 0) {
		close(w->stop_fd);
		free(w);
		return r;
	}
	*ret = w;
	return 0;
}

void
watch_stop(struct watch *w)
{
	uint64_t one = 1;

	if (w == NULL)
		return;
	if (write(w->stop_fd, &one, sizeof(one)) < 0)
		log_warn(-errno, "%s: stopping", w->ops->name);
	pthread_join(w->tid, NULL);
	close(w->stop_fd);
	free(w);
}
