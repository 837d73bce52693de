/*
 * probe: a target for the inject tests; each mode makes a few system calls
 * and prints what it observed, one line per call, errno by name.
 *
 *   probe writes PATH N      open PATH for writing (O_CREAT|O_TRUNC), N writes
 *                            of one byte: "write I: ok" / "write I: ENOSPC";
 *                            then "elapsed MS ms"
 *   probe open PATH...       "open PATH: CONTENT" (first line) / "open PATH: EACCES"
 *   probe delay              one getppid: "getppid took US us"
 *   probe signal             SIGUSR1 handler, getppid: "got SIGUSR1" / "no signal"
 *   probe lseek OFF          memfd, lseek(fd, OFF, SEEK_SET) (OFF as strtoull,
 *                            base 0): "lseek = 0xHEX" / "lseek: EINVAL"
 *   probe fdcwd              openat(AT_FDCWD, "/nonexistent/hermes-probe",
 *                            O_RDONLY|O_CLOEXEC): "openat: ENOENT"
 *   probe munmap ADDR        munmap(ADDR, 4096): "munmap = 0xHEX" / "munmap: E"
 *   probe getppid N          N getppid: "getppid I: RET" / "getppid I: E"
 *   probe read PATH CHUNK    read PATH in CHUNK-byte requests to EOF:
 *                            "reads R bytes B"
 *   probe connect PORT [N]   TCP connect to 127.0.0.1:PORT: "connect: ok" /
 *                            "connect: ECONNREFUSED"; if connected, N sends of
 *                            "ping": "send I: ok" / "send I: ECONNRESET"
 *   probe poll PATH STOP     every 20ms: open PATH, print "poll: ok" /
 *                            "poll: EACCES"; stops when STOP exists (30s max)
 * Exit 0; bad usage exit 2.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static volatile sig_atomic_t got;
static void on_usr1(int sig) { (void)sig; got = 1; }

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return 2;
	const char *m = argv[1];
	if (!strcmp(m, "writes") && argc == 4) {
		int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0) {
			printf("open: %s\n", ename(errno));
			return 0;
		}
		int n = atoi(argv[3]);
		double t0 = now_us();
		for (int i = 1; i <= n; i++) {
			if (write(fd, "x", 1) == 1)
				printf("write %d: ok\n", i);
			else
				printf("write %d: %s\n", i, ename(errno));
		}
		printf("elapsed %.0f ms\n", (now_us() - t0) / 1000);
		close(fd);
	} else if (!strcmp(m, "open")) {
		for (int i = 2; i < argc; i++) {
			int fd = open(argv[i], O_RDONLY);
			if (fd < 0) {
				printf("open %s: %s\n", argv[i], ename(errno));
				continue;
			}
			char buf[256];
			ssize_t r = read(fd, buf, sizeof buf - 1);
			buf[r > 0 ? r : 0] = 0;
			buf[strcspn(buf, "\n")] = 0;
			printf("open %s: %s\n", argv[i], buf);
			close(fd);
		}
	} else if (!strcmp(m, "delay")) {
		double t0 = now_us();
		syscall(SYS_getppid);
		printf("getppid took %.0f us\n", now_us() - t0);
	} else if (!strcmp(m, "signal")) {
		signal(SIGUSR1, on_usr1);
		syscall(SYS_getppid);
		printf(got ? "got SIGUSR1\n" : "no signal\n");
	} else if (!strcmp(m, "lseek") && argc == 3) {
		int fd = memfd_create("probe", 0);
		off_t off = (off_t)strtoull(argv[2], NULL, 0);
		off_t r = lseek(fd, off, SEEK_SET);
		if (r == (off_t)-1)
			printf("lseek: %s\n", ename(errno));
		else
			printf("lseek = 0x%llx\n", (unsigned long long)r);
	} else if (!strcmp(m, "fdcwd")) {
		int fd = openat(AT_FDCWD, "/nonexistent/hermes-probe", O_RDONLY | O_CLOEXEC);
		printf("openat: %s\n", fd < 0 ? ename(errno) : "ok");
	} else if (!strcmp(m, "munmap") && argc == 3) {
		unsigned long addr = strtoull(argv[2], NULL, 0);
		long r = syscall(SYS_munmap, addr, 4096UL);
		if (r == -1)
			printf("munmap: %s\n", ename(errno));
		else
			printf("munmap = 0x%lx\n", (unsigned long)r);
	} else if (!strcmp(m, "getppid") && argc == 3) {
		int n = atoi(argv[2]);
		for (int i = 1; i <= n; i++) {
			long r = syscall(SYS_getppid);
			if (r == -1)
				printf("getppid %d: %s\n", i, ename(errno));
			else
				printf("getppid %d: %ld\n", i, r);
		}
	} else if (!strcmp(m, "read") && argc == 4) {
		int fd = open(argv[2], O_RDONLY);
		if (fd < 0) {
			printf("open: %s\n", ename(errno));
			return 0;
		}
		size_t chunk = strtoul(argv[3], NULL, 0);
		char *buf = malloc(chunk);
		long reads = 0, bytes = 0;
		for (;;) {
			ssize_t r = read(fd, buf, chunk);
			reads++;
			if (r < 0) {
				printf("read: %s\n", ename(errno));
				break;
			}
			if (r == 0)
				break;
			bytes += r;
		}
		printf("reads %ld bytes %ld\n", reads, bytes);
	} else if (!strcmp(m, "connect") && argc >= 3) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (connect(s, (struct sockaddr *)&sin, sizeof sin) < 0) {
			printf("connect: %s\n", ename(errno));
			return 0;
		}
		printf("connect: ok\n");
		int n = argc > 3 ? atoi(argv[3]) : 0;
		for (int i = 1; i <= n; i++) {
			if (send(s, "ping", 4, MSG_NOSIGNAL) == 4)
				printf("send %d: ok\n", i);
			else
				printf("send %d: %s\n", i, ename(errno));
		}
		close(s);
	} else if (!strcmp(m, "poll") && argc == 4) {
		double end = now_us() + 30e6;
		struct timespec ts = {0, 20 * 1000 * 1000};
		while (now_us() < end) {
			int fd = open(argv[2], O_RDONLY);
			if (fd < 0) {
				printf("poll: %s\n", ename(errno));
			} else {
				printf("poll: ok\n");
				close(fd);
			}
			if (access(argv[3], F_OK) == 0)
				break;
			nanosleep(&ts, NULL);
		}
	} else {
		return 2;
	}
	return 0;
}
