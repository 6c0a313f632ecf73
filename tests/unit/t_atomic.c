/* atomic.c: files replaced whole, or kept when they must not be. */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
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
expect_text(const char *path, const char *want)
{
	char	 buf[64];
	FILE	*f;
	size_t	 n;

	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	assert_string_equal(buf, want);
}

/* Only the file itself in dir: no temporary left behind. */
static void
expect_alone(const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	assert_non_null(d = opendir(dir));
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	assert_int_equal(n, 1);
}

static void
test_replace(void **state)
{
	char		 dir[] = "/tmp/t_atomic.XXXXXX", path[64];
	const char	*e = NULL;
	struct stat	 st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	assert_int_equal(atomic_write(path, "one\n", 4, 0644, 0, &e), 0);
	expect_text(path, "one\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(atomic_write(path, "two\n", 4, 0600, ATOMIC_SYNC,
	    &e), 0);
	expect_text(path, "two\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	expect_alone(dir);

	/* NOREPLACE: the file there stays, EEXIST, nothing left over */
	errno = 0;
	assert_int_equal(atomic_write(path, "three\n", 6, 0600,
	    ATOMIC_SYNC | ATOMIC_NOREPLACE, &e), -1);
	assert_int_equal(errno, EEXIST);
	expect_text(path, "two\n");
	expect_alone(dir);
	unlink(path);
	assert_int_equal(atomic_write(path, "four\n", 5, 0600,
	    ATOMIC_NOREPLACE, &e), 0);
	expect_text(path, "four\n");
	expect_alone(dir);

	/* a directory that is not there */
	snprintf(path, sizeof(path), "%s/no/f", dir);
	assert_int_equal(atomic_write(path, "x", 1, 0600, 0, &e), -1);
	assert_string_equal(e, "cannot create a temporary file");
	snprintf(path, sizeof(path), "%s/f", dir);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
