/*
 * threads: many threads racing through cheap syscalls.
 *
 * Usage: threads [N [M [nofiles]]]
 * Starts N pthreads (default 8) that are released together from a barrier.
 * Each thread opens /dev/null O_WRONLY once, then does M iterations
 * (default 200) of:
 *     getpid(); write(devnull, "x", 1); fd = openat(AT_FDCWD, "/dev/zero",
 *     O_RDONLY); close(fd);
 * With "nofiles" an iteration is getpid() and the write only: no
 * descriptor's number then depends on the order of the threads.
 * then closes its /dev/null descriptor. After joining all threads the main
 * thread prints "threads done N\n" and exits 0. Any syscall failure prints a
 * message to stderr and exits 1.
 *
 * So a tracer should see N*M each of getpid, write (to /dev/null), openat of
 * "/dev/zero" and close of the resulting fd.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int iters = 200;
static int nofiles;
static pthread_barrier_t barrier;

static void *worker(void *arg)
{
	(void)arg;
	int dn = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (dn < 0) {
		perror("threads: open /dev/null");
		exit(1);
	}
	pthread_barrier_wait(&barrier);
	for (int i = 0; i < iters; i++) {
		if (getpid() <= 0) {
			fprintf(stderr, "threads: getpid failed\n");
			exit(1);
		}
		if (write(dn, "x", 1) != 1) {
			perror("threads: write");
			exit(1);
		}
		if (nofiles)
			continue;
		int fd = openat(AT_FDCWD, "/dev/zero", O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			perror("threads: openat /dev/zero");
			exit(1);
		}
		if (close(fd) != 0) {
			perror("threads: close");
			exit(1);
		}
	}
	close(dn);
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 8;
	if (argc > 2)
		iters = atoi(argv[2]);
	if (argc > 3)
		nofiles = strcmp(argv[3], "nofiles") == 0;
	if (n < 1 || n > 4096 || iters < 0 || (argc > 3 && !nofiles)) {
		fprintf(stderr, "usage: threads [N [M [nofiles]]]\n");
		return 2;
	}
	pthread_t *tids = calloc(n, sizeof *tids);
	if (!tids || pthread_barrier_init(&barrier, NULL, n) != 0) {
		fprintf(stderr, "threads: setup failed\n");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		if (pthread_create(&tids[i], NULL, worker, NULL) != 0) {
			fprintf(stderr, "threads: pthread_create failed\n");
			return 1;
		}
	}
	for (int i = 0; i < n; i++)
		pthread_join(tids[i], NULL);
	printf("threads done %d\n", n);
	fflush(stdout);
	return 0;
}
