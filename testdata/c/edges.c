/*
 * edges: corner cases of record and replay, one per mode.
 *
 * Usage: edges MODE
 *   bigwrite   one 8 KiB write of 'a's with $X (or "none") at byte 5000
 *   writev     writev of "hello " and $X, then "\n"
 *   pause      a SIGALRM handler without SA_RESTART, a 50 ms timer, pause(2)
 *              ends with EINTR; prints "woke: EINTR"
 *   sarestart  a SIGUSR1 handler with SA_RESTART; a child signals the
 *              parent while it waits in wait4(2), which the kernel restarts;
 *              prints the child's exit status
 *   joinmain   main calls pthread_exit; another thread pthread_joins it
 *              (the kernel wakes it through set_tid_address's futex)
 *   clonetid   a raw clone(CLONE_THREAD) thread: prints whether clone's
 *              result is the tid the thread sees in gettid(2)
 *   roclock    clock_gettime(2) into a read-only page: prints the errno
 *   mono       prints CLOCK_MONOTONIC's seconds (run it in a time namespace
 *              to see its offset)
 *   procpid    reads /proc/PID/comm, PID from getpid(2)
 * Exits 0, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void onsig(int s) { (void)s; }

static pthread_t mainth;
static void *joiner(void *a)
{
	(void)a;
	pthread_join(mainth, NULL);
	write(1, "joined main\n", 12);
	return NULL;
}

static volatile int child_tid;
static int threadfn(void *a)
{
	(void)a;
	__atomic_store_n(&child_tid, (int)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	syscall(SYS_exit, 0);
	return 0;
}
static char stack[1 << 16];

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	const char *x = getenv("X");
	if (!x)
		x = "none";
	const char *mode = argv[1];
	if (!strcmp(mode, "bigwrite")) {
		static char buf[8192];
		memset(buf, 'a', sizeof buf);
		memcpy(buf + 5000, x, strlen(x));
		buf[sizeof buf - 1] = '\n';
		return write(1, buf, sizeof buf) == sizeof buf ? 0 : 1;
	}
	if (!strcmp(mode, "writev")) {
		struct iovec v[2] = {{"hello ", 6}, {(void *)x, strlen(x)}};
		writev(1, v, 2);
		write(1, "\n", 1);
		return 0;
	}
	if (!strcmp(mode, "pause")) {
		struct sigaction sa = {.sa_handler = onsig};
		sigaction(SIGALRM, &sa, NULL);
		struct itimerval it = {.it_value = {0, 50 * 1000}};
		setitimer(ITIMER_REAL, &it, NULL);
		int r = pause();
		printf("woke: %s\n", r < 0 ? "EINTR" : "?");
		return 0;
	}
	if (!strcmp(mode, "sarestart")) {
		struct sigaction sa = {.sa_handler = onsig, .sa_flags = SA_RESTART};
		sigaction(SIGUSR1, &sa, NULL);
		pid_t c = fork();
		if (c == 0) {
			struct timespec ts = {0, 50 * 1000 * 1000};
			nanosleep(&ts, NULL);
			kill(getppid(), SIGUSR1);
			nanosleep(&ts, NULL);
			_exit(3);
		}
		int st;
		pid_t r = waitpid(c, &st, 0);
		printf("child %s, status %d\n", r == c ? "reaped" : "lost", WEXITSTATUS(st));
		return 0;
	}
	if (!strcmp(mode, "joinmain")) {
		mainth = pthread_self();
		pthread_t t;
		pthread_create(&t, NULL, joiner, NULL);
		pthread_exit(NULL);
	}
	if (!strcmp(mode, "clonetid")) {
		int t = clone(threadfn, stack + sizeof stack,
			      CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM, NULL);
		while (!__atomic_load_n(&child_tid, __ATOMIC_SEQ_CST))
			sched_yield();
		printf("clone returned %s tid as the thread's gettid\n", t == child_tid ? "the same" : "another");
		return 0;
	}
	if (!strcmp(mode, "roclock")) {
		void *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		long r = syscall(SYS_clock_gettime, CLOCK_MONOTONIC, ro);
		printf("read-only clock_gettime: %ld %s\n", r, r < 0 ? strerror(errno) : "");
		return 0;
	}
	if (!strcmp(mode, "procpid")) {
		char path[64], comm[64] = "";
		snprintf(path, sizeof path, "/proc/%d/comm", (int)getpid());
		FILE *f = fopen(path, "r");
		if (!f || !fgets(comm, sizeof comm, f)) {
			perror(path);
			return 1;
		}
		printf("%s: %s", path, comm);
		return 0;
	}
	if (!strcmp(mode, "mono")) {
		struct timespec ts;
		syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
		printf("monotonic: %ld\n", (long)ts.tv_sec);
		return 0;
	}
	return 2;
}
