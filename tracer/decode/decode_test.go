package decode

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/hermes-trace/hermes/tracer/abi"
)

// fakeMem is tracee memory made of separate mapped regions.
type fakeMem struct {
	regions map[uint64][]byte
	next    uint64
	reads   int // ReadAt calls
	maxRead int // largest ReadAt
}

var errFault = errors.New("fault")

func newMem() *fakeMem { return &fakeMem{regions: map[uint64][]byte{}, next: 0x10000} }

func (m *fakeMem) ReadAt(p []byte, addr uint64) (int, error) {
	m.reads++
	if len(p) > m.maxRead {
		m.maxRead = len(p)
	}
	for base, data := range m.regions {
		if addr >= base && addr < base+uint64(len(data)) {
			n := copy(p, data[addr-base:])
			if n < len(p) {
				return n, errFault
			}
			return n, nil
		}
	}
	return 0, errFault
}

// put maps data at addr.
func (m *fakeMem) put(addr uint64, data []byte) uint64 {
	m.regions[addr] = data
	return addr
}

// alloc maps data at a fresh address, each in its own pages.
func (m *fakeMem) alloc(data []byte) uint64 {
	addr := m.next
	m.next += (uint64(len(data)) + 0x1fff) &^ 0xfff
	return m.put(addr, data)
}

func (m *fakeMem) str(s string) uint64 { return m.alloc(append([]byte(s), 0)) }

func (m *fakeMem) ptrs(p ...uint64) uint64 {
	b := make([]byte, 8*len(p))
	for i, v := range p {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	return m.alloc(b)
}

func le(vals ...any) []byte {
	var b []byte
	for _, v := range vals {
		switch v := v.(type) {
		case uint64:
			b = binary.LittleEndian.AppendUint64(b, v)
		case int:
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		case uint32:
			b = binary.LittleEndian.AppendUint32(b, v)
		case int32:
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		case uint16:
			b = binary.LittleEndian.AppendUint16(b, v)
		case []byte:
			b = append(b, v...)
		default:
			panic("le: bad type")
		}
	}
	return b
}

func mk(t testing.TB, name string, ret int64, args ...uint64) *Call {
	t.Helper()
	info := abi.Lookup(name)
	if info == nil {
		t.Fatalf("abi.Lookup(%q) = nil", name)
	}
	c := &Call{Arch: abi.ArchX86_64, Nr: info.Nr, Info: info, Ret: ret, Exited: true}
	copy(c.Args[:], args)
	return c
}

func neg(v int64) uint64 { return uint64(v) }

func render(c *Call, mem Memory, o *Options) string {
	b := AppendCall(nil, c, mem, o)
	b = AppendRet(b, c)
	return string(b)
}

func TestAppendCall(t *testing.T) {
	type tc struct {
		c    *Call
		o    *Options
		want string
	}
	m := newMem()
	var tests []tc
	add := func(want string, c *Call) { tests = append(tests, tc{c: c, want: want}) }

	add(`openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3`,
		mk(t, "openat", 3, neg(-100), m.str("/etc/ld.so.cache"), 0x80000, 0777))
	add(`openat(AT_FDCWD, "/tmp/x\n\1y", O_WRONLY|O_CREAT|O_TRUNC|O_APPEND, 0644) = 4`,
		mk(t, "openat", 4, neg(-100), m.str("/tmp/x\n\001y"), 03101, 0644))
	add(`openat(AT_FDCWD, "/tmp", O_RDONLY|O_TMPFILE, 0600) = -1 EINVAL (Invalid argument)`,
		mk(t, "openat", -22, neg(-100), m.str("/tmp"), 020200000, 0600))
	add(`openat(AT_FDCWD, 0x10, O_RDONLY) = -1 EFAULT (Bad address)`,
		mk(t, "openat", -14, neg(-100), 0x10, 0))
	add(`openat(AT_FDCWD, NULL, O_RDONLY) = -1 EFAULT (Bad address)`,
		mk(t, "openat", -14, neg(-100), 0, 0))
	long := "/" + strings.Repeat("a", 298)
	add(`openat(AT_FDCWD, "`+long+`", O_RDONLY) = -1 ENAMETOOLONG (File name too long)`,
		mk(t, "openat", -36, neg(-100), m.str(long), 0))
	add(`open("/dev/null", O_WRONLY) = 3`, mk(t, "open", 3, m.str("/dev/null"), 1, 0))

	elf := []byte("\177ELF\002\001\001\003\000\000\000\000\000\000\000\000\003\000>\000\001\000\000\000\020t\002\000\000\000\000\000MOREMOREMORE")
	add(`read(3, "\177ELF\2\1\1\3\0\0\0\0\0\0\0\0\3\0>\0\1\0\0\0\20t\2\0\0\0\0\0"..., 832) = 832`,
		mk(t, "read", 832, 3, m.alloc(elf), 832))
	add(`read(99, 0x7fff8feceef0, 10) = -1 EBADF (Bad file descriptor)`,
		mk(t, "read", -9, 99, 0x7fff8feceef0, 10))
	add(`read(7, "hello world, this is a long stri"..., 100) = 56`,
		mk(t, "read", 56, 7, m.alloc([]byte("hello world, this is a long string that is over 32 bytes")), 100))
	add(`read(3, "", 4096) = 0`, mk(t, "read", 0, 3, m.alloc([]byte("x")), 4096))
	tests = append(tests, tc{c: mk(t, "pread64", 784, 3, m.alloc([]byte{6, 0, 0, 0, 4, 0}), 784, 64), o: &Options{StrSize: 4},
		want: `pread64(3, "\6\0\0\0"..., 784, 64) = 784`})
	add(`write(3, "short", 5) = 5`, mk(t, "write", 5, 3, m.alloc([]byte("short")), 5))
	add(`write(3, 0x10, 5) = 5`, mk(t, "write", 5, 3, 0x10, 5))
	add(`write(3, "", 0) = 0`, mk(t, "write", 0, 3, m.alloc([]byte("abc")), 0))
	add(`write(3, "\18\19\1a\177\200\377\0\t", 11) = 11`,
		mk(t, "write", 11, 3, m.alloc([]byte("\0018\0019\001a\x7f\x80\xff\x00\t")), 11))
	add(`write(3, "\0001\0007\08\1\2\3\0", 10) = 10`,
		mk(t, "write", 10, 3, m.alloc([]byte("\0001\0007\0008\001\002\003\000")), 10))

	stReg := make([]byte, 144)
	binary.LittleEndian.PutUint32(stReg[24:], 0100644)
	binary.LittleEndian.PutUint64(stReg[48:], 33519)
	add(`newfstatat(3, "", {st_mode=S_IFREG|0644, st_size=33519, ...}, AT_EMPTY_PATH) = 0`,
		mk(t, "newfstatat", 0, 3, m.str(""), m.alloc(stReg), 0x1000))
	stChr := make([]byte, 144)
	binary.LittleEndian.PutUint32(stChr[24:], 020666)
	binary.LittleEndian.PutUint64(stChr[40:], 0x103)
	add(`newfstatat(0, "", {st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}, AT_EMPTY_PATH) = 0`,
		mk(t, "newfstatat", 0, 0, m.str(""), m.alloc(stChr), 0x1000))
	add(`newfstatat(AT_FDCWD, "/nonexist", 0x7fff8fecee40, AT_SYMLINK_NOFOLLOW) = -1 ENOENT (No such file or directory)`,
		mk(t, "newfstatat", -2, neg(-100), m.str("/nonexist"), 0x7fff8fecee40, 0x100))
	add(`fstat(1, {st_mode=S_IFREG|0644, st_size=33519, ...}) = 0`, mk(t, "fstat", 0, 1, m.alloc(stReg)))

	add(`mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7ff97f8a0000`,
		mk(t, "mmap", 0x7ff97f8a0000, 0, 8192, 3, 0x22, neg(-1), 0))
	add(`mmap(0x7ff97f6db000, 1400832, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x26000) = 0x7ff97f6db000`,
		mk(t, "mmap", 0x7ff97f6db000, 0x7ff97f6db000, 1400832, 5, 0x812, 3, 0x26000))
	add(`mmap(0x1000, 8192, PROT_NONE, MAP_SHARED|MAP_FIXED, 99, 0x1000) = -1 EBADF (Bad file descriptor)`,
		mk(t, "mmap", -9, 0x1000, 8192, 0, 0x11, 99, 0x1000))
	add(`munmap(0x7ff97f897000, 33519) = 0`, mk(t, "munmap", 0, 0x7ff97f897000, 33519))
	add(`mprotect(0x7ff97f884000, 16384, PROT_READ) = 0`, mk(t, "mprotect", 0, 0x7ff97f884000, 16384, 1))
	add(`brk(NULL) = 0x563b55c3e000`, mk(t, "brk", 0x563b55c3e000, 0))

	argv := m.ptrs(m.str("/bin/true"), m.str("a b"), m.str(`"q"`), 0)
	envp := m.ptrs(m.str("A=1"), m.str("B=2"), 0)
	add(`execve("/bin/true", ["/bin/true", "a b", "\"q\""], 0x`+hex(envp)+` /* 2 vars */) = 0`,
		mk(t, "execve", 0, m.str("/bin/true"), argv, envp))
	tests = append(tests, tc{
		c:    mk(t, "execve", 0, m.str("/bin/true"), argv, envp),
		o:    &Options{Verbose: true},
		want: `execve("/bin/true", ["/bin/true", "a b", "\"q\""], ["A=1", "B=2"]) = 0`,
	})
	var many []uint64
	wantArgv := `["/bin/true"`
	many = append(many, m.str("/bin/true"))
	for i := 1; i <= 40; i++ {
		s := itoa(i)
		many = append(many, m.str(s))
		if i < 32 {
			wantArgv += `, "` + s + `"`
		}
	}
	wantArgv += `, ...]`
	add(`execve("/bin/true", `+wantArgv+`, NULL) = 0`, mk(t, "execve", 0, m.str("/bin/true"), m.ptrs(append(many, 0)...), 0))
	tests = append(tests, tc{
		c:    mk(t, "execve", 0, m.str("/bin/true"), m.ptrs(m.str("/bin/true"), m.str("abcdefgh"), m.str("1"), m.str("2"), m.str("3"), 0), 0x7ffdb4a67620),
		o:    &Options{StrSize: 4},
		want: `execve("/bin/true", ["/bin"..., "abcd"..., "1", "2", ...], 0x7ffdb4a67620) = 0`,
	})

	iov := m.alloc(le(m.alloc([]byte("abc")), 3, m.alloc([]byte("defghijklmnopqrstuvwxyz0123456789ABCDEF")), 39))
	add(`writev(3, [{iov_base="abc", iov_len=3}, {iov_base="defghijklmnopqrstuvwxyz012345678"..., iov_len=39}], 2) = 42`,
		mk(t, "writev", 42, 3, iov, 2))
	riov := m.alloc(le(m.alloc([]byte("ab")), 2, m.alloc([]byte("cdefXXXXXX")), 10))
	add(`readv(7, [{iov_base="ab", iov_len=2}, {iov_base="cdef", iov_len=10}], 2) = 6`, mk(t, "readv", 6, 7, riov, 2))
	add(`readv(99, [{iov_base=0x10, iov_len=2}, {iov_base=0x20, iov_len=10}], 2) = -1 EBADF (Bad file descriptor)`,
		mk(t, "readv", -9, 99, m.alloc(le(0x10, 2, 0x20, 10)), 2))

	add(`pipe2([7, 8], O_NONBLOCK|O_CLOEXEC) = 0`, mk(t, "pipe2", 0, m.alloc(le(int32(7), int32(8))), 04000|02000000))
	add(`pipe2([5, 6], 0) = 0`, mk(t, "pipe2", 0, m.alloc(le(int32(5), int32(6))), 0))

	uts := make([]byte, 390)
	copy(uts, "Linux")
	copy(uts[65:], "vm")
	copy(uts[130:], "6.1.0")
	add(`uname({sysname="Linux", nodename="vm", ...}) = 0`, mk(t, "uname", 0, m.alloc(uts)))
	add(`prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0`,
		mk(t, "prlimit64", 0, 0, 3, 0, m.alloc(le(8192*1024, ^uint64(0)))))
	add(`prlimit64(0, RLIMIT_CORE, {rlim_cur=1000, rlim_max=1025}, NULL) = 0`,
		mk(t, "prlimit64", 0, 0, 4, m.alloc(le(1000, 1025)), 0))
	add(`getrlimit(RLIMIT_AS, {rlim_cur=RLIM64_INFINITY, rlim_max=RLIM64_INFINITY}) = 0`,
		mk(t, "getrlimit", 0, 9, m.alloc(le(^uint64(0), ^uint64(0)))))
	si := le(364, 26592, 13952, 6336, uint64(25276510208), uint64(24779685888), 9068544, 5505024, 0, 0,
		uint16(102), uint16(0), uint32(0), 0, 0, uint32(1), uint32(0))
	add(`sysinfo({uptime=364, loads=[26592, 13952, 6336], totalram=25276510208, freeram=24779685888, sharedram=9068544, bufferram=5505024, totalswap=0, freeswap=0, procs=102, totalhigh=0, freehigh=0, mem_unit=1}) = 0`,
		mk(t, "sysinfo", 0, m.alloc(si)))
	add(`clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=0, tv_nsec=1000}, NULL) = 0`,
		mk(t, "clock_nanosleep", 0, 0, 0, m.alloc(le(0, 1000)), 0))
	add(`clock_gettime(CLOCK_MONOTONIC, {tv_sec=12, tv_nsec=345}) = 0`,
		mk(t, "clock_gettime", 0, 1, m.alloc(le(12, 345))))
	add(`gettimeofday({tv_sec=1700000000, tv_usec=5}, NULL) = 0`,
		mk(t, "gettimeofday", 0, m.alloc(le(1700000000, 5)), 0))

	add(`socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 9`, mk(t, "socket", 9, 2, 1|02000000, 0))
	add(`socket(AF_UNIX, SOCK_STREAM, 0) = 12`, mk(t, "socket", 12, 1, 1, 0))
	sin := m.alloc([]byte{2, 0, 0, 9, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0})
	add(`connect(9, {sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 ECONNREFUSED (Connection refused)`,
		mk(t, "connect", -111, 9, sin, 16))
	sin6 := append([]byte{10, 0, 0, 53, 0, 0, 0, 0}, make([]byte, 20)...)
	sin6[23] = 1
	add(`connect(11, {sa_family=AF_INET6, sin6_port=htons(53), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0`,
		mk(t, "connect", 0, 11, m.alloc(sin6), 28))
	g6 := append([]byte(nil), sin6...)
	g6[2], g6[3] = 41884>>8, 41884&0xff
	add(`getsockname(11, {sa_family=AF_INET6, sin6_port=htons(41884), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, [28]) = 0`,
		mk(t, "getsockname", 0, 11, m.alloc(g6), m.alloc(le(int32(28)))))
	sun := append([]byte{1, 0}, []byte("/run/nonexist.sock")...)
	sun = append(sun, make([]byte, 110-len(sun))...)
	add(`connect(12, {sa_family=AF_UNIX, sun_path="/run/nonexist.sock"}, 110) = -1 ENOENT (No such file or directory)`,
		mk(t, "connect", -2, 12, m.alloc(sun), 110))
	add(`connect(12, {sa_family=AF_UNIX, sun_path=@"abs"}, 6) = 0`, mk(t, "connect", 0, 12, m.alloc([]byte{1, 0, 0, 'a', 'b', 's'}), 6))
	add(`accept4(3, 0x7ffc0000, 0x7ffc1000, SOCK_CLOEXEC) = -1 EAGAIN (Resource temporarily unavailable)`,
		mk(t, "accept4", -11, 3, 0x7ffc0000, 0x7ffc1000, 02000000))
	add(`accept4(3, NULL, NULL, SOCK_CLOEXEC) = 4`, mk(t, "accept4", 4, 3, 0, 0, 02000000))

	add(`ioctl(1, TIOCGWINSZ, 0x7fff8feceb38) = -1 ENOTTY (Inappropriate ioctl for device)`,
		mk(t, "ioctl", -25, 1, 0x5413, 0x7fff8feceb38))
	add(`ioctl(1, TIOCGWINSZ, {ws_row=50, ws_col=200, ws_xpixel=0, ws_ypixel=0}) = 0`,
		mk(t, "ioctl", 0, 1, 0x5413, m.alloc(le(uint16(50), uint16(200), uint16(0), uint16(0)))))
	add(`ioctl(7, FIONREAD, [0]) = 0`, mk(t, "ioctl", 0, 7, 0x541b, m.alloc(le(int32(0)))))
	add(`ioctl(0, TCGETS, 0x563b55c3e2a0) = -1 ENOTTY (Inappropriate ioctl for device)`, mk(t, "ioctl", -25, 0, 0x5401, 0x563b55c3e2a0))

	add(`getrandom("\xda\xae\x31\x74\x1e\x3f\xf8\xf4", 8, GRND_NONBLOCK) = 8`,
		mk(t, "getrandom", 8, m.alloc([]byte{0xda, 0xae, 0x31, 0x74, 0x1e, 0x3f, 0xf8, 0xf4}), 8, 1))
	add(`getcwd("/tmp/dec", 200) = 9`, mk(t, "getcwd", 9, m.str("/tmp/dec"), 200))
	add(`readlink("/proc/self/exe", "/tmp/dec/t", 200) = 10`, mk(t, "readlink", 10, m.str("/proc/self/exe"), m.alloc([]byte("/tmp/dec/tXXXX")), 200))
	add(`lseek(3, 10, SEEK_SET) = 0`, mk(t, "lseek", 0, 3, 10, 0))
	add(`lseek(3, -1, SEEK_END) = 99`, mk(t, "lseek", 99, 3, neg(-1), 2))
	add(`access("/etc/passwd", R_OK|W_OK) = 0`, mk(t, "access", 0, m.str("/etc/passwd"), 6))
	add(`access("/etc/passwd", F_OK) = 0`, mk(t, "access", 0, m.str("/etc/passwd"), 0))
	add(`mkdir("/tmp/dec/zz", 0755) = 0`, mk(t, "mkdir", 0, m.str("/tmp/dec/zz"), 0755))
	add(`mkdir("/tmp/dec/zzz", 000) = 0`, mk(t, "mkdir", 0, m.str("/tmp/dec/zzz"), 0))
	add(`chmod("/tmp/dec/zz", 0700) = 0`, mk(t, "chmod", 0, m.str("/tmp/dec/zz"), 0700))
	add(`kill(7673, 0) = 0`, mk(t, "kill", 0, 7673, 0))
	add(`kill(10522, SIGSTOP) = 0`, mk(t, "kill", 0, 10522, 19))
	add(`tgkill(20598, 20598, SIGABRT) = 0`, mk(t, "tgkill", 0, 20598, 20598, 6))
	add(`getpid() = 7673`, mk(t, "getpid", 7673))
	add(`clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7ff97f6b2a10) = 7674`,
		mk(t, "clone", 7674, 0x01200011, 0, 0, 0x7ff97f6b2a10, 0))
	add(`wait4(7674, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 7674`,
		mk(t, "wait4", 7674, 7674, m.alloc(le(int32(0x300))), 0, 0))
	add(`wait4(7675, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}], 0, NULL) = 7675`,
		mk(t, "wait4", 7675, 7675, m.alloc(le(int32(9))), 0, 0))
	add(`wait4(-1, 0x7ffc00001000, WNOHANG, NULL) = 0`, mk(t, "wait4", 0, neg(-1), 0x7ffc00001000, 1, 0))
	add(`rt_sigaction(SIGUSR1, {sa_handler=SIG_IGN, sa_mask=[USR1], sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x7ff97f6f1050}, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0`,
		mk(t, "rt_sigaction", 0, 10, m.alloc(le(1, 0x14000000, 0x7ff97f6f1050, 1<<9)), m.alloc(le(0, 0, 0, 0)), 8))
	add(`rt_sigaction(SIGUSR2, {sa_handler=0x55875c4852b9, sa_mask=~[INT RTMIN RT_1], sa_flags=SA_RESTORER|SA_ONSTACK|SA_RESTART|SA_NODEFER|SA_RESETHAND|SA_SIGINFO|SA_NOCLDSTOP|SA_NOCLDWAIT|0xffffffff00000000, sa_restorer=0x7f8dbb158050}, NULL, 8) = 0`,
		mk(t, "rt_sigaction", 0, 12, m.alloc(le(0x55875c4852b9, uint64(0xffffffffdc000007), 0x7f8dbb158050, ^uint64(0)&^(1<<1|1<<31|1<<32))), 0, 8))
	hupterm := uint64(1<<0 | 1<<14 | 1<<33 | 1<<39 | 1<<63)
	add(`rt_sigprocmask(SIG_BLOCK, ~[RTMIN RT_1], [HUP TERM RT_2 RT_8 RT_32], 8) = 0`,
		mk(t, "rt_sigprocmask", 0, 0, m.alloc(le(^uint64(0)&^(3<<31))), m.alloc(le(hupterm)), 8))
	add(`rt_sigprocmask(SIG_UNBLOCK, [], NULL, 8) = 0`, mk(t, "rt_sigprocmask", 0, 1, m.alloc(le(0)), 0, 8))
	add(`dup3(3, 101, O_CLOEXEC) = 101`, mk(t, "dup3", 101, 3, 101, 02000000))
	add(`fcntl(3, F_GETFD) = 0x1 (flags FD_CLOEXEC)`, mk(t, "fcntl", 1, 3, 1))
	add(`fcntl(3, F_GETFD) = 0`, mk(t, "fcntl", 0, 3, 1))
	add(`fcntl(3, F_SETFD, FD_CLOEXEC) = 0`, mk(t, "fcntl", 0, 3, 2, 1))
	add(`fcntl(3, F_DUPFD_CLOEXEC, 10) = 10`, mk(t, "fcntl", 10, 3, 1030, 10))
	add(`arch_prctl(ARCH_SET_FS, 0x7ff97f6b2740) = 0`, mk(t, "arch_prctl", 0, 0x1002, 0x7ff97f6b2740))
	add(`set_tid_address(0x7ff97f6b2a10) = 7673`, mk(t, "set_tid_address", 7673, 0x7ff97f6b2a10))
	add(`set_robust_list(0x7ff97f6b2a20, 24) = 0`, mk(t, "set_robust_list", 0, 0x7ff97f6b2a20, 24))
	add(`rseq(0x7ff97f6b3060, 0x20, 0, 0x53053053) = 0`, mk(t, "rseq", 0, 0x7ff97f6b3060, 0x20, 0, 0x53053053))
	add(`prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) = 0`, mk(t, "prctl", 0, 38, 1, 0, 0, 0))
	add(`pause() = ? ERESTARTNOHAND (To be restarted if no handler)`, mk(t, "pause", -514))
	add(`exit_group(0) = ?`, mk(t, "exit_group", 0, 0))
	add(`close(3) = 0`, mk(t, "close", 0, 3))
	add(`rt_sigqueueinfo(10519, SIGUSR2, {si_signo=SIGUSR2, si_code=SI_QUEUE, si_pid=10519, si_uid=0, si_int=42, si_ptr=0x2a}) = 0`,
		mk(t, "rt_sigqueueinfo", 0, 10519, 12, m.alloc(append(le(int32(12), int32(0), int32(-1), int32(0), int32(10519), int32(0), 42), make([]byte, 96)...))))
	dents := make([]byte, 72)
	binary.LittleEndian.PutUint16(dents[16:], 24)
	binary.LittleEndian.PutUint16(dents[24+16:], 24)
	binary.LittleEndian.PutUint16(dents[48+16:], 24)
	da := m.alloc(dents)
	add(`getdents64(3, 0x`+hex(da)+` /* 3 entries */, 32768) = 72`, mk(t, "getdents64", 72, 3, da, 32768))
	add(`getdents64(3, 0x`+hex(da)+` /* 0 entries */, 32768) = 0`, mk(t, "getdents64", 0, 3, da, 32768))
	add(`poll([{fd=3, events=POLLIN}, {fd=4, events=POLLIN|POLLOUT}], 2, 0) = 1`,
		mk(t, "poll", 1, m.alloc(le(int32(3), uint16(1), uint16(0), int32(4), uint16(5), uint16(0))), 2, 0))
	add(`select(5, [3 4], [], NULL, NULL) = 1`, mk(t, "select", 1, 5, m.alloc(le(uint64(0x18))), m.alloc(le(0)), 0, 0))

	// statx, fadvise64 and epoll, as strace 6.1 prints them.
	stx := make([]byte, 256)
	binary.LittleEndian.PutUint32(stx, 0x1fff)
	binary.LittleEndian.PutUint64(stx[8:], 0x20)
	binary.LittleEndian.PutUint16(stx[28:], 0100644)
	binary.LittleEndian.PutUint64(stx[40:], 5)
	stxa := m.alloc(stx)
	add(`statx(AT_FDCWD, "f.txt", AT_STATX_SYNC_AS_STAT, STATX_ALL, {stx_mask=STATX_ALL|STATX_MNT_ID, stx_attributes=STATX_ATTR_APPEND, stx_mode=S_IFREG|0644, stx_size=5, ...}) = 0`,
		mk(t, "statx", 0, neg(-100), m.str("f.txt"), 0, 0xfff, stxa))
	add(`statx(AT_FDCWD, "/nonexistent", AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW, STATX_MODE, 0x`+hex(stxa)+`) = -1 ENOENT (No such file or directory)`,
		mk(t, "statx", -2, neg(-100), m.str("/nonexistent"), 0x100, 2, stxa))
	add(`statx(3, "", AT_STATX_DONT_SYNC|AT_EMPTY_PATH, STATX_BASIC_STATS|STATX_MNT_ID|0x80000000, NULL) = -1 EFAULT (Bad address)`,
		mk(t, "statx", -14, 3, m.str(""), 0x5000, 0x800017ff, 0))
	add(`fadvise64(3, 0, 4096, POSIX_FADV_SEQUENTIAL) = 0`, mk(t, "fadvise64", 0, 3, 0, 4096, 2))
	add(`fadvise64(3, -1, 0, 0x9 /* POSIX_FADV_??? */) = -1 EINVAL (Invalid argument)`, mk(t, "fadvise64", -22, 3, neg(-1), 0, 9))
	ev := m.alloc(le(uint32(0x80000005), uint64(77309411331)))
	add(`epoll_ctl(5, EPOLL_CTL_MOD, 3, {events=EPOLLIN|EPOLLOUT|EPOLLET, data={u32=3, u64=77309411331}}) = 0`,
		mk(t, "epoll_ctl", 0, 5, 3, 3, ev))
	add(`epoll_ctl(5, EPOLL_CTL_DEL, 3, NULL) = -1 ENOENT (No such file or directory)`, mk(t, "epoll_ctl", -2, 5, 2, 3, 0))
	evs := m.alloc(le(uint32(1), uint64(3), uint32(0x2011), uint64(0x1234567890)))
	add(`epoll_wait(5, [{events=EPOLLIN, data={u32=3, u64=3}}, {events=EPOLLIN|EPOLLHUP|EPOLLRDHUP, data={u32=878082192, u64=78187493520}}], 4, 1000) = 2`,
		mk(t, "epoll_wait", 2, 5, evs, 4, 1000))
	add(`epoll_wait(5, [], 4, 0) = 0`, mk(t, "epoll_wait", 0, 5, evs, 4, 0))
	add(`epoll_wait(5, 0x`+hex(evs)+`, 4, -1) = -1 EINTR (Interrupted system call)`, mk(t, "epoll_wait", -4, 5, evs, 4, neg(-1)))
	add(`epoll_pwait(5, [{events=EPOLLIN, data={u32=3, u64=3}}], 4, 0, [USR1], 8) = 1`,
		mk(t, "epoll_pwait", 1, 5, evs, 4, 0, m.alloc(le(uint64(1<<9))), 8))
	tests = append(tests, tc{c: mk(t, "epoll_wait", 2, 5, evs, 4, 1000), o: &Options{StrSize: 1},
		want: `epoll_wait(5, [{events=EPOLLIN, data={u32=3, u64=3}}, ...], 4, 1000) = 2`})

	// Unknown syscalls and other personalities: name and six hex args.
	tests = append(tests, tc{
		c:    &Call{Arch: abi.ArchX86_64, Nr: 999, Args: [6]uint64{1, 2, 3, 4, 5, 6}, Ret: -38, Exited: true},
		want: `syscall_0x3e7(0x1, 0x2, 0x3, 0x4, 0x5, 0x6) = -1 ENOSYS (Function not implemented)`,
	})
	tests = append(tests, tc{
		c:    &Call{Arch: abi.ArchI386, Nr: 1, Args: [6]uint64{0, 0x10}, Ret: 0, Exited: false},
		want: `exit(0, 0x10, 0, 0, 0, 0) = ?`,
	})

	for _, tt := range tests {
		got := render(tt.c, m, tt.o)
		if got != tt.want {
			t.Errorf("\n got: %s\nwant: %s", got, tt.want)
		}
	}
}

func hex(v uint64) string { return strings.TrimPrefix(string(appendHexZero(nil, v)), "0x") }
func itoa(i int) string   { return string(appendInt(nil, int64(i))) }

// fdNames is a -y namer over a fixed table; fresh lookups see after.
type fdNames struct{ before, after map[int]string }

func (n fdNames) AppendFDName(dst []byte, fd int, fresh bool) []byte {
	m := n.before
	if fresh {
		m = n.after
	}
	if p, ok := m[fd]; ok {
		dst = append(dst, '<')
		dst = AppendFDPath(dst, p)
		dst = append(dst, '>')
	}
	return dst
}

func TestFDNames(t *testing.T) {
	m := newMem()
	names := fdNames{
		before: map[int]string{-100: "/tmp", 1: "/dev/pts/0", 3: "/etc/host<name>", 5: "pipe:[1]"},
		after:  map[int]string{1: "/etc/host<name>", 3: "/etc/host<name>", 4: "pipe:[2]", 6: "pipe:[2]"},
	}
	o := &Options{FDs: names}
	for _, tt := range []struct {
		c    *Call
		want string
	}{
		{mk(t, "openat", 3, neg(-100), m.str("/etc/host<name>"), 0), `openat(AT_FDCWD</tmp>, "/etc/host<name>", O_RDONLY) = 3</etc/host\74name\76>`},
		{mk(t, "dup2", 1, 3, 1), `dup2(3</etc/host\74name\76>, 1</dev/pts/0>) = 1</etc/host\74name\76>`},
		{mk(t, "close", 0, 5), `close(5<pipe:[1]>) = 0`},
		{mk(t, "close", -9, 99), `close(99) = -1 EBADF (Bad file descriptor)`},
		{mk(t, "pipe2", 0, m.alloc(le(int32(4), int32(6))), 0), `pipe2([4<pipe:[2]>, 6<pipe:[2]>], 0) = 0`},
		{mk(t, "fcntl", 4, 3, 0, 4), `fcntl(3</etc/host\74name\76>, F_DUPFD, 4) = 4<pipe:[2]>`},
		{mk(t, "poll", 0, m.alloc(le(int32(5), uint16(1), uint16(0))), 1, 0), `poll([{fd=5<pipe:[1]>, events=POLLIN}], 1, 0) = 0`},
		{mk(t, "mmap", 0x7f0000000000, 0, 4096, 1, 2, 3, 0), `mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 3</etc/host\74name\76>, 0) = 0x7f0000000000`},
	} {
		got := string(AppendResult(AppendCall(nil, tt.c, m, o), tt.c, o))
		if got != tt.want {
			t.Errorf("\n got: %s\nwant: %s", got, tt.want)
		}
	}
	var fds []int
	FDArgs(mk(t, "renameat2", 0, neg(-100), 0, 7, 0, 0), func(fd int) { fds = append(fds, fd) })
	if len(fds) != 2 || fds[0] != -100 || fds[1] != 7 {
		t.Errorf("FDArgs(renameat2) = %v, want [-100 7]", fds)
	}
}

// TestPhases checks the halves strace prints when another line comes
// between a call's entry and its exit, and that they make the whole.
func TestPhases(t *testing.T) {
	m := newMem()
	ca := m.alloc(le(uint64(0x100000), uint64(0), uint64(0), uint64(m.alloc(le(int32(77)))), uint64(17), uint64(0), uint64(0), uint64(0)))
	for _, tt := range []struct {
		c           *Call
		entry, exit string
	}{
		{mk(t, "read", 1, 3, m.alloc([]byte("w")), 1), `read(3, `, `"w", 1)`},
		{mk(t, "write", 1, 4, m.alloc([]byte("w")), 1), `write(4, "w", 1`, `)`},
		{mk(t, "getrandom", 2, m.alloc([]byte("ab")), 2, 0), `getrandom(`, `"\x61\x62", 2, 0)`},
		{mk(t, "wait4", 77, neg(-1), 0, 0, 0), `wait4(-1, `, `NULL, 0, NULL)`},
		{mk(t, "clock_nanosleep", 0, 0, 0, m.alloc(le(0, 100000000)), 0), `clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=0, tv_nsec=100000000}, `, `NULL)`},
		{mk(t, "futex", 0, 0x1000, 0x189, 5, 0, 0, 0xffffffff), `futex(0x1000, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 5, NULL, FUTEX_BITSET_MATCH_ANY`, `)`},
		{mk(t, "clone", 1234, 0x100011, 0, m.alloc(le(int32(1234))), 0, 0), `clone(child_stack=NULL, flags=CLONE_PARENT_SETTID|SIGCHLD`, `, parent_tid=[1234])`},
		{mk(t, "clone3", 77, ca, 88), `clone3({flags=CLONE_PARENT_SETTID, parent_tid=0x` + hex(le64(m.regions[ca][24:])) + `, exit_signal=SIGCHLD, stack=NULL, stack_size=0}`, ` => {parent_tid=[77]}, 88)`},
		{mk(t, "exit_group", 0, 0), `exit_group(0`, `)`},
		{&Call{Arch: abi.ArchI386, Nr: 1, Args: [6]uint64{3}}, `exit(0x3, 0, 0, 0, 0, 0`, `)`},
	} {
		checkHalves(t, tt.c, m, tt.entry, tt.exit)
	}
}

// checkHalves checks what a call prints at its entry and at its exit, and
// that together they are what it prints whole.
func checkHalves(t *testing.T, c *Call, m Memory, wantEntry, wantExit string) {
	t.Helper()
	entry := string(AppendCallEntry(nil, c, m, nil))
	exit := string(AppendCallExit(nil, c, m, nil))
	whole := string(AppendCall(nil, c, m, nil))
	if entry != wantEntry || exit != wantExit {
		t.Errorf("%s:\n entry %q, want %q\n exit  %q, want %q", whole, entry, wantEntry, exit, wantExit)
	}
	if entry+exit != whole {
		t.Errorf("entry %q + exit %q != %q", entry, exit, whole)
	}
}
