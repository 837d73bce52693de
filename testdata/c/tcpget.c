/*
 * tcpget: a minimal TCP client, for recording and replaying network I/O.
 *
 * Usage: tcpget PORT
 * Connects to 127.0.0.1:PORT, writes "GET\n" (no shutdown of the write
 * side: the server must close the connection), reads until EOF, then prints
 * "got N bytes:\n" followed by the N bytes exactly as received.
 * Exit 0; connect (or any other) failure: "tcpget: ...: strerror" on
 * stderr, exit 1; bad usage exit 2.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "tcpget: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void write_all(int fd, const char *p, size_t n, const char *what)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			die(what);
		}
		p += w;
		n -= (size_t)w;
	}
}

int main(int argc, char **argv)
{
	char *end;
	long port = argc == 2 ? strtol(argv[1], &end, 10) : -1;
	if (argc != 2 || *end != '\0' || port <= 0 || port > 65535) {
		fprintf(stderr, "usage: tcpget PORT\n");
		return 2;
	}
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		fprintf(stderr, "tcpget: connect 127.0.0.1:%ld: %s\n", port, strerror(errno));
		return 1;
	}
	write_all(fd, "GET\n", 4, "write");
	size_t len = 0, cap = 4096;
	char *data = malloc(cap);
	for (;;) {
		if (!data)
			die("malloc");
		ssize_t r = read(fd, data + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("read");
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == cap)
			data = realloc(data, cap *= 2);
	}
	close(fd);
	printf("got %zu bytes:\n", len);
	fflush(stdout);
	write_all(1, data, len, "stdout");
	return 0;
}
