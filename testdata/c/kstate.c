/*
 * kstate: prints what the kernel hands a program that cannot be the same
 * twice (pids inside structures, ids it allocates, clocks inside the
 * structures it fills, time read without a syscall, timers), for replay
 * tests.
 *
 * Usage: kstate pids|ids|clocks|tsc|tscsim|timers|tsctrap
 *   pids    capget with its own pid, fcntl F_SETOWN_EX/F_GETOWN_EX and
 *           FIOSETOWN with its own pid/tid, ioprio_get of itself, kcmp of
 *           itself, move_pages of itself (no pages)
 *   ids     msgget/msgsnd/msgrcv, semget/semop, shmget/shmat (and IPC_STAT
 *           of each, printing the pids and times the kernel fills), add_key and
 *           keyctl read, each id printed
 *   clocks  adjtimex, fstat of a pipe and of a memfd, statfs of /proc and
 *           /dev/shm, a clock_nanosleep interrupted by a signal
 *   tsc     rdtsc, rdtscp, cpuid's vendor
 *   timers  alarm, setitimer/getitimer, a POSIX timer read through a
 *           signalfd, a timerfd, and a POSIX timer whose real-time signal's
 *           handler ends a loop of getppid calls: how many ran is timing
 *   tscsim  as tsc, but each rdtsc/rdtscp comes right after the program
 *           sends itself the SIGSEGV (si_code SI_KERNEL) a trapped one
 *           raises: for machines whose CPU never faults them; only hermes
 *           record/replay survive it (natively, the SIGSEGV kills it)
 *   tsctrap asks for rdtsc to fault (prctl PR_SET_TSC, PR_TSC_SIGSEGV) and
 *           runs it: killed by SIGSEGV where the CPU honours that; else it
 *           prints "rdtsc: not trapped" and exits 3 (some hypervisors)
 * Each line is "label: values". A call the machine does not allow prints
 * "label: unavailable (errno)". Exit 0; an unexpected failure: exit 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/kcmp.h>
#include <linux/sockios.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	fflush(stdout);
	perror(what);
	exit(1);
}

static void unavailable(const char *label)
{
	printf("%s: unavailable (%s)\n", label, strerror(errno));
}

static void pids(void)
{
	pid_t pid = getpid(), tid = (pid_t)syscall(SYS_gettid);
	printf("pid: %d\n", pid);

	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, pid};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		die("capget");
	printf("capget: pid %d effective %08x\n", h.pid, d[0].effective);

	int p[2];
	if (pipe(p) < 0)
		die("pipe");
	struct f_owner_ex own = {F_OWNER_TID, tid}, got = {0, 0};
	if (fcntl(p[0], F_SETOWN_EX, &own) < 0)
		die("F_SETOWN_EX");
	if (fcntl(p[0], F_GETOWN_EX, &got) < 0)
		die("F_GETOWN_EX");
	printf("owner_ex: type %d pid %d self %d\n", got.type, got.pid, got.pid == tid);

	int sv[2], owner = pid;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		die("socketpair");
	if (ioctl(sv[0], FIOSETOWN, &owner) < 0)
		die("FIOSETOWN");
	owner = 0;
	if (ioctl(sv[0], FIOGETOWN, &owner) < 0)
		die("FIOGETOWN");
	printf("fiogetown: %d self %d\n", owner, owner == pid);

	long prio = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, pid);
	if (prio < 0)
		die("ioprio_get");
	printf("ioprio: %ld\n", prio);
	if (syscall(SYS_ioprio_set, 1, pid, prio) < 0 && errno != EPERM)
		die("ioprio_set");

	long same = syscall(SYS_kcmp, pid, pid, KCMP_FILE, p[0], p[0]);
	if (same < 0)
		unavailable("kcmp");
	else
		printf("kcmp: %ld\n", same);

	if (syscall(SYS_move_pages, pid, 0UL, NULL, NULL, NULL, 0) < 0)
		unavailable("move_pages");
	else
		printf("move_pages: 0\n");
}

static void ids(void)
{
	int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (q < 0)
		die("msgget");
	struct {
		long type;
		char text[8];
	} m = {1, "hello"}, r;
	if (msgsnd(q, &m, sizeof m.text, 0) < 0)
		die("msgsnd");
	if (msgrcv(q, &r, sizeof r.text, 0, 0) < 0)
		die("msgrcv");
	printf("msgget: %d got %s\n", q, r.text);
	struct msqid_ds mds;
	if (msgctl(q, IPC_STAT, &mds) < 0)
		die("msgctl IPC_STAT");
	printf("msgctl: lspid %d lrpid %d stime %ld rtime %ld\n", (int)mds.msg_lspid, (int)mds.msg_lrpid, (long)mds.msg_stime, (long)mds.msg_rtime);
	if (msgctl(q, IPC_RMID, NULL) < 0)
		die("msgctl");

	int s = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
	if (s < 0)
		die("semget");
	struct sembuf op = {0, 1, 0};
	if (semop(s, &op, 1) < 0)
		die("semop");
	int v = semctl(s, 0, GETVAL);
	printf("semget: %d value %d\n", s, v);
	struct semid_ds sds;
	if (semctl(s, 0, IPC_STAT, &sds) < 0)
		die("semctl IPC_STAT");
	printf("semctl: otime %ld ctime %ld\n", (long)sds.sem_otime, (long)sds.sem_ctime);
	if (semctl(s, 0, IPC_RMID) < 0)
		die("semctl");

	int shm = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	if (shm < 0)
		die("shmget");
	char *a = shmat(shm, NULL, 0);
	if (a == (void *)-1)
		die("shmat");
	strcpy(a, "shared");
	printf("shmget: %d holds %s\n", shm, a);
	struct shmid_ds hds;
	if (shmctl(shm, IPC_STAT, &hds) < 0)
		die("shmctl IPC_STAT");
	printf("shmctl: cpid %d lpid %d atime %ld ctime %ld\n", (int)hds.shm_cpid, (int)hds.shm_lpid, (long)hds.shm_atime, (long)hds.shm_ctime);
	if (shmdt(a) < 0 || shmctl(shm, IPC_RMID, NULL) < 0)
		die("shmdt");

	long key = syscall(SYS_add_key, "user", "hermes:kstate", "secret", 6, -2 /* KEY_SPEC_PROCESS_KEYRING */);
	if (key < 0) {
		unavailable("add_key");
		return;
	}
	char buf[16] = {0};
	long n = syscall(SYS_keyctl, 11 /* KEYCTL_READ */, key, buf, sizeof buf - 1);
	if (n < 0)
		die("keyctl");
	printf("add_key: %ld reads %s\n", key, buf);
	if (syscall(SYS_keyctl, 3 /* KEYCTL_REVOKE */, key) < 0)
		die("keyctl revoke");
}

static void handler(int sig) { (void)sig; }

static volatile sig_atomic_t fired;
static void firehandler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	fired = si->si_code == SI_TIMER ? 1 : 2;
}

static void clocks(void)
{
	struct timex tx = {0};
	int st = adjtimex(&tx);
	if (st < 0)
		die("adjtimex");
	printf("adjtimex: %d time %ld.%06ld freq %ld\n", st, (long)tx.time.tv_sec, (long)tx.time.tv_usec, tx.freq);

	int p[2];
	if (pipe(p) < 0)
		die("pipe");
	struct stat sb;
	if (fstat(p[0], &sb) < 0)
		die("fstat");
	printf("pipe: ino %lu ctime %ld.%09ld\n", (unsigned long)sb.st_ino, (long)sb.st_ctim.tv_sec, sb.st_ctim.tv_nsec);
	int mfd = memfd_create("kstate", 0);
	if (mfd < 0)
		die("memfd_create");
	if (fstat(mfd, &sb) < 0)
		die("fstat");
	printf("memfd: ino %lu mtime %ld.%09ld\n", (unsigned long)sb.st_ino, (long)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec);

	struct statfs fs;
	if (statfs("/dev/shm", &fs) < 0)
		die("statfs");
	printf("statfs: free %lu files %lu\n", (unsigned long)fs.f_bfree, (unsigned long)fs.f_ffree);
	if (statfs("/proc", &fs) < 0)
		die("statfs");
	printf("statfs proc: type %lx\n", (unsigned long)fs.f_type);

	struct sigaction sa = {0};
	sa.sa_handler = handler;
	if (sigaction(SIGALRM, &sa, NULL) < 0)
		die("sigaction");
	struct itimerval it = {{0, 0}, {0, 50000}};
	if (setitimer(ITIMER_REAL, &it, NULL) < 0)
		die("setitimer");
	struct timespec req = {5, 0}, rem = {0, 0};
	int r = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem);
	printf("sleep: %s left %ld.%09ld\n", r == EINTR ? "interrupted" : "finished", (long)rem.tv_sec, rem.tv_nsec);
}

static void tsc(void)
{
	uint32_t lo, hi, aux;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	uint64_t t1 = (uint64_t)hi << 32 | lo;
	__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
	uint64_t t2 = (uint64_t)hi << 32 | lo;
	printf("rdtsc: %llu\n", (unsigned long long)t1);
	printf("rdtscp: %llu aux %u later %d\n", (unsigned long long)t2, aux, t2 >= t1);
	uint32_t b, c, d, a = 0;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "=c"(c), "=d"(d));
	char v[13];
	memcpy(v, &b, 4);
	memcpy(v + 4, &d, 4);
	memcpy(v + 8, &c, 4);
	v[12] = 0;
	printf("cpuid: %s\n", v);
}

static void timers(void)
{
	alarm(30);
	printf("alarm: %u\n", alarm(0));

	struct itimerval it = {{0, 0}, {20, 0}}, left;
	if (setitimer(ITIMER_REAL, &it, NULL) < 0)
		die("setitimer");
	if (getitimer(ITIMER_REAL, &left) < 0)
		die("getitimer");
	printf("getitimer: %ld.%06ld\n", (long)left.it_value.tv_sec, (long)left.it_value.tv_usec);
	struct itimerval off = {{0, 0}, {0, 0}};
	if (setitimer(ITIMER_REAL, &off, &left) < 0)
		die("setitimer");
	printf("setitimer old: %ld.%06ld\n", (long)left.it_value.tv_sec, (long)left.it_value.tv_usec);

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		die("sigprocmask");
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		die("signalfd");
	struct sigevent ev = {0};
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGRTMIN;
	ev.sigev_value.sival_int = 42;
	timer_t t;
	if (timer_create(CLOCK_MONOTONIC, &ev, &t) < 0)
		die("timer_create");
	struct itimerspec ts = {{0, 0}, {0, 30000000}}, cur;
	if (timer_settime(t, 0, &ts, NULL) < 0)
		die("timer_settime");
	if (timer_gettime(t, &cur) < 0)
		die("timer_gettime");
	printf("timer: id %ld left %ld.%09ld\n", (long)(intptr_t)t, (long)cur.it_value.tv_sec, cur.it_value.tv_nsec);
	struct signalfd_siginfo si;
	if (read(sfd, &si, sizeof si) != sizeof si)
		die("read signalfd");
	printf("signalfd: signo %d code %d value %d overrun %u\n", si.ssi_signo == (uint32_t)SIGRTMIN, si.ssi_code,
	       si.ssi_int, si.ssi_overrun);
	if (timer_delete(t) < 0)
		die("timer_delete");

	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (tfd < 0)
		die("timerfd_create");
	struct itimerspec tv = {{0, 0}, {0, 20000000}};
	if (timerfd_settime(tfd, 0, &tv, NULL) < 0)
		die("timerfd_settime");
	if (timerfd_gettime(tfd, &cur) < 0)
		die("timerfd_gettime");
	printf("timerfd: left %ld.%09ld\n", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec);
	uint64_t n;
	if (read(tfd, &n, sizeof n) != sizeof n)
		die("read timerfd");
	printf("timerfd: expired %llu\n", (unsigned long long)n);

	struct sigaction sa = {0};
	sa.sa_sigaction = firehandler;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGRTMIN + 1, &sa, NULL) < 0)
		die("sigaction");
	ev.sigev_signo = SIGRTMIN + 1;
	if (timer_create(CLOCK_MONOTONIC, &ev, &t) < 0)
		die("timer_create");
	struct itimerspec soon = {{0, 0}, {0, 5000000}};
	if (timer_settime(t, 0, &soon, NULL) < 0)
		die("timer_settime");
	long loops = 0;
	while (!fired)
		loops += getppid() > 0;
	printf("timer signal: code %s after %ld calls\n", fired == 1 ? "SI_TIMER" : "other", loops);
}

/* Sends the process the SIGSEGV a faulted rdtsc (or rdtscp) raises, from
 * the instruction just before it: the signal is delivered with the thread
 * at that instruction, as if it had faulted. */
static void tscsim(void)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_signo = SIGSEGV;
	si.si_code = SI_KERNEL;
	uint64_t a = SYS_rt_sigqueueinfo, d = (uint64_t)(uintptr_t)&si, c;
	__asm__ volatile("syscall\n\trdtsc" : "+a"(a), "+d"(d) : "D"((long)getpid()), "S"((long)SIGSEGV) : "rcx", "r11", "memory");
	uint64_t t1 = d << 32 | (uint32_t)a;
	printf("rdtsc: %llu\n", (unsigned long long)t1);
	a = SYS_rt_sigqueueinfo, d = (uint64_t)(uintptr_t)&si;
	__asm__ volatile("syscall\n\trdtscp" : "+a"(a), "+d"(d), "=c"(c) : "D"((long)getpid()), "S"((long)SIGSEGV) : "r11", "memory");
	uint64_t t2 = d << 32 | (uint32_t)a;
	printf("rdtscp: %llu aux %u later %d\n", (unsigned long long)t2, (unsigned)c, t2 >= t1);
}

static int tsctrap(void)
{
	if (prctl(PR_SET_TSC, PR_TSC_SIGSEGV) < 0)
		die("prctl");
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	printf("rdtsc: not trapped\n");
	return 3;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2) {
		fprintf(stderr, "usage: kstate pids|ids|clocks|tsc|tscsim|timers|tsctrap\n");
		return 2;
	}
	if (!strcmp(argv[1], "pids"))
		pids();
	else if (!strcmp(argv[1], "ids"))
		ids();
	else if (!strcmp(argv[1], "clocks"))
		clocks();
	else if (!strcmp(argv[1], "tsc"))
		tsc();
	else if (!strcmp(argv[1], "timers"))
		timers();
	else if (!strcmp(argv[1], "tscsim"))
		tscsim();
	else if (!strcmp(argv[1], "tsctrap"))
		return tsctrap();
	else {
		fprintf(stderr, "kstate: unknown mode %s\n", argv[1]);
		return 2;
	}
	return 0;
}
