package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hermes-trace/hermes/internal/testbin"
)

// The tests in this file try, as a hostile or merely unusual program would,
// to get around a policy or a recording, or to tell that hermes is there
// (testdata/c/escape.c). Each failed on the code before the tracer's guard.

// openDir makes a directory that every user can enter (t.TempDir's
// parent is private to root), with mode.
func openDir(t *testing.T, mode os.FileMode) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hermes-escape")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
	return dir
}

// secretFile writes a file the policies under test must keep from the
// target, readable by everyone (so that only hermes stands in the way).
func secretFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(openDir(t, 0o755), "secret.txt")
	if err := os.WriteFile(p, []byte("THE-SECRET\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// runFor runs hermes with a deadline: a run that hangs fails the test
// instead of the whole package.
func runFor(t *testing.T, d time.Duration, name string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	out, errOut, code := runCommand(t, cmd)
	if ctx.Err() != nil {
		t.Fatalf("%s %s: still running after %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), d, out, errOut)
	}
	return out, errOut, code
}

// TestNoWayAroundPolicy: a user-notification filter answered by another
// thread, a CLONE_UNTRACED child, and a CLONE_UNTRACED child that
// ptraces its own child: the denied file stays denied, and the refusal
// is said on stderr and kept in the trace.
func TestNoWayAroundPolicy(t *testing.T) {
	bin := testbin.C(t, "escape")
	secret := secretFile(t)
	cases := []struct {
		mode   string
		want   []string
		stderr string
	}{
		{"notif", []string{"filter: EINVAL", "main open: EACCES"}, "user-notification listener refused"},
		{"untraced", []string{"child open: EACCES"}, ""},
		{"nested", []string{"seize: EPERM", "grandchild open: EACCES"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.mode, func(t *testing.T) {
			native, _ := exec.Command(bin, tc.mode, secret).Output()
			if !strings.Contains(string(native), "THE-SECRET") {
				t.Skipf("natively the program does not read the file (%q): nothing to escape", native)
			}
			out, errOut, code := runFor(t, time.Minute, hermesBin, "trace", "-o", os.DevNull,
				"--inject", "builtin:deny-path", "--param", "prefix="+secret, "--", bin, tc.mode, secret)
			if code != 0 || strings.Contains(out, "THE-SECRET") {
				t.Fatalf("exit %d, the secret got out:\n%s\nstderr:\n%s", code, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w+"\n") {
					t.Errorf("want %q in the output:\n%s", w, out)
				}
			}
			if tc.stderr != "" && !strings.Contains(errOut, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, errOut)
			}
		})
	}

	// In the trace: the refused filter and clone3 are there with hermes's
	// answer (not as injected faults), and replay reproduces them.
	dir := t.TempDir()
	for _, mode := range []string{"notif", "clone3"} {
		tr := filepath.Join(dir, mode+".trace")
		if _, errOut, code := hermes(t, "record", "-o", tr, "--", bin, mode, secret); code != 0 {
			t.Fatalf("record %s: exit %d\n%s", mode, code, errOut)
		}
		dump, _, _ := hermes(t, "dump", tr)
		call := map[string]string{"notif": "seccomp(SECCOMP_SET_MODE_FILTER", "clone3": "clone3("}[mode]
		ret := map[string]string{"notif": "= -1 EINVAL", "clone3": "= -1 ENOSYS"}[mode]
		found := false
		for _, line := range strings.Split(dump, "\n") {
			if strings.Contains(line, call) && strings.Contains(line, ret) && !strings.Contains(line, "INJECTED") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no %s...) %s line in the dump:\n%s", mode, call, ret, dump)
		}
		if _, errOut, code := hermes(t, "replay", tr); code != 0 || !strings.Contains(errOut, "no divergence") {
			t.Errorf("replay %s: exit %d\n%s", mode, code, errOut)
		}
	}
}

// TestNarrowTrapsStillGuard: with a trap set that leaves clone and clone3
// out, a CLONE_UNTRACED child is still traced (before, it hung with ENOSYS
// for every trapped call) and clone3 falls back to clone.
func TestNarrowTrapsStillGuard(t *testing.T) {
	bin := testbin.C(t, "escape")
	cases := []struct{ mode, want string }{
		{"untraced", "child read: "},
		{"nested", "grandchild read: "},
		{"clone3", "clone3: ENOSYS, fork\n"},
	}
	for _, tc := range cases {
		t.Run(tc.mode, func(t *testing.T) {
			text := filepath.Join(t.TempDir(), "out.txt")
			out, errOut, code := runFor(t, time.Minute, hermesBin, "trace", "-o", text, "-e", "trace=openat", "--", bin, tc.mode, "/etc/hostname")
			if code != 0 || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, want %q:\n%s\nstderr:\n%s", code, tc.want, out, errOut)
			}
			data, _ := os.ReadFile(text)
			if tc.mode != "clone3" && !strings.Contains(string(data), `openat(AT_FDCWD, "/etc/hostname"`) {
				t.Errorf("the child's openat is not in the trace:\n%s", data)
			}
			if strings.Contains(string(data), "clone") {
				t.Errorf("calls outside -e trace= are printed:\n%s", data)
			}
		})
	}
}

// TestOwnTraceFilter: a filter of the target's that returns
// SECCOMP_RET_TRACE fails the call with ENOSYS without a tracer; under
// hermes it must too, not run it as if the stop were hermes's.
func TestOwnTraceFilter(t *testing.T) {
	bin := testbin.C(t, "escape")
	native, _ := exec.Command(bin, "tracefilter").Output()
	if string(native) != "getppid: ENOSYS\n" {
		t.Skipf("natively: %q", native)
	}
	for _, args := range [][]string{{"trace", "-o", os.DevNull}, {"record", "-o", filepath.Join(t.TempDir(), "t.trace")}} {
		out, errOut, code := hermes(t, append(args, "--", bin, "tracefilter")...)
		if code != 0 || out != string(native) {
			t.Errorf("%s: exit %d, output %q, natively %q\n%s", args[0], code, out, native, errOut)
		}
	}
}

// nobody returns a command running name as the user nobody, and copies
// of the hermes and escape binaries nobody can run; it skips when that
// is impossible.
func nobody(t *testing.T) (run func(args ...string) *exec.Cmd, hermesCopy, escapeCopy string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to become nobody")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("no setpriv")
	}
	dir := openDir(t, 0o755)
	for _, src := range []string{hermesBin, testbin.C(t, "escape")} {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(src)), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	run = func(args ...string) *exec.Cmd {
		return exec.Command(setpriv, append([]string{"--reuid=65534", "--regid=65534", "--clear-groups"}, args...)...)
	}
	return run, filepath.Join(dir, "hermes"), filepath.Join(dir, "escape")
}

// withTarget appends "-- target..." to hermes's arguments, except for a
// replay, which runs what its trace says.
func withTarget(args []string, target ...string) []string {
	if args[0] == "replay" {
		return args
	}
	return append(append(args, "--"), target...)
}

// TestFilterInvisible: what the target sees of seccomp and no_new_privs
// (prctl and /proc/self/status) is what it sees natively, before and after
// it installs a filter of its own, as root and as an unprivileged user;
// and a filter install that needs NO_NEW_PRIVS fails as natively.
func TestFilterInvisible(t *testing.T) {
	bin := testbin.C(t, "escape")
	check := func(t *testing.T, native []byte, run func(args ...string) (string, string, int)) {
		dir := openDir(t, 0o777)
		tr := filepath.Join(dir, "r.trace")
		for _, args := range [][]string{{"record", "-o", tr}, {"replay", tr}} {
			out, errOut, code := run(args...)
			if code != 0 || out != string(native) {
				t.Errorf("%s: exit %d, the target saw\n%s\nnatively\n%s\nstderr:\n%s", args[0], code, out, native, errOut)
			}
		}
		// trace does not rewrite /proc reads, but prctl answers as
		// natively, even with only openat trapped.
		out, _, _ := run("trace", "-o", os.DevNull, "-e", "trace=openat")
		prctlOf := func(s string) string {
			var b strings.Builder
			for _, f := range strings.Fields(s) {
				if strings.HasPrefix(f, "PR_GET_") {
					b.WriteString(f + " ")
				}
			}
			return b.String()
		}
		if prctlOf(out) != prctlOf(string(native)) {
			t.Errorf("trace -e trace=openat: prctl answers\n%s\nnatively\n%s", out, native)
		}
	}
	t.Run("root", func(t *testing.T) {
		native, err := exec.Command(bin, "seccomp").Output()
		if err != nil {
			t.Fatal(err)
		}
		check(t, native, func(args ...string) (string, string, int) {
			return hermes(t, withTarget(args, bin, "seccomp")...)
		})
	})
	t.Run("nobody", func(t *testing.T) {
		asNobody, h, esc := nobody(t)
		native, err := asNobody(esc, "seccomp").Output()
		if err != nil {
			t.Fatal(err)
		}
		check(t, native, func(args ...string) (string, string, int) {
			return runCommand(t, asNobody(append([]string{h}, withTarget(args, esc, "seccomp")...)...))
		})
		native, _ = asNobody(esc, "filternnp").Output()
		out, errOut, _ := runCommand(t, asNobody(h, "trace", "-o", os.DevNull, "--", esc, "filternnp"))
		if string(native) != "filter: EACCES\n" || out != string(native) {
			t.Errorf("a filter without NO_NEW_PRIVS: %q under hermes, %q natively\n%s", out, native, errOut)
		}
	})
}

// TestUnreadableMemoryFailsClosed: as an unprivileged user hermes cannot
// read the memory of a process that made itself non-dumpable; a policy
// that needs the path then denies the call (EPERM, with a warning) instead
// of letting it run unseen.
func TestUnreadableMemoryFailsClosed(t *testing.T) {
	asNobody, h, esc := nobody(t)
	secret := secretFile(t)
	out, errOut, code := runCommand(t, asNobody(h, "trace", "-o", os.DevNull, "--inject", "builtin:deny-path",
		"--param", "prefix="+secret, "--", esc, "dumpable", secret))
	if code != 0 || strings.Contains(out, "THE-SECRET") || !strings.Contains(out, "main open: EPERM") {
		t.Fatalf("exit %d:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "denied with EPERM") {
		t.Errorf("no warning on stderr:\n%s", errOut)
	}
}

// TestReplacementStringsInScratch: modify_arg with a string when the
// stack pointer is unmapped (before: the write failed and the original
// call ran) and on a nearly used-up 32 KiB makecontext stack (before: the
// string landed below the stack, over the guard area).
func TestReplacementStringsInScratch(t *testing.T) {
	bin := testbin.C(t, "escape")
	script := filepath.Join(t.TempDir(), "repl.lua")
	os.WriteFile(script, []byte(`hermes.trap{"openat"}
local long = "/" .. string.rep("./", 2000) .. "etc/hostname"
function on_syscall(ev)
  if ev.path == "/nonexistent/short" then hermes.modify_arg(2, "/etc/hostname") end
  if ev.path == "/nonexistent/long" then hermes.modify_arg(2, long) end
end
`), 0o644)
	host, err := os.ReadFile("/etc/hostname")
	if err != nil {
		t.Skip("no /etc/hostname")
	}
	first := strings.SplitN(string(host), "\n", 2)[0]
	cases := []struct {
		mode, path string
		want       []string
	}{
		{"badsp", "/nonexistent/short", []string{"badsp open: ok " + first}},
		{"smallstack", "/nonexistent/long", []string{"smallstack open: ok " + first, "guard: intact"}},
		{"smallstack", "/nonexistent/short", []string{"smallstack open: ok " + first, "guard: intact"}},
	}
	for _, tc := range cases {
		out, errOut, code := hermes(t, "trace", "-o", os.DevNull, "--inject", script, "--", bin, tc.mode, tc.path)
		for _, w := range tc.want {
			if code != 0 || !strings.Contains(out, w+"\n") {
				t.Errorf("%s %s: exit %d, want %q:\n%s\nstderr:\n%s", tc.mode, tc.path, code, w, out, errOut)
			}
		}
	}
}

// TestTraceeSignalsTracer: an attached program reads its TracerPid and
// sends SIGINT and SIGTERM there; hermes stays attached and the policy
// keeps holding.
func TestTraceeSignalsTracer(t *testing.T) {
	bin := testbin.C(t, "escape")
	secret := secretFile(t)
	target := exec.Command(bin, "sigtracer", secret)
	var out strings.Builder
	target.Stdout = &out
	if err := target.Start(); err != nil {
		t.Fatal(err)
	}
	defer target.Process.Kill()
	done := make(chan struct{})
	var errOut string
	var code int
	go func() {
		defer close(done)
		_, errOut, code = runFor(t, time.Minute, hermesBin, "trace", "-o", os.DevNull, "--inject", "builtin:deny-path",
			"--param", "prefix="+secret, "-p", strconv.Itoa(target.Process.Pid))
	}()
	target.Wait()
	<-done
	got := out.String()
	if !strings.Contains(got, "still traced: yes\n") || !strings.Contains(got, "main open: EACCES\n") || strings.Contains(got, "THE-SECRET") {
		t.Fatalf("hermes exit %d; the target said:\n%s\nhermes said:\n%s", code, got, errOut)
	}
	if !strings.Contains(errOut, "aimed at hermes") {
		t.Errorf("no notice on stderr:\n%s", errOut)
	}
}

// TestSetuidKeepsPrivileges: run by root, hermes does not set
// NO_NEW_PRIVS, so a setuid program run by an unprivileged user gets its
// privileges as natively.
func TestSetuidKeepsPrivileges(t *testing.T) {
	asNobody, _, esc := nobody(t)
	if err := os.Chmod(esc, 0o755|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	native, err := asNobody(esc, "euid").Output()
	if err != nil || string(native) != "euid 0\n" {
		t.Skipf("setuid does not work here natively (%q, %v): nosuid mount?", native, err)
	}
	cmd := asNobody(esc, "euid").Args
	out, errOut, code := hermes(t, append([]string{"trace", "-o", os.DevNull, "--"}, cmd...)...)
	if code != 0 || out != "euid 0\n" {
		t.Fatalf("exit %d, %q (natively %q)\n%s", code, out, native, errOut)
	}
}

// TestIOUringRefused: io_uring operations never pass through a system
// call, so record, replay and injection refuse io_uring_setup (ENOSYS, and
// the program falls back to plain calls) unless --allow-io-uring.
func TestIOUringRefused(t *testing.T) {
	bin := testbin.C(t, "escape")
	secret := secretFile(t)
	native, _ := exec.Command(bin, "iouring", secret).Output()
	if string(native) != "io_uring read: THE-SECRET\n" {
		t.Skipf("io_uring does not work here natively: %q", native)
	}
	dir := t.TempDir()
	tr := filepath.Join(dir, "u.trace")
	out, errOut, code := hermes(t, "record", "-o", tr, "--", bin, "iouring", secret)
	if code != 0 || out != "io_uring: ENOSYS\nmain read: THE-SECRET\n" || !strings.Contains(errOut, "--allow-io-uring") {
		t.Fatalf("record: exit %d\n%s\nstderr:\n%s", code, out, errOut)
	}
	if _, errOut, code := hermes(t, "replay", tr); code != 0 || !strings.Contains(errOut, "no divergence") {
		t.Errorf("replay: exit %d\n%s", code, errOut)
	}
	out, errOut, code = hermes(t, "trace", "-o", os.DevNull, "--inject", "builtin:deny-path", "--param", "prefix="+secret, "--", bin, "iouring", secret)
	if code != 0 || out != "io_uring: ENOSYS\nmain open: EACCES\n" {
		t.Errorf("trace --inject: exit %d\n%s\nstderr:\n%s", code, out, errOut)
	}
	out, errOut, code = hermes(t, "record", "--allow-io-uring", "-o", filepath.Join(dir, "a.trace"), "--", bin, "iouring", secret)
	if code != 0 || out != string(native) || !strings.Contains(errOut, "invisible to hermes") {
		t.Errorf("record --allow-io-uring: exit %d\n%s\nstderr:\n%s", code, out, errOut)
	}
	// Plain tracing changes nothing.
	if out, _, _ := hermes(t, "trace", "-o", os.DevNull, "--", bin, "iouring", secret); out != string(native) {
		t.Errorf("trace: %q, natively %q", out, native)
	}
}

// TestGuardAnswersPrintedPlain: the guard's own answers (clone3's ENOSYS,
// PR_GET_SECCOMP's 0) are what the program would see without hermes, not
// faults: trace prints them as the kernel's, without "(INJECTED".
func TestGuardAnswersPrintedPlain(t *testing.T) {
	bin := testbin.C(t, "escape")
	text := filepath.Join(t.TempDir(), "out.txt")
	out, errOut, code := runFor(t, time.Minute, hermesBin, "trace", "-o", text, "-e", "trace=clone3", "--", bin, "clone3", "/etc/hostname")
	if code != 0 || !strings.Contains(out, "clone3: ENOSYS") {
		t.Fatalf("exit %d:\n%s\nstderr:\n%s", code, out, errOut)
	}
	data, _ := os.ReadFile(text)
	if !strings.Contains(string(data), "clone3(") || !strings.Contains(string(data), "= -1 ENOSYS") {
		t.Fatalf("no clone3 line answered ENOSYS:\n%s", data)
	}
	if strings.Contains(string(data), "INJECTED") {
		t.Errorf("hermes's own answer is shown as an injected fault:\n%s", data)
	}
}
