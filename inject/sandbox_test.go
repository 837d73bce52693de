package inject_test

import (
	"errors"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hermes-trace/hermes/inject"
)

var escapes = []struct {
	name, code, msg string
}{
	{"os.execute", `os.execute("touch /tmp/hermes-pwned")`, "attempt to index a non-table object(nil) with key 'execute'"},
	{"io.open", `io.open("/etc/passwd")`, "attempt to index a non-table object(nil) with key 'open'"},
	{"require", `require("os")`, "attempt to call a non-function object"},
	{"load", `load("return 1")`, "attempt to call a non-function object"},
	{"loadstring", `loadstring("return 1")()`, "attempt to call a non-function object"},
	{"dofile", `dofile("/etc/passwd")`, "attempt to call a non-function object"},
	{"loadfile", `loadfile("/etc/passwd")`, "attempt to call a non-function object"},
	{"debug", `debug.getinfo(1)`, "attempt to index a non-table object(nil) with key 'getinfo'"},
	{"collectgarbage", `collectgarbage("count")`, "attempt to call a non-function object"},
	{"setfenv", `setfenv(1, {})`, "attempt to call a non-function object"},
	{"endless loop", `while true do end`, "timeout: the callback ran longer than"},
	{"endless loop in pcall", `while true do pcall(function() while true do end end) end`, "timeout"},
	{"recursion", `local function f(n) return 1 + f(n + 1) end f(1)`, "stack overflow"},
	{"huge string.rep", `local s = string.rep("x", 1e9)`, "exceeds the sandbox limit"},
	{"huge string.rep method", `local s = ("xy"):rep(1e6)`, "exceeds the sandbox limit"},
	{"huge format width", `local s = string.format("%999999999d", 1)`, "width too long"},
	{"event metatable", `getmetatable(hermes.u64(1)).__index = nil`, "attempt to index a non-table object(string)"},
	{"event is read-only", `ev_global.name = "x"`, "read-only"},
}

// TestSandboxCallbacks runs each escape attempt inside on_syscall: it is
// refused or stopped, reported with file:line, and the target carries on.
func TestSandboxCallbacks(t *testing.T) {
	p := probe(t)
	for _, tc := range escapes {
		t.Run(tc.name, func(t *testing.T) {
			src := "hermes.trap{\"getppid\"}\nfunction on_syscall(ev)\n  ev_global = ev\n  " + tc.code + "\nend\n"
			start := time.Now()
			r := runLua(t, src, inject.Options{Timeout: 50 * time.Millisecond}, p, "getppid", "2")
			got := lines(r.stdout)
			if len(got) != 2 || !strings.HasPrefix(got[1], "getppid 2: ") || strings.Contains(r.stdout, ": E") {
				t.Errorf("target output %q", r.stdout)
			}
			if r.res.ExitCode != 0 {
				t.Errorf("target exit %+v", r.res)
			}
			if !strings.Contains(r.log, "hermes: test.lua:4: ") || !strings.Contains(r.log, tc.msg) ||
				!strings.Contains(r.log, "(in on_syscall, [1] getppid #1; on-error=continue)") {
				t.Errorf("log %q lacks test.lua:4: ...%s", r.log, tc.msg)
			}
			if st := r.engine.Stats(); st.Errors != 2 {
				t.Errorf("stats %+v, want 2 errors", st)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestSandboxTopLevel: the same attempts at the top level fail the load
// with file:line.
func TestSandboxTopLevel(t *testing.T) {
	for _, tc := range escapes {
		if strings.Contains(tc.code, "ev_global") {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			_, err := inject.LoadSource("top.lua", []byte("local x = 1\n"+tc.code+"\n"), inject.Options{Timeout: 10 * time.Millisecond})
			var le *inject.LoadError
			if !errors.As(err, &le) {
				t.Fatalf("err %v, want a LoadError", err)
			}
			if le.Pos != "top.lua:2" || !strings.Contains(le.Msg, tc.msg) {
				t.Errorf("err %q, want top.lua:2: ...%s", err, tc.msg)
			}
		})
	}
}

func TestGlobalsRemoved(t *testing.T) {
	e, err := inject.LoadSource("g.lua", []byte(`
for _, name in ipairs{"dofile", "loadfile", "load", "loadstring", "require", "module",
    "collectgarbage", "getfenv", "setfenv", "os", "io", "debug", "package", "coroutine",
    "channel", "newproxy", "_printregs"} do
  if _G[name] ~= nil then error(name .. " is reachable") end
end
if string.dump ~= nil then error("string.dump") end
assert(string.format("%5.2f|%-3s|%%", 1.5, "a") == " 1.50|a  |%")
assert(string.rep("ab", 3, ",") == "ab,ab,ab")
assert(math.floor(2.5) == 2 and table.concat({1, 2}, "-") == "1-2")
`), inject.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"local x = \nfunction f(", `^bad.lua:2: .*`},
		{"x = = 1", `^bad.lua:1: .*near '='`},
		{"hermes.trap{\"write\"}\nhermes.trap{\"wrte\"}", `^bad.lua:2: hermes.trap: unknown syscall or class "wrte"$`},
		{"hermes.trap{\"%nosuchclass\"}", `^bad.lua:1: hermes.trap: unknown syscall or class "%nosuchclass"$`},
		{"\n\nfunction on_syscall(ev) hermes.deny(\"EFOO\") end", `^bad.lua:3: hermes.deny: unknown errno "EFOO"$`},
		{"function on_syscall(ev) hermes.deny(hermes.ENOSPACE) end", `^bad.lua:1: unknown constant hermes.ENOSPACE$`},
		{"function on_syscall(ev) hermes.signal('SIGFOO') end", `^bad.lua:1: hermes.signal: unknown signal "SIGFOO"$`},
		{"error('boom')", `^bad.lua:1: boom$`},
		{"on_syscall = 3", `^bad.lua: on_syscall must be a function, not a number$`},
		{"hermes.deny(5)", `^bad.lua:1: hermes.deny: only allowed in on_syscall or on_return, not at top level$`},
	} {
		_, err := inject.LoadSource("bad.lua", []byte(tc.src), inject.Options{})
		if err == nil || !regexp.MustCompile(tc.want).MatchString(err.Error()) {
			t.Errorf("%q: err %v, want %s", tc.src, err, tc.want)
		}
	}
}

func TestOnErrorFallbacks(t *testing.T) {
	p := probe(t)
	src := "hermes.trap{\"getppid\"}\nfunction on_syscall(ev)\n  if ev.nth == 2 then error(\"boom\") end\nend\n"
	r := runLua(t, src, inject.Options{OnError: inject.Deny}, p, "getppid", "3")
	got := lines(r.stdout)
	if len(got) != 3 || got[1] != "getppid 2: EPERM" || strings.Contains(got[0], "EPERM") || strings.Contains(got[2], "EPERM") {
		t.Errorf("deny: output %q", got)
	}
	if !strings.Contains(r.log, "hermes: test.lua:3: boom (in on_syscall, [1] getppid #2; on-error=deny)") {
		t.Errorf("log %q", r.log)
	}
	r = runLua(t, src, inject.Options{OnError: inject.Kill}, p, "getppid", "3")
	if r.res.Signal != 9 || len(lines(r.stdout)) != 1 {
		t.Errorf("kill: %+v %q", r.res, r.stdout)
	}
	if _, err := inject.ParseOnError("explode"); err == nil {
		t.Error("ParseOnError accepted a bad value")
	}
}

func TestActionsOutsideCallbacks(t *testing.T) {
	p := probe(t)
	r := runLua(t, `
hermes.trap{"getppid"}
function on_syscall(ev) end
function on_return(ev) hermes.modify_arg(1, 0) end
function on_exit(s) hermes.deny(1) end
`, inject.Options{}, p, "getppid", "1")
	if !strings.Contains(r.log, "hermes.modify_arg: not allowed in on_return") ||
		!strings.Contains(r.log, "hermes.deny: only allowed in on_syscall or on_return, not at on_exit") {
		t.Errorf("log %q", r.log)
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	good := dir + "/good.lua"
	bad := dir + "/bad.lua"
	os.WriteFile(good, []byte("hermes.trap{\"write\", \"%file\"}\nfunction on_syscall(ev) hermes.deny(\"ENOSPC\") end\n"), 0o644)
	os.WriteFile(bad, []byte("-- a comment\nhermes.trap{\"write\", \"opnat\"}\n"), 0o644)
	if w, err := inject.Check(good); err != nil || len(w) != 0 {
		t.Errorf("good: %v %q", err, w)
	}
	if _, err := inject.Check(bad); err == nil || err.Error() != bad+`:2: hermes.trap: unknown syscall or class "opnat"` {
		t.Errorf("bad: %v", err)
	}
	if _, err := inject.Check(dir + "/missing.lua"); err == nil {
		t.Error("missing file passed")
	}
}

// TestHookWarnings: a global function named like a hook that is not one
// is never called; load warns about it (and hermes check reports it).
func TestHookWarnings(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want string // the warning, "" for none
	}{
		{"function on_syscal(ev) end", `x.lua:1: warning: on_syscal is not a hook, so hermes never calls it (did you mean on_syscall?`},
		{"\nfunction onReturn(ev) end", `x.lua:2: warning: onReturn is not a hook, so hermes never calls it (did you mean on_return?`},
		{"function on_Exit(s) end", `(did you mean on_exit?`},
		{"on_proces = function(ev) end", `on_proces is not a hook`},
		{"function on_syscall(ev) end\nfunction on_exit(s) end", ""},
		{"function helper() end\nfunction on_write(ev) end\non_syscal = 3", ""},
	} {
		e, err := inject.LoadSource("x.lua", []byte(tc.src), inject.Options{Log: io.Discard})
		if err != nil {
			t.Fatalf("%q: %v", tc.src, err)
		}
		w := e.Warnings()
		e.Close()
		if tc.want == "" && len(w) != 0 || tc.want != "" && (len(w) != 1 || !strings.Contains(w[0], tc.want)) {
			t.Errorf("%q: warnings %q, want %q", tc.src, w, tc.want)
		}
	}
}

// TestDeclaredParams: hermes.param at the top level declares a parameter;
// inside a callback it does not.
func TestDeclaredParams(t *testing.T) {
	e, err := inject.LoadSource("x.lua", []byte(`
local a = hermes.param("alpha", 1)
local function get() return hermes.param("beta", "x") end
get()
function on_syscall(ev) hermes.param("gamma", true) end
`), inject.Options{Params: map[string]string{"alpha": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if got := strings.Join(e.Declared(), ","); got != "alpha,beta" {
		t.Errorf("Declared() = %s, want alpha,beta", got)
	}
}
