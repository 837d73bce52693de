package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	hrun "github.com/hermes-trace/hermes/internal/run"
	"github.com/hermes-trace/hermes/record"
	"github.com/spf13/cobra"
)

type recordOpts struct {
	output    string
	exprs     []string
	pid       int
	noPin     bool
	nondet    bool
	summarize bool
	fsync     bool
	redactEnv []string
	// noPreimages turns pre-images off; preimageMax is their size limit.
	noPreimages bool
	preimageMax byteSize
	// timePrecision is the resolution of event times; default 1µs.
	timePrecision timePrecision
	inject        injectOpts
	stacks        bool
}

// timePrecision is the --time-precision flag: ns, us or ms.
type timePrecision time.Duration

// String implements pflag.Value.
func (p *timePrecision) String() string {
	switch time.Duration(*p) {
	case time.Nanosecond:
		return "ns"
	case time.Millisecond:
		return "ms"
	}
	return "us"
}

// Set implements pflag.Value.
func (p *timePrecision) Set(s string) error {
	switch s {
	case "ns":
		*p = timePrecision(time.Nanosecond)
	case "us", "µs":
		*p = timePrecision(time.Microsecond)
	case "ms":
		*p = timePrecision(time.Millisecond)
	default:
		return fmt.Errorf("%q is not ns, us or ms", s)
	}
	return nil
}

// Type implements pflag.Value.
func (p *timePrecision) Type() string { return "ns|us|ms" }

func newRecordCmd(stderr io.Writer) *cobra.Command {
	var o recordOpts
	cmd := &cobra.Command{
		Use:   "record [flags] [--] CMD [ARGS...] | record -p PID",
		Short: "Record every traced syscall of a command into a trace file",
		Long: `Run CMD (or attach to PID) and record every traced syscall of it and all its
children and threads: registers at entry, result, timestamps, the strings and
paths it passed and every buffer the kernel wrote, plus forks, execs, signals
and exits. The trace is written as FILE.partial and renamed to FILE at the
end; if hermes is killed, FILE.partial keeps every complete chunk. The file
is mode 0600 and only ever replaces a regular file of yours. -o - (or a
pipe, a FIFO, a character device) streams the trace instead, and the
command's standard output then goes to standard error: hermes record -o -
-- CMD | hermes dump -. hermes exits 141 if the reader of the stream goes.

Environment variables whose names look like secrets (--redact-env) are
stored in the trace as "hermes-redacted:sha256:<hex digest>"; hermes replay
takes them from --env or its own environment.

hermes exits with the command's exit status.`,
		Example: `  hermes record -- make
  hermes record -o run.trace -e trace=%file,%network -- ./server
  hermes record --inject builtin:random-eio --seed 7 -- ./app`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRecord(&o, args, stderr)
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false)
	f.StringVarP(&o.output, "output", "o", "hermes.trace", "write the trace to `FILE`")
	f.StringArrayVarP(&o.exprs, "expr", "e", nil, "qualifying `EXPR`: trace=SET, inject=..., fault=... (strace syntax; repeatable)")
	f.VarP((*pidFlag)(&o.pid), "pid", "p", "attach to the running process `PID` and all its threads")
	f.BoolVar(&o.noPin, "no-pin", false, "let the command use every CPU (see hermes trace --help)")
	o.timePrecision = timePrecision(time.Microsecond)
	f.Var(&o.timePrecision, "time-precision", "resolution of the entry and exit times in the trace (ns costs about 2.5 bytes an event more; the tracer's own clock reads add microseconds of jitter)")
	f.BoolVar(&o.summarize, "summarize", false, "keep only the first 64 bytes and a CRC-32C of written data and of file and directory reads (smaller traces; replay still checks them)")
	f.BoolVar(&o.fsync, "fsync", false, "fsync the trace when it is complete, so it survives a crash of the machine")
	f.StringArrayVar(&o.redactEnv, "redact-env", nil, "store environment variables named like glob `PATTERN` as a digest, not their value (repeatable; default "+strings.Join(hrun.DefaultRedact, " ")+"; none: not these defaults)")
	f.BoolVar(&o.nondet, "nondeterministic", false, "leave ASLR on and the vDSO unpatched: clock reads are not syscalls then, and the trace will not replay exactly")
	o.preimageMax = record.DefaultPreimageMax
	f.Var(&o.preimageMax, "preimage-max", "keep the contents of a changed file for replay only up to `SIZE` (past it, only a digest; replay cannot restore such a file)")
	f.BoolVar(&o.noPreimages, "no-preimages", false, "keep no pre-images of the files the command changes (replay then runs on the live file system)")
	f.BoolVar(&o.stacks, "stacks", false, "record each call's call sites (frame-pointer walk, symbolized; hermes dump prints them)")
	o.inject.addFlags(f)
	addChaosFlag(f, &o.inject.chaos)
	return cmd
}

// byteSize is a size flag: a number of bytes with an optional k, M or G
// suffix (powers of 1024).
type byteSize int64

// String implements pflag.Value.
func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

// Set implements pflag.Value.
func (b *byteSize) Set(s string) error {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		mult = 1 << 10
	case strings.HasSuffix(s, "M"):
		mult = 1 << 20
	case strings.HasSuffix(s, "G"):
		mult = 1 << 30
	}
	num := s
	if mult > 1 {
		num = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > (1<<50)/mult {
		return fmt.Errorf("%q is not a size (bytes, or a number with k, M or G)", s)
	}
	*b = byteSize(n * mult)
	return nil
}

// Type implements pflag.Value.
func (b *byteSize) Type() string { return "SIZE" }

func runRecord(o *recordOpts, args []string, stderr io.Writer) error {
	if o.pid != 0 && len(args) > 0 {
		return &usageError{errors.New("give either -p PID or a command, not both")}
	}
	if o.pid == 0 && len(args) == 0 {
		return &usageError{errors.New("missing command: hermes record [flags] -- CMD [ARGS...] or -p PID")}
	}
	sel, rules, err := parseExprs(o.exprs)
	if err != nil {
		return &usageError{err}
	}
	if _, err := hrun.EnvRedactor(o.redactEnv); err != nil {
		return &usageError{err}
	}
	inj, err := o.inject.toInject(rules, stderr)
	if err != nil {
		return err
	}
	if err := chaosSpaced(o.inject.chaos, args); err != nil {
		return err
	}
	ctl, done := forwardSignals(stderr)
	defer done()
	res, err := hrun.Record(context.Background(), hrun.RecordOptions{
		Argv: args, Pid: o.pid, Output: o.output, Trace: sel, Inject: inj,
		Summarize: o.summarize, Fsync: o.fsync, RedactEnv: o.redactEnv, Nondeterministic: o.nondet,
		NoPreimages: o.noPreimages, PreimageMax: int64(o.preimageMax), TimePrecision: time.Duration(o.timePrecision),
		NoPin: o.noPin, Stacks: o.stacks, Progress: stderr, Control: ctl, Logf: logTo(stderr),
	})
	return exitOf(res, err, o.pid != 0)
}
