/*
 * store.c — the VM store for the tools (store.h), format 2 (fvm/layout.h).
 *
 * Invariants: a VM's control area and its data area each appear complete or not at all
 * (built under a temporary name, then renamed; the control area first); every file
 * written is written whole (replace.h); nothing beneath a data area is reached through
 * a link (safefs.h); the store's format is checked before any VM is touched.
 */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fvm/layout.h"
#include "fvm/path.h"
#include "store/layers.h"
#include "store/replace.h"
#include "store/safefs.h"
#include "store/store.h"

int store_locate(struct fvm_store *s, const char *opt_home)
{
	char raw[PATH_MAX], abs[2 * PATH_MAX + 2], cwd[PATH_MAX];
	int ret;

	if (opt_home) {
		if (snprintf(raw, sizeof(raw), "%s", opt_home) >= (int)sizeof(raw)) {
			warnx("--home %s: name too long", opt_home);
			return -1;
		}
	} else if ((ret = fvm_default_home(raw, sizeof(raw))) < 0) {
		warnx("cannot find the store: set FVM_HOME or HOME (%s)", strerror(-ret));
		return -1;
	}
	if (raw[0] != '/') {
		if (!getcwd(cwd, sizeof(cwd))) {
			warn("getcwd");
			return -1;
		}
		snprintf(abs, sizeof(abs), "%s/%s", cwd, raw);
	} else {
		snprintf(abs, sizeof(abs), "%s", raw);
	}
	if (fvm_path_normalize(abs, s->home, sizeof(s->home), true) < 0) {
		warnx("%s: name too long", abs);
		return -1;
	}
	return 0;
}

/* True when directory VMS (an fd) holds an entry that is a VM's name. */
static bool has_vms(int homefd)
{
	int fd = safe_open_dir(homefd, FVM_VMS_DIR);
	struct dirent *e;
	bool any = false;
	DIR *d;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0) {
			close(fd);
		}
		return false;
	}
	while (!any && (e = readdir(d))) {
		any = fvm_vm_name_valid(e->d_name);
	}
	closedir(d);
	return any;
}

int store_check_format(const struct fvm_store *s)
{
	char *text, word[32];
	size_t len;
	unsigned version;
	int n = 0, ret, homefd = open(s->home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (homefd < 0) {
		if (errno == ENOENT) {
			return 0; /* no store yet: the first VM makes it */
		}
		warn("%s", s->home);
		return -1;
	}
	ret = safe_read_file(homefd, FVM_FORMAT_FILE, SAFE_MAX_CONF, &text, &len);
	if (ret == -ENOENT) {
		bool old = has_vms(homefd);
		close(homefd);
		if (old) {
			warnx("the store %s has format 1 (made by an earlier fvm, with control files its "
			      "VMs could write): run 'fvm migrate' to convert it", s->home);
			return -1;
		}
		return 0;
	}
	close(homefd);
	if (ret < 0) {
		warnx("%s/%s: %s", s->home, FVM_FORMAT_FILE, safe_strerror(ret));
		return -1;
	}
	ret = sscanf(text, "%31s %u\n%n", word, &version, &n) == 2 && strcmp(word, FVM_FORMAT_MAGIC) == 0 &&
	      (size_t)n == len;
	free(text);
	if (!ret) {
		warnx("%s/%s: not an fvm store's format file", s->home, FVM_FORMAT_FILE);
		return -1;
	}
	if (version == 2) {
		warnx("the store %s has format 2 (before layers): run 'fvm migrate' to convert it to "
		      "format %d", s->home, FVM_FORMAT);
		return -1;
	}
	if (version != FVM_FORMAT) {
		warnx("the store %s has format %u; this fvm knows format %d: use the fvm that made it",
		      s->home, version, FVM_FORMAT);
		return -1;
	}
	return 0;
}

int store_init(struct fvm_store *s, const char *opt_home)
{
	return store_locate(s, opt_home) < 0 || store_check_format(s) < 0 ? -1 : 0;
}

int store_vm_dir(const struct fvm_store *s, const char *name, char *out, size_t len)
{
	if (!fvm_vm_name_valid(name)) {
		warnx("invalid VM name '%s': use [A-Za-z0-9][A-Za-z0-9._-]{0,63}", name);
		return -1;
	}
	if (snprintf(out, len, "%s/%s/%s", s->home, FVM_VMS_DIR, name) >= (int)len) {
		warnx("%s: store path too long", s->home);
		return -1;
	}
	return 0;
}

int store_ctl_path(const char *vmdir, char *out, size_t len)
{
	size_t l = strlen(vmdir), b = fvm_path_base_off(vmdir, l);
	size_t vl = sizeof(FVM_VMS_DIR) - 1;

	/* VMDIR is HOME/vms/NAME, as store_vm_dir made it. */
	if (b < vl + 2 || memcmp(vmdir + b - vl - 1, FVM_VMS_DIR "/", vl + 1) != 0 ||
	    vmdir[b - vl - 2] != '/' || !fvm_vm_name_valid(vmdir + b)) {
		warnx("%s: not a VM directory of a store", vmdir);
		return -1;
	}
	if (snprintf(out, len, "%.*s%s/%s", (int)(b - vl - 1), vmdir, FVM_CTL_DIR, vmdir + b) >= (int)len) {
		warnx("%s: store path too long", vmdir);
		return -1;
	}
	return 0;
}

int store_ctl_open(const char *vmdir)
{
	char ctl[PATH_MAX];
	int fd;

	if (store_ctl_path(vmdir, ctl, sizeof(ctl)) < 0) {
		return -1;
	}
	fd = open(ctl, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		/* A VM whose control area was lost gets an empty one: its data area stands. */
		char *slash = strrchr(ctl, '/');
		*slash = '\0';
		if ((mkdir(ctl, FVM_MODE_CTL) == 0 || errno == EEXIST)) {
			*slash = '/';
			if (mkdir(ctl, FVM_MODE_CTL) == 0 || errno == EEXIST) {
				fd = open(ctl, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			}
		}
		*slash = '/';
	}
	if (fd < 0) {
		warnx("%s: the VM's control area: %s", ctl, safe_strerror(-errno));
	}
	return fd;
}

int store_data_open(const char *vmdir)
{
	int fd = open(vmdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		warnx("%s: %s", vmdir, safe_strerror(-errno));
	}
	return fd;
}

int store_upper_open(const char *vmdir)
{
	int dfd = store_data_open(vmdir), fd;

	if (dfd < 0) {
		return -1;
	}
	fd = safe_open_dir(dfd, FVM_UPPER_DIR);
	close(dfd);
	if (fd < 0) {
		warnx("%s/%s: %s", vmdir, FVM_UPPER_DIR, safe_strerror(fd));
		return -1;
	}
	return fd;
}

bool store_vm_exists(const struct fvm_store *s, const char *name)
{
	char dir[PATH_MAX];
	struct stat st;
	int fd;
	bool yes;

	if (!fvm_vm_name_valid(name) ||
	    snprintf(dir, sizeof(dir), "%s/%s/%s", s->home, FVM_VMS_DIR, name) >= (int)sizeof(dir) ||
	    (fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		return false;
	}
	yes = fstatat(fd, FVM_UPPER_DIR, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
	close(fd);
	return yes;
}

/* mkdir -p PATH: its missing parents 0755 (before the umask), PATH itself MODE exactly. */
static int mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(tmp, path, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (tmp[i] == '/' || tmp[i] == '\0') {
			char c = tmp[i];
			tmp[i] = '\0';
			if (mkdir(tmp, c ? 0755 : mode) == 0 && !c) {
				chmod(tmp, mode); /* the umask would take the x bits others need */
			} else if (errno != EEXIST) {
				return -1;
			}
			tmp[i] = c;
		}
	}
	return 0;
}

/* mkdirat(DIRFD, NAME, MODE) exactly MODE when made here; then opened without links. */
static int mkdir_open(int dirfd, const char *name, mode_t mode)
{
	if (mkdirat(dirfd, name, mode) == 0) {
		fchmodat(dirfd, name, mode, 0);
	} else if (errno != EEXIST) {
		return -errno;
	}
	return safe_open_dir(dirfd, name);
}

/* Writes TEXT as NAME of DIRFD, whole (MODE). Returns 0 or -errno. */
static int write_text(int dirfd, const char *name, const char *text, mode_t mode)
{
	struct replace r;
	int ret = replace_open(&r, dirfd, name, mode);

	if (ret == 0) {
		fputs(text, r.f);
		ret = replace_commit(&r);
	}
	return ret;
}

/* The format file, when the store has none yet. */
static int write_format(int homefd)
{
	char text[64];
	struct stat st;

	if (fstatat(homefd, FVM_FORMAT_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		return 0;
	}
	snprintf(text, sizeof(text), "%s %d\n", FVM_FORMAT_MAGIC, FVM_FORMAT);
	return write_text(homefd, FVM_FORMAT_FILE, text, 0644);
}

/*
 * Builds the data area of VM NAME in VMSFD under a temporary name, then renames it.
 * FILL, when given, fills the new area (its fd) first; then a VM of that name already
 * there is an error (-EEXIST), not a race lost.
 */
static int create_data(int vmsfd, const char *name, const char *shown,
		       int (*fill)(int vmfd, void *arg), void *arg)
{
	char tmp[NAME_MAX + 1], rnd[17];
	struct stat rst;
	int fd, ret;

	if ((ret = safe_random_hex(rnd)) < 0) {
		return ret;
	}
	snprintf(tmp, sizeof(tmp), ".new.%.64s.%s", name, rnd);
	if ((fd = mkdir_open(vmsfd, tmp, FVM_MODE_DATA)) < 0) {
		return fd;
	}
	/* upper/ stands for the host root: it carries the root's mode. */
	ret = mkdirat(fd, FVM_UPPER_DIR, 0755) < 0 || mkdirat(fd, FVM_WORK_DIR, 0700) < 0 ? -errno : 0;
	if (ret == 0 && stat("/", &rst) == 0) {
		fchmodat(fd, FVM_UPPER_DIR, rst.st_mode & 07777, 0);
	}
	if (ret == 0 && fchmodat(fd, FVM_WORK_DIR, FVM_MODE_WORK, 0) < 0) {
		ret = -errno;
	}
	if (ret == 0) {
		int o = openat(fd, FVM_ORIGINS_FILE, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		ret = o < 0 ? -errno : close(o);
	}
	if (ret == 0 && fill && (ret = fill(fd, arg)) < 0) {
		close(fd);
		safe_rm_tree(vmsfd, tmp, NULL, NULL);
		return ret; /* reported by FILL */
	}
	close(fd);
	if (ret == 0 && fill && renameat2(vmsfd, tmp, vmsfd, name, RENAME_NOREPLACE) < 0) {
		ret = -errno;
	} else if (ret == 0 && !fill && renameat(vmsfd, tmp, vmsfd, name) < 0 && errno != ENOTEMPTY &&
		   errno != EEXIST) {
		ret = -errno;
	}
	safe_rm_tree(vmsfd, tmp, NULL, NULL); /* lost a race with another fvm-exec: theirs stands */
	if (ret < 0) {
		warnx("%s: %s", shown, strerror(-ret));
	}
	return ret;
}

/* The descriptors a VM's creation holds: the store, vms/, ctl/ and ctl/NAME. */
struct vm_fds {
	int home, vms, ctls, ctl;
};

static void vm_fds_close(struct vm_fds *f)
{
	for (int *fd = (int[]){f->home, f->vms, f->ctls, f->ctl}, i = 0; i < 4; i++) {
		if (fd[i] >= 0) {
			close(fd[i]);
		}
	}
}

/*
 * Opens (making what is missing) store S, its format file, vms/, ctl/ and ctl/NAME into
 * F, and VM NAME's directory into DIR. Returns 0, or -1 reported (F closed).
 */
static int vm_fds_open(const struct fvm_store *s, const char *name, char dir[PATH_MAX], struct vm_fds *f)
{
	int r;

	*f = (struct vm_fds){-1, -1, -1, -1};
	if (store_vm_dir(s, name, dir, PATH_MAX) < 0) {
		return -1;
	}
	if (mkdir_p(s->home, FVM_MODE_HOME) < 0 || (f->home = open(s->home, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		warn("cannot create the store %s", s->home);
		return -1;
	}
	if ((r = write_format(f->home)) < 0 || (r = f->vms = mkdir_open(f->home, FVM_VMS_DIR, FVM_MODE_DATA)) < 0 ||
	    (r = f->ctls = mkdir_open(f->home, FVM_CTL_DIR, FVM_MODE_CTL)) < 0 ||
	    (r = f->ctl = mkdir_open(f->ctls, name, FVM_MODE_CTL)) < 0) {
		warnx("cannot create the store %s: %s", s->home, safe_strerror(r));
		vm_fds_close(f);
		return -1;
	}
	return 0;
}

int store_vm_create(const struct fvm_store *s, const char *name, const struct fvm_policy *pol,
		    const char *conf)
{
	char dir[PATH_MAX];
	struct vm_fds f;
	int ret = -1, r;

	if (vm_fds_open(s, name, dir, &f) < 0) {
		return -1;
	}
	if (!store_vm_exists(s, name) && create_data(f.vms, name, dir, NULL, NULL) < 0) {
		goto out;
	}
	if (mkdirat(f.home, FVM_LAYERS_DIR, FVM_MODE_LAYERS) == 0) {
		fchmodat(f.home, FVM_LAYERS_DIR, FVM_MODE_LAYERS, 0);
	}
	/* The image carries the VM's layers (ctl/NAME/layers): libfvm parses no text. */
	struct fvm_policy *full = malloc(sizeof(*full));
	if (!full) {
		warn("%s", dir);
		goto out;
	}
	memcpy(full, pol, sizeof(*full)); /* every byte, padding too: the image is compared */
	if (layer_list_compile(dir, full) < 0) {
		free(full);
		goto out;
	}
	/*
	 * The image as it is already (every run after the first): left in place. Rewriting
	 * it made each run pay an fsync and a rename (several ms on ext4) for nothing.
	 */
	struct replace rp;
	struct stat pst;
	int old = openat(f.ctl, FVM_POLICY_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	bool same = old >= 0 && fstat(old, &pst) == 0 && (pst.st_mode & 07777) == 0644 && pst.st_nlink == 1 &&
		    pst.st_uid == geteuid() && fvm_policy_same(full, old);
	if (old >= 0) {
		close(old);
	}
	if (same) {
		r = 0;
	} else if ((r = replace_open(&rp, f.ctl, FVM_POLICY_FILE, 0644)) == 0) {
		r = fvm_policy_write(full, fileno(rp.f));
		if (r < 0) {
			replace_abort(&rp);
		} else {
			r = replace_commit_nosync(&rp); /* derived from vm.conf: every run checks it */
		}
	}
	free(full);
	if (r < 0) {
		warnx("%s/%s/%s/%s: %s", s->home, FVM_CTL_DIR, name, FVM_POLICY_FILE, strerror(-r));
		goto out;
	}
	if (conf && (r = write_text(f.ctl, FVM_VMCONF_FILE, conf, 0600)) < 0) {
		warnx("%s/%s/%s/%s: %s", s->home, FVM_CTL_DIR, name, FVM_VMCONF_FILE, strerror(-r));
		goto out;
	}
	ret = 0;
out:
	vm_fds_close(&f);
	return ret;
}

int store_vm_conf_write(const char *vmdir, const char *text)
{
	int ctl = store_ctl_open(vmdir), r;

	if (ctl < 0) {
		return -1;
	}
	r = write_text(ctl, FVM_VMCONF_FILE, text, 0600);
	close(ctl);
	if (r < 0) {
		warnx("%s: %s: %s", vmdir, FVM_VMCONF_FILE, strerror(-r));
		return -1;
	}
	return 0;
}

int store_vm_create_filled(const struct fvm_store *s, const char *name,
			   int (*fill)(int vmfd, void *arg), void *arg)
{
	char dir[PATH_MAX];
	struct vm_fds f;
	int ret = -1, r;

	if (store_vm_dir(s, name, dir, sizeof(dir)) < 0) {
		return -1;
	}
	if (store_vm_exists(s, name)) {
		warnx("a VM named '%s' exists in %s", name, s->home);
		return -1;
	}
	if (vm_fds_open(s, name, dir, &f) < 0) {
		return -1;
	}
	if ((r = create_data(f.vms, name, dir, fill, arg)) < 0) {
		if (r == -EEXIST || r == -ENOTEMPTY) {
			warnx("a VM named '%s' exists in %s", name, s->home);
		} else {
			unlinkat(f.ctls, name, AT_REMOVEDIR); /* ours, and still empty */
		}
		goto out;
	}
	ret = 0;
out:
	vm_fds_close(&f);
	return ret;
}

int store_vm_lock(const char *vmdir, bool exclusive, bool nonblock)
{
	int cfd = store_ctl_open(vmdir), fd;

	if (cfd < 0) {
		return -1;
	}
	fd = safe_open_control(cfd, FVM_LOCK_FILE, O_RDWR | O_CREAT, 0600);
	close(cfd);
	if (fd < 0) {
		warnx("%s: the VM's lock: %s", vmdir, safe_strerror(fd));
		return -1;
	}
	if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | (nonblock ? LOCK_NB : 0)) < 0) {
		int e = errno;
		close(fd);
		if (e == EWOULDBLOCK) {
			return -2;
		}
		warnx("%s: the VM's lock: %s", vmdir, strerror(e));
		return -1;
	}
	if (!exclusive) {
		futimens(fd, NULL); /* "last used", for fvm list */
	}
	return fd;
}

int store_find_libfvm(char *out, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	/* In the build tree: fvm-exec/fvm-exec beside libfvm/libfvm.so. Installed: PREFIX/bin
	 * beside PREFIX/lib/fvm. Then the configured LIBDIR. */
	static const char *const rel[] = {"../libfvm/libfvm.so", "../lib/fvm/libfvm.so"};

	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
				char cand[PATH_MAX * 2];
				snprintf(cand, sizeof(cand), "%s/%s", exe, rel[i]);
				if (access(cand, R_OK) == 0 && realpath(cand, out)) {
					(void)len;
					return 0;
				}
			}
		}
	}
	if (snprintf(out, len, "%s/libfvm.so", FVM_LIBDIR) < (int)len && access(out, R_OK) == 0) {
		return 0;
	}
	warnx("cannot find libfvm.so (looked beside %s and in %s)", n > 0 ? exe : "fvm-exec",
	      FVM_LIBDIR);
	return -1;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int store_each_vm(const struct fvm_store *s, int (*fn)(const char *name, void *arg), void *arg)
{
	char vms[PATH_MAX + 8];
	struct dirent *d;
	char **names = NULL;
	size_t n = 0;
	int ret = 0;
	DIR *dir;

	snprintf(vms, sizeof(vms), "%s/%s", s->home, FVM_VMS_DIR);
	dir = opendir(vms);
	if (!dir) {
		return errno == ENOENT ? 0 : (warn("%s", vms), -1);
	}
	while ((d = readdir(dir))) {
		if (fvm_vm_name_valid(d->d_name) && store_vm_exists(s, d->d_name)) {
			char **nn = realloc(names, (n + 1) * sizeof(*names));
			if (!nn || !(nn[n] = strdup(d->d_name))) {
				err(FVM_EXIT_FVM, "out of memory");
			}
			names = nn;
			n++;
		}
	}
	closedir(dir);
	if (n) {
		qsort(names, n, sizeof(*names), cmp_names); /* names is NULL when there is none */
	}
	for (size_t i = 0; i < n; i++) {
		if (ret == 0) {
			ret = fn(names[i], arg);
		}
		free(names[i]);
	}
	free(names);
	return ret;
}

int store_rm_tree(const char *path)
{
	char parent[PATH_MAX];
	size_t l = strlen(path), b = fvm_path_base_off(path, l);
	int pfd, ret;

	if (l >= sizeof(parent) || b == 0 || path[b] == '\0') {
		warnx("%s: cannot remove", path);
		return -1;
	}
	snprintf(parent, sizeof(parent), "%.*s", b > 1 ? (int)b - 1 : 1, path);
	if ((pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		return errno == ENOENT ? 0 : (warn("%s", parent), -1);
	}
	ret = safe_rm_tree(pfd, path + b, NULL, NULL);
	close(pfd);
	if (ret < 0) {
		warnx("%s: %s", path, strerror(-ret));
		return -1;
	}
	return 0;
}

int store_vm_remove(const char *vmdir)
{
	char aside[PATH_MAX + 64], ctl[PATH_MAX], rnd[17];
	const char *name = vmdir + fvm_path_base_off(vmdir, strlen(vmdir));

	if (store_ctl_path(vmdir, ctl, sizeof(ctl)) < 0 || safe_random_hex(rnd) < 0) {
		return -1;
	}
	snprintf(aside, sizeof(aside), "%.*s.rm.%s.%s", (int)(name - vmdir), vmdir, name, rnd);
	if (rename(vmdir, aside) < 0 && errno != ENOENT) {
		warn("%s", vmdir);
		return -1;
	}
	return store_rm_tree(aside) < 0 || store_rm_tree(ctl) < 0 ? -1 : 0;
}

static int count_entry(int pfd, const char *name, const struct stat *st, int depth, void *arg)
{
	(void)pfd, (void)name, (void)st, (void)depth;
	++*(size_t *)arg;
	return 0;
}

size_t store_count_tree(int dirfd, const char *rel)
{
	const char *base;
	size_t n = 0;
	int pfd;

	while (*rel == '/') {
		rel++;
	}
	if (!*rel) {
		safe_walk(dirfd, ".", count_entry, &n);
		return n;
	}
	if ((pfd = safe_open_parent(dirfd, rel, &base)) < 0) {
		return 0;
	}
	safe_walk(pfd, base, count_entry, &n);
	close(pfd);
	return n;
}

static int usage_entry(int pfd, const char *name, const struct stat *st, int depth, void *arg)
{
	struct store_usage *u = arg;

	(void)pfd, (void)name;
	if (depth == 0) {
		return 0; /* upper/ itself */
	}
	u->entries++;
	if (S_ISREG(st->st_mode)) {
		u->bytes += (unsigned long long)st->st_size;
	}
	if (st->st_mtim.tv_sec > u->last_used) {
		u->last_used = st->st_mtim.tv_sec;
	}
	return 0;
}

int store_vm_usage(const char *vmdir, struct store_usage *u)
{
	struct stat st;
	int cfd = store_ctl_open(vmdir), dfd, ret;

	memset(u, 0, sizeof(*u));
	if (cfd >= 0) {
		if (fstatat(cfd, FVM_LOCK_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			u->last_used = st.st_mtim.tv_sec;
		}
		close(cfd);
	}
	if ((dfd = store_data_open(vmdir)) < 0) {
		return -1;
	}
	ret = safe_walk(dfd, FVM_UPPER_DIR, usage_entry, u);
	close(dfd);
	if (ret < 0) {
		warnx("%s/%s: %s", vmdir, FVM_UPPER_DIR, safe_strerror(ret));
		return -1;
	}
	return 0;
}

bool store_upper_used(const char *vmdir)
{
	int dfd = store_data_open(vmdir);
	size_t n;

	if (dfd < 0) {
		return true;
	}
	n = store_count_tree(dfd, FVM_UPPER_DIR);
	close(dfd);
	return n > 1;
}
