// Package inject is hermes's scripting layer: sandboxed Lua (gopher-lua)
// that sees trapped syscalls and tampers with them, plus strace's
// -e inject= / -e fault= rules compiled to the same actions.
//
// # Use from Go
//
//	e, err := inject.Load("faults.lua", inject.Options{Seed: seed, Log: os.Stderr, Reload: true})
//	if err != nil { ... }                       // *LoadError "file:line: message": exit 125
//	tr := tracer.New(tracer.Config{Trace: e.Trapped(), Handlers: []tracer.Handler{e}})
//	res, err := tr.Launch(argv)
//	e.Finish(res)                               // on_exit(summary), then Close
//
// Load also takes "builtin:NAME" for the scripts of package policies;
// LoadSource takes source bytes; NewRules (or Engine.AddRules) takes parsed
// ParseStrace rules. Check validates a script without running anything
// and returns its warnings (Engine.Warnings). Engine.Reload recompiles the
// file (call it on SIGHUP). Engine.Declared lists the parameters the script
// declared with hermes.param, so that a caller can refuse one no script
// takes. Options.Failed hears of every failing callback (hermes's --strict).
// Finish prints, when callbacks failed, how many.
//
// # Hooks
//
// A script defines any of these global functions:
//
//	on_syscall(ev)     at a trapped call's entry
//	on_return(ev)      at its exit; defining it asks for exit stops (two
//	                   ptrace stops per trapped call instead of one)
//	on_process(ev)     fork, thread, exec, signal, exit, stop events: a
//	                   fresh table {kind, pid, tid, lineage, exe,
//	                   child_pid, child_tid, child_lineage, signal,
//	                   signame, status, core, old_tid}
//	on_exit(summary)   once at the end: {exit_code, signal, core,
//	                   interrupted, calls, injected, errors, reloads, seed}
//
// Returning nothing (or anything) continues the call; actions are made by
// calling the functions below, and several compose (modify_arg + delay).
// The script's top level runs once at load; hermes.trap must be called
// there. A global function named like a hook that is not one (on_syscal,
// onReturn, on_Exit: the same letters but for case and underscores, or
// two edits away) is never called: loading the script warns about it
// ("file:line: warning: ..." on Options.Log, and in Warnings).
//
// # Actions
//
//	hermes.deny(errno)        fail the call: skip it at entry, or replace its
//	                          result at exit. errno: a number, a name
//	                          ("EACCES", case-insensitive) or hermes.EACCES.
//	                          A call the kernel never fails with an error
//	                          fails its way instead: brk at entry runs as
//	                          brk(0), the break unchanged
//	hermes.ret(value)         skip the call (entry) or replace its result
//	                          (exit) with value (number, u64)
//	hermes.modify_arg(i, v)   entry only. i is 1..6 like ev.args. v an
//	                          integer number (negative: two's complement),
//	                          a u64 (the exact 64 bits), or a string, which
//	                          is written into a mapping hermes makes in the
//	                          tracee and the argument pointed at it. The
//	                          program gets its own registers back when the
//	                          call returns
//	hermes.delay(ms)          hold the calling thread ms milliseconds
//	                          (fractions allowed) before the call (entry)
//	                          or before it returns (exit)
//	hermes.signal(sig)        send sig (number or "SIGUSR1"/"USR1") to the
//	                          calling thread
//	hermes.kill()             SIGKILL the calling process
//
// Actions are allowed only in on_syscall and on_return; the tracer records
// the script's name in Action.By. If a callback fails, none of its actions
// apply and Options.OnError does (continue, deny = EPERM, kill).
//
// # The event
//
// ev is one reused userdata whose fields are read from the current syscall
// when accessed (nothing is decoded unless asked for). It is only valid
// during the callback (afterwards every field is nil):
//
//	seq, pid, tid, nr, nth     numbers; nth counts this syscall in this
//	                           process, from 1
//	name, arch                 "openat", "x86_64" (i386/x32 calls have
//	                           their own names and arch)
//	lineage, plineage          thread lineage "1.2/t3", process lineage "1.2"
//	comm                       /proc/PID/comm (cached until exec)
//	args                       args[1]..args[6] (see below); #ev.args
//	path, path2                first and second path argument, read from
//	                           the tracee (nil if the call has none)
//	fd, fdpath                 first fd argument (else a dirfd, -100 for
//	                           AT_FDCWD) and what it refers to
//	                           ("/tmp/x", "socket:[123]", "pipe:[4]")
//	outfd, outpath             the descriptor the call writes file data to,
//	                           and what it refers to: write's fd,
//	                           copy_file_range's and splice's third argument,
//	                           sendfile's first, fallocate's, an ftruncate's
//	                           that grows the file, an ioctl's for FICLONE
//	                           and FICLONERANGE (the syscall table's
//	                           FSEffect.Data, so a call added to the table
//	                           is covered); nil when the call writes none
//	iofd, iopath               the descriptor the call moves data through:
//	                           outfd for a call that can write file data
//	                           (nil when this one writes none), else fd
//	stdio                      true when iofd is one of the standard
//	                           descriptors (0, 1, 2) the run's first process
//	                           started with, or the same file (policies leave
//	                           them alone by default)
//	exe                        the process's executable (its last execve)
//	flags                      first flags argument (O_*, MAP_*, ...)
//	count, count_arg           the size argument of a buffer call (or the
//	                           byte count of copy_file_range, sendfile,
//	                           splice) and its index (for modify_arg)
//	family, port, ip           decoded sockaddr argument (connect, bind,
//	                           sendto): "inet"/"inet6"/"unix", port number,
//	                           address string (a unix socket's path)
//	exit, skipped              in on_return; skipped if a handler skipped it
//	ret, errno                 at exit: the result, and the errno name
//	                           ("ENOENT") or nil
//	ev:string(i)               the C string argument i points to
//	ev:read(i, n)              n bytes (max 64 KiB) at the pointer in arg i
//
// # 64-bit values
//
// Lua numbers are float64, exact only below 2^53. Each argument's
// representation is decided by its kind in the abi table:
//
//   - int, fd, dirfd and signal arguments are signed, sign-extended from
//     their C width: AT_FDCWD is -100, a 32-bit -1 is -1. A 64-bit value of
//     magnitude 2^53 or more comes as a u64 of its two's-complement bits.
//   - unsigned, size, flags, mode and command arguments are numbers below
//     2^53 (O_* masks, counts), u64 above.
//   - pointers (paths, buffers, structs, addresses) are always u64.
//   - ev.ret follows the same rule (signed; mmap-like results are u64).
//
// A u64 is a userdata holding the exact bits: tostring gives hex
// ("0x7ffd12345678abcd"); ==, <, <= compare two u64s (unsigned), + - *
// wrap around (a number operand is converted exactly); .. concatenates its
// hex; u:hex(), u:tonumber() (may round), u:signed() (a number when exact).
// Lua cannot compare a u64 with a number by == or <: use
// hermes.u64(x) == u, or hermes.cmp(a, b) (-1/0/1, mixed operands, as
// unsigned 64-bit). hermes.u64(x) accepts a number, a u64 or a string
// ("0x7ffd12345678abcd", "18446744073709551615", "-100").
// hermes.band/bor/bxor(a, b, ...), bnot(a), lshift(a, n), rshift(a, n)
// return a u64 if any operand was one, else a number. modify_arg and ret
// write exactly the bits of a u64.
//
// # Helpers
//
//	hermes.ENOSPC ... hermes.SIGUSR1 ...   every errno and signal name
//	hermes.errno("ENOENT"), hermes.errname(2)
//	hermes.rand()             float in [0,1); rand(n): 1..n; rand(m, n): m..n.
//	                          From a PCG generator seeded with Options.Seed
//	                          (--seed); math.random is the same generator
//	                          and math.randomseed does nothing, so a run is
//	                          repeatable. The sequence continues across
//	                          hot reloads.
//	hermes.log(...), print    "hermes: [lineage] name: msg" on Options.Log
//	                          ("hermes: SCRIPT: msg" outside a syscall)
//	hermes.trap{...}          syscalls the script acts on: names, numbers,
//	                          strace classes ("%file", "%net"), /regex, and
//	                          "@write": every call that can write file data
//	                          (those with an ev.outfd, ioctl included).
//	                          Unknown names fail the load. Without it every
//	                          syscall is trapped.
//	params, hermes.param(k, default)
//	                          --param k=v values (strings); param converts
//	                          to the type of default (number, boolean).
//	                          Called at the top level it declares k
//	                          (Declared): hermes refuses a --param that no
//	                          loaded script declares
//	hermes.split(s)           the fields of a comma/space-separated list
//	hermes.path_filter(prefix, exclude)
//	                          a function(path) true under prefix and not
//	                          under the comma-separated exclude prefixes
//	                          (nil paths are false): keeps the loader,
//	                          /proc and devices out of a fault's way
//	hermes.program_filter(comm, exe)
//	                          a function(ev) true for the processes whose
//	                          ev.comm matches one of the comma-separated
//	                          globs in comm, or whose ev.exe matches one of
//	                          those in exe (with a /: the whole path;
//	                          without: its base name); true for all when
//	                          both are empty (exe="*.test": a go test
//	                          binary, not its toolchain)
//	hermes.state              a table that survives hot reload (see below)
//	hermes.script, hermes.seed, hermes.NULL (u64 zero)
//
// # Sandbox
//
// Only the base, table, string and math libraries are opened, without
// dofile, loadfile, load, loadstring, require, module, collectgarbage,
// getfenv, setfenv, newproxy, _printregs and string.dump; os, io, debug,
// package and coroutine do not exist. print goes to hermes.log (a message
// is cut at 4 KiB). string.format refuses widths and precisions over two
// digits (as Lua 5.1 does). The call stack is limited to 200 frames
// ("stack overflow"). Each callback runs under a deadline (Options.Timeout,
// 100ms by default; the top level at least 1s) checked before every Lua
// instruction and inside the library's long loops (pattern matching, gsub,
// table.sort): an endless loop or a backtracking pattern fails with
// "timeout". A failing callback is reported as "hermes: file:line: message
// (in on_syscall, [lineage] name #nth; on-error=...)" (the first 20; later
// ones are counted in Stats) and Options.OnError applies.
//
// Every single operation is bounded, so every callback ends within its
// deadline plus about 10ms (the watchdog's period), and SIGINT or SIGTERM
// end hermes within a second however busy the script is. hermes runs a
// patched gopher-lua (internal/lua, whose NOTES.md lists the changes)
// for the limits gopher-lua has no hook for:
//
//   - a string built by .., string.rep, string.format, string.gsub or
//     table.concat is at most 1 MiB ("string of N bytes exceeds the limit");
//   - an integer key past the end of a table's array part goes to its hash
//     part (t[67108863] = true is one entry, not 1 GiB of nils);
//   - string.byte and unpack fail at once when their results would not fit
//     on the 131072-slot value stack ("too many results to unpack");
//   - the pattern matcher keeps its backtracking on the heap and checks the
//     deadline, and patterns have at most 32 captures;
//   - a script is at most 1 MiB, nests blocks, brackets and unary operators
//     at most 200 levels deep ("chunk has too many syntax levels", as in
//     Lua 5.1; gopher-lua's compiler recursed once per level), and must be
//     a regular file (a FIFO or a device is refused with "not a regular
//     file"), so loading or checking any script takes a few seconds at
//     most.
//
// Memory cap: hermes's memory (peak RSS) stays under 512 MiB whatever a
// script does. The deadline's watchdog also looks at hermes's Go heap every
// 10ms, and while the heap is over 192 MiB live or 320 MiB in use (after a
// forced collection, when only garbage may be in the way) a running
// callback is stopped with "memory limit", and every callback fails as soon
// as it starts; since one operation allocates at most a few MiB, the
// heap cannot overshoot by much between two looks. A script that keeps
// that much in its tables thus fails every later callback. (The cap
// assumes the Go runtime's default GOGC; the limits count hermes's own heap
// too, which a trace does not grow much.) The tests measure a peak RSS of
// about 350 MiB for the worst script they try.
//
// Limits: the deadline is wall-clock time, so a heavily loaded machine can
// stop a slow but finite callback. Decisions that read tracee memory
// (paths) are made while the thread is stopped, but another thread of the
// target can change that memory before the kernel reads it: hermes is a
// testing tool, not a security boundary.
//
// # Hot reload
//
// With Options.Reload the script file is polled every 200ms (mtime, size,
// inode; no inotify dependency, and renames by editors are seen). A
// changed file is compiled in a fresh LState on the watcher goroutine; if
// it fails, "hermes: reload failed: file:line: message; keeping the running
// version" is logged. A good version is handed over through an atomic
// pointer and swapped in by the tracer goroutine before its next event.
// Engine.Reload does the same synchronously (SIGHUP).
//
// State across a reload: locals and globals of the old version are gone;
// hermes.state is carried over. At the swap every key of the old
// hermes.state is copied into the new one, overwriting what the new top
// level set: numbers, strings, booleans, u64s and tables of those;
// functions, other userdata and metatables are dropped. Each table is
// copied once, so a table reached twice is still one table and cycles are
// kept; the copy is linear in the size of the state, and stops after
// 1,048,576 values (reported). So
// `hermes.state.n = hermes.state.n or 0` at the top level keeps counting.
// The seccomp filter cannot change: a new version's hermes.trap can only
// narrow the set trapped at start (calls outside it are never seen).
//
// # strace rules
//
// ParseStrace accepts strace's inject=SET:error=E|retval=N[:signal=S]
// [:delay_enter=T][:delay_exit=T][:when=EXPR] and fault=SET[:error=E]
// [:when=EXPR]. As in strace, invocations are counted per syscall and per
// thread ("per tracee"), and a later rule naming a syscall replaces an
// earlier one for it. Rules run before the script at each entry, so a
// script can override them.
//
// Two keys are hermes's own. lineage=L restricts a rule to the thread of
// lineage L ("1", "1.2", "1.2/t3"; inject= and fault=), whose calls alone
// when= counts. short=N (inject= only, not with error= or retval=) runs
// the call with its byte count (CountArg: read, write, pread64, pwrite64,
// sendto, recvfrom, getdents64, getrandom) lowered to N, a short transfer;
// a set with a call that has no plain byte count, such as the vectored
// readv or sendmsg, is refused. For example
// inject=write:short=3:when=1:lineage=1.1 makes the first write of the
// first child process transfer at most 3 bytes.
package inject
