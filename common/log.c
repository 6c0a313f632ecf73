/*
 * Logging in the OpenBSD daemon vocabulary. In the foreground (and under
 * systemd, whose journal reads stderr) lines go to stderr with a "<N>"
 * syslog priority prefix when JOURNAL_STREAM is set; otherwise to syslog.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#define LIBBSD_NETBSD_VIS
#include <vis.h>

#include "pidbox.h"

static int	 log_foreground = 1;
static int	 log_verbose;
static int	 log_journal;
static const char *log_ident = "pidbox";

void
log_init(int foreground, int verbose, const char *ident)
{
	log_foreground = foreground;
	log_verbose = verbose;
	log_ident = ident;
	log_journal = getenv("JOURNAL_STREAM") != NULL;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	tzset();
}

void
log_setverbose(int verbose)
{
	log_verbose = verbose;
}

int
log_getverbose(void)
{
	return log_verbose;
}

static void	vlog(int, const char *, va_list) __printflike(2, 0);
static void	vwarn_errno(int, const char *, va_list) __printflike(2, 0);

static void
vlog(int pri, const char *fmt, va_list ap)
{
	char		 tbuf[32];
	struct tm	 tm;
	time_t		 t;

	if (!log_foreground) {
		vsyslog(pri, fmt, ap);
		return;
	}
	if (log_journal)
		fprintf(stderr, "<%d>", pri);
	else {
		t = time(NULL);
		if (localtime_r(&t, &tm) != NULL &&
		    strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm) > 0)
			fprintf(stderr, "%s %s: ", tbuf, log_ident);
	}
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	fflush(stderr);
}

static void
logit(int pri, const char *fmt, ...) __printflike(2, 3);

static void
logit(int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

/* The message, then ": strerror(errno)" when errno is set. */
static void
vwarn_errno(int pri, const char *fmt, va_list ap)
{
	char	*s;
	int	 saved = errno;

	if (vasprintf(&s, fmt, ap) == -1) {
		logit(pri, "%s", fmt);	/* out of memory: the bare format */
		return;
	}
	if (saved != 0)
		logit(pri, "%s: %s", s, strerror(saved));
	else
		logit(pri, "%s", s);
	free(s);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn_errno(LOG_ERR, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn_errno(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

#define VIS_MAXIN	200
#define VIS_NBUF	4

const char *
log_vis(const char *s, size_t len)
{
	static char	 bufs[VIS_NBUF][VIS_MAXIN * 4 + 4];
	static int	 next;
	char		*b;
	size_t		 n;

	b = bufs[next];
	next = (next + 1) % VIS_NBUF;
	if (s == NULL)
		return "(null)";
	n = len > VIS_MAXIN ? VIS_MAXIN : len;
	strvisx(b, s, n, VIS_SAFE | VIS_OCTAL | VIS_CSTYLE | VIS_NL | VIS_TAB);
	if (n < len)
		strlcat(b, "...", sizeof(bufs[0]));
	return b;
}

const char *
log_viss(const char *s)
{
	if (s == NULL)
		return "(null)";
	return log_vis(s, strlen(s));
}
