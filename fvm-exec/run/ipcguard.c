/*
 * ipcguard.c — the IPC guard (run.h): the run's supervisor answers the seccomp
 * notifications of the SysV calls and of mq_open/mq_unlink, so that no process of the
 * VM — static, raw system calls — reaches a SysV object or a POSIX queue of the host or
 * of another VM.
 *
 * Rules:
 *  - SysV get calls (shmget, semget, msgget) are performed HERE, never continued: the
 *    key K a program names becomes fvm_ipc_key(prefix, K) (fvm/ipcname.h), as libfvm
 *    mapped it before there was a guard, so objects made by earlier runs keep their
 *    keys; IPC_PRIVATE stays private. libfvm stops mapping under the guard
 *    (FVM_ENV_SYSV), so dynamic and static programs of one VM meet at the same objects.
 *    The call runs with the caller's euid, egid, fsgid, groups and effective
 *    capabilities (the object's owner is the creator's euid): here when they are the
 *    supervisor's, else in a forked child that takes them (sysv_as).
 *  - What the VM got is recorded in the CONTROL area's registry, ctl/NAME/ipc (same
 *    line format as the data area's, fvm/ipcname.h: "shmkey MAPPED ORIG" for a key,
 *    "shmid ID 0" for an IPC_PRIVATE object; sem and msg alike), written only here,
 *    outside the fence, so the VM cannot add a host object to it. Concurrent runs of one
 *    VM append to the same file and re-read it when an id is not known yet.
 *  - By-id calls (shmat, shmctl, semop, semtimedop, semctl, msgsnd, msgrcv, msgctl) are
 *    continued (SECCOMP_USER_NOTIF_FLAG_CONTINUE) only for an id whose object is the
 *    VM's: its key (IPC_STAT, read here) is one the registry holds, or it is
 *    IPC_PRIVATE and its id is one the registry holds. The id is a register, not memory:
 *    nothing the VM changes after the check changes what the kernel does, but for one
 *    window — the VM's object removed and its id reused by a host object between the
 *    check and the call (the README's Limitations). Reads are continued for any id:
 *    the *_STAT and *_INFO commands, semctl's GET* commands, shmat with SHM_RDONLY,
 *    as a VM reads host files. Anything else on a foreign id is EACCES, the errno of a
 *    native permission refusal.
 *  - mq_open and mq_unlink are performed HERE for a name carrying the VM's prefix (libfvm
 *    maps every name it passes), EACCES for any other name, read-only opens included (a
 *    reader consumes the host's messages). The queue is opened with the caller's fsuid,
 *    fsgid and groups and umask (notify_as), and its descriptor installed in the caller
 *    as the call's result (SECCOMP_ADDFD_FLAG_SEND). Queues the VM creates are recorded
 *    in the control area's registry for fvm rm. /dev/mqueue paths are Landlock's:
 *    fence.c grants no write beneath it.
 *  - i386: the direct SysV calls and the multiplexed ipc(2) are refused (ENOSYS: the
 *    filter refuses ipc whole, its version bits would hide the call; the direct calls
 *    route nowhere here). mq_open/mq_unlink are served for both ABIs.
 *  - The notification id is checked after each read of the caller before a decision.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fvm/ipcname.h"
#include "run.h"
#include "store/ipc_store.h"
#include "store/store.h"

#ifndef SHM_STAT_ANY
#define SHM_STAT_ANY 15
#endif
#ifndef SEM_STAT_ANY
#define SEM_STAT_ANY 20
#endif
#ifndef MSG_STAT_ANY
#define MSG_STAT_ANY 13
#endif

enum sysv_kind { SYSV_SHM, SYSV_SEM, SYSV_MSG };

static const char *const key_kind[] = {"shmkey", "semkey", "msgkey"};
static const char *const id_kind[] = {"shmid", "semid", "msgid"};

/* One object of the VM: a key (KEY != 0), or an IPC_PRIVATE object's id. */
struct sysv_obj {
	enum sysv_kind kind;
	int32_t key;
	int id;
};

struct ipc_guard {
	char prefix[FVM_IPC_PREFIX_MAX];
	char ctldir[PATH_MAX];
	struct sysv_obj *objs;
	size_t nobjs, cap;
};

int ipc_guard_prepare(struct ipc_guard **out, const char *vmdir)
{
	struct ipc_guard *g = calloc(1, sizeof(*g));

	if (!g) {
		return -ENOMEM;
	}
	if (fvm_ipc_prefix(vmdir, g->prefix, sizeof(g->prefix)) < 0 ||
	    store_ctl_path(vmdir, g->ctldir, sizeof(g->ctldir)) < 0) {
		free(g);
		return -ENAMETOOLONG;
	}
	*out = g;
	return 0;
}

static bool known(const struct ipc_guard *g, enum sysv_kind kind, int32_t key, int id)
{
	for (size_t i = 0; i < g->nobjs; i++) {
		const struct sysv_obj *o = &g->objs[i];
		if (o->kind == kind && o->key == key && (key != IPC_PRIVATE || o->id == id)) {
			return true;
		}
	}
	return false;
}

static void remember(struct ipc_guard *g, enum sysv_kind kind, int32_t key, int id)
{
	if (known(g, kind, key, id)) {
		return;
	}
	if (g->nobjs == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 16;
		struct sysv_obj *o = realloc(g->objs, cap * sizeof(*o));
		if (!o) {
			return; /* the registry file still has it: re-read on a miss */
		}
		g->objs = o;
		g->cap = cap;
	}
	g->objs[g->nobjs++] = (struct sysv_obj){kind, key, key == IPC_PRIVATE ? id : 0};
}

/* One line of the control area's registry (written here; checked all the same). */
static int load_line(const char *kind, const char *mapped, const char *orig, void *arg)
{
	struct ipc_guard *g = arg;
	int32_t a, b;

	for (int k = SYSV_SHM; k <= SYSV_MSG; k++) {
		if (strcmp(kind, key_kind[k]) == 0 && store_ipc_parse_int32(mapped, &a) && store_ipc_parse_int32(orig, &b) &&
		    b != IPC_PRIVATE && a == fvm_ipc_key(g->prefix, b)) {
			remember(g, (enum sysv_kind)k, a, 0);
		} else if (strcmp(kind, id_kind[k]) == 0 && store_ipc_parse_int32(mapped, &a) && a >= 0) {
			remember(g, (enum sysv_kind)k, IPC_PRIVATE, a);
		}
	}
	return 0;
}

/* Records an object the VM got, in memory and (when new) in the control area. */
static void record(struct ipc_guard *g, enum sysv_kind kind, int32_t vkey, int32_t rkey, int id)
{
	char mapped[16], orig[16];

	if (known(g, kind, rkey, id)) {
		return;
	}
	remember(g, kind, rkey, id);
	if (vkey == IPC_PRIVATE) {
		snprintf(mapped, sizeof(mapped), "%d", id);
		snprintf(orig, sizeof(orig), "0");
		fvm_ipc_record(g->ctldir, id_kind[kind], mapped, orig);
	} else {
		snprintf(mapped, sizeof(mapped), "%d", (int)rkey);
		snprintf(orig, sizeof(orig), "%d", (int)vkey);
		fvm_ipc_record(g->ctldir, key_kind[kind], mapped, orig);
	}
}

void ipc_guard_end(const char *vmdir)
{
	char prefix[FVM_IPC_PREFIX_MAX], dir[PATH_MAX];
	int lock;

	if (!vmdir || fvm_ipc_prefix(vmdir, prefix, sizeof(prefix)) < 0 ||
	    fvm_ipc_shmdir(prefix, dir, sizeof(dir)) < 0) {
		return;
	}
	/* Exclusive: no other run of the VM holds its lock (a run takes it before it makes
	 * the directory, fence.c); nonblocking: never wait for one. */
	if ((lock = store_vm_lock(vmdir, true, true)) >= 0) {
		rmdir(dir); /* only when empty: the VM's objects stay until fvm rm */
		close(lock);
	}
}

/* ---- the caller's credentials, for the get calls ---- */

static bool same_creds(const struct notify_creds *a, const struct notify_creds *b)
{
	return a->euid == b->euid && a->egid == b->egid && a->fsgid == b->fsgid && a->capeff == b->capeff &&
	       a->ngroups == b->ngroups && memcmp(a->groups, b->groups, (size_t)a->ngroups * sizeof(gid_t)) == 0;
}

/* Takes C's ids and effective capabilities in a forked child (raw per-task calls). */
static int take_creds(const struct notify_creds *c)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];

	notify_creds_forget();
	if (syscall(SYS_setgroups, c->ngroups, c->groups) < 0 ||
	    syscall(SYS_setresgid, -1, c->egid, -1) < 0 || syscall(SYS_setresuid, -1, c->euid, -1) < 0) {
		return -EPERM;
	}
	syscall(SYS_setfsgid, c->fsgid);
	if (syscall(SYS_capget, &h, d) < 0) {
		return -EPERM;
	}
	d[0].effective = (uint32_t)c->capeff & d[0].permitted;
	d[1].effective = (uint32_t)(c->capeff >> 32) & d[1].permitted;
	return syscall(SYS_capset, &h, d) < 0 ? -EPERM : 0;
}

/*
 * FN(ARG) with PID's euid, egid, fsgid, groups and effective capabilities; a result
 * >= 0 (an id) or -errno.
 */
static long sysv_as(pid_t pid, long (*fn)(void *arg), void *arg)
{
	struct notify_creds caller, mine;
	int pipefd[2], status;
	long r = -EIO;

	if (notify_creds_of(pid, &caller) < 0) {
		return -ESRCH;
	}
	if (notify_creds_of(0, &mine) == 0 && same_creds(&caller, &mine)) {
		return fn(arg);
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		return -errno;
	}
	pid_t child = fork();
	if (child < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -errno;
	}
	if (child == 0) {
		long v = take_creds(&caller);
		if (v == 0) {
			v = fn(arg);
		}
		_exit(write(pipefd[1], &v, sizeof(v)) == sizeof(v) ? 0 : 1);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &r, sizeof(r)) != sizeof(r)) {
		r = -EIO;
	}
	close(pipefd[0]);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
	}
	return r;
}

/* ---- SysV get calls: performed here ---- */

struct get_args {
	enum sysv_kind kind;
	int32_t key;
	uint64_t a1, a2; /* size and flags, nsems and flags, flags */
};

static long get_cb(void *arg)
{
	const struct get_args *a = arg;
	long r;

	switch (a->kind) {
	case SYSV_SHM:
		r = syscall(SYS_shmget, (key_t)a->key, (size_t)a->a1, (int)a->a2);
		break;
	case SYSV_SEM:
		r = syscall(SYS_semget, (key_t)a->key, (int)a->a1, (int)a->a2);
		break;
	case SYSV_MSG:
	default:
		r = syscall(SYS_msgget, (key_t)a->key, (int)a->a1);
		break;
	}
	return r < 0 ? -errno : r;
}

static long sysv_get(const struct notify *n, const struct seccomp_notif *req, bool *cont, enum sysv_kind kind)
{
	struct ipc_guard *g = n->ipcg;
	int32_t vkey = (int32_t)(uint32_t)req->data.args[0];
	struct get_args a = {kind, vkey == IPC_PRIVATE ? IPC_PRIVATE : fvm_ipc_key(g->prefix, vkey),
			     req->data.args[1], req->data.args[2]};

	*cont = false;
	if (req->data.arch != AUDIT_ARCH_X86_64) {
		return -ENOSYS;
	}
	long id = sysv_as((pid_t)req->pid, get_cb, &a);
	if (id >= 0) {
		record(g, kind, vkey, a.key, (int)id);
	}
	return id;
}

long ipc_guard_shmget(const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	return sysv_get(n, req, cont, SYSV_SHM);
}

long ipc_guard_semget(const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	return sysv_get(n, req, cont, SYSV_SEM);
}

long ipc_guard_msgget(const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	return sysv_get(n, req, cont, SYSV_MSG);
}

/* ---- SysV by-id calls: continued for the VM's objects ---- */

/* The key of object ID of KIND (IPC_STAT); 0 or -errno. */
static int key_of(enum sysv_kind kind, int id, int32_t *key)
{
	struct shmid_ds shm;
	struct semid_ds sem;
	struct msqid_ds msg;
	long r;

	switch (kind) {
	case SYSV_SHM:
		r = syscall(SYS_shmctl, id, IPC_STAT, &shm);
		*key = (int32_t)shm.shm_perm.__key;
		break;
	case SYSV_SEM:
		r = syscall(SYS_semctl, id, 0, IPC_STAT, &sem);
		*key = (int32_t)sem.sem_perm.__key;
		break;
	case SYSV_MSG:
	default:
		r = syscall(SYS_msgctl, id, IPC_STAT, &msg);
		*key = (int32_t)msg.msg_perm.__key;
		break;
	}
	return r < 0 ? -errno : 0;
}

/* Whether object ID of KIND is the VM's: 0 (yes), -EACCES, or the IPC_STAT errno. */
static long vm_object(struct ipc_guard *g, enum sysv_kind kind, int id)
{
	int32_t key = 0;
	int r = key_of(kind, id, &key);

	if (r < 0) {
		return r;
	}
	if (known(g, kind, key, id)) {
		return 0;
	}
	/* Another run of the VM may have got it: re-read the control area's registry. */
	fvm_ipc_each(g->ctldir, load_line, g);
	return known(g, kind, key, id) ? 0 : -EACCES;
}

/* READ: the call only reads, continued for any id; else for the VM's objects only. */
static long by_id(const struct notify *n, const struct seccomp_notif *req, bool *cont, enum sysv_kind kind,
		  bool read)
{
	*cont = false;
	if (req->data.arch != AUDIT_ARCH_X86_64) {
		return -ENOSYS;
	}
	long r = read ? 0 : vm_object(n->ipcg, kind, (int)(uint32_t)req->data.args[0]);
	if (r == 0 && notify_valid(n, req->id)) {
		*cont = true;
	}
	return r;
}

/* A ctl command's low byte (i386's IPC_64 bit aside): reads of status and limits. */
static bool ctl_reads(uint64_t cmd, int stat, int stat_any, int info)
{
	int c = (int)(cmd & 0xff);
	return c == IPC_STAT || c == IPC_INFO || c == stat || c == stat_any || c == info;
}

long ipc_guard_shmat(const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	return by_id(n, req, cont, SYSV_SHM, (req->data.args[2] & SHM_RDONLY) != 0);
}

long ipc_guard_shmctl(const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	return by_id(n, req, cont, SYSV_SHM, ctl_reads(req->data.args[1], SHM_STAT, SHM_STAT_ANY, SHM_INFO));
}

long ipc_guard_semop(const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	return by_id(n, req, cont, SYSV_SEM, false);
}

long ipc_guard_semctl(const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	int c = (int)(req->data.args[2] & 0xff);
	bool get = c == GETPID || c == GETVAL || c == GETALL || c == GETNCNT || c == GETZCNT;
	return by_id(n, req, cont, SYSV_SEM, get || ctl_reads(req->data.args[2], SEM_STAT, SEM_STAT_ANY, SEM_INFO));
}

long ipc_guard_msgsnd(const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	return by_id(n, req, cont, SYSV_MSG, false);
}

long ipc_guard_msgrcv(const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	return by_id(n, req, cont, SYSV_MSG, false); /* a receive consumes the message */
}

long ipc_guard_msgctl(const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	return by_id(n, req, cont, SYSV_MSG, ctl_reads(req->data.args[1], MSG_STAT, MSG_STAT_ANY, MSG_INFO));
}

/* ---- POSIX queues: performed here, for the VM's names ---- */

/* Reads the queue name at ADDR (the system call's, without glibc's '/'); 0 when it is
 * the VM's, -EACCES when not, -errno when it cannot be read. */
static int queue_name(const struct notify *n, const struct seccomp_notif *req, char *name, size_t size)
{
	const char *pfx = n->ipcg->prefix;
	int r = notify_read_str((pid_t)req->pid, req->data.args[0], name, size);

	if (r < 0) {
		return r;
	}
	if (!notify_valid(n, req->id)) {
		return -ESRCH;
	}
	if (strncmp(name, pfx, strlen(pfx)) != 0 || strchr(name, '/')) {
		return -EACCES;
	}
	return 0;
}


struct mq_args {
	const struct notify *n;
	uint64_t id;
	const char *name;
	int oflag;
	mode_t mode, umask;
	struct mq_attr *attr;
};

static long mq_open_cb(void *arg)
{
	const struct mq_args *a = arg;
	mode_t old = umask(a->umask);
	long q = syscall(SYS_mq_open, a->name, a->oflag & ~O_CLOEXEC, a->mode, a->attr);
	int e = errno;

	umask(old);
	if (q < 0) {
		return -e;
	}
	/* Installed in the caller as the result of its call: the notification is answered. */
	long r = notify_addfd_send(a->n, a->id, (int)q, a->oflag & O_CLOEXEC);
	close((int)q);
	return r < 0 ? r : 0;
}

long ipc_guard_mq_open(const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	char name[NAME_MAX + 1];
	struct mq_attr attr;
	struct mq_args a = {n, req->id, name, (int)(uint32_t)req->data.args[1],
			    (mode_t)(req->data.args[2] & 07777), notify_umask_of((pid_t)req->pid), NULL};
	int r;

	*cont = false;
	if ((r = queue_name(n, req, name, sizeof(name))) < 0) {
		return r;
	}
	if ((a.oflag & O_CREAT) && req->data.args[3]) {
		memset(&attr, 0, sizeof(attr));
		if (req->data.arch == AUDIT_ARCH_X86_64) {
			r = notify_read((pid_t)req->pid, req->data.args[3], &attr, sizeof(attr));
		} else { /* i386: four 32-bit longs */
			int32_t l[4];
			r = notify_read((pid_t)req->pid, req->data.args[3], l, sizeof(l));
			attr.mq_flags = l[0];
			attr.mq_maxmsg = l[1];
			attr.mq_msgsize = l[2];
		}
		if (r < 0) {
			return r;
		}
		if (!notify_valid(n, req->id)) {
			return -ESRCH;
		}
		a.attr = &attr;
	}
	long q = notify_as((pid_t)req->pid, mq_open_cb, &a);
	if (q == 0 && (a.oflag & O_CREAT)) {
		fvm_ipc_record(n->ipcg->ctldir, "mq", name, name + strlen(n->ipcg->prefix));
	}
	return q;
}

static long mq_unlink_cb(void *arg)
{
	return syscall(SYS_mq_unlink, (const char *)arg) < 0 ? -errno : 0;
}

long ipc_guard_mq_unlink(const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	char name[NAME_MAX + 1];
	int r;

	*cont = false;
	if ((r = queue_name(n, req, name, sizeof(name))) < 0) {
		return r;
	}
	return notify_as((pid_t)req->pid, mq_unlink_cb, name);
}
