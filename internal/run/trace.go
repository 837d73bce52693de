package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
	"github.com/hermes-trace/hermes/tracer/decode"
	"golang.org/x/sys/unix"
)

// TraceOptions configure Trace: strace -f.
type TraceOptions struct {
	Argv []string // the command (with Pid 0)
	Env  []string // nil: hermes's own
	Dir  string   // "": hermes's
	// Stdin, Stdout and Stderr of the target; nil inherits.
	Stdin, Stdout, Stderr *os.File
	Pid                   int   // attach instead of launching
	Trace                 []int // x86_64 syscall numbers to print; nil all
	// Output is the file the text goes to (see openOutput: "-" is
	// standard output, a pipe or a device is written through); "" writes
	// to Writer.
	Output string
	Writer io.Writer // where the text goes without Output; nil: os.Stderr
	// StrSize is how many bytes of each string are printed (0: none).
	StrSize int
	// Times asks for strace's timestamps (-t, -r, -T); Start is set by Trace.
	Times   *decode.Timestamps
	NoPin   bool
	Inject  Inject
	Control *Control
	Logf    func(format string, args ...any)

	// Summary is strace's -c (SummaryOnly: the table instead of the lines)
	// and -C (Summary: the table after the lines): calls, errors and time
	// per syscall, written where the lines go (Writer with PerThread).
	Summary, SummaryOnly bool
	// Results prints only the calls that succeeded (-z) or failed (-Z).
	Results tracer.ResultFilter
	// Paths prints only the calls on these paths (-P); the caller adds
	// their canonical forms.
	Paths []string
	// FDNames is -y (1) or -yy (2).
	FDNames int
	// Stacks prints each call's stack (-k).
	Stacks bool
	// PerThread writes each thread's lines to Output.TID (-ff -o
	// Output), without thread ids.
	PerThread bool
	// Notes gets the "Process N attached"/"detached" lines of an attach
	// (nil: none).
	Notes io.Writer
}

// Trace runs (or attaches to) a command and prints its syscalls as strace
// -f does.
func Trace(ctx context.Context, o TraceOptions) (Result, error) {
	logf := logger(o.Logf)
	inj, err := o.Inject.build(seedOf(o.Inject), logf)
	if err != nil {
		return Result{}, err
	}
	var out io.Writer = o.Writer
	if out == nil {
		out = os.Stderr
	}
	epoch := time.Now()
	var times *decode.Timestamps
	if o.Times != nil {
		ts := *o.Times
		ts.Start = epoch.UnixNano()
		times = &ts
	}
	po := tracer.PrinterOptions{Selected: o.Trace, FlushLines: true, Times: times,
		Results: o.Results, Paths: o.Paths, FDNames: o.FDNames, Stacks: o.Stacks, Notes: o.Notes}
	var summary *decode.Summary
	if o.Summary || o.SummaryOnly {
		summary = &decode.Summary{}
		po.Summary, po.Quiet = summary, o.SummaryOnly
	}
	var tout *output
	if o.PerThread {
		if err := perThreadOutput(o.Output, &po); err != nil {
			inj.close()
			return Result{}, err
		}
		po.FlushLines = false
	} else if o.Output != "" {
		// Write-only, 0600, never through a planted link: see openOutput.
		if tout, err = openOutput(o.Output, false); err != nil {
			inj.close()
			return Result{}, err
		}
		defer tout.Close()
		out = tout
		// A pipe's reader (| head) wants the lines as they come.
		po.FlushLines, po.ToFile = tout.live, true
	}
	pr := tracer.NewPrinter(out, decode.Options{StrSize: o.StrSize}, po)
	trapped := o.Trace
	if len(o.Paths) > 0 {
		// Only calls on files, descriptors and sockets can name a path.
		trapped = pathCalls(o.Trace)
	}
	cfg := tracer.Config{
		Trace:    trapped,
		Env:      o.Env,
		Dir:      o.Dir,
		Stdin:    o.Stdin,
		Stdout:   o.Stdout,
		Stderr:   o.Stderr,
		NoPin:    o.NoPin,
		Epoch:    epoch,
		Handlers: []tracer.Handler{pr},
		Logf:     logf,
	}
	o.Inject.ioUring(&cfg, inj.active())
	if inj.active() {
		// The injection decides first; the printer shows the outcome.
		cfg.Handlers = append(inj.handlers(), pr)
		// Only what the script acts on is trapped: ev.fdpath then comes
		// from /proc rather than from trapping every open and close.
		cfg.Trace = union(trapped, inj.trapped())
	}
	tout.redirect(&cfg, o.Pid != 0, logf)
	res, err := runTracer(ctx, cfg, o.Pid, o.Argv, o.Control, inj, tout.setup, func(tracer.Result) error {
		if err := pr.Close(); err != nil {
			return fmt.Errorf("writing trace: %w", err)
		}
		if summary != nil {
			if _, err := summary.WriteTo(out); err != nil {
				return fmt.Errorf("writing trace: %w", err)
			}
		}
		return nil
	})
	return result(res, inj), tout.result(err)
}

// seedOf is the seed of a trace or record run.
func seedOf(in Inject) uint64 {
	if in.SeedSet {
		return in.Seed
	}
	return newSeed()
}

// perThreadOutput sets up -ff: every thread's lines in a file of its own,
// PREFIX.TID, each created as trace's text output is (0600, never through
// a link, never over another user's file).
func perThreadOutput(prefix string, po *tracer.PrinterOptions) error {
	if prefix == "" {
		return errors.New("-ff needs -o FILE: each thread's trace goes to FILE.TID")
	}
	if _, ok := fdAlias(prefix); ok {
		return fmt.Errorf("-ff -o %s: each thread's trace goes to a file of its own: give a file name", outputName(prefix))
	}
	dir := filepath.Dir(prefix)
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("output %s: %w", prefix, errors.Unwrap(err))
	}
	if !st.IsDir() {
		return fmt.Errorf("output %s: %s is not a directory", prefix, dir)
	}
	if err := unix.Access(dir, unix.W_OK); err != nil {
		return fmt.Errorf("output %s: directory not writable: %w", prefix, err)
	}
	po.PerThread = func(tid int) (io.WriteCloser, error) {
		f, err := CreateText(prefix + "." + strconv.Itoa(tid))
		if err != nil {
			return nil, fmt.Errorf("output: %w", err)
		}
		return f, nil
	}
	return nil
}

// pathCalls returns the syscalls of sel (nil: all) that -P can select.
func pathCalls(sel []int) []int {
	var out []int
	keep := func(nr int) {
		if info := abi.X86_64(nr); info != nil && info.In(tracer.PathClasses) {
			out = append(out, nr)
		}
	}
	if sel == nil {
		for nr := 0; nr < 1024; nr++ {
			keep(nr)
		}
	} else {
		for _, nr := range sel {
			keep(nr)
		}
	}
	if out == nil {
		out = []int{}
	}
	return out
}
