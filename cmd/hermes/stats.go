package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/hermes-trace/hermes/format/recorded"
	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/tracer/abi"
	"github.com/hermes-trace/hermes/tracer/decode"
	"github.com/spf13/cobra"
)

func newStatsCmd(stdout, stderr io.Writer) *cobra.Command {
	var exprs []string
	var pid int
	var lineage string
	cmd := &cobra.Command{
		Use:   "stats [flags] FILE|-",
		Short: "Summarise a recorded trace like strace -c",
		Long: `Print, for a trace written by hermes record, the calls, errors and time spent
in each syscall in strace -c's layout, the calls of each process with the
program it ran, the faults hermes injected per syscall and errno, and the
size of the trace. FILE - reads the trace from standard input.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStats(args[0], exprs, pid, lineage, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&exprs, "expr", "e", nil, "trace=SET: count only these syscalls (strace syntax)")
	f.IntVar(&pid, "pid", 0, "count only events of process `N` (as recorded)")
	f.StringVar(&lineage, "lineage", "", "count only events of lineage `L`")
	return cmd
}

// procStats is one process (lineage) of the process table.
type procStats struct {
	lineage     string
	programs    []string // the images it ran, in order (exec by exec)
	provisional bool     // programs holds the command line's name or the parent's program, until an exec
	calls       int
	errors      int
	ns          int64
}

// faultKey is one row of the injected faults table.
type faultKey struct{ syscall, fault string }

func runStats(path string, exprs []string, pid int, lineage string, stdout, stderr io.Writer) error {
	filter, err := newEventFilter(exprs, pid, lineage)
	if err != nil {
		return err
	}
	in, err := openTrace(path)
	if err != nil {
		return err
	}
	defer in.Close()
	r := in.Reader
	var sum decode.Summary
	procs := map[string]*procStats{}
	proc := func(l string) *procStats {
		p := procs[l]
		if p == nil {
			p = &procStats{lineage: l}
			procs[l] = p
		}
		return p
	}
	if argv := r.Header().Argv; len(argv) > 0 {
		p := proc("1")
		p.programs, p.provisional = []string{argv[0]}, true
	}
	faults := map[faultKey]int{}
	events := 0
	preimages, preimageBytes := 0, int64(0)
	for {
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		events++
		for _, img := range eventPreimages(ev) {
			if img.Offset == 0 {
				preimages++
			}
			preimageBytes += int64(len(img.Data))
		}
		if pe := ev.GetProcess(); pe != nil {
			// Programs are followed whatever the filter keeps.
			switch pe.Kind {
			case tracepb.ProcessKind_PROCESS_KIND_FORK:
				parent := proc(processOf(pe.Lineage))
				child := proc(pe.ChildLineage)
				if len(child.programs) == 0 && len(parent.programs) > 0 {
					child.programs, child.provisional = []string{parent.programs[len(parent.programs)-1]}, true
				}
			case tracepb.ProcessKind_PROCESS_KIND_EXEC:
				p := proc(processOf(pe.Lineage))
				if pe.ExecPath != "" {
					if p.provisional {
						p.programs, p.provisional = p.programs[:0], false
					}
					p.programs = append(p.programs, pe.ExecPath)
				}
			}
		}
		if !filter.keep(ev) {
			continue
		}
		s := ev.GetSyscall()
		if s == nil {
			continue
		}
		arch := recorded.Arch(s.Arch)
		if inj := s.Injected; inj != nil {
			faults[faultKey{abi.Name(arch, int(s.Nr)), faultName(inj, s)}]++
		}
		if s.EntryOnly {
			continue // never returned: strace -c does not count it either
		}
		failed := s.Ret < 0 && s.Ret >= -4095
		ns := int64(0)
		if s.ExitNs > s.EnterNs {
			ns = s.ExitNs - s.EnterNs
		}
		sum.Add(arch, int(s.Nr), ns, failed)
		p := proc(processOf(s.Lineage))
		p.calls++
		if failed {
			p.errors++
		}
		p.ns += ns
	}
	if _, err := sum.WriteTo(stdout); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "process\tcalls\terrors\tseconds\tprogram")
	rows := make([]*procStats, 0, len(procs))
	for _, p := range procs {
		if p.calls > 0 {
			rows = append(rows, p)
		}
	}
	sort.Slice(rows, func(i, j int) bool { return lineageLess(rows[i].lineage, rows[j].lineage) })
	for _, p := range rows {
		prog := strings.Join(p.programs, " -> ")
		if prog == "" {
			prog = "?"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.6f\t%s\n", p.lineage, p.calls, p.errors, float64(p.ns)/1e9, prog)
	}
	tw.Flush()
	if len(faults) > 0 {
		keys := make([]faultKey, 0, len(faults))
		for k := range faults {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			a, b := keys[i], keys[j]
			if faults[a] != faults[b] {
				return faults[a] > faults[b]
			}
			if a.syscall != b.syscall {
				return a.syscall < b.syscall
			}
			return a.fault < b.fault
		})
		fmt.Fprintln(stdout)
		tw = tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "injected\tsyscall\tfault")
		for _, k := range keys {
			fmt.Fprintf(tw, "%d\t%s\t%s\n", faults[k], k.syscall, k.fault)
		}
		tw.Flush()
	}
	per := 0.0
	if events > 0 {
		per = float64(in.size) / float64(events)
	}
	fmt.Fprintf(stdout, "\ntrace: %d bytes, %d events, %.1f bytes/event, %d chunks\n", in.size, events, per, len(r.Chunks()))
	if hdr := r.Header(); hdr.Preimages {
		fmt.Fprintf(stdout, "pre-images: %d paths, %d bytes of contents\n", preimages, preimageBytes)
	}
	return reportRecovery(r, in.name, stderr)
}

// processOf returns the process part of a lineage: threads count for
// their process.
func processOf(lineage string) string {
	if i := strings.IndexByte(lineage, '/'); i >= 0 {
		return lineage[:i]
	}
	return lineage
}

// lineageLess orders lineages as a tree: 1, 1.1, 1.1.1, 1.2, 1.10.
func lineageLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if as[i] == bs[i] {
			continue
		}
		x, errx := strconv.Atoi(as[i])
		y, erry := strconv.Atoi(bs[i])
		if errx == nil && erry == nil {
			return x < y
		}
		return as[i] < bs[i]
	}
	return len(as) < len(bs)
}

// faultName names what an injection did to a call: the errno it made the
// call fail with, or the action.
func faultName(inj *tracepb.Injected, s *tracepb.Syscall) string {
	switch inj.Action {
	case tracepb.Action_ACTION_DENY:
		return abi.ErrnoName(int(inj.Value))
	case tracepb.Action_ACTION_RETURN:
		if inj.AtExit && s.Ret < 0 && s.Ret >= -4095 {
			return abi.ErrnoName(int(-s.Ret))
		}
		return "retval=" + strconv.FormatInt(inj.Value, 10)
	case tracepb.Action_ACTION_EMULATE:
		return "emulated"
	case tracepb.Action_ACTION_MODIFY:
		return "arguments changed"
	case tracepb.Action_ACTION_DELAY:
		return "delayed"
	case tracepb.Action_ACTION_SIGNAL:
		return abi.SignalName(int(inj.Signal))
	case tracepb.Action_ACTION_KILL:
		return "killed"
	}
	return inj.Action.String()
}
