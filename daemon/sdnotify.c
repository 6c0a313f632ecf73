/*
 * systemd's sd_notify datagram protocol, without libsystemd (as chrony and
 * OpenSSH do): READY / RELOADING / STOPPING / STATUS / WATCHDOG over the
 * AF_UNIX datagram socket named by NOTIFY_SOCKET.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
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

/* Does the newline-separated assignment list msg hold the line var? */
static int
has_line(const char *msg, const char *var)
{
	size_t		 n = strlen(var);
	const char	*p;

	for (p = msg; p != NULL; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, var, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return 1;
	}
	return 0;
}

/*
 * Send msg, a newline-separated list of assignments. Every STATUS= line is
 * prefixed with the node's identity (sdnotify_identity) so that
 * `systemctl status` says which node and broker it is about. RELOADING=1
 * gets the MONOTONIC_USEC= newer systemd wants; a STOPPING=1 sent while a
 * reload restarts the node (identity changed) is held back, since systemd
 * would take it for the end of the service. Nothing is sent after
 * STOPPING=1.
 */
void
sdnotify_status(const char *msg)
{
	struct timespec	 ts;
	char		 out[2048], extra[64];
	const char	*line, *nl;
	size_t		 len;
	int		 n;

	if (sd.stopping)	/* "reconnecting" while we close is noise */
		return;
	if (has_line(msg, "STOPPING=1")) {
		if (sd.reloading)
			return;
		sd.stopping = 1;
	}
	if (has_line(msg, "RELOADING=1"))
		sd.reloading = 1;
	if (has_line(msg, "READY=1"))
		sd.reloading = 0;

	out[0] = '\0';
	len = 0;
	for (line = msg; *line != '\0'; line = nl + (*nl == '\n')) {
		nl = line + strcspn(line, "\n");
		if (strncmp(line, "STATUS=", 7) == 0 && sd.identity[0] != '\0')
			n = snprintf(out + len, sizeof(out) - len,
			    "%sSTATUS=%s: %.*s", len ? "\n" : "", sd.identity,
			    (int)(nl - line - 7), line + 7);
		else
			n = snprintf(out + len, sizeof(out) - len, "%s%.*s",
			    len ? "\n" : "", (int)(nl - line), line);
		if (n < 0 || (size_t)n >= sizeof(out) - len)
			return;		/* our own messages are short */
		len += (size_t)n;
	}
	if (has_line(msg, "RELOADING=1") &&
	    clock_gettime(CLOCK_MONOTONIC, &ts) == 0) {
		snprintf(extra, sizeof(extra), "\nMONOTONIC_USEC=%lld",
		    (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
		if (strlcat(out, extra, sizeof(out)) >= sizeof(out))
			return;
	}
	send_raw(out);
}

/*
 * Remember who this node is, for the STATUS= lines: name, mailbox and the
 * broker with its password masked. Names were validated (no control
 * characters); a newline would end the line, so none gets through.
 */
void
sdnotify_identity(const struct node *n)
{
	char	 url[512];
	char	*p;

	snprintf(sd.identity, sizeof(sd.identity), "node %s, %s mailbox %s, "
	    "broker %s", n->conf->hostname, mailbox_type_name(n->conf->type),
	    n->names.exchange, redis_url_redacted(&n->url, url, sizeof(url)));
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
