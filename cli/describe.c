/*
 * pidboxctl describe as a table: one row per method (whether this
 * identity may call it, whether it is dangerous, its timeout, its
 * arguments in one line, its help), each method shown once when every
 * node describes it alike, else once per variant with the nodes that
 * have it; the nodes that gave no description (a Celery worker's
 * KeyError) are named after it. --json/--jsonl/--yaml keep the whole
 * structure (output.c).
 *
 * Every cell is escaped as a node name is on a terminal (control and
 * non-ASCII bytes as octal), so that a cell's bytes are its width and
 * the columns stay aligned whatever a node sent.
 */
#include <sys/types.h>
#include <sys/ioctl.h>

#include <err.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <json-c/json.h>

#include "pidbox.h"
#include "pidboxctl.h"

#define DEFAULT_MAX_STRING	4096	/* pidboxd's, not worth showing */
#define MAX_ROWS		4096	/* methods x variants shown */

static const char *const heads[] = {
	"METHOD", "ALLOWED", "DANGEROUS", "TIMEOUT", "ARGS", "HELP"
};
#define NCOLS	nitems(heads)

struct row {
	char	*cell[NCOLS];
	char	*nodes;		/* "only on a, b" (escaped), or NULL */
};

/* A described method: its description and the nodes that gave it. */
struct variant {
	const char	*method;
	const char	*desc;	/* its JSON text, to compare variants */
	json_object	*value;
	const char	**nodes;
	size_t		 nnodes;
};

static int
cmpnode(const void *a, const void *b)
{
	return verscmp(*(const char *const *)a, *(const char *const *)b);
}

static int
cmpvariant(const void *a, const void *b)
{
	const struct variant	*x = a, *y = b;
	int			 c;

	if ((c = strcmp(x->method, y->method)) != 0)
		return c;
	return verscmp(x->nodes[0], y->nodes[0]);
}

/* Append printf(fmt) to the string *s (NULL: empty). */
static void __printflike(2, 3)
cat(char **s, const char *fmt, ...)
{
	va_list	 ap;
	char	*add, *n;

	va_start(ap, fmt);
	if (vasprintf(&add, fmt, ap) == -1)
		err(EX_OSERR, NULL);
	va_end(ap);
	if (asprintf(&n, "%s%s", *s != NULL ? *s : "", add) == -1)
		err(EX_OSERR, NULL);
	free(*s);
	free(add);
	*s = n;
}

/* A number as an int when it is one ("1", not "1.0"). */
static void
cat_number(char **s, json_object *v)
{
	double	d = json_object_get_double(v);

	if (json_object_is_type(v, json_type_int) ||
	    (d == floor(d) && fabs(d) < 1e15))
		cat(s, "%lld", (long long)d);
	else
		cat(s, "%g", d);
}

static int
is_number(json_object *v)
{
	return json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double);
}

/*
 * One argument as a usage word: required "name:type", optional
 * "[name:type=default]", with its range, regex, length and secrecy:
 * "[n:int(1..10)]", "host:string/[a-z.]+/".
 */
static void
cat_arg(char **s, const char *name, json_object *a)
{
	json_object	*v, *min = NULL, *max = NULL;
	const char	*type = "any";
	char		*j;
	int		 req;

	req = json_object_object_get_ex(a, "required", &v) &&
	    json_object_get_boolean(v);
	if (json_object_object_get_ex(a, "type", &v) &&
	    json_object_is_type(v, json_type_string))
		type = json_object_get_string(v);
	cat(s, "%s%s%s%s", *s != NULL ? " " : "", req ? "" : "[", name,
	    strcmp(type, "any") != 0 ? ":" : "");
	if (strcmp(type, "any") != 0)
		cat(s, "%s", type);
	if (json_object_object_get_ex(a, "min", &v) && is_number(v))
		min = v;
	if (json_object_object_get_ex(a, "max", &v) && is_number(v))
		max = v;
	if (min != NULL || max != NULL) {
		cat(s, "(%s", min != NULL ? "" : "..");
		if (min != NULL)
			cat_number(s, min);
		cat(s, "%s", min != NULL ? ".." : "");
		if (max != NULL)
			cat_number(s, max);
		cat(s, ")");
	}
	if (json_object_object_get_ex(a, "max_length", &v) && is_number(v) &&
	    json_object_get_int64(v) != DEFAULT_MAX_STRING)
		cat(s, "(len<=%lld)", (long long)json_object_get_int64(v));
	if (json_object_object_get_ex(a, "regex", &v) &&
	    json_object_is_type(v, json_type_string))
		cat(s, "/%s/", json_object_get_string(v));
	if (json_object_object_get_ex(a, "secret", &v) &&
	    json_object_get_boolean(v))
		cat(s, ",secret");
	if (json_object_object_get_ex(a, "default", &v)) {
		if ((j = pyjson_dumps(v, NULL)) == NULL)
			err(EX_OSERR, "pyjson_dumps");
		cat(s, "=%s", j);
		free(j);
	}
	if (!req)
		cat(s, "]");
}

static const char *
yes_no(json_object *m, const char *key, const char *no)
{
	json_object	*v;

	if (!json_object_object_get_ex(m, key, &v) ||
	    !json_object_is_type(v, json_type_boolean))
		return "?";	/* an older pidboxd does not say */
	return json_object_get_boolean(v) ? "yes" : no;
}

/* The cells of one variant, escaped. */
static void
fill_row(struct row *r, const struct variant *var, size_t nnodes)
{
	struct json_object_iterator	 it, end;
	json_object			*m = var->value, *v;
	char				*args = NULL, *t = NULL;
	size_t				 i;

	r->cell[0] = ctl_escape(var->method);
	r->cell[1] = ctl_escape(yes_no(m, "allowed", "no"));
	r->cell[2] = ctl_escape(yes_no(m, "dangerous", ""));
	if (json_object_object_get_ex(m, "timeout", &v) && is_number(v)) {
		cat_number(&t, v);
		cat(&t, " s");
	}
	r->cell[3] = ctl_escape(t != NULL ? t : "-");
	free(t);
	t = NULL;
	if (json_object_object_get_ex(m, "args", &v) &&
	    json_object_is_type(v, json_type_object)) {
		it = json_object_iter_begin(v);
		end = json_object_iter_end(v);
		for (; !json_object_iter_equal(&it, &end);
		    json_object_iter_next(&it))
			cat_arg(&args, json_object_iter_peek_name(&it),
			    json_object_iter_peek_value(&it));
	}
	r->cell[4] = ctl_escape(args != NULL ? args : "-");
	free(args);
	r->cell[5] = ctl_escape(json_object_object_get_ex(m, "help", &v) &&
	    json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : "");
	r->nodes = NULL;
	if (var->nnodes < nnodes) {
		cat(&t, "only on ");
		for (i = 0; i < var->nnodes; i++)
			cat(&t, "%s%s", i > 0 ? ", " : "", var->nodes[i]);
		r->nodes = ctl_escape(t);
		free(t);
	}
}

/* The terminal's width, 0 when stdout is not a terminal. */
static size_t
term_width(void)
{
	struct winsize	ws;

	if (!isatty(STDOUT_FILENO) ||
	    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == -1 || ws.ws_col == 0)
		return 0;
	return ws.ws_col;
}

/* One line; on a terminal (width tw > 0) cut at its width, said so. */
static void
put_line(const char *line, size_t tw)
{
	if (tw > 3 && strlen(line) > tw)
		printf("%.*s...\n", (int)(tw - 3), line);
	else
		printf("%s\n", line);
}

/* Print the rows aligned; on a terminal each cut at its width. */
static void
put_rows(struct row *rows, size_t n)
{
	size_t	w[NCOLS], i, j, tw = term_width();
	char	*line = NULL;

	for (j = 0; j < NCOLS; j++)
		w[j] = strlen(heads[j]);
	for (i = 0; i < n; i++)
		for (j = 0; j + 1 < NCOLS; j++)
			if (strlen(rows[i].cell[j]) > w[j])
				w[j] = strlen(rows[i].cell[j]);
	for (j = 0; j < NCOLS; j++)
		cat(&line, "%-*s%s", j + 1 < NCOLS ? (int)w[j] : 0, heads[j],
		    j + 1 < NCOLS ? "  " : "");
	put_line(line, tw);
	for (i = 0; i < n; i++) {
		free(line);
		line = NULL;
		for (j = 0; j < NCOLS; j++)
			cat(&line, "%-*s%s", j + 1 < NCOLS ? (int)w[j] : 0,
			    rows[i].cell[j], j + 1 < NCOLS ? "  " : "");
		put_line(line, tw);
		if (rows[i].nodes != NULL)
			printf("  %s\n", rows[i].nodes);
	}
	free(line);
}

/* Group the methods of every description into variants. */
static struct variant *
variants(json_object *replies, const char **nodes, size_t nnodes,
    size_t *nv)
{
	struct json_object_iterator	 it, end;
	struct variant			*v = NULL;
	json_object			*ms;
	const char			*name, *desc, **nn;
	size_t				 i, k, n = 0;

	for (i = 0; i < nnodes; i++) {
		json_object_object_get_ex(json_object_object_get(replies,
		    nodes[i]), "methods", &ms);
		it = json_object_iter_begin(ms);
		end = json_object_iter_end(ms);
		for (; !json_object_iter_equal(&it, &end);
		    json_object_iter_next(&it)) {
			name = json_object_iter_peek_name(&it);
			desc = json_object_to_json_string_ext(
			    json_object_iter_peek_value(&it),
			    JSON_C_TO_STRING_PLAIN);
			for (k = 0; k < n; k++)
				if (strcmp(v[k].method, name) == 0 &&
				    strcmp(v[k].desc, desc) == 0)
					break;
			if (k == n) {
				if (n >= MAX_ROWS)
					continue;
				if ((v = reallocarray(v, n + 1,
				    sizeof(*v))) == NULL)
					err(EX_OSERR, NULL);
				memset(&v[n], 0, sizeof(v[n]));
				v[n].method = name;
				v[n].desc = desc;
				v[n].value = json_object_iter_peek_value(&it);
				n++;
			}
			if ((nn = reallocarray(v[k].nodes, v[k].nnodes + 1,
			    sizeof(*nn))) == NULL)
				err(EX_OSERR, NULL);
			v[k].nodes = nn;
			nn[v[k].nnodes++] = nodes[i];
		}
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), cmpvariant);
	*nv = n;
	return v;
}

/*
 * The table of a describe call's replies: "N nodes: a, b (version)",
 * the rows, then the nodes without a description and why.
 */
void
describe_table(json_object *replies)
{
	struct json_object_iterator	 it, end;
	struct variant			*v;
	struct row			*rows;
	json_object			*r, *x;
	const char			**nodes, **bad, *ver = NULL;
	char				*s = NULL, *e;
	size_t				 i, j, n = 0, nbad = 0, nv, cap;
	int				 same_ver = 1;

	cap = (size_t)json_object_object_length(replies);
	if ((nodes = reallocarray(NULL, cap + 1, sizeof(*nodes))) == NULL ||
	    (bad = reallocarray(NULL, cap + 1, sizeof(*bad))) == NULL)
		err(EX_OSERR, NULL);
	it = json_object_iter_begin(replies);
	end = json_object_iter_end(replies);
	for (; !json_object_iter_equal(&it, &end) && n + nbad < cap;
	    json_object_iter_next(&it)) {
		r = json_object_iter_peek_value(&it);
		if (json_object_object_get_ex(r, "methods", &x) &&
		    json_object_is_type(x, json_type_object)) {
			nodes[n++] = json_object_iter_peek_name(&it);
			if (!json_object_object_get_ex(r, "version", &x) ||
			    !json_object_is_type(x, json_type_string))
				same_ver = 0;
			else if (ver == NULL)
				ver = json_object_get_string(x);
			else if (strcmp(ver, json_object_get_string(x)) != 0)
				same_ver = 0;
		} else
			bad[nbad++] = json_object_iter_peek_name(&it);
	}
	qsort(nodes, n, sizeof(*nodes), cmpnode);
	qsort(bad, nbad, sizeof(*bad), cmpnode);
	if (n > 0) {
		cat(&s, "%zu node%s: ", n, n == 1 ? "" : "s");
		for (i = 0; i < n; i++)
			cat(&s, "%s%s", i > 0 ? ", " : "", nodes[i]);
		if (same_ver && ver != NULL)
			cat(&s, " (pidboxd %s)", ver);
		e = ctl_escape(s);
		printf("%s\n", e);
		free(e);
		free(s);
		s = NULL;
		v = variants(replies, nodes, n, &nv);
		if ((rows = calloc(nv + 1, sizeof(*rows))) == NULL)
			err(EX_OSERR, NULL);
		for (i = 0; i < nv; i++)
			fill_row(&rows[i], &v[i], n);
		put_rows(rows, nv);
		for (i = 0; i < nv; i++) {
			for (j = 0; j < NCOLS; j++)
				free(rows[i].cell[j]);
			free(rows[i].nodes);
			free(v[i].nodes);
		}
		free(rows);
		free(v);
	}
	for (i = 0; i < nbad; i++) {
		r = json_object_object_get(replies, bad[i]);
		if (!json_object_object_get_ex(r, "error", &x))
			x = r;
		cat(&s, "%s: no description: %s", bad[i],
		    json_object_is_type(x, json_type_string) ?
		    json_object_get_string(x) :
		    json_object_to_json_string_ext(x, JSON_C_TO_STRING_PLAIN));
		e = ctl_escape(s);
		printf("%s\n", e);
		free(e);
		free(s);
		s = NULL;
	}
	free(nodes);
	free(bad);
}
