package record

import (
	"crypto/sha256"
	"encoding/binary"
	"github.com/hermes-trace/hermes/format/recorded"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
	"golang.org/x/sys/unix"
)

// Limits on pre-images.
const (
	// DefaultPreimageMax is the size past which a file's pre-image keeps
	// only a digest, unless Options.PreimageMax says otherwise.
	DefaultPreimageMax = 256 << 20
	// imagePart is the most file data one FileImage carries; larger
	// contents come in parts.
	imagePart = 4 << 20
	// imageBytesPerEvent bounds the pre-image data one event carries, so
	// that an event stays well under format.MaxEventSize beside the
	// call's own captures.
	imageBytesPerEvent = 8 << 20
	// treeLimit bounds the entries one renamed directory adds.
	treeLimit = 100000
)

// preimages keeps what each path the program changes was before its first
// change (tracepb.FileImage), taken at the entry of the call that changes
// it, while the caller is stopped. The images wait in a queue and ride on
// the next events written, within imageBytesPerEvent each: replay reads
// them all before the run, so which event carries one does not matter,
// only that the first image of a path comes first.
type preimages struct {
	max     int64
	hidden  *hidden
	seen    map[string]bool   // paths imaged, as given and as resolved
	digests map[[32]byte]bool // contents already in the trace
	pending []*tracepb.FileImage
	files   int
	bytes   int64
}

func newPreimages(max int64, h *hidden) *preimages {
	if max <= 0 {
		max = DefaultPreimageMax
	}
	return &preimages{max: max, hidden: h, seen: make(map[string]bool), digests: make(map[[32]byte]bool)}
}

// before takes the pre-images of what sc is about to change. cp holds the
// call's captured entry memory (its path strings).
func (p *preimages) before(sc *tracer.Syscall, cp *capturer) {
	if sc.Info == nil || sc.Info.FS == nil || sc.Arch != abi.ArchX86_64 {
		return
	}
	fx := sc.Info.FS
	var how uint64
	if fx.When == abi.FSOpenHow {
		var b [8]byte
		if n, _ := sc.Mem().ReadAt(b[:], sc.Args[fx.WhenArg]); n == len(b) {
			how = binary.LittleEndian.Uint64(b[:])
		}
	}
	if !fx.Changes(&sc.Args, how) {
		return
	}
	if fx.FD != abi.NoArg && !dataWrite(sc.Nr) {
		// Data written through a descriptor needs no image of its own:
		// the open that gave it write access took one. What is left are
		// descriptors the program inherited (its standard output into a
		// log), which replay never writes to.
		path := sc.Thread.Proc.FDPath(int(int32(sc.Args[fx.FD])))
		if !p.seen[path] && recorded.FileBacked(path) && !strings.HasSuffix(path, " (deleted)") {
			p.seen[path] = true
			p.take(path, false, false)
		}
	}
	for _, ref := range fx.Paths {
		if ref.Path == abi.NoArg {
			continue
		}
		if path := resolvePath(sc, cp, ref); path != "" && !p.seen[path] {
			p.seen[path] = true
			p.take(path, !fx.NoFollow, fx.Tree)
		}
	}
}

// resolvePath returns the absolute path a path argument names (the
// directory it is relative to resolved, the path cleaned, symbolic links
// not followed), or "" if it cannot tell.
func resolvePath(sc *tracer.Syscall, cp *capturer, ref abi.PathRef) string {
	var name string
	if addr := sc.Args[ref.Path]; addr != 0 {
		m := cp.find(tracepb.MemKind_MEM_KIND_IN, int(ref.Path), addr)
		if m == nil || len(m.Data) == 0 || m.Data[len(m.Data)-1] != 0 {
			return "" // unreadable or cut: the call will fail or hermes cannot tell
		}
		name = string(m.Data[:len(m.Data)-1])
	}
	if strings.HasPrefix(name, "/") {
		return filepath.Clean(name)
	}
	var dir string
	if ref.Dir == abi.NoArg || int32(sc.Args[ref.Dir]) == unix.AT_FDCWD {
		dir, _ = os.Readlink("/proc/" + strconv.Itoa(sc.Thread.Proc.Pid) + "/cwd")
	} else {
		dir = sc.Thread.Proc.FDPath(int(int32(sc.Args[ref.Dir])))
	}
	if !strings.HasPrefix(dir, "/") {
		return ""
	}
	return filepath.Join(dir, name)
}

// take images path (its parent directories' links resolved), what a link
// there points to if the call follows it, and with tree everything below
// a directory.
func (p *preimages) take(path string, follow, tree bool) {
	if !recorded.FileBacked(path) {
		return
	}
	if dir, err := filepath.EvalSymlinks(filepath.Dir(path)); err == nil {
		path = filepath.Join(dir, filepath.Base(path))
	}
	if p.hidden.has(path) {
		return
	}
	st, ok := p.image(path)
	if !ok {
		return
	}
	switch {
	case follow && st.Mode&unix.S_IFMT == unix.S_IFLNK:
		if target, err := filepath.EvalSymlinks(path); err == nil && recorded.FileBacked(target) && !p.hidden.has(target) {
			p.image(target)
		}
	case tree && st.Mode&unix.S_IFMT == unix.S_IFDIR:
		n := 0
		_ = filepath.WalkDir(path, func(sub string, d fs.DirEntry, err error) error {
			if err != nil || sub == path {
				return nil
			}
			if n++; n > treeLimit {
				return filepath.SkipAll
			}
			if !p.hidden.has(sub) {
				p.image(sub)
			}
			return nil
		})
	}
}

// image queues the pre-image of one path, unless it has one already, and
// returns its lstat (ok false when the path does not exist).
func (p *preimages) image(path string) (st unix.Stat_t, ok bool) {
	key := "\x00" + path // resolved names, apart from the names as given
	if p.seen[key] {
		err := unix.Lstat(path, &st)
		return st, err == nil
	}
	p.seen[key] = true
	img := &tracepb.FileImage{Path: path}
	if err := unix.Lstat(path, &st); err != nil {
		p.queue(img)
		return st, false
	}
	img.Exists = true
	img.Mode, img.Uid, img.Gid, img.Size = st.Mode, st.Uid, st.Gid, st.Size
	img.AtimeNs, img.MtimeNs, img.CtimeNs = st.Atim.Nano(), st.Mtim.Nano(), st.Ctim.Nano()
	img.Dev, img.Ino, img.Nlink = st.Dev, st.Ino, st.Nlink
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		img.Link, _ = os.Readlink(path)
	case unix.S_IFREG:
		p.contents(img)
		return st, true
	}
	p.queue(img)
	return st, true
}

// contents reads a regular file's contents into img (and its parts), or
// only their digest when it is over the limit or already in the trace.
func (p *preimages) contents(img *tracepb.FileImage) {
	f, err := os.OpenFile(img.Path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		img.OverLimit = true // unreadable: replay says it cannot restore it
		p.queue(img)
		return
	}
	defer f.Close()
	h := sha256.New()
	if img.Size > p.max {
		_, _ = io.Copy(h, f)
		img.Sha256, img.OverLimit = h.Sum(nil), true
		p.queue(img)
		return
	}
	data, err := io.ReadAll(io.LimitReader(f, p.max+1))
	if err != nil || int64(len(data)) > p.max {
		img.OverLimit = true
		h.Write(data)
		img.Sha256 = h.Sum(nil)
		p.queue(img)
		return
	}
	img.Size = int64(len(data))
	sum := sha256.Sum256(data)
	img.Sha256 = sum[:]
	if p.digests[sum] || len(data) == 0 {
		p.queue(img)
		return
	}
	p.digests[sum] = true
	p.bytes += int64(len(data))
	img.Data = data[:min(len(data), imagePart)]
	p.queue(img)
	for off := imagePart; off < len(data); off += imagePart {
		p.pending = append(p.pending, &tracepb.FileImage{Path: img.Path, Exists: true, Mode: img.Mode, Size: img.Size,
			Sha256: img.Sha256, Offset: int64(off), Data: data[off:min(len(data), off+imagePart)]})
	}
}

func (p *preimages) queue(img *tracepb.FileImage) {
	p.files++
	p.pending = append(p.pending, img)
}

// next returns the queued images that fit on one event (at least one,
// if any wait), oldest first, appended to out.
func (p *preimages) next(out []*tracepb.FileImage) []*tracepb.FileImage {
	n, size := 0, 0
	for n < len(p.pending) && (n == 0 || size+len(p.pending[n].Data) <= imageBytesPerEvent) {
		size += len(p.pending[n].Data)
		n++
	}
	out = append(out, p.pending[:n]...)
	clear(p.pending[:n])
	p.pending = p.pending[n:]
	if len(p.pending) == 0 {
		p.pending = nil
	}
	return out
}

// dataWrite reports whether a call writes data through a descriptor it is
// given (write, mmap...), rather than changing a file by name or its
// metadata.
func dataWrite(nr int) bool {
	switch nr {
	case unix.SYS_WRITE, unix.SYS_PWRITE64, unix.SYS_WRITEV, unix.SYS_PWRITEV, unix.SYS_PWRITEV2,
		unix.SYS_COPY_FILE_RANGE, unix.SYS_SENDFILE, unix.SYS_SPLICE, unix.SYS_MMAP:
		return true
	}
	return false
}
