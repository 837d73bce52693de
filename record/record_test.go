package record_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/internal/testbin"
	"github.com/hermes-trace/hermes/record"
	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
	"golang.org/x/sys/unix"
)

// live is what a handler saw of one call while it happened.
type live struct {
	nr   int
	regs []byte
	ret  int64
	out  []byte // the buffer read(2) filled
}

// witness keeps, per thread, what every call looked like live.
type witness struct {
	calls map[int][]live
	cur   map[int]*live
}

func (w *witness) Enter(sc *tracer.Syscall, act *tracer.Action) {
	act.WantExit = true
	regs, err := sc.Regs()
	if err != nil {
		return
	}
	w.cur[sc.Tid()] = &live{nr: sc.Nr, regs: append([]byte(nil), unsafe.Slice((*byte)(unsafe.Pointer(regs)), 216)...)}
}

func (w *witness) Exit(sc *tracer.Syscall, act *tracer.Action) {
	l := w.cur[sc.Tid()]
	if l == nil {
		return
	}
	l.ret = sc.Ret
	if sc.Name() == "read" && sc.Ret > 0 {
		l.out = make([]byte, sc.Ret)
		sc.Mem().ReadAt(l.out, sc.Args[1])
	}
	w.calls[sc.Tid()] = append(w.calls[sc.Tid()], *l)
	delete(w.cur, sc.Tid())
}

func recordRun(t *testing.T, handlers []tracer.Handler, argv ...string) (string, tracer.Result) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.trace")
	w, err := format.Create(path, &tracepb.TraceHeader{Argv: argv, Arch: "x86_64"}, format.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec := record.New(w, record.Options{})
	devnull, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	defer devnull.Close()
	res, err := tracer.New(tracer.Config{Handlers: append(handlers, rec), Stdout: devnull, Logf: t.Logf}).Launch(argv)
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Err(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path, res
}

func readAll(t *testing.T, path string) []*tracepb.Event {
	t.Helper()
	_, evs, _, err := format.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// TestRoundTrip records multi-threaded and multi-process programs and
// checks that the trace holds what a live handler saw: registers byte for
// byte, results, the bytes read(2) returned, in each thread's order; and
// that sequence numbers have no gaps.
func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	os.WriteFile(a, bytes.Repeat([]byte("hermes\n"), 3000), 0o644)
	for _, argv := range [][]string{
		{testbin.C(t, "files"), a},
		{testbin.C(t, "threads"), "4", "50"},
		{testbin.C(t, "forkchain"), "3"},
		{testbin.Go(t, "goroutines"), "8"},
	} {
		t.Run(filepath.Base(argv[0]), func(t *testing.T) {
			w := &witness{calls: map[int][]live{}, cur: map[int]*live{}}
			path, _ := recordRun(t, []tracer.Handler{w}, argv...)
			evs := readAll(t, path)
			got := map[int][]*tracepb.Syscall{}
			for i, ev := range evs {
				if seq := seqOf(ev); seq != uint64(i+1) {
					t.Fatalf("event %d has seq %d", i, seq)
				}
				if s := ev.GetSyscall(); s != nil && !s.EntryOnly {
					got[int(s.Tid)] = append(got[int(s.Tid)], s)
				}
			}
			total := 0
			for tid, calls := range w.calls {
				rec := got[tid]
				if len(rec) != len(calls) {
					t.Fatalf("tid %d: %d calls recorded, %d seen live", tid, len(rec), len(calls))
				}
				for i, l := range calls {
					s := rec[i]
					if int(s.Nr) != l.nr || s.Ret != l.ret || !bytes.Equal(s.Regs, l.regs) {
						t.Fatalf("tid %d call %d: recorded nr %d ret %d, live nr %d ret %d (regs equal: %v)",
							tid, i, s.Nr, s.Ret, l.nr, l.ret, bytes.Equal(s.Regs, l.regs))
					}
					if l.out != nil {
						var out []byte
						for _, m := range s.Mem {
							if m.Kind == tracepb.MemKind_MEM_KIND_OUT && m.Arg == 1 {
								out = m.Data
							}
						}
						if !bytes.Equal(out, l.out) {
							t.Fatalf("tid %d call %d: read buffer differs (%d vs %d bytes)", tid, i, len(out), len(l.out))
						}
					}
					total++
				}
			}
			if total == 0 {
				t.Fatal("nothing compared")
			}
		})
	}
}

func seqOf(ev *tracepb.Event) uint64 {
	if s := ev.GetSyscall(); s != nil {
		return s.Seq
	}
	return ev.GetProcess().Seq
}

var straceC = regexp.MustCompile(`^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?([a-z_0-9]+)$`)

// TestCountsMatchStrace checks that every syscall the program made is in
// the trace, counted against strace -c on the same program.
func TestCountsMatchStrace(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	os.WriteFile(a, []byte("data\n"), 0o644)
	argv := []string{testbin.C(t, "files"), a, "/nonexistent"}
	out := filepath.Join(dir, "strace.txt")
	if err := exec.Command("strace", append([]string{"-f", "-c", "-o", out}, argv...)...).Run(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatal(err)
		}
	}
	want := map[string]int{}
	text, _ := os.ReadFile(out)
	for _, l := range strings.Split(string(text), "\n") {
		if m := straceC.FindStringSubmatch(l); m != nil && m[2] != "total" {
			want[m[2]], _ = strconv.Atoi(m[1])
		}
	}
	if len(want) < 5 {
		t.Fatalf("could not parse strace -c output:\n%s", text)
	}
	path, _ := recordRun(t, nil, argv...)
	got := map[string]int{}
	for _, ev := range readAll(t, path) {
		// strace -c counts calls that returned: not exit_group.
		if s := ev.GetSyscall(); s != nil && !s.EntryOnly {
			got[tracerName(s)]++
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("per-syscall counts differ\ntrace:  %v\nstrace: %v", got, want)
	}
}

func tracerName(s *tracepb.Syscall) string {
	return abi.Name(abi.ArchX86_64, int(s.Nr))
}

// denier fails the second openat with EACCES, as a fault script would.
type denier struct{ n int }

func (d *denier) Enter(sc *tracer.Syscall, act *tracer.Action) {
	if sc.Name() == "openat" {
		d.n++
		if d.n == 2 {
			*act = tracer.Deny(unix.EACCES)
			act.By = "test"
		}
	}
}

func (d *denier) Exit(sc *tracer.Syscall, act *tracer.Action) {}

// TestInjectedRecorded checks that an injected fault is stored with the
// call it changed.
func TestInjectedRecorded(t *testing.T) {
	path, _ := recordRun(t, []tracer.Handler{&denier{}}, testbin.C(t, "hello"))
	var opens []*tracepb.Syscall
	for _, ev := range readAll(t, path) {
		if s := ev.GetSyscall(); s != nil && tracerName(s) == "openat" {
			opens = append(opens, s)
		}
	}
	if len(opens) < 2 {
		t.Fatalf("%d openat calls", len(opens))
	}
	for i, s := range opens {
		inj := s.Injected
		if i == 1 {
			if inj == nil || inj.Action != tracepb.Action_ACTION_DENY || inj.Value != int64(unix.EACCES) || inj.By != "test" || s.Ret != -int64(unix.EACCES) {
				t.Fatalf("denied openat recorded as %+v (ret %d)", inj, s.Ret)
			}
		} else if inj != nil {
			t.Fatalf("openat %d recorded as injected: %+v", i, inj)
		}
	}
}
