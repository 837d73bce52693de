//go:build linux && amd64

package abi

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// The helper mode of this test binary issues every x86_64 syscall under a
// seccomp filter that fails all of them with ENOSYS, so nothing runs; strace
// still prints each call at entry, so "strace -e trace=%CLASS" tells which
// calls strace puts in a class.
const helperEnv = "HERMES_ABI_SYSCALL_HELPER"

func init() {
	if os.Getenv(helperEnv) != "" {
		// Keep the main goroutine on the main thread, the one strace
		// traces without -f.
		runtime.LockOSThread()
	}
}

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		issueAllSyscalls()
	}
	os.Exit(m.Run())
}

// helperAllowed are calls the Go runtime may make on the helper thread;
// they are let through and not issued.
var helperAllowed = []uintptr{
	syscall.SYS_RT_SIGRETURN, syscall.SYS_FUTEX, syscall.SYS_SCHED_YIELD, syscall.SYS_NANOSLEEP,
	syscall.SYS_TGKILL, syscall.SYS_GETPID, syscall.SYS_GETTID, syscall.SYS_RT_SIGPROCMASK,
	syscall.SYS_SIGALTSTACK, syscall.SYS_MMAP, syscall.SYS_MUNMAP, syscall.SYS_MADVISE,
	syscall.SYS_WRITE, syscall.SYS_EXIT, syscall.SYS_EXIT_GROUP, syscall.SYS_CLOCK_GETTIME,
	syscall.SYS_RT_SIGACTION,
}

type sockFilter struct {
	code uint16
	jt   uint8
	_    uint8 // jf: always 0 here, but part of struct sock_filter
	k    uint32
}

func issueAllSyscalls() {
	const (
		ldNr     = 0x20 // BPF_LD|BPF_W|BPF_ABS, k=0 (seccomp_data.nr)
		jeq      = 0x15 // BPF_JMP|BPF_JEQ|BPF_K
		ret      = 0x06 // BPF_RET|BPF_K
		allow    = 0x7fff0000
		errnoRet = 0x00050000
	)
	prog := []sockFilter{{code: ldNr}}
	for i, nr := range helperAllowed {
		prog = append(prog, sockFilter{code: jeq, jt: uint8(len(helperAllowed) - i), k: uint32(nr)})
	}
	prog = append(prog, sockFilter{code: ret, k: errnoRet | uint32(syscall.ENOSYS)})
	prog = append(prog, sockFilter{code: ret, k: allow})
	fprog := struct {
		n    uint16
		_    [6]byte
		filt *sockFilter
	}{n: uint16(len(prog)), filt: &prog[0]}
	if _, _, e := syscall.RawSyscall6(syscall.SYS_PRCTL, 38 /* PR_SET_NO_NEW_PRIVS */, 1, 0, 0, 0, 0); e != 0 {
		os.Exit(3)
	}
	if _, _, e := syscall.RawSyscall(317 /* seccomp */, 1 /* SET_MODE_FILTER */, 0, uintptr(unsafe.Pointer(&fprog))); e != 0 {
		os.Exit(4)
	}
	skip := map[uintptr]bool{335: true, 336: true} // uretprobe, uprobe: SIGILL outside a trampoline
	for _, nr := range helperAllowed {
		skip[nr] = true
	}
	for _, s := range All() {
		if !skip[uintptr(s.Nr)] {
			syscall.RawSyscall6(uintptr(s.Nr), 0, 0, 0, 0, 0, 0)
		}
	}
	syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
}

// straceLastKnown is the last syscall number strace 6.1 knows on x86_64
// (set_mempolicy_home_node); later classes follow newer strace releases.
const straceLastKnown = 450

func TestClassesMatchStrace(t *testing.T) {
	if testing.Short() {
		t.Skip("runs strace")
	}
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace not installed")
	}
	v, _ := exec.Command(strace, "-V").Output()
	if !bytes.HasPrefix(v, []byte("strace -- version 6.")) {
		t.Skipf("want strace 6.x, have %q", bytes.SplitN(v, []byte("\n"), 2)[0])
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	skip := map[int]bool{335: true, 336: true}
	for _, nr := range helperAllowed {
		skip[int(nr)] = true
	}
	for _, cls := range []string{"%file", "%process", "%network", "%signal", "%ipc", "%desc", "%memory",
		"%creds", "%clock", "%stat", "%lstat", "%fstat", "%statfs", "%fstatfs", "%pure", "%%stat", "%%statfs"} {
		out := t.TempDir() + "/out"
		cmd := exec.Command(strace, "-qq", "-e", "trace="+cls, "-o", out, self, "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"=1", "GODEBUG=asyncpreemptoff=1", "GOGC=off")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Skipf("strace cannot run the helper (%v): %s", err, b)
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if !strings.Contains(line, "ENOSYS") {
				continue
			}
			if i := strings.IndexByte(line, '('); i > 0 {
				got[line[:i]] = true
			}
		}
		f.Close()
		c, ok := ParseClass(cls)
		if !ok {
			t.Fatalf("ParseClass(%q) failed", cls)
		}
		for _, s := range All() {
			if s.Nr > straceLastKnown || skip[s.Nr] {
				continue
			}
			if want := got[s.Name]; s.In(c) != want {
				t.Errorf("%s in %s: table says %v, strace says %v", s.Name, cls, s.In(c), want)
			}
		}
	}
}
