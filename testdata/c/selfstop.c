/*
 * selfstop: stops itself and waits to be continued from outside.
 *
 * Usage: selfstop
 * Prints "before stop\n" (flushed), raise(SIGSTOP), and once somebody sends
 * it SIGCONT prints "after cont\n" and exits 0.
 */
#include <signal.h>
#include <stdio.h>

int main(void)
{
	printf("before stop\n");
	fflush(stdout);
	raise(SIGSTOP);
	printf("after cont\n");
	fflush(stdout);
	return 0;
}
