package fsview

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// entry is what one name in an upper layer was when the replay started.
type entry struct {
	mode        uint32
	ino         uint64
	size        int64
	mtime, ctim int64
}

// snapshot records every name in the upper layers, by real path.
func (v *View) snapshot() map[string]entry {
	out := make(map[string]entry)
	for _, l := range v.layers {
		_ = filepath.WalkDir(l.Upper, func(path string, d os.DirEntry, err error) error {
			if err != nil || path == l.Upper {
				return nil
			}
			var st unix.Stat_t
			if unix.Lstat(path, &st) == nil {
				out[filepath.Join(l.Lower, strings.TrimPrefix(path, l.Upper))] = entry{st.Mode, st.Ino, st.Size, st.Mtim.Nano(), st.Ctim.Nano()}
			}
			return nil
		})
	}
	return out
}

// DeletedManifest is the name of the file in a --keep-fs directory that
// lists, one absolute path a line, what the replayed run deleted.
const DeletedManifest = ".hermes-deleted"

// CheckKeepDir refuses a --keep-fs directory that cannot be used: its
// parent must exist, and it must not exist or be empty.
func CheckKeepDir(dir string) error {
	parent := filepath.Dir(dir)
	if st, err := os.Stat(parent); err != nil || !st.IsDir() {
		return fmt.Errorf("--keep-fs %s: the directory %s is not there", dir, parent)
	}
	ents, err := os.ReadDir(dir)
	if err == nil && len(ents) > 0 {
		return fmt.Errorf("--keep-fs %s: not empty (hermes writes only into a new or empty directory)", dir)
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("--keep-fs %s: %w", dir, err)
	}
	return nil
}

// Keep copies into dir what the replayed run created or changed in the
// view, each at its absolute path below dir, and lists what it deleted in
// dir/.hermes-deleted. Restored pre-images it did not touch are not part
// of it. It returns how many files it kept and how many deletions.
func (v *View) Keep(dir string) (kept, deleted int, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, 0, fmt.Errorf("--keep-fs: %w", err)
	}
	now := v.snapshot()
	var gone []string
	for path, was := range v.snap {
		if _, ok := now[path]; !ok && !isWhiteout(was.mode) {
			gone = append(gone, path)
		}
	}
	for _, l := range v.layers {
		werr := filepath.WalkDir(l.Upper, func(path string, d os.DirEntry, err error) error {
			if err != nil || path == l.Upper {
				return nil
			}
			real := filepath.Join(l.Lower, strings.TrimPrefix(path, l.Upper))
			cur := now[real]
			if was, ok := v.snap[real]; ok && was == cur {
				return nil // as restored
			}
			if isWhiteout(cur.mode) {
				gone = append(gone, real)
				return nil
			}
			dst := filepath.Join(dir, real)
			switch cur.mode & unix.S_IFMT {
			case unix.S_IFDIR:
				var st unix.Stat_t
				if unix.Lstat(real, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
					return nil // a directory that was there: only what is in it counts
				}
				return os.MkdirAll(dst, 0o755)
			case unix.S_IFREG:
				kept++
				return copyFile(path, dst, cur.mode&0o777)
			case unix.S_IFLNK:
				link, err := os.Readlink(path)
				if err != nil {
					return err
				}
				kept++
				if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
					return err
				}
				return os.Symlink(link, dst)
			}
			return nil
		})
		if werr != nil {
			return kept, len(gone), fmt.Errorf("--keep-fs: %w", werr)
		}
	}
	if len(gone) > 0 {
		sort.Strings(gone)
		if err := os.WriteFile(filepath.Join(dir, DeletedManifest), []byte(strings.Join(gone, "\n")+"\n"), 0o644); err != nil {
			return kept, len(gone), fmt.Errorf("--keep-fs: %w", err)
		}
	}
	return kept, len(gone), nil
}

func isWhiteout(mode uint32) bool { return mode&unix.S_IFMT == unix.S_IFCHR }

func copyFile(src, dst string, mode uint32) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, os.FileMode(mode))
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
