/*
 * args.c and cmd.c: pidboxctl's command table and the one parser that
 * reads every command line against a row's template. Linked with those
 * two objects only; the table's exec functions are stubs here.
 */
#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "pidbox.h"
#include "pidboxctl.h"

#define MAXWORDS	10

/* The table's exec functions: never run by the parser. */
int
call_exec(struct ctl *ctl, struct cmd_args *a)
{
	(void)ctl;
	(void)a;
	return 0;
}

int
gc_exec(struct ctl *ctl, struct cmd_args *a)
{
	(void)ctl;
	(void)a;
	return 0;
}

int
celery_shutdown_exec(struct ctl *ctl, struct cmd_args *a)
{
	(void)ctl;
	(void)a;
	return 0;
}

int
keygen_exec(struct ctl *ctl, struct cmd_args *a)
{
	(void)ctl;
	(void)a;
	return 0;
}

int
certify_exec(struct ctl *ctl, struct cmd_args *a)
{
	(void)ctl;
	(void)a;
	return 0;
}

int
inventory_exec(struct ctl *ctl, struct cmd_args *a)
{
	(void)ctl;
	(void)a;
	return 0;
}

int
jobs_exec(struct ctl *ctl, struct cmd_args *a)
{
	(void)ctl;
	(void)a;
	return 0;
}

int
result_exec(struct ctl *ctl, struct cmd_args *a)
{
	(void)ctl;
	(void)a;
	return 0;
}

struct pcase {
	const char	*argv[MAXWORDS];	/* as typed after the globals */
	int		 rc;
	const char	*msg;		/* ARGS_ERROR: the message, or NULL */
	int		 usage;		/* ARGS_ERROR: usage follows */
	const char	*method;	/* ARGS_OK: on the wire */
	const char	*arguments;	/* ARGS_OK: as plain JSON */
};

static const struct pcase cases[] = {
	/* pidboxctl's own commands */
	{ { "ping" }, ARGS_OK, NULL, 0, "ping", "{}" },
	/* ping reads no arguments: say so, and how to ask one node */
	{ { "ping", "a=1" }, ARGS_ERROR, "ping takes no arguments", 0, NULL,
	    NULL },
	{ { "ping", "x" }, ARGS_ERROR,
	    "ping takes no arguments; to ask one node: ping -d NODE", 0, NULL,
	    NULL },
	{ { "ping", "-m", "glob" }, ARGS_ERROR,
	  "-m needs -p pattern", 0, NULL, NULL },
	{ { "ping", "-p", "x", "-d", "a" }, ARGS_ERROR,
	  "-d and -p are mutually exclusive", 0, NULL, NULL },
	{ { "ping", "-t", "abc" }, ARGS_ERROR,
	  "timeout: abc: must be a number of seconds > 0", 0, NULL, NULL },
	{ { "ping", "-l", "0", "-r" }, ARGS_ERROR, "limit 0: too small", 0,
	  NULL, NULL },
	{ { "ping", "-d", "a,,b" }, ARGS_ERROR, "-d a,,b: empty node name", 0,
	  NULL, NULL },
	{ { "ping", "-p", "x", "-m", "bogus" }, ARGS_ERROR,
	  "pattern x (bogus): No matcher installed for bogus", 0, NULL, NULL },
	{ { "ping", "-x" }, ARGS_ERROR, NULL, 1, NULL, NULL },
	{ { "ping", "-h", "-t", "abc" }, ARGS_HELP, NULL, 0, NULL, NULL },
	{ { "ping", "-t", "abc", "-h" }, ARGS_ERROR,
	  "timeout: abc: must be a number of seconds > 0", 0, NULL, NULL },
	{ { "ping", "-V" }, ARGS_VERSION, NULL, 0, NULL, NULL },
	{ { "ping", "-N", "" }, ARGS_ERROR,
	  "namespace must be 1 to 255 bytes", 0, NULL, NULL },
	{ { "ping", "--color=pink" }, ARGS_ERROR,
	  "--color pink: must be auto, always or never", 0, NULL, NULL },
	{ { "broadcast" }, ARGS_ERROR, NULL, 1, NULL, NULL },
	{ { "broadcast", "" }, ARGS_ERROR, "method must be 1 to 255 bytes", 0,
	  NULL, NULL },
	{ { "bc", "m", "n=5", "s=x" }, ARGS_OK, NULL, 0, "m",
	  "{\"n\":5,\"s\":\"x\"}" },
	{ { "broadcast", "m", "-l", "2" }, ARGS_ERROR, "-l needs -r", 0, NULL,
	  NULL },
	{ { "gc", "x" }, ARGS_ERROR, NULL, 1, NULL, NULL },
	{ { "gc", "-g", "-1" }, ARGS_ERROR, "grace -1: too small", 0, NULL,
	  NULL },
	{ { "gc", "-r" }, ARGS_ERROR, NULL, 1, NULL, NULL },
	{ { "nodes", "x", "-m", "glob" }, ARGS_ERROR, NULL, 1, NULL, NULL },
	{ { "nodes" }, ARGS_OK, NULL, 0, "stats", "{}" },
	{ { "describe", "-p", "x" }, ARGS_ERROR, NULL, 1, NULL, NULL },
	{ { "describe" }, ARGS_OK, NULL, 0, "describe", "{}" },
	/* fleet operations (issue 15) */
	{ { "ping", "-F", "role=web", "-S", "dc=eu1 or not name=x" }, ARGS_OK,
	  NULL, 0, "ping", "{}" },
	{ { "ping", "-S", "role=web and (" }, ARGS_ERROR,
	  "-S role=web and (: at column 15: a comparison (key=value) "
	  "expected at the end", 0, NULL, NULL },
	{ { "ping", "-F", "role" }, ARGS_ERROR, "-F role: at column 5: an "
	  "operator (=, !=, <, <=, >, >=) expected after role", 0, NULL, NULL },
	{ { "ping", "-F", "a=b", "-d", "x" }, ARGS_ERROR,
	  "-F/-S select nodes themselves: not with -d or -p", 0, NULL, NULL },
	{ { "ping", "--batch", "0" }, ARGS_ERROR,
	  "--batch 0: too small (1 to 4096 nodes)", 0, NULL, NULL },
	{ { "ping", "--batch", "101%" }, ARGS_ERROR,
	  "--batch 101%: too large (1 to 100%)", 0, NULL, NULL },
	{ { "ping", "--batch-sleep", "1" }, ARGS_ERROR,
	  "--batch-sleep and --stop-on-error need --batch or --canary", 0,
	  NULL, NULL },
	{ { "bc", "m", "--async", "-l", "1", "-r" }, ARGS_ERROR,
	  "--async does not wait: not with -l", 0, NULL, NULL },
	{ { "result" }, ARGS_ERROR, "result: missing argument id", 1, NULL,
	  NULL },
	{ { "jobs", "-l", "0" }, ARGS_ERROR, "limit 0: too small", 0, NULL,
	  NULL },

	/* Celery's commands: typed positional words */
	{ { "stats", "extra", "-m", "glob" }, ARGS_ERROR,
	  "-m needs -p pattern", 0, NULL, NULL },
	{ { "stats", "extra" }, ARGS_ERROR, "stats: too many arguments", 1,
	  NULL, NULL },
	{ { "stats", "-y" }, ARGS_ERROR, NULL, 1, NULL, NULL },
	{ { "stats", "--terminate" }, ARGS_ERROR, NULL, 1, NULL, NULL },
	{ { "status" }, ARGS_OK, NULL, 0, "ping", "{}" },
	{ { "dump_conf", "yes" }, ARGS_OK, NULL, 0, "conf",
	  "{\"with_defaults\":true}" },
	{ { "conf", "maybe" }, ARGS_ERROR, "conf: with_defaults maybe: not a "
	  "boolean (true/false, yes/no, 1/0, on/off)", 0, NULL, NULL },
	{ { "time_limit", "t", "1.5" }, ARGS_OK, NULL, 0, "time_limit",
	  "{\"task_name\":\"t\",\"soft\":1.5}" },
	{ { "time_limit", "t" }, ARGS_ERROR,
	  "time_limit: missing argument soft", 1, NULL, NULL },
	{ { "time_limit", "t", "x" }, ARGS_ERROR,
	  "time_limit: soft x: not a number", 0, NULL, NULL },
	{ { "autoscale", "a" }, ARGS_ERROR, "autoscale: max a: invalid", 0,
	  NULL, NULL },
	{ { "autoscale", "4", "2" }, ARGS_OK, NULL, 0, "autoscale",
	  "{\"max\":4,\"min\":2}" },
	{ { "add_consumer", "q", "ex" }, ARGS_OK, NULL, 0, "add_consumer",
	  "{\"queue\":\"q\",\"exchange\":\"ex\"}" },
	{ { "query_task" }, ARGS_ERROR,
	  "query_task: needs at least one argument (ids)", 1, NULL, NULL },
	{ { "registered" }, ARGS_OK, NULL, 0, "registered",
	  "{\"taskinfoitems\":[]}" },
	{ { "revoke", "x", "y", "--terminate", "--signal", "KILL" }, ARGS_OK,
	  NULL, 0, "revoke", "{\"task_id\":[\"x\",\"y\"],\"terminate\":true,"
	  "\"signal\":\"KILL\"}" },
	{ { "revoke", "x", "--signal", "9" }, ARGS_ERROR,
	  "--signal needs --terminate", 0, NULL, NULL },
	{ { "revoke", "x", "--terminate", "--signal", "S!G" }, ARGS_ERROR,
	  "--signal S!G: a signal name (TERM, SIGKILL...) or number", 0, NULL,
	  NULL },
	{ { "shutdown", "-y" }, ARGS_OK, NULL, 0, "shutdown", "{}" },
	{ { "shutdown", "x" }, ARGS_ERROR, "shutdown: too many arguments", 1,
	  NULL, NULL },
};

/* args_parse() of the words (a NULL-terminated list) for cmd_find(w[0]). */
static int
parse(struct ctl *ctl, const char *const *w, struct cmd_args *a,
    struct args_error *e)
{
	const struct cmd_entry	*cmd;
	char			*argv[MAXWORDS + 1];
	int			 n;

	for (n = 0; n < MAXWORDS && w[n] != NULL; n++)
		argv[n] = (char *)(uintptr_t)w[n];	/* getopt permutes */
	argv[n] = NULL;
	if ((cmd = cmd_find(argv[0])) == NULL)
		fail_msg("no command %s", argv[0]);
	return args_parse(ctl, cmd, n, argv, a, e);
}

/* Each case: the right code, message, usage flag, method, arguments. */
static void
test_parse_cases(void **state)
{
	struct cmd_args		 a;
	struct args_error	 e;
	struct ctl		 ctl;
	const struct pcase	*c;
	const char		*got;
	size_t			 i;
	int			 rc;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		c = &cases[i];
		memset(&ctl, 0, sizeof(ctl));
		rc = parse(&ctl, c->argv, &a, &e);
		if (rc != c->rc)
			fail_msg("case %zu (%s %s): rc %d, want %d (%s)", i,
			    c->argv[0], c->argv[1] ? c->argv[1] : "", rc,
			    c->rc, e.msg != NULL ? e.msg : "-");
		if (rc == ARGS_ERROR) {
			if ((c->msg == NULL) != (e.msg == NULL) ||
			    (c->msg != NULL && strcmp(c->msg, e.msg) != 0))
				fail_msg("case %zu (%s): message \"%s\", want "
				    "\"%s\"", i, c->argv[0],
				    e.msg ? e.msg : "-", c->msg ? c->msg : "-");
			if (e.usage != c->usage)
				fail_msg("case %zu (%s): usage %d, want %d", i,
				    c->argv[0], e.usage, c->usage);
		}
		if (rc == ARGS_OK) {
			assert_string_equal(a.req.method, c->method);
			got = json_object_to_json_string_ext(a.req.arguments,
			    JSON_C_TO_STRING_PLAIN);
			if (strcmp(got, c->arguments) != 0)
				fail_msg("case %zu (%s): arguments %s, want %s",
				    i, c->argv[0], got, c->arguments);
		}
		args_error_free(&e);
		args_free(&a);
	}
}

/* The values the options leave in the call, and the defaults. */
static void
test_parse_values(void **state)
{
	static const char *const ping[] = { "ping", "-d", "a,b", "-t", "2.5",
	    NULL };
	static const char *const pat[] = { "ping", "-p", "web*", "--limit",
	    "3", NULL };
	static const char *const bc[] = { "bc", "m", NULL };
	static const char *const gc[] = { "gc", "-n", "--grace", "5", "-i",
	    "7", NULL };
	static const char *const gc0[] = { "gc", NULL };
	static const char *const sd[] = { "shutdown", "--yes", "-j", "-N",
	    "ns", NULL };
	struct cmd_args		 a;
	struct args_error	 e;
	struct ctl		 ctl;

	(void)state;
	memset(&ctl, 0, sizeof(ctl));
	assert_int_equal(parse(&ctl, ping, &a, &e),
	    ARGS_OK);
	assert_int_equal(a.req.ndestination, 2);
	assert_string_equal(a.req.destination[1], "b");
	assert_true(a.req.timeout == 2.5);
	assert_int_equal(a.req.reply, 1);
	args_free(&a);

	assert_int_equal(parse(&ctl, pat, &a, &e),
	    ARGS_OK);
	assert_string_equal(a.req.pattern, "web*");
	assert_string_equal(a.req.matcher, "glob");	/* always named */
	assert_int_equal(a.req.limit, 3);
	args_free(&a);

	assert_int_equal(parse(&ctl, bc, &a, &e),
	    ARGS_OK);
	assert_int_equal(a.req.reply, 0);
	assert_true(a.req.timeout == DEFAULT_TIMEOUT);
	assert_ptr_equal(a.cmd, cmd_find("broadcast"));
	args_free(&a);

	assert_int_equal(parse(&ctl, gc, &a, &e),
	    ARGS_OK);
	assert_int_equal(a.gc.dry_run, 1);
	assert_int_equal(a.gc.grace, 5);
	assert_int_equal(a.gc.idle, 7);
	args_free(&a);
	assert_int_equal(parse(&ctl, gc0, &a, &e),
	    ARGS_OK);
	assert_int_equal(a.gc.grace, 30);
	assert_int_equal(a.gc.idle, 300);
	args_free(&a);

	/* global options after the command name */
	assert_int_equal(parse(&ctl, sd, &a, &e), ARGS_OK);
	assert_int_equal(a.yes, 1);
	assert_int_equal(ctl.json, 1);
	assert_int_equal(ctl.format, FORMAT_JSON);
	assert_string_equal(ctl.ns, "ns");
	args_free(&a);
}

/* Names and aliases are unique; hidden rows are found only as inspect X. */
static void
test_table(void **state)
{
	const struct cmd_entry	*c, *d;

	(void)state;
	for (c = cmd_table; c->name != NULL; c++) {
		assert_non_null(c->usage);
		if (!(c->flags & CMD_FAMILY))
			assert_non_null(c->exec);
		if (c->flags & CMD_HIDDEN)
			continue;
		assert_ptr_equal(cmd_find(c->name), c);
		if (c->alias != NULL)
			assert_ptr_equal(cmd_find(c->alias), c);
		for (d = c + 1; d->name != NULL; d++) {
			if (d->flags & CMD_HIDDEN)
				continue;
			assert_string_not_equal(c->name, d->name);
			if (d->alias != NULL)
				assert_string_not_equal(c->name, d->alias);
		}
	}
	assert_null(cmd_find("nosuch"));
	assert_null(cmd_find("dump_nothing"));
}

/* inspect X and control X: X by name or alias, in its family only. */
static void
test_family(void **state)
{
	const struct cmd_entry	*inspect, *control, *c;

	(void)state;
	inspect = cmd_find("inspect");
	control = cmd_find("control");
	assert_non_null(inspect);
	assert_non_null(control);
	c = cmd_find_family(inspect, "ping");	/* Celery's, not ours */
	assert_non_null(c);
	assert_true(c->flags & CMD_HIDDEN);
	assert_int_equal(c->args.opts, OPTS_CELERY);
	assert_ptr_not_equal(c, cmd_find("ping"));
	assert_ptr_equal(cmd_find_family(inspect, "dump_tasks"),
	    cmd_find("registered"));
	assert_ptr_equal(cmd_find_family(control, "rate_limit"),
	    cmd_find("rate_limit"));
	assert_null(cmd_find_family(inspect, "rate_limit"));
	assert_null(cmd_find_family(control, "stats"));
	assert_null(cmd_find_family(inspect, "status"));
	assert_null(cmd_find_family(control, "status"));
	assert_null(cmd_find_family(inspect, "gc"));
	assert_null(cmd_find_family(inspect, "inspect"));
	assert_null(cmd_find_family(inspect, "nosuch"));
	assert_null(cmd_find_family(inspect, "certify")); /* pidbox's own */
	/* every Celery row is reachable through its family */
	for (c = cmd_table; c->name != NULL; c++) {
		if (!cmd_is_celery(c) || c->style == STYLE_STATUS)
			continue;
		assert_ptr_equal(cmd_find_family(c->style == STYLE_CONTROL ?
		    control : inspect, c->name), c);
	}
}

/* The global options on their own. */
static void
test_global(void **state)
{
	struct args_error	e;
	struct ctl		ctl;

	(void)state;
	memset(&ctl, 0, sizeof(ctl));
	memset(&e, 0, sizeof(e));
	assert_int_equal(args_global(&ctl, 'T', "direct", &e), ARGS_OK);
	assert_int_equal(ctl.mbox.type, MAILBOX_DIRECT);
	assert_int_equal(ctl.type_set, 1);
	assert_int_equal(args_global(&ctl, 'T', "bad", &e), ARGS_ERROR);
	assert_string_equal(e.msg, "unknown mailbox type bad (fanout, direct "
	    "or topic)");
	args_error_free(&e);
	assert_int_equal(args_global(&ctl, OPT_YAML, NULL, &e), ARGS_OK);
	assert_int_equal(ctl.format, FORMAT_YAML);
	assert_int_equal(args_global(&ctl, 'v', NULL, &e), ARGS_OK);
	assert_int_equal(args_global(&ctl, 'v', NULL, &e), ARGS_OK);
	assert_int_equal(ctl.verbose, 2);
	assert_int_equal(args_global(&ctl, 'h', NULL, &e), ARGS_HELP);
	assert_int_equal(args_global(&ctl, 'V', NULL, &e), ARGS_VERSION);
	assert_int_equal(args_global(&ctl, 'r', NULL, &e), ARGS_NOTGLOBAL);
	assert_null(e.msg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_cases),
		cmocka_unit_test(test_parse_values),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_family),
		cmocka_unit_test(test_global),
	};

	opterr = 0;	/* getopt's own messages are not ours to test */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
