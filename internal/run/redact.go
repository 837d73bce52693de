package run

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/hermes-trace/hermes/record"
)

// RedactedPrefix starts every value record stores instead of a redacted
// one: RedactedHMAC in traces of this hermes, "hermes-redacted:sha256:"
// and the hex SHA-256 of the value in older ones.
const RedactedPrefix = "hermes-redacted:"

// RedactedHMAC starts what record stores instead of a redacted value:
// "hermes-redacted:hmac-sha256:SALT:MAC", SALT the hex of the trace's
// random salt (RedactSaltSize bytes, the same for all its values) and MAC
// the hex HMAC-SHA256 of the value keyed by the salt. A value can then be
// checked against the recording without being in it, and no table of the
// digests of likely values serves for every trace: each trace's salt
// makes a guess cost a computation for that trace alone.
const RedactedHMAC = RedactedPrefix + "hmac-sha256:"

// redactedSHA256 starts the unsalted digests of older traces.
const redactedSHA256 = RedactedPrefix + "sha256:"

// RedactSaltSize is the size of a trace's salt.
const RedactSaltSize = 16

// DefaultRedact are the names of environment variables that look like
// secrets, redacted unless --redact-env=none. Patterns are shell globs,
// matched against the whole name without regard to case.
var DefaultRedact = []string{
	"*TOKEN*", "*SECRET*", "*PASSWORD*", "*PASSWD*", "*PASSPHRASE*",
	"*CREDENTIAL*", "*API_KEY*", "*_KEY", "AWS_*",
}

// RedactedValue returns what record stores for the value v in a trace
// whose salt is salt.
func RedactedValue(salt []byte, v string) string {
	return RedactedHMAC + hex.EncodeToString(salt) + ":" + hex.EncodeToString(redactMAC(salt, v))
}

func redactMAC(salt []byte, v string) []byte {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(v))
	return m.Sum(nil)
}

// RedactedMatches reports whether v is the value the placeholder red
// (a RedactedValue, or an older trace's unsalted digest) stands for; known
// is false when red is not a placeholder this hermes can check.
func RedactedMatches(red, v string) (match, known bool) {
	if h, ok := strings.CutPrefix(red, redactedSHA256); ok {
		sum := sha256.Sum256([]byte(v))
		return h == hex.EncodeToString(sum[:]), true
	}
	rest, ok := strings.CutPrefix(red, RedactedHMAC)
	if !ok {
		return false, false
	}
	saltHex, macHex, ok := strings.Cut(rest, ":")
	salt, err1 := hex.DecodeString(saltHex)
	mac, err2 := hex.DecodeString(macHex)
	if !ok || err1 != nil || err2 != nil || len(mac) != sha256.Size {
		return false, false
	}
	return hmac.Equal(mac, redactMAC(salt, v)), true
}

// Redactor is what --redact-env keeps out of a trace: the values of the
// environment variables whose names match its patterns.
type Redactor struct {
	pats []string // upper case
	salt []byte
}

// NewRedactor returns the Redactor of the --redact-env flags: the default
// patterns unless one of them is "none", and the patterns given; with a
// new random salt.
func NewRedactor(flags []string) (*Redactor, error) {
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
	r := &Redactor{pats: pats, salt: make([]byte, RedactSaltSize)}
	if _, err := rand.Read(r.salt); err != nil {
		return nil, fmt.Errorf("--redact-env: a salt: %w", err)
	}
	return r, nil
}

// EnvRedactor returns the function that redacts a header's environment as
// the --redact-env flags say (see NewRedactor and Redactor.Env).
func EnvRedactor(flags []string) (func(env []string) []string, error) {
	r, err := NewRedactor(flags)
	if err != nil {
		return nil, err
	}
	return r.Env, nil
}

// Patterns returns the patterns names are matched against (upper case).
func (r *Redactor) Patterns() []string { return r.pats }

// Match reports whether the value of the variable name is redacted.
func (r *Redactor) Match(name string) bool {
	up := strings.ToUpper(name)
	for _, p := range r.pats {
		if m, _ := path.Match(p, up); m {
			return true
		}
	}
	return false
}

// Value returns what is stored instead of the value v.
func (r *Redactor) Value(v string) string { return RedactedValue(r.salt, v) }

// Env returns env ("NAME=value" strings) with the values of the variables
// r redacts replaced by their RedactedValue. env itself is not modified.
func (r *Redactor) Env(env []string) []string {
	if len(r.pats) == 0 {
		return env
	}
	var out []string
	for i, kv := range env {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || strings.HasPrefix(val, RedactedPrefix) || !r.Match(name) {
			continue
		}
		if out == nil {
			out = append([]string(nil), env...)
		}
		out[i] = name + "=" + r.Value(val)
	}
	if out == nil {
		return env
	}
	return out
}

// Secrets returns the values env gives the variables r redacts: what
// Argv looks for anywhere in an argument (record.MinSecret bytes or more).
func (r *Redactor) Secrets(env []string) []string {
	var out []string
	for _, kv := range env {
		name, val, ok := strings.Cut(kv, "=")
		if ok && len(val) >= record.MinSecret && !strings.HasPrefix(val, RedactedPrefix) && r.Match(name) && !slices.Contains(out, val) {
			out = append(out, val)
		}
	}
	return out
}

// Argv returns argv with what record.RedactString finds redacted as Env
// redacts: the arguments that set such a variable ("NAME=value", NAME a
// variable name r redacts, as env and make take them), such assignments
// inside an argument (a shell command line), and the secrets (Secrets of
// the environment) wherever they appear. argv itself is not modified.
func (r *Redactor) Argv(argv []string, secrets []string) []string {
	if len(r.pats) == 0 {
		return argv
	}
	var out []string
	for i, a := range argv {
		red := record.RedactString(a, i > 0 && argv[i-1] == "-c", r.Match, secrets, func(v string) string {
			if strings.HasPrefix(v, RedactedPrefix) {
				return v
			}
			return r.Value(v)
		})
		if red == a {
			continue
		}
		if out == nil {
			out = append([]string(nil), argv...)
		}
		out[i] = red
	}
	if out == nil {
		return argv
	}
	return out
}

// RestoreRedactedEnv is for replay: it returns env (a trace header's) with
// every value record redacted ("hermes-redacted:...") put back from where
// replay can find it, and logs one line saying where each came from
// (unless each came from hermes's environment with its recorded value):
//   - a --env NAME=VALUE setting (set), which replay applies after this and
//     which wins as it does for every recorded variable;
//   - else hermes's own environment, when it has NAME;
//   - else the placeholder stays: the program sees "hermes-redacted:...".
//
// A value from hermes's environment that is not the recorded one (by the
// digest) is used, and the line says so. env itself is not modified.
func RestoreRedactedEnv(env, set []string, logf func(format string, a ...any)) []string {
	return RestoreRedactedEnvWith(env, set, os.LookupEnv, logf)
}

// RestoreRedactedEnvWith is RestoreRedactedEnv with lookup in place of
// os.LookupEnv.
func RestoreRedactedEnvWith(env, set []string, lookup func(string) (string, bool), logf func(format string, a ...any)) []string {
	return restoreRedacted(env, set, lookup, "environment variables", logf)
}

// RestoreRedactedArgs is RestoreRedactedEnv for a recorded command line:
// its NAME=VALUE arguments whose values record redacted get them back
// from --env or hermes's environment the same way.
func RestoreRedactedArgs(argv, set []string, logf func(format string, a ...any)) []string {
	return RestoreRedactedArgsWith(argv, set, os.Environ(), logf)
}

// RestoreRedactedArgsWith is RestoreRedactedArgs with environ in place of
// hermes's environment. A value record redacted inside an argument (an
// assignment in a shell command line, a secret in "Bearer VALUE") is put
// back from the --env setting or variable of environ whose value it is,
// found by its digest; one that none has stays a placeholder, and a line
// says so.
func RestoreRedactedArgsWith(argv, set, environ []string, logf func(format string, a ...any)) []string {
	lookup := func(name string) (string, bool) {
		for i := len(environ) - 1; i >= 0; i-- {
			if v, ok := strings.CutPrefix(environ[i], name+"="); ok {
				return v, true
			}
		}
		return "", false
	}
	argv = restoreRedacted(argv, set, lookup, "command-line NAME=VALUE arguments", logf)
	var candidates []string // values the placeholders may stand for, --env first
	for _, kv := range append(slices.Clone(set), environ...) {
		if _, v, ok := strings.Cut(kv, "="); ok && len(v) > 0 && !strings.HasPrefix(v, RedactedPrefix) {
			candidates = append(candidates, v)
		}
	}
	var out []string
	restored, kept := 0, 0
	for i, a := range argv {
		if !strings.Contains(a, RedactedPrefix) {
			continue
		}
		if name, v, ok := strings.Cut(a, "="); ok && record.IsEnvName(name) && placeholderRE.FindString(v) == v {
			continue // a NAME=VALUE argument: restoreRedacted's
		}
		red := placeholderRE.ReplaceAllStringFunc(a, func(ph string) string {
			for _, v := range candidates {
				if match, _ := RedactedMatches(ph, v); match {
					restored++
					return v
				}
			}
			kept++
			return ph
		})
		if red == a {
			continue
		}
		if out == nil {
			out = slices.Clone(argv)
		}
		out[i] = red
	}
	if logf != nil && kept > 0 {
		logf("the trace's command line holds %d redacted value(s) that no --env setting or variable of hermes's environment has: left as placeholders (set the variable, or give --env NAME=VALUE)", kept)
	}
	if out == nil {
		return argv
	}
	return out
}

// placeholderRE finds a RedactedValue (or an older trace's digest) inside
// a string.
var placeholderRE = regexp.MustCompile(`hermes-redacted:(?:hmac-sha256:[0-9a-f]+:[0-9a-f]{64}|sha256:[0-9a-f]{64})`)

func restoreRedacted(env, set []string, lookup func(string) (string, bool), what string, logf func(format string, a ...any)) []string {
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
		if !ok || !strings.HasPrefix(val, RedactedPrefix) || placeholderRE.FindString(val) != val {
			continue // not a redacted value, or one inside the string
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
			if match, known := RedactedMatches(val, v); !known {
				fromEnv = append(fromEnv, name+" (not checked: an unknown digest)")
			} else if !match {
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
		logf("the trace's redacted %s: %s", what, strings.Join(parts, "; "))
	}
	return out
}
