/*
 * audit.c: what an audit line shows of a request's arguments (issue 10,
 * point 3): values cut with a marker, lists, objects and nesting bounded,
 * names masked by substring at any depth; a line over the cap loses its
 * arguments, never its validity; a line that cannot be written is
 * reported and leaves no partial line.
 */
#include <sys/types.h>
#include <sys/stat.h>

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

#include "pidboxd.h"

static json_object *
parse(const char *s)
{
	json_object *o;

	if ((o = json_tokener_parse(s)) == NULL)
		fail_msg("cannot parse %s", s);
	return o;
}

/* audit_args(a, m, in) must equal the JSON want. */
static void
expect_args(const struct audit_conf *a, const struct method_conf *m,
    const char *in, const char *want)
{
	json_object	*i, *w, *got;

	i = parse(in);
	w = parse(want);
	got = audit_args(a, m, i);
	if (!json_object_equal(got, w))
		fail_msg("audit_args(%s)\n got  %s\n want %s", in,
		    json_object_to_json_string(got), want);
	json_object_put(got);
	json_object_put(w);
	json_object_put(i);
}

static void
test_mask_substring_any_depth(void **state)
{
	static char		 pin[] = "pin";
	char			*mask[] = { pin };
	struct audit_conf	 a = { .mask = mask, .nmask = 1 };

	(void)state;
	expect_args(NULL, NULL,
	    "{\"msg\": \"hi\", \"db_password\": \"x\", \"PASSWD\": 1,"
	    " \"api_key\": \"x\", \"Client_Secret\": \"x\","
	    " \"nested\": {\"password\": \"x\", \"l\": [{\"auth_token\": 2},"
	    " [{\"sshkey\": {\"a\": 1}}]], \"ok\": true}}",
	    "{\"msg\": \"hi\", \"db_password\": \"***\", \"PASSWD\": \"***\","
	    " \"api_key\": \"***\", \"Client_Secret\": \"***\","
	    " \"nested\": {\"password\": \"***\", \"l\": [{\"auth_token\":"
	    " \"***\"}, [{\"sshkey\": \"***\"}]], \"ok\": true}}");
	/* configured names add to the built-in ones, by substring too */
	expect_args(&a, NULL,
	    "{\"user\": \"bob\", \"MyPin\": 1234, \"token\": \"t\","
	    " \"x\": {\"pin_code\": \"1\"}}",
	    "{\"user\": \"bob\", \"MyPin\": \"***\", \"token\": \"***\","
	    " \"x\": {\"pin_code\": \"***\"}}");
}

static void
test_mask_method_secret(void **state)
{
	static char		user[] = "user", code[] = "code";
	struct arg_spec		args[2];
	struct method_conf	m;

	(void)state;
	memset(args, 0, sizeof(args));
	memset(&m, 0, sizeof(m));
	args[0].name = user;
	args[1].name = code;
	args[1].secret = 1;
	m.args = args;
	m.nargs = 2;
	expect_args(NULL, &m, "{\"user\": \"bob\", \"code\": 42,"
	    " \"codex\": 1}",
	    "{\"user\": \"bob\", \"code\": \"***\", \"codex\": 1}");
}

static void
test_cut_strings(void **state)
{
	json_object	*in, *got, *v;
	char		*big, want[AUDIT_MAX_STRING + 64];
	size_t		 i, n = 100000;

	(void)state;
	big = malloc(n + 1);
	assert_non_null(big);
	/* "x" then 2-byte characters: the cut would fall inside one */
	big[0] = 'x';
	for (i = 1; i + 1 < n; i += 2) {
		big[i] = (char)0xc3;
		big[i + 1] = (char)0xa9;
	}
	big[n - 1] = '\0';
	n = strlen(big);
	in = json_object_new_object();
	json_object_object_add(in, "s", json_object_new_string(big));
	json_object_object_add(in, big, json_object_new_int(1));
	got = audit_args(NULL, NULL, in);
	memcpy(want, big, AUDIT_MAX_STRING - 1);
	snprintf(want + AUDIT_MAX_STRING - 1, sizeof(want) -
	    (AUDIT_MAX_STRING - 1), "...[cut %zu bytes]",
	    n - (AUDIT_MAX_STRING - 1));
	assert_true(json_object_object_get_ex(got, "s", &v));
	assert_string_equal(json_object_get_string(v), want);
	/* names are cut by the same rule */
	assert_true(json_object_object_get_ex(got, want, &v));
	assert_int_equal(json_object_get_int(v), 1);
	/* short strings, and one at the limit, are kept as they are */
	big[AUDIT_MAX_STRING] = '\0';
	big[0] = 'y';
	memset(big + 1, 'y', AUDIT_MAX_STRING - 1);
	json_object_object_add(in, "s", json_object_new_string(big));
	json_object_put(got);
	got = audit_args(NULL, NULL, in);
	assert_true(json_object_object_get_ex(got, "s", &v));
	assert_string_equal(json_object_get_string(v), big);
	json_object_put(got);
	json_object_put(in);
	free(big);
}

static void
test_bound_items_and_depth(void **state)
{
	json_object	*in, *arr, *got, *v, *d;
	char		 k[16];
	int		 i, depth;

	(void)state;
	in = json_object_new_object();
	arr = json_object_new_array();
	for (i = 0; i < 200; i++)
		json_object_array_add(arr, json_object_new_int(i));
	json_object_object_add(in, "list", arr);
	v = json_object_new_object();
	for (i = 0; i < 100; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		json_object_object_add(v, k, json_object_new_int(i));
	}
	json_object_object_add(in, "obj", v);
	d = json_object_new_int(1);
	for (i = 0; i < 20; i++) {
		v = json_object_new_object();
		json_object_object_add(v, "a", d);
		d = v;
	}
	json_object_object_add(in, "deep", d);

	got = audit_args(NULL, NULL, in);
	assert_true(json_object_object_get_ex(got, "list", &arr));
	assert_int_equal(json_object_array_length(arr), AUDIT_MAX_ITEMS + 1);
	assert_int_equal(json_object_get_int(json_object_array_get_idx(arr,
	    AUDIT_MAX_ITEMS - 1)), AUDIT_MAX_ITEMS - 1);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(
	    arr, AUDIT_MAX_ITEMS)), "[cut 136 items]");
	assert_true(json_object_object_get_ex(got, "obj", &v));
	assert_int_equal(json_object_object_length(v), AUDIT_MAX_ITEMS + 1);
	assert_true(json_object_object_get_ex(v, "...", &d));
	assert_string_equal(json_object_get_string(d), "[cut 36 members]");
	assert_true(json_object_object_get_ex(got, "deep", &d));
	for (depth = 1; json_object_is_type(d, json_type_object); depth++)
		assert_true(json_object_object_get_ex(d, "a", &d));
	assert_int_equal(depth, AUDIT_MAX_DEPTH);
	assert_string_equal(json_object_get_string(d),
	    "[cut: nested too deep]");
	json_object_put(got);
	json_object_put(in);
}

/* Many small values: at most AUDIT_MAX_VALUES are copied. */
static void
test_bound_values(void **state)
{
	json_object	*in, *got, *v;
	size_t		 kept;
	int		 i, j;

	(void)state;
	in = json_object_new_array();
	for (i = 0; i < AUDIT_MAX_ITEMS; i++) {
		v = json_object_new_array();
		for (j = 0; j < AUDIT_MAX_ITEMS; j++)
			json_object_array_add(v, json_object_new_int(j));
		json_object_array_add(in, v);
	}
	got = audit_args(NULL, NULL, in);
	kept = 0;
	for (i = 0; i < (int)json_object_array_length(got); i++) {
		v = json_object_array_get_idx(got, (size_t)i);
		if (json_object_is_type(v, json_type_array))
			kept += 1 + json_object_array_length(v);
		else
			kept++;
	}
	if (kept > AUDIT_MAX_VALUES + 2 * AUDIT_MAX_ITEMS)
		fail_msg("%zu values kept", kept);
	json_object_put(got);
	json_object_put(in);
}

/* Read the file at path into buf (NUL-terminated); its length. */
static size_t
slurp(const char *path, char *buf, size_t size)
{
	ssize_t	n;
	int	fd;

	assert_int_not_equal(fd = open(path, O_RDONLY), -1);
	n = read(fd, buf, size - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	return (size_t)n;
}

static void
test_write_line_cap(void **state)
{
	struct audit_conf	 a;
	json_object		*rec, *args, *got, *v;
	char			 path[] = "/tmp/t_audit.XXXXXX", key[16];
	char			*buf, *nl;
	size_t			 len;
	int			 fd, i;

	(void)state;
	assert_int_not_equal(fd = mkstemp(path), -1);
	close(fd);
	memset(&a, 0, sizeof(a));
	a.file = path;
	assert_int_equal(audit_open(&a), 0);
	/* 40 values of 1000 bytes: each under the limit, the line over */
	args = json_object_new_object();
	buf = malloc(1001);
	assert_non_null(buf);
	memset(buf, 'y', 1000);
	buf[1000] = '\0';
	for (i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "a%d", i);
		json_object_object_add(args, key, json_object_new_string(buf));
	}
	rec = json_object_new_object();
	json_object_object_add(rec, "method", json_object_new_string("x"));
	json_object_object_add(rec, "arguments", audit_args(&a, NULL, args));
	json_object_object_add(rec, "arguments_size",
	    json_object_new_int64(40567));
	assert_int_equal(audit_write(rec), 0);
	json_object_put(rec);
	json_object_put(args);
	free(buf);
	buf = malloc(2 * AUDIT_MAX_LINE);
	assert_non_null(buf);
	len = slurp(path, buf, 2 * AUDIT_MAX_LINE);
	assert_true(len <= AUDIT_MAX_LINE + 1);
	assert_non_null(nl = strchr(buf, '\n'));
	assert_int_equal((size_t)(nl - buf) + 1, len);
	got = json_tokener_parse(buf);
	assert_non_null(got);
	assert_true(json_object_object_get_ex(got, "arguments", &v));
	assert_true(json_object_object_get_ex(v, "...", &v));
	assert_string_equal(json_object_get_string(v), "[cut 40567 bytes]");
	json_object_put(got);
	free(buf);
	audit_close();
	unlink(path);
}

static void
test_write_failure_reported(void **state)
{
	static char		 full[] = "/dev/full";
	struct audit_conf	 a;
	json_object		*rec;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.file = full;
	if (audit_open(&a) == -1)
		skip();
	rec = json_object_new_object();
	json_object_object_add(rec, "method", json_object_new_string("x"));
	assert_int_equal(audit_write(rec), -1);
	json_object_put(rec);
	audit_close();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mask_substring_any_depth),
		cmocka_unit_test(test_mask_method_secret),
		cmocka_unit_test(test_cut_strings),
		cmocka_unit_test(test_bound_items_and_depth),
		cmocka_unit_test(test_bound_values),
		cmocka_unit_test(test_write_line_cap),
		cmocka_unit_test(test_write_failure_reported),
	};

	log_init(1, 0, "t_audit");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
