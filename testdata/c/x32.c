/*
 * x32: an x32-ABI system call number from an x86_64 process.
 *
 * Usage: x32
 * Calls syscall(0x40000000 | 39), i.e. __X32_SYSCALL_BIT | getpid.
 * With CONFIG_X86_X32_ABI off (as on the reference kernel) this fails with
 * ENOSYS and the program prints "x32 ret=-1 errno=ENOSYS". If the kernel
 * supports x32 and the call returns our pid it prints "x32 ret=getpid";
 * any other result prints "x32 ret=R errno=E" (E numeric, or ENOSYS).
 * Always exits 0.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	errno = 0;
	long r = syscall(0x40000000L | 39);
	int e = errno;
	if (r == -1 && e == ENOSYS)
		printf("x32 ret=-1 errno=ENOSYS\n");
	else if (r == getpid())
		printf("x32 ret=getpid\n");
	else
		printf("x32 ret=%ld errno=%d\n", r, e);
	fflush(stdout);
	return 0;
}
