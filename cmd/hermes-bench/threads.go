package main

import (
	"fmt"
	"path/filepath"
	"strconv"
)

// threadsTable records a multi-threaded workload (testdata/c/threads with
// nofiles: threads making getpid and write calls, with no descriptor whose
// number depends on their order, so that a replay without order is clean
// too), with and without chaos scheduling, and replays it with each
// --order.
func threadsTable(runs int, tmp, hermes, strace, threads string, n, iters int) error {
	trace := filepath.Join(tmp, "threads.trace")
	chaosTrace := filepath.Join(tmp, "threads-chaos.trace")
	argv := []string{threads, strconv.Itoa(n), strconv.Itoa(iters), "nofiles"}
	calls := n * iters * 2
	// The replays run the traces the record variants just before them
	// wrote.
	med, err := table(fmt.Sprintf("threads: %d threads × %d getpid+write, record and replay", n, iters), runs, calls, []variant{
		{"native", argv},
		{"strace", append([]string{strace, "-f", "--seccomp-bpf", "-o", "/dev/null"}, argv...)},
		{"record", append([]string{hermes, "record", "-o", trace, "--"}, argv...)},
		{"chaos", append([]string{hermes, "record", "--chaos=1", "-o", chaosTrace, "--"}, argv...)},
		{"off", []string{hermes, "replay", "--order=off", trace}},
		{"relaxed", []string{hermes, "replay", "--order=relaxed", trace}},
		{"strict", []string{hermes, "replay", trace}},
		{"strict-c", []string{hermes, "replay", chaosTrace}},
	}, "")
	if err != nil {
		return err
	}
	fmt.Printf("  ordered replay (strict) / replay without order (off): %.2fx; relaxed / off: %.2fx; strict of the chaos recording / off: %.2fx\n",
		float64(med[6])/float64(med[4]), float64(med[5])/float64(med[4]), float64(med[7])/float64(med[4]))
	fmt.Printf("  record --chaos / record: %.2fx\n\n", float64(med[3])/float64(med[2]))
	return nil
}
