package main

import (
	"bufio"
	"fmt"
	"github.com/hermes-trace/hermes/format/recorded"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/format/tracepb"
)

// recordTables compares hermes record with strace writing its text to a
// file, in time, and in bytes per syscall against strace's text compressed
// with zstd -1.
func recordTables(runs int, tmp, hermes, strace, taskset, loop string) error {
	python := "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		if python, err = exec.LookPath("python3"); err != nil {
			return fmt.Errorf("python3 not found")
		}
	}
	src := filepath.Join(tmp, "small.c")
	if err := os.WriteFile(src, []byte("#include <stdio.h>\nint main(void) { puts(\"hi\"); return 0; }\n"), 0o644); err != nil {
		return err
	}
	trace := filepath.Join(tmp, "bench.trace")
	text := filepath.Join(tmp, "bench.strace")
	// A workload that writes files: tar of a few hundred, into an archive
	// that a run before it left (so record keeps its pre-image, and replay
	// restores it).
	tree := filepath.Join(tmp, "tree")
	for i := range 300 {
		if err := os.MkdirAll(tree, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(tree, fmt.Sprintf("f%03d", i)), []byte(strings.Repeat("x", 1024+i)), 0o644); err != nil {
			return err
		}
	}
	workloads := []struct {
		name string
		argv []string
	}{
		{"getppid loop (100000)", []string{loop, "100000", "getppid"}},
		{"python3 -c pass", []string{python, "-c", "pass"}},
		{"gcc -c small.c", []string{"gcc", "-c", "-o", filepath.Join(tmp, "small.o"), src}},
		{"find /usr/share", []string{"find", "/usr/share"}},
		{"tar cf of 300 files", []string{"tar", "cf", filepath.Join(tmp, "tree.tar"), "-C", tmp, "tree"}},
	}
	for _, w := range workloads {
		// replay runs the trace the hermes run just before it wrote.
		med, err := table("record: "+w.name, runs, 0, []variant{
			{"native", w.argv},
			{"strace", append([]string{strace, "-f", "--seccomp-bpf", "-o", text}, w.argv...)},
			{"strace1", append([]string{taskset, "-c", "0", strace, "-f", "--seccomp-bpf", "-o", text}, w.argv...)},
			{"hermes", append([]string{hermes, "record", "-o", trace, "--"}, w.argv...)},
			{"replay", []string{hermes, "replay", trace}},
			{"no-pre", append([]string{hermes, "record", "--no-preimages", "-o", trace + ".nopre", "--"}, w.argv...)},
		}, "")
		if err != nil {
			return err
		}
		fmt.Printf("  replay/record: %.2fx; record with pre-images / without: %.2fx\n", float64(med[4])/float64(med[3]), float64(med[3])/float64(med[5]))
		// The files of the last runs: bytes per syscall.
		hdr, evs, events, err := loadTrace(trace)
		if err != nil {
			return err
		}
		lines, err := countCalls(text)
		if err != nil {
			return err
		}
		zsize, err := zstdSize(text)
		if err != nil {
			return err
		}
		tf, err := os.Stat(trace)
		if err != nil {
			return err
		}
		hb := float64(tf.Size()) / float64(max(events, 1))
		sb := float64(zsize) / float64(max(lines, 1))
		fmt.Printf("  size: hermes %d B for %d events = %.2f B/event; strace text zstd -1 %d B for %d calls = %.2f B/call; ratio %.1fx\n",
			tf.Size(), events, hb, zsize, lines, sb, hb/sb)
		// strace keeping what a trace keeps, registers aside: times,
		// durations, whole buffers and structures (one run, not timed).
		full := text + ".full"
		if out, err := exec.Command(strace, append([]string{"-f", "-ttt", "-T", "-v", "-s", "1048576", "-o", full}, w.argv...)...).CombinedOutput(); err != nil {
			return fmt.Errorf("strace -v -s 1048576: %w\n%s", err, out)
		}
		fullCalls, err := countCalls(full)
		if err != nil {
			return err
		}
		fullZst, err := zstdSize(full)
		if err != nil {
			return err
		}
		fb := float64(fullZst) / float64(max(fullCalls, 1))
		fmt.Printf("  against strace -ttt -T -v -s 1048576 (times and whole buffers, no registers), zstd -1: %.2f B/call; ratio %.2fx\n", fb, hb/fb)
		parts, err := sizeBreakdown(hdr, evs, events, filepath.Join(tmp, "part.trace"))
		if err != nil {
			return err
		}
		fmt.Printf("  of which (B/event, by re-encoding without it): registers %.2f, times %.2f, captured memory %.2f (read, pread, readv and getdents out-buffers %.2f); 2x strace is %.2f\n\n",
			parts[0], parts[1], parts[2], parts[3], 2*sb)
	}
	return nil
}

// zstdSize compresses path with zstd -1 and returns the compressed size.
func zstdSize(path string) (int64, error) {
	zst := path + ".zst"
	if out, err := exec.Command("zstd", "-1", "-q", "-f", path, "-o", zst).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("zstd -1 %s: %w\n%s", path, err, out)
	}
	defer os.Remove(zst)
	fi, err := os.Stat(zst)
	if err != nil {
		return 0, fmt.Errorf("zstd output: %w", err)
	}
	return fi.Size(), nil
}

// loadTrace reads a whole trace: its header, its events, and how many of
// them are syscalls.
func loadTrace(path string) (*tracepb.TraceHeader, []*tracepb.Event, int, error) {
	hdr, evs, _, err := format.ReadFile(path)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("read back: %w", err)
	}
	n := 0
	for _, ev := range evs {
		if ev.GetSyscall() != nil {
			n++
		}
	}
	return hdr, evs, n, nil
}

// countCalls counts the syscall lines of strace output (a call split in
// <unfinished ...> and resumed counts once).
func countCalls(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	s := bufio.NewScanner(f)
	// strace -s 1048576 writes a 1 MiB buffer as up to 4 MiB of escapes.
	s.Buffer(make([]byte, 1<<20), 64<<20)
	for s.Scan() {
		l := s.Text()
		if strings.Contains(l, "(") && !strings.Contains(l, "--- ") && !strings.Contains(l, "+++ ") && !strings.Contains(l, "resumed>") {
			n++
		}
	}
	return n, s.Err()
}

// sizeBreakdown says how many bytes per syscall event each part of a trace
// (hdr, evs, of which syscalls are syscalls) costs after compression: it
// writes the events again without the part (into scratch) and compares.
// The parts: registers, times, all captured memory, and what read,
// pread, readv and getdents returned (mostly file and directory data).
func sizeBreakdown(hdr *tracepb.TraceHeader, evs []*tracepb.Event, syscalls int, scratch string) ([4]float64, error) {
	var out [4]float64
	reads := map[string]bool{"read": true, "pread64": true, "readv": true, "preadv": true, "preadv2": true, "getdents64": true, "getdents": true}
	drops := [...]func(*tracepb.Event){
		func(ev *tracepb.Event) {
			if s := ev.GetSyscall(); s != nil {
				s.Regs, s.ExitRegs = nil, nil
			}
		},
		func(ev *tracepb.Event) {
			if s := ev.GetSyscall(); s != nil {
				s.EnterNs, s.ExitNs = 0, 0
			} else if p := ev.GetProcess(); p != nil {
				p.TimeNs = 0
			}
		},
		func(ev *tracepb.Event) {
			if s := ev.GetSyscall(); s != nil {
				s.Mem = nil
			}
		},
		func(ev *tracepb.Event) {
			// Out-buffers of reads that name a file by fd: which ones
			// were files is not in the trace, so every such read counts
			// (pipes and ttys too): an upper bound.
			if s := ev.GetSyscall(); s != nil && reads[recorded.Name(s)] {
				s.Mem = slices.DeleteFunc(s.Mem, func(m *tracepb.Mem) bool { return m.Kind == tracepb.MemKind_MEM_KIND_OUT })
			}
		},
	}
	full, err := rewrite(scratch, hdr, evs, nil)
	if err != nil {
		return out, err
	}
	for i, drop := range drops {
		n, err := rewrite(scratch, hdr, evs, drop)
		if err != nil {
			return out, err
		}
		out[i] = float64(full-n) / float64(max(syscalls, 1))
	}
	os.Remove(scratch)
	return out, nil
}

// rewrite writes evs, each changed by drop, to a trace at path, cutting
// chunks by size only, and returns its size.
func rewrite(path string, hdr *tracepb.TraceHeader, evs []*tracepb.Event, drop func(*tracepb.Event)) (int64, error) {
	w, err := format.Create(path, hdr, format.WriterOptions{FlushInterval: -1})
	if err != nil {
		return 0, fmt.Errorf("re-encode: %w", err)
	}
	for _, ev := range evs {
		if drop != nil {
			ev = proto.Clone(ev).(*tracepb.Event)
			drop(ev)
		}
		if err := w.Append(ev); err != nil {
			w.Close()
			return 0, fmt.Errorf("re-encode: %w", err)
		}
	}
	if err := w.Close(); err != nil {
		return 0, fmt.Errorf("re-encode: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("re-encode: %w", err)
	}
	return fi.Size(), nil
}
