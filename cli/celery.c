/*
 * Celery's control shutdown, after a question on a terminal unless -y. Celery's other commands are rows of the command table
 * (cmd.c) with their argument types, parsed by args.c and run by
 * call_exec().
 */
#include <sys/types.h>

#include <err.h>
#include <stdint.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include <json-c/json.h>

#include "pidbox.h"
#include "pidboxctl.h"

/* Ask on the terminal; 1 when the answer is yes. */
static int
confirm(const struct ctl *ctl, const struct mailbox_request *req)
{
	char	line[64];
	size_t	i;

	fprintf(stderr, "%s: shut down ", getprogname());
	if (req->ndestination > 0) {
		for (i = 0; i < req->ndestination; i++)
			fprintf(stderr, "%s%s", i > 0 ? ", " : "",
			    log_viss(req->destination[i]));
	} else if (req->pattern != NULL)
		fprintf(stderr, "the nodes matching %s",
		    log_viss(req->pattern));
	else
		fprintf(stderr, "every node");
	fprintf(stderr, " of mailbox %s on %s? [y/N] ",
	    log_viss(ctl->mbox.names.exchange), ctl->mbox.redacted);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return 0;
	line[strcspn(line, "\n")] = '\0';
	return strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0;
}

/*
 * Send shutdown with a reply queue and collect for a short while (-t,
 * default 1 s): a node that refuses it (pidboxd's policy, an unknown
 * method) says so and the exit code is 2, instead of a "sent" that hides
 * the refusal in the node's log. A Celery worker exits without replying
 * (kombu re-raises its SystemExit before the reply; `celery control
 * shutdown` sends a reply_to too), so a silent receiver counts as sent.
 */
int
celery_shutdown_exec(struct ctl *ctl, struct cmd_args *args)
{
	struct mailbox_request	*req = &args->req;
	struct mailbox_result	 res;
	char			 where[MAX_KEY * 3 + 64];
	struct fleet		 f;
	int			 rv;

	if (args->async || args->record || args->batch > 0 ||
	    args->canary > 0) {
		warnx("shutdown: a worker stops without a reply: no --async, "
		    "--record, --batch or --canary");
		return EX_USAGE;
	}
	/* -F/-S: the nodes by name, before the question names them */
	memset(&f, 0, sizeof(f));
	if (args->filter != NULL && (rv = fleet_target(ctl, args, &f)) != 0) {
		fleet_free(&f);
		return rv;
	}
	fleet_free(&f);
	if (!args->yes && isatty(STDIN_FILENO) && !confirm(ctl, req)) {
		fprintf(stderr, "%s: not confirmed, nothing sent\n",
		    getprogname());
		return 1;
	}
	req->reply = 1;
	output_init(ctl, STYLE_CONTROL);
	mailbox_call(&ctl->mbox, req, NULL, NULL, &res);
	if (res.status != MAILBOX_OK) {
		output_result(ctl, req, &res);
		rv = call_status(&res);
	} else if (res.receivers == 0) {
		mailbox_where(&ctl->mbox, where, sizeof(where));
		fprintf(stderr, "Error: no node is listening on %s\n", where);
		rv = EX_UNAVAILABLE;
	} else {
		output_shutdown(ctl, req, &res);
		/* A -d node not subscribed cannot have received it. */
		rv = res.nerrors > 0 ? EXIT_REPLY_ERRORS :
		    req->ndestination > 0 && res.nunsub > 0 ? EXIT_MISSING : 0;
	}
	mailbox_result_free(&res);
	free((char *)(uintptr_t)req->filter);
	req->filter = NULL;
	return rv;
}
