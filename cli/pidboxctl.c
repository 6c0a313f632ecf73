/*
 * pidboxctl: send kombu pidbox (broadcast RPC) requests over Redis and
 * collect the replies, like `celery inspect` / kombu's Mailbox.
 */
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "pidbox.h"
#include "pidboxctl.h"

volatile sig_atomic_t	 ctl_signal;
sigset_t		 ctl_waitmask;

static void
usage_to(FILE *f)
{
	const struct cmd_entry	*cmd;

	fprintf(f, "usage: %s [-jVvh] [-b url] [-N namespace] "
	    "[-T fanout|direct|topic] command [args]\n", getprogname());
	fprintf(f, "commands:\n");
	for (cmd = cmd_table; cmd->name != NULL; cmd++)
		fprintf(f, "    %s %s\n", cmd->name, cmd->usage);
}

void
usage(void)
{
	usage_to(stderr);
	exit(EX_USAGE);
}

void
cmd_usage(const struct cmd_entry *cmd)
{
	fprintf(stderr, "usage: %s [-jVvh] [-b url] [-N namespace] "
	    "[-T fanout|direct|topic] %s %s\n", getprogname(), cmd->name,
	    cmd->usage);
	exit(EX_USAGE);
}

/* Handle one global option; 0 when ch is not one. */
int
ctl_global_opt(struct ctl *ctl, int ch, const struct cmd_entry *cmd)
{
	switch (ch) {
	case 'b':
		ctl->broker = optarg;
		break;
	case 'N':
		if (optarg[0] == '\0' || strlen(optarg) > MAX_NAME)
			errx(EX_USAGE, "namespace must be 1 to %d bytes",
			    MAX_NAME);
		ctl->ns = optarg;
		break;
	case 'T':
		if (mailbox_type_parse(optarg, &ctl->type) == -1)
			errx(EX_USAGE, "unknown mailbox type %s (fanout, "
			    "direct or topic)", log_viss(optarg));
		break;
	case 'j':
		ctl->json = 1;
		break;
	case 'v':
		ctl->verbose++;
		break;
	case 'V':
		printf("pidboxctl %s\n", PIDBOX_VERSION);
		exit(0);
	case 'h':
		if (cmd != NULL)
			printf("usage: %s %s %s\n", getprogname(), cmd->name,
			    cmd->usage);
		else
			usage_to(stdout);
		exit(0);
	default:
		return 0;
	}
	return 1;
}

/* Resolve the broker URL and every Redis name; usage errors exit 64. */
void
ctl_setup(struct ctl *ctl)
{
	const char	*broker, *errstr, *fp;
	char		 e[256];

	broker = ctl->broker;
	if (broker == NULL || broker[0] == '\0')
		broker = getenv("PIDBOX_BROKER");
	if (broker == NULL || broker[0] == '\0')
		broker = DEFAULT_BROKER;
	if (redis_url_parse(broker, &ctl->url, e, sizeof(e)) == -1)
		errx(EX_USAGE, "broker URL: %s", e);
	redis_url_redacted(&ctl->url, ctl->redacted, sizeof(ctl->redacted));
	fp = ctl->url.fanout_prefix_set ? ctl->url.fanout_prefix : NULL;
	if (names_init(&ctl->names, ctl->ns, NULL, ctl->type, ctl->url.db,
	    ctl->url.keyprefix, fp, &errstr) == -1)
		errx(EX_USAGE, "namespace %s: %s", log_viss(ctl->ns), errstr);
}

void
ctl_debug(const struct ctl *ctl, const char *fmt, ...)
{
	va_list	ap;

	if (ctl->verbose == 0)
		return;
	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
}

/* Sleep ms milliseconds; -1 when a signal asked us to stop. */
int
ctl_sleep(int64_t ms)
{
	struct timespec	 ts;
	int64_t		 deadline, now;

	deadline = now_mono_ms() + ms;
	while (!ctl_signal && (now = now_mono_ms()) < deadline) {
		ts.tv_sec = (deadline - now) / 1000;
		ts.tv_nsec = ((deadline - now) % 1000) * 1000000;
		(void)ppoll(NULL, 0, &ts, &ctl_waitmask);
	}
	return ctl_signal ? -1 : 0;
}

/* Exit with code, or die of the signal that interrupted us. */
void
ctl_exit(int code)
{
	sigset_t	set;
	int		sig = ctl_signal;

	/* A reader that went away (| head) is not worth a message. */
	if ((fflush(stdout) == EOF || ferror(stdout)) && errno != EPIPE) {
		warn("stdout");
		if (code == 0)
			code = EX_IOERR;
	}
	if (sig != 0) {
		signal(sig, SIG_DFL);
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		raise(sig);
		code = 128 + sig;
	}
	exit(code);
}

static void
on_signal(int sig)
{
	ctl_signal = sig;
}

/*
 * SIGINT/SIGTERM/SIGHUP only set a flag. They stay blocked except while
 * we wait in ppoll() (ctl_waitmask), so a wait ends at once and the
 * caller still removes its reply queue.
 */
static void
signals_init(void)
{
	struct sigaction	 sa;
	sigset_t		 set;
	const int		 sigs[] = { SIGINT, SIGTERM, SIGHUP };
	size_t			 i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sigemptyset(&set);
	for (i = 0; i < nitems(sigs); i++) {
		if (sigaction(sigs[i], &sa, NULL) == -1)
			err(EX_OSERR, "sigaction");
		sigaddset(&set, sigs[i]);
	}
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &set, &ctl_waitmask) == -1)
		err(EX_OSERR, "sigprocmask");
	for (i = 0; i < nitems(sigs); i++)
		sigdelset(&ctl_waitmask, sigs[i]);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct ctl		 ctl;
	const struct cmd_entry	*cmd;
	int			 ch;

	memset(&ctl, 0, sizeof(ctl));
	ctl.ns = DEFAULT_NS;
	ctl.type = MAILBOX_FANOUT;
	log_init(1, 0, getprogname());

	while ((ch = getopt_long(argc, argv, "+" GLOBAL_OPTSTRING, longopts,
	    NULL)) != -1) {
		if (!ctl_global_opt(&ctl, ch, NULL))
			usage();
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage();
	if ((cmd = cmd_find(argv[0])) == NULL) {
		warnx("unknown command: %s", log_viss(argv[0]));
		usage();
	}
	signals_init();
	optind = 0;	/* glibc: restart getopt for the command's options */
	ctl_exit(cmd->exec(&ctl, argc, argv));
}
