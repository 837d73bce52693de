package fsview

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/tracer"
	"golang.org/x/sys/unix"
)

// ErrUnavailable is wrapped by New's error when this machine cannot make a
// private view (no privilege, unprivileged user namespaces off, no
// overlayfs); replay then runs on the live file system.
var ErrUnavailable = errors.New("no private view of the file system can be made here")

// Options configure a View.
type Options struct {
	// Images are the pre-images to restore (nil: none).
	Images *Images
	// Hide lists real paths the view leaves out (the trace hermes wrote
	// beside the recorded program).
	Hide []string
	// Dir is where the view keeps its layers (a new directory in
	// os.TempDir() if empty); it is hidden from the view.
	Dir string
}

// View is a private view of the file system, held by a process whose
// namespaces the replayed program joins (Setup).
type View struct {
	dir      string
	holder   int
	pidfd    int
	nsfds    []nsFD
	layers   []Layer
	snap     map[string]entry
	root     bool
	problems []string
	notes    []string
	restored int
}

type nsFD struct {
	fd     int
	nstype uintptr
}

// New builds a view. The caller must Close it.
func New(opts Options) (v *View, err error) {
	dir := opts.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "hermes-view-"); err != nil {
			return nil, fmt.Errorf("view: %w", err)
		}
	}
	view := &View{dir: dir, holder: -1, pidfd: -1, root: os.Geteuid() == 0}
	defer func() {
		if err != nil {
			view.Close() // v itself is nil by then
		}
	}()
	v = view
	mounts, err := readMounts()
	if err != nil {
		return nil, fmt.Errorf("view: reading the mount table: %w", err)
	}
	p, err := buildPlan(dir, mounts, v.root, os.Getuid(), os.Getgid())
	if err != nil {
		return nil, fmt.Errorf("view: %w", err)
	}
	v.layers, v.notes = p.layers, p.notes
	images := opts.Images
	if images == nil {
		images = &Images{byPath: map[string]*tracepb.FileImage{}}
	}
	rs := &restorer{layers: v.layers, images: images, root: v.root}
	hide := append([]string{dir}, opts.Hide...)
	rs.restoreAll(hide)
	v.problems, v.restored = rs.problems, rs.restored
	v.snap = v.snapshot()

	pid, err := tracer.Spawn(&tracer.SpawnSpec{Steps: p.steps})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	v.holder = pid
	if v.pidfd, err = unix.PidfdOpen(pid, 0); err != nil {
		return nil, fmt.Errorf("view: pidfd_open: %w", err)
	}
	type kind struct {
		name   string
		nstype uintptr
	}
	kinds := []kind{{"ipc", unix.CLONE_NEWIPC}, {"mnt", unix.CLONE_NEWNS}}
	if !v.root {
		// The user namespace first: it gives the rights to join the others.
		kinds = append([]kind{{"user", unix.CLONE_NEWUSER}}, kinds...)
	}
	for _, k := range kinds {
		fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/ns/"+k.name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("view: opening its %s namespace: %w", k.name, err)
		}
		v.nsfds = append(v.nsfds, nsFD{fd, k.nstype})
	}
	return v, nil
}

// Setup returns the steps that move a new process into the view (for
// tracer.Config.Setup and SpawnSpec.Steps). The view must outlive the
// launch.
func (v *View) Setup() []tracer.Step {
	var out []tracer.Step
	for _, ns := range v.nsfds {
		out = append(out, tracer.Step{Nr: unix.SYS_SETNS, Args: [6]uintptr{uintptr(ns.fd), ns.nstype}, Name: "join the replay's private view (setns)"})
	}
	return out
}

// Problems returns what could not be restored, one line each.
func (v *View) Problems() []string { return v.problems }

// Notes returns the view's limits on this machine, one line each.
func (v *View) Notes() []string { return v.notes }

// Restored returns how many paths were restored from pre-images.
func (v *View) Restored() int { return v.restored }

// Privileged reports whether the view was made as root (not in a user
// namespace).
func (v *View) Privileged() bool { return v.root }

// Limits says what this view cannot do that the real file system can, or
// "" where it can do everything.
func (v *View) Limits() string {
	if v.root {
		return ""
	}
	return "the replay's view of the files is made as an ordinary user: renaming a directory that existed before, or between top-level directories, fails with EXDEV there; replay as root to avoid it"
}

// Run runs argv in the view with the given environment and working
// directory, untraced, and returns its exit status (128+N if signal N
// killed it).
func (v *View) Run(argv, env []string, dir string, stdout, stderr *os.File) (int, error) {
	pid, err := tracer.Spawn(&tracer.SpawnSpec{Steps: v.Setup(), Path: argv[0], Argv: argv, Env: env, Dir: dir,
		Stdin: devNull(), Stdout: stdout, Stderr: stderr})
	if err != nil {
		return 0, err
	}
	var ws unix.WaitStatus
	for {
		_, err = unix.Wait4(pid, &ws, 0, nil)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		return 0, err
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ws.ExitStatus(), nil
}

func devNull() *os.File {
	f, err := os.Open(os.DevNull)
	if err != nil {
		return nil
	}
	return f
}

// Close ends the holder (the view goes with the last process in it) and
// removes the layers.
func (v *View) Close() error {
	if v.pidfd >= 0 {
		_ = unix.PidfdSendSignal(v.pidfd, unix.SIGKILL, nil, 0)
		unix.Close(v.pidfd)
		v.pidfd = -1
	}
	if v.holder > 0 {
		var ws unix.WaitStatus
		for {
			_, err := unix.Wait4(v.holder, &ws, 0, nil)
			if !errors.Is(err, unix.EINTR) {
				break
			}
		}
		v.holder = -1
	}
	for _, ns := range v.nsfds {
		unix.Close(ns.fd)
	}
	v.nsfds = nil
	if v.dir == "" {
		return nil
	}
	err := removeAll(v.dir)
	v.dir = ""
	return err
}

// removeAll removes a tree, making its directories writable first (the
// overlay's work directory is made with mode 0).
func removeAll(dir string) error {
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(path, 0o700)
		} else if err != nil {
			_ = os.Chmod(path, 0o700)
		}
		return nil
	})
	return os.RemoveAll(dir)
}
