/*
 * Unit tests for cli/verscmp.c: exactly strverscmp()'s order (issue 17),
 * over hand-picked pairs and many generated names: digit runs with and
 * without leading zeros, equal prefixes, one name a prefix of the other,
 * digits next to non-digits.
 */
#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pidboxctl.h"

static int
sign(int x)
{
	return (x > 0) - (x < 0);
}

static void
same(const char *a, const char *b)
{
	if (sign(verscmp(a, b)) != sign(strverscmp(a, b)) ||
	    sign(verscmp(b, a)) != sign(strverscmp(b, a)))
		fail_msg("\"%s\" vs \"%s\": %d, strverscmp %d", a, b,
		    verscmp(a, b), strverscmp(a, b));
}

static void
t_pairs(void **state)
{
	static const char *const v[] = {
		"", "0", "00", "000", "01", "010", "09", "1", "9", "10", "99",
		"100", "a", "a0", "a00", "a01", "a1", "a10", "a2", "web-2",
		"web-10", "web-010", "web-0010", "web-1", "web-01", "web-001",
		"web-1a", "web-1.2", "web-1.10", "web-1.02", "sim1234",
		"sim1240", "sim124", "sim12400", "sim0123", "sim00123",
		"x1y2", "x1y10", "x01y2", "x10y1", "1.0", "1.01", "1.001",
		"celery@w1", "celery@w10", "celery@w2", "-", "--1", "a-0-1",
	};
	static const char *const doc[] = {
		"000", "00", "01", "010", "09", "0", "1", "9", "10",
	};
	size_t	i, j;

	(void)state;
	for (i = 0; i < nitems(v); i++)
		for (j = 0; j < nitems(v); j++)
			same(v[i], v[j]);
	/* the order strverscmp(3) documents */
	for (i = 0; i + 1 < nitems(doc); i++)
		if (verscmp(doc[i], doc[i + 1]) >= 0)
			fail_msg("%s before %s", doc[i], doc[i + 1]);
	assert_true(verscmp("web-2", "web-10") < 0);
	assert_int_equal(verscmp("sim7", "sim7"), 0);
}

static uint32_t
next(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* A name of up to 10 bytes, mostly digits, from a small alphabet. */
static void
gen(uint32_t *x, char *s)
{
	static const char alpha[] = "0000111999aZ-.@";
	size_t	i, n = next(x) % 11;

	for (i = 0; i < n; i++)
		s[i] = alpha[next(x) % (sizeof(alpha) - 1)];
	s[n] = '\0';
}

static void
t_generated(void **state)
{
	char		a[16], b[32];	/* b: a's prefix, then a name */
	uint32_t	x = 2463534242u;
	size_t		i, k, n;

	(void)state;
	for (i = 0; i < 500000; i++) {
		gen(&x, a);
		switch (next(&x) % 3) {
		case 0:		/* unrelated */
			gen(&x, b);
			break;
		case 1:		/* a shared prefix, then anything */
			n = strlen(a);
			k = n == 0 ? 0 : next(&x) % (n + 1);
			memcpy(b, a, k);
			gen(&x, b + k);
			break;
		default:	/* one byte changed, or cut short */
			memcpy(b, a, sizeof(a));
			n = strlen(a);
			if (n > 0 && next(&x) % 4 != 0)
				b[next(&x) % n] = "0019a."[next(&x) % 6];
			else if (n > 0)
				b[next(&x) % n] = '\0';
			break;
		}
		same(a, b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_pairs),
		cmocka_unit_test(t_generated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
