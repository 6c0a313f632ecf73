/*
 * Pidbox reply bodies {hostname: value} and the kombu-style error values
 * {"error": "<Python repr of the exception>"} (spec 2.3, 3.4).
 */
#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pidbox.h"

/*
 * Returns a malloc'd string the caller frees (length in *lenp), NULL with
 * errno (EINVAL: no hostname or a value JSON cannot carry; ENOMEM).
 * Written as "{" key ": " value "}" around pyjson_dumps(value), without
 * building a one-member json-c object per reply.
 */
char *
reply_encode(const char *hostname, json_object *value, size_t *lenp)
{
	json_object	*k;
	char		*key = NULL, *val, *s = NULL;
	size_t		 keylen = 0, vallen, i, n;
	int		 saved;

	if (hostname == NULL) {
		errno = EINVAL;
		return NULL;
	}
	n = strlen(hostname);
	for (i = 0; i < n; i++)
		if ((unsigned char)hostname[i] < 0x20 ||
		    (unsigned char)hostname[i] > 0x7e ||
		    hostname[i] == '"' || hostname[i] == '\\')
			break;
	if (i < n) {	/* needs escaping: let the serializer do it */
		if ((k = json_object_new_string(hostname)) == NULL) {
			errno = ENOMEM;
			return NULL;
		}
		key = pyjson_dumps(k, &keylen);
		saved = errno;
		json_object_put(k);
		errno = saved;
		if (key == NULL)
			return NULL;
	}
	if ((val = pyjson_dumps(value, &vallen)) == NULL)
		goto done;
	if (key == NULL)
		keylen = n + 2;
	if ((s = malloc(keylen + vallen + 5)) == NULL)
		goto done;
	s[0] = '{';
	if (key != NULL)
		memcpy(s + 1, key, keylen);
	else {
		s[1] = '"';
		memcpy(s + 2, hostname, n);
		s[n + 2] = '"';
	}
	memcpy(s + 1 + keylen, ": ", 2);
	memcpy(s + 3 + keylen, val, vallen);
	s[3 + keylen + vallen] = '}';
	s[4 + keylen + vallen] = '\0';
	if (lenp != NULL)
		*lenp = keylen + vallen + 4;
done:
	saved = errno;
	free(key);
	free(val);
	errno = saved;
	return s;
}

/* New {"error": text} object (caller puts); NULL on ENOMEM. */
static json_object *
error_object(const char *text, size_t len)
{
	json_object	*obj, *v;

	if ((obj = json_object_new_object()) == NULL)
		return NULL;
	if ((v = json_object_new_string_len(text, (int)len)) == NULL ||
	    json_object_object_add(obj, "error", v) != 0) {
		json_object_put(v);
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

json_object *
reply_error(const char *fmt, ...)
{
	json_object	*obj;
	va_list		 ap;
	char		*text;
	int		 r;

	va_start(ap, fmt);
	r = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (r < 0)
		return NULL;
	obj = error_object(text, (size_t)r);
	free(text);
	return obj;
}

/*
 * kombu's handlers[method] on an unknown method: KeyError(repr(method)),
 * or TypeError("unhashable type: 'list'") when a list or dict is not even
 * a valid dict key. Returns a new object the caller puts; NULL on ENOMEM.
 */
json_object *
reply_unknown_method(json_object *method_obj)
{
	json_object	*msg, *obj = NULL;
	char		*repr, *text = NULL, what[64];
	int		 r;

	if (json_object_is_type(method_obj, json_type_array) ||
	    json_object_is_type(method_obj, json_type_object)) {
		snprintf(what, sizeof(what), "unhashable type: '%s'",
		    json_object_is_type(method_obj, json_type_array) ?
		    "list" : "dict");
		if ((msg = json_object_new_string(what)) == NULL)
			return NULL;
		repr = pyjson_repr(msg);
		json_object_put(msg);
		if (repr == NULL)
			return NULL;
		r = asprintf(&text, "TypeError(%s)", repr);
	} else {
		if ((repr = pyjson_repr(method_obj)) == NULL)
			return NULL;
		r = asprintf(&text, "KeyError(%s)", repr);
	}
	free(repr);
	if (r < 0)
		return NULL;
	obj = error_object(text, (size_t)r);
	free(text);
	return obj;
}

int
reply_decode(const char *body, size_t len, json_object **root,
    const char **node, json_object **value, const char **errstr)
{
	struct json_object_iter	 it;
	int			 isnull;

	*node = NULL;
	*value = NULL;
	if ((*root = pyjson_parse(body, len, &isnull, errstr)) == NULL) {
		if (isnull)
			*errstr = "reply is not an object";
		return -1;
	}
	if (!json_object_is_type(*root, json_type_object)) {
		*errstr = "reply is not an object";
		goto fail;
	}
	if (json_object_object_length(*root) != 1) {
		*errstr = "reply is not a one-member object";
		goto fail;
	}
	json_object_object_foreachC(*root, it) {
		*node = it.key;
		*value = it.val;
	}
	*errstr = NULL;
	return 0;

fail:
	json_object_put(*root);
	*root = NULL;
	return -1;
}

int
reply_is_error(json_object *value)
{
	return json_object_is_type(value, json_type_object) &&
	    json_object_object_get_ex(value, "error", NULL) &&
	    !json_object_object_get_ex(value, "ok", NULL);
}

/*
 * pidboxd's reply routing script (daemon/replies.c), here so that the
 * simulated fleet of `make bench` routes through the very same text.
 * KEYS[1] reply binding set, KEYS[2] the canonical reply list
 * ARGV[1] envelope, ARGV[2] TTL ms, ARGV[3] canonical member,
 * ARGV[4] SSCAN pattern for rk SEP *.
 * A reply goes only to the canonical list <rk>.reply.<ns>.pidbox, the
 * queue every kombu and Celery client declares, and only while its
 * binding member exists: one SISMEMBER, one LPUSH, one PEXPIRE. Nothing
 * else is ever pushed to or expired, whatever the binding set holds: a
 * member binding the routing key to another queue (anyone who can SADD
 * can write one) would otherwise route replies into, and put a TTL on,
 * any key of any application. Returns 1 when pushed; 0 when no binding;
 * -1 when a member naming another queue was seen for this routing key,
 * found by one SSCAN step (bounded work: a small set is one listpack, a
 * large one is scanned COUNT buckets, never walked), so it can be
 * counted and logged.
 */
const char reply_route_lua[] =
    "if redis.call('SISMEMBER', KEYS[1], ARGV[3]) == 1 then\n"
    "  redis.call('LPUSH', KEYS[2], ARGV[1])\n"
    "  redis.call('PEXPIRE', KEYS[2], ARGV[2])\n"
    "  return 1\n"
    "end\n"
    "local r = redis.call('SSCAN', KEYS[1], '0', 'MATCH', ARGV[4],"
    " 'COUNT', 16)\n"
    "if #r[2] > 0 then return -1 end\n"
    "return 0\n";

/*
 * RESP (issue 17): formatting the 9-argument command with hiredis's
 * redisAsyncCommandArgv (sdscatfmt per argument, an sds grown in steps)
 * was a tenth of a node's instructions per request; the same bytes are
 * written here into one buffer that is reused.
 */

/* "$<len>\r\n" at p; returns the end. */
static char *
bulk_len(char *p, char c, size_t n)
{
	char	 digits[24];
	size_t	 i = 0;

	do {
		digits[i++] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0);
	*p++ = c;
	while (i > 0)
		*p++ = digits[--i];
	*p++ = '\r';
	*p++ = '\n';
	return p;
}

/* One bulk string s[n] at p; returns the end. */
static char *
bulk(char *p, const char *s, size_t n)
{
	p = bulk_len(p, '$', n);
	memcpy(p, s, n);
	p += n;
	*p++ = '\r';
	*p++ = '\n';
	return p;
}

/* The room a bulk string of n bytes takes: '$', digits, CRLF, CRLF. */
#define BULK_ROOM(n)	((n) + 25)

int
reply_route_init(struct reply_route *rr, const char *sha,
    const char *binding_key, int64_t ttl_ms)
{
	const char	*cmd = sha != NULL ? "EVALSHA" : "EVAL";
	const char	*script = sha != NULL ? sha : reply_route_lua;
	char		 ttl[24], *p;
	size_t		 cl, sl, kl;
	int		 n;

	reply_route_clear(rr);
	if (binding_key == NULL || ttl_ms < 0) {
		errno = EINVAL;
		return -1;
	}
	n = snprintf(ttl, sizeof(ttl), "%lld", (long long)ttl_ms);
	cl = strlen(cmd);
	sl = strlen(script);
	kl = strlen(binding_key);
	if ((rr->head = malloc(4 + BULK_ROOM(cl) + BULK_ROOM(sl) +
	    BULK_ROOM(1) + BULK_ROOM(kl))) == NULL)
		return -1;
	p = bulk_len(rr->head, '*', 9);
	p = bulk(p, cmd, cl);
	p = bulk(p, script, sl);
	p = bulk(p, "2", 1);
	p = bulk(p, binding_key, kl);
	rr->headlen = (size_t)(p - rr->head);
	rr->ttllen = (size_t)(bulk(rr->ttl, ttl, (size_t)n) - rr->ttl);
	return 0;
}

/*
 * The script's SSCAN pattern: rk with the glob metacharacters of Redis'
 * MATCH escaped, then SEP "*". -1 when it does not fit len.
 */
static int
route_pattern(const char *rk, char *buf, size_t len)
{
	size_t i = 0;

	for (; *rk != '\0'; rk++) {
		if (i + 3 >= len - 4)
			return -1;
		if (strchr("*?[]\\", *rk) != NULL)
			buf[i++] = '\\';
		buf[i++] = *rk;
	}
	memcpy(buf + i, KOMBU_SEP "*", KOMBU_SEP_LEN + 2);
	return (int)(i + KOMBU_SEP_LEN + 1);
}

int
reply_route_cmd(struct reply_route *rr, const char *keyprefix,
    const char *queue, const char *rk, const char *env, size_t envlen,
    const char **cmd, size_t *lenp)
{
	char		 member[MAX_KEY], pat[2 * MAX_KEY], *p;
	size_t		 pl, ql, need;
	int		 ml, patl;

	if (rr->head == NULL) {
		errno = EINVAL;
		return -1;
	}
	pl = strlen(keyprefix);
	ql = strlen(queue);
	if (pl + ql >= MAX_KEY ||
	    (ml = binding_member(rk, "", queue, member, sizeof(member))) ==
	    -1 || (patl = route_pattern(rk, pat, sizeof(pat))) == -1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* + 1: NUL-terminated as an sds, which hiredis's parse assumes */
	need = rr->headlen + BULK_ROOM(pl + ql) + BULK_ROOM(envlen) +
	    rr->ttllen + BULK_ROOM((size_t)ml) + BULK_ROOM((size_t)patl) + 1;
	if (need > rr->cap) {
		if ((p = realloc(rr->buf, need)) == NULL)
			return -1;
		rr->buf = p;
		rr->cap = need;
	}
	p = rr->buf;
	memcpy(p, rr->head, rr->headlen);
	p += rr->headlen;
	p = bulk_len(p, '$', pl + ql);
	memcpy(p, keyprefix, pl);
	memcpy(p + pl, queue, ql);
	p += pl + ql;
	*p++ = '\r';
	*p++ = '\n';
	p = bulk(p, env, envlen);
	memcpy(p, rr->ttl, rr->ttllen);
	p += rr->ttllen;
	p = bulk(p, member, (size_t)ml);
	p = bulk(p, pat, (size_t)patl);
	*p = '\0';
	*cmd = rr->buf;
	*lenp = (size_t)(p - rr->buf);
	return 0;
}

void
reply_route_clear(struct reply_route *rr)
{
	free(rr->head);
	free(rr->buf);
	memset(rr, 0, sizeof(*rr));
}
