package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/format/tracepb"
)

// writeGetpids writes a trace of n getpid calls in chunks of about 2 KiB,
// and returns its path and chunks.
func writeGetpids(t *testing.T, n int) (string, []format.ChunkInfo) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "getpid.trace")
	w, err := format.Create(path, &tracepb.TraceHeader{Argv: []string{"getpid"}, Arch: "x86_64"}, format.WriterOptions{ChunkSize: 2 << 10})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		regs := make([]byte, 216)
		regs[15*8] = 39 // orig_rax: getpid
		regs[16*8] = byte(i)
		ev := &tracepb.Event{Kind: &tracepb.Event_Syscall{Syscall: &tracepb.Syscall{
			Seq: uint64(i), Lineage: "1", Pid: 7, Tid: 7, Nr: 39, EnterNs: int64(i) * 1000, ExitNs: int64(i)*1000 + 500, Regs: regs, Ret: 7,
		}}}
		if err := w.Append(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if len(r.Chunks()) < 5 {
		t.Fatalf("%d chunks", len(r.Chunks()))
	}
	return path, r.Chunks()
}

// oneLine returns the one line of stderr, or fails.
func stderrLine(t *testing.T, stderr string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "hermes: ") {
		t.Fatalf("stderr is not one hermes line: %q", stderr)
	}
	return lines[0]
}

// A flipped byte in a middle chunk: dump prints every event of the other
// chunks, says in one line what was skipped, and exits 1; so does stats.
func TestDumpDamagedTrace(t *testing.T) {
	const n = 3000
	path, chunks := writeGetpids(t, n)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := chunks[len(chunks)/2]
	data[c.Offset+45+20] ^= 0x01 // a byte of its payload (the chunk header is 45 bytes)
	damaged := filepath.Join(t.TempDir(), "damaged.trace")
	if err := os.WriteFile(damaged, data, 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := hermes(t, "dump", damaged)
	lines := strings.Count(stdout, "getpid() = 7\n")
	line := stderrLine(t, stderr)
	if code != 1 || lines != n-int(c.Count) || !strings.Contains(line, "damaged trace") ||
		!strings.Contains(line, "skipped 1 damaged part") || !strings.Contains(line, strconv.Itoa(int(c.Count))+" events lost") {
		t.Fatalf("dump: exit %d, %d lines (want %d), stderr %q", code, lines, n-int(c.Count), stderr)
	}
	stdout, stderr, code = hermes(t, "stats", damaged)
	line = stderrLine(t, stderr)
	if code != 1 || !strings.Contains(stdout, strconv.Itoa(n-int(c.Count))+" events") || !strings.Contains(line, "damaged trace") {
		t.Fatalf("stats: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// A trace that ends early (no footer, the last chunk cut short, as a
// killed writer leaves it) is partial: printed as far as it goes, said
// so, exit 0.
func TestDumpTruncatedTrace(t *testing.T) {
	path, chunks := writeGetpids(t, 3000)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	last := chunks[len(chunks)-1]
	cut := filepath.Join(t.TempDir(), "cut.trace")
	if err := os.WriteFile(cut, data[:last.Offset+100], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"dump", "stats"} {
		stdout, stderr, code := hermes(t, cmd, cut)
		line := stderrLine(t, stderr)
		if code != 0 || !strings.Contains(line, "partial trace: recovered "+strconv.Itoa(int(last.FirstSeq-1))+" events") {
			t.Fatalf("%s: exit %d, stderr %q", cmd, code, stderr)
		}
		if cmd == "dump" && strings.Count(stdout, "\n") != int(last.FirstSeq-1) {
			t.Fatalf("dump printed %d lines, want %d", strings.Count(stdout, "\n"), last.FirstSeq-1)
		}
	}
}
