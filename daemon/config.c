/*
 * pidboxd's YAML configuration: parse the whole file, then validate every
 * key against a table, reporting every mistake as file:line:col.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "pidboxd.h"

/* Error reporting of nested sections: "file:line:col: path: message". */
struct cerr {
	const char	*file;
	int		 n;
};

struct conf_key {
	const char	*name;
	int		(*set)(struct pidboxd_conf *, const struct ynode *,
			    const char **);
	/* nested sections report their own errors and return the count */
	int		(*section)(struct pidboxd_conf *, const struct ynode *,
			    struct cerr *);
};

static int	sec_audit(struct pidboxd_conf *, const struct ynode *,
		    struct cerr *);
static int	sec_methods(struct pidboxd_conf *, const struct ynode *,
		    struct cerr *);
static int	sec_policy(struct pidboxd_conf *, const struct ynode *,
		    struct cerr *);
static int	sec_signing(struct pidboxd_conf *, const struct ynode *,
		    struct cerr *);
static int	set_broker_password(struct pidboxd_conf *,
		    const struct ynode *, const char **);
static int	set_broker_password_file(struct pidboxd_conf *,
		    const struct ynode *, const char **);
static int	set_max_children(struct pidboxd_conf *, const struct ynode *,
		    const char **);

static int	set_broker(struct pidboxd_conf *, const struct ynode *,
		    const char **);
static int	set_expiry_skew(struct pidboxd_conf *, const struct ynode *,
		    const char **);
static int	set_hostname(struct pidboxd_conf *, const struct ynode *,
		    const char **);
static int	set_max_message(struct pidboxd_conf *, const struct ynode *,
		    const char **);
static int	set_namespace(struct pidboxd_conf *, const struct ynode *,
		    const char **);
static int	set_pidfile(struct pidboxd_conf *, const struct ynode *,
		    const char **);
static int	set_reply_ttl(struct pidboxd_conf *, const struct ynode *,
		    const char **);
static int	set_type(struct pidboxd_conf *, const struct ynode *,
		    const char **);
static int	set_verbose(struct pidboxd_conf *, const struct ynode *,
		    const char **);

/* clang-format off */
static const struct conf_key conf_keys[] = {
	{ "audit",		NULL,		sec_audit },
	{ "broker",		set_broker,	NULL },
	{ "broker_password",	set_broker_password, NULL },
	{ "broker_password_file", set_broker_password_file, NULL },
	{ "expiry_skew",	set_expiry_skew, NULL },
	{ "hostname",		set_hostname,	NULL },
	{ "max_children",	set_max_children, NULL },
	{ "max_message_size",	set_max_message, NULL },
	{ "methods",		NULL,		sec_methods },
	{ "namespace",		set_namespace,	NULL },
	{ "pidfile",		set_pidfile,	NULL },
	{ "policy",		NULL,		sec_policy },
	{ "reply_ttl",		set_reply_ttl,	NULL },
	{ "signing",		NULL,		sec_signing },
	{ "type",		set_type,	NULL },
	{ "verbose",		set_verbose,	NULL },
};
/* clang-format on */

/* Sections whose change needs a node restart on reload. */
static const char *const restart_keys[] = {
	"audit", "broker_password", "broker_password_file", "max_children",
	"methods", "policy", "signing",
};

void
conf_defaults(struct pidboxd_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->type = MAILBOX_FANOUT;
	strlcpy(c->ns, DEFAULT_NAMESPACE, sizeof(c->ns));
	c->expiry_skew = DEFAULT_EXPIRY_SKEW;
	c->reply_ttl = DEFAULT_REPLY_TTL;
	c->max_message = MAX_ENVELOPE;
	c->max_children = DEFAULT_MAX_CHILDREN;
	c->policy.default_allow = 1;
	c->signing.max_ttl = 300;
	c->signing.nonce_cache = 100000;
}

static void
free_strv(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
method_clear(struct method_conf *m)
{
	size_t i;

	free(m->name);
	free(m->help);
	free_strv(m->argv, m->argc);
	free(m->cwd);
	for (i = 0; i < m->nargs; i++) {
		free(m->args[i].name);
		free(m->args[i].regex);
		free(m->args[i].help);
		json_object_put(m->args[i].def);
		schema_regex_free(m->args[i].re);
	}
	free(m->args);
}

void
conf_clear(struct pidboxd_conf *c)
{
	size_t i;

	if (c->broker != NULL) {
		explicit_bzero(c->broker, strlen(c->broker));
		free(c->broker);
	}
	if (c->broker_password != NULL)
		freezero(c->broker_password, strlen(c->broker_password));
	if (c->restart_sig != NULL)	/* may hold a password */
		freezero(c->restart_sig, c->restart_siglen);
	for (i = 0; i < c->nmethods; i++)
		method_clear(&c->methods[i]);
	free(c->methods);
	for (i = 0; i < c->policy.nrules; i++) {
		free_strv(c->policy.rules[i].methods,
		    c->policy.rules[i].nmethods);
		free_strv(c->policy.rules[i].identities,
		    c->policy.rules[i].nidentities);
	}
	free(c->policy.rules);
	for (i = 0; i < c->signing.nkeys; i++) {
		free(c->signing.keys[i].identity);
		freezero(c->signing.keys[i].key, c->signing.keys[i].keylen);
	}
	free(c->signing.keys);
	free(c->audit.file);
	free_strv(c->audit.mask, c->audit.nmask);
	free(c->file);
	free(c->pidfile);
	memset(c, 0, sizeof(*c));
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
scalar(const struct ynode *v, const char **why)
{
	if (v->type != YNODE_SCALAR || yconf_is_null(v)) {
		*why = "expected a value";
		return -1;
	}
	return 0;
}

/* A name that is safe inside kombu's keys: no separator, no control. */
int
conf_valid_name(const char *s, size_t len, const char **why)
{
	size_t i;

	if (len == 0) {
		*why = "must not be empty";
		return -1;
	}
	if (len > MAX_NAME) {
		*why = "too long";
		return -1;
	}
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == ',') {
			*why = "must not contain control characters or commas";
			return -1;
		}
	return 0;
}

static int
set_hostname(struct pidboxd_conf *c, const struct ynode *v, const char **why)
{
	if (scalar(v, why) == -1 ||
	    conf_valid_name(v->value, v->len, why) == -1)
		return -1;
	strlcpy(c->hostname, v->value, sizeof(c->hostname));
	return 0;
}

static int
set_namespace(struct pidboxd_conf *c, const struct ynode *v, const char **why)
{
	if (scalar(v, why) == -1 ||
	    conf_valid_name(v->value, v->len, why) == -1)
		return -1;
	strlcpy(c->ns, v->value, sizeof(c->ns));
	return 0;
}

static int
set_broker(struct pidboxd_conf *c, const struct ynode *v, const char **why)
{
	static char	 err[256];
	struct redis_url u;

	if (scalar(v, why) == -1)
		return -1;
	if (redis_url_parse(v->value, &u, err, sizeof(err)) == -1) {
		*why = err;
		return -1;
	}
	redis_url_clear(&u);
	if (c->broker != NULL) {
		explicit_bzero(c->broker, strlen(c->broker));
		free(c->broker);
	}
	c->broker = xstrdup(v->value);
	return 0;
}

static int
set_type(struct pidboxd_conf *c, const struct ynode *v, const char **why)
{
	if (scalar(v, why) == -1)
		return -1;
	if (mailbox_type_parse(v->value, &c->type) == -1) {
		*why = "expected fanout, direct or topic";
		return -1;
	}
	return 0;
}

static int
set_expiry_skew(struct pidboxd_conf *c, const struct ynode *v,
    const char **why)
{
	if (scalar(v, why) == -1 ||
	    yconf_double(v, -1, 86400, &c->expiry_skew) == -1) {
		*why = "expected seconds from 0 to 86400, or -1 to never "
		    "expire requests";
		return -1;
	}
	return 0;
}

static int
set_reply_ttl(struct pidboxd_conf *c, const struct ynode *v, const char **why)
{
	const char *e;

	if (scalar(v, why) == -1)
		return -1;
	c->reply_ttl = (int)strtonum(v->value, 1, 86400, &e);
	if (e != NULL) {
		*why = "expected seconds from 1 to 86400";
		return -1;
	}
	return 0;
}

static int
set_max_message(struct pidboxd_conf *c, const struct ynode *v,
    const char **why)
{
	const char *e;

	if (scalar(v, why) == -1)
		return -1;
	c->max_message = (size_t)strtonum(v->value, 1024, MAX_ENVELOPE, &e);
	if (e != NULL) {
		*why = "expected bytes from 1024 to 4194304";
		return -1;
	}
	return 0;
}

static int
set_verbose(struct pidboxd_conf *c, const struct ynode *v, const char **why)
{
	int b;

	if (yconf_bool(v, &b) == -1) {
		*why = "expected true or false";
		return -1;
	}
	c->verbose = b;
	return 0;
}

static int
set_pidfile(struct pidboxd_conf *c, const struct ynode *v, const char **why)
{
	if (scalar(v, why) == -1)
		return -1;
	if (v->value[0] != '/') {
		*why = "expected an absolute path";
		return -1;
	}
	free(c->pidfile);
	c->pidfile = xstrdup(v->value);
	return 0;
}

static void cerr(struct cerr *ce, const struct ynode *at, const char *fmt, ...)
    __printflike(3, 4);

/* One error at node at; counted. */
static void
cerr(struct cerr *ce, const struct ynode *at, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%zu:%zu: ", ce->file, at->line, at->col);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	ce->n++;
}

/*
 * A secret read from a private file (secret_read()): one line, trailing
 * newline cut. *why names the file.
 */
static char *
read_secret(const char *file, const char **why)
{
	static char	 msg[1024];	/* a log_viss() name and a reason */
	unsigned char	*buf;
	char		*pw = NULL;
	const char	*e;
	size_t		 n;

	if ((buf = secret_read(file, 510, &n, &e)) == NULL)
		goto done;
	buf[strcspn((char *)buf, "\r\n")] = '\0';
	if (buf[0] == '\0' || n > 510)
		e = "expected one line of 1 to 255 bytes";
	else if (strlen((char *)buf) >= 256)
		e = "password longer than 255 bytes";
	else
		pw = xstrdup((char *)buf);
	freezero(buf, 512);
done:
	if (pw == NULL) {
		snprintf(msg, sizeof(msg), "%s: %s", log_viss(file), e);
		*why = msg;
	}
	return pw;
}

static int
set_broker_password(struct pidboxd_conf *c, const struct ynode *v,
    const char **why)
{
	if (scalar(v, why) == -1)
		return -1;
	if (v->len >= 256) {
		*why = "longer than 255 bytes";
		return -1;
	}
	if (c->broker_password != NULL)
		freezero(c->broker_password, strlen(c->broker_password));
	c->broker_password = xstrdup(v->value);
	return 0;
}

static int
set_broker_password_file(struct pidboxd_conf *c, const struct ynode *v,
    const char **why)
{
	char *pw;

	if (scalar(v, why) == -1)
		return -1;
	if ((pw = read_secret(v->value, why)) == NULL)
		return -1;
	if (c->broker_password != NULL)
		freezero(c->broker_password, strlen(c->broker_password));
	c->broker_password = pw;
	return 0;
}

static int
set_max_children(struct pidboxd_conf *c, const struct ynode *v,
    const char **why)
{
	const char *e;

	if (scalar(v, why) == -1)
		return -1;
	c->max_children = (int)strtonum(v->value, 1, 200, &e);
	if (e != NULL) {
		*why = "expected 1 to 200";
		return -1;
	}
	return 0;
}

/* A list of non-empty strings (a single scalar counts as one). */
static int
strlist(const struct ynode *v, char ***out, size_t *n, struct cerr *ce,
    const char *what)
{
	const struct ynode	*one = v;
	size_t			 i, cnt;

	cnt = v->type == YNODE_SEQ ? v->nkids : 1;
	if (v->type == YNODE_MAP || cnt == 0) {
		cerr(ce, v, "%s: expected a list of strings", what);
		return -1;
	}
	*out = xcalloc(cnt + 1, sizeof(**out));
	*n = 0;
	for (i = 0; i < cnt; i++) {
		if (v->type == YNODE_SEQ)
			one = v->kids[i];
		if (one->type != YNODE_SCALAR || one->len == 0) {
			cerr(ce, one, "%s: expected a non-empty string", what);
			return -1;
		}
		(*out)[(*n)++] = xstrdup(one->value);
	}
	return 0;
}

static int
seconds_ms(const struct ynode *v, double min, double max, int64_t *ms)
{
	double d;

	if (yconf_double(v, min, max, &d) == -1)
		return -1;
	*ms = (int64_t)(d * 1000.0);
	return 0;
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
	}
	return NULL;
}

static void
parse_arg(struct arg_spec *a, const struct ynode *spec, struct cerr *ce,
    const char *method)
{
	const struct ynode	*k, *v, *def = NULL;
	const char		*e;
	char			 err[256];
	size_t			 i;
	int			 b;

	a->type = ARG_STRING;
	a->max_length = DEFAULT_MAX_STRING;
	if (spec->type != YNODE_MAP) {
		cerr(ce, spec, "methods.%s.args.%s: expected a mapping "
		    "(type, required, default, regex, min, max, ...)", method,
		    a->name);
		return;
	}
	/* the type first: default depends on it */
	if ((v = yconf_get(spec, "type")) != NULL) {
		if (v->type != YNODE_SCALAR)
			v = NULL;
		else if (strcmp(v->value, "string") == 0)
			a->type = ARG_STRING;
		else if (strcmp(v->value, "int") == 0)
			a->type = ARG_INT;
		else if (strcmp(v->value, "number") == 0)
			a->type = ARG_NUMBER;
		else if (strcmp(v->value, "bool") == 0)
			a->type = ARG_BOOL;
		else
			v = NULL;
		if (v == NULL)
			cerr(ce, yconf_get(spec, "type"), "methods.%s.args.%s."
			    "type: expected string, int, number or bool",
			    method, a->name);
	}
	for (i = 0; i + 1 < spec->nkids; i += 2) {
		k = spec->kids[i];
		v = spec->kids[i + 1];
#define ARGERR(...) do {						\
	snprintf(err, sizeof(err), __VA_ARGS__);			\
	cerr(ce, v, "methods.%s.args.%s.%s: %s", method, a->name,	\
	    k->value, err);						\
} while (0)
		if (strcmp(k->value, "type") == 0)
			continue;
		if (strcmp(k->value, "required") == 0 ||
		    strcmp(k->value, "secret") == 0) {
			if (yconf_bool(v, &b) == -1)
				ARGERR("expected true or false");
			else if (k->value[0] == 'r')
				a->required = b;
			else
				a->secret = b;
		} else if (strcmp(k->value, "default") == 0)
			def = v;
		else if (strcmp(k->value, "regex") == 0) {
			if (a->type != ARG_STRING)
				ARGERR("only for type string");
			else if (v->type != YNODE_SCALAR)
				ARGERR("expected a regular expression");
			else if ((a->re = schema_regex(v->value, err,
			    sizeof(err))) == NULL)
				cerr(ce, v, "methods.%s.args.%s.regex: %s",
				    method, a->name, err);
			else
				a->regex = xstrdup(v->value);
		} else if (strcmp(k->value, "min") == 0 ||
		    strcmp(k->value, "max") == 0) {
			double d;

			if (a->type != ARG_INT && a->type != ARG_NUMBER)
				ARGERR("only for type int or number");
			else if (yconf_double(v, -1e300, 1e300, &d) == -1)
				ARGERR("expected a number");
			else if (k->value[1] == 'i') {
				a->has_min = 1;
				a->min = d;
			} else {
				a->has_max = 1;
				a->max = d;
			}
		} else if (strcmp(k->value, "max_length") == 0) {
			a->max_length = (size_t)strtonum(v->type ==
			    YNODE_SCALAR ? v->value : "", 1, 1048576, &e);
			if (e != NULL)
				ARGERR("expected bytes from 1 to 1048576");
		} else if (strcmp(k->value, "help") == 0) {
			if (v->type != YNODE_SCALAR)
				ARGERR("expected text");
			else
				a->help = xstrdup(v->value);
		} else
			cerr(ce, k, "methods.%s.args.%s: unknown key \"%s\" "
			    "(type, required, default, regex, min, max, "
			    "max_length, secret, help)", method, a->name,
			    log_viss(k->value));
#undef ARGERR
	}
	if (a->has_min && a->has_max && a->min > a->max)
		cerr(ce, spec, "methods.%s.args.%s: min is greater than max",
		    method, a->name);
	if (def != NULL && (a->def = typed_default(a, def)) == NULL)
		cerr(ce, def, "methods.%s.args.%s.default: not a valid value "
		    "of its type", method, a->name);
	if (def != NULL && a->required)
		cerr(ce, def, "methods.%s.args.%s.default: a required "
		    "argument has no default", method, a->name);
}

static void
parse_user(struct method_conf *m, const struct ynode *user,
    const struct ynode *group, struct cerr *ce)
{
	struct passwd	*pw;
	struct group	*gr;
	const char	*e;

	if (user == NULL && group == NULL)
		return;
	if (geteuid() != 0) {
		cerr(ce, user != NULL ? user : group, "methods.%s.%s: pidboxd "
		    "must run as root to change user or group", m->name,
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
			cerr(ce, user, "methods.%s.user: no such user", m->name);
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
			cerr(ce, group, "methods.%s.group: no such group",
			    m->name);
			return;
		}
		if (gr != NULL)
			m->gid = gr->gr_gid;
	}
}

static void
parse_method(struct pidboxd_conf *c, struct method_conf *m,
    const struct ynode *key, const struct ynode *spec, struct cerr *ce)
{
	const struct ynode	*k, *v, *argv = NULL, *user = NULL;
	const struct ynode	*group = NULL;
	const char		*why, *e;
	char			 name[MAX_NAME + 1];
	size_t			 i, j, len;
	int			 b, found;

	m->name = xstrdup(key->value);
	m->timeout_ms = DEFAULT_EXEC_TIMEOUT;
	m->kill_grace_ms = DEFAULT_KILL_GRACE;
	m->max_output = DEFAULT_MAX_OUTPUT;
	m->max_concurrent = 1;
	if (conf_valid_name(key->value, key->len, &why) == -1) {
		cerr(ce, key, "methods.%s: name %s", log_viss(key->value), why);
		return;
	}
	if (handler_lookup(key->value) != NULL) {
		cerr(ce, key, "methods.%s: a built-in method has that name",
		    m->name);
		return;
	}
	if (spec->type != YNODE_MAP) {
		cerr(ce, spec, "methods.%s: expected a mapping (argv, args, "
		    "help, timeout, ...)", m->name);
		return;
	}
	for (i = 0; i + 1 < spec->nkids; i += 2) {
		k = spec->kids[i];
		v = spec->kids[i + 1];
#define MERR(...) do {							\
	cerr(ce, v, "methods.%s.%s: %s", m->name, k->value, __VA_ARGS__); \
} while (0)
		if (strcmp(k->value, "argv") == 0)
			argv = v;
		else if (strcmp(k->value, "args") == 0) {
			if (v->type != YNODE_MAP ||
			    v->nkids / 2 > MAX_METHOD_ARGS) {
				MERR("expected a mapping of at most 32 "
				    "arguments");
				continue;
			}
			m->args = xcalloc(v->nkids / 2 + 1, sizeof(*m->args));
			for (j = 0; j + 1 < v->nkids; j += 2) {
				struct arg_spec *a = &m->args[m->nargs++];

				a->name = xstrdup(v->kids[j]->value);
				if (!valid_arg_name(a->name))
					cerr(ce, v->kids[j], "methods.%s.args."
					    "%s: argument names are 1 to 64 of "
					    "[a-z0-9_], not starting with a "
					    "digit", m->name,
					    log_viss(a->name));
				parse_arg(a, v->kids[j + 1], ce, m->name);
			}
		} else if (strcmp(k->value, "help") == 0) {
			if (v->type != YNODE_SCALAR)
				MERR("expected text");
			else
				m->help = xstrdup(v->value);
		} else if (strcmp(k->value, "stdin_json") == 0 ||
		    strcmp(k->value, "env_args") == 0 ||
		    strcmp(k->value, "dangerous") == 0) {
			if (yconf_bool(v, &b) == -1)
				MERR("expected true or false");
			else if (k->value[0] == 's')
				m->stdin_json = b;
			else if (k->value[0] == 'e')
				m->env_args = b;
			else
				m->dangerous = b;
		} else if (strcmp(k->value, "timeout") == 0) {
			if (seconds_ms(v, 0.001, 86400, &m->timeout_ms) == -1)
				MERR("expected seconds from 0.001 to 86400");
		} else if (strcmp(k->value, "kill_grace") == 0) {
			if (seconds_ms(v, 0, 600, &m->kill_grace_ms) == -1)
				MERR("expected seconds from 0 to 600");
		} else if (strcmp(k->value, "max_output") == 0) {
			m->max_output = (size_t)strtonum(v->type ==
			    YNODE_SCALAR ? v->value : "", 0, 16777216, &e);
			if (e != NULL)
				MERR("expected bytes from 0 to 16777216");
		} else if (strcmp(k->value, "max_concurrent") == 0) {
			m->max_concurrent = (int)strtonum(v->type ==
			    YNODE_SCALAR ? v->value : "", 1, 200, &e);
			if (e != NULL)
				MERR("expected 1 to 200");
		} else if (strcmp(k->value, "cwd") == 0) {
			if (v->type != YNODE_SCALAR || v->value[0] != '/')
				MERR("expected an absolute path");
			else
				m->cwd = xstrdup(v->value);
		} else if (strcmp(k->value, "user") == 0)
			user = v;
		else if (strcmp(k->value, "group") == 0)
			group = v;
		else
			cerr(ce, k, "methods.%s: unknown key \"%s\" (argv, "
			    "args, help, stdin_json, env_args, timeout, "
			    "kill_grace, max_output, max_concurrent, cwd, "
			    "user, group, dangerous)", m->name,
			    log_viss(k->value));
#undef MERR
	}
	parse_user(m, user, group, ce);
	if (argv == NULL) {
		cerr(ce, key, "methods.%s.argv: missing (the program and its "
		    "arguments, as a list)", m->name);
		return;
	}
	if (argv->type != YNODE_SEQ || argv->nkids == 0 ||
	    argv->nkids > MAX_METHOD_ARGV) {
		cerr(ce, argv, "methods.%s.argv: expected a list of 1 to 64 "
		    "strings (no shell is used)", m->name);
		return;
	}
	m->argv = xcalloc(argv->nkids + 1, sizeof(*m->argv));
	for (i = 0; i < argv->nkids; i++) {
		v = argv->kids[i];
		if (v->type != YNODE_SCALAR || memchr(v->value, '\0', v->len)) {
			cerr(ce, v, "methods.%s.argv[%zu]: expected a string",
			    m->name, i);
			return;
		}
		m->argv[m->argc++] = xstrdup(v->value);
		len = v->len;
		if (i == 0 && v->value[0] != '/')
			cerr(ce, v, "methods.%s.argv[0]: expected the "
			    "program's absolute path", m->name);
		if (i == 0 && access(v->value, X_OK) == -1)
			cerr(ce, v, "methods.%s.argv[0]: %s: %s", m->name,
			    log_viss(v->value), strerror(errno));
		if (len > 2 && v->value[0] == '{' && v->value[len - 1] == '}') {
			if (i == 0) {
				cerr(ce, v, "methods.%s.argv[0]: the program "
				    "cannot be a placeholder", m->name);
				continue;
			}
			snprintf(name, sizeof(name), "%.*s", (int)(len - 2),
			    v->value + 1);
			for (found = 0, j = 0; j < m->nargs; j++)
				found |= strcmp(m->args[j].name, name) == 0;
			if (!found)
				cerr(ce, v, "methods.%s.argv[%zu]: placeholder "
				    "{%s} names no declared argument", m->name,
				    i, log_viss(name));
		} else if (strchr(v->value, '{') != NULL &&
		    strchr(v->value, '}') != NULL)
			cerr(ce, v, "methods.%s.argv[%zu]: a placeholder must "
			    "be a whole element, like \"{name}\"", m->name, i);
	}
	(void)c;
}

static int
sec_methods(struct pidboxd_conf *c, const struct ynode *v, struct cerr *ce)
{
	size_t i, j;

	if (v->type != YNODE_MAP) {
		cerr(ce, v, "methods: expected a mapping of method names");
		return -1;
	}
	if (c->methods != NULL) {	/* a second "methods:" leaked (fuzz) */
		cerr(ce, v, "methods: given twice");
		return -1;
	}
	c->methods = xcalloc(v->nkids / 2 + 1, sizeof(*c->methods));
	for (i = 0; i + 1 < v->nkids; i += 2) {
		for (j = 0; j < c->nmethods; j++)
			/* a method refused earlier may have no name (fuzz) */
			if (c->methods[j].name != NULL &&
			    strcmp(c->methods[j].name, v->kids[i]->value) == 0)
				cerr(ce, v->kids[i], "methods.%s: defined "
				    "twice", log_viss(v->kids[i]->value));
		parse_method(c, &c->methods[c->nmethods++], v->kids[i],
		    v->kids[i + 1], ce);
	}
	return 0;
}

static int
sec_policy(struct pidboxd_conf *c, const struct ynode *v, struct cerr *ce)
{
	const struct ynode	*k, *val, *r, *a, *d, *ids;
	size_t			 i, j;

	if (v->type != YNODE_MAP) {
		cerr(ce, v, "policy: expected a mapping (default, rules)");
		return -1;
	}
	for (i = 0; i + 1 < v->nkids; i += 2) {
		k = v->kids[i];
		val = v->kids[i + 1];
		if (strcmp(k->value, "default") == 0) {
			if (val->type == YNODE_SCALAR &&
			    strcmp(val->value, "allow") == 0)
				c->policy.default_allow = 1;
			else if (val->type == YNODE_SCALAR &&
			    strcmp(val->value, "deny") == 0)
				c->policy.default_allow = 0;
			else
				cerr(ce, val, "policy.default: expected allow "
				    "or deny");
		} else if (strcmp(k->value, "rules") == 0) {
			if (val->type != YNODE_SEQ) {
				cerr(ce, val, "policy.rules: expected a list");
				continue;
			}
			c->policy.rules = xcalloc(val->nkids + 1,
			    sizeof(*c->policy.rules));
			for (j = 0; j < val->nkids; j++) {
				struct policy_rule *pr;
				size_t	 x;

				r = val->kids[j];
				pr = &c->policy.rules[c->policy.nrules++];
				if (r->type != YNODE_MAP) {
					cerr(ce, r, "policy.rules[%zu]: expected"
					    " {allow: [...]} or {deny: [...]}",
					    j);
					continue;
				}
				for (x = 0; x + 1 < r->nkids; x += 2)
					if (strcmp(r->kids[x]->value, "allow") &&
					    strcmp(r->kids[x]->value, "deny") &&
					    strcmp(r->kids[x]->value,
					    "identities"))
						cerr(ce, r->kids[x], "policy."
						    "rules[%zu]: unknown key "
						    "\"%s\" (allow, deny, "
						    "identities)", j, log_viss(
						    r->kids[x]->value));
				a = yconf_get(r, "allow");
				d = yconf_get(r, "deny");
				ids = yconf_get(r, "identities");
				if ((a == NULL) == (d == NULL)) {
					cerr(ce, r, "policy.rules[%zu]: needs "
					    "exactly one of allow or deny", j);
					continue;
				}
				pr->allow = a != NULL;
				strlist(a != NULL ? a : d, &pr->methods,
				    &pr->nmethods, ce, a != NULL ?
				    "policy.rules.allow" : "policy.rules.deny");
				if (ids != NULL)
					strlist(ids, &pr->identities,
					    &pr->nidentities, ce,
					    "policy.rules.identities");
			}
		} else
			cerr(ce, k, "policy: unknown key \"%s\" (default, "
			    "rules)", log_viss(k->value));
	}
	return 0;
}

static void
add_key(struct pidboxd_conf *c, const char *identity, const struct ynode *f,
    struct cerr *ce, const char *what)
{
	struct signing_conf	*s = &c->signing;
	const char		*why;
	unsigned char		*key;
	size_t			 len;

	if (f->type != YNODE_SCALAR) {
		cerr(ce, f, "%s: expected a key file path", what);
		return;
	}
	if ((key = sign_key_load(f->value, &len, &why)) == NULL) {
		cerr(ce, f, "%s: %s: %s", what, log_viss(f->value), why);
		return;
	}
	s->keys = reallocarray(s->keys, s->nkeys + 1, sizeof(*s->keys));
	if (s->keys == NULL)
		fatal("%s", __func__);
	s->keys[s->nkeys].identity = identity ? xstrdup(identity) : NULL;
	s->keys[s->nkeys].key = key;
	s->keys[s->nkeys++].keylen = len;
}

static int
sec_signing(struct pidboxd_conf *c, const struct ynode *v, struct cerr *ce)
{
	const struct ynode	*k, *val;
	const char		*e;
	size_t			 i, j;
	int			 b;

	if (v->type != YNODE_MAP) {
		cerr(ce, v, "signing: expected a mapping (require_signed, "
		    "key_file, keys, max_ttl, nonce_cache)");
		return -1;
	}
	for (i = 0; i + 1 < v->nkids; i += 2) {
		k = v->kids[i];
		val = v->kids[i + 1];
		if (strcmp(k->value, "require_signed") == 0) {
			if (yconf_bool(val, &b) == -1)
				cerr(ce, val, "signing.require_signed: "
				    "expected true or false");
			else
				c->signing.require = b;
		} else if (strcmp(k->value, "key_file") == 0)
			add_key(c, NULL, val, ce, "signing.key_file");
		else if (strcmp(k->value, "keys") == 0) {
			if (val->type != YNODE_MAP) {
				cerr(ce, val, "signing.keys: expected a mapping"
				    " of identity: key file");
				continue;
			}
			for (j = 0; j + 1 < val->nkids; j += 2) {
				if (sign_valid_identity(val->kids[j]->value)
				    == -1) {
					cerr(ce, val->kids[j], "signing.keys."
					    "%s: identities are 1 to 64 of "
					    "[A-Za-z0-9._@-]",
					    log_viss(val->kids[j]->value));
					continue;
				}
				add_key(c, val->kids[j]->value,
				    val->kids[j + 1], ce, "signing.keys");
			}
		} else if (strcmp(k->value, "max_ttl") == 0) {
			c->signing.max_ttl = (int)strtonum(val->type ==
			    YNODE_SCALAR ? val->value : "", 1, 86400, &e);
			if (e != NULL)
				cerr(ce, val, "signing.max_ttl: expected "
				    "seconds from 1 to 86400");
		} else if (strcmp(k->value, "nonce_cache") == 0) {
			c->signing.nonce_cache = (size_t)strtonum(val->type ==
			    YNODE_SCALAR ? val->value : "", 16, 10000000, &e);
			if (e != NULL)
				cerr(ce, val, "signing.nonce_cache: expected "
				    "16 to 10000000 nonces");
		} else
			cerr(ce, k, "signing: unknown key \"%s\" "
			    "(require_signed, key_file, keys, max_ttl, "
			    "nonce_cache)", log_viss(k->value));
	}
	if (c->signing.require && c->signing.nkeys == 0)
		cerr(ce, v, "signing: require_signed needs key_file or keys");
	return 0;
}

static int
sec_audit(struct pidboxd_conf *c, const struct ynode *v, struct cerr *ce)
{
	const struct ynode	*k, *val;
	size_t			 i;
	int			 b;

	if (v->type != YNODE_MAP) {
		cerr(ce, v, "audit: expected a mapping (file, syslog, mask)");
		return -1;
	}
	for (i = 0; i + 1 < v->nkids; i += 2) {
		k = v->kids[i];
		val = v->kids[i + 1];
		if (strcmp(k->value, "file") == 0) {
			if (val->type != YNODE_SCALAR || val->value[0] != '/')
				cerr(ce, val, "audit.file: expected an "
				    "absolute path");
			else {
				free(c->audit.file);
				c->audit.file = xstrdup(val->value);
			}
		} else if (strcmp(k->value, "syslog") == 0) {
			if (yconf_bool(val, &b) == -1)
				cerr(ce, val, "audit.syslog: expected true or "
				    "false");
			else
				c->audit.syslog = b;
		} else if (strcmp(k->value, "mask") == 0)
			strlist(val, &c->audit.mask, &c->audit.nmask, ce,
			    "audit.mask");
		else
			cerr(ce, k, "audit: unknown key \"%s\" (file, syslog, "
			    "mask)", log_viss(k->value));
	}
	return 0;
}

/* Append a subtree: type, length and bytes of each node, unambiguously. */
static void
restart_node(FILE *f, const struct ynode *n)
{
	size_t i;

	fprintf(f, "%d:%zu:%zu:", (int)n->type, n->len, n->nkids);
	if (n->value != NULL)
		fwrite(n->value, 1, n->len, f);
	for (i = 0; i < n->nkids; i++)
		restart_node(f, n->kids[i]);
}

/*
 * Keep a canonical copy of the sections a reload cannot apply in place;
 * comparing two of them tells whether a SIGHUP needs a node restart.
 */
static void
conf_restart_sig(struct pidboxd_conf *c, const struct ynode *root)
{
	const struct ynode	*v;
	FILE			*f;
	size_t			 i;

	if (c->restart_sig != NULL) {
		freezero(c->restart_sig, c->restart_siglen);
		c->restart_sig = NULL;
	}
	if ((f = open_memstream(&c->restart_sig, &c->restart_siglen)) == NULL)
		fatal("%s: open_memstream", __func__);
	for (i = 0; i < nitems(restart_keys); i++) {
		fwrite(restart_keys[i], 1, strlen(restart_keys[i]) + 1, f);
		if ((v = yconf_get(root, restart_keys[i])) != NULL)
			restart_node(f, v);
	}
	if (fclose(f) != 0)
		fatal("%s: fclose", __func__);
}

/* A config that holds a secret must not be readable by others. */
static int
check_secrecy(const char *file, const struct pidboxd_conf *c)
{
	struct redis_url	 u;
	struct stat		 st;
	char			 err[256];
	int			 secret;

	secret = c->file_has_password;
	if (c->broker != NULL &&
	    redis_url_parse(c->broker, &u, err, sizeof(err)) == 0) {
		secret |= u.password[0] != '\0';
		redis_url_clear(&u);
	}
	if (!secret)
		return 0;
	if (stat(file, &st) == -1)
		return 0;
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		fprintf(stderr, "%s: holds a secret (broker password) but is "
		    "readable "
		    "by group or others (mode %04o); chmod 600 it\n", file,
		    (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* Apply a parsed document (consumed) over c; secrecy: check file's mode. */
static int
conf_apply(struct pidboxd_conf *c, struct ynode *root, const char *file,
    int secrecy)
{
	struct ynode		*k, *v;
	const struct conf_key	*ck;
	const char		*why;
	size_t			 i, j;
	int			 errors = 0;

	if (root->type != YNODE_MAP) {
		fprintf(stderr, "%s:%zu:%zu: expected a mapping of settings\n",
		    file, root->line, root->col);
		yconf_free(root);
		return -1;
	}
	for (i = 0; i + 1 < root->nkids; i += 2) {
		k = root->kids[i];
		v = root->kids[i + 1];
		if (k->type != YNODE_SCALAR) {
			fprintf(stderr, "%s:%zu:%zu: expected a key\n", file,
			    k->line, k->col);
			errors++;
			continue;
		}
		/* a setting given twice is a mistake, never a silent override */
		for (j = 0; j < i; j += 2)
			if (root->kids[j]->type == YNODE_SCALAR &&
			    strcmp(root->kids[j]->value, k->value) == 0)
				break;
		if (j < i) {
			fprintf(stderr, "%s:%zu:%zu: \"%s\" given twice (first "
			    "at line %zu)\n", file, k->line, k->col,
			    log_viss(k->value), root->kids[j]->line);
			errors++;
			continue;
		}
		ck = NULL;
		for (j = 0; j < nitems(conf_keys); j++)
			if (strcmp(conf_keys[j].name, k->value) == 0)
				ck = &conf_keys[j];
		if (ck == NULL) {
			fprintf(stderr, "%s:%zu:%zu: unknown setting \"%s\"\n",
			    file, k->line, k->col, log_viss(k->value));
			errors++;
			continue;
		}
		if (ck->section != NULL) {
			struct cerr ce = { file, 0 };

			ck->section(c, v, &ce);
			errors += ce.n;
			continue;
		}
		if (strcmp(ck->name, "broker_password") == 0)
			c->file_has_password = 1;
		why = NULL;
		if (ck->set(c, v, &why) == -1) {
			fprintf(stderr, "%s:%zu:%zu: %s: %s\n", file, v->line,
			    v->col, ck->name, why);
			errors++;
		}
	}
	conf_restart_sig(c, root);
	yconf_free(root);
	if (errors == 0 && secrecy && check_secrecy(file, c) == -1)
		errors++;
	free(c->file);
	c->file = xstrdup(file);
	return errors ? -1 : 0;
}

int
conf_load(struct pidboxd_conf *c, const char *file)
{
	struct ynode	*root;
	char		 err[512];

	if ((root = yconf_load_file(file, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return conf_apply(c, root, file, 1);
}

/* conf_load() of buf[len] (the fuzz target); name only labels errors. */
int
conf_load_buf(struct pidboxd_conf *c, const char *buf, size_t len,
    const char *name)
{
	struct ynode	*root;
	char		 err[512];

	if ((root = yconf_load_buf(buf, len, name, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return conf_apply(c, root, name, 0);
}
