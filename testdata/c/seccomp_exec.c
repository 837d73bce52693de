/*
 * seccomp_exec: benchmark baseline - run a command under a trivial seccomp
 * filter, without any tracer.
 *
 * Usage: seccomp_exec PROG [ARGS...]
 * Sets PR_SET_NO_NEW_PRIVS, installs (SECCOMP_SET_MODE_FILTER) a minimal
 * filter equivalent to
 *     if arch != AUDIT_ARCH_X86_64: allow
 *     if nr == __NR_getppid:        allow
 *     allow
 * (so the cost of running a filter shows up, but nothing is traced), then
 * execvp(PROG, ARGS). Prints nothing itself; the exit status is PROG's.
 * Failures: usage exit 2; prctl/seccomp failure exit 126; exec failure 127
 * (with a message on stderr).
 */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: seccomp_exec PROG [ARGS...]\n");
		return 2;
	}
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof filter / sizeof filter[0],
		.filter = filter,
	};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		perror("seccomp_exec: PR_SET_NO_NEW_PRIVS");
		return 126;
	}
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
		perror("seccomp_exec: seccomp");
		return 126;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "seccomp_exec: %s: ", argv[1]);
	perror("execvp");
	return 127;
}
