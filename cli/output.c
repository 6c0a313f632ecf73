/*
 * Print replies as Celery's `inspect`, `control` and `status` do (spec
 * 5.3), or as JSON with --json: inspect/status give one object
 * {node: reply}, control the list of reply bodies [{node: reply}, ...] in
 * arrival order, both as Celery prints them. --jsonl streams one line per
 * reply as it arrives, --yaml prints one mapping node -> reply through
 * libyaml's emitter. Then, where the caller knows who should have
 * replied, a summary of errors and missing nodes, and the exit code that
 * says which happened.
 *
 * Piped, the text is Celery's byte for byte (scripts parse it). On a
 * terminal the node names are aligned, OK/ERROR/missing colored (not with
 * NO_COLOR or TERM=dumb), a summary with latencies always ends the
 * output, and while collecting a progress line lives on stderr.
 * Untrusted text (every node name, value and error text came from the
 * broker) is escaped terminal or not: no control character reaches
 * stdout raw (esc_text()). Piped, printable UTF-8 stays as Celery prints
 * it; on a terminal every non-ASCII byte is an octal escape, as before.
 */
#include <sys/types.h>

#include <err.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include <json-c/json.h>

#include "pidbox.h"
#include "yamllib.h"
#include "pidboxctl.h"

#define C_GREEN		"\033[32m"
#define C_RED		"\033[31m"
#define C_YELLOW	"\033[33m"
#define C_RESET		"\033[0m"
#define ERASE_LINE	"\r\033[K"

static enum call_style	 style;
static int		 tty;		/* stdout is a terminal */
static int		 align;		/* pad node names (terminal) */
static int		 color_out;	/* colors on stdout */
static int		 color_err;	/* colors on stderr */
static int		 show_summary;	/* even when all is well */
static size_t		 namew;		/* widest node name so far */
static enum output_sort	 sort_by;	/* --sort */
static enum output_display display;	/* --display */
static json_object	*dups;		/* [[node, value], ...] to show */

/* Later replies of a node kept for the sorted text (a hostile flood). */
#define DUPS_MAX	100

/* The progress line on stderr while collecting. */
static struct {
	int		 on;		/* stderr is a terminal */
	int		 shown;		/* a line is on the screen */
	char		 method[64];
	long long	 expected;
	int		 trusted;
	double		 timeout;
	int64_t		 t0, last;
	long long	 count;
	char		 lastnode[64];	/* the latest to reply, escaped */
} prog;

/*
 * The first few skipped replies are warned about one by one, the rest
 * only in the totals at the end.
 */
#define REPLY_WARN_MAX	3

/*
 * On a TTY, wake up this often (ms) to refresh the progress line, and
 * redraw it no more often than that.
 */
#define PROGRESS_MS	100

/*
 * Lines of a failed operator method's stdout and stderr shown (the
 * last ones: that is where the error is); --json has all of it.
 */
#define FAILED_LINES	20

static void	 pretty(FILE *, json_object *, int *);
static void	 error_hints(FILE *, const struct mailbox_result *);
static void	 output_yaml(json_object *);
static void	 output_view(const struct mailbox_result *);
static json_object *bodies(json_object *);
static void	 put_names(FILE *, const char *, const char **, size_t,
	    const char *);

/* Colors for fd per --color, NO_COLOR (any value) and TERM=dumb. */
static int
want_color(const struct ctl *ctl, int fd)
{
	const char	*term;

	if (ctl->color == COLOR_ALWAYS)
		return 1;
	if (ctl->color == COLOR_NEVER || getenv("NO_COLOR") != NULL)
		return 0;
	if ((term = getenv("TERM")) != NULL && strcmp(term, "dumb") == 0)
		return 0;
	return isatty(fd);
}

void
output_init(struct ctl *ctl, enum call_style st)
{
	const char	*term;

	style = st;
	sort_by = ctl->sort;
	display = ctl->display;
	tty = isatty(STDOUT_FILENO);
	color_out = want_color(ctl, STDOUT_FILENO);
	color_err = want_color(ctl, STDERR_FILENO);
	align = tty || color_out;
	show_summary = ctl->summary || isatty(ctl->json ? STDERR_FILENO :
	    STDOUT_FILENO);
	namew = 0;
	json_object_put(dups);
	if ((dups = json_object_new_array()) == NULL)
		err(EX_OSERR, NULL);
	memset(&prog, 0, sizeof(prog));
	term = getenv("TERM");
	prog.on = isatty(STDERR_FILENO) &&
	    (term == NULL || strcmp(term, "dumb") != 0);
}

/* Draw the progress line: "method: 2/3 replied, 0.4s (timeout 1.0s)". */
static void
progress_draw(int64_t now)
{
	double	el = (double)(now - prog.t0) / 1e6;

	prog.last = now;
	prog.shown = 1;
	fprintf(stderr, ERASE_LINE "%s: ", prog.method);
	if (prog.trusted && prog.expected > 0)
		fprintf(stderr, "%lld/%lld replied", prog.count,
		    prog.expected);
	else if (prog.expected > 0)
		fprintf(stderr, "%lld replied (at most %lld)", prog.count,
		    prog.expected);
	else
		fprintf(stderr, "%lld replied", prog.count);
	fprintf(stderr, ", %.1fs (timeout %.1fs)", el, prog.timeout);
	if (prog.lastnode[0] != '\0')
		fprintf(stderr, ", last %s", prog.lastnode);
	fflush(stderr);
}

/* Erase the progress line, if any, before other output. */
static void
progress_clear(void)
{
	if (!prog.shown)
		return;
	fputs(ERASE_LINE, stderr);
	fflush(stderr);
	prog.shown = 0;
}

/* A node name as it is shown on a terminal. */
#define tty_name(node)	ctl_escape(node)

/* Widen the name column (a terminal's) to node's name as shown. */
static void
widen(const char *node)
{
	char	*esc = tty_name(node);

	if (strlen(esc) > namew)
		namew = strlen(esc);
	free(esc);
}

/*
 * Collection starts: who is expected (for alignment and the progress
 * line), how many replies end it (trusted) and when the request went out.
 */
static void
output_begin(const struct mailbox_request *req,
    const struct mailbox_result *res)
{
	const struct expect	*ex = &res->expect;
	size_t			 i;

	for (i = 0; align && ex->names != NULL && i < ex->nnames; i++)
		widen(ex->names[i]);
	if (!prog.on)
		return;
	strlcpy(prog.method, log_viss(req->method), sizeof(prog.method));
	prog.expected = res->expected;
	prog.trusted = res->trusted;
	prog.timeout = req->timeout;
	prog.t0 = prog.last = res->t0;
}

/* How often (ms) the mailbox should wake us for the progress line. */
int
output_tick_ms(void)
{
	return prog.on ? PROGRESS_MS : 0;
}

/*
 * Show or refresh the progress line, at most every 100 ms; not before
 * 100 ms have passed, so that a quick answer does not flicker.
 */
static void
output_tick(void)
{
	int64_t	now;

	if (!prog.on)
		return;
	now = ctl_now_us();
	if (now - prog.last >= PROGRESS_MS * 1000)
		progress_draw(now);
}

/* Erase the progress line before a line of ours (a batch's). */
void
output_progress_clear(void)
{
	progress_clear();
}

/* Collection is over: erase the progress line for good. */
static void
output_progress_end(void)
{
	progress_clear();
	prog.on = 0;
}
/*
 * One line of untrusted text, escaped whether stdout is a terminal or
 * not: a pipe often ends on one (less -R, tee), and a CR or an escape
 * sequence in a node name would forge or hide lines there. Printable
 * text is written as it is, so that the piped bytes stay Celery's.
 */
static void
put_text(const char *s, size_t len)
{
	char	 sbuf[4 * 256 + 1], *buf = sbuf;
	size_t	 n;

	/* esc_text() writes up to 4 bytes a byte; most lines fit in sbuf */
	if (len >= 256 && (buf = reallocarray(NULL, len + 1, 4)) == NULL)
		err(EX_OSERR, NULL);
	n = esc_text(buf, s, len, tty ? 0 : ESC_UTF8);
	fwrite(buf, 1, n, stdout);
	if (buf != sbuf)
		free(buf);
}

/* Celery's text.indent(): every "\n"-separated part gets n spaces. */
static void
put_indented(const char *text, size_t len, int n)
{
	const char	*p, *end = text + len, *nl;

	for (p = text;; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (n <= 8)
			fwrite("        ", 1, (size_t)n, stdout);
		else
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
 * A growing string behind a FILE (fopencookie): open_memstream() would do,
 * but glibc's clears an 8 KiB buffer at every open, which was a fifth of
 * pidboxctl's instructions with thousands of replies (issue 17).
 */
struct membuf {
	char	*buf;
	size_t	 len;
	size_t	 cap;
};

static ssize_t
membuf_write(void *cookie, const char *p, size_t n)
{
	struct membuf	*m = cookie;
	size_t		 cap;
	char		*nb;

	if (m->len + n + 1 > m->cap) {
		cap = m->cap < 128 ? 128 : m->cap;
		while (cap < m->len + n + 1)
			cap *= 2;
		if ((nb = realloc(m->buf, cap)) == NULL)
			return -1;
		m->buf = nb;
		m->cap = cap;
	}
	memcpy(m->buf + m->len, p, n);
	m->len += n;
	m->buf[m->len] = '\0';
	return (ssize_t)n;
}

/* pretty() into a new string (*len bytes) the caller frees. */
static char *
pretty_str(json_object *v, int *error, size_t *len)
{
	cookie_io_functions_t	 io = { .write = membuf_write };
	struct membuf		 m = { NULL, 0, 0 };
	FILE			*f;

	if ((f = fopencookie(&m, "w", io)) == NULL)
		err(EX_OSERR, NULL);
	pretty(f, v, error);
	if (fclose(f) != 0 || (m.buf == NULL && membuf_write(&m, "", 0) != 0))
		err(EX_OSERR, NULL);
	*len = m.len;
	return m.buf;
}

/*
 * Celery's CLI pretty(): the text for a reply value; *error set for
 * {"error": ...} without "ok".
 */
static void
pretty(FILE *f, json_object *v, int *error)
{
	json_object	*inner, *item;
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
		/* pretty() of a string is the string itself */
		if (json_object_is_type(inner, json_type_string)) {
			indent_into(f, json_object_get_string(inner),
			    (size_t)json_object_get_string_len(inner), 4);
			break;
		}
		buf = pretty_str(inner, &dummy, &len);
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

/* Print o as one JSON line and put it. */
static void
put_jsonline(json_object *o)
{
	char	*s;
	size_t	 len;

	if ((s = pyjson_dumps(o, &len)) == NULL)
		err(EX_OSERR, "pyjson_dumps");
	fwrite(s, 1, len, stdout);
	putchar('\n');
	free(s);
	json_object_put(o);
}

/*
 * --jsonl: {"node": ..., "reply": ..., "latency_ms": ..., "ticket": ...}
 * on one line.
 */
static void
put_jsonl(const struct mailbox_event *rep)
{
	json_object	*o;

	if ((o = json_object_new_object()) == NULL ||
	    json_object_object_add(o, "node",
	    json_object_new_string(rep->node)) != 0 ||
	    json_object_object_add(o, "reply",
	    json_object_get(rep->value)) != 0 ||
	    json_object_object_add(o, "latency_ms",
	    json_object_new_double(rep->latency_ms)) != 0 ||
	    json_object_object_add(o, "ticket",
	    json_object_new_string(rep->res->ticket)) != 0)
		errx(EX_OSERR, "out of memory");
	/* issue 13: the reply's verification, when checks are on */
	if (rep->mark != NULL && (json_object_object_add(o, "verify",
	    json_object_new_string(rep->mark)) != 0 ||
	    json_object_object_add(o, "verify_detail", rep->mark_why == NULL ?
	    NULL : json_object_new_string(rep->mark_why)) != 0))
		errx(EX_OSERR, "out of memory");
	put_jsonline(o);
}

/*
 * --jsonl at the end: a line per expected node that did not reply,
 * {"node": ..., "missing": "no reply" | "not subscribed", "ticket": ...},
 * so that a reader of the stream learns who is missing, not only who
 * answered.
 */
static void
put_jsonl_missing(const struct mailbox_result *res)
{
	json_object	*o;
	size_t		 i, n = res->nmissing + res->nunsub;
	const char	*node;

	for (i = 0; i < n; i++) {
		node = i < res->nmissing ? res->missing[i] :
		    res->unsub[i - res->nmissing];
		if ((o = json_object_new_object()) == NULL ||
		    json_object_object_add(o, "node",
		    json_object_new_string(node)) != 0 ||
		    json_object_object_add(o, "missing",
		    json_object_new_string(i < res->nmissing ? "no reply" :
		    "not subscribed")) != 0 ||
		    json_object_object_add(o, "ticket",
		    json_object_new_string(res->ticket)) != 0)
			errx(EX_OSERR, "out of memory");
		put_jsonline(o);
	}
}

/*
 * Celery's "->  node: OK" line; aligned and colored on a terminal. An
 * operator method's line adds its exit status and duration (extra). With
 * reply checks on (issue 13) the mark follows: "OK [verified]",
 * "OK [unverified: why]", "FORGED [why]".
 */
static void
put_status(const char *node, int error, const char *extra,
    const char *vmark, const char *why)
{
	const char	*word = error ? "ERROR" : "OK";
	char		*esc, mark[256];
	size_t		 len;

	mark[0] = '\0';
	if (why == NULL)
		why = "";
	if (vmark != NULL && strcmp(vmark, "FORGED") == 0) {
		word = "FORGED";
		error = 1;
		snprintf(mark, sizeof(mark), " [%s]", why);
	} else if (vmark != NULL)
		snprintf(mark, sizeof(mark), " [%s%s%s]", vmark,
		    strcmp(vmark, "verified") != 0 ? ": " : "",
		    strcmp(vmark, "verified") != 0 ? why : "");
	if (!align) {
		/* no printf(): this is once per reply, thousands of them */
		fputs("->  ", stdout);
		put_text(node, strlen(node));
		fputs(": ", stdout);
		fputs(word, stdout);
		fputs(mark, stdout);
		if (extra != NULL) {
			fputs("  ", stdout);
			fputs(extra, stdout);
		}
		putchar('\n');
		return;
	}
	esc = tty_name(node);
	if ((len = strlen(esc)) > namew)
		namew = len;
	printf("->  %s:%*s %s%s%s%s%s%s\n", esc, (int)(namew - len), "",
	    color_out ? (error ? C_RED : C_GREEN) : "", word,
	    color_out ? C_RESET : "", mark, extra != NULL ? "  " : "",
	    extra != NULL ? extra : "");
	free(esc);
}

static void	 fmt_ms(char *, size_t, double);

/*
 * The result of an operator method (pidboxd's exec.c: {"ok": result} or
 * {"error": why, "result": result} with exit_status, signal, stdout,
 * stderr, their truncation flags and duration), or NULL when v is not
 * one.
 */
static json_object *
exec_result(json_object *v)
{
	json_object	*r, *o, *e;

	if (!json_object_is_type(v, json_type_object))
		return NULL;
	if (!json_object_object_get_ex(v, "ok", &r) &&
	    !(json_object_object_get_ex(v, "error", NULL) &&
	    json_object_object_get_ex(v, "result", &r)))
		return NULL;
	if (!json_object_is_type(r, json_type_object) ||
	    !json_object_object_get_ex(r, "stdout", &o) ||
	    !json_object_object_get_ex(r, "stderr", &e) ||
	    !json_object_is_type(o, json_type_string) ||
	    !json_object_is_type(e, json_type_string) ||
	    !json_object_object_get_ex(r, "duration", NULL))
		return NULL;
	return r;
}

/* "exit 0, 12.0 ms", "signal 9, 1.00 s", "timeout, 1.00 s" into buf. */
static void
exec_status(char *buf, size_t len, json_object *v, json_object *r)
{
	json_object	*x, *e = NULL;
	char		 st[64], d[32];
	double		 dur = 0;

	if (json_object_object_get_ex(r, "exit_status", &x) &&
	    json_object_is_type(x, json_type_int))
		snprintf(st, sizeof(st), "exit %d", json_object_get_int(x));
	else if (json_object_object_get_ex(r, "signal", &x) &&
	    json_object_is_type(x, json_type_int))
		snprintf(st, sizeof(st), "signal %d", json_object_get_int(x));
	else
		snprintf(st, sizeof(st), "no exit status");
	if (json_object_object_get_ex(v, "error", &e) &&
	    json_object_is_type(e, json_type_string) &&
	    strncmp(json_object_get_string(e), "timeout", 7) == 0)
		snprintf(st, sizeof(st), "timeout (killed)");
	if (json_object_object_get_ex(r, "duration", &x) &&
	    (json_object_is_type(x, json_type_double) ||
	    json_object_is_type(x, json_type_int)))
		dur = json_object_get_double(x);
	if (!(dur >= 0 && dur < 1e9))
		dur = 0;
	fmt_ms(d, sizeof(d), dur * 1000);
	snprintf(buf, len, "%s, %s", st, d);
}

/*
 * One output stream of a method as text under the node, each line
 * indented and marked (stderr), the whole of it or, when max > 0, its
 * last max lines with the cut said; and whether the node cut it.
 */
static void
put_stream(json_object *r, const char *key, const char *mark, size_t max)
{
	json_object	*o, *t;
	const char	*p, *end, *nl;
	char		 flag[64];
	size_t		 len, nlines = 0, skip = 0, i;

	if (!json_object_object_get_ex(r, key, &o))
		return;
	p = json_object_get_string(o);
	len = (size_t)json_object_get_string_len(o);
	if (len > 0 && p[len - 1] == '\n')
		len--;		/* the last line's newline ends no line */
	end = p + len;
	if (len > 0)
		for (nlines = 1, nl = p; (nl = memchr(nl, '\n',
		    (size_t)(end - nl))) != NULL; nl++)
			nlines++;
	if (max > 0 && nlines > max) {
		skip = nlines - max;
		printf("    %s[... %zu earlier line%s of %s not shown; --json "
		    "has them]\n", mark, skip, skip == 1 ? "" : "s", key);
	}
	for (i = 0; len > 0 && p <= end; i++, p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (i >= skip) {
			printf("    %s", mark);
			put_text(p, (size_t)(nl - p));
			putchar('\n');
		}
		if (nl == end)
			break;
	}
	snprintf(flag, sizeof(flag), "%s_truncated", key);
	if (json_object_object_get_ex(r, flag, &t) &&
	    json_object_get_boolean(t))
		printf("    %s[%s cut by the node at its max_output]\n", mark,
		    key);
}

/*
 * An operator method's reply as text, as `salt '*' cmd.run` shows it:
 * the status line with exit status and duration, stdout as text, stderr
 * marked; a failure shows its last lines only.
 */
static void
put_exec(const char *node, json_object *v, json_object *r, int error,
    const char *vmark, const char *why)
{
	json_object	*e;
	char		 st[128];
	size_t		 max = error ? FAILED_LINES : 0;

	exec_status(st, sizeof(st), v, r);
	put_status(node, error, st, vmark, why);
	if (error && json_object_object_get_ex(v, "error", &e) &&
	    json_object_is_type(e, json_type_string) &&
	    strncmp(json_object_get_string(e), "timeout", 7) == 0) {
		printf("    ");
		put_text(json_object_get_string(e),
		    (size_t)json_object_get_string_len(e));
		putchar('\n');
	}
	put_stream(r, "stdout", "", max);
	put_stream(r, "stderr", "stderr: ", max);
}

/* Whether --display shows a reply that is (not) an error. */
static int
displayed(int error)
{
	switch (display) {
	case DISPLAY_ALL:
		return 1;
	case DISPLAY_OK:
		return !error;
	case DISPLAY_FAILED:
		return error;
	case DISPLAY_NONE:
		break;
	}
	return 0;
}

/* o's member key as a string, or NULL. */
static const char *
json_str(json_object *o, const char *key)
{
	json_object *v;

	/* an empty table (no reply checks) needs no hash of the key */
	if (o == NULL || json_object_object_length(o) == 0 ||
	    !json_object_object_get_ex(o, key, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

/* One reply as text: Celery's, or an operator method's. */
static void
put_reply(const char *node, json_object *value, const char *vmark,
    const char *why)
{
	json_object	*r;
	char		*buf = NULL;
	size_t		 len = 0;
	int		 error = reply_is_error(value);

	if (!displayed(error))
		return;
	/*
	 * {"ok": "text"} (ping's pong): pretty() is the text indented by 4,
	 * then indented by 4 again here; escaping works per character, so
	 * that is the text indented by 8, without a FILE and a copy for it.
	 * (Not an operator method's result: that "ok" is an object.)
	 */
	if (json_object_is_type(value, json_type_object) &&
	    json_object_object_get_ex(value, "ok", &r) &&
	    json_object_is_type(r, json_type_string)) {
		put_status(node, 0, NULL, vmark, why);
		if (style != STYLE_STATUS)
			put_indented(json_object_get_string(r),
			    (size_t)json_object_get_string_len(r), 8);
		return;
	}
	if (style != STYLE_STATUS && (r = exec_result(value)) != NULL) {
		put_exec(node, value, r, error, vmark, why);
		return;
	}
	buf = pretty_str(value, &error, &len);
	put_status(node, error, NULL, vmark, why);
	if (style != STYLE_STATUS)
		put_indented(buf, len, 4);
	free(buf);
}

/*
 * Print one reply at once as text or --jsonl. A node's second reply (a
 * twin node, or anyone who can LPUSH into our reply list) is printed as
 * well, as Celery does, but --json, --yaml and the summary keep the
 * first.
 */
static void
output_reply(struct ctl *ctl, const struct mailbox_event *rep)
{
	json_object	*pair;
	char	*esc;
	int	 shown = prog.shown;

	progress_clear();
	if (rep->type == MAILBOX_EV_REPLY) {
		prog.count++;
		/* only the progress line shows it: escape only for it */
		if (prog.on) {
			esc = tty_name(rep->node);
			strlcpy(prog.lastnode, esc, sizeof(prog.lastnode));
			free(esc);
		}
	}
	if (style == STYLE_NODES || style == STYLE_DESCRIBE ||
	    ctl->format == FORMAT_JSON ||
	    ctl->format == FORMAT_YAML)
		goto done;
	if (ctl->format == FORMAT_JSONL) {
		put_jsonl(rep);
		fflush(stdout);
		goto done;
	}
	/* Sorted text comes at the end (output_view()). */
	if (sort_by != SORT_ARRIVAL) {
		/*
		 * Besides the kept replies: a twin's, and a FORGED one that a
		 * real reply replaced (the forgery must still be seen).
		 */
		if ((rep->type == MAILBOX_EV_DUPLICATE || (rep->mark != NULL &&
		    strcmp(rep->mark, "FORGED") == 0)) &&
		    json_object_array_length(dups) < DUPS_MAX) {
			if ((pair = json_object_new_array()) == NULL)
				err(EX_OSERR, NULL);
			json_object_array_add(pair,
			    json_object_new_string(rep->node));
			json_object_array_add(pair, json_object_get(rep->value));
			json_object_array_add(pair, rep->mark == NULL ? NULL :
			    json_object_new_string(rep->mark));
			json_object_array_add(pair, rep->mark_why == NULL ?
			    NULL : json_object_new_string(rep->mark_why));
			json_object_array_add(dups, pair);
		}
		goto done;
	}
	put_reply(rep->node, rep->value, rep->mark, rep->mark_why);
	fflush(stdout);
done:
	if (prog.on && shown)
		progress_draw(ctl_now_us());
}

/* The mailbox_cb of pidboxctl's calls: arg is the struct ctl. */
void
output_event(const struct mailbox_event *ev, void *arg)
{
	struct ctl			*ctl = arg;
	const struct mailbox_result	*res = ev->res;

	switch (ev->type) {
	case MAILBOX_EV_PUBLISHED:
		ctl_debug(ctl, "request %s: %s %s: %lld receiver(s)",
		    res->ticket, mailbox_type_name(ctl->mbox.type),
		    ctl->mbox.names.exchange, res->receivers);
		break;
	case MAILBOX_EV_COLLECT:
		output_begin(ev->req, res);
		break;
	case MAILBOX_EV_REPLY:
		output_reply(ctl, ev);
		if (!ev->counted)
			ctl_debug(ctl, "reply from %s, not named by -d: not "
			    "counted", log_viss(ev->node));
		break;
	case MAILBOX_EV_DUPLICATE:
		output_reply(ctl, ev);
		if (res->ndup <= REPLY_WARN_MAX)
			warnx("duplicate node name %s: more than one node "
			    "replied with that name; only the first reply "
			    "counts", log_viss(ev->node));
		break;
	case MAILBOX_EV_MALFORMED:
		if (res->nbad <= REPLY_WARN_MAX)
			warnx("reply skipped: %s", ev->why);
		break;
	case MAILBOX_EV_FOREIGN:
		ctl_debug(ctl, "reply for another ticket ignored");
		break;
	case MAILBOX_EV_TICK:
		output_tick();
		break;
	}
}

/*
 * Print "label: a, b, c" with the names escaped (stdout) or to stderr,
 * in color when col is not NULL.
 */
static void
put_names(FILE *f, const char *label, const char **names, size_t n,
    const char *col)
{
	size_t	i;

	fprintf(f, "%s%s: ", col != NULL ? col : "", label);
	for (i = 0; i < n; i++) {
		if (i > 0)
			fputs(", ", f);
		if (f == stdout)
			put_text(names[i], strlen(names[i]));
		else
			fputs(log_viss(names[i]), f);
	}
	fprintf(f, "%s\n", col != NULL ? C_RESET : "");
}

static int
cmpdouble(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* "0.8 ms", "950.2 ms", "1.25 s". */
static void
fmt_ms(char *buf, size_t len, double ms)
{
	if (ms < 1000)
		snprintf(buf, len, "%.1f ms", ms);
	else
		snprintf(buf, len, "%.2f s", ms / 1000);
}

/* "; latency min X, median Y, max Z" of the replies so far. */
static void
put_latency(FILE *f, json_object *latency)
{
	struct json_object_iterator	 it, end;
	double				*v, med;
	char				 a[32], b[32], c[32];
	size_t				 n = 0, cap;

	cap = (size_t)json_object_object_length(latency);
	if (cap == 0 || (v = reallocarray(NULL, cap, sizeof(*v))) == NULL)
		return;
	it = json_object_iter_begin(latency);
	end = json_object_iter_end(latency);
	for (; n < cap && !json_object_iter_equal(&it, &end);
	    json_object_iter_next(&it))
		v[n++] = json_object_get_double(json_object_iter_peek_value(&it));
	qsort(v, n, sizeof(*v), cmpdouble);
	med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	fmt_ms(a, sizeof(a), v[0]);
	fmt_ms(b, sizeof(b), med);
	fmt_ms(c, sizeof(c), v[n - 1]);
	fprintf(f, "; latency min %s, median %s, max %s", a, b, c);
	free(v);
}

/*
 * The summary after the replies: how many were expected, replied,
 * errored, did not reply, and their names where known. Piped it is
 * printed only when something went wrong (so that a clean run looks
 * exactly like Celery's); on a terminal or with --summary always, with
 * the latencies. With a machine format it goes to stderr, keeping stdout
 * parseable.
 */
static void
summary(struct ctl *ctl, const struct mailbox_result *res)
{
	const struct expect	 *ex = &res->expect;
	const char		**errs = res->errors, **missing = res->missing;
	size_t			  nerrs = res->nerrors;
	size_t			  nmissing = res->nmissing;
	long long		  nmiss = res->nsilent;
	int			  nodes = json_object_object_length(res->replies);
	FILE			 *f = ctl->json ? stderr : stdout;
	int		 col = ctl->json ? color_err : color_out;
	const char	*red = col && nerrs > 0 ? C_RED : "";
	const char	*yel = col && nmiss > 0 ? C_YELLOW : "";
	const char	*grn = col ? C_GREEN : "";
	const char	*rst = col ? C_RESET : "";

	if (!show_summary && nerrs == 0 && nmiss == 0 && res->nunsub == 0 &&
	    res->ntwins == 0 && !ctl->mbox.verify)
		return;
	if (!ctl->json && (style == STYLE_CONTROL || style == STYLE_NODES ||
	    style == STYLE_DESCRIBE))
		fputc('\n', f);
	if (ex->count >= 0)
		fprintf(f, "summary: %lld expected (%s), %s%d replied%s, "
		    "%s%zu error%s%s, %s%lld missing%s", ex->count, ex->source,
		    grn, nodes, rst, red, nerrs, nerrs == 1 ? "" : "s",
		    *red ? rst : "", yel, nmiss, *yel ? rst : "");
	else
		fprintf(f, "summary: %s%d replied%s, %s%zu error%s%s", grn,
		    nodes, rst, red, nerrs, nerrs == 1 ? "" : "s",
		    *red ? rst : "");
	if (show_summary)
		put_latency(f, res->latency);
	fputc('\n', f);
	if (ctl->mbox.verify)	/* issue 13 */
		fprintf(f, "verify: %lld verified, %lld unverified, %lld "
		    "FORGED%s\n", res->nverified, res->nunverified,
		    res->nforged, res->verify_required ? " (--verify "
		    "required: unverified are errors)" : "");
	if (nerrs > 0)
		put_names(f, "error", errs, nerrs, col ? C_RED : NULL);
	if (nmissing > 0)
		put_names(f, "no reply", missing, nmissing,
		    col ? C_YELLOW : NULL);
	else if (nmiss > 0 && res->nunsub == 0)
		fprintf(f, "%sno reply: %lld node%s (names unknown)%s\n", yel,
		    nmiss, nmiss == 1 ? "" : "s", *yel ? rst : "");
	if (res->nunreached > 0 && nmissing > 0)
		fprintf(f, "(%lld of them %s not subscribed: bound to the "
		    "mailbox, but the request reached only %lld)\n",
		    res->nunreached, res->nunreached == 1 ? "is" : "are",
		    res->receivers);
	if (res->nunsub > 0)
		put_names(f, "not subscribed", res->unsub, res->nunsub,
		    col ? C_YELLOW : NULL);
	if (res->ntwins > 0)
		put_names(f, "duplicate node name (more than one node replied "
		    "under it)", res->twins, res->ntwins,
		    col ? C_YELLOW : NULL);
	if (nerrs > 0)
		error_hints(f, res);
	if (res->nextra > 0)
		fprintf(f, "%lld more subscriber%s received it and did not "
		    "reply (not a node bound to the mailbox: a PSUBSCRIBE "
		    "client?)\n", res->nextra, res->nextra == 1 ? "" : "s");
}

/*
 * The text of the replies at the end, sorted by name (or latency), the
 * names aligned on a terminal, only those --display asks for.
 */
struct shown {
	const char	*node;
	json_object	*value;
	double		 latency;
};

static int
cmpshown_name(const void *a, const void *b)
{
	/* web-2 before web-10: GNU's version order. */
	return verscmp(((const struct shown *)a)->node,
	    ((const struct shown *)b)->node);
}

static int
cmpshown_latency(const void *a, const void *b)
{
	const struct shown	*x = a, *y = b;

	if (x->latency != y->latency)
		return x->latency < y->latency ? -1 : 1;
	return verscmp(x->node, y->node);
}

static void
output_view(const struct mailbox_result *res)
{
	struct json_object_iterator	 it, end;
	struct shown			*v;
	json_object			*l, *pair;
	const char			*kept, *mark;
	size_t				 i, j, n;

	n = (size_t)json_object_object_length(res->replies);
	if (n == 0 || (v = reallocarray(NULL, n, sizeof(*v))) == NULL)
		return;
	it = json_object_iter_begin(res->replies);
	end = json_object_iter_end(res->replies);
	for (i = 0; i < n && !json_object_iter_equal(&it, &end);
	    json_object_iter_next(&it), i++) {
		v[i].node = json_object_iter_peek_name(&it);
		v[i].value = json_object_iter_peek_value(&it);
		v[i].latency = sort_by == SORT_LATENCY &&
		    json_object_object_get_ex(res->latency, v[i].node, &l) ?
		    json_object_get_double(l) : 0;
		if (align)
			widen(v[i].node);
	}
	n = i;
	qsort(v, n, sizeof(*v), sort_by == SORT_LATENCY ? cmpshown_latency :
	    cmpshown_name);
	for (i = 0; i < n; i++) {
		kept = json_str(res->trust, v[i].node);
		put_reply(v[i].node, v[i].value, kept,
		    json_str(res->trust_why, v[i].node));
		/*
		 * A twin's reply under the first, as Celery shows both; and a
		 * FORGED reply that the real one replaced (one that was kept
		 * is the line above).
		 */
		for (j = 0; j < json_object_array_length(dups); j++) {
			pair = json_object_array_get_idx(dups, j);
			mark = json_object_get_string(
			    json_object_array_get_idx(pair, 2));
			if (strcmp(json_object_get_string(
			    json_object_array_get_idx(pair, 0)),
			    v[i].node) != 0 || (mark != NULL &&
			    strcmp(mark, "FORGED") == 0 && kept != NULL &&
			    strcmp(kept, "FORGED") == 0))
				continue;
			put_reply(v[i].node,
			    json_object_array_get_idx(pair, 1), mark,
			    json_object_get_string(
			    json_object_array_get_idx(pair, 3)));
		}
	}
	free(v);
}

/* ------------------------------------------------------------- YAML */

/* libyaml, loaded by output_yaml(): only --yaml needs it */
static const struct yaml_lib	*yl;

/*
 * Whether a YAML 1.1 reader could take the plain scalar s for something
 * other than a string (number, bool, null, merge key...): then it must be
 * quoted.
 */
static int
yaml_ambiguous(const char *s, size_t len)
{
	static const char *const words[] = {
		"y", "n", "yes", "no", "true", "false", "on", "off", "null",
		"~", "<<", "=",
	};
	size_t	i;

	if (len == 0 || strchr("0123456789+-.", s[0]) != NULL)
		return 1;
	for (i = 0; i < nitems(words); i++)
		if (strcasecmp(s, words[i]) == 0)
			return 1;
	return 0;
}

static void
yaml_emit(yaml_emitter_t *e, yaml_event_t *ev)
{
	if (!yl->emitter_emit(e, ev))
		errx(EX_DATAERR, "YAML output: %s", e->problem != NULL ?
		    e->problem : "emitter error");
}

/* One scalar; a string that would read back as another type is quoted. */
static void
yaml_scalar(yaml_emitter_t *e, const char *tag, const char *s, size_t len,
    int plain)
{
	yaml_event_t	ev;

	if (len > INT_MAX || !yl->scalar(&ev, NULL,
	    (const yaml_char_t *)tag, (const yaml_char_t *)s, (int)len,
	    plain, tag == NULL, YAML_ANY_SCALAR_STYLE))
		errx(EX_OSERR, "YAML output: out of memory");
	yaml_emit(e, &ev);
}

static void
yaml_string(yaml_emitter_t *e, const char *s, size_t len)
{
	yaml_scalar(e, NULL, s, len, !yaml_ambiguous(s, len) &&
	    strlen(s) == len);
}

/* The events of one JSON value, recursively. */
static void
yaml_value(yaml_emitter_t *e, json_object *v)
{
	struct json_object_iterator	 it, end;
	yaml_event_t			 ev;
	const char			*k;
	char				*s;
	size_t				 i, n;
	int				 ok;

	switch (json_object_get_type(v)) {
	case json_type_object:
		if (!yl->mapping_start(&ev, NULL, NULL, 1,
		    YAML_ANY_MAPPING_STYLE))
			errx(EX_OSERR, "YAML output: out of memory");
		yaml_emit(e, &ev);
		it = json_object_iter_begin(v);
		end = json_object_iter_end(v);
		for (; !json_object_iter_equal(&it, &end);
		    json_object_iter_next(&it)) {
			k = json_object_iter_peek_name(&it);
			yaml_string(e, k, strlen(k));
			yaml_value(e, json_object_iter_peek_value(&it));
		}
		ok = yl->mapping_end(&ev);
		break;
	case json_type_array:
		if (!yl->sequence_start(&ev, NULL, NULL, 1,
		    YAML_ANY_SEQUENCE_STYLE))
			errx(EX_OSERR, "YAML output: out of memory");
		yaml_emit(e, &ev);
		n = json_object_array_length(v);
		for (i = 0; i < n; i++)
			yaml_value(e, json_object_array_get_idx(v, i));
		ok = yl->sequence_end(&ev);
		break;
	case json_type_string:
		yaml_string(e, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
		return;
	case json_type_double:
		/* 1e+100 has no dot: YAML 1.1 would read it as a string. */
		if ((s = pyjson_dumps(v, NULL)) == NULL)
			err(EX_OSERR, "pyjson_dumps");
		ok = strchr(s, '.') != NULL;
		yaml_scalar(e, ok ? NULL : YAML_FLOAT_TAG, s, strlen(s), ok);
		free(s);
		return;
	default:	/* null, boolean, int */
		if ((s = pyjson_dumps(v, NULL)) == NULL)
			err(EX_OSERR, "pyjson_dumps");
		yaml_scalar(e, NULL, s, strlen(s), 1);
		free(s);
		return;
	}
	if (!ok)
		errx(EX_OSERR, "YAML output: out of memory");
	yaml_emit(e, &ev);
}

/* Print v as one YAML document on stdout, through libyaml's emitter. */
static void
output_yaml(json_object *v)
{
	yaml_emitter_t	e;
	yaml_event_t	ev;
	char		why[128];

	fflush(stdout);
	if ((yl = yaml_lib(why, sizeof(why))) == NULL)
		errx(EX_OSFILE, "YAML output: %s", why);
	if (!yl->emitter_initialize(&e))
		errx(EX_OSERR, "YAML output: out of memory");
	yl->emitter_set_output_file(&e, stdout);
	yl->emitter_set_unicode(&e, 1);
	yl->emitter_set_width(&e, -1);
	if (!yl->stream_start(&ev, YAML_UTF8_ENCODING))
		errx(EX_OSERR, "YAML output: out of memory");
	yaml_emit(&e, &ev);
	if (!yl->document_start(&ev, NULL, NULL, NULL, 1))
		errx(EX_OSERR, "YAML output: out of memory");
	yaml_emit(&e, &ev);
	yaml_value(&e, v);
	if (!yl->document_end(&ev, 1))
		errx(EX_OSERR, "YAML output: out of memory");
	yaml_emit(&e, &ev);
	if (!yl->stream_end(&ev))
		errx(EX_OSERR, "YAML output: out of memory");
	yaml_emit(&e, &ev);
	if (!yl->emitter_flush(&e))
		errx(EX_IOERR, "YAML output: cannot write");
	yl->emitter_delete(&e);
}

/* ------------------------------------------------------------- end */

/* One document of a command that streams nothing: YAML, else JSON. */
static void
put_doc(const struct ctl *ctl, json_object *o)
{
	char	*s;

	if (ctl->format == FORMAT_YAML) {
		output_yaml(o);
		return;
	}
	if ((s = pyjson_dumps(o, NULL)) == NULL)
		err(EX_OSERR, "pyjson_dumps");
	printf("%s\n", s);
	free(s);
}

/* Printable ASCII without a character a shell would act on. */
static int
plain_name(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x21 || *s > 0x7e || strchr("\"'\\$`;&|<>()*?[]{}!",
		    *s) != NULL)
			return 0;
	return 1;
}

/*
 * The nodes (STYLE_NODES) in the format asked for: a table, --json
 * {node: entry}, --jsonl one {"node": name, ...entry} per line, --yaml
 * the same mapping as --json.
 */
static void
output_nodes(struct ctl *ctl, const struct mailbox_result *res)
{
	struct json_object_iterator	 it, end;
	json_object			*out;

	out = nodes_build(res->replies, res->latency, &res->expect);
	/* --names: for completion and scripts; odd names are left out */
	if (ctl->names_only) {
		it = json_object_iter_begin(out);
		end = json_object_iter_end(out);
		for (; !json_object_iter_equal(&it, &end);
		    json_object_iter_next(&it))
			if (plain_name(json_object_iter_peek_name(&it)))
				printf("%s\n", json_object_iter_peek_name(&it));
		json_object_put(out);
		return;
	}
	if (ctl->format == FORMAT_TEXT)
		nodes_table(out, color_out);
	else
		output_node_map(ctl, out);
	json_object_put(out);
}

/*
 * A mapping {node: entry} (nodes, inventory) as --json, --yaml (the
 * mapping) or --jsonl (one {"node": name, ...entry} per line).
 */
void
output_node_map(struct ctl *ctl, json_object *out)
{
	struct json_object_iterator	 it, end;

	if (ctl->format != FORMAT_JSONL) {
		put_doc(ctl, out);
		return;
	}
	it = json_object_iter_begin(out);
	end = json_object_iter_end(out);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
		put_jsonline(nodes_line(json_object_iter_peek_name(&it),
		    json_object_iter_peek_value(&it)));
}

/* Control's --json: the reply bodies [{node: reply}, ...], in order. */
static json_object *
bodies(json_object *replies)
{
	struct json_object_iterator	 it, end;
	json_object			*arr, *body;

	if ((arr = json_object_new_array()) == NULL)
		errx(EX_OSERR, "out of memory");
	it = json_object_iter_begin(replies);
	end = json_object_iter_end(replies);
	for (; !json_object_iter_equal(&it, &end);
	    json_object_iter_next(&it)) {
		if ((body = json_object_new_object()) == NULL ||
		    json_object_object_add(body,
		    json_object_iter_peek_name(&it),
		    json_object_get(json_object_iter_peek_value(&it))) != 0 ||
		    json_object_array_add(arr, body) != 0)
			errx(EX_OSERR, "out of memory");
	}
	return arr;
}

/*
 * Finish the output of a collection that some node replied to: the
 * document (--json, --yaml, the nodes table) or Celery's count line,
 * then the summary.
 */
static void
output_end(struct ctl *ctl, const struct mailbox_result *res)
{
	json_object	*doc;
	int		 n;

	n = json_object_object_length(res->replies);
	if (ctl->format == FORMAT_TEXT && style != STYLE_NODES &&
	    style != STYLE_DESCRIBE && sort_by != SORT_ARRIVAL)
		output_view(res);
	if (style == STYLE_NODES)
		output_nodes(ctl, res);
	else if (style == STYLE_DESCRIBE && ctl->format == FORMAT_TEXT)
		describe_table(res->replies);
	else if (ctl->format == FORMAT_JSON) {
		doc = style == STYLE_CONTROL ? bodies(res->replies) :
		    json_object_get(res->replies);
		put_doc(ctl, doc);
		json_object_put(doc);
		/* celery status --json: the count line after the JSON */
		if (style == STYLE_STATUS)
			printf("\n%d %s online.\n", n, n == 1 ? "node" :
			    "nodes");
	} else if (ctl->format == FORMAT_YAML)
		output_yaml(res->replies);
	else if (ctl->format == FORMAT_JSONL)
		put_jsonl_missing(res);
	else if (ctl->format == FORMAT_TEXT && style != STYLE_CONTROL)
		printf("\n%d %s online.\n", n, n == 1 ? "node" : "nodes");
	fflush(stdout);
	summary(ctl, res);
}

/*
 * A cast (no reply asked for): who received it, so that a typo in a
 * method or node name does not pass silently. Text on stdout, or one
 * JSON/YAML document {"method", "ticket", "receivers",
 * "not_subscribed"} with a machine format.
 */
static void
output_cast(struct ctl *ctl, const struct mailbox_request *req,
    const struct mailbox_result *res)
{
	json_object	*o, *ns;
	char		 where[MAX_KEY * 3 + 64];
	size_t		 i;

	if (ctl->format != FORMAT_TEXT) {
		if ((o = json_object_new_object()) == NULL ||
		    (ns = json_object_new_array()) == NULL)
			errx(EX_OSERR, "out of memory");
		for (i = 0; i < res->nunsub; i++)
			json_object_array_add(ns,
			    json_object_new_string(res->unsub[i]));
		json_object_object_add(o, "method",
		    json_object_new_string(req->method));
		json_object_object_add(o, "ticket",
		    json_object_new_string(res->ticket));
		json_object_object_add(o, "receivers",
		    json_object_new_int64(res->receivers));
		json_object_object_add(o, "not_subscribed", ns);
		put_doc(ctl, o);
		json_object_put(o);
	} else if (res->receivers == 0) {
		mailbox_where(&ctl->mbox, where, sizeof(where));
		printf("%s: nobody received it: no node is listening on %s\n",
		    log_viss(req->method), where);
	} else
		printf("%s: %lld %s received it; no replies asked for (-r "
		    "collects them)\n", log_viss(req->method), res->receivers,
		    ctl->mbox.type == MAILBOX_FANOUT ? (res->receivers == 1 ?
		    "subscriber" : "subscribers") : (res->receivers == 1 ?
		    "queue" : "queues"));
	if (ctl->format == FORMAT_TEXT && res->nunsub > 0)
		put_names(stdout, "not subscribed", res->unsub, res->nunsub,
		    color_out ? C_YELLOW : NULL);
	if (ctl->format == FORMAT_TEXT && res->expect.names != NULL &&
	    res->expect.nnames == 0 && req->pattern != NULL)
		printf("no bound node matches -p %s\n", log_viss(req->pattern));
}

/*
 * Celery's control shutdown (celery.c): the replies of the nodes that
 * answered (a pidboxd refuses or runs it), then who received it, with
 * the silent ones taken for Celery workers, which exit without a reply.
 * --json: the reply bodies as `celery control --json` prints them, the
 * rest on stderr.
 */
void
output_shutdown(struct ctl *ctl, const struct mailbox_request *req,
    const struct mailbox_result *res)
{
	FILE		*f = ctl->json ? stderr : stdout;
	json_object	*doc;

	if (ctl->format == FORMAT_TEXT)
		output_view(res);
	else {
		doc = bodies(res->replies);
		put_doc(ctl, doc);
		json_object_put(doc);
	}
	fflush(stdout);
	fprintf(f, "shutdown sent to mailbox %s: %lld %s (%s)",
	    ctl->mbox.names.exchange, res->receivers,
	    ctl->mbox.type == MAILBOX_FANOUT ? "subscriber(s) received it" :
	    "queue(s) got it", req->ndestination > 0 || req->pattern != NULL ?
	    "only the addressed nodes act on it" : "every node acts on it");
	if (res->nerrors > 0)
		fprintf(f, "; %zu refused it", res->nerrors);
	fputc('\n', f);
	if (res->nmissing > 0)
		put_names(f, "no reply (a Celery worker exits without "
		    "replying)", res->missing, res->nmissing, NULL);
	else if (res->nsilent > 0)
		fprintf(f, "no reply (a Celery worker exits without "
		    "replying): %lld node%s\n", res->nsilent,
		    res->nsilent == 1 ? "" : "s");
	if (res->nunsub > 0)
		put_names(f, "not subscribed", res->unsub, res->nunsub,
		    color_out && f == stdout ? C_YELLOW : NULL);
	if (res->nerrors > 0)
		error_hints(f, res);
}

/* What to do about a broker failure: where the broker or password goes. */
static void
broker_hint(const struct ctl *ctl, const char *error)
{
	if (strstr(error, "NOAUTH") != NULL ||
	    strstr(error, "WRONGPASS") != NULL ||
	    strstr(error, "invalid password") != NULL)
		fprintf(stderr, "hint: the broker wants a password: set "
		    "PIDBOX_BROKER_PASSWORD, or broker_password_file in the "
		    "-c file (a password in -b is visible to other users)\n");
	else if (strcmp(ctl->broker_from, "default") == 0)
		fprintf(stderr, "hint: no broker was given, so the default %s "
		    "was used: give one with -b URL, PIDBOX_BROKER, "
		    "CELERY_BROKER_URL (with -N celery) or broker: in a -c "
		    "file\n", DEFAULT_BROKER);
	else
		fprintf(stderr, "hint: the broker came from %s\n",
		    log_viss(ctl->broker_from));
}

/*
 * What to do about the errors nodes replied: a method they do not
 * have, a request they want signed.
 */
static void
error_hints(FILE *f, const struct mailbox_result *res)
{
	json_object	*v, *e;
	size_t		 i;
	int		 unknown = 0, unsigned_ = 0;
	const char	*s;

	for (i = 0; i < res->nerrors; i++) {
		if (!json_object_object_get_ex(res->replies, res->errors[i],
		    &v) || !json_object_object_get_ex(v, "error", &e) ||
		    (s = json_object_get_string(e)) == NULL)
			continue;
		if (strncmp(s, "KeyError(", 9) == 0)
			unknown = 1;
		if (strstr(s, "unsigned") != NULL)
			unsigned_ = 1;
	}
	if (unknown)
		fprintf(f, "hint: KeyError is a method the node does not "
		    "have; `%s describe` lists what each node offers\n",
		    getprogname());
	if (unsigned_)
		fprintf(f, "hint: these nodes accept signed requests only: "
		    "set PIDBOX_KEY_FILE (and PIDBOX_IDENTITY) to a key they "
		    "know\n");
}

/* Celery's message (stderr, exit 69), so no program prefix. */
static void
no_replies(const char *why)
{
	fflush(stdout);
	fprintf(stderr, "Error: No nodes replied within time constraint%s%s\n",
	    why != NULL ? ": " : "", why != NULL ? why : "");
}

/*
 * The end of a call: the totals of skipped replies, a failed cleanup,
 * then the error, or the document and summary, or Celery's "no nodes
 * replied". call_status() gives the exit code that goes with it.
 */
void
output_result(struct ctl *ctl, const struct mailbox_request *req,
    const struct mailbox_result *res)
{
	long long	got;

	output_progress_end();
	if (res->collected && res->nbad > 0)
		warnx("%lld malformed repl%s skipped, not counted as replies",
		    res->nbad, res->nbad == 1 ? "y" : "ies");
	if (res->collected && res->ndup > 0)
		warnx("%lld duplicate repl%s not counted; only each node's "
		    "first reply counts", res->ndup, res->ndup == 1 ? "y" :
		    "ies");
	if (res->cleanup_error != NULL)
		warnx("%s", res->cleanup_error);
	switch (res->status) {
	case MAILBOX_OK:
		if (!res->collected) {
			output_cast(ctl, req, res);
			break;
		}
		if (json_object_object_length(res->replies) == 0) {
			no_replies(NULL);
			/* Not "no nodes": they got it and are still busy. */
			got = req->ndestination > 0 ?
			    (long long)res->nmissing : res->expect.names !=
			    NULL ? res->nsilent : res->receivers;
			if (got > 0)
				fprintf(stderr, "%lld %s received %s but did "
				    "not reply within %.1f s; a method that "
				    "runs longer needs a longer -t\n",
				    got, got == 1 ? "node" : "nodes",
				    log_viss(req->method), req->timeout);
			if (ctl->format == FORMAT_JSON ||
			    ctl->format == FORMAT_YAML)
				/* An empty document, not an empty stdout. */
				puts(style == STYLE_CONTROL ? "[]" : "{}");
			if (ctl->format == FORMAT_JSONL)
				put_jsonl_missing(res);
			summary(ctl, res);
		} else
			output_end(ctl, res);
		break;
	case MAILBOX_NO_LISTENER:
		no_replies(res->error);
		break;
	case MAILBOX_INTERRUPTED:
		/* Ctrl-C: what arrived, the summary, then say so. */
		if (res->collected &&
		    json_object_object_length(res->replies) > 0)
			output_end(ctl, res);
		fflush(stdout);
		fprintf(stderr, "%s: interrupted", getprogname());
		if (res->collected)
			fprintf(stderr, " after %d repl%s",
			    json_object_object_length(res->replies),
			    json_object_object_length(res->replies) == 1 ?
			    "y" : "ies");
		fputc('\n', stderr);
		break;
	case MAILBOX_EBROKER:
		/* lost mid-collect: what came before the error */
		if (json_object_object_length(res->replies) > 0)
			output_end(ctl, res);
		warnx("%s", res->error);
		broker_hint(ctl, res->error);
		break;
	case MAILBOX_EREQUEST:
	case MAILBOX_ESIGN:
	case MAILBOX_ECRYPTO:
		warnx("%s", res->error);
		break;
	}
}
