/*
 * flaky: a program that shrugs off most I/O errors but not one, for
 * hermes explore --minimize's tests.
 *
 * Usage: flaky DIR
 * Appends 40 lines to DIR/log, ignoring any error; writes "ok\n" to
 * DIR/state and exits 3 if that write fails; then appends 20 more lines
 * to DIR/log, again ignoring errors, and exits 0.
 */
// testbin:cflags -fno-omit-frame-pointer
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static void logline(int fd, int i)
{
	char line[64];
	int n = snprintf(line, sizeof line, "line %d\n", i);
	(void)!write(fd, line, (size_t)n); /* errors do not matter here */
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: flaky DIR\n");
		return 2;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/log", argv[1]);
	int log = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	snprintf(path, sizeof path, "%s/state", argv[1]);
	int state = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (log < 0 || state < 0) {
		perror("open");
		return 1;
	}
	for (int i = 0; i < 40; i++)
		logline(log, i);
	if (write(state, "ok\n", 3) != 3) {
		perror("flaky: state");
		return 3;
	}
	for (int i = 40; i < 60; i++)
		logline(log, i);
	return 0;
}
