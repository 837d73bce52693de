// Command hermes-bench runs the same workloads natively, under strace and
// under hermes, side by side in one run, and prints the times and ratios.
// It is a benchmark, not a test: nothing here asserts a time.
//
//	go run ./cmd/hermes-bench [-runs 5] [-n 1000000]
//
// Workloads:
//
//   - untraced: a getppid loop while only openat is traced. The floor is a
//     bare C program that installs a one-rule seccomp filter and execs the
//     loop ("filter"): any filter at all puts getppid on the kernel's slow
//     entry path. hermes should add nothing to that floor.
//   - traced: the same loop with getppid traced: hermes's cost per trapped
//     call against strace's.
//   - chaos: a write loop where one write in 1000 fails with EIO, by
//     strace -e inject= and by a hermes Lua script (chaos.lua); "idle" is
//     hermes with a script that traps a call the loop never makes
//     (idle.lua), against the bare filter.
//   - fork/exec: a shell loop running /bin/true, everything traced.
//   - threads (alone with -threads-only): 4 threads making getpid and
//     write calls, recorded with and without --chaos and replayed with
//     --order=off, relaxed and strict: what ordered replay and chaos
//     scheduling cost.
//   - explore (alone with -explore-only): hermes explore on an sqlite3
//     insert with --jobs 1 and 2, in tries per second, against as many
//     native runs and strace -e inject= runs.
//   - record (alone with -record-only): hermes record and replay against
//     strace -f --seccomp-bpf -o FILE on a getppid loop, python3 -c pass, a
//     small gcc compile and find /usr/share; then trace bytes per syscall
//     against strace's text compressed with zstd -1, against strace -ttt
//     -T -v -s 1048576 (which keeps times and whole buffers, as a trace
//     does), and what registers, times and captured memory each cost in
//     the trace.
//
// hermes pins the tracer and its tracees to one CPU by default; "strace1"
// is strace under taskset -c 0 and "nopin" is hermes --no-pin, so that
// both tools are also compared on equal terms.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"time"
)

func main() {
	runs := flag.Int("runs", 5, "runs of each command; the median is reported")
	n := flag.Int("n", 3000000, "iterations of the untraced loop")
	nTraced := flag.Int("traced-n", 100000, "iterations of the traced loop")
	forks := flag.Int("forks", 200, "processes the fork/exec loop starts")
	nChaos := flag.Int("chaos-n", 200000, "writes of the chaos loop")
	recordOnly := flag.Bool("record-only", false, "run only the record and replay tables")
	exploreOnly := flag.Bool("explore-only", false, "run only the explore table")
	threadsOnly := flag.Bool("threads-only", false, "run only the threads table")
	threadIters := flag.Int("threads-n", 2000, "iterations of each thread of the threads workload")
	recordRuns := flag.Int("record-runs", 1, "runs of each record workload (find /usr/share is long under strace)")
	flag.Parse()
	if err := run(*runs, *n, *nTraced, *forks, *nChaos, *recordRuns, *threadIters, *recordOnly, *exploreOnly, *threadsOnly); err != nil {
		fmt.Fprintln(os.Stderr, "hermes-bench:", err)
		os.Exit(1)
	}
}

// variant is one way to run a workload.
type variant struct {
	name string
	argv []string
}

func run(runs, n, nTraced, forks, nChaos, recordRuns, threadIters int, recordOnly, exploreOnly, threadsOnly bool) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "hermes-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	hermes := filepath.Join(tmp, "hermes")
	if out, err := command(root, "go", "build", "-o", hermes, "./cmd/hermes").CombinedOutput(); err != nil {
		return fmt.Errorf("building hermes: %v\n%s", err, out)
	}
	loop := filepath.Join(tmp, "loop")
	filter := filepath.Join(tmp, "seccomp_exec")
	threads := filepath.Join(tmp, "threads")
	for bin, src := range map[string]string{loop: "loop.c", filter: "seccomp_exec.c", threads: "threads.c"} {
		if out, err := command(root, "gcc", "-O2", "-pthread", "-o", bin, filepath.Join("testdata/c", src)).CombinedOutput(); err != nil {
			return fmt.Errorf("building %s: %v\n%s", src, err, out)
		}
	}
	strace, err := exec.LookPath("strace")
	if err != nil {
		return errors.New("strace not found: apt-get install strace")
	}
	taskset, err := exec.LookPath("taskset")
	if err != nil {
		return errors.New("taskset not found: apt-get install util-linux")
	}
	fmt.Printf("hermes-bench: median of %d runs each; ratios against native (and against the bare filter where given)\n\n", runs)

	if exploreOnly {
		return exploreTable(tmp, hermes, strace)
	}
	if recordOnly {
		return recordTables(recordRuns, tmp, hermes, strace, taskset, loop)
	}
	if threadsOnly {
		return threadsTable(runs, tmp, hermes, strace, threads, 4, threadIters)
	}
	ns := strconv.Itoa(n)
	untraced := []string{loop, ns, "getppid"}
	if _, err := table(fmt.Sprintf("untraced getppid loop (%d calls, only openat traced)", n), runs, n, []variant{
		{"native", untraced},
		{"filter", append([]string{filter}, untraced...)},
		{"strace", append([]string{strace, "-f", "--seccomp-bpf", "-e", "trace=openat", "-o", "/dev/null"}, untraced...)},
		{"hermes", append([]string{hermes, "trace", "-e", "trace=openat", "-o", "/dev/null", "--"}, untraced...)},
	}, "filter"); err != nil {
		return err
	}

	ts := strconv.Itoa(nTraced)
	traced := []string{loop, ts, "getppid"}
	if _, err := table(fmt.Sprintf("traced getppid loop (%d calls)", nTraced), runs, nTraced, []variant{
		{"native", traced},
		{"strace", append([]string{strace, "-f", "--seccomp-bpf", "-e", "trace=getppid", "-o", "/dev/null"}, traced...)},
		{"strace1", append([]string{taskset, "-c", "0", strace, "-f", "--seccomp-bpf", "-e", "trace=getppid", "-o", "/dev/null"}, traced...)},
		{"hermes", append([]string{hermes, "trace", "-e", "trace=getppid", "-o", "/dev/null", "--"}, traced...)},
		{"nopin", append([]string{hermes, "trace", "--no-pin", "-e", "trace=getppid", "-o", "/dev/null", "--"}, traced...)},
	}, ""); err != nil {
		return err
	}

	ws := strconv.Itoa(nChaos)
	writes := []string{loop, ws, "write-any"}
	chaos := filepath.Join(root, "cmd/hermes-bench/chaos.lua")
	idle := filepath.Join(root, "cmd/hermes-bench/idle.lua")
	if _, err := table(fmt.Sprintf("chaos: write loop (%d writes), one in 1000 fails with EIO", nChaos), runs, nChaos, []variant{
		{"native", writes},
		{"filter", append([]string{filter}, writes...)},
		{"strace", append([]string{strace, "-f", "--seccomp-bpf", "-e", "trace=write", "-e", "inject=write:error=EIO:when=1000+1000", "-o", "/dev/null"}, writes...)},
		{"strace1", append([]string{taskset, "-c", "0", strace, "-f", "--seccomp-bpf", "-e", "trace=write", "-e", "inject=write:error=EIO:when=1000+1000", "-o", "/dev/null"}, writes...)},
		{"hermes", append([]string{hermes, "trace", "-e", "trace=none", "-o", "/dev/null", "--seed", "1", "--inject", chaos, "--"}, writes...)},
	}, "filter"); err != nil {
		return err
	}
	// A script that traps nothing the workload does must cost nothing per
	// call: long enough a loop that hermes's start-up (Go runtime, Lua,
	// fork) does not dominate.
	many := []string{loop, ns, "write-any"}
	if _, err := table(fmt.Sprintf("idle script: write loop (%d writes), the script traps mkdirat", n), runs, n, []variant{
		{"native", many},
		{"filter", append([]string{filter}, many...)},
		{"idle", append([]string{hermes, "trace", "-e", "trace=none", "-o", "/dev/null", "--seed", "1", "--inject", idle, "--"}, many...)},
	}, "filter"); err != nil {
		return err
	}

	if err := recordTables(recordRuns, tmp, hermes, strace, taskset, loop); err != nil {
		return err
	}
	if err := exploreTable(tmp, hermes, strace); err != nil {
		return err
	}
	if err := threadsTable(runs, tmp, hermes, strace, threads, 4, threadIters); err != nil {
		return err
	}

	sh := []string{"/bin/sh", "-c", fmt.Sprintf("i=0; while [ $i -lt %d ]; do /bin/true; i=$((i+1)); done", forks)}
	_, err = table(fmt.Sprintf("fork/exec shell loop (%d × /bin/true, everything traced)", forks), runs, 0, []variant{
		{"native", sh},
		{"strace", append([]string{strace, "-f", "--seccomp-bpf", "-o", "/dev/null"}, sh...)},
		{"strace1", append([]string{taskset, "-c", "0", strace, "-f", "--seccomp-bpf", "-o", "/dev/null"}, sh...)},
		{"hermes", append([]string{hermes, "trace", "-o", "/dev/null", "--"}, sh...)},
		{"nopin", append([]string{hermes, "trace", "--no-pin", "-o", "/dev/null", "--"}, sh...)},
	}, "")
	return err
}

// table runs the variants interleaved (so that a noisy moment hurts all of
// them alike) and prints medians and ratios.
func table(title string, runs, calls int, vs []variant, floor string) ([]time.Duration, error) {
	times := make([][]time.Duration, len(vs))
	for r := 0; r < runs; r++ {
		for i, v := range vs {
			d, err := timeIt(v.argv)
			if err != nil {
				return nil, fmt.Errorf("%s / %s: %w", title, v.name, err)
			}
			times[i] = append(times[i], d)
		}
	}
	fmt.Println(title)
	med := make([]time.Duration, len(vs))
	for i := range vs {
		med[i] = median(times[i])
	}
	var floorT time.Duration
	for i, v := range vs {
		if v.name == floor {
			floorT = med[i]
		}
	}
	for i, v := range vs {
		line := fmt.Sprintf("  %-8s %10.1f ms  %6.2fx native", v.name, ms(med[i]), float64(med[i])/float64(med[0]))
		if floorT > 0 && v.name != "native" {
			line += fmt.Sprintf("  %6.3fx filter", float64(med[i])/float64(floorT))
		}
		if calls > 0 && i > 0 {
			per := float64(med[i]-med[0]) / float64(calls) / 1e3
			line += fmt.Sprintf("  %+7.2f us/call", per)
		}
		fmt.Println(line)
	}
	fmt.Println()
	return med, nil
}

func timeIt(argv []string) (time.Duration, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%v: %v\n%s", argv, err, out)
	}
	return d, nil
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func command(dir, name string, args ...string) *exec.Cmd {
	c := exec.Command(name, args...)
	c.Dir = dir
	return c
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run from inside the hermes module")
		}
		dir = parent
	}
}
