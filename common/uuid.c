/*
 * Random (version 4) UUIDs for tickets, delivery tags and reply ids; the
 * hex encoding of ids, nonces and signatures.
 */
#include <sys/types.h>

#include <stdlib.h>

#include "pidbox.h"

/* n bytes as 2n lower-case hex digits at out, without a NUL. */
void
hex_put(char *out, const unsigned char *b, size_t n)
{
	static const char hexd[] = "0123456789abcdef";
	size_t		  i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexd[b[i] >> 4];
		out[2 * i + 1] = hexd[b[i] & 0xf];
	}
}

void
uuid4(char *out)
{
	static const size_t group[] = { 4, 2, 2, 2, 6 };
	unsigned char	 b[16];
	size_t		 i, j, o;

	arc4random_buf(b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;	/* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	/*
	 * 8-4-4-4-12 lower-case hex, by hand: snprintf() with sixteen
	 * conversions was ~6k instructions, one per reply (issue 17).
	 */
	for (i = 0, j = 0, o = 0; i < nitems(group); i++) {
		if (i > 0)
			out[o++] = '-';
		hex_put(out + o, b + j, group[i]);
		o += 2 * group[i];
		j += group[i];
	}
	out[o] = '\0';
}
