package inject_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hermes-trace/hermes/inject"
	"github.com/hermes-trace/hermes/tracer"
)

func TestSeedDeterminism(t *testing.T) {
	p := probe(t)
	src := `
hermes.trap{"getppid"}
function on_syscall(ev)
  if hermes.rand() < 0.5 then hermes.deny("EIO") end
  if math.random(3) == 1 then hermes.ret(hermes.rand(1000)) end
end`
	outcome := func(seed uint64) string {
		r := runLua(t, src, inject.Options{Seed: seed}, p, "getppid", "40")
		if len(lines(r.stdout)) != 40 {
			t.Fatalf("output %q", r.stdout)
		}
		return r.stdout
	}
	a, b, c := outcome(1), outcome(1), outcome(2)
	if a != b {
		t.Errorf("seed 1 gave two outcomes:\n%s\n%s", a, b)
	}
	if a == c {
		t.Errorf("seeds 1 and 2 gave the same outcome:\n%s", a)
	}
	if !strings.Contains(a, "EIO") || strings.Count(a, "EIO") == 40 {
		t.Errorf("implausible outcome:\n%s", a)
	}
}

// TestHotReload rewrites the script while the target runs: the new rule
// takes effect, a broken version keeps the old one, hermes.state survives.
func TestHotReload(t *testing.T) {
	p := probe(t)
	dir := t.TempDir()
	target, stop, script := filepath.Join(dir, "target"), filepath.Join(dir, "stop"), filepath.Join(dir, "faults.lua")
	os.WriteFile(target, []byte("x\n"), 0o644)
	write := func(src string) {
		// Write a new file and rename it over the old one, as editors do.
		tmp := script + ".tmp"
		if err := os.WriteFile(tmp, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, script); err != nil {
			t.Fatal(err)
		}
	}
	write(`
hermes.trap{"openat"}
hermes.state.v1 = (hermes.state.v1 or 0)
function on_syscall(ev)
  if ev.path == "` + target + `" then hermes.state.v1 = hermes.state.v1 + 1 end
end`)
	log := &syncBuffer{}
	e, err := inject.Load(script, inject.Options{Reload: true, ReloadInterval: 20 * time.Millisecond, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	pr, pw, _ := os.Pipe()
	tr := tracer.New(tracer.Config{Trace: e.Trapped(), Handlers: []tracer.Handler{e}, Stdout: pw})
	type result struct {
		res tracer.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := tr.Launch([]string{p, "poll", target, stop})
		pw.Close()
		done <- result{res, err}
	}()
	defer func() {
		os.WriteFile(stop, nil, 0o644)
		r := <-done
		if r.err != nil {
			t.Error(r.err)
		}
		e.Finish(r.res)
	}()
	sc := bufio.NewScanner(pr)
	next := func() string {
		if !sc.Scan() {
			t.Fatalf("target ended early; log:\n%s", log.String())
		}
		return sc.Text()
	}
	waitFor := func(want string) {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if next() == want {
				return
			}
		}
		t.Fatalf("never saw %q; log:\n%s", want, log.String())
	}
	waitFor("poll: ok")
	waitFor("poll: ok")
	write(`
hermes.trap{"openat"}
function on_syscall(ev)
  if ev.path == "` + target + `" then
    hermes.state.v2 = (hermes.state.v2 or 0) + 1
    if hermes.state.v2 == 1 then hermes.log("v1 counted", hermes.state.v1) end
    hermes.deny("EACCES")
  end
end`)
	waitFor("poll: EACCES")
	write("this is not lua (")
	// Give the watcher time to see and reject it; the old version goes on.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(log.String(), "reload failed") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	for i := 0; i < 5; i++ {
		if l := next(); l != "poll: EACCES" {
			t.Errorf("after a broken reload: %q", l)
		}
	}
	// Explicit Reload (SIGHUP) with a good version.
	os.WriteFile(script, []byte(`hermes.trap{"openat"}
function on_syscall(ev) if ev.path == "`+target+`" then hermes.deny("ENOENT") end end`), 0o644)
	if err := e.Reload(); err != nil {
		t.Fatal(err)
	}
	waitFor("poll: ENOENT")
	l := log.String()
	if !strings.Contains(l, "hermes: reloaded "+script) || !strings.Contains(l, "reload failed: "+script+":1:") {
		t.Errorf("log:\n%s", l)
	}
	if !strings.Contains(l, "v1 counted\t") || strings.Contains(l, "v1 counted\t0") {
		t.Errorf("hermes.state did not survive the reload:\n%s", l)
	}
}
