package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// exploreTable times hermes explore on an sqlite3 insert into a small
// database, with --jobs 1 and --jobs 2, and prints tries per second. Side
// by side: the same number of runs of the insert natively, and under
// strace -e inject=...:when=N as a shell loop over the faults would run
// them (without the fresh copy of the files each try needs, which hermes
// makes and the loop does not).
func exploreTable(tmp, hermes, strace string) error {
	sqlite, err := exec.LookPath("sqlite3")
	if err != nil {
		return fmt.Errorf("sqlite3 not found: apt-get install sqlite3")
	}
	dir := filepath.Join(tmp, "explore")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	db := filepath.Join(dir, "t.db")
	if out, err := exec.Command(sqlite, db, "create table t(x); insert into t values (1),(2),(3);").CombinedOutput(); err != nil {
		return fmt.Errorf("sqlite3: %v\n%s", err, out)
	}
	insert := []string{sqlite, db, "insert into t values (42);"}
	check := `test "$(` + sqlite + ` t.db "pragma integrity_check")" = ok`
	fmt.Println("explore: sqlite3 t.db \"insert into t values (42);\" with --check 'pragma integrity_check'")
	var tries int
	var perTry [3]time.Duration
	for i, jobs := range []int{1, 2} {
		report := filepath.Join(tmp, "explore.json")
		cmd := exec.Command(hermes, append([]string{"explore", "--jobs", strconv.Itoa(jobs), "--out", filepath.Join(tmp, "explore-out"),
			"--report", report, "--check", check, "--"}, insert...)...)
		cmd.Dir = dir
		start := time.Now()
		out, err := cmd.CombinedOutput()
		elapsed := time.Since(start)
		if code := cmd.ProcessState.ExitCode(); err != nil && code != 1 {
			return fmt.Errorf("hermes explore: %v\n%s", err, out)
		}
		var rep struct {
			Tries    []json.RawMessage `json:"tries"`
			CleanRun float64           `json:"clean_run_seconds"`
		}
		b, err := os.ReadFile(report)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &rep); err != nil {
			return err
		}
		tries = len(rep.Tries)
		perTry[i] = elapsed / time.Duration(max(tries, 1))
		fmt.Printf("  hermes explore --jobs %d: %d tries in %.2fs (clean run %.0f ms): %.1f tries/s, %.0f ms a try\n",
			jobs, tries, elapsed.Seconds(), rep.CleanRun*1000, float64(tries)/elapsed.Seconds(), ms(perTry[i]))
	}
	// The same number of runs natively, and under strace with one
	// injected fault each.
	runs := max(tries, 1)
	start := time.Now()
	for range runs {
		if _, err := timeIt(insert); err != nil {
			return err
		}
	}
	native := time.Since(start) / time.Duration(runs)
	start = time.Now()
	for i := range runs {
		argv := append([]string{strace, "-f", "-o", "/dev/null", "-e", "inject=write:error=ENOSPC:when=" + strconv.Itoa(1+i%3)}, insert...)
		_ = exec.Command(argv[0], argv[1:]...).Run() // the fault may fail it
	}
	straced := time.Since(start) / time.Duration(runs)
	fmt.Printf("  per run: native %.1f ms, strace -e inject= loop %.1f ms; hermes explore a try: %.1f ms (--jobs 1, %.1fx strace), %.1f ms (--jobs 2, %.1fx strace)\n\n",
		ms(native), ms(straced), ms(perTry[0]), float64(perTry[0])/float64(straced), ms(perTry[1]), float64(perTry[1])/float64(straced))
	return nil
}
