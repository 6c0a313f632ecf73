/*
 * Secret files (broker password, signing keys): read by pidboxd and
 * pidboxctl through this one function, so that both refuse the same files
 * for the same reasons.
 *
 * The type is checked on the opened descriptor, never on the name: a FIFO
 * opened without O_NONBLOCK blocks in open(2) until a writer comes, which
 * hung `pidboxd -t`, start-up and reload. O_NOFOLLOW refuses a symbolic
 * link, whose own owner and mode say nothing about who may change what
 * it points to; the owner must be us or root, as a file someone else owns
 * can be rewritten (or chmod'ed back) by them at any time.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pidbox.h"

/* Why fd's file is no regular file, in words an operator knows. */
static const char *
file_type(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "not a regular file (a FIFO)";
	if (S_ISDIR(mode))
		return "not a regular file (a directory)";
	if (S_ISCHR(mode))
		return "not a regular file (a character device)";
	if (S_ISBLK(mode))
		return "not a regular file (a block device)";
	if (S_ISSOCK(mode))
		return "not a regular file (a socket)";
	return "not a regular file";
}

unsigned char *
secret_read(const char *file, size_t max, size_t *lenp, const char **errstr)
{
	static char	 why[128];
	struct stat	 st;
	unsigned char	*buf = NULL;
	ssize_t		 n;
	size_t		 got = 0;
	int		 fd;

	*lenp = 0;
	if ((fd = open(file, O_RDONLY | O_NONBLOCK | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		if (errno == ELOOP)
			*errstr = "is a symbolic link; name the file itself";
		else if (errno == ENXIO)	/* a UNIX socket */
			*errstr = "not a regular file";
		else
			*errstr = strerror(errno);
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		*errstr = strerror(errno);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		*errstr = file_type(st.st_mode);
		goto fail;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		if (geteuid() == 0)
			snprintf(why, sizeof(why), "owned by uid %lu; must "
			    "be owned by root", (unsigned long)st.st_uid);
		else
			snprintf(why, sizeof(why), "owned by uid %lu; must "
			    "be owned by uid %lu (this process) or root",
			    (unsigned long)st.st_uid,
			    (unsigned long)geteuid());
		*errstr = why;
		goto fail;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(why, sizeof(why), "readable by group or others "
		    "(mode %04o); chmod 600 it",
		    (unsigned)(st.st_mode & 07777));
		*errstr = why;
		goto fail;
	}
	if ((buf = malloc(max + 2)) == NULL) {
		*errstr = strerror(errno);
		goto fail;
	}
	/* One byte more than max: the caller sees that the file is longer. */
	while (got <= max) {
		n = read(fd, buf + got, max + 1 - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			*errstr = strerror(errno);
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	close(fd);
	*lenp = got;
	*errstr = NULL;
	return buf;
fail:
	if (buf != NULL)
		freezero(buf, max + 2);
	close(fd);
	return NULL;
}

/*
 * A broker password read from a private file (secret_read()): one line,
 * trailing newline cut, 1 to 255 bytes. *why names the file. Both
 * programs read broker_password_file with it.
 */
char *
secret_password(const char *file, const char **why)
{
	static char	 msg[1024];	/* a log_viss() name and a reason */
	unsigned char	*buf;
	char		*pw = NULL;
	const char	*e;
	size_t		 n;

	if ((buf = secret_read(file, 510, &n, &e)) == NULL)
		goto done;
	buf[strcspn((char *)buf, "\r\n")] = '\0';
	if (buf[0] == '\0' || n > 510)
		e = "expected one line of 1 to 255 bytes";
	else if (strlen((char *)buf) >= 256)
		e = "password longer than 255 bytes";
	else
		pw = xstrdup((char *)buf);
	freezero(buf, 512);
done:
	if (pw == NULL) {
		snprintf(msg, sizeof(msg), "%s: %s", log_viss(file), e);
		*why = msg;
	}
	return pw;
}
