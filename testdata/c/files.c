/*
 * files: cat-like reader/writer, handy for fault-injection tests.
 *
 * Usage: files [-w OUT] [PATH...]
 * For each PATH: open(O_RDONLY), read in 4 KiB chunks, write the bytes to
 * stdout, close. Then, if -w OUT is given: open OUT with
 * O_WRONLY|O_CREAT|O_TRUNC (0644), write "written\n", close.
 * Errors are reported on stderr as "files: PATH: strerror" (and for OUT
 * "files: OUT: strerror"); processing continues with the next path and the
 * exit status is 1. Exit 0 if everything succeeded, 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int report(const char *path)
{
	fprintf(stderr, "files: %s: %s\n", path, strerror(errno));
	return 1;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int cat(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return report(path);
	char buf[4096];
	for (;;) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int rc = report(path);
			close(fd);
			return rc;
		}
		if (r == 0)
			break;
		if (write_all(1, buf, (size_t)r) != 0) {
			int rc = report("stdout");
			close(fd);
			return rc;
		}
	}
	if (close(fd) != 0)
		return report(path);
	return 0;
}

int main(int argc, char **argv)
{
	const char *out = NULL;
	int i = 1;
	if (i < argc && strcmp(argv[i], "-w") == 0) {
		if (i + 1 >= argc) {
			fprintf(stderr, "usage: files [-w OUT] [PATH...]\n");
			return 2;
		}
		out = argv[i + 1];
		i += 2;
	}
	int rc = 0;
	for (; i < argc; i++)
		rc |= cat(argv[i]);
	if (out) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			rc |= report(out);
		} else {
			if (write_all(fd, "written\n", 8) != 0)
				rc |= report(out);
			if (close(fd) != 0)
				rc |= report(out);
		}
	}
	return rc;
}
