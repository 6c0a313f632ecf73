/*
 * pidboxd: runs a kombu pidbox Node named after this host on a Redis
 * broker and answers the methods of its handler table.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <libutil.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pidboxd.h"

#define DEFAULT_PIDFILE	"/run/pidboxd.pid"
#define STOP_GRACE_MS	3000

extern char **environ;

static volatile sig_atomic_t got_term, got_hup;

/* What the command line set; it wins over the file on every (re)load. */
struct overrides {
	const char	*hostname;
	const char	*broker;
	const char	*ns;
	const char	*type;
	const char	*state_dir;
	int		 verbose;
};

static const struct option longopts[] = {
	{ "config",		required_argument,	NULL, 'c' },
	{ "foreground",		no_argument,		NULL, 'f' },
	{ "hostname",		required_argument,	NULL, 'n' },
	{ "broker",		required_argument,	NULL, 'b' },
	{ "namespace",		required_argument,	NULL, 'N' },
	{ "type",		required_argument,	NULL, 'T' },
	{ "check-config",	no_argument,		NULL, 't' },
	{ "state-dir",		required_argument,	NULL, 'S' },
	{ "verbose",		no_argument,		NULL, 'v' },
	{ "version",		no_argument,		NULL, 'V' },
	{ "help",		no_argument,		NULL, 'h' },
	{ NULL,			0,			NULL, 0 }
};

static _Noreturn void
usage(int code)
{
	fprintf(code ? stderr : stdout,
	    "usage: %s [-fhtVv] [-b url] [-c file] [-N namespace] [-n name] "
	    "[-S dir] [-T fanout|direct|topic]\n", getprogname());
	exit(code);
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

/* Defaults, then the file, then the environment, then the flags. */
static int
load_conf(struct pidboxd_conf *c, const char *file, int file_required,
    const struct overrides *o)
{
	struct conf_err	 ce = { "pidboxd", 0 };
	struct redis_url u;
	const char	*why, *env, *broker = NULL;
	char		 host[MAX_NAME + 1], err[256];
	int		 rc = 0;

	memset(&u, 0, sizeof(u));
	conf_defaults(c);
	if (file != NULL && (file_required || access(file, F_OK) == 0))
		if (conf_load(c, file) == -1)
			rc = -1;
	if ((env = getenv("PIDBOX_BROKER_PASSWORD")) != NULL &&
	    env[0] != '\0' && c->broker_password == NULL)
		c->broker_password = xstrdup(env);
	if ((env = getenv("PIDBOX_BROKER")) != NULL && env[0] != '\0')
		broker = env;
	if (o->broker != NULL)
		broker = o->broker;
	if (broker == NULL && c->broker == NULL)
		broker = DEFAULT_BROKER;
	if (o->hostname != NULL)
		strlcpy(c->hostname, o->hostname, sizeof(c->hostname));
	if (c->hostname[0] == '\0') {
		if (gethostname(host, sizeof(host)) == -1) {
			conf_error(&ce, NULL, "gethostname: %s",
			    strerror(errno));
			return -1;
		}
		host[sizeof(host) - 1] = '\0';
		strlcpy(c->hostname, host, sizeof(c->hostname));
	}
	if (conf_valid_name(c->hostname, strlen(c->hostname), &why) == -1) {
		conf_error(&ce, NULL, "bad node name \"%s\": %s",
		    log_viss(c->hostname), why);
		rc = -1;
	}
	if (o->ns != NULL) {
		if (conf_valid_name(o->ns, strlen(o->ns), &why) == -1) {
			conf_error(&ce, NULL, "bad namespace \"%s\": %s",
			    log_viss(o->ns), why);
			rc = -1;
		} else
			strlcpy(c->ns, o->ns, sizeof(c->ns));
	}
	if (o->type != NULL && mailbox_type_parse(o->type, &c->type) == -1) {
		conf_error(&ce, NULL, "bad type \"%s\": expected fanout, "
		    "direct or topic", log_viss(o->type));
		rc = -1;
	}
	if (o->verbose)
		c->verbose = o->verbose;
	/* -S, the file's state_dir, systemd's StateDirectory= */
	env = getenv("STATE_DIRECTORY");
	if (o->state_dir != NULL || (c->state_dir == NULL && env != NULL &&
	    env[0] == '/' && strchr(env, ':') == NULL)) {
		free(c->state_dir);
		c->state_dir = xstrdup(o->state_dir != NULL ? o->state_dir :
		    env);
	}
	if (c->state_dir != NULL && c->state_dir[0] != '/') {
		conf_error(&ce, NULL, "state directory %s: expected an "
		    "absolute path", log_viss(c->state_dir));
		rc = -1;
	}
	if (rc == 0 && broker != NULL &&
	    conf_set_broker(c, broker, err, sizeof(err)) == -1) {
		conf_error(&ce, NULL, "broker: %s", err);
		rc = -1;
	}
	if (rc == 0 && conf_broker_url(c, &u, &why) == -1) {
		conf_error(&ce, NULL, "%s", why); /* broker_tls, plaintext URL */
		rc = -1;
	}
	redis_url_clear(&u);
	return rc;
}

static int
same_identity(const struct pidboxd_conf *a, const struct pidboxd_conf *b)
{
	return strcmp(a->hostname, b->hostname) == 0 &&
	    strcmp(a->broker, b->broker) == 0 && strcmp(a->ns, b->ns) == 0 &&
	    a->type == b->type &&
	    (a->state_dir == NULL) == (b->state_dir == NULL) &&
	    (a->state_dir == NULL || strcmp(a->state_dir, b->state_dir) == 0) &&
	    a->restart_siglen == b->restart_siglen &&
	    (a->restart_siglen == 0 ||
	    memcmp(a->restart_sig, b->restart_sig, a->restart_siglen) == 0);
}

enum run_result { RUN_EXIT, RUN_RESTART };

/*
 * READY=1 is sent once the configuration is loaded and the loop turns
 * (run), not when the broker answers: a node waiting for its broker is a
 * started service that will serve as soon as it can, and `systemctl
 * start` (and boot) must not wait up to TimeoutStartSec for Redis. The
 * broker's state is in STATUS=.
 */
static void
on_ready(void)
{
	sdnotify_status("listening");
}

static void
on_lost(void)
{
	sdnotify_status("broker connection lost, reconnecting");
}

static const struct service_hooks hooks = { on_ready, on_lost };

/* Serve until told to stop; on a reload that changes who we are, restart. */
static enum run_result
run(struct pidboxd_conf *conf, const char *file, const struct overrides *o,
    const sigset_t *waitmask)
{
	struct node		 node;
	struct pidboxd_conf	 next;
	struct redis_url	 url;
	struct registry		*reg;
	const struct method	*builtins;
	const char		*errstr;
	size_t			 nbuiltins;
	int64_t			 deadline;
	enum run_result		 result = RUN_EXIT;

	builtins = builtin_table(&nbuiltins);
	if (conf_broker_url(conf, &url, &errstr) == -1 ||
	    (reg = registry_new(builtins, nbuiltins, conf, &errstr)) == NULL ||
	    node_init(&node, conf, &url, reg, &errstr) == -1)
		fatalx("%s", errstr);
	redis_url_clear(&url);	/* the node has its copy */
	loop_init();
	if (audit_open(&conf->audit) == -1)
		fatal("audit: %s", conf->audit.file);
	sdnotify_identity(conf->hostname, conf->type, node.names.exchange,
	    &node.url);
	sdnotify_watchdog_start();
	service_start(&node, &hooks);
	sdnotify_ready("connecting to the broker");
	for (;;) {
		loop_once(1000, waitmask);
		if (got_term)
			break;
		if (!got_hup)
			continue;
		got_hup = 0;
		audit_reopen();	/* log rotation */
		sdnotify_reloading();
		log_info("reloading the configuration");
		if (load_conf(&next, file, file != NULL, o) == -1) {
			log_warnx("reload failed; keeping the running "
			    "configuration");
			conf_clear(&next);
			sdnotify_ready(NULL);
			continue;
		}
		if (!same_identity(conf, &next)) {
			log_info("node identity changed; restarting the node");
			result = RUN_RESTART;
			break;
		}
		/* settings that apply in place */
		conf->expiry_skew = next.expiry_skew;
		conf->reply_ttl = next.reply_ttl;
		conf->max_message = next.max_message;
		conf->verbose = next.verbose;
		log_setverbose(conf->verbose);
		/* labels, facts and the inventory's timing: re-registered */
		json_object_put(conf->labels);
		conf->labels = next.labels;
		next.labels = NULL;
		conf->inventory = next.inventory;
		conf->results = next.results;
		json_object_put(node.facts);
		node.facts = inventory_facts();
		inventory_register();
		conf_clear(&next);
		sdnotify_ready(NULL);
	}
	exec_abort_all();	/* replies go out before we unsubscribe */
	service_stop();
	sdnotify_stopping();
	deadline = now_mono_ms() + STOP_GRACE_MS;
	while (!service_stopped() && now_mono_ms() < deadline)
		loop_once(100, waitmask);
	if (!service_stopped())
		log_warnx("broker did not confirm the shutdown in time");
	service_abort();
	audit_close();
	node_clear(&node);
	if (result == RUN_RESTART) {
		conf_clear(conf);
		*conf = next;
	}
	return result;
}

int
main(int argc, char *argv[])
{
	struct pidboxd_conf	 conf;
	struct overrides	 o;
	struct sigaction	 sa;
	struct pidfh		*pfh = NULL;
	sigset_t		 block, waitmask;
	const char		*file = NULL;
	char			 url[512];
	int			 ch, foreground = 0, check = 0, file_required = 0;
	pid_t			 otherpid;

	/*
	 * Before getopt: setproctitle_init() moves the argv strings to the
	 * heap, so optarg (kept in o and file, read again on every reload)
	 * never points into the area setproctitle() writes over.
	 */
	/* the supervisor of one exec handler job (exec.c) */
	if (argc > 1 && strcmp(argv[1], "--exec-job") == 0)
		return exec_job_main(argc, argv);
	setproctitle_init(argc, argv, environ);
	memset(&o, 0, sizeof(o));
	while ((ch = getopt_long(argc, argv, "c:fn:b:N:S:T:tvVh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			file_required = 1;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'n':
			o.hostname = optarg;
			break;
		case 'b':
			o.broker = optarg;
			break;
		case 'N':
			o.ns = optarg;
			break;
		case 'S':
			o.state_dir = optarg;
			break;
		case 'T':
			o.type = optarg;
			break;
		case 't':
			check = 1;
			break;
		case 'v':
			o.verbose++;
			break;
		case 'V':
			printf("pidboxd %s\n", PIDBOX_VERSION);
			return 0;
		case 'h':
			usage(0);
		default:
			usage(64);
		}
	}
	if (optind != argc)
		usage(64);
	if (file == NULL)
		file = PIDBOXD_CONF;

	if (load_conf(&conf, file, file_required, &o) == -1) {
		conf_clear(&conf);
		return 78;	/* EX_CONFIG */
	}
	redis_url_redacted(&conf.url, url, sizeof(url));
	if ((conf.url.password[0] != '\0' ||
	    conf.url.sentinel_password[0] != '\0') && o.broker != NULL)
		warnx("warning: a password on the command line is visible to "
		    "other users; use PIDBOX_BROKER or the config file");
	if (check) {
		printf("configuration OK: node %s, %s mailbox %s.pidbox, "
		    "broker %s\n", log_viss(conf.hostname),
		    mailbox_type_name(conf.type), log_viss(conf.ns), url);
		conf_clear(&conf);
		return 0;
	}

	log_init(foreground, conf.verbose, "pidboxd");
	conf_log_errors(1);	/* a reload's reasons, after daemon() */
	/* Hide argv (it may hold a broker URL) behind the process title. */
	setproctitle("%s %s.pidbox", conf.hostname, conf.ns);

	if (!foreground) {
		pfh = pidfile_open(conf.pidfile ? conf.pidfile :
		    DEFAULT_PIDFILE, 0644, &otherpid);
		if (pfh == NULL) {
			if (errno == EEXIST)
				errx(1, "already running as pid %d",
				    (int)otherpid);
			warn("pidfile");
		}
		if (daemon(0, 0) == -1)
			err(1, "daemon");
		if (pfh != NULL)
			pidfile_write(pfh);
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* Signals are delivered only inside ppoll(), never mid-work. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGHUP);

	log_info("pidboxd %s starting: node %s, %s mailbox %s.pidbox, "
	    "broker %s", PIDBOX_VERSION, log_viss(conf.hostname),
	    mailbox_type_name(conf.type), log_viss(conf.ns), url);
	while (run(&conf, file_required || access(file, F_OK) == 0 ? file :
	    NULL, &o, &waitmask) == RUN_RESTART)
		log_setverbose(conf.verbose);
	log_info("stopped");
	sdnotify_stopping();	/* if a restart held it back */
	if (pfh != NULL)
		pidfile_remove(pfh);
	conf_clear(&conf);
	return 0;
}
