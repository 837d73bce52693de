/*
 * envdiv: behaviour chosen by an environment variable, for replay
 * divergence tests (a replay with a different environment opens another
 * file).
 *
 * Usage: envdiv FILE
 * If HERMES_MODE is "b", opens "FILE.b", else FILE (O_RDONLY); reads it to
 * EOF (at most 64 KiB) and prints "length N\n" followed by the N bytes read.
 * Then calls stat("/") (nothing printed) and exits 0.
 * Open failure: "envdiv: PATH: strerror" on stderr, exit 2. Read or stat
 * failure: message on stderr, exit 1. Bad usage: exit 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: envdiv FILE\n");
		return 2;
	}
	const char *mode = getenv("HERMES_MODE");
	char path[4096];
	snprintf(path, sizeof path, "%s%s", argv[1],
		 mode && strcmp(mode, "b") == 0 ? ".b" : "");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "envdiv: %s: %s\n", path, strerror(errno));
		return 2;
	}
	static char data[1 << 16];
	size_t len = 0;
	ssize_t r;
	while (len < sizeof data && (r = read(fd, data + len, sizeof data - len)) != 0) {
		if (r < 0) {
			fprintf(stderr, "envdiv: read %s: %s\n", path, strerror(errno));
			return 1;
		}
		len += (size_t)r;
	}
	close(fd);
	printf("length %zu\n", len);
	fwrite(data, 1, len, stdout);
	fflush(stdout);
	struct stat st;
	if (stat("/", &st) != 0) {
		fprintf(stderr, "envdiv: stat /: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
