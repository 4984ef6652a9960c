/*
 * rootfence.c — what the fence adds when fvm-exec runs as root (run.h): a read-only
 * view of the host in a mount namespace, and a capability bounding set.
 *
 * Rules:
 *  - The mount namespace MUST NOT change the host's mounts: the child makes its own
 *    (unshare), turns every mount in it into a slave of the host's first (the host's
 *    later mounts still appear; nothing done here propagates back), and only then
 *    changes anything.
 *  - In it, every mount is read-only (mount_setattr, AT_RECURSIVE, MOUNT_ATTR_RDONLY),
 *    but for writable copies of exactly the trees Landlock lets the VM write (fence.c):
 *    the VM's data area, the shared paths, /dev/shm, /dev/mqueue and /dev/pts. So the
 *    kernel refuses (EROFS) what Landlock has no right for — chmod, chown, utimes,
 *    xattrs, FS_IOC_SETFLAGS of host files — at no cost per call. Host character
 *    devices stay writable (a read-only mount does not stop a device write); Landlock
 *    names those a VM may write.
 *  - The writable copies, /dev/pts excepted, are nodev: a device node made in the VM
 *    stats as made, and never opens (EACCES). The seccomp filter refuses mknod of
 *    devices only where this does not hold.
 *  - All or nothing: every writable tree is cloned before anything is made read-only;
 *    a failure before that leaves the run without the namespace (said under -v), a
 *    failure after it fails the run. The clones are taken from the mounts as they were,
 *    so their other flags (nosuid, noexec) are kept.
 *  - Reads (issue 13): other VMs' layers, the control area and the hide paths are
 *    unreadable in the namespace, for static programs and raw system calls too. An
 *    empty tmpfs, read-only once its places are made, covers the store's vms/ (this
 *    VM's data area is moved back onto its place vms/NAME, so a VM made later is covered
 *    as well) and another ctl/ (this run's policy file, FVM_POLICY, is bound back
 *    read-only onto ctl/NAME/policy); an empty read-only tmpfs of mode 000 covers each
 *    hide directory that exists, /dev/null bound read-only and nodev (it never opens)
 *    each other hide path. The covers keep the modes and owners of what they cover, so
 *    listing the store and its parent works as natively. A hide path that holds the
 *    store, libfvm or a writable tree is left uncovered (said under -v): covering it
 *    would break the run; libfvm still hides it. Unprivileged runs use Landlock's read
 *    rights instead (readfence.c).
 *  - The host's disks: in the namespace every block device node under /dev (devtmpfs,
 *    subdirectories included, symbolic links aside: they name these nodes) is bound onto
 *    itself read-only and nodev, so root in the VM still stats it as on the host and
 *    never opens it, for reading or writing (EACCES); but the devices of the policy
 *    (device = PATH, compared by device number), which Landlock also lets the VM write.
 *    A node made later (a disk plugged in, a loop device attached during the run) is not
 *    covered, nor a block device node elsewhere in the host's trees (see the README's
 *    Limitations).
 *  - Capabilities: the bounding set keeps Docker's default set (below) and drops every
 *    other capability, inheritable ones too, before the exec; with no_new_privs set,
 *    nothing the VM runs gains one back.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <limits.h>
#include <stddef.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fvm/env.h"
#include "fvm/layout.h"
#include "run.h"
#include "store/layers.h"

#ifndef MOUNT_ATTR_SIZE_VER0
struct mount_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOUNT_ATTR_NOSUID
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NOEXEC 0x00000008
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NODEV  0x00000004
#endif

/* Docker's default capability set: what package installs need. */
static const int kept_caps[] = {
	CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD, CAP_NET_RAW, CAP_SETGID,
	CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL,
	CAP_AUDIT_WRITE,
};

/* Writable beneath these in every root run, besides the VM and its shared paths;
 * DEV: device nodes open there (no nodev). */
static const struct {
	const char *path;
	bool dev;
} dev_trees[] = {
	{"/dev/shm", false},
	{"/dev/mqueue", false},
	{"/dev/pts", true},
};

static bool kept(int cap)
{
	for (size_t i = 0; i < sizeof(kept_caps) / sizeof(kept_caps[0]); i++) {
		if (kept_caps[i] == cap) {
			return true;
		}
	}
	return false;
}

/* Whether PATH is BASE or beneath it. */
static bool beneath(const char *path, const char *base)
{
	size_t l = strlen(base);

	if (l == 1 && base[0] == '/') {
		return path[0] == '/';
	}
	return strncmp(path, base, l) == 0 && (path[l] == '\0' || path[l] == '/');
}

/* The covered paths of a root run: the store's vms/ and ctl/ (VMDIR is HOME/vms/NAME),
 * and the hide paths of S that may be covered. */
static void plan_reads(struct exec_fence *f, const struct exec_settings *s, const char *vmdir)
{
	const struct fvm_policy *pol = &s->pol;
	const char *preload = getenv(FVM_ENV_PRELOAD), *name = strrchr(vmdir, '/');
	size_t homelen, kept = 0;
	char home[sizeof(f->vms)], lib[PATH_MAX] = "";

	/* libfvm: the first of LD_PRELOAD (libfvm-det.so follows it from the same directory). */
	if (preload && strcspn(preload, ":") < sizeof(lib)) {
		snprintf(lib, sizeof(lib), "%.*s", (int)strcspn(preload, ":"), preload);
	}

	f->vmdir = vmdir;
	if (!name || name - vmdir <= (ptrdiff_t)sizeof(FVM_VMS_DIR) || name[-(ptrdiff_t)sizeof(FVM_VMS_DIR)] != '/' ||
	    strncmp(name - sizeof(FVM_VMS_DIR) + 1, FVM_VMS_DIR, sizeof(FVM_VMS_DIR) - 1) != 0) {
		return; /* not HOME/vms/NAME: main made it so; nothing is covered */
	}
	homelen = (size_t)(name - vmdir) - sizeof(FVM_VMS_DIR);
	if (homelen + strlen(name) + sizeof(FVM_CTL_DIR "/" FVM_POLICY_FILE) >= sizeof(f->policy)) {
		return; /* longer than any path the store may have */
	}
	memcpy(home, vmdir, homelen);
	home[homelen] = '\0';
	memcpy(f->vms, vmdir, homelen);
	strcpy(f->vms + homelen, "/" FVM_VMS_DIR);
	memcpy(f->ctl, vmdir, homelen);
	strcpy(f->ctl + homelen, "/" FVM_CTL_DIR);
	strcpy(f->policy, f->ctl);
	strcat(f->policy, name);
	strcat(f->policy, "/" FVM_POLICY_FILE);
	memcpy(f->layers, vmdir, homelen);
	strcpy(f->layers + homelen, "/" FVM_LAYERS_DIR);
	struct layer_list ll;
	f->nown_layers = 0;
	if (layer_list_read(vmdir, &ll) == 0 && ll.n && (f->own_layers = calloc(ll.n, sizeof(*f->own_layers)))) {
		for (size_t i = 0; i < ll.n; i++) {
			if (layer_tree_path(home, ll.id[i], f->own_layers[f->nown_layers], sizeof(*f->own_layers)) == 0) {
				f->nown_layers++;
			}
		}
	}
	for (uint32_t i = 0; i < pol->nrules; i++) {
		const char *p = pol->blob + pol->rules[i].off;
		bool holds = false;

		if (pol->rules[i].klass != FVM_CLASS_HIDDEN) {
			continue;
		}
		if (beneath(p, home)) {
			continue; /* the store or inside it: covered as vms/ and ctl/ */
		}
		holds = beneath(home, p) || (*lib == '/' && beneath(lib, p));
		for (size_t w = 0; w < f->nwritable && !holds; w++) {
			holds = beneath(f->writable[w].path, p);
		}
		if (holds) {
			kept++;
			continue;
		}
		f->hidden[f->nhidden++] = p;
	}
	if (fence_mqueue_mounted()) {
		f->hidden[f->nhidden++] = "/dev/mqueue"; /* its files are host queues (run.h) */
		fence_say(f, "root: /dev/mqueue covered in the namespace: the host's queues cannot be opened "
			     "through it (the VM's own open by mq_open)\n");
	}
	fence_say(f, "root: other VMs' data areas, the control area (but this run's policy) and %zu hide "
		     "path%s unreadable in the namespace (covered by empty read-only mounts); other VMs' "
		     "layers too (this VM's %zu layer%s bound back read-only)\n",
		  f->nhidden, f->nhidden == 1 ? "" : "s", f->nown_layers, f->nown_layers == 1 ? "" : "s");
	if (kept) {
		fence_say(f, "root: %zu hide path%s not covered in the namespace: %s the store, libfvm or "
			     "a writable tree (libfvm still hides %s)\n", kept, kept == 1 ? "" : "s",
			  kept == 1 ? "it holds" : "each holds", kept == 1 ? "it" : "them");
	}
}

void rootfence_prepare(struct exec_fence *f, const struct exec_settings *s, const char *vmdir)
{
	const struct fvm_policy *pol = &s->pol;

	f->root = geteuid() == 0;
	if (!f->root) {
		return; /* reads: readfence.c */
	}
	f->nwritable = 0;
	f->writable[f->nwritable].path = vmdir;
	f->writable[f->nwritable++].dev = false;
	for (uint32_t i = 0; i < pol->nrules && f->nwritable < FENCE_MAX_WRITABLE - 3; i++) {
		if (pol->rules[i].klass == FVM_CLASS_SHARED) {
			f->writable[f->nwritable].path = pol->blob + pol->rules[i].off;
			f->writable[f->nwritable++].dev = false;
		}
	}
	for (size_t i = 0; i < sizeof(dev_trees) / sizeof(dev_trees[0]); i++) {
		f->writable[f->nwritable].path = dev_trees[i].path;
		f->writable[f->nwritable++].dev = dev_trees[i].dev;
	}
	fence_say(f, "root: the host read-only in a mount namespace (EROFS) but for the VM, %zu shared "
		     "path%s, /dev/shm, /dev/mqueue, /dev/pts; device nodes made in the VM never open (nodev)\n",
		  f->nwritable - 4, f->nwritable - 4 == 1 ? "" : "s");
	plan_reads(f, s, vmdir);
	f->devices = s->device_rdev;
	f->ndevices = s->ndevices;
	fence_say(f, "root: the host's block devices under /dev never open in the namespace (nodev)%s\n",
		  s->ndevices ? ", but those of device = PATH" : "");
	fence_say(f, "root: capability bounding set: Docker's default set (chown, dac_override, fowner, "
		     "fsetid, kill, setgid, setuid, setpcap, net_bind_service, net_raw, sys_chroot, mknod, "
		     "audit_write, setfcap)\n");
}

static int attr(int dfd, const char *path, unsigned flags, uint64_t set, uint64_t clr)
{
	struct mount_attr a = {.attr_set = set, .attr_clr = clr};
	return syscall(SYS_mount_setattr, dfd, path, flags, &a, sizeof(a)) < 0 ? -errno : 0;
}

/* Closes the N fds of FDS that are open; errno is kept for the caller's message. */
static void close_all(int *fds, size_t n)
{
	int e = errno;

	for (size_t i = 0; i < n; i++) {
		if (fds[i] >= 0) {
			close(fds[i]);
		}
	}
	errno = e;
}

/* An empty tmpfs on DIR with the mode and owner of what it covers; read-only unless RW. */
static int tmpfs_over(const char *dir, bool rw)
{
	struct stat st;
	char opts[96];

	if (stat(dir, &st) < 0) {
		return -errno;
	}
	snprintf(opts, sizeof(opts), "mode=%o,uid=%u,gid=%u,size=64k,nr_inodes=16", (unsigned)(st.st_mode & 07777),
		 (unsigned)st.st_uid, (unsigned)st.st_gid);
	if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | (rw ? 0 : MS_RDONLY), opts) < 0) {
		return -errno;
	}
	return 0;
}

/* Makes AT, in a tmpfs of tmpfs_over, like what it covers, whose stat (taken before)
 * is ST: a directory, or an empty file, with its mode and owner. */
static int placeholder(const char *at, const struct stat *st)
{
	int fd;

	if (S_ISDIR(st->st_mode)) {
		if (mkdir(at, 0) < 0) {
			return -errno;
		}
	} else if ((fd = open(at, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0)) < 0) {
		return -errno;
	} else {
		close(fd);
	}
	if (lchown(at, st->st_uid, st->st_gid) < 0 || chmod(at, st->st_mode & 07777) < 0) {
		return -errno;
	}
	return 0;
}

/*
 * Covers the store's layers/ (other VMs' layers unreadable) and binds the VM's own
 * layer trees back onto their places, read-only. On failure, *WHAT is the path.
 * Returns 0 or -errno.
 */
static int cover_layers(const struct exec_fence *f, const char **what)
{
	int fds[FVM_MAX_LAYERS], r = 0;
	struct stat lst, ist[FVM_MAX_LAYERS], tst[FVM_MAX_LAYERS];
	char opts[128], id[4096];
	size_t n = 0;

	*what = f->layers;
	if (stat(f->layers, &lst) < 0) {
		return errno == ENOENT ? 0 : -errno; /* no layer yet */
	}
	for (; n < f->nown_layers && n < FVM_MAX_LAYERS && r == 0; n++) {
		*what = f->own_layers[n];
		snprintf(id, sizeof(id), "%s", f->own_layers[n]);
		*strrchr(id, '/') = '\0';
		if (stat(id, &ist[n]) < 0 || stat(f->own_layers[n], &tst[n]) < 0) {
			r = -errno;
			break;
		}
		fds[n] = (int)syscall(SYS_open_tree, AT_FDCWD, f->own_layers[n], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (fds[n] < 0) {
			r = -errno;
			break;
		}
		r = attr(fds[n], "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID, 0);
	}
	if (r == 0) {
		*what = f->layers;
		snprintf(opts, sizeof(opts), "mode=%o,uid=%u,gid=%u,size=64k,nr_inodes=%zu",
			 (unsigned)(lst.st_mode & 07777), (unsigned)lst.st_uid, (unsigned)lst.st_gid, 2 * n + 8);
		if (mount("tmpfs", f->layers, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0) {
			r = -errno;
		}
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		snprintf(id, sizeof(id), "%s", f->own_layers[i]);
		*strrchr(id, '/') = '\0';
		*what = f->own_layers[i];
		if ((r = placeholder(id, &ist[i])) == 0 || r == -EEXIST) {
			r = placeholder(f->own_layers[i], &tst[i]);
		}
	}
	if (r == 0) {
		r = attr(AT_FDCWD, f->layers, 0, MOUNT_ATTR_RDONLY, 0);
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		*what = f->own_layers[i];
		r = syscall(SYS_move_mount, fds[i], "", AT_FDCWD, f->own_layers[i], MOVE_MOUNT_F_EMPTY_PATH) < 0
			    ? -errno
			    : 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (fds[i] >= 0) {
			close(fds[i]);
		}
	}
	return r;
}

/*
 * Covers the store's vms/ and ctl/ (plan_reads), before the writable trees are moved
 * back: vms/NAME and ctl/NAME/policy are left as places; the policy's read-only clone is
 * moved onto the latter here, the VM's writable one onto the former by the caller.
 * On failure, *WHAT is the path. Returns 0 or -errno.
 */
static int cover_store(const struct exec_fence *f, const char **what)
{
	struct stat vst, cst, pst;
	char ctlvm[sizeof(f->policy)], *slash;
	int pfd, r;

	snprintf(ctlvm, sizeof(ctlvm), "%s", f->policy);
	slash = strrchr(ctlvm, '/');
	*slash = '\0';
	*what = f->vms;
	if (stat(f->vmdir, &vst) < 0) {
		return -errno;
	}
	if ((r = tmpfs_over(f->vms, true)) < 0 || (r = placeholder(f->vmdir, &vst)) < 0 ||
	    (r = attr(AT_FDCWD, f->vms, 0, MOUNT_ATTR_RDONLY, 0)) < 0) {
		return r;
	}
	*what = f->ctl;
	if (stat(ctlvm, &cst) < 0 || stat(f->policy, &pst) < 0) {
		return -errno;
	}
	pfd = (int)syscall(SYS_open_tree, AT_FDCWD, f->policy, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (pfd < 0) {
		return -errno;
	}
	if ((r = attr(pfd, "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID, 0)) < 0 ||
	    (r = tmpfs_over(f->ctl, true)) < 0 || (r = placeholder(ctlvm, &cst)) < 0 ||
	    (r = placeholder(f->policy, &pst)) < 0 ||
	    /*
	     * Searchable by every uid in the namespace (nothing else is in them): a process
	     * that dropped root before its exec still maps the policy, and with it the VM's
	     * layers, or the VM would show it another tree. Listing stays the owner's.
	     */
	    chmod(f->ctl, (cst.st_mode & 07777) | 0111) < 0 || chmod(ctlvm, (cst.st_mode & 07777) | 0111) < 0 ||
	    (r = attr(AT_FDCWD, f->ctl, 0, MOUNT_ATTR_RDONLY, 0)) < 0) {
		r = r < 0 ? r : -errno;
		close(pfd);
		return r;
	}
	*what = f->policy;
	r = syscall(SYS_move_mount, pfd, "", AT_FDCWD, f->policy, MOVE_MOUNT_F_EMPTY_PATH) < 0 ? -errno : 0;
	close(pfd);
	return r;
}

/*
 * Covers each hide path of F that exists: a directory with an empty read-only tmpfs of
 * mode 000, anything else (symbolic links aside: the path they name is not hidden) with
 * /dev/null bound read-only and nodev, so it never opens. On failure, *WHAT is the path.
 * Returns 0 or -errno.
 */
static int cover_hidden(const struct exec_fence *f, const char **what)
{
	struct stat st;

	for (size_t i = 0; i < f->nhidden; i++) {
		*what = f->hidden[i];
		if (lstat(f->hidden[i], &st) < 0) {
			if (errno == ENOENT || errno == ENOTDIR) {
				continue;
			}
			return -errno;
		}
		if (S_ISLNK(st.st_mode)) {
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (mount("tmpfs", f->hidden[i], "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY,
				  "mode=0,size=4k,nr_inodes=1") < 0) {
				return -errno;
			}
		} else if (mount("/dev/null", f->hidden[i], NULL, MS_BIND, NULL) < 0 ||
			   attr(AT_FDCWD, f->hidden[i], AT_SYMLINK_NOFOLLOW,
				MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, 0) < 0) {
			return -errno;
		}
	}
	return 0;
}

/* Whether RDEV is one of F's allowed block devices. */
static bool device_allowed(const struct exec_fence *f, dev_t rdev)
{
	for (size_t i = 0; i < f->ndevices; i++) {
		if (f->devices[i] == rdev) {
			return true;
		}
	}
	return false;
}

/* /dev's trees that hold no disk: the writable ones (bound before) and pseudo file systems. */
static bool dev_skipped(const char *name)
{
	static const char *const skip[] = {"pts", "shm", "mqueue", "hugepages", "fd"};

	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++) {
		if (strcmp(name, skip[i]) == 0) {
			return true;
		}
	}
	return false;
}

/*
 * Binds each block device node beneath DIR (a path of PATH_MAX bytes, changed while
 * walking and restored; DEPTH levels of directories more) onto itself read-only and
 * nodev, but F's allowed devices. On failure DIR is the node's path.
 * Returns 0 or -errno.
 */
static int cover_disks(const struct exec_fence *f, char *dir, int depth)
{
	size_t len = strlen(dir);
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;
	int r = 0;

	if (!d) {
		return errno == ENOENT || errno == EACCES ? 0 : -errno;
	}
	while (r == 0 && (e = readdir(d)) != NULL) {
		unsigned char type = e->d_type;
		if (e->d_name[0] == '.' || len + strlen(e->d_name) + 2 > PATH_MAX) {
			continue;
		}
		if (type != DT_BLK && type != DT_DIR && type != DT_UNKNOWN) {
			continue; /* the common case, no system call: char devices, links */
		}
		snprintf(dir + len, PATH_MAX - len, "/%s", e->d_name);
		if (type == DT_UNKNOWN) {
			type = lstat(dir, &st) < 0 ? DT_UNKNOWN : S_ISBLK(st.st_mode) ? DT_BLK
							  : S_ISDIR(st.st_mode) ? DT_DIR : DT_UNKNOWN;
		}
		if (type == DT_DIR && depth > 0 && !dev_skipped(e->d_name)) {
			r = cover_disks(f, dir, depth - 1);
		} else if (type == DT_BLK && lstat(dir, &st) == 0 && S_ISBLK(st.st_mode) &&
			   !device_allowed(f, st.st_rdev)) {
			if (mount(dir, dir, NULL, MS_BIND, NULL) < 0 ||
			    (r = attr(AT_FDCWD, dir, AT_SYMLINK_NOFOLLOW,
				      MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, 0)) < 0) {
				r = r < 0 ? r : -errno;
				break; /* DIR names the node */
			}
		}
		if (r == 0) {
			dir[len] = '\0';
		}
	}
	closedir(d);
	return r;
}

/*
 * In the child, before the filter: enters the read-only mount namespace of F's rules.
 * Returns 1 when it holds, 0 when the kernel offered no way (nothing of the host's view
 * changed; WHY says the step), or -errno when it failed half-way (the run must stop).
 */
static int mountns_enter(const struct exec_fence *f, const char **why)
{
	int fds[FENCE_MAX_WRITABLE];
	char cwd[PATH_MAX];
	bool have_cwd = getcwd(cwd, sizeof(cwd)) != NULL;
	const char *what = NULL;
	int r;

	if (unshare(CLONE_NEWNS) < 0) {
		*why = "unshare";
		return 0;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) {
		*why = "mount --make-rslave";
		return 0;
	}
	for (size_t i = 0; i < f->nwritable; i++) {
		fds[i] = (int)syscall(SYS_open_tree, AT_FDCWD, f->writable[i].path,
				      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
		if (fds[i] < 0 && errno != ENOENT) { /* an absent tree is not needed */
			*why = "open_tree";
			close_all(fds, i);
			return 0;
		}
		if (fds[i] >= 0 && !f->writable[i].dev &&
		    attr(fds[i], "", AT_EMPTY_PATH | AT_RECURSIVE, MOUNT_ATTR_NODEV, 0) < 0) {
			*why = "mount_setattr nodev";
			close_all(fds, i + 1);
			return 0;
		}
	}
	if (attr(AT_FDCWD, "/", AT_RECURSIVE, MOUNT_ATTR_RDONLY, 0) < 0) {
		*why = "mount_setattr rdonly";
		close_all(fds, f->nwritable);
		return 0;
	}
	r = *f->vms ? cover_store(f, &what) : 0;
	if (r == 0 && *f->layers) {
		r = cover_layers(f, &what);
	}
	if (r < 0) {
		fprintf(stderr, "fvm-exec: cannot cover %s in the VM's namespace: %s\n", what, strerror(-r));
	} else {
		r = 1;
	}
	for (size_t i = 0; i < f->nwritable && r > 0; i++) {
		if (fds[i] >= 0 && syscall(SYS_move_mount, fds[i], "", AT_FDCWD, f->writable[i].path,
					   MOVE_MOUNT_F_EMPTY_PATH) < 0 && r > 0) {
			fprintf(stderr, "fvm-exec: cannot mount %s writable in the VM's namespace: %s\n",
				f->writable[i].path, strerror(errno));
			r = -errno;
		}
	}
	if (r > 0 && (r = cover_hidden(f, &what)) < 0) {
		fprintf(stderr, "fvm-exec: cannot cover hide path %s in the VM's namespace: %s\n", what,
			strerror(-r));
	} else if (r == 0) {
		r = 1;
	}
	if (r > 0) {
		char dev[PATH_MAX] = "/dev";
		if ((r = cover_disks(f, dev, 3)) < 0) {
			fprintf(stderr, "fvm-exec: cannot cover block device %s in the VM's namespace: %s\n", dev,
				strerror(-r));
		} else {
			r = 1;
		}
	}
	close_all(fds, f->nwritable);
	/* The working directory was taken on a mount now covered: walk to it again. If it
	 * is gone, it was beneath a cover (another VM, a hide path): keeping the old one
	 * would leave what is covered readable by relative paths, so the VM starts at /. */
	if (r > 0 && have_cwd && chdir(cwd) < 0) {
		(void)!chdir("/");
	}
	return r;
}

/* Drops every capability outside kept_caps from the bounding and inheritable sets. */
static int caps_bound(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];

	for (int cap = 0, have; (have = prctl(PR_CAPBSET_READ, cap, 0, 0, 0)) >= 0; cap++) {
		if (!kept(cap) && have == 1 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			return -errno;
		}
	}
	if (syscall(SYS_capget, &hdr, data) < 0) {
		return -errno;
	}
	for (int cap = 0; cap < 64; cap++) {
		if (!kept(cap)) {
			data[cap / 32].inheritable &= ~(1u << (cap % 32));
		}
	}
	if (syscall(SYS_capset, &hdr, data) < 0) {
		return -errno;
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); /* before Linux 4.3: none */
	return 0;
}

int rootfence_apply(const struct exec_fence *f, bool *nodev)
{
	const char *why = NULL;
	int r;

	*nodev = false;
	if (!f->root) {
		return 0;
	}
	r = mountns_enter(f, &why);
	if (r < 0) {
		return r;
	}
	if (r == 0 && f->verbose) { /* errno is the failed step's */
		fprintf(stderr, "fvm-exec: root run without the read-only mount namespace (%s: %s): "
				"host metadata is fenced by Landlock's rights only\n", why, strerror(errno));
	}
	*nodev = r > 0;
	return caps_bound();
}
