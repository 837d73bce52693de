package run

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"strings"
)

// RedactedPrefix starts the value record stores instead of a redacted
// environment variable's: "hermes-redacted:sha256:" and the hex SHA-256 of
// the value, so that a value can be checked against the recording without
// being in it.
const RedactedPrefix = "hermes-redacted:sha256:"

// DefaultRedact are the names of environment variables that look like
// secrets, redacted unless --redact-env=none. Patterns are shell globs,
// matched against the whole name without regard to case.
var DefaultRedact = []string{
	"*TOKEN*", "*SECRET*", "*PASSWORD*", "*PASSWD*", "*PASSPHRASE*",
	"*CREDENTIAL*", "*API_KEY*", "*_KEY", "AWS_*",
}

// RedactedValue returns what record stores for the value v.
func RedactedValue(v string) string {
	sum := sha256.Sum256([]byte(v))
	return RedactedPrefix + hex.EncodeToString(sum[:])
}

// EnvRedactor returns the function that redacts a header's environment as
// the --redact-env flags say: the default patterns unless one of them is
// "none", and the patterns given.
func EnvRedactor(flags []string) (func(env []string) []string, error) {
	pats := DefaultRedact
	for _, f := range flags {
		if f == "none" {
			pats = nil
		}
	}
	for _, f := range flags {
		if f == "none" {
			continue
		}
		p := strings.ToUpper(f)
		if p == "" || strings.Contains(p, "=") {
			return nil, fmt.Errorf("--redact-env %q: want a glob pattern of variable names, or none", f)
		}
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("--redact-env %q: %w", f, err)
		}
		pats = append(pats[:len(pats):len(pats)], p)
	}
	return func(env []string) []string {
		if len(pats) == 0 {
			return env
		}
		out := make([]string, len(env))
		for i, kv := range env {
			out[i] = kv
			name, val, ok := strings.Cut(kv, "=")
			if !ok || strings.HasPrefix(val, RedactedPrefix) {
				continue
			}
			for _, p := range pats {
				if m, _ := path.Match(p, strings.ToUpper(name)); m {
					out[i] = name + "=" + RedactedValue(val)
					break
				}
			}
		}
		return out
	}, nil
}

// RestoreRedactedEnv is for replay: it returns env (a trace header's) with
// every value record redacted ("hermes-redacted:sha256:...") put back from
// where replay can find it, and logs one line saying where each came from
// (unless each came from hermes's environment with its recorded value):
//   - a --env NAME=VALUE setting (set), which replay applies after this and
//     which wins as it does for every recorded variable;
//   - else hermes's own environment, when it has NAME;
//   - else the placeholder stays: the program sees "hermes-redacted:...".
//
// A value from hermes's environment whose digest differs from the recorded
// one is used, and the line says so. env itself is not modified.
func RestoreRedactedEnv(env, set []string, logf func(format string, a ...any)) []string {
	return RestoreRedactedEnvWith(env, set, os.LookupEnv, logf)
}

// RestoreRedactedEnvWith is RestoreRedactedEnv with lookup in place of
// os.LookupEnv.
func RestoreRedactedEnvWith(env, set []string, lookup func(string) (string, bool), logf func(format string, a ...any)) []string {
	given := map[string]bool{}
	for _, kv := range set {
		if name, _, ok := strings.Cut(kv, "="); ok {
			given[name] = true
		}
	}
	var out []string
	var fromEnv, fromFlag, kept []string
	for i, kv := range env {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(val, RedactedPrefix) {
			continue
		}
		if out == nil {
			out = append([]string(nil), env...)
		}
		switch v, inEnv := lookup(name); {
		case given[name]:
			fromFlag = append(fromFlag, name)
		case inEnv:
			// The recorded value itself needs no word; another one does.
			out[i] = name + "=" + v
			if RedactedValue(v) != val {
				fromEnv = append(fromEnv, name+" (not the recorded value)")
			}
		default:
			kept = append(kept, name)
		}
	}
	if out == nil {
		return env
	}
	var parts []string
	if len(fromFlag) > 0 {
		parts = append(parts, strings.Join(fromFlag, ", ")+" from --env")
	}
	if len(fromEnv) > 0 {
		parts = append(parts, strings.Join(fromEnv, ", ")+" from hermes's environment")
	}
	if len(kept) > 0 {
		parts = append(parts, strings.Join(kept, ", ")+" left as their placeholder (set them in the environment or with --env NAME=VALUE)")
	}
	if logf != nil && len(parts) > 0 {
		logf("the trace's redacted environment variables: %s", strings.Join(parts, "; "))
	}
	return out
}
