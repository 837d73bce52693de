/*
 * mutexorder: threads race for a mutex and print the order they got it.
 *
 * Usage: mutexorder [N [R]]
 * Starts N threads (default 4), each of which R times (default 3) makes a
 * write to /dev/null, takes a shared mutex, appends its number (0..N-1) to
 * a shared array and lets the mutex go. After joining them the main thread
 * prints "order " and the array ("order 301230120312\n") and exits 0.
 * Which thread gets the mutex when depends on the schedule: the order
 * differs between native runs, and under hermes record --chaos.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define MAXT 16
#define MAXR 64

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char order[MAXT * MAXR + 1];
static int n;
static int rounds = 3;
static int devnull;

static void *worker(void *arg)
{
	int id = (int)(long)arg;
	for (int r = 0; r < rounds; r++) {
		if (write(devnull, "x", 1) != 1) {
			perror("mutexorder: write");
			exit(1);
		}
		pthread_mutex_lock(&mu);
		order[n++] = (char)('0' + id);
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int nt = argc > 1 ? atoi(argv[1]) : 4;
	if (argc > 2)
		rounds = atoi(argv[2]);
	if (nt < 1 || nt > MAXT || rounds < 1 || rounds > MAXR) {
		fprintf(stderr, "usage: mutexorder [N<=%d [R<=%d]]\n", MAXT, MAXR);
		return 2;
	}
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull < 0) {
		perror("mutexorder: open /dev/null");
		return 1;
	}
	pthread_t th[MAXT];
	for (int i = 0; i < nt; i++) {
		if (pthread_create(&th[i], NULL, worker, (void *)(long)i) != 0) {
			fprintf(stderr, "mutexorder: pthread_create failed\n");
			return 1;
		}
	}
	for (int i = 0; i < nt; i++)
		pthread_join(th[i], NULL);
	printf("order %s\n", order);
	return 0;
}
