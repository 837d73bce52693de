/* escape: ways a traced program could get around its tracer, or tell that
 * it is traced. One mode per run:
 *
 *   escape notif FILE      install a seccomp filter whose openat goes to a
 *                          user-notification listener (NEW_LISTENER) that
 *                          another thread answers with CONTINUE, then read
 *                          FILE: prints "filter: ok" or "filter: ERRNO",
 *                          then "read: TEXT" or "open: ERRNO"
 *   escape untraced FILE   a child made with clone(CLONE_UNTRACED) reads
 *                          FILE: prints "child read: TEXT" or "child open: ERRNO"
 *   escape nested FILE     a CLONE_UNTRACED child forks a grandchild,
 *                          PTRACE_SEIZEs it (prints "seize: ok" or
 *                          "seize: ERRNO") and answers its stops; the
 *                          grandchild reads FILE ("grandchild read: TEXT"
 *                          or "grandchild open: ERRNO")
 *   escape clone3          clone3 a child; on ENOSYS fork instead, as libc
 *                          does: prints "clone3: ok" or "clone3: ERRNO, fork"
 *   escape tracefilter     install a filter returning SECCOMP_RET_TRACE
 *                          (data 0) for getppid, call it: prints
 *                          "getppid: ERRNO" or "getppid: ok"
 *   escape seccomp         print what the process sees of seccomp and
 *                          no_new_privs (prctl and /proc/self/status),
 *                          then set NO_NEW_PRIVS, install an allow-all
 *                          filter and print again
 *   escape filternnp       install an allow-all filter without setting
 *                          NO_NEW_PRIVS: "filter: ok" or "filter: ERRNO"
 *   escape dumpable FILE   prctl(PR_SET_DUMPABLE, 0), then read FILE
 *   escape badsp PATH      openat(PATH) with the stack pointer at an
 *                          unmapped address: "badsp open: ok TEXT" or
 *                          "badsp open: ERRNO"
 *   escape smallstack PATH openat(PATH) on a 32 KiB makecontext stack that
 *                          is nearly used up: "smallstack open: ..." then
 *                          "guard: intact" or "guard: overwritten"
 *   escape sigtracer FILE  wait until traced, send SIGINT and SIGTERM to
 *                          the tracer (TracerPid), then read FILE
 *   escape euid            print "euid N"
 *   escape iouring FILE    open and read FILE through an io_uring ring:
 *                          "io_uring read: TEXT"; if io_uring_setup fails,
 *                          "io_uring: ERRNO" and then a plain read, as
 *                          runtimes fall back ("main read: TEXT")
 *
 * Exits 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static void readfile(const char *who, const char *path) {
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		printf("%s open: %s\n", who, strerrorname_np(errno));
		return;
	}
	char buf[256];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	printf("%s read: %s\n", who, buf);
}

static int install(struct sock_filter *f, unsigned short len, unsigned flags) {
	struct sock_fprog prog = {.len = len, .filter = f};
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

/* notif */

static void *answer(void *arg) {
	int fd = *(int *)arg;
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	for (;;) {
		memset(&req, 0, sizeof req);
		if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
			return NULL;
		memset(&resp, 0, sizeof resp);
		resp.id = req.id;
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
}

static void notif(const char *path) {
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	int fd = install(f, 4, SECCOMP_FILTER_FLAG_NEW_LISTENER);
	if (fd < 0) {
		printf("filter: %s\n", strerrorname_np(errno));
	} else {
		printf("filter: ok\n");
		pthread_t t;
		pthread_create(&t, NULL, answer, &fd);
	}
	fflush(stdout);
	readfile("main", path);
}

/* untraced, nested */

static char stack[256 << 10] __attribute__((aligned(16)));
static const char *file;

static int untraced_child(void *arg) {
	readfile("child", file);
	fflush(stdout);
	return 0;
}

static int nested_child(void *arg) {
	pid_t g = fork();
	if (g == 0) {
		usleep(200 * 1000); /* let the parent seize us */
		readfile("grandchild", file);
		fflush(stdout);
		_exit(0);
	}
	if (ptrace(PTRACE_SEIZE, g, 0, 0) < 0) {
		printf("seize: %s\n", strerrorname_np(errno));
		fflush(stdout);
		waitpid(g, NULL, 0);
		return 0;
	}
	printf("seize: ok\n");
	fflush(stdout);
	int st;
	while (waitpid(g, &st, __WALL) == g && !WIFEXITED(st) && !WIFSIGNALED(st)) {
		int sig = WIFSTOPPED(st) && WSTOPSIG(st) != SIGTRAP ? WSTOPSIG(st) : 0;
		ptrace(PTRACE_CONT, g, 0, sig);
	}
	return 0;
}

static void untraced(int (*fn)(void *)) {
	pid_t c = clone(fn, stack + sizeof stack, CLONE_UNTRACED | SIGCHLD, NULL);
	if (c < 0) {
		printf("clone: %s\n", strerrorname_np(errno));
		return;
	}
	waitpid(c, NULL, __WALL);
}

/* clone3 */

static void do_clone3(void) {
	struct clone_args args;
	memset(&args, 0, sizeof args);
	args.exit_signal = SIGCHLD;
	long pid = syscall(SYS_clone3, &args, sizeof args);
	if (pid == 0)
		_exit(0);
	if (pid > 0) {
		waitpid(pid, NULL, 0);
		printf("clone3: ok\n");
		return;
	}
	printf("clone3: %s, fork\n", strerrorname_np(errno));
	pid = fork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
}

/* tracefilter */

static void tracefilter(void) {
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (install(f, 4, 0) < 0) {
		printf("filter: %s\n", strerrorname_np(errno));
		return;
	}
	long r = syscall(SYS_getppid);
	if (r < 0)
		printf("getppid: %s\n", strerrorname_np(errno));
	else
		printf("getppid: ok\n");
}

/* seccomp, filternnp */

static void show(const char *when) {
	printf("%s: PR_GET_SECCOMP=%d PR_GET_NO_NEW_PRIVS=%d", when, prctl(PR_GET_SECCOMP, 0, 0, 0, 0),
	       prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	while (f && fgets(line, sizeof line, f)) {
		int v;
		if (sscanf(line, "NoNewPrivs: %d", &v) == 1)
			printf(" NoNewPrivs=%d", v);
		else if (sscanf(line, "Seccomp: %d", &v) == 1)
			printf(" Seccomp=%d", v);
		else if (sscanf(line, "Seccomp_filters: %d", &v) == 1)
			printf(" Seccomp_filters=%d", v);
	}
	if (f)
		fclose(f);
	printf("\n");
}

static struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};

static void seccomp_view(void) {
	show("before");
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (install(allow, 1, 0) < 0)
		printf("filter: %s\n", strerrorname_np(errno));
	show("after");
}

/* badsp, smallstack */

static long openat_on_stack(const char *path, void *sp) {
	long ret;
	register long r10 __asm__("r10") = 0;
	__asm__ volatile("mov %%rsp, %%r12\n\t"
	                 "mov %[sp], %%rsp\n\t"
	                 "syscall\n\t"
	                 "mov %%r12, %%rsp"
	                 : "=a"(ret)
	                 : "0"((long)SYS_openat), "D"((long)AT_FDCWD), "S"(path), "d"((long)O_RDONLY), "r"(r10),
	                   [sp] "r"(sp)
	                 : "rcx", "r11", "r12", "memory");
	return ret;
}

static void report_open(const char *who, long fd) {
	if (fd < 0) {
		printf("%s open: %s\n", who, strerrorname_np((int)-fd));
		return;
	}
	char buf[128];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	printf("%s open: ok %s\n", who, buf);
}

#define SMALL (32 << 10)
#define GUARD (16 << 10)
static unsigned char region[GUARD + SMALL] __attribute__((aligned(4096)));
static ucontext_t main_ctx, small_ctx;
static const char *small_path;
static long small_ret;

static void on_small_stack(void) {
	/* Use up most of the stack, then make the call near its bottom. */
	volatile char used[SMALL - 4096];
	used[0] = 1;
	used[sizeof used - 1] = 1;
	small_ret = syscall(SYS_openat, AT_FDCWD, small_path, O_RDONLY);
	if (small_ret < 0)
		small_ret = -errno;
	(void)used[0];
}

static void smallstack(const char *path) {
	memset(region, 0xAA, GUARD);
	small_path = path;
	getcontext(&small_ctx);
	small_ctx.uc_stack.ss_sp = region + GUARD;
	small_ctx.uc_stack.ss_size = SMALL;
	small_ctx.uc_link = &main_ctx;
	makecontext(&small_ctx, on_small_stack, 0);
	swapcontext(&main_ctx, &small_ctx);
	report_open("smallstack", small_ret);
	for (int i = 0; i < GUARD; i++) {
		if (region[i] != 0xAA) {
			printf("guard: overwritten\n");
			return;
		}
	}
	printf("guard: intact\n");
}

/* sigtracer */

static int tracer_pid(void) {
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	int pid = 0;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "TracerPid: %d", &pid) == 1)
			break;
	if (f)
		fclose(f);
	return pid;
}

static void sigtracer(const char *path) {
	int t;
	for (int i = 0; (t = tracer_pid()) == 0 && i < 3000; i++)
		usleep(10 * 1000);
	printf("traced: %s\n", t ? "yes" : "no");
	fflush(stdout);
	if (t) {
		kill(t, SIGINT);
		kill(t, SIGTERM);
	}
	usleep(300 * 1000);
	printf("still traced: %s\n", tracer_pid() ? "yes" : "no");
	readfile("main", path);
}

/* iouring */

static void iouring(const char *path) {
	struct io_uring_params p;
	memset(&p, 0, sizeof p);
	int ring = syscall(SYS_io_uring_setup, 4, &p);
	if (ring < 0) {
		printf("io_uring: %s\n", strerrorname_np(errno));
		readfile("main", path);
		return;
	}
	size_t sqsz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	size_t cqsz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP)
		sqsz = cqsz = sqsz > cqsz ? sqsz : cqsz;
	char *sq = mmap(0, sqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
	char *cq = sq;
	if (!(p.features & IORING_FEAT_SINGLE_MMAP))
		cq = mmap(0, cqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_CQ_RING);
	struct io_uring_sqe *sqes = mmap(0, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
	                                 MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED) {
		printf("io_uring mmap: %s\n", strerrorname_np(errno));
		return;
	}
	unsigned *tail = (unsigned *)(sq + p.sq_off.tail), *mask = (unsigned *)(sq + p.sq_off.ring_mask);
	unsigned *array = (unsigned *)(sq + p.sq_off.array);
	unsigned *chead = (unsigned *)(cq + p.cq_off.head), *cmask = (unsigned *)(cq + p.cq_off.ring_mask);
	struct io_uring_cqe *cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	char buf[256];
	int fd = -1;
	for (int step = 0; step < 2; step++) {
		unsigned idx = *tail & *mask;
		struct io_uring_sqe *sqe = &sqes[idx];
		memset(sqe, 0, sizeof *sqe);
		if (step == 0) {
			sqe->opcode = IORING_OP_OPENAT;
			sqe->fd = AT_FDCWD;
			sqe->addr = (unsigned long)path;
			sqe->open_flags = O_RDONLY;
		} else {
			sqe->opcode = IORING_OP_READ;
			sqe->fd = fd;
			sqe->addr = (unsigned long)buf;
			sqe->len = sizeof buf - 1;
		}
		array[idx] = idx;
		__atomic_store_n(tail, *tail + 1, __ATOMIC_RELEASE);
		if (syscall(SYS_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0) {
			printf("io_uring_enter: %s\n", strerrorname_np(errno));
			return;
		}
		unsigned h = __atomic_load_n(chead, __ATOMIC_ACQUIRE);
		int res = cqes[h & *cmask].res;
		__atomic_store_n(chead, h + 1, __ATOMIC_RELEASE);
		if (res < 0) {
			printf("io_uring %s: %s\n", step ? "read" : "open", strerrorname_np(-res));
			return;
		}
		if (step == 0)
			fd = res;
		else
			buf[res] = 0;
	}
	buf[strcspn(buf, "\n")] = 0;
	printf("io_uring read: %s\n", buf);
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return 2;
	const char *mode = argv[1], *arg = argc > 2 ? argv[2] : "/etc/hostname";
	file = arg;
	if (!strcmp(mode, "notif"))
		notif(arg);
	else if (!strcmp(mode, "untraced"))
		untraced(untraced_child);
	else if (!strcmp(mode, "nested"))
		untraced(nested_child);
	else if (!strcmp(mode, "clone3"))
		do_clone3();
	else if (!strcmp(mode, "tracefilter"))
		tracefilter();
	else if (!strcmp(mode, "seccomp"))
		seccomp_view();
	else if (!strcmp(mode, "filternnp"))
		printf("filter: %s\n", install(allow, 1, 0) < 0 ? strerrorname_np(errno) : "ok");
	else if (!strcmp(mode, "dumpable")) {
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		readfile("main", arg);
	} else if (!strcmp(mode, "badsp"))
		report_open("badsp", openat_on_stack(arg, (void *)0x10000));
	else if (!strcmp(mode, "smallstack"))
		smallstack(arg);
	else if (!strcmp(mode, "sigtracer"))
		sigtracer(arg);
	else if (!strcmp(mode, "iouring"))
		iouring(arg);
	else if (!strcmp(mode, "euid"))
		printf("euid %d\n", geteuid());
	else
		return 2;
	return 0;
}
