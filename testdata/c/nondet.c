/*
 * nondet: prints the common sources of nondeterminism, for replay tests.
 *
 * Usage: nondet
 * Prints one labelled line each, in this order:
 *   realtime: SEC.NSEC      clock_gettime(CLOCK_REALTIME)  (NSEC 9 digits)
 *   monotonic: SEC.NSEC     clock_gettime(CLOCK_MONOTONIC)
 *   time: SEC               time(NULL)
 *   gettimeofday: SEC.USEC  gettimeofday                   (USEC 6 digits)
 *   getrandom: HEX          16 bytes from getrandom(2), 32 hex digits
 *   urandom: HEX            16 bytes read from /dev/urandom
 *   pid: N, ppid: N, tid: N getpid, getppid, syscall(SYS_gettid)
 *   uptime: TEXT            /proc/uptime via open/read, trailing \n trimmed
 *   uname: NODENAME RELEASE
 * The clock calls normally go through the vDSO, not a system call.
 * Exit 0; a failing call: message on stderr, exit 1.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	fflush(stdout);
	perror(what);
	exit(1);
}

static void hex(const char *label, const unsigned char *b, size_t n)
{
	printf("%s: ", label);
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
	printf("\n");
}

/* Reads up to size-1 bytes of PATH with open/read into buf, NUL-terminated. */
static size_t readfile(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	ssize_t r;
	if (fd < 0)
		die(path);
	while (n < size - 1 && (r = read(fd, buf + n, size - 1 - n)) != 0) {
		if (r < 0)
			die(path);
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	return n;
}

int main(void)
{
	struct timespec rt, mono;
	struct timeval tv;
	struct utsname u;
	unsigned char rnd[16];
	char buf[256];

	if (clock_gettime(CLOCK_REALTIME, &rt) || clock_gettime(CLOCK_MONOTONIC, &mono))
		die("clock_gettime");
	printf("realtime: %lld.%09ld\n", (long long)rt.tv_sec, rt.tv_nsec);
	printf("monotonic: %lld.%09ld\n", (long long)mono.tv_sec, mono.tv_nsec);
	printf("time: %lld\n", (long long)time(NULL));
	if (gettimeofday(&tv, NULL) != 0)
		die("gettimeofday");
	printf("gettimeofday: %lld.%06ld\n", (long long)tv.tv_sec, (long)tv.tv_usec);
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		die("getrandom");
	hex("getrandom", rnd, sizeof rnd);
	if (readfile("/dev/urandom", buf, sizeof rnd + 1) != sizeof rnd)
		die("/dev/urandom");
	hex("urandom", (unsigned char *)buf, sizeof rnd);
	printf("pid: %d\n", getpid()); /* separate calls: fixed syscall order */
	printf("ppid: %d\n", getppid());
	printf("tid: %ld\n", syscall(SYS_gettid));
	size_t n = readfile("/proc/uptime", buf, sizeof buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	printf("uptime: %s\n", buf);
	if (uname(&u) != 0)
		die("uname");
	printf("uname: %s %s\n", u.nodename, u.release);
	fflush(stdout);
	return 0;
}
