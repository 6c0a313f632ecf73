/*
 * The kombu Node: what pidboxd does with one message, with no socket code
 * (spec 3.2 - 3.6). Decoding, clock, addressing, expiry, dispatch and
 * the reply envelope; the service layer moves the bytes.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pidboxd.h"

int
node_init(struct node *n, const struct pidboxd_conf *c, const char **errstr)
{
	char	err[256];
	const char *fp;

	memset(n, 0, sizeof(*n));
	n->conf = c;
	if (redis_url_parse(c->broker, &n->url, err, sizeof(err)) == -1) {
		static char msg[300];

		snprintf(msg, sizeof(msg), "%s", err);
		*errstr = msg;
		return -1;
	}
	fp = n->url.fanout_prefix_set ? n->url.fanout_prefix : NULL;
	if (names_init(&n->names, c->ns, c->hostname, c->type, n->url.db,
	    n->url.keyprefix, fp, errstr) == -1)
		return -1;
	n->handlers = handler_table(&n->nhandlers);
	n->started_mono = now_mono_ms();
	n->started_wall = now_wall();
	return 0;
}

void
node_action_free(struct node_action *act)
{
	if (act == NULL)
		return;
	free(act->payload);
	act->payload = NULL;
	act->reply = 0;
}

static const struct handler *
lookup(const struct node *n, const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < n->nhandlers; i++)
		if (strcmp(n->handlers[i].name, name) == 0)
			return &n->handlers[i];
	return NULL;
}

/* Run the method; returns the reply value (new reference or NULL). */
static json_object *
dispatch(struct node *n, const struct request *req)
{
	const struct handler	*h;
	json_object		*result = NULL;

	if ((h = lookup(n, req->method)) == NULL) {
		if (req->method != NULL)
			log_warnx("no such method %s",
			    log_viss(req->method));
		else
			log_warnx("request with a non-string method");
		n->stats.errors++;
		return reply_unknown_method(req->method_obj);
	}
	n->stats.dispatched++;
	if (h->fn(n, req->arguments, &result) == -1) {
		json_object *e = NULL;

		n->stats.errors++;
		json_object_object_get_ex(result, "error", &e);
		log_warnx("method %s failed: %s", h->name,
		    log_viss(json_object_get_string(e)));
	}
	return result;
}

/* Build the reply envelope for req into act. */
static int
make_reply(struct node *n, const struct request *req, json_object *value,
    struct node_action *act)
{
	struct envelope_out	 out;
	json_object		*headers;
	char			*body;
	size_t			 bodylen;
	int			 rc = -1;

	if ((body = reply_encode(n->conf->hostname, value, &bodylen)) == NULL)
		return -1;
	if ((headers = json_object_new_object()) == NULL)
		goto done;
	json_object_object_add(headers, "ticket", req->ticket == NULL ? NULL :
	    json_object_new_string(req->ticket));
	json_object_object_add(headers, "clock",
	    json_object_new_int64(clock_forward(&n->clock)));
	memset(&out, 0, sizeof(out));
	out.body = body;
	out.bodylen = bodylen;
	out.headers = headers;
	out.delivery_mode = 1;
	out.exchange = req->reply_exchange;
	out.routing_key = req->reply_routing_key;
	if (strlcpy(act->routing_key, req->reply_routing_key,
	    sizeof(act->routing_key)) >= sizeof(act->routing_key) ||
	    names_reply_queue(&n->names, req->reply_routing_key, act->queue,
	    sizeof(act->queue)) == -1) {
		errno = ENAMETOOLONG;
		goto done;
	}
	if ((act->payload = envelope_encode(&out, &act->payloadlen)) == NULL)
		goto done;
	act->reply = 1;
	rc = 0;
done:
	json_object_put(headers);
	free(body);
	return rc;
}

int
node_handle(struct node *n, const char *buf, size_t len, double now,
    struct node_action *act)
{
	struct envelope	 env;
	struct request	 req;
	const char	*errstr;
	json_object	*value;
	int64_t		 clk;
	double		 expires;
	int		 rc = -1;

	memset(act, 0, sizeof(*act));
	memset(&req, 0, sizeof(req));
	n->stats.received++;
	if (len > n->conf->max_message) {
		log_warnx("dropped a message of %zu bytes (limit %zu)", len,
		    n->conf->max_message);
		n->stats.malformed++;
		return -1;
	}
	if (envelope_decode(buf, len, &env, &errstr) == -1) {
		log_warnx("dropped a message: %s", errstr);
		n->stats.malformed++;
		envelope_free(&env);
		return -1;
	}
	/* The clock moves for every message, addressed or not (spec 3.6). */
	if (envelope_clock(&env, &clk) == -1) {
		log_warnx("dropped a message: clock header is not an integer");
		n->stats.malformed++;
		goto done;
	}
	clock_adjust(&n->clock, clk);
	if (request_decode(env.body, env.bodylen, &req, &errstr) == -1) {
		log_warnx("dropped a request: %s", errstr);
		n->stats.malformed++;
		goto done;
	}
	if (!request_addressed(&req, n->conf->hostname)) {
		log_debug("request %s not addressed to us",
		    log_viss(req.ticket));
		n->stats.not_addressed++;
		rc = 0;
		goto done;
	}
	if (envelope_expires(&env, &expires) == -1) {
		log_warnx("dropped a request: expires header is not a number");
		n->stats.malformed++;
		goto done;
	}
	if (expires > 0 && n->conf->expiry_skew >= 0 &&
	    now > expires + n->conf->expiry_skew) {
		log_warnx("dropped expired request %s for %s (expired %.3f s "
		    "ago, skew allowance %.1f s)", log_viss(req.ticket),
		    log_viss(req.method), now - expires, n->conf->expiry_skew);
		n->stats.expired++;
		goto done;
	}
	if (req.reply_exchange != NULL &&
	    strcmp(req.reply_exchange, n->names.reply_exchange) != 0) {
		/* kombu would push into any queue (spec 3.5): refuse. */
		log_warnx("refused request %s: reply_to exchange %s is not %s",
		    log_viss(req.ticket), log_viss(req.reply_exchange),
		    n->names.reply_exchange);
		n->stats.refused_reply_to++;
		goto done;
	}
	log_debug("request %s: %s", log_viss(req.ticket),
	    log_viss(req.method));
	value = dispatch(n, &req);
	if (req.reply_exchange == NULL) {
		json_object_put(value);
		rc = 0;
		goto done;
	}
	rc = make_reply(n, &req, value, act);
	json_object_put(value);
	if (rc == -1) {
		log_warn("request %s: cannot build the reply",
		    log_viss(req.ticket));
		node_action_free(act);
	}
done:
	request_free(&req);
	envelope_free(&env);
	return rc;
}
