/*
 * Which replies a node really sent (common/sign.c). A pidboxd signs each
 * reply with its own key; pidboxctl trusts that key when a fleet key
 * certified it for that node name (PIDBOX_FLEET_KEYS), or when it is the
 * key pinned for the node (PIDBOX_KNOWN_NODES, SSH known_hosts style: a
 * node's first key is recorded, a changed key is FORGED). Without either
 * nothing is checked and libcrypto is never loaded: every reply is
 * unverified, as a kombu or Celery node's always is.
 */
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <json-c/json.h>

#include "pidbox.h"
#include "pidboxctl.h"

#define TRUST_MAX_FILE	(1024 * 1024)

struct trust {
	struct sign_edkey	*fleet;
	size_t			 nfleet;
	const char		*known_file;	/* NULL: no pinning */
	struct sign_edkey	*known;		/* identity: the node */
	size_t			 nknown;
};

/* Every key line of file into *keys; -1 with *msg. */
static int
load_keys(const char *file, struct sign_edkey **keys, size_t *n,
    int missing_ok, char **msg)
{
	struct sign_edkey k, *nk;
	const char	*e;
	char		*text, *line, *save = NULL;
	size_t		 len, ln = 0;

	if ((text = sign_read_public(file, TRUST_MAX_FILE, &len, &e)) ==
	    NULL) {
		if (missing_ok && errno == ENOENT)
			return 0;
		if (asprintf(msg, "%s: %s", file, e) == -1)
			err(EX_OSERR, NULL);
		return -1;
	}
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		ln++;
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (sign_ed_parse(&k, line, strlen(line), SIGN_ED_PUBLIC,
		    &e) == -1) {
			if (asprintf(msg, "%s:%zu: %s", file, ln, e) == -1)
				err(EX_OSERR, NULL);
			free(text);
			return -1;
		}
		if ((nk = reallocarray(*keys, *n + 1, sizeof(**keys))) ==
		    NULL)
			err(EX_OSERR, NULL);
		*keys = nk;
		(*keys)[(*n)++] = k;
	}
	free(text);
	return 0;
}

static void
trust_free(struct trust *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nfleet; i++)
		sign_ed_clear(&t->fleet[i]);
	for (i = 0; i < t->nknown; i++)
		sign_ed_clear(&t->known[i]);
	free(t->fleet);
	free(t->known);
	free(t);
}

struct trust *
trust_load(char **msg)
{
	struct trust	*t;
	const char	*fleet, *known;

	*msg = NULL;
	fleet = getenv("PIDBOX_FLEET_KEYS");
	known = getenv("PIDBOX_KNOWN_NODES");
	if ((fleet == NULL || fleet[0] == '\0') &&
	    (known == NULL || known[0] == '\0'))
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		err(EX_OSERR, NULL);
	if (fleet != NULL && fleet[0] != '\0' &&
	    load_keys(fleet, &t->fleet, &t->nfleet, 0, msg) == -1)
		goto fail;
	if (known != NULL && known[0] != '\0') {
		t->known_file = known;
		if (load_keys(known, &t->known, &t->nknown, 1, msg) == -1)
			goto fail;
	}
	return t;
fail:
	trust_free(t);
	return NULL;
}

static const struct sign_edkey *
pinned(const struct trust *t, const char *node)
{
	size_t i;

	for (i = 0; i < t->nknown; i++)
		if (strcmp(t->known[i].identity, node) == 0)
			return &t->known[i];
	return NULL;
}

/* The fleet certified key for node: 1 yes, 0 no certificate, -1 bad. */
static int
certified(const struct trust *t, const struct envelope *env,
    const char *node, const unsigned char *key)
{
	struct sign_edkey	 nk;
	unsigned char		 sig[SIGN_ED_SIGLEN];
	const char		*cert, *by;
	char			 head[SIGN_ED_HEADMAX];
	size_t			 i;
	int			 hl, known = 0;

	if ((cert = envelope_header_string(env, SIGN_HDR_NODE_CERT)) == NULL)
		return 0;
	by = envelope_header_string(env, SIGN_HDR_NODE_CERT_BY);
	if (by == NULL || sign_ed_sig_decode(cert, sig) == -1 ||
	    (hl = sign_ed_cert_head(head, sizeof(head), node, key)) == -1)
		return -1;
	memset(&nk, 0, sizeof(nk));
	for (i = 0; i < t->nfleet; i++) {
		if (strcmp(t->fleet[i].identity, by) != 0)
			continue;
		known = 1;
		if (sign_ed_verify(&t->fleet[i], head, (size_t)hl, NULL, 0,
		    sig) == 1)
			return 1;
	}
	return known || t->nfleet > 0 ? -1 : 0;
}

/* Record node's first key; -1 with errno. */
static int
pin(struct trust *t, const struct sign_edkey *k)
{
	struct sign_edkey	*nk;
	char			*line;
	size_t			 len;
	int			 fd, rc = 0;

	if ((line = sign_ed_format(k, 0)) == NULL)
		return -1;
	len = strlen(line);
	if ((fd = open(t->known_file, O_WRONLY | O_APPEND | O_CREAT |
	    O_CLOEXEC, 0644)) == -1 || write(fd, line, len) !=
	    (ssize_t)len)
		rc = -1;
	if (fd != -1)
		close(fd);
	free(line);
	if (rc == 0) {
		if ((nk = reallocarray(t->known, t->nknown + 1,
		    sizeof(*nk))) == NULL)
			err(EX_OSERR, NULL);
		t->known = nk;
		t->known[t->nknown] = *k;
		t->known[t->nknown++].pkey = NULL;	/* not needed again */
	}
	return rc;
}

enum trust_mark
trust_check(struct trust *t, const struct envelope *env,
    const char *exchange, const char *node, const char **why)
{
	const struct sign_edkey	*pk;
	struct sign_edkey	 k;
	unsigned char		 key[SIGN_ED_KEYLEN], sig[SIGN_ED_SIGLEN];
	const char		*ks, *ss, *ticket;
	char			 head[SIGN_ED_HEADMAX];
	int64_t			 clk;
	int			 hl, c;

	*why = NULL;
	if (t == NULL) {
		*why = "no trust anchor (PIDBOX_FLEET_KEYS, "
		    "PIDBOX_KNOWN_NODES)";
		return TRUST_UNVERIFIED;
	}
	pk = sign_valid_identity(node) == 0 ? pinned(t, node) : NULL;
	ks = envelope_header_string(env, SIGN_HDR_NODE_KEY);
	ss = envelope_header_string(env, SIGN_HDR_REPLY_SIG);
	if (ks == NULL && ss == NULL) {
		if (pk != NULL) {
			*why = "unsigned reply from a node with a pinned key";
			return TRUST_FORGED;
		}
		*why = "unsigned reply (a kombu or Celery node?)";
		return TRUST_UNVERIFIED;
	}
	if (ks == NULL || ss == NULL || sign_ed_key_decode(ks, key) == -1 ||
	    sign_ed_sig_decode(ss, sig) == -1) {
		*why = "malformed reply signature headers";
		return TRUST_FORGED;
	}
	ticket = envelope_ticket(env);
	if (envelope_header_int(env, "clock", &clk) != 0) {
		*why = "signed reply without a clock";
		return TRUST_FORGED;
	}
	memset(&k, 0, sizeof(k));
	if (strchr(node, '\n') != NULL ||
	    (hl = sign_ed_reply_head(head, sizeof(head), exchange, node,
	    ticket != NULL ? ticket : "", clk)) == -1) {
		*why = "node name cannot be signed";
		return TRUST_FORGED;
	}
	if (sign_ed_from_pub(&k, key) == -1) {
		*why = "bad node key";
		return TRUST_FORGED;
	}
	if (sign_ed_verify(&k, head, (size_t)hl, env->body, env->bodylen,
	    sig) != 1) {
		sign_ed_clear(&k);
		*why = "the signature does not match the reply";
		return TRUST_FORGED;
	}
	if ((c = certified(t, env, node, key)) == 1) {
		sign_ed_clear(&k);
		*why = "key certified by the fleet key";
		return TRUST_VERIFIED;
	}
	if (c == -1) {
		sign_ed_clear(&k);
		*why = "the node certificate is not the fleet's";
		return TRUST_FORGED;
	}
	if (pk != NULL) {
		c = memcmp(pk->pub, key, SIGN_ED_KEYLEN) == 0;
		sign_ed_clear(&k);
		*why = c ? "pinned key" : "NODE KEY CHANGED: not the key "
		    "pinned in PIDBOX_KNOWN_NODES";
		return c ? TRUST_VERIFIED : TRUST_FORGED;
	}
	if (t->known_file == NULL || sign_valid_identity(node) == -1) {
		sign_ed_clear(&k);
		*why = "signed, but the key is not certified";
		return TRUST_UNVERIFIED;
	}
	strlcpy(k.identity, node, sizeof(k.identity));
	if (pin(t, &k) == -1)
		*why = "first use; cannot record the key";
	else
		*why = "first use; key recorded in PIDBOX_KNOWN_NODES";
	sign_ed_clear(&k);
	return TRUST_UNVERIFIED;
}

const char *
trust_name(enum trust_mark m)
{
	switch (m) {
	case TRUST_VERIFIED:
		return "verified";
	case TRUST_FORGED:
		return "FORGED";
	default:
		return "unverified";
	}
}
