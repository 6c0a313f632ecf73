/*
 * Argument schemas of every method (registry.c): each argument is
 * declared with a type and constraints; anything else is refused before
 * the method runs (a program starts), with a message naming the argument
 * and the rule. Built-ins whose callers send more than they read (Celery)
 * have open schemas: what they do not declare passes through.
 */
#include <sys/types.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8

#include "pidboxd.h"

static const char *const type_names[] = {
	[ARG_STRING] = "string",
	[ARG_INT] = "int",
	[ARG_NUMBER] = "number",
	[ARG_BOOL] = "bool",
	[ARG_ANY] = "any",
};

/* Convert v to the declared type (lenient for CLI key=value input). */
static json_object *
coerce(const struct arg_spec *a, json_object *v, char *err, size_t errlen)
{
	const char	*s, *e;
	char		*end;
	double		 d;
	int64_t		 i;

	switch (a->type) {
	case ARG_STRING:
		if (json_object_is_type(v, json_type_string))
			return json_object_get(v);
		if (json_object_is_type(v, json_type_int))
			return json_object_new_string(json_object_get_string(v));
		break;
	case ARG_INT:
		if (json_object_is_type(v, json_type_int))
			return json_object_get(v);
		if (json_object_is_type(v, json_type_string)) {
			i = strtonum(json_object_get_string(v), INT64_MIN + 1,
			    INT64_MAX, &e);
			if (e == NULL)
				return json_object_new_int64(i);
		}
		break;
	case ARG_NUMBER:
		if (json_object_is_type(v, json_type_int) ||
		    json_object_is_type(v, json_type_double))
			return json_object_get(v);
		if (json_object_is_type(v, json_type_string)) {
			s = json_object_get_string(v);
			errno = 0;
			d = strtod(s, &end);
			if (s[0] != '\0' && *end == '\0' && errno == 0 &&
			    isfinite(d))
				return json_object_new_double(d);
		}
		break;
	case ARG_ANY:
		return json_object_get(v);
	case ARG_BOOL:
		if (json_object_is_type(v, json_type_boolean))
			return json_object_get(v);
		if (json_object_is_type(v, json_type_string)) {
			s = json_object_get_string(v);
			if (strcmp(s, "true") == 0)
				return json_object_new_boolean(1);
			if (strcmp(s, "false") == 0)
				return json_object_new_boolean(0);
		}
		break;
	}
	snprintf(err, errlen, "argument '%s': type: expected %s", a->name,
	    type_names[a->type]);
	return NULL;
}

/* Check the constraints of one (typed) value. */
static int
constrain(const struct arg_spec *a, json_object *v, char *err, size_t errlen)
{
	const char	*s;
	size_t		 len;
	double		 d;

	if (a->type == ARG_STRING) {
		s = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
		if (memchr(s, '\0', len) != NULL) {
			snprintf(err, errlen, "argument '%s': must not contain "
			    "NUL", a->name);
			return -1;
		}
		if (len > a->max_length) {
			snprintf(err, errlen, "argument '%s': max_length: "
			    "longer than %zu bytes", a->name, a->max_length);
			return -1;
		}
		if (a->re != NULL && !regex_matches(a->re, s, len)) {
			snprintf(err, errlen, "argument '%s': regex: does not "
			    "match %s", a->name, a->regex);
			return -1;
		}
		return 0;
	}
	if (a->type != ARG_INT && a->type != ARG_NUMBER)
		return 0;
	d = json_object_get_double(v);
	if (a->type == ARG_INT) {
		int64_t iv = json_object_get_int64(v);

		d = (double)iv;
	}
	if (a->has_min && d < a->min) {
		snprintf(err, errlen, "argument '%s': min: less than %g",
		    a->name, a->min);
		return -1;
	}
	if (a->has_max && d > a->max) {
		snprintf(err, errlen, "argument '%s': max: greater than %g",
		    a->name, a->max);
		return -1;
	}
	return 0;
}

/* The spec of argument name in args[0..nargs), or NULL. */
static const struct arg_spec *
spec_of(const struct arg_spec *args, size_t nargs, const char *name)
{
	size_t i;

	for (i = 0; i < nargs; i++)
		if (strcmp(args[i].name, name) == 0)
			return &args[i];
	return NULL;
}

/* The checked value of v for a (new reference), or NULL with err set. */
static json_object *
check_one(const struct arg_spec *a, json_object *v, char *err, size_t errlen)
{
	json_object *t;

	if ((t = coerce(a, v, err, errlen)) == NULL)
		return NULL;
	if (constrain(a, t, err, errlen) == -1) {
		json_object_put(t);
		return NULL;
	}
	return t;
}

json_object *
schema_check(const struct arg_spec *args, size_t nargs, int open,
    json_object *in, char *err, size_t errlen)
{
	const struct arg_spec	*a;
	json_object		*out, *v, *t;
	size_t			 i;

	if ((out = json_object_new_object()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!open) {
		json_object_object_foreach(in, key, val) {
			if (spec_of(args, nargs, key) == NULL) {
				snprintf(err, errlen, "argument '%s': unknown "
				    "argument", log_viss(key));
				goto fail;
			}
			(void)val;
		}
	} else {
		/* in the order they came: a handler may echo them */
		json_object_object_foreach(in, key, val) {
			if ((a = spec_of(args, nargs, key)) == NULL ||
			    val == NULL)
				t = json_object_get(val);
			else if ((t = check_one(a, val, err, errlen)) == NULL)
				goto fail;
			json_object_object_add(out, key, t);
		}
	}
	for (i = 0; i < nargs; i++) {
		a = &args[i];
		if (json_object_object_get_ex(in, a->name, &v) && v != NULL) {
			if (open)
				continue;	/* done above */
			if ((t = check_one(a, v, err, errlen)) == NULL)
				goto fail;
			json_object_object_add(out, a->name, t);
			continue;
		}
		if (a->def != NULL) {
			json_object_object_add(out, a->name,
			    json_object_get(a->def));
			continue;
		}
		if (a->required) {
			snprintf(err, errlen, "argument '%s': required: "
			    "missing", a->name);
			goto fail;
		}
	}
	return out;
fail:
	json_object_put(out);
	return NULL;
}

char *
schema_text(json_object *v)
{
	char buf[64];

	switch (json_object_get_type(v)) {
	case json_type_string:
		return strndup(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
	case json_type_boolean:
		return strdup(json_object_get_boolean(v) ? "true" : "false");
	case json_type_int:
		snprintf(buf, sizeof(buf), "%lld",
		    (long long)json_object_get_int64(v));
		return strdup(buf);
	case json_type_double:
		snprintf(buf, sizeof(buf), "%.17g", json_object_get_double(v));
		return strdup(buf);
	default:
		return strdup("");
	}
}

/*
 * A number for describe: an integral value as a JSON int, so that a
 * range of 1 to 10 reads "1".."10" rather than "1.0".."10.0".
 */
json_object *
schema_number(double d)
{
	if (d == floor(d) && fabs(d) < 9007199254740992.0)
		return json_object_new_int64((int64_t)d);
	return json_object_new_double(d);
}

json_object *
schema_describe(const struct arg_spec *args, size_t nargs)
{
	json_object	*o, *a;
	size_t		 i;

	o = json_object_new_object();
	for (i = 0; i < nargs; i++) {
		const struct arg_spec *s = &args[i];

		a = json_object_new_object();
		json_object_object_add(a, "type",
		    json_object_new_string(type_names[s->type]));
		json_object_object_add(a, "required",
		    json_object_new_boolean(s->required));
		if (s->def != NULL)
			json_object_object_add(a, "default",
			    json_object_get(s->def));
		if (s->regex != NULL)
			json_object_object_add(a, "regex",
			    json_object_new_string(s->regex));
		if (s->has_min)
			json_object_object_add(a, "min",
			    schema_number(s->min));
		if (s->has_max)
			json_object_object_add(a, "max",
			    schema_number(s->max));
		if (s->type == ARG_STRING)
			json_object_object_add(a, "max_length",
			    json_object_new_int64((int64_t)s->max_length));
		if (s->help != NULL)
			json_object_object_add(a, "help",
			    json_object_new_string(s->help));
		json_object_object_add(o, s->name, a);
	}
	return o;
}
