/*
 * Fleet operations: the inventory pidboxd nodes keep (daemon/inventory.c)
 * read back, targeting by labels and facts (-F, -S), the jobs pidboxctl
 * records and the replies pidboxd records for them (--async, --record,
 * pidboxctl result and jobs).
 *
 * Targeting names its nodes: the filter picks them from the inventory
 * (pidboxd entries) and the binding set (kombu and Celery nodes, by name
 * only), and the request goes with that explicit destination list, so
 * that a kombu or Celery node, which ignores the filter header, acts only
 * when named; each pidboxd checks the filter header itself too, so that
 * a stale or forged entry cannot make a node that does not match act.
 */
#include <sys/types.h>

#include <err.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "pidbox.h"
#include "pidboxctl.h"

#define MAX_INVENTORY	65536	/* entries (and bindings) read at most */
#define MAX_ENTRY	65536	/* bytes of one inventory entry */
#define JOBS_MAXLEN	"10000"	/* jobs kept in the jobs stream */
#define JOBS_TTL	"86400"	/* s the jobs stream lives unwritten */
#define RESULT_WAIT	30.0	/* s of result --wait without -t */
#define RESULT_CHUNK_MS	1000	/* ms of one XREAD BLOCK */

/*
 * Everything a reader needs in one round trip: the entries, their
 * expiries and the node bindings (kombu and Celery nodes by name).
 * KEYS: inventory, alive, node binding set; ARGV: the limit.
 */
static const char read_lua[] =
    "local lim = tonumber(ARGV[1])\n"
    "if redis.call('HLEN', KEYS[1]) > lim or\n"
    "    redis.call('SCARD', KEYS[3]) > lim then\n"
    "  return redis.error_reply('inventory or binding set larger than '\n"
    "      .. lim)\n"
    "end\n"
    "return {redis.call('HGETALL', KEYS[1]),\n"
    "    redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES'),\n"
    "    redis.call('SMEMBERS', KEYS[3])}\n";

/*
 * One job and its recorded replies. KEYS: results, jobs; ARGV: ticket.
 * {results stream exists, job fields or nil, {reply fields...}, last id}
 */
static const char job_lua[] =
    "local function find(f, k)\n"
    "  for i = 1, #f, 2 do if f[i] == k then return f[i + 1] end end\n"
    "end\n"
    "local job, out = false, {}\n"
    "for _, e in ipairs(redis.call('XRANGE', KEYS[2], '-', '+')) do\n"
    "  if find(e[2], 'ticket') == ARGV[1] then job = e[2] end\n"
    "end\n"
    "for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do\n"
    "  if find(e[2], 'ticket') == ARGV[1] and #out < 65536 then\n"
    "    out[#out + 1] = e[2]\n"
    "  end\n"
    "end\n"
    "local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)\n"
    "return {redis.call('EXISTS', KEYS[1]) + redis.call('EXISTS', KEYS[2]),\n"
    "    job, out, last[1] and last[1][1] or '0-0'}\n";

/*
 * The last jobs, newest first, each with its number of recorded
 * replies. KEYS: jobs, results; ARGV: count. {{job fields, replies}...}
 */
static const char jobs_lua[] =
    "local function find(f, k)\n"
    "  for i = 1, #f, 2 do if f[i] == k then return f[i + 1] end end\n"
    "end\n"
    "local jobs = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT',\n"
    "    ARGV[1])\n"
    "local n, out = {}, {}\n"
    "for _, j in ipairs(jobs) do n[find(j[2], 'ticket') or ''] = 0 end\n"
    "for _, e in ipairs(redis.call('XRANGE', KEYS[2], '-', '+')) do\n"
    "  local t = find(e[2], 'ticket')\n"
    "  if t and n[t] then n[t] = n[t] + 1 end\n"
    "end\n"
    "for _, j in ipairs(jobs) do\n"
    "  out[#out + 1] = {j[2], n[find(j[2], 'ticket') or '']}\n"
    "end\n"
    "return out\n";

static int	 connect_broker(struct ctl *, struct rconn *);

/* A JSON document from Redis, bounded; NULL when it is not one. */
static json_object *
parse_json(const char *s, size_t len)
{
	json_tokener	*tok;
	json_object	*o;

	if (len > MAX_ENTRY || (tok = json_tokener_new_ex(MAX_JSON_DEPTH)) ==
	    NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, s, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static void
put_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v != NULL ? json_object_new_string(v) :
	    NULL);
}

/* The node's record in f, made when new. */
static json_object *
node_of(struct fleet *f, const char *name)
{
	json_object	*o;

	if (json_object_object_get_ex(f->nodes, name, &o))
		return o;
	if ((o = json_object_new_object()) == NULL)
		errx(EX_OSERR, "out of memory");
	put_str(o, "status", "ok");
	put_str(o, "kind", "kombu");
	json_object_object_add(o, "bound", json_object_new_boolean(0));
	json_object_object_add(f->nodes, name, o);
	return o;
}

static int
connect_broker(struct ctl *ctl, struct rconn *rc)
{
	if (rconn_connect(rc, &ctl->mbox.url, 0, &ctl->mbox.intr) == -1) {
		warnx("%s: %s", ctl->mbox.redacted, rc->err);
		return -1;
	}
	return 0;
}

/* Run one command; NULL (warned, connection closed) on any failure. */
static redisReply *
run1(struct ctl *ctl, struct rconn *rc, const char *what,
    const struct rcmd *cmd)
{
	redisReply	*r;

	if (rconn_run(rc, deadline_in(CMD_TIMEOUT), 1, 1, cmd, &r) !=
	    RCONN_OK) {
		warnx("%s: %s: %s", ctl->mbox.redacted, what, rc->err);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		warnx("%s: %s: %s", ctl->mbox.redacted, what,
		    log_viss(r->str));
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/*
 * Read the inventory of the namespace into f->nodes: {name: {status,
 * kind, bound, expires, entry, why}}, status ok (live), stale (not
 * refreshed within its TTL), unbound (live but not subscribed), invalid
 * (not as pidboxd writes it); kind pidboxd (an entry) or kombu (a name
 * in the binding set only); the names bound into f->bound too, as
 * mailbox_call() would read them (struct mailbox_request's bound). 0,
 * or -1 when the broker failed (warned). Names come from the broker:
 * escape them before a terminal sees them.
 */
int
fleet_read(struct ctl *ctl, struct fleet *f)
{
	const struct mailbox	*mb = &ctl->mbox;
	struct fleet_keys	 k;
	struct rconn		 rc;
	struct rcmd		 cmd;
	struct binding		 b;
	redisReply		*r, *a, *e;
	json_object		*o, *entry, *exp, *x;
	const char		*why;
	char			 name[MAX_NAME + 1], lim[16], *esc;
	double			 now = now_wall(), t;
	size_t			 i;

	memset(f, 0, sizeof(*f));
	if ((f->nodes = json_object_new_object()) == NULL ||
	    (f->bound = json_object_new_object()) == NULL)
		errx(EX_OSERR, "out of memory");
	if (fleet_keys(&k, mb->names.keyprefix, mb->ns) == -1) {
		warnx("namespace %s: names too long", log_viss(mb->ns));
		return -1;
	}
	memset(&rc, 0, sizeof(rc));
	if (connect_broker(ctl, &rc) == -1)
		return -1;
	snprintf(lim, sizeof(lim), "%d", MAX_INVENTORY);
	rcmd_init(&cmd, "EVAL");
	rcmd_adds(&cmd, read_lua);
	rcmd_adds(&cmd, "3");
	rcmd_adds(&cmd, k.inventory);
	rcmd_adds(&cmd, k.alive);
	rcmd_adds(&cmd, mb->names.node_binding_key);
	rcmd_adds(&cmd, lim);
	r = run1(ctl, &rc, "reading the inventory", &cmd);
	rconn_close(&rc);
	if (r == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3) {
		freeReplyObject(r);
		warnx("%s: unexpected reply reading the inventory",
		    mb->redacted);
		return -1;
	}
	/* the binding set first: who is subscribed */
	a = r->element[2];
	for (i = 0; a->type == REDIS_REPLY_ARRAY && i < a->elements; i++) {
		e = a->element[i];
		if (e->type != REDIS_REPLY_STRING ||
		    binding_parse(e->str, e->len, &b) == -1 ||
		    mailbox_bound_name(mb, &b, name, sizeof(name)) == -1)
			continue;
		json_object_object_add(node_of(f, name), "bound",
		    json_object_new_boolean(1));
		json_object_object_add(f->bound, name, NULL);
	}
	/* expiries */
	if ((exp = json_object_new_object()) == NULL)
		errx(EX_OSERR, "out of memory");
	a = r->element[1];
	for (i = 0; a->type == REDIS_REPLY_ARRAY && i + 1 < a->elements;
	    i += 2)
		if (a->element[i]->type == REDIS_REPLY_STRING &&
		    a->element[i + 1]->type == REDIS_REPLY_STRING)
			json_object_object_add(exp, a->element[i]->str,
			    json_object_new_double(strtod(
			    a->element[i + 1]->str, NULL)));
	/* the entries */
	a = r->element[0];
	for (i = 0; a->type == REDIS_REPLY_ARRAY && i + 1 < a->elements;
	    i += 2) {
		if (a->element[i]->type != REDIS_REPLY_STRING ||
		    a->element[i + 1]->type != REDIS_REPLY_STRING ||
		    a->element[i]->len > MAX_NAME ||
		    memchr(a->element[i]->str, '\0', a->element[i]->len) !=
		    NULL)
			continue;
		o = node_of(f, a->element[i]->str);
		put_str(o, "kind", "pidboxd");
		entry = parse_json(a->element[i + 1]->str,
		    a->element[i + 1]->len);
		why = entry == NULL ? "not JSON (or larger than 64 KiB)" : NULL;
		if (entry != NULL && fleet_entry_check(entry,
		    a->element[i]->str, mb->ns, &why) == -1) {
			json_object_put(entry);
			entry = NULL;
		}
		if (entry == NULL) {
			put_str(o, "status", "invalid");
			put_str(o, "why", why);
			if (f->ninvalid++ == 0) {
				esc = ctl_escape(a->element[i]->str);
				snprintf(f->invalid, sizeof(f->invalid),
				    "inventory entry %s is not what pidboxd "
				    "writes: %s", esc, why);
				free(esc);
			}
			continue;
		}
		t = 0;
		if (json_object_object_get_ex(exp, a->element[i]->str, &x))
			t = json_object_get_double(x);
		json_object_object_add(o, "expires", json_object_new_double(t));
		json_object_object_add(o, "entry", entry);
		if (!(t >= now))
			put_str(o, "status", "stale");
		else if (!json_object_get_boolean(json_object_object_get(o,
		    "bound")))
			put_str(o, "status", "unbound");
	}
	json_object_put(exp);
	freeReplyObject(r);
	return 0;
}

void
fleet_free(struct fleet *f)
{
	json_object_put(f->nodes);
	json_object_put(f->bound);
	memset(f, 0, sizeof(*f));
}

/* ------------------------------------------------------------ targeting */

struct keycheck {
	struct fleet	*f;
	char		 bad[256];
};

/* 1 when some pidboxd entry has the label. */
static int
label_seen(struct fleet *f, const char *label)
{
	struct json_object_iterator	 it, end;
	json_object			*l;

	it = json_object_iter_begin(f->nodes);
	end = json_object_iter_end(f->nodes);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
		if (json_object_object_get_ex(json_object_iter_peek_value(&it),
		    "entry", &l) && json_object_object_get_ex(l, "labels",
		    &l) && json_object_object_get_ex(l, label, NULL))
			return 1;
	return 0;
}

/* A key no node can have is a mistake (a typo), not an empty match. */
static int
key_known(const char *key, void *arg)
{
	struct keycheck	*kc = arg;

	if (strcmp(key, "name") == 0)
		return 0;
	if (strncmp(key, "labels.", 7) == 0) {
		if (label_seen(kc->f, key + 7))
			return 0;
	} else if (strncmp(key, "facts.", 6) == 0) {
		if (fleet_fact_known(key + 6))
			return 0;
	} else if (fleet_fact_known(key) || label_seen(kc->f, key))
		return 0;
	snprintf(kc->bad, sizeof(kc->bad), "%s", key);
	return -1;
}

/* Add name to the request's destination. */
static void
add_target(struct mailbox_request *req, const char *name)
{
	const char	**d;

	if ((d = reallocarray(req->destination, req->ndestination + 1,
	    sizeof(*d))) == NULL)
		err(EX_OSERR, NULL);
	req->destination = d;
	if ((d[req->ndestination++] = strdup(name)) == NULL)
		err(EX_OSERR, NULL);
}

/*
 * Resolve -F/-S into an explicit destination list (and the filter
 * header) before anything is sent: 0, or the exit code (64 an unknown
 * fact or label, 69 an invalid entry or no node matches, 75 the broker).
 */
int
fleet_target(struct ctl *ctl, struct cmd_args *a, struct fleet *f)
{
	struct json_object_iterator	 it, end;
	struct mailbox_request		*req = &a->req;
	struct fleet_node		 nd;
	struct keycheck			 kc;
	json_object			*o, *entry;
	const char			*status, *kind;
	char				*text, *esc;
	long long			 nstale = 0;

	if (fleet_read(ctl, f) == -1)
		return EX_TEMPFAIL;
	if (f->ninvalid > 0) {
		warnx("%s%s; nothing sent (remove it: redis-cli HDEL "
		    "<keyprefix>_pidbox.inventory.%s NAME)", f->invalid,
		    f->ninvalid > 1 ? " (and more)" : "", ctl->mbox.ns);
		return EX_UNAVAILABLE;
	}
	memset(&kc, 0, sizeof(kc));
	kc.f = f;
	if (filter_keys(a->filter, key_known, &kc) == -1) {
		esc = ctl_escape(kc.bad);
		warnx("unknown fact or label %s (facts: %s; labels: those in "
		    "pidboxctl inventory); nothing sent", esc,
		    fleet_fact_list());
		free(esc);
		return EX_USAGE;
	}
	it = json_object_iter_begin(f->nodes);
	end = json_object_iter_end(f->nodes);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		o = json_object_iter_peek_value(&it);
		status = json_object_get_string(json_object_object_get(o,
		    "status"));
		kind = json_object_get_string(json_object_object_get(o,
		    "kind"));
		memset(&nd, 0, sizeof(nd));
		nd.name = json_object_iter_peek_name(&it);
		if (json_object_object_get_ex(o, "entry", &entry)) {
			nd.labels = json_object_object_get(entry, "labels");
			nd.facts = json_object_object_get(entry, "facts");
		}
		if (!filter_match(a->filter, &nd))
			continue;
		/* a node the inventory no longer vouches for is not sent to */
		if (strcmp(status, "ok") != 0 && strcmp(kind, "kombu") != 0) {
			nstale++;
			esc = ctl_escape(nd.name);
			ctl_debug(ctl, "%s matches but is %s: not targeted",
			    esc, status);
			free(esc);
			continue;
		}
		add_target(req, nd.name);
	}
	if (req->ndestination == 0) {
		warnx("no live node matches the filter%s; nothing sent",
		    nstale > 0 ? " (some stale or unbound ones do: see "
		    "pidboxctl inventory)" : "");
		return EX_UNAVAILABLE;
	}
	if ((text = filter_text(a->filter)) == NULL)
		err(EX_OSERR, NULL);
	req->filter = text;
	ctl_debug(ctl, "filter %s selects %zu node%s", text,
	    req->ndestination, req->ndestination == 1 ? "" : "s");
	return 0;
}

/*
 * pidboxctl nodes: the live pidboxd nodes of the inventory are expected
 * too, so that one that died without a clean stop (its binding left
 * behind, not reached by the PUBLISH) is named missing, not unsubscribed.
 * The names are borrowed from f: free res before f.
 */
void
fleet_expect_live(struct fleet *f, struct mailbox_result *res)
{
	struct json_object_iterator	 it, end;
	struct expect			*ex = &res->expect;
	json_object			*o;
	const char			*name, **v;
	size_t				 i, n, k;

	if (!res->collected || ex->names != res->expnames)
		return;
	n = (size_t)json_object_object_length(f->nodes);
	if ((v = reallocarray(res->expnames, ex->nnames + n + 1,
	    sizeof(*v))) == NULL)
		err(EX_OSERR, NULL);
	res->expnames = ex->names = v;
	if ((v = reallocarray(res->missing, res->nmissing + n + 1,
	    sizeof(*v))) == NULL)
		err(EX_OSERR, NULL);
	res->missing = v;
	it = json_object_iter_begin(f->nodes);
	end = json_object_iter_end(f->nodes);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		o = json_object_iter_peek_value(&it);
		name = json_object_iter_peek_name(&it);
		if (strcmp(json_object_get_string(json_object_object_get(o,
		    "status")), "ok") != 0 ||
		    strcmp(json_object_get_string(json_object_object_get(o,
		    "kind")), "pidboxd") != 0 ||
		    json_object_object_get_ex(res->replies, name, NULL))
			continue;
		for (i = 0; i < res->nmissing; i++)
			if (strcmp(res->missing[i], name) == 0)
				break;
		if (i < res->nmissing)
			continue;
		/* from "not subscribed" (a binding left behind) to missing */
		for (k = 0; k < res->nunsub; k++)
			if (strcmp(res->unsub[k], name) == 0)
				break;
		if (k < res->nunsub) {
			memmove(&res->unsub[k], &res->unsub[k + 1],
			    (res->nunsub - k - 1) * sizeof(*res->unsub));
			res->nunsub--;
		} else {
			for (i = 0; i < ex->nnames; i++)
				if (strcmp(ex->names[i], name) == 0)
					break;
			if (i == ex->nnames) {
				ex->names[ex->nnames++] = name;
				ex->count++;
			}
		}
		res->missing[res->nmissing++] = name;
		res->nsilent++;
	}
	if (ex->source != NULL && strcmp(ex->source, "bound") == 0)
		ex->source = "bound and inventory";
}

/* ---------------------------------------------------------------- jobs */

/* Who sent it, for pidboxctl jobs: PIDBOX_IDENTITY, else user@host. */
static void
sender(char *buf, size_t len)
{
	struct passwd	*pw;
	const char	*id = getenv("PIDBOX_IDENTITY");
	char		 host[256];

	if (id != NULL && id[0] != '\0') {
		snprintf(buf, len, "%s", id);
		return;
	}
	if (gethostname(host, sizeof(host)) == -1)
		strlcpy(host, "?", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	pw = getpwuid(getuid());
	snprintf(buf, len, "%s@%s", pw != NULL ? pw->pw_name : "?", host);
}

/*
 * Record the job of a request sent with --async or --record in the
 * namespace's jobs stream (bounded, expiring), for pidboxctl jobs and
 * result. A failure is a warning: the request went out.
 */
void
fleet_job_record(struct ctl *ctl, const struct cmd_args *a,
    const struct mailbox_result *res)
{
	const struct mailbox_request	*req = &a->req;
	struct fleet_keys		 k;
	struct rconn			 rc;
	struct rcmd			 cmd[2];
	redisReply			*r[2];
	json_object			*j, *t = NULL;
	char				 who[300];
	size_t				 i;

	if (fleet_keys(&k, ctl->mbox.names.keyprefix, ctl->mbox.ns) == -1)
		return;
	if ((j = json_object_new_object()) == NULL)
		errx(EX_OSERR, "out of memory");
	if (req->ndestination > 0) {
		t = json_object_new_array();
		for (i = 0; i < req->ndestination; i++)
			json_object_array_add(t,
			    json_object_new_string(req->destination[i]));
	}
	sender(who, sizeof(who));
	put_str(j, "method", req->method);
	put_str(j, "sender", who);
	json_object_object_add(j, "targets", t);	/* null: everyone */
	put_str(j, "filter", req->filter);
	json_object_object_add(j, "receivers",
	    json_object_new_int64(res->receivers));
	json_object_object_add(j, "time", json_object_new_double(now_wall() -
	    (double)(ctl_now_us() - res->t0) / 1e6));
	json_object_object_add(j, "timeout",
	    json_object_new_double(req->timeout));
	/* the job's fields as one JSON value: a reader checks one thing */
	rcmd_init(&cmd[0], "XADD");
	rcmd_adds(&cmd[0], k.jobs);
	rcmd_adds(&cmd[0], "MAXLEN");
	rcmd_adds(&cmd[0], "~");
	rcmd_adds(&cmd[0], JOBS_MAXLEN);
	rcmd_adds(&cmd[0], "*");
	rcmd_adds(&cmd[0], "ticket");
	rcmd_adds(&cmd[0], res->ticket);
	rcmd_adds(&cmd[0], "job");
	rcmd_adds(&cmd[0], json_object_to_json_string_ext(j,
	    JSON_C_TO_STRING_PLAIN));
	rcmd_init(&cmd[1], "EXPIRE");
	rcmd_adds(&cmd[1], k.jobs);
	rcmd_adds(&cmd[1], JOBS_TTL);
	memset(&rc, 0, sizeof(rc));
	if (connect_broker(ctl, &rc) == 0) {
		if (rconn_run(&rc, deadline_in(CMD_TIMEOUT), 1, 2, cmd, r) !=
		    RCONN_OK)
			warnx("%s: recording job %s: %s", ctl->mbox.redacted,
			    res->ticket, rc.err);
		else {
			if (r[0]->type == REDIS_REPLY_ERROR)
				warnx("recording job %s: %s", res->ticket,
				    log_viss(r[0]->str));
			replies_free(r, 2);
		}
		rconn_close(&rc);
	}
	json_object_put(j);
}

/* ------------------------------------------------------------ inventory */

/* "dc=eu1,role=web" of an entry's labels (escaped, malloc'd). */
static char *
labels_text(json_object *entry)
{
	struct json_object_iterator	 it, end;
	json_object			*l;
	char				*s = NULL, *e;
	size_t				 len = 0;
	FILE				*f;

	if ((f = open_memstream(&s, &len)) == NULL)
		err(EX_OSERR, NULL);
	if (json_object_object_get_ex(entry, "labels", &l)) {
		it = json_object_iter_begin(l);
		end = json_object_iter_end(l);
		for (; !json_object_iter_equal(&it, &end);
		    json_object_iter_next(&it))
			fprintf(f, "%s%s=%s", ftell(f) > 0 ? "," : "",
			    json_object_iter_peek_name(&it),
			    json_object_get_string(
			    json_object_iter_peek_value(&it)));
	}
	if (fclose(f) != 0)
		err(EX_OSERR, NULL);
	e = ctl_escape(s[0] != '\0' ? s : "-");
	free(s);
	return e;
}

/* A fact's text (escaped, malloc'd); "-" when the node has none. */
static char *
fact_text(json_object *entry, const char *a, const char *b)
{
	json_object	*v = NULL;
	char		 buf[300];

	if (json_object_object_get_ex(entry, "facts", &v) &&
	    json_object_object_get_ex(v, a, &v) && b != NULL)
		json_object_object_get_ex(v, b, &v);
	if (v == NULL || json_object_is_type(v, json_type_object))
		return ctl_escape("-");
	snprintf(buf, sizeof(buf), "%s", json_object_get_string(v));
	return ctl_escape(buf);
}

/*
 * pidboxctl inventory: every node the namespace knows of, from the
 * inventory and the binding set, without a broadcast.
 */
int
inventory_exec(struct ctl *ctl, struct cmd_args *a)
{
	struct json_object_iterator	 it, end;
	struct fleet			 f;
	struct fleet_node		 nd;
	json_object			*o, *entry, *out;
	const char			*name;
	char				*c[8];
	size_t				 n = 0, i;
	double				 now = now_wall(), t;

	if (fleet_read(ctl, &f) == -1)
		return EX_TEMPFAIL;
	if ((out = json_object_new_object()) == NULL)
		errx(EX_OSERR, "out of memory");
	it = json_object_iter_begin(f.nodes);
	end = json_object_iter_end(f.nodes);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		o = json_object_iter_peek_value(&it);
		memset(&nd, 0, sizeof(nd));
		nd.name = json_object_iter_peek_name(&it);
		entry = json_object_object_get(o, "entry");
		nd.labels = json_object_object_get(entry, "labels");
		nd.facts = json_object_object_get(entry, "facts");
		if (a->filter != NULL && !filter_match(a->filter, &nd))
			continue;
		json_object_object_add(out, nd.name, json_object_get(o));
	}
	if (f.ninvalid > 0)
		warnx("%s%s", f.invalid, f.ninvalid > 1 ? " (and more)" : "");
	if (ctl->json)
		output_node_map(ctl, out);
	else {
		printf("%-24s %-8s %-8s %-24s %-12s %-8s %4s %s\n", "NODE",
		    "STATUS", "KIND", "LABELS", "OS", "ARCH", "CPUS",
		    "EXPIRES");
		it = json_object_iter_begin(out);
		end = json_object_iter_end(out);
		for (; !json_object_iter_equal(&it, &end);
		    json_object_iter_next(&it)) {
			name = json_object_iter_peek_name(&it);
			o = json_object_iter_peek_value(&it);
			entry = json_object_object_get(o, "entry");
			c[0] = ctl_escape(name);
			c[1] = labels_text(entry);
			c[2] = fact_text(entry, "os", "id");
			c[3] = fact_text(entry, "os", "version_id");
			c[4] = fact_text(entry, "arch", NULL);
			c[5] = fact_text(entry, "cpus", NULL);
			t = json_object_get_double(json_object_object_get(o,
			    "expires"));
			if (entry == NULL)
				c[6] = ctl_escape("-");
			else if (asprintf(&c[6], "%+.0fs", t - now) == -1)
				err(EX_OSERR, NULL);
			if (asprintf(&c[7], "%s %s", c[2], c[3]) == -1)
				err(EX_OSERR, NULL);
			printf("%-24s %-8s %-8s %-24s %-12s %-8s %4s %s\n",
			    c[0], json_object_get_string(
			    json_object_object_get(o, "status")),
			    json_object_get_string(json_object_object_get(o,
			    "kind")), c[1], entry != NULL ? c[7] : "-", c[4],
			    c[5], c[6]);
			for (i = 0; i < nitems(c); i++)
				free(c[i]);
			n++;
		}
	}
	n = (size_t)json_object_object_length(out);
	json_object_put(out);
	fleet_free(&f);
	return n > 0 ? 0 : EX_UNAVAILABLE;
}

/* ------------------------------------------------------------- results */

/* A ticket as pidboxctl makes them (uuid4): refuse anything else. */
static int
ticket_valid(const char *s)
{
	size_t	i;

	if (strlen(s) != UUID_STRLEN)
		return 0;
	for (i = 0; i < UUID_STRLEN; i++)
		if (!(i == 8 || i == 13 || i == 18 || i == 23 ?
		    s[i] == '-' : strchr("0123456789abcdef", s[i]) != NULL))
			return 0;
	return 1;
}

/* The value of field k of a stream entry's fields, or NULL. */
static const redisReply *
field(const redisReply *f, const char *k)
{
	size_t	i;

	if (f == NULL || f->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (i = 0; i + 1 < f->elements; i += 2)
		if (f->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(f->element[i]->str, k) == 0 &&
		    f->element[i + 1]->type == REDIS_REPLY_STRING)
			return f->element[i + 1];
	return NULL;
}

/* One recorded reply (its fields) into res; ignored when malformed. */
static void
result_add(struct mailbox_result *res, const redisReply *f, double t0,
    const char *ticket)
{
	const redisReply	*node, *reply, *when, *tk;
	json_object		*v;

	if ((tk = field(f, "ticket")) == NULL || strcmp(tk->str, ticket) != 0)
		return;
	if ((node = field(f, "node")) == NULL || node->len == 0 ||
	    node->len > MAX_NAME || memchr(node->str, '\0', node->len) !=
	    NULL || (reply = field(f, "reply")) == NULL) {
		res->nbad++;
		return;
	}
	if (json_object_object_get_ex(res->replies, node->str, NULL)) {
		res->ndup++;
		return;
	}
	if ((v = parse_json(reply->str, reply->len)) == NULL &&
	    strcmp(reply->str, "null") != 0) {
		res->nbad++;
		return;
	}
	json_object_object_add(res->replies, node->str, v);
	when = field(f, "time");
	json_object_object_add(res->latency, node->str,
	    json_object_new_double(when != NULL && t0 > 0 ?
	    (strtod(when->str, NULL) - t0) * 1000.0 : 0));
}

/* Have all the targets replied? */
static int
all_in(const struct mailbox_result *res, const struct mailbox_request *req)
{
	size_t	i;

	if (req->ndestination == 0)
		return 0;
	for (i = 0; i < req->ndestination; i++)
		if (!json_object_object_get_ex(res->replies,
		    req->destination[i], NULL))
			return 0;
	return 1;
}

/*
 * result --wait: read what is added to the results stream after last
 * until every target replied or the deadline. -1 when the broker failed.
 */
static int
result_wait(struct ctl *ctl, struct rconn *rc, const char *key,
    char *last, size_t lastlen, struct mailbox_result *res,
    const struct mailbox_request *req, double t0, double secs)
{
	struct rcmd	 cmd;
	redisReply	*r, *s, *e;
	int64_t		 deadline = deadline_in(secs), remain;
	char		 block[32];
	size_t		 i;
	int		 rv;

	while (!all_in(res, req) && !*ctl->mbox.intr.flag) {
		if ((remain = deadline - now_mono_ms()) <= 0)
			break;
		snprintf(block, sizeof(block), "%lld", (long long)(remain >
		    RESULT_CHUNK_MS ? RESULT_CHUNK_MS : remain));
		rcmd_init(&cmd, "XREAD");
		rcmd_adds(&cmd, "COUNT");
		rcmd_adds(&cmd, "1000");
		rcmd_adds(&cmd, "BLOCK");
		rcmd_adds(&cmd, block);
		rcmd_adds(&cmd, "STREAMS");
		rcmd_adds(&cmd, key);
		rcmd_adds(&cmd, last);
		rv = rconn_run(rc, now_mono_ms() + RESULT_CHUNK_MS + 5000, 1, 1,
		    &cmd, &r);
		if (rv == RCONN_INTR)
			return 0;
		if (rv != RCONN_OK) {
			warnx("%s: XREAD: %s", ctl->mbox.redacted, rc->err);
			return -1;
		}
		/* [[key, [[id, fields]...]]] or nil on timeout */
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
		    (s = r->element[0])->type == REDIS_REPLY_ARRAY &&
		    s->elements == 2 && s->element[1]->type ==
		    REDIS_REPLY_ARRAY)
			for (i = 0; i < s->element[1]->elements; i++) {
				e = s->element[1]->element[i];
				if (e->type != REDIS_REPLY_ARRAY ||
				    e->elements != 2 ||
				    e->element[0]->type != REDIS_REPLY_STRING)
					continue;
				strlcpy(last, e->element[0]->str, lastlen);
				result_add(res, e->element[1], t0,
				    res->ticket);
			}
		freeReplyObject(r);
	}
	return 0;
}

/* Who replied with an error, which targets did not reply. */
static void
result_tally(struct mailbox_result *res, const struct mailbox_request *req)
{
	struct json_object_iterator	 it, end;
	size_t				 n, i;

	n = (size_t)json_object_object_length(res->replies);
	res->errors = reallocarray(NULL, n + 1, sizeof(*res->errors));
	res->missing = reallocarray(NULL, req->ndestination + 1,
	    sizeof(*res->missing));
	if (res->errors == NULL || res->missing == NULL)
		err(EX_OSERR, NULL);
	it = json_object_iter_begin(res->replies);
	end = json_object_iter_end(res->replies);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
		if (reply_is_error(json_object_iter_peek_value(&it)))
			res->errors[res->nerrors++] =
			    json_object_iter_peek_name(&it);
	for (i = 0; i < req->ndestination; i++)
		if (!json_object_object_get_ex(res->replies,
		    req->destination[i], NULL))
			res->missing[res->nmissing++] = req->destination[i];
	res->nsilent = (long long)res->nmissing;
	if (req->ndestination > 0) {
		res->expect.names = req->destination;
		res->expect.nnames = req->ndestination;
		res->expect.count = (long long)req->ndestination;
		res->expect.source = "the job's targets";
	}
}

/*
 * pidboxctl result ID: the replies pidboxd nodes recorded for a request
 * sent with --async or --record, printed as the call would have printed
 * them; with --wait, first wait for the targets that have not replied.
 */
int
result_exec(struct ctl *ctl, struct cmd_args *a)
{
	struct mailbox_request	 req;
	struct mailbox_result	 res;
	struct fleet_keys	 k;
	struct rconn		 rc;
	struct rcmd		 cmd;
	redisReply		*r = NULL;
	const redisReply	*jf;
	json_object		*job = NULL, *t, *v;
	const char		*id;
	char			 last[64], *esc;
	double			 t0 = 0;
	size_t			 i;
	int			 rv = EX_TEMPFAIL;

	id = json_object_get_string(json_object_object_get(a->req.arguments,
	    "id"));
	if (!ticket_valid(id)) {
		esc = ctl_escape(id);
		warnx("result %s: not a job id (a request id as pidboxctl "
		    "prints it: 8-4-4-4-12 lowercase hex digits)", esc);
		free(esc);
		return EX_USAGE;
	}
	if (fleet_keys(&k, ctl->mbox.names.keyprefix, ctl->mbox.ns) == -1)
		return EX_USAGE;
	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	memset(&rc, 0, sizeof(rc));
	if ((res.replies = json_object_new_object()) == NULL ||
	    (res.latency = json_object_new_object()) == NULL ||
	    (res.trust = json_object_new_object()) == NULL ||
	    (res.trust_why = json_object_new_object()) == NULL)
		errx(EX_OSERR, "out of memory");
	strlcpy(res.ticket, id, sizeof(res.ticket));
	res.expect.count = -1;
	if (connect_broker(ctl, &rc) == -1)
		goto done;
	rcmd_init(&cmd, "EVAL");
	rcmd_adds(&cmd, job_lua);
	rcmd_adds(&cmd, "2");
	rcmd_adds(&cmd, k.results);
	rcmd_adds(&cmd, k.jobs);
	rcmd_adds(&cmd, id);
	if ((r = run1(ctl, &rc, "reading the results", &cmd)) == NULL)
		goto done;
	rv = EX_UNAVAILABLE;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 4 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER) {
		warnx("%s: unexpected reply reading the results",
		    ctl->mbox.redacted);
		goto done;
	}
	if (r->element[0]->integer == 0) {
		warnx("namespace %s has no jobs or results stream (expired, or "
		    "nothing was sent with --async or --record)",
		    log_viss(ctl->mbox.ns));
		goto done;
	}
	if ((jf = field(r->element[1], "job")) != NULL &&
	    (job = parse_json(jf->str, jf->len)) != NULL &&
	    json_object_is_type(job, json_type_object)) {
		req.method = json_object_get_string(json_object_object_get(job,
		    "method"));
		if ((v = json_object_object_get(job, "time")) != NULL)
			t0 = json_object_get_double(v);
		req.timeout = json_object_get_double(json_object_object_get(job,
		    "timeout"));
		t = json_object_object_get(job, "targets");
		if (json_object_is_type(t, json_type_array) &&
		    json_object_array_length(t) <= MAX_DESTINATIONS) {
			if ((req.destination = calloc(
			    json_object_array_length(t) + 1,
			    sizeof(*req.destination))) == NULL)
				err(EX_OSERR, NULL);
			for (i = 0; i < json_object_array_length(t); i++) {
				v = json_object_array_get_idx(t, i);
				if (json_object_is_type(v, json_type_string))
					req.destination[req.ndestination++] =
					    json_object_get_string(v);
			}
		}
	}
	if (r->element[2]->type == REDIS_REPLY_ARRAY)
		for (i = 0; i < r->element[2]->elements; i++)
			result_add(&res, r->element[2]->element[i], t0, id);
	if (job == NULL && json_object_object_length(res.replies) == 0) {
		warnx("unknown job id %s (never recorded in namespace %s, or "
		    "expired)", id, log_viss(ctl->mbox.ns));
		goto done;
	}
	if (req.method == NULL)
		req.method = "?";
	if (a->wait) {
		strlcpy(last, r->element[3]->type == REDIS_REPLY_STRING ?
		    r->element[3]->str : "0-0", sizeof(last));
		if (result_wait(ctl, &rc, k.results, last, sizeof(last), &res,
		    &req, t0, a->timeout_set ? a->req.timeout :
		    RESULT_WAIT) == -1) {
			rv = EX_TEMPFAIL;
			goto done;
		}
	}
	res.status = MAILBOX_OK;
	res.collected = 1;
	res.receivers = (long long)json_object_object_length(res.replies);
	result_tally(&res, &req);
	output_init(ctl, STYLE_INSPECT);
	output_result(ctl, &req, &res);
	rv = call_status(&res);
done:
	freeReplyObject(r);
	rconn_close(&rc);
	mailbox_result_free(&res);
	free(req.destination);
	json_object_put(job);
	return rv;
}

/* pidboxctl jobs: the last jobs recorded, newest first. */
int
jobs_exec(struct ctl *ctl, struct cmd_args *a)
{
	struct fleet_keys	 k;
	struct rconn		 rc;
	struct rcmd		 cmd;
	redisReply		*r, *e;
	const redisReply	*tk, *jf;
	json_object		*job, *out, *o, *t;
	char			 count[32], when[32], *esc[3];
	time_t			 tt;
	struct tm		 tm;
	double			 d;
	size_t			 i, j;

	if (fleet_keys(&k, ctl->mbox.names.keyprefix, ctl->mbox.ns) == -1)
		return EX_USAGE;
	snprintf(count, sizeof(count), "%lld", a->req.limit > 0 ?
	    a->req.limit : 20);
	memset(&rc, 0, sizeof(rc));
	if (connect_broker(ctl, &rc) == -1)
		return EX_TEMPFAIL;
	rcmd_init(&cmd, "EVAL");
	rcmd_adds(&cmd, jobs_lua);
	rcmd_adds(&cmd, "2");
	rcmd_adds(&cmd, k.jobs);
	rcmd_adds(&cmd, k.results);
	rcmd_adds(&cmd, count);
	r = run1(ctl, &rc, "reading the jobs", &cmd);
	rconn_close(&rc);
	if (r == NULL)
		return EX_TEMPFAIL;
	if ((out = json_object_new_array()) == NULL)
		errx(EX_OSERR, "out of memory");
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		e = r->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
		    (tk = field(e->element[0], "ticket")) == NULL ||
		    !ticket_valid(tk->str) ||
		    (jf = field(e->element[0], "job")) == NULL ||
		    (job = parse_json(jf->str, jf->len)) == NULL)
			continue;
		if (!json_object_is_type(job, json_type_object)) {
			json_object_put(job);
			continue;
		}
		json_object_object_add(job, "ticket",
		    json_object_new_string(tk->str));
		json_object_object_add(job, "replies", json_object_new_int64(
		    e->element[1]->type == REDIS_REPLY_INTEGER ?
		    e->element[1]->integer : 0));
		json_object_array_add(out, job);
	}
	freeReplyObject(r);
	if (ctl->json)
		puts(json_object_to_json_string_ext(out,
		    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
	else {
		printf("%-36s  %-19s  %-16s  %-20s  %7s  %7s\n", "JOB", "SENT",
		    "METHOD", "SENDER", "TARGETS", "REPLIES");
		for (i = 0; i < json_object_array_length(out); i++) {
			o = json_object_array_get_idx(out, i);
			d = json_object_get_double(json_object_object_get(o,
			    "time"));
			tt = (time_t)d;
			if (localtime_r(&tt, &tm) == NULL ||
			    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S",
			    &tm) == 0)
				strlcpy(when, "?", sizeof(when));
			t = json_object_object_get(o, "targets");
			esc[0] = ctl_escape(json_object_get_string(
			    json_object_object_get(o, "method")));
			esc[1] = ctl_escape(json_object_get_string(
			    json_object_object_get(o, "sender")));
			if (json_object_is_type(t, json_type_array)) {
				if (asprintf(&esc[2], "%zu",
				    json_object_array_length(t)) == -1)
					err(EX_OSERR, NULL);
			} else if (asprintf(&esc[2], "all(%lld)",
			    (long long)json_object_get_int64(
			    json_object_object_get(o, "receivers"))) == -1)
				err(EX_OSERR, NULL);
			printf("%-36s  %-19s  %-16s  %-20s  %7s  %7lld\n",
			    json_object_get_string(json_object_object_get(o,
			    "ticket")), when, esc[0], esc[1], esc[2],
			    (long long)json_object_get_int64(
			    json_object_object_get(o, "replies")));
			for (j = 0; j < nitems(esc); j++)
				free(esc[j]);
		}
	}
	i = json_object_array_length(out);
	json_object_put(out);
	return i > 0 ? 0 : EX_UNAVAILABLE;
}
