package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hermes-trace/hermes/internal/testbin"
)

// TestArgRegistersGivenBack: a call whose arguments a script changed
// gives the program back its registers as it left them (the kernel
// preserves them, and compiled code counts on it), and a brk failed by a
// rule fails the kernel's way (the break unchanged), which glibc's malloc
// survives by going on with mmap. Before, testdata/c/argregs saw the
// changed values after its getppid, and died of SIGSEGV where the third
// brk got -ENOMEM: no kernel returns that as a break, and glibc took it
// for a successful one.
func TestArgRegistersGivenBack(t *testing.T) {
	bin := testbin.C(t, "argregs")
	script := filepath.Join(t.TempDir(), "args.lua")
	if err := os.WriteFile(script, []byte(`function on_syscall(c)
  if c.name == "getppid" then for i = 1, 6 do hermes.modify_arg(i, 7) end end
end
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"modify_arg", []string{"--inject", script}},
		{"brk ENOMEM", []string{"-e", "inject=brk:error=ENOMEM:when=3"}},
		{"every brk ENOMEM", []string{"-e", "inject=brk:error=ENOMEM"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{"trace", "-o", os.DevNull}, tc.args...), "--", bin)
			out, stderr, code := hermes(t, args...)
			if code != 0 || out != "kept\nmalloc ok\n" {
				t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, out, stderr)
			}
		})
	}
}
