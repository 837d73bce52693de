package fsview

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/hermes-trace/hermes/format/tracepb"
	"golang.org/x/sys/unix"
)

// restorer puts pre-images into the upper layers. It never follows a
// symbolic link: every name is created or opened relative to a directory
// descriptor with O_NOFOLLOW, so an image cannot lead a write out of the
// layer through a link an earlier image made.
type restorer struct {
	layers   []Layer
	images   *Images
	root     bool
	problems []string
	restored int
}

// layerFor returns the layer a real path belongs to and the path relative
// to its lower directory.
func (r *restorer) layerFor(path string) (*Layer, string) {
	var best *Layer
	for i := range r.layers {
		l := &r.layers[i]
		if under(path, l.Lower) && (best == nil || len(l.Lower) > len(best.Lower)) {
			best = l
		}
	}
	if best == nil {
		return nil, ""
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(path, best.Lower), "/")
	return best, rel
}

func (r *restorer) problem(format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
}

// restoreAll restores every pre-image, and hides the paths in hide.
func (r *restorer) restoreAll(hide []string) {
	for _, img := range r.images.sorted() {
		if r.images.absentAncestor(img.Path) {
			continue
		}
		if err := r.restore(img); err != nil {
			r.problem("%s: %v", img.Path, err)
		}
	}
	for _, h := range hide {
		var st unix.Stat_t
		if !validPath(h) || unix.Lstat(h, &st) != nil {
			continue
		}
		if err := r.restore(&tracepb.FileImage{Path: h}); err != nil {
			r.problem("hiding %s: %v", h, err)
		}
	}
	for _, b := range r.images.bad {
		r.problem("pre-image %s", b)
	}
}

// restore makes one path in the view what img says it was.
func (r *restorer) restore(img *tracepb.FileImage) error {
	l, rel := r.layerFor(img.Path)
	if l == nil {
		return errors.New("not in a writable part of the view")
	}
	if rel == "" {
		return nil // the root of a layer: it is there
	}
	var low unix.Stat_t
	lowErr := unix.Lstat(img.Path, &low)
	if !img.Exists {
		if lowErr != nil {
			return nil // absent now too
		}
		return r.at(l, rel, func(dfd int, name string) error {
			err := unix.Mknodat(dfd, name, unix.S_IFCHR, 0) // a whiteout
			if errors.Is(err, unix.EEXIST) {
				return nil
			}
			return err
		})
	}
	typ := img.Mode & unix.S_IFMT
	if lowErr == nil && low.Mode&unix.S_IFMT == typ && low.Mode == img.Mode && r.sameAsLower(img, &low) {
		return nil // the real one is as it was
	}
	err := r.at(l, rel, func(dfd int, name string) error {
		switch typ {
		case unix.S_IFDIR:
			if err := unix.Mkdirat(dfd, name, img.Mode&0o7777); err != nil && !errors.Is(err, unix.EEXIST) {
				return err
			}
		case unix.S_IFLNK:
			if err := unix.Symlinkat(img.Link, dfd, name); err != nil {
				return err
			}
		case unix.S_IFIFO:
			if err := unix.Mknodat(dfd, name, unix.S_IFIFO|img.Mode&0o7777, 0); err != nil {
				return err
			}
		case unix.S_IFREG:
			return r.file(dfd, name, img)
		default:
			return fmt.Errorf("a %s cannot be restored", typeName(typ))
		}
		return r.attrs(dfd, name, img)
	})
	if err == nil {
		r.restored++
	}
	return err
}

// sameAsLower reports whether the real path still is what img says.
func (r *restorer) sameAsLower(img *tracepb.FileImage, low *unix.Stat_t) bool {
	switch img.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return true
	case unix.S_IFLNK:
		link, err := os.Readlink(img.Path)
		return err == nil && link == img.Link
	case unix.S_IFREG:
		if low.Size != img.Size || len(img.Sha256) != sha256.Size {
			return false
		}
		f, err := os.OpenFile(img.Path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
		if err != nil {
			return false
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return false
		}
		return string(h.Sum(nil)) == string(img.Sha256)
	}
	return false
}

// file writes a regular file's recorded contents.
func (r *restorer) file(dfd int, name string, img *tracepb.FileImage) error {
	src := ""
	if img.Size > 0 {
		var ok bool
		if src, ok = r.images.blob(img.Sha256, img.Size); !ok {
			if img.OverLimit {
				return fmt.Errorf("its contents (%d bytes) were over the recording's --preimage-max", img.Size)
			}
			return errors.New("its contents are not in the trace")
		}
	}
	fd, err := unix.Openat(dfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	out := os.NewFile(uintptr(fd), name)
	defer out.Close()
	if src != "" {
		in, err := os.Open(src)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, in)
		in.Close()
		if err != nil {
			return err
		}
	}
	return r.attrs(dfd, name, img)
}

// attrs sets mode, owner (as root) and times, not following links.
func (r *restorer) attrs(dfd int, name string, img *tracepb.FileImage) error {
	if img.Mode&unix.S_IFMT != unix.S_IFLNK {
		if err := unix.Fchmodat(dfd, name, img.Mode&0o7777, 0); err != nil {
			return err
		}
	}
	if r.root {
		_ = unix.Fchownat(dfd, name, int(img.Uid), int(img.Gid), unix.AT_SYMLINK_NOFOLLOW)
	}
	ts := []unix.Timespec{unix.NsecToTimespec(img.AtimeNs), unix.NsecToTimespec(img.MtimeNs)}
	_ = unix.UtimesNanoAt(dfd, name, ts, unix.AT_SYMLINK_NOFOLLOW)
	return nil
}

// at opens (making them as needed, as the real ones are) the directories
// of rel in l's upper layer, none of them a link, and calls fn with the
// last one and the final name.
func (r *restorer) at(l *Layer, rel string, fn func(dfd int, name string) error) error {
	dfd, err := unix.Open(l.Upper, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	parts := strings.Split(rel, "/")
	real := l.Lower
	for _, p := range parts[:len(parts)-1] {
		if p == "" || p == "." || p == ".." {
			unix.Close(dfd)
			return fmt.Errorf("bad path component %q", p)
		}
		real = filepath.Join(real, p)
		next, err := unix.Openat(dfd, p, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) {
			mode, uid, gid, atime, mtime := uint32(0o755), -1, -1, int64(0), int64(0)
			var st unix.Stat_t
			if unix.Stat(real, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
				mode, uid, gid = st.Mode&0o7777, int(st.Uid), int(st.Gid)
				atime, mtime = st.Atim.Nano(), st.Mtim.Nano()
			}
			if img, ok := r.images.byPath[real]; ok && img.Exists && img.Mode&unix.S_IFMT == unix.S_IFDIR {
				mode, uid, gid = img.Mode&0o7777, int(img.Uid), int(img.Gid)
				atime, mtime = img.AtimeNs, img.MtimeNs
			}
			if err = unix.Mkdirat(dfd, p, mode); err == nil {
				_ = unix.Fchmodat(dfd, p, mode, 0)
				if r.root && uid >= 0 {
					_ = unix.Fchownat(dfd, p, uid, gid, unix.AT_SYMLINK_NOFOLLOW)
				}
				if mtime != 0 {
					_ = unix.UtimesNanoAt(dfd, p, []unix.Timespec{unix.NsecToTimespec(atime), unix.NsecToTimespec(mtime)}, unix.AT_SYMLINK_NOFOLLOW)
				}
				next, err = unix.Openat(dfd, p, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			}
		}
		unix.Close(dfd)
		if err != nil {
			return fmt.Errorf("directory %s in the view: %w", real, err)
		}
		dfd = next
	}
	defer unix.Close(dfd)
	name := parts[len(parts)-1]
	if name == "" || name == "." || name == ".." {
		return fmt.Errorf("bad path component %q", name)
	}
	return fn(dfd, name)
}

func typeName(t uint32) string {
	switch t {
	case unix.S_IFCHR:
		return "character device"
	case unix.S_IFBLK:
		return "block device"
	case unix.S_IFSOCK:
		return "socket"
	}
	return fmt.Sprintf("file of type %#o", t)
}
