/*
 * Recorded replies: a request that carries the x-pidbox-record header
 * (pidboxctl --async, --record) has each node's reply added to the
 * namespace's results stream as well as sent, so that `pidboxctl result
 * ID` shows later, from any machine, who answered what. The stream is
 * bounded (XADD MAXLEN results.maxlen) and expires results.ttl s after
 * the last reply was recorded; a reply larger than RESULTS_MAX_REPLY is
 * recorded as an error saying so. Kombu and Celery nodes record nothing:
 * their replies reach only the client that waits for them.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pidboxd.h"

static struct {
	struct node		*node;
	struct link		*cmd;
	struct fleet_keys	 keys;
	uint64_t		 recorded;
} res;

static void
on_xadd(struct link *l, const redisReply *r, void *arg)
{
	(void)arg;
	if (r == NULL || link_readonly(l, r))
		return;
	if (r->type == REDIS_REPLY_ERROR)
		log_warnx("results: %s", log_viss(r->str));
}

void
results_init(struct node *n, struct link *cmd)
{
	memset(&res, 0, sizeof(res));
	res.node = n;
	res.cmd = cmd;
	if (fleet_keys(&res.keys, n->names.keyprefix, n->conf->ns) == -1)
		fatalx("results: key names too long");
}

/* Record value, r's reply, in the stream (borrowed). */
void
results_record(const struct node_req *r, json_object *value)
{
	const struct pidboxd_conf	*c = res.node->conf;
	const char			*argv[17], *text;
	size_t				 argvlen[17], len, i;
	json_object			*big = NULL;
	char				 maxlen[32], when[32], ttl[16], sz[64];

	if (!r->has_ticket)
		return;
	text = json_object_to_json_string_length(value, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (text == NULL || len > RESULTS_MAX_REPLY) {
		snprintf(sz, sizeof(sz), "reply of %zu bytes not recorded "
		    "(limit %d)", text != NULL ? len : 0, RESULTS_MAX_REPLY);
		big = reply_error("%s", sz);
		text = json_object_to_json_string_length(big,
		    JSON_C_TO_STRING_PLAIN, &len);
	}
	if (!link_is_up(res.cmd)) {
		log_warnx("results: request %s: the broker is down; reply not "
		    "recorded", log_viss(r->ticket));
		json_object_put(big);
		return;
	}
	snprintf(maxlen, sizeof(maxlen), "%d", c->results.maxlen);
	snprintf(when, sizeof(when), "%.3f", now_wall());
	snprintf(ttl, sizeof(ttl), "%d", c->results.ttl);
	i = 0;
	argv[i++] = "XADD";
	argv[i++] = res.keys.results;
	argv[i++] = "MAXLEN";	/* exact: the bound is the operator's */
	argv[i++] = maxlen;
	argv[i++] = "*";
	argv[i++] = "ticket";
	argv[i++] = r->ticket;
	argv[i++] = "node";
	argv[i++] = c->hostname;
	argv[i++] = "method";
	argv[i++] = r->method;
	argv[i++] = "time";
	argv[i++] = when;
	argv[i++] = "reply";
	argv[i++] = text;
	for (i = 0; i < 15; i++)
		argvlen[i] = i == 14 ? len : strlen(argv[i]);
	if (link_cmd(res.cmd, on_xadd, 15, argv, argvlen) == -1) {
		json_object_put(big);
		return;
	}
	argv[0] = "EXPIRE";
	argv[2] = ttl;
	argvlen[0] = 6;
	argvlen[2] = strlen(ttl);
	if (link_cmd(res.cmd, NULL, 3, argv, argvlen) == 0)
		res.recorded++;
	json_object_put(big);
}

uint64_t
results_recorded(void)
{
	return res.recorded;
}
