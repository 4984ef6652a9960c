/*
 * socket.c — sockets in a VM: AF_UNIX names, the private loopback, and the network
 * policy (net.c) applied to every address. Name lookups are netdb.c's. Some 600
 * lines, kept whole: map_addr() and narrow_addr() are the two halves of one mapping
 * and every socket call below uses both.
 *
 * Every address a program hands in goes through map_addr() (bind, connect, sendto,
 * sendmsg, sendmmsg); every address handed back goes through narrow_addr()
 * (getsockname, getpeername, accept, accept4, recvfrom, recvmsg, recvmmsg).
 *
 * Invariants:
 *  - An AF_UNIX path name is a file name of the VM: bind creates the socket in upper/
 *    (or on the host for a shared path), connect reaches whatever the VM sees at that
 *    name, host sockets included. A real path longer than sun_path is reached through
 *    /proc/self/fd/N of an O_PATH descriptor, so no length limit is added by the VM.
 *  - An abstract name gets the VM's IPC prefix (fvm/ipcname.h), shortened stably.
 *  - A program never sees upper/, the IPC prefix or its private loopback address in an
 *    address libfvm hands back: it sees the names it used. Bound and connected AF_UNIX
 *    addresses are remembered per socket (keyed by the socket's inode, so a reused fd
 *    number never shows a stale name).
 *  - With loopback = private, 127.0.0.1 (and INADDR_ANY for bind) means the VM's own
 *    127.A.B.C; it is reported back as 127.0.0.1. On a dual-stack IPv6 socket ::1 (and
 *    :: for bind) means ::ffff:127.A.B.C, so "localhost" servers on either family are
 *    the VM's own.
 *  - The network policy is checked on the address the program gave: net all passes;
 *    loopback passes 127.0.0.0/8 and ::1; none passes nothing of AF_INET/AF_INET6; an
 *    allow rule passes its prefix and port. A refusal is EACCES and one line in the
 *    VM's log naming the call and the address.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "fvm/change.h"
#include "fvm/ipcname.h"
#include "fvm/layout.h"
#include "fvm/path.h"
#include "libfvm.h"

#define SUN_OFF offsetof(struct sockaddr_un, sun_path)
#define SUN_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

/* ---- remembered AF_UNIX names, per socket ---- */

struct sock_names {
	ino_t ino;                  /* the socket these belong to */
	socklen_t local_len, peer_len;
	struct sockaddr_un local;   /* as the program bound it */
	struct sockaddr_un peer;    /* as the program connected to it */
};

#define MAX_FDS 65536
static struct sock_names **names_table;

static struct sock_names **names_slot(int fd)
{
	if (fd < 0 || fd >= MAX_FDS) {
		return NULL;
	}
	if (!__atomic_load_n(&names_table, __ATOMIC_ACQUIRE)) {
		void *p = mmap(NULL, MAX_FDS * sizeof(*names_table), PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		void *expected = NULL;
		if (p == MAP_FAILED) {
			return NULL;
		}
		if (!__atomic_compare_exchange_n(&names_table, &expected, p, false,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			munmap(p, MAX_FDS * sizeof(*names_table));
		}
	}
	return &names_table[fd];
}

/* The names of socket FD; CREATE: make an entry. NULL when there is none. */
static struct sock_names *names_of(int fd, bool create)
{
	struct sock_names **slot = names_slot(fd), *s;
	struct stat st;

	if (!slot || sys_fstat(fd, &st) < 0) {
		return NULL;
	}
	s = *slot;
	if (s && s->ino == st.st_ino) {
		return s;
	}
	if (!create) {
		return NULL;
	}
	if (!s && !(s = calloc(1, sizeof(*s)))) {
		return NULL;
	}
	memset(s, 0, sizeof(*s));
	s->ino = st.st_ino;
	*slot = s;
	return s;
}

static void remember(int fd, bool local, const struct sockaddr *sa, socklen_t len)
{
	struct sock_names *s = names_of(fd, true);

	if (!s || len > sizeof(struct sockaddr_un)) {
		return;
	}
	memcpy(local ? &s->local : &s->peer, sa, len);
	*(local ? &s->local_len : &s->peer_len) = len;
}

/* ---- the private loopback ---- */

static bool private_loopback(void)
{
	return fvm_g.policy && fvm_g.policy->loopback == FVM_LOOPBACK_PRIVATE &&
	       fvm_ipc_prefix_get();
}

static in_addr_t vm_loopback(void)
{
	return htonl(fvm_ipc_loopback(fvm_ipc_prefix_get()));
}

/* ---- addresses in: map_addr ---- */

/* What map_addr() did: the address for the kernel and what to undo afterwards. */
struct mapped {
	union {
		struct sockaddr sa;
		struct sockaddr_un un;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
		struct sockaddr_storage ss;
	} u;
	socklen_t len;
	const struct sockaddr *sa; /* what to give the kernel: &u.sa or the caller's */
	int pathfd;                /* an O_PATH fd behind a /proc/self/fd name, or -1 */
	struct fvm_res *created;   /* a bound socket file: fvm_created() after success */
};

enum op { OP_BIND, OP_CONNECT, OP_SEND };
static const char *const op_names[] = {[OP_BIND] = "bind", [OP_CONNECT] = "connect",
				       [OP_SEND] = "send to"};

/* Points M at RPATH, through /proc/self/fd when it does not fit in sun_path. */
static int unix_path(struct mapped *m, const char *rpath, bool creating)
{
	size_t len = strlen(rpath);
	const char *tail = "";

	if (len >= SUN_MAX) {
		char dir[FVM_RPATH_MAX];
		size_t base = creating ? fvm_path_base_off(rpath, len) : len;
		/* bind creates the last component: open its directory; connect opens the socket. */
		memcpy(dir, rpath, base);
		dir[base] = '\0';
		m->pathfd = sys_openat(AT_FDCWD, dir, O_PATH | O_CLOEXEC, 0);
		if (m->pathfd < 0) {
			return m->pathfd;
		}
		tail = rpath + base;
		int n = snprintf(m->u.un.sun_path, SUN_MAX, "/proc/self/fd/%d%s%s", m->pathfd,
				 *tail ? "/" : "", tail);
		if (n < 0 || (size_t)n >= SUN_MAX) {
			return -ENAMETOOLONG;
		}
		len = (size_t)n;
	} else {
		memcpy(m->u.un.sun_path, rpath, len + 1);
	}
	m->u.un.sun_family = AF_UNIX;
	m->len = (socklen_t)(SUN_OFF + len + 1);
	m->sa = &m->u.sa;
	return 0;
}

static int map_unix(enum op op, const struct sockaddr_un *un, socklen_t len, struct mapped *m)
{
	size_t plen = len - SUN_OFF;
	char vpath[SUN_MAX + 1];
	int ret;

	if (un->sun_path[0] == '\0') {
		/* Abstract: the VM's prefix in front of the name (all plen - 1 bytes count). */
		char buf[SUN_MAX + 8];
		const char *pfx = fvm_ipc_prefix_get();
		if (!pfx) {
			return 0;
		}
		ret = fvm_ipc_map(pfx, un->sun_path + 1, plen - 1, SUN_MAX - 1, buf, sizeof(buf));
		if (ret < 0) {
			return ret;
		}
		m->u.un.sun_family = AF_UNIX;
		m->u.un.sun_path[0] = '\0';
		memcpy(m->u.un.sun_path + 1, buf, (size_t)ret);
		m->len = (socklen_t)(SUN_OFF + 1 + (size_t)ret);
		m->sa = &m->u.sa;
		return 0;
	}
	memcpy(vpath, un->sun_path, plen);
	vpath[plen] = '\0';
	struct fvm_res *res = malloc(sizeof(*res));
	if (!res) {
		return -ENOMEM;
	}
	ret = fvm_resolve_at(AT_FDCWD, vpath, op == OP_BIND ? FVM_R_NOFOLLOW : 0, res);
	if (ret == 0 && op == OP_BIND) {
		if (res->where != FVM_ABSENT) {
			ret = -EADDRINUSE;
		} else {
			ret = fvm_prepare_new(&fvm_g, res);
		}
	} else if (ret == 0 && res->where == FVM_ABSENT) {
		ret = -ENOENT;
	}
	if (ret == 0) {
		ret = unix_path(m, res->rpath, op == OP_BIND);
	}
	if (ret == 0 && op == OP_BIND) {
		m->created = res;
	} else {
		free(res);
	}
	return ret;
}

/*
 * The private loopback for an IPv6 socket: IPv6 has one loopback address, so ::1 (and
 * :: for bind) become the IPv4-mapped VM address, which a dual-stack socket can use; a
 * v6-only socket keeps ::1 (it cannot reach IPv4). Returns 0.
 */
static int map_inet6_loopback(int fd, enum op op, struct mapped *m)
{
	struct in6_addr *a6 = &m->u.in6.sin6_addr;
	struct in_addr *a4 = fvm_inet4_of(&m->u.sa, m->len);
	int v6only = 0;
	socklen_t ol = sizeof(v6only);

	if (a4) {
		/* ::ffff:127.0.0.1 and ::ffff:0.0.0.0 as for AF_INET. */
		if (a4->s_addr == htonl(INADDR_LOOPBACK) || a4->s_addr == htonl(INADDR_ANY)) {
			a4->s_addr = vm_loopback();
			m->sa = &m->u.sa;
		}
		return 0;
	}
	if (!IN6_IS_ADDR_LOOPBACK(a6) && !(op == OP_BIND && IN6_IS_ADDR_UNSPECIFIED(a6))) {
		return 0;
	}
	if (getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &ol) < 0 || v6only) {
		return 0;
	}
	memset(a6, 0, sizeof(*a6));
	a6->s6_addr[10] = a6->s6_addr[11] = 0xff;
	memcpy(&a6->s6_addr[12], &(in_addr_t){vm_loopback()}, 4);
	m->sa = &m->u.sa;
	return 0;
}

/*
 * Maps address SA (LEN bytes) given to OP on socket FD into M. M->sa is what the kernel
 * gets (the caller's SA when nothing changes). Returns 0 or -errno (a policy refusal
 * is -EACCES, logged). The caller calls unmap() afterwards.
 */
/* The address SA of a connect or send, as text, for the trace (inet, inet6, unix). */
static void trace_addr(enum op op, const struct sockaddr *sa, socklen_t len)
{
	char text[sizeof(struct sockaddr_un) + 64], a[INET6_ADDRSTRLEN] = "?";
	const char *what = op == OP_CONNECT ? "connect" : "send";

	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		snprintf(text, sizeof(text), "%s inet %s:%u", what, a, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		snprintf(text, sizeof(text), "%s inet6 [%s]:%u", what, a, ntohs(in6->sin6_port));
	} else if (sa->sa_family == AF_UNIX && len > SUN_OFF) {
		const struct sockaddr_un *un = (const void *)sa;
		size_t n = len - SUN_OFF;
		if (un->sun_path[0]) {
			snprintf(text, sizeof(text), "%s unix %.*s", what, (int)strnlen(un->sun_path, n), un->sun_path);
		} else {
			snprintf(text, sizeof(text), "%s unix @%.*s", what, (int)strnlen(un->sun_path + 1, n - 1),
				 un->sun_path + 1);
		}
	} else {
		return; /* other families: the fence decides which exist at all */
	}
	fvm_trace_net(text);
}

static int map_addr(int fd, enum op op, const struct sockaddr *sa, socklen_t len,
		    struct mapped *m)
{
	struct in_addr *a4;
	int ret;

	m->sa = sa;
	m->len = len;
	m->pathfd = -1;
	m->created = NULL;
	if (fvm_bad_ptr(sa) || !fvm_on() || len < sizeof(sa_family_t)) {
		return 0;
	}
	if (fvm_tracing && op != OP_BIND) {
		trace_addr(op, sa, len);
	}
	if (sa->sa_family == AF_UNIX) {
		return len > SUN_OFF && len <= sizeof(struct sockaddr_un)
			       ? map_unix(op, (const struct sockaddr_un *)sa, len, m)
			       : 0;
	}
	ret = fvm_net_check(op_names[op], sa, len);
	if (ret < 0 || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    len > sizeof(m->u)) {
		return ret;
	}
	memcpy(&m->u, sa, len);
	if (sa->sa_family == AF_INET6 && private_loopback()) {
		return map_inet6_loopback(fd, op, m);
	}
	a4 = fvm_inet4_of(&m->u.sa, len);
	if (!a4) {
		return 0;
	}
	if (private_loopback() && (a4->s_addr == htonl(INADDR_LOOPBACK) ||
				   a4->s_addr == htonl(INADDR_ANY))) {
		/* For connect, INADDR_ANY means "this host": the VM's own address too. */
		a4->s_addr = vm_loopback();
		m->sa = &m->u.sa;
	} else if (op == OP_BIND && a4->s_addr == htonl(INADDR_ANY) && fvm_g.policy &&
		   fvm_g.policy->net == FVM_NET_LOOPBACK) {
		/* Under net loopback a server listens on loopback only, never on the network. */
		a4->s_addr = htonl(INADDR_LOOPBACK);
		m->sa = &m->u.sa;
	}
	return 0;
}

/* Undoes what map_addr() left open; OK: the call succeeded. */
static void unmap(struct mapped *m, bool ok)
{
	if (m->pathfd >= 0) {
		sys_close(m->pathfd);
	}
	if (m->created) {
		if (ok) {
			fvm_created(&fvm_g, m->created, false);
		}
		free(m->created);
	}
}

/* ---- addresses out: narrow_addr ---- */

/*
 * Narrows address SA (*LEN bytes as the kernel wrote it, into a buffer of CAP bytes):
 * upper/ paths, the IPC prefix of abstract names and the private loopback address
 * become what the program used. *LEN becomes the narrowed length (maybe > CAP, as the
 * kernel reports truncation).
 */
static void narrow_addr(struct sockaddr *sa, socklen_t *len, socklen_t cap)
{
	union {
		struct sockaddr_un un;
		char raw[sizeof(struct sockaddr_un) + 1];
	} u;
	socklen_t n = *len < cap ? *len : cap;
	struct in_addr *a4;

	if (!sa || !len || n < sizeof(sa_family_t)) {
		return;
	}
	if ((sa->sa_family == AF_INET || sa->sa_family == AF_INET6) && private_loopback() &&
	    (a4 = fvm_inet4_of(sa, n)) && a4->s_addr == vm_loopback()) {
		a4->s_addr = htonl(INADDR_LOOPBACK);
		return;
	}
	if (sa->sa_family != AF_UNIX || n <= SUN_OFF || *len > sizeof(struct sockaddr_un)) {
		return;
	}
	memset(&u, 0, sizeof(u));
	memcpy(&u, sa, n);
	char *p = u.un.sun_path;
	size_t plen = *len - SUN_OFF, newlen;
	if (p[0] == '\0') {
		int shortened;
		const char *pfx = fvm_ipc_prefix_get();
		const char *v = pfx ? fvm_ipc_unmap(pfx, p + 1, plen - 1, &shortened) : NULL;
		if (!v) {
			return;
		}
		newlen = plen - (size_t)(v - (p + 1));
		memmove(p + 1, v, newlen - 1);
	} else {
		size_t sl = strnlen(p, plen);
		if (sl <= fvm_g.upper_len || memcmp(p, fvm_g.upper, fvm_g.upper_len) != 0 ||
		    p[fvm_g.upper_len] != '/') {
			return;
		}
		memmove(p, p + fvm_g.upper_len, sl - fvm_g.upper_len + 1);
		newlen = sl - fvm_g.upper_len + (plen > sl ? 1 : 0);
	}
	*len = (socklen_t)(SUN_OFF + newlen);
	memcpy(sa, &u, *len < cap ? *len : cap);
}

/* Writes remembered address SRC (SLEN) into the caller's SA/LEN, as the kernel would. */
static int give_addr(const void *src, socklen_t slen, struct sockaddr *sa, socklen_t *len)
{
	if (!sa || !len) {
		return -EFAULT;
	}
	memcpy(sa, src, slen < *len ? slen : *len);
	*len = slen;
	return 0;
}

/* ---- the wrappers ---- */

int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct mapped m;
	int ret = map_addr(fd, OP_BIND, sa, len, &m);

	if (ret < 0) {
		return fvm_ret(ret);
	}
	ret = REAL(bind)(fd, m.sa, m.len);
	int saved = errno;
	if (ret == 0 && m.sa != sa && sa->sa_family == AF_UNIX) {
		remember(fd, true, sa, len);
	}
	unmap(&m, ret == 0);
	errno = saved;
	return ret;
}

int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct mapped m;
	int ret = map_addr(fd, OP_CONNECT, sa, len, &m);

	if (ret < 0) {
		return fvm_ret(ret);
	}
	ret = REAL(connect)(fd, m.sa, m.len);
	int saved = errno;
	if ((ret == 0 || errno == EINPROGRESS) && m.sa != sa && sa->sa_family == AF_UNIX) {
		remember(fd, false, sa, len);
	}
	unmap(&m, ret == 0);
	errno = saved;
	return ret;
}

ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *sa,
	       socklen_t len)
{
	struct mapped m;
	int ret = map_addr(fd, OP_SEND, sa, len, &m);

	if (ret < 0) {
		return fvm_ret(ret);
	}
	ssize_t sent = REAL(sendto)(fd, buf, n, flags, m.sa, m.len);
	int saved = errno;
	unmap(&m, sent >= 0);
	errno = saved;
	return sent;
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct mapped m;
	int ret;

	if (fvm_bad_range(msg, sizeof(*msg)) || !msg->msg_name) {
		return REAL(sendmsg)(fd, msg, flags);
	}
	ret = map_addr(fd, OP_SEND, msg->msg_name, msg->msg_namelen, &m);
	if (ret < 0) {
		return fvm_ret(ret);
	}
	struct msghdr copy = *msg;
	copy.msg_name = (void *)m.sa;
	copy.msg_namelen = m.len;
	ssize_t sent = REAL(sendmsg)(fd, &copy, flags);
	int saved = errno;
	unmap(&m, sent >= 0);
	errno = saved;
	return sent;
}

#define MMSG_BATCH 16

/* Sends at most MMSG_BATCH messages per call (a short count is sendmmsg's right). */
int sendmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags)
{
	struct mapped m[MMSG_BATCH];
	struct mmsghdr copy[MMSG_BATCH];
	unsigned n = vlen < MMSG_BATCH ? vlen : MMSG_BATCH, i;
	int ret = 0;

	if ((n && fvm_bad_range(vec, n * sizeof(*vec))) || !fvm_on()) {
		return REAL(sendmmsg)(fd, vec, vlen, flags);
	}
	for (i = 0; i < n; i++) {
		ret = map_addr(fd, OP_SEND, vec[i].msg_hdr.msg_name, vec[i].msg_hdr.msg_namelen, &m[i]);
		if (ret < 0) {
			break;
		}
		copy[i] = vec[i];
		copy[i].msg_hdr.msg_name = (void *)m[i].sa;
		copy[i].msg_hdr.msg_namelen = m[i].len;
	}
	if (i == 0) {
		return ret < 0 ? fvm_ret(ret) : REAL(sendmmsg)(fd, vec, vlen, flags);
	}
	/* The messages before a refused one go; the refusal comes with the next call. */
	int sent = REAL(sendmmsg)(fd, copy, i, flags);
	int saved = errno;
	for (unsigned k = 0; k < i; k++) {
		vec[k].msg_len = copy[k].msg_len;
		unmap(&m[k], sent > (int)k);
	}
	errno = saved;
	return sent;
}

int recvmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags, struct timespec *timeout)
{
	socklen_t cap[1024]; /* the kernel takes at most UIO_MAXIOV messages */
	unsigned n = vlen < 1024 ? vlen : 1024;

	if ((n && fvm_bad_range(vec, n * sizeof(*vec))) || !fvm_on()) {
		return REAL(recvmmsg)(fd, vec, vlen, flags, timeout);
	}
	for (unsigned i = 0; i < n; i++) {
		cap[i] = vec[i].msg_hdr.msg_namelen;
	}
	int got = REAL(recvmmsg)(fd, vec, n, flags, timeout);
	int saved = errno;
	for (int i = 0; i < got; i++) {
		if (vec[i].msg_hdr.msg_name) {
			narrow_addr(vec[i].msg_hdr.msg_name, &vec[i].msg_hdr.msg_namelen, cap[i]);
		}
	}
	errno = saved;
	return got;
}

/* getsockname and getpeername: the remembered name, else the kernel's narrowed. */
static int sock_name(int fd, struct sockaddr *sa, socklen_t *len, bool local)
{
	socklen_t cap = fvm_bad_ptr(len) ? 0 : *len;
	int ret = local ? REAL(getsockname)(fd, sa, len) : REAL(getpeername)(fd, sa, len);

	if (ret < 0 || !fvm_on()) {
		return ret;
	}
	struct sock_names *s = names_of(fd, false);
	if (s && sa && sa->sa_family == AF_UNIX && (local ? s->local_len : s->peer_len)) {
		return fvm_ret(local ? give_addr(&s->local, s->local_len, sa, len)
				     : give_addr(&s->peer, s->peer_len, sa, len));
	}
	narrow_addr(sa, len, cap);
	return 0;
}

int getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
	return sock_name(fd, sa, len, true);
}

int getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
	return sock_name(fd, sa, len, false);
}

int accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	socklen_t cap = fvm_bad_ptr(len) ? 0 : *len;
	int ret = REAL(accept)(fd, sa, len);

	if (ret >= 0 && sa && fvm_on()) {
		narrow_addr(sa, len, cap);
	}
	return ret;
}

int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	socklen_t cap = fvm_bad_ptr(len) ? 0 : *len;
	int ret = REAL(accept4)(fd, sa, len, flags);

	if (ret >= 0 && sa && fvm_on()) {
		narrow_addr(sa, len, cap);
	}
	return ret;
}

ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *sa, socklen_t *len)
{
	socklen_t cap = fvm_bad_ptr(len) ? 0 : *len;
	ssize_t ret = REAL(recvfrom)(fd, buf, n, flags, sa, len);

	if (ret >= 0 && sa && fvm_on()) {
		int saved = errno;
		narrow_addr(sa, len, cap);
		errno = saved;
	}
	return ret;
}

ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
		       struct sockaddr *sa, socklen_t *len)
{
	if (n > buflen) {
		/* Let libc's checker report the overflow as it would without libfvm. */
		return REAL(__recvfrom_chk)(fd, buf, n, buflen, flags, sa, len);
	}
	return recvfrom(fd, buf, n, flags, sa, len);
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	socklen_t cap = fvm_bad_range(msg, sizeof(*msg)) ? 0 : msg->msg_namelen;
	ssize_t ret = REAL(recvmsg)(fd, msg, flags);

	if (ret >= 0 && msg && msg->msg_name && fvm_on()) {
		narrow_addr(msg->msg_name, &msg->msg_namelen, cap);
	}
	return ret;
}
