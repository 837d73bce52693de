/*
 * goodsave: saves a file the right way, for hermes explore's tests.
 *
 * Usage: goodsave FILE
 * Writes 64 KiB of 'x' to FILE.tmp, checking every write (a short write
 * is continued, an error ends the save), fsyncs it, renames it over FILE
 * and fsyncs the directory. On any failure it removes FILE.tmp, says why
 * on stderr and exits 1, leaving FILE as it was. Exits 0 when saved.
 * The check for it: test "$(wc -c < FILE)" = 65536.
 */
// testbin:cflags -fno-omit-frame-pointer
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char buf[65536];

static int fail(const char *what, const char *tmp)
{
	fprintf(stderr, "goodsave: %s: %s\n", what, strerror(errno));
	if (tmp != NULL)
		unlink(tmp);
	return 1;
}

static int save(const char *path)
{
	char tmp[4096], dir[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail("open", NULL);
	for (size_t off = 0; off < sizeof buf;) {
		size_t n = sizeof buf - off < 4096 ? sizeof buf - off : 4096;
		ssize_t w = write(fd, buf + off, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return fail("write", tmp);
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0) {
		close(fd);
		return fail("fsync", tmp);
	}
	if (close(fd) < 0)
		return fail("close", tmp);
	if (rename(tmp, path) < 0)
		return fail("rename", tmp);
	snprintf(dir, sizeof dir, "%s", path);
	int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: goodsave FILE\n");
		return 2;
	}
	memset(buf, 'x', sizeof buf);
	return save(argv[1]);
}
