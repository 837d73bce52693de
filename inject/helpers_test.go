package inject_test

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/hermes-trace/hermes/inject"
	"github.com/hermes-trace/hermes/internal/testbin"
	"github.com/hermes-trace/hermes/tracer"
)

// probe returns the inject tests' target program (testdata/c/probe.c).
func probe(tb testing.TB) string { return testbin.C(tb, "probe") }

// syncBuffer is a goroutine-safe log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type run struct {
	stdout string
	log    string
	res    tracer.Result
	engine *inject.Engine
}

// launch runs argv under e and returns what the program printed.
func launch(t *testing.T, e *inject.Engine, log *syncBuffer, argv ...string) run {
	t.Helper()
	out, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	tr := tracer.New(tracer.Config{
		Trace:    e.Trapped(),
		Handlers: []tracer.Handler{e},
		Stdout:   out,
		Stderr:   out,
	})
	res, err := tr.Launch(argv)
	if err != nil {
		t.Fatalf("launch %v: %v", argv, err)
	}
	if err := e.Finish(res); err != nil {
		t.Logf("finish: %v", err)
	}
	b, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	r := run{stdout: string(b), res: res, engine: e}
	if log != nil {
		r.log = log.String()
	}
	return r
}

// runLua loads src as a script and runs argv under it.
func runLua(t *testing.T, src string, opts inject.Options, argv ...string) run {
	t.Helper()
	log := &syncBuffer{}
	if opts.Log == nil {
		opts.Log = log
	}
	e, err := inject.LoadSource("test.lua", []byte(src), opts)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return launch(t, e, log, argv...)
}

// lines returns the non-empty lines of s.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// expectLines checks that out has exactly the given lines (ignoring
// "elapsed" lines).
func expectLines(t *testing.T, out string, want ...string) {
	t.Helper()
	var got []string
	for _, l := range lines(out) {
		if !strings.HasPrefix(l, "elapsed ") {
			got = append(got, l)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("program printed\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
