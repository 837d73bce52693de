// Package fsview makes the private view of the file system a replay runs
// in: a mount namespace in which every writable file system is a
// copy-on-write overlay over the real one, with the pre-images a recording
// kept (tracepb.FileImage) restored into its upper layer, so that the
// replayed program sees its files as they were when the recording started
// and nothing it writes reaches the real tree.
//
// A View is built by a holder process: hermes forks it, it makes the
// namespaces and the mounts with raw system calls (package tracer's Step),
// pivots into the new root and stays; the replayed program, and a --check
// command after it, join its namespaces before they exec. As root the view
// is one overlay per writable mount. As another user it needs unprivileged
// user namespaces, and a writable mount with other mounts below it is
// overlaid directory by directory (the kernel will not take a lower layer
// with mounts locked below it), so a rename between two top-level
// directories of such a mount fails with EXDEV, as does renaming a
// directory that existed before (overlayfs without redirect_dir).
package fsview

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Mount is one line of /proc/self/mountinfo.
type Mount struct {
	ID, Parent int
	Point      string // mount point
	Root       string // the part of the file system mounted there
	FSType     string
	Source     string
	ReadOnly   bool // per-mount "ro"
}

// ParseMountinfo reads the mountinfo format (proc(5)).
func ParseMountinfo(r io.Reader) ([]Mount, error) {
	var out []Mount
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			return nil, fmt.Errorf("mountinfo: no separator in %q", line)
		}
		f := strings.Fields(pre)
		g := strings.Fields(post)
		if len(f) < 6 || len(g) < 2 {
			return nil, fmt.Errorf("mountinfo: short line %q", line)
		}
		id, err1 := strconv.Atoi(f[0])
		parent, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("mountinfo: bad ids in %q", line)
		}
		m := Mount{ID: id, Parent: parent, Root: unescape(f[3]), Point: unescape(f[4]), FSType: g[0], Source: unescape(g[1])}
		for _, o := range strings.Split(f[5], ",") {
			if o == "ro" {
				m.ReadOnly = true
			}
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// readMounts reads this process's mount table.
func readMounts() ([]Mount, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseMountinfo(f)
}

// pseudo file systems are bound into the view as they are: they hold no
// files of the program's (paths under /proc, /sys and /dev are never part
// of the view).
var pseudo = map[string]bool{
	"proc": true, "sysfs": true, "devtmpfs": true, "devpts": true, "cgroup": true, "cgroup2": true,
	"tracefs": true, "debugfs": true, "securityfs": true, "bpf": true, "mqueue": true, "hugetlbfs": true,
	"fusectl": true, "configfs": true, "pstore": true, "binfmt_misc": true, "autofs": true, "efivarfs": true,
	"rpc_pipefs": true, "nsfs": true, "selinuxfs": true,
}

// isPseudo reports whether a mount is bound as it is.
func isPseudo(m *Mount) bool {
	return pseudo[m.FSType] || under(m.Point, "/proc") || under(m.Point, "/sys") || under(m.Point, "/dev")
}

// under reports whether path is dir or below it.
func under(path, dir string) bool {
	if dir == "/" {
		return strings.HasPrefix(path, "/")
	}
	return path == dir || strings.HasPrefix(path, dir+"/")
}
