/*
 * badsave: saves a file the wrong way, for hermes explore's tests.
 *
 * Usage: badsave FILE
 * Writes 64 KiB of 'x' to FILE.tmp in 4 KiB writes, fsyncs it and renames
 * it over FILE, without checking what write or fsync returned: a failed or
 * short write leaves a short FILE that looks saved. Exits 0.
 * The check for it: test "$(wc -c < FILE)" = 65536.
 */
// testbin:cflags -fno-omit-frame-pointer
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char buf[4096];

static void save(const char *path)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror(tmp);
		_exit(1);
	}
	for (int i = 0; i < 16; i++)
		write(fd, buf, sizeof buf); /* the planted bug: result ignored */
	fsync(fd);                          /* and this one */
	close(fd);
	rename(tmp, path);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: badsave FILE\n");
		return 2;
	}
	memset(buf, 'x', sizeof buf);
	save(argv[1]);
	return 0;
}
