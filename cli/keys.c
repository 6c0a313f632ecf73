/*
 * pidboxctl keygen and certify: Ed25519 keys (common/sign.c), made and
 * used on the operator's machine; nothing here talks to the broker.
 *
 *   keygen [-f FILE] [-C IDENTITY]  FILE (0600, never overwritten) and
 *                                   FILE.pub, the line a node trusts
 *   -i FLEETKEY certify NODE.pub    a certificate line for the node's
 *                                   state directory (node.cert)
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "pidbox.h"
#include "pidboxctl.h"

/* Write text into a new file (O_EXCL) of mode; -1 with errno. */
static int
put_new(const char *path, const char *text, mode_t mode)
{
	size_t	len = strlen(text);
	int	fd, rc = 0;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, mode)) == -1)
		return -1;
	if (fchmod(fd, mode) == -1 || write(fd, text, len) != (ssize_t)len ||
	    fsync(fd) == -1)
		rc = -1;
	if (close(fd) == -1)
		rc = -1;
	return rc;
}

/* ~/.config/pidbox/key (the directory made 0700) when no -f. */
static const char *
default_file(void)
{
	static char	 path[PATH_MAX];
	const char	*xdg, *home;
	struct passwd	*pw;

	if ((xdg = getenv("XDG_CONFIG_HOME")) != NULL && xdg[0] == '/')
		snprintf(path, sizeof(path), "%s/pidbox", xdg);
	else {
		if ((home = getenv("HOME")) == NULL || home[0] != '/')
			home = (pw = getpwuid(getuid())) != NULL ?
			    pw->pw_dir : "/";
		snprintf(path, sizeof(path), "%s/.config", home);
		(void)mkdir(path, 0700);
		strlcat(path, "/pidbox", sizeof(path));
	}
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		err(EX_CANTCREAT, "%s", path);
	strlcat(path, "/key", sizeof(path));
	return path;
}

int
keygen_exec(struct ctl *ctl, struct cmd_args *a)
{
	struct sign_edkey k;
	struct passwd	*pw;
	const char	*file = a->keygen.file, *id = a->keygen.identity, *e;
	char		 pub[PATH_MAX], *priv, *publine;

	(void)ctl;
	if (id == NULL)
		id = (pw = getpwuid(getuid())) != NULL ? pw->pw_name : NULL;
	if (id == NULL || sign_valid_identity(id) == -1)
		errx(EX_USAGE, "identity %s: 1 to 64 of [A-Za-z0-9._@-]",
		    log_viss(id));
	if (file == NULL)
		file = default_file();
	if ((size_t)snprintf(pub, sizeof(pub), "%s.pub", file) >= sizeof(pub))
		errx(EX_USAGE, "%s: name too long", log_viss(file));
	if (sign_ed_generate(&k, id, &e) == -1)
		errx(EX_SOFTWARE, "%s", e);
	if ((priv = sign_ed_format(&k, 1)) == NULL ||
	    (publine = sign_ed_format(&k, 0)) == NULL)
		err(EX_OSERR, NULL);
	sign_ed_clear(&k);
	if (put_new(file, priv, 0600) == -1) {
		freezero(priv, strlen(priv));
		err(EX_CANTCREAT, "%s", file);
	}
	freezero(priv, strlen(priv));
	if (put_new(pub, publine, 0644) == -1)
		err(EX_CANTCREAT, "%s", pub);
	fprintf(stderr, "private key: %s (keep it; pidboxctl -i %s)\n"
	    "public key:  %s (for the nodes' signing.public_keys)\n", file,
	    file, pub);
	fputs(publine, stdout);
	free(publine);
	return 0;
}

int
certify_exec(struct ctl *ctl, struct cmd_args *a)
{
	struct sign_edkey fleet, node;
	json_object	*v;
	unsigned char	 sig[SIGN_ED_SIGLEN];
	const char	*nodefile, *e;
	char		 head[SIGN_ED_HEADMAX], kb[64], sb[128];
	int		 hl;

	if (ctl->key_file == NULL)
		errx(EX_USAGE, "certify: give the fleet's private key with -i "
		    "or PIDBOX_KEY_FILE");
	if (!json_object_object_get_ex(a->req.arguments, "node_key", &v))
		cmd_usage(a->cmd);
	nodefile = json_object_get_string(v);
	if (sign_ed_load(&fleet, ctl->key_file, SIGN_ED_PRIVATE, &e) == -1)
		errx(EX_CONFIG, "%s %s: %s", ctl->key_from,
		    log_viss(ctl->key_file), e);
	if (sign_ed_load(&node, nodefile, SIGN_ED_PUBLIC, &e) == -1)
		errx(EX_DATAERR, "%s: %s", log_viss(nodefile), e);
	/* node.pub names the node: its identity field is the node name */
	if ((hl = sign_ed_cert_head(head, sizeof(head), node.identity,
	    node.pub)) == -1 ||
	    sign_ed_sign(&fleet, head, (size_t)hl, NULL, 0, sig) == -1 ||
	    sign_b64(node.pub, sizeof(node.pub), kb, sizeof(kb)) == -1 ||
	    sign_b64(sig, sizeof(sig), sb, sizeof(sb)) == -1)
		errx(EX_SOFTWARE, "cannot sign the certificate (libcrypto)");
	printf("%s %s %s %s %s\n", SIGN_ED_CERT_TAG, node.identity, kb,
	    fleet.identity, sb);
	sign_ed_clear(&fleet);
	sign_ed_clear(&node);
	return 0;
}
