/*
 * pidboxd's YAML configuration: parse the whole file, then validate every
 * key against a table, reporting every mistake as file:line:col.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pidboxd.h"

struct conf_key {
	const char	*name;
	int		(*set)(struct pidboxd_conf *, const struct ynode *,
			    const char **);
};

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
	{ "broker",		set_broker },
	{ "expiry_skew",	set_expiry_skew },
	{ "hostname",		set_hostname },
	{ "max_message_size",	set_max_message },
	{ "namespace",		set_namespace },
	{ "pidfile",		set_pidfile },
	{ "reply_ttl",		set_reply_ttl },
	{ "type",		set_type },
	{ "verbose",		set_verbose },
};
/* clang-format on */

void
conf_defaults(struct pidboxd_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->type = MAILBOX_FANOUT;
	strlcpy(c->ns, DEFAULT_NAMESPACE, sizeof(c->ns));
	c->expiry_skew = DEFAULT_EXPIRY_SKEW;
	c->reply_ttl = DEFAULT_REPLY_TTL;
	c->max_message = MAX_ENVELOPE;
}

void
conf_clear(struct pidboxd_conf *c)
{
	if (c->broker != NULL) {
		explicit_bzero(c->broker, strlen(c->broker));
		free(c->broker);
	}
	free(c->file);
	free(c->pidfile);
	memset(c, 0, sizeof(*c));
}

static int
scalar(const struct ynode *v, const char **why)
{
	if (v->type != YNODE_SCALAR || ynode_is_null(v)) {
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
	    ynode_double(v, -1, 86400, &c->expiry_skew) == -1) {
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

	if (ynode_bool(v, &b) == -1) {
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

/* A config that holds a secret must not be readable by others. */
static int
check_secrecy(const char *file, const struct pidboxd_conf *c)
{
	struct redis_url	 u;
	struct stat		 st;
	char			 err[256];
	int			 secret;

	if (c->broker == NULL ||
	    redis_url_parse(c->broker, &u, err, sizeof(err)) == -1)
		return 0;
	secret = u.password[0] != '\0';
	redis_url_clear(&u);
	if (!secret)
		return 0;
	if (stat(file, &st) == -1)
		return 0;
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		fprintf(stderr, "%s: holds a broker password but is readable "
		    "by group or others (mode %04o); chmod 600 it\n", file,
		    (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

int
conf_load(struct pidboxd_conf *c, const char *file)
{
	struct ynode		*root, *k, *v;
	const struct conf_key	*ck;
	const char		*why;
	char			 err[512];
	size_t			 i, j;
	int			 errors = 0;

	if ((root = ynode_load_file(file, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if (root->type != YNODE_MAP) {
		fprintf(stderr, "%s:%zu:%zu: expected a mapping of settings\n",
		    file, root->line, root->col);
		ynode_free(root);
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
		why = NULL;
		if (ck->set(c, v, &why) == -1) {
			fprintf(stderr, "%s:%zu:%zu: %s: %s\n", file, v->line,
			    v->col, ck->name, why);
			errors++;
		}
	}
	ynode_free(root);
	if (errors == 0 && check_secrecy(file, c) == -1)
		errors++;
	free(c->file);
	c->file = xstrdup(file);
	return errors ? -1 : 0;
}
