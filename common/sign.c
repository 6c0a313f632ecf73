/*
 * Request signatures: HMAC-SHA256 over canonical bytes, computed and
 * compared with OpenSSL's libcrypto (no hand-rolled crypto).
 *
 * Canonical bytes (version 1), fields separated by one "\n":
 *   "pidbox-hmac-sha256-v1", the mailbox exchange ("<ns>.pidbox"), the
 *   identity, the nonce, the expiry (integer seconds since the epoch,
 *   decimal), then the exact request body bytes (the JSON text inside
 *   the envelope, after base64 decoding).
 * Identity and nonce cannot contain "\n" and the body comes last, so the
 * encoding is unambiguous.
 *
 * libcrypto is loaded with dlopen() the first time a signature is made or
 * checked: linking it costs every process ~2.5 M instructions of
 * relocations at start (a third of a `pidboxctl ping`) and 1.4 MiB of
 * RSS in every pidboxd, signing or not.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "pidbox.h"

#define LIBCRYPTO	"libcrypto.so.3"

static struct {
	int		 state;		/* 0 not tried, 1 loaded, -1 failed */
	EVP_MAC		*(*mac_fetch)(OSSL_LIB_CTX *, const char *,
			    const char *);
	void		 (*mac_free)(EVP_MAC *);
	EVP_MAC_CTX	*(*ctx_new)(EVP_MAC *);
	void		 (*ctx_free)(EVP_MAC_CTX *);
	int		 (*mac_init)(EVP_MAC_CTX *, const unsigned char *,
			    size_t, const OSSL_PARAM []);
	int		 (*mac_update)(EVP_MAC_CTX *, const unsigned char *,
			    size_t);
	int		 (*mac_final)(EVP_MAC_CTX *, unsigned char *, size_t *,
			    size_t);
	OSSL_PARAM	 (*param_utf8)(const char *, char *, size_t);
	OSSL_PARAM	 (*param_end)(void);
	int		 (*memcmp_ct)(const void *, const void *, size_t);
} crypto;

/* Load libcrypto once; 0 when its functions are ready. */
static int
crypto_load(void)
{
	static const struct dl_sym syms[] = {
		{ "EVP_MAC_fetch", &crypto.mac_fetch },
		{ "EVP_MAC_free", &crypto.mac_free },
		{ "EVP_MAC_CTX_new", &crypto.ctx_new },
		{ "EVP_MAC_CTX_free", &crypto.ctx_free },
		{ "EVP_MAC_init", &crypto.mac_init },
		{ "EVP_MAC_update", &crypto.mac_update },
		{ "EVP_MAC_final", &crypto.mac_final },
		{ "OSSL_PARAM_construct_utf8_string", &crypto.param_utf8 },
		{ "OSSL_PARAM_construct_end", &crypto.param_end },
		{ "CRYPTO_memcmp", &crypto.memcmp_ct },
	};
	const char *missing;

	if (crypto.state != 0)
		return crypto.state == 1 ? 0 : -1;
	crypto.state = -1;
	if (dl_load(LIBCRYPTO, syms, nitems(syms), &missing) == NULL)
		return -1;
	crypto.state = 1;	/* kept open until exit */
	return 0;
}

unsigned char *
sign_key_load(const char *file, size_t *len, const char **errstr)
{
	unsigned char	*key;
	size_t		 got;

	if ((key = secret_read(file, SIGN_MAX_KEY, &got, errstr)) == NULL)
		return NULL;
	if (got > SIGN_MAX_KEY) {
		*errstr = "key longer than 4096 bytes";
		goto fail;
	}
	if (got > 0 && key[got - 1] == '\n')
		got--;
	if (got < SIGN_MIN_KEY) {
		*errstr = "key shorter than 16 bytes";
		goto fail;
	}
	*len = got;
	return key;
fail:
	freezero(key, SIGN_MAX_KEY + 2);
	return NULL;
}

int
sign_valid_identity(const char *s)
{
	size_t i, len;

	len = strlen(s);
	if (len == 0 || len > 64)
		return -1;
	for (i = 0; i < len; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789._@-", s[i]) == NULL)
			return -1;
	return 0;
}

int
sign_compute(const unsigned char *key, size_t keylen, const char *exchange,
    const char *identity, const char *nonce, int64_t expires,
    const char *body, size_t bodylen, char *hex)
{
	static const char hexd[] = "0123456789abcdef";
	EVP_MAC		*mac = NULL;
	EVP_MAC_CTX	*ctx = NULL;
	OSSL_PARAM	 params[2];
	unsigned char	 md[32];
	char		 head[MAX_KEY * 2 + 256];
	size_t		 mdlen = 0, i;
	int		 hl, rc = -1;

	hl = snprintf(head, sizeof(head), "pidbox-hmac-sha256-v1\n%s\n%s\n%s\n"
	    "%" PRId64 "\n", exchange, identity, nonce, expires);
	if (hl < 0 || (size_t)hl >= sizeof(head))
		return -1;
	if (crypto_load() == -1)
		return -1;
	if ((mac = crypto.mac_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (ctx = crypto.ctx_new(mac)) == NULL)
		goto done;
	params[0] = crypto.param_utf8(OSSL_MAC_PARAM_DIGEST,
	    (char *)(uintptr_t)"SHA256", 0);
	params[1] = crypto.param_end();
	if (!crypto.mac_init(ctx, key, keylen, params) ||
	    !crypto.mac_update(ctx, (const unsigned char *)head, (size_t)hl) ||
	    !crypto.mac_update(ctx, (const unsigned char *)body, bodylen) ||
	    !crypto.mac_final(ctx, md, &mdlen, sizeof(md)) || mdlen != 32)
		goto done;
	for (i = 0; i < 32; i++) {
		hex[2 * i] = hexd[md[i] >> 4];
		hex[2 * i + 1] = hexd[md[i] & 0xf];
	}
	hex[SIGN_HEXLEN] = '\0';
	rc = 0;
done:
	explicit_bzero(md, sizeof(md));
	if (ctx != NULL)
		crypto.ctx_free(ctx);
	if (mac != NULL)
		crypto.mac_free(mac);
	return rc;
}

int
sign_equal(const char *a, const char *b)
{
	if (strlen(a) != SIGN_HEXLEN || strlen(b) != SIGN_HEXLEN ||
	    crypto_load() == -1)
		return 0;
	return crypto.memcmp_ct(a, b, SIGN_HEXLEN) == 0;
}

void
sign_nonce(char *out)
{
	static const char hexd[] = "0123456789abcdef";
	unsigned char	r[SIGN_NONCELEN / 2];
	size_t		i;

	arc4random_buf(r, sizeof(r));
	for (i = 0; i < sizeof(r); i++) {
		out[2 * i] = hexd[r[i] >> 4];
		out[2 * i + 1] = hexd[r[i] & 0xf];
	}
	out[SIGN_NONCELEN] = '\0';
}
