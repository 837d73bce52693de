package inject

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// readScript reads a script file. Only regular files are read: a FIFO or a
// device given as the script path would otherwise block hermes or be read
// forever. The file is stat'ed before it is opened (opening a FIFO blocks
// until a writer comes, and opening a device can have effects), then
// opened without blocking and checked again, in case it was replaced
// in between. Files over maxScript bytes are refused.
func readScript(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := checkScriptFile(path, fi); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, fmt.Errorf("script %s: %w", path, err)
	}
	if err := checkScriptFile(path, fi); err != nil {
		return nil, err
	}
	src, err := io.ReadAll(io.LimitReader(f, maxScript+1))
	if err != nil {
		return nil, fmt.Errorf("read script %s: %w", path, err)
	}
	if len(src) > maxScript {
		return nil, &LoadError{Pos: path, Msg: fmt.Sprintf("the script is over %d bytes", maxScript)}
	}
	return src, nil
}

func checkScriptFile(path string, fi fs.FileInfo) error {
	m := fi.Mode()
	if m.IsRegular() {
		if fi.Size() > maxScript {
			return &LoadError{Pos: path, Msg: fmt.Sprintf("the script is %d bytes; the limit is %d", fi.Size(), maxScript)}
		}
		return nil
	}
	kind := "not a file"
	switch {
	case m.IsDir():
		kind = "a directory"
	case m&fs.ModeNamedPipe != 0:
		kind = "a named pipe"
	case m&fs.ModeCharDevice != 0:
		kind = "a character device"
	case m&fs.ModeDevice != 0:
		kind = "a block device"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	}
	return &LoadError{Pos: path, Msg: "not a regular file (" + kind + "); a script must be one"}
}
