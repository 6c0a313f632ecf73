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
