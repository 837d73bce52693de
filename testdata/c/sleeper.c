/*
 * sleeper: a long-running, mostly sleeping process for attach/detach tests.
 *
 * Usage: sleeper [SECONDS]   (default 60; fractions allowed)
 * Prints "pid P\n" and "ready\n" (flushed), then every 10ms does
 * write(devnull, "x", 1) and nanosleep(10ms), counting iterations. Each time
 * it receives SIGUSR1 it prints "alive N\n" (N = iterations so far) from the
 * main loop. After SECONDS (CLOCK_MONOTONIC) it prints "sleeper done\n" and
 * exits 0. SIGUSR1 interrupts nanosleep (no SA_RESTART), which is harmless.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t usr1;

static void on_usr1(int sig)
{
	(void)sig;
	usr1++;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? strtod(argv[1], NULL) : 60;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	int dn = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (dn < 0) {
		perror("sleeper: open /dev/null");
		return 1;
	}
	printf("pid %d\nready\n", (int)getpid());
	fflush(stdout);
	double end = now() + secs;
	long iters = 0;
	sig_atomic_t seen = 0;
	struct timespec ts = {0, 10 * 1000 * 1000};
	while (now() < end) {
		if (write(dn, "x", 1) != 1) {
			perror("sleeper: write");
			return 1;
		}
		nanosleep(&ts, NULL);
		iters++;
		while (seen != usr1) {
			seen++;
			printf("alive %ld\n", iters);
			fflush(stdout);
		}
	}
	printf("sleeper done\n");
	fflush(stdout);
	return 0;
}
