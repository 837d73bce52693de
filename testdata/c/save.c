/*
 * save: writes a file and says so, for what-if replays.
 *
 * Usage: save OUT
 * Prints "start T R" (T: time(NULL), R: 8 bytes of getrandom in hex),
 * creates OUT (O_WRONLY|O_CREAT|O_TRUNC, 0644) and writes 64 KiB to it in
 * 4 KiB writes. On success prints "done" and exits 0. When a write fails it
 * prints "save: OUT: strerror" on stderr and "failed at T R" (a new time
 * and new random bytes) on stdout, and exits 4. Exit 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static void stamp(const char *what)
{
	unsigned char r[8];
	if (getrandom(r, sizeof r, 0) != sizeof r)
		memset(r, 0, sizeof r);
	printf("%s %lld ", what, (long long)time(NULL));
	for (size_t i = 0; i < sizeof r; i++)
		printf("%02x", r[i]);
	printf("\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: save OUT\n");
		return 2;
	}
	stamp("start");
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		fprintf(stderr, "save: %s: %s\n", argv[1], strerror(errno));
		return 4;
	}
	char buf[4096];
	memset(buf, 'x', sizeof buf);
	for (int i = 0; i < 16; i++) {
		if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) {
			fprintf(stderr, "save: %s: %s\n", argv[1], strerror(errno));
			stamp("failed at");
			return 4;
		}
	}
	close(fd);
	printf("done\n");
	return 0;
}
