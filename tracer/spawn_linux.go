package tracer

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// SpawnSpec describes an untraced child for Spawn.
type SpawnSpec struct {
	// Steps run first, as for Config.Setup.
	Steps []Step
	// Path is the program to exec, with Argv and Env (nil: hermes's). If
	// Path is empty the child stays after its steps, doing nothing, until
	// it is killed: a holder of namespaces it made.
	Path      string
	Argv, Env []string
	// Dir is the working directory, set after the steps.
	Dir string
	// Stdin, Stdout and Stderr; nil inherits hermes's.
	Stdin, Stdout, Stderr *os.File
}

// Spawn forks a child that makes spec's steps and then execs spec.Path (or
// stays), untraced. It returns once the child has exec'd or finished its
// steps; a failed step comes back as a *ChildError naming it.
func Spawn(spec *SpawnSpec) (pid int, err error) {
	var cs childSpec
	cs.syncFd = -1
	cs.setup = spec.Steps
	if spec.Path != "" {
		if cs.path, err = unix.BytePtrFromString(spec.Path); err != nil {
			return 0, fmt.Errorf("command path: %w", err)
		}
		if cs.argv, err = cStrings(spec.Argv); err != nil {
			return 0, err
		}
		env := spec.Env
		if env == nil {
			env = os.Environ()
		}
		if cs.envv, err = cStrings(env); err != nil {
			return 0, err
		}
	}
	if spec.Dir != "" {
		if cs.dir, err = unix.BytePtrFromString(spec.Dir); err != nil {
			return 0, err
		}
	}
	var errP [2]int
	if err := unix.Pipe2(errP[:], unix.O_CLOEXEC); err != nil {
		return 0, fmt.Errorf("pipe: %w", err)
	}
	defer unix.Close(errP[0])
	cs.errFd = errP[1]
	for i, f := range []*os.File{spec.Stdin, spec.Stdout, spec.Stderr} {
		cs.stdio[i] = -1
		if f == nil {
			continue
		}
		fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 3)
		if err != nil {
			unix.Close(errP[1])
			return 0, fmt.Errorf("standard descriptor %d: %w", i, err)
		}
		defer unix.Close(fd)
		cs.stdio[i] = fd
	}
	pid, err = forkChild(&cs)
	unix.Close(errP[1])
	runtime.KeepAlive(spec)
	if err != nil {
		return 0, err
	}
	if err := readChildError(errP[0], spec.Steps); err != nil {
		var ws unix.WaitStatus
		_, _ = unix.Wait4(pid, &ws, 0, nil)
		return 0, err
	}
	return pid, nil
}
