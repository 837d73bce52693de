package explore

import (
	"fmt"
	"path"
	"regexp"
	"strings"
)

// Site is a group of calls made from the same place: the same syscall
// with the same call-stack fingerprint (or, where no stack could be
// walked, the same path pattern).
type Site struct {
	Label string // e.g. "write@main.save+0x4c", unique within a run
	Calls []Call // its calls, in the recorded order
}

// systemFrame reports whether a frame is inside libc, the dynamic loader,
// or the Go runtime and standard library's I/O layers: a site is labelled
// by the first frame that is not.
func systemFrame(f string) bool {
	mod, sym, _ := strings.Cut(f, ":")
	if strings.HasPrefix(mod, "libc.so") || strings.HasPrefix(mod, "libc-") || strings.HasPrefix(mod, "ld-linux") ||
		strings.HasPrefix(mod, "libpthread") || strings.HasPrefix(mod, "[vdso]") || f == "?" {
		return true
	}
	for _, p := range []string{"runtime.", "internal/", "syscall.", "os.", "io.", "io/", "bufio.", "fmt.", "sync.", "golang.org/x/sys/"} {
		if strings.HasPrefix(sym, p) {
			return true
		}
	}
	return false
}

// frameLabel is a frame without its module: "save+0x4c", or
// "libfoo.so+0x1234" where no symbol covers the address.
func frameLabel(f string) string {
	if _, sym, ok := strings.Cut(f, ":"); ok && sym != "" {
		return sym
	}
	return f
}

var digits = regexp.MustCompile(`[0-9]+`)

// pathPattern is a path with its runs of digits replaced by "*", so that
// numbered or pid-named temporary files are one site.
func pathPattern(p string) string {
	if p == "" {
		return "-"
	}
	return digits.ReplaceAllString(p, "*")
}

// fingerprint is what makes two calls the same site.
func fingerprint(c *Call) string {
	if len(c.Frames) > 0 {
		return c.Name + "\x00" + strings.Join(c.Frames, "\x00")
	}
	return c.Name + "\x00\x00" + pathPattern(c.Path)
}

// label names a site: the syscall, then the first frame outside libc and
// the runtime (or the innermost, or the path pattern).
func label(c *Call) string {
	if len(c.Frames) == 0 {
		return c.Name + "@" + pathPattern(c.Path)
	}
	for _, f := range c.Frames {
		if !systemFrame(f) {
			return c.Name + "@" + frameLabel(f)
		}
	}
	return c.Name + "@" + frameLabel(c.Frames[0])
}

// Sites groups calls into sites, in the order each site was first
// reached. Two sites that would have the same label get "~2", "~3".
func Sites(calls []Call) []*Site {
	var sites []*Site
	byKey := map[string]*Site{}
	labels := map[string]int{}
	for _, c := range calls {
		key := fingerprint(&c)
		s := byKey[key]
		if s == nil {
			l := label(&c)
			labels[l]++
			if n := labels[l]; n > 1 {
				l = fmt.Sprintf("%s~%d", l, n)
			}
			s = &Site{Label: l}
			byKey[key] = s
			sites = append(sites, s)
		}
		s.Calls = append(s.Calls, c)
	}
	return sites
}

// Candidate is one try: a fault at one call.
type Candidate struct {
	ID    string // stable across runs of the same binary: write@main.save+0x4c#1:ENOSPC
	Site  string
	Occ   int // which of the site's calls (from 1)
	Call  Call
	Fault Fault
}

// Spec is the strace-style rule that injects the candidate's fault in a
// replay: -e inject=SPEC.
func (c *Candidate) Spec() string {
	var what string
	switch c.Fault.Kind {
	case Short:
		what = fmt.Sprintf("short=%d", shortCount(c.Call))
	case Crash:
		what = "signal=SIGKILL"
	case Delay:
		what = "delay_enter=" + c.Fault.Delay.String()
	default:
		what = "error=" + c.Fault.String()
	}
	return fmt.Sprintf("inject=%s:%s:when=%d:lineage=%s", c.Call.Name, what, c.Call.Nth, c.Call.Lineage)
}

// shortCount is the byte count a short fault lowers a call to: half of
// what it transferred when recorded.
func shortCount(c Call) int64 {
	n := c.Ret
	if c.Count > 0 && int64(c.Count) < n {
		n = int64(c.Count)
	}
	return n / 2
}

// applies reports whether a fault makes sense on a call as recorded: a
// call that failed anyway is left alone, and only a transfer of two
// bytes or more can be made short.
func applies(f Fault, c Call) bool {
	if c.Ret < 0 && c.Ret >= -4095 {
		return false
	}
	if f.Kind == Short {
		return shortCount(c) >= 1
	}
	return true
}

// Candidates lists the tries: for each site, its first perSite calls,
// each with every fault of the space that applies. They come ordered by
// occurrence first (every site's first call, then every site's second),
// so that a budget spreads over the sites. paths, if not empty, keeps
// only calls whose path matches one of the globs (path.Match, or a
// pattern that matches the base name).
func Candidates(sites []*Site, space *Space, perSite int, paths []string) []Candidate {
	var out []Candidate
	for occ := 1; occ <= perSite; occ++ {
		for _, s := range sites {
			n := 0
			for _, c := range s.Calls {
				if !pathWanted(c.Path, paths) {
					continue
				}
				n++
				if n != occ {
					continue
				}
				for _, f := range space.Faults(c.Nr) {
					if !applies(f, c) {
						continue
					}
					out = append(out, Candidate{
						ID:   fmt.Sprintf("%s#%d:%s", s.Label, occ, f),
						Site: s.Label, Occ: occ, Call: c, Fault: f,
					})
				}
				break
			}
		}
	}
	return out
}

// pathWanted reports whether p matches one of the globs (all paths do
// when there is none).
func pathWanted(p string, globs []string) bool {
	if len(globs) == 0 {
		return true
	}
	if p == "" {
		return false
	}
	for _, g := range globs {
		if ok, _ := path.Match(g, p); ok {
			return true
		}
		if !strings.Contains(g, "/") {
			if ok, _ := path.Match(g, path.Base(p)); ok {
				return true
			}
		}
		if strings.HasSuffix(g, "/**") && strings.HasPrefix(p, strings.TrimSuffix(g, "**")) {
			return true
		}
	}
	return false
}
