/*
 * config_protect.c — no share and no scope makes the store, fvm's configuration or
 * the binaries of the run writable from a VM (issue 13; config.h).
 *
 * Rules:
 *  - A share that contains a protected path, or lies inside one, is refused, naming
 *    where it was set (FILE:LINE or --share). "Contains" and "inside" are decided by
 *    device and inode, walking up the parents through ".." from an opened directory,
 *    never by comparing strings: a link, a bind mount seen at another name, "//" or
 *    "/x/../" all lead to the same inodes.
 *  - A path that does not exist yet is taken at its deepest existing ancestor: sharing
 *    that ancestor would let the VM create the protected path, so it is refused too; a
 *    share that does not exist yet is checked the same way (the VM could make it).
 *  - With a scope, every path outside the scopes is shared with the host (libfvm's
 *    policy): the protected paths get rules of their own, the store hidden and the
 *    others read-only. The kernel fence grants writes only to the VM's data area and
 *    the shares, so it never grants them either.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

/* The identities of a directory and its ancestors up to the root. */
#define CHAIN_MAX 256
struct chain {
	dev_t dev[CHAIN_MAX];
	ino_t ino[CHAIN_MAX];
	size_t n;
};

/*
 * Opens PATH, or its deepest existing ancestor when it does not exist (*EXACT false);
 * the name opened is left in P. Returns an O_PATH fd, or -1 when nothing of it exists
 * (a relative path, say).
 */
static int open_existing(const char *path, char *p, size_t len, bool *exact)
{
	int fd;

	if (snprintf(p, len, "%s", path) >= (int)len || p[0] != '/') {
		return -1;
	}
	*exact = true;
	for (;;) {
		if ((fd = open(p, O_PATH | O_CLOEXEC)) >= 0) {
			return fd;
		}
		if (errno != ENOENT && errno != ENOTDIR) {
			return -1;
		}
		*exact = false;
		char *slash = strrchr(p, '/');
		if (!slash) {
			return -1;
		}
		slash[slash == p ? 1 : 0] = '\0';
	}
}

/*
 * The identity of FD (opened as NAME), then its parents' up to the root; the fd is
 * consumed. A directory's parent is its ".."; a file's is the directory of its name.
 */
static void chain_of(int fd, const char *name, struct chain *c)
{
	struct stat st;
	char dir[PATH_MAX];

	c->n = 0;
	while (fd >= 0 && fstat(fd, &st) == 0 && c->n < CHAIN_MAX) {
		if (c->n && c->dev[c->n - 1] == st.st_dev && c->ino[c->n - 1] == st.st_ino) {
			break; /* ".." of the root is the root */
		}
		c->dev[c->n] = st.st_dev;
		c->ino[c->n++] = st.st_ino;
		int up;
		if (S_ISDIR(st.st_mode)) {
			up = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		} else {
			/* The kernel's name of the file, links resolved, rather than NAME's text. */
			char proc[32];
			ssize_t l;
			snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
			if ((l = readlink(proc, dir, sizeof(dir) - 1)) > 0 && dir[0] == '/') {
				dir[l] = '\0';
			} else {
				snprintf(dir, sizeof(dir), "%s", name);
			}
			char *slash = strrchr(dir, '/');
			slash[slash == dir ? 1 : 0] = '\0'; /* an absolute name: a slash is there */
			up = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		}
		close(fd);
		fd = up;
	}
	if (fd >= 0) {
		close(fd);
	}
}

static bool in_chain(const struct chain *c, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < c->n; i++) {
		if (c->dev[i] == dev && c->ino[i] == ino) {
			return true;
		}
	}
	return false;
}

/* True when share SHARE covers protected path PROT (contains it, lies inside it). */
static bool covers(const char *share, const char *prot)
{
	char sname[PATH_MAX], pname[PATH_MAX];
	struct chain sc, pc;
	bool s_exact, p_exact;
	int sfd = open_existing(share, sname, sizeof(sname), &s_exact), pfd;

	if (sfd < 0) {
		return false;
	}
	if ((pfd = open_existing(prot, pname, sizeof(pname), &p_exact)) < 0) {
		close(sfd);
		return false;
	}
	chain_of(sfd, sname, &sc);
	chain_of(pfd, pname, &pc);
	/*
	 * Inside: PROT (when it exists) is the share or one of its ancestors. Contains: the
	 * share (when it exists) is PROT's deepest existing part or one of its ancestors.
	 */
	return (p_exact && pc.n && in_chain(&sc, pc.dev[0], pc.ino[0])) ||
	       (s_exact && sc.n && in_chain(&pc, sc.dev[0], sc.ino[0]));
}

int exec_protect_shares(const struct exec_config *c, const struct exec_protect *p, size_t n)
{
	for (size_t j = 0; j < c->n[K_SHARE]; j++) {
		const char *share = c->vals[K_SHARE][j].text;
		for (size_t i = 0; i < n; i++) {
			if (covers(share, p[i].path)) {
				fprintf(stderr,
					"fvm-exec: %s: share = %s: it covers %s (%s), which no VM may write; "
					"refused\n",
					c->vals[K_SHARE][j].origin, share, p[i].what, p[i].path);
				return -1;
			}
		}
	}
	return 0;
}

int exec_protect_scope(struct fvm_policy *pol, const struct exec_protect *p, size_t n)
{
	if (!pol->has_scope) {
		return 0; /* outside the shares, nothing reaches the host */
	}
	for (size_t i = 0; i < n; i++) {
		int r = fvm_policy_add_path(pol, p[i].klass, p[i].path);
		if (r < 0) {
			fprintf(stderr, "fvm-exec: cannot protect %s (%s) under a scope: %s\n", p[i].path,
				p[i].what, r == -ENOSPC ? "too many path rules" : strerror(-r));
			return -1;
		}
	}
	return 0;
}
