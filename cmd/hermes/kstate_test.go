package main

import (
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/hermes-trace/hermes/internal/testbin"
)

// TestReplayKernelState records testdata/c/kstate in each of its modes,
// whose output is what the kernel hands a program differently in every
// run (pids inside structures, ids it allocates, clocks inside the
// structures it fills, time read without a syscall, timers), and replays
// each recording 3 times: every replay prints what the recording printed
// and reports no divergence. A mode whose calls the machine refuses
// (keyrings in some containers) still replays what it printed.
func TestReplayKernelState(t *testing.T) {
	bin := testbin.C(t, "kstate")
	for _, tc := range []struct {
		mode string
		want []string // lines the recording must have, so the test sees real values
	}{
		{"pids", []string{"capget: pid ", "owner_ex: ", "fiogetown: ", "ioprio: "}},
		{"ids", []string{"msgget: ", "semget: ", "shmget: ", "add_key: "}},
		{"clocks", []string{"adjtimex: ", "pipe: ino ", "memfd: ino ", "statfs: ", "sleep: interrupted left "}},
		{"tsc", []string{"rdtsc: ", "rdtscp: "}},
		{"timers", []string{"alarm: ", "getitimer: ", "setitimer old: ", "timer: id ", "signalfd: ", "timerfd: left ", "timerfd: expired "}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			if tc.mode == "tsc" {
				skipUntrappedTSC(t, bin)
			}
			trace, out, code := recordRun(t, nil, bin, tc.mode)
			if code != 0 {
				t.Fatalf("record: exit %d, output:\n%s", code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Fatalf("recorded output lacks %q:\n%s", w, out)
				}
			}
			for i := 0; i < 3; i++ {
				replayOK(t, trace, out, 0)
			}
		})
	}
}

// skipUntrappedTSC skips where rdtsc does not fault after prctl(PR_SET_TSC,
// PR_TSC_SIGSEGV): hermes then cannot see the program read the counter.
func skipUntrappedTSC(t *testing.T, bin string) {
	t.Helper()
	err := exec.Command(bin, "tsctrap").Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 3 {
		t.Skip("rdtsc does not fault under PR_TSC_SIGSEGV on this machine (a hypervisor that ignores CR4.TSD): its reads cannot be trapped")
	}
}
