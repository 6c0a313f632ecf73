/*
 * redis_url.c: kombu broker URLs, their defaults, the errors that name
 * the wrong part, and the redacted form that never shows a password.
 */
#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "pidbox.h"

struct good {
	const char	*url;
	int		 is_unix;
	const char	*host;		/* or socket path */
	int		 port, db;
	const char	*user, *password, *keyprefix;
	int		 fp_set;
	const char	*fp;
	double		 connect_timeout, socket_timeout, health;
	const char	*redacted;
};

static const struct good goods[] = {
	{ "redis://", 0, "localhost", 6379, 0, "", "", "", 0, "", 5, 0, 0,
	    "redis://localhost:6379/0" },
	{ "redis://localhost", 0, "localhost", 6379, 0, "", "", "", 0, "",
	    5, 0, 0, "redis://localhost:6379/0" },
	{ "redis://127.0.0.1:6391/0", 0, "127.0.0.1", 6391, 0, "", "", "", 0,
	    "", 5, 0, 0, "redis://127.0.0.1:6391/0" },
	{ "REDIS://Cache.Example.COM:1/15", 0, "cache.example.com", 1, 15,
	    "", "", "", 0, "", 5, 0, 0, "redis://cache.example.com:1/15" },
	{ "redis://h/", 0, "h", 6379, 0, "", "", "", 0, "", 5, 0, 0,
	    "redis://h:6379/0" },
	{ "redis://h:/2", 0, "h", 6379, 2, "", "", "", 0, "", 5, 0, 0,
	    "redis://h:6379/2" },
	{ "redis://:s3cret@h:6380/1", 0, "h", 6380, 1, "", "s3cret", "", 0,
	    "", 5, 0, 0, "redis://:***@h:6380/1" },
	{ "redis://bob:s3cret@h", 0, "h", 6379, 0, "bob", "s3cret", "", 0,
	    "", 5, 0, 0, "redis://bob:***@h:6379/0" },
	{ "redis://bob@h", 0, "h", 6379, 0, "bob", "", "", 0, "", 5, 0, 0,
	    "redis://bob@h:6379/0" },
	{ "redis://u%40x:p%3Aa%2Fb%25@h", 0, "h", 6379, 0, "u@x", "p:a/b%",
	    "", 0, "", 5, 0, 0, "redis://u@x:***@h:6379/0" },
	{ "redis://:p@ss@h", 0, "h", 6379, 0, "", "p@ss", "", 0, "", 5, 0, 0,
	    "redis://:***@h:6379/0" },
	{ "redis://[::1]:7000/3", 0, "::1", 7000, 3, "", "", "", 0, "", 5, 0,
	    0, "redis://[::1]:7000/3" },
	{ "redis://[fe80::1%25eth0]", 0, "fe80::1%25eth0", 6379, 0, "", "",
	    "", 0, "", 5, 0, 0, "redis://[fe80::1%25eth0]:6379/0" },
	{ "redis://h/1000000", 0, "h", 6379, 1000000, "", "", "", 0, "", 5,
	    0, 0, "redis://h:6379/1000000" },
	{ "redis://h/1?db=4", 0, "h", 6379, 4, "", "", "", 0, "", 5, 0, 0,
	    "redis://h:6379/4" },
	{ "redis://h?global_keyprefix=pfx%3A&fanout_prefix=false", 0, "h",
	    6379, 0, "", "", "pfx:", 1, "", 5, 0, 0, "redis://h:6379/0" },
	{ "redis://h?fanout_prefix=True", 0, "h", 6379, 0, "", "", "", 1,
	    "/{db}.", 5, 0, 0, "redis://h:6379/0" },
	{ "redis://h?fanout_prefix=no", 0, "h", 6379, 0, "", "", "", 1, "",
	    5, 0, 0, "redis://h:6379/0" },
	{ "redis://h?fanout_prefix=%2Fcustom.", 0, "h", 6379, 0, "", "", "",
	    1, "/custom.", 5, 0, 0, "redis://h:6379/0" },
	{ "redis://h?socket_timeout=2.5&socket_connect_timeout=0.5&"
	    "health_check_interval=30", 0, "h", 6379, 0, "", "", "", 0, "",
	    0.5, 2.5, 30, "redis://h:6379/0" },
	{ "redis://h?&db=2&", 0, "h", 6379, 2, "", "", "", 0, "", 5, 0, 0,
	    "redis://h:6379/2" },
	{ "redis://h?global_keyprefix=a+b", 0, "h", 6379, 0, "", "", "a b",
	    0, "", 5, 0, 0, "redis://h:6379/0" },
	{ "unix:///run/redis/redis.sock", 1, "/run/redis/redis.sock", 0, 0,
	    "", "", "", 0, "", 5, 0, 0, "unix:///run/redis/redis.sock?db=0" },
	{ "unix:///tmp/r%20s.sock?db=3", 1, "/tmp/r s.sock", 0, 3, "", "",
	    "", 0, "", 5, 0, 0, "unix:///tmp/r s.sock?db=3" },
	{ "redis+socket:///tmp/r.sock?db=1", 1, "/tmp/r.sock", 0, 1, "", "",
	    "", 0, "", 5, 0, 0, "unix:///tmp/r.sock?db=1" },
	{ "socket:///tmp/r.sock", 1, "/tmp/r.sock", 0, 0, "", "", "", 0, "",
	    5, 0, 0, "unix:///tmp/r.sock?db=0" },
	{ "unix://:pw@/tmp/r.sock", 1, "/tmp/r.sock", 0, 0, "", "pw", "", 0,
	    "", 5, 0, 0, "unix://:***@/tmp/r.sock?db=0" },
};

struct bad {
	const char	*url;
	const char	*err;		/* exact message */
};

static const struct bad bads[] = {
	{ "", "empty redis URL "
	    "(want redis://, rediss://, unix://, redis+socket:// or sentinel://)" },
	{ "localhost:6379", "not a redis URL "
	    "(want redis://, rediss://, unix://, redis+socket:// or sentinel://)" },
	{ "amqp://guest:guest@h//", "unsupported scheme \"amqp\" "
	    "(want redis://, rediss://, unix://, redis+socket:// or sentinel://)" },
	{ "sentinel://h:26379", "sentinel URL without master_name "
	    "(add ?master_name=mymaster)" },
	{ "sentinel://a;redis://b?master_name=m", "every part of a sentinel "
	    "URL must be sentinel://host:port" },
	{ "sentinel://a:0?master_name=m", "bad port \"0\" in redis URL" },
	{ "sentinel://a;;?master_name=m", "every part of a sentinel URL must "
	    "be sentinel://host:port" },
	{ "sentinel://a;sentinel://b;sentinel://c;sentinel://d;sentinel://e;"
	    "sentinel://f;sentinel://g;sentinel://h;sentinel://i?master_name=m",
	    "too many sentinels in redis URL (max 8)" },
	{ "redis://h?master_name=m", "master_name, sentinel_password and "
	    "sentinel_ssl only apply to sentinel:// URLs" },
	{ "sentinel://a?master_name=", "bad master_name in redis URL "
	    "(1 to 127 bytes)" },
	{ "redis://h?ssl_ca_certs=/ca.pem",
	    "ssl_* options need a rediss:// URL" },
	{ "redis://h?ssl=true",
	    "ssl= only applies to sentinel:// URLs; for TLS use rediss://" },
	{ "rediss://h?ssl_cert_reqs=maybe", "bad ssl_cert_reqs \"maybe\" in "
	    "redis URL (want required, optional or none)" },
	{ "rediss://h?sentinel_ssl=true", "master_name, sentinel_password and "
	    "sentinel_ssl only apply to sentinel:// URLs" },
	{ "sentinel://a?master_name=m&ssl_ca_certs=/ca.pem", "ssl_* options in "
	    "a sentinel URL need ssl=true (TLS to the master) or "
	    "sentinel_ssl=true (TLS to the sentinels)" },
	{ "redis://h:70000/0", "bad port \"70000\" in redis URL" },
	{ "redis://h:0", "bad port \"0\" in redis URL" },
	{ "redis://h:http", "bad port \"http\" in redis URL" },
	{ "redis://h:1:2", "bad port \"1:2\" in redis URL" },
	{ "redis://h:-1", "bad port \"-1\" in redis URL" },
	{ "redis://h:123456789012345678", "bad port \"123456789012345678\" in "
	    "redis URL" },
	{ "redis://h/x", "bad db \"x\" in redis URL (invalid)" },
	{ "redis://h/-1", "bad db \"-1\" in redis URL (too small)" },
	{ "redis://h/1000001", "bad db \"1000001\" in redis URL (too large)" },
	{ "redis://h/0/", "bad db \"0/\" in redis URL (invalid)" },
	{ "redis://h?db=x", "bad db \"x\" in redis URL (invalid)" },
	{ "redis://h/01234567890123456789", "bad db \"01234567890123456789\" "
	    "in redis URL" },
	{ "redis://h?foo=1", "unknown option \"foo\" in redis URL" },
	{ "redis://h?password=x", "unknown option \"password\" in redis URL" },
	{ "redis://h?db", "bad option \"db\" in redis URL (want name=value)" },
	{ "redis://h?socket_timeout=-1", "bad socket_timeout \"-1\" in redis "
	    "URL (want seconds, 0 to 1000000)" },
	{ "redis://h?socket_connect_timeout=nan", "bad socket_connect_timeout"
	    " \"nan\" in redis URL (want seconds, 0 to 1000000)" },
	{ "redis://h?health_check_interval=", "bad health_check_interval \"\""
	    " in redis URL (want seconds, 0 to 1000000)" },
	{ "redis://h?socket_timeout=0x10", "bad socket_timeout \"0x10\" in "
	    "redis URL (want seconds, 0 to 1000000)" },
	{ "redis://h?socket_timeout=1e9", "bad socket_timeout \"1e9\" in "
	    "redis URL (want seconds, 0 to 1000000)" },
	{ "redis://[::1/0", "bad host \"[::1\" in redis URL" },
	{ "redis://[::1]x/0", "bad host \"[::1]x\" in redis URL" },
	{ "redis://[]/0", "bad host \"[]\" in redis URL" },
	{ "redis://h st/0", "bad host \"h st\" in redis URL" },
	{ "redis://:a/b@h", "bad redis URL: '@' after the host part (is there "
	    "an unescaped '/' or '?' in the password? percent-encode it)" },
	{ "redis://:12/b@h", "bad redis URL: '@' after the host part (is there"
	    " an unescaped '/' or '?' in the password? percent-encode it)" },
	{ "unix://:a/b@/tmp/s", "bad redis URL: '@' after the host part (is "
	    "there an unescaped '/' or '?' in the password? percent-encode "
	    "it)" },
	{ "redis://:pw@h#x", "fragment (\"#...\") not supported in redis URL;"
	    " percent-encode '#' as %23" },
	{ "redis://:p%zzw@h", "bad percent-encoding in password of redis URL" },
	{ "redis://:p%00w@h", "bad percent-encoding in password of redis URL" },
	{ "redis://u%2@h", "bad percent-encoding in user of redis URL" },
	{ "unix://", "missing socket path in unix socket URL "
	    "(want unix:///path)" },
	{ "unix:///", "missing socket path in unix socket URL "
	    "(want unix:///path)" },
	{ "unix://h/tmp/r.sock", "unexpected host \"h\" in unix socket URL "
	    "(want unix:///path)" },
	{ "unix:///tmp/r.sock?db=99999999", "bad db \"99999999\" in redis URL"
	    " (too large)" },
	{ "unix:///" "0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789",
	    "socket path too long in redis URL (max 107)" },
};

static void
test_good_urls(void **state)
{
	struct redis_url u;
	char		 err[256], red[512];
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(goods); i++) {
		const struct good *g = &goods[i];

		if (redis_url_parse(g->url, &u, err, sizeof(err)) == -1)
			fail_msg("goods[%zu] %s: %s", i, g->url, err);
		if (u.is_unix != g->is_unix ||
		    strcmp(g->is_unix ? u.path : u.host, g->host) != 0 ||
		    u.port != g->port || u.db != g->db ||
		    strcmp(u.user, g->user) != 0 ||
		    strcmp(u.password, g->password) != 0 ||
		    strcmp(u.keyprefix, g->keyprefix) != 0 ||
		    u.fanout_prefix_set != g->fp_set ||
		    strcmp(u.fanout_prefix, g->fp) != 0 ||
		    u.connect_timeout != g->connect_timeout ||
		    u.socket_timeout != g->socket_timeout ||
		    u.health_check_interval != g->health)
			fail_msg("goods[%zu] %s: host/path \"%s\" port %d db %d"
			    " user \"%s\" keyprefix \"%s\" fanout %d \"%s\""
			    " timeouts %g %g %g", i, g->url,
			    g->is_unix ? u.path : u.host, u.port, u.db, u.user,
			    u.keyprefix, u.fanout_prefix_set, u.fanout_prefix,
			    u.connect_timeout, u.socket_timeout,
			    u.health_check_interval);
		redis_url_redacted(&u, red, sizeof(red));
		if (strcmp(red, g->redacted) != 0)
			fail_msg("goods[%zu] %s: redacted \"%s\", want \"%s\"", i,
			    g->url, red, g->redacted);
		redis_url_clear(&u);
	}
}

static void
test_bad_urls(void **state)
{
	struct redis_url u;
	char		 err[256];
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(bads); i++) {
		err[0] = '\0';
		if (redis_url_parse(bads[i].url, &u, err, sizeof(err)) != -1)
			fail_msg("bads[%zu] %s: accepted", i, bads[i].url);
		if (strcmp(err, bads[i].err) != 0)
			fail_msg("bads[%zu] %s: error \"%s\", want \"%s\"", i,
			    bads[i].url, err, bads[i].err);
		/* nothing secret is left behind after a failure */
		if (u.password[0] != '\0')
			fail_msg("bads[%zu] %s: password kept", i, bads[i].url);
	}
}

/* Neither the redacted form nor any error message shows the password. */
static void
test_password_never_shown(void **state)
{
	static const char *const urls[] = {
		"redis://:Zq9secret@h",
		"redis://user:Zq9secret@h:6380/2",
		"unix://:Zq9secret@/tmp/r.sock?db=1",
		"redis://:Zq9secret@h:99999",
		"redis://:Zq9secret@h/x",
		"redis://:Zq9secret@h?bogus=1",
		"redis://:Zq9secret@[::1",
		"redis://:Zq9secret%zz@h",
		"redis://:Zq9secret@h#frag",
		"rediss://:Zq9secret@h",
		"rediss://:Zq9secret@h?ssl_cert_reqs=bogus",
		"sentinel://:Zq9secret@h?master_name=m&sentinel_password=Zq9x",
		"sentinel://h?master_name=m&sentinel_password=Zq9x&ssl=1",
		"amqp://:Zq9secret@h",
		"unix://:Zq9secret@host/tmp/r.sock",
		"redis://:Zq9secret/@h",
		"redis://:Zq9/secret@h",
		"redis://:Zq9?secret@h",
		"redis://:[Zq9/secret@h",
		"unix://:Zq9/secret@/tmp/r.sock",
		"redis://:1234/Zq9secret@h",
		"redis://:1234?Zq9secret@h",
		"redis://:1234?Zq9=secret@h",
	};
	struct redis_url u;
	char		 err[256], red[512];
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(urls); i++) {
		err[0] = red[0] = '\0';
		if (redis_url_parse(urls[i], &u, err, sizeof(err)) == 0)
			redis_url_redacted(&u, red, sizeof(red));
		if (strstr(err, "Zq9") != NULL || strstr(red, "Zq9") != NULL)
			fail_msg("urls[%zu]: password shown: \"%s\" \"%s\"", i,
			    err, red);
		redis_url_clear(&u);
	}
}

/* redis_url_clear wipes everything; a short buffer truncates safely. */
static void
test_clear_and_short_buffers(void **state)
{
	struct redis_url u;
	char		 err[8], red[12];
	size_t		 i;

	(void)state;
	assert_int_equal(redis_url_parse("redis://:pw@host:6379/0", &u, err,
	    sizeof(err)), 0);
	redis_url_redacted(&u, red, sizeof(red));
	assert_string_equal(red, "redis://:**");
	redis_url_clear(&u);
	for (i = 0; i < sizeof(u); i++)
		assert_int_equal(((unsigned char *)&u)[i], 0);
	redis_url_clear(NULL);
	assert_int_equal(redis_url_parse("redis://h:0", &u, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "bad por");
	assert_int_equal(redis_url_parse("redis://h:0", &u, NULL, 0), -1);
	assert_int_equal(redis_url_parse(NULL, &u, err, sizeof(err)), -1);
}

/* Regress for issue 5: kombu's sentinel:// list and its channel prefix. */
static void
test_sentinel(void **state)
{
	struct redis_url u;
	struct names	 nm;
	const char	*errstr;
	char		 err[256], red[512];

	(void)state;
	assert_int_equal(redis_url_parse("sentinel://:pw@h1:26380/2;"
	    "sentinel://H2;sentinel://[::1]:5?master_name=mymaster&"
	    "health_check_interval=3", &u, err, sizeof(err)), 0);
	assert_int_equal(u.nsentinels, 3);
	assert_string_equal(u.sentinels[0].host, "h1");
	assert_int_equal(u.sentinels[0].port, 26380);
	assert_string_equal(u.sentinels[1].host, "h2");
	assert_int_equal(u.sentinels[1].port, 26379);
	assert_string_equal(u.sentinels[2].host, "::1");
	assert_int_equal(u.sentinels[2].port, 5);
	assert_string_equal(u.master_name, "mymaster");
	assert_string_equal(u.password, "pw");
	assert_int_equal(u.db, 2);
	assert_true(u.health_check_set);
	assert_true(u.health_check_interval == 3);
	redis_url_redacted(&u, red, sizeof(red));
	assert_string_equal(red, "sentinel://:***@h1:26380/2;sentinel://"
	    "h2:26379;sentinel://[::1]:5?master_name=mymaster");
	/* kombu < 5.4 left "{db}" unformatted on sentinel (spec 1.5) */
	assert_int_equal(names_init(&nm, "celery", "w1", MAILBOX_FANOUT, u.db,
	    u.keyprefix, u.fanout_prefix, &errstr), 0);
	assert_string_equal(nm.fanout_channel, "/{db}.celery.pidbox");
	/* and, by default, kombu >= 5.4's formatted one beside it */
	assert_string_equal(u.fanout_prefix2, "/{db}.");
	assert_int_equal(names_fanout_also(&nm, u.db, u.fanout_prefix2,
	    &errstr), 0);
	assert_string_equal(nm.fanout_channel2, "/2.celery.pidbox");
	redis_url_clear(&u);
	/* kombu >= 5.4's channel alone, on request */
	assert_int_equal(redis_url_parse("sentinel://h?master_name=m&"
	    "fanout_prefix=/0.", &u, err, sizeof(err)), 0);
	assert_string_equal(u.fanout_prefix2, "");
	assert_int_equal(names_init(&nm, "celery", "w1", MAILBOX_FANOUT, u.db,
	    u.keyprefix, u.fanout_prefix, &errstr), 0);
	assert_string_equal(nm.fanout_channel, "/0.celery.pidbox");
	/* a second channel equal to the first is none */
	assert_int_equal(names_fanout_also(&nm, 0, "/0.", &errstr), 0);
	assert_string_equal(nm.fanout_channel2, "");
	/* plain redis:// still formats {db} */
	assert_int_equal(redis_url_parse("redis://h/3", &u, err, sizeof(err)),
	    0);
	assert_false(u.health_check_set);
	assert_int_equal(names_init(&nm, "celery", "w1", MAILBOX_FANOUT, u.db,
	    u.keyprefix, NULL, &errstr), 0);
	assert_string_equal(nm.fanout_channel, "/3.celery.pidbox");
}

/* rediss:// and its options, in kombu's and redis-py's spellings. */
static void
test_tls(void **state)
{
	struct redis_url u;
	char		 err[256], red[512];

	(void)state;
	assert_int_equal(redis_url_parse("rediss://:pw@h:6380/2?"
	    "ssl_cert_reqs=CERT_REQUIRED&ssl_ca_certs=%2Fetc%2Fca.pem&"
	    "ssl_certfile=/c.pem&ssl_keyfile=/k.pem&ssl_ca_path=/etc/ssl/certs",
	    &u, err, sizeof(err)), 0);
	assert_int_equal(u.tls.on, 1);
	assert_int_equal(u.tls.verify, TLS_VERIFY_REQUIRED);
	assert_string_equal(u.tls.ca_file, "/etc/ca.pem");
	assert_string_equal(u.tls.ca_dir, "/etc/ssl/certs");
	assert_string_equal(u.tls.cert_file, "/c.pem");
	assert_string_equal(u.tls.key_file, "/k.pem");
	assert_int_equal(u.port, 6380);
	assert_string_equal(redis_url_redacted(&u, red, sizeof(red)),
	    "rediss://:***@h:6380/2");
	redis_url_clear(&u);

	/* verification is on unless asked off; kombu's words, any case */
	assert_int_equal(redis_url_parse("rediss://h", &u, err, sizeof(err)),
	    0);
	assert_int_equal(u.tls.verify, TLS_VERIFY_REQUIRED);
	assert_int_equal(u.port, 6379);
	assert_int_equal(redis_url_parse("rediss://h?ssl_cert_reqs=none", &u,
	    err, sizeof(err)), 0);
	assert_int_equal(u.tls.verify, TLS_VERIFY_NONE);
	assert_int_equal(redis_url_parse("rediss://h?ssl_cert_reqs=CERT_NONE",
	    &u, err, sizeof(err)), 0);
	assert_int_equal(u.tls.verify, TLS_VERIFY_NONE);
	assert_int_equal(redis_url_parse("rediss://h?ssl_cert_reqs=Optional",
	    &u, err, sizeof(err)), 0);
	assert_int_equal(u.tls.verify, TLS_VERIFY_OPTIONAL);

	/* sentinels: TLS to the master and/or the sentinels, own password */
	assert_int_equal(redis_url_parse("sentinel://:mpw@a:1;sentinel://b:2?"
	    "master_name=m&ssl=true&sentinel_ssl=true&sentinel_password=spw&"
	    "ssl_ca_certs=/ca.pem", &u, err, sizeof(err)), 0);
	assert_int_equal(u.tls.on, 1);
	assert_int_equal(u.sentinel_tls.on, 1);
	assert_string_equal(u.sentinel_tls.ca_file, "/ca.pem");
	assert_string_equal(u.password, "mpw");
	assert_string_equal(u.sentinel_password, "spw");
	assert_string_equal(redis_url_redacted(&u, red, sizeof(red)),
	    "sentinel://:***@a:1/0;sentinel://b:2?master_name=m&ssl=true&"
	    "sentinel_ssl=true");
	redis_url_clear(&u);
	assert_int_equal(redis_url_parse("sentinel://a?master_name=m&"
	    "sentinel_ssl=1", &u, err, sizeof(err)), 0);
	assert_int_equal(u.tls.on, 0);
	assert_int_equal(u.sentinel_tls.on, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_urls),
		cmocka_unit_test(test_bad_urls),
		cmocka_unit_test(test_password_never_shown),
		cmocka_unit_test(test_clear_and_short_buffers),
		cmocka_unit_test(test_sentinel),
		cmocka_unit_test(test_tls),
	};

	return cmocka_run_group_tests_name("redis_url", tests, NULL, NULL);
}
