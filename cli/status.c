/*
 * The one mapping of a mailbox_call() result to pidboxctl's exit code,
 * below every command that makes calls (call.c, batch.c, fleet.c).
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <sysexits.h>

#include <json-c/json.h>

#include "pidbox.h"
#include "pidboxctl.h"

/*
 * The exit code of a call: 0 all replied OK, 2 some replied with an
 * error, 3 some expected node did not reply, 4 both, 64 the request
 * cannot be sent, 69 no node replied, 75 broker failure (or a signal:
 * ctl_exit() then dies of it), 78 bad signing key, 70 libcrypto failed.
 */
int
call_status(const struct mailbox_result *res)
{
	switch (res->status) {
	case MAILBOX_OK:
		break;
	case MAILBOX_NO_LISTENER:
		return EX_UNAVAILABLE;
	case MAILBOX_INTERRUPTED:
	case MAILBOX_EBROKER:
		return EX_TEMPFAIL;
	case MAILBOX_EREQUEST:
		return EX_USAGE;
	case MAILBOX_ESIGN:
		return EX_CONFIG;
	case MAILBOX_ECRYPTO:
		return EX_SOFTWARE;
	}
	if (!res->collected) {
		/* A cast: did anyone (named) receive it? */
		if (res->receivers == 0 || (res->expect.names != NULL &&
		    res->nunsub >= res->expect.nnames))
			return EX_UNAVAILABLE;
		return res->nunsub > 0 ? EXIT_MISSING : 0;
	}
	if (json_object_object_length(res->replies) == 0)
		return EX_UNAVAILABLE;
	if (res->nsilent > 0 && res->nerrors > 0)
		return EXIT_MISSING_ERRORS;
	if (res->nsilent > 0)
		return EXIT_MISSING;
	if (res->nerrors > 0)
		return EXIT_REPLY_ERRORS;
	return 0;
}
