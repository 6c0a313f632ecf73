/*
 * Node names in GNU version order (web-2 before web-10), faster.
 */
#include <string.h>

#include "pidboxctl.h"

/*
 * strverscmp(a, b), in exactly its order (issue 17). Sorting 9,000 names
 * compares some 100,000 pairs, and names share most of their bytes
 * ("web-1234", "web-1240"), which strverscmp() walks through its state
 * machine one at a time. Its state after a byte that is not a digit is
 * the state it starts in; so it gives the same answer for the two rests
 * after the shared bytes up to the start of the digit run that holds the
 * first difference, and only those are left to it.
 */
int
verscmp(const char *a, const char *b)
{
	size_t	i, k;

	for (i = 0; a[i] == b[i]; i++)
		if (a[i] == '\0')
			return 0;
	for (k = i; k > 0 && a[k - 1] >= '0' && a[k - 1] <= '9'; k--)
		;
	return strverscmp(a + k, b + k);
}
