package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	hrun "github.com/hermes-trace/hermes/internal/run"

	"github.com/hermes-trace/hermes/format"
	"golang.org/x/sys/unix"
)

// traceInput is a trace opened by dump or stats: a file, or standard input
// ("-") spooled into a private, unlinked temporary file (a Reader reads at
// offsets; a pipe has none).
type traceInput struct {
	*format.Reader
	name  string // for messages
	size  int64
	spool *os.File
}

// openTrace opens the trace at path, or reads one from standard input for
// "-".
func openTrace(path string) (*traceInput, error) {
	if path != "-" {
		r, err := format.Open(path)
		if err != nil {
			return nil, err
		}
		in := &traceInput{Reader: r, name: path}
		if fi, err := os.Stat(path); err == nil {
			in.size = fi.Size()
		}
		return in, nil
	}
	const name = "standard input"
	if isTerminal(os.Stdin) {
		return nil, errors.New("standard input is a terminal: pipe a trace into hermes or give a FILE")
	}
	var src io.ReaderAt = os.Stdin
	var spool *os.File
	fi, err := os.Stdin.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	size := fi.Size()
	if off, err := os.Stdin.Seek(0, io.SeekCurrent); !fi.Mode().IsRegular() || err != nil || off != 0 {
		spool, err = tempFile()
		if err != nil {
			return nil, fmt.Errorf("%s: spool: %w", name, err)
		}
		size, err = io.Copy(spool, os.Stdin)
		if err != nil {
			spool.Close()
			return nil, fmt.Errorf("%s: spool: %w", name, err)
		}
		src = spool
	}
	r, err := format.NewReader(src, size)
	if err != nil {
		if spool != nil {
			spool.Close()
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &traceInput{Reader: r, name: name, size: size, spool: spool}, nil
}

// tempFile returns a private (0600) temporary file without a name.
func tempFile() (*os.File, error) {
	dir := os.TempDir()
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_EXCL|unix.O_CLOEXEC, 0o600)
	if err == nil {
		return os.NewFile(uintptr(fd), filepath.Join(dir, "(hermes spool)")), nil
	}
	// No O_TMPFILE on this file system: a named file, unlinked at once.
	f, err := os.CreateTemp(dir, "hermes-spool-*")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	return f, nil
}

// Close closes the trace and its spool file.
func (in *traceInput) Close() error {
	err := in.Reader.Close()
	if in.spool != nil {
		in.spool.Close()
	}
	return err
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool { return hrun.IsTerminal(w) }
