/*
 * libFuzzer target: pidboxd's YAML configuration, parsed by
 * conf_load_buf() against the daemon's key table (issue 5). Error
 * messages go to stderr; run with -close_fd_mask=2 to keep them quiet.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pidboxd.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pidboxd_conf	 c;

	if (size > YCONF_MAX_FILE)
		return 0;
	conf_defaults(&c);
	(void)conf_load_buf(&c, (const char *)data, size, "fuzz.yaml");
	conf_clear(&c);
	return 0;
}
