/*
 * writekinds: every way a program writes a file's data, for the tests of
 * the policies that cover writes.
 *
 * Usage: writekinds DIR MODE...
 * DIR must hold "src", a file of at least 100 bytes, and "big", a file of
 * at least 20 bytes. For each MODE, opens DIR/MODE.out (O_WRONLY|O_CREAT|
 * O_TRUNC, 0644; "big" itself for ftruncate-shrink), makes the call and
 * prints "MODE: N" (what it returned) or "MODE: ENAME" (its errno):
 *   write, pwrite64, writev, pwritev, pwritev2   100 bytes of 'x'
 *   copy_file_range, sendfile   100 bytes from src
 *   splice          100 bytes from a pipe they were written to
 *   fallocate       4096 bytes at offset 0
 *   ftruncate-grow  ftruncate to 4096 bytes
 *   ftruncate-shrink  ftruncate big to 10 bytes
 *   ficlone         ioctl(FICLONE) from src
 *   ficlonerange    ioctl(FICLONERANGE) of src's first 4096 bytes
 * Exit 0; bad usage, or DIR without src or big: exit 2.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <unistd.h>

static char buf[100];

static void report(const char *mode, long r)
{
	if (r < 0) {
		const char *n = strerrorname_np(errno);
		printf("%s: %s\n", mode, n ? n : "E?");
	} else {
		printf("%s: %ld\n", mode, r);
	}
	fflush(stdout);
}

static long run(const char *dir, const char *mode, int src)
{
	char path[4096];
	struct iovec iov = {buf, sizeof buf};
	if (!strcmp(mode, "ftruncate-shrink")) {
		snprintf(path, sizeof path, "%s/big", dir);
		int fd = open(path, O_WRONLY);
		if (fd < 0)
			return -1;
		long r = ftruncate(fd, 10);
		close(fd);
		return r;
	}
	snprintf(path, sizeof path, "%s/%s.out", dir, mode);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	long r = -1;
	errno = EINVAL;
	off_t off = 0;
	if (!strcmp(mode, "write")) {
		r = write(fd, buf, sizeof buf);
	} else if (!strcmp(mode, "pwrite64")) {
		r = pwrite(fd, buf, sizeof buf, 0);
	} else if (!strcmp(mode, "writev")) {
		r = writev(fd, &iov, 1);
	} else if (!strcmp(mode, "pwritev")) {
		r = pwritev(fd, &iov, 1, 0);
	} else if (!strcmp(mode, "pwritev2")) {
		r = pwritev2(fd, &iov, 1, 0, 0);
	} else if (!strcmp(mode, "copy_file_range")) {
		loff_t in = 0;
		r = copy_file_range(src, &in, fd, NULL, sizeof buf, 0);
	} else if (!strcmp(mode, "sendfile")) {
		r = sendfile(fd, src, &off, sizeof buf);
	} else if (!strcmp(mode, "splice")) {
		int p[2];
		if (pipe(p) == 0) {
			if (write(p[1], buf, sizeof buf) == sizeof buf)
				r = splice(p[0], NULL, fd, NULL, sizeof buf, 0);
			close(p[0]);
			close(p[1]);
		}
	} else if (!strcmp(mode, "fallocate")) {
		r = fallocate(fd, 0, 0, 4096);
	} else if (!strcmp(mode, "ftruncate-grow")) {
		r = ftruncate(fd, 4096);
	} else if (!strcmp(mode, "ficlone")) {
		r = ioctl(fd, FICLONE, src);
	} else if (!strcmp(mode, "ficlonerange")) {
		struct file_clone_range fcr = {.src_fd = src, .src_offset = 0, .src_length = 4096, .dest_offset = 0};
		r = ioctl(fd, FICLONERANGE, &fcr);
	}
	int saved = errno;
	close(fd);
	errno = saved;
	return r;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	char path[4096];
	snprintf(path, sizeof path, "%s/src", argv[1]);
	int src = open(path, O_RDONLY);
	snprintf(path, sizeof path, "%s/big", argv[1]);
	if (src < 0 || access(path, W_OK) != 0)
		return 2;
	memset(buf, 'x', sizeof buf);
	for (int i = 2; i < argc; i++)
		report(argv[i], run(argv[1], argv[i], src));
	return 0;
}
