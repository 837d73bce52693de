/*
 * forkwrite: two processes write, one after the other, for tests of
 * injection rules that pick a process (lineage=) and short writes.
 *
 * Usage: forkwrite
 * Forks. The child makes two write(2)s of "child-data\n" (11 bytes) to
 * stdout, then prints "child: R1 R2\n" on stderr (R: what each write
 * returned, or -ERRNO), and exits 0. The parent waits for it, then does
 * the same with "parent-data\n" (12 bytes) and "parent: R1 R2\n". Exits 0,
 * or 1 when fork or wait fails.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void writes(const char *who)
{
	char data[32];
	long r[2];
	snprintf(data, sizeof data, "%s-data\n", who);
	for (int i = 0; i < 2; i++) {
		r[i] = write(1, data, strlen(data));
		if (r[i] < 0)
			r[i] = -errno;
	}
	dprintf(2, "%s: %ld %ld\n", who, r[0], r[1]);
}

int main(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		writes("child");
		return 0;
	}
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return 1;
	writes("parent");
	return 0;
}
