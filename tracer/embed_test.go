package tracer_test

// The tracer inside someone else's process: it reaps only its own tracees,
// leaves the process's signal dispositions as it found them, and several
// runs at once each finish.

import (
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/hermes-trace/hermes/internal/testbin"
	"github.com/hermes-trace/hermes/tracer"
	"golang.org/x/sys/unix"
)

// sigchldHandler returns the current SIGCHLD handler and flags.
func sigchldHandler(t *testing.T) (uintptr, uint64) {
	t.Helper()
	var sa struct {
		handler  uintptr
		flags    uint64
		restorer uintptr
		mask     uint64
	}
	if _, _, e := syscall.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(unix.SIGCHLD), 0, uintptr(unsafe.Pointer(&sa)), 8, 0, 0); e != 0 {
		t.Fatal(e)
	}
	return sa.handler, sa.flags
}

// onFirst is a handler that calls fn once, at the first trapped call.
type onFirst struct {
	once sync.Once
	fn   func()
}

func (h *onFirst) Enter(*tracer.Syscall, *tracer.Action) { h.once.Do(h.fn) }
func (h *onFirst) Exit(*tracer.Syscall, *tracer.Action)  {}

// TestOtherChildrenDuringTrace runs 40 commands with os/exec in the same
// process while a trace runs: the tracer must not reap them (wait4(-1)
// without __WNOTHREAD did, and their Wait failed with ECHILD). The SIGCHLD
// disposition is the one from before the run afterwards.
func TestOtherChildrenDuringTrace(t *testing.T) {
	bin := testbin.C(t, "sleeper")
	h0, f0 := sigchldHandler(t)
	started := make(chan struct{})
	tr := tracer.New(tracer.Config{
		Handlers: []tracer.Handler{&onFirst{fn: func() { close(started) }}},
		Logf:     t.Logf,
	})
	type out struct {
		res tracer.Result
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := tr.Launch([]string{bin, "30"})
		done <- out{res, err}
	}()
	select {
	case <-started:
	case o := <-done:
		t.Fatalf("the trace ended early: %+v %v", o.res, o.err)
	}
	failed := 0
	for i := range 40 {
		if err := exec.Command("/bin/true").Run(); err != nil {
			failed++
			t.Errorf("run %d of /bin/true during the trace: %v", i, err)
		}
	}
	tr.Stop(-1)
	select {
	case o := <-done:
		if o.err != nil || !o.res.Interrupted {
			t.Errorf("trace: %+v %v", o.res, o.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the trace did not stop")
	}
	if h, f := sigchldHandler(t); h != h0 || f != f0 {
		t.Errorf("SIGCHLD disposition after the run: handler %#x flags %#x, before %#x %#x", h, f, h0, f0)
	}
	if failed > 0 {
		t.Fatalf("%d of 40 commands failed", failed)
	}
}

// TestTwoRunsAtOnce traces two commands at once in one process: both finish
// with their own exit status, and (pinned by default) on different CPUs
// when there are several.
func TestTwoRunsAtOnce(t *testing.T) {
	loop := testbin.C(t, "loop")
	cmds := [][]string{
		{loop, "3000", "getppid"},
		{"/bin/sh", "-c", "i=0; while [ $i -lt 30 ]; do i=$((i+1)); /bin/true; done; exit 7"},
	}
	want := []int{0, 7}
	var both sync.WaitGroup
	both.Add(len(cmds))
	cpus := make([]int, len(cmds))
	results := make([]tracer.Result, len(cmds))
	errs := make([]error, len(cmds))
	tracers := make([]*tracer.Tracer, len(cmds))
	var wg sync.WaitGroup
	for i, argv := range cmds {
		// Each run's first call waits (a little) until both have started,
		// so that they overlap.
		first := &onFirst{fn: func() {
			var set unix.CPUSet
			if unix.SchedGetaffinity(0, &set) == nil && set.Count() == 1 {
				for c := range len(set) * 64 {
					if set.IsSet(c) {
						cpus[i] = c
					}
				}
			} else {
				cpus[i] = -1
			}
			both.Done()
			ch := make(chan struct{})
			go func() { both.Wait(); close(ch) }()
			select {
			case <-ch:
			case <-time.After(5 * time.Second):
			}
		}}
		out, err := os.CreateTemp(t.TempDir(), "out")
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		tracers[i] = tracer.New(tracer.Config{Handlers: []tracer.Handler{first}, Stdout: out, Logf: t.Logf})
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = tracers[i].Launch(argv)
		}()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(60 * time.Second):
		for _, tr := range tracers {
			tr.Stop(-1)
		}
		select {
		case <-finished:
		case <-time.After(10 * time.Second):
			t.Fatal("the runs did not finish, nor stop when asked")
		}
		t.Fatalf("the runs did not finish: %+v %v", results, errs)
	}
	for i := range cmds {
		if errs[i] != nil || results[i].ExitCode != want[i] || results[i].Interrupted {
			t.Errorf("run %d (%q): %+v %v, want exit status %d", i, cmds[i][0], results[i], errs[i], want[i])
		}
	}
	var allowed unix.CPUSet
	if unix.SchedGetaffinity(0, &allowed) == nil && allowed.Count() >= 2 {
		if cpus[0] < 0 || cpus[1] < 0 || cpus[0] == cpus[1] {
			t.Errorf("the runs were pinned to CPUs %v, want two different ones", cpus)
		}
	}
}

// TestTracerThreadHasNoOtherChildren: the tracer's thread waits for every
// child of its own (wait4(-1, __WNOTHREAD)), so it must start with none. A
// Go thread that earlier ran os/exec's fork is the parent of that child;
// a run locked to it reaped the child's exit and the child's Wait failed
// with ECHILD (seen as "--check: no child processes" in parallel explore
// tries). Short runs one after the other while other goroutines keep
// children running on every thread.
func TestTracerThreadHasNoOtherChildren(t *testing.T) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := exec.Command("/bin/sleep", "0.02").Run(); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for i := range 150 {
		res, err := tracer.New(tracer.Config{Logf: t.Logf}).Launch([]string{"/bin/true"})
		if err != nil || res.ExitCode != 0 {
			t.Errorf("run %d: %+v %v", i, res, err)
		}
	}
	close(stop)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d commands of other goroutines failed, the first: %v", len(errs), errs[0])
	}
}
