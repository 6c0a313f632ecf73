/*
 * sdnotify.c: the datagrams of the typed API, byte for byte, as systemd
 * (and tests/integration/90-sdnotify.sh) sees them on NOTIFY_SOCKET:
 * STATUS= lines carry the node's identity, RELOADING=1 its
 * MONOTONIC_USEC=, STOPPING=1 is held back during a reload and nothing
 * follows it.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pidboxd.h"

#define ID	"node hostA, fanout mailbox testbox.pidbox, " \
		"broker redis://:***@localhost:6379/0"

static int	 sock = -1;
static char	 dir[] = "/tmp/t_sdnotify.XXXXXX";
static char	 path[sizeof(dir) + 16];

/* The next datagram, or NULL when none was sent. */
static const char *
next(void)
{
	static char	buf[4096];
	ssize_t		n;

	n = recv(sock, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n == -1) {
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

static int
setup(void **state)
{
	struct sockaddr_un sun;

	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/notify", dir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	if ((sock = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1 ||
	    bind(sock, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		return -1;
	setenv("NOTIFY_SOCKET", path, 1);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	close(sock);
	unlink(path);
	rmdir(dir);
	return 0;
}

static void
t_sequence(void **state)
{
	struct redis_url	 url;
	const char		*m;
	char			 err[256];

	(void)state;
	/* before the identity is known: a bare STATUS= */
	sdnotify_status("starting %d", 1);
	assert_string_equal(next(), "STATUS=starting 1");

	if (redis_url_parse("redis://:secret@localhost:6379/0", &url, err,
	    sizeof(err)) == -1)
		fail_msg("redis_url_parse: %s", err);
	sdnotify_identity("hostA", MAILBOX_FANOUT, "testbox.pidbox", &url);
	redis_url_clear(&url);

	sdnotify_status("connecting to the broker");
	assert_string_equal(next(), "STATUS=" ID ": connecting to the broker");
	sdnotify_ready("listening");
	assert_string_equal(next(), "READY=1\nSTATUS=" ID ": listening");

	/* a reload: RELOADING=1 with the clock, no STOPPING=1 meanwhile */
	sdnotify_reloading();
	m = next();
	assert_non_null(m);
	assert_int_equal(strncmp(m, "RELOADING=1\nMONOTONIC_USEC=", 27), 0);
	assert_true(strlen(m) > 27 && strspn(m + 27, "0123456789") ==
	    strlen(m + 27));
	sdnotify_stopping();
	assert_null(next());
	sdnotify_status("broker connection lost, reconnecting");
	assert_string_equal(next(),
	    "STATUS=" ID ": broker connection lost, reconnecting");
	sdnotify_ready(NULL);
	assert_string_equal(next(), "READY=1");
	assert_null(next());

	/* the end: STOPPING=1 once, then nothing */
	sdnotify_stopping();
	assert_string_equal(next(), "STOPPING=1");
	sdnotify_stopping();
	sdnotify_status("broker connection lost, reconnecting");
	sdnotify_ready("listening");
	sdnotify_reloading();
	assert_null(next());

}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_sequence),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
