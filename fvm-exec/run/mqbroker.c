/*
 * mqbroker.c — the message-queue broker of a fenced run (fvm/mqbroker.h says why it
 * exists and what libfvm sends it).
 *
 * Rules:
 *  - Started by fence_prepare, before the fence exists, only when the fence needs it:
 *    Landlock is on and /dev/mqueue is not an mqueue mount a rule can cover.
 *  - The broker keeps no descriptor of fvm-exec's but its socket (no run lock: a VM whose
 *    broker lingers is not "running"); stdin, stdout and stderr are /dev/null, so a
 *    caller reading the run's output is never held open by it.
 *  - It opens a queue only for a well-formed request whose name carries the VM's IPC
 *    prefix, with the request's flags limited to FVM_MQ_OFLAGS; anything else is refused
 *    (EACCES for a foreign name, EINVAL for a malformed request).
 *  - It ignores the terminal's SIGINT, SIGQUIT and SIGHUP (daemons of the VM outlive a
 *    ^C of the command and still need it); SIGTERM of a run that ends ends it too.
 *  - It exits when the socket reports end of file: every process of the VM and
 *    fvm-exec have closed their copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
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
	sendmsg(reply, &msg, MSG_NOSIGNAL); /* a requester gone meanwhile: nothing to do */
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

static void __attribute__((noreturn)) serve(int sock, const char *prefix)
{
	static const int ignored[] = {SIGINT, SIGQUIT, SIGHUP, SIGPIPE};
	struct fvm_mq_request req;
	int reply;
	ssize_t n;

	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
		signal(ignored[i], SIG_IGN);
	}
	while ((n = take_request(sock, &req, &reply)) > 0) {
		if (reply < 0) {
			continue;
		}
		int q = (size_t)n == sizeof(req) ? serve_one(&req, prefix) : -EINVAL;
		give_reply(reply, q < 0 ? -q : 0, q);
		if (q >= 0) {
			close(q);
		}
		close(reply);
	}
	_exit(0);
}

int mq_broker_start(const char *vmdir, int *vm_end, pid_t *pid)
{
	char prefix[FVM_IPC_PREFIX_MAX];
	int sv[2];

	if (fvm_ipc_prefix(vmdir, prefix, sizeof(prefix)) < 0) {
		return -ENAMETOOLONG;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		return -errno;
	}
	fflush(NULL); /* nothing buffered is written twice */
	*pid = fork();
	if (*pid < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		return -e;
	}
	if (*pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (dup2(sv[0], 3) < 0 || null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
		    dup2(null, 2) < 0) {
			_exit(1);
		}
		close_range(4, ~0u, 0);
		serve(3, prefix);
	}
	close(sv[0]);
	*vm_end = sv[1];
	return 0;
}
