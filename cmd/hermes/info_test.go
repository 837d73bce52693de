package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/internal/testbin"
)

// TestInfo records real programs and checks what hermes info says of
// them, in text and in JSON, against the traces themselves.
func TestInfo(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("HERMES_INFO_TEST_TOKEN", "s3cret")
	hello, threads, forkchain := testbin.C(t, "hello"), testbin.C(t, "threads"), testbin.C(t, "forkchain")
	record := func(name string, code int, args ...string) string {
		path := filepath.Join(dir, name)
		if _, stderr, c := hermes(t, append([]string{"record", "-o", path}, args...)...); c != code {
			t.Fatalf("record %s: exit %d, stderr %q", name, c, stderr)
		}
		return path
	}
	helloTrace := record("hello.trace", 3, "--", hello, "3")
	threadsTrace := record("threads.trace", 1, "-e", "inject=write:error=ENOSPC:when=2", "--", threads, "3", "2")
	forkTrace := record("fork.trace", 2, "--", forkchain, "2")
	noRedact := record("noredact.trace", 0, "--redact-env", "none", "--", hello)

	// A partial trace: the forkchain trace without its footer and cut
	// inside its last chunk; a damaged one: a flipped byte in a middle
	// chunk of a bigger trace.
	data, _ := os.ReadFile(forkTrace)
	fr, err := format.Open(forkTrace)
	if err != nil {
		t.Fatal(err)
	}
	last := fr.Chunks()[len(fr.Chunks())-1]
	fr.Close()
	partial := filepath.Join(dir, "partial.trace")
	os.WriteFile(partial, data[:last.Offset+60], 0o600)
	getpids, chunks := writeGetpids(t, 3000)
	data, _ = os.ReadFile(getpids)
	data[chunks[2].Offset+45+20] ^= 1
	damaged := filepath.Join(dir, "damaged.trace")
	os.WriteFile(damaged, data, 0o600)

	for _, tc := range []struct {
		name       string
		path       string
		argv0      string
		procs      int
		threads    int
		faults     string // the one fault source, "" for none
		complete   bool
		partial    bool
		damage     int
		redacted   bool // HERMES_INFO_TEST_TOKEN is marked redacted
		textChecks []string
	}{
		{"hello", helloTrace, hello, 1, 1, "", true, false, 0, true, []string{"injected faults:  none", "complete:         yes", "damage:           none", "HERMES_INFO_TEST_TOKEN (redacted)"}},
		{"threads with a fault", threadsTrace, threads, 1, 4, "inject=write:error=ENOSPC:when=2", true, false, 0, true, []string{"calls by inject=write:error=ENOSPC:when=2", "threads:          4"}},
		{"fork and exec", forkTrace, forkchain, 3, 3, "", true, false, 0, true, []string{"processes:        3"}},
		{"no redaction", noRedact, hello, 1, 1, "", true, false, 0, false, nil},
		{"partial", partial, forkchain, 0, 0, "", false, true, 0, true, []string{"complete:         no: partial trace"}},
		{"damaged", damaged, "getpid", 1, 1, "", false, false, 1, false, []string{"complete:         no: damaged", "damage:           "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text, stderr, code := hermes(t, "info", tc.path)
			if code != 0 || stderr != "" {
				t.Fatalf("info: exit %d, stderr %q", code, stderr)
			}
			for _, want := range tc.textChecks {
				if !strings.Contains(text, want) {
					t.Errorf("text lacks %q:\n%s", want, text)
				}
			}
			js, stderr, code := hermes(t, "info", "--json", tc.path)
			if code != 0 || stderr != "" {
				t.Fatalf("info --json: exit %d, stderr %q", code, stderr)
			}
			var info traceInfo
			if err := json.Unmarshal([]byte(js), &info); err != nil {
				t.Fatalf("bad JSON: %v\n%s", err, js)
			}
			// What the trace holds, read directly.
			r, err := format.Open(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			events := 0
			for _, err := r.Next(); err == nil; _, err = r.Next() {
				events++
			}
			h := r.Header()
			if info.Events != events || info.Syscalls+info.ProcessEvents != events || len(info.Argv) == 0 || info.Argv[0] != tc.argv0 ||
				info.Cwd != h.Cwd || info.Kernel != h.KernelRelease || info.Arch != "x86_64" || info.HermesVersion != h.HermesVersion ||
				info.Seed != h.Seed || info.Deterministic != h.Deterministic || len(info.Env) != len(h.Env) || info.Chunks != len(r.Chunks()) {
				t.Errorf("info %+v\ndoes not match the trace (%d events, header %v)", info, events, h)
			}
			if tc.procs > 0 && (info.Processes != tc.procs || info.Threads != tc.threads) {
				t.Errorf("%d processes, %d threads; want %d, %d", info.Processes, info.Threads, tc.procs, tc.threads)
			}
			if info.Complete != tc.complete || info.Partial != tc.partial || len(info.Damage) != tc.damage {
				t.Errorf("complete %v partial %v damage %q; want %v %v %d", info.Complete, info.Partial, info.Damage, tc.complete, tc.partial, tc.damage)
			}
			fi, _ := os.Stat(tc.path)
			if info.Size != fi.Size() || info.Start == "" && h.StartTimeUnixNs != 0 {
				t.Errorf("size %d (file %d), start %q", info.Size, fi.Size(), info.Start)
			}
			switch {
			case tc.faults == "" && len(info.Faults) != 0,
				tc.faults != "" && (len(info.Faults) != 1 || info.Faults[0].By != tc.faults || info.Faults[0].Calls == 0):
				t.Errorf("faults %+v, want %q", info.Faults, tc.faults)
			}
			found := false
			for _, e := range info.Env {
				if e.Name == "HERMES_INFO_TEST_TOKEN" {
					found = true
					if e.Redacted != tc.redacted {
						t.Errorf("HERMES_INFO_TEST_TOKEN redacted %v, want %v", e.Redacted, tc.redacted)
					}
				}
				if strings.Contains(e.Name, "=") || strings.Contains(e.Name, "s3cret") {
					t.Errorf("env entry %q is not a name", e.Name)
				}
			}
			if strings.Contains(text+js, "s3cret") || (tc.path != damaged && !found) {
				t.Errorf("environment: found %v; a value leaked: %v", found, strings.Contains(text+js, "s3cret"))
			}
		})
	}
}

// Bad input: one line, exit 125.
func TestInfoBadInput(t *testing.T) {
	dir := t.TempDir()
	notTrace := filepath.Join(dir, "not.trace")
	os.WriteFile(notTrace, []byte("HERMTRC\x00garbage"), 0o644)
	for _, args := range [][]string{
		{"info", filepath.Join(dir, "missing")},
		{"info", notTrace},
		{"info", "--json", dir},
		{"info"},
	} {
		stdout, stderr, code := hermes(t, args...)
		stderrLine(t, stderr)
		if code != 125 || stdout != "" || strings.Contains(stderr, "panic") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
}
