/*
 * Libraries loaded on first use (libcrypto for signatures, libssl for
 * TLS): linking them would cost every process their relocations at start
 * and their pages in RSS, used or not.
 */
#include <sys/types.h>

#include <dlfcn.h>
#include <string.h>

#include "pidbox.h"

void *
dl_load(const char *lib, const struct dl_sym *syms, size_t n,
    const char **missing)
{
	void	*h, *p;
	size_t	 i;

	*missing = NULL;
	if ((h = dlopen(lib, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		/*
		 * dlsym() on the handle also finds what the library's own
		 * dependencies define (libcrypto's functions through libssl).
		 */
		if ((p = dlsym(h, syms[i].name)) == NULL) {
			*missing = syms[i].name;
			dlclose(h);
			return NULL;
		}
		memcpy(syms[i].fnp, &p, sizeof(p)); /* object to function */
	}
	return h;
}
