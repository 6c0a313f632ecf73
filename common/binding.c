/*
 * kombu's bindings over Redis (spec section 1): _kombu.binding.<exchange>
 * set members "rk SEP pattern SEP queue", and the mailbox (exchange)
 * types. The names they hold come from names.c.
 */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include "pidbox.h"

static const struct {
	const char		*name;
	enum mailbox_type	 type;
} mailbox_types[] = {
	{ "fanout",	MAILBOX_FANOUT },
	{ "direct",	MAILBOX_DIRECT },
	{ "topic",	MAILBOX_TOPIC },
};

int
binding_member(const char *rk, const char *pattern, const char *queue,
    char *buf, size_t len)
{
	int	 n;

	if (rk == NULL || pattern == NULL || queue == NULL ||
	    strstr(rk, KOMBU_SEP) != NULL ||
	    strstr(pattern, KOMBU_SEP) != NULL ||
	    strstr(queue, KOMBU_SEP) != NULL || queue[0] == '\0')
		return -1;
	n = snprintf(buf, len, "%s" KOMBU_SEP "%s" KOMBU_SEP "%s", rk, pattern,
	    queue);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}

int
binding_parse(const char *member, size_t len, struct binding *b)
{
	const char	*f[3], *end, *p, *sep;
	size_t		 flen[3], nf = 0;

	memset(b, 0, sizeof(*b));
	if (member == NULL || len == 0 || memchr(member, '\0', len) != NULL)
		return -1;
	end = member + len;
	/* Python's str.split(SEP): left to right, non-overlapping. */
	for (p = member;; p = sep + KOMBU_SEP_LEN) {
		sep = memmem(p, end - p, KOMBU_SEP, KOMBU_SEP_LEN);
		if (nf == 3)
			return -1;	/* a fourth field */
		f[nf] = p;
		flen[nf++] = (sep != NULL ? sep : end) - p;
		if (sep == NULL)
			break;
	}
	if (nf != 3)
		return -1;
	b->rk = f[0];
	b->rklen = flen[0];
	b->pattern = f[1];
	b->patternlen = flen[1];
	b->queue = f[2];
	b->queuelen = flen[2];
	return 0;
}

int
mailbox_type_parse(const char *s, enum mailbox_type *t)
{
	size_t	 i;

	if (s == NULL)
		return -1;
	for (i = 0; i < nitems(mailbox_types); i++)
		if (strcmp(mailbox_types[i].name, s) == 0) {
			*t = mailbox_types[i].type;
			return 0;
		}
	return -1;
}

const char *
mailbox_type_name(enum mailbox_type t)
{
	size_t	 i;

	for (i = 0; i < nitems(mailbox_types); i++)
		if (mailbox_types[i].type == t)
			return mailbox_types[i].name;
	return "unknown";
}
