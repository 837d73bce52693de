package main

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/internal/testbin"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"
)

// TestReplayHostileWrites replays crafted traces whose emulated
// clock_gettime carries memory to write outside the call's buffer: over
// the code that made the call (an int3 sled), or far past the 16 bytes of
// its struct timespec. Replay refuses with one line and exit 125, and
// writes nothing.
func TestReplayHostileWrites(t *testing.T) {
	bin := testbin.C(t, "nondet")
	dir := t.TempDir()
	trace := filepath.Join(dir, "nondet.trace")
	if _, stderr, code := hermesAt(t, dir, "record", "-o", trace, "--", bin); code != 0 {
		t.Fatalf("record: exit %d\n%s", code, stderr)
	}
	hdr, evs, _, err := format.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		craft func(s *tracepb.Syscall, m *tracepb.Mem)
	}{
		{"over its code", func(s *tracepb.Syscall, m *tracepb.Mem) {
			m.Addr = binary.LittleEndian.Uint64(s.Regs[16*8:]) &^ 0xf // rip
			m.Data = bytes.Repeat([]byte{0xcc}, 16)
		}},
		{"past its buffer", func(_ *tracepb.Syscall, m *tracepb.Mem) {
			m.Data = bytes.Repeat([]byte{0xcc}, 4096)
		}},
		{"at address zero", func(_ *tracepb.Syscall, m *tracepb.Mem) {
			m.Addr = 0x1000
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			crafted := filepath.Join(t.TempDir(), "crafted.trace")
			w, err := format.Create(crafted, hdr, format.WriterOptions{})
			if err != nil {
				t.Fatal(err)
			}
			done := false
			for _, ev := range evs {
				if s := ev.GetSyscall(); s != nil && !done && s.Nr == unix.SYS_CLOCK_GETTIME && s.Ret == 0 {
					for _, m := range s.Mem {
						if m.Kind == tracepb.MemKind_MEM_KIND_OUT && m.Arg == 1 {
							tc.craft(s, m)
							done = true
						}
					}
				}
				if err := w.Append(ev); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if !done {
				t.Fatal("the recording has no clock_gettime with its timespec captured")
			}
			_, stderr, code := hermesAt(t, dir, "replay", crafted)
			if code != exitError || !strings.Contains(stderr, "outside the buffers that call gives the kernel: refused") {
				t.Errorf("replay of a crafted trace: exit %d\n%s", code, stderr)
			}
			if strings.Contains(stderr, "SIGTRAP") || strings.Contains(stderr, "SIGSEGV") {
				t.Errorf("the target ran into what the trace wrote:\n%s", stderr)
			}
		})
	}
	// The trace as recorded still replays.
	if _, stderr, code := hermesAt(t, dir, "replay", trace); code != 0 {
		t.Errorf("replay of the real trace: exit %d\n%s", code, stderr)
	}
}

// TestReplayForeignEvent replays a trace recorded with -e trace=openat
// into which a write event was spliced: replay traps only what the header
// declares, so the event is refused with one line, exit 125.
func TestReplayForeignEvent(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "cat.trace")
	writeFile(t, filepath.Join(dir, "in"), "hello\n")
	if _, stderr, code := hermesAt(t, dir, "record", "-e", "trace=openat", "-o", trace, "--", "cat", "in"); code != 0 {
		t.Fatalf("record: exit %d\n%s", code, stderr)
	}
	hdr, evs, _, err := format.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	crafted := filepath.Join(dir, "crafted.trace")
	w, err := format.Create(crafted, hdr, format.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	spliced := false
	seq := uint64(0)
	appendEv := func(ev *tracepb.Event) {
		seq++
		if s := ev.GetSyscall(); s != nil {
			s.Seq = seq
		} else if p := ev.GetProcess(); p != nil {
			p.Seq = seq
		}
		if err := w.Append(ev); err != nil {
			t.Fatal(err)
		}
	}
	for _, ev := range evs {
		appendEv(ev)
		if s := ev.GetSyscall(); s != nil && !spliced {
			forged := proto.Clone(s).(*tracepb.Syscall)
			forged.Nr, forged.Ret, forged.Mem = unix.SYS_WRITE, 6, nil
			binary.LittleEndian.PutUint64(forged.Regs[15*8:], unix.SYS_WRITE)
			appendEv(&tracepb.Event{Kind: &tracepb.Event_Syscall{Syscall: forged}})
			spliced = true
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := hermesAt(t, dir, "replay", crafted)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	last := lines[len(lines)-1]
	if code != exitError || !strings.Contains(last, "hermes: the trace holds write") || !strings.Contains(last, "outside the set its header says was recorded") {
		t.Errorf("replay of a spliced trace: exit %d\n%s", code, stderr)
	}
	if strings.Contains(stderr, "diverged") {
		t.Errorf("a spliced event is not a divergence:\n%s", stderr)
	}
	if _, stderr, code := hermesAt(t, dir, "replay", trace); code != 0 {
		t.Errorf("replay of the real trace: exit %d\n%s", code, stderr)
	}
}
