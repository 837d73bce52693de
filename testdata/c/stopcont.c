/*
 * stopcont: job control of a child (group-stop, SIGCONT, WUNTRACED,
 * WCONTINUED).
 *
 * Usage: stopcont
 * Forks a child that raise(SIGSTOP)s itself. The parent:
 *   waitpid(WUNTRACED)  -> stopped;   prints "child stopped by 19"
 *   kill(child, SIGCONT)
 *   waitpid(WCONTINUED) -> continued; prints "child continued"
 *   writes a byte to a pipe that releases the child, which then exits 7
 *   waitpid()           -> exited;    prints "child exited 7"
 * (The pipe keeps the child from exiting before the parent has observed the
 * "continued" state, which would otherwise be a race.)
 * Exit 0; any unexpected wait status prints "unexpected status 0x..." and
 * exits 1.
 */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static int fail(const char *what, int st)
{
	printf("unexpected status 0x%x at %s\n", st, what);
	fflush(stdout);
	return 1;
}

int main(void)
{
	int p[2];
	if (pipe(p) != 0) {
		perror("stopcont: pipe");
		return 1;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		perror("stopcont: fork");
		return 1;
	}
	if (pid == 0) {
		close(p[1]);
		raise(SIGSTOP);
		char c;
		while (read(p[0], &c, 1) < 0)
			;
		_exit(7);
	}
	close(p[0]);
	int st;
	if (waitpid(pid, &st, WUNTRACED) != pid || !WIFSTOPPED(st))
		return fail("stop", st);
	printf("child stopped by %d\n", WSTOPSIG(st));
	fflush(stdout);

	if (kill(pid, SIGCONT) != 0) {
		perror("stopcont: kill");
		return 1;
	}
	if (waitpid(pid, &st, WCONTINUED) != pid || !WIFCONTINUED(st))
		return fail("continue", st);
	printf("child continued\n");
	fflush(stdout);

	if (write(p[1], "x", 1) != 1) {
		perror("stopcont: write");
		return 1;
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return fail("exit", st);
	printf("child exited %d\n", WEXITSTATUS(st));
	fflush(stdout);
	return 0;
}
