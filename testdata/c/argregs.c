/*
 * argregs: checks that a system call gives back its argument registers.
 *
 * Usage: argregs
 * Makes getppid with rdi, rsi, rdx, r10, r8 and r9 set to known values
 * (getppid ignores them) and checks, right after the syscall instruction,
 * that they still hold them, as the kernel leaves them. Prints "kept\n"
 * and exits 0, or "changed: REG=VALUE ...\n" and exits 1. A tracer that
 * changes arguments at entry (hermes.modify_arg) must give them back.
 * Then allocates 1 MiB in small pieces with malloc and prints "malloc ok\n"
 * (where brk fails, malloc goes on with mmap).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>

int main(void)
{
	unsigned long in[6] = {0x1111, 0x2222, 0x3333, 0x4444, 0x5555, 0x6666};
	unsigned long out[6];
	long ret;
	register unsigned long r10 __asm__("r10") = in[3];
	register unsigned long r8 __asm__("r8") = in[4];
	register unsigned long r9 __asm__("r9") = in[5];
	unsigned long rdi = in[0], rsi = in[1], rdx = in[2];
	__asm__ volatile("syscall"
			 : "=a"(ret), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r10), "+r"(r8), "+r"(r9)
			 : "a"((long)SYS_getppid)
			 : "rcx", "r11", "memory");
	out[0] = rdi, out[1] = rsi, out[2] = rdx, out[3] = r10, out[4] = r8, out[5] = r9;
	static const char *names[6] = {"rdi", "rsi", "rdx", "r10", "r8", "r9"};
	int bad = 0;
	for (int i = 0; i < 6; i++) {
		if (out[i] != in[i]) {
			printf("%s%s=%#lx", bad ? " " : "changed: ", names[i], out[i]);
			bad = 1;
		}
	}
	if (bad) {
		printf("\n");
		return 1;
	}
	printf("kept\n");
	(void)ret;
	for (int i = 0; i < 1024; i++) {
		char *p = malloc(1024);
		if (!p) {
			printf("malloc failed\n");
			return 1;
		}
		p[0] = (char)i;
	}
	printf("malloc ok\n");
	return 0;
}
