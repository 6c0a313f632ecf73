/*
 * Shared by the unit tests: read a file of ../shared/spec/vectors (or
 * $PIDBOX_VECTORS) into a json-c array, one record per line.
 */
#ifndef VECTORS_H
#define VECTORS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#define VECTORS_UNUSED __attribute__((__unused__))

static const char *vector_error VECTORS_UNUSED; /* why loading failed */

static json_object *load_jsonl(const char *) VECTORS_UNUSED;
static const char *jstr(json_object *, const char *) VECTORS_UNUSED;

/* Read a JSON Lines file into an array; NULL with vector_error set. */
static json_object *
load_jsonl(const char *file)
{
	static char	 why[1200];
	const char	*dir;
	char		 path[1024], *line = NULL;
	size_t		 cap = 0;
	ssize_t		 n;
	json_object	*arr, *rec;
	FILE		*fp;
	int		 lineno = 0;

	if ((dir = getenv("PIDBOX_VECTORS")) == NULL)
		dir = "../shared/spec/vectors";
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >=
	    sizeof(path) || (fp = fopen(path, "r")) == NULL) {
		snprintf(why, sizeof(why), "cannot open %s", path);
		vector_error = why;
		return NULL;
	}
	arr = json_object_new_array();
	while ((n = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if (n <= 1)
			continue;
		if ((rec = json_tokener_parse(line)) == NULL ||
		    !json_object_is_type(rec, json_type_object)) {
			snprintf(why, sizeof(why), "%s:%d: not a JSON object",
			    path, lineno);
			vector_error = why;
			json_object_put(rec);
			json_object_put(arr);
			arr = NULL;
			break;
		}
		json_object_object_add(rec, "_line",
		    json_object_new_int(lineno));
		json_object_array_add(arr, rec);
	}
	free(line);
	fclose(fp);
	return arr;
}

static const char *
jstr(json_object *rec, const char *key)
{
	json_object	*v;

	if (!json_object_object_get_ex(rec, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

#ifdef cmocka_unit_test
static json_object *vectors_all;	/* the records, each with "_line" */
static const char *vectors_file;
static size_t vectors_count;

/* The vector file loaded completely and has the documented count. */
static void
test_vectors_loaded(void **state)
{
	(void)state;
	if (vectors_all == NULL)
		fail_msg("%s: %s", vectors_file, vector_error);
	assert_int_equal(json_object_array_length(vectors_all), vectors_count);
}

/*
 * Run a load check, the fixed tests, then fn once per record of file
 * (count records expected), each named "file:line <label(record)>".
 */
static int VECTORS_UNUSED
vectors_run(const char *group, const char *file, size_t count,
    const struct CMUnitTest *fixed, size_t nfixed, CMUnitTestFunction fn,
    char *(*label)(json_object *))
{
	struct CMUnitTest	*tests;
	json_object		*rec;
	char			*l, *name;
	size_t			 i, n, nv;
	int			 rc;

	vectors_file = file;
	vectors_count = count;
	vectors_all = load_jsonl(file);
	nv = vectors_all != NULL ? json_object_array_length(vectors_all) : 0;
	n = 1 + nfixed + nv;
	if ((tests = calloc(n, sizeof(*tests))) == NULL)
		return 1;
	tests[0] = (struct CMUnitTest)cmocka_unit_test(test_vectors_loaded);
	memcpy(tests + 1, fixed, nfixed * sizeof(*fixed));
	for (i = 0; i < nv; i++) {
		rec = json_object_array_get_idx(vectors_all, i);
		if ((l = label(rec)) == NULL || asprintf(&name, "%s:%d %s", file,
		    json_object_get_int(json_object_object_get(rec, "_line")),
		    l) == -1)
			return 1;
		free(l);
		tests[1 + nfixed + i].name = name;
		tests[1 + nfixed + i].test_func = fn;
		tests[1 + nfixed + i].initial_state = rec;
	}
	rc = _cmocka_run_group_tests(group, tests, n, NULL, NULL);
	for (i = 1 + nfixed; i < n; i++)
		free((void *)(uintptr_t)tests[i].name);
	free(tests);
	json_object_put(vectors_all);
	return rc;
}
#endif /* cmocka_unit_test */

#endif /* VECTORS_H */
