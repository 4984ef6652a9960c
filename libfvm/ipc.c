/*
 * ipc.c — POSIX shm, semaphores and message queues, SysV keys and ftok: the VM's own
 * names for the IPC objects processes meet by name.
 *
 * Every name-taking call funnels into map_posix() and every key-taking call into
 * map_key(). The prefix and the /dev/shm and /dev/mqueue hooks that path lookup needs
 * are ipcdir.c's, below this file.
 *
 * Invariants:
 *  - Inside a VM, a POSIX name N becomes the VM's prefix + N (fvm/ipcname.h), shortened
 *    stably when that would exceed the kernel's or libc's limit; a name that is invalid
 *    natively is passed on unchanged, so it fails exactly as it would natively.
 *  - Every SysV key but IPC_PRIVATE is mapped, so two VMs using key K get two objects.
 *  - What a VM creates is appended to its registry (ROOT/ipc), so fvm rm can remove it.
 *  - ftok of a file copied up gives the key of the host file it came from, so a key
 *    stays the same before and after the copy-up.
 *  - Unversioned exports: the dynamic linker binds a reference to any version of these
 *    names (shm_open@GLIBC_2.2.5 and @GLIBC_2.34 alike) to them; the real function is
 *    libc's default version, the same code.
 */
#include <limits.h>
#include <mqueue.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>

#include "fvm/ipcname.h"
#include "fvm/mqbroker.h"
#include "fvm/path.h"
#include "libfvm.h"

/* The three POSIX kinds: their registry name and the longest name libc/kernel take. */
enum posix_kind { KIND_SHM, KIND_SEM, KIND_MQ };

static const struct {
	const char *reg;
	size_t limit; /* longest name without its leading '/' */
	bool need_slash; /* mq_open insists on a leading '/' */
} kinds[] = {
	/* One /dev/shm component; semaphores live there as "sem." NAME. */
	[KIND_SHM] = {"shm", NAME_MAX, false},
	[KIND_SEM] = {"sem", NAME_MAX - 4, false},
	[KIND_MQ] = {"mq", NAME_MAX, true},
};

/*
 * Maps the POSIX name VNAME of KIND into OUT ("/" + mapped). Returns 1 when mapped,
 * 0 when the call must go on with VNAME unchanged (not in a VM), -errno for a name that
 * fails natively (with libc's and the kernel's errno), never reaching the host's names.
 */
static int map_posix(enum posix_kind kind, const char *vname, char *out, size_t outlen)
{
	const char *pfx, *base = vname;
	size_t len;
	int n;

	if (!fvm_on() || fvm_bad_ptr(vname) || !(pfx = fvm_ipc_prefix_get())) {
		return 0;
	}
	if (kinds[kind].need_slash) {
		if (base[0] != '/') {
			return -EINVAL;
		}
		base++;
	} else {
		while (*base == '/') {
			base++;
		}
	}
	len = strlen(base);
	if (len == 0 || strchr(base, '/')) {
		return -EINVAL;
	}
	if (len > kinds[kind].limit) {
		return -ENAMETOOLONG;
	}
	out[0] = '/';
	n = fvm_ipc_map(pfx, base, len, kinds[kind].limit, out + 1, outlen - 1);
	return n < 0 ? n : 1;
}

/* Registers the object RNAME (mapped from VNAME) that a call with OFLAG returned OK. */
static void record(enum posix_kind kind, bool ok, int oflag, const char *rname, const char *vname)
{
	const char *orig = vname;
	int saved = errno;

	if (!ok || !(oflag & O_CREAT)) {
		return;
	}
	while (*orig == '/') {
		orig++;
	}
	fvm_ipc_record(fvm_g.root, kinds[kind].reg, rname + 1, orig);
	errno = saved;
}

/*
 * The real path of mapped name RNAME ("/" + mapped) of KIND (shm or sem) in the VM's
 * directory beneath /dev/shm, into OUT. glibc's shm_open and sem_open take no
 * directory (a name with a '/' is EINVAL), so libfvm opens the objects itself, as
 * glibc does: the same flags, the same file contents. Returns 0 or -errno.
 */
static int shm_path(enum posix_kind kind, const char *rname, char *out, size_t outlen)
{
	const char *dir = fvm_ipc_shmdir_get();
	int n = dir ? snprintf(out, outlen, "%s/%s%s", dir, kind == KIND_SEM ? "sem." : "", rname + 1) : -1;

	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

/* The VM's directory beneath /dev/shm, made when missing (fvm-exec makes it before the
 * fence, so this only happens to a run without fvm-exec's fence). */
static void shm_dir_make(void)
{
	const char *dir = fvm_ipc_shmdir_get();

	if (dir) {
		sys_mkdirat(AT_FDCWD, dir, 0700);
	}
}

/* glibc's answer for a name it unlinks: EPERM is reported as EACCES. */
static int unlink_ret(int r)
{
	return r == -EPERM ? -EACCES : r;
}

int shm_open(const char *vname, int oflag, mode_t mode)
{
	char rname[NAME_MAX + 2], rpath[PATH_MAX];
	int m = map_posix(KIND_SHM, vname, rname, sizeof(rname)), fd;

	if (m <= 0) {
		return m < 0 ? fvm_ret(m) : REAL(shm_open)(vname, oflag, mode);
	}
	if ((m = shm_path(KIND_SHM, rname, rpath, sizeof(rpath))) < 0) {
		return fvm_ret(m);
	}
	fd = sys_openat(AT_FDCWD, rpath, oflag | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd == -ENOENT && (oflag & O_CREAT)) {
		shm_dir_make();
		fd = sys_openat(AT_FDCWD, rpath, oflag | O_NOFOLLOW | O_CLOEXEC, mode);
	}
	record(KIND_SHM, fd >= 0, oflag, rname, vname);
	return fd < 0 ? fvm_ret(fd) : fd;
}

int shm_unlink(const char *vname)
{
	char rname[NAME_MAX + 2], rpath[PATH_MAX];
	int m = map_posix(KIND_SHM, vname, rname, sizeof(rname));

	if (m <= 0) {
		return m < 0 ? fvm_ret(m) : REAL(shm_unlink)(vname);
	}
	if ((m = shm_path(KIND_SHM, rname, rpath, sizeof(rpath))) < 0) {
		return fvm_ret(m);
	}
	m = unlink_ret(sys_unlinkat(AT_FDCWD, rpath, 0));
	return m < 0 ? fvm_ret(m) : 0;
}

/*
 * The semaphores libfvm mapped, so that sem_close unmaps them (glibc's sem_close knows
 * only its own). A short list under a spin lock: processes hold few named semaphores.
 */
struct sem_map {
	sem_t *sem;
	struct sem_map *next;
};
static struct sem_map *sem_maps;
static int sem_lock;

static void sem_maps_lock(void)
{
	while (__atomic_exchange_n(&sem_lock, 1, __ATOMIC_ACQUIRE)) {
	}
}

static void sem_maps_unlock(void)
{
	__atomic_store_n(&sem_lock, 0, __ATOMIC_RELEASE);
}

/* A random word for a temporary name (a counter mixed in when getrandom fails). */
static unsigned long sem_random(void)
{
	static unsigned long counter;
	unsigned long r = 0;

	if (FVM_SC(SYS_getrandom, &r, sizeof(r), 0, 0, 0, 0) != (long)sizeof(r)) {
		r = (unsigned long)FVM_SC(SYS_getpid, 0, 0, 0, 0, 0, 0) * 2654435761UL +
		    __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
	}
	return r;
}

/* Maps the semaphore file FD (closed here). Returns the semaphore or NULL with -errno in *ERR. */
static sem_t *sem_map_fd(int fd, int *err)
{
	struct sem_map *e = malloc(sizeof(*e));
	void *p = e ? sys_mmap(NULL, sizeof(sem_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : NULL;

	sys_close(fd);
	if (!e || (unsigned long)p > -4096UL) {
		*err = e ? (int)(long)p : -ENOMEM;
		free(e);
		return NULL;
	}
	e->sem = p;
	sem_maps_lock();
	e->next = sem_maps;
	sem_maps = e;
	sem_maps_unlock();
	return p;
}

/*
 * sem_open of RPATH as glibc does it: an existing file is opened read-write and mapped;
 * a new one is written whole under a temporary name in the same directory, then linked
 * into place (EEXIST: another process made it first; without O_EXCL, open that one).
 * Returns the semaphore or NULL with -errno in *ERR.
 */
static sem_t *sem_open_path(const char *rpath, int oflag, mode_t mode, unsigned value, int *err)
{
	char tmp[PATH_MAX];
	const char *slash = strrchr(rpath, '/');
	sem_t init;
	int fd;

	if ((oflag & O_CREAT) && value > SEM_VALUE_MAX) {
		*err = -EINVAL;
		return NULL;
	}
	for (int tries = 0; tries < 100; tries++) {
		if (!(oflag & O_CREAT) || !(oflag & O_EXCL)) {
			fd = sys_openat(AT_FDCWD, rpath, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
			if (fd >= 0) {
				return sem_map_fd(fd, err);
			}
			if (fd != -ENOENT || !(oflag & O_CREAT)) {
				*err = fd;
				return NULL;
			}
		}
		if (sem_init(&init, 1, value) < 0) {
			*err = -errno;
			return NULL;
		}
		unsigned long r = (unsigned long)sem_random();
		snprintf(tmp, sizeof(tmp), "%.*s/sem.%08lx", (int)(slash - rpath), rpath, r & 0xffffffffUL);
		fd = sys_openat(AT_FDCWD, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd == -ENOENT) {
			shm_dir_make();
			fd = sys_openat(AT_FDCWD, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		}
		if (fd == -EEXIST) {
			continue;
		}
		if (fd < 0) {
			*err = fd;
			return NULL;
		}
		if (sys_write(fd, &init, sizeof(init)) != (ssize_t)sizeof(init)) {
			sys_close(fd);
			sys_unlinkat(AT_FDCWD, tmp, 0);
			*err = -EIO;
			return NULL;
		}
		int l = sys_linkat(AT_FDCWD, tmp, AT_FDCWD, rpath, 0);
		sys_unlinkat(AT_FDCWD, tmp, 0);
		if (l == 0) {
			return sem_map_fd(fd, err);
		}
		sys_close(fd);
		if (l != -EEXIST || (oflag & O_EXCL)) {
			*err = l;
			return NULL;
		}
	}
	*err = -EAGAIN;
	return NULL;
}

sem_t *sem_open(const char *vname, int oflag, ...)
{
	char rname[NAME_MAX + 2], rpath[PATH_MAX];
	mode_t mode = 0;
	unsigned value = 0;
	int m = map_posix(KIND_SEM, vname, rname, sizeof(rname)), err = 0;
	sem_t *sem;

	if (oflag & O_CREAT) {
		va_list ap;
		va_start(ap, oflag);
		mode = va_arg(ap, mode_t);
		value = va_arg(ap, unsigned);
		va_end(ap);
	}
	if (m == 0) {
		return REAL(sem_open)(vname, oflag, mode, value);
	}
	if (m < 0 || (m = shm_path(KIND_SEM, rname, rpath, sizeof(rpath))) < 0) {
		errno = -m;
		return SEM_FAILED;
	}
	sem = sem_open_path(rpath, oflag, mode, value, &err);
	record(KIND_SEM, sem != NULL, oflag, rname, vname);
	if (!sem) {
		errno = -err;
		return SEM_FAILED;
	}
	return sem;
}

int sem_close(sem_t *sem)
{
	struct sem_map **pp, *e = NULL;

	sem_maps_lock();
	for (pp = &sem_maps; *pp; pp = &(*pp)->next) {
		if ((*pp)->sem == sem) {
			e = *pp;
			*pp = e->next;
			break;
		}
	}
	sem_maps_unlock();
	if (!e) {
		return REAL(sem_close)(sem);
	}
	free(e);
	return sys_munmap(sem, sizeof(sem_t)) < 0 ? fvm_ret(-EINVAL) : 0;
}

int sem_unlink(const char *vname)
{
	char rname[NAME_MAX + 2], rpath[PATH_MAX];
	int m = map_posix(KIND_SEM, vname, rname, sizeof(rname));

	if (m <= 0) {
		return m < 0 ? fvm_ret(m) : REAL(sem_unlink)(vname);
	}
	if ((m = shm_path(KIND_SEM, rname, rpath, sizeof(rpath))) < 0) {
		return fvm_ret(m);
	}
	m = unlink_ret(sys_unlinkat(AT_FDCWD, rpath, 0));
	return m < 0 ? fvm_ret(m) : 0;
}

/* ---- the queue broker of a fenced run (fvm/mqbroker.h) ---- */

static int broker_fd = -1;
static pid_t broker_pid;

/*
 * The decimal number at S (digits only, as fvm-exec writes it), *END after it; stops at
 * INT_MAX. Not strtol: a start that calls it binds it and faults in its code and the
 * locale's ctype table, in every process of a VM (issue 15).
 */
static long start_dec(const char *s, const char **end)
{
	long v = 0;

	while (*s >= '0' && *s <= '9' && v < INT_MAX) {
		v = v * 10 + (*s++ - '0');
	}
	*end = s;
	return v;
}

/* Reads FVM_ENV_MQ ("FD:PID") as the process starts; the environment may change later. */
__attribute__((constructor)) static void broker_init(void)
{
	const char *v = fvm_getenv(FVM_ENV_MQ);
	const char *end;

	if (v && *v) {
		long fd = start_dec(v, &end);
		if (end != v && *end == ':' && fd >= 0 && fd < INT_MAX) {
			long pid = start_dec(end + 1, &end);
			broker_pid = (pid_t)pid;
			broker_fd = *end == '\0' && pid < INT_MAX ? (int)fd : -1;
		}
	}
}

/* The broker's socket when FVM_ENV_MQ named one and the fd is still it, else -1. */
static int broker_sock(void)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int type;
	socklen_t tlen = sizeof(type);

	/* A program may have closed the fd and reused its number. */
	if (broker_fd < 0 ||
	    sys_getsockopt(broker_fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 || type != SOCK_SEQPACKET ||
	    sys_getsockopt(broker_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    cred.pid != broker_pid) {
		return -1;
	}
	return broker_fd;
}

/* The process's umask, read without changing it (threads may be creating files). */
static mode_t current_umask(void)
{
	char buf[1024];
	int fd = sys_openat(AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC, 0);
	ssize_t n = fd >= 0 ? sys_read(fd, buf, sizeof(buf) - 1) : -1;
	const char *u;

	if (fd >= 0) {
		sys_close(fd);
	}
	if (n <= 0) {
		return 022;
	}
	buf[n] = '\0';
	u = strstr(buf, "Umask:");
	return u ? (mode_t)strtoul(u + 6, NULL, 8) & 0777 : 022;
}

/*
 * Opens queue RNAME (mapped) through the broker SOCK, as mq_open(RNAME, OFLAG, MODE,
 * ATTR) would. Returns the queue descriptor or -errno.
 */
static int broker_open(int sock, const char *rname, int oflag, mode_t mode, const struct mq_attr *attr)
{
	struct fvm_mq_request req = {.version = FVM_MQ_VERSION, .oflag = oflag & FVM_MQ_OFLAGS,
				     .mode = mode, .umask = current_umask(), .has_attr = attr != NULL};
	struct fvm_mq_reply rep;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = {.iov_base = &req, .iov_len = sizeof(req)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	int sv[2], q = -1;
	ssize_t n;

	if (attr) {
		req.maxmsg = attr->mq_maxmsg;
		req.msgsize = attr->mq_msgsize;
	}
	snprintf(req.name, sizeof(req.name), "%s", rname);
	if (sys_socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		return -errno;
	}
	/* The answer comes on a socketpair of this request: no other process reads it. */
	memset(&u, 0, sizeof(u));
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &sv[1], sizeof(int));
	n = sys_sendmsg(sock, &msg, MSG_NOSIGNAL);
	sys_close(sv[1]);
	if (n != (ssize_t)sizeof(req)) {
		sys_close(sv[0]);
		return n < 0 ? -errno : -EIO;
	}
	iov.iov_base = &rep;
	iov.iov_len = sizeof(rep);
	msg.msg_controllen = sizeof(u.buf);
	do {
		n = sys_recvmsg(sv[0], &msg, (oflag & O_CLOEXEC) ? MSG_CMSG_CLOEXEC : 0);
	} while (n < 0 && errno == EINTR);
	sys_close(sv[0]);
	c = n >= 0 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
		memcpy(&q, CMSG_DATA(c), sizeof(int));
	}
	if (n != (ssize_t)sizeof(rep)) {
		if (q >= 0) {
			sys_close(q);
		}
		return n < 0 ? -errno : -EIO;
	}
	if (rep.err != 0 || q < 0) {
		return rep.err ? -rep.err : -EIO;
	}
	return q;
}

static mqd_t mq_open_common(const char *vname, int oflag, mode_t mode, struct mq_attr *attr)
{
	char rname[NAME_MAX + 2];
	int m = map_posix(KIND_MQ, vname, rname, sizeof(rname));
	mqd_t q;

	if (m < 0) {
		return fvm_ret(m);
	}
	int sock = m && (oflag & O_ACCMODE) != O_RDONLY ? broker_sock() : -1;
	if (sock >= 0) {
		/* Under the fence with no mqueue mount: a direct open for writing is EACCES
		 * (and, with O_CREAT, would leave the queue made), so the broker opens it. */
		int r = broker_open(sock, rname, oflag, mode, (oflag & O_CREAT) ? attr : NULL);
		q = r < 0 ? fvm_ret(r) : r;
	} else {
		q = (oflag & O_CREAT) ? REAL(mq_open)(m ? rname : vname, oflag, mode, attr)
				      : REAL(mq_open)(m ? rname : vname, oflag);
	}
	record(KIND_MQ, m && q != (mqd_t)-1, oflag, rname, vname);
	return q;
}

mqd_t mq_open(const char *vname, int oflag, ...)
{
	mode_t mode = 0;
	struct mq_attr *attr = NULL;

	if (oflag & O_CREAT) {
		va_list ap;
		va_start(ap, oflag);
		mode = va_arg(ap, mode_t);
		attr = va_arg(ap, struct mq_attr *);
		va_end(ap);
	}
	return mq_open_common(vname, oflag, mode, attr);
}

/* The fortified mq_open of a call without O_CREAT's arguments. */
mqd_t __mq_open_2(const char *vname, int oflag)
{
	if (oflag & O_CREAT) {
		/* glibc's own answer: O_CREAT without the mode and attr arguments. */
		return REAL(__mq_open_2)(vname, oflag);
	}
	return mq_open_common(vname, oflag, 0, NULL);
}

int mq_unlink(const char *vname)
{
	char rname[NAME_MAX + 2];
	int m = map_posix(KIND_MQ, vname, rname, sizeof(rname));

	return m < 0 ? fvm_ret(m) : REAL(mq_unlink)(m ? rname : vname);
}

/* FVM_ENV_SYSV, read as the process starts: the run's supervisor maps SysV keys. */
static bool sysv_guarded;

__attribute__((constructor)) static void sysv_init(void)
{
	const char *v = fvm_getenv(FVM_ENV_SYSV);
	sysv_guarded = v && strcmp(v, "1") == 0;
}

/* SysV: the three get calls share one key mapping and one registry line. Under the
 * fence the supervisor maps the key (fvm-exec/run/ipcguard.c) with the same function,
 * and records the object in the VM's control area: the key goes through unchanged. */
static key_t map_key(key_t key)
{
	const char *pfx;

	if (key == IPC_PRIVATE || sysv_guarded || !fvm_on() || !(pfx = fvm_ipc_prefix_get())) {
		return key;
	}
	return (key_t)fvm_ipc_key(pfx, (int32_t)key);
}

static int record_key(int id, const char *kind, key_t key, key_t rkey, int flg)
{
	if (id >= 0 && key != rkey && (flg & IPC_CREAT)) {
		char mapped[16], orig[16];
		int saved = errno;
		snprintf(mapped, sizeof(mapped), "%d", (int)rkey);
		snprintf(orig, sizeof(orig), "%d", (int)key);
		fvm_ipc_record(fvm_g.root, kind, mapped, orig);
		errno = saved;
	}
	return id;
}

int shmget(key_t key, size_t size, int flg)
{
	key_t rkey = map_key(key);
	return record_key(REAL(shmget)(rkey, size, flg), "shmkey", key, rkey, flg);
}

int semget(key_t key, int nsems, int flg)
{
	key_t rkey = map_key(key);
	return record_key(REAL(semget)(rkey, nsems, flg), "semkey", key, rkey, flg);
}

int msgget(key_t key, int flg)
{
	key_t rkey = map_key(key);
	return record_key(REAL(msgget)(rkey, flg), "msgkey", key, rkey, flg);
}

/* glibc's ftok, on the host object behind a copied-up file. Returns 0 or -errno. */
static int fvm_ftok(const char *vpath, int proj_id, key_t *key)
{
	struct fvm_res *res;
	struct stat buf;
	const struct stat *st;
	int ret;

	res = malloc(sizeof(*res));
	if (!res) {
		return -ENOMEM;
	}
	ret = fvm_resolve_at(AT_FDCWD, vpath, 0, res);
	if (ret == 0 && res->where == FVM_ABSENT) {
		ret = -ENOENT;
	}
	if (ret < 0) {
		free(res);
		return ret;
	}
	st = res->where == FVM_UPPER ? fvm_host_view(res, &buf) : &res->st;
	*key = (key_t)((st->st_ino & 0xffff) | ((st->st_dev & 0xff) << 16) |
		       ((unsigned)(proj_id & 0xff) << 24));
	free(res);
	return 0;
}

key_t ftok(const char *vpath, int proj_id)
{
	if (!fvm_on()) {
		return REAL(ftok)(vpath, proj_id);
	}
	key_t key;
	int ret = fvm_ftok(vpath, proj_id, &key);
	return ret < 0 ? fvm_ret(ret) : key;
}
