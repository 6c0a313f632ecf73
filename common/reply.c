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

/*
 * The collector's reply_decode() (issue 17): a body {node: {...}} of the
 * shape kombu writes is taken apart without the one-member json-c object
 * around the value (a 16-entry hash table to build, fill and free per
 * reply); the name is copied into rb->name. The value is parsed from its
 * own text by pyjson_parse(), as the full parse would parse it: only
 * whitespace and a key of printable ASCII without escapes are around it.
 * Anything else (another value type, a longer or escaped key, two
 * members, a value that does not parse) goes through reply_decode(), so
 * that what is taken and every error are its.
 */
int
reply_take(const char *body, size_t len, struct reply_body *rb,
    const char **errstr)
{
	struct jscan	 f = { body, body + len };
	const char	*k, *start, *end;
	size_t		 kl;
	int		 isnull;

	rb->root = rb->value = NULL;
	rb->node = NULL;
	if (len > MAX_ENVELOPE)
		goto full;
	if (jscan_open(&f) != 0 || jscan_key(&f, &k, &kl) == -1 ||
	    kl >= sizeof(rb->name))
		goto full;
	start = f.p;
	if (jscan_skip(&f) == -1)
		goto full;
	end = f.p;
	if (jscan_next(&f) != 0)
		goto full;
	jscan_ws(&f);
	if (f.p != f.end || (rb->value = pyjson_parse(start,
	    (size_t)(end - start), &isnull, errstr)) == NULL)
		goto full;
	memcpy(rb->name, k, kl);
	rb->name[kl] = '\0';
	rb->node = rb->name;
	*errstr = NULL;
	return 0;
full:
	return reply_decode(body, len, &rb->root, &rb->node, &rb->value,
	    errstr);
}

void
reply_body_free(struct reply_body *rb)
{
	json_object_put(rb->root != NULL ? rb->root : rb->value);
	rb->root = rb->value = NULL;
	rb->node = NULL;
}

int
reply_is_error(json_object *value)
{
	return json_object_is_type(value, json_type_object) &&
	    json_object_object_get_ex(value, "error", NULL) &&
	    !json_object_object_get_ex(value, "ok", NULL);
}

/* "<c><n>\r\n" at p; the end. */
static char *
resp_len(char *p, char c, size_t n)
{
	char	 d[24];
	size_t	 i = sizeof(d);

	do
		d[--i] = (char)('0' + n % 10);
	while ((n /= 10) > 0);
	*p++ = c;
	memcpy(p, d + i, sizeof(d) - i);
	p += sizeof(d) - i;
	*p++ = '\r';
	*p++ = '\n';
	return p;
}

size_t
resp_size(int argc, const char **argv, const size_t *argvlen)
{
	size_t	 n = 1 + 20 + 2;
	int	 i;

	for (i = 0; i < argc; i++)
		n += 1 + 20 + 2 + argvlen[i] + 2;
	(void)argv;
	return n + 1;
}

size_t
resp_format(char *dst, int argc, const char **argv, const size_t *argvlen)
{
	char	*p = dst;
	int	 i;

	p = resp_len(p, '*', (size_t)argc);
	for (i = 0; i < argc; i++) {
		p = resp_len(p, '$', argvlen[i]);
		memcpy(p, argv[i], argvlen[i]);
		p += argvlen[i];
		*p++ = '\r';
		*p++ = '\n';
	}
	*p = '\0';
	return (size_t)(p - dst);
}
