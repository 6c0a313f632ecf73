/*
 * pidbox: kombu's pidbox (broadcast RPC mailbox) over Redis, in C.
 * Shared definitions for pidboxd, pidboxctl and the unit tests.
 *
 * Conventions: functions return 0 or -1 (or a pointer / NULL) and give the
 * reason through a strtonum-style `const char **errstr` or a caller buffer;
 * the caller that knows the context logs it, once.
 */
#ifndef PIDBOX_H
#define PIDBOX_H

#include <sys/types.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define PIDBOX_VERSION "0.1.0"

/* Bounds on everything that comes from the wire or the command line. */
#define MAX_ENVELOPE	(4 * 1024 * 1024) /* one raw message, bytes */
#define MAX_JSON_DEPTH	32	/* nesting of any JSON document */
#define MAX_NAME	255	/* hostname, namespace, method name */
#define MAX_KEY		1024	/* a Redis key or channel we build */
#define MAX_DESTINATIONS 4096	/* entries in a destination list */
#define MAX_PATTERN	1024	/* glob / pcre pattern length */

#define KOMBU_SEP	"\x06\x16" /* kombu's binding field separator */
#define KOMBU_SEP_LEN	2
/*
 * The one Lua reading of a kombu binding member, for the scripts that
 * walk binding sets (cli/gc.c, cli/mailbox.c): split3(m, sep) returns
 * routing key, pattern and queue, or nil unless m has exactly three
 * fields.
 */
#define LUA_SPLIT3							\
    "local function split3(m, sep)\n"					\
    "  local i = string.find(m, sep, 1, true)\n"			\
    "  local j = i and string.find(m, sep, i + #sep, true)\n"		\
    "  if not j or string.find(m, sep, j + #sep, true) then\n"		\
    "    return nil\n"							\
    "  end\n"								\
    "  return string.sub(m, 1, i - 1), string.sub(m, i + #sep, j - 1),\n" \
    "      string.sub(m, j + #sep)\n"					\
    "end\n"

#ifndef nitems
#define nitems(a) (sizeof(a) / sizeof((a)[0]))
#endif

#ifndef __printflike
#define __printflike(f, a) __attribute__((__format__(__printf__, f, a)))
#endif

/* Mailbox exchange types (kombu Mailbox(type=...)). */
enum mailbox_type {
	MAILBOX_FANOUT = 0,
	MAILBOX_DIRECT,
	MAILBOX_TOPIC,
};

/* log.c */
void	 log_init(int foreground, int verbose, const char *ident);
void	 log_setverbose(int verbose);
int	 log_getverbose(void);
/*
 * Limit log_warn/log_warnx to a burst of `burst` lines then `per_sec` per
 * second per call site (0: no limit, the default); the rest is counted
 * and reported as "N similar messages suppressed".
 */
void	 log_ratelimit(double burst, double per_sec);
void	 log_ratelimit_flush(void);
uint64_t log_suppressed(void);
void	 log_warn(const char *, ...) __printflike(1, 2);
void	 log_warnx(const char *, ...) __printflike(1, 2);
void	 log_info(const char *, ...) __printflike(1, 2);
void	 log_debug(const char *, ...) __printflike(1, 2);
/* stderr, with a "<N>" prefix under the journal; no rate limit. */
void	 log_stderr(int pri, const char *, ...) __printflike(2, 3);
/* Skip formatting (and escaping) the arguments when debug is off. */
#define log_debug(...) do {						\
	if (log_getverbose())						\
		(log_debug)(__VA_ARGS__);				\
} while (0)
_Noreturn void fatal(const char *, ...) __printflike(1, 2);
_Noreturn void fatalx(const char *, ...) __printflike(1, 2);
/*
 * Escape untrusted text (vis(3) C-style) for a log line or a terminal:
 * every control byte (CR, BS and BEL too) and every byte >= 0x80.
 * Returns one of a few rotating static buffers: use it in the same
 * statement, at most 4 per call. Long input is cut and marked "...".
 */
const char *log_vis(const char *s, size_t len);
const char *log_viss(const char *s);	/* NUL-terminated, NULL -> "(null)" */

/*
 * esc.c: escape untrusted text for pidboxctl's human output. Every
 * control (C0 with tab and newline, DEL, C1) becomes a C-style or octal
 * escape as vis(3) writes it (VIS_OCTAL | VIS_CSTYLE | VIS_NOSLASH |
 * VIS_NL | VIS_TAB), never VIS_SAFE's raw CR, BS and BEL; so does every
 * byte >= 0x80 unless ESC_UTF8 keeps well-formed printable UTF-8 as it
 * is. Backslashes pass, unless ESC_SLASH doubles them (vis(3) without
 * VIS_NOSLASH, as log_vis() writes). dst holds 4 * len + 1 bytes;
 * returns its length.
 */
#define ESC_UTF8	0x01
#define ESC_SLASH	0x02
size_t	 esc_text(char *dst, const char *src, size_t len, int flags);

/*
 * utf8.c: decode one strict UTF-8 sequence at s[0..len) into *cp. Returns
 * its length, or 0 when the bytes are not valid UTF-8 (overlong forms,
 * surrogates and code points above U+10FFFF included) or len is 0.
 */
size_t	 utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);

/* xmalloc.c: fatal on OOM; for start-up sized data only. */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
char	*xstrdup(const char *);

/* pyjson.c: JSON exactly as Python's json.dumps() writes it. */
/*
 * Serialize obj with Python json.dumps() defaults (", " and ": "
 * separators, ensure_ascii, repr() floats, insertion key order).
 * Returns a malloc'd NUL-terminated string the caller frees, length in
 * *lenp (may be NULL); NULL with errno set (ENOMEM, EINVAL for NaN/Inf).
 */
char	*pyjson_dumps(json_object *obj, size_t *lenp);
/*
 * Parse one complete JSON document of len bytes (no trailing garbage,
 * depth <= MAX_JSON_DEPTH, len <= MAX_ENVELOPE). Returns a new object the
 * caller must json_object_put(); a JSON null yields NULL with *errstr
 * NULL and *isnull = 1. On error NULL and *errstr set.
 */
json_object *pyjson_parse(const char *buf, size_t len, int *isnull,
	    const char **errstr);
/*
 * The scanner behind pyjson_parse()'s fast path (issue 17), shared with
 * envelope_decode()'s: objects of a simple shape are built without
 * json-c's tokener. jscan_obj() returns NULL for anything it does not
 * take (the caller then parses the text in full), never an error of its
 * own; jscan_str() takes only printable ASCII without escapes;
 * jscan_key() takes a member's key and ':', jscan_next() the ',' or '}'
 * after its value (1, 0, or -1); jscan_skip() finds the end of an object
 * value without checking it; jscan_num() takes a number (1 an integer,
 * 2 a float, 0 left to the tokener); jscan_member() a key out of a
 * table, each once; jscan_copy() makes the copy a flat decoding scans;
 * jscan_open() takes an object's '{' (1: and its '}', the object empty);
 * jscan_lit() a word (null, true, false).
 */
#define JSCAN_DEPTH	8	/* nesting jscan_obj() takes */
struct jscan {
	const char	*p, *end;
};
void	 jscan_ws(struct jscan *);
int	 jscan_str(struct jscan *, const char **, size_t *);
int	 jscan_key(struct jscan *, const char **, size_t *);
int	 jscan_next(struct jscan *);
int	 jscan_skip(struct jscan *);
int	 jscan_num(struct jscan *, int64_t *, double *);
int	 jscan_member(struct jscan *, const char *const *, size_t, unsigned *);
char	*jscan_copy(const char *, size_t, struct jscan *);
int	 jscan_open(struct jscan *);
int	 jscan_lit(struct jscan *, const char *);
json_object *jscan_obj(struct jscan *, int);
/*
 * Python repr() of a JSON value as kombu's error strings use it:
 * 'text' / "it's", None, True, 5, 1.5. For arrays and objects, the
 * Python type name ("list", "dict") is returned. Caller frees.
 */
char	*pyjson_repr(json_object *obj);

/* envelope.c: the kombu message envelope around every request and reply. */
#define ENV_FLAT_MAX	16	/* members of a flat-decoded object */
/* One header of an envelope decoded flat (envelope_decode_flat). */
struct env_value {
	const char	*key;		/* in env->msg, NUL-terminated */
	size_t		 keylen;
	enum json_type	 type;		/* null, boolean, int, double, string */
	const char	*str;		/* string: in env->msg, NUL ended */
	int64_t		 i;		/* int; boolean 0 or 1 */
	double		 d;		/* double; int as a double */
};
struct env_values {
	struct env_value v[ENV_FLAT_MAX];
	size_t		 n;
};
struct envelope {
	json_object	*root;		/* parsed envelope; owns the borrowed fields */
	json_object	*headers;	/* borrowed; NULL when absent or flat */
	char		*msg;		/* flat: the message copied, owning */
	struct env_values hdr;		/* the flat headers' text */
	const char	*content_type;	/* borrowed; NULL when absent */
	const char	*delivery_tag;	/* borrowed */
	const char	*exchange;	/* properties.delivery_info; may be NULL */
	const char	*routing_key;	/* may be NULL */
	char		*body;		/* decoded body, malloc'd, NUL-terminated */
	size_t		 bodylen;
};
/*
 * Decode the serialized envelope buf[len]: JSON object, content-type
 * application/json (absent/other types refused), body base64-decoded when
 * properties.body_encoding is "base64", taken as is when it is absent.
 * On error returns -1 with *errstr; env is then empty (safe to free).
 */
int	 envelope_decode(const char *buf, size_t len, struct envelope *env,
	    const char **errstr);
/*
 * The same, deciding the same, but an envelope of kombu's simple shape
 * gets its headers in env->hdr and no json-c objects at all (env->msg
 * set, env->headers and env->root NULL): read them with the envelope_*
 * accessors below only. Anything else goes through envelope_decode().
 */
int	 envelope_decode_flat(const char *buf, size_t len,
	    struct envelope *env, const char **errstr);
void	 envelope_free(struct envelope *env);
/*
 * headers.clock: 0 and *clock = 0 when absent. Any number is accepted and
 * clamped to 0 .. CLOCK_MAX (Python ints have no bound, so a peer may send
 * 2^63 or more; a float is truncated); -1 only when it is not a number.
 */
int	 envelope_clock(const struct envelope *env, int64_t *clock);
/* headers.expires: 0.0 when absent/0; -1 when not a number. */
int	 envelope_expires(const struct envelope *env, double *expires);
/* headers.ticket (replies): borrowed string or NULL. */
const char *envelope_ticket(const struct envelope *env);
/* A string header, borrowed, or NULL (absent, null or another type). */
const char *envelope_header_string(const struct envelope *env,
	    const char *key);
/* An integer header: 0 found, 1 absent or null, -1 another type. */
int	 envelope_header_int(const struct envelope *env, const char *key,
	    int64_t *v);
/* The JSON type of a header; json_type_null when absent or null. */
enum json_type envelope_header_type(const struct envelope *env,
	    const char *key);
/* 1 when a header is the boolean true, else 0. */
int	 envelope_header_true(const struct envelope *env, const char *key);
/* 1 when a header is there, whatever its value (null included). */
int	 envelope_header_present(const struct envelope *env, const char *key);

struct envelope_out {
	const char	*body;		/* JSON text of the body */
	size_t		 bodylen;
	json_object	*headers;	/* borrowed; serialized in insertion order */
	int		 delivery_mode;	/* 2 for requests, 1 for replies */
	const char	*exchange;
	const char	*routing_key;
	const char	*delivery_tag;	/* NULL: a fresh uuid4 */
};
/*
 * Serialize an envelope byte for byte as kombu does. Returns a malloc'd
 * string (caller frees), length in *lenp; NULL on ENOMEM.
 */
char	*envelope_encode(const struct envelope_out *out, size_t *lenp);

/* request.c: the pidbox request body {method, arguments, destination, ...}. */
struct request {
	json_object	*body;		/* owned; all pointers below borrow from it */
	char		*text;		/* or, decoded flat: a copy owns them */
	json_object	*method_obj;	/* the raw "method" value (may be NULL) */
	const char	*method;	/* NULL unless method is a string */
	json_object	*arguments;	/* always an object (null/absent -> {}) */
					/* (those two owned if body is NULL) */
	json_object	*destination;	/* array of strings, or NULL (= everybody) */
	const char	*pattern;	/* NULL when absent, null or "" */
	const char	*matcher;	/* NULL when absent, null or "" */
	const char	*ticket;	/* NULL when absent/null */
	const char	*reply_exchange; /* NULL: a cast, no reply wanted */
	const char	*reply_routing_key;
};
/*
 * Decode and validate a request body (the text inside the envelope).
 * Refused (-1, *errstr): not an object, no "method" key, arguments not an
 * object/null, destination not a list of strings/null, pattern/matcher
 * not strings, unknown matcher or pattern that does not compile (when
 * both are given), reply_to not an object or without string
 * exchange/routing_key, ticket not a string. These are the messages that
 * crash a kombu node (spec 3.9); pidboxd logs and drops them.
 * A non-string method is accepted (kombu replies KeyError(<repr>)).
 */
int	 request_decode(const char *body, size_t len, struct request *req,
	    const char **errstr);
void	 request_free(struct request *req);
/* 1 when hostname is addressed by req (spec 3.2), 0 when not. */
int	 request_addressed(const struct request *req, const char *hostname);

struct request_out {
	const char	*method;
	json_object	*arguments;	/* borrowed object, or NULL for {} */
	const char *const *destination;	/* NULL: everybody */
	size_t		 ndestination;
	const char	*pattern;	/* NULL: none */
	const char	*matcher;	/* NULL: none (glob when pattern set) */
	const char	*ticket;	/* NULL: a cast (no ticket/reply_to) */
	const char	*reply_exchange;
	const char	*reply_routing_key;
};
/*
 * Validate and serialize a request body in kombu's key order. Refuses
 * (NULL, *errstr) anything that could make a kombu node deaf: empty or
 * over-long method, arguments not an object, destination entries that
 * are empty, an unknown matcher, a pattern that does not compile.
 * Returns a malloc'd string, length in *lenp.
 */
char	*request_encode(const struct request_out *out, size_t *lenp,
	    const char **errstr);

/* reply.c: reply bodies {hostname: value} and kombu-style errors. */
/* {hostname: value} serialized; value borrowed (NULL -> null). Caller frees. */
char	*reply_encode(const char *hostname, json_object *value, size_t *lenp);
/* New {"error": "<text>"} object (caller puts). */
json_object *reply_error(const char *fmt, ...) __printflike(1, 2);
/* kombu's reply to an unknown method: {"error": "KeyError('m')"}. */
json_object *reply_unknown_method(json_object *method_obj);
/*
 * Decode a reply body: exactly one member {node: value}. *node is
 * borrowed from *root, *value borrowed (may be NULL for JSON null);
 * caller puts *root. -1 with *errstr otherwise.
 */
int	 reply_decode(const char *body, size_t len, json_object **root,
	    const char **node, json_object **value, const char **errstr);
/*
 * reply_decode() for a collector (issue 17): the same result and errors,
 * without a json-c object around the value when the body has kombu's
 * simple shape. rb->node is NUL-terminated, rb->value may be NULL (JSON
 * null); release both with reply_body_free(), also after an error.
 */
struct reply_body {
	json_object	*root;		/* the full parse's; holds both */
	json_object	*value;		/* in root, else owned */
	const char	*node;		/* in root, else name */
	char		 name[256];
};
int	 reply_take(const char *body, size_t len, struct reply_body *rb,
	    const char **errstr);
void	 reply_body_free(struct reply_body *rb);
/* 1 if value looks like {"error": ...} without "ok" (Celery's ERROR). */
int	 reply_is_error(json_object *value);
/*
 * A command in RESP, the bytes hiredis's redisFormatCommandArgv() writes,
 * without its sds and printf per argument (a reply's routing commands are
 * formatted per reply). resp_size() is enough room for resp_format(),
 * which writes a NUL after the command and returns its length.
 */
size_t	 resp_size(int argc, const char **argv, const size_t *argvlen);
size_t	 resp_format(char *dst, int argc, const char **argv,
	    const size_t *argvlen);

/* names.c: kombu entity names of a mailbox. */
struct names {
	char	exchange[MAX_KEY];		/* <ns>.pidbox */
	char	reply_exchange[MAX_KEY];	/* reply.<ns>.pidbox */
	char	node_queue[MAX_KEY];		/* <host>.<ns>.pidbox (no prefix) */
	char	node_queue_keys[4][MAX_KEY];	/* prefixed, priorities 0,3,6,9 */
	char	node_binding_key[MAX_KEY];	/* prefixed _kombu.binding.<ex> */
	char	node_member[MAX_KEY];		/* "" SEP pattern SEP node_queue */
	size_t	node_member_len;
	char	reply_binding_key[MAX_KEY];	/* prefixed */
	char	fanout_channel[MAX_KEY];	/* prefixed /<db>.<ns>.pidbox */
	char	fanout_channel2[MAX_KEY];	/* the other generation's; "" */
	char	fanout_base[MAX_KEY];		/* prefixed /<db>.: + exchange */
	char	keyprefix[MAX_KEY];		/* global_keyprefix, may be "" */
};
/*
 * Derive every name for a namespace/hostname. fanout_prefix NULL means
 * kombu's default "/{db}."; "" means none; anything else is used with
 * "{db}" replaced. hostname may be NULL (client side). -1 with *errstr
 * when a name is too long or contains the separator.
 */
int	 names_init(struct names *n, const char *ns, const char *hostname,
	    enum mailbox_type type, int db, const char *keyprefix,
	    const char *fanout_prefix, const char **errstr);
/*
 * Also the fanout channel of prefix (formatted with db), unless it is
 * fanout_channel: nodes hear, clients publish to, both (issue 16.3).
 */
int	 names_fanout_also(struct names *n, int db, const char *prefix,
	    const char **errstr);
/* Reply queue of oid: "<oid>.reply.<ns>.pidbox" (unprefixed). -1 if too long. */
int	 names_reply_queue(const struct names *n, const char *oid, char *buf,
	    size_t len);
/* The four prefixed keys of a queue (priorities 0, 3, 6, 9). */
int	 names_queue_keys(const struct names *n, const char *queue,
	    char keys[4][MAX_KEY]);

/*
 * fleet.c: pidbox's own keys beside kombu's (never under _kombu.), the
 * inventory entry every pidboxd writes, and target filters over names,
 * labels and facts (the grammar is in fleet.c).
 */
#define FLEET_ENTRY_VERSION	1	/* "pidbox_inventory" of an entry */
#define FILTER_MAX_LEN		4096	/* bytes of one -F or -S */
#define FILTER_HEADER		"x-pidbox-filter"
#define RECORD_HEADER		"x-pidbox-record"
struct fleet_keys {
	char	inventory[MAX_KEY];	/* HASH node -> entry (JSON) */
	char	alive[MAX_KEY];		/* ZSET node -> expiry (wall time) */
	char	results[MAX_KEY];	/* STREAM of recorded replies */
	char	jobs[MAX_KEY];		/* STREAM of recorded requests */
};
/* What a filter is checked against (borrowed; labels, facts may be NULL). */
struct fleet_node {
	const char	*name;
	json_object	*labels;
	json_object	*facts;
};
struct filter;
int	 fleet_keys(struct fleet_keys *k, const char *keyprefix,
	    const char *ns);
/* 1 when path is a fact pidboxd gathers. */
int	 fleet_fact_known(const char *path);
const char *fleet_fact_list(void);
/* A -S expression, or with one a single -F comparison; NULL with err. */
struct filter *filter_parse(const char *s, int one, char *err,
	    size_t errlen);
/* a and b (either may be NULL); NULL only out of memory. */
struct filter *filter_and(struct filter *a, struct filter *b);
void	 filter_free(struct filter *f);
/* 1 when the filter is definitely true of the node. */
int	 filter_match(const struct filter *f, const struct fleet_node *nd);
/* The filter as text filter_parse() reads back (malloc'd). */
char	*filter_text(const struct filter *f);
/* cb for every key compared; stops at the first -1 it returns. */
int	 filter_keys(const struct filter *f, int (*cb)(const char *, void *),
	    void *arg);
/* 0 when e is an entry as pidboxd writes it for name in ns; -1, *why. */
int	 fleet_entry_check(json_object *e, const char *name, const char *ns,
	    const char **why);

/* binding.c: _kombu.binding.* members and mailbox types. */
/* member = rk SEP pattern SEP queue into buf; returns its length or -1. */
int	 binding_member(const char *rk, const char *pattern, const char *queue,
	    char *buf, size_t len);
struct binding {
	const char *rk, *pattern, *queue;	/* point into the member */
	size_t	rklen, patternlen, queuelen;
};
/* Split a member into exactly three fields; -1 when it is malformed. */
int	 binding_parse(const char *member, size_t len, struct binding *b);
/* "text" -> "fanout" / "direct" / "topic"; -1 when unknown. */
int	 mailbox_type_parse(const char *s, enum mailbox_type *t);
const char *mailbox_type_name(enum mailbox_type t);

/* match.c: kombu's matchers. */
/* Python fnmatch.fnmatch(name, pattern) on POSIX: 1 match, 0 not. */
int	 match_glob(const char *name, const char *pattern);
/* Python re.match(pattern, name) via PCRE2: 1, 0, or -1 bad pattern. */
int	 match_pcre(const char *name, const char *pattern, const char **errstr);
/* kombu.matcher.match(): matcher "glob"/"pcre"/NULL(glob); -1 otherwise. */
int	 match(const char *name, const char *pattern, const char *matcher,
	    const char **errstr);
/*
 * s with the glob metacharacters of Redis' MATCH (SCAN, SSCAN) escaped,
 * into buf[len]; -1 when it does not fit.
 */
int	 glob_escape(const char *s, char *buf, size_t len);
/* 0 when matcher is known and pattern compiles; -1 with *errstr. */
int	 match_check(const char *pattern, const char *matcher,
	    const char **errstr);
/*
 * A whole-string regex (anchored at both ends, UTF) for pidboxd's method
 * argument schemas, through the same lazily loaded libpcre2: NULL with
 * err filled when it does not compile or libpcre2 cannot be loaded.
 */
struct pcre2_real_code_8 *regex_compile(const char *src, char *err,
	    size_t errlen);
void	 regex_free(struct pcre2_real_code_8 *re);
/* 1 when s[len] matches; 0 when not, or too complex to tell. */
int	 regex_matches(struct pcre2_real_code_8 *re, const char *s,
	    size_t len);

/*
 * TLS settings of a broker connection: the rediss:// query options
 * (kombu's and redis-py's ssl_* spellings) and pidboxd.yaml broker_tls.
 */
enum tls_verify {
	TLS_VERIFY_REQUIRED = 0,	/* chain and host name (the default) */
	TLS_VERIFY_OPTIONAL,		/* chain only */
	TLS_VERIFY_NONE,		/* nothing: said loudly */
};
struct redis_tls {
	int		 on;		/* rediss:// or ssl=true (sentinels) */
	enum tls_verify	 verify;	/* ssl_cert_reqs */
	int		 verify_set;
	char		 ca_file[256];	/* ssl_ca_certs; "": the system's */
	char		 ca_dir[256];	/* ssl_ca_path */
	char		 cert_file[256]; /* ssl_certfile: mutual TLS */
	char		 key_file[256];	/* ssl_keyfile: 0600, ours or root's */
	char		 server_name[256]; /* "": the host connected to */
	int		 min_proto;	/* 12 or 13; 0: TLS 1.2 */
};

/* redis_url.c: kombu broker URLs. */
struct redis_url {
	int	 is_unix;
	char	 host[256];
	int	 port;
	char	 path[108];		/* unix socket path */
	int	 db;
	char	 user[128];
	char	 password[256];		/* secret: never log, wipe when done */
	char	 keyprefix[128];	/* global_keyprefix */
	int	 fanout_prefix_set;	/* fanout_prefix given */
	char	 fanout_prefix[128];	/* "" when false */
	/*
	 * sentinel:// without fanout_prefix: kombu >= 5.4's prefix
	 * ("/{db}.", formatted) beside kombu < 5.4's literal one; else "".
	 */
	char	 fanout_prefix2[16];
	double	 connect_timeout;	/* seconds; socket_connect_timeout */
	double	 socket_timeout;	/* seconds */
	double	 health_check_interval;	/* seconds, 0 = off */
	int	 health_check_set;	/* health_check_interval given */
	/* sentinel://: nsentinels > 0, host/port is the first sentinel */
#define MAX_SENTINELS	8
	int	 nsentinels;
	struct redis_hostport {
		char	 host[256];
		int	 port;
	}	 sentinels[MAX_SENTINELS];
	char	 master_name[128];
	/* sentinel://: the sentinels' own password (sentinel_password=) */
	char	 sentinel_password[256];	/* secret */
	struct redis_tls tls;		/* to the broker (the master) */
	struct redis_tls sentinel_tls;	/* to the sentinels */
};
/*
 * Parse redis://[[user]:password@]host[:port][/db][?opts], rediss://
 * (TLS), unix:///path[?db=N], redis+socket:///path[?db=N], and kombu's
 * sentinel://[[user]:password@]host[:port][/db][;sentinel://host[:port]]
 * ...?master_name=NAME (port 26379 by default; user, password and db from
 * the first part; the password is the master's). Options: db,
 * global_keyprefix, fanout_prefix (true/false/string), socket_timeout,
 * socket_connect_timeout, health_check_interval, master_name; TLS:
 * ssl_cert_reqs, ssl_ca_certs, ssl_ca_path, ssl_certfile, ssl_keyfile;
 * sentinel:// only: ssl, sentinel_ssl, sentinel_password.
 * On error -1 and a message naming the wrong part in err.
 */
int	 redis_url_parse(const char *s, struct redis_url *u, char *err,
	    size_t errlen);
/* The URL with the password masked as ***, for logs and messages. */
const char *redis_url_redacted(const struct redis_url *u, char *buf,
	    size_t len);
/* Wipe secrets. */
void	 redis_url_clear(struct redis_url *u);

/*
 * clock.c: kombu's LamportClock. Every clock we adopt is clamped to
 * CLOCK_MAX, 2^53 - 1: still exact as a JSON number in any parser that
 * reads numbers as doubles, and so far below INT64_MAX that the value we
 * send back (and the peer's max() + 1 of it) always fits an int64.
 */
#define CLOCK_MAX	((INT64_C(1) << 53) - 1)
struct lamport {
	int64_t	value;
};
int64_t	 clock_adjust(struct lamport *c, int64_t other); /* max(v,o)+1 */
int64_t	 clock_forward(struct lamport *c);		  /* v+1 */

/* uuid.c */
#define UUID_STRLEN 36
/* A random (version 4) UUID string, lowercase, into out[UUID_STRLEN + 1]. */
void	 uuid4(char *out);
/* n bytes as 2n lower-case hex digits at out, without a NUL. */
void	 hex_put(char *out, const unsigned char *b, size_t n);

/* kv.c: key=value arguments of the CLI. */
/*
 * Add "key=value" to the object args: the value is JSON when the whole of
 * it parses as JSON (5, true, null, {"a":1}, "x"), otherwise the string.
 * -1 with *errstr when there is no '=', the key is empty or too long.
 */
int	 kv_parse(const char *arg, json_object *args, const char **errstr);

/* b64.c: wrappers over glibc's b64_ntop/b64_pton. */
/* Encode; returns malloc'd NUL-terminated text, length in *outlen. */
char	*b64_encode(const void *src, size_t len, size_t *outlen);
/* Decode; returns malloc'd NUL-terminated bytes or NULL (invalid/ENOMEM). */
char	*b64_decode(const char *src, size_t len, size_t *outlen);

/*
 * yconf.c: YAML documents (libyaml) as a tree of struct ynode that keeps
 * line/column for error messages; yconf_* load, free and read it.
 */
#define YCONF_MAX_FILE	(1024 * 1024)
enum ynode_type {
	YNODE_SCALAR,
	YNODE_MAP,	/* kids: key, value, key, value, ... */
	YNODE_SEQ,
};
struct ynode {
	enum ynode_type	  type;
	char		 *value;	/* scalar text (NUL-terminated) */
	size_t		  len;
	int		  plain;	/* unquoted scalar */
	size_t		  line, col;	/* 1-based */
	struct ynode	**kids;
	size_t		  nkids;
};
/* Parse; NULL with "file:line:col: why" in err. Caller yconf_free()s. */
struct ynode *yconf_load_buf(const char *buf, size_t len, const char *file,
	    char *err, size_t errlen);
struct ynode *yconf_load_file(const char *file, char *err, size_t errlen);
void	 yconf_free(struct ynode *n);
/* Value of key in a mapping (borrowed), NULL when absent. */
struct ynode *yconf_get(const struct ynode *map, const char *key);
int	 yconf_is_null(const struct ynode *n);
int	 yconf_bool(const struct ynode *n, int *v);
int	 yconf_double(const struct ynode *n, double min, double max, double *v);

/*
 * sign.c: request signatures (HMAC-SHA256 with a shared secret, or
 * Ed25519 with an operator's key), reply signatures (a node's Ed25519
 * key) and node certificates (a fleet key), all with OpenSSL's libcrypto,
 * loaded on first use.
 */
#define SIGN_HDR_IDENTITY	"x-pidbox-identity"
#define SIGN_HDR_NONCE		"x-pidbox-nonce"
#define SIGN_HDR_ISSUED		"x-pidbox-issued"	/* epoch ms */
#define SIGN_HDR_EXPIRES	"x-pidbox-expires"
#define SIGN_HDR_SIGNATURE	"x-pidbox-signature"
#define SIGN_HDR_ALG		"x-pidbox-sigalg"	/* absent: HMAC */
#define SIGN_ALG_ED25519	"ed25519"
/* On replies of a node with a key. */
#define SIGN_HDR_NODE_KEY	"x-pidbox-node-key"
#define SIGN_HDR_REPLY_SIG	"x-pidbox-reply-signature"
#define SIGN_HDR_NODE_CERT	"x-pidbox-node-cert"	/* fleet's signature */
#define SIGN_HDR_NODE_CERT_BY	"x-pidbox-node-cert-by"	/* fleet identity */
#define SIGN_HEXLEN		64	/* hex of a SHA-256 HMAC */
#define SIGN_NONCELEN		32	/* hex of 16 random bytes */
#define SIGN_MIN_KEY		16	/* bytes */
#define SIGN_MAX_KEY		4096
#define SIGN_MAX_IDENTITY	64
#define SIGN_ED_KEYLEN		32
#define SIGN_ED_SIGLEN		64
#define SIGN_ED_PUB_TAG		"pidbox-ed25519"
#define SIGN_ED_PRIV_TAG	"pidbox-ed25519-private"
#define SIGN_ED_CERT_TAG	"pidbox-node-cert"
#define SIGN_ED_HEADMAX		(MAX_KEY * 2 + 512)
/*
 * Read a key file (secret_read()): its bytes minus one trailing newline,
 * at least SIGN_MIN_KEY. Returns a malloc'd key the caller freezero()s;
 * NULL with *errstr.
 */
unsigned char *sign_key_load(const char *file, size_t *len,
	    const char **errstr);
/* 0 when s is a valid identity (1-64 of [A-Za-z0-9._@-]). */
int	 sign_valid_identity(const char *s);
/*
 * hex = HMAC-SHA256(key, "pidbox-hmac-sha256-v1\n" exchange "\n"
 * identity "\n" nonce "\n" expires "\n" body), or with issued >= 0,
 * "pidbox-hmac-sha256-v2\n" ... nonce "\n" issued "\n" expires ...;
 * lowercase hex, NUL-terminated in hex[SIGN_HEXLEN + 1]. -1 on a
 * libcrypto failure.
 */
int	 sign_compute(const unsigned char *key, size_t keylen,
	    const char *exchange, const char *identity, const char *nonce,
	    int64_t issued, int64_t expires, const char *body, size_t bodylen,
	    char *hex);
/* Constant-time comparison of two signatures; 1 when equal. */
int	 sign_equal(const char *a, const char *b);
/* A fresh random nonce, hex, into out[SIGN_NONCELEN + 1]. */
void	 sign_nonce(char *out);

/* An Ed25519 key, public or with its private seed. */
struct sign_edkey {
	void		*pkey;			/* EVP_PKEY, libcrypto's */
	int		 private;		/* seed is set */
	unsigned char	 pub[SIGN_ED_KEYLEN];
	unsigned char	 seed[SIGN_ED_KEYLEN];	/* secret: wiped by clear */
	char		 identity[SIGN_MAX_IDENTITY + 1];
};
#define SIGN_ED_PUBLIC	0	/* what sign_ed_parse() and _load() want */
#define SIGN_ED_PRIVATE	1
#define SIGN_ED_ANY	2
/* A new key pair for identity. */
int	 sign_ed_generate(struct sign_edkey *k, const char *identity,
	    const char **errstr);
/*
 * One key line, "pidbox-ed25519 <base64> <identity>" (public) or
 * "pidbox-ed25519-private <base64 seed> <identity>": -1 with *errstr when
 * it is anything else, or a private key when want is SIGN_ED_PUBLIC.
 */
int	 sign_ed_parse(struct sign_edkey *k, const char *text, size_t len,
	    int want, const char **errstr);
/* The public key pub (no identity). */
int	 sign_ed_from_pub(struct sign_edkey *k, const unsigned char *pub);
/* A key file: a private one is a secret file (secret_read()). */
int	 sign_ed_load(struct sign_edkey *k, const char *file, int want,
	    const char **errstr);
/* The key line (with "\n"), malloc'd; the private one when priv. */
char	*sign_ed_format(const struct sign_edkey *k, int priv);
void	 sign_ed_clear(struct sign_edkey *k);
/* Sign / check head || body; verify: 1 good, 0 bad, -1 libcrypto. */
int	 sign_ed_sign(const struct sign_edkey *k, const char *head, size_t hl,
	    const char *body, size_t bl, unsigned char *sig);
int	 sign_ed_verify(const struct sign_edkey *k, const char *head,
	    size_t hl, const char *body, size_t bl, const unsigned char *sig);
/* Exactly SIGN_ED_SIGLEN / _KEYLEN bytes of canonical base64, else -1. */
int	 sign_ed_sig_decode(const char *b64, unsigned char *sig);
int	 sign_ed_key_decode(const char *b64, unsigned char *key);
/* Base64 of src into out (NUL-terminated); -1 if it does not fit. */
int	 sign_b64(const void *src, size_t len, char *out, size_t outlen);
/*
 * The canonical heads (the body follows): a request ("pidbox-ed25519-v1"
 * exchange identity nonce issued expires), a reply ("pidbox-reply-
 * ed25519-v1" exchange node ticket clock), a node certificate
 * ("pidbox-node-cert-v1" node base64-key, nothing follows). Their length,
 * or -1 when len is too small.
 */
int	 sign_ed_request_head(char *head, size_t len, const char *exchange,
	    const char *identity, const char *nonce, int64_t issued,
	    int64_t expires);
int	 sign_ed_reply_head(char *head, size_t len, const char *exchange,
	    const char *node, const char *ticket, int64_t clock);
int	 sign_ed_cert_head(char *head, size_t len, const char *node,
	    const unsigned char *pub);
/* A small public file (key lines): not writable by group or others. */
char	*sign_read_public(const char *file, size_t max, size_t *lenp,
	    const char **errstr);

/* secret.c */
/*
 * Read a secret file: a regular file (never a FIFO, device or symbolic
 * link; opened without blocking), owned by our euid or root, not readable
 * by group or others. At most max + 1 bytes are read, so *lenp > max says
 * the file is longer than the caller takes. Returns a malloc'd buffer of
 * max + 2 bytes, NUL-terminated after *lenp, that the caller freezero()s;
 * NULL with *errstr (static) saying why.
 */
unsigned char *secret_read(const char *file, size_t max, size_t *lenp,
	    const char **errstr);
/* A broker password file: malloc'd, freezero() it; NULL with *why. */
char	*secret_password(const char *file, const char **why);

/* errf.c: "-1, and why in err[errlen]" (err may be NULL). */
int	 errf(char *err, size_t errlen, const char *fmt, ...)
	    __printflike(3, 4);

/* dl.c: libraries loaded on first use. */
struct dl_sym {
	const char	*name;
	void		*fnp;	/* where the function's address goes */
};
/*
 * dlopen() lib and fill each of syms[n]; the handle (kept until exit), or
 * NULL with *missing naming an absent symbol (NULL: no library).
 */
void	*dl_load(const char *lib, const struct dl_sym *syms, size_t n,
	    const char **missing);

/*
 * tls.c: TLS sessions to the broker with libssl, dlopen()ed by the first
 * tls_ctx_new(). Every -1/TLS_ERR comes with a message in err that names
 * what to check and holds no secret.
 */
#define TLS_OK		 0
#define TLS_WANT_READ	 1	/* wait for the fd to be readable */
#define TLS_WANT_WRITE	 2	/* wait for the fd to be writable */
#define TLS_ERR		(-1)
#define TLS_EOF		(-2)	/* the peer closed the session */
struct tls_ctx;
struct tls;
/* "required", "CERT_REQUIRED", "optional", "none"... (any case). */
int	 tls_verify_parse(const char *s, enum tls_verify *v);
/* One broker_tls key (ca_file, ca_dir, cert_file, key_file, server_name,
 * verify, min_protocol) into t; -1 with *why. */
int	 tls_conf_set(struct redis_tls *t, const char *key, const char *v,
	    const char **why);
/* What t sets over u's TLS settings; -1 with *errstr if u is plaintext. */
int	 tls_conf_apply(struct redis_url *u, const struct redis_tls *t,
	    const char **errstr);
/* A client context for t: CA, client certificate and key (secret_read()). */
struct tls_ctx *tls_ctx_new(const struct redis_tls *t, char *err,
	    size_t errlen);
void	 tls_ctx_free(struct tls_ctx *tc);
/* A session on connected non-blocking fd to host (name checked, SNI). */
struct tls *tls_new(const struct tls_ctx *tc, int fd, const char *host,
	    char *err, size_t errlen);
int	 tls_handshake(struct tls *t, char *err, size_t errlen);
/* > 0 bytes, or -1 with *status TLS_WANT_READ/WRITE, TLS_EOF, TLS_ERR. */
ssize_t	 tls_read(struct tls *t, void *buf, size_t len, int *status,
	    char *err, size_t errlen);
ssize_t	 tls_write(struct tls *t, const void *buf, size_t len, int *status,
	    char *err, size_t errlen);
/* Release t (does not close the fd). */
void	 tls_free(struct tls *t);

/* time.c: wall and monotonic clocks. */
/* Wall clock (seconds since the epoch, as Python's time.time()). */
double	 now_wall(void);
/* Monotonic clock in milliseconds. */
int64_t	 now_mono_ms(void);

#endif /* PIDBOX_H */
