package hermes_test

import (
	"cmp"
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/hermes-trace/hermes"
	"github.com/hermes-trace/hermes/internal/testbin"
)

// traceChaos traces testdata/c/mutexorder under chaos with seed and
// returns its result and what it printed.
func traceChaos(t *testing.T, bin string, seed uint64) (hermes.Result, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := hermes.Trace(context.Background(), []string{bin}, hermes.TraceOptions{Output: io.Discard, Stdout: f,
		Inject: hermes.Injection{Chaos: true, Seed: seed, SeedSet: true}})
	if err != nil {
		t.Fatalf("trace --chaos=%d: %v", seed, err)
	}
	printed, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 0 || res.Seed != seed {
		t.Fatalf("trace --chaos=%d: exit %d, seed %d, printed %q", seed, res.ExitCode, res.Seed, printed)
	}
	return res, string(printed)
}

// byCall sorts decisions by the call they were made at: the decisions of
// different threads may interleave differently from run to run (a hold
// is a time, and what the other threads do meanwhile depends on the
// machine's speed), the decision at each call may not.
func byCall(ds []hermes.ChaosDecision) []hermes.ChaosDecision {
	out := slices.Clone(ds)
	slices.SortFunc(out, func(a, b hermes.ChaosDecision) int {
		return cmp.Or(cmp.Compare(a.Lineage, b.Lineage), cmp.Compare(a.Syscall, b.Syscall), cmp.Compare(a.Nth, b.Nth))
	})
	return out
}

// TestChaosSameSeed: two chaos runs with the same seed make the same
// decisions at the same calls; another seed makes other decisions.
func TestChaosSameSeed(t *testing.T) {
	bin := testbin.C(t, "mutexorder")
	a, outA := traceChaos(t, bin, 7)
	b, outB := traceChaos(t, bin, 7)
	if len(a.ChaosDecisions) == 0 || a.ChaosHolds != len(a.ChaosDecisions) {
		t.Fatalf("seed 7: %d decisions, %d holds", len(a.ChaosDecisions), a.ChaosHolds)
	}
	if !reflect.DeepEqual(byCall(a.ChaosDecisions), byCall(b.ChaosDecisions)) {
		t.Errorf("seed 7 twice, different decisions:\n%v\n%v", a.ChaosDecisions, b.ChaosDecisions)
	}
	t.Logf("seed 7: %d decisions; printed %q and %q", len(a.ChaosDecisions), outA, outB)
	c, _ := traceChaos(t, bin, 8)
	if reflect.DeepEqual(byCall(a.ChaosDecisions), byCall(c.ChaosDecisions)) {
		t.Errorf("seeds 7 and 8 made the same decisions: %v", c.ChaosDecisions)
	}
}
