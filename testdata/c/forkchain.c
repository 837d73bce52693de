/*
 * forkchain: a chain of fork+exec, several levels deep.
 *
 * Usage: forkchain [DEPTH]   (default 3, at most 200)
 * At DEPTH 0 it prints "level 0 leaf\n" and exits 0. Otherwise it forks a
 * child that execs this same program (via /proc/self/exe) with DEPTH-1,
 * waits for it, prints "level D child exited S\n" (S = the child's exit
 * status) and exits with S+1. Hence "forkchain 3" prints
 *     level 0 leaf
 *     level 1 child exited 0
 *     level 2 child exited 1
 *     level 3 child exited 2
 * and exits 3. If a child dies from a signal the level prints
 * "level D child killed by SIG" and exits 125; fork/exec/wait errors exit 126.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int depth = argc > 1 ? atoi(argv[1]) : 3;
	if (depth < 0 || depth > 200) {
		fprintf(stderr, "usage: forkchain [DEPTH<=200]\n");
		return 2;
	}
	if (depth == 0) {
		printf("level 0 leaf\n");
		fflush(stdout);
		return 0;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		perror("forkchain: fork");
		return 126;
	}
	if (pid == 0) {
		char arg[16];
		snprintf(arg, sizeof arg, "%d", depth - 1);
		char *args[] = {argv[0], arg, NULL};
		execv("/proc/self/exe", args);
		perror("forkchain: execv");
		_exit(126);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid) {
		perror("forkchain: waitpid");
		return 126;
	}
	if (WIFSIGNALED(st)) {
		printf("level %d child killed by %d\n", depth, WTERMSIG(st));
		fflush(stdout);
		return 125;
	}
	printf("level %d child exited %d\n", depth, WEXITSTATUS(st));
	fflush(stdout);
	return WEXITSTATUS(st) + 1;
}
