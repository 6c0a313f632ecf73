/*
 * esc.c and log_vis(): untrusted text never reaches a terminal or a log
 * with a control character in it (issue 10, point 4), and printable text
 * is written as it is.
 */
#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <locale.h>
#include <wchar.h>

#include <cmocka.h>

#define LIBBSD_NETBSD_VIS
#include <vis.h>

#include "pidbox.h"

#define VIS_FLAGS	(VIS_OCTAL | VIS_CSTYLE | VIS_NOSLASH | VIS_NL | VIS_TAB)

static char *
esc(const char *s, size_t len, int flags)
{
	static char	buf[4 * 256 + 1];
	size_t		n;

	assert_true(len <= 256);
	n = esc_text(buf, s, len, flags);
	assert_int_equal(n, strlen(buf));
	return buf;
}

/*
 * Whether s holds a C0 control, DEL, a C1 control or is not UTF-8, read
 * by the C library's own UTF-8 decoder (an independent judge).
 */
static int
has_control(const char *s)
{
	static locale_t	 utf8;
	locale_t	 old;
	mbstate_t	 mbs;
	wchar_t		 wc;
	size_t		 n, len = strlen(s);
	int		 bad = 0;

	/* Only here: vis(3) in test_same_as_vis must see the C locale. */
	if (utf8 == (locale_t)0 &&
	    (utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0)) ==
	    (locale_t)0)
		fail_msg("no C.UTF-8 locale");
	old = uselocale(utf8);
	memset(&mbs, 0, sizeof(mbs));
	while (len > 0 && !bad) {
		n = mbrtowc(&wc, s, len, &mbs);
		if (n == (size_t)-1 || n == (size_t)-2 || n == 0)
			bad = 1;
		else if (wc < 0x20 || (wc >= 0x7f && wc <= 0x9f))
			bad = 1;
		else {
			s += n;
			len -= n;
		}
	}
	uselocale(old);
	return bad;
}

/*
 * Without ESC_UTF8: exactly vis(3), for every byte and pair of bytes;
 * with ESC_SLASH (log_vis()), exactly vis(3) without VIS_NOSLASH.
 */
static void
test_same_as_vis(void **state)
{
	char		in[2], want[16];
	unsigned int	a, b;

	(void)state;
	for (a = 0; a < 256; a++) {
		in[0] = (char)a;
		/*
		 * libbsd's strvisx() looks at the byte after the last one (a
		 * NUL is "\000" before a digit): make it the end it is.
		 */
		in[1] = '\0';
		strvisx(want, in, 1, VIS_FLAGS);
		assert_string_equal(esc(in, 1, 0), want);
		strvisx(want, in, 1, VIS_FLAGS & ~VIS_NOSLASH);
		assert_string_equal(esc(in, 1, ESC_SLASH), want);
		for (b = 0; b < 256; b++) {
			in[1] = (char)b;
			strvisx(want, in, 2, VIS_FLAGS);
			assert_string_equal(esc(in, 2, 0), want);
			strvisx(want, in, 2, VIS_FLAGS & ~VIS_NOSLASH);
			assert_string_equal(esc(in, 2, ESC_SLASH), want);
		}
	}
}

static void
test_printable_unchanged(void **state)
{
	static const char *const same[] = {
		"", "node1", "w1@pidbox-test", "->  web-1: OK", "a\\b \\r",
		"{'name': 'celery'}", "caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac",
		"\xf0\x9f\x98\x80", "\xc2\xa0nbsp", "\xef\xbf\xbd",
	};
	char	all[96];
	size_t	i;

	(void)state;
	for (i = 0; i < nitems(same); i++)
		assert_string_equal(esc(same[i], strlen(same[i]), ESC_UTF8),
		    same[i]);
	for (i = 0; i < 95; i++)
		all[i] = (char)(0x20 + i);
	all[95] = '\0';
	assert_string_equal(esc(all, 95, ESC_UTF8), all);
	assert_string_equal(esc(all, 95, 0), all);
	/* without ESC_UTF8 non-ASCII is octal, as vis(3) in the C locale */
	assert_string_equal(esc("caf\xc3\xa9", 5, 0), "caf\\303\\251");
}

static void
test_controls_escaped(void **state)
{
	static const struct {
		const char	*in, *out;
	} v[] = {
		{ "zz\r->  web-1: OK\x1b[K", "zz\\r->  web-1: OK\\033[K" },
		{ "a\bb\ac", "a\\bb\\ac" },
		{ "\x1b]0;owned\a", "\\033]0;owned\\a" },
		{ "t\tn\nv\vf\f", "t\\tn\\nv\\vf\\f" },
		{ "del\x7f", "del\\177" },
		{ "csi\xc2\x9b" "2J", "csi\\302\\2332J" },	/* U+009B */
		{ "raw\x9b" "2J", "raw\\2332J" },		/* raw C1 byte */
		{ "\xc2\x85nel", "\\302\\205nel" },		/* U+0085 */
		{ "rlo\xe2\x80\xae", "rlo\\342\\200\\256" },	/* U+202E */
		{ "ls\xe2\x80\xa8", "ls\\342\\200\\250" },	/* U+2028 */
		{ "lri\xe2\x81\xa6", "lri\\342\\201\\246" },	/* U+2066 */
		{ "lone\xc3", "lone\\303" },
		{ "cut\xe6\x97", "cut\\346\\227" },
		{ "overlong\xc0\xaf", "overlong\\300\\257" },
		{ "surrogate\xed\xa0\x80", "surrogate\\355\\240\\200" },
		{ "big\xf4\x90\x80\x80", "big\\364\\220\\200\\200" },
		{ "f5\xf5\x80\x80\x80", "f5\\365\\200\\200\\200" },
		{ "\xc3\xa9\xc3", "\xc3\xa9\\303" },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < nitems(v); i++)
		assert_string_equal(esc(v[i].in, strlen(v[i].in), ESC_UTF8),
		    v[i].out);
	/* NUL inside a counted string */
	assert_string_equal(esc("a\0b", 3, ESC_UTF8), "a\\0b");
	assert_string_equal(esc("a\0" "1", 3, ESC_UTF8), "a\\0001");
}

/* Random bytes: never a control out, and always at most 4 bytes per in. */
static void
test_random(void **state)
{
	char		in[256], out[4 * 256 + 1];
	size_t		i, len, n;
	unsigned int	seed = 10;
	int		round;

	(void)state;
	for (round = 0; round < 20000; round++) {
		len = (size_t)(rand_r(&seed) % 256);
		for (i = 0; i < len; i++)
			in[i] = (char)(round % 2 ? rand_r(&seed) :
			    0x80 + rand_r(&seed) % 0x48);
		memset(out, 'X', sizeof(out));
		n = esc_text(out, in, len, round % 3 ? ESC_UTF8 : 0);
		assert_true(n <= 4 * len);
		assert_int_equal(out[n], '\0');
		assert_int_equal(strlen(out), n);
		if (has_control(out))
			fail_msg("round %d: a control got through", round);
	}
}

static void
test_log_vis(void **state)
{
	char	 longer[300];
	const char *s;

	(void)state;
	assert_string_equal(log_viss("ping"), "ping");
	assert_string_equal(log_viss("w1@host.example-2"), "w1@host.example-2");
	assert_string_equal(log_viss("m\r\b\a\x1b[K\x7f"),
	    "m\\r\\b\\a\\033[K\\177");
	assert_string_equal(log_viss("\x1b]0;t\a"), "\\033]0;t\\a");
	assert_string_equal(log_viss("a\tb\nc"), "a\\tb\\nc");
	assert_string_equal(log_viss("\xc2\x9b\x9b\xc3\xa9"),
	    "\\302\\233\\233\\303\\251");
	assert_string_equal(log_viss("a\\b"), "a\\\\b");
	assert_string_equal(log_viss(NULL), "(null)");
	memset(longer, '\r', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	s = log_viss(longer);
	assert_int_equal(strlen(s), 200 * 2 + 3);
	assert_false(has_control(s));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_as_vis),
		cmocka_unit_test(test_printable_unchanged),
		cmocka_unit_test(test_controls_escaped),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_log_vis),
	};

	return cmocka_run_group_tests_name("esc", tests, NULL, NULL);
}
