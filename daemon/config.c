/*
 * pidboxd's YAML configuration: parse the whole file, then walk every
 * section against its table of keys (kind, range, where the value goes),
 * reporting every mistake as file:line:col. The methods: section is
 * methods_conf.c's.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pidboxd.h"

static int	set_broker(const struct conf_at *, const struct ynode *,
		    const char **);
static int	set_broker_password(const struct conf_at *,
		    const struct ynode *, const char **);
static int	set_broker_password_file(const struct conf_at *,
		    const struct ynode *, const char **);
static int	set_type(const struct conf_at *, const struct ynode *,
		    const char **);
static int	set_policy_default(const struct conf_at *,
		    const struct ynode *, const char **);
static int	set_policy_rules(const struct conf_at *, const struct ynode *,
		    const char **);
static int	set_key_file(const struct conf_at *, const struct ynode *,
		    const char **);
static int	set_keys(const struct conf_at *, const struct ynode *,
		    const char **);
static void	check_signing(struct conf_err *, void *, const struct ynode *);

#define C(f)	offsetof(struct pidboxd_conf, f)
#define A(f)	offsetof(struct audit_conf, f)
#define S(f)	offsetof(struct signing_conf, f)

/* clang-format off */
static const struct conf_key audit_keys[] = {
	{ .name = "file", .kind = CK_PATH, .off = A(file),
	    .flags = CONF_HINT },
	{ .name = "syslog", .kind = CK_BOOL, .off = A(syslog),
	    .flags = CONF_HINT },
	{ .name = "mask", .kind = CK_STRLIST, .off = A(mask),
	    .off_n = A(nmask), .flags = CONF_HINT },
};
static const struct conf_section audit_section = {
	audit_keys, nitems(audit_keys), NULL
};

static const struct conf_key policy_keys[] = {
	{ .name = "default", .kind = CK_FUNC, .flags = CONF_HINT,
	    .set = set_policy_default },
	{ .name = "rules", .kind = CK_FUNC, .flags = CONF_HINT,
	    .set = set_policy_rules },
};
static const struct conf_section policy_section = {
	policy_keys, nitems(policy_keys), NULL
};

/* One rule; its keys are read after the walk (exactly one of allow, deny). */
static const struct conf_key rule_keys[] = {
	{ .name = "allow", .kind = CK_LATER, .flags = CONF_HINT },
	{ .name = "deny", .kind = CK_LATER, .flags = CONF_HINT },
	{ .name = "identities", .kind = CK_LATER, .flags = CONF_HINT },
};
static const struct conf_section rule_section = {
	rule_keys, nitems(rule_keys), NULL
};

static const struct conf_key signing_keys[] = {
	{ .name = "require_signed", .kind = CK_BOOL, .off = S(require),
	    .flags = CONF_HINT },
	{ .name = "key_file", .kind = CK_FUNC, .flags = CONF_HINT,
	    .set = set_key_file },
	{ .name = "keys", .kind = CK_FUNC, .flags = CONF_HINT,
	    .set = set_keys },
	{ .name = "max_ttl", .kind = CK_INT, .off = S(max_ttl),
	    .min = 1, .max = 86400,
	    .expect = "expected seconds from 1 to 86400", .flags = CONF_HINT },
	{ .name = "nonce_cache", .kind = CK_SIZE, .off = S(nonce_cache),
	    .min = 16, .max = 10000000,
	    .expect = "expected 16 to 10000000 nonces", .flags = CONF_HINT },
};
static const struct conf_section signing_section = {
	signing_keys, nitems(signing_keys), check_signing
};

/* CONF_RESTART: the sections a reload cannot apply in place. */
static const struct conf_key conf_keys[] = {
	{ .name = "audit", .kind = CK_SECTION, .off = C(audit),
	    .flags = CONF_RESTART, .sub = &audit_section },
	{ .name = "broker", .kind = CK_FUNC, .flags = CONF_VALUE,
	    .set = set_broker },
	{ .name = "broker_password", .kind = CK_FUNC,
	    .flags = CONF_VALUE | CONF_RESTART, .set = set_broker_password },
	{ .name = "broker_password_file", .kind = CK_FUNC,
	    .flags = CONF_VALUE | CONF_RESTART,
	    .set = set_broker_password_file },
	{ .name = "expiry_skew", .kind = CK_DOUBLE, .off = C(expiry_skew),
	    .min = -1, .max = 86400,
	    .expect = "expected seconds from 0 to 86400, or -1 to never "
	    "expire requests" },
	{ .name = "hostname", .kind = CK_NAME, .off = C(hostname),
	    .flags = CONF_VALUE },
	{ .name = "max_children", .kind = CK_INT, .off = C(max_children),
	    .min = 1, .max = 200, .expect = "expected 1 to 200",
	    .flags = CONF_VALUE | CONF_RESTART },
	{ .name = "max_message_size", .kind = CK_SIZE, .off = C(max_message),
	    .min = 1024, .max = MAX_ENVELOPE,
	    .expect = "expected bytes from 1024 to 4194304",
	    .flags = CONF_VALUE },
	{ .name = "methods", .kind = CK_FUNC, .flags = CONF_RESTART,
	    .set = methods_conf_parse },
	{ .name = "namespace", .kind = CK_NAME, .off = C(ns),
	    .flags = CONF_VALUE },
	{ .name = "pidfile", .kind = CK_PATH, .off = C(pidfile),
	    .flags = CONF_VALUE },
	{ .name = "policy", .kind = CK_SECTION, .off = C(policy),
	    .flags = CONF_RESTART, .sub = &policy_section },
	{ .name = "reply_ttl", .kind = CK_INT, .off = C(reply_ttl),
	    .min = 1, .max = 86400,
	    .expect = "expected seconds from 1 to 86400", .flags = CONF_VALUE },
	{ .name = "signing", .kind = CK_SECTION, .off = C(signing),
	    .flags = CONF_RESTART, .sub = &signing_section },
	{ .name = "type", .kind = CK_FUNC, .flags = CONF_VALUE,
	    .set = set_type },
	{ .name = "verbose", .kind = CK_BOOL, .off = C(verbose) },
};
static const struct conf_section top_section = {
	conf_keys, nitems(conf_keys), NULL
};
/* clang-format on */

#undef C
#undef A
#undef S

/* Errors go bare to stderr (pidboxd -t, start-up) until log.c takes them. */
static int	conf_to_log;

void
conf_log_errors(int on)
{
	conf_to_log = on;
}

/* One error at node at (NULL: no position); counted. */
void
conf_error(struct conf_err *ce, const struct ynode *at, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg, *line = NULL;
	int	 rc;

	va_start(ap, fmt);
	rc = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (rc == -1 || (at != NULL && asprintf(&line, "%s:%zu:%zu: %s",
	    ce->file, at->line, at->col, msg) == -1))
		fatal("%s", __func__);
	/* after daemon(), a SIGHUP reload must still say why it failed */
	if (conf_to_log)
		log_warnx("%s", line != NULL ? line : msg);
	else
		fprintf(stderr, "%s\n", line != NULL ? line : msg);
	free(line);
	free(msg);
	ce->n++;
}

char *
conf_path(const char *path, const char *key)
{
	char *s;

	if (asprintf(&s, "%s%s%s", path != NULL ? path : "",
	    path != NULL ? "." : "", key) == -1)
		fatal("%s", __func__);
	return s;
}

void
conf_strv_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

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
policy_rules_free(struct policy_conf *p)
{
	size_t i;

	for (i = 0; i < p->nrules; i++) {
		conf_strv_free(p->rules[i].methods, p->rules[i].nmethods);
		conf_strv_free(p->rules[i].identities,
		    p->rules[i].nidentities);
	}
	free(p->rules);
	p->rules = NULL;
	p->nrules = 0;
}

void
conf_clear(struct pidboxd_conf *c)
{
	size_t i;

	if (c->broker != NULL)
		freezero(c->broker, strlen(c->broker));
	redis_url_clear(&c->url);
	if (c->broker_password != NULL)
		freezero(c->broker_password, strlen(c->broker_password));
	if (c->restart_sig != NULL)	/* may hold a password */
		freezero(c->restart_sig, c->restart_siglen);
	methods_conf_free(c);
	policy_rules_free(&c->policy);
	for (i = 0; i < c->signing.nkeys; i++) {
		free(c->signing.keys[i].identity);
		freezero(c->signing.keys[i].key, c->signing.keys[i].keylen);
	}
	free(c->signing.keys);
	free(c->audit.file);
	conf_strv_free(c->audit.mask, c->audit.nmask);
	free(c->file);
	free(c->pidfile);
	memset(c, 0, sizeof(*c));
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

int
conf_set_broker(struct pidboxd_conf *c, const char *s, char *err,
    size_t errlen)
{
	struct redis_url u;

	if (redis_url_parse(s, &u, err, errlen) == -1) {
		redis_url_clear(&u);
		return -1;
	}
	redis_url_clear(&c->url);
	c->url = u;
	redis_url_clear(&u);
	if (c->broker != NULL)
		freezero(c->broker, strlen(c->broker));
	c->broker = xstrdup(s);
	return 0;
}

int
conf_broker_url(const struct pidboxd_conf *c, struct redis_url *u,
    const char **errstr)
{
	if (c->broker == NULL) {
		*errstr = "no broker URL";
		return -1;
	}
	*u = c->url;
	if (c->broker_password != NULL &&
	    strlcpy(u->password, c->broker_password, sizeof(u->password)) >=
	    sizeof(u->password)) {
		redis_url_clear(u);
		*errstr = "broker password too long";
		return -1;
	}
	return 0;
}

static int
set_broker(const struct conf_at *at, const struct ynode *v, const char **why)
{
	static char err[256];

	if (conf_set_broker(at->base, v->value, err, sizeof(err)) == -1) {
		*why = err;
		return -1;
	}
	return 0;
}

static int
set_type(const struct conf_at *at, const struct ynode *v, const char **why)
{
	struct pidboxd_conf *c = at->base;

	if (mailbox_type_parse(v->value, &c->type) == -1) {
		*why = "expected fanout, direct or topic";
		return -1;
	}
	return 0;
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

static void
replace_password(struct pidboxd_conf *c, char *pw)
{
	if (c->broker_password != NULL)
		freezero(c->broker_password, strlen(c->broker_password));
	c->broker_password = pw;
}

static int
set_broker_password(const struct conf_at *at, const struct ynode *v,
    const char **why)
{
	struct pidboxd_conf *c = at->base;

	c->file_has_password = 1;
	if (v->len >= 256) {
		*why = "longer than 255 bytes";
		return -1;
	}
	replace_password(c, xstrdup(v->value));
	return 0;
}

static int
set_broker_password_file(const struct conf_at *at, const struct ynode *v,
    const char **why)
{
	char *pw;

	if ((pw = read_secret(v->value, why)) == NULL)
		return -1;
	replace_password(at->base, pw);
	return 0;
}

/*
 * A list of non-empty strings (a single scalar counts as one) into
 * *out[*n], replacing what was there; what names it in messages.
 */
static void
strlist(struct conf_err *ce, const struct ynode *v, char ***out, size_t *n,
    const char *what)
{
	const struct ynode	*one = v;
	size_t			 i, cnt;

	conf_strv_free(*out, *n);
	*out = NULL;
	*n = 0;
	cnt = v->type == YNODE_SEQ ? v->nkids : 1;
	if (v->type == YNODE_MAP || cnt == 0) {
		conf_error(ce, v, "%s: expected a list of strings", what);
		return;
	}
	*out = xcalloc(cnt + 1, sizeof(**out));
	for (i = 0; i < cnt; i++) {
		if (v->type == YNODE_SEQ)
			one = v->kids[i];
		if (one->type != YNODE_SCALAR || one->len == 0) {
			conf_error(ce, one, "%s: expected a non-empty string",
			    what);
			return;
		}
		(*out)[(*n)++] = xstrdup(one->value);
	}
}

/* The names of s's keys, ", "-separated: all, or the CONF_HINT ones. */
static void
key_names(const struct conf_section *s, int hint, char *buf, size_t len)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < s->nkeys; i++) {
		if (hint && !(s->keys[i].flags & CONF_HINT))
			continue;
		if (buf[0] != '\0')
			strlcat(buf, ", ", len);
		strlcat(buf, s->keys[i].name, len);
	}
	for (i = 0; hint && i < s->nkeys; i++)
		if (!(s->keys[i].flags & CONF_HINT)) {
			strlcat(buf, ", ...", len);
			break;
		}
}

int
conf_expect_map(struct conf_err *ce, const char *path,
    const struct conf_section *s, const struct ynode *v)
{
	char keys[512];

	if (v->type == YNODE_MAP)
		return 0;
	key_names(s, 1, keys, sizeof(keys));
	conf_error(ce, v, "%s: expected a mapping (%s)", path, keys);
	return -1;
}

static void
walk_section(struct conf_err *ce, const char *path,
    const struct conf_section *s, void *base, const struct ynode *v)
{
	if (conf_expect_map(ce, path, s, v) == -1)
		return;
	conf_walk(ce, path, s, base, v, NULL);
	if (s->check != NULL)
		s->check(ce, base, v);
}

/* Store v as key k says; -1 with *why when it is not a valid value. */
static int
conf_set(const struct conf_at *at, const struct ynode *v, const char **why)
{
	const struct conf_key	*k = at->key;
	char			*p = (char *)at->base + k->off, *sub;
	const char		*e;
	long long		 ll;
	double			 d;
	int			 b, scalar = v->type == YNODE_SCALAR;

	if ((k->flags & CONF_VALUE) && (!scalar || yconf_is_null(v))) {
		*why = "expected a value";
		return -1;
	}
	*why = k->expect;
	switch (k->kind) {
	case CK_BOOL:
		if (yconf_bool(v, &b) == -1) {
			*why = "expected true or false";
			return -1;
		}
		*(int *)(void *)p = b;
		return 0;
	case CK_INT:
	case CK_SIZE:
		ll = strtonum(scalar ? v->value : "", (long long)k->min,
		    (long long)k->max, &e);
		if (e != NULL)
			return -1;
		if (k->kind == CK_INT)
			*(int *)(void *)p = (int)ll;
		else
			*(size_t *)(void *)p = (size_t)ll;
		return 0;
	case CK_DOUBLE:
	case CK_MS:
		if (yconf_double(v, k->min, k->max, &d) == -1)
			return -1;
		if (k->kind == CK_DOUBLE)
			*(double *)(void *)p = d;
		else
			*(int64_t *)(void *)p = (int64_t)(d * 1000.0);
		return 0;
	case CK_NAME:
		if (!scalar) {
			*why = "expected a value";
			return -1;
		}
		if (conf_valid_name(v->value, v->len, why) == -1)
			return -1;
		strlcpy(p, v->value, MAX_NAME + 1);
		return 0;
	case CK_PATH:
	case CK_TEXT:
		if (!scalar || (k->kind == CK_PATH && v->value[0] != '/')) {
			*why = k->kind == CK_PATH ? "expected an absolute path" :
			    "expected text";
			return -1;
		}
		free(*(char **)(void *)p);
		*(char **)(void *)p = xstrdup(v->value);
		return 0;
	case CK_STRLIST:
		sub = conf_path(at->path, k->name);
		strlist(at->ce, v, (char ***)(void *)p,
		    (size_t *)(void *)((char *)at->base + k->off_n), sub);
		free(sub);
		return 0;
	case CK_SECTION:
		sub = conf_path(at->path, k->name);
		walk_section(at->ce, sub, k->sub, p, v);
		free(sub);
		return 0;
	case CK_FUNC:
		return k->set(at, v, why);
	case CK_LATER:
		return 0;
	}
	return 0;
}

static const struct conf_key *
find_key(const struct conf_section *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nkeys; i++)
		if (strcmp(s->keys[i].name, name) == 0)
			return &s->keys[i];
	return NULL;
}

void
conf_walk(struct conf_err *ce, const char *path, const struct conf_section *s,
    void *base, const struct ynode *map, const struct ynode **seen)
{
	struct conf_at		 at = { ce, path, NULL, base };
	const struct ynode	*k, *v;
	const char		*why;
	char			 keys[512];
	size_t			 i, j;

	for (i = 0; i + 1 < map->nkids; i += 2) {
		k = map->kids[i];
		v = map->kids[i + 1];
		if (path == NULL && k->type != YNODE_SCALAR) {
			conf_error(ce, k, "expected a key");
			continue;
		}
		/* a setting given twice is a mistake, never a silent override */
		for (j = 0; path == NULL && j < i; j += 2)
			if (map->kids[j]->type == YNODE_SCALAR &&
			    strcmp(map->kids[j]->value, k->value) == 0)
				break;
		if (path == NULL && j < i) {
			conf_error(ce, k, "\"%s\" given twice (first at line "
			    "%zu)", log_viss(k->value), map->kids[j]->line);
			continue;
		}
		if ((at.key = find_key(s, k->value)) == NULL) {
			key_names(s, 0, keys, sizeof(keys));
			if (path == NULL)
				conf_error(ce, k, "unknown setting \"%s\"",
				    log_viss(k->value));
			else
				conf_error(ce, k, "%s: unknown key \"%s\" (%s)",
				    path, log_viss(k->value), keys);
			continue;
		}
		if (seen != NULL)
			seen[at.key - s->keys] = v;
		why = NULL;
		if (conf_set(&at, v, &why) == -1)
			conf_error(ce, v, "%s%s%s: %s", path != NULL ? path : "",
			    path != NULL ? "." : "", at.key->name, why);
	}
}

static int
set_policy_default(const struct conf_at *at, const struct ynode *v,
    const char **why)
{
	struct policy_conf *p = at->base;

	if (v->type == YNODE_SCALAR && strcmp(v->value, "allow") == 0)
		p->default_allow = 1;
	else if (v->type == YNODE_SCALAR && strcmp(v->value, "deny") == 0)
		p->default_allow = 0;
	else {
		*why = "expected allow or deny";
		return -1;
	}
	return 0;
}

static int
set_policy_rules(const struct conf_at *at, const struct ynode *v,
    const char **why)
{
	struct policy_conf	*p = at->base;
	struct policy_rule	*pr;
	const struct ynode	*r, *a, *d, *ids;
	char			 path[64];
	size_t			 j;

	if (v->type != YNODE_SEQ) {
		*why = "expected a list";
		return -1;
	}
	policy_rules_free(p);	/* a second "rules:" replaces the first */
	p->rules = xcalloc(v->nkids + 1, sizeof(*p->rules));
	for (j = 0; j < v->nkids; j++) {
		r = v->kids[j];
		pr = &p->rules[p->nrules++];
		if (r->type != YNODE_MAP) {
			conf_error(at->ce, r, "policy.rules[%zu]: expected "
			    "{allow: [...]} or {deny: [...]}", j);
			continue;
		}
		snprintf(path, sizeof(path), "policy.rules[%zu]", j);
		conf_walk(at->ce, path, &rule_section, pr, r, NULL);
		a = yconf_get(r, "allow");
		d = yconf_get(r, "deny");
		ids = yconf_get(r, "identities");
		if ((a == NULL) == (d == NULL)) {
			conf_error(at->ce, r, "policy.rules[%zu]: needs "
			    "exactly one of allow or deny", j);
			continue;
		}
		pr->allow = a != NULL;
		strlist(at->ce, a != NULL ? a : d, &pr->methods, &pr->nmethods,
		    a != NULL ? "policy.rules.allow" : "policy.rules.deny");
		if (ids != NULL)
			strlist(at->ce, ids, &pr->identities, &pr->nidentities,
			    "policy.rules.identities");
	}
	return 0;
}

static void
add_key(struct signing_conf *s, const char *identity, const struct ynode *f,
    struct conf_err *ce, const char *what)
{
	const char	*why;
	unsigned char	*key;
	size_t		 len;

	if (f->type != YNODE_SCALAR) {
		conf_error(ce, f, "%s: expected a key file path", what);
		return;
	}
	if ((key = sign_key_load(f->value, &len, &why)) == NULL) {
		conf_error(ce, f, "%s: %s: %s", what, log_viss(f->value), why);
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
set_key_file(const struct conf_at *at, const struct ynode *v,
    const char **why)
{
	(void)why;
	add_key(at->base, NULL, v, at->ce, "signing.key_file");
	return 0;
}

static int
set_keys(const struct conf_at *at, const struct ynode *v, const char **why)
{
	const struct ynode	*id;
	size_t			 j;

	if (v->type != YNODE_MAP) {
		*why = "expected a mapping of identity: key file";
		return -1;
	}
	for (j = 0; j + 1 < v->nkids; j += 2) {
		id = v->kids[j];
		if (sign_valid_identity(id->value) == -1) {
			conf_error(at->ce, id, "signing.keys.%s: identities "
			    "are 1 to 64 of [A-Za-z0-9._@-]",
			    log_viss(id->value));
			continue;
		}
		add_key(at->base, id->value, v->kids[j + 1], at->ce,
		    "signing.keys");
	}
	return 0;
}

static void
check_signing(struct conf_err *ce, void *base, const struct ynode *map)
{
	const struct signing_conf *s = base;

	if (s->require && s->nkeys == 0)
		conf_error(ce, map, "signing: require_signed needs key_file "
		    "or keys");
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
 * Keep a canonical copy of the sections a reload cannot apply in place
 * (CONF_RESTART); comparing two of them tells whether a SIGHUP needs a
 * node restart.
 */
static void
conf_restart_sig(struct pidboxd_conf *c, const struct ynode *root)
{
	const struct ynode	*v;
	const char		*name;
	FILE			*f;
	size_t			 i;

	if (c->restart_sig != NULL) {
		freezero(c->restart_sig, c->restart_siglen);
		c->restart_sig = NULL;
	}
	if ((f = open_memstream(&c->restart_sig, &c->restart_siglen)) == NULL)
		fatal("%s: open_memstream", __func__);
	for (i = 0; i < nitems(conf_keys); i++) {
		if (!(conf_keys[i].flags & CONF_RESTART))
			continue;
		name = conf_keys[i].name;
		fwrite(name, 1, strlen(name) + 1, f);
		if ((v = yconf_get(root, name)) != NULL)
			restart_node(f, v);
	}
	if (fclose(f) != 0)
		fatal("%s: fclose", __func__);
}

/* A config that holds a secret must not be readable by others. */
static int
check_secrecy(struct conf_err *ce, const struct pidboxd_conf *c)
{
	struct stat st;

	if (!c->file_has_password && c->url.password[0] == '\0')
		return 0;
	if (stat(ce->file, &st) == -1)
		return 0;
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		conf_error(ce, NULL, "%s: holds a secret (broker password) but "
		    "is readable by group or others (mode %04o); chmod 600 it",
		    ce->file, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/*
 * An audit file only where the methods cannot rewrite it (issue 16.8).
 * A method that runs as pidboxd's own user can open the file pidboxd
 * appends to and truncate or remove it, erasing the trail of its own run
 * and of every request before it: such a method (no user:, or pidboxd's
 * own) rules out audit.file, and the audit goes to syslog (the journal,
 * which only root can rewrite). The units run pidboxd unprivileged, so
 * there the trail is the journal's; pidboxd run as root with a user: of
 * their own for every method may keep a file its methods cannot open.
 */
static void
check_audit(struct conf_err *ce, const struct pidboxd_conf *c)
{
	const struct method_conf	*m;
	size_t				 i;

	if (c->audit.file == NULL)
		return;
	for (i = 0; i < c->nmethods; i++) {
		m = &c->methods[i];
		if (m->as_user && m->uid != geteuid())
			continue;
		conf_error(ce, NULL, "%s: audit.file: method \"%s\" runs as "
		    "pidboxd's own user (uid %u), which could rewrite or remove "
		    "the audit file; give every method a user: of its own, or "
		    "audit to syslog (audit.syslog: true, the journal) instead",
		    ce->file, m->name, (unsigned)geteuid());
		return;
	}
}

/* Apply a parsed document (consumed) over c; secrecy: check file's mode. */
static int
conf_apply(struct pidboxd_conf *c, struct ynode *root, const char *file,
    int secrecy)
{
	struct conf_err ce = { file, 0 };

	if (root->type != YNODE_MAP) {
		conf_error(&ce, root, "expected a mapping of settings");
		yconf_free(root);
		return -1;
	}
	conf_walk(&ce, NULL, &top_section, c, root, NULL);
	conf_restart_sig(c, root);
	yconf_free(root);
	if (ce.n == 0)
		check_audit(&ce, c);
	if (ce.n == 0 && secrecy)
		check_secrecy(&ce, c);
	free(c->file);
	c->file = xstrdup(file);
	return ce.n ? -1 : 0;
}

int
conf_load(struct pidboxd_conf *c, const char *file)
{
	struct conf_err	 ce = { file, 0 };
	struct ynode	*root;
	char		 err[512];

	if ((root = yconf_load_file(file, err, sizeof(err))) == NULL) {
		conf_error(&ce, NULL, "%s", err);
		return -1;
	}
	return conf_apply(c, root, file, 1);
}

/* conf_load() of buf[len] (the fuzz target); name only labels errors. */
int
conf_load_buf(struct pidboxd_conf *c, const char *buf, size_t len,
    const char *name)
{
	struct conf_err	 ce = { name, 0 };
	struct ynode	*root;
	char		 err[512];

	if ((root = yconf_load_buf(buf, len, name, err, sizeof(err))) == NULL) {
		conf_error(&ce, NULL, "%s", err);
		return -1;
	}
	return conf_apply(c, root, name, 0);
}
