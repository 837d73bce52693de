/*
 * hello: the simplest traced target.
 *
 * Usage: hello [CODE]
 * Prints "hello\n" to stdout with a single write(2) and exits with status
 * CODE (default 0).
 */
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (write(1, "hello\n", 6) != 6)
		return 100;
	return argc > 1 ? atoi(argv[1]) : 0;
}
