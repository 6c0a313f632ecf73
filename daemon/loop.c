/*
 * One poll() loop: a small fd table, monotonic timers and ppoll() so that
 * signals (blocked outside the wait) interrupt the wait and are handled by
 * the caller through flags.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "pidboxd.h"

#define LOOP_MAXFD	1024	/* links, plus pipes of running handlers */

struct loop_fd {
	int		 fd;
	loop_fd_cb	 cb;
	void		*arg;
};

static struct pollfd	 pfds[LOOP_MAXFD];
static struct loop_fd	 fds[LOOP_MAXFD];
static int		 nfds;
static TAILQ_HEAD(, timer) timers = TAILQ_HEAD_INITIALIZER(timers);

void
loop_init(void)
{
	nfds = 0;
	TAILQ_INIT(&timers);
}

static int
find(int fd)
{
	int i;

	for (i = 0; i < nfds; i++)
		if (fds[i].fd == fd)
			return i;
	return -1;
}

int
loop_fd_add(int fd, loop_fd_cb cb, void *arg)
{
	int i;

	if ((i = find(fd)) == -1) {
		if (nfds == LOOP_MAXFD) {
			errno = EMFILE;
			return -1;
		}
		i = nfds++;
	}
	fds[i].fd = fd;
	fds[i].cb = cb;
	fds[i].arg = arg;
	pfds[i].fd = fd;
	pfds[i].events = 0;
	pfds[i].revents = 0;
	return 0;
}

void
loop_fd_events(int fd, int events, int on)
{
	int i;

	if ((i = find(fd)) == -1)
		return;
	if (on)
		pfds[i].events |= (short)events;
	else
		pfds[i].events &= (short)~events;
}

void
loop_fd_del(int fd)
{
	int i;

	if ((i = find(fd)) == -1)
		return;
	nfds--;
	fds[i] = fds[nfds];
	pfds[i] = pfds[nfds];
}

void
timer_set(struct timer *t, void (*cb)(void *), void *arg)
{
	memset(t, 0, sizeof(*t));
	t->cb = cb;
	t->arg = arg;
}

void
timer_add(struct timer *t, int64_t ms)
{
	struct timer *p;

	timer_del(t);
	t->when = now_mono_ms() + ms;
	t->armed = 1;
	TAILQ_FOREACH(p, &timers, entry)
		if (p->when > t->when) {
			TAILQ_INSERT_BEFORE(p, t, entry);
			return;
		}
	TAILQ_INSERT_TAIL(&timers, t, entry);
}

void
timer_del(struct timer *t)
{
	if (!t->armed)
		return;
	TAILQ_REMOVE(&timers, t, entry);
	t->armed = 0;
}

static void
run_timers(void)
{
	struct timer	*t;
	int64_t		 now;

	now = now_mono_ms();
	while ((t = TAILQ_FIRST(&timers)) != NULL && t->when <= now) {
		timer_del(t);
		t->cb(t->arg);
	}
}

int
loop_once(int max_ms, const sigset_t *waitmask)
{
	struct timespec	 ts;
	struct timer	*t;
	static struct loop_fd ready[LOOP_MAXFD];
	static short	 rev[LOOP_MAXFD];
	int64_t		 wait = max_ms, d;
	int		 i, n, nready = 0;

	if ((t = TAILQ_FIRST(&timers)) != NULL) {
		d = t->when - now_mono_ms();
		if (d < 0)
			d = 0;
		if (d < wait)
			wait = d;
	}
	ts.tv_sec = wait / 1000;
	ts.tv_nsec = (wait % 1000) * 1000000;
	n = ppoll(pfds, (nfds_t)nfds, &ts, waitmask);
	if (n == -1) {
		if (errno == EINTR)
			return -1;
		fatal("ppoll");
	}
	/*
	 * Callbacks may add or remove fds: take a snapshot of who is ready
	 * and re-check that each is still registered before calling it.
	 */
	for (i = 0; i < nfds && n > 0; i++)
		if (pfds[i].revents != 0) {
			ready[nready] = fds[i];
			rev[nready++] = pfds[i].revents;
		}
	for (i = 0; i < nready; i++) {
		int j = find(ready[i].fd);

		if (j == -1 || fds[j].cb != ready[i].cb ||
		    fds[j].arg != ready[i].arg)
			continue;
		ready[i].cb(ready[i].fd, rev[i], ready[i].arg);
	}
	run_timers();
	return 0;
}
