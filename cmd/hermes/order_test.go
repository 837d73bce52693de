package main

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/hermes-trace/hermes/internal/testbin"
)

// TestChaosFindsRace: testdata/c/racecount loses an update in about one
// native run in a hundred. Ten hermes record --chaos runs with different
// seeds find it at least once, and the recording of a failing run replays
// the failure 5 times out of 5.
func TestChaosFindsRace(t *testing.T) {
	bin := testbin.C(t, "racecount")
	native := 0
	for i := 0; i < 100; i++ {
		if exec.Command(bin).Run() != nil {
			native++
		}
	}
	t.Logf("native: %d of 100 runs lost an update", native)
	if native >= 50 {
		t.Fatalf("racecount failed %d of 100 native runs: not the rare failure this test needs", native)
	}
	var failing, out string
	var found []int
	for seed := 1; seed <= 10; seed++ {
		trace, o, code := recordRun(t, []string{fmt.Sprintf("--chaos=%d", seed)}, bin)
		switch {
		case code == 1 && o == "counter 1\n":
			found = append(found, seed)
			if failing == "" {
				failing, out = trace, o
			}
		case code != 0 || o != "counter 2\n":
			t.Fatalf("record --chaos=%d: exit %d, output %q", seed, code, o)
		}
	}
	t.Logf("seeds that lost the update: %v", found)
	if failing == "" {
		t.Fatal("none of 10 chaos seeds lost the update")
	}
	for i := 0; i < 5; i++ {
		replayOK(t, failing, out, 1)
	}
	if info, _, code := hermes(t, "info", failing); code != 0 || !strings.Contains(info, "chaos:            yes") {
		t.Errorf("hermes info: exit %d, no chaos line:\n%s", code, info)
	}
}

// TestOrderChaosFlagErrors: bad --order and --chaos values get one line
// and exit 125.
func TestOrderChaosFlagErrors(t *testing.T) {
	trace, _, code := recordRun(t, nil, "true")
	if code != 0 {
		t.Fatalf("record true: exit %d", code)
	}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"replay", "--order=sometimes", trace}, `unknown --order "sometimes" (strict, relaxed or off)`},
		{[]string{"record", "-o", trace + "2", "--chaos=lots", "--", "true"}, `--chaos="lots": not an unsigned integer seed`},
		{[]string{"trace", "--chaos=-1", "--", "true"}, `--chaos="-1": not an unsigned integer seed`},
		{[]string{"trace", "--chaos=5", "--seed", "6", "--", "true"}, "--chaos=5 and --seed 6: a run has one seed"},
		{[]string{"trace", "--chaos=", "--", "true"}, `invalid argument "" for "--chaos" flag: empty: give a seed, or the flag alone for a random one`},
		{[]string{"replay", "--order=", trace}, "--order=: empty (strict, relaxed or off)"},
		{[]string{"record", "-o", trace + "3", "--chaos", "5", "--", "true"}, `--chaos 5: a seed goes as --chaos=5 ("5" is no command)`},
		{[]string{"trace", "--chaos", "5", "true"}, `--chaos 5: a seed goes as --chaos=5 ("5" is no command)`},
		{[]string{"explore", "--chaos", "5", "--", "true"}, `--chaos 5: a seed goes as --chaos=5 ("5" is no command)`},
	} {
		t.Run(strings.Join(tc.args[:2], " "), func(t *testing.T) {
			_, stderr, code := hermes(t, tc.args...)
			oneLine(t, strings.Join(tc.args, " "), code, stderr, tc.msg)
		})
	}
}
