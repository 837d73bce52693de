package fsview

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"unsafe"

	"github.com/hermes-trace/hermes/tracer"
	"golang.org/x/sys/unix"
)

// Layer is one copy-on-write overlay of the view: the real directory
// Lower, seen at the same path in the view, with changes in Upper.
type Layer struct {
	Lower string // real path, and the path in the view
	Upper string // the overlay's upper directory
	Work  string
}

// plan is the holder's program: the raw calls that build the view.
type plan struct {
	steps  []tracer.Step
	keep   [][]byte // what the steps' pointers point at
	layers []Layer
	// rootDir is where the view's root is assembled before the pivot.
	rootDir string
	dir     string // hermes's directory for the layers
	notes   []string
}

// str keeps a NUL-terminated copy of s and returns its address.
func (p *plan) str(s string) uintptr {
	b := append([]byte(s), 0)
	p.keep = append(p.keep, b)
	return uintptr(unsafe.Pointer(&b[0]))
}

func (p *plan) bytes(b []byte) uintptr {
	if len(b) == 0 {
		b = []byte{0}
	}
	p.keep = append(p.keep, b)
	return uintptr(unsafe.Pointer(&b[0]))
}

func (p *plan) step(name string, mayFail bool, nr uintptr, args ...uintptr) {
	s := tracer.Step{Nr: nr, Name: name, MayFail: mayFail}
	copy(s.Args[:], args)
	p.steps = append(p.steps, s)
}

func (p *plan) mount(name, source, target, fstype string, flags uintptr, data string, mayFail bool) {
	var src, fs, d uintptr
	if source != "" {
		src = p.str(source)
	}
	if fstype != "" {
		fs = p.str(fstype)
	}
	if data != "" {
		d = p.str(data)
	}
	p.step(name, mayFail, unix.SYS_MOUNT, src, p.str(target), fs, flags, d)
}

// target returns where a view path is assembled.
func (p *plan) target(point string) string {
	if point == "/" {
		return p.rootDir
	}
	return p.rootDir + point
}

// buildPlan makes the holder's program for the mounts, as root (one
// overlay per writable mount) or not (a user namespace, and mounts with
// mounts below them overlaid directory by directory).
func buildPlan(dir string, mounts []Mount, root bool, uid, gid int) (*plan, error) {
	p := &plan{dir: dir, rootDir: filepath.Join(dir, "root")}
	if err := os.MkdirAll(p.rootDir, 0o700); err != nil {
		return nil, err
	}
	if root {
		p.step("unshare mount and IPC namespaces", false, unix.SYS_UNSHARE, unix.CLONE_NEWNS|unix.CLONE_NEWIPC)
	} else {
		p.step("unshare user, mount and IPC namespaces", false, unix.SYS_UNSHARE, unix.CLONE_NEWUSER|unix.CLONE_NEWNS|unix.CLONE_NEWIPC)
		p.procWrite("/proc/self/setgroups", "deny")
		p.procWrite("/proc/self/uid_map", fmt.Sprintf("%d %d 1\n", uid, uid))
		p.procWrite("/proc/self/gid_map", fmt.Sprintf("%d %d 1\n", gid, gid))
	}
	p.mount("make every mount private", "", "/", "", unix.MS_REC|unix.MS_PRIVATE, "", false)

	// The visible mount at each point (the last one mounted there), parents
	// before children.
	top := make(map[string]Mount)
	for _, m := range mounts {
		top[m.Point] = m
	}
	var ms []Mount
	for _, m := range top {
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool {
		return depth(ms[i].Point) < depth(ms[j].Point) || depth(ms[i].Point) == depth(ms[j].Point) && ms[i].Point < ms[j].Point
	})
	if len(ms) == 0 || ms[0].Point != "/" {
		return nil, fmt.Errorf("no root in the mount table")
	}
	var bound []string // points bound with everything below them
	isBound := func(point string) bool {
		for _, b := range bound {
			if under(point, b) && point != b {
				return true
			}
		}
		return false
	}
	hasChildren := func(point string) bool {
		for _, m := range ms {
			if m.Point != point && under(m.Point, point) {
				return true
			}
		}
		return false
	}
	for _, m := range ms {
		if isBound(m.Point) {
			continue
		}
		t := p.target(m.Point)
		switch {
		case m.Point != "/" && isPseudo(&m):
			p.mount("bind "+m.Point, m.Point, t, "", unix.MS_BIND|unix.MS_REC, "", false)
			bound = append(bound, m.Point)
		case m.ReadOnly && m.Point != "/":
			p.mount("bind "+m.Point, m.Point, t, "", unix.MS_BIND|unix.MS_REC, "", true)
			bound = append(bound, m.Point)
		case !root && hasChildren(m.Point):
			if err := p.split(m.Point, ms); err != nil {
				return nil, err
			}
		default:
			if st, err := os.Stat(m.Point); err != nil || !st.IsDir() {
				// A file mounted over a file (a container's
				// /etc/hosts): bound read-only, never written.
				p.mount("bind "+m.Point, m.Point, t, "", unix.MS_BIND, "", true)
				p.mount("make "+m.Point+" read-only", "", t, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, "", true)
				p.notes = append(p.notes, m.Point+" is a file mounted on its own: read-only in the view")
				continue
			}
			if err := p.overlay(m.Point, root); err != nil {
				return nil, err
			}
		}
	}
	// Private instances of shared memory and message queues.
	p.mount("mount a private /dev/shm", "tmpfs", p.target("/dev/shm"), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777", true)
	p.mount("mount a private /dev/mqueue", "mqueue", p.target("/dev/mqueue"), "mqueue", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "", true)
	dot := p.str(".")
	p.step("chdir to the view", false, unix.SYS_CHDIR, p.str(p.rootDir))
	p.step("pivot_root", false, unix.SYS_PIVOT_ROOT, dot, dot)
	p.step("detach the old root", false, unix.SYS_UMOUNT2, dot, unix.MNT_DETACH)
	p.step("chdir /", false, unix.SYS_CHDIR, p.str("/"))
	return p, nil
}

// procWrite writes a small string into a /proc file: open, then dup3 of
// what open returned (PrevArg) to a fixed number, which write and close
// can name.
func (p *plan) procWrite(path, data string) {
	const fd = 1000 // a number the holder does not use otherwise
	p.step("open "+path, false, unix.SYS_OPENAT, ^uintptr(99) /* AT_FDCWD */, p.str(path), unix.O_WRONLY|unix.O_CLOEXEC)
	p.steps = append(p.steps, tracer.Step{Nr: unix.SYS_DUP3, Args: [6]uintptr{0, fd, unix.O_CLOEXEC}, PrevArg: 1, Name: "dup3 " + path})
	p.step("write "+path, false, unix.SYS_WRITE, fd, p.bytes([]byte(data)), uintptr(len(data)))
	p.step("close "+path, true, unix.SYS_CLOSE, fd)
}

// overlay adds a layer over the real directory point, seen at point.
func (p *plan) overlay(point string, root bool) error {
	n := len(p.layers)
	base := filepath.Join(p.dir, "layers", strconv.Itoa(n))
	l := Layer{Lower: point, Upper: filepath.Join(base, "upper"), Work: filepath.Join(base, "work")}
	for _, d := range []string{l.Upper, l.Work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	// The merged root directory takes its attributes from the upper one.
	if st, err := os.Stat(point); err == nil {
		_ = os.Chmod(l.Upper, st.Mode().Perm()|st.Mode()&(os.ModeSticky|os.ModeSetgid|os.ModeSetuid))
		if s, ok := st.Sys().(*unix.Stat_t); ok && root {
			_ = os.Lchown(l.Upper, int(s.Uid), int(s.Gid))
		}
	}
	opts := "lowerdir=" + escapeOpt(point) + ",upperdir=" + escapeOpt(l.Upper) + ",workdir=" + escapeOpt(l.Work)
	if root {
		opts += ",redirect_dir=on"
	} else {
		opts += ",userxattr"
	}
	p.layers = append(p.layers, l)
	p.mount("overlay "+point, "overlay", p.target(point), "overlay", 0, opts, false)
	return nil
}

// escapeOpt escapes what overlayfs's option parser treats specially.
func escapeOpt(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', ':', '\\':
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// split assembles the mount at point in a tmpfs: each entry of its top
// directory is an overlay of its own, a link or a copy, and directories
// that hold other mounts are made again, entry by entry.
func (p *plan) split(point string, ms []Mount) error {
	p.mount("tmpfs for "+point, "tmpfs", p.target(point), "tmpfs", 0, "mode=755", false)
	return p.splitDir(point, ms)
}

func (p *plan) splitDir(dir string, ms []Mount) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("reading %s: %w", dir, err)
	}
	isPoint := func(path string) bool {
		for _, m := range ms {
			if m.Point == path {
				return true
			}
		}
		return false
	}
	holds := func(path string) bool {
		for _, m := range ms {
			if m.Point != path && under(m.Point, path) {
				return true
			}
		}
		return false
	}
	for _, e := range ents {
		sub := filepath.Join(dir, e.Name())
		t := p.target(sub)
		info, err := os.Lstat(sub)
		if err != nil {
			continue
		}
		mode := uint32(info.Mode().Perm())
		switch {
		case info.IsDir():
			p.step("mkdir "+t, false, unix.SYS_MKDIRAT, ^uintptr(99), p.str(t), uintptr(mode))
			switch {
			case isPoint(sub):
				// Its own mount: handled in mount order.
			case holds(sub):
				if err := p.splitDir(sub, ms); err != nil {
					return err
				}
			default:
				if err := p.overlay(sub, false); err != nil {
					return err
				}
			}
		case info.Mode()&os.ModeSymlink != 0:
			link, err := os.Readlink(sub)
			if err == nil {
				p.step("symlink "+t, false, unix.SYS_SYMLINKAT, p.str(link), ^uintptr(99), p.str(t))
			}
		case info.Mode().IsRegular():
			data, err := os.ReadFile(sub)
			if err != nil || len(data) > 1<<20 {
				p.notes = append(p.notes, sub+" is left out of the view")
				continue
			}
			const fd = 1001
			p.step("create "+t, false, unix.SYS_OPENAT, ^uintptr(99), p.str(t), unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, uintptr(mode))
			p.steps = append(p.steps, tracer.Step{Nr: unix.SYS_DUP3, Args: [6]uintptr{0, fd, unix.O_CLOEXEC}, PrevArg: 1, Name: "dup3 " + t})
			if len(data) > 0 {
				p.step("write "+t, false, unix.SYS_WRITE, fd, p.bytes(data), uintptr(len(data)))
			}
			p.step("close "+t, true, unix.SYS_CLOSE, fd)
		}
	}
	return nil
}

func depth(path string) int {
	if path == "/" {
		return 0
	}
	n := 0
	for i := 0; i < len(path); i++ {
		if path[i] == '/' {
			n++
		}
	}
	return n
}
