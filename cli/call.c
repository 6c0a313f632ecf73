/*
 * The commands that are one Mailbox call (broadcast, ping, describe,
 * nodes and Celery's inspect/control commands): mailbox_call() with the
 * output streaming each event, then the output's end, and the exit code
 * the result maps to.
 */
#include <sys/types.h>

#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <json-c/json.h>

#include "pidbox.h"
#include "pidboxctl.h"

/*
 * The wait of `broadcast METHOD -r` without -t: the longest timeout the
 * addressed nodes publish for METHOD in describe, plus a margin for the
 * reply to travel, so that a method that runs for 5 s is not reported
 * as "no nodes replied" after the default 1 s. Learnt with one short
 * describe call to the same nodes (a few ms when every node answers);
 * nothing is learnt from nodes that do not describe the method (Celery
 * workers, built-in methods without a timeout), and -t always wins.
 */
static void
learn_timeout(struct ctl *ctl, struct cmd_args *args)
{
	struct mailbox_request		 d;
	struct mailbox_result		 res;
	struct json_object_iterator	 it, end;
	json_object			*v;
	double				 t, max = 0;

	d = args->req;
	d.method = "describe";
	if ((d.arguments = json_object_new_object()) == NULL)
		err(EX_OSERR, NULL);
	d.reply = 1;
	d.limit = 0;
	d.tick_ms = 0;
	d.timeout = LEARN_TIMEOUT;
	mailbox_call(&ctl->mbox, &d, NULL, NULL, &res);
	it = json_object_iter_begin(res.replies);
	end = json_object_iter_end(res.replies);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		v = json_object_iter_peek_value(&it);
		if (json_object_object_get_ex(v, "methods", &v) &&
		    json_object_object_get_ex(v, args->req.method, &v) &&
		    json_object_object_get_ex(v, "timeout", &v) &&
		    (json_object_is_type(v, json_type_double) ||
		    json_object_is_type(v, json_type_int)) &&
		    (t = json_object_get_double(v)) > max && t < 1e6)
			max = t;
	}
	if (max > 0 && max + TIMEOUT_MARGIN > args->req.timeout) {
		args->req.timeout = max + TIMEOUT_MARGIN;
		ctl_debug(ctl, "%s: waiting up to %.1f s (its timeout on the "
		    "nodes is %.1f s; -t overrides)",
		    log_viss(args->req.method), args->req.timeout, max);
	}
	mailbox_result_free(&res);
	json_object_put(d.arguments);
}

/*
 * --async: the request went out (a cast asking the nodes to record their
 * replies); print its id, alone on a line (or a JSON object), for
 * `pidboxctl result ID`.
 */
static void
print_async(struct ctl *ctl, const struct mailbox_request *req,
    const struct mailbox_result *res)
{
	json_object	*o, *t;
	size_t		 i;

	if (!ctl->json) {
		printf("%s\n", res->ticket);
		ctl_debug(ctl, "sent to %lld receiver%s; see pidboxctl result "
		    "%s", res->receivers, res->receivers == 1 ? "" : "s",
		    res->ticket);
		return;
	}
	if ((o = json_object_new_object()) == NULL)
		errx(EX_OSERR, "out of memory");
	json_object_object_add(o, "ticket", json_object_new_string(res->ticket));
	json_object_object_add(o, "method", json_object_new_string(req->method));
	json_object_object_add(o, "receivers",
	    json_object_new_int64(res->receivers));
	t = NULL;
	if (req->ndestination > 0) {
		t = json_object_new_array();
		for (i = 0; i < req->ndestination; i++)
			json_object_array_add(t,
			    json_object_new_string(req->destination[i]));
	}
	json_object_object_add(o, "targets", t);
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

/* The exec of the table's rows that are one Mailbox call. */
int
call_exec(struct ctl *ctl, struct cmd_args *args)
{
	struct mailbox_result	res;
	struct fleet		f;
	int			rv;

	memset(&f, 0, sizeof(f));
	/* -F/-S become a destination list before anything is sent */
	if (args->filter != NULL && (rv = fleet_target(ctl, args, &f)) != 0)
		goto done;
	if (args->async) {
		args->req.reply = 0;
		args->req.record = 1;
	}
	if (args->record)
		args->req.record = 1;
	/* nodes: who the inventory says is alive should answer too */
	if (args->cmd->style == STYLE_NODES && args->filter == NULL &&
	    args->req.ndestination == 0 && args->req.pattern == NULL &&
	    fleet_read(ctl, &f) == -1) {
		rv = EX_TEMPFAIL;
		goto done;
	}
	if ((args->cmd->flags & CMD_METHOD_WORD) && args->req.reply &&
	    !args->timeout_set)
		learn_timeout(ctl, args);
	if (args->batch > 0 || args->canary > 0) {
		rv = batch_exec(ctl, args, &f);
		goto done;
	}
	/* the binding set was read with the inventory: not again */
	args->req.bound = f.bound;
	ctl->names_only = args->names;
	output_init(ctl, args->cmd->style);
	args->req.tick_ms = args->async ? 0 : output_tick_ms();
	mailbox_call(&ctl->mbox, &args->req, args->async ? NULL :
	    output_event, ctl, &res);
	if (args->req.record && res.status == MAILBOX_OK)
		fleet_job_record(ctl, args, &res);
	if (f.nodes != NULL)
		fleet_expect_live(&f, &res);
	if (args->async && res.status == MAILBOX_OK)
		print_async(ctl, &args->req, &res);
	else
		output_result(ctl, &args->req, &res);
	rv = call_status(&res);
	mailbox_result_free(&res);
done:
	free((char *)(uintptr_t)args->req.filter);
	args->req.filter = NULL;
	args->req.bound = NULL;
	fleet_free(&f);
	return rv;
}
