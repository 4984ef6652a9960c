/*
 * sock-unix — AF_UNIX stream echo server and client, path or abstract names, for
 * tests/preload/t_socket.sh.
 *
 *   sock-unix serve NAME READY   binds NAME ("@x" is abstract "\0x"), prints its
 *                                getsockname, creates file READY, answers one client:
 *                                prints the accepted peer's name, echoes one line
 *   sock-unix call NAME MSG      connects, prints getpeername, sends MSG, prints reply
 *   sock-unix dgram NAME         binds a datagram socket at NAME, sends itself
 *                                datagrams (sendto, sendmsg, sendmmsg) and prints the
 *                                sender recvfrom, recvmsg and recvmmsg report
 * Names are printed with a leading NUL shown as '@'. Failures: "CALL: strerror", exit 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void __attribute__((noreturn)) fail(const char *what)
{
	printf("%s: %s\n", what, strerror(errno));
	exit(1);
}

static socklen_t make_addr(const char *name, struct sockaddr_un *un)
{
	size_t len = strlen(name);

	memset(un, 0, sizeof(*un));
	un->sun_family = AF_UNIX;
	if (len >= sizeof(un->sun_path)) {
		errno = ENAMETOOLONG;
		fail("address");
	}
	memcpy(un->sun_path, name, len);
	if (name[0] == '@') {
		un->sun_path[0] = '\0';
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	}
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
}

static void show(const char *what, const struct sockaddr_un *un, socklen_t len)
{
	size_t n = len > offsetof(struct sockaddr_un, sun_path)
			   ? len - offsetof(struct sockaddr_un, sun_path)
			   : 0;
	printf("%s=", what);
	if (n == 0) {
		printf("(unnamed)\n");
		return;
	}
	if (un->sun_path[0] == '\0') {
		printf("@%.*s\n", (int)n - 1, un->sun_path + 1);
	} else {
		printf("%s\n", un->sun_path);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_un un, got;
	socklen_t len, glen = sizeof(got);
	char buf[256];
	ssize_t n;
	int s;

	if (argc < 3) {
		fprintf(stderr, "usage: sock-unix serve NAME READY | call NAME MSG | dgram NAME\n");
		return 2;
	}
	len = make_addr(argv[2], &un);
	if (strcmp(argv[1], "serve") == 0 && argc == 4) {
		if ((s = socket(AF_UNIX, SOCK_STREAM, 0)) < 0) {
			fail("socket");
		}
		if (bind(s, (struct sockaddr *)&un, len) < 0) {
			fail("bind");
		}
		if (listen(s, 4) < 0 || getsockname(s, (struct sockaddr *)&got, &glen) < 0) {
			fail("listen");
		}
		show("bound", &got, glen);
		fflush(stdout);
		close(open(argv[3], O_WRONLY | O_CREAT, 0644));
		glen = sizeof(got);
		int c = accept(s, (struct sockaddr *)&got, &glen);
		if (c < 0) {
			fail("accept");
		}
		show("client", &got, glen);
		n = read(c, buf, sizeof(buf));
		if (n > 0 && write(c, buf, (size_t)n) != n) {
			fail("write");
		}
		close(c);
		return 0;
	}
	if (strcmp(argv[1], "call") == 0 && argc == 4) {
		if ((s = socket(AF_UNIX, SOCK_STREAM, 0)) < 0) {
			fail("socket");
		}
		if (connect(s, (struct sockaddr *)&un, len) < 0) {
			fail("connect");
		}
		if (getpeername(s, (struct sockaddr *)&got, &glen) < 0) {
			fail("getpeername");
		}
		show("peer", &got, glen);
		if (write(s, argv[3], strlen(argv[3])) < 0 || (n = read(s, buf, sizeof(buf) - 1)) < 0) {
			fail("echo");
		}
		buf[n] = '\0';
		printf("reply=%s\n", buf);
		return 0;
	}
	if (strcmp(argv[1], "dgram") == 0 && argc == 3) {
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
		struct msghdr msg = {.msg_name = &got, .msg_namelen = sizeof(got), .msg_iov = &iov,
				     .msg_iovlen = 1};
		if ((s = socket(AF_UNIX, SOCK_DGRAM, 0)) < 0) {
			fail("socket");
		}
		if (bind(s, (struct sockaddr *)&un, len) < 0) {
			fail("bind");
		}
		if (sendto(s, "a", 1, 0, (struct sockaddr *)&un, len) < 0 ||
		    recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&got, &glen) < 0) {
			fail("sendto/recvfrom");
		}
		show("recvfrom", &got, glen);
		struct msghdr out = {.msg_name = &un, .msg_namelen = len, .msg_iov = &iov,
				     .msg_iovlen = 1};
		iov.iov_len = 1;
		if (sendmsg(s, &out, 0) < 0) {
			fail("sendmsg");
		}
		iov.iov_len = sizeof(buf);
		if (recvmsg(s, &msg, 0) < 0) {
			fail("recvmsg");
		}
		show("recvmsg", &got, msg.msg_namelen);
		/* Two datagrams in one sendmmsg, read back with one recvmmsg. */
		struct mmsghdr mv[2], rv[2];
		struct sockaddr_un from[2];
		char rb[2][8];
		struct iovec riov[2] = {{rb[0], sizeof(rb[0])}, {rb[1], sizeof(rb[1])}};
		memset(mv, 0, sizeof(mv));
		memset(rv, 0, sizeof(rv));
		for (int i = 0; i < 2; i++) {
			mv[i].msg_hdr = out;
			rv[i].msg_hdr.msg_name = &from[i];
			rv[i].msg_hdr.msg_namelen = sizeof(from[i]);
			rv[i].msg_hdr.msg_iov = &riov[i];
			rv[i].msg_hdr.msg_iovlen = 1;
		}
		if (sendmmsg(s, mv, 2, 0) != 2 || recvmmsg(s, rv, 2, MSG_WAITFORONE, NULL) < 1) {
			fail("sendmmsg/recvmmsg");
		}
		show("recvmmsg", &from[0], rv[0].msg_hdr.msg_namelen);
		return 0;
	}
	fprintf(stderr, "usage: sock-unix serve NAME READY | call NAME MSG | dgram NAME\n");
	return 2;
}
