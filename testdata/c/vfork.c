/*
 * vfork: vfork + execve, parent waits.
 *
 * Usage: vfork          vfork()s; the child execve()s this program
 *                       (/proc/self/exe) with argument "child".
 *        vfork true     vfork()s; the child execve()s /bin/true.
 *        vfork child    (the exec'd child) prints "vfork child running\n"
 *                       and exits 42.
 * The parent waits for the child and prints "vfork child exited S\n"
 * (S = 42, or 0 for /bin/true), then exits 0. If the exec fails the child
 * _exit()s 127; if the child is killed the parent prints
 * "vfork child killed by SIG" and exits 1.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "child") == 0) {
		printf("vfork child running\n");
		fflush(stdout);
		return 42;
	}
	int use_true = argc > 1 && strcmp(argv[1], "true") == 0;
	char *self_args[] = {argv[0], "child", NULL};
	char *true_args[] = {"true", NULL};
	fflush(stdout);
	pid_t pid = vfork();
	if (pid < 0) {
		perror("vfork: vfork");
		return 1;
	}
	if (pid == 0) {
		if (use_true)
			execve("/bin/true", true_args, environ);
		else
			execve("/proc/self/exe", self_args, environ);
		_exit(127);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid) {
		perror("vfork: waitpid");
		return 1;
	}
	if (WIFSIGNALED(st)) {
		printf("vfork child killed by %d\n", WTERMSIG(st));
		fflush(stdout);
		return 1;
	}
	printf("vfork child exited %d\n", WEXITSTATUS(st));
	fflush(stdout);
	return 0;
}
