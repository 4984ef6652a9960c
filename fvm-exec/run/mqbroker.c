/*
 * mqbroker.c — the message-queue broker of a fenced run (fvm/mqbroker.h says why it
 * exists and what libfvm sends it).
 *
 * Rules:
 *  - Its socket is made by fence_prepare, before the fence exists, only when the fence
 *    needs it: Landlock is on and /dev/mqueue is not an mqueue mount a rule can cover.
 *  - It is a job of the run's supervisor (supervise.c): one descriptor of its poll loop,
 *    one request served each time poll says one came; it never blocks on a VM (the
 *    socket is nonblocking, a reply is sent MSG_DONTWAIT).
 *  - It opens a queue only for a well-formed request whose name carries the VM's IPC
 *    prefix, with the request's flags limited to FVM_MQ_OFLAGS; anything else is refused
 *    (EACCES for a foreign name, EINVAL for a malformed request).
 *  - It is dropped from the loop when the socket reports end of file: every process of
 *    the VM has closed its copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "fvm/ipcname.h"
#include "fvm/mqbroker.h"
#include "run.h"

#define MQUEUE_MAGIC 0x19800202

bool mq_broker_needed(void)
{
	struct statfs sfs;
	/* A mounted mqueue: the fence's rule on /dev/mqueue covers every queue. */
	return statfs("/dev/mqueue", &sfs) < 0 || sfs.f_type != MQUEUE_MAGIC;
}

/* Receives one request and the reply socket that comes with it. Returns its size, 0 at
 * end of file, -1 on an error to give up on; *REPLY is -1 when none came. */
static ssize_t take_request(int sock, struct fvm_mq_request *req, int *reply)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = {.iov_base = req, .iov_len = sizeof(*req)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	ssize_t n;

	*reply = -1;
	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	struct cmsghdr *c = n >= 0 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
	    c->cmsg_len == CMSG_LEN(sizeof(int))) {
		memcpy(reply, CMSG_DATA(c), sizeof(int));
	}
	return n;
}

static void give_reply(int reply, int err, int q)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct fvm_mq_reply rep = {.err = err};
	struct iovec iov = {.iov_base = &rep, .iov_len = sizeof(rep)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	if (q >= 0) {
		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &q, sizeof(int));
	}
	/* A requester gone meanwhile, or whose socket is full: nothing to do; the
	 * supervisor never waits for a VM. */
	sendmsg(reply, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* The broker's answer to REQ: a queue descriptor, or -errno. */
static int serve_one(const struct fvm_mq_request *req, const char *prefix)
{
	size_t plen = strlen(prefix);
	const char *name = req->name;

	if (req->version != FVM_MQ_VERSION || !memchr(name, '\0', sizeof(req->name)) ||
	    (req->oflag & ~FVM_MQ_OFLAGS) != 0) {
		return -EINVAL;
	}
	if (name[0] != '/' || strncmp(name + 1, prefix, plen) != 0 || strchr(name + 1, '/')) {
		return -EACCES;
	}
	struct mq_attr attr = {.mq_maxmsg = (long)req->maxmsg, .mq_msgsize = (long)req->msgsize};
	umask((mode_t)req->umask & 0777);
	mqd_t q = mq_open(name, req->oflag, (mode_t)req->mode & 07777,
			  (req->oflag & O_CREAT) && req->has_attr ? &attr : NULL);
	return q == (mqd_t)-1 ? -errno : (int)q;
}

int mq_broker_serve(const struct mq_broker *b)
{
	struct fvm_mq_request req;
	mode_t old;
	int reply;
	ssize_t n = take_request(b->sock, &req, &reply);

	if (n <= 0) {
		return n == 0 ? 0 : errno == EAGAIN ? 1 : -1;
	}
	if (reply < 0) {
		return 1;
	}
	old = umask(0);
	int q = (size_t)n == sizeof(req) ? serve_one(&req, b->prefix) : -EINVAL;
	umask(old);
	give_reply(reply, q < 0 ? -q : 0, q);
	if (q >= 0) {
		close(q);
	}
	close(reply);
	return 1;
}

int mq_broker_open(const char *vmdir, struct mq_broker *b, int *vm_end)
{
	int sv[2];

	b->sock = -1;
	if (fvm_ipc_prefix(vmdir, b->prefix, sizeof(b->prefix)) < 0) {
		return -ENAMETOOLONG;
	}
	/* Nonblocking on the broker's side: a request is taken only when poll says one came. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
	    fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0) {
		return -errno;
	}
	b->sock = sv[0];
	*vm_end = sv[1];
	return 0;
}
