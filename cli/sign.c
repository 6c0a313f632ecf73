/*
 * Signing of requests (common/sign.c): with a key file (-i, else
 * PIDBOX_KEY_FILE), every request carries x-pidbox-identity, -nonce,
 * -issued, -expires and -signature headers (and x-pidbox-sigalg: ed25519
 * for an Ed25519 key), which kombu and Celery nodes ignore and pidboxd
 * checks. An Ed25519 key made by pidboxctl keygen names its identity; any
 * other file is an HMAC secret shared with the nodes.
 */
#include <sys/types.h>

#include <err.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <json-c/json.h>

#include "pidbox.h"
#include "pidboxctl.h"

/* An error for sign_request(): *msg a new string. */
static int __printflike(3, 4)
sign_fail(char **msg, int rv, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(msg, fmt, ap) == -1)
		err(EX_OSERR, NULL);
	va_end(ap);
	return rv;
}

/* 1 when the key file is an Ed25519 key (pidboxctl keygen). */
static int
is_ed25519(const unsigned char *key, size_t len)
{
	size_t tl = strlen(SIGN_ED_PUB_TAG);

	return len > tl && memcmp(key, SIGN_ED_PUB_TAG, tl) == 0 &&
	    (key[tl] == ' ' || key[tl] == '-');
}

/* The identity: PIDBOX_IDENTITY, else dflt (the key's), else the user. */
static const char *
identity(const char *dflt)
{
	struct passwd	*pw;
	const char	*id;

	id = getenv("PIDBOX_IDENTITY");
	if ((id == NULL || id[0] == '\0') && dflt != NULL)
		id = dflt;
	if ((id == NULL || id[0] == '\0') &&
	    (pw = getpwuid(getuid())) != NULL)
		id = pw->pw_name;
	return id;
}

static int
add_headers(json_object *headers, const char *id, const char *nonce,
    int64_t issued, int64_t expires, const char *sig, int ed)
{
	return json_object_object_add(headers, SIGN_HDR_IDENTITY,
	    json_object_new_string(id)) != 0 ||
	    json_object_object_add(headers, SIGN_HDR_NONCE,
	    json_object_new_string(nonce)) != 0 ||
	    json_object_object_add(headers, SIGN_HDR_ISSUED,
	    json_object_new_int64(issued)) != 0 ||
	    json_object_object_add(headers, SIGN_HDR_EXPIRES,
	    json_object_new_int64(expires)) != 0 ||
	    json_object_object_add(headers, SIGN_HDR_SIGNATURE,
	    json_object_new_string(sig)) != 0 ||
	    (ed && json_object_object_add(headers, SIGN_HDR_ALG,
	    json_object_new_string(SIGN_ALG_ED25519)) != 0) ? -1 : 0;
}

/*
 * Add the signature headers when a key file is given. Returns 0, or
 * SIGN_ECONFIG (the key file or identity is unusable) or SIGN_ECRYPTO
 * (libcrypto failed) with *msg a new string the caller frees.
 */
int
sign_request(const char *file, const char *from, const char *exchange,
    json_object *headers, const char *body, size_t bodylen, double timeout,
    char **msg)
{
	struct sign_edkey k;
	unsigned char	*key, sig[SIGN_ED_SIGLEN];
	const char	*id, *errstr;
	char		 nonce[SIGN_NONCELEN + 1], hex[SIGN_HEXLEN + 1];
	char		 head[SIGN_ED_HEADMAX], b64[128];
	size_t		 keylen;
	int64_t		 issued, expires;
	double		 now, t;
	int		 ed, hl;

	*msg = NULL;
	if (file == NULL || file[0] == '\0')
		return 0;
	if ((key = sign_key_load(file, &keylen, &errstr)) == NULL)
		return sign_fail(msg, SIGN_ECONFIG, "%s %s: %s", from,
		    log_viss(file), errstr);
	ed = is_ed25519(key, keylen);
	if (ed && sign_ed_parse(&k, (const char *)key, keylen,
	    SIGN_ED_PRIVATE, &errstr) == -1) {
		freezero(key, keylen);
		return sign_fail(msg, SIGN_ECONFIG, "%s %s: %s", from,
		    log_viss(file), errstr);
	}
	id = identity(ed ? k.identity : NULL);
	if (id == NULL || sign_valid_identity(id) == -1) {
		freezero(key, keylen);
		if (ed)
			sign_ed_clear(&k);
		return sign_fail(msg, SIGN_ECONFIG, "PIDBOX_IDENTITY %s: 1 "
		    "to 64 of [A-Za-z0-9._@-]", log_viss(id));
	}
	sign_nonce(nonce);
	now = now_wall();
	t = floor(now * 1000);		/* milliseconds */
	issued = (int64_t)t;
	t = ceil(now + (timeout > 1 ? timeout : 1));
	expires = (int64_t)t;
	if (ed) {
		hl = sign_ed_request_head(head, sizeof(head), exchange, id,
		    nonce, issued, expires);
		if (hl == -1 || sign_ed_sign(&k, head, (size_t)hl, body,
		    bodylen, sig) == -1 ||
		    sign_b64(sig, sizeof(sig), b64, sizeof(b64)) == -1)
			hl = -1;
	} else
		hl = sign_compute(key, keylen, exchange, id, nonce, issued,
		    expires, body, bodylen, hex);
	freezero(key, keylen);
	if (hl == -1) {
		if (ed)
			sign_ed_clear(&k);
		if ((*msg = strdup("cannot compute the signature "
		    "(libcrypto)")) == NULL)
			err(EX_OSERR, NULL);
		return SIGN_ECRYPTO;
	}
	if (add_headers(headers, id, nonce, issued, expires, ed ? b64 : hex,
	    ed) == -1)
		errx(EX_OSERR, "out of memory");
	if (ed)
		sign_ed_clear(&k);
	return 0;
}
