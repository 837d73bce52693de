package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hermes-trace/hermes/inject"
	"github.com/hermes-trace/hermes/internal/testbin"
)

// TestScriptMistakes: a fault script that cannot do what it was written
// for does not give a green build without a word.
func TestScriptMistakes(t *testing.T) {
	dir := t.TempDir()
	script := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	failing := script("failing.lua", "hermes.trap{\"write\"}\nfunction on_syscall(ev) error(\"boom\") end\n")
	typo := script("typo.lua", "hermes.trap{\"write\"}\nfunction on_syscal(ev) hermes.deny(hermes.EIO) end\n")
	slowExit := script("slowexit.lua", "function on_exit(s) while true do end end\n")
	hosts := script("hosts.lua", `local errno = hermes.param("errno", "ENOENT")
hermes.trap{"openat"}
function on_syscall(ev)
  if ev.path ~= nil and ev.path:find("/b$") then hermes.deny(errno) end
end
`)
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(a, []byte("A\n"), 0o644)
	os.WriteFile(b, []byte("B\n"), 0o644)
	hello := testbin.C(t, "hello")
	probe := testbin.C(t, "probe")
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string   // "" not checked
		stderr []string // lines stderr must have
		not    string   // what stderr must not have ("" nothing)
	}{
		{"every callback fails: the summary says so", []string{"trace", "-o", os.DevNull, "--inject", failing, "--", hello}, 0, "hello\n",
			[]string{"failing.lua:2: boom", "hermes: " + failing + ": 1 callback failed (on-error=continue); 0 calls injected"}, ""},
		{"--strict ends the run at the first error", []string{"trace", "-o", os.DevNull, "--strict", "--inject", failing, "--", hello}, exitError, "",
			[]string{"hermes: --strict: " + failing + ":2: boom (in on_syscall, [1] write #1)",
				"boom (in on_syscall, [1] write #1; --strict: the run ends)", "1 callback failed (--strict)"}, "on-error="},
		{"misspelt hook: the run warns", []string{"trace", "-o", os.DevNull, "--inject", typo, "--", hello}, 0, "hello\n",
			[]string{typo + ":2: warning: on_syscal is not a hook"}, ""},
		{"misspelt hook: check warns", []string{"check", typo}, exitWarnings, "",
			[]string{"hermes: " + typo + ":2: warning: on_syscal is not a hook, so hermes never calls it (did you mean on_syscall?"}, ": ok"},
		{"undeclared --param", []string{"trace", "--inject", "builtin:enospc", "--param", "nht=3", "--", hello}, exitError, "",
			[]string{"hermes: parameter nht=3: no script declares nht (builtin:enospc declares "}, ""},
		{"on_exit times out: the target's status stays", []string{"trace", "-o", os.DevNull, "--inject", slowExit, "--", hello, "3"}, 3, "hello\n",
			[]string{"timeout", "(in on_exit; on-error=continue)", "1 callback failed"}, ""},
		{"on_exit times out with --strict", []string{"trace", "-o", os.DevNull, "--strict", "--inject", slowExit, "--", hello}, exitError, "",
			[]string{"hermes: --strict: " + slowExit + ":1: timeout"}, ""},
		{"two scripts compose, each --param to each that declares it",
			[]string{"trace", "-o", os.DevNull, "--inject", "builtin:deny-path", "--inject", hosts, "--param", "prefix=" + a, "--param", "errno=EPERM", "--", probe, "open", a, b},
			0, "open " + a + ": EPERM\nopen " + b + ": EPERM\n", []string{"builtin:deny-path, " + hosts + ": seed "}, ""},
		{"a --param one of two scripts declares", []string{"trace", "-o", os.DevNull, "--inject", hosts, "--inject", "builtin:deny-path", "--param", "prefix=/nonexistent", "--", probe, "open", a, b},
			0, "open " + a + ": A\nopen " + b + ": ENOENT\n", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := hermes(t, tc.args...)
			ok := code == tc.code && (tc.stdout == "" || stdout == tc.stdout) && (tc.not == "" || !strings.Contains(stdout+stderr, tc.not))
			for _, s := range tc.stderr {
				ok = ok && strings.Contains(stderr, s)
			}
			if !ok || strings.Contains(stderr, "goroutine ") {
				t.Fatalf("exit %d, stdout %q, stderr:\n%s\nwant exit %d, stdout %q, stderr with %q", code, stdout, stderr, tc.code, tc.stdout, tc.stderr)
			}
		})
	}
}

// TestExampleParams: every --param a help text or the README gives a
// built-in policy is one the policy declares.
func TestExampleParams(t *testing.T) {
	var texts []string
	for _, c := range newRootCmd(os.Stdout, os.Stderr).Commands() {
		texts = append(texts, c.Example, c.Long)
	}
	readme, err := os.ReadFile(filepath.Join(testbin.Root(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	texts = append(texts, string(readme))
	line := regexp.MustCompile(`--inject[ =]builtin:([a-z-]+)((?:[^\n]|\\\n)*)`)
	param := regexp.MustCompile(`--param[ =]([a-z_]+)=`)
	seen := 0
	for _, text := range texts {
		for _, m := range line.FindAllStringSubmatch(text, -1) {
			e, err := inject.Load("builtin:"+m[1], inject.Options{})
			if err != nil {
				t.Fatalf("builtin:%s: %v", m[1], err)
			}
			declared := strings.Join(e.Declared(), ",")
			e.Close()
			for _, p := range param.FindAllStringSubmatch(m[2], -1) {
				seen++
				if !strings.Contains(","+declared+",", ","+p[1]+",") {
					t.Errorf("%q: builtin:%s declares no %s (it declares %s)", m[0], m[1], p[1], declared)
				}
			}
		}
	}
	if seen < 3 {
		t.Fatalf("only %d --param examples found: the pattern is wrong", seen)
	}
}

// TestOnReturnRendering: a result an on_return changed prints as the
// program got it, the same in hermes trace and in dump of a recording.
func TestOnReturnRendering(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "short.lua")
	os.WriteFile(script, []byte("hermes.trap{\"write\"}\nfunction on_return(ev) if ev.fd == 1 then hermes.ret(1) end end\n"), 0o644)
	hello := testbin.C(t, "hello")
	// hello exits 100 when its one write is short.
	_, stderr, code := hermes(t, "trace", "-e", "trace=write", "--inject", script, "--", hello)
	want := `write(1, "hello\n", 6) = 1 (INJECTED by ` + script + `)`
	if code != 100 || !strings.Contains(stderr, want+"\n") {
		t.Fatalf("trace: exit %d, stderr:\n%s\nwant %q", code, stderr, want)
	}
	trace := filepath.Join(dir, "run.trace")
	if _, stderr, code := hermes(t, "record", "-o", trace, "-e", "trace=write", "--inject", script, "--", hello); code != 100 {
		t.Fatalf("record: exit %d\n%s", code, stderr)
	}
	dump, _, _ := hermes(t, "dump", trace)
	if !strings.Contains(dump, " "+want+"\n") {
		t.Fatalf("dump:\n%s\nwant %q", dump, want)
	}
}

// TestReplayUnrecordedCalls: replay --inject with a script that acts on
// calls a narrowed recording did not keep says so in one line.
func TestReplayUnrecordedCalls(t *testing.T) {
	dir := t.TempDir()
	trace, _, code := recordRun(t, []string{"-e", "trace=openat"}, testbin.C(t, "probe"), "writes", filepath.Join(dir, "out"), "2")
	if code != 0 {
		t.Fatalf("record: exit %d", code)
	}
	writes := filepath.Join(dir, "writes.lua")
	os.WriteFile(writes, []byte("hermes.trap{\"write\", \"openat\"}\nfunction on_syscall(ev) end\n"), 0o644)
	opens := filepath.Join(dir, "opens.lua")
	os.WriteFile(opens, []byte("hermes.trap{\"openat\"}\nfunction on_syscall(ev) end\n"), 0o644)
	all := filepath.Join(dir, "all.lua")
	os.WriteFile(all, []byte("function on_syscall(ev) end\n"), 0o644)
	for _, tc := range []struct {
		script, note string
	}{
		{writes, "hermes: note: the recording did not keep write (it kept 1 syscall: -e trace=), on which the injection acts"},
		{all, "hermes: note: the recording kept only 1 syscall (-e trace=), and the injection acts on every call"},
		{opens, ""},
	} {
		_, stderr, code := hermes(t, "replay", "--inject", tc.script, trace)
		if code != 0 || strings.Count(stderr, "note: the recording") != min(len(tc.note), 1) || !strings.Contains(stderr, tc.note) {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant %q", filepath.Base(tc.script), code, stderr, tc.note)
		}
	}
}
