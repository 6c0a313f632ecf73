/*
 * A small YAML document tree (libyaml) that keeps line and column of every
 * node, so configuration errors can be reported as file:line:col.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pidbox.h"
#include "yamllib.h"

#define YCONF_MAX_DEPTH	16
#define YCONF_MAX_NODES	100000

struct yparse {
	const struct yaml_lib	*yl;
	yaml_parser_t	 parser;
	size_t		 nnodes;
	char		*err;
	size_t		 errlen;
	const char	*file;
};

static void
yerr(struct yparse *p, size_t line, size_t col, const char *msg)
{
	snprintf(p->err, p->errlen, "%s:%zu:%zu: %s", p->file, line, col, msg);
}

static struct ynode *
ynode_new(struct yparse *p, enum ynode_type type, const yaml_event_t *ev)
{
	struct ynode *n;

	if (++p->nnodes > YCONF_MAX_NODES) {
		yerr(p, ev->start_mark.line + 1, ev->start_mark.column + 1,
		    "document too large");
		return NULL;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		yerr(p, 0, 0, strerror(errno));
		return NULL;
	}
	n->type = type;
	n->line = ev->start_mark.line + 1;
	n->col = ev->start_mark.column + 1;
	return n;
}

static int
ynode_append(struct yparse *p, struct ynode *parent, struct ynode *kid)
{
	struct ynode **k;

	k = reallocarray(parent->kids, parent->nkids + 1, sizeof(*k));
	if (k == NULL) {
		yerr(p, kid->line, kid->col, strerror(errno));
		return -1;
	}
	parent->kids = k;
	parent->kids[parent->nkids++] = kid;
	return 0;
}

/* Parse the node that starts with the next event; NULL on error or end. */
static struct ynode *
parse_node(struct yparse *p, int depth, int *end)
{
	yaml_event_t	 ev;
	struct ynode	*n = NULL, *kid;
	int		 kend;

	*end = 0;
	if (!p->yl->parser_parse(&p->parser, &ev)) {
		yerr(p, p->parser.problem_mark.line + 1,
		    p->parser.problem_mark.column + 1,
		    p->parser.problem ? p->parser.problem : "syntax error");
		return NULL;
	}
	switch (ev.type) {
	case YAML_SCALAR_EVENT:
		if ((n = ynode_new(p, YNODE_SCALAR, &ev)) == NULL)
			break;
		/*
		 * Not strndup(): a scalar may hold a NUL ("\0"), and len
		 * must stay the size of the copy (yconf_free() wipes len
		 * bytes). Regress for issue 5 (fuzz_config).
		 */
		n->len = ev.data.scalar.length;
		if ((n->value = malloc(n->len + 1)) != NULL) {
			memcpy(n->value, ev.data.scalar.value, n->len);
			n->value[n->len] = '\0';
		}
		n->plain = ev.data.scalar.plain_implicit &&
		    ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		if (n->value == NULL) {
			yerr(p, n->line, n->col, strerror(errno));
			yconf_free(n);
			n = NULL;
		}
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (depth >= YCONF_MAX_DEPTH) {
			yerr(p, ev.start_mark.line + 1,
			    ev.start_mark.column + 1, "nested too deeply");
			break;
		}
		n = ynode_new(p, ev.type == YAML_SEQUENCE_START_EVENT ?
		    YNODE_SEQ : YNODE_MAP, &ev);
		if (n == NULL)
			break;
		for (;;) {
			kid = parse_node(p, depth + 1, &kend);
			if (kend)
				break;
			/*
			 * Keys are scalars: every consumer compares them as
			 * strings. Regress for issue 5 (fuzz_config: a
			 * mapping as a key reached strcmp(NULL)).
			 */
			if (kid != NULL && n->type == YNODE_MAP &&
			    n->nkids % 2 == 0 && kid->type != YNODE_SCALAR) {
				yerr(p, kid->line, kid->col,
				    "a key must be a plain value");
				yconf_free(kid);
				kid = NULL;
			}
			if (kid == NULL || ynode_append(p, n, kid) == -1) {
				yconf_free(kid);
				yconf_free(n);
				n = NULL;
				break;
			}
		}
		if (n != NULL && n->type == YNODE_MAP && n->nkids % 2 != 0) {
			yerr(p, n->line, n->col, "mapping without a value");
			yconf_free(n);
			n = NULL;
		}
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		*end = 1;
		break;
	case YAML_ALIAS_EVENT:
		yerr(p, ev.start_mark.line + 1, ev.start_mark.column + 1,
		    "aliases are not supported");
		break;
	default:
		yerr(p, ev.start_mark.line + 1, ev.start_mark.column + 1,
		    "unexpected YAML event");
		break;
	}
	p->yl->event_delete(&ev);
	return n;
}

struct ynode *
yconf_load_buf(const char *buf, size_t len, const char *file, char *err,
    size_t errlen)
{
	struct yparse	 p;
	yaml_event_t	 ev;
	struct ynode	*root = NULL;
	char		 why[128];
	int		 end, done = 0;

	memset(&p, 0, sizeof(p));
	p.err = err;
	p.errlen = errlen;
	p.file = file;
	err[0] = '\0';
	if ((p.yl = yaml_lib(why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "%s: %s", file, why);
		return NULL;
	}
	if (!p.yl->parser_initialize(&p.parser)) {
		snprintf(err, errlen, "%s: cannot initialise YAML parser",
		    file);
		return NULL;
	}
	p.yl->parser_set_input_string(&p.parser, (const unsigned char *)buf,
	    len);
	while (!done) {
		if (!p.yl->parser_parse(&p.parser, &ev)) {
			yerr(&p, p.parser.problem_mark.line + 1,
			    p.parser.problem_mark.column + 1,
			    p.parser.problem ? p.parser.problem :
			    "syntax error");
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_START_EVENT:
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (root != NULL) {
				yerr(&p, ev.start_mark.line + 1,
				    ev.start_mark.column + 1,
				    "only one document is allowed");
				done = 2;
				break;
			}
			root = parse_node(&p, 0, &end);
			if (root == NULL)
				done = 2;
			break;
		case YAML_DOCUMENT_END_EVENT:
			break;
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		default:
			yerr(&p, ev.start_mark.line + 1,
			    ev.start_mark.column + 1, "unexpected YAML event");
			done = 2;
			break;
		}
		p.yl->event_delete(&ev);
	}
	p.yl->parser_delete(&p.parser);
	if (done != 1 || err[0] != '\0') {
		yconf_free(root);
		if (err[0] == '\0')
			snprintf(err, errlen, "%s: invalid YAML", file);
		return NULL;
	}
	if (root == NULL) {	/* an empty file is an empty mapping */
		if ((root = calloc(1, sizeof(*root))) == NULL) {
			snprintf(err, errlen, "%s: %s", file, strerror(errno));
			return NULL;
		}
		root->type = YNODE_MAP;
		root->line = root->col = 1;
	}
	return root;
}

struct ynode *
yconf_load_file(const char *file, char *err, size_t errlen)
{
	FILE		*f;
	char		*buf;
	size_t		 n;
	struct ynode	*root;

	if ((f = fopen(file, "re")) == NULL) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		return NULL;
	}
	if ((buf = malloc(YCONF_MAX_FILE + 1)) == NULL) {
		fclose(f);
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		return NULL;
	}
	n = fread(buf, 1, YCONF_MAX_FILE + 1, f);
	if (ferror(f) || n > YCONF_MAX_FILE) {
		snprintf(err, errlen, "%s: %s", file, ferror(f) ?
		    strerror(errno) : "file too large");
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	root = yconf_load_buf(buf, n, file, err, errlen);
	explicit_bzero(buf, n);	/* may hold a password */
	free(buf);
	return root;
}

void
yconf_free(struct ynode *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		yconf_free(n->kids[i]);
	free(n->kids);
	if (n->value != NULL) {
		explicit_bzero(n->value, n->len);
		free(n->value);
	}
	free(n);
}

struct ynode *
yconf_get(const struct ynode *map, const char *key)
{
	size_t i;

	if (map == NULL || map->type != YNODE_MAP)
		return NULL;
	for (i = 0; i + 1 < map->nkids; i += 2)
		if (map->kids[i]->type == YNODE_SCALAR &&
		    strcmp(map->kids[i]->value, key) == 0)
			return map->kids[i + 1];
	return NULL;
}

int
yconf_is_null(const struct ynode *n)
{
	return n->type == YNODE_SCALAR && n->plain &&
	    (n->len == 0 || strcmp(n->value, "~") == 0 ||
	    strcmp(n->value, "null") == 0 || strcmp(n->value, "Null") == 0 ||
	    strcmp(n->value, "NULL") == 0);
}

int
yconf_bool(const struct ynode *n, int *v)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes",
		"Yes", "YES", "on", "On", "ON" };
	static const char *const no[] = { "false", "False", "FALSE", "no",
		"No", "NO", "off", "Off", "OFF" };
	size_t i;

	if (n->type != YNODE_SCALAR || !n->plain)
		return -1;
	for (i = 0; i < nitems(yes); i++)
		if (strcmp(n->value, yes[i]) == 0) {
			*v = 1;
			return 0;
		}
	for (i = 0; i < nitems(no); i++)
		if (strcmp(n->value, no[i]) == 0) {
			*v = 0;
			return 0;
		}
	return -1;
}

int
yconf_double(const struct ynode *n, double min, double max, double *v)
{
	char	*end;
	double	 d;

	if (n->type != YNODE_SCALAR || n->len == 0)
		return -1;
	errno = 0;
	d = strtod(n->value, &end);
	if (errno != 0 || *end != '\0' || d != d || d < min || d > max)
		return -1;
	*v = d;
	return 0;
}
