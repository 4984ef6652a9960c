/*
 * mq-broker-probe — speaks the queue broker's protocol (fvm/mqbroker.h) directly, as a
 * program that bypasses libfvm could, for tests/preload/t_ipc.sh.
 *
 *   mq-broker-probe NAME   asks the broker named by FVM_MQ_BROKER to open queue NAME
 *                          (the real name, "/..." as the kernel sees it) O_WRONLY|O_CREAT;
 *                          prints "broker: ok" or "broker: ERRNAME"; "broker: none"
 *                          when no broker is named. Exit 0 on ok.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fvm/mqbroker.h"

int main(int argc, char **argv)
{
	const char *env = getenv(FVM_ENV_MQ);
	struct fvm_mq_request req = {.version = FVM_MQ_VERSION, .oflag = O_WRONLY | O_CREAT,
				     .mode = 0600, .umask = 022};
	struct fvm_mq_reply rep = {.err = EIO};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = {.iov_base = &req, .iov_len = sizeof(req)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	int sv[2];

	if (argc != 2) {
		fprintf(stderr, "usage: mq-broker-probe NAME\n");
		return 2;
	}
	if (!env || !*env) {
		puts("broker: none");
		return 1;
	}
	snprintf(req.name, sizeof(req.name), "%s", argv[1]);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0) {
		perror("socketpair");
		return 1;
	}
	memset(&u, 0, sizeof(u));
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &sv[1], sizeof(int));
	if (sendmsg(atoi(env), &msg, 0) < 0) {
		printf("broker: send: %s\n", strerrorname_np(errno));
		return 1;
	}
	close(sv[1]);
	iov.iov_base = &rep;
	iov.iov_len = sizeof(rep);
	msg.msg_controllen = sizeof(u.buf);
	if (recvmsg(sv[0], &msg, 0) < 0) {
		printf("broker: recv: %s\n", strerrorname_np(errno));
		return 1;
	}
	printf("broker: %s\n", rep.err ? strerrorname_np(rep.err) : "ok");
	return rep.err ? 1 : 0;
}
