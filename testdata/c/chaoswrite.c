/*
 * chaoswrite: many small writes to one file, for fault-injection replay tests.
 *
 * Usage: chaoswrite FILE N
 * Opens FILE with O_WRONLY|O_CREAT|O_TRUNC (0644), then for i = 0..N-1 does
 * one write(2) (no retry) of "line i\n" to it and prints to stdout
 * "write i: ok" or "write i: STRERROR" (e.g. "write 3: Input/output error"
 * for an injected EIO; a short write prints "write i: short W of L").
 * Then prints "failed K of N". Stdout is flushed only at the end.
 * Exit 0 if K == 0, else 3; open failure: message on stderr, exit 1;
 * bad usage exit 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char *end = NULL;
	long n = argc == 3 ? strtol(argv[2], &end, 10) : -1;
	if (argc != 3 || *end != '\0' || n < 0) {
		fprintf(stderr, "usage: chaoswrite FILE N\n");
		return 2;
	}
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "chaoswrite: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	long failed = 0;
	for (long i = 0; i < n; i++) {
		char line[32];
		int len = snprintf(line, sizeof line, "line %ld\n", i);
		ssize_t w = write(fd, line, (size_t)len);
		if (w == len) {
			printf("write %ld: ok\n", i);
		} else if (w < 0) {
			printf("write %ld: %s\n", i, strerror(errno));
			failed++;
		} else {
			printf("write %ld: short %zd of %d\n", i, w, len);
			failed++;
		}
	}
	close(fd);
	printf("failed %ld of %ld\n", failed, n);
	fflush(stdout);
	return failed == 0 ? 0 : 3;
}
