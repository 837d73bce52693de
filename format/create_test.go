package format

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// fileState is what must not change about a file the writer has no
// business with: its type and mode, inode, owner and bytes (or link
// target).
type fileState struct {
	mode  fs.FileMode
	ino   uint64
	uid   uint32
	bytes string
}

func stateOf(t *testing.T, path string) fileState {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	s := fileState{mode: fi.Mode(), ino: st.Ino, uid: st.Uid}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		s.bytes, err = os.Readlink(path)
	case fi.Mode().IsRegular():
		var b []byte
		b, err = os.ReadFile(path)
		s.bytes = string(b)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sameState(t *testing.T, what, path string, before fileState) {
	t.Helper()
	if after := stateOf(t, path); after != before {
		t.Errorf("%s %s changed: %+v, was %+v", what, path, after, before)
	}
}

// createAndClose writes a small trace at path.
func createAndClose(path string) error {
	w, err := Create(path, testHeader(), WriterOptions{})
	if err != nil {
		return err
	}
	for _, ev := range genEvents(20, 1) {
		if err := w.Append(ev); err != nil {
			w.Close()
			return err
		}
	}
	return w.Close()
}

func TestCreateMode0600(t *testing.T) {
	old := unix.Umask(0o022)
	defer unix.Umask(old)
	dir := t.TempDir()
	fresh := filepath.Join(dir, "new.trace")
	if err := createAndClose(fresh); err != nil {
		t.Fatal(err)
	}
	over := filepath.Join(dir, "old.trace")
	if err := os.WriteFile(over, []byte("old contents"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := createAndClose(over); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fresh, over} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", p, fi.Mode().Perm())
		}
		if _, _, complete, err := ReadFile(p); err != nil || !complete {
			t.Errorf("%s: complete %v, %v", p, complete, err)
		}
	}
	// The partial file is 0600 while it is written, too.
	w, err := Create(filepath.Join(dir, "open.trace"), testHeader(), WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "open.trace.partial"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("partial file: %v, %v", fi.Mode(), err)
	}
	w.Close()
}

// TestCreatePlantedPartial plants a symbolic link (and, as root, another
// user's file) at NAME.partial: Create refuses, and neither the link, nor
// the file it points to, nor the planted file changes.
func TestCreatePlantedPartial(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "x.trace")
	if err := os.Symlink(victim, path+".partial"); err != nil {
		t.Fatal(err)
	}
	vs, ls := stateOf(t, victim), stateOf(t, path+".partial")
	err := createAndClose(path)
	if err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("Create over a planted symlink: %v", err)
	}
	sameState(t, "victim", victim, vs)
	sameState(t, "planted link", path+".partial", ls)
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s created: %v", path, err)
	}

	// A dangling link: O_CREAT must not create its target.
	os.Remove(path + ".partial")
	target := filepath.Join(dir, "created-through-link")
	os.Symlink(target, path+".partial")
	if err := createAndClose(path); err == nil {
		t.Error("Create over a dangling planted symlink succeeded")
	}
	if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the link's target was created: %v", err)
	}

	if os.Geteuid() == 0 {
		os.Remove(path + ".partial")
		if err := os.WriteFile(path+".partial", []byte("someone else's\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(path+".partial", 65534, 65534); err != nil {
			t.Fatal(err)
		}
		ps := stateOf(t, path+".partial")
		if err := createAndClose(path); err == nil || !strings.Contains(err.Error(), "another user") {
			t.Fatalf("Create over another user's partial file: %v", err)
		}
		sameState(t, "other user's partial", path+".partial", ps)
	}
}

// TestCreateLeftoverPartial: a partial file of ours (a killed writer's) is
// replaced, not truncated: a file hard-linked to it keeps its bytes.
func TestCreateLeftoverPartial(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.trace")
	keep := filepath.Join(dir, "keep")
	if err := os.WriteFile(keep, []byte("keep me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(keep, path+".partial"); err != nil {
		t.Fatal(err)
	}
	ks := stateOf(t, keep)
	if err := createAndClose(path); err != nil {
		t.Fatal(err)
	}
	sameState(t, "hard link", keep, ks)
	if _, _, complete, err := ReadFile(path); err != nil || !complete {
		t.Errorf("trace: complete %v, %v", complete, err)
	}
}

// TestCreateRefusesNonRegular: a symbolic link, a FIFO, a device or
// another user's file at NAME is refused, and stays as it was.
func TestCreateRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious\n"), 0o644)
	link := filepath.Join(dir, "link.trace")
	os.Symlink(victim, link)
	nullLink := filepath.Join(dir, "null.trace")
	os.Symlink("/dev/null", nullLink)
	fifo := filepath.Join(dir, "fifo.trace")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{link: "symbolic link", nullLink: "symbolic link", fifo: "FIFO"}
	if os.Geteuid() == 0 {
		dev := filepath.Join(dir, "dev.trace")
		if err := unix.Mknod(dev, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
			t.Fatal(err)
		}
		cases[dev] = "character device"
		other := filepath.Join(dir, "other.trace")
		os.WriteFile(other, []byte("theirs\n"), 0o644)
		os.Chown(other, 65534, 65534)
		cases[other] = "another user"
	}
	for path, msg := range cases {
		before := stateOf(t, path)
		vs := stateOf(t, victim)
		err := createAndClose(path)
		if err == nil || !strings.Contains(err.Error(), msg) || !strings.Contains(err.Error(), path) {
			t.Errorf("Create(%s): %v; want an error with %q", path, err, msg)
		}
		if msg != "another user" && !errors.Is(err, ErrNotRegular) {
			t.Errorf("Create(%s): %v is not ErrNotRegular", path, err)
		}
		sameState(t, "output", path, before)
		sameState(t, "victim", victim, vs)
		if _, err := os.Lstat(path + ".partial"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s.partial created: %v", path, err)
		}
	}
}

// TestCloseRechecksTarget: NAME replaced by a symbolic link while the
// trace is written is not renamed over; the trace stays in NAME.partial.
func TestCloseRechecksTarget(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious\n"), 0o644)
	path := filepath.Join(dir, "x.trace")
	w, err := Create(path, testHeader(), WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	ls, vs := stateOf(t, path), stateOf(t, victim)
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "symbolic link") || !strings.Contains(err.Error(), path+".partial") {
		t.Fatalf("Close: %v", err)
	}
	sameState(t, "link", path, ls)
	sameState(t, "victim", victim, vs)
	if _, _, complete, err := ReadFile(path + ".partial"); err != nil || !complete {
		t.Errorf("partial: complete %v, %v", complete, err)
	}
}

// TestNewWriterStream writes a trace through a pipe-like stream: the bytes
// are a complete trace, index and all.
func TestNewWriterStream(t *testing.T) {
	evs := genEvents(3000, 7)
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testHeader(), WriterOptions{ChunkSize: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if err := w.Append(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Path() != "" {
		t.Errorf("Path() = %q for a stream", w.Path())
	}
	r, err := NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, r)
	checkPrefix(t, got, evs)
	if n, reason, complete := r.Recovered(); len(got) != len(evs) || !complete || len(r.Chunks()) < 2 {
		t.Errorf("read %d of %d events, %d chunks, complete %v (%d, %s)", len(got), len(evs), len(r.Chunks()), complete, n, reason)
	}
}

// TestNewWriterBrokenPipe: a stream whose reader went away fails Append
// or Close with EPIPE, wrapped.
func TestNewWriterBrokenPipe(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	go func() {
		b := make([]byte, 100)
		pr.Read(b)
		pr.Close()
	}()
	w, err := NewWriter(pw, testHeader(), WriterOptions{ChunkSize: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	var aerr error
	for _, ev := range genEvents(5000, 3) {
		if aerr = w.Append(ev); aerr != nil {
			break
		}
	}
	cerr := w.Close()
	if aerr == nil {
		aerr = cerr
	}
	if !errors.Is(aerr, syscall.EPIPE) || !strings.Contains(aerr.Error(), "write trace stream") {
		t.Fatalf("writing into a broken pipe: %v (Close: %v)", aerr, cerr)
	}
}
