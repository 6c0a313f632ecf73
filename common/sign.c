/*
 * Signatures, all computed and checked with OpenSSL's libcrypto (no
 * hand-rolled crypto): HMAC-SHA256 of requests (a secret shared by the
 * fleet), Ed25519 of requests (an operator's private key; nodes hold the
 * public key), of replies (a node's own key) and of node certificates (a
 * fleet key).
 *
 * Canonical bytes of a request, fields separated by one "\n":
 *   the scheme tag ("pidbox-hmac-sha256-v1", "pidbox-hmac-sha256-v2" or
 *   "pidbox-ed25519-v1"), the mailbox exchange ("<ns>.pidbox"), the
 *   identity, the nonce, the issue time (v2 and ed25519 only), the expiry
 *   (integer seconds since the epoch, decimal), then the exact request
 *   body bytes (the JSON text inside the envelope, after base64 decoding).
 * Identity and nonce cannot contain "\n" and the body comes last, so the
 * encoding is unambiguous. Each kind of signed thing has its own tag, so
 * a signature of one kind is never valid as another.
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
#include <openssl/rand.h>

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
	EVP_PKEY	*(*pkey_priv)(int, ENGINE *, const unsigned char *,
			    size_t);
	EVP_PKEY	*(*pkey_pub)(int, ENGINE *, const unsigned char *,
			    size_t);
	int		 (*pkey_get_pub)(const EVP_PKEY *, unsigned char *,
			    size_t *);
	void		 (*pkey_free)(EVP_PKEY *);
	EVP_MD_CTX	*(*md_new)(void);
	void		 (*md_free)(EVP_MD_CTX *);
	int		 (*sign_init)(EVP_MD_CTX *, EVP_PKEY_CTX **,
			    const EVP_MD *, ENGINE *, EVP_PKEY *);
	int		 (*sign)(EVP_MD_CTX *, unsigned char *, size_t *,
			    const unsigned char *, size_t);
	int		 (*verify_init)(EVP_MD_CTX *, EVP_PKEY_CTX **,
			    const EVP_MD *, ENGINE *, EVP_PKEY *);
	int		 (*verify)(EVP_MD_CTX *, const unsigned char *, size_t,
			    const unsigned char *, size_t);
	int		 (*rand)(unsigned char *, int);
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
		{ "EVP_PKEY_new_raw_private_key", &crypto.pkey_priv },
		{ "EVP_PKEY_new_raw_public_key", &crypto.pkey_pub },
		{ "EVP_PKEY_get_raw_public_key", &crypto.pkey_get_pub },
		{ "EVP_PKEY_free", &crypto.pkey_free },
		{ "EVP_MD_CTX_new", &crypto.md_new },
		{ "EVP_MD_CTX_free", &crypto.md_free },
		{ "EVP_DigestSignInit", &crypto.sign_init },
		{ "EVP_DigestSign", &crypto.sign },
		{ "EVP_DigestVerifyInit", &crypto.verify_init },
		{ "EVP_DigestVerify", &crypto.verify },
		{ "RAND_bytes", &crypto.rand },
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

/* The canonical head of a request (see the top); -1 if it does not fit. */
static int
request_head(char *head, size_t len, const char *tag, const char *exchange,
    const char *identity, const char *nonce, int64_t issued, int64_t expires)
{
	int n;

	if (issued < 0)
		n = snprintf(head, len, "%s\n%s\n%s\n%s\n%" PRId64 "\n",
		    tag, exchange, identity, nonce, expires);
	else
		n = snprintf(head, len, "%s\n%s\n%s\n%s\n%" PRId64 "\n%"
		    PRId64 "\n", tag, exchange, identity, nonce, issued,
		    expires);
	return n < 0 || (size_t)n >= len ? -1 : n;
}

int
sign_compute(const unsigned char *key, size_t keylen, const char *exchange,
    const char *identity, const char *nonce, int64_t issued, int64_t expires,
    const char *body, size_t bodylen, char *hex)
{
	EVP_MAC		*mac = NULL;
	EVP_MAC_CTX	*ctx = NULL;
	OSSL_PARAM	 params[2];
	unsigned char	 md[32];
	char		 head[MAX_KEY * 2 + 256];
	size_t		 mdlen = 0;
	int		 hl, rc = -1;

	if ((hl = request_head(head, sizeof(head), issued < 0 ?
	    "pidbox-hmac-sha256-v1" : "pidbox-hmac-sha256-v2", exchange,
	    identity, nonce, issued, expires)) == -1)
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
	hex_put(hex, md, sizeof(md));
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
	unsigned char	r[SIGN_NONCELEN / 2];

	arc4random_buf(r, sizeof(r));
	hex_put(out, r, sizeof(r));
	out[SIGN_NONCELEN] = '\0';
}

/* ------------------------------------------------------------ Ed25519 */

/* Canonical base64 of exactly want bytes into out; -1 otherwise. */
static int
b64_exact(const char *s, size_t len, unsigned char *out, size_t want)
{
	char	*dec, *re;
	size_t	 n, rl;
	int	 rc = -1;

	if (len != (want + 2) / 3 * 4 ||
	    (dec = b64_decode(s, len, &n)) == NULL)
		return -1;
	/* Re-encoded, it must read the same: no whitespace, no slack. */
	if (n == want && (re = b64_encode(dec, n, &rl)) != NULL) {
		if (rl == len && memcmp(re, s, len) == 0) {
			memcpy(out, dec, want);
			rc = 0;
		}
		free(re);
	}
	freezero(dec, n);
	return rc;
}

int
sign_b64(const void *src, size_t len, char *out, size_t outlen)
{
	char	*e;
	size_t	 n;

	if ((e = b64_encode(src, len, &n)) == NULL || n >= outlen) {
		free(e);
		return -1;
	}
	memcpy(out, e, n + 1);
	free(e);
	return 0;
}

int
sign_ed_sig_decode(const char *b64, unsigned char *sig)
{
	return b64_exact(b64, strlen(b64), sig, SIGN_ED_SIGLEN);
}

int
sign_ed_key_decode(const char *b64, unsigned char *key)
{
	return b64_exact(b64, strlen(b64), key, SIGN_ED_KEYLEN);
}

void
sign_ed_clear(struct sign_edkey *k)
{
	if (k->pkey != NULL && crypto.state == 1)
		crypto.pkey_free(k->pkey);
	explicit_bzero(k, sizeof(*k));
}

/* Make k's EVP_PKEY from a private seed (priv) or a public key. */
static int
ed_make(struct sign_edkey *k, const unsigned char *raw, int priv)
{
	size_t len = SIGN_ED_KEYLEN;

	if (crypto_load() == -1)
		return -1;
	k->pkey = priv ? crypto.pkey_priv(EVP_PKEY_ED25519, NULL, raw,
	    SIGN_ED_KEYLEN) : crypto.pkey_pub(EVP_PKEY_ED25519, NULL, raw,
	    SIGN_ED_KEYLEN);
	if (k->pkey == NULL)
		return -1;
	if (crypto.pkey_get_pub(k->pkey, k->pub, &len) != 1 ||
	    len != SIGN_ED_KEYLEN) {
		crypto.pkey_free(k->pkey);
		k->pkey = NULL;
		return -1;
	}
	k->private = priv;
	if (priv)
		memcpy(k->seed, raw, SIGN_ED_KEYLEN);
	return 0;
}

int
sign_ed_from_pub(struct sign_edkey *k, const unsigned char *pub)
{
	memset(k, 0, sizeof(*k));
	return ed_make(k, pub, 0);
}

int
sign_ed_generate(struct sign_edkey *k, const char *identity,
    const char **errstr)
{
	unsigned char seed[SIGN_ED_KEYLEN];

	memset(k, 0, sizeof(*k));
	if (sign_valid_identity(identity) == -1) {
		*errstr = "identities are 1 to 64 of [A-Za-z0-9._@-]";
		return -1;
	}
	strlcpy(k->identity, identity, sizeof(k->identity));
	if (crypto_load() == -1 || crypto.rand(seed, sizeof(seed)) != 1 ||
	    ed_make(k, seed, 1) == -1) {
		explicit_bzero(seed, sizeof(seed));
		*errstr = "cannot make an Ed25519 key (libcrypto)";
		return -1;
	}
	explicit_bzero(seed, sizeof(seed));
	return 0;
}

int
sign_ed_parse(struct sign_edkey *k, const char *text, size_t len, int want,
    const char **errstr)
{
	unsigned char	 raw[SIGN_ED_KEYLEN];
	char		 line[256], *f[4], *p, *save = NULL;
	size_t		 nf = 0;
	int		 priv;

	memset(k, 0, sizeof(*k));
	if (len > 0 && text[len - 1] == '\n')
		len--;
	if (len >= 11 && strncmp(text, "-----BEGIN ", 11) == 0) {
		*errstr = want == SIGN_ED_PUBLIC && strstr(text, "PRIVATE") ?
		    "a PEM private key where a public key is expected; a "
		    "node holds public keys only" :
		    "a PEM file; expected a pidbox-ed25519 key line "
		    "(pidboxctl keygen)";
		return -1;
	}
	if (len >= sizeof(line) || memchr(text, '\n', len) != NULL ||
	    memchr(text, '\0', len) != NULL) {
		*errstr = "expected one line \"pidbox-ed25519 <base64> "
		    "<identity>\"";
		return -1;
	}
	memcpy(line, text, len);
	line[len] = '\0';
	for (p = strtok_r(line, " ", &save); p != NULL && nf < nitems(f);
	    p = strtok_r(NULL, " ", &save))
		f[nf++] = p;
	if (nf == 0 || (strcmp(f[0], SIGN_ED_PRIV_TAG) != 0 &&
	    strcmp(f[0], SIGN_ED_PUB_TAG) != 0)) {
		*errstr = "not a pidbox-ed25519 key (an HMAC secret? make "
		    "one with pidboxctl keygen)";
		goto fail;
	}
	priv = strcmp(f[0], SIGN_ED_PRIV_TAG) == 0;
	if (priv && want == SIGN_ED_PUBLIC) {
		*errstr = "a private key where a public key is expected; a "
		    "node holds public keys only (give the .pub file)";
		goto fail;
	}
	if (!priv && want == SIGN_ED_PRIVATE) {
		*errstr = "a public key; signing needs the private key file";
		goto fail;
	}
	if (nf != 3) {
		*errstr = "expected 3 fields: type, base64 key, identity";
		goto fail;
	}
	if (b64_exact(f[1], strlen(f[1]), raw, sizeof(raw)) == -1) {
		*errstr = "the key is not base64 of 32 bytes (truncated?)";
		goto fail;
	}
	if (sign_valid_identity(f[2]) == -1) {
		*errstr = "bad identity: 1 to 64 of [A-Za-z0-9._@-]";
		goto fail;
	}
	strlcpy(k->identity, f[2], sizeof(k->identity));
	if (ed_make(k, raw, priv) == -1) {
		*errstr = "not a valid Ed25519 key (libcrypto)";
		goto fail;
	}
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(line, sizeof(line));
	return 0;
fail:
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(line, sizeof(line));
	return -1;
}

/*
 * A public file: regular, small, not writable by group or others (who
 * could then choose whom we trust). Returns malloc'd text, NUL-terminated.
 */
char *
sign_read_public(const char *file, size_t max, size_t *lenp,
    const char **errstr)
{
	static char	 why[128];
	struct stat	 st;
	char		*buf;
	ssize_t		 n;
	size_t		 got = 0;
	int		 fd;

	if ((fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		*errstr = strerror(errno);
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		*errstr = "not a regular file";
		close(fd);
		return NULL;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, sizeof(why), "writable by group or others (mode "
		    "%04o)", (unsigned)(st.st_mode & 07777));
		*errstr = why;
		close(fd);
		return NULL;
	}
	if ((buf = malloc(max + 2)) == NULL) {
		*errstr = strerror(errno);
		close(fd);
		return NULL;
	}
	while (got <= max) {
		n = read(fd, buf + got, max + 1 - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got > max) {
		*errstr = "file too long";
		free(buf);
		return NULL;
	}
	buf[got] = '\0';
	*lenp = got;
	return buf;
}

int
sign_ed_load(struct sign_edkey *k, const char *file, int want,
    const char **errstr)
{
	char	*text;
	size_t	 len;
	int	 rc;

	memset(k, 0, sizeof(*k));
	if (want == SIGN_ED_PRIVATE)
		text = (char *)secret_read(file, 1024, &len, errstr);
	else
		text = sign_read_public(file, 1024, &len, errstr);
	if (text == NULL)
		return -1;
	if (len > 1024) {
		*errstr = "longer than one key line";
		rc = -1;
	} else
		rc = sign_ed_parse(k, text, len, want, errstr);
	freezero(text, 1026);
	return rc;
}

char *
sign_ed_format(const struct sign_edkey *k, int priv)
{
	char	 b[64], *s;

	if (sign_b64(priv ? k->seed : k->pub, SIGN_ED_KEYLEN, b,
	    sizeof(b)) == -1)
		return NULL;
	if (asprintf(&s, "%s %s %s\n", priv ? SIGN_ED_PRIV_TAG :
	    SIGN_ED_PUB_TAG, b, k->identity) == -1)
		s = NULL;
	explicit_bzero(b, sizeof(b));
	return s;
}

/* Ed25519 signs the message in one pass: head and body side by side. */
static unsigned char *
concat(const char *head, size_t hl, const char *body, size_t bl)
{
	unsigned char *m;

	if (bl > MAX_ENVELOPE || (m = malloc(hl + bl + 1)) == NULL)
		return NULL;
	memcpy(m, head, hl);
	if (bl > 0)
		memcpy(m + hl, body, bl);
	return m;
}

int
sign_ed_sign(const struct sign_edkey *k, const char *head, size_t hl,
    const char *body, size_t bl, unsigned char *sig)
{
	EVP_MD_CTX	*ctx = NULL;
	unsigned char	*m;
	size_t		 sl = SIGN_ED_SIGLEN;
	int		 rc = -1;

	if (k->pkey == NULL || !k->private || crypto_load() == -1 ||
	    (m = concat(head, hl, body, bl)) == NULL)
		return -1;
	if ((ctx = crypto.md_new()) != NULL &&
	    crypto.sign_init(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
	    crypto.sign(ctx, sig, &sl, m, hl + bl) == 1 &&
	    sl == SIGN_ED_SIGLEN)
		rc = 0;
	if (ctx != NULL)
		crypto.md_free(ctx);
	free(m);
	return rc;
}

int
sign_ed_verify(const struct sign_edkey *k, const char *head, size_t hl,
    const char *body, size_t bl, const unsigned char *sig)
{
	EVP_MD_CTX	*ctx = NULL;
	unsigned char	*m;
	int		 rc = -1;

	if (k->pkey == NULL || crypto_load() == -1 ||
	    (m = concat(head, hl, body, bl)) == NULL)
		return -1;
	if ((ctx = crypto.md_new()) != NULL &&
	    crypto.verify_init(ctx, NULL, NULL, NULL, k->pkey) == 1)
		rc = crypto.verify(ctx, sig, SIGN_ED_SIGLEN, m, hl + bl) ==
		    1 ? 1 : 0;
	if (ctx != NULL)
		crypto.md_free(ctx);
	free(m);
	return rc;
}

int
sign_ed_request_head(char *head, size_t len, const char *exchange,
    const char *identity, const char *nonce, int64_t issued, int64_t expires)
{
	return request_head(head, len, "pidbox-ed25519-v1", exchange, identity,
	    nonce, issued, expires);
}

int
sign_ed_reply_head(char *head, size_t len, const char *exchange,
    const char *node, const char *ticket, int64_t clock)
{
	int n;

	n = snprintf(head, len, "pidbox-reply-ed25519-v1\n%s\n%s\n%s\n%"
	    PRId64 "\n", exchange, node, ticket, clock);
	return n < 0 || (size_t)n >= len ? -1 : n;
}

int
sign_ed_cert_head(char *head, size_t len, const char *node,
    const unsigned char *pub)
{
	char	b[64];
	int	n;

	if (sign_b64(pub, SIGN_ED_KEYLEN, b, sizeof(b)) == -1)
		return -1;
	n = snprintf(head, len, "pidbox-node-cert-v1\n%s\n%s\n", node, b);
	return n < 0 || (size_t)n >= len ? -1 : n;
}
