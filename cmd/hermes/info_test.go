package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/hermes-trace/hermes/format"
	hrun "github.com/hermes-trace/hermes/internal/run"
	"github.com/hermes-trace/hermes/internal/testbin"
	"github.com/hermes-trace/hermes/policies"
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

// TestInfoSettings records with and without fault scripts, rules and the
// other settings, and checks that info gives them back from the header: a
// script's name, the SHA-256 and size of its source, its params; the rules
// as given; --on-error, --seed, pinning, --summarize, --stacks and the
// redacted names. A trace of an older format says it does not know.
func TestInfoSettings(t *testing.T) {
	dir := t.TempDir()
	hello := testbin.C(t, "hello")
	script := filepath.Join(dir, "policy.lua")
	src := []byte("-- does nothing\nlocal rate = hermes.param(\"rate\", \"0\")\nlocal msg = hermes.param(\"msg\", \"\")\nfunction on_syscall(sc) end\n")
	if err := os.WriteFile(script, src, 0o644); err != nil {
		t.Fatal(err)
	}
	builtin, _ := policies.Get("random-eio")
	enospc, _ := policies.Get("enospc")
	denyPath, _ := policies.Get("deny-path")
	digest := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	const rule = "inject=openat:error=ENOENT:when=9999"
	for _, tc := range []struct {
		name    string
		flags   []string
		scripts []infoScript
		rules   []string
		onError string
		strict  bool
		uring   bool
		seed    bool
		pinned  bool
		summary bool
		stacks  bool
		redact  []string
		text    []string
	}{
		{
			name: "a script, params, a rule and settings",
			flags: []string{"--inject", script, "--param", "rate=0.5", "--param", "msg=a b", "-e", rule, "--on-error", "deny", "--strict", "--allow-io-uring",
				"--seed", "7", "--no-pin", "--summarize", "--stacks", "--redact-env=none", "--redact-env", "my_*"},
			scripts: []infoScript{{Name: script, SHA256: digest(src), Size: int64(len(src)), Params: map[string]string{"rate": "0.5", "msg": "a b"}}},
			rules:   []string{rule}, onError: "deny", strict: true, uring: true, seed: true, summary: true, stacks: true, redact: []string{"MY_*"},
			text: []string{"fault scripts:    " + script + " (sha256 " + digest(src) + ", " + strconv.Itoa(len(src)) + " bytes) 'msg=a b' rate=0.5", "fault rules:      " + rule,
				"on script error:  deny, and the run ends (--strict)", "io_uring:         let through", "seed:             7 (given: --seed or --chaos=N)", "CPU pinning:      no", "summarized data:  yes", "call stacks:      yes", "redacted names:   MY_*"},
		},
		{
			name:    "a builtin script",
			flags:   []string{"--inject", "builtin:random-eio", "--param", "probability=0"},
			scripts: []infoScript{{Name: "builtin:random-eio", Builtin: "random-eio", SHA256: digest(builtin), Size: int64(len(builtin)), Params: map[string]string{"probability": "0"}}},
			rules:   []string{}, onError: "continue", pinned: true, redact: hrun.DefaultRedact,
			text: []string{"fault scripts:    builtin:random-eio (sha256 " + digest(builtin), "fault rules:      none", "(drawn at random)"},
		},
		{
			name: "three scripts, two sharing a parameter",
			flags: []string{"--inject", "builtin:enospc", "--inject", "builtin:deny-path", "--inject", script,
				"--param", "nth=99", "--param", "prefix=/nonexistent/", "--param", "rate=1"},
			scripts: []infoScript{
				{Name: "builtin:enospc", Builtin: "enospc", SHA256: digest(enospc), Size: int64(len(enospc)), Params: map[string]string{"nth": "99", "prefix": "/nonexistent/"}},
				{Name: "builtin:deny-path", Builtin: "deny-path", SHA256: digest(denyPath), Size: int64(len(denyPath)), Params: map[string]string{"prefix": "/nonexistent/"}},
				{Name: script, SHA256: digest(src), Size: int64(len(src)), Params: map[string]string{"rate": "1"}},
			},
			rules: []string{}, onError: "continue", pinned: true, redact: hrun.DefaultRedact,
			text: []string{"fault scripts:    builtin:enospc (sha256 " + digest(enospc), "fault scripts:    builtin:deny-path (sha256 " + digest(denyPath), "io_uring:         refused"},
		},
		{
			name:    "a rule",
			flags:   []string{"-e", rule},
			scripts: []infoScript{}, rules: []string{rule}, onError: "continue", pinned: true, redact: hrun.DefaultRedact,
			text: []string{"fault scripts:    none", "fault rules:      " + rule, "CPU pinning:      yes"},
		},
		{
			name:    "nothing",
			scripts: []infoScript{}, rules: []string{}, pinned: true, redact: hrun.DefaultRedact,
			text: []string{"fault scripts:    none", "fault rules:      none", "summarized data:  no", "redacted names:   *TOKEN* *SECRET*"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			trace := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".trace")
			if _, stderr, code := hermes(t, append(append([]string{"record", "-o", trace}, tc.flags...), "--", hello)...); code != 0 {
				t.Fatalf("record: exit %d, stderr %q", code, stderr)
			}
			text, _, code := hermes(t, "info", trace)
			if code != 0 {
				t.Fatalf("info: exit %d", code)
			}
			for _, want := range tc.text {
				if !strings.Contains(text, want) {
					t.Errorf("text lacks %q:\n%s", want, text)
				}
			}
			js, _, _ := hermes(t, "info", "--json", trace)
			var info traceInfo
			if err := json.Unmarshal([]byte(js), &info); err != nil {
				t.Fatalf("bad JSON: %v\n%s", err, js)
			}
			want := traceInfo{SettingsRecorded: true, FaultScripts: tc.scripts, FaultRules: tc.rules, FaultOnError: tc.onError, FaultStrict: tc.strict,
				IOUringAllowed: tc.uring, SeedGiven: tc.seed, Pinned: tc.pinned, Summarized: tc.summary, Stacks: tc.stacks, RedactEnv: tc.redact}
			got := traceInfo{SettingsRecorded: info.SettingsRecorded, FaultScripts: info.FaultScripts, FaultRules: info.FaultRules, FaultOnError: info.FaultOnError,
				FaultStrict: info.FaultStrict, IOUringAllowed: info.IOUringAllowed, SeedGiven: info.SeedGiven, Pinned: info.Pinned,
				Summarized: info.Summarized, Stacks: info.Stacks, RedactEnv: info.RedactEnv}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("settings\n%+v\nwant\n%+v", got, want)
			}
			if tc.seed && info.Seed != 7 {
				t.Errorf("seed %d, want 7", info.Seed)
			}

			// The same trace as format 1.4 wrote it: no settings.
			old := withMinorVersion(t, trace, 4)
			text, _, code = hermes(t, "info", old)
			js, _, _ = hermes(t, "info", "--json", old)
			var oldInfo traceInfo
			if err := json.Unmarshal([]byte(js), &oldInfo); err != nil || code != 0 || oldInfo.SettingsRecorded || !strings.Contains(text, "not recorded (format 1.4") {
				t.Errorf("format 1.4: exit %d, settings_recorded %v, text:\n%s", code, oldInfo.SettingsRecorded, text)
			}
		})
	}
}

// withMinorVersion writes a copy of trace whose file header says minor
// version minor, and returns its path.
func withMinorVersion(t *testing.T, trace string, minor uint16) string {
	t.Helper()
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint16(b[10:], minor)
	end := 16 + int(binary.LittleEndian.Uint32(b[12:]))
	binary.LittleEndian.PutUint32(b[end:], crc32.Checksum(b[:end], crc32.MakeTable(crc32.Castagnoli)))
	path := trace + ".old"
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
