/*
 * Metrics: the node's counters in Prometheus's text exposition format,
 * written to metrics_file for node_exporter's textfile collector, at
 * start, every metrics_interval s and once at a clean stop.
 *
 * The counters stay owned by their modules (node.c's stats, replies.c,
 * exec.c, service.c) and are read through their functions; this file
 * owns only requests by method and decision, fed by node.c wherever it
 * audits a decision. Method names come from the broker: only names the
 * registry knows get a label of their own (a bounded table), anything
 * else is counted as method="(unknown)", so a flood of made-up names
 * can neither grow the file nor break its format.
 *
 * The file is written to a temporary file in its directory and renamed
 * over the old one (atomic_write()): a reader (the collector) sees the
 * old text or the new, never a part. The temporary name does not end in
 * ".prom", which the collector would read; it is mode 0644, as the
 * collector runs as another user. The loop forks exec handlers only
 * between callbacks, and the descriptor is close-on-exec anyway.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pidboxd.h"

#define METRICS_MAX_METHODS	256	/* labelled; more go to (unknown) */
#define UNKNOWN_METHOD		"(unknown)"

/* The decisions of the audit trail (node.c's audit_req()). */
static const char *const decisions[] = {
	"run", "refused", "filtered", "expired", "unknown_method",
};
#define NDECISIONS	nitems(decisions)

struct method_count {
	char		 name[MAX_NAME + 1];
	uint64_t	 n[NDECISIONS];
};

static struct {
	struct node		*node;
	const struct metrics_link *link;
	struct timer		 timer;
	struct method_count	 methods[METRICS_MAX_METHODS];
	size_t			 nmethods;
	struct method_count	 unknown;
	uint64_t		 write_errors;
	int			 failing;	/* the last write failed */
} mx;

void
metrics_request(const char *method, const char *decision)
{
	struct method_count	*m = NULL;
	size_t			 d, i;

	for (d = 0; d < NDECISIONS; d++)
		if (strcmp(decisions[d], decision) == 0)
			break;
	if (d == NDECISIONS) {
		log_debug("metrics: no such decision %s", decision);
		return;
	}
	if (method != NULL && strlen(method) <= MAX_NAME) {
		for (i = 0; i < mx.nmethods; i++)
			if (strcmp(mx.methods[i].name, method) == 0) {
				m = &mx.methods[i];
				break;
			}
		if (m == NULL && mx.nmethods < METRICS_MAX_METHODS) {
			m = &mx.methods[mx.nmethods++];
			memset(m, 0, sizeof(*m));
			strlcpy(m->name, method, sizeof(m->name));
		}
	}
	if (m == NULL)
		m = &mx.unknown;
	m->n[d]++;
}

/* A label value as the format wants it: \\, \" and \n escaped. */
static void
label_value(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void
family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A gauge of a wall time, in seconds with milliseconds. */
static void
one_time(FILE *f, const char *name, const char *help, double t)
{
	family(f, name, "gauge", help);
	fprintf(f, "%s %.3f\n", name, t);
}

static void
requests(FILE *f, const struct method_count *m)
{
	size_t d;

	for (d = 0; d < NDECISIONS; d++) {
		if (m->n[d] == 0)
			continue;
		fputs("pidbox_requests_total{method=\"", f);
		label_value(f, m->name);
		fprintf(f, "\",decision=\"%s\"} %llu\n", decisions[d],
		    (unsigned long long)m->n[d]);
	}
}

/* The counters and gauges without labels. */
static void
plain(FILE *f, const struct node_stats *s, const struct reply_counters *r)
{
	const struct exec_stats	*es = exec_stats();
	size_t			 i;
	const struct {
		const char	*name, *type, *help;
		uint64_t	 v;
	} m[] = {
		{ "pidbox_received_total", "counter",
		    "Messages taken off the mailbox.", s->received },
		{ "pidbox_malformed_total", "counter",
		    "Messages dropped as malformed.", s->malformed },
		{ "pidbox_duplicates_total", "counter",
		    "Deliveries handled already, not run again.",
		    s->duplicates },
		{ "pidbox_errors_total", "counter", "Requests that failed: "
		    "unknown method, handler error, exec handler that could "
		    "not start or exited non-zero.", s->errors + es->errors },
		{ "pidbox_replies_total", "counter",
		    "Replies routed to their client.", r->replied },
		{ "pidbox_replies_unrouted_total", "counter",
		    "Replies dropped: the client's binding was gone.",
		    r->unrouted },
		{ "pidbox_replies_held", "gauge",
		    "Replies waiting for the broker connection.", r->held },
		{ "pidbox_reconnects_total", "counter",
		    "Times the broker connection was lost.",
		    mx.link->reconnects() },
		{ "pidbox_broker_connected", "gauge",
		    "1 while the broker connection is up.",
		    (uint64_t)mx.link->connected() },
		{ "pidbox_exec_started_total", "counter",
		    "Operator-defined method handlers started.", es->started },
		{ "pidbox_exec_running", "gauge",
		    "Operator-defined method handlers running.",
		    (uint64_t)exec_running() },
		{ "pidbox_exec_timeouts_total", "counter",
		    "Handlers killed at their timeout.", es->timeouts },
		{ "pidbox_exec_busy_total", "counter",
		    "Requests refused for want of a free handler slot.",
		    es->busy },
		{ "pidbox_audit_lost_total", "counter",
		    "Audit lines that could not be written.", s->audit_lost },
		{ "pidbox_metrics_write_errors_total", "counter",
		    "Writes of this file that failed.", mx.write_errors },
	};

	for (i = 0; i < nitems(m); i++) {
		family(f, m[i].name, m[i].type, m[i].help);
		fprintf(f, "%s %llu\n", m[i].name,
		    (unsigned long long)m[i].v);
	}
}

/* The exposition text of now (malloc'd, *len bytes); NULL on ENOMEM. */
static char *
metrics_text(size_t *len)
{
	const struct node_stats	*s;
	struct reply_counters	 rc;
	FILE			*f;
	char			*buf = NULL;
	size_t			 i;
	static const struct {
		const char	*reason;
		size_t		 off;
	} refusals[] = {
#define R(r, f)	{ r, offsetof(struct node_stats, f) }
		R("policy", refused_policy),
		R("reply_to", refused_reply_to),
		R("unsigned", unsigned_refused),
		R("signature", forged),
		R("signature_expired", sig_expired),
		R("replayed", replayed),
		R("before_replay_cache", sig_before_cache),
#undef R
	};

	if (mx.node == NULL || (f = open_memstream(&buf, len)) == NULL)
		return NULL;
	s = &mx.node->stats;
	replies_counters(&rc);
	family(f, "pidbox_requests_total", "counter", "Requests by method "
	    "and decision, as the audit trail records them; methods this "
	    "node does not offer are counted as method=\"" UNKNOWN_METHOD
	    "\".");
	for (i = 0; i < mx.nmethods; i++)
		requests(f, &mx.methods[i]);
	requests(f, &mx.unknown);
	family(f, "pidbox_refused_total", "counter",
	    "Requests refused, by reason.");
	for (i = 0; i < nitems(refusals); i++)
		fprintf(f, "pidbox_refused_total{reason=\"%s\"} %llu\n",
		    refusals[i].reason, (unsigned long long)
		    *(const uint64_t *)(const void *)((const char *)s +
		    refusals[i].off));
	plain(f, s, &rc);
	one_time(f, "pidbox_last_broker_contact_timestamp_seconds",
	    "When the broker last answered (Unix time; 0: never).",
	    mx.link->last_contact());
	one_time(f, "pidbox_start_time_seconds",
	    "When the node started (Unix time).", mx.node->started_wall);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void
metrics_write(void)
{
	const char	*file, *errstr;
	char		*text;
	size_t		 len;
	int		 save;

	if (mx.node == NULL || (file = mx.node->conf->metrics_file) == NULL)
		return;
	if ((text = metrics_text(&len)) == NULL) {
		errstr = "out of memory";
		save = ENOMEM;
	} else if (atomic_write(file, text, len, 0644, 0, &errstr) == 0) {
		free(text);
		if (mx.failing)
			log_info("metrics: %s written again", file);
		mx.failing = 0;
		return;
	} else
		save = errno;
	free(text);
	mx.write_errors++;
	/* once per failure, not every interval */
	if (!mx.failing)
		log_warnx("metrics: %s: %s: %s", file, errstr, strerror(save));
	mx.failing = 1;
}

static void
on_timer(void *arg)
{
	(void)arg;
	metrics_write();
	timer_add(&mx.timer, (int64_t)mx.node->conf->metrics_interval * 1000);
}

void
metrics_init(struct node *n, const struct metrics_link *link)
{
	/*
	 * Not a memset of mx: its 76 KiB of method slots would all become
	 * the node's private memory; a slot is cleared when first used.
	 */
	mx.nmethods = 0;
	mx.write_errors = 0;
	mx.failing = 0;
	memset(&mx.unknown, 0, sizeof(mx.unknown));
	strlcpy(mx.unknown.name, UNKNOWN_METHOD, sizeof(mx.unknown.name));
	mx.node = n;
	mx.link = link;
	timer_set(&mx.timer, on_timer, NULL);
	if (n->conf->metrics_file != NULL)
		on_timer(NULL);
}

void
metrics_stop(void)
{
	timer_del(&mx.timer);
	metrics_write();
}
