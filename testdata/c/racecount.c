/*
 * racecount: a flaky program, a lost update that a schedule rarely hits.
 *
 * Usage: racecount [DELAY_US]
 * The main thread starts a worker and sleeps DELAY_US microseconds
 * (default 30). Each of the two then adds one to a shared counter without
 * a lock: it reads the counter, writes a byte to /dev/null, and stores
 * what it read plus one. Natively the worker has long finished when the
 * main thread wakes, and the program prints "counter 2" and exits 0. When
 * the two updates overlap (the worker starts late, or a scheduler runs the
 * other thread between the read and the store) one is lost: it prints
 * "counter 1" and exits 1.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile int counter;
static int devnull;

static void add(void)
{
	int v = counter;
	(void)!write(devnull, "x", 1);
	counter = v + 1;
}

static void *worker(void *arg)
{
	(void)arg;
	add();
	return NULL;
}

int main(int argc, char **argv)
{
	long delay = argc > 1 ? atol(argv[1]) : 30;
	devnull = open("/dev/null", O_WRONLY);
	if (devnull < 0) {
		perror("racecount: /dev/null");
		return 2;
	}
	pthread_t t;
	if (pthread_create(&t, NULL, worker, NULL) != 0) {
		fprintf(stderr, "racecount: pthread_create failed\n");
		return 2;
	}
	struct timespec ts = {0, delay * 1000};
	nanosleep(&ts, NULL);
	add();
	pthread_join(t, NULL);
	printf("counter %d\n", counter);
	return counter == 2 ? 0 : 1;
}
