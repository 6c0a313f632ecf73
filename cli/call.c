/*
 * The commands that are one Mailbox call (broadcast, ping, describe,
 * nodes and Celery's inspect/control commands): mailbox_call() with the
 * output streaming each event, then the output's end, and the exit code
 * the result maps to.
 */
#include <sys/types.h>

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
	if (!res->collected)
		return 0;	/* a cast: no reply was asked for */
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

/* The exec of the table's rows that are one Mailbox call. */
int
call_exec(struct ctl *ctl, struct cmd_args *args)
{
	struct mailbox_result	res;
	int			rv;

	output_init(ctl, args->cmd->style);
	args->req.tick_ms = output_tick_ms();
	mailbox_call(&ctl->mbox, &args->req, output_event, ctl, &res);
	output_result(ctl, &res);
	rv = call_status(&res);
	mailbox_result_free(&res);
	return rv;
}
