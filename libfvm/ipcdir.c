/*
 * ipcdir.c — the VM's IPC prefix (fvm/ipcname.h) and the two directories where IPC
 * names are also files, /dev/shm and /dev/mqueue: their path hook (a name below them
 * is the VM's mapped name) and their listing hook (only the VM's names, unmapped).
 *
 * It sits below both the IPC wrappers (ipc.c, socket.c) and path lookup (vpath.c,
 * dir.c), and calls neither: every lookup asks fvm_ipc_vpath() without going through
 * the wrappers' module.
 *
 * Invariants:
 *  - The prefix is computed once per process, published with release/acquire; racing
 *    threads compute the same bytes and one publishes.
 *  - The path hook rewrites only the first component below a SHARED IPC directory,
 *    leaves ".", ".." and an already-mapped name alone, and costs one byte compare for
 *    every path not under /dev. Below /dev/shm, the mapped name lives in the VM's own
 *    directory (fvm_ipc_shmdir: /dev/shm/NAME is /dev/shm/fvm.VM.HASH/PREFIX+NAME), the
 *    only place in /dev/shm the fence lets the VM write; that directory's own name,
 *    met in a path the kernel gave back, is left alone.
 *  - A listing shows an entry only when it carries the VM's prefix; a shortened name
 *    is shown by the original the VM's registry (ROOT/ipc) keeps for it.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "fvm/ipcname.h"
#include "libfvm.h"

static char prefix[FVM_IPC_PREFIX_MAX];
static char shmdir[FVM_IPC_PREFIX_MAX + sizeof(FVM_SHM_ROOT) + 1]; /* fvm_ipc_shmdir() */
static size_t shmdir_base; /* offset of its last component */
static int prefix_state; /* 0 unknown, 1 ready, -1 unusable */

const char *fvm_ipc_prefix_get(void)
{
	int st = __atomic_load_n(&prefix_state, __ATOMIC_ACQUIRE);

	if (st == 0) {
		char tmp[FVM_IPC_PREFIX_MAX];
		/* Racing threads compute the same bytes; the first one publishes. */
		st = fvm_ipc_prefix(fvm_g.root, tmp, sizeof(tmp)) < 0 ? -1 : 1;
		int expected = 0;
		if (st == 1 && __atomic_compare_exchange_n(&prefix_state, &expected, 2, false,
							   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			memcpy(prefix, tmp, sizeof(prefix));
			fvm_ipc_shmdir(prefix, shmdir, sizeof(shmdir));
			shmdir_base = strlen(FVM_SHM_ROOT) + 1;
			__atomic_store_n(&prefix_state, 1, __ATOMIC_RELEASE);
		} else if (st < 0) {
			__atomic_store_n(&prefix_state, -1, __ATOMIC_RELEASE);
		}
		while ((st = __atomic_load_n(&prefix_state, __ATOMIC_ACQUIRE)) == 2) {
		}
	}
	return st == 1 ? prefix : NULL;
}

const char *fvm_ipc_shmdir_get(void)
{
	return fvm_ipc_prefix_get() ? shmdir : NULL;
}

/* The listing of /dev/shm and the mqueue mount. */
static const struct {
	const char *dir;
	const char *tag; /* a name's leading tag kept as is ("sem." for semaphores) */
} ipc_dirs[] = {
	{"/dev/shm", "sem."},
	{"/dev/mqueue", NULL},
};

int fvm_ipc_dir(const char *vdir, size_t len)
{
	if (!fvm_ipc_prefix_get()) {
		return -1;
	}
	for (size_t i = 0; i < sizeof(ipc_dirs) / sizeof(ipc_dirs[0]); i++) {
		if (strlen(ipc_dirs[i].dir) == len && memcmp(ipc_dirs[i].dir, vdir, len) == 0) {
			return (int)i;
		}
	}
	return -1;
}

const char *fvm_ipc_dir_real(int dir)
{
	return dir == 0 ? fvm_ipc_shmdir_get() : ipc_dirs[dir].dir;
}

int fvm_ipc_vpath(char *vpath, size_t len, size_t size)
{
	const char *pfx, *name, *tag, *rest;
	char mapped[NAME_MAX + 2], out[PATH_MAX];
	size_t dlen = 0, nlen, taglen = 0;
	int dir = -1, m, n;

	/* The common case costs one byte compare: nothing under /dev. */
	if (len < 6 || vpath[1] != 'd') {
		return (int)len;
	}
	for (size_t i = 0; i < sizeof(ipc_dirs) / sizeof(ipc_dirs[0]); i++) {
		dlen = strlen(ipc_dirs[i].dir);
		if (len > dlen + 1 && memcmp(vpath, ipc_dirs[i].dir, dlen) == 0 && vpath[dlen] == '/' &&
		    vpath[dlen + 1] != '/') {
			dir = (int)i;
			break;
		}
	}
	if (dir < 0 || !(pfx = fvm_ipc_prefix_get()) ||
	    fvm_policy_class(fvm_g.policy, ipc_dirs[dir].dir, dlen) != FVM_CLASS_SHARED) {
		return (int)len;
	}
	/* The first component below the directory is the VM's name; the rest follows it. */
	name = vpath + dlen + 1;
	rest = strchr(name, '/');
	nlen = rest ? (size_t)(rest - name) : strlen(name);
	rest = rest ? rest : "";
	if ((nlen == 1 && name[0] == '.') || (nlen == 2 && name[0] == '.' && name[1] == '.')) {
		return (int)len;
	}
	/* Already the VM's own directory: a path narrowed from the kernel. */
	if (dir == 0 && nlen == strlen(shmdir + shmdir_base) && memcmp(name, shmdir + shmdir_base, nlen) == 0) {
		return (int)len;
	}
	tag = ipc_dirs[dir].tag;
	if (tag && nlen > strlen(tag) && strncmp(name, tag, strlen(tag)) == 0) {
		taglen = strlen(tag);
	}
	/* Already the VM's real name: a path narrowed from the kernel (the cwd, an fd). */
	if (nlen - taglen >= strlen(pfx) && memcmp(name + taglen, pfx, strlen(pfx)) == 0) {
		return (int)len;
	}
	m = fvm_ipc_map(pfx, name + taglen, nlen - taglen, NAME_MAX - taglen, mapped, sizeof(mapped));
	if (m < 0) {
		return m;
	}
	if (dir == 0) { /* /dev/shm/NAME: in the VM's directory beneath it */
		n = snprintf(out, sizeof(out), "%s/%.*s%s%s", shmdir, (int)taglen, name, mapped, rest);
	} else {
		n = snprintf(out, sizeof(out), "%.*s%.*s%s%s", (int)(dlen + 1), vpath, (int)taglen, name,
			     mapped, rest);
	}
	if (n < 0 || (size_t)n >= sizeof(out) || (size_t)n >= size) {
		return -ENAMETOOLONG;
	}
	memcpy(vpath, out, (size_t)n + 1);
	return n;
}

struct unshorten {
	const char *mapped;
	char *out;
	size_t outlen;
	int found;
};

static int find_orig(const char *kind, const char *mapped, const char *orig, void *arg)
{
	struct unshorten *u = arg;

	(void)kind;
	if (strcmp(mapped, u->mapped) == 0 && strlen(orig) < u->outlen) {
		strcpy(u->out, orig);
		u->found = 1;
		return 1;
	}
	return 0;
}

int fvm_ipc_dir_entry(int dir, const char *name, char *out, size_t outlen)
{
	const char *pfx = fvm_ipc_prefix_get(), *tag = ipc_dirs[dir].tag, *rest = name;
	size_t taglen = 0;
	int shortened;

	if (!pfx) {
		return -1;
	}
	if (tag && strncmp(name, tag, strlen(tag)) == 0) {
		taglen = strlen(tag);
		rest = name + taglen;
	}
	const char *vname = fvm_ipc_unmap(pfx, rest, strlen(rest), &shortened);
	if (!vname || taglen + strlen(vname) + 1 > outlen) {
		return -1;
	}
	memcpy(out, name, taglen);
	if (shortened) {
		struct unshorten u = {.mapped = rest, .out = out + taglen, .outlen = outlen - taglen};
		if (fvm_ipc_each(fvm_g.root, find_orig, &u) > 0 && u.found) {
			return (int)strlen(out);
		}
	}
	strcpy(out + taglen, vname);
	return (int)strlen(out);
}
