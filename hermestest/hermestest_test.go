package hermestest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hermes-trace/hermes/hermestest"
	"github.com/hermes-trace/hermes/internal/testbin"
)

// TestSaveOnFullDisk runs testdata's save under builtin:enospc: its first
// write fails, it says so and exits 4, and the fault was counted.
func TestSaveOnFullDisk(t *testing.T) {
	bin := testbin.C(t, "save")
	dir := t.TempDir()
	res := hermestest.Run(t, []string{bin, filepath.Join(dir, "out")}, hermestest.Options{
		Policy: "builtin:enospc",
		Params: map[string]string{"prefix": dir},
	})
	if res.ExitCode != 4 || res.Injected < 1 {
		t.Fatalf("save under builtin:enospc: %+v, want exit status 4 and an injected fault", res)
	}
}

// TestSaveUnharmed runs save with a policy that touches other files: it
// succeeds and nothing is injected.
func TestSaveUnharmed(t *testing.T) {
	bin := testbin.C(t, "save")
	dir := t.TempDir()
	res := hermestest.Run(t, []string{bin, filepath.Join(dir, "out")}, hermestest.Options{
		Policy: "builtin:enospc",
		Params: map[string]string{"prefix": "/nonexistent/"},
		Seed:   7, SeedSet: true,
	})
	if res.ExitCode != 0 || res.Injected != 0 || res.Seed != 7 {
		t.Fatalf("%+v", res)
	}
}

// TestFailingRun is the failing test TestFailureReport runs in a child
// process.
func TestFailingRun(t *testing.T) {
	if os.Getenv("HERMESTEST_FAIL") == "" {
		t.Skip("run by TestFailureReport")
	}
	dir := t.TempDir()
	res := hermestest.Run(t, []string{"/bin/sh", "-c", "echo x > " + filepath.Join(dir, "f")}, hermestest.Options{
		Rules: []string{"inject=write:error=ENOSPC"},
		Seed:  1234, SeedSet: true,
	})
	t.Errorf("failing on purpose: exit status %d", res.ExitCode)
}

// TestFailureReport checks what a failed test prints: each injected fault,
// the seed, the replay and record command lines; and that the trace is
// kept in HERMES_ARTIFACTS.
func TestFailureReport(t *testing.T) {
	arts := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFailingRun$", "-test.v")
	cmd.Env = append(os.Environ(), "HERMESTEST_FAIL=1", hermestest.ArtifactsEnv+"="+arts)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the failing test passed:\n%s", out)
	}
	for _, want := range []string{
		"hermestest: injected at entry: pid ",
		"= -28 (ENOSPC)",
		"hermestest: seed 1234; ",
		"hermestest: replay the run: hermes replay " + filepath.Join(arts, "TestFailingRun.trace"),
		"hermestest: run it again: hermes record -e inject=write:error=ENOSPC --seed 1234 -- /bin/sh -c 'echo x > ",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(arts, "TestFailingRun.trace")); err != nil {
		t.Errorf("artefact: %v", err)
	}
}
