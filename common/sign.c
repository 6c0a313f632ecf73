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

unsigned char *
sign_key_load(const char *file, size_t *len, const char **errstr)
{
	struct stat	 st;
	unsigned char	*key = NULL;
	ssize_t		 n;
	size_t		 got = 0;
	int		 fd;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
		*errstr = strerror(errno);
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		*errstr = strerror(errno);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		*errstr = "not a regular file";
		goto fail;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		*errstr = "readable by group or others; chmod 600 it";
		goto fail;
	}
	if ((key = malloc(SIGN_MAX_KEY + 1)) == NULL) {
		*errstr = strerror(errno);
		goto fail;
	}
	while (got <= SIGN_MAX_KEY &&
	    (n = read(fd, key + got, SIGN_MAX_KEY + 1 - got)) > 0)
		got += (size_t)n;
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
	close(fd);
	*len = got;
	return key;
fail:
	if (key != NULL)
		freezero(key, SIGN_MAX_KEY + 1);
	close(fd);
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
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (ctx = EVP_MAC_CTX_new(mac)) == NULL)
		goto done;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)(uintptr_t)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(ctx, key, keylen, params) ||
	    !EVP_MAC_update(ctx, (const unsigned char *)head, (size_t)hl) ||
	    !EVP_MAC_update(ctx, (const unsigned char *)body, bodylen) ||
	    !EVP_MAC_final(ctx, md, &mdlen, sizeof(md)) || mdlen != 32)
		goto done;
	for (i = 0; i < 32; i++) {
		hex[2 * i] = hexd[md[i] >> 4];
		hex[2 * i + 1] = hexd[md[i] & 0xf];
	}
	hex[SIGN_HEXLEN] = '\0';
	rc = 0;
done:
	explicit_bzero(md, sizeof(md));
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return rc;
}

int
sign_equal(const char *a, const char *b)
{
	if (strlen(a) != SIGN_HEXLEN || strlen(b) != SIGN_HEXLEN)
		return 0;
	return CRYPTO_memcmp(a, b, SIGN_HEXLEN) == 0;
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
