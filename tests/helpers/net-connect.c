/*
 * net-connect — one TCP connect, for tests/preload/t_net.sh.
 *
 *   net-connect ADDR PORT [BINDADDR]   prints "connected local=A peer=B", or
 *                                      "connect: strerror" and exits 1;
 *                                      BINDADDR: bind there first ("bind: ..." on failure)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void __attribute__((noreturn)) fail(const char *what)
{
	printf("%s: %s\n", what, strerror(errno));
	exit(1);
}

static const char *text(const struct sockaddr_in *in, char *buf, size_t len)
{
	char a[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
	snprintf(buf, len, "%s", a);
	return buf;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = {.sin_family = AF_INET}, me, peer;
	socklen_t ml = sizeof(me), pl = sizeof(peer);
	char b1[32], b2[32];
	int s;

	if (argc < 3 || inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
		fprintf(stderr, "usage: net-connect ADDR PORT [BINDADDR]\n");
		return 2;
	}
	to.sin_port = htons((unsigned short)atoi(argv[2]));
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) < 0) {
		fail("socket");
	}
	if (argc > 3) {
		struct sockaddr_in b = {.sin_family = AF_INET};
		inet_pton(AF_INET, argv[3], &b.sin_addr);
		if (bind(s, (struct sockaddr *)&b, sizeof(b)) < 0) {
			fail("bind");
		}
	}
	if (connect(s, (struct sockaddr *)&to, sizeof(to)) < 0) {
		fail("connect");
	}
	if (getsockname(s, (struct sockaddr *)&me, &ml) < 0 ||
	    getpeername(s, (struct sockaddr *)&peer, &pl) < 0) {
		fail("getsockname");
	}
	printf("connected local=%s peer=%s\n", text(&me, b1, sizeof(b1)), text(&peer, b2, sizeof(b2)));
	close(s);
	return 0;
}
