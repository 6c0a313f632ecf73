/*
 * libFuzzer target: kv_parse() of pidboxctl's key=value arguments
 * (issue 5); several arguments per input, split at newlines.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pidbox.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object	*args;
	const char	*errstr;
	char		*s, *p, *nl;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if ((args = json_object_new_object()) == NULL) {
		free(s);
		return 0;
	}
	for (p = s; p != NULL; p = nl) {
		if ((nl = strchr(p, '\n')) != NULL)
			*nl++ = '\0';
		(void)kv_parse(p, args, &errstr);
	}
	(void)json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN);
	json_object_put(args);
	free(s);
	return 0;
}
