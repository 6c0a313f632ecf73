/*
 * The command table: one row per command, tmux cmd_entry style, with
 * the argument template that args.c parses a command line against,
 * Celery's argument names and types (celery/worker/control.py, 5.2)
 * included, so that `pidboxctl rate_limit tasks.add 10/m` sends exactly
 * what `celery control rate_limit tasks.add 10/m` sends (spec 5.2, 5.3).
 */
#include <sys/types.h>

#include <string.h>

#include <json-c/json.h>

#include "pidbox.h"
#include "pidboxctl.h"

/* Options of every Celery command. */
#define CO " [-t secs] [-d node[,...]] [-p pattern [-m glob|pcre]]\n" \
	"\t[-F key=value] [-S expr] [--async | --record]\n" \
	"\t[--batch N|N% [--batch-sleep secs]] [--canary N] [--stop-on-error]"
#define PING_USAGE "[-t secs] [-l limit] [-d node[,node...]]\n" \
	"\t[-p pattern [-m glob|pcre]] [-F key=value] [-S expr]\n" \
	"\t[--batch N|N% [--batch-sleep secs]] [--canary N] [--stop-on-error]"

#define CALL_ARGS	{ .opts = OPTS_CALL, .words = WORDS_KV, .maxkv = -1 }
#define CELERY_ARGS	{ .opts = OPTS_CELERY, .words = WORDS_CELERY }

/*
 * A Celery command: name, alias, usage, method, style, the variadic
 * argument, flags, then the positional arguments in order.
 */
#define CELERY(n, al, u, m, st, v, fl, ...) {				\
	.name = (n), .alias = (al), .usage = (u), .method = (m),	\
	.style = (st), .args = { .opts = OPTS_CELERY,			\
	    .words = WORDS_CELERY, .variadic = (v),			\
	    .args = { __VA_ARGS__ } },					\
	.flags = CMD_REPLY | (fl), .exec = call_exec }
#define INSPECT(n, al, u, v, fl, ...) \
	CELERY(n, al, u, n, STYLE_INSPECT, v, fl, __VA_ARGS__)
#define CONTROL(n, u, v, fl, ...) \
	CELERY(n, NULL, u, n, STYLE_CONTROL, v, fl, __VA_ARGS__)
#define A(n, k, r)	{ .name = (n), .kind = (k), .required = (r) }
#define NOARG		{ .name = NULL }

const struct cmd_entry cmd_table[] = {
	{ .name = "broadcast", .alias = "bc",
	  .usage = "method [key=value ...] [-r] [-t secs] [-l limit]\n"
	    "\t[-d node[,node...]] [-p pattern [-m glob|pcre]]\n"
	    "\t[-F key=value] [-S expr] [--async | --record]\n"
	    "\t[--batch N|N% [--batch-sleep secs]] [--canary N] "
	    "[--stop-on-error]",
	  .args = CALL_ARGS, .flags = CMD_METHOD_WORD, .exec = call_exec },
	{ .name = "certify",
	  .usage = "node.pub   (with -i fleet-key)",
	  .args = { .opts = OPTS_NONE, .words = WORDS_CELERY,
	      .args = { A("node_key", ARG_STR, 1) } },
	  .flags = CMD_LOCAL, .exec = certify_exec },
	{ .name = "describe",
	  .usage = "[-t secs] [-d node[,node...]]", .method = "describe",
	  .style = STYLE_DESCRIBE,
	  .args = { .opts = OPTS_DESCRIBE, .words = WORDS_NONE },
	  .flags = CMD_REPLY, .exec = call_exec },
	{ .name = "gc",
	  .usage = "[-n] [-g grace] [-i idle]",
	  .args = { .opts = OPTS_GC, .words = WORDS_NONE },
	  .exec = gc_exec },
	{ .name = "inventory", .alias = "inv",
	  .usage = "[-F key=value] [-S expr]",
	  .args = { .opts = OPTS_INVENTORY, .words = WORDS_NONE },
	  .exec = inventory_exec },
	{ .name = "jobs",
	  .usage = "[-l count]",
	  .args = { .opts = OPTS_JOBS, .words = WORDS_NONE },
	  .exec = jobs_exec },
	{ .name = "keygen",
	  .usage = "[-f file] [-C identity]",
	  .args = { .opts = OPTS_KEYGEN, .words = WORDS_NONE },
	  .flags = CMD_LOCAL, .exec = keygen_exec },
	{ .name = "nodes",
	  .usage = "[--names] [-t secs] [-d node[,node...]]\n"
	    "\t[-p pattern [-m glob|pcre]] [-F key=value] [-S expr]",
	  .method = "stats", .style = STYLE_NODES,
	  .args = { .opts = OPTS_NODES, .words = WORDS_NONE },
	  .flags = CMD_REPLY, .exec = call_exec },
	{ .name = "result",
	  .usage = "id [--wait] [-t secs]",
	  .args = { .opts = OPTS_RESULT, .words = WORDS_CELERY,
	      .args = { A("id", ARG_STR, 1) } },
	  .flags = CMD_OWN, .exec = result_exec },
	/* ping's key=value words are parsed, then refused */
	{ .name = "ping", .usage = PING_USAGE, .method = "ping",
	  .args = { .opts = OPTS_CALL, .words = WORDS_KV, .maxkv = 0 },
	  .flags = CMD_REPLY, .exec = call_exec },

	/* Celery's inspect commands (celery inspect X) */
	INSPECT("active", "dump_active", CO, NULL, 0, NOARG),
	INSPECT("active_queues", NULL, CO, NULL, 0, NOARG),
	INSPECT("clock", NULL, CO, NULL, 0, NOARG),
	INSPECT("memdump", NULL, "[samples]" CO, NULL, 0,
	    A("samples", ARG_INT, 0)),
	INSPECT("memsample", NULL, CO, NULL, 0, NOARG),
	INSPECT("objgraph", NULL, "[type [num [max_depth]]]" CO, NULL, 0,
	    A("type", ARG_STR, 0), A("num", ARG_INT, 0),
	    A("max_depth", ARG_INT, 0)),
	INSPECT("conf", "dump_conf", "[with_defaults]" CO, NULL, 0,
	    A("with_defaults", ARG_BOOL, 0)),
	INSPECT("query_task", NULL, "id ..." CO, "ids",
	    CMD_VARIADIC_REQUIRED, NOARG),
	INSPECT("registered", "dump_tasks", "[taskinfoitem ...]" CO,
	    "taskinfoitems", 0, NOARG),
	INSPECT("report", NULL, CO, NULL, 0, NOARG),
	INSPECT("reserved", "dump_reserved", CO, NULL, 0, NOARG),
	INSPECT("revoked", "dump_revoked", CO, NULL, 0, NOARG),
	INSPECT("scheduled", "dump_schedule", CO, NULL, 0, NOARG),
	INSPECT("stats", NULL, CO, NULL, 0, NOARG),
	CELERY("status", NULL, "[-t secs] [-d node[,...]]", "ping",
	    STYLE_STATUS, NULL, 0, NOARG),

	/* Celery's control commands (celery control X) */
	CONTROL("add_consumer",
	    "queue [exchange [exchange_type [routing_key]]]" CO, NULL, 0,
	    A("queue", ARG_STR, 1), A("exchange", ARG_STR, 0),
	    A("exchange_type", ARG_STR, 0), A("routing_key", ARG_STR, 0)),
	CONTROL("autoscale", "[max [min]]" CO, NULL, 0,
	    A("max", ARG_INT, 0), A("min", ARG_INT, 0)),
	CONTROL("cancel_consumer", "queue" CO, NULL, 0,
	    A("queue", ARG_STR, 1)),
	CONTROL("disable_events", CO, NULL, 0, NOARG),
	/* app.control.election()'s arguments: Celery's CLI sends none */
	CONTROL("election", "id topic [action]" CO, NULL, 0,
	    A("id", ARG_STR, 1), A("topic", ARG_STR, 1),
	    A("action", ARG_STR, 0)),
	CONTROL("enable_events", CO, NULL, 0, NOARG),
	CONTROL("heartbeat", CO, NULL, 0, NOARG),
	CONTROL("pool_grow", "[n]" CO, NULL, 0, A("n", ARG_INT, 0)),
	/* as Celery's CLI: no arguments (modules=None: the task modules) */
	CONTROL("pool_restart", CO, NULL, 0, NOARG),
	CONTROL("pool_shrink", "[n]" CO, NULL, 0, A("n", ARG_INT, 0)),
	CONTROL("rate_limit", "task_name rate_limit" CO, NULL, 0,
	    A("task_name", ARG_STR, 1), A("rate_limit", ARG_STR, 1)),
	CONTROL("revoke", "id ... [--terminate [--signal SIG]]" CO,
	    "task_id", CMD_VARIADIC_REQUIRED | CMD_REVOKE, NOARG),
	/* Celery >= 5.3; the worker splits each word at its '=' */
	CONTROL("revoke_by_stamped_headers",
	    "key=value ... [--terminate [--signal SIG]]" CO, "headers",
	    CMD_VARIADIC_REQUIRED | CMD_VARIADIC_KV | CMD_REVOKE, NOARG),
	/* a worker exits without replying: a cast (celery.c) */
	{ .name = "shutdown", .usage = "[-y|--yes]" CO, .method = "shutdown",
	  .style = STYLE_CONTROL, .args = CELERY_ARGS,
	  .flags = CMD_CONFIRM, .exec = celery_shutdown_exec },
	CONTROL("terminate", "signal id ..." CO, "task_id",
	    CMD_VARIADIC_REQUIRED, A("signal", ARG_STR, 1)),
	CONTROL("time_limit", "task_name soft [hard]" CO, NULL, 0,
	    A("task_name", ARG_STR, 1), A("soft", ARG_FLOAT, 1),
	    A("hard", ARG_FLOAT, 0)),

	/* celery inspect|control X ...: the same commands */
	{ .name = "inspect",
	  .usage = "command [args] (any inspect command above)",
	  .style = STYLE_INSPECT, .flags = CMD_FAMILY },
	{ .name = "control",
	  .usage = "command [args] (any control command above)",
	  .style = STYLE_CONTROL, .flags = CMD_FAMILY },

	/*
	 * inspect ping: Celery's ping, with Celery's options. Its usage is
	 * pidboxctl ping's, as it always said.
	 */
	{ .name = "ping", .usage = PING_USAGE, .method = "ping",
	  .style = STYLE_INSPECT, .args = CELERY_ARGS,
	  .flags = CMD_REPLY | CMD_HIDDEN, .exec = call_exec },
	{ .name = NULL }
};

/* The row named name (or with that alias); NULL when there is none. */
const struct cmd_entry *
cmd_find(const char *name)
{
	const struct cmd_entry	*cmd;

	for (cmd = cmd_table; cmd->name != NULL; cmd++) {
		if (cmd->flags & CMD_HIDDEN)
			continue;
		if (strcmp(cmd->name, name) == 0 ||
		    (cmd->alias != NULL && strcmp(cmd->alias, name) == 0))
			return cmd;
	}
	return NULL;
}

/* Edit distance of a and b (short words), capped at 3. */
static int
distance(const char *a, const char *b)
{
	size_t	la = strlen(a), lb = strlen(b), i, j;
	int	d[32][32];

	if (la >= 31 || lb >= 31)
		return 3;
	for (i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			d[i][j] = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < d[i][j])
				d[i][j] = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < d[i][j])
				d[i][j] = d[i][j - 1] + 1;
			/* a swap of two letters is one typo */
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 <
			    d[i][j])
				d[i][j] = d[i - 2][j - 2] + 1;
		}
	return d[la][lb] < 3 ? d[la][lb] : 3;
}

/* The command a mistyped name most likely meant; NULL: none close. */
const struct cmd_entry *
cmd_suggest(const char *name)
{
	const struct cmd_entry	*cmd, *best = NULL;
	int			 d, bestd = 3;

	for (cmd = cmd_table; cmd->name != NULL; cmd++) {
		if (cmd->flags & CMD_HIDDEN)
			continue;
		if ((d = distance(name, cmd->name)) < bestd) {
			bestd = d;
			best = cmd;
		}
	}
	return bestd <= (strlen(name) > 4 ? 2 : 1) ? best : NULL;
}

/*
 * The Celery command name of family (inspect or control): by name, the
 * hidden rows included, else by alias (dump_tasks...). NULL when there is
 * none or it belongs to the other family.
 */
int
cmd_is_celery(const struct cmd_entry *cmd)
{
	/* certify reads a Celery-style word, but is pidbox's own */
	return cmd->args.words == WORDS_CELERY &&
	    !(cmd->flags & (CMD_LOCAL | CMD_OWN));
}

const struct cmd_entry *
cmd_find_family(const struct cmd_entry *family, const char *name)
{
	const struct cmd_entry	*cmd;

	for (cmd = cmd_table; cmd->name != NULL; cmd++)
		if (cmd_is_celery(cmd) && strcmp(cmd->name, name) == 0)
			break;
	if (cmd->name == NULL && ((cmd = cmd_find(name)) == NULL ||
	    !cmd_is_celery(cmd)))
		return NULL;
	if (cmd->style != family->style)
		return NULL;
	return cmd;
}
