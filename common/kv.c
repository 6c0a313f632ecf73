/*
 * key=value arguments of pidboxctl: the value is JSON when all of it is
 * one strict JSON document, otherwise the plain string ("hello", "5abc").
 */
#include <sys/types.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pidbox.h"

#define MAX_VALUE	MAX_ENVELOPE	/* a value cannot outgrow a message */

/*
 * Parse v as one complete strict-JSON document. Returns 1 and a new
 * reference in *out (NULL for JSON null), 0 when v is not JSON, -1 with
 * *errstr when v is JSON that cannot be represented.
 */
static int
kv_json(const char *v, json_object **out, const char **errstr)
{
	json_tokener	*tok;
	json_object	*o;
	const char	*p;
	size_t		 len;
	int		 ret = 0;

	*out = NULL;
	if ((len = strlen(v)) > (size_t)MAX_VALUE) {
		*errstr = "value too long";
		return -1;
	}
	if ((tok = json_tokener_new_ex(MAX_JSON_DEPTH)) == NULL) {
		*errstr = "out of memory";
		return -1;
	}
	/* strict: no NaN, 'single quotes', trailing commas, garbage */
	json_tokener_set_flags(tok,
	    JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	/* include the NUL so a bare number or literal is complete */
	o = json_tokener_parse_ex(tok, v, (int)len + 1);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len)
		goto done;
	switch (json_object_get_type(o)) {
	case json_type_double:
		/* 1e400 parses as inf: Python would keep it, JSON cannot */
		if (!isfinite(json_object_get_double(o)))
			goto done;
		break;
	case json_type_int:
		/* json-c saturates; refuse rather than send another number */
		p = v + strspn(v, " \t\r\n");
		errno = 0;
		if (*p == '-')
			(void)strtoll(p, NULL, 10);
		else
			(void)strtoull(p, NULL, 10);
		if (errno == ERANGE) {
			*errstr = "integer out of range";
			ret = -1;
			goto done;
		}
		break;
	default:
		break;
	}
	*out = o;
	o = NULL;
	ret = 1;
done:
	json_object_put(o);
	json_tokener_free(tok);
	return ret;
}

int
kv_parse(const char *arg, json_object *args, const char **errstr)
{
	json_object	*v;
	const char	*eq;
	char		 key[MAX_NAME + 1];
	size_t		 klen;

	*errstr = NULL;
	if (arg == NULL || (eq = strchr(arg, '=')) == NULL) {
		*errstr = "want key=value";
		return -1;
	}
	if ((klen = eq - arg) == 0) {
		*errstr = "empty key";
		return -1;
	}
	if (klen > MAX_NAME) {
		*errstr = "key too long";
		return -1;
	}
	memcpy(key, arg, klen);
	key[klen] = '\0';
	switch (kv_json(eq + 1, &v, errstr)) {
	case -1:
		return -1;
	case 0:
		if ((v = json_object_new_string(eq + 1)) == NULL) {
			*errstr = "out of memory";
			return -1;
		}
		break;
	default:
		break;
	}
	if (json_object_object_add(args, key, v) != 0) {
		json_object_put(v);
		*errstr = "out of memory";
		return -1;
	}
	return 0;
}
