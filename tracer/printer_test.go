package tracer

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"unsafe"

	"github.com/hermes-trace/hermes/tracer/abi"
	"github.com/hermes-trace/hermes/tracer/decode"
	"golang.org/x/sys/unix"
)

// fakeThread is a thread of a process whose memory is this test's own.
func fakeThread(p *Process, tid int) *Thread {
	th := &Thread{Tid: tid, Lineage: "1", Proc: p}
	th.sc.Thread = th
	th.sc.mem = NewMemory(os.Getpid())
	p.threads++
	return th
}

// call sets th's current syscall: x86_64 nr with args, entered at t.
func call(th *Thread, nr int, t int64, args ...uint64) *Syscall {
	sc := &th.sc
	*sc = Syscall{Thread: th, Arch: abi.ArchX86_64, Nr: nr, Info: abi.X86_64(nr), Enter: t, mem: sc.mem}
	copy(sc.Args[:], args)
	return sc
}

func ret(sc *Syscall, v int64, t int64) *Syscall {
	sc.Ret, sc.Exited, sc.Leave = v, true, t
	return sc
}

func addr(b []byte) uint64 { return uint64(uintptr(unsafe.Pointer(&b[0]))) }

// TestPrinterLayout drives a Printer with the stops of two threads whose
// calls overlap, and checks strace's layout: the call another line
// interrupts is printed "<unfinished ...>" and "<... resumed>", the
// halves decoded as strace prints them; a thread that dies in a call.
func TestPrinterLayout(t *testing.T) {
	buf := []byte("w\x00")
	var out bytes.Buffer
	pr := NewPrinter(&out, decode.Options{}, PrinterOptions{})
	p := &Process{Pid: 100}
	a, b := fakeThread(p, 100), fakeThread(p, 101)
	var act Action
	pr.Process(&ProcessEvent{Kind: EventThread, Thread: a, Child: b})
	r := call(a, unix.SYS_READ, 1, 3, addr(buf), 1)
	pr.Enter(r, &act)
	w := call(b, unix.SYS_WRITE, 2, 4, addr(buf), 1)
	pr.Enter(w, &act)
	pr.Exit(ret(w, 1, 3), &act)
	pr.Exit(ret(r, 1, 4), &act)
	g := call(b, unix.SYS_GETPID, 5)
	pr.Enter(g, &act)
	pr.Exit(ret(g, 100, 6), &act)
	s := call(a, unix.SYS_NANOSLEEP, 7, 0, 0)
	pr.Enter(s, &act)
	pr.Process(&ProcessEvent{Kind: EventExit, Thread: b, Time: 8})
	pr.Process(&ProcessEvent{Kind: EventExit, Thread: a, Signal: int(unix.SIGKILL), Time: 9})
	if err := pr.Flush(); err != nil {
		t.Fatal(err)
	}
	want := `[pid   100] read(3,  <unfinished ...>
[pid   101] write(4, "w", 1) = 1
[pid   100] <... read resumed>"w", 1) = 1
[pid   101] getpid() = 100
[pid   100] nanosleep(NULL,  <unfinished ...>
[pid   101] +++ exited with 0 +++
<... nanosleep resumed> <unfinished ...>) = ?
+++ killed by SIGKILL +++
`
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}

// TestPrinterFilters checks -z, -Z and -c's counting on the same calls.
func TestPrinterFilters(t *testing.T) {
	for _, tc := range []struct {
		name  string
		po    PrinterOptions
		lines string
	}{
		{"all", PrinterOptions{}, "close(3) = 0\nclose(-1) = -1 EBADF (Bad file descriptor)\nexit_group(0) = ?\n+++ exited with 0 +++\n"},
		{"-z", PrinterOptions{Results: SuccessfulOnly}, "close(3) = 0\n+++ exited with 0 +++\n"},
		{"-Z", PrinterOptions{Results: FailedOnly}, "close(-1) = -1 EBADF (Bad file descriptor)\n+++ exited with 0 +++\n"},
		{"-c", PrinterOptions{Quiet: true, Summary: &decode.Summary{}}, ""},
		{"-C -Z", PrinterOptions{Results: FailedOnly, Summary: &decode.Summary{}}, "close(-1) = -1 EBADF (Bad file descriptor)\n+++ exited with 0 +++\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			pr := NewPrinter(&out, decode.Options{}, tc.po)
			th := fakeThread(&Process{Pid: 7}, 7)
			var act Action
			for _, fd := range []int64{3, -1} {
				sc := call(th, unix.SYS_CLOSE, 1, uint64(fd))
				pr.Enter(sc, &act)
				v := int64(0)
				if fd < 0 {
					v = -int64(unix.EBADF)
				}
				pr.Exit(ret(sc, v, 2), &act)
			}
			pr.Enter(call(th, unix.SYS_EXIT_GROUP, 3, 0), &act)
			pr.Process(&ProcessEvent{Kind: EventExit, Thread: th, Time: 4})
			pr.Flush()
			if out.String() != tc.lines {
				t.Errorf("got:\n%s\nwant:\n%s", out.String(), tc.lines)
			}
			if s := tc.po.Summary; s != nil {
				var tb bytes.Buffer
				s.WriteTo(&tb)
				if !strings.Contains(tb.String(), "         2         1 close\n") || strings.Contains(tb.String(), "exit_group") {
					t.Errorf("summary counts all closes, not exit_group:\n%s", tb.String())
				}
			}
		})
	}
}

// TestPrinterNoAllocs: printing a call allocates nothing when no flag
// asks for more than strace's default output.
func TestPrinterNoAllocs(t *testing.T) {
	buf := []byte("hello, world\n")
	pr := NewPrinter(discard{}, decode.Options{}, PrinterOptions{})
	th := fakeThread(&Process{Pid: 9}, 9)
	var act Action
	n := testing.AllocsPerRun(200, func() {
		sc := call(th, unix.SYS_WRITE, 1, 1, addr(buf), uint64(len(buf)))
		pr.Enter(sc, &act)
		pr.Exit(ret(sc, int64(len(buf)), 2), &act)
	})
	if n != 0 {
		t.Errorf("%v allocations per printed call", n)
	}
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

// BenchmarkPrinter measures a printed call: a write's entry and exit,
// decoded from this process's memory.
func BenchmarkPrinter(b *testing.B) {
	buf := []byte("hello, world\n")
	pr := NewPrinter(discard{}, decode.Options{}, PrinterOptions{})
	th := fakeThread(&Process{Pid: 9}, 9)
	var act Action
	b.ReportAllocs()
	for b.Loop() {
		sc := call(th, unix.SYS_WRITE, 1, 1, addr(buf), uint64(len(buf)))
		pr.Enter(sc, &act)
		pr.Exit(ret(sc, int64(len(buf)), 2), &act)
	}
}
