package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hermes-trace/hermes/internal/explore"
	"github.com/hermes-trace/hermes/internal/testbin"
)

// exploreRun runs hermes explore in dir with its --out and --report
// outside dir, and returns the report, the summary and the exit status.
func exploreRun(t *testing.T, dir string, args ...string) (*explore.Report, string, string, int) {
	t.Helper()
	aside := t.TempDir()
	report := filepath.Join(aside, "report.json")
	all := append([]string{"explore", "--out", filepath.Join(aside, "out"), "--report", report, "--junit", filepath.Join(aside, "junit.xml")}, args...)
	stdout, stderr, code := hermesAt(t, dir, all...)
	if code != 0 && code != 1 {
		// Say why each try hermes could not run failed, from the report.
		var why strings.Builder
		var rep explore.Report
		if b, err := os.ReadFile(report); err == nil && json.Unmarshal(b, &rep) == nil {
			for _, try := range rep.Tries {
				if try.Error != "" {
					fmt.Fprintf(&why, "%s: %s\n%s\n", try.ID, try.Error, try.StderrTail)
				}
			}
		}
		t.Fatalf("hermes %q: exit %d\n%s%s%s", all, code, stdout, stderr, why.String())
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var rep explore.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	return &rep, stdout, stderr, code
}

// reproduce runs a try's reproducer in dir and returns its exit status,
// or -1 if it was still running after limit.
func reproduce(t *testing.T, dir, reproducer string, limit time.Duration) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	// exec: the context's SIGTERM reaches hermes itself, which ends the
	// target and removes its view of the files, as a CI job's timeout
	// would (SIGKILL only if it has not ended WaitDelay later).
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", "exec "+reproducer)
	cmd.Dir = dir
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return -1
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("%s: %v\n%s", reproducer, err, out)
	}
	return 0
}

// TestExplorePlantedBugs explores the testdata programs with planted
// fault-handling bugs: each bug is found in its class, with a reproducer
// that reproduces it 3 times out of 3; the correct program is clean; and
// the real directory is left exactly as it was.
func TestExplorePlantedBugs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the tries run in private views of the files, which an ordinary user gets only where user namespaces are allowed")
	}
	// A save leaves the file whole: the old contents or all the new.
	const check = `test "$(wc -c < data)" = 65536 || test "$(cat data)" = "the old contents"`
	tests := []struct {
		prog    string
		args    []string
		flags   []string
		wantID  string // a regexp matching the failing try's id
		outcome explore.Outcome
		status  int // the reproducer's exit status (-1: still running)
	}{
		{prog: "badsave", args: []string{"data"}, flags: []string{"--check", check},
			wantID: `^write@save\+0x[0-9a-f]+#1:ENOSPC$`, outcome: explore.Corrupt, status: 1},
		{prog: "nullfopen", args: []string{"settings"},
			wantID: `^openat@.*/settings#1:ENOENT$`, outcome: explore.Crashed, status: 128 + 11},
		{prog: "spinretry", args: []string{"settings"}, flags: []string{"--faults", "read:EAGAIN,EINTR", "--timeout", "3s"},
			wantID: `^read@copy\+0x[0-9a-f]+#1:EAGAIN$`, outcome: explore.Hung, status: -1},
		{prog: "goodsave", args: []string{"data"}, flags: []string{"--check", check}},
	}
	for _, tc := range tests {
		t.Run(tc.prog, func(t *testing.T) {
			bin := testbin.C(t, tc.prog)
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "data"), "the old contents\n")
			writeFile(t, filepath.Join(dir, "settings"), "colour=blue\n")
			before := treeState(t, dir)
			args := append(append(slices.Clone(tc.flags), "--"), append([]string{bin}, tc.args...)...)
			rep, summary, stderr, code := exploreRun(t, dir, args...)
			if after := treeState(t, dir); !slices.Equal(before, after) {
				t.Errorf("explore changed the real directory:\nbefore %q\nafter  %q", before, after)
			}
			if rep.Counts[explore.Failed] > 0 {
				t.Fatalf("tries hermes could not run:\n%s%s", summary, stderr)
			}
			if tc.outcome == "" {
				if code != 0 || len(rep.Failing()) > 0 {
					t.Fatalf("the correct program: exit %d, failing tries %v\n%s", code, rep.Failing(), summary)
				}
				if rep.Counts[explore.Handled] == 0 {
					t.Errorf("the correct program handled no fault:\n%s", summary)
				}
				return
			}
			if code != 1 {
				t.Errorf("exit %d, want 1\n%s", code, summary)
			}
			var found *explore.Try
			for i, try := range rep.Tries {
				if regexp.MustCompile(tc.wantID).MatchString(try.ID) {
					found = &rep.Tries[i]
				}
			}
			if found == nil {
				t.Fatalf("no try matches %s:\n%s", tc.wantID, summary)
			}
			if found.Outcome != tc.outcome {
				t.Fatalf("%s: %s, want %s\n%s", found.ID, found.Outcome, tc.outcome, summary)
			}
			if !strings.Contains(summary, found.Reproducer) {
				t.Errorf("the summary does not show %s's reproducer:\n%s", found.ID, summary)
			}
			for i := range 3 {
				if got := reproduce(t, dir, found.Reproducer, 8*time.Second); got != tc.status {
					t.Fatalf("reproducer run %d: exit %d, want %d: %s", i+1, got, tc.status, found.Reproducer)
				}
			}
			if after := treeState(t, dir); !slices.Equal(before, after) {
				t.Errorf("the reproducers changed the real directory")
			}
		})
	}
}

// TestExploreBadInput: each gets one line and exit 125.
func TestExploreBadInput(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown fault", []string{"--faults", "write:explode", "--", "/bin/true"}, `unknown fault "explode"`},
		{"unknown errno", []string{"--faults", "write:ENOTANERRNO", "--", "/bin/true"}, `unknown fault "ENOTANERRNO"`},
		{"unknown syscall", []string{"--faults", "frobnicate:EIO", "--", "/bin/true"}, `unknown syscall or class "frobnicate"`},
		{"first run fails", []string{"--", "/bin/false"}, "the clean run of \"/bin/false\" failed (exit status 1"},
		{"check fails", []string{"--check", "exit 3", "--", "/bin/true"}, `--check "exit 3" fails after the clean run (exit status 3`},
		{"unwritable report", []string{"--report", "/nonexistent/dir/r.json", "--", "/bin/true"}, "report: open /nonexistent/dir/r.json"},
		{"bad outcome", []string{"--fail-on", "crashed,weird", "--", "/bin/true"}, `unknown outcome "weird"`},
		{"no command", nil, "explore needs a command"},
		{"bad budget", []string{"--budget", "lots", "--", "/bin/true"}, `--budget "lots"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"explore", "--out", filepath.Join(dir, "out")}, tc.args...)
			stdout, stderr, code := hermesAt(t, dir, args...)
			if code != exitError {
				t.Errorf("exit %d, want %d\n%s%s", code, exitError, stdout, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tc.want) {
				t.Errorf("stderr %q, want one line with %q", stderr, tc.want)
			}
		})
	}
}

// TestExploreMinimize records flaky, which fails only when its write of
// DIR/state fails, under builtin:random-eio with many faults, and
// minimises the recording to exactly that fault.
func TestExploreMinimize(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for the private views")
	}
	bin := testbin.C(t, "flaky")
	dir := t.TempDir()
	trace := filepath.Join(t.TempDir(), "flaky.trace")
	// Find a seed whose faults include the state write and several others.
	var faults []explore.RecordedFault
	seed := 0
	for seed = 1; seed < 200; seed++ {
		_, stderr, code := hermesAt(t, dir, "record", "-o", trace, "--inject", "builtin:random-eio", "--param", "probability=0.15",
			"--seed", strconv.Itoa(seed), "--", bin, dir)
		if code != 3 {
			continue
		}
		var err error
		if faults, err = explore.RecordedFaults(trace); err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		if len(faults) >= 4 {
			break
		}
	}
	if len(faults) < 4 {
		t.Fatal("no seed below 200 failed flaky with 4 faults or more")
	}
	stdout, stderr, code := hermesAt(t, dir, "explore", "--minimize", trace)
	if code != 0 {
		t.Fatalf("minimize: exit %d\n%s%s", code, stdout, stderr)
	}
	// flaky opens log and state, then 40 log writes: the state write is
	// write call 41 of the first process.
	want := "-e inject=write:error=EIO:when=41:lineage=1\n"
	if !strings.Contains(stdout, "minimize: 1 of the "+strconv.Itoa(len(faults))+" recorded faults") || !strings.Contains(stdout, want) {
		t.Fatalf("seed %d, %d faults: minimize said\n%s\nwant one fault, %s", seed, len(faults), stdout, want)
	}
	rep := regexp.MustCompile(`(?m)^reproduce: (.*)$`).FindStringSubmatch(stdout)
	if rep == nil {
		t.Fatalf("no reproducer:\n%s", stdout)
	}
	if got := reproduce(t, dir, rep[1], 20*time.Second); got != 3 {
		t.Errorf("the reproducer exits %d, want flaky's 3: %s", got, rep[1])
	}
}

// TestExploreRealTools explores an sqlite3 insert (checked with pragma
// integrity_check, which prints problems and still exits 0) and a git
// commit (checked with git fsck --strict) in scratch directories: both run
// to completion, every try runs, and the real directory is unchanged.
func TestExploreRealTools(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the tries run in private views of the files")
	}
	tests := []struct {
		name  string
		tools []string
		setup func(t *testing.T, dir string)
		check string
		argv  []string
	}{
		{
			name: "sqlite3", tools: []string{"sqlite3"},
			setup: func(t *testing.T, dir string) {
				if out, err := exec.Command("sqlite3", filepath.Join(dir, "t.db"), "create table t(x); insert into t values (1),(2);").CombinedOutput(); err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
			},
			check: `test "$(sqlite3 t.db "pragma integrity_check")" = ok`,
			argv:  []string{"sqlite3", "t.db", "insert into t values (3);"},
		},
		{
			name: "git", tools: []string{"git"},
			setup: func(t *testing.T, dir string) {
				for _, args := range [][]string{{"init", "-q"}, {"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "first"}} {
					cmd := exec.Command("git", args...)
					cmd.Dir = dir
					if out, err := cmd.CombinedOutput(); err != nil {
						t.Fatalf("git %q: %v\n%s", args, err, out)
					}
				}
				writeFile(t, filepath.Join(dir, "a.txt"), "hello\n")
			},
			check: "git fsck --strict",
			argv:  []string{"/bin/sh", "-c", "git add a.txt && git -c user.name=t -c user.email=t@example.com commit -q -m second"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			need(t, tc.tools...)
			dir := t.TempDir()
			tc.setup(t, dir)
			before := treeState(t, dir)
			args := append([]string{"--per-site", "1", "--check", tc.check, "--"}, tc.argv...)
			rep, summary, stderr, _ := exploreRun(t, dir, args...)
			t.Logf("%s", summary)
			if after := treeState(t, dir); !slices.Equal(before, after) {
				t.Errorf("explore changed the real directory")
			}
			if n := rep.Counts[explore.Failed]; n > 0 {
				t.Errorf("%d tries hermes could not run\n%s", n, stderr)
			}
			if len(rep.Tries) < 10 || rep.Skipped != 0 {
				t.Errorf("%d tries, %d skipped: want the whole space of at least 10", len(rep.Tries), rep.Skipped)
			}
			if rep.Counts[explore.NotReached] == len(rep.Tries) {
				t.Errorf("no fault was reached")
			}
		})
	}
}

// TestExploreStableIDs explores the same binary twice: the tries have the
// same ids, in the same order, with the same outcomes.
func TestExploreStableIDs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the tries run in private views of the files")
	}
	bin := testbin.C(t, "badsave")
	var runs [2][]string
	for i := range runs {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "data"), "the old contents\n")
		rep, summary, _, _ := exploreRun(t, dir, "--check", `test "$(wc -c < data)" = 65536`, "--", bin, "data")
		for _, try := range rep.Tries {
			runs[i] = append(runs[i], try.ID+" "+string(try.Outcome))
		}
		if len(runs[i]) == 0 {
			t.Fatalf("no tries:\n%s", summary)
		}
	}
	if !slices.Equal(runs[0], runs[1]) {
		t.Errorf("two explorations of the same binary differ:\n%q\n%q", runs[0], runs[1])
	}
}
