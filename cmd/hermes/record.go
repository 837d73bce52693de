package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/inject"
	"github.com/hermes-trace/hermes/record"
	"github.com/hermes-trace/hermes/tracer"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
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
	f.IntVarP(&o.pid, "pid", "p", 0, "attach to the running process `PID` and all its threads")
	f.BoolVar(&o.noPin, "no-pin", false, "let the command use every CPU (see hermes trace --help)")
	o.timePrecision = timePrecision(time.Microsecond)
	f.Var(&o.timePrecision, "time-precision", "resolution of the entry and exit times in the trace (ns costs about 2.5 bytes an event more; the tracer's own clock reads add microseconds of jitter)")
	f.BoolVar(&o.summarize, "summarize", false, "keep only the first 64 bytes and a CRC-32C of written data and of file and directory reads (smaller traces; replay still checks them)")
	f.BoolVar(&o.fsync, "fsync", false, "fsync the trace when it is complete, so it survives a crash of the machine")
	f.StringArrayVar(&o.redactEnv, "redact-env", nil, "store environment variables named like glob `PATTERN` as a digest, not their value (repeatable; default "+strings.Join(defaultRedact, " ")+"; none: not these defaults)")
	f.BoolVar(&o.nondet, "nondeterministic", false, "leave ASLR on and the vDSO visible: clock reads are not syscalls then, and the trace will not replay exactly")
	o.preimageMax = record.DefaultPreimageMax
	f.Var(&o.preimageMax, "preimage-max", "keep the contents of a changed file for replay only up to `SIZE` (past it, only a digest; replay cannot restore such a file)")
	f.BoolVar(&o.noPreimages, "no-preimages", false, "keep no pre-images of the files the command changes (replay then runs on the live file system)")
	f.BoolVar(&o.stacks, "stacks", false, "record each call's call sites (frame-pointer walk, symbolized; hermes dump prints them)")
	o.inject.addFlags(f)
	return cmd
}

// hiddenOutputs returns the absolute paths of a regular-file trace output
// and its FILE.partial, which the recorded program must not see; none for
// an output that is a stream (standard output, a pipe, a device).
func hiddenOutputs(path string) []string {
	if path == "-" {
		return nil
	}
	if st, err := os.Lstat(path); err == nil && !st.Mode().IsRegular() {
		return nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil
	}
	if dir, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		abs = filepath.Join(dir, filepath.Base(abs))
	}
	return []string{abs, abs + ".partial"}
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
	redact, err := envRedactor(o.redactEnv)
	if err != nil {
		return &usageError{err}
	}
	// Opened (and checked) before the command starts; see openOutput.
	out, err := openOutput(o.output, true)
	if err != nil {
		return err
	}
	defer out.Close()
	eng, err := o.inject.engine(rules, stderr)
	if err != nil {
		return err
	}
	// Event times count from the header's start time, so that dump -tt
	// prints the wall clock of each call.
	epoch := time.Now()
	hdr := header(args, o.pid, epoch)
	hdr.Env = redact(hdr.Env)
	// One seed per run, stored: a replay that departs from the recording
	// draws what it needs from it.
	if eng != nil {
		hdr.Seed = eng.Seed()
	} else if o.inject.seed != "" {
		if hdr.Seed, err = strconv.ParseUint(o.inject.seed, 0, 64); err != nil {
			return &usageError{fmt.Errorf("--seed %q: not an unsigned integer", o.inject.seed)}
		}
	} else {
		hdr.Seed = inject.NewSeed()
	}
	trapped := sel
	if eng != nil {
		trapped = union(sel, eng.Trapped())
	}
	// A launched run keeps pre-images of the files it changes, so that
	// replay can show them as they were, and hides its own trace: with
	// -e trace= narrowing what is recorded, the calls those need are
	// trapped, not recorded.
	preimages := o.pid == 0 && !o.noPreimages
	recorded := trapped
	hide := hiddenOutputs(o.output)
	if preimages && trapped != nil {
		trapped = union(trapped, record.FSCalls())
	}
	if len(hide) > 0 && trapped != nil {
		trapped = union(trapped, record.HideCalls())
	}
	for _, nr := range recorded {
		hdr.Traced = append(hdr.Traced, int32(nr))
	}
	if len(hide) > 0 {
		hdr.OutputPath = hide[0]
	}
	hdr.Preimages = preimages
	if preimages {
		hdr.PreimageMax = int64(o.preimageMax)
	}
	slices.Sort(hdr.Traced)
	hdr.Traced = slices.Compact(hdr.Traced)
	hdr.Deterministic = o.pid == 0 && !o.nondet
	hdr.TimeResolutionNs = int64(o.timePrecision)
	w, err := out.create(hdr, format.WriterOptions{Sync: o.fsync})
	if err != nil {
		return err
	}
	rec := record.New(w, record.Options{Summarize: o.summarize, Only: recorded, TimeResolution: hdr.TimeResolutionNs,
		Hide: hide, Preimages: preimages, PreimageMax: int64(o.preimageMax), Stacks: o.stacks})
	cfg := tracer.Config{
		Trace:         trapped,
		NoPin:         o.noPin,
		Deterministic: hdr.Deterministic,
		Epoch:         epoch,
		TrackFDs:      true,
		Handlers:      []tracer.Handler{rec},
		Logf:          func(format string, a ...any) { fmt.Fprintf(stderr, "hermes: "+format+"\n", a...) },
	}
	if eng != nil {
		// The engine decides, the recorder writes down what it decided.
		cfg.Handlers = []tracer.Handler{eng, rec}
	}
	out.redirect(&cfg, o.pid != 0, stderr)
	stop := startProgress(stderr, w)
	err = runTracer(cfg, o.pid, args, eng, out.setup, func(tracer.Result) error {
		stop()
		rec.Finish()
		err := rec.Err()
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("writing trace: %w", err)
		}
		return nil
	})
	return out.result(err)
}

// header describes the run for the trace file; start is the zero of its
// event times.
func header(args []string, pid int, start time.Time) *tracepb.TraceHeader {
	h := &tracepb.TraceHeader{
		Argv: args, Env: os.Environ(), Arch: "x86_64",
		StartTimeUnixNs: start.UnixNano(), HermesVersion: version, Tool: "hermes record",
	}
	if pid != 0 {
		h.Extra = map[string]string{"attached_pid": fmt.Sprint(pid)}
		if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
			h.Argv = strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		}
	}
	if wd, err := os.Getwd(); err == nil {
		h.Cwd = wd
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		h.KernelRelease = unix.ByteSliceToString(u.Release[:])
	}
	return h
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// startProgress shows a one-line progress display on a terminal stderr,
// and returns the function that erases it.
func startProgress(stderr io.Writer, w *format.Writer) func() {
	if !isTerminal(stderr) {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		start := time.Now()
		for {
			select {
			case <-done:
				fmt.Fprint(stderr, "\r\x1b[K")
				return
			case <-tick.C:
				st := w.Stats()
				rate := float64(st.Events) / time.Since(start).Seconds()
				fmt.Fprintf(stderr, "\r\x1b[Khermes: %d events, %.1f MiB written, %.0f events/s", st.Events, float64(st.Bytes)/(1<<20), rate)
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			wg.Wait()
		})
	}
}
