package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/hermes-trace/hermes/format/recorded"

	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/tracer/abi"
	"github.com/hermes-trace/hermes/tracer/decode"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"
)

type dumpOpts struct {
	json    bool
	exprs   []string
	pid     int
	lineage string
	strSize int
	times   timeFlags
}

// timeFlags are strace's timestamp flags, for trace and dump.
type timeFlags struct {
	abs      int // -t, -tt, -ttt
	rel      bool
	duration bool
}

// addFlags defines -t, -r and -T on f.
func (t *timeFlags) addFlags(f *pflag.FlagSet) {
	f.CountVarP(&t.abs, "absolute-timestamps", "t", "prefix each line with the wall-clock time of the call (-tt: with microseconds, -ttt: seconds since the epoch)")
	f.BoolVarP(&t.rel, "relative-timestamps", "r", false, "prefix each line with the time since the latest call before it started")
	f.BoolVarP(&t.duration, "syscall-times", "T", false, "append the time spent in each syscall, <seconds> (0 for a call hermes answered without running it)")
}

// set reports whether any timestamp flag was given.
func (t *timeFlags) set() bool { return t.abs > 0 || t.rel || t.duration }

// timestamps returns the printer of the asked-for timestamps for event
// times counted from start (Unix nanoseconds), or nil.
func (t *timeFlags) timestamps(start int64) *decode.Timestamps {
	if !t.set() {
		return nil
	}
	return &decode.Timestamps{Absolute: t.abs, Relative: t.rel, Durations: t.duration, Start: start}
}

func newDumpCmd(stdout, stderr io.Writer) *cobra.Command {
	var o dumpOpts
	cmd := &cobra.Command{
		Use:   "dump [flags] FILE|-",
		Short: "Print a recorded trace as strace-like text or JSON lines",
		Long: `Print the syscalls and process events of a trace written by hermes record, in
the text hermes trace prints (decoded from the memory the recording
captured), or as one JSON object per event with --json. A trace recorded
with --stacks has each call's call-site frames on lines of their own after
it (" > MODULE:SYMBOL+0xOFF", innermost first, as strace -k prints them;
"frames" in JSON).

A trace whose writer was killed (FILE.partial) or that is damaged is printed
as far as it can be read; hermes says on stderr how much it recovered and why
it stopped. --pid or --lineage that match no event say so in one line, exit
status 1.

FILE - reads the trace from standard input: hermes record -o - -- CMD |
hermes dump -`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDump(&o, args[0], stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.json, "json", false, "print one JSON object per event")
	f.StringArrayVarP(&o.exprs, "expr", "e", nil, "trace=SET: print only these syscalls (strace syntax)")
	f.IntVar(&o.pid, "pid", 0, "print only events of process `N` (as recorded)")
	f.StringVar(&o.lineage, "lineage", "", "print only events of lineage `L` (1, 1.2, 1.2/t3: a process includes its threads)")
	f.IntVarP(&o.strSize, "string-limit", "s", 32, "print at most `N` bytes of each string")
	o.times.addFlags(f)
	return cmd
}

// eventFilter selects events for dump and stats.
type eventFilter struct {
	sel     []bool // nil: all syscalls
	pid     int
	lineage string
	kept    int // events kept so far
}

func newEventFilter(exprs []string, pid int, lineage string) (*eventFilter, error) {
	f := &eventFilter{pid: pid, lineage: lineage}
	sel, rules, err := parseExprs(exprs)
	if err != nil {
		return nil, &usageError{err}
	}
	if len(rules) > 0 {
		return nil, &usageError{errors.New("-e inject= and fault= apply to live runs, not to a recorded trace")}
	}
	if sel != nil {
		f.sel = make([]bool, 1024)
		for _, nr := range sel {
			f.sel[nr] = true
		}
	}
	return f, nil
}

func (f *eventFilter) keep(ev *tracepb.Event) bool {
	var lineage string
	var pid int32
	switch k := ev.Kind.(type) {
	case *tracepb.Event_Syscall:
		s := k.Syscall
		if f.sel != nil && s.Arch == tracepb.Arch_ARCH_X86_64 && (s.Nr < 0 || int(s.Nr) >= len(f.sel) || !f.sel[s.Nr]) {
			return false
		}
		lineage, pid = s.Lineage, s.Pid
	case *tracepb.Event_Process:
		lineage, pid = k.Process.Lineage, k.Process.Pid
	default:
		return false
	}
	if f.pid != 0 && int(pid) != f.pid {
		return false
	}
	if f.lineage != "" && lineage != f.lineage && !(len(lineage) > len(f.lineage) && lineage[:len(f.lineage)] == f.lineage && lineage[len(f.lineage)] == '/') {
		return false
	}
	f.kept++
	return true
}

// unmatched returns, when --pid or --lineage selected no event at all, an
// error saying so (exitNoMatch); nil otherwise.
func (f *eventFilter) unmatched(path string) error {
	if f.kept > 0 || (f.pid == 0 && f.lineage == "") {
		return nil
	}
	var what []string
	if f.pid != 0 {
		what = append(what, "--pid "+strconv.Itoa(f.pid))
	}
	if f.lineage != "" {
		what = append(what, "--lineage "+f.lineage)
	}
	return &codedError{exitNoMatch, fmt.Errorf("%s: no event matched %s", path, strings.Join(what, " "))}
}

// exitDamaged is the exit status of dump and stats for a trace with
// damage inside it: everything readable was printed, but events were lost.
const exitDamaged = 1

// exitNoMatch is dump's exit status when --pid or --lineage matched
// nothing, as grep's when no line matched.
const exitNoMatch = 1

// reportRecovery says on stderr, in one line, how much of a partial or
// damaged trace was read. For damage inside the trace (events lost, not
// merely a trace that ends early) it returns exitDamaged.
func reportRecovery(r *format.Reader, path string, stderr io.Writer) error {
	n, reason, complete := r.Recovered()
	switch {
	case len(r.Damage()) > 0:
		fmt.Fprintf(stderr, "hermes: %s: damaged trace: read %d events; %s\n", path, n, reason)
		return exitCode(exitDamaged)
	case !complete:
		fmt.Fprintf(stderr, "hermes: %s: partial trace: recovered %d events (%s)\n", path, n, reason)
	}
	return nil
}

func runDump(o *dumpOpts, path string, stdout, stderr io.Writer) error {
	if o.json && o.times.set() {
		return &usageError{errors.New("-t, -r and -T format the text output; --json has enter_ns and exit_ns")}
	}
	filter, err := newEventFilter(o.exprs, o.pid, o.lineage)
	if err != nil {
		return err
	}
	in, err := openTrace(path)
	if err != nil {
		return err
	}
	defer in.Close()
	r := in.Reader
	w := bufio.NewWriterSize(stdout, 64<<10)
	defer w.Flush()
	opts := &decode.Options{StrSize: o.strSize}
	st := o.times.timestamps(r.Header().GetStartTimeUnixNs())
	var line []byte
	enc := json.NewEncoder(w)
	for {
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			w.Flush()
			return err
		}
		if !filter.keep(ev) {
			continue
		}
		imgs := eventPreimages(ev)
		if o.json {
			if err := enc.Encode(jsonEvent(ev, opts)); err != nil {
				return err
			}
			for _, img := range imgs {
				if img.Offset == 0 {
					if err := enc.Encode(jsonPreimage(img)); err != nil {
						return err
					}
				}
			}
			continue
		}
		line = line[:0]
		for _, img := range imgs {
			if img.Offset == 0 {
				line = appendPreimage(line, img)
			}
		}
		switch k := ev.Kind.(type) {
		case *tracepb.Event_Syscall:
			sc := k.Syscall
			line = strconv.AppendInt(line, int64(sc.Tid), 10)
			line = append(line, ' ')
			line = st.AppendPrefix(line, sc.EnterNs)
			line = recorded.AppendSyscall(line, sc, opts)
			if !sc.EntryOnly && sc.ExitNs != 0 {
				line = st.AppendDuration(line, sc.ExitNs-sc.EnterNs)
			}
			for _, fr := range sc.Frames {
				// Call-site frames (record --stacks), as strace -k prints them.
				line = append(line, "\n > "...)
				line = append(line, fr...)
			}
		case *tracepb.Event_Process:
			p := k.Process
			if !printedProcess(p.Kind) {
				continue // fork, thread, exec: strace prints no line
			}
			line = strconv.AppendInt(line, int64(p.Tid), 10)
			line = append(line, ' ')
			line = st.AppendPrefix(line, p.TimeNs)
			line = appendProcess(line, p)
		}
		line = append(line, '\n')
		if _, err := w.Write(line); err != nil {
			return err
		}
	}
	w.Flush()
	if err := reportRecovery(r, in.name, stderr); err != nil {
		return err
	}
	return filter.unmatched(in.name)
}

// eventPreimages returns the pre-images an event carries.
func eventPreimages(ev *tracepb.Event) []*tracepb.FileImage {
	if p := ev.GetProcess(); p != nil {
		return p.Preimages
	}
	return ev.GetSyscall().GetPreimages()
}

// appendPreimage renders a pre-image as a line of its own, in strace's
// "--- ... ---" manner.
func appendPreimage(dst []byte, img *tracepb.FileImage) []byte {
	dst = append(dst, "--- pre-image "...)
	dst = strconv.AppendQuote(dst, img.Path)
	dst = append(dst, ": "...)
	dst = append(dst, preimageText(img)...)
	return append(dst, " ---\n"...)
}

// preimageText describes what a path was.
func preimageText(img *tracepb.FileImage) string {
	if !img.Exists {
		return "did not exist"
	}
	perm := fmt.Sprintf("%04o", img.Mode&0o7777)
	switch img.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		s := fmt.Sprintf("regular file %s, %d bytes", perm, img.Size)
		if img.OverLimit {
			s += " (contents over --preimage-max: only their digest kept)"
		}
		return s
	case unix.S_IFDIR:
		return "directory " + perm
	case unix.S_IFLNK:
		return "symbolic link to " + strconv.Quote(img.Link)
	case unix.S_IFIFO:
		return "FIFO " + perm
	}
	return fmt.Sprintf("file of mode %#o", img.Mode)
}

// jsonPreimage is a pre-image in dump --json.
func jsonPreimage(img *tracepb.FileImage) any {
	return struct {
		Type      string `json:"type"`
		Path      string `json:"path"`
		Exists    bool   `json:"exists"`
		Mode      uint32 `json:"mode"`
		Size      int64  `json:"size"`
		Link      string `json:"link,omitempty"`
		SHA256    string `json:"sha256,omitempty"`
		OverLimit bool   `json:"over_limit,omitempty"`
		Text      string `json:"text"`
	}{"preimage", img.Path, img.Exists, img.Mode, img.Size, img.Link, hex.EncodeToString(img.Sha256), img.OverLimit, preimageText(img)}
}

// printedProcess reports whether strace prints a line for a process event
// of kind k.
func printedProcess(k tracepb.ProcessKind) bool {
	switch k {
	case tracepb.ProcessKind_PROCESS_KIND_SIGNAL, tracepb.ProcessKind_PROCESS_KIND_STOP, tracepb.ProcessKind_PROCESS_KIND_EXIT:
		return true
	}
	return false
}

// appendProcess renders a process event like strace; dst unchanged for
// the events strace does not print (see printedProcess).
func appendProcess(dst []byte, p *tracepb.Process) []byte {
	switch p.Kind {
	case tracepb.ProcessKind_PROCESS_KIND_SIGNAL:
		dst = append(dst, "--- "...)
		dst = append(dst, abi.SignalName(int(p.Signal))...)
		dst = append(dst, ' ')
		dst = decode.AppendSiginfoBytes(dst, p.Siginfo)
		return append(dst, " ---"...)
	case tracepb.ProcessKind_PROCESS_KIND_STOP:
		dst = append(dst, "--- stopped by "...)
		dst = append(dst, abi.SignalName(int(p.Signal))...)
		return append(dst, " ---"...)
	case tracepb.ProcessKind_PROCESS_KIND_EXIT:
		if p.Signal != 0 {
			dst = append(dst, "+++ killed by "...)
			dst = append(dst, abi.SignalName(int(p.Signal))...)
			if p.Core {
				dst = append(dst, " (core dumped)"...)
			}
			return append(dst, " +++"...)
		}
		dst = append(dst, "+++ exited with "...)
		dst = strconv.AppendInt(dst, int64(p.ExitStatus), 10)
		return append(dst, " +++"...)
	}
	return dst
}

// jsonMem is a captured memory range in JSON.
type jsonMem struct {
	Addr   string `json:"addr"`
	Kind   string `json:"kind"`
	Arg    uint32 `json:"arg"`
	Data   string `json:"data"` // hex
	Size   uint64 `json:"size,omitempty"`
	Digest string `json:"digest,omitempty"` // hex CRC-32C of all size bytes, when data is a summary
}

type jsonInjected struct {
	By      string    `json:"by,omitempty"`
	Action  string    `json:"action"`
	Value   int64     `json:"value,omitempty"`
	DelayNs uint64    `json:"delay_ns,omitempty"`
	Signal  int32     `json:"signal,omitempty"`
	SetArgs uint32    `json:"set_args,omitempty"`
	Args    []string  `json:"args,omitempty"`
	Writes  []jsonMem `json:"writes,omitempty"`
}

// jsonSyscall is one syscall event of dump --json.
type jsonSyscall struct {
	Type      string        `json:"type"`
	Seq       uint64        `json:"seq"`
	Lineage   string        `json:"lineage"`
	Pid       int32         `json:"pid"`
	Tid       int32         `json:"tid"`
	EnterNs   int64         `json:"enter_ns"`
	ExitNs    int64         `json:"exit_ns,omitempty"`
	Arch      string        `json:"arch"`
	Nr        int32         `json:"nr"`
	Name      string        `json:"name"`
	Text      string        `json:"text"`
	Args      []string      `json:"args"`
	Ret       *int64        `json:"ret,omitempty"`
	Errno     string        `json:"errno,omitempty"`
	EntryOnly bool          `json:"entry_only,omitempty"`
	Regs      string        `json:"regs"`
	ExitRegs  string        `json:"exit_regs,omitempty"`
	Mem       []jsonMem     `json:"mem,omitempty"`
	Injected  *jsonInjected `json:"injected,omitempty"`
	Frames    []string      `json:"frames,omitempty"` // call-site frames, innermost first (record --stacks)
	// Order is the call's place in the order the threads entered their
	// calls, ExitAfter the order of the last call entered when it
	// returned (format 1.7; what ordered replay keeps).
	Order     uint64 `json:"order,omitempty"`
	ExitAfter uint64 `json:"exit_after,omitempty"`
}

type jsonProcess struct {
	Type         string `json:"type"`
	Kind         string `json:"kind"`
	Seq          uint64 `json:"seq"`
	Lineage      string `json:"lineage"`
	Pid          int32  `json:"pid"`
	Tid          int32  `json:"tid"`
	TimeNs       int64  `json:"time_ns"`
	ChildLineage string `json:"child_lineage,omitempty"`
	ChildPid     int32  `json:"child_pid,omitempty"`
	Signal       string `json:"signal,omitempty"`
	ExitStatus   *int32 `json:"exit_status,omitempty"`
	Core         bool   `json:"core,omitempty"`
	ExecPath     string `json:"exec_path,omitempty"`
	OldTid       int32  `json:"old_tid,omitempty"`
	Siginfo      string `json:"siginfo,omitempty"`
}

func jsonMems(ms []*tracepb.Mem) []jsonMem {
	out := make([]jsonMem, 0, len(ms))
	for _, m := range ms {
		kind := "in"
		if m.Kind == tracepb.MemKind_MEM_KIND_OUT {
			kind = "out"
		}
		out = append(out, jsonMem{Addr: fmt.Sprintf("%#x", m.Addr), Kind: kind, Arg: m.Arg, Data: hex.EncodeToString(m.Data), Size: m.Size, Digest: hex.EncodeToString(m.Digest)})
	}
	return out
}

func jsonEvent(ev *tracepb.Event, opts *decode.Options) any {
	switch k := ev.Kind.(type) {
	case *tracepb.Event_Syscall:
		s := k.Syscall
		arch := recorded.Arch(s.Arch)
		j := &jsonSyscall{
			Type: "syscall", Seq: s.Seq, Lineage: s.Lineage, Pid: s.Pid, Tid: s.Tid,
			EnterNs: s.EnterNs, ExitNs: s.ExitNs, Arch: arch.String(), Nr: s.Nr,
			Name: abi.Name(arch, int(s.Nr)), Text: string(recorded.AppendSyscall(nil, s, opts)),
			EntryOnly: s.EntryOnly, Regs: hex.EncodeToString(s.Regs), ExitRegs: hex.EncodeToString(s.ExitRegs),
			Mem: jsonMems(s.Mem), Frames: s.Frames, Order: s.Order, ExitAfter: s.ExitAfter,
		}
		for _, a := range format.Args(s) {
			j.Args = append(j.Args, fmt.Sprintf("%#x", a))
		}
		if !s.EntryOnly {
			ret := s.Ret
			j.Ret = &ret
			if ret < 0 && ret >= -4095 {
				j.Errno = abi.ErrnoName(int(-ret))
			}
		}
		if in := s.Injected; in != nil {
			ji := &jsonInjected{By: in.By, Action: in.Action.String(), Value: in.Value, DelayNs: in.DelayNs,
				Signal: in.Signal, SetArgs: in.SetArgs, Writes: jsonMems(in.Writes)}
			for _, a := range in.Args {
				ji.Args = append(ji.Args, fmt.Sprintf("%#x", a))
			}
			j.Injected = ji
		}
		return j
	case *tracepb.Event_Process:
		p := k.Process
		j := &jsonProcess{
			Type: "process", Kind: p.Kind.String(), Seq: p.Seq, Lineage: p.Lineage, Pid: p.Pid, Tid: p.Tid,
			TimeNs: p.TimeNs, ChildLineage: p.ChildLineage, ChildPid: p.ChildPid, Core: p.Core,
			ExecPath: p.ExecPath, OldTid: p.OldTid, Siginfo: hex.EncodeToString(p.Siginfo),
		}
		if p.Signal != 0 {
			j.Signal = abi.SignalName(int(p.Signal))
		}
		if p.Kind == tracepb.ProcessKind_PROCESS_KIND_EXIT {
			st := p.ExitStatus
			j.ExitStatus = &st
		}
		return j
	}
	return map[string]string{"type": "unknown"}
}
