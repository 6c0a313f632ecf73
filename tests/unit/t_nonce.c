/* nonce.c: every nonce is remembered until its expiry, within a bound. */
#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "pidboxd.h"

static void
nonce(char *buf, int i)
{
	snprintf(buf, SIGN_NONCELEN + 1, "%0*d", SIGN_NONCELEN, i);
}

static void
test_replay(void **state)
{
	struct nonce_cache	*c;
	char			 a[SIGN_NONCELEN + 1], b[SIGN_NONCELEN + 1];

	(void)state;
	assert_non_null(c = nonce_cache_new(4));
	nonce(a, 1);
	nonce(b, 2);
	assert_int_equal(nonce_cache_add(c, a, 100.0, 10.0), 0);
	assert_int_equal(nonce_cache_add(c, a, 100.0, 11.0), 1);
	assert_int_equal(nonce_cache_add(c, b, 100.0, 12.0), 0);
	assert_int_equal(nonce_cache_add(c, a, 100.0, 99.0), 1);
	nonce_cache_free(c);
}

/* Full: refused until entries expire, then they make room. */
static void
test_bound(void **state)
{
	struct nonce_cache	*c;
	char			 n[SIGN_NONCELEN + 1];
	int			 i;

	(void)state;
	assert_non_null(c = nonce_cache_new(8));
	for (i = 0; i < 8; i++) {
		nonce(n, i);
		assert_int_equal(nonce_cache_add(c, n, 50.0 + i, 10.0), 0);
	}
	nonce(n, 100);
	assert_int_equal(nonce_cache_add(c, n, 200.0, 10.0), -1);
	/* at 53.5 the first four have expired */
	for (i = 100; i < 104; i++) {
		nonce(n, i);
		assert_int_equal(nonce_cache_add(c, n, 200.0, 53.5), 0);
	}
	nonce(n, 104);
	assert_int_equal(nonce_cache_add(c, n, 200.0, 53.5), -1);
	/* the unexpired ones are still remembered */
	nonce(n, 7);
	assert_int_equal(nonce_cache_add(c, n, 200.0, 53.5), 1);
	nonce_cache_free(c);
	nonce_cache_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
