package decode

import (
	"bytes"
	"os"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/hermes-trace/hermes/tracer/abi"
)

// all256 is strace 6.1's rendering of the bytes 0..255 (write with -s 300).
const all256 = `"\0\1\2\3\4\5\6\7\10\t\n\v\f\r\16\17\20\21\22\23\24\25\26\27\30\31\32\33\34\35\36\37 !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_` + "`" + `abcdefghijklmnopqrstuvwxyz{|}~\177\200\201\202\203\204\205\206\207\210\211\212\213\214\215\216\217\220\221\222\223\224\225\226\227\230\231\232\233\234\235\236\237\240\241\242\243\244\245\246\247\250\251\252\253\254\255\256\257\260\261\262\263\264\265\266\267\270\271\272\273\274\275\276\277\300\301\302\303\304\305\306\307\310\311\312\313\314\315\316\317\320\321\322\323\324\325\326\327\330\331\332\333\334\335\336\337\340\341\342\343\344\345\346\347\350\351\352\353\354\355\356\357\360\361\362\363\364\365\366\367\370\371\372\373\374\375\376\377"`

func TestAppendQuotedAllBytes(t *testing.T) {
	var b [256]byte
	for i := range b {
		b[i] = byte(i)
	}
	if got := string(AppendQuoted(nil, b[:], false)); got != all256 {
		t.Errorf("got  %s\nwant %s", got, all256)
	}
}

func TestAppendQuoted(t *testing.T) {
	for _, tt := range []struct {
		in        string
		truncated bool
		want      string
	}{
		{"", false, `""`},
		{"", true, `""...`},
		{"abc", true, `"abc"...`},
		{"\x001", false, `"\0001"`},
		{"\x007", false, `"\0007"`},
		{"\x008", false, `"\08"`},
		{"\x009", false, `"\09"`},
		{"\x00a", false, `"\0a"`},
		{"\x080", false, `"\0100"`},
		{"\x08x", false, `"\10x"`},
		{"\x7f0", false, `"\1770"`},
		{"\xff", false, `"\377"`},
		{"\x00", false, `"\0"`},
		{"\x1b[0m", false, `"\33[0m"`},
		{"\x1b0", false, `"\0330"`},
		{"tab\there\n", false, `"tab\there\n"`},
		{`"\'?`, false, `"\"\\'?"`},
		{"\r\v\f", false, `"\r\v\f"`},
		{"\x01\x02", false, `"\1\2"`},
	} {
		if got := string(AppendQuoted(nil, []byte(tt.in), tt.truncated)); got != tt.want {
			t.Errorf("AppendQuoted(%q, %v) = %s, want %s", tt.in, tt.truncated, got, tt.want)
		}
	}
}

func TestReadStringPageBoundary(t *testing.T) {
	m := newMem()
	// "hello" ends exactly at the end of a mapped page; the next is unmapped.
	base := uint64(0x40000)
	page := bytes.Repeat([]byte{'x'}, 4096)
	copy(page[4096-5:], "hello")
	m.put(base, page)
	s, complete, err := ReadString(m, base+4096-5, 100, nil)
	if string(s) != "hello" || complete || err == nil {
		t.Errorf("unterminated at unmapped page: %q %v %v", s, complete, err)
	}
	// A string that ends with its NUL on the last byte of a page must be
	// read without touching the next, unmapped page.
	copy(page[4096-6:], "hello\x00")
	m.reads, m.maxRead = 0, 0
	s, complete, err = ReadString(m, base+4096-6, 100, nil)
	if string(s) != "hello" || !complete || err != nil {
		t.Errorf("terminated at page end: %q %v %v", s, complete, err)
	}
	if m.reads != 1 || m.maxRead != 6 {
		t.Errorf("reads = %d, max read %d; want 1 read of 6 bytes", m.reads, m.maxRead)
	}
	// Across two mapped pages: reads are split at the boundary.
	two := bytes.Repeat([]byte{'y'}, 8192)
	two[4096+10] = 0
	m.put(0x80000, two)
	m.reads = 0
	s, complete, err = ReadString(m, 0x80000+4090, 100, make([]byte, 0, 8))
	if string(s) != strings.Repeat("y", 16) || !complete || err != nil || m.reads != 2 {
		t.Errorf("across pages: %q %v %v reads=%d", s, complete, err, m.reads)
	}
	// Exactly max bytes is complete; one more is not.
	m.put(0x90000, []byte("abcd\x00"))
	if s, complete, _ := ReadString(m, 0x90000, 4, nil); string(s) != "abcd" || !complete {
		t.Errorf("max exact: %q %v", s, complete)
	}
	if s, complete, err := ReadString(m, 0x90000, 3, nil); string(s) != "abc" || complete || err != nil {
		t.Errorf("max short: %q %v %v", s, complete, err)
	}
	if _, _, err := ReadString(m, 0x10, 3, nil); err == nil {
		t.Errorf("unmapped: no error")
	}
	if _, _, err := ReadString(nil, 0x10, 3, nil); err == nil {
		t.Errorf("nil memory: no error")
	}
	// Rendered: a partially readable string prints what was read, truncated.
	c := mk(t, "openat", -14, uint64(0xffffffffffffff9c), base+4096-5, 0)
	copy(page[4096-5:], "hello")
	if got := render(c, m, nil); got != `openat(AT_FDCWD, "hello"..., O_RDONLY) = -1 EFAULT (Bad address)` {
		t.Errorf("partial path: %s", got)
	}
}

func TestAppendWaitStatus(t *testing.T) {
	for _, tt := range []struct {
		s    uint32
		want string
	}{
		{0, "[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]"},
		{3 << 8, "[{WIFEXITED(s) && WEXITSTATUS(s) == 3}]"},
		{9, "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}]"},
		{11 | 0x80, "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV && WCOREDUMP(s)}]"},
		{19<<8 | 0x7f, "[{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}]"},
		{4<<16 | 5<<8 | 0x7f, "[{WIFSTOPPED(s) && WSTOPSIG(s) == SIGTRAP} | PTRACE_EVENT_EXEC << 16]"},
		{0xffff, "[{WIFCONTINUED(s)}]"},
	} {
		if got := string(AppendWaitStatus(nil, tt.s)); got != tt.want {
			t.Errorf("AppendWaitStatus(%#x) = %s, want %s", tt.s, got, tt.want)
		}
	}
}

func siginfo(signo, errno, code int32, rest ...any) []byte {
	b := le(append([]any{signo, errno, code, int32(0)}, rest...)...)
	return append(b, make([]byte, 128-len(b))...)
}

func TestAppendSiginfo(t *testing.T) {
	for _, tt := range []struct {
		b    []byte
		want string
	}{
		{siginfo(17, 0, 1, int32(7674), int32(0), int32(3), int32(0), 0, 0),
			"{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=7674, si_uid=0, si_status=3, si_utime=0, si_stime=0}"},
		{siginfo(17, 0, 2, int32(7675), int32(0), int32(9), int32(0), 1, 2),
			"{si_signo=SIGCHLD, si_code=CLD_KILLED, si_pid=7675, si_uid=0, si_status=SIGKILL, si_utime=1 /* 0.01 s */, si_stime=2 /* 0.02 s */}"},
		{siginfo(17, 0, 6, int32(10522), int32(0), int32(18), int32(0), 0, 0),
			"{si_signo=SIGCHLD, si_code=CLD_CONTINUED, si_pid=10522, si_uid=0, si_status=SIGCONT, si_utime=0, si_stime=0}"},
		{siginfo(10, 0, 0, int32(7673), int32(0)), "{si_signo=SIGUSR1, si_code=SI_USER, si_pid=7673, si_uid=0}"},
		{siginfo(6, 0, -6, int32(20598), int32(0)), "{si_signo=SIGABRT, si_code=SI_TKILL, si_pid=20598, si_uid=0}"},
		{siginfo(11, 0, 1, 0x10), "{si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x10}"},
		{siginfo(11, 0, 0x80, 0), "{si_signo=SIGSEGV, si_code=SI_KERNEL, si_addr=NULL}"},
		{siginfo(31, 5, 1, 0x7f8dbb21d829, int32(110), uint32(0xc000003e)),
			"{si_signo=SIGSYS, si_code=SYS_SECCOMP, si_errno=EIO, si_call_addr=0x7f8dbb21d829, si_syscall=__NR_getppid, si_arch=AUDIT_ARCH_X86_64}"},
		{siginfo(12, 0, -1, int32(10519), int32(0), 42),
			"{si_signo=SIGUSR2, si_code=SI_QUEUE, si_pid=10519, si_uid=0, si_int=42, si_ptr=0x2a}"},
	} {
		if got := string(AppendSiginfoBytes(nil, tt.b)); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
		var si unix.Siginfo
		copy((*[128]byte)(unsafe.Pointer(&si))[:], tt.b)
		if got := string(AppendSiginfo(nil, &si)); got != tt.want {
			t.Errorf("AppendSiginfo: got %s", got)
		}
	}
}

func TestAllocs(t *testing.T) {
	m := newMem()
	path := m.str("/etc/hostname")
	buf := m.alloc([]byte("some data that is longer than thirty-two bytes, surely"))
	stb := m.alloc(make([]byte, 144))
	calls := []*Call{
		mk(t, "openat", 3, uint64(0xffffffffffffff9c), path, 0x80000, 0),
		mk(t, "read", 40, 3, buf, 4096),
		mk(t, "write", 40, 1, buf, 40),
		mk(t, "newfstatat", 0, 3, path, stb, 0x1000),
		mk(t, "mmap", 0x7f0000000000, 0, 8192, 3, 0x22, uint64(0xffffffffffffffff), 0),
		mk(t, "openat", -2, uint64(0xffffffffffffff9c), path, 0x80000, 0),
		mk(t, "fcntl", 0, 3, 6, m.alloc(le(uint16(1), uint16(0), uint32(0), 0, 10, int32(0), uint32(0)))),
		mk(t, "fcntl", 0, 3, 5, m.alloc(le(uint16(2), uint16(0), uint32(0), 0, 10, int32(0), uint32(0)))),
		mk(t, "futex", -110, 0x1000, 0x109, 0, m.alloc(le(0, 1000)), 0, 0xff),
		mk(t, "futex", 0, 0x1000, 0x85, 1, 2, 0x2000, 0x14001000),
		mk(t, "ioctl", -95, 4, 0x4020940d, m.alloc(le(3, 1, 2, 3))),
		mk(t, "ioctl", -95, 4, 0x40049409, 3),
	}
	dst := make([]byte, 0, 4096)
	o := &Options{}
	for _, c := range calls {
		n := testing.AllocsPerRun(200, func() {
			d := AppendCall(dst[:0], c, m, o)
			d = AppendRet(d, c)
			_ = d
		})
		if n != 0 {
			t.Errorf("%s: %v allocs per call", AppendCall(nil, c, m, o), n)
		}
	}
}

// procMem reads the memory of a process with process_vm_readv.
type procMem struct{ pid int }

func (p procMem) ReadAt(b []byte, addr uint64) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	local := []unix.Iovec{{Base: &b[0]}}
	local[0].SetLen(len(b))
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: len(b)}}
	return unix.ProcessVMReadv(p.pid, local, remote, 0)
}

func TestSelfMemory(t *testing.T) {
	path := []byte("/etc/hostname\x00")
	buf := []byte("hello\n")
	mem := procMem{os.Getpid()}
	c := mk(t, "openat", 3, uint64(0xffffffffffffff9c), uint64(uintptr(unsafe.Pointer(&path[0]))), 0x80000, 0)
	got := render(c, mem, nil)
	if _, err := mem.ReadAt(make([]byte, 1), uint64(uintptr(unsafe.Pointer(&path[0])))); err != nil {
		t.Skipf("process_vm_readv unavailable: %v", err)
	}
	if want := `openat(AT_FDCWD, "/etc/hostname", O_RDONLY|O_CLOEXEC) = 3`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	c = mk(t, "write", 6, 1, uint64(uintptr(unsafe.Pointer(&buf[0]))), 6)
	if got, want := render(c, mem, nil), `write(1, "hello\n", 6) = 6`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	runtime.KeepAlive(path)
	runtime.KeepAlive(buf)
}

func TestAppendRet(t *testing.T) {
	for _, tt := range []struct {
		c    *Call
		want string
	}{
		{mk(t, "openat", 3), " = 3"},
		{mk(t, "openat", -2), " = -1 ENOENT (No such file or directory)"},
		{mk(t, "mmap", 0x7f1234500000), " = 0x7f1234500000"},
		{mk(t, "mmap", -12), " = -1 ENOMEM (Cannot allocate memory)"},
		{mk(t, "exit_group", 0), " = ?"},
		{mk(t, "read", -512), " = ? ERESTARTSYS (To be restarted if SA_RESTART is set)"},
		{mk(t, "nanosleep", -516), " = ? ERESTART_RESTARTBLOCK (Interrupted by signal)"},
		{&Call{Info: abi.Lookup("read")}, " = ?"},
		{&Call{Nr: 999, Ret: 5, Exited: true}, " = 5"},
	} {
		if got := string(AppendRet(nil, tt.c)); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}
