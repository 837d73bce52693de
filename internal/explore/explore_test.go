package explore

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hermes-trace/hermes/internal/run"

	"golang.org/x/sys/unix"
)

func TestParseFaults(t *testing.T) {
	tests := []struct {
		in      []string
		nr      int
		want    []string
		wantErr string
	}{
		{nil, unix.SYS_WRITE, []string{"ENOSPC", "EIO", "EDQUOT", "short", "crash"}, ""},
		{nil, unix.SYS_OPENAT, []string{"ENOENT", "EACCES", "EMFILE"}, ""},
		{nil, unix.SYS_FSYNC, []string{"EIO", "crash"}, ""},
		{nil, unix.SYS_WRITEV, []string{"ENOSPC", "EIO", "EDQUOT", "crash"}, ""}, // no plain count: no short
		{[]string{"write:ENOSPC,short"}, unix.SYS_WRITE, []string{"ENOSPC", "short"}, ""},
		{[]string{"write:enospc;fsync:EIO,crash"}, unix.SYS_FSYNC, []string{"EIO", "crash"}, ""},
		{[]string{"write:28"}, unix.SYS_WRITE, []string{"ENOSPC"}, ""},
		{[]string{"read:delay=50ms"}, unix.SYS_READ, []string{"delay=50ms"}, ""},
		{[]string{"%file:EACCES"}, unix.SYS_OPENAT, []string{"EACCES"}, ""},
		{[]string{"write:ENOSPC", "default"}, unix.SYS_OPENAT, []string{"ENOENT", "EACCES", "EMFILE"}, ""},
		{[]string{"write:EBOGUS"}, 0, nil, `unknown fault "EBOGUS"`},
		{[]string{"write:explode"}, 0, nil, `unknown fault "explode"`},
		{[]string{"nosuchcall:EIO"}, 0, nil, `unknown syscall or class "nosuchcall"`},
		{[]string{"write"}, 0, nil, "want SET:FAULT"},
		{[]string{"fsync:short"}, 0, nil, "no byte count"},
		{[]string{"read:delay=-1s"}, 0, nil, "want delay=DURATION"},
		{[]string{";"}, 0, nil, "no fault chosen"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.in, "|"), func(t *testing.T) {
			s, err := ParseFaults(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseFaults(%q) = %v, want an error with %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range s.Faults(tc.nr) {
				got = append(got, f.String())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("faults of %d = %q, want %q", tc.nr, got, tc.want)
			}
		})
	}
}

func TestSitesAndCandidates(t *testing.T) {
	w := func(nth int, frames ...string) Call {
		return Call{Lineage: "1", Nr: unix.SYS_WRITE, Name: "write", Nth: nth, Path: "/data/out.tmp", Frames: frames, Ret: 4096, Count: 4096}
	}
	calls := []Call{
		w(1, "libc.so.6:__write+0x10", "badsave:save+0x4c", "badsave:main+0x20"),
		w(2, "libc.so.6:__write+0x10", "badsave:save+0x4c", "badsave:main+0x20"),
		w(3, "libc.so.6:__write+0x10", "badsave:save+0x4c", "badsave:main+0x20"),
		// The same function, called from elsewhere: another site, same label.
		w(4, "libc.so.6:__write+0x10", "badsave:save+0x4c", "badsave:main+0x40"),
		// Go: the runtime and os frames are skipped for the label.
		w(5, "gosave:internal/runtime/syscall.Syscall6+0xe", "gosave:syscall.write+0x40", "gosave:os.(*File).Write+0x60", "gosave:main.save+0x4c"),
		// No stack: the path pattern, digits folded.
		{Lineage: "1", Nr: unix.SYS_FSYNC, Name: "fsync", Nth: 1, Path: "/tmp/app.12345.tmp"},
		{Lineage: "1", Nr: unix.SYS_FSYNC, Name: "fsync", Nth: 2, Path: "/tmp/app.678.tmp"},
		// A call that failed when recorded gets no fault.
		{Lineage: "1", Nr: unix.SYS_OPENAT, Name: "openat", Nth: 1, Path: "/etc/app.conf", Ret: -2},
	}
	sites := Sites(calls)
	var labels []string
	for _, s := range sites {
		labels = append(labels, fmt.Sprintf("%s:%d", s.Label, len(s.Calls)))
	}
	want := []string{"write@save+0x4c:3", "write@save+0x4c~2:1", "write@main.save+0x4c:1", "fsync@/tmp/app.*.tmp:2", "openat@/etc/app.conf:1"}
	if !slices.Equal(labels, want) {
		t.Fatalf("sites %q, want %q", labels, want)
	}
	space, err := ParseFaults([]string{"write:ENOSPC,short;fsync:EIO;openat:ENOENT"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range Candidates(sites, space, 2, nil) {
		ids = append(ids, c.ID+" "+c.Spec())
	}
	wantIDs := []string{
		"write@save+0x4c#1:ENOSPC inject=write:error=ENOSPC:when=1:lineage=1",
		"write@save+0x4c#1:short inject=write:short=2048:when=1:lineage=1",
		"write@save+0x4c~2#1:ENOSPC inject=write:error=ENOSPC:when=4:lineage=1",
		"write@save+0x4c~2#1:short inject=write:short=2048:when=4:lineage=1",
		"write@main.save+0x4c#1:ENOSPC inject=write:error=ENOSPC:when=5:lineage=1",
		"write@main.save+0x4c#1:short inject=write:short=2048:when=5:lineage=1",
		"fsync@/tmp/app.*.tmp#1:EIO inject=fsync:error=EIO:when=1:lineage=1",
		"write@save+0x4c#2:ENOSPC inject=write:error=ENOSPC:when=2:lineage=1",
		"write@save+0x4c#2:short inject=write:short=2048:when=2:lineage=1",
		"fsync@/tmp/app.*.tmp#2:EIO inject=fsync:error=EIO:when=2:lineage=1",
	}
	if !slices.Equal(ids, wantIDs) {
		t.Errorf("candidates:\n%s\nwant:\n%s", strings.Join(ids, "\n"), strings.Join(wantIDs, "\n"))
	}
	if n := len(Candidates(sites, space, 1, []string{"*.conf"})); n != 0 {
		t.Errorf("--paths *.conf: %d candidates, want 0 (the only .conf call failed when recorded)", n)
	}
	if n := len(Candidates(sites, space, 5, []string{"/tmp/*"})); n != 2 {
		t.Errorf("--paths /tmp/*: %d candidates, want the 2 fsyncs", n)
	}
}

func TestDDMin(t *testing.T) {
	tests := []struct {
		n     int
		need  []int // the run fails when all of these are in the set
		tests int   // at most this many
	}{
		{1, []int{0}, 1},
		{16, []int{11}, 16},
		{40, []int{3, 31}, 80},
		{7, []int{0, 1, 2, 3, 4, 5, 6}, 40},
	}
	for _, tc := range tests {
		all := make([]int, tc.n)
		for i := range all {
			all[i] = i
		}
		calls := 0
		got, err := ddmin(all, func(set []int) (bool, error) {
			calls++
			for _, k := range tc.need {
				if !slices.Contains(set, k) {
					return false, nil
				}
			}
			return true, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tc.need) {
			t.Errorf("ddmin over %d needing %v = %v", tc.n, tc.need, got)
		}
		if calls > tc.tests {
			t.Errorf("ddmin over %d needing %v: %d tests, want at most %d", tc.n, tc.need, calls, tc.tests)
		}
	}
}

func sampleReport() *Report {
	cs := 1
	return &Report{
		Schema: ReportSchema, Command: []string{"./badsave", "data"}, Check: `test "$(wc -c < data)" = 65536`,
		Trace: "/w/hermes-explore/run.trace", Seed: 7, Calls: 20, Sites: 4, Planned: 3, Seconds: 1.5, CleanRun: 0.1, Timeout: 10,
		FailOn: DefaultFailOn, Counts: map[Outcome]int{Corrupt: 1, Handled: 1, NotReached: 1},
		Tries: []Try{
			{ID: "write@save+0x4c#1:ENOSPC", Site: "write@save+0x4c", Occurrence: 1, Syscall: "write", Lineage: "1", When: 1,
				Path: "/w/data.tmp", Fault: "ENOSPC", Outcome: Corrupt, CheckStatus: &cs,
				Reproducer: `hermes replay -e inject=write:error=ENOSPC:when=1:lineage=1 --check 'test "$(wc -c < data)" = 65536' /w/hermes-explore/run.trace`,
				StderrTail: "bad \x01 byte & <tag>\n", Frames: []string{"badsave:save+0x4c"}},
			{ID: "fsync@save+0x60#1:crash", Site: "fsync@save+0x60", Occurrence: 1, Syscall: "fsync", Lineage: "1", When: 1,
				Fault: "crash", Outcome: Handled, ExitStatus: 137, Signal: "SIGKILL", Reproducer: "hermes replay ..."},
			{ID: "rename@save+0x70#1:EACCES", Site: "rename@save+0x70", Occurrence: 1, Syscall: "rename", Lineage: "1", When: 1,
				Fault: "EACCES", Outcome: NotReached, Reproducer: "hermes replay ..."},
		},
	}
}

// TestReportFiles checks that the JSON report follows its schema and
// that the JUnit file parses, with Go's encoding/xml and with Python's
// xml.etree as CI tools would.
func TestReportFiles(t *testing.T) {
	rep := sampleReport()
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	checkSchema(t, js.Bytes())

	var summary bytes.Buffer
	if err := rep.WriteSummary(&summary); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"outcomes: ok 0, handled 1, corrupt 1, not-reached 1", "1 failing tries", "write@save+0x4c#1:ENOSPC: corrupt (exit 0, check exit 1)", "hermes replay -e inject=write:error=ENOSPC"} {
		if !strings.Contains(summary.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, summary.String())
		}
	}

	var ju bytes.Buffer
	if err := rep.WriteJUnit(&ju); err != nil {
		t.Fatal(err)
	}
	var parsed junitSuites
	if err := xml.Unmarshal(ju.Bytes(), &parsed); err != nil {
		t.Fatalf("JUnit does not parse: %v\n%s", err, ju.String())
	}
	s := parsed.Suites[0]
	if s.Tests != 3 || s.Failures != 1 || s.Skipped != 1 || len(s.Cases) != 3 {
		t.Errorf("suite: tests %d failures %d skipped %d cases %d, want 3 1 1 3", s.Tests, s.Failures, s.Skipped, len(s.Cases))
	}
	if f := s.Cases[0].Failure; f == nil || !strings.Contains(f.Body, "reproduce: hermes replay -e inject=write:error=ENOSPC") || !strings.Contains(s.Cases[0].SystemErr, "<tag>") {
		t.Errorf("failing case lacks its reproducer or stderr tail: %+v", s.Cases[0])
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 to parse the JUnit file with xml.etree")
	}
	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := os.WriteFile(path, ju.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", `import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
s = r.find("testsuite")
print(r.tag, s.get("tests"), s.get("failures"), len(s.findall("testcase")), s.find("testcase/failure").get("type"))`, path).CombinedOutput()
	if err != nil {
		t.Fatalf("python3 xml.etree: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "testsuites 3 1 3 corrupt" {
		t.Errorf("python3 read %q", got)
	}
}

// checkSchema validates doc against Schema, for the keywords Schema uses.
func checkSchema(t *testing.T, doc []byte) {
	t.Helper()
	var schema, v any
	if err := json.Unmarshal(Schema, &schema); err != nil {
		t.Fatalf("schema: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	root := schema.(map[string]any)
	for _, p := range validate(root, root, v, "$") {
		t.Error(p)
	}
}

func validate(root, s map[string]any, v any, at string) []string {
	if ref, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/$defs/")
		return validate(root, root["$defs"].(map[string]any)[name].(map[string]any), v, at)
	}
	var probs []string
	bad := func(format string, args ...any) { probs = append(probs, at+": "+fmt.Sprintf(format, args...)) }
	switch s["type"] {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			bad("not an object")
			return probs
		}
		props, _ := s["properties"].(map[string]any)
		req, _ := s["required"].([]any)
		for _, r := range req {
			if _, ok := obj[r.(string)]; !ok {
				bad("lacks %q", r)
			}
		}
		for k, val := range obj {
			if ps, ok := props[k].(map[string]any); ok {
				probs = append(probs, validate(root, ps, val, at+"."+k)...)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					bad("unexpected property %q", k)
				}
			case map[string]any:
				probs = append(probs, validate(root, ap, val, at+"."+k)...)
			}
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			bad("not an array")
			return probs
		}
		for i, e := range arr {
			probs = append(probs, validate(root, s["items"].(map[string]any), e, fmt.Sprintf("%s[%d]", at, i))...)
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			bad("not a string")
		} else if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, any(str)) {
			bad("%q not in %v", str, enum)
		}
	case "integer", "number":
		n, ok := v.(json.Number)
		if !ok {
			bad("not a number")
			return probs
		}
		if s["type"] == "integer" {
			if _, err := n.Int64(); err != nil {
				bad("%s is not an integer", n)
			}
		}
		f, _ := n.Float64()
		if m, ok := s["minimum"].(float64); ok && f < m {
			bad("%s below %v", n, m)
		}
		if c, ok := s["const"].(float64); ok && f != c {
			bad("%s is not %v", n, c)
		}
	}
	return probs
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"inject=write:error=ENOSPC:when=3:lineage=1": "inject=write:error=ENOSPC:when=3:lineage=1",
		`test "$(cat f)" = ok`:                       `'test "$(cat f)" = ok'`,
		"it's":                                       `'it'\''s'`,
		"":                                           "''",
	} {
		if got := run.ShellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
