package policies_test

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hermes-trace/hermes/inject"
	"github.com/hermes-trace/hermes/internal/testbin"
	"github.com/hermes-trace/hermes/policies"
	"github.com/hermes-trace/hermes/tracer"
)

// probe returns the inject tests' target program (testdata/c/probe.c).
func probe(t *testing.T) string { return testbin.C(t, "probe") }

type logBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// runPolicy runs argv under builtin:NAME with params and returns stdout.
func runPolicy(t *testing.T, name string, seed uint64, params map[string]string, argv ...string) (string, tracer.Result) {
	t.Helper()
	stdout, res, _ := runPolicyStats(t, name, seed, params, argv...)
	return stdout, res
}

// runPolicyStats is runPolicy that also returns what the script did.
func runPolicyStats(t *testing.T, name string, seed uint64, params map[string]string, argv ...string) (string, tracer.Result, inject.Stats) {
	t.Helper()
	log := &logBuf{}
	e, err := inject.Load("builtin:"+name, inject.Options{Seed: seed, Params: params, Log: log})
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	out, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	tr := tracer.New(tracer.Config{Trace: e.Trapped(), Handlers: []tracer.Handler{e}, Stdout: out, Stderr: out})
	res, err := tr.Launch(argv)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Finish(res); err != nil {
		t.Error(err)
	}
	if st := e.Stats(); st.Errors != 0 {
		t.Errorf("%s: %d script errors:\n%s", name, st.Errors, log.b.String())
	}
	b, _ := os.ReadFile(out.Name())
	return string(b), res, e.Stats()
}

func TestListAndGet(t *testing.T) {
	want := []string{"deny-path", "enospc", "net-faults", "random-eio", "short-io", "slow-disk"}
	if got := policies.List(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("List() = %v", got)
	}
	for _, n := range want {
		src, ok := policies.Get(n)
		if !ok || !strings.HasPrefix(string(src), "-- "+n+": ") {
			t.Errorf("%s: no documented header", n)
		}
		if policies.Summary(n) == "" {
			t.Errorf("%s: no summary", n)
		}
		if w, err := inject.Check("builtin:" + n); err != nil || len(w) > 0 {
			t.Errorf("check %s: %v %q", n, err, w)
		}
	}
	if _, ok := policies.Get("../policies"); ok {
		t.Error("Get accepted a path")
	}
	if _, err := inject.Load("builtin:nope", inject.Options{}); err == nil {
		t.Error("unknown builtin loaded")
	}
}

func TestBadParams(t *testing.T) {
	for name, params := range map[string]map[string]string{
		"enospc":     {"errno": "ENOSPACE"},
		"random-eio": {"probability": "often"},
		"net-faults": {"connect_errno": "EREFUSED"},
		"slow-disk":  {"syscalls": "wrte"},
	} {
		if _, err := inject.Load("builtin:"+name, inject.Options{Params: params}); err == nil {
			t.Errorf("%s accepted %v", name, params)
		}
	}
}

func TestENOSPC(t *testing.T) {
	p := probe(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "data")
	stdout, _ := runPolicy(t, "enospc", 0, map[string]string{"prefix": dir + "/", "nth": "3"}, p, "writes", out, "4")
	want := "write 1: ok\nwrite 2: ok\nwrite 3: ENOSPC\nwrite 4: ENOSPC\n"
	if !strings.HasPrefix(stdout, want) {
		t.Errorf("got %q, want %q", stdout, want)
	}
	stdout, _ = runPolicy(t, "enospc", 0, map[string]string{"prefix": dir + "/", "nth": "2", "sticky": "false"}, p, "writes", out, "3")
	if want := "write 1: ok\nwrite 2: ENOSPC\nwrite 3: ok\n"; !strings.HasPrefix(stdout, want) {
		t.Errorf("got %q, want %q", stdout, want)
	}
	// Writes elsewhere are untouched.
	stdout, _ = runPolicy(t, "enospc", 0, map[string]string{"prefix": "/nonexistent/"}, p, "writes", out, "2")
	if !strings.HasPrefix(stdout, "write 1: ok\nwrite 2: ok\n") {
		t.Errorf("got %q", stdout)
	}
}

func TestRandomEIO(t *testing.T) {
	p := probe(t)
	out := filepath.Join(t.TempDir(), "data")
	params := map[string]string{"probability": "0.3", "prefix": out}
	run := func(seed uint64) string {
		s, _ := runPolicy(t, "random-eio", seed, params, p, "writes", out, "60")
		return regexp.MustCompile(`elapsed \d+ ms\n`).ReplaceAllString(s, "")
	}
	a, b, c := run(7), run(7), run(8)
	if a != b {
		t.Errorf("same seed, different outcomes:\n%s\n%s", a, b)
	}
	if a == c {
		t.Error("different seeds, same outcome")
	}
	n := strings.Count(a, ": EIO")
	if n < 5 || n > 40 {
		t.Errorf("%d of 60 writes failed with probability 0.3:\n%s", n, a)
	}
	if strings.Count(a, "\n") != 60 {
		t.Errorf("stdout writes were failed too:\n%s", a)
	}
}

func TestDenyPath(t *testing.T) {
	p := probe(t)
	host, err := os.ReadFile("/etc/hostname")
	if err != nil {
		t.Skip(err)
	}
	stdout, _ := runPolicy(t, "deny-path", 0, nil, p, "open", "/etc/passwd", "/etc/hostname")
	want := "open /etc/passwd: EACCES\nopen /etc/hostname: " + strings.SplitN(string(host), "\n", 2)[0] + "\n"
	if stdout != want {
		t.Errorf("got %q, want %q", stdout, want)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "secret"), []byte("s\n"), 0o644)
	stdout, _ = runPolicy(t, "deny-path", 0, map[string]string{"prefix": dir, "errno": "EPERM"}, p, "open", filepath.Join(dir, "secret"), "/etc/hostname")
	if !strings.HasPrefix(stdout, "open "+filepath.Join(dir, "secret")+": EPERM\n") {
		t.Errorf("got %q", stdout)
	}
}

func TestSlowDisk(t *testing.T) {
	p := probe(t)
	out := filepath.Join(t.TempDir(), "data")
	stdout, _ := runPolicy(t, "slow-disk", 0, map[string]string{"ms": "30", "prefix": filepath.Dir(out)}, p, "writes", out, "4")
	m := regexp.MustCompile(`elapsed (\d+) ms`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("output %q", stdout)
	}
	if ms, _ := strconv.Atoi(m[1]); ms < 120 {
		t.Errorf("4 writes took %d ms, want >= 120", ms)
	}
	if strings.Count(stdout, ": ok") != 4 {
		t.Errorf("output %q", stdout)
	}
}

func TestShortIO(t *testing.T) {
	p := probe(t)
	data := filepath.Join(t.TempDir(), "data")
	os.WriteFile(data, []byte(strings.Repeat("y", 1000)), 0o644)
	stdout, _ := runPolicy(t, "short-io", 0, map[string]string{"prefix": data}, p, "read", data, "100")
	if stdout != "reads 21 bytes 1000\n" { // 50-byte reads: 20, then EOF
		t.Errorf("got %q", stdout)
	}
	// hello checks that its one write was complete: it exits 100. Its
	// stdout is a standard descriptor the run started with: left alone
	// unless stdio=true.
	for _, tc := range []struct {
		params map[string]string
		stdout string
		code   int
	}{
		{nil, "hello\n", 0},
		{map[string]string{"stdio": "true"}, "hel", 100},
	} {
		stdout, res := runPolicy(t, "short-io", 0, tc.params, testbin.C(t, "hello"))
		if stdout != tc.stdout || res.ExitCode != tc.code {
			t.Errorf("hello %v: %q exit %d, want %q exit %d", tc.params, stdout, res.ExitCode, tc.stdout, tc.code)
		}
	}
}

func TestNetFaults(t *testing.T) {
	p := probe(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				b := make([]byte, 64)
				for {
					if _, err := c.Read(b); err != nil {
						c.Close()
						return
					}
				}
			}()
		}
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	other := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port + 1)

	stdout, _ := runPolicy(t, "net-faults", 0, map[string]string{"ports": port}, p, "connect", port)
	if stdout != "connect: ECONNREFUSED\n" {
		t.Errorf("chosen port: %q", stdout)
	}
	stdout, _ = runPolicy(t, "net-faults", 0, map[string]string{"ports": other + ",1"}, p, "connect", port, "1")
	if stdout != "connect: ok\nsend 1: ok\n" {
		t.Errorf("other port: %q", stdout)
	}
	stdout, _ = runPolicy(t, "net-faults", 0, map[string]string{"exclude": port}, p, "connect", port)
	if stdout != "connect: ok\n" {
		t.Errorf("excluded port: %q", stdout)
	}
	stdout, _ = runPolicy(t, "net-faults", 0, map[string]string{"connect_errno": "ETIMEDOUT", "connect_delay": "50"}, p, "connect", port)
	if stdout != "connect: ETIMEDOUT\n" {
		t.Errorf("timeout: %q", stdout)
	}
	stdout, _ = runPolicy(t, "net-faults", 0, map[string]string{"ports": port, "connect_errno": "none", "reset_after": "1"}, p, "connect", port, "3")
	if stdout != "connect: ok\nsend 1: ok\nsend 2: ECONNRESET\nsend 3: ECONNRESET\n" {
		t.Errorf("reset: %q", stdout)
	}
}

// writeModes are writekinds' modes: every call that writes a file's data,
// and an ftruncate that shrinks a file (which writes none).
var writeModes = []string{"write", "pwrite64", "writev", "pwritev", "pwritev2", "copy_file_range", "sendfile", "splice",
	"fallocate", "ftruncate-grow", "ficlone", "ficlonerange", "ftruncate-shrink"}

// writeDir makes the directory writekinds works in.
func writeDir(t *testing.T) string {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "src"), []byte(strings.Repeat("s", 8192)), 0o644)
	os.WriteFile(filepath.Join(dir, "big"), []byte(strings.Repeat("b", 100)), 0o644)
	return dir
}

// TestWriteCoverage: every policy that covers writes covers every call
// that writes a file's data (the syscall table's, and the reflink ioctls
// cp tries first), and not an ftruncate that shrinks a file.
func TestWriteCoverage(t *testing.T) {
	bin := testbin.C(t, "writekinds")
	all := func(r string) map[string]string {
		m := map[string]string{}
		for _, mode := range writeModes {
			m[mode] = r
		}
		m["ftruncate-shrink"] = "0"
		return m
	}
	short := all("")
	for _, m := range []string{"write", "pwrite64", "copy_file_range", "sendfile", "splice"} {
		short[m] = "50" // the calls with a byte count
	}
	for _, tc := range []struct {
		policy  string
		params  map[string]string
		want    map[string]string // mode: result ("" not checked)
		changed int               // calls the policy changed
	}{
		{"enospc", nil, all("ENOSPC"), len(writeModes) - 1},
		{"random-eio", map[string]string{"probability": "1"}, all("EIO"), len(writeModes) - 1},
		{"short-io", nil, short, 5},
		{"slow-disk", map[string]string{"ms": "0.01", "syscalls": "@write"}, all(""), len(writeModes) - 1},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			dir := writeDir(t)
			params := map[string]string{"prefix": dir + "/"}
			for k, v := range tc.params {
				params[k] = v
			}
			stdout, _, st := runPolicyStats(t, tc.policy, 1, params, append([]string{bin, dir}, writeModes...)...)
			for _, mode := range writeModes {
				want := tc.want[mode]
				if want != "" && !strings.Contains(stdout, "\n"+mode+": "+want+"\n") && !strings.HasPrefix(stdout, mode+": "+want+"\n") {
					t.Errorf("%s: want %q in:\n%s", mode, want, stdout)
				}
			}
			if int(st.Injected) != tc.changed {
				t.Errorf("%d calls changed, want %d:\n%s", st.Injected, tc.changed, stdout)
			}
		})
	}
}

// TestStdioLeftAlone: a write to a standard descriptor the run started
// with is left alone unless stdio=true, even when it is a file under the
// prefix, so that the program's own report of the fault gets out.
func TestStdioLeftAlone(t *testing.T) {
	p := probe(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		policy string
		params map[string]string
		want   string // the program's stdout, a file in dir
	}{
		{"enospc", nil, "write 1: ENOSPC\nwrite 2: ENOSPC\n"},
		{"enospc", map[string]string{"stdio": "true"}, ""},
		{"random-eio", map[string]string{"probability": "1"}, "write 1: EIO\nwrite 2: EIO\n"},
		{"random-eio", map[string]string{"probability": "1", "stdio": "true"}, ""},
	} {
		params := map[string]string{"prefix": dir + "/"}
		for k, v := range tc.params {
			params[k] = v
		}
		stdout, _ := runPolicyIn(t, dir, tc.policy, params, p, "writes", filepath.Join(dir, "data"), "2")
		if !strings.HasPrefix(stdout, tc.want) || (tc.want == "" && stdout != "") {
			t.Errorf("%s %v: stdout %q, want %q", tc.policy, tc.params, stdout, tc.want)
		}
	}
}

// runPolicyIn runs argv under builtin:NAME with its stdout and stderr a
// new file in dir, and returns what reached it.
func runPolicyIn(t *testing.T, dir, name string, params map[string]string, argv ...string) (string, tracer.Result) {
	t.Helper()
	e, err := inject.Load("builtin:"+name, inject.Options{Params: params, Log: io.Discard})
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	out, err := os.CreateTemp(dir, "stdout")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	tr := tracer.New(tracer.Config{Trace: e.Trapped(), Handlers: []tracer.Handler{e}, Stdout: out, Stderr: out})
	res, err := tr.Launch(argv)
	if err != nil {
		t.Fatal(err)
	}
	e.Finish(res)
	b, _ := os.ReadFile(out.Name())
	return string(b), res
}

// TestProgramFilter: comm= and exe= choose the processes a policy acts on.
func TestProgramFilter(t *testing.T) {
	p := probe(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		params map[string]string
		want   string
	}{
		{map[string]string{"comm": "probe"}, "write 1: ENOSPC\n"},
		{map[string]string{"comm": "pro*,other"}, "write 1: ENOSPC\n"},
		{map[string]string{"comm": "other"}, "write 1: ok\n"},
		{map[string]string{"exe": "probe"}, "write 1: ENOSPC\n"},
		{map[string]string{"exe": filepath.Dir(p) + "/*"}, "write 1: ENOSPC\n"},
		{map[string]string{"exe": "*.test"}, "write 1: ok\n"},
		{map[string]string{"comm": "other", "exe": "probe"}, "write 1: ENOSPC\n"},
	} {
		params := map[string]string{"prefix": dir + "/"}
		for k, v := range tc.params {
			params[k] = v
		}
		stdout, _ := runPolicy(t, "enospc", 0, params, p, "writes", filepath.Join(dir, "data"), "1")
		if !strings.HasPrefix(stdout, tc.want) {
			t.Errorf("%v: stdout %q, want %q", tc.params, stdout, tc.want)
		}
	}
	if _, err := inject.Load("builtin:enospc", inject.Options{Params: map[string]string{"exe": "[bad"}}); err == nil ||
		!strings.Contains(err.Error(), `bad glob "[bad"`) {
		t.Errorf("exe=[bad: %v", err)
	}
}

// TestExclude: every policy takes exclude=.
func TestExclude(t *testing.T) {
	for _, name := range policies.List() {
		e, err := inject.Load("builtin:"+name, inject.Options{})
		if err != nil {
			t.Fatal(err)
		}
		declared := strings.Join(e.Declared(), ",")
		e.Close()
		for _, want := range []string{"exclude", "comm", "exe"} {
			if !strings.Contains(","+declared+",", ","+want+",") {
				t.Errorf("%s declares %s, not %s", name, declared, want)
			}
		}
	}
	p := probe(t)
	dir := t.TempDir()
	stdout, _ := runPolicy(t, "enospc", 0, map[string]string{"prefix": dir + "/", "exclude": filepath.Join(dir, "keep")},
		p, "writes", filepath.Join(dir, "keep-data"), "1")
	if !strings.HasPrefix(stdout, "write 1: ok\n") {
		t.Errorf("excluded file: %q", stdout)
	}
}
