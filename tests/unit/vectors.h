/*
 * Shared by the unit tests: read a file of ../shared/spec/vectors (or
 * $PIDBOX_VECTORS) into a json-c array, one record per line.
 */
#ifndef VECTORS_H
#define VECTORS_H

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

#endif /* VECTORS_H */
