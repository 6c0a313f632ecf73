/*
 * The one way a function that returns -1 fills its caller's message
 * buffer (err may be NULL: no message wanted).
 */
#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>

#include "pidbox.h"

int
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}
