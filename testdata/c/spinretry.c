/*
 * spinretry: reads a file with a retry loop that never retries, for
 * hermes explore's tests.
 *
 * Usage: spinretry FILE
 * Copies FILE to standard output. When a read fails with EAGAIN or EINTR
 * it waits for the error to go away, but never reads again: the planted
 * bug, so one such failure makes it wait forever.
 */
// testbin:cflags -fno-omit-frame-pointer
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static int copy(int fd)
{
	char buf[4096];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		while (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct timespec ts = {0, 10 * 1000 * 1000};
			nanosleep(&ts, NULL); /* n is never read again */
		}
		if (n < 0) {
			perror("read");
			return 1;
		}
		if (n == 0)
			return 0;
		if (write(1, buf, (size_t)n) != n)
			return 1;
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: spinretry FILE\n");
		return 2;
	}
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	return copy(fd);
}
