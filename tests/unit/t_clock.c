/*
 * clock.c: kombu's LamportClock. Replays every sequence of
 * vectors/clock.jsonl as its own test.
 */
#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "pidbox.h"
#include "vectors.h"

#define VECTOR_FILE	"clock.jsonl"
#define VECTOR_COUNT	5	/* records in the file (vectors/README.md) */

/*
 * One sequence: recv adjusts with header_clock (null = 0), send_* forwards
 * and emits the new value.
 */
static void
test_vector(void **state)
{
	json_object	*rec = *state, *steps, *step, *v;
	struct lamport	 c;
	const char	*op, *name;
	int64_t		 got, want;
	size_t		 i;
	int		 line;

	line = json_object_get_int(json_object_object_get(rec, "_line"));
	name = jstr(rec, "name");
	c.value = json_object_get_int64(json_object_object_get(rec,
	    "initial_value"));
	if (!json_object_object_get_ex(rec, "steps", &steps) ||
	    json_object_array_length(steps) == 0)
		fail_msg("%s:%d %s: no steps", VECTOR_FILE, line, name);
	for (i = 0; i < json_object_array_length(steps); i++) {
		step = json_object_array_get_idx(steps, i);
		got = 0;
		if ((op = jstr(step, "op")) == NULL)
			fail_msg("%s:%d %s: step %zu has no op", VECTOR_FILE,
			    line, name, i);
		if (strcmp(op, "recv") == 0) {
			v = json_object_object_get(step, "header_clock");
			got = clock_adjust(&c, v != NULL ?
			    json_object_get_int64(v) : 0);
		} else if (strncmp(op, "send_", 5) == 0) {
			got = clock_forward(&c);
			want = json_object_get_int64(json_object_object_get(
			    step, "header_clock_emitted"));
			if (got != want)
				fail_msg("%s:%d %s: step %zu (%s) emitted %jd,"
				    " want %jd", VECTOR_FILE, line, name, i,
				    op, (intmax_t)got, (intmax_t)want);
		} else
			fail_msg("%s:%d %s: step %zu: unknown op %s",
			    VECTOR_FILE, line, name, i, op);
		want = json_object_get_int64(json_object_object_get(step,
		    "value_after"));
		if (c.value != want || got != want)
			fail_msg("%s:%d %s: step %zu (%s) value %jd, want %jd",
			    VECTOR_FILE, line, name, i, op, (intmax_t)c.value,
			    (intmax_t)want);
	}
}

/* The clock saturates instead of overflowing. */
static void
test_clock_saturates(void **state)
{
	struct lamport	 c = { .value = INT64_MAX - 1 };

	(void)state;
	assert_true(clock_forward(&c) == INT64_MAX);
	assert_true(clock_forward(&c) == INT64_MAX);
	c.value = 0;
	/* a peer's clock is adopted only up to CLOCK_MAX (issue 10) */
	assert_true(clock_adjust(&c, INT64_MAX) == CLOCK_MAX + 1);
	assert_true(clock_adjust(&c, INT64_MAX) == CLOCK_MAX + 2);
	c.value = 5;
	assert_true(clock_adjust(&c, -3) == 6);
}

static const struct CMUnitTest fixed_tests[] = {
	cmocka_unit_test(test_clock_saturates),
};

static char *
label(json_object *rec)
{
	char *s;

	return asprintf(&s, "%s", log_viss(jstr(rec, "name"))) == -1 ? NULL : s;
}

int
main(void)
{
	return vectors_run("clock", VECTOR_FILE, VECTOR_COUNT, fixed_tests,
	    nitems(fixed_tests), test_vector, label);
}
