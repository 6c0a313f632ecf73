/*
 * kombu's hostname matchers (kombu.matcher): "glob" is Python's
 * fnmatch.fnmatch() on POSIX, "pcre" is Python's re.match() done with PCRE2.
 *
 * The glob matcher reproduces fnmatch.translate() of Python 3.11 (the
 * interpreter kombu 5.2 runs on in Debian 12) step by step instead of
 * using fnmatch(3): glibc reads "[^b]" as a negated class, Python as the
 * two literals '^' and 'b'; Python drops reversed ranges ("[b-a]") and
 * reads '\' as an ordinary character. Names and patterns are compared as
 * Unicode code points, as Python compares str; bytes that are not valid
 * UTF-8 stand for themselves (like surrogateescape).
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "pidbox.h"

/*
 * libpcre2 is dlopen()ed by the first pcre pattern (only --matcher pcre
 * needs it): linked, every pidboxctl run would pay for loading and
 * relocating it. The pointers keep the library's own prototypes.
 */
#define LIBPCRE2	"libpcre2-8.so.0"
#define SYMNAME(f)	SYMNAME1(f)	/* the _8 name the macro gives */
#define SYMNAME1(f)	#f

static struct {
	int	 state;		/* 0 not tried, 1 loaded, -1 failed */
	__typeof__(pcre2_compile)			*compile;
	__typeof__(pcre2_get_error_message)		*error_message;
	__typeof__(pcre2_code_free)			*code_free;
	__typeof__(pcre2_match_data_create_from_pattern) *md_create;
	__typeof__(pcre2_match_data_free)		*md_free;
	__typeof__(pcre2_match_context_create)		*mc_create;
	__typeof__(pcre2_match_context_free)		*mc_free;
	__typeof__(pcre2_set_match_limit)		*match_limit;
	__typeof__(pcre2_set_depth_limit)		*depth_limit;
	__typeof__(pcre2_set_heap_limit)		*heap_limit;
	__typeof__(pcre2_match)				*match;
} pcre;

/* Load libpcre2 once; -1 with *errstr when it is not there. */
static int
pcre_load(const char **errstr)
{
	static const struct dl_sym syms[] = {
		{ SYMNAME(pcre2_compile), &pcre.compile },
		{ SYMNAME(pcre2_get_error_message), &pcre.error_message },
		{ SYMNAME(pcre2_code_free), &pcre.code_free },
		{ SYMNAME(pcre2_match_data_create_from_pattern),
		    &pcre.md_create },
		{ SYMNAME(pcre2_match_data_free), &pcre.md_free },
		{ SYMNAME(pcre2_match_context_create), &pcre.mc_create },
		{ SYMNAME(pcre2_match_context_free), &pcre.mc_free },
		{ SYMNAME(pcre2_set_match_limit), &pcre.match_limit },
		{ SYMNAME(pcre2_set_depth_limit), &pcre.depth_limit },
		{ SYMNAME(pcre2_set_heap_limit), &pcre.heap_limit },
		{ SYMNAME(pcre2_match), &pcre.match },
	};
	const char	*missing;

	if (pcre.state == 0) {
		pcre.state = -1;
		if (dl_load(LIBPCRE2, syms, nitems(syms), &missing) != NULL)
			pcre.state = 1;	/* kept open until exit */
	}
	if (pcre.state != 1) {
		*errstr = "pcre matcher unavailable: cannot load " LIBPCRE2;
		return -1;
	}
	return 0;
}

/* PCRE2 limits: a hostile pattern fails fast instead of hanging a node. */
#define PCRE_MATCH_LIMIT	100000
#define PCRE_DEPTH_LIMIT	1000
#define PCRE_HEAP_LIMIT		4096	/* KiB */

enum gtype {
	G_LIT,		/* one code point */
	G_ANY,		/* ? */
	G_STAR,		/* * (consecutive stars collapsed) */
	G_CLASS,	/* [...]: items[first .. first + nitems) */
};

struct grange {
	uint32_t	lo, hi;
};

struct gtok {
	enum gtype	type;
	int		negate;
	uint32_t	cp;
	uint32_t	first, nitems;
};

/* A compiled glob; one pattern code point makes at most one token/item. */
struct glob {
	struct gtok	tok[MAX_PATTERN];
	size_t		ntok;
	struct grange	item[MAX_PATTERN];
	size_t		nitem;
};

/* One element of the class body Python hands to re: a code point, escaped or not. */
struct gel {
	uint32_t	cp;
	int		esc;
};

/*
 * Decode the code point at s[0..len) (len > 0) into *cp; returns the bytes
 * used. Invalid UTF-8 yields the byte as a lone surrogate U+DC80..U+DCFF.
 */
static size_t
utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n;

	if ((n = utf8_decode(s, len, cp)) > 0)
		return n;
	*cp = 0xdc00 | s[0];
	return 1;
}

/*
 * Turn one Python class body into items, as fnmatch.translate() builds
 * the regex class and sre then reads it. p[i..j) is the text between '['
 * and the closing ']'. Returns -1 where Python's re would raise.
 */
static int
glob_class(struct glob *g, const uint32_t *p, size_t i, size_t j)
{
	struct gel	 el[MAX_PATTERN * 2];
	size_t		 cstart[MAX_PATTERN], cend[MAX_PATTERN];
	size_t		 nchunk, nel, k, c, x, pos;
	struct gtok	*t;
	uint32_t	 lo, hi;
	int		 hyphen = 0;

	for (k = i; k < j; k++)
		if (p[k] == '-')
			hyphen = 1;

	/* Chunks between range hyphens, as [start, end) spans of p. */
	nchunk = 0;
	if (!hyphen) {
		cstart[0] = i;
		cend[0] = j;
		nchunk = 1;
	} else {
		k = p[i] == '!' ? i + 2 : i + 1;
		for (;;) {
			while (k < j && p[k] != '-')
				k++;
			if (k >= j)
				break;
			cstart[nchunk] = i;
			cend[nchunk++] = k;
			i = k + 1;
			k += 3;
		}
		if (i < j) {
			cstart[nchunk] = i;
			cend[nchunk++] = j;
		} else		/* trailing '-' joins the last chunk */
			cend[nchunk - 1]++;
	}

	/* Flatten chunks into elements; the joining '-' are unescaped. */
	nel = 0;
	for (c = 0; c < nchunk; c++) {
		if (c > 0)
			el[nel++] = (struct gel){ .cp = '-', .esc = 0 };
		for (k = cstart[c]; k < cend[c]; k++)
			el[nel++] = (struct gel){ .cp = p[k],
			    .esc = p[k] == '\\' || (hyphen && p[k] == '-') };
	}

	/*
	 * "Remove empty ranges": right to left, when the char before a
	 * joining '-' is greater than the char after it, drop all three.
	 * In hyphen mode every literal '-' is escaped, so the unescaped
	 * '-' elements are exactly the joining hyphens.
	 */
	if (hyphen) {
		x = nel;
		while (x-- > 1) {
			if (el[x].esc || el[x].cp != '-' || x + 1 >= nel)
				continue;
			if (el[x - 1].cp > el[x + 1].cp) {
				memmove(&el[x - 1], &el[x + 2],
				    (nel - x - 2) * sizeof(el[0]));
				nel -= 3;
				x--;	/* next: left of the removed three */
			}
		}
	}

	if (g->ntok >= nitems(g->tok))
		return -1;
	t = &g->tok[g->ntok++];
	*t = (struct gtok){ .type = G_CLASS, .first = (uint32_t)g->nitem };

	if (nel == 0)		/* "(?!)": never matches */
		return 0;
	if (nel == 1 && !el[0].esc && el[0].cp == '!') {
		t->type = G_ANY;
		return 0;
	}
	pos = 0;
	if (!el[0].esc && el[0].cp == '!') {
		t->negate = 1;
		pos = 1;
	}
	/* sre: a ']' is literal while the set is still empty. */
	while (pos < nel) {
		if (!el[pos].esc && el[pos].cp == ']' && t->nitems > 0)
			return -1;	/* cannot happen: j is the first ']' */
		lo = hi = el[pos++].cp;
		if (pos + 1 < nel && !el[pos].esc && el[pos].cp == '-') {
			hi = el[pos + 1].cp;
			pos += 2;
			if (hi < lo)
				return -1;	/* re.error: bad character range */
		} else if (pos + 1 == nel && !el[pos].esc &&
		    el[pos].cp == '-') {
			/* "x-]": literal x and '-' */
			if (g->nitem + 1 >= nitems(g->item))
				return -1;
			g->item[g->nitem++] = (struct grange){ lo, lo };
			t->nitems++;
			lo = hi = '-';
			pos++;
		}
		if (g->nitem >= nitems(g->item))
			return -1;
		g->item[g->nitem++] = (struct grange){ lo, hi };
		t->nitems++;
	}
	return 0;
}

/* fnmatch.translate() into tokens; -1 when too long or re would raise. */
static int
glob_compile(struct glob *g, const char *pattern)
{
	uint32_t	 p[MAX_PATTERN];
	const unsigned char *s = (const unsigned char *)pattern;
	size_t		 len, n, i, j, off;

	len = strlen(pattern);
	if (len > MAX_PATTERN)
		return -1;
	for (n = 0, off = 0; off < len; n++)
		off += utf8_next(s + off, len - off, &p[n]);

	g->ntok = g->nitem = 0;
	for (i = 0; i < n;) {
		if (g->ntok >= nitems(g->tok))
			return -1;
		switch (p[i++]) {
		case '*':
			if (g->ntok == 0 || g->tok[g->ntok - 1].type != G_STAR)
				g->tok[g->ntok++] =
				    (struct gtok){ .type = G_STAR };
			break;
		case '?':
			g->tok[g->ntok++] = (struct gtok){ .type = G_ANY };
			break;
		case '[':
			j = i;
			if (j < n && p[j] == '!')
				j++;
			if (j < n && p[j] == ']')
				j++;
			while (j < n && p[j] != ']')
				j++;
			if (j >= n) {
				g->tok[g->ntok++] =
				    (struct gtok){ .type = G_LIT, .cp = '[' };
				break;
			}
			if (glob_class(g, p, i, j) == -1)
				return -1;
			i = j + 1;
			break;
		default:
			g->tok[g->ntok++] =
			    (struct gtok){ .type = G_LIT, .cp = p[i - 1] };
			break;
		}
	}
	return 0;
}

static int
gtok_match(const struct glob *g, const struct gtok *t, uint32_t c)
{
	size_t	 k;
	int	 in = 0;

	switch (t->type) {
	case G_LIT:
		return c == t->cp;
	case G_ANY:
		return 1;
	case G_CLASS:
		for (k = t->first; k < t->first + t->nitems; k++)
			if (c >= g->item[k].lo && c <= g->item[k].hi) {
				in = 1;
				break;
			}
		return in != t->negate;
	case G_STAR:
		break;
	}
	return 0;
}

/*
 * Match every token against the whole name. Each token but '*' takes
 * exactly one code point, so retrying from the last star is enough.
 */
static int
glob_exec(const struct glob *g, const char *name)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t		 len, off = 0, ti = 0, star_ti = 0, star_off = 0, adv;
	int		 have_star = 0;
	uint32_t	 c;

	len = strlen(name);
	while (off < len) {
		adv = utf8_next(s + off, len - off, &c);
		if (ti < g->ntok && g->tok[ti].type == G_STAR) {
			have_star = 1;
			star_ti = ++ti;
			star_off = off;
			continue;
		}
		if (ti < g->ntok && gtok_match(g, &g->tok[ti], c)) {
			ti++;
			off += adv;
			continue;
		}
		if (!have_star)
			return 0;
		/* let the last star eat one more code point */
		star_off += utf8_next(s + star_off, len - star_off, &c);
		off = star_off;
		ti = star_ti;
	}
	while (ti < g->ntok && g->tok[ti].type == G_STAR)
		ti++;
	return ti == g->ntok;
}

int
match_glob(const char *name, const char *pattern)
{
	struct glob	 g;

	if (name == NULL || pattern == NULL || glob_compile(&g, pattern) == -1)
		return 0;
	return glob_exec(&g, name);
}

/*
 * Compile pattern for Python re.match(): anchored at the start only,
 * Unicode-aware classes. Returns new code the caller frees with
 * pcre.code_free(); NULL with *errstr (a static buffer) when it does not
 * compile or libpcre2 cannot be loaded.
 */
static pcre2_code *
pcre_compile_pattern(const char *pattern, const char **errstr)
{
	static char	 msg[256];
	PCRE2_UCHAR	 ebuf[200];
	pcre2_code	*re;
	PCRE2_SIZE	 eoff;
	size_t		 len;
	int		 ecode;

	len = strlen(pattern);
	if (len > MAX_PATTERN) {
		*errstr = "pattern too long";
		return NULL;
	}
	if (pcre_load(errstr) == -1)
		return NULL;
	re = pcre.compile((PCRE2_SPTR)pattern, len,
	    PCRE2_ANCHORED | PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF,
	    &ecode, &eoff, NULL);
	if (re == NULL) {
		if (pcre.error_message(ecode, ebuf, sizeof(ebuf)) < 0)
			strlcpy((char *)ebuf, "unknown error", sizeof(ebuf));
		snprintf(msg, sizeof(msg), "bad pcre pattern: %s at offset %zu",
		    (const char *)ebuf, (size_t)eoff);
		*errstr = msg;
	}
	return re;
}

int
match_pcre(const char *name, const char *pattern, const char **errstr)
{
	pcre2_code		*re = NULL;
	pcre2_match_data	*md = NULL;
	pcre2_match_context	*mc = NULL;
	int			 rc, ret = -1;

	*errstr = NULL;
	if (name == NULL || pattern == NULL) {
		*errstr = "no name or pattern";
		return -1;
	}
	if ((re = pcre_compile_pattern(pattern, errstr)) == NULL)
		return -1;
	if ((md = pcre.md_create(re, NULL)) == NULL ||
	    (mc = pcre.mc_create(NULL)) == NULL) {
		*errstr = "out of memory";
		goto done;
	}
	pcre.match_limit(mc, PCRE_MATCH_LIMIT);
	pcre.depth_limit(mc, PCRE_DEPTH_LIMIT);
	pcre.heap_limit(mc, PCRE_HEAP_LIMIT);
	rc = pcre.match(re, (PCRE2_SPTR)name, strlen(name), 0, 0, md, mc);
	if (rc >= 0)
		ret = 1;
	else if (rc == PCRE2_ERROR_NOMATCH)
		ret = 0;
	else if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
	    rc == PCRE2_ERROR_HEAPLIMIT)
		*errstr = "pcre pattern too complex (match limit)";
	else
		*errstr = "pcre match failed";
done:
	pcre.mc_free(mc);	/* pcre2's free functions take NULL */
	pcre.md_free(md);
	pcre.code_free(re);
	return ret;
}

struct pcre2_real_code_8 *
regex_compile(const char *src, char *err, size_t errlen)
{
	pcre2_code	*re;
	PCRE2_UCHAR	 msg[128];
	PCRE2_SIZE	 off;
	const char	*errstr;
	int		 code;

	if (pcre_load(&errstr) == -1) {
		snprintf(err, errlen, "%s", errstr);
		return NULL;
	}
	re = pcre.compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_ANCHORED | PCRE2_ENDANCHORED |
	    PCRE2_DOLLAR_ENDONLY, &code, &off, NULL);
	if (re == NULL) {
		if (pcre.error_message(code, msg, sizeof(msg)) < 0)
			strlcpy((char *)msg, "unknown error", sizeof(msg));
		snprintf(err, errlen, "bad regex at offset %zu: %s",
		    (size_t)off, (const char *)msg);
	}
	return re;
}

void
regex_free(struct pcre2_real_code_8 *re)
{
	if (re != NULL)
		pcre.code_free(re);	/* loaded: re came from it */
}

int
regex_matches(struct pcre2_real_code_8 *re, const char *s, size_t len)
{
	pcre2_match_data	*md;
	pcre2_match_context	*mc;
	int			 rc = -1;

	md = pcre.md_create(re, NULL);
	mc = pcre.mc_create(NULL);
	if (md != NULL && mc != NULL) {
		/* the operator's pattern, but the string is the broker's */
		pcre.match_limit(mc, PCRE_MATCH_LIMIT);
		pcre.depth_limit(mc, PCRE_DEPTH_LIMIT);
		pcre.heap_limit(mc, PCRE_HEAP_LIMIT);
		rc = pcre.match(re, (PCRE2_SPTR)s, len, 0, 0, md, mc);
	}
	pcre.mc_free(mc);
	pcre.md_free(md);
	return rc >= 0;
}

static int
m_glob(const char *name, const char *pattern, const char **errstr)
{
	*errstr = NULL;
	return match_glob(name, pattern);
}

static int
c_glob(const char *pattern, const char **errstr)
{
	struct glob	 g;

	if (strlen(pattern) > MAX_PATTERN) {
		*errstr = "pattern too long";
		return -1;
	}
	if (glob_compile(&g, pattern) == -1) {
		*errstr = "bad glob pattern: bad character range";
		return -1;
	}
	return 0;
}

static int
c_pcre(const char *pattern, const char **errstr)
{
	pcre2_code	*re;

	if ((re = pcre_compile_pattern(pattern, errstr)) == NULL)
		return -1;
	pcre.code_free(re);
	return 0;
}

static const struct matcher {
	const char	*name;
	int		(*match)(const char *, const char *, const char **);
	int		(*check)(const char *, const char **);
} matchers[] = {
	{ "glob",	m_glob,		c_glob },
	{ "pcre",	match_pcre,	c_pcre },
};

/* The row for a matcher name (NULL = glob); NULL with *errstr if unknown. */
static const struct matcher *
matcher_find(const char *name, const char **errstr)
{
	static char	 msg[64 + MAX_NAME];
	size_t		 i;

	if (name == NULL)
		return &matchers[0];
	for (i = 0; i < nitems(matchers); i++)
		if (strcmp(matchers[i].name, name) == 0)
			return &matchers[i];
	/* kombu: MatcherNotInstalled('No matcher installed for <name>') */
	snprintf(msg, sizeof(msg), "No matcher installed for %s",
	    log_viss(name));
	*errstr = msg;
	return NULL;
}

int
match(const char *name, const char *pattern, const char *matcher,
    const char **errstr)
{
	const struct matcher *m;

	*errstr = NULL;
	if ((m = matcher_find(matcher, errstr)) == NULL)
		return -1;
	if (name == NULL || pattern == NULL) {
		*errstr = "no name or pattern";
		return -1;
	}
	if (m->check == c_glob && c_glob(pattern, errstr) == -1)
		return -1;
	return m->match(name, pattern, errstr);
}

int
match_check(const char *pattern, const char *matcher, const char **errstr)
{
	const struct matcher *m;

	*errstr = NULL;
	if ((m = matcher_find(matcher, errstr)) == NULL)
		return -1;
	if (pattern == NULL) {
		*errstr = "no pattern";
		return -1;
	}
	return m->check(pattern, errstr);
}

int
glob_escape(const char *s, char *buf, size_t len)
{
	size_t	 i = 0;
	int	 meta;

	for (; *s != '\0'; s++) {
		meta = strchr("*?[]\\", *s) != NULL;
		if (i + (size_t)meta + 2 > len)	/* [\\] char NUL */
			return -1;
		if (meta)
			buf[i++] = '\\';
		buf[i++] = *s;
	}
	if (len == 0)
		return -1;
	buf[i] = '\0';
	return 0;
}
