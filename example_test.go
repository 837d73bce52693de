package hermes_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/hermes-trace/hermes"
	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/decode"
	"golang.org/x/sys/unix"
)

// Trace a command; its strace-like text goes to Output.
func ExampleTrace() {
	res, err := hermes.Trace(context.Background(), []string{"/bin/sh", "-c", "exit 3"},
		hermes.TraceOptions{Output: io.Discard, Syscalls: "%process"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("exit status", res.ExitCode)
	// Output: exit status 3
}

// Record a command under a built-in policy that fills the disk, then
// replay the trace: the replayed run sees the same failed write.
func ExampleRecord() {
	dir, err := os.MkdirTemp("", "hermes-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	trace := filepath.Join(dir, "run.trace")
	cmd := []string{"/bin/sh", "-c", "echo hello > " + filepath.Join(dir, "out") + " || exit 9"}
	res, err := hermes.Record(context.Background(), cmd, hermes.RecordOptions{
		Output: trace,
		Stderr: devNull(),
		Inject: hermes.Injection{
			Script: "builtin:enospc",
			Params: map[string]string{"prefix": dir},
			Seed:   42, SeedSet: true,
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("recorded: exit status", res.ExitCode, "injected", res.Injected, "seed", res.Seed)

	rep, err := hermes.Replay(context.Background(), trace, hermes.ReplayOptions{Stderr: devNull()})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("replayed: exit status", rep.ExitCode, "divergence", rep.Divergence != nil)
	// Output:
	// recorded: exit status 9 injected 1 seed 42
	// replayed: exit status 9 divergence false
}

// denyOpen fails every openat of one path with EACCES: a Go handler in
// place of a Lua script.
type denyOpen struct{ path string }

func (d denyOpen) Enter(sc *tracer.Syscall, act *tracer.Action) {
	if sc.Name() != "openat" {
		return
	}
	if p, _, err := decode.ReadString(sc.Mem(), sc.Args[1], 4096, nil); err == nil && string(p) == d.path {
		*act = tracer.Deny(unix.EACCES)
		act.By = "denyOpen"
	}
}

func (denyOpen) Exit(*tracer.Syscall, *tracer.Action) {}

// Trace a command with a Go handler that denies it a file.
func ExampleTrace_handler() {
	res, err := hermes.Trace(context.Background(), []string{"/bin/cat", "/etc/hostname"}, hermes.TraceOptions{
		Output: io.Discard,
		Stdout: devNull(),
		Stderr: devNull(),
		Inject: hermes.Injection{Handler: denyOpen{path: "/etc/hostname"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("exit status", res.ExitCode, "injected", res.Injected)
	// Output: exit status 1 injected 1
}

func devNull() *os.File {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		log.Fatal(err)
	}
	return f
}

// Explore tries the faults a command could meet, one at a time, each in a
// private view of the files, and judges each try.
func ExampleExplore() {
	dir, err := os.MkdirTemp("", "hermes-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	// A shell that writes a file and checks nothing: a failed write
	// leaves it short, and the check says so.
	rep, err := hermes.Explore(context.Background(), []string{"/bin/sh", "-c", "echo saved > out"}, hermes.ExploreOptions{
		Dir: dir, Out: filepath.Join(dir, "explore"), Check: `test "$(cat out)" = saved`,
		Faults: []string{"write:ENOSPC"}, Paths: []string{"out"}, PerSite: 1,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range rep.Tries {
		fmt.Println(t.Syscall, t.Fault, t.Outcome)
	}
	// Output:
	// write ENOSPC corrupt
}
