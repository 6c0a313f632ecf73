/*
 * The kombu Node: what pidboxd does with one message, with no socket code
 * (spec 3.2 - 3.6). Decoding, clock, addressing, expiry, dispatch and
 * the reply envelope; the service layer moves the bytes.
 */
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pidboxd.h"

/* fdatasync the replay cache a second after a nonce was written. */
static void
sync_nonces(void *arg)
{
	struct node *n = arg;

	nonce_cache_sync(n->nonces);
}

/*
 * The node key signs replies. A key or certificate that cannot be used
 * is logged and counted, and the node serves with unsigned replies
 * (clients show them unverified; --verify required refuses them).
 */
static void
node_key_init(struct node *n, const char *dir)
{
	const char	*e;
	int		 rc;

	if (state_node_key(dir, n->conf->hostname, &n->key, &e) == -1) {
		log_warnx("%s; replies go out unsigned", e);
		n->stats.node_key_errors++;
		return;
	}
	rc = state_node_cert(dir, n->conf->hostname, n->key.pub, n->cert,
	    sizeof(n->cert), n->cert_by, sizeof(n->cert_by), &e);
	if (rc == -1) {
		log_warnx("%s/node.cert: %s; replies go out uncertified", dir,
		    e);
		n->stats.node_key_errors++;
		n->cert[0] = '\0';
	}
}

int
node_init(struct node *n, const struct pidboxd_conf *c,
    const struct redis_url *url, struct registry *reg, const char **errstr)
{
	static char	 why[PATH_MAX + 64];
	const struct signing_conf *sc = &c->signing;
	const char	*fp, *e;
	char		 path[PATH_MAX];

	memset(n, 0, sizeof(*n));
	n->conf = c;
	n->url = *url;
	n->reg = reg;
	fp = n->url.fanout_prefix_set ? n->url.fanout_prefix : NULL;
	if (names_init(&n->names, c->ns, c->hostname, c->type, n->url.db,
	    n->url.keyprefix, fp, errstr) == -1 ||
	    (n->url.fanout_prefix2[0] != '\0' &&
	    names_fanout_also(&n->names, n->url.db, n->url.fanout_prefix2,
	    errstr) == -1))
		return -1;
	n->started_mono = now_mono_ms();
	n->started_wall = now_wall();
	n->facts = inventory_facts();
	timer_set(&n->sync_timer, sync_nonces, n);
	if (c->state_dir != NULL && state_dir_check(c->state_dir, &e) == -1) {
		snprintf(why, sizeof(why), "state directory %s: %s",
		    c->state_dir, e);
		*errstr = why;
		return -1;
	}
	if (sc->nkeys > 0 || sc->npubkeys > 0 || sc->require) {
		if ((n->nonces = nonce_cache_new(sc->nonce_cache)) == NULL) {
			*errstr = "out of memory";
			return -1;
		}
		/* Without a file, what ran before we started is unknown. */
		nonce_cache_set_since(n->nonces, n->started_wall);
		if (c->state_dir != NULL && (state_nonce_path(c->state_dir,
		    c->ns, c->hostname, path, sizeof(path)) == -1 ||
		    nonce_cache_open(n->nonces, path, n->started_wall,
		    &e) == -1)) {
			snprintf(why, sizeof(why), "replay cache %s: %s", path,
			    e);
			*errstr = why;
			return -1;
		}
	}
	if (c->state_dir != NULL)
		node_key_init(n, c->state_dir);
	return 0;
}

void
node_clear(struct node *n)
{
	registry_free(n->reg);
	n->reg = NULL;
	json_object_put(n->facts);
	n->facts = NULL;
	timer_del(&n->sync_timer);
	nonce_cache_free(n->nonces);	/* synced */
	n->nonces = NULL;
	sign_ed_clear(&n->key);
	redis_url_clear(&n->url);
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

static void
node_req_free(struct node_req *r)
{
	if (r == NULL)
		return;
	json_object_put(r->args);
	free(r);
}

/* Save what the reply and the audit line need from req. */
static struct node_req *
req_new(struct node *n, const struct request *req, double now)
{
	struct node_req		*r;

	/*
	 * Not calloc: the ~3 KiB of name buffers would be cleared for every
	 * request; each field is set here instead.
	 */
	if ((r = malloc(sizeof(*r))) == NULL)
		return NULL;
	r->node = n;
	r->method[0] = r->ticket[0] = r->identity[0] = '\0';
	r->reply_exchange[0] = r->reply_routing_key[0] = '\0';
	r->has_ticket = r->reply = r->record = r->known = 0;
	r->args = NULL;
	r->args_size = 0;
	if (req->method != NULL)
		strlcpy(r->method, req->method, sizeof(r->method));
	if (req->ticket != NULL) {
		strlcpy(r->ticket, req->ticket, sizeof(r->ticket));
		r->has_ticket = 1;
	}
	if (req->reply_exchange != NULL) {
		r->reply = 1;
		if (strlcpy(r->reply_exchange, req->reply_exchange,
		    sizeof(r->reply_exchange)) >= sizeof(r->reply_exchange) ||
		    strlcpy(r->reply_routing_key, req->reply_routing_key,
		    sizeof(r->reply_routing_key)) >=
		    sizeof(r->reply_routing_key)) {
			free(r);
			errno = ENAMETOOLONG;
			return NULL;
		}
	}
	/* only the size for now: who sent it is not known yet */
	if (n->conf->audit.file != NULL || n->conf->audit.syslog)
		(void)json_object_to_json_string_length(req->arguments,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		    &r->args_size);
	r->received = now;
	r->start_ms = now_mono_ms();
	return r;
}

/*
 * One audit line for r; extra's members (borrowed) are added. Arguments
 * are shown only when r->args was set (requests that ran), their size
 * always.
 */
static void
audit_req(struct node *n, const struct node_req *r, const char *decision,
    const char *outcome, const char *detail, json_object *extra)
{
	json_object	*o;
	struct tm	 tm;
	time_t		 t;
	char		 ts[64];
	int		 ms;

	/* only the registry's names are labels: the broker's are hostile */
	metrics_request(r->known ? r->method : NULL, decision);
	if (n->conf->audit.file == NULL && !n->conf->audit.syslog)
		return;
	t = (time_t)r->received;
	ms = (int)((r->received - floor(r->received)) * 1000);
	gmtime_r(&t, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ms);
	o = json_object_new_object();
	json_object_object_add(o, "time", json_object_new_string(ts));
	json_object_object_add(o, "node",
	    json_object_new_string(n->conf->hostname));
	json_object_object_add(o, "method", json_object_new_string(r->method));
	json_object_object_add(o, "arguments", json_object_get(r->args));
	json_object_object_add(o, "arguments_size",
	    json_object_new_int64((int64_t)r->args_size));
	json_object_object_add(o, "identity", r->identity[0] != '\0' ?
	    json_object_new_string(r->identity) : NULL);
	json_object_object_add(o, "ticket", r->has_ticket ?
	    json_object_new_string(r->ticket) : NULL);
	json_object_object_add(o, "decision", json_object_new_string(decision));
	json_object_object_add(o, "outcome", outcome != NULL ?
	    json_object_new_string(outcome) : NULL);
	if (detail != NULL)
		json_object_object_add(o, "detail",
		    json_object_new_string(detail));
	json_object_object_add(o, "duration", json_object_new_double(
	    (double)(now_mono_ms() - r->start_ms) / 1000.0));
	if (extra != NULL) {
		json_object_object_foreach(extra, k, v)
			json_object_object_add(o, k, json_object_get(v));
	}
	if (audit_write(o) == -1)
		n->stats.audit_lost++;
	json_object_put(o);
}

/*
 * Sign a reply with the node key: the signature covers the exchange, the
 * node's name, the ticket, the clock and the exact body, so that none can
 * be changed or the reply moved to another call. kombu ignores these
 * headers. A failure is counted and the reply goes out unsigned.
 */
static void
sign_reply(struct node *n, const struct node_req *r, json_object *headers,
    int64_t clk, const char *body, size_t bodylen)
{
	unsigned char	 sig[SIGN_ED_SIGLEN];
	char		 head[SIGN_ED_HEADMAX], b64[128], kb64[64];
	int		 hl;

	if ((hl = sign_ed_reply_head(head, sizeof(head), n->names.exchange,
	    n->conf->hostname, r->has_ticket ? r->ticket : "", clk)) == -1 ||
	    sign_ed_sign(&n->key, head, (size_t)hl, body, bodylen, sig) ==
	    -1 || sign_b64(sig, sizeof(sig), b64, sizeof(b64)) == -1 ||
	    sign_b64(n->key.pub, sizeof(n->key.pub), kb64, sizeof(kb64)) ==
	    -1) {
		log_warnx("request %s: cannot sign the reply (libcrypto)",
		    log_viss(r->ticket));
		n->stats.node_key_errors++;
		return;
	}
	json_object_object_add(headers, SIGN_HDR_NODE_KEY,
	    json_object_new_string(kb64));
	json_object_object_add(headers, SIGN_HDR_REPLY_SIG,
	    json_object_new_string(b64));
	if (n->cert[0] != '\0') {
		json_object_object_add(headers, SIGN_HDR_NODE_CERT,
		    json_object_new_string(n->cert));
		json_object_object_add(headers, SIGN_HDR_NODE_CERT_BY,
		    json_object_new_string(n->cert_by));
	}
	n->stats.replies_signed++;
}

/* Build the reply envelope for r into act. */
static int
make_reply(struct node *n, const struct node_req *r, json_object *value,
    struct node_action *act)
{
	struct envelope_out	 out;
	json_object		*headers;
	char			*body;
	size_t			 bodylen;
	int64_t			 clk;
	int			 rc = -1;

	if ((body = reply_encode(n->conf->hostname, value, &bodylen)) == NULL)
		return -1;
	if ((headers = json_object_new_object()) == NULL)
		goto done;
	clk = clock_forward(&n->clock);
	json_object_object_add(headers, "ticket", !r->has_ticket ? NULL :
	    json_object_new_string(r->ticket));
	json_object_object_add(headers, "clock", json_object_new_int64(clk));
	if (n->key.private)
		sign_reply(n, r, headers, clk, body, bodylen);
	memset(&out, 0, sizeof(out));
	out.body = body;
	out.bodylen = bodylen;
	out.headers = headers;
	out.delivery_mode = 1;
	out.exchange = r->reply_exchange;
	out.routing_key = r->reply_routing_key;
	if (strlcpy(act->routing_key, r->reply_routing_key,
	    sizeof(act->routing_key)) >= sizeof(act->routing_key) ||
	    names_reply_queue(&n->names, r->reply_routing_key, act->queue,
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

/*
 * Reply value to act (when a reply is wanted); logs a failure. A reply
 * the request asked to record goes to the results stream too.
 */
static int
reply_to(struct node *n, const struct node_req *r, json_object *value,
    struct node_action *act)
{
	if (r->record && n->record != NULL)
		n->record(r, value);
	if (!r->reply)
		return 0;
	if (make_reply(n, r, value, act) == -1) {
		log_warn("request %s: cannot build the reply",
		    log_viss(r->ticket));
		node_action_free(act);
		return -1;
	}
	return 0;
}

/*
 * The end of a request whose method answered later (call_done_fn; arg is
 * the node_req it was handed): audit, reply through n->send, free it.
 */
static void
node_done(void *arg, json_object *value, const char *outcome,
    json_object *extra)
{
	struct node_req		*r = arg;
	struct node		*n = r->node;
	struct node_action	 act;

	memset(&act, 0, sizeof(act));
	audit_req(n, r, "run", outcome, NULL, extra);
	if (reply_to(n, r, value, &act) == 0 && act.reply && n->send != NULL)
		n->send(&act);
	node_action_free(&act);
	node_req_free(r);
}

/*
 * An Ed25519 signature: any trusted public key of the identity (two
 * during a rotation). 0 good; -1 with *why.
 */
static int
verify_ed25519(struct node *n, const struct envelope *env, const char *sig,
    const char *id, const char *nonce, int64_t issued, int64_t expires,
    const char **why)
{
	const struct signing_conf *sc = &n->conf->signing;
	unsigned char	 raw[SIGN_ED_SIGLEN];
	char		 head[SIGN_ED_HEADMAX];
	size_t		 i;
	int		 hl, known = 0;

	if (sign_ed_sig_decode(sig, raw) == -1) {
		*why = "malformed signature (not 64 bytes of base64)";
		n->stats.sig_malformed++;
		return -1;
	}
	if ((hl = sign_ed_request_head(head, sizeof(head), n->names.exchange,
	    id, nonce, issued, expires)) == -1) {
		*why = "malformed signature headers";
		n->stats.sig_malformed++;
		return -1;
	}
	for (i = 0; i < sc->npubkeys; i++) {
		if (strcmp(sc->pubkeys[i].identity, id) != 0)
			continue;
		known = 1;
		if (sign_ed_verify(&sc->pubkeys[i], head, (size_t)hl,
		    env->body, env->bodylen, raw) == 1)
			return 0;
	}
	if (!known) {
		*why = "no key for this identity";
		n->stats.sig_unknown_identity++;
	} else
		*why = "bad signature";
	return -1;
}

/* An HMAC signature (the fleet's shared secret). 0 good; -1 with *why. */
static int
verify_hmac(struct node *n, const struct envelope *env, const char *sig,
    const char *id, const char *nonce, int64_t issued, int64_t expires,
    const char **why)
{
	const struct signing_conf *sc = &n->conf->signing;
	const struct sign_key	*key = NULL;
	char			 hex[SIGN_HEXLEN + 1];
	size_t			 i;

	for (i = 0; i < sc->nkeys; i++) {
		if (sc->keys[i].identity != NULL &&
		    strcmp(sc->keys[i].identity, id) == 0) {
			key = &sc->keys[i];
			break;
		}
		if (sc->keys[i].identity == NULL && key == NULL)
			key = &sc->keys[i];
	}
	if (key == NULL) {
		*why = "no key for this identity";
		n->stats.sig_unknown_identity++;
		return -1;
	}
	if (strlen(sig) != SIGN_HEXLEN) {
		*why = "malformed signature (not 64 hex digits)";
		n->stats.sig_malformed++;
		return -1;
	}
	if (sign_compute(key->key, key->keylen, n->names.exchange, id, nonce,
	    issued, expires, env->body, env->bodylen, hex) == -1 ||
	    !sign_equal(hex, sig)) {
		*why = "bad signature";
		return -1;
	}
	return 0;
}

/*
 * Check the signature headers (common/sign.c). 0: accepted (identity
 * copied into r, "" when unsigned and allowed); -1: refused, *why set
 * and counted.
 */
static int
verify(struct node *n, const struct envelope *env, struct node_req *r,
    double now, const char **why)
{
	const struct signing_conf *sc = &n->conf->signing;
	const char		*sig, *id, *nonce, *alg;
	double			 skew;
	int64_t			 expires = 0, issued = -1;
	int			 rc, ed;

	if (sc->nkeys == 0 && sc->npubkeys == 0 && !sc->require)
		return 0;
	if ((sig = envelope_header_string(env, SIGN_HDR_SIGNATURE)) == NULL) {
		if (!sc->require)
			return 0;
		*why = "unsigned request (signatures are required)";
		n->stats.unsigned_refused++;
		return -1;
	}
	id = envelope_header_string(env, SIGN_HDR_IDENTITY);
	nonce = envelope_header_string(env, SIGN_HDR_NONCE);
	alg = envelope_header_string(env, SIGN_HDR_ALG);
	ed = alg != NULL && strcmp(alg, SIGN_ALG_ED25519) == 0;
	if (id == NULL || sign_valid_identity(id) == -1 || nonce == NULL ||
	    strlen(nonce) != SIGN_NONCELEN ||
	    envelope_header_int(env, SIGN_HDR_EXPIRES, &expires) != 0 ||
	    envelope_header_int(env, SIGN_HDR_ISSUED, &issued) == -1 ||
	    (alg != NULL && !ed) || (ed && issued < 0)) {
		*why = "malformed signature headers";
		n->stats.sig_malformed++;
		n->stats.forged++;
		return -1;
	}
	rc = ed ? verify_ed25519(n, env, sig, id, nonce, issued, expires,
	    why) : verify_hmac(n, env, sig, id, nonce, issued, expires, why);
	if (rc == -1) {
		n->stats.forged++;
		return -1;
	}
	skew = n->conf->expiry_skew >= 0 ? n->conf->expiry_skew :
	    DEFAULT_EXPIRY_SKEW;
	if (now > (double)expires + skew) {
		*why = "signature expired";
		n->stats.sig_expired++;
		return -1;
	}
	if ((double)expires > now + sc->max_ttl + skew) {
		*why = "signature expiry too far ahead";
		n->stats.sig_expired++;
		return -1;
	}
	/*
	 * Issued before our cache began, it may have run unrecorded (the
	 * state was lost, or there is none and we restarted). A legacy v1
	 * HMAC request carries no issue time: only its nonce is checked.
	 */
	if (issued >= 0 &&
	    (double)issued / 1000 < nonce_cache_since(n->nonces)) {
		*why = "issued before this node's replay cache began";
		n->stats.sig_before_cache++;
		return -1;
	}
	rc = nonce_cache_add(n->nonces, nonce, (double)expires + skew, now);
	if (rc != 0) {
		*why = rc == 1 ? "replayed request (nonce seen before)" :
		    rc == -1 ? "replay cache full" :
		    "replay cache cannot be written";
		n->stats.replayed++;
		return -1;
	}
	if (nonce_cache_dirty(n->nonces) && !n->sync_timer.armed)
		timer_add(&n->sync_timer, 1000);
	strlcpy(r->identity, id, sizeof(r->identity));
	return 0;
}

/*
 * Run method m (NULL: no such method) for r. Returns the reply value (new
 * reference or NULL) or sets *pending when the method took r and will
 * finish it through node_done().
 */
static json_object *
dispatch(struct node *n, const struct method *m, const struct request *req,
    struct node_req *r, const char **outcome, int *pending)
{
	struct call	 c;
	json_object	*result = NULL, *e = NULL, *args;
	char		 err[512];
	int		 rc;

	*pending = 0;
	*outcome = "ok";
	if (m == NULL) {
		if (req->method != NULL)
			log_warnx("no such method %s",
			    log_viss(req->method));
		else
			log_warnx("request with a non-string method");
		n->stats.errors++;
		*outcome = "error";
		return reply_unknown_method(req->method_obj);
	}
	n->stats.dispatched++;
	if ((args = schema_check(m->args, m->nargs,
	    (m->flags & M_OPEN_ARGS) != 0, req->arguments, err,
	    sizeof(err))) == NULL) {
		n->stats.schema_errors++;
		result = reply_error("%s: %s", m->name, err);
		rc = -1;
	} else {
		memset(&c, 0, sizeof(c));
		c.node = n;
		c.conf = n->conf;
		c.method = m;
		c.args = args;
		c.ticket = r->ticket;
		c.identity = r->identity;
		c.done = node_done;
		c.done_arg = r;
		rc = m->fn(&c, &result);
		json_object_put(args);
		if (rc == CALL_PENDING) {
			*pending = 1;
			return NULL;
		}
		if (rc == -1 && !(m->flags & M_EXEC))
			n->stats.errors++;	/* exec.c counts its own */
	}
	if (rc == -1) {
		*outcome = "error";
		json_object_object_get_ex(result, "error", &e);
		log_warnx("method %s: ticket %s: failed: %s", req->method,
		    log_viss(req->ticket), log_viss(json_object_get_string(e)));
	}
	return result;
}

/*
 * 1 when tag was handled within RECENT_WINDOW seconds; otherwise 0, and
 * it is remembered (the oldest entry makes room).
 */
static int
seen_recently(struct node *n, const char *tag, int via, double now)
{
	struct recent_tag	*t;
	size_t			 i;

	if (tag[0] == '\0' || strlen(tag) >= sizeof(n->recent[0].tag))
		return 0;
	for (i = 0; i < RECENT_TAGS; i++) {
		t = &n->recent[i];
		if (t->seen > 0 && now - t->seen < RECENT_WINDOW &&
		    strcmp(t->tag, tag) == 0)
			return via == VIA_LEFTOVER || via != t->via;
	}
	t = &n->recent[n->recent_next];
	n->recent_next = (n->recent_next + 1) % RECENT_TAGS;
	strlcpy(t->tag, tag, sizeof(t->tag));
	t->seen = now;
	t->via = via;
	return 0;
}

/* Refuse r: log, count, audit, and reply {"error": "refused: why"}. */
static int
refuse(struct node *n, struct node_req *r, const char *why,
    struct node_action *act)
{
	json_object	*value;
	int		 rc;

	log_warnx("refused request %s for %s%s%s: %s", log_viss(r->ticket),
	    log_viss(r->method), r->identity[0] != '\0' ? " from " : "",
	    log_viss(r->identity), why);
	audit_req(n, r, "refused", "refused", why, NULL);
	value = reply_error("refused: %s", why);
	rc = reply_to(n, r, value, act);
	json_object_put(value);
	return rc;
}

/*
 * The filter a targeted request carries (pidboxctl -F/-S): pidboxctl
 * named the nodes from the inventory, which may be stale or forged, so
 * a pidboxd checks its own labels and facts too. 1 it matches or there
 * is none; 0 not for us (counted, audited); -1 dropped. x-pidbox-record
 * is read here too.
 */
static int
check_filter(struct node *n, const struct envelope *env,
    const struct request *req, struct node_req *r)
{
	struct fleet_node	 me;
	struct filter		*f;
	const char		*h;
	char			 err[256];
	int			 ok;

	r->record = envelope_header_true(env, RECORD_HEADER);
	if (envelope_header_type(env, FILTER_HEADER) == json_type_null)
		return 1;
	if ((h = envelope_header_string(env, FILTER_HEADER)) == NULL ||
	    (f = filter_parse(h, 0, err, sizeof(err))) == NULL) {
		log_warnx("dropped request %s: bad %s header: %s",
		    log_viss(req->ticket), FILTER_HEADER,
		    h != NULL ? err : "not a string");
		n->stats.malformed++;
		return -1;
	}
	me.name = n->conf->hostname;
	me.labels = n->conf->labels;
	me.facts = n->facts;
	ok = filter_match(f, &me);
	filter_free(f);
	if (ok)
		return 1;
	log_debug("request %s: its filter does not match this node",
	    log_viss(req->ticket));
	n->stats.filtered++;
	audit_req(n, r, "filtered", NULL, "the filter does not match this node",
	    NULL);
	return 0;
}

int
node_handle(struct node *n, const char *buf, size_t len, double now,
    struct node_action *act)
{
	return node_handle_via(n, buf, len, now, VIA_ONLY, act);
}

int
node_handle_via(struct node *n, const char *buf, size_t len, double now,
    int via, struct node_action *act)
{
	struct envelope	 env;
	struct request	 req;
	struct node_req	*r = NULL;
	const struct method *m = NULL;
	const char	*errstr, *why, *outcome;
	json_object	*value;
	int64_t		 clk;
	double		 expires;
	int		 rc = -1, pending;

	memset(act, 0, sizeof(*act));
	memset(&req, 0, sizeof(req));
	n->stats.received++;
	if (len > n->conf->max_message) {
		log_warnx("dropped a message of %zu bytes (limit %zu)", len,
		    n->conf->max_message);
		n->stats.malformed++;
		return -1;
	}
	if (envelope_decode_flat(buf, len, &env, &errstr) == -1) {
		log_warnx("dropped a message: %s", errstr);
		n->stats.malformed++;
		envelope_free(&env);
		return -1;
	}
	/*
	 * kombu moves its clock for every message, addressed or not (spec
	 * 3.6); we adopt a clock only from a request that passed addressing
	 * and the signature check below, so an unsigned or unaddressed
	 * message cannot move it, and any number is clamped (envelope.c).
	 */
	if (envelope_clock(&env, &clk) == -1) {
		log_warnx("dropped a message: clock header is not a number");
		n->stats.malformed++;
		goto done;
	}
	if (request_decode(env.body, env.bodylen, &req, &errstr) == -1) {
		log_warnx("dropped a request: %s", errstr);
		n->stats.malformed++;
		goto done;
	}
	/* twin.c's probe of our own name: only another node answers it */
	if (n->probe_ticket[0] != '\0' && req.ticket != NULL &&
	    strcmp(req.ticket, n->probe_ticket) == 0) {
		log_debug("request %s: our own duplicate name check",
		    log_viss(req.ticket));
		rc = 0;
		goto done;
	}
	if ((r = req_new(n, &req, now)) == NULL) {
		log_warn("request %s: dropped", log_viss(req.ticket));
		goto done;
	}
	/*
	 * Before verify(): a second copy is no replay to refuse; before
	 * the addressing: the copy on the other channel of a node that
	 * hears both is not audited again either.
	 */
	if (seen_recently(n, env.delivery_tag, via, now)) {
		log_debug("request %s: delivery %s handled already",
		    log_viss(req.ticket), log_viss(env.delivery_tag));
		n->stats.duplicates++;
		rc = 0;
		goto done;
	}
	m = registry_lookup(n->reg, req.method);
	r->known = m != NULL;
	if (!request_addressed(&req, n->conf->hostname)) {
		log_debug("request %s not addressed to us",
		    log_viss(req.ticket));
		n->stats.not_addressed++;
		audit_req(n, r, "filtered", NULL, "not addressed to this node",
		    NULL);
		rc = 0;
		goto done;
	}
	if ((rc = check_filter(n, &env, &req, r)) != 1)
		goto done;
	rc = -1;
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
		audit_req(n, r, "expired", NULL, "expires header passed",
		    NULL);
		goto done;
	}
	if (req.reply_exchange != NULL &&
	    strcmp(req.reply_exchange, n->names.reply_exchange) != 0) {
		/* kombu would push into any queue (spec 3.5): refuse. */
		log_warnx("refused request %s: reply_to exchange %s is not %s",
		    log_viss(req.ticket), log_viss(req.reply_exchange),
		    n->names.reply_exchange);
		n->stats.refused_reply_to++;
		audit_req(n, r, "refused", "refused", "foreign reply_to "
		    "exchange", NULL);
		goto done;
	}
	if (verify(n, &env, r, now, &why) == -1) {
		rc = refuse(n, r, why, act);
		goto done;
	}
	clock_adjust(&n->clock, clk);
	if (req.method != NULL && !policy_allows(&n->conf->policy, req.method,
	    registry_method_dangerous(m, req.method), r->identity, &why)) {
		n->stats.refused_policy++;
		rc = refuse(n, r, why, act);
		goto done;
	}
	/* Arguments are audited only for a method that runs. */
	if (m != NULL &&
	    (n->conf->audit.file != NULL || n->conf->audit.syslog))
		r->args = audit_args(&n->conf->audit, m->conf, req.arguments);
	log_debug("request %s: %s", log_viss(req.ticket),
	    log_viss(req.method));
	value = dispatch(n, m, &req, r, &outcome, &pending);
	if (pending) {
		r = NULL;	/* the method took it: node_done() frees it */
		rc = 0;
		goto done;
	}
	if (m != NULL)
		audit_req(n, r, "run", outcome, NULL, NULL);
	else
		audit_req(n, r, "unknown_method", outcome, "no such method",
		    NULL);
	rc = reply_to(n, r, value, act);
	json_object_put(value);
done:
	node_req_free(r);
	request_free(&req);
	envelope_free(&env);
	return rc;
}
