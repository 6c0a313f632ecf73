/*
 * policy.c: ordered rules of method globs and identities, first match
 * wins; a dangerous method is allowed only by a rule that names it.
 */
#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pidboxd.h"

static char	m_deploy[] = "deploy", m_star[] = "*", m_stats[] = "st*";
static char	m_shutdown[] = "shutdown";
static char	i_alice[] = "alice", i_any[] = "*";

static char	*allow_deploy_m[] = { m_deploy };
static char	*alice_i[] = { i_alice };
static char	*star_m[] = { m_star };
static char	*stats_m[] = { m_stats };
static char	*shutdown_m[] = { m_shutdown };
static char	*any_i[] = { i_any };

struct pcase {
	const char	*method;
	int		 dangerous;
	const char	*identity;	/* "" unsigned */
	int		 allowed;
	const char	*why;		/* when refused */
};

static void
run(const struct policy_conf *p, const struct pcase *c, size_t n)
{
	const char	*why;
	size_t		 i;
	int		 got;

	for (i = 0; i < n; i++) {
		why = NULL;
		got = policy_allows(p, c[i].method, c[i].dangerous,
		    c[i].identity, &why);
		if (got != c[i].allowed)
			fail_msg("case %zu (%s as '%s'): got %d", i,
			    c[i].method, c[i].identity, got);
		if (!got && strcmp(why, c[i].why) != 0)
			fail_msg("case %zu: why '%s', want '%s'", i, why,
			    c[i].why);
	}
}

/* No rules: the default decides, but never for a dangerous method. */
static void
test_default(void **state)
{
	struct policy_conf p = { 1, NULL, 0 };
	static const struct pcase c[] = {
		{ "ping", 0, "", 1, NULL },
		{ "shutdown", 1, "alice", 0,
		    "dangerous method not allowed by any policy rule" },
	};
	static const struct pcase deny[] = {
		{ "ping", 0, "", 0, "denied by the default policy" },
	};

	(void)state;
	run(&p, c, nitems(c));
	p.default_allow = 0;
	run(&p, deny, nitems(deny));
}

/* First match wins; identities; a glob never grants a dangerous method. */
static void
test_rules(void **state)
{
	struct policy_rule r[] = {
		{ allow_deploy_m, 1, alice_i, 1, 1 },	/* alice may deploy */
		{ allow_deploy_m, 1, NULL, 0, 0 },	/* nobody else */
		{ shutdown_m, 1, any_i, 1, 1 },		/* any signed: shutdown */
		{ star_m, 1, alice_i, 1, 1 },		/* alice: everything */
		{ stats_m, 1, NULL, 0, 0 },		/* st*: nobody else */
	};
	struct policy_conf p = { 1, r, nitems(r) };
	static const struct pcase c[] = {
		{ "deploy", 0, "alice", 1, NULL },
		{ "deploy", 0, "bob", 0, "denied by policy rule" },
		{ "deploy", 0, "", 0, "denied by policy rule" },
		/* "*" identities need a signed request */
		{ "shutdown", 1, "bob", 1, NULL },
		{ "shutdown", 1, "", 0,
		    "dangerous method not allowed by any policy rule" },
		/* alice's glob does not grant a dangerous method */
		{ "pool_restart", 1, "alice", 0,
		    "dangerous method not allowed by any policy rule" },
		{ "stats", 0, "alice", 1, NULL },
		{ "stats", 0, "bob", 0, "denied by policy rule" },
		{ "ping", 0, "bob", 1, NULL },
	};

	(void)state;
	run(&p, c, nitems(c));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
