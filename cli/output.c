/*
 * Print replies as Celery's `inspect` does (spec 5.3), or as one JSON
 * object {node: reply} with --json. Untrusted text is vis(3)-escaped when
 * stdout is a terminal.
 */
#include <sys/types.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#define LIBBSD_NETBSD_VIS
#include <vis.h>

#include <json-c/json.h>

#include "pidbox.h"
#include "pidboxctl.h"

static json_object	*replies;	/* {node: value}, arrival order */
static int		 tty;

static void	 pretty(FILE *, json_object *, int *);

void
output_init(struct ctl *ctl)
{
	(void)ctl;
	if ((replies = json_object_new_object()) == NULL)
		errx(EX_OSERR, "out of memory");
	tty = isatty(STDOUT_FILENO);
}

void
output_free(void)
{
	json_object_put(replies);
	replies = NULL;
}

/* One line of untrusted text, escaped for a terminal. */
static void
put_text(const char *s, size_t len)
{
	char	*buf;

	if (!tty) {
		fwrite(s, 1, len, stdout);
		return;
	}
	if ((buf = reallocarray(NULL, len + 1, 4)) == NULL)
		err(EX_OSERR, NULL);
	strnvisx(buf, len * 4 + 1, s, len, VIS_OCTAL | VIS_CSTYLE |
	    VIS_NOSLASH);
	fputs(buf, stdout);
	free(buf);
}

/* Celery's text.indent(): every "\n"-separated part gets n spaces. */
static void
put_indented(const char *text, size_t len, int n)
{
	const char	*p, *end = text + len, *nl;

	for (p = text;; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		printf("%*s", n, "");
		put_text(p, nl != NULL ? (size_t)(nl - p) : (size_t)(end - p));
		putchar('\n');
		if (nl == NULL)
			break;
	}
}

/* Python's repr() of a JSON value (str() of a list item uses it). */
static void
pyrepr(FILE *f, json_object *v)
{
	struct json_object_iterator	 it, end;
	json_object			*k;
	char				*s;
	size_t				 i, n;

	switch (json_object_get_type(v)) {
	case json_type_null:
		fputs("None", f);
		return;
	case json_type_array:
		fputc('[', f);
		n = json_object_array_length(v);
		for (i = 0; i < n; i++) {
			if (i > 0)
				fputs(", ", f);
			pyrepr(f, json_object_array_get_idx(v, i));
		}
		fputc(']', f);
		return;
	case json_type_object:
		fputc('{', f);
		it = json_object_iter_begin(v);
		end = json_object_iter_end(v);
		for (i = 0; !json_object_iter_equal(&it, &end); i++) {
			if (i > 0)
				fputs(", ", f);
			k = json_object_new_string(json_object_iter_peek_name(&it));
			pyrepr(f, k);
			json_object_put(k);
			fputs(": ", f);
			pyrepr(f, json_object_iter_peek_value(&it));
			json_object_iter_next(&it);
		}
		fputc('}', f);
		return;
	default:
		if ((s = pyjson_repr(v)) == NULL)
			err(EX_OSERR, NULL);
		fputs(s, f);
		free(s);
		return;
	}
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A scalar exactly as Python json.dumps() writes it. */
static void
json_scalar(FILE *f, json_object *v)
{
	char	*s;

	if (v == NULL) {
		fputs("null", f);
		return;
	}
	if ((s = pyjson_dumps(v, NULL)) == NULL)
		err(EX_OSERR, "pyjson_dumps");
	fputs(s, f);
	free(s);
}

/* json.dumps(v, sort_keys=True, indent=4) at nesting level lvl. */
static void
json_sorted(FILE *f, json_object *v, int lvl)
{
	struct json_object_iterator	 it, end;
	json_object			*k;
	const char			**keys;
	size_t				 i, n;

	switch (json_object_get_type(v)) {
	case json_type_array:
		if ((n = json_object_array_length(v)) == 0) {
			fputs("[]", f);
			return;
		}
		fputs("[\n", f);
		for (i = 0; i < n; i++) {
			fprintf(f, "%*s", (lvl + 1) * 4, "");
			json_sorted(f, json_object_array_get_idx(v, i), lvl + 1);
			fputs(i + 1 < n ? ",\n" : "\n", f);
		}
		fprintf(f, "%*s]", lvl * 4, "");
		return;
	case json_type_object:
		if ((n = (size_t)json_object_object_length(v)) == 0) {
			fputs("{}", f);
			return;
		}
		if ((keys = reallocarray(NULL, n, sizeof(*keys))) == NULL)
			err(EX_OSERR, NULL);
		it = json_object_iter_begin(v);
		end = json_object_iter_end(v);
		for (i = 0; i < n && !json_object_iter_equal(&it, &end); i++) {
			keys[i] = json_object_iter_peek_name(&it);
			json_object_iter_next(&it);
		}
		n = i;
		qsort(keys, n, sizeof(*keys), cmpstr);
		fputs("{\n", f);
		for (i = 0; i < n; i++) {
			fprintf(f, "%*s", (lvl + 1) * 4, "");
			k = json_object_new_string(keys[i]);
			json_scalar(f, k);
			json_object_put(k);
			fputs(": ", f);
			json_sorted(f, json_object_object_get(v, keys[i]),
			    lvl + 1);
			fputs(i + 1 < n ? ",\n" : "\n", f);
		}
		fprintf(f, "%*s}", lvl * 4, "");
		free(keys);
		return;
	default:
		json_scalar(f, v);
		return;
	}
}

/* text.indent(text, n) into f. */
static void
indent_into(FILE *f, const char *text, size_t len, int n)
{
	const char	*p, *end = text + len, *nl;

	for (p = text;; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		fprintf(f, "%*s", n, "");
		fwrite(p, 1, nl != NULL ? (size_t)(nl - p) : (size_t)(end - p),
		    f);
		if (nl == NULL)
			break;
		fputc('\n', f);
	}
}

/*
 * Celery's CLI pretty(): the text for a reply value; *error set for
 * {"error": ...} without "ok".
 */
static void
pretty(FILE *f, json_object *v, int *error)
{
	json_object	*inner, *item;
	FILE		*sub;
	char		*buf = NULL;
	size_t		 len = 0, i, n;
	int		 dummy;

	switch (json_object_get_type(v)) {
	case json_type_null:
		fputs("None", f);
		break;
	case json_type_array:
		if ((n = json_object_array_length(v)) == 0) {
			fputs("- empty -", f);
			break;
		}
		for (i = 0; i < n; i++) {
			item = json_object_array_get_idx(v, i);
			fputs(i > 0 ? "\n* " : "* ", f);
			if (json_object_is_type(item, json_type_string))
				fwrite(json_object_get_string(item), 1,
				    (size_t)json_object_get_string_len(item), f);
			else
				pyrepr(f, item);
		}
		break;
	case json_type_object:
		if (json_object_object_get_ex(v, "ok", &inner))
			*error = 0;
		else if (json_object_object_get_ex(v, "error", &inner))
			*error = 1;
		else {
			json_sorted(f, v, 0);
			/* Celery's highlight() leaves a final newline. */
			fputc('\n', f);
			break;
		}
		if ((sub = open_memstream(&buf, &len)) == NULL)
			err(EX_OSERR, NULL);
		pretty(sub, inner, &dummy);
		if (fclose(sub) != 0)
			err(EX_OSERR, NULL);
		indent_into(f, buf, len, 4);
		free(buf);
		break;
	case json_type_string:
		fwrite(json_object_get_string(v), 1,
		    (size_t)json_object_get_string_len(v), f);
		break;
	default:
		pyrepr(f, v);
		break;
	}
}

/* Record one reply; print it at once unless --json. */
void
output_reply(struct ctl *ctl, const struct ctl_reply *rep)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 len = 0;
	int	 error = 0;

	if (json_object_object_get_ex(replies, rep->node, NULL))
		warnx("duplicate node name %s: more than one node replied "
		    "with that name", log_viss(rep->node));
	json_object_object_add(replies, rep->node, json_object_get(rep->value));
	if (ctl->json)
		return;

	if ((f = open_memstream(&buf, &len)) == NULL)
		err(EX_OSERR, NULL);
	pretty(f, rep->value, &error);
	if (fclose(f) != 0)
		err(EX_OSERR, NULL);
	fputs("->  ", stdout);
	put_text(rep->node, strlen(rep->node));
	printf(": %s\n", error ? "ERROR" : "OK");
	put_indented(buf, len, 4);
	free(buf);
	fflush(stdout);
}

/* Finish the output; returns the number of distinct nodes that replied. */
int
output_end(struct ctl *ctl)
{
	char	*s;
	size_t	 len;
	int	 n;

	n = json_object_object_length(replies);
	if (n == 0)
		return 0;
	if (ctl->json) {
		if ((s = pyjson_dumps(replies, &len)) == NULL)
			err(EX_OSERR, "pyjson_dumps");
		fwrite(s, 1, len, stdout);
		putchar('\n');
		free(s);
	} else
		printf("\n%d %s online.\n", n, n == 1 ? "node" : "nodes");
	return n;
}
