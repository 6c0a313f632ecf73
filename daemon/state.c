/*
 * The state directory (StateDirectory=pidbox, state_dir:, -S): what a
 * node keeps across restarts. node.key is the node's own Ed25519 key,
 * made at first start and never leaving the host, which signs its
 * replies; node.pub its public half for the operator to pin or certify;
 * node.cert, optional, certificates of that key by a fleet key
 * (pidboxctl certify); nonces.<ns>.<node> the replay cache (nonce.c).
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

int
state_dir_check(const char *dir, const char **errstr)
{
	static char	why[128];
	struct stat	st;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		*errstr = strerror(errno);
		return -1;
	}
	if (stat(dir, &st) == -1) {
		*errstr = strerror(errno);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		*errstr = "not a directory";
		return -1;
	}
	if (st.st_mode & S_IWOTH) {
		snprintf(why, sizeof(why), "writable by others (mode %04o)",
		    (unsigned)(st.st_mode & 07777));
		*errstr = why;
		return -1;
	}
	return 0;
}

/* Write text to dir/name, synced; exclusive: never replacing it. */
static int
put_file(const char *dir, const char *name, const char *text, mode_t mode,
    int exclusive)
{
	char		 path[PATH_MAX];
	const char	*e;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* link() never replaces: two first starts agree on one key. */
	return atomic_write(path, text, strlen(text), mode, ATOMIC_SYNC |
	    (exclusive ? ATOMIC_NOREPLACE : 0), &e);
}

int
state_node_key(const char *dir, const char *node, struct sign_edkey *k,
    const char **errstr)
{
	static char	 why[PATH_MAX + 128];
	struct sign_edkey pub;
	char		 path[PATH_MAX], *line;
	const char	*e;

	if ((size_t)snprintf(path, sizeof(path), "%s/node.key", dir) >=
	    sizeof(path)) {
		*errstr = "state directory path too long";
		return -1;
	}
	if (access(path, F_OK) == -1 && errno == ENOENT) {
		/* the name in the file is a label; node.pub says ours */
		if (sign_ed_generate(k, sign_valid_identity(node) == 0 ?
		    node : "node", errstr) == -1)
			return -1;
		if ((line = sign_ed_format(k, 1)) == NULL) {
			sign_ed_clear(k);
			*errstr = "out of memory";
			return -1;
		}
		if (put_file(dir, "node.key", line, 0600, 1) == 0)
			log_info("made the node key %s", path);
		else if (errno != EEXIST) {
			snprintf(why, sizeof(why), "%s: %s", path,
			    strerror(errno));
			*errstr = why;
			freezero(line, strlen(line));
			sign_ed_clear(k);
			return -1;
		}
		freezero(line, strlen(line));
		sign_ed_clear(k);	/* read back what won */
	}
	if (sign_ed_load(k, path, SIGN_ED_PRIVATE, &e) == -1) {
		snprintf(why, sizeof(why), "node key %s: %s", path, e);
		*errstr = why;
		return -1;
	}
	/*
	 * node.pub follows the key, named after this node (instances of
	 * pidboxd@ share the directory, and so the key), to be copied or
	 * certified.
	 */
	pub = *k;
	pub.private = 0;
	if (sign_valid_identity(node) == 0)
		strlcpy(pub.identity, node, sizeof(pub.identity));
	if ((line = sign_ed_format(&pub, 0)) != NULL) {
		if (put_file(dir, "node.pub", line, 0644, 0) == -1)
			log_warn("%s/node.pub", dir);
		free(line);
	}
	explicit_bzero(&pub, sizeof(pub));
	return 0;
}

int
state_node_cert(const char *dir, const char *node, const unsigned char *pub,
    char *sig, size_t siglen, char *by, size_t bylen, const char **errstr)
{
	static char	 why[128];
	unsigned char	 raw[SIGN_ED_SIGLEN], key[SIGN_ED_KEYLEN];
	char		 path[PATH_MAX], *text, *line, *save = NULL, *f[6], *p;
	char		*lsave = NULL;
	size_t		 len, nf, ln = 0;
	int		 rc = 1;

	if ((size_t)snprintf(path, sizeof(path), "%s/node.cert", dir) >=
	    sizeof(path) || access(path, F_OK) == -1)
		return 1;
	if ((text = sign_read_public(path, 65536, &len, errstr)) == NULL)
		return -1;
	for (line = strtok_r(text, "\n", &lsave); line != NULL && rc == 1;
	    line = strtok_r(NULL, "\n", &lsave)) {
		ln++;
		nf = 0;
		for (p = strtok_r(line, " ", &save); p != NULL && nf < 6;
		    p = strtok_r(NULL, " ", &save))
			f[nf++] = p;
		if (nf == 0 || f[0][0] == '#')
			continue;
		if (nf != 5 || strcmp(f[0], SIGN_ED_CERT_TAG) != 0 ||
		    sign_ed_key_decode(f[2], key) == -1 ||
		    sign_valid_identity(f[3]) == -1 ||
		    sign_ed_sig_decode(f[4], raw) == -1) {
			snprintf(why, sizeof(why), "line %zu: not \"%s <node> "
			    "<key> <fleet identity> <signature>\"", ln,
			    SIGN_ED_CERT_TAG);
			*errstr = why;
			rc = -1;
			break;
		}
		if (strcmp(f[1], node) != 0)
			continue;
		if (memcmp(key, pub, SIGN_ED_KEYLEN) != 0) {
			*errstr = "certifies another key for this node "
			    "(the node key changed: certify node.pub again)";
			rc = -1;
			break;
		}
		strlcpy(sig, f[4], siglen);
		strlcpy(by, f[3], bylen);
		rc = 0;
	}
	free(text);
	return rc;
}

int
state_nonce_path(const char *dir, const char *ns, const char *node,
    char *buf, size_t len)
{
	char	name[2 * MAX_NAME + 16], *p;

	snprintf(name, sizeof(name), "nonces.%s.%s", ns, node);
	/* names may hold '/' (celery@host is fine, a/b is not) */
	for (p = name; *p != '\0'; p++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789._@-", *p) == NULL)
			*p = '_';
	return (size_t)snprintf(buf, len, "%s/%s", dir, name) >= len ? -1 : 0;
}
