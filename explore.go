package hermes

import (
	"context"
	"time"

	"github.com/hermes-trace/hermes/internal/explore"
)

// ExploreReport is what an exploration found: one Try per fault tried,
// counts by outcome, and a reproducer for each try. Its JSON form is what
// hermes explore --report writes (README.md, "Chaos tests in CI").
type ExploreReport = explore.Report

// Try is one fault tried by Explore.
type Try = explore.Try

// Outcome classifies a try: ok, handled, crashed, hung, corrupt,
// not-reached, error.
type Outcome = explore.Outcome

// The outcomes of a try.
const (
	OK         = explore.OK
	Handled    = explore.Handled
	Crashed    = explore.Crashed
	Hung       = explore.Hung
	Corrupt    = explore.Corrupt
	NotReached = explore.NotReached
	TryFailed  = explore.Failed
)

// ExploreOptions configure Explore. The zero value explores the default
// fault space (README.md lists it), two calls per site, as many tries at
// once as there are CPUs.
type ExploreOptions struct {
	Env   []string // the command's environment (nil: this process's)
	Dir   string   // its working directory ("": this process's)
	Check string   // shell command judging the files a try left; "" none
	// Faults are --faults items: "write:ENOSPC,short", "%file:EACCES",
	// "default" (nil: the default table).
	Faults []string
	// Paths keeps only calls on paths matching one of these globs.
	Paths   []string
	PerSite int           // calls of each site tried (0: 2)
	Jobs    int           // tries at once (0: the number of CPUs)
	Budget  int           // at most this many tries (0: no bound)
	Within  time.Duration // no try starts after this (0: no bound)
	Timeout time.Duration // a try running longer is hung (0: ten times the clean run, at least 10s)
	Out     string        // where the recording and failing tries' files go (default "hermes-explore" in Dir)
	FailOn  []Outcome     // the outcomes ExploreReport.Failing returns (nil: crashed, hung, corrupt)
	// Progress, if set, is called after each try.
	Progress func(done, total, failing int)
	// Logf receives hermes's own notes; nil discards them.
	Logf func(format string, args ...any)
}

// Explore records one clean run of argv in a private view of the files
// (the real tree is left as it was), lists the calls where a fault could
// land, groups them into sites by call stack, and tries each site's
// faults by replaying the recording with that one fault, each try in a
// view of its own, judged by its exit and opts.Check. An error means the
// exploration could not be made: bad options, a clean run that fails or
// whose check fails, no private view of the files.
func Explore(ctx context.Context, argv []string, opts ExploreOptions) (*ExploreReport, error) {
	space, err := explore.ParseFaults(opts.Faults)
	if err != nil {
		return nil, err
	}
	return explore.Explore(ctx, explore.Options{
		Argv: argv, Env: opts.Env, Dir: opts.Dir, Check: opts.Check, Space: space, Paths: opts.Paths,
		PerSite: opts.PerSite, Jobs: opts.Jobs, Budget: opts.Budget, BudgetTime: opts.Within, Timeout: opts.Timeout,
		Out: opts.Out, FailOn: opts.FailOn, Progress: opts.Progress, Logf: opts.Logf,
	})
}
