/*
 * Fleet operations shared by pidboxd and pidboxctl: the names of
 * pidbox's own keys (inventory, results, jobs), the inventory entry a
 * node writes and a reader checks, and target filters over labels and
 * facts, parsed by pidboxctl and checked again by pidboxd.
 *
 * The filter grammar (-F is one comparison, -S a whole expression):
 *
 *	expr   = term { "or" term }
 *	term   = factor { "and" factor }
 *	factor = "not" factor | "(" expr ")" | key op value
 *	op     = "=" | "!=" | "<" | "<=" | ">" | ">="
 *
 * A key is "name", a label ("labels.role", or "role" when no fact is
 * named so) or a fact path ("os.version_id", "facts.cpus"). "=" and "!="
 * take Python fnmatch globs on the value; the order operators compare
 * numbers as numbers and anything else in version order (12 < 12.1 <
 * 13). Logic is Kleene's: a key a node does not have is unknown, "not
 * unknown" is unknown, and only a definite true selects a node, so a
 * kombu or Celery node (a name, no labels, no facts) is selected only by
 * what a filter says of names.
 */
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pidbox.h"

#define FILTER_MAX_DEPTH	32	/* nesting of parentheses and nots */
#define FILTER_MAX_NODES	256	/* comparisons and operators */

enum fop { F_EQ, F_NE, F_LT, F_LE, F_GT, F_GE };
enum fkind { FK_CMP, FK_AND, FK_OR, FK_NOT };

struct filter {
	enum fkind	 kind;
	enum fop	 op;
	char		*key;
	char		*value;
	struct filter	*a, *b;
};

static const char *const op_text[] = { "=", "!=", "<", "<=", ">", ">=" };

/* The facts pidboxd gathers (inventory.c): the only fact paths known. */
static const char *const fact_paths[] = {
	"os.id", "os.version_id", "os.name", "kernel", "arch", "cpus",
	"memory", "fqdn", "pidbox",
};

int
fleet_keys(struct fleet_keys *k, const char *keyprefix, const char *ns)
{
	if (keyprefix == NULL)
		keyprefix = "";
	if ((size_t)snprintf(k->inventory, sizeof(k->inventory),
	    "%s_pidbox.inventory.%s", keyprefix, ns) >= sizeof(k->inventory) ||
	    (size_t)snprintf(k->alive, sizeof(k->alive),
	    "%s_pidbox.alive.%s", keyprefix, ns) >= sizeof(k->alive) ||
	    (size_t)snprintf(k->results, sizeof(k->results),
	    "%s_pidbox.results.%s", keyprefix, ns) >= sizeof(k->results) ||
	    (size_t)snprintf(k->jobs, sizeof(k->jobs),
	    "%s_pidbox.jobs.%s", keyprefix, ns) >= sizeof(k->jobs))
		return -1;
	return 0;
}

int
fleet_fact_known(const char *path)
{
	size_t	i;

	for (i = 0; i < nitems(fact_paths); i++)
		if (strcmp(path, fact_paths[i]) == 0)
			return 1;
	return 0;
}

const char *
fleet_fact_list(void)
{
	return "os.id, os.version_id, os.name, kernel, arch, cpus, memory, "
	    "fqdn, pidbox";
}

/* ---------------------------------------------------------------- parse */

struct parser {
	const char	*s, *p;
	char		*err;
	size_t		 errlen;
	int		 depth, nodes;
};

static struct filter *
node_new(struct parser *ps, enum fkind kind)
{
	struct filter	*f;

	if (++ps->nodes > FILTER_MAX_NODES) {
		errf(ps->err, ps->errlen, "more than %d terms",
		    FILTER_MAX_NODES);
		return NULL;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		errf(ps->err, ps->errlen, "out of memory");
		return NULL;
	}
	f->kind = kind;
	return f;
}

void
filter_free(struct filter *f)
{
	if (f == NULL)
		return;
	filter_free(f->a);
	filter_free(f->b);
	free(f->key);
	free(f->value);
	free(f);
}

static void
skip_space(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n')
		ps->p++;
}

static int
key_char(int c)
{
	return isalnum(c) || c == '_' || c == '.' || c == '-' || c == '@';
}

/* A word (and, or, not) at p, followed by a space, '(' or the end. */
static int
word_at(const char *p, const char *w)
{
	size_t	n = strlen(w);

	return strncmp(p, w, n) == 0 && (p[n] == '\0' || p[n] == ' ' ||
	    p[n] == '\t' || p[n] == '(' || p[n] == '\n');
}

static int __printflike(2, 3)
perr(struct parser *ps, const char *fmt, ...)
{
	char	msg[256];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	errf(ps->err, ps->errlen, "at column %d: %s",
	    (int)(ps->p - ps->s) + 1, msg);
	return -1;
}

/* A value: quoted ('...' or "..." with \" and \\), or a bare word. */
static char *
value_parse(struct parser *ps, int rest)
{
	const char	*q = ps->p;
	char		*v, *o;
	char		 quote;

	if (*q == '\'' || *q == '"') {
		quote = *q++;
		if ((v = o = malloc(strlen(q) + 1)) == NULL) {
			errf(ps->err, ps->errlen, "out of memory");
			return NULL;
		}
		for (; *q != '\0' && *q != quote; q++) {
			if (*q == '\\' && quote == '"' && q[1] != '\0')
				q++;
			*o++ = *q;
		}
		*o = '\0';
		if (*q != quote) {
			free(v);
			perr(ps, "unterminated %c quote", quote);
			return NULL;
		}
		ps->p = q + 1;
		return v;
	}
	/* -F key=value: the value is the rest, spaces and all */
	if (rest)
		q = ps->p + strlen(ps->p);
	else
		while (*q != '\0' && *q != ' ' && *q != '\t' &&
		    *q != '\n' && *q != '(' && *q != ')')
			q++;
	if ((v = strndup(ps->p, (size_t)(q - ps->p))) == NULL) {
		errf(ps->err, ps->errlen, "out of memory");
		return NULL;
	}
	ps->p = q;
	return v;
}

static struct filter *
cmp_parse(struct parser *ps, int rest)
{
	struct filter	*f;
	const char	*k = ps->p;
	size_t		 i;

	while (key_char((unsigned char)*ps->p))
		ps->p++;
	if (ps->p == k) {
		if (*ps->p == '\0')
			perr(ps, "a comparison (key=value) expected at the "
			    "end");
		else
			perr(ps, "a key expected, not '%c'", *ps->p);
		return NULL;
	}
	if ((f = node_new(ps, FK_CMP)) == NULL)
		return NULL;
	if ((f->key = strndup(k, (size_t)(ps->p - k))) == NULL) {
		filter_free(f);
		errf(ps->err, ps->errlen, "out of memory");
		return NULL;
	}
	if (!rest)
		skip_space(ps);
	if (strncmp(ps->p, "!=", 2) == 0)
		i = F_NE;
	else if (strncmp(ps->p, "<=", 2) == 0)
		i = F_LE;
	else if (strncmp(ps->p, ">=", 2) == 0)
		i = F_GE;
	else if (*ps->p == '<')
		i = F_LT;
	else if (*ps->p == '>')
		i = F_GT;
	else if (*ps->p == '=')
		i = F_EQ;
	else {
		perr(ps, "an operator (=, !=, <, <=, >, >=) expected after "
		    "%s", f->key);
		filter_free(f);
		return NULL;
	}
	f->op = (enum fop)i;
	ps->p += strlen(op_text[i]);
	if (!rest)
		skip_space(ps);
	if ((f->value = value_parse(ps, rest)) == NULL) {
		filter_free(f);
		return NULL;
	}
	if (f->value[0] == '\0' && f->op != F_EQ && f->op != F_NE) {
		perr(ps, "%s%s needs a value", f->key, op_text[f->op]);
		filter_free(f);
		return NULL;
	}
	return f;
}

static struct filter	*expr_parse(struct parser *);

static struct filter *
factor_parse(struct parser *ps)
{
	struct filter	*f, *n;

	skip_space(ps);
	if (++ps->depth > FILTER_MAX_DEPTH) {
		perr(ps, "nested deeper than %d", FILTER_MAX_DEPTH);
		return NULL;
	}
	if (word_at(ps->p, "not")) {
		ps->p += 3;
		if ((f = factor_parse(ps)) == NULL)
			return NULL;
		if ((n = node_new(ps, FK_NOT)) == NULL) {
			filter_free(f);
			return NULL;
		}
		n->a = f;
		f = n;
	} else if (*ps->p == '(') {
		ps->p++;
		if ((f = expr_parse(ps)) == NULL)
			return NULL;
		skip_space(ps);
		if (*ps->p != ')') {
			perr(ps, "')' expected");
			filter_free(f);
			return NULL;
		}
		ps->p++;
	} else if (word_at(ps->p, "and") || word_at(ps->p, "or")) {
		perr(ps, "a comparison expected before '%.*s'",
		    word_at(ps->p, "or") ? 2 : 3, ps->p);
		return NULL;
	} else
		f = cmp_parse(ps, 0);
	ps->depth--;
	return f;
}

static struct filter *
binary(struct parser *ps, enum fkind kind, struct filter *a,
    struct filter *b)
{
	struct filter	*n;

	if ((n = node_new(ps, kind)) == NULL) {
		filter_free(a);
		filter_free(b);
		return NULL;
	}
	n->a = a;
	n->b = b;
	return n;
}

static struct filter *
term_parse(struct parser *ps)
{
	struct filter	*f, *g;

	if ((f = factor_parse(ps)) == NULL)
		return NULL;
	for (;;) {
		skip_space(ps);
		if (!word_at(ps->p, "and"))
			return f;
		ps->p += 3;
		if ((g = factor_parse(ps)) == NULL) {
			filter_free(f);
			return NULL;
		}
		if ((f = binary(ps, FK_AND, f, g)) == NULL)
			return NULL;
	}
}

static struct filter *
expr_parse(struct parser *ps)
{
	struct filter	*f, *g;

	if ((f = term_parse(ps)) == NULL)
		return NULL;
	for (;;) {
		skip_space(ps);
		if (!word_at(ps->p, "or"))
			return f;
		ps->p += 2;
		if ((g = term_parse(ps)) == NULL) {
			filter_free(f);
			return NULL;
		}
		if ((f = binary(ps, FK_OR, f, g)) == NULL)
			return NULL;
	}
}

struct filter *
filter_parse(const char *s, int one, char *err, size_t errlen)
{
	struct parser	 ps;
	struct filter	*f;

	memset(&ps, 0, sizeof(ps));
	ps.s = ps.p = s;
	ps.err = err;
	ps.errlen = errlen;
	if (strlen(s) > FILTER_MAX_LEN) {
		errf(err, errlen, "longer than %d bytes", FILTER_MAX_LEN);
		return NULL;
	}
	if (one)
		return cmp_parse(&ps, 1);
	if ((f = expr_parse(&ps)) == NULL)
		return NULL;
	skip_space(&ps);
	if (*ps.p != '\0') {
		perr(&ps, "unexpected '%.20s' (and, or or the end expected)",
		    ps.p);
		filter_free(f);
		return NULL;
	}
	return f;
}

struct filter *
filter_and(struct filter *a, struct filter *b)
{
	struct filter	*n;

	if (a == NULL)
		return b;
	if (b == NULL)
		return a;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	n->kind = FK_AND;
	n->a = a;
	n->b = b;
	return n;
}

/* ----------------------------------------------------------------- text */

static void
text_add(FILE *f, const struct filter *x)
{
	const char	*p;

	switch (x->kind) {
	case FK_CMP:
		fprintf(f, "%s%s\"", x->key, op_text[x->op]);
		for (p = x->value; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				fputc('\\', f);
			fputc(*p, f);
		}
		fputc('"', f);
		break;
	case FK_NOT:
		fputs("not (", f);
		text_add(f, x->a);
		fputc(')', f);
		break;
	case FK_AND:
	case FK_OR:
		fputc('(', f);
		text_add(f, x->a);
		fputs(x->kind == FK_AND ? ") and (" : ") or (", f);
		text_add(f, x->b);
		fputc(')', f);
		break;
	}
}

char *
filter_text(const struct filter *x)
{
	FILE	*f;
	char	*s = NULL;
	size_t	 len;

	if ((f = open_memstream(&s, &len)) == NULL)
		return NULL;
	text_add(f, x);
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

int
filter_keys(const struct filter *x, int (*cb)(const char *, void *),
    void *arg)
{
	if (x == NULL)
		return 0;
	if (x->kind == FK_CMP)
		return cb(x->key, arg);
	if (filter_keys(x->a, cb, arg) == -1)
		return -1;
	return filter_keys(x->b, cb, arg);
}

/* ----------------------------------------------------------------- eval */

/* The value at a dotted path of o (NULL: none). */
static json_object *
path_get(json_object *o, const char *path)
{
	char		 part[MAX_NAME + 1];
	const char	*dot;
	size_t		 n;

	while (o != NULL && json_object_is_type(o, json_type_object)) {
		dot = strchr(path, '.');
		n = dot != NULL ? (size_t)(dot - path) : strlen(path);
		if (n == 0 || n > MAX_NAME)
			return NULL;
		memcpy(part, path, n);
		part[n] = '\0';
		if (!json_object_object_get_ex(o, part, &o))
			return NULL;
		if (dot == NULL)
			return o;
		path = dot + 1;
	}
	return NULL;
}

/*
 * The text of key on the node into buf; 0 when it has none. A label
 * wins over a fact of the same bare name, as an operator's own word.
 */
static int
key_value(const char *key, const struct fleet_node *nd, char *buf,
    size_t len)
{
	json_object	*v = NULL;

	if (strcmp(key, "name") == 0) {
		strlcpy(buf, nd->name, len);
		return 1;
	}
	if (strncmp(key, "labels.", 7) == 0)
		v = path_get(nd->labels, key + 7);
	else if (strncmp(key, "facts.", 6) == 0)
		v = path_get(nd->facts, key + 6);
	else if (nd->labels == NULL || !json_object_object_get_ex(nd->labels,
	    key, &v))
		v = path_get(nd->facts, key);
	if (v == NULL || json_object_is_type(v, json_type_object) ||
	    json_object_is_type(v, json_type_array))
		return 0;
	if (json_object_is_type(v, json_type_int))
		snprintf(buf, len, "%lld",
		    (long long)json_object_get_int64(v));
	else
		strlcpy(buf, json_object_get_string(v), len);
	return 1;
}

static int
number(const char *s, double *d)
{
	char	*end;

	errno = 0;
	*d = strtod(s, &end);
	return s[0] != '\0' && *end == '\0' && errno == 0 && isfinite(*d);
}

/* Kleene logic: 1 true, 0 false, -1 unknown. */
static int
eval(const struct filter *x, const struct fleet_node *nd)
{
	char	 have[1024];
	double	 a, b;
	int	 c, l, r;

	switch (x->kind) {
	case FK_CMP:
		if (!key_value(x->key, nd, have, sizeof(have)))
			return -1;
		if (x->op == F_EQ || x->op == F_NE) {
			c = match_glob(have, x->value);
			return x->op == F_EQ ? c : !c;
		}
		if (number(have, &a) && number(x->value, &b))
			c = a < b ? -1 : a > b;
		else
			c = strverscmp(have, x->value);
		switch (x->op) {
		case F_LT:
			return c < 0;
		case F_LE:
			return c <= 0;
		case F_GT:
			return c > 0;
		default:
			return c >= 0;
		}
	case FK_NOT:
		l = eval(x->a, nd);
		return l == -1 ? -1 : !l;
	case FK_AND:
		l = eval(x->a, nd);
		if (l == 0)
			return 0;
		r = eval(x->b, nd);
		if (r == 0)
			return 0;
		return l == 1 && r == 1 ? 1 : -1;
	case FK_OR:
		l = eval(x->a, nd);
		if (l == 1)
			return 1;
		r = eval(x->b, nd);
		if (r == 1)
			return 1;
		return l == 0 && r == 0 ? 0 : -1;
	}
	return -1;
}

int
filter_match(const struct filter *x, const struct fleet_node *nd)
{
	return eval(x, nd) == 1;
}

/* ------------------------------------------------------------ inventory */

static int
strings_only(json_object *o)
{
	struct json_object_iterator	it, end;

	if (!json_object_is_type(o, json_type_object))
		return 0;
	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
		if (!json_object_is_type(json_object_iter_peek_value(&it),
		    json_type_string))
			return 0;
	return 1;
}

int
fleet_entry_check(json_object *e, const char *name, const char *ns,
    const char **why)
{
	json_object	*v;

	if (!json_object_is_type(e, json_type_object) ||
	    !json_object_object_get_ex(e, "pidbox_inventory", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    json_object_get_int(v) != FLEET_ENTRY_VERSION) {
		*why = "not an inventory entry of this pidbox version";
		return -1;
	}
	if (!json_object_object_get_ex(e, "name", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), name) != 0) {
		*why = "its name is not the field it is stored under";
		return -1;
	}
	if (!json_object_object_get_ex(e, "namespace", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), ns) != 0) {
		*why = "its namespace is not this one";
		return -1;
	}
	if (!json_object_object_get_ex(e, "labels", &v) || !strings_only(v)) {
		*why = "labels is not a mapping of strings";
		return -1;
	}
	if (!json_object_object_get_ex(e, "facts", &v) ||
	    !json_object_is_type(v, json_type_object)) {
		*why = "facts is not a mapping";
		return -1;
	}
	if (!json_object_object_get_ex(e, "started", &v) ||
	    !(json_object_is_type(v, json_type_double) ||
	    json_object_is_type(v, json_type_int))) {
		*why = "started is not a time";
		return -1;
	}
	return 0;
}
