/*
 * pidboxctl: send kombu pidbox (broadcast RPC) requests over Redis and
 * collect the replies, like `celery inspect` / kombu's Mailbox.
 */
#include <sys/types.h>

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "pidbox.h"
#include "pidboxctl.h"


static void
usage_to(FILE *f)
{
	const struct cmd_entry	*cmd;

	fprintf(f, "usage: %s " GLOBAL_USAGE " command [args]\n",
	    getprogname());
	fprintf(f, "commands:\n");
	for (cmd = cmd_table; cmd->name != NULL; cmd++) {
		if (cmd->flags & CMD_HIDDEN)
			continue;
		if (cmd_is_celery(cmd) && (cmd == cmd_table ||
		    !cmd_is_celery(&cmd[-1])))
			fprintf(f, "celery commands (for Celery workers, with -N "
			    "celery; also as inspect X, control X):\n");
		fprintf(f, "    %s%s%s%s %s\n", cmd->name,
		    cmd->alias != NULL ? " (" : "",
		    cmd->alias != NULL ? cmd->alias : "",
		    cmd->alias != NULL ? ")" : "", cmd->usage);
	}
	fprintf(f, "broker: -b, else $PIDBOX_BROKER, else $CELERY_BROKER_URL "
	    "(namespace celery only),\n"
	    "    else broker: in the -c file, else %s\n"
	    "exit status: 0 all replied OK, 2 some replied with an error, "
	    "3 some expected\n"
	    "    node did not reply, 4 both, 64 usage, 69 no node replied, "
	    "75 broker failure,\n"
	    "    78 bad -c file\n", DEFAULT_BROKER);
}

void
usage(void)
{
	usage_to(stderr);
	exit(EX_USAGE);
}

/* A scalar of the -c file as a new string; NULL when absent or null. */
static char *
conf_string(const struct ynode *root, const char *file, const char *key,
    char *msg, size_t msglen)
{
	const struct ynode	*v;
	char			*s;

	if ((v = yconf_get(root, key)) == NULL || yconf_is_null(v))
		return NULL;
	if (v->type != YNODE_SCALAR || v->len == 0 ||
	    strlen(v->value) != v->len) {
		snprintf(msg, msglen, "%s:%zu:%zu: %s: must be a non-empty "
		    "string", file, v->line, v->col, key);
		return NULL;
	}
	if ((s = strdup(v->value)) == NULL)
		err(EX_OSERR, NULL);
	return s;
}

/* The broker_tls: mapping of the -c file into t; 0, or -1 with msg. */
static int
conf_tls(const struct ynode *root, const char *file, struct redis_tls *t,
    char *msg, size_t msglen)
{
	const struct ynode	*v, *k;
	const char		*why;
	size_t			 i;

	if ((v = yconf_get(root, "broker_tls")) == NULL || yconf_is_null(v))
		return 0;
	if (v->type != YNODE_MAP) {
		snprintf(msg, msglen, "%s:%zu:%zu: broker_tls: expected a "
		    "mapping", file, v->line, v->col);
		return -1;
	}
	for (i = 0; i + 1 < v->nkids; i += 2) {
		k = v->kids[i];
		if (v->kids[i + 1]->type != YNODE_SCALAR)
			why = "expected a value";
		else if (tls_conf_set(t, k->value, v->kids[i + 1]->value,
		    &why) == 0)
			continue;
		snprintf(msg, msglen, "%s:%zu:%zu: broker_tls.%s: %s", file,
		    k->line, k->col, log_viss(k->value), why);
		return -1;
	}
	return 0;
}

/*
 * Read broker, broker_tls, namespace and type from the pidboxd
 * configuration file (the same YAML, other keys are pidboxd's and
 * ignored). Command-line options win over the file. Every mistake exits
 * 78 (EX_CONFIG), after freeing what was read (so LeakSanitizer runs stay
 * quiet).
 */
static void
conf_read(struct ctl *ctl, char **broker, char **pw, struct redis_tls *tls)
{
	const struct ynode	*tn;
	struct ynode		*root;
	const char		*why;
	char			 e[512], msg[1200], *ns = NULL, *type = NULL;
	char			*pwfile = NULL;

	*broker = NULL;
	*pw = NULL;
	msg[0] = '\0';
	if (ctl->conf_file == NULL)
		return;
	if ((root = yconf_load_file(ctl->conf_file, e, sizeof(e))) == NULL)
		errx(EX_CONFIG, "%s", e);
	if (root->type != YNODE_MAP) {
		snprintf(msg, sizeof(msg), "%s:%zu:%zu: not a mapping",
		    ctl->conf_file, root->line, root->col);
		goto done;
	}
	if ((*broker = conf_string(root, ctl->conf_file, "broker", msg,
	    sizeof(msg))) == NULL && msg[0] != '\0')
		goto done;
	/* As pidboxd reads them: the file's password beats the variable. */
	if ((*pw = conf_string(root, ctl->conf_file, "broker_password", msg,
	    sizeof(msg))) == NULL && msg[0] != '\0')
		goto done;
	if ((pwfile = conf_string(root, ctl->conf_file,
	    "broker_password_file", msg, sizeof(msg))) == NULL &&
	    msg[0] != '\0')
		goto done;
	if (pwfile != NULL) {
		if (*pw != NULL)
			freezero(*pw, strlen(*pw));
		if ((*pw = secret_password(pwfile, &why)) == NULL) {
			snprintf(msg, sizeof(msg), "%s: broker_password_file: "
			    "%s", ctl->conf_file, why);
			goto done;
		}
	}
	if (conf_tls(root, ctl->conf_file, tls, msg, sizeof(msg)) == -1)
		goto done;
	if ((ns = conf_string(root, ctl->conf_file, "namespace", msg,
	    sizeof(msg))) == NULL && msg[0] != '\0')
		goto done;
	if (ns != NULL && ctl->ns == NULL) {
		if (strlen(ns) > MAX_NAME) {
			snprintf(msg, sizeof(msg), "%s: namespace must be 1 to "
			    "%d bytes", ctl->conf_file, MAX_NAME);
			goto done;
		}
		ctl->ns = ns;	/* kept until exit */
		ns = NULL;
	}
	if ((type = conf_string(root, ctl->conf_file, "type", msg,
	    sizeof(msg))) == NULL && msg[0] != '\0')
		goto done;
	if (type != NULL && !ctl->type_set &&
	    mailbox_type_parse(type, &ctl->mbox.type) == -1) {
		tn = yconf_get(root, "type");
		snprintf(msg, sizeof(msg), "%s:%zu:%zu: unknown mailbox type %s",
		    ctl->conf_file, tn->line, tn->col, log_viss(type));
	}
done:
	free(ns);
	free(type);
	free(pwfile);
	yconf_free(root);
	if (msg[0] != '\0') {
		free(*broker);
		*broker = NULL;
		if (*pw != NULL)
			freezero(*pw, strlen(*pw));
		*pw = NULL;
		errx(EX_CONFIG, "%s", msg);
	}
}

/*
 * Resolve the broker URL and every Redis name; usage errors exit 64.
 * Broker: -b, $PIDBOX_BROKER, $CELERY_BROKER_URL when the namespace is
 * celery (Celery's own variable names Celery's broker, not a pidbox
 * fleet's), the -c file, the default. Namespace and type: -N/-T, the -c
 * file, the defaults.
 */
static void
ctl_setup(struct ctl *ctl)
{
	struct mailbox	*mb = &ctl->mbox;
	struct redis_tls tls;
	const char	*broker, *errstr, *fp, *from, *envpw;
	char		 e[256], *fbroker, *fpw, *msg;

	memset(&tls, 0, sizeof(tls));
	conf_read(ctl, &fbroker, &fpw, &tls);
	/* celery -A app: a Celery fleet, namespace celery unless -N. */
	if (ctl->ns == NULL && ctl->app != NULL)
		ctl->ns = "celery";
	if (ctl->ns == NULL)
		ctl->ns = DEFAULT_NS;
	mb->ns = ctl->ns;
	broker = ctl->broker;
	from = "-b";
	if (broker == NULL || broker[0] == '\0') {
		broker = getenv("PIDBOX_BROKER");
		from = "PIDBOX_BROKER";
	}
	if ((broker == NULL || broker[0] == '\0') &&
	    strcmp(ctl->ns, "celery") == 0) {
		broker = getenv("CELERY_BROKER_URL");
		from = "CELERY_BROKER_URL";
	}
	if ((broker == NULL || broker[0] == '\0') && fbroker != NULL) {
		broker = fbroker;
		from = ctl->conf_file;
	}
	/*
	 * The broker a Celery app names is known only by importing it,
	 * which needs Python: Celery's places that need none are -b and
	 * CELERY_BROKER_URL. Say so rather than guess the default.
	 */
	if ((broker == NULL || broker[0] == '\0') && ctl->app != NULL)
		errx(EX_USAGE, "-A %s: pidboxctl cannot read the broker from a "
		    "Celery app (that needs Python); give it with -b URL or "
		    "CELERY_BROKER_URL, as celery -b would take it",
		    log_viss(ctl->app));
	if (broker == NULL || broker[0] == '\0') {
		broker = DEFAULT_BROKER;
		from = "default";
	}
	ctl->broker_from = from;
	if (redis_url_parse(broker, &mb->url, e, sizeof(e)) == -1)
		errx(EX_USAGE, "broker URL (%s): %s", log_viss(from), e);
	if (tls_conf_apply(&mb->url, &tls, &errstr) == -1)
		errx(EX_CONFIG, "%s: %s", log_viss(ctl->conf_file), errstr);
	/* As pidboxd says it: argv is readable in /proc and ps(1). */
	if (broker == ctl->broker && (mb->url.password[0] != '\0' ||
	    mb->url.sentinel_password[0] != '\0'))
		warnx("warning: a password on the command line is visible to "
		    "other users; use PIDBOX_BROKER or the config file");
	if (fbroker != NULL)
		freezero(fbroker, strlen(fbroker));
	/*
	 * The password as pidboxd takes it: broker_password(_file) of the
	 * -c file, else PIDBOX_BROKER_PASSWORD, over the URL's; so that it
	 * need never be in argv.
	 */
	envpw = getenv("PIDBOX_BROKER_PASSWORD");
	if (fpw != NULL || (envpw != NULL && envpw[0] != '\0')) {
		if (strlcpy(mb->url.password, fpw != NULL ? fpw : envpw,
		    sizeof(mb->url.password)) >= sizeof(mb->url.password))
			errx(EX_CONFIG, "broker password longer than %zu bytes",
			    sizeof(mb->url.password) - 1);
	}
	if (fpw != NULL)
		freezero(fpw, strlen(fpw));
	redis_url_redacted(&mb->url, mb->redacted, sizeof(mb->redacted));
	fp = mb->url.fanout_prefix_set ? mb->url.fanout_prefix : NULL;
	if (names_init(&mb->names, ctl->ns, NULL, mb->type, mb->url.db,
	    mb->url.keyprefix, fp, &errstr) == -1 ||
	    (mb->url.fanout_prefix2[0] != '\0' &&
	    names_fanout_also(&mb->names, mb->url.db, mb->url.fanout_prefix2,
	    &errstr) == -1))
		errx(EX_USAGE, "namespace %s: %s", log_viss(ctl->ns), errstr);
	mb->key_file = ctl->key_file;
	mb->key_from = ctl->key_from;
	/* Reply checks only with a trust anchor: else no libcrypto. */
	if ((mb->trust = trust_load(&msg)) == NULL && msg != NULL)
		errx(EX_CONFIG, "%s", msg);
	mb->verify = mb->trust != NULL || ctl->verify_set;
	mb->verify_required = ctl->verify_required;
}

/*
 * What args_global() or args_parse() returned, when it is not ARGS_OK:
 * -h and -V print and exit 0, a mistake exits 64. cmd is NULL for the
 * global options before the command.
 */
static void
args_done(int rv, struct args_error *e, const struct cmd_entry *cmd)
{
	switch (rv) {
	case ARGS_OK:
		return;
	case ARGS_HELP:
		if (cmd != NULL) {
			printf("usage: %s %s %s\n", getprogname(), cmd->name,
			    cmd->usage);
			args_help(stdout, cmd);
		} else
			usage_to(stdout);
		exit(0);
	case ARGS_VERSION:
		printf("pidboxctl %s\n", PIDBOX_VERSION);
		exit(0);
	case ARGS_NOTGLOBAL:
		usage();
	default:
		if (e->msg != NULL)
			warnx("%s", e->msg);
		if (e->usage || e->msg == NULL) {
			args_error_free(e);
			if (cmd == NULL)
				usage();
			cmd_usage(cmd);
		}
		args_error_free(e);
		exit(EX_USAGE);
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct ctl		 ctl;
	struct cmd_args		 args;
	struct args_error	 e;
	const struct cmd_entry	*cmd, *family;
	int			 ch, rv;

	memset(&ctl, 0, sizeof(ctl));
	memset(&e, 0, sizeof(e));
	ctl.ns = NULL;		/* -N, else the -c file, else DEFAULT_NS */
	ctl.mbox.type = MAILBOX_FANOUT;
	log_init(1, 0, getprogname());

	while ((ch = getopt_long(argc, argv, "+" GLOBAL_OPTSTRING, longopts,
	    NULL)) != -1)
		args_done(args_global(&ctl, ch, optarg, &e), &e, NULL);
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage();
	if ((cmd = cmd_find(argv[0])) == NULL) {
		if ((family = cmd_suggest(argv[0])) != NULL)
			errx(EX_USAGE, "unknown command: %s; did you mean %s? "
			    "(%s -h lists the commands)", log_viss(argv[0]),
			    family->name, getprogname());
		errx(EX_USAGE, "unknown command: %s (%s -h lists the "
		    "commands)", log_viss(argv[0]), getprogname());
	}
	ctl.mbox.intr = ctl_signals_init();
	/* inspect X, control X: X names the row, with its own options. */
	if (cmd->flags & CMD_FAMILY) {
		family = cmd;
		if (argc < 2 || argv[1][0] == '-')
			cmd_usage(family);
		argc--;
		argv++;
		if ((cmd = cmd_find_family(family, argv[0])) == NULL)
			errx(EX_USAGE, "%s: no such %s command: %s",
			    family->name, family->name, log_viss(argv[0]));
	}
	if ((rv = args_parse(&ctl, cmd, argc, argv, &args, &e)) != ARGS_OK)
		args_free(&args);
	args_done(rv, &e, cmd);
	ctl.key_from = "-i";
	if (ctl.key_file == NULL) {
		ctl.key_from = "PIDBOX_KEY_FILE";
		if ((ctl.key_file = getenv("PIDBOX_KEY_FILE")) != NULL &&
		    ctl.key_file[0] == '\0')
			ctl.key_file = NULL;
	}
	if (!(cmd->flags & CMD_LOCAL))
		ctl_setup(&ctl);
	rv = cmd->exec(&ctl, &args);
	args_free(&args);
	ctl_exit(rv);
}
