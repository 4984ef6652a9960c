/*
 * readfence.c — what keeps reads in bounds when fvm-exec is not root (run.h): other
 * VMs' layers, the store's control area and the hide paths unreadable by any program
 * of the VM, static programs and raw system calls too (issue 13). Root runs cover them
 * in their mount namespace instead (rootfence.c).
 *
 * Rules:
 *  - Landlock's READ_FILE and EXECUTE rights are handled (fence.c adds them to the
 *    ruleset of an unprivileged run); READ_DIR is not: listing /, the home directory,
 *    the store and its parents works as natively, and so does stat (Landlock has no
 *    right for it). What is kept out is the content of files.
 *  - The protected set P: the store ($FVM_HOME: vms/, ctl/, format, anything else in
 *    it) and every hide path of the policy, taken at their real paths (links of the
 *    directories above resolved; a hide path that is itself a symbolic link is not
 *    hidden: the path it names is not), and the other places the mounts show them at
 *    (a bind mount of a directory holding one, or of one, /proc/self/mountinfo). A
 *    Landlock right on a directory holds for its whole tree, so a directory that holds
 *    a protected path (an ancestor) can carry none: instead each entry of each
 *    ancestor that is neither protected nor an ancestor itself gets READ_FILE and
 *    EXECUTE (its tree, for a directory), compared by device and inode, so a hard link
 *    or a mount of a protected object in an ancestor stays covered. Symbolic links get
 *    no rule: what they name is covered (or not) at its own place. A hide path that
 *    does not exist is taken at its deepest existing ancestor, which is then an
 *    ancestor too: made later, it is unreadable.
 *  - Then granted explicitly, also where they lie in P: the VM's own data area
 *    (vms/NAME), its read-only layers (layers/ID/tree of ctl/NAME/layers: read and
 *    execute only), its own control directory (ctl/NAME: FVM_POLICY, the one file of it
 *    libfvm reads, is replaced by each run of the VM, and a process started after
 *    another run replaced it must still read it), libfvm (LD_PRELOAD), the shared paths, /dev/shm, /dev/mqueue and
 *    /dev/pts. A tree among these that holds a protected path gets no right of its own
 *    (it is an ancestor; its entries are granted one by one as above).
 *  - A directory fvm-exec cannot list (EACCES), an entry that vanishes while listed or
 *    cannot carry a rule, stays unreadable: the fence fails closed. Errors of the
 *    store or of Landlock itself stop the run (exit 125, the reason said).
 *  - Limitations, said by -v and in the README: an entry made (or replaced by a
 *    rename) after the run started, in a directory that holds a protected path, is
 *    unreadable for this run — a VM made after the run started stays unreadable, and so
 *    does a file the host writes in the home directory during the run when the store is
 *    beneath it; so does another user's entry private (go-rwx) at the start and opened
 *    up meanwhile (closed_to_run). File names and metadata (stat, listing) of
 *    protected trees stay visible. A hard link made elsewhere to a protected file, or a
 *    mount made after the start, exposes it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fvm/env.h"
#include "run.h"
#include "store/layers.h"

/* Landlock's UAPI (fence.c spells out the rest). */
#define LL_FS_EXECUTE   (1ull << 0)
#define LL_FS_READ_FILE (1ull << 2)
#define LL_RULE_PATH_BENEATH 1

#define READ_RIGHTS (LL_FS_EXECUTE | LL_FS_READ_FILE)

struct ll_beneath {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

/* A set of paths, each with its identity (dev 0, ino 0: unknown). */
struct pathset {
	char **path;
	dev_t *dev;
	ino_t *ino;
	size_t n, cap;
};

struct plan {
	struct pathset prot;   /* P */
	struct pathset absent; /* the deepest existing part of each absent hide path */
	struct pathset anc;    /* directories holding a path of P or an absent one, none in P */
	size_t rules;
	size_t closed;    /* entries left without a rule: closed to this user by DAC */
	uid_t dac_uid;    /* this unprivileged run's uid (closed_to_run), or (uid_t)-1 */
	int ruleset;
};

uint64_t readfence_rights(const struct exec_settings *s)
{
	struct stat st;

	if (geteuid() != 0) {
		return READ_RIGHTS;
	}
	/* Root: the namespace covers what exists now; a hide path made later needs Landlock. */
	for (uint32_t i = 0; i < s->pol.nrules; i++) {
		if (s->pol.rules[i].klass == FVM_CLASS_HIDDEN && lstat(s->pol.blob + s->pol.rules[i].off, &st) < 0) {
			return READ_RIGHTS;
		}
	}
	return 0;
}

/* Whether PATH is BASE or beneath it (both real, absolute, without a trailing slash). */
static bool beneath(const char *path, const char *base)
{
	size_t l = strlen(base);

	if (l == 1) {
		return path[0] == '/';
	}
	return strncmp(path, base, l) == 0 && (path[l] == '\0' || path[l] == '/');
}

static bool set_has_path(const struct pathset *s, const char *path)
{
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->path[i], path) == 0) {
			return true;
		}
	}
	return false;
}

static bool set_has_id(const struct pathset *s, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < s->n; i++) {
		if ((s->dev[i] || s->ino[i]) && s->dev[i] == dev && s->ino[i] == ino) {
			return true;
		}
	}
	return false;
}

/* Adds PATH (copied) unless there; its identity from lstat (0 when absent). -ENOMEM. */
static int set_add(struct pathset *s, const char *path)
{
	struct stat st;

	if (set_has_path(s, path)) {
		return 0;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		char **p = realloc(s->path, cap * sizeof(*p));
		if (p) {
			s->path = p;
		}
		dev_t *d = p ? realloc(s->dev, cap * sizeof(*d)) : NULL;
		if (d) {
			s->dev = d;
		}
		ino_t *i = d ? realloc(s->ino, cap * sizeof(*i)) : NULL;
		if (!i) {
			return -ENOMEM;
		}
		s->ino = i;
		s->cap = cap;
	}
	if (!(s->path[s->n] = strdup(path))) {
		return -ENOMEM;
	}
	if (lstat(path, &st) == 0) {
		s->dev[s->n] = st.st_dev;
		s->ino[s->n] = st.st_ino;
	} else {
		s->dev[s->n] = 0;
		s->ino[s->n] = 0;
	}
	s->n++;
	return 0;
}

static void set_free(struct pathset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->path[i]);
	}
	free(s->path);
	free(s->dev);
	free(s->ino);
}

/*
 * The real path of PATH into OUT (PATH_MAX): its directory resolved, its last
 * component kept as it is (a link is not followed). When PATH does not exist, its
 * deepest existing ancestor, resolved, and *EXISTS false. Returns 0, -EINVAL for a
 * relative path, or -errno of realpath for a reason other than absence.
 */
static int real_of(const char *path, char *out, bool *exists)
{
	char p[PATH_MAX], dir[PATH_MAX];
	struct stat st;

	if (path[0] != '/' || snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p)) {
		return -EINVAL;
	}
	*exists = true;
	for (;;) {
		size_t l = strlen(p);
		while (l > 1 && p[l - 1] == '/') {
			p[--l] = '\0';
		}
		char *slash = strrchr(p, '/');
		const char *base = slash + 1;
		snprintf(dir, sizeof(dir), "%.*s", slash == p ? 1 : (int)(slash - p), p);
		if (*base == '\0') { /* "/" */
			snprintf(out, PATH_MAX, "/");
			return 0;
		}
		if (realpath(dir, out) && lstat(p, &st) == 0) {
			if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
				return realpath(p, out) ? 0 : -errno;
			}
			if (strlen(out) + strlen(base) + 2 > PATH_MAX) {
				return -ENAMETOOLONG;
			}
			if (strcmp(out, "/") != 0) {
				strcat(out, "/");
			}
			strcat(out, base);
			return 0;
		}
		if (errno != ENOENT && errno != ENOTDIR) {
			return -errno;
		}
		*exists = false;
		*slash = '\0';
		if (slash == p) {
			p[0] = '/';
			p[1] = '\0';
		}
	}
}

/*
 * Adds protected path PATH to PL: to P, or its existing part to the absent ones. A
 * hide path that is not absolute names nothing to protect; the STORE must exist (links
 * to it followed).
 */
static int protect(struct plan *pl, const char *path, bool store)
{
	char real[PATH_MAX];
	struct stat st;
	bool exists;
	int r;

	if (store) { /* followed to the end: a link to the store is the store */
		return !path ? -EINVAL : !realpath(path, real) ? -errno : set_add(&pl->prot, real);
	}
	if ((r = real_of(path, real, &exists)) == -EINVAL) {
		return 0;
	}
	if (r < 0) {
		return r;
	}
	if (!exists) {
		return set_add(&pl->absent, real);
	}
	if (lstat(real, &st) == 0 && S_ISLNK(st.st_mode)) {
		return 0; /* a link: the path it names is not hidden (rootfence.c does the same) */
	}
	return set_add(&pl->prot, real);
}

/* Undoes mountinfo's octal escapes (\040 for a space...) of S in place. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
		    s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* PATH with its prefix FROM (a directory PATH is beneath) replaced by TO, into OUT. */
static bool rebase(const char *path, const char *from, const char *to, char *out)
{
	const char *rest = strcmp(from, "/") == 0 ? path : path + strlen(from);

	if (*rest == '\0') {
		return snprintf(out, PATH_MAX, "%s", to) < PATH_MAX;
	}
	return snprintf(out, PATH_MAX, "%s%s", strcmp(to, "/") == 0 ? "" : to, rest) < PATH_MAX;
}

/*
 * Adds to P the other places the mounts show a protected object at: a mount of the
 * same device whose root holds a path of P shows it beneath its mount point (a bind
 * mount of the home directory elsewhere), and one whose root lies inside a path of P
 * is protected whole. The mounts are /proc/self/mountinfo's; without it, none.
 */
static int mount_aliases(struct plan *pl)
{
	struct mnt {
		char *dev, *root, *at;
	} *m = NULL;
	size_t n = 0, cap = 0, nprot = pl->prot.n;
	char *line = NULL, alias[PATH_MAX], fs[PATH_MAX];
	size_t len = 0;
	int r = 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f) {
		return 0;
	}
	while (getline(&line, &len, f) > 0) {
		char *save, *fld[5];
		int i = 0;
		for (char *t = strtok_r(line, " \n", &save); t && i < 5; t = strtok_r(NULL, " \n", &save)) {
			fld[i++] = t;
		}
		if (i < 5) {
			continue;
		}
		if (n == cap) {
			struct mnt *nm = realloc(m, (cap = cap ? cap * 2 : 64) * sizeof(*m));
			if (!nm) {
				r = -ENOMEM;
				break;
			}
			m = nm;
		}
		unescape(fld[3]);
		unescape(fld[4]);
		m[n].dev = strdup(fld[2]);
		m[n].root = strdup(fld[3]);
		m[n].at = strdup(fld[4]);
		n++;
		if (!m[n - 1].dev || !m[n - 1].root || !m[n - 1].at) {
			r = -ENOMEM;
			break;
		}
	}
	free(line);
	fclose(f);
	for (size_t p = 0; p < nprot && r == 0; p++) {
		const char *path = pl->prot.path[p];
		size_t best = n, bestlen = 0;
		for (size_t i = 0; i < n; i++) { /* the mount PATH is on: the deepest, the last */
			size_t l = strlen(m[i].at);
			if (beneath(path, m[i].at) && (best == n || l >= bestlen)) {
				best = i;
				bestlen = l;
			}
		}
		if (best == n || !rebase(path, m[best].at, m[best].root, fs)) {
			continue;
		}
		for (size_t i = 0; i < n && r == 0; i++) {
			if (i == best || strcmp(m[i].dev, m[best].dev) != 0) {
				continue;
			}
			if (beneath(fs, m[i].root) && rebase(fs, m[i].root, m[i].at, alias)) {
				r = set_add(&pl->prot, alias);
			} else if (beneath(m[i].root, fs)) {
				r = set_add(&pl->prot, m[i].at);
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		free(m[i].dev);
		free(m[i].root);
		free(m[i].at);
	}
	free(m);
	return r;
}

/* Makes the ancestors of PL: every proper prefix of a path of P, every prefix of an
 * absent hide path's existing part (itself too), less those in P or beneath it. */
static int ancestors(struct plan *pl)
{
	char buf[PATH_MAX];
	int r = 0;

	for (size_t i = 0; i < pl->prot.n + pl->absent.n && r == 0; i++) {
		bool self = i >= pl->prot.n;
		snprintf(buf, sizeof(buf), "%s", self ? pl->absent.path[i - pl->prot.n] : pl->prot.path[i]);
		for (;;) {
			bool inside = false;
			for (size_t j = 0; j < pl->prot.n && !inside; j++) {
				inside = beneath(buf, pl->prot.path[j]);
			}
			if (self && !inside && (r = set_add(&pl->anc, buf)) < 0) {
				break;
			}
			self = true;
			if (strcmp(buf, "/") == 0) {
				break;
			}
			char *slash = strrchr(buf, '/');
			slash[slash == buf ? 1 : 0] = '\0';
		}
	}
	return r;
}

/* Grants the read rights on FD (directory: its tree). 0, or -errno of Landlock but
 * EBADFD/EINVAL (an object that cannot carry a rule: skipped). */
static int grant_fd(struct plan *pl, int fd)
{
	struct ll_beneath attr = {.allowed_access = READ_RIGHTS, .parent_fd = fd};

	if (syscall(SYS_landlock_add_rule, pl->ruleset, LL_RULE_PATH_BENEATH, &attr, 0) < 0) {
		return errno == EBADFD || errno == EINVAL ? 0 : -errno;
	}
	pl->rules++;
	return 0;
}

/*
 * The uid whose file permissions bind every process of this run, or (uid_t)-1: not
 * root, one uid (real, effective and saved alike: no process can switch to another),
 * and no capability in the permitted set (none can be gained: the command runs with
 * no_new_privs, so neither setuid nor file capabilities raise it).
 */
static uid_t dac_bound_uid(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];
	uid_t ruid, uid, suid;

	if (getresuid(&ruid, &uid, &suid) < 0 || uid == 0 || ruid != uid || suid != uid ||
	    syscall(SYS_capget, &h, d) < 0 || d[0].permitted || d[1].permitted) {
		return (uid_t)-1;
	}
	return uid;
}

/*
 * Whether ST (an entry of an ancestor, mounts followed) is closed to every process of
 * the run by its permissions alone: another user's, with no right for group or others.
 * An ACL cannot open it either (its mask is the group bits, its other entry the
 * other bits). A directory closed so has no path beneath it a process of the run can
 * walk. Such an entry needs no Landlock right: leaving it without one fails closed
 * (opened by its owner during the run, it stays unreadable to the VM until the next
 * run, as an entry made during the run does).
 */
static bool closed_to_run(const struct plan *pl, const struct stat *st)
{
	return pl->dac_uid != (uid_t)-1 && st->st_uid != pl->dac_uid && (st->st_mode & 077) == 0;
}

/* Grants the entries of ancestor DIR but the protected ones and the ancestors. */
static int grant_entries(struct plan *pl, const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;
	DIR *d;
	struct dirent *e;
	struct stat st;

	if (dfd < 0) {
		return 0; /* not listable: its entries stay unreadable */
	}
	if (!(d = fdopendir(dfd))) {
		close(dfd);
		return -errno;
	}
	while (r == 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
			continue;
		}
		if (e->d_type == DT_LNK) {
			continue;
		}
		/* The object opened is the one checked and granted (a rename cannot race). */
		int fd = openat(dfd, e->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			continue; /* vanished */
		}
		if (fstat(fd, &st) == 0 && !S_ISLNK(st.st_mode) && !set_has_id(&pl->prot, st.st_dev, st.st_ino) &&
		    !set_has_id(&pl->anc, st.st_dev, st.st_ino)) {
			/* Another user's private entry (a shared /tmp holds many): no rule, so a
			 * smaller ruleset to build and to merge at each start. */
			if (closed_to_run(pl, &st)) {
				pl->closed++;
			} else {
				r = grant_fd(pl, fd);
			}
		}
		close(fd);
	}
	closedir(d);
	return r;
}

/* Grants PATH (NULL or absent: nothing) unless it holds a protected path. */
static int grant_path(struct plan *pl, const char *path)
{
	char real[PATH_MAX];
	int fd, r;

	if (!path || !realpath(path, real)) {
		return 0;
	}
	for (size_t i = 0; i < pl->prot.n; i++) {
		if (strcmp(real, pl->prot.path[i]) != 0 && beneath(pl->prot.path[i], real)) {
			return 0; /* an ancestor: granted entry by entry */
		}
	}
	for (size_t i = 0; i < pl->anc.n; i++) {
		if (strcmp(real, pl->anc.path[i]) == 0) {
			return 0; /* holds an absent hide path */
		}
	}
	if ((fd = open(real, O_PATH | O_CLOEXEC)) < 0) {
		return 0;
	}
	r = grant_fd(pl, fd);
	close(fd);
	return r;
}

void readfence_prepare(struct exec_fence *f, const struct exec_settings *s, const char *vmdir)
{
	static const char *const trees[] = {"/dev/shm", "/dev/pts"};
	const struct fvm_policy *pol = &s->pol;
	struct plan pl = {.ruleset = f->ruleset_fd, .dac_uid = dac_bound_uid()};
	size_t nhide = 0;
	int r = 0;

	if (f->root && !f->read_rights) {
		return; /* the mount namespace covers them (rootfence.c) */
	}
	if (f->ruleset_fd < 0 || !f->read_rights) {
		fence_say(f, "reads: no landlock ruleset: other VMs' layers, the control area and hide paths are "
			     "not kernel-protected (libfvm hides them from dynamic programs only; static programs "
			     "and raw system calls read them)\n");
		return;
	}
	f->reads_error = true;
	r = protect(&pl, getenv(FVM_ENV_HOME), true);
	if (r == 0 && fence_mqueue_mounted()) {
		r = protect(&pl, "/dev/mqueue", false); /* its files are host queues (run.h) */
	}
	for (uint32_t i = 0; i < pol->nrules && r == 0; i++) {
		if (pol->rules[i].klass == FVM_CLASS_HIDDEN) {
			nhide++;
			r = protect(&pl, pol->blob + pol->rules[i].off, false);
		}
	}
	if (r == 0) {
		r = mount_aliases(&pl);
	}
	if (r == 0) {
		r = ancestors(&pl);
	}
	for (size_t i = 0; i < pl.anc.n && r == 0; i++) {
		r = grant_entries(&pl, pl.anc.path[i]);
	}
	size_t around = pl.rules;
	if (r == 0) {
		r = grant_path(&pl, vmdir);
	}
	if (r == 0) {
		/* The VM's own control directory, not only the policy file in it: another run
		 * of the VM replaces the policy (a new inode, by rename) while this one runs,
		 * and a process started later must read it, or libfvm would fall back to the
		 * default policy (its network and loopback rules, its hide paths). */
		char ctl[PATH_MAX];
		const char *pf = getenv(FVM_ENV_POLICY);
		const char *slash = pf ? strrchr(pf, '/') : NULL;
		if (slash && slash > pf && (size_t)(slash - pf) < sizeof(ctl)) {
			snprintf(ctl, sizeof(ctl), "%.*s", (int)(slash - pf), pf);
			r = grant_path(&pl, ctl);
		} else {
			r = grant_path(&pl, pf);
		}
	}
	/* libfvm, and libfvm-det.so after it in a deterministic run (run/determ.c). */
	for (const char *p = getenv(FVM_ENV_PRELOAD); r == 0 && p && *p;) {
		char one[PATH_MAX];
		size_t l = strcspn(p, ":");
		if (l < sizeof(one)) {
			snprintf(one, sizeof(one), "%.*s", (int)l, p);
			r = grant_path(&pl, one);
		}
		p += l + (p[l] == ':');
	}
	if (r == 0) {
		/* The VM's read-only layers (their write rights are never granted: fence.c). */
		struct layer_list ll;
		char home[PATH_MAX], tree[PATH_MAX];
		if (layer_list_read(vmdir, &ll) < 0 || layer_home(vmdir, home, sizeof(home)) < 0) {
			r = -EINVAL;
		}
		for (size_t i = 0; r == 0 && i < ll.n; i++) {
			r = layer_tree_path(home, ll.id[i], tree, sizeof(tree)) < 0 ? -ENAMETOOLONG
										     : grant_path(&pl, tree);
		}
	}
	for (uint32_t i = 0; i < pol->nrules && r == 0; i++) {
		if (pol->rules[i].klass == FVM_CLASS_SHARED) {
			r = grant_path(&pl, pol->blob + pol->rules[i].off);
		}
	}
	for (size_t i = 0; i < sizeof(trees) / sizeof(trees[0]) && r == 0; i++) {
		r = grant_path(&pl, trees[i]);
	}
	set_free(&pl.prot);
	set_free(&pl.absent);
	set_free(&pl.anc);
	if (r < 0) {
		fprintf(stderr, "fvm-exec: cannot fence reads (the store %s, %zu hide path%s): %s\n",
			getenv(FVM_ENV_HOME), nhide, nhide == 1 ? "" : "s", strerror(-r));
		return;
	}
	f->reads_error = false;
	fence_say(f, "reads: landlock: other VMs' layers, other VMs' control areas and %zu hide "
		     "path%s unreadable (read and execute granted on the %zu entr%s around them, %zu other "
		     "user%s private entr%s left closed); entries made during the run in the directories "
		     "holding them stay unreadable until the next run\n",
		  nhide, nhide == 1 ? "" : "s", around, around == 1 ? "y" : "ies", pl.closed,
		  pl.closed == 1 ? "'s" : "s'", pl.closed == 1 ? "y" : "ies");
}
