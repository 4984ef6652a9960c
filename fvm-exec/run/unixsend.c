/*
 * unixsend.c — the AF_UNIX guard's datagrams (run.h): under unix = vm the run's
 * supervisor answers sendto(2) with an address, and every sendmsg(2) and sendmmsg(2),
 * of both ABIs, so that a datagram reaches no socket outside the VM that connect(2)
 * could not reach (unixguard.c): /dev/log, /run/systemd/notify, a host service's socket.
 *
 * Rules:
 *  - The filter (seccomp.c) lets sendto with no address (a NULL pointer in a register:
 *    send(2), the common case) through; the address of sendmsg is in memory the filter
 *    cannot read, so every sendmsg and sendmmsg comes here (the cost is measured in the
 *    README: one round trip to the supervisor per call).
 *  - What only the socket's kind decides is continued (SECCOMP_USER_NOTIF_FLAG_CONTINUE):
 *    other families (inet: Landlock's and the socket rules'), and AF_UNIX stream and
 *    seqpacket sockets, to which the kernel sends no datagram to an address (stream:
 *    EISCONN or EOPNOTSUPP; seqpacket: the address is ignored, or ENOTCONN). So is a
 *    datagram to an abstract name, which Landlock scopes to the VM (ABI 6). A continued
 *    call is read again by the kernel: see the README's Limitations for that race.
 *  - A datagram of an AF_UNIX SOCK_DGRAM socket is sent HERE, never continued, with or
 *    without an address: the message is read once from the caller's memory (the
 *    address, at most one datagram of the socket's SO_SNDBUF less 32 bytes and at most
 *    SEND_MAX bytes of data, else EMSGSIZE as the kernel gives, and CONTROL_MAX bytes of
 *    ancillary data), and sent on a pidfd_getfd copy of the caller's socket. A path
 *    address is resolved and decided as connect's (unix_guard_resolve, with the caller's
 *    fsuid, fsgid and groups), and the datagram goes to "/proc/self/fd/N" of the inode
 *    checked. No address: to the socket's peer, as the kernel would.
 *  - Ancillary data: SCM_RIGHTS passes the caller's own descriptors (each taken with
 *    pidfd_getfd; one it lacks is EBADF). SCM_CREDENTIALS is refused (EPERM): the kernel
 *    would check the credentials against the supervisor's, not the caller's. Anything
 *    else is EINVAL, the kernel's answer on an AF_UNIX socket.
 *  - The supervisor never blocks on a receiver: each send is MSG_DONTWAIT | MSG_NOSIGNAL;
 *    for a caller that would block (no MSG_DONTWAIT, a blocking socket), a full receiver
 *    is tried again for at most WAIT_MS in all, then the call fails with EAGAIN.
 *  - sendmmsg: the messages are sent one by one as above, each one's msg_len written
 *    back into the caller's vector; the count sent is returned (an error only when the
 *    first fails). A vector of more than one message that names an abstract address is
 *    sent up to that message, which cannot be continued alone (EACCES when it is first).
 *  - The notification id is checked after each read of the caller (notify_valid).
 *  - No datagram is relayed to --trace's socket (EACCES): there the kernel's word on
 *    the sender (SCM_CREDENTIALS) would name this process, not the caller. libfvm's
 *    send(2) there is never notified.
 */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

#define SEND_MAX (4u << 20) /* bytes of one datagram, whatever SO_SNDBUF says */
#define CONTROL_MAX 4096    /* bytes of ancillary data */
#define FDS_MAX 253         /* SCM_MAX_FD */
#define WAIT_MS 1000        /* a blocking caller's full receiver, at most */
#ifndef UIO_MAXIOV
#define UIO_MAXIOV 1024
#endif

/* One call's context: the caller, a copy of its socket, its ABI. */
struct send_ctx {
	const struct notify *n;
	const struct seccomp_notif *req;
	pid_t pid;
	int sock;
	bool compat; /* the i386 ABI: 32-bit msghdr, iovec, cmsghdr and mmsghdr */
};

/* A message as the caller laid it out, pointers into its memory. */
struct msg_in {
	uint64_t name, iov, control;
	uint64_t namelen, iovlen, controllen;
};

/* A message read from the caller, ready to send. */
struct msg_out {
	const struct unix_guard *g;
	int sock;
	struct sockaddr_un sa;  /* an address that is no path (the kernel answers it) */
	socklen_t salen;        /* 0: none */
	bool has_path, absolute;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
	int dirfd;              /* the caller's root or cwd, for PATH */
	char *data;
	size_t len;
	union {
		char buf[CMSG_SPACE(sizeof(int) * FDS_MAX)];
		struct cmsghdr align;
	} control;
	size_t controllen;
	int fds[FDS_MAX];
	int nfds;
	int flags;
	bool blocking;
	const struct notify *n;
	uint64_t id;
};

static void msg_out_free(struct msg_out *m)
{
	for (int i = 0; i < m->nfds; i++) {
		close(m->fds[i]);
	}
	if (m->dirfd >= 0) {
		close(m->dirfd);
	}
	free(m->data);
}

/* The socket's kind decides: 1 when the call is sent here (AF_UNIX SOCK_DGRAM), 0 when
 * it is continued, -errno. */
static int classify(const struct send_ctx *c)
{
	int domain = 0, type = 0;
	socklen_t dl = sizeof(domain), tl = sizeof(type);

	if (getsockopt(c->sock, SOL_SOCKET, SO_DOMAIN, &domain, &dl) < 0 ||
	    getsockopt(c->sock, SOL_SOCKET, SO_TYPE, &type, &tl) < 0) {
		return errno == ENOTSOCK ? -ENOTSOCK : -errno;
	}
	return domain == AF_UNIX && type == SOCK_DGRAM;
}

/* The msghdr at ADDR in C's caller, by its ABI. 0 or -EFAULT. */
static int read_msghdr(const struct send_ctx *c, uint64_t addr, struct msg_in *m)
{
	if (c->compat) {
		uint32_t h[7]; /* name, namelen, iov, iovlen, control, controllen, flags */
		if (notify_read(c->pid, addr, h, sizeof(h)) < 0) {
			return -EFAULT;
		}
		*m = (struct msg_in){.name = h[0], .namelen = h[1], .iov = h[2], .iovlen = h[3],
				     .control = h[4], .controllen = h[5]};
		return 0;
	}
	struct msghdr h;
	if (notify_read(c->pid, addr, &h, sizeof(h)) < 0) {
		return -EFAULT;
	}
	*m = (struct msg_in){.name = (uintptr_t)h.msg_name, .namelen = h.msg_namelen, .iov = (uintptr_t)h.msg_iov,
			     .iovlen = h.msg_iovlen, .control = (uintptr_t)h.msg_control,
			     .controllen = h.msg_controllen};
	return 0;
}

/* The caller's iovec array of M into RIOV (remote addresses), its total in *TOTAL. */
static int read_iov(const struct send_ctx *c, const struct msg_in *m, struct iovec *riov, size_t *total)
{
	static uint64_t raw[UIO_MAXIOV * 2]; /* the supervisor is one thread */
	size_t esize = c->compat ? 8 : sizeof(struct iovec);

	*total = 0;
	if (m->iovlen > UIO_MAXIOV) {
		return -EMSGSIZE;
	}
	if (m->iovlen && notify_read(c->pid, m->iov, raw, (size_t)m->iovlen * esize) < 0) {
		return -EFAULT;
	}
	for (size_t i = 0; i < m->iovlen; i++) {
		uint64_t base, len;
		if (c->compat) {
			uint32_t v[2];
			memcpy(v, (char *)raw + i * esize, sizeof(v));
			base = v[0];
			len = v[1];
		} else {
			base = raw[2 * i];
			len = raw[2 * i + 1];
		}
		if (len > SEND_MAX || *total + len > SEND_MAX) {
			return -EMSGSIZE;
		}
		riov[i].iov_base = (void *)(uintptr_t)base;
		riov[i].iov_len = (size_t)len;
		*total += (size_t)len;
	}
	return 0;
}

/* The data RIOV[0..NIOV) (TOTAL bytes) of the caller into O->data. */
static int read_data(const struct send_ctx *c, const struct iovec *riov, size_t niov, size_t total,
		     struct msg_out *o)
{
	int sndbuf = 0;
	socklen_t sl = sizeof(sndbuf);

	if (getsockopt(c->sock, SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl) == 0 && sndbuf > 32 &&
	    total > (size_t)sndbuf - 32) {
		return -EMSGSIZE; /* unix_dgram_sendmsg's own bound */
	}
	o->data = malloc(total ? total : 1);
	if (!o->data) {
		return -ENOMEM;
	}
	o->len = total;
	struct iovec local = {.iov_base = o->data, .iov_len = total};
	/* process_vm_readv takes IOV_MAX remote segments at once: UIO_MAXIOV is that. */
	if (total && (size_t)process_vm_readv(c->pid, &local, 1, riov, niov, 0) != total) {
		return -EFAULT;
	}
	return 0;
}

/* The caller's ancillary data of M into O (its descriptors copied). */
static int read_control(const struct send_ctx *c, const struct msg_in *m, struct msg_out *o)
{
	unsigned char buf[CONTROL_MAX];
	size_t hdr = c->compat ? 12 : sizeof(struct cmsghdr), align = c->compat ? 4 : sizeof(size_t);
	int fdnums[FDS_MAX];
	int nfd = 0;

	if (!m->control || m->controllen == 0) {
		return 0;
	}
	if (m->controllen > sizeof(buf)) {
		return -ENOBUFS;
	}
	if (notify_read(c->pid, m->control, buf, (size_t)m->controllen) < 0) {
		return -EFAULT;
	}
	for (size_t off = 0; off + hdr <= m->controllen;) {
		uint64_t len;
		int32_t level, type;
		if (c->compat) {
			uint32_t l;
			memcpy(&l, buf + off, 4);
			len = l;
			memcpy(&level, buf + off + 4, 4);
			memcpy(&type, buf + off + 8, 4);
		} else {
			size_t l;
			memcpy(&l, buf + off, sizeof(l));
			len = l;
			memcpy(&level, buf + off + sizeof(size_t), 4);
			memcpy(&type, buf + off + sizeof(size_t) + 4, 4);
		}
		if (len < hdr || len > m->controllen - off) {
			return -EINVAL;
		}
		if (level != SOL_SOCKET) {
			return -EINVAL;
		}
		if (type == SCM_CREDENTIALS) {
			return -EPERM;
		}
		if (type != SCM_RIGHTS) {
			return -EINVAL;
		}
		for (size_t p = off + hdr; p + sizeof(int) <= off + len; p += sizeof(int)) {
			if (nfd >= FDS_MAX) {
				return -EINVAL;
			}
			memcpy(&fdnums[nfd++], buf + p, sizeof(int));
		}
		off += (len + align - 1) & ~(align - 1);
	}
	for (int i = 0; i < nfd; i++) {
		int fd = notify_getfd(c->pid, fdnums[i]);
		if (fd < 0) {
			return -EBADF;
		}
		o->fds[o->nfds++] = fd;
	}
	if (o->nfds) {
		struct cmsghdr *cm = (struct cmsghdr *)o->control.buf;
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)o->nfds);
		memcpy(CMSG_DATA(cm), o->fds, sizeof(int) * (size_t)o->nfds);
		o->controllen = CMSG_SPACE(sizeof(int) * (size_t)o->nfds);
	}
	return 0;
}

/*
 * Reads the message M (its data at RIOV, NIOV segments) of C's caller into O. Returns 0,
 * 1 when its address is an abstract name (nothing read but the address), or -errno.
 */
static int read_msg(const struct send_ctx *c, const struct msg_in *m, struct iovec *riov, size_t niov,
		    struct msg_out *o)
{
	size_t total = 0;
	int r;

	if (m->name && m->namelen) {
		if (m->namelen > sizeof(o->sa)) {
			return -EINVAL;
		}
		if (notify_read(c->pid, m->name, &o->sa, (size_t)m->namelen) < 0) {
			return -EFAULT;
		}
		o->salen = (socklen_t)m->namelen;
		if (o->sa.sun_family == AF_UNIX && o->salen > sizeof(sa_family_t)) {
			if (o->sa.sun_path[0] == '\0') {
				return 1; /* abstract: Landlock's */
			}
			size_t plen = o->salen - offsetof(struct sockaddr_un, sun_path);
			memcpy(o->path, o->sa.sun_path, plen);
			o->path[plen] = '\0';
			o->has_path = true;
			o->absolute = o->path[0] == '/';
		}
	}
	if (riov == NULL) { /* sendmsg, sendmmsg: the caller's iovec array */
		static struct iovec vec[UIO_MAXIOV];
		if ((r = read_iov(c, m, vec, &total)) < 0) {
			return r;
		}
		riov = vec;
		niov = (size_t)m->iovlen;
	} else {
		for (size_t i = 0; i < niov; i++) {
			if (riov[i].iov_len > SEND_MAX) {
				return -EMSGSIZE;
			}
			total += riov[i].iov_len;
		}
	}
	if ((r = read_data(c, riov, niov, total, o)) < 0 || (r = read_control(c, m, o)) < 0) {
		return r;
	}
	if (o->has_path && (o->dirfd = notify_dirfd(c->pid, AT_FDCWD, o->path)) < 0) {
		return -ESRCH;
	}
	return notify_valid(c->n, c->req->id) ? 0 : -ESRCH;
}

/* Sends O (with the caller's credentials when it has a path). 0 or -errno. */
static long send_cb(void *arg)
{
	struct msg_out *o = arg;
	struct sockaddr_un via = {.sun_family = AF_UNIX};
	struct iovec iov = {.iov_base = o->data, .iov_len = o->len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = o->controllen ? o->control.buf : NULL, .msg_controllen = o->controllen};
	int fd = -1;
	long r;

	if (o->has_path) {
		if ((fd = unix_guard_resolve(o->g, o->dirfd, o->absolute, o->path)) < 0) {
			return fd;
		}
		if (trace_is_socket(fd, -1)) {
			close(fd);
			return -EACCES; /* relayed, its sender would be this process (trace.c) */
		}
		snprintf(via.sun_path, sizeof(via.sun_path), "/proc/self/fd/%d", fd);
		mh.msg_name = &via;
		mh.msg_namelen = sizeof(via);
	} else if (o->salen) {
		mh.msg_name = &o->sa;
		mh.msg_namelen = o->salen;
	}
	for (long waited = 0, step = 1;; waited += step, step = step < 64 ? step * 2 : step) {
		r = sendmsg(o->sock, &mh, o->flags | MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ? -errno : 0;
		if (r != -EAGAIN || !o->blocking || waited >= WAIT_MS || !notify_valid(o->n, o->id)) {
			break;
		}
		struct timespec ts = {0, step * 1000000L};
		nanosleep(&ts, NULL);
	}
	if (fd >= 0) {
		close(fd);
	}
	return r;
}

/* Sends O for C's caller: bytes sent or -errno. */
static long send_one(const struct send_ctx *c, struct msg_out *o, int flags)
{
	long r;

	o->g = &c->n->unixg;
	o->sock = c->sock;
	o->flags = flags & ~MSG_DONTWAIT;
	o->blocking = !(flags & MSG_DONTWAIT) && !(fcntl(c->sock, F_GETFL) & O_NONBLOCK);
	o->n = c->n;
	o->id = c->req->id;
	if (!o->has_path && !o->salen && trace_is_socket(-1, c->sock)) {
		return -EACCES; /* --trace's socket takes direct sends only: see trace.c */
	}
	r = o->has_path ? notify_as(c->pid, send_cb, o) : send_cb(o);
	return r < 0 ? r : (long)o->len; /* a datagram goes whole */
}

/* Takes the caller's socket and decides. 1: send here (C->sock set), 0: continued. */
static int begin(struct send_ctx *c, const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	int r;

	*cont = false;
	c->n = n;
	c->req = req;
	c->pid = (pid_t)req->pid;
	c->compat = req->data.arch == SCMP_ARCH_X86;
	if ((c->sock = notify_getfd(c->pid, (int)(uint32_t)req->data.args[0])) < 0) {
		return c->sock;
	}
	if (!notify_valid(n, req->id)) {
		r = -ESRCH;
	} else if ((r = classify(c)) == 0) {
		*cont = true;
	}
	if (r <= 0) {
		close(c->sock);
	}
	return r;
}

/* Reads M (with RIOV, NIOV when the call passed its data apart) and sends it for C's
 * caller with FLAGS, then lets go of C's socket: what sendto and sendmsg share. */
static long send_msg(struct send_ctx *c, const struct msg_in *m, struct iovec *riov, size_t niov,
		     int flags, bool *cont)
{
	struct msg_out o = {.dirfd = -1};
	long r = read_msg(c, m, riov, niov, &o);

	if (r == 1) {
		*cont = true; /* an abstract name */
		r = 0;
	} else if (r == 0) {
		r = send_one(c, &o, flags);
	}
	msg_out_free(&o);
	close(c->sock);
	return r;
}

long unix_guard_sendto(const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	struct send_ctx c;
	struct msg_in m = {.name = req->data.args[4], .namelen = (uint32_t)req->data.args[5]};
	struct iovec riov = {.iov_base = (void *)(uintptr_t)req->data.args[1], .iov_len = (size_t)req->data.args[2]};
	long r = begin(&c, n, req, cont);

	if (r <= 0) {
		return r;
	}
	return send_msg(&c, &m, &riov, 1, (int)(uint32_t)req->data.args[3], cont);
}

long unix_guard_sendmsg(const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	struct send_ctx c;
	struct msg_in m;
	long r = begin(&c, n, req, cont);

	if (r <= 0) {
		return r;
	}
	if ((r = read_msghdr(&c, req->data.args[1], &m)) != 0) {
		close(c.sock);
		return r;
	}
	return send_msg(&c, &m, NULL, 0, (int)(uint32_t)req->data.args[2], cont);
}

long unix_guard_sendmmsg(const struct notify *n, const struct seccomp_notif *req, bool *cont)
{
	struct send_ctx c;
	uint64_t vec = req->data.args[1];
	unsigned vlen = (unsigned)(uint32_t)req->data.args[2];
	int flags = (int)(uint32_t)req->data.args[3];
	long r = begin(&c, n, req, cont);
	unsigned sent = 0;

	if (r <= 0) {
		return r;
	}
	size_t stride = c.compat ? 32 : sizeof(struct mmsghdr); /* msghdr, then msg_len */
	size_t lenoff = c.compat ? 28 : offsetof(struct mmsghdr, msg_len);
	if (vlen > UIO_MAXIOV) {
		vlen = UIO_MAXIOV; /* as the kernel does */
	}
	for (r = 0; sent < vlen && r >= 0; sent++) {
		struct msg_out o = {.dirfd = -1};
		struct msg_in m;
		uint64_t at = vec + sent * stride;
		if ((r = read_msghdr(&c, at, &m)) == 0 && (r = read_msg(&c, &m, NULL, 0, &o)) == 1) {
			if (vlen == 1) {
				*cont = true; /* one message to an abstract name */
				r = 0;
				msg_out_free(&o);
				break;
			}
			r = sent ? -EAGAIN : -EACCES; /* stop before it: sent so far */
		} else if (r == 0 && (r = send_one(&c, &o, flags)) >= 0) {
			uint32_t len = (uint32_t)r;
			struct iovec local = {.iov_base = &len, .iov_len = sizeof(len)};
			struct iovec remote = {.iov_base = (void *)(uintptr_t)(at + lenoff), .iov_len = sizeof(len)};
			if (process_vm_writev(c.pid, &local, 1, &remote, 1, 0) != sizeof(len)) {
				r = -EFAULT;
			}
		}
		msg_out_free(&o);
		if (r < 0) {
			break;
		}
	}
	close(c.sock);
	if (*cont) {
		return 0;
	}
	return sent ? (long)sent : r;
}
