/*
 * pidboxd's YAML configuration: parse the whole file, then walk every
 * section against its table of keys (kind, range, where the value goes),
 * reporting every mistake as file:line:col. The methods: section is
 * methods_conf.c's.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
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
static int	set_public_keys(const struct conf_at *, const struct ynode *,
		    const char **);
static void	check_signing(struct conf_err *, void *, const struct ynode *);
static int	set_tls(const struct conf_at *, const struct ynode *,
		    const char **);
static int	set_labels(const struct conf_at *, const struct ynode *,
		    const char **);

#define C(f)	offsetof(struct pidboxd_conf, f)
#define A(f)	offsetof(struct audit_conf, f)
#define S(f)	offsetof(struct signing_conf, f)
#define I(f)	offsetof(struct inventory_conf, f)
#define R(f)	offsetof(struct results_conf, f)

static const struct conf_key inventory_keys[] = {
	{ .name = "enabled", .kind = CK_BOOL, .off = I(enabled),
	    .flags = CONF_HINT },
	{ .name = "forget", .kind = CK_INT, .off = I(forget),
	    .min = 0, .max = 30 * 86400,
	    .expect = "expected seconds from 0 to 2592000",
	    .flags = CONF_HINT },
	{ .name = "ttl", .kind = CK_INT, .off = I(ttl),
	    .min = 3, .max = 86400,
	    .expect = "expected seconds from 3 to 86400", .flags = CONF_HINT },
};
static const struct conf_section inventory_section = {
	inventory_keys, nitems(inventory_keys), NULL
};

static const struct conf_key results_keys[] = {
	{ .name = "maxlen", .kind = CK_INT, .off = R(maxlen),
	    .min = 1, .max = 10000000,
	    .expect = "expected 1 to 10000000 replies", .flags = CONF_HINT },
	{ .name = "ttl", .kind = CK_INT, .off = R(ttl),
	    .min = 1, .max = 30 * 86400,
	    .expect = "expected seconds from 1 to 2592000",
	    .flags = CONF_HINT },
};
static const struct conf_section results_section = {
	results_keys, nitems(results_keys), NULL
};

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
	{ .name = "public_keys", .kind = CK_FUNC, .flags = CONF_HINT,
	    .set = set_public_keys },
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

/* The rediss:// options, spelled as an operator knows them. */
static const struct conf_key tls_keys[] = {
	{ .name = "ca_dir", .kind = CK_FUNC,
	    .flags = CONF_HINT | CONF_VALUE, .set = set_tls },
	{ .name = "ca_file", .kind = CK_FUNC,
	    .flags = CONF_HINT | CONF_VALUE, .set = set_tls },
	{ .name = "cert_file", .kind = CK_FUNC,
	    .flags = CONF_HINT | CONF_VALUE, .set = set_tls },
	{ .name = "key_file", .kind = CK_FUNC,
	    .flags = CONF_HINT | CONF_VALUE, .set = set_tls },
	{ .name = "min_protocol", .kind = CK_FUNC,
	    .flags = CONF_HINT | CONF_VALUE, .set = set_tls },
	{ .name = "server_name", .kind = CK_FUNC,
	    .flags = CONF_HINT | CONF_VALUE, .set = set_tls },
	{ .name = "verify", .kind = CK_FUNC,
	    .flags = CONF_HINT | CONF_VALUE, .set = set_tls },
};
static const struct conf_section tls_section = {
	tls_keys, nitems(tls_keys), NULL
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
	{ .name = "broker_tls", .kind = CK_SECTION, .off = C(broker_tls),
	    .flags = CONF_RESTART, .sub = &tls_section },
	{ .name = "expiry_skew", .kind = CK_DOUBLE, .off = C(expiry_skew),
	    .min = -1, .max = 86400,
	    .expect = "expected seconds from 0 to 86400, or -1 to never "
	    "expire requests" },
	{ .name = "hostname", .kind = CK_NAME, .off = C(hostname),
	    .flags = CONF_VALUE },
	{ .name = "inventory", .kind = CK_SECTION, .off = C(inventory),
	    .sub = &inventory_section },
	{ .name = "labels", .kind = CK_FUNC, .set = set_labels },
	{ .name = "max_children", .kind = CK_INT, .off = C(max_children),
	    .min = 1, .max = 200, .expect = "expected 1 to 200",
	    .flags = CONF_VALUE | CONF_RESTART },
	{ .name = "max_message_size", .kind = CK_SIZE, .off = C(max_message),
	    .min = 1024, .max = MAX_ENVELOPE,
	    .expect = "expected bytes from 1024 to 4194304",
	    .flags = CONF_VALUE },
	{ .name = "methods", .kind = CK_FUNC, .flags = CONF_RESTART,
	    .set = methods_conf_parse },
	{ .name = "metrics_file", .kind = CK_PATH, .off = C(metrics_file),
	    .flags = CONF_VALUE | CONF_RESTART },
	{ .name = "metrics_interval", .kind = CK_INT,
	    .off = C(metrics_interval), .min = 1, .max = 3600,
	    .expect = "expected seconds from 1 to 3600",
	    .flags = CONF_VALUE | CONF_RESTART },
	{ .name = "namespace", .kind = CK_NAME, .off = C(ns),
	    .flags = CONF_VALUE },
	{ .name = "pidfile", .kind = CK_PATH, .off = C(pidfile),
	    .flags = CONF_VALUE },
	{ .name = "policy", .kind = CK_SECTION, .off = C(policy),
	    .flags = CONF_RESTART, .sub = &policy_section },
	{ .name = "results", .kind = CK_SECTION, .off = C(results),
	    .sub = &results_section },
	{ .name = "reply_ttl", .kind = CK_INT, .off = C(reply_ttl),
	    .min = 1, .max = 86400,
	    .expect = "expected seconds from 1 to 86400", .flags = CONF_VALUE },
	{ .name = "signing", .kind = CK_SECTION, .off = C(signing),
	    .flags = CONF_RESTART, .sub = &signing_section },
	{ .name = "state_dir", .kind = CK_PATH, .off = C(state_dir),
	    .flags = CONF_VALUE | CONF_RESTART },
	{ .name = "type", .kind = CK_FUNC, .flags = CONF_VALUE,
	    .set = set_type },
	{ .name = "verbose", .kind = CK_BOOL, .off = C(verbose) },
};
static const struct conf_section top_section = {
	conf_keys, nitems(conf_keys), NULL
};

#undef C
#undef A
#undef S
#undef I
#undef R

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
	c->inventory.enabled = 1;
	c->inventory.ttl = DEFAULT_INVENTORY_TTL;
	c->inventory.forget = DEFAULT_INVENTORY_FORGET;
	c->results.maxlen = DEFAULT_RESULTS_MAXLEN;
	c->results.ttl = DEFAULT_RESULTS_TTL;
	c->metrics_interval = DEFAULT_METRICS_INTERVAL;
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
	for (i = 0; i < c->signing.npubkeys; i++)
		sign_ed_clear(&c->signing.pubkeys[i]);
	free(c->signing.pubkeys);
	free(c->state_dir);
	json_object_put(c->labels);
	free(c->audit.file);
	conf_strv_free(c->audit.mask, c->audit.nmask);
	free(c->file);
	free(c->pidfile);
	free(c->metrics_file);
	memset(c, 0, sizeof(*c));
}

/* The broker URL s, parsed into c->url; -1 with err (c untouched) if bad. */
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
	if (tls_conf_apply(u, &c->broker_tls, errstr) == -1) {
		redis_url_clear(u);
		return -1;
	}
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

	if ((pw = secret_password(v->value, why)) == NULL)
		return -1;
	replace_password(at->base, pw);
	return 0;
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
		conf_strlist(at->ce, a != NULL ? a : d, &pr->methods, &pr->nmethods,
		    a != NULL ? "policy.rules.allow" : "policy.rules.deny");
		if (ids != NULL)
			conf_strlist(at->ce, ids, &pr->identities, &pr->nidentities,
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

/*
 * labels: {role: web, dc: eu1}: what targeting (-F role=web) matches,
 * published in the inventory. Names are filter keys (letters, digits,
 * "_-@", no dot: a dot is a fact path); values are strings.
 */
static int
set_labels(const struct conf_at *at, const struct ynode *v, const char **why)
{
	struct pidboxd_conf	*c = at->base;
	const struct ynode	*k, *val;
	size_t			 j, i;
	int			 bad;

	if (v->type != YNODE_MAP) {
		*why = "expected a mapping of label: value";
		return -1;
	}
	if (v->nkids / 2 > MAX_LABELS) {
		*why = "more than 64 labels";
		return -1;
	}
	json_object_put(c->labels);
	if ((c->labels = json_object_new_object()) == NULL)
		fatal("%s", __func__);
	for (j = 0; j + 1 < v->nkids; j += 2) {
		k = v->kids[j];
		val = v->kids[j + 1];
		bad = k->len == 0 || k->len > 64 || strcmp(k->value, "name") == 0;
		for (i = 0; i < k->len && !bad; i++)
			bad = !(isalnum((unsigned char)k->value[i]) ||
			    strchr("_-@", k->value[i]) != NULL);
		if (bad) {
			conf_error(at->ce, k, "labels.%s: a label name is 1 to "
			    "64 of [A-Za-z0-9_-@], not \"name\"",
			    log_viss(k->value));
			continue;
		}
		if (val->type != YNODE_SCALAR || yconf_is_null(val) ||
		    val->len > 256 || conf_valid_name(val->value, val->len,
		    why) == -1) {
			conf_error(at->ce, val, "labels.%s: expected a value "
			    "(1 to 256 bytes, no control characters or commas)",
			    k->value);
			continue;
		}
		json_object_object_add(c->labels, k->value,
		    json_object_new_string(val->value));
	}
	return 0;
}

/* A broker_tls key (tls_conf_set() knows them): base is the struct. */
static int
set_tls(const struct conf_at *at, const struct ynode *v, const char **why)
{
	return tls_conf_set(at->base, at->key->name, v->value, why);
}

/*
 * Trusted Ed25519 public keys: each item a key line or the absolute path
 * of a file holding one. A private key is refused: a node must hold
 * nothing that can sign a request.
 */
static int
set_public_keys(const struct conf_at *at, const struct ynode *v,
    const char **why)
{
	struct signing_conf	*s = at->base;
	struct sign_edkey	 k;
	const struct ynode	*it;
	const char		*e;
	size_t			 j;
	int			 rc;

	if (v->type != YNODE_SEQ) {
		*why = "expected a list of public keys (\"pidbox-ed25519 ... "
		    "identity\" or a file)";
		return -1;
	}
	for (j = 0; j < v->nkids; j++) {
		it = v->kids[j];
		if (it->type != YNODE_SCALAR || it->value[0] == '\0') {
			conf_error(at->ce, it, "signing.public_keys: expected a "
			    "key line or an absolute path");
			continue;
		}
		if (it->value[0] == '/')
			rc = sign_ed_load(&k, it->value, SIGN_ED_PUBLIC, &e);
		else
			rc = sign_ed_parse(&k, it->value, it->len,
			    SIGN_ED_PUBLIC, &e);
		if (rc == -1) {
			conf_error(at->ce, it, "signing.public_keys: %s%s%s",
			    it->value[0] == '/' ? log_viss(it->value) : "",
			    it->value[0] == '/' ? ": " : "", e);
			continue;
		}
		s->pubkeys = reallocarray(s->pubkeys, s->npubkeys + 1,
		    sizeof(*s->pubkeys));
		if (s->pubkeys == NULL)
			fatal("%s", __func__);
		s->pubkeys[s->npubkeys++] = k;
	}
	return 0;
}

static void
check_signing(struct conf_err *ce, void *base, const struct ynode *map)
{
	const struct signing_conf *s = base;

	if (s->require && s->nkeys == 0 && s->npubkeys == 0)
		conf_error(ce, map, "signing: require_signed needs "
		    "public_keys, key_file or keys");
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
