package tracer_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hermes-trace/hermes/internal/testbin"
	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/decode"
	"golang.org/x/sys/unix"
)

// TestFDModel checks the fd table against what the program does: every
// read and write of `files` names the file it reads or writes, and the
// tracer's memory reads agree between process_vm_readv and PEEKDATA.
func TestFDModel(t *testing.T) {
	dir := t.TempDir()
	a, b, out := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "out")
	os.WriteFile(a, []byte("aaa\n"), 0o644)
	os.WriteFile(b, []byte("bbb\n"), 0o644)
	bin := testbin.C(t, "files")
	seen := map[string]string{}
	var mismatch []string
	r := &recorder{
		enter: func(sc *tracer.Syscall, act *tracer.Action) {
			switch sc.Name() {
			case "read", "write":
				fd := int(int32(sc.Args[0]))
				if fd >= 3 {
					seen[sc.Name()+" "+sc.Thread.Proc.FDPath(fd)] = sc.Name()
				}
			case "openat":
				s1, _, _ := decode.ReadString(sc.Mem(), sc.Args[1], 4096, nil)
				s2, err := tracer.PeekString(sc, sc.Args[1])
				if err != nil || string(s1) != s2 {
					mismatch = append(mismatch, string(s1)+" vs "+s2)
				}
			}
		},
	}
	res, stdout := run(t, r, tracer.Config{TrackFDs: true}, bin, "-w", out, a, b)
	if res.ExitCode != 0 || stdout != "aaa\nbbb\n" {
		t.Fatalf("exit %d, out %q", res.ExitCode, stdout)
	}
	for _, want := range []string{"read " + a, "read " + b, "write " + out} {
		if seen[want] == "" {
			t.Errorf("no %q seen; saw %v", want, seen)
		}
	}
	if len(mismatch) > 0 {
		t.Errorf("memory read paths disagree: %v", mismatch)
	}
	_ = unix.O_RDONLY
}
