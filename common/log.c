/*
 * Logging in the OpenBSD daemon vocabulary. In the foreground (and under
 * systemd, whose journal reads stderr) lines go to stderr with a "<N>"
 * syslog priority prefix when JOURNAL_STREAM is set; otherwise to syslog.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

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

/*
 * A line on stderr from a program that does not log (pidboxd -t, or
 * before log_init()): with its "<N>" priority under the journal, so that
 * ExecReload's "pidboxd -t" reasons are found by "journalctl -p err".
 */
void
log_stderr(int pri, const char *fmt, ...)
{
	va_list ap;

	if (getenv("JOURNAL_STREAM") != NULL)
		fprintf(stderr, "<%d>", pri);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
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

/*
 * Rate limit (issue 5): one token bucket per call site, keyed by the format
 * string, so that a flood of bad input cannot fill the disk; what is
 * dropped is summed up as "N similar messages suppressed".
 */
#define RL_SLOTS	64
static struct rl_slot {
	const char	*fmt;
	double		 tokens;
	int64_t		 last_ms;
	uint64_t	 suppressed;
} rl_slots[RL_SLOTS];
static double	 rl_burst, rl_rate;	/* rl_rate 0: no limit */
static uint64_t	 rl_total;

void
log_ratelimit(double burst, double per_sec)
{
	rl_burst = burst;
	rl_rate = per_sec;
	memset(rl_slots, 0, sizeof(rl_slots));
}

uint64_t
log_suppressed(void)
{
	return rl_total;
}

static int64_t
rl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
rl_report(struct rl_slot *sl)
{
	logit(LOG_WARNING, "%llu similar messages suppressed: \"%s\"",
	    (unsigned long long)sl->suppressed, sl->fmt);
	sl->suppressed = 0;
}

/* 1 when a message of this call site may be logged now. */
static int
rl_allow(const char *fmt)
{
	struct rl_slot	*sl = NULL;
	int64_t		 now;
	size_t		 h, i;

	if (rl_rate <= 0)
		return 1;
	h = ((uintptr_t)fmt >> 3) % RL_SLOTS;
	for (i = 0; i < RL_SLOTS; i++) {
		sl = &rl_slots[(h + i) % RL_SLOTS];
		if (sl->fmt == fmt || sl->fmt == NULL)
			break;
	}
	if (i == RL_SLOTS)
		sl = &rl_slots[h];	/* full: share the home slot */
	now = rl_now();
	if (sl->fmt != fmt) {
		if (sl->fmt != NULL && sl->suppressed > 0)
			rl_report(sl);
		sl->fmt = fmt;
		sl->tokens = rl_burst;
	} else {
		sl->tokens += (double)(now - sl->last_ms) * rl_rate / 1000.0;
		if (sl->tokens > rl_burst)
			sl->tokens = rl_burst;
	}
	sl->last_ms = now;
	if (sl->tokens < 1.0) {
		sl->suppressed++;
		rl_total++;
		return 0;
	}
	sl->tokens -= 1.0;
	if (sl->suppressed > 0)
		rl_report(sl);
	return 1;
}

/* Report what was suppressed so far (call it every few seconds). */
void
log_ratelimit_flush(void)
{
	size_t i;

	for (i = 0; i < RL_SLOTS; i++)
		if (rl_slots[i].fmt != NULL && rl_slots[i].suppressed > 0)
			rl_report(&rl_slots[i]);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	if (!rl_allow(fmt))
		return;
	va_start(ap, fmt);
	vwarn_errno(LOG_ERR, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	if (!rl_allow(fmt))
		return;
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
(log_debug)(const char *fmt, ...)
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
	/*
	 * esc.c's escaper, backslashes doubled: what vis(3) VIS_OCTAL |
	 * VIS_CSTYLE | VIS_NL | VIS_TAB writes. Not VIS_SAFE: it lets CR, BS
	 * and BEL through, and a method name with "\r" could then rewrite
	 * the log line on a terminal.
	 */
	esc_text(b, s, n, ESC_SLASH);
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
