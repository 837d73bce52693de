package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hermes-trace/hermes/internal/testbin"
)

func TestInjectCLI(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.lua")
	bad := filepath.Join(dir, "bad.lua")
	badTrap := filepath.Join(dir, "badtrap.lua")
	os.WriteFile(good, []byte("hermes.trap{\"openat\"}\nfunction on_syscall(ev)\n  if ev.path == \"/etc/hostname\" then return hermes.deny(hermes.ENOENT) end\nend\n"), 0o644)
	os.WriteFile(bad, []byte("function on_syscall(ev)\n  return (\nend\n"), 0o644)
	os.WriteFile(badTrap, []byte("hermes.trap{\"openat\", \"frobnicate\"}\n"), 0o644)
	files := testbin.C(t, "files")
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"check ok", []string{"check", good}, 0, good + ": ok\n", ""},
		{"check syntax error", []string{"check", bad}, 125, "", "bad.lua:"},
		{"check unknown trap", []string{"check", badTrap}, 125, "", "badtrap.lua:1"},
		{"check builtin", []string{"check", "builtin:enospc"}, 0, "builtin:enospc: ok\n", ""},
		{"broken script stops before the target", []string{"trace", "--inject", bad, "--", files, "/etc/hostname"}, 125, "", "bad.lua:"},
		{"script denies", []string{"trace", "-o", os.DevNull, "--inject", good, "--", files, "/etc/hostname"}, 1, "", "/etc/hostname: No such file or directory"},
		{"strace inject", []string{"trace", "-o", os.DevNull, "-e", "inject=openat:error=EACCES:when=3", "--", files, "/etc/hostname"}, 1, "", "Permission denied"},
		{"strace inject bad", []string{"trace", "-e", "inject=openat:error=EFOO", "--", "true"}, 125, "", "EFOO"},
		{"param without inject", []string{"trace", "--param", "a=b", "--", "true"}, 125, "", "--param needs --inject"},
		{"seed repeatable", []string{"trace", "-o", os.DevNull, "--seed", "42", "--inject", good, "--", "true"}, 0, "", "seed 42"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := hermes(t, tc.args...)
			if code != tc.code || (tc.stdout != "" && stdout != tc.stdout) || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, stdout, stderr, tc.code, tc.stdout, tc.stderr)
			}
			if strings.Contains(stderr, "goroutine ") {
				t.Fatalf("stack trace: %s", stderr)
			}
		})
	}
}
