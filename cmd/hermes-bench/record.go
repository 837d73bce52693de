package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/hermes-trace/hermes/format"
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
	workloads := []struct {
		name string
		argv []string
	}{
		{"getppid loop (100000)", []string{loop, "100000", "getppid"}},
		{"python3 -c pass", []string{python, "-c", "pass"}},
		{"gcc -c small.c", []string{"gcc", "-c", "-o", filepath.Join(tmp, "small.o"), src}},
		{"find /usr/share", []string{"find", "/usr/share"}},
	}
	for _, w := range workloads {
		// replay runs the trace the hermes run just before it wrote.
		med, err := table("record: "+w.name, runs, 0, []variant{
			{"native", w.argv},
			{"strace", append([]string{strace, "-f", "--seccomp-bpf", "-o", text}, w.argv...)},
			{"strace1", append([]string{taskset, "-c", "0", strace, "-f", "--seccomp-bpf", "-o", text}, w.argv...)},
			{"hermes", append([]string{hermes, "record", "-o", trace, "--"}, w.argv...)},
			{"replay", []string{hermes, "replay", trace}},
		}, "")
		if err != nil {
			return err
		}
		fmt.Printf("  replay/record: %.2fx\n", float64(med[4])/float64(med[3]))
		// The files of the last runs: bytes per syscall.
		events, err := countEvents(trace)
		if err != nil {
			return err
		}
		lines, err := countCalls(text)
		if err != nil {
			return err
		}
		zst := text + ".zst"
		if out, err := exec.Command("zstd", "-1", "-q", "-f", text, "-o", zst).CombinedOutput(); err != nil {
			return fmt.Errorf("zstd: %v\n%s", err, out)
		}
		tf, _ := os.Stat(trace)
		zf, _ := os.Stat(zst)
		hb := float64(tf.Size()) / float64(max(events, 1))
		sb := float64(zf.Size()) / float64(max(lines, 1))
		fmt.Printf("  size: hermes %d B for %d events = %.2f B/event; strace text zstd -1 %d B for %d calls = %.2f B/call; ratio %.1fx\n\n",
			tf.Size(), events, hb, zf.Size(), lines, sb, hb/sb)
	}
	return nil
}

func countEvents(path string) (int, error) {
	r, err := format.Open(path)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	n := 0
	for {
		ev, err := r.Next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if ev.GetSyscall() != nil {
			n++
		}
	}
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
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		l := s.Text()
		if strings.Contains(l, "(") && !strings.Contains(l, "--- ") && !strings.Contains(l, "+++ ") && !strings.Contains(l, "resumed>") {
			n++
		}
	}
	return n, s.Err()
}
