/*
 * execthread: execve from a non-leader thread.
 *
 * Usage: execthread
 * The main thread prints "before exec\n", starts a second thread and then
 * blocks in pause(). The second thread sleeps 20ms (so the leader is parked
 * in pause) and calls execve("/proc/self/exe", {argv0, "child"}). The kernel
 * kills the leader, and the exec'ing thread takes over the leader's TID
 * (the tracer sees PTRACE_EVENT_EXEC with the old TID as the event message).
 *
 * Usage: execthread child   (the exec'd image) prints
 * "exec from thread ok\n" and exits 0.
 *
 * Net output: "before exec\nexec from thread ok\n", exit 0. If execve fails,
 * exits 127.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;
static char *self_args[3];

static void *execer(void *arg)
{
	(void)arg;
	struct timespec ts = {0, 20 * 1000 * 1000};
	nanosleep(&ts, NULL);
	execve("/proc/self/exe", self_args, environ);
	perror("execthread: execve");
	_exit(127);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "child") == 0) {
		printf("exec from thread ok\n");
		fflush(stdout);
		return 0;
	}
	self_args[0] = argv[0];
	self_args[1] = "child";
	self_args[2] = NULL;
	printf("before exec\n");
	fflush(stdout);
	pthread_t t;
	if (pthread_create(&t, NULL, execer, NULL) != 0) {
		fprintf(stderr, "execthread: pthread_create failed\n");
		return 1;
	}
	for (;;)
		pause();
}
