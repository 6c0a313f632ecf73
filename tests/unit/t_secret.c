/*
 * secret.c: which files secret_read() takes and why it refuses the
 * others. A FIFO must be refused without blocking (the test would hang).
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pidbox.h"

static char	dir[64];

/* dir/name holding len bytes of s, with mode. */
static const char *
mkfile(const char *name, const char *s, size_t len, mode_t mode)
{
	static char	path[128];
	int		fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

static void
refused(const char *file, const char *want)
{
	const char	*errstr = NULL;
	size_t		 len = 99;

	assert_null(secret_read(file, 64, &len, &errstr));
	assert_non_null(errstr);
	if (strstr(errstr, want) == NULL)
		fail_msg("%s: got \"%s\", want \"%s\"", file, errstr, want);
}

static void
test_regular(void **state)
{
	unsigned char	*b;
	const char	*errstr, *f;
	size_t		 len;

	(void)state;
	f = mkfile("ok", "s3cret\n", 7, 0600);
	assert_non_null(b = secret_read(f, 64, &len, &errstr));
	assert_int_equal(len, 7);
	assert_string_equal((char *)b, "s3cret\n");
	freezero(b, 66);
	f = mkfile("empty", "", 0, 0400);
	assert_non_null(b = secret_read(f, 64, &len, &errstr));
	assert_int_equal(len, 0);
	assert_int_equal(b[0], '\0');
	freezero(b, 66);
}

/* At most max + 1 bytes are read: the caller sees "too long". */
static void
test_bounded(void **state)
{
	unsigned char	*b;
	const char	*errstr, *f;
	char		 big[200];
	size_t		 len;

	(void)state;
	memset(big, 'k', sizeof(big));
	f = mkfile("big", big, sizeof(big), 0600);
	assert_non_null(b = secret_read(f, 64, &len, &errstr));
	assert_int_equal(len, 65);
	assert_int_equal(b[65], '\0');
	freezero(b, 66);
	f = mkfile("exact", big, 64, 0600);
	assert_non_null(b = secret_read(f, 64, &len, &errstr));
	assert_int_equal(len, 64);
	freezero(b, 66);
}

static void
test_mode(void **state)
{
	(void)state;
	refused(mkfile("g", "x", 1, 0640),
	    "readable by group or others (mode 0640); chmod 600 it");
	refused(mkfile("o", "x", 1, 0604), "(mode 0604)");
	refused(mkfile("x", "x", 1, 0610), "(mode 0610)");
}

static void
test_not_regular(void **state)
{
	char	path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	refused(path, "not a regular file (a FIFO)");
	refused(dir, "not a regular file (a directory)");
	refused("/dev/null", "not a regular file (a character device)");
	snprintf(path, sizeof(path), "%s/missing", dir);
	refused(path, strerror(ENOENT));
}

static void
test_symlink(void **state)
{
	char	link[128];

	(void)state;
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(symlink(mkfile("target", "x", 1, 0600), link), 0);
	refused(link, "is a symbolic link");
}

static void
test_owner(void **state)
{
	const char	*f;

	(void)state;
	if (geteuid() != 0)
		skip();
	f = mkfile("foreign", "x", 1, 0600);
	assert_int_equal(chown(f, 65534, (gid_t)-1), 0);
	refused(f, "owned by uid 65534; must be owned by root");
	assert_int_equal(chown(f, 0, (gid_t)-1), 0);
	refused(mkfile("foreign", "x", 1, 0640), "(mode 0640)");
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s/t_secret.XXXXXX",
	    getenv("TMPDIR") != NULL && strlen(getenv("TMPDIR")) < 32 ?
	    getenv("TMPDIR") : "/tmp");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	const char	*names[] = { "ok", "empty", "big", "exact", "g", "o",
	    "x", "fifo", "link", "target", "foreign" };
	char		 path[128];
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		(void)unlink(path);
	}
	return rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regular),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_mode),
		cmocka_unit_test(test_not_regular),
		cmocka_unit_test(test_symlink),
		cmocka_unit_test(test_owner),
	};

	return cmocka_run_group_tests_name("secret", tests, setup, teardown);
}
