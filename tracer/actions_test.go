package tracer_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hermes-trace/hermes/internal/testbin"
	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/decode"
	"golang.org/x/sys/unix"
)

// pathArg reads the path argument i of sc.
func pathArg(sc *tracer.Syscall, i int) string {
	s, _, _ := decode.ReadString(sc.Mem(), sc.Args[i], 4096, nil)
	return string(s)
}

func TestActions(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.txt")
	b := filepath.Join(dir, "b.txt")
	os.WriteFile(a, []byte("contents of a\n"), 0o644)
	os.WriteFile(b, []byte("contents of b\n"), 0o644)
	hello := testbin.C(t, "hello")
	files := testbin.C(t, "files")
	emulFD, emulReads := int64(-1), 0
	isOpenOf := func(sc *tracer.Syscall, path string) bool {
		return sc.Name() == "openat" && pathArg(sc, 1) == path
	}
	for _, tc := range []struct {
		name    string
		argv    []string
		enter   func(sc *tracer.Syscall, act *tracer.Action)
		exit    func(sc *tracer.Syscall, act *tracer.Action)
		code    int
		stdout  string
		stderr  string // substring
		checkFn func(t *testing.T, r *recorder)
	}{
		{
			name: "deny", argv: []string{files, a},
			enter: func(sc *tracer.Syscall, act *tracer.Action) {
				if isOpenOf(sc, a) {
					*act = tracer.Deny(unix.EACCES)
				}
			},
			code: 1, stderr: a + ": Permission denied",
			checkFn: func(t *testing.T, r *recorder) {
				for _, c := range r.named("openat") {
					if strings.Contains(c.Text, a) && (!c.Skipped || c.Ret != -int64(unix.EACCES)) {
						t.Errorf("denied openat recorded as %+v", c)
					}
				}
			},
		},
		{
			name: "return", argv: []string{hello},
			enter: func(sc *tracer.Syscall, act *tracer.Action) {
				if sc.Name() == "write" {
					*act = tracer.Return(6)
				}
			},
			code: 0, stdout: "",
		},
		{
			name: "modify int argument", argv: []string{hello},
			enter: func(sc *tracer.Syscall, act *tracer.Action) {
				if sc.Name() == "write" {
					act.SetArgs = 1 << 2
					act.Args[2] = 3
				}
			},
			code: 100, stdout: "hel", // hello checks for a short write
		},
		{
			name: "rewrite path", argv: []string{files, a},
			enter: func(sc *tracer.Syscall, act *tracer.Action) {
				if isOpenOf(sc, a) {
					act.Strings = append(act.Strings, tracer.StringArg{Index: 1, Data: []byte(b)})
				}
			},
			code: 0, stdout: "contents of b\n",
		},
		{
			name: "emulate read", argv: []string{files, a},
			exit: func(sc *tracer.Syscall, act *tracer.Action) {
				if isOpenOf(sc, a) {
					emulFD = sc.Ret
				}
			},
			enter: func(sc *tracer.Syscall, act *tracer.Action) {
				if sc.Name() == "read" && int64(sc.Args[0]) == emulFD {
					emulReads++
					if emulReads == 1 {
						*act = tracer.Emulate(5, tracer.MemWrite{Addr: sc.Args[1], Data: []byte("EMUL\n")})
					} else {
						*act = tracer.Return(0)
					}
				}
			},
			code: 0, stdout: "EMUL\n",
			checkFn: func(t *testing.T, r *recorder) {
				if emulReads != 2 {
					t.Errorf("%d reads of the emulated fd, want 2", emulReads)
				}
			},
		},
		{
			name: "change return at exit", argv: []string{files, a},
			exit: func(sc *tracer.Syscall, act *tracer.Action) {
				if isOpenOf(sc, a) {
					act.Skip, act.Value = true, -int64(unix.EIO)
				}
			},
			code: 1, stderr: a + ": Input/output error",
		},
		{
			name: "signal", argv: []string{hello},
			enter: func(sc *tracer.Syscall, act *tracer.Action) {
				if sc.Name() == "write" {
					act.Signal = int(unix.SIGTERM)
				}
			},
			code: 143, stdout: "hello\n",
		},
		{
			name: "deny and signal", argv: []string{hello},
			enter: func(sc *tracer.Syscall, act *tracer.Action) {
				if sc.Name() == "write" {
					*act = tracer.Deny(unix.EIO)
					act.Signal = int(unix.SIGTERM)
				}
			},
			code: 143, stdout: "",
		},
		{
			name: "kill", argv: []string{hello},
			enter: func(sc *tracer.Syscall, act *tracer.Action) {
				if sc.Name() == "write" {
					act.Kill = true
				}
			},
			code: 137, stdout: "",
		},
		{
			name: "delay", argv: []string{hello},
			enter: func(sc *tracer.Syscall, act *tracer.Action) {
				if sc.Name() == "write" {
					act.Delay = 200 * time.Millisecond
				}
			},
			code: 0, stdout: "hello\n",
			checkFn: func(t *testing.T, r *recorder) {
				// A lower bound the delay guarantees, not a timing guess.
				w := r.named("write")
				if len(w) != 1 || w[0].Leave-w[0].Enter < int64(200*time.Millisecond) {
					t.Errorf("delayed write: %+v", w)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errf, _ := os.CreateTemp(t.TempDir(), "stderr")
			defer errf.Close()
			r := &recorder{enter: tc.enter, exit: tc.exit}
			res, out := run(t, r, tracer.Config{Stderr: errf}, tc.argv...)
			stderr, _ := os.ReadFile(errf.Name())
			if res.ExitCode != tc.code || out != tc.stdout || !strings.Contains(string(stderr), tc.stderr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d, %q, %q\n%s",
					res.ExitCode, out, stderr, tc.code, tc.stdout, tc.stderr, r.dump())
			}
			if tc.checkFn != nil {
				tc.checkFn(t, r)
			}
		})
	}
}
