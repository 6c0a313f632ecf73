/*
 * The process side of one pidboxctl run: signals that only set a flag,
 * the exit that dies of the signal that interrupted us, the clock for
 * reply latencies and -v messages. Every other file depends on this one,
 * and it on none of them.
 */
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#define LIBBSD_NETBSD_VIS
#include <vis.h>

#include "pidbox.h"
#include "pidboxctl.h"

volatile sig_atomic_t	 ctl_signal;
static sigset_t		 ctl_waitmask;	/* mask while waiting (ppoll) */

void
cmd_usage(const struct cmd_entry *cmd)
{
	fprintf(stderr, "usage: %s " GLOBAL_USAGE " %s %s\n", getprogname(),
	    cmd->name, cmd->usage);
	exit(EX_USAGE);
}

void
ctl_debug(const struct ctl *ctl, const char *fmt, ...)
{
	va_list	ap;

	if (ctl->verbose == 0)
		return;
	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
}

/*
 * Untrusted text (a node name, a table cell) as a terminal shows it:
 * controls and non-ASCII bytes as escapes, so that its bytes are its
 * width. Not VIS_SAFE: CR, BS and BEL would rewrite the line.
 */
char *
ctl_escape(const char *s)
{
	char	*e;

	if (stravis(&e, s, VIS_OCTAL | VIS_CSTYLE | VIS_NL | VIS_TAB) == -1)
		err(EX_OSERR, NULL);
	return e;
}

/* Microseconds on the monotonic clock, for reply latencies. */
int64_t
ctl_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Exit with code, or die of the signal that interrupted us. */
void
ctl_exit(int code)
{
	sigset_t	set;
	int		sig = ctl_signal;

	/* A reader that went away (| head) is not worth a message. */
	if ((fflush(stdout) == EOF || ferror(stdout)) && errno != EPIPE) {
		warn("stdout");
		if (code == 0)
			code = EX_IOERR;
	}
	if (sig != 0) {
		signal(sig, SIG_DFL);
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		raise(sig);
		code = 128 + sig;
	}
	exit(code);
}

static void
on_signal(int sig)
{
	ctl_signal = sig;
}

/*
 * SIGINT/SIGTERM/SIGHUP only set a flag. They stay blocked except while
 * we wait in ppoll() (ctl_waitmask), so a wait ends at once and the
 * caller still removes its reply queue. Returns what rconn needs to know
 * of it.
 */
struct rconn_intr
ctl_signals_init(void)
{
	struct sigaction	 sa;
	struct rconn_intr	 intr;
	sigset_t		 set;
	const int		 sigs[] = { SIGINT, SIGTERM, SIGHUP };
	size_t			 i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sigemptyset(&set);
	for (i = 0; i < nitems(sigs); i++) {
		if (sigaction(sigs[i], &sa, NULL) == -1)
			err(EX_OSERR, "sigaction");
		sigaddset(&set, sigs[i]);
	}
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &set, &ctl_waitmask) == -1)
		err(EX_OSERR, "sigprocmask");
	for (i = 0; i < nitems(sigs); i++)
		sigdelset(&ctl_waitmask, sigs[i]);
	intr.flag = &ctl_signal;
	intr.mask = &ctl_waitmask;
	return intr;
}
