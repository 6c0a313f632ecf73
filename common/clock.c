/* kombu's LamportClock: adjust on receive, forward on send. */
#include <sys/types.h>

#include "pidbox.h"

int64_t
clock_adjust(struct lamport *c, int64_t other)
{
	if (other > CLOCK_MAX)
		other = CLOCK_MAX;
	if (other > c->value)
		c->value = other;
	if (c->value < INT64_MAX)
		c->value++;
	return c->value;
}

int64_t
clock_forward(struct lamport *c)
{
	if (c->value < INT64_MAX)
		c->value++;
	return c->value;
}
