/*
 * config.c and methods_conf.c: YAML snippets against the key tables.
 * Bad ones must give exactly the "t.yaml:line:col: message" lines that
 * pidboxd -t prints (the sink is stderr until conf_log_errors()); good
 * ones must land in the right fields of struct pidboxd_conf.
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

#include "pidboxd.h"

static const struct bad_case {
	const char	*yaml;
	const char	*errors;	/* every line, in order */
} bad_cases[] = {
	{ "reply_ttl: 0\n",
	  "t.yaml:1:12: reply_ttl: expected seconds from 1 to 86400\n" },
	{ "reply_ttl: ~\n",
	  "t.yaml:1:12: reply_ttl: expected a value\n" },
	{ "expiry_skew: [1]\n",
	  "t.yaml:1:14: expiry_skew: expected seconds from 0 to 86400, or -1 "
	  "to never expire requests\n" },
	{ "hostname: a,b\nnosuch: 1\n",
	  "t.yaml:1:11: hostname: must not contain control characters or "
	  "commas\n"
	  "t.yaml:2:1: unknown setting \"nosuch\"\n" },
	{ "type: sideways\nverbose: maybe\n",
	  "t.yaml:1:7: type: expected fanout, direct or topic\n"
	  "t.yaml:2:10: verbose: expected true or false\n" },
	{ "pidfile: run/x.pid\n",
	  "t.yaml:1:10: pidfile: expected an absolute path\n" },
	{ "hostname: a\nhostname: b\n",
	  "t.yaml:2:1: \"hostname\" given twice (first at line 1)\n" },
	{ "[1]\n",
	  "t.yaml:1:1: expected a mapping of settings\n" },
	{ "audit: 1\n",
	  "t.yaml:1:8: audit: expected a mapping (file, syslog, mask)\n" },
	{ "audit:\n  file: rel\n  mask: {a: 1}\n  x: 1\n",
	  "t.yaml:2:9: audit.file: expected an absolute path\n"
	  "t.yaml:3:9: audit.mask: expected a list of strings\n"
	  "t.yaml:4:3: audit: unknown key \"x\" (file, syslog, mask)\n" },
	{ "policy:\n  default: maybe\n  rules:\n    - {allow: a, deny: b}\n"
	  "    - {bogus: 1}\n",
	  "t.yaml:2:12: policy.default: expected allow or deny\n"
	  "t.yaml:4:7: policy.rules[0]: needs exactly one of allow or deny\n"
	  "t.yaml:5:8: policy.rules[1]: unknown key \"bogus\" (allow, deny, "
	  "identities)\n"
	  "t.yaml:5:7: policy.rules[1]: needs exactly one of allow or deny\n" },
	{ "signing:\n  max_ttl: 0\n  require_signed: true\n  x: 1\n",
	  "t.yaml:2:12: signing.max_ttl: expected seconds from 1 to 86400\n"
	  "t.yaml:4:3: signing: unknown key \"x\" (require_signed, key_file, "
	  "keys, public_keys, max_ttl, nonce_cache)\n"
	  "t.yaml:2:3: signing: require_signed needs public_keys, key_file "
	  "or keys\n" },
	/* a node holds no key that can sign a request (issue 13) */
	{ "signing:\n  public_keys:\n"
	  "    - pidbox-ed25519-private "
	  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= ops\n"
	  "    - 00112233445566778899aabbccddeeff\n"
	  "    - pidbox-ed25519 AAAA ops\n"
	  "    - [x]\n",
	  "t.yaml:3:7: signing.public_keys: a private key where a public key "
	  "is expected; a node holds public keys only (give the .pub file)\n"
	  "t.yaml:4:7: signing.public_keys: not a pidbox-ed25519 key (an HMAC "
	  "secret? make one with pidboxctl keygen)\n"
	  "t.yaml:5:7: signing.public_keys: the key is not base64 of 32 bytes "
	  "(truncated?)\n"
	  "t.yaml:6:7: signing.public_keys: expected a key line or an absolute "
	  "path\n" },
	{ "methods: 1\n",
	  "t.yaml:1:10: methods: expected a mapping of method names\n" },
	{ "methods:\n  ping: {argv: [/bin/true]}\n  m: 1\n",
	  "t.yaml:2:3: methods.ping: a built-in method has that name\n"
	  "t.yaml:3:6: methods.m: expected a mapping (argv, args, help, "
	  "timeout, ...)\n" },
	{ "methods:\n  m:\n    timeout: 0\n    bogus: 1\n",
	  "t.yaml:3:14: methods.m.timeout: expected seconds from 0.001 to "
	  "86400\n"
	  "t.yaml:4:5: methods.m: unknown key \"bogus\" (argv, args, help, "
	  "stdin_json, env_args, timeout, kill_grace, max_output, "
	  "max_concurrent, cwd, user, group, dangerous)\n"
	  "t.yaml:2:3: methods.m.argv: missing (the program and its "
	  "arguments, as a list)\n" },
	{ "methods:\n  m:\n    argv: [/bin/true, \"{nope}\"]\n    args:\n"
	  "      n: {type: int, regex: a, min: 5, max: 1, default: x}\n"
	  "      s: {type: text, y: 1}\n",
	  "t.yaml:5:29: methods.m.args.n.regex: only for type string\n"
	  "t.yaml:5:10: methods.m.args.n: min is greater than max\n"
	  "t.yaml:5:57: methods.m.args.n.default: not a valid value of its "
	  "type\n"
	  "t.yaml:6:17: methods.m.args.s.type: expected string, int, number "
	  "or bool\n"
	  "t.yaml:6:23: methods.m.args.s: unknown key \"y\" (type, required, "
	  "default, regex, min, max, max_length, secret, help)\n"
	  "t.yaml:3:23: methods.m.argv[1]: placeholder {nope} names no "
	  "declared argument\n" },
};

/* Load yaml into c, return what went to stderr (caller frees). */
static char *
load(struct pidboxd_conf *c, const char *yaml, int *rc)
{
	FILE	*tmp;
	char	*out;
	long	 len;
	int	 saved;

	conf_defaults(c);
	assert_non_null(tmp = tmpfile());
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fileno(tmp), STDERR_FILENO);
	*rc = conf_load_buf(c, yaml, strlen(yaml), "t.yaml");
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	len = lseek(fileno(tmp), 0, SEEK_END);	/* shared with fd 2 */
	out = calloc(1, (size_t)len + 1);
	assert_non_null(out);
	rewind(tmp);
	if (len > 0)
		assert_int_equal(fread(out, 1, (size_t)len, tmp), (size_t)len);
	fclose(tmp);
	return out;
}

static void
test_bad(void **state)
{
	struct pidboxd_conf	 c;
	char			*out;
	size_t			 i;
	int			 rc;

	(void)state;
	for (i = 0; i < nitems(bad_cases); i++) {
		out = load(&c, bad_cases[i].yaml, &rc);
		if (rc != -1 || strcmp(out, bad_cases[i].errors) != 0)
			fail_msg("bad_cases[%zu]: rc %d, got\n%s\nwant\n%s", i,
			    rc, out, bad_cases[i].errors);
		free(out);
		conf_clear(&c);
	}
}

static void
test_top_level(void **state)
{
	struct pidboxd_conf	 c;
	char			*out;
	int			 rc;

	(void)state;
	out = load(&c, "hostname: h1\nnamespace: ns\ntype: direct\n"
	    "expiry_skew: -1\nreply_ttl: 60\nmax_message_size: 2048\n"
	    "verbose: yes\npidfile: /run/x.pid\nmax_children: 7\n"
	    "broker: redis://:pw@h:7/3\nbroker_password: other\n", &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(out, "");
	assert_string_equal(c.hostname, "h1");
	assert_string_equal(c.ns, "ns");
	assert_int_equal(c.type, MAILBOX_DIRECT);
	assert_true(c.expiry_skew == -1);
	assert_int_equal(c.reply_ttl, 60);
	assert_int_equal(c.max_message, 2048);
	assert_int_equal(c.verbose, 1);
	assert_string_equal(c.pidfile, "/run/x.pid");
	assert_int_equal(c.max_children, 7);
	assert_string_equal(c.url.host, "h");
	assert_int_equal(c.url.port, 7);
	assert_int_equal(c.url.db, 3);
	assert_string_equal(c.url.password, "pw");
	assert_int_equal(c.file_has_password, 1);
	free(out);
	conf_clear(&c);
}

static void
test_broker_url(void **state)
{
	struct pidboxd_conf	 c;
	struct redis_url	 u;
	const char		*errstr;
	char			 err[256];

	(void)state;
	conf_defaults(&c);
	assert_int_equal(conf_set_broker(&c, "ftp://x", err, sizeof(err)), -1);
	assert_int_equal(conf_broker_url(&c, &u, &errstr), -1);
	assert_int_equal(conf_set_broker(&c, "redis://:a@h/1", err,
	    sizeof(err)), 0);
	assert_int_equal(conf_broker_url(&c, &u, &errstr), 0);
	assert_string_equal(u.password, "a");
	redis_url_clear(&u);
	c.broker_password = strdup("merged");
	assert_int_equal(conf_broker_url(&c, &u, &errstr), 0);
	assert_string_equal(u.password, "merged");
	assert_string_equal(c.url.password, "a");	/* c keeps its own */
	assert_int_equal(u.db, 1);
	redis_url_clear(&u);
	conf_clear(&c);
}

static void
test_sections(void **state)
{
	struct pidboxd_conf	 c;
	const struct method_conf *m;
	char			*out;
	int			 rc;

	(void)state;
	out = load(&c, "audit:\n  syslog: on\n"
	    "  mask: token\n"
	    "policy:\n  default: deny\n  rules:\n"
	    "    - {allow: [ping, stats], identities: alice}\n"
	    "signing:\n  max_ttl: 60\n  nonce_cache: 16\n"
	    "methods:\n  greet:\n    argv: [/bin/echo, \"{who}\"]\n"
	    "    help: Say hello\n    timeout: 1.5\n    max_output: 100\n"
	    "    max_concurrent: 3\n    env_args: true\n    cwd: /tmp\n"
	    "    args:\n      who: {type: string, required: true,"
	    " regex: \"[a-z]+\", max_length: 20}\n"
	    "      n: {type: int, min: 1, max: 9, default: 5}\n", &rc);
	assert_string_equal(out, "");
	assert_int_equal(rc, 0);
	assert_null(c.audit.file);
	assert_int_equal(c.audit.syslog, 1);
	assert_int_equal(c.audit.nmask, 1);
	assert_string_equal(c.audit.mask[0], "token");
	assert_int_equal(c.policy.default_allow, 0);
	assert_int_equal(c.policy.nrules, 1);
	assert_int_equal(c.policy.rules[0].allow, 1);
	assert_int_equal(c.policy.rules[0].nmethods, 2);
	assert_string_equal(c.policy.rules[0].methods[1], "stats");
	assert_string_equal(c.policy.rules[0].identities[0], "alice");
	assert_int_equal(c.signing.max_ttl, 60);
	assert_int_equal(c.signing.nonce_cache, 16);
	assert_non_null(m = conf_method(&c, "greet"));
	assert_null(conf_method(&c, "nosuch"));
	assert_int_equal(m->argc, 2);
	assert_string_equal(m->argv[1], "{who}");
	assert_string_equal(m->help, "Say hello");
	assert_int_equal(m->timeout_ms, 1500);
	assert_int_equal(m->kill_grace_ms, DEFAULT_KILL_GRACE);
	assert_int_equal(m->max_output, 100);
	assert_int_equal(m->max_concurrent, 3);
	assert_int_equal(m->env_args, 1);
	assert_int_equal(m->stdin_json, 0);
	assert_string_equal(m->cwd, "/tmp");
	assert_int_equal(m->nargs, 2);
	assert_string_equal(m->args[0].name, "who");
	assert_int_equal(m->args[0].required, 1);
	assert_string_equal(m->args[0].regex, "[a-z]+");
	assert_non_null(m->args[0].re);
	assert_int_equal(m->args[0].max_length, 20);
	assert_int_equal(m->args[1].type, ARG_INT);
	assert_true(m->args[1].has_min && m->args[1].min == 1);
	assert_true(m->args[1].has_max && m->args[1].max == 9);
	assert_int_equal(json_object_get_int64(m->args[1].def), 5);
	assert_int_equal(m->args[1].max_length, DEFAULT_MAX_STRING);
	free(out);
	conf_clear(&c);
}

/*
 * An audit file is refused while a method would run as pidboxd's own user
 * (issue 16.8): it could truncate or remove the file.
 */
static void
test_audit_file_methods(void **state)
{
	struct pidboxd_conf	 c;
	char			*out, want[512];
	int			 rc;

	(void)state;
	out = load(&c, "audit:\n  file: /tmp/a.log\n", &rc);
	assert_string_equal(out, "");
	assert_int_equal(rc, 0);
	assert_string_equal(c.audit.file, "/tmp/a.log");
	free(out);
	conf_clear(&c);

	out = load(&c, "audit:\n  file: /tmp/a.log\n"
	    "methods:\n  wipe:\n    argv: [/bin/true]\n", &rc);
	snprintf(want, sizeof(want), "t.yaml: audit.file: method \"wipe\" runs "
	    "as pidboxd's own user (uid %u), which could rewrite or remove the "
	    "audit file; give every method a user: of its own, or audit to "
	    "syslog (audit.syslog: true, the journal) instead\n",
	    (unsigned)geteuid());
	assert_string_equal(out, want);
	assert_int_equal(rc, -1);
	free(out);
	conf_clear(&c);

	out = load(&c, "audit:\n  syslog: true\n"
	    "methods:\n  wipe:\n    argv: [/bin/true]\n", &rc);
	assert_string_equal(out, "");
	assert_int_equal(rc, 0);
	free(out);
	conf_clear(&c);
}

/* A repeated list replaces the first (it used to write past it). */
static void
test_repeated_lists(void **state)
{
	struct pidboxd_conf	 c;
	char			*out;
	int			 rc;

	(void)state;
	out = load(&c, "policy:\n  rules: [{allow: a}, {allow: b}, "
	    "{allow: c}]\n  rules: [{deny: d}]\n"
	    "methods:\n  m:\n    argv: [/bin/true]\n"
	    "    args: {a: {}, b: {}, c: {}}\n    args: {d: {}}\n", &rc);
	assert_string_equal(out, "");
	assert_int_equal(rc, 0);
	assert_int_equal(c.policy.nrules, 1);
	assert_string_equal(c.policy.rules[0].methods[0], "d");
	assert_int_equal(c.methods[0].nargs, 1);
	assert_string_equal(c.methods[0].args[0].name, "d");
	free(out);
	conf_clear(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_top_level),
		cmocka_unit_test(test_broker_url),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_audit_file_methods),
		cmocka_unit_test(test_repeated_lists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
