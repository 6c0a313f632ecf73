/*
 * systemd's sd_notify datagram protocol, without libsystemd (as chrony and
 * OpenSSH do): READY / RELOADING / STOPPING / STATUS / WATCHDOG over the
 * AF_UNIX datagram socket named by NOTIFY_SOCKET. One function per
 * message, called from main (pidboxd.c); the watchdog ticks on its own.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pidboxd.h"

/* WatchdogSec= is at least 1 s in practice; refuse silly values. */
#define WATCHDOG_MIN_USEC	1000
#define WATCHDOG_MAX_USEC	(86400LL * 1000000)

static struct {
	char		identity[MAX_KEY + 600];  /* prefix of STATUS= lines */
	int		reloading;	/* RELOADING=1 sent, READY=1 not yet */
	int		stopping;	/* STOPPING=1 sent */
	struct timer	watchdog;
	int64_t		watchdog_ms;	/* the tick: WATCHDOG_USEC / 2 */
} sd;

/* Send one datagram; silently nothing when not run by systemd. */
static void
send_raw(const char *msg)
{
	struct sockaddr_un	 sun;
	const char		*path;
	socklen_t		 len;
	int			 fd;

	if ((path = getenv("NOTIFY_SOCKET")) == NULL || path[0] == '\0')
		return;
	if (path[0] != '/' && path[0] != '@')
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		return;
	if (sun.sun_path[0] == '@')	/* abstract namespace */
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len) == -1)
		log_debug("sd_notify: %s", strerror(errno));
	close(fd);
}

/*
 * Send the state assignment (NULL: none) and a STATUS= line (NULL: none)
 * in one datagram. The status is prefixed with the node's identity
 * (sdnotify_identity) so that `systemctl status` says which node and
 * broker it is about. Nothing is sent after STOPPING=1.
 */
static void
notify(const char *state, const char *status)
{
	char	out[2048];
	int	n;

	if (sd.stopping)	/* "reconnecting" while we close is noise */
		return;
	if (status == NULL)
		n = snprintf(out, sizeof(out), "%s", state);
	else
		n = snprintf(out, sizeof(out), "%s%sSTATUS=%s%s%s",
		    state != NULL ? state : "", state != NULL ? "\n" : "",
		    sd.identity, sd.identity[0] != '\0' ? ": " : "", status);
	if (n < 0 || (size_t)n >= sizeof(out))
		return;		/* our own messages are short */
	send_raw(out);
}

/* READY=1, with a STATUS= line unless status is NULL; ends a reload. */
void
sdnotify_ready(const char *status)
{
	if (sd.stopping)
		return;
	sd.reloading = 0;
	notify("READY=1", status);
}

/* RELOADING=1 with the MONOTONIC_USEC= newer systemd wants. */
void
sdnotify_reloading(void)
{
	struct timespec	ts;
	char		state[64];

	if (sd.stopping)
		return;
	sd.reloading = 1;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
		snprintf(state, sizeof(state),
		    "RELOADING=1\nMONOTONIC_USEC=%lld",
		    (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
	else
		strlcpy(state, "RELOADING=1", sizeof(state));
	notify(state, NULL);
}

/*
 * STOPPING=1, the last message. Held back while a reload restarts the
 * node (identity changed): systemd would take it for the end of the
 * service.
 */
void
sdnotify_stopping(void)
{
	if (sd.stopping || sd.reloading)
		return;
	notify("STOPPING=1", NULL);
	sd.stopping = 1;
}

/* A STATUS= line of one line of text. */
void
sdnotify_status(const char *fmt, ...)
{
	va_list	ap;
	char	status[1024];

	va_start(ap, fmt);
	vsnprintf(status, sizeof(status), fmt, ap);
	va_end(ap);
	notify(NULL, status);
}

/*
 * Remember who this node is, for the STATUS= lines: name, mailbox and the
 * broker with its password masked. Names were validated (no control
 * characters); a newline would end the line, so none gets through.
 */
void
sdnotify_identity(const char *node, enum mailbox_type type,
    const char *exchange, const struct redis_url *broker)
{
	char	 url[512];
	char	*p;

	snprintf(sd.identity, sizeof(sd.identity), "node %s, %s mailbox %s, "
	    "broker %s", node, mailbox_type_name(type), exchange,
	    redis_url_redacted(broker, url, sizeof(url)));
	for (p = sd.identity; *p != '\0'; p++)
		if (*p == '\n')
			*p = ' ';
}

/* The tick: tell systemd the loop still turns, and re-arm. */
static void
on_watchdog(void *arg)
{
	(void)arg;
	if (sd.stopping)	/* nothing after STOPPING=1 */
		return;
	send_raw("WATCHDOG=1");
	timer_add(&sd.watchdog, sd.watchdog_ms);
}

/*
 * When systemd asks for a watchdog (WATCHDOG_USEC, and WATCHDOG_PID unset
 * or ours), send WATCHDOG=1 from the loop every WATCHDOG_USEC / 2. Call
 * after loop_init(), which forgets every timer.
 */
void
sdnotify_watchdog_start(void)
{
	const char	*s, *errstr;
	long long	 usec, pid;

	memset(&sd.watchdog, 0, sizeof(sd.watchdog));
	sd.watchdog_ms = 0;
	if ((s = getenv("WATCHDOG_USEC")) == NULL || s[0] == '\0')
		return;
	usec = strtonum(s, WATCHDOG_MIN_USEC, WATCHDOG_MAX_USEC, &errstr);
	if (errstr != NULL) {
		log_warnx("WATCHDOG_USEC=%s: %s; no watchdog", log_viss(s),
		    errstr);
		return;
	}
	if ((s = getenv("WATCHDOG_PID")) != NULL && s[0] != '\0') {
		pid = strtonum(s, 1, INT32_MAX, &errstr);
		if (errstr != NULL || pid != (long long)getpid()) {
			log_debug("WATCHDOG_PID=%s is not us; no watchdog",
			    log_viss(s));
			return;
		}
	}
	sd.watchdog_ms = usec / 2000;
	if (sd.watchdog_ms == 0)
		sd.watchdog_ms = 1;
	timer_set(&sd.watchdog, on_watchdog, NULL);
	send_raw("WATCHDOG=1");
	timer_add(&sd.watchdog, sd.watchdog_ms);
	log_debug("watchdog: WATCHDOG=1 every %lld ms",
	    (long long)sd.watchdog_ms);
}
