package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/format/recorded"
	"github.com/hermes-trace/hermes/format/tracepb"
	hrun "github.com/hermes-trace/hermes/internal/run"
	"github.com/hermes-trace/hermes/internal/testbin"
	"google.golang.org/protobuf/proto"
)

// recordEnv records args with env as hermes's environment, in dir.
func recordEnv(t *testing.T, dir, trace string, env []string, args ...string) {
	t.Helper()
	cmd := hermesIn(dir, append([]string{"record", "-o", trace, "--"}, args...)...)
	cmd.Env = env
	if _, stderr, code := runIn(t, cmd); code != 0 {
		t.Fatalf("record %q: exit %d: %s", args, code, stderr)
	}
}

// traceBytes returns everything a trace holds, decoded: its header and
// events, marshaled.
func traceBytes(t *testing.T, trace string) ([]byte, *tracepb.TraceHeader, []*tracepb.Event) {
	t.Helper()
	hdr, evs, _, err := format.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	all, err := proto.Marshal(hdr)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		b, err := proto.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all, hdr, evs
}

// execStrings returns the strings the execve and execveat calls of evs
// captured (argv, envp).
func execStrings(evs []*tracepb.Event) []string {
	var out []string
	for _, ev := range evs {
		sc := ev.GetSyscall()
		if sc == nil || (recorded.Name(sc) != "execve" && recorded.Name(sc) != "execveat") {
			continue
		}
		for _, m := range sc.Mem {
			out = append(out, string(bytes.TrimSuffix(m.Data, []byte{0})))
		}
	}
	return out
}

// A secret in the environment, in hermes's or set by the program (env,
// make), is nowhere in the trace: not in the header's environment and
// command line (a salted digest there), not in the argv and envp strings
// of the execs (masked with '*'), not in what dump prints. Replay gives
// the program the value from its environment or --env.
func TestRedactEnvEverywhere(t *testing.T) {
	envexec := testbin.C(t, "envexec")
	dir := t.TempDir()
	const secret, other = "abc123-hermes-secret", "xyz789-hermes-other"
	base := append(os.Environ(), "HERMES_PLAIN_VAR=visible")
	for _, tc := range []struct {
		name    string
		env     []string // besides base
		args    []string
		masked  []string // strings an exec captured, masked
		replay  []string // replay flags that give the program the values
		visible string   // what the program printed, and replay prints again
		// replayEnv, if set, gives the values instead, as hermes's
		// environment.
		replayEnv []string
	}{
		{
			name:    "in hermes's environment",
			env:     []string{"SECRET_TOKEN=" + secret},
			args:    []string{envexec, "show", "SECRET_TOKEN"},
			masked:  []string{"SECRET_TOKEN=" + strings.Repeat("*", len(secret))},
			replay:  []string{"--env", "SECRET_TOKEN=" + secret},
			visible: "SECRET_TOKEN len=20",
		},
		{
			name:      "in hermes's environment, replayed with it",
			env:       []string{"SECRET_TOKEN=" + secret},
			args:      []string{envexec, "show", "SECRET_TOKEN"},
			masked:    []string{"SECRET_TOKEN=" + strings.Repeat("*", len(secret))},
			replayEnv: []string{"SECRET_TOKEN=" + secret},
			visible:   "SECRET_TOKEN len=20",
		},
		{
			name:   "set for a child",
			env:    []string{"SECRET_TOKEN=" + secret},
			args:   []string{envexec, "exec", "OTHER_SECRET=" + other, envexec, "show", "SECRET_TOKEN", "OTHER_SECRET"},
			masked: []string{"SECRET_TOKEN=" + strings.Repeat("*", len(secret)), "OTHER_SECRET=" + strings.Repeat("*", len(other))},
			// The command line holds a value too: given as it was.
			replay:  []string{"--env", "SECRET_TOKEN=" + secret, "--", envexec, "exec", "OTHER_SECRET=" + other, envexec, "show", "SECRET_TOKEN", "OTHER_SECRET"},
			visible: "OTHER_SECRET len=19",
		},
		{
			name:    "execveat",
			args:    []string{envexec, "execat", "DB_PASSWORD=" + secret, envexec, "show", "DB_PASSWORD"},
			masked:  []string{"DB_PASSWORD=" + strings.Repeat("*", len(secret))},
			replay:  []string{"--", envexec, "execat", "DB_PASSWORD=" + secret, envexec, "show", "DB_PASSWORD"},
			visible: "DB_PASSWORD len=20",
		},
		{
			// A command-line value comes back from hermes's environment
			// as an environment value does, without repeating the command.
			name:      "on the command line, replayed with the environment",
			args:      []string{envexec, "exec", "DB_PASSWORD=" + secret, envexec, "show", "DB_PASSWORD"},
			masked:    []string{"DB_PASSWORD=" + strings.Repeat("*", len(secret))},
			replayEnv: []string{"DB_PASSWORD=" + secret},
			visible:   "DB_PASSWORD len=20",
		},
		{
			// An assignment inside a shell's command line: masked there,
			// and put back from --env by its digest.
			name:    "inside a shell command line",
			args:    []string{"sh", "-c", "DB_PASSWORD=" + secret + " exec " + envexec + " show DB_PASSWORD"},
			masked:  []string{"DB_PASSWORD=" + strings.Repeat("*", len(secret)) + " exec "},
			replay:  []string{"--env", "DB_PASSWORD=" + secret},
			visible: "DB_PASSWORD len=20",
		},
		{
			// A secret of the environment in a child's argument.
			name:      "in a child's argument",
			env:       []string{"SECRET_TOKEN=" + secret},
			args:      []string{"sh", "-c", `/bin/true "Bearer $SECRET_TOKEN"; exec ` + envexec + " show SECRET_TOKEN"},
			masked:    []string{"Bearer " + strings.Repeat("*", len(secret))},
			replayEnv: []string{"SECRET_TOKEN=" + secret},
			visible:   "SECRET_TOKEN len=20",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			trace := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".trace")
			recordEnv(t, dir, trace, append(base, tc.env...), tc.args...)
			all, hdr, evs := traceBytes(t, trace)
			for _, v := range []string{secret, other} {
				if bytes.Contains(all, []byte(v)) {
					t.Errorf("the trace holds %q", v)
				}
			}
			strs := strings.Join(execStrings(evs), "\n")
			for _, m := range tc.masked {
				if !strings.Contains(strs, m) {
					t.Errorf("no exec string %q in\n%s", m, strs)
				}
			}
			if !strings.Contains(strs, "HERMES_PLAIN_VAR=visible") {
				t.Errorf("HERMES_PLAIN_VAR masked too:\n%s", strs)
			}
			if len(hdr.RedactEnv) == 0 {
				t.Errorf("header redact_env empty")
			}
			for _, dump := range [][]string{{"dump", "-s", "4096", trace}, {"dump", "--json", trace}, {"info", "--json", trace}} {
				out, _, code := hermes(t, dump...)
				if code != 0 || strings.Contains(out, secret) || strings.Contains(out, other) ||
					strings.Contains(out, hex.EncodeToString([]byte(secret))) || strings.Contains(out, hex.EncodeToString([]byte(other))) {
					t.Errorf("%s: exit %d, the value in the output", dump[0], code)
				}
			}
			cmd := hermesIn(dir, append([]string{"replay", trace}, tc.replay...)...)
			cmd.Env = append(base, tc.replayEnv...)
			out, stderr, code := runIn(t, cmd)
			if code != 0 || !strings.Contains(out, tc.visible) {
				t.Errorf("replay %v: exit %d, stdout %q, stderr %q", tc.replay, code, out, stderr)
			}
			// Without the values, the program sees the placeholders, and
			// what it prints of them diverges.
			cmd = hermesIn(dir, "replay", trace)
			cmd.Env = base
			if _, stderr, code := runIn(t, cmd); code != exitDiverged || !strings.Contains(stderr, "diverged") {
				t.Errorf("replay without the values: exit %d, stderr %q", code, stderr)
			}
		})
	}
}

// The digest of a redacted value is salted with a random salt of each
// trace: the same value gives another digest in each trace (no table of
// the digests of likely values works for all of them), and it is not the
// unsalted SHA-256 older traces had. Replay still tells the recorded value
// from another one.
func TestRedactSalted(t *testing.T) {
	hello := testbin.C(t, "hello")
	dir := t.TempDir()
	const secret = "hunter2"
	env := append(os.Environ(), "DB_PASSWORD="+secret)
	var placeholders []string
	for i := range 2 {
		trace := filepath.Join(dir, "salt"+string(rune('a'+i))+".trace")
		recordEnv(t, dir, trace, env, hello)
		hdr, _, _, err := format.ReadFile(trace)
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range hdr.Env {
			if v, ok := strings.CutPrefix(kv, "DB_PASSWORD="); ok {
				placeholders = append(placeholders, v)
			}
		}
	}
	if len(placeholders) != 2 {
		t.Fatalf("DB_PASSWORD in the headers: %q", placeholders)
	}
	if placeholders[0] == placeholders[1] {
		t.Errorf("the same digest in two traces: %q", placeholders[0])
	}
	for _, p := range placeholders {
		if !strings.HasPrefix(p, hrun.RedactedHMAC) || strings.Contains(p, unsaltedDigest(secret)) {
			t.Errorf("placeholder %q: not a salted HMAC", p)
		}
		for _, tc := range []struct {
			value string
			match bool
		}{{secret, true}, {"hunter3", false}, {"", false}} {
			if match, known := hrun.RedactedMatches(p, tc.value); !known || match != tc.match {
				t.Errorf("RedactedMatches(%q, %q) = %v, %v; want %v", p, tc.value, match, known, tc.match)
			}
		}
	}
}

func unsaltedDigest(v string) string {
	s := sha256.Sum256([]byte(v))
	return hex.EncodeToString(s[:])
}

// RedactedMatches checks this hermes's salted digests and older traces'
// unsalted ones, and knows nothing else.
func TestRedactedMatches(t *testing.T) {
	salt := bytes.Repeat([]byte{7}, hrun.RedactSaltSize)
	salted := redactedValue(salt, "s3cret")
	old := "hermes-redacted:sha256:" + unsaltedDigest("s3cret")
	for _, tc := range []struct {
		name, red, value string
		match, known     bool
	}{
		{"salted", salted, "s3cret", true, true},
		{"salted, another value", salted, "s3cre", false, true},
		{"another salt", redactedValue([]byte("other salt"), "s3cret"), "s3cret", true, true},
		{"old", old, "s3cret", true, true},
		{"old, another value", old, "x", false, true},
		{"truncated", salted[:len(salted)-2], "s3cret", false, false},
		{"no salt", hrun.RedactedHMAC + ":" + strings.Repeat("00", 32), "s3cret", false, true},
		{"not hex", hrun.RedactedHMAC + "zz:" + strings.Repeat("00", 32), "s3cret", false, false},
		{"unknown scheme", "hermes-redacted:md5:00", "s3cret", false, false},
		{"not a placeholder", "s3cret", "s3cret", false, false},
	} {
		if match, known := hrun.RedactedMatches(tc.red, tc.value); match != tc.match || known != tc.known {
			t.Errorf("%s: RedactedMatches = %v, %v; want %v, %v", tc.name, match, known, tc.match, tc.known)
		}
	}
	if !strings.HasPrefix(salted, hrun.RedactedHMAC+strings.Repeat("07", hrun.RedactSaltSize)+":") {
		t.Errorf("salted placeholder %q does not carry its salt", salted)
	}
}
