/*
 * Signing of requests (common/sign.c): with PIDBOX_KEY_FILE set, every
 * request carries x-pidbox-identity, -nonce, -expires and -signature
 * headers, which kombu and Celery nodes ignore and pidboxd checks.
 */
#include <sys/types.h>

#include <err.h>
#include <math.h>
#include <stdio.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <json-c/json.h>

#include "pidbox.h"
#include "pidboxctl.h"

/*
 * Add the signature headers when PIDBOX_KEY_FILE is set. Returns 0, or
 * SIGN_ECONFIG (the key file or identity is unusable) or SIGN_ECRYPTO
 * (libcrypto failed) with *msg a new string the caller frees.
 */
int
sign_request(const char *exchange, json_object *headers, const char *body,
    size_t bodylen, double timeout, char **msg)
{
	struct passwd	*pw;
	unsigned char	*key;
	const char	*file, *id, *errstr;
	char		 nonce[SIGN_NONCELEN + 1], hex[SIGN_HEXLEN + 1];
	size_t		 keylen;
	int64_t		 expires;
	double		 t;

	*msg = NULL;
	if ((file = getenv("PIDBOX_KEY_FILE")) == NULL || file[0] == '\0')
		return 0;
	if ((key = sign_key_load(file, &keylen, &errstr)) == NULL) {
		if (asprintf(msg, "PIDBOX_KEY_FILE %s: %s", log_viss(file),
		    errstr) == -1)
			err(EX_OSERR, NULL);
		return SIGN_ECONFIG;
	}
	id = getenv("PIDBOX_IDENTITY");
	if ((id == NULL || id[0] == '\0') &&
	    (pw = getpwuid(getuid())) != NULL)
		id = pw->pw_name;
	if (id == NULL || sign_valid_identity(id) == -1) {
		freezero(key, keylen);
		if (asprintf(msg, "PIDBOX_IDENTITY %s: 1 to 64 of "
		    "[A-Za-z0-9._@-]", log_viss(id)) == -1)
			err(EX_OSERR, NULL);
		return SIGN_ECONFIG;
	}
	sign_nonce(nonce);
	t = ceil(now_wall() + (timeout > 1 ? timeout : 1));
	expires = (int64_t)t;
	if (sign_compute(key, keylen, exchange, id, nonce, expires, body,
	    bodylen, hex) == -1) {
		freezero(key, keylen);
		if ((*msg = strdup("cannot compute the signature "
		    "(libcrypto)")) == NULL)
			err(EX_OSERR, NULL);
		return SIGN_ECRYPTO;
	}
	freezero(key, keylen);
	if (json_object_object_add(headers, SIGN_HDR_IDENTITY,
	    json_object_new_string(id)) != 0 ||
	    json_object_object_add(headers, SIGN_HDR_NONCE,
	    json_object_new_string(nonce)) != 0 ||
	    json_object_object_add(headers, SIGN_HDR_EXPIRES,
	    json_object_new_int64(expires)) != 0 ||
	    json_object_object_add(headers, SIGN_HDR_SIGNATURE,
	    json_object_new_string(hex)) != 0)
		errx(EX_OSERR, "out of memory");
	return 0;
}
