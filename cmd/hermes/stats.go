package main

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/hermes-trace/hermes/format/recorded"

	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/tracer/abi"
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
in each syscall (like strace -c), the calls of each process, and the size of
the trace. FILE - reads the trace from standard input.`,
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

type callStats struct {
	name   string
	calls  int
	errors int
	ns     int64
}

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
	byName := map[string]*callStats{}
	byProc := map[string]*callStats{}
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
		if !filter.keep(ev) {
			continue
		}
		s := ev.GetSyscall()
		if s == nil {
			continue
		}
		name := abi.Name(recorded.Arch(s.Arch), int(s.Nr))
		if s.Arch != tracepb.Arch_ARCH_X86_64 {
			name += " [" + recorded.Arch(s.Arch).String() + "]"
		}
		proc := s.Lineage
		for i := 0; i < len(proc); i++ {
			if proc[i] == '/' {
				proc = proc[:i] // threads count for their process
				break
			}
		}
		for _, st := range []*callStats{get(byName, name), get(byProc, proc)} {
			st.calls++
			if !s.EntryOnly && s.Ret < 0 && s.Ret >= -4095 {
				st.errors++
			}
			if !s.EntryOnly && s.ExitNs > s.EnterNs {
				st.ns += s.ExitNs - s.EnterNs
			}
		}
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	var total callStats
	rows := sorted(byName)
	for _, st := range rows {
		total.calls += st.calls
		total.errors += st.errors
		total.ns += st.ns
	}
	fmt.Fprintln(tw, "% time\tseconds\tusecs/call\tcalls\terrors\tsyscall\t")
	fmt.Fprintln(tw, "------\t-----------\t-----------\t---------\t---------\t----------------\t")
	for _, st := range append(rows, &callStats{name: "total", calls: total.calls, errors: total.errors, ns: total.ns}) {
		pct := 0.0
		if total.ns > 0 {
			pct = 100 * float64(st.ns) / float64(total.ns)
		}
		errs := ""
		if st.errors > 0 {
			errs = fmt.Sprint(st.errors)
		}
		fmt.Fprintf(tw, "%.2f\t%.6f\t%d\t%d\t%s\t%s\t\n", pct, float64(st.ns)/1e9, st.ns/1000/int64(max(st.calls, 1)), st.calls, errs, st.name)
	}
	tw.Flush()
	fmt.Fprintln(stdout)
	tw = tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "process\tcalls\terrors\tseconds")
	procs := sorted(byProc)
	sort.Slice(procs, func(i, j int) bool { return procs[i].name < procs[j].name })
	for _, st := range procs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.6f\n", st.name, st.calls, st.errors, float64(st.ns)/1e9)
	}
	tw.Flush()
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

func get(m map[string]*callStats, k string) *callStats {
	st := m[k]
	if st == nil {
		st = &callStats{name: k}
		m[k] = st
	}
	return st
}

// sorted returns the stats by time spent, then calls, like strace -c.
func sorted(m map[string]*callStats) []*callStats {
	out := make([]*callStats, 0, len(m))
	for _, st := range m {
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ns != out[j].ns {
			return out[i].ns > out[j].ns
		}
		if out[i].calls != out[j].calls {
			return out[i].calls > out[j].calls
		}
		return out[i].name < out[j].name
	})
	return out
}
