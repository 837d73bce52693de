/*
 * restart: pids in results and arguments, and a sleep a signal interrupts.
 *
 * Usage: restart
 * Forks three children and reports, one line each:
 *   - the first exits with 7 at once, so its SIGCHLD arrives while the
 *     parent sleeps 100 ms in nanosleep(2) (which the kernel restarts);
 *     the parent reaps it with waitpid(2);
 *   - the second calls setsid(2) and exits 0 if it returned its pid; the
 *     parent reaps it with waitid(P_PID) and checks si_pid;
 *   - the third waits in pause(2) until the parent kill(2)s it with
 *     SIGTERM.
 * The lines show the children's pids as the parent saw them. Exits 0, or
 * 1 if anything was not as expected.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	int bad = 0, st;
	pid_t a = fork();
	if (a == 0)
		_exit(7);
	struct timespec ts = {0, 100 * 1000 * 1000};
	nanosleep(&ts, NULL);
	if (waitpid(a, &st, 0) != a || !WIFEXITED(st) || WEXITSTATUS(st) != 7)
		bad = 1;
	printf("child %d exited %d\n", a, WEXITSTATUS(st));

	pid_t b = fork();
	if (b == 0)
		_exit(setsid() == getpid() ? 0 : 1);
	siginfo_t si = {0};
	if (waitid(P_PID, b, &si, WEXITED) != 0 || si.si_pid != b || si.si_status != 0)
		bad = 1;
	printf("child %d: setsid ok, waitid saw %d\n", b, si.si_pid);

	pid_t c = fork();
	if (c == 0) {
		pause();
		_exit(1);
	}
	usleep(20 * 1000);
	if (kill(c, SIGTERM) != 0 || waitpid(c, &st, 0) != c || !WIFSIGNALED(st) || WTERMSIG(st) != SIGTERM)
		bad = 1;
	printf("child %d killed by signal %d\n", c, WTERMSIG(st));
	return bad;
}
