/* nonce.c: every nonce is remembered until its expiry, within a bound. */
#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/*
 * Kept in a file (issue 13): what was added comes back in a new cache,
 * expired entries do not, the start time is kept, a line cut by a crash
 * is skipped; a damaged file starts a new cache from now.
 */
static void
test_file(void **state)
{
	struct nonce_cache	*c;
	char			 dir[] = "/tmp/t_nonce.XXXXXX", path[64];
	char			 a[SIGN_NONCELEN + 1], b[SIGN_NONCELEN + 1];
	FILE			*f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/nonces", dir);
	nonce(a, 1);
	nonce(b, 2);
	assert_non_null(c = nonce_cache_new(16));
	assert_int_equal(nonce_cache_open(c, path, 1000.0, NULL), 0);
	assert_true(nonce_cache_since(c) == 1000.0);
	assert_int_equal(nonce_cache_add(c, a, 2000.0, 1001.0), 0);
	assert_int_equal(nonce_cache_add(c, b, 1010.0, 1001.0), 0);
	assert_int_equal(nonce_cache_dirty(c), 1);
	nonce_cache_sync(c);
	assert_int_equal(nonce_cache_dirty(c), 0);
	nonce_cache_free(c);	/* as a crash: nothing more is written */
	assert_non_null(f = fopen(path, "a"));
	fputs("0123456789abcdef0123", f);	/* a cut record */
	fclose(f);

	assert_non_null(c = nonce_cache_new(16));
	assert_int_equal(nonce_cache_open(c, path, 1500.0, NULL), 0);
	assert_true(nonce_cache_since(c) == 1000.0);
	assert_int_equal(nonce_cache_add(c, a, 2000.0, 1500.0), 1);
	assert_int_equal(nonce_cache_add(c, b, 2000.0, 1500.0), 0);
	nonce_cache_free(c);

	assert_non_null(f = fopen(path, "w"));
	fputs("garbage\n", f);
	fclose(f);
	assert_non_null(c = nonce_cache_new(16));
	assert_int_equal(nonce_cache_open(c, path, 3000.5, NULL), 0);
	assert_true(nonce_cache_since(c) == 3000.5);
	nonce_cache_free(c);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
