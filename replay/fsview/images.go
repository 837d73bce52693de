package fsview

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/format/tracepb"
)

// maxImages bounds the pre-images one view takes from a trace, and
// maxImageSize the size of one file's contents (a trace comes from others:
// its numbers are not trusted).
const (
	maxImages    = 1 << 20
	maxImageSize = 1 << 40
)

// Images are the pre-images of a trace: the first one of each path, and
// the contents they name, gathered into files named by digest.
type Images struct {
	byPath map[string]*tracepb.FileImage
	blobs  string // directory of contents, one file per SHA-256 (hex)
	bad    []string
}

// Collect reads every pre-image from the events of r (the first of each
// path wins: it is what the path was before the recording first changed
// it) and writes their contents into dir.
func Collect(r *format.Reader, dir string) (*Images, error) {
	im := &Images{byPath: make(map[string]*tracepb.FileImage), blobs: dir}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// A damaged or partial trace: what it had is what there is.
			break
		}
		imgs := ev.GetSyscall().GetPreimages()
		if p := ev.GetProcess(); p != nil {
			imgs = p.Preimages
		}
		for _, img := range imgs {
			if err := im.add(img); err != nil {
				return nil, err
			}
		}
	}
	return im, nil
}

// Len returns how many paths have a pre-image.
func (im *Images) Len() int { return len(im.byPath) }

// Bytes returns the size of the contents gathered.
func (im *Images) Bytes() int64 {
	var n int64
	ents, _ := os.ReadDir(im.blobs)
	for _, e := range ents {
		if info, err := e.Info(); err == nil {
			n += info.Size()
		}
	}
	return n
}

func (im *Images) add(img *tracepb.FileImage) error {
	if !validPath(img.Path) {
		im.bad = append(im.bad, fmt.Sprintf("%q: not a clean absolute path", img.Path))
		return nil
	}
	if len(img.Data) > 0 {
		if err := im.part(img); err != nil {
			return err
		}
	}
	if img.Offset > 0 {
		return nil // a part of contents named by an earlier image
	}
	if _, ok := im.byPath[img.Path]; ok {
		return nil
	}
	if len(im.byPath) >= maxImages {
		return fmt.Errorf("the trace has more than %d pre-images", maxImages)
	}
	meta := &tracepb.FileImage{}
	*meta = tracepb.FileImage{Path: img.Path, Exists: img.Exists, Mode: img.Mode, Uid: img.Uid, Gid: img.Gid,
		Size: img.Size, AtimeNs: img.AtimeNs, MtimeNs: img.MtimeNs, Link: img.Link, Sha256: img.Sha256,
		OverLimit: img.OverLimit}
	im.byPath[img.Path] = meta
	return nil
}

// part writes one piece of contents into its digest's file.
func (im *Images) part(img *tracepb.FileImage) error {
	if len(img.Sha256) != sha256.Size || img.Offset < 0 || img.Size < 0 || img.Size > maxImageSize ||
		img.Offset+int64(len(img.Data)) > img.Size {
		im.bad = append(im.bad, fmt.Sprintf("%s: contents out of bounds", img.Path))
		return nil
	}
	f, err := os.OpenFile(filepath.Join(im.blobs, hex.EncodeToString(img.Sha256)), os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("staging pre-image contents: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteAt(img.Data, img.Offset); err != nil {
		return fmt.Errorf("staging pre-image contents: %w", err)
	}
	return nil
}

// blob returns the staged contents of a digest if they are whole and
// match it.
func (im *Images) blob(sum []byte, size int64) (string, bool) {
	if len(sum) != sha256.Size {
		return "", false
	}
	path := filepath.Join(im.blobs, hex.EncodeToString(sum))
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil || n != size || string(h.Sum(nil)) != string(sum) {
		return "", false
	}
	return path, true
}

// sorted returns the pre-images in path order (parents first).
func (im *Images) sorted() []*tracepb.FileImage {
	out := make([]*tracepb.FileImage, 0, len(im.byPath))
	for _, img := range im.byPath {
		out = append(out, img)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// absentAncestor reports whether a directory above path did not exist
// before the recording (then neither did path, whatever a later image of
// it says).
func (im *Images) absentAncestor(path string) bool {
	for d := filepath.Dir(path); d != "/" && d != "."; d = filepath.Dir(d) {
		if img, ok := im.byPath[d]; ok && !img.Exists {
			return true
		}
	}
	return false
}

// validPath reports whether a path from a trace is absolute, clean and
// outside /proc, /sys and /dev.
func validPath(p string) bool {
	return strings.HasPrefix(p, "/") && filepath.Clean(p) == p && p != "/" && !strings.ContainsRune(p, 0) &&
		!under(p, "/proc") && !under(p, "/sys") && !under(p, "/dev")
}
