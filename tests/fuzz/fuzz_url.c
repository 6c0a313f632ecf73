/*
 * libFuzzer target: redis_url_parse() of a broker URL (redis://, unix://,
 * sentinel://) and its redacted form (issue 5). The redacted text must
 * not depend on the password.
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
	struct redis_url	 u;
	char			 err[256], red[1024], red2[1024];
	char			*s;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (redis_url_parse(s, &u, err, sizeof(err)) == 0) {
		redis_url_redacted(&u, red, sizeof(red));
		/* the password must not show: it makes no difference */
		if (u.password[0] != '\0') {
			strlcpy(u.password, "x", sizeof(u.password));
			redis_url_redacted(&u, red2, sizeof(red2));
			if (strcmp(red, red2) != 0)
				abort();
		}
	} else if (strlen(err) == 0)
		abort();	/* every error says why */
	redis_url_clear(&u);
	free(s);
	return 0;
}
