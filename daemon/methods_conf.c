/*
 * The methods: section of pidboxd's configuration: operator-defined
 * methods and their argument schemas, parsed and checked against key
 * tables (config.c walks them), looked up, and freed. schema.c applies
 * the schemas to requests; exec.c runs the methods.
 */
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pidboxd.h"

static int	set_args(const struct conf_at *, const struct ynode *,
		    const char **);
static int	set_bound(const struct conf_at *, const struct ynode *,
		    const char **);
static int	set_regex(const struct conf_at *, const struct ynode *,
		    const char **);

#define M(f)	offsetof(struct method_conf, f)
#define A(f)	offsetof(struct arg_spec, f)

/* The keys of one method, in the order its messages list them. */
enum {
	MK_ARGV, MK_ARGS, MK_HELP, MK_STDIN_JSON, MK_ENV_ARGS, MK_TIMEOUT,
	MK_KILL_GRACE, MK_MAX_OUTPUT, MK_MAX_CONCURRENT, MK_CWD, MK_USER,
	MK_GROUP, MK_DANGEROUS, MK_N
};

static const struct conf_key method_keys[MK_N] = {
	[MK_ARGV] = { .name = "argv", .kind = CK_LATER, .flags = CONF_HINT },
	[MK_ARGS] = { .name = "args", .kind = CK_FUNC, .flags = CONF_HINT,
	    .set = set_args },
	[MK_HELP] = { .name = "help", .kind = CK_TEXT, .off = M(help),
	    .flags = CONF_HINT },
	[MK_STDIN_JSON] = { .name = "stdin_json", .kind = CK_BOOL,
	    .off = M(stdin_json) },
	[MK_ENV_ARGS] = { .name = "env_args", .kind = CK_BOOL,
	    .off = M(env_args) },
	[MK_TIMEOUT] = { .name = "timeout", .kind = CK_MS,
	    .off = M(timeout_ms), .min = 0.001, .max = 86400,
	    .expect = "expected seconds from 0.001 to 86400",
	    .flags = CONF_HINT },
	[MK_KILL_GRACE] = { .name = "kill_grace", .kind = CK_MS,
	    .off = M(kill_grace_ms), .min = 0, .max = 600,
	    .expect = "expected seconds from 0 to 600" },
	[MK_MAX_OUTPUT] = { .name = "max_output", .kind = CK_SIZE,
	    .off = M(max_output), .min = 0, .max = 16777216,
	    .expect = "expected bytes from 0 to 16777216" },
	[MK_MAX_CONCURRENT] = { .name = "max_concurrent", .kind = CK_INT,
	    .off = M(max_concurrent), .min = 1, .max = 200,
	    .expect = "expected 1 to 200" },
	[MK_CWD] = { .name = "cwd", .kind = CK_PATH, .off = M(cwd) },
	[MK_USER] = { .name = "user", .kind = CK_LATER },
	[MK_GROUP] = { .name = "group", .kind = CK_LATER },
	[MK_DANGEROUS] = { .name = "dangerous", .kind = CK_BOOL,
	    .off = M(dangerous) },
};
static const struct conf_section method_section = {
	method_keys, nitems(method_keys), NULL
};

enum {
	AK_TYPE, AK_REQUIRED, AK_DEFAULT, AK_REGEX, AK_MIN, AK_MAX,
	AK_MAX_LENGTH, AK_SECRET, AK_HELP, AK_N
};

/* One argument's schema; type first, as default and regex depend on it. */
static const struct conf_key arg_keys[AK_N] = {
	[AK_TYPE] = { .name = "type", .kind = CK_LATER, .flags = CONF_HINT },
	[AK_REQUIRED] = { .name = "required", .kind = CK_BOOL,
	    .off = A(required), .flags = CONF_HINT },
	[AK_DEFAULT] = { .name = "default", .kind = CK_LATER,
	    .flags = CONF_HINT },
	[AK_REGEX] = { .name = "regex", .kind = CK_FUNC, .flags = CONF_HINT,
	    .set = set_regex },
	[AK_MIN] = { .name = "min", .kind = CK_FUNC, .off = A(min),
	    .off_n = A(has_min), .flags = CONF_HINT, .set = set_bound },
	[AK_MAX] = { .name = "max", .kind = CK_FUNC, .off = A(max),
	    .off_n = A(has_max), .flags = CONF_HINT, .set = set_bound },
	[AK_MAX_LENGTH] = { .name = "max_length", .kind = CK_SIZE,
	    .off = A(max_length), .min = 1, .max = 1048576,
	    .expect = "expected bytes from 1 to 1048576" },
	[AK_SECRET] = { .name = "secret", .kind = CK_BOOL, .off = A(secret) },
	[AK_HELP] = { .name = "help", .kind = CK_TEXT, .off = A(help) },
};
static const struct conf_section arg_section = {
	arg_keys, nitems(arg_keys), NULL
};

static const struct {
	const char	*name;
	enum arg_type	 type;
} arg_types[] = {
	{ "string",	ARG_STRING },
	{ "int",	ARG_INT },
	{ "number",	ARG_NUMBER },
	{ "bool",	ARG_BOOL },
};

#undef M
#undef A

static void
args_free(struct method_conf *m)
{
	size_t i;

	for (i = 0; i < m->nargs; i++) {
		free(m->args[i].name);
		free(m->args[i].regex);
		free(m->args[i].help);
		json_object_put(m->args[i].def);
		regex_free(m->args[i].re);
	}
	free(m->args);
	m->args = NULL;
	m->nargs = 0;
}

static void
method_clear(struct method_conf *m)
{
	free(m->name);
	free(m->help);
	conf_strv_free(m->argv, m->argc);
	free(m->cwd);
	args_free(m);
}

void
methods_conf_free(struct pidboxd_conf *c)
{
	size_t i;

	for (i = 0; i < c->nmethods; i++)
		method_clear(&c->methods[i]);
	free(c->methods);
	c->methods = NULL;
	c->nmethods = 0;
}

const struct method_conf *
conf_method(const struct pidboxd_conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nmethods; i++)
		if (strcmp(c->methods[i].name, name) == 0)
			return &c->methods[i];
	return NULL;
}

static int
valid_arg_name(const char *s)
{
	size_t i;

	if (s[0] == '\0' || strlen(s) > 64 || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* A default value of the argument's type. */
static json_object *
typed_default(const struct arg_spec *a, const struct ynode *v)
{
	const char	*e;
	double		 d;
	int64_t		 i;
	int		 b;

	if (v->type != YNODE_SCALAR)
		return NULL;
	switch (a->type) {
	case ARG_STRING:
		return json_object_new_string_len(v->value, (int)v->len);
	case ARG_INT:
		i = strtonum(v->value, INT64_MIN + 1, INT64_MAX, &e);
		return e == NULL ? json_object_new_int64(i) : NULL;
	case ARG_NUMBER:
		return yconf_double(v, -1e300, 1e300, &d) == 0 ?
		    json_object_new_double(d) : NULL;
	case ARG_BOOL:
		return yconf_bool(v, &b) == 0 ? json_object_new_boolean(b) :
		    NULL;
	case ARG_ANY:		/* built-ins only */
		break;
	}
	return NULL;
}

static int
arg_type_parse(const struct ynode *v, enum arg_type *t)
{
	size_t i;

	if (v->type != YNODE_SCALAR)
		return -1;
	for (i = 0; i < nitems(arg_types); i++)
		if (strcmp(arg_types[i].name, v->value) == 0) {
			*t = arg_types[i].type;
			return 0;
		}
	return -1;
}

static int
set_regex(const struct conf_at *at, const struct ynode *v, const char **why)
{
	static char		  err[256];
	struct arg_spec		 *a = at->base;
	struct pcre2_real_code_8 *re;

	if (a->type != ARG_STRING)
		*why = "only for type string";
	else if (v->type != YNODE_SCALAR)
		*why = "expected a regular expression";
	else if ((re = regex_compile(v->value, err, sizeof(err))) == NULL)
		*why = err;
	else {
		regex_free(a->re);
		free(a->regex);
		a->re = re;
		a->regex = xstrdup(v->value);
		return 0;
	}
	return -1;
}

/* min or max: the bound at key->off, its "has" flag at key->off_n. */
static int
set_bound(const struct conf_at *at, const struct ynode *v, const char **why)
{
	struct arg_spec	*a = at->base;
	double		 d;

	if (a->type != ARG_INT && a->type != ARG_NUMBER) {
		*why = "only for type int or number";
		return -1;
	}
	if (yconf_double(v, -1e300, 1e300, &d) == -1) {
		*why = "expected a number";
		return -1;
	}
	*(double *)(void *)((char *)at->base + at->key->off) = d;
	*(int *)(void *)((char *)at->base + at->key->off_n) = 1;
	return 0;
}

/* One argument's schema; path is "methods.<method>.args.<name>". */
static void
parse_arg(struct conf_err *ce, struct arg_spec *a, const struct ynode *spec,
    const char *path)
{
	const struct ynode	*seen[AK_N] = { NULL };
	const struct ynode	*type, *def;

	a->type = ARG_STRING;
	a->max_length = DEFAULT_MAX_STRING;
	if (conf_expect_map(ce, path, &arg_section, spec) == -1)
		return;
	/* the first type given, before the walk: the other keys need it */
	if ((type = yconf_get(spec, "type")) != NULL &&
	    arg_type_parse(type, &a->type) == -1)
		conf_error(ce, type, "%s.type: expected string, int, number or "
		    "bool", path);
	conf_walk(ce, path, &arg_section, a, spec, seen);
	if (a->has_min && a->has_max && a->min > a->max)
		conf_error(ce, spec, "%s: min is greater than max", path);
	if ((def = seen[AK_DEFAULT]) == NULL)
		return;
	if ((a->def = typed_default(a, def)) == NULL)
		conf_error(ce, def, "%s.default: not a valid value of its type",
		    path);
	if (a->required)
		conf_error(ce, def, "%s.default: a required argument has no "
		    "default", path);
}

static int
set_args(const struct conf_at *at, const struct ynode *v, const char **why)
{
	struct method_conf	*m = at->base;
	struct arg_spec		*a;
	char			*path;
	size_t			 j;

	if (v->type != YNODE_MAP || v->nkids / 2 > MAX_METHOD_ARGS) {
		*why = "expected a mapping of at most 32 arguments";
		return -1;
	}
	args_free(m);	/* a second "args:" replaces the first */
	m->args = xcalloc(v->nkids / 2 + 1, sizeof(*m->args));
	for (j = 0; j + 1 < v->nkids; j += 2) {
		a = &m->args[m->nargs++];
		a->name = xstrdup(v->kids[j]->value);
		if (!valid_arg_name(a->name))
			conf_error(at->ce, v->kids[j], "%s.args.%s: argument "
			    "names are 1 to 64 of [a-z0-9_], not starting with "
			    "a digit", at->path, log_viss(a->name));
		if (asprintf(&path, "%s.args.%s", at->path, a->name) == -1)
			fatal("%s", __func__);
		parse_arg(at->ce, a, v->kids[j + 1], path);
		free(path);
	}
	return 0;
}

static void
parse_user(struct conf_err *ce, struct method_conf *m, const char *path,
    const struct ynode *user, const struct ynode *group)
{
	struct passwd	*pw;
	struct group	*gr;
	const char	*e;

	if (user == NULL && group == NULL)
		return;
	if (geteuid() != 0) {
		conf_error(ce, user != NULL ? user : group, "%s.%s: pidboxd "
		    "must run as root to change user or group", path,
		    user != NULL ? "user" : "group");
		return;
	}
	m->as_user = 1;
	m->uid = 0;
	m->gid = 0;
	if (user != NULL) {
		if (user->type != YNODE_SCALAR ||
		    ((pw = getpwnam(user->value)) == NULL &&
		    ((m->uid = (uid_t)strtonum(user->value, 0, 4294967294LL,
		    &e)), e != NULL))) {
			conf_error(ce, user, "%s.user: no such user", path);
			return;
		}
		if (pw != NULL) {
			m->uid = pw->pw_uid;
			m->gid = pw->pw_gid;
		}
	}
	if (group != NULL) {
		if (group->type != YNODE_SCALAR ||
		    ((gr = getgrnam(group->value)) == NULL &&
		    ((m->gid = (gid_t)strtonum(group->value, 0, 4294967294LL,
		    &e)), e != NULL))) {
			conf_error(ce, group, "%s.group: no such group", path);
			return;
		}
		if (gr != NULL)
			m->gid = gr->gr_gid;
	}
}

/* argv: the program's absolute path, then strings or whole "{arg}"s. */
static void
parse_argv(struct conf_err *ce, struct method_conf *m, const char *path,
    const struct ynode *key, const struct ynode *argv)
{
	const struct ynode	*v;
	char			 name[MAX_NAME + 1];
	size_t			 i, j, len;
	int			 found;

	if (argv == NULL) {
		conf_error(ce, key, "%s.argv: missing (the program and its "
		    "arguments, as a list)", path);
		return;
	}
	if (argv->type != YNODE_SEQ || argv->nkids == 0 ||
	    argv->nkids > MAX_METHOD_ARGV) {
		conf_error(ce, argv, "%s.argv: expected a list of 1 to 64 "
		    "strings (no shell is used)", path);
		return;
	}
	m->argv = xcalloc(argv->nkids + 1, sizeof(*m->argv));
	for (i = 0; i < argv->nkids; i++) {
		v = argv->kids[i];
		if (v->type != YNODE_SCALAR || memchr(v->value, '\0', v->len)) {
			conf_error(ce, v, "%s.argv[%zu]: expected a string",
			    path, i);
			return;
		}
		m->argv[m->argc++] = xstrdup(v->value);
		len = v->len;
		if (i == 0 && v->value[0] != '/')
			conf_error(ce, v, "%s.argv[0]: expected the program's "
			    "absolute path", path);
		if (i == 0 && access(v->value, X_OK) == -1)
			conf_error(ce, v, "%s.argv[0]: %s: %s", path,
			    log_viss(v->value), strerror(errno));
		if (len > 2 && v->value[0] == '{' && v->value[len - 1] == '}') {
			if (i == 0) {
				conf_error(ce, v, "%s.argv[0]: the program "
				    "cannot be a placeholder", path);
				continue;
			}
			snprintf(name, sizeof(name), "%.*s", (int)(len - 2),
			    v->value + 1);
			for (found = 0, j = 0; j < m->nargs; j++)
				found |= strcmp(m->args[j].name, name) == 0;
			if (!found)
				conf_error(ce, v, "%s.argv[%zu]: placeholder "
				    "{%s} names no declared argument", path, i,
				    log_viss(name));
		} else if (strchr(v->value, '{') != NULL &&
		    strchr(v->value, '}') != NULL)
			conf_error(ce, v, "%s.argv[%zu]: a placeholder must be "
			    "a whole element, like \"{name}\"", path, i);
	}
}

static void
parse_method(struct conf_err *ce, struct method_conf *m,
    const struct ynode *key, const struct ynode *spec)
{
	const struct ynode	*seen[MK_N] = { NULL };
	const char		*why;
	char			*path;

	m->name = xstrdup(key->value);
	m->timeout_ms = DEFAULT_EXEC_TIMEOUT;
	m->kill_grace_ms = DEFAULT_KILL_GRACE;
	m->max_output = DEFAULT_MAX_OUTPUT;
	m->max_concurrent = 1;
	if (conf_valid_name(key->value, key->len, &why) == -1) {
		conf_error(ce, key, "methods.%s: name %s",
		    log_viss(key->value), why);
		return;
	}
	if (builtin_lookup(key->value) != NULL) {
		conf_error(ce, key, "methods.%s: a built-in method has that "
		    "name", m->name);
		return;
	}
	path = conf_path("methods", m->name);
	if (conf_expect_map(ce, path, &method_section, spec) == 0) {
		conf_walk(ce, path, &method_section, m, spec, seen);
		parse_user(ce, m, path, seen[MK_USER], seen[MK_GROUP]);
		parse_argv(ce, m, path, key, seen[MK_ARGV]);
	}
	free(path);
}

int
methods_conf_parse(const struct conf_at *at, const struct ynode *v,
    const char **why)
{
	struct pidboxd_conf	*c = at->base;
	size_t			 i, j;

	if (v->type != YNODE_MAP) {
		*why = "expected a mapping of method names";
		return -1;
	}
	if (c->methods != NULL) {	/* a second "methods:" leaked (fuzz) */
		*why = "given twice";
		return -1;
	}
	c->methods = xcalloc(v->nkids / 2 + 1, sizeof(*c->methods));
	for (i = 0; i + 1 < v->nkids; i += 2) {
		for (j = 0; j < c->nmethods; j++)
			/* a method refused earlier may have no name (fuzz) */
			if (c->methods[j].name != NULL &&
			    strcmp(c->methods[j].name, v->kids[i]->value) == 0)
				conf_error(at->ce, v->kids[i], "methods.%s: "
				    "defined twice", log_viss(v->kids[i]->value));
		parse_method(at->ce, &c->methods[c->nmethods++], v->kids[i],
		    v->kids[i + 1]);
	}
	return 0;
}
