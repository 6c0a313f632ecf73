/*
 * The key-table walker behind pidboxd's configuration (config.c and
 * methods_conf.c): a section is a table of keys (name, kind, range,
 * where the value goes); walking a YAML mapping against it sets every
 * value, and reports every mistake as file:line:col, with the section's
 * own key names as the hint for an unknown one.
 */
#include <sys/types.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "pidboxd.h"

static int	conf_to_log;

/* Errors go bare to stderr (pidboxd -t, start-up) until log.c takes them. */
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
		log_stderr(LOG_ERR, "%s", line != NULL ? line : msg);
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

/*
 * A list of non-empty strings (a single scalar counts as one) into
 * *out[*n], replacing what was there; what names it in messages.
 */
void
conf_strlist(struct conf_err *ce, const struct ynode *v, char ***out,
    size_t *n, const char *what)
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
		conf_strlist(at->ce, v, (char ***)(void *)p,
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
		/*
		 * A top-level setting given twice is a mistake; inside a
		 * section (path set) the later value replaces the earlier.
		 */
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
