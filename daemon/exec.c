/*
 * Operator-defined methods: validate the arguments against the schema,
 * then run the configured argv (never a shell) in its own process group
 * with a scrubbed environment and only fds 0-2 open. Output comes back
 * through non-blocking pipes on the loop, the exit through a pidfd; a
 * handler past its timeout gets SIGTERM, then SIGKILL after kill_grace.
 * The request is finished later through the call's done callback.
 *
 * Every job runs under its own supervisor, this binary in its --exec-job
 * mode (exec_job_main() below), posix_spawned by pidboxd; the supervisor
 * forks the method's program. A process group is not enough to hold a job:
 * setsid() or a double fork leaves it, and such a process used to outlive
 * the job's timeout, reparented to init. The supervisor is a child
 * subreaper (PR_SET_CHILD_SUBREAPER), so whatever the job starts and
 * orphans, in any session, becomes its child instead of init's; when the
 * method's program exits, or pidboxd asks (timeout, stop) or dies, it
 * kills every remaining descendant and exits only when it has no child
 * left. pidboxd then reaps the supervisor and replies: by then nothing of
 * the job runs. Why a process per job rather than making pidboxd the
 * subreaper: orphans of different jobs would all land on pidboxd, with no
 * way to tell whose they are, and pidboxd would have to reap strangers. A
 * cgroup per job would also hold them, but needs a delegated cgroup
 * subtree, which pidboxd.service does not (and need not) have.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pidboxd.h"

#define EXEC_PATH	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define READ_CHUNK	16384

/*
 * pidboxd and a job's supervisor: SIGTERM asks it to pass SIGTERM on to
 * the job (the timeout), JOB_KILL to kill all of it now and exit (the end
 * of the grace, pidboxd's stop, pidboxd's death). The supervisor tells
 * pidboxd on JOB_STATUS_FD whether the program could be executed.
 */
#define JOB_KILL	SIGUSR1
#define JOB_STATUS_FD	3
#define JOB_WAIT_MS	50	/* between rounds of SIGKILL */
#define JOB_GIVE_UP_MS	5000	/* no child reaped for this long */

struct obuf {
	char	*buf;
	size_t	 len;
	int	 truncated;
};

#define REAP_POLL_MS	20

struct job {
	TAILQ_ENTRY(job)	 entry;
	const struct method_conf *m;
	call_done_fn		 done;		/* finishes the request */
	void			*done_arg;
	char			 ticket[MAX_NAME + 1];
	int64_t			 start_ms;	/* monotonic */
	pid_t			 pid;
	int			 pidfd;
	int			 fd[3];		/* stdin, stdout, stderr; -1 */
	struct obuf		 o[2];		/* stdout, stderr */
	char			*in;		/* JSON for stdin */
	size_t			 inlen, inoff;
	int			 timed_out;
	struct timer		 deadline;
	struct timer		 kill;
	struct timer		 reap;		/* when there is no pidfd */
};

static TAILQ_HEAD(, job) jobs = TAILQ_HEAD_INITIALIZER(jobs);
static int njobs;
static struct exec_stats stats;

const struct exec_stats *
exec_stats(void)
{
	return &stats;
}

int
exec_running(void)
{
	return njobs;
}

static int
running_of(const struct method_conf *m)
{
	struct job	*j;
	int		 c = 0;

	TAILQ_FOREACH(j, &jobs, entry)
		if (j->m == m)
			c++;
	return c;
}

/* Output as valid UTF-8: invalid bytes and NUL become U+FFFD. */
static json_object *
utf8_string(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			*out;
	size_t			 i = 0, o = 0, n;
	uint32_t		 cp;
	json_object		*j;

	if ((out = malloc(len * 3 + 1)) == NULL)
		return json_object_new_string("");
	while (i < len) {
		n = p[i] == '\0' ? 0 : utf8_decode(p + i, len - i, &cp);
		if (n == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, s + i, n);
		o += n;
		i += n;
	}
	j = json_object_new_string_len(out, (int)o);
	free(out);
	return j;
}

static void
close_fd(struct job *j, int k)
{
	if (j->fd[k] == -1)
		return;
	loop_fd_del(j->fd[k]);
	close(j->fd[k]);
	j->fd[k] = -1;
}

/* Read what is there; keep up to max_output, count and drop the rest. */
static void
drain(struct job *j, int k)
{
	struct obuf	*b = &j->o[k - 1];
	char		 chunk[READ_CHUNK];
	size_t		 room;
	ssize_t		 r;

	while (j->fd[k] != -1) {
		r = read(j->fd[k], chunk, sizeof(chunk));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && errno == EAGAIN)
			return;
		if (r <= 0) {
			close_fd(j, k);
			return;
		}
		room = j->m->max_output - b->len;
		if ((size_t)r > room) {
			b->truncated = 1;
			r = (ssize_t)room;
		}
		memcpy(b->buf + b->len, chunk, (size_t)r);
		b->len += (size_t)r;
	}
}

static void
finish(struct job *j)
{
	json_object	*res, *value, *extra;
	char		 outcome[64];
	int		 status = 0;
	double		 dur;
	pid_t		 r;

	/*
	 * Whatever is left of the job goes with it: the supervisor kills
	 * and reaps all of it before it exits (a no-op when it has exited).
	 */
	kill(j->pid, JOB_KILL);
	do
		r = waitpid(j->pid, &status, 0);
	while (r == -1 && errno == EINTR);
	drain(j, 1);
	drain(j, 2);
	close_fd(j, 0);
	close_fd(j, 1);
	close_fd(j, 2);
	if (j->pidfd != -1) {
		loop_fd_del(j->pidfd);
		close(j->pidfd);
	}
	timer_del(&j->deadline);
	timer_del(&j->kill);
	timer_del(&j->reap);
	dur = (double)(now_mono_ms() - j->start_ms) / 1000.0;

	res = json_object_new_object();
	extra = json_object_new_object();
	if (r == j->pid && WIFEXITED(status)) {
		json_object_object_add(res, "exit_status",
		    json_object_new_int(WEXITSTATUS(status)));
		json_object_object_add(extra, "exit_status",
		    json_object_new_int(WEXITSTATUS(status)));
		json_object_object_add(res, "signal", NULL);
	} else {
		json_object_object_add(res, "exit_status", NULL);
		json_object_object_add(res, "signal", r == j->pid &&
		    WIFSIGNALED(status) ? json_object_new_int(WTERMSIG(status)) :
		    NULL);
	}
	json_object_object_add(res, "stdout", utf8_string(j->o[0].buf,
	    j->o[0].len));
	json_object_object_add(res, "stderr", utf8_string(j->o[1].buf,
	    j->o[1].len));
	json_object_object_add(res, "stdout_truncated",
	    json_object_new_boolean(j->o[0].truncated));
	json_object_object_add(res, "stderr_truncated",
	    json_object_new_boolean(j->o[1].truncated));
	json_object_object_add(res, "duration", json_object_new_double(dur));

	value = json_object_new_object();
	if (j->timed_out) {
		json_object_object_add(value, "error", json_object_new_string(
		    "timeout: killed after the method's timeout"));
		snprintf(outcome, sizeof(outcome), "timeout");
		stats.timeouts++;
		log_warnx("method %s: ticket %s: timed out after %.3f s; "
		    "all processes of job %d killed", j->m->name,
		    log_viss(j->ticket), dur, (int)j->pid);
	} else if (r == j->pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0) {
		json_object_object_add(value, "ok", json_object_get(res));
		snprintf(outcome, sizeof(outcome), "ok");
	} else {
		if (r == j->pid && WIFEXITED(status))
			snprintf(outcome, sizeof(outcome), "exit %d",
			    WEXITSTATUS(status));
		else if (r == j->pid && WIFSIGNALED(status))
			snprintf(outcome, sizeof(outcome), "signal %d",
			    WTERMSIG(status));
		else
			snprintf(outcome, sizeof(outcome), "lost");
		json_object_object_add(value, "error",
		    json_object_new_string(outcome));
		stats.errors++;
		/* the operator looks in the journal before the audit file */
		log_warnx("method %s: ticket %s: failed (%s) after %.3f s, "
		    "pid %d", j->m->name, log_viss(j->ticket), outcome, dur,
		    (int)j->pid);
	}
	if (!json_object_object_get_ex(value, "ok", NULL))
		json_object_object_add(value, "result", json_object_get(res));
	json_object_put(res);
	TAILQ_REMOVE(&jobs, j, entry);
	njobs--;
	j->done(j->done_arg, value, outcome, extra);
	json_object_put(value);
	json_object_put(extra);
	free(j->o[0].buf);
	free(j->o[1].buf);
	free(j->in);
	free(j);
}

static void
on_out(int fd, int revents, void *arg)
{
	struct job	*j = arg;
	int		 k = fd == j->fd[1] ? 1 : 2;

	(void)revents;
	drain(j, k);
}

static void
on_in(int fd, int revents, void *arg)
{
	struct job	*j = arg;
	ssize_t		 w;

	(void)fd;
	(void)revents;
	while (j->inoff < j->inlen) {
		w = write(j->fd[0], j->in + j->inoff, j->inlen - j->inoff);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && errno == EAGAIN)
			return;
		if (w <= 0)
			break;	/* EPIPE: the program did not read it all */
		j->inoff += (size_t)w;
	}
	close_fd(j, 0);
}

static void
on_exit_fd(int fd, int revents, void *arg)
{
	(void)fd;
	(void)revents;
	finish(arg);
}

/*
 * Our own binary, for the --exec-job supervisor. readlink() rather than
 * spawning "/proc/self/exe" itself: under valgrind that link is valgrind,
 * while valgrind's readlink() gives the program it runs.
 */
static const char *
self_exe(void)
{
	static char	path[PATH_MAX];
	ssize_t		n;

	if (path[0] == '\0') {
		n = readlink("/proc/self/exe", path, sizeof(path) - 1);
		if (n > 0 && (size_t)n < sizeof(path) - 1)
			path[n] = '\0';
		/* unreadable, or the binary was replaced since we started */
		if (n <= 0 || (size_t)n >= sizeof(path) - 1 ||
		    strstr(path, " (deleted)") != NULL)
			strlcpy(path, "/proc/self/exe", sizeof(path));
	}
	return path;
}

/*
 * Without pidfd_open (kernels before 5.3, or valgrind, which does not
 * implement it) poll for the exit; WNOWAIT leaves the child for finish().
 */
static void
on_reap_poll(void *arg)
{
	struct job	*j = arg;
	siginfo_t	 si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)j->pid, &si, WEXITED | WNOHANG | WNOWAIT) ==
	    0 && si.si_pid == j->pid) {
		finish(j);
		return;
	}
	timer_add(&j->reap, REAP_POLL_MS);
}

static void
on_deadline(void *arg)
{
	struct job *j = arg;

	j->timed_out = 1;
	kill(j->pid, SIGTERM);	/* the supervisor passes it on */
	timer_add(&j->kill, j->m->kill_grace_ms);
}

static void
on_kill(void *arg)
{
	struct job *j = arg;

	kill(j->pid, JOB_KILL);
}

static int
add_env(char **envp, size_t *ne, size_t max, const char *k, const char *v)
{
	if (*ne + 1 >= max || asprintf(&envp[*ne], "%s%s", k, v) == -1)
		return -1;
	(*ne)++;
	return 0;
}

static void
free_vec(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* argv with "{name}" elements replaced (absent optional args dropped). */
static char **
build_argv(const struct method_conf *m, json_object *args)
{
	char		**av;
	char		  name[MAX_NAME + 1];
	size_t		  i, n = 0, len;
	json_object	 *v;

	if ((av = calloc(m->argc + 6, sizeof(*av))) == NULL)
		return NULL;
	/* pidboxd --exec-job uid:gid|- -- program args... */
	av[n++] = strdup("pidboxd");
	av[n++] = strdup("--exec-job");
	if (!m->as_user)
		av[n++] = strdup("-");
	else if (asprintf(&av[n++], "%u:%u", (unsigned)m->uid,
	    (unsigned)m->gid) == -1)
		av[n - 1] = NULL;
	av[n++] = strdup("--");
	for (i = 0; i < m->argc; i++) {
		len = strlen(m->argv[i]);
		if (len > 2 && m->argv[i][0] == '{' &&
		    m->argv[i][len - 1] == '}' && len - 2 <= MAX_NAME) {
			memcpy(name, m->argv[i] + 1, len - 2);
			name[len - 2] = '\0';
			if (!json_object_object_get_ex(args, name, &v))
				continue;
			av[n++] = schema_text(v);
		} else
			av[n++] = strdup(m->argv[i]);
		if (av[n - 1] == NULL)
			goto fail;
	}
	for (i = 0; i < n; i++)
		if (av[i] == NULL)
			goto fail;
	return av;
fail:
	for (i = 0; i < n; i++)
		free(av[i]);
	free(av);
	return NULL;
}

/* The whole environment of the child: nothing inherited. */
static char **
build_env(const struct call *c, const struct method_conf *m,
    json_object *args)
{
	char		**envp, key[MAX_NAME + 16], *t;
	size_t		  ne = 0, max, i;
	int		  bad = 0;

	max = 16 + (size_t)json_object_object_length(args);
	if ((envp = calloc(max, sizeof(*envp))) == NULL)
		return NULL;
	bad |= add_env(envp, &ne, max, EXEC_PATH, "");
	bad |= add_env(envp, &ne, max, "LANG=C", "");
	bad |= add_env(envp, &ne, max, "HOME=/", "");
	bad |= add_env(envp, &ne, max, "PIDBOX_NODE=", c->conf->hostname);
	bad |= add_env(envp, &ne, max, "PIDBOX_METHOD=", m->name);
	bad |= add_env(envp, &ne, max, "PIDBOX_TICKET=", c->ticket);
	bad |= add_env(envp, &ne, max, "PIDBOX_IDENTITY=", c->identity);
	if (m->env_args) {
		json_object_object_foreach(args, k, v) {
			snprintf(key, sizeof(key), "PIDBOX_ARG_%s=", k);
			for (i = 11; key[i] != '\0'; i++)
				if (key[i] >= 'a' && key[i] <= 'z')
					key[i] = (char)(key[i] - 'a' + 'A');
			if ((t = schema_text(v)) == NULL) {
				bad = 1;
				break;
			}
			bad |= add_env(envp, &ne, max, key, t);
			free(t);
		}
	}
	if (bad) {
		free_vec(envp);
		return NULL;
	}
	return envp;
}

static int
nonblock(int fd)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/*
 * The supervisor's word on the start: 0 once the program runs, an errno
 * when it could not be executed, -1 when the supervisor died first.
 */
static int
job_started(int fd)
{
	ssize_t	r;
	int	e;

	do
		r = read(fd, &e, sizeof(e));
	while (r == -1 && errno == EINTR);
	if (r != (ssize_t)sizeof(e) || e < 0)
		return -1;
	return e;
}

int
exec_method(const struct call *c, json_object **res)
{
	const struct method_conf	*m = c->method->conf;
	json_object			*checked = c->args;	/* borrowed */
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 attr;
	sigset_t			 none, all;
	struct job			*j = NULL;
	char				 err[512], **av = NULL, **envp = NULL;
	int				 p[3][2] = { { -1, -1 }, { -1, -1 },
					    { -1, -1 } };
	int				 st[2] = { -1, -1 };
	int				 i, e, fa_ok = 0, attr_ok = 0, poll_exit;
	pid_t				 r;

	if (running_of(m) >= m->max_concurrent ||
	    njobs >= c->conf->max_children) {
		stats.busy++;
		*res = reply_error("%s: busy: %d running (max_concurrent %d)",
		    m->name, running_of(m), m->max_concurrent);
		return -1;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->o[0].buf = malloc(m->max_output + 1)) == NULL ||
	    (j->o[1].buf = malloc(m->max_output + 1)) == NULL ||
	    (av = build_argv(m, checked)) == NULL ||
	    (envp = build_env(c, m, checked)) == NULL) {
		snprintf(err, sizeof(err), "%s", strerror(ENOMEM));
		goto fail;
	}
	if (m->stdin_json) {
		const char *s = json_object_to_json_string_ext(checked,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

		if ((j->in = strdup(s)) == NULL)
			goto fail;
		j->inlen = strlen(s);
	}
	for (i = 0; i < 3; i++)
		if ((i > 0 || m->stdin_json) && pipe2(p[i], O_CLOEXEC) == -1) {
			snprintf(err, sizeof(err), "pipe: %s", strerror(errno));
			goto fail;
		}
	if (pipe2(st, O_CLOEXEC) == -1) {
		snprintf(err, sizeof(err), "pipe: %s", strerror(errno));
		goto fail;
	}
	posix_spawn_file_actions_init(&fa);
	fa_ok = 1;
	if (m->stdin_json)
		posix_spawn_file_actions_adddup2(&fa, p[0][0], 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null",
		    O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1][1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[2][1], 2);
	posix_spawn_file_actions_addchdir_np(&fa, m->cwd != NULL ? m->cwd :
	    "/");
	posix_spawn_file_actions_adddup2(&fa, st[1], JOB_STATUS_FD);
	posix_spawn_file_actions_addclosefrom_np(&fa, JOB_STATUS_FD + 1);
	posix_spawnattr_init(&attr);
	attr_ok = 1;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	/* the supervisor in its own group, out of reach of the job's */
	e = posix_spawn(&j->pid, self_exe(), &fa, &attr, av, envp);
	if (e != 0) {
		snprintf(err, sizeof(err), "cannot start %s: %s",
		    log_viss(m->argv[0]), strerror(e));
		goto fail;
	}
	/*
	 * As posix_spawn() itself did, wait until the program is executed
	 * (or could not be): the supervisor says which on the status pipe.
	 */
	close(st[1]);
	st[1] = -1;
	e = job_started(st[0]);
	close(st[0]);
	st[0] = -1;
	if (e != 0) {
		snprintf(err, sizeof(err), "cannot start %s: %s",
		    log_viss(m->argv[0]), e > 0 ? strerror(e) :
		    "its supervisor failed");
		kill(j->pid, JOB_KILL);
		do
			r = waitpid(j->pid, NULL, 0);
		while (r == -1 && errno == EINTR);
		goto fail;
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	fa_ok = attr_ok = 0;
	j->m = m;
	j->done = c->done;
	j->done_arg = c->done_arg;
	strlcpy(j->ticket, c->ticket, sizeof(j->ticket));
	j->start_ms = now_mono_ms();
	j->fd[0] = p[0][1];
	j->fd[1] = p[1][0];
	j->fd[2] = p[2][0];
	for (i = 0; i < 3; i++) {
		if (p[i][0] != -1 && i == 0)
			close(p[i][0]);
		if (i > 0)
			close(p[i][1]);
	}
	j->pidfd = (int)syscall(SYS_pidfd_open, j->pid, 0);
	poll_exit = j->pidfd == -1 && errno == ENOSYS;
	if (j->pidfd == -1 && !poll_exit) {
		/* cannot watch it: do not let it run unwatched */
		kill(j->pid, JOB_KILL);
		log_warn("method %s: pidfd_open", m->name);
	}
	for (i = 0; i < 3; i++) {
		if (j->fd[i] == -1)
			continue;
		nonblock(j->fd[i]);
		loop_fd_add(j->fd[i], i == 0 ? on_in : on_out, j);
		loop_fd_events(j->fd[i], i == 0 ? POLLOUT : POLLIN, 1);
	}
	timer_set(&j->deadline, on_deadline, j);
	timer_set(&j->kill, on_kill, j);
	timer_set(&j->reap, on_reap_poll, j);
	TAILQ_INSERT_TAIL(&jobs, j, entry);
	njobs++;
	stats.started++;
	/* the job finishes the request from here */
	log_info("method %s: ticket %s: started pid %d", m->name,
	    log_viss(j->ticket), (int)j->pid);
	free_vec(av);
	free_vec(envp);
	if (j->pidfd == -1 && !poll_exit) {
		finish(j);
		return CALL_PENDING;
	}
	if (poll_exit)
		timer_add(&j->reap, REAP_POLL_MS);
	else {
		loop_fd_add(j->pidfd, on_exit_fd, j);
		loop_fd_events(j->pidfd, POLLIN, 1);
	}
	timer_add(&j->deadline, m->timeout_ms);
	return CALL_PENDING;
fail:
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	if (attr_ok)
		posix_spawnattr_destroy(&attr);
	for (i = 0; i < 3; i++) {
		if (p[i][0] != -1)
			close(p[i][0]);
		if (p[i][1] != -1)
			close(p[i][1]);
	}
	if (st[0] != -1)
		close(st[0]);
	if (st[1] != -1)
		close(st[1]);
	if (j != NULL) {
		free(j->o[0].buf);
		free(j->o[1].buf);
		free(j->in);
		free(j);
	}
	free_vec(av);
	free_vec(envp);
	stats.errors++;
	*res = reply_error("%s: %s", m->name, err);
	return -1;
}

void
exec_abort_all(void)
{
	struct job *j;

	/* all supervisors at once, then wait for each */
	TAILQ_FOREACH(j, &jobs, entry)
		kill(j->pid, JOB_KILL);
	while ((j = TAILQ_FIRST(&jobs)) != NULL) {
		j->timed_out = 1;
		finish(j);	/* reaps the supervisor, replies */
	}
}

/*
 * The job's supervisor, pidboxd --exec-job uid:gid|- -- program args...
 * Everything below runs in that process, never in pidboxd.
 */
static pid_t	job_main;	/* the method's program */
static int	job_status;	/* its wait status, once reaped */
static int	job_reaped;

/*
 * Reap every child that has exited; *none is set when no child is left.
 * Returns how many were reaped.
 */
static int
job_reap(int *none)
{
	pid_t	p;
	int	st, n = 0;

	*none = 0;
	for (;;) {
		p = waitpid(-1, &st, WNOHANG);
		if (p == -1 && errno == EINTR)
			continue;
		if (p == -1 && errno == ECHILD)
			*none = 1;
		if (p <= 0)
			return n;
		if (p == job_main) {
			job_status = st;
			job_reaped = 1;
		}
		n++;
	}
}

/*
 * Send sig to each of our children that has not exited, and to the
 * process group each leads (the method's program leads the job's group;
 * a setsid() child leads its own). Only our own children, found through
 * /proc (their parent is us): their pids cannot be reused before we reap
 * them, so no stranger is ever signalled, which matters when we run as
 * root. Grandchildren are reached through their group, or, with SIGKILL,
 * next round: a killed child's children become ours (we are the subreaper).
 */
static void
job_signal_children(int sig)
{
	DIR		*d;
	struct dirent	*de;
	const char	*e;
	char		 path[64], buf[256], *p, state;
	pid_t		 pid, me = getpid();
	ssize_t		 r;
	int		 fd, ppid;

	if ((d = opendir("/proc")) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		pid = (pid_t)strtonum(de->d_name, 1, INT_MAX, &e);
		if (e != NULL || pid == me)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		r = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (r <= 0)
			continue;
		buf[r] = '\0';
		/* pid (comm) state ppid ...: comm may hold anything */
		if ((p = strrchr(buf, ')')) == NULL ||
		    sscanf(p + 1, " %c %d", &state, &ppid) != 2 ||
		    ppid != (int)me || state == 'Z')
			continue;
		if (getpgid(pid) == pid)	/* the group holds it */
			pid = -pid;
		kill(pid, sig);
		if (sig == SIGTERM)	/* a stopped process would not see it */
			kill(pid, SIGCONT);
	}
	closedir(d);
}

/*
 * SIGKILL the whole job, round after round, until we have no child left.
 * A process we can neither see nor signal would keep us here for ever:
 * give up after JOB_GIVE_UP_MS without progress, and say so.
 */
static void
job_kill_all(void)
{
	struct timespec	 ts = { 0, JOB_WAIT_MS * 1000000L };
	sigset_t	 chld;
	int64_t		 last = now_mono_ms();
	int		 none;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	for (;;) {
		if (job_reap(&none) > 0)
			last = now_mono_ms();
		if (none)
			return;
		if (now_mono_ms() - last > JOB_GIVE_UP_MS) {
			fprintf(stderr, "pidboxd: job %d: cannot kill what "
			    "is left of it; giving up\n", (int)getpid());
			return;
		}
		job_signal_children(SIGKILL);
		sigtimedwait(&chld, NULL, &ts);
	}
}

/* Exit as the method's program did, so that pidboxd reports its status. */
static _Noreturn void
job_exit(void)
{
	struct rlimit	rl = { 0, 0 };
	sigset_t	s;
	int		sig;

	if (!job_reaped)	/* we gave up on it */
		job_status = SIGKILL;
	if (WIFEXITED(job_status))
		_exit(WEXITSTATUS(job_status));
	sig = WTERMSIG(job_status);
	/* no core of ours for its crash (setrlimit may be filtered out) */
	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0);
	signal(sig, SIG_DFL);
	sigemptyset(&s);
	sigaddset(&s, sig);
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	raise(sig);
	_exit(128 + sig);
}

/* Become uid:gid ("-": stay who we are); 0, or -1 with a message. */
static int
job_drop(const char *ids)
{
	const char	*e;
	char		 buf[32], *colon;
	uid_t		 uid;
	gid_t		 gid;

	if (strcmp(ids, "-") == 0)
		return 0;
	if (strlcpy(buf, ids, sizeof(buf)) >= sizeof(buf) ||
	    (colon = strchr(buf, ':')) == NULL) {
		fprintf(stderr, "pidboxd: --exec-job: bad ids: %s\n", ids);
		return -1;
	}
	*colon = '\0';
	uid = (uid_t)strtonum(buf, 0, UINT32_MAX - 1, &e);
	if (e == NULL)
		gid = (gid_t)strtonum(colon + 1, 0, UINT32_MAX - 1, &e);
	if (e != NULL) {
		fprintf(stderr, "pidboxd: --exec-job: bad id: %s\n", e);
		return -1;
	}
	if (setgroups(1, &gid) == -1 || setgid(gid) == -1 ||
	    setuid(uid) == -1 || getuid() != uid || geteuid() != uid ||
	    getgid() != gid || (uid != 0 && setuid(0) != -1)) {
		fprintf(stderr, "pidboxd: --exec-as: cannot drop privileges: "
		    "%s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* Tell pidboxd how the start went; -1 when it is gone. */
static int
job_report(int e)
{
	ssize_t r;

	do
		r = write(JOB_STATUS_FD, &e, sizeof(e));
	while (r == -1 && errno == EINTR);
	close(JOB_STATUS_FD);
	return r == (ssize_t)sizeof(e) ? 0 : -1;
}

int
exec_job_main(int argc, char **argv)
{
	struct sigaction	 sa;
	sigset_t		 set, old;
	ssize_t			 r;
	int			 ep[2], e = 0, as_user, none, fd, sig;

	if (argc < 5 || strcmp(argv[3], "--") != 0) {
		fprintf(stderr, "pidboxd: --exec-job uid:gid|- -- program "
		    "...\n");
		return 127;
	}
	as_user = strcmp(argv[2], "-") != 0;
	/* signals are taken with sigwaitinfo() only */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, JOB_KILL);
	sigprocmask(SIG_BLOCK, &set, &old);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	fcntl(JOB_STATUS_FD, F_SETFD, FD_CLOEXEC);
	/*
	 * Orphans of the job become ours, not init's; if pidboxd dies, we
	 * are told to kill the job, as on its stop. Without either the job
	 * would not be held: refuse to run it.
	 */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1 ||
	    prctl(PR_SET_PDEATHSIG, JOB_KILL) == -1 ||
	    pipe2(ep, O_CLOEXEC) == -1) {
		job_report(errno);
		return 127;
	}
	if ((job_main = fork()) == -1) {
		job_report(errno);
		return 127;
	}
	if (job_main == 0) {
		/* the method's program: leads the job's process group */
		setpgid(0, 0);
		sa.sa_handler = SIG_DFL;
		sigaction(SIGPIPE, &sa, NULL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(ep[0]);
		if (job_drop(argv[2]) == -1)
			_exit(127);
		execv(argv[4], argv + 4);
		e = errno;
		/*
		 * With a user, the helper always said so on stderr and
		 * exited 127: keep that; without one, pidboxd answers
		 * "cannot start", as when it spawned the program itself.
		 */
		if (as_user)
			fprintf(stderr, "pidboxd: %s: %s\n", argv[4],
			    strerror(e));
		else
			(void)!write(ep[1], &e, sizeof(e));
		_exit(127);
	}
	setpgid(job_main, job_main);	/* before any signal goes to it */
	close(ep[1]);
	do
		r = read(ep[0], &e, sizeof(e));
	while (r == -1 && errno == EINTR);
	close(ep[0]);
	if (r != (ssize_t)sizeof(e))
		e = 0;	/* executed: the pipe closed on exec */
	if (job_report(e) == -1 || e != 0) {
		/* pidboxd is gone, or there is nothing to run */
		job_kill_all();
		return 127;
	}
	/* the job's pipes are the program's, not ours to hold open */
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
		dup2(fd, 0);
		dup2(fd, 1);
		close(fd);
	}
	for (;;) {
		job_reap(&none);
		if (job_reaped) {
			/* the program's end is the job's: the rest goes */
			job_kill_all();
			break;
		}
		if ((sig = sigwaitinfo(&set, NULL)) == -1)
			continue;
		if (sig == SIGTERM)
			job_signal_children(SIGTERM);
		else if (sig == JOB_KILL) {
			job_kill_all();
			break;
		}
	}
	job_exit();
}
