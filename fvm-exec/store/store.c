/*
 * store.c — the VM store for the tools (store.h).
 *
 * Invariants: a VM directory is complete before its name appears (built under a
 * temporary name, then renamed); every file written is written whole (temp + rename).
 */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fvm/layout.h"
#include "fvm/path.h"
#include "store/replace.h"
#include "store/store.h"

int store_init(struct fvm_store *s, const char *opt_home)
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

bool store_vm_exists(const struct fvm_store *s, const char *name)
{
	char dir[PATH_MAX], upper[PATH_MAX + 8];
	struct stat st;

	if (!fvm_vm_name_valid(name) ||
	    snprintf(dir, sizeof(dir), "%s/%s/%s", s->home, FVM_VMS_DIR, name) >= (int)sizeof(dir)) {
		return false;
	}
	snprintf(upper, sizeof(upper), "%s/%s", dir, FVM_UPPER_DIR);
	return stat(upper, &st) == 0 && S_ISDIR(st.st_mode);
}

/* mkdir -p PATH with MODE. */
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
			if (mkdir(tmp, mode) < 0 && errno != EEXIST) {
				return -1;
			}
			tmp[i] = c;
		}
	}
	return 0;
}

/* Writes the text TEXT as FILE, whole. Returns 0 or -1 (reported). */
static int write_file(const char *file, const char *text)
{
	struct replace r;
	int ret = replace_open(&r, file);

	if (ret == 0) {
		fputs(text, r.f);
		ret = replace_commit(&r);
	}
	if (ret < 0) {
		warnx("%s: %s", file, strerror(-ret));
		return -1;
	}
	return 0;
}

int store_vm_create(const struct fvm_store *s, const char *name, const struct fvm_policy *pol,
		    const char *conf)
{
	char dir[PATH_MAX], tmpdir[PATH_MAX + 96], path[PATH_MAX + 160], vms[PATH_MAX + 8];
	static const char *const subdirs[] = {FVM_UPPER_DIR, FVM_WORK_DIR};
	int ret;

	if (store_vm_dir(s, name, dir, sizeof(dir)) < 0) {
		return -1;
	}
	if (!store_vm_exists(s, name)) {
		snprintf(vms, sizeof(vms), "%s/%s", s->home, FVM_VMS_DIR);
		if (mkdir_p(vms, 0700) < 0) {
			warn("cannot create the store %s", vms);
			return -1;
		}
		/* Built under a temporary name, so a VM is never seen half-made. */
		snprintf(tmpdir, sizeof(tmpdir), "%s/.new.%s.%d", vms, name, (int)getpid());
		if (mkdir(tmpdir, 0700) < 0) {
			warn("%s", tmpdir);
			return -1;
		}
		for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", tmpdir, subdirs[i]);
			if (mkdir(path, i == 0 ? 0755 : 0700) < 0) {
				warn("%s", path);
				store_rm_tree(tmpdir);
				return -1;
			}
		}
		/* upper/ stands for the host root: it carries the root's mode. */
		struct stat rst;
		snprintf(path, sizeof(path), "%s/%s", tmpdir, FVM_UPPER_DIR);
		if (stat("/", &rst) == 0) {
			chmod(path, rst.st_mode & 07777);
		}
		snprintf(path, sizeof(path), "%s/%s", tmpdir, FVM_ORIGINS_FILE);
		ret = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (ret >= 0) {
			close(ret);
		}
		if (rename(tmpdir, dir) < 0 && errno != ENOTEMPTY && errno != EEXIST) {
			warn("%s", dir);
			store_rm_tree(tmpdir);
			return -1;
		}
		store_rm_tree(tmpdir); /* lost a race with another fvm-exec: theirs stands */
	}
	snprintf(path, sizeof(path), "%s/%s", dir, FVM_POLICY_FILE);
	ret = fvm_policy_save(pol, path);
	if (ret < 0) {
		warnx("%s: %s", path, strerror(-ret));
		return -1;
	}
	if (conf) {
		snprintf(path, sizeof(path), "%s/%s", dir, FVM_VMCONF_FILE);
		if (write_file(path, conf) < 0) {
			return -1;
		}
	}
	return 0;
}

int store_vm_lock(const char *vmdir, bool exclusive, bool nonblock)
{
	char path[PATH_MAX + 8];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", vmdir, FVM_LOCK_FILE);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		warn("%s", path);
		return -1;
	}
	if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | (nonblock ? LOCK_NB : 0)) < 0) {
		int e = errno;
		close(fd);
		if (e == EWOULDBLOCK) {
			return -2;
		}
		errno = e;
		warn("%s", path);
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

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT) {
		warn("%s", path);
		return -1;
	}
	return 0;
}

int store_rm_tree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		return errno == ENOENT ? 0 : -1;
	}
	return nftw(path, rm_entry, 64, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

static size_t tree_count;

static int count_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)st;
	(void)flag;
	(void)ftw;
	tree_count++;
	return 0;
}

size_t store_count_tree(const char *path)
{
	tree_count = 0;
	nftw(path, count_entry, 64, FTW_PHYS);
	return tree_count;
}

static struct store_usage *usage_acc;

static int usage_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)flag;
	if (ftw->level == 0) {
		return 0; /* upper/ itself */
	}
	usage_acc->entries++;
	if (S_ISREG(st->st_mode)) {
		usage_acc->bytes += (unsigned long long)st->st_size;
	}
	if (st->st_mtim.tv_sec > usage_acc->last_used) {
		usage_acc->last_used = st->st_mtim.tv_sec;
	}
	return 0;
}

int store_vm_usage(const char *vmdir, struct store_usage *u)
{
	char path[PATH_MAX + 16];
	struct stat st;

	memset(u, 0, sizeof(*u));
	snprintf(path, sizeof(path), "%s/%s", vmdir, FVM_LOCK_FILE);
	if (stat(path, &st) == 0) {
		u->last_used = st.st_mtim.tv_sec;
	}
	snprintf(path, sizeof(path), "%s/%s", vmdir, FVM_UPPER_DIR);
	usage_acc = u;
	if (nftw(path, usage_entry, 64, FTW_PHYS) != 0) {
		warn("%s", path);
		return -1;
	}
	return 0;
}
