/*
 * yconf.c: YAML documents with positions. Regress for issue 5: a scalar
 * holding a NUL byte was copied with strndup() (short) while its length
 * stayed the YAML length, so yconf_free() wiped past the copy (found by
 * fuzz_config under ASan); a non-scalar mapping key reached strcmp(NULL)
 * in the config loader (fuzz_config under UBSan).
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

#include "pidbox.h"

static const struct nul_case {
	const char	*yaml;
	const char	*value;		/* bytes of the value of key "a" */
	size_t		 len;
} nul_cases[] = {
	{ "a: \"x\\0yyyyyyyyyyyyyyyy\"\n", "x\0yyyyyyyyyyyyyyyy", 18 },
	{ "a: \"\\0\"\n", "\0", 1 },
	{ "a: plain\n", "plain", 5 },
	{ "a: \"\"\n", "", 0 },
};

static void
test_scalar_with_nul(void **state)
{
	struct ynode	*root, *v;
	char		 err[256];
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(nul_cases); i++) {
		root = yconf_load_buf(nul_cases[i].yaml,
		    strlen(nul_cases[i].yaml), "t.yaml", err, sizeof(err));
		assert_non_null(root);
		v = yconf_get(root, "a");
		assert_non_null(v);
		assert_int_equal(v->len, nul_cases[i].len);
		assert_memory_equal(v->value, nul_cases[i].value,
		    nul_cases[i].len);
		assert_int_equal(v->value[v->len], '\0');
		yconf_free(root);	/* ASan: no overflow */
	}
}

/* Regress for issue 5: a mapping or list as a key reached strcmp(NULL). */
static void
test_complex_key_refused(void **state)
{
	static const char *const docs[] = {
		"policy:\n  {{r: 1}}\n",
		"a:\n  ? [1, 2]\n  : b\n",
		"? {x: y}\n: z\n",
	};
	struct ynode	*root;
	char		 err[256];
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(docs); i++) {
		root = yconf_load_buf(docs[i], strlen(docs[i]), "t.yaml", err,
		    sizeof(err));
		if (root != NULL)
			fail_msg("docs[%zu] accepted", i);
		if (strstr(err, "t.yaml:") == NULL)
			fail_msg("docs[%zu]: no position in \"%s\"", i, err);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalar_with_nul),
		cmocka_unit_test(test_complex_key_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
