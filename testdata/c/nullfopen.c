/*
 * nullfopen: reads a settings file without checking that fopen worked,
 * for hermes explore's tests.
 *
 * Usage: nullfopen FILE
 * Prints the first line of FILE. When fopen fails (ENOENT, EACCES,
 * EMFILE...) it reads through the NULL it got and dies of SIGSEGV: the
 * planted bug.
 */
// testbin:cflags -fno-omit-frame-pointer
#include <stdio.h>

static void show(const char *path)
{
	char line[256];
	FILE *f = fopen(path, "r");
	if (fgets(line, sizeof line, f) != NULL) /* f may be NULL */
		fputs(line, stdout);
	fclose(f);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: nullfopen FILE\n");
		return 2;
	}
	show(argv[1]);
	return 0;
}
