// Package hermes records, replays and tampers with the system calls of
// Linux programs, from Go.
//
// A run launches a command under ptrace with a seccomp-BPF filter, so that
// only the system calls it asks for stop in the tracer:
//
//   - [Trace] prints them as strace -f does;
//   - [Record] writes every traced call, signal, fork, exec and exit into a
//     trace file;
//   - [Replay] runs the command of a trace again and makes it see what it
//     saw when recorded, reporting where it diverges.
//
// Each of them can inject faults ([Injection]): a Lua script (a file, or a
// built-in policy such as "builtin:enospc"), strace-style rules
// ("inject=write:error=ENOSPC:when=3"), or a Go [tracer.Handler] that sees
// every trapped call and decides its [tracer.Action]. A seed makes the
// script's random choices repeatable.
//
// A non-zero exit status of the command is not an error: it is
// [Result.ExitCode]. Errors are hermes's own failures; a command that
// cannot be found or executed comes back as an error wrapping
// *[tracer.ExecError].
//
// Runs are safe inside any program: the tracer waits only for its own
// tracees (os/exec keeps working alongside), leaves the program's signal
// handling as it was when the last run ends, and several runs can go on at
// once in one process, in separate goroutines. Cancelling the context stops
// a run: launched tracees are killed, attached ones (TraceOptions.Pid)
// detached and left running, and a recording is still completed and
// closed.
//
// The package hermestest runs a command under a policy in a Go test, logs
// what was injected, and prints how to reproduce a failure.
//
// Tracing needs ptrace: root, CAP_SYS_PTRACE, or a kernel that lets a
// process trace its own children (Yama ptrace_scope 0 or 1).
package hermes
