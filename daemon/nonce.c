/*
 * Replay protection: every nonce of a signed request is remembered until
 * its expiry. Open addressing over a fixed table of twice the bound;
 * expired entries are purged by rebuilding when the table fills.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
};

struct nonce_cache *
nonce_cache_new(size_t max)
{
	struct nonce_cache *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->max = max;
	c->cap = max * 2 + 1;
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
	return 0;
}
