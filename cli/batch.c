/*
 * Batches and canaries (--batch N|N%, --batch-sleep, --canary N,
 * --stop-on-error): the expected nodes (-d, -F/-S, else the live nodes of
 * the inventory and the binding set) split into batches, each sent as an
 * explicit destination list with its own mailbox_call(), in order, with
 * a pause between them. The canary batch goes first and the rest only if
 * every canary replied OK. One progress line per batch on stderr; the
 * replies and the summary at the end cover every node, and a stop (the
 * canary, --stop-on-error, a signal) names the nodes done and not sent.
 *
 * A signal ends the running batch's wait (its request is out: those
 * nodes act anyway and are named as done) and no further batch is sent.
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

#define BATCH_NAMES	8	/* names on a progress line, at most */

enum batch_stop {
	STOP_NONE,
	STOP_CANARY,	/* a canary did not reply OK */
	STOP_ERROR,	/* --stop-on-error */
	STOP_SIGNAL,	/* Ctrl-C (or SIGTERM, SIGHUP) */
	STOP_FAILED,	/* the request or the broker failed */
};

/* All the batches' replies, as one call's result. */
struct batch_all {
	struct mailbox_result	 res;
	json_object		*errset;	/* {node: null}: replied an error */
	const char		**targets;
	size_t			 ntargets;
	size_t			 nsent;		/* targets[0 .. nsent) were sent */
};

static size_t
smaller(size_t a, size_t b)
{
	return a < b ? a : b;
}

static int
cmpname(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Who the batches cover when neither -d nor -F/-S named them: the live
 * nodes of the inventory and the nodes of the binding set, by name.
 * Borrowed from f.
 */
static int
batch_targets(struct ctl *ctl, struct cmd_args *a, struct fleet *f,
    struct batch_all *all)
{
	struct json_object_iterator	 it, end;
	const char			*status;

	if (a->req.ndestination > 0) {
		all->targets = a->req.destination;
		all->ntargets = a->req.ndestination;
		return 0;
	}
	if (f->nodes == NULL && fleet_read(ctl, f) == -1)
		return EX_TEMPFAIL;
	if ((all->targets = calloc(json_object_object_length(f->nodes) + 1,
	    sizeof(*all->targets))) == NULL)
		err(EX_OSERR, NULL);
	it = json_object_iter_begin(f->nodes);
	end = json_object_iter_end(f->nodes);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		status = json_object_get_string(json_object_object_get(
		    json_object_iter_peek_value(&it), "status"));
		if (status != NULL && strcmp(status, "ok") == 0)
			all->targets[all->ntargets++] =
			    json_object_iter_peek_name(&it);
	}
	if (all->ntargets == 0) {
		warnx("no live node in the inventory or the binding set of "
		    "namespace %s; nothing sent", log_viss(ctl->mbox.ns));
		return EX_UNAVAILABLE;
	}
	if (all->ntargets > MAX_DESTINATIONS) {
		warnx("%zu nodes: more than a request can name (%d); select "
		    "fewer with -F or -S; nothing sent", all->ntargets,
		    MAX_DESTINATIONS);
		return EX_USAGE;
	}
	/* the same order every time, for the operator and the tests */
	qsort(all->targets, all->ntargets, sizeof(*all->targets), cmpname);
	return 0;
}

/* Is name in v[0 .. n)? */
static int
among(const char *name, const char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return 1;
	return 0;
}

/* Copy each member of from not yet in to (a reference). */
static void
merge_map(json_object *to, json_object *from)
{
	struct json_object_iterator	 it, end;
	const char			*k;

	it = json_object_iter_begin(from);
	end = json_object_iter_end(from);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		k = json_object_iter_peek_name(&it);
		if (!json_object_object_get_ex(to, k, NULL))
			json_object_object_add(to, k, json_object_get(
			    json_object_iter_peek_value(&it)));
	}
}

/*
 * One batch's result into the whole: its replies, and its targets that
 * did not reply (not subscribed when the batch knew them unbound).
 * Returns the batch's missing count.
 */
static size_t
batch_merge(struct batch_all *all, const struct mailbox_request *b,
    const struct mailbox_result *r)
{
	struct mailbox_result	*res = &all->res;
	size_t			 i, nmiss = 0;

	merge_map(res->replies, r->replies);
	merge_map(res->latency, r->latency);
	merge_map(res->trust, r->trust);
	merge_map(res->trust_why, r->trust_why);
	for (i = 0; i < r->nerrors; i++)
		json_object_object_add(all->errset, r->errors[i], NULL);
	res->receivers += r->receivers;
	res->nverified += r->nverified;
	res->nunverified += r->nunverified;
	res->nforged += r->nforged;
	res->ncounted += r->ncounted;
	res->nbad += r->nbad;
	res->ndup += r->ndup;
	res->nextra += r->nextra;
	res->nover += r->nover;
	for (i = 0; i < b->ndestination; i++) {
		if (json_object_object_get_ex(r->replies, b->destination[i],
		    NULL))
			continue;
		if (among(b->destination[i], r->unsub, r->nunsub))
			res->unsub[res->nunsub++] = b->destination[i];
		else
			res->missing[res->nmissing++] = b->destination[i];
		res->nsilent++;
		nmiss++;
	}
	if (r->cleanup_error != NULL && res->cleanup_error == NULL &&
	    (res->cleanup_error = strdup(r->cleanup_error)) == NULL)
		err(EX_OSERR, NULL);
	return nmiss;
}

/* "a, b, c" (escaped), at most max names, then "and N more". */
static void
put_list(FILE *f, const char **v, size_t n, size_t max)
{
	size_t	 i;
	char	*esc;

	for (i = 0; i < n && i < max; i++) {
		esc = ctl_escape(v[i]);
		fprintf(f, "%s%s", i > 0 ? ", " : "", esc);
		free(esc);
	}
	if (n > max)
		fprintf(f, " and %zu more", n - max);
}

/* The line after each batch, on stderr. */
static void
batch_line(size_t k, size_t nb, int canary, const struct mailbox_request *b,
    const struct mailbox_result *r, size_t nmiss, const char *ticket)
{
	size_t	nrep = (size_t)json_object_object_length(r->replies);

	fflush(stdout);
	fprintf(stderr, "%s: batch %zu/%zu%s: %zu node%s, %zu replied, %zu "
	    "error%s, %zu missing (", getprogname(), k + 1, nb, canary ?
	    " (canary)" : "", b->ndestination, b->ndestination == 1 ? "" :
	    "s", nrep, r->nerrors, r->nerrors == 1 ? "" : "s", nmiss);
	put_list(stderr, b->destination, b->ndestination, BATCH_NAMES);
	fprintf(stderr, ") %s\n", ticket);
}

/* Where the batches stopped, who was done and who was not sent to. */
static void
stop_line(const struct batch_all *all, enum batch_stop why, size_t k,
    size_t nb)
{
	static const char	*whys[] = {
		[STOP_CANARY] = "the canary batch did not all reply OK",
		[STOP_ERROR] = "an error or a missing node (--stop-on-error)",
		[STOP_SIGNAL] = "interrupted",
		[STOP_FAILED] = "the request failed",
	};

	fflush(stdout);
	fprintf(stderr, "%s: stopped after batch %zu/%zu: %s\n",
	    getprogname(), k, nb, whys[why]);
	fprintf(stderr, "done (sent): ");
	put_list(stderr, all->targets, all->nsent, SIZE_MAX);
	fprintf(stderr, "\nnot sent: ");
	put_list(stderr, all->targets + all->nsent, all->ntargets - all->nsent,
	    SIZE_MAX);
	fputc('\n', stderr);
}

/*
 * The whole run: 0 when every node replied OK, else call_status()'s code
 * for every node (a node not sent to counts as missing).
 */
int
batch_exec(struct ctl *ctl, struct cmd_args *a, struct fleet *f)
{
	struct batch_all		 all;
	struct mailbox_request		 b;
	struct mailbox_result		 r;
	struct cmd_args			 ra;
	struct rconn			 sleeper;
	struct json_object_iterator	 it, end;
	enum batch_stop			 stop = STOP_NONE;
	size_t				 size, ncanary, nb, k, len, nmiss;
	int				 rv, canary, bad;

	memset(&all, 0, sizeof(all));
	if ((rv = batch_targets(ctl, a, f, &all)) != 0)
		goto done;
	ncanary = a->canary > 0 ? smaller((size_t)a->canary, all.ntargets) : 0;
	if (a->batch == 0)
		size = all.ntargets - ncanary;
	else if (a->batch_pct)
		size = (all.ntargets * (size_t)a->batch + 99) / 100;
	else
		size = (size_t)a->batch;
	if (size == 0)
		size = 1;
	nb = (ncanary > 0) + (all.ntargets - ncanary + size - 1) / size;

	if ((all.res.replies = json_object_new_object()) == NULL ||
	    (all.res.latency = json_object_new_object()) == NULL ||
	    (all.res.trust = json_object_new_object()) == NULL ||
	    (all.res.trust_why = json_object_new_object()) == NULL ||
	    (all.errset = json_object_new_object()) == NULL ||
	    (all.res.missing = calloc(all.ntargets + 1,
	    sizeof(*all.res.missing))) == NULL ||
	    (all.res.unsub = calloc(all.ntargets + 1,
	    sizeof(*all.res.unsub))) == NULL)
		err(EX_OSERR, NULL);
	all.res.status = MAILBOX_OK;
	all.res.collected = 1;
	all.res.verify_required = ctl->mbox.verify_required;
	all.res.expect.names = all.targets;
	all.res.expect.nnames = all.ntargets;
	all.res.expect.count = (long long)all.ntargets;
	all.res.expect.source = "the batches' targets";
	all.res.expected = all.res.expect.count;
	all.res.trusted = 1;
	all.res.t0 = ctl_now_us();

	ctl->names_only = a->names;
	output_init(ctl, a->cmd->style);
	memset(&sleeper, 0, sizeof(sleeper));
	sleeper.intr = ctl->mbox.intr;
	for (k = 0; k < nb && all.nsent < all.ntargets; k++) {
		if (k > 0 && a->batch_sleep > 0 && rconn_sleep(&sleeper,
		    (int64_t)(a->batch_sleep * 1000)) == -1) {
			stop = STOP_SIGNAL;
			break;
		}
		if (ctl_signal != 0) {
			stop = STOP_SIGNAL;
			break;
		}
		canary = k == 0 && ncanary > 0;
		len = canary ? ncanary : smaller(size, all.ntargets - all.nsent);
		b = a->req;
		b.destination = all.targets + all.nsent;
		b.ndestination = len;
		b.tick_ms = output_tick_ms();
		mailbox_call(&ctl->mbox, &b, output_event, ctl, &r);
		if (r.status == MAILBOX_OK || r.status == MAILBOX_NO_LISTENER ||
		    r.status == MAILBOX_INTERRUPTED)
			all.nsent += len;
		if (b.record && r.status == MAILBOX_OK) {
			ra = *a;
			ra.req = b;
			fleet_job_record(ctl, &ra, &r);
		}
		if (r.status != MAILBOX_OK && r.status != MAILBOX_NO_LISTENER &&
		    r.status != MAILBOX_INTERRUPTED) {
			/* the broker or the request: nothing more can go */
			all.res.status = r.status;
			if ((all.res.error = strdup(r.error != NULL ? r.error :
			    "the request failed")) == NULL)
				err(EX_OSERR, NULL);
			merge_map(all.res.replies, r.replies);
			mailbox_result_free(&r);
			stop = STOP_FAILED;
			k++;
			break;
		}
		nmiss = batch_merge(&all, &b, &r);
		output_progress_clear();
		batch_line(k, nb, canary, &b, &r, nmiss, r.ticket);
		bad = nmiss > 0 || r.nerrors > 0;
		if (r.status == MAILBOX_INTERRUPTED)
			stop = STOP_SIGNAL;
		else if (bad && canary)
			stop = STOP_CANARY;
		else if (bad && a->stop_on_error)
			stop = STOP_ERROR;
		mailbox_result_free(&r);
		if (stop != STOP_NONE) {
			k++;
			break;
		}
	}

	/* errors over every batch, sorted as a call sorts them */
	if ((all.res.errors = calloc(json_object_object_length(all.errset) + 1,
	    sizeof(*all.res.errors))) == NULL)
		err(EX_OSERR, NULL);
	it = json_object_iter_begin(all.errset);
	end = json_object_iter_end(all.errset);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
		all.res.errors[all.res.nerrors++] =
		    json_object_iter_peek_name(&it);
	qsort(all.res.errors, all.res.nerrors, sizeof(*all.res.errors),
	    cmpname);
	qsort(all.res.missing, all.res.nmissing, sizeof(*all.res.missing),
	    cmpname);
	qsort(all.res.unsub, all.res.nunsub, sizeof(*all.res.unsub), cmpname);
	output_result(ctl, &a->req, &all.res);
	if (stop != STOP_NONE)
		stop_line(&all, stop, k, nb);
	rv = call_status(&all.res);
	/* a node never sent to is as missing as a silent one */
	if (all.nsent < all.ntargets && (rv == 0 || rv == EXIT_REPLY_ERRORS))
		rv = rv == 0 ? EXIT_MISSING : EXIT_MISSING_ERRORS;
	all.res.expect.names = NULL;
	mailbox_result_free(&all.res);
done:
	json_object_put(all.errset);
	if (all.targets != a->req.destination)
		free(all.targets);
	return rv;
}
