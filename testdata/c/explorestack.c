// testbin:cflags -O0 -fno-omit-frame-pointer
/*
 * explorestack: writes from known functions, for call-stack tests.
 *
 * Usage: explorestack
 * main calls save("one\n"), then relay(), which calls save("two\n"); save
 * writes its argument to stdout with write(2). Built with frame pointers,
 * so a frame-pointer walk at each write names save, then relay (second
 * write only), then main. Exits 0.
 */
#include <string.h>
#include <unistd.h>

__attribute__((noinline)) static void save(const char *s)
{
	if (write(1, s, strlen(s)) < 0)
		_exit(3);
}

__attribute__((noinline)) static void relay(void)
{
	save("two\n");
}

int main(void)
{
	save("one\n");
	relay();
	return 0;
}
