/*
 * trace.c — fvm-exec --trace: the supervisor collects what the run's processes read,
 * wrote and ran, and after the run writes the trace (store/trace.h) into the VM's
 * control area, beside the run's account (run.h "tracing").
 *
 * Rules:
 *  - The socket the VM's libfvm sends to (fvm/trace.h) is a datagram socket bound in
 *    the data area (tr.PID, 0666: any uid of the VM connects, as to cu.PID). Each batch
 *    is tagged with its sender's pid as the kernel gives it (SCM_CREDENTIALS, with
 *    SO_PASSCRED), never as the batch says; a batch that does not parse whole is
 *    dropped and counted.
 *  - unixsend.c relays no datagram here: the kernel would name the relaying supervisor
 *    as the sender. A batch under the supervisor's own pid is refused.
 *  - A record is the sender's word ("libfvm"); an open the supervisor answered itself
 *    for a static program (virtguard.c) is its own ("supervisor").
 *  - Nothing is hashed while the run goes on. At the end, the VM empty, each input's
 *    virtual path is resolved again in the VM by the supervisor (so its origin, and a
 *    path hidden from the VM, are the supervisor's finding, not the record's); the
 *    object found is hashed only when its identity (dev, ino, size, mtime, ctime) is the
 *    one the process saw, else it is "changed-during-run". Only regular files are
 *    opened, O_NONBLOCK, and their identity checked on the descriptor.
 *  - Outputs are not taken from any record: they are the VM's changes (the change scan
 *    of upper/, as fvm diff computes it) whose ctime lies in the run. No process can set
 *    a ctime, and every change of a run lands in upper/ (the fence).
 *  - The trace is written in the control area, which the fence keeps every process of
 *    the VM from opening (ctl/NAME/history), as a temporary renamed into place.
 *  - Memory is bounded: at most TRACE_ENTRIES_MAX distinct facts; beyond, counted as
 *    dropped.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fvm/env.h"
#include "fvm/layout.h"
#include "fvm/trace.h"
#include "fvm/vm.h"
#include "run.h"
#include "store/changes.h"
#include "store/history.h"
#include "store/trace.h"

#define TRACE_ENTRIES_MAX 2000000
#define TRACE_RCVBUF (8 << 20)

struct tracer *trace_active;

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++) {
		h = (h ^ c[i]) * 0x100000001b3ull;
	}
	return h;
}

static int crypto_load(void);

int trace_prepare(struct tracer *t, const char *vmdir)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int one = 1, size = TRACE_RCVBUF, n;
	mode_t old;

	memset(t, 0, sizeof(*t));
	t->sock = -1;
	unsetenv(FVM_ENV_TRACE); /* an outer run's trace is not this VM's */
	if (crypto_load() < 0) { /* before the run: its end hashes the files */
		return -1;
	}
	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/" FVM_TRACE_SOCK ".%d", vmdir, (int)getpid());
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path)) {
		fprintf(stderr, "fvm-exec: --trace: the VM's directory %s is too long for a socket path\n", vmdir);
		return -1;
	}
	t->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->sock < 0) {
		perror("fvm-exec: --trace: socket");
		return -1;
	}
	setsockopt(t->sock, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	/* As large as the system lets a user have: senders block when it is full. */
	if (setsockopt(t->sock, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0) {
		setsockopt(t->sock, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	unlink(sa.sun_path); /* a run's pid before ours: its supervisor is gone */
	old = umask(0111);
	n = bind(t->sock, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (n < 0) {
		fprintf(stderr, "fvm-exec: --trace: %s: %s\n", sa.sun_path, strerror(errno));
		close(t->sock);
		t->sock = -1;
		return -1;
	}
	memcpy(t->path, sa.sun_path, sizeof(sa.sun_path));
	struct stat st;
	if (stat(t->path, &st) == 0) {
		t->dev = st.st_dev;
		t->ino = st.st_ino;
	}
	setenv(FVM_ENV_TRACE, t->path, 1);
	return 0;
}

bool trace_is_socket(int fd, int sock)
{
	const struct tracer *t = trace_active;
	struct stat st;

	if (!t || !t->path[0]) {
		return false;
	}
	if (fd >= 0) {
		return fstat(fd, &st) == 0 && st.st_dev == t->dev && st.st_ino == t->ino;
	}
	struct sockaddr_un peer;
	socklen_t len = sizeof(peer);
	if (sock < 0 || getpeername(sock, (struct sockaddr *)&peer, &len) < 0 || peer.sun_family != AF_UNIX ||
	    len <= offsetof(struct sockaddr_un, sun_path)) {
		return false;
	}
	size_t n = len - offsetof(struct sockaddr_un, sun_path);
	return n >= strlen(t->path) && strncmp(peer.sun_path, t->path, sizeof(peer.sun_path)) == 0;
}

/* The index of E's fact in T's table, adding it (copying its blob) when new. */
static void add(struct tracer *t, const struct tr_ent *e)
{
	if (t->tabcap == 0 || (t->n + 1) * 2 > t->tabcap) {
		size_t cap = t->tabcap ? t->tabcap * 2 : 4096;
		size_t *tab = calloc(cap, sizeof(*tab));
		if (!tab) {
			t->dropped++;
			return;
		}
		for (size_t i = 0; i < t->n; i++) {
			size_t s = t->v[i].hash % cap;
			while (tab[s]) {
				s = (s + 1) % cap;
			}
			tab[s] = i + 1;
		}
		free(t->tab);
		t->tab = tab;
		t->tabcap = cap;
	}
	size_t s = e->hash % t->tabcap;
	for (; t->tab[s]; s = (s + 1) % t->tabcap) {
		const struct tr_ent *o = &t->v[t->tab[s] - 1];
		if (o->hash == e->hash && o->kind == e->kind && o->blen == e->blen && o->dev == e->dev &&
		    o->ino == e->ino && o->mtime_ns == e->mtime_ns && memcmp(o->blob, e->blob, e->blen) == 0) {
			return; /* known: the first sender is kept */
		}
	}
	if (t->n >= TRACE_ENTRIES_MAX) {
		t->dropped++;
		return;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		struct tr_ent *v = realloc(t->v, cap * sizeof(*v));
		if (!v) {
			t->dropped++;
			return;
		}
		t->v = v;
		t->cap = cap;
	}
	struct tr_ent *n = &t->v[t->n];
	*n = *e;
	n->blob = malloc(e->blen ? e->blen : 1);
	if (!n->blob) {
		t->dropped++;
		return;
	}
	memcpy(n->blob, e->blob, e->blen);
	t->tab[s] = ++t->n;
}

/* The hash that keys fact E: its kind, strings and identity (an exec also its pid:
 * every run of a program is kept). */
static void key(struct tr_ent *e)
{
	uint64_t h = fnv(0xcbf29ce484222325ull, &e->kind, 1);

	h = fnv(h, e->blob, e->blen);
	h = fnv(h, &e->ino, sizeof(e->ino));
	h = fnv(h, &e->mtime_ns, sizeof(e->mtime_ns));
	if (e->kind == FVM_TR_EXEC) {
		h = fnv(h, &e->pid, sizeof(e->pid));
	}
	e->hash = h;
}

int trace_take_batch(struct tracer *t, const char *buf, size_t len, pid_t pid)
{
	/* Checked whole first: a malformed batch keeps nothing of itself. */
	for (size_t off = 0; off < len;) {
		struct fvm_trace_rec r;
		if (len - off < sizeof(r)) {
			return -1;
		}
		memcpy(&r, buf + off, sizeof(r));
		if (r.len < sizeof(r) || r.len > len - off || r.len % 8) {
			return -1;
		}
		size_t nul = 0;
		for (size_t i = sizeof(r); i < r.len; i++) {
			nul += buf[off + i] == '\0';
		}
		if (nul < r.nstr) {
			return -1;
		}
		off += r.len;
	}
	for (size_t off = 0; off < len;) {
		struct fvm_trace_rec r;
		memcpy(&r, buf + off, sizeof(r));
		const char *s = buf + off + sizeof(r), *p = s;
		for (uint32_t i = 0; i < r.nstr; i++) {
			p += strlen(p) + 1;
		}
		struct tr_ent e = {.pid = pid, .kind = (char)r.kind, .where = (char)r.where, .source = 'l',
				   .dev = r.dev, .ino = r.ino, .size = r.size, .mtime_ns = r.mtime_ns,
				   .ctime_ns = r.ctime_ns, .blob = (char *)s, .blen = (size_t)(p - s), .nstr = r.nstr};
		off += r.len;
		switch (r.kind) {
		case FVM_TR_LOST: t->lost += (unsigned long long)(r.size > 0 ? r.size : 0); continue;
		case FVM_TR_READ:
		case FVM_TR_EXEC:
			if (r.nstr < 2) {
				t->dropped++;
				continue;
			}
			break;
		case FVM_TR_RENAME:
			if (r.nstr < 2) {
				t->dropped++;
				continue;
			}
			break;
		case FVM_TR_WRITE:
		case FVM_TR_CREATE:
		case FVM_TR_DELETE:
		case FVM_TR_ENV:
		case FVM_TR_NET:
			if (r.nstr < 1) {
				t->dropped++;
				continue;
			}
			break;
		default: t->dropped++; continue;
		}
		if (r.kind != FVM_TR_READ && r.kind != FVM_TR_EXEC) {
			e.dev = e.ino = 0;
			e.mtime_ns = e.ctime_ns = 0;
			if (r.kind != FVM_TR_ENV) {
				e.size = 0;
			}
		}
		key(&e);
		add(t, &e);
	}
	return 0;
}

int trace_serve(struct tracer *t)
{
	static char buf[FVM_TRACE_BATCH + 8] __attribute__((aligned(8)));
	union {
		char b[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} cm;

	for (;;) {
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b, .msg_controllen = sizeof(cm.b)};
		ssize_t n = recvmsg(t->sock, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0) {
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
		}
		pid_t pid = 0;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
			    c->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
				struct ucred u;
				memcpy(&u, CMSG_DATA(c), sizeof(u));
				pid = u.pid;
			} else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
				/* descriptors sent along: closed, never used */
				size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
				for (size_t i = 0; i < k; i++) {
					int fd;
					memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
					close(fd);
				}
			}
		}
		/* The supervisor's own pid: a datagram it relayed (unixsend.c refuses to). */
		if ((m.msg_flags & MSG_TRUNC) || pid <= 0 || pid == t->supervisor ||
		    trace_take_batch(t, buf, (size_t)n, pid) < 0) {
			t->dropped++;
		}
	}
}

void trace_forget(struct tracer *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].blob);
	}
	free(t->v);
	free(t->tab);
	t->v = NULL;
	t->tab = NULL;
	t->n = t->cap = t->tabcap = 0;
}

void trace_note_open(pid_t pid, int fd, const char *rpath, const char *vpath)
{
	struct tracer *t = trace_active;
	struct stat st;

	if (!t || t->sock < 0 || getpid() != t->supervisor || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		return; /* not traced, or in a forked child whose memory is its own */
	}
	size_t rl = strlen(rpath) + 1, vl = strlen(vpath) + 1;
	char *blob = malloc(rl + vl);
	if (!blob) {
		t->dropped++;
		return;
	}
	memcpy(blob, rpath, rl);
	memcpy(blob + rl, vpath, vl);
	struct tr_ent e = {.pid = pid, .kind = FVM_TR_READ, .source = 's', .dev = st.st_dev, .ino = st.st_ino,
			   .size = st.st_size,
			   .mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec,
			   .ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec,
			   .blob = blob, .blen = rl + vl, .nstr = 2};
	key(&e);
	add(t, &e);
	free(blob);
}

/* ---- the end of the run ----------------------------------------------------------- */

/*
 * libcrypto, loaded by the first run that traces (trace_prepare), not linked: its
 * loading and relocation cost every run of fvm-exec about a millisecond, and only
 * --trace hashes (issue 15). The five calls of its stable EVP interface are taken by
 * name; the library is the one of OpenSSL 3, else 1.1.
 */
static struct {
	void *(*ctx_new)(void);
	void (*ctx_free)(void *);
	const void *(*sha256)(void);
	int (*init)(void *, const void *, void *);
	int (*update)(void *, const void *, size_t);
	int (*final)(void *, unsigned char *, unsigned *);
	bool loaded;
} evp;

static int crypto_load(void)
{
	static const char *const names[] = {"libcrypto.so.3", "libcrypto.so.1.1", "libcrypto.so"};
	void *h = NULL;

	if (evp.loaded) {
		return 0;
	}
	for (size_t i = 0; !h && i < sizeof(names) / sizeof(names[0]); i++) {
		h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	}
	if (!h) {
		fprintf(stderr, "fvm-exec: --trace: cannot load libcrypto (OpenSSL) to hash files: %s\n", dlerror());
		return -1;
	}
	*(void **)&evp.ctx_new = dlsym(h, "EVP_MD_CTX_new");
	*(void **)&evp.ctx_free = dlsym(h, "EVP_MD_CTX_free");
	*(void **)&evp.sha256 = dlsym(h, "EVP_sha256");
	*(void **)&evp.init = dlsym(h, "EVP_DigestInit_ex");
	*(void **)&evp.update = dlsym(h, "EVP_DigestUpdate");
	*(void **)&evp.final = dlsym(h, "EVP_DigestFinal_ex");
	if (!evp.ctx_new || !evp.ctx_free || !evp.sha256 || !evp.init || !evp.update || !evp.final) {
		fprintf(stderr, "fvm-exec: --trace: libcrypto lacks the EVP digest calls\n");
		return -1;
	}
	evp.loaded = true;
	return 0;
}

/* sha256:HEX of the open file FD into OUT. 0 or -errno. */
static int sha256_fd(int fd, char out[80])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[64], buf[1 << 16]; /* 64: EVP_MAX_MD_SIZE */
	unsigned len = 0;
	ssize_t n;
	void *c = crypto_load() == 0 ? evp.ctx_new() : NULL;

	if (!c || !evp.init(c, evp.sha256(), NULL)) {
		if (c) {
			evp.ctx_free(c);
		}
		return -ENOMEM;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
		if (n > 0) {
			evp.update(c, buf, (size_t)n);
		}
	}
	int e = n < 0 ? -errno : 0;
	evp.final(c, md, &len);
	evp.ctx_free(c);
	memcpy(out, "sha256:", 7);
	for (unsigned i = 0; i < len && i < 32; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 15];
	}
	out[7 + 64] = '\0';
	return e;
}

/* Digests already taken, by identity: a program run 200 times is hashed once. */
struct digest_memo {
	uint64_t dev, ino;
	int64_t size, mtime_ns, ctime_ns;
	char digest[80];
	bool used;
};
static struct digest_memo *memo;
static size_t memo_cap;

/* The slot of identity E in MEMO (its own, or the free one where it goes). */
static struct digest_memo *memo_slot(const struct tr_ent *e)
{
	if (!memo) {
		return NULL;
	}
	size_t h = (size_t)((e->dev * 0x9e3779b97f4a7c15ull) ^ e->ino ^ (uint64_t)e->mtime_ns);
	for (size_t i = 0, s = h % memo_cap; i < memo_cap; i++, s = (s + 1) % memo_cap) {
		struct digest_memo *m = &memo[s];
		if (!m->used || (m->dev == e->dev && m->ino == e->ino && m->size == e->size &&
				 m->mtime_ns == e->mtime_ns && m->ctime_ns == e->ctime_ns)) {
			return m;
		}
	}
	return NULL;
}

static const char *where_name(enum fvm_where w, int layer)
{
	if (w == FVM_UPPER) {
		return "vm";
	}
	return layer >= 0 ? "layer" : "host";
}

/*
 * What input E (read or run) was: its virtual path resolved in VM now, hashed when the
 * object found is the one the process saw. PATH gets the canonical virtual path,
 * WHERE and DIGEST what trace.h says.
 */
static void judge(const struct fvm_vm *vm, const struct tr_ent *e, char *path, size_t plen,
		  const char **where, char digest[80])
{
	const char *rpath = e->blob, *vpath = rpath + strlen(rpath) + 1;
	struct fvm_res res;
	struct stat st;

	if (e->kind == FVM_TR_READ && !*vpath) {
		vpath = rpath; /* the host's own path */
	}
	snprintf(path, plen, "%s", vpath);
	*where = e->where == FVM_TR_VM ? "vm" : e->where == FVM_TR_LAYER ? "layer" : "host";
	if (vpath[0] != '/' || fvm_resolve(vm, vpath, 0, &res) < 0 || res.where == FVM_ABSENT) {
		snprintf(digest, 80, "changed-during-run");
		return;
	}
	snprintf(path, plen, "%s", res.vpath);
	*where = where_name(res.where, res.layer);
	if (res.klass == FVM_CLASS_HIDDEN) {
		snprintf(digest, 80, "hidden");
		return;
	}
	if (!S_ISREG(res.st.st_mode) || res.st.st_dev != e->dev || res.st.st_ino != e->ino) {
		snprintf(digest, 80, "changed-during-run");
		return;
	}
	struct digest_memo *m = memo_slot(e);
	if (m && m->used) {
		snprintf(digest, 80, "%s", m->digest); /* the same file, as the process saw it */
		return;
	}
	int fd = open(res.rpath, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(digest, 80, "unreadable");
		return;
	}
	int64_t mt = 0, ct = 0;
	if (fstat(fd, &st) == 0) {
		mt = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
		ct = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
	}
	if (!S_ISREG(st.st_mode) || st.st_dev != e->dev || st.st_ino != e->ino || st.st_size != e->size ||
	    mt != e->mtime_ns || ct != e->ctime_ns) {
		snprintf(digest, 80, "changed-during-run");
	} else if (sha256_fd(fd, digest) < 0) {
		snprintf(digest, 80, "unreadable");
	} else if (m) {
		*m = (struct digest_memo){.dev = e->dev, .ino = e->ino, .size = e->size, .mtime_ns = e->mtime_ns,
					  .ctime_ns = e->ctime_ns, .used = true};
		snprintf(m->digest, sizeof(m->digest), "%s", digest);
	}
	close(fd);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The paths the run's processes said they wrote, made or renamed to, sorted (*N). */
static char **written_paths(const struct tracer *t, size_t *n)
{
	char **v = calloc(t->n ? t->n : 1, sizeof(*v));

	*n = 0;
	for (size_t i = 0; v && i < t->n; i++) {
		const struct tr_ent *e = &t->v[i];
		if (e->kind == FVM_TR_WRITE || e->kind == FVM_TR_CREATE) {
			v[(*n)++] = e->blob;
		} else if (e->kind == FVM_TR_RENAME) {
			v[(*n)++] = e->blob + strlen(e->blob) + 1;
		}
	}
	if (*n) {
		qsort(v, *n, sizeof(*v), cmp_str);
	}
	return v;
}

static const char *type_name(mode_t m)
{
	return S_ISREG(m) ? "file" : S_ISDIR(m) ? "dir" : S_ISLNK(m) ? "link" : "other";
}

/* Whether change C of UPPER happened at or after START_NS (its ctime, or its
 * whiteout's for a deletion). */
static bool in_run(const char *upper, const struct fvm_change *c, int64_t start_ns)
{
	struct stat st;

	if (c->kind != FVM_DELETED) {
		st = c->upper;
	} else {
		char wh[PATH_MAX * 2];
		const char *slash = strrchr(c->vpath, '/');
		if (!slash) {
			return true;
		}
		snprintf(wh, sizeof(wh), "%s%.*s/.wh.%s", upper, (int)(slash - c->vpath), c->vpath, slash + 1);
		if (lstat(wh, &st) < 0) {
			return true; /* no whiteout of its own (an opaque parent): said as changed */
		}
	}
	return (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec >= start_ns;
}

/* The run's outputs: what changed in UPPER since START_NS, as fvm diff lists it. */
static void write_outputs(FILE *out, const char *upper, int64_t start_ns)
{
	struct fvm_changes c = {0};

	if (fvm_changes_scan(upper, NULL, 0, &c) < 0) {
		trace_putf(out, "limit", "the VM's changes could not be listed: no outputs");
		return;
	}
	for (size_t i = 0; i < c.n; i++) {
		const struct fvm_change *ch = &c.v[i];
		char kind[2] = {ch->kind, 0}, digest[PATH_MAX + 8] = "-";
		const char *type = ch->kind == FVM_DELETED ? type_name(ch->host.st_mode) : type_name(ch->upper.st_mode);
		if (!in_run(upper, ch, start_ns)) {
			continue;
		}
		if (ch->kind != FVM_DELETED && S_ISREG(ch->upper.st_mode)) {
			char rp[PATH_MAX * 2];
			snprintf(rp, sizeof(rp), "%s%s", upper, ch->vpath);
			int fd = open(rp, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
			if (fd < 0 || sha256_fd(fd, digest) < 0) {
				snprintf(digest, sizeof(digest), "-");
			}
			if (fd >= 0) {
				close(fd);
			}
		} else if (ch->kind != FVM_DELETED && S_ISLNK(ch->upper.st_mode)) {
			char rp[PATH_MAX * 2], target[PATH_MAX];
			snprintf(rp, sizeof(rp), "%s%s", upper, ch->vpath);
			ssize_t n = readlink(rp, target, sizeof(target) - 1);
			if (n >= 0) {
				target[n] = '\0';
				snprintf(digest, sizeof(digest), "link:%s", target);
			}
		}
		const char *f[4] = {kind, type, digest, ch->vpath};
		trace_put(out, "output", f, 4);
	}
	fvm_changes_free(&c);
}

/* The limits of this run's trace, said in it (docs/DESIGN.md "Tracing"). */
static void write_limits(FILE *out, const struct tracer *t)
{
	static const char *const always[] = {
		"records from libfvm are the word of the process that sent them: any process of the VM "
		"can omit, alter or invent its own (source libfvm); only the sender's pid is the kernel's",
		"a program libfvm is not loaded into (static, setuid, or that cleared LD_PRELOAD) reports nothing "
		"itself; a 64-bit static program's opens are seen by the supervisor (source supervisor) "
		"where it answers them, its other calls are not",
		"raw system calls and glibc's internal opens (the name service, locales, iconv) of dynamic "
		"programs are not recorded, nor are the libraries the dynamic loader maps",
		"environment variables read by libc itself (LANG, LC_*, TZ, MALLOC_*, LD_*) or from environ "
		"directly are not recorded; only getenv and secure_getenv",
		"a process killed by a signal loses the records it had not sent yet",
		"stat, access and directory listings are not recorded as inputs: only file contents read",
	};
	for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++) {
		trace_putf(out, "limit", "%s", always[i]);
	}
	if (t->notify_off) {
		trace_putf(out, "limit", "this run had no seccomp supervisor: static programs' opens are not seen at all");
	}
}

int trace_finish(struct tracer *t, const char *ctldir, const char *vmdir, const struct run_stats *s,
		 char *const *cmd)
{
	char name[64], tmp[80], upper[PATH_MAX], cwd[PATH_MAX];
	static struct fvm_vm vm; /* zeroed: no generation counter, nothing cached */
	int dir = -1, fd = -1, r = 0;
	FILE *out = NULL;

	if (!t || t->sock < 0) {
		return 0;
	}
	trace_serve(t); /* what the last processes sent before they ended */
	close(t->sock);
	t->sock = -1;
	unlink(t->path);
	if (fvm_vm_setup(&vm, getenv(FVM_ENV_VM) ? getenv(FVM_ENV_VM) : "", vmdir, getenv(FVM_ENV_HOME)) < 0) {
		return -EINVAL;
	}
	const char *pol = getenv(FVM_ENV_POLICY);
	if (pol && *pol) {
		vm.policy = fvm_policy_map(pol);
	}
	history_name(s, name, sizeof(name));
	snprintf(tmp, sizeof(tmp), ".%s.trace.tmp", name);
	int ctl = open(ctldir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (ctl < 0) {
		return -errno;
	}
	mkdirat(ctl, HISTORY_DIR, 0700);
	dir = openat(ctl, HISTORY_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat owner;
	if (fstat(ctl, &owner) < 0) {
		owner.st_uid = 0;
	}
	close(ctl);
	if (dir < 0) {
		return -errno;
	}
	unlinkat(dir, tmp, 0);
	fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || !(out = fdopen(fd, "w"))) {
		r = -errno;
		if (fd >= 0) {
			close(fd);
		}
		close(dir);
		return r;
	}
	if (geteuid() == 0 && owner.st_uid != 0 && fchown(fd, owner.st_uid, owner.st_gid) < 0) {
		/* kept as root's: the owner's tools cannot read it, nothing worse */
	}
	fputs(TRACE_MAGIC "\n", out);
	trace_putf(out, "start-ms", "%lld", s->start_ms);
	trace_putf(out, "end-ms", "%lld", s->end_ms);
	trace_putf(out, "supervisor", "%d", (int)s->pid);
	trace_putf(out, "builder", "fvm-exec %s", FVM_VERSION);
	trace_putf(out, "cwd", "%s", getcwd(cwd, sizeof(cwd)) ? cwd : "");
	size_t argc = 0;
	while (cmd && cmd[argc]) {
		argc++;
	}
	trace_put(out, "command", (const char *const *)cmd, argc);
	write_limits(out, t);
	trace_putf(out, "lost", "%llu", t->lost);
	trace_putf(out, "dropped", "%llu", t->dropped);
	size_t nwritten;
	char **written = written_paths(t, &nwritten);
	memo_cap = t->n * 2 + 1;
	memo = calloc(memo_cap, sizeof(*memo)); /* none: each input hashed on its own */
	for (size_t i = 0; i < t->n; i++) {
		const struct tr_ent *e = &t->v[i];
		char pid[16], id[48], size[24], mtime[24], path[PATH_MAX * 2], digest[80];
		const char *where;
		snprintf(pid, sizeof(pid), "%d", (int)e->pid);
		switch (e->kind) {
		case FVM_TR_READ:
		case FVM_TR_EXEC: {
			judge(&vm, e, path, sizeof(path), &where, digest);
			const char *pp = path;
			if (strcmp(digest, "changed-during-run") == 0 && written &&
			    bsearch(&pp, written, nwritten, sizeof(*written), cmp_str)) {
				/* the run's own intermediate: made (or rewritten) by a process of it */
				snprintf(digest, sizeof(digest), "written-by-run");
			}
			snprintf(id, sizeof(id), "%llu:%llu", (unsigned long long)e->dev, (unsigned long long)e->ino);
			snprintf(size, sizeof(size), "%lld", (long long)e->size);
			snprintf(mtime, sizeof(mtime), "%lld", (long long)e->mtime_ns);
			const char *f[64 + 8] = {e->source == 's' ? "supervisor" : "libfvm", where, id, size, mtime,
						 digest, pid, path};
			size_t n = 8;
			if (e->kind == FVM_TR_EXEC) {
				const char *p = e->blob;
				p += strlen(p) + 1; /* rpath: the path above is the supervisor's */
				for (uint32_t k = 1; k < e->nstr && n < sizeof(f) / sizeof(f[0]); k++) {
					f[n++] = p;
					p += strlen(p) + 1;
				}
			}
			trace_put(out, e->kind == FVM_TR_READ ? "input" : "exec", f, n);
			break;
		}
		case FVM_TR_ENV: {
			const char *f[3] = {pid, e->size ? "1" : "0", e->blob};
			trace_put(out, "env", f, 3);
			break;
		}
		case FVM_TR_NET: {
			const char *f[2] = {pid, e->blob};
			trace_put(out, "net", f, 2);
			break;
		}
		case FVM_TR_RENAME: {
			const char *f[3] = {pid, e->blob, e->blob + strlen(e->blob) + 1};
			trace_put(out, "rename", f, 3);
			break;
		}
		default: {
			const char *f[2] = {pid, e->blob};
			trace_put(out, e->kind == FVM_TR_WRITE ? "write" : e->kind == FVM_TR_CREATE ? "create" : "delete",
				  f, 2);
			break;
		}
		}
	}
	free(written);
	free(memo);
	memo = NULL;
	snprintf(upper, sizeof(upper), "%s/" FVM_UPPER_DIR, vmdir);
	/* A file's times come from the kernel's coarse clock, up to a tick behind the
	 * precise one the start was read with. */
	write_outputs(out, upper, (s->start_ms - 10) * 1000000);
	if (fflush(out) != 0 || ferror(out)) {
		r = -EIO;
	}
	fclose(out);
	if (r == 0 && renameat(dir, tmp, dir, (snprintf(name + strlen(name), sizeof(name) - strlen(name), "%s",
							 TRACE_SUFFIX),
						name)) < 0) {
		r = -errno;
	}
	if (r < 0) {
		unlinkat(dir, tmp, 0);
	}
	close(dir);
	if (vm.policy) {
		fvm_policy_unmap(vm.policy);
	}
	return r;
}
