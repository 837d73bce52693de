// Package hermestest runs a command under a fault-injection policy in a Go
// test: it records the run into a trace, logs every injected fault with
// t.Log, and when the test fails prints the seed and the command lines that
// reproduce the run.
//
//	func TestSaveOnFullDisk(t *testing.T) {
//		res := hermestest.Run(t, []string{"./save", "/tmp/out"}, hermestest.Options{
//			Policy: "builtin:enospc",
//		})
//		if res.ExitCode != 4 {
//			t.Fatalf("save exited %d on a full disk, want 4", res.ExitCode)
//		}
//	}
//
// If the environment variable HERMES_ARTIFACTS names a directory, the
// trace of a failed test is copied there (as TESTNAME.trace).
package hermestest

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hermes-trace/hermes"
	"github.com/hermes-trace/hermes/internal/run"
	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
	"github.com/hermes-trace/hermes/tracer/decode"
)

// Options say what policy the command runs under.
type Options struct {
	// Policy is a Lua script: a file, or "builtin:NAME".
	Policy string
	// Params are the script's parameters (hermes.param); one it does not
	// declare is an error.
	Params map[string]string
	// Rules are strace-style fault rules ("inject=write:error=ENOSPC").
	Rules []string
	// Handler is a Go handler run after the script and rules.
	Handler tracer.Handler
	// Seed seeds the script's random choices when SeedSet; else a random
	// seed is used, and printed when the test fails.
	Seed    uint64
	SeedSet bool
	// Env, Dir and Stdin are the command's (nil, "": the test's).
	Env   []string
	Dir   string
	Stdin *os.File
	// Stdout and Stderr receive the command's output; nil: t.Log, line by
	// line, after the run.
	Stdout, Stderr *os.File
	// Context bounds the run; nil: context.Background (with the test's
	// deadline, if it has one).
	Context context.Context
}

// ArtifactsEnv names the environment variable of the directory failed
// tests' traces are copied to.
const ArtifactsEnv = "HERMES_ARTIFACTS"

// Run records argv under the policy into a trace in t.TempDir(), logs each
// injected fault, and returns how the run ended. hermes's own failures
// (the command cannot be started, the policy does not load) fail the test.
func Run(t testing.TB, argv []string, opts Options) hermes.Result {
	t.Helper()
	dir := t.TempDir()
	trace := filepath.Join(dir, "run.trace")
	log := &faultLog{t: t}
	handler := tracer.Handler(log)
	if opts.Handler != nil {
		handler = tracer.Chain{opts.Handler, log}
	}
	var hermesLog strings.Builder
	var logMu sync.Mutex
	inj := hermes.Injection{
		Script: opts.Policy, Params: opts.Params, Rules: opts.Rules, Handler: handler,
		Seed: opts.Seed, SeedSet: opts.SeedSet, Log: lockedWriter{&logMu, &hermesLog},
	}
	ro := hermes.RecordOptions{
		Output: trace, Env: opts.Env, Dir: opts.Dir, Stdin: opts.Stdin, Stdout: opts.Stdout, Stderr: opts.Stderr, Inject: inj,
		Logf: func(format string, args ...any) { t.Logf("hermes: "+format, args...) },
	}
	var outs []*os.File
	for _, p := range []**os.File{&ro.Stdout, &ro.Stderr} {
		if *p == nil {
			f, err := os.CreateTemp(dir, "output")
			if err != nil {
				t.Fatalf("hermestest: %v", err)
			}
			*p = f
			outs = append(outs, f)
		}
	}
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
		if tt, ok := t.(interface {
			Deadline() (deadline time.Time, ok bool)
		}); ok {
			if d, ok := tt.Deadline(); ok {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, d)
				defer cancel()
			}
		}
	}
	res, err := hermes.Record(ctx, argv, ro)
	for _, f := range outs {
		f.Close()
		if b, _ := os.ReadFile(f.Name()); len(b) > 0 {
			for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
				t.Log(line)
			}
		}
	}
	logMu.Lock()
	if s := strings.TrimSpace(hermesLog.String()); s != "" {
		t.Log(s)
	}
	logMu.Unlock()
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		t.Logf("hermestest: seed %d; %d faults injected", res.Seed, res.Injected)
		kept := trace
		if adir := os.Getenv(ArtifactsEnv); adir != "" {
			name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + ".trace"
			dst := filepath.Join(adir, name)
			if err := copyFile(trace, dst); err != nil {
				t.Logf("hermestest: keeping the trace in %s: %v", adir, err)
			} else {
				kept = dst
			}
		}
		t.Logf("hermestest: replay the run: hermes replay %s", kept)
		if opts.Handler == nil {
			t.Logf("hermestest: run it again: %s", Reproducer(argv, opts, res.Seed))
		} else {
			t.Logf("hermestest: run it again: the Go handler has no command line; %s re-runs the script and rules", Reproducer(argv, opts, res.Seed))
		}
	})
	if err != nil {
		t.Fatalf("hermestest: %q: %v", argv, err)
	}
	return res
}

// Reproducer returns the hermes command line that records argv again
// under the policy and seed.
func Reproducer(argv []string, opts Options, seed uint64) string {
	parts := []string{"hermes", "record"}
	if opts.Policy != "" {
		parts = append(parts, "--inject", run.ShellQuote(opts.Policy))
		keys := make([]string, 0, len(opts.Params))
		for k := range opts.Params {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			parts = append(parts, "--param", run.ShellQuote(k+"="+opts.Params[k]))
		}
	}
	for _, r := range opts.Rules {
		parts = append(parts, "-e", run.ShellQuote(r))
	}
	parts = append(parts, "--seed", fmt.Sprint(seed), "--")
	for _, a := range argv {
		parts = append(parts, run.ShellQuote(a))
	}
	return strings.Join(parts, " ")
}

// faultLog logs every call the handlers before it changed.
type faultLog struct {
	t   testing.TB
	buf []byte
}

func (l *faultLog) Enter(sc *tracer.Syscall, act *tracer.Action) {
	if act.Injected() {
		l.log(sc, act, "at entry")
	}
}

func (l *faultLog) Exit(sc *tracer.Syscall, act *tracer.Action) {
	if act.Skip && !sc.Skipped {
		l.log(sc, act, "at exit")
	}
}

func (l *faultLog) log(sc *tracer.Syscall, act *tracer.Action, when string) {
	dc := decode.Call{Arch: sc.Arch, Nr: sc.Nr, Info: sc.Info, Args: sc.Args}
	l.buf = decode.AppendCall(l.buf[:0], &dc, sc.Mem(), &decode.Options{StrSize: 32})
	what := "changed"
	switch {
	case act.Kill:
		what = "killed the process"
	case act.Skip && act.Value < 0 && act.Value > -4096:
		what = fmt.Sprintf("= %d (%s)", act.Value, abi.ErrnoName(int(-act.Value)))
	case act.Skip:
		what = fmt.Sprintf("= %d", act.Value)
	case act.Delay > 0:
		what = fmt.Sprintf("delayed %v", act.Delay)
	case act.Signal != 0:
		what = fmt.Sprintf("signal %d", act.Signal)
	}
	by := act.By
	if by == "" {
		by = "policy"
	}
	l.t.Logf("hermestest: injected %s: pid %d %s %s (by %s)", when, sc.Pid(), l.buf, what, by)
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o600)
}
