package record_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/internal/testbin"
	"github.com/hermes-trace/hermes/record"
	"github.com/hermes-trace/hermes/tracer"
	"golang.org/x/sys/unix"
)

// recordStacks records argv with opts and returns the frames of its
// write(2) calls, in order, and whether any other call had frames.
func recordStacks(t *testing.T, opts record.Options, argv ...string) (writes [][]string, others int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.trace")
	w, err := format.Create(path, &tracepb.TraceHeader{Argv: argv, Arch: "x86_64"}, format.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec := record.New(w, opts)
	devnull, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	defer devnull.Close()
	if _, err := tracer.New(tracer.Config{Handlers: []tracer.Handler{rec}, Stdout: devnull, Logf: t.Logf}).Launch(argv); err != nil {
		t.Fatal(err)
	}
	if err := rec.Err(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, ev := range readAll(t, path) {
		s := ev.GetSyscall()
		if s == nil {
			continue
		}
		if s.Arch == tracepb.Arch_ARCH_X86_64 && s.Nr == unix.SYS_WRITE {
			writes = append(writes, s.Frames)
		} else if len(s.Frames) > 0 {
			others++
		}
	}
	return writes, others
}

// hasFrame reports whether frames has one starting with prefix.
func hasFrame(frames []string, prefix string) bool {
	return slices.ContainsFunc(frames, func(f string) bool { return strings.HasPrefix(f, prefix) })
}

// TestStacksC records testdata/c/explorestack with Options.Stacks: its two
// writes, made by save, have frames naming save first, then (for the
// second) relay, then main; the strings are the same in a second
// recording (ASLR moves everything, the frames do not change).
func TestStacksC(t *testing.T) {
	bin := testbin.C(t, "explorestack")
	opts := record.Options{Stacks: true}
	w1, others := recordStacks(t, opts, bin)
	if len(w1) != 2 {
		t.Fatalf("%d writes recorded, want 2", len(w1))
	}
	if others == 0 {
		t.Errorf("no call but the writes has frames")
	}
	for i, fr := range w1 {
		if len(fr) == 0 || !strings.HasPrefix(fr[0], "explorestack:save+0x") {
			t.Fatalf("write %d: frames %q, want explorestack:save+0x... first", i, fr)
		}
		if !hasFrame(fr, "explorestack:main+0x") {
			t.Errorf("write %d: frames %q name no explorestack:main", i, fr)
		}
		if len(fr) > record.DefaultStackDepth {
			t.Errorf("write %d: %d frames, over the default depth %d", i, len(fr), record.DefaultStackDepth)
		}
	}
	if len(w1[1]) < 3 || !strings.HasPrefix(w1[1][1], "explorestack:relay+0x") {
		t.Errorf("second write: frames %q, want explorestack:relay second", w1[1])
	}
	if slices.Equal(w1[0], w1[1]) {
		t.Errorf("the two call sites have the same frames %q", w1[0])
	}
	w2, _ := recordStacks(t, opts, bin)
	if !slices.EqualFunc(w1, w2, slices.Equal) {
		t.Errorf("frames differ between recordings:\n%q\n%q", w1, w2)
	}
	// A depth of 1 keeps the innermost frame only.
	w3, _ := recordStacks(t, record.Options{Stacks: true, StackDepth: 1}, bin)
	if len(w3) != 2 || len(w3[0]) != 1 || w3[0][0] != w1[0][0] {
		t.Errorf("StackDepth 1: frames %q, want [[%q] ...]", w3, w1[0][0])
	}
}

// TestStacksGo records testdata/go/gohello with Options.Stacks: the write
// of its greeting has frames through the runtime's syscall code up to
// main.main, the same in two recordings.
func TestStacksGo(t *testing.T) {
	bin := testbin.Go(t, "gohello")
	opts := record.Options{Stacks: true, StackDepth: 16}
	var runs [2][]string
	for i := range runs {
		writes, _ := recordStacks(t, opts, bin)
		if len(writes) != 1 {
			t.Fatalf("%d writes recorded, want 1", len(writes))
		}
		runs[i] = writes[0]
		if !hasFrame(writes[0], "gohello:main.main+0x") {
			t.Fatalf("frames %q name no gohello:main.main", writes[0])
		}
	}
	if !slices.Equal(runs[0], runs[1]) {
		t.Errorf("frames differ between recordings:\n%q\n%q", runs[0], runs[1])
	}
}

// TestNoStacks: without Options.Stacks no call has frames.
func TestNoStacks(t *testing.T) {
	writes, others := recordStacks(t, record.Options{}, testbin.C(t, "explorestack"))
	if len(writes) != 2 || others != 0 || len(writes[0]) != 0 || len(writes[1]) != 0 {
		t.Errorf("frames recorded without Stacks: writes %q, %d other calls", writes, others)
	}
}
