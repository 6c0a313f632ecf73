/*
 * Files replaced whole (the node key and its public half, the replay
 * cache, the metrics file): the text goes to a new temporary file beside
 * the path, path.XXXXXX, which then takes the path's name, so a reader
 * sees the old text or the new, never a part.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pidboxd.h"

/* fsync the directory of path, if it can be opened. */
static void
sync_dir(const char *path)
{
	char		 dir[PATH_MAX];
	const char	*slash;
	int		 dfd;

	if ((slash = strrchr(path, '/')) == NULL)
		strlcpy(dir, ".", sizeof(dir));
	else if (slash == path)
		strlcpy(dir, "/", sizeof(dir));
	else
		(void)snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path),
		    path);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
}

/*
 * Write text[len] to path through a temporary file, mode mode. Flags:
 * ATOMIC_SYNC, the file and then its directory synced (a crash keeps the
 * old text or the new); ATOMIC_NOREPLACE, link(2) instead of rename(2),
 * so that an existing path stays (EEXIST). -1 with errno and *errstr
 * (what failed) set.
 */
int
atomic_write(const char *path, const char *text, size_t len, mode_t mode,
    int flags, const char **errstr)
{
	char	 tmp[PATH_MAX];
	ssize_t	 w;
	size_t	 off = 0;
	int	 fd, save;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >=
	    sizeof(tmp)) {
		*errstr = "path too long";
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		*errstr = "cannot create a temporary file";
		return -1;
	}
	if (fchmod(fd, mode) == -1)
		goto fail;
	while (off < len) {
		if ((w = write(fd, text + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)w;
	}
	if ((flags & ATOMIC_SYNC) && fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (((flags & ATOMIC_NOREPLACE) ? link(tmp, path) :
	    rename(tmp, path)) == -1) {
		*errstr = "cannot rename the temporary file";
		goto out;
	}
	if (flags & ATOMIC_NOREPLACE)
		(void)unlink(tmp);
	if (flags & ATOMIC_SYNC)
		sync_dir(path);
	return 0;
fail:
	*errstr = "cannot write the temporary file";
out:
	save = errno;	/* what failed, not the clean-up */
	if (fd != -1)
		close(fd);
	(void)unlink(tmp);
	errno = save;
	return -1;
}
