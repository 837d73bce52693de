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
// (keyrings in some containers) still replays what it printed. Where the
// CPU does not fault rdtsc, the tsc mode raises the fault's SIGSEGV
// itself right before each read, which only hermes's emulation survives.
func TestReplayKernelState(t *testing.T) {
	bin := testbin.C(t, "kstate")
	for _, tc := range []struct {
		mode string
		want []string // lines the recording must have, so the test sees real values
	}{
		{"pids", []string{"capget: pid ", "owner_ex: ", "fiogetown: ", "ioprio: "}},
		{"ids", []string{"msgget: ", "msgctl: lspid ", "semget: ", "semctl: otime ", "shmget: ", "shmctl: cpid ", "add_key: "}},
		{"clocks", []string{"adjtimex: ", "pipe: ino ", "memfd: ino ", "statfs: ", "sleep: interrupted left "}},
		{"tsc", []string{"rdtsc: ", "rdtscp: "}},
		{"timers", []string{"alarm: ", "getitimer: ", "setitimer old: ", "timer: id ", "signalfd: ", "timerfd: left ", "timerfd: expired ",
			"timer signal: code SI_TIMER after "}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			mode := tc.mode
			if mode == "tsc" && !tscFaults(bin) {
				t.Log("rdtsc does not fault under PR_TSC_SIGSEGV on this machine (a hypervisor that ignores CR4.TSD): " +
					"testing with reads that raise the same SIGSEGV themselves (kstate tscsim)")
				mode = "tscsim"
			}
			trace, out := recordWant(t, tc.want, bin, mode)
			for i := 0; i < 3; i++ {
				replayOK(t, trace, out, 0)
			}
		})
	}
}

// tscFaults reports whether rdtsc faults after prctl(PR_SET_TSC,
// PR_TSC_SIGSEGV) on this machine, as hermes needs to see it read.
func tscFaults(bin string) bool {
	err := exec.Command(bin, "tsctrap").Run()
	var ee *exec.ExitError
	return !(errors.As(err, &ee) && ee.ExitCode() == 3)
}

// TestRecordTSCNondeterministic checks that --nondeterministic leaves reads
// of the time stamp counter alone: the fault kstate tscsim raises before
// each is not completed by hermes, and kills it as it does natively.
func TestRecordTSCNondeterministic(t *testing.T) {
	bin := testbin.C(t, "kstate")
	_, out, code := recordRun(t, []string{"--nondeterministic"}, bin, "tscsim")
	if code != 128+11 || strings.Contains(out, "rdtsc: ") {
		t.Fatalf("record --nondeterministic: exit %d (want 139, killed by SIGSEGV), output:\n%s", code, out)
	}
}
