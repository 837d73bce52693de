// testbin:cflags -no-pie
/*
 * int80: i386 system calls from a 64-bit process via "int $0x80".
 *
 * Usage: int80
 * Issues, through the 32-bit (compat) entry point:
 *   write(1, buf, 12)   i386 nr 4, buf = "int80 write\n" in a static array
 *   getpid()            i386 nr 20
 * The int $0x80 ABI only passes 32-bit pointers, so the buffer must live below
 * 4 GiB: the program is linked non-PIE (the testbin:cflags directive above
 * makes testbin.C pass -no-pie), which puts .data at ~0x400000. The program
 * checks the address at run time and exits 2 if it is too high.
 *
 * A tracer sees these as syscalls of the i386 personality (audit arch
 * AUDIT_ARCH_I386, orig_rax 4 and 20) in an otherwise x86_64 process.
 *
 * Output: "int80 write\n" (written by the int80 write), then
 * "int80 getpid ok\n" if the int80 getpid equals getpid(); otherwise
 * "int80 getpid mismatch R P" and exit 1. Exit 0 on success; exit 3 if the
 * int80 write fails (it prints "int80 write failed R").
 */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

static char buf[] = "int80 write\n";

static long int80(long nr, long a, long b, long c)
{
	long ret;
	/* The kernel zeroes r8-r11 on the compat entry path. */
	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(a), "c"(b), "d"(c)
			 : "r8", "r9", "r10", "r11", "memory");
	return ret;
}

int main(void)
{
	if ((uintptr_t)buf >= (1ULL << 32)) {
		fprintf(stderr, "int80: buffer %p is above 4 GiB (built PIE?)\n",
			(void *)buf);
		return 2;
	}
	long w = int80(4 /* i386 write */, 1, (long)(uintptr_t)buf,
		       sizeof buf - 1);
	if (w != (long)(sizeof buf - 1)) {
		printf("int80 write failed %ld\n", w);
		fflush(stdout);
		return 3;
	}
	long r = int80(20 /* i386 getpid */, 0, 0, 0);
	long p = getpid();
	if (r != p) {
		printf("int80 getpid mismatch %ld %ld\n", r, p);
		fflush(stdout);
		return 1;
	}
	printf("int80 getpid ok\n");
	fflush(stdout);
	return 0;
}
