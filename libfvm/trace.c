/*
 * trace.c — what a process of a traced run reports to its supervisor (fvm-exec
 * --trace; the records: fvm/trace.h): the files it read, wrote, made, removed and
 * renamed, the programs it ran, the environment variables it asked for and the
 * addresses it connected or sent to. Also getenv and secure_getenv, which are libfvm's
 * so that a variable the program asks for can be noted.
 *
 * Rules:
 *  - Off (FVM_TRACE unset) a wrapper pays one load and one branch: fvm_tracing.
 *  - On, a record is appended to one buffer per process and sent as one datagram when
 *    the buffer is full, before an exec (the exec replaces the buffer) and at exit. No
 *    file is read and nothing is hashed here: the supervisor hashes after the run.
 *  - A read's identity (dev, ino, size, mtime, ctime) is the fstat of the descriptor
 *    the program got, taken by the caller.
 *  - Repeats are dropped in the process: a small table of hashes of what was recorded
 *    (a collision drops a record the run's other processes may still report; the
 *    supervisor keeps each input once anyway).
 *  - The socket is connected at the first flush, moved to a high descriptor and
 *    close-on-exec. A program that closes it (closefrom) and reuses the number must not
 *    get a batch: its inode is checked (fstat) before every send, and reconnected.
 *  - Threads share the buffer under a spin lock; a signal handler that records while its
 *    thread holds it counts the record as lost (FVM_TR_LOST) rather than wait forever.
 *    A fork child empties its copy of the buffer (the parent sends those records).
 *  - errno is preserved; nothing is printed; a failed send drops the batch.
 */
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "fvm/path.h"
#include "fvm/trace.h"
#include "libfvm.h"

extern char **environ;

bool fvm_tracing;

static char tr_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static char tr_buf[FVM_TRACE_BATCH] __attribute__((aligned(8))) FVM_LARGE_BSS;
static size_t tr_used;
static int tr_lock;
static __thread int tr_inside;
static int tr_sock = -1;
static uint64_t tr_sock_ino;
static unsigned long tr_lost;

#define SEEN_SLOTS 4096
static uint64_t tr_seen[SEEN_SLOTS] FVM_LARGE_BSS;

/* ---- getenv ---------------------------------------------------------------------- */

/* The value of NAME in environ, as glibc's getenv finds it; no record. */
char *fvm_getenv(const char *name)
{
	size_t nl;

	/* glibc's order: no environment, NULL; else the name is read (a NULL or bad name
	 * faults as natively: tests/helpers/badptr.c). */
	if (!environ || !name[0]) {
		return NULL;
	}
	nl = strlen(name);
	/* The first two bytes ("X=" for a one-letter name) weed out the entries first: this
	 * runs on every localtime (nsswrap.c) as well as the program's own getenv. */
	char c0 = name[0], c1 = nl > 1 ? name[1] : '=';
	for (char **e = environ; *e; e++) {
		const char *s = *e;
		if (s[0] == c0 && s[1] == c1 && strncmp(s, name, nl) == 0 && s[nl] == '=') {
			return (char *)s + nl + 1;
		}
	}
	return NULL;
}

char *getenv(const char *name)
{
	char *v = fvm_getenv(name);

	if (__builtin_expect(fvm_tracing, 0) && name) {
		fvm_trace_env(name, v != NULL);
	}
	return v;
}

char *secure_getenv(const char *name)
{
	/* glibc's: nothing for a set-id program (AT_SECURE), else getenv's answer */
	char *v = getauxval(AT_SECURE) ? NULL : fvm_getenv(name);

	if (__builtin_expect(fvm_tracing, 0) && name) {
		fvm_trace_env(name, v != NULL);
	}
	return v;
}

/* ---- the buffer ------------------------------------------------------------------ */

static uint64_t hash_mix(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++) {
		h = (h ^ c[i]) * 0x100000001b3ull;
	}
	return h;
}

/* True when H was recorded before (and notes it now). */
static bool seen(uint64_t h)
{
	h |= 1; /* 0 marks a free slot */
	for (size_t i = 0, s = (size_t)(h >> 7) % SEEN_SLOTS; i < 8; i++, s = (s + 1) % SEEN_SLOTS) {
		if (tr_seen[s] == h) {
			return true;
		}
		if (!tr_seen[s]) {
			tr_seen[s] = h;
			return false;
		}
	}
	return false; /* a full run of slots: recorded again, never lost */
}

static bool take(void)
{
	if (tr_inside) {
		__atomic_add_fetch(&tr_lost, 1, __ATOMIC_RELAXED);
		return false;
	}
	tr_inside = 1;
	while (__atomic_exchange_n(&tr_lock, 1, __ATOMIC_ACQUIRE)) {
		FVM_SC(SYS_sched_yield, 0, 0, 0, 0, 0, 0);
	}
	return true;
}

static void give(void)
{
	__atomic_store_n(&tr_lock, 0, __ATOMIC_RELEASE);
	tr_inside = 0;
}

/* The socket, checked to be still ours; connected when it is not. -1: none. */
static int tr_socket(void)
{
	struct stat st;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (tr_sock >= 0 && sys_fstat(tr_sock, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == tr_sock_ino) {
		return tr_sock;
	}
	tr_sock = -1; /* closed by the program, or its number reused: not ours any more */
	if (!tr_path[0]) {
		return -1;
	}
	fd = sys_socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -1;
	}
	/* Out of the way of programs that expect the lowest free numbers. */
	int high = sys_fcntl(fd, F_DUPFD_CLOEXEC, 900);
	if (high >= 0) {
		sys_close(fd);
		fd = high;
	}
	memcpy(sa.sun_path, tr_path, sizeof(tr_path));
	if (sys_connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || sys_fstat(fd, &st) < 0) {
		sys_close(fd);
		return -1;
	}
	tr_sock_ino = st.st_ino;
	tr_sock = fd;
	return fd;
}

/* Sends the buffer (the lock held). */
static void flush_locked(void)
{
	unsigned long lost = __atomic_exchange_n(&tr_lost, 0, __ATOMIC_RELAXED);

	if (lost && tr_used + sizeof(struct fvm_trace_rec) <= sizeof(tr_buf)) {
		struct fvm_trace_rec *r = (struct fvm_trace_rec *)(tr_buf + tr_used);
		memset(r, 0, sizeof(*r));
		r->len = sizeof(*r);
		r->kind = FVM_TR_LOST;
		r->size = (int64_t)lost;
		tr_used += sizeof(*r);
	}
	if (!tr_used) {
		return;
	}
	int fd = tr_socket();
	if (fd >= 0) {
		ssize_t n;
		do {
			n = sys_sendto(fd, tr_buf, tr_used, MSG_NOSIGNAL);
		} while (n == -EINTR);
	}
	tr_used = 0;
}

void fvm_trace_flush(void)
{
	if (!fvm_tracing) {
		return;
	}
	int saved = errno;
	if (take()) {
		flush_locked();
		give();
	}
	errno = saved;
}

/*
 * Appends a record: KIND, WHERE, ST (NULL: no identity), SIZE (without ST), then the
 * N strings of S. A record that cannot fit even an empty buffer is dropped.
 */
static void put(int kind, int where, const struct stat *st, int64_t size, const char *const *s, size_t n)
{
	size_t len = sizeof(struct fvm_trace_rec), sl[64];

	if (n > 64) {
		n = 64;
	}
	for (size_t i = 0; i < n; i++) {
		sl[i] = strlen(s[i]) + 1;
		len += sl[i];
	}
	len = (len + 7) & ~(size_t)7;
	if (len > sizeof(tr_buf) || len > UINT16_MAX) {
		return;
	}
	int saved = errno;
	if (!take()) {
		errno = saved;
		return;
	}
	if (tr_used + len > sizeof(tr_buf)) {
		flush_locked();
	}
	struct fvm_trace_rec *r = (struct fvm_trace_rec *)(tr_buf + tr_used);
	memset(r, 0, sizeof(*r));
	r->len = (uint16_t)len;
	r->kind = (uint8_t)kind;
	r->where = (uint8_t)where;
	r->nstr = (uint32_t)n;
	r->size = size;
	if (st) {
		r->dev = st->st_dev;
		r->ino = st->st_ino;
		r->size = st->st_size;
		r->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
		r->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
	}
	char *p = (char *)(r + 1);
	for (size_t i = 0; i < n; i++) {
		memcpy(p, s[i], sl[i]);
		p += sl[i];
	}
	memset(p, 0, (size_t)(tr_buf + tr_used + len - p));
	tr_used += len;
	give();
	errno = saved;
}

/* Where RPATH lies: the VM's upper/, a layer of the store, or the host. */
static int where_of(const char *rpath)
{
	if (fvm_path_has_prefix(rpath, strlen(rpath), fvm_g.upper, fvm_g.upper_len)) {
		return FVM_TR_VM;
	}
	if (fvm_g.home_len && fvm_path_has_prefix(rpath, strlen(rpath), fvm_g.home, fvm_g.home_len)) {
		return FVM_TR_LAYER;
	}
	return FVM_TR_HOST;
}

/* ---- what the wrappers call ------------------------------------------------------- */

void fvm_trace_open(int fd, int flags, const char *rpath, const char *vpath)
{
	struct stat st;

	if (fd < 0) {
		return;
	}
	if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC))) {
		if (!seen(hash_mix(hash_mix(0xcbf29ce484222325ull, "W", 1), vpath, strlen(vpath)))) {
			put(FVM_TR_WRITE, 0, NULL, 0, &vpath, 1);
		}
		return;
	}
	if (sys_fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		return; /* a directory's listing, a device, a pipe: not an input's content */
	}
	uint64_t h = hash_mix(0xcbf29ce484222325ull, &st.st_ino, sizeof(st.st_ino));
	h = hash_mix(h, &st.st_mtim, sizeof(st.st_mtim));
	h = hash_mix(h, rpath, strlen(rpath));
	if (seen(h)) {
		return;
	}
	const char *s[2] = {rpath, strcmp(rpath, vpath) == 0 ? "" : vpath};
	put(FVM_TR_READ, where_of(rpath), &st, 0, s, 2);
}

void fvm_trace_name(int kind, const char *vpath, const char *vpath2)
{
	const char *s[2] = {vpath, vpath2};

	put(kind, 0, NULL, 0, s, vpath2 ? 2 : 1);
}

void fvm_trace_exec(const char *rprog, const char *name, char *const argv[])
{
	const char *s[64];
	struct stat st;
	size_t n = 0;
	bool have = sys_fstatat(AT_FDCWD, rprog, &st, 0) == 0;

	s[n++] = rprog;
	s[n++] = name ? name : "";
	for (size_t i = 0; argv && argv[i] && n < 64; i++) {
		s[n++] = argv[i];
	}
	put(FVM_TR_EXEC, where_of(rprog), have ? &st : NULL, 0, s, n);
}

void fvm_trace_env(const char *name, bool set)
{
	uint64_t h = hash_mix(hash_mix(0xcbf29ce484222325ull, "E", 1), name, strlen(name));

	if (!seen(h)) {
		put(FVM_TR_ENV, 0, NULL, set, &name, 1);
	}
}

void fvm_trace_net(const char *what)
{
	uint64_t h = hash_mix(hash_mix(0xcbf29ce484222325ull, "S", 1), what, strlen(what));

	if (!seen(h)) {
		put(FVM_TR_NET, 0, NULL, 0, &what, 1);
	}
}

/* ---- start, fork, exit ------------------------------------------------------------ */

static void trace_child(void)
{
	tr_used = 0; /* the parent sends these */
	tr_lock = 0;
	tr_inside = 0;
}

void fvm_trace_init(const char *path)
{
	size_t n = path ? strlen(path) : 0;

	if (!n || n >= sizeof(tr_path) || path[0] != '/') {
		return;
	}
	memcpy(tr_path, path, n + 1);
	fvm_atfork(NULL, NULL, trace_child);
	fvm_tracing = true;
}

__attribute__((destructor)) static void trace_exit(void)
{
	fvm_trace_flush();
}
