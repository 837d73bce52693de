package abi

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// tracefsAvailable reports whether the syscall tracepoint formats can be
// read, mounting tracefs if needed, and why not.
func tracefsAvailable() (bool, string) {
	for _, d := range []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"} {
		if _, err := os.Stat(filepath.Join(d, "events/syscalls/sys_enter_openat/format")); err == nil {
			return true, ""
		}
	}
	out, err := exec.Command("mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing").CombinedOutput()
	if err != nil {
		return false, "tracefs is not mounted and cannot be mounted (" + err.Error() + ": " + string(bytes.TrimSpace(out)) + "); needs root and a kernel with CONFIG_FTRACE_SYSCALLS"
	}
	if _, err := os.Stat("/sys/kernel/tracing/events/syscalls/sys_enter_openat/format"); err != nil {
		return false, "tracefs has no syscall tracepoints (kernel without CONFIG_FTRACE_SYSCALLS)"
	}
	return true, ""
}

// TestGeneratedUpToDate reruns the generator and compares its output with
// the committed files.
func TestGeneratedUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator")
	}
	if ok, why := tracefsAvailable(); !ok {
		t.Skip(why)
	}
	dir := t.TempDir()
	out, test := filepath.Join(dir, "zsyscalls_amd64.go"), filepath.Join(dir, "zsysnum_amd64_test.go")
	cmd := exec.Command("go", "run", "./internal/mkabi", "-o", out, "-test", test)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mkabi: %v\n%s", err, b)
	}
	for _, pair := range [][2]string{{out, "zsyscalls_amd64.go"}, {test, "zsysnum_amd64_test.go"}} {
		got, err := os.ReadFile(pair[0])
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(pair[1])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is out of date (or this kernel's tracepoints differ): run go generate ./tracer/abi", pair[1])
		}
	}
}
