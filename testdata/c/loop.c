/*
 * loop: a tight loop of one cheap system call, for benchmarks.
 *
 * Usage: loop [N [getppid|getpid|write|openat]]   (defaults: 1000 getppid)
 * Does N iterations of the named syscall, issued directly via syscall(2):
 *   getppid, getpid  the syscall itself
 *   write            write(fd, "x", 1) to a /dev/null fd opened beforehand
 *   write-any        the same, counting failed writes (stderr) instead of stopping
 *   openat           openat(AT_FDCWD, "/dev/null", O_RDONLY) followed by
 *                    close(fd) (two syscalls per iteration)
 * then prints "loop done\n" and exits 0. Unknown syscall name: exit 2;
 * a failing syscall: message on stderr, exit 1.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;
	const char *what = argc > 2 ? argv[2] : "getppid";
	if (strcmp(what, "getppid") == 0) {
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
	} else if (strcmp(what, "getpid") == 0) {
		for (long i = 0; i < n; i++)
			syscall(SYS_getpid);
	} else if (strcmp(what, "write") == 0) {
		int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			perror("loop: open /dev/null");
			return 1;
		}
		for (long i = 0; i < n; i++) {
			if (syscall(SYS_write, fd, "x", 1) != 1) {
				perror("loop: write");
				return 1;
			}
		}
		close(fd);
	} else if (strcmp(what, "write-any") == 0) {
		/* Like write, but failed writes (injected faults) are counted,
		 * not fatal; the count goes to stderr. */
		long errors = 0;
		int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			perror("loop: open /dev/null");
			return 1;
		}
		for (long i = 0; i < n; i++)
			if (syscall(SYS_write, fd, "x", 1) != 1)
				errors++;
		close(fd);
		fprintf(stderr, "loop: %ld failed writes\n", errors);
	} else if (strcmp(what, "openat") == 0) {
		for (long i = 0; i < n; i++) {
			long fd = syscall(SYS_openat, AT_FDCWD, "/dev/null",
					  O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				perror("loop: openat");
				return 1;
			}
			syscall(SYS_close, fd);
		}
	} else {
		fprintf(stderr, "usage: loop [N [getppid|getpid|write|write-any|openat]]\n");
		return 2;
	}
	printf("loop done\n");
	fflush(stdout);
	return 0;
}
