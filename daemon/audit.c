/*
 * The audit trail: one JSON line per request received, to a file opened
 * O_APPEND (reopened on SIGHUP for log rotation) or to syslog. Whoever
 * can publish chooses the arguments, so what is written of them is cut
 * to the AUDIT_MAX_* limits and a line never outgrows AUDIT_MAX_LINE.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "pidboxd.h"

static struct {
	const struct audit_conf	*conf;
	int			 fd;
} au = { NULL, -1 };

/* Masked wherever they appear in a name (db_password, api_key, ...). */
static const char *const default_mask[] = {
	"password", "passwd", "secret", "token", "key",
};

int
audit_open(const struct audit_conf *a)
{
	int fd;

	au.conf = a;
	if (a->file == NULL)
		return 0;
	fd = open(a->file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	if (au.fd != -1)
		close(au.fd);
	au.fd = fd;
	return 0;
}

void
audit_reopen(void)
{
	if (au.conf == NULL || au.conf->file == NULL)
		return;
	if (audit_open(au.conf) == -1)
		log_warn("audit: reopen %s", au.conf->file);
}

void
audit_close(void)
{
	if (au.fd != -1)
		close(au.fd);
	au.fd = -1;
	au.conf = NULL;
}

int
audit_write(json_object *rec)
{
	json_object	*args, *size, *marker;
	const char	*s;
	char		*line, cut[64];
	size_t		 len, done;
	ssize_t		 n;
	off_t		 end;

	if (au.conf == NULL || (au.fd == -1 && !au.conf->syslog))
		return 0;
	s = json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(s);
	/*
	 * Over the cap with its arguments already cut value by value (many
	 * values, or escaping): keep the line, drop the arguments.
	 */
	if (len > AUDIT_MAX_LINE &&
	    json_object_object_get_ex(rec, "arguments", &args) &&
	    args != NULL) {
		json_object_object_get_ex(rec, "arguments_size", &size);
		snprintf(cut, sizeof(cut), "[cut %lld bytes]",
		    (long long)json_object_get_int64(size));
		marker = json_object_new_object();
		json_object_object_add(marker, "...",
		    json_object_new_string(cut));
		json_object_object_add(rec, "arguments", marker);
		s = json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN |
		    JSON_C_TO_STRING_NOSLASHESCAPE);
		len = strlen(s);
	}
	if (au.conf->syslog)
		syslog(LOG_AUTHPRIV | LOG_NOTICE, "audit: %s", s);
	if (au.fd == -1)
		return 0;
	if ((line = malloc(len + 1)) == NULL) {
		log_warn("audit: line lost");
		return -1;
	}
	memcpy(line, s, len);
	line[len++] = '\n';
	/* one write(2) per line (O_APPEND keeps lines whole), unless short */
	for (done = 0; done < len; done += (size_t)n)
		if ((n = write(au.fd, line + done, len - done)) <= 0)
			break;
	free(line);
	if (done == len)
		return 0;
	if (n == 0)
		errno = ENOSPC;
	log_warn("audit: write %s: line lost", au.conf->file);
	/*
	 * A full disk takes part of a line: cut it off again, or the next
	 * line would be glued to it and neither would parse.
	 */
	if (done > 0 && (end = lseek(au.fd, 0, SEEK_END)) != -1 &&
	    end >= (off_t)done && ftruncate(au.fd, end - (off_t)done) == -1)
		log_warn("audit: cannot remove a partial line from %s",
		    au.conf->file);
	return -1;
}

/*
 * Names whose values are never written: a case-insensitive substring of
 * the built-in or configured ones, or exactly a secret argument of m.
 */
static int
masked(const struct audit_conf *a, const struct method_conf *m,
    const char *key)
{
	size_t i;

	if (m != NULL)
		for (i = 0; i < m->nargs; i++)
			if (m->args[i].secret &&
			    strcmp(m->args[i].name, key) == 0)
				return 1;
	for (i = 0; i < nitems(default_mask); i++)
		if (strcasestr(key, default_mask[i]) != NULL)
			return 1;
	if (a != NULL)
		for (i = 0; i < a->nmask; i++)
			if (a->mask[i][0] != '\0' &&
			    strcasestr(key, a->mask[i]) != NULL)
				return 1;
	return 0;
}

/* s cut to AUDIT_MAX_STRING bytes (not inside a UTF-8 character). */
static json_object *
cut_string(const char *s, size_t len)
{
	char	buf[AUDIT_MAX_STRING + 64];
	size_t	keep, i;
	int	m;

	if (len <= AUDIT_MAX_STRING)
		return json_object_new_string_len(s, (int)len);
	keep = AUDIT_MAX_STRING;
	for (i = 0; i < 3 && keep > 0 &&
	    ((unsigned char)s[keep] & 0xc0) == 0x80; i++)
		keep--;
	memcpy(buf, s, keep);
	m = snprintf(buf + keep, sizeof(buf) - keep, "...[cut %zu bytes]",
	    len - keep);
	return json_object_new_string_len(buf, (int)keep + m);
}

struct walk {
	const struct audit_conf		*a;
	const struct method_conf	*m;
	size_t				 values;	/* left to copy */
};

static json_object *
bound(struct walk *w, json_object *v, int depth)
{
	json_object	*o, *k;
	char		 cut[64];
	size_t		 i, len, dropped = 0;

	switch (json_object_get_type(v)) {
	case json_type_null:
		return NULL;
	case json_type_string:
		return cut_string(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
	case json_type_object:
		if (depth >= AUDIT_MAX_DEPTH)
			return json_object_new_string("[cut: nested too deep]");
		o = json_object_new_object();
		i = 0;
		{
			json_object_object_foreach(v, key, val) {
				if (i++ >= AUDIT_MAX_ITEMS || w->values == 0) {
					dropped++;
					continue;
				}
				w->values--;
				/* the name is cut by the same rule */
				k = cut_string(key, strlen(key));
				json_object_object_add(o,
				    json_object_get_string(k),
				    masked(w->a, w->m, key) ?
				    json_object_new_string("***") :
				    bound(w, val, depth + 1));
				json_object_put(k);
			}
		}
		if (dropped > 0) {
			snprintf(cut, sizeof(cut), "[cut %zu members]",
			    dropped);
			json_object_object_add(o, "...",
			    json_object_new_string(cut));
		}
		return o;
	case json_type_array:
		if (depth >= AUDIT_MAX_DEPTH)
			return json_object_new_string("[cut: nested too deep]");
		o = json_object_new_array();
		len = json_object_array_length(v);
		for (i = 0; i < len; i++) {
			if (i >= AUDIT_MAX_ITEMS || w->values == 0) {
				dropped = len - i;
				break;
			}
			w->values--;
			json_object_array_add(o, bound(w,
			    json_object_array_get_idx(v, i), depth + 1));
		}
		if (dropped > 0) {
			snprintf(cut, sizeof(cut), "[cut %zu items]", dropped);
			json_object_array_add(o, json_object_new_string(cut));
		}
		return o;
	default:	/* boolean, int, double: small */
		return json_object_get(v);
	}
}

json_object *
audit_args(const struct audit_conf *a, const struct method_conf *m,
    json_object *args)
{
	struct walk w = { a, m, AUDIT_MAX_VALUES };

	return bound(&w, args, 0);
}
