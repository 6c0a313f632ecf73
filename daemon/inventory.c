/*
 * The inventory: this node's entry under its namespace, so that a reader
 * (pidboxctl inventory, nodes, -F/-S) sees the live pidboxd nodes, their
 * labels and facts without a broadcast, and knows who should answer.
 *
 * Two keys of pidbox's own (common/fleet.c names them), never kombu's:
 * a HASH node -> entry (JSON) and a ZSET node -> expiry (wall time).
 * The entry is written when the command link comes up and every ttl/3 s,
 * pushing its expiry ttl s ahead; entries expired for longer than forget
 * are pruned by whichever node refreshes next, and both keys expire when
 * no node refreshes them at all. A clean stop removes the entry.
 *
 * An entry is only a claim: anyone with Redis access can write one. It
 * can make a reader expect a node (which then shows as missing), never
 * make a node run anything: nodes act on requests, and a request reaches
 * a kombu/Celery node only by name, a pidboxd only when its own labels
 * and facts match the filter it carries (node.c).
 *
 * Facts are gathered at start and on every reload: OS id, version and
 * name (/etc/os-release), kernel and architecture (uname), CPUs and
 * memory (sysconf), the fully qualified name (getaddrinfo), pidbox's
 * version.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/utsname.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pidboxd.h"

#define OS_RELEASE	"/etc/os-release"
#define OS_RELEASE_ALT	"/usr/lib/os-release"

/*
 * Write one entry, set its expiry, prune what expired long ago, and
 * let both keys expire when nobody refreshes them. KEYS[1] the entries,
 * KEYS[2] the expiries; ARGV node, entry, expiry, prune-before, key TTL.
 */
static const char register_lua[] =
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
    "redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])\n"
    "local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[4],\n"
    "    'LIMIT', 0, 100)\n"
    "for _, m in ipairs(old) do\n"
    "  redis.call('HDEL', KEYS[1], m)\n"
    "  redis.call('ZREM', KEYS[2], m)\n"
    "end\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[5])\n"
    "redis.call('EXPIRE', KEYS[2], ARGV[5])\n"
    "return #old\n";

static const char remove_lua[] =
    "redis.call('HDEL', KEYS[1], ARGV[1])\n"
    "return redis.call('ZREM', KEYS[2], ARGV[1])\n";

static struct {
	struct node		*node;
	struct link		*cmd;
	struct fleet_keys	 keys;
	struct timer		 refresh;
} inv;

/* Text a JSON reader takes back: strict UTF-8 without NULs. */
static int
utf8_valid(const char *s, size_t len)
{
	uint32_t	cp;
	size_t		n;

	while (len > 0) {
		if ((n = utf8_decode((const unsigned char *)s, len, &cp)) == 0 ||
		    cp == 0)
			return 0;
		s += n;
		len -= n;
	}
	return 1;
}

/* One os-release value: unquoted (shell-style, as os-release(5) says). */
static char *
os_value(const char *v)
{
	char	*s, *o;
	char	 q = 0;

	if ((s = o = strdup(v)) == NULL)
		return NULL;
	for (; *v != '\0' && *v != '\n'; v++) {
		if (q == 0 && (*v == '"' || *v == '\'')) {
			q = *v;
			continue;
		}
		if (q != 0 && *v == q) {
			q = 0;
			continue;
		}
		if (*v == '\\' && q == '"' && v[1] != '\0' && v[1] != '\n')
			v++;
		*o++ = *v;
	}
	*o = '\0';
	return s;
}

static json_object *
os_release(void)
{
	static const char *const want[][2] = {
		{ "ID=", "id" }, { "VERSION_ID=", "version_id" },
		{ "NAME=", "name" },
	};
	json_object	*os;
	FILE		*f;
	char		 line[512], *v;
	size_t		 i;

	if ((os = json_object_new_object()) == NULL)
		fatal("%s", __func__);
	if ((f = fopen(OS_RELEASE, "r")) == NULL &&
	    (f = fopen(OS_RELEASE_ALT, "r")) == NULL)
		return os;
	while (fgets(line, sizeof(line), f) != NULL)
		for (i = 0; i < nitems(want); i++) {
			if (strncmp(line, want[i][0], strlen(want[i][0])) != 0)
				continue;
			if ((v = os_value(line + strlen(want[i][0]))) == NULL)
				fatal("%s", __func__);
			if (utf8_valid(v, strlen(v)))
				json_object_object_add(os, want[i][1],
				    json_object_new_string(v));
			free(v);
		}
	fclose(f);
	return os;
}

/* The canonical name of this host, or its name when DNS has none. */
static json_object *
fqdn(void)
{
	struct addrinfo	 hints, *res = NULL;
	char		 host[256];
	json_object	*o;

	if (gethostname(host, sizeof(host)) == -1)
		return json_object_new_string("");
	host[sizeof(host) - 1] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_flags = AI_CANONNAME;
	if (getaddrinfo(host, NULL, &hints, &res) == 0 && res != NULL &&
	    res->ai_canonname != NULL && utf8_valid(res->ai_canonname,
	    strlen(res->ai_canonname)))
		o = json_object_new_string(res->ai_canonname);
	else
		o = json_object_new_string(host);
	if (res != NULL)
		freeaddrinfo(res);
	return o;
}

json_object *
inventory_facts(void)
{
	struct utsname	 u;
	json_object	*f;
	long		 cpus, pages, psize;

	if ((f = json_object_new_object()) == NULL)
		fatal("%s", __func__);
	json_object_object_add(f, "os", os_release());
	if (uname(&u) == 0) {
		json_object_object_add(f, "kernel",
		    json_object_new_string(u.release));
		json_object_object_add(f, "arch",
		    json_object_new_string(u.machine));
	}
	if ((cpus = sysconf(_SC_NPROCESSORS_ONLN)) > 0)
		json_object_object_add(f, "cpus", json_object_new_int64(cpus));
	if ((pages = sysconf(_SC_PHYS_PAGES)) > 0 &&
	    (psize = sysconf(_SC_PAGESIZE)) > 0)
		json_object_object_add(f, "memory",
		    json_object_new_int64((int64_t)pages * psize));
	json_object_object_add(f, "fqdn", fqdn());
	json_object_object_add(f, "pidbox",
	    json_object_new_string(PIDBOX_VERSION));
	return f;
}

/* The entry as readers check it (fleet_entry_check()); a new string. */
static char *
entry_text(double now, size_t *len)
{
	const struct pidboxd_conf	*c = inv.node->conf;
	struct json_object_iterator	 it, end;
	json_object			*e, *methods, *desc;
	char				*s;
	const char			*t;

	e = json_object_new_object();
	json_object_object_add(e, "pidbox_inventory",
	    json_object_new_int(FLEET_ENTRY_VERSION));
	json_object_object_add(e, "name", json_object_new_string(c->hostname));
	json_object_object_add(e, "namespace", json_object_new_string(c->ns));
	json_object_object_add(e, "type",
	    json_object_new_string(mailbox_type_name(c->type)));
	json_object_object_add(e, "labels", c->labels != NULL ?
	    json_object_get(c->labels) : json_object_new_object());
	json_object_object_add(e, "facts", json_object_get(inv.node->facts));
	json_object_object_add(e, "version",
	    json_object_new_string(PIDBOX_VERSION));
	json_object_object_add(e, "pid", json_object_new_int(getpid()));
	json_object_object_add(e, "started",
	    json_object_new_double(inv.node->started_wall));
	json_object_object_add(e, "refreshed", json_object_new_double(now));
	json_object_object_add(e, "ttl", json_object_new_int(c->inventory.ttl));
	methods = json_object_new_array();
	desc = registry_describe(inv.node->reg, &c->policy, "");
	it = json_object_iter_begin(desc);
	end = json_object_iter_end(desc);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
		json_object_array_add(methods,
		    json_object_new_string(json_object_iter_peek_name(&it)));
	json_object_put(desc);
	json_object_object_add(e, "methods", methods);
	t = json_object_to_json_string_length(e, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, len);
	s = t != NULL ? strdup(t) : NULL;
	json_object_put(e);
	return s;
}

static void
on_register(struct link *l, const redisReply *r, void *arg)
{
	(void)arg;
	if (r == NULL)
		return;
	if (link_readonly(l, r))
		return;
	if (r->type == REDIS_REPLY_ERROR) {
		log_warnx("inventory: %s", log_viss(r->str));
		return;
	}
	if (r->type == REDIS_REPLY_INTEGER && r->integer > 0)
		log_info("inventory: forgot %lld entries expired more than "
		    "%d s ago", r->integer, inv.node->conf->inventory.forget);
}

/* Write our entry now (the command link is up) and schedule the next. */
void
inventory_register(void)
{
	const struct pidboxd_conf	*c;
	const char			*argv[10];
	size_t				 argvlen[10];
	char				 expiry[32], before[32], kttl[16], *e;
	double				 now = now_wall();
	size_t				 elen, i;

	if (inv.node == NULL || !inv.node->conf->inventory.enabled)
		return;
	c = inv.node->conf;
	timer_add(&inv.refresh, (int64_t)c->inventory.ttl * 1000 / 3);
	if (!link_is_up(inv.cmd))
		return;
	if ((e = entry_text(now, &elen)) == NULL) {
		log_warnx("inventory: out of memory");
		return;
	}
	snprintf(expiry, sizeof(expiry), "%.3f", now + c->inventory.ttl);
	snprintf(before, sizeof(before), "%.3f", now - c->inventory.forget);
	snprintf(kttl, sizeof(kttl), "%d",
	    c->inventory.ttl + c->inventory.forget);
	argv[0] = "EVAL";
	argv[1] = register_lua;
	argv[2] = "2";
	argv[3] = inv.keys.inventory;
	argv[4] = inv.keys.alive;
	argv[5] = c->hostname;
	argv[6] = e;
	argv[7] = expiry;
	argv[8] = before;
	argv[9] = kttl;
	for (i = 0; i < nitems(argv); i++)
		argvlen[i] = i == 6 ? elen : strlen(argv[i]);
	(void)link_cmd(inv.cmd, on_register, nitems(argv), argv, argvlen);
	free(e);
}

static void
on_refresh(void *arg)
{
	(void)arg;
	inventory_register();
}

void
inventory_init(struct node *n, struct link *cmd)
{
	memset(&inv, 0, sizeof(inv));
	inv.node = n;
	inv.cmd = cmd;
	timer_set(&inv.refresh, on_refresh, NULL);
	if (fleet_keys(&inv.keys, n->names.keyprefix, n->conf->ns) == -1)
		fatalx("inventory: key names too long");
}

/* On a clean stop: our entry goes (readers no longer expect us). */
void
inventory_remove(void)
{
	const char	*argv[6];
	size_t		 argvlen[6], i;

	timer_del(&inv.refresh);
	if (inv.node == NULL || !inv.node->conf->inventory.enabled ||
	    !link_is_up(inv.cmd))
		return;
	argv[0] = "EVAL";
	argv[1] = remove_lua;
	argv[2] = "2";
	argv[3] = inv.keys.inventory;
	argv[4] = inv.keys.alive;
	argv[5] = inv.node->conf->hostname;
	for (i = 0; i < 6; i++)
		argvlen[i] = strlen(argv[i]);
	if (link_cmd(inv.cmd, NULL, 6, argv, argvlen) == -1)
		log_warnx("inventory: cannot remove our entry");
}
