// testbin:cflags -O0 -fno-omit-frame-pointer
/*
 * straceflags: the calls behind hermes trace's strace flags, made the same
 * way on every run so that hermes and strace can be compared line by line.
 *
 * Usage: straceflags MODE [ARG]
 *   decode      statx of ARG (a file), posix_fadvise on it, then an epoll
 *               set over a pipe holding 1 byte: epoll_ctl ADD/MOD,
 *               epoll_wait, epoll_pwait, epoll_ctl DEL
 *   fds         the descriptors -y and -yy name: ARG opened and read,
 *               a pipe, a UNIX stream socket pair, a TCP connection to
 *               a listener on 127.0.0.1 (an ephemeral port) and a UDP
 *               socket bound there, each written or read once, then closed
 *   mixed       for -Z, -z and -P: openat of ARG (succeeds) and of
 *               ARG.missing (fails, ENOENT), read and close of ARG's
 *               descriptor, a failing close(-1), getpid()
 *   interleave  two threads: the main thread blocks in read(2) on a pipe
 *               that the second thread writes to after a 100 ms
 *               nanosleep(2); then the main thread joins it
 *   block       prints "ready\n" and blocks in read(2) on standard input;
 *               writes what it read (at most 64 bytes) to standard output
 *   blockthreads  starts two threads that block in read(2) on a pipe
 *               nobody writes, then does what block does
 *   stack       calls write(2) from level2(), called from level1(), called
 *               from main (built with frame pointers and -g)
 *   gaps        the structures and commands strace decodes beyond the
 *               argument kinds: fcntl locks on ARG (F_SETLK, F_SETLKW,
 *               F_GETLK, the F_OFD_ ones, F_SETOWN_EX, F_GETOWN_EX, a
 *               failing F_GETLK), stat of a sticky directory ARG.d and of
 *               a set-id file ARG.suid (newfstatat, statx), ioctls
 *               (FICLONE, FICLONERANGE, FIONBIO, FIOCLEX, FIONCLEX,
 *               TIOCNOTTY, TIOCSCTTY, FIOASYNC), futex ops (each prints
 *               its own arguments), and a child that burns CPU for a
 *               while before it exits (SIGCHLD's si_utime)
 *   ipc         System V IPC beyond kstate ids: keys, get flags, msgsnd and
 *               msgrcv flags (a short message, a failing receive), the ctl
 *               commands (IPC_SET, IPC_64|IPC_STAT, the STAT ones, SHM_LOCK,
 *               an unknown command), semop flags, semtimedop's timeout,
 *               semctl's fourth argument by command, shmat flags
 * Exits 0; 1 if a call that should succeed fails; 2 on bad usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <linux/futex.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "straceflags: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int decode(const char *path)
{
	struct statx stx;
	if (statx(AT_FDCWD, path, AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS | STATX_BTIME, &stx) < 0)
		die("statx");
	if (statx(AT_FDCWD, "/nonexistent-straceflags", 0, STATX_MODE, &stx) == 0)
		return 1;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		die("open");
	if (posix_fadvise(fd, 0, 4096, POSIX_FADV_SEQUENTIAL) != 0)
		die("fadvise");
	if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0)
		die("fadvise");
	close(fd);
	int p[2];
	if (pipe(p) < 0)
		die("pipe");
	if (write(p[1], "x", 1) != 1)
		die("write");
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0x1234567890ULL};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) < 0)
		die("epoll_ctl");
	ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
	ev.data.fd = p[0];
	if (epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev) < 0)
		die("epoll_ctl");
	struct epoll_event out[4];
	if (epoll_wait(ep, out, 4, 1000) != 1)
		die("epoll_wait");
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	ev.events = EPOLLIN | EPOLLRDHUP;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev) < 0)
		die("epoll_ctl");
	if (epoll_pwait(ep, out, 4, 0, &set) != 1)
		die("epoll_pwait");
	if (epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL) < 0)
		die("epoll_ctl");
	if (epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL) == 0)
		return 1;
	close(ep);
	return 0;
}

static int fds(const char *path)
{
	char buf[16];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		die("open");
	if (read(fd, buf, sizeof buf) < 0)
		die("read");
	close(fd);
	int p[2];
	if (pipe(p) < 0)
		die("pipe");
	if (write(p[1], "p", 1) != 1 || read(p[0], buf, 1) != 1)
		die("pipe i/o");
	close(p[0]);
	close(p[1]);
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		die("socketpair");
	if (write(sv[0], "u", 1) != 1 || read(sv[1], buf, 1) != 1)
		die("unix i/o");
	close(sv[0]);
	close(sv[1]);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0)
		die("socket");
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	if (bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &al) < 0)
		die("listen");
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof a) < 0)
		die("connect");
	int s = accept(l, NULL, NULL);
	if (s < 0)
		die("accept");
	if (write(c, "t", 1) != 1 || read(s, buf, 1) != 1)
		die("tcp i/o");
	close(s);
	close(c);
	close(l);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in ua = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (u < 0 || bind(u, (struct sockaddr *)&ua, sizeof ua) < 0)
		die("udp");
	close(u);
	return 0;
}

static int mixed(const char *path)
{
	char missing[4096], buf[8];
	snprintf(missing, sizeof missing, "%s.missing", path);
	int fd = openat(AT_FDCWD, path, O_RDONLY);
	if (fd < 0)
		die("openat");
	if (openat(AT_FDCWD, missing, O_RDONLY) >= 0)
		return 1;
	if (read(fd, buf, sizeof buf) < 0)
		die("read");
	close(fd);
	if (close(-1) == 0)
		return 1;
	getpid();
	return 0;
}

static int pipefd[2];

static void *writer(void *arg)
{
	(void)arg;
	struct timespec ts = {0, 100 * 1000 * 1000};
	nanosleep(&ts, NULL);
	if (write(pipefd[1], "w", 1) != 1)
		die("write");
	return NULL;
}

static int interleave(void)
{
	char c;
	pthread_t t;
	if (pipe(pipefd) < 0)
		die("pipe");
	if (pthread_create(&t, NULL, writer, NULL) != 0)
		return 1;
	if (read(pipefd[0], &c, 1) != 1)
		die("read");
	pthread_join(t, NULL);
	return 0;
}

static int block(void)
{
	char buf[64];
	if (write(1, "ready\n", 6) != 6)
		die("write");
	ssize_t n = read(0, buf, sizeof buf);
	if (n < 0)
		die("read");
	if (n > 0 && write(1, buf, n) != n)
		die("write");
	return 0;
}

static int idle[2];

static void *blocked(void *arg)
{
	char c;
	(void)arg;
	if (read(idle[0], &c, 1) < 0)
		die("read");
	return NULL;
}

static int blockthreads(void)
{
	pthread_t t;
	if (pipe(idle) < 0)
		die("pipe");
	for (int i = 0; i < 2; i++)
		if (pthread_create(&t, NULL, blocked, NULL) != 0)
			return 1;
	struct timespec ts = {0, 20 * 1000 * 1000};
	nanosleep(&ts, NULL);
	return block();
}

__attribute__((noinline)) static void level2(void)
{
	if (write(1, "stack\n", 6) != 6)
		die("write");
}

static long futex(int *uaddr, int op, unsigned val, unsigned long val2, int *uaddr2, unsigned val3)
{
	return syscall(SYS_futex, uaddr, op, val, val2, uaddr2, val3);
}

static int gaps(const char *path)
{
	char name[4096];
	int fd = open(path, O_RDWR);
	if (fd < 0)
		die("open");
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
	if (fcntl(fd, F_SETLK, &fl) < 0 || fcntl(fd, F_SETLKW, &fl) < 0 || fcntl(fd, F_GETLK, &fl) < 0)
		die("fcntl lock");
	struct flock ofd = {.l_type = F_RDLCK, .l_whence = SEEK_CUR, .l_start = 100, .l_len = 0};
	if (fcntl(fd, F_OFD_SETLK, &ofd) < 0 || fcntl(fd, F_OFD_SETLKW, &ofd) < 0)
		die("fcntl ofd lock");
	ofd.l_type = F_WRLCK;
	ofd.l_whence = SEEK_SET;
	ofd.l_start = 200;
	if (fcntl(fd, F_OFD_GETLK, &ofd) < 0)
		die("fcntl F_OFD_GETLK");
	fcntl(fd, F_GETLK, (void *)8);
	struct f_owner_ex own = {.type = F_OWNER_PGRP, .pid = 0};
	if (fcntl(fd, F_SETOWN_EX, &own) < 0 || fcntl(fd, F_GETOWN_EX, &own) < 0)
		die("fcntl owner");

	struct stat st;
	struct statx stx;
	snprintf(name, sizeof name, "%s.d", path);
	rmdir(name);
	if (mkdir(name, 0700) < 0 || chmod(name, 01777) < 0)
		die("mkdir");
	if (stat(name, &st) < 0 || statx(AT_FDCWD, name, 0, STATX_MODE | STATX_SIZE, &stx) < 0)
		die("stat dir");
	rmdir(name);
	snprintf(name, sizeof name, "%s.suid", path);
	int fd2 = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd2 < 0 || fchmod(fd2, 06755) < 0)
		die("suid file");
	if (stat(name, &st) < 0)
		die("stat suid");
	unlink(name);

	int one = 1;
	ioctl(fd2, FICLONE, fd);
	struct file_clone_range r = {.src_fd = fd, .src_offset = 0, .src_length = 4096, .dest_offset = 0};
	ioctl(fd2, FICLONERANGE, &r);
	ioctl(fd2, FIONBIO, &one);
	ioctl(fd2, FIOCLEX);
	ioctl(fd2, FIONCLEX);
	ioctl(fd2, FIOASYNC, &one);
	ioctl(fd2, TIOCNOTTY);
	ioctl(fd2, TIOCSCTTY, 0);

	int word = 0, other = 0;
	struct timespec ts = {0, 1000};
	futex(&word, FUTEX_WAKE_PRIVATE, 1, 0, NULL, 0);
	futex(&word, FUTEX_WAIT_PRIVATE, 1, 0, NULL, 0);
	futex(&word, FUTEX_WAIT, 0, (unsigned long)&ts, NULL, 0);
	futex(&word, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 0, (unsigned long)&ts, NULL, 0xff);
	futex(&word, FUTEX_WAKE_BITSET_PRIVATE, 1, 0, NULL, FUTEX_BITSET_MATCH_ANY);
	futex(&word, FUTEX_REQUEUE_PRIVATE, 1, 2, &other, 0);
	futex(&word, FUTEX_CMP_REQUEUE, 1, 2, &other, 0);
	futex(&word, FUTEX_WAKE_OP_PRIVATE, 1, 2, &other, FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_GT, 0));
	futex(&word, FUTEX_WAKE_OP, 1, 2, &other, 0x7fffffff);
	futex(&word, FUTEX_TRYLOCK_PI, 0, 0, NULL, 0);
	futex(&word, FUTEX_UNLOCK_PI, 0, 0, NULL, 0);
	futex(&word, 99, 1, 2, &other, 5);
	close(fd2);

	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		volatile long x = 0;
		for (long i = 0; i < 100000000; i++)
			x += i;
		_exit(0);
	}
	if (waitpid(pid, NULL, 0) != pid)
		die("waitpid");
	return 0;
}

/* The key of the queue ipc() makes and removes: unlikely to be in use. */
#define IPC_TEST_KEY 0x4e524d48

static int ipc(void)
{
	/* Keys and get flags. */
	msgget(IPC_TEST_KEY, 0);
	int q = msgget(IPC_TEST_KEY, IPC_CREAT | IPC_EXCL | 0640);
	if (q < 0)
		die("msgget");
	msgget(IPC_TEST_KEY, IPC_CREAT | IPC_EXCL | 0x100000 | 0600);

	/* A message shorter than the buffer it is received into. */
	struct {
		long type;
		char text[16];
	} m = {7, "hi"}, r;
	memset(r.text, 'x', sizeof r.text);
	if (msgsnd(q, &m, 3, IPC_NOWAIT) < 0)
		die("msgsnd");
	if (msgrcv(q, &r, sizeof r.text, -10, MSG_NOERROR | IPC_NOWAIT) != 3)
		die("msgrcv");
	msgrcv(q, &r, sizeof r.text, 0, IPC_NOWAIT | MSG_EXCEPT);
	msgsnd(q, NULL, 4, 0);

	struct msqid_ds mds;
	if (msgctl(q, IPC_STAT, &mds) < 0)
		die("msgctl IPC_STAT");
	mds.msg_perm.mode = 0604;
	mds.msg_qbytes = 8192;
	if (msgctl(q, IPC_SET, &mds) < 0)
		die("msgctl IPC_SET");
	syscall(SYS_msgctl, q, IPC_STAT | 0x100, &mds);
	msgctl(q, 99, &mds);
	msgctl(q, IPC_STAT, NULL);
	if (msgctl(q, IPC_RMID, NULL) < 0)
		die("msgctl IPC_RMID");

	/* Semaphores: operations and semctl's fourth argument. */
	int s = semget(IPC_PRIVATE, 2, 0600);
	if (s < 0)
		die("semget");
	struct sembuf ops[2] = {{0, 2, SEM_UNDO}, {1, -1, IPC_NOWAIT}};
	semop(s, ops, 2);
	ops[1].sem_op = 1;
	struct timespec ts = {0, 1000};
	if (semtimedop(s, ops, 2, &ts) < 0)
		die("semtimedop");
	semop(s, ops, 0);
	if (syscall(SYS_semctl, s, 1, SETVAL, 5L) < 0)
		die("semctl SETVAL");
	unsigned short vals[2] = {3, 4};
	if (syscall(SYS_semctl, s, 0, SETALL, vals) < 0 || syscall(SYS_semctl, s, 0, GETALL, vals) < 0)
		die("semctl GETALL");
	syscall(SYS_semctl, s, 0, GETNCNT, 0L);
	syscall(SYS_semctl, s, 1, GETZCNT, 0L);
	struct semid_ds sds;
	if (syscall(SYS_semctl, s, 0, IPC_STAT, &sds) < 0)
		die("semctl IPC_STAT");
	sds.sem_perm.mode = 0660;
	if (syscall(SYS_semctl, s, 0, IPC_SET, &sds) < 0)
		die("semctl IPC_SET");
	syscall(SYS_semctl, s, 0, 77, 0L);
	if (syscall(SYS_semctl, s, 0, IPC_RMID, 0L) < 0)
		die("semctl IPC_RMID");

	/* Shared memory: get and attach flags, ctl commands. */
	shmget(IPC_PRIVATE, 4096, SHM_HUGETLB | (21 << 26) | 0600);
	int shm = shmget(IPC_PRIVATE, 8192, IPC_CREAT | SHM_NORESERVE | 0640);
	if (shm < 0)
		die("shmget");
	void *a = shmat(shm, NULL, SHM_RDONLY | SHM_RND);
	if (a == (void *)-1)
		die("shmat");
	shmat(shm, NULL, 0x400000);
	struct shmid_ds hds;
	if (shmctl(shm, IPC_STAT, &hds) < 0)
		die("shmctl IPC_STAT");
	hds.shm_perm.uid = 0;
	if (shmctl(shm, IPC_SET, &hds) < 0)
		die("shmctl IPC_SET");
	shmctl(shm, SHM_LOCK, NULL);
	shmctl(shm, SHM_UNLOCK, NULL);
	if (shmdt(a) < 0 || shmctl(shm, IPC_RMID, NULL) < 0)
		die("shmctl IPC_RMID");
	return 0;
}

__attribute__((noinline)) static void level1(void)
{
	level2();
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	const char *m = argv[1];
	const char *arg = argc > 2 ? argv[2] : "/etc/hostname";
	if (!strcmp(m, "decode"))
		return decode(arg);
	if (!strcmp(m, "fds"))
		return fds(arg);
	if (!strcmp(m, "mixed"))
		return mixed(arg);
	if (!strcmp(m, "interleave"))
		return interleave();
	if (!strcmp(m, "block"))
		return block();
	if (!strcmp(m, "blockthreads"))
		return blockthreads();
	if (!strcmp(m, "gaps"))
		return gaps(arg);
	if (!strcmp(m, "ipc"))
		return ipc();
	if (!strcmp(m, "stack")) {
		level1();
		return 0;
	}
	return 2;
}
