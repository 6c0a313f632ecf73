/* Random (version 4) UUIDs for tickets, delivery tags and reply ids. */
#include <sys/types.h>

#include <stdlib.h>

#include "pidbox.h"

void
uuid4(char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char	 b[16];
	size_t		 i, o;

	arc4random_buf(b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;	/* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	/*
	 * 8-4-4-4-12 lower-case hex, by hand: snprintf() with sixteen
	 * conversions was ~6k instructions, one per reply (issue 17).
	 */
	for (i = 0, o = 0; i < sizeof(b); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 0x0f];
	}
	out[o] = '\0';
}
