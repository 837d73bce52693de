package explore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hermes-trace/hermes/inject"
	"github.com/hermes-trace/hermes/internal/run"
	"github.com/hermes-trace/hermes/replay"
	"github.com/hermes-trace/hermes/replay/fsview"
	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
)

// Options configure an exploration.
type Options struct {
	Argv  []string // the command
	Env   []string // its environment (nil: hermes's own)
	Dir   string   // its working directory ("": hermes's)
	Check string   // shell command judging the files a try left; "" none
	// Space is the fault space (nil: DefaultSpace).
	Space *Space
	// Paths keeps only calls on paths matching one of these globs.
	Paths []string
	// PerSite is how many of each site's calls are tried (0: DefaultPerSite).
	PerSite int
	// Jobs is how many tries run at once (0: the number of CPUs).
	Jobs int
	// Budget bounds the tries (0: no bound); BudgetTime bounds the time
	// spent on them (0: no bound): no try starts after it.
	Budget     int
	BudgetTime time.Duration
	// Timeout is how long one try may run (0: ten times the clean run, at
	// least MinTimeout).
	Timeout time.Duration
	// Out is the directory for the recording and the tries' files
	// (default "hermes-explore"); the target never sees it.
	Out string
	// FailOn are the outcomes that fail the exploration (nil:
	// DefaultFailOn).
	FailOn []Outcome
	// Hide are more paths the target must not see (the report files).
	Hide []string
	// Progress, if set, gets a one-line progress report after each try
	// (to be shown with a carriage return on a terminal).
	Progress func(done, total, failing int)
	// Logf gets hermes's notes (nil: discarded).
	Logf func(format string, args ...any)
	// Hermes is how a reproducer names the hermes command ("hermes").
	Hermes string
	// Chaos records the clean run under chaos scheduling (its seed
	// ChaosSeed if ChaosSeedSet, else random); every try replays that
	// schedule.
	Chaos        bool
	ChaosSeed    uint64
	ChaosSeedSet bool
}

// Defaults.
const (
	DefaultPerSite = 2
	DefaultOut     = "hermes-explore"
	MinTimeout     = 10 * time.Second
)

// DefaultFailOn are the outcomes that fail an exploration by default.
var DefaultFailOn = []Outcome{Crashed, Hung, Corrupt}

// Error is an exploration that could not be done (hermes's own error, or
// a clean run that did not succeed): exit status 125 in the CLI.
type Error struct{ Err error }

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func errorf(format string, args ...any) error { return &Error{fmt.Errorf(format, args...)} }

// Explore records a clean run of the command in a private view of the
// files, lists the calls where a fault could land, groups them into
// sites, tries each candidate fault by replaying the recording with it in
// a view of its own, and judges each try. The real file tree is never
// touched by the command. It returns the report; an error is an
// exploration that could not be made (an *Error).
func Explore(ctx context.Context, o Options) (*Report, error) {
	start := time.Now()
	if len(o.Argv) == 0 {
		return nil, errorf("explore: no command")
	}
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	space := o.Space
	if space == nil {
		space = DefaultSpace()
	}
	for _, g := range o.Paths {
		if _, err := filepath.Match(g, ""); err != nil {
			return nil, errorf("--paths %q: %v", g, err)
		}
	}
	perSite := o.PerSite
	if perSite <= 0 {
		perSite = DefaultPerSite
	}
	jobs := o.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	failOn := o.FailOn
	if failOn == nil {
		failOn = DefaultFailOn
	}
	hermes := o.Hermes
	if hermes == "" {
		hermes = "hermes"
	}
	dir := o.Dir
	if dir == "" {
		var err error
		if dir, err = os.Getwd(); err != nil {
			return nil, errorf("explore: %v", err)
		}
	}
	out := o.Out
	if out == "" {
		out = DefaultOut
	}
	if !filepath.IsAbs(out) {
		out = filepath.Join(dir, out)
	}
	if err := os.MkdirAll(out, 0o700); err != nil {
		return nil, errorf("explore: --out: %v", err)
	}
	tracePath := filepath.Join(out, "run.trace")
	hide := append([]string{out}, o.Hide...)

	// The clean run, recorded in a private view.
	cleanDir := filepath.Join(out, "clean")
	if err := resetDir(cleanDir); err != nil {
		return nil, errorf("explore: %v", err)
	}
	col := newCollector(space, dir, callFrames)
	stdout, stderr, err := outputs(cleanDir)
	if err != nil {
		return nil, errorf("explore: %v", err)
	}
	cleanStart := time.Now()
	res, err := run.Record(ctx, run.RecordOptions{
		Argv: o.Argv, Env: o.Env, Dir: dir,
		Stdout: stdout, Stderr: stderr, CheckStdout: stdout, CheckStderr: stderr,
		Output: tracePath, Stacks: true, View: true, Hide: hide, Check: o.Check,
		Inject: run.Inject{Handler: col, Chaos: o.Chaos, Seed: o.ChaosSeed, SeedSet: o.ChaosSeedSet},
		Logf:   func(format string, args ...any) { fmt.Fprintf(stderr, "hermes: "+format+"\n", args...) },
	})
	stdout.Close()
	stderr.Close()
	cleanTime := time.Since(cleanStart)
	if o.Chaos && err == nil {
		logf("explore: the clean run ran under chaos scheduling, seed %d (--chaos=%d makes the same decisions again)", res.Seed, res.Seed)
	}
	chaosNote := ""
	if o.Chaos {
		chaosNote = fmt.Sprintf(", under chaos scheduling with seed %d", res.Seed)
	}
	switch {
	case errors.Is(err, fsview.ErrUnavailable):
		return nil, errorf("explore: %v: explore runs every try in a private view of the files and refuses to run them on the real tree", err)
	case err != nil:
		return nil, errorf("explore: the clean run: %v", err)
	case res.Interrupted:
		return nil, errorf("explore: interrupted")
	case res.ExitCode != 0:
		return nil, errorf("explore: the clean run of %q failed (exit status %d%s; its output is in %s): explore needs a run that succeeds", strings.Join(o.Argv, " "), res.ExitCode, chaosNote, cleanDir)
	case o.Check != "" && res.CheckStatus != 0:
		return nil, errorf("explore: --check %q fails after the clean run (exit status %d; its output is in %s)", o.Check, res.CheckStatus, cleanDir)
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = max(10*cleanTime, MinTimeout)
	}

	sites := Sites(col.calls)
	cands := Candidates(sites, space, perSite, o.Paths)
	rep := &Report{
		Schema: ReportSchema, Command: o.Argv, Check: o.Check, Trace: tracePath, Seed: res.Seed,
		Calls: len(col.calls), Sites: len(sites), Planned: len(cands),
		CleanRun: cleanTime.Seconds(), Timeout: timeout.Seconds(), FailOn: failOn, Counts: map[Outcome]int{},
	}
	logf("explore: the clean run took %v; %d calls in %d sites give %d tries (per try: timeout %v)",
		cleanTime.Round(time.Millisecond), len(col.calls), len(sites), len(cands), timeout)
	if o.Budget > 0 && len(cands) > o.Budget {
		cands = cands[:o.Budget]
	}
	var deadline time.Time
	if o.BudgetTime > 0 {
		deadline = start.Add(o.BudgetTime)
	}
	triesDir := filepath.Join(out, "tries")
	if err := resetDir(triesDir); err != nil {
		return nil, errorf("explore: %v", err)
	}
	tr := &trier{trace: tracePath, check: o.Check, hide: hide, dir: triesDir, timeout: timeout, hermes: hermes}
	tries := make([]*Try, len(cands))
	var (
		mu      sync.Mutex
		done    int
		failing int
		next    int
		wg      sync.WaitGroup
	)
	for range min(jobs, max(len(cands), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				stop := i >= len(cands) || ctx.Err() != nil || (!deadline.IsZero() && time.Now().After(deadline))
				if !stop {
					next++
				}
				mu.Unlock()
				if stop {
					return
				}
				t := tr.try(ctx, &cands[i])
				mu.Lock()
				tries[i] = t
				done++
				if slices.Contains(failOn, t.Outcome) {
					failing++
				}
				if o.Progress != nil {
					o.Progress(done, len(cands), failing)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, errorf("explore: %v", err)
	}
	for _, t := range tries {
		if t == nil {
			rep.Skipped++
			continue
		}
		rep.Tries = append(rep.Tries, *t)
		rep.Counts[t.Outcome]++
	}
	rep.Skipped += rep.Planned - len(cands)
	rep.Seconds = since(start)
	return rep, nil
}

// trier runs tries.
type trier struct {
	trace, check string
	hide         []string
	dir          string
	timeout      time.Duration
	hermes       string
}

// try replays the recording with one fault, in a view of its own, and
// judges what came of it.
func (tr *trier) try(ctx context.Context, c *Candidate) *Try {
	t := &Try{
		ID: c.ID, Site: c.Site, Occurrence: c.Occ, Syscall: c.Call.Name, Lineage: c.Call.Lineage, When: c.Call.Nth,
		Path: c.Call.Path, Fault: c.Fault.String(), Frames: c.Call.Frames,
	}
	t.Reproducer = Reproducer(tr.hermes, tr.trace, tr.check, []string{c.Spec()})
	start := time.Now()
	defer func() { t.Seconds = since(start) }()
	dir := filepath.Join(tr.dir, sanitize(c.ID))
	if err := resetDir(dir); err != nil {
		t.Outcome, t.Error = Failed, err.Error()
		return t
	}
	rule, err := inject.ParseStrace(c.Spec())
	if err != nil {
		t.Outcome, t.Error = Failed, err.Error()
		return t
	}
	stdout, stderr, err := outputs(dir)
	if err != nil {
		t.Outcome, t.Error = Failed, err.Error()
		return t
	}
	tctx, cancel := context.WithTimeout(ctx, tr.timeout)
	res, err := run.Replay(tctx, run.ReplayOptions{
		Trace: tr.trace, Emulate: replay.Default, Inject: run.Inject{Rules: []inject.Rule{rule}},
		RequireView: true, Hide: tr.hide, Check: tr.check, KeepFS: filepath.Join(dir, "fs"),
		Stdout: stdout, Stderr: stderr, CheckStdout: stdout, CheckStderr: stderr,
		Logf: func(format string, args ...any) { fmt.Fprintf(stderr, "hermes: "+format+"\n", args...) },
	})
	timedOut := tctx.Err() != nil && ctx.Err() == nil
	cancel()
	stdout.Close()
	stderr.Close()
	t.StderrTail = tail(filepath.Join(dir, "stderr"), 2048)
	if err != nil {
		t.Outcome, t.Error, t.Dir = Failed, err.Error(), dir
		return t
	}
	t.ExitStatus = res.ExitCode
	if res.Signal != 0 {
		t.Signal = abi.SignalName(res.Signal)
	}
	if res.CheckRan {
		cs := res.CheckStatus
		t.CheckStatus = &cs
	}
	if res.Departure != nil {
		t.Departure = res.Departure.String()
	}
	if res.Divergence != nil {
		t.Divergence = strings.TrimSpace(res.Divergence.Error())
	}
	t.Outcome = classify(c.Fault, res, timedOut)
	if t.Outcome == OK || t.Outcome == Handled || t.Outcome == NotReached {
		os.RemoveAll(dir)
	} else {
		t.Dir = dir
	}
	return t
}

// classify judges a try from how its replay ended.
func classify(f Fault, res run.Result, timedOut bool) Outcome {
	if res.Injected == 0 {
		return NotReached
	}
	return judge(f, res, timedOut)
}

// judge classifies a run that got its fault.
func judge(f Fault, res run.Result, timedOut bool) Outcome {
	sent := f.Kind == Crash && res.Signal == 9
	switch {
	case timedOut || res.Interrupted:
		return Hung
	case res.Signal != 0 && !sent:
		return Crashed
	case res.CheckRan && res.CheckStatus != 0:
		return Corrupt
	case res.ExitCode == 0 && res.Signal == 0:
		return OK
	}
	return Handled
}

// Reproducer is the command line that replays a try from the trace
// alone.
func Reproducer(hermes, trace, check string, specs []string) string {
	var b strings.Builder
	b.WriteString(hermes + " replay")
	for _, s := range specs {
		b.WriteString(" -e " + run.ShellQuote(s))
	}
	if check != "" {
		b.WriteString(" --check " + run.ShellQuote(check))
	}
	b.WriteString(" " + run.ShellQuote(trace))
	return b.String()
}

// sanitize makes a try id a file name.
func sanitize(id string) string {
	b := []byte(id)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == '+' || c == '#' || c == '@') {
			b[i] = '_'
		}
	}
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}

// resetDir makes dir an empty directory of explore's own: one it made
// before (in --out) is emptied.
func resetDir(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.MkdirAll(dir, 0o700)
}

// outputs creates the stdout and stderr files of a run in dir.
func outputs(dir string) (stdout, stderr *os.File, err error) {
	if stdout, err = os.OpenFile(filepath.Join(dir, "stdout"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
		return nil, nil, err
	}
	if stderr, err = os.OpenFile(filepath.Join(dir, "stderr"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
		stdout.Close()
		return nil, nil, err
	}
	return stdout, stderr, nil
}

// tail returns the last n bytes of a file.
func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(st.Size()-n, 0)
	b := make([]byte, st.Size()-off)
	k, _ := f.ReadAt(b, off)
	return string(b[:k])
}

// frameDepth is how many frames a call's fingerprint holds.
const frameDepth = 8

// callFrames walks the call stack of a call (frame pointers, in the
// tracer's core) and names its frames.
func callFrames(sc *tracer.Syscall) []string {
	var buf [frameDepth]uint64
	addrs := sc.Stack(buf[:])
	if len(addrs) == 0 {
		return nil
	}
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = sc.Symbolize(a)
	}
	return out
}
