package run

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/tracer"
	"golang.org/x/sys/unix"
)

// ErrBrokenPipe is returned when the reader of the trace output (a pipe)
// went away and the run was stopped for it, as strace stops; hermes exits
// 141 (128+SIGPIPE) without a message.
var ErrBrokenPipe = errors.New("the reader of the trace output went away")

// output is where trace and record write: a regular file of the user's,
// or a stream (a pipe, a FIFO, a character device, standard output).
//
// hermes's own files never damage anything: a regular file is created
// 0600 and only ever replaces a regular file of the user's (never a link,
// a device, a FIFO or another user's file); a link to a pipe or a device
// is written through, not replaced; everything is opened write-only, so
// that hermes never holds the read end of its own output pipe.
type output struct {
	path   string
	stream *os.File // the open stream or text file; nil: record's file, made by format.Create
	live   bool     // a pipe or socket: its reader wants lines as they come
	stdout bool     // the stream is hermes's standard output

	mu     sync.Mutex
	t      *tracer.Tracer
	broken bool
}

// fdAlias returns the descriptor an output path names: "-" and
// /dev/stdout are standard output, /dev/stderr standard error, /dev/fd/N
// and /proc/self/fd/N descriptor N.
func fdAlias(path string) (int, bool) {
	switch path {
	case "-", "/dev/stdout":
		return 1, true
	case "/dev/stderr":
		return 2, true
	}
	for _, dir := range []string{"/dev/fd/", "/proc/self/fd/"} {
		if n, ok := strings.CutPrefix(path, dir); ok {
			if fd, err := strconv.Atoi(n); err == nil && fd >= 0 && strconv.Itoa(fd) == n {
				return fd, true
			}
		}
	}
	return 0, false
}

// outputName is how messages name an output path.
func outputName(path string) string {
	if path == "-" {
		return "- (standard output)"
	}
	return path
}

// openOutput opens the output of trace (text: binary false) or record
// (binary true) before the command starts, and says in one line why it
// cannot be written:
//
//   - "-", /dev/stdout, /dev/stderr, /dev/fd/N: that descriptor of hermes,
//     written through as a stream (standard output is "-");
//   - an absent path, or a regular file of the effective user: a regular
//     file, mode 0600 (record writes NAME.partial and renames it at the end,
//     trace truncates the file in place);
//   - a FIFO, a character device, or a symbolic link to one: written
//     through as a stream, write-only, never created, truncated or replaced;
//   - anything else is refused: a directory, a block device, a socket,
//     another user's file, a symbolic link to a regular file or to nothing.
//
// A binary trace is not written onto a terminal.
func openOutput(path string, binary bool) (*output, error) {
	if path == "" {
		return nil, errors.New("output: empty file name (- is standard output)")
	}
	name := outputName(path)
	if fd, ok := fdAlias(path); ok {
		nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 3)
		if err != nil {
			return nil, fmt.Errorf("output %s: descriptor %d: %w", name, fd, err)
		}
		o := &output{path: path, stream: os.NewFile(uintptr(nfd), path)}
		if err := o.checkStream(binary); err != nil {
			o.stream.Close()
			return nil, fmt.Errorf("output %s: %w", name, err)
		}
		o.stdout = o.stdout || fd == 1
		return o, nil
	}
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return newFileOutput(path, binary)
	case err != nil:
		return nil, fmt.Errorf("output: %w", err)
	case fi.Mode().IsRegular():
		return newFileOutput(path, binary)
	case fi.IsDir():
		return nil, fmt.Errorf("output %s: is a directory", path)
	}
	flags := os.O_WRONLY | unix.O_NOCTTY | unix.O_CLOEXEC
	what := fi
	if fi.Mode()&fs.ModeSymlink != 0 {
		// Followed only when it is the user's or root's: a link planted in
		// a shared directory could lead a root hermes to any device.
		if !trusted(fi) {
			return nil, fmt.Errorf("output %s: a symbolic link %s: hermes does not follow it", path, ownerOf(fi))
		}
		target, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("output %s: a symbolic link to nothing usable (%w); hermes writes through a link only to a pipe or a device", path, errors.Unwrap(err))
		}
		if !streamable(target.Mode()) {
			return nil, fmt.Errorf("output %s: a symbolic link to %s; hermes writes through a link only to a pipe or a device, and does not replace the link (give the file itself)", path, format.FileKind(target.Mode()))
		}
		what = target
	} else {
		if !streamable(fi.Mode()) {
			return nil, fmt.Errorf("output %s: is %s", path, format.FileKind(fi.Mode()))
		}
		flags |= unix.O_NOFOLLOW
	}
	// A FIFO is the user's or root's, so that the trace goes to no one
	// else (and hermes does not wait for another user's reader).
	if what.Mode()&fs.ModeNamedPipe != 0 && !trusted(what) {
		return nil, fmt.Errorf("output %s: a FIFO %s: not writing the trace into it", path, ownerOf(what))
	}
	// Never O_CREAT or O_TRUNC: what is there is written through.
	f, err := os.OpenFile(path, flags, 0)
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	o := &output{path: path, stream: f}
	err = o.checkStream(binary)
	if fi, serr := f.Stat(); err == nil && serr == nil && fi.Mode()&fs.ModeNamedPipe != 0 && !trusted(fi) {
		err = fmt.Errorf("a FIFO %s: not writing the trace into it", ownerOf(fi))
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("output %s: %w", path, err)
	}
	return o, nil
}

// trusted reports whether fi is owned by the effective user or by root.
func trusted(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && (st.Uid == 0 || int(st.Uid) == os.Geteuid())
}

// ownerOf says who owns fi, for a refusal.
func ownerOf(fi fs.FileInfo) string {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fmt.Sprintf("owned by uid %d, neither yours (%d) nor root's", st.Uid, os.Geteuid())
	}
	return "of unknown owner"
}

// streamable reports whether a file of mode m is written through as a
// stream: a FIFO or a character device.
func streamable(m fs.FileMode) bool {
	return m&fs.ModeNamedPipe != 0 || (m&fs.ModeDevice != 0 && m&fs.ModeCharDevice != 0)
}

// checkStream checks what the open stream is, and notes whether it is a
// pipe and whether it is hermes's standard output.
func (o *output) checkStream(binary bool) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(o.stream.Fd()), &st); err != nil {
		return err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return errors.New("is a directory")
	case unix.S_IFBLK:
		return errors.New("is a block device")
	case unix.S_IFIFO, unix.S_IFSOCK:
		o.live = true
	}
	if acc, err := unix.FcntlInt(o.stream.Fd(), unix.F_GETFL, 0); err == nil && acc&unix.O_ACCMODE == unix.O_RDONLY {
		return errors.New("not open for writing")
	}
	if binary && IsTerminal(o.stream) {
		return errors.New("is a terminal; a trace is binary: redirect it to a file or a pipe")
	}
	// A pipe or file that is also hermes's standard output (a device, such
	// as /dev/null, may well be both without the two meeting).
	var out unix.Stat_t
	if st.Mode&unix.S_IFMT != unix.S_IFCHR && unix.Fstat(1, &out) == nil && out.Dev == st.Dev && out.Ino == st.Ino {
		o.stdout = true
	}
	return nil
}

// newFileOutput prepares a regular-file output. Record's file is created
// by format.Create, once the header is known; what can be checked now is
// checked now, before the command starts. Trace's text file is created
// now.
func newFileOutput(path string, binary bool) (*output, error) {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("output %s: %w", path, errors.Unwrap(err))
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("output %s: %s is not a directory", path, dir)
	}
	if err := unix.Access(dir, unix.W_OK); err != nil {
		return nil, fmt.Errorf("output %s: directory not writable: %w", path, err)
	}
	if binary {
		if fi, err := os.Lstat(path); err == nil {
			if err := ownedByUs(fi); err != nil {
				return nil, fmt.Errorf("output %s: %w", path, err)
			}
		}
		return &output{path: path}, nil
	}
	f, err := CreateText(path)
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	return &output{path: path, stream: f}, nil
}

// ownedByUs refuses another user's file.
func ownedByUs(fi fs.FileInfo) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("owned by uid %d, not by uid %d: not replacing another user's file", st.Uid, os.Geteuid())
	}
	return nil
}

// CreateText creates trace's text output at path, mode 0600, or truncates
// a regular file of the effective user there (and makes it 0600). It never
// follows a symbolic link or truncates another user's file, even one that
// appears between the checks and the open.
func CreateText(path string) (*os.File, error) {
	for try := 0; ; try++ {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err == nil || !errors.Is(err, fs.ErrExist) {
			return f, err
		}
		// O_NONBLOCK: a FIFO put there meanwhile must not block the open.
		f, err = os.OpenFile(path, os.O_WRONLY|unix.O_NOFOLLOW|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if errors.Is(err, fs.ErrNotExist) && try < 3 {
			continue
		}
		if errors.Is(err, unix.ELOOP) {
			return nil, fmt.Errorf("open %s: is a symbolic link", path)
		}
		if err != nil {
			return nil, err
		}
		fi, err := f.Stat()
		if err == nil && !fi.Mode().IsRegular() {
			err = fmt.Errorf("is %s", format.FileKind(fi.Mode()))
		}
		if err == nil {
			err = ownedByUs(fi)
		}
		if err == nil {
			// Truncating a file with other names would truncate them too
			// (a hard link planted to another file of the user's).
			if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 {
				err = fmt.Errorf("has %d hard links: not truncating a file that is also elsewhere", st.Nlink)
			}
		}
		if err == nil {
			err = f.Truncate(0)
		}
		if err == nil {
			err = f.Chmod(0o600)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return f, nil
	}
}

// Write implements io.Writer for the stream: a broken pipe stops the run,
// as it ends strace's.
func (o *output) Write(b []byte) (int, error) {
	n, err := o.stream.Write(b)
	if err != nil && errors.Is(err, syscall.EPIPE) {
		o.mu.Lock()
		o.broken = true
		t := o.t
		o.mu.Unlock()
		if t != nil {
			t.Stop(int(unix.SIGPIPE))
		}
	}
	return n, err
}

// setup is runTracer's setup: it lets a broken pipe stop the tracer.
func (o *output) setup(t *tracer.Tracer) {
	if o == nil {
		return
	}
	o.mu.Lock()
	o.t = t
	broken := o.broken
	o.mu.Unlock()
	if broken {
		t.Stop(int(unix.SIGPIPE))
	}
}

// redirect sends a launched command's standard output to hermes's
// standard error when the trace goes to hermes's standard output, so the
// two never mix, and says so.
func (o *output) redirect(cfg *tracer.Config, attach bool, logf func(string, ...any)) {
	if o == nil || !o.stdout || attach {
		return
	}
	cfg.Stdout = os.Stderr
	logf("the trace goes to standard output; the command's standard output goes to standard error")
}

// create starts record's trace: a file made by format.Create, or a stream.
func (o *output) create(h *tracepb.TraceHeader, opts format.WriterOptions) (*format.Writer, error) {
	if o.stream == nil {
		w, err := format.Create(o.path, h, opts)
		if err != nil {
			return nil, fmt.Errorf("output: %w", err)
		}
		return w, nil
	}
	w, err := format.NewWriter(o, h, opts)
	if err != nil {
		return nil, fmt.Errorf("output %s: %w", outputName(o.path), err)
	}
	return w, nil
}

// result is the error Trace and Record return: ErrBrokenPipe for a run
// that ended because the output pipe broke.
func (o *output) result(err error) error {
	if o == nil {
		return err
	}
	o.mu.Lock()
	broken := o.broken
	o.mu.Unlock()
	if broken {
		return ErrBrokenPipe
	}
	return err
}

// Close closes the stream or text file.
func (o *output) Close() error {
	if o == nil || o.stream == nil {
		return nil
	}
	return o.stream.Close()
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// Output is an output file or stream opened as trace and record open
// theirs (OpenOutput), for the CLI's other writers (export).
type Output struct{ o *output }

// OpenOutput opens path for writing as record opens its trace (binary)
// or trace its text: a regular file of the user's, created 0600 without
// following links, or a stream; "-" is standard output.
func OpenOutput(path string, binary bool) (*Output, error) {
	o, err := openOutput(path, binary)
	if err != nil {
		return nil, err
	}
	return &Output{o}, nil
}

// Write implements io.Writer.
func (o *Output) Write(b []byte) (int, error) { return o.o.Write(b) }

// Stream is the open file the output writes to.
func (o *Output) Stream() *os.File { return o.o.stream }

// Result turns err into what the run ends with: ErrBrokenPipe when the
// reader of a stream went away.
func (o *Output) Result(err error) error { return o.o.result(err) }

// Close finishes the output (a regular file is put in place).
func (o *Output) Close() error { return o.o.Close() }

// OutputName is how messages name an output path.
func OutputName(path string) string { return outputName(path) }
