/*
 * envexec: sets an environment variable and execs a program with it, or
 * shows variables without printing their values, for the tests of what a
 * trace keeps of secrets in the environment.
 *
 * Usage:
 *   envexec exec NAME=VALUE PROG [ARGS...]
 *     setenv(NAME, VALUE), then execve(PROG, [PROG, ARGS...], environ).
 *   envexec execat NAME=VALUE PROG [ARGS...]
 *     the same with execveat(AT_FDCWD, PROG, ..., 0).
 *   envexec show NAME...
 *     prints "NAME len=N sum=S" for each NAME set (S: the sum of the
 *     value's bytes), "NAME unset" for the others; exit 0.
 * A failed exec: "envexec: PROG: strerror" on stderr, exit 1. Bad usage:
 * exit 2.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

static int show(int n, char **names)
{
	for (int i = 0; i < n; i++) {
		const char *v = getenv(names[i]);
		if (!v) {
			printf("%s unset\n", names[i]);
			continue;
		}
		unsigned long sum = 0;
		for (const char *p = v; *p; p++)
			sum += (unsigned char)*p;
		printf("%s len=%zu sum=%lu\n", names[i], strlen(v), sum);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return show(argc - 2, argv + 2);
	if (argc < 4 || (strcmp(argv[1], "exec") != 0 && strcmp(argv[1], "execat") != 0)) {
		fprintf(stderr, "usage: envexec exec|execat NAME=VALUE PROG [ARGS...] | envexec show NAME...\n");
		return 2;
	}
	char *eq = strchr(argv[2], '=');
	if (!eq || eq == argv[2]) {
		fprintf(stderr, "envexec: %s: want NAME=VALUE\n", argv[2]);
		return 2;
	}
	*eq = '\0';
	if (setenv(argv[2], eq + 1, 1) != 0) {
		perror("envexec: setenv");
		return 1;
	}
	if (strcmp(argv[1], "exec") == 0)
		execve(argv[3], argv + 3, environ);
	else
		syscall(SYS_execveat, AT_FDCWD, argv[3], argv + 3, environ, 0);
	fprintf(stderr, "envexec: %s: %s\n", argv[3], strerror(errno));
	return 1;
}
