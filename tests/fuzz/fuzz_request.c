/*
 * libFuzzer target: request_decode() of a request body and the addressing
 * check that follows it in node_handle() (issue 5). The body is
 * NUL-terminated, as envelope_decode() hands it over.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pidbox.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request	 req;
	const char	*errstr;
	char		*buf;

	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	memset(&req, 0, sizeof(req));
	if (request_decode(buf, size, &req, &errstr) == 0) {
		(void)request_addressed(&req, "w1@vm");
		(void)request_addressed(&req, "hostA");
	}
	request_free(&req);
	free(buf);
	return 0;
}
