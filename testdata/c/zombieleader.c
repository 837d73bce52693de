/*
 * zombieleader: the main thread leaves with pthread_exit while a worker
 * thread goes on, so the thread-group leader is a zombie until the worker
 * ends the process. The worker prints "worker done" after 100ms of
 * syscalls and exits the process with status 5 (argv[1] if given).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int code = 5;

static void *worker(void *arg) {
	(void)arg;
	struct timespec ts = {0, 10 * 1000 * 1000};
	for (int i = 0; i < 10; i++) {
		getppid();
		nanosleep(&ts, NULL);
	}
	printf("worker done\n");
	fflush(stdout);
	exit(code);
}

int main(int argc, char **argv) {
	pthread_t t;
	if (argc > 1)
		code = atoi(argv[1]);
	if (pthread_create(&t, NULL, worker, NULL) != 0)
		return 1;
	pthread_exit(NULL);
}
