/*
 * libFuzzer target: envelope_decode() over the raw bytes a Redis message
 * carries, then the header accessors (issue 5). The input is copied to an
 * exact-size buffer with no NUL so that a read past len is caught.
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
	struct envelope	 env;
	const char	*errstr;
	char		*buf;
	int64_t		 clk;
	double		 exp;

	if ((buf = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	if (envelope_decode(buf, size, &env, &errstr) == 0) {
		(void)envelope_clock(&env, &clk);
		(void)envelope_expires(&env, &exp);
		(void)envelope_ticket(&env);
	}
	envelope_free(&env);
	free(buf);
	return 0;
}
