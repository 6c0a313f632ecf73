/*
 * kombu's entity names for a mailbox (spec section 1): the exchange and
 * reply exchange, a node's queue and the priority sub-lists of a queue,
 * the binding keys and the fanout pub/sub channel. global_keyprefix goes
 * in front of every key and channel, never into a set member.
 */
#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pidbox.h"

#define DEFAULT_FANOUT_PREFIX	"/{db}."
#define BINDING_PREFIX		"_kombu.binding."
#define TOPIC_NODE_PATTERN	"^$"	/* kombu's regex for routing key "" */

static const char *const priority_suffix[4] = {
	"", KOMBU_SEP "3", KOMBU_SEP "6", KOMBU_SEP "9",
};

static int	 fmt(char *, size_t, const char *, ...) __printflike(3, 4);

/* snprintf into buf[len]; -1 on truncation. */
static int
fmt(char *buf, size_t len, const char *f, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, f);
	n = vsnprintf(buf, len, f, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return 0;
}
enum { N_OK, N_EMPTY, N_LONG, N_SEP };
enum { W_NS, W_HOST };

static const char *const name_errors[2][4] = {
	[W_NS] = { NULL, "namespace empty", "namespace too long",
	    "namespace contains the kombu separator" },
	[W_HOST] = { NULL, "hostname empty", "hostname too long",
	    "hostname contains the kombu separator" },
};

/* A name kombu could route: non-empty, no separator, <= MAX_NAME. */
static int
check_name(const char *s)
{
	size_t	 len;

	if (s == NULL || (len = strlen(s)) == 0)
		return N_EMPTY;
	if (len > MAX_NAME)
		return N_LONG;
	if (strstr(s, KOMBU_SEP) != NULL)
		return N_SEP;
	return N_OK;
}

/*
 * Format prefix as kombu's str.format(db=N) does: "{db}" becomes the
 * database number, "{{" and "}}" a literal brace (a sentinel:// URL
 * escapes its prefix so, as kombu < 5.4, "/{db}." stays literal).
 */
static int
fanout_prefix_subst(const char *prefix, int db, char *buf, size_t len)
{
	const char	*p;
	size_t		 o = 0;
	int		 w;

	for (p = prefix; *p != '\0';) {
		if (strncmp(p, "{db}", 4) == 0) {
			w = snprintf(buf + o, len - o, "%d", db);
			if (w < 0 || (size_t)w >= len - o)
				return -1;
			o += w;
			p += 4;
			continue;
		}
		if (o + 1 >= len)
			return -1;
		if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}'))
			p++;
		buf[o++] = *p++;
	}
	if (o >= len)
		return -1;
	buf[o] = '\0';
	return 0;
}

int
names_init(struct names *n, const char *ns, const char *hostname,
    enum mailbox_type type, int db, const char *keyprefix,
    const char *fanout_prefix, const char **errstr)
{
	char		 prefix[MAX_KEY];
	int		 len, why;

	memset(n, 0, sizeof(*n));
	*errstr = NULL;
	if ((why = check_name(ns)) != N_OK) {
		*errstr = name_errors[W_NS][why];
		return -1;
	}
	if (hostname != NULL && (why = check_name(hostname)) != N_OK) {
		*errstr = name_errors[W_HOST][why];
		return -1;
	}
	if (keyprefix == NULL)
		keyprefix = "";
	if (strlen(keyprefix) > MAX_NAME ||
	    strstr(keyprefix, KOMBU_SEP) != NULL) {
		*errstr = "bad global_keyprefix (too long or contains the "
		    "kombu separator)";
		return -1;
	}
	if (db < 0) {
		*errstr = "bad db";
		return -1;
	}
	if (fanout_prefix == NULL)
		fanout_prefix = DEFAULT_FANOUT_PREFIX;
	if (strlen(fanout_prefix) > MAX_NAME ||
	    fanout_prefix_subst(fanout_prefix, db, prefix, sizeof(prefix))
	    == -1) {
		*errstr = "fanout_prefix too long";
		return -1;
	}

	strlcpy(n->keyprefix, keyprefix, sizeof(n->keyprefix));
	/* All parts are <= MAX_NAME, so nothing below can truncate. */
	if (fmt(n->exchange, sizeof(n->exchange), "%s.pidbox", ns) == -1 ||
	    fmt(n->reply_exchange, sizeof(n->reply_exchange),
	    "reply.%s.pidbox", ns) == -1 ||
	    fmt(n->node_binding_key, sizeof(n->node_binding_key),
	    "%s" BINDING_PREFIX "%s", keyprefix, n->exchange) == -1 ||
	    fmt(n->reply_binding_key, sizeof(n->reply_binding_key),
	    "%s" BINDING_PREFIX "%s", keyprefix, n->reply_exchange) == -1 ||
	    fmt(n->fanout_base, sizeof(n->fanout_base), "%s%s", keyprefix,
	    prefix) == -1 ||
	    fmt(n->fanout_channel, sizeof(n->fanout_channel), "%s%s",
	    n->fanout_base, n->exchange) == -1)
		goto toolong;
	if (hostname != NULL) {
		if (fmt(n->node_queue, sizeof(n->node_queue), "%s.%s",
		    hostname, n->exchange) == -1 ||
		    names_queue_keys(n, n->node_queue,
		    n->node_queue_keys) == -1)
			goto toolong;
		len = binding_member("", type == MAILBOX_TOPIC ?
		    TOPIC_NODE_PATTERN : "", n->node_queue, n->node_member,
		    sizeof(n->node_member));
		if (len == -1)
			goto toolong;
		n->node_member_len = (size_t)len;
	}
	return 0;
toolong:
	memset(n, 0, sizeof(*n));
	*errstr = "name too long";
	return -1;
}

int
names_fanout_also(struct names *n, int db, const char *prefix,
    const char **errstr)
{
	char	 p[MAX_KEY];

	*errstr = NULL;
	n->fanout_channel2[0] = '\0';
	if (strlen(prefix) > MAX_NAME ||
	    fanout_prefix_subst(prefix, db, p, sizeof(p)) == -1 ||
	    fmt(n->fanout_channel2, sizeof(n->fanout_channel2), "%s%s%s",
	    n->keyprefix, p, n->exchange) == -1) {
		n->fanout_channel2[0] = '\0';
		*errstr = "fanout_prefix too long";
		return -1;
	}
	if (strcmp(n->fanout_channel2, n->fanout_channel) == 0)
		n->fanout_channel2[0] = '\0';
	return 0;
}

int
names_reply_queue(const struct names *n, const char *oid, char *buf,
    size_t len)
{
	if (check_name(oid) != N_OK)
		return -1;
	return fmt(buf, len, "%s.%s", oid, n->reply_exchange);
}

int
names_queue_keys(const struct names *n, const char *queue,
    char keys[4][MAX_KEY])
{
	size_t	 i;

	if (queue == NULL || queue[0] == '\0' ||
	    strstr(queue, KOMBU_SEP) != NULL)
		return -1;
	for (i = 0; i < nitems(priority_suffix); i++)
		if (fmt(keys[i], MAX_KEY, "%s%s%s", n->keyprefix, queue,
		    priority_suffix[i]) == -1)
			return -1;
	return 0;
}

