/*
 * The kombu message envelope around every pidbox request and reply:
 * {"body", "content-encoding", "content-type", "headers", "properties"}.
 */
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/nameser.h>
#include <resolv.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pidbox.h"

/*
 * Content types kombu refuses (or hands over undecoded), with the reason we
 * give. Anything not listed and not application/json gets the last row.
 */
struct ctype {
	const char	*type;
	const char	*why;
};
static const struct ctype refused_ctypes[] = {
	{ "application/x-python-serialize",
	    "refusing content type pickle (application/x-python-serialize)" },
	{ "application/x-yaml",
	    "refusing content type yaml (application/x-yaml)" },
	{ "application/x-msgpack",
	    "refusing content type msgpack (application/x-msgpack)" },
	{ "application/data",
	    "refusing content type application/data (not JSON)" },
	{ "application/text",
	    "refusing content type application/text (not JSON)" },
	{ NULL,
	    "refusing content type that is not application/json" },
};

/* Borrowed member key of obj when it is a string, else NULL. */
static const char *
get_string(json_object *obj, const char *key)
{
	json_object	*v;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/*
 * Why a content type is refused (ct NULL: absent or null); NULL when it
 * is JSON.
 */
static const char *
ctype_refused_str(const char *ct)
{
	size_t		 i;

	if (ct == NULL)
		return "no content-type (application/data, not JSON)";
	if (strcmp(ct, "application/json") == 0)
		return NULL;
	for (i = 0; refused_ctypes[i].type != NULL; i++)
		if (strcmp(ct, refused_ctypes[i].type) == 0)
			break;
	return refused_ctypes[i].why;
}

/* The same for a json-c value (NULL: absent). */
static const char *
ctype_refused(json_object *v)
{
	if (v == NULL || json_object_is_type(v, json_type_null))
		return ctype_refused_str(NULL);
	if (!json_object_is_type(v, json_type_string))
		return "content-type is not a string";
	return ctype_refused_str(json_object_get_string(v));
}

/*
 * The body as the payload into env: kombu's "base64" decodes, a falsy
 * encoding means the body is the payload; kombu >= 5.4 also takes
 * "utf-8" as no encoding. enc[enclen] NULL: absent or null; bad: not a
 * string.
 */
static int
decode_body(struct envelope *env, const char *body, size_t bodylen,
    const char *enc, size_t enclen, int bad, const char **errstr)
{
	if (bad) {
		*errstr = "body_encoding is not a string";
		return -1;
	}
	if (enc != NULL && strcmp(enc, "base64") == 0) {
		env->body = b64_decode(body, bodylen, &env->bodylen);
		if (env->body == NULL) {
			*errstr = errno == ENOMEM ? "out of memory" :
			    "body is not valid base64";
			return -1;
		}
	} else if (enc == NULL || enclen == 0 || strcmp(enc, "utf-8") == 0) {
		if ((env->body = malloc(bodylen + 1)) == NULL) {
			*errstr = "out of memory";
			return -1;
		}
		memcpy(env->body, body, bodylen);
		env->body[bodylen] = '\0';
		env->bodylen = bodylen;
	} else {
		*errstr = "unknown body_encoding";
		return -1;
	}
	*errstr = NULL;
	return 0;
}

/*
 * The only members of an envelope the flat scan below takes (kombu
 * writes these five), each once; the first three are strings.
 */
enum { K_BODY, K_ENCODING, K_CTYPE, K_HEADERS, K_PROPERTIES };
static const char *const env_keys[] = { "body", "content-encoding",
    "content-type", "headers", "properties" };

int
envelope_decode(const char *buf, size_t len, struct envelope *env,
    const char **errstr)
{
	json_object	*root, *v, *props, *info, *enc;
	const char	*body, *why;
	size_t		 bodylen;
	int		 isnull;

	memset(env, 0, sizeof(*env));
	if ((root = pyjson_parse(buf, len, &isnull, errstr)) == NULL) {
		if (isnull)
			*errstr = "envelope is not an object";
		return -1;
	}
	env->root = root;
	if (!json_object_is_type(root, json_type_object)) {
		*errstr = "envelope is not an object";
		goto fail;
	}
	v = NULL;
	json_object_object_get_ex(root, "content-type", &v);
	if ((why = ctype_refused(v)) != NULL) {
		*errstr = why;
		goto fail;
	}
	env->content_type = json_object_get_string(v);

	if (!json_object_object_get_ex(root, "properties", &props) ||
	    !json_object_is_type(props, json_type_object)) {
		*errstr = "no properties";
		goto fail;
	}
	/* kombu raises KeyError('delivery_tag') without one. */
	if (!json_object_object_get_ex(props, "delivery_tag", &v)) {
		*errstr = "no delivery_tag";
		goto fail;
	}
	if (!json_object_is_type(v, json_type_string)) {
		*errstr = "delivery_tag is not a string";
		goto fail;
	}
	env->delivery_tag = json_object_get_string(v);
	if (json_object_object_get_ex(props, "delivery_info", &info) &&
	    json_object_is_type(info, json_type_object)) {
		env->exchange = get_string(info, "exchange");
		env->routing_key = get_string(info, "routing_key");
	}

	if (json_object_object_get_ex(root, "headers", &v) &&
	    !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_object)) {
			*errstr = "headers is not an object";
			goto fail;
		}
		env->headers = v;
	}

	if (!json_object_object_get_ex(root, "body", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		*errstr = "body is not a string";
		goto fail;
	}
	body = json_object_get_string(v);
	bodylen = (size_t)json_object_get_string_len(v);

	enc = NULL;
	json_object_object_get_ex(props, "body_encoding", &enc);
	if (decode_body(env, body, bodylen, enc == NULL ||
	    json_object_is_type(enc, json_type_null) ? NULL :
	    json_object_get_string(enc), enc == NULL ? 0 :
	    (size_t)json_object_get_string_len(enc), enc != NULL &&
	    !json_object_is_type(enc, json_type_null) &&
	    !json_object_is_type(enc, json_type_string), errstr) == -1)
		goto fail;
	return 0;

fail:
	envelope_free(env);
	return -1;
}

/*
 * Flat decoding (issue 17: pidboxd decodes every request it hears,
 * pidboxctl every reply). Through json-c, the objects of the
 * headers and properties (an object and its hash table each, a string
 * object per member) were a quarter of a node's instructions per request,
 * for the four or five values it reads. An envelope of kombu's simple
 * shape is read here into env->hdr and a few pointers, in a copy of the
 * message whose closing quotes become the strings' NULs; anything else
 * (escapes, arrays, nesting but properties.delivery_info, duplicate keys,
 * numbers jscan_num() leaves to the tokener, more than ENV_FLAT_MAX
 * members) goes to envelope_decode(), which decides alone: this path
 * refuses only with envelope_decode()'s own reasons, in its order.
 */

/* A simple string at f->p, NUL-terminated in place (f->p is in a copy). */
static int
flat_str(struct jscan *f, const char **s, size_t *len)
{
	if (jscan_str(f, s, len) == -1)
		return -1;
	((char *)(uintptr_t)*s)[*len] = '\0';
	return 0;
}

/* A scalar at f->p into v: simple string, number, true, false, null. */
static int
flat_value(struct jscan *f, struct env_value *v)
{
	size_t	 sl;

	if (f->p >= f->end)
		return -1;
	if (*f->p == '"') {
		if (flat_str(f, &v->str, &sl) == -1)
			return -1;
		v->type = json_type_string;
		return 0;
	}
	if (jscan_lit(f, "null")) {
		v->type = json_type_null;
		return 0;
	}
	if (jscan_lit(f, "true")) {
		v->type = json_type_boolean;
		v->i = 1;
		return 0;
	}
	if (jscan_lit(f, "false")) {
		v->type = json_type_boolean;
		return 0;
	}
	switch (jscan_num(f, &v->i, &v->d)) {
	case 1:
		v->type = json_type_int;
		v->d = (double)v->i;
		return 0;
	case 2:
		v->type = json_type_double;
		return 0;
	}
	return -1;
}

/*
 * An object of scalars at f->p into o; with sub, the member named
 * "delivery_info" may be an object of scalars, read into sub (its
 * v[] entry is then of type object). -1 when not of that shape or with
 * a key twice.
 */
static int
flat_object(struct jscan *f, struct env_values *o, struct env_values *sub)
{
	struct env_value *v;
	size_t		 i;
	int		 r;

	o->n = 0;
	if ((r = jscan_open(f)) != 0)
		return r == 1 ? 0 : -1;
	do {
		if (o->n == ENV_FLAT_MAX)
			return -1;
		v = &o->v[o->n];
		memset(v, 0, sizeof(*v));
		jscan_ws(f);
		if (jscan_key(f, &v->key, &v->keylen) == -1)
			return -1;
		for (i = 0; i < o->n; i++)
			if (o->v[i].keylen == v->keylen &&
			    memcmp(o->v[i].key, v->key, v->keylen) == 0)
				return -1;
		((char *)(uintptr_t)v->key)[v->keylen] = '\0';
		if (sub != NULL && f->p < f->end && *f->p == '{' &&
		    strcmp(v->key, "delivery_info") == 0) {
			if (flat_object(f, sub, NULL) == -1)
				return -1;
			v->type = json_type_object;
			sub = NULL;
		} else if (flat_value(f, v) == -1)
			return -1;
		o->n++;
	} while ((r = jscan_next(f)) == 1);
	return r == 0 ? 0 : -1;
}

/* Member key of o, NULL when absent. */
static const struct env_value *
flat_get(const struct env_value *v, size_t n, const char *key)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].key, key) == 0)
			return &v[i];
	return NULL;
}

/* A string member of o, else NULL (get_string()'s). */
static const char *
flat_string(const struct env_values *o, const char *key)
{
	const struct env_value *v = flat_get(o->v, o->n, key);

	return v != NULL && v->type == json_type_string ? v->str : NULL;
}

/* 0 decoded (or refused: -1 with *errstr); 1 not of the flat shape. */
static int
flat_decode(const char *buf, size_t len, struct envelope *env,
    const char **errstr, int *rc)
{
	struct env_values	 props, info;
	struct jscan	 f;
	const struct env_value *v, *enc;
	const char	*s, *body = NULL, *ct = NULL;
	size_t		 sl, bodylen = 0;
	unsigned	 seen = 0;
	int		 r, i;

	info.n = props.n = 0;
	if ((env->msg = jscan_copy(buf, len, &f)) == NULL ||
	    jscan_open(&f) != 0)
		return 1;
	do {
		if ((i = jscan_member(&f, env_keys, nitems(env_keys),
		    &seen)) == -1)
			return 1;
		if (i <= K_CTYPE) {
			if (flat_str(&f, &s, &sl) == -1)
				return 1;
			if (i == K_BODY) {
				body = s;
				bodylen = sl;
			} else if (i == K_CTYPE)
				ct = s;
		} else if (i == K_HEADERS) {
			if (!jscan_lit(&f, "null") &&
			    flat_object(&f, &env->hdr, NULL) == -1)
				return 1;
		} else if (flat_object(&f, &props, &info) == -1)
			return 1;
	} while ((r = jscan_next(&f)) == 1);
	jscan_ws(&f);
	if (r == -1 || f.p != f.end || !(seen & (1u << K_BODY)))
		return 1;

	/* envelope_decode()'s checks, in its order */
	*rc = -1;
	if ((*errstr = ctype_refused_str(ct)) != NULL)
		return 0;
	env->content_type = ct;
	if (!(seen & (1u << K_PROPERTIES))) {
		*errstr = "no properties";
		return 0;
	}
	if ((v = flat_get(props.v, props.n, "delivery_tag")) == NULL) {
		*errstr = "no delivery_tag";
		return 0;
	}
	if (v->type != json_type_string) {
		*errstr = "delivery_tag is not a string";
		return 0;
	}
	env->delivery_tag = v->str;
	if ((v = flat_get(props.v, props.n, "delivery_info")) != NULL &&
	    v->type == json_type_object) {
		env->exchange = flat_string(&info, "exchange");
		env->routing_key = flat_string(&info, "routing_key");
	}
	if ((enc = flat_get(props.v, props.n, "body_encoding")) != NULL &&
	    enc->type == json_type_null)
		enc = NULL;
	if (decode_body(env, body, bodylen, enc != NULL ? enc->str : NULL,
	    enc != NULL && enc->str != NULL ? strlen(enc->str) : 0,
	    enc != NULL && enc->type != json_type_string, errstr) == -1)
		return 0;
	*rc = 0;
	return 0;
}

int
envelope_decode_flat(const char *buf, size_t len, struct envelope *env,
    const char **errstr)
{
	int	 rc;

	memset(env, 0, sizeof(*env));
	if (flat_decode(buf, len, env, errstr, &rc) == 0) {
		if (rc == -1)
			envelope_free(env);
		return rc;
	}
	envelope_free(env);
	return envelope_decode(buf, len, env, errstr);
}

void
envelope_free(struct envelope *env)
{
	if (env == NULL)
		return;
	json_object_put(env->root);
	free(env->body);
	free(env->msg);
	memset(env, 0, sizeof(*env));
}

/* Borrowed headers[key], NULL when absent or null (not flat). */
static json_object *
header(const struct envelope *env, const char *key)
{
	json_object	*v;

	if (env == NULL || env->headers == NULL ||
	    !json_object_object_get_ex(env->headers, key, &v) ||
	    json_object_is_type(v, json_type_null))
		return NULL;
	return v;
}

/*
 * A header of a flat-decoded envelope as json-c would hold it: *flat set;
 * the value, or NULL when absent or null.
 */
static const struct env_value *
flat_header(const struct envelope *env, const char *key, int *flat)
{
	const struct env_value *v;

	if (env == NULL || env->msg == NULL) {
		*flat = 0;
		return NULL;
	}
	*flat = 1;
	v = flat_get(env->hdr.v, env->hdr.n, key);
	return v != NULL && v->type != json_type_null ? v : NULL;
}

/* headers[key] of either kind: type, integer, double, string. */
static enum json_type
header_get(const struct envelope *env, const char *key, int64_t *i,
    double *d, const char **str)
{
	const struct env_value *fv;
	json_object	*v;
	int		 flat;

	fv = flat_header(env, key, &flat);
	if (flat) {
		if (fv == NULL)
			return json_type_null;
		*i = fv->i;
		*d = fv->d;
		*str = fv->str;
		return fv->type;
	}
	if ((v = header(env, key)) == NULL)
		return json_type_null;
	switch (json_object_get_type(v)) {
	case json_type_boolean:
		*i = json_object_get_boolean(v);
		break;
	case json_type_int:
		/* json-c saturates at INT64_MIN/INT64_MAX: clamping is exact */
		*i = json_object_get_int64(v);
		*d = json_object_get_double(v);
		break;
	case json_type_double:
		*d = json_object_get_double(v);
		break;
	case json_type_string:
		*str = json_object_get_string(v);
		break;
	default:
		break;
	}
	return json_object_get_type(v);
}

/*
 * kombu does max(clock, headers.clock or 0) + 1 and raises TypeError on
 * anything but a number; we take only integers that fit an int64.
 */
int
envelope_clock(const struct envelope *env, int64_t *clock)
{
	const char	*s;
	int64_t		 c;
	double		 d;

	*clock = 0;
	switch (header_get(env, "clock", &c, &d, &s)) {
	case json_type_null:
		return 0;
	case json_type_int:
		*clock = c < 0 ? 0 : c > CLOCK_MAX ? CLOCK_MAX : c;
		return 0;
	case json_type_double:
		if (isnan(d) || d < 0)
			*clock = 0;
		else if (d >= (double)CLOCK_MAX)
			*clock = CLOCK_MAX;
		else
			*clock = (int64_t)d;
		return 0;
	default:
		return -1;
	}
}

int
envelope_expires(const struct envelope *env, double *expires)
{
	const char	*s;
	int64_t		 i;
	double		 d;

	*expires = 0.0;
	switch (header_get(env, "expires", &i, &d, &s)) {
	case json_type_null:
		return 0;
	case json_type_int:
	case json_type_double:
		if (!isfinite(d))
			return -1;
		*expires = d;
		return 0;
	default:
		return -1;
	}
}

/* Borrowed from env; valid until envelope_free(env). */
const char *
envelope_header_string(const struct envelope *env, const char *key)
{
	const char	*s;
	int64_t		 i;
	double		 d;

	if (header_get(env, key, &i, &d, &s) != json_type_string)
		return NULL;
	return s;
}

const char *
envelope_ticket(const struct envelope *env)
{
	return envelope_header_string(env, "ticket");
}

int
envelope_header_int(const struct envelope *env, const char *key, int64_t *v)
{
	const char	*s;
	int64_t		 i;
	double		 d;

	switch (header_get(env, key, &i, &d, &s)) {
	case json_type_null:
		return 1;
	case json_type_int:
		*v = i;
		return 0;
	default:
		return -1;
	}
}

enum json_type
envelope_header_type(const struct envelope *env, const char *key)
{
	const char	*s;
	int64_t		 i;
	double		 d;

	return header_get(env, key, &i, &d, &s);
}

int
envelope_header_present(const struct envelope *env, const char *key)
{
	if (env == NULL)
		return 0;
	if (env->msg != NULL)
		return flat_get(env->hdr.v, env->hdr.n, key) != NULL;
	return env->headers != NULL &&
	    json_object_object_get_ex(env->headers, key, NULL);
}

int
envelope_header_true(const struct envelope *env, const char *key)
{
	const char	*s;
	int64_t		 i;
	double		 d;

	return header_get(env, key, &i, &d, &s) == json_type_boolean &&
	    i != 0;
}

/*
 * A string as pyjson_dumps() writes it, malloc'd: printable ASCII without
 * '"' or '\\' (exchange names, uuids, base64) is only quoted, anything else
 * goes through the serializer. NULL with errno on failure.
 */
static char *
quoted(const char *s, size_t *lenp)
{
	json_object	*o;
	char		*q;
	size_t		 i, n = strlen(s);
	int		 saved;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e ||
		    s[i] == '"' || s[i] == '\\')
			break;
	if (i == n) {
		if ((q = malloc(n + 3)) == NULL)
			return NULL;
		q[0] = '"';
		memcpy(q + 1, s, n);
		q[n + 1] = '"';
		q[n + 2] = '\0';
		*lenp = n + 2;
		return q;
	}
	if ((o = json_object_new_string(s)) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	q = pyjson_dumps(o, lenp);
	saved = errno;
	json_object_put(o);
	errno = saved;
	return q;
}

static char *
put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

#define PUTS(p, lit)	put((p), (lit), sizeof(lit) - 1)

/*
 * Returns a malloc'd NUL-terminated string the caller frees; NULL with
 * errno (ENOMEM, EMSGSIZE for an over-long body, EINVAL for headers that
 * JSON cannot carry). Written straight into one buffer in kombu's key
 * order (spec 2.1) rather than through a json-c tree: only the headers
 * object and odd strings go through the serializer.
 */
char *
envelope_encode(const struct envelope_out *out, size_t *lenp)
{
	static const char p0[] = "{\"body\": \"";
	static const char p1[] = "\", \"content-encoding\": \"utf-8\", "
	    "\"content-type\": \"application/json\", \"headers\": ";
	static const char p2[] = ", \"properties\": {\"delivery_mode\": ";
	static const char p3[] = ", \"delivery_info\": {\"exchange\": ";
	static const char p4[] = ", \"routing_key\": ";
	static const char p5[] = "}, \"priority\": 0, \"body_encoding\": "
	    "\"base64\", \"delivery_tag\": ";
	static const char p6[] = "}}";
	char		*hdr = NULL, *ex = NULL, *rk = NULL, *dt = NULL;
	char		*s = NULL, *p, tag[UUID_STRLEN + 1], mode[16];
	size_t		 b64len, hdrlen, exlen, rklen, dtlen, modelen, total;
	int		 r, saved;

	if (out == NULL || (out->body == NULL && out->bodylen > 0)) {
		errno = EINVAL;
		return NULL;
	}
	if (out->bodylen > MAX_ENVELOPE) {
		errno = EMSGSIZE;
		return NULL;
	}
	if (out->delivery_tag == NULL)
		uuid4(tag);
	if (out->headers != NULL)
		hdr = pyjson_dumps(out->headers, &hdrlen);
	else if ((hdr = strdup("{}")) != NULL)
		hdrlen = 2;
	if (hdr == NULL ||
	    (ex = quoted(out->exchange != NULL ? out->exchange : "",
	    &exlen)) == NULL ||
	    (rk = quoted(out->routing_key != NULL ? out->routing_key : "",
	    &rklen)) == NULL ||
	    (dt = quoted(out->delivery_tag != NULL ? out->delivery_tag : tag,
	    &dtlen)) == NULL)
		goto done;
	modelen = (size_t)snprintf(mode, sizeof(mode), "%d",
	    out->delivery_mode);
	b64len = (out->bodylen + 2) / 3 * 4;
	total = sizeof(p0) - 1 + b64len + sizeof(p1) - 1 + hdrlen +
	    sizeof(p2) - 1 + modelen + sizeof(p3) - 1 + exlen +
	    sizeof(p4) - 1 + rklen + sizeof(p5) - 1 + dtlen + sizeof(p6) - 1;
	if ((s = malloc(total + 1)) == NULL)
		goto done;
	p = PUTS(s, p0);
	r = b64_ntop((const unsigned char *)(out->body != NULL ? out->body :
	    ""), out->bodylen, p, b64len + 1);
	if (r < 0 || (size_t)r != b64len) {
		free(s);
		s = NULL;
		errno = EINVAL;
		goto done;
	}
	p += b64len;
	p = PUTS(p, p1);
	p = put(p, hdr, hdrlen);
	p = PUTS(p, p2);
	p = put(p, mode, modelen);
	p = PUTS(p, p3);
	p = put(p, ex, exlen);
	p = PUTS(p, p4);
	p = put(p, rk, rklen);
	p = PUTS(p, p5);
	p = put(p, dt, dtlen);
	p = PUTS(p, p6);
	*p = '\0';
	if (lenp != NULL)
		*lenp = total;
done:
	saved = errno;
	free(hdr);
	free(ex);
	free(rk);
	free(dt);
	errno = saved;
	return s;
}
