/*
 * killself: dies from a signal.
 *
 * Usage: killself [SIG|fault]
 * Sets RLIMIT_CORE to 0 (so no core file is written), prints "dying\n"
 * (flushed), then:
 *   no argument  kill(getpid(), SIGKILL)        -> killed by 9  (shell: 137)
 *   SIG (number) kill(getpid(), SIG)            -> killed by SIG (128+SIG)
 *   fault        stores through a NULL pointer  -> SIGSEGV, 11  (shell: 139)
 * If it survives (e.g. the signal is ignored/blocked) it prints "survived"
 * and exits 1.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct rlimit rl = {0, 0};
	setrlimit(RLIMIT_CORE, &rl);
	printf("dying\n");
	fflush(stdout);
	if (argc > 1 && strcmp(argv[1], "fault") == 0) {
		volatile int *p = NULL;
		*p = 1;
	} else {
		int sig = argc > 1 ? atoi(argv[1]) : SIGKILL;
		kill(getpid(), sig);
	}
	printf("survived\n");
	fflush(stdout);
	return 1;
}
