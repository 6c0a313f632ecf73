/*
 * pidboxctl nodes: the live nodes of a namespace, from one `stats`
 * broadcast, as a table of name, status, uptime, version and reply
 * latency (or --json, --jsonl, --yaml: output.c prints those). pidboxd's
 * stats carry "uptime" and "version"; a Celery worker's carry "uptime"
 * only, shown as "-".
 */
#include <sys/types.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <json-c/json.h>

#include "pidbox.h"
#include "pidboxctl.h"

#define C_GREEN		"\033[32m"
#define C_RED		"\033[31m"
#define C_YELLOW	"\033[33m"
#define C_RESET		"\033[0m"

/* One row of the table, every cell already escaped. */
struct row {
	char		*node;
	const char	*status;	/* ok, error, missing */
	char		 uptime[32];
	char		*version;
	char		 latency[32];
};

static const char *const heads[] = {
	"NODE", "STATUS", "UPTIME", "VERSION", "LATENCY"
};

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "42", 1.5: a JSON number as whole seconds; -1 when it is none. */
static long long
seconds(json_object *v)
{
	double	d;

	if (!json_object_is_type(v, json_type_int) &&
	    !json_object_is_type(v, json_type_double))
		return -1;
	d = json_object_get_double(v);
	if (!(d >= 0 && d < 1e12))
		return -1;
	return (long long)d;
}

/* One node's entry {status, uptime, version, latency_ms}; a new object. */
static json_object *
entry(json_object *value, json_object *lat)
{
	json_object	*o, *v, *up = NULL, *ver = NULL;
	const char	*status = "ok";
	long long	 s;

	if (lat == NULL)
		status = "missing";
	else if (json_object_is_type(value, json_type_object)) {
		if (json_object_object_get_ex(value, "error", NULL) &&
		    !json_object_object_get_ex(value, "ok", NULL))
			status = "error";
		if (json_object_object_get_ex(value, "uptime", &v) &&
		    (s = seconds(v)) >= 0)
			up = json_object_new_int64(s);
		if (json_object_object_get_ex(value, "version", &v) &&
		    json_object_is_type(v, json_type_string))
			ver = json_object_get(v);
	}
	if ((o = json_object_new_object()) == NULL)
		errx(EX_OSERR, "out of memory");
	json_object_object_add(o, "status", json_object_new_string(status));
	json_object_object_add(o, "uptime", up);
	json_object_object_add(o, "version", ver);
	json_object_object_add(o, "latency_ms", json_object_get(lat));
	return o;
}

/*
 * {node: entry}: the nodes that replied sorted by name, then the named
 * nodes (-d) that did not, in the order given. A new object.
 */
json_object *
nodes_build(json_object *replies, json_object *latency, const struct expect *ex)
{
	struct json_object_iterator	  it, end;
	json_object			 *out, *lat;
	const char			**names;
	size_t				  i, n;

	if ((out = json_object_new_object()) == NULL)
		errx(EX_OSERR, "out of memory");
	n = (size_t)json_object_object_length(replies);
	if ((names = reallocarray(NULL, n + 1, sizeof(*names))) == NULL)
		err(EX_OSERR, NULL);
	it = json_object_iter_begin(replies);
	end = json_object_iter_end(replies);
	for (i = 0; i < n && !json_object_iter_equal(&it, &end);
	    json_object_iter_next(&it))
		names[i++] = json_object_iter_peek_name(&it);
	n = i;
	qsort(names, n, sizeof(*names), cmpstr);
	for (i = 0; i < n; i++) {
		json_object_object_get_ex(latency, names[i], &lat);
		json_object_object_add(out, names[i],
		    entry(json_object_object_get(replies, names[i]), lat));
	}
	free(names);
	for (i = 0; ex->names != NULL && i < ex->nnames; i++)
		if (!json_object_object_get_ex(out, ex->names[i], NULL))
			json_object_object_add(out, ex->names[i],
			    entry(NULL, NULL));
	return out;
}

/* 59 -> "00:00:59", 90061 -> "1d 01:01:01". */
static void
fmt_uptime(char *buf, size_t len, json_object *v)
{
	long long	s;

	if (v == NULL) {
		strlcpy(buf, "-", len);
		return;
	}
	s = json_object_get_int64(v);
	if (s >= 86400)
		snprintf(buf, len, "%lldd %02lld:%02lld:%02lld", s / 86400,
		    s / 3600 % 24, s / 60 % 60, s % 60);
	else
		snprintf(buf, len, "%02lld:%02lld:%02lld", s / 3600,
		    s / 60 % 60, s % 60);
}

/* The aligned table of nodes_build()'s out; the status maybe colored. */
void
nodes_table(json_object *out, int colored)
{
	struct json_object_iterator	 it, end;
	struct row			*rows;
	json_object			*e, *v;
	const char			*col;
	size_t				 w[nitems(heads)], i, j, n;
	double				 ms;

	n = (size_t)json_object_object_length(out);
	if ((rows = calloc(n + 1, sizeof(*rows))) == NULL)
		err(EX_OSERR, NULL);
	for (j = 0; j < nitems(heads); j++)
		w[j] = strlen(heads[j]);
	it = json_object_iter_begin(out);
	end = json_object_iter_end(out);
	for (i = 0; i < n && !json_object_iter_equal(&it, &end);
	    json_object_iter_next(&it), i++) {
		e = json_object_iter_peek_value(&it);
		rows[i].node = ctl_escape(json_object_iter_peek_name(&it));
		rows[i].status = json_object_get_string(
		    json_object_object_get(e, "status"));
		fmt_uptime(rows[i].uptime, sizeof(rows[i].uptime),
		    json_object_object_get(e, "uptime"));
		v = json_object_object_get(e, "version");
		rows[i].version = ctl_escape(v != NULL ?
		    json_object_get_string(v) : "-");
		if ((v = json_object_object_get(e, "latency_ms")) != NULL) {
			ms = json_object_get_double(v);
			snprintf(rows[i].latency, sizeof(rows[i].latency),
			    ms < 1000 ? "%.1f ms" : "%.0f ms", ms);
		} else
			strlcpy(rows[i].latency, "-", sizeof(rows[i].latency));
#define WIDEN(k, s) do { if (strlen(s) > w[k]) w[k] = strlen(s); } while (0)
		WIDEN(0, rows[i].node);
		WIDEN(1, rows[i].status);
		WIDEN(2, rows[i].uptime);
		WIDEN(3, rows[i].version);
		WIDEN(4, rows[i].latency);
#undef WIDEN
	}
	n = i;
	printf("%-*s  %-*s  %*s  %-*s  %*s\n", (int)w[0], heads[0],
	    (int)w[1], heads[1], (int)w[2], heads[2], (int)w[3], heads[3],
	    (int)w[4], heads[4]);
	for (i = 0; i < n; i++) {
		col = "";
		if (colored)
			col = strcmp(rows[i].status, "ok") == 0 ? C_GREEN :
			    strcmp(rows[i].status, "error") == 0 ? C_RED :
			    C_YELLOW;
		printf("%-*s  %s%s%s%*s  %*s  %-*s  %*s\n", (int)w[0],
		    rows[i].node, col, rows[i].status, *col ? C_RESET : "",
		    (int)(w[1] - strlen(rows[i].status)), "", (int)w[2],
		    rows[i].uptime, (int)w[3], rows[i].version, (int)w[4],
		    rows[i].latency);
		free(rows[i].node);
		free(rows[i].version);
	}
	free(rows);
}

/* --jsonl's line for one node: {"node": name, ...entry}; a new object. */
json_object *
nodes_line(const char *name, json_object *entry)
{
	struct json_object_iterator	 it, end;
	json_object			*line;

	if ((line = json_object_new_object()) == NULL)
		errx(EX_OSERR, "out of memory");
	json_object_object_add(line, "node", json_object_new_string(name));
	it = json_object_iter_begin(entry);
	end = json_object_iter_end(entry);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
		json_object_object_add(line, json_object_iter_peek_name(&it),
		    json_object_get(json_object_iter_peek_value(&it)));
	return line;
}
