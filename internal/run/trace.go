package run

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/decode"
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
	po := tracer.PrinterOptions{Selected: o.Trace, FlushLines: true, Times: times}
	var tout *output
	if o.Output != "" {
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
	cfg := tracer.Config{
		Trace:    o.Trace,
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
		cfg.Trace = union(o.Trace, inj.trapped())
	}
	tout.redirect(&cfg, o.Pid != 0, logf)
	res, err := runTracer(ctx, cfg, o.Pid, o.Argv, o.Control, inj, tout.setup, func(tracer.Result) error {
		if err := pr.Flush(); err != nil {
			return fmt.Errorf("writing trace: %w", err)
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
