/*
 * ipc_store.c — removing a VM's IPC objects, so that a removed VM leaves none behind.
 *
 * The VM's names are found three ways, because none alone is complete: its own
 * directory beneath /dev/shm (fvm_ipc_shmdir: every shm object and semaphore of the VM,
 * removed whole), by prefix in the IPC filesystems (objects made before the VM had that
 * directory; queues when the mqueue filesystem is mounted), and through the registries:
 * the control area's, written by the run's supervisor (SysV keys and queues of every
 * program, fvm-exec/run/ipcguard.c), and the VM's own (SysV keys of --enforce off runs,
 * queues when the mqueue filesystem is not mounted).
 *
 * Invariants: only names carrying the VM's own prefix are removed, and only keys that
 * the VM's prefix makes of the keys its registry lists; nothing of the host or another
 * VM is touched, whatever the registry (the VM's writing) says.
 */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/stat.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

#include "fvm/ipcname.h"
#include "store/ipc_store.h"
#include "store/quote.h"
#include "store/safefs.h"
#include "store/store.h"

#define SHM_DIR "/dev/shm"
#define MQ_DIR  "/dev/mqueue"

struct removal {
	char prefix[FVM_IPC_PREFIX_MAX];
	int failed;
};

/* Records a failure other than "already gone". */
static void failed(struct removal *r, int e, const char *kind, const char *name)
{
	if (e != ENOENT && e != EINVAL && e != EIDRM) {
		char *q = fvm_quote_dup(name); /* from the VM's registry */
		warnx("cannot remove %s %s: %s", kind, q ? q : "?", strerror(e));
		free(q);
		r->failed = 1;
	}
}

static void rm_shm_file(struct removal *r, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", SHM_DIR, name);
	if (unlink(path) < 0) {
		failed(r, errno, "shared memory", path);
	}
}

static void rm_mq(struct removal *r, const char *name)
{
	char qname[NAME_MAX + 2];

	snprintf(qname, sizeof(qname), "/%s", name);
	if (mq_unlink(qname) < 0) {
		failed(r, errno, "message queue", qname);
	}
}

/* Removes the SysV object of KIND at mapped KEY. */
static void rm_key(struct removal *r, const char *kind, key_t key)
{
	static const char *const what[] = {"shared memory segment", "semaphore set",
					   "message queue"};
	char name[32];
	int id, ret, k = strcmp(kind, "shmkey") == 0 ? 0 : strcmp(kind, "semkey") == 0 ? 1 : 2;

	id = k == 0 ? shmget(key, 0, 0) : k == 1 ? semget(key, 0, 0) : msgget(key, 0);
	if (id >= 0) {
		ret = k == 0 ? shmctl(id, IPC_RMID, NULL)
		      : k == 1 ? semctl(id, 0, IPC_RMID)
			       : msgctl(id, IPC_RMID, NULL);
		id = ret;
	}
	if (id < 0) {
		snprintf(name, sizeof(name), "key 0x%08x", (unsigned)key);
		failed(r, errno, what[k], name);
	}
}

bool store_ipc_parse_int32(const char *text, int32_t *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < INT32_MIN || v > INT32_MAX) {
		return false;
	}
	*out = (int32_t)v;
	return true;
}

/*
 * A registry line is the VM's own writing, so it is obeyed only when its MAPPED name
 * or key is exactly what the VM's prefix makes of its ORIGINAL, computed here with the
 * core's own functions: a forged line naming a host object (or another VM's) is
 * ignored.
 */
static int registry_line(const char *kind, const char *mapped, const char *orig, void *arg)
{
	struct removal *r = arg;

	if (strcmp(kind, "mq") == 0) {
		/* libfvm maps a queue's name to at most NAME_MAX bytes (libfvm/ipc.c). */
		char want[NAME_MAX + 1];
		int n = fvm_ipc_map(r->prefix, orig, strlen(orig), NAME_MAX, want, sizeof(want));
		if (n > 0 && strcmp(want, mapped) == 0 && !strchr(mapped, '/')) {
			rm_mq(r, mapped);
		}
	} else if (strcmp(kind, "shmkey") == 0 || strcmp(kind, "semkey") == 0 ||
		   strcmp(kind, "msgkey") == 0) {
		int32_t key, vkey;
		if (store_ipc_parse_int32(mapped, &key) && store_ipc_parse_int32(orig, &vkey) && vkey != IPC_PRIVATE &&
		    key == fvm_ipc_key(r->prefix, vkey)) {
			rm_key(r, kind, (key_t)key);
		}
	}
	/* shm and sem lines: the /dev/shm scan finds them all, by the VM's prefix. */
	return 0;
}

/* Removes the VM's entries of IPC filesystem DIR ("sem." TAG'd ones too when TAG). */
static void scan_dir(struct removal *r, const char *dir, const char *tag, bool queues)
{
	size_t plen = strlen(r->prefix), tlen = tag ? strlen(tag) : 0;
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d) {
		if (errno != ENOENT) {
			failed(r, errno, "directory", dir);
		}
		return;
	}
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		if (tag && strncmp(n, tag, tlen) == 0) {
			n += tlen;
		}
		if (strncmp(n, r->prefix, plen) != 0) {
			continue;
		}
		if (queues) {
			rm_mq(r, e->d_name);
		} else {
			rm_shm_file(r, e->d_name);
		}
	}
	closedir(d);
}

/*
 * Removes the VM's directory beneath /dev/shm (fvm_ipc_shmdir) and all in it: every
 * entry there is the VM's, whatever its name. Only a directory of this user's: the name
 * is predictable, and what another user planted under it is not the VM's to remove.
 */
static void rm_shm_dir(struct removal *r)
{
	char dir[PATH_MAX];
	struct stat st;

	if (fvm_ipc_shmdir(r->prefix, dir, sizeof(dir)) < 0) {
		return;
	}
	int parent = open(SHM_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	const char *base = dir + strlen(SHM_DIR) + 1;
	if (parent < 0) {
		return;
	}
	if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		int e = !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ? EPERM : -safe_rm_tree(parent, base, NULL, NULL);
		if (e) {
			failed(r, e, "shared memory directory", dir);
		}
	}
	close(parent);
}

int store_remove_ipc(const char *vmdir)
{
	struct removal r = {.failed = 0};
	char ctldir[PATH_MAX];
	int ret;

	if (fvm_ipc_prefix(vmdir, r.prefix, sizeof(r.prefix)) < 0) {
		warnx("%s: VM name too long", vmdir);
		return -1;
	}
	rm_shm_dir(&r);
	scan_dir(&r, SHM_DIR, "sem.", false); /* objects made before the VM had a directory */
	scan_dir(&r, MQ_DIR, NULL, true);
	/* What the run's supervisor recorded (fvm-exec/run/ipcguard.c): SysV keys and queues
	 * of every program of the VM, static ones too. Written by the tools only; its lines
	 * are checked all the same. */
	if (store_ctl_path(vmdir, ctldir, sizeof(ctldir)) == 0 &&
	    (ret = fvm_ipc_each(ctldir, registry_line, &r)) < 0 && ret != -ENOENT) {
		warnx("%s/%s: %s", ctldir, FVM_IPC_FILE, safe_strerror(ret));
		r.failed = 1;
	}
	ret = fvm_ipc_each(vmdir, registry_line, &r);
	if (ret == -ELOOP || ret == -EBADFD || ret == -EFBIG) {
		/* The VM damaged its registry: that must not keep the VM from being removed. */
		warnx("%s/%s: %s; SysV objects the VM made may be left", vmdir, FVM_IPC_FILE,
		      safe_strerror(ret));
	} else if (ret < 0) {
		warnx("%s/%s: %s", vmdir, FVM_IPC_FILE, safe_strerror(ret));
		return -1;
	}
	return r.failed ? -1 : 0;
}
