package record

import (
	"slices"
	"strings"
)

// RedactString finds, in a string a command passed (an argument, a shell
// command line), what --redact-env keeps out of a trace, and replaces
// each value found with repl(value):
//   - the whole string "NAME=value", NAME a variable name that match
//     accepts (as env and make take it), unless script is set: the
//     value, whatever it holds;
//   - else "NAME=value" inside it, where NAME starts the string or
//     follows a blank, ';', '&', '|', '(' or a quote (a shell's
//     assignment, "sh -c 'TOKEN=x prog'"): the value up to the next blank,
//     ';', '&', '|', ')' or quote, or between the quotes that start it;
//   - every occurrence of one of the known secret values (the values of
//     such variables in an environment seen already), as in
//     "Authorization: Bearer VALUE".
//
// script says s is a program's text rather than an argument, as the
// argument after "-c" is (sh -c, bash -c, python3 -c): its assignments
// are found inside it even at its start. It returns s itself when it
// finds nothing.
func RedactString(s string, script bool, match func(name string) bool, secrets []string, repl func(value string) string) string {
	if name, val, ok := strings.Cut(s, "="); ok && !script && IsEnvName(name) && match(name) {
		return name + "=" + repl(val)
	}
	var spans [][2]int // of s to replace, in any order, may overlap
	for i := 0; i < len(s); {
		if !(i == 0 || strings.IndexByte(" \t\n;&|('\"`", s[i-1]) >= 0) || !nameStart(s[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(s) && nameByte(s[j]) {
			j++
		}
		if j >= len(s) || s[j] != '=' || !match(s[i:j]) {
			i = j
			continue
		}
		start := j + 1
		end := start
		if start < len(s) && (s[start] == '\'' || s[start] == '"') {
			q := s[start]
			start++
			end = start
			for end < len(s) && s[end] != q {
				end++
			}
		} else {
			for end < len(s) && strings.IndexByte(" \t\n;&|)'\"`", s[end]) < 0 {
				end++
			}
		}
		if end > start {
			spans = append(spans, [2]int{start, end})
		}
		i = end
	}
	for _, v := range secrets {
		if len(v) < MinSecret {
			continue
		}
		for off := 0; ; {
			k := strings.Index(s[off:], v)
			if k < 0 {
				break
			}
			spans = append(spans, [2]int{off + k, off + k + len(v)})
			off += k + len(v)
		}
	}
	if len(spans) == 0 {
		return s
	}
	slices.SortFunc(spans, func(a, b [2]int) int { return a[0] - b[0] })
	var b strings.Builder
	last := 0 // s[:last] is in b or replaced
	for i := 0; i < len(spans); {
		a, e := spans[i][0], spans[i][1]
		for i++; i < len(spans) && spans[i][0] < e; i++ {
			e = max(e, spans[i][1])
		}
		b.WriteString(s[last:a])
		b.WriteString(repl(s[a:e]))
		last = e
	}
	b.WriteString(s[last:])
	return b.String()
}

// MinSecret is the shortest value RedactString looks for as a known
// secret: a shorter one ("1", "on") would mask unrelated text.
const MinSecret = 4

func nameStart(c byte) bool { return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') }
func nameByte(c byte) bool  { return nameStart(c) || (c >= '0' && c <= '9') }
