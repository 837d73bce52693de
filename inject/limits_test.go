package inject_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hermes-trace/hermes/inject"
	"github.com/hermes-trace/hermes/internal/testbin"
	"github.com/hermes-trace/hermes/tracer"
)

// memCapMiB is the cap on hermes's memory that inject/doc.go documents:
// whatever a script does, hermes's peak RSS stays under it.
const memCapMiB = 512

// Child mode: the test binary re-executed with bombEnv set runs the bomb
// on its stdin and reports on stdout, so that the memory of one bomb does not count in
// another's peak RSS.
const (
	bombEnv        = "HERMES_INJECT_TEST_BOMB"
	bombTimeoutEnv = "HERMES_INJECT_TEST_BOMB_TIMEOUT"
	bombLoadEnv    = "HERMES_INJECT_TEST_BOMB_LOAD"  // the bomb is the script's source
	bombTraceEnv   = "HERMES_INJECT_TEST_BOMB_TRACE" // a command to trace under the script
)

func TestMain(m *testing.M) {
	if os.Getenv(bombEnv) != "" {
		os.Exit(bombChild())
	}
	code := m.Run()
	if hermesDir != "" {
		os.RemoveAll(hermesDir)
	}
	os.Exit(code)
}

// bombReport is what a child reports.
type bombReport struct {
	Err     string // the error on_exit failed with ("" if none)
	Elapsed time.Duration
	PeakKB  int // VmHWM
}

// bombChild loads the script on its stdin and runs its on_exit under the
// callback deadline.
func bombChild() int {
	// Before the fixes some bombs allocate without end: fail the child
	// rather than the machine.
	lim := &syscall.Rlimit{Cur: 6 << 30, Max: 6 << 30}
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, lim); err != nil {
		fmt.Fprintln(os.Stderr, "setrlimit:", err)
		return 2
	}
	src, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "read the script:", err)
		return 2
	}
	timeout, err := time.ParseDuration(os.Getenv(bombTimeoutEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "timeout:", err)
		return 2
	}
	var r bombReport
	start := time.Now()
	e, err := inject.LoadSource("bomb.lua", src, inject.Options{Timeout: timeout, Log: io.Discard})
	switch {
	case os.Getenv(bombTraceEnv) != "" && err == nil:
		// the bomb runs in the callbacks of a traced command
		tr := tracer.New(tracer.Config{Trace: e.Trapped(), Handlers: []tracer.Handler{e}, Stdout: os.Stderr})
		res, lerr := tr.Launch(strings.Fields(os.Getenv(bombTraceEnv)))
		if lerr != nil {
			fmt.Fprintln(os.Stderr, "launch:", lerr)
			return 2
		}
		e.Finish(res)
		r.Elapsed = time.Since(start)
		st := e.Stats()
		r.Err = fmt.Sprintf("%d calls, %d errors", st.Calls, st.Errors)
	case os.Getenv(bombLoadEnv) != "":
		r.Elapsed = time.Since(start)
		if err != nil {
			r.Err = err.Error()
		} else {
			e.Close()
		}
	case err != nil:
		fmt.Fprintln(os.Stderr, "load:", err)
		return 2
	default:
		start = time.Now()
		ferr := e.Finish(tracer.Result{})
		r.Elapsed = time.Since(start)
		if ferr != nil {
			r.Err = ferr.Error()
		}
	}
	if r.PeakKB, err = peakRSS(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return 0
}

// peakRSS returns this process's peak resident set size in KiB (VmHWM).
func peakRSS() (int, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("read /proc/self/status: %w", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "VmHWM:" && f[2] == "kB" {
			return strconv.Atoi(f[1])
		}
	}
	return 0, errors.New("no VmHWM in /proc/self/status")
}

// bombKill is when a bomb that did not end is killed.
const bombKill = 60 * time.Second

// runBomb runs on_exit = body in a child process and returns its report.
func runBomb(t *testing.T, body string, timeout time.Duration) bombReport {
	t.Helper()
	return runChild(t, "function on_exit()\n"+body+"\nend\n", timeout)
}

// runChild runs src (a script whose on_exit is the bomb, or whose loading
// is, with bombLoadEnv in extra) in a child process.
func runChild(t *testing.T, src string, timeout time.Duration, extra ...string) bombReport {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), bombEnv+"=1", bombTimeoutEnv+"="+timeout.String())
	cmd.Env = append(cmd.Env, extra...)
	cmd.Stdin = strings.NewReader(src)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("child: %v; stderr:\n%.2000s", err, stderr.String())
		}
	case <-time.After(bombKill):
		cmd.Process.Kill()
		<-done
		t.Fatalf("the bomb did not end within %v (deadline %v); stderr:\n%.2000s", bombKill, timeout, stderr.String())
	}
	var r bombReport
	if err := json.Unmarshal([]byte(stdout.String()), &r); err != nil {
		t.Fatalf("child report %q: %v", stdout.String(), err)
	}
	return r
}

// TestBombs runs each bomb of the hardening issue (one huge operation, or
// a loop around one) in on_exit, in a child process: each ends with a
// script error within the callback deadline plus a margin, and the
// child's peak RSS stays under the documented cap.
func TestBombs(t *testing.T) {
	const deadline = 100 * time.Millisecond
	for _, tc := range []struct {
		name, code, want string
		timeout          time.Duration // 0: deadline
	}{
		// One table index allocated 1 GiB of nils; now a sparse key is one
		// hash entry, and a loop making such tables runs out of time.
		{"sparse index", `local t = {} t[67108863] = true
			assert(t[67108863] == true and #t == 0)
			error("defused")`, "defused", 0},
		{"sparse index loop", `local keep = {}
			for i = 1, 1e9 do local t = {} t[67108864 - i] = true keep[i] = t end`, "timeout|memory limit", 0},
		// gsub: a result over the string limit; quadratic splicing of
		// many matches; a %0 expansion of a huge replacement.
		{"gsub grows", `local s = ("x"):rep(2^20) s = s:gsub("", ("y"):rep(1000))`, "exceeds the limit", 0},
		{"gsub many matches", `local s, n = ("x"):rep(2^19):gsub("x", "")
			assert(s == "" and n == 2^19) error("defused")`, "defused", time.Second},
		{"gsub %0 expansion", `local s = ("x"):rep(2^19):gsub(".+", ("%0"):rep(1000))`, "exceeds the limit", 0},
		{"table.concat", `local s, t = ("x"):rep(2^20), {}
			for i = 1, 1024 do t[i] = s end
			local r = table.concat(t)`, "exceeds the limit", 0},
		{"concat doubling", `local s = ("x"):rep(2^20) for i = 1, 20 do s = s .. s end`, "exceeds the limit", time.Second},
		{"string.format", `local s, t = ("x"):rep(2^20), {}
			for i = 1, 200 do t[i] = s end
			local r = string.format(("%s"):rep(200), unpack(t))`, "exceeds the limit", 0},
		{"string.rep count overflow", `local s = ("x"):rep(2^20):rep(2^44)`, "exceeds the sandbox limit", 0},
		{"string.rep huge count", `local s = ("ab"):rep(2^40, ",")`, "exceeds the sandbox limit", 0},
		{"string.rep of nothing", `local s = (""):rep(2^52) assert(s == "") error("defused")`, "defused", 0},
		// The pattern matcher checks the deadline, and backtracks on the
		// heap (a* over 1 MiB grew the Go stack to 400 MiB).
		{"find backtracking", `local r = ("a"):rep(20000):find(".-.-.-.-.-b")`, "timeout", 0},
		{"match backtracking", `local r = ("a"):rep(20000):match("(.-)(.-)(.-)(.-)(.-)b")`, "timeout", 0},
		{"gmatch backtracking", `for w in ("a"):rep(20000):gmatch(".-.-.-.-.-b") do end`, "timeout", 0},
		{"gsub backtracking", `local r = ("a"):rep(20000):gsub(".-.-.-.-.-b", "")`, "timeout", 0},
		{"deep backtrack stack", `local r = ("a"):rep(2^20):find("a*b")`, "timeout", 0},
		// Too many results fail at once (they grew the stack for ~10 s).
		{"string.byte", `local s = ("a"):rep(2^20) local t = {string.byte(s, 1, -1)}`, "string slice too long", 0},
		{"unpack", `local t = {} local r = {unpack(t, 1, 2^17)}`, "too many results to unpack", 0},
		{"unpack huge range", `local r = {unpack({}, -2^52, 2^52)}`, "too many results to unpack", 0},
		// Memory kept across many small steps: the heap watchdog (the
		// deadline is long so that only memory can stop it).
		{"heap growth", `local t, s = {}, ("x"):rep(2^19)
			for i = 1, 1e9 do t[i] = s .. i end`, "memory limit", 20 * time.Second},
		{"table growth", `local t = {}
			for i = 1, 1e9 do t[i] = {i} end`, "memory limit", 60 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			timeout := tc.timeout
			if timeout == 0 {
				timeout = deadline
			}
			r := runBomb(t, tc.code, timeout)
			t.Logf("%s: %v, peak RSS %d MiB: %s", tc.name, r.Elapsed.Round(time.Millisecond), r.PeakKB>>10, r.Err)
			if !regexp.MustCompile(tc.want).MatchString(r.Err) {
				t.Errorf("error %q, want /%s/", r.Err, tc.want)
			}
			// the deadline plus a generous margin for a loaded machine
			if bound := timeout + 3*time.Second; r.Elapsed > bound {
				t.Errorf("took %v, want under %v", r.Elapsed, bound)
			}
			if r.PeakKB > memCapMiB<<10 {
				t.Errorf("peak RSS %d MiB, over the documented cap of %d MiB", r.PeakKB>>10, memCapMiB)
			}
		})
	}
}

// TestBombAcrossCallbacks: many short callbacks that each keep 20 MiB
// (none lives long enough for the watchdog to look at it) fail once the
// heap is over the limit, and hermes stays under the cap.
func TestBombAcrossCallbacks(t *testing.T) {
	p := probe(t)
	r := runChild(t, `hermes.trap{"getppid"}
keep = {}
local s = ("x"):rep(2^19)
function on_syscall(ev)
  for i = 1, 40 do keep[#keep + 1] = s .. i end
end
`, 100*time.Millisecond, bombTraceEnv+"="+p+" getppid 400")
	t.Logf("400 callbacks: %v, peak RSS %d MiB: %s", r.Elapsed.Round(time.Millisecond), r.PeakKB>>10, r.Err)
	var calls, errs int
	if _, err := fmt.Sscanf(r.Err, "%d calls, %d errors", &calls, &errs); err != nil || calls != 400 || errs < 300 {
		t.Errorf("%q: want 400 calls, most of them failed", r.Err)
	}
	if r.PeakKB > memCapMiB<<10 {
		t.Errorf("peak RSS %d MiB, over the documented cap of %d MiB", r.PeakKB>>10, memCapMiB)
	}
}

// TestCompileBombs: a script nested too deeply is refused before gopher-lua
// compiles it (its compiler recursed once per level, superlinearly), and
// the longest flat scripts compile within the memory cap.
func TestCompileBombs(t *testing.T) {
	const big = 300000 // levels: each source stays under 1 MiB
	deep := func(open, mid, close string, n int) string {
		return strings.Repeat(open, n) + mid + strings.Repeat(close, n)
	}
	for _, tc := range []struct{ name, src, want string }{
		{"do blocks", deep("do ", "", "end ", big*10/22), `^bomb.lua:1: chunk has too many syntax levels \(more than 200\)$`},
		{"parentheses", "x = " + deep("(", "1", ")", big), "too many syntax levels"},
		{"tables", "x = " + deep("{", "", "}", big), "too many syntax levels"},
		{"functions", "x = " + deep("function() return ", "1", " end ", big/7), "too many syntax levels"},
		{"if", deep("if x then\n", "", "end\n", big*10/44), `^bomb.lua:201: chunk has too many syntax levels`},
		{"unary minus", "x = " + strings.Repeat("- ", big) + "1", "too many syntax levels"},
		{"not", "x = " + strings.Repeat("not ", big/2) + "1", "too many syntax levels"},
		{"200 levels", "x = " + deep("(", "1", ")", 200), "^$"},
		{"201 levels", "x = " + deep("(", "1", ")", 201), "too many syntax levels"},
		{"200 in comments and strings", "-- " + strings.Repeat("(", 1000) + "\n--[==[ " + strings.Repeat("do ", 1000) +
			" ]==]\nx = '" + strings.Repeat("{", 1000) + "' .. [[" + strings.Repeat("[", 1000) + "]] .. \"\\\"(((\"\n", "^$"},
		// long but flat: linear, and within the cap
		{"flat statements", strings.Repeat("x = 1\n", 170000), "^$"},
		{"long expression", "x = " + strings.Repeat("1+", 500000) + "1", "^$"},
		{"big table constructor", "x = {" + strings.Repeat("1,", 500000) + "}", "^$"},
		{"too big", strings.Repeat("-", 1<<20+1), "^bomb.lua: the script is 1048577 bytes; the limit is 1048576$"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runChild(t, tc.src, time.Second, bombLoadEnv+"=1")
			t.Logf("%s (%d bytes): %v, peak RSS %d MiB: %s", tc.name, len(tc.src), r.Elapsed.Round(time.Millisecond), r.PeakKB>>10, r.Err)
			if !regexp.MustCompile(tc.want).MatchString(r.Err) {
				t.Errorf("error %q, want /%s/", r.Err, tc.want)
			}
			if r.Elapsed > 15*time.Second {
				t.Errorf("loading took %v", r.Elapsed)
			}
			if r.PeakKB > memCapMiB<<10 {
				t.Errorf("peak RSS %d MiB, over the documented cap of %d MiB", r.PeakKB>>10, memCapMiB)
			}
		})
	}
}

// TestBoundedLibrarySemantics: the bounded versions of the library still
// do what Lua does.
func TestBoundedLibrarySemantics(t *testing.T) {
	e, err := inject.LoadSource("sem.lua", []byte(`
-- sparse integer keys live in the hash part, and join the array once
-- the gap is filled
local t = {}
t[3] = "c"; t[5] = "e"
assert(#t == 0 and t[3] == "c" and t[5] == "e" and table.maxn(t) == 5)
t[1] = "a"; t[2] = "b"
assert(#t == 3 and t[3] == "c")
t[4] = "d"
assert(#t == 5 and table.concat(t) == "abcde")
local n = 0
for i, v in ipairs(t) do n = n + 1 end
assert(n == 5)
local keys = {}
for k in pairs({[7] = 1, [9] = 2, x = 3}) do keys[#keys + 1] = tostring(k) end
table.sort(keys)
assert(table.concat(keys, ",") == "7,9,x")
table.insert(t, 1, "z")
assert(#t == 6 and t[1] == "z" and t[6] == "e")
local u = {unpack({1, 2, 3})}
assert(#u == 3 and u[3] == 3)

-- patterns, gsub, gmatch
assert(("hello world"):gsub("o", "0") == "hell0 w0rld")
assert(select(2, ("hello world"):gsub("o", "0")) == 2)
assert(("hello world"):gsub("o*", "x") == "xhxexlxlxx xwxxrxlxdx")
assert(("abc"):gsub("%w", "%0%0") == "aabbcc")
assert(("abc"):gsub("", "-") == "-a-b-c-")
assert(("hello"):gsub("l", "L", 1) == "heLlo")
assert(("hello"):gsub("l", "L", 0) == "hello")
assert(("^x^"):gsub("^%^", "") == "x^")
assert(("abc"):gsub("%w", {a = "1", b = false}) == "1bc")
assert(("abc"):gsub("%w", function(c) if c == "b" then return "B" end end) == "aBc")
assert(("key = value"):match("^(%w+)%s*=%s*(%w+)$") == "key")
assert(select(2, ("key = value"):match("^(%w+)%s*=%s*(%w+)$")) == "value")
assert(("THE (quick) fox"):find("%((%a+)%)") == 5)
assert(("f(a(b)c)d"):match("%b()") == "(a(b)c)")
assert(("abcabc"):match("(a)(b)c%1%2") == "a")
local words = {}
for w in ("one two  three"):gmatch("%a+") do words[#words + 1] = w end
assert(table.concat(words, "|") == "one|two|three")
local pos = {}
for p in ("abc"):gmatch("()") do pos[#pos + 1] = p end
assert(table.concat(pos, ",") == "1,2,3,4")
local ok, err = pcall(string.find, "x", ("(x)"):rep(33))
assert(not ok and err:find("too many captures"))

-- sizes under the limits still work
local big = ("x"):rep(2^19)
assert(#(big .. big) == 2^20)
assert(#string.format("%s%s", big, big:sub(1000)) == 2^20 - 999)
assert(string.format("%5.2f|%-3s|%q", 1.5, "a", "b") == ' 1.50|a  |"b"')
assert(#table.concat({big, big}) == 2^20)
assert(select("#", string.byte(("a"):rep(1000), 1, -1)) == 1000)
local s = {} for i = 1, 1000 do s[i] = i end
table.sort(s, function(a, b) return a > b end)
assert(s[1] == 1000 and s[1000] == 1)
`), inject.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
}

// TestReloadKeepsSharedAndCyclicState: hermes.state survives a hot reload
// with its shape: a table reached twice is one table, cycles stay, and a
// table referring to the next one twice, 60 levels deep (2^60 paths), is
// copied in linear time.
func TestReloadKeepsSharedAndCyclicState(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "state.lua")
	write := func(src string) {
		t.Helper()
		if err := os.WriteFile(script, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`
local shared = {n = 1}
hermes.state.a = {x = shared, y = shared, big = hermes.u64("0xffffffffffffffff")}
hermes.state.a.self = hermes.state.a
hermes.state.ring = {}
hermes.state.ring.next = {prev = hermes.state.ring}
hermes.state.ring.next.next = hermes.state.ring
hermes.state.a.list = {shared, shared, hermes.state.ring}
hermes.state.fn = function() end
local t = {leaf = true}
for i = 1, 60 do t = {l = t, r = t, [t] = i} end
hermes.state.dag = t
`)
	log := &syncBuffer{}
	e, err := inject.Load(script, inject.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	write(`
function on_exit()
  local s = hermes.state
  assert(s.a.x == s.a.y, "shared table split")
  assert(s.a.self == s.a, "cycle lost")
  assert(s.ring.next.next == s.ring and s.ring.next.prev == s.ring, "ring lost")
  assert(s.a.list[1] == s.a.x and s.a.list[2] == s.a.x and s.a.list[3] == s.ring, "array lost sharing")
  assert(s.a.big == hermes.u64("0xffffffffffffffff"), "u64 lost")
  assert(s.fn == nil, "functions are dropped")
  s.a.x.n = 2
  assert(s.a.y.n == 2)
  local t, depth = s.dag, 0
  while t.l do
    assert(t.l == t.r and t[t.l] == 60 - depth, "dag split at depth " .. depth)
    t, depth = t.l, depth + 1
  end
  assert(depth == 60 and t.leaf, "dag depth " .. depth)
  hermes.log("state ok")
end
`)
	if err := e.Reload(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- e.Finish(tracer.Result{}) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("on_exit: %v; log:\n%s", err, log.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("copying hermes.state did not end within 30s")
	}
	t.Logf("swap and on_exit: %v", time.Since(start))
	if !strings.Contains(log.String(), "state ok") {
		t.Errorf("log:\n%s", log.String())
	}
}

// TestScriptNotRegularFile: a FIFO, a device or a directory given as the
// script is refused at once with one line, by Load, Check and the CLI
// (exit status 125).
func TestScriptNotRegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "faults.lua")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, kind string }{
		{fifo, "a named pipe"},
		{"/dev/zero", "a character device"},
		{dir, "a directory"},
	} {
		want := tc.path + ": not a regular file (" + tc.kind + "); a script must be one"
		done := make(chan error, 1)
		go func() {
			_, err := inject.Check(tc.path)
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || err.Error() != want {
				t.Errorf("Check(%s): %v, want %s", tc.path, err, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Check(%s) did not return within 5s", tc.path)
		}
		_, err := inject.Load(tc.path, inject.Options{Reload: true})
		var le *inject.LoadError
		if !errors.As(err, &le) || err.Error() != want {
			t.Errorf("Load(%s): %v, want a LoadError %s", tc.path, err, want)
		}
	}
	bin := hermesBin(t)
	for _, args := range [][]string{
		{"check", fifo},
		{"trace", "--inject", fifo, "--", "true"},
	} {
		stdout, stderr, code := runHermes(t, 10*time.Second, bin, args...)
		want := "hermes: " + fifo + ": not a regular file (a named pipe); a script must be one\n"
		if code != 125 || stderr != want || stdout != "" {
			t.Errorf("hermes %v: exit %d, stdout %q, stderr %q; want 125 and %q", args, code, stdout, stderr, want)
		}
	}
}

// TestCheckEndsOnBomb: hermes check on a script whose top level runs a
// backtracking pattern ends with the timeout error (top level: 1s).
func TestCheckEndsOnBomb(t *testing.T) {
	bin := hermesBin(t)
	script := filepath.Join(t.TempDir(), "bomb.lua")
	os.WriteFile(script, []byte("local s = (\"a\"):rep(20000)\nlocal r = s:find(\".-.-.-.-.-b\")\n"), 0o644)
	start := time.Now()
	_, stderr, code := runHermes(t, 30*time.Second, bin, "check", script)
	t.Logf("hermes check: %v", time.Since(start))
	if code != 125 || !strings.HasPrefix(stderr, "hermes: "+script+":2: timeout") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// TestSignalWhileLuaRuns: SIGINT or SIGTERM ends hermes promptly while its
// script spends each callback in a pattern match that never finishes on
// its own.
func TestSignalWhileLuaRuns(t *testing.T) {
	bin := hermesBin(t)
	p := probe(t)
	script := filepath.Join(t.TempDir(), "bomb.lua")
	os.WriteFile(script, []byte(`hermes.trap{"getppid"}
function on_syscall(ev)
  hermes.log("matching")
  local r = ("a"):rep(20000):find(".-.-.-.-.-b")
end
`), 0o644)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, "trace", "-o", "/dev/null", "--inject", script, "--", p, "getppid", "100000")
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waited := make(chan error, 1)
			defer func() {
				select {
				case <-waited:
				default:
					cmd.Process.Kill()
				}
			}()
			// Wait until the script starts its first match: from then on
			// Lua runs almost all the time.
			lines := make(chan string, 100)
			go func() {
				sc := bufio.NewScanner(stderr)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
				waited <- cmd.Wait()
			}()
			var seen []string
			timeout := time.After(30 * time.Second)
		wait:
			for {
				select {
				case l, ok := <-lines:
					if !ok {
						t.Fatalf("hermes ended early:\n%s", strings.Join(seen, "\n"))
					}
					seen = append(seen, l)
					if strings.Contains(l, "matching") {
						break wait
					}
				case <-timeout:
					t.Fatalf("the script did not start within 30s; stderr:\n%s", strings.Join(seen, "\n"))
				}
			}
			time.Sleep(30 * time.Millisecond) // into the match
			start := time.Now()
			cmd.Process.Signal(sig)
			go func() {
				for range lines {
				}
			}()
			select {
			case err := <-waited:
				d := time.Since(start)
				t.Logf("hermes ended %v after %v: %v", d.Round(time.Millisecond), sig, err)
				if d > 5*time.Second {
					t.Errorf("hermes took %v to end after %v", d, sig)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("hermes did not end within 20s of %v", sig)
			}
		})
	}
}

var (
	hermesOnce sync.Once
	hermesDir  string // removed by TestMain
	hermesPath string
	hermesErr  error
)

// hermesBin builds the hermes command once per test binary.
func hermesBin(t *testing.T) string {
	t.Helper()
	hermesOnce.Do(func() {
		var err error
		if hermesDir, err = os.MkdirTemp("", "hermes-inject-test"); err != nil {
			hermesErr = err
			return
		}
		hermesPath = filepath.Join(hermesDir, "hermes")
		cmd := exec.Command("go", "build", "-o", hermesPath, "./cmd/hermes")
		cmd.Dir = testbin.Root(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			hermesErr = fmt.Errorf("go build ./cmd/hermes: %v\n%s", err, out)
		}
	})
	if hermesErr != nil {
		t.Fatal(hermesErr)
	}
	return hermesPath
}

// runHermes runs bin with args, killing it after limit.
func runHermes(t *testing.T, limit time.Duration, bin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(limit):
		cmd.Process.Kill()
		<-done
		t.Fatalf("hermes %v did not end within %v; stderr:\n%s", args, limit, stderr.String())
	}
	return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
}
