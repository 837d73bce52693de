package explore

import (
	_ "embed"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Outcome classifies a try.
type Outcome string

// The outcomes of a try.
const (
	OK         Outcome = "ok"          // exit 0, the check passes
	Handled    Outcome = "handled"     // a non-zero exit (or the crash it was given), the check passes
	Crashed    Outcome = "crashed"     // killed by a signal it was not sent
	Hung       Outcome = "hung"        // still running after the timeout
	Corrupt    Outcome = "corrupt"     // the check fails
	NotReached Outcome = "not-reached" // the fault's call never came, or the run diverged before it
	Failed     Outcome = "error"       // hermes itself failed to run the try
)

// Outcomes lists the outcomes in the order reports show them.
var Outcomes = []Outcome{OK, Handled, Crashed, Hung, Corrupt, NotReached, Failed}

// ParseOutcomes parses a comma-separated list of outcomes (--fail-on).
func ParseOutcomes(s string) ([]Outcome, error) {
	var out []Outcome
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !slices.Contains(Outcomes, Outcome(f)) {
			return nil, fmt.Errorf("unknown outcome %q (want ok, handled, crashed, hung, corrupt, not-reached or error)", f)
		}
		out = append(out, Outcome(f))
	}
	return out, nil
}

// Try is one fault tried, and what came of it.
type Try struct {
	ID          string   `json:"id"`
	Site        string   `json:"site"`
	Occurrence  int      `json:"occurrence"`
	Syscall     string   `json:"syscall"`
	Lineage     string   `json:"lineage"`
	When        int      `json:"when"`
	Path        string   `json:"path,omitempty"`
	Fault       string   `json:"fault"`
	Outcome     Outcome  `json:"outcome"`
	ExitStatus  int      `json:"exit_status"`
	Signal      string   `json:"signal,omitempty"`
	CheckStatus *int     `json:"check_status,omitempty"`
	Departure   string   `json:"departure,omitempty"`
	Divergence  string   `json:"divergence,omitempty"`
	Error       string   `json:"error,omitempty"`
	Reproducer  string   `json:"reproducer"`
	Dir         string   `json:"dir,omitempty"` // its stdout, stderr and kept files, for tries that did not pass
	Seconds     float64  `json:"seconds"`
	StderrTail  string   `json:"stderr_tail,omitempty"`
	Frames      []string `json:"frames,omitempty"`
}

// Report is what an exploration found. Its JSON form is documented in
// README.md ("Chaos tests in CI"); Schema is its version.
type Report struct {
	Schema   int             `json:"schema"`
	Command  []string        `json:"command"`
	Check    string          `json:"check,omitempty"`
	Trace    string          `json:"trace"`
	Seed     uint64          `json:"seed"`
	Calls    int             `json:"calls"`
	Sites    int             `json:"sites"`
	Planned  int             `json:"planned"`
	Skipped  int             `json:"skipped"` // planned tries the budget left out
	Seconds  float64         `json:"seconds"`
	CleanRun float64         `json:"clean_run_seconds"`
	Timeout  float64         `json:"timeout_seconds"`
	FailOn   []Outcome       `json:"fail_on"`
	Counts   map[Outcome]int `json:"counts"`
	Tries    []Try           `json:"tries"`
}

// ReportSchema is the version of the JSON report.
const ReportSchema = 1

// Failing returns the tries whose outcome is in the report's FailOn.
func (r *Report) Failing() []Try {
	var out []Try
	for _, t := range r.Tries {
		if slices.Contains(r.FailOn, t.Outcome) {
			out = append(out, t)
		}
	}
	return out
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteSummary writes the table a terminal or a CI log shows: the
// outcomes, then one line per site, then every failing try with its
// reproducer.
func (r *Report) WriteSummary(w io.Writer) error {
	fmt.Fprintf(w, "explore: %d tries over %d sites (%d calls) in %.1fs", len(r.Tries), r.Sites, r.Calls, r.Seconds)
	if r.Skipped > 0 {
		fmt.Fprintf(w, "; %d more left out by the budget", r.Skipped)
	}
	fmt.Fprintln(w)
	var parts []string
	for _, o := range Outcomes {
		if n := r.Counts[o]; n > 0 || o == OK {
			parts = append(parts, fmt.Sprintf("%s %d", o, n))
		}
	}
	fmt.Fprintf(w, "outcomes: %s\n", strings.Join(parts, ", "))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nSITE\tTRIES\t"+strings.ToUpper(strings.ReplaceAll(outcomeHeader(), ",", "\t")))
	type row struct {
		site   string
		counts map[Outcome]int
		n      int
	}
	var rows []*row
	bySite := map[string]*row{}
	for _, t := range r.Tries {
		rw := bySite[t.Site]
		if rw == nil {
			rw = &row{site: t.Site, counts: map[Outcome]int{}}
			bySite[t.Site] = rw
			rows = append(rows, rw)
		}
		rw.n++
		rw.counts[t.Outcome]++
	}
	for _, rw := range rows {
		fmt.Fprintf(tw, "%s\t%d", rw.site, rw.n)
		for _, o := range Outcomes {
			fmt.Fprintf(tw, "\t%d", rw.counts[o])
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fail := r.Failing()
	if len(fail) == 0 {
		_, err := fmt.Fprintf(w, "\nno try failed (--fail-on %s)\n", joinOutcomes(r.FailOn))
		return err
	}
	fmt.Fprintf(w, "\n%d failing tries (--fail-on %s):\n", len(fail), joinOutcomes(r.FailOn))
	for _, t := range fail {
		fmt.Fprintf(w, "  %s: %s", t.ID, t.Outcome)
		switch {
		case t.Signal != "":
			fmt.Fprintf(w, " (%s)", t.Signal)
		case t.CheckStatus != nil && *t.CheckStatus != 0:
			fmt.Fprintf(w, " (exit %d, check exit %d)", t.ExitStatus, *t.CheckStatus)
		case t.Outcome != Hung:
			fmt.Fprintf(w, " (exit %d)", t.ExitStatus)
		}
		fmt.Fprintf(w, "\n    %s\n", t.Reproducer)
	}
	return nil
}

func outcomeHeader() string {
	s := make([]string, len(Outcomes))
	for i, o := range Outcomes {
		s[i] = string(o)
	}
	return strings.Join(s, ",")
}

func joinOutcomes(os []Outcome) string {
	s := make([]string, len(os))
	for i, o := range os {
		s[i] = string(o)
	}
	return strings.Join(s, ",")
}

// JUnit XML, as CI systems read it (the Jenkins/Ant schema).
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Error     *junitFailure `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemErr string        `xml:"system-err,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// WriteJUnit writes the report as JUnit XML: one test case per try, a
// failure for each try whose outcome is in FailOn (with its reproducer and
// the tail of its stderr), an error for tries hermes could not run, and
// not-reached tries as skipped.
func (r *Report) WriteJUnit(w io.Writer) error {
	s := junitSuite{Name: "hermes explore: " + strings.Join(r.Command, " "), Tests: len(r.Tries), Time: seconds(r.Seconds)}
	for _, t := range r.Tries {
		c := junitCase{Name: t.ID, Classname: "hermes.explore." + t.Syscall, Time: seconds(t.Seconds)}
		body := fmt.Sprintf("%s at %s call %d of %s in %s", t.Fault, t.Syscall, t.When, t.Syscall, t.Lineage)
		if t.Path != "" {
			body += " (" + t.Path + ")"
		}
		body += fmt.Sprintf(": %s, exit status %d", t.Outcome, t.ExitStatus)
		if t.CheckStatus != nil {
			body += fmt.Sprintf(", check exit status %d", *t.CheckStatus)
		}
		body += "\nreproduce: " + t.Reproducer + "\n"
		switch {
		case t.Outcome == Failed:
			s.Errors++
			c.Error = &junitFailure{Message: t.Error, Type: string(t.Outcome), Body: body}
		case slices.Contains(r.FailOn, t.Outcome):
			s.Failures++
			c.Failure = &junitFailure{Message: fmt.Sprintf("%s: %s", t.Fault, t.Outcome), Type: string(t.Outcome), Body: body}
			c.SystemErr = t.StderrTail
		case t.Outcome == NotReached:
			s.Skipped++
			c.Skipped = &junitSkipped{Message: "the fault's call was not reached"}
		}
		s.Cases = append(s.Cases, c)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{s}}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func seconds(s float64) string { return fmt.Sprintf("%.3f", s) }

func since(t time.Time) float64 { return time.Since(t).Seconds() }

// Schema is the JSON Schema of the report (README.md documents it too;
// hermes explore --schema prints it).
//
//go:embed report.schema.json
var Schema []byte
