/*
 * Escape untrusted text (node names, reply values, error texts, keys: all
 * of it comes from the broker) for pidboxctl's human output. vis(3) with
 * VIS_SAFE lets CR, BS and BEL through, which is enough to overwrite what
 * is on an operator's terminal; and vis(3) escapes every byte >= 0x80,
 * which would change Celery's bytes for a non-ASCII name when piped. So:
 * our own escaper, that writes what vis(3) VIS_OCTAL | VIS_CSTYLE |
 * VIS_NOSLASH | VIS_NL | VIS_TAB writes in the C locale, and with
 * ESC_UTF8 keeps well-formed printable UTF-8 as it is.
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pidbox.h"

/*
 * Length of the well-formed UTF-8 sequence at s (at most len bytes) if
 * it encodes a character that a terminal prints as text, else 0. C1
 * controls (U+0080-U+009F) are not text, nor the characters that reorder
 * or break lines on a terminal that does bidi (U+061C, U+200E, U+200F,
 * U+2028-U+202E, U+2066-U+2069): each could disguise what is shown.
 */
static size_t
utf8_text(const unsigned char *s, size_t len)
{
	uint32_t	cp;
	size_t		n;

	if ((n = utf8_decode(s, len, &cp)) < 2)
		return 0;
	if (cp < 0xa0 || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
		return 0;
	return n;
}

/* The C-style escape letter of control c (vis(3) VIS_CSTYLE), or 0. */
static char
cstyle(unsigned char c)
{
	switch (c) {
	case '\a':
		return 'a';
	case '\b':
		return 'b';
	case '\t':
		return 't';
	case '\n':
		return 'n';
	case '\v':
		return 'v';
	case '\f':
		return 'f';
	case '\r':
		return 'r';
	default:
		return 0;
	}
}

size_t
esc_text(char *dst, const char *src, size_t len, int flags)
{
	const unsigned char	*s = (const unsigned char *)src;
	char			*d = dst, c;
	size_t			 i, n;

	for (i = 0; i < len; i++) {
		if (s[i] == '\\' && (flags & ESC_SLASH)) {
			*d++ = '\\';
			*d++ = '\\';
			continue;
		}
		if (s[i] >= 0x20 && s[i] < 0x7f) {
			*d++ = (char)s[i];
			continue;
		}
		if ((flags & ESC_UTF8) && s[i] >= 0x80 &&
		    (n = utf8_text(s + i, len - i)) > 0) {
			memcpy(d, s + i, n);
			d += n;
			i += n - 1;
			continue;
		}
		*d++ = '\\';
		if ((c = cstyle(s[i])) != 0) {
			*d++ = c;
			continue;
		}
		/* vis(3): "\0", but "\000" when an octal digit follows. */
		if (s[i] == '\0' && (i + 1 == len || s[i + 1] < '0' ||
		    s[i + 1] > '7')) {
			*d++ = '0';
			continue;
		}
		*d++ = (char)('0' + (s[i] >> 6));
		*d++ = (char)('0' + ((s[i] >> 3) & 7));
		*d++ = (char)('0' + (s[i] & 7));
	}
	*d = '\0';
	return (size_t)(d - dst);
}
