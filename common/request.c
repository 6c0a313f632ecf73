/*
 * The pidbox request body: {"method", "arguments", "destination",
 * "pattern", "matcher"[, "ticket", "reply_to"]} (spec 2.2, 3.2, 3.9).
 */
#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pidbox.h"

#define MAX_ARGUMENTS	1024	/* members of "arguments" */
#define MAX_TICKET	MAX_KEY	/* kombu sends a uuid4; be generous */

/* Errors of opt_string(): wrong type, too long or with a NUL byte. */
static const char *const why_pattern[2] = {
	"pattern is not a string", "pattern too long or with a NUL byte" };
static const char *const why_matcher[2] = {
	"matcher is not a string", "matcher too long or with a NUL byte" };
static const char *const why_ticket[2] = {
	"ticket is not a string", "ticket too long or with a NUL byte" };
static const char *const why_exchange[2] = {
	"reply_to.exchange is not a string",
	"reply_to.exchange too long or with a NUL byte" };
static const char *const why_routing_key[2] = {
	"reply_to.routing_key is not a string",
	"reply_to.routing_key too long or with a NUL byte" };

/* Borrowed obj[key], NULL when absent or JSON null. */
static json_object *
member(json_object *obj, const char *key)
{
	json_object	*v;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    json_object_is_type(v, json_type_null))
		return NULL;
	return v;
}

/*
 * An optional string member that we hand on as a C string: absent or null
 * gives NULL; it must be a string without NUL bytes of at most max bytes.
 * With empty_null, "" also gives NULL (kombu treats "" as not set).
 * why[0] is the error for a wrong type, why[1] for a bad string.
 */
static int
opt_string(json_object *obj, const char *key, size_t max, int empty_null,
    const char **out, const char **errstr, const char *const why[2])
{
	json_object	*v;
	size_t		 len;

	*out = NULL;
	if ((v = member(obj, key)) == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string)) {
		*errstr = why[0];
		return -1;
	}
	len = (size_t)json_object_get_string_len(v);
	if (len > max || strlen(json_object_get_string(v)) != len) {
		*errstr = why[1];
		return -1;
	}
	if (len > 0 || !empty_null)
		*out = json_object_get_string(v);
	return 0;
}

static int
decode_destination(struct request *req, const char **errstr)
{
	json_object	*v, *e;
	size_t		 i, n;

	req->destination = NULL;
	if ((v = member(req->body, "destination")) == NULL)
		return 0;
	/*
	 * kombu tests "hostname in destination": a string would be a
	 * substring test (spec 3.2). We refuse it on purpose.
	 */
	if (!json_object_is_type(v, json_type_array)) {
		*errstr = "destination is not a list";
		return -1;
	}
	if ((n = json_object_array_length(v)) == 0)
		return 0;	/* [] means everybody */
	if (n > MAX_DESTINATIONS) {
		*errstr = "too many destinations";
		return -1;
	}
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string)) {
			*errstr = "destination is not a list of strings";
			return -1;
		}
		if (json_object_get_string_len(e) > MAX_NAME) {
			*errstr = "destination name too long";
			return -1;
		}
	}
	req->destination = v;
	return 0;
}

static int
decode_reply_to(struct request *req, const char **errstr)
{
	json_object	*v;
	int		 hasx, hasrk;

	req->reply_exchange = req->reply_routing_key = NULL;
	if ((v = member(req->body, "reply_to")) == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_object)) {
		*errstr = "reply_to is not an object";
		return -1;
	}
	hasx = member(v, "exchange") != NULL;
	hasrk = member(v, "routing_key") != NULL;
	if (!hasx && !hasrk)
		return 0;	/* {}: a cast, as in kombu */
	if (!hasx || !hasrk) {
		*errstr = "reply_to without exchange or routing_key";
		return -1;
	}
	if (opt_string(v, "exchange", MAX_KEY, 0, &req->reply_exchange,
	    errstr, why_exchange) == -1 ||
	    opt_string(v, "routing_key", MAX_KEY, 0, &req->reply_routing_key,
	    errstr, why_routing_key) == -1) {
		req->reply_exchange = req->reply_routing_key = NULL;
		return -1;
	}
	return 0;
}

/*
 * The flat decoding (issue 17): the json-c objects of a request body
 * ("method", "ticket", "reply_to" and its members...) cost a node more
 * than anything else but the envelope. A body of the shape kombu and
 * pidboxctl write -- only the seven members below, each at most once,
 * simple strings (jscan_str()'s) or null, no destination list, reply_to
 * an object of the two simple strings or {}, arguments that jscan_obj()
 * builds -- is read in a copy of the text whose closing quotes become
 * the strings' NULs; only "arguments" becomes a json-c object, for the
 * handlers. Anything else returns 1 and goes to the full decoding, so
 * this path decides nothing otherwise. 0 with req filled (req->body
 * NULL), or -1 with *errstr for what the full path refuses in the same
 * order (too many arguments, a pattern that does not compile).
 */
static int
flat_decode(const char *body, size_t len, struct request *req,
    const char **errstr)
{
	static const char *const keys[] = { "method", "arguments",
	    "destination", "pattern", "matcher", "ticket", "reply_to" };
	const char	*str[nitems(keys)], *k, *s, *rk, *x;
	struct jscan	 f;
	size_t		 kl, sl, rkl, xl;
	unsigned	 seen = 0;
	int		 r, i;

	memset(str, 0, sizeof(str));
	if ((req->text = jscan_copy(body, len, &f)) == NULL ||
	    jscan_open(&f) != 0)
		return 1;
	do {
		if ((i = jscan_member(&f, keys, nitems(keys), &seen)) == -1)
			return 1;
		if (jscan_lit(&f, "null")) {
			if (i == 0)
				return 1;	/* null: KeyError(None) */
			continue;
		}
		switch (i) {
		case 1:
			if ((req->arguments = jscan_obj(&f, 2)) == NULL)
				return 1;
			break;
		case 2:
			return 1;	/* a list: the full path's */
		case 6:
			rk = x = NULL;
			rkl = xl = 0;
			if ((r = jscan_open(&f)) == -1)
				return 1;
			if (r == 1)
				break;		/* {}: a cast */
			do {
				if (jscan_key(&f, &k, &kl) == -1 ||
				    jscan_str(&f, &s, &sl) == -1)
					return 1;
				if (kl == 8 && memcmp(k, "exchange", 8) == 0 &&
				    x == NULL) {
					x = s;
					xl = sl;
				} else if (kl == 11 && memcmp(k, "routing_key",
				    11) == 0 && rk == NULL) {
					rk = s;
					rkl = sl;
				} else
					return 1;
			} while ((r = jscan_next(&f)) == 1);
			/* both, non-empty and short, or the full path's */
			if (r != 0 || x == NULL || rk == NULL || xl == 0 ||
			    rkl == 0 || xl > MAX_KEY || rkl > MAX_KEY)
				return 1;
			((char *)(uintptr_t)x)[xl] = '\0';
			((char *)(uintptr_t)rk)[rkl] = '\0';
			req->reply_exchange = x;
			req->reply_routing_key = rk;
			break;
		default:
			if (jscan_str(&f, &s, &sl) == -1)
				return 1;
			((char *)(uintptr_t)s)[sl] = '\0';
			str[i] = s;
			/* over-long: the full path's error */
			if (sl > (i == 3 ? MAX_PATTERN : i == 5 ? MAX_TICKET :
			    MAX_NAME))
				return 1;
			break;
		}
	} while ((r = jscan_next(&f)) == 1);
	jscan_ws(&f);
	if (r != 0 || f.p != f.end || !(seen & 1))
		return 1;

	/* request_decode()'s checks, in its order */
	req->method = str[0];
	if ((req->method_obj = json_object_new_string(str[0])) == NULL)
		return 1;
	if (req->arguments == NULL &&
	    (req->arguments = json_object_new_object()) == NULL)
		return 1;
	if (json_object_object_length(req->arguments) > MAX_ARGUMENTS) {
		*errstr = "too many arguments";
		return -1;
	}
	/* "" is not set, as in kombu (opt_string()'s empty_null) */
	req->pattern = str[3] != NULL && *str[3] != '\0' ? str[3] : NULL;
	req->matcher = str[4] != NULL && *str[4] != '\0' ? str[4] : NULL;
	if (req->pattern != NULL && req->matcher != NULL &&
	    match_check(req->pattern, req->matcher, errstr) == -1)
		return -1;
	req->ticket = str[5];
	*errstr = NULL;
	return 0;
}

int
request_decode(const char *body, size_t len, struct request *req,
    const char **errstr)
{
	json_object	*v;
	size_t		 mlen;
	int		 isnull, r;

	memset(req, 0, sizeof(*req));
	if ((r = flat_decode(body, len, req, errstr)) != 1) {
		if (r == -1)
			request_free(req);
		return r;
	}
	request_free(req);
	if ((req->body = pyjson_parse(body, len, &isnull, errstr)) == NULL) {
		if (isnull)
			*errstr = "request is not an object";
		return -1;
	}
	if (!json_object_is_type(req->body, json_type_object)) {
		*errstr = "request is not an object";
		goto fail;
	}
	if (!json_object_object_get_ex(req->body, "method", &req->method_obj)) {
		*errstr = "request has no method";
		goto fail;
	}
	/*
	 * Any method value is acceptable (kombu answers KeyError(repr)); only
	 * a plain string that could name a handler is offered as a C string.
	 */
	if (json_object_is_type(req->method_obj, json_type_string)) {
		mlen = (size_t)json_object_get_string_len(req->method_obj);
		if (mlen <= MAX_NAME &&
		    strlen(json_object_get_string(req->method_obj)) == mlen)
			req->method = json_object_get_string(req->method_obj);
	}

	if ((v = member(req->body, "arguments")) == NULL) {
		/* null or absent: {} owned by body (replaces the null). */
		if ((v = json_object_new_object()) == NULL ||
		    json_object_object_add(req->body, "arguments", v) != 0) {
			json_object_put(v);
			*errstr = "out of memory";
			goto fail;
		}
	} else if (!json_object_is_type(v, json_type_object)) {
		*errstr = "arguments is not an object";
		goto fail;
	} else if (json_object_object_length(v) > MAX_ARGUMENTS) {
		*errstr = "too many arguments";
		goto fail;
	}
	req->arguments = v;

	if (decode_destination(req, errstr) == -1)
		goto fail;
	if (opt_string(req->body, "pattern", MAX_PATTERN, 1, &req->pattern,
	    errstr, why_pattern) == -1 ||
	    opt_string(req->body, "matcher", MAX_NAME, 1, &req->matcher,
	    errstr, why_matcher) == -1)
		goto fail;
	/* Only a pattern with a matcher is ever used (spec 3.2). */
	if (req->pattern != NULL && req->matcher != NULL &&
	    match_check(req->pattern, req->matcher, errstr) == -1)
		goto fail;
	if (opt_string(req->body, "ticket", MAX_TICKET, 0, &req->ticket,
	    errstr, why_ticket) == -1)
		goto fail;
	if (decode_reply_to(req, errstr) == -1)
		goto fail;
	*errstr = NULL;
	return 0;

fail:
	request_free(req);
	return -1;
}

void
request_free(struct request *req)
{
	if (req == NULL)
		return;
	if (req->body == NULL) {	/* flat: owned */
		json_object_put(req->method_obj);
		json_object_put(req->arguments);
	}
	json_object_put(req->body);
	free(req->text);
	memset(req, 0, sizeof(*req));
}

/* Spec 3.2: destination, else pattern with matcher, else everybody. */
int
request_addressed(const struct request *req, const char *hostname)
{
	json_object	*e;
	const char	*errstr;
	size_t		 i, n, hlen;

	if (req == NULL || hostname == NULL)
		return 0;
	hlen = strlen(hostname);
	if (req->destination != NULL) {
		n = json_object_array_length(req->destination);
		for (i = 0; i < n; i++) {
			e = json_object_array_get_idx(req->destination, i);
			if (json_object_is_type(e, json_type_string) &&
			    (size_t)json_object_get_string_len(e) == hlen &&
			    memcmp(json_object_get_string(e), hostname,
			    hlen) == 0)
				return 1;
		}
		return 0;
	}
	if (req->pattern != NULL && req->matcher != NULL)
		return match(hostname, req->pattern, req->matcher,
		    &errstr) == 1;
	return 1;
}

/* Add val to obj under key, taking val; -1 (val released) on failure. */
static int
add(json_object *obj, const char *key, json_object *val)
{
	if (val == NULL)
		return -1;
	if (json_object_object_add(obj, key, val) != 0) {
		json_object_put(val);
		return -1;
	}
	return 0;
}

/* Add a string, or JSON null (json-c's NULL object) for NULL. */
static int
add_str_or_null(json_object *obj, const char *key, const char *s)
{
	if (s == NULL)
		return json_object_object_add(obj, key, NULL) == 0 ? 0 : -1;
	return add(obj, key, json_object_new_string(s));
}

/* What a kombu node would choke on or misread (spec 3.9). */
static int
encode_check(const struct request_out *out, const char **errstr)
{
	const char	*d;
	size_t		 i, len;

	if (out->method == NULL || *out->method == '\0') {
		*errstr = "empty method";
		return -1;
	}
	if (strlen(out->method) > MAX_NAME) {
		*errstr = "method too long";
		return -1;
	}
	if (out->arguments != NULL &&
	    !json_object_is_type(out->arguments, json_type_object)) {
		*errstr = "arguments is not an object";
		return -1;
	}
	if (out->destination == NULL && out->ndestination > 0) {
		*errstr = "destination list missing";
		return -1;
	}
	if (out->ndestination > MAX_DESTINATIONS) {
		*errstr = "too many destinations";
		return -1;
	}
	for (i = 0; i < out->ndestination; i++) {
		if ((d = out->destination[i]) == NULL || *d == '\0') {
			*errstr = "empty destination";
			return -1;
		}
		len = strlen(d);
		if (len > MAX_NAME) {
			*errstr = "destination name too long";
			return -1;
		}
		/* Celery joins node names with commas (-d a,b). */
		if (memchr(d, ',', len) != NULL) {
			*errstr = "destination name contains a comma";
			return -1;
		}
	}
	if (out->pattern != NULL && strlen(out->pattern) > MAX_PATTERN) {
		*errstr = "pattern too long";
		return -1;
	}
	if (out->matcher != NULL && *out->matcher == '\0') {
		*errstr = "empty matcher";
		return -1;
	}
	if ((out->pattern != NULL && *out->pattern != '\0') ||
	    out->matcher != NULL) {
		if (match_check(out->pattern != NULL ? out->pattern : "",
		    out->matcher != NULL ? out->matcher : "glob", errstr) == -1)
			return -1;
	}
	if (out->ticket != NULL && *out->ticket == '\0') {
		*errstr = "empty ticket";
		return -1;
	}
	/*
	 * A ticket alone is a cast with an id (kombu's Node.dispatch()
	 * takes it and replies only to a reply_to); a reply_to needs both
	 * its fields and a ticket to match the replies with.
	 */
	if (out->reply_exchange != NULL || out->reply_routing_key != NULL) {
		if (out->ticket == NULL || out->reply_exchange == NULL ||
		    *out->reply_exchange == '\0' ||
		    out->reply_routing_key == NULL ||
		    *out->reply_routing_key == '\0') {
			*errstr = "reply_to needs exchange, routing key and "
			    "ticket";
			return -1;
		}
	}
	return 0;
}

/* Returns a malloc'd string the caller frees, length in *lenp. */
char *
request_encode(const struct request_out *out, size_t *lenp,
    const char **errstr)
{
	json_object	*root, *dest, *rt, *e;
	const char	*pattern, *matcher;
	char		*s;
	size_t		 i;

	*errstr = NULL;
	if (out == NULL) {
		*errstr = "no request";
		return NULL;
	}
	if (encode_check(out, errstr) == -1)
		return NULL;
	pattern = out->pattern != NULL && *out->pattern != '\0' ?
	    out->pattern : NULL;
	matcher = out->matcher;
	if (pattern != NULL && matcher == NULL)
		matcher = "glob";

	if ((root = json_object_new_object()) == NULL)
		goto oom;
	if (add(root, "method", json_object_new_string(out->method)) == -1 ||
	    add(root, "arguments", out->arguments != NULL ?
	    json_object_get(out->arguments) : json_object_new_object()) == -1)
		goto oom;
	if (out->ndestination == 0) {
		if (json_object_object_add(root, "destination", NULL) != 0)
			goto oom;
	} else {
		if ((dest = json_object_new_array_ext(
		    (int)out->ndestination)) == NULL)
			goto oom;
		for (i = 0; i < out->ndestination; i++) {
			e = json_object_new_string(out->destination[i]);
			if (e == NULL || json_object_array_add(dest, e) != 0) {
				json_object_put(e);
				json_object_put(dest);
				goto oom;
			}
		}
		if (add(root, "destination", dest) == -1)
			goto oom;
	}
	if (add_str_or_null(root, "pattern", pattern) == -1 ||
	    add_str_or_null(root, "matcher", matcher) == -1)
		goto oom;
	if (out->ticket != NULL && add(root, "ticket",
	    json_object_new_string(out->ticket)) == -1)
		goto oom;
	if (out->reply_exchange != NULL) {
		if ((rt = json_object_new_object()) == NULL ||
		    add(root, "reply_to", rt) == -1 ||
		    add(rt, "exchange",
		    json_object_new_string(out->reply_exchange)) == -1 ||
		    add(rt, "routing_key",
		    json_object_new_string(out->reply_routing_key)) == -1)
			goto oom;
	}
	if ((s = pyjson_dumps(root, lenp)) == NULL)
		*errstr = errno == ENOMEM ? "out of memory" :
		    "arguments cannot be serialized (NaN or Infinity?)";
	json_object_put(root);
	return s;

oom:
	json_object_put(root);
	*errstr = "out of memory";
	return NULL;
}
