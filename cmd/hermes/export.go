package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	hrun "github.com/hermes-trace/hermes/internal/run"

	"github.com/hermes-trace/hermes/format"

	"github.com/hermes-trace/hermes/format/perfetto"
	"github.com/spf13/cobra"
)

type exportOpts struct {
	perfetto bool
	output   string
	strSize  int
}

func newExportCmd(stderr io.Writer) *cobra.Command {
	var o exportOpts
	cmd := &cobra.Command{
		Use:   "export --perfetto [flags] TRACE -o FILE",
		Short: "Convert a recorded trace for other tools (Perfetto)",
		Long: `Convert a trace written by hermes record into another tool's format.

--perfetto writes a native Perfetto trace (protobuf TracePackets): a track per
process (named by lineage and program, e.g. "1.2 gcc") with a track per thread
under it; every syscall a slice from its entry to its exit, named by the
syscall, with its decoded arguments and result as arguments of the slice;
injected faults instants on the process's "injected faults" track with a flow
to the call they changed; forks, execs, signals and exits instants. Open it in
the Perfetto UI (https://ui.perfetto.dev, "Open trace file"): the UI loads the
file into the browser and uploads nothing. Times count from the start of the
recording.

-o FILE is created with mode 0600 (or a regular file of yours replaced); hermes
never follows a symbolic link there or truncates a file that is not yours or
not regular. -o - writes to standard output (not onto a terminal). TRACE -
reads the trace from standard input.

A partial trace (its writer was killed) is exported as far as it goes, with
one line on stderr. A damaged trace is exported as far as it can be read, and
hermes says what it skipped in one line and exits 125.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExport(&o, args[0], stderr)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.perfetto, "perfetto", false, "write a Perfetto trace (protobuf), for ui.perfetto.dev")
	f.StringVarP(&o.output, "output", "o", "", "write to `FILE` (- for standard output)")
	f.IntVarP(&o.strSize, "string-limit", "s", 32, "show at most `N` bytes of each string argument")
	return cmd
}

func runExport(o *exportOpts, path string, stderr io.Writer) error {
	if !o.perfetto {
		return &usageError{errors.New("export: say which format: --perfetto")}
	}
	if o.output == "" {
		return &usageError{errors.New("export: missing -o FILE (- for standard output)")}
	}
	// The input first: a bad trace leaves the output untouched.
	in, err := openTrace(path)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := hrun.OpenOutput(o.output, false)
	if err != nil {
		return err
	}
	defer out.Close()
	if isTerminal(out.Stream()) {
		return fmt.Errorf("output %s: is a terminal; a Perfetto trace is binary: redirect it to a file or a pipe", hrun.OutputName(o.output))
	}
	// More readers of the same file decode chunks in parallel.
	reopen := func() (*format.Reader, error) {
		if in.spool != nil {
			return format.NewReader(in.spool, in.size)
		}
		return format.Open(path)
	}
	st, err := perfetto.Export(out, in.Reader, &perfetto.Options{StrSize: o.strSize, Open: reopen})
	if err != nil {
		if r := out.Result(nil); r != nil {
			return r // the reader of standard output went away
		}
		return fmt.Errorf("%s: export stopped after %d events: %w", in.name, st.Events, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("output %s: %w", hrun.OutputName(o.output), err)
	}
	n, reason, complete := in.Recovered()
	switch {
	case len(st.Damage) > 0:
		lost := 0
		var parts []string
		for i, d := range st.Damage {
			lost += d.Events
			if i < 3 {
				parts = append(parts, d.String())
			}
		}
		if len(st.Damage) > 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(st.Damage)-3))
		}
		plural := ""
		if len(st.Damage) > 1 {
			plural = "s"
		}
		return fmt.Errorf("%s: damaged trace: exported the %d readable events; skipped %d damaged part%s, %d events lost: %s",
			in.name, st.Events, len(st.Damage), plural, lost, strings.Join(parts, ", "))
	case !complete:
		fmt.Fprintf(stderr, "hermes: %s: partial trace: exported %d events (%s)\n", in.name, n, reason)
	}
	return nil
}
