package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	hrun "github.com/hermes-trace/hermes/internal/run"

	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/tracer/abi"
	"github.com/spf13/cobra"
)

func newInfoCmd(stdout, stderr io.Writer) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "info [--json] TRACE",
		Short: "Describe a recorded trace: command, environment, machine, settings, size",
		Long: `Print what a trace written by hermes record is: the command line, working
directory, environment (names only; values record redacted are marked), the
hermes, kernel and architecture that recorded it, when it started, its seed
and settings (deterministic, CPU pinning, time resolution, traced syscalls,
pre-images, summaries, call stacks, io_uring, redacted names), its fault
injection (each script with the SHA-256 of its source and the parameters
it declared, the -e inject= rules, --on-error, --strict) and the
injections found on the recorded calls, how many processes, threads and events it holds, its size, and
whether it is partial or damaged. --json prints the same as one JSON
object. TRACE - reads the trace from standard input.

Traces written before format 1.5 do not keep the settings of the recording
(scripts, rules, pinning, summaries, stacks, redacted names): info says so.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInfo(args[0], asJSON, stdout)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

// traceInfo is what hermes info prints.
type traceInfo struct {
	File           string            `json:"file"`
	Size           int64             `json:"size"`
	FormatVersion  string            `json:"format_version"`
	Tool           string            `json:"tool,omitempty"`
	HermesVersion  string            `json:"hermes_version,omitempty"`
	Argv           []string          `json:"argv"`
	Cwd            string            `json:"cwd,omitempty"`
	Env            []infoEnv         `json:"env"`
	EnvRedacted    int               `json:"env_redacted"`
	EnvBytes       int               `json:"env_bytes"` // size of the environment, NAME=value strings with their NULs
	Kernel         string            `json:"kernel,omitempty"`
	Arch           string            `json:"arch,omitempty"`
	Start          string            `json:"start,omitempty"` // RFC 3339, UTC
	StartUnixNs    int64             `json:"start_unix_ns,omitempty"`
	DurationNs     int64             `json:"duration_ns"`
	Seed           uint64            `json:"seed"`
	Deterministic  bool              `json:"deterministic"`
	TSCTrapped     bool              `json:"tsc_trapped"`
	TimeResolution int64             `json:"time_resolution_ns"`
	Traced         []string          `json:"traced,omitempty"` // empty: all syscalls
	Preimages      bool              `json:"preimages"`
	PreimageMax    int64             `json:"preimage_max,omitempty"`
	OutputPath     string            `json:"output_path,omitempty"`
	Extra          map[string]string `json:"extra,omitempty"`
	Faults         []infoFault       `json:"faults"`
	// The settings of the recording (format 1.5 on; SettingsRecorded
	// false: the trace does not say).
	SettingsRecorded bool         `json:"settings_recorded"`
	FaultScripts     []infoScript `json:"fault_scripts"`
	FaultRules       []string     `json:"fault_rules"`
	FaultOnError     string       `json:"fault_on_error,omitempty"`
	FaultStrict      bool         `json:"fault_strict"`
	IOUringAllowed   bool         `json:"io_uring_allowed"`
	SeedGiven        bool         `json:"seed_given"`
	Chaos            bool         `json:"chaos"` // recorded with chaos scheduling (--chaos), its decisions from the seed
	Pinned           bool         `json:"pinned"`
	Summarized       bool         `json:"summarized"`
	Stacks           bool         `json:"stacks"`
	RedactEnv        []string     `json:"redact_env"`
	Processes        int          `json:"processes"`
	Threads          int          `json:"threads"`
	Events           int          `json:"events"`
	Syscalls         int          `json:"syscalls"`
	ProcessEvents    int          `json:"process_events"`
	Chunks           int          `json:"chunks"`
	Complete         bool         `json:"complete"`
	Partial          bool         `json:"partial"`
	RecoveredEvents  int          `json:"recovered_events"`
	Reason           string       `json:"reason,omitempty"`
	Damage           []string     `json:"damage"`
}

type infoEnv struct {
	Name     string `json:"name"`
	Redacted bool   `json:"redacted,omitempty"`
}

// infoFault is one injection rule or script, as the calls it changed name it.
type infoFault struct {
	By    string `json:"by"`
	Calls int    `json:"calls"`
}

// infoScript is a fault script the recording ran.
type infoScript struct {
	Name    string            `json:"name"`
	Builtin string            `json:"builtin,omitempty"`
	SHA256  string            `json:"sha256,omitempty"` // hex; empty: the recording could not read it
	Size    int64             `json:"size"`
	Params  map[string]string `json:"params"`
}

// settingsMinor is the format minor version from which the header keeps
// the settings of the recording.
const settingsMinor = 5

func runInfo(path string, asJSON bool, stdout io.Writer) error {
	in, err := openTrace(path)
	if err != nil {
		return err
	}
	defer in.Close()
	r := in.Reader
	h := r.Header()
	major, minor := r.Version()
	info := &traceInfo{
		File: in.name, Size: in.size, FormatVersion: fmt.Sprintf("%d.%d", major, minor),
		Tool: h.GetTool(), HermesVersion: h.GetHermesVersion(), Argv: h.GetArgv(), Cwd: h.GetCwd(),
		Env: []infoEnv{}, Kernel: h.GetKernelRelease(), Arch: h.GetArch(), StartUnixNs: h.GetStartTimeUnixNs(),
		Seed: h.GetSeed(), Deterministic: h.GetDeterministic(), TSCTrapped: h.GetTscTrapped(), TimeResolution: h.GetTimeResolutionNs(),
		Preimages: h.GetPreimages(), PreimageMax: h.GetPreimageMax(), OutputPath: h.GetOutputPath(),
		Extra: h.GetExtra(), Faults: []infoFault{}, Damage: []string{},
		SettingsRecorded: major > 1 || minor >= settingsMinor, FaultScripts: []infoScript{}, FaultRules: h.GetFaultRules(),
		FaultOnError: h.GetFaultOnError(), FaultStrict: h.GetFaultStrict(), IOUringAllowed: h.GetIoUringAllowed(),
		SeedGiven: h.GetSeedGiven(), Chaos: h.GetChaos(), Pinned: h.GetPinned(),
		Summarized: h.GetSummarized(), Stacks: h.GetStacks(), RedactEnv: h.GetRedactEnv(),
	}
	for _, fs := range h.GetFaultScripts() {
		is := infoScript{Name: fs.GetName(), Builtin: fs.GetBuiltin(), Size: fs.GetSize(), Params: fs.GetParams()}
		if len(fs.GetSha256()) > 0 {
			is.SHA256 = hex.EncodeToString(fs.GetSha256())
		}
		if is.Params == nil {
			is.Params = map[string]string{}
		}
		info.FaultScripts = append(info.FaultScripts, is)
	}
	if info.FaultRules == nil {
		info.FaultRules = []string{}
	}
	if info.RedactEnv == nil {
		info.RedactEnv = []string{}
	}
	if info.Argv == nil {
		info.Argv = []string{}
	}
	if info.StartUnixNs != 0 {
		info.Start = time.Unix(0, info.StartUnixNs).UTC().Format(time.RFC3339Nano)
	}
	for _, kv := range h.GetEnv() {
		name, val, _ := strings.Cut(kv, "=")
		info.EnvBytes += len(kv) + 1
		red := strings.HasPrefix(val, hrun.RedactedPrefix)
		if red {
			info.EnvRedacted++
		}
		info.Env = append(info.Env, infoEnv{name, red})
	}
	for _, nr := range h.GetTraced() {
		info.Traced = append(info.Traced, abi.Name(abi.ArchX86_64, int(nr)))
	}

	procs, threads := map[string]bool{}, map[string]bool{}
	faults := map[string]int{}
	var last int64
	for {
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		info.Events++
		var lineage string
		switch k := ev.Kind.(type) {
		case *tracepb.Event_Syscall:
			s := k.Syscall
			info.Syscalls++
			lineage = s.Lineage
			last = max(last, s.EnterNs, s.ExitNs)
			if s.Injected != nil {
				faults[s.Injected.By]++
			}
		case *tracepb.Event_Process:
			p := k.Process
			info.ProcessEvents++
			lineage = p.Lineage
			last = max(last, p.TimeNs)
			if p.ChildLineage != "" {
				threads[p.ChildLineage] = true
				procs[infoProcLineage(p.ChildLineage)] = true
			}
		}
		if lineage != "" {
			threads[lineage] = true
			procs[infoProcLineage(lineage)] = true
		}
	}
	info.Processes, info.Threads, info.DurationNs = len(procs), len(threads), last
	for by, n := range faults {
		info.Faults = append(info.Faults, infoFault{by, n})
	}
	sort.Slice(info.Faults, func(i, j int) bool { return info.Faults[i].By < info.Faults[j].By })
	info.Chunks = len(r.Chunks())
	info.RecoveredEvents, info.Reason, info.Complete = r.Recovered()
	info.Partial = !info.Complete && len(r.Damage()) == 0
	for _, d := range r.Damage() {
		info.Damage = append(info.Damage, d.String())
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	printInfo(stdout, info)
	return nil
}

// infoProcLineage is the lineage of the process a thread lineage belongs to.
func infoProcLineage(lineage string) string {
	p, _, _ := strings.Cut(lineage, "/")
	return p
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func printInfo(w io.Writer, i *traceInfo) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(tw, "%s:\t"+format+"\n", append([]any{k}, a...)...) }
	row("file", "%s (%d bytes, format %s)", i.File, i.Size, i.FormatVersion)
	row("command", "%s", shellJoin(i.Argv))
	row("directory", "%s", i.Cwd)
	var names []string
	for _, e := range i.Env {
		if e.Redacted {
			names = append(names, e.Name+" (redacted)")
		} else {
			names = append(names, e.Name)
		}
	}
	row("environment", "%d variables (%d bytes), %d redacted: %s", len(i.Env), i.EnvBytes, i.EnvRedacted, strings.Join(names, " "))
	row("recorded by", "%s %s", i.Tool, i.HermesVersion)
	row("kernel", "%s", i.Kernel)
	row("architecture", "%s", i.Arch)
	if i.Start != "" {
		row("started", "%s", i.Start)
	} else {
		row("started", "unknown")
	}
	row("duration", "%s", time.Duration(i.DurationNs))
	switch {
	case !i.SettingsRecorded:
		row("seed", "%d", i.Seed)
	case i.SeedGiven:
		row("seed", "%d (given: --seed or --chaos=N)", i.Seed)
	default:
		row("seed", "%d (drawn at random)", i.Seed)
	}
	if i.Chaos {
		row("chaos", "yes: one thread at a time, decisions from the seed (--chaos=%d makes them again)", i.Seed)
	}
	row("deterministic", "%s", yesNo(i.Deterministic))
	if i.TSCTrapped {
		row("rdtsc", "%s", "made to fault, and recorded")
	}
	if i.SettingsRecorded {
		if i.Pinned {
			row("CPU pinning", "yes (one CPU, with the tracer)")
		} else {
			row("CPU pinning", "no")
		}
	}
	if i.TimeResolution > 0 {
		row("time resolution", "%s", time.Duration(i.TimeResolution))
	} else {
		row("time resolution", "ns (not rounded)")
	}
	if len(i.Traced) == 0 {
		row("traced syscalls", "all")
	} else {
		row("traced syscalls", "%d: %s", len(i.Traced), strings.Join(i.Traced, ","))
	}
	if i.Preimages {
		row("pre-images", "yes (contents up to %d bytes)", i.PreimageMax)
	} else {
		row("pre-images", "no")
	}
	if i.SettingsRecorded {
		row("summarized data", "%s", yesNo(i.Summarized))
		row("call stacks", "%s", yesNo(i.Stacks))
		if i.IOUringAllowed {
			row("io_uring", "let through (--allow-io-uring)")
		} else {
			row("io_uring", "refused (io_uring_setup fails with ENOSYS)")
		}
		if len(i.RedactEnv) == 0 {
			row("redacted names", "none")
		} else {
			row("redacted names", "%s", strings.Join(i.RedactEnv, " "))
		}
	}
	if i.OutputPath != "" {
		row("written to", "%s", i.OutputPath)
	}
	keys := make([]string, 0, len(i.Extra))
	for k := range i.Extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		row("extra "+k, "%s", i.Extra[k])
	}
	switch {
	case !i.SettingsRecorded:
		row("fault scripts", "not recorded (format %s traces keep no fault scripts, rules or settings)", i.FormatVersion)
	case len(i.FaultScripts) == 0:
		row("fault scripts", "none")
	}
	for _, fs := range i.FaultScripts {
		var b strings.Builder
		b.WriteString(fs.Name)
		if fs.SHA256 != "" {
			fmt.Fprintf(&b, " (sha256 %s, %d bytes)", fs.SHA256, fs.Size)
		} else {
			b.WriteString(" (source not read)")
		}
		keys := make([]string, 0, len(fs.Params))
		for k := range fs.Params {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			b.WriteString(" " + shellJoin([]string{k + "=" + fs.Params[k]}))
		}
		row("fault scripts", "%s", b.String())
	}
	if i.SettingsRecorded {
		if len(i.FaultRules) == 0 {
			row("fault rules", "none")
		}
		for _, r := range i.FaultRules {
			row("fault rules", "%s", r)
		}
		switch {
		case i.FaultOnError != "" && i.FaultStrict:
			row("on script error", "%s, and the run ends (--strict)", i.FaultOnError)
		case i.FaultOnError != "":
			row("on script error", "%s", i.FaultOnError)
		}
	}
	if len(i.Faults) == 0 {
		row("injected faults", "none")
	}
	for _, f := range i.Faults {
		by := f.By
		if by == "" {
			by = "(unnamed)"
		}
		row("injected faults", "%d calls by %s", f.Calls, by)
	}
	row("processes", "%d", i.Processes)
	row("threads", "%d", i.Threads)
	row("events", "%d (%d syscalls, %d process events) in %d chunks", i.Events, i.Syscalls, i.ProcessEvents, i.Chunks)
	switch {
	case i.Complete:
		row("complete", "yes")
	case i.Partial:
		row("complete", "no: partial trace, %s", i.Reason)
	default:
		row("complete", "no: damaged, %s", i.Reason)
	}
	if len(i.Damage) == 0 {
		row("damage", "none")
	}
	for _, d := range i.Damage {
		row("damage", "%s", d)
	}
	tw.Flush()
}

// shellJoin quotes argv for a shell where needed.
func shellJoin(argv []string) string {
	var parts []string
	for _, a := range argv {
		if a != "" && !strings.ContainsAny(a, " \t\n'\"\\$`!*?[]{}()<>|&;#~") {
			parts = append(parts, a)
			continue
		}
		parts = append(parts, "'"+strings.ReplaceAll(a, "'", `'\''`)+"'")
	}
	return strings.Join(parts, " ")
}
