package explore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/format/recorded"
	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/inject"
	"github.com/hermes-trace/hermes/internal/run"
	"github.com/hermes-trace/hermes/replay"
	"github.com/hermes-trace/hermes/tracer/abi"
)

// RecordedFault is a fault a recording injected, as a rule that puts it
// at the same call again: its thread, its syscall and which call of that
// syscall in the thread it was.
type RecordedFault struct {
	Lineage string
	Name    string
	Nth     int
	Index   int    // the call's index in its thread, as replay numbers them
	Spec    string // inject=NAME:...:when=N:lineage=L
}

// maxFaults bounds the recorded faults minimisation works on.
const maxFaults = 4096

// RecordedFaults lists the faults a trace's recording injected, in the
// recorded order.
func RecordedFaults(path string) ([]RecordedFault, error) {
	r, err := format.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	counts := map[string]map[int32]int{}
	index := map[string]int{}
	var out []RecordedFault
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		s := ev.GetSyscall()
		if s == nil {
			continue
		}
		idx := index[s.Lineage]
		index[s.Lineage]++
		if recorded.Arch(s.Arch) != abi.ArchX86_64 {
			continue
		}
		c := counts[s.Lineage]
		if c == nil {
			c = map[int32]int{}
			counts[s.Lineage] = c
		}
		c[s.Nr]++
		inj := s.Injected
		if inj == nil {
			continue
		}
		name := recorded.Name(s)
		var what string
		switch {
		case inj.AtExit:
			return nil, fmt.Errorf("%s: the recording changed the result of %s#%d %s at its exit: minimisation handles faults injected at entry", path, s.Lineage, idx, name)
		case inj.Action == tracepb.Action_ACTION_DENY:
			what = "error=" + abi.ErrnoName(int(inj.Value))
		case inj.Action == tracepb.Action_ACTION_RETURN:
			what = fmt.Sprintf("retval=%d", inj.Value)
		case inj.Action == tracepb.Action_ACTION_KILL:
			what = "signal=SIGKILL"
		case inj.Action == tracepb.Action_ACTION_SIGNAL && inj.Signal != 0:
			what = "signal=" + abi.SignalName(int(inj.Signal))
		case inj.Action == tracepb.Action_ACTION_DELAY:
			what = fmt.Sprintf("delay_enter=%dns", inj.DelayNs)
		default:
			return nil, fmt.Errorf("%s: the recording changed %s#%d %s in a way a rule cannot say again (%s): minimisation handles failures, return values, signals and delays", path, s.Lineage, idx, name, inj.Action)
		}
		if c[s.Nr] > maxWhen {
			return nil, fmt.Errorf("%s: the fault at %s#%d is %s call %d of its thread: past when=%d", path, s.Lineage, idx, name, c[s.Nr], maxWhen)
		}
		if len(out) >= maxFaults {
			return nil, fmt.Errorf("%s: more than %d recorded faults", path, maxFaults)
		}
		out = append(out, RecordedFault{
			Lineage: s.Lineage, Name: name, Nth: c[s.Nr], Index: idx,
			Spec: fmt.Sprintf("inject=%s:%s:when=%d:lineage=%s", name, what, c[s.Nr], s.Lineage),
		})
	}
	return out, nil
}

// MinimizeOptions configure a minimisation.
type MinimizeOptions struct {
	Trace   string        // a recording that failed under injected faults
	Check   string        // the check that judged it ("" none)
	Timeout time.Duration // per replay (0: MinTimeout)
	Hermes  string        // how reproducers name hermes ("hermes")
	Logf    func(format string, args ...any)
	// Replays, if set, is told of each replay minimisation makes.
	Replays func(n int, kept int)
}

// Minimized is what minimisation found.
type Minimized struct {
	Faults     []RecordedFault // a 1-minimal set that still fails the same way
	Of         int             // how many faults the recording injected
	Outcome    Outcome         // how the recording's replay fails
	ExitStatus int
	Check      *int
	Replays    int
	Reproducer string
}

// verdict is what a replay under a set of faults came to.
type verdict struct {
	outcome Outcome
	status  int
	check   int
}

// Minimize replays a recording that failed under many injected faults
// with subsets of them left out (delta debugging, everything else held
// fixed by the replay) until it has a 1-minimal set that still fails the
// same way: the same outcome, exit status and check status.
func Minimize(ctx context.Context, o MinimizeOptions) (*Minimized, error) {
	faults, err := RecordedFaults(o.Trace)
	if err != nil {
		return nil, &Error{err}
	}
	if len(faults) == 0 {
		return nil, errorf("%s: the recording injected no fault: nothing to minimise", o.Trace)
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = MinTimeout
	}
	hermes := o.Hermes
	if hermes == "" {
		hermes = "hermes"
	}
	dir, err := os.MkdirTemp("", "hermes-minimize-")
	if err != nil {
		return nil, &Error{err}
	}
	defer os.RemoveAll(dir)
	m := &Minimized{Of: len(faults)}
	replayWith := func(set []int) (verdict, error) {
		m.Replays++
		if o.Replays != nil {
			o.Replays(m.Replays, len(set))
		}
		rules := make([]inject.Rule, len(set))
		for i, k := range set {
			if rules[i], err = inject.ParseStrace(faults[k].Spec); err != nil {
				return verdict{}, err
			}
		}
		null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			return verdict{}, err
		}
		defer null.Close()
		tctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		res, err := run.Replay(tctx, run.ReplayOptions{
			Trace: o.Trace, Emulate: replay.Default, Inject: run.Inject{Rules: rules}, DropFaults: true,
			RequireView: true, Check: o.Check,
			Stdin: null, Stdout: null, Stderr: null, CheckStdout: null, CheckStderr: null,
		})
		if err != nil {
			return verdict{}, err
		}
		if ctx.Err() != nil {
			return verdict{}, ctx.Err()
		}
		v := verdict{outcome: judge(Fault{}, res, tctx.Err() != nil), status: res.ExitCode, check: -1}
		if res.CheckRan {
			v.check = res.CheckStatus
		}
		return v, nil
	}
	all := make([]int, len(faults))
	for i := range all {
		all[i] = i
	}
	want, err := replayWith(all)
	if err != nil {
		return nil, errorf("minimize: %v", err)
	}
	if want.outcome == OK {
		return nil, errorf("%s: replayed with all its %d faults the run succeeds (and its check passes): nothing to minimise", o.Trace, len(faults))
	}
	m.Outcome, m.ExitStatus = want.outcome, want.status
	if want.check >= 0 {
		c := want.check
		m.Check = &c
	}
	fails := func(set []int) (bool, error) {
		v, err := replayWith(set)
		return v == want, err
	}
	min, err := ddmin(all, fails)
	if err != nil {
		return nil, errorf("minimize: %v", err)
	}
	specs := make([]string, len(min))
	for i, k := range min {
		m.Faults = append(m.Faults, faults[k])
		specs[i] = faults[k].Spec
	}
	m.Reproducer = strings.Replace(Reproducer(hermes, o.Trace, o.Check, specs), " replay", " replay --no-recorded-faults", 1)
	return m, nil
}

// ddmin is Zeller's delta debugging: it returns a 1-minimal subset of set
// for which fails holds (fails(set) must hold).
func ddmin(set []int, fails func([]int) (bool, error)) ([]int, error) {
	n := 2
	for len(set) >= 2 {
		chunks := split(set, n)
		reduced := false
		for _, c := range chunks {
			ok, err := fails(c)
			if err != nil {
				return nil, err
			}
			if ok {
				set, n, reduced = c, 2, true
				break
			}
		}
		if !reduced && n > 2 {
			for i := range chunks {
				comp := complement(chunks, i)
				ok, err := fails(comp)
				if err != nil {
					return nil, err
				}
				if ok {
					set, n, reduced = comp, max(n-1, 2), true
					break
				}
			}
		}
		if !reduced {
			if n >= len(set) {
				break
			}
			n = min(2*n, len(set))
		}
	}
	return set, nil
}

// split cuts set into n chunks of nearly equal size.
func split(set []int, n int) [][]int {
	var out [][]int
	start := 0
	for i := range n {
		end := start + (len(set)-start)/(n-i)
		if end > start {
			out = append(out, set[start:end])
		}
		start = end
	}
	return out
}

func complement(chunks [][]int, skip int) []int {
	var out []int
	for i, c := range chunks {
		if i != skip {
			out = append(out, c...)
		}
	}
	return out
}
