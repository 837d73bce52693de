/*
 * signals: signal handlers, self-kill, blocked signals and sigsuspend.
 *
 * Usage: signals
 * 1. Installs a SIGUSR1 handler (SA_RESTART), a SIGUSR2 handler and a
 *    SIGCHLD handler.
 * 2. kill(getpid(), SIGUSR1); the handler runs before kill returns; prints
 *    "got SIGUSR1".
 * 3. Blocks SIGUSR2 and SIGCHLD, forks a child that does
 *    kill(getppid(), SIGUSR2) and _exit(0). The parent waits in sigsuspend()
 *    with both unblocked until the SIGUSR2 handler has run, then prints
 *    "got SIGUSR2 via sigsuspend".
 * 4. Reaps the child with waitpid, waits (sigsuspend) for the SIGCHLD handler
 *    if it has not run yet, prints "child reaped status 0" and "got SIGCHLD".
 *
 * Output:
 *     got SIGUSR1
 *     got SIGUSR2 via sigsuspend
 *     child reaped status 0
 *     got SIGCHLD
 * Exit 0; any failure prints to stderr and exits 1.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got_usr1, got_usr2, got_chld;

static void on_usr1(int sig) { (void)sig; got_usr1 = 1; }
static void on_usr2(int sig) { (void)sig; got_usr2 = 1; }
static void on_chld(int sig) { (void)sig; got_chld = 1; }

static void install(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) != 0) {
		perror("signals: sigaction");
		_exit(1);
	}
}

int main(void)
{
	install(SIGUSR1, on_usr1, SA_RESTART);
	install(SIGUSR2, on_usr2, SA_RESTART);
	install(SIGCHLD, on_chld, SA_RESTART);

	if (kill(getpid(), SIGUSR1) != 0) {
		perror("signals: kill");
		return 1;
	}
	if (!got_usr1) {
		fprintf(stderr, "signals: SIGUSR1 handler did not run\n");
		return 1;
	}
	printf("got SIGUSR1\n");
	fflush(stdout);

	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &block, &old) != 0) {
		perror("signals: sigprocmask");
		return 1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("signals: fork");
		return 1;
	}
	if (pid == 0) {
		kill(getppid(), SIGUSR2);
		_exit(0);
	}
	sigset_t wait_mask = old;
	sigdelset(&wait_mask, SIGUSR2);
	sigdelset(&wait_mask, SIGCHLD);
	while (!got_usr2)
		sigsuspend(&wait_mask);
	printf("got SIGUSR2 via sigsuspend\n");
	fflush(stdout);

	int st;
	if (waitpid(pid, &st, 0) != pid) {
		perror("signals: waitpid");
		return 1;
	}
	while (!got_chld)
		sigsuspend(&wait_mask);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (!WIFEXITED(st)) {
		fprintf(stderr, "signals: child did not exit normally\n");
		return 1;
	}
	printf("child reaped status %d\n", WEXITSTATUS(st));
	printf("got SIGCHLD\n");
	fflush(stdout);
	return 0;
}
