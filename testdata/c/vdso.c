/*
 * vdso: looks the vDSO up itself and calls its functions, then the same
 * clocks through libc, for record/replay tests of the vDSO.
 *
 * Usage: vdso
 * Finds the vDSO with getauxval(AT_SYSINFO_EHDR) and its functions in the
 * vDSO's own ELF dynamic symbol table (no dlsym), then prints one labelled
 * line each, in this order:
 *   vdso clock_gettime: SEC.NSEC   __vdso_clock_gettime(CLOCK_REALTIME)
 *   vdso monotonic: SEC.NSEC       __vdso_clock_gettime(CLOCK_MONOTONIC)
 *   vdso gettimeofday: SEC.USEC    __vdso_gettimeofday
 *   vdso time: SEC                 __vdso_time(NULL)
 *   vdso clock_getres: SEC.NSEC    __vdso_clock_getres(CLOCK_MONOTONIC)
 *   vdso getcpu: ok                __vdso_getcpu returned 0 (the CPU is not
 *                                  printed: it depends on the scheduler)
 *   vgetrandom: HEX                16 bytes from __vdso_getrandom the way
 *                                  glibc 2.41+ uses it: a parameter query
 *                                  (opaque_len ~0UL) first; if it fails,
 *                                  the getrandom system call instead
 *   realtime: SEC.NSEC             libc clock_gettime(CLOCK_REALTIME)
 *   monotonic: SEC.NSEC            libc clock_gettime(CLOCK_MONOTONIC)
 *   gettimeofday: SEC.USEC         libc gettimeofday
 *   time: SEC                      libc time(NULL)
 *   getcpu: ok                     libc getcpu returned 0
 *   getrandom: HEX                 libc getrandom, 16 bytes
 * A vDSO function that is not exported is skipped (its line is missing).
 * Like the programs it stands for, it does not check getauxval's result:
 * when the vDSO is hidden (AT_SYSINFO_EHDR missing) it dereferences NULL
 * and dies with SIGSEGV. Exit 0; a failing call: message on stderr, exit 1.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/time.h>
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

/* The vDSO's dynamic symbols, from its section headers: the whole image is
 * mapped, so file offsets are offsets from its start. */
static const char *base;
static const Elf64_Sym *syms;
static size_t nsyms;
static const char *strs;
static long bias; /* load address minus link address */

static void load(void)
{
	base = (const char *)getauxval(AT_SYSINFO_EHDR);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base; /* NULL if hidden */
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0) {
		fprintf(stderr, "vdso: no ELF header at %p\n", (void *)base);
		exit(1);
	}
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD) {
			bias = (long)base + (long)ph[i].p_offset - (long)ph[i].p_vaddr;
			break;
		}
	}
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(base + eh->e_shoff);
	for (int i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type == SHT_DYNSYM) {
			syms = (const Elf64_Sym *)(base + sh[i].sh_offset);
			nsyms = sh[i].sh_size / sizeof(Elf64_Sym);
			strs = base + sh[sh[i].sh_link].sh_offset;
		}
	}
	if (syms == NULL) {
		fprintf(stderr, "vdso: no dynamic symbol table\n");
		exit(1);
	}
}

static void *sym(const char *name)
{
	for (size_t i = 0; i < nsyms; i++) {
		if (ELF64_ST_TYPE(syms[i].st_info) == STT_FUNC && syms[i].st_shndx != SHN_UNDEF &&
		    strcmp(strs + syms[i].st_name, name) == 0)
			return (void *)(bias + (long)syms[i].st_value);
	}
	return NULL;
}

struct vgetrandom_opaque_params {
	unsigned int size_of_opaque_state, mmap_prot, mmap_flags, reserved[13];
};

int main(void)
{
	struct timespec ts;
	struct timeval tv;
	unsigned cpu, node;
	unsigned char rnd[16];

	load();
	int (*vclock_gettime)(clockid_t, struct timespec *) = sym("__vdso_clock_gettime");
	int (*vgettimeofday)(struct timeval *, void *) = sym("__vdso_gettimeofday");
	time_t (*vtime)(time_t *) = sym("__vdso_time");
	int (*vclock_getres)(clockid_t, struct timespec *) = sym("__vdso_clock_getres");
	long (*vgetcpu)(unsigned *, unsigned *, void *) = sym("__vdso_getcpu");
	ssize_t (*vgetrandom)(void *, size_t, unsigned, void *, size_t) = sym("__vdso_getrandom");

	if (vclock_gettime) {
		if (vclock_gettime(CLOCK_REALTIME, &ts) != 0)
			die("__vdso_clock_gettime");
		printf("vdso clock_gettime: %lld.%09ld\n", (long long)ts.tv_sec, ts.tv_nsec);
		if (vclock_gettime(CLOCK_MONOTONIC, &ts) != 0)
			die("__vdso_clock_gettime");
		printf("vdso monotonic: %lld.%09ld\n", (long long)ts.tv_sec, ts.tv_nsec);
	}
	if (vgettimeofday) {
		if (vgettimeofday(&tv, NULL) != 0)
			die("__vdso_gettimeofday");
		printf("vdso gettimeofday: %lld.%06ld\n", (long long)tv.tv_sec, (long)tv.tv_usec);
	}
	if (vtime)
		printf("vdso time: %lld\n", (long long)vtime(NULL));
	if (vclock_getres) {
		if (vclock_getres(CLOCK_MONOTONIC, &ts) != 0)
			die("__vdso_clock_getres");
		printf("vdso clock_getres: %lld.%09ld\n", (long long)ts.tv_sec, ts.tv_nsec);
	}
	if (vgetcpu) {
		if (vgetcpu(&cpu, &node, NULL) != 0)
			die("__vdso_getcpu");
		printf("vdso getcpu: ok\n");
	}
	if (vgetrandom) {
		struct vgetrandom_opaque_params params;
		ssize_t n;
		memset(&params, 0, sizeof params);
		if (vgetrandom(NULL, 0, 0, &params, ~0UL) == 0 && params.size_of_opaque_state > 0) {
			void *state = mmap(NULL, 4096, params.mmap_prot, params.mmap_flags, -1, 0);
			if (state == MAP_FAILED)
				die("mmap");
			n = vgetrandom(rnd, sizeof rnd, 0, state, params.size_of_opaque_state);
		} else {
			n = syscall(SYS_getrandom, rnd, sizeof rnd, 0);
		}
		if (n != (ssize_t)sizeof rnd)
			die("vgetrandom");
		hex("vgetrandom", rnd, sizeof rnd);
	}

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		die("clock_gettime");
	printf("realtime: %lld.%09ld\n", (long long)ts.tv_sec, ts.tv_nsec);
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		die("clock_gettime");
	printf("monotonic: %lld.%09ld\n", (long long)ts.tv_sec, ts.tv_nsec);
	if (gettimeofday(&tv, NULL) != 0)
		die("gettimeofday");
	printf("gettimeofday: %lld.%06ld\n", (long long)tv.tv_sec, (long)tv.tv_usec);
	printf("time: %lld\n", (long long)time(NULL));
	if (getcpu(&cpu, &node) != 0)
		die("getcpu");
	printf("getcpu: ok\n");
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		die("getrandom");
	hex("getrandom", rnd, sizeof rnd);
	fflush(stdout);
	return 0;
}
