/*
 * futexwake: waiters in several processes on a shared-memory futex, woken
 * by FUTEX_CMP_REQUEUE and FUTEX_WAKE (after LTP's futex_cmp_requeue01).
 *
 * Usage: futexwake [WAITERS [TIMEOUT_S]]   (defaults 100 and 5)
 * As under LTP's harness, the work is done by a child of the process
 * started (the "tester"), which forks WAITERS processes that FUTEX_WAIT on
 * a futex word of a MAP_SHARED page, with a timeout of TIMEOUT_S seconds.
 * The tester waits until every waiter is asleep (state S in
 * /proc/PID/stat, as LTP's TST_PROCESS_STATE_WAIT), changes the futex
 * word (so that a restarted wait returns EAGAIN instead of queueing
 * again), wakes half of the waiters and requeues the others onto a second
 * futex with one FUTEX_CMP_REQUEUE, then wakes that one with FUTEX_WAKE.
 * A woken waiter keeps making system calls (getppid in a loop, as LTP's
 * children keep sleeping in usleep until the test is done) until the
 * tester says it is done, or TIMEOUT_S seconds have passed.
 * A waiter whose wait times out prints
 *   waiter N wasn't woken up: ETIMEDOUT
 * on stdout and exits 1. At the end the tester prints
 *   futexwake: W waiters woken
 * and everything exits 0, or 1 if any waiter failed or a count was wrong
 * (message on stdout). Usage errors: exit 2.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct shared {
	atomic_int futex[2];
	atomic_int done;
};

static long futex(atomic_int *uaddr, int op, int val, unsigned long val2, atomic_int *uaddr2, int val3)
{
	return syscall(SYS_futex, uaddr, op, val, val2, uaddr2, val3);
}

/* procState returns the state letter of /proc/PID/stat, or 0. */
static char procState(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' ? p[2] : 0;
}

static int waiter(struct shared *sh, int i, int timeout)
{
	struct timespec ts = {timeout, 0};
	int ret = 0;
	if (futex(&sh->futex[0], FUTEX_WAIT, 0, (unsigned long)&ts, NULL, 0) == -1 && errno != EAGAIN) {
		printf("waiter %d wasn't woken up: %s\n", i, errno == ETIMEDOUT ? "ETIMEDOUT" : strerror(errno));
		fflush(stdout);
		ret = 1;
	}
	struct timespec end, now;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += timeout;
	do
		syscall(SYS_getppid);
	while (!atomic_load(&sh->done) && clock_gettime(CLOCK_MONOTONIC, &now) == 0 &&
	       (now.tv_sec < end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec)));
	return ret;
}

static int tester(struct shared *sh, int waiters, int timeout)
{
	pid_t *pids = calloc(waiters, sizeof *pids);
	if (pids == NULL) {
		perror("calloc");
		return 1;
	}
	fflush(stdout);
	for (int i = 0; i < waiters; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("fork");
			return 1;
		}
		if (pids[i] == 0)
			_exit(waiter(sh, i, timeout));
	}
	for (int i = 0; i < waiters; i++) {
		char s;
		while ((s = procState(pids[i])) != 'S' && s != 'Z' && s != 0)
			usleep(1000);
	}
	atomic_fetch_add(&sh->futex[0], 1);
	int wake = waiters / 2, requeue = waiters - wake;
	long n = futex(&sh->futex[0], FUTEX_CMP_REQUEUE, wake, (unsigned long)requeue, &sh->futex[1], 1);
	long woken = futex(&sh->futex[1], FUTEX_WAKE, INT_MAX, 0, NULL, 0);
	atomic_store(&sh->done, 1);
	int failed = 0;
	for (int i = 0; i < waiters; i++) {
		int st;
		if (waitpid(pids[i], &st, 0) < 0) {
			perror("waitpid");
			return 1;
		}
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed++;
	}
	if (n != waiters || woken != requeue) {
		printf("FUTEX_CMP_REQUEUE woke or requeued %ld of %d, FUTEX_WAKE woke %ld of %d\n", n, waiters, woken, requeue);
		failed++;
	}
	if (!failed)
		printf("futexwake: %d waiters woken\n", waiters);
	fflush(stdout);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	int waiters = argc > 1 ? atoi(argv[1]) : 100;
	int timeout = argc > 2 ? atoi(argv[2]) : 5;
	if (waiters < 2 || waiters > 2000 || timeout < 1 || argc > 3) {
		fprintf(stderr, "usage: futexwake [WAITERS [TIMEOUT_S]]\n");
		return 2;
	}
	struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0)
		_exit(tester(sh, waiters, timeout));
	int st;
	if (waitpid(pid, &st, 0) < 0) {
		perror("waitpid");
		return 1;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
