/*
 * Replay protection: every nonce of a signed request is remembered until
 * its expiry. Open addressing over a fixed table of twice the bound;
 * expired entries are purged by rebuilding when the table fills.
 *
 * With a file (nonce_cache_open()), the cache outlives the process: each
 * nonce accepted is appended with write(2) before the request runs, so a
 * crash of pidboxd loses nothing, and nonce_cache_sync() (at most a
 * second later, node.c's timer) fdatasync()s it against a crash of the
 * machine. The file starts with the time it began ("since"): a request
 * issued before that may have run while nobody wrote it down, and is
 * refused. It is rewritten with only the live nonces at open and after
 * max appends, so it stays within about twice the bound.
 *
 *   pidbox-nonces-v1 <since, epoch milliseconds>\n
 *   <nonce, 32 hex> <expiry, epoch seconds>\n ...
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pidboxd.h"

struct nonce_ent {
	char	nonce[SIGN_NONCELEN + 1];
	double	expires;
};

struct nonce_cache {
	struct nonce_ent	*tab;
	size_t			 cap;	/* slots, 2 * max */
	size_t			 max;
	size_t			 n;
	double			 since;	/* nonces known from this time */
	char			*path;	/* NULL: memory only */
	int			 fd;	/* O_APPEND, -1 when none */
	size_t			 appended; /* since the last rewrite */
	int			 dirty;	/* written, not yet synced */
};

#define NONCE_MAGIC	"pidbox-nonces-v1"
#define NONCE_RECLEN	(SIGN_NONCELEN + 1 + 20 + 1)

static int	append(struct nonce_cache *, const char *, double, double);

struct nonce_cache *
nonce_cache_new(size_t max)
{
	struct nonce_cache *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->max = max;
	c->cap = max * 2 + 1;
	c->fd = -1;
	if ((c->tab = calloc(c->cap, sizeof(*c->tab))) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

void
nonce_cache_free(struct nonce_cache *c)
{
	if (c == NULL)
		return;
	nonce_cache_sync(c);
	if (c->fd != -1)
		close(c->fd);
	free(c->path);
	free(c->tab);
	free(c);
}

static size_t
slot(const struct nonce_cache *c, const char *nonce)
{
	uint64_t	h = 1469598103934665603ULL;	/* FNV-1a */

	for (; *nonce != '\0'; nonce++)
		h = (h ^ (unsigned char)*nonce) * 1099511628211ULL;
	return (size_t)(h % c->cap);
}

static void
insert(struct nonce_cache *c, const char *nonce, double expires)
{
	size_t i;

	for (i = slot(c, nonce); c->tab[i].nonce[0] != '\0';
	    i = (i + 1) % c->cap)
		;
	strlcpy(c->tab[i].nonce, nonce, sizeof(c->tab[i].nonce));
	c->tab[i].expires = expires;
	c->n++;
}

/* Drop expired entries by rebuilding the table. */
static void
purge(struct nonce_cache *c, double now)
{
	struct nonce_ent	*old = c->tab;
	size_t			 i;

	if ((c->tab = calloc(c->cap, sizeof(*c->tab))) == NULL) {
		c->tab = old;
		return;
	}
	c->n = 0;
	for (i = 0; i < c->cap; i++)
		if (old[i].nonce[0] != '\0' && old[i].expires >= now)
			insert(c, old[i].nonce, old[i].expires);
	free(old);
}

int
nonce_cache_add(struct nonce_cache *c, const char *nonce, double expires,
    double now)
{
	size_t i;

	for (i = slot(c, nonce); c->tab[i].nonce[0] != '\0';
	    i = (i + 1) % c->cap)
		if (strcmp(c->tab[i].nonce, nonce) == 0 &&
		    c->tab[i].expires >= now)
			return 1;
	if (c->n >= c->max)
		purge(c, now);
	if (c->n >= c->max)
		return -1;
	insert(c, nonce, expires);
	if (c->fd != -1 && append(c, nonce, expires, now) == -1)
		return -2;
	return 0;
}

double
nonce_cache_since(const struct nonce_cache *c)
{
	return c->since;
}

void
nonce_cache_set_since(struct nonce_cache *c, double since)
{
	c->since = since;
}

int
nonce_cache_dirty(const struct nonce_cache *c)
{
	return c->dirty;
}

void
nonce_cache_sync(struct nonce_cache *c)
{
	if (c == NULL || c->fd == -1 || !c->dirty)
		return;
	if (fdatasync(c->fd) == -1)
		log_warn("replay cache %s: fdatasync", c->path);
	c->dirty = 0;
}

/* Write all of buf; -1 with errno. */
static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
record(char *buf, size_t len, const char *nonce, double expires)
{
	double e = ceil(expires);

	return snprintf(buf, len, "%s %" PRId64 "\n", nonce, (int64_t)e);
}

/*
 * Rewrite the file with the live nonces: a new file, synced, renamed over
 * the old one, the directory synced (atomic_write()); then append to it.
 */
static int
rewrite(struct nonce_cache *c, double now)
{
	char		*text = NULL, rec[NONCE_RECLEN + 8];
	const char	*e;
	FILE		*f;
	double		 since;
	size_t		 i, len;
	int		 n, rc;

	if ((f = open_memstream(&text, &len)) == NULL)
		return -1;
	since = floor(c->since * 1000);
	fprintf(f, "%s %" PRId64 "\n", NONCE_MAGIC, (int64_t)since);
	for (i = 0; i < c->cap; i++) {
		if (c->tab[i].nonce[0] == '\0' || c->tab[i].expires < now)
			continue;
		n = record(rec, sizeof(rec), c->tab[i].nonce,
		    c->tab[i].expires);
		fwrite(rec, 1, (size_t)n, f);
	}
	n = ferror(f);
	if (fclose(f) != 0 || n) {
		free(text);
		errno = ENOMEM;
		return -1;
	}
	rc = atomic_write(c->path, text, len, 0600, ATOMIC_SYNC, &e);
	free(text);
	if (rc == -1)
		return -1;
	if (c->fd != -1)
		close(c->fd);
	if ((c->fd = open(c->path, O_WRONLY | O_APPEND | O_CLOEXEC |
	    O_NOFOLLOW)) == -1)
		return -1;
	c->appended = 0;
	c->dirty = 0;
	return 0;
}

static int
append(struct nonce_cache *c, const char *nonce, double expires, double now)
{
	char	rec[NONCE_RECLEN + 8];
	int	n;

	if (c->appended >= c->max && rewrite(c, now) == -1)
		log_warn("replay cache %s: rewrite", c->path);
	n = record(rec, sizeof(rec), nonce, expires);
	if (write_all(c->fd, rec, (size_t)n) == -1) {
		log_warn("replay cache %s: write", c->path);
		return -1;
	}
	c->appended++;
	c->dirty = 1;
	return 0;
}

/* One record line: a nonce of hex digits and an expiry. */
static int
parse_record(const char *line, char *nonce, double *expires)
{
	const char	*errstr;
	long long	 e;
	size_t		 i;

	if (strlen(line) < SIGN_NONCELEN + 2 || line[SIGN_NONCELEN] != ' ')
		return -1;
	for (i = 0; i < SIGN_NONCELEN; i++)
		if (strchr("0123456789abcdefABCDEF", line[i]) == NULL ||
		    line[i] == '\0')
			return -1;
	e = strtonum(line + SIGN_NONCELEN + 1, 0, INT64_MAX / 2, &errstr);
	if (errstr != NULL)
		return -1;
	memcpy(nonce, line, SIGN_NONCELEN);
	nonce[SIGN_NONCELEN] = '\0';
	*expires = (double)e;
	return 0;
}

int
nonce_cache_open(struct nonce_cache *c, const char *path, double now,
    const char **errstr)
{
	char		 nonce[SIGN_NONCELEN + 1], *line = NULL, *end;
	const char	*why = NULL;
	FILE		*f;
	size_t		 cap = 0, bad = 0, lines = 0;
	ssize_t		 len;
	double		 since = 0, expires;
	int		 fd;

	if ((c->path = strdup(path)) == NULL) {
		*errstr = strerror(errno);
		return -1;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1 && errno != ENOENT) {
		*errstr = strerror(errno);
		return -1;
	}
	if (fd != -1 && (f = fdopen(fd, "r")) == NULL) {
		*errstr = strerror(errno);
		close(fd);
		return -1;
	}
	if (fd == -1)
		why = "no replay cache yet";
	else {
		if ((len = getline(&line, &cap, f)) <= 0 ||
		    strncmp(line, NONCE_MAGIC " ", sizeof(NONCE_MAGIC)) != 0)
			why = "replay cache file unreadable";
		else {
			since = strtod(line + sizeof(NONCE_MAGIC), &end) /
			    1000;
			if (end == line + sizeof(NONCE_MAGIC) || since <= 0 ||
			    since > now + 86400)
				why = "replay cache file unreadable";
		}
		/* A line cut by a crash is skipped, the rest kept. */
		while (why == NULL && lines < c->max * 4 &&
		    (len = getline(&line, &cap, f)) > 0) {
			lines++;
			if (line[len - 1] == '\n')
				line[len - 1] = '\0';
			else
				bad++;
			if (parse_record(line, nonce, &expires) == -1) {
				bad++;
				continue;
			}
			if (expires >= now && c->n < c->max)
				insert(c, nonce, expires);
		}
		fclose(f);
	}
	free(line);
	if (why != NULL) {
		/* Nothing known: only what is issued from now on is safe. */
		log_warnx("%s: %s; refusing signed requests issued before "
		    "now", path, why);
		since = now;
	} else if (bad > 0)
		log_warnx("%s: %zu damaged record(s) skipped", path, bad);
	c->since = since;
	if (rewrite(c, now) == -1) {
		*errstr = strerror(errno);
		return -1;
	}
	return 0;
}
