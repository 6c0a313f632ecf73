/*
 * TLS to the broker (rediss://) with OpenSSL's libssl: a context built
 * from struct redis_tls, and a session on a connected non-blocking socket
 * whose handshake, reads and writes say when they must wait for the fd.
 * hiredis keeps parsing and formatting RESP; only the bytes go through
 * here. pidboxd drives a session from its poll() loop (daemon/link.c),
 * pidboxctl from ppoll() with deadlines (cli/rconn.c).
 *
 * libssl (and with it libcrypto) is loaded with dlopen() when the first
 * TLS context is made, as common/sign.c loads libcrypto: a plaintext
 * process never maps it, so `pidboxctl ping` over redis:// costs what it
 * did and a plaintext pidboxd carries no TLS library in its RSS.
 *
 * Errors say what failed in the words of the setting to check (untrusted
 * certificate: ssl_ca_certs; wrong name: the host or server_name; a
 * plaintext port: rediss:// against redis://), never a secret.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "pidbox.h"

#define LIBSSL		"libssl.so.3"
#define MAX_KEYFILE	((size_t)64 * 1024)	/* a PEM private key, with room */

static struct {
	int		 state;		/* 0 not tried, 1 loaded, -1 failed */
	const SSL_METHOD *(*client_method)(void);
	SSL_CTX		*(*ctx_new)(const SSL_METHOD *);
	void		 (*ctx_free)(SSL_CTX *);
	long		 (*ctx_ctrl)(SSL_CTX *, int, long, void *);
	void		 (*ctx_set_verify)(SSL_CTX *, int,
			    SSL_verify_cb);
	int		 (*ctx_load_verify)(SSL_CTX *, const char *,
			    const char *);
	int		 (*ctx_default_verify)(SSL_CTX *);
	int		 (*ctx_use_chain)(SSL_CTX *, const char *);
	int		 (*ctx_use_key)(SSL_CTX *, EVP_PKEY *);
	int		 (*ctx_check_key)(const SSL_CTX *);
	SSL		*(*ssl_new)(SSL_CTX *);
	void		 (*ssl_free)(SSL *);
	int		 (*set_fd)(SSL *, int);
	long		 (*ssl_ctrl)(SSL *, int, long, void *);
	int		 (*set1_host)(SSL *, const char *);
	X509_VERIFY_PARAM *(*get0_param)(SSL *);
	int		 (*param_ip)(X509_VERIFY_PARAM *, const char *);
	int		 (*connect)(SSL *);
	int		 (*read)(SSL *, void *, int);
	int		 (*write)(SSL *, const void *, int);
	int		 (*shutdown)(SSL *);
	int		 (*get_error)(const SSL *, int);
	long		 (*verify_result)(const SSL *);
	const char	*(*verify_string)(long);
	unsigned long	 (*err_get)(void);
	void		 (*err_string)(unsigned long, char *, size_t);
	void		 (*err_clear)(void);
	BIO		*(*bio_mem)(const void *, int);
	int		 (*bio_free)(BIO *);
	EVP_PKEY	*(*read_key)(BIO *, EVP_PKEY **, pem_password_cb *,
			    void *);
	void		 (*pkey_free)(EVP_PKEY *);
} ssl;

struct tls_ctx {
	SSL_CTX			*ctx;
	enum tls_verify		 verify;
	char			 server_name[256];
};

struct tls {
	SSL			*ssl;
	char			 peer[256];	/* the name checked, for errors */
	int			 handshaken;
	int			 got_data;	/* a byte came after it */
};

/* Load libssl once; 0 when its functions are ready. */
static int
ssl_load(char *err, size_t errlen)
{
	static const struct dl_sym syms[] = {
		{ "TLS_client_method", &ssl.client_method },
		{ "SSL_CTX_new", &ssl.ctx_new },
		{ "SSL_CTX_free", &ssl.ctx_free },
		{ "SSL_CTX_ctrl", &ssl.ctx_ctrl },
		{ "SSL_CTX_set_verify", &ssl.ctx_set_verify },
		{ "SSL_CTX_load_verify_locations", &ssl.ctx_load_verify },
		{ "SSL_CTX_set_default_verify_paths", &ssl.ctx_default_verify },
		{ "SSL_CTX_use_certificate_chain_file", &ssl.ctx_use_chain },
		{ "SSL_CTX_use_PrivateKey", &ssl.ctx_use_key },
		{ "SSL_CTX_check_private_key", &ssl.ctx_check_key },
		{ "SSL_new", &ssl.ssl_new },
		{ "SSL_free", &ssl.ssl_free },
		{ "SSL_set_fd", &ssl.set_fd },
		{ "SSL_ctrl", &ssl.ssl_ctrl },
		{ "SSL_set1_host", &ssl.set1_host },
		{ "SSL_get0_param", &ssl.get0_param },
		{ "X509_VERIFY_PARAM_set1_ip_asc", &ssl.param_ip },
		{ "SSL_connect", &ssl.connect },
		{ "SSL_read", &ssl.read },
		{ "SSL_write", &ssl.write },
		{ "SSL_shutdown", &ssl.shutdown },
		{ "SSL_get_error", &ssl.get_error },
		{ "SSL_get_verify_result", &ssl.verify_result },
		{ "X509_verify_cert_error_string", &ssl.verify_string },
		{ "ERR_get_error", &ssl.err_get },
		{ "ERR_error_string_n", &ssl.err_string },
		{ "ERR_clear_error", &ssl.err_clear },
		{ "BIO_new_mem_buf", &ssl.bio_mem },
		{ "BIO_free", &ssl.bio_free },
		{ "PEM_read_bio_PrivateKey", &ssl.read_key },
		{ "EVP_PKEY_free", &ssl.pkey_free },
	};
	const char *missing;

	if (ssl.state == 1)
		return 0;
	if (ssl.state == -1)
		return errf(err, errlen, "TLS: cannot load " LIBSSL);
	ssl.state = -1;
	if (dl_load(LIBSSL, syms, nitems(syms), &missing) == NULL) {
		if (missing != NULL)
			return errf(err, errlen, "TLS: %s lacks %s", LIBSSL,
			    missing);
		return errf(err, errlen, "TLS: cannot load " LIBSSL
		    " (install libssl3)");
	}
	ssl.state = 1;
	return 0;
}

/* The last error of OpenSSL's queue, and the queue emptied. */
static unsigned long
last_error(char *buf, size_t len)
{
	unsigned long	 e, last = 0;

	while ((e = ssl.err_get()) != 0)
		last = e;
	if (last != 0)
		ssl.err_string(last, buf, len);
	else
		strlcpy(buf, "unknown error", len);
	return last;
}

static const struct verifyword {
	const char	*word;
	enum tls_verify	 v;
} verifywords[] = {
	{ "required", TLS_VERIFY_REQUIRED },
	{ "cert_required", TLS_VERIFY_REQUIRED },
	{ "optional", TLS_VERIFY_OPTIONAL },
	{ "cert_optional", TLS_VERIFY_OPTIONAL },
	{ "none", TLS_VERIFY_NONE },
	{ "cert_none", TLS_VERIFY_NONE },
};

int
tls_verify_parse(const char *s, enum tls_verify *v)
{
	size_t	i;

	for (i = 0; i < nitems(verifywords); i++)
		if (strcasecmp(s, verifywords[i].word) == 0) {
			*v = verifywords[i].v;
			return 0;
		}
	return -1;
}

/* "TLSv1.2" or "TLSv1.3" (or "1.2", "1.3") into 12 or 13. */
static int
tls_proto_parse(const char *s, int *proto)
{
	if (strcasecmp(s, "TLSv1.2") == 0 || strcmp(s, "1.2") == 0)
		*proto = 12;
	else if (strcasecmp(s, "TLSv1.3") == 0 || strcmp(s, "1.3") == 0)
		*proto = 13;
	else
		return -1;
	return 0;
}

/*
 * One broker_tls key of pidboxd.yaml (also read by pidboxctl -c) into t;
 * -1 with *why. The key file is checked as a secret file now, as the
 * connection would refuse it later.
 */
int
tls_conf_set(struct redis_tls *t, const char *key, const char *v,
    const char **why)
{
	static char	 msg[1024];
	static const struct {
		const char	*key;
		size_t		 off;
	} files[] = {
		{ "ca_dir", offsetof(struct redis_tls, ca_dir) },
		{ "ca_file", offsetof(struct redis_tls, ca_file) },
		{ "cert_file", offsetof(struct redis_tls, cert_file) },
		{ "key_file", offsetof(struct redis_tls, key_file) },
	};
	unsigned char	*buf;
	const char	*e;
	size_t		 i, n, len = strlen(v);

	for (i = 0; i < nitems(files); i++) {
		if (strcmp(key, files[i].key) != 0)
			continue;
		if (v[0] != '/') {
			*why = "expected an absolute path";
			return -1;
		}
		if (len >= sizeof(t->ca_file)) {
			*why = "path longer than 255 bytes";
			return -1;
		}
		if (strcmp(key, "key_file") == 0) {
			if ((buf = secret_read(v, MAX_KEYFILE, &n, &e)) ==
			    NULL) {
				snprintf(msg, sizeof(msg), "%s: %s",
				    log_viss(v), e);
				*why = msg;
				return -1;
			}
			freezero(buf, MAX_KEYFILE + 2);
		}
		memcpy((char *)t + files[i].off, v, len + 1);
		return 0;
	}
	if (strcmp(key, "server_name") == 0) {
		if (len == 0 || len >= sizeof(t->server_name) ||
		    strspn(v, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:") != len) {
			*why = "expected a host name or address";
			return -1;
		}
		memcpy(t->server_name, v, len + 1);
	} else if (strcmp(key, "verify") == 0) {
		if (tls_verify_parse(v, &t->verify) == -1) {
			*why = "expected required, optional or none";
			return -1;
		}
		t->verify_set = 1;
	} else if (strcmp(key, "min_protocol") == 0) {
		if (tls_proto_parse(v, &t->min_proto) == -1) {
			*why = "expected TLSv1.2 or TLSv1.3";
			return -1;
		}
	} else {
		*why = "unknown key";
		return -1;
	}
	return 0;
}

static void
conf_merge(struct redis_tls *dst, const struct redis_tls *t)
{
	if (t->verify_set) {
		dst->verify = t->verify;
		dst->verify_set = 1;
	}
	if (t->ca_file[0] != '\0')
		memcpy(dst->ca_file, t->ca_file, sizeof(dst->ca_file));
	if (t->ca_dir[0] != '\0')
		memcpy(dst->ca_dir, t->ca_dir, sizeof(dst->ca_dir));
	if (t->cert_file[0] != '\0')
		memcpy(dst->cert_file, t->cert_file, sizeof(dst->cert_file));
	if (t->key_file[0] != '\0')
		memcpy(dst->key_file, t->key_file, sizeof(dst->key_file));
	if (t->server_name[0] != '\0')
		memcpy(dst->server_name, t->server_name,
		    sizeof(dst->server_name));
	if (t->min_proto != 0)
		dst->min_proto = t->min_proto;
}

/*
 * broker_tls settings over u's ssl_* options (each given one wins), for
 * the master and the sentinels. Nothing given: u unchanged. -1 with
 * *errstr when u makes no TLS connection at all.
 */
int
tls_conf_apply(struct redis_url *u, const struct redis_tls *t,
    const char **errstr)
{
	if (!t->verify_set && t->ca_file[0] == '\0' && t->ca_dir[0] == '\0' &&
	    t->cert_file[0] == '\0' && t->key_file[0] == '\0' &&
	    t->server_name[0] == '\0' && t->min_proto == 0)
		return 0;
	if (!u->tls.on && !u->sentinel_tls.on) {
		*errstr = "broker_tls: needs a rediss:// broker URL (or "
		    "ssl=true / sentinel_ssl=true in a sentinel:// one)";
		return -1;
	}
	conf_merge(&u->tls, t);
	conf_merge(&u->sentinel_tls, t);
	return 0;
}

/*
 * The private key of a client certificate through secret_read(), which
 * refuses a file others could read or change, then parsed from memory:
 * the checked file is the one loaded.
 */
static int
use_key(SSL_CTX *ctx, const char *file, char *err, size_t errlen)
{
	unsigned char	*buf;
	const char	*why;
	char		 e[256];
	BIO		*bio;
	EVP_PKEY	*pk = NULL;
	size_t		 len;
	int		 rv = -1;

	if ((buf = secret_read(file, MAX_KEYFILE, &len, &why)) == NULL)
		return errf(err, errlen, "TLS: key file %s: %s",
		    log_viss(file), why);
	if (len > MAX_KEYFILE) {
		errf(err, errlen, "TLS: key file %s: longer than %zu bytes",
		    log_viss(file), MAX_KEYFILE);
		goto done;
	}
	if ((bio = ssl.bio_mem(buf, (int)len)) != NULL) {
		pk = ssl.read_key(bio, NULL, NULL, NULL);
		ssl.bio_free(bio);
	}
	if (pk == NULL) {
		last_error(e, sizeof(e));
		errf(err, errlen, "TLS: key file %s: no PEM private key "
		    "without a passphrase (%s)", log_viss(file), e);
		goto done;
	}
	if (ssl.ctx_use_key(ctx, pk) != 1 || ssl.ctx_check_key(ctx) != 1) {
		last_error(e, sizeof(e));
		errf(err, errlen, "TLS: key file %s does not match the "
		    "certificate (%s)", log_viss(file), e);
		goto done;
	}
	rv = 0;
done:
	if (pk != NULL)
		ssl.pkey_free(pk);
	freezero(buf, MAX_KEYFILE + 2);
	return rv;
}

struct tls_ctx *
tls_ctx_new(const struct redis_tls *t, char *err, size_t errlen)
{
	struct tls_ctx	*tc;
	SSL_CTX		*ctx;
	char		 e[256];
	long		 proto;

	if (ssl_load(err, errlen) == -1)
		return NULL;
	ssl.err_clear();
	if ((ctx = ssl.ctx_new(ssl.client_method())) == NULL) {
		last_error(e, sizeof(e));
		errf(err, errlen, "TLS: SSL_CTX_new: %s", e);
		return NULL;
	}
	proto = t->min_proto == 13 ? TLS1_3_VERSION : TLS1_2_VERSION;
	ssl.ctx_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, proto, NULL);
	/*
	 * hiredis's output buffer moves its bytes down as they go out, and
	 * a write may end part way: both are what these modes allow. An
	 * idle link (most of a node's life) gives its record buffers back.
	 */
	ssl.ctx_ctrl(ctx, SSL_CTRL_MODE, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS,
	    NULL);
	ssl.ctx_set_verify(ctx, t->verify == TLS_VERIFY_NONE ?
	    SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
	if (t->verify != TLS_VERIFY_NONE) {
		if (t->ca_file[0] != '\0' || t->ca_dir[0] != '\0') {
			if (ssl.ctx_load_verify(ctx, t->ca_file[0] != '\0' ?
			    t->ca_file : NULL, t->ca_dir[0] != '\0' ?
			    t->ca_dir : NULL) != 1) {
				last_error(e, sizeof(e));
				errf(err, errlen, "TLS: cannot load CA "
				    "certificates from %s: %s",
				    log_viss(t->ca_file[0] != '\0' ?
				    t->ca_file : t->ca_dir), e);
				goto fail;
			}
		} else if (ssl.ctx_default_verify(ctx) != 1) {
			last_error(e, sizeof(e));
			errf(err, errlen, "TLS: cannot load the system's CA "
			    "certificates: %s", e);
			goto fail;
		}
	}
	if (t->cert_file[0] != '\0' || t->key_file[0] != '\0') {
		if (t->cert_file[0] == '\0' || t->key_file[0] == '\0') {
			errf(err, errlen, "TLS: a client certificate needs "
			    "both ssl_certfile and ssl_keyfile");
			goto fail;
		}
		if (ssl.ctx_use_chain(ctx, t->cert_file) != 1) {
			last_error(e, sizeof(e));
			errf(err, errlen, "TLS: cannot load client certificate "
			    "%s: %s", log_viss(t->cert_file), e);
			goto fail;
		}
		if (use_key(ctx, t->key_file, err, errlen) == -1)
			goto fail;
	}
	tc = calloc(1, sizeof(*tc));
	if (tc == NULL) {
		errf(err, errlen, "TLS: %s", strerror(errno));
		goto fail;
	}
	tc->ctx = ctx;
	tc->verify = t->verify;
	strlcpy(tc->server_name, t->server_name, sizeof(tc->server_name));
	return tc;
fail:
	ssl.ctx_free(ctx);
	ssl.err_clear();
	return NULL;
}

void
tls_ctx_free(struct tls_ctx *tc)
{
	if (tc == NULL)
		return;
	ssl.ctx_free(tc->ctx);
	free(tc);
}

struct tls *
tls_new(const struct tls_ctx *tc, int fd, const char *host, char *err,
    size_t errlen)
{
	struct tls	*t;
	struct in6_addr	 a6;
	struct in_addr	 a4;
	const char	*name;
	char		 e[256];
	int		 ip;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		errf(err, errlen, "TLS: %s", strerror(errno));
		return NULL;
	}
	name = tc->server_name[0] != '\0' ? tc->server_name : host;
	strlcpy(t->peer, name, sizeof(t->peer));
	name = t->peer;		/* SSL_ctrl() takes a non-const pointer */
	ip = inet_pton(AF_INET, name, &a4) == 1 ||
	    inet_pton(AF_INET6, name, &a6) == 1;
	ssl.err_clear();
	if ((t->ssl = ssl.ssl_new(tc->ctx)) == NULL ||
	    ssl.set_fd(t->ssl, fd) != 1)
		goto fail;
	/* SNI is for host names only (RFC 6066 3) */
	if (!ip && ssl.ssl_ctrl(t->ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME,
	    TLSEXT_NAMETYPE_host_name, t->peer) != 1)
		goto fail;
	if (tc->verify == TLS_VERIFY_REQUIRED) {
		if (ip ? ssl.param_ip(ssl.get0_param(t->ssl), name) != 1 :
		    ssl.set1_host(t->ssl, name) != 1)
			goto fail;
	}
	return t;
fail:
	last_error(e, sizeof(e));
	errf(err, errlen, "TLS: session set-up: %s", e);
	tls_free(t);
	return NULL;
}

/*
 * Why a handshake, read or write failed, with what to check: the
 * certificate check's own verdict first, then the library's reason.
 */
static void
explain(struct tls *t, int sslerr, int rv, char *err, size_t errlen)
{
	unsigned long	 e;
	long		 vr;
	char		 why[256];
	int		 reason;

	e = last_error(why, sizeof(why));
	reason = e != 0 ? ERR_GET_REASON(e) : 0;
	vr = ssl.verify_result(t->ssl);
	if (!t->handshaken && vr != X509_V_OK) {
		const char *hint;

		switch (vr) {
		case X509_V_ERR_HOSTNAME_MISMATCH:
		case X509_V_ERR_IP_ADDRESS_MISMATCH:
			errf(err, errlen, "TLS: the broker's certificate is "
			    "not for %s (check the host in the URL, or "
			    "broker_tls server_name)", log_viss(t->peer));
			return;
		case X509_V_ERR_CERT_HAS_EXPIRED:
			hint = "renew the broker's certificate, check the clock";
			break;
		case X509_V_ERR_CERT_NOT_YET_VALID:
			hint = "check the clock";
			break;
		default:
			hint = "check ssl_ca_certs / broker_tls ca_file";
			break;
		}
		errf(err, errlen, "TLS: the broker's certificate was not "
		    "accepted: %s (%s)", ssl.verify_string(vr), hint);
		return;
	}
	switch (reason) {
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_PACKET_LENGTH_TOO_LONG:
		errf(err, errlen, "TLS: the broker does not speak TLS on this "
		    "port (a plaintext port? use redis://)");
		return;
	case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
	case SSL_R_TLSV1_ALERT_DECRYPT_ERROR:
		errf(err, errlen, "TLS: the broker refused our client "
		    "certificate (%s; check ssl_certfile and ssl_keyfile "
		    "against the broker's tls-ca-cert-file)", why);
		return;
	default:
		break;
	}
	/*
	 * With TLS 1.3 the broker checks our certificate after our side
	 * of the handshake is done; its alert may be lost to the reset of
	 * a socket closed with our first command unread.
	 */
	if (t->handshaken && !t->got_data && (sslerr == SSL_ERROR_SYSCALL ||
	    reason == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
		errf(err, errlen, "TLS: the broker dropped the session before "
		    "its first reply (%s): most likely it refused our client "
		    "certificate (check ssl_certfile and ssl_keyfile against "
		    "the broker's tls-ca-cert-file)", e != 0 ? why :
		    rv == 0 || errno == 0 ? "closed" : strerror(errno));
		return;
	}
	if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		errf(err, errlen, "TLS: the broker closed the connection");
		return;
	}
	if (sslerr == SSL_ERROR_SYSCALL && e == 0) {
		if (rv == 0 || errno == 0)
			errf(err, errlen, "TLS: the broker closed the "
			    "connection%s", t->handshaken ? "" :
			    " during the handshake (does it speak TLS?)");
		else
			errf(err, errlen, "TLS: %s", strerror(errno));
		return;
	}
	errf(err, errlen, "TLS: %s", why);
}

/* TLS_OK, TLS_WANT_READ, TLS_WANT_WRITE or TLS_ERR (err says why). */
static int
result(struct tls *t, int rv, char *err, size_t errlen)
{
	int	sslerr;

	sslerr = ssl.get_error(t->ssl, rv);
	switch (sslerr) {
	case SSL_ERROR_WANT_READ:
		return TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		errf(err, errlen, "TLS: the broker closed the connection");
		return TLS_EOF;
	default:
		explain(t, sslerr, rv, err, errlen);
		return TLS_ERR;
	}
}

int
tls_handshake(struct tls *t, char *err, size_t errlen)
{
	int	rv;

	if (t->handshaken)
		return TLS_OK;
	ssl.err_clear();
	errno = 0;
	if ((rv = ssl.connect(t->ssl)) == 1) {
		t->handshaken = 1;
		return TLS_OK;
	}
	return result(t, rv, err, errlen);
}

ssize_t
tls_read(struct tls *t, void *buf, size_t len, int *status, char *err,
    size_t errlen)
{
	int	rv;

	ssl.err_clear();
	errno = 0;
	if (len > INT32_MAX)
		len = INT32_MAX;
	if ((rv = ssl.read(t->ssl, buf, (int)len)) > 0) {
		t->got_data = 1;
		*status = TLS_OK;
		return rv;
	}
	*status = result(t, rv, err, errlen);
	return -1;
}

ssize_t
tls_write(struct tls *t, const void *buf, size_t len, int *status,
    char *err, size_t errlen)
{
	int	rv;

	ssl.err_clear();
	errno = 0;
	if (len > INT32_MAX)
		len = INT32_MAX;
	if ((rv = ssl.write(t->ssl, buf, (int)len)) > 0) {
		*status = TLS_OK;
		return rv;
	}
	*status = result(t, rv, err, errlen);
	return -1;
}

/* Release t; a session that got going says goodbye (close_notify) once. */
void
tls_free(struct tls *t)
{
	if (t == NULL)
		return;
	if (t->ssl != NULL) {
		if (t->handshaken)
			(void)ssl.shutdown(t->ssl);	/* no wait */
		ssl.ssl_free(t->ssl);
		ssl.err_clear();
	}
	free(t);
}
