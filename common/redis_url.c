/*
 * kombu Redis broker URLs:
 *	redis://[[user]:password@]host[:port][/db][?opts]
 *	rediss://...  (TLS; ssl_cert_reqs, ssl_ca_certs, ssl_certfile...)
 *	unix://[[user]:password@]/path[?opts]  (also redis+socket://, socket://)
 * Every error names the part that is wrong and never echoes the password.
 */
#include <sys/types.h>

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pidbox.h"

#define URL_MAX		4096
#define SECONDS_MAX	1000000.0
#define DB_MAX		1000000
#define DEFAULT_PORT	6379
#define SENTINEL_PORT	26379
#define DEFAULT_CONNECT_TIMEOUT	5.0
#define WANT_SCHEMES	\
	"(want redis://, rediss://, unix://, redis+socket:// or sentinel://)"

enum { S_TCP, S_UNIX, S_TLS, S_SENTINEL };
static const struct scheme {
	const char	*name;
	int		 kind;
} schemes[] = {
	{ "redis",		S_TCP },
	{ "unix",		S_UNIX },
	{ "redis+socket",	S_UNIX },
	{ "socket",		S_UNIX },	/* kombu's internal spelling */
	{ "rediss",		S_TLS },
	{ "sentinel",		S_SENTINEL },
};

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode s[0..len) into dst[dstlen] (NUL-terminated); '+' means
 * space when plus is set (query strings, as Python's parse_qsl). Returns
 * 0, -1 for a bad or NUL escape, -2 when dst is too small.
 */
static int
pct_decode(const char *s, size_t len, char *dst, size_t dstlen, int plus)
{
	size_t	 i, o = 0;
	int	 hi, lo, c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= len)
				return -1;
			if ((hi = hexval(s[i + 1])) == -1 ||
			    (lo = hexval(s[i + 2])) == -1)
				return -1;
			c = hi << 4 | lo;
			if (c == 0)
				return -1;
			i += 2;
		} else if (c == '+' && plus)
			c = ' ';
		if (o + 1 >= dstlen)
			return -2;
		dst[o++] = (char)c;
	}
	if (dstlen == 0)
		return -2;
	dst[o] = '\0';
	return 0;
}

/* Decode a URL part, reporting errors by the part's name. */
static int
decode_part(const char *what, const char *s, size_t len, char *dst,
    size_t dstlen, int plus, char *err, size_t errlen)
{
	switch (pct_decode(s, len, dst, dstlen, plus)) {
	case 0:
		return 0;
	case -2:
		return errf(err, errlen, "%s too long in redis URL (max %zu)",
		    what, dstlen - 1);
	default:
		return errf(err, errlen, "bad percent-encoding in %s of redis URL",
		    what);
	}
}

/* Non-negative seconds: digits, '.', exponent; no inf/nan/hex. */
static int
parse_seconds(const char *name, const char *v, double *out, char *err,
    size_t errlen)
{
	char	*end;
	double	 d;

	if (*v == '\0' || strspn(v, "0123456789.eE+-") != strlen(v))
		goto bad;
	d = strtod(v, &end);
	if (*end != '\0' || !isfinite(d) || d < 0 || d > SECONDS_MAX)
		goto bad;
	*out = d;
	return 0;
bad:
	return errf(err, errlen,
	    "bad %s \"%s\" in redis URL (want seconds, 0 to %.0f)", name,
	    log_viss(v), SECONDS_MAX);
}

static int
parse_db(const char *v, int *db, char *err, size_t errlen)
{
	const char	*errstr;
	long long	 n;

	n = strtonum(v, 0, DB_MAX, &errstr);
	if (errstr != NULL)
		return errf(err, errlen, "bad db \"%s\" in redis URL (%s)",
		    log_viss(v), errstr);
	*db = (int)n;
	return 0;
}

static int
opt_db(struct redis_url *u, const char *name, const char *v, char *err,
    size_t errlen)
{
	(void)name;
	return parse_db(v, &u->db, err, errlen);
}

static int
opt_keyprefix(struct redis_url *u, const char *name, const char *v,
    char *err, size_t errlen)
{
	if (strlcpy(u->keyprefix, v, sizeof(u->keyprefix)) >=
	    sizeof(u->keyprefix))
		return errf(err, errlen, "%s too long in redis URL (max %zu)",
		    name, sizeof(u->keyprefix) - 1);
	return 0;
}

static const struct boolword {
	const char	*word;
	int		 value;
} boolwords[] = {
	{ "true", 1 }, { "yes", 1 }, { "on", 1 }, { "1", 1 },
	{ "false", 0 }, { "no", 0 }, { "off", 0 }, { "0", 0 },
};

/* true -> kombu's default "/{db}.", false -> none, else that prefix. */
static int
opt_fanout_prefix(struct redis_url *u, const char *name, const char *v,
    char *err, size_t errlen)
{
	const char	*p = v;
	size_t		 i;

	for (i = 0; i < nitems(boolwords); i++)
		if (strcasecmp(v, boolwords[i].word) == 0) {
			p = boolwords[i].value ? "/{db}." : "";
			break;
		}
	if (strlcpy(u->fanout_prefix, p, sizeof(u->fanout_prefix)) >=
	    sizeof(u->fanout_prefix))
		return errf(err, errlen, "%s too long in redis URL (max %zu)",
		    name, sizeof(u->fanout_prefix) - 1);
	u->fanout_prefix_set = 1;
	return 0;
}

static int
opt_socket_timeout(struct redis_url *u, const char *name, const char *v,
    char *err, size_t errlen)
{
	return parse_seconds(name, v, &u->socket_timeout, err, errlen);
}

static int
opt_connect_timeout(struct redis_url *u, const char *name, const char *v,
    char *err, size_t errlen)
{
	return parse_seconds(name, v, &u->connect_timeout, err, errlen);
}

static int
opt_health_check(struct redis_url *u, const char *name, const char *v,
    char *err, size_t errlen)
{
	u->health_check_set = 1;
	return parse_seconds(name, v, &u->health_check_interval, err, errlen);
}

/* kombu's master_name transport option (sentinel:// only). */
static int
opt_master_name(struct redis_url *u, const char *name, const char *v,
    char *err, size_t errlen)
{
	if (*v == '\0' || strlcpy(u->master_name, v, sizeof(u->master_name)) >=
	    sizeof(u->master_name))
		return errf(err, errlen, "bad %s in redis URL (1 to %zu bytes)",
		    name, sizeof(u->master_name) - 1);
	return 0;
}

/* kombu's ssl_cert_reqs: required, optional, none (or CERT_*). */
static int
opt_cert_reqs(struct redis_url *u, const char *name, const char *v,
    char *err, size_t errlen)
{
	if (tls_verify_parse(v, &u->tls.verify) == -1)
		return errf(err, errlen, "bad %s \"%s\" in redis URL (want "
		    "required, optional or none)", name, log_viss(v));
	u->tls.verify_set = 1;
	return 0;
}

static int
tls_path(char *dst, size_t len, const char *name, const char *v, char *err,
    size_t errlen)
{
	if (*v == '\0' || strlcpy(dst, v, len) >= len)
		return errf(err, errlen, "bad %s in redis URL (1 to %zu bytes)",
		    name, len - 1);
	return 0;
}

static int
opt_ca_certs(struct redis_url *u, const char *name, const char *v,
    char *err, size_t errlen)
{
	return tls_path(u->tls.ca_file, sizeof(u->tls.ca_file), name, v, err,
	    errlen);
}

static int
opt_ca_path(struct redis_url *u, const char *name, const char *v,
    char *err, size_t errlen)
{
	return tls_path(u->tls.ca_dir, sizeof(u->tls.ca_dir), name, v, err,
	    errlen);
}

static int
opt_certfile(struct redis_url *u, const char *name, const char *v,
    char *err, size_t errlen)
{
	return tls_path(u->tls.cert_file, sizeof(u->tls.cert_file), name, v,
	    err, errlen);
}

static int
opt_keyfile(struct redis_url *u, const char *name, const char *v,
    char *err, size_t errlen)
{
	return tls_path(u->tls.key_file, sizeof(u->tls.key_file), name, v,
	    err, errlen);
}

static int
parse_bool(const char *name, const char *v, int *out, char *err,
    size_t errlen)
{
	size_t	i;

	for (i = 0; i < nitems(boolwords); i++)
		if (strcasecmp(v, boolwords[i].word) == 0) {
			*out = boolwords[i].value;
			return 0;
		}
	return errf(err, errlen, "bad %s \"%s\" in redis URL (want true or "
	    "false)", name, log_viss(v));
}

/* sentinel://: ssl=true is TLS to the master (kombu's broker_use_ssl). */
static int
opt_ssl(struct redis_url *u, const char *name, const char *v, char *err,
    size_t errlen)
{
	return parse_bool(name, v, &u->tls.on, err, errlen);
}

/* sentinel://: TLS to the sentinels too (kombu's sentinel_kwargs ssl). */
static int
opt_sentinel_ssl(struct redis_url *u, const char *name, const char *v,
    char *err, size_t errlen)
{
	return parse_bool(name, v, &u->sentinel_tls.on, err, errlen);
}

/* sentinel://: the sentinels' password (kombu's sentinel_kwargs). */
static int
opt_sentinel_password(struct redis_url *u, const char *name, const char *v,
    char *err, size_t errlen)
{
	if (*v == '\0' || strlcpy(u->sentinel_password, v,
	    sizeof(u->sentinel_password)) >= sizeof(u->sentinel_password))
		return errf(err, errlen, "bad %s in redis URL (1 to %zu bytes)",
		    name, sizeof(u->sentinel_password) - 1);
	return 0;
}

static const struct option {
	const char	*name;
	int		(*set)(struct redis_url *, const char *, const char *,
			    char *, size_t);
} options[] = {
	{ "db",				opt_db },
	{ "fanout_prefix",		opt_fanout_prefix },
	{ "global_keyprefix",		opt_keyprefix },
	{ "health_check_interval",	opt_health_check },
	{ "master_name",		opt_master_name },
	{ "sentinel_password",		opt_sentinel_password },
	{ "sentinel_ssl",		opt_sentinel_ssl },
	{ "socket_connect_timeout",	opt_connect_timeout },
	{ "socket_timeout",		opt_socket_timeout },
	{ "ssl",			opt_ssl },
	{ "ssl_ca_certs",		opt_ca_certs },
	{ "ssl_ca_path",		opt_ca_path },
	{ "ssl_cert_reqs",		opt_cert_reqs },
	{ "ssl_certfile",		opt_certfile },
	{ "ssl_keyfile",		opt_keyfile },
};

/* The query string q[0..len): name=value pairs separated by '&'. */
static int
parse_query(struct redis_url *u, const char *q, size_t len, char *err,
    size_t errlen)
{
	char		 name[64], value[512];
	const char	*p, *end, *amp, *eq;
	size_t		 i;

	for (p = q, end = q + len; p < end; p = amp + 1) {
		if ((amp = memchr(p, '&', end - p)) == NULL)
			amp = end;
		if (amp == p)
			continue;	/* "a=1&&b=2" */
		if ((eq = memchr(p, '=', amp - p)) == NULL)
			return errf(err, errlen,
			    "bad option \"%s\" in redis URL (want name=value)",
			    log_vis(p, amp - p));
		if (pct_decode(p, eq - p, name, sizeof(name), 1) != 0)
			return errf(err, errlen,
			    "unknown option \"%s\" in redis URL",
			    log_vis(p, eq - p));
		for (i = 0; i < nitems(options); i++)
			if (strcmp(options[i].name, name) == 0)
				break;
		if (i == nitems(options))
			return errf(err, errlen,
			    "unknown option \"%s\" in redis URL",
			    log_viss(name));
		if (decode_part(name, eq + 1, amp - eq - 1, value,
		    sizeof(value), 1, err, errlen) == -1)
			return -1;
		if (options[i].set(u, name, value, err, errlen) == -1)
			return -1;
	}
	return 0;
}

/* host[:port] or [v6]:port of a redis:// URL. */
static int
parse_hostport(struct redis_url *u, const char *h, size_t len, char *err,
    size_t errlen)
{
	char		 port[16];
	const char	*host, *colon = NULL, *errstr;
	size_t		 hostlen, i;
	long long	 n;
	int		 v6 = 0;

	if (len > 0 && h[0] == '[') {
		host = h + 1;
		for (hostlen = 0; hostlen + 1 < len && host[hostlen] != ']';)
			hostlen++;
		if (hostlen + 1 >= len || hostlen == 0 ||
		    (hostlen + 2 < len && host[hostlen + 1] != ':'))
			return errf(err, errlen,
			    "bad host \"%s\" in redis URL", log_vis(h, len));
		if (hostlen + 2 < len)
			colon = host + hostlen + 1;
		v6 = 1;
	} else {
		host = h;
		if ((colon = memchr(h, ':', len)) != NULL)
			hostlen = colon - h;
		else
			hostlen = len;
	}
	for (i = 0; i < hostlen; i++) {
		if (isalnum((unsigned char)host[i]) || host[i] == '.' ||
		    host[i] == '-' || host[i] == '_' ||
		    (v6 && (host[i] == ':' || host[i] == '%')))
			continue;
		return errf(err, errlen, "bad host \"%s\" in redis URL",
		    log_vis(host, hostlen));
	}
	if (hostlen >= sizeof(u->host))
		return errf(err, errlen, "host too long in redis URL (max %zu)",
		    sizeof(u->host) - 1);
	if (hostlen > 0) {
		for (i = 0; i < hostlen; i++)
			u->host[i] = (char)tolower((unsigned char)host[i]);
		u->host[hostlen] = '\0';
	}
	if (colon != NULL && colon + 1 < h + len) {
		if ((size_t)(h + len - colon - 1) >= sizeof(port))
			return errf(err, errlen,
			    "bad port \"%s\" in redis URL",
			    log_vis(colon + 1, h + len - colon - 1));
		memcpy(port, colon + 1, h + len - colon - 1);
		port[h + len - colon - 1] = '\0';
		n = strtonum(port, 1, 65535, &errstr);
		if (errstr != NULL)
			return errf(err, errlen,
			    "bad port \"%s\" in redis URL", log_viss(port));
		u->port = (int)n;
	}
	return 0;
}

/* One URL; default_port for a host without one. */
static int
parse_one(const char *s, struct redis_url *u, char *err, size_t errlen,
    int default_port)
{
	char		 tmp[16];
	const char	*p, *sep, *netloc, *nlend, *path, *pend, *at, *colon;
	size_t		 i, n, len;
	int		 kind, quiet;

	memset(u, 0, sizeof(*u));
	strlcpy(u->host, "localhost", sizeof(u->host));
	u->port = default_port;
	u->connect_timeout = DEFAULT_CONNECT_TIMEOUT;
	if (err != NULL && errlen > 0)
		err[0] = '\0';

	if (s == NULL || (len = strlen(s)) == 0)
		return errf(err, errlen, "empty redis URL " WANT_SCHEMES);
	if (len > URL_MAX)
		return errf(err, errlen, "redis URL too long (max %d)",
		    URL_MAX);
	if ((sep = strstr(s, "://")) == NULL ||
	    strcspn(s, "/?#@") < (size_t)(sep - s))
		return errf(err, errlen, "not a redis URL " WANT_SCHEMES);
	n = sep - s;
	for (i = 0; i < nitems(schemes); i++)
		if (strlen(schemes[i].name) == n &&
		    strncasecmp(s, schemes[i].name, n) == 0)
			break;
	if (i == nitems(schemes))
		return errf(err, errlen, "unsupported scheme \"%s\" "
		    WANT_SCHEMES, log_vis(s, n));
	kind = schemes[i].kind;
	u->is_unix = kind == S_UNIX;
	u->tls.on = kind == S_TLS;

	netloc = sep + 3;
	if (strchr(netloc, '#') != NULL) {
		redis_url_clear(u);
		return errf(err, errlen,
		    "fragment (\"#...\") not supported in redis URL; "
		    "percent-encode '#' as %%23");
	}
	nlend = netloc + strcspn(netloc, "/?");
	/*
	 * An '@' after the host part most likely ends a password with an
	 * unescaped '/' or '?': the parts we would echo may hold the rest
	 * of the password, so errors then say only that.
	 */
	quiet = strchr(nlend, '@') != NULL;
	path = nlend;
	pend = path + strcspn(path, "?");

	/* userinfo: split at the last '@', then at the first ':' */
	at = NULL;
	for (p = netloc; p < nlend; p++)
		if (*p == '@')
			at = p;
	if (at != NULL) {
		colon = memchr(netloc, ':', at - netloc);
		if (decode_part("user", netloc,
		    (colon != NULL ? colon : at) - netloc, u->user,
		    sizeof(u->user), 0, err, errlen) == -1)
			goto fail;
		if (colon != NULL && decode_part("password", colon + 1,
		    at - colon - 1, u->password, sizeof(u->password), 0,
		    err, errlen) == -1)
			goto fail;
		netloc = at + 1;
	}

	if (u->is_unix) {
		if (netloc != nlend) {
			errf(err, errlen,
			    "unexpected host \"%s\" in unix socket URL "
			    "(want unix:///path)", log_vis(netloc,
			    nlend - netloc));
			goto fail;
		}
		u->host[0] = '\0';
		u->port = 0;
		if (pend == path || (pend - path == 1)) {
			errf(err, errlen, "missing socket path in unix "
			    "socket URL (want unix:///path)");
			goto fail;
		}
		if (decode_part("socket path", path, pend - path, u->path,
		    sizeof(u->path), 0, err, errlen) == -1)
			goto fail;
	} else {
		if (parse_hostport(u, netloc, nlend - netloc, err,
		    errlen) == -1)
			goto fail;
		/* "/", "" -> db 0; "/N" -> N */
		if (pend - path > 1) {
			if ((size_t)(pend - path) > sizeof(tmp)) {
				errf(err, errlen, "bad db \"%s\" in redis URL",
				    log_vis(path + 1, pend - path - 1));
				goto fail;
			}
			if (decode_part("db", path + 1, pend - path - 1, tmp,
			    sizeof(tmp), 0, err, errlen) == -1 ||
			    parse_db(tmp, &u->db, err, errlen) == -1)
				goto fail;
		}
	}
	if (*pend == '?' && parse_query(u, pend + 1, strlen(pend + 1), err,
	    errlen) == -1)
		goto fail;
	return 0;
fail:
	redis_url_clear(u);
	if (quiet)
		errf(err, errlen, "bad redis URL: '@' after the host part "
		    "(is there an unescaped '/' or '?' in the password? "
		    "percent-encode it)");
	return -1;
}

/*
 * kombu < 5.4 never formatted the fanout prefix of a sentinel channel: the
 * channel is literally "/{db}.<ns>.pidbox" (spec 1.5), which is what the
 * Celery 5.2 workers beside us subscribe to. Escape the braces so that
 * names_init()'s formatting leaves them. kombu >= 5.4 (its commit
 * 4d281948) formats it: "/0.<ns>.pidbox". Both generations share a
 * broker while a fleet upgrades, so without fanout_prefix both channels
 * are used (fanout_prefix2); fanout_prefix=/0. in the URL picks one.
 */
static int
sentinel_prefix(struct redis_url *u, char *err, size_t errlen)
{
	char		 tmp[sizeof(u->fanout_prefix)];
	const char	*p;
	size_t		 o = 0;

	if (!u->fanout_prefix_set)
		strlcpy(u->fanout_prefix2, "/{db}.", sizeof(u->fanout_prefix2));
	p = u->fanout_prefix_set ? u->fanout_prefix : "/{db}.";
	for (; *p != '\0'; p++) {
		if (o + 3 > sizeof(tmp))
			return errf(err, errlen, "fanout_prefix too long in "
			    "redis URL");
		if (*p == '{' || *p == '}')
			tmp[o++] = *p;
		tmp[o++] = *p;
	}
	tmp[o] = '\0';
	strlcpy(u->fanout_prefix, tmp, sizeof(u->fanout_prefix));
	u->fanout_prefix_set = 1;
	return 0;
}

/* Any ssl_* option given. */
static int
tls_opts(const struct redis_url *u)
{
	return u->tls.verify_set || u->tls.ca_file[0] != '\0' ||
	    u->tls.ca_dir[0] != '\0' || u->tls.cert_file[0] != '\0' ||
	    u->tls.key_file[0] != '\0';
}

/*
 * sentinel://a:26379;sentinel://b:26379?master_name=m: each part names a
 * sentinel; user, password and db come from the first part, options from
 * every part.
 */
static int
parse_sentinel(const char *s, struct redis_url *u, char *err, size_t errlen)
{
	struct redis_url	 t;
	struct redis_url	*dst;
	char			 buf[URL_MAX + 1];
	char			*part, *next, *q;
	int			 i = 0, on;

	memset(&t, 0, sizeof(t));
	memset(u, 0, sizeof(*u));
	strlcpy(buf, s, sizeof(buf));
	for (part = buf; part != NULL; part = next) {
		if ((next = strchr(part, ';')) != NULL)
			*next++ = '\0';
		if (*part == '\0')
			continue;
		if (strncasecmp(part, "sentinel://", 11) != 0) {
			errf(err, errlen, "every part of a sentinel URL must "
			    "be sentinel://host:port");
			goto fail;
		}
		if (i == MAX_SENTINELS) {
			errf(err, errlen, "too many sentinels in redis URL "
			    "(max %d)", MAX_SENTINELS);
			goto fail;
		}
		dst = i == 0 ? u : &t;
		if (parse_one(part, dst, err, errlen, SENTINEL_PORT) == -1)
			goto fail;
		if (i > 0 && (q = strchr(part, '?')) != NULL &&
		    parse_query(u, q + 1, strlen(q + 1), err, errlen) == -1)
			goto fail;
		strlcpy(u->sentinels[i].host, dst->host,
		    sizeof(u->sentinels[i].host));
		u->sentinels[i].port = dst->port;
		redis_url_clear(&t);
		i++;
	}
	u->nsentinels = i;
	if (i == 0) {
		errf(err, errlen, "no sentinel in redis URL");
		goto fail;
	}
	if (u->master_name[0] == '\0') {
		errf(err, errlen, "sentinel URL without master_name "
		    "(add ?master_name=mymaster)");
		goto fail;
	}
	if (sentinel_prefix(u, err, errlen) == -1)
		goto fail;
	if (tls_opts(u) && !u->tls.on && !u->sentinel_tls.on) {
		errf(err, errlen, "ssl_* options in a sentinel URL need "
		    "ssl=true (TLS to the master) or sentinel_ssl=true (TLS to "
		    "the sentinels)");
		goto fail;
	}
	/* one set of ssl_* options for every TLS connection of the URL */
	on = u->sentinel_tls.on;
	u->sentinel_tls = u->tls;
	u->sentinel_tls.on = on;
	explicit_bzero(buf, sizeof(buf));
	return 0;
fail:
	explicit_bzero(buf, sizeof(buf));
	redis_url_clear(&t);
	redis_url_clear(u);
	return -1;
}

int
redis_url_parse(const char *s, struct redis_url *u, char *err, size_t errlen)
{
	if (s != NULL && strncasecmp(s, "sentinel://", 11) == 0) {
		if (strlen(s) > URL_MAX) {
			memset(u, 0, sizeof(*u));
			return errf(err, errlen, "redis URL too long (max %d)",
			    URL_MAX);
		}
		return parse_sentinel(s, u, err, errlen);
	}
	if (parse_one(s, u, err, errlen, DEFAULT_PORT) == -1)
		return -1;
	if (u->master_name[0] != '\0' || u->sentinel_password[0] != '\0' ||
	    u->sentinel_tls.on) {
		redis_url_clear(u);
		return errf(err, errlen, "master_name, sentinel_password and "
		    "sentinel_ssl only apply to sentinel:// URLs");
	}
	/* ssl= is the sentinel's spelling; here the scheme says it */
	if (u->tls.on != (s != NULL && strncasecmp(s, "rediss://", 9) == 0)) {
		redis_url_clear(u);
		return errf(err, errlen, "ssl= only applies to sentinel:// "
		    "URLs; for TLS use rediss://");
	}
	if (!u->tls.on && tls_opts(u)) {
		redis_url_clear(u);
		return errf(err, errlen, "ssl_* options need a rediss:// URL");
	}
	return 0;
}

/* The user part for display: "user:***@", ":***@", "user@" or "". */
static void
userpart(const struct redis_url *u, char *buf, size_t len)
{
	if (u->password[0] != '\0')
		snprintf(buf, len, "%s:***@", log_viss(u->user));
	else if (u->user[0] != '\0')
		snprintf(buf, len, "%s@", log_viss(u->user));
	else if (len > 0)
		buf[0] = '\0';
}

const char *
redis_url_redacted(const struct redis_url *u, char *buf, size_t len)
{
	char	 user[sizeof(u->user) * 4 + 8];
	int	 v6;

	if (len == 0)
		return buf;
	userpart(u, user, sizeof(user));
	if (u->nsentinels > 0) {
		size_t	o;
		int	i;

		snprintf(buf, len, "sentinel://%s", user);
		for (i = 0; i < u->nsentinels; i++) {
			o = strlen(buf);
			v6 = strchr(u->sentinels[i].host, ':') != NULL;
			snprintf(buf + o, len - o, "%s%s%s%s:%d",
			    i > 0 ? ";sentinel://" : "", v6 ? "[" : "",
			    log_viss(u->sentinels[i].host), v6 ? "]" : "",
			    u->sentinels[i].port);
			if (i == 0) {
				o = strlen(buf);
				snprintf(buf + o, len - o, "/%d", u->db);
			}
		}
		o = strlen(buf);
		snprintf(buf + o, len - o, "?master_name=%s%s%s",
		    log_viss(u->master_name), u->tls.on ? "&ssl=true" : "",
		    u->sentinel_tls.on ? "&sentinel_ssl=true" : "");
	} else if (u->is_unix)
		snprintf(buf, len, "unix://%s%s?db=%d", user,
		    log_viss(u->path), u->db);
	else {
		v6 = strchr(u->host, ':') != NULL;
		snprintf(buf, len, "%s://%s%s%s%s:%d/%d",
		    u->tls.on ? "rediss" : "redis", user,
		    v6 ? "[" : "", log_viss(u->host), v6 ? "]" : "",
		    u->port, u->db);
	}
	return buf;
}

void
redis_url_clear(struct redis_url *u)
{
	if (u != NULL)
		explicit_bzero(u, sizeof(*u));
}
