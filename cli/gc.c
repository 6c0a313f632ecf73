/*
 * gc: remove the reply lists and reply binding members that kombu and
 * Celery clients leak (celery#6089, spec 4.4), without touching a call in
 * progress: a list goes only when idle longer than --idle, a member
 * without a list only when still list-less --grace seconds later (the
 * list of a live call appears with its first reply), each decision
 * re-checked atomically in Lua. Members that do not split into exactly
 * three fields break every kombu node's replies and always go.
 */
#include <sys/types.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "pidbox.h"
#include "pidboxctl.h"

/*
 * KEYS: list, reply binding set; ARGV: idle, queue (unprefixed), SEP,
 * dry. nil when the list is gone or not idle enough, else
 * {idle, length or -1, {members removed}}.
 */
static const char gc_list_lua[] = LUA_SPLIT3
    "local t = redis.call('TYPE', KEYS[1])\n"
    "if t.ok ~= 'list' then return false end\n"
    "local idle = redis.call('OBJECT', 'IDLETIME', KEYS[1])\n"
    "if idle <= tonumber(ARGV[1]) then return false end\n"
    "local sep, q, gone, len = ARGV[3], ARGV[2], {}, -1\n"
    "if ARGV[4] == '0' then len = redis.call('LLEN', KEYS[1]) end\n"
    "for _, m in ipairs(redis.call('SMEMBERS', KEYS[2])) do\n"
    "  local _, _, queue = split3(m, sep)\n"
    "  if queue == q then gone[#gone + 1] = m end\n"
    "end\n"
    "if ARGV[4] == '0' then\n"
    "  redis.call('DEL', KEYS[1], KEYS[1] .. sep .. '3',\n"
    "      KEYS[1] .. sep .. '6', KEYS[1] .. sep .. '9')\n"
    "  for _, m in ipairs(gone) do redis.call('SREM', KEYS[2], m) end\n"
    "end\n"
    "return {idle, len, gone}\n";

/* KEYS: reply binding set, prefixed queue; ARGV: member, dry. */
static const char gc_member_lua[] =
    "if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return 0 end\n"
    "if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end\n"
    "if ARGV[2] == '0' then redis.call('SREM', KEYS[1], ARGV[1]) end\n"
    "return 1\n";

struct blob {
	char	*p;
	size_t	 len;
};

struct blobs {
	struct blob	*v;
	size_t		 n;
};

struct gc {
	struct ctl		*ctl;
	const struct gc_opts	*o;
	struct rconn		 rc;
	json_object		*lists, *members;	/* --json output */
	long long		 nlists, nmembers;
};

static void
blobs_add(struct blobs *b, const char *p, size_t len)
{
	struct blob	*v;

	if ((v = reallocarray(b->v, b->n + 1, sizeof(*v))) == NULL)
		err(EX_OSERR, NULL);
	b->v = v;
	if ((v[b->n].p = malloc(len + 1)) == NULL)
		err(EX_OSERR, NULL);
	memcpy(v[b->n].p, p, len);
	v[b->n].p[len] = '\0';
	v[b->n].len = len;
	b->n++;
}

static void
blobs_free(struct blobs *b)
{
	size_t	i;

	for (i = 0; i < b->n; i++)
		free(b->v[i].p);
	free(b->v);
	b->v = NULL;
	b->n = 0;
}

static _Noreturn void
gc_fail(struct gc *g, const char *what, const char *why)
{
	if (ctl_signal)
		ctl_exit(EX_TEMPFAIL);
	errx(EX_TEMPFAIL, "%s: %s: %s", g->ctl->mbox.redacted, what, why);
}

static redisReply *
gc_command(struct gc *g, const char *what, const struct rcmd *cmd)
{
	redisReply	*r;
	char		 e[256];

	if (rconn_run(&g->rc, deadline_in(CMD_TIMEOUT), 1, 1, cmd, &r) !=
	    RCONN_OK)
		gc_fail(g, what, g->rc.err);
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(e, sizeof(e), "%s", log_viss(r->str));
		freeReplyObject(r);
		gc_fail(g, what, e);
	}
	return r;
}

static void
report(struct gc *g, const char *what, const char *s, size_t len,
    const char *why)
{
	json_object	*arr = strcmp(what, "list") == 0 ? g->lists : g->members;

	if (strcmp(what, "list") == 0)
		g->nlists++;
	else
		g->nmembers++;
	if (g->ctl->json) {
		json_object_array_add(arr, json_object_new_string_len(s,
		    (int)len));
		return;
	}
	printf("%s %s %s (%s)\n", g->o->dry_run ? "would remove" : "removed",
	    strcmp(what, "list") == 0 ? "reply list" : "binding member",
	    log_vis(s, len), why);
}

/* Phase 1: idle reply lists, with their members. */
static void
gc_lists(struct gc *g)
{
	struct ctl	*ctl = g->ctl;
	struct rcmd	 cmd;
	struct blobs	 keys = { NULL, 0 };
	redisReply	*r, *arr;
	char		 cursor[32] = "0", pat[5 * MAX_KEY], p1[2 * MAX_KEY];
	char		 p2[2 * MAX_KEY], idle[32], why[128];
	const char	*q;
	size_t		 i, j, plen = strlen(ctl->mbox.names.keyprefix);

	if (glob_escape(ctl->mbox.names.keyprefix, p1, sizeof(p1)) == -1 ||
	    glob_escape(ctl->ns, p2, sizeof(p2)) == -1)
		gc_fail(g, "SCAN", "key prefix or namespace too long");
	snprintf(pat, sizeof(pat), "%s*.reply.%s.pidbox", p1, p2);
	do {
		rcmd_init(&cmd, "SCAN");
		rcmd_adds(&cmd, cursor);
		rcmd_adds(&cmd, "MATCH");
		rcmd_adds(&cmd, pat);
		rcmd_adds(&cmd, "COUNT");
		rcmd_adds(&cmd, "1000");
		rcmd_adds(&cmd, "TYPE");
		rcmd_adds(&cmd, "list");
		r = gc_command(g, "SCAN", &cmd);
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_ARRAY)
			gc_fail(g, "SCAN", "unexpected reply");
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		arr = r->element[1];
		for (i = 0; i < arr->elements; i++) {
			if (arr->element[i]->type == REDIS_REPLY_STRING)
				blobs_add(&keys, arr->element[i]->str,
				    arr->element[i]->len);
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);

	snprintf(idle, sizeof(idle), "%lld", g->o->idle);
	for (i = 0; i < keys.n; i++) {
		if (keys.v[i].len <= plen)
			continue;
		q = keys.v[i].p + plen;
		rcmd_init(&cmd, "EVAL");
		rcmd_adds(&cmd, gc_list_lua);
		rcmd_adds(&cmd, "2");
		rcmd_add(&cmd, keys.v[i].p, keys.v[i].len);
		rcmd_adds(&cmd, ctl->mbox.names.reply_binding_key);
		rcmd_adds(&cmd, idle);
		rcmd_add(&cmd, q, keys.v[i].len - plen);
		rcmd_add(&cmd, KOMBU_SEP, KOMBU_SEP_LEN);
		rcmd_adds(&cmd, g->o->dry_run ? "1" : "0");
		r = gc_command(g, "EVAL", &cmd);
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 3) {
			if (r->element[1]->integer >= 0)
				snprintf(why, sizeof(why), "idle %llds, %lld "
				    "messages", r->element[0]->integer,
				    r->element[1]->integer);
			else
				snprintf(why, sizeof(why), "idle %llds",
				    r->element[0]->integer);
			report(g, "list", keys.v[i].p, keys.v[i].len, why);
			arr = r->element[2];
			for (j = 0; j < arr->elements; j++)
				report(g, "member", arr->element[j]->str,
				    arr->element[j]->len, "its list was idle");
		}
		freeReplyObject(r);
		if (ctl_signal)
			break;
	}
	blobs_free(&keys);
}

/* Phase 2: malformed members now, list-less members after --grace. */
static void
gc_members(struct gc *g)
{
	struct ctl	*ctl = g->ctl;
	struct rcmd	 cmd;
	struct blobs	 cand = { NULL, 0 }, bad = { NULL, 0 };
	struct binding	 b;
	redisReply	*r, *arr, *m;
	char		 cursor[32] = "0", qkey[2 * MAX_KEY];
	size_t		 i;
	int		 pass;

	do {
		rcmd_init(&cmd, "SSCAN");
		rcmd_adds(&cmd, ctl->mbox.names.reply_binding_key);
		rcmd_adds(&cmd, cursor);
		rcmd_adds(&cmd, "COUNT");
		rcmd_adds(&cmd, "1000");
		r = gc_command(g, "SSCAN", &cmd);
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_ARRAY)
			gc_fail(g, "SSCAN", "unexpected reply");
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		arr = r->element[1];
		for (i = 0; i < arr->elements; i++) {
			m = arr->element[i];
			if (m->type != REDIS_REPLY_STRING)
				continue;
			if (binding_parse(m->str, m->len, &b) == -1)
				blobs_add(&bad, m->str, m->len);
			else
				blobs_add(&cand, m->str, m->len);
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);

	for (i = 0; i < bad.n; i++) {
		if (!g->o->dry_run) {
			rcmd_init(&cmd, "SREM");
			rcmd_adds(&cmd, ctl->mbox.names.reply_binding_key);
			rcmd_add(&cmd, bad.v[i].p, bad.v[i].len);
			freeReplyObject(gc_command(g, "SREM", &cmd));
		}
		report(g, "member", bad.v[i].p, bad.v[i].len,
		    "not three fields");
	}

	/* Two passes: candidates whose list exists now are dropped. */
	for (pass = 0; pass < 2 && cand.n > 0; pass++) {
		struct blobs	keep = { NULL, 0 };

		if (pass == 1) {
			ctl_debug(ctl, "%zu member(s) without a reply list, "
			    "checking again in %llds", cand.n, g->o->grace);
			if (rconn_sleep(&g->rc, g->o->grace * 1000) == -1)
				break;
		}
		for (i = 0; i < cand.n; i++) {
			if (binding_parse(cand.v[i].p, cand.v[i].len, &b) ==
			    -1 || snprintf(qkey, sizeof(qkey), "%s%.*s",
			    ctl->mbox.names.keyprefix, (int)b.queuelen,
			    b.queue) >= (int)sizeof(qkey))
				continue;
			rcmd_init(&cmd, "EVAL");
			rcmd_adds(&cmd, gc_member_lua);
			rcmd_adds(&cmd, "2");
			rcmd_adds(&cmd, ctl->mbox.names.reply_binding_key);
			rcmd_adds(&cmd, qkey);
			rcmd_add(&cmd, cand.v[i].p, cand.v[i].len);
			/* The first pass only looks. */
			rcmd_adds(&cmd, pass == 0 || g->o->dry_run ? "1" : "0");
			r = gc_command(g, "EVAL", &cmd);
			if (r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
				if (pass == 0)
					blobs_add(&keep, cand.v[i].p,
					    cand.v[i].len);
				else
					report(g, "member", cand.v[i].p,
					    cand.v[i].len, "no reply list");
			}
			freeReplyObject(r);
		}
		blobs_free(&cand);
		cand = keep;
	}
	blobs_free(&cand);
	blobs_free(&bad);
}

/* The exec of gc's row: args->gc holds -n, -g and -i. */
int
gc_exec(struct ctl *ctl, struct cmd_args *args)
{
	const struct gc_opts	*o = &args->gc;
	struct gc		 g;
	json_object		*out;
	char			*s;

	memset(&g, 0, sizeof(g));
	g.ctl = ctl;
	g.o = o;
	if ((g.lists = json_object_new_array()) == NULL ||
	    (g.members = json_object_new_array()) == NULL)
		errx(EX_OSERR, "out of memory");
	if (rconn_connect(&g.rc, &ctl->mbox.url, 0,
	    &ctl->mbox.intr) == -1) {
		if (ctl_signal)
			ctl_exit(EX_TEMPFAIL);
		errx(EX_TEMPFAIL, "%s: %s", ctl->mbox.redacted, g.rc.err);
	}
	gc_lists(&g);
	if (!ctl_signal)
		gc_members(&g);
	rconn_close(&g.rc);
	if (ctl->json) {
		if ((out = json_object_new_object()) == NULL)
			errx(EX_OSERR, "out of memory");
		json_object_object_add(out, "dry_run",
		    json_object_new_boolean(o->dry_run));
		json_object_object_add(out, "lists", g.lists);
		json_object_object_add(out, "members", g.members);
		if ((s = pyjson_dumps(out, NULL)) == NULL)
			err(EX_OSERR, "pyjson_dumps");
		printf("%s\n", s);
		free(s);
		json_object_put(out);
	} else {
		printf("%s %lld reply list(s) and %lld binding member(s)\n",
		    o->dry_run ? "would remove" : "removed", g.nlists,
		    g.nmembers);
		json_object_put(g.lists);
		json_object_put(g.members);
	}
	return 0;
}
