/*
 * The audit trail: one JSON line per request received, to a file opened
 * O_APPEND (reopened on SIGHUP for log rotation) or to syslog.
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

static const char *const default_mask[] = {
	"password", "passwd", "secret", "token", "api_key", "apikey",
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

void
audit_write(json_object *rec)
{
	const char	*s;
	char		*line;
	size_t		 len;
	ssize_t		 n;

	if (au.conf == NULL || (au.fd == -1 && !au.conf->syslog))
		return;
	s = json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (au.conf->syslog)
		syslog(LOG_AUTHPRIV | LOG_NOTICE, "audit: %s", s);
	if (au.fd == -1)
		return;
	len = strlen(s);
	if ((line = malloc(len + 2)) == NULL)
		return;
	memcpy(line, s, len);
	line[len++] = '\n';
	/* one write(2) per line: O_APPEND keeps lines whole */
	n = write(au.fd, line, len);
	if (n != (ssize_t)len)
		log_warn("audit: write %s", au.conf->file);
	free(line);
}

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
	if (a != NULL && a->mask != NULL) {
		for (i = 0; i < a->nmask; i++)
			if (strcasecmp(a->mask[i], key) == 0)
				return 1;
		return 0;
	}
	for (i = 0; i < nitems(default_mask); i++)
		if (strcasecmp(default_mask[i], key) == 0)
			return 1;
	return 0;
}

void
audit_mask(const struct audit_conf *a, const struct method_conf *m,
    json_object *args)
{
	if (args == NULL || !json_object_is_type(args, json_type_object))
		return;
	{
		json_object_object_foreach(args, key, val) {
			(void)val;
			if (masked(a, m, key))
				json_object_object_add(args, key,
				    json_object_new_string("***"));
		}
	}
}
