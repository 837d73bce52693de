package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/hermes-trace/hermes/internal/testbin"
)

// TestReplayOrderChaos records programs whose output depends on the
// schedule, each 5 times under chaos scheduling with a different seed, and
// replays every recording 5 times: every replay prints what its recording
// printed and reports no divergence. Go programs are the hard case: which
// thread runs a goroutine depends on what the runtime's scheduler (sysmon,
// idle threads) saw in memory, so the replay reproduces the recorded order
// of every call, the scheduler's too. gofinish prints the order its
// goroutines finished in (after time.Now in each) and crypto/rand bytes;
// gotempdir is a go test binary whose test uses t.TempDir (a random name)
// from goroutines; mutexorder is C threads racing for a mutex.
func TestReplayOrderChaos(t *testing.T) {
	for _, tc := range []struct {
		name string
		argv func(t *testing.T) []string
		want string // a line every recording prints
		// differ: the recordings of different seeds print at least two
		// different outputs (the seeds change the order)
		differ bool
	}{
		{"gofinish", func(t *testing.T) []string { return []string{testbin.Go(t, "gofinish")} }, "finished ", true},
		{"gotempdir", func(t *testing.T) []string { return []string{testbin.Go(t, "gotempdir"), "-test.v"} }, "--- PASS: TestTempDir", true},
		{"mutexorder", func(t *testing.T) []string { return []string{testbin.C(t, "mutexorder")} }, "order ", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			argv := tc.argv(t)
			outs := map[string]bool{}
			for seed := 1; seed <= 5; seed++ {
				trace, out, code := recordRun(t, []string{"--chaos=" + strconv.Itoa(seed)}, argv...)
				if code != 0 || !strings.Contains(out, tc.want) {
					t.Fatalf("record --chaos=%d: exit %d, output:\n%s", seed, code, out)
				}
				outs[out] = true
				for i := 0; i < 5; i++ {
					replayOK(t, trace, out, 0)
				}
				// A thread the recording's end killed in a clock read is
				// killed in replay too: no write into it fails (before, 1
				// replay in 12 said "1/t1: emulate clock_gettime: no such
				// process").
				if _, stderr, _ := hermes(t, "replay", trace); strings.Contains(stderr, ": emulate ") {
					t.Errorf("replay of --chaos=%d: %s", seed, stderr)
				}
			}
			if tc.differ && len(outs) < 2 {
				t.Errorf("5 seeds gave one output: %v", outs)
			}
		})
	}
}
