/* Base64 (RFC 4648, padded, no line breaks) over glibc's resolver helpers. */
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>

#include "pidbox.h"

char *
b64_encode(const void *src, size_t len, size_t *outlen)
{
	char	*out;
	size_t	 n;
	int	 r;

	if (len > MAX_ENVELOPE) {
		errno = EMSGSIZE;
		return NULL;
	}
	n = (len + 2) / 3 * 4 + 1;
	if ((out = malloc(n)) == NULL)
		return NULL;
	if ((r = b64_ntop(src, len, out, n)) < 0) {
		free(out);
		errno = EINVAL;
		return NULL;
	}
	if (outlen != NULL)
		*outlen = (size_t)r;
	return out;
}

/* Value of each base64 alphabet byte, -1 for any other byte. */
static signed char b64_val[256];

static void
b64_table(void)
{
	static const char alpha[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	int	i;

	if (b64_val['/'] == 63)
		return;
	memset(b64_val, -1, sizeof(b64_val));
	for (i = 0; i < 64; i++)
		b64_val[(unsigned char)alpha[i]] = (signed char)i;
}

/*
 * The common case in one pass: canonical base64 (alphabet only, length a
 * multiple of 4, "=" or "==" only at the end with zero spill bits).
 * Returns the decoded length, or -1 when the input is anything else and
 * b64_pton must judge it (whitespace, bad padding, garbage).
 */
static int
b64_fast(const unsigned char *in, size_t len, unsigned char *out)
{
	size_t	 i, o = 0, pad = 0, full;
	int	 a, b, c, d;

	if (len == 0 || len % 4 != 0)
		return -1;
	if (in[len - 1] == '=')
		pad = in[len - 2] == '=' ? 2 : 1;
	full = len - (pad ? 4 : 0);
	for (i = 0; i < full; i += 4) {
		a = b64_val[in[i]];
		b = b64_val[in[i + 1]];
		c = b64_val[in[i + 2]];
		d = b64_val[in[i + 3]];
		if ((a | b | c | d) < 0)
			return -1;
		out[o++] = (unsigned char)(a << 2 | b >> 4);
		out[o++] = (unsigned char)(b << 4 | c >> 2);
		out[o++] = (unsigned char)(c << 6 | d);
	}
	if (pad) {
		a = b64_val[in[i]];
		b = b64_val[in[i + 1]];
		c = pad == 1 ? b64_val[in[i + 2]] : 0;
		if ((a | b | c) < 0)
			return -1;
		/* b64_pton refuses set bits that spill past the data */
		if (pad == 2 ? (b & 0x0f) != 0 : (c & 0x03) != 0)
			return -1;
		out[o++] = (unsigned char)(a << 2 | b >> 4);
		if (pad == 1)
			out[o++] = (unsigned char)(b << 4 | c >> 2);
	}
	return (int)o;
}

char *
b64_decode(const char *src, size_t len, size_t *outlen)
{
	char	*in, *out;
	size_t	 n;
	int	 r;

	if (len > MAX_ENVELOPE) {
		errno = EMSGSIZE;
		return NULL;
	}
	b64_table();
	n = len / 4 * 3 + 3;
	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	if ((r = b64_fast((const unsigned char *)src, len,
	    (unsigned char *)out)) >= 0) {
		out[r] = '\0';
		if (outlen != NULL)
			*outlen = (size_t)r;
		return out;
	}
	free(out);
	/* b64_pton wants a C string; the input may not be terminated. */
	if ((in = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(in, src, len);
	in[len] = '\0';
	if (strlen(in) != len) {	/* embedded NUL */
		free(in);
		errno = EINVAL;
		return NULL;
	}
	n = len / 4 * 3 + 3;
	if ((out = malloc(n + 1)) == NULL) {
		free(in);
		return NULL;
	}
	r = b64_pton(in, (unsigned char *)out, n);
	free(in);
	if (r < 0) {
		free(out);
		errno = EINVAL;
		return NULL;
	}
	out[r] = '\0';
	if (outlen != NULL)
		*outlen = (size_t)r;
	return out;
}
