package run_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/inject"
	"github.com/hermes-trace/hermes/internal/run"
	"github.com/hermes-trace/hermes/internal/testbin"
	"github.com/hermes-trace/hermes/replay"
	"github.com/hermes-trace/hermes/replay/fsview"
	"github.com/hermes-trace/hermes/tracer"
)

func devNull(t *testing.T) *os.File {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// openTrace checks that path is a complete trace.
func openTrace(t *testing.T, path string) {
	t.Helper()
	r, err := format.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer r.Close()
	if n, reason, complete := r.Recovered(); !complete {
		t.Errorf("%s: incomplete: %d events (%s)", path, n, reason)
	}
}

// TestRecordsAtOnce records two commands at once in one process, then
// replays both at once: every run finishes with its own status.
func TestRecordsAtOnce(t *testing.T) {
	loop := testbin.C(t, "loop")
	dir := t.TempDir()
	cmds := [][]string{
		{loop, "2000", "getppid"},
		{"/bin/sh", "-c", "for i in 1 2 3 4 5 6 7 8; do /bin/true; done; exit 7"},
	}
	want := []int{0, 7}
	var wg sync.WaitGroup
	res := make([]run.Result, len(cmds))
	errs := make([]error, len(cmds))
	for i, argv := range cmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i], errs[i] = run.Record(context.Background(), run.RecordOptions{
				Argv: argv, Output: filepath.Join(dir, string(rune('a'+i))+".trace"), Stdout: devNull(t), Logf: t.Logf})
		}()
	}
	wg.Wait()
	for i := range cmds {
		if errs[i] != nil || res[i].ExitCode != want[i] {
			t.Errorf("record %d: %+v %v, want exit status %d", i, res[i], errs[i], want[i])
		}
		openTrace(t, filepath.Join(dir, string(rune('a'+i))+".trace"))
	}
	for i := range cmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i], errs[i] = run.Replay(context.Background(), run.ReplayOptions{
				Trace: filepath.Join(dir, string(rune('a'+i))+".trace"), Emulate: replay.Default, Stdout: devNull(t), Logf: t.Logf})
		}()
	}
	wg.Wait()
	for i := range cmds {
		if errs[i] != nil || res[i].ExitCode != want[i] || res[i].Divergence != nil || res[i].Matched == 0 {
			t.Errorf("replay %d: %+v %v, want exit status %d and no divergence", i, res[i], errs[i], want[i])
		}
	}
}

// TestCancelRecord cancels a recording: the target is killed, the run says
// it was interrupted, and the trace is complete and closed.
func TestCancelRecord(t *testing.T) {
	sleeper := testbin.C(t, "sleeper")
	trace := filepath.Join(t.TempDir(), "s.trace")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	res, err := run.Record(ctx, run.RecordOptions{Argv: []string{sleeper, "30"}, Output: trace, Stdout: devNull(t), Logf: t.Logf})
	if err != nil || !res.Interrupted {
		t.Fatalf("%+v %v", res, err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the run took %v to stop", d)
	}
	openTrace(t, trace)
}

// TestExecDuringRecord runs commands with os/exec while a recording goes
// on in the same process.
func TestExecDuringRecord(t *testing.T) {
	sleeper := testbin.C(t, "sleeper")
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	started := make(chan struct{})
	var once sync.Once
	h := handlerFunc(func() { once.Do(func() { close(started) }) })
	go func() {
		res, err := run.Record(ctx, run.RecordOptions{Argv: []string{sleeper, "30"}, Output: filepath.Join(t.TempDir(), "t"),
			Stdout: devNull(t), Inject: run.Inject{Handler: h}, Logf: t.Logf})
		if err == nil && (!res.Interrupted || res.ExitCode != 128+15) {
			err = errors.New("not interrupted by SIGTERM")
		}
		done <- err
	}()
	<-started
	for i := range 40 {
		if err := exec.Command("/bin/true").Run(); err != nil {
			t.Errorf("run %d: %v", i, err)
		}
	}
	cancel(run.StopSignal(15))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

type handlerFunc func()

func (f handlerFunc) Enter(*tracer.Syscall, *tracer.Action) { f() }
func (f handlerFunc) Exit(*tracer.Syscall, *tracer.Action)  {}

// TestRecordInView records a command that writes a file in a private view:
// the check sees the file, the real tree does not have it.
func TestRecordInView(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "made")
	res, err := run.Record(context.Background(), run.RecordOptions{
		Argv: []string{"/bin/sh", "-c", "echo hi > " + file}, Output: filepath.Join(t.TempDir(), "v.trace"),
		View: true, Check: "test -f " + file, Logf: t.Logf,
	})
	if errors.Is(err, fsview.ErrUnavailable) {
		t.Skip(err)
	}
	if err != nil || res.ExitCode != 0 || !res.View || !res.CheckRan || res.CheckStatus != 0 {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := os.Stat(file); err == nil {
		t.Errorf("%s is in the real tree", file)
	}
}

// TestInjectRulesAndSeed records with a rule; the result counts it, and
// the given seed is the run's.
func TestInjectRulesAndSeed(t *testing.T) {
	rule, err := inject.ParseStrace("inject=write:error=ENOSPC")
	if err != nil {
		t.Fatal(err)
	}
	res, err := run.Trace(context.Background(), run.TraceOptions{
		Argv: []string{"/bin/sh", "-c", "echo x > /dev/null"}, Writer: devNull(t),
		Inject: run.Inject{Rules: []inject.Rule{rule}, Seed: 99, SeedSet: true},
	})
	if err != nil || res.Injected < 1 || res.Seed != 99 || res.ExitCode == 0 {
		t.Fatalf("%+v %v", res, err)
	}
}

// TestExecError: a command that is not there is an error wrapping
// *tracer.ExecError, code 127.
func TestExecError(t *testing.T) {
	_, err := run.Trace(context.Background(), run.TraceOptions{Argv: []string{"/nonexistent/cmd"}, Writer: devNull(t)})
	var ee *tracer.ExecError
	if !errors.As(err, &ee) || ee.Code != 127 {
		t.Fatalf("%v", err)
	}
}
