/*
 * ignoreterm: ignores SIGTERM and sleeps for a while.
 *
 * Usage: ignoreterm [SECONDS]   (default 30; fractions allowed, e.g. 0.5)
 * signal(SIGTERM, SIG_IGN), prints "ready\n" (flushed), then loops in
 * nanosleep(10ms) until SECONDS have passed (CLOCK_MONOTONIC), prints
 * "done\n" and exits 0. A SIGTERM sent to it has no effect.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? strtod(argv[1], NULL) : 30;
	signal(SIGTERM, SIG_IGN);
	printf("ready\n");
	fflush(stdout);
	double end = now() + secs;
	struct timespec ts = {0, 10 * 1000 * 1000};
	while (now() < end)
		nanosleep(&ts, NULL);
	printf("done\n");
	fflush(stdout);
	return 0;
}
