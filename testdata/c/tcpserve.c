/*
 * tcpserve: a one-connection TCP server.
 *
 * Usage: tcpserve PORT
 * Listens on 127.0.0.1:PORT, prints "listening" (flushed), accepts one
 * connection, reads one line from it, answers "echo: LINE" and closes.
 * Prints what it received and the peer's address family, and exits 0; 1 if
 * a call fails.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	int s = socket(AF_INET, SOCK_STREAM, 0), on = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(s, 1) < 0)
		return 1;
	printf("listening\n");
	fflush(stdout);
	struct sockaddr_in peer;
	socklen_t len = sizeof peer;
	int c = accept(s, (struct sockaddr *)&peer, &len);
	if (c < 0)
		return 1;
	char buf[256];
	ssize_t n = read(c, buf, sizeof buf - 1);
	if (n <= 0)
		return 1;
	buf[n] = 0;
	char out[300];
	int m = snprintf(out, sizeof out, "echo: %s", buf);
	if (write(c, out, m) != m)
		return 1;
	close(c);
	printf("got %zd bytes from family %d: %s", n, peer.sin_family, buf);
	return 0;
}
